import ArgumentParser
import DossierCore
import Foundation

struct Why: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Why a message is filed where it is: every rule that fired, and the one that decided.",
        discussion: """
            KEY is the key that search prints (a unique prefix of at least 4 characters is enough). \
            For a filed message: every rule that fired (tracking_code, thread, subject_tag, address, \
            domain, manual), the record it named and the text that matched, the decisive rule \
            (the evidence) marked with *. For other statuses: the participant that excluded it, the \
            window, the internal participants, or the external ones nothing matched. Names and the \
            participants' tests come from the CRM directory in force.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: "The message key, or a unique prefix of it.")
    var key: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let explanation = try guarded {
            try openArchiveForReading(archiveOptions).database.read { db in
                let directory = try CRMStore.activeDirectory(in: db) ?? CRMDirectory()
                return try FilingExplanation.explain(key: key, in: db, index: CRMIndex(directory))
            }
        }
        if json { return try printJSON(explanation) }
        writeOut(Self.text(explanation))
    }

    static func text(_ e: FilingExplanation) -> String {
        var text = "Message \(e.key)\n"
        var header: [(String, String)] = [("date", formatDate(e.date))]
        if let from = e.from { header.append(("from", e.fromName.map { "\($0) <\(from)>" } ?? from)) }
        if let subject = e.subject { header.append(("subject", subject)) }
        var status = e.status + (e.reason.map { " (\($0))" } ?? "")
        if let evidence = e.evidence { status += ", evidence: \(evidence)" }
        header.append(("status", status))
        if let direction = e.direction { header.append(("direction", direction + (e.context.map { ", \($0)" } ?? ""))) }
        if !e.mailboxes.isEmpty {
            header.append(("mailboxes", e.mailboxes.joined(separator: ", ")
                + (e.accessibleTo.isEmpty ? "" : " (accessible to \(e.accessibleTo.joined(separator: ", ")))")))
        }
        for (name, value) in header {
            text += "  " + name.padding(toLength: 10, withPad: " ", startingAt: 0) + oneLine(value) + "\n"
        }
        text += "\n" + e.summary.map(oneLine).joined(separator: "\n") + "\n"

        if !e.matches.isEmpty {
            var table = TextTable(["", "RULE", "RECORD", "MATCHED", "VIA"], maxWidths: [nil, nil, 60, 80, nil])
            for match in e.matches {
                var matched = match.matched
                if match.rule == .thread { matched = "<\(match.matched)>" + (match.parentKey.map { " (message \($0))" } ?? " (not in the archive)") }
                if match.rule == .manual, let at = match.at { matched += " at \(at)" }
                table.add([match.decided ? "*" : "", match.rule.rawValue,
                           match.record + (match.name.map { " (\($0))" } ?? ""), matched, match.via ?? ""])
            }
            text += "\nRules that fired (* decided: the strongest rule, the evidence):\n" + indent(table.render())
        }
        if !e.manual.isEmpty {
            var table = TextTable(["AT", "ACTION", "RECORD"])
            for decision in e.manual { table.add([decision.at, decision.action, decision.record]) }
            text += "\nManual decisions:\n" + indent(table.render())
        }
        if !e.participants.isEmpty {
            var table = TextTable(["ROLE", "ADDRESS", "SIDE", "NOTE"])
            for participant in e.participants {
                table.add([participant.role, participant.address, participant.internal ? "internal" : "external", participant.note ?? ""])
            }
            text += "\nParticipants:\n" + indent(table.render())
        }
        return text
    }

    private static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
    }
}
