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

    @OptionGroup var arguments: ManualFilingArguments

    func run() throws {
        let result = try guarded {
            try ManualFiler.unassign(key: arguments.key, record: arguments.record, in: openArchive(arguments.archiveOptions))
        }
        try ManualFilingOutput.print(result, json: arguments.json)
    }
}
