import ArgumentParser
import DossierCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Options every archive command takes.
struct ArchiveOptions: ParsableArguments {
    @Option(name: .long, help: "The archive directory.")
    var archive: String = "./archive"
}

/// The documented exit codes (see `dossier --help`).
enum Exit {
    static let failed = ExitCode(1)
    static let badInput = ExitCode(2)
    static let badArchive = ExitCode(3)
    static let interrupted = ExitCode(4)
    /// `dossier verify` found problems (after `--repair`: problems remain).
    static let problemsFound = ExitCode(5)
    /// Another run is writing to the archive (its writer lock is held).
    static let busy = ExitCode(6)
    /// The import completed, and quarantined something (a drop file, or a message inside one).
    static let quarantined = ExitCode(7)
}

/// Runs a command body; known errors become one line on stderr and a documented exit code,
/// never a stack trace.
func guarded<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as ArchiveBusy {
        fail(error.description, Exit.busy)
    } catch let error as SourceError {
        fail(error.description, Exit.badInput)
    } catch let error as StoreError {
        switch error {
        case .noSuchMessage, .ambiguousKey: fail(error.description, Exit.badInput)
        case .notAnArchive: fail(error.description, Exit.badArchive)
        default: fail(error.description, Exit.failed)
        }
    } catch let error as DateWindow.WindowError {
        fail(error.description, Exit.badInput)
    } catch let error as SearchQueryError {
        fail("bad query: \(error.description)", Exit.badInput)
    } catch let error as MessageContentError {
        fail(error.description, Exit.badInput)
    } catch let error as FilingError {
        fail(error.description, Exit.badInput)
    } catch let error as CRMSnapshotError {
        fail(error.description, Exit.badArchive)
    } catch {
        fail("\(error)", Exit.failed)
    }
}

func fail(_ message: String, _ code: ExitCode) -> Never {
    FileHandle.standardError.write(Data("dossier: \(oneLine(message))\n".utf8))
    Foundation.exit(code.rawValue)
}

/// `text` made safe for one line of a terminal: errors often quote what the user or a message
/// supplied (a part number, a path, a key), which can hold line breaks or escape sequences.
/// Control characters become their escaped spelling (`\n`, `\u{1B}`), so the error stays one line
/// and cannot drive the terminal.
func oneLine(_ text: String) -> String { escapingControls(text, keepLineBreaks: false) }

/// Text from a message for a terminal: line breaks (LF, CR) and tabs kept, every other control character
/// (escape sequences that could rewrite the screen or the window title, bidi overrides that
/// disguise a file name) spelled out as `\u{..}`.
func displayText(_ text: String) -> String { escapingControls(text, keepLineBreaks: true) }

private func escapingControls(_ text: String, keepLineBreaks: Bool) -> String {
    if !text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) || $0.value == 0x2028
        || $0.value == 0x2029 || (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) }) {
        return text
    }
    var result = ""
    for scalar in text.unicodeScalars {
        if keepLineBreaks && (scalar.value == 0x0A || scalar.value == 0x09 || scalar.value == 0x0D) {
            result.unicodeScalars.append(scalar)
            continue
        }
        switch scalar.value {
        case 0x0A: result += "\\n"
        case 0x0D: result += "\\r"
        case 0x09: result += "\\t"
        case 0..<0x20, 0x7F, 0x80..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
            result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result
}

/// Opens the archive for a command that writes (refused with a clear error when it cannot be written).
func openArchive(_ options: ArchiveOptions, create: Bool = false) throws -> Archive {
    try Archive.open(at: options.archive, create: create)
}

/// Opens the archive for a command that only reads: read-only, so it works on read-only media and
/// changes nothing (see `Archive.Access.readOnly`).
func openArchiveForReading(_ options: ArchiveOptions) throws -> Archive {
    try Archive.open(at: options.archive, create: false, access: .readOnly)
}

/// Writes to stdout without Swift's print buffering surprises for binary data.
func writeOut(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(1, raw.baseAddress! + offset, raw.count - offset)
            if n <= 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}

func writeOut(_ text: String) { writeOut(Array(text.utf8)) }

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    writeOut(Array(try encoder.encode(value)) + [10])
}

var stderrIsTerminal: Bool { isatty(2) == 1 }

/// Fixed-width table output for terminals.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []
    var maxWidths: [Int?]

    init(_ headers: [String], maxWidths: [Int?]? = nil) {
        self.headers = headers
        self.maxWidths = maxWidths ?? headers.map { _ in nil }
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = headers.map(\.count)
        let clipped = rows.map { row in
            row.enumerated().map { index, cell -> String in
                let flat = oneLine(cell.replacingOccurrences(of: "\n", with: " "))
                if let limit = maxWidths[index], flat.count > limit { return String(flat.prefix(limit - 1)) + "…" }
                return flat
            }
        }
        for row in clipped { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(headers)] + clipped.map(line)).joined(separator: "\n") + "\n"
    }
}

func formatDate(_ date: Date?) -> String {
    guard let date else { return "-" }
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: date)
}
