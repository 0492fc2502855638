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

    /// Rule 2: every record of every filed message that `references` names (other than `self`).
    static func threadMatches(references: [String], excluding selfID: Int64?, _ db: Database) throws -> [FilingMatch] {
        guard !references.isEmpty else { return [] }
        var matches: [FilingMatch] = []
        let statement = try db.cachedStatement(sql: """
            SELECT m.id, f.kind, f.record FROM message m JOIN filing_match f ON f.message = m.id
            WHERE m.message_id = ? AND m.filing = 'filed'
            """)
        for reference in references {
            for row in try Row.fetchAll(statement, arguments: [reference]) {
                let id: Int64 = row[0]
                if id == selfID { continue }
                guard let kind = CRMRecordKind(rawValue: row[1]) else { continue }
                matches.append(FilingMatch(rule: .thread, record: CRMRecordRef(kind, row[2]), matched: reference))
            }
        }
        return Filer.normalized(matches)
    }

    /// "reply" when the message answers one the firm sent (an outbound message in the archive,
    /// or a Message-ID minted in an internal domain), else "new".
    func context(references: [String], _ db: Database) throws -> ConversationContext {
        guard !references.isEmpty else { return .new }
        let statement = try db.cachedStatement(sql: "SELECT direction FROM message WHERE message_id = ?")
        for reference in references {
            if let direction = try String.fetchOne(statement, arguments: [reference]) {
                if direction == Direction.outbound.rawValue { return .reply }
            } else if let at = reference.lastIndex(of: "@"), filer.index.isInternalDomain(String(reference[reference.index(after: at)...])) {
                return .reply
            }
        }
        return .new
    }

    /// Writes a decision over the message's previous one.
    func save(_ decision: FilingDecision, messageRowID id: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE message SET filing = ?, filing_reason = ?, evidence = ? WHERE id = ?")
            .execute(arguments: [decision.status.rawValue, decision.reason, decision.evidence?.rawValue, id])
        try db.cachedStatement(sql: "DELETE FROM filing_match WHERE message = ?").execute(arguments: [id])
        let insert = try db.cachedStatement(sql: "INSERT INTO filing_match (message, rule, kind, record, matched, via) VALUES (?, ?, ?, ?, ?, ?)")
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
        let thread = try Self.threadMatches(references: references, excluding: id, db)
        let manual = try Self.manual(of: id, db)
        var decision = filer.combine(direct: direct, thread: thread, manual: manual)
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
