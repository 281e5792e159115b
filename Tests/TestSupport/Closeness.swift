/// The largest absolute difference between two equally long arrays (infinity when the
/// lengths differ, so a shape mistake never passes).
public func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for i in a.indices {
        let d = abs(a[i] - b[i])
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}

/// The largest magnitude in `a`.
public func maxMagnitude(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }

/// True when every |a - b| <= atol + rtol * |b|.
public func isClose(_ a: [Float], _ b: [Float], rtol: Float = 0, atol: Float) -> Bool {
    guard a.count == b.count else { return false }
    for i in a.indices where !(abs(a[i] - b[i]) <= atol + rtol * abs(b[i])) { return false }
    return true
}
