#if ACTIONLAB_MPI
import CMPI
#endif
import Foundation

/// Why distributed training cannot go on, said once by the rank it happened on.
public struct DistributedError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }

    /// The apt-get line that installs Open MPI on Debian and Ubuntu.
    public static let installLine = "sudo apt-get install -y libopenmpi-dev openmpi-bin"

    /// This build of ActionLab was made without Open MPI.
    public static let openMPIMissing = DistributedError(
        "distributed training needs Open MPI, which this build of ActionLab was made without; "
            + "install it with `\(installLine)`, rebuild, and start the ranks with `mpirun -np K actionlab ...`")
}

/// The ranks of one `mpirun` job (MPI_COMM_WORLD) and their collective operations over MPI.
///
/// One communicator exists per process: MPI can be initialised only once. Calls may come
/// from any thread, one at a time (MPI_THREAD_SERIALIZED), so a background trainer can
/// own it.
public final class Communicator: Collectives, @unchecked Sendable {
    /// This process's rank in 0..<size; rank 0 writes files and prints progress.
    public let rank: Int
    /// The number of ranks in the job.
    public let size: Int
    /// Ranks on this machine (sharing its cores and memory), and this one's place among them.
    public let localSize: Int
    public let localRank: Int

    /// True when ActionLab was built with Open MPI (its headers were found at build time).
    public static var isAvailable: Bool {
        #if ACTIONLAB_MPI
        true
        #else
        false
        #endif
    }

    nonisolated(unsafe) private static var started: Communicator?
    private static let startLock = NSLock()

    /// Initialises MPI (once per process) and returns the job's communicator. Run under
    /// `mpirun` for several ranks; a process started alone is a job of one rank.
    public static func start() throws(DistributedError) -> Communicator {
        #if ACTIONLAB_MPI
        startLock.lock()
        defer { startLock.unlock() }
        if let started { return started }
        var provided: Int32 = 0
        guard MPI_Init_thread(nil, nil, cmpi_thread_serialized(), &provided) == cmpi_success() else {
            throw DistributedError("MPI_Init_thread failed; is this process started by mpirun?")
        }
        guard provided >= cmpi_thread_serialized() else {
            throw DistributedError("this Open MPI does not allow MPI calls from a background thread (MPI_THREAD_SERIALIZED)")
        }
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(cmpi_comm_world(), &rank)
        MPI_Comm_size(cmpi_comm_world(), &size)
        // The ranks sharing this machine's memory are the ones competing for its cores.
        var local = cmpi_comm_null()
        MPI_Comm_split_type(cmpi_comm_world(), cmpi_comm_type_shared(), rank, cmpi_info_null(), &local)
        var localRank: Int32 = 0, localSize: Int32 = 1
        MPI_Comm_rank(local, &localRank)
        MPI_Comm_size(local, &localSize)
        MPI_Comm_free(&local)
        let communicator = Communicator(rank: Int(rank), size: Int(size), localRank: Int(localRank), localSize: Int(localSize))
        started = communicator
        return communicator
        #else
        throw .openMPIMissing
        #endif
    }

    private init(rank: Int, size: Int, localRank: Int, localSize: Int) {
        self.rank = rank
        self.size = size
        self.localRank = localRank
        self.localSize = localSize
    }

    /// True on the rank that writes checkpoints, logs and run records.
    public var isRoot: Bool { rank == 0 }

    /// OpenBLAS threads for this rank so that the ranks on one machine share its cores
    /// instead of fighting over them: cores / local ranks, at least one.
    public func blasThreads(cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        Self.blasThreads(cores: cores, localRanks: localSize)
    }

    /// `cores` shared by `localRanks` ranks: cores / ranks each, at least one.
    public static func blasThreads(cores: Int, localRanks: Int) -> Int {
        max(1, cores / max(localRanks, 1))
    }

    // MARK: collectives, as `Collectives` describes them

    public func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Float>) {
        #if ACTIONLAB_MPI
        guard size > 1, buffer.count > 0 else { return }
        MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, Int32(buffer.count), cmpi_float(), cmpi_sum(), cmpi_comm_world())
        #endif
    }

    public func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Double>) {
        #if ACTIONLAB_MPI
        guard size > 1, buffer.count > 0 else { return }
        MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, Int32(buffer.count), cmpi_double(), cmpi_sum(), cmpi_comm_world())
        #endif
    }

    public func maximum(_ value: Float) -> Float {
        #if ACTIONLAB_MPI
        guard size > 1 else { return value }
        var value = value
        MPI_Allreduce(cmpi_in_place(), &value, 1, cmpi_float(), cmpi_max(), cmpi_comm_world())
        return value
        #else
        return value
        #endif
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, from root: Int) {
        #if ACTIONLAB_MPI
        guard size > 1, buffer.count > 0 else { return }
        MPI_Bcast(buffer.baseAddress, Int32(buffer.count), cmpi_float(), Int32(root), cmpi_comm_world())
        #endif
    }

    public func broadcast(_ value: UInt64, from root: Int) -> UInt64 {
        #if ACTIONLAB_MPI
        guard size > 1 else { return value }
        var value = value
        MPI_Bcast(&value, 1, cmpi_uint64(), Int32(root), cmpi_comm_world())
        return value
        #else
        return value
        #endif
    }

    public func gather(_ values: [Float]) -> [Float] {
        #if ACTIONLAB_MPI
        guard size > 1 else { return values }
        var mine = Int32(values.count)
        var counts = [Int32](repeating: 0, count: size)
        MPI_Allgather(&mine, 1, cmpi_int32(), &counts, 1, cmpi_int32(), cmpi_comm_world())
        var offsets = [Int32](repeating: 0, count: size)
        for r in 1..<size { offsets[r] = offsets[r - 1] + counts[r - 1] }
        var all = [Float](repeating: 0, count: Int(counts.reduce(0, +)))
        values.withUnsafeBufferPointer { send in
            _ = MPI_Allgatherv(send.baseAddress, mine, cmpi_float(), &all, counts, offsets, cmpi_float(), cmpi_comm_world())
        }
        return all
        #else
        return values
        #endif
    }

    /// Waits until every rank has reached this call.
    public func barrier() {
        #if ACTIONLAB_MPI
        guard size > 1 else { return }
        MPI_Barrier(cmpi_comm_world())
        #endif
    }

    /// Prints "rank N: message" on standard error and stops every rank of the job with
    /// exit status 1 (MPI_Abort), so one failing rank never leaves the others waiting in
    /// a collective call.
    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data("rank \(rank): \(message)\n".utf8))
        #if ACTIONLAB_MPI
        MPI_Abort(cmpi_comm_world(), 1)
        #endif
        exit(1)
    }

    /// Shuts MPI down; call once on every rank after the last collective call.
    public func finish() {
        #if ACTIONLAB_MPI
        MPI_Finalize()
        #endif
    }
}
