@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// `dossier client ID` on the fixture archive (see `FilingFixture`).
final class ClientFileTests: XCTestCase {
    private func json(_ arguments: [String]) throws -> [String: Any] {
        let outcome = try DossierCLI.run(arguments)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.stdout)) as? [String: Any])
    }

    func testAnAccountsFileKeepsItsSubsidiaryApart() throws {
        let fixture = try FilingFixture()
        let k = ["m1@acme.example", "m2@firm.example", "m3@acme.example", "m4@acme.example"].map(fixture.key)
        let file = try json(["client", "ACME", "--json", "--archive", fixture.archive])
        XCTAssertEqual(file["record"] as? String, "account:ACME")
        XCTAssertEqual(file["name"] as? String, "Acme Corporation")
        XCTAssertEqual(file["in_directory"] as? Bool, true)
        let details = try XCTUnwrap(file["details"] as? [String: Any])
        XCTAssertEqual(details["domains"] as? [String], ["acme.example"])
        XCTAssertEqual(details["contacts"] as? [String], ["John Miller (C-JM)"])
        XCTAssertEqual(details["cases"] as? [String], ["K-1 CASE-101 Supply contract"])

        let counts = try XCTUnwrap(file["counts"] as? [String: Any])
        XCTAssertEqual(counts["messages"] as? Int, 4, "m1-m4; m5 is the subsidiary's")
        XCTAssertEqual(counts["threads"] as? Int, 2)
        XCTAssertEqual(counts["by_evidence"] as? [String: Int], ["subject_tag": 1, "thread": 2, "address": 1])
        XCTAssertEqual(counts["by_direction"] as? [String: Int], ["inbound": 3, "outbound": 1])
        XCTAssertEqual(counts["first"] as? String, "2024-03-01T09:00:00Z")
        XCTAssertEqual(counts["last"] as? String, "2024-03-05T09:00:00Z")

        let subsidiaries = try XCTUnwrap(file["subsidiaries"] as? [[String: Any]])
        XCTAssertEqual(subsidiaries.count, 1)
        XCTAssertEqual(subsidiaries.first?["id"] as? String, "ACME-UK")
        XCTAssertEqual(subsidiaries.first?["messages"] as? Int, 1)
        XCTAssertEqual(file["subsidiary_messages"] as? Int, 1)

        // Newest thread first; inside a thread, oldest first.
        let threads = try XCTUnwrap(file["threads"] as? [[String: Any]])
        let keys = threads.map { ($0["messages"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String } }
        XCTAssertEqual(keys, [[k[3]], [k[0], k[1], k[2]]])
        XCTAssertEqual(threads[1]["subject"] as? String, "[CASE-101] Contract")
        let first = try XCTUnwrap((threads[1]["messages"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["evidence"] as? String, "subject_tag")
        XCTAssertEqual(first["direction"] as? String, "inbound")
        XCTAssertEqual(first["from"] as? String, "John Miller <john.miller@acme.example>")
        XCTAssertEqual(file["omitted"] as? Int, 0)

        let text = try DossierCLI.run(["client", "ACME", "--archive", fixture.archive])
        XCTAssertEqual(text.status, 0, text.stderr)
        for expected in ["account:ACME  Acme Corporation\n", "  domains        acme.example\n",
                         "Messages  4 in 2 threads, 2024-03-01 09:00 .. 2024-03-05 09:00\n",
                         "  by evidence   thread 2, subject_tag 1, address 1\n", "  by direction  inbound 3, outbound 1\n",
                         "  ACME-UK  Acme UK Ltd: 1 message\n", "  1 more message is filed to its subsidiaries only\n",
                         "Thread: Re: Delivery dates (1 message)\n", "Thread: [CASE-101] Contract (3 messages)\n"] {
            XCTAssertTrue(text.text.contains(expected), "missing \(expected.debugDescription) in\n\(text.text)")
        }
        XCTAssertFalse(text.text.contains(fixture.key("m5@uk.acme.example")), "the subsidiary's mail is not listed")

        let sub = try json(["client", "ACME-UK", "--json", "--archive", fixture.archive])
        XCTAssertEqual((sub["details"] as? [String: Any])?["parent"] as? String, "Acme Corporation (ACME)")
        XCTAssertEqual((sub["counts"] as? [String: Any])?["messages"] as? Int, 1)
        XCTAssertEqual((sub["counts"] as? [String: Any])?["by_evidence"] as? [String: Int], ["domain": 1])
    }

    func testCasesByCodeContactsAndTheLimit() throws {
        let fixture = try FilingFixture()
        let byCode = try json(["client", "case-101", "--json", "--archive", fixture.archive])
        XCTAssertEqual(byCode["record"] as? String, "case:K-1", "a case's code (any case) names it")
        XCTAssertEqual((byCode["counts"] as? [String: Any])?["messages"] as? Int, 3)
        XCTAssertEqual((byCode["details"] as? [String: Any])?["account"] as? String, "Acme Corporation (ACME)")

        let contact = try json(["client", "C-JM", "--kind", "contact", "--json", "--archive", fixture.archive])
        XCTAssertEqual((contact["counts"] as? [String: Any])?["messages"] as? Int, 4)
        XCTAssertEqual((contact["details"] as? [String: Any])?["emails"] as? [String], ["john.miller@acme.example"])
        XCTAssertEqual((contact["subsidiaries"] as? [Any])?.count, 0)

        let limited = try json(["client", "ACME", "--limit", "2", "--json", "--archive", fixture.archive])
        XCTAssertEqual(limited["omitted"] as? Int, 2)
        let threads = try XCTUnwrap(limited["threads"] as? [[String: Any]])
        XCTAssertEqual(threads.map { ($0["messages"] as? [Any])?.count }, [1, 1], "the newest messages are kept")
        XCTAssertEqual(threads.map { $0["total"] as? Int }, [1, 3])
        XCTAssertEqual((limited["counts"] as? [String: Any])?["messages"] as? Int, 4, "counts cover every message")
        let text = try DossierCLI.run(["client", "ACME", "--limit", "2", "--archive", fixture.archive])
        XCTAssertTrue(text.text.contains("Thread: [CASE-101] Contract (3 messages, 1 shown)\n"), text.text)
        XCTAssertTrue(text.text.hasSuffix("\n2 older messages not listed (--limit)\n"), text.text)

        let unknown = try DossierCLI.run(["client", "NOPE", "--archive", fixture.archive])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.stderr, "dossier: no record NOPE in the CRM directory in force, and no mail filed to one\n")
        XCTAssertEqual(try DossierCLI.run(["client", "ACME", "--kind", "contact", "--archive", fixture.archive]).status, 2)
        XCTAssertEqual(try DossierCLI.run(["client", "ACME", "--kind", "person", "--archive", fixture.archive]).status, 64)
    }

    func testResolvingAmbiguousAndRetiredRecords() throws {
        let fixture = try FilingFixture()
        let archive = try Archive.open(at: fixture.archive, create: false)
        try archive.database.read { db in
            let index = CRMIndex(CRMDirectory(accounts: [Account(id: "X", name: "X Corp")], leads: [Lead(id: "X", company: "X Lead")]))
            XCTAssertThrowsError(try ClientFile.resolve("X", kind: nil, index: index, db)) { error in
                XCTAssertEqual("\(error)", "X names account:X and lead:X; choose one with --kind")
            }
            XCTAssertEqual(try ClientFile.resolve("X", kind: .lead, index: index, db), CRMRecordRef(.lead, "X"))
            // A record the directory in force no longer has, but mail is filed to.
            let retired = try ClientFile.resolve("ACME", kind: nil, index: index, db)
            XCTAssertEqual(retired, CRMRecordRef(.account, "ACME"))
            let file = try ClientFile.load(retired, index: index, db)
            XCTAssertFalse(file.inDirectory)
            XCTAssertNil(file.name)
            XCTAssertEqual(file.counts.messages, 4)
            XCTAssertEqual(file.subsidiaries.count, 0, "subsidiaries come from the directory in force")
        }
    }
}
