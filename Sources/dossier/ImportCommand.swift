import ArgumentParser
import DossierCore
import Foundation

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import mbox files (.mbox, .mbox.gz), Maildir/Maildir++ trees and .eml files.",
        discussion: """
            A directory is read the way you mean it: folders holding cur/ and new/ as Maildir, files \
            starting with a "From " line as mbox, .gz through zlib, every other file as one message \
            (files that are not messages are quarantined with a reason). Sources are never modified. \
            Importing the same mail again stores nothing new: the ledger counts it as duplicate. \
            Mailboxes: a file given is named after itself (bob.mbox -> bob), a Maildir after its \
            directory, and a plain directory given is a folder of mailboxes: each mbox file, Maildir \
            and subfolder in it is a mailbox named after it (DIR/<mailbox>/...), single-message files \
            directly in it are the directory's own. --mailbox NAME records everything under NAME. \
            `dossier check PATH...` shows the mapping (and, with --crm, each mailbox's users and groups) \
            before anything is imported.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: "Mail to import: mbox files, Maildir folders, .eml files or directories of them.")
    var paths: [String] = []

    @Option(help: ArgumentHelp("Drop-folder mode: import the files that have settled in DIR (DIR/<mailbox>/...), then move each to DIR/processed/YYYY-MM-DD/ or DIR/quarantine/ (with a .reason file). Exit 7 when anything was quarantined.",
                               valueName: "dir"))
    var drop: String?

    @Option(help: ArgumentHelp("With --drop: seconds a file's size and time must stay the same to be taken (default 5).", valueName: "seconds"))
    var settle: Double?

    @Option(help: "Record every message under this mailbox name (default: each file, Maildir or directory entry is a mailbox named after it).")
    var mailbox: String?

    @Option(name: .customLong("folders"), help: ArgumentHelp("Only read folders matching this glob (repeatable), e.g. 'INBOX' or 'Clients/*'.", valueName: "glob"))
    var folders: [String] = []

    @Option(help: ArgumentHelp("Only keep messages dated on or after this day (UTC); others are excluded (window).", valueName: "YYYY-MM-DD"))
    var since: String?

    @Option(help: ArgumentHelp("Only keep messages dated on or before this day (UTC).", valueName: "YYYY-MM-DD"))
    var until: String?

    @Option(help: "Parsing threads (default: the number of cores).")
    var workers: Int?

    @Flag(help: "Print the run's ledger as JSON.")
    var json = false

    @Flag(help: "No progress bar and no ledger table.")
    var quiet = false

    @Flag(help: "Preview: read, file and decide everything, write nothing; one row per message read.")
    var dryRun = false

    @Option(help: "With --dry-run: table, csv or json.")
    var format: ListFormat?

    @Option(help: ArgumentHelp("With --dry-run: file against this CRM directory instead of the one in force (it is not loaded).",
                               valueName: "dir"))
    var crm: String?

    func validate() throws {
        if drop != nil {
            if !paths.isEmpty { throw ValidationError("--drop takes the drop folder; give no other paths") }
            if dryRun { throw ValidationError("--drop moves files; preview a drop folder with `dossier import DIR --dry-run`") }
            if mailbox != nil || !folders.isEmpty { throw ValidationError("--drop names mailboxes by DIR/<mailbox>/; --mailbox and --folders do not apply") }
        } else {
            if paths.isEmpty { throw ValidationError("give at least one path to import, or --drop DIR") }
            if settle != nil { throw ValidationError("--settle goes with --drop") }
        }
        if let settle, settle < 0 { throw ValidationError("--settle must not be negative") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if !dryRun && format != nil { throw ValidationError("--format goes with --dry-run (the ledger's format is --json)") }
        if !dryRun && crm != nil { throw ValidationError("--crm goes with --dry-run (load a directory with dossier crm load)") }
        if dryRun && json && format != nil && format != .json { throw ValidationError("--json and --format \(format!.rawValue) disagree") }
    }

    func run() throws {
        if dryRun { return try runDryRun() }
        if drop != nil { return try runDrop() }
        let ledger = try guarded { () -> RunLedger in
            let options = try importOptions()
            // Check the paths first so that a bad one fails before an archive is created.
            try SourcePlanner.checkPaths(paths)
            let archive = try openArchive(archiveOptions, create: true)
            let importer = Importer(archive: archive, options: options)
            let cancellation = CancellationFlag()
            let interrupt = InterruptHandler { cancellation.cancel() }
            defer { interrupt.restore() }
            let display = progressDisplay()
            let ledger = try importer.run(cancellation: cancellation, progress: display.update)
            display.finish()
            return ledger
        }
        if json {
            try printJSON(ledger)
        } else if !quiet {
            writeOut(LedgerText.render(ledger))
        }
        switch ledger.status {
        case "failed": fail(ledger.error ?? "import failed", Exit.failed)
        case "interrupted":
            FileHandle.standardError.write(Data("dossier: interrupted; run the same import again to resume\n".utf8))
            throw Exit.interrupted
        default: break
        }
    }
}

extension Import {
    /// A progress bar on a terminal; not on one (cron, a systemd service), periodic one-line
    /// summaries in the log; nothing with --quiet. No update callback means no display: the
    /// importer then skips sizing Maildir files for it.
    func progressDisplay() -> (update: ((ImportProgress) -> Void)?, finish: () -> Void) {
        if !quiet && !json && stderrIsTerminal {
            let bar = ProgressBar()
            return ({ bar.update($0) }, { bar.finish() })
        }
        if !quiet && !stderrIsTerminal {
            let log = ProgressLog(command: "import")
            return ({ log.update($0) }, {})
        }
        return (nil, {})
    }

    /// The library's options from the command line.
    func importOptions() throws -> ImportOptions {
        var options = ImportOptions(paths: paths)
        options.mailbox = mailbox
        options.folderGlobs = folders
        options.window = try DateWindow.days(since: since, until: until)
        if let workers { options.workers = workers }
        options.commandLine = CommandLine.arguments
        return options
    }
}

/// Ctrl-C asks the import to stop cleanly (commit what was read, mark the run interrupted);
/// a second Ctrl-C quits at once.
final class InterruptHandler: @unchecked Sendable {
    private let source: DispatchSourceSignal
    private var count = 0

    init(_ onInterrupt: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [unowned self] in
            self.count += 1
            if self.count > 1 { Foundation.exit(Exit.interrupted.rawValue) }
            onInterrupt()
        }
        source.resume()
    }

    func restore() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

/// A one-line progress display on stderr: messages, MB/s, msg/s, ETA.
final class ProgressBar {
    private var lastWidth = 0

    func update(_ progress: ImportProgress) {
        let seconds = max(progress.elapsed, 0.001)
        let rate = Double(progress.read) / seconds
        let megabytes = Double(progress.bytes) / 1_048_576 / seconds
        var line = "  \(grouped(progress.read)) messages  " + String(format: "%.0f msg/s  %.1f MB/s", rate, megabytes)
        if progress.totalBytes > 0 {
            let fraction = min(1, Double(progress.sourceBytesDone) / Double(progress.totalBytes))
            let width = 24
            let filled = Int(fraction * Double(width))
            line += "  [" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "]"
            line += String(format: " %3.0f%%", fraction * 100)
            if fraction > 0.01 {
                let remaining = seconds / fraction - seconds
                line += String(format: "  ETA %d:%02d", Int(remaining) / 60, Int(remaining) % 60)
            }
        }
        let padding = max(0, lastWidth - line.count)
        lastWidth = line.count
        FileHandle.standardError.write(Data(("\r" + line + String(repeating: " ", count: padding)).utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: lastWidth) + "\r").utf8))
    }
}

func grouped(_ value: Int) -> String {
    let digits = String(value)
    var out = ""
    for (index, character) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(character)
    }
    return out
}

/// The human form of a run's ledger.
enum LedgerText {
    static func render(_ ledger: RunLedger) -> String {
        var lines: [String] = []
        lines.append("Run \(ledger.run) (\(ledger.command)): \(ledger.status)")
        lines.append("  read         \(grouped(ledger.read))")
        lines.append("  stored       \(grouped(ledger.stored))")
        lines.append("  duplicate    \(grouped(ledger.duplicate))")
        lines.append("  excluded     \(grouped(ledger.excluded))")
        for (reason, count) in ledger.excludedReasons.sorted(by: { $0.key < $1.key }) {
            lines.append("    \(grouped(count))  \(oneLine(reason))")
        }
        lines.append("  quarantined  \(grouped(ledger.quarantined))")
        for (reason, count) in ledger.quarantineReasons.sorted(by: { $0.key < $1.key }) {
            lines.append("    \(grouped(count))  \(oneLine(reason))")
        }
        if ledger.skipped > 0 {
            lines.append("  skipped      \(grouped(ledger.skipped))  (found and not read; not in read)")
            for (reason, count) in ledger.skippedReasons.sorted(by: { $0.key < $1.key }) {
                lines.append("    \(grouped(count))  \(reason)")
            }
        }
        lines.append("  noise        \(grouped(ledger.noise))  (included above: in stored when kept flagged, in excluded when only counted)")
        for (reason, count) in ledger.noiseReasons.sorted(by: { $0.key < $1.key }) {
            lines.append("    \(grouped(count))  \(oneLine(reason))")
        }
        lines.append("  \(grouped(ledger.sources)) sources, " + String(format: "%.1f MB in %.2f s (%.0f msg/s, %.1f MB/s)",
                            Double(ledger.bytes) / 1_048_576, ledger.seconds,
                            ledger.messagesPerSecond, ledger.megabytesPerSecond))
        lines.append(ledger.isBalanced ? "  ledger balances: read = stored + duplicate + excluded + quarantined"
                                       : "  LEDGER DOES NOT BALANCE")
        if let error = ledger.error { lines.append("  error: \(error)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
