import ActionStore
import Foundation
import TestSupport
import Testing
@testable import ActionLabUI
@testable import Training

// Quitting while the project scan is still probing clips: the database closes only
// after the scan has stopped, so the scan never writes to a closed database.

/// A project folder holding `count` clips copied from sample-data.
private func projectWithClips(_ count: Int, in folder: TemporaryFolder) throws -> ProjectLayout {
    let sampleData = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("sample-data")
    let clips = try FileManager.default.subpathsOfDirectory(atPath: sampleData.path)
        .filter { $0.hasSuffix(".mp4") }.sorted().prefix(count)
    try #require(clips.count == count, "sample-data has \(count) clips")
    for clip in clips {
        let target = folder.url.appendingPathComponent(clip)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: sampleData.appendingPathComponent(clip), to: target)
    }
    return ProjectLayout(root: folder.url)
}

@Test func quittingMidScanWaitsForTheScanBeforeClosingTheDatabase() throws {
    let folder = try TemporaryFolder()
    let layout = try projectWithClips(30, in: folder)
    let store = try ProjectStore.open(layout)
    let inbox = EventInbox()
    let scan = ActionLabApp.startScan(store: store, layout: layout, inbox: inbox)
    // Quit once the scan has recorded its first clips and is probing the next.
    var events: [AppEvent] = []
    let deadline = Date().addingTimeInterval(60)
    while !events.contains(where: { if case .clipsChanged = $0 { true } else { false } }),
          inbox.waitForEvents(until: deadline) {
        events += inbox.drain()
    }
    try #require(events.contains { if case .clipsChanged = $0 { true } else { false } },
                 "the scan recorded clips within a minute")
    // A generous limit: what is tested is the order (the scan stops, then the database
    // closes), not how fast a busy machine stops the scan.
    let closed = ActionLabApp.shutDown(store: store, scan: scan, training: nil, scanTimeout: 60)
    #expect(closed, "the scan stopped and the database closed")
    let summary = try scan.wait()
    #expect(summary.cancelled || summary.probed == 30)
    events += inbox.drain()
    let warnings = events.compactMap { if case .warning(let text) = $0 { text } else { nil } }
    #expect(warnings.isEmpty, "the scan wrote nothing after the database closed: \(warnings)")
    #expect(throws: (any Error).self, "the database is closed") { try store.clips() }
}

/// An estimate still measuring when the user quits is waited for: the process must not
/// exit (and OpenBLAS free its buffers) while it multiplies.
@Test func quittingWaitsForTheEstimateInProgress() throws {
    let folder = try TemporaryFolder()
    let store = try ProjectStore.open(ProjectLayout(root: folder.url))
    let training = ProjectTraining(store: store)
    let settings = TrainingChoice.standard(classes: store.classes.count)[0].settings
    let finished = NSLock()
    nonisolated(unsafe) var outcome: Result<TrainingEstimate, TrainingError>?
    training.estimate(EstimateRequest(settings: settings, trainingSamples: 8, validationSamples: 2)) { result in
        finished.withLock { outcome = result }
    }
    // A generous limit: what is tested is that quitting waits, not how fast a busy
    // machine measures.
    ActionLabApp.shutDown(store: store, scan: nil, training: training, backgroundWorkTimeout: 600)
    let measured = finished.withLock { outcome }
    #expect(measured != nil, "shutting down returned before the estimate had finished")
    if case .failure(let error)? = measured { Issue.record("the estimate failed: \(error)") }
}
