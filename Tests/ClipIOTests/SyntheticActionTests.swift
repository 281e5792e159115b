@testable import ClipIO
import Foundation
import Testing
import TestSupport

@Suite struct SyntheticActionTests {
    @Test func splitMix64MatchesTheReferenceSequence() {
        // The first outputs of Vigna's splitmix64.c for seed 0.
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(generator.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func theSameSeedRendersTheSameBytes() {
        for action in SyntheticAction.allCases {
            let first = ActionRenderer(action: action, frames: 6, size: 32, seed: 42).render()
            let again = ActionRenderer(action: action, frames: 6, size: 32, seed: 42).render()
            let other = ActionRenderer(action: action, frames: 6, size: 32, seed: 43).render()
            #expect(first == again)
            #expect(first != other)
            #expect(first.count == 6 && first.allSatisfy { $0.count == 32 * 32 })
        }
        let set = SyntheticActionSet(perClass: 3, frames: 4, size: 16, seed: 9)
        let seeds = SyntheticAction.allCases.flatMap { action in (0..<3).map { set.clipSeed(action, index: $0) } }
        #expect(Set(seeds).count == seeds.count)
    }

    @Test func framesMoveAndShowAFigure() {
        for action in SyntheticAction.allCases {
            let frames = ActionRenderer(action: action, frames: 12, size: 48, seed: 5).render()
            // Consecutive frames differ by more than the noise: the figure moves.
            let changes = zip(frames, frames.dropFirst()).map { a, b in
                zip(a, b).filter { abs(Int($0) - Int($1)) > 40 }.count
            }
            #expect(changes.reduce(0, +) > 20, "\(action) barely moves")
        }
    }

    /// Poses of `count` random clips of `action` over two seconds, 24 per second.
    func skeletons(_ action: SyntheticAction, clips count: Int = 20) -> [[Skeleton]] {
        (0..<count).map { clip in
            var random = SplitMix64(seed: UInt64(clip) * 7919 + 1)
            let motion = ActionMotion(action, speed: random.uniform(0.8...1.25), random: &random)
            return (0..<48).map { Skeleton(motion.pose(at: Double($0) / 24)) }
        }
    }

    func range(_ values: [Double]) -> Double { values.max()! - values.min()! }

    @Test func runsAreFasterWithLongerStridesThanWalks() {
        func groundSpeeds(_ action: SyntheticAction) -> [Double] {
            var random = SplitMix64(seed: 77)
            return (0..<50).map { _ in
                ActionMotion(action, speed: random.uniform(0.8...1.25), random: &random).groundSpeed
            }
        }
        #expect(groundSpeeds(.run).min()! > groundSpeeds(.walk).max()!)
        func strideLengths(_ action: SyntheticAction) -> [Double] {
            skeletons(action).map { clip in clip.map { abs($0.leftFoot.x - $0.rightFoot.x) }.max()! }
        }
        #expect(strideLengths(.run).min()! > strideLengths(.walk).max()!)
    }

    @Test func onlyJumpsLeaveTheGroundHigh() {
        for clip in skeletons(.jump) {
            #expect(range(clip.map(\.hip.y)) > 0.15)
            #expect(clip.map { min($0.leftFoot.y, $0.rightFoot.y) }.max()! > 0.1)
        }
        for action in [SyntheticAction.walk, .wave, .spin] {
            for clip in skeletons(action) {
                #expect(clip.map { min($0.leftFoot.y, $0.rightFoot.y) }.max()! < 1e-9, "\(action) jumps")
            }
        }
    }

    @Test func wavesMoveOneHandWhileStandingStill() {
        for clip in skeletons(.wave) {
            let left = range(clip.map(\.leftHand.x)) + range(clip.map(\.leftHand.y)) + range(clip.map(\.leftHand.z))
            let right = range(clip.map(\.rightHand.x)) + range(clip.map(\.rightHand.y)) + range(clip.map(\.rightHand.z))
            #expect(max(left, right) > 0.1)
            #expect(min(left, right) < 0.05)
            #expect(range(clip.map(\.hip.x)) < 0.01 && range(clip.map(\.leftFoot.y)) < 0.01)
        }
    }

    @Test func spinsTurnAroundOnTheSpot() {
        for clip in skeletons(.spin) {
            // The shoulders' on-screen width (x) swings through zero as the body turns.
            let width = clip.map { $0.leftShoulder.x - $0.rightShoulder.x }
            #expect(width.min()! < 0 && width.max()! > 0)
            #expect(range(clip.map(\.hip.x)) < 0.01)
        }
        for action in [SyntheticAction.walk, .run] {
            for clip in skeletons(action) {
                let width = clip.map { $0.leftShoulder.x - $0.rightShoulder.x }
                #expect(width.min()! * width.max()! >= 0, "\(action) turns")
            }
        }
    }

    @Test func writesAProjectFolderThatReadsBack() throws {
        let folder = try TemporaryFolder()
        let set = SyntheticActionSet(perClass: 2, frames: 12, size: 32, seed: 3)
        let summary = try set.write(to: folder.url)
        #expect(summary.codecName == "libx264")
        #expect(summary.clips.count == 10)
        let csv = try String(contentsOf: folder.file("labels.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("path,label\nrun/run-000.mp4,run\nrun/run-001.mp4,run\nwalk/walk-000.mp4,walk\n"))
        #expect(csv.split(separator: "\n").count == 11)
        let toml = try String(contentsOf: folder.file("actionlab.toml"), encoding: .utf8)
        #expect(toml.contains("classes = [\"run\", \"walk\", \"jump\", \"wave\", \"spin\"]\n"))
        // The file is a project's: it parses, and its recipe mirrors (every class is
        // symmetric) and shows frame differences.
        #expect(toml.contains("[training]\n") && toml.contains("horizontal_flip = true\n")
                && toml.contains("input = \"frame_differences\"\n"))
        let reader = try ClipReader(url: folder.file("wave/wave-001.mp4"))
        #expect(reader.metadata.frameCount == 12 && reader.metadata.width == 32 && reader.metadata.fps == 24)
        let decoded = try reader.sampledFrames(SamplingSettings(frames: 12, height: 32, width: 32, channels: 1))
        let rendered = set.renderer(.wave, index: 1).render()
        let difference = zip(decoded.pixels, rendered.joined()).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        #expect(Double(difference) / Double(decoded.pixels.count) < 8)
    }

    @Test func synthCommandWritesTheFolder() throws {
        let folder = try TemporaryFolder()
        let result = try ActionLabBinary.run(["synth", "out", "--per-class", "1", "--frames", "6", "--size", "16",
                                              "--seed", "4"], currentDirectory: folder.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("wrote 5 clips (libx264"))
        for action in SyntheticAction.allCases {
            #expect(FileManager.default.fileExists(atPath: folder.file("out/\(action)/\(action)-000.mp4").path))
        }
        let odd = try ActionLabBinary.run(["synth", "out", "--size", "15"], currentDirectory: folder.url)
        #expect(odd.status != 0 && odd.stderr.contains("--size must be even"))
    }
}

@Test func trigMatchesTheCLibrary() {
    for step in -2000...2000 {
        let x = Double(step) * 0.0173
        #expect(abs(Trig.sin(x) - sin(x)) < 1e-12 && abs(Trig.cos(x) - cos(x)) < 1e-12, "at \(x)")
    }
}
