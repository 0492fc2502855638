@testable import DossierCore
import Foundation
import GRDB
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// What a hostile user found in the archive (issue 14's probe): symbolic links out of the sources,
/// a damaged database taken for a new archive, read-only media, runs left `running` by a killed
/// import, and the pack bytes it leaves.
final class ArchiveSafetyTests: XCTestCase {
    // MARK: Helpers

    private func importPaths(_ paths: [String], into archivePath: String) throws -> RunLedger {
        let archive = try Archive.open(at: archivePath, create: true)
        var options = ImportOptions(paths: paths)
        options.workers = 2
        return try Importer(archive: archive, options: options).run()
    }

    private static let secret = "SECRET-TARGET-BYTES-7f3a"

    /// Every regular file under `root` with its size, modification time and a hash of its bytes.
    private func fileState(_ root: String) -> [String: String] {
        var result: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let path = root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let type = info.st_mode & S_IFMT
            var state = "\(info.st_mode) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            if type == S_IFREG, let data = FileManager.default.contents(atPath: path) {
                state += " " + ContentHash.sha256Hex(Array(data))
            }
            result[relative] = state
        }
        return result
    }

    /// SQLite's companion files, which a read-only connection may create beside the database of a
    /// writable archive (never on read-only media: there the database is opened immutable).
    private func withoutSQLiteCompanions(_ state: [String: String]) -> [String: String] {
        state.filter { !$0.key.hasSuffix("-shm") && !$0.key.hasSuffix("-wal") }
    }

    private func keys(_ archivePath: String) throws -> [String] {
        try Archive.open(at: archivePath, create: false, access: .readOnly).database.read {
            try String.fetchAll($0, sql: "SELECT key FROM message ORDER BY id")
        }
    }

    // MARK: 1. Symbolic links

    func testLinksOutOfTheSourceTreeAreSkippedWithTheirReasonNeverRead() throws {
        let dir = try TemporaryDirectory()
        let secretFile = try dir.write("outside/secret.eml", "Subject: \(Self.secret)\n\n\(Self.secret)\n")
        try dir.write("outside/mail/cur/9:2,S", makeMessage(id: "outside-dir@x", body: Self.secret + "\n"))
        try dir.write("in/plain/real.eml", makeMessage(id: "real@x"))
        try dir.write("in/md/cur/1:2,S", makeMessage(id: "md@x"))
        try FileManager.default.createDirectory(atPath: dir.sub("in/md/new"), withIntermediateDirectories: true)
        XCTAssertEqual(symlink(secretFile, dir.sub("in/plain/link.eml")), 0)
        XCTAssertEqual(symlink("../../../outside/secret.eml", dir.sub("in/md/cur/2:2,S")), 0)
        XCTAssertEqual(symlink("/etc/passwd", dir.sub("in/md/new/3")), 0)
        XCTAssertEqual(symlink(dir.sub("outside/mail"), dir.sub("in/linked-maildir")), 0)
        // A Maildir whose cur/ is a link out of the tree.
        try FileManager.default.createDirectory(atPath: dir.sub("in/evil"), withIntermediateDirectories: true)
        XCTAssertEqual(symlink(dir.sub("outside/mail/cur"), dir.sub("in/evil/cur")), 0)
        XCTAssertEqual(symlink("loop-b", dir.sub("in/plain/loop-a")), 0)
        XCTAssertEqual(symlink("loop-a", dir.sub("in/plain/loop-b")), 0)
        XCTAssertEqual(symlink(dir.sub("in"), dir.sub("in/plain/up")), 0)

        let archivePath = dir.sub("archive")
        let start = Date()
        let ledger = try importPaths([dir.sub("in")], into: archivePath)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60, "a link loop must not hang the walk")
        XCTAssertEqual(ledger.status, "completed")
        XCTAssertTrue(ledger.isBalanced)
        XCTAssertEqual(ledger.read, 2, "\(ledger)")
        XCTAssertEqual(ledger.stored, 2)
        XCTAssertEqual(ledger.skipped, 8, "\(ledger)")
        XCTAssertEqual(ledger.skippedReasons[SymlinkPolicy.outside], 5, "\(ledger.skippedReasons)")
        XCTAssertEqual(ledger.skippedReasons[SymlinkPolicy.loop], 2, "\(ledger.skippedReasons)")
        XCTAssertEqual(ledger.skippedReasons[SymlinkPolicy.insideDirectory], 1, "\(ledger.skippedReasons)")
        XCTAssertEqual(Set(ledger.skippedPaths.map(\.path)),
                       Set(["in/plain/link.eml", "in/md/cur/2:2,S", "in/md/new/3", "in/linked-maildir", "in/evil/cur",
                            "in/plain/loop-a", "in/plain/loop-b", "in/plain/up"].map(dir.sub)))

        // Nothing of the targets reached the archive: not as a message, not in the search index.
        let archive = try Archive.open(at: archivePath, create: false, access: .readOnly)
        let originals = try archive.database.read { try String.fetchAll($0, sql: "SELECT sha256 FROM message") }
        for sha in originals {
            let text = String(decoding: try archive.readOriginal(sha256: sha), as: UTF8.self)
            XCTAssertFalse(text.contains(Self.secret) || text.contains("root:x:0:0"), text)
        }
        XCTAssertEqual(try SearchEngine(archive: archive).search(Self.secret).count, 0)

        // The ledger as stored says the same.
        let stored = try archive.database.read { try RunLedger.load($0, run: ledger.run) }
        XCTAssertEqual(stored?.skipped, 8)
        XCTAssertEqual(stored?.skippedReasons, ledger.skippedReasons)
        XCTAssertEqual(stored.map { Set($0.skippedPaths) }, Set(ledger.skippedPaths))
    }

    /// Decided: a link inside the tree to a file inside it is not read either; the file is read
    /// once, under its own name, so it is never counted twice.
    func testALinkInsideTheTreeIsSkippedAndItsTargetReadOnce() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/a.eml", makeMessage(id: "a@x"))
        XCTAssertEqual(symlink("a.eml", dir.sub("in/b.eml")), 0)
        try dir.write("in/md/cur/1:2,S", makeMessage(id: "m@x"))
        XCTAssertEqual(symlink("1:2,S", dir.sub("in/md/cur/2:2,S")), 0)
        let ledger = try importPaths([dir.sub("in")], into: dir.sub("archive"))
        XCTAssertEqual(ledger.read, 2, "\(ledger)")
        XCTAssertEqual(ledger.duplicate, 0, "\(ledger)")
        XCTAssertEqual(ledger.skippedReasons, [SymlinkPolicy.insideFile: 2])
    }

    /// A path named on the command line is the user's choice: followed even when it is a link.
    func testAPathGivenOnTheCommandLineIsFollowedEvenWhenALink() throws {
        let dir = try TemporaryDirectory()
        let real = try dir.write("elsewhere/real.eml", makeMessage(id: "direct@x"))
        try dir.write("elsewhere/md/cur/1:2,S", makeMessage(id: "direct-md@x"))
        XCTAssertEqual(symlink(real, dir.sub("link.eml")), 0)
        XCTAssertEqual(symlink(dir.sub("elsewhere/md"), dir.sub("md-link")), 0)
        let ledger = try importPaths([dir.sub("link.eml"), dir.sub("md-link")], into: dir.sub("archive"))
        XCTAssertEqual(ledger.stored, 2, "\(ledger)")
        XCTAssertEqual(ledger.skipped, 0)
    }

    /// A file swapped for a link between the listing and the read is refused, not followed.
    func testAFileFoundInATreeIsNeverOpenedThroughALink() throws {
        let dir = try TemporaryDirectory()
        let secretFile = try dir.write("outside/secret.eml", "Subject: \(Self.secret)\n\n")
        try dir.write("in/cur/1:2,S", makeMessage(id: "x@x"))
        try dir.write("in/plain.eml", makeMessage(id: "y@x"))
        let plan = try SourcePlanner.plan(paths: [dir.sub("in")])
        XCTAssertEqual(plan.sources.count, 2)
        // A Maildir folder is listed when its reader opens; a message file when it is read.
        var readers = try plan.sources.map { try $0.openReader() }
        try FileManager.default.removeItem(atPath: dir.sub("in/cur/1:2,S"))
        try FileManager.default.removeItem(atPath: dir.sub("in/plain.eml"))
        XCTAssertEqual(symlink(secretFile, dir.sub("in/cur/1:2,S")), 0)
        XCTAssertEqual(symlink(secretFile, dir.sub("in/plain.eml")), 0)
        for index in readers.indices {
            XCTAssertThrowsError(try readers[index].next(), "\(plan.sources[index].path)") { error in
                XCTAssertTrue("\(error)".contains("symbolic link"), "\(error)")
            }
        }
    }

    func testReportRunShowsSkippedInEveryFormat() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/a.eml", makeMessage(id: "a@x"))
        XCTAssertEqual(symlink("/etc/passwd", dir.sub("in/passwd.eml")), 0)
        let archive = dir.sub("archive")
        let imported = try DossierCLI.run(["import", dir.sub("in"), "--archive", archive])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertTrue(imported.text.contains("skipped      1"), imported.text)
        let table = try DossierCLI.run(["report", "run", "--archive", archive])
        XCTAssertTrue(table.text.contains(SymlinkPolicy.outside) && table.text.contains(dir.sub("in/passwd.eml")), table.text)
        let json = try DossierCLI.run(["report", "run", "--json", "--archive", archive])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any]
        let ledger = object?["ledger"] as? [String: Any]
        XCTAssertEqual(ledger?["skipped"] as? Int, 1, json.text)
        XCTAssertEqual((ledger?["skipped_reasons"] as? [String: Int])?[SymlinkPolicy.outside], 1)
        XCTAssertEqual(((ledger?["skipped_paths"] as? [[String: String]])?.first)?["path"], dir.sub("in/passwd.eml"))
        let jsonl = try DossierCLI.run(["report", "run", "--format", "jsonl", "--archive", archive])
        XCTAssertTrue(jsonl.text.contains("\"skipped\":1"), jsonl.text)
        let csv = try DossierCLI.run(["report", "run", "--all", "--format", "csv", "--archive", archive])
        let lines = csv.text.split(separator: "\n")
        XCTAssertEqual(lines.first?.split(separator: ",").last, "skipped")
        XCTAssertEqual(lines.last?.split(separator: ",").last, "1")
        let all = try DossierCLI.run(["report", "run", "--all", "--archive", archive])
        XCTAssertTrue(all.text.contains("SKIPPED"), all.text)
        for arguments in [["report", "run"], ["report", "run", "--all"]] {
            let html = try DossierCLI.run(arguments + ["--format", "html", "--archive", archive])
            XCTAssertTrue(html.text.contains("Skipped"), html.text)
        }
        let html = try DossierCLI.run(["report", "run", "--format", "html", "--archive", archive])
        XCTAssertTrue(html.text.contains(SymlinkPolicy.outside), html.text)
    }

    // MARK: 2. A database that is gone or damaged beside archive content

    /// An archive of three messages, its key and the path of its database.
    private func populatedArchive(_ dir: TemporaryDirectory) throws -> (path: String, key: String) {
        for i in 0..<3 { try dir.write("in/\(i).eml", makeMessage(id: "m\(i)@x", subject: "quarterly \(i)")) }
        let path = dir.sub("archive")
        _ = try importPaths([dir.sub("in")], into: path)
        return (path, try keys(path)[0])
    }

    private func removeSQLiteCompanions(_ archive: String) {
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: archive + "/" + Archive.databaseName + suffix) }
    }

    func testAnEmptyDatabaseBesideObjectsIsACorruptArchiveForEveryCommand() throws {
        let dir = try TemporaryDirectory()
        let (archive, key) = try populatedArchive(dir)
        let database = archive + "/" + Archive.databaseName
        for damage in ["empty", "garbage", "missing", "foreign"] {
            removeSQLiteCompanions(archive)
            try? FileManager.default.removeItem(atPath: database)
            switch damage {
            case "empty": FileManager.default.createFile(atPath: database, contents: Data())
            case "garbage": FileManager.default.createFile(atPath: database, contents: Data(repeating: 0x41, count: 8192))
            case "foreign":
                let queue = try DatabaseQueue(path: database)
                try queue.write { try $0.execute(sql: "CREATE TABLE notes (text TEXT)") }
                try queue.close()
                removeSQLiteCompanions(archive)
            default: break
            }
            let before = FileManager.default.contents(atPath: database)
            XCTAssertThrowsError(try Archive.open(at: archive, create: true), damage) { error in
                guard case StoreError.notAnArchive = error else { return XCTFail("\(damage): \(error)") }
            }
            XCTAssertThrowsError(try Archive.open(at: archive, create: false, access: .readOnly), damage)
            let commands: [[String]] = [["import", dir.sub("in")], ["search", "quarterly"], ["show", key], ["report", "run"],
                                        ["report", "run", "--all"], ["report", "assignments"], ["thread", key], ["why", key],
                                        ["verify", "--archive", archive], ["export", "ACME", "--out", dir.sub("export-\(damage)")],
                                        ["rematch"], ["crm", "status"]]
            for command in commands {
                let outcome = try DossierCLI.run(command + (command.first == "verify" ? [] : ["--archive", archive]))
                XCTAssertEqual(outcome.status, 3, "\(damage): \(command): \(outcome.stderr)")
                XCTAssertTrue(outcome.stderr.contains("not a usable Dossier archive"), "\(damage): \(command): \(outcome.stderr)")
            }
            XCTAssertEqual(FileManager.default.contents(atPath: database), before, "\(damage): the damaged database was changed")
        }
        // A new archive where nothing is stored yet still starts, 0-byte database or not.
        let fresh = try TemporaryDirectory()
        FileManager.default.createFile(atPath: fresh.sub(Archive.databaseName), contents: Data())
        XCTAssertNoThrow(try Archive.open(at: fresh.path, create: true))
        let empty = try TemporaryDirectory()
        XCTAssertNoThrow(try Archive.open(at: empty.sub("new"), create: true))
        XCTAssertNoThrow(try Archive.open(at: empty.sub("new"), create: true))
    }

    // MARK: 3. Read-only archives

    /// The read commands, each with the exit codes it may give on this fixture (`report
    /// assignments` and `export` need a CRM directory, and say so with 2).
    private func readCommands(_ archive: String, key: String, out: String) -> [(arguments: [String], allowed: Set<Int32>)] {
        [(["search", "quarterly", "--archive", archive], [0]), (["show", key, "--archive", archive], [0]),
         (["show", key, "--raw", "--archive", archive], [0]), (["report", "run", "--archive", archive], [0]),
         (["report", "run", "--all", "--format", "html", "--archive", archive], [0]),
         (["report", "assignments", "--archive", archive], [0, 2]), (["report", "unassigned", "--archive", archive], [0, 2]),
         (["report", "excluded", "--archive", archive], [0, 2]), (["report", "clients", "--archive", archive], [0, 2]),
         (["thread", key, "--archive", archive], [0]), (["why", key, "--archive", archive], [0, 2]),
         (["crm", "status", "--archive", archive], [0, 2]), (["verify", "--archive", archive], [0]),
         (["export", "ACME", "--out", out, "--archive", archive], [0, 2])]
    }

    func testReadCommandsChangeNoFileOfTheArchive() throws {
        let dir = try TemporaryDirectory()
        let (archive, key) = try populatedArchive(dir)
        let before = withoutSQLiteCompanions(fileState(archive))
        for (arguments, allowed) in readCommands(archive, key: key, out: dir.sub("export")) {
            let outcome = try DossierCLI.run(arguments)
            XCTAssertTrue(allowed.contains(outcome.status), "\(arguments): \(outcome.status) \(outcome.stderr)")
        }
        XCTAssertEqual(withoutSQLiteCompanions(fileState(archive)), before)
    }

    /// An archive from an older Dossier (here: the last migration undone) where it can be written
    /// is upgraded by the first read command, which then works: updating Dossier must not make
    /// `search` fail until someone runs an import.
    func testAReadCommandUpgradesAnOlderWritableArchive() throws {
        let dir = try TemporaryDirectory()
        let (archive, _) = try populatedArchive(dir)
        let last = try XCTUnwrap(Schema.migrator.migrations.last)
        let queue = try DatabaseQueue(path: archive + "/" + Archive.databaseName)
        try queue.write { db in
            try db.execute(sql: "DROP TABLE waiting_reply")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = ?", arguments: [last])
        }
        try queue.close()
        XCTAssertTrue(try Archive.needsUpgrade(archive + "/" + Archive.databaseName))
        let search = try DossierCLI.run(["report", "run", "--archive", archive, "--json"])
        XCTAssertEqual(search.status, 0, search.stderr)
        XCTAssertFalse(try Archive.needsUpgrade(archive + "/" + Archive.databaseName))
    }

    /// The read path opens SQLite read-only: a write through it is refused by SQLite itself, so no
    /// read command can write even by mistake (this binds root too).
    func testTheReadOnlyOpenRefusesWrites() throws {
        let dir = try TemporaryDirectory()
        let (archive, _) = try populatedArchive(dir)
        let opened = try Archive.open(at: archive, create: false, access: .readOnly)
        XCTAssertTrue(opened.isReadOnly)
        XCTAssertThrowsError(try opened.database.write { try $0.execute(sql: "DELETE FROM run") }) { error in
            XCTAssertEqual((error as? DatabaseError)?.resultCode, .SQLITE_READONLY, "\(error)")
        }
        XCTAssertEqual(try opened.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM message") }, 3)
    }

    /// `chmod -R a-w`: binds an ordinary user (root ignores it; the bind mount below binds root).
    func testReadCommandsWorkOnAnArchiveWithoutWritePermission() throws {
        let dir = try TemporaryDirectory()
        let (archive, key) = try populatedArchive(dir)
        removeSQLiteCompanions(archive)
        XCTAssertEqual(Self.shell("chmod -R a-w '\(archive)'"), 0)
        defer { _ = Self.shell("chmod -R u+w '\(archive)'") }
        let before = withoutSQLiteCompanions(fileState(archive))
        for (arguments, allowed) in readCommands(archive, key: key, out: dir.sub("export")) {
            let outcome = try DossierCLI.run(arguments)
            XCTAssertTrue(allowed.contains(outcome.status), "\(arguments): \(outcome.status) \(outcome.stderr)")
        }
        XCTAssertEqual(withoutSQLiteCompanions(fileState(archive)), before)
        if getuid() != 0 {
            let outcome = try DossierCLI.run(["import", dir.sub("in"), "--archive", archive])
            XCTAssertEqual(outcome.status, 1, outcome.stderr)
            XCTAssertTrue(outcome.stderr.contains("cannot be written"), outcome.stderr)
        }
    }

    /// A real read-only file system (a read-only bind mount, EROFS for root too): every read
    /// command works, every write command says clearly why it cannot.
    func testReadOnlyMediaReadCommandsWorkAndWriteCommandsSayWhy() throws {
        let dir = try TemporaryDirectory()
        let (archive, key) = try populatedArchive(dir)
        removeSQLiteCompanions(archive)
        let mount = dir.sub("dvd")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        guard Self.shell("mount --bind -o ro '\(archive)' '\(mount)' 2>/dev/null") == 0 else {
            throw XCTSkip("cannot make a read-only bind mount here (needs root with CAP_SYS_ADMIN)")
        }
        defer { _ = Self.shell("umount '\(mount)'") }
        XCTAssertNotEqual(access(mount, W_OK), 0, "the mount is not read-only")
        XCTAssertEqual(ArchiveContent.readOnlyOpen(root: mount, database: mount + "/" + Archive.databaseName), .immutable)
        let before = fileState(archive)
        for (arguments, allowed) in readCommands(mount, key: key, out: dir.sub("export")) {
            let outcome = try DossierCLI.run(arguments)
            XCTAssertTrue(allowed.contains(outcome.status), "\(arguments): \(outcome.status) \(outcome.stderr)")
            XCTAssertFalse(outcome.stderr.contains("unable to open"), "\(arguments): \(outcome.stderr)")
        }
        let search = try DossierCLI.run(["search", "quarterly", "--archive", mount])
        XCTAssertEqual(search.text.split(separator: "\n").count, 3, search.text)
        let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/crm").path
        for arguments in [["import", dir.sub("in")], ["rematch"], ["assign", key, "account:ACME"], ["unassign", key, "account:ACME"],
                          ["crm", "load", samples], ["verify", "--repair"]] {
            let full = arguments.first == "verify" ? ["verify", "--archive", mount, "--repair"] : arguments + ["--archive", mount]
            let outcome = try DossierCLI.run(full)
            XCTAssertNotEqual(outcome.status, 0, "\(arguments)")
            XCTAssertEqual(outcome.reason, .exit)
            XCTAssertTrue(outcome.stderr.contains("cannot be written"), "\(arguments): \(outcome.stderr)")
        }
        XCTAssertEqual(fileState(archive), before)
    }

    @discardableResult
    static func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    // MARK: 4. Runs left running

    private func setRunning(_ archivePath: String) throws -> Int64 {
        let archive = try Archive.open(at: archivePath, create: false)
        return try archive.database.write { db in
            try db.execute(sql: "INSERT INTO run (command, arguments, started_at, status) VALUES ('import', '[]', ?, 'running')",
                           arguments: [Timestamp.now()])
            return db.lastInsertedRowID
        }
    }

    private func status(of run: Int64, _ archivePath: String) throws -> (String, String?) {
        try Archive.open(at: archivePath, create: false, access: .readOnly).database.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT status, error FROM run WHERE id = ?", arguments: [run])!
            return (row[0], row[1])
        }
    }

    /// Another live process holding the writer lock, the way a running import does (flock(1)).
    private final class LiveWriter {
        let process = Process()
        /// `cat` under flock ends when this pipe closes, and the lock goes with it.
        let input = Pipe()
        init(archive: String) throws {
            let lockFile = archive + "/" + WriterLock.fileName
            FileManager.default.createFile(atPath: lockFile, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/flock") else { throw XCTSkip("flock(1) is not installed") }
            process.arguments = [lockFile, "cat"]
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Wait until it holds the lock.
            for _ in 0..<500 {
                let fd = open(lockFile, O_RDONLY | O_CLOEXEC)
                defer { close(fd) }
                if flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK { return }
                flock(fd, LOCK_UN)
                usleep(10_000)
            }
            XCTFail("flock never took the writer lock")
        }
        func end() {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
        deinit { if process.isRunning { end() } }
    }

    func testARunLeftRunningByAKilledProcessIsMarkedInterruptedByTheNextImport() throws {
        let dir = try TemporaryDirectory()
        let (archive, _) = try populatedArchive(dir)
        let killed = try setRunning(archive)
        let ledger = try importPaths([dir.sub("in")], into: archive)
        XCTAssertEqual(ledger.status, "completed")
        let (state, error) = try status(of: killed, archive)
        XCTAssertEqual(state, "interrupted")
        XCTAssertNotNil(error)
        XCTAssertEqual(try status(of: ledger.run, archive).0, "completed")
        let all = try DossierCLI.run(["report", "run", "--all", "--archive", archive])
        XCTAssertFalse(all.text.contains("running"), all.text)
    }

    func testARunOfALiveProcessIsNeverMarked() throws {
        let dir = try TemporaryDirectory()
        let (archive, _) = try populatedArchive(dir)
        let live = try setRunning(archive)
        let writer = try LiveWriter(archive: archive)
        XCTAssertThrowsError(try importPaths([dir.sub("in")], into: archive)) { error in
            XCTAssertTrue(error is ArchiveBusy, "\(error)")
        }
        XCTAssertEqual(try status(of: live, archive).0, "running")
        // verify --repair is not a writer of runs: it marks only when it holds the archive alone,
        // and a live writer (here without the archive's directory lock) is still not marked by verify.
        let verified = try DossierCLI.run(["verify", "--archive", archive])
        XCTAssertEqual(verified.status, 0, verified.stderr)
        XCTAssertEqual(try status(of: live, archive).0, "running")
        writer.end()
        _ = try importPaths([dir.sub("in")], into: archive)
        XCTAssertEqual(try status(of: live, archive).0, "interrupted")
    }

    /// `verify --repair` holds the archive alone too: it marks left-over runs.
    func testRepairMarksARunLeftRunning() throws {
        let dir = try TemporaryDirectory()
        let (archive, _) = try populatedArchive(dir)
        let killed = try setRunning(archive)
        let repaired = try DossierCLI.run(["verify", "--archive", archive, "--repair"])
        XCTAssertEqual(repaired.status, 0, repaired.stderr)
        XCTAssertEqual(try status(of: killed, archive).0, "interrupted")
    }

    // MARK: 5. Pack bytes a killed import left

    private func packFiles(_ archive: String) throws -> [String: Int64] {
        let directory = archive + "/" + PackStore.directory
        var sizes: [String: Int64] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            sizes[name] = (try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? NSNumber)?.int64Value
        }
        return sizes
    }

    private func append(_ bytes: [UInt8], to path: String) throws {
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
        try handle.close()
    }

    func testPackBytesAKilledImportLeftAreCutBackByTheNextImport() throws {
        let dir = try TemporaryDirectory()
        let (archive, _) = try populatedArchive(dir)
        let sizes = try packFiles(archive)
        XCTAssertFalse(sizes.isEmpty)
        // What a killed import leaves: members appended after the last indexed one, never committed.
        let orphan = try Gzip.compress(Array("never committed".utf8), name: ContentHash.sha256Hex(Array("never committed".utf8)))
        for name in sizes.keys { try append(orphan + orphan.prefix(7) + [UInt8](repeating: 0x55, count: 30_000), to: archive + "/" + PackStore.directory + "/" + name) }
        let verifier = try ArchiveVerifier(archive: Archive.open(at: archive, create: false, access: .readOnly), workers: 2).verify()
        XCTAssertEqual(verifier.findings.filter { $0.kind == .unreferencedPackBytes }.count, sizes.count)

        // While another writer is alive nothing is cut (they may be its bytes): the run is refused.
        let writer = try LiveWriter(archive: archive)
        XCTAssertThrowsError(try importPaths([dir.sub("in")], into: archive))
        for (name, size) in sizes { XCTAssertGreaterThan(try packFiles(archive)[name] ?? 0, size) }
        writer.end()

        let ledger = try importPaths([dir.sub("in")], into: archive)
        XCTAssertEqual(ledger.duplicate, 3)
        for (name, size) in sizes { XCTAssertEqual(try packFiles(archive)[name], size, name) }
        let after = try ArchiveVerifier(archive: Archive.open(at: archive, create: false, access: .readOnly), workers: 2).verify()
        XCTAssertTrue(after.isClean, "\(after.findings)")
        XCTAssertFalse(after.findings.contains { $0.kind.isUnreferenced }, "\(after.findings)")
        let opened = try Archive.open(at: archive, create: false, access: .readOnly)
        for sha in try opened.database.read({ try String.fetchAll($0, sql: "SELECT sha256 FROM blob") }) {
            XCTAssertEqual(ContentHash.sha256Hex(try opened.readOriginal(sha256: sha)), sha)
        }
    }

    /// When the rows look damaged (a pack shorter than its last indexed member), unindexed bytes
    /// may be what the index lost: nothing is cut.
    func testNothingIsCutWhenAPackIsShorterThanItsRows() throws {
        let dir = try TemporaryDirectory()
        let (archive, _) = try populatedArchive(dir)
        let opened = try Archive.open(at: archive, create: false)
        let names = try opened.database.read { try String.fetchAll($0, sql: "SELECT name FROM pack") }
        try opened.database.write { db in
            try db.execute(sql: "INSERT INTO pack (name) VALUES ('1-1-ab.pack')")
            try db.execute(sql: "INSERT INTO blob (sha256, pack, offset, length) VALUES (?, last_insert_rowid(), 0, 100)",
                           arguments: [String(repeating: "0", count: 64)])
        }
        FileManager.default.createFile(atPath: archive + "/" + PackStore.directory + "/1-1-ab.pack", contents: Data(count: 10))
        let path = archive + "/" + PackStore.directory + "/" + names[0]
        try append([UInt8](repeating: 1, count: 500), to: path)
        let size = try packFiles(archive)[names[0]]
        let outcome = WriterRecovery.reclaimPackTails(opened)
        XCTAssertNotNil(outcome.leftAlone)
        XCTAssertTrue(outcome.truncatedPacks.isEmpty)
        XCTAssertEqual(try packFiles(archive)[names[0]], size)
    }
}
