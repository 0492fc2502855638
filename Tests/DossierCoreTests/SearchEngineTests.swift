@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// An archive filled through the import pipeline's own stages (`MessagePreparer` then
/// `ArchiveWriter`), without the readers: each message is given with where it was "read".
final class TestArchive {
    let directory: TemporaryDirectory
    let archive: Archive

    /// `dates` (Message-ID -> Unix seconds) are written over what the parser read: search works on
    /// `message.date`, and these tests must not depend on the Date header parser, developed apart.
    convenience init(_ messages: [(String, MessageLocation)], dates: [String: Int64] = [:],
                     classifiers: [any MessageClassifier] = []) throws {
        try self.init(bytes: messages.map { (Array($0.0.utf8), $0.1) }, dates: dates, classifiers: classifiers)
    }

    init(bytes messages: [([UInt8], MessageLocation)], dates: [String: Int64] = [:],
         classifiers: [any MessageClassifier] = []) throws {
        directory = try TemporaryDirectory()
        archive = try Archive.open(at: directory.sub("archive"), create: true)
        let runID = try archive.database.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO run (command, arguments, started_at, status) VALUES ('import', '[]', '2024-01-01T00:00:00Z', 'running')")
            return db.lastInsertedRowID
        }
        let preparer = MessagePreparer(objects: archive.objects, database: archive.database, pending: PendingBlobs(),
                                       classifiers: classifiers, filer: Filer(index: CRMIndex(CRMDirectory())), noise: NoiseClassifier(),
                                       keepNoise: true, compressionLevel: 1, limits: .default)
        let packs = PackWriter(store: archive.packs)
        let prepared = messages.map { preparer.prepare(RawMessage(bytes: $0.0, location: $0.1), packs: packs) }
        let writer = ArchiveWriter(runID: runID, filer: Filer(index: CRMIndex(CRMDirectory())), packs: archive.packs, keepNoise: true)
        try archive.database.write { db in
            for item in prepared {
                _ = try writer.write(item, db)
            }
            for (messageID, date) in dates {
                try db.execute(sql: "UPDATE message SET date = ? WHERE message_id = ?", arguments: [date, messageID])
            }
        }
    }

    /// The key of the message with this Message-ID.
    func key(_ messageID: String) throws -> String {
        try XCTUnwrap(archive.database.read { try String.fetchOne($0, sql: "SELECT key FROM message WHERE message_id = ?", arguments: [messageID]) })
    }
}

/// Excludes messages whose subject contains a word, as the import window or a noise rule would.
struct ExcludeSubject: MessageClassifier {
    var word: String
    func decide(_ message: ParsedMessage, at location: MessageLocation) -> ImportDecision? {
        (message.subject ?? "").contains(word) ? .exclude(reason: "test") : nil
    }
}

func location(_ mailbox: String, _ folder: String = "", path: String? = nil) -> MessageLocation {
    MessageLocation(mailbox: mailbox, path: path ?? "/mail/\(mailbox)/\(UUID().uuidString)", folder: folder)
}

/// A multipart/mixed message with a text part and one base64 PDF attachment ("%PDF-1.4\n").
func makeMessageWithAttachment(id: String, from: String, subject: String, date: String, body: String,
                               fileName: String, extraHeaders: String = "") -> String {
    """
    From: \(from)\r
    To: bob@firm.example\r
    Subject: \(subject)\r
    Date: \(date)\r
    Message-ID: <\(id)>\r
    \(extraHeaders)MIME-Version: 1.0\r
    Content-Type: multipart/mixed; boundary="b1"\r
    \r
    --b1\r
    Content-Type: text/plain; charset=utf-8\r
    \r
    \(body)\r
    --b1\r
    Content-Type: application/pdf; name="\(fileName)"\r
    Content-Disposition: attachment; filename="\(fileName)"\r
    Content-Transfer-Encoding: base64\r
    \r
    JVBERi0xLjQK\r
    --b1--\r

    """
}

final class SearchEngineTests: XCTestCase {
    // XCTest runs a class's tests one after another, so this lazily built fixture is never raced.
    nonisolated(unsafe) private static var fixture: TestArchive?

    /// Releases the shared corpus, so that its temporary directory is removed with it.
    override class func tearDown() {
        fixture = nil
        super.tearDown()
    }

