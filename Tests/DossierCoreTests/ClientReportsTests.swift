@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// A firm whose mail exercises the clients and discovered-contacts reports, imported through the
/// CLI. The reference time is the end of 2024-06-30 (2024-07-01T00:00:00Z); with `--period 30d`
/// the current period is [2024-06-01, 2024-07-01) and the previous one [2024-05-02, 2024-06-01).
///
/// | account | mail (dated before the reference time) |
/// |---|---|
/// | PARENT | p1 Paula in (Cc a third party, adv@lawyers.example), p2 Alice's reply out; p3 Paula in at exactly 2024-06-01T00:00:00Z, p4 Alice's reply out (Cc Bob) at 2024-05-31T23:59:59Z; s1 and s2 (SUB's too); p5 is after the reference time |
/// | SUB (subsidiary of PARENT) | s1 Sam in (Cc Paula) and s2 Alice's reply out (both PARENT's too: Paula's address, then the thread), s3 Sam in (SUB only) |
/// | ONEWAY | one@oneway.example (the account's main_email) writes; never answered: at 2024-06-30T23:59:59Z, 2024-06-15 (current), 2024-05-02T00:00:00Z (previous), 2024-05-01T23:59:59Z (neither), 2024-07-01T00:00:00Z (after) |
/// | OLDTWO | two-way in January 2023 (2 in, 2 out) and newguy@old.example's three messages in February 2023 |
/// | QUIET | no mail |
///
/// Not in the directory: stranger@gmail.com (2 in, 1 answered, hostile name and subject,
/// unassigned), adv@lawyers.example (1 message), newguy@old.example (3, files to OLDTWO by
/// domain). Known or excluded: Paula, Sam (contacts), lead@prospect.example (a lead, 3 messages),
/// one@oneway.example (main_email), spy@spam.example (blacklisted, 3 messages).
final class ClientReportsFixture {
    let dir: TemporaryDirectory
    var archive: String { dir.sub("archive") }
    static let asOf = "2024-06-30"
    static let hostileName = "<script>alert('x')</script> \u{202E}evil\" onmouseover=\"x"
    static let hostileSubject = "\"><img src=x onerror=alert(1)><script>alert(2)</script>"

