@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// Loads recorded in the archive: the active directory, failed loads, the history.
final class CRMStoreTests: XCTestCase {
    private func crmFolder(_ dir: TemporaryDirectory, _ name: String, _ files: [String: String]) throws -> URL {
        for (file, text) in files { try dir.write(name + "/" + file, text) }
        return URL(fileURLWithPath: dir.sub(name))
    }

    func testAFailedLoadLeavesThePreviousDirectoryInForce() throws {
        let dir = try TemporaryDirectory()
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        XCTAssertNil(try archive.database.read { try CRMStore.activeDirectory(in: $0) })

        let good = try crmFolder(dir, "good", [
            "accounts.csv": "id,name,domains\nA1,Acme,acme.example\n",
            "contacts.csv": "id,account_id,emails\nC1,A1,x@acme.example\nC2,A1,X@acme.example\n",
            "rules.yaml": "groups: [Staff, Partners]\n",
        ])
        let first = try CRMStore.load(from: good, into: archive)
        XCTAssertEqual(first.load.status, .ok)
        XCTAssertEqual(first.load.accounts, 1)
        XCTAssertEqual(first.load.contacts, 2)
        XCTAssertEqual(first.load.warnings.count, 1)
        XCTAssertEqual(first.load.rulesYAML, "groups: [Staff, Partners]\n")

        let bad = try crmFolder(dir, "bad", [
            "accounts.csv": "id,name\nA1,Acme\nA1,Acme again\n",
            "rules.yaml": "mode: never\n",
        ])
        XCTAssertThrowsError(try CRMStore.load(from: bad, into: archive)) { error in
            XCTAssertEqual((error as? CRMLoadError)?.errors.map(\.description), [
                "accounts.csv:3:1: duplicate id 'A1' (first on line 2)",
                "rules.yaml:1:7: mode must be all or matched_only, not 'never'",
            ])
        }

        let (active, activeLoad, loads) = try archive.database.read { db in
            (try CRMStore.activeDirectory(in: db), try CRMStore.activeLoad(in: db), try CRMStore.loads(in: db))
        }
        XCTAssertEqual(active, first.directory, "the previous directory stays in force")
        XCTAssertEqual(activeLoad?.id, first.load.id)
        XCTAssertEqual(loads.map(\.status), [.ok, .failed])
        XCTAssertEqual(loads.map(\.active), [true, false])
        XCTAssertEqual(loads[1].errors.count, 2)
        XCTAssertEqual(loads[1].rulesYAML, "mode: never\n")
        XCTAssertEqual(loads[1].sourceDir, bad.path)

        // A newer good load replaces it; the archive reopened sees the same.
        let newer = try crmFolder(dir, "newer", ["accounts.csv": "id,name\nG1,Globex\n"])
        let second = try CRMStore.load(from: newer, into: archive)
        let reopened = try Archive.open(at: dir.sub("archive"), create: false)
        let state = try reopened.database.read { db in (try CRMStore.activeDirectory(in: db), try CRMStore.loads(in: db)) }
        XCTAssertEqual(state.0, second.directory)
        XCTAssertEqual(state.1.map(\.active), [false, false, true])
    }

