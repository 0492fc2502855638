import Foundation
import GRDB

/// `dossier report contacts --discovered`: people outside the firm who exchange mail with it and
/// are not in the CRM directory yet, candidates for new contacts (never created: a person
/// decides, and adds the rows to contacts.csv).
///
/// A candidate is an address in From, To, Cc or Bcc of filed or unassigned mail (noise, internal
/// and excluded mail are left out) that is not internal (the firm's domains, staff.csv), not
/// blacklisted, and not already a contact's email, a lead's email or contact email, or an
/// account's main_email, with at least `minMessages` such messages. Free-mail addresses are
/// allowed. Candidates are grouped by the account their domain files to
/// (`CRMIndex.accounts(forDomainOf:)`), else by their domain (free-mail ones too).
public struct DiscoveredContacts: Sendable, Encodable {
    /// The default of `--min-messages`: one message is chance, three is a correspondent.
    public static let defaultMinMessages = 3

    public var minMessages: Int
    /// Accounts first (by name), then domains (A to Z).
    public var groups: [Group]

    public struct Group: Sendable, Encodable {
        /// The account the domain files to, or nil for a domain group.
        public var account: String?
        public var accountName: String?
        /// The domain, for a domain group.
        public var domain: String?
        /// Most messages first.
        public var candidates: [Candidate]

        /// `Acme Corporation (ACME)` or the domain.
        public var title: String {
            if let account { return (accountName.map { "\($0) (\(account))" }) ?? account }
            return domain ?? "-"
        }

        enum CodingKeys: String, CodingKey {
            case account, domain, candidates
            case accountName = "account_name"
        }
    }

    public struct Candidate: Sendable, Encodable {
        public var address: String
        /// The display name seen most often with the address (ties: A to Z).
        public var name: String?
        public var domain: String
        public var freemail: Bool
        /// Distinct messages the address took part in.
        public var messages: Int
        /// Messages from the address (it wrote to the firm).
        public var sent: Int
        /// Messages the firm sent (outbound) with the address in To, Cc or Bcc.
        public var received: Int
        public var first: Date?
        public var last: Date?
        /// The records its filed mail went to, most messages first.
        public var filedTo: [FiledRecord]
        /// A contacts.csv id for it (`C-` and the local part, made unique).
        public var suggestedID: String
        /// The account_id to propose: the account its domain files to, else the account most of
        /// its filed mail went to, else nil (to be chosen by a person).
        public var suggestedAccount: String?

        enum CodingKeys: String, CodingKey {
            case address, name, domain, freemail, messages, sent, received, first, last
            case filedTo = "filed_to"
            case suggestedID = "suggested_id"
            case suggestedAccount = "suggested_account"
        }
    }

    public struct FiledRecord: Sendable, Equatable, Encodable {
        public var record: CRMRecordRef
        public var messages: Int
        /// `account:ACME (3)`.
        public var text: String { "\(record.description) (\(messages))" }

