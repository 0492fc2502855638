import Foundation

/// The lookups the filing stage makes for every participant of every message, precomputed once
/// from a `CRMDirectory`: hash lookups by address, by domain (most specific first), by id, by case
/// code, by mailbox. Immutable and `Sendable`, so the import's worker threads share one.
///
/// Addresses are compared trimmed and lowercased, and a display name never reaches here (callers
/// pass the bare address). Plus-addressing (`a+tag@x`) is a different address unless rules.yaml
/// says `plus_addressing: true`, which then strips the tag on both sides.
/// Results are in the directory's file order, so filing is deterministic.
public struct CRMIndex: Sendable {
    public let directory: CRMDirectory
    public var rules: CRMRules { directory.rules }

    private let contactsByAddress: [String: [Int]]
    private let accountsByMainEmail: [String: [Int]]
    private let leadsByAddress: [String: [Int]]
    private let accountsByDomain: [String: [Int]]
    private let accountsByID: [String: Int]
    private let contactsByID: [String: Int]
    private let leadsByID: [String: Int]
    private let casesByID: [String: Int]
    private let casesByCode: [String: [Int]]
    private let lowercasedIDs: [CRMRecordKind: [String: [String]]]
    private let staffByAddress: [String: Int]
    private let staffByMailbox: [String: [Int]]
    private let staffAddresses: Set<String>
    private let internalDomains: Set<String>
    private let blacklistDomains: Set<String>
    private let blacklistAddresses: Set<String>
    private let freemail: FreemailDomains

    /// Every address of a contact marked `excluded` (as `key(_:)` spells it): mail with one of
    /// them among its participants is excluded (reason `excluded_contact`).
    public let excludedContactAddresses: Set<String>
    /// rules.yaml `subject_tags`, compiled.
    public let subjectTags: [CRMCompiledPattern]
    /// rules.yaml `tracking_codes`, compiled.
    public let trackingCodes: [CRMCompiledPattern]

