import DossierCore
import Foundation
import GRDB
import XCTest

final class ImporterTests: XCTestCase {
    private func importPaths(_ paths: [String], into archivePath: String, mailbox: String? = nil,
                             window: DateWindow = .unbounded, workers: Int = 2) throws -> RunLedger {
        let archive = try Archive.open(at: archivePath, create: true)
        var options = ImportOptions(paths: paths)
        options.mailbox = mailbox
        options.window = window
        options.workers = workers
        options.batchSize = 3 // several transactions even for tiny inputs
        return try Importer(archive: archive, options: options).run()
    }

    func testMboxAndMaildirImportIsByteExactAndLedgerBalances() throws {
        let dir = try TemporaryDirectory()
        let m1 = makeMessage(id: "one@client.example", subject: "First")
        let m2 = makeMessage(id: "two@client.example", subject: "Second", body: ">From the start\nline\n")
        try dir.write("in/archive.mbox", "From alice@client.example Tue Mar  5 10:00:00 2024\n\(m1)\nFrom bob Tue Mar  5 10:00:00 2024\n\(m2)\n")
        let m3 = makeMessage(id: "three@client.example", subject: "Third")
        try dir.write("in/maildir/cur/1700000000.1.host:2,S", m3)
        try dir.write("in/maildir/new/1700000001.2.host", makeMessage(id: nil, subject: "No id"))
        try dir.write("in/maildir/tmp/1700000002.3.host", makeMessage(id: "tmp@x", subject: "Never read"))

        let ledger = try importPaths([dir.sub("in")], into: dir.sub("archive"))
        XCTAssertEqual(ledger.status, "completed")
        XCTAssertEqual(ledger.read, 4)
        XCTAssertEqual(ledger.stored, 4)
        XCTAssertTrue(ledger.isBalanced)

        let archive = try Archive.open(at: dir.sub("archive"), create: false)
        // The key is looked up before the read: GRDB database methods are not reentrant.
        let key = String(try ledgerKey(archive, "two@client.example").prefix(8))
        let record = try archive.database.read { try MessageRecord.resolve($0, key: key) }
        // mboxrd: one '>' removed from ">From " lines; the separating blank line is not part of the message.
        XCTAssertEqual(try archive.readOriginal(sha256: record.sha256), Array(m2.replacingOccurrences(of: ">From the", with: "From the").utf8))
        let copies = try archive.database.read { try CopyRecord.all($0, message: record.id) }
        XCTAssertEqual(copies.count, 1)
        XCTAssertNotNil(copies[0].offset)

        let maildirCopy = try archive.database.read { db in
            try CopyRecord.fetchOne(db, sql: "SELECT copy.* FROM copy JOIN message ON message.id = copy.message WHERE message.message_id = 'three@client.example'")
        }
        XCTAssertEqual(maildirCopy?.flags, "S")
        XCTAssertEqual(maildirCopy?.folder, "INBOX")
    }

