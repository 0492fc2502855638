import Foundation
import GRDB

/// What to export.
public struct ExportRequest: Sendable {
    /// The client: an account, contact, lead or case.
    public var record: CRMRecordRef
    /// For an account: its subsidiaries' mail too (every level below it), each message once.
    public var withSubsidiaries: Bool = false
    /// `--since` / `--until` as the user gave them (inclusive UTC days).
    public var since: String?
    public var until: String?
    public var scope: ExportScope = .full
    /// Only mail accessible to this security group (rules.yaml `groups`).
    public var group: String?
    /// Only mail matching this search query.
    public var query: String?
    /// Every content of each message (`--all-copies`): copies that share a Message-ID but not
    /// their bytes are written beside the first as `KEY.content-N.eml` and in the mbox. By
    /// default an export holds one copy per message, the one `report assignments` names.
    public var allCopies: Bool = false

    public init(record: CRMRecordRef) {
        self.record = record
    }
}

/// How much of each message an export carries.
public enum ExportScope: String, Sendable, CaseIterable, Codable {
    /// Originals, mbox, attachments, the site with the text.
    case full
    /// Everything but the attachment files (their names and hashes stay listed).
    case noAttachments = "no-attachments"
    /// Header fields, filing records and hashes: no bodies, no originals, no attachment files.
    case metadata

    var includesOriginals: Bool { self != .metadata }
    var includesAttachments: Bool { self == .full }
}

/// Why `dossier export` cannot make an export.
public enum ExportError: Error, CustomStringConvertible, Sendable {
    case noGroups
    case unknownGroup(String, known: [String])
    case notAnAccount(CRMRecordRef)
    /// The archive lacks an object the export must carry.
    case missingObject(key: String, what: String)

    public var description: String {
        switch self {
        case .noGroups: return "--group needs security groups, and rules.yaml of the CRM directory in force lists none"
        case .unknownGroup(let group, let known):
            return "unknown group '\(group)' (rules.yaml lists: \(known.joined(separator: ", ")))"
        case .notAnAccount(let record): return "--with-subsidiaries takes an account, not \(record)"
        case .missingObject(let key, let what):
            return "message \(key): the archive is missing \(what); nothing was exported (run dossier verify --archive)"
        }
    }
}

/// A message the export deliberately does not hold, though it concerns the client.
public struct LeftOutMessage: Sendable, Equatable {
    public enum Reason: String, Sendable, CaseIterable {
        /// Filed to the client, outside `--since` / `--until`.
        case window
        /// Filed to the client, not accessible to `--group`.
        case group
        /// Filed to the client, not matching `--query`.
        case query
        /// Machine-made mail (bounce, auto-reply, newsletter, ...) with the client's addresses or domains.
        case noise
        /// Excluded mail (blacklist, excluded contact, window at import, matched_only) with them.
        case excluded
        /// Unassigned mail whose best suggestion is this client.
        case unassigned
    }

    public var key: String
    public var date: Date?
    public var from: String?
    public var subject: String?
    public var reason: Reason
    /// The finer reason: the noise kind, the exclusion's reason, the suggestion's basis.
    public var detail: String
    /// Whether the archive holds the message's content (noise not kept is a record only).
    public var stored: Bool
}

/// Which messages an export holds, and which it leaves out: read in one snapshot of the
/// archive, before anything is written.
struct ExportSelection {
    /// Rowids of the messages to export, oldest first.
    var messages: [Int64] = []
    var leftOut: [LeftOutMessage] = []
    /// The records whose mail is exported (the record, and with subsidiaries every account below).
    var records: [CRMRecordRef] = []

