import Foundation
import GRDB

/// A record an unassigned message probably belongs to, and why.
public struct FilingSuggestion: Sendable, Equatable, Encodable {
    /// What the guess rests on, strongest first.
    public enum Basis: String, Sendable, Encodable, Comparable, CaseIterable {
        /// The CRM directory in force matches it now (it was filed under an earlier directory).
        case directory
        /// Other messages of its thread are filed.
        case thread
        /// The subject names a case by its code or id, without the tag's brackets.
        case caseCode = "case_code"
        /// A participant's display name is a contact's (or lead's) name.
        case name
        /// A participant's domain shares its registered domain with an account's domain.
        case relatedDomain = "related_domain"
        /// A participant's domain has an account domain's name under another ending.
        case similarDomain = "similar_domain"

        public static func < (a: Basis, b: Basis) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    public var record: CRMRecordRef
    /// The record's name in the directory in force.
    public var name: String?
    public var basis: Basis
    /// One sentence for the person working the queue.
    public var why: String

    enum CodingKeys: String, CodingKey { case record, name, basis, why }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.description, forKey: .record)
        try container.encode(name, forKey: .name)
        try container.encode(basis, forKey: .basis)
        try container.encode(why, forKey: .why)
    }
}

/// One message of the unassigned queue.
public struct UnassignedItem: Sendable, Encodable, SenderDisplaying {
    public var key: String
    public var date: Date?
    public var fromAddress: String?
    public var fromName: String?
    public var subject: String?
    /// Participants outside the firm, in order of appearance (From, Sender, Reply-To, To, Cc, Bcc).
    public var external: [String]
    /// Best first; empty when nothing is near.
    public var suggestions: [FilingSuggestion]


    enum CodingKeys: String, CodingKey {
        case key, date, from, subject, external, suggestion, suggestions
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(date, forKey: .date)
        try container.encode(from, forKey: .from)
        try container.encode(subject, forKey: .subject)
        try container.encode(external, forKey: .external)
        try container.encode(suggestions.first, forKey: .suggestion)
        try container.encode(suggestions, forKey: .suggestions)
    }
}

/// The unassigned queue (`dossier report unassigned`): messages with external participants that
/// no rule filed, in date order, each with the records it is probably about.
///
/// Suggestions, strongest first (each explains itself in `why`):
/// - the directory in force files it now (by address, domain or subject tag): it was filed under
///   an earlier directory, and `rematch` would file it;
/// - other messages of its thread are filed (a reply that was tagged, a sibling that was);
/// - the subject names a case code or id without the tag's brackets;
/// - a participant's display name is a contact's or a lead's name (a private address, say);
/// - a participant's domain shares its registered domain with an account's domain
///   (`de.acme.example` and `uk.acme.example`), or the account's domain is its subdomain;
/// - a participant's domain has an account domain's name under another ending (`acme.com` for
///   `acme.example`).
/// Free-mail and internal domains never suggest by domain, and a record a person removed the
/// message from by hand is never suggested for it again.
public struct UnassignedQueue: Sendable {
    public let index: CRMIndex
    private let filer: Filer
    private let casesByToken: [String: [String]]
    private let contactsByName: [String: [String]]
    private let leadsByName: [String: [String]]
    private let accountsByRegistered: [String: [(account: String, domain: String)]]
    private let accountsByLabel: [String: [(account: String, domain: String)]]

    /// Messages of a thread looked at for the thread suggestion.
    public static let threadLimit = 200

