@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// `dossier show` against archives built without the readers (see `TestArchive`), through the
/// built binary where the output format is what matters, and the library helpers directly.
final class ShowTests: XCTestCase {
    /// A message with every kind of nesting: multipart/alternative inside multipart/mixed, a PDF,
    /// and an attached message that is itself multipart. CRLF line ends, 8-bit UTF-8 in the body.
    static let nested = """
        From: Alice Example <alice@acme.example>
        To: Bob <bob@firm.example>, carol@firm.example
        Cc: legal@firm.example
        Subject: Nested structure
        Date: Tue, 05 Mar 2024 10:00:00 +0000
        Message-ID: <nested@x>
        X-Trailing-Space: yes\u{20}\u{20}
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="outer"

        This is the preamble.
        --outer
        Content-Type: multipart/alternative; boundary="alt"

        --alt
        Content-Type: text/plain; charset=utf-8

        Plain body café
        --alt
        Content-Type: text/html; charset=utf-8

        <p>HTML body</p>
        --alt--
        --outer
        Content-Type: application/pdf; name="report.pdf"
        Content-Disposition: attachment; filename="report.pdf"
        Content-Transfer-Encoding: base64

        JVBERi0xLjQK
        --outer
        Content-Type: message/rfc822

        From: Carol <carol@x.example>
        Subject: Inner
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="inner"

        --inner
        Content-Type: text/plain

        Inner text
        --inner
        Content-Type: text/csv; name="data.csv"
        Content-Disposition: attachment; filename="data.csv"
        Content-Transfer-Encoding: quoted-printable

        a,b=3Dc
        --inner--
        --outer--
        """.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n"

    private static var nestedBytes: [UInt8] { Array(nested.utf8) }

    // MARK: Library

    func testOutlineNumbersLikeIMAPWithDepths() {
        let bytes = Self.nestedBytes
        let outline = MessagePartSummary.outline(MIMEParser.parse(bytes), bytes: bytes)
        XCTAssertEqual(outline.map(\.part), ["TEXT", "1", "1.1", "1.2", "2", "3", "3.TEXT", "3.1", "3.2"])
        XCTAssertEqual(outline.map(\.depth), [0, 1, 2, 2, 1, 1, 2, 3, 3])
        XCTAssertEqual(outline.map(\.contentType), ["multipart/mixed", "multipart/alternative", "text/plain", "text/html",
                                                    "application/pdf", "message/rfc822", "multipart/mixed", "text/plain", "text/csv"])
        let pdf = outline[4]
        XCTAssertEqual(pdf.fileName, "report.pdf")
        XCTAssertEqual(pdf.disposition, "attachment")
        XCTAssertEqual(pdf.transferEncoding, "base64")
        XCTAssertEqual(pdf.size, 9, "decoded size of %PDF-1.4\\n")
        XCTAssertEqual(outline[2].charset, "utf-8")
        XCTAssertEqual(outline[8].size, 5, "a,b=c")
    }

    func testOutlineOfASinglePartMessage() {
        let bytes = Array(makeMessage(id: "single@x").utf8)
        let outline = MessagePartSummary.outline(MIMEParser.parse(bytes), bytes: bytes)
        XCTAssertEqual(outline.map(\.part), ["1"])
        XCTAssertEqual(outline.first?.depth, 0)
        XCTAssertEqual(outline.first?.size, "Body text.\n".utf8.count)
    }

    func testOriginalOfAnExcludedMessageIsRefused() throws {
        let fixture = try TestArchive([(makeMessage(id: "gone@x", subject: "Ancient"), location("a"))],
                                      classifiers: [ExcludeSubject(word: "Ancient")])
        let key = try fixture.key("gone@x")
        let record = try fixture.archive.database.read { try MessageRecord.resolve($0, key: key) }
        XCTAssertThrowsError(try record.original(in: fixture.archive)) { error in
            guard case MessageContentError.notStored(_, "excluded", "test")? = error as? MessageContentError else {
                return XCTFail("\(error)")
            }
        }
    }

    // MARK: The command

    private func dossier(_ arguments: [String]) throws -> DossierCLI.Outcome {
        try DossierCLI.run(arguments)
    }

    private func nestedArchive() throws -> (TestArchive, String) {
        let fixture = try TestArchive([(Self.nested, location("alice", "INBOX", path: "/mail/alice/cur/1:2,S")),
                                       (Self.nested, location("bob", "Clients/Acme", path: "/mail/bob.mbox"))])
        return (fixture, try fixture.key("nested@x"))
    }

