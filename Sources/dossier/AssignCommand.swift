import ArgumentParser
import DossierCore
import Foundation

struct Assign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "File a message to a record by hand (evidence manual; rematch never overrides it).",
        discussion: """
            RECORD is account:ID, contact:ID, lead:ID or case:ID (a case also by its code); it must \
            exist in the CRM directory in force. A contact or case files to its account too. The \
            message's replies inherit the record through the thread rule. A message excluded when \
            imported has no content and cannot be assigned, nor can one with a blacklisted \
            participant or an excluded contact.
            """
    )

    @OptionGroup var arguments: ManualFilingArguments

    func run() throws {
        let result = try guarded {
            try ManualFiler.assign(key: arguments.key, record: arguments.record, in: openArchive(arguments.archiveOptions))
        }
        try ManualFilingOutput.print(result, json: arguments.json)
    }
}

/// What assign and unassign take.
struct ManualFilingArguments: ParsableArguments {
    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: "The message key, or a unique prefix of it.")
    var key: String

    @Argument(help: "account:ID, contact:ID, lead:ID or case:ID.")
    var record: String

    @Flag(help: "Print JSON.")
    var json = false
}

/// What assign and unassign print.
enum ManualFilingOutput {
    static func print(_ result: ManualFilingResult, json: Bool) throws {
        if json { return try printJSON(result) }
        var text: String
        let records = result.records.isEmpty ? "no records" : result.records.joined(separator: ", ")
        switch (result.action, result.recorded) {
        case (.assign, true): text = "Message \(result.key) assigned to \(result.record): \(result.status), \(records).\n"
        case (.assign, false): text = "Message \(result.key) was already assigned to \(result.record): nothing changed.\n"
        case (.unassign, true): text = "Message \(result.key) unassigned from \(result.record): \(result.status), \(records).\n"
        case (.unassign, false): text = "Message \(result.key) was already unassigned from \(result.record): nothing changed.\n"
        }
        let replies = result.changes.filter { $0.key != result.key }
        if !replies.isEmpty {
            text += "Re-filed through the thread rule: \(replies.count) repl\(replies.count == 1 ? "y" : "ies")\n"
            var table = TextTable(["KEY", "STATUS", "OLD RECORDS", "NEW RECORDS"])
            for change in replies {
                table.add([change.key, change.oldStatus == change.newStatus ? change.newStatus : "\(change.oldStatus) -> \(change.newStatus)",
                           change.oldRecords.joined(separator: " "), change.newRecords.joined(separator: " ")])
            }
            text += table.render()
        }
        writeOut(text)
    }
}
