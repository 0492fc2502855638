import Foundation
import GRDB
import XCTest
@testable import DossierCore

/// The filing rules and their precedence, on a small directory, through real imports.
final class FilingTests: XCTestCase {
    /// accounts: acme (acme.example), acme-de (subsidiary, de.acme.example), globex (globex.example,
    /// main_email info@globex.example); contacts: P1 at acme, P2 excluded, P3 and P4 sharing an
    /// address; lead L1; case C1 (code CASE-100) of acme.
    static let directory: [String: String] = [
        "accounts.csv": """
            id,name,domains,main_email,parent_id
            acme,Acme,acme.example,,
            acme-de,Acme Deutschland,de.acme.example,,acme
            globex,Globex,globex.example,info@globex.example,
            """,
        "contacts.csv": """
            id,account_id,name,emails,excluded
            P1,acme,Megan Miller,megan@acme.example,false
            P2,globex,Private Person,private@gmail.com,true
            P3,acme,Shared A,shared@partner.example,no
            P4,globex,Shared B,shared@partner.example,no
            P5,globex,Free Mail User,freeuser@gmail.com,no
            """,
        "leads.csv": """
            id,company,name,email,contact_emails
            L1,Initech,Peter,peter@initech.example,bill@initech.example
            """,
        "cases.csv": """
            id,account_id,code,title
            C1,acme,CASE-100,Audit
            """,
        "staff.csv": """
            id,name,email,mailbox,group
            bob,Bob,bob@firm.example,bob,Staff
            """,
        "rules.yaml": """
            internal_domains: [firm.example]
            groups: [Public, Staff, Direction]
            blacklist:
              domains: [competitor.example]
              addresses: [spy@elsewhere.example]
            subject_tags:
              - pattern: '\\[(CASE-[0-9]+)\\]'
                kind: case
            tracking_codes:
              - pattern: 'ref:([A-Z0-9-]+):ref'
                kind: case
            """,
    ]

    private func archive(with messages: [(String, String)], directory: [String: String] = FilingTests.directory,
                         separateRuns: Bool = false) throws -> (Archive, TemporaryDirectory) {
        let dir = try TemporaryDirectory()
        for (name, text) in directory { try dir.write("crm/\(name)", text) }
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        _ = try CRMStore.load(from: URL(fileURLWithPath: dir.sub("crm")), into: archive)
        if separateRuns {
            for (index, (name, text)) in messages.enumerated() {
                try dir.write("in\(index)/\(name)", text)
                _ = try Importer(archive: archive, options: ImportOptions(paths: [dir.sub("in\(index)")])).run()
            }
        } else {
            for (name, text) in messages { try dir.write("in/\(name)", text) }
            _ = try Importer(archive: archive, options: ImportOptions(paths: [dir.sub("in")])).run()
        }
        return (archive, dir)
    }

    private func lines(_ archive: Archive) throws -> [String: AssignmentLine] {
        var result: [String: AssignmentLine] = [:]
        try archive.database.read { db in
            try AssignmentsReport.write(db) { line in result[line.messageID ?? line.key] = line }
        }
        return result
    }

