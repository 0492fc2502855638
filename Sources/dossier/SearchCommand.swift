import ArgumentParser
import DossierCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search the archive.",
        discussion: """
            Words and "quoted phrases" anywhere; from: to: cc: bcc: subject: body: attachment: for one \
            field; term* for a prefix; AND (or nothing), OR, NOT or -term, and parentheses (AND binds \
            tighter than OR); mailbox:NAME, folder:NAME (and its subfolders), date:2024-01-01..2024-03-31 \
            (a day, month or year; either end may be left open), has:attachment, is:filed|unassigned|internal|noise \
            (noise kept flagged is left out unless the query names is:noise). Quote the query for the \
            shell, e.g. dossier search 'mailbox:alice (offer OR quote) NOT cc:legal'; a query that starts \
            with '-' goes after --, e.g. dossier search -- -draft. On a terminal the \
            hits are a table; otherwise one tab-separated line each: key, date, from, subject, mailboxes.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: "The query (several arguments are joined with spaces).")
    var query: [String]

    @Option(help: "At most this many hits.")
    var limit: Int = SearchEngine.defaultLimit

    @Option(help: "relevance (bm25; the default), date (newest first) or oldest.")
    var sort: SearchSort = .relevance

    @Flag(help: "Print the hits as JSON.")
    var json = false

    func validate() throws {
        if query.isEmpty { throw ValidationError("give a query, e.g. dossier search invoice") }
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        try guarded {
            // Parse before opening the archive: a typo in the query is reported as such.
            let parsed = try SearchQuery.parse(query.joined(separator: " "))
            let archive = try openArchiveForReading(archiveOptions)
            let hits = try SearchEngine(archive: archive).search(parsed, sort: sort, limit: limit)
            if json { return try printJSON(hits) }
            if isatty(1) == 1 {
                if hits.isEmpty {
                    FileHandle.standardError.write(Data("no messages match\n".utf8))
                    return
                }
                var table = TextTable(["KEY", "DATE", "FROM", "SUBJECT", "MAILBOX"], maxWidths: [nil, nil, 32, 60, 24])
                for hit in hits {
                    table.add([hit.key, shortDate(hit.date), hit.from, hit.subject ?? "", hit.mailboxes.joined(separator: ",")])
                }
                writeOut(table.render())
            } else {
                var out = ""
                for hit in hits {
                    let fields = [hit.key, formatDate(hit.date), hit.from, hit.subject ?? "", hit.mailboxes.joined(separator: ",")]
                    // Tabs and newlines inside a field would break the line format; other control
                    // characters are spelled out (see `oneLine`).
                    out += fields.map { oneLine($0.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")) }
                        .joined(separator: "\t") + "\n"
                }
                writeOut(out)
            }
        }
    }

    private func shortDate(_ date: Date?) -> String {
        guard let date else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: date)
    }
}

extension SearchSort: ExpressibleByArgument {}
