import Foundation

/// The firm's CRM as loaded by `dossier crm load DIR` (contract: shared/spec/crm-directory.md):
/// who the clients are, their people, prospects, matters and the firm's own staff, plus the
/// filing rules. Plain values, checked whole by `CRMDirectoryLoader`: every id referenced exists,
/// ids are unique per kind, parents have no cycles, addresses and domains are lowercased.
/// Lookups go through `CRMIndex`, built once from a directory.
public struct CRMDirectory: Sendable, Equatable, Codable {
    public var accounts: [Account]
    public var contacts: [Contact]
    public var leads: [Lead]
    public var cases: [Case]
    public var staff: [StaffMember]
    public var rules: CRMRules

    public init(accounts: [Account] = [], contacts: [Contact] = [], leads: [Lead] = [], cases: [Case] = [],
                staff: [StaffMember] = [], rules: CRMRules = CRMRules()) {
        self.accounts = accounts
        self.contacts = contacts
        self.leads = leads
        self.cases = cases
        self.staff = staff
        self.rules = rules
    }
}

extension CRMDirectory {
    /// The directory in force when none was ever loaded: no records (everything external is
    /// unassigned), and noise kept, flagged, rather than counted only. rules.yaml's default for
    /// `noise.store` is false, but with no rules.yaml at all the archive is a plain mail archive,
    /// and dropping mail nobody asked to drop would be a loss.
    public static let none: CRMDirectory = {
        var directory = CRMDirectory()
        directory.rules.noise.store = true
        return directory
    }()
}

/// A client company or person (accounts.csv).
public struct Account: Sendable, Equatable, Hashable, Codable {
    public var id: String
    public var name: String
    /// The account's own mail domains, lowercased; a subdomain of one matches too.
    public var domains: [String]
    /// The account's main address (lowercased), matched like a contact's.
    public var mainEmail: String?
    /// Makes this account a subsidiary of another. Mail files to the subsidiary, not its parent.
    public var parentID: String?

    public init(id: String, name: String, domains: [String] = [], mainEmail: String? = nil, parentID: String? = nil) {
        self.id = id
        self.name = name
        self.domains = domains
        self.mainEmail = mainEmail
        self.parentID = parentID
    }
}

/// A person at an account (contacts.csv).
public struct Contact: Sendable, Equatable, Hashable, Codable {
    public var id: String
    public var accountID: String
    public var name: String?
    /// At least one, lowercased.
    public var emails: [String]
    /// "Exclude this contact from email synchronization": mail with any of these addresses among
    /// its participants is excluded (reason `excluded_contact`).
    public var excluded: Bool

    public init(id: String, accountID: String, name: String? = nil, emails: [String], excluded: Bool = false) {
        self.id = id
        self.accountID = accountID
        self.name = name
        self.emails = emails
        self.excluded = excluded
    }
}

/// A prospect that is not an account yet (leads.csv).
public struct Lead: Sendable, Equatable, Hashable, Codable {
    public var id: String
    public var company: String?
    public var name: String?
    /// The lead's own address, lowercased.
    public var email: String?
    /// Further addresses of people at the lead, lowercased.
    public var contactEmails: [String]

    public init(id: String, company: String? = nil, name: String? = nil, email: String? = nil, contactEmails: [String] = []) {
        self.id = id
        self.company = company
        self.name = name
        self.email = email
        self.contactEmails = contactEmails
    }
}

/// A case, matter or project of an account (cases.csv).
public struct Case: Sendable, Equatable, Hashable, Codable {
    public var id: String
    public var accountID: String
    /// What appears in subject tags (e.g. `CASE-10234`); matched case-insensitively.
    public var code: String?
    public var title: String?

    public init(id: String, accountID: String, code: String? = nil, title: String? = nil) {
        self.id = id
        self.accountID = accountID
        self.code = code
        self.title = title
    }
}

/// A user of the firm (staff.csv). Their address is internal.
public struct StaffMember: Sendable, Equatable, Hashable, Codable {
    public var id: String
    public var name: String?
    /// Lowercased.
    public var email: String
    /// The mailbox names this user's exports are imported as (`import --mailbox`, or the name
    /// Dossier derives). A shared mailbox may be listed for several users.
    public var mailboxes: [String]
    /// The user's security group, one of `CRMRules.groups`.
    public var group: String?

    public init(id: String, name: String? = nil, email: String, mailboxes: [String] = [], group: String? = nil) {
        self.id = id
        self.name = name
        self.email = email
        self.mailboxes = mailboxes
        self.group = group
    }
}

/// The kinds of record a subject tag or tracking code can name.
public enum CRMRecordKind: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
    case account, contact, lead, `case`

    /// Accounts, contacts, leads, cases: the order records are listed in. (A switch, not a
    /// dictionary: record lists are sorted for every message an import files.)
    var sortOrder: Int {
        switch self {
        case .account: return 0
        case .contact: return 1
        case .lead: return 2
        case .case: return 3
        }
    }
}

/// One record of the directory, by kind and id: what a message is filed to.
public struct CRMRecordRef: Sendable, Equatable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var kind: CRMRecordKind
    public var id: String

    public init(_ kind: CRMRecordKind, _ id: String) {
        self.kind = kind
        self.id = id
    }

    /// `account:ID`, the spelling `dossier assign` takes.
    public var description: String { "\(kind.rawValue):\(id)" }

    public static func < (lhs: CRMRecordRef, rhs: CRMRecordRef) -> Bool {
        if lhs.kind != rhs.kind { return lhs.kind.sortOrder < rhs.kind.sortOrder }
        return lhs.id < rhs.id
    }
}
