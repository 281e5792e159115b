import Foundation

/// Dense optical flow between consecutive frames: for every pixel of frame t, how far
/// (in pixels, x to the right and y down) the picture under it moved since frame t - 1.
///
/// Motion keeps what frame differences lose: its direction. A camera panning left makes
/// the picture move right (+x) everywhere; a tilt up moves it down (+y); a zoom in moves
/// it outwards from the centre; a figure walking right moves +x where the figure is.
/// Codecs store motion vectors only for some streams (none in MJPEG, none between the
/// frames a sampled clip keeps), so ActionLab computes flow from the sampled frames
/// themselves, the same way for every clip whatever its codec.
///
/// The method is pyramidal Lucas-Kanade (Bouguet): from a coarse half-size pyramid to the
/// full frames, each level refines the flow by a few Gauss-Newton steps on the frames'
/// spatial and temporal gradients, averaged over a small window around each pixel. That
/// follows displacements of several pixels at the sampled size, is exact for a uniform
/// shift of a textured picture, and costs O(T H W) with small constants (a 24 x 48 x 48
/// clip takes about a millisecond).
public enum OpticalFlow {
    /// Flow (T, H, W, 2) of gray frames (T, H, W), values (dx, dy) in pixels; frame 0 has
    /// no predecessor and gets zero flow.
    public static func flow(ofGrayFrames frames: UnsafePointer<Float>, count: Int, height: Int, width: Int,
                            into output: UnsafeMutablePointer<Float>) {
        let plane = height * width
        output.update(repeating: 0, count: count * plane * 2)
        guard count > 1, height > 1, width > 1 else { return }
        var previous = Pyramid(frames, height: height, width: width)
        for t in 1..<count {
            let current = Pyramid(frames + t * plane, height: height, width: width)
            let field = pairFlow(from: previous, to: current)
            let out = output + t * plane * 2
            for i in 0..<plane {
                out[2 * i] = field.dx[i]
                out[2 * i + 1] = field.dy[i]
            }
            previous = current
        }
    }

    /// Gray (T, H, W) of frames (T, H, W, C) in [0, 1]: the channel itself, or the mean of RGB.
    public static func gray(_ frames: UnsafePointer<Float>, count: Int, height: Int, width: Int, channels: Int)
        -> [Float] {
        let pixels = count * height * width
        if channels == 1 { return Array(UnsafeBufferPointer(start: frames, count: pixels)) }
        var out = [Float](repeating: 0, count: pixels)
        let scale = 1 / Float(channels)
        for i in 0..<pixels {
            var sum: Float = 0
            for c in 0..<channels { sum += frames[i * channels + c] }
            out[i] = sum * scale
        }
        return out
    }

    // MARK: Lucas-Kanade

    /// Gauss-Newton steps per pyramid level.
    static let iterations = 3
    /// Half-width of the window the gradients are summed over (a 5 x 5 window).
    static let windowRadius = 2
    /// Coarsest level's shorter side: below this a level has too little texture to trust.
    static let coarsestSide = 6

    struct Image {
        var height: Int
        var width: Int
        var pixels: [Float]

        @inline(__always) func at(_ y: Int, _ x: Int) -> Float {
            pixels[min(max(y, 0), height - 1) * width + min(max(x, 0), width - 1)]
        }

        /// Bilinear sample at (y, x), clamped to the border.
        @inline(__always) func sample(_ y: Float, _ x: Float) -> Float {
            let cy = min(max(y, 0), Float(height - 1)), cx = min(max(x, 0), Float(width - 1))
            let y0 = Int(cy), x0 = Int(cx)
            let y1 = min(y0 + 1, height - 1), x1 = min(x0 + 1, width - 1)
            let fy = cy - Float(y0), fx = cx - Float(x0)
            let top = pixels[y0 * width + x0] + (pixels[y0 * width + x1] - pixels[y0 * width + x0]) * fx
            let bottom = pixels[y1 * width + x0] + (pixels[y1 * width + x1] - pixels[y1 * width + x0]) * fx
            return top + (bottom - top) * fy
        }

        /// Half the size, each pixel the mean of a 2 x 2 block (the last row or column repeated).
        func halved() -> Image {
            let h = (height + 1) / 2, w = (width + 1) / 2
            var out = [Float](repeating: 0, count: h * w)
            for y in 0..<h {
                for x in 0..<w {
                    out[y * w + x] = 0.25 * (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1))
                }
            }
            return Image(height: h, width: w, pixels: out)
        }

