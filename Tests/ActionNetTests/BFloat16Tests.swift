@testable import ActionNet
import COpenBLAS
import Foundation
import TestSupport
import Testing

// bfloat16 products run only on CPUs with AVX512_BF16; elsewhere the suites that compute
// them skip, and only the one about refusing bf16 runs.

/// The error bound of a bfloat16 product with float32 accumulation.
///
/// bfloat16 keeps 8 significant bits, so rounding to nearest changes a value by at most
/// u = 2^-8 of itself: â = a(1 + α), b̂ = b(1 + β), |α|, |β| <= u. The product of two
/// bfloat16 values has at most 16 significant bits and is exact in float32, and
/// â b̂ = a b (1 + α + β + αβ): relative error at most 2u + u^2 = 2^-7 + 2^-16 per term.
/// Summing K such terms in float32, in any order, adds at most γ_K = K 2^-24 / (1 - K 2^-24)
/// of the sum of their magnitudes, Σ|â b̂| <= (1 + u)^2 Σ|a b|; scaling by alpha and adding
/// beta C are two more float32 roundings. So every element of C = alpha op(A) op(B) + beta C
/// is within
///
///     ((2u + u^2) + γ_(K+2) (1 + u)^2) (|alpha| Σ_k |a_ik b_kj| + |beta c_ij|)
///
/// of the exact value: about 2^-7 = 0.8% of the magnitudes summed, whatever the matrices.
/// (The kernel treats bfloat16 denormals, below 1.2e-38, as zero, which changes a sum by
/// less than K 2^-126 × 2^-126 — nothing a float32 result can show.)
func bf16ProductBound(k: Int) -> Double {
    let u = 0x1p-8, eps = 0x1p-24
    let gamma = Double(k + 2) * eps / (1 - Double(k + 2) * eps)
    return (2 * u + u * u) + gamma * (1 + u) * (1 + u)
}

