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
    /// filed message it names, one match per record and parent, as `ThreadConvergence` gives them:
    /// what an import stores is what a rematch would write) and its
    /// context ("reply" when it answers a message the firm sent: an outbound message in the
    /// archive, or a Message-ID minted in an internal domain; else "new").
    public struct ThreadLookup: Sendable {
        public var matches: [FilingMatch]
        public var context: ConversationContext
    }

    public static func lookup(references: [String], excluding selfID: Int64?, index: CRMIndex, _ db: Database) throws -> ThreadLookup {
        var result = ThreadLookup(matches: [], context: .new)
        guard !references.isEmpty else { return result }
        // The parent and, when it is filed, its records in one statement: this runs for every
        // reference of every message an import writes.
        let parent = try db.cachedStatement(sql: """
            SELECT m.id, m.direction, f.kind, f.record FROM message m
            LEFT JOIN filing_match f ON f.message = m.id AND m.filing = 'filed'
            WHERE m.message_id = ?
            """)
        for reference in references {
            var known = false
            try parent.forEachRow(binding: { $0.add(reference) }) { row in
                if !known {
                    known = true
                    if row.string(1) == Direction.outbound.rawValue { result.context = .reply }
                }
                guard row.int64(0) != selfID, let kind = row.string(2).flatMap(CRMRecordKind.init(rawValue:)),
                      let id = row.string(3) else { return }
                result.matches.append(FilingMatch(rule: .thread, record: CRMRecordRef(kind, id), matched: reference))
            }
            if !known, let at = reference.lastIndex(of: "@"), index.isInternalDomain(String(reference[reference.index(after: at)...])) {
                result.context = .reply
            }
        }
        result.matches = Filer.normalized(result.matches)
        return result
    }

    /// The reply/new context with the archive's directions given by `direction` (nil for a
    /// Message-ID the archive does not hold, or holds without a direction: excluded).
    static func context(references: [String], index: CRMIndex, direction: (String) throws -> Direction?) rethrows -> ConversationContext {
        for reference in references {
            if let known = try direction(reference) {
                if known == .outbound { return .reply }
            } else if let at = reference.lastIndex(of: "@"), index.isInternalDomain(String(reference[reference.index(after: at)...])) {
                return .reply
            }
        }
        return .new
    }

    /// Adds the matches of a message that has none yet.
    static func insertMatches(_ matches: [FilingMatch], messageRowID id: Int64, _ db: Database) throws {
        guard !matches.isEmpty else { return }
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO filing_match (message, rule, kind, record, matched, via) VALUES (?, ?, ?, ?, ?, ?)")
        for match in matches {
            try insert.run { row in
                row.add(id); row.add(match.rule.rawValue); row.add(match.record.kind.rawValue); row.add(match.record.id)
                row.add(match.matched); row.add(match.via?.description)
            }
        }
    }

    /// Import's convergence step, after the message `messageID` was filed to `records`: every
    /// filed or unassigned reply already in the archive that refers to it gains the thread matches
    /// it lacks (the thread rule fires for it even when it adds no record, so its evidence becomes
    /// at least "thread"), and replies whose records grew pass them on down the thread. During an
    /// import records are only ever added, so this incremental walk reaches the same result as
    /// re-filing every reply, at a fraction of the cost.
    ///
    /// Replies that were waiting are filed too: those left unmatched in matched_only mode, and
    /// those whose weak noise signals (list fields, a no-reply sender) the thread now outranks;
    /// such a reply kept no matches while it was noise, so `directMatches` re-derives its own.
    /// Returns the replies revived this way: the caller indexes those not yet searchable, and
    /// takes those that were noise off its run's noise count.
    func propagateAdditions(from messageID: String, records: [CRMRecordRef], _ db: Database,
                            directMatches: (Int64) throws -> [FilingMatch]) throws -> [RevivedReply] {
        var work = [(messageID, records)]
        var revived: [RevivedReply] = []
        // Each reply with its matches' rules and records, in one statement (this runs for every
        // message filed). No DISTINCT, which builds a temporary B-tree on every call: rows are
        // grouped by reply below, so one that names the parent twice counts once.
        let children = try db.cachedStatement(sql: """
            SELECT m.id, m.message_id, m.evidence, m.filing, f.rule, f.kind, f.record, m.filing_reason, m.first_run, f.matched
            FROM reference r JOIN message m ON m.id = r.message LEFT JOIN filing_match f ON f.message = m.id
            WHERE r.message_id = ? AND (m.filing IN ('filed', 'unassigned')
                  OR (m.filing = 'excluded' AND m.filing_reason = 'unmatched' AND m.status = 'stored')
                  OR (m.filing = 'noise' AND m.noise_decisive = 0 AND m.status = 'stored'))
            """)
        let update = try db.cachedStatement(sql: "UPDATE message SET filing = 'filed', filing_reason = NULL, evidence = ? WHERE id = ?")
        while let (parentID, parentRecords) = work.popLast() {
            // Read to the end before writing: the loop below inserts into the tables read.
            var replies: [Reply] = []
            var replyIndex: [Int64: Int] = [:]
            let rows = try Row.fetchCursor(children, arguments: [parentID])
            while let row = try rows.next() {
                let child: Int64 = row[0]
                let position: Int
                if let known = replyIndex[child] {
                    position = known
                } else {
                    position = replies.count
                    replyIndex[child] = position
                    let filing: String? = row[3]
                    replies.append(Reply(id: child, messageID: row[1], evidence: (row[2] as String?).flatMap(FilingRule.init(rawValue:)),
                                         isExcluded: filing == FilingStatus.excluded.rawValue, isNoise: filing == FilingStatus.noise.rawValue,
                                         reason: row[7], firstRun: row[8]))
                }
                guard let kind = (row[5] as String?).flatMap(CRMRecordKind.init(rawValue:)) else { continue }
                let record = CRMRecordRef(kind, row[6])
                replies[position].records.insert(record)
                // The thread matches through this parent: a reply filed through another message of
                // the thread still gains this parent's (a rematch records one per filed reference,
                // and the import must leave what a rematch would write, or every rematch rewrites it).
                if (row[4] as String) == FilingRule.thread.rawValue && (row[9] as String) == parentID {
                    replies[position].threadRecords.insert(record)
                }
            }
            for var reply in replies {
                var newThread = parentRecords.filter { !reply.threadRecords.contains($0) }
                guard !newThread.isEmpty else { continue }
                // Manual removals are rare: read them only when there is something to add.
                let removed = try Self.manual(of: reply.id, db).removed
                newThread.removeAll { removed.contains($0) }
                guard !newThread.isEmpty else { continue }
                var own: [FilingMatch] = []
                if reply.isNoise {
                    own = Filer.normalized(try directMatches(reply.id).filter { !removed.contains($0.record) })
                    reply.records = Set(own.map(\.record))
                }
                try Self.insertMatches(own + newThread.map { FilingMatch(rule: .thread, record: $0, matched: parentID) },
                                       messageRowID: reply.id, db)
                let evidence = ([FilingRule.thread, reply.evidence].compactMap { $0 } + own.map(\.rule)).min()!
                try update.execute(arguments: [evidence.rawValue, reply.id])
                if reply.isExcluded || reply.isNoise {
                    revived.append(RevivedReply(id: reply.id, wasNoise: reply.isNoise, reason: reply.reason, firstRun: reply.firstRun))
                }
                // A reply that was noise had no records: all of them are new down the thread.
                let added = newThread.filter { !reply.records.contains($0) }
                if (!added.isEmpty || !own.isEmpty), let childID = reply.messageID {
                    work.append((childID, Array(reply.records) + added))
                }
            }
        }
        return revived
    }

    /// A reply that waited (unmatched, or weak noise) and that a filed parent just filed.
    struct RevivedReply {
        var id: Int64
        var wasNoise: Bool
        /// Its filing reason while it waited (the noise kind, for noise).
        var reason: String?
        /// The run that first stored it.
        var firstRun: Int64
    }

    /// A stored reply to a message just filed, as `propagateAdditions` reads it.
    private struct Reply {
        var id: Int64
        var messageID: String?
        var evidence: FilingRule?
        /// Excluded as unmatched (matched_only mode), waiting for a parent to file it.
        var isExcluded: Bool
        /// Weak noise, which a filed parent outranks.
        var isNoise: Bool
        var reason: String?
        var firstRun: Int64
        var records: Set<CRMRecordRef> = []
        /// The records the thread rule filed it to through the parent at hand.
        var threadRecords: Set<CRMRecordRef> = []
    }

    /// Writes a decision over the message's previous one.
    func save(_ decision: FilingDecision, messageRowID id: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE message SET filing = ?, filing_reason = ?, evidence = ? WHERE id = ?")
            .execute(arguments: [decision.status.rawValue, decision.reason, decision.evidence?.rawValue, id])
        try db.cachedStatement(sql: "DELETE FROM filing_match WHERE message = ?").execute(arguments: [id])
        try Self.insertMatches(decision.matches, messageRowID: id, db)
    }

    /// Re-decides one message (whose facts `pre` were just derived from its original, with the
    /// manual decisions now in the archive) and, with it, every reply that inherits from it
    /// (transitively): the thread rule is solved over that set at once (`ThreadConvergence`),
    /// the parents outside it counting with the records they have. Writes what changed and
    /// returns it, the message itself first.
    func redecide(messageRowID id: Int64, pre: PreFiling, _ db: Database) throws -> [FilingChange] {
        struct Member {
            var id: Int64
            var key: String
            var status: String
            var reason: String?
            var evidence: String?
            var matches: [FilingMatch]
            var preceding: FilingDecision?
        }
        guard let row = try Row.fetchOne(db, sql: "SELECT key, message_id, status, filing, filing_reason, evidence FROM message WHERE id = ?",
                                         arguments: [id]) else { return [] }
        let stored = (row["status"] as String) == "stored"
        let status: String = row["filing"] ?? (stored ? FilingStatus.unassigned.rawValue : FilingStatus.excluded.rawValue)
        let reason: String? = row["filing_reason"]
        let manual = try Self.manual(of: id, db)
        let preceding = filer.precedingDecision(pre, manual: manual, noise: status == FilingStatus.noise.rawValue ? reason : nil)
        var nodes = [ThreadConvergence.Node(messageID: row["message_id"], references: pre.references, byRules: preceding == nil,
                                            direct: pre.direct, manual: manual)]
        var members = [Member(id: id, key: row["key"], status: status, reason: reason, evidence: row["evidence"],
                              matches: try Self.matches(of: id, db), preceding: preceding)]

        // The replies that inherit from it, transitively: stored and filed by the rules (a
        // stored message left unmatched in matched_only mode may become filed too).
        let children = try db.cachedStatement(sql: """
            SELECT DISTINCT m.id, m.key, m.message_id, m.filing, m.filing_reason, m.evidence
            FROM reference r JOIN message m ON m.id = r.message
            WHERE r.message_id = ? AND m.status = 'stored'
              AND (m.filing IN ('filed', 'unassigned') OR (m.filing = 'excluded' AND m.filing_reason = 'unmatched'))
            """)
        let references = try db.cachedStatement(sql: "SELECT message_id FROM reference WHERE message = ? ORDER BY position")
        var queue: [String] = (row["message_id"] as String?).map { [$0] } ?? []
        var inGraph: Set<Int64> = [id]
        while let parent = queue.popLast() {
            for child in try Row.fetchAll(children, arguments: [parent]) {
                let childID: Int64 = child["id"]
                guard inGraph.insert(childID).inserted else { continue }
                let current = try Self.matches(of: childID, db)
                nodes.append(ThreadConvergence.Node(
                    messageID: child["message_id"], references: try String.fetchAll(references, arguments: [childID]), byRules: true,
                    direct: current.filter { $0.rule != .thread && $0.rule != .manual }, manual: try Self.manual(of: childID, db)))
                members.append(Member(id: childID, key: child["key"], status: child["filing"], reason: child["filing_reason"],
                                      evidence: child["evidence"], matches: current, preceding: nil))
                if let messageID: String = child["message_id"] { queue.append(messageID) }
            }
        }

        // Parents outside the set keep what they have.
        let inside = Set(nodes.compactMap(\.messageID))
        let filedRecords = try db.cachedStatement(sql: """
            SELECT DISTINCT f.kind, f.record FROM message m JOIN filing_match f ON f.message = m.id
            WHERE m.message_id = ? AND m.filing = 'filed'
            """)
        var outside: [String: [CRMRecordRef]] = [:]
        for node in nodes where node.byRules {
            for reference in node.references where !inside.contains(reference) && outside[reference] == nil {
                outside[reference] = try Row.fetchAll(filedRecords, arguments: [reference]).compactMap { record in
                    CRMRecordKind(rawValue: record[0]).map { CRMRecordRef($0, record[1]) }
                }
            }
        }

        let thread = ThreadConvergence(nodes: nodes, outside: outside).solve(filer: filer)
        var changes: [FilingChange] = []
        for (index, member) in members.enumerated() {
            let node = nodes[index]
            let decision = member.preceding ?? filer.combine(direct: node.direct, thread: thread[index], manual: node.manual)
            guard decision.status.rawValue != member.status || decision.reason != member.reason
                    || decision.evidence?.rawValue != member.evidence || Set(decision.matches) != Set(member.matches) else { continue }
            try save(decision, messageRowID: member.id, db)
            changes.append(FilingChange(key: member.key, oldStatus: member.status, newStatus: decision.status.rawValue,
                                        oldRecords: Array(Set(member.matches.map(\.record))).sorted().map(\.description),
                                        newRecords: decision.records.map(\.description)))
        }
        return changes
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

/// One message whose filing changed: status and records before and after.
public struct FilingChange: Sendable, Codable, Equatable {
    public var key: String
    public var oldStatus: String
    public var newStatus: String
    /// `kind:id`, sorted (accounts, contacts, leads, cases).
    public var oldRecords: [String]
    public var newRecords: [String]

    public init(key: String, oldStatus: String, newStatus: String, oldRecords: [String], newRecords: [String]) {
        self.key = key
        self.oldStatus = oldStatus
        self.newStatus = newStatus
        self.oldRecords = oldRecords
        self.newRecords = newRecords
    }

    /// Whether the records moved (not only the status or the evidence).
    public var recordsChanged: Bool { oldRecords != newRecords }

    enum CodingKeys: String, CodingKey {
        case key
        case oldStatus = "old_status"
        case newStatus = "new_status"
        case oldRecords = "old_records"
        case newRecords = "new_records"
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