        /// Lightly smoothed with a 3 x 3 binomial kernel: gradients of compressed video are noisy.
        func smoothed() -> Image {
            var horizontal = [Float](repeating: 0, count: pixels.count)
            for y in 0..<height {
                for x in 0..<width {
                    horizontal[y * width + x] = 0.25 * at(y, x - 1) + 0.5 * at(y, x) + 0.25 * at(y, x + 1)
                }
            }
            let rows = Image(height: height, width: width, pixels: horizontal)
            var out = [Float](repeating: 0, count: pixels.count)
            for y in 0..<height {
                for x in 0..<width {
                    out[y * width + x] = 0.25 * rows.at(y - 1, x) + 0.5 * rows.at(y, x) + 0.25 * rows.at(y + 1, x)
                }
            }
            return Image(height: height, width: width, pixels: out)
        }
    }

    /// A frame at full size and successively halved sizes, finest first.
    struct Pyramid {
        var levels: [Image]

        init(_ frame: UnsafePointer<Float>, height: Int, width: Int) {
            var level = Image(height: height, width: width,
                              pixels: Array(UnsafeBufferPointer(start: frame, count: height * width))).smoothed()
            levels = [level]
            while min(level.height, level.width) / 2 >= OpticalFlow.coarsestSide {
                level = level.halved()
                levels.append(level)
            }
        }
    }

    struct Field {
        var dx: [Float]
        var dy: [Float]
    }

    /// Flow of the finest level from `first` to `second`.
    static func pairFlow(from first: Pyramid, to second: Pyramid) -> Field {
        var field: Field?
        for level in stride(from: first.levels.count - 1, through: 0, by: -1) {
            let a = first.levels[level], b = second.levels[level]
            var guess: Field
            if let coarse = field {
                guess = upsampled(coarse, fromHeight: first.levels[level + 1].height,
                                  width: first.levels[level + 1].width, toHeight: a.height, width: a.width)
            } else {
                guess = Field(dx: [Float](repeating: 0, count: a.pixels.count), dy: [Float](repeating: 0, count: a.pixels.count))
            }
            refine(&guess, from: a, to: b)
            field = guess
        }
        return field!
    }

    /// Doubles a field's size and its vectors (a coarse pixel is two fine ones).
    static func upsampled(_ field: Field, fromHeight h: Int, width w: Int, toHeight height: Int, width: Int) -> Field {
        var out = Field(dx: [Float](repeating: 0, count: height * width), dy: [Float](repeating: 0, count: height * width))
        for y in 0..<height {
            for x in 0..<width {
                let source = min(y / 2, h - 1) * w + min(x / 2, w - 1)
                out.dx[y * width + x] = 2 * field.dx[source]
                out.dy[y * width + x] = 2 * field.dy[source]
            }
        }
        return out
    }

    /// Gauss-Newton steps of Lucas-Kanade on one level, starting from `field`.
    static func refine(_ field: inout Field, from a: Image, to b: Image) {
        let (height, width) = (a.height, a.width)
        let count = height * width
        // Spatial gradients of the first frame (central differences) and the structure
        // tensor summed over the window: fixed for all iterations.
        var gx = [Float](repeating: 0, count: count), gy = [Float](repeating: 0, count: count)
        for y in 0..<height {
            for x in 0..<width {
                gx[y * width + x] = 0.5 * (a.at(y, x + 1) - a.at(y, x - 1))
                gy[y * width + x] = 0.5 * (a.at(y + 1, x) - a.at(y - 1, x))
            }
        }
        var xx = [Float](repeating: 0, count: count), xy = xx, yy = xx
        for i in 0..<count {
            xx[i] = gx[i] * gx[i]
            xy[i] = gx[i] * gy[i]
            yy[i] = gy[i] * gy[i]
        }
        let sxx = boxSum(xx, height: height, width: width), sxy = boxSum(xy, height: height, width: width)
        let syy = boxSum(yy, height: height, width: width)
        var bx = [Float](repeating: 0, count: count), by = bx
        for _ in 0..<iterations {
            // The temporal difference after warping the second frame back by the current flow.
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x
                    let it = b.sample(Float(y) + field.dy[i], Float(x) + field.dx[i]) - a.pixels[i]
                    bx[i] = -gx[i] * it
                    by[i] = -gy[i] * it
                }
            }
            let sbx = boxSum(bx, height: height, width: width), sby = boxSum(by, height: height, width: width)
            for i in 0..<count {
                // Solve [sxx sxy; sxy syy] d = [sbx; sby]; a flat window (no texture) adds
                // nothing, and the small ridge keeps edges (aperture problem) from blowing up.
                let ridge: Float = 1e-4
                let (p, q, r) = (sxx[i] + ridge, sxy[i], syy[i] + ridge)
                let determinant = p * r - q * q
                guard determinant > 1e-9 else { continue }
                let ux = (r * sbx[i] - q * sby[i]) / determinant
                let uy = (p * sby[i] - q * sbx[i]) / determinant
                // One step never moves more than a pixel: larger steps are noise at this level.
                field.dx[i] += min(max(ux, -1), 1)
                field.dy[i] += min(max(uy, -1), 1)
            }
        }
    }

    /// Sums of `values` over the window around each pixel (edges clamped), by running sums.
    static func boxSum(_ values: [Float], height: Int, width: Int) -> [Float] {
        let r = windowRadius
        var rows = [Float](repeating: 0, count: values.count)
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                for k in -r...r { sum += values[y * width + min(max(x + k, 0), width - 1)] }
                rows[y * width + x] = sum
            }
        }
        var out = [Float](repeating: 0, count: values.count)
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                for k in -r...r { sum += rows[min(max(y + k, 0), height - 1) * width + x] }
                out[y * width + x] = sum
            }
        }
        return out
    }
}

