import Foundation

extension TrainingSession {
    /// Ends the run as failed when a loss is NaN or infinite. The weights that gave it
    /// (or that the step then made) are no longer numbers, so nothing of the epoch is
    /// saved: the checkpoints of the finished epochs, and the `--out` file, stay as they were.
    static func checkFinite(_ loss: Float, of phase: String, at position: TrainingPosition,
                            lastCheckpoint: URL?) throws(TrainingError) {
        guard !loss.isFinite else { return }
        let place = phase == "training" ? "epoch \(position.epoch), batch \(position.batch + 1)" : "epoch \(position.epoch)"
        var message = "the \(phase) loss became \(loss) at \(place), so the run stopped without saving its weights "
            + "(an input value that is not a number, or a learning rate too high, makes them diverge)"
        if let lastCheckpoint { message += "; the last good checkpoint is \(lastCheckpoint.path)" }
        throw TrainingError(message)
    }
}
