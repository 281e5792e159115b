import COpenBLAS
import Foundation

/// Timings of the network at named shapes, for `actionlab bench` (never for tests).
public enum Benchmark {
    /// A model size and batch to time.
    public struct Shape: Sendable, Equatable {
        public let name: String
        public let config: ModelConfig
        public let batch: Int

        /// tiny (T=8, 32x32, batch 4), small (T=16, 64x64, batch 8), seed (T=60, 192x192,
        /// batch 1); all gray with filters 64/32/16, dense 256, 5 classes, dropout 0.1.
        public static let all: [Shape] = [
            Shape(name: "tiny", config: sized(frames: 8, side: 32), batch: 4),
            Shape(name: "small", config: sized(frames: 16, side: 64), batch: 8),
            Shape(name: "seed", config: .seed, batch: 1),
        ]

        public static func named(_ name: String) -> Shape? { all.first { $0.name == name } }

        static func sized(frames: Int, side: Int) -> ModelConfig {
            var config = ModelConfig.seed
            config.frames = frames
            config.height = side
            config.width = side
            return config
        }
    }

    /// What one shape measured.
    public struct Result: Sendable, Codable, Equatable {
        public var trainSecondsPerStep: Double
        public var inferSecondsPerClip: Double
        public var peakRSSBytes: Int
        public var gflopPerStep: Double
        public var gflops: Double

        enum CodingKeys: String, CodingKey {
            case trainSecondsPerStep = "train_seconds_per_step"
            case inferSecondsPerClip = "infer_seconds_per_clip"
            case peakRSSBytes = "peak_rss_bytes"
            case gflopPerStep = "gflop_per_step"
            case gflops
        }
    }

    /// Floating-point operations of one training step (forward, backward and Adam) of a
    /// `batch` for `config`, counted from the layer shapes as direct convolutions (what
    /// im2col computes; Winograd F(4x4, 3x3) gets the same result with 4x fewer multiplications
    /// in the 3x3 products, so its effective rate can exceed sgemm's): each multiply-add is 2; the
    /// ConvLSTM's first step has no recurrent half; backward costs two products per
    /// forward product (weights and inputs), except the first layer, which needs no
    /// input gradient.
    public static func trainingFLOPs(_ config: ModelConfig, batch: Int) throws -> Double {
        try flops(config, batch: batch, training: true)
    }

    /// Floating-point operations of one inference forward pass.
    public static func inferenceFLOPs(_ config: ModelConfig, batch: Int) throws -> Double {
        try flops(config, batch: batch, training: false)
    }

    static func flops(_ config: ModelConfig, batch: Int, training: Bool) throws -> Double {
        let layers = try ActionModel.buildLayers(spec: config.spec(), seed: 0)
        var total = 0.0
        for (index, layer) in layers.enumerated() {
            let b = Double(batch)
            switch layer {
            case let l as ConvLSTM2D:
                let s = l.inputShape
                let (T, pixels, C, F, k) = (Double(s[0]), Double(s[1] * s[2]), Double(s[3]), Double(l.filters), Double(l.kernelSize))
                let inputPart = 2 * b * pixels * k * k * C * 4 * F * T
                let recurrentPart = 2 * b * pixels * k * k * F * 4 * F * (T - 1)
                let gates = 30 * b * pixels * F * T      // activations and cell update, roughly
                total += inputPart + recurrentPart + gates
                if training {
                    total += inputPart * (index == 0 ? 1 : 2) + recurrentPart * 2 + gates
                }
            case let l as Dense:
                let product = 2 * b * Double(l.inputShape[0] * l.units)
                total += product * (training ? (index == 0 ? 2 : 3) : 1)
            default:
                total += Double(batch * layer.outputSize) * (training ? 10 : 5)
            }
        }
        if training {
            let parameters = layers.reduce(0) { $0 + $1.parameterCount }
            total += 10 * Double(parameters)
        }
        return total
    }

    /// The largest resident set this process has had, in bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024   // kilobytes on Linux
    }

    /// sgemm GFLOP/s of OpenBLAS at the current thread count on an n x n x n product.
    public static func sgemmGFLOPS(size n: Int = 1024, seconds: Double = 1) -> Double {
        let a = [Float](repeating: 0.5, count: n * n), b = a
        var c = [Float](repeating: 0, count: n * n)
        func once() {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n),
                        1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
        }
        once()
        var runs = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        while runs < 3 || elapsed < seconds {
            once()
            runs += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        return 2 * Double(n * n * n) * Double(runs) / elapsed / 1e9
    }

    /// Times `steps` training steps (after one warm-up step; the median is reported)
    /// and inference of the same batch, on random inputs, with the ConvLSTMs' 3x3
    /// products computed by `algorithm`, all products in `precision`.
    public static func run(_ shape: Shape, steps: Int = 3, algorithm: ConvLSTM2D.Algorithm = .winograd,
                           precision: Precision = .fp32, progress: (String) -> Void = { _ in }) throws -> Result {
        let model = try ActionModel(config: shape.config, seed: 1)
        try model.setPrecision(precision)
        for case let layer as ConvLSTM2D in model.layers { layer.algorithm = algorithm }
        var random = SeededGenerator(seed: 2)
        let sample = shape.config.inputShape.reduce(1, *)
        let x = Tensor(shape: [shape.batch] + shape.config.inputShape,
                       data: (0..<(shape.batch * sample)).map { _ in Float(random.nextUnit()) })
        var y = Tensor(shape: [shape.batch, shape.config.classes])
        for b in 0..<shape.batch { y.data[b * shape.config.classes + b % shape.config.classes] = 1 }
        var adam = Adam()
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let warmUp = try seconds { try model.trainStep(x: x, y: y, optimizer: &adam) }
        progress(String(format: "%@: warm-up step %.3f s", shape.name, warmUp))
        var times: [Double] = []
        for step in 1...max(steps, 1) {
            times.append(try seconds { try model.trainStep(x: x, y: y, optimizer: &adam) })
            progress(String(format: "%@: step %d %.3f s", shape.name, step, times.last!))
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        _ = try model.predict(x, batchSize: shape.batch)
        let infer = try seconds { _ = try model.predict(x, batchSize: shape.batch) } / Double(shape.batch)
        let flop = try trainingFLOPs(shape.config, batch: shape.batch)
        return Result(trainSecondsPerStep: median, inferSecondsPerClip: infer, peakRSSBytes: peakResidentBytes(),
                      gflopPerStep: flop / 1e9, gflops: flop / 1e9 / median)
    }
}
