import ArgumentParser
import DossierCore
import Foundation

/// `dossier check PATH... [--crm DIR]`: what an import would meet, without writing anything.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check sources and a CRM directory before an import: read everything, write nothing.",
        discussion: """
            Reads every source as an import would and reports the formats found, the mailboxes \
            each path maps to (and, with --crm, the users and groups staff.csv gives them), \
            messages per mailbox and folder, inputs that cannot be read or would be quarantined \
            and why, the date range, the window's effect (--since/--until, else rules.yaml's), \
            and the CRM directory's errors and warnings. No archive is opened or created. \
            Exit codes: 0 no errors (warnings may be listed); 2 errors: a path is missing, a \
            source cannot be read to its end, or the CRM directory has errors.
            """
    )

    @Argument(help: "Mail an import would read: mbox files, Maildir folders, .eml files or directories of them.")
    var paths: [String]

    @Option(help: ArgumentHelp("Check this CRM directory (as crm load would) and file the report's mailboxes against its staff.csv.",
                               valueName: "dir"))
    var crm: String?

    @Option(help: "As import --mailbox: record every message under this mailbox name.")
    var mailbox: String?

    @Option(name: .customLong("folders"), help: ArgumentHelp("As import --folders (repeatable).", valueName: "glob"))
    var folders: [String] = []

    @Option(help: ArgumentHelp("The window's start (UTC day); overrides rules.yaml's.", valueName: "YYYY-MM-DD"))
    var since: String?

    @Option(help: ArgumentHelp("The window's end (UTC day, inclusive).", valueName: "YYYY-MM-DD"))
    var until: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one path to check") }
    }

    func run() throws {
        let report = try guarded { () -> SourceCheckReport in
            var options = SourceCheckOptions(paths: paths)
            options.mailbox = mailbox
            options.folderGlobs = folders
            options.window = try DateWindow.days(since: since, until: until)
            options.crmDirectory = crm.map { URL(fileURLWithPath: $0) }
            return SourceCheck.run(options)
        }
        if json {
            try printJSON(report)
        } else {
            writeOut(CheckText.render(report))
        }
        if report.hasErrors { throw Exit.badInput }
    }
}

/// The human form of a check report.
enum CheckText {
    static func render(_ report: SourceCheckReport) -> String {
        let size = report.bytes < 1 << 20 ? "\(grouped(Int((report.bytes + 1023) / 1024))) KB"
                                           : String(format: "%.1f MB", Double(report.bytes) / 1_048_576)
        var out = "Checked: \(grouped(report.messages)) messages (\(size))"
            + ", \(grouped(report.unreadable.count)) inputs not read as messages\n"

        var formats = TextTable(["FORMAT", "SOURCES"])
        for (format, count) in report.formats.sorted(by: { $0.key < $1.key }) { formats.add([format, grouped(count)]) }
        out += "\n" + formats.render()

        let withCRM = report.crm.map { $0.errors.isEmpty } ?? false
        var mailboxes = TextTable(withCRM ? ["MAILBOX", "MESSAGES", "FROM", "USERS", "ACCESSIBLE TO"] : ["MAILBOX", "MESSAGES", "FROM"])
        for mailbox in report.mailboxes {
            let from = mailbox.paths.map { "\(displayPath($0.path)) (\(ruleText($0.rule)))" }.joined(separator: ", ")
            var row = [mailbox.mailbox, grouped(mailbox.messages), from.isEmpty ? "-" : from]
            if withCRM {
                row.append((mailbox.users ?? []).isEmpty ? "-" : mailbox.users!.joined(separator: ", "))
                row.append((mailbox.groups ?? []).isEmpty ? "-" : mailbox.groups!.joined(separator: ", "))
            }
            mailboxes.add(row)
        }
        out += "\n" + mailboxes.render()

        var folders = TextTable(["MAILBOX", "FOLDER", "MESSAGES"])
        for folder in report.folders { folders.add([folder.mailbox, folder.folder.isEmpty ? "-" : folder.folder, grouped(folder.messages)]) }
        out += "\n" + folders.render() + "\n"

        var facts: [(String, String)] = []
        if let oldest = report.oldest, let newest = report.newest {
            facts.append(("dates", "\(oldest) .. \(newest); \(grouped(report.undated)) without a readable date"))
        } else {
            facts.append(("dates", "none readable (\(grouped(report.undated)) messages without a date)"))
        }
        if let window = report.window {
            let bounds = [window.since.map { "since \($0)" }, window.before.map { "before \($0)" }].compactMap { $0 }.joined(separator: ", ")
            facts.append(("window", "\(bounds) (\(window.source)): \(grouped(window.inside)) inside, "
                          + "\(grouped(window.beforeWindow)) before, \(grouped(window.afterWindow)) after (excluded)"))
        } else {
            facts.append(("window", "none (every date is kept)"))
        }
        facts.append(("duplicates", "\(grouped(report.duplicateMessageIDs)) messages share a Message-ID with one read before them"))
        if let crm = report.crm {
            var text = displayPath(crm.path) + ": "
            if let accounts = crm.accounts, let contacts = crm.contacts, let staff = crm.staff {
                text += "\(grouped(accounts)) accounts, \(grouped(contacts)) contacts, \(grouped(staff)) staff; "
            }
            text += "\(crm.errors.count) errors, \(crm.warnings.count) warnings"
            facts.append(("crm", text))
        } else {
            facts.append(("crm", "not checked (--crm DIR)"))
        }
        for (name, value) in facts { out += name.padding(toLength: 12, withPad: " ", startingAt: 0) + value + "\n" }

        if !report.warnings.isEmpty {
            out += "\n\(report.warnings.count) warning\(report.warnings.count == 1 ? "" : "s"):\n"
            for warning in report.warnings { out += "  " + oneLine(relativised(warning)) + "\n" }
        }
        if !report.errors.isEmpty {
            out += "\n\(report.errors.count) error\(report.errors.count == 1 ? "" : "s"):\n"
            for error in report.errors { out += "  " + oneLine(relativised(error)) + "\n" }
        }
        out += report.hasErrors ? "\nNot ready: fix the errors above before importing.\n"
                                : "\nReady: no errors" + (report.warnings.isEmpty ? "" : " (read the warnings)") + ".\n"
        return out
    }

    static func ruleText(_ rule: MailboxMapping.Rule) -> String {
        switch rule {
        case .option: return "--mailbox"
        case .fileName: return "file name"
        case .maildir: return "Maildir name"
        case .entry: return "entry name"
        case .looseFiles: return "loose files"
        }
    }

    /// Paths below the current directory are shown relative to it (shorter, and the same on
    /// every machine).
    static func displayPath(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        return path.hasPrefix(cwd + "/") ? String(path.dropFirst(cwd.count + 1)) : path
    }

    static func relativised(_ text: String) -> String {
        text.replacingOccurrences(of: FileManager.default.currentDirectoryPath + "/", with: "")
    }
}
