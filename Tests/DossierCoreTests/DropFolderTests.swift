@testable import DossierCore
import Foundation
import GRDB
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `dossier import --drop DIR`: files settle, import exactly once, then move to processed/ or
/// quarantine/; links are never read; a second run exits at once; killed runs are marked; and
/// a run killed or failing at any point of the write path leaves an archive that the next run
/// completes to exactly what one clean run gives.
final class DropFolderTests: XCTestCase {
    private let day = "2026-12-04"

    private func mbox(_ ids: [String], sender: String = "alice@client.example") -> String {
        ids.map { "From \(sender) Tue Mar  5 10:00:00 2024\n" + makeMessage(id: $0, from: sender, body: "Text of \($0).\n") + "\n" }.joined()
    }

    private func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// A drop folder with two mailboxes (an mbox and a Maildir), a loose file, a non-message,
    /// a file still being written, a dot file and a link to a file outside.
    private func makeDrop(_ dir: TemporaryDirectory) throws -> String {
        let drop = dir.sub("drop")
        try write(drop + "/alice/inbox.mbox", mbox(["a1@x", "a2@x", "a3@x"]))
        try write(drop + "/bob/cur/1700000000.M1.host:2,S", makeMessage(id: "b1@x", body: "Bob's mail.\n"))
        try write(drop + "/bob/new/1700000001.M2.host", makeMessage(id: "b2@x"))
        try write(drop + "/carol.eml", makeMessage(id: "c1@x"))
        try write(drop + "/junk/noise.bin", String(repeating: "\u{1}\u{2}binary", count: 50))
        try write(drop + "/alice/upload.mbox.part", mbox(["p1@x"]))
        try write(drop + "/.incoming", mbox(["h1@x"]))
        try write(dir.sub("secret.txt"), "From: root\n\nthe job's secret\n")
        XCTAssertEqual(symlink(dir.sub("secret.txt"), drop + "/alice/link.eml"), 0)
        return drop
    }

    private func runDrop(_ drop: String, archive: String, settle: Double = 0) throws -> DropReport {
        let archive = try DossierCore.Archive.open(at: archive, create: true)
        var options = ImportOptions(paths: [])
        options.workers = 2
        options.batchSize = 2
        return try DropImport.run(archive: archive, drop: DropFolder(root: drop, settleSeconds: settle), options: options,
                                  now: ISO8601DateFormatter().date(from: day + "T03:00:00Z")!)
    }

    private func messageIDs(_ archivePath: String) throws -> [String] {
        let archive = try DossierCore.Archive.open(at: archivePath, create: false)
        return try archive.database.read { try String.fetchAll($0, sql: "SELECT message_id FROM message WHERE message_id IS NOT NULL ORDER BY message_id") }
    }

