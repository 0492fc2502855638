@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// Copies that share a Message-ID but not their bytes (issue 14): every distinct content is
/// reachable (show, --raw --copy N, search, export --all-copies, report duplicates), and
/// identical bytes stay plain duplicates.
final class ContentVariantsTests: XCTestCase {
    private func dossier(_ arguments: [String]) throws -> DossierCLI.Outcome { try DossierCLI.run(arguments, timeout: 120) }

    private static let base = makeMessage(id: "variant@acme.example", from: "John Miller <john.miller@acme.example>",
                                          to: "alice@firm.example", subject: "Contract draft",
                                          body: "Please review the contract before Friday.\n")
    /// The Bcc copy the sender kept: one more header field, the same body.
    private static let bccCopy = base.replacingOccurrences(of: "To: alice@firm.example\n",
                                                           with: "To: alice@firm.example\nBcc: archive@acme.example\n")
    /// The list's copy: List-Id added and a footer with a word no other copy has.
    private static let listCopy = base.replacingOccurrences(of: "Subject: Contract draft\n",
                                                            with: "Subject: Contract draft\nList-Id: <legal.acme.example>\n")
        + "--\nzebrafootnote: sent through the legal list\n"

    /// a, b, c, d in read order: content 1, its Bcc copy, the list's copy, and content 1 again.
    private func importVariants() throws -> (dir: TemporaryDirectory, archive: String, key: String) {
        let dir = try TemporaryDirectory()
        try FilingFixture.writeCRM(dir, "crm")
        try dir.write("mail/a.eml", Self.base)
        try dir.write("mail/b.eml", Self.bccCopy)
        try dir.write("mail/c.eml", Self.listCopy)
        try dir.write("mail/d.eml", Self.base)
        let archive = dir.sub("archive")
        let loaded = try dossier(["crm", "load", dir.sub("crm"), "--archive", archive])
        XCTAssertEqual(loaded.status, 0, loaded.stderr)
        let imported = try dossier(["import", dir.sub("mail"), "--mailbox", "alice", "--archive", archive, "--json"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        let ledger = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(imported.stdout)) as? [String: Any])
        XCTAssertEqual(ledger["stored"] as? Int, 1, "one message")
        XCTAssertEqual(ledger["duplicate"] as? Int, 3, "its other copies")
        return (dir, archive, MessagePreparer.key(messageID: "variant@acme.example", sha256: ""))
    }

    func testDifferenceBetweenOriginals() {
        let base = Array(Self.base.utf8)
        XCTAssertEqual(ContentDifference.between(base, base).kind, .identical)
        let bcc = ContentDifference.between(base, Array(Self.bccCopy.utf8))
        XCTAssertEqual(bcc.kind, .headers)
        XCTAssertEqual(bcc.fields, ["+Bcc"])
        let list = ContentDifference.between(base, Array(Self.listCopy.utf8))
        XCTAssertEqual(list.kind, .body)
        XCTAssertEqual(list.fields, ["+List-Id"])
        let crlf = ContentDifference.between(base, Array(Self.base.replacingOccurrences(of: "\n", with: "\r\n").utf8))
        XCTAssertEqual(crlf.kind, .lineEndings)
        let resent = ContentDifference.between(base, Array(Self.base.replacingOccurrences(of: "Subject: Contract draft", with: "Subject: Contract draft v2").utf8))
        XCTAssertEqual(resent.kind, .headers)
        XCTAssertEqual(resent.fields, ["~Subject"])
        XCTAssertEqual(resent.description, "headers only (~Subject)")
    }

    func testShowListsEveryContentAndRawCopyReturnsEach() throws {
        let (dir, archive, key) = try importVariants()
        defer { _ = dir }
        let show = try dossier(["show", key, "--archive", archive])
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.text.contains("4 copies, 3 different contents"), show.text)
        XCTAssertTrue(show.text.contains("headers only (+Bcc)"), show.text)
        XCTAssertTrue(show.text.contains("body too (+List-Id)"), show.text)
        XCTAssertTrue(show.text.contains("1 (first stored)"), show.text)