    /// The corpus every test searches (built once; searches never change it).
    ///
    /// | id | mailbox/folder | date | notes |
    /// |---|---|---|---|
    /// | contract | alice Clients/Acme, shared INBOX | 2024-01-10 | subject "Signed contract", cc legal, contract.pdf |
    /// | invoice | alice INBOX | 2024-03-05 | subject "Invoice 42", to accounts@acme, "Draft share purchase agreement" |
    /// | draft | bob Work | 2023-12-31 23:59:59 | subject "Draft agreement", cc legal, body "contract" twice |
    /// | lunch | bob work/Sub | 2024-02-29 | from alice, bcc secret, body "Invoices" |
    /// | nodate | carol (no folder) | none | subject "Undated note", body "offer" |
    /// | ancient | alice | 2019 | excluded (by subject): must never match |
    private func corpus() throws -> TestArchive {
        if let fixture = Self.fixture { return fixture }
        let contract = makeMessageWithAttachment(
            id: "contract@x", from: "Alice Example <alice@acme.example>", subject: "Signed contract",
            date: "Wed, 10 Jan 2024 09:00:00 +0000", body: "Please find the share purchase agreement attached.",
            fileName: "contract.pdf", extraHeaders: "Cc: Legal Team <legal@firm.example>\r\n")
        let messages: [(String, MessageLocation)] = [
            (contract, location("alice", "Clients/Acme")),
            (makeMessage(id: "invoice@x", from: "Carol Supplier <carol@supplier.example>", to: "accounts@acme.example",
                         subject: "Invoice 42", date: "Tue, 05 Mar 2024 10:00:00 +0000",
                         body: "Invoice for March. Draft share purchase agreement enclosed.\n"), location("alice", "INBOX")),
            (makeMessage(id: "draft@x", from: "Dave Lawyer <dave@firm.example>", subject: "Draft agreement",
                         date: "Sun, 31 Dec 2023 23:59:59 +0000", body: "The contract, the contract again.\n",
                         extraHeaders: "Cc: legal@firm.example\n"), location("bob", "Work")),
            (makeMessage(id: "lunch@x", from: "Alice Example <alice@acme.example>", subject: "Lunch",
                         date: "Thu, 29 Feb 2024 12:00:00 +0000", body: "Invoices are boring.\n",
                         extraHeaders: "Bcc: secret@firm.example\n"), location("bob", "work/Sub")),
            (makeMessage(id: "nodate@x", from: "Carol Supplier <carol@supplier.example>", subject: "Undated note",
                         date: "not a date at all", body: "An offer.\n"), location("carol")),
            (makeMessage(id: "ancient@x", subject: "Ancient contract invoice", date: "Mon, 07 Jan 2019 10:00:00 +0000",
                         body: "agreement offer lunch\n"), location("alice", "INBOX")),
            (contract, location("shared", "INBOX")),
        ]
        let dates: [String: Int64] = [
            "contract@x": 1_704_877_200, // 2024-01-10T09:00:00Z
            "invoice@x": 1_709_632_800, // 2024-03-05T10:00:00Z
            "draft@x": 1_704_067_199, // 2023-12-31T23:59:59Z
            "lunch@x": 1_709_208_000, // 2024-02-29T12:00:00Z
            "ancient@x": 1_546_855_200, // 2019-01-07T10:00:00Z
        ]
        let fixture = try TestArchive(messages, dates: dates, classifiers: [ExcludeSubject(word: "Ancient")])
        Self.fixture = fixture
        return fixture
    }

    /// Message-IDs (without "@x") of the hits, in order.
    private func ids(_ query: String, sort: SearchSort = .relevance, limit: Int? = nil,
                     file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let fixture = try corpus()
        let hits = try SearchEngine(archive: fixture.archive).search(query, sort: sort, limit: limit)
        return try hits.map { hit in try name(of: hit.key, in: fixture) }
    }

    private func ids(_ query: SearchQuery) throws -> [String] {
        let fixture = try corpus()
        return try SearchEngine(archive: fixture.archive).search(query, limit: nil).map { try name(of: $0.key, in: fixture) }
    }

    private func name(of key: String, in fixture: TestArchive) throws -> String {
        let id = try fixture.archive.database.read { try String.fetchOne($0, sql: "SELECT message_id FROM message WHERE key = ?", arguments: [key]) }
        return String((id ?? "?").prefix { $0 != "@" })
    }

    /// Order-insensitive comparison for queries whose ranking is not under test.
    private func assertSet(_ query: String, _ expected: Set<String>, _ note: String = "",
                           file: StaticString = #filePath, line: UInt = #line) {
        do {
            let found = try ids(query)
            XCTAssertEqual(Set(found), expected, "\(query) \(note)", file: file, line: line)
            XCTAssertEqual(found.count, Set(found).count, "\(query): no duplicates", file: file, line: line)
        } catch {
            XCTFail("\(query): \(error)", file: file, line: line)
        }
    }

