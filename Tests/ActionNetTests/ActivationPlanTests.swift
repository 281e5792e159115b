@testable import ActionNet
import Testing

@Suite struct ActivationPlanTests {
    /// Buffers alive at the same time never share memory, all lie inside the arena, and
    /// the seed stack's plan is smaller than giving every buffer its own memory.
    @Test(arguments: [ModelConfig.seed, Benchmark.Shape.named("tiny")!.config])
    func liveBuffersNeverShareMemory(config: ModelConfig) throws {
        let model = try ActionModel(config: config)
        let plan = ActivationPlan(layers: model.layers, batch: 2)
        let offsets = plan.outputOffsets + plan.gradientOffsets
        #expect(offsets.count == plan.sizes.count && plan.sizes.count == 2 * model.layers.count)
        for i in offsets.indices {
            #expect(offsets[i] % 16 == 0 && offsets[i] + plan.sizes[i] <= plan.size)
            for j in offsets.indices where j > i && plan.lifetimes[i].overlaps(plan.lifetimes[j]) {
                let a = offsets[i] ..< offsets[i] + plan.sizes[i], b = offsets[j] ..< offsets[j] + plan.sizes[j]
                #expect(!a.overlaps(b), "buffers \(i) and \(j) are alive together and share memory")
            }
        }
        #expect(plan.size < plan.sizes.reduce(0, +))
        // Every layer's output outlives its own forward pass, and its gradient is made
        // by the next layer's backward pass before this layer's reads it.
        let n = model.layers.count
        for i in 0..<n {
            #expect(plan.lifetimes[i].lowerBound == i && plan.lifetimes[i].upperBound > i)
            #expect(plan.lifetimes[n + i].upperBound == 2 * n - i)
        }
    }

    @Test func placementIsFirstFitAmongOverlappingLifetimes() {
        // a and b live together, c lives after both: c reuses a's place.
        let offsets = ActivationPlan.place(sizes: [100, 50, 100], lifetimes: [0...1, 1...2, 3...4])
        #expect(offsets == [0, 112, 0])
    }
}