    func testReimportIsAllDuplicatesAndRecordsNoExtraCopies() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/a.eml", makeMessage(id: "a@x.example"))
        try dir.write("in/b.eml", makeMessage(id: nil, subject: "no id"))
        let first = try importPaths([dir.sub("in")], into: dir.sub("archive"))
        XCTAssertEqual(first.stored, 2)
        let second = try importPaths([dir.sub("in")], into: dir.sub("archive"))
        XCTAssertEqual(second.read, 2)
        XCTAssertEqual(second.duplicate, 2)
        XCTAssertEqual(second.stored, 0)
        let archive = try Archive.open(at: dir.sub("archive"), create: false)
        XCTAssertEqual(try archive.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM copy") }, 2)
        XCTAssertEqual(try archive.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM message") }, 2)
    }

    func testSameMessageInTwoMailboxesRecordsBothSources() throws {
        let dir = try TemporaryDirectory()
        let message = makeMessage(id: "shared@x.example")
        try dir.write("alice/cur/1:2,S", message)
        try dir.write("bob/cur/1:2,", message)
        let first = try importPaths([dir.sub("alice")], into: dir.sub("archive"))
        let second = try importPaths([dir.sub("bob")], into: dir.sub("archive"))
        XCTAssertEqual(first.stored, 1)
        XCTAssertEqual(second.duplicate, 1)
        let archive = try Archive.open(at: dir.sub("archive"), create: false)
        let mailboxes = try archive.database.read { try String.fetchAll($0, sql: "SELECT mailbox FROM copy ORDER BY mailbox") }
        XCTAssertEqual(mailboxes, ["alice", "bob"])
    }

    func testSameMessageIDWithOtherBytesKeepsBothOriginals() throws {
        let dir = try TemporaryDirectory()
        let a = makeMessage(id: "same@x.example", body: "version one\n")
        let b = makeMessage(id: "same@x.example", body: "version two\n")
        try dir.write("in/a.eml", a)
        try dir.write("in/b.eml", b)
        let ledger = try importPaths([dir.sub("in")], into: dir.sub("archive"))
        XCTAssertEqual(ledger.stored, 1)
        XCTAssertEqual(ledger.duplicate, 1)
        let archive = try Archive.open(at: dir.sub("archive"), create: false)
        let hashes = try archive.database.read { try String.fetchAll($0, sql: "SELECT sha256 FROM copy ORDER BY path") }
        XCTAssertEqual(hashes.count, 2)
        XCTAssertNotEqual(hashes[0], hashes[1])
        XCTAssertEqual(try archive.readOriginal(sha256: hashes[0]), Array(a.utf8))
        XCTAssertEqual(try archive.readOriginal(sha256: hashes[1]), Array(b.utf8))
    }

    func testNonMessagesAreQuarantinedWithReasonAndKept() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/empty.eml", [])
        try dir.write("in/binary.bin", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
        try dir.write("in/good.eml", makeMessage(id: "good@x.example"))
        let ledger = try importPaths([dir.sub("in")], into: dir.sub("archive"))
        XCTAssertEqual(ledger.read, 3)
        XCTAssertEqual(ledger.stored, 1)
        XCTAssertEqual(ledger.quarantined, 2)
        XCTAssertTrue(ledger.isBalanced)
        XCTAssertEqual(ledger.quarantineReasons.values.reduce(0, +), 2)
        let archive = try Archive.open(at: dir.sub("archive"), create: false)
        let entries = try archive.database.read { try QuarantineEntry.all($0, run: ledger.run) }
        XCTAssertEqual(entries.count, 2)
        let binary = try XCTUnwrap(entries.first { $0.path.hasSuffix("binary.bin") })
        XCTAssertNotNil(binary.keptAs)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.sub("archive") + "/" + binary.keptAs!))
    }

    func testWindowExcludesByDateButNeverUndatedMail() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/old.eml", makeMessage(id: "old@x", date: "Mon, 01 Jan 2018 00:00:00 +0000"))
        try dir.write("in/new.eml", makeMessage(id: "new@x", date: "Mon, 01 Jan 2024 00:00:00 +0000"))
        try dir.write("in/undated.eml", makeMessage(id: "undated@x", date: "someday soon"))
        let window = try DateWindow.days(since: "2020-01-01", until: nil)
        let ledger = try importPaths([dir.sub("in")], into: dir.sub("archive"), window: window)
        XCTAssertEqual(ledger.stored, 2)
        XCTAssertEqual(ledger.excluded, 1)
        XCTAssertEqual(ledger.excludedReasons, ["window": 1])
        let archive = try Archive.open(at: dir.sub("archive"), create: false)
        let excluded = try archive.database.read { try MessageRecord.fetchOne($0, sql: "SELECT * FROM message WHERE message_id = 'old@x'") }
        XCTAssertEqual(excluded?.status, "excluded")
        XCTAssertNil(excluded?.subject, "excluded messages keep no content")
        XCTAssertFalse(try archive.hasOriginal(sha256: excluded!.sha256))

        // A later import with a wider window gives it its content.
        let wider = try importPaths([dir.sub("in")], into: dir.sub("archive"))
        XCTAssertEqual(wider.stored, 1)
        XCTAssertEqual(wider.duplicate, 2)
        XCTAssertTrue(try archive.hasOriginal(sha256: excluded!.sha256))
    }

    func testAttachmentsAreDecodedOnceAndDeduplicated() throws {
        let dir = try TemporaryDirectory()
        func withAttachment(_ id: String, name: String) -> String {
            """
            From: a@client.example
            To: b@firm.example
            Subject: report \(id)
            Message-ID: <\(id)>
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b1"

            --b1
            Content-Type: text/plain

            See attached.
            --b1
            Content-Type: application/pdf; name="\(name)"
            Content-Disposition: attachment; filename="\(name)"
            Content-Transfer-Encoding: base64

            JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==
            --b1--

            """
        }
        try dir.write("in/1.eml", withAttachment("m1@x", name: "report.pdf"))
        try dir.write("in/2.eml", withAttachment("m2@x", name: "../../etc/passwd"))
        let ledger = try importPaths([dir.sub("in")], into: dir.sub("archive"))
        XCTAssertEqual(ledger.stored, 2)
        let archive = try Archive.open(at: dir.sub("archive"), create: false)
        let rows = try archive.database.read { try Row.fetchAll($0, sql: "SELECT name, sha256, size FROM attachment ORDER BY message") }
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows[0]["name"] as String?, "report.pdf")
        XCTAssertEqual(rows[1]["name"] as String?, "passwd", "a path in an attachment name is never kept")
        XCTAssertEqual(rows[0]["sha256"] as String, rows[1]["sha256"] as String)
        let sha: String = rows[0]["sha256"]
        let stored = try archive.objects.read(.attachment, sha256: sha)
        XCTAssertEqual(Array(stored.prefix(8)), Array("%PDF-1.4".utf8))
        // Nothing was written outside the archive directory.
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/etc/passwd"))
    }

    func testOrderIsDeterministicWhateverTheWorkerCount() throws {
        let dir = try TemporaryDirectory()
        var mbox = ""
        for index in 0..<200 {
            mbox += "From x Tue Mar  5 10:00:00 2024\n" + makeMessage(id: "m\(index)@x", subject: "S\(index)") + "\n"
        }
        try dir.write("in/big.mbox", mbox)
        _ = try importPaths([dir.sub("in/big.mbox")], into: dir.sub("a1"), workers: 1)
        _ = try importPaths([dir.sub("in/big.mbox")], into: dir.sub("a4"), workers: 4)
        func keys(_ path: String) throws -> [String] {
            try Archive.open(at: path, create: false).database.read { try String.fetchAll($0, sql: "SELECT key FROM message ORDER BY id") }
        }
        XCTAssertEqual(try keys(dir.sub("a1")).count, 200)
        XCTAssertEqual(try keys(dir.sub("a1")), try keys(dir.sub("a4")))
    }

    func testMissingPathFailsBeforeAnythingIsWritten() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/a.eml", makeMessage(id: "a@x"))
        XCTAssertThrowsError(try importPaths([dir.sub("in"), dir.sub("nope")], into: dir.sub("archive"))) { error in
            guard case SourceError.notFound = error else { return XCTFail("unexpected \(error)") }
        }
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        XCTAssertEqual(try archive.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM run") }, 0)
    }

    func testCorruptDatabaseIsAClearError() throws {
        let dir = try TemporaryDirectory()
        try dir.write("archive/dossier.sqlite", Array(repeating: 0x41, count: 4096))
        XCTAssertThrowsError(try Archive.open(at: dir.sub("archive"), create: false)) { error in
            guard case StoreError.notAnArchive = error else { return XCTFail("unexpected \(error)") }
        }
    }

    private func ledgerKey(_ archive: Archive, _ messageID: String) throws -> String {
        try archive.database.read { try String.fetchOne($0, sql: "SELECT key FROM message WHERE message_id = ?", arguments: [messageID])! }
    }
}
