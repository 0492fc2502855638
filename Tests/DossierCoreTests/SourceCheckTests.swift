import DossierCore
import Foundation
import XCTest

/// The mapping of paths to mailboxes (`SourcePlanner`), `dossier check` (`SourceCheck`) and the
/// progress log of unattended runs (`ProgressLog`).
final class SourceCheckTests: XCTestCase {
    private let envelope = "From someone@example.com Tue Mar  5 10:00:00 2024"

    private var repo: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// A folder of per-user exports, as a firm's IT hands them over.
    private func writeUsers(_ dir: TemporaryDirectory) throws -> String {
        try dir.write("users/alice/cur/1:2,S", makeMessage(id: "a1@x", date: "Mon, 05 Feb 2024 10:00:00 +0000"))
        try dir.write("users/alice/.Sent/cur/2:2,S", makeMessage(id: "a2@x", date: "Tue, 06 Feb 2024 10:00:00 +0000"))
        try dir.write("users/bob.mbox", "\(envelope)\n" + makeMessage(id: "b1@x", date: "Wed, 07 Feb 2019 10:00:00 +0000")
                      + "\n\(envelope)\n" + makeMessage(id: "a1@x") + "\n")
        try dir.write("users/carla-2023.mbox.gz", try Gzip.compress(Array(("\(envelope)\n" + makeMessage(id: "c1@x", date: "Thu, 08 Jun 2023 10:00:00 +0000")).utf8)))
        try dir.write("users/shared/scan.eml", makeMessage(id: "s1@x", date: "Fri, 09 Feb 2024 10:00:00 +0000"))
        try dir.write("users/shared/Clients/acme.mbox", "\(envelope)\n" + makeMessage(id: "s2@x", date: "Sat, 10 Feb 2024 10:00:00 +0000"))
        try dir.write("users/shared/nested/cur/3:2,S", makeMessage(id: "s3@x", date: "Sun, 11 Feb 2024 10:00:00 +0000"))
        try dir.write("users/loose.eml", makeMessage(id: "l1@x", date: "not a date"))
        try dir.write("users/notes.txt", "just some notes, not mail\n")
        return dir.sub("users")
    }

    // MARK: mapping

    func testEachEntryOfADirectoryIsAMailboxNamedAfterIt() throws {
        let dir = try TemporaryDirectory()
        let users = try writeUsers(dir)
        let plan = try SourcePlanner.plan(paths: [users])
        let summary = plan.sources.map { "\($0.mailbox) [\($0.folder)] \(SourcePlanner.baseNameForTests($0.path))" }
        XCTAssertEqual(summary, [
            "alice [INBOX] alice", "alice [Sent] .Sent",
            "bob [] bob.mbox",
            "carla-2023 [] carla-2023.mbox.gz",
            "users [] loose.eml",
            "users [] notes.txt",
            // Everything below an entry is that mailbox's: mbox folders by relative path, a Maildir's own folders.
            "shared [Clients/acme] acme.mbox",
            "shared [INBOX] nested",
            "shared [] scan.eml",
        ])
        XCTAssertEqual(plan.mappings.map { "\(SourcePlanner.baseNameForTests($0.path)) -> \($0.mailbox) (\($0.rule.rawValue))" }, [
            "alice -> alice (entry)", "bob.mbox -> bob (entry)", "carla-2023.mbox.gz -> carla-2023 (entry)",
            "users -> users (loose_files)", "shared -> shared (entry)",
        ])

        // --mailbox: one mailbox, folders relative to the directory given.
        let one = try SourcePlanner.plan(paths: [users], mailbox: "firm")
        XCTAssertEqual(Set(one.sources.map(\.mailbox)), ["firm"])
        XCTAssertEqual(one.mappings, [MailboxMapping(path: users, mailbox: "firm", rule: .option)])
        XCTAssertTrue(one.sources.contains { $0.folder == "bob" && $0.kind == .mbox })
        XCTAssertTrue(one.sources.contains { $0.folder == "shared/Clients/acme" })

        // Given directly: a file by its name, a Maildir by its directory's.
        let direct = try SourcePlanner.plan(paths: [users + "/bob.mbox", users + "/alice"])
        XCTAssertEqual(direct.mappings.map { "\($0.mailbox) (\($0.rule.rawValue))" }, ["bob (file_name)", "alice (maildir)"])
    }

