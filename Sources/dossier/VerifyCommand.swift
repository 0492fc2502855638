import ArgumentParser
import DossierCore
import Foundation

/// `dossier verify PATH` (an export) and `dossier verify --archive [DIR]` (the archive itself).
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify an export (PATH), or the archive itself (--archive [DIR]).",
        discussion: """
            With --archive (DIR defaults to ./archive, so a bare --archive works): every stored \
            original is inflated and hashed against its name, every attachment and quarantine \
            file likewise; SQLite's integrity and foreign-key checks and the search index's are \
            run; rows pointing at missing objects and objects nothing points at are listed. \
            Prints a summary and one line per finding; exits 5 when anything is damaged or missing, \
            0 otherwise. Unreferenced objects (bytes a killed import appended, blobs a run purged) \
            are listed but harmless, and do not fail the check.

            --repair removes only what nothing references (files in tmp/, attachment and \
            quarantine files no row names, pack files no row names, blob rows no message names, \
            pack bytes no blob points at: a pack is cut back or rewritten crash-safely), says \
            what it removed, and verifies again; it exits 0 when only such objects were found \
            and all are gone. It never removes or changes anything referenced, and never \
            "repairs" damage (a corrupt original stays, and stays reported). It refuses to run \
            while an import or a rematch is using the archive.
            """
    )

    @Argument(help: "An export to verify.")
    var path: String?

    @Option(name: .long, help: ArgumentHelp("Verify the archive in this directory (./archive when given without a value).",
                                            valueName: "dir"))
    var archive: String?

    @Flag(help: "With --archive: remove unreferenced objects, then verify again.")
    var repair = false

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "For an export: the chain head printed when it was made; proves it whole even against a rewritten manifest.")
    var head: String?

    @Option(help: "For an export: the signer's public key (PEM) the signature must verify with.")
    var key: String?

    @Option(help: "Hashing threads (default: the number of cores).")
    var workers: Int?

    /// What a bare `--archive` means (see `Dossier.main()`).
    static let defaultArchive = "./archive"

    func validate() throws {
        if path != nil && archive != nil { throw ValidationError("give an export PATH or --archive [DIR], not both") }
        if path == nil && archive == nil {
            throw ValidationError("give an export PATH to verify it, or --archive [DIR] to verify the archive")
        }
        if repair && archive == nil { throw ValidationError("--repair goes with --archive: an export is never repaired") }
        if archive != nil && (head != nil || key != nil) { throw ValidationError("--head and --key go with an export PATH") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() throws {
        if let path { return try verifyExport(path: path, head: head, keyFile: key, json: json) }
        let directory = archive ?? Self.defaultArchive
        let threads = workers ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
        if repair {
            let outcome = try guarded { () -> ArchiveRepairer.Outcome in
                do {
                    return try ArchiveRepairer(archive: Archive.open(at: directory, create: false), workers: threads).run()
                } catch let error as VerificationError {
                    fail(error.description, Exit.failed)
                }
            }
            if json { try printJSON(outcome) } else { writeOut(Self.text(outcome)) }
            if outcome.after.hasProblems { throw Exit.problemsFound }
            return
        }
        let report = try guarded {
            try ArchiveVerifier(archive: Archive.open(at: directory, create: false, access: .readOnly), workers: threads).verify()
        }
        if json { try printJSON(report) } else { writeOut(Self.text(report)) }
        if report.hasProblems { throw Exit.problemsFound }
    }

    // MARK: - Text

    static func text(_ outcome: ArchiveRepairer.Outcome) -> String {
        var text = text(outcome.before)
        let repair = outcome.repair
        if repair.actions.isEmpty && repair.skipped.isEmpty && outcome.before.isClean { return text }
        text += "\nRepair: \(grouped(repair.actions.count)) actions, \(bytes(repair.freedBytes)) freed\n"
        for action in repair.actions {
            var line = "  \(action.kind.rawValue)  \(oneLine(action.object))  \(grouped(Int(action.bytes))) bytes"
            if let replacement = action.replacement { line += "  -> \(oneLine(replacement))" }
            text += line + "\n"
        }
        for skipped in repair.skipped { text += "  left alone: \(oneLine(skipped))\n" }
        if !repair.actions.isEmpty {
            text += "\nAfter the repair:\n" + Self.text(outcome.after)
        }
        return text
    }

    static func text(_ report: VerificationReport) -> String {
        let unreferenced = report.findings.filter(\.kind.isUnreferenced).count
        var text = "Verified \(oneLine(report.archive)) in " + String(format: "%.2f s", report.seconds) + ": "
        if report.isClean {
            text += "no problems found\n"
        } else if !report.hasProblems {
            text += "no problems found; \(grouped(unreferenced)) unreferenced object\(unreferenced == 1 ? "" : "s") that --repair reclaims\n"
        } else {
            text += "\(grouped(report.findings.count)) problems found"
            if unreferenced == report.findings.count {
                text += ", all of them unreferenced objects (--repair removes them)"
            } else if unreferenced > 0 {
                text += " (\(grouped(unreferenced)) unreferenced objects, which --repair removes)"
            }
            text += "\n"
        }
        let c = report.checked
        var table = TextTable(["CHECKED", "COUNT", "BYTES"])
        table.add(["originals (inflated, hashed)", grouped(c.originals), bytes(c.originalBytes)])
        table.add(["pack files", grouped(c.packs), bytes(c.packBytes)])
        if c.legacyOriginals > 0 { table.add(["legacy original files", grouped(c.legacyOriginals), "-"]) }
        table.add(["attachment files", grouped(c.attachments), bytes(c.attachmentBytes)])
        table.add(["quarantine files", grouped(c.quarantined), bytes(c.quarantineBytes)])
        table.add(["messages", grouped(c.messages), "-"])
        table.add(["copies", grouped(c.copies), "-"])
        table.add(["search index rows", grouped(c.searchRows), "-"])
        table.add(["tmp files", grouped(c.temporaryFiles), "-"])
        text += "\n" + table.render()
        if !report.isClean {
            var kinds = TextTable(["FINDING", "COUNT"])
            for (kind, count) in report.findingsByKind.sorted(by: { $0.key < $1.key }) { kinds.add([kind, grouped(count)]) }
            text += "\n" + kinds.render() + "\n"
            for finding in report.findings {
                var line = "\(finding.kind.rawValue)  \(oneLine(finding.object)): \(oneLine(finding.reason))"
                if finding.kind.isUnreferenced, let size = finding.bytes { line += " [\(grouped(Int(size))) bytes]" }
                text += line + "\n"
            }
        }
        if !report.notes.isEmpty {
            text += "\nNotes:\n" + report.notes.map { "  - \(oneLine($0))\n" }.joined()
        }
        return text
    }

    private static func bytes(_ value: Int64) -> String {
        if value < 1 << 20 { return "\(grouped(Int(value))) B" }
        return String(format: "%.1f MiB", Double(value) / 1_048_576)
    }
}
