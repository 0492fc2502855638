@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// The library side of why / assign / unassign / rematch: the thread rule solved at once, manual
/// expansion, and what the rematcher keeps (noise) or refuses (a missing original).
final class FilingLibraryTests: XCTestCase {
    private let x = CRMRecordRef(.account, "X")
    private let y = CRMRecordRef(.account, "Y")

    private var emptyFiler: Filer { Filer(index: CRMIndex(CRMDirectory())) }

    private func node(_ id: String, refs: [String] = [], records: [CRMRecordRef] = [], byRules: Bool = true,
                      removed: Set<CRMRecordRef> = []) -> ThreadConvergence.Node {
        ThreadConvergence.Node(messageID: id, references: refs, byRules: byRules,
                               direct: records.map { FilingMatch(rule: .address, record: $0, matched: "a@x") },
                               manual: ManualFiling(removed: removed))
    }

    /// The records each node inherits, as sorted ids.
    private func inherited(_ nodes: [ThreadConvergence.Node], outside: [String: [CRMRecordRef]] = [:]) -> [[String]] {
        ThreadConvergence(nodes: nodes, outside: outside).solve(filer: emptyFiler).map { Array(Set($0.map(\.record.id))).sorted() }
    }

    // MARK: ThreadConvergence

    func testRecordsFlowDownAThreadWhateverTheOrder() {
        // Replies listed before their parents, as when they were imported first.
        let nodes = [node("c", refs: ["b", "a"]), node("b", refs: ["a"]), node("a", records: [x]), node("d", refs: ["c"], records: [y])]
        XCTAssertEqual(inherited(nodes), [["X"], ["X"], [], ["X"]])
        let matches = ThreadConvergence(nodes: nodes).solve(filer: emptyFiler)[0]
        XCTAssertEqual(matches.map(\.matched), ["b", "a"].sorted(), "one thread match per parent that names the record")
    }

    func testNothingSustainsItselfAndOnlyFiledMessagesPassRecordsOn() {
        // Two messages naming each other, and one naming itself: no record from nowhere.
        XCTAssertEqual(inherited([node("a", refs: ["b"]), node("b", refs: ["a"]), node("s", refs: ["s"], records: [x])]), [[], [], []])
        // An internal (or excluded, or noise) parent passes nothing on, even with matches of its own.
        XCTAssertEqual(inherited([node("p", records: [x], byRules: false), node("r", refs: ["p"])]), [[], []])
        // A record taken out by hand: the rule fires (combine takes it out), but that reply
        // does not pass it on.
        XCTAssertEqual(inherited([node("p", records: [x, y]), node("r", refs: ["p"], removed: [x]), node("rr", refs: ["r"])]),
                       [[], ["X", "Y"], ["Y"]])
        // A parent outside the set counts with the records it has.
        XCTAssertEqual(inherited([node("r", refs: ["out"])], outside: ["out": [y]]), [["Y"]])
    }

    func testADiamondLosesARecordOnBothPaths() {
        // m -> p, q -> c: when m no longer has X, neither path may keep it alive.
        let without = [node("m"), node("p", refs: ["m"]), node("q", refs: ["m"]), node("c", refs: ["p", "q"])]
        XCTAssertEqual(inherited(without), [[], [], [], []])
        let with = [node("m", records: [x]), node("p", refs: ["m"]), node("q", refs: ["m"]), node("c", refs: ["p", "q"])]
        XCTAssertEqual(inherited(with), [[], ["X"], ["X"], ["X"]])
    }

    // MARK: Manual filing in the filer

    func testManualAssignmentsExpandLikeRulesAndRemovalsTakeWhatTheyBroughtIn() throws {
        let dir = try TemporaryDirectory()
        let (directory, _) = try CRMDirectoryLoader.load(from: URL(fileURLWithPath: FilingCommandsFixture.writeCRM(dir, "crm", version: 1)))
        let filer = Filer(index: CRMIndex(directory))
        let john = CRMRecordRef(.contact, "C-JOHN"), acme = CRMRecordRef(.account, "ACME")
        let assigned = filer.combine(direct: [], thread: [], manual: ManualFiling(assigned: [john]))
        XCTAssertEqual(assigned.status, .filed)
        XCTAssertEqual(assigned.evidence, .manual)
        XCTAssertEqual(assigned.matches, [FilingMatch(rule: .manual, record: acme, matched: "dossier assign", via: john),
                                          FilingMatch(rule: .manual, record: john, matched: "dossier assign")])
        let direct = filer.expand(.address, john, matched: "john@acme.example")
            + [FilingMatch(rule: .domain, record: acme, matched: "acme.example")]
        XCTAssertEqual(filer.combine(direct: direct, thread: [], manual: ManualFiling(removed: [john])).matches,
                       [FilingMatch(rule: .domain, record: acme, matched: "acme.example")],
                       "the account stays by its domain, not by the removed contact")
        let pre = PreFiling(exclusion: nil, isInternal: true, direction: .internal, direct: [], references: [])
        XCTAssertEqual(filer.decide(pre).status, .internal)
        XCTAssertEqual(filer.decide(pre, manual: ManualFiling(assigned: [acme])).status, .filed, "a person may file internal mail")
        XCTAssertEqual(filer.decide(pre, noise: NoiseVerdict(kind: .newsletter, isDecisive: false, signals: [])).status, .noise)
        var excluded = pre
        excluded.exclusion = "blacklist"
        XCTAssertEqual(filer.decide(excluded, manual: ManualFiling(assigned: [acme])), FilingDecision(status: .excluded, reason: "blacklist"))
    }

