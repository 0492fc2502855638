import Foundation

/// One field of a CSV record, with where it starts in the file.
public struct CSVField: Sendable, Equatable {
    /// The value, unquoted (`""` inside quotes is one `"`), otherwise exactly as written.
    public var value: String
    /// 1-based physical line where the field starts (a quoted field may span several lines).
    public var line: Int
    /// 1-based column: the field's position in its record, as a spreadsheet numbers columns.
    public var column: Int
}

/// One CSV record (a row).
public struct CSVRecord: Sendable, Equatable {
    /// 1-based physical line where the record starts.
    public var line: Int
    public var fields: [CSVField]
}

/// A CSV file that is not well-formed, at the field where reading stopped.
public struct CSVError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "\(line):\(column): \(message)" }
}

/// An RFC 4180 reader: UTF-8 (a leading BOM is skipped), comma-separated, fields optionally in
/// double quotes with `""` for a quote and line breaks allowed inside; records end with CRLF, LF
/// or a lone CR; a final line break (or none) is fine.
///
/// We write our own rather than use a CSV package because the positions are part of the CRM
/// directory's contract: every error names the file, line and column, and a record's physical
/// line must stay right after a quoted field that spans several lines.
///
/// Lenient where exports commonly differ and nothing is lost: blank lines are skipped. Strict
/// where a mistake would change data silently: a quote inside an unquoted field, text after a
/// closing quote, an unterminated quote and bytes that are not UTF-8 are errors.
public enum CSVReader {
    /// Reads all records of `bytes`; the first is the header when the caller has one.
    /// - Throws: `CSVError` at the first malformed field.
    public static func records(_ bytes: [UInt8]) throws -> [CSVRecord] {
        try bytes.withUnsafeBufferPointer { buffer in
            var parser = Parser(bytes: buffer)
            return try parser.run()
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var line = 1
        var records: [CSVRecord] = []

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        }

        mutating func run() throws -> [CSVRecord] {
            while index < bytes.count {
                let record = try readRecord()
                // A blank line reads as one empty unquoted field: not a record.
                if record.fields.count == 1 && record.fields[0].value.isEmpty && !record.quotedFirst { continue }
                records.append(CSVRecord(line: record.line, fields: record.fields))
            }
            return records
        }

        /// Reads one record and the line break that ends it.
        mutating func readRecord() throws -> (line: Int, fields: [CSVField], quotedFirst: Bool) {
            let recordLine = line
            var fields: [CSVField] = []
            var quotedFirst = false
            while true {
                let column = fields.count + 1
                let fieldLine = line
                let quoted = index < bytes.count && bytes[index] == UInt8(ascii: "\"")
                if column == 1 { quotedFirst = quoted }
                let decoded = quoted ? Self.utf8(try quotedField(column: column)) : Self.utf8(try plainField(column: column))
                guard let value = decoded else {
                    throw CSVError(line: fieldLine, column: column, message: "not valid UTF-8 (save the file as UTF-8)")
                }
                fields.append(CSVField(value: value, line: fieldLine, column: column))
                if index >= bytes.count { return (recordLine, fields, quotedFirst) }
                switch bytes[index] {
                case UInt8(ascii: ","):
                    index += 1
                case UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                    consumeLineBreak()
                    return (recordLine, fields, quotedFirst)
                default:
                    // Only reachable after a closing quote: `"abc"x`.
                    throw CSVError(line: line, column: column,
                                   message: "malformed quoted field: '\(Character(Unicode.Scalar(bytes[index])))' after the closing quote (a quote inside a quoted field is written \"\")")
                }
            }
        }

        /// The text of valid UTF-8, else nil (an error: silently replacing bytes would alter names
        /// and addresses).
        static func utf8<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
            let text = String(decoding: bytes, as: UTF8.self)
            // Decoding replaces invalid bytes with U+FFFD: a text without one was valid as it
            // stood. Only a cell that really holds U+FFFD needs the slower strict check.
            if !text.unicodeScalars.contains("\u{FFFD}") { return text }
            return String(bytes: Array(bytes), encoding: .utf8)
        }

        mutating func consumeLineBreak() {
            if bytes[index] == UInt8(ascii: "\r") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n") {
                index += 2
            } else {
                index += 1
            }
            line += 1
        }

        mutating func plainField(column: Int) throws -> Slice<UnsafeBufferPointer<UInt8>> {
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                    return bytes[start..<index]
                case UInt8(ascii: "\""):
                    throw CSVError(line: line, column: column,
                                   message: "malformed field: a quote inside an unquoted field (quote the whole field and write the quote as \"\")")
                default:
                    index += 1
                }
            }
            return bytes[start..<index]
        }

        /// A field in quotes; `index` is at the opening quote. Leaves `index` after the closing one.
        mutating func quotedField(column: Int) throws -> [UInt8] {
            let openLine = line
            index += 1
            var value: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\"") {
                        value.append(byte)
                        index += 2
                        continue
                    }
                    index += 1
                    return value
                }
                // Count physical lines inside the field, so later positions stay right.
                if byte == UInt8(ascii: "\n") || (byte == UInt8(ascii: "\r") && !(index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n"))) {
                    line += 1
                }
                value.append(byte)
                index += 1
            }
            throw CSVError(line: openLine, column: column, message: "malformed quoted field: the quote opened here is never closed")
        }
    }
}
