import ArgumentParser
import DossierCore

/// `dossier`: a thin shell over DossierCore, one file per subcommand.
@main
struct Dossier: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dossier",
        abstract: "Offline email archiver for client-facing firms.",
        discussion: """
            Exit codes: 0 success; 1 the run failed (archive I/O, see the message); 2 bad input \
            (a path that does not exist, a bad query, an unknown key, a CRM directory with errors, \
            an unknown record or a message that cannot be filed by hand); \
            3 the archive is missing, \
            corrupt or from a newer Dossier; 4 interrupted (Ctrl-C; run the same import again to \
            resume); 5 verification found problems (dossier verify); 6 another run is writing to \
            the archive; 7 import --drop completed and quarantined something; 64 bad command-line usage.
            """,
        version: versionText,
        subcommands: [Import.self, Search.self, Show.self, Report.self, CRM.self, ThreadCommand.self, ClientCommand.self,
                      Why.self, Assign.self, Unassign.self, Rematch.self, ExportCommand.self, Verify.self, KeyCommand.self,
                      Check.self]
    )

    /// The release this source tree is.
    static let version = "0.7.0-dev"

    /// `dossier --version`, and what exports record as the tool that made them: the version and,
    /// in a build made by scripts/package from a git checkout, the commit it was built from.
    static let versionText = "dossier \(version)" + (BuildStamp.revision.map { " (\($0))" } ?? "")

    /// The entry point: ArgumentParser's, after one rewrite of the command line.
    static func main() {
        DossierLogging.bootstrap()
        main(Array(bareArchiveSpelledOut(CommandLine.arguments.dropFirst())))
    }

    /// `dossier verify --archive` takes an optional value, which ArgumentParser options cannot
    /// have: so, for `verify` only, an `--archive` that ends the command line or is followed by
    /// another option (`--archive --repair`) gets the default directory spelled out after it.
    /// `--archive DIR` and `--archive=DIR` are left as they are; everything after `--` too (a
    /// directory whose name starts with '-' is given as `--archive=-dir`).
    static func bareArchiveSpelledOut<C: Collection>(_ arguments: C) -> [String] where C.Element == String {
        let arguments = Array(arguments)
        guard arguments.first == Verify.configuration.commandName else { return arguments }
        var result: [String] = []
        for (index, argument) in arguments.enumerated() {
            if argument == "--" {
                result += arguments[index...]
                break
            }
            result.append(argument)
            if argument == "--archive" {
                let next = index + 1 < arguments.count ? arguments[index + 1] : nil
                if next.map({ $0.hasPrefix("-") }) ?? true { result.append(Verify.defaultArchive) }
            }
        }
        return result
    }
}
