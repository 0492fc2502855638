@testable import DossierCore
import Foundation
import GRDB
import XCTest

final class ArchiveVerifierTests: XCTestCase {
    // MARK: - Fixture

    /// An archive imported from a dozen messages (two with attachments) and one non-message,
    /// with the original bytes of every message by Message-ID.
    private struct Fixture {
        let dir: TemporaryDirectory
        let archive: Archive
        let originals: [String: [UInt8]]

        var root: String { archive.path }

        /// The single pack of the fixture (one worker, one pack).
        func packPath() throws -> String {
            let names = Inventory.packNames(root: root)
            XCTAssertEqual(names.count, 1)
            return archive.packs.directoryPath + "/" + names[0]
        }

        func location(_ messageID: String) throws -> PackLocation {
            try archive.database.read { db in
                let sha = try String.fetchOne(db, sql: "SELECT sha256 FROM message WHERE message_id = ?", arguments: [messageID])!
                return try PackStore.location(of: sha, db)!
            }
        }

        /// A message whose member lies between two others in the pack (only compaction frees it).
        func middleMessage() throws -> String {
            let ids = try archive.database.read { db in
                try String.fetchAll(db, sql: "SELECT m.message_id FROM message m JOIN blob b ON b.sha256 = m.sha256 ORDER BY b.offset")
            }
            return ids[ids.count / 2]
        }

        func verify() throws -> VerificationReport { try ArchiveVerifier(archive: archive, workers: 2).verify() }

        func repair(stoppingAt step: PackCompactor.Step? = nil) throws -> ArchiveRepairer.Outcome {
            var repairer = ArchiveRepairer(archive: archive, workers: 2)
            repairer.compactionStop = step
            return try repairer.run()
        }

        /// Every message still in the archive reads back exactly as it was imported.
        func assertOriginalsIntact(file: StaticString = #filePath, line: UInt = #line) throws {
            let rows = try archive.database.read { try Row.fetchAll($0, sql: "SELECT message_id, sha256 FROM message WHERE status = 'stored'") }
            XCTAssertFalse(rows.isEmpty, file: file, line: line)
            for row in rows {
                let id: String = row[0]
                XCTAssertEqual(try archive.readOriginal(sha256: row[1]), originals[id], "original of \(id)", file: file, line: line)
            }
        }

