// Training: the dataset and its batches, the background trainer, its events and
// metrics. It reads frames through ClipIO, labels through ActionStore, and runs
// ActionNet; the UI talks to it only through Sendable events and control flags.
import ActionNet
import ActionStore
import ClipIO
