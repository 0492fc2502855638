import ArgumentParser
import DossierCore
import Foundation
import GRDB

struct UnassignedReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unassigned",
        abstract: "The unassigned queue: external mail no rule filed, with the record it is probably about.",
        discussion: """
            Oldest first (--newest for newest first). SUGGESTED is the most likely record and WHY says \
            what it rests on, strongest first: the CRM directory in force files it now (it was filed under \
            an earlier one), other messages of its thread are filed, the subject names a case code \
            without brackets, a display name is a contact's name, a participant's domain is related to \
            an account's (same registered domain, or the same name under another ending). Free-mail \
            domains never suggest by domain. --format json lists every suggestion of each message.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(help: "table, csv, json, jsonl or html.")
    var format: ReportFormat = .table

    @Option(help: "At most this many messages.")
    var limit: Int?

    @Flag(help: "Newest first.")
    var newest = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        try guarded {
            let archive = try openArchiveForReading(archiveOptions)
            try archive.database.read { db in
                let queue = UnassignedQueue(index: CRMIndex(try CRMStore.activeDirectory(in: db) ?? CRMDirectory()))
                switch format {
                case .table:
                    let total = try UnassignedQueue.count(db)
                    var shown = 0
                    let table = StreamingTable([("DATE", 16), ("FROM", 32), ("SUBJECT", 40), ("KEY", 16), ("EXTERNAL", 40),
                                                ("SUGGESTED", 40), ("WHY", 400)])
                    try queue.write(db, newestFirst: newest, limit: limit) { item in
                        shown += 1
                        let suggestion = item.suggestions.first
                        table.add([tableDate(item.date), item.from ?? "-", item.subject ?? "", item.key,
                                   item.external.isEmpty ? "-" : item.external.joined(separator: ", "),
                                   suggestion.map { s in s.record.description + (s.name.map { " (\($0))" } ?? "") } ?? "-",
                                   suggestion?.why ?? ""])
                    }
                    if shown > 0 { table.finish() }
                    let summary = shown == total ? "\(grouped(total)) unassigned message\(total == 1 ? "" : "s")"
                        : "\(grouped(shown)) of \(grouped(total)) unassigned messages shown (--limit)"
                    writeOut((shown > 0 ? "\n" : "") + summary + "\n")
                case .csv:
                    writeOut(csvLine(["date", "from", "subject", "key", "external", "suggested", "suggested_name", "basis", "why"]))
                    try queue.write(db, newestFirst: newest, limit: limit) { item in
                        let suggestion = item.suggestions.first
                        writeOut(csvLine([item.date.map(isoDate) ?? "", item.from ?? "", item.subject ?? "", item.key,
                                          item.external.joined(separator: "; "), suggestion?.record.description ?? "",
                                          suggestion?.name ?? "", suggestion?.basis.rawValue ?? "", suggestion?.why ?? ""]))
                    }
                case .json:
                    try writeJSONArray { (emit: (UnassignedItem) throws -> Void) in try queue.write(db, newestFirst: newest, limit: limit, emit: emit) }
                case .jsonl:
                    try queue.write(db, newestFirst: newest, limit: limit) { item in writeOut(try jsonLine(item) + "\n") }
                case .html:
                    var items: [UnassignedItem] = []
                    try queue.write(db, newestFirst: newest, limit: limit) { items.append($0) }
                    writeOut(ReportPages.unassigned(items, total: try UnassignedQueue.count(db)))
                }
            }
        }
    }
}
