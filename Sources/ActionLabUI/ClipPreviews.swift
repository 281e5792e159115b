import ClipIO
import Foundation

/// Decodes previews with ClipIO: the clip's frames from the start, scaled to the
/// preview size, up to `maxFrames` (at 25 fps, 300 frames are 12 seconds, which
/// covers the short clips ActionLab is made for; longer ones loop over their start).
public struct ClipPreviews: PreviewDecoder {
    public var maxFrames: Int

    public init(maxFrames: Int = 300) {
        self.maxFrames = maxFrames
    }

    public func previewFrames(of url: URL, width: Int, height: Int) throws -> [PreviewImage] {
        let reader = try ClipReader(url: url)
        return try reader.previewFrames(width: width, height: height, maxFrames: maxFrames).map {
            PreviewImage(width: $0.width, height: $0.height, rgb: $0.rgb, timestamp: $0.timestamp)
        }
    }
}
