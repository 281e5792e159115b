import Testing
import TestSupport

@Test func helpListsTheCommands() throws {
    let result = try ActionLabBinary.run(["--help"])
    #expect(result.status == 0)
    #expect(result.stdout.contains("info"))
}