        /// Removes a message as if it had never been imported, leaving its blob (and its member)
        /// behind: the search row is deleted the way FTS5 wants for a contentless table (with
        /// the values it was indexed with, re-derived from the original).
        func forgetMessage(_ messageID: String) throws {
            let (id, sha) = try archive.database.read { db in
                let row = try Row.fetchOne(db, sql: "SELECT id, sha256 FROM message WHERE message_id = ?", arguments: [messageID])!
                return (row[0] as Int64, row[1] as String)
            }
            let parsed = MessageParser.parse(try archive.readOriginal(sha256: sha))
            try archive.database.write { db in
                let names = try String?.fetchAll(db, sql: "SELECT name FROM attachment WHERE message = ? ORDER BY id", arguments: [id]).compactMap { $0 }
                let search = MessagePreparer.searchColumns(parsed, attachmentNames: names)
                try db.execute(sql: """
                    INSERT INTO message_fts (message_fts, rowid, subject, from_addr, to_addr, cc_addr, bcc_addr, body, attachment)
                    VALUES ('delete', ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, search.subject, search.from, search.to, search.cc, search.bcc, search.body, search.attachment])
                try db.execute(sql: "DELETE FROM message WHERE id = ?", arguments: [id])
            }
        }
    }

    private static func withAttachment(_ id: String, content: String) -> String {
        """
        From: Alice <alice@client.example>
        To: bob@firm.example
        Subject: report \(id)
        Date: Tue, 05 Mar 2024 10:00:00 +0000
        Message-ID: <\(id)>
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="b1"

        --b1
        Content-Type: text/plain

        See attached.
        --b1
        Content-Type: application/octet-stream; name="\(id).txt"
        Content-Disposition: attachment; filename="\(id).txt"
        Content-Transfer-Encoding: base64

        \(Data(content.utf8).base64EncodedString())
        --b1--

        """
    }

    private func makeFixture() throws -> Fixture {
        let dir = try TemporaryDirectory()
        var originals: [String: [UInt8]] = [:]
        for index in 0..<10 {
            let id = "m\(index)@client.example"
            let body = (0..<(20 + index * 15)).map { "Line \($0) of message \(index): the quarterly figures, \($0 * 7919 % 1000).\n" }.joined()
            let text = makeMessage(id: id, subject: "Message \(index)", body: body)
            originals[id] = Array(text.utf8)
            try dir.write("in/cur/\(index).eml:2,S", text)
        }
        for (index, content) in ["first attachment", "second attachment, other bytes"].enumerated() {
            let id = "a\(index)@client.example"
            let text = Self.withAttachment(id, content: content)
            originals[id] = Array(text.utf8)
            try dir.write("in/cur/a\(index).eml:2,S", text)
        }
        try dir.write("in/cur/junk.bin:2,", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        var options = ImportOptions(paths: [dir.sub("in")])
        options.workers = 1
        options.batchSize = 4
        let ledger = try Importer(archive: archive, options: options).run()
        XCTAssertEqual(ledger.stored, 12)
        XCTAssertEqual(ledger.quarantined, 1)
        return Fixture(dir: dir, archive: archive, originals: originals)
    }

    private func kinds(_ report: VerificationReport) -> [VerificationFinding.Kind] {
        report.findings.map(\.kind)
    }

    private func flipByte(_ path: String, at offset: Int64) throws {
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        let byte = try XCTUnwrap(handle.readData(ofLength: 1).first)
        try handle.seek(toOffset: UInt64(offset))
        handle.write(Data([byte ^ 0x20]))
    }

    private func append(_ bytes: [UInt8], to path: String) throws {
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
    }

    private func fileSize(_ path: String) throws -> Int64 {
        try XCTUnwrap(Inventory.size(of: path))
    }

    // MARK: - Clean

    func testACleanImportVerifiesClean() throws {
        let fixture = try makeFixture()
        let report = try fixture.verify()
        XCTAssertTrue(report.isClean, "\(report.findings)")
        XCTAssertEqual(report.checked.originals, 12)
        XCTAssertEqual(report.checked.packs, 1)
        XCTAssertEqual(report.checked.originalBytes, try fileSize(fixture.packPath()))
        XCTAssertEqual(report.checked.attachments, 2)
        XCTAssertEqual(report.checked.quarantined, 1)
        XCTAssertEqual(report.checked.messages, 12)
        XCTAssertEqual(report.checked.searchRows, 12)
        XCTAssertEqual(report.notes, [])
        // A repair of a clean archive does nothing.
        let outcome = try fixture.repair()
        XCTAssertEqual(outcome.repair.actions, [])
        XCTAssertTrue(outcome.after.isClean)
    }

    // MARK: - Damage: reported, never repaired

    func testAFlippedByteInsideAPackMemberIsACorruptOriginalThatRepairLeavesAlone() throws {
        let fixture = try makeFixture()
        let location = try fixture.location("m4@client.example")
        let sha = fixture.originals["m4@client.example"].map { ContentHash.sha256Hex($0) }!
        let pack = try fixture.packPath()
        try flipByte(pack, at: location.offset + Int64(location.length) / 2)
        let before = try Data(contentsOf: URL(fileURLWithPath: pack))

        let report = try fixture.verify()
        XCTAssertEqual(kinds(report), [.corruptOriginal])
        XCTAssertEqual(report.findings[0].object, "blob \(sha)")
        XCTAssertTrue(report.findings[0].reason.contains("at \(location.offset)"), report.findings[0].reason)

        let outcome = try fixture.repair()
        XCTAssertEqual(outcome.repair.actions, [])
        XCTAssertEqual(kinds(outcome.after), [.corruptOriginal], "damage stays reported")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: pack)), before, "the damaged pack is not touched")
    }

    func testAFlippedByteInAMemberHeaderNameIsCaught() throws {
        let fixture = try makeFixture()
        let location = try fixture.location("m2@client.example")
        try flipByte(try fixture.packPath(), at: location.offset + 12) // inside FNAME
        let report = try fixture.verify()
        XCTAssertEqual(kinds(report), [.corruptOriginal])
        XCTAssertTrue(report.findings[0].reason.contains("gzip header names it"), report.findings[0].reason)
    }

    func testATruncatedPackLeavesItsLastOriginalOutside() throws {
        let fixture = try makeFixture()
        let pack = try fixture.packPath()
        let size = try fileSize(pack)
        XCTAssertEqual(truncate(pack, off_t(size - 10)), 0)
        let report = try fixture.verify()
        XCTAssertEqual(kinds(report), [.originalOutsidePack])
        let last = try fixture.archive.database.read { try String.fetchOne($0, sql: "SELECT sha256 FROM blob ORDER BY offset DESC LIMIT 1")! }
        XCTAssertEqual(report.findings[0].object, "blob \(last)")
        XCTAssertTrue(report.findings[0].reason.contains("the file has \(size - 10) bytes"), report.findings[0].reason)
    }

    func testADeletedPackIsAMissingPackFileAndRepairRemovesNoPackBytes() throws {
        let fixture = try makeFixture()
        let pack = try fixture.packPath()
        XCTAssertEqual(unlink(pack), 0)
        try fixture.dir.write("archive/tmp/leftover", "x")
        let report = try fixture.verify()
        XCTAssertEqual(kinds(report), [.missingPackFile, .strayTemporaryFile])
        XCTAssertTrue(report.findings[0].reason.contains("12 originals"), report.findings[0].reason)
        let outcome = try fixture.repair()
        XCTAssertEqual(outcome.repair.actions.map(\.object), ["tmp/leftover"])
        XCTAssertEqual(kinds(outcome.after), [.missingPackFile])
    }

    func testADeletedAndAnAlteredAttachmentFile() throws {
        let fixture = try makeFixture()
        let digests = try fixture.archive.database.read { try String.fetchAll($0, sql: "SELECT sha256 FROM attachment ORDER BY id") }
        XCTAssertEqual(digests.count, 2)
        XCTAssertEqual(unlink(fixture.archive.objects.path(.attachment, sha256: digests[0])), 0)
        try flipByte(fixture.archive.objects.path(.attachment, sha256: digests[1]), at: 3)
        let report = try fixture.verify()
        XCTAssertEqual(kinds(report), [.corruptAttachment, .missingAttachment])
        XCTAssertEqual(report.findings[0].object, fixture.archive.objects.relativePath(.attachment, sha256: digests[1]))
        XCTAssertEqual(report.findings[1].object, fixture.archive.objects.relativePath(.attachment, sha256: digests[0]))
        let outcome = try fixture.repair()
        XCTAssertEqual(outcome.repair.actions, [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.archive.objects.path(.attachment, sha256: digests[1])),
                      "a referenced file, however damaged, is never removed")
    }

    func testAnAlteredQuarantineFileIsCaught() throws {
        let fixture = try makeFixture()
        let sha = try fixture.archive.database.read { try String.fetchOne($0, sql: "SELECT sha256 FROM quarantine")! }
        let path = fixture.archive.objects.path(.quarantine, sha256: sha)
        try Data(try Gzip.compress(Array("other bytes".utf8))).write(to: URL(fileURLWithPath: path))
        let report = try fixture.verify()
        XCTAssertEqual(kinds(report), [.corruptQuarantine])
        XCTAssertTrue(report.findings[0].reason.contains("inflates to bytes whose SHA-256 is \(ContentHash.sha256Hex(Array("other bytes".utf8)))"))
    }

    func testABlobWhosePackRowIsGoneAndRepairKeepsThePackFile() throws {
        let fixture = try makeFixture()
        let pack = try fixture.packPath()
        try fixture.archive.database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "DELETE FROM pack")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let report = try fixture.verify()
        XCTAssertEqual(report.findings(.blobWithoutPack).count, 12)
        XCTAssertEqual(report.findings(.unreferencedPack).count, 1, "its file has no row now")
        XCTAssertEqual(report.findings.count, 13, "the foreign-key violations are the same problem, reported once: \(report.findings)")
        let outcome = try fixture.repair()
        XCTAssertEqual(outcome.repair.actions, [])
        XCTAssertTrue(outcome.repair.skipped.contains { $0.contains("a blob names a pack that has no row") }, "\(outcome.repair.skipped)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: pack), "the file may be all that is left of those originals")
    }

    func testAStoredMessageWithoutItsOriginal() throws {
        let fixture = try makeFixture()
        try fixture.archive.database.write { db in
            try db.execute(sql: "DELETE FROM blob WHERE sha256 = (SELECT sha256 FROM message WHERE message_id = 'm1@client.example')")
        }
        let report = try fixture.verify()
        XCTAssertEqual(Set(kinds(report)), [.missingOriginal, .unreferencedPackBytes])
        let outcome = try fixture.repair()
        XCTAssertEqual(outcome.repair.actions, [], "the unreferenced bytes may be the missing original")
        XCTAssertEqual(Set(kinds(outcome.after)), [.missingOriginal, .unreferencedPackBytes])
    }

    func testASearchRowRemovedOrAddedIsCaught() throws {
        let fixture = try makeFixture()
        let (id, key, sha) = try fixture.archive.database.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT id, key, sha256 FROM message WHERE message_id = 'm3@client.example'")!
            return (row[0] as Int64, row[1] as String, row[2] as String)
        }
        let search = MessagePreparer.searchColumns(MessageParser.parse(try fixture.archive.readOriginal(sha256: sha)), attachmentNames: [])
        try fixture.archive.database.write { db in
            try db.execute(sql: """
                INSERT INTO message_fts (message_fts, rowid, subject, from_addr, to_addr, cc_addr, bcc_addr, body, attachment)
                VALUES ('delete', ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, search.subject, search.from, search.to, search.cc, search.bcc, search.body, search.attachment])
            try db.execute(sql: "INSERT INTO message_fts (rowid, subject, body) VALUES (9999, 'ghost', 'no such message')")
        }
        let report = try fixture.verify()
        XCTAssertEqual(kinds(report), [.messageNotIndexed, .indexRowWithoutMessage])
        XCTAssertEqual(report.findings[0].object, "message \(key)")
        XCTAssertEqual(report.findings[1].object, "message_fts 9999")
    }

