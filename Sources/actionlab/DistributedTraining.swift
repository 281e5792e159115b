import ActionNet
import Distributed
import Foundation
import Training

/// `actionlab train --distributed`: this process is one rank of an `mpirun` job. Every rank
/// builds the same job from the same arguments and its own copy of the data; the ranks
/// share every batch (`DataParallel`); rank 0 alone records the run, writes checkpoints and
/// the CSV, and prints progress. A failure on any rank stops them all with its message.
extension Train {
    func runDistributed() throws {
        var started: Communicator? = nil
        try reportingErrors { started = try Communicator.start() }
        guard let communicator = started else { return }
        BLAS.setThreads(threads ?? communicator.blasThreads())
        let replica = ReplicaState(communicator: communicator)
        do {
            // One rank per machine brings the project's clip list up to date; the others
            // wait for it instead of scanning the same folder at the same time.
            var job = try makeJob(scan: communicator.localRank == 0)
            communicator.barrier()
            if !communicator.isRoot {
                (job.store, job.output, job.csv) = (nil, nil, nil)
            }
            job.compute = replica.compute
            let root = communicator.isRoot
            let progress = TrainingProgressPrinter(interactive: root && isatty(STDERR_FILENO) == 1)
            if root {
                progress.line("distributed: \(communicator.size) ranks, \(communicator.localSize) on this machine, "
                              + "OpenBLAS threads \(BLAS.threads) each")
            }
            // No Ctrl-C handler: a stop must be agreed by all ranks, and mpirun ends them all
            // on Ctrl-C; the last epoch's checkpoint stays.
            let trainer = Trainer(job: job) { event in if root { progress.show(event) } }
            trainer.start()
            let final = trainer.wait()
            if case .finished? = final, let difference = replica.largestDifferenceFromRoot(), root {
                progress.line("replicas: largest weight difference from rank 0 is \(difference)")
            }
            try report(final, of: job, progress)
        } catch {
            communicator.abort("\(error)")
        }
        communicator.finish()
    }
}

/// This rank's model replica, made data-parallel when the trainer first uses it (the
/// trainer builds or loads the model itself). Touched only on the trainer's queue, and
/// after the trainer has ended.
private final class ReplicaState: @unchecked Sendable {
    let communicator: Communicator
    private var parallel: DataParallel?

    init(communicator: Communicator) { self.communicator = communicator }

    func replica(of model: ActionModel) throws -> DataParallel {
        if let parallel, parallel.model === model { return parallel }
        parallel?.detach()
        let made = DataParallel(model: model, ranks: communicator)
        try made.checkReplicasAgree()
        parallel = made
        return made
    }

    var compute: ModelCompute {
        ModelCompute(
            trainStep: { [self] model, x, y, optimizer in
                let step = try replica(of: model).trainStep(x: x, y: y, optimizer: &optimizer)
                return (step.loss, step.probabilities)
            },
            predict: { [self] model, x, batchSize in try replica(of: model).predict(x, batchSize: batchSize) })
    }

    /// The replicas' largest weight difference from rank 0 (a collective call), or nil when
    /// no step ran.
    func largestDifferenceFromRoot() -> Float? { parallel?.largestDifferenceFromRoot() }
}
