@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// `dossier import --dry-run`: a preview that writes nothing (see `FilingFixture`).
final class ImportDryRunTests: XCTestCase {
    /// New mail for the fixture archive: a reply to Alice's m2, a copy of m1, a file that is not
    /// a message, a subsidiary's message with an attachment, an internal note.
    private func writeNewMail(_ fixture: FilingFixture) throws -> String {
        let dir = fixture.dir
        try dir.write("new/a.eml", makeMessage(id: "n1@gmail.com", from: "Someone <someone@gmail.com>", to: FilingFixture.alice,
                                               subject: "Re: Contract", date: "Thu, 14 Mar 2024 09:00:00 +0000",
                                               extraHeaders: FilingFixture.reply(to: "m2@firm.example", ["m1@acme.example", "m2@firm.example"])))
        try dir.write("new/b.eml", FilingFixture.messages[2].1)
        try dir.write("new/c.eml", "this is not a message\n")
        try dir.write("new/d.eml", """
            From: Bob Jones <bob@uk.acme.example>
            To: alice@firm.example
            Subject: Order form
            Date: Fri, 15 Mar 2024 09:00:00 +0000
            Message-ID: <n4@uk.acme.example>
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b"

            --b
            Content-Type: text/plain

            See attached.
            --b
            Content-Type: application/pdf; name="order.pdf"
            Content-Disposition: attachment; filename="order.pdf"
            Content-Transfer-Encoding: base64

            JVBERi0xLjQKJcOkw7zDtsOfCg==
            --b--

            """)
        try dir.write("new/e.eml", makeMessage(id: "n5@firm.example", from: FilingFixture.alice, to: "bob@firm.example",
                                               subject: "Note", date: "Sat, 16 Mar 2024 09:00:00 +0000"))
        return dir.sub("new")
    }