    func testSamplesMapToTheUsersOfStaffCSV() throws {
        let plan = try SourcePlanner.plan(paths: [repo + "/samples/mail"])
        XCTAssertEqual(plan.mappings.map(\.mailbox), ["mail", "alice", "bob", "carla-2023", "drop", "noise"])
        XCTAssertEqual(plan.mappings.first?.rule, .looseFiles, "samples/mail/README.md lies directly in the folder")
        let (directory, _) = try CRMDirectoryLoader.load(from: URL(fileURLWithPath: repo + "/samples/crm"))
        let index = CRMIndex(directory)
        XCTAssertEqual(index.staff(forMailbox: "bob").map(\.id), ["S-BOKAFOR"])
        XCTAssertEqual(index.staff(forMailbox: "carla-2023").map(\.id), ["S-CMOREAU"])
        XCTAssertEqual(index.staff(forMailbox: "drop").map(\.id), ["S-AHARTWELL", "S-GCHEN"])
    }

    // MARK: check

    func testCheckReportsMailboxesFoldersProblemsDatesAndWindow() throws {
        let dir = try TemporaryDirectory()
        let users = try writeUsers(dir)
        // A gzip stream cut in half: its start reads (so it is sniffed as an mbox), its end does not.
        let long = "\(envelope)\n" + makeMessage(id: "z@x", body: (0..<4000).map { String($0 * 7919 % 10007) }.joined(separator: " "))
        let compressed = try Gzip.compress(Array(long.utf8))
        try dir.write("users/broken.mbox.gz", Array(compressed.prefix(compressed.count / 2)))
        var options = SourceCheckOptions(paths: [users])
        options.window = try DateWindow.days(since: "2020-01-01", until: nil)
        let report = SourceCheck.run(options)

        XCTAssertEqual(report.formats, ["maildir folder": 3, "mbox": 2, "mbox (gzip)": 2, "message file": 3])
        XCTAssertEqual(report.messages, 9)
        XCTAssertEqual(report.duplicateMessageIDs, 1, "bob.mbox holds a copy of a1@x")
        XCTAssertEqual(report.mailboxes.map { "\($0.mailbox) \($0.messages)" },
                       ["alice 2", "bob 2", "broken 0", "carla-2023 1", "users 1", "shared 3"])
        XCTAssertEqual(report.folders.first { $0.mailbox == "shared" && $0.folder == "Clients/acme" }?.messages, 1)
        XCTAssertEqual(report.oldest, "2019-02-07T10:00:00Z")
        XCTAssertEqual(report.undated, 1)
        XCTAssertEqual(report.window, CheckedWindow(source: "options", since: "2020-01-01T00:00:00Z", before: nil,
                                                    inside: 8, beforeWindow: 1, afterWindow: 0))
        // notes.txt would be quarantined (a warning); the truncated gzip cannot be read to its end (an error).
        XCTAssertEqual(report.unreadable.map { "\(SourcePlanner.baseNameForTests($0.path)) \($0.severity.rawValue)" },
                       ["broken.mbox.gz error", "notes.txt warning"])
        XCTAssertTrue(report.unreadable[1].reason.contains("no header block"), report.unreadable[1].reason)
        XCTAssertTrue(report.hasErrors)
        XCTAssertEqual(report.errors.count, 1, "\(report.errors)")
        XCTAssertTrue(report.warnings.contains { $0.contains("1 of 9 messages are outside the window") }, "\(report.warnings)")
        XCTAssertNil(report.crm)
    }

