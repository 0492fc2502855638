import ArgumentParser
import DossierCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `--format` of the listing commands (report unassigned, import --dry-run).
enum ListFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}

/// `--format` of the reports: a terminal table, CSV, one JSON document, JSON lines (one object
/// per line), or one self-contained HTML page. An unknown value is an error that lists these
/// (ArgumentParser's allValueStrings, from CaseIterable).
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json, jsonl, html
}

/// `2024-03-05 10:00` (UTC): a date short enough for a table column.
func tableDate(_ date: Date?) -> String {
    guard let date else { return "-" }
    let t = utcFields(date)
    return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2)) \(pad(t.hour, 2)):\(pad(t.minute, 2))"
}

/// `2024-03-05T10:00:00Z`, as `formatDate` and JSON give it. Listings format a date per row, and
/// a Foundation date formatter made per row cost more than the rest of the row.
func isoDate(_ date: Date) -> String {
    let t = utcFields(date)
    return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))T\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2))Z"
}

private func utcFields(_ date: Date) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
    var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
    var parts = tm()
    gmtime_r(&seconds, &parts)
    return (Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
}

private func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

/// `account:ACME, case:K1`, or `-`.
func recordList(_ records: [CRMRecordRef]) -> String {
    records.isEmpty ? "-" : records.map(\.description).joined(separator: ", ")
}

/// One CSV line (RFC 4180, CRLF-free: LF line ends). A cell that a spreadsheet would run as a
/// formula (starting with = + - @ or a tab) gets a leading apostrophe: subjects and names come
/// from mail anyone can send.
func csvLine(_ cells: [String]) -> String {
    cells.map { cell -> String in
        var value = cell
        if let first = value.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first), value != "-" {
            value = "'" + value
        }
        if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }.joined(separator: ",") + "\n"
}

/// One compact JSON object for a streamed listing.
func jsonLine<T: Encodable>(_ value: T) throws -> String {
    String(decoding: try lineEncoder.encode(value), as: UTF8.self)
}

/// Made once: the listings encode a row at a time. Used from the command's own thread only.
private let lineEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(isoDate(date))
    }
    return encoder
}()

/// Terminal columns `text` takes: East Asian wide and full-width characters (and emoji) take two,
/// combining marks and zero-width characters none, the rest one.
func displayWidth(_ text: String) -> Int {
    var width = 0
    for scalar in text.unicodeScalars { width += scalarWidth(scalar) }
    return width
}

private func scalarWidth(_ scalar: Unicode.Scalar) -> Int {
    let value = scalar.value
    if value < 0x300 { return 1 }
    switch scalar.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: return 0
    default: break
    }
    switch value {
    case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
         0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
         0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
        return 2
    default:
        return 1
    }
}

/// The longest prefix of `text` that fits in `width` columns.
private func clip(_ text: String, to width: Int) -> String {
    var result = ""
    var used = 0
    for character in text {
        let w = displayWidth(String(character))
        if used + w > width { break }
        result.append(character)
        used += w
    }
    return result
}

/// A table written as its rows come, in bounded memory: column widths are measured on the first
/// `sample` rows (held back until then), capped per column, and kept for the rest; longer cells
/// are clipped with an ellipsis. `sample: 0` prints every row at once at the caps; `sample: .max`
/// measures every row (a table that is printed at `finish`). Widths are terminal columns (CJK
/// characters take two).
final class StreamingTable {
    private let headers: [String]
    private let caps: [Int]
    private let sample: Int
    private var held: [[String]] = []
    private var widths: [Int]?
    private let output: (String) -> Void

    init(_ columns: [(header: String, cap: Int)], sample: Int = 200, output: @escaping (String) -> Void = { writeOut($0) }) {
        headers = columns.map(\.header)
        caps = columns.map(\.cap)
        self.sample = sample
        self.output = output
        if sample == 0 { start(with: []) }
    }

    func add(_ row: [String]) {
        let cells = row.map { oneLine($0.replacingOccurrences(of: "\n", with: " ")) }
        if widths != nil { return output(line(cells)) }
        held.append(cells)
        if held.count >= sample { start(with: held) }
    }

    /// Prints what is still held back. Call once at the end.
    func finish() {
        if widths == nil { start(with: held) }
    }

    private func start(with rows: [[String]]) {
        var measured = headers.map(displayWidth)
        for row in rows {
            for (index, cell) in row.enumerated() where index < measured.count { measured[index] = max(measured[index], displayWidth(cell)) }
        }
        widths = zip(measured, caps).map { min($0, $1) }
        if sample == 0 { widths = caps }
        output(line(headers))
        for row in rows { output(line(row)) }
        held = []
    }

    private func line(_ cells: [String]) -> String {
        guard let widths else { return "" }
        return cells.enumerated().map { index, cell -> String in
            let width = index < widths.count ? widths[index] : displayWidth(cell)
            let clipped = displayWidth(cell) > width ? clip(cell, to: width - 1) + "…" : cell
            if index == cells.count - 1 { return clipped }
            return clipped + String(repeating: " ", count: max(0, width - displayWidth(clipped)))
        }.joined(separator: "  ") + "\n"
    }
}

/// Writes a JSON array one element at a time, as `produce` hands them over (reports can be long:
/// nothing is collected in memory).
func writeJSONArray<Element: Encodable>(_ produce: (_ emit: (Element) throws -> Void) throws -> Void) throws {
    var first = true
    writeOut("[")
    try produce { element in
        writeOut((first ? "\n" : ",\n") + (try jsonLine(element)))
        first = false
    }
    writeOut(first ? "]\n" : "\n]\n")
}
