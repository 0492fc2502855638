import Foundation
import GRDB

/// One record's file: what the CRM directory says about it, and the mail filed to it, grouped by
/// thread (`dossier client ID`).
///
/// An account's file holds the messages filed to the account itself, which includes those filed
/// through its contacts and cases (filing records the account too). Its subsidiaries keep their
/// own files: they are counted, never mixed in.
public struct ClientFile: Sendable, Encodable {
    public var record: CRMRecordRef
    /// The record's name as the directory in force gives it (account name, contact or lead name,
    /// case title); nil when the record is not in that directory.
    public var name: String?
    /// False when the directory in force no longer has the record (mail filed under an earlier one).
    public var inDirectory: Bool
    public var details: Details
    public var counts: Counts
    /// For an account: its direct subsidiaries (accounts whose parent_id is this account).
    public var subsidiaries: [Subsidiary]
    /// Messages filed to those subsidiaries and not to this account: not listed here.
    public var subsidiaryMessages: Int
    /// Newest thread first (by the date of its latest message), at most `limit` messages in all.
    public var threads: [Thread]
    /// Messages left out of `threads` by the limit.
    public var omitted: Int

    public struct Details: Sendable, Encodable {
        public var domains: [String]?
        public var mainEmail: String?
        public var parent: String?
        public var contacts: [String]?
        public var cases: [String]?
        public var emails: [String]?
        public var excluded: Bool?
        public var account: String?
        public var company: String?
        public var contactName: String?
        public var email: String?
        public var contactEmails: [String]?
        public var code: String?
        public var title: String?

        enum CodingKeys: String, CodingKey {
            case domains, parent, contacts, cases, emails, excluded, account, company, email, code, title
            case mainEmail = "main_email"
            case contactName = "name"
            case contactEmails = "contact_emails"
        }

        /// Label and value of every detail present, in a stable order, for text output.
        public var lines: [(String, String)] {
            var result: [(String, String)] = []
            func add(_ label: String, _ value: String?) { if let value, !value.isEmpty { result.append((label, value)) } }
            func add(_ label: String, _ values: [String]?) { if let values, !values.isEmpty { result.append((label, values.joined(separator: ", "))) } }
            add("company", company)
            add("name", contactName)
            add("account", account)
            add("parent", parent)
            add("code", code)
            add("title", title)
            add("domains", domains)
            add("main email", mainEmail)
            add("email", email)
            add("emails", emails)
            add("contact emails", contactEmails)
            if let excluded, excluded { add("excluded", "yes: mail with this contact is not archived") }
            add("contacts", contacts)
            add("cases", cases)
            return result
        }
    }

    public struct Counts: Sendable, Encodable {
        public var messages = 0
        public var threads = 0
        /// By the strongest rule that filed each message to this record.
        public var byEvidence: [String: Int] = [:]
        /// inbound, outbound, internal.
        public var byDirection: [String: Int] = [:]
        public var first: Date?
        public var last: Date?

        enum CodingKeys: String, CodingKey {
            case messages, threads, first, last
            case byEvidence = "by_evidence"
            case byDirection = "by_direction"
        }
    }

    public struct Subsidiary: Sendable, Encodable {
        public var id: String
        public var name: String
        public var messages: Int
    }

    public struct Thread: Sendable, Encodable {
        /// The subject of its first message.
        public var subject: String?
        /// Messages of the record in this thread (all of them, also those not listed).
        public var total: Int
        /// Oldest first.
        public var messages: [Entry]
    }

    public struct Entry: Sendable, Encodable {
        public var key: String
        public var date: Date?
        public var direction: String?
        public var from: String?
        public var subject: String?
        /// The strongest rule that filed it to this record.
        public var evidence: String?
    }

    enum CodingKeys: String, CodingKey {
        case record, name, details, counts, subsidiaries, threads, omitted
        case inDirectory = "in_directory"
        case subsidiaryMessages = "subsidiary_messages"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.description, forKey: .record)
        try container.encode(name, forKey: .name)
        try container.encode(inDirectory, forKey: .inDirectory)
        try container.encode(details, forKey: .details)
        try container.encode(counts, forKey: .counts)
        try container.encode(subsidiaries, forKey: .subsidiaries)
        try container.encode(subsidiaryMessages, forKey: .subsidiaryMessages)
        try container.encode(threads, forKey: .threads)
        try container.encode(omitted, forKey: .omitted)
    }
}

