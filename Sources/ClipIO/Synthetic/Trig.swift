/// Sine and cosine from + - * only, for synthetic frames: the frames of a seed then
/// depend on nothing outside ClipIO (not the C library's version, nor whether the
/// optimiser fuses a `sin` and a `cos` into one `sincos` call), so every build and
/// machine renders the same bytes.
enum Trig {
    /// pi/2 split in two so the range reduction loses no bits for the arguments used here.
    private static let halfPiHigh = 1.5707963267341256
    private static let halfPiLow = 6.077100506506192e-11

    static func sin(_ x: Double) -> Double { sinCos(x).sin }
    static func cos(_ x: Double) -> Double { sinCos(x).cos }

    static func sinCos(_ x: Double) -> (sin: Double, cos: Double) {
        let quarter = (x * (2 / Double.pi)).rounded()
        let r = (x - quarter * halfPiHigh) - quarter * halfPiLow
        let r2 = r * r
        // Taylor series on [-pi/4, pi/4]: error below 1e-13.
        let s = r + r * r2 * (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040 + r2 * (1.0 / 362_880
            + r2 * (-1.0 / 39_916_800 + r2 * (1.0 / 6_227_020_800))))))
        let c = 1 + r2 * (-0.5 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320
            + r2 * (-1.0 / 3_628_800 + r2 * (1.0 / 479_001_600))))))
        switch Int(quarter) & 3 {
        case 0: return (s, c)
        case 1: return (c, -s)
        case 2: return (-s, -c)
        default: return (-c, s)
        }
    }
}
