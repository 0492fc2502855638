import ArgumentParser
import DossierCore
import Foundation

/// `dossier crm`: the CRM directory the filing stage files mail against.
struct CRM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crm",
        abstract: "Load the CRM directory (accounts, contacts, leads, cases, staff, rules.yaml) and show what is loaded.",
        discussion: "The folder's format is described in the README (CRM directory).",
        subcommands: [CRMLoadCommand.self, CRMStatusCommand.self]
    )
}

/// `file:line:column: message` with the folder as the user wrote it in front, the way compilers
/// name files, so an editor can jump to it.
func crmLocation(_ diagnostic: CRMDiagnostic, in folder: String) -> String {
    let base = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
    return oneLine("\(base)/\(diagnostic.description)")
}
