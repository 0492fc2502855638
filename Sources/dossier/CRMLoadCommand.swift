import ArgumentParser
import DossierCore
import Foundation

struct CRMLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load a CRM directory folder; it replaces the directory in force only if it has no errors.",
        discussion: """
            The folder holds accounts.csv (required), contacts.csv, leads.csv, cases.csv, staff.csv and \
            rules.yaml. It is checked whole: every error is printed as FILE:LINE:COLUMN: MESSAGE and \
            nothing is loaded (exit code 2); the previous directory stays in force. Every load, failed \
            or not, is recorded (see `dossier crm status`). Warnings (an address shared by two \
            contacts, say) do not stop a load.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: ArgumentHelp("The CRM directory folder.", valueName: "dir"))
    var folder: String

    @Flag(help: "Print the load's record as JSON.")
    var json = false

    func run() throws {
        let url = URL(fileURLWithPath: folder)
        let outcome = try guarded { () -> Result<CRMLoad, CRMLoadError> in
            // Check the folder before creating an archive for it.
            guard FileManager.default.fileExists(atPath: url.path) else { throw SourceError.notFound(path: url.path) }
            // The directory must be loaded before the first import files mail against it, so
            // this may be the command that creates the archive.
            let archive = try openArchive(archiveOptions, create: true)
            do {
                return .success(try CRMStore.load(from: url, into: archive).load)
            } catch let error as CRMLoadError {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let load):
            printWarnings(load.warnings)
            if json { return try printJSON(load) }
            var text = "CRM load \(load.id): ok, from \(oneLine(load.sourceDir))\n"
            for (name, count) in [("accounts", load.accounts), ("contacts", load.contacts), ("leads", load.leads),
                                  ("cases", load.cases), ("staff", load.staff), ("warnings", load.warnings.count)] {
                text += "  " + name.padding(toLength: 10, withPad: " ", startingAt: 0) + grouped(count) + "\n"
            }
            writeOut(text)
        case .failure(let error):
            printWarnings(error.warnings)
            for diagnostic in error.errors {
                FileHandle.standardError.write(Data((crmLocation(diagnostic, in: folder) + "\n").utf8))
            }
            if json {
                let load = try guarded { try openArchiveForReading(archiveOptions).database.read { try CRMStore.loads(in: $0).last } }
                if let load { try printJSON(load) }
            }
            fail("\(error.errors.count) error\(error.errors.count == 1 ? "" : "s") in the CRM directory; nothing was loaded, the previous directory stays in force",
                 Exit.badInput)
        }
    }

    private func printWarnings(_ warnings: [CRMDiagnostic]) {
        for warning in warnings {
            var located = warning
            located.message = "warning: " + warning.message
            FileHandle.standardError.write(Data((crmLocation(located, in: folder) + "\n").utf8))
        }
    }
}
