@testable import ActionStore
import GRDB
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

@Suite struct ConcurrentOpenTests {
    /// Several threads, each with its own connections, open one new project at the same
    /// moment and import labels: every one waits for the others and succeeds, the schema
    /// is created once, and the labels of all are applied.
    @Test func simultaneousOpensAndImportsOnANewProjectAllSucceed() throws {
        let workers = 6
        for _ in 0..<8 {
            let project = try TemporaryProject()
            let paths = (0..<workers).map { "clip\($0).mp4" }
            for path in paths { try project.write(path) }
            let layout = project.layout
            let start = Barrier(count: workers)
            let failures = LockedList()
            let group = DispatchGroup()
            for worker in 0..<workers {
                // Threads of their own: a barrier could starve the dispatch pool's few threads.
                group.enter()
                Thread {
                    defer { group.leave() }
                    start.arriveAndWait()
                    do {
                        // A generous wait for the lock: six writers in turn on a busy machine can
                        // take longer than the product's 10 s, and this test is about every open
                        // succeeding, not about how fast.
                        let store = try ProjectStore.open(layout, config: nil, user: "worker\(worker)", busyTimeout: 300)
                        try store.importCSV(text: "\(paths[worker]),\(store.classes[worker % 5].name)\n", file: "w.csv")
                        try store.close()
                    } catch { failures.append("worker \(worker): \(error)") }
                }.start()
            }
            group.wait()
            #expect(failures.items.isEmpty, "\(failures.items)")
            let store = try project.open()
            #expect(try store.labelCounts().labelled == workers)
        }
    }
}

@Suite struct LockedDatabaseTests {
    /// A database another connection keeps locked is reported as busy, never as "not a
    /// project database", and nothing is changed. (The wait is cut to nothing: the lock
    /// is held throughout, so the outcome does not depend on timing.)
    @Test func aLockHeldTooLongIsReportedAsBusyNotAsABadDatabase() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let holder = try DatabaseQueue(path: project.layout.databaseURL.path, configuration: configuration)
        try holder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        defer {
            try? holder.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
            try? holder.close()
        }
        let file = project.layout.databaseURL.path
        let error = #expect(throws: StoreError.self) {
            try ProjectStore.open(project.layout, config: nil, user: "late", busyTimeout: 0)
        }
        #expect(error == .databaseBusy(file: file, waitedSeconds: 0))
        #expect(error?.description == "\(file): still locked by another ActionLab process after 0 s; "
                + "nothing was changed. Try again when it has finished.")
        // Readers are not blocked in WAL mode.
        #expect(try store.clip(id: clips["a.mp4"]!.id)?.label == nil)
    }
}

/// Releases the threads that call `arriveAndWait` together, once `count` of them have arrived.
final class Barrier: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: Int
    init(count: Int) { waiting = count }
    func arriveAndWait() {
        condition.lock()
        waiting -= 1
        if waiting == 0 { condition.broadcast() }
        while waiting > 0 { condition.wait() }
        condition.unlock()
    }
}

/// A list appended to from several threads.
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ item: String) { lock.withLock { storage.append(item) } }
    var items: [String] { lock.withLock { storage } }
}
