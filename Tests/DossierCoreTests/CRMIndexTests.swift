@testable import DossierCore
import Foundation
import XCTest

/// The lookups the filing stage makes: addresses, domains (subdomains, free-mail), internal,
/// blacklist, excluded contacts, tags, plus-addressing and accessible groups.
final class CRMIndexTests: XCTestCase {
    private func directory(rules: (inout CRMRules) -> Void = { _ in }) -> CRMDirectory {
        var crmRules = CRMRules()
        crmRules.internalDomains = ["firm.example"]
        crmRules.freemailDomains = ["freemail.example"]
        crmRules.blacklist = .init(domains: ["competitor.example"], addresses: ["spy@partner.example"])
        crmRules.groups = ["Public", "Staff", "Direction"]
        rules(&crmRules)
        return CRMDirectory(
            accounts: [
                Account(id: "ACME", name: "Acme", domains: ["acme.example"], mainEmail: "info@acme.example"),
                Account(id: "ACME-EU", name: "Acme Europe", domains: ["eu.acme.example"], parentID: "ACME"),
                Account(id: "PRIYA", name: "Priya Patel", mainEmail: "priya@freemail.example"),
                Account(id: "HOLD", name: "Acme Holding", domains: ["acme.example"]),
                Account(id: "GMAIL", name: "Misfiled", domains: ["gmail.com"]),
            ],
            contacts: [
                Contact(id: "C1", accountID: "ACME", name: "John", emails: ["john@acme.example", "office@acme.example"]),
                Contact(id: "C2", accountID: "ACME-EU", name: "Emily", emails: ["office@acme.example"]),
                Contact(id: "C3", accountID: "ACME", name: "Private", emails: ["john.private@gmail.com"], excluded: true),
                Contact(id: "C4", accountID: "ACME", name: "Tagged", emails: ["sales+crm@acme.example"]),
            ],
            leads: [Lead(id: "L1", company: "Prospect", email: "ceo@prospect.example", contactEmails: ["hr@prospect.example"])],
            cases: [Case(id: "K1", accountID: "ACME", code: "CASE-10417", title: "Invoice"),
                    Case(id: "GLX-2291", accountID: "ACME-EU", code: "CASE-1")],
            staff: [
                StaffMember(id: "S1", email: "alice@firm.example", mailboxes: ["alice"], group: "Direction"),
                StaffMember(id: "S2", email: "bob@firm.example", mailboxes: ["bob", "shared"], group: "Staff"),
                StaffMember(id: "S3", email: "carla@outside.example", mailboxes: ["carla", "Shared"], group: "Public"),
                StaffMember(id: "S4", email: "dmitri@firm.example", mailboxes: ["dmitri"]),
            ],
            rules: crmRules)
    }

    func testAddressLookupsIgnoreCaseAndSpaces() {
        let index = CRMIndex(directory())
        XCTAssertEqual(index.contacts(forAddress: " John@ACME.example ").map(\.id), ["C1"])
        XCTAssertEqual(index.contacts(forAddress: "office@acme.example").map(\.id), ["C1", "C2"], "a shared address files to both")
        XCTAssertEqual(index.accounts(forMainEmail: "INFO@acme.example").map(\.id), ["ACME"])
        XCTAssertEqual(index.leads(forAddress: "hr@prospect.example").map(\.id), ["L1"])
        XCTAssertEqual(index.leads(forAddress: "ceo@prospect.example").map(\.id), ["L1"])
        XCTAssertEqual(index.contacts(forAddress: "nobody@acme.example"), [])
    }

    func testSubdomainsMatchTheMostSpecificAccountDomain() {
        let index = CRMIndex(directory())
        XCTAssertEqual(index.accounts(forDomain: "acme.example").map(\.id), ["ACME", "HOLD"])
        XCTAssertEqual(index.accounts(forDomain: "mail.acme.example").map(\.id), ["ACME", "HOLD"])
        XCTAssertEqual(index.accounts(forDomain: "eu.acme.example").map(\.id), ["ACME-EU"], "the subsidiary, not its parent")
        XCTAssertEqual(index.accounts(forDomain: "a.b.eu.acme.example").map(\.id), ["ACME-EU"])
        XCTAssertEqual(index.accounts(forDomainOf: "Someone@Sales.EU.Acme.example").map(\.id), ["ACME-EU"])
        XCTAssertEqual(index.accounts(forDomain: "notacme.example"), [], "a suffix must be a whole label")
        XCTAssertEqual(index.accounts(forDomain: "example"), [])
    }