    // MARK: Terms and fields

    func testFreeTextAndEachField() throws {
        assertSet("contract", ["contract", "draft"])
        assertSet("from:alice", ["contract", "lunch"])
        assertSet("from:alice@acme.example", ["contract", "lunch"])
        assertSet("from:\"Carol Supplier\"", ["invoice", "nodate"])
        assertSet("to:acme.example", ["invoice"])
        assertSet("to:bob@firm.example", ["contract", "draft", "lunch", "nodate"])
        assertSet("cc:legal", ["contract", "draft"])
        assertSet("bcc:secret", ["lunch"])
        assertSet("subject:invoice", ["invoice"])
        assertSet("subject:contract", ["contract"])
        assertSet("body:contract", ["draft"])
        assertSet("body:boring", ["lunch"])
        assertSet("attachment:pdf", ["contract"])
        assertSet("attachment:contract", ["contract"])
        assertSet("secret", ["lunch"])
        assertSet("nothingmatchesthis", [])
    }

    func testPhrasesAndPrefixes() throws {
        assertSet("\"share purchase agreement\"", ["contract", "invoice"])
        assertSet("\"purchase share\"", [])
        assertSet("invoice", ["invoice"])
        assertSet("invoice*", ["invoice", "lunch"])
        assertSet("from:ali*", ["contract", "lunch"])
        assertSet("\"share purch\"*", ["contract", "invoice"])
        assertSet("subject:lun*", ["lunch"])
        assertSet("CONTRACT", ["contract", "draft"])
    }

    // MARK: Boolean combinations

    func testAndOrNot() throws {
        assertSet("agreement -draft", ["contract"])
        assertSet("agreement NOT draft", ["contract"])
        assertSet("agreement AND share", ["contract", "invoice"])
        assertSet("contract OR lunch", ["contract", "draft", "lunch"])
        assertSet("agreement NOT cc:legal", ["invoice"])
        assertSet("(contract OR lunch) -from:alice", ["draft"])
        assertSet("contract OR NOT agreement", ["contract", "draft", "lunch", "nodate"])
        assertSet("agreement (NOT draft OR subject:invoice)", ["contract", "invoice"])
        assertSet("NOT NOT lunch", ["lunch"])
    }

    func testNotOnlyQueriesNeverReturnExcludedMessages() throws {
        assertSet("NOT invoice*", ["contract", "draft", "nodate"])
        assertSet("-(contract OR invoice*)", ["nodate"])
        assertSet("-lunch -contract", ["invoice", "nodate"])
        assertSet("NOT mailbox:alice", ["draft", "lunch", "nodate"])
    }

    func testFiltersMixedWithTerms() throws {
        assertSet("mailbox:bob OR subject:invoice", ["draft", "lunch", "invoice"])
        assertSet("(contract OR lunch) NOT mailbox:alice", ["draft", "lunch"])
        assertSet("mailbox:alice folder:Clients (offer OR agreement) NOT cc:legal", [])
        assertSet("mailbox:alice (agreement OR quote) NOT cc:legal", ["invoice"])
        assertSet("has:attachment OR lunch", ["contract", "lunch"])
    }

    // MARK: Filters

    func testMailboxAndFolder() throws {
        assertSet("mailbox:alice", ["contract", "invoice"])
        assertSet("mailbox:ALICE", ["contract", "invoice"])
        assertSet("mailbox:shared", ["contract"])
        assertSet("mailbox:al*", ["contract", "invoice"])
        assertSet("mailbox:ali", [])
        assertSet("folder:clients", ["contract"])
        assertSet("folder:Clients/Acme", ["contract"])
        assertSet("folder:Client", [])
        assertSet("folder:Work", ["draft", "lunch"])
        assertSet("folder:Work/*", ["lunch"])
        assertSet("folder:wor*", ["draft", "lunch"])
        assertSet("folder:inbox", ["contract", "invoice"])
    }

