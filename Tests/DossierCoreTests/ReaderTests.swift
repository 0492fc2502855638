@testable import DossierCore
import Foundation
import XCTest

final class ReaderTests: XCTestCase {
    // MARK: helpers

    private func readAll(_ reader: inout some MessageReader) throws -> [RawMessage] {
        var result: [RawMessage] = []
        while let message = try reader.next() { result.append(message) }
        return result
    }

    private func mbox(_ path: String, gzip: Bool = false, limit: Int = ReaderLimits.maxMessageBytes) throws -> [RawMessage] {
        var reader = try MboxReader(path: path, gzip: gzip, mailbox: "m", maxMessageBytes: limit)
        return try readAll(&reader)
    }

    private func texts(_ messages: [RawMessage]) -> [String] {
        messages.map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    private func offsets(_ messages: [RawMessage]) -> [Int64?] { messages.map(\.location.offset) }

    private let envelope = "From alice@example.com Tue Mar  5 10:00:00 2024"

    // MARK: mbox

    func testMboxoSplitsOnFromLinesAndExcludesSeparatorAndBlankLine() throws {
        let dir = try TemporaryDirectory()
        let a = "Subject: a\n\nbody a\n"
        let b = "Subject: b\n\nbody b\n\nlast paragraph\n"
        let file = "\(envelope)\n\(a)\n\(envelope)\n\(b)\n"
        let path = try dir.write("x.mbox", file)
        let messages = try mbox(path)
        XCTAssertEqual(texts(messages), [a, b])
        let second = Int64(envelope.utf8.count + 1 + a.utf8.count + 1)
        XCTAssertEqual(offsets(messages), [0, second])
        XCTAssertEqual(messages[0].location.path, path)
        XCTAssertEqual(messages[0].location.mailbox, "m")
    }

    func testMboxrdUnquotingRemovesOneGreaterThan() throws {
        let dir = try TemporaryDirectory()
        let stored = "Subject: q\n\n>From here\n>>From there\n> From not quoted\n>Fromage\nFrom-less\n"
        let original = "Subject: q\n\nFrom here\n>From there\n> From not quoted\n>Fromage\nFrom-less\n"
        let path = try dir.write("q.mbox", "\(envelope)\n\(stored)\n")
        XCTAssertEqual(texts(try mbox(path)), [original])
    }

    func testBodyFromLinesThatAreNotEnvelopesDoNotSplit() throws {
        let dir = try TemporaryDirectory()
        // After a blank line but no date: text. Inside a paragraph with no headers after: text.
        let a = "Subject: a\n\nMy favourite film:\n\nFrom Russia with love\nYear: 1963\n\nWe went\nFrom x Tue Mar  5 10:00:00 2024 onwards\nand back.\n"
        let path = try dir.write("x.mbox", "\(envelope)\n\(a)\n\(envelope)\nSubject: b\n\nb\n")
        let messages = try mbox(path)
        XCTAssertEqual(messages.count, 2)
        XCTAssertEqual(texts(messages).first, a)
    }

    func testFromLineWithoutBlankLineSplitsWhenHeadersFollow() throws {
        let dir = try TemporaryDirectory()
        // Netscape files have no blank line before "From - ".
        let path = try dir.write("n.mbox", "From - \nSubject: a\n\n--end--\nFrom - \nSubject: b\n\nb\n")
        let messages = try mbox(path)
        XCTAssertEqual(texts(messages), ["Subject: a\n\n--end--\n", "Subject: b\n\nb\n"])
        XCTAssertEqual(offsets(messages), [0, 28])
    }

    func testContentLengthKeepsUnquotedFromLinesInside() throws {
        let dir = try TemporaryDirectory()
        let body = "line one\n\n\(envelope)\nSubject: fake\n\nstill the same message\n"
        let a = "Subject: a\nContent-Length: \(body.utf8.count)\n\n" + body
        let b = "Subject: b\n\nb\n"
        // Content-Length pointing at the blank separating line.
        let path = try dir.write("cl.mbox", "\(envelope)\n\(a)\n\(envelope)\n\(b)")
        XCTAssertEqual(texts(try mbox(path)), [a, b])
        // ... and pointing straight at the next From line (length counts the blank line).
        let a2 = "Subject: a\nContent-Length: \(body.utf8.count + 1)\n\n" + body
        let path2 = try dir.write("cl2.mbox", "\(envelope)\n\(a2)\n\(envelope)\n\(b)")
        XCTAssertEqual(texts(try mbox(path2)), [a2, b])
        // ... and at the end of the file, with or without the final separating newline.
        let path3 = try dir.write("cl3.mbox", "\(envelope)\n\(a)")
        XCTAssertEqual(texts(try mbox(path3)), [a])
        let path4 = try dir.write("cl4.mbox", "\(envelope)\n\(a)\n")
        XCTAssertEqual(texts(try mbox(path4)), [a])
        let path5 = try dir.write("cl5.mbox", "\(envelope)\n\(a2)\n")
        XCTAssertEqual(texts(try mbox(path5)), [a2])
    }

    func testContentLengthBodyIsNotUnquotedWhenTheWriterDidNotQuote() throws {
        let dir = try TemporaryDirectory()
        let body = ">From kept\n\(envelope)\nSubject: inner\n\nx\n"
        let a = "Subject: a\nContent-Length: \(body.utf8.count)\n\n" + body
        let path = try dir.write("cl.mbox", "\(envelope)\n\(a)\n")
        XCTAssertEqual(texts(try mbox(path)), [a])
    }

    func testWrongContentLengthFallsBackToSeparators() throws {
        let dir = try TemporaryDirectory()
        let a = "Subject: a\nContent-Length: 5\n\nbody a is longer than five\n"
        let b = "Subject: b\nContent-Length: 99999\n\nbody b\n"
        let c = "Subject: c\n\n>From c\n"
        let path = try dir.write("bad.mbox", "\(envelope)\n\(a)\n\(envelope)\n\(b)\n\(envelope)\n\(c)\n")
        let messages = try mbox(path)
        XCTAssertEqual(texts(messages), [a, b, "Subject: c\n\nFrom c\n"])
        let line = Int64(envelope.utf8.count + 1)
        XCTAssertEqual(offsets(messages), [0, line + Int64(a.utf8.count + 1), 2 * line + Int64(a.utf8.count + b.utf8.count + 2)])
    }

    func testCRLFMboxDropsTheCRLFBlankLine() throws {
        let dir = try TemporaryDirectory()
        let a = "Subject: a\r\n\r\nbody a\r\n>From x\r\n"
        let b = "Subject: b\r\n\r\nbody b\r\n"
        let path = try dir.write("crlf.mbox", "\(envelope)\r\n\(a)\r\n\(envelope)\r\n\(b)\r\n")
        let messages = try mbox(path)
        XCTAssertEqual(texts(messages), ["Subject: a\r\n\r\nbody a\r\nFrom x\r\n", b])
        XCTAssertEqual(offsets(messages), [0, Int64(envelope.utf8.count + 2 + a.utf8.count + 2)])
    }

    func testMissingFinalNewlineIsKept() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("nonl.mbox", "\(envelope)\nSubject: a\n\nno newline at the end")
        XCTAssertEqual(texts(try mbox(path)), ["Subject: a\n\nno newline at the end"])
    }

