import ActionLabUI
import ArgumentParser
import Foundation
import Training

/// `actionlab [DIR]`: the terminal UI on a project folder.
struct Open: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open the terminal UI on a project folder (the default command).",
        discussion: """
            Lists the folder's clips (scanned in the background), plays the selected one \
            and labels it with one key. Press ? in the program for every key.
            """)

    @Argument(help: "The project folder: any folder of clips.")
    var directory = "sample-data"

    @Option(help: "The training preset the Train screen starts on: quick, seed, tiny (4 frames of 24x24, for trying things out) or project (the project's [sampling] with quick's network).")
    var preset: String?

    @Option(help: "Epochs of a run started in the app (default: the preset's).")
    var epochs: Int?

    func validate() throws {
        if let preset, !["quick", "seed", "tiny", "project"].contains(preset) {
            throw ValidationError("--preset: \(preset) is not one of quick, seed, tiny, project")
        }
        if let epochs, !(1...TrainingSettings.maximumEpochs).contains(epochs) {
            throw ValidationError("--epochs must be from 1 to \(TrainingSettings.maximumEpochs), got \(epochs)")
        }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: directory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(directory): no such folder")
        }
        try ActionLabApp.run(projectFolder: folder, preset: preset, epochs: epochs)
    }
}