    init() throws {
        dir = try TemporaryDirectory()
        try dir.write("crm/accounts.csv", """
            id,name,domains,main_email,parent_id
            PARENT,Parent Holding,parent.example,,
            SUB,Sub Ltd,sub.example,,PARENT
            ONEWAY,Oneway Inc,,one@oneway.example,
            OLDTWO,Old Partners,old.example,,
            QUIET,Quiet Co,quiet.example,,

            """)
        try dir.write("crm/contacts.csv", """
            id,account_id,name,emails,excluded
            C-PAULA,PARENT,Paula Parent,paula@parent.example,no
            C-SAM,SUB,Sam Sub,sam@sub.example,no
            C-CEO,OLDTWO,Olga Old,ceo@old.example,no

            """)
        try dir.write("crm/leads.csv", "id,company,name,email,contact_emails\nL-1,Prospect,Pat,lead@prospect.example,\n")
        try dir.write("crm/staff.csv", """
            id,name,email,mailbox,group
            S-ALICE,Alice Staff,alice@firm.example,alice,Staff
            S-BOB,Bob Staff,bob@firm.example,bob,Staff

            """)
        try dir.write("crm/rules.yaml", """
            internal_domains: [firm.example]
            blacklist:
              domains: [spam.example]
            groups: [Staff]

            """)
        let paula = "Paula Parent <paula@parent.example>", alice = "Alice Staff <alice@firm.example>"
        let reply = FilingFixture.reply
        var mail: [(String, String)] = [
            ("p1", makeMessage(id: "p1@parent.example", from: paula, to: alice, subject: "Holding structure",
                               date: "Thu, 20 Jun 2024 09:00:00 +0000", extraHeaders: "Cc: Adviser <adv@lawyers.example>\n")),
            ("p2", makeMessage(id: "p2@firm.example", from: alice, to: paula, subject: "Re: Holding structure",
                               date: "Fri, 21 Jun 2024 09:00:00 +0000", extraHeaders: reply("p1@parent.example", ["p1@parent.example"]))),
            ("p3", makeMessage(id: "p3@parent.example", from: paula, to: alice, subject: "Board minutes",
                               date: "Sat, 01 Jun 2024 00:00:00 +0000")),
            ("p4", makeMessage(id: "p4@firm.example", from: alice, to: paula, subject: "Re: Board minutes",
                               date: "Fri, 31 May 2024 23:59:59 +0000",
                               extraHeaders: "Cc: Bob Staff <bob@firm.example>\n" + reply("p3@parent.example", ["p3@parent.example"]))),
            ("p5", makeMessage(id: "p5@parent.example", from: paula, to: alice, subject: "Later", date: "Tue, 02 Jul 2024 09:00:00 +0000")),
            ("s1", makeMessage(id: "s1@sub.example", from: "Sam Sub <sam@sub.example>", to: alice, subject: "Sub accounts",
                               date: "Mon, 10 Jun 2024 09:00:00 +0000", extraHeaders: "Cc: \(paula)\n")),
            ("s2", makeMessage(id: "s2@firm.example", from: alice, to: "sam@sub.example", subject: "Re: Sub accounts",
                               date: "Tue, 11 Jun 2024 09:00:00 +0000", extraHeaders: reply("s1@sub.example", ["s1@sub.example"]))),
            ("s3", makeMessage(id: "s3@sub.example", from: "Sam Sub <sam@sub.example>", to: alice, subject: "Sub payroll",
                               date: "Wed, 12 Jun 2024 09:00:00 +0000")),
            ("o1", makeMessage(id: "o1@oneway.example", from: "one@oneway.example", to: alice, subject: "Update 1",
                               date: "Sun, 30 Jun 2024 23:59:59 +0000")),
            ("o2", makeMessage(id: "o2@oneway.example", from: "one@oneway.example", to: alice, subject: "Update 2",
                               date: "Sat, 15 Jun 2024 09:00:00 +0000")),
            ("o3", makeMessage(id: "o3@oneway.example", from: "one@oneway.example", to: alice, subject: "Update 3",
                               date: "Thu, 02 May 2024 00:00:00 +0000")),
            ("o4", makeMessage(id: "o4@oneway.example", from: "one@oneway.example", to: alice, subject: "Update 4",
                               date: "Wed, 01 May 2024 23:59:59 +0000")),
            ("o5", makeMessage(id: "o5@oneway.example", from: "one@oneway.example", to: alice, subject: "Update 5",
                               date: "Mon, 01 Jul 2024 00:00:00 +0000")),
            ("t1", makeMessage(id: "t1@old.example", from: "Olga Old <ceo@old.example>", to: alice, subject: "Audit",
                               date: "Tue, 10 Jan 2023 09:00:00 +0000")),
            ("t2", makeMessage(id: "t2@firm.example", from: alice, to: "ceo@old.example", subject: "Re: Audit",
                               date: "Wed, 11 Jan 2023 09:00:00 +0000", extraHeaders: reply("t1@old.example", ["t1@old.example"]))),
            ("t3", makeMessage(id: "t3@old.example", from: "ceo@old.example", to: alice, subject: "Re: Re: Audit",
                               date: "Thu, 12 Jan 2023 09:00:00 +0000", extraHeaders: reply("t2@firm.example", ["t1@old.example", "t2@firm.example"]))),
            ("t4", makeMessage(id: "t4@firm.example", from: alice, to: "ceo@old.example", subject: "Re: Audit",
                               date: "Fri, 13 Jan 2023 09:00:00 +0000", extraHeaders: reply("t3@old.example", ["t1@old.example", "t3@old.example"]))),
            ("x1", makeMessage(id: "x1@gmail.com", from: "\"\(Self.hostileName.replacingOccurrences(of: "\"", with: "\\\""))\" <stranger@gmail.com>",
                               to: alice, subject: Self.hostileSubject, date: "Mon, 03 Jun 2024 09:00:00 +0000")),
            ("x2", makeMessage(id: "x2@gmail.com", from: "Stranger <stranger@gmail.com>", to: alice, subject: "Second",
                               date: "Tue, 04 Jun 2024 09:00:00 +0000")),
            ("x3", makeMessage(id: "x3@firm.example", from: alice, to: "stranger@gmail.com", subject: "Re: Second",
                               date: "Wed, 05 Jun 2024 09:00:00 +0000")),
        ]
        for n in 1...3 {
            mail.append(("n\(n)", makeMessage(id: "n\(n)@old.example", from: "New Guy <newguy@old.example>", to: alice,
                                             subject: "Intro \(n)", date: "Wed, 0\(n) Feb 2023 09:00:00 +0000")))
            mail.append(("l\(n)", makeMessage(id: "l\(n)@prospect.example", from: "lead@prospect.example", to: alice,
                                             subject: "Offer \(n)", date: "Mon, 0\(n) Apr 2024 09:00:00 +0000")))
            mail.append(("b\(n)", makeMessage(id: "b\(n)@spam.example", from: "spy@spam.example", to: alice,
                                             subject: "Deal \(n)", date: "Mon, 0\(n) Apr 2024 09:00:00 +0000")))
        }
        for (name, text) in mail { try dir.write("mail/\(name).eml", text) }
        let loaded = try DossierCLI.run(["crm", "load", dir.sub("crm"), "--archive", archive])
        XCTAssertEqual(loaded.status, 0, loaded.stderr)
        let imported = try DossierCLI.run(["import", dir.sub("mail"), "--mailbox", "alice", "--archive", archive, "--quiet"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
    }

    func read<T>(_ body: (Database, CRMIndex) throws -> T) throws -> T {
        let archive = try Archive.open(at: self.archive, create: false)
        return try archive.database.read { db in try body(db, CRMIndex(try CRMStore.activeDirectory(in: db) ?? CRMDirectory())) }
    }

    func clients(period: String = "30d", withSubsidiaries: Bool = false) throws -> ClientsReport {
        try read { db, index in
            try ClientsReport.load(db, index: index, options: .init(asOf: ReportTime.parse(Self.asOf)!, period: ReportPeriod(period)!,
                                                                     withSubsidiaries: withSubsidiaries))
        }
    }

    func run(_ arguments: [String]) throws -> DossierCLI.Outcome {
        try DossierCLI.run(arguments + ["--archive", archive])
    }
}

