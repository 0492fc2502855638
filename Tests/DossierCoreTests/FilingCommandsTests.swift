@testable import DossierCore
import Foundation
import XCTest

/// A small firm whose mail exercises every filing rule and status, and three versions of its
/// CRM directory, for the why / assign / unassign / rematch tests.
enum FilingCommandsFixture {
    /// Version 1: the directory the mail is first imported with.
    /// Version 2: adds contact C-STRANGER for stranger@freemail.example (account NEWCO): exactly
    /// two messages (the stranger's, and the firm's reply to it) move from unassigned to filed.
    /// Version 3: version 2, and Sarah is marked excluded, case CASE-1's code changes (the subject
    /// tag no longer names it), and supply.acme.example is blacklisted.
    static func writeCRM(_ dir: TemporaryDirectory, _ name: String, version: Int) throws -> String {
        try dir.write("\(name)/accounts.csv", """
            id,name,domains,main_email,parent_id
            ACME,Acme Corporation,acme.example,info@acme.example,
            ACME-SUB,Acme Supply,supply.acme.example,,ACME
            GLOBEX,Globex,globex.example,,
            NEWCO,Newco,,,

            """)
        var contacts = """
            id,account_id,name,emails,excluded
            C-JOHN,ACME,John Miller,john@acme.example,no
            C-SARAH,GLOBEX,Sarah Davis,sarah@globex.example,\(version >= 3 ? "yes" : "no")
            C-PRIV,ACME,John (private),john.home@freemail.example,yes

            """
        if version >= 2 { contacts += "C-STRANGER,NEWCO,A Stranger,stranger@freemail.example,no\n" }
        try dir.write("\(name)/contacts.csv", contacts)
        try dir.write("\(name)/leads.csv", "id,company,name,email,contact_emails\nL-1,Prospect Ltd,Pat,pat@prospect.example,\n")
        try dir.write("\(name)/cases.csv", "id,account_id,code,title\nCASE-1,GLOBEX,\(version >= 3 ? "CASE-20000" : "CASE-10417"),Invoice query\n")
        try dir.write("\(name)/staff.csv", "id,name,email,mailbox,group\nS-ALICE,Alice,alice@firm.example,alice,Staff\n")
        try dir.write("\(name)/rules.yaml", """
            internal_domains: [firm.example]
            freemail_domains: [freemail.example]
            blacklist:
              domains: [competitor.example\(version >= 3 ? ", supply.acme.example" : "")]
            subject_tags:
              - pattern: '\\[(CASE-[0-9]+)\\]'
                kind: case
            tracking_codes:
              - pattern: 'ref:([A-Z0-9-]+):ref'
                kind: case
            groups: [Public, Staff]
            window:
              since: 2020-01-01

            """)
        return dir.sub(name)
    }

