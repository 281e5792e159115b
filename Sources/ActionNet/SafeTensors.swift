import Foundation

/// A problem with a tensor file: names the file, the tensor when there is one, and what is wrong.
public struct TensorFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let tensor: String?
    public let problem: String

    public init(_ url: URL, tensor: String? = nil, _ problem: String) {
        path = url.path
        self.tensor = tensor
        self.problem = problem
    }

    public var description: String {
        if let tensor { return "\(path): tensor '\(tensor)': \(problem)" }
        return "\(path): \(problem)"
    }
}

/// A safetensors file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data.
///
/// Everything the header claims is checked against the file before any use: sizes,
/// offsets, overlaps and element counts. The file is read whole into memory of its own
/// (not memory-mapped: a file truncated while mapped, e.g. re-saved by a notebook, would
/// crash the reader when it touched the missing pages); a file that shrinks while it is
/// read is an error.
public struct SafeTensorsFile: @unchecked Sendable {
    public enum DType: String, Sendable {
        case f64 = "F64", f32 = "F32", i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"
        var size: Int {
            switch self {
            case .f64, .i64: 8
            case .f32, .i32: 4
            case .i16: 2
            case .i8, .u8, .bool: 1
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        public let dtype: DType
        public let shape: [Int]
        /// Byte range inside the data section.
        public let range: Range<Int>
    }

    public let url: URL
    public let metadata: [String: String]
    public let entries: [String: Entry]
    private let data: Data
    private let dataStart: Int

    /// The largest header accepted (the reference implementation's limit).
    static let maximumHeaderLength = 100_000_000

    public init(contentsOf url: URL) throws(TensorFileError) {
        self.url = url
        let data = try Self.readContents(of: url)
        guard data.count >= 8 else { throw TensorFileError(url, "not a safetensors file: \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = try Self.headerLength(data.prefix(8), fileSize: data.count, url: url)
        let start = 8 + headerLength
        let header = try Self.parseHeader(data.subdata(in: 8 ..< start), dataSize: data.count - start, url: url)
        metadata = header.metadata
        entries = header.entries
        self.data = data
        dataStart = start
    }

    /// The metadata and entries of a file whose data is read later by offset (see
    /// `TensorFileRows`); `dataStart` is where the data section begins in the file.
    struct Header {
        var metadata: [String: String]
        var entries: [String: Entry]
        var dataStart: Int
    }

    /// Reads and checks the header of the open file `descriptor` of `fileSize` bytes,
    /// without reading its data.
    static func readHeader(_ descriptor: Int32, fileSize: Int, url: URL) throws(TensorFileError) -> Header {
        guard fileSize >= 8 else { throw TensorFileError(url, "not a safetensors file: \(fileSize) bytes, shorter than the 8-byte header length") }
        let headerLength = try headerLength(try readExactly(descriptor, count: 8, url: url), fileSize: fileSize, url: url)
        let json = try readExactly(descriptor, count: headerLength, url: url)
        let start = 8 + headerLength
        let parsed = try parseHeader(json, dataSize: fileSize - start, url: url)
        return Header(metadata: parsed.metadata, entries: parsed.entries, dataStart: start)
    }

    /// The header length the first 8 bytes give, checked against the file's size.
    private static func headerLength(_ bytes: Data, fileSize: Int, url: URL) throws(TensorFileError) -> Int {
        let headerLength = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(Self.maximumHeaderLength) else {
            throw TensorFileError(url, "not a safetensors file: header length \(headerLength) is implausible")
        }
        guard headerLength <= UInt64(fileSize - 8) else {
            throw TensorFileError(url, "truncated: the header claims \(headerLength) bytes but only \(fileSize - 8) follow")
        }
        return Int(headerLength)
    }

    /// The metadata and entries of the JSON header `json`, every claim checked against a
    /// data section of `dataSize` bytes.
    private static func parseHeader(_ json: Data, dataSize: Int, url: URL) throws(TensorFileError)
        -> (metadata: [String: String], entries: [String: Entry]) {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: json) }
        catch { throw TensorFileError(url, "not a safetensors file: the header is not JSON") }
        guard let header = object as? [String: Any] else { throw TensorFileError(url, "not a safetensors file: the header is not a JSON object") }
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw TensorFileError(url, "__metadata__ is not an object of strings") }
                for (k, v) in m {
                    guard let s = v as? String else { throw TensorFileError(url, "__metadata__.\(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any], let offsetValues = info["data_offsets"] as? [Any] else {
                throw TensorFileError(url, tensor: name, "header entry needs dtype, shape and data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw TensorFileError(url, tensor: name, "unsupported dtype \(dtypeName)")
            }
            let shape = shapeValues.compactMap { ($0 as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw TensorFileError(url, tensor: name, "shape \(shapeValues) is not a list of non-negative integers")
            }
            let offsets = offsetValues.compactMap { ($0 as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
            guard offsets.count == 2, offsets.count == offsetValues.count, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw TensorFileError(url, tensor: name, "data_offsets \(offsetValues) are not a [begin, end] pair")
            }
            guard offsets[1] <= dataSize else {
                throw TensorFileError(url, tensor: name, "data_offsets \(offsets) run past the end of the data (\(dataSize) bytes): the file is truncated or the header lies")
            }
            var elements = 1
            for d in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw TensorFileError(url, tensor: name, "shape \(shape) is too large") }
                elements = product
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, bytes == offsets[1] - offsets[0] else {
                throw TensorFileError(url, tensor: name, "shape \(Tensor.describe(shape)) of \(dtypeName) needs \(bytes) bytes but data_offsets span \(offsets[1] - offsets[0])")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: offsets[0] ..< offsets[1])
        }
        let sorted = entries.sorted { $0.value.range.lowerBound < $1.value.range.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.value.range.upperBound > b.value.range.lowerBound {
            throw TensorFileError(url, tensor: b.key, "its data overlaps tensor '\(a.key)'")
        }
        return (metadata, entries)
    }

    /// The whole of `url`, which must be a regular file that fits in memory.
    static func readContents(of url: URL) throws(TensorFileError) -> Data {
        let (descriptor, size) = try openRegularFile(url)
        defer { close(descriptor) }
        guard UInt64(size) <= ProcessInfo.processInfo.physicalMemory else {
            throw TensorFileError(url, "the file is \(size) bytes, more than this machine's memory")
        }
        return try readExactly(descriptor, count: size, url: url)
    }

    /// `url` opened for reading, with its size; refuses what is not a regular file.
    static func openRegularFile(_ url: URL) throws(TensorFileError) -> (descriptor: Int32, size: Int) {
        // Non-blocking, so that a named pipe is refused below instead of waited on.
        let descriptor = open(url.path, O_RDONLY | O_NONBLOCK)
        guard descriptor >= 0 else { throw TensorFileError(url, "cannot read: \(String(cString: strerror(errno)))") }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw TensorFileError(url, "cannot read: \(reason)")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw TensorFileError(url, "not a regular file (a folder, named pipe or device)")
        }
        return (descriptor, Int(status.st_size))
    }

    /// `count` bytes from `descriptor`; fewer means the file shrank while it was read.
    static func readExactly(_ descriptor: Int32, count: Int, url: URL) throws(TensorFileError) -> Data {
        var data = Data(count: count)
        let failure: String? = data.withUnsafeMutableBytes { raw -> String? in
            guard let base = raw.baseAddress else { return nil }
            var done = 0
            while done < count {
                let got = read(descriptor, base + done, count - done)
                if got < 0 {
                    if errno == EINTR { continue }
                    return "cannot read: \(String(cString: strerror(errno)))"
                }
                if got == 0 { return "the file shrank while it was read (\(done) of \(count) bytes)" }
                done += got
            }
            return nil
        }
        if let failure { throw TensorFileError(url, failure) }
        return data
    }

    /// Writes `count` elements of `dtype` from `bytes` to `out` as Float32.
    static func convert(_ bytes: UnsafeRawBufferPointer, dtype: DType, count: Int, into out: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f32: UnsafeMutableRawPointer(out).copyMemory(from: bytes.baseAddress!, byteCount: count * 4)
        case .f64: for i in 0..<count { out[i] = Float(bytes.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
        case .i64: for i in 0..<count { out[i] = Float(bytes.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
        case .i32: for i in 0..<count { out[i] = Float(bytes.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
        case .i16: for i in 0..<count { out[i] = Float(bytes.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)) }
        case .i8: for i in 0..<count { out[i] = Float(bytes.load(fromByteOffset: i, as: Int8.self)) }
        case .u8, .bool: for i in 0..<count { out[i] = Float(bytes[i]) }
        }
    }

    public var names: [String] { entries.keys.sorted() }

    public func contains(_ name: String) -> Bool { entries[name] != nil }

    /// The tensor called `name` as Float32 (integer and float64 data are converted).
    public func tensor(_ name: String) throws(TensorFileError) -> Tensor {
        guard let e = entries[name] else { throw TensorFileError(url, tensor: name, "missing") }
        let count = e.shape.reduce(1, *)
        let base = dataStart + e.range.lowerBound
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, n in
            data.withUnsafeBytes { raw in
                Self.convert(UnsafeRawBufferPointer(rebasing: raw[base ..< base + e.range.count]), dtype: e.dtype,
                             count: count, into: buffer.baseAddress!)
            }
            n = count
        }
        return Tensor(shape: e.shape, data: values)
    }

    /// The tensor called `name`, which must be Float32 of `shape`.
    public func tensor(_ name: String, float32Shape shape: [Int]) throws(TensorFileError) -> Tensor {
        guard let e = entries[name] else { throw TensorFileError(url, tensor: name, "missing") }
        guard e.dtype == .f32 else { throw TensorFileError(url, tensor: name, "dtype is \(e.dtype.rawValue), expected F32") }
        guard e.shape == shape else {
            throw TensorFileError(url, tensor: name, "shape is \(Tensor.describe(e.shape)), expected \(Tensor.describe(shape))")
        }
        return try tensor(name)
    }
}

public enum SafeTensors {
    /// Writes Float32 `tensors` and string `metadata` to `url` as safetensors. The file is
    /// written beside its destination under a temporary name and renamed into place, so
    /// a reader never sees half a file.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                             to url: URL) throws(TensorFileError) {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, tensor) in tensors {
            guard header[name] == nil, name != "__metadata__" else { throw TensorFileError(url, tensor: name, "written twice") }
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + 4 * tensor.count]] as [String: Any]
            offset += 4 * tensor.count
        }
        var json: Data
        do { json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) }
        catch { throw TensorFileError(url, "cannot encode the header: \(error)") }
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var length = UInt64(json.count).littleEndian
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(UInt32.random(in: 0 ... .max)).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              let handle = try? FileHandle(forWritingTo: temporary) else {
            throw TensorFileError(url, "cannot create a file in \(directory.path)")
        }
        do {
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: json)
            for (_, tensor) in tensors {
                try tensor.data.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
            throw TensorFileError(url, "cannot write: \((error as NSError).localizedDescription)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw TensorFileError(url, "cannot move the finished file into place: \(reason)")
        }
    }
}