    func testCheckWithACRMDirectoryGivesGroupsAndItsDiagnostics() throws {
        let dir = try TemporaryDirectory()
        let users = try writeUsers(dir)
        try FileManager.default.removeItem(atPath: users + "/notes.txt")
        try dir.write("crm/accounts.csv", "id,name,domains\nACME,Acme,client.example\n")
        try dir.write("crm/staff.csv", "id,name,email,mailbox,group\nS-A,Alice,alice@firm.example,alice;shared,Direction\nS-B,Bob,bob@firm.example,bob,Staff\n")
        try dir.write("crm/rules.yaml", "groups: [Public, Staff, Direction]\nwindow:\n  since: 2024-01-01\n")
        var options = SourceCheckOptions(paths: [users])
        options.crmDirectory = URL(fileURLWithPath: dir.sub("crm"))
        let report = SourceCheck.run(options)
        XCTAssertFalse(report.hasErrors, "\(report.errors)")
        XCTAssertEqual(report.crm?.accounts, 1)
        XCTAssertEqual(report.crm?.staff, 2)
        let bob = try XCTUnwrap(report.mailboxes.first { $0.mailbox == "bob" })
        XCTAssertEqual(bob.users, ["S-B"])
        XCTAssertEqual(bob.groups, ["Staff", "Direction"])
        XCTAssertEqual(report.mailboxes.first { $0.mailbox == "carla-2023" }?.groups, ["Direction"])
        XCTAssertTrue(report.warnings.contains { $0.hasPrefix("mailbox 'carla-2023' is listed by no user in staff.csv") }, "\(report.warnings)")
        // rules.yaml's window applies when no --since/--until is given.
        XCTAssertEqual(report.window?.source, "rules.yaml")
        XCTAssertEqual(report.window?.beforeWindow, 2, "bob's of 2019 and carla's of 2023")

        // A directory with errors: every error listed, and the check fails.
        try dir.write("crm/contacts.csv", "id,account_id,name,emails\nC1,NOPE,Someone,someone@client.example\n")
        let bad = SourceCheck.run(options)
        XCTAssertTrue(bad.hasErrors)
        XCTAssertEqual(bad.crm?.errors.map(\.file), ["contacts.csv"])
        XCTAssertTrue(bad.errors.first?.hasPrefix("CRM: contacts.csv:2:") ?? false, "\(bad.errors)")
    }

    func testCheckOfAMissingPathIsAnError() {
        let report = SourceCheck.run(SourceCheckOptions(paths: ["/nonexistent/dossier-check"]))
        XCTAssertTrue(report.hasErrors)
        XCTAssertEqual(report.errors, ["no such file or directory: /nonexistent/dossier-check"])
    }

    func testCheckCommandOnTheSamples() throws {
        let outcome = try DossierCLI.run(["check", repo + "/samples/mail", "--crm", repo + "/samples/crm"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr + outcome.text)
        for expected in ["bob ", "S-BOKAFOR", "Staff, Direction", "carla-2023", "window", "rules.yaml", "Ready: no errors"] {
            XCTAssertTrue(outcome.text.contains(expected), "\(expected) in\n\(outcome.text)")
        }
        let json = try DossierCLI.run(["check", repo + "/samples/mail", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        XCTAssertEqual(object["messages"] as? Int, 42)
        XCTAssertEqual(object["duplicate_message_ids"] as? Int, 3)
        XCTAssertEqual((object["unreadable"] as? [Any])?.count, 3)

        let missing = try DossierCLI.run(["check", repo + "/samples/nope"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.text.contains("no such file or directory"), missing.text)
    }

    // MARK: progress log

    func testProgressLogLinesAreSpacedByTimeOrCount() {
        final class Clock: @unchecked Sendable { var now = Date(timeIntervalSince1970: 0) }
        let clock = Clock()
        let log = ProgressLog(command: "import", interval: 10, step: 1000, clock: { clock.now })
        func snapshot(_ read: Int) -> ImportProgress {
            ImportProgress(read: read, bytes: Int64(read) * 1000, sourceBytesDone: Int64(read) * 1000, totalBytes: 10_000_000,
                           elapsed: clock.now.timeIntervalSince1970, stored: read - 10, duplicate: 5, excluded: 3, quarantined: 2)
        }
        clock.now = Date(timeIntervalSince1970: 5)
        XCTAssertNil(log.update(snapshot(500)), "neither 10 s nor 1,000 messages yet")
        XCTAssertEqual(log.update(snapshot(1000)),
                       "import: 1,000 read, 990 stored, 5 duplicate, 3 excluded, 2 quarantined; 200 msg/s, 0.2 MB/s; 10% of 9.5 MB; 5 s elapsed")
        clock.now = Date(timeIntervalSince1970: 14)
        XCTAssertNil(log.update(snapshot(1500)))
        clock.now = Date(timeIntervalSince1970: 15)
        XCTAssertNotNil(log.update(snapshot(1600)), "10 s since the last line")
        XCTAssertEqual(ProgressLog.countLine("rematch", done: 40_000, total: 85_501, elapsed: 13),
                       "rematch: 40,000 of 85,501 messages (46%); 3077 msg/s; 13 s elapsed")
    }
}

extension SourcePlanner {
    static func baseNameForTests(_ path: String) -> String { (path as NSString).lastPathComponent }
}