/// Why `dossier client` cannot show a record.
public enum ClientFileError: Error, Sendable, CustomStringConvertible {
    case unknown(String, kind: CRMRecordKind?)
    case ambiguous(String, [CRMRecordRef])

    public var description: String {
        switch self {
        case .unknown(let id, let kind):
            return "no \(kind?.rawValue ?? "record") \(id) in the CRM directory in force, and no mail filed to one"
        case .ambiguous(let id, let records):
            return "\(id) names \(records.map(\.description).joined(separator: " and ")); choose one with --kind"
        }
    }
}

extension ClientFile {
    /// The record `id` names: exactly, else ignoring case (and for a case, its code), in the
    /// directory in force; failing that, a record mail is filed to (from an earlier directory).
    public static func resolve(_ id: String, kind: CRMRecordKind?, index: CRMIndex, _ db: Database) throws -> CRMRecordRef {
        let kinds = kind.map { [$0] } ?? CRMRecordKind.allCases
        func exists(_ ref: CRMRecordRef) -> Bool {
            switch ref.kind {
            case .account: return index.account(id: ref.id) != nil
            case .contact: return index.contact(id: ref.id) != nil
            case .lead: return index.lead(id: ref.id) != nil
            case .case: return index.case(id: ref.id) != nil
            }
        }
        var found = kinds.map { CRMRecordRef($0, id) }.filter(exists)
        if found.isEmpty {
            found = kinds.flatMap { index.records(named: id, kind: $0) }
        }
        if found.isEmpty {
            let filed = try Row.fetchAll(db, sql: "SELECT DISTINCT kind, record FROM filing_match WHERE record = ? ORDER BY kind",
                                         arguments: [id]).compactMap { row in CRMRecordKind(rawValue: row[0]).map { CRMRecordRef($0, row[1]) } }
            found = filed.filter { kinds.contains($0.kind) }
        }
        let unique = Array(Set(found)).sorted()
        if unique.count > 1 { throw ClientFileError.ambiguous(id, unique) }
        guard let record = unique.first else { throw ClientFileError.unknown(id, kind: kind) }
        return record
    }

