import Foundation

/// The temporary files ActionLab writes before renaming them into place (checkpoints,
/// cache entries): `.<final name>.<process id>.<random number>.tmp` beside the final
/// file. A process killed between writing and renaming leaves one behind; nothing else
/// ever removes it, and a checkpoint's is as large as the checkpoint.
public enum StaleTemporaries {
    /// The process that wrote `name`, when `name` follows ActionLab's temporary pattern.
    public static func writer(ofTemporary name: String) -> Int? {
        guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return nil }
        let parts = name.dropFirst().dropLast(4).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, let random = parts.last, !random.isEmpty, random.allSatisfy(\.isASCII),
              UInt32(random) != nil, let processID = Int(parts[parts.count - 2]), processID > 0,
              !parts[..<(parts.count - 2)].joined(separator: ".").isEmpty
        else { return nil }
        return processID
    }

    /// Removes, anywhere under `directory`, temporaries of ActionLab's pattern whose
    /// writing process has ended (a live writer's file is about to be renamed) or that
    /// are more than a day old (their process id may since belong to another program).
    /// Returns the files removed; files it cannot remove are left for the next time.
    @discardableResult
    public static func remove(under directory: URL, now: Date = Date()) -> [URL] {
        guard let entries = FileManager.default.enumerator(
            at: directory, includingPropertiesForKeys: [.isRegularFileKey, .contentModificationDateKey])
        else { return [] }
        var removed: [URL] = []
        for case let url as URL in entries {
            guard let processID = writer(ofTemporary: url.lastPathComponent),
                  let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .contentModificationDateKey]),
                  values.isRegularFile == true
            else { continue }
            let dayOld = values.contentModificationDate.map { now.timeIntervalSince($0) > 24 * 3600 } ?? true
            guard dayOld || !ProjectStore.isProcessAlive(processID) else { continue }
            if (try? FileManager.default.removeItem(at: url)) != nil { removed.append(url) }
        }
        return removed
    }
}
