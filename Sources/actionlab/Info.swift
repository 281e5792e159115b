import ActionNet
import ArgumentParser

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the compute engine: OpenBLAS core and thread count.")

    func run() throws {
        print("OpenBLAS core \(BLAS.coreName), \(BLAS.threads) threads")
    }
}
