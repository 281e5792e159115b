import Foundation

/// Renders synthetic action clips: a stick figure doing one of the five actions over
/// a textured, noisy background. Everything random (position, scale, direction, speed,
/// stride, background, contrast, noise) is drawn from a `SplitMix64` seeded with
/// `seed`, so the same arguments always give the same bytes.
public struct ActionRenderer: Sendable {
    public let action: SyntheticAction
    public let frames: Int
    /// Width and height in pixels.
    public let size: Int
    public let fps: Int
    public let seed: UInt64

    public init(action: SyntheticAction, frames: Int, size: Int, fps: Int = 24, seed: UInt64) {
        precondition(frames > 0 && size >= 8 && fps > 0, "a clip needs frames, a size of at least 8 and a frame rate")
        self.action = action
        self.frames = frames
        self.size = size
        self.fps = fps
        self.seed = seed
    }

    /// The clip's pictures, each (size, size) row-major gray uint8.
    public func render() -> [[UInt8]] {
        var random = SplitMix64(seed: seed)
        let speed = random.uniform(0.8...1.25)
        let motion = ActionMotion(action, speed: speed, random: &random)
        let scene = Scene(size: size, motion: motion, duration: Double(frames) / Double(fps), random: &random)
        return (0..<frames).map { index in
            scene.draw(motion.pose(at: Double(index) / Double(fps)), random: &random)
        }
    }
}

/// Where and how one clip is drawn.
private struct Scene {
    let size: Int
    /// Figure height (1 figure unit) in pixels.
    let scale: Double
    /// Screen row of the ground.
    let groundRow: Double
    /// Screen column of the body at ground position 0.
    let originColumn: Double
    /// Share of the ground motion the camera follows (the background scrolls instead).
    let tracking: Double
    let background: Background
    let figureLevel: Double
    let halfWidth: Double
    let noise: Double

    init(size: Int, motion: ActionMotion, duration: Double, random: inout SplitMix64) {
        self.size = size
        let side = Double(size)
        let groundRow = side * random.uniform(0.8...0.95)
        let headroom = 1.05 + motion.jumpHeight
        scale = min(side * random.uniform(0.35...0.55), (groundRow - 2) / headroom)
        self.groundRow = groundRow
        let centre = side * random.uniform(0.3...0.7)
        // Keep a walker or runner on screen: the camera follows part of the motion.
        let travel = abs(motion.groundSpeed * Trig.cos(motion.yaw)) * duration * scale
        let wanted = random.uniform(0.3...0.8)
        tracking = travel > 0 ? max(wanted, 1 - 0.35 * side / travel) : 0
        let midway = motion.groundSpeed * Trig.cos(motion.yaw) * duration / 2
        originColumn = centre - (1 - tracking) * midway * scale
        background = Background(random: &random)
        let level = background.level
        let contrast = random.uniform(70...110)
        figureLevel = level >= 128 ? max(level - contrast, 8) : min(level + contrast, 247)
        halfWidth = max(0.7, scale * random.uniform(0.022...0.032))
        noise = random.uniform(1.5...6)
    }

    func draw(_ pose: Pose, random: inout SplitMix64) -> [UInt8] {
        let cameraShift = tracking * pose.position.x * scale
        var image = background.render(size: size, shift: cameraShift)
        let skeleton = Skeleton(pose)
        let column = { (p: Point3) in originColumn + (p.x * scale - cameraShift) }
        let row = { (p: Point3) in groundRow - p.y * scale }
        for (a, b) in skeleton.segments {
            drawStick(&image, from: (column(a), row(a)), to: (column(b), row(b)))
        }
        drawDisc(&image, centre: (column(skeleton.head), row(skeleton.head)), radius: Body.headRadius * scale)
        return image.map { value in
            UInt8(max(0, min(255, (value + noise * random.gaussian()).rounded())))
        }
    }

    /// Blends a stick of `halfWidth` with anti-aliased edges into `image`.
    private func drawStick(_ image: inout [Double], from a: (Double, Double), to b: (Double, Double)) {
        let reach = halfWidth + 1
        let columns = Int(max(0, (min(a.0, b.0) - reach).rounded(.down)))...Int(min(Double(size - 1), max(a.0, b.0) + reach))
        let rows = Int(max(0, (min(a.1, b.1) - reach).rounded(.down)))...Int(min(Double(size - 1), max(a.1, b.1) + reach))
        guard columns.lowerBound <= columns.upperBound, rows.lowerBound <= rows.upperBound else { return }
        let dx = b.0 - a.0, dy = b.1 - a.1
        let lengthSquared = max(dx * dx + dy * dy, 1e-12)
        for y in rows {
            for x in columns {
                let px = Double(x) + 0.5 - a.0, py = Double(y) + 0.5 - a.1
                let t = max(0, min(1, (px * dx + py * dy) / lengthSquared))
                let distance = ((px - t * dx) * (px - t * dx) + (py - t * dy) * (py - t * dy)).squareRoot()
                blend(&image, x, y, coverage: halfWidth + 0.5 - distance)
            }
        }
    }

    private func drawDisc(_ image: inout [Double], centre: (Double, Double), radius: Double) {
        let reach = radius + 1
        let columns = Int(max(0, (centre.0 - reach).rounded(.down)))...Int(min(Double(size - 1), centre.0 + reach))
        let rows = Int(max(0, (centre.1 - reach).rounded(.down)))...Int(min(Double(size - 1), centre.1 + reach))
        guard columns.lowerBound <= columns.upperBound, rows.lowerBound <= rows.upperBound else { return }
        for y in rows {
            for x in columns {
                let dx = Double(x) + 0.5 - centre.0, dy = Double(y) + 0.5 - centre.1
                blend(&image, x, y, coverage: radius + 0.5 - (dx * dx + dy * dy).squareRoot())
            }
        }
    }

    private func blend(_ image: inout [Double], _ x: Int, _ y: Int, coverage: Double) {
        let alpha = max(0, min(1, coverage))
        guard alpha > 0 else { return }
        let index = y * size + x
        image[index] += (figureLevel - image[index]) * alpha
    }
}

/// A smooth random texture: a gray level, a gradient and a few sinusoidal ripples.
private struct Background {
    struct Ripple {
        var cyclesAcross: Double, cyclesDown: Double, amplitude: Double, phase: Double
    }

    let level: Double
    let gradient: (Double, Double)
    let ripples: [Ripple]

    init(random: inout SplitMix64) {
        level = random.uniform(50...200)
        gradient = (random.uniform(-20...20), random.uniform(-20...20))
        ripples = (0..<3).map { _ in
            Ripple(cyclesAcross: random.uniform(0.5...4) * random.sign(), cyclesDown: random.uniform(0...3),
                   amplitude: random.uniform(3...12), phase: random.uniform(0...(2 * .pi)))
        }
    }

    /// The background of a `size` x `size` frame, scrolled left by `shift` pixels.
    func render(size: Int, shift: Double) -> [Double] {
        let side = Double(size)
        var image = [Double](repeating: 0, count: size * size)
        for y in 0..<size {
            let v = Double(y) / side
            for x in 0..<size {
                let u = (Double(x) + shift) / side
                var value = level + gradient.0 * (Double(x) / side - 0.5) + gradient.1 * (v - 0.5)
                for ripple in ripples {
                    value += ripple.amplitude * Trig.sin(2 * .pi * (ripple.cyclesAcross * u + ripple.cyclesDown * v) + ripple.phase)
                }
                image[y * size + x] = value
            }
        }
        return image
    }
}
