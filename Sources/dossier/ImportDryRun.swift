import ArgumentParser
import DossierCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `dossier import --dry-run`: the preview table (or CSV, JSON) and the ledger, nothing written.
extension Import {
    func runDryRun() throws {
        let format: ListFormat = format ?? (json ? .json : .table)
        let output = DryRunOutput(format: format, quiet: quiet)
        let ledger = try guarded { () -> RunLedger in
            var options = try importOptions()
            try SourcePlanner.checkPaths(paths)
            let exists = FileManager.default.fileExists(atPath: archiveOptions.archive + "/" + Archive.databaseName)
            if let crm {
                options.directory = loadDirectory(crm)
            } else if !exists {
                note("there is no archive at \(archiveOptions.archive) and no --crm DIR: mail is filed against an empty CRM directory (all external mail unassigned)")
            }
            let cancellation = CancellationFlag()
            let interrupt = InterruptHandler { cancellation.cancel() }
            defer { interrupt.restore() }
            // Rows on a terminal are the progress; a bar would interleave with them.
            let bar = (!quiet && stderrIsTerminal && isatty(1) != 1) ? ProgressBar() : nil
            output.start()
            let ledger = try Importer.dryRun(archiveAt: archiveOptions.archive, options: options, cancellation: cancellation,
                                             progress: { bar?.update($0) }, preview: { output.add($0) })
            bar?.finish()
            return ledger
        }
        try output.finish(ledger)
        switch ledger.status {
        case "failed": fail(ledger.error ?? "import failed", Exit.failed)
        case "interrupted":
            FileHandle.standardError.write(Data("dossier: interrupted; the preview is incomplete\n".utf8))
            throw Exit.interrupted
        default: break
        }
    }

    /// The folder given with --crm, checked whole like `crm load` does, never stored.
    private func loadDirectory(_ folder: String) -> CRMDirectory {
        let url = URL(fileURLWithPath: folder)
        guard FileManager.default.fileExists(atPath: url.path) else { fail("\(folder): no such file or directory", Exit.badInput) }
        do {
            let (directory, warnings) = try CRMDirectoryLoader.load(from: url)
            for warning in warnings {
                var located = warning
                located.message = "warning: " + warning.message
                FileHandle.standardError.write(Data((crmLocation(located, in: folder) + "\n").utf8))
            }
            return directory
        } catch let error as CRMLoadError {
            for diagnostic in error.errors {
                FileHandle.standardError.write(Data((crmLocation(diagnostic, in: folder) + "\n").utf8))
            }
            fail("\(error.errors.count) error\(error.errors.count == 1 ? "" : "s") in the CRM directory \(folder)", Exit.badInput)
        } catch {
            fail("\(folder): \(error)", Exit.badInput)
        }
    }

    private func note(_ text: String) {
        FileHandle.standardError.write(Data("dossier: \(oneLine(text))\n".utf8))
    }
}

/// Writes preview rows as they come (bounded memory: nothing is collected but counts).
final class DryRunOutput: @unchecked Sendable {
    private let format: ListFormat
    private let quiet: Bool
    private var table: StreamingTable?
    private var rows = 0
    private var statuses: [String: Int] = [:]
    /// Rows per mailbox, in the order first read: the mapping of paths to mailboxes, made visible.
    private var mailboxes: [(name: String, rows: Int)] = []
    private var update: String?
    private var buffer: [UInt8] = []

    init(format: ListFormat, quiet: Bool) {
        self.format = format
        self.quiet = quiet
    }

    func start() {
        switch format {
        case .table:
            table = StreamingTable([("RECEIVED", 16), ("FROM", 30), ("SUBJECT", 40), ("IMPORTED INTO", 32), ("CONTEXT", 7),
                                    ("STATUS", 200)], sample: 0, output: { [unowned self] in self.write($0) })
        case .csv:
            write(csvLine(["received", "from", "subject", "imported_into", "context", "status", "reason", "key", "mailbox", "path",
                           "offset", "update"]))
        case .json:
            write("{\"dry_run\":true,\"rows\":[")
        }
        flush()
    }

    func add(_ row: ImportPreviewRow) {
        if row.update == nil {
            statuses[row.status, default: 0] += 1
            if let last = mailboxes.indices.last, mailboxes[last].name == row.mailbox {
                mailboxes[last].rows += 1
            } else if let index = mailboxes.firstIndex(where: { $0.name == row.mailbox }) {
                mailboxes[index].rows += 1
            } else {
                mailboxes.append((row.mailbox, 1))
            }
        }
        switch format {
        case .table:
            if row.update != update, let kind = row.update {
                update = kind
                write(kind == "refiled"
                      ? "\nRe-filed when a later message of this import arrived (replies read before the message they answer); final state:\n"
                      : "\nAlready in the archive, re-filed by this import:\n")
            }
            // A quarantined input has no subject: its path says what it is, its end most of all.
            let shown = CheckText.displayPath(row.path)
            let path = displayWidth(shown) > 40 ? "…" + String(shown.suffix(39)) : shown
            table?.add([tableDate(row.received), row.from ?? "-", row.subject ?? (row.status == "quarantined" ? path : ""),
                        recordList(row.records), row.context ?? "-", row.statusText])
        case .csv:
            write(csvLine([row.received.map(isoDate) ?? "", row.from ?? "", row.subject ?? "",
                           row.records.map(\.description).joined(separator: "; "), row.context ?? "", row.status, row.reason ?? "",
                           row.key ?? "", row.mailbox, row.path, row.offset.map(String.init) ?? "", row.update ?? ""]))
        case .json:
            write((rows == 0 ? "\n" : ",\n") + ((try? jsonLine(row)) ?? "null"))
        }
        rows += 1
        if buffer.count > 1 << 15 || format == .table { flush() }
    }

    func finish(_ ledger: RunLedger) throws {
        let summary = Self.summary(ledger, statuses: statuses, mailboxes: mailboxes)
        switch format {
        case .table:
            if !quiet { write((rows > 0 ? "\n" : "") + summary) }
        case .csv:
            flush()
            if !quiet { FileHandle.standardError.write(Data(summary.utf8)) }
        case .json:
            var statusCounts = "{"
            statusCounts += statuses.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
            statusCounts += "}"
            write((rows == 0 ? "" : "\n") + "],\"statuses\":" + statusCounts + ",\"ledger\":" + (try jsonLine(ledger)) + "}\n")
        }
        flush()
    }

    static func summary(_ ledger: RunLedger, statuses: [String: Int], mailboxes: [(name: String, rows: Int)] = []) -> String {
        var lines = LedgerText.render(ledger).split(separator: "\n").map(String.init)
        lines[0] = "Dry run (\(ledger.status)): nothing was written to the archive"
        let order = ["filed", "unassigned", "internal", "noise", "excluded", "quarantined", "duplicate"]
        let known = order.compactMap { key in statuses[key].map { "\(key) \(grouped($0))" } }
        let rest = statuses.keys.filter { !order.contains($0) }.sorted().map { "\($0) \(grouped(statuses[$0]!))" }
        if !(known + rest).isEmpty { lines.insert("  status       " + (known + rest).joined(separator: ", "), at: 1) }
        if !mailboxes.isEmpty {
            lines.insert("  mailboxes    " + mailboxes.map { "\(oneLine($0.name)) \(grouped($0.rows))" }.joined(separator: ", "), at: 2)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func write(_ text: String) { buffer.append(contentsOf: text.utf8) }

    private func flush() {
        if !buffer.isEmpty { writeOut(buffer) }
        buffer.removeAll(keepingCapacity: true)
    }
}
