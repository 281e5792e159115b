import Foundation

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
