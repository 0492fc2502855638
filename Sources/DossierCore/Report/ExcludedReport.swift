import Foundation
import GRDB

/// One message left out of the client files: noise, or excluded (window, blacklist, excluded
/// contact, unmatched, noise counted only), with the reason and what it rests on.
public struct ExcludedItem: Sendable, Encodable, SenderDisplaying {
    public var key: String
    public var date: Date?
    /// `noise` or `excluded`.
    public var status: String
    /// The noise kind, or the exclusion reason.
    public var reason: String
    /// Sender and subject where they were kept: stored messages, and noise counted only.
    public var fromAddress: String?
    public var fromName: String?
    public var subject: String?
    /// The content is in the archive (noise kept flagged); false: only the record.
    public var stored: Bool
    /// For noise: whether the verdict was decisive, and every signal that fired.
    public var decisive: Bool?
    public var signals: [String]
    /// Where each copy was read (mailbox, path, offset), so a person can open the source.
    public var sources: [CopySource]


    enum CodingKeys: String, CodingKey {
        case key, date, status, reason, from, subject, stored, decisive, signals, sources
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(date, forKey: .date)
        try container.encode(status, forKey: .status)
        try container.encode(reason, forKey: .reason)
        try container.encode(from, forKey: .from)
        try container.encode(subject, forKey: .subject)
        try container.encode(stored, forKey: .stored)
        try container.encode(decisive, forKey: .decisive)
        try container.encode(signals, forKey: .signals)
        try container.encode(sources, forKey: .sources)
    }
}

/// Where one copy of a message was read.
public struct CopySource: Sendable, Encodable, Equatable {
    public var mailbox: String
    public var path: String
    /// Byte offset of an mbox message's "From " line; nil for a file per message.
    public var offset: Int64?
}

/// `dossier report excluded`: every noise and excluded message with its reason, grouped by
/// reason and oldest first, so a person can check that nothing a client wrote was dropped.
public enum ExcludedReport {
    /// Every reason a message can be listed under: the noise kinds (`noise` when the signals
    /// named no kind) and the exclusion reasons of the filing-report contract. `--reason` takes
    /// only these, so a misspelt reason is an error, not an empty report.
    public enum Reason: String, Sendable, CaseIterable {
        case bounce, readReceipt = "read_receipt", meetingReply = "meeting_reply", autoreply, newsletter, noreply
        case noise
        case window, blacklist, excludedContact = "excluded_contact", unmatched
    }

    /// Which messages: all, or only these reasons (noise kinds or exclusion reasons), or only those
    /// first read by one run.
    public struct Filter: Sendable {
        public var reasons: Set<String>
        public var run: Int64?
        public init(reasons: Set<String> = [], run: Int64? = nil) {
            self.reasons = reasons
            self.run = run
        }
    }

    /// Counts per (status, reason), for the table's summary.
    public static func counts(_ db: Database, filter: Filter = Filter()) throws -> [(status: String, reason: String, count: Int)] {
        let (condition, arguments) = sql(filter)
        return try Row.fetchAll(db, sql: """
            SELECT filing, COALESCE(filing_reason, reason, ''), COUNT(*) FROM message WHERE \(condition)
            GROUP BY 1, 2 ORDER BY 1 DESC, 2
            """, arguments: arguments).map { ($0[0], $0[1], $0[2]) }
    }

    /// Calls `emit` with each message, noise first, then excluded; by reason; oldest first.
    public static func write(_ db: Database, filter: Filter = Filter(), limit: Int? = nil, emit: (ExcludedItem) throws -> Void) throws {
        let (condition, arguments) = sql(filter)
        let sources = try db.cachedStatement(sql: "SELECT mailbox, path, offset FROM copy WHERE message = ? ORDER BY id")
        let rows = try Row.fetchCursor(db, sql: """
            SELECT id, key, date, filing, COALESCE(filing_reason, reason, '') AS why, from_address, from_name, subject, status,
                   noise_decisive, noise_signals
            FROM message WHERE \(condition)
            ORDER BY filing DESC, why, date IS NULL, date, key
            """ + (limit.map { " LIMIT \($0)" } ?? ""), arguments: arguments)
        while let row = try rows.next() {
            let status: String = row["filing"]
            let isNoise = status == FilingStatus.noise.rawValue
            let signalText: String? = row["noise_signals"]
            let copies: [CopySource] = try Row.fetchAll(sources, arguments: [row["id"]]).map { copy in
                let offset: Int64 = copy["offset"]
                return CopySource(mailbox: copy["mailbox"], path: copy["path"], offset: offset >= 0 ? offset : nil)
            }
            let seconds: Int64? = row["date"]
            let decisive: Bool? = row["noise_decisive"]
            let storage: String = row["status"]
            var item = ExcludedItem(key: row["key"], date: seconds.map { Date(timeIntervalSince1970: TimeInterval($0)) },
                                    status: status, reason: row["why"], fromAddress: row["from_address"], fromName: row["from_name"],
                                    subject: row["subject"], stored: storage == "stored", decisive: nil, signals: [], sources: copies)
            if isNoise {
                item.decisive = decisive ?? false
                item.signals = signalText.map { $0.split(separator: "\n").map(String.init) } ?? []
            }
            try emit(item)
        }
    }

    private static func sql(_ filter: Filter) -> (String, StatementArguments) {
        var conditions = ["filing IN ('noise', 'excluded')"]
        var arguments = StatementArguments()
        if !filter.reasons.isEmpty {
            conditions.append("COALESCE(filing_reason, reason, '') IN (" + filter.reasons.map { _ in "?" }.joined(separator: ", ") + ")")
            arguments += StatementArguments(filter.reasons.sorted())
        }
        if let run = filter.run {
            conditions.append("first_run = ?")
            arguments += [run]
        }
        return (conditions.joined(separator: " AND "), arguments)
    }
}