    func testFilesAreImportedOnceAndMovedAway() throws {
        let dir = try TemporaryDirectory()
        let drop = try makeDrop(dir)
        let report = try runDrop(drop, archive: dir.sub("archive"))
        XCTAssertEqual(report.ledger.status, "completed")
        XCTAssertEqual(try messageIDs(dir.sub("archive")), ["a1@x", "a2@x", "a3@x", "b1@x", "b2@x", "c1@x"])
        XCTAssertEqual(Set(report.processed.map(\.file)),
                       ["alice/inbox.mbox", "bob/cur/1700000000.M1.host:2,S", "bob/new/1700000001.M2.host", "carol.eml"])
        for moved in report.processed {
            XCTAssertEqual(moved.to, "processed/\(day)/\(moved.file)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: drop + "/" + moved.to))
            XCTAssertFalse(FileManager.default.fileExists(atPath: drop + "/" + moved.file))
        }
        XCTAssertEqual(report.quarantined.map(\.file), ["junk/noise.bin"])
        let reason = try String(contentsOfFile: drop + "/quarantine/\(day)/junk/noise.bin.reason", encoding: .utf8)
        XCTAssertFalse(reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        XCTAssertTrue(report.hasQuarantine)
        // Left where they are, each with its reason; the link's target was never read.
        let left = Dictionary(uniqueKeysWithValues: report.left.map { ($0.file, $0.reason) })
        XCTAssertNotNil(left["alice/upload.mbox.part"])
        XCTAssertNotNil(left[".incoming"])
        XCTAssertTrue(left["alice/link.eml"]?.contains("symbolic link") == true, "\(left)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: drop + "/alice/upload.mbox.part"))
        let archive = try DossierCore.Archive.open(at: dir.sub("archive"), create: false)
        let mailboxes = try archive.database.read { try String.fetchAll($0, sql: "SELECT DISTINCT mailbox FROM copy ORDER BY mailbox") }
        // carol.eml lies directly in the drop folder: the folder's own mailbox, as `import DIR` maps it.
        XCTAssertEqual(mailboxes, ["alice", "bob", "drop"])
        let flags = try archive.database.read { try String.fetchAll($0, sql: "SELECT flags FROM copy WHERE flags <> ''") }
        XCTAssertEqual(flags, ["S"])
        // The report is kept in the archive.
        let saved = try XCTUnwrap(report.savedAs)
        let kept = try JSONDecoder().decode(DropReport.self, from: Data(contentsOf: URL(fileURLWithPath: dir.sub("archive/" + saved))))
        XCTAssertEqual(kept.processed, report.processed)

        // A second run finds nothing new to do and changes nothing.
        let again = try runDrop(drop, archive: dir.sub("archive"))
        XCTAssertEqual(again.ledger.read, 0)
        XCTAssertTrue(again.processed.isEmpty && again.quarantined.isEmpty)
        XCTAssertEqual(try messageIDs(dir.sub("archive")).count, 6)
    }

    func testTakenNamesGetASuffixAndDuplicatesAreRecognised() throws {
        let dir = try TemporaryDirectory()
        let drop = dir.sub("drop")
        try write(drop + "/alice/inbox.mbox", mbox(["a1@x"]))
        _ = try runDrop(drop, archive: dir.sub("archive"))
        // The same name again, holding one old and one new message.
        try write(drop + "/alice/inbox.mbox", mbox(["a1@x", "a2@x"]))
        let second = try runDrop(drop, archive: dir.sub("archive"))
        XCTAssertEqual(second.ledger.duplicate, 1)
        XCTAssertEqual(second.ledger.stored, 1)
        XCTAssertEqual(second.processed.map(\.to), ["processed/\(day)/alice/inbox-2.mbox"])
        XCTAssertEqual(try String(contentsOfFile: drop + "/processed/\(day)/alice/inbox.mbox", encoding: .utf8), mbox(["a1@x"]))
        XCTAssertEqual(DropFolder.suffixed("1700000000.M1.host:2,S", 3), "1700000000.M1.host-3:2,S")
        XCTAssertEqual(DropFolder.suffixed("work.mbox.gz", 2), "work-2.mbox.gz")
        XCTAssertEqual(DropFolder.suffixed("README", 2), "README-2")
    }

    func testAnArchiveKeptInsideTheDropFolderIsNotMail() throws {
        let dir = try TemporaryDirectory()
        let drop = dir.sub("drop")
        try write(drop + "/alice/a.eml", makeMessage(id: "a@x"))
        let first = try runDrop(drop, archive: drop + "/archive")
        XCTAssertEqual(first.ledger.read, 1)
        try write(drop + "/alice/b.eml", makeMessage(id: "b@x"))
        let second = try runDrop(drop, archive: drop + "/archive")
        XCTAssertEqual(second.ledger.read, 1, "the archive's own files were read as mail: \(second.left)")
        XCTAssertEqual(second.quarantined, [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: drop + "/archive/" + Archive.databaseName))
    }

    /// A folder name in Latin-1, as old Windows exports write them: the file moves to processed/
    /// under the same bytes (the move makes its directories through the readers' escapes).
    func testAFolderNameThatIsNotUTF8MovesUnderItsOwnBytes() throws {
        let dir = try TemporaryDirectory()
        let drop = dir.sub("drop")
        try FileManager.default.createDirectory(atPath: drop + "/alice", withIntermediateDirectories: true)
        let folder = Array((drop + "/alice/Caf").utf8) + [0xE9]
        XCTAssertEqual(mkdir(folder.map { CChar(bitPattern: $0) } + [0], 0o755), 0)
        let file = folder + Array("/a.eml".utf8)
        let fd = open(file.map { CChar(bitPattern: $0) } + [0], O_WRONLY | O_CREAT, 0o644)
        let text = Array(makeMessage(id: "latin@x").utf8)
        XCTAssertEqual(text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }, text.count)
        close(fd)
        let report = try runDrop(drop, archive: dir.sub("archive"))
        XCTAssertEqual(report.ledger.stored, 1)
        XCTAssertEqual(report.processed.count, 1, "\(report.left)")
        let moved = Array((drop + "/processed/\(day)/alice/Caf").utf8) + [0xE9] + Array("/a.eml".utf8)
        XCTAssertEqual(access(moved.map { CChar(bitPattern: $0) } + [0], F_OK), 0)
    }

    func testAFileStillBeingWrittenWaits() throws {
        let dir = try TemporaryDirectory()
        let drop = dir.sub("drop")
        try write(drop + "/alice/a.eml", makeMessage(id: "a@x"))
        try write(drop + "/alice/growing.mbox", mbox(["g1@x"]))
        let folder = DropFolder(root: drop, settleSeconds: 1)
        let (items, _) = try folder.scan()
        let (ready, left) = folder.settled(items) { _ in
            // The writer appends while the job waits.
            let handle = FileHandle(forWritingAtPath: drop + "/alice/growing.mbox")!
            handle.seekToEndOfFile()
            handle.write(Data(self.mbox(["g2@x"]).utf8))
            handle.closeFile()
        }
        XCTAssertEqual(ready.map(\.relative), ["alice/a.eml"])
        XCTAssertEqual(left.map(\.file), ["alice/growing.mbox"])
    }

    func testASecondRunExitsAtOnceAndKilledRunsAreMarked() throws {
        let dir = try TemporaryDirectory()
        let drop = dir.sub("drop")
        try write(drop + "/a.eml", makeMessage(id: "a@x"))
        let archive = try DossierCore.Archive.open(at: dir.sub("archive"), create: true)
        // A run row left `running` by a process that died.
        try archive.database.write { db in
            try db.execute(sql: "INSERT INTO run (command, arguments, started_at, status) VALUES ('import', '[]', '2026-01-01T00:00:00Z', 'running')")
        }
        // Another process holds the writer lock (its own open file description).
        let fd = open(dir.sub("archive/" + WriterLock.fileName), O_RDWR | O_CREAT, 0o644)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        XCTAssertThrowsError(try runDrop(drop, archive: dir.sub("archive"))) { XCTAssertTrue($0 is ArchiveBusy, "\($0)") }
        let busy = try DossierCLI.run(["import", drop, "--archive", dir.sub("archive"), "--quiet"])
        XCTAssertEqual(busy.status, 6, busy.stderr)
        XCTAssertTrue(busy.stderr.contains("another Dossier run"), busy.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: drop + "/a.eml"))
        flock(fd, LOCK_UN)
        close(fd)
        let report = try runDrop(drop, archive: dir.sub("archive"))
        XCTAssertEqual(report.ledger.stored, 1)
        let statuses = try archive.database.read { try String.fetchAll($0, sql: "SELECT status FROM run ORDER BY id") }
        XCTAssertEqual(statuses, ["interrupted", "completed"])
    }

    func testTheCommandLineReportsQuarantineByItsExitCode() throws {
        let dir = try TemporaryDirectory()
        let drop = try makeDrop(dir)
        let outcome = try DossierCLI.run(["import", "--drop", drop, "--settle", "0", "--archive", dir.sub("archive"), "--json"])
        XCTAssertEqual(outcome.status, 7, outcome.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(outcome.stdout)) as! [String: Any]
        XCTAssertEqual((json["processed"] as? [Any])?.count, 4)
        XCTAssertEqual(try DossierCLI.run(["import", "--drop", drop, "--settle", "0", "--archive", dir.sub("archive"), "--quiet"]).status, 0)
        XCTAssertNotEqual(try DossierCLI.run(["import", drop, "--drop", drop]).status, 0)
    }

    // MARK: Crash and failure injection

    /// The messages every scenario drops: enough for several batches and pack writes.
    private func scenario(_ dir: TemporaryDirectory) throws -> (drop: String, ids: [String]) {
        let drop = dir.sub("drop")
        var ids: [String] = []
        for box in ["alice", "bob"] {
            for file in 0..<3 {
                let names = (0..<4).map { "\(box)-\(file)-\($0)@x" }
                ids += names
                try write(drop + "/\(box)/f\(file).mbox", mbox(names))
            }
        }
        let attached = """
            From: Carol <carol@client.example>\nTo: bob@firm.example\nSubject: with file\nDate: Tue, 05 Mar 2024 10:00:00 +0000\n\
            Message-ID: <att@x>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee file\n\
            --b\nContent-Type: application/pdf; name=a.pdf\nContent-Disposition: attachment; filename=a.pdf\nContent-Transfer-Encoding: base64\n\n\
            JVBERi0xLjQKJcfsj6IK\n--b--\n
            """
        try write(drop + "/carol/with-file.eml", attached)
        ids.append("att@x")
        return (drop, ids.sorted())
    }

    /// After a run that died or failed at `fault`, and a clean run after it: every message once,
    /// every drop file in processed/, the archive verifies clean.
    private func assertRecovers(from fault: String, expectFailure: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try TemporaryDirectory()
        let (drop, ids) = try scenario(dir)
        let archive = dir.sub("archive")
        let arguments = ["import", "--drop", drop, "--settle", "0", "--archive", archive, "--quiet", "--workers", "2"]
        let faulty = try DossierCLI.run(arguments, environment: ["DOSSIER_FAULT": fault])
        if expectFailure {
            XCTAssertTrue(faulty.status != 0 || faulty.reason == .uncaughtSignal, "\(fault): \(faulty.status) \(faulty.stderr)", file: file, line: line)
            if faulty.reason == .exit {
                XCTAssertTrue(faulty.stderr.contains("No space left") || faulty.stderr.contains("Input/output error"),
                              "\(fault): \(faulty.stderr)", file: file, line: line)
            }
        }
        // The faulty run never moves a file whose messages are not all committed.
        if FileManager.default.fileExists(atPath: archive + "/" + Archive.databaseName) {
            let stored = Set(try messageIDs(archive))
            let processed = drop + "/processed/\(today)"
            if let moved = FileManager.default.enumerator(atPath: processed) {
                for case let relative as String in moved where relative.hasSuffix(".mbox") {
                    let text = try String(contentsOfFile: processed + "/" + relative, encoding: .utf8)
                    for id in ids where text.contains("<\(id)>") {
                        XCTAssertTrue(stored.contains(id), "\(fault): \(relative) moved before \(id) was committed", file: file, line: line)
                    }
                }
            }
        }
        let clean = try DossierCLI.run(arguments)
        XCTAssertEqual(clean.status, 0, "\(fault) then clean: \(clean.stderr)", file: file, line: line)
        XCTAssertEqual(try messageIDs(archive), ids, "\(fault)", file: file, line: line)
        let waiting = try FileManager.default.subpathsOfDirectory(atPath: drop).filter {
            !$0.hasPrefix("processed") && !$0.hasPrefix("quarantine") && $0.contains(".")
        }
        XCTAssertEqual(waiting, [], "\(fault): files left in the drop folder", file: file, line: line)
        let processedFiles = try FileManager.default.subpathsOfDirectory(atPath: drop + "/processed/\(today)").filter { $0.contains(".") }
        XCTAssertEqual(processedFiles.count, 7, "\(fault): \(processedFiles)", file: file, line: line)
        let verify = try DossierCLI.run(["verify", "--archive", archive, "--json"])
        XCTAssertEqual(verify.status, 0, "\(fault): \(verify.text)", file: file, line: line)
        let assignments = try DossierCLI.run(["report", "assignments", "--archive", archive, "--format", "jsonl"])
        XCTAssertEqual(assignments.text.split(separator: "\n").count, ids.count, "\(fault)", file: file, line: line)
    }

    func testAKillAtAnyPointOfTheWritePathRecovers() throws {
        guard isDebugBuild else { throw XCTSkip("fault points exist in debug builds only") }
        for point in FaultPoint.allCases {
            for turn in [1, 2] {
                try assertRecovers(from: "\(point.rawValue):\(turn):kill", expectFailure: turn == 1)
            }
        }
    }

    func testWritesFailingWithENOSPCOrEIOLeaveAConsistentArchive() throws {
        guard isDebugBuild else { throw XCTSkip("fault points exist in debug builds only") }
        for point in [FaultPoint.beforePackWrite, .afterPackWrite, .beforeObjectWrite, .midTransaction, .beforeDropMove] {
            for action in ["enospc", "eio"] {
                try assertRecovers(from: "\(point.rawValue):1:\(action)", expectFailure: true)
            }
        }
    }

    /// The day a command-line run files under (UTC), read before and after a run in case it
    /// straddles midnight.
    private var today: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date())
    }

    private var isDebugBuild: Bool {
        (try? DossierCLI.binary)?.contains("/debug/") == true
    }
}
