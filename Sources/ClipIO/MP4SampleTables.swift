import Foundation

/// Reads the sample counts an MP4/MOV file's tables claim, before FFmpeg sees the file.
///
/// FFmpeg's MOV demuxer sizes its frame index from the sample tables (`stsz`, `stz2`,
/// `stts`) as they claim, while opening: a 2 KB file claiming 50 million frames takes over
/// a gigabyte and most of a minute. Every sample takes at least one byte of the file, so a
/// table claiming more samples than the file has bytes is a lie, refused here. Only box
/// headers and the counts are read (`pread`), never whole tables.
enum MP4SampleTables {
    /// Boxes that hold the sample tables, from the top: moov/trak/mdia/minf/stbl.
    private static let containers: Set<String> = ["moov", "trak", "mdia", "minf", "stbl"]
    /// Box types that start an MP4/MOV file; anything else is another container, not checked.
    private static let topLevel: Set<String> = ["ftyp", "moov", "mdat", "free", "skip", "wide", "pnot", "uuid"]

    /// What is wrong with the sample tables of the open file `descriptor` of `fileSize`
    /// bytes, nil when they are plausible or the file is not an MP4/MOV.
    static func problem(descriptor: Int32, fileSize: Int) -> String? {
        guard let first = header(descriptor, at: 0, end: fileSize), topLevel.contains(first.type) else { return nil }
        var largest = 0
        walk(descriptor, range: 0..<fileSize, depth: 0) { type, payload in
            largest = max(largest, sampleCount(descriptor, type: type, payload: payload) ?? 0)
        }
        guard largest > fileSize else { return nil }
        return "its sample tables claim \(largest) frames, more than a file of \(fileSize) bytes can hold"
    }

    private struct BoxHeader {
        let type: String
        /// Where the box's contents start and where the box ends.
        let payload: Range<Int>
    }

    /// Calls `body` with the type and contents of every box in `range`, descending into the
    /// boxes on the way to the sample tables (at most 8 levels).
    private static func walk(_ descriptor: Int32, range: Range<Int>, depth: Int,
                             _ body: (String, Range<Int>) -> Void) {
        guard depth < 8 else { return }
        var offset = range.lowerBound
        var boxes = 0
        while offset < range.upperBound, boxes < 10_000, let box = header(descriptor, at: offset, end: range.upperBound) {
            body(box.type, box.payload)
            if containers.contains(box.type) { walk(descriptor, range: box.payload, depth: depth + 1, body) }
            offset = box.payload.upperBound
            boxes += 1
        }
    }

    /// The box header at `offset`, nil when it does not fit before `end`.
    private static func header(_ descriptor: Int32, at offset: Int, end: Int) -> BoxHeader? {
        guard end - offset >= 8, let bytes = read(descriptor, at: offset, count: 8) else { return nil }
        let size32 = Int(bigEndian(bytes, 0, 4))
        let type = String(decoding: bytes[4..<8], as: UTF8.self)
        var headerSize = 8, size = size32
        if size32 == 1 {
            guard end - offset >= 16, let large = read(descriptor, at: offset + 8, count: 8) else { return nil }
            let claimed = bigEndian(large, 0, 8)
            guard claimed <= UInt64(Int.max) else { return nil }
            size = Int(claimed)
            headerSize = 16
        } else if size32 == 0 {
            size = end - offset   // the box runs to the end of its parent
        }
        guard size >= headerSize, size <= end - offset else { return nil }
        return BoxHeader(type: type, payload: offset + headerSize ..< offset + size)
    }

    /// The samples a sample-table box claims: stsz and stz2 count them, stts adds up runs.
    private static func sampleCount(_ descriptor: Int32, type: String, payload: Range<Int>) -> Int? {
        switch type {
        case "stsz", "stz2":
            // Version and flags, then the sample size (stz2: reserved and field size), then the count.
            guard payload.count >= 12, let bytes = read(descriptor, at: payload.lowerBound + 8, count: 4) else { return nil }
            return Int(bigEndian(bytes, 0, 4))
        case "stts":
            guard payload.count >= 8, let head = read(descriptor, at: payload.lowerBound + 4, count: 4) else { return nil }
            // Only the entries the box has room for: that is all FFmpeg reads.
            let entries = min(Int(bigEndian(head, 0, 4)), (payload.count - 8) / 8)
            guard entries > 0, let table = read(descriptor, at: payload.lowerBound + 8, count: entries * 8) else { return nil }
            var total = 0
            for entry in 0..<entries {
                let (sum, overflow) = total.addingReportingOverflow(Int(bigEndian(table, entry * 8, 4)))
                total = overflow ? Int.max : sum
            }
            return total
        default:
            return nil
        }
    }

    private static func read(_ descriptor: Int32, at offset: Int, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
        return got == count ? bytes : nil
    }

    private static func bigEndian(_ bytes: [UInt8], _ start: Int, _ count: Int) -> UInt64 {
        bytes[start ..< start + count].reduce(0) { $0 << 8 | UInt64($1) }
    }
}