    public init(index: CRMIndex) {
        self.index = index
        filer = Filer(index: index)
        var cases: [String: [String]] = [:]
        for item in index.directory.cases {
            for token in [item.id, item.code].compactMap({ $0?.lowercased() }) where Self.isCodeLike(token) {
                if cases[token]?.contains(item.id) != true { cases[token, default: []].append(item.id) }
            }
        }
        casesByToken = cases
        var contacts: [String: [String]] = [:]
        for contact in index.directory.contacts where !contact.excluded {
            for name in Self.nameKeys(contact.name) where contacts[name]?.contains(contact.id) != true {
                contacts[name, default: []].append(contact.id)
            }
        }
        contactsByName = contacts
        var leads: [String: [String]] = [:]
        for lead in index.directory.leads {
            for name in Self.nameKeys(lead.name) where leads[name]?.contains(lead.id) != true { leads[name, default: []].append(lead.id) }
        }
        leadsByName = leads
        var registered: [String: [(String, String)]] = [:]
        var labels: [String: [(String, String)]] = [:]
        for account in index.directory.accounts {
            for domain in account.domains where !index.isFreemail(domain) && !index.isInternalDomain(domain) {
                registered[Self.registeredDomain(domain), default: []].append((account.id, domain))
                let label = Self.nameLabel(domain)
                if label.count >= 4 { labels[label, default: []].append((account.id, domain)) }
            }
        }
        accountsByRegistered = registered
        accountsByLabel = labels
    }

    /// How many messages are in the queue.
    public static func count(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE \(condition)") ?? 0
    }

    /// Unassigned: no rule filed it. Messages stored before filing existed count too (as in
    /// `report assignments`).
    static let condition = "(filing = 'unassigned' OR (filing IS NULL AND status = 'stored'))"

