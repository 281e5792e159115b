import ActionNet
import Distributed
import Foundation
import TestSupport
import Testing

/// The data-parallel arithmetic with ranks as threads: replicas sharing a global batch end
/// where one process training on the whole batch ends.
@Suite struct DataParallelTests {
    /// The Keras fixture's model (T=5, 12x12x1, filters 4/3/2, dense 16, 5 classes) with
    /// dropout 0, and its batch of 3 samples.
    static func fixture() throws -> (model: ActionModel, x: Tensor, y: Tensor) {
        let checkpoint = try Checkpoint.load(Fixtures.kerasGray)
        try checkpoint.model.setDropout(0, recurrent: 0)
        let file = try SafeTensorsFile(contentsOf: Fixtures.kerasGray)
        return (checkpoint.model, try file.tensor("x"), try file.tensor("y"))
    }

    /// Trains one process on `batches` (sample ranges of the fixture's batch) and returns
    /// its weights and losses.
    static func oneProcess(_ batches: [Range<Int>]) throws -> (weights: [Float], losses: [Float]) {
        let (model, x, y) = try fixture()
        var adam = Adam(learningRate: 1e-3)
        var losses: [Float] = []
        for batch in batches {
            losses.append(try model.trainStep(x: x.samples(batch), y: y.samples(batch), optimizer: &adam).loss)
        }
        return (model.flatParameters, losses)
    }

    struct ReplicaOutcome: Sendable {
        let weights: [Float]
        let losses: [Float]
        let probabilities: [[Float]]
        let largestDifference: Float
    }

    /// Trains `ranks` thread replicas on the same `batches`.
    static func replicas(_ ranks: Int, _ batches: [Range<Int>]) throws -> [ReplicaOutcome] {
        try ThreadGroup(size: ranks).run { rank in
            let (model, x, y) = try fixture()
            let parallel = DataParallel(model: model, ranks: rank)
            try parallel.checkReplicasAgree()
            var adam = Adam(learningRate: 1e-3)
            var losses: [Float] = [], probabilities: [[Float]] = []
            for batch in batches {
                let step = try parallel.trainStep(x: x.samples(batch), y: y.samples(batch), optimizer: &adam)
                losses.append(step.loss)
                probabilities.append(step.probabilities.data)
            }
            return ReplicaOutcome(weights: model.flatParameters, losses: losses, probabilities: probabilities,
                                  largestDifference: parallel.largestDifferenceFromRoot())
        }
    }

    @Test func shardsSplitTheBatchInOrderAndEvenly() {
        for count in 0...9 {
            for ranks in 1...4 {
                let shards = (0..<ranks).map { Shards.range(of: count, rank: $0, ranks: ranks) }
                #expect(shards.first!.lowerBound == 0 && shards.last!.upperBound == count)
                for (a, b) in zip(shards, shards.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
                let sizes = shards.map(\.count)
                #expect(sizes.max()! - sizes.min()! <= 1, "\(count) over \(ranks): \(sizes)")
                #expect(sizes == sizes.sorted(by: >), "longer shards first")
            }
        }
        #expect(Shards.range(of: 3, rank: 0, ranks: 2) == 0..<2)
        #expect(Shards.range(of: 3, rank: 1, ranks: 2) == 2..<3)
    }

    /// Three Adam steps on the odd batch of 3: two ranks take 2 and 1 samples, three ranks
    /// one each. BatchNorm's statistics are the whole batch's only if they are synchronised.
    @Test(arguments: [2, 3]) func replicasEndWhereOneProcessEnds(ranks: Int) throws {
        let batches = Array(repeating: 0..<3, count: 3)
        let reference = try Self.oneProcess(batches)
        let outcomes = try Self.replicas(ranks, batches)
        for (rank, outcome) in outcomes.enumerated() {
            let error = maxAbsDifference(outcome.weights, reference.weights)
            #expect(error <= 1e-5, "rank \(rank) of \(ranks): weights differ by \(error)")
            #expect(isClose(outcome.losses, reference.losses, rtol: 1e-5, atol: 1e-6),
                    "rank \(rank): losses \(outcome.losses) vs \(reference.losses)")
            #expect(outcome.weights == outcomes[0].weights, "rank \(rank) is not identical to rank 0")
            #expect(outcome.largestDifference == 0)
        }
        // The weights moved: a test that compares unchanged weights would prove nothing.
        let (initial, _, _) = try Self.fixture()
        #expect(maxAbsDifference(initial.flatParameters, reference.weights) > 1e-4)
    }