    func testEveryRuleAndItsEvidence() throws {
        let (archive, _) = try archive(with: [
            ("1.eml", makeMessage(id: "track@x", from: "someone@unknown.example", subject: "Re: question",
                                  body: "Thanks.\n> ref:CASE-100:ref\n")),
            ("2.eml", makeMessage(id: "tag@x", from: "someone@unknown.example", subject: "[CASE-100] documents")),
            ("3.eml", makeMessage(id: "addr@x", from: "Megan <MEGAN@Acme.Example>")),
            ("4.eml", makeMessage(id: "main@x", from: "info@globex.example")),
            ("5.eml", makeMessage(id: "lead@x", from: "bill@initech.example")),
            ("6.eml", makeMessage(id: "domain@x", from: "new.person@acme.example")),
            ("7.eml", makeMessage(id: "sub@x", from: "hans@mail.de.acme.example")),
            ("8.eml", makeMessage(id: "free@x", from: "stranger@gmail.com")),
            ("9.eml", makeMessage(id: "freecontact@x", from: "freeuser@gmail.com")),
            ("10.eml", makeMessage(id: "plus@x", from: "megan+news@acme.example")),
            ("11.eml", makeMessage(id: "shared@x", from: "shared@partner.example")),
            ("12.eml", makeMessage(id: "two@x", from: "megan@acme.example", to: "bob@firm.example, info@globex.example")),
        ])
        let report = try lines(archive)
        func check(_ id: String, _ evidence: String?, accounts: [String], contacts: [String] = [], leads: [String] = [],
                   cases: [String] = [], status: String = "filed", file: StaticString = #filePath, line: UInt = #line) {
            guard let got = report[id] else { return XCTFail("no line for \(id)", file: file, line: line) }
            XCTAssertEqual(got.status, status, id, file: file, line: line)
            XCTAssertEqual(got.evidence, evidence, id, file: file, line: line)
            XCTAssertEqual(got.accounts, accounts, id, file: file, line: line)
            XCTAssertEqual(got.contacts, contacts, id, file: file, line: line)
            XCTAssertEqual(got.leads, leads, id, file: file, line: line)
            XCTAssertEqual(got.cases, cases, id, file: file, line: line)
        }
        check("track@x", "tracking_code", accounts: ["acme"], cases: ["C1"])
        check("tag@x", "subject_tag", accounts: ["acme"], cases: ["C1"])
        check("addr@x", "address", accounts: ["acme"], contacts: ["P1"])
        check("main@x", "address", accounts: ["globex"])
        check("lead@x", "address", accounts: [], leads: ["L1"])
        check("domain@x", "domain", accounts: ["acme"])
        check("sub@x", "domain", accounts: ["acme-de"])
        check("free@x", nil, accounts: [], status: "unassigned")
        check("freecontact@x", "address", accounts: ["globex"], contacts: ["P5"])
        // Plus-addressing is not an alias, but the domain still matches.
        check("plus@x", "domain", accounts: ["acme"])
        check("shared@x", "address", accounts: ["acme", "globex"], contacts: ["P3", "P4"])
        check("two@x", "address", accounts: ["acme", "globex"], contacts: ["P1"])
    }

    func testPrecedenceOfExclusionsInternalAndMatchedOnly() throws {
        let (archive, _) = try archive(with: [
            ("1.eml", makeMessage(id: "black@x", from: "megan@acme.example", to: "x@sales.competitor.example")),
            ("2.eml", makeMessage(id: "spy@x", from: "spy@elsewhere.example", subject: "[CASE-100]")),
            ("3.eml", makeMessage(id: "excl@x", from: "megan@acme.example", to: "bob@firm.example",
                                  extraHeaders: "Cc: Private <private@gmail.com>\n")),
            ("4.eml", makeMessage(id: "internal@x", from: "bob@firm.example", to: "alice@firm.example", subject: "[CASE-100] notes")),
            ("5.eml", makeMessage(id: "old@x", from: "megan@acme.example", date: "Mon, 01 Jan 2018 10:00:00 +0000")),
            ("6.eml", makeMessage(id: "nodate@x", from: "megan@acme.example", date: "not a date")),
        ], directory: Self.directory.merging(["rules.yaml": Self.directory["rules.yaml"]! + "\nwindow:\n  since: 2020-01-01\n"]) { $1 })
        let report = try lines(archive)
        XCTAssertEqual(report["black@x"]?.status, "excluded")
        XCTAssertEqual(report["black@x"]?.reason, "blacklist")
        XCTAssertEqual(report["spy@x"]?.reason, "blacklist")
        XCTAssertEqual(report["excl@x"]?.status, "excluded")
        XCTAssertEqual(report["excl@x"]?.reason, "excluded_contact")
        XCTAssertEqual(report["internal@x"]?.status, "internal")
        XCTAssertEqual(report["internal@x"]?.cases, [])
        XCTAssertEqual(report["old@x"]?.status, "excluded")
        XCTAssertEqual(report["old@x"]?.reason, "window")
        XCTAssertEqual(report["nodate@x"]?.status, "filed", "an unreadable date is never excluded by the window")
        XCTAssertNil(report["nodate@x"]?.date)
        // Excluded messages keep no content: no original, no search rows.
        let excludedSHA = try XCTUnwrap(report["black@x"]?.sha256)
        XCTAssertFalse(try archive.hasOriginal(sha256: excludedSHA))
        let subjects = try archive.database.read { try String?.fetchAll($0, sql: "SELECT subject FROM message WHERE status = 'excluded'") }
        XCTAssertEqual(subjects.compactMap { $0 }, [])
    }

