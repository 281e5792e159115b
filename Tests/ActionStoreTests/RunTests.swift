import ActionStore
import Foundation
import Testing

@Suite struct RunTests {
    @Test func runsAreCreatedUpdatedListedAndDeleted() throws {
        let project = try TemporaryProject()
        let store = try project.open()
        let started = Date(timeIntervalSince1970: 1_750_000_000)
        var first = try store.createRun(settingsJSON: #"{"epochs":3}"#, splitJSON: #"{"val":[1]}"#, startedAt: started)
        var second = try store.createRun(settingsJSON: "{}", splitJSON: "{}")
        #expect(first.status == .running)

        first.status = .earlyStopped
        first.statusDetail = "val_loss did not improve for 5 epochs"
        first.epochs = 3
        first.bestValAccuracy = 0.75
        first.durationSeconds = 12.5
        first.lastCheckpointPath = ".actionlab/runs/1/last.safetensors"
        first.bestCheckpointPath = ".actionlab/runs/1/best.safetensors"
        try store.updateRun(first)
        #expect(try store.run(id: first.id) == first)
        #expect(try store.runs().map(\.id) == [second.id, first.id])

        // A run still training in this (live) process keeps its record.
        #expect(throws: StoreError.runInProgress(id: second.id)) { try store.deleteRun(id: second.id) }
        second.status = .stopped
        try store.updateRun(second)
        try store.deleteRun(id: second.id)
        #expect(try store.runs() == [first])
        var ghost = first
        ghost = RunRecord(id: 404, startedAt: started, settingsJSON: "{}", splitJSON: "{}", status: .failed)
        #expect(throws: RunNotFound(id: 404)) { try store.updateRun(ghost) }
    }

    @Test func metricsAreAppendedPerEpochAndReadInOrder() throws {
        let project = try TemporaryProject()
        let store = try project.open()
        let run = try store.createRun(settingsJSON: "{}", splitJSON: "{}")
        let epoch2 = EpochMetrics(runID: run.id, epoch: 2, loss: 0.9, accuracy: 0.6, valLoss: nil, valAccuracy: nil,
                                  learningRate: 1e-3, seconds: 4)
        let epoch1 = EpochMetrics(runID: run.id, epoch: 1, loss: 1.6, accuracy: 0.2, valLoss: 1.5, valAccuracy: 0.25,
                                  learningRate: 1e-3, seconds: 5)
        try store.appendMetrics(epoch2)
        try store.appendMetrics(epoch1)
        #expect(try store.metrics(runID: run.id) == [epoch1, epoch2])
        #expect(throws: RunNotFound(id: 77)) {
            try store.appendMetrics(EpochMetrics(runID: 77, epoch: 1, loss: 0, accuracy: 0, valLoss: nil,
                                                 valAccuracy: nil, learningRate: 0, seconds: 0))
        }
        var ended = run
        ended.status = .failed
        try store.updateRun(ended)
        try store.deleteRun(id: run.id)
        #expect(try store.metrics(runID: run.id).isEmpty)
    }
}
