import ActionStore
import Foundation

extension ClipRow {
    /// The list row for a clip of the project database.
    public init(_ record: ClipRecord, layout: ProjectLayout) {
        self.init(id: record.id, path: record.path,
                  url: layout.root.appendingPathComponent(record.path),
                  duration: record.probe?.duration, fps: record.probe?.fps,
                  frameCount: record.probe?.frameCount, width: record.probe?.width,
                  height: record.probe?.height, codec: record.probe?.codec,
                  label: record.label?.classIndex,
                  unreadableReason: record.unreadableReason, isMissing: record.isMissing,
                  isProbed: record.probe != nil || record.unreadableReason != nil)
    }
}

/// The project database as the app's label store.
public final class ProjectLabelStore: LabelStore {
    private let store: ProjectStore

    public init(_ store: ProjectStore) {
        self.store = store
    }

    public func setLabel(clipID: ClipID, classIndex: Int, watchedSeconds: Double, acceptedFrom: String?) throws {
        try store.setLabel(clipID: clipID, classIndex: classIndex, watchedSeconds: watchedSeconds, acceptedFrom: acceptedFrom)
    }

    public func clearLabel(clipID: ClipID) throws {
        try store.clearLabel(clipID: clipID)
    }

    public func undoLastChange() throws -> (clipID: ClipID, classIndex: Int?)? {
        guard let change = try store.undo() else { return nil }
        let restored = change.newClass.flatMap { name in store.classes.first { $0.name == name }?.index }
        return (change.clipID, restored)
    }
}
