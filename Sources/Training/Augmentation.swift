import ActionNet
import Foundation

/// What a mirror or a time reversal does to labels: every class keeps its label except
/// the pairs listed, which trade places (a clip of `pan_left` mirrored left-right is a
/// `pan_right`). An empty list says every class looks the same mirrored (or reversed).
///
/// A transform without such a statement is never applied: only the project knows
/// whether its classes differ by direction, and a mirrored `swipe_left` kept as
/// `swipe_left` would teach the model the opposite of the truth.
public struct ClassSwaps: Codable, Sendable, Equatable {
    /// Pairs of class names that trade labels.
    public var pairs: [[String]]

    public init(_ pairs: [[String]] = []) { self.pairs = pairs }

    /// Every class keeps its label.
    public static let symmetric = ClassSwaps()

    /// The class index each class becomes, for classes named `classNames`; throws when a
    /// pair is not two distinct classes of the project or a class is in two pairs.
    public func permutation(classNames: [String]) throws(TrainingError) -> [Int] {
        var map = Array(classNames.indices)
        var used = Set<String>()
        for pair in pairs {
            guard pair.count == 2, pair[0] != pair[1] else {
                throw TrainingError("a label swap must name two different classes, got \(pair)")
            }
            for name in pair {
                guard classNames.contains(name) else {
                    throw TrainingError("the label swap \(pair) names '\(name)', which is not a class "
                                        + "(classes: \(classNames.joined(separator: ", ")))")
                }
                guard used.insert(name).inserted else {
                    throw TrainingError("'\(name)' is in two label swaps")
                }
            }
            let a = classNames.firstIndex(of: pair[0])!, b = classNames.firstIndex(of: pair[1])!
            (map[a], map[b]) = (b, a)
        }
        return map
    }
}

/// Random changes to training samples, drawn anew for every sample of every epoch;
/// validation samples are never changed.
///
/// Geometric changes that can turn one class into another (mirrors, time reversal) are
/// off unless the project states what they do to its labels (`ClassSwaps`). The others
/// change how a clip looks, never what happens in it, so they are safe for any label set.
public struct Augmentation: Codable, Sendable, Equatable {
    /// Mirror the clip left-right with probability 1/2, relabelling by the swaps; nil never.
    public var horizontalFlip: ClassSwaps?
    /// Mirror the clip upside down with probability 1/2, relabelling by the swaps; nil never.
    public var verticalFlip: ClassSwaps?
    /// Play the clip backwards with probability 1/2, relabelling by the swaps; nil never.
    public var timeReversal: ClassSwaps?
    /// Cut a random window of 85-100% of the height and width and scale it back up (the
    /// camera a little closer, or off centre).
    public var randomCrop: Bool
    /// Shift the clip in time by up to T/8 frames (at least one), repeating the edge frame.
    public var temporalJitter: Bool
    /// Play the clip 0.8x to 1.25x as fast (nearest frames), about its middle.
    public var speedJitter: Bool
    /// Scale the contrast by 0.75-1.33 about mid-gray and shift brightness by up to 0.1.
    public var brightnessContrast: Bool

    public init(horizontalFlip: ClassSwaps? = nil, verticalFlip: ClassSwaps? = nil, timeReversal: ClassSwaps? = nil,
                randomCrop: Bool = false, temporalJitter: Bool = false, speedJitter: Bool = false,
                brightnessContrast: Bool = false) {
        self.horizontalFlip = horizontalFlip
        self.verticalFlip = verticalFlip
        self.timeReversal = timeReversal
        self.randomCrop = randomCrop
        self.temporalJitter = temporalJitter
        self.speedJitter = speedJitter
        self.brightnessContrast = brightnessContrast
    }

    public static let off = Augmentation()
    public var isOff: Bool { self == .off }

    /// The changes that never alter what happens in a clip: safe whatever the classes.
    public static let labelSafe = Augmentation(randomCrop: true, temporalJitter: true, speedJitter: true,
                                               brightnessContrast: true)

    /// The names of the changes that are on, for settings screens and logs.
    public var enabledNames: [String] {
        var names: [String] = []
        if horizontalFlip != nil { names.append("h-flip") }
        if verticalFlip != nil { names.append("v-flip") }
        if timeReversal != nil { names.append("reverse") }
        if randomCrop { names.append("crop") }
        if temporalJitter { names.append("shift") }
        if speedJitter { names.append("speed") }
        if brightnessContrast { names.append("light") }
        return names
    }

    /// Checks the label swaps against the classes, naming the first problem.
    public func validate(classNames: [String]) throws(TrainingError) {
        for swaps in [horizontalFlip, verticalFlip, timeReversal].compactMap({ $0 }) {
            _ = try swaps.permutation(classNames: classNames)
        }
    }