    func testMatchedOnlyExcludesUnmatchedMailButKeepsReplies() throws {
        var directory = Self.directory
        directory["rules.yaml"]! += "\nmode: matched_only\n"
        let (archive, _) = try archive(with: [
            ("1.eml", makeMessage(id: "stranger@x", from: "who@nowhere.example")),
            // Read before its parent: kept, unsearchable, until the parent files it.
            ("2.eml", makeMessage(id: "early@x", from: "who@nowhere.example", subject: "Re: Hello", body: "early reply\n",
                                  extraHeaders: "In-Reply-To: <parent@x>\n")),
            ("3.eml", makeMessage(id: "parent@x", from: "megan@acme.example")),
            ("4.eml", makeMessage(id: "reply@x", from: "who@nowhere.example", subject: "Re: Hello",
                                  extraHeaders: "In-Reply-To: <parent@x>\n")),
            // A reply whose parent does not come: excluded (unless a later run brings it).
            ("5.eml", makeMessage(id: "orphan@x", from: "who@nowhere.example", subject: "Re: lost", body: "orphan text\n",
                                  extraHeaders: "In-Reply-To: <never@x>\n")),
        ], directory: directory)
        let early = try lines(archive)["early@x"]
        XCTAssertEqual(early?.status, "filed")
        XCTAssertEqual(early?.accounts, ["acme"])
        let orphan = try lines(archive)["orphan@x"]
        XCTAssertEqual(orphan?.status, "excluded")
        XCTAssertEqual(orphan?.reason, "unmatched")
        // Kept, unsearchable, for a parent a later run may bring (ImportOptions.replyWait;
        // RunSplitTests shows the purge when the wait is over).
        XCTAssertTrue(try archive.hasOriginal(sha256: XCTUnwrap(orphan?.sha256)))
        let engine = SearchEngine(archive: archive)
        XCTAssertEqual(try engine.search("early").count, 1, "a reply filed late is searchable")
        XCTAssertEqual(try engine.search("orphan").count, 0)
        let ledger = try archive.database.read { try RunLedger.load($0, run: nil) }
        XCTAssertEqual(ledger?.excludedReasons["unmatched"], 2)
        XCTAssertEqual(ledger.map { $0.stored + $0.excluded + $0.duplicate + $0.quarantined }, ledger?.read)
        let report = try lines(archive)
        XCTAssertEqual(report["stranger@x"]?.status, "excluded")
        XCTAssertEqual(report["stranger@x"]?.reason, "unmatched")
        XCTAssertEqual(report["reply@x"]?.status, "filed")
        XCTAssertEqual(report["reply@x"]?.evidence, "thread")
        XCTAssertEqual(report["reply@x"]?.accounts, ["acme"])
    }

