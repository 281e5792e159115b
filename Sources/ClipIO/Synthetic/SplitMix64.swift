/// SplitMix64 (Steele, Lea and Flood 2014): a small, fast generator whose output
/// depends only on the seed, on every platform and Swift version. Synthetic clips
/// draw all their randomness from it, so a seed always renders the same frames.
///
/// Draw with `next()`, `unit()` and `uniform(_:)` rather than the standard library's
/// `random(in:using:)`, whose algorithm is not promised to stay the same.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A Double in [0, 1) from the top 53 bits.
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A Double in `range`.
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + unit() * (range.upperBound - range.lowerBound)
    }

    /// -1 or +1 with equal odds.
    public mutating func sign() -> Double {
        next() & 1 == 0 ? -1 : 1
    }

    /// An integer in 0..<count.
    public mutating func index(below count: Int) -> Int {
        Int(next() % UInt64(count))
    }

    /// Roughly normal (sum of four uniforms), mean 0, standard deviation 1.
    public mutating func gaussian() -> Double {
        (unit() + unit() + unit() + unit() - 2) * 1.7320508075688772
    }
}
