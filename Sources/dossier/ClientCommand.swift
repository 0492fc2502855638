import ArgumentParser
import DossierCore
import Foundation

struct ClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "A record's file: its details from the CRM directory, counts, and its messages by thread.",
        discussion: """
            ID is an account, contact, lead or case id (a case's code works too). An account's file \
            holds the mail filed to the account, including through its contacts and cases; mail of \
            its subsidiaries is counted separately (see `dossier client SUBSIDIARY`). Threads are \
            listed newest first, their messages oldest first.
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case account, contact, lead, `case`
    }

    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: "The record's id.")
    var id: String

    @Option(help: "The kind of record, when the id names several (account, contact, lead, case).")
    var kind: Kind?

    @Option(help: "List at most this many messages (the counts cover all).")
    var limit: Int = 200

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() throws {
        let file = try guarded { () -> ClientFile in
            let archive = try openArchiveForReading(archiveOptions)
            return try archive.database.read { db in
                let index = CRMIndex(try CRMStore.activeDirectory(in: db) ?? CRMDirectory())
                do {
                    let record = try ClientFile.resolve(id, kind: kind.flatMap { CRMRecordKind(rawValue: $0.rawValue) }, index: index, db)
                    return try ClientFile.load(record, index: index, db, limit: limit)
                } catch let error as ClientFileError {
                    fail(error.description, Exit.badInput)
                }
            }
        }
        if json { return try printJSON(file) }
        writeOut(Self.text(file))
    }

    static func text(_ file: ClientFile) -> String {
        var text = file.record.description + (file.name.map { "  " + $0 } ?? "") + "\n"
        if !file.inDirectory { text += "  (not in the CRM directory in force; mail was filed to it under an earlier one)\n" }
        for (label, value) in file.details.lines {
            text += "  " + label.padding(toLength: 15, withPad: " ", startingAt: 0) + oneLine(value) + "\n"
        }
        let counts = file.counts
        text += "\nMessages  \(grouped(counts.messages)) in \(grouped(counts.threads)) thread\(counts.threads == 1 ? "" : "s")"
        if let first = counts.first, let last = counts.last { text += ", \(tableDate(first)) .. \(tableDate(last))" }
        text += "\n"
        func breakdown(_ values: [String: Int], order: [String]) -> String {
            let known = order.compactMap { key in values[key].map { "\(key) \(grouped($0))" } }
            let rest = values.keys.filter { !order.contains($0) }.sorted().map { "\($0) \(grouped(values[$0]!))" }
            return (known + rest).joined(separator: ", ")
        }
        if !counts.byEvidence.isEmpty {
            text += "  by evidence   " + breakdown(counts.byEvidence, order: FilingRule.allCases.sorted().map(\.rawValue)) + "\n"
        }
        if !counts.byDirection.isEmpty {
            text += "  by direction  " + breakdown(counts.byDirection, order: ["inbound", "outbound", "internal"]) + "\n"
        }
        if !file.subsidiaries.isEmpty {
            text += "\nSubsidiaries (their mail is in their own files, not listed here):\n"
            for subsidiary in file.subsidiaries {
                text += "  \(subsidiary.id)  \(oneLine(subsidiary.name)): \(grouped(subsidiary.messages)) message\(subsidiary.messages == 1 ? "" : "s")\n"
            }
            if file.subsidiaryMessages > 0 {
                text += "  \(grouped(file.subsidiaryMessages)) more message\(file.subsidiaryMessages == 1 ? " is" : "s are") filed to its subsidiaries only\n"
            }
        }
        guard !file.threads.isEmpty else { return text }
        var lines: [String] = []
        let table = StreamingTable([("DATE", 16), ("DIRECTION", 9), ("FROM", 36), ("SUBJECT", 64), ("KEY", 16), ("EVIDENCE", 20)],
                                   sample: .max, output: { lines.append($0) })
        var headings: [Int: String] = [:]
        var rows = 0
        for thread in file.threads {
            let shown = thread.messages.count < thread.total ? ", \(thread.messages.count) shown" : ""
            headings[rows] = "Thread: \(oneLine(thread.subject ?? "(no subject)")) (\(thread.total) message\(thread.total == 1 ? "" : "s")\(shown))"
            for entry in thread.messages {
                table.add([tableDate(entry.date), entry.direction ?? "-", entry.from ?? "-", entry.subject ?? "", entry.key, entry.evidence ?? "-"])
                rows += 1
            }
        }
        table.finish()
        text += "\n  " + lines[0]
        for (index, line) in lines.dropFirst().enumerated() {
            if let heading = headings[index] { text += heading + "\n" }
            text += "  " + line
        }
        if file.omitted > 0 {
            text += "\n\(grouped(file.omitted)) older message\(file.omitted == 1 ? "" : "s") not listed (--limit)\n"
        }
        return text
    }
}
