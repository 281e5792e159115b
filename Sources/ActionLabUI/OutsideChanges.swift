import ActionStore
import Foundation

/// Notices what other processes change in the project while the app is open (labels
/// imported in another shell, a run trained from the command line) and brings the
/// changes to the screen.
public protocol OutsideChangeWatcher: AnyObject {
    /// Checks in the background whether the project changed outside this app since the
    /// last check; when it did, posts the clips (`clipsReloaded`, tagged with
    /// `labelEdits`) and the runs to `inbox`.
    func check(labelEdits: Int, inbox: EventInbox)
}

/// Watches the project database (SQLite's count of other connections' commits) and the
/// runs folder (its modification time): both are cheap to ask every second.
public final class ProjectWatcher: OutsideChangeWatcher, @unchecked Sendable {
    /// What the project looked like at a check; a different one means it changed.
    struct Stamp: Equatable {
        var databaseChanges: Int
        var runsFolderModified: Date?
    }

    // `lastStamp`, `isChecking`, `isStopped` and `lastProblem` under `lock`.
    private let store: ProjectStore
    private let queue = DispatchQueue(label: "actionlab.watch", qos: .utility)
    private let lock = NSLock()
    private var lastStamp: Stamp?
    private var isChecking = false
    private var isStopped = false
    /// The last problem reported, so a lasting one is not reported every second.
    private var lastProblem: String?

    /// Takes the project as it is now as the starting point: only later changes are reported.
    public init(store: ProjectStore) {
        self.store = store
        lastStamp = try? stamp()
    }

    public func check(labelEdits: Int, inbox: EventInbox) {
        // One check at a time: a slow disk must not queue them up.
        let starts = lock.withLock { () -> Bool in
            guard !isChecking, !isStopped else { return false }
            isChecking = true
            return true
        }
        guard starts else { return }
        queue.async { [self] in
            defer { lock.withLock { isChecking = false } }
            for event in changes(labelEdits: labelEdits) { inbox.post(event) }
        }
    }

    /// Ends the checks and waits for one under way: the database may close after this.
    public func stop() {
        lock.withLock { isStopped = true }
        queue.sync {}
    }

    /// The events that bring the screen up to date if the project changed since the last
    /// call (or since `init`); none if it did not.
    func changes(labelEdits: Int) -> [AppEvent] {
        let now: Stamp
        do { now = try stamp() } catch { return problem("Changes to the project could not be checked: \(error)") }
        let changed = lock.withLock { () -> Bool in
            defer { lastStamp = now }
            return lastStamp != now
        }
        guard changed else { return [] }
        do {
            let layout = store.layout
            let clips = try store.clips().map { ClipRow($0, layout: layout) }
            let runs = try store.runs().map { RunRow($0, layout: layout) }
            lock.withLock { lastProblem = nil }
            return [.clipsReloaded(clips, labelEdits: labelEdits), .runsLoaded(runs)]
        } catch {
            // Read again at the next check.
            lock.withLock { lastStamp = nil }
            return problem("The project changed, but it could not be read again: \(error)")
        }
    }

    /// A warning for `text`, unless it is the one reported last.
    private func problem(_ text: String) -> [AppEvent] {
        lock.withLock {
            defer { lastProblem = text }
            return lastProblem == text ? [] : [.warning(text)]
        }
    }

    private func stamp() throws -> Stamp {
        let modified = try? FileManager.default.attributesOfItem(atPath: store.layout.runsDirectory.path)[.modificationDate]
        return Stamp(databaseChanges: try store.outsideChangeCount(), runsFolderModified: modified as? Date)
    }
}