@Suite(.enabled(if: CPUFeatures.current.hasAVX512BF16, "bfloat16 products need a CPU with AVX512_BF16")) struct BFloat16ProductTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let m: Int, n: Int, k: Int, transA: Bool, transB: Bool
        var testDescription: String { "\(m)x\(n)x\(k)\(transA ? " A^T" : "")\(transB ? " B^T" : "")" }
    }

    /// The Winograd path's shapes at the seed's sizes (forward V U, dU += V^T dM,
    /// dV = dM U^T), an im2col-like one, and small odd ones for the packing's edges.
    static let cases: [Case] = [
        Case(m: 32, n: 256, k: 65, transA: false, transB: false),
        Case(m: 96, n: 128, k: 64, transA: true, transB: false),
        Case(m: 64, n: 65, k: 256, transA: false, transB: true),
        Case(m: 40, n: 64, k: 432, transA: false, transB: false),
        Case(m: 7, n: 5, k: 3, transA: true, transB: true),
        Case(m: 33, n: 47, k: 19, transA: false, transB: true),
        Case(m: 9, n: 17, k: 1, transA: true, transB: false),
        Case(m: 1, n: 1, k: 2, transA: false, transB: false),
    ]

    /// Values of both signs spread over 2^-6 ... 2^6, so that relative errors show at
    /// every magnitude.
    static func matrix(_ count: Int, _ random: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in
            let magnitude = Float(exp2(random.nextUnit() * 12 - 6))
            return random.nextUnit() < 0.5 ? -magnitude : magnitude
        }
    }

    /// Calls `product` on the case with leading dimensions a few elements wider than the
    /// matrices (so that strides are honoured), alpha 0.75 and the given beta.
    struct Operands {
        let c: Case, lda: Int, ldb: Int, ldc: Int
        var a: [Float], b: [Float], c0: [Float]
        let alpha: Float, beta: Float

        init(_ c: Case, beta: Float, seed: UInt64) {
            var random = SeededGenerator(seed: seed)
            self.c = c
            lda = (c.transA ? c.m : c.k) + 3
            ldb = (c.transB ? c.k : c.n) + 5
            ldc = c.n + 2
            a = BFloat16ProductTests.matrix((c.transA ? c.k : c.m) * lda, &random)
            b = BFloat16ProductTests.matrix((c.transB ? c.n : c.k) * ldb, &random)
            c0 = BFloat16ProductTests.matrix(c.m * ldc, &random)
            if beta == 0 { c0 = [Float](repeating: .nan, count: c.m * ldc) }   // must not be read
            alpha = 0.75
            self.beta = beta
        }

        func aAt(_ i: Int, _ p: Int) -> Float { c.transA ? a[p * lda + i] : a[i * lda + p] }
        func bAt(_ p: Int, _ j: Int) -> Float { c.transB ? b[j * ldb + p] : b[p * ldb + j] }

        /// C[i, j] computed in double from these operands, and the scale the error bounds
        /// are relative to: |alpha| times the summed magnitudes of the products, plus |beta c|.
        func exact(_ i: Int, _ j: Int) -> (value: Double, scale: Double) {
            var sum = 0.0, magnitude = 0.0
            for p in 0..<c.k {
                let term = Double(aAt(i, p)) * Double(bAt(p, j))
                sum += term
                magnitude += abs(term)
            }
            let c0 = beta == 0 ? 0 : Double(self.c0[i * ldc + j])
            return (Double(alpha) * sum + Double(beta) * c0, abs(Double(alpha)) * magnitude + abs(Double(beta) * c0))
        }

        func run(_ product: MatrixProduct, b: [Float]? = nil) -> [Float] {
            var out = c0
            a.withUnsafeBufferPointer { ap in
                (b ?? self.b).withUnsafeBufferPointer { bp in
                    out.withUnsafeMutableBufferPointer { cp in
                        product(CblasRowMajor, c.transA ? CblasTrans : CblasNoTrans, c.transB ? CblasTrans : CblasNoTrans,
                                Int32(c.m), Int32(c.n), Int32(c.k), alpha, ap.baseAddress!, Int32(lda),
                                bp.baseAddress!, Int32(ldb), beta, cp.baseAddress!, Int32(ldc))
                    }
                }
            }
            return out
        }
    }

    static func product(_ precision: Precision) -> MatrixProduct {
        let product = MatrixProduct()
        product.precision = precision
        return product
    }

    /// Every element within the bound above of the exact (double) value; closer to the
    /// product of the rounded operands than float32 accumulation can separate; and, for
    /// the test to be able to fail, visibly not the float32 product.
    @Test(arguments: cases, [0, 1] as [Float]) func productsAreWithinTheBound(c: Case, beta: Float) {
        let operands = Operands(c, beta: beta, seed: UInt64(c.m * 1000 + c.n * 10 + c.k))
        let bf16 = operands.run(Self.product(.bf16))
        let fp32 = operands.run(Self.product(.fp32))
        var rounded = Operands(c, beta: beta, seed: UInt64(c.m * 1000 + c.n * 10 + c.k))
        rounded.a = rounded.a.map(BFloat16Product.rounded)
        rounded.b = rounded.b.map(BFloat16Product.rounded)
        let reference = rounded.run(Self.product(.fp32))
        let bound = bf16ProductBound(k: c.k), eps = 0x1p-24 * Double(c.k + 4)
        var worst = 0.0, differsFromFP32 = false
        for i in 0..<c.m {
            for j in 0..<c.n {
                let (exact, scale) = operands.exact(i, j)
                let value = Double(bf16[i * operands.ldc + j])
                worst = max(worst, abs(value - exact) / scale)
                #expect(abs(value - exact) <= bound * scale, "C[\(i), \(j)] = \(value), exact \(exact)")
                // Two float32 sums of the same exact products differ by at most 2 γ of their magnitudes.
                #expect(abs(value - Double(reference[i * operands.ldc + j])) <= 2 * eps * scale * 1.01,
                        "C[\(i), \(j)] = \(value), rounded operands give \(reference[i * operands.ldc + j])")
                if abs(value - Double(fp32[i * operands.ldc + j])) > 2 * eps * scale * 1.01 { differsFromFP32 = true }
            }
            // Columns past n are not written.
            for j in c.n ..< operands.ldc {
                let index = i * operands.ldc + j
                #expect(bf16[index].bitPattern == operands.c0[index].bitPattern)
            }
        }
        #expect(worst <= bound)
        if c.k > 1 { #expect(differsFromFP32, "the bf16 product equals the float32 one: the operands were not rounded") }
    }

    /// An operand in memory declared constant is packed once and reused; declaring the
    /// region again after it changed uses the new values.
    @Test(arguments: [false, true]) func aHeldOperandIsPackedOnceAndRenewedWhenHeldAgain(transB: Bool) {
        let c = Case(m: 20, n: 40, k: 24, transA: false, transB: transB)
        let operands = Operands(c, beta: 1, seed: 7)
        let held = Self.product(.bf16)
        var b = operands.b
        b.withUnsafeBufferPointer { held.holdConstant($0.baseAddress!, count: $0.count) }
        #expect(operands.run(held, b: b) == operands.run(Self.product(.bf16), b: b))
        #expect(operands.run(held, b: b) == operands.run(Self.product(.bf16), b: b))   // from the packed copy
        for i in b.indices { b[i] = -2 * b[i] }
        b.withUnsafeBufferPointer { held.holdConstant($0.baseAddress!, count: $0.count) }
        #expect(operands.run(held, b: b) == operands.run(Self.product(.bf16), b: b))
    }

    @Test func roundingIsToNearestEven() {
        #expect(BFloat16Product.rounded(1 + 0x1p-8) == 1)                  // tie: to even (1)
        #expect(BFloat16Product.rounded(1 + 3 * 0x1p-8) == 1 + 0x1p-6)     // tie: to even (1 + 2^-6)
        #expect(BFloat16Product.rounded(1 + 0x1p-8 + 0x1p-20) == 1 + 0x1p-7)
        #expect(BFloat16Product.rounded(-3.0) == -3.0)
        #expect(BFloat16Product.rounded(.greatestFiniteMagnitude) == .infinity)
        #expect(BFloat16Product.rounded(.infinity) == .infinity)
        #expect(BFloat16Product.rounded(.nan).isNaN)
    }
}