    func testFreemailDomainsNeverMatchByDomain() {
        let index = CRMIndex(directory())
        XCTAssertEqual(index.accounts(forDomain: "gmail.com"), [], "listed on an account, but free-mail")
        XCTAssertTrue(index.isFreemail("gmail.com"))
        XCTAssertTrue(index.isFreemail("freemail.example"), "rules.yaml freemail_domains")
        XCTAssertTrue(index.isFreemail("yahoo.co.uk"))
        XCTAssertTrue(index.isFreemail("GMX.de"))
        XCTAssertTrue(index.isFreemail("mail.yahoo.com"), "subdomains too")
        XCTAssertTrue(index.isFreemail("hotmail.fr"))
        XCTAssertFalse(index.isFreemail("acme.example"))
        XCTAssertTrue(index.isFreemail("yahoo.com.br"))
        XCTAssertFalse(index.isFreemail("yahoo.acme.example"), "a brand label in a client domain is not free-mail")
        XCTAssertFalse(index.isFreemail("gmx.example"))
        XCTAssertGreaterThanOrEqual(FreemailDomains.builtIn.count, 60)
        XCTAssertEqual(index.accounts(forMainEmail: "priya@freemail.example").map(\.id), ["PRIYA"], "addresses still match")
    }

    func testInternalAddresses() {
        let index = CRMIndex(directory())
        XCTAssertTrue(index.isInternal("Alice@Firm.example"))
        XCTAssertTrue(index.isInternal("MAILER-DAEMON@mx1.firm.example"), "subdomains of internal domains")
        XCTAssertTrue(index.isInternal("carla@outside.example"), "every staff address is internal")
        XCTAssertFalse(index.isInternal("john@acme.example"))
        XCTAssertFalse(index.isInternal("x@notfirm.example"))
        XCTAssertEqual(index.accounts(forDomain: "firm.example"), [])
        XCTAssertEqual(index.staff(forAddress: "BOB@firm.example")?.id, "S2")
    }

    func testBlacklistIncludesSubdomains() {
        let index = CRMIndex(directory())
        XCTAssertTrue(index.isBlacklisted("ceo@competitor.example"))
        XCTAssertTrue(index.isBlacklisted("news@mail.competitor.example"))
        XCTAssertTrue(index.isBlacklisted("SPY@partner.example"))
        XCTAssertFalse(index.isBlacklisted("friend@partner.example"))
        XCTAssertFalse(index.isBlacklisted("x@notcompetitor.example"))
    }

    func testExcludedContacts() {
        let index = CRMIndex(directory())
        XCTAssertEqual(index.excludedContactAddresses, ["john.private@gmail.com"])
        XCTAssertTrue(index.isExcludedContact("John.Private@gmail.com"))
        XCTAssertFalse(index.isExcludedContact("john@acme.example"))
    }

    func testPlusAddressingIsOffByDefault() {
        let index = CRMIndex(directory())
        XCTAssertEqual(index.contacts(forAddress: "john+invoices@acme.example"), [])
        XCTAssertEqual(index.contacts(forAddress: "sales@acme.example"), [])
        XCTAssertEqual(index.contacts(forAddress: "sales+crm@acme.example").map(\.id), ["C4"])
        XCTAssertNil(index.staff(forAddress: "alice+x@firm.example"))
        XCTAssertFalse(index.isExcludedContact("john.private+x@gmail.com"))
    }

    func testPlusAddressingOn() {
        let index = CRMIndex(directory { $0.plusAddressing = true })
        XCTAssertEqual(index.contacts(forAddress: "John+Invoices@acme.example").map(\.id), ["C1"])
        XCTAssertEqual(index.contacts(forAddress: "sales@acme.example").map(\.id), ["C4"], "the directory's own tag is stripped too")
        XCTAssertEqual(index.contacts(forAddress: "sales+other@acme.example").map(\.id), ["C4"])
        XCTAssertEqual(index.staff(forAddress: "alice+x@firm.example")?.id, "S1")
        XCTAssertTrue(index.isExcludedContact("john.private+x@gmail.com"))
        XCTAssertTrue(index.isBlacklisted("spy+1@partner.example"))
        XCTAssertEqual(index.key("+x@acme.example"), "+x@acme.example", "a local part that is only a tag is left alone")
    }