final class ClientReportsTests: XCTestCase {
    nonisolated(unsafe) private static var shared: ClientReportsFixture?
    private var fixture: ClientReportsFixture {
        get throws {
            if let shared = Self.shared { return shared }
            let made = try ClientReportsFixture()
            Self.shared = made
            return made
        }
    }

    private func day(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    // MARK: clients

    func testCountsThreadsAndDatesPerAccount() throws {
        let report = try fixture.clients()
        let byID = Dictionary(uniqueKeysWithValues: report.accounts.map { ($0.id, $0) })
        XCTAssertEqual(Set(byID.keys), ["PARENT", "SUB", "ONEWAY", "OLDTWO", "QUIET"], "every account, with mail or not")

        let parent = try XCTUnwrap(byID["PARENT"])
        // p1, p3 and s1 in (Paula is in s1's Cc, so it files to PARENT too); p2, p4 and s2 (s1's thread) out;
        // p5 is after --as-of.
        XCTAssertEqual([parent.messages, parent.inbound, parent.outbound, parent.threads], [6, 3, 3, 3])
        XCTAssertEqual(parent.first, day("2024-05-31T23:59:59Z"))
        XCTAssertEqual(parent.last, day("2024-06-21T09:00:00Z"))

        let oneway = try XCTUnwrap(byID["ONEWAY"])
        XCTAssertEqual([oneway.messages, oneway.inbound, oneway.outbound, oneway.threads], [4, 4, 0, 4])
        XCTAssertEqual(oneway.last, day("2024-06-30T23:59:59Z"), "mail at the reference time itself is left out")

        let old = try XCTUnwrap(byID["OLDTWO"])
        XCTAssertEqual([old.messages, old.inbound, old.outbound, old.threads], [7, 5, 2, 4])

        let quiet = try XCTUnwrap(byID["QUIET"])
        XCTAssertEqual([quiet.messages, quiet.inbound, quiet.outbound, quiet.threads, quiet.score], [0, 0, 0, 0, 0])
        XCTAssertNil(quiet.first)
        XCTAssertEqual(quiet.months.count, 12)
        XCTAssertEqual(quiet.months.last?.label, "2024-06")

        // The months: PARENT's June holds p1, p3, s1 in and p2, s2 out; May holds p4.
        XCTAssertEqual(parent.months.last, MonthlyChart.Month(year: 2024, month: 6, inbound: 3, outbound: 2))
        XCTAssertEqual(parent.months[parent.months.count - 2], MonthlyChart.Month(year: 2024, month: 5, inbound: 0, outbound: 1))
    }

    func testThreadsMatchTheClientFile() throws {
        let fixture = try self.fixture
        let report = try fixture.clients()
        try fixture.read { db, index in
            for id in ["SUB", "OLDTWO"] {
                let file = try ClientFile.load(CRMRecordRef(.account, id), index: index, db)
                XCTAssertEqual(report.accounts.first { $0.id == id }?.threads, file.counts.threads, id)
                XCTAssertEqual(report.accounts.first { $0.id == id }?.messages, file.counts.messages, id)
            }
        }
    }

    func testScoreRewardsRecentTwoWayExchange() throws {
        let report = try fixture.clients()
        let score = Dictionary(uniqueKeysWithValues: report.accounts.map { ($0.id, $0.score) })
        XCTAssertGreaterThan(score["PARENT"]!, score["ONEWAY"]!, "two-way beats one-way, with fewer messages")
        XCTAssertGreaterThan(score["PARENT"]!, score["OLDTWO"]!, "recent beats old, with fewer messages")
        XCTAssertLessThanOrEqual(score["OLDTWO"]!, 1, "a year and a half of silence")
        XCTAssertEqual(score["QUIET"], 0)
        XCTAssertEqual(report.accounts.map(\.id).first, "PARENT", "sorted by score")

        // The formula itself: zero without mail, monotone in each side, low one-way, saturating.
        XCTAssertEqual(ClientsReport.score(inbound: 0, outbound: 0), 0)
        XCTAssertEqual(ClientsReport.score(inbound: 10, outbound: 0), 18)
        XCTAssertEqual(ClientsReport.score(inbound: 5, outbound: 5), 70)
        XCTAssertEqual(ClientsReport.score(inbound: 10, outbound: 10), 91)
        XCTAssertEqual(ClientsReport.score(inbound: 1000, outbound: 1000), 100)
        var previous = -1
        for n in 0...30 {
            let s = ClientsReport.score(inbound: Double(n), outbound: Double(n) / 2)
            XCTAssertGreaterThanOrEqual(s, previous)
            previous = s
        }
        XCTAssertLessThan(ClientsReport.score(inbound: 20, outbound: 0), ClientsReport.score(inbound: 3, outbound: 3))
        XCTAssertEqual(ClientsReport.weight(age: 90 * 86_400, halfLifeDays: 90), 0.5, accuracy: 1e-12)
        XCTAssertGreaterThan(ClientsReport.weight(age: 86_400, halfLifeDays: 90), ClientsReport.weight(age: 30 * 86_400, halfLifeDays: 90))
    }

    func testTrendPeriodsAtTheirBoundaries() throws {
        let report = try fixture.clients(period: "30d")
        XCTAssertEqual(report.periodStart, day("2024-06-01T00:00:00Z"))
        XCTAssertEqual(report.previousStart, day("2024-05-02T00:00:00Z"))
        let trend = Dictionary(uniqueKeysWithValues: report.accounts.map { ($0.id, $0.trend) })
        // p3 at exactly the period's start is current, p4 one second earlier is previous.
        XCTAssertEqual(trend["PARENT"], Trend(current: 5, previous: 1))
        XCTAssertEqual(trend["PARENT"]?.changePercent, 400)
        // o3 at exactly the previous period's start counts, o4 one second earlier does not.
        XCTAssertEqual(trend["ONEWAY"], Trend(current: 2, previous: 1))
        XCTAssertEqual(trend["QUIET"]?.text, "0 vs 0")
        XCTAssertEqual(Trend(current: 3, previous: 0).text, "3 vs 0 (+3, new)")
        XCTAssertEqual(Trend(current: 2, previous: 4).text, "2 vs 4 (-2, -50%)")

        // Calendar months and years: 6m before 2024-07-01 is 2024-01-01; 1y puts January 2023 in the previous year.
        let half = try fixture.clients(period: "6m")
        XCTAssertEqual(half.periodStart, day("2024-01-01T00:00:00Z"))
        XCTAssertEqual(half.accounts.first { $0.id == "PARENT" }?.trend, Trend(current: 6, previous: 0))
        let year = try fixture.clients(period: "1y")
        XCTAssertEqual(year.previousStart, day("2022-07-01T00:00:00Z"))
        XCTAssertEqual(year.accounts.first { $0.id == "OLDTWO" }?.trend, Trend(current: 0, previous: 7))
        XCTAssertEqual(try fixture.clients(period: "12w").periodStart, day("2024-04-08T00:00:00Z"))
    }

    func testPeriodAndReferenceTimeParsing() {
        XCTAssertEqual(ReportPeriod("90d"), ReportPeriod(count: 90, unit: .day))
        XCTAssertEqual(ReportPeriod("12w"), ReportPeriod(count: 12, unit: .week))
        XCTAssertEqual(ReportPeriod("6M"), ReportPeriod(count: 6, unit: .month))
        XCTAssertEqual(ReportPeriod("1y")?.description, "1y")
        for bad in ["", "d", "0d", "-3d", "5x", "3", "1.5m"] { XCTAssertNil(ReportPeriod(bad), bad) }
        XCTAssertEqual(ReportPeriod("6m")!.before(day("2024-08-31T00:00:00Z")), day("2024-02-29T00:00:00Z"))
        XCTAssertEqual(ReportTime.parse("2024-06-30"), day("2024-07-01T00:00:00Z"), "a day means its end")
        XCTAssertEqual(ReportTime.parse("2024-06-30T12:00:00Z"), day("2024-06-30T12:00:00Z"))
        XCTAssertNil(ReportTime.parse("30/06/2024"))
    }

    func testSubsidiariesRollUpEachMessageOnce() throws {
        let plain = try fixture.clients()
        let rolled = try fixture.clients(withSubsidiaries: true)
        let parent = try XCTUnwrap(rolled.accounts.first { $0.id == "PARENT" })
        // s1 and s2 are filed to both PARENT and SUB: counted once; s3 (SUB only) is added.
        XCTAssertEqual([parent.messages, parent.inbound, parent.outbound, parent.threads], [7, 4, 3, 4])
        XCTAssertEqual(parent.includes, ["SUB"])
        XCTAssertEqual(plain.accounts.first { $0.id == "PARENT" }?.includes, [])
        let sub = try XCTUnwrap(rolled.accounts.first { $0.id == "SUB" })
        XCTAssertEqual([sub.messages, sub.inbound, sub.outbound], [3, 2, 1], "a subsidiary keeps its own row")
        XCTAssertEqual(plain.accounts.first { $0.id == "SUB" }?.messages, 3)
        XCTAssertFalse(parent.client.first { $0.address == "sam@sub.example" }!.thirdParty, "rolled up, Sam is the client's")
    }

    func testTeamsOnBothSides() throws {
        let parent = try XCTUnwrap(try fixture.clients().accounts.first { $0.id == "PARENT" })
        XCTAssertEqual(parent.staff.map(\.address), ["alice@firm.example", "bob@firm.example"])
        XCTAssertEqual(parent.staff.map(\.messages), [6, 1])
        XCTAssertEqual(parent.staff.map(\.staffID), ["S-ALICE", "S-BOB"])
        XCTAssertEqual(parent.staff[1].last, day("2024-05-31T23:59:59Z"))
        XCTAssertEqual(parent.client.map(\.address), ["paula@parent.example", "sam@sub.example", "adv@lawyers.example"])
        XCTAssertEqual(parent.client.map(\.messages), [5, 2, 1])
        XCTAssertEqual(parent.client.map(\.contactID), ["C-PAULA", "C-SAM", nil])
        XCTAssertEqual(parent.client.map(\.thirdParty), [false, true, true], "the subsidiary's Sam and the adviser in Cc")
        XCTAssertEqual(parent.client[2].name, "Adviser")
        XCTAssertEqual(parent.client[0].last, day("2024-06-21T09:00:00Z"))
    }

    func testClientsCommandFormats() throws {
        let fixture = try self.fixture
        let table = try fixture.run(["report", "clients", "--as-of", ClientReportsFixture.asOf, "--period", "30d"])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.text.split(separator: "\n")
        XCTAssertTrue(lines.first?.hasPrefix("ACCOUNT") ?? false)
        XCTAssertTrue(lines[1].hasPrefix("PARENT "), table.text)
        XCTAssertTrue(table.text.contains("5 vs 1 (+4, +400%)"), table.text)

        let csv = try fixture.run(["report", "clients", "--as-of", ClientReportsFixture.asOf, "--format", "csv", "--sort", "name"])
        let rows = csv.text.split(separator: "\n")
        XCTAssertEqual(rows.count, 6)
        XCTAssertTrue(rows[0].hasPrefix("id,name,parent,includes,score,messages,inbound,outbound,threads,first,last"))
        XCTAssertEqual(rows.dropFirst().map { $0.split(separator: ",").first.map(String.init) }, ["OLDTWO", "ONEWAY", "PARENT", "QUIET", "SUB"])

        let jsonl = try fixture.run(["report", "clients", "--as-of", ClientReportsFixture.asOf, "--format", "jsonl", "--sort", "messages"])
        let objects = try jsonl.text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(objects.map { $0["id"] as? String }, ["OLDTWO", "PARENT", "ONEWAY", "SUB", "QUIET"])
        XCTAssertEqual(objects[1]["inbound"] as? Int, 3)

        let json = try fixture.run(["report", "clients", "--as-of", ClientReportsFixture.asOf, "--format", "json", "--with-subsidiaries"])
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout)) as! [String: Any]
        XCTAssertEqual(document["with_subsidiaries"] as? Bool, true)
        XCTAssertEqual(document["as_of"] as? String, "2024-07-01T00:00:00Z")