    func testADamagedSearchIndexFailsFTS5sOwnCheck() throws {
        let fixture = try makeFixture()
        try fixture.archive.database.write { db in
            try db.execute(sql: "UPDATE message_fts_data SET block = x'00' WHERE id = (SELECT MAX(id) FROM message_fts_data)")
        }
        let report = try fixture.verify()
        XCTAssertEqual(kinds(report), [.searchIndexCorrupt], "\(report.findings)")
    }

    // MARK: - Unreferenced objects: removed by --repair

    func testStrayFilesAreUnreferencedAndRepairRemovesExactlyThem() throws {
        let fixture = try makeFixture()
        let strayDigest = ContentHash.sha256Hex(Array("nobody's attachment".utf8))
        let strayAttachment = fixture.archive.objects.relativePath(.attachment, sha256: strayDigest)
        try fixture.dir.write("archive/" + strayAttachment, "nobody's attachment")
        let strayQuarantineDigest = ContentHash.sha256Hex(Array("nobody's junk".utf8))
        let strayQuarantine = fixture.archive.objects.relativePath(.quarantine, sha256: strayQuarantineDigest)
        try fixture.dir.write("archive/" + strayQuarantine, try Gzip.compress(Array("nobody's junk".utf8)))
        try fixture.dir.write("archive/tmp/\(strayDigest).123", "half written")
        try fixture.dir.write("archive/objects/attachments/ab/not-a-digest", "someone else's")
        let strayPack = try fixture.dir.write("archive/objects/packs/1-1-ab.pack", try Gzip.compress(Array("x".utf8), name: strayDigest))

        let report = try fixture.verify()
        XCTAssertEqual(kinds(report), [.unexpectedFile, .unreferencedAttachment, .unreferencedQuarantine, .unreferencedPack, .strayTemporaryFile])
        XCTAssertEqual(report.findings.filter(\.kind.isUnreferenced).count, 4)

        let outcome = try fixture.repair()
        XCTAssertEqual(Set(outcome.repair.actions.map(\.object)),
                       [strayAttachment, strayQuarantine, "tmp/\(strayDigest).123", "objects/packs/1-1-ab.pack"])
        XCTAssertEqual(outcome.repair.actions.first { $0.object == strayAttachment }?.bytes, 19)
        XCTAssertFalse(FileManager.default.fileExists(atPath: strayPack))
        XCTAssertEqual(kinds(outcome.after), [.unexpectedFile], "a name Dossier never writes is not Dossier's to remove")
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.dir.sub("archive/objects/attachments/ab/not-a-digest")))
        try fixture.assertOriginalsIntact()
        XCTAssertEqual(try fixture.verify().findings.map(\.kind), [.unexpectedFile])
    }

    func testAppendedGarbageInAPackIsCutBackByRepair() throws {
        let fixture = try makeFixture()
        let pack = try fixture.packPath()
        let size = try fileSize(pack)
        // What a killed import leaves: a whole member and a half-written one after the last indexed.
        let orphan = try Gzip.compress(Array("never committed".utf8), name: ContentHash.sha256Hex(Array("never committed".utf8)))
        try append(orphan + orphan.prefix(9), to: pack)
        let report = try fixture.verify()
        XCTAssertEqual(kinds(report), [.unreferencedPackBytes])
        XCTAssertEqual(report.findings[0].bytes, Int64(orphan.count + 9))
        XCTAssertEqual(report.findings[0].ranges, [.init(offset: size, length: Int64(orphan.count + 9))])

        let outcome = try fixture.repair()
        XCTAssertEqual(outcome.repair.actions, [.init(kind: .truncatedPack, object: "objects/packs/" + URL(fileURLWithPath: pack).lastPathComponent,
                                                      bytes: Int64(orphan.count + 9))])
        XCTAssertTrue(outcome.after.isClean, "\(outcome.after.findings)")
        XCTAssertEqual(try fileSize(pack), size)
        try fixture.assertOriginalsIntact()
    }

    func testRepairRemovesAnUnreferencedBlobAndCompactsItsGap() throws {
        let fixture = try makeFixture()
        let oldPack = try fixture.packPath()
        let oldSize = try fileSize(oldPack)
        let middle = try fixture.middleMessage()
        let gone = try fixture.location(middle)
        try fixture.forgetMessage(middle)
        var kept = fixture.originals
        kept[middle] = nil

        let report = try fixture.verify()
        XCTAssertEqual(kinds(report), [.unreferencedBlob], "\(report.findings)")

        let outcome = try fixture.repair()
        XCTAssertEqual(outcome.repair.actions.map(\.kind), [.removedRow, .compactedPack])
        XCTAssertEqual(outcome.repair.actions[1].bytes, Int64(gone.length))
        XCTAssertTrue(outcome.after.isClean, "\(outcome.after.findings)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: oldPack))
        let newPack = try fixture.packPath()
        XCTAssertEqual(try fileSize(newPack), oldSize - Int64(gone.length))
        try Fixture(dir: fixture.dir, archive: fixture.archive, originals: kept).assertOriginalsIntact()
        XCTAssertEqual(try fixture.archive.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM pack") }, 1)
    }

    // MARK: - Compaction crash points

    /// A gap in the middle of the pack that only a compaction can reclaim.
    private func fixtureWithGap() throws -> (Fixture, [String: [UInt8]]) {
        let fixture = try makeFixture()
        let middle = try fixture.middleMessage()
        try fixture.forgetMessage(middle)
        try fixture.archive.database.write { db in
            try db.execute(sql: "DELETE FROM blob WHERE sha256 = ?", arguments: [ContentHash.sha256Hex(fixture.originals[middle]!)])
        }
        var kept = fixture.originals
        kept[middle] = nil
        XCTAssertEqual(kinds(try fixture.verify()), [.unreferencedPackBytes])
        return (Fixture(dir: fixture.dir, archive: fixture.archive, originals: kept), kept)
    }

    func testACompactionStoppedBeforeItsCommitLeavesAnUnreferencedPackThatTheNextRepairRemoves() throws {
        let (fixture, _) = try fixtureWithGap()
        let oldPack = try fixture.packPath()
        let stopped = try fixture.repair(stoppingAt: .newPackWritten)
        XCTAssertEqual(Set(kinds(stopped.after)), [.unreferencedPack, .unreferencedPackBytes],
                       "the old state, plus one pack file no row names: \(stopped.after.findings)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: oldPack))
        try fixture.assertOriginalsIntact()

        let outcome = try fixture.repair()
        XCTAssertEqual(outcome.repair.actions.map(\.kind), [.removedFile, .compactedPack])
        XCTAssertTrue(outcome.after.isClean, "\(outcome.after.findings)")
        XCTAssertEqual(Inventory.packNames(root: fixture.root).count, 1)
        try fixture.assertOriginalsIntact()
    }

    func testACompactionStoppedAfterItsCommitLeavesTheOldPackUnreferenced() throws {
        let (fixture, _) = try fixtureWithGap()
        let oldPack = try fixture.packPath()
        let stopped = try fixture.repair(stoppingAt: .committed)
        XCTAssertEqual(kinds(stopped.after), [.unreferencedPack], "the new state, plus the old file: \(stopped.after.findings)")
        XCTAssertEqual(stopped.after.findings[0].object, "objects/packs/" + URL(fileURLWithPath: oldPack).lastPathComponent)
        try fixture.assertOriginalsIntact()

        let outcome = try fixture.repair()
        XCTAssertEqual(outcome.repair.actions.map(\.kind), [.removedFile])
        XCTAssertTrue(outcome.after.isClean, "\(outcome.after.findings)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: oldPack))
        try fixture.assertOriginalsIntact()
    }

    // MARK: - Another process at work

    func testWhileTheArchiveIsHeldRepairRefusesAndVerifyReportsNoUnreferencedObjects() throws {
        let fixture = try makeFixture()
        try fixture.dir.write("archive/tmp/in-flight", "an import's staging file")
        var held: ArchiveLock? = try XCTUnwrap(ArchiveLock.acquire(.shared, root: fixture.root, wait: false))
        XCTAssertThrowsError(try fixture.repair()) { error in
            guard case VerificationError.archiveBusy = error else { return XCTFail("\(error)") }
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.dir.sub("archive/tmp/in-flight")))
        let report = try fixture.verify()
        XCTAssertTrue(report.isClean, "\(report.findings)")
        XCTAssertTrue(report.notes.contains { $0.contains("holds the archive") && $0.contains("1 left out") }, "\(report.notes)")
        XCTAssertNotNil(held)
        held = nil
        XCTAssertEqual(kinds(try fixture.verify()), [.strayTemporaryFile], "once it is let go")
    }

    func testARunRecordedAsRunningWithNobodyHoldingTheArchiveIsANote() throws {
        let fixture = try makeFixture()
        try fixture.archive.database.write { db in
            try db.execute(sql: "UPDATE run SET status = 'running' WHERE id = (SELECT MAX(id) FROM run)")
        }
        let report = try fixture.verify()
        XCTAssertTrue(report.isClean)
        XCTAssertEqual(report.notes.count, 1)
        XCTAssertTrue(report.notes[0].contains("is recorded as running"), report.notes[0])
    }

    // MARK: - Pure parts

    func testPackLayoutFindsGapsTailsOverlapsAndMembersOutside() {
        func m(_ offset: Int64, _ length: Int64) -> PackMember { PackMember(sha256: "\(offset)", offset: offset, length: length) }
        let clean = PackLayout.analyze(members: [m(0, 10), m(10, 5)], fileSize: 15)
        XCTAssertEqual(clean.unreferenced, [])
        XCTAssertFalse(clean.onlyTrailing)

        let tail = PackLayout.analyze(members: [m(0, 10), m(10, 5)], fileSize: 40)
        XCTAssertEqual(tail.unreferenced, [.init(offset: 15, length: 25)])
        XCTAssertTrue(tail.onlyTrailing)

        let gaps = PackLayout.analyze(members: [m(4, 6), m(20, 5)], fileSize: 25)
        XCTAssertEqual(gaps.unreferenced, [.init(offset: 0, length: 4), .init(offset: 10, length: 10)])
        XCTAssertFalse(gaps.onlyTrailing)

        let overlap = PackLayout.analyze(members: [m(0, 10), m(8, 4)], fileSize: 12)
        XCTAssertEqual(overlap.overlapping.map { [$0.0, $0.1] }, [[0, 1]])
        XCTAssertEqual(overlap.unreferenced, [])

        let outside = PackLayout.analyze(members: [m(0, 10), m(10, 10)], fileSize: 15)
        XCTAssertEqual(outside.outside, [1])
        XCTAssertEqual(outside.unreferenced, [])

        let bad = PackLayout.analyze(members: [m(-1, 3), m(0, 0)], fileSize: 5)
        XCTAssertEqual(bad.outside, [0, 1])
        XCTAssertEqual(bad.unreferenced, [.init(offset: 0, length: 5)])
    }

    func testMemberCheckerNamesEachKindOfDamage() throws {
        let original = Array("Subject: x\n\nbody\n".utf8)
        let sha = ContentHash.sha256Hex(original)
        let member = try Gzip.compress(original, name: sha)
        let checker = MemberChecker()
        func problem(_ bytes: [UInt8], _ name: String = sha) -> String? {
            bytes.withUnsafeBytes { checker.problem($0, sha256: name) }
        }
        XCTAssertNil(problem(member))
        XCTAssertEqual(problem(try Gzip.compress(original)), "its gzip header carries no name")
        XCTAssertEqual(problem(member, String(repeating: "0", count: 64)), "its gzip header names it \(sha)")
        XCTAssertEqual(problem([0x1f, 0x8c] + member.dropFirst(2)), "its gzip header is damaged")
        XCTAssertTrue(problem(Array(member.dropLast(3)))?.contains("truncated") ?? false)
        XCTAssertTrue(problem(member + [0, 0])?.contains("2 bytes follow") ?? false)
        var flipped = member
        flipped[flipped.count - 6] ^= 1 // in the CRC-32
        XCTAssertTrue(problem(flipped)?.contains("does not inflate") ?? false, problem(flipped) ?? "nil")
    }

    // MARK: - Command line

    func testTheCommandLineFormsAndExitCodes() throws {
        let fixture = try makeFixture()
        let clean = try DossierCLI.run(["verify", "--archive", fixture.root])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertTrue(clean.text.contains("no problems found"), clean.text)

        try fixture.dir.write("archive/tmp/stray", "x")
        // Unreferenced objects are listed, and harmless: the check still passes.
        let found = try DossierCLI.run(["verify", "--archive", fixture.root])
        XCTAssertEqual(found.status, 0)
        XCTAssertTrue(found.text.contains("stray-temporary-file  tmp/stray: "), found.text)
        XCTAssertTrue(found.text.contains("1 unreferenced object that --repair reclaims"), found.text)

        let repaired = try DossierCLI.run(["verify", "--json", "--repair", "--archive=\(fixture.root)"])
        XCTAssertEqual(repaired.status, 0, repaired.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(repaired.stdout)) as? [String: Any]
        let actions = (json?["repair"] as? [String: Any])?["actions"] as? [[String: Any]]
        XCTAssertEqual(actions?.first?["object"] as? String, "tmp/stray")
        XCTAssertEqual((json?["after"] as? [String: Any])?["clean"] as? Bool, true)

        // A bare --archive means ./archive, also before another option.
        let bare = try DossierCLI.run(["verify", "--archive", "--json"])
        XCTAssertEqual(bare.status, 3, bare.stderr)
        XCTAssertTrue(bare.stderr.contains("archive is not a usable Dossier archive"), bare.stderr)
        XCTAssertEqual(try DossierCLI.run(["verify", "--repair"]).status, 64)
        XCTAssertEqual(try DossierCLI.run(["verify", "some-export", "--archive", fixture.root]).status, 64)
        // Damage fails it: a deleted attachment file a row names.
        let damaged = try makeFixture()
        let attachments = damaged.root + "/objects/attachments"
        let file = try XCTUnwrap(FileManager.default.subpaths(atPath: attachments)?.first { $0.count > 60 })
        try FileManager.default.removeItem(atPath: attachments + "/" + file)
        XCTAssertEqual(try DossierCLI.run(["verify", "--archive", damaged.root]).status, 5)
        let help = try DossierCLI.run(["--help"])
        XCTAssertTrue(help.text.contains("5 verification found problems"), help.text)
    }
}
