import ActionNet
import Foundation

/// How a global batch of B samples is split over the ranks: contiguous runs in rank order,
/// the first B % ranks runs one sample longer (uneven shards, as an odd batch gives).
public enum Shards {
    /// The samples of a global batch of `count` that `rank` of `ranks` computes; empty when
    /// there are fewer samples than ranks.
    public static func range(of count: Int, rank: Int, ranks: Int) -> Range<Int> {
        precondition(ranks > 0 && rank >= 0 && rank < ranks && count >= 0)
        let base = count / ranks, extra = count % ranks
        let start = rank * base + min(rank, extra)
        return start ..< start + base + (rank < extra ? 1 : 0)
    }
}

/// The result of one data-parallel step, the same on every rank.
public struct GlobalStepResult: Sendable {
    /// The global batch's mean loss.
    public let loss: Float
    /// The probabilities of every sample of the global batch (B, classes), in batch order.
    public let probabilities: Tensor
}

/// Data-parallel training with one model replica per rank: every rank holds the same
/// weights and optimizer state and is given the same global batch; it computes the
/// gradients of its shard, the ranks sum them, and every rank applies the same Adam step.
///
/// The result does not depend on how many ranks share a batch:
/// - each rank's loss is normalised by the global batch size, so the summed gradients are
///   the gradient of the global batch's mean loss, uneven shards included;
/// - BatchNormalization uses the statistics of the whole global batch (SyncBatchNorm): the
///   per-channel sums of x and x² are summed over the ranks in the forward pass, Σdy and
///   Σdy·x̂ in the backward pass.
///
/// Every rank must call the same methods in the same order, with the same arguments; each
/// call checks that the arguments agree with rank 0's and throws on the ranks where they
/// don't (a stale copy of the data on one machine, a different seed).
public final class DataParallel: @unchecked Sendable {
    public let model: ActionModel
    public let ranks: any Collectives
    private let reduction: BatchNormReduction

    /// Makes `model` a replica: its BatchNorm layers now reduce their statistics across the
    /// ranks, and its dropout masks come from a stream of this rank's own. The replicas must start equal (the same seed or `--init` checkpoint), which
    /// `checkReplicasAgree` verifies.
    public init(model: ActionModel, ranks: any Collectives) {
        self.model = model
        self.ranks = ranks
        reduction = BatchNormReduction(ranks: ranks)
        let reduction = reduction
        model.setBatchNormReducer { sums in reduction.reduce(sums) }
        // Replicas built from one seed would otherwise draw the same dropout masks for
        // their different samples.
        for case let layer as ConvLSTM2D in model.layers { layer.separateDropoutStream(forReplica: ranks.rank) }
        for case let layer as Dropout in model.layers { layer.separateDropoutStream(forReplica: ranks.rank) }
    }

    /// Detaches the model from the other ranks: its BatchNorm goes back to local statistics.
    public func detach() { model.setBatchNormReducer(nil) }

    /// One training step on the global batch x (B, T, H, W, C) and one-hot y (B, classes),
    /// the same on every rank. Returns the global batch's mean loss and its probabilities,
    /// as `ActionModel.trainStep` on the whole batch in one process would.
    @discardableResult
    public func trainStep(x: Tensor, y: Tensor, optimizer: inout Adam) throws -> GlobalStepResult {
        try model.checkInput(x)
        let batch = x.shape[0], classes = model.classes
        guard batch > 0 else { throw ModelError("the batch is empty") }
        guard y.shape == [batch, classes] else {
            throw ModelError("targets have shape \(y.shapeDescription); expected (\(batch), \(classes))")
        }
        try checkSameInput([x, y], "the training batch")
        let shard = Shards.range(of: batch, rank: ranks.rank, ranks: ranks.size)
        let local: (loss: Float, probabilities: [Float])
        if shard.isEmpty {
            // Fewer samples than ranks (the last batch of an epoch, say): this rank still
            // makes every collective call of a step, on a stand-in sample whose statistics
            // and gradients it does not contribute.
            reduction.contributes = false
            defer { reduction.contributes = true }
            _ = try model.computeGradients(x: x.samples(0 ..< 1), y: y.samples(0 ..< 1), lossNormalizer: batch,
                                           collectStatistics: false)
            model.withGradients { $0.update(repeating: 0) }
            local = (0, [])
        } else {
            let result = try model.computeGradients(x: x.samples(shard), y: y.samples(shard), lossNormalizer: batch,
                                                    collectStatistics: false)
            local = (result.loss, result.probabilities.data)
        }
        model.withGradients { ranks.sumInPlace($0) }
        model.applyGradients(optimizer: &optimizer)
        let loss = ranks.sum([Double(local.loss)])[0]
        let probabilities = ranks.gather(local.probabilities)
        return GlobalStepResult(loss: Float(loss), probabilities: Tensor(shape: [batch, classes], data: probabilities))
    }