    func testNamesMatchCaseInsensitivelyBeyondASCII() throws {
        let fixture = try TestArchive([
            (makeMessage(id: "one@x"), location("Écrits", "Dossiers/Émile")),
            (makeMessage(id: "two@x"), location("ecrits", "Dossiers/Emile/Suite")),
            (makeMessage(id: "three@x"), location("Écritures", "Dossiers/Émile2")),
        ])
        let engine = SearchEngine(archive: fixture.archive)
        func found(_ query: String) throws -> Set<String> {
            let keys = try engine.search(query, limit: nil).map(\.key)
            return Set(try ["one@x", "two@x", "three@x"].filter { keys.contains(try fixture.key($0)) })
        }
        XCTAssertEqual(try found("mailbox:écrits"), ["one@x"])
        XCTAssertEqual(try found("mailbox:ÉCRITS"), ["one@x"])
        XCTAssertEqual(try found("mailbox:ecrits"), ["two@x"], "accents are not case")
        XCTAssertEqual(try found("mailbox:écri*"), ["one@x", "three@x"])
        XCTAssertEqual(try found("folder:dossiers/émile"), ["one@x"])
        XCTAssertEqual(try found("folder:DOSSIERS"), ["one@x", "two@x", "three@x"])
        XCTAssertEqual(try found("folder:dossiers/e*"), ["two@x"])
        XCTAssertEqual(try found("NOT folder:dossiers/émile*"), ["two@x"])
        XCTAssertEqual(try found("mailbox:nowhere"), [])
        XCTAssertEqual(try found("NOT mailbox:nowhere"), ["one@x", "two@x", "three@x"])
    }

    func testDates() throws {
        assertSet("date:2024", ["contract", "invoice", "lunch"])
        assertSet("date:2024-02-29", ["lunch"])
        assertSet("date:2024-02", ["lunch"])
        assertSet("date:..2023", ["draft"])
        assertSet("date:2023-12-31", ["draft"])
        assertSet("date:2024-01-01..2024-01-31", ["contract"])
        assertSet("date:2024-02..", ["invoice", "lunch"])
        assertSet("NOT date:2024", ["draft", "nodate"])
    }

    func testHasAttachment() throws {
        assertSet("has:attachment", ["contract"])
        assertSet("-has:attachment", ["invoice", "draft", "lunch", "nodate"])
    }

    // MARK: Order and limit

    func testRelevanceRanksSubjectAboveBody() throws {
        // "agreement" is in draft's subject, in the others' bodies; draft is the oldest.
        XCTAssertEqual(try ids("agreement").first, "draft")
        XCTAssertEqual(try ids("agreement", sort: .date), ["invoice", "contract", "draft"])
        XCTAssertEqual(try ids("agreement", sort: .oldest), ["draft", "contract", "invoice"])
        // "contract" twice in draft's body, once in contract's subject (and its attachment name).
        XCTAssertEqual(try ids("contract"), ["contract", "draft"])
        XCTAssertEqual(try ids("contract", sort: .oldest), ["draft", "contract"])
    }

    func testScoresOnlyWhenRanked() throws {
        let fixture = try corpus()
        let engine = SearchEngine(archive: fixture.archive)
        let ranked = try engine.search("agreement")
        XCTAssertTrue(ranked.allSatisfy { $0.score != nil })
        XCTAssertEqual(ranked.map { $0.score ?? 0 }, ranked.map { $0.score ?? 0 }.sorted(), "bm25: lower is better")
        XCTAssertTrue(try engine.search("agreement", sort: .date).allSatisfy { $0.score == nil })
        XCTAssertTrue(try engine.search("NOT agreement").allSatisfy { $0.score == nil })
    }

    func testUnrankableQueriesComeNewestFirstAndUndatedLast() throws {
        XCTAssertEqual(try ids("NOT has:attachment"), ["invoice", "lunch", "draft", "nodate"])
        XCTAssertEqual(try ids("NOT has:attachment", sort: .oldest), ["draft", "lunch", "invoice", "nodate"])
    }

    func testLimit() throws {
        XCTAssertEqual(try ids("NOT has:attachment", limit: 2), ["invoice", "lunch"])
        XCTAssertEqual(try ids("agreement", sort: .date, limit: 1), ["invoice"])
        XCTAssertEqual(try ids("agreement", limit: 0), [])
    }