    /// Streams the queue to `emit`, oldest first (newest first with `newestFirst`), at most
    /// `limit` messages.
    public func write(_ db: Database, newestFirst: Bool = false, limit: Int? = nil,
                      emit: (UnassignedItem) throws -> Void) throws {
        let direction = newestFirst ? "DESC" : "ASC"
        let rows = try Row.fetchCursor(db, sql: """
            SELECT id, key, date, from_address, from_name, subject FROM message WHERE \(Self.condition)
            ORDER BY date IS NULL, date \(direction), id \(direction) LIMIT ?
            """, arguments: [limit ?? -1])
        while let row = try rows.next() {
            let id: Int64 = row["id"]
            let subject: String? = row["subject"]
            let participants = try Row.fetchAll(db.cachedStatement(sql: "SELECT role, address, name FROM address WHERE message = ? ORDER BY rowid"),
                                                arguments: [id]).map { (role: $0[0] as String, address: $0[1] as String, name: $0[2] as String?) }
            var external: [String] = []
            for participant in participants where !index.isInternal(participant.address) && !external.contains(participant.address) {
                external.append(participant.address)
            }
            let item = UnassignedItem(
                key: row["key"], date: (row["date"] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0)) },
                fromAddress: row["from_address"], fromName: row["from_name"], subject: subject, external: external,
                suggestions: try suggestions(forMessage: id, subject: subject, participants: participants, db))
            try emit(item)
        }
    }

    /// Every suggestion for one message, best first, one per record.
    public func suggestions(forMessage id: Int64, subject: String?, participants: [(role: String, address: String, name: String?)],
                            _ db: Database) throws -> [FilingSuggestion] {
        var found: [FilingSuggestion] = []
        let external = participants.filter { !index.isInternal($0.address) }

        // The directory in force would file it.
        let facts = FilingFacts(participants: external.map { ($0.role, $0.address) }, subject: subject ?? "", headerValues: [],
                                bodyText: "", references: [])
        for match in filer.directMatches(facts) where match.via == nil {
            let how: String
            switch match.rule {
            case .address: how = "address \(match.matched) is \(label(match.record))'s"
            case .domain: how = "domain \(match.matched) is \(label(match.record))'s"
            case .subjectTag: how = "the subject tag \(match.matched) names \(label(match.record))"
            default: how = "\(match.rule.rawValue) \(match.matched) names \(label(match.record))"
            }
            found.append(suggestion(match.record, .directory,
                                    "\(how) in the CRM directory in force (filed under an earlier one; dossier rematch re-files)"))
        }

        // Its thread.
        let (thread, _) = try ArchiveThread.component(of: id, db, limit: Self.threadLimit)
        if thread.count > 1 {
            var counts: [CRMRecordRef: (count: Int, example: String)] = [:]
            let records = try db.cachedStatement(sql: """
                SELECT DISTINCT f.kind, f.record, m.key FROM filing_match f JOIN message m ON m.id = f.message
                WHERE f.message = ? AND m.filing = 'filed'
                """)
            for other in thread where other != id {
                for row in try Row.fetchAll(records, arguments: [other]) {
                    guard let kind = CRMRecordKind(rawValue: row[0]) else { continue }
                    let record = CRMRecordRef(kind, row[1])
                    let key: String = row[2]
                    let previous = counts[record]
                    counts[record] = ((previous?.count ?? 0) + 1, previous?.example ?? key)
                }
            }
            let ranked = counts.sorted { a, b in a.value.count != b.value.count ? a.value.count > b.value.count : a.key < b.key }
            for (record, value) in ranked {
                let others = value.count == 1 ? "another message of its thread is" : "\(value.count) other messages of its thread are"
                found.append(suggestion(record, .thread, "\(others) filed to \(label(record)) (e.g. \(String(value.example.prefix(12))))"))
            }
        }

        // A case code in the subject without the brackets.
        if let subject {
            for token in Self.tokens(subject) {
                for caseID in casesByToken[token.lowercased()] ?? [] {
                    let item = index.case(id: caseID)
                    let what = item?.code?.lowercased() == token.lowercased() ? "the code of" : "the id of"
                    found.append(suggestion(CRMRecordRef(.case, caseID), .caseCode,
                                            "the subject mentions \(token) without tag brackets: \(what) \(label(CRMRecordRef(.case, caseID)))"))
                }
            }
        }

        // A display name that is a contact's or a lead's name.
        for participant in external {
            guard let name = participant.name, let key = Self.nameKeys(name).first else { continue }
            for contactID in contactsByName[key] ?? [] {
                let addresses = index.contact(id: contactID)?.emails ?? []
                if addresses.contains(index.key(participant.address)) { continue }
                found.append(suggestion(CRMRecordRef(.contact, contactID), .name,
                                        "\"\(name)\" <\(participant.address)> has the name of \(label(CRMRecordRef(.contact, contactID))), at another address"))
            }
            for leadID in leadsByName[key] ?? [] {
                found.append(suggestion(CRMRecordRef(.lead, leadID), .name,
                                        "\"\(name)\" <\(participant.address)> has the name of \(label(CRMRecordRef(.lead, leadID))), at another address"))
            }
        }

        // Domains near an account's.
        var domains: [String] = []
        for participant in external {
            guard let domain = CRMAddress.domain(of: participant.address).map(String.init), !domains.contains(domain) else { continue }
            domains.append(domain)
        }
        for domain in domains where !index.isFreemail(domain) && !index.isInternalDomain(domain) && index.accounts(forDomain: domain).isEmpty {
            let registered = Self.registeredDomain(domain)
            for (account, accountDomain) in accountsByRegistered[registered] ?? [] {
                let relation = accountDomain.hasSuffix("." + domain) ? "\(accountDomain), a subdomain of \(domain), is"
                    : "\(domain) and \(accountDomain) are both under \(registered); \(accountDomain) is"
                found.append(suggestion(CRMRecordRef(.account, account), .relatedDomain,
                                        "\(relation) a domain of \(label(CRMRecordRef(.account, account)))"))
            }
            for (account, accountDomain) in accountsByLabel[Self.nameLabel(domain)] ?? []
            where Self.registeredDomain(accountDomain) != registered {
                found.append(suggestion(CRMRecordRef(.account, account), .similarDomain,
                                        "\(domain) looks like \(accountDomain) (same name, other ending), a domain of \(label(CRMRecordRef(.account, account)))"))
            }
        }

        // One suggestion per record, the strongest basis (stable: the first found of it); never a
        // record a person took the message out of (`dossier unassign`).
        var seen = try FilingStore.manual(of: id, db).removed
        return found.enumerated().sorted { a, b in
            a.element.basis != b.element.basis ? a.element.basis < b.element.basis : a.offset < b.offset
        }.map(\.element).filter { seen.insert($0.record).inserted }
    }

    private func suggestion(_ record: CRMRecordRef, _ basis: FilingSuggestion.Basis, _ why: String) -> FilingSuggestion {
        FilingSuggestion(record: record, name: name(of: record), basis: basis, why: why)
    }

    /// The record's name in the directory in force.
    public func name(of record: CRMRecordRef) -> String? {
        switch record.kind {
        case .account: return index.account(id: record.id)?.name
        case .contact:
            guard let contact = index.contact(id: record.id) else { return nil }
            let account = index.account(forContact: contact)?.name
            return [contact.name, account.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
        case .lead:
            guard let lead = index.lead(id: record.id) else { return nil }
            return lead.company ?? lead.name
        case .case:
            guard let item = index.case(id: record.id) else { return nil }
            return [item.code, item.title].compactMap { $0 }.joined(separator: " ")
        }
    }

    /// `account:ACME (Acme Corporation)`.
    private func label(_ record: CRMRecordRef) -> String {
        name(of: record).map { "\(record) (\($0))" } ?? record.description
    }

    // MARK: Text helpers

    /// Words of a subject that could be a case code: letters, digits, `-`, `_`, `/`, `.` inside.
    static func tokens(_ text: String) -> [String] {
        var result: [String] = []
        for raw in text.split(whereSeparator: { !($0.isLetter || $0.isNumber || "-_/.".contains($0)) }) {
            let token = raw.trimmingCharacters(in: CharacterSet(charactersIn: "-_/."))
            if isCodeLike(token.lowercased()) && !result.contains(token) { result.append(token) }
        }
        return result
    }

    /// Long enough and with a digit: `CASE-10233`, `IMM-4821`, not `Acme`.
    static func isCodeLike(_ token: String) -> Bool {
        token.count >= 4 && token.contains(where: \.isNumber)
    }

    /// Ways a person's name is compared: lowercased, spaces collapsed, quotes gone; with and
    /// without a parenthesised remark; `Last, First` as `first last`. Names shorter than 5
    /// characters are too common to suggest anything and give none.
    static func nameKeys(_ name: String?) -> [String] {
        guard let name else { return [] }
        func normalize(_ text: String) -> String {
            text.lowercased().replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "'", with: "")
                .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        var keys: [String] = []
        func add(_ text: String) {
            let key = normalize(text)
            if key.count >= 5 && !keys.contains(key) { keys.append(key) }
        }
        add(name)
        if let open = name.firstIndex(of: "(") { add(String(name[..<open])) }
        let parts = name.split(separator: ",", maxSplits: 1)
        if parts.count == 2 { add(parts[1] + " " + parts[0]) }
        return keys
    }

    /// The registered domain, approximately (no public suffix list): the last two labels, or
    /// three under a two-letter country code with a second level like `co.uk`, `com.au`.
    static func registeredDomain(_ domain: String) -> String {
        let labels = CRMAddress.normalizedDomain(domain).split(separator: ".")
        guard labels.count > 2 else { return labels.joined(separator: ".") }
        let secondLevel: Set<Substring> = ["co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gob", "ltd", "plc", "nic", "mil"]
        let take = labels.last!.count == 2 && secondLevel.contains(labels[labels.count - 2]) ? 3 : 2
        return labels.suffix(take).joined(separator: ".")
    }

    /// The first label of the registered domain: `acme` for `mail.acme.co.uk`.
    static func nameLabel(_ domain: String) -> String {
        String(registeredDomain(domain).split(separator: ".").first ?? "")
    }
}
