import ArgumentParser
import DossierCore
import Foundation
import GRDB

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reports on the archive.",
        subcommands: [RunReport.self, AssignmentsReportCommand.self, UnassignedReportCommand.self, ExcludedReportCommand.self,
                      ClientsReportCommand.self, ContactsReportCommand.self, DuplicatesReportCommand.self]
    )
}

struct RunReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "The ledger of a run (the latest by default): read, stored, duplicate, excluded and quarantined, with reasons.",
        discussion: "Quarantined inputs are listed with where they came from; their bytes are kept under quarantine/ in the archive."
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(name: .customLong("run"), help: "The run to report (see --all).")
    var runID: Int64?

    @Flag(help: "List every run instead.")
    var all = false

    @Flag(help: "Print JSON (the same as --format json).")
    var json = false

    @Option(help: "table, csv, json, jsonl or html.")
    var format: ReportFormat?

    func validate() throws {
        if json, let format, format != .json { throw ValidationError("--json and --format \(format.rawValue) disagree: give one") }
    }

    /// --json is the older spelling of --format json.
    private var effectiveFormat: ReportFormat { json ? .json : (format ?? .table) }

    func run() throws {
        try guarded {
            let archive = try openArchiveForReading(archiveOptions)
            let format = effectiveFormat
            if all {
                let runs = try archive.database.read { db in
                    try Int64.fetchAll(db, sql: "SELECT id FROM run ORDER BY id").compactMap { try RunLedger.load(db, run: $0) }
                }
                switch format {
                case .json: return try printJSON(runs)
                case .jsonl: return try runs.forEach { writeOut(try jsonLine($0) + "\n") }
                case .csv: return writeCSV(runs)
                case .html: return writeOut(ReportPages.runs(runs))
                case .table: break
                }
                var table = TextTable(["RUN", "STARTED", "STATUS", "READ", "STORED", "DUPLICATE", "EXCLUDED", "QUARANTINED", "SKIPPED"])
                for ledger in runs {
                    table.add([String(ledger.run), ledger.startedAt, ledger.status, grouped(ledger.read), grouped(ledger.stored),
                               grouped(ledger.duplicate), grouped(ledger.excluded), grouped(ledger.quarantined), grouped(ledger.skipped)])
                }
                return writeOut(table.render())
            }
            let (ledger, quarantine) = try archive.database.read { db -> (RunLedger?, [QuarantineEntry]) in
                guard let ledger = try RunLedger.load(db, run: runID) else { return (nil, []) }
                return (ledger, try QuarantineEntry.all(db, run: ledger.run))
            }
            guard let ledger else {
                fail(runID.map { "no run \($0) in this archive" } ?? "this archive has no runs yet", Exit.badInput)
            }
            struct Output: Encodable {
                var ledger: RunLedger
                var quarantine: [QuarantineEntry]
            }
            switch format {
            case .json: return try printJSON(Output(ledger: ledger, quarantine: quarantine))
            case .jsonl: return writeOut(try jsonLine(Output(ledger: ledger, quarantine: quarantine)) + "\n")
            case .csv: return writeCSV([ledger])
            case .html: return writeOut(ReportPages.run(ledger, quarantine: quarantine))
            case .table: break
            }
            var text = LedgerText.render(ledger)
            if !quarantine.isEmpty {
                var table = TextTable(["QUARANTINED", "OFFSET", "REASON", "KEPT AS"])
                for entry in quarantine {
                    table.add([entry.path, entry.offset.map(String.init) ?? "-", entry.reason, entry.keptAs ?? "-"])
                }
                text += "\n" + table.render()
            }
            if !ledger.skippedPaths.isEmpty {
                var table = TextTable(["SKIPPED", "REASON"])
                for entry in ledger.skippedPaths { table.add([entry.path, entry.reason]) }
                text += "\n" + table.render()
                if ledger.skipped > ledger.skippedPaths.count {
                    text += "(\(grouped(ledger.skipped - ledger.skippedPaths.count)) more skipped paths not listed)\n"
                }
            }
            writeOut(text)
        }
    }

    /// One row per run: the ledger's counts (reasons are in json).
    private func writeCSV(_ runs: [RunLedger]) {
        writeOut(csvLine(["run", "command", "started_at", "finished_at", "status", "read", "stored", "duplicate", "excluded",
                          "quarantined", "noise", "bytes", "sources", "seconds", "skipped"]))
        for ledger in runs {
            writeOut(csvLine([String(ledger.run), ledger.command, ledger.startedAt, ledger.finishedAt ?? "", ledger.status,
                              String(ledger.read), String(ledger.stored), String(ledger.duplicate), String(ledger.excluded),
                              String(ledger.quarantined), String(ledger.noise), String(ledger.bytes), String(ledger.sources),
                              String(format: "%.3f", ledger.seconds), String(ledger.skipped)]))
        }
    }
}