/// The float32 products of ActionNet's own AVX-512 kernel against double precision.
///
/// The operands are used as they are, so the only errors are float32 summation: K
/// products (each rounded once by FMA's sum) added in any order, then alpha and beta C,
/// are within γ_(K+2) = (K + 2) 2^-24 / (1 - (K + 2) 2^-24) of the magnitudes summed.
@Suite(.enabled(if: CPUFeatures.current.hasAVX512F, "the float32 kernel needs a CPU with AVX-512F")) struct Float32KernelTests {
    typealias Case = BFloat16ProductTests.Case

    /// The bf16 tests' shapes, and tall ones with a long k, which the kernel packs and
    /// multiplies a chunk of rows at a time (the last chunk partial).
    static let cases = BFloat16ProductTests.cases + [
        Case(m: 90, n: 40, k: 1000, transA: false, transB: false),
        Case(m: 75, n: 33, k: 700, transA: true, transB: true),
    ]

    static func product() -> MatrixProduct {
        let product = MatrixProduct()
        product.ownFloat32Kernel = true
        return product
    }

    @Test(arguments: cases, [0, 1] as [Float]) func productsAreWithinFloat32SummationError(c: Case, beta: Float) {
        let operands = BFloat16ProductTests.Operands(c, beta: beta, seed: UInt64(c.m * 1000 + c.n * 10 + c.k))
        let result = operands.run(Self.product())
        let gamma = Double(c.k + 2) * 0x1p-24 / (1 - Double(c.k + 2) * 0x1p-24)
        for i in 0..<c.m {
            for j in 0..<c.n {
                let (exact, scale) = operands.exact(i, j)
                let value = Double(result[i * operands.ldc + j])
                #expect(abs(value - exact) <= gamma * scale, "C[\(i), \(j)] = \(value), exact \(exact)")
            }
            // Columns past n are not written.
            for j in c.n ..< operands.ldc {
                let index = i * operands.ldc + j
                #expect(result[index].bitPattern == operands.c0[index].bitPattern)
            }
        }
    }

    /// An operand in memory declared constant is packed once and reused; declaring the
    /// region again after it changed uses the new values.
    @Test(arguments: [false, true]) func aHeldOperandIsPackedOnceAndRenewedWhenHeldAgain(transB: Bool) {
        let c = Case(m: 20, n: 40, k: 24, transA: true, transB: transB)
        let operands = BFloat16ProductTests.Operands(c, beta: 1, seed: 7)
        let held = Self.product()
        var b = operands.b
        b.withUnsafeBufferPointer { held.holdConstant($0.baseAddress!, count: $0.count) }
        #expect(operands.run(held, b: b) == operands.run(Self.product(), b: b))
        #expect(operands.run(held, b: b) == operands.run(Self.product(), b: b))   // from the packed copy
        for i in b.indices { b[i] = -2 * b[i] }
        b.withUnsafeBufferPointer { held.holdConstant($0.baseAddress!, count: $0.count) }
        #expect(operands.run(held, b: b) == operands.run(Self.product(), b: b))
    }
}

