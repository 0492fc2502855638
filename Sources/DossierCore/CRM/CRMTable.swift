import Foundation

/// One CSV file of the CRM directory with its header resolved: columns are found by name (any
/// order, any case), unknown columns are ignored, and every cell keeps its line and column.
struct CRMTable {
    let file: String
    /// Lowercased header name -> 0-based field index.
    let columns: [String: Int]
    /// The records after the header.
    let rows: [CSVRecord]

    /// A file that is absent: no rows.
    static func empty(_ file: String) -> CRMTable { CRMTable(file: file, columns: [:], rows: []) }

    /// The cell of `column` in `row`: nil when the file has no such column; an empty cell at the
    /// record's end when the record is shorter than the header.
    func cell(_ column: String, in row: CSVRecord) -> CSVField? {
        guard let index = columns[column] else { return nil }
        if index < row.fields.count { return row.fields[index] }
        return CSVField(value: "", line: row.fields.last?.line ?? row.line, column: index + 1)
    }

    /// Resolves the header of a parsed file. Problems go to `report`; nil when the rows cannot be
    /// read at all (a required column is missing).
    static func resolve(file: String, records: [CSVRecord], required: [String],
                        report: (CRMDiagnostic) -> Void) -> CRMTable? {
        guard let header = records.first else {
            report(CRMDiagnostic(file: file, line: 1, column: 0,
                                 message: "no header row (expected columns \(required.joined(separator: ", ")), ...)"))
            return nil
        }
        var columns: [String: Int] = [:]
        for field in header.fields {
            let name = CRMValues.trimmed(field.value).lowercased()
            if name.isEmpty { continue }
            if let first = columns[name] {
                report(CRMDiagnostic(file: file, line: field.line, column: field.column,
                                     message: "column '\(name)' appears twice in the header (also column \(first + 1))"))
                continue
            }
            columns[name] = field.column - 1
        }
        var usable = true
        for name in required where columns[name] == nil {
            report(CRMDiagnostic(file: file, line: header.line, column: 0, message: "missing required column '\(name)'"))
            usable = false
        }
        let rows = Array(records.dropFirst())
        // A value beyond the header's last column belongs to no column: most likely a stray comma
        // or a broken quote upstream, which would shift every later value. Empty trailing cells
        // (spreadsheets write them) are harmless.
        for row in rows {
            for field in row.fields.dropFirst(header.fields.count) where !CRMValues.trimmed(field.value).isEmpty {
                report(CRMDiagnostic(file: file, line: field.line, column: field.column,
                                     message: "a value beyond the header's \(header.fields.count) columns (a stray comma, or a value that needs quotes?)"))
                break
            }
        }
        return usable ? CRMTable(file: file, columns: columns, rows: rows) : nil
    }
}
