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
            resume); 64 bad command-line usage.
            """,
        subcommands: [Import.self, Search.self, Show.self, Report.self, CRM.self, ThreadCommand.self, ClientCommand.self,
                      Why.self, Assign.self, Unassign.self, Rematch.self, ExportCommand.self, KeyCommand.self]
    )

    /// What exports record as the tool that made them.
    static let versionText = "dossier 0.7.0-dev"
}
