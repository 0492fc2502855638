import ArgumentParser
import DossierCore
import Foundation
import GRDB

extension ExcludedReport.Reason: ExpressibleByArgument {
    /// Any case, as before reasons were checked (`--reason AutoReply`).
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

struct ExcludedReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "excluded",
        abstract: "Every noise and excluded message with its reason: check that nothing human was dropped.",
        discussion: """
            Noise first, then excluded (blacklist, excluded_contact, unmatched, window; noise that is counted \
            only keeps its kind as reason and status noise), each by reason, oldest first within a reason. SIGNALS says what made a message noise; SOURCE is where its first copy was read, so the \
            original can be opened even when the archive kept only the record. --reason (repeatable) keeps \
            one reason, --run one import's messages. The table ends with the counts per reason.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(help: "table, csv, json, jsonl or html.")
    var format: ReportFormat = .table

    @Option(name: .customLong("reason"), help: "Only this reason (a noise kind or an exclusion reason); repeatable.")
    var reasons: [ExcludedReport.Reason] = []

    @Option(name: .customLong("run"), help: "Only messages first read by this run (see dossier report run).")
    var runID: Int64?

    @Option(help: "At most this many messages.")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        try guarded {
            let archive = try openArchiveForReading(archiveOptions)
            let filter = ExcludedReport.Filter(reasons: Set(reasons.map(\.rawValue)), run: runID)
            try archive.database.read { db in
                switch format {
                case .table:
                    var shown = 0
                    let table = StreamingTable([("DATE", 16), ("STATUS", 8), ("REASON", 16), ("FROM", 32), ("SUBJECT", 40),
                                                ("KEY", 16), ("SIGNALS", 60), ("SOURCE", 400)])
                    try ExcludedReport.write(db, filter: filter, limit: limit) { item in
                        shown += 1
                        table.add([tableDate(item.date), item.status, item.reason, item.from ?? "-", item.subject ?? "",
                                   item.key, item.signals.joined(separator: "; "), item.sources.first.map(describe) ?? "-"])
                    }
                    if shown > 0 { table.finish() }
                    let counts = try ExcludedReport.counts(db, filter: filter)
                    let total = counts.reduce(0) { $0 + $1.count }
                    var summary = (shown > 0 ? "\n" : "") + "\(grouped(total)) noise and excluded message\(total == 1 ? "" : "s")"
                        + (shown < total ? " (\(grouped(shown)) shown: --limit)" : "") + "\n"
                    for entry in counts { summary += "  \(grouped(entry.count))  \(entry.status) \(entry.reason)\n" }
                    writeOut(summary)
                case .csv:
                    writeOut(csvLine(["date", "status", "reason", "from", "subject", "key", "stored", "decisive", "signals", "sources"]))
                    try ExcludedReport.write(db, filter: filter, limit: limit) { item in
                        writeOut(csvLine([item.date.map(isoDate) ?? "", item.status, item.reason, item.from ?? "", item.subject ?? "",
                                          item.key, String(item.stored), item.decisive.map(String.init) ?? "",
                                          item.signals.joined(separator: "; "), item.sources.map(describe).joined(separator: "; ")]))
                    }
                case .json:
                    try writeJSONArray { (emit: (ExcludedItem) throws -> Void) in try ExcludedReport.write(db, filter: filter, limit: limit, emit: emit) }
                case .jsonl:
                    try ExcludedReport.write(db, filter: filter, limit: limit) { item in writeOut(try jsonLine(item) + "\n") }
                case .html:
                    var items: [ExcludedItem] = []
                    try ExcludedReport.write(db, filter: filter, limit: limit) { items.append($0) }
                    writeOut(ReportPages.excluded(items, counts: try ExcludedReport.counts(db, filter: filter)))
                }
            }
        }
    }

    private func describe(_ source: CopySource) -> String {
        "\(source.mailbox):\(source.path)" + (source.offset.map { "@\($0)" } ?? "")
    }
}