    private func show(_ fixture: TestArchive, _ arguments: [String]) throws -> DossierCLI.Outcome {
        try dossier(["show"] + arguments + ["--archive", fixture.archive.path])
    }

    func testRawIsTheOriginalByteForByte() throws {
        // CRLF, trailing spaces, 8-bit bytes that are not UTF-8, no final newline.
        var bytes = Array("From: a@x.example\r\nSubject: raw \t \r\nMessage-ID: <raw@x>\r\n\r\nLatin-1: ".utf8)
        bytes += [0xE9, 0xFF, 0x00, 0x0D, 0x0A, 0x0D]
        let fixture = try TestArchive(bytes: [(bytes, location("a"))])
        let key = try fixture.key("raw@x")
        let raw = try show(fixture, [key, "--raw"])
        XCTAssertEqual(raw.status, 0, raw.stderr)
        XCTAssertEqual(raw.stdout, bytes)
        let byPrefix = try show(fixture, [String(key.prefix(5)), "--raw"])
        XCTAssertEqual(byPrefix.stdout, bytes)

        let (nested, nestedKey) = try nestedArchive()
        XCTAssertEqual(try show(nested, [nestedKey, "--raw"]).stdout, Self.nestedBytes)
    }

    func testHeadersAreTheOriginalHeaderBlock() throws {
        let (fixture, key) = try nestedArchive()
        let headers = try show(fixture, [key, "--headers"])
        XCTAssertEqual(headers.status, 0, headers.stderr)
        let text = headers.text
        XCTAssertTrue(text.hasPrefix("From: Alice Example <alice@acme.example>\r\n"), text)
        XCTAssertTrue(text.contains("X-Trailing-Space: yes  \r\n"), "bytes as stored, trailing spaces too")
        XCTAssertTrue(text.contains("Content-Type: multipart/mixed; boundary=\"outer\"\r\n"))
        XCTAssertFalse(text.contains("preamble"))
        XCTAssertEqual(Array(headers.stdout), Array(Self.nestedBytes.prefix(headers.stdout.count)), "a prefix of the original")
    }

    func testStructure() throws {
        let (fixture, key) = try nestedArchive()
        let table = try show(fixture, [key, "--structure"])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 10, table.text)
        XCTAssertTrue(lines[0].hasPrefix("PART"))
        XCTAssertEqual(lines.dropFirst().map { String($0.prefix { $0 != " " }) },
                       ["TEXT", "1", "1.1", "1.2", "2", "3", "3.TEXT", "3.1", "3.2"])
        XCTAssertTrue(lines[5].contains("application/pdf") && lines[5].contains("report.pdf") && lines[5].contains("attachment"))