    public init(_ directory: CRMDirectory) {
        self.directory = directory
        let rules = directory.rules
        let key: (String) -> String = { Self.key($0, plusAddressing: rules.plusAddressing) }

        func group(_ pairs: [(String, Int)]) -> [String: [Int]] {
            var result: [String: [Int]] = [:]
            for (name, index) in pairs where result[name]?.last != index { result[name, default: []].append(index) }
            return result
        }
        func unique(_ ids: [String]) -> [String: Int] {
            Dictionary(ids.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        }

        contactsByAddress = group(directory.contacts.enumerated().flatMap { index, contact in contact.emails.map { (key($0), index) } })
        accountsByMainEmail = group(directory.accounts.enumerated().compactMap { index, account in account.mainEmail.map { (key($0), index) } })
        leadsByAddress = group(directory.leads.enumerated().flatMap { index, lead in
            ((lead.email.map { [$0] } ?? []) + lead.contactEmails).map { (key($0), index) }
        })
        accountsByDomain = group(directory.accounts.enumerated().flatMap { index, account in account.domains.map { ($0, index) } })
        accountsByID = unique(directory.accounts.map(\.id))
        contactsByID = unique(directory.contacts.map(\.id))
        leadsByID = unique(directory.leads.map(\.id))
        casesByID = unique(directory.cases.map(\.id))
        casesByCode = group(directory.cases.enumerated().compactMap { index, item in item.code.map { ($0.lowercased(), index) } })
        func lowered(_ ids: [String]) -> [String: [String]] { Dictionary(grouping: ids, by: { $0.lowercased() }) }
        lowercasedIDs = [.account: lowered(directory.accounts.map(\.id)), .contact: lowered(directory.contacts.map(\.id)),
                         .lead: lowered(directory.leads.map(\.id)), .case: lowered(directory.cases.map(\.id))]
        staffByAddress = Dictionary(directory.staff.enumerated().map { (key($0.element.email), $0.offset) }, uniquingKeysWith: { first, _ in first })
        staffByMailbox = group(directory.staff.enumerated().flatMap { index, member in member.mailboxes.map { ($0.lowercased(), index) } })
        staffAddresses = Set(staffByAddress.keys)
        internalDomains = Set(rules.internalDomains)
        blacklistDomains = Set(rules.blacklist.domains)
        blacklistAddresses = Set(rules.blacklist.addresses.map(key))
        freemail = FreemailDomains(extra: rules.freemailDomains)
        excludedContactAddresses = Set(directory.contacts.filter(\.excluded).flatMap(\.emails).map(key))
        // The loader checked that every pattern compiles; one that somehow does not is left out
        // rather than stopping an import.
        subjectTags = rules.subjectTags.compactMap(CRMCompiledPattern.init)
        trackingCodes = rules.trackingCodes.compactMap(CRMCompiledPattern.init)
    }

    // MARK: Addresses

    /// The form an address is compared in: trimmed, lowercased, and without a `+tag` when
    /// rules.yaml enables plus-addressing.
    public func key(_ address: String) -> String { Self.key(address, plusAddressing: rules.plusAddressing) }

    static func key(_ address: String, plusAddressing: Bool) -> String {
        let normalized = CRMAddress.normalized(address)
        return plusAddressing ? CRMAddress.withoutPlusTag(normalized) : normalized
    }

    /// Contacts with `address` among their emails (several when contacts share an address).
    public func contacts(forAddress address: String) -> [Contact] {
        (contactsByAddress[key(address)] ?? []).map { directory.contacts[$0] }
    }

    /// Accounts whose main_email is `address`.
    public func accounts(forMainEmail address: String) -> [Account] {
        (accountsByMainEmail[key(address)] ?? []).map { directory.accounts[$0] }
    }

    /// Leads whose email or one of whose contact_emails is `address`.
    public func leads(forAddress address: String) -> [Lead] {
        (leadsByAddress[key(address)] ?? []).map { directory.leads[$0] }
    }

    /// Accounts that own `domain` (lowercased) or, failing that, its nearest parent domain: for
    /// `a.b.firm.example` an account of `b.firm.example` wins over one of `firm.example`. Empty for
    /// free-mail and internal domains, which never file by domain.
    public func accounts(forDomain domain: String) -> [Account] {
        let domain = CRMAddress.normalizedDomain(domain)
        guard !domain.isEmpty, !isFreemail(domain), !isInternalDomain(domain) else { return [] }
        for suffix in CRMAddress.suffixes(of: Substring(domain)) {
            if let found = accountsByDomain[String(suffix)] { return found.map { directory.accounts[$0] } }
        }
        return []
    }

    /// `accounts(forDomain:)` of the address's domain.
    public func accounts(forDomainOf address: String) -> [Account] {
        guard let domain = CRMAddress.domain(of: key(address)) else { return [] }
        return accounts(forDomain: String(domain))
    }

    /// A free-mail domain (built-in list plus rules.yaml `freemail_domains`), subdomains included.
    public func isFreemail(_ domain: String) -> Bool { freemail.contains(CRMAddress.normalizedDomain(domain)) }

    /// The firm's own: a staff address, or an address in an internal domain or its subdomains.
    public func isInternal(_ address: String) -> Bool {
        let address = key(address)
        if staffAddresses.contains(address) { return true }
        guard let domain = CRMAddress.domain(of: address) else { return false }
        return isInternalDomain(String(domain))
    }

    /// `domain` or a parent of it is one of rules.yaml's `internal_domains`.
    public func isInternalDomain(_ domain: String) -> Bool {
        CRMAddress.suffixes(of: Substring(CRMAddress.normalizedDomain(domain))).contains { internalDomains.contains(String($0)) }
    }

    /// rules.yaml's blacklist names the address, its domain or a parent domain of it.
    public func isBlacklisted(_ address: String) -> Bool {
        let address = key(address)
        if blacklistAddresses.contains(address) { return true }
        guard let domain = CRMAddress.domain(of: address) else { return false }
        return CRMAddress.suffixes(of: domain).contains { blacklistDomains.contains(String($0)) }
    }

    /// `address` belongs to a contact marked excluded.
    public func isExcludedContact(_ address: String) -> Bool { excludedContactAddresses.contains(key(address)) }

    // MARK: Records by id

    public func account(id: String) -> Account? { accountsByID[id].map { directory.accounts[$0] } }
    public func contact(id: String) -> Contact? { contactsByID[id].map { directory.contacts[$0] } }
    public func lead(id: String) -> Lead? { leadsByID[id].map { directory.leads[$0] } }
    public func `case`(id: String) -> Case? { casesByID[id].map { directory.cases[$0] } }

    /// The account a case belongs to (a case also files to its account).
    public func account(forCase item: Case) -> Account? { account(id: item.accountID) }

    /// The account a contact belongs to (a contact also files to its account).
    public func account(forContact contact: Contact) -> Account? { account(id: contact.accountID) }

    /// Cases whose id is `name`, or whose code is `name` in any case.
    public func cases(named name: String) -> [Case] {
        var found = Set<Int>()
        if let index = casesByID[name] { found.insert(index) }
        for index in casesByCode[name.lowercased()] ?? [] { found.insert(index) }
        if found.isEmpty, let ids = lowercasedIDs[.case]?[name.lowercased()] {
            for id in ids { if let index = casesByID[id] { found.insert(index) } }
        }
        return found.sorted().map { directory.cases[$0] }
    }

    /// The records a subject tag or tracking code names: by id (exactly, else ignoring case, since
    /// people retype ids in subjects) and, for cases, by code.
    public func records(named name: String, kind: CRMRecordKind) -> [CRMRecordRef] {
        let name = name.trimmingCharacters(in: .whitespaces)
        if kind == .case { return cases(named: name).map { CRMRecordRef(.case, $0.id) } }
        let exact: Bool
        switch kind {
        case .account: exact = accountsByID[name] != nil
        case .contact: exact = contactsByID[name] != nil
        case .lead: exact = leadsByID[name] != nil
        case .case: exact = false
        }
        if exact { return [CRMRecordRef(kind, name)] }
        return (lowercasedIDs[kind]?[name.lowercased()] ?? []).map { CRMRecordRef(kind, $0) }
    }

    // MARK: Staff and access

    /// The staff member with this address.
    public func staff(forAddress address: String) -> StaffMember? { staffByAddress[key(address)].map { directory.staff[$0] } }

    /// The users who list `mailbox` (compared ignoring case); several for a shared mailbox.
    public func staff(forMailbox mailbox: String) -> [StaffMember] {
        (staffByMailbox[mailbox.lowercased()] ?? []).map { directory.staff[$0] }
    }

    /// The groups a message held in `mailboxes` is accessible to, lowest rank first: the
    /// lowest-ranked group among the users whose mailboxes hold it, and every group ranked above.
    /// A mailbox no user (with a group) lists counts as the highest-ranked group only. Empty when
    /// rules.yaml lists no groups (no access control).
    public func accessibleGroups<S: Sequence>(forMailboxes mailboxes: S) -> [String] where S.Element == String {
        let groups = rules.groups
        guard !groups.isEmpty else { return [] }
        let top = groups.count - 1
        var lowest = top
        for mailbox in mailboxes {
            let ranks = staff(forMailbox: mailbox).compactMap { member in member.group.flatMap { groups.firstIndex(of: $0) } }
            lowest = min(lowest, ranks.min() ?? top)
        }
        return Array(groups[lowest...])
    }
}

/// A compiled `subject_tags` / `tracking_codes` pattern.
public struct CRMCompiledPattern: Sendable {
    public let pattern: CRMPattern
    private let regex: NSRegularExpression

    public init?(_ pattern: CRMPattern) {
        guard let regex = try? NSRegularExpression(pattern: pattern.pattern), regex.numberOfCaptureGroups >= 1 else { return nil }
        self.pattern = pattern
        self.regex = regex
    }

    public var kind: CRMRecordKind { pattern.kind }

    /// Capture group 1 of every match in `text`, in order of appearance, without repeats.
    public func captures(in text: String) -> [String] {
        var result: [String] = []
        let nsText = text as NSString
        for match in regex.matches(in: text, range: NSRange(location: 0, length: nsText.length)) {
            let range = match.range(at: 1)
            guard range.location != NSNotFound else { continue }
            let value = nsText.substring(with: range)
            if !value.isEmpty && !result.contains(value) { result.append(value) }
        }
        return result
    }
}
