import Foundation

/// A temporary folder for one test, removed when the value goes away.
final class TemporaryFolder {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("actionnet-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
}

/// Writes a safetensors file from a raw header dictionary and data bytes, so tests can
/// make files that lie.
func writeRawSafeTensors(header: [String: Any], data: Data, to url: URL, headerLength: UInt64? = nil) throws {
    let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    var length = (headerLength ?? UInt64(json.count)).littleEndian
    var bytes = Data(bytes: &length, count: 8)
    bytes.append(json)
    bytes.append(data)
    try bytes.write(to: url)
}