    /// Batches with fewer samples than ranks (an epoch's last batch): the ranks without a
    /// sample still take part in every reduction without adding to it.
    @Test func batchesSmallerThanTheRanksStillMatch() throws {
        let batches = [0..<1, 1..<3, 0..<3, 2..<3]
        let reference = try Self.oneProcess(batches)
        for ranks in [2, 3] {
            let outcomes = try Self.replicas(ranks, batches)
            for outcome in outcomes {
                #expect(maxAbsDifference(outcome.weights, reference.weights) <= 1e-5)
                #expect(isClose(outcome.losses, reference.losses, rtol: 1e-5, atol: 1e-6))
                #expect(outcome.weights == outcomes[0].weights)
            }
        }
    }

    @Test func stepProbabilitiesAndPredictionsComeInBatchOrder() throws {
        let (model, x, y) = try Self.fixture()
        let expected = try model.computeGradients(x: x, y: y).probabilities.data
        let outcomes = try Self.replicas(2, [0..<3])
        for outcome in outcomes { #expect(maxAbsDifference(outcome.probabilities[0], expected) <= 1e-6) }

        // A fresh model: the training pass above moved BatchNorm's moving statistics.
        let inference = try Self.fixture().model.predict(x, batchSize: 2).data
        let predictions = try ThreadGroup(size: 2).run { rank in
            let (replica, x, _) = try Self.fixture()
            return try DataParallel(model: replica, ranks: rank).predict(x, batchSize: 2).data
        }
        for p in predictions { #expect(maxAbsDifference(p, inference) <= 1e-6) }
    }

    /// Replicas share a seed; their masks must still differ, or the samples of one position
    /// in every shard would be dropped alike.
    @Test func replicasDrawTheirOwnDropoutMasks() throws {
        let losses = try ThreadGroup(size: 2).run { rank in
            let (model, x, y) = try Self.fixture()
            try model.setDropout(0.5, recurrent: 0.5)
            DataParallel(model: model, ranks: rank).detach()
            return try model.computeGradients(x: x.samples(0..<1), y: y.samples(0..<1)).loss
        }
        #expect(losses[0] != losses[1])
        let (model, x, y) = try Self.fixture()
        try model.setDropout(0.5, recurrent: 0.5)
        #expect(try model.computeGradients(x: x.samples(0..<1), y: y.samples(0..<1)).loss == losses[0],
                "rank 0 keeps the model's own stream")
    }

    @Test func replicasThatStartApartAreRefusedOnTheOddRank() throws {
        let outcomes = try ThreadGroup(size: 2).run { rank -> String? in
            let config = ModelConfig(frames: 2, height: 8, width: 8, channels: 1, filters: [2, 2, 2], denseUnits: 4, classes: 3)
            let model = try ActionModel(config: config, seed: UInt64(rank.rank))
            do { try DataParallel(model: model, ranks: rank).checkReplicasAgree() } catch { return "\(error)" }
            return nil
        }
        #expect(outcomes[0] == nil)
        #expect(outcomes[1]?.contains("differ from rank 0's") == true)
    }

    @Test func ranksOnOneMachineShareItsCores() {
        #expect(Communicator.blasThreads(cores: 2, localRanks: 2) == 1)
        #expect(Communicator.blasThreads(cores: 8, localRanks: 2) == 4)
        #expect(Communicator.blasThreads(cores: 2, localRanks: 4) == 1)
        #expect(Communicator.blasThreads(cores: 6, localRanks: 1) == 6)
    }
}