    /// The mail, one file per message, read in name order: the reply a06 comes before its parent a07.
    static func writeMail(_ dir: TemporaryDirectory) throws -> String {
        let messages: [(String, String)] = [
            ("a01-address", makeMessage(id: "address@acme.example", from: "John Miller <john@acme.example>", to: "alice@firm.example",
                                        subject: "Contract")),
            ("a02-domain", makeMessage(id: "domain@globex.example", from: "Bob <bob@globex.example>", to: "alice@firm.example")),
            ("a03-subsidiary", makeMessage(id: "sub@supply.acme.example", from: "ops@supply.acme.example", to: "alice@firm.example")),
            ("a04-tag", makeMessage(id: "tag@freemail.example", from: "Pat <pat.private@freemail.example>", to: "alice@firm.example",
                                    subject: "[CASE-10417] Invoice")),
            ("a05-tracking", makeMessage(id: "track@freemail.example", from: "kim@freemail.example", to: "alice@firm.example",
                                         subject: "Re: your letter", body: "Thanks.\n> ref:CASE-1:ref\n")),
            ("a06-reply", makeMessage(id: "reply@freemail.example", from: "carol@freemail.example", to: "alice@firm.example",
                                      subject: "Re: Offer", date: "Wed, 06 Mar 2024 10:00:00 +0000",
                                      extraHeaders: "In-Reply-To: <parent@firm.example>\n")),
            ("a07-parent", makeMessage(id: "parent@firm.example", from: "Alice <alice@firm.example>", to: "sarah@globex.example",
                                       subject: "Offer")),
            ("a08-internal", makeMessage(id: "internal@firm.example", from: "alice@firm.example", to: "bob@firm.example")),
            ("a09-blacklist", makeMessage(id: "black@mail.competitor.example", from: "spy@mail.competitor.example", to: "alice@firm.example")),
            ("a10-excluded-contact", makeMessage(id: "private@acme.example", from: "john@acme.example", to: "alice@firm.example",
                                                 extraHeaders: "Cc: john.home@freemail.example\n")),
            ("a11-window", makeMessage(id: "old@acme.example", from: "john@acme.example", to: "alice@firm.example",
                                       date: "Tue, 05 Mar 2019 10:00:00 +0000")),
            ("a12-unassigned", makeMessage(id: "lonely@freemail.example", from: "stranger@freemail.example", to: "alice@firm.example",
                                           subject: "Hello there")),
            ("a13-lead", makeMessage(id: "lead@prospect.example", from: "pat@prospect.example", to: "alice@firm.example")),
            ("a14-main-email", makeMessage(id: "main@acme.example", from: "info@acme.example", to: "alice@firm.example")),
            ("a15-reply-to-unassigned", makeMessage(id: "lonely-reply@firm.example", from: "alice@firm.example",
                                                    to: "stranger@freemail.example", subject: "Re: Hello there",
                                                    date: "Wed, 06 Mar 2024 11:00:00 +0000",
                                                    extraHeaders: "In-Reply-To: <lonely@freemail.example>\n")),
        ]
        for (name, text) in messages { try dir.write("mail/\(name).eml", text) }
        return dir.sub("mail")
    }

    /// The archive key of the message with this Message-ID.
    static func key(_ messageID: String) -> String { MessagePreparer.key(messageID: messageID, sha256: "") }

    /// An archive with directory `version` loaded and the mail imported.
    static func archive(_ dir: TemporaryDirectory, _ name: String = "archive", version: Int = 1) throws -> String {
        let archive = dir.sub(name)
        let crm = try writeCRM(dir, "crm\(version)", version: version)
        let mail = FileManager.default.fileExists(atPath: dir.sub("mail")) ? dir.sub("mail") : try writeMail(dir)
        let loaded = try DossierCLI.run(["crm", "load", crm, "--archive", archive])
        XCTAssertEqual(loaded.status, 0, loaded.stderr)
        let imported = try DossierCLI.run(["import", mail, "--archive", archive, "--quiet"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        return archive
    }
}

/// `dossier why`, `assign`, `unassign` and `rematch`, run the way a user runs them.
final class FilingCommandsTests: XCTestCase {
    private func json(_ outcome: DossierCLI.Outcome, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(outcome.status, 0, outcome.stderr, file: file, line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.stdout)) as? [String: Any], file: file, line: line)
    }

    private func why(_ messageID: String, _ archive: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        try json(DossierCLI.run(["why", FilingCommandsFixture.key(messageID), "--archive", archive, "--json"]), file: file, line: line)
    }

    /// (rule, record, matched, via, decided) of every match.
    private func matches(_ why: [String: Any]) -> [String] {
        (why["matches"] as? [[String: Any]] ?? []).map { match in
            [match["decided"] as? Bool == true ? "*" : " ", match["rule"] as? String ?? "", match["record"] as? String ?? "",
             match["matched"] as? String ?? "", match["via"] as? String ?? ""].joined(separator: " ").trimmingCharacters(in: .whitespaces)
        }
    }

    private func assignments(_ archive: String) throws -> [String] {
        let report = try DossierCLI.run(["report", "assignments", "--archive", archive])
        XCTAssertEqual(report.status, 0, report.stderr)
        return report.text.split(separator: "\n").map(String.init)
    }

    private func assignment(_ messageID: String, _ archive: String) throws -> [String: Any] {
        let key = FilingCommandsFixture.key(messageID)
        for line in try assignments(archive) {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if object["key"] as? String == key { return object }
        }
        XCTFail("no line for \(messageID)")
        return [:]
    }

    private func records(_ messageID: String, _ archive: String) throws -> [String] {
        let line = try assignment(messageID, archive)
        return ["accounts", "contacts", "leads", "cases"].flatMap { kind in
            (line[kind] as? [String] ?? []).map { "\(kind.dropLast()):\($0)" }
        }
    }

