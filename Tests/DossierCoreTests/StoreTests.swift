import DossierCore
import Foundation
import GRDB
import XCTest

final class StoreTests: XCTestCase {
    func testV6KeepsMessagesAndTheLookupByDigestOfThoseWithoutAMessageID() throws {
        let dir = try TemporaryDirectory()
        let queue = try DatabaseQueue(path: dir.sub("old.sqlite"))
        try Schema.migrator.migrate(queue, upTo: "v5: noise")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO run (id, command, arguments, started_at, status) VALUES (1, 'import', '[]', 'now', 'completed')")
            try db.execute(sql: """
                INSERT INTO message (id, key, message_id, sha256, size, first_run) VALUES
                    (1, 'k1', 'a@x', 'aa', 10, 1), (2, 'k2', NULL, 'bb', 20, 1), (3, 'k3', 'c@x', 'bb', 20, 1)
                """)
            try db.execute(sql: "INSERT INTO address (message, role, address) VALUES (1, 'from', 'a@x')")
        }
        try Schema.migrator.migrate(queue)
        try queue.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message"), 3)
            XCTAssertEqual(try String.fetchAll(db, sql: "SELECT address FROM address WHERE message = 1"), ["a@x"])
            XCTAssertEqual(try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('message', 'address') AND sql IS NOT NULL ORDER BY name
                """), ["address_by_message", "message_by_date", "message_by_filing", "message_by_message_id", "message_by_sha256_without_id"])
            // The one lookup by digest (identity without a Message-ID) still uses an index, and
            // finds only the message without one.
            let sql = "SELECT id FROM message WHERE message_id IS NULL AND sha256 = 'bb'"
            let plan = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined()
            XCTAssertTrue(plan.contains("message_by_sha256_without_id"), plan)
            XCTAssertEqual(try Int64.fetchAll(db, sql: sql), [2])
        }
    }

    func testGzipRoundTripAndConcatenatedMembers() throws {
        let text = Array(String(repeating: "Subject: hello world\r\n", count: 500).utf8)
        let packed = try Gzip.compress(text, level: 1)
        XCTAssertLessThan(packed.count, text.count / 5)
        XCTAssertEqual(Array(packed.prefix(2)), [0x1f, 0x8b], "stored objects are plain gzip")
        XCTAssertEqual(try Gzip.decompress(packed), text)
        let second = try Gzip.compress(Array("tail".utf8))
        XCTAssertEqual(try Gzip.decompress(packed + second), text + Array("tail".utf8))
        XCTAssertEqual(try Gzip.decompress(try Gzip.compress([])), [])
    }

    func testGzipRejectsCorruptAndTruncatedData() {
        XCTAssertThrowsError(try Gzip.decompress(Array("not gzip at all".utf8)))
        let packed = (try? Gzip.compress(Array(repeating: 65, count: 10_000))) ?? []
        XCTAssertThrowsError(try Gzip.decompress(Array(packed.prefix(packed.count / 2))))
    }

    func testObjectStoreWritesOnceAndOnlyUnderItsRoot() throws {
        let dir = try TemporaryDirectory()
        let store = ObjectStore(root: dir.path)
        try store.prepare()
        let bytes = Array("attachment".utf8)
        let digest = ContentHash.sha256Hex(bytes)
        XCTAssertTrue(try store.writeIfAbsent(.attachment, sha256: digest, bytes: bytes))
        XCTAssertFalse(try store.writeIfAbsent(.attachment, sha256: digest, bytes: bytes))
        XCTAssertEqual(try store.read(.attachment, sha256: digest), bytes)
        XCTAssertEqual(store.relativePath(.attachment, sha256: digest), "objects/attachments/\(digest.prefix(2))/\(digest)")
        // A damaged name from the database never becomes a path outside the store.
        XCTAssertFalse(store.relativePath(.message, sha256: "../../../etc/passwd").contains(".."))
        XCTAssertThrowsError(try store.read(.message, sha256: "../../../etc/passwd"))
        let tmp = try FileManager.default.contentsOfDirectory(atPath: dir.sub("tmp"))
        XCTAssertEqual(tmp, [], "staging files are renamed into place")
    }

    func testConcurrentWritersAndCompressorsAgree() throws {
        let dir = try TemporaryDirectory()
        let store = ObjectStore(root: dir.path)
        try store.prepare()
        // Eight threads write the same 50 objects (each thread its own compressor and order):
        // every object ends up whole, written once, and nothing is left in a fan-out directory.
        let blobs = (0..<50).map { index in Array("message \(index) ".utf8) + Array(repeating: UInt8(index), count: 3000 * index) }
        let errors = ErrorList()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for blob in (worker % 2 == 0 ? blobs : blobs.reversed()) {
                do {
                    let packed = try Gzip.compress(blob)
                    try store.writeIfAbsent(.attachment, sha256: ContentHash.sha256Hex(blob), bytes: packed)
                } catch {
                    errors.append("\(error)")
                }
            }
        }
        XCTAssertEqual(errors.all, [])
        for blob in blobs {
            XCTAssertEqual(try Gzip.decompress(store.read(.attachment, sha256: ContentHash.sha256Hex(blob))), blob)
        }
        let written = try FileManager.default.subpathsOfDirectory(atPath: dir.sub("objects/attachments")).filter { $0.count > 64 }
        XCTAssertEqual(written.count, blobs.count)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.sub("tmp")), [])
    }

    func testSHA256HexMatchesKnownVector() {
        XCTAssertEqual(ContentHash.sha256Hex(Array("abc".utf8)),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testAttachmentNamesAreSafeToDisplay() {
        XCTAssertEqual(AttachmentName.sanitize("../../etc/passwd"), "passwd")
        XCTAssertEqual(AttachmentName.sanitize("C:\\Windows\\system32\\evil.exe"), "evil.exe")
        XCTAssertEqual(AttachmentName.sanitize("invoice\u{202E}fdp.exe"), "invoicefdp.exe")
        XCTAssertEqual(AttachmentName.sanitize("..."), nil)
        XCTAssertEqual(AttachmentName.sanitize(".hidden"), "hidden")
        XCTAssertEqual(AttachmentName.sanitize("Rechnung März.pdf"), "Rechnung März.pdf")
        XCTAssertEqual(AttachmentName.sanitize(String(repeating: "é", count: 300))?.utf8.count, 254)
        XCTAssertNil(AttachmentName.sanitize(nil))
        XCTAssertEqual(AttachmentName.sanitize("scans/report.pdf//"), "report.pdf")
        XCTAssertEqual(AttachmentName.sanitize(" \t\u{3000}. .profile\u{00A0} "), "profile")
        XCTAssertEqual(AttachmentName.sanitize(":evil\u{0}.exe"), "evil.exe")
        XCTAssertNil(AttachmentName.sanitize("//\\"))
        XCTAssertNil(AttachmentName.sanitize(" \u{202E} "))
    }

    func testDateWindowDays() throws {
        let window = try DateWindow.days(since: "2024-01-01", until: "2024-01-31")
        XCTAssertTrue(window.contains(DateWindow.day("2024-01-31")!.addingTimeInterval(86_399)))
        XCTAssertFalse(window.contains(DateWindow.day("2024-02-01")!))
        XCTAssertFalse(window.contains(DateWindow.day("2023-12-31")!))
        XCTAssertTrue(window.contains(nil), "an unreadable date is never excluded")
        XCTAssertThrowsError(try DateWindow.days(since: "2024-02-30", until: nil))
        XCTAssertThrowsError(try DateWindow.days(since: "2024-03-01", until: "2024-02-01"))
    }
}

/// Error messages collected from several threads.
private final class ErrorList: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func append(_ message: String) { lock.lock(); messages.append(message); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return messages }
}
