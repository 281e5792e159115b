import Distributed
import Foundation

/// A group of ranks that are threads of one process, so the data-parallel arithmetic can
/// be tested without MPI. Each collective is one exchange: every rank leaves its value in
/// its slot, waits for the others, and reads every slot in rank order (so every rank
/// computes the same result), then waits again before the slots can be reused.
final class ThreadGroup: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var slots: [Any?]
    private var arrived = 0
    private var generation = 0

    init(size: Int) {
        self.size = size
        slots = Array(repeating: nil, count: size)
    }

    /// The ranks of the group, one per thread.
    var ranks: [ThreadRank] { (0..<size).map { ThreadRank(rank: $0, group: self) } }

    func exchange<T>(_ rank: Int, _ value: T) -> [T] {
        condition.lock()
        defer { condition.unlock() }
        slots[rank] = value
        waitForAll()
        let all = slots.map { $0 as! T }
        waitForAll()
        return all
    }

    /// Called with the lock held.
    private func waitForAll() {
        let round = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while round == generation { condition.wait() }
        }
    }

    /// Runs `body(rank)` on one thread per rank and returns the results in rank order.
    func run<R>(_ body: @escaping @Sendable (ThreadRank) throws -> R) throws -> [R] {
        let results = ResultSlots<R>(count: size)
        let done = DispatchGroup()
        for rank in ranks {
            done.enter()
            Thread {
                results.set(rank.rank, Result { try body(rank) })
                done.leave()
            }.start()
        }
        done.wait()
        return try results.values.map { try $0!.get() }
    }
}

private final class ResultSlots<R>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<R, any Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Result<R, any Error>) { lock.withLock { values[i] = value } }
}

/// One rank of a `ThreadGroup`.
final class ThreadRank: Collectives, @unchecked Sendable {
    let rank: Int
    let group: ThreadGroup
    var size: Int { group.size }

    init(rank: Int, group: ThreadGroup) {
        self.rank = rank
        self.group = group
    }

    func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) {
        let all = group.exchange(rank, Array(buffer))
        for i in buffer.indices { buffer[i] = all.reduce(0) { $0 + $1[i] } }
    }

    func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Double>) {
        let all = group.exchange(rank, Array(buffer))
        for i in buffer.indices { buffer[i] = all.reduce(0) { $0 + $1[i] } }
    }

    func maximum(_ value: Float) -> Float { group.exchange(rank, value).max()! }

    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, from root: Int) {
        let all = group.exchange(rank, Array(buffer))
        for i in buffer.indices { buffer[i] = all[root][i] }
    }

    func broadcast(_ value: UInt64, from root: Int) -> UInt64 { group.exchange(rank, value)[root] }

    func gather(_ values: [Float]) -> [Float] { group.exchange(rank, values).flatMap { $0 } }
}