    // MARK: Rematcher and explanation, without the CLI

    private func importFixture(_ dir: TemporaryDirectory, version: Int = 1, options: ((inout ImportOptions) -> Void)? = nil) throws -> Archive {
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        _ = try CRMStore.load(from: URL(fileURLWithPath: FilingCommandsFixture.writeCRM(dir, "crm\(version)", version: version)), into: archive)
        var importOptions = ImportOptions(paths: [try FilingCommandsFixture.writeMail(dir)])
        importOptions.workers = 2
        options?(&importOptions)
        XCTAssertEqual(try Importer(archive: archive, options: importOptions).run().status, "completed")
        return archive
    }

    private func filing(_ archive: Archive, _ messageID: String) throws -> (String?, String?) {
        try archive.database.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT filing, filing_reason FROM message WHERE message_id = ?", arguments: [messageID])
            return (row?["filing"], row?["filing_reason"])
        }
    }

    func testRematchLeavesNoiseAsItIs() throws {
        let dir = try TemporaryDirectory()
        let archive = try importFixture(dir)
        // The noise stage is not there yet: stand in for it.
        try archive.database.write { db in
            try db.execute(sql: "UPDATE message SET filing = 'noise', filing_reason = 'newsletter', evidence = NULL WHERE message_id = 'domain@globex.example'")
            try db.execute(sql: "DELETE FROM filing_match WHERE message = (SELECT id FROM message WHERE message_id = 'domain@globex.example')")
        }
        let report = try Rematcher(archive: archive).run()
        XCTAssertEqual(report.noiseKept, 1)
        XCTAssertEqual(report.updated, 0)
        XCTAssertTrue(report.transitions.contains(RematchReport.Transition(from: "noise", to: "noise", count: 1)))
        XCTAssertEqual(try filing(archive, "domain@globex.example").0, "noise")
        XCTAssertEqual(try filing(archive, "domain@globex.example").1, "newsletter")
        let ledger = try XCTUnwrap(archive.database.read { try RunLedger.load($0) })
        XCTAssertEqual(ledger.command, "rematch")
        XCTAssertEqual(ledger.status, "completed")
        XCTAssertTrue(ledger.isBalanced)
    }

    func testRematchWritesNothingWhenAnOriginalIsMissing() throws {
        let dir = try TemporaryDirectory()
        let archive = try importFixture(dir)
        _ = try CRMStore.load(from: URL(fileURLWithPath: FilingCommandsFixture.writeCRM(dir, "crm2", version: 2)), into: archive)
        for pack in try FileManager.default.contentsOfDirectory(atPath: archive.packs.directoryPath) {
            try FileManager.default.removeItem(atPath: archive.packs.directoryPath + "/" + pack)
        }
        XCTAssertThrowsError(try Rematcher(archive: archive).run())
        XCTAssertEqual(try filing(archive, "lonely@freemail.example").0, "unassigned", "version 2 would have filed it")
        let ledger = try XCTUnwrap(archive.database.read { try RunLedger.load($0) })
        XCTAssertEqual(ledger.command, "rematch")
        XCTAssertEqual(ledger.status, "failed")
        XCTAssertTrue(ledger.error?.contains("cannot read an original") == true, ledger.error ?? "")
    }

    func testWhyGivesTheWindowOfTheImportThatExcluded() throws {
        let dir = try TemporaryDirectory()
        let archive = try importFixture(dir) { options in
            options.window = try! DateWindow.days(since: "2024-03-06", until: nil)
            options.commandLine = ["dossier", "import", "mail", "--since", "2024-03-06"]
        }
        let explanation = try archive.database.read { db in
            try FilingExplanation.explain(key: FilingCommandsFixture.key("address@acme.example"), in: db,
                                          index: CRMIndex(try CRMStore.activeDirectory(in: db)!))
        }
        XCTAssertEqual(explanation.status, "excluded")
        XCTAssertEqual(explanation.reason, "window")
        XCTAssertEqual(explanation.window, FilingExplanation.Window(since: "2024-03-06", until: nil, source: "import run 1: --since/--until"))
        XCTAssertEqual(explanation.summary, [
            "Excluded: dated 2024-03-05T10:00:00.000Z, outside the import window 2024-03-06 .. (open) (import run 1: --since/--until).",
        ])
        XCTAssertEqual(explanation.participants, [], "an excluded message keeps no participants")
    }
}
