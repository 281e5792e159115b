import COpenBLAS
import Foundation

/// The BLAS engine behind every matrix product. OpenBLAS starts as many threads as
/// it sees cores unless told otherwise, which fights with any other parallel work,
/// so the product always sets the count explicitly.
public enum BLAS {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var requested = 0

    /// Sets the number of threads ActionNet uses: OpenBLAS's threads for each call, and
    /// the number of parts the ConvLSTM work is split into.
    public static func setThreads(_ count: Int) {
        lock.withLock { requested = max(1, count) }
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// The thread count last set; before any was set, OpenBLAS's own count, remembered
    /// at the first use so that the temporary single-thread sections never change it.
    public static var threads: Int {
        lock.withLock {
            if requested == 0 { requested = max(1, Int(openblas_get_num_threads())) }
            return requested
        }
    }

    /// Runs `body` with OpenBLAS on one thread per call, for work that is already split
    /// over threads; then restores the set count.
    static func withSingleThreadedCalls<R>(_ body: () throws -> R) rethrows -> R {
        let count = threads
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(count)) }
        return try body()
    }

    /// The CPU core OpenBLAS selected its kernels for (e.g. "Haswell", "SkylakeX").
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// A sentence for the user when OPENBLAS_CORETYPE names the core instead of letting
    /// OpenBLAS choose one for this CPU, nil otherwise. The choice matters: on an AMD EPYC
    /// with AVX-512, OPENBLAS_CORETYPE=Haswell (AVX2 kernels, which pack every operand)
    /// made a training step 1.4 to 1.5 times as long as the Cooperlake kernels OpenBLAS
    /// chooses there itself.
    public static var coreTypeNote: String? {
        guard let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !forced.isEmpty else { return nil }
        return "OPENBLAS_CORETYPE=\(forced) is set: OpenBLAS runs the \(coreName) kernels instead of choosing for this CPU; "
            + "unset it to compare"
    }
}