        let json = try show(fixture, [key, "--structure", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let parts = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout)) as? [[String: Any]])
        XCTAssertEqual(parts.compactMap { $0["part"] as? String }, ["TEXT", "1", "1.1", "1.2", "2", "3", "3.TEXT", "3.1", "3.2"])
        XCTAssertEqual(parts.compactMap { $0["depth"] as? Int }, [0, 1, 2, 2, 1, 1, 2, 3, 3])
        XCTAssertEqual(parts[8]["file_name"] as? String, "data.csv")
        XCTAssertEqual(parts[8]["size"] as? Int, 5)
    }

    func testPartWritesDecodedBytes() throws {
        let (fixture, key) = try nestedArchive()
        XCTAssertEqual(try show(fixture, [key, "--part", "2"]).stdout, Array("%PDF-1.4\n".utf8), "base64 undone")
        XCTAssertEqual(try show(fixture, [key, "--part", "3.2"]).stdout, Array("a,b=c".utf8), "quoted-printable undone")
        XCTAssertEqual(try show(fixture, [key, "--part", "1.1"]).stdout, Array("Plain body café".utf8))
        XCTAssertEqual(try show(fixture, [key, "--part", "3.1"]).stdout, Array("Inner text".utf8))
        let missing = try show(fixture, [key, "--part", "4"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("no part 4"), missing.stderr)
        XCTAssertTrue(missing.stdout.isEmpty)
        XCTAssertEqual(try show(fixture, [key, "--part", "../../etc/passwd"]).status, 2)
    }

    func testTextAndAttachments() throws {
        let (fixture, key) = try nestedArchive()
        let text = try show(fixture, [key, "--text"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.text.contains("Plain body café"))
        XCTAssertTrue(text.text.contains("Inner text"))
        XCTAssertFalse(text.text.contains("<p>"), "the plain alternative is the text")

        let attachments = try show(fixture, [key, "--attachments"])
        XCTAssertEqual(attachments.status, 0, attachments.stderr)
        XCTAssertTrue(attachments.text.contains("report.pdf"))
        XCTAssertTrue(attachments.text.contains("data.csv"))
        XCTAssertTrue(attachments.text.contains(ContentHash.sha256Hex(Array("%PDF-1.4\n".utf8))))
        let json = try show(fixture, [key, "--attachments", "--json"])
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout)) as? [[String: Any]])
        XCTAssertEqual(rows.compactMap { $0["part"] as? String }, ["2", "3.2"])
        XCTAssertEqual(rows.first?["size"] as? Int, 9)
    }

    func testSummary() throws {
        let (fixture, key) = try nestedArchive()
        let summary = try show(fixture, [String(key.prefix(8))])
        XCTAssertEqual(summary.status, 0, summary.stderr)
        let text = summary.text
        for expected in [key, "Nested structure", "alice@acme.example", "carol@firm.example", "legal@firm.example",
                         "/mail/alice/cur/1:2,S", "/mail/bob.mbox", "Clients/Acme", "report.pdf", "data.csv",
                         "Plain body café"] {
            XCTAssertTrue(text.contains(expected), "summary lacks \(expected):\n\(text)")
        }
        let json = try show(fixture, [key, "--json"])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        XCTAssertEqual((object["sources"] as? [Any])?.count, 2)
        XCTAssertEqual((object["message"] as? [String: Any])?["key"] as? String, key)
    }

    func testExcludedMessageShowsItsRecordButNoContent() throws {
        let fixture = try TestArchive([(makeMessage(id: "gone@x", subject: "Ancient"), location("a"))],
                                      classifiers: [ExcludeSubject(word: "Ancient")])
        let key = try fixture.key("gone@x")
        let summary = try show(fixture, [key])
        XCTAssertEqual(summary.status, 0, summary.stderr)
        XCTAssertTrue(summary.text.contains("excluded (test)"), summary.text)
        let raw = try show(fixture, [key, "--raw"])
        XCTAssertEqual(raw.status, 2)
        XCTAssertEqual(raw.stderr.split(separator: "\n").count, 1, raw.stderr)
        XCTAssertTrue(raw.stderr.hasPrefix("dossier: "))
    }

    func testBadKeysAndOptions() throws {
        let fixture = try TestArchive([(makeMessage(id: "one@x"), location("a")), (makeMessage(id: "two@x"), location("a"))])
        for key in ["ffffffffffff", "ab", "not-hex!", ""] {
            let result = try show(fixture, [key])
            XCTAssertEqual(result.status, 2, "\(key): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        let key = try fixture.key("one@x")
        XCTAssertEqual(try show(fixture, [key, "--raw", "--text"]).status, 64)
        XCTAssertEqual(try show(fixture, [key, "--raw", "--json"]).status, 64)
    }

    /// Real mail (skipped when the shared corpora are absent): `show --raw` gives back each
    /// source file byte for byte, and every part `--structure` lists can be fetched with `--part`.
    func testRealCorpusRawAndParts() throws {
        let corpus = try SharedCorpora.path("notmuch")
        let dir = try TemporaryDirectory()
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        var options = ImportOptions(paths: [corpus])
        options.workers = 2
        let ledger = try Importer(archive: archive, options: options).run()
        XCTAssertGreaterThan(ledger.stored, 100)

        // Messages read from a file of their own, through the copy their stored bytes came from.
        let rows = try archive.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT message.key, message.sha256, copy.path FROM message JOIN copy ON copy.message = message.id
                WHERE message.status = 'stored' AND copy.offset = -1 AND copy.sha256 = message.sha256
                GROUP BY message.id ORDER BY message.key
                """)
        }
        XCTAssertGreaterThan(rows.count, 100)
        for (index, row) in rows.enumerated() {
            let key: String = row["key"], path: String = row["path"], sha256: String = row["sha256"]
            let original = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            // Every message through the library; a sample through the binary (a process each).
            XCTAssertEqual(try archive.readOriginal(sha256: sha256), original, path)
            let root = MIMEParser.parse(original)
            for part in MessagePartSummary.outline(root, bytes: original) {
                XCTAssertEqual(root.part(part.part)?.decodedBody(in: original).count, part.size, "\(path) part \(part.part)")
            }
            if index % 25 == 0 {
                let raw = try dossier(["show", key, "--raw", "--archive", archive.path])
                XCTAssertEqual(raw.status, 0, raw.stderr)
                XCTAssertEqual(raw.stdout, original, path)
            }
        }
    }
}
