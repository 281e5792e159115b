import ActionNet
import ArgumentParser
import Foundation

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the compute engine: OpenBLAS core and thread count.")

    func run() throws {
        print("OpenBLAS core \(BLAS.coreName), \(BLAS.threads) threads")
        if let note = BLAS.coreTypeNote { FileHandle.standardError.write(Data((note + "\n").utf8)) }
    }
}
