import DossierCore
import Foundation
import XCTest

/// Runs the built `dossier` binary the way a user does: exit codes, one-line errors, output.
final class CLITests: XCTestCase {
    private func dossier(_ arguments: [String]) throws -> DossierCLI.Outcome {
        try DossierCLI.run(arguments)
    }

    func testImportSearchShowAndReport() throws {
        let dir = try TemporaryDirectory()
        let original = makeMessage(id: "cli@client.example", from: "Carla Client <carla@client.example>",
                                   subject: "Signed engagement letter", body: "Please find the engagement letter.\r\n")
            .replacingOccurrences(of: "\n", with: "\r\n").replacingOccurrences(of: "\r\r\n", with: "\r\n")
        try dir.write("in/letter.eml", original)
        try dir.write("in/junk.bin", [0, 1, 2, 3, 0, 0])
        let archive = dir.sub("archive")

        let imported = try dossier(["import", dir.sub("in"), "--archive", archive, "--json"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        let ledger = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(imported.stdout)) as? [String: Any])
        XCTAssertEqual(ledger["read"] as? Int, 2)
        XCTAssertEqual(ledger["stored"] as? Int, 1)
        XCTAssertEqual(ledger["duplicate"] as? Int, 0)
        XCTAssertEqual(ledger["quarantined"] as? Int, 1)
        XCTAssertEqual(ledger["excluded"] as? Int, 0)

        let search = try dossier(["search", "from:carla engagement", "--archive", archive, "--json"])
        XCTAssertEqual(search.status, 0, search.stderr)
        let hits = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(search.stdout)) as? [[String: Any]])
        XCTAssertEqual(hits.count, 1)
        let key = try XCTUnwrap(hits.first?["key"] as? String)

        let raw = try dossier(["show", key, "--raw", "--archive", archive])
        XCTAssertEqual(raw.status, 0, raw.stderr)
        XCTAssertEqual(raw.stdout, Array(original.utf8), "--raw prints the original bytes exactly")

        let prefix = try dossier(["show", String(key.prefix(6)), "--archive", archive])
        XCTAssertEqual(prefix.status, 0, prefix.stderr)
        XCTAssertTrue(prefix.text.contains("Signed engagement letter"))

        let report = try dossier(["report", "run", "--archive", archive])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(report.text.contains("junk.bin"))
    }

    func testErrorsAreOneLineWithDocumentedExitCodes() throws {
        let dir = try TemporaryDirectory()
        let archive = dir.sub("archive")

        let missingPath = try dossier(["import", dir.sub("does-not-exist"), "--archive", archive])
        XCTAssertEqual(missingPath.status, 2)
        XCTAssertEqual(missingPath.stderr.split(separator: "\n").count, 1, missingPath.stderr)
        XCTAssertTrue(missingPath.stderr.hasPrefix("dossier: "))

        let noArchive = try dossier(["search", "x", "--archive", archive])
        XCTAssertEqual(noArchive.status, 3)
        XCTAssertEqual(noArchive.stderr.split(separator: "\n").count, 1, noArchive.stderr)

        try dir.write("in/a.eml", makeMessage(id: "a@x"))
        XCTAssertEqual(try dossier(["import", dir.sub("in"), "--archive", archive, "--quiet"]).status, 0)

        let badQuery = try dossier(["search", "(unbalanced", "--archive", archive])
        XCTAssertEqual(badQuery.status, 2)
        XCTAssertEqual(badQuery.stderr.split(separator: "\n").count, 1, badQuery.stderr)

        let badKey = try dossier(["show", "ffffffffffff", "--archive", archive])
        XCTAssertEqual(badKey.status, 2)

        let badDay = try dossier(["import", dir.sub("in"), "--since", "2024-13-01", "--archive", archive])
        XCTAssertEqual(badDay.status, 2)

        try dir.write("corrupt/dossier.sqlite", Array(repeating: 0x42, count: 8192))
        let corrupt = try dossier(["report", "run", "--archive", dir.sub("corrupt")])
        XCTAssertEqual(corrupt.status, 3)
        XCTAssertEqual(corrupt.stderr.split(separator: "\n").count, 1, corrupt.stderr)
        XCTAssertFalse(corrupt.stderr.contains("Fatal error"))
    }

    /// `dossier search` on an archive built without the readers (see `TestArchive`).
    func testSearchCommand() throws {
        let fixture = try TestArchive([
            (makeMessage(id: "old@x", from: "Carla Client <carla@client.example>", subject: "Engagement letter",
                         body: "The engagement letter, signed.\n"), location("alice", "INBOX")),
            (makeMessage(id: "new@x", from: "Dan <dan@firm.example>", subject: "Re: invoice",
                         body: "About the engagement.\n"), location("bob", "Clients/Acme")),
        ], dates: ["old@x": 1_700_000_000, "new@x": 1_710_000_000])
        let archive = fixture.archive.path
        let oldKey = try fixture.key("old@x"), newKey = try fixture.key("new@x")

        let lines = try dossier(["search", "engagement", "--archive", archive])
        XCTAssertEqual(lines.status, 0, lines.stderr)
        let rows = lines.text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows.map { $0.first ?? "" }, [oldKey, newKey], "subject and body beat body only")
        XCTAssertEqual(rows.first, [oldKey, "2023-11-14T22:13:20Z", "Carla Client <carla@client.example>", "Engagement letter", "alice"])

        XCTAssertEqual(try dossier(["search", "engagement", "--sort", "date", "--archive", archive]).text.prefix(16), Substring(newKey))
        XCTAssertEqual(try dossier(["search", "engagement", "--sort", "oldest", "--limit", "1", "--archive", archive]).text
            .split(separator: "\n").count, 1)
        // Several arguments are one query.
        let joined = try dossier(["search", "from:dan", "engagement", "--json", "--archive", archive])
        let hits = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(joined.stdout)) as? [[String: Any]])
        XCTAssertEqual(hits.compactMap { $0["key"] as? String }, [newKey])
        XCTAssertEqual(hits.first?["mailboxes"] as? [String], ["bob"])
        XCTAssertEqual(hits.first?["folders"] as? [String], ["Clients/Acme"])
        let none = try dossier(["search", "nothingmatches", "--json", "--archive", archive])
        XCTAssertEqual(none.status, 0)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(none.stdout)) as? [Any])?.count, 0)

        let bad = try dossier(["search", "engagement (letter", "--archive", archive])
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.stderr, "dossier: bad query: unbalanced parenthesis at 12\n")
        XCTAssertTrue(bad.stdout.isEmpty)
        let hostile = try dossier(["search", "x\" NEAR( {subject}:", "--archive", archive])
        XCTAssertEqual(hostile.status, 2)
        XCTAssertEqual(hostile.stderr, "dossier: bad query: unterminated quote at 2\n")
        XCTAssertEqual(try dossier(["search", "NEAR(engagement letter) col:x * \"\"*", "--archive", archive]).status, 0)
        XCTAssertEqual(try dossier(["search", "x", "--sort", "bogus", "--archive", archive]).status, 64)
        XCTAssertEqual(try dossier(["search", "x", "--limit", "0", "--archive", archive]).status, 64)
    }
}
