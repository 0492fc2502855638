import Foundation
import GRDB

/// The archive side of filing: rule 2 (a reply files where the messages it answers went), saving
/// decisions, and convergence: when a message is filed, the replies already in the archive that
/// refer to it are re-filed, so the result does not depend on the order mail is imported in.
public struct FilingStore {
    public let filer: Filer

    public init(filer: Filer) {
        self.filer = filer
    }

    /// What the messages a message refers to say about it: rule 2's matches (every record of every
    /// filed message it names, one match per record, from the first parent that has it) and its
    /// context ("reply" when it answers a message the firm sent: an outbound message in the
    /// archive, or a Message-ID minted in an internal domain; else "new").
    public struct ThreadLookup: Sendable {
        public var matches: [FilingMatch]
        public var context: ConversationContext
    }

    public static func lookup(references: [String], excluding selfID: Int64?, index: CRMIndex, _ db: Database) throws -> ThreadLookup {
        var result = ThreadLookup(matches: [], context: .new)
        guard !references.isEmpty else { return result }
        let parent = try db.cachedStatement(sql: "SELECT id, filing, direction FROM message WHERE message_id = ?")
        var seen = Set<CRMRecordRef>()
        for reference in references {
            guard let row = try Row.fetchOne(parent, arguments: [reference]) else {
                if let at = reference.lastIndex(of: "@"), index.isInternalDomain(String(reference[reference.index(after: at)...])) {
                    result.context = .reply
                }
                continue
            }
            if (row[2] as String?) == Direction.outbound.rawValue { result.context = .reply }
            let id: Int64 = row[0]
            guard id != selfID, (row[1] as String?) == FilingStatus.filed.rawValue else { continue }
            for record in try records(of: id, db) where seen.insert(record).inserted {
                result.matches.append(FilingMatch(rule: .thread, record: record, matched: reference))
            }
        }
        result.matches = Filer.normalized(result.matches)
        return result
    }

    /// Rule 2 alone (see `lookup`).
    static func threadMatches(references: [String], excluding selfID: Int64?, index: CRMIndex, _ db: Database) throws -> [FilingMatch] {
        try lookup(references: references, excluding: selfID, index: index, db).matches
    }

