import ActionStore
import Foundation
import TestSupport
import Testing
@testable import Training

/// Predictions are stored under the identity of the checkpoint file they were computed
/// with, even when training writes a new checkpoint over it while it is being read.
@Suite struct CheckpointIdentityTests {
    let folder: TemporaryFolder
    let layout: ProjectLayout
    let checkpoint: URL

    init() throws {
        folder = try TemporaryFolder()
        layout = ProjectLayout(root: folder.url)
        checkpoint = folder.file("model.safetensors")
        try Data("first".utf8).write(to: checkpoint)
    }

    /// Writes new contents of another size and renames them over the checkpoint, as
    /// training writes a better epoch's.
    func replace(with text: String) throws {
        let next = folder.file("model.safetensors.new")
        try Data(text.utf8).write(to: next)
        try #require(rename(next.path, checkpoint.path) == 0)
    }

    @Test func aFileReadWhileUnchangedKeepsTheIdentityItHadBefore() throws {
        let before = try #require(PredictionSource.checkpoint(checkpoint, in: layout))
        var reads = 0
        let (contents, identity) = try PredictionJob.loadUnchanged(checkpoint, in: layout) { url in
            reads += 1
            return try String(contentsOf: url, encoding: .utf8)
        }
        #expect(contents == "first")
        #expect(identity == before)
        #expect(reads == 1)
    }

    @Test func aFileReplacedDuringTheReadIsReadAgainAndNamedAsItIsNow() throws {
        let before = try #require(PredictionSource.checkpoint(checkpoint, in: layout))
        var reads = 0
        let (contents, identity) = try PredictionJob.loadUnchanged(checkpoint, in: layout) { url in
            reads += 1
            let text = try String(contentsOf: url, encoding: .utf8)
            if reads == 1 { try replace(with: "second, a longer file") }
            return text
        }
        #expect(reads == 2)
        #expect(contents == "second, a longer file")
        #expect(identity != before)
        #expect(identity == PredictionSource.checkpoint(checkpoint, in: layout))
    }

    @Test func aFileThatNeverSettlesIsAnErrorNamingIt() throws {
        var reads = 0
        #expect {
            _ = try PredictionJob.loadUnchanged(checkpoint, in: layout, attempts: 3) { _ in
                reads += 1
                try replace(with: String(repeating: "x", count: reads))
            }
        } throws: { error in
            "\(error)".contains(checkpoint.path) && "\(error)".contains("kept changing")
        }
        #expect(reads == 3)
    }

    @Test func aMissingFileIsAnErrorNamingIt() throws {
        try FileManager.default.removeItem(at: checkpoint)
        #expect {
            _ = try PredictionJob.loadUnchanged(checkpoint, in: layout) { _ in () }
        } throws: { error in
            "\(error)".contains(checkpoint.path) && "\(error)".contains("cannot be read")
        }
    }
}