    /// A reply imported before the message it answers ends up filed the same way as in the
    /// natural order, however deep the thread.
    func testThreadFilingConvergesWhateverTheImportOrder() throws {
        let root = makeMessage(id: "root@x", from: "megan@acme.example", subject: "[CASE-100] start")
        let reply = makeMessage(id: "reply@x", from: "bob@firm.example", to: "someone@gmail.com", subject: "Re: start",
                                extraHeaders: "In-Reply-To: <root@x>\nReferences: <root@x>\n")
        let replyToReply = makeMessage(id: "reply2@x", from: "someone@gmail.com", subject: "Re: Re: start",
                                       extraHeaders: "In-Reply-To: <reply@x>\nReferences: <root@x> <reply@x>\n")
        let onlyInReplyTo = makeMessage(id: "reply3@x", from: "other@gmail.com", subject: "Re: Re: Re: start",
                                        extraHeaders: "In-Reply-To: <reply2@x>\n")
        let natural = try lines(archive(with: [("a.eml", root), ("b.eml", reply), ("c.eml", replyToReply), ("d.eml", onlyInReplyTo)],
                                        separateRuns: true).0)
        let reversed = try lines(archive(with: [("d.eml", onlyInReplyTo), ("c.eml", replyToReply), ("b.eml", reply), ("a.eml", root)],
                                         separateRuns: true).0)
        for id in ["root@x", "reply@x", "reply2@x", "reply3@x"] {
            XCTAssertEqual(natural[id]?.status, "filed", id)
            XCTAssertEqual(natural[id]?.accounts, ["acme"], id)
            XCTAssertEqual(natural[id]?.cases, ["C1"], id)
            XCTAssertEqual(reversed[id]?.status, natural[id]?.status, id)
            XCTAssertEqual(reversed[id]?.accounts, natural[id]?.accounts, id)
            XCTAssertEqual(reversed[id]?.cases, natural[id]?.cases, id)
            XCTAssertEqual(reversed[id]?.evidence, natural[id]?.evidence, id)
        }
        XCTAssertEqual(natural["reply2@x"]?.evidence, "thread")
    }

