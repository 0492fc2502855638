import ArgumentParser
import DossierCore
import Foundation

struct Unassign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take a record out of a message's records by hand (rematch never puts it back).",
        discussion: """
            A record assigned by hand is withdrawn; a record a rule or the thread files the message \
            to is removed for good. Its replies lose what they inherited from it. With no record \
            left the message is unassigned (in mode: matched_only, excluded as unmatched, its \
            content kept).
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: "The message key, or a unique prefix of it.")
    var key: String

    @Argument(help: "account:ID, contact:ID, lead:ID or case:ID.")
    var record: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let result = try guarded {
            try ManualFiler.unassign(key: key, record: record, in: openArchive(archiveOptions))
        }
        try ManualFilingOutput.print(result, json: json)
    }
}