    func testRecordsByIdAndCaseCode() {
        let index = CRMIndex(directory())
        XCTAssertEqual(index.cases(named: "case-10417").map(\.id), ["K1"], "codes ignore case")
        XCTAssertEqual(index.cases(named: "GLX-2291").map(\.id), ["GLX-2291"], "a case is named by id too")
        XCTAssertEqual(index.cases(named: "glx-2291").map(\.id), ["GLX-2291"])
        XCTAssertEqual(index.cases(named: "CASE-404"), [])
        XCTAssertEqual(index.records(named: "CASE-1", kind: .case), [CRMRecordRef(.case, "GLX-2291")])
        XCTAssertEqual(index.records(named: "acme-eu", kind: .account), [CRMRecordRef(.account, "ACME-EU")])
        XCTAssertEqual(index.records(named: "C2", kind: .contact), [CRMRecordRef(.contact, "C2")])
        XCTAssertEqual(index.records(named: "L1", kind: .lead), [CRMRecordRef(.lead, "L1")])
        XCTAssertEqual(index.records(named: "L1", kind: .account), [])
        let item = index.case(id: "GLX-2291")!
        XCTAssertEqual(index.account(forCase: item)?.id, "ACME-EU")
        XCTAssertEqual(index.account(forContact: index.contact(id: "C2")!)?.id, "ACME-EU")
        XCTAssertEqual(index.account(id: "ACME-EU")?.parentID, "ACME")
        XCTAssertEqual(index.lead(id: "L1")?.company, "Prospect")
    }

    func testPatternsCaptureGroupOne() throws {
        var rules = CRMRules()
        rules.subjectTags = [CRMPattern(pattern: "\\[(CASE-[0-9]+)\\]", kind: .case)]
        rules.trackingCodes = [CRMPattern(pattern: "ref:([A-Z0-9-]+):ref", kind: .case)]
        let index = CRMIndex(CRMDirectory(rules: rules))
        XCTAssertEqual(index.subjectTags.first?.captures(in: "Re: [CASE-10417] [case-1] Invoice [CASE-10417] [CASE-7]"), ["CASE-10417", "CASE-7"])
        XCTAssertEqual(index.trackingCodes.first?.captures(in: "> Kind regards\n> ref:GLX-2291:ref\n"), ["GLX-2291"])
        XCTAssertEqual(index.trackingCodes.first?.kind, .case)
        XCTAssertEqual(index.subjectTags.first?.captures(in: "nothing here"), [])
    }

    func testAccessibleGroups() {
        let index = CRMIndex(directory())
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["alice"]), ["Direction"])
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["bob"]), ["Staff", "Direction"])
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["alice", "bob"]), ["Staff", "Direction"], "the lowest-ranked holder decides")
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["SHARED"]), ["Public", "Staff", "Direction"], "a shared mailbox: its lowest user")
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["drop"]), ["Direction"], "a mailbox no user lists: highest only")
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["dmitri"]), ["Direction"], "its only user has no group")
        XCTAssertEqual(index.accessibleGroups(forMailboxes: ["drop", "bob"]), ["Staff", "Direction"])
        XCTAssertEqual(index.accessibleGroups(forMailboxes: []), ["Direction"])
        XCTAssertEqual(index.staff(forMailbox: "Shared").map(\.id), ["S2", "S3"])
        XCTAssertEqual(CRMIndex(directory { $0.groups = [] }).accessibleGroups(forMailboxes: ["bob"]), [], "no groups: no access control")
    }

    func testALoadedDirectoryIndexesSharedAddresses() throws {
        let dir = try TemporaryDirectory()
        try dir.write("crm/accounts.csv", "id,name\nA1,Acme\nA2,Globex\n")
        try dir.write("crm/contacts.csv", "id,account_id,emails\nC1,A1,office@shared.example\nC2,A2,OFFICE@shared.example\n")
        let (directory, warnings) = try CRMDirectoryLoader.load(from: URL(fileURLWithPath: dir.sub("crm")))
        XCTAssertEqual(warnings.count, 1)
        XCTAssertEqual(CRMIndex(directory).contacts(forAddress: "Office@Shared.example").map(\.id), ["C1", "C2"])
    }

    func testIndexBuildsQuicklyForALargeDirectory() {
        let contacts = (0..<100_000).map { Contact(id: "C\($0)", accountID: "A\($0 % 1000)", emails: ["p\($0)@client\($0 % 1000).example"]) }
        let accounts = (0..<1000).map { Account(id: "A\($0)", name: "Client \($0)", domains: ["client\($0).example"]) }
        let start = Date()
        let index = CRMIndex(CRMDirectory(accounts: accounts, contacts: contacts))
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(index.contacts(forAddress: "p99999@client999.example").map(\.id), ["C99999"])
        XCTAssertEqual(index.accounts(forDomainOf: "x@mail.client7.example").map(\.id), ["A7"])
        XCTAssertLessThan(elapsed, 10, "a debug build; release is many times faster")
    }
}
