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

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case jsonl, json
    }

    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(help: "jsonl (one object per line) or json (one array).")
    var format: Format = .jsonl

    func run() throws {
        try guarded {
            let archive = try openArchive(archiveOptions)
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
}