    // MARK: why

    func testWhyNamesEveryRuleThatFiredAndTheOneThatDecided() throws {
        let dir = try TemporaryDirectory()
        let archive = try FilingCommandsFixture.archive(dir)

        let address = try why("address@acme.example", archive)
        XCTAssertEqual(address["status"] as? String, "filed")
        XCTAssertEqual(address["evidence"] as? String, "address")
        XCTAssertEqual(matches(address), ["* address account:ACME john@acme.example contact:C-JOHN",
                                          "* address contact:C-JOHN john@acme.example",
                                          "domain account:ACME acme.example"])
        XCTAssertEqual((address["matches"] as? [[String: Any]])?.first?["name"] as? String, "Acme Corporation")

        XCTAssertEqual(matches(try why("domain@globex.example", archive)), ["* domain account:GLOBEX globex.example"])
        XCTAssertEqual(matches(try why("sub@supply.acme.example", archive)), ["* domain account:ACME-SUB supply.acme.example"],
                       "a subsidiary's mail files to the subsidiary, not its parent")
        XCTAssertEqual(matches(try why("tag@freemail.example", archive)), ["* subject_tag account:GLOBEX CASE-10417 case:CASE-1",
                                                                           "* subject_tag case:CASE-1 CASE-10417"])
        XCTAssertEqual(matches(try why("track@freemail.example", archive)), ["* tracking_code account:GLOBEX CASE-1 case:CASE-1",
                                                                             "* tracking_code case:CASE-1 CASE-1"])
        XCTAssertEqual(matches(try why("lead@prospect.example", archive)), ["* address lead:L-1 pat@prospect.example"])
        XCTAssertEqual(matches(try why("main@acme.example", archive)), ["* address account:ACME info@acme.example",
                                                                        "domain account:ACME acme.example"])

        // The reply was imported before its parent: it converged to the parent's records.
        let reply = try why("reply@freemail.example", archive)
        XCTAssertEqual(reply["evidence"] as? String, "thread")
        XCTAssertEqual(matches(reply), ["* thread account:GLOBEX parent@firm.example", "* thread contact:C-SARAH parent@firm.example"])
        XCTAssertEqual((reply["matches"] as? [[String: Any]])?.first?["parent_key"] as? String, FilingCommandsFixture.key("parent@firm.example"))

        let text = try DossierCLI.run(["why", String(FilingCommandsFixture.key("reply@freemail.example").prefix(8)), "--archive", archive])
        XCTAssertEqual(text.status, 0, text.stderr)
        for expected in ["status    filed, evidence: thread", "*  thread  account:GLOBEX (Globex)",
                         "<parent@firm.example> (message \(FilingCommandsFixture.key("parent@firm.example")))",
                         "A reply inherits every record", "from  carol@freemail.example  external"] {
            XCTAssertTrue(text.text.contains(expected), "missing \(expected) in\n\(text.text)")
        }
    }

