import ArgumentParser
import DossierCore
import Foundation

struct DuplicatesReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplicates",
        abstract: "Every message read more than once: its copies by content, and how other content under the same Message-ID differs.",
        discussion: """
            One row per distinct content of each message with more than one copy. CONTENT 1 is the first \
            stored (the sha256 of report assignments); 2, 3, ... are copies with the same Message-ID but \
            other bytes (a Bcc copy, a list's altered copy, a re-sent draft, a forgery), each kept, \
            searchable and readable with dossier show KEY --raw --copy N (COPIES are show's copy numbers). \
            DIFFERS says how: headers only (+Field only in this copy, -Field only in content 1, ~Field \
            changed), body too, or line endings only. Identical bytes are plain duplicates. --variants \
            keeps only messages with more than one content.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(help: "table, csv, json, jsonl or html.")
    var format: ReportFormat = .table

    @Flag(help: "Only messages whose copies differ in content.")
    var variants = false

    func run() throws {
        try guarded {
            let archive = try openArchiveForReading(archiveOptions)
            var groups: [DuplicateGroup] = []
            try archive.database.read { db in
                try DuplicatesReport.write(db, archive: archive, filter: .init(variantsOnly: variants)) { groups.append($0) }
            }
            switch format {
            case .table:
                var table = TextTable(["KEY", "MESSAGE-ID", "CONTENT", "COPIES", "SIZE", "DIFFERS", "SOURCES"],
                                      maxWidths: [nil, 40, nil, 20, nil, 60, 80])
                for group in groups {
                    for content in group.contents {
                        table.add([group.key, group.messageID ?? "-", content.number.map(String.init) ?? "-",
                                   content.copies.map(String.init).joined(separator: ","), String(content.size), content.differs,
                                   content.sources.map(describe).joined(separator: "; ")])
                    }
                }
                if !groups.isEmpty { writeOut(table.render() + "\n") }
                writeOut(DuplicatesReport.summary(DuplicatesReport.counts(groups)) + "\n")
            case .csv:
                writeOut(csvLine(["key", "message_id", "status", "content", "copies", "size", "sha256", "differs", "fields", "sources"]))
                for group in groups {
                    for content in group.contents {
                        writeOut(csvLine([group.key, group.messageID ?? "", group.status, content.number.map(String.init) ?? "",
                                          content.copies.map(String.init).joined(separator: " "), String(content.size), content.sha256,
                                          content.number == nil ? "not_kept" : content.number == 1 ? "" : content.difference?.kind.rawValue ?? "",
                                          content.difference?.fields.joined(separator: " ") ?? "",
                                          content.sources.map(describe).joined(separator: "; ")]))
                    }
                }
            case .json:
                try printJSON(groups)
            case .jsonl:
                for group in groups { writeOut(try jsonLine(group) + "\n") }
            case .html:
                writeOut(DuplicatesReport.html(groups))
            }
        }
    }

    private func describe(_ source: AssignmentLine.Source) -> String {
        "\(source.mailbox):\(source.path)" + (source.offset.map { "@\($0)" } ?? "")
    }
}
