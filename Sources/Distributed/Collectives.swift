/// The collective operations data-parallel training needs from a group of ranks. Every
/// rank must make the same calls in the same order, with buffers of the same length, and
/// every rank receives the same result. `Communicator` provides them over MPI.
public protocol Collectives: AnyObject, Sendable {
    /// This replica's rank in 0..<size.
    var rank: Int { get }
    /// The number of ranks.
    var size: Int { get }
    /// Replaces `buffer` on every rank by the element-wise sum over all ranks.
    func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Float>)
    /// Replaces `buffer` on every rank by the element-wise sum over all ranks.
    func sumInPlace(_ buffer: UnsafeMutableBufferPointer<Double>)
    /// The largest `value` over all ranks.
    func maximum(_ value: Float) -> Float
    /// Overwrites `buffer` on every rank with rank `root`'s contents.
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, from root: Int)
    /// Rank `root`'s `value`, on every rank.
    func broadcast(_ value: UInt64, from root: Int) -> UInt64
    /// Every rank's `values` concatenated in rank order, on every rank; the ranks may
    /// contribute different lengths.
    func gather(_ values: [Float]) -> [Float]
}

extension Collectives {
    /// The element-wise sum of `values` over all ranks.
    public func sum(_ values: [Double]) -> [Double] {
        var values = values
        values.withUnsafeMutableBufferPointer { sumInPlace($0) }
        return values
    }
}
