import ActionNet
import Foundation

/// Builds the batches of one pass on a background thread, ahead of the caller: the next
/// batch is read from its source (and augmented and transformed) while the current one
/// trains. One thread builds them in order, so random draws happen in the order building
/// them one after another would make them: the same seed gives the same batches.
///
///     let batches = BatchPrefetcher(count: n) { index throws(TrainingError) in try makeBatch(index) }
///     while let (x, y) = try batches.next() { ... }
///
/// Releasing it (or `cancel()`) stops the thread after the batch it is building and waits
/// for it, so nothing reads the samples once the pass has ended.
public final class BatchPrefetcher: Sendable {
    public typealias Batch = (x: Tensor, y: Tensor)
    /// Built batches that wait for the caller, unless told otherwise.
    public static let defaultAhead = 1
    private let state: PrefetchState

    /// Starts building batches 0..<count with `make`, called in order from one thread;
    /// at most `ahead` finished batches wait for the caller.
    init(count: Int, ahead: Int = BatchPrefetcher.defaultAhead, make: @escaping @Sendable (Int) throws(TrainingError) -> Batch) {
        let state = PrefetchState(ahead: max(1, ahead))
        self.state = state
        Thread.detachNewThread {
            for index in 0..<count {
                guard state.waitForRoom() else { break }
                let result = Result { () throws(TrainingError) -> Batch in try make(index) }
                state.deliver(result)
                if case .failure = result { break }
            }
            state.finish()
        }
    }

    deinit { state.cancel() }

    /// The next batch in order; nil after the last. A batch that could not be built throws.
    public func next() throws(TrainingError) -> Batch? {
        try state.take()?.get()
    }

    /// Stops building batches and waits for the batch in progress to end.
    public func cancel() { state.cancel() }
}

/// The batches built and not yet taken, shared by the building thread and the caller.
private final class PrefetchState: @unchecked Sendable {
    // Everything below is guarded by `condition`'s lock.
    private let condition = NSCondition()
    private let ahead: Int
    private var ready: [Result<BatchPrefetcher.Batch, TrainingError>] = []
    private var cancelled = false
    private var finished = false

    init(ahead: Int) { self.ahead = ahead }

    /// Blocks while `ahead` batches wait; false once cancelled.
    func waitForRoom() -> Bool {
        condition.withLock {
            while ready.count >= ahead && !cancelled { condition.wait() }
            return !cancelled
        }
    }

    /// Keeps a built batch for the caller; after a cancel it is dropped, so `next()`
    /// gives nothing built while or after cancelling.
    func deliver(_ result: Result<BatchPrefetcher.Batch, TrainingError>) {
        condition.withLock {
            if !cancelled { ready.append(result) }
            condition.broadcast()
        }
    }

    /// The building thread has ended.
    func finish() {
        condition.withLock {
            finished = true
            condition.broadcast()
        }
    }

    /// The oldest built batch, waiting for it; nil when the thread ended without more.
    func take() -> Result<BatchPrefetcher.Batch, TrainingError>? {
        condition.withLock {
            while ready.isEmpty && !finished && !cancelled { condition.wait() }
            guard !ready.isEmpty, !cancelled else { return nil }
            condition.broadcast()
            return ready.removeFirst()
        }
    }

    func cancel() {
        condition.withLock {
            cancelled = true
            ready.removeAll()
            condition.broadcast()
            while !finished { condition.wait() }
        }
    }
}
