@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// The outcome of filing must not depend on how mail is split into runs (issue 14): in
/// matched_only mode, and when noise is only counted, a reply whose parent arrives in a later run
/// waits for it (`ImportOptions.replyWait`) and is filed when it comes.
final class RunSplitTests: XCTestCase {
    private static let crm: [String: String] = {
        var directory = FilingTests.directory
        directory["rules.yaml"]! += "\nmode: matched_only\n"
        return directory
    }()

    /// The parent (filed by address) and a stranger's reply to it, which only the thread files;
    /// a weak-noise reply (a no-reply sender) that the filed parent outranks; and an orphan.
    private static let parent = makeMessage(id: "parent@x", from: "megan@acme.example", to: "bob@firm.example", subject: "Offer")
    private static let reply = makeMessage(id: "reply@x", from: "who@nowhere.example", to: "bob@firm.example", subject: "Re: Offer",
                                           body: "reply words quokka\n", extraHeaders: "In-Reply-To: <parent@x>\nReferences: <parent@x>\n")
    private static let orphan = makeMessage(id: "orphan@x", from: "who@nowhere.example", to: "bob@firm.example", subject: "Re: lost",
                                            extraHeaders: "In-Reply-To: <never@x>\n")

    private func archive(_ dir: TemporaryDirectory) throws -> Archive {
        for (name, text) in Self.crm { try dir.write("crm/\(name)", text) }
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        _ = try CRMStore.load(from: URL(fileURLWithPath: dir.sub("crm")), into: archive)
        return archive
    }

    @discardableResult
    private func run(_ archive: Archive, _ path: String, wait: TimeInterval = ImportOptions.defaultReplyWait) throws -> RunLedger {
        var options = ImportOptions(paths: [path])
        options.replyWait = wait
        options.workers = 2
        return try Importer(archive: archive, options: options).run()
    }

    private func lines(_ archive: Archive) throws -> [String: AssignmentLine] {
        var result: [String: AssignmentLine] = [:]
        try archive.database.read { db in try AssignmentsReport.write(db) { result[$0.messageID ?? $0.key] = $0 } }
        return result
    }

    /// The report of one run over everything equals that of the reply's run before the parent's.
    func testReplyReadInARunBeforeItsParentsIsFiledWhenTheParentComes() throws {
        let one = try TemporaryDirectory()
        let together = try archive(one)
        try one.write("all/1.eml", Self.reply)
        try one.write("all/2.eml", Self.parent)
        try one.write("all/3.eml", Self.orphan)
        try run(together, one.sub("all"))

        let split = try TemporaryDirectory()
        let apart = try archive(split)
        try split.write("first/1.eml", Self.reply)
        try split.write("first/3.eml", Self.orphan)
        try split.write("second/2.eml", Self.parent)
        let first = try run(apart, split.sub("first"))
        XCTAssertEqual(first.excludedReasons["unmatched"], 2, "excluded unless a parent comes")
        XCTAssertEqual(try lines(apart)["reply@x"]?.status, "excluded")
        XCTAssertEqual(try SearchEngine(archive: apart).search("quokka").count, 0, "unsearchable while it waits")
        try run(apart, split.sub("second"))

        let expected = try lines(together), got = try lines(apart)
        XCTAssertEqual(got["reply@x"]?.status, "filed")
        XCTAssertEqual(got["reply@x"]?.evidence, "thread")
        XCTAssertEqual(got["reply@x"]?.accounts, ["acme"])
        for id in ["parent@x", "reply@x", "orphan@x"] {
            XCTAssertEqual(got[id]?.status, expected[id]?.status, id)
            XCTAssertEqual(got[id]?.reason, expected[id]?.reason, id)
            XCTAssertEqual(got[id]?.accounts, expected[id]?.accounts, id)
            XCTAssertEqual(got[id]?.evidence, expected[id]?.evidence, id)
        }
        XCTAssertEqual(try SearchEngine(archive: apart).search("quokka").count, 1, "searchable once filed")
    }