    func testADryRunOnAnArchiveChangesNothingAndPreviewsEveryMessage() throws {
        let fixture = try FilingFixture()
        let new = try writeNewMail(fixture)
        let before = try FilingFixture.snapshot(fixture.archive)

        let outcome = try DossierCLI.run(["import", new, "--mailbox", "alice", "--dry-run", "--format", "json", "--archive", fixture.archive])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.stdout)) as? [String: Any])
        XCTAssertEqual(object["dry_run"] as? Bool, true)
        let rows = try XCTUnwrap(object["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 5, "one row per item read")
        XCTAssertEqual(rows.map { $0["status"] as? String }, ["filed", "duplicate", "quarantined", "filed", "internal"])
        XCTAssertEqual(rows[0]["records"] as? [String], ["account:ACME", "contact:C-JM", "case:K-1"], "the thread rule against the archive")
        XCTAssertEqual(rows[0]["context"] as? String, "reply", "it answers a message the firm sent")
        XCTAssertEqual(rows[0]["key"] as? String, fixture.key("n1@gmail.com"))
        XCTAssertEqual(rows[0]["received"] as? String, "2024-03-14T09:00:00Z")
        XCTAssertEqual(rows[0]["from"] as? String, "Someone <someone@gmail.com>")
        XCTAssertEqual(rows[1]["key"] as? String, fixture.key("m1@acme.example"))
        XCTAssertEqual(rows[1]["records"] as? [String], ["account:ACME", "contact:C-JM", "case:K-1"], "a duplicate shows where it already is")
        XCTAssertEqual(rows[2]["reason"] as? String, "no header block")
        XCTAssertEqual(rows[2]["path"] as? String, new + "/c.eml")
        XCTAssertEqual(rows[3]["records"] as? [String], ["account:ACME-UK"])
        XCTAssertEqual(rows[4]["context"] as? String, "new")
        XCTAssertTrue(rows.allSatisfy { $0["update"] is NSNull })
        let ledger = try XCTUnwrap(object["ledger"] as? [String: Any])
        XCTAssertEqual(ledger["read"] as? Int, 5)
        XCTAssertEqual(ledger["stored"] as? Int, 3)
        XCTAssertEqual(ledger["duplicate"] as? Int, 1)
        XCTAssertEqual(ledger["quarantined"] as? Int, 1)
        XCTAssertEqual(object["statuses"] as? [String: Int], ["filed": 2, "duplicate": 1, "quarantined": 1, "internal": 1])

        let after = try FilingFixture.snapshot(fixture.archive)
        XCTAssertEqual(after.files, before.files, "no pack, attachment, quarantine file or anything else")
        XCTAssertEqual(after.content, before.content, "no row: not the messages, not the run")

        // The table form, and then the real import agrees with the preview.
        let table = try DossierCLI.run(["import", new, "--mailbox", "alice", "--dry-run", "--archive", fixture.archive])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "RECEIVED".padding(toLength: 18, withPad: " ", startingAt: 0) + "FROM".padding(toLength: 32, withPad: " ", startingAt: 0)
                       + "SUBJECT".padding(toLength: 42, withPad: " ", startingAt: 0) + "IMPORTED INTO".padding(toLength: 34, withPad: " ", startingAt: 0)
                       + "CONTEXT  STATUS")
        XCTAssertTrue(lines[1].contains("Re: Contract") && lines[1].contains("account:ACME, contact:C-JM, cas…")
                      && lines[1].hasSuffix("reply    filed"), "records clipped to the column: \(lines[1])")
        XCTAssertTrue(lines[3].hasPrefix("-" + String(repeating: " ", count: 17) + "-" + String(repeating: " ", count: 31) + "…"), lines[3])
        XCTAssertTrue(lines[3].contains("/new/c.eml  "), "a quarantined input shows the end of its path: \(lines[3])")
        XCTAssertTrue(lines[3].hasSuffix("quarantined (no header block)"), lines[3])
        XCTAssertTrue(table.text.contains("\nDry run (completed): nothing was written to the archive\n"
                                          + "  status       filed 2, internal 1, quarantined 1, duplicate 1\n"
                                          + "  mailboxes    alice 5\n  read         5\n"), table.text)
        XCTAssertEqual(try FilingFixture.snapshot(fixture.archive).content, before.content)

        let real = try DossierCLI.run(["import", new, "--mailbox", "alice", "--json", "--archive", fixture.archive])
        XCTAssertEqual(real.status, 0, real.stderr)
        let assignments = try DossierCLI.run(["report", "assignments", "--archive", fixture.archive])
        let n1 = try XCTUnwrap(assignments.text.split(separator: "\n").first { $0.contains(fixture.key("n1@gmail.com")) })
        XCTAssertTrue(n1.contains("\"status\":\"filed\"") && n1.contains("\"accounts\":[\"ACME\"]") && n1.contains("\"cases\":[\"K-1\"]"), String(n1))
    }

    func testWithoutAnArchiveNothingIsCreatedAndCrmGivesTheDirectory() throws {
        let fixture = try FilingFixture(importing: false)
        let archive = fixture.dir.sub("none/archive")
        let scratch = FileManager.default.temporaryDirectory.path
        let leftovers = { try FileManager.default.contentsOfDirectory(atPath: scratch).filter { $0.hasPrefix("dossier-dry-run-") } }
        let before = try leftovers()

        let csv = try DossierCLI.run(["import", fixture.mail, "--mailbox", "alice", "--dry-run", "--crm", fixture.crm, "--format", "csv",
                                      "--archive", archive])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.dir.sub("none")), "the archive is not created")
        XCTAssertEqual(Set(try leftovers()), Set(before), "the temporary archive is removed")
        XCTAssertTrue(csv.stderr.hasPrefix("Dry run (completed): nothing was written to the archive\n"), "the ledger goes to stderr with csv")

        let rows = csv.text.split(separator: "\n").map { String($0) }
        XCTAssertEqual(rows.first, "received,from,subject,imported_into,context,status,reason,key,mailbox,path,offset,update")
        XCTAssertEqual(rows.count, 1 + 13 + 2, "13 messages, then the two replies that came before their parent, in their final state")
        func row(_ messageID: String, update: String = "") -> String? {
            rows.first { $0.contains(",\(fixture.key(messageID)),") && $0.hasSuffix(",\(update)") }
        }
        // m3 was read first: filed by its tag and address, re-filed by thread once m1 came.
        let m3 = try XCTUnwrap(row("m3@acme.example"))
        XCTAssertTrue(m3.contains(",account:ACME; contact:C-JM; case:K-1,reply,filed,,"), m3)
        XCTAssertNotNil(row("m3@acme.example", update: "refiled"))
        XCTAssertNotNil(row("m2@firm.example", update: "refiled"))
        XCTAssertNil(row("m1@acme.example", update: "refiled"))
        XCTAssertTrue(try XCTUnwrap(row("m5@uk.acme.example")).contains(",account:ACME-UK,new,filed,"))
        XCTAssertTrue(try XCTUnwrap(row("m13@firm.example")).contains(",,new,internal,"))
        XCTAssertTrue(try XCTUnwrap(row("m9@news.example")).contains(",,new,unassigned,"))

        // Without --crm there is no directory to file against: said on stderr, everything external unassigned.
        let bare = try DossierCLI.run(["import", fixture.mail, "--mailbox", "alice", "--dry-run", "--format", "json", "--archive", archive])
        XCTAssertEqual(bare.status, 0, bare.stderr)
        XCTAssertTrue(bare.stderr.contains("no --crm DIR"), bare.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bare.stdout)) as? [String: Any])
        XCTAssertEqual(object["statuses"] as? [String: Int], ["unassigned": 13])
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.dir.sub("none")))
    }

    func testACrmDirectoryPreviewsAgainstAnArchiveWithoutLoadingIt() throws {
        let fixture = try FilingFixture()
        try FilingFixture.writeCRM(fixture.dir, "crm2", extraAccounts: "OTHER,Other Ltd,other.example,,\n")
        let before = try FilingFixture.snapshot(fixture.archive)
        let outcome = try DossierCLI.run(["import", fixture.mail, "--mailbox", "bob", "--dry-run", "--crm", fixture.dir.sub("crm2"),
                                          "--format", "json", "--archive", fixture.archive])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.stdout)) as? [String: Any])
        XCTAssertEqual(object["statuses"] as? [String: Int], ["duplicate": 13], "everything is in the archive already")
        XCTAssertEqual(try FilingFixture.snapshot(fixture.archive).content, before.content, "the directory was not loaded")
        let status = try DossierCLI.run(["crm", "status", "--json", "--archive", fixture.archive])
        XCTAssertEqual(((try JSONSerialization.jsonObject(with: Data(status.stdout)) as? [String: Any])?["loads"] as? [Any])?.count, 1)
    }

    func testUsageAndBadDirectories() throws {
        let fixture = try FilingFixture(importing: false)
        let archive = fixture.dir.sub("archive")
        XCTAssertEqual(try DossierCLI.run(["import", fixture.mail, "--format", "csv", "--archive", archive]).status, 64)
        XCTAssertEqual(try DossierCLI.run(["import", fixture.mail, "--crm", fixture.crm, "--archive", archive]).status, 64)
        XCTAssertEqual(try DossierCLI.run(["import", fixture.mail, "--dry-run", "--json", "--format", "csv", "--archive", archive]).status, 64)
        try fixture.dir.write("bad/accounts.csv", "id,name\nA1,Acme\nA1,Again\n")
        let bad = try DossierCLI.run(["import", fixture.mail, "--dry-run", "--crm", fixture.dir.sub("bad"), "--archive", archive])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("/bad/accounts.csv:3:1:"), bad.stderr)
        XCTAssertTrue(bad.stderr.hasSuffix("dossier: 1 error in the CRM directory \(fixture.dir.sub("bad"))\n"), bad.stderr)
        let missing = try DossierCLI.run(["import", fixture.dir.sub("nothing"), "--dry-run", "--archive", archive])
        XCTAssertEqual(missing.status, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: archive))
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.dir.sub("archive")))
    }

    /// The library: rows stream one per item, the ledger balances, and the archive keeps its rows.
    func testTheLibraryGivesOneRowPerItemAndRollsBack() throws {
        let fixture = try FilingFixture()
        let new = try writeNewMail(fixture)
        var options = ImportOptions(paths: [new])
        options.mailbox = "alice"
        options.workers = 2
        options.batchSize = 2
        var rows: [ImportPreviewRow] = []
        let ledger = try Importer.dryRun(archiveAt: fixture.archive, options: options) { rows.append($0) }
        XCTAssertEqual(ledger.status, "completed")
        XCTAssertTrue(ledger.isBalanced)
        XCTAssertEqual(rows.count, ledger.read)
        XCTAssertEqual(rows.map(\.statusText), ["filed", "duplicate", "quarantined (no header block)", "filed", "internal"])
        let archive = try Archive.open(at: fixture.archive, create: false)
        try archive.database.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message"), 13)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run"), 1)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine"), 0)
        }
    }
}
