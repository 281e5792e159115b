import Foundation
import GRDB

/// A stored value that does not have the type its column needs. SQLite lets any
/// value into any column, so a database edited with another tool may hold `'abc'`
/// where a time belongs; reading it must report the row, never trap.
/// `ProjectStore.wrapErrors` turns it into `StoreError.badStoredValue` naming the file.
struct BadStoredValue: Error {
    let item: String
    let column: String
    let found: String
    let expected: String
}

extension Row {
    /// The value at `index` as `Value` (an optional for a nullable column), or
    /// `BadStoredValue` naming `item` and `column` when it has another type.
    func stored<Value: DatabaseValueConvertible>(_ index: Int, _ column: String, of item: @autoclosure () -> String,
                                                 as type: Value.Type = Value.self) throws -> Value {
        do {
            return try decode(Value.self, atIndex: index)
        } catch {
            throw BadStoredValue(item: item(), column: column, found: Self.describe(self[index] as DatabaseValue),
                                 expected: Self.expectation(for: Value.self))
        }
    }

    /// Like `stored(_:_:of:)` by column name; a column the query did not select counts as NULL.
    func stored<Value: DatabaseValueConvertible>(_ name: String, _ column: String, of item: @autoclosure () -> String,
                                                 as type: Value.Type = Value.self) throws -> Value {
        guard let index = Array(columnNames).firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
            throw BadStoredValue(item: item(), column: column, found: "nothing", expected: Self.expectation(for: Value.self))
        }
        return try stored(index, column, of: item(), as: type)
    }

    /// A stored value as a message shows it: text quoted, blobs by size.
    static func describe(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "NULL"
        case let .int64(number): return String(number)
        case let .double(number): return String(number)
        case let .string(text): return "'\(text.count > 40 ? text.prefix(40) + "..." : text)'"
        case let .blob(data): return "a \(data.count)-byte BLOB"
        }
    }

    static func expectation(for type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Double?.Type: return "a number"
        case is Int.Type, is Int?.Type, is Int64.Type, is Int64?.Type: return "an integer"
        case is Bool.Type, is Bool?.Type: return "0 or 1"
        case is String.Type, is String?.Type: return "UTF-8 text"
        default: return "a \(type)"
        }
    }
}