    enum CodingKeys: String, CodingKey {
        case horizontalFlip = "horizontal_flip", verticalFlip = "vertical_flip", timeReversal = "time_reversal"
        case randomCrop = "random_crop", temporalJitter = "temporal_jitter", speedJitter = "speed_jitter"
        case brightnessContrast = "brightness_contrast"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Runs recorded before label swaps existed stored the mirror as a flag, applied
        // as if every class were symmetric.
        if let flag = try? c.decodeIfPresent(Bool.self, forKey: .horizontalFlip) {
            horizontalFlip = flag ? .symmetric : nil
        } else {
            horizontalFlip = try c.decodeIfPresent(ClassSwaps.self, forKey: .horizontalFlip)
        }
        verticalFlip = try c.decodeIfPresent(ClassSwaps.self, forKey: .verticalFlip)
        timeReversal = try c.decodeIfPresent(ClassSwaps.self, forKey: .timeReversal)
        randomCrop = try c.decodeIfPresent(Bool.self, forKey: .randomCrop) ?? false
        temporalJitter = try c.decodeIfPresent(Bool.self, forKey: .temporalJitter) ?? false
        speedJitter = try c.decodeIfPresent(Bool.self, forKey: .speedJitter) ?? false
        brightnessContrast = try c.decodeIfPresent(Bool.self, forKey: .brightnessContrast) ?? false
    }
}

/// An `Augmentation` resolved against a dataset's classes: the label permutations.
struct ResolvedAugmentation {
    let augmentation: Augmentation
    let horizontalMap: [Int]?
    let verticalMap: [Int]?
    let reversalMap: [Int]?

    /// No changes at all.
    static let off = ResolvedAugmentation()

    private init() {
        augmentation = .off
        (horizontalMap, verticalMap, reversalMap) = (nil, nil, nil)
    }

    init(_ augmentation: Augmentation, classNames: [String]) throws(TrainingError) {
        self.augmentation = augmentation
        horizontalMap = try augmentation.horizontalFlip?.permutation(classNames: classNames)
        verticalMap = try augmentation.verticalFlip?.permutation(classNames: classNames)
        reversalMap = try augmentation.timeReversal?.permutation(classNames: classNames)
    }
}

/// The random changes drawn for one sample of one epoch.
struct AugmentationChoice {
    var flip = false
    var verticalFlip = false
    var reverse = false
    /// The window read, in source pixels: top-left corner and size.
    var cropY = 0, cropX = 0, cropHeight: Int, cropWidth: Int
    /// Source frame of output frame t is t + shift, clamped to the clip.
    var shift = 0
    /// Output frame t shows source time (t - middle) * speed + middle.
    var speed = 1.0
    var contrast: Float = 1, brightness: Float = 0

    init(_ augmentation: Augmentation, shape: [Int], random: inout SeededGenerator) {
        let (T, H, W) = (shape[0], shape[1], shape[2])
        cropHeight = H
        cropWidth = W
        // Draw every choice even when it is off, so turning one on does not change the
        // others; new choices are drawn after the older ones, so recorded runs repeat.
        let flipDraw = random.next() & 1 == 1
        let scale = 0.85 + 0.15 * random.nextUnit()
        let yDraw = random.nextUnit(), xDraw = random.nextUnit()
        let maxShift = max(1, T / 8)
        let shiftDraw = Int(random.next() % UInt64(2 * maxShift + 1)) - maxShift
        let verticalDraw = random.next() & 1 == 1
        let reverseDraw = random.next() & 1 == 1
        let speedDraw = random.nextUnit(), contrastDraw = random.nextUnit(), brightnessDraw = random.nextUnit()
        if augmentation.horizontalFlip != nil { flip = flipDraw }
        if augmentation.verticalFlip != nil { verticalFlip = verticalDraw }
        if augmentation.timeReversal != nil { reverse = reverseDraw }
        if augmentation.randomCrop {
            // H and W are validated sample sides (at most SamplingSettings.maximumSide) and
            // the draws lie in [0, 1): these conversions stay far inside Int.
            cropHeight = max(1, Int((Double(H) * scale).rounded()))
            cropWidth = max(1, Int((Double(W) * scale).rounded()))
            cropY = min(H - cropHeight, Int(yDraw * Double(H - cropHeight + 1)))
            cropX = min(W - cropWidth, Int(xDraw * Double(W - cropWidth + 1)))
        }
        if augmentation.temporalJitter && T > 1 { shift = shiftDraw }
        if augmentation.speedJitter {
            // Log-uniform in [0.8, 1.25]: as likely faster as slower.
            speed = exp(log(0.8) + (log(1.25) - log(0.8)) * speedDraw)
        }
        if augmentation.brightnessContrast {
            contrast = Float(exp(log(0.75) + (log(4.0 / 3) - log(0.75)) * contrastDraw))
            brightness = Float(-0.1 + 0.2 * brightnessDraw)
        }
    }

