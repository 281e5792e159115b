import Foundation

/// The machine's physical memory, for warning when a run's estimate needs more.
public enum MachineMemory {
    /// Bytes of physical memory from the text of /proc/meminfo ("MemTotal: 24000000 kB"),
    /// or nil when it has no such line.
    public static func physicalBytes(meminfo: String) -> Int? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let value = Int(fields[1]), value > 0, value < Int.max / 1024 else { return nil }
            let unit = fields.count >= 3 ? fields[2].lowercased() : "kb"
            return unit == "kb" ? value * 1024 : value
        }
        return nil
    }

    /// This machine's physical memory, or nil where /proc/meminfo cannot be read.
    public static func physicalBytes(meminfoPath: String = "/proc/meminfo") -> Int? {
        guard let text = try? String(contentsOfFile: meminfoPath, encoding: .utf8) else { return nil }
        return physicalBytes(meminfo: text)
    }
}
