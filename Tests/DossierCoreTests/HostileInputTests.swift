@testable import DossierCore
import Foundation
import GRDB
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Hostile and broken real-world input: whatever arrives, import never crashes, never writes outside
/// the archive, never modifies a source, and accounts for every message it read (the ledger
/// balances and every quarantine has a reason). Test data stays small (a few MB per test).
final class HostileInputTests: XCTestCase {
    // MARK: Helpers

    private func importPaths(_ paths: [String], into archivePath: String, workers: Int = 2) throws -> RunLedger {
        let archive = try Archive.open(at: archivePath, create: true)
        var options = ImportOptions(paths: paths)
        options.workers = workers
        options.batchSize = 7
        return try Importer(archive: archive, options: options).run()
    }

    /// Imports and checks the promises every run keeps: completed, balanced, reasons for every
    /// quarantine, quarantine rows matching the count, nothing written outside `archive`, sources
    /// untouched.
    @discardableResult
    private func importChecked(_ dir: TemporaryDirectory, _ paths: [String]? = nil, read: Int? = nil,
                               file: StaticString = #filePath, line: UInt = #line) throws -> RunLedger {
        // Deep inside the test directory, so that "../" escapes up to three levels are seen.
        let archivePath = archiveDir(dir)
        try FileManager.default.createDirectory(atPath: archivePath, withIntermediateDirectories: true)
        let before = snapshot(dir.path, skipping: archivePath)
        let ledger = try importPaths(paths ?? [dir.sub("in")], into: archivePath)
        XCTAssertEqual(ledger.status, "completed", ledger.error ?? "", file: file, line: line)
        XCTAssertTrue(ledger.isBalanced, "ledger: \(ledger)", file: file, line: line)
        if let read { XCTAssertEqual(ledger.read, read, "\(ledger)", file: file, line: line) }
        XCTAssertEqual(ledger.quarantineReasons.values.reduce(0, +), ledger.quarantined, file: file, line: line)
        XCTAssertFalse(ledger.quarantineReasons.keys.contains { $0.trimmingCharacters(in: .whitespaces).isEmpty },
                       file: file, line: line)
        let archive = try Archive.open(at: archivePath, create: false)
        let rows = try archive.database.read { try QuarantineEntry.all($0, run: ledger.run) }
        XCTAssertEqual(rows.count, ledger.quarantined, file: file, line: line)
        XCTAssertEqual(snapshot(dir.path, skipping: archivePath), before, "a source or its directory changed", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/abs/path"), file: file, line: line)
        return ledger
    }

    /// Every path under `root` (not following symlinks) with its size and modification time.
    private func snapshot(_ root: String, skipping: String) -> [String: String] {
        var result: [String: String] = [:]
        func walk(_ path: String) {
            var info = stat()
            guard path != skipping, lstat(path, &info) == 0 else { return }
            result[path] = "\(info.st_mode) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            guard (info.st_mode & S_IFMT) == S_IFDIR, let d = opendir(path) else { return }
            var names: [String] = []
            while let entry = readdir(d) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(d)
            for name in names { walk(path + "/" + name) }
        }
        walk(root)
        return result
    }

    private func archiveDir(_ dir: TemporaryDirectory) -> String { dir.sub("one/two/three/archive") }

    private func withAttachments(id: String, _ parts: [(headers: String, body: String)]) -> String {
        var text = makeMessage(id: id, subject: "attachments", extraHeaders: "")
            .replacingOccurrences(of: "Content-Type: text/plain; charset=utf-8\n\nBody text.\n",
                                  with: "Content-Type: multipart/mixed; boundary=\"XX\"\n\n")
        text += "--XX\nContent-Type: text/plain\n\nSee attached.\n"
        for part in parts { text += "--XX\n\(part.headers)\n\n\(part.body)\n" }
        return text + "--XX--\n"
    }

    private func storedKeys(_ archivePath: String) throws -> [String] {
        let archive = try Archive.open(at: archivePath, create: false)
        return try archive.database.read { try String.fetchAll($0, sql: "SELECT key FROM message WHERE status = 'stored' ORDER BY id") }
    }

    /// Deterministic pseudo-random bytes (xorshift).
    private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            bytes[i] = UInt8(truncatingIfNeeded: state)
        }
        return bytes
    }

    // MARK: Attachment names

    func testAttachmentNamesWithPathsAndControlsNeverBecomePaths() throws {
        let dir = try TemporaryDirectory()
        let long = String(repeating: "a", count: 10_000) + ".pdf"
        let names: [String] = [
            "filename=\"../../etc/passwd\"",
            "filename=\"/abs/path\"",
            "filename=\"..\\\\..\\\\win\"",
            "filename=\"C:\\\\Windows\\\\evil.exe\"",
            "filename=\"..\"",
            "filename=\".\"",
            "filename=\"/\"",
            "filename=\"\(long)\"",
            "filename*=utf-8''..%2F..%2Fetc%2Fshadow",
            "filename*=utf-8''%00%01%1B%5B31mred%0A%0D.txt",
            "filename*0=\"../../\"; filename*1=\"x/../y\"",
            "filename=\"=?utf-8?b?Li4vLi4vZXRjL2dyb3Vw?=\"",
            "filename=\"=?utf-8?q?a=00b=0Ac=1B=E2=80=AEfdp.exe?=\"",
            "filename=\"\u{7}bell\ttab\"",
        ]
        let parts = names.enumerated().map { index, parameter in
            (headers: "Content-Type: application/octet-stream\nContent-Disposition: attachment; \(parameter)\nContent-Transfer-Encoding: base64",
             body: Data("payload \(index)".utf8).base64EncodedString())
        }
        try dir.write("in/names.eml", withAttachments(id: "names@x", parts))
        let ledger = try importChecked(dir, read: 1)
        XCTAssertEqual(ledger.stored, 1)

        let archive = try Archive.open(at: archiveDir(dir), create: false)
        let stored = try archive.database.read { try String?.fetchAll($0, sql: "SELECT name FROM attachment ORDER BY part") }
        XCTAssertEqual(stored.count, names.count, "every attachment is kept, whatever its name")
        for case let name? in stored {
            XCTAssertFalse(name.contains("/") || name.contains("\\"), name)
            XCTAssertFalse(name.hasPrefix("."), name)
            XCTAssertFalse(name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f || (0x202a...0x202e).contains($0.value) }, name)
            XCTAssertLessThanOrEqual(name.utf8.count, 255)
        }
        // Only digest-named files (attachments) and our own pack names in the archive.
        let enumerator = FileManager.default.enumerator(atPath: archiveDir(dir) + "/objects")!
        while let relative = enumerator.nextObject() as? String {
            let last = (relative as NSString).lastPathComponent
            if relative.hasPrefix("packs/") {
                XCTAssertTrue(PackStore.isValidName(last), relative)
            } else {
                XCTAssertTrue(last.count <= 64 + 7 && last.allSatisfy { $0.isHexDigit || $0 == "." || $0.isLetter }, relative)
            }
        }
    }

    // MARK: Huge headers, deep and wide MIME

    func testFiveMegabyteHeaderLineAndHundredThousandFields() throws {
        let dir = try TemporaryDirectory()
        let subject = String(repeating: "=?utf-8?q?caf=C3=A9?= ", count: 5 << 20 / 22)
        try dir.write("in/long-subject.eml", makeMessage(id: "long@x", subject: subject))
        let longAddress = String(repeating: "a", count: 5 << 20) + "@x.example"
        try dir.write("in/long-from.eml", makeMessage(id: "longfrom@x", from: longAddress))
        var many = ""
        for i in 0..<100_000 { many += "X-Field-\(i): value \(i)\n" }
        try dir.write("in/many-fields.eml", makeMessage(id: "many@x", extraHeaders: many))
        let unterminated = "Subject: " + String(repeating: "x", count: 3 << 20)
        try dir.write("in/no-body.eml", unterminated)
        let start = Date()
        let ledger = try importChecked(dir, read: 4)
        XCTAssertEqual(ledger.stored, 4)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60)
    }

    func testMultipartNestedFiveThousandDeep() throws {
        let dir = try TemporaryDirectory()
        var text = "From: a@x\nSubject: deep\nMessage-ID: <deep@x>\nMIME-Version: 1.0\n"
        text += deepMultipart(levels: 5000)
        for level in (0..<5000).reversed() { text += "--b\(level)--\n" }
        try dir.write("in/deep-multipart.eml", text)

        let rfc822 = "From: a@x\nSubject: deep message\nMessage-ID: <deep822@x>\n" + deepRFC822(levels: 5000, inner: "From: b@x\nSubject: inner\n")
        try dir.write("in/deep-rfc822.eml", rfc822)

        // Unclosed openings only: nothing ever closes.
        var unclosed = "From: a@x\nMessage-ID: <unclosed@x>\nContent-Type: multipart/mixed; boundary=z\n\n"
        for _ in 0..<5000 { unclosed += "--z\nContent-Type: multipart/mixed; boundary=z\n\n" }
        try dir.write("in/unclosed.eml", unclosed)

        let ledger = try importChecked(dir, read: 3)
        XCTAssertEqual(ledger.stored, 3)
        let archive = try Archive.open(at: archiveDir(dir), create: false)
        let truncated = try archive.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM message WHERE truncated_nesting != 0") }
        XCTAssertGreaterThanOrEqual(truncated ?? 0, 2)
    }

    func testFiftyThousandPartsAndOddBoundaries() throws {
        let dir = try TemporaryDirectory()
        var wide = "From: a@x\nMessage-ID: <wide@x>\nContent-Type: multipart/mixed; boundary=w\n\n"
        for i in 0..<50_000 {
            wide += i % 2 == 0 ? "--w\nContent-Type: text/plain\n\npart \(i)\n"
                               : "--w\nContent-Type: application/octet-stream; name=\"p\(i % 10).bin\"\n\nbin \(i % 10)\n"
        }
        wide += "--w--\n"
        try dir.write("in/wide.eml", wide)

        try dir.write("in/empty-boundary.eml",
                      "From: a@x\nMessage-ID: <eb@x>\nContent-Type: multipart/mixed; boundary=\"\"\n\n--\nContent-Type: text/plain\n\nhi\n----\n")
        let longBoundary = String(repeating: "B", count: 10_000)
        try dir.write("in/long-boundary.eml",
                      "From: a@x\nMessage-ID: <lb@x>\nContent-Type: multipart/mixed; boundary=\"\(longBoundary)\"\n\n--\(longBoundary)\nContent-Type: text/plain\n\nhi\n--\(longBoundary)--\n")
        try dir.write("in/dash-boundary.eml",
                      "From: a@x\nMessage-ID: <db@x>\nContent-Type: multipart/mixed; boundary=\"-\"\n\n---\n\nhi\n-----\n" + String(repeating: "-----\n", count: 10_000))
        let ledger = try importChecked(dir, read: 4)
        XCTAssertEqual(ledger.stored, 4)
        let archive = try Archive.open(at: archiveDir(dir), create: false)
        let attachments = try archive.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM attachment") }
        XCTAssertEqual(attachments, 25_000)
    }

    func testGarbageTransferEncodingsAndParameters() throws {
        let dir = try TemporaryDirectory()
        let garbage = String(decoding: randomBytes(20_000, seed: 7).map { $0 == 10 ? 65 : $0 }, as: UTF8.self)
        let parts: [(headers: String, body: String)] = [
            ("Content-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64", "!!!!====@@@@\n" + garbage),
            ("Content-Type: application/pdf; name=b.pdf\nContent-Transfer-Encoding: base64", "===="),
            ("Content-Type: application/pdf; name=c.pdf\nContent-Transfer-Encoding: quoted-printable", "=\n=G=\n=" + String(repeating: "=", count: 10_000)),
            ("Content-Type: application/pdf; name=d.pdf\nContent-Transfer-Encoding: x-uuencode", "begin 644 ../../evil\n" + garbage + "\nend"),
            ("Content-Type: text/plain; charset=\"\(String(repeating: "x", count: 100_000))\"", "charset name 100k long"),
            ("Content-Type: text/plain; charset=utf-7", "+AGEAYgBj-" + String(repeating: "+", count: 10_000)),
            ("Content-Type: text/html", String(repeating: "<a <b <!-- <script>", count: 20_000)),
            ("Content-Type: application/octet-stream; " + String(repeating: "p*0*=x; ", count: 20_000), "many parameters"),
            ("Content-Type: application/octet-stream; name*9999999999999999999=x; name*-1=y; name*0*=utf-8'en'%ZZ%", "bad 2231"),
        ]
        try dir.write("in/garbage.eml", withAttachments(id: "garbage@x", parts))
        let subjects = [
            "=?" + String(repeating: "x", count: 100_000) + "?q?y?=",
            String(repeating: "=?utf-8?b?", count: 50_000),
            String(repeating: "=?utf-8?b?4oCu?=", count: 50_000),
            "=?iso-2022-jp?b?" + Data(randomBytes(30_000, seed: 3)).base64EncodedString() + "?=",
        ]
        for (i, subject) in subjects.enumerated() {
            try dir.write("in/subject\(i).eml", makeMessage(id: "subject\(i)@x", subject: subject))
        }
        try dir.write("in/addresses.eml", makeMessage(id: "addr@x", from: String(repeating: "\"a\\\" <", count: 50_000),
                                                      to: String(repeating: "(((((", count: 50_000) + String(repeating: "<,@:;", count: 20_000),
                                                      date: String(repeating: "Mon, 99 Foo 99999999999999999999 +9999 ", count: 1000)))
        let ledger = try importChecked(dir, read: 2 + subjects.count)
        XCTAssertEqual(ledger.stored, 2 + subjects.count)
    }

    func testExtremeDatesHugeIdentifiersAndAddressLists() throws {
        let dir = try TemporaryDirectory()
        let dates = ["Mon, 01 Jan 9999 23:59:59 -9959", "Mon, 01 Jan 0001 00:00:00 +9959", "31 Dec 1969 23:59:59 +0000",
                     "Fri, 13 Dec 1901 20:45:52 +0000", "Sat, 31 Dec 99999 00:00:00 +0000", "1 Jan 1000000000 00:00 +0000",
                     "99/99/99", "Thu, 29 Feb 2001 00:00:00 +0000", "Tue, 19 Jan 2038 03:14:08 +0000"]
        for (i, date) in dates.enumerated() {
            try dir.write("in/date\(i).eml", makeMessage(id: "date\(i)@x", subject: "dated \(i)", date: date))
        }
        let references = (0..<100_000).map { "<ref\($0)@x>" }.joined(separator: " ")
        let recipients = (0..<50_000).map { "r\($0)@client.example" }.joined(separator: ", ")
        try dir.write("in/lists.eml", makeMessage(id: "lists@x", to: recipients,
                                                  extraHeaders: "References: \(references)\nIn-Reply-To: \(references)\nCc: \(recipients)\n"))
        try dir.write("in/huge-id.eml", makeMessage(id: String(repeating: "i", count: 1 << 20) + "@x"))
        try dir.write("in/huge-id-copy.eml", makeMessage(id: String(repeating: "i", count: 1 << 20) + "@x", body: "other\n"))
        let ledger = try importChecked(dir, read: dates.count + 3)
        // A Message-ID longer than RFC 5322's 998-byte line is ignored: identity falls back to the bytes.
        XCTAssertEqual(ledger.stored, dates.count + 3)

        guard (try? binary) != nil else { return }
        let archive = archiveDir(dir)
        for sort in ["date", "oldest", "relevance"] {
            let out = try dossier(["search", "--archive", archive, "--sort", sort, "--", "dated"], in: dir)
            assertClean(out, "search --sort \(sort)", allowed: [0])
            XCTAssertEqual(String(decoding: out.stdout, as: UTF8.self).split(separator: "\n").count, dates.count)
            assertClean(try dossier(["search", "--archive", archive, "--sort", sort, "--json", "--", "dated"], in: dir), "json", allowed: [0])
        }
        for key in try storedKeys(archive) {
            assertClean(try dossier(["show", key, "--archive", archive], in: dir), "show", allowed: [0])
            assertClean(try dossier(["show", key, "--json", "--archive", archive], in: dir), "show --json", allowed: [0])
        }
        for query in ["date:0001", "date:9999-12-31", "date:..1901-12-13", "date:2038-01-19..", "to:r49999@client.example"] {
            assertClean(try dossier(["search", "--archive", archive, "--", query], in: dir), query, allowed: [0])
        }
    }

    /// More than the reader's in-flight budget (32 MiB) arriving in under a second, in fewer messages
    /// than a batch: the writer must commit (releasing the budget) rather than wait forever for a
    /// message the blocked reader can never hand on. 20 hard links to one 4 MiB message keep the
    /// test data small (symbolic links inside a tree are not read).
    func testLargeMessagesBeyondTheInFlightBudgetDoNotDeadlock() throws {
        let dir = try TemporaryDirectory()
        let body = String(repeating: String(repeating: "x", count: 99) + "\n", count: 4 << 20 / 100)
        let original = try dir.write("big.eml", makeMessage(id: "big@x", body: body))
        try FileManager.default.createDirectory(atPath: dir.sub("in/cur"), withIntermediateDirectories: true)
        for i in 0..<20 { XCTAssertEqual(link(original, dir.sub("in/cur/\(i):2,S")), 0) }
        let paths = [dir.sub("in")], archivePath = archiveDir(dir)
        let finished = DispatchSemaphore(value: 0)
        let outcome = LockedBox<Result<RunLedger, Error>>()
        Thread.detachNewThread {
            outcome.set(Result {
                let archive = try Archive.open(at: archivePath, create: true)
                var options = ImportOptions(paths: paths)
                options.workers = 2 // the default batch size (1000) and time (1 s)
                return try Importer(archive: archive, options: options).run()
            })
            finished.signal()
        }
        guard finished.wait(timeout: .now() + 120) == .success else {
            return XCTFail("import deadlocked with more than the in-flight budget")
        }
        let ledger = try XCTUnwrap(outcome.get()).get()
        XCTAssertEqual(ledger.read, 20)
        XCTAssertEqual(ledger.stored, 1)
        XCTAssertEqual(ledger.duplicate, 19)
    }

    func testRandomBytesInEveryCharsetAndEncoding() throws {
        let dir = try TemporaryDirectory()
        let charsets = ["utf-8", "utf-16", "utf-16le", "utf-32", "ucs-2", "ucs-4", "utf-7", "gb18030", "big5", "shift_jis",
                        "euc-jp", "iso-2022-jp", "iso-2022-kr", "koi8-r", "windows-1252", "cp037", "x-unknown", "", "\"\"",
                        "utf-8''", "../../etc/passwd", "%s%n%x", "unicode-1-1-utf-7", "hz-gb-2312", "tscii"]
        var parts: [(headers: String, body: String)] = []
        for (i, charset) in charsets.enumerated() {
            let random = Data(randomBytes(3000 + i, seed: UInt64(i + 100)))
            parts.append(("Content-Type: text/plain; charset=\(charset)\nContent-Transfer-Encoding: base64", random.base64EncodedString(options: .lineLength76Characters)))
            parts.append(("Content-Type: text/html; charset=\(charset)\nContent-Transfer-Encoding: base64", random.base64EncodedString(options: .lineLength76Characters)))
            let words = (0..<20).map { _ in "=?\(charset)?b?\(Data(randomBytes(7, seed: UInt64(i * 31 + 1))).base64EncodedString())?=" }.joined(separator: " ")
            try dir.write("in/subject-\(i).eml", makeMessage(id: "cs\(i)@x", from: "\(words) <a@x>", subject: words))
        }
        try dir.write("in/charsets.eml", withAttachments(id: "charsets@x", parts))
        let ledger = try importChecked(dir, read: charsets.count + 1)
        XCTAssertEqual(ledger.stored, charsets.count + 1)
    }

    /// Unterminated constructs must not make text extraction quadratic (each "<" scanning to the end).
    func testUnterminatedHTMLStaysLinear() throws {
        let dir = try TemporaryDirectory()
        let bodies = [String(repeating: "<a ", count: 300_000), String(repeating: "<!--", count: 200_000),
                      String(repeating: "<a href=\"", count: 100_000), String(repeating: "<!", count: 300_000),
                      String(repeating: "<script>", count: 100_000), String(repeating: "&#", count: 300_000),
                      String(repeating: "</", count: 300_000), String(repeating: "<style", count: 100_000),
                      "<title>" + String(repeating: "<a b='", count: 100_000)]
        for (i, body) in bodies.enumerated() {
            try dir.write("in/html\(i).eml", "From: a@x\nMessage-ID: <html\(i)@x>\nContent-Type: text/html\n\n" + body)
        }
        let start = Date()
        let ledger = try importChecked(dir, read: bodies.count)
        XCTAssertEqual(ledger.stored, bodies.count)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
    }

    // MARK: Files that are not mail, or not files

    func testBinaryFilesAndFromLinesOnly() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/random.bin", randomBytes(200_000, seed: 42))
        try dir.write("in/random-from.mbox", Array("From x Tue Mar  5 10:00:00 2024\n".utf8) + randomBytes(100_000, seed: 9))
        try dir.write("in/only-from.mbox", String(repeating: "From someone Tue Mar  5 10:00:00 2024\n", count: 1000))
        try dir.write("in/only-from-blank.mbox", String(repeating: "From someone Tue Mar  5 10:00:00 2024\n\n", count: 1000))
        try dir.write("in/cr-only.mbox", "From a Tue Mar  5 10:00:00 2024\rSubject: one\r\rbody\r\rFrom b Tue Mar  5 10:00:00 2024\rSubject: two\r\rbody\r")
        try dir.write("in/nul-header.eml", "Subject: a\u{0}b\n\nbody\n")
        try dir.write("in/only-newlines.eml", String(repeating: "\n", count: 100_000))
        try dir.write("in/bom.eml", [0xEF, 0xBB, 0xBF])
        let ledger = try importChecked(dir)
        XCTAssertGreaterThanOrEqual(ledger.read, 8)
        XCTAssertGreaterThanOrEqual(ledger.quarantined, 3)
    }

    func testSpecialFilesInTreesAreRecordedWithoutBlocking() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/good.eml", makeMessage(id: "good@x"))
        try dir.write("in/maildir/cur/1:2,S", makeMessage(id: "md@x"))
        XCTAssertEqual(mkfifo(dir.sub("in/fifo.eml"), 0o644), 0)
        XCTAssertEqual(mkfifo(dir.sub("in/maildir/cur/2:2,S"), 0o644), 0)
        try FileManager.default.createDirectory(atPath: dir.sub("in/maildir/new"), withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(dir.sub("in/maildir/new/3"), 0o644), 0)
        XCTAssertEqual(symlink(dir.sub("in/fifo.eml"), dir.sub("in/link-to-fifo.eml")), 0)
        XCTAssertEqual(symlink(dir.sub("in/maildir/new/3"), dir.sub("in/maildir/cur/4:2,")), 0)
        XCTAssertEqual(symlink(dir.sub("nowhere"), dir.sub("in/dangling.eml")), 0)
        XCTAssertEqual(symlink(dir.sub("nowhere"), dir.sub("in/maildir/cur/5:2,")), 0)
        XCTAssertEqual(symlink("loop", dir.sub("in/loop")), 0)
        XCTAssertEqual(symlink(dir.sub("in"), dir.sub("in/self")), 0)
        // A Unix socket.
        let socketPath = dir.sub("in/socket")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in socketPath.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0, "socket path too long? \(socketPath.utf8.count)")

        // A watchdog unblocks a reader stuck on a FIFO (by opening every FIFO for writing), so a
        // blocking open fails the test instead of hanging the suite.
        let fifos = ["in/fifo.eml", "in/maildir/cur/2:2,S", "in/maildir/new/3"].map { dir.sub($0) }
        let finished = DispatchSemaphore(value: 0)
        let watchdog = DispatchSemaphore(value: 0)
        let fired = ManagedAtomicFlag()
        Thread.detachNewThread {
            if finished.wait(timeout: .now() + 60) == .timedOut {
                fired.set()
                for _ in 0..<100 {
                    for fifo in fifos {
                        let w = open(fifo, O_WRONLY | O_NONBLOCK)
                        if w >= 0 { close(w) }
                    }
                    usleep(100_000)
                }
            }
            watchdog.signal()
        }
        let ledger = try importChecked(dir)
        finished.signal()
        watchdog.wait()
        XCTAssertFalse(fired.value, "import blocked on a FIFO")
        XCTAssertEqual(ledger.stored, 2)
        // fifo and socket; in the Maildir two FIFOs: each is recorded with its reason, none is
        // opened for a blocking read. The links (to a FIFO, dangling, a loop, to the tree itself;
        // in the Maildir to a FIFO and dangling) are not read: skipped, each with its reason.
        XCTAssertEqual(ledger.read, 6, "\(ledger)")
        XCTAssertEqual(ledger.quarantined, 4, "\(ledger)")
        XCTAssertEqual(ledger.skipped, 6, "\(ledger)")
        XCTAssertEqual(ledger.skippedReasons, [SymlinkPolicy.insideSpecial: 2, SymlinkPolicy.dangling: 2, SymlinkPolicy.loop: 1,
                                               SymlinkPolicy.insideDirectory: 1])

        // A FIFO named on the command line is refused with a clear error, not opened.
        XCTAssertThrowsError(try importPaths([dir.sub("in/fifo.eml")], into: dir.sub("archive2"))) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }

    func testOddFileNamesAndMaildirWithFileCur() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/new\nline.eml", makeMessage(id: "newline@x"))
        try dir.write("in/tab\tand\u{1b}[31mescape.eml", makeMessage(id: "escape@x"))
        try dir.write("in/notmaildir/cur", makeMessage(id: "curfile@x"))
        try dir.write("in/notmaildir/new", "not a message at all")
        try dir.write("in/maildir/cur/ok:2,S", makeMessage(id: "ok@x"))
        try dir.write("in/maildir/new", "new is a file here")
        // Invalid UTF-8 names, in a plain tree and in a Maildir.
        for (directory, id) in [("in", "latin1@x"), ("in/maildir/cur", "latin1md@x")] {
            let name = Array(dir.sub(directory).utf8) + Array("/caf".utf8) + [0xE9, 0xFF] + Array(".eml".utf8) + [0]
            let fd = name.withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
            }
            XCTAssertGreaterThanOrEqual(fd, 0)
            let bytes = Array(makeMessage(id: id).utf8)
            XCTAssertEqual(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }, bytes.count)
            close(fd)
        }
        // A directory whose name is not UTF-8 was skipped silently before: its mail must be read.
        let rawDir = Array(dir.sub("in").utf8) + Array("/dossier".utf8) + [0xE9] + [0]
        XCTAssertEqual(rawDir.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { mkdir($0.baseAddress!, 0o755) } }, 0)
        let rawFile = rawDir.dropLast() + Array("/inside.eml".utf8) + [0]
        let fd = rawFile.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        let inside = Array(makeMessage(id: "inside-latin1-dir@x").utf8)
        XCTAssertEqual(inside.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }, inside.count)
        close(fd)

        let ledger = try importChecked(dir)
        XCTAssertEqual(ledger.read, 9, "\(ledger)")
        // Non-UTF-8 names are read (through escaped names), not lost; "cur" and "new" files are loose messages.
        XCTAssertEqual(ledger.stored, 7, "\(ledger)")
        XCTAssertEqual(ledger.quarantined, 2, "\(ledger)")
    }

    /// A wrong, huge Content-Length on every message of an mbox: each is checked where the length
    /// says it ends, which must not make reading quadratic in the file size.
    func testWrongContentLengthOnEveryMessageStaysLinear() throws {
        let dir = try TemporaryDirectory()
        var mbox = ""
        for i in 0..<3000 {
            mbox += "From a Tue Mar  5 10:00:00 2024\n" + makeMessage(id: "cl\(i)@x", body: String(repeating: "line \(i)\n", count: 40),
                                                                     extraHeaders: "Content-Length: 200000000\n") + "\n"
        }
        try dir.write("in/lengths.mbox", mbox)
        let start = Date()
        let ledger = try importChecked(dir, read: 3000)
        XCTAssertEqual(ledger.stored, 3000)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "\(mbox.utf8.count) bytes")
    }

    /// An archive kept inside the folder being imported is not read as mail (its objects would come
    /// back as copies of themselves, its database and quarantine as junk, on every run).
    func testArchiveInsideTheImportedFolderIsNotRead() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/a.eml", makeMessage(id: "a@x"))
        try dir.write("in/sub/b.eml", makeMessage(id: "b@x"))
        try dir.write("in/junk.bin", randomBytes(100, seed: 5))
        for _ in 0..<2 {
            let ledger = try importPaths([dir.sub("in")], into: dir.sub("in/sub/archive"))
            XCTAssertEqual(ledger.read, 3, "\(ledger)")
            XCTAssertTrue(ledger.isBalanced)
        }
        let archive = try Archive.open(at: dir.sub("in/sub/archive"), create: false)
        XCTAssertEqual(try archive.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM copy WHERE path LIKE '%archive%'") }, 0)
    }

    // MARK: gzip

    func testTruncatedAndCorruptGzip() throws {
        let dir = try TemporaryDirectory()
        var mbox = ""
        for i in 0..<50 {
            mbox += "From a Tue Mar  5 10:00:00 2024\n" + makeMessage(id: "gz\(i)@x", body: String(repeating: "text \(i) ", count: 200) + "\n") + "\n"
        }
        let full = try Gzip.compress(Array(mbox.utf8), level: 6)
        try dir.write("in/truncated.mbox.gz", Array(full.prefix(full.count / 2)))
        var flipped = full
        flipped[full.count / 3] ^= 0xFF
        try dir.write("in/flipped.mbox.gz", flipped)
        try dir.write("in/header-only.gz", Array(full.prefix(10)))
        try dir.write("in/magic-only.eml", [0x1F, 0x8B])
        try dir.write("in/trailing-junk.mbox.gz", full + Array("junk after the member".utf8))
        let single = try Gzip.compress(Array(makeMessage(id: "single@x").utf8))
        try dir.write("in/single-truncated.eml.gz", Array(single.prefix(single.count - 4)))
        let ledger = try importChecked(dir)
        XCTAssertGreaterThan(ledger.quarantined, 0)
        let archive = try Archive.open(at: archiveDir(dir), create: false)
        let reasons = try archive.database.read { try QuarantineEntry.all($0, run: ledger.run) }.map(\.reason)
        XCTAssertTrue(reasons.contains { $0.contains("truncated.mbox.gz") }, "\(reasons)")
    }

    /// A small .gz that inflates past the 256 MiB message limit must be stepped over, not loaded.
    func testGzipBombIsRefusedAtTheMessageLimit() throws {
        let dir = try TemporaryDirectory()
        // 260 MiB of zeros: 1 MiB members concatenated (gzip(1) reads them as one stream).
        let member = try Gzip.compress([UInt8](repeating: 0, count: 1 << 20), level: 9)
        var bomb: [UInt8] = []
        let header = try Gzip.compress(Array("Subject: bomb\n\n".utf8), level: 9)
        bomb += header
        for _ in 0..<260 { bomb += member }
        XCTAssertLessThan(bomb.count, 2 << 20)
        try dir.write("in/bomb.eml.gz", bomb)
        // The same as an mbox: one message too large, then a good one.
        let mboxHead = try Gzip.compress(Array("From a Tue Mar  5 10:00:00 2024\nSubject: bomb\n\n".utf8))
        let tail = try Gzip.compress(Array(("\nFrom b Tue Mar  5 10:00:00 2024\n" + makeMessage(id: "after-bomb@x")).utf8))
        var mboxBomb = mboxHead
        for _ in 0..<260 { mboxBomb += member }
        mboxBomb += tail
        try dir.write("in/bomb.mbox.gz", mboxBomb)
        let start = Date()
        let ledger = try importChecked(dir)
        XCTAssertEqual(ledger.stored, 1, "\(ledger)")
        XCTAssertEqual(ledger.quarantined, 2, "\(ledger)")
        XCTAssertLessThan(Date().timeIntervalSince(start), 120)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        // ru_maxrss is in KiB: two bombs read in full at once would pass 1 GiB.
        XCTAssertLessThan(usage.ru_maxrss, 1 << 20, "peak memory \(usage.ru_maxrss) KiB")
    }

    // MARK: Issue 14's hostile corpus (every input generated here; `scripts/hostile-table` runs the same inputs through the CLI)

    /// Peak resident memory of this test process so far, in KiB (a high-water mark over every
    /// test run before in the same process, so only a generous bound can be asserted).
    private var peakKiB: Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }

    func testWindowsReservedRightToLeftAndNULAttachmentNames() throws {
        let dir = try TemporaryDirectory()
        let names = ["CON", "nul.txt", "COM1.pdf", "LPT9", "aux", "PRN.", "invoice\u{202E}fdp.exe", "\u{2066}isolate\u{2069}.doc",
                     "a\u{0}b.txt", "tab\tcr\rlf.txt", "../../../../tmp/x", "/etc/cron.d/evil", "C:\\boot.ini",
                     String(repeating: "\u{202E}", count: 10_000) + ".txt", String(repeating: "n", count: 10_000)]
        let parts = names.enumerated().map { index, name in
            (headers: "Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"\(name)\"\nContent-Transfer-Encoding: base64",
             body: Data("payload \(index)".utf8).base64EncodedString())
        }
        try dir.write("in/reserved.eml", withAttachments(id: "reserved@x", parts))
        let ledger = try importChecked(dir, read: 1)
        XCTAssertEqual(ledger.stored, 1)
        let archive = try Archive.open(at: archiveDir(dir), create: false, access: .readOnly)
        let stored = try archive.database.read { try String?.fetchAll($0, sql: "SELECT name FROM attachment ORDER BY part") }
        XCTAssertEqual(stored.count, names.count, "every attachment is kept, whatever its name")
        for name in stored {
            guard let name else { continue }
            XCTAssertFalse(name.contains("/") || name.contains("\\") || name.hasPrefix("."), name)
            XCTAssertFalse(name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || (0x202A...0x202E).contains($0.value)
                || (0x2066...0x2069).contains($0.value) }, name.debugDescription)
            XCTAssertLessThanOrEqual(name.utf8.count, 255)
            // What an export would write: never a Windows device name.
            if let portable = AttachmentNamer.portable(name) {
                let device = portable.split(separator: ".").first.map { $0.uppercased() } ?? ""
                XCTAssertFalse(["CON", "PRN", "AUX", "NUL", "COM1", "LPT9"].contains(device), portable)
            }
        }
    }

    func testTenMegabyteHeaderLines() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/subject.eml", makeMessage(id: "ten-subject@x", subject: String(repeating: "s", count: 10 << 20)))
        try dir.write("in/to.eml", makeMessage(id: "ten-to@x", to: String(repeating: "t", count: 10 << 20) + "@x.example"))
        try dir.write("in/name.eml", "X-Long-" + String(repeating: "n", count: 10 << 20) + ": value\nMessage-ID: <ten-name@x>\n\nbody\n")
        let start = Date()
        let ledger = try importChecked(dir, read: 3)
        XCTAssertEqual(ledger.stored + ledger.quarantined, 3, "\(ledger)")
        XCTAssertLessThan(Date().timeIntervalSince(start), 120)
    }

    func testMultipartNestedTenThousandDeep() throws {
        let dir = try TemporaryDirectory()
        var text = "From: a@x\nSubject: deep\nMessage-ID: <deep10k@x>\nMIME-Version: 1.0\n"
        text += deepMultipart(levels: 10_000)
        for level in (0..<10_000).reversed() { text += "--b\(level)--\n" }
        try dir.write("in/deep-multipart.eml", text)
        try dir.write("in/deep-rfc822.eml", "From: a@x\nMessage-ID: <deep822-10k@x>\n" + deepRFC822(levels: 10_000, inner: "From: b@x\n"))
        let start = Date()
        let ledger = try importChecked(dir, read: 2)
        XCTAssertEqual(ledger.stored, 2)
        XCTAssertLessThan(Date().timeIntervalSince(start), 120)
        let archive = try Archive.open(at: archiveDir(dir), create: false, access: .readOnly)
        XCTAssertEqual(try archive.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM message WHERE truncated_nesting != 0") }, 2)
    }

    /// One line of 100 MB, in a message file and inside an mbox between two good messages.
    func testHundredMegabyteLine() throws {
        let dir = try TemporaryDirectory()
        let line = [UInt8](repeating: 0x78, count: 100 << 20)
        try dir.write("in/line.eml", Array(makeMessage(id: "line@x", body: "").utf8) + line + [10])
        var mbox = Array(("From a Tue Mar  5 10:00:00 2024\n" + makeMessage(id: "before@x") + "\n").utf8)
        mbox += Array(("From b Tue Mar  5 10:00:00 2024\n" + makeMessage(id: "mbox-line@x", body: "")).utf8) + line + [10, 10]
        mbox += Array(("From c Tue Mar  5 10:00:00 2024\n" + makeMessage(id: "after@x")).utf8)
        try dir.write("in/line.mbox", mbox)
        let start = Date()
        let ledger = try importChecked(dir, read: 4)
        XCTAssertEqual(ledger.stored, 4, "\(ledger)")
        XCTAssertLessThan(Date().timeIntervalSince(start), 180)
        XCTAssertLessThan(peakKiB, 3 << 20, "peak memory \(peakKiB) KiB")
    }

    /// Declared charsets that do not match the bytes: text is decoded as well as it can be, and
    /// never lost or crashed on.
    func testCharsetNamesThatLie() throws {
        let dir = try TemporaryDirectory()
        let latin1: [UInt8] = Array("caf".utf8) + [0xE9, 0x20, 0xFF, 0xFE, 0x80, 0x81]
        let cases: [(String, [UInt8])] = [
            ("utf-8", latin1), ("us-ascii", latin1 + Array("r\u{00E9}sum\u{00E9}".utf8)), ("iso-8859-1", Array("\u{1F600} utf-8 really".utf8)),
            ("utf-16", [0x41]), ("utf-16le", [0xD8, 0x00, 0x41]), ("utf-32", [0xFF, 0xFF, 0xFF, 0x7F, 0x00]),
            ("shift_jis", randomBytes(501, seed: 1)), ("iso-2022-jp", [0x1B, 0x24, 0x42] + randomBytes(100, seed: 2)),
            ("utf-8", [0xC0, 0x80, 0xED, 0xA0, 0x80, 0xF4, 0x90, 0x80, 0x80]), ("binary", randomBytes(300, seed: 3)),
        ]
        for (index, (charset, body)) in cases.enumerated() {
            let head = "From: =?\(charset)?q?=FF=FE?= <a@x>\nSubject: =?\(charset)?b?\(Data(body.prefix(30)).base64EncodedString())?=\n"
                + "Message-ID: <lie\(index)@x>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=\(charset)\nContent-Transfer-Encoding: 8bit\n\n"
            try dir.write("in/lie\(index).eml", Array(head.utf8) + body + [10])
        }
        let ledger = try importChecked(dir, read: cases.count)
        XCTAssertEqual(ledger.stored, cases.count)
    }

    /// gzip(1) reads concatenated members as one stream; so does Dossier, and a truncated last
    /// member is reported after the messages before it are kept.
    func testConcatenatedAndTruncatedGzip() throws {
        let dir = try TemporaryDirectory()
        var members: [UInt8] = []
        for i in 0..<3 {
            members += try Gzip.compress(Array(("From a Tue Mar  5 10:00:00 2024\n" + makeMessage(id: "cat\(i)@x") + "\n").utf8))
        }
        try dir.write("in/concatenated.mbox.gz", members)
        let message = Array(makeMessage(id: "split@x", body: String(repeating: "split body\n", count: 100)).utf8)
        try dir.write("in/split.eml.gz", try Gzip.compress(Array(message.prefix(200))) + Gzip.compress(Array(message.dropFirst(200))))
        let last = try Gzip.compress(Array(("From z Tue Mar  5 10:00:00 2024\n" + makeMessage(id: "cut@x")).utf8))
        try dir.write("in/cut-last.mbox.gz", members + Array(last.prefix(last.count / 2)))
        let ledger = try importChecked(dir)
        XCTAssertEqual(ledger.stored, 4, "\(ledger)")
        XCTAssertEqual(ledger.duplicate, 3, "the truncated file's three whole messages are kept (as copies)")
        XCTAssertEqual(ledger.quarantined, 1, "\(ledger)")
        let archive = try Archive.open(at: archiveDir(dir), create: false, access: .readOnly)
        let reasons = try archive.database.read { try QuarantineEntry.all($0, run: ledger.run) }.map(\.reason)
        XCTAssertTrue(reasons.allSatisfy { $0.contains("cut-last.mbox.gz") }, "\(reasons)")
    }

    /// A Maildir with links out of it (to a file, to /etc/passwd, to a directory) and a loop: none
    /// is read, each is skipped with its reason, the walk ends, nothing outside is read.
    func testMaildirWithLinksOutOfItAndALoop() throws {
        let dir = try TemporaryDirectory()
        let secret = try dir.write("secret.eml", makeMessage(id: "secret@x", subject: "do not read"))
        try dir.write("in/cur/1:2,S", makeMessage(id: "inbox@x"))
        try FileManager.default.createDirectory(atPath: dir.sub("in/new"), withIntermediateDirectories: true)
        XCTAssertEqual(symlink(secret, dir.sub("in/cur/2:2,S")), 0)
        XCTAssertEqual(symlink("/etc/passwd", dir.sub("in/new/3")), 0)
        XCTAssertEqual(symlink("/etc", dir.sub("in/Etc")), 0)
        XCTAssertEqual(symlink("/etc", dir.sub("in/.Hidden")), 0) // dot names are never read, links or not
        XCTAssertEqual(symlink("4", dir.sub("in/new/5")), 0)
        XCTAssertEqual(symlink("5", dir.sub("in/new/4")), 0)
        try FileManager.default.createDirectory(atPath: dir.sub("in/.Loop/cur"), withIntermediateDirectories: true)
        XCTAssertEqual(symlink(dir.sub("in"), dir.sub("in/.Loop/cur/up")), 0)
        let ledger = try importChecked(dir, read: 1)
        XCTAssertEqual(ledger.stored, 1)
        XCTAssertEqual(ledger.skippedReasons, [SymlinkPolicy.outside: 3, SymlinkPolicy.loop: 2, SymlinkPolicy.insideDirectory: 1],
                       "\(ledger.skippedPaths)")
    }

    /// Files named .mbox that are really programs (an ELF binary, gzip-compressed or not, and one
    /// behind a "From " line).
    func testMboxThatIsReallyABinary() throws {
        let dir = try TemporaryDirectory()
        let program = Array(try Data(contentsOf: URL(fileURLWithPath: "/bin/sh")).prefix(4 << 20))
        try dir.write("in/tools.mbox", program)
        try dir.write("in/tools.mbox.gz", try Gzip.compress(program))
        try dir.write("in/from-binary.mbox", Array("From x Tue Mar  5 10:00:00 2024\n".utf8) + program)
        let start = Date()
        let ledger = try importChecked(dir)
        XCTAssertGreaterThanOrEqual(ledger.read, 3)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60)
    }

    func testHundredThousandRecipients() throws {
        let dir = try TemporaryDirectory()
        let recipients = (0..<100_000).map { "Recipient \($0) <r\($0)@client\($0 % 100).example>" }.joined(separator: ",\n ")
        try dir.write("in/recipients.eml", makeMessage(id: "many-recipients@x", to: recipients))
        let start = Date()
        let ledger = try importChecked(dir, read: 1)
        XCTAssertEqual(ledger.stored, 1)
        XCTAssertLessThan(Date().timeIntervalSince(start), 120)
        let archive = try Archive.open(at: archiveDir(dir), create: false, access: .readOnly)
        let count = try archive.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM address WHERE role = 'to'") }
        // The documented bound on participants per field; the original is kept whole.
        XCTAssertEqual(count, AddressParser.maxAddresses)
        let sha = try archive.database.read { try String.fetchOne($0, sql: "SELECT sha256 FROM message") }!
        XCTAssertEqual(try archive.readOriginal(sha256: sha), Array(makeMessage(id: "many-recipients@x", to: recipients).utf8))
    }

    /// 10 GiB of zeros in 10 MB of gzip (1 MiB members of about 1 KB each: deflate's limit is
    /// about 1,030 to 1, so no single-layer gzip of 1 KB inflates past about 1 MB). As a message
    /// file it stops at the 256 MiB message limit; as an mbox, at the per-source cap
    /// (`FileByteStream.bombRatio` past `bombFloor`): never inflated to the end.
    func testTenGigabyteGzipBombStopsAtTheCaps() throws {
        let dir = try TemporaryDirectory()
        let member = try Gzip.compress([UInt8](repeating: 0, count: 1 << 20), level: 9)
        var zeros: [UInt8] = []
        zeros.reserveCapacity(member.count * 10_240)
        for _ in 0..<10_240 { zeros += member }
        XCTAssertLessThan(zeros.count, 12 << 20)
        try dir.write("in/bomb.eml.gz", try Gzip.compress(Array("Subject: bomb\n\n".utf8)) + zeros)
        try dir.write("in/bomb.mbox.gz", try Gzip.compress(Array("From a Tue Mar  5 10:00:00 2024\nSubject: bomb\n\n".utf8)) + zeros)
        try dir.write("in/good.eml", makeMessage(id: "beside-bomb@x"))
        let start = Date()
        let ledger = try importChecked(dir, read: 3)
        XCTAssertLessThan(Date().timeIntervalSince(start), 120)
        XCTAssertEqual(ledger.stored, 1, "\(ledger)")
        XCTAssertEqual(ledger.quarantined, 2, "\(ledger)")
        let archive = try Archive.open(at: archiveDir(dir), create: false, access: .readOnly)
        let reasons = try archive.database.read { try QuarantineEntry.all($0, run: ledger.run) }.map(\.reason)
        XCTAssertTrue(reasons.contains { $0.contains("decompression bomb") }, "\(reasons)")
        XCTAssertTrue(reasons.contains { $0.contains("larger than") }, "\(reasons)")
        XCTAssertLessThan(peakKiB, 3 << 20, "peak memory \(peakKiB) KiB")
    }

    // MARK: The CLI on hostile archives and queries

    private var binary: String { get throws { try DossierCLI.binary } }

    private func dossier(_ arguments: [String], in dir: TemporaryDirectory) throws -> DossierCLI.Outcome {
        try DossierCLI.run(arguments)
    }

    /// Exit 0, or a documented error code with one line on stderr; never a signal or a trap.
    private func assertClean(_ outcome: DossierCLI.Outcome, _ what: String, allowed: Set<Int32> = [0, 2],
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(outcome.reason, .exit, "\(what): killed by a signal", file: file, line: line)
        XCTAssertTrue(allowed.contains(outcome.status), "\(what): exit \(outcome.status) \(outcome.stderr.prefix(500))", file: file, line: line)
        XCTAssertFalse(outcome.stderr.contains("Fatal error"), "\(what): \(outcome.stderr.prefix(500))", file: file, line: line)
        if outcome.status != 0 && outcome.status != 64 { // 64: ArgumentParser's usage text follows
            XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, "\(what): \(outcome.stderr.prefix(500))", file: file, line: line)
        }
    }

    func testShowOnHostileStoredMessages() throws {
        _ = try binary
        let dir = try TemporaryDirectory()
        let deep = "From: a@x\nSubject: deep\nMessage-ID: <deep@x>\n" + deepMultipart(levels: 3000)
        try dir.write("in/deep.eml", deep)
        let deep822 = "From: a@x\nSubject: deep822\nMessage-ID: <deep822@x>\n"
            + deepRFC822(levels: 3000, inner: "Subject: inner\n", text: "inner text\n")
        try dir.write("in/deep822.eml", deep822)
        try dir.write("in/names.eml", withAttachments(id: "names@x", [
            ("Content-Type: text/plain; name=\"../../\u{1b}]0;owned\u{7}x.txt\"\nContent-Disposition: attachment; filename*=utf-8''%1B%5B2J..%2Fa", "x"),
            ("Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64", "%%%%not base64%%%%"),
        ]))
        try dir.write("in/huge.eml", makeMessage(id: "huge@x", subject: String(repeating: "\u{1b}[31m\u{202e}", count: 200_000),
                                                 body: String(repeating: "\u{0}\u{1b}", count: 100_000)))
        let archive = archiveDir(dir)
        let imported = try dossier(["import", dir.sub("in"), "--archive", archive, "--json", "--quiet"], in: dir)
        assertClean(imported, "import", allowed: [0])
        let keys = try storedKeys(archive)
        XCTAssertEqual(keys.count, 4)

        // What a message says must not drive the terminal: no escape character reaches the output
        // of the summary, the tables or search.
        for key in keys {
            for view in [[], ["--attachments"], ["--structure"]] {
                let out = try dossier(["show", key] + view + ["--archive", archive], in: dir)
                XCTAssertFalse(out.stdout.contains(0x1B), "show \(view) printed an escape character")
            }
        }
        let listed = try dossier(["search", "--archive", archive, "--", "from:a@x OR from:alice@client.example"], in: dir)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertFalse(listed.stdout.isEmpty)
        XCTAssertFalse(listed.stdout.contains(0x1B), "search printed an escape character")
        XCTAssertEqual(listed.stdout.filter { $0 == 10 }.count, String(decoding: listed.stdout, as: UTF8.self).split(separator: "\n").count)

        for key in keys {
            for view in [[], ["--json"], ["--raw"], ["--headers"], ["--text"], ["--attachments"], ["--attachments", "--json"],
                         ["--structure"], ["--structure", "--json"]] {
                assertClean(try dossier(["show", key] + view + ["--archive", archive], in: dir), "show \(view)", allowed: [0])
            }
            let parts = ["1", "2", "2.1", "1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1",
                         String(repeating: "1.", count: 20_000) + "1", "0", "-1", "--1", "", ".", "1..2", "a.b", "99999999999999999999999",
                         "18446744073709551616", "9223372036854775807", "1.9223372036854775807", " 1", "1\n"]
            for part in parts {
                assertClean(try dossier(["show", key, "--part=" + part, "--archive", archive], in: dir), "show --part \(part.prefix(40))", allowed: [0, 2, 64])
            }
        }
        for badKey in ["", "%", "_", "'", "' OR 1=1 --", String(repeating: "a", count: 100_000), "..", "../../etc/passwd", "abc"] {
            assertClean(try dossier(["show", badKey, "--archive", archive], in: dir), "show key \(badKey.prefix(20))", allowed: [2, 64])
        }
    }

    func testSearchWithHostileQueries() throws {
        _ = try binary
        let dir = try TemporaryDirectory()
        try dir.write("in/a.eml", makeMessage(id: "a@x", subject: "invoice"))
        let archive = archiveDir(dir)
        assertClean(try dossier(["import", dir.sub("in"), "--archive", archive, "--quiet"], in: dir), "import", allowed: [0])
        let queries: [String] = [
            String(repeating: "(", count: 100_000),
            String(repeating: "(", count: 5000) + "x" + String(repeating: ")", count: 5000),
            String(repeating: "a OR ", count: 20_000) + "b",
            String(repeating: "NOT ", count: 25_000) + "x",
            String(repeating: "-", count: 50_000),
            String(repeating: "\"", count: 50_001),
            String(repeating: "x", count: 100_000),
            String(repeating: "from:a@b ", count: 10_000),
            String(repeating: "* ", count: 20_000),
            "date:99999999999999999999", "date:9999-99-99", "date:..", "date:2024-02-30..1900-01-01", "date:-5000", "date:0000-00",
            "date:2024-01-01..2024-01-01..2024", "date:" + String(repeating: "9", count: 10_000),
            "from:", "subject:\"\"", "attachment:", "has:", "has:everything", "mailbox:'; DROP TABLE message; --",
            "folder:%", "folder:_", "\u{202e}invoice", "\u{1b}[2J", "invoice\u{7f}", "NEAR(a b, 99999999999)",
            "subject:(a OR (b AND (c OR -d)))", "\"unterminated", "x*y*z*", "**", "^invoice", "invoice:", ":", "a:b:c:d",
            "-- -x", "OR", "AND", "NOT", "( )", ")(", "\u{FFFD}\u{10FFFF}", "\\", "{subject}: x", "subject:\u{0301}",
        ]
        for query in queries {
            for sort in ["rank", "date"] {
                var arguments = ["search", "--archive", archive, "--limit", "5"]
                if sort == "date" { arguments += ["--sort", "date"] }
                assertClean(try dossier(arguments + ["--", query], in: dir), "search \(sort) \(query.prefix(40))")
            }
        }
        for limit in ["99999999999999999999", "-1", "9223372036854775807"] {
            assertClean(try dossier(["search", "invoice", "--limit", limit, "--archive", archive], in: dir), "limit \(limit)", allowed: [0, 64])
        }
    }
}

/// A flag set by one thread and read by another.
private final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var isSet = false
    func set() { lock.lock(); isSet = true; lock.unlock() }
    var value: Bool { lock.lock(); defer { lock.unlock() }; return isSet }
}

/// A value handed from one thread to another.
private final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value?
    func set(_ newValue: Value) { lock.lock(); value = newValue; lock.unlock() }
    func get() -> Value? { lock.lock(); defer { lock.unlock() }; return value }
}

/// The body of a multipart nested `levels` deep (each level opened, none closed), ending in a
/// text part; the caller adds closing boundaries if it wants them.
private func deepMultipart(levels: Int) -> String {
    var text = ""
    for level in 0..<levels {
        text += "Content-Type: multipart/mixed; boundary=\"b\(level)\"\n\n--b\(level)\n"
    }
    return text + "Content-Type: text/plain\n\ninnermost\n"
}

/// `levels` message/rfc822 parts, each holding the next, with `inner` headers at every level.
private func deepRFC822(levels: Int, inner: String, text: String = "innermost\n") -> String {
    var message = ""
    for _ in 0..<levels { message += "Content-Type: message/rfc822\n\n" + inner }
    return message + "\n" + text
}