    func testLeadingBlankLinesAndBOMAreToleratedButOtherStartsAreNotMbox() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("lead.mbox", [0xEF, 0xBB, 0xBF] + Array("\n\n\(envelope)\nSubject: a\n\nx\n".utf8))
        let messages = try mbox(path)
        XCTAssertEqual(texts(messages), ["Subject: a\n\nx\n"])
        XCTAssertEqual(offsets(messages), [5])
        let bad = try dir.write("bad.mbox", "Subject: not an mbox\n\n\(envelope)\n")
        XCTAssertThrowsError(try mbox(bad)) { error in
            guard case SourceError.corrupt(_, 0, _) = error else { return XCTFail("unexpected \(error)") }
        }
        XCTAssertEqual(try mbox(try dir.write("empty.mbox", "")).count, 0)
    }

    func testLargeMboxAcrossWindowRefillsAndLongLines() throws {
        let dir = try TemporaryDirectory()
        var file: [UInt8] = []
        var expected: [[UInt8]] = []
        var expectedOffsets: [Int64] = []
        let longLine = String(repeating: "x", count: 3_000_000) // longer than the reader's window
        for index in 0..<4000 {
            var body = "Subject: \(index)\n\n" + String(repeating: "line \(index) of text\n", count: index % 50)
            if index % 7 == 0 { body += ">From quoted \(index)\n" }
            if index == 1234 { body += longLine + "\n" }
            if index == 2345 { body += "From " + longLine + "\n" } // a long From line: not a separator (no date)
            expectedOffsets.append(Int64(file.count))
            file += Array("\(envelope)\n".utf8) + Array(body.utf8) + [10]
            expected.append(Array(body.replacingOccurrences(of: ">From quoted", with: "From quoted").utf8))
        }
        let path = try dir.write("big.mbox", file)
        let messages = try mbox(path)
        XCTAssertEqual(messages.count, expected.count)
        XCTAssertTrue(messages.map(\.bytes) == expected, "contents differ")
        XCTAssertEqual(offsets(messages), expectedOffsets)

        // The same through gzip, in two concatenated members.
        let half = file.count / 2
        let gz = try Gzip.compress(Array(file[..<half])) + Gzip.compress(Array(file[half...]))
        let gzPath = try dir.write("big.mbox.gz", gz)
        let inflated = try mbox(gzPath, gzip: true)
        XCTAssertTrue(inflated.map(\.bytes) == expected, "gzip contents differ")
        XCTAssertEqual(offsets(inflated), expectedOffsets)
    }

    func testGzipMboxOffsetsAreInTheDecompressedStream() throws {
        let dir = try TemporaryDirectory()
        let text = "\(envelope)\nSubject: a\n\na\n\n\(envelope)\nSubject: b\n\nb\n"
        let path = try dir.write("a.mbox.gz", try Gzip.compress(Array(text.utf8)))
        let messages = try mbox(path, gzip: true)
        XCTAssertEqual(texts(messages), ["Subject: a\n\na\n", "Subject: b\n\nb\n"])
        XCTAssertEqual(offsets(messages), [0, Int64(envelope.utf8.count + 16)])
    }

    func testCorruptGzipIsSourceErrorCorruptWithOffset() throws {
        let dir = try TemporaryDirectory()
        var text = ""
        for index in 0..<2000 { text += "\(envelope)\nSubject: \(index)\n\n\(UUID().uuidString)\n\n" }
        var gz = try Gzip.compress(Array(text.utf8))
        for k in (gz.count / 2)..<(gz.count / 2 + 64) { gz[k] ^= 0x5A }
        let path = try dir.write("c.mbox.gz", gz)
        var reader = try MboxReader(path: path, gzip: true, mailbox: "m")
        var read = 0
        do {
            while try reader.next() != nil { read += 1 }
            XCTFail("corruption not detected")
        } catch SourceError.corrupt(let errorPath, let offset, _) {
            XCTAssertEqual(errorPath, path)
            XCTAssertGreaterThan(offset, 0)
            XCTAssertLessThan(read, 2000)
        }
        // Truncated: also corrupt, after the messages that were whole.
        let truncated = try dir.write("t.mbox.gz", Array(try Gzip.compress(Array(text.utf8)).dropLast(100)))
        XCTAssertThrowsError(try mbox(truncated, gzip: true)) { error in
            guard case SourceError.corrupt = error else { return XCTFail("unexpected \(error)") }
        }
    }

    func testOversizeMessageIsSkippedAndReadingGoesOn() throws {
        let dir = try TemporaryDirectory()
        let big = "Subject: big\n\n" + String(repeating: "0123456789\n", count: 100)
        let path = try dir.write("o.mbox", "\(envelope)\nSubject: a\n\na\n\n\(envelope)\n\(big)\n\(envelope)\nSubject: c\n\nc\n")
        var reader = try MboxReader(path: path, gzip: false, mailbox: "m", maxMessageBytes: 200)
        XCTAssertEqual(try reader.next().map { String(decoding: $0.bytes, as: UTF8.self) }, "Subject: a\n\na\n")
        XCTAssertThrowsError(try reader.next()) { error in
            guard case SourceError.tooLarge(_, let offset, 200) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(offset, Int64(self.envelope.utf8.count + 16))
        }
        XCTAssertEqual(try reader.next().map { String(decoding: $0.bytes, as: UTF8.self) }, "Subject: c\n\nc\n")
        XCTAssertNil(try reader.next())

        let file = try dir.write("big.eml", big)
        var single = MessageFileReader(path: file, mailbox: "m", maxMessageBytes: 200)
        XCTAssertThrowsError(try single.next()) { error in
            guard case SourceError.tooLarge = error else { return XCTFail("unexpected \(error)") }
        }
    }

    // MARK: Maildir

    func testMaildirFlagsFoldersAndTmpIgnored() throws {
        let dir = try TemporaryDirectory()
        try dir.write("mail/cur/1.a.host:2,SRF", "Subject: 1\n\n1\n")
        try dir.write("mail/cur/2.b.host!2,Ta", "Subject: 2\n\n2\n")
        try dir.write("mail/new/3.c.host", "Subject: 3\n\n3\n")
        try dir.write("mail/tmp/4.d.host", "Subject: never\n\n")
        try dir.write("mail/cur/.hidden", "Subject: never\n\n")
        try dir.write("mail/dovecot-uidlist", "3 V1 N4\n")
        try dir.write("mail/maildirfolder", "")
        try dir.write("mail/subscriptions", "Clients\n")
        try dir.write("mail/courierimapkeywords/:list", "x\n")
        try dir.write("mail/.Clients/cur/5.e.host:2,", "Subject: 5\n\n5\n")
        try dir.write("mail/.Clients.Acme/new/6.f.host", "Subject: 6\n\n6\n")
        try dir.write("mail/.Clients.Acme/maildirfolder", "")
        try dir.write("mail/Archive/2023/cur/7.g.host:2,S", "Subject: 7\n\n7\n")
        try dir.write("mail/Archive/notes.txt", "not mail\n")

        try dir.write("mail/loose-message", "Subject: loose\n\n")

        let all = try SourcePlanner.plan(paths: [dir.sub("mail")])
        // Loose files beside cur/new (not metadata) are read as single messages of that folder.
        XCTAssertEqual(all.sources.filter { $0.kind == .messageFile }.map { "\($0.folder) \(SourcePlanner.baseName($0.path))" },
                       ["INBOX loose-message", "Archive notes.txt"])
        XCTAssertTrue(all.sources.allSatisfy { $0.mailbox == "mail" })
        let plan = SourcePlan(sources: all.sources.filter { $0.kind == .maildirFolder })
        XCTAssertEqual(plan.sources.map(\.folder), ["INBOX", "Archive/2023", "Clients", "Clients/Acme"])
        XCTAssertEqual(plan.sources[0].byteSize, 3 * 14)
        XCTAssertEqual(plan.sources.map(\.messageFiles), [3, 1, 1, 1])
        XCTAssertEqual(all.expectedMessages, 6 + 2)
        // Without sizes (no progress display): the same sources, their files counted, not measured.
        let unmeasured = try SourcePlanner.plan(paths: [dir.sub("mail")], measuringMaildirs: false)
        XCTAssertEqual(unmeasured.sources.map(\.path), all.sources.map(\.path))
        XCTAssertEqual(unmeasured.expectedMessages, all.expectedMessages)
        XCTAssertEqual(unmeasured.sources.filter { $0.kind == .maildirFolder }.map(\.byteSize), [0, 0, 0, 0])

        var inbox = try plan.sources[0].openReader()
        let messages = try readAll(&inbox)
        XCTAssertEqual(texts(messages), ["Subject: 1\n\n1\n", "Subject: 2\n\n2\n", "Subject: 3\n\n3\n"])
        XCTAssertEqual(messages.map(\.location.flags), ["FRS", "T", ""])
        XCTAssertEqual(messages.map(\.location.folder), ["INBOX", "INBOX", "INBOX"])
        XCTAssertEqual(messages[0].location.path, dir.sub("mail/cur/1.a.host:2,SRF"))
        XCTAssertNil(messages[0].location.offset)

        var acme = try plan.sources[3].openReader()
        XCTAssertEqual(texts(try readAll(&acme)), ["Subject: 6\n\n6\n"])
    }

    func testFlagsParsing() {
        XCTAssertEqual(MaildirReader.flags(fromFileName: "1.2.h:2,TSRPFD"), "DFPRST")
        XCTAssertEqual(MaildirReader.flags(fromFileName: "1.2.h:2,SSab"), "S")
        XCTAssertEqual(MaildirReader.flags(fromFileName: "1.2.h"), "")
        XCTAssertEqual(MaildirReader.flags(fromFileName: "1.2.h:1,S"), "")
        XCTAssertEqual(MaildirReader.flags(fromFileName: "1.2.h!2,R"), "R")
    }

    func testFolderGlobsLimitWhatIsRead() throws {
        let dir = try TemporaryDirectory()
        try dir.write("mail/cur/1:2,", "Subject: 1\n\n")
        try dir.write("mail/.Clients.Acme/cur/2:2,", "Subject: 2\n\n")
        try dir.write("mail/.Clients.Beta/cur/3:2,", "Subject: 3\n\n")
        try dir.write("mail/.Private/cur/4:2,", "Subject: 4\n\n")
        XCTAssertEqual(try SourcePlanner.plan(paths: [dir.sub("mail")], folderGlobs: ["Clients/*"]).sources.map(\.folder),
                       ["Clients/Acme", "Clients/Beta"])
        XCTAssertEqual(try SourcePlanner.plan(paths: [dir.sub("mail")], folderGlobs: ["INBOX", "*Beta"]).sources.map(\.folder),
                       ["INBOX", "Clients/Beta"])
        // In a plain tree an mbox's folder is its relative path without extensions.
        try dir.write("tree/Clients/acme.mbox", "\(envelope)\nSubject: a\n\n")
        try dir.write("tree/Other/x.mbox", "\(envelope)\nSubject: x\n\n")
        // One user's tree (--mailbox): folders are relative to the directory given.
        let tree = try SourcePlanner.plan(paths: [dir.sub("tree")], mailbox: "alice", folderGlobs: ["Clients/*"])
        XCTAssertEqual(tree.sources.map(\.folder), ["Clients/acme"])
        // Without --mailbox the directory is a folder of mailboxes: Clients/ is a mailbox, acme its folder.
        let mailboxes = try SourcePlanner.plan(paths: [dir.sub("tree")], folderGlobs: ["acme"])
        XCTAssertEqual(mailboxes.sources.map { "\($0.mailbox) \($0.folder)" }, ["Clients acme"])
        // A file named on the command line is read whatever the globs.
        XCTAssertEqual(try SourcePlanner.plan(paths: [dir.sub("tree/Other/x.mbox")], folderGlobs: ["Clients/*"]).sources.count, 1)
    }

    // MARK: planning

    func testDirectorySniffingKindsMailboxesAndFolders() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/a.eml", "Subject: a\n\n")
        try dir.write("in/b.txt", "\n\(envelope)\nSubject: b\n\n")                       // mbox by content
        try dir.write("in/c.gz", try Gzip.compress(Array("\(envelope)\nSubject: c\n\n".utf8)))
        try dir.write("in/d.eml.gz", try Gzip.compress(Array("Subject: d\n\n".utf8)))
        try dir.write("in/e.bin", [0, 1, 2, 3])
        try dir.write("in/.DS_Store", [0, 0])
        try dir.write("in/sub/f", "Subject: f\n\n")
        try dir.write("in/box/cur/g:2,S", "Subject: g\n\n")
        try dir.write("in/h.mbox", "")
        let plan = try SourcePlanner.plan(paths: [dir.sub("in")])
        let summary = plan.sources.map { "\($0.kind.rawValue) \($0.mailbox) [\($0.folder)] gz=\($0.gzip) \(SourcePlanner.baseName($0.path))" }
        // A directory given is a folder of mailboxes: each mbox file, Maildir and subfolder is a
        // mailbox named after it; single-message files directly in it are the directory's own.
        // (Before, every mbox and subfolder landed in mailbox "in", which gave per-user exports the
        // wrong users and access groups.)
        XCTAssertEqual(summary, [
            "messageFile in [] gz=false a.eml",
            "mbox b [] gz=false b.txt",
            "maildirFolder box [INBOX] gz=false box",
            "mbox c [] gz=true c.gz",
            "messageFile in [] gz=true d.eml.gz",
            "messageFile in [] gz=false e.bin",
            "mbox h [] gz=false h.mbox",
            "messageFile sub [] gz=false f",
        ])
        XCTAssertTrue(plan.sources.allSatisfy { $0.path.hasPrefix("/") })
        XCTAssertEqual(plan.totalBytes, plan.sources.reduce(0) { $0 + $1.byteSize })

        var gzMessage = try plan.sources[4].openReader()
        XCTAssertEqual(texts(try readAll(&gzMessage)), ["Subject: d\n\n"])
        var gzMbox = try plan.sources[3].openReader()
        // The final blank line is the separating newline of the last message.
        XCTAssertEqual(texts(try readAll(&gzMbox)), ["Subject: c\n"])

        // A single file: mailbox from its name without extensions, no folder; --mailbox wins.
        let single = try SourcePlanner.plan(paths: [dir.sub("in/c.gz"), dir.sub("in/d.eml.gz")])
        XCTAssertEqual(single.sources.map(\.mailbox), ["c", "d"])
        XCTAssertEqual(single.sources.map(\.folder), ["", ""])
        XCTAssertEqual(try SourcePlanner.plan(paths: [dir.sub("in")], mailbox: "Acme").sources.map(\.mailbox).allSatisfy { $0 == "Acme" }, true)
    }

    func testMissingPathIsNotFoundBeforeAnything() throws {
        let dir = try TemporaryDirectory()
        try dir.write("a.eml", "Subject: a\n\n")
        XCTAssertThrowsError(try SourcePlanner.plan(paths: [dir.sub("a.eml"), dir.sub("missing")])) { error in
            XCTAssertEqual(error as? SourceError, .notFound(path: dir.sub("missing")))
        }
    }

    func testCheckingPathsFailsAsPlanningWouldWithoutWalking() throws {
        let dir = try TemporaryDirectory()
        try dir.write("a.eml", "Subject: a\n\n")
        try dir.write("mail/cur/1:2,S", "Subject: b\n\n")
        XCTAssertNoThrow(try SourcePlanner.checkPaths([dir.sub("a.eml"), dir.sub("mail")]))
        XCTAssertThrowsError(try SourcePlanner.checkPaths([dir.sub("a.eml"), dir.sub("missing")])) { error in
            XCTAssertEqual(error as? SourceError, .notFound(path: dir.sub("missing")))
        }
        XCTAssertEqual(mkfifo(dir.sub("pipe"), 0o600), 0)
        for check in [{ try SourcePlanner.checkPaths([dir.sub("pipe")]) }, { _ = try SourcePlanner.plan(paths: [dir.sub("pipe")]) }] {
            XCTAssertThrowsError(try check()) { error in
                XCTAssertEqual(error as? SourceError, .unreadable(path: dir.sub("pipe"), reason: "not a regular file or directory"))
            }
        }
    }

    func testNoSymlinkInsideATreeIsFollowedAndEachIsRecorded() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/a.eml", "Subject: a\n\n")
        try dir.write("outside/secret.eml", "Subject: outside\n\n")
        try FileManager.default.createSymbolicLink(atPath: dir.sub("in/loop"), withDestinationPath: dir.sub("in"))
        try FileManager.default.createSymbolicLink(atPath: dir.sub("in/out"), withDestinationPath: dir.sub("outside"))
        try FileManager.default.createSymbolicLink(atPath: dir.sub("in/link.eml"), withDestinationPath: dir.sub("outside/secret.eml"))
        try FileManager.default.createSymbolicLink(atPath: dir.sub("in/dangling"), withDestinationPath: dir.sub("nowhere"))
        let plan = try SourcePlanner.plan(paths: [dir.sub("in")])
        // Links are never read inside a tree (SymlinkPolicy), and each is recorded with why.
        XCTAssertEqual(plan.sources.map { SourcePlanner.baseName($0.path) }, ["a.eml"])
        XCTAssertEqual(plan.skipped, [SkippedPath(path: dir.sub("in/dangling"), reason: SymlinkPolicy.dangling),
                                      SkippedPath(path: dir.sub("in/link.eml"), reason: SymlinkPolicy.outside),
                                      SkippedPath(path: dir.sub("in/loop"), reason: SymlinkPolicy.insideDirectory),
                                      SkippedPath(path: dir.sub("in/out"), reason: SymlinkPolicy.outside)])
    }

    func testWholeFileReadsWhateverTheSizeHintAndStopsAtTheLimit() throws {
        let dir = try TemporaryDirectory()
        let bytes = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = try dir.write("f.eml", bytes)
        // The hint is the size seen by fstat; a file that grew or shrank since must still read whole.
        for hint in [0, 1, 4096, 69_999, 70_000, 70_001, 1 << 20] {
            XCTAssertEqual(try FileByteStream(path: path, gzip: false).readAll(limit: 1 << 20, sizeHint: hint), bytes, "hint \(hint)")
        }
        XCTAssertEqual(try FileByteStream(path: path, gzip: false).size, 70_000)
        XCTAssertEqual(try FileByteStream(path: path, gzip: false).readAll(limit: 70_000, sizeHint: 10), bytes)
        XCTAssertNil(try FileByteStream(path: path, gzip: false).readAll(limit: 69_999, sizeHint: 70_000))
        XCTAssertNil(try FileByteStream(path: path, gzip: false).readAll(limit: 69_999, sizeHint: 0))
        let empty = try dir.write("empty.eml", [])
        XCTAssertEqual(try FileByteStream(path: empty, gzip: false).readAll(limit: 0, sizeHint: 0), [])
        XCTAssertEqual(try MessageFileReader.read(path, limit: 70_000), bytes)
        XCTAssertThrowsError(try MessageFileReader.read(path, limit: 69_999)) { error in
            guard case SourceError.tooLarge = error else { return XCTFail("unexpected \(error)") }
        }
    }

    func testUnreadableFileIsASourceErrorWhenRead() throws {
        guard getuid() != 0 else { throw XCTSkip("root reads everything") }
        let dir = try TemporaryDirectory()
        let path = try dir.write("in/locked.eml", "Subject: a\n\n")
        chmod(path, 0)
        defer { chmod(path, 0o644) }
        let plan = try SourcePlanner.plan(paths: [dir.sub("in")])
        XCTAssertEqual(plan.sources.count, 1)
        XCTAssertThrowsError(try { var r = try plan.sources[0].openReader(); _ = try r.next() }()) { error in
            guard case SourceError.unreadable = error else { return XCTFail("unexpected \(error)") }
        }
    }

    func testSourcesAreNeverModified() throws {
        let dir = try TemporaryDirectory()
        let content = "\(envelope)\nSubject: a\n\n>From x\n"
        let path = try dir.write("in/x.mbox", content)
        try dir.write("in/m/cur/1:2,S", "Subject: b\n\n")
        let before = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
        for source in try SourcePlanner.plan(paths: [dir.sub("in")]).sources {
            var reader = try source.openReader()
            _ = try readAll(&reader)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data(content.utf8))
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date, before)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.sub("in/m/cur/1:2,S")))
    }

    func testStreamingInflaterHandlesTinyChunksAndConcatenatedMembers() throws {
        let a = Array("first member\n".utf8), b = Array(String(repeating: "second member\n", count: 1000).utf8)
        let gz = try Gzip.compress(a) + Gzip.compress(b, level: 9)
        let inflater = try GzipInflater()
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 7)
        var index = 0
        while index < gz.count {
            let piece = Array(gz[index..<min(index + 3, gz.count)])
            var used = 0
            repeat {
                let (consumed, produced) = try piece.withUnsafeBytes { input in
                    try buffer.withUnsafeMutableBytes { try inflater.inflate(UnsafeRawBufferPointer(rebasing: input[used...]), into: $0) }
                }
                used += consumed
                out += buffer[0..<produced]
                if consumed == 0 && produced == 0 { break }
            } while used < piece.count
            index += 3
        }
        // Drain what zlib still holds.
        while true {
            let produced = try buffer.withUnsafeMutableBytes { try inflater.inflate(UnsafeRawBufferPointer(start: nil, count: 0), into: $0).produced }
            if produced == 0 { break }
            out += buffer[0..<produced]
        }
        try inflater.finish()
        XCTAssertEqual(out, a + b)
    }

    // MARK: robustness

    /// Random mbox-like inputs (separators with and without blank lines, Content-Length right and
    /// wrong, quoted lines, CRLF, no final newline): never a crash, and a tiny scanning window gives
    /// exactly what the normal one gives, so no refill or push-back path changes a result.
    func testRandomInputsGiveTheSameResultWhateverTheWindow() throws {
        let dir = try TemporaryDirectory()
        var rng = SplitMix64(seed: 42)
        let pieces = ["\(envelope)\n", "From - \n", "From Russia with love\n", "\n", "\r\n", "Subject: s\n",
                      ">From q\n", ">>From q\n", "body text line\n", "Content-Length: 0\n", "Content-Length: 17\n",
                      "Content-Length: 40\n", "X: y\r\n", "From x Tue Mar  5 10:00:00 2024\r\n", "no newline"]
        for round in 0..<300 {
            var text = round % 5 == 0 ? "\n" : ""
            text += "\(envelope)\n"
            for _ in 0..<(Int(rng.next() % 150)) { text += pieces[Int(rng.next() % UInt64(pieces.count))] }
            let path = try dir.write("r\(round).mbox", text)
            func run(_ window: Int) -> [String] {
                var out: [String] = []
                do {
                    var reader = try MboxReader(path: path, gzip: false, mailbox: "m", folder: "", maxMessageBytes: 1 << 20, windowBytes: window)
                    while let message = try reader.next() {
                        out.append("\(message.location.offset ?? -1):" + String(decoding: message.bytes, as: UTF8.self))
                    }
                } catch {
                    out.append("error \(error)")
                }
                return out
            }
            let reference = run(1 << 21)
            XCTAssertEqual(run(1024), reference, "round \(round): \(text.debugDescription)")
        }
    }

    func testMaildirFileWithNonUTF8NameIsRead() throws {
        let dir = try TemporaryDirectory()
        try dir.write("mail/cur/a:2,S", "Subject: a\n\n")
        try dir.write("mail/cur/z:2,", "Subject: z\n\n")
        // A file name that is not UTF-8 (an old Latin-1 archive): read through its escaped name.
        var raw = Array(dir.sub("mail/cur/").utf8).map { CChar(bitPattern: $0) }
        raw += [CChar(bitPattern: 0x6D), CChar(bitPattern: 0xE9), 0x3A, 0x32, 0x2C, 0x53, 0]
        let fd = open(raw, O_CREAT | O_WRONLY, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let content = Array("Subject: m\n\n".utf8)
        XCTAssertEqual(content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }, content.count)
        close(fd)
        var reader = try MaildirReader(folderPath: dir.sub("mail"), mailbox: "mail", folder: "INBOX")
        XCTAssertEqual(try reader.next().map { String(decoding: $0.bytes, as: UTF8.self) }, "Subject: a\n\n")
        let latin1 = try XCTUnwrap(reader.next())
        XCTAssertEqual(String(decoding: latin1.bytes, as: UTF8.self), "Subject: m\n\n")
        XCTAssertEqual(latin1.location.flags, "S")
        XCTAssertEqual(FileSystemName.bytes(latin1.location.path), raw, "the escaped name opens the same file")
        XCTAssertEqual(try reader.next().map { String(decoding: $0.bytes, as: UTF8.self) }, "Subject: z\n\n")
        XCTAssertNil(try reader.next())
    }

    func testFileSystemNamesRoundTrip() {
        let samples: [[UInt8]] = [
            Array("plain.eml".utf8), Array("café".utf8), [0x63, 0x61, 0x66, 0xE9], [0xFF, 0xFE, 0x80],
            [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], Array("ok".utf8) + [0xE9] + Array("ü".utf8),
        ]
        for sample in samples {
            let (name, exact) = FileSystemName.decode(sample)
            XCTAssertEqual(exact, String(validating: sample, as: UTF8.self) != nil, "\(sample)")
            XCTAssertEqual(FileSystemName.bytes(name).dropLast().map { UInt8(bitPattern: $0) }, sample)
        }
    }
}

/// Read speed, only when asked: `DOSSIER_READER_BENCH=/path/to/file.mbox[.gz] swift test --filter ReaderSpeed`.
final class ReaderSpeedTests: XCTestCase {
    func testMboxReadSpeed() throws {
        guard let path = ProcessInfo.processInfo.environment["DOSSIER_READER_BENCH"] else {
            throw XCTSkip("set DOSSIER_READER_BENCH to an mbox file to measure")
        }
        let gzip = path.hasSuffix(".gz")
        var reader = try MboxReader(path: path, gzip: gzip, mailbox: "bench")
        let start = Date()
        var count = 0
        var bytes = 0
        while let message = try reader.next() {
            count += 1
            bytes += message.bytes.count
        }
        let seconds = Date().timeIntervalSince(start)
        print("read \(count) messages, \(bytes) bytes in \(seconds) s: \(Double(bytes) / seconds / 1e6) MB/s")
    }
}