    static func select(_ request: ExportRequest, index: CRMIndex, _ db: Database) throws -> ExportSelection {
        var selection = ExportSelection()
        selection.records = try records(for: request, index: index)
        let window = try DateWindow.days(since: request.since, until: request.until)
        let groups = index.rules.groups
        if let group = request.group {
            guard !groups.isEmpty else { throw ExportError.noGroups }
            guard groups.contains(group) else { throw ExportError.unknownGroup(group, known: groups) }
        }
        let matching = try request.query.map { try SearchEngine.matchingIDs(SearchQuery.parse($0), db) }

        // Everything filed to the records, oldest first: the same order as mail.mbox and the
        // control numbers.
        let placeholders = selection.records.map { _ in "(?, ?)" }.joined(separator: ", ")
        var arguments = StatementArguments()
        for record in selection.records { _ = arguments.append(contentsOf: [record.kind.rawValue, record.id]) }
        let rows = try Row.fetchCursor(db, sql: """
            SELECT m.id, m.key, m.date, m.from_address, m.from_name, m.subject FROM message m
            WHERE m.filing = 'filed' AND m.status = 'stored'
              AND m.id IN (SELECT message FROM filing_match WHERE (kind, record) IN (VALUES \(placeholders)))
            ORDER BY m.date IS NULL, m.date, m.id
            """, arguments: arguments)
        let mailboxes = try db.cachedStatement(sql: "SELECT DISTINCT mailbox FROM copy WHERE message = ?")
        while let row = try rows.next() {
            let id: Int64 = row["id"]
            let date = (row["date"] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0)) }
            func leave(_ reason: LeftOutMessage.Reason, _ detail: String) {
                selection.leftOut.append(LeftOutMessage(key: row["key"], date: date, from: sender(row), subject: row["subject"],
                                                        reason: reason, detail: detail, stored: true))
            }
            if !window.contains(date) {
                leave(.window, "dated outside \(request.since ?? "…") .. \(request.until ?? "…")")
                continue
            }
            if let group = request.group {
                let accessible = index.accessibleGroups(forMailboxes: try String.fetchAll(mailboxes, arguments: [id]))
                if !accessible.contains(group) {
                    leave(.group, "accessible to \(accessible.joined(separator: ", ")) only")
                    continue
                }
            }
            if let matching, !matching.contains(id) {
                leave(.query, "does not match the query")
                continue
            }
            selection.messages.append(id)
        }
        try selection.collectUnfiled(index: index, db)
        selection.leftOut.sort { a, b in
            if a.reason != b.reason {
                return LeftOutMessage.Reason.allCases.firstIndex(of: a.reason)! < LeftOutMessage.Reason.allCases.firstIndex(of: b.reason)!
            }
            return (a.date ?? .distantFuture, a.key) < (b.date ?? .distantFuture, b.key)
        }
        return selection
    }

    /// The record, and with `withSubsidiaries` every account below it (any depth).
    static func records(for request: ExportRequest, index: CRMIndex) throws -> [CRMRecordRef] {
        guard request.withSubsidiaries else { return [request.record] }
        guard request.record.kind == .account else { throw ExportError.notAnAccount(request.record) }
        var children: [String: [String]] = [:]
        for account in index.directory.accounts { if let parent = account.parentID { children[parent, default: []].append(account.id) } }
        var result = [request.record]
        var seen: Set<String> = [request.record.id]
        var queue = [request.record.id]
        while !queue.isEmpty {
            let next = queue.removeFirst()
            for child in (children[next] ?? []).sorted() where seen.insert(child).inserted {
                result.append(CRMRecordRef(.account, child))
                queue.append(child)
            }
        }
        return result
    }

    /// Noise and excluded mail with the client's addresses or domains, and unassigned mail
    /// suggested for it: what a reviewer asks about when checking the export is complete.
    private mutating func collectUnfiled(index: CRMIndex, _ db: Database) throws {
        let client = ClientAddresses(records: records, index: index)
        guard !client.isEmpty else { return }
        let participants = try db.cachedStatement(sql: "SELECT address FROM address WHERE message = ?")
        let rows = try Row.fetchCursor(db, sql: """
            SELECT id, key, date, from_address, from_name, subject, filing, filing_reason, reason, noise, status FROM message
            WHERE filing IN ('noise', 'excluded') ORDER BY date IS NULL, date, id
            """)
        while let row = try rows.next() {
            var addresses = try String.fetchAll(participants, arguments: [row["id"] as Int64])
            if let from: String = row["from_address"] { addresses.append(from) }
            guard addresses.contains(where: client.concerns) else { continue }
            let filing: String = row["filing"]
            let detail: String = filing == "noise" ? (row["noise"] ?? "noise")
                : (row["filing_reason"] ?? row["reason"] ?? "excluded")
            leftOut.append(LeftOutMessage(key: row["key"], date: (row["date"] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0)) },
                                          from: sender(row), subject: row["subject"],
                                          reason: filing == "noise" ? .noise : .excluded, detail: detail,
                                          stored: (row["status"] as String) == "stored"))
        }
        let queue = UnassignedQueue(index: index)
        let wanted = Set(records)
        try queue.write(db) { item in
            guard let best = item.suggestions.first, wanted.contains(best.record) else { return }
            leftOut.append(LeftOutMessage(key: item.key, date: item.date, from: item.fromAddress, subject: item.subject,
                                          reason: .unassigned, detail: "suggested (\(best.basis.rawValue)): \(best.why)", stored: true))
        }
    }
}

private func sender(_ row: Row) -> String? {
    let address: String? = row["from_address"]
    let name: String? = row["from_name"]
    guard let address else { return name }
    guard let name, !name.isEmpty else { return address }
    return "\(name) <\(address)>"
}

/// The addresses and domains that are a client's: for an account its main address, its domains
/// (and their subdomains) and its contacts' addresses; for a contact or lead its own addresses;
/// for a case those of its account.
struct ClientAddresses {
    private var addresses = Set<String>()
    private var domains = Set<String>()
    private let index: CRMIndex

    init(records: [CRMRecordRef], index: CRMIndex) {
        self.index = index
        func addAccount(_ id: String) {
            guard let account = index.account(id: id) else { return }
            if let main = account.mainEmail { addresses.insert(index.key(main)) }
            for domain in account.domains where !index.isFreemail(domain) { domains.insert(domain.lowercased()) }
            for contact in index.directory.contacts where contact.accountID == id {
                for email in contact.emails { addresses.insert(index.key(email)) }
            }
        }
        for record in records {
            switch record.kind {
            case .account: addAccount(record.id)
            case .contact:
                for email in index.contact(id: record.id)?.emails ?? [] { addresses.insert(index.key(email)) }
            case .lead:
                if let lead = index.lead(id: record.id) {
                    for email in [lead.email].compactMap({ $0 }) + lead.contactEmails { addresses.insert(index.key(email)) }
                }
            case .case:
                if let item = index.case(id: record.id) { addAccount(item.accountID) }
            }
        }
    }

    var isEmpty: Bool { addresses.isEmpty && domains.isEmpty }

    func concerns(_ address: String) -> Bool {
        if addresses.contains(index.key(address)) { return true }
        guard let at = address.lastIndex(of: "@") else { return false }
        var domain = address[address.index(after: at)...].lowercased()
        while true {
            if domains.contains(domain) { return true }
            guard let dot = domain.firstIndex(of: ".") else { return false }
            domain = String(domain[domain.index(after: dot)...])
        }
    }
}