        for bad in [["--format", "xml"], ["--sort", "size"], ["--period", "3x"], ["--as-of", "yesterday"]] {
            let outcome = try fixture.run(["report", "clients"] + bad)
            XCTAssertEqual(outcome.status, 64, bad.joined(separator: " "))
        }
        let badFormat = try fixture.run(["report", "clients", "--format", "xml"])
        XCTAssertTrue(badFormat.stderr.contains("'table', 'csv', 'json', 'jsonl' or 'html'"), badFormat.stderr)
        let badSort = try fixture.run(["report", "clients", "--sort", "size"])
        XCTAssertTrue(badSort.stderr.contains("'score', 'messages', 'name' or 'last'"), badSort.stderr)
    }

    // MARK: discovered contacts

    func testDiscoveredContactsLeaveOutKnownInternalAndBlacklisted() throws {
        let report = try fixture.read { db, index in try DiscoveredContacts.load(db, index: index) }
        let all = report.groups.flatMap(\.candidates)
        XCTAssertEqual(all.map(\.address).sorted(), ["newguy@old.example", "stranger@gmail.com"])
        XCTAssertEqual(report.groups.map(\.title), ["Old Partners (OLDTWO)", "gmail.com"], "accounts first, then domains")

        let stranger = try XCTUnwrap(all.first { $0.address == "stranger@gmail.com" })
        XCTAssertEqual([stranger.messages, stranger.sent, stranger.received], [3, 2, 1])
        XCTAssertTrue(stranger.freemail)
        XCTAssertEqual(stranger.last, day("2024-06-05T09:00:00Z"))
        XCTAssertNil(stranger.suggestedAccount)
        XCTAssertEqual(stranger.filedTo, [], "unassigned mail")

        let newguy = try XCTUnwrap(all.first { $0.address == "newguy@old.example" })
        XCTAssertEqual(newguy.name, "New Guy")
        XCTAssertEqual(newguy.suggestedAccount, "OLDTWO")
        XCTAssertEqual(newguy.suggestedID, "C-NEWGUY")
        XCTAssertEqual(newguy.filedTo.map(\.text), ["account:OLDTWO (3)"])

        let loose = try fixture.read { db, index in try DiscoveredContacts.load(db, index: index, minMessages: 1) }
        let adviser = try XCTUnwrap(loose.groups.flatMap(\.candidates).first { $0.address == "adv@lawyers.example" })
        XCTAssertEqual([adviser.messages, adviser.sent, adviser.received], [1, 0, 0])
        XCTAssertEqual(adviser.suggestedAccount, "PARENT", "from where its mail was filed")
        XCTAssertEqual(adviser.filedTo.map(\.text), ["account:PARENT (1)", "contact:C-PAULA (1)"])
        let addresses = Set(loose.groups.flatMap(\.candidates).map(\.address))
        for known in ["paula@parent.example", "sam@sub.example", "ceo@old.example", "alice@firm.example", "bob@firm.example",
                      "lead@prospect.example", "one@oneway.example", "spy@spam.example"] {
            XCTAssertFalse(addresses.contains(known), known)
        }
    }

    func testDiscoveredContactsCSVLoadsAsContacts() throws {
        let fixture = try self.fixture
        let csv = try fixture.run(["report", "contacts", "--discovered", "--format", "csv", "--min-messages", "1"])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        var rows = csv.text.split(separator: "\n").map(String.init)
        let header = rows.removeFirst()
        XCTAssertEqual(header, "id,account_id,name,emails,excluded,account_name,domain,messages,sent,received,first,last,filed_to")
        XCTAssertEqual(rows.count, 3)
        XCTAssertTrue(rows.contains { $0.hasPrefix("C-STRANGER,,") }, "no account to propose: left for a person")
        // The rows with an account, added to the directory's own contacts, load as contacts ...
        let usable = rows.filter { !$0.hasPrefix("C-STRANGER") }
        XCTAssertEqual(usable.count, 2)
        let dir = try TemporaryDirectory()
        for file in ["accounts.csv", "leads.csv", "staff.csv", "rules.yaml"] {
            try dir.write("crm/\(file)", String(contentsOfFile: fixture.dir.sub("crm/\(file)"), encoding: .utf8))
        }
        let pad = String(repeating: ",", count: 8)
        try dir.write("crm/contacts.csv", ([header, "C-PAULA,PARENT,Paula Parent,paula@parent.example,no" + pad,
                                            "C-SAM,SUB,Sam Sub,sam@sub.example,no" + pad, "C-CEO,OLDTWO,Olga Old,ceo@old.example,no" + pad]
                                           + usable).joined(separator: "\n") + "\n")
        let loaded = try fixture.run(["crm", "load", dir.sub("crm")])
        XCTAssertEqual(loaded.status, 0, loaded.stderr + loaded.text)
        // ... and are then no longer candidates.
        let after = try fixture.run(["report", "contacts", "--discovered", "--format", "jsonl", "--min-messages", "1"])
        XCTAssertEqual(after.text.split(separator: "\n").count, 1, after.text)
        XCTAssertTrue(after.text.contains("stranger@gmail.com"))
        // Put the fixture's directory back for the other tests.
        let restored = try fixture.run(["crm", "load", fixture.dir.sub("crm")])
        XCTAssertEqual(restored.status, 0, restored.stderr)
    }

    func testContactsCommandNeedsDiscovered() throws {
        let outcome = try fixture.run(["report", "contacts"])
        XCTAssertEqual(outcome.status, 64)
        XCTAssertTrue(outcome.stderr.contains("report contacts needs --discovered: dossier report contacts --discovered [--min-messages N]"),
                      outcome.stderr)
        let table = try fixture.run(["report", "contacts", "--discovered"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.text.contains("2 candidates (at least 3 messages each)"), table.text)
        let zero = try fixture.run(["report", "contacts", "--discovered", "--min-messages", "0"])
        XCTAssertEqual(zero.status, 64)
    }

    // MARK: html

    /// Every html report of the fixture: one page, no script, no resource outside it, and the
    /// hostile name and subject shown only escaped.
    func testHTMLReportsAreSelfContainedAndEscaped() throws {
        let fixture = try self.fixture
        // The fixture's hostile values really reached the archive (else this test proves nothing).
        let stored = try fixture.read { db, _ in
            try Row.fetchOne(db, sql: "SELECT from_name, subject FROM message WHERE message_id = 'x1@gmail.com'")
        }
        XCTAssertEqual(stored?["from_name"] as String?, ClientReportsFixture.hostileName)
        XCTAssertEqual(stored?["subject"] as String?, ClientReportsFixture.hostileSubject)

        let pages: [(String, [String])] = [
            ("clients", ["report", "clients", "--as-of", ClientReportsFixture.asOf, "--format", "html"]),
            ("contacts", ["report", "contacts", "--discovered", "--min-messages", "1", "--format", "html"]),
            ("run", ["report", "run", "--format", "html"]),
            ("runs", ["report", "run", "--all", "--format", "html"]),
            ("unassigned", ["report", "unassigned", "--format", "html"]),
            ("excluded", ["report", "excluded", "--format", "html"]),
            ("assignments", ["report", "assignments", "--format", "html"]),
        ]
        for (name, arguments) in pages {
            let outcome = try fixture.run(arguments)
            XCTAssertEqual(outcome.status, 0, "\(name): \(outcome.stderr)")
            let html = outcome.text
            XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"), name)
            XCTAssertEqual(html.components(separatedBy: "<html").count, 2, "\(name): one page")
            Self.assertSelfContained(html, name)
        }
        let unassigned = try fixture.run(["report", "unassigned", "--format", "html"]).text
        XCTAssertTrue(unassigned.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;"), unassigned)
        XCTAssertTrue(unassigned.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; \\u{202E}evil&quot; onmouseover=&quot;x"))
        let contacts = try fixture.run(["report", "contacts", "--discovered", "--format", "html"]).text
        XCTAssertTrue(contacts.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "the name seen most often is the hostile one")
        let clients = try fixture.run(["report", "clients", "--as-of", ClientReportsFixture.asOf, "--format", "html"]).text
        XCTAssertEqual(clients.components(separatedBy: "<svg").count - 1, 5, "a chart per account")
        XCTAssertTrue(clients.contains("<title>2024-06: 3 in</title>"), "PARENT's June")
    }

    /// No script element or handler, no tag that loads something, every src/href a `#` anchor,
    /// no CSS url(), no raw bidi override.
    static func assertSelfContained(_ html: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNil(html.range(of: "<script", options: .caseInsensitive), "\(name): a script tag", file: file, line: line)
        XCTAssertNil(html.range(of: "url(", options: .caseInsensitive), "\(name): a CSS url()", file: file, line: line)
        XCTAssertFalse(html.unicodeScalars.contains { (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) },
                       "\(name): a raw bidi control", file: file, line: line)
        let tags = try! NSRegularExpression(pattern: "<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
        let attributes = try! NSRegularExpression(pattern: "([a-zA-Z-]+)\\s*=\\s*(\"[^\"]*\"|'[^']*'|[^\\s>]+)")
        let text = html as NSString
        for match in tags.matches(in: html, range: NSRange(location: 0, length: text.length)) {
            let tag = text.substring(with: match.range(at: 1)).lowercased()
            XCTAssertFalse(["script", "img", "iframe", "link", "object", "embed", "base", "form", "video", "audio", "image", "use"].contains(tag),
                           "\(name): <\(tag)>", file: file, line: line)
            let body = text.substring(with: match.range(at: 2))
            for attribute in attributes.matches(in: body, range: NSRange(location: 0, length: (body as NSString).length)) {
                let key = (body as NSString).substring(with: attribute.range(at: 1)).lowercased()
                var value = (body as NSString).substring(with: attribute.range(at: 2))
                if value.hasPrefix("\"") || value.hasPrefix("'") { value = String(value.dropFirst().dropLast()) }
                XCTAssertFalse(key.hasPrefix("on"), "\(name): handler \(key) on <\(tag)>", file: file, line: line)
                if ["src", "href", "xlink:href", "action", "srcset", "poster", "data"].contains(key) {
                    XCTAssertTrue(value.hasPrefix("#"), "\(name): \(key)=\(value)", file: file, line: line)
                }
            }
        }
    }

    func testExistingFormatsKeepTheirOutput() throws {
        let fixture = try self.fixture
        // assignments: jsonl is still the default and the library's contract lines, one per line.
        let plain = try fixture.run(["report", "assignments"])
        let jsonl = try fixture.run(["report", "assignments", "--format", "jsonl"])
        XCTAssertEqual(plain.stdout, jsonl.stdout)
        let expected = try fixture.read { db, _ -> String in
            var text = ""
            try AssignmentsReport.write(db) { text += $0.json + "\n" }
            return text
        }
        XCTAssertEqual(plain.text, expected)
        let csv = try fixture.run(["report", "assignments", "--format", "csv"])
        XCTAssertEqual(csv.text.split(separator: "\n").count, expected.split(separator: "\n").count + 1)
        // run: --json and --format json are the same bytes; jsonl is one line.
        XCTAssertEqual(try fixture.run(["report", "run", "--json"]).stdout, try fixture.run(["report", "run", "--format", "json"]).stdout)
        XCTAssertEqual(try fixture.run(["report", "run", "--format", "jsonl"]).text.split(separator: "\n").count, 1)
        XCTAssertEqual(try fixture.run(["report", "run", "--json", "--format", "csv"]).status, 64)
        // unassigned and excluded: jsonl has one object per json array element.
        for report in ["unassigned", "excluded"] {
            let array = try JSONSerialization.jsonObject(with: Data(try fixture.run(["report", report, "--format", "json"]).stdout)) as! [Any]
            let lines = try fixture.run(["report", report, "--format", "jsonl"]).text.split(separator: "\n")
            XCTAssertEqual(lines.count, array.count, report)
            XCTAssertGreaterThan(lines.count, 0, report)
        }
        let bad = try fixture.run(["report", "excluded", "--format", "pdf"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("'table', 'csv', 'json', 'jsonl' or 'html'"), bad.stderr)
    }
}

/// The shared HTML pieces on their own.
final class HTMLPageTests: XCTestCase {
    func testEscaping() {
        XCTAssertEqual(HTML.text("<a href=\"x\">Tom & Jerry's</a>"), "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
        XCTAssertEqual(HTML.text("abc\u{202E}fed\u{2066}x\u{1B}[31m"), "abc\\u{202E}fed\\u{2066}x\\u{1B}[31m")
        XCTAssertEqual(HTML.attribute("\" onload=\"x"), "&quot; onload=&quot;x")
        XCTAssertEqual(HTML.text("Müller 王伟 עברית"), "Müller 王伟 עברית")
        XCTAssertEqual(HTML.anchor("ACME UK/1\""), "r-ACME_UK_1_")
    }

    func testTableAndPage() {
        let table = HTMLTable([.init("Name"), .init("Count", numeric: true)], caption: "<b>")
        let html = table.render([[HTMLCell("<i>x</i>"), HTMLCell(12345)], [HTMLCell(""), .raw("<em>ok</em>")]])
        XCTAssertTrue(html.contains("<caption>&lt;b&gt;</caption>"))
        XCTAssertTrue(html.contains("<td>&lt;i&gt;x&lt;/i&gt;</td><td class=\"num\">12,345</td>"))
        XCTAssertTrue(html.contains("<td>-</td><td class=\"num\"><em>ok</em></td>"))
        XCTAssertTrue(table.render([], empty: "Nothing.").contains("<td class=\"empty\" colspan=\"2\">Nothing.</td>"))

        var page = HTMLPage(title: "T <1>", subtitle: "s&s")
        page.heading("H", id: "r-x")
        page.facts([("a", "<b>")])
        let text = page.render()
        XCTAssertTrue(text.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(text.contains("<title>T &lt;1&gt;</title>"))
        XCTAssertTrue(text.contains("default-src 'none'"))
        XCTAssertTrue(text.contains("@media print"))
        XCTAssertTrue(text.contains("<dt>a</dt><dd>&lt;b&gt;</dd>"))
        ClientReportsTests.assertSelfContained(text, "page")
    }

    func testMonthlyChart() {
        let months = MonthlyChart.empty(monthsEndingAt: ISO8601DateFormatter().date(from: "2024-02-10T00:00:00Z")!, count: 4)
        XCTAssertEqual(months.map(\.label), ["2023-11", "2023-12", "2024-01", "2024-02"])
        var chart = MonthlyChart(months: months)
        chart.months[3].inbound = 7
        chart.months[3].outbound = 2
        let svg = chart.svg(title: "Acme <Corp>")
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("<title>Acme &lt;Corp&gt;</title>"))
        XCTAssertEqual(svg.components(separatedBy: "<rect").count - 1, 8 + 2, "two bars a month and the legend's two swatches")
        XCTAssertTrue(svg.contains("<title>2024-02: 7 in</title>"))
        XCTAssertTrue(svg.contains("<title>2023-11: 0 out</title>"))
        XCTAssertTrue(svg.contains(">10</text>"), "the axis maximum rounds 7 up to 10")
        XCTAssertTrue(svg.contains(">2024</text>") && svg.contains(">2023</text>") && svg.contains(">Jan</text>"))
        XCTAssertFalse(svg.contains("http"))
        XCTAssertEqual([0, 1, 3, 7, 10, 11, 49, 51].map(MonthlyChart.niceCeiling), [1, 1, 5, 10, 10, 20, 50, 100])
    }
}
