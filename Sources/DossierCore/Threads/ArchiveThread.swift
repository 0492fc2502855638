import Foundation
import GRDB

/// A message as a thread tree shows it: who, when, what, and where it is filed.
public struct ThreadMessage: Sendable, Encodable, SenderDisplaying {
    public var rowID: Int64
    public var key: String
    public var messageID: String?
    public var date: Date?
    public var fromAddress: String?
    public var fromName: String?
    public var subject: String?
    /// Storage state: stored, or excluded (only the record was kept).
    public var status: String
    /// The filing status (filed, unassigned, internal, noise, excluded).
    public var filing: String?
    public var filingReason: String?
    public var evidence: String?
    public var direction: String?
    public var context: String?
    /// The records it is filed to, sorted.
    public var records: [CRMRecordRef]
    /// References, oldest first, and In-Reply-To, as stored.
    public var references: [String]
    public var inReplyTo: [String]


    /// The filing status with its reason: `excluded (window)`, `filed`.
    public var filingText: String {
        let status = filing ?? (self.status == "stored" ? FilingStatus.unassigned.rawValue : FilingStatus.excluded.rawValue)
        let reason = filingReason ?? (self.status == "stored" ? nil : self.reason)
        return reason.map { "\(status) (\($0))" } ?? status
    }

    /// The storage reason (for excluded messages).
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case key, date, subject, status, filing, evidence, direction, context, records, reason
        case messageID = "message_id"
        case fromAddress = "from_address"
        case fromName = "from_name"
        case filingReason = "filing_reason"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(messageID, forKey: .messageID)
        try container.encode(date, forKey: .date)
        try container.encode(fromAddress, forKey: .fromAddress)
        try container.encode(fromName, forKey: .fromName)
        try container.encode(subject, forKey: .subject)
        try container.encode(status, forKey: .status)
        try container.encode(filing, forKey: .filing)
        try container.encode(filingReason ?? (status == "stored" ? nil : reason), forKey: .filingReason)
        try container.encode(evidence, forKey: .evidence)
        try container.encode(direction, forKey: .direction)
        try container.encode(context, forKey: .context)
        try container.encode(records.map(\.description), forKey: .records)
    }
}

/// The thread one message belongs to, read from the archive.
public struct MessageThread: Sendable {
    /// The key of the message asked about.
    public var focus: String
    public var roots: [ThreadNode<ThreadMessage>]
    /// Messages in the archive that belong to the thread.
    public var messageCount: Int
    /// Placeholders: messages the thread refers to that are not in the archive.
    public var missingCount: Int
    /// The walk stopped at `ArchiveThread.defaultLimit` messages: the tree shows part of the thread.
    public var truncated: Bool
}

/// Threads read from the archive without loading it whole: the thread of a message is found by
/// walking the `reference` table both ways from it (the ids it names, the messages that name it
/// or those ids), then threaded with `ThreadBuilder`.
public enum ArchiveThread {
    /// At most this many messages are gathered for one thread (a Message-ID that a mailing list
    /// put in every References would otherwise pull in the whole list).
    public static let defaultLimit = 5000

    /// The thread of the message with `key` (or a unique prefix of it).
    public static func thread(ofKey key: String, _ db: Database, limit: Int = defaultLimit) throws -> MessageThread {
        let record = try MessageRecord.resolve(db, key: key)
        let (ids, truncated) = try component(of: record.id, db, limit: limit)
        let messages = try load(ids, db)
        let roots = ThreadBuilder.build(messages, messageID: \.messageID, references: \.references,
                                        inReplyTo: \.inReplyTo, date: \.date)
        let nodes = roots.flatMap { $0.flattened() }
        return MessageThread(focus: record.key, roots: roots, messageCount: nodes.filter { !$0.node.isPlaceholder }.count,
                             missingCount: nodes.filter { $0.node.isPlaceholder }.count, truncated: truncated)
    }

    /// The row ids of the messages connected to `start` through Message-IDs and references: the
    /// messages it names, those that name it, and so on both ways, up to `limit` messages.
    /// Returns them sorted, with whether the limit cut the walk short.
    public static func component(of start: Int64, _ db: Database, limit: Int = defaultLimit) throws -> (ids: [Int64], truncated: Bool) {
        let ownID = try db.cachedStatement(sql: "SELECT message_id FROM message WHERE id = ?")
        let namedBy = try db.cachedStatement(sql: "SELECT message_id FROM reference WHERE message = ?")
        let withID = try db.cachedStatement(sql: "SELECT id FROM message WHERE message_id = ?")
        let naming = try db.cachedStatement(sql: "SELECT DISTINCT message FROM reference WHERE message_id = ?")
        var found: Set<Int64> = [start]
        var work: [Int64] = [start]
        var seenIDs = Set<String>()
        while let message = work.popLast() {
            var ids = try String.fetchAll(namedBy, arguments: [message])
            if let own = try String.fetchOne(ownID, arguments: [message]) { ids.append(own) }
            for id in ids where seenIDs.insert(id).inserted {
                for other in try Int64.fetchAll(withID, arguments: [id]) + Int64.fetchAll(naming, arguments: [id]) {
                    guard found.insert(other).inserted else { continue }
                    if found.count >= limit { return (found.sorted(), true) }
                    work.append(other)
                }
            }
        }
        return (found.sorted(), false)
    }

    /// The rows of these messages, with their references and records.
    public static func load(_ ids: [Int64], _ db: Database) throws -> [ThreadMessage] {
        let row = try db.cachedStatement(sql: """
            SELECT id, key, message_id, date, from_address, from_name, subject, status, reason, filing, filing_reason,
                   evidence, direction, context
            FROM message WHERE id = ?
            """)
        let references = try db.cachedStatement(sql: "SELECT kind, message_id FROM reference WHERE message = ? ORDER BY position")
        let records = try db.cachedStatement(sql: "SELECT DISTINCT kind, record FROM filing_match WHERE message = ?")
        var result: [ThreadMessage] = []
        result.reserveCapacity(ids.count)
        for id in ids {
            guard let r = try Row.fetchOne(row, arguments: [id]) else { continue }
            var message = ThreadMessage(
                rowID: r["id"], key: r["key"], messageID: r["message_id"],
                date: (r["date"] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0)) },
                fromAddress: r["from_address"], fromName: r["from_name"], subject: r["subject"], status: r["status"],
                filing: r["filing"], filingReason: r["filing_reason"], evidence: r["evidence"], direction: r["direction"],
                context: r["context"], records: [], references: [], inReplyTo: [], reason: r["reason"])
            for reference in try Row.fetchAll(references, arguments: [id]) {
                if (reference[0] as String) == "in-reply-to" {
                    message.inReplyTo.append(reference[1])
                } else {
                    message.references.append(reference[1])
                }
            }
            message.records = try Row.fetchAll(records, arguments: [id]).compactMap { record in
                CRMRecordKind(rawValue: record[0]).map { CRMRecordRef($0, record[1]) }
            }.sorted()
            result.append(message)
        }
        return result
    }
}