        for (copy, expected) in [(1, Self.base), (2, Self.bccCopy), (3, Self.listCopy), (4, Self.base)] {
            let raw = try dossier(["show", key, "--raw", "--copy", String(copy), "--archive", archive])
            XCTAssertEqual(raw.status, 0, raw.stderr)
            XCTAssertEqual(raw.text, expected, "copy \(copy)")
        }
        let text = try dossier(["show", key, "--text", "--copy", "3", "--archive", archive])
        XCTAssertTrue(text.text.contains("zebrafootnote"), text.text)
        let missing = try dossier(["show", key, "--raw", "--copy", "5", "--archive", archive])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("has no copy 5: it has 4"), missing.stderr)

        let json = try dossier(["show", key, "--json", "--archive", archive])
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        let sources = try XCTUnwrap(summary["sources"] as? [[String: Any]])
        XCTAssertEqual(sources.map { $0["content"] as? Int }, [1, 2, 3, 1])
        XCTAssertEqual(sources.map { $0["copy"] as? Int }, [1, 2, 3, 4])
        XCTAssertTrue(sources.allSatisfy { ($0["path"] as? String)?.hasSuffix(".eml") == true }, "the source's fields, as before")
        XCTAssertEqual((sources[1]["difference"] as? [String: Any])?["kind"] as? String, "headers")
    }

    func testSearchFindsEveryContentsWordsOnceAndTheArchiveVerifies() throws {
        let (dir, archive, key) = try importVariants()
        for query in ["zebrafootnote", "contract", "bcc:archive@acme.example", "zebrafootnote has:attachment OR zebrafootnote"] {
            let search = try dossier(["search", query, "--archive", archive, "--json"])
            XCTAssertEqual(search.status, 0, search.stderr)
            let hits = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(search.stdout)) as? [[String: Any]])
            XCTAssertEqual(hits.compactMap { $0["key"] as? String }, [key], query)
        }
        // Importing the same copies again adds no search row and no content.
        let again = try dossier(["import", dir.sub("mail"), "--mailbox", "alice", "--archive", archive, "--json"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let rows = try Archive.open(at: archive, create: false).database.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message_fts_docsize") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM variant") ?? 0)
        }
        XCTAssertEqual(rows.0, 3, "one search row per content")
        XCTAssertEqual(rows.1, 2)
        let verify = try dossier(["verify", "--archive", archive])
        XCTAssertEqual(verify.status, 0, verify.text + verify.stderr)
    }

    func testAssignmentsKeepOneLineAndSaySourcesBytes() throws {
        let (dir, archive, _) = try importVariants()
        defer { _ = dir }
        let report = try dossier(["report", "assignments", "--archive", archive])
        XCTAssertEqual(report.status, 0, report.stderr)
        let lines = report.text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let mine = lines.filter { $0["message_id"] as? String == "variant@acme.example" }
        XCTAssertEqual(mine.count, 1, "one line per Message-ID")
        let sources = try XCTUnwrap(mine.first?["sources"] as? [[String: Any]])
        XCTAssertEqual(sources.map { $0["sha256"] as? String },
                       [Self.base, Self.bccCopy, Self.listCopy, Self.base].map { ContentHash.sha256Hex(Array($0.utf8)) })
        XCTAssertEqual(mine.first?["sha256"] as? String, ContentHash.sha256Hex(Array(Self.base.utf8)))
        XCTAssertEqual(Set(mine.first?.keys.map { $0 } ?? []),
                       ["key", "message_id", "sha256", "status", "reason", "accounts", "contacts", "leads", "cases", "evidence", "date", "sources"])
    }

    func testDuplicatesReportInEveryFormat() throws {
        let (dir, archive, key) = try importVariants()
        try dir.write("plain/x.eml", makeMessage(id: "plain@acme.example", from: "john.miller@acme.example"))
        try dir.write("plain/y.eml", makeMessage(id: "plain@acme.example", from: "john.miller@acme.example"))
        XCTAssertEqual(try dossier(["import", dir.sub("plain"), "--archive", archive, "--quiet"]).status, 0)

        let json = try dossier(["report", "duplicates", "--format", "json", "--archive", archive])
        XCTAssertEqual(json.status, 0, json.stderr)
        let groups = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout)) as? [[String: Any]])
        XCTAssertEqual(groups.count, 2)
        let variant = try XCTUnwrap(groups.first { $0["key"] as? String == key })
        let contents = try XCTUnwrap(variant["contents"] as? [[String: Any]])
        XCTAssertEqual(contents.map { $0["number"] as? Int }, [1, 2, 3])
        XCTAssertEqual(contents.map { $0["copies"] as? [Int] ?? [] }, [[1, 4], [2], [3]])
        XCTAssertEqual(contents.map { ($0["difference"] as? [String: Any])?["kind"] as? String }, [nil, "headers", "body"])
        let plain = try XCTUnwrap(groups.first { $0["message_id"] as? String == "plain@acme.example" })
        XCTAssertEqual((plain["contents"] as? [Any])?.count, 1, "identical bytes are one content: a plain duplicate")

        let onlyVariants = try dossier(["report", "duplicates", "--variants", "--format", "jsonl", "--archive", archive])
        XCTAssertEqual(onlyVariants.text.split(separator: "\n").count, 1, onlyVariants.text)

        let table = try dossier(["report", "duplicates", "--archive", archive])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.text.contains("headers only (+Bcc)"), table.text)
        XCTAssertTrue(table.text.contains("2 messages read more than once: 1 plain duplicate"), table.text)
        let csv = try dossier(["report", "duplicates", "--format", "csv", "--archive", archive])
        XCTAssertEqual(csv.text.split(separator: "\n").first, "key,message_id,status,content,copies,size,sha256,differs,fields,sources")
        XCTAssertTrue(csv.text.contains(",headers,'+Bcc,"), csv.text) // a leading + is quoted for spreadsheets
        let html = try dossier(["report", "duplicates", "--format", "html", "--archive", archive])
        XCTAssertTrue(html.text.contains("<title>Duplicates and variants"), String(html.text.prefix(400)))
        XCTAssertTrue(html.text.contains("body too (+List-Id)"))
    }

    func testExportAllCopiesCarriesEveryContent() throws {
        let (dir, archive, key) = try importVariants()
        let plain = try dossier(["export", "ACME", "--out", dir.sub("one"), "--archive", archive])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let oneFiles = try FileManager.default.contentsOfDirectory(atPath: dir.sub("one/messages"))
        XCTAssertEqual(oneFiles.count, 1, "by default one copy per message")

        let all = try dossier(["export", "ACME", "--out", dir.sub("all"), "--all-copies", "--archive", archive])
        XCTAssertEqual(all.status, 0, all.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.sub("all/messages")).sorted()
        XCTAssertEqual(files.count, 3, "\(files)")
        let bytes = try files.map { try String(contentsOfFile: dir.sub("all/messages/\($0)"), encoding: .utf8) }
        XCTAssertEqual(Set(bytes), [Self.base, Self.bccCopy, Self.listCopy])
        XCTAssertTrue(files.contains { $0.hasSuffix("\(key).content-3.eml") }, "\(files)")
        let mbox = try String(contentsOfFile: dir.sub("all/mail.mbox"), encoding: .utf8)
        XCTAssertEqual(mbox.components(separatedBy: "\nFrom ").count + (mbox.hasPrefix("From ") ? 0 : -1), 3)
        let exportJSON = try String(contentsOfFile: dir.sub("all/export.json"), encoding: .utf8)
        XCTAssertTrue(exportJSON.contains("\"all_copies\""), exportJSON)
        let verified = try dossier(["verify", dir.sub("all")])
        XCTAssertEqual(verified.status, 0, verified.text + verified.stderr)
    }

    /// A list's copy of a stored message is noise by itself (List-Id): it is still another
    /// content of that message, in a later run and in a dry run too.
    func testAListCopyOfAStoredMessageIsAContentInALaterRunAndInADryRun() throws {
        let dir = try TemporaryDirectory()
        try FilingFixture.writeCRM(dir, "crm")
        try dir.write("first/a.eml", Self.base)
        try dir.write("later/c.eml", Self.listCopy)
        let archive = dir.sub("archive")
        XCTAssertEqual(try dossier(["crm", "load", dir.sub("crm"), "--archive", archive]).status, 0)
        XCTAssertEqual(try dossier(["import", dir.sub("first"), "--archive", archive, "--quiet"]).status, 0)
        let preview = try dossier(["import", dir.sub("later"), "--dry-run", "--format", "json", "--archive", archive])
        XCTAssertEqual(preview.status, 0, preview.stderr)
        let rows = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(preview.stdout)) as? [String: Any])?["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["status"] as? String }, ["duplicate"])
        let later = try dossier(["import", dir.sub("later"), "--archive", archive, "--json"])
        let ledger = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(later.stdout)) as? [String: Any])
        XCTAssertEqual(ledger["duplicate"] as? Int, 1)
        XCTAssertEqual(ledger["excluded"] as? Int, 0)
        let key = MessagePreparer.key(messageID: "variant@acme.example", sha256: "")
        let raw = try dossier(["show", key, "--raw", "--copy", "2", "--archive", archive])
        XCTAssertEqual(raw.text, Self.listCopy)
        let search = try dossier(["search", "zebrafootnote", "--archive", archive, "--json"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(search.stdout)) as? [Any])?.count, 1)
    }
}