        enum CodingKeys: String, CodingKey { case record, messages }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(record.description, forKey: .record)
            try container.encode(messages, forKey: .messages)
        }
    }

    /// Every candidate at the time of `db`, against the directory `index` holds.
    public static func load(_ db: Database, index: CRMIndex, minMessages: Int = defaultMinMessages) throws -> DiscoveredContacts {
        struct Tally {
            var messages = Set<Int64>()
            var sent = Set<Int64>()
            var received = Set<Int64>()
            var first: Date?, last: Date?
            var names: [String: Int] = [:]
        }
        var tallies: [String: Tally] = [:]
        var known: [String: Bool] = [:]
        func isCandidate(_ address: String) -> Bool {
            if let answer = known[address] { return answer }
            let answer = CRMAddress.domain(of: address) != nil && !index.isInternal(address) && !index.isBlacklisted(address)
                && !index.isExcludedContact(address) && index.contacts(forAddress: address).isEmpty
                && index.leads(forAddress: address).isEmpty && index.accounts(forMainEmail: address).isEmpty
            known[address] = answer
            return answer
        }
        let rows = try Row.fetchCursor(db, sql: """
            SELECT m.id, m.date, m.direction, a.role, a.address, a.name
            FROM message m JOIN address a ON a.message = m.id
            WHERE m.filing IN ('filed', 'unassigned') AND a.role IN ('from', 'to', 'cc', 'bcc')
            ORDER BY m.id
            """)
        while let row = try rows.next() {
            let address: String = row[4]
            guard isCandidate(address) else { continue }
            let id: Int64 = row[0]
            let role: String = row[3]
            let direction: String? = row[2]
            let seconds: Int64? = row[1]
            let name: String? = row[5]
            var tally = tallies[address] ?? Tally()
            if let name, !name.isEmpty { tally.names[name, default: 0] += 1 }
            // Sets, not counters: an address in both To and Cc of one message counts once.
            tally.messages.insert(id)
            if role == "from" { tally.sent.insert(id) } else if direction == "outbound" { tally.received.insert(id) }
            if let seconds {
                let date = Date(timeIntervalSince1970: TimeInterval(seconds))
                tally.first = min(tally.first ?? date, date)
                tally.last = max(tally.last ?? date, date)
            }
            tallies[address] = tally
        }

        let records = try db.cachedStatement(sql: """
            SELECT DISTINCT f.kind, f.record FROM filing_match f JOIN message m ON m.id = f.message
            WHERE f.message = ? AND m.filing = 'filed'
            """)
        var usedIDs = Set(index.directory.contacts.map { $0.id.uppercased() })
        var groups: [String: Group] = [:]
        for address in tallies.keys.sorted() {
            let tally = tallies[address]!
            let messageIDs = tally.messages
            guard messageIDs.count >= minMessages else { continue }
            var filed: [CRMRecordRef: Int] = [:]
            for id in messageIDs.sorted() {
                for row in try Row.fetchAll(records, arguments: [id]) {
                    if let kind = CRMRecordKind(rawValue: row[0]) { filed[CRMRecordRef(kind, row[1]), default: 0] += 1 }
                }
            }
            let filedTo = filed.map { FiledRecord(record: $0.key, messages: $0.value) }
                .sorted { $0.messages != $1.messages ? $0.messages > $1.messages : $0.record < $1.record }
            let domain = CRMAddress.domain(of: address).map(String.init) ?? ""
            let account = index.accounts(forDomainOf: address).first
            let name = tally.names.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key
            let candidate = Candidate(address: address, name: name, domain: domain, freemail: index.isFreemail(domain),
                                      messages: messageIDs.count, sent: tally.sent.count, received: tally.received.count,
                                      first: tally.first, last: tally.last, filedTo: filedTo,
                                      suggestedID: Self.suggestID(address, used: &usedIDs),
                                      suggestedAccount: account?.id ?? filedTo.first { $0.record.kind == .account }?.record.id)
            let key = account.map { "0 " + $0.name + " " + $0.id } ?? "1 " + domain
            groups[key, default: Group(account: account?.id, accountName: account?.name, domain: account == nil ? domain : nil,
                                       candidates: [])].candidates.append(candidate)
        }
        let ordered = groups.keys.sorted().map { key -> Group in
            var group = groups[key]!
            group.candidates.sort { $0.messages != $1.messages ? $0.messages > $1.messages : $0.address < $1.address }
            return group
        }
        return DiscoveredContacts(minMessages: minMessages, groups: ordered)
    }

    /// `C-` and the local part in capitals (`jane.doe@x` → `C-JANE-DOE`), with the domain's first
    /// label and then a number added until it is new among `used` (ids compared ignoring case).
    static func suggestID(_ address: String, used: inout Set<String>) -> String {
        func clean(_ text: Substring) -> String {
            var out = ""
            for scalar in text.uppercased().unicodeScalars {
                if (0x30...0x39).contains(scalar.value) || (0x41...0x5A).contains(scalar.value) {
                    out.unicodeScalars.append(scalar)
                } else if !out.isEmpty && !out.hasSuffix("-") {
                    out += "-"
                }
            }
            while out.hasSuffix("-") { out.removeLast() }
            return out
        }
        let parts = address.split(separator: "@", maxSplits: 1)
        var base = "C-" + (parts.first.map(clean).flatMap { $0.isEmpty ? nil : $0 } ?? "NEW")
        if used.contains(base), parts.count == 2, let label = parts[1].split(separator: ".").first {
            base += "-" + clean(label)
        }
        var candidate = base
        var number = 2
        while used.contains(candidate) {
            candidate = "\(base)-\(number)"
            number += 1
        }
        used.insert(candidate)
        return candidate
    }
}
