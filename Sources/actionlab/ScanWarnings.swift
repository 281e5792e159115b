import ActionStore
import Foundation
import Training

/// Scans the project folder, telling on standard error about folders the scan could not
/// list: their clips are neither added nor marked missing, which would otherwise go unseen.
@discardableResult
func scanReportingUnlistedFolders(_ store: ProjectStore) throws -> ScanSummary {
    let summary = try ProjectScanner(store: store).scan()
    for (folder, reason) in summary.unlistedFolders.sorted(by: { $0.key < $1.key }) {
        let path = store.layout.root.appendingPathComponent(folder).path
        FileHandle.standardError.write(Data(
            "warning: \(path): cannot be listed (\(reason)); its clips are left as they were\n".utf8))
    }
    return summary
}