    func testHitFields() throws {
        let fixture = try corpus()
        let hits = try SearchEngine(archive: fixture.archive).search("subject:signed")
        XCTAssertEqual(hits.count, 1)
        let hit = try XCTUnwrap(hits.first)
        XCTAssertEqual(hit.key, try fixture.key("contract@x"))
        XCTAssertEqual(hit.subject, "Signed contract")
        XCTAssertEqual(hit.from, "Alice Example <alice@acme.example>")
        XCTAssertEqual(hit.date, Date(timeIntervalSince1970: 1_704_877_200))
        XCTAssertEqual(hit.mailboxes, ["alice", "shared"])
        XCTAssertEqual(hit.folders, ["Clients/Acme", "INBOX"])
        XCTAssertEqual(hit.attachmentCount, 1)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(hit)) as? [String: Any])
        XCTAssertEqual(json["key"] as? String, hit.key)
        XCTAssertEqual(json["from_address"] as? String, "alice@acme.example")
    }

    // MARK: Hostile input

    func testUserTextNeverBecomesFTSOrSQLSyntax() throws {
        // Parsed: NEAR is a word, so this needs "near" in the message and matches nothing.
        assertSet("NEAR(signed contract)", [])
        assertSet("subject:x'; DROP TABLE message; --", [])
        assertSet("{subject}:contract", [])
        assertSet("subject:contract' OR '1'='1", ["contract"], "OR is an operator; the quotes are punctuation")
        assertSet("mailbox:o'brien", [])
        assertSet("folder:\"a\\\"", [])
        // Straight to the engine, values the parser would never produce.
        let hostile = [
            "contract\" OR \"lunch", "contract\" *", "signed\" NOT \"contract", "NEAR(signed contract, 5)",
            "subject : contract", "{subject} : contract", "* contract", "contract\u{0}lunch", "\"", "*", "",
            "col:contract", "^contract", "contract)",
        ]
        for value in hostile {
            // A value means exactly the phrase of its words, whatever else it contains.
            let words = value.split { !($0.isLetter || $0.isNumber) }.joined(separator: " ")
            for field in [nil] + SearchText.Field.allCases.map(Optional.some) {
                for prefix in [false, true] {
                    let found = try ids(.text(SearchText(field: field, value, isPrefix: prefix)))
                    let expected = words.isEmpty ? [] : try ids(.text(SearchText(field: field, words, isPrefix: prefix)))
                    XCTAssertEqual(Set(found), Set(expected), "\(value) in \(field?.rawValue ?? "any"), prefix \(prefix)")
                }
            }
        }
        // Quotes inside a value stay inside the phrase: "contract" then "or" then "lunch" in order.
        XCTAssertEqual(try ids(.text(SearchText("contract\" OR \"lunch"))), [])
        XCTAssertEqual(try ids(.text(SearchText("signed\" \"contract"))), ["contract"])
        XCTAssertEqual(try ids(.mailbox("alice' OR 1=1 --", prefix: false)), [])
        XCTAssertEqual(try ids(.folder("%", prefix: true)), [])
        XCTAssertEqual(try ids(.folder("_NBOX", prefix: false)), [])
    }

    // MARK: Compilation

    func testWhatGetsRanked() throws {
        func ranked(_ text: String) throws -> Bool {
            try SearchEngine.plan(SearchQuery.parse(text), sort: .relevance, limit: 10).ranked
        }
        XCTAssertTrue(try ranked("a"))
        XCTAssertTrue(try ranked("a b OR c"))
        XCTAssertTrue(try ranked("a NOT b"))
        XCTAssertTrue(try ranked("a -(b OR c) -d"))
        XCTAssertTrue(try ranked("a mailbox:x date:2024 NOT cc:legal"))
        XCTAssertTrue(try ranked("(a OR b) NOT mailbox:x"))
        XCTAssertFalse(try ranked("NOT a"))
        XCTAssertFalse(try ranked("mailbox:x OR subject:y"))
        XCTAssertFalse(try ranked("a OR NOT b"))
        XCTAssertFalse(try ranked("has:attachment"))
        XCTAssertFalse(try SearchEngine.plan(SearchQuery.parse("a"), sort: .date, limit: 10).ranked)
    }

    func testFTSExpressions() {
        XCTAssertEqual(SearchEngine.ftsTerm(SearchText("alice@acme.example")), "\"alice@acme.example\"")
        XCTAssertEqual(SearchEngine.ftsTerm(SearchText(field: .from, "ali", isPrefix: true)), "{from_addr} : \"ali\" *")
        XCTAssertEqual(SearchEngine.ftsTerm(SearchText("a\"b")), "\"a\"\"b\"")
        XCTAssertEqual(SearchEngine.ftsExpression(.and([.text(SearchText("a")), .not(.text(SearchText("b"))), .not(.text(SearchText("c")))])),
                       "(\"a\" NOT (\"b\" OR \"c\"))")
        XCTAssertNil(SearchEngine.ftsExpression(.not(.text(SearchText("a")))))
        XCTAssertNil(SearchEngine.ftsExpression(.or([.text(SearchText("a")), .mailbox("x", prefix: false)])))
    }
}
