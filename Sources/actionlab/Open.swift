import ActionLabUI
import ArgumentParser
import Foundation

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

    func run() throws {
        let folder = URL(fileURLWithPath: directory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(directory): no such folder")
        }
        try ActionLabApp.run(projectFolder: folder)
    }
}