    func testWhyExplainsEveryOtherStatus() throws {
        let dir = try TemporaryDirectory()
        let archive = try FilingCommandsFixture.archive(dir)

        let internalMail = try why("internal@firm.example", archive)
        XCTAssertEqual(internalMail["status"] as? String, "internal")
        XCTAssertEqual((internalMail["summary"] as? [String])?.first,
                       "All 2 participants are internal (staff or internal domains): nobody outside to file it to.")
        XCTAssertEqual((internalMail["participants"] as? [[String: Any]])?.map { $0["note"] as? String },
                       ["staff S-ALICE", "internal domain firm.example"])

        let unassigned = try why("lonely@freemail.example", archive)
        XCTAssertEqual(unassigned["status"] as? String, "unassigned")
        XCTAssertEqual(unassigned["summary"] as? [String], ["No rule matched a record of the CRM directory.",
                                                            "External participants: stranger@freemail.example."])

        let window = try why("old@acme.example", archive)
        XCTAssertEqual(window["reason"] as? String, "window")
        XCTAssertEqual(window["stored"] as? Bool, false)
        let range = try XCTUnwrap(window["window"] as? [String: Any])
        XCTAssertEqual(range["since"] as? String, "2020-01-01")
        XCTAssertEqual(range["source"] as? String, "rules.yaml window")
        XCTAssertEqual((window["summary"] as? [String])?.first,
                       "Excluded: dated 2019-03-05T10:00:00.000Z, outside the import window 2020-01-01 .. (open) (rules.yaml window).")

        // Excluded when imported: only the record was kept, so the participant cannot be named.
        let blacklisted = try why("black@mail.competitor.example", archive)
        XCTAssertEqual(blacklisted["reason"] as? String, "blacklist")
        XCTAssertEqual(blacklisted["triggers"] as? [String], [])
        XCTAssertTrue((blacklisted["summary"] as? [String] ?? []).contains {
            $0.contains("excluded when imported, so its participants were not kept") })
        XCTAssertEqual(try why("private@acme.example", archive)["reason"] as? String, "excluded_contact",
                       "an excluded contact in Cc excludes the message, ahead of John's address")

        // Excluded by a later directory (rematch): the content is there, so the address is named.
        let v3 = try FilingCommandsFixture.writeCRM(dir, "crm3", version: 3)
        XCTAssertEqual(try DossierCLI.run(["crm", "load", v3, "--archive", archive]).status, 0)
        XCTAssertEqual(try DossierCLI.run(["rematch", "--archive", archive]).status, 0)
        let sarah = try why("parent@firm.example", archive)
        XCTAssertEqual(sarah["reason"] as? String, "excluded_contact")
        XCTAssertEqual(sarah["triggers"] as? [String], ["sarah@globex.example"])
        XCTAssertEqual((sarah["summary"] as? [String])?.dropFirst().first, "Because of: sarah@globex.example (to, excluded contact C-SARAH).")
        let supply = try why("sub@supply.acme.example", archive)
        XCTAssertEqual(supply["reason"] as? String, "blacklist")
        XCTAssertEqual(supply["triggers"] as? [String], ["ops@supply.acme.example"])
        XCTAssertEqual((supply["participants"] as? [[String: Any]])?.first?["note"] as? String, "blacklisted (domain supply.acme.example)")
        let text = try DossierCLI.run(["why", FilingCommandsFixture.key("sub@supply.acme.example"), "--archive", archive])
        XCTAssertTrue(text.text.contains("status    excluded (blacklist)\n"), text.text)
        XCTAssertTrue(text.text.contains("Its content is kept"), text.text)

        let missing = try DossierCLI.run(["why", "ffffffff", "--archive", archive])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr, "dossier: no message with key ffffffff\n")
    }

    // MARK: assign / unassign

    func testAssignAndUnassignRoundTripWithTheReplies() throws {
        let dir = try TemporaryDirectory()
        let archive = try FilingCommandsFixture.archive(dir)
        let lonely = FilingCommandsFixture.key("lonely@freemail.example")
        let reply = FilingCommandsFixture.key("lonely-reply@firm.example")
        XCTAssertEqual(try assignment("lonely-reply@firm.example", archive)["status"] as? String, "unassigned")

        // A contact files to its account too; the reply inherits both.
        let assigned = try json(DossierCLI.run(["assign", String(lonely.prefix(6)), "contact:C-JOHN", "--archive", archive, "--json"]))
        XCTAssertEqual(assigned["record"] as? String, "contact:C-JOHN")
        XCTAssertEqual(assigned["status"] as? String, "filed")
        XCTAssertEqual(assigned["records"] as? [String], ["account:ACME", "contact:C-JOHN"])
        XCTAssertEqual((assigned["changes"] as? [[String: Any]])?.map { $0["key"] as? String }, [lonely, reply])
        XCTAssertEqual(try records("lonely-reply@firm.example", archive), ["account:ACME", "contact:C-JOHN"])
        let replyLine = try assignment("lonely-reply@firm.example", archive)
        XCTAssertEqual(replyLine["status"] as? String, "filed")
        XCTAssertEqual(replyLine["evidence"] as? String, "thread")
        let lonelyWhy = try why("lonely@freemail.example", archive)
        XCTAssertEqual(lonelyWhy["evidence"] as? String, "manual")
        XCTAssertEqual(matches(lonelyWhy), ["* manual account:ACME dossier assign contact:C-JOHN", "* manual contact:C-JOHN dossier assign"])
        let at = try XCTUnwrap((lonelyWhy["manual"] as? [[String: Any]])?.first?["at"] as? String)
        XCTAssertEqual((lonelyWhy["matches"] as? [[String: Any]])?.first?["at"] as? String, at, "a manual match shows its decision's time")

        let again = try DossierCLI.run(["assign", lonely, "contact:c-john", "--archive", archive])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(again.text, "Message \(lonely) was already assigned to contact:C-JOHN: nothing changed.\n", "ids match ignoring case")

        // Unassigning the only record: back to unassigned, and the reply with it.
        let removed = try DossierCLI.run(["unassign", lonely, "contact:C-JOHN", "--archive", archive])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertTrue(removed.text.hasPrefix("Message \(lonely) unassigned from contact:C-JOHN: unassigned, no records.\n"), removed.text)
        XCTAssertTrue(removed.text.contains("Re-filed through the thread rule: 1 reply\n"), removed.text)
        XCTAssertEqual(try assignment("lonely@freemail.example", archive)["status"] as? String, "unassigned")
        XCTAssertEqual(try assignment("lonely-reply@firm.example", archive)["status"] as? String, "unassigned")
        XCTAssertEqual((try why("lonely@freemail.example", archive)["manual"] as? [Any])?.count, 0,
                       "withdrawing an assignment leaves no decision behind")

        // Unassigning a record a rule files to: it goes for good, with what it brought in (the
        // account via the contact); the domain rule still files to the account; the reply follows.
        XCTAssertEqual(try records("reply@freemail.example", archive), ["account:GLOBEX", "contact:C-SARAH"])
        let sarah = try DossierCLI.run(["unassign", FilingCommandsFixture.key("parent@firm.example"), "contact:C-SARAH", "--archive", archive])
        XCTAssertEqual(sarah.status, 0, sarah.stderr)
        XCTAssertEqual(try records("parent@firm.example", archive), ["account:GLOBEX"])
        XCTAssertEqual(try records("reply@freemail.example", archive), ["account:GLOBEX"])
        XCTAssertEqual(matches(try why("parent@firm.example", archive)), ["* domain account:GLOBEX globex.example"])

        // Assigning it back replaces the removal.
        XCTAssertEqual(try DossierCLI.run(["assign", FilingCommandsFixture.key("parent@firm.example"), "contact:C-SARAH", "--archive", archive]).status, 0)
        XCTAssertEqual(try records("reply@freemail.example", archive), ["account:GLOBEX", "contact:C-SARAH"])
        XCTAssertEqual(try assignment("parent@firm.example", archive)["evidence"] as? String, "manual")

        // A case named by its code.
        let byCode = try json(DossierCLI.run(["assign", FilingCommandsFixture.key("domain@globex.example"), "case:case-10417", "--archive", archive, "--json"]))
        XCTAssertEqual(byCode["record"] as? String, "case:CASE-1")
        XCTAssertEqual(byCode["records"] as? [String], ["account:GLOBEX", "case:CASE-1"])
    }

    func testAssignAndUnassignRefuseWhatTheyCannotDo() throws {
        let dir = try TemporaryDirectory()
        let archive = try FilingCommandsFixture.archive(dir)
        let lonely = FilingCommandsFixture.key("lonely@freemail.example")
        func refused(_ arguments: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let outcome = try DossierCLI.run(arguments + ["--archive", archive])
            XCTAssertEqual(outcome.status, 2, outcome.stderr, file: file, line: line)
            XCTAssertEqual(outcome.stderr, "dossier: \(message)\n", file: file, line: line)
            XCTAssertEqual(outcome.stdout, [], file: file, line: line)
        }
        try refused(["assign", lonely, "account:NOPE"], "the CRM directory in force has no account 'NOPE' (dossier crm status)")
        try refused(["assign", lonely, "ACME"], "'ACME' is not a record; write account:ID, contact:ID, lead:ID or case:ID")
        try refused(["assign", lonely, "client:ACME"], "'client:ACME' is not a record; write account:ID, contact:ID, lead:ID or case:ID")
        try refused(["unassign", lonely, "account:ACME"], "message \(lonely) is not filed to account:ACME (see dossier why \(lonely))")
        let black = FilingCommandsFixture.key("black@mail.competitor.example")
        try refused(["assign", black, "account:ACME"],
                    "message \(black) was excluded when imported (blacklist): only its record was kept, so it cannot be filed (import its mail again once it is no longer excluded)")
        try refused(["assign", "ffff0000", "account:ACME"], "no message with key ffff0000")

        // Excluded with its content kept (a later directory): no manual decision overrides it.
        XCTAssertEqual(try DossierCLI.run(["crm", "load", FilingCommandsFixture.writeCRM(dir, "crm3", version: 3), "--archive", archive]).status, 0)
        XCTAssertEqual(try DossierCLI.run(["rematch", "--archive", archive]).status, 0)
        let parent = FilingCommandsFixture.key("parent@firm.example")
        try refused(["assign", parent, "account:ACME"],
                    "message \(parent) is excluded (a participant is a contact marked excluded): a manual decision cannot override that (see dossier why \(parent))")
        XCTAssertEqual(try assignment("parent@firm.example", archive)["status"] as? String, "excluded", "the refusal wrote nothing")

        let empty = try DossierCLI.run(["assign", "abcd", "account:ACME", "--archive", dir.sub("none")])
        XCTAssertEqual(empty.status, 3, "no archive there")
    }

    // MARK: rematch

    func testRematchAfterANewContactMovesExactlyTheExpectedMessages() throws {
        let dir = try TemporaryDirectory()
        let archive = try FilingCommandsFixture.archive(dir)
        let before = try assignments(archive)
        XCTAssertEqual(try DossierCLI.run(["crm", "load", FilingCommandsFixture.writeCRM(dir, "crm2", version: 2), "--archive", archive]).status, 0)

        let dry = try json(DossierCLI.run(["rematch", "--dry-run", "--json", "--archive", archive]))
        XCTAssertEqual(dry["dry_run"] as? Bool, true)
        XCTAssertNil(dry["run"] as? Int)
        XCTAssertEqual(try assignments(archive), before, "a dry run writes nothing")

        let report = try json(DossierCLI.run(["rematch", "--json", "--archive", archive]))
        XCTAssertEqual(report["messages"] as? Int, 12, "every message with content")
        XCTAssertEqual(report["without_content"] as? Int, 3, "blacklist, excluded contact, window")
        XCTAssertEqual(report["crm_load"] as? Int, 2)
        let changes = try XCTUnwrap(report["changes"] as? [[String: Any]])
        XCTAssertEqual(changes.map { $0["key"] as? String }, [FilingCommandsFixture.key("lonely@freemail.example"),
                                                              FilingCommandsFixture.key("lonely-reply@firm.example")])
        for change in changes {
            XCTAssertEqual(change["old_status"] as? String, "unassigned")
            XCTAssertEqual(change["new_status"] as? String, "filed")
            XCTAssertEqual(change["old_records"] as? [String], [])
            XCTAssertEqual(change["new_records"] as? [String], ["account:NEWCO", "contact:C-STRANGER"])
        }
        XCTAssertEqual(report["updated"] as? Int, 2)
        let transitions = (report["transitions"] as? [[String: Any]] ?? []).map {
            "\($0["from"] as? String ?? "") -> \($0["to"] as? String ?? ""): \($0["count"] as? Int ?? 0)"
        }
        XCTAssertEqual(transitions, ["filed -> filed: 9", "unassigned -> filed: 2", "internal -> internal: 1"])
        XCTAssertEqual(dry["changes"] as? NSArray, report["changes"] as? NSArray, "the dry run showed what happened")

        // Exactly two lines of the report moved.
        let after = try assignments(archive)
        XCTAssertEqual(zip(before, after).filter { $0 != $1 }.count, 2)
        XCTAssertEqual(try assignment("lonely-reply@firm.example", archive)["evidence"] as? String, "thread",
                       "the firm's reply names the stranger too, but the thread is the stronger rule")

        // Recorded as a run; running it again moves nothing.
        let run = try DossierCLI.run(["report", "run", "--archive", archive])
        XCTAssertTrue(run.text.hasPrefix("Run 2 (rematch): completed\n  read         12\n"), run.text)
        let again = try DossierCLI.run(["rematch", "--archive", archive])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.text.hasPrefix("Rematch (run 3): 12 messages with content re-filed against CRM load 2 in "), again.text)
        XCTAssertTrue(again.text.contains("; 0 updated\n"), again.text)
        XCTAssertFalse(again.text.contains("unassigned  filed"), again.text)
        XCTAssertTrue(again.text.contains("No message's records changed.\n"), again.text)
        XCTAssertTrue(again.text.contains("Not re-filed: 3 messages excluded when imported have no content"), again.text)
    }

    func testManualDecisionsSurviveRematch() throws {
        let dir = try TemporaryDirectory()
        let archive = try FilingCommandsFixture.archive(dir)
        XCTAssertEqual(try DossierCLI.run(["assign", FilingCommandsFixture.key("lonely@freemail.example"), "account:GLOBEX", "--archive", archive]).status, 0)
        XCTAssertEqual(try DossierCLI.run(["unassign", FilingCommandsFixture.key("domain@globex.example"), "account:GLOBEX", "--archive", archive]).status, 0)
        XCTAssertEqual(try DossierCLI.run(["assign", FilingCommandsFixture.key("internal@firm.example"), "lead:L-1", "--archive", archive]).status, 0)
        XCTAssertEqual(try assignment("domain@globex.example", archive)["status"] as? String, "unassigned")

        XCTAssertEqual(try DossierCLI.run(["crm", "load", FilingCommandsFixture.writeCRM(dir, "crm2", version: 2), "--archive", archive]).status, 0)
        let report = try json(DossierCLI.run(["rematch", "--json", "--archive", archive]))
        XCTAssertEqual((report["changes"] as? [[String: Any]])?.map { $0["key"] as? String }, [FilingCommandsFixture.key("lonely@freemail.example"),
                                                                                                FilingCommandsFixture.key("lonely-reply@firm.example")])
        // The assignment stays, the new contact adds to it; the removal stays although the
        // domain rule still matches; the internal message stays filed to the lead.
        XCTAssertEqual(try records("lonely@freemail.example", archive), ["account:GLOBEX", "account:NEWCO", "contact:C-STRANGER"])
        XCTAssertEqual(try assignment("lonely@freemail.example", archive)["evidence"] as? String, "manual")
        XCTAssertEqual(try records("lonely-reply@firm.example", archive), ["account:GLOBEX", "account:NEWCO", "contact:C-STRANGER"])
        XCTAssertEqual(try assignment("domain@globex.example", archive)["status"] as? String, "unassigned")
        XCTAssertEqual(try records("internal@firm.example", archive), ["lead:L-1"])
        let domain = try why("domain@globex.example", archive)
        XCTAssertEqual((domain["manual"] as? [[String: Any]])?.map { "\($0["action"] as? String ?? "") \($0["record"] as? String ?? "")" },
                       ["unassign account:GLOBEX"])
    }

    /// The acceptance check of rematch: after a new directory, the archive says what a fresh
    /// import of the same mail with that directory says, line for line.
    func testRematchEqualsAFreshImport() throws {
        let dir = try TemporaryDirectory()
        let rematched = try FilingCommandsFixture.archive(dir, "rematched", version: 1)
        XCTAssertEqual(try DossierCLI.run(["crm", "load", FilingCommandsFixture.writeCRM(dir, "crm3", version: 3), "--archive", rematched]).status, 0)
        let report = try json(DossierCLI.run(["rematch", "--json", "--archive", rematched]))
        XCTAssertEqual(report["excluded_with_content"] as? [String: Int], ["blacklist": 1, "excluded_contact": 1])
        let fresh = try FilingCommandsFixture.archive(dir, "fresh", version: 3)

        let expected = try assignments(fresh)
        let actual = try assignments(rematched)
        XCTAssertEqual(actual.count, expected.count)
        for (got, want) in zip(actual, expected) { XCTAssertEqual(got, want) }
        // What moved, for the record: the tag no longer names the case; Sarah's mail and its reply.
        XCTAssertEqual(try assignment("tag@freemail.example", rematched)["status"] as? String, "unassigned")
        XCTAssertEqual(try assignment("reply@freemail.example", rematched)["status"] as? String, "unassigned")
        XCTAssertEqual(try assignment("track@freemail.example", rematched)["cases"] as? [String], ["CASE-1"], "tracking codes name the id")
    }
}