    /// The distinct records a message is filed to.
    static func records(of id: Int64, _ db: Database) throws -> [CRMRecordRef] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT DISTINCT kind, record FROM filing_match WHERE message = ?"), arguments: [id])
            .compactMap { row in CRMRecordKind(rawValue: row[0]).map { CRMRecordRef($0, row[1]) } }
    }

    /// Adds the matches of a message that has none yet.
    static func insertMatches(_ matches: [FilingMatch], messageRowID id: Int64, _ db: Database) throws {
        guard !matches.isEmpty else { return }
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO filing_match (message, rule, kind, record, matched, via) VALUES (?, ?, ?, ?, ?, ?)")
        for match in matches {
            try insert.execute(arguments: [id, match.rule.rawValue, match.record.kind.rawValue, match.record.id, match.matched,
                                           match.via?.description])
        }
    }

    /// Import's convergence step, after the message `messageID` was filed to `records`: every
    /// filed or unassigned reply already in the archive that refers to it gains the thread matches
    /// it lacks (the thread rule fires for it even when it adds no record, so its evidence becomes
    /// at least "thread"), and replies whose records grew pass them on down the thread. During an
    /// import records are only ever added, so this incremental walk reaches the same result as
    /// re-filing every reply, at a fraction of the cost.
    /// Returns the replies that were waiting, unsearchable, for a parent (matched_only mode) and
    /// are now filed: the caller indexes them.
    @discardableResult
    func propagateAdditions(from messageID: String, records: [CRMRecordRef], _ db: Database) throws -> [Int64] {
        var work = [(messageID, records)]
        var revived: [Int64] = []
        let children = try db.cachedStatement(sql: """
            SELECT DISTINCT m.id, m.message_id, m.evidence, m.filing FROM reference r JOIN message m ON m.id = r.message
            WHERE r.message_id = ? AND (m.filing IN ('filed', 'unassigned')
                  OR (m.filing = 'excluded' AND m.filing_reason = 'unmatched' AND m.status = 'stored'))
            """)
        let update = try db.cachedStatement(sql: "UPDATE message SET filing = 'filed', filing_reason = NULL, evidence = ? WHERE id = ?")
        while let (parentID, parentRecords) = work.popLast() {
            for row in try Row.fetchAll(children, arguments: [parentID]) {
                let child: Int64 = row[0]
                let current = try Self.matches(of: child, db)
                let removed = try Self.manual(of: child, db).removed
                let threadRecords = Set(current.filter { $0.rule == .thread }.map(\.record))
                let newThread = parentRecords.filter { !threadRecords.contains($0) && !removed.contains($0) }
                guard !newThread.isEmpty else { continue }
                try Self.insertMatches(newThread.map { FilingMatch(rule: .thread, record: $0, matched: parentID) }, messageRowID: child, db)
                let evidence = [FilingRule.thread, (row[2] as String?).flatMap(FilingRule.init(rawValue:))].compactMap { $0 }.min()!
                try update.execute(arguments: [evidence.rawValue, child])
                if (row[3] as String?) == FilingStatus.excluded.rawValue { revived.append(child) }
                let records = Set(current.map(\.record))
                let added = newThread.filter { !records.contains($0) }
                if !added.isEmpty, let childID: String = row[1] { work.append((childID, Array(records) + added)) }
            }
        }
        return revived
    }

    /// Writes a decision over the message's previous one.
    func save(_ decision: FilingDecision, messageRowID id: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE message SET filing = ?, filing_reason = ?, evidence = ? WHERE id = ?")
            .execute(arguments: [decision.status.rawValue, decision.reason, decision.evidence?.rawValue, id])
        try db.cachedStatement(sql: "DELETE FROM filing_match WHERE message = ?").execute(arguments: [id])
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO filing_match (message, rule, kind, record, matched, via) VALUES (?, ?, ?, ?, ?, ?)")
        for match in decision.matches {
            try insert.execute(arguments: [id, match.rule.rawValue, match.record.kind.rawValue, match.record.id, match.matched,
                                           match.via?.description])
        }
    }

    /// Re-files every unassigned or filed reply (transitively) to the message with `messageID`,
    /// until nothing changes.
    func propagate(from messageID: String, _ db: Database) throws {
        var work = [messageID]
        var visited = Set<Int64>()
        let children = try db.cachedStatement(sql: """
            SELECT DISTINCT m.id, m.message_id FROM reference r JOIN message m ON m.id = r.message
            WHERE r.message_id = ? AND m.filing IN ('filed', 'unassigned')
            """)
        while let parent = work.popLast() {
            for row in try Row.fetchAll(children, arguments: [parent]) {
                let child: Int64 = row[0]
                guard visited.insert(child).inserted else { continue }
                if try refile(messageRowID: child, db), let childID: String = row[1] { work.append(childID) }
            }
        }
    }

    /// Recomputes a filed or unassigned message from its stored matches and its parents' records;
    /// true when its records changed.
    @discardableResult
    func refile(messageRowID id: Int64, _ db: Database) throws -> Bool {
        let current = try Self.matches(of: id, db)
        let direct = current.filter { $0.rule != .thread && $0.rule != .manual }
        let references = try String.fetchAll(db.cachedStatement(sql: "SELECT message_id FROM reference WHERE message = ? ORDER BY kind DESC, position"),
                                             arguments: [id])
        let thread = try Self.threadMatches(references: references, excluding: id, index: filer.index, db)
        let manual = try Self.manual(of: id, db)
        var decision = Filer.combine(direct: direct, thread: thread, manual: manual, mode: filer.index.rules.mode)
        // A stored message is never dropped to "excluded, unmatched" after the fact: its content is here.
        if decision.status == .excluded { decision = FilingDecision(status: .unassigned) }
        guard Set(decision.matches) != Set(current) else { return false }
        try save(decision, messageRowID: id, db)
        return true
    }

    /// The stored matches of a message.
    public static func matches(of id: Int64, _ db: Database) throws -> [FilingMatch] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT rule, kind, record, matched, via FROM filing_match WHERE message = ?"),
                         arguments: [id]).compactMap { row in
            guard let rule = FilingRule(rawValue: row[0]), let kind = CRMRecordKind(rawValue: row[1]) else { return nil }
            let via = (row[4] as String?).flatMap(CRMRecordRef.init(parsing:))
            return FilingMatch(rule: rule, record: CRMRecordRef(kind, row[2]), matched: row[3], via: via)
        }
    }

    /// A person's decisions on a message.
    public static func manual(of id: Int64, _ db: Database) throws -> ManualFiling {
        var manual = ManualFiling()
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT action, kind, record FROM manual_filing WHERE message = ? ORDER BY at"),
                                    arguments: [id]) {
            guard let kind = CRMRecordKind(rawValue: row[1]) else { continue }
            let record = CRMRecordRef(kind, row[2])
            if (row[0] as String) == "assign" { manual.assigned.append(record) } else { manual.removed.insert(record) }
        }
        return manual
    }
}

extension CRMRecordRef {
    /// Parses `kind:id` (as `dossier assign` takes it and `description` spells it).
    public init?(parsing text: String) {
        guard let colon = text.firstIndex(of: ":"), let kind = CRMRecordKind(rawValue: String(text[..<colon]).lowercased()) else { return nil }
        let id = String(text[text.index(after: colon)...])
        guard !id.isEmpty else { return nil }
        self.init(kind, id)
    }
}
