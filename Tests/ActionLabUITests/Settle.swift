import Foundation
import Testing
@testable import ActionLabUI

/// Applies what background work posts to `core`'s inbox, waking at each post, until
/// `condition` holds. Records an issue when it still does not after `timeout` seconds
/// (generous: the machine may be busy with other tests).
@discardableResult
func settle(_ core: AppCore, timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation,
            until condition: (AppState) -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition(core.state) {
        guard core.inbox.waitForEvents(until: deadline) else {
            Issue.record("the expected state did not arrive within \(timeout) s", sourceLocation: sourceLocation)
            return false
        }
        _ = core.drainInbox()
    }
    return true
}

/// True once the selected clip's preview has been decoded or has failed.
func previewSettled(_ state: AppState) -> Bool {
    switch state.clips.preview {
    case .ready(let request, _), .failed(let request, _): request.clipID == state.clips.selectedClip?.id
    case .none, .loading: false
    }
}