/// A ConvLSTM in bf16 against the same layer in fp32.
///
/// Each gate pre-activation is an element of a product, so the bound above holds for
/// it: at most about 2^-7 of Σ|input| |weight| over its 9 (C + F) taps. That worst case
/// (every rounding in the same direction) is far from what happens: the roundings have
/// either sign and mostly cancel, and the gates (sigmoid, tanh, slopes at most 1) pass the
/// rest on through the T steps. So the tolerances are set from measurement with margin:
/// outputs (h, in (-1, 1)) within 0.01 absolute, input and parameter gradients within 2%
/// of the largest of each. Measured with Winograd F(4x4), whose transforms mix values with
/// coefficients up to 8 and so magnify the rounding: outputs up to 0.0056, input gradients
/// 1.7%, parameter gradients 0.8% (im2col: 0.0009, 0.2%, 0.1%). A wrong index or
/// transposition in a product moves them by far more.
@Suite(.enabled(if: CPUFeatures.current.hasAVX512BF16, "bfloat16 products need a CPU with AVX512_BF16")) struct BFloat16ConvLSTMTests {
    @Test(arguments: [ConvLSTM2D.Algorithm.winograd, .im2col], [false, true])
    func forwardAndBackwardAreCloseToFloat32(algorithm: ConvLSTM2D.Algorithm, returnSequences: Bool) throws {
        let (B, T, H, W, C, F) = (2, 4, 5, 6, 3, 8)
        let layer = ConvLSTM2D(name: "convlstm", inputShape: [T, H, W, C], filters: F, kernelSize: 3,
                               returnSequences: returnSequences)
        layer.algorithm = algorithm
        let harness = LayerHarness(layer, batch: B, seed: 31)
        let fp32Output = harness.output(training: false)
        let (fp32DInput, fp32DParameters) = harness.gradients()
        layer.matmul.precision = .bf16
        let bf16Output = harness.output(training: false)
        let (bf16DInput, bf16DParameters) = harness.gradients()

        let outputError = maxAbsDifference(bf16Output, fp32Output)
        #expect(outputError <= 0.01, "output differs by \(outputError)")
        #expect(outputError > 0, "bf16 and fp32 agree exactly: the bf16 products did not run")

        let inputError = maxAbsDifference(bf16DInput, fp32DInput), inputScale = maxMagnitude(fp32DInput)
        #expect(inputError <= 0.02 * inputScale, "d input differs by \(inputError) of \(inputScale)")
        let parameterError = maxAbsDifference(bf16DParameters, fp32DParameters)
        let parameterScale = maxMagnitude(fp32DParameters)
        #expect(parameterError <= 0.02 * parameterScale, "d parameters differ by \(parameterError) of \(parameterScale)")
    }
}

/// Training a tiny model in bf16 on a separable task: it learns it as float32 does.
@Suite(.enabled(if: CPUFeatures.current.hasAVX512BF16, "bfloat16 products need a CPU with AVX512_BF16")) struct BFloat16TrainingTests {
    @Test func aTinyModelLearnsInBF16AsInFP32() throws {
        // The float32 training test's task: bright frames against dark ones.
        let (xs, ys) = brightOrDarkFrames()
        func train(_ precision: Precision) throws -> (losses: [Float], accuracy: Float, model: ActionModel) {
            let model = try ActionModel(config: ModelConfig(frames: 3, height: 6, width: 6, channels: 1, filters: [4],
                                                            denseUnits: 8, classes: 2, dropout: 0.1, recurrentDropout: 0.1), seed: 2)
            try model.setPrecision(precision)
            var adam = Adam(learningRate: 1e-2)
            var shuffle = SeededGenerator(seed: 1)
            var losses: [Float] = []
            for _ in 0..<15 {
                var order = Array(0..<12)
                order.shuffle(using: &shuffle)
                var sum: Float = 0
                for start in stride(from: 0, to: 12, by: 4) {
                    let batch = Array(order[start ..< start + 4])
                    sum += try model.trainStep(x: xs.samples(at: batch), y: ys.samples(at: batch), optimizer: &adam).loss
                }
                losses.append(sum / 3)
            }
            // The last quarter is held out.
            return (losses, try model.evaluate(x: xs.samples(12 ..< 16), y: ys.samples(12 ..< 16)).accuracy, model)
        }
        let fp32 = try train(.fp32), bf16 = try train(.bf16)
        #expect(bf16.model.precision == .bf16)
        #expect(bf16.losses != fp32.losses, "bf16 training took exactly the float32 steps: the bf16 products did not run")
        #expect(try #require(bf16.losses.last) < bf16.losses[0])
        #expect(bf16.accuracy >= fp32.accuracy)
        #expect(bf16.accuracy == 1)
        #expect(try bf16.model.evaluate(x: xs, y: ys).accuracy == 1)
    }
}

/// Runs on every CPU: what a CPU without AVX512_BF16 says, described rather than present.
@Suite struct BFloat16SupportTests {
    let withoutBF16 = CPUFeatures(name: "Test CPU 3000", hasAVX512BF16: false)