    /// The file of `record`, listing at most `limit` messages (newest threads first); the counts
    /// always cover every message.
    public static func load(_ record: CRMRecordRef, index: CRMIndex, _ db: Database, limit: Int? = nil) throws -> ClientFile {
        var file = ClientFile(record: record, name: nil, inDirectory: false, details: Details(), counts: Counts(),
                              subsidiaries: [], subsidiaryMessages: 0, threads: [], omitted: 0)
        file.describe(index)

        // Every message filed to the record, with the rules that did it.
        struct Filed {
            var id: Int64
            var entry: Entry
            var messageID: String?
        }
        var messages: [Filed] = []
        let rows = try Row.fetchCursor(db, sql: """
            SELECT m.id, m.key, m.message_id, m.date, m.direction, m.from_address, m.from_name, m.subject,
                   group_concat(DISTINCT f.rule) AS rules
            FROM filing_match f JOIN message m ON m.id = f.message
            WHERE f.kind = ? AND f.record = ? AND m.filing = 'filed'
            GROUP BY m.id
            """, arguments: [record.kind.rawValue, record.id])
        while let row = try rows.next() {
            let rules = ((row["rules"] as String?) ?? "").split(separator: ",").compactMap { FilingRule(rawValue: String($0)) }
            let address: String? = row["from_address"]
            let name: String? = row["from_name"]
            let from = address.map { address in name.flatMap { $0.isEmpty ? nil : "\($0) <\(address)>" } ?? address } ?? name
            let entry = Entry(key: row["key"], date: (row["date"] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0)) },
                              direction: row["direction"], from: from, subject: row["subject"], evidence: rules.min()?.rawValue)
            messages.append(Filed(id: row["id"], entry: entry, messageID: row["message_id"]))
        }

        // Counts.
        file.counts.messages = messages.count
        for message in messages {
            if let evidence = message.entry.evidence { file.counts.byEvidence[evidence, default: 0] += 1 }
            file.counts.byDirection[message.entry.direction ?? "unknown", default: 0] += 1
            if let date = message.entry.date {
                file.counts.first = min(file.counts.first ?? date, date)
                file.counts.last = max(file.counts.last ?? date, date)
            }
        }

        // Threads among the record's messages: a message joins the thread of every id it has or
        // names (union-find over Message-IDs), so siblings meet at the root they both reference.
        var union = UnionFind(count: messages.count)
        var owner: [String: Int] = [:]
        let references = try db.cachedStatement(sql: "SELECT message_id FROM reference WHERE message = ?")
        for (index, message) in messages.enumerated() {
            var ids = try String.fetchAll(references, arguments: [message.id])
            if let own = message.messageID { ids.append(own) }
            for id in ids {
                if let other = owner[id] { union.join(index, other) } else { owner[id] = index }
            }
        }
        var groups: [Int: [Int]] = [:]
        for index in messages.indices { groups[union.find(index), default: []].append(index) }
        file.counts.threads = groups.count
        func before(_ a: Entry, _ b: Entry) -> Bool {
            switch (a.date, b.date) {
            case let (x?, y?) where x != y: return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return a.key < b.key
            }
        }
        var threads: [Thread] = groups.values.map { members in
            let entries = members.map { messages[$0].entry }.sorted(by: before)
            return Thread(subject: entries.first?.subject, total: entries.count, messages: entries)
        }
        // Newest thread first: by its latest message.
        threads.sort { a, b in
            let x = a.messages.last!, y = b.messages.last!
            if x.date != y.date { return before(y, x) }
            return x.key < y.key
        }
        if let limit {
            var left = max(0, limit)
            var kept: [Thread] = []
            for var thread in threads where left > 0 {
                if thread.messages.count > left { thread.messages = Array(thread.messages.suffix(left)) }
                left -= thread.messages.count
                kept.append(thread)
            }
            file.omitted = messages.count - kept.reduce(0) { $0 + $1.messages.count }
            threads = kept
        }
        file.threads = threads

        // Subsidiaries: counted, not mixed in.
        if record.kind == .account {
            let count = try db.cachedStatement(sql: """
                SELECT COUNT(DISTINCT f.message) FROM filing_match f JOIN message m ON m.id = f.message
                WHERE f.kind = 'account' AND f.record = ? AND m.filing = 'filed'
                """)
            var seen = Set<Int64>()
            let ours = try db.cachedStatement(sql: """
                SELECT DISTINCT f.message FROM filing_match f JOIN message m ON m.id = f.message
                WHERE f.kind = 'account' AND f.record = ? AND m.filing = 'filed'
                  AND f.message NOT IN (SELECT message FROM filing_match WHERE kind = 'account' AND record = ?)
                """)
            for account in index.directory.accounts where account.parentID == record.id {
                let total = try Int.fetchOne(count, arguments: [account.id]) ?? 0
                file.subsidiaries.append(Subsidiary(id: account.id, name: account.name, messages: total))
                for id in try Int64.fetchAll(ours, arguments: [account.id, record.id]) { seen.insert(id) }
            }
            file.subsidiaryMessages = seen.count
        }
        return file
    }

    /// Name and details from the directory in force.
    private mutating func describe(_ index: CRMIndex) {
        func accountLabel(_ id: String) -> String {
            index.account(id: id).map { "\($0.name) (\(id))" } ?? id
        }
        switch record.kind {
        case .account:
            guard let account = index.account(id: record.id) else { return }
            inDirectory = true
            name = account.name
            details.domains = account.domains
            details.mainEmail = account.mainEmail
            details.parent = account.parentID.map(accountLabel)
            details.contacts = index.directory.contacts.filter { $0.accountID == account.id }.map { contact in
                contact.name.map { "\($0) (\(contact.id))" } ?? contact.id
            }
            details.cases = index.directory.cases.filter { $0.accountID == account.id }.map { item in
                [item.id, item.code, item.title].compactMap { $0 }.joined(separator: " ")
            }
        case .contact:
            guard let contact = index.contact(id: record.id) else { return }
            inDirectory = true
            name = contact.name
            details.emails = contact.emails
            details.excluded = contact.excluded
            details.account = accountLabel(contact.accountID)
        case .lead:
            guard let lead = index.lead(id: record.id) else { return }
            inDirectory = true
            name = lead.name ?? lead.company
            details.company = lead.company
            details.contactName = lead.name
            details.email = lead.email
            details.contactEmails = lead.contactEmails
        case .case:
            guard let item = index.case(id: record.id) else { return }
            inDirectory = true
            name = item.title ?? item.code
            details.code = item.code
            details.title = item.title
            details.account = accountLabel(item.accountID)
        }
    }
}

/// Disjoint sets over 0..<count, with path halving.
struct UnionFind {
    private var parent: [Int]

    init(count: Int) { parent = Array(0..<count) }

    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    mutating func join(_ a: Int, _ b: Int) {
        let (ra, rb) = (find(a), find(b))
        if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }
}
