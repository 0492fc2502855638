@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// `dossier report unassigned` on the fixture archive (see `FilingFixture`).
final class UnassignedQueueTests: XCTestCase {
    private func queue(_ fixture: FilingFixture, _ extra: [String] = []) throws -> [[String: Any]] {
        let outcome = try DossierCLI.run(["report", "unassigned", "--format", "json", "--archive", fixture.archive] + extra)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.stdout)) as? [[String: Any]])
    }

    private func best(_ item: [String: Any]) -> (record: String?, basis: String?, why: String?) {
        let suggestion = item["suggestion"] as? [String: Any]
        return (suggestion?["record"] as? String, suggestion?["basis"] as? String, suggestion?["why"] as? String)
    }

    func testTheQueueInDateOrderWithSuggestions() throws {
        let fixture = try FilingFixture()
        let items = try queue(fixture)
        let ids = ["m9@news.example", "m6@gmail.com", "m7@acme.com", "m8@other.example", "u1@other.example", "m12@globex.example"]
        XCTAssertEqual(items.compactMap { $0["key"] as? String }, ids.map(fixture.key), "oldest first")

        XCTAssertNil(items[0]["suggestion"] as? [String: Any], "a newsletter is near nothing")
        XCTAssertEqual(items[0]["external"] as? [String], ["news@news.example"], "alice is staff, not external")
        XCTAssertEqual(items[0]["from"] as? String, "News <news@news.example>")
        XCTAssertEqual(items[0]["subject"] as? String, "Weekly news")
        XCTAssertEqual(items[0]["date"] as? String, "2024-02-01T09:00:00Z")

        let name = best(items[1])
        XCTAssertEqual(name.record, "contact:C-JM")
        XCTAssertEqual(name.basis, "name")
        XCTAssertEqual(name.why, "\"John Miller\" <john.miller.private@gmail.com> has the name of contact:C-JM (John Miller (Acme Corporation)), at another address")

        let similar = best(items[2])
        XCTAssertEqual(similar.record, "account:ACME")
        XCTAssertEqual(similar.basis, "similar_domain")
        XCTAssertEqual(similar.why, "acme.com looks like acme.example (same name, other ending), a domain of account:ACME (Acme Corporation)")

        let code = best(items[3])
        XCTAssertEqual(code.record, "case:K-1")
        XCTAssertEqual(code.basis, "case_code")
        XCTAssertEqual(code.why, "the subject mentions CASE-101 without tag brackets: the code of case:K-1 (CASE-101 Supply contract)")

        let thread = best(items[4])
        XCTAssertEqual(thread.record, "account:GLOBEX")
        XCTAssertEqual(thread.basis, "thread")
        XCTAssertEqual(thread.why, "another message of its thread is filed to account:GLOBEX (Globex) (e.g. \(fixture.key("m11@globex.example").prefix(12)))")
        XCTAssertEqual((items[4]["suggestions"] as? [[String: Any]])?.compactMap { $0["record"] as? String },
                       ["account:GLOBEX", "contact:C-SD"])

        let related = best(items[5])
        XCTAssertEqual(related.record, "account:GLOBEX")
        XCTAssertEqual(related.basis, "related_domain")
        XCTAssertEqual(related.why, "us.globex.example, a subdomain of globex.example, is a domain of account:GLOBEX (Globex)")

        let newest = try queue(fixture, ["--newest", "--limit", "2"])
        XCTAssertEqual(newest.compactMap { $0["key"] as? String }, ["m12@globex.example", "u1@other.example"].map(fixture.key))
    }

    func testTableAndCSV() throws {
        let fixture = try FilingFixture()
        let table = try DossierCLI.run(["report", "unassigned", "--archive", fixture.archive])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("DATE              FROM"), lines[0])
        XCTAssertTrue(lines[0].contains("SUGGESTED") && lines[0].hasSuffix("WHY"), lines[0])
        XCTAssertEqual(lines.count, 1 + 6 + 3, table.text)
        XCTAssertTrue(lines[4].contains("case:K-1 (CASE-101 Supply contract)"), lines[4])
        XCTAssertEqual(lines[8], "6 unassigned messages")
        let limited = try DossierCLI.run(["report", "unassigned", "--limit", "1", "--archive", fixture.archive])
        XCTAssertTrue(limited.text.hasSuffix("\n1 of 6 unassigned messages shown (--limit)\n"), limited.text)

        let csv = try DossierCLI.run(["report", "unassigned", "--format", "csv", "--archive", fixture.archive])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        let rows = csv.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(rows.first, "date,from,subject,key,external,suggested,suggested_name,basis,why")
        XCTAssertEqual(rows.count, 7)
        XCTAssertEqual(rows[4], "2024-03-09T09:00:00Z,someone@other.example,About CASE-101 status,\(fixture.key("m8@other.example")),"
                       + "someone@other.example,case:K-1,CASE-101 Supply contract,case_code,"
                       + "the subject mentions CASE-101 without tag brackets: the code of case:K-1 (CASE-101 Supply contract)")

        XCTAssertEqual(try DossierCLI.run(["report", "unassigned", "--format", "xml", "--archive", fixture.archive]).status, 64)
        XCTAssertEqual(try DossierCLI.run(["report", "unassigned", "--limit", "0", "--archive", fixture.archive]).status, 64)
    }

    func testADirectoryLoadedLaterIsTheStrongestSuggestion() throws {
        let fixture = try FilingFixture()
        // A new directory knows other.example; the mail was filed under the old one.
        try FilingFixture.writeCRM(fixture.dir, "crm2", extraAccounts: "OTHER,Other Ltd,other.example,,\n")
        let loaded = try DossierCLI.run(["crm", "load", fixture.dir.sub("crm2"), "--archive", fixture.archive])
        XCTAssertEqual(loaded.status, 0, loaded.stderr)
        let items = try queue(fixture)
        let intro = try XCTUnwrap(items.first { $0["key"] as? String == fixture.key("u1@other.example") })
        XCTAssertEqual((intro["suggestions"] as? [[String: Any]])?.compactMap { $0["basis"] as? String }, ["directory", "thread", "thread"])
        XCTAssertEqual(best(intro).record, "account:OTHER")
        XCTAssertEqual(best(intro).why, "domain other.example is account:OTHER (Other Ltd)'s in the CRM directory in force (filed under an earlier one; dossier rematch re-files)")

        // A record someone took the message out of by hand is not suggested again.
        let archive = try Archive.open(at: fixture.archive, create: false)
        try archive.database.write { db in
            try db.execute(sql: """
                INSERT INTO manual_filing (message, action, kind, record, at)
                SELECT id, 'unassign', 'account', 'OTHER', '2024-03-20T00:00:00Z' FROM message WHERE message_id = 'u1@other.example'
                """)
        }
        let again = try XCTUnwrap(try queue(fixture).first { $0["key"] as? String == fixture.key("u1@other.example") })
        XCTAssertEqual(best(again).record, "account:GLOBEX")
    }

    func testTextHelpers() {
        XCTAssertEqual(UnassignedQueue.registeredDomain("mail.eu.acme.example"), "acme.example")
        XCTAssertEqual(UnassignedQueue.registeredDomain("sales.acme.co.uk"), "acme.co.uk")
        XCTAssertEqual(UnassignedQueue.registeredDomain("Acme.COM."), "acme.com")
        XCTAssertEqual(UnassignedQueue.nameLabel("mail.acme.co.uk"), "acme")
        XCTAssertEqual(UnassignedQueue.tokens("Re: about CASE-101, and imm-4821. Also 2024 and abc"), ["CASE-101", "imm-4821", "2024"])
        XCTAssertEqual(UnassignedQueue.nameKeys("  John   \"Miller\" "), ["john miller"])
        XCTAssertEqual(UnassignedQueue.nameKeys("Miller, John"), ["miller, john", "john miller"])
        XCTAssertEqual(UnassignedQueue.nameKeys("高橋 (Takahashi)"), ["高橋 (takahashi)"], "too short without the remark")
        XCTAssertEqual(UnassignedQueue.nameKeys("Bob"), [])
    }
}