    /// The class a sample of `classIndex` shows after these changes.
    func classIndex(_ classIndex: Int, _ resolved: ResolvedAugmentation) -> Int {
        var index = classIndex
        if flip, let map = resolved.horizontalMap { index = map[index] }
        if verticalFlip, let map = resolved.verticalMap { index = map[index] }
        if reverse, let map = resolved.reversalMap { index = map[index] }
        return index
    }

    /// The source frame output frame `t` of `count` shows.
    func sourceFrame(_ t: Int, count: Int) -> Int {
        let middle = Double(count - 1) / 2
        let time = (Double(t) - middle) * speed + middle + Double(shift)
        let frame = min(max(Int(time.rounded()), 0), count - 1)
        return reverse ? count - 1 - frame : frame
    }

    /// The bilinear taps that scale the crop window back to `n` pixels: for each output
    /// pixel, the two source pixels and the weight of the second.
    private static func taps(_ n: Int, start: Int, size: Int) -> [(Int, Int, Float)] {
        (0..<n).map { o in
            let s = min(max(Double(start) + (Double(o) + 0.5) * Double(size) / Double(n) - 0.5, Double(start)),
                        Double(start + size - 1))
            let low = Int(s.rounded(.down)), high = min(low + 1, start + size - 1)
            return (low, high, Float(s - Double(low)))
        }
    }

    /// Writes the changed sample (T, H, W, C) to `out`, reading the original through
    /// `value(flatIndex)`. The crop window is scaled back to H x W bilinearly.
    func apply(to out: UnsafeMutablePointer<Float>, shape: [Int], value: (Int) -> Float) {
        let relight = contrast != 1 || brightness != 0
        resample(shape: shape, into: out, sourceFrame: { sourceFrame($0, count: shape[0]) }, value: value) { _, v in
            relight ? min(max((v - 0.5) * contrast + 0.5 + brightness, 0), 1) : v
        }
    }

    /// Writes the optical flow (T, H, W, 2) the changed sample would have, from the
    /// original's flow `flow`: the same crop, mirrors and frame choice, with the vectors
    /// turned and scaled as the picture was. Mirrors negate a component, the crop's zoom
    /// lengthens vectors, speed lengthens them in time, and a reversed clip moves back.
    func applyToMotion(_ flow: UnsafePointer<Float>, shape: [Int], into out: UnsafeMutablePointer<Float>) {
        let (T, H, W) = (shape[0], shape[1], shape[2])
        let time = Float(speed) * (reverse ? -1 : 1)
        let scaleX = Float(W) / Float(cropWidth) * time * (flip ? -1 : 1)
        let scaleY = Float(H) / Float(cropHeight) * time * (verticalFlip ? -1 : 1)
        // Played backwards, frame t's motion is the reverse of the motion into the frame
        // after it in the original.
        let frameOf = { (t: Int) in reverse ? min(sourceFrame(t, count: T) + 1, T - 1) : sourceFrame(t, count: T) }
        resample(shape: [T, H, W, 2], into: out, sourceFrame: frameOf, value: { flow[$0] }) { c, v in
            v * (c == 0 ? scaleX : scaleY)
        }
    }

    /// The crop, mirrors and frame choice, shared by pictures and flow: output (T, H, W, C)
    /// pixel by pixel, each channel `c` bilinear from the source through `value(flatIndex)`
    /// and then `finish(c, v)`.
    private func resample(shape: [Int], into out: UnsafeMutablePointer<Float>, sourceFrame: (Int) -> Int,
                          value: (Int) -> Float, finish: (Int, Float) -> Float) {
        let (T, H, W, C) = (shape[0], shape[1], shape[2], shape[3])
        let rows = Self.taps(H, start: cropY, size: cropHeight)
        let columns = Self.taps(W, start: cropX, size: cropWidth)
        var o = 0
        for t in 0..<T {
            let st = sourceFrame(t)
            for y in 0..<H {
                let (y0, y1, fy) = rows[verticalFlip ? H - 1 - y : y]
                for x in 0..<W {
                    let (x0, x1, fx) = columns[flip ? W - 1 - x : x]
                    for c in 0..<C {
                        func at(_ yy: Int, _ xx: Int) -> Float { value(((st * H + yy) * W + xx) * C + c) }
                        let top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * fx
                        let bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * fx
                        out[o] = finish(c, top + (bottom - top) * fy)
                        o += 1
                    }
                }
            }
        }
    }
}
