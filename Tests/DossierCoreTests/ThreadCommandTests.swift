@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// `dossier thread KEY` on the fixture archive (see `FilingFixture`).
final class ThreadCommandTests: XCTestCase {
    func testTheThreadOfARepliesReadBeforeTheirParent() throws {
        let fixture = try FilingFixture()
        let k1 = fixture.key("m1@acme.example"), k2 = fixture.key("m2@firm.example"), k3 = fixture.key("m3@acme.example")

        let text = try DossierCLI.run(["thread", String(k3.prefix(8)), "--archive", fixture.archive])
        XCTAssertEqual(text.status, 0, text.stderr)
        let lines = text.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "Thread of 3 messages")
        XCTAssertTrue(lines[1].hasPrefix("   DATE "), lines[1])
        let rows = Array(lines.dropFirst(2))
        XCTAssertEqual(rows.count, 3)
        XCTAssertTrue(rows[0].contains(k1) && rows[1].contains(k2) && rows[2].contains(k3), "oldest first, replies under their parent")
        XCTAssertTrue(rows[0].contains("2024-03-01 09:00  John Miller <john.miller@acme.example>  [CASE-101] Contract"), rows[0])
        XCTAssertTrue(rows[1].contains("    Re: [CASE-101] Contract"), "indented once: \(rows[1])")
        XCTAssertTrue(rows[2].contains("      Re: [CASE-101] Contract"), "indented twice: \(rows[2])")
        XCTAssertTrue(rows[2].hasPrefix("*"), "the message asked about is marked")
        XCTAssertFalse(rows[0].hasPrefix("*"))
        for row in rows {
            XCTAssertTrue(row.hasSuffix("filed: account:ACME, contact:C-JM, case:K-1"), "filing converged whatever the order: \(row)")
        }

        // Asking from the root gives the same tree.
        let json = try DossierCLI.run(["thread", k1, "--json", "--archive", fixture.archive])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        XCTAssertEqual(object["focus"] as? String, k1)
        XCTAssertEqual(object["messages"] as? Int, 3)
        XCTAssertEqual(object["missing"] as? Int, 0)
        let roots = try XCTUnwrap(object["roots"] as? [[String: Any]])
        XCTAssertEqual(roots.count, 1)
        func key(_ node: [String: Any]) -> String? { (node["message"] as? [String: Any])?["key"] as? String }
        func children(_ node: [String: Any]) -> [[String: Any]] { node["children"] as? [[String: Any]] ?? [] }
        XCTAssertEqual(key(roots[0]), k1)
        XCTAssertEqual(children(roots[0]).map(key), [k2])
        XCTAssertEqual(children(children(roots[0])[0]).map(key), [k3])
        let message = try XCTUnwrap(roots[0]["message"] as? [String: Any])
        XCTAssertEqual(message["filing"] as? String, "filed")
        XCTAssertEqual(message["records"] as? [String], ["account:ACME", "contact:C-JM", "case:K-1"])
        XCTAssertEqual(message["from_address"] as? String, "john.miller@acme.example")
        XCTAssertEqual(message["date"] as? String, "2024-03-01T09:00:00Z")
    }

    func testAMissingParentIsAPlaceholderAndStatusesShow() throws {
        let fixture = try FilingFixture()
        let k4 = fixture.key("m4@acme.example")
        let text = try DossierCLI.run(["thread", k4, "--archive", fixture.archive])
        XCTAssertEqual(text.status, 0, text.stderr)
        let lines = text.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "Thread of 1 message (1 not in archive)")
        XCTAssertTrue(lines[2].contains("(not in archive: <lost@firm.example>)"), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("*") && lines[3].contains("  Re: Delivery dates") && lines[3].contains(k4), lines[3])

        let json = try DossierCLI.run(["thread", k4, "--json", "--archive", fixture.archive])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        let root = try XCTUnwrap((object["roots"] as? [[String: Any]])?.first)
        XCTAssertEqual(root["placeholder"] as? Bool, true)
        XCTAssertEqual(root["message_id"] as? String, "lost@firm.example")
        XCTAssertEqual(((root["children"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["key"] as? String, k4)

        // An unassigned question and its filed answer: each shows its own status.
        let mixed = try DossierCLI.run(["thread", fixture.key("m11@globex.example"), "--archive", fixture.archive])
        let rows = mixed.text.split(separator: "\n").dropFirst(2).map(String.init)
        XCTAssertEqual(rows.count, 2)
        XCTAssertTrue(rows[0].hasSuffix("unassigned"), rows[0])
        XCTAssertTrue(rows[1].hasSuffix("filed: account:GLOBEX, contact:C-SD"), rows[1])
        // A message alone is a thread of one.
        let alone = try DossierCLI.run(["thread", fixture.key("m13@firm.example"), "--archive", fixture.archive])
        XCTAssertEqual(alone.text.split(separator: "\n").count, 3)
        XCTAssertTrue(alone.text.contains("internal"))
    }

    func testUnknownKeysAndTheLibraryWalk() throws {
        let fixture = try FilingFixture()
        let unknown = try DossierCLI.run(["thread", "ffffffff", "--archive", fixture.archive])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.stderr, "dossier: no message with key ffffffff\n")
        XCTAssertEqual(try DossierCLI.run(["thread", "--archive", fixture.archive]).status, 64)

        // The walk goes both ways: from the middle of the thread it finds the parent and the reply.
        let archive = try Archive.open(at: fixture.archive, create: false)
        let ids = try archive.database.read { db -> [String] in
            let middle = try MessageRecord.resolve(db, key: fixture.key("m2@firm.example"))
            let (ids, truncated) = try ArchiveThread.component(of: middle.id, db)
            XCTAssertFalse(truncated)
            return try ids.map { id in try String.fetchOne(db, sql: "SELECT message_id FROM message WHERE id = ?", arguments: [id])! }
        }
        XCTAssertEqual(Set(ids), ["m1@acme.example", "m2@firm.example", "m3@acme.example"])
        let limited = try archive.database.read { db in
            try ArchiveThread.component(of: try MessageRecord.resolve(db, key: fixture.key("m2@firm.example")).id, db, limit: 2)
        }
        XCTAssertTrue(limited.truncated)
        XCTAssertEqual(limited.ids.count, 2)
    }
}
