import Foundation
import Testing
@testable import ActionLabUI

// The keymaps drive the key handler, the help and the hint line; README.md's key tables
// must name exactly their keys.

/// The keys a README table cell names: "↑ ↓ j k, PgUp PgDn", "1-9", "F1-F4", "+ - (or = _)".
/// Words ("or") and brackets are not keys; a comma after a key name separates it.
private func keys(inCell cell: String) throws -> [Key] {
    let named: [String: Key] = [
        "↑": .up, "↓": .down, "←": .left, "→": .right, "PgUp": .pageUp, "PgDn": .pageDown,
        "Home": .home, "End": .end, "Backspace": .backspace, "Del": .delete, "Enter": .enter,
        "Esc": .escape, "Tab": .tab, "Shift-Tab": .backTab, "space": .character(" "),
    ]
    var found: [Key] = []
    for word in cell.split(separator: " ") {
        var token = String(word)
        if token.count > 1, token.hasSuffix(",") { token.removeLast() }
        if token.count > 1 { token = token.trimmingCharacters(in: CharacterSet(charactersIn: "()")) }
        if token == "or" { continue }
        if let key = named[token] {
            found.append(key)
        } else if token.hasPrefix("Ctrl-"), token.count == 6 {
            found.append(.control(Character(token.suffix(1).lowercased())))
        } else if token.range(of: #"^F\d+-F\d+$"#, options: .regularExpression) != nil {
            let bounds = token.split(separator: "-").map { Int($0.dropFirst())! }
            found += (bounds[0]...bounds[1]).map { .function($0) }
        } else if token.range(of: #"^F\d+$"#, options: .regularExpression) != nil {
            found.append(.function(Int(token.dropFirst())!))
        } else if token.range(of: #"^\d-\d$"#, options: .regularExpression) != nil {
            let first = Int(String(token.first!))!, last = Int(String(token.last!))!
            found += (first...last).map { .character(Character(String($0))) }
        } else if token.count == 1 {
            found.append(.character(token.first!))
        } else {
            throw UnknownKeyName(token: token, cell: cell)
        }
    }
    return found
}

private struct UnknownKeyName: Error, CustomStringConvertible {
    let token: String
    let cell: String
    var description: String { "README.md names a key \"\(token)\" (in \"\(cell)\") that the test does not know" }
}

/// README.md's key tables under "## The screens and keys", by the bold title before each
/// ("**Clips (F1)**" gives "Clips").
private func readmeKeyTables() throws -> [String: [Key]] {
    let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("README.md")
    let text = try String(contentsOf: readme, encoding: .utf8)
    guard let start = text.range(of: "## The screens and keys\n") else { return [:] }
    let section = text[start.upperBound...].components(separatedBy: "\n## ").first ?? ""
    var tables: [String: [Key]] = [:]
    var title: String?
    for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("**"), let end = line.dropFirst(2).range(of: "**") {
            let name = line.dropFirst(2)[..<end.lowerBound]
            title = String(name.split(separator: " ").first ?? "")
            continue
        }
        guard let title, line.hasPrefix("|") else { continue }
        let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = cells.first, first != "key", !first.hasPrefix("---") else { continue }
        tables[title, default: []] += try keys(inCell: first)
    }
    return tables
}

@Test func theReadmeKeyTablesNameExactlyTheKeymapsKeys() throws {
    let tables = try readmeKeyTables()
    let keymaps: [String: [KeyBinding]] = Dictionary(uniqueKeysWithValues:
        Screen.allCases.map { ($0.rawValue, Keymap.bindings(for: $0)) } + [("Everywhere", Keymap.everywhere)])
    #expect(Set(tables.keys) == Set(keymaps.keys), "README.md has a key table for each screen and one for every screen")
    for (title, bindings) in keymaps {
        let documented = tables[title] ?? []
        let mapped = bindings.flatMap(\.keys)
        #expect(Set(documented.map(\.name)).sorted() == Set(mapped.map(\.name)).sorted(), "\(title)")
        #expect(documented.count == Set(documented).count, "\(title): README.md names a key twice")
    }
}

@Test func noKeyIsBoundTwiceOnAScreen() {
    for screen in Screen.allCases {
        let keys = (Keymap.everywhere + Keymap.bindings(for: screen)).flatMap(\.keys)
        let repeated = Dictionary(grouping: keys, by: { $0 }).filter { $0.value.count > 1 }.keys
        #expect(repeated.isEmpty, "\(screen): \(repeated.map(\.name)) bound twice")
    }
}

@Test func theHelpListsEveryRowOfTheKeymaps() {
    let state = Sample.state()
    let sections = HelpView.sections(state)
    #expect(sections.map(\.title) == Screen.allCases.map(\.rawValue) + ["Everywhere"])
    for (section, bindings) in zip(sections, Screen.allCases.map(Keymap.bindings(for:)) + [Keymap.everywhere]) {
        let labelled = section.entries.filter { !$0.keys.isEmpty }
        #expect(labelled.map(\.keys) == bindings.map(\.label))
        #expect(labelled.map(\.text) == bindings.map(\.help))
    }
    #expect(sections[0].entries.contains { $0.keys.isEmpty && $0.text == "1 run, 2 walk, 3 jump, 4 wave, 5 spin" })
}

@Test func theHintLineFollowsTheKeymapAndTheState() {
    var clips = Sample.clips(8)
    for i in clips.indices { clips[i].label = i % 2 }
    var state = Sample.state(clips)
    let clipsHints = HintLine.hints(state, width: 99).map(\.keys)
    #expect(clipsHints == ["↑↓", "space", "+-", ",.", "/", "P", "Tab", "?", "q"])
    // A narrow line drops the screen's last hints, never help and quit.
    let narrow = HintLine.hints(state, width: 40).map(\.keys)
    #expect(narrow.suffix(2) == ["?", "q"])
    #expect(narrow.count < clipsHints.count)
    _ = state.update(.key(.function(2)))
    #expect(HintLine.hints(state, width: 99).map(\.keys) == ["t", "c", "e E", "l L", "Tab", "?", "q"])
    _ = state.update(.key(.character("E")))
    #expect(HintLine.hints(state, width: 99).map(\.keys) == ["t", "c", "R", "e E", "l L", "Tab", "?", "q"],
            "an edited preset can be reset")
    _ = state.update(.key(.character("t")))
    #expect(HintLine.hints(state, width: 99).map { "\($0.keys) \($0.text)" }
        == ["p pause", "s stop and save", "Tab screens", "? help", "q quit"])
}

@Test func keyNamesReadAsTheHelpWritesThem() {
    #expect(Key.character(" ").name == "space")
    #expect(Key.control("l").name == "Ctrl-L")
    #expect(Key.backTab.name == "Shift-Tab")
    #expect(Key.function(3).name == "F3")
    #expect(Key.pageDown.name == "PgDn")
}

@Test func ctrlLReachesTheTerminalLoopAsAFullRepaint() {
    let core = AppCore(state: Sample.state(), store: MemoryLabelStore(), decoder: GradientDecoder(), preferencesURL: nil)
    #expect(!core.repaintRequested)
    core.handle(.key(.control("l")))
    #expect(core.repaintRequested)
}
