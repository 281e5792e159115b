import Foundation

/// What ActionNet asks of the CPU it runs on: its name and whether it has the
/// instructions of the bfloat16 products. A value rather than a global so that a test
/// can describe a CPU other than the one it runs on.
public struct CPUFeatures: Sendable, Equatable {
    /// The model name, e.g. "AMD EPYC 9454" ("unknown" when the system does not say).
    public var name: String
    /// AVX512_BF16: VDPBF16PS (bfloat16 pairs multiplied and added into float32) and
    /// VCVTNE2PS2BF16 (float32 to bfloat16, rounding to nearest even).
    public var hasAVX512BF16: Bool
    /// AVX-512F: the float32 products of ActionNet's own kernel (FMA on 16 lanes).
    public var hasAVX512F: Bool

    public init(name: String, hasAVX512BF16: Bool, hasAVX512F: Bool = false) {
        self.name = name
        self.hasAVX512BF16 = hasAVX512BF16
        self.hasAVX512F = hasAVX512F
    }

    /// This machine's CPU, from /proc/cpuinfo: the kernel lists a feature there only when
    /// the CPU has it and the kernel saves its registers, which is what a program needs.
    public static let current: CPUFeatures = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            return CPUFeatures(name: "unknown", hasAVX512BF16: false)
        }
        return parse(cpuinfo: text)
    }()

    /// The first processor's entry of a /proc/cpuinfo text.
    public static func parse(cpuinfo text: String) -> CPUFeatures {
        var name = "unknown", flags: Set<Substring> = []
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if key == "model name", name == "unknown", !value.isEmpty { name = value }
            if key == "flags", flags.isEmpty { flags = Set(line[line.index(after: colon)...].split(separator: " ")) }
        }
        return CPUFeatures(name: name, hasAVX512BF16: flags.contains("avx512_bf16"), hasAVX512F: flags.contains("avx512f"))
    }
}

extension Precision {
    /// Throws unless `cpu` can compute products in this precision.
    public func checkSupported(by cpu: CPUFeatures) throws(ModelError) {
        if self == .bf16 && !cpu.hasAVX512BF16 {
            throw ModelError("bf16 needs a CPU with AVX512_BF16; this CPU (\(cpu.name)) does not have it: use --precision fp32")
        }
    }
}