    /// Class probabilities (N, classes) for `x` (N, T, H, W, C) in inference mode, each rank
    /// predicting its shard `batchSize` samples at a time; the same on every rank.
    public func predict(_ x: Tensor, batchSize: Int = 8) throws -> Tensor {
        try model.checkInput(x)
        try checkSameInput([x], "the samples to predict")
        let n = x.shape[0], classes = model.classes
        let shard = Shards.range(of: n, rank: ranks.rank, ranks: ranks.size)
        let mine = shard.isEmpty ? [] : try model.predict(x.samples(shard), batchSize: batchSize).data
        return Tensor(shape: [n, classes], data: ranks.gather(mine))
    }

    /// Throws on the ranks whose weights differ from rank 0's (in any bit).
    public func checkReplicasAgree() throws {
        var fingerprint = Fingerprint()
        fingerprint.add(model.flatParameters)
        guard ranks.broadcast(fingerprint.value, from: 0) == fingerprint.value else {
            throw DistributedError("its weights differ from rank 0's; start every rank from the same --seed or --init checkpoint")
        }
    }

    /// The largest difference between any rank's weights and rank 0's: 0 while the replicas
    /// stay identical, as they do when every rank applies the same summed gradients.
    public func largestDifferenceFromRoot() -> Float {
        let mine = model.flatParameters
        var root = mine
        root.withUnsafeMutableBufferPointer { ranks.broadcast($0, from: 0) }
        var largest: Float = 0
        for i in mine.indices { largest = max(largest, abs(mine[i] - root[i])) }
        return ranks.maximum(largest)
    }

    private func checkSameInput(_ tensors: [Tensor], _ what: String) throws {
        var fingerprint = Fingerprint()
        for t in tensors {
            fingerprint.add(t.shape.map { UInt64($0) })
            fingerprint.add(t.data)
        }
        guard ranks.broadcast(fingerprint.value, from: 0) == fingerprint.value else {
            throw DistributedError("\(what) differs from rank 0's: every rank must read the same data "
                                   + "(the same project folder or tensor file) with the same settings")
        }
    }
}

/// Sums BatchNorm's per-channel statistics across the ranks. A rank with no samples in a
/// batch zeroes its own contribution first, so the sums are the global batch's alone.
private final class BatchNormReduction: @unchecked Sendable {
    let ranks: any Collectives
    /// Read and written only by the thread running the replica's step.
    var contributes = true

    init(ranks: any Collectives) { self.ranks = ranks }

    func reduce(_ sums: UnsafeMutableBufferPointer<Double>) {
        if !contributes { sums.update(repeating: 0) }
        ranks.sumInPlace(sums)
    }
}

/// FNV-1a over shapes and the bits of values: a cheap check that the ranks hold the same
/// data, not a cryptographic hash.
struct Fingerprint {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ words: [UInt64]) {
        for w in words { mix(w) }
    }

    mutating func add(_ floats: [Float]) {
        mix(UInt64(floats.count))
        floats.withUnsafeBufferPointer { p in
            var h = value
            for f in p { h = (h ^ UInt64(f.bitPattern)) &* 0x0000_0100_0000_01b3 }
            value = h
        }
    }

    private mutating func mix(_ word: UInt64) {
        value = (value ^ word) &* 0x0000_0100_0000_01b3
    }
}
