import COpenBLAS

/// The BLAS engine behind every matrix product. OpenBLAS starts as many threads as
/// it sees cores unless told otherwise, which fights with any other parallel work,
/// so the product always sets the count explicitly.
public enum BLAS {
    /// Sets the number of threads OpenBLAS uses for each call.
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// The thread count OpenBLAS currently uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The CPU core OpenBLAS selected its kernels for (e.g. "Haswell", "SkylakeX").
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}
