import ActionNet
@testable import ActionLabUI
import Testing

/// Durations read from the database or a clip's header can be any Double: the texts
/// shown for them never convert one beyond Int's range.
@Suite struct DurationTextTests {
    @Test func absurdDurationsShowAsUnknown() {
        for seconds in [1e300, 1e19, -.infinity, .nan, -5] {
            #expect(Formatting.duration(seconds) == "?", "\(seconds)")
            #expect(Formatting.duration(seconds) == "?", "\(seconds)")
        }
        #expect(Formatting.duration(65) == "1:05")
        #expect(Formatting.duration(7500) == "2h05m")
    }
}
