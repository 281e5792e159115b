import ArgumentParser

@main
struct ActionLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actionlab",
        abstract: "Label human-action video clips and train a ConvLSTM classifier on them.",
        subcommands: [
            Open.self,
            Info.self,
            Labels.self,
            Probe.self,
            Summary.self,
            Predict.self,
            Train.self,
            Eval.self,
            Suggest.self,
            Review.self,
            TrainCurve.self,
            Runs.self,
            Synth.self,
            Cache.self,
            Bench.self,
        ],
        defaultSubcommand: Open.self
    )
}
