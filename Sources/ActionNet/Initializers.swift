/// Fills `values` for a parameter of `shape` as Keras initialises it, drawing from `random`.
func initialize(_ values: UnsafeMutablePointer<Float>, shape: [Int], with initializer: Initializer,
                random: inout SeededGenerator) {
    let count = shape.reduce(1, *)
    switch initializer {
    case .zeros:
        values.update(repeating: 0, count: count)
    case .ones:
        values.update(repeating: 1, count: count)
    case .lstmBias(let units):
        values.update(repeating: 0, count: count)
        (values + units).update(repeating: 1, count: units)
    case .glorotUniform(let fanIn, let fanOut):
        let limit = (6 / Double(fanIn + fanOut)).squareRoot()
        for i in 0..<count { values[i] = Float((2 * random.nextUnit() - 1) * limit) }
    case .orthogonal:
        let rows = shape.dropLast().reduce(1, *), columns = shape.last ?? 1
        let q = orthonormalColumns(rows: max(rows, columns), columns: min(rows, columns), random: &random)
        // q is (max, min) with orthonormal columns; a wide matrix takes its transpose.
        for r in 0..<rows {
            for c in 0..<columns {
                values[r * columns + c] = Float(rows >= columns ? q[r * columns + c] : q[c * rows + r])
            }
        }
    }
}

/// A (rows, columns) matrix, rows >= columns, with orthonormal columns: the Q of the QR
/// decomposition of a standard normal matrix with R's diagonal made positive (as Keras's
/// Orthogonal initializer), computed by modified Gram-Schmidt in double precision.
func orthonormalColumns(rows: Int, columns: Int, random: inout SeededGenerator) -> [Double] {
    var a = [Double](repeating: 0, count: rows * columns)
    for i in a.indices { a[i] = random.nextNormal() }
    for j in 0..<columns {
        for previous in 0..<j {
            var dot = 0.0
            for r in 0..<rows { dot += a[r * columns + j] * a[r * columns + previous] }
            for r in 0..<rows { a[r * columns + j] -= dot * a[r * columns + previous] }
        }
        var norm = 0.0
        for r in 0..<rows { norm += a[r * columns + j] * a[r * columns + j] }
        norm = norm.squareRoot()
        for r in 0..<rows { a[r * columns + j] /= norm }
    }
    return a
}