    func testAnArchiveFromBeforeTheCRMIsUpgradedOnOpen() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.sub("archive"), withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: dir.sub("archive/") + Archive.databaseName)
        try Schema.migrator.migrate(queue, upTo: "v1: core archive")
        XCTAssertFalse(try queue.read { try $0.tableExists("crm_load") })
        try queue.close()
        let archive = try Archive.open(at: dir.sub("archive"), create: false)
        XCTAssertTrue(try archive.database.read { try $0.tableExists("crm_load") && $0.tableExists("crm_snapshot") })
        XCTAssertEqual(try archive.database.read { try CRMStore.loads(in: $0) }, [])
    }

    func testAMissingFolderRecordsNothing() throws {
        let dir = try TemporaryDirectory()
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        XCTAssertThrowsError(try CRMStore.load(from: URL(fileURLWithPath: dir.sub("nope")), into: archive)) { error in
            XCTAssertTrue(error is SourceError)
        }
        XCTAssertEqual(try archive.database.read { try CRMStore.loads(in: $0) }.count, 0)
    }

    func testTheSnapshotRoundTripsEveryField() throws {
        let dir = try TemporaryDirectory()
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        var rules = CRMRules()
        rules.internalDomains = ["firm.example"]
        rules.subjectTags = [CRMPattern(pattern: "\\[(CASE-[0-9]+)\\]", kind: .case)]
        rules.window = CRMWindow(since: DateWindow.day("2020-01-01"), before: nil, sinceText: "2020-01-01")
        rules.mode = .matchedOnly
        rules.plusAddressing = true
        rules.source = "mode: matched_only\n"
        let directory = CRMDirectory(
            accounts: [Account(id: "A1", name: "Acme", domains: ["acme.example"], mainEmail: "info@acme.example", parentID: nil),
                       Account(id: "A2", name: "Acme EU", parentID: "A1")],
            contacts: [Contact(id: "C1", accountID: "A1", name: "Jürgen", emails: ["j@acme.example"], excluded: true)],
            leads: [Lead(id: "L1", contactEmails: ["a@b.example"])],
            cases: [Case(id: "K1", accountID: "A1", code: "CASE-1", title: "Contract")],
            staff: [StaffMember(id: "S1", name: "Alice", email: "alice@firm.example", mailboxes: ["alice"], group: "Staff")],
            rules: rules)
        _ = try archive.database.write { db in try CRMStore.save(directory, from: URL(fileURLWithPath: "/crm"), in: db) }
        XCTAssertEqual(try archive.database.read { try CRMStore.activeDirectory(in: $0) }, directory)
    }

    func testACorruptSnapshotIsAnErrorNotACrash() throws {
        let directory = CRMDirectory(accounts: [Account(id: "A1", name: "Acme", domains: ["acme.example"])],
                                     contacts: [Contact(id: "C1", accountID: "A1", emails: ["a@acme.example"])])
        let bytes = try CRMSnapshot.encode(directory)
        XCTAssertEqual(try CRMSnapshot.decode(bytes), directory)
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try CRMSnapshot.decode(Array(bytes.prefix(length))), "truncated at \(length)")
        }
        XCTAssertThrowsError(try CRMSnapshot.decode(bytes + [0]), "trailing bytes")
        var huge = Array(bytes.prefix(5))
        huge += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]
        XCTAssertThrowsError(try CRMSnapshot.decode(huge), "a length beyond the data")
    }

    /// The filing stage reads the directory at the start of every import and rematch.
    func testReadingBackALargeDirectoryIsQuick() throws {
        let dir = try TemporaryDirectory()
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        let directory = CRMDirectory(
            accounts: (0..<5_000).map { Account(id: "A\($0)", name: "Client \($0) GmbH", domains: ["client\($0).example"], mainEmail: "info@client\($0).example") },
            contacts: (0..<100_000).map { Contact(id: "C\($0)", accountID: "A\($0 % 5_000)", name: "Person Number \($0)", emails: ["person.\($0)@client\($0 % 5_000).example"]) },
            cases: (0..<20_000).map { Case(id: "K\($0)", accountID: "A\($0 % 5_000)", code: "CASE-\($0)", title: "Matter \($0)") })
        _ = try archive.database.write { db in try CRMStore.save(directory, from: URL(fileURLWithPath: "/crm"), in: db) }
        let start = Date()
        let read = try archive.database.read { try CRMStore.activeDirectory(in: $0) }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(read?.contacts.count, 100_000)
        // About 0.15 s in a debug build (JSON took about 1 s, see CRMSnapshot).
        XCTAssertLessThan(elapsed, 1, "reading back 100k contacts took \(elapsed) s")
        print("CRM snapshot of 100k contacts read back in \(String(format: "%.3f", elapsed)) s")
    }
}
