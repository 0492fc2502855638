@testable import DossierCore
import Crypto
import Foundation
import GRDB
import XCTest
import ZIPFoundation

/// Client exports of the sample firm's mail: what they hold, byte for byte, and that
/// `ExportVerifier` catches every kind of tampering.
final class ExportTests: XCTestCase {
    private var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The samples imported with the sample firm's CRM directory.
    private func sampleArchive(_ dir: TemporaryDirectory) throws -> DossierCore.Archive {
        let archive = try DossierCore.Archive.open(at: dir.sub("archive"), create: true)
        _ = try CRMStore.load(from: repository.appendingPathComponent("samples/crm"), into: archive)
        let mail = repository.appendingPathComponent("samples/mail").path
        _ = try Importer(archive: archive, options: ImportOptions(paths: [mail])).run()
        return archive
    }

    private func export(_ archive: DossierCore.Archive, _ request: ExportRequest, to path: String,
                        key: Curve25519.Signing.PrivateKey? = nil) throws -> ExportResult {
        var writer = ExportWriter(archive: archive, request: request)
        writer.signingKey = key
        writer.now = Date(timeIntervalSince1970: 1_733_300_000)
        let sink: ExportSink = path.hasSuffix(".zip") ? try ZipSink(destination: path, created: writer.now) : try FolderSink(destination: path)
        return try writer.run(into: sink, destination: path)
    }

