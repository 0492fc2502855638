import ArgumentParser
import DossierCore
import Foundation

struct Rematch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-file the whole archive against the CRM directory in force (after a new crm load).",
        discussion: """
            Every message with content is parsed again from its stored original and filed as a \
            fresh import would file it, replies included; manual decisions (assign, unassign) are \
            kept, and so is noise. A message the new directory excludes (blacklist, excluded \
            contact, unmatched in mode: matched_only) becomes excluded with its content kept. \
            Messages excluded when imported have no content and are not re-filed: import their \
            mail again. Prints what moved; recorded as a run (dossier report run).
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Flag(help: "Compute and print what would move; write nothing.")
    var dryRun = false

    @Option(help: "Parsing threads (default: the number of cores).")
    var workers: Int?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() throws {
        let report = try guarded { () -> RematchReport in
            var options = RematchOptions()
            options.dryRun = dryRun
            if let workers { options.workers = workers }
            // Not on a terminal (cron, a service): periodic progress lines in the log.
            if !stderrIsTerminal {
                let log = ProgressLog(command: "rematch")
                options.progress = { log.update($0, of: $1, elapsed: $2) }
            }
            options.commandLine = CommandLine.arguments
            return try Rematcher(archive: openArchive(archiveOptions), options: options).run()
        }
        if json { return try printJSON(report) }
        writeOut(Self.text(report))
    }

    static func text(_ report: RematchReport) -> String {
        var text = report.dryRun ? "Rematch (dry run: nothing was written)" : "Rematch (run \(report.run.map(String.init) ?? "-"))"
        text += ": \(grouped(report.messages)) messages with content re-filed against CRM load \(report.crmLoad.map(String.init) ?? "-")"
        text += String(format: " in %.2f s; %@ %@\n", report.seconds, grouped(report.updated),
                       report.dryRun ? "would be updated" : "updated")
        var table = TextTable(["FROM", "TO", "MESSAGES"])
        for transition in report.transitions {
            table.add([transition.from, transition.to, grouped(transition.count)])
        }
        text += "\n" + table.render()
        if report.noiseKept > 0 { text += "\nNoise left as it was: \(grouped(report.noiseKept)) (the noise stage's decision).\n" }
        let excluded = report.excludedWithContent.values.reduce(0, +)
        if excluded > 0 {
            text += "\nExcluded by the directory in force, content kept in the archive: \(grouped(excluded)) ("
                + report.excludedWithContent.sorted { $0.key < $1.key }.map { "\($0.key) \(grouped($0.value))" }.joined(separator: ", ") + ")\n"
        }
        if report.withoutContent > 0 {
            text += "\nNot re-filed: \(grouped(report.withoutContent)) messages excluded when imported have no content "
                + "(import their mail again to file them).\n"
        }
        let moved = report.recordChanges
        if moved.isEmpty {
            text += "\nNo message's records changed.\n"
        } else {
            text += "\nRecords changed (\(grouped(moved.count)) messages):\n"
            var changes = TextTable(["KEY", "STATUS", "OLD RECORDS", "NEW RECORDS"])
            for change in moved {
                changes.add([change.key, change.oldStatus == change.newStatus ? change.newStatus : "\(change.oldStatus) -> \(change.newStatus)",
                             change.oldRecords.isEmpty ? "-" : change.oldRecords.joined(separator: " "),
                             change.newRecords.isEmpty ? "-" : change.newRecords.joined(separator: " ")])
            }
            text += changes.render()
        }
        return text
    }
}