extension OpticalFlow {
    /// The motion between consecutive preview frames, drawn as pictures of the same size
    /// and times: hue says which way each pixel moved (red right, yellow-green down, cyan
    /// left, blue-violet up) and brightness how far, relative to the clip's fast motion,
    /// so a user sees what a motion input shows the model.
    public static func motionPictures(of frames: [PreviewFrame]) -> [PreviewFrame] {
        guard let first = frames.first, frames.allSatisfy({ $0.width == first.width && $0.height == first.height })
        else { return frames }
        let (height, width) = (first.height, first.width)
        let plane = height * width
        var gray = [Float](repeating: 0, count: frames.count * plane)
        for (t, frame) in frames.enumerated() {
            for i in 0..<plane {
                let r = Float(frame.rgb[3 * i]), g = Float(frame.rgb[3 * i + 1]), b = Float(frame.rgb[3 * i + 2])
                gray[t * plane + i] = (r + g + b) / (3 * 255)
            }
        }
        var flow = [Float](repeating: 0, count: frames.count * plane * 2)
        gray.withUnsafeBufferPointer { g in
            flow.withUnsafeMutableBufferPointer { f in
                Self.flow(ofGrayFrames: g.baseAddress!, count: frames.count, height: height, width: width, into: f.baseAddress!)
            }
        }
        // Brightness is relative to the clip's fast motion (the 95th percentile of speeds,
        // so a few wild vectors at the borders do not leave the rest dark).
        var speeds = [Float](repeating: 0, count: flow.count / 2)
        for i in speeds.indices {
            let (dx, dy) = (flow[2 * i], flow[2 * i + 1])
            speeds[i] = (dx * dx + dy * dy).squareRoot()
        }
        speeds.sort()
        let fastest = max(speeds.isEmpty ? 0 : speeds[min(speeds.count - 1, speeds.count * 95 / 100)], 1e-3)
        return frames.enumerated().map { t, frame in
            var rgb = [UInt8](repeating: 0, count: plane * 3)
            for i in 0..<plane {
                let dx = flow[(t * plane + i) * 2], dy = flow[(t * plane + i) * 2 + 1]
                let (r, g, b) = color(dx: dx, dy: dy, fastest: fastest)
                (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) = (r, g, b)
            }
            return PreviewFrame(width: width, height: height, rgb: rgb, timestamp: frame.timestamp)
        }
    }

    /// The colour of one motion vector: hue from its direction, value from its length.
    static func color(dx: Float, dy: Float, fastest: Float) -> (UInt8, UInt8, UInt8) {
        let length = (dx * dx + dy * dy).squareRoot()
        let value = min(length / fastest, 1)
        guard value > 0.02 else { return (0, 0, 0) }
        var angle = atan2(Double(dy), Double(dx)) / (2 * .pi)   // -0.5...0.5, 0 = right, 0.25 = down
        if angle < 0 { angle += 1 }
        let sector = angle * 6, index = Int(sector) % 6, f = Float(sector - Double(Int(sector)))
        let (p, q, u) = (Float(0), 1 - f, f)
        let (r, g, b): (Float, Float, Float) = switch index {
        case 0: (1, u, p)
        case 1: (q, 1, p)
        case 2: (p, 1, u)
        case 3: (p, q, 1)
        case 4: (u, p, 1)
        default: (1, p, q)
        }
        func byte(_ x: Float) -> UInt8 { UInt8(min(max(x * value * 255, 0), 255).rounded()) }
        return (byte(r), byte(g), byte(b))
    }
}