    /// Message rowids filed to `record` (any rule), straight from the archive.
    private func filed(_ archive: DossierCore.Archive, _ record: CRMRecordRef) throws -> [(key: String, sha256: String)] {
        try archive.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT key, sha256 FROM message WHERE filing = 'filed'
                  AND id IN (SELECT message FROM filing_match WHERE kind = ? AND record = ?) ORDER BY key
                """, arguments: [record.kind.rawValue, record.id]).map { (key: $0["key"], sha256: $0["sha256"]) }
        }
    }

    private func files(under root: String) throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root)!
        var result: [String] = []
        while let next = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: root + "/" + next, isDirectory: &isDirectory)
            if !isDirectory.boolValue { result.append(next) }
        }
        return result.sorted()
    }

    func testAccountExportHoldsExactlyItsFiledMessagesByteForByte() throws {
        let dir = try TemporaryDirectory()
        let archive = try sampleArchive(dir)
        let record = CRMRecordRef(.account, "ACME")
        let result = try export(archive, ExportRequest(record: record), to: dir.sub("acme"))
        let expected = try filed(archive, record)
        XCTAssertGreaterThan(expected.count, 3)
        XCTAssertEqual(result.messages, expected.count)

        let emls = try files(under: dir.sub("acme/messages"))
        XCTAssertEqual(emls.count, expected.count)
        XCTAssertEqual(Set(emls.map { String($0.dropLast(4).suffix(16)) }), Set(expected.map(\.key)))
        XCTAssertEqual(emls, emls.sorted(), "names sort by date")
        for item in expected {
            let name = try XCTUnwrap(emls.first { $0.hasSuffix("-\(item.key).eml") })
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir.sub("acme/messages/\(name)"))))
            XCTAssertEqual(bytes, try archive.readOriginal(sha256: item.sha256), "messages/\(name) is the stored original")
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.sub("acme/pages/\(name.dropLast(4)).html")))
        }
        // Nothing of another client: Globex's filed mail is not there.
        let globex = Set(try filed(archive, CRMRecordRef(.account, "GLOBEX")).map(\.key)).subtracting(expected.map(\.key))
        XCTAssertFalse(globex.isEmpty)
        XCTAssertTrue(emls.allSatisfy { name in !globex.contains { name.hasSuffix("-\($0).eml") } })

        // The mbox holds them all, in date order, and reads back as the same messages.
        let mbox = Array(try Data(contentsOf: URL(fileURLWithPath: dir.sub("acme/mail.mbox"))))
        var read: [[UInt8]] = []
        var reader = try MboxReader(path: dir.sub("acme/mail.mbox"), gzip: false, mailbox: "x")
        while let message = try reader.next() { read.append(message.bytes) }
        XCTAssertEqual(read.count, expected.count)
        XCTAssertEqual(Set(read.map(ContentHash.sha256Hex)), Set(expected.map(\.sha256)), "mboxrd quoting is undone exactly")
        XCTAssertTrue(mbox.starts(with: Array("From ".utf8)))

        // The manifest lists every file, and the export verifies.
        let verification = try ExportVerifier(path: dir.sub("acme")).verify()
        XCTAssertEqual(verification.findings, [])
        XCTAssertEqual(verification.chainHead, result.chainHead)
        let listed = try files(under: dir.sub("acme")).filter { !ExportLayout.manifestFiles.contains($0) }
        XCTAssertEqual(verification.files, listed.count)
        XCTAssertEqual(result.files, listed.count)

        // Load file: a row per message and per attachment.
        let load = try String(contentsOfFile: dir.sub("acme/loadfile.csv"), encoding: .utf8)
        XCTAssertEqual(load.split(separator: "\n").count, 1 + expected.count + result.attachments)
        XCTAssertTrue(load.hasPrefix("CONTROL_NUMBER,PARENT,RECORD_TYPE,CUSTODIAN"))
        XCTAssertTrue(load.contains("ACME-00000001,,email,"))
        let dat = Array(try Data(contentsOf: URL(fileURLWithPath: dir.sub("acme/loadfile.dat"))))
        XCTAssertTrue(dat.starts(with: Array("\u{FEFF}\u{FE}CONTROL_NUMBER\u{FE}\u{14}\u{FE}PARENT\u{FE}".utf8)))
        // Left out: the client's noise, with its reasons.
        let leftOut = try String(contentsOfFile: dir.sub("acme/left-out.csv"), encoding: .utf8)
        XCTAssertTrue(leftOut.contains(",noise,read_receipt,"), leftOut)
        XCTAssertEqual(result.leftOut["noise"], leftOut.components(separatedBy: ",noise,").count - 1)
    }

    func testEachKindOfTamperingIsCaught() throws {
        let dir = try TemporaryDirectory()
        let archive = try sampleArchive(dir)
        let result = try export(archive, ExportRequest(record: CRMRecordRef(.account, "ACME")), to: dir.sub("clean"))
        let clean = dir.sub("clean")

        func tampered(_ name: String, _ damage: (String) throws -> Void) throws -> ExportVerification {
            let copy = dir.sub(name)
            try FileManager.default.copyItem(atPath: clean, toPath: copy)
            try damage(copy)
            return try ExportVerifier(path: copy).verify()
        }
        func flip(_ path: String, at position: Int? = nil) throws {
            var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let index = position ?? bytes.count / 2
            bytes[index] ^= 0x01
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        let eml = try files(under: clean + "/messages")[0]

        var found = try tampered("eml") { try flip($0 + "/messages/" + eml) }
        XCTAssertEqual(found.findings.map(\.kind), [.altered])
        XCTAssertEqual(found.findings.first?.path, "messages/" + eml)

        found = try tampered("mbox") { try flip($0 + "/mail.mbox") }
        XCTAssertEqual(found.findings.map(\.path), ["mail.mbox"])

        found = try tampered("manifest") { path in
            // A size in the manifest changed by one digit: the chain no longer holds.
            let text = try String(contentsOfFile: path + "/manifest.json", encoding: .utf8)
            let entry = try XCTUnwrap(text.range(of: "\"size\" : "))
            var changed = text
            let digit = changed.index(entry.upperBound, offsetBy: 0)
            changed.replaceSubrange(digit...digit, with: changed[digit] == "9" ? "8" : "9")
            try changed.write(toFile: path + "/manifest.json", atomically: false, encoding: .utf8)
        }
        XCTAssertTrue(found.findings.contains { $0.kind == .manifest && $0.detail.contains("chain broken") }, "\(found.findings)")

        found = try tampered("removed") { try FileManager.default.removeItem(atPath: $0 + "/messages/" + eml) }
        XCTAssertEqual(found.findings.map(\.kind), [.missing])

        found = try tampered("added") { try Data("extra".utf8).write(to: URL(fileURLWithPath: $0 + "/messages/extra.eml")) }
        XCTAssertEqual(found.findings.map(\.kind), [.added])
        XCTAssertEqual(found.findings.first?.path, "messages/extra.eml")

        // Entries reordered: the chain breaks; re-chained by hand, only the printed head catches it.
        func reorder(_ path: String, rechain: Bool) throws {
            var manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: path + "/manifest.json")))
            manifest.files.swapAt(0, 1)
            if rechain {
                var chain = ManifestChain()
                for file in manifest.files { chain.append(path: file.path, size: file.size, sha256: file.sha256) }
                manifest = Manifest(record: manifest.record, createdAt: manifest.createdAt, parameters: manifest.parameters, chain: chain)
                try Data(manifest.csv()).write(to: URL(fileURLWithPath: path + "/manifest.csv"))
            }
            try Data(try manifest.encoded()).write(to: URL(fileURLWithPath: path + "/manifest.json"))
        }
        found = try tampered("reordered") { try reorder($0, rechain: false) }
        XCTAssertTrue(found.findings.contains { $0.detail.contains("chain broken at entry 1") }, "\(found.findings)")
        found = try tampered("rechained") { try reorder($0, rechain: true) }
        XCTAssertEqual(found.findings, [], "a consistent rewrite passes without the head...")
        var withHead = ExportVerifier(path: dir.sub("rechained"))
        withHead.expectedHead = result.chainHead
        XCTAssertEqual(try withHead.verify().findings.map(\.kind), [.manifest], "...and fails with it")

        found = try tampered("csv") { try flip($0 + "/manifest.csv") }
        XCTAssertEqual(found.findings.map(\.path), ["manifest.csv"])

        found = try tampered("link") { path in
            try FileManager.default.removeItem(atPath: path + "/summary.csv")
            try FileManager.default.createSymbolicLink(atPath: path + "/summary.csv", withDestinationPath: "/etc/passwd")
        }
        XCTAssertEqual(found.findings.map(\.kind), [.notAFile])
    }

    func testZipExportIsAnOrdinaryZipAndVerifies() throws {
        let dir = try TemporaryDirectory()
        let archive = try sampleArchive(dir)
        let zip = dir.sub("acme.zip")
        let result = try export(archive, ExportRequest(record: CRMRecordRef(.account, "ACME")), to: zip)
        XCTAssertFalse(FileManager.default.fileExists(atPath: zip + ".partial"))
        let verification = try ExportVerifier(path: zip).verify()
        XCTAssertEqual(verification.findings, [])
        XCTAssertEqual(verification.files, result.files)

        // ZIPFoundation reads every entry back with its CRC; the folder export has the same files.
        let folder = dir.sub("acme")
        _ = try export(archive, ExportRequest(record: CRMRecordRef(.account, "ACME")), to: folder)
        let reader = try ZIPFoundation.Archive(url: URL(fileURLWithPath: zip), accessMode: .read)
        var names: [String] = []
        for entry in reader {
            names.append(entry.path)
            var bytes = Data()
            _ = try reader.extract(entry) { bytes.append($0) }
            if entry.path.hasPrefix("messages/") || entry.path.hasPrefix("attachments/") || entry.path == "mail.mbox" {
                XCTAssertEqual(bytes, try Data(contentsOf: URL(fileURLWithPath: folder + "/" + entry.path)), entry.path)
            }
        }
        XCTAssertEqual(names.sorted(), try files(under: folder))

        if FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip") {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/unzip")
            process.arguments = ["-tq", zip]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "unzip -t")
        }

        // One flipped byte in the zip's data is caught.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: zip)))
        bytes[bytes.count / 3] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: dir.sub("bad.zip")))
        let damaged = try? ExportVerifier(path: dir.sub("bad.zip")).verify()
        XCTAssertTrue(damaged == nil || !damaged!.findings.isEmpty)
    }

    func testSignedManifestVerifiesWithItsKeyAndOpenSSL() throws {
        let dir = try TemporaryDirectory()
        let archive = try sampleArchive(dir)
        let (privatePEM, publicPEM) = ExportSigning.generate()
        let key = try ExportSigning.privateKey(pem: privatePEM)
        let result = try export(archive, ExportRequest(record: CRMRecordRef(.account, "GLOBEX")), to: dir.sub("g"), key: key)
        XCTAssertTrue(result.signed)
        var verifier = ExportVerifier(path: dir.sub("g"))
        verifier.publicKey = try ExportSigning.publicKey(pem: publicPEM)
        let verification = try verifier.verify()
        XCTAssertEqual(verification.signature, "valid")
        XCTAssertEqual(verification.findings, [])

        // Another key does not verify it.
        verifier.publicKey = try ExportSigning.publicKey(pem: ExportSigning.generate().publicPEM)
        XCTAssertEqual(try verifier.verify().signature, "invalid")

        // OpenSSL alone checks it, as README says.
        try publicPEM.write(toFile: dir.sub("k.pub"), atomically: true, encoding: .utf8)
        if let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first(where: FileManager.default.isExecutableFile) {
            func check(_ manifest: String) throws -> Int32 {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: openssl)
                process.arguments = ["pkeyutl", "-verify", "-pubin", "-inkey", dir.sub("k.pub"), "-rawin", "-in", manifest,
                                     "-sigfile", dir.sub("g/manifest.json.sig")]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
                return process.terminationStatus
            }
            XCTAssertEqual(try check(dir.sub("g/manifest.json")), 0)
            try Data("{}".utf8).write(to: URL(fileURLWithPath: dir.sub("other.json")))
            XCTAssertNotEqual(try check(dir.sub("other.json")), 0)

            // The timestamp request is what `openssl ts -query` makes and reads.
            let query = Process()
            query.executableURL = URL(fileURLWithPath: openssl)
            query.arguments = ["ts", "-query", "-in", dir.sub("g/manifest.tsq"), "-text"]
            let pipe = Pipe()
            query.standardOutput = pipe
            query.standardError = FileHandle.nullDevice
            try query.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            query.waitUntilExit()
            XCTAssertEqual(query.terminationStatus, 0)
            XCTAssertTrue(text.contains("sha256"), text)
            let digest = ContentHash.sha256Hex(Array(try Data(contentsOf: URL(fileURLWithPath: dir.sub("g/manifest.json")))))
            let shown = text.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "-", with: "").lowercased()
            XCTAssertTrue(shown.contains(String(digest.prefix(32))), "the request carries the manifest's digest:\n\(text)")
        }
    }

    func testScopesLeaveOutWhatTheySay() throws {
        let dir = try TemporaryDirectory()
        let archive = try sampleArchive(dir)
        var request = ExportRequest(record: CRMRecordRef(.account, "ACME"))
        request.scope = .metadata
        let metadata = try export(archive, request, to: dir.sub("meta"))
        let metaFiles = try files(under: dir.sub("meta"))
        XCTAssertFalse(metaFiles.contains { $0.hasPrefix("messages/") || $0.hasPrefix("attachments/") || $0 == "mail.mbox" })
        XCTAssertTrue(metaFiles.contains { $0.hasPrefix("pages/") })
        XCTAssertGreaterThan(metadata.messages, 0)
        XCTAssertEqual(try ExportVerifier(path: dir.sub("meta")).verify().findings, [])

        request.scope = .noAttachments
        let plain = try export(archive, request, to: dir.sub("plain"))
        let plainFiles = try files(under: dir.sub("plain"))
        XCTAssertFalse(plainFiles.contains { $0.hasPrefix("attachments/") })
        XCTAssertEqual(plainFiles.filter { $0.hasPrefix("messages/") }.count, plain.messages)
        XCTAssertEqual(plain.attachmentFiles, 0)
        XCTAssertGreaterThan(plain.attachments, 0, "attachments stay listed")
    }

    func testGroupWindowAndQueryNarrowAndSayWhatTheyLeftOut() throws {
        let dir = try TemporaryDirectory()
        let archive = try sampleArchive(dir)
        let record = CRMRecordRef(.account, "ACME")
        let all = try filed(archive, record).count
        var request = ExportRequest(record: record)
        request.since = "2024-02-10"
        let windowed = try export(archive, request, to: dir.sub("w"))
        XCTAssertLessThan(windowed.messages, all)
        XCTAssertEqual(windowed.messages + (windowed.leftOut["window"] ?? 0), all)

        request = ExportRequest(record: record)
        request.query = "has:attachment"
        let queried = try export(archive, request, to: dir.sub("q"))
        XCTAssertEqual(queried.messages + (queried.leftOut["query"] ?? 0), all)
        XCTAssertGreaterThan(queried.messages, 0)

        // Groups: Public sees only mail of Public users' mailboxes; the samples have none, so an
        // export for Public holds nothing, and says why for each message.
        request = ExportRequest(record: record)
        request.group = "Public"
        let publicOnly = try export(archive, request, to: dir.sub("p"))
        XCTAssertEqual(publicOnly.messages, 0)
        XCTAssertEqual(publicOnly.leftOut["group"], all)
        request.group = "Direction"
        XCTAssertEqual(try export(archive, request, to: dir.sub("d")).messages, all)
        request.group = "Nobody"
        XCTAssertThrowsError(try export(archive, request, to: dir.sub("n"))) { error in
            XCTAssertTrue("\(error)".contains("unknown group"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.sub("n")), "a refused export leaves nothing")
    }

    func testSubsidiariesRollUpEachMessageOnce() throws {
        let dir = try TemporaryDirectory()
        let archive = try sampleArchive(dir)
        let index = try archive.database.read { CRMIndex(try CRMStore.activeDirectory(in: $0)!) }
        guard let child = index.directory.accounts.first(where: { $0.parentID != nil }), let parent = child.parentID else {
            throw XCTSkip("the sample directory has no subsidiary")
        }
        var request = ExportRequest(record: CRMRecordRef(.account, parent))
        request.withSubsidiaries = true
        let result = try export(archive, request, to: dir.sub("s"))
        let union = Set(try filed(archive, CRMRecordRef(.account, parent)).map(\.key))
            .union(try filed(archive, CRMRecordRef(.account, child.id)).map(\.key))
        XCTAssertEqual(result.messages, union.count)
        XCTAssertEqual(try files(under: dir.sub("s/messages")).count, union.count)
    }

    func testAMissingObjectStopsTheExportAndNamesIt() throws {
        let dir = try TemporaryDirectory()
        let archive = try sampleArchive(dir)
        let record = CRMRecordRef(.account, "ACME")
        // Remove one attachment object that an ACME message carries.
        let sha = try XCTUnwrap(try archive.database.read { db in
            try String.fetchOne(db, sql: """
                SELECT a.sha256 FROM attachment a JOIN filing_match f ON f.message = a.message
                WHERE f.kind = 'account' AND f.record = 'ACME' LIMIT 1
                """)
        })
        try FileManager.default.removeItem(atPath: archive.objects.path(.attachment, sha256: sha))
        XCTAssertThrowsError(try export(archive, ExportRequest(record: record), to: dir.sub("x"))) { error in
            guard case ExportError.missingObject(_, let what) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(what.contains(sha.prefix(2)), what)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.sub("x")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("partial") }
        XCTAssertEqual(leftovers, [], "the staging folder is removed")

        XCTAssertThrowsError(try export(archive, ExportRequest(record: record), to: dir.sub("x.zip")))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("x.zip") }, [])
    }

    /// A sink whose disk fills after a few files: the export fails with the error, and what it
    /// wrote is gone.
    func testAFullDiskLeavesNoExport() throws {
        final class FillingSink: ExportSink {
            let inner: FolderSink
            var left: Int
            init(_ inner: FolderSink, files: Int) { self.inner = inner; left = files }
            func write(_ path: String, _ bytes: [UInt8]) throws {
                left -= 1
                if left < 0 { throw ExportOutputError.io(path: path, errno: ENOSPC) }
                try inner.write(path, bytes)
            }
            func scratchPath(for path: String) throws -> String { try inner.scratchPath(for: path) }
            func adopt(_ path: String, scratch: String) throws { try inner.adopt(path, scratch: scratch) }
            func commit() throws { try inner.commit() }
            func abandon() { inner.abandon() }
        }
        let dir = try TemporaryDirectory()
        let archive = try sampleArchive(dir)
        for files in [0, 3, 12] {
            let target = dir.sub("full-\(files)")
            let sink = FillingSink(try FolderSink(destination: target), files: files)
            XCTAssertThrowsError(try ExportWriter(archive: archive, request: ExportRequest(record: CRMRecordRef(.account, "ACME")))
                .run(into: sink, destination: target)) { error in
                XCTAssertTrue("\(error)".contains("No space left"), "\(error)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: target))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("partial") }, [])
    }

    func testOutputThatExistsIsRefused() throws {
        let dir = try TemporaryDirectory()
        try dir.write("busy/file.txt", "x")
        XCTAssertThrowsError(try FolderSink(destination: dir.sub("busy")))
        try dir.write("a.zip", "x")
        XCTAssertThrowsError(try ZipSink(destination: dir.sub("a.zip"), created: Date()))
        try FileManager.default.createDirectory(atPath: dir.sub("empty"), withIntermediateDirectories: false)
        XCTAssertNoThrow(try FolderSink(destination: dir.sub("empty")).abandon())
    }

    func testAttachmentNamesArePortableAndNeverCollide() {
        var namer = AttachmentNamer()
        XCTAssertEqual(namer.path(sha256: "a", name: "../../etc/passwd"), "attachments/passwd")
        XCTAssertEqual(namer.path(sha256: "b", name: "C:\\x\\PASSWD"), "attachments/PASSWD (2)")
        XCTAssertEqual(namer.path(sha256: "a", name: "other"), "attachments/passwd", "one file per digest")
        XCTAssertEqual(namer.path(sha256: "c", name: "con.txt"), "attachments/_con.txt")
        XCTAssertEqual(namer.path(sha256: "d", name: "a<b>:c?.pdf"), "attachments/a_b__c_.pdf")
        XCTAssertEqual(namer.path(sha256: "e", name: "\u{202E}fdp.exe"), "attachments/fdp.exe")
        XCTAssertEqual(namer.path(sha256: "f", name: nil), "attachments/attachment-f")
        let long = namer.path(sha256: "g", name: String(repeating: "x", count: 10_000) + ".pdf")
        XCTAssertTrue(long.hasSuffix(".pdf"))
        XCTAssertLessThanOrEqual(long.utf8.count, "attachments/".utf8.count + 120)
        for path in ["attachments/passwd", long] { XCTAssertTrue(ExportLayout.isSafeRelativePath(path)) }
        XCTAssertFalse(ExportLayout.isSafeRelativePath("../x"))
        XCTAssertFalse(ExportLayout.isSafeRelativePath("a/../x"))
        XCTAssertFalse(ExportLayout.isSafeRelativePath("/etc/x"))
    }

    func testMboxrdQuotesFromLinesAndTheReaderUndoesIt() throws {
        let message = Array("From: a@b.example\nSubject: x\n\nFrom here\n>From there\n>>From far\nFromage\n".utf8)
        let entry = Mboxrd.entry(message, sender: "a@b.example", date: Date(timeIntervalSince1970: 1_700_000_000))
        let text = String(decoding: entry, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("From a@b.example Tue Nov 14 22:13:20 2023\n"))
        XCTAssertTrue(text.contains("\n>From here\n>>From there\n>>>From far\nFromage\n"))
        let dir = try TemporaryDirectory()
        let path = try dir.write("x.mbox", entry + entry)
        var reader = try MboxReader(path: path, gzip: false, mailbox: "x")
        var read: [[UInt8]] = []
        while let next = try reader.next() { read.append(next.bytes) }
        XCTAssertEqual(read, [message, message])
    }

    func testZipWriterWritesZip64WhenEntriesExceedTheClassicCount() throws {
        let dir = try TemporaryDirectory()
        let path = dir.sub("many.zip")
        let writer = try ZipWriter(path: path)
        for n in 0..<70_000 { try writer.add("f/\(n)", Array("entry \(n)".utf8)) }
        try writer.finish()
        let reader = try ZIPFoundation.Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        var count = 0
        for entry in reader {
            if count == 69_999 || count == 0 {
                var bytes = Data()
                _ = try reader.extract(entry) { bytes.append($0) }
                XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "entry \(count)")
            }
            count += 1
        }
        XCTAssertEqual(count, 70_000)
    }

    func testTimestampReplyIsCheckedAgainstTheManifest() throws {
        // A minimal TimeStampResp: status granted, a token whose TSTInfo stamps `digest`.
        func reply(for digest: [UInt8], nonce: [UInt8]) -> [UInt8] {
            let algorithm = DER.sequence(DER.tlv(0x06, TimestampRequest.sha256OID) + [0x05, 0x00])
            let tstInfo = DER.sequence(DER.tlv(0x02, [1]) + DER.tlv(0x06, [0x2A, 0x03]) + DER.sequence(algorithm + DER.tlv(0x04, digest))
                                       + DER.tlv(0x02, [7]) + DER.tlv(0x18, Array("20261204120000Z".utf8)) + DER.tlv(0x02, nonce))
            let encapsulated = DER.sequence(DER.tlv(0x06, DER.tstInfoOID) + DER.tlv(0xA0, DER.tlv(0x04, tstInfo)))
            let signedData = DER.sequence(DER.tlv(0x02, [3]) + DER.tlv(0x31, []) + encapsulated)
            let token = DER.sequence(DER.tlv(0x06, [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02]) + DER.tlv(0xA0, signedData))
            return DER.sequence(DER.sequence(DER.tlv(0x02, [0])) + token)
        }
        let dir = try TemporaryDirectory()
        let archive = try sampleArchive(dir)
        _ = try export(archive, ExportRequest(record: CRMRecordRef(.account, "ACME")), to: dir.sub("t"))
        let manifest = Array(try Data(contentsOf: URL(fileURLWithPath: dir.sub("t/manifest.json"))))
        let digest = Array(SHA256.hash(data: manifest))
        try Data(reply(for: digest, nonce: TimestampRequest.nonce(for: digest))).write(to: URL(fileURLWithPath: dir.sub("t/manifest.tsr")))
        var verification = try ExportVerifier(path: dir.sub("t")).verify()
        XCTAssertEqual(verification.findings, [])
        XCTAssertEqual(verification.timestamp, "20261204120000Z")

        try Data(reply(for: Array(repeating: 0, count: 32), nonce: [1])).write(to: URL(fileURLWithPath: dir.sub("t/manifest.tsr")))
        verification = try ExportVerifier(path: dir.sub("t")).verify()
        XCTAssertEqual(verification.findings.map(\.kind), [.timestamp])
    }
}

extension ExportTests {
    func testOverlongAttachmentNamesKeepTheirExtension() {
        let name = AttachmentName.sanitize(String(repeating: "é", count: 300) + ".pdf")
        XCTAssertEqual(name?.hasSuffix(".pdf"), true)
        XCTAssertLessThanOrEqual(name?.utf8.count ?? 0, 255)
        XCTAssertEqual(AttachmentName.sanitize(String(repeating: "x", count: 300))?.utf8.count, 255)
    }
}
