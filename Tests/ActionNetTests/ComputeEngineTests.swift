@testable import ActionNet
import Foundation
import TestSupport
import Testing

// OpenBLAS's thread count belongs to the whole process, and the tests run in parallel in
// one process whose ConvLSTM work is split by that count: so each count is set in a
// process of its own, the built program, whose run summary names it.
@Test(arguments: [1, 3]) func theThreadsOptionSetsOpenBLASsThreadCount(threads: Int) throws {
    let folder = try TemporaryFolder()
    let result = try ActionLabBinary.run(["train", "--tensors", Fixtures.kerasGray.path, "--init", Fixtures.kerasGray.path,
                                          "--epochs", "1", "--threads", "\(threads)",
                                          "--out", folder.file("model.safetensors").path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("parameters; OpenBLAS \(BLAS.coreName) x\(threads)\n"), "\(result.stderr)")
}

@Test func infoNamesOpenBLASsCoreAndItsThreadCount() throws {
    let result = try ActionLabBinary.run(["info"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout == "OpenBLAS core \(BLAS.coreName), \(BLAS.threads) threads\n")
}

/// Only buffers of at least the threshold are mapped, and only those hand their memory
/// back when discarded: they read as zeros afterwards.
@Test func aBufferIsMappedFromItsMappingThresholdOn() {
    let bytes = 4 * MemoryLayout<Float>.stride
    let mapped = FloatBuffer(count: 4, mappingThreshold: bytes)
    let onTheHeap = FloatBuffer(count: 4, mappingThreshold: bytes + 1)
    for buffer in [mapped, onTheHeap] {
        buffer.pointer.update(repeating: 1, count: 4)
        buffer.discard()
    }
    #expect(mapped.array == [0, 0, 0, 0])
    #expect(onTheHeap.array == [1, 1, 1, 1])
}
