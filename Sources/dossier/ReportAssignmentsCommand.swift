import ArgumentParser
import DossierCore
import Foundation
import GRDB

struct AssignmentsReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assignments",
        abstract: "Where every message went and why: one JSON object per unique message (the filing-report contract).",
        discussion: """
            Lines follow ../shared/spec/filing-report.md: key, message_id, sha256, status (filed, unassigned, noise, \
            internal, excluded, quarantined), reason, accounts, contacts, leads, cases, evidence, date and sources. \
            Stored and excluded messages come first in import order, then quarantined inputs.
            """
    )

    /// jsonl first: the default, and the contract's form.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case jsonl, json, csv, table, html
    }

    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(help: "jsonl (one object per line), json (one array), csv, table or html.")
    var format: Format = .jsonl

    func run() throws {
        try guarded {
            let archive = try openArchiveForReading(archiveOptions)
            switch format {
            case .jsonl, .json: break
            case .csv, .table, .html: return try writeOther(archive)
            }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 16)
            var first = true
            if format == .json { buffer.append(UInt8(ascii: "[")) }
            try archive.database.read { db in
                try AssignmentsReport.write(db) { line in
                    if format == .json && !first { buffer.append(UInt8(ascii: ",")) }
                    first = false
                    buffer.append(contentsOf: line.json.utf8)
                    if format == .jsonl { buffer.append(10) }
                    if buffer.count > 1 << 16 {
                        writeOut(buffer)
                        buffer.removeAll(keepingCapacity: true)
                    }
                }
            }
            if format == .json { buffer.append(contentsOf: "]\n".utf8) }
            writeOut(buffer)
        }
    }

    /// The forms for people (and spreadsheets); jsonl and json above stay byte for byte the
    /// contract's.
    private func writeOther(_ archive: Archive) throws {
        try archive.database.read { db in
            switch format {
            case .csv:
                writeOut(csvLine(["key", "message_id", "sha256", "status", "reason", "accounts", "contacts", "leads", "cases",
                                  "evidence", "date", "sources"]))
                try AssignmentsReport.write(db) { line in
                    writeOut(csvLine([line.key, line.messageID ?? "", line.sha256 ?? "", line.status, line.reason ?? "",
                                      line.accounts.joined(separator: ";"), line.contacts.joined(separator: ";"),
                                      line.leads.joined(separator: ";"), line.cases.joined(separator: ";"), line.evidence ?? "",
                                      line.date.map(isoDate) ?? "", line.sources.map(describe).joined(separator: "; ")]))
                }
            case .table:
                let table = StreamingTable([("DATE", 16), ("KEY", 16), ("STATUS", 11), ("REASON", 16), ("RECORDS", 50), ("EVIDENCE", 12),
                                            ("SOURCE", 400)])
                try AssignmentsReport.write(db) { line in
                    let records = line.accounts.map { "account:\($0)" } + line.contacts.map { "contact:\($0)" }
                        + line.leads.map { "lead:\($0)" } + line.cases.map { "case:\($0)" }
                    table.add([tableDate(line.date), line.key, line.status, line.reason ?? "-", records.isEmpty ? "-" : records.joined(separator: ", "),
                               line.evidence ?? "-", line.sources.first.map(describe) ?? "-"])
                }
                table.finish()
            case .html:
                var lines: [AssignmentLine] = []
                try AssignmentsReport.write(db) { lines.append($0) }
                writeOut(ReportPages.assignments(lines))
            case .jsonl, .json:
                break
            }
        }
    }

    private func describe(_ source: AssignmentLine.Source) -> String {
        "\(source.mailbox):\(source.path)" + (source.offset.map { "@\($0)" } ?? "")
    }
}
