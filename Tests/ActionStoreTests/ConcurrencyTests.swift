import ActionStore
import Foundation
import Testing

@Suite struct ConcurrencyTests {
    /// Readers on other threads always see a committed state: the labelled count
    /// only grows while a writer labels clips one by one, and no read fails.
    @Test func readsWhileWritingSeeOnlyCommittedStates() throws {
        let project = try TemporaryProject()
        let paths = (0..<200).map { String(format: "clip%03d.mp4", $0) }
        let (store, clips) = try project.storeWithClips(paths)
        let ids = paths.map { clips[$0]!.id }

        let group = DispatchGroup()
        let failures = LockedList()
        DispatchQueue.global().async(group: group) {
            do {
                for (n, id) in ids.enumerated() { try store.setLabel(clipID: id, classIndex: n % 5) }
            } catch { failures.append("writer: \(error)") }
        }
        for reader in 0..<3 {
            DispatchQueue.global().async(group: group) {
                var lastSeen = 0
                do {
                    while lastSeen < ids.count {
                        let labelled = try store.clips().filter { $0.label != nil }.count
                        let counted = try store.labelCounts().labelled
                        if labelled < lastSeen || counted < labelled {
                            failures.append("reader \(reader): saw \(labelled) after \(lastSeen), counted \(counted)")
                        }
                        lastSeen = labelled
                    }
                } catch { failures.append("reader \(reader): \(error)") }
            }
        }
        group.wait()
        #expect(failures.items.isEmpty, "\(failures.items)")
        #expect(try store.labelCounts().labelled == ids.count)
    }

    @Test func twoStoresOnOneProjectShareTheDatabase() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        let other = try project.open(user: "someone")
        try other.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 1)
        #expect(try store.clip(path: "a.mp4")?.label?.labelledBy == "someone")
    }

    @Test func theOutsideChangeCountMovesOnlyForAnotherStoresCommits() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b.mp4"])
        let other = try project.open(user: "someone")
        let start = try store.outsideChangeCount()
        try store.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 0)
        #expect(try store.outsideChangeCount() == start, "its own label")
        try other.setLabel(clipID: clips["b.mp4"]!.id, classIndex: 1)
        let afterOther = try store.outsideChangeCount()
        #expect(afterOther != start, "the other store's label")
        _ = try other.clips()
        #expect(try store.outsideChangeCount() == afterOther, "the other store only read")
    }
}

/// A list appended to from several threads.
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ item: String) { lock.withLock { storage.append(item) } }
    var items: [String] { lock.withLock { storage } }
}
