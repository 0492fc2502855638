import ArgumentParser
import DossierCore
import Foundation

struct ContactsReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts",
        abstract: "People outside the firm who exchange mail with it and are not in the CRM directory: candidates for contacts.csv.",
        discussion: """
            Needs --discovered (the only listing there is). A candidate is an external address in From, To, \
            Cc or Bcc of filed or unassigned mail, not internal, not staff, not blacklisted and not already a \
            contact's, lead's or account's main address, with at least --min-messages messages (default \
            \(DiscoveredContacts.defaultMinMessages)). Free-mail addresses are listed under their domain. \
            Grouped by the account their domain files to, else by domain. Nothing is created: --format csv \
            prints rows for contacts.csv (id, account_id, name, emails, excluded, then columns the loader \
            ignores); review them, fill in an empty account_id, and load the directory again.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Flag(help: "List addresses that exchange mail with the firm and are not contacts yet.")
    var discovered = false

    @Option(name: .customLong("min-messages"), help: "Only addresses in at least this many messages.")
    var minMessages: Int = DiscoveredContacts.defaultMinMessages

    @Option(help: "table, csv (rows for contacts.csv), json, jsonl or html.")
    var format: ReportFormat = .table

    func validate() throws {
        if !discovered {
            throw ValidationError("""
                report contacts needs --discovered: dossier report contacts --discovered [--min-messages N] \
                [--format table|csv|json|jsonl|html]
                """)
        }
        if minMessages < 1 { throw ValidationError("--min-messages must be at least 1") }
    }

    func run() throws {
        let (report, index) = try guarded { () -> (DiscoveredContacts, CRMIndex) in
            let archive = try openArchiveForReading(archiveOptions)
            return try archive.database.read { db in
                let index = CRMIndex(try CRMStore.activeDirectory(in: db) ?? CRMDirectory())
                return (try DiscoveredContacts.load(db, index: index, minMessages: minMessages), index)
            }
        }
        switch format {
        case .table:
            var table = TextTable(["GROUP", "ADDRESS", "NAME", "MESSAGES", "SENT", "RECEIVED", "LAST", "FILED TO", "SUGGESTED"],
                                  maxWidths: [32, 40, 30, nil, nil, nil, nil, 50, 40])
            var count = 0
            for group in report.groups {
                for candidate in group.candidates {
                    count += 1
                    table.add([group.title, candidate.address, candidate.name ?? "-", grouped(candidate.messages), grouped(candidate.sent),
                               grouped(candidate.received), candidate.last.map { String(isoDate($0).prefix(10)) } ?? "-",
                               candidate.filedTo.isEmpty ? "-" : candidate.filedTo.map(\.text).joined(separator: ", "),
                               candidate.suggestedID + " -> " + (candidate.suggestedAccount ?? "?")])
                }
            }
            if count > 0 { writeOut(table.render() + "\n") }
            writeOut("\(count) candidate\(count == 1 ? "" : "s") (at least \(minMessages) message\(minMessages == 1 ? "" : "s") each); nothing was added to the CRM directory\n")
        case .csv:
            writeOut(csvLine(["id", "account_id", "name", "emails", "excluded", "account_name", "domain", "messages", "sent", "received",
                              "first", "last", "filed_to"]))
            for group in report.groups {
                for candidate in group.candidates {
                    writeOut(csvLine([candidate.suggestedID, candidate.suggestedAccount ?? "", candidate.name ?? "", candidate.address, "no",
                                      candidate.suggestedAccount.flatMap { index.account(id: $0)?.name } ?? "", candidate.domain,
                                      String(candidate.messages), String(candidate.sent), String(candidate.received),
                                      candidate.first.map(isoDate) ?? "", candidate.last.map(isoDate) ?? "",
                                      candidate.filedTo.map(\.text).joined(separator: "; ")]))
                }
            }
        case .json:
            try printJSON(report)
        case .jsonl:
            for group in report.groups {
                for candidate in group.candidates { writeOut(try jsonLine(Line(group: group, candidate: candidate)) + "\n") }
            }
        case .html:
            writeOut(report.html())
        }
    }

    /// A candidate with its group's account or domain, for one JSON line.
    private struct Line: Encodable {
        var group: DiscoveredContacts.Group
        var candidate: DiscoveredContacts.Candidate

        enum CodingKeys: String, CodingKey { case groupAccount = "group_account", groupDomain = "group_domain" }

        func encode(to encoder: Encoder) throws {
            try candidate.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(group.account, forKey: .groupAccount)
            try container.encode(group.domain, forKey: .groupDomain)
        }
    }
}
