@testable import DossierCore
import Foundation
import XCTest

/// `dossier crm load` and `dossier crm status` run the way a user runs them, and the sample
/// directory in samples/crm.
final class CRMCLITests: XCTestCase {
    private var samples: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples/crm").path
    }

    func testLoadStatusAndAFailedLoad() throws {
        let dir = try TemporaryDirectory()
        let archive = dir.sub("archive")

        let loaded = try DossierCLI.run(["crm", "load", samples, "--archive", archive])
        XCTAssertEqual(loaded.status, 0, loaded.stderr)
        XCTAssertEqual(loaded.stderr, "", "the sample directory has no warnings")
        XCTAssertTrue(loaded.text.hasPrefix("CRM load 1: ok, from \(samples)\n"), loaded.text)
        XCTAssertTrue(loaded.text.contains("  accounts  10\n"), loaded.text)
        XCTAssertTrue(loaded.text.contains("  staff     7\n"), loaded.text)

        let status = try DossierCLI.run(["crm", "status", "--archive", archive])
        XCTAssertEqual(status.status, 0, status.stderr)
        for expected in ["CRM directory in force: load 1", "internal domains  firm.example", "groups            Public < Staff < Direction",
                         "window            2020-01-01 .. (open)", "subject tags      case \\[(CASE-[0-9]+)\\]", "noise.store       false",
                         "mode              all"] {
            XCTAssertTrue(status.text.contains(expected), "missing \(expected) in\n\(status.text)")
        }

        try dir.write("bad/accounts.csv", "id,name,parent_id\nA1,Acme,A2\nA2,Acme Holding,A1\n")
        try dir.write("bad/contacts.csv", "id,account_id,emails,excluded\nC1,A1,a@acme.example,perhaps\nC2,A3,b@acme.example,\n")
        try dir.write("bad/rules.yaml", "groups: [Staff]\nmodes: all\n")
        let failed = try DossierCLI.run(["crm", "load", dir.sub("bad"), "--archive", archive])
        XCTAssertEqual(failed.status, 2, "a data error has the bad-input exit code")
        XCTAssertEqual(failed.stdout, [])
        XCTAssertEqual(failed.stderr.split(separator: "\n").map(String.init), [
            dir.sub("bad") + "/accounts.csv:2:3: parent cycle: A1 -> A2 -> A1",
            dir.sub("bad") + "/contacts.csv:2:4: 'perhaps' in column 'excluded' is not a boolean (true/false, yes/no, 1/0)",
            dir.sub("bad") + "/contacts.csv:3:2: unknown account 'A3'",
            dir.sub("bad") + "/rules.yaml:2:1: unknown key 'modes' (expected one of: internal_domains, freemail_domains, blacklist, subject_tags, tracking_codes, groups, noise, mode, window, plus_addressing)",
            "dossier: 4 errors in the CRM directory; nothing was loaded, the previous directory stays in force",
        ])

        let json = try DossierCLI.run(["crm", "status", "--archive", archive, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        let active = try XCTUnwrap(object["active"] as? [String: Any])
        XCTAssertEqual(active["id"] as? Int, 1, "the failed load left the sample directory in force")
        XCTAssertEqual(active["contacts"] as? Int, 11)
        let rules = try XCTUnwrap(object["rules"] as? [String: Any])
        XCTAssertEqual(rules["groups"] as? [String], ["Public", "Staff", "Direction"])
        XCTAssertEqual(rules["internal_domains"] as? [String], ["firm.example"])
        let loads = try XCTUnwrap(object["loads"] as? [[String: Any]])
        XCTAssertEqual(loads.map { $0["status"] as? String }, ["ok", "failed"])
        XCTAssertEqual((loads[1]["errors"] as? [Any])?.count, 4)
    }

    func testJSONAndWarningsOfALoad() throws {
        let dir = try TemporaryDirectory()
        try dir.write("crm/accounts.csv", "id,name\nA1,Acme\n")
        try dir.write("crm/contacts.csv", "id,account_id,emails\nC1,A1,x@acme.example\nC2,A1,x@acme.example\n")
        let loaded = try DossierCLI.run(["crm", "load", dir.sub("crm"), "--archive", dir.sub("archive"), "--json"])
        XCTAssertEqual(loaded.status, 0, loaded.stderr)
        XCTAssertEqual(loaded.stderr, dir.sub("crm") + "/contacts.csv:3:3: warning: address x@acme.example is also an address of contact 'C1' (line 2): mail with it files to both\n")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(loaded.stdout)) as? [String: Any])
        XCTAssertEqual(object["status"] as? String, "ok")
        XCTAssertEqual(object["active"] as? Bool, true)
        XCTAssertEqual((object["warnings"] as? [Any])?.count, 1)
    }

    func testUsageErrors() throws {
        let dir = try TemporaryDirectory()
        let missing = try DossierCLI.run(["crm", "load", dir.sub("nope"), "--archive", dir.sub("archive")])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.sub("archive")), "no archive is created for a missing folder")

        let noArchive = try DossierCLI.run(["crm", "status", "--archive", dir.sub("archive")])
        XCTAssertEqual(noArchive.status, 3)

        let empty = try DossierCLI.run(["import", dir.sub("nope2"), "--archive", dir.sub("archive")])
        XCTAssertEqual(empty.status, 2)
        try dir.write("in/a.eml", makeMessage(id: "a@x"))
        XCTAssertEqual(try DossierCLI.run(["import", dir.sub("in"), "--archive", dir.sub("archive"), "--quiet"]).status, 0)
        let none = try DossierCLI.run(["crm", "status", "--archive", dir.sub("archive")])
        XCTAssertEqual(none.status, 0)
        XCTAssertEqual(none.text, "No CRM directory is loaded (dossier crm load DIR).\n")
    }

    /// samples/crm fits samples/mail: the facts the filing stage will rely on.
    func testTheSampleDirectoryFitsTheSampleMail() throws {
        let (directory, warnings) = try CRMDirectoryLoader.load(from: URL(fileURLWithPath: samples))
        XCTAssertEqual(warnings, [])
        let index = CRMIndex(directory)
        XCTAssertEqual(index.subjectTags.first?.captures(in: "Re: [CASE-10417] Invoice INV-2024-0117 - query").flatMap {
            index.records(named: $0, kind: .case) }, [CRMRecordRef(.case, "GLX-2291")])
        XCTAssertEqual(index.trackingCodes.first?.captures(in: "> ref:IMM-4821:ref").flatMap { index.records(named: $0, kind: .case) },
                       [CRMRecordRef(.case, "IMM-4821")])
        XCTAssertEqual(index.account(forCase: index.case(id: "GLX-2291")!)?.name, "Globex")
        XCTAssertEqual(index.accounts(forDomainOf: "buchhaltung@nordwind.example").map(\.id), ["NORDWIND"])
        XCTAssertEqual(index.accounts(forDomainOf: "scanner@initech.example").map(\.id), ["INITECH"])
        XCTAssertEqual(index.accounts(forDomainOf: "hr@acme-corp.example"), [], "acme-corp.example is not acme.example")
        XCTAssertEqual(index.leads(forAddress: "hr@acme-corp.example").map(\.id), ["L-ACMECORP"])
        XCTAssertEqual(index.accounts(forDomainOf: "priya.patel84@freemail.example"), [], "free-mail")
        XCTAssertEqual(index.accounts(forMainEmail: "priya.patel84@freemail.example").map(\.id), ["PATEL"])
        XCTAssertTrue(index.isInternal("MAILER-DAEMON@mx1.firm.example"))
        XCTAssertTrue(index.isInternal("servicedesk-noreply@firm.example"))
        XCTAssertFalse(index.isInternal("news@mail.legaltech-weekly.example"))
        XCTAssertTrue(index.isExcludedContact("john.miller.home@freemail.example"))
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["alice"]), ["Direction"])
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["bob"]), ["Staff", "Direction"])
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["drop"]), ["Staff", "Direction"], "shared by Alice and Grace")
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["mail"]), ["Direction"], "a mailbox no user lists")
    }
}
