import Dispatch

/// Work split over as many threads as the user allowed (`BLAS.setThreads`).
enum Parallel {
    /// How many parts `count` items are split into: one per thread, at least `grain` each.
    static func parts(_ count: Int, threads: Int? = nil, grain: Int = 64) -> Int {
        max(1, min(threads ?? BLAS.threads, count / max(grain, 1)))
    }

    /// Calls `body` with a `run` function that executes a closure on each of `parts`
    /// parts of 0..<count concurrently (with the part's index) and returns when all are
    /// done. While `body` runs with several parts, OpenBLAS uses one thread per call, so
    /// each part's products run on its own core and no BLAS thread spins beside them.
    static func splitting(_ count: Int, parts n: Int,
                          _ body: (_ run: ((_ part: Int, _ range: Range<Int>) -> Void) -> Void) -> Void) {
        let runParts: (((Int, Range<Int>) -> Void) -> Void) = { work in
            if n == 1 { work(0, 0..<count); return }
            // The parts touch disjoint memory; the closure lives only for this call.
            withoutActuallyEscaping(work) { work in
                nonisolated(unsafe) let work = work
                DispatchQueue.concurrentPerform(iterations: n) { part in
                    work(part, count * part / n ..< count * (part + 1) / n)
                }
            }
        }
        if n == 1 { body(runParts) } else { BLAS.withSingleThreadedCalls { body(runParts) } }
    }
}
