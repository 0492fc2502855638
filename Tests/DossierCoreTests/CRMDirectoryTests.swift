@testable import DossierCore
import Foundation
import XCTest

/// The CRM directory contract (shared/spec/crm-directory.md): the CSV reader's positions, the
/// loader's records, and every error and warning with its exact file:line:column.
final class CRMDirectoryTests: XCTestCase {
    // MARK: Helpers

    /// A directory folder holding `files` (name -> text).
    private func folder(_ files: [String: String]) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        for (name, text) in files { try dir.write("crm/" + name, text) }
        if files.isEmpty { try FileManager.default.createDirectory(atPath: dir.sub("crm"), withIntermediateDirectories: true) }
        return dir
    }

    private func load(_ files: [String: String], file: StaticString = #filePath, line: UInt = #line) throws -> (CRMDirectory, [CRMDiagnostic]) {
        let dir = try folder(files)
        return try CRMDirectoryLoader.load(from: URL(fileURLWithPath: dir.sub("crm")))
    }

    /// The errors a load fails with, as `file:line:column: message` lines.
    private func errors(_ files: [String: String], file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let dir = try folder(files)
        do {
            _ = try CRMDirectoryLoader.load(from: URL(fileURLWithPath: dir.sub("crm")))
            XCTFail("the load succeeded", file: file, line: line)
            return []
        } catch let error as CRMLoadError {
            return error.errors.map(\.description)
        }
    }

    private let accounts = "id,name,domains\nA1,Acme,acme.example\n"

    // MARK: CSV reader

    func testCSVQuotedFieldsKeepTheirLinesAndColumns() throws {
        let text = "id,name,notes\r\n1,\"Miller, \"\"JM\"\"\",\"two\nlines\"\r\n2,plain,\"\"\r\n"
        let records = try CSVReader.records(Array(text.utf8))
        XCTAssertEqual(records.map(\.line), [1, 2, 4])
        XCTAssertEqual(records[1].fields.map(\.value), ["1", "Miller, \"JM\"", "two\nlines"])
        XCTAssertEqual(records[1].fields.map(\.column), [1, 2, 3])
        XCTAssertEqual(records[2].fields.map(\.value), ["2", "plain", ""])
        XCTAssertEqual(records[2].fields[1].line, 4)
    }

    func testCSVBOMLineEndingsAndBlankLines() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let records = try CSVReader.records(bom + Array("id,name\n\n1,a\r2,b\r\n\n".utf8))
        XCTAssertEqual(records.map { $0.fields.map(\.value) }, [["id", "name"], ["1", "a"], ["2", "b"]])
        XCTAssertEqual(records.map(\.line), [1, 3, 4])
        XCTAssertEqual(try CSVReader.records(Array("id\n1".utf8)).count, 2, "no final line break is fine")
        XCTAssertEqual(try CSVReader.records([]).count, 0)
    }

    func testCSVMalformedQuotesNameLineAndColumn() {
        func failure(_ text: String) -> CSVError? {
            do { _ = try CSVReader.records(Array(text.utf8)); return nil } catch { return error as? CSVError }
        }
        let after = failure("id,name\n1,\"Acme\"x\n")
        XCTAssertEqual(after.map { [$0.line, $0.column] }, [2, 2])
        XCTAssertTrue(after?.message.contains("after the closing quote") == true, after?.message ?? "")
        let inside = failure("id,name\n1,Ac\"me\n")
        XCTAssertEqual(inside.map { [$0.line, $0.column] }, [2, 2])
        let unterminated = failure("id,name\n1,ok\n2,\"never\nclosed\n")
        XCTAssertEqual(unterminated.map { [$0.line, $0.column] }, [3, 2])
        XCTAssertTrue(unterminated?.message.contains("never closed") == true)
        do {
            _ = try CSVReader.records(Array("id,name\n1,J".utf8) + [0xFC] + Array("rgen\n".utf8))
            XCTFail("Latin-1 bytes are not UTF-8")
        } catch let error as CSVError {
            XCTAssertEqual([error.line, error.column], [2, 2])
        } catch { XCTFail("\(error)") }
        XCTAssertEqual(try CSVReader.records(Array("id,name\n1,\u{FFFD}\n".utf8))[1].fields[1].value, "\u{FFFD}",
                       "a replacement character that is really there is valid UTF-8")
    }

    func testALargeDirectoryLoadsInSeconds() throws {
        var contacts = "id,account_id,name,emails,excluded\n"
        for i in 0..<100_000 { contacts += "C\(i),A\(i % 5000),\"Person, Number \(i)\",person.\(i)@client\(i % 5000).example,no\n" }
        var accounts = "id,name,domains\n"
        for i in 0..<5000 { accounts += "A\(i),Client \(i),client\(i).example\n" }
        let start = Date()
        let (directory, _) = try load(["accounts.csv": accounts, "contacts.csv": contacts])
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(directory.contacts.count, 100_000)
        // About 2 s in a debug build; the bound is for a busy machine.
        XCTAssertLessThan(elapsed, 15, "loading 100k contacts took \(elapsed) s")
    }

    // MARK: Records

    func testOnlyAccountsIsAValidDirectory() throws {
        let (directory, warnings) = try load(["accounts.csv": accounts])
        XCTAssertEqual(directory.accounts, [Account(id: "A1", name: "Acme", domains: ["acme.example"])])
        XCTAssertEqual(directory.contacts, [])
        XCTAssertEqual(directory.leads, [])
        XCTAssertEqual(directory.cases, [])
        XCTAssertEqual(directory.staff, [])
        XCTAssertEqual(directory.rules, CRMRules())
        XCTAssertEqual(warnings, [])
    }

    func testEmptyOptionalFilesAreEmpty() throws {
        let (directory, _) = try load(["accounts.csv": accounts, "contacts.csv": "", "leads.csv": "id\n", "rules.yaml": ""])
        XCTAssertEqual(directory.contacts, [])
        XCTAssertEqual(directory.leads, [])
    }

    func testColumnsInAnyOrderUnknownColumnsIgnoredValuesNormalized() throws {
        let (directory, _) = try load([
            "accounts.csv": "\u{FEFF}Parent_ID,Domains,Name,ID,Main_Email,Industry\n"
                + ",\" Acme.EXAMPLE ; @acme-corp.example;;\",Acme Corp,A1, Info@Acme.Example ,Manufacturing\n"
                + "A1,*.eu.acme.example,Acme Europe,A2,,\n",
            "contacts.csv": "emails,excluded,account_id,id,name,phone\n"
                + "\"John.Miller@ACME.example; jm@acme.example\",Yes,A1,C1,John Miller,+1 555\n"
                + "emily@acme.example,,A2,C2,,\n",
            "leads.csv": "contact_emails,email,name,company,id\nhr@prospect.example;ceo@prospect.example,Lead@Prospect.example,Pat,Prospect Ltd,L1\n",
            "cases.csv": "title,code,account_id,id\n\"Supply contract\",CASE-1,A1,K1\n",
            "staff.csv": "group,mailbox,email,name,id\nStaff,alice; shared ,Alice@Firm.example,Alice,S1\n",
            "rules.yaml": "groups: [Public, Staff]\n",
        ])
        XCTAssertEqual(directory.accounts, [
            Account(id: "A1", name: "Acme Corp", domains: ["acme.example", "acme-corp.example"], mainEmail: "info@acme.example"),
            Account(id: "A2", name: "Acme Europe", domains: ["eu.acme.example"], parentID: "A1"),
        ])
        XCTAssertEqual(directory.contacts, [
            Contact(id: "C1", accountID: "A1", name: "John Miller", emails: ["john.miller@acme.example", "jm@acme.example"], excluded: true),
            Contact(id: "C2", accountID: "A2", emails: ["emily@acme.example"]),
        ])
        XCTAssertEqual(directory.leads, [Lead(id: "L1", company: "Prospect Ltd", name: "Pat", email: "lead@prospect.example",
                                              contactEmails: ["hr@prospect.example", "ceo@prospect.example"])])
        XCTAssertEqual(directory.cases, [Case(id: "K1", accountID: "A1", code: "CASE-1", title: "Supply contract")])
        XCTAssertEqual(directory.staff, [StaffMember(id: "S1", name: "Alice", email: "alice@firm.example", mailboxes: ["alice", "shared"], group: "Staff")])
    }

    func testQuotedNewlineInsideANameKeepsLaterLinesRight() throws {
        let errors = try errors([
            "accounts.csv": "id,name\nA1,\"Acme\nCorporation\"\nA1,Again\n",
        ])
        XCTAssertEqual(errors, ["accounts.csv:4:1: duplicate id 'A1' (first on line 2)"])
    }

    func testBooleans() throws {
        let values = ["true", "FALSE", "Yes", "no", "1", "0", "", "TrUe"]
        let rows = values.enumerated().map { "C\($0.offset),A1,c\($0.offset)@acme.example,\($0.element)" }
        let (directory, _) = try load(["accounts.csv": accounts, "contacts.csv": "id,account_id,emails,excluded\n" + rows.joined(separator: "\n")])
        XCTAssertEqual(directory.contacts.map(\.excluded), [true, false, true, false, true, false, false, true])
    }

    // MARK: Errors

    func testMissingAccountsFileIsAnError() throws {
        XCTAssertEqual(try errors(["contacts.csv": "id,account_id,emails\n"]), ["accounts.csv:0:0: missing: a CRM directory needs accounts.csv"])
        XCTAssertEqual(try errors(["accounts.csv": ""]), ["accounts.csv:1:0: no header row (expected columns id, name, ...)"])
    }

    func testAMissingFolderIsASourceError() {
        XCTAssertThrowsError(try CRMDirectoryLoader.load(from: URL(fileURLWithPath: "/nonexistent/crm"))) { error in
            XCTAssertEqual(error as? SourceError, .notFound(path: "/nonexistent/crm"))
        }
    }

    /// Every kind of error in one directory: all are reported, in file order, each at its place.
    func testEveryErrorIsReportedWithFileLineAndColumn() throws {
        let found = try errors([
            "accounts.csv": "id,name,domains,main_email,parent_id\n"
                + "A1,Acme,acme.example,,A3\n"          // line 2: A1 -> A3
                + "A2,,globex.example,,\n"              // line 3: empty name
                + "A3,Initech,,,A1\n"                   // line 4: A3 -> A1 (cycle)
                + "A1,Acme again,,,\n"                  // line 5: duplicate id
                + "A4,Umbrella,,not-an-address,A9\n"    // line 6: bad address, unknown parent
                + "A5,Self,,,A5\n",                     // line 7: self cycle
            "contacts.csv": "name,id,account_id,emails,excluded\n"
                + "John,C1,A1,john@acme.example,maybe\n"   // line 2: bad boolean (column 5)
                + "Jane,C2,A7,jane@acme.example,\n"        // line 3: unknown account (column 3)
                + "Joe,C3,A1,,\n"                          // line 4: empty emails
                + "Jim,C1,A1,jim@acme.example,no\n",       // line 5: duplicate id (column 2)
            "leads.csv": "id,email\nL1,a@b.example\n,c@d.example\n",
            "cases.csv": "id,account_id,code\nK1,A1,CASE-1\nK2,NOPE,CASE-2\n",
            "staff.csv": "id,name\nS1,Alice\n",
            "rules.yaml": "groups: [Staff]\nblacklst:\n  domains: [x.example]\nmode: sometimes\n",
        ])
        XCTAssertEqual(found, [
            "accounts.csv:2:5: parent cycle: A1 -> A3 -> A1",
            "accounts.csv:3:2: empty value in required column 'name'",
            "accounts.csv:5:1: duplicate id 'A1' (first on line 2)",
            "accounts.csv:6:4: 'not-an-address' is not an email address",
            "accounts.csv:6:5: unknown parent account 'A9'",
            "accounts.csv:7:5: parent cycle: A5 -> A5",
            "contacts.csv:2:5: 'maybe' in column 'excluded' is not a boolean (true/false, yes/no, 1/0)",
            "contacts.csv:3:3: unknown account 'A7'",
            "contacts.csv:4:4: empty value in required column 'emails'",
            "contacts.csv:5:2: duplicate id 'C1' (first on line 2)",
            "leads.csv:3:1: empty value in required column 'id'",
            "cases.csv:3:2: unknown account 'NOPE'",
            "staff.csv:1:0: missing required column 'email'",
            "rules.yaml:2:1: unknown key 'blacklst' (expected one of: internal_domains, freemail_domains, blacklist, subject_tags, tracking_codes, groups, noise, mode, window, plus_addressing)",
            "rules.yaml:4:7: mode must be all or matched_only, not 'sometimes'",
        ])
    }

    func testMalformedCSVIsAnErrorAtItsPlaceAndOtherFilesAreStillChecked() throws {
        let found = try errors([
            "accounts.csv": accounts,
            "contacts.csv": "id,account_id,emails\nC1,A1,\"john@acme.example\" x\n",
            "cases.csv": "id,account_id\nK1,A2\n",
        ])
        XCTAssertEqual(found, [
            "contacts.csv:2:3: malformed quoted field: ' ' after the closing quote (a quote inside a quoted field is written \"\")",
            "cases.csv:2:2: unknown account 'A2'",
        ])
    }

    func testReferencesAreNotCheckedAgainstAnUnreadableAccountsFile() throws {
        let found = try errors([
            "accounts.csv": "id,label\nA1,Acme\n",
            "contacts.csv": "id,account_id,emails\nC1,A1,a@acme.example\n",
        ])
        XCTAssertEqual(found, ["accounts.csv:1:0: missing required column 'name'"])
    }

    func testOneMistakeIsReportedOnceNotAtEveryReference() throws {
        let found = try errors([
            "accounts.csv": "id,name,parent_id\nA1,Acme,A2\nA2,,\n",
            "contacts.csv": "id,account_id,emails\nC1,A2,x@acme.example\n",
            "cases.csv": "id,account_id\nK1,A2\n",
        ])
        XCTAssertEqual(found, ["accounts.csv:3:2: empty value in required column 'name'"])
    }

    func testHeaderProblems() throws {
        let found = try errors([
            "accounts.csv": "id,name,ID\nA1,Acme,x\nA2,Globex,y,extra\n",
        ])
        XCTAssertEqual(found, [
            "accounts.csv:1:3: column 'id' appears twice in the header (also column 1)",
            "accounts.csv:3:4: a value beyond the header's 3 columns (a stray comma, or a value that needs quotes?)",
        ])
    }

    func testStaffGroupsMustBeRulesGroups() throws {
        let found = try errors([
            "accounts.csv": accounts,
            "staff.csv": "id,email,group\nS1,alice@firm.example,staff\nS2,bob@firm.example,Interns\nS3,carla,\n",
            "rules.yaml": "groups: [Public, Staff]\n",
        ])
        XCTAssertEqual(found, [
            "staff.csv:3:3: unknown group 'Interns' (rules.yaml groups: Public, Staff)",
            "staff.csv:4:2: 'carla' is not an email address",
        ])
        let (directory, _) = try load(["accounts.csv": accounts, "staff.csv": "id,email,group\nS1,alice@firm.example,staff\n",
                                       "rules.yaml": "groups: [Public, Staff]\n"])
        XCTAssertEqual(directory.staff.first?.group, "Staff", "a group is spelt as rules.yaml spells it")
    }

    // MARK: Warnings

    func testAnAddressSharedByTwoContactsIsAWarning() throws {
        let (directory, warnings) = try load([
            "accounts.csv": "id,name,domains\nA1,Acme,acme.example\nA2,Acme Holding,acme.example;gmail.com\n",
            "contacts.csv": "id,account_id,emails\nC1,A1,office@acme.example\nC2,A2,Office@acme.example;x@acme.example\n",
            "cases.csv": "id,account_id,code\nK1,A1,CASE-1\nK2,A2,case-1\n",
        ])
        XCTAssertEqual(directory.contacts.count, 2)
        XCTAssertEqual(warnings.map(\.description), [
            "accounts.csv:3:3: domain acme.example is also a domain of account 'A1' (line 2): mail from it files to both",
            "accounts.csv:3:3: gmail.com is a free-mail domain, which is never matched by domain (list the client's addresses instead)",
            "contacts.csv:3:3: address office@acme.example is also an address of contact 'C1' (line 2): mail with it files to both",
            "cases.csv:3:3: code case-1 is also the code of case 'K1' (line 2): a tag with it files to both",
        ])
    }

    // MARK: rules.yaml

    func testTheSpecsRulesExample() throws {
        let yaml = """
            internal_domains: [firm.example]     # the firm's domains
            freemail_domains: [mail.example]
            blacklist:
              domains: [competitor.example]
              addresses: [Someone@X.example]
            subject_tags:
              - pattern: '\\[(CASE-[0-9]+)\\]'
                kind: case
            tracking_codes:
              - pattern: 'ref:([A-Z0-9-]+):ref'
                kind: case
            groups: [Public, Staff, Direction]
            noise:
              store: false
            mode: all
            window:
              since: 2020-01-01
              until: null
            """
        let (directory, warnings) = try load(["accounts.csv": accounts, "rules.yaml": yaml])
        XCTAssertEqual(warnings, [])
        let rules = directory.rules
        XCTAssertEqual(rules.internalDomains, ["firm.example"])
        XCTAssertEqual(rules.freemailDomains, ["mail.example"])
        XCTAssertEqual(rules.blacklist, CRMRules.Blacklist(domains: ["competitor.example"], addresses: ["someone@x.example"]))
        XCTAssertEqual(rules.subjectTags, [CRMPattern(pattern: "\\[(CASE-[0-9]+)\\]", kind: .case)])
        XCTAssertEqual(rules.trackingCodes, [CRMPattern(pattern: "ref:([A-Z0-9-]+):ref", kind: .case)])
        XCTAssertEqual(rules.groups, ["Public", "Staff", "Direction"])
        XCTAssertEqual(rules.noise.store, false)
        XCTAssertEqual(rules.mode, .all)
        XCTAssertEqual(rules.window.since, DateWindow.day("2020-01-01"))
        XCTAssertNil(rules.window.before)
        XCTAssertEqual(rules.window.sinceText, "2020-01-01")
        XCTAssertFalse(rules.plusAddressing)
        XCTAssertEqual(rules.source, yaml)
    }

    func testRulesValuesAndWindows() throws {
        let (directory, _) = try load(["accounts.csv": accounts, "rules.yaml": """
            mode: matched_only
            noise: {store: yes}
            plus_addressing: true
            window: {since: '2024-01-01T09:00:00+01:00', until: 2024-03-31}
            """])
        let rules = directory.rules
        XCTAssertEqual(rules.mode, .matchedOnly)
        XCTAssertTrue(rules.noise.store)
        XCTAssertTrue(rules.plusAddressing)
        XCTAssertEqual(rules.window.since, ISO8601DateFormatter().date(from: "2024-01-01T08:00:00Z"))
        XCTAssertEqual(rules.window.before, DateWindow.day("2024-04-01"), "until is inclusive: the whole day")
        XCTAssertTrue(rules.window.dateWindow.contains(ISO8601DateFormatter().date(from: "2024-03-31T23:59:59Z")))
        XCTAssertFalse(rules.window.dateWindow.contains(ISO8601DateFormatter().date(from: "2024-01-01T07:59:59Z")))
    }

    func testBadYAMLHasItsLineAndColumn() throws {
        let found = try errors(["accounts.csv": accounts, "rules.yaml": "groups: [Public, Staff\nmode: all\n"])
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found[0].hasPrefix("rules.yaml:2:5: not valid YAML:"), found[0])
    }

    func testRulesTypeErrors() throws {
        let found = try errors(["accounts.csv": accounts, "rules.yaml": """
            internal_domains: firm.example
            groups: [Public, Staff, public]
            noise:
              store: sometimes
              keep: true
            subject_tags:
              - pattern: '\\[CASE-[0-9]+\\]'
                kind: case
              - pattern: '(unclosed'
                kind: matter
              - kind: case
            tracking_codes: {pattern: x}
            window:
              since: yesterday
              until: 2019-12-31T00:00:00Z
            plus_addressing: [true]
            blacklist:
              domains: [ok.example, 'not a domain']
              addresses: [nobody]
            """])
        XCTAssertEqual(found, [
            "rules.yaml:1:19: internal_domains must be a list (e.g. [a, b] or one '- item' per line)",
            "rules.yaml:2:25: groups: 'public' is listed twice",
            "rules.yaml:4:10: noise.store must be true or false, not 'sometimes'",
            "rules.yaml:5:3: unknown key 'keep' in noise (expected one of: store)",
            "rules.yaml:7:14: subject_tags: pattern '\\[CASE-[0-9]+\\]' has no capture group; group 1 must name the record, e.g. '\\[(CASE-[0-9]+)\\]'",
            "rules.yaml:9:14: subject_tags: pattern '(unclosed' is not a valid regular expression",
            "rules.yaml:10:11: subject_tags: kind must be account, contact, lead or case, not 'matter'",
            "rules.yaml:11:5: subject_tags: an entry has no pattern",
            "rules.yaml:12:17: tracking_codes must be a list (e.g. [a, b] or one '- item' per line)",
            "rules.yaml:14:10: window.since: 'yesterday' is not a date (YYYY-MM-DD or RFC 3339, e.g. 2024-01-31T18:00:00Z)",
            "rules.yaml:16:18: plus_addressing must be a single value",
            "rules.yaml:18:25: blacklist.domains: 'not a domain' is not a domain",
            "rules.yaml:19:15: blacklist.addresses: 'nobody' is not an email address",
        ])
    }

    func testAnEmptyWindowIsAnError() throws {
        let found = try errors(["accounts.csv": accounts, "rules.yaml": "window:\n  since: 2024-02-01\n  until: 2024-01-31\n"])
        XCTAssertEqual(found, ["rules.yaml:3:10: window: until (2024-01-31) is before since (2024-02-01): the window is empty"])
    }

    func testDuplicateYAMLKeys() throws {
        let found = try errors(["accounts.csv": accounts, "rules.yaml": "mode: all\nmode: matched_only\n"])
        XCTAssertEqual(found, ["rules.yaml:2:1: duplicate key 'mode'"])
        let nested = try errors(["accounts.csv": accounts, "rules.yaml": "mode: all\nnoise:\n  store: true\n  store: false\n"])
        XCTAssertEqual(nested, ["rules.yaml:4:3: duplicate key 'store'"])
    }
}