    @Test func bf16OnACPUWithoutAVX512BF16IsRefusedWithTheFix() throws {
        #expect(throws: ModelError("bf16 needs a CPU with AVX512_BF16; this CPU (Test CPU 3000) does not have it: use --precision fp32")) {
            try Precision.bf16.checkSupported(by: withoutBF16)
        }
        let model = try ActionModel(config: ModelConfig(frames: 2, height: 4, width: 4, channels: 1, filters: [2],
                                                        denseUnits: 4, classes: 2))
        #expect(throws: ModelError.self) { try model.setPrecision(.bf16, cpu: withoutBF16) }
        #expect(model.precision == .fp32)
        try model.setPrecision(.fp32, cpu: withoutBF16)
        try Precision.bf16.checkSupported(by: CPUFeatures(name: "Test CPU 4000", hasAVX512BF16: true))
    }

    @Test func cpuinfoGivesTheModelNameAndTheFlag() {
        let text = """
            processor\t: 0
            vendor_id\t: AuthenticAMD
            model name\t: AMD EPYC 9454 48-Core Processor
            flags\t\t: fpu vme avx512f avx512_bf16 avx512vl

            processor\t: 1
            model name\t: AMD EPYC 9454 48-Core Processor
            flags\t\t: fpu vme avx512f avx512_bf16 avx512vl
            """
        #expect(CPUFeatures.parse(cpuinfo: text) == CPUFeatures(name: "AMD EPYC 9454 48-Core Processor", hasAVX512BF16: true, hasAVX512F: true))
        let old = "model name\t: Intel(R) Xeon(R) CPU E5-2680 v4\nflags\t\t: fpu avx2 avx512_bf16x\n"
        #expect(CPUFeatures.parse(cpuinfo: old) == CPUFeatures(name: "Intel(R) Xeon(R) CPU E5-2680 v4", hasAVX512BF16: false))
        #expect(CPUFeatures.parse(cpuinfo: "") == CPUFeatures(name: "unknown", hasAVX512BF16: false))
    }
}

/// `--precision bf16` through the built binary.
@Suite(.enabled(if: CPUFeatures.current.hasAVX512BF16, "bfloat16 products need a CPU with AVX512_BF16"))
struct BFloat16CommandTests {
    /// Keras's float32 probabilities, from bf16 products: close (measured 0.0003 apart),
    /// but farther than float32 gets (2e-5), which shows the bf16 products ran.
    @Test func predictInBF16IsCloseToKerasInference() throws {
        let url = Fixtures.kerasGray
        let result = try ActionLabBinary.run(["predict", "--checkpoint", url.path, "--tensors", url.path, "--json",
                                              "--precision", "bf16"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(CommandTests.PredictOutput.self, from: Data(result.stdout.utf8))
        let expected = try SafeTensorsFile(contentsOf: url).tensor("infer.dense2")
        let error = maxAbsDifference(output.predictions.flatMap(\.probabilities), expected.data)
        #expect(error <= 0.003 && error > 2e-5, "\(error)")
    }

    @Test func trainInBF16SaysSoAndWritesAFloat32Checkpoint() throws {
        let folder = try TemporaryFolder()
        let out = folder.file("model.safetensors")
        let result = try ActionLabBinary.run(["train", "--tensors", Fixtures.kerasGray.path, "--init", Fixtures.kerasGray.path,
                                              "--epochs", "1", "--threads", "1", "--precision", "bf16", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("parameters; OpenBLAS \(BLAS.coreName) x1, bf16 products\n"), "\(result.stderr)")
        let file = try SafeTensorsFile(contentsOf: out)
        #expect(!file.entries.isEmpty && file.entries.values.allSatisfy { $0.dtype == .f32 })
        let bad = try ActionLabBinary.run(["train", "--tensors", Fixtures.kerasGray.path, "--precision", "fp16"])
        #expect(bad.status != 0 && bad.stderr.contains("fp16"), "\(bad.stderr)")
    }

    @Test func benchReportsItsPrecision() throws {
        struct Report: Decodable { let precision: String; let shapes: [String: [String: Double]] }
        let result = try ActionLabBinary.run(["bench", "--shape", "tiny", "--steps", "1", "--threads", "1",
                                              "--precision", "bf16", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        #expect(report.precision == "bf16")
        #expect((report.shapes["tiny"]?["train_seconds_per_step"] ?? 0) > 0)
        let bad = try ActionLabBinary.run(["bench", "--precision", "fp16"])
        #expect(bad.status != 0 && bad.stderr.contains("fp16"), "\(bad.stderr)")
    }
}
