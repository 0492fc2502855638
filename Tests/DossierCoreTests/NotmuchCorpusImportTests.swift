import DossierCore
import Foundation
import GRDB
import XCTest

/// Imports notmuch's test corpora (../shared/corpora/notmuch) and checks that Dossier finds the
/// same distinct messages that notmuch itself counts on them.
///
/// The expected numbers were taken once with Debian's notmuch 0.37: each folder copied alone to
/// a fresh mail root, `notmuch new`, then `notmuch count '*'` (and the whole tree as one root:
/// 276). notmuch, like Dossier, counts a message once however many files hold it (same
/// Message-ID) and names a message without one by a hash of its file.
///
/// One known, deliberate difference: `insert/mbox-attachment.eml` starts with an mbox "From " line
/// and holds a second one (a `git format-patch` header inside an attached diff, after a blank
/// line). notmuch takes any file that starts with "From " for an mbox and refuses one holding more
/// than one message, so it ignores the file ("Ignoring non-mail file") and counts 0. Dossier reads
/// a file starting with "From " as an mbox too, but never drops mail: it stores both messages the
/// mbox rules find there, so that folder counts 2 and the whole tree 276 + 2.
final class NotmuchCorpusImportTests: XCTestCase {
    /// `notmuch count '*'` per top-level folder, each imported alone.
    private static let notmuchCounts: [String: Int] = [
        "attachment": 2, "broken": 4, "crypto": 4, "default": 52, "duplicate": 3, "html": 2,
        "indexing": 2, "lkml": 176, "mangling": 1, "pkcs7": 1, "protected-headers": 19, "threading": 12,
    ]

    private func importTree(_ path: String, into archivePath: String) throws -> RunLedger {
        let archive = try Archive.open(at: archivePath, create: true)
        var options = ImportOptions(paths: [path])
        options.workers = 2
        return try Importer(archive: archive, options: options).run()
    }

    func testEachFolderHasNotmuchsMessageCount() throws {
        let root = try SharedCorpora.path("notmuch")
        for (folder, expected) in Self.notmuchCounts.sorted(by: { $0.key < $1.key }) {
            let dir = try TemporaryDirectory()
            let ledger = try importTree(root + "/" + folder, into: dir.sub("archive"))
            XCTAssertEqual(ledger.status, "completed", folder)
            XCTAssertTrue(ledger.isBalanced, folder)
            XCTAssertEqual(ledger.stored, expected, "distinct messages in notmuch/\(folder)")
            XCTAssertEqual(ledger.quarantined, 0, "every file of notmuch/\(folder) is mail")
        }
    }

    func testWholeTreeMatchesNotmuchAndKeepsTheMboxThatNotmuchRefuses() throws {
        let root = try SharedCorpora.path("notmuch")
        let dir = try TemporaryDirectory()
        let ledger = try importTree(root, into: dir.sub("archive"))
        XCTAssertEqual(ledger.status, "completed")
        XCTAssertTrue(ledger.isBalanced)
        XCTAssertEqual(ledger.stored, 276 + 2)
        // COPYING and README are the only files that are not mail; they are kept in quarantine.
        XCTAssertEqual(ledger.quarantined, 2)
        XCTAssertEqual(ledger.quarantineReasons["no header block"], 2)

        let archive = try Archive.open(at: dir.sub("archive"), create: false)
        let fromInsert = try archive.database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT message) FROM copy WHERE path LIKE '%/insert/mbox-attachment.eml'")
        }
        XCTAssertEqual(fromInsert, 2)
        // A message held by two folders is one message with two copies, as in notmuch.
        let copies = try archive.database.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM copy JOIN message ON message.id = copy.message
                WHERE message.message_id = 'encrypted-signed@crypto.notmuchmail.org'
                """)
        }
        XCTAssertEqual(copies, 2)
    }

    func testReimportingTheCorpusStoresNothingNew() throws {
        let root = try SharedCorpora.path("notmuch")
        let dir = try TemporaryDirectory()
        let first = try importTree(root, into: dir.sub("archive"))
        let second = try importTree(root, into: dir.sub("archive"))
        XCTAssertEqual(second.read, first.read)
        XCTAssertEqual(second.stored, 0)
        XCTAssertEqual(second.duplicate, first.stored + first.duplicate)
        XCTAssertEqual(second.quarantined, first.quarantined)
    }
}
