import ActionNet
import Distributed
import Foundation
import TestSupport
import Testing

/// `mpirun` starting the built `actionlab` as several ranks on this machine.
enum MPIRun {
    /// mpirun on PATH, or nil.
    static let path: String? = {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static var isUsable: Bool { Communicator.isAvailable && path != nil }

    /// Runs `mpirun` with `arguments` (after its own options); each rank is the built
    /// `actionlab`. Root may start ranks, and more ranks than cores are allowed.
    struct Output {
        let status: Int32
        let stderr: String
    }

    static func run(_ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        process.arguments = ["--oversubscribe"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging([
            "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            // Containers often forbid the cross-process memory copy Open MPI tries first.
            "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
        ]) { $1 }
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stderr: String(decoding: errData, as: UTF8.self))
    }
}

// The time limit only guards against a hung mpirun; a busy machine may take minutes.
@Suite(.enabled(if: MPIRun.isUsable, "needs Open MPI (libopenmpi-dev, openmpi-bin) at build and run time"),
       .timeLimit(.minutes(10)))
struct MPIRunTests {
    /// Three Adam steps on the Keras fixture's batch of 3 (T=5, 12x12x1, filters 4/3/2),
    /// dropout 0: two ranks take 2 and 1 samples of each batch.
    static func trainArguments(out: URL) -> [String] {
        ["train", "--tensors", Fixtures.kerasGray.path, "--init", Fixtures.kerasGray.path, "--epochs", "3",
         "--batch-size", "3", "--lr", "1e-3", "--dropout", "0", "--validation-split", "0", "--seed", "1",
         "--out", out.path]
    }

    @Test func twoRanksEndWithTheWeightsOfOneProcess() throws {
        let folder = try TemporaryFolder()
        let single = folder.file("one.safetensors"), parallel = folder.file("two.safetensors")
        let one = try ActionLabBinary.run(Self.trainArguments(out: single))
        #expect(one.status == 0, "\(one.stderr)")
        let two = try MPIRun.run(["-np", "2", ActionLabBinary.url.path] + Self.trainArguments(out: parallel) + ["--distributed"])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(two.stderr.contains("distributed: 2 ranks"))
        // Rank 0 alone prints progress.
        #expect(two.stderr.components(separatedBy: "epoch 3/3").count == 2, "\(two.stderr)")
        // Every rank compared its weights with rank 0's after the last step.
        #expect(two.stderr.contains("replicas: largest weight difference from rank 0 is 0.0"), "\(two.stderr)")

        let expected = try Checkpoint.load(single).model, trained = try Checkpoint.load(parallel).model
        var largest: Float = 0
        for entry in expected.parameterLayout {
            largest = max(largest, maxAbsDifference(trained.parameter(entry.name)!.data, expected.parameter(entry.name)!.data))
        }
        #expect(largest <= 1e-4, "largest weight difference between 2 ranks and 1 process: \(largest)")
        let initial = try Checkpoint.load(Fixtures.kerasGray).model
        #expect(maxAbsDifference(initial.flatParameters, expected.flatParameters) > 1e-4, "the weights moved")
    }

    /// Two ranks on one project folder: one run is recorded, by rank 0, with its checkpoints.
    @Test func twoRanksOnAProjectFolderRecordOneRun() throws {
        let folder = try TemporaryFolder()
        let project = folder.file("clips")
        let synth = try ActionLabBinary.run(["synth", project.path, "--per-class", "2", "--frames", "16", "--size", "48"])
        #expect(synth.status == 0, "\(synth.stderr)")
        let labels = try ActionLabBinary.run(["labels", "import", project.path, project.appendingPathComponent("labels.csv").path])
        #expect(labels.status == 0, "\(labels.stderr)")
        let result = try MPIRun.run(["-np", "2", ActionLabBinary.url.path, "train", project.path, "--preset", "quick",
                                     "--epochs", "1", "--batch-size", "3", "--distributed"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "run 1:").count == 2, "\(result.stderr)")
        let runs = project.appendingPathComponent(".actionlab/runs")
        let recorded = try FileManager.default.contentsOfDirectory(atPath: runs.path)
        #expect(recorded == ["1"], "\(recorded)")
        #expect(FileManager.default.fileExists(atPath: runs.appendingPathComponent("1/last.safetensors").path))
        #expect(result.stderr.contains("replicas: largest weight difference from rank 0 is 0.0"), "\(result.stderr)")
    }

    @Test func aFailingRankStopsEveryRankWithItsMessage() throws {
        let folder = try TemporaryFolder()
        let missing = folder.file("only-on-rank-0.safetensors")
        var rank1 = Self.trainArguments(out: folder.file("m.safetensors")) + ["--distributed"]
        rank1[rank1.firstIndex(of: "--tensors")! + 1] = missing.path
        // MPMD: rank 0 gets the fixture, rank 1 a file that does not exist.
        let result = try MPIRun.run(["-np", "1", ActionLabBinary.url.path] + Self.trainArguments(out: folder.file("m.safetensors"))
                                    + ["--distributed", ":", "-np", "1", ActionLabBinary.url.path] + rank1)
        #expect(result.status != 0)
        #expect(result.stderr.contains("rank 1: "), "\(result.stderr)")
        #expect(result.stderr.contains(missing.path), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("m.safetensors").path))
    }
}

/// Only a build without Open MPI runs this: `--distributed` then says how to get it.
@Suite(.enabled(if: !Communicator.isAvailable))
struct WithoutOpenMPITests {
    @Test func distributedSaysItNeedsOpenMPI() throws {
        let result = try ActionLabBinary.run(["train", "--tensors", Fixtures.kerasGray.path, "--distributed"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("distributed training needs Open MPI"))
        #expect(result.stderr.contains(DistributedError.installLine))
    }
}