    func testDuplicatesAcrossMailboxesShareOneLineWithEverySource() throws {
        let dir = try TemporaryDirectory()
        for (name, text) in Self.directory { try dir.write("crm/\(name)", text) }
        let message = makeMessage(id: "dup@x", from: "megan@acme.example")
        try dir.write("bob/cur/1.eml:2,S", message)
        try dir.write("alice/cur/2.eml:2,S", message)
        for mailbox in ["bob", "alice"] {
            for sub in ["new", "tmp"] { try FileManager.default.createDirectory(atPath: dir.sub("\(mailbox)/\(sub)"), withIntermediateDirectories: true) }
        }
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        _ = try CRMStore.load(from: URL(fileURLWithPath: dir.sub("crm")), into: archive)
        _ = try Importer(archive: archive, options: ImportOptions(paths: [dir.sub("bob"), dir.sub("alice")])).run()
        let report = try lines(archive)
        XCTAssertEqual(report.count, 1)
        XCTAssertEqual(report["dup@x"]?.sources.map(\.mailbox), ["bob", "alice"])
        XCTAssertEqual(report["dup@x"]?.json.hasPrefix("{\"key\":"), true)
        // Accessible to the lowest group among the owners of the mailboxes holding it (bob: Staff),
        // and every group above; alice's mailbox is no user's, which alone would mean Direction only.
        let index = CRMIndex(try XCTUnwrap(archive.database.read { try CRMStore.activeDirectory(in: $0) }))
        let key = try XCTUnwrap(report["dup@x"]?.key)
        let explanation = try archive.database.read { try FilingExplanation.explain(key: key, in: $0, index: index) }
        XCTAssertEqual(explanation.mailboxes, ["alice", "bob"])
        XCTAssertEqual(explanation.accessibleTo, ["Staff", "Direction"])
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["alice"]), ["Direction"])
    }

    func testRequiredLiteralsNeverRejectAMatch() {
        XCTAssertEqual(Filer.requiredLiteral("ref:([A-Z0-9-]+):ref").map { String(decoding: $0, as: UTF8.self) }, "ref:")
        XCTAssertEqual(Filer.requiredLiteral("\\[(CASE-[0-9]+)\\]").map { String(decoding: $0, as: UTF8.self) }, "[")
        XCTAssertNil(Filer.requiredLiteral("(?i)ref:(.+)"))
        XCTAssertNil(Filer.requiredLiteral("a|b(c)"))
        XCTAssertEqual(Filer.requiredLiteral("abb?c(d)").map { String(decoding: $0, as: UTF8.self) }, "ab")
        // Property: whenever the regex matches, the literal is present.
        let patterns = ["ref:([A-Z0-9-]+):ref", "\\[(CASE-[0-9]+)\\]", "x*y+z{2}(q)", "\\.(\\d+)\\.", "[ab]c(d)e?f"]
        var rng = SplitMix64(seed: 7)
        let alphabet = Array("ref:CASE-[]0123456789xyzqabcdef.")
        for pattern in patterns {
            let regex = try! NSRegularExpression(pattern: pattern)
            let literal = Filer.requiredLiteral(pattern)
            for _ in 0..<2000 {
                let text = String((0..<Int(rng.next() % 24)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
                if regex.firstMatch(in: text, range: NSRange(location: 0, length: (text as NSString).length)) != nil {
                    XCTAssertTrue(Filer.mayContain(text, literal), "\(pattern) matched \(text)")
                }
            }
        }
    }

    /// The workers' memo of address profiles (small enough here to start afresh several times)
    /// must never change a decision: every pre-filing equals the one worked out without it.
    func testTheAddressMemoNeverChangesAPreFiling() throws {
        let dir = try TemporaryDirectory()
        for (name, text) in Self.directory { try dir.write("crm/\(name)", text) }
        let (directory, _) = try CRMDirectoryLoader.load(from: URL(fileURLWithPath: dir.sub("crm")))
        let filer = Filer(index: CRMIndex(directory))
        let addresses = ["megan@acme.example", "x@de.acme.example", "info@globex.example", "shared@partner.example",
                         "private@gmail.com", "freeuser@gmail.com", "peter@initech.example", "bill@initech.example",
                         "bob@firm.example", "alice@firm.example", "spy@elsewhere.example", "a@sub.competitor.example",
                         "stranger@nowhere.example", "someone@gmail.com"]
        let memo = AddressProfiles(capacity: 3)
        var rng = SplitMix64(seed: 11)
        for _ in 0..<400 {
            let roles = ["from", "to", "cc", "bcc"]
            let participants = (0..<(1 + Int(rng.next() % 4))).map { index in
                (role: index == 0 ? "from" : roles[Int(rng.next() % 4)], address: addresses[Int(rng.next() % UInt64(addresses.count))])
            }
            let facts = FilingFacts(participants: participants, subject: rng.next() % 3 == 0 ? "Re: [CASE-100] audit" : "Hello",
                                    headerValues: [], bodyText: "", references: [])
            XCTAssertEqual(filer.prefile(facts, profiles: memo), filer.prefile(facts), "\(participants)")
        }
        // And the memo agrees with the rules it stands for.
        let pre = filer.prefile(FilingFacts(participants: [("from", "megan@acme.example"), ("cc", "bob@firm.example")],
                                            subject: "", headerValues: [], bodyText: "", references: []), profiles: memo)
        XCTAssertEqual(pre.direction, .inbound)
        XCTAssertFalse(pre.isInternal)
        XCTAssertEqual(Set(pre.direct.map { "\($0.rule.rawValue) \($0.record.kind.rawValue):\($0.record.id)" }),
                       ["address contact:P1", "address account:acme", "domain account:acme"])
        XCTAssertEqual(filer.prefile(FilingFacts(participants: [("from", "spy@elsewhere.example"), ("to", "private@gmail.com")],
                                                 subject: "", headerValues: [], bodyText: "", references: []), profiles: memo).exclusion,
                       "blacklist")
    }
}