    /// The bound: past the wait, the next import purges a reply still waiting, as the spec wants
    /// (no content). A wait of 0 is the old behaviour.
    func testAWaitingReplyIsPurgedWhenItsTimeIsUp() throws {
        let dir = try TemporaryDirectory()
        let archive = try archive(dir)
        try dir.write("first/3.eml", Self.orphan)
        try dir.write("first/1.eml", Self.reply)
        try run(archive, dir.sub("first"))
        let orphanSHA = try XCTUnwrap(lines(archive)["orphan@x"]?.sha256)
        XCTAssertTrue(try archive.hasOriginal(sha256: orphanSHA), "kept while it waits")
        let waiting = try archive.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM waiting_reply") }
        XCTAssertEqual(waiting, 2)

        // Thirty days later (the clock moved by rewriting the deadline), a run with nothing new.
        try archive.database.write { try $0.execute(sql: "UPDATE waiting_reply SET until = until - ?", arguments: [Int64(31 * 86_400)]) }
        try dir.write("second/2.eml", makeMessage(id: "unrelated@x", from: "megan@acme.example", subject: "Other"))
        try run(archive, dir.sub("second"))
        let report = try lines(archive)
        XCTAssertEqual(report["orphan@x"]?.status, "excluded")
        XCTAssertEqual(report["orphan@x"]?.reason, "unmatched")
        XCTAssertFalse(try archive.hasOriginal(sha256: orphanSHA), "purged: no content")
        XCTAssertEqual(report["reply@x"]?.status, "excluded", "its time is up: a parent coming now would find it purged")
        XCTAssertEqual(try archive.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM waiting_reply") }, 0)
        let verify = try ArchiveVerifier(archive: archive).verify()
        XCTAssertTrue(verify.findings.allSatisfy { [.unreferencedPackBytes, .unreferencedPack].contains($0.kind) }, "only what a purge leaves: \(verify.findings)")

        // No wait: purged at the end of its own run, as before.
        let now = try TemporaryDirectory()
        let immediate = try self.archive(now)
        try now.write("first/3.eml", Self.orphan)
        try run(immediate, now.sub("first"), wait: 0)
        XCTAssertFalse(try immediate.hasOriginal(sha256: orphanSHA))
    }

    /// The same for a reply whose only noise signal is weak (a no-reply sender) when noise is
    /// counted only: the filed parent of a later run outranks it, as in one run.
    func testWeakNoiseReplyIsFiledByAParentOfALaterRun() throws {
        let noreply = makeMessage(id: "auto@x", from: "no-reply@nowhere.example", to: "bob@firm.example", subject: "Re: Offer",
                                  body: "status words wombat\n", extraHeaders: "In-Reply-To: <parent@x>\nReferences: <parent@x>\n")
        let dir = try TemporaryDirectory()
        let archive = try archive(dir)
        try dir.write("first/1.eml", noreply)
        try dir.write("second/2.eml", Self.parent)
        let first = try run(archive, dir.sub("first"))
        XCTAssertEqual(try lines(archive)["auto@x"]?.status, "noise", "noise unless a filed parent comes")
        XCTAssertEqual(first.noise, 1)
        try run(archive, dir.sub("second"))
        let line = try lines(archive)["auto@x"]
        XCTAssertEqual(line?.status, "filed")
        XCTAssertEqual(line?.evidence, "thread")
        XCTAssertEqual(line?.accounts, ["acme"])
        XCTAssertEqual(try SearchEngine(archive: archive).search("wombat").count, 1)
    }

    /// A waiting reply's other content (its Bcc copy, read in another run) waits with it and is
    /// searchable once the parent files the reply.
    func testAWaitingRepliesOtherContentIsIndexedWhenItIsFiled() throws {
        let bccCopy = Self.reply.replacingOccurrences(of: "reply words quokka\n", with: "reply words quokka\nPS numbat\n")
        let dir = try TemporaryDirectory()
        let archive = try archive(dir)
        try dir.write("first/1.eml", Self.reply)
        try dir.write("second/1.eml", bccCopy)
        try dir.write("third/2.eml", Self.parent)
        try run(archive, dir.sub("first"))
        try run(archive, dir.sub("second"))
        XCTAssertEqual(try SearchEngine(archive: archive).search("numbat").count, 0, "unsearchable while the reply waits")
        try run(archive, dir.sub("third"))
        XCTAssertEqual(try lines(archive)["reply@x"]?.status, "filed")
        XCTAssertEqual(try SearchEngine(archive: archive).search("numbat").map(\.key), [MessagePreparer.key(messageID: "reply@x", sha256: "")])
        let verify = try ArchiveVerifier(archive: archive).verify()
        XCTAssertTrue(verify.isClean, "\(verify.findings)")
    }
}
