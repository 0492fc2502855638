import ArgumentParser
import DossierCore
import Foundation

struct CRMStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The CRM directory in force (when, from where, counts, rules) and the history of loads."
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let (loads, directory) = try guarded {
            try openArchiveForReading(archiveOptions).database.read { db in (try CRMStore.loads(in: db), try CRMStore.activeDirectory(in: db)) }
        }
        let active = loads.first(where: \.active)
        if json {
            struct Output: Encodable {
                var active: CRMLoad?
                var rules: CRMRules?
                var loads: [CRMLoad]
            }
            return try printJSON(Output(active: active, rules: directory?.rules, loads: loads))
        }
        var text = ""
        if let active, let directory {
            text += "CRM directory in force: load \(active.id), loaded \(active.loadedAt)\n"
            text += "  from      \(oneLine(active.sourceDir))\n"
            text += "  records   \(grouped(active.accounts)) accounts, \(grouped(active.contacts)) contacts, "
                + "\(grouped(active.leads)) leads, \(grouped(active.cases)) cases, \(grouped(active.staff)) staff\n"
            text += "  warnings  \(active.warnings.count)\n\n"
            text += Self.rulesText(directory.rules)
        } else {
            text += "No CRM directory is loaded (dossier crm load DIR).\n"
        }
        if !loads.isEmpty {
            var table = TextTable(["LOAD", "LOADED", "STATUS", "ACCOUNTS", "CONTACTS", "LEADS", "CASES", "STAFF", "WARNINGS", "ERRORS", "FROM"])
            for load in loads {
                table.add([String(load.id) + (load.active ? "*" : ""), load.loadedAt, load.status.rawValue,
                           grouped(load.accounts), grouped(load.contacts), grouped(load.leads), grouped(load.cases),
                           grouped(load.staff), grouped(load.warnings.count), grouped(load.errors.count), load.sourceDir])
            }
            text += "\nLoads (* in force):\n" + table.render()
        }
        writeOut(text)
    }

    static func rulesText(_ rules: CRMRules) -> String {
        func list(_ values: [String]) -> String { values.isEmpty ? "-" : values.joined(separator: ", ") }
        func patterns(_ values: [CRMPattern]) -> String {
            values.isEmpty ? "-" : values.map { "\($0.kind.rawValue) \($0.pattern)" }.joined(separator: "; ")
        }
        let window = rules.window.sinceText == nil && rules.window.untilText == nil ? "unbounded"
            : "\(rules.window.sinceText ?? "(open)") .. \(rules.window.untilText ?? "(open)")"
        let rows: [(String, String)] = [
            ("internal domains", list(rules.internalDomains)),
            ("free-mail domains", list(rules.freemailDomains) + " (and \(FreemailDomains.builtIn.count) built in)"),
            ("blacklist", "domains: \(list(rules.blacklist.domains)); addresses: \(list(rules.blacklist.addresses))"),
            ("subject tags", patterns(rules.subjectTags)),
            ("tracking codes", patterns(rules.trackingCodes)),
            ("groups", rules.groups.isEmpty ? "- (no access control)" : rules.groups.joined(separator: " < ")),
            ("mode", rules.mode.rawValue),
            ("window", window),
            ("noise.store", String(rules.noise.store)),
            ("plus addressing", rules.plusAddressing ? "on (a+tag@x is a@x)" : "off"),
        ]
        return "Rules:\n" + rows.map { "  " + $0.0.padding(toLength: 18, withPad: " ", startingAt: 0) + oneLine($0.1) }
            .joined(separator: "\n") + "\n"
    }
}
