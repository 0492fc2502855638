import Foundation
import GRDB

/// One message that was read more than once (`dossier report duplicates`): its copies grouped
/// by content, and how each content differs from the first stored one.
public struct DuplicateGroup: Sendable, Encodable {
    /// One distinct content among the copies (or the copies whose bytes were not kept).
    public struct Content: Sendable, Encodable {
        /// 1 for the first stored content (the one `report assignments`'s `sha256` names), 2, 3,
        /// ... for the others (`show KEY --raw --copy N` reads any of its copies); nil when the
        /// bytes were not kept (those copies were excluded when read).
        public var number: Int?
        public var sha256: String
        public var size: Int
        /// The copy numbers (as `show` lists them) that had these bytes.
        public var copies: [Int]
        public var sources: [AssignmentLine.Source]
        /// How it differs from content 1: nil for content 1 itself and for bytes not kept.
        public var difference: ContentDifference?

        enum CodingKeys: String, CodingKey { case number, sha256, size, copies, sources, difference }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(number, forKey: .number)
            try container.encode(sha256, forKey: .sha256)
            try container.encode(size, forKey: .size)
            try container.encode(copies, forKey: .copies)
            try container.encode(sources.map(SourceJSON.init), forKey: .sources)
            try container.encode(difference, forKey: .difference)
        }

        /// The differences in words, for the table and the page.
        public var differs: String {
            if number == nil { return "not kept (excluded when read)" }
            if number == 1 { return "first stored" }
            return difference?.description ?? "other bytes"
        }
    }

    private struct SourceJSON: Encodable {
        var mailbox: String
        var path: String
        var offset: Int64?
        init(_ source: AssignmentLine.Source) { mailbox = source.mailbox; path = source.path; offset = source.offset }
        enum CodingKeys: String, CodingKey { case mailbox, path, offset }
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(mailbox, forKey: .mailbox)
            try container.encode(path, forKey: .path)
            try container.encode(offset, forKey: .offset)
        }
    }

    public var key: String
    public var messageID: String?
    public var date: Date?
    public var subject: String?
    /// The message's filing status, as `report assignments` gives it.
    public var status: String
    public var copyCount: Int
    public var contents: [Content]

    /// Contents kept in the archive: more than one means copies with the same Message-ID differ.
    public var keptContents: Int { contents.filter { $0.number != nil }.count }
    public var hasVariants: Bool { keptContents > 1 }

    enum CodingKeys: String, CodingKey {
        case key, messageID = "message_id", date, subject, status, copyCount = "copies", contents
    }
}

/// `dossier report duplicates`: every message read more than once, oldest stored first, its
/// copies grouped by content. Identical bytes are plain duplicates; other bytes under the same
/// Message-ID (a Bcc copy, a list's altered copy, a re-sent draft, a forgery) are listed with how
/// they differ (header fields only, or the body too), read from the originals.
public enum DuplicatesReport {
    public struct Filter: Sendable {
        /// Only messages whose copies have more than one kept content.
        public var variantsOnly: Bool
        public init(variantsOnly: Bool = false) { self.variantsOnly = variantsOnly }
    }

    /// Counts for the summary line.
    public struct Counts: Sendable, Encodable {
        public var messages = 0
        public var plain = 0
        public var withVariants = 0
        public var variants = 0
    }

    public static func write(_ db: Database, archive: Archive, filter: Filter = Filter(),
                             emit: (DuplicateGroup) throws -> Void) throws {
        let ids = try Int64.fetchAll(db, sql: """
            SELECT message FROM copy GROUP BY message
            HAVING COUNT(*) > 1\(filter.variantsOnly ? " AND COUNT(DISTINCT sha256) > 1" : "") ORDER BY message
            """)
        for id in ids {
            guard let record = try MessageRecord.fetchOne(db, sql: "SELECT * FROM message WHERE id = ?", arguments: [id]) else { continue }
            let group = try group(record, archive: archive, db)
            if filter.variantsOnly && !group.hasVariants { continue }
            try emit(group)
        }
    }

    static func group(_ record: MessageRecord, archive: Archive, _ db: Database) throws -> DuplicateGroup {
        let copies = try ContentVariants.copies(of: record, in: archive, db)
        var contents: [DuplicateGroup.Content] = []
        var index: [String: Int] = [:]
        for copy in copies {
            let source = AssignmentLine.Source(mailbox: copy.source.mailbox, path: copy.source.path,
                                               offset: copy.source.offset, sha256: copy.source.sha256)
            if let at = index[copy.source.sha256] {
                contents[at].copies.append(copy.copy)
                contents[at].sources.append(source)
                continue
            }
            index[copy.source.sha256] = contents.count
            contents.append(.init(number: copy.content, sha256: copy.source.sha256, size: copy.source.size,
                                  copies: [copy.copy], sources: [source], difference: copy.difference))
        }
        contents.sort { ($0.number ?? .max, $0.copies[0]) < ($1.number ?? .max, $1.copies[0]) }
        let filing: String? = try String.fetchOne(db, sql: "SELECT filing FROM message WHERE id = ?", arguments: [record.id])
        return DuplicateGroup(key: record.key, messageID: record.messageID, date: record.date, subject: record.subject,
                              status: filing ?? (record.status == "stored" ? FilingStatus.unassigned.rawValue : FilingStatus.excluded.rawValue),
                              copyCount: copies.count, contents: contents)
    }

    public static func counts(_ groups: [DuplicateGroup]) -> Counts {
        var counts = Counts()
        for group in groups {
            counts.messages += 1
            if group.hasVariants {
                counts.withVariants += 1
                counts.variants += group.keptContents - 1
            } else {
                counts.plain += 1
            }
        }
        return counts
    }

    /// The summary line the table and the page end with.
    public static func summary(_ counts: Counts) -> String {
        "\(counts.messages) message\(counts.messages == 1 ? "" : "s") read more than once: \(counts.plain) plain duplicate\(counts.plain == 1 ? "" : "s") "
            + "(identical bytes, or copies not kept), \(counts.withVariants) with other content under the same Message-ID "
            + "(\(counts.variants) more content\(counts.variants == 1 ? "" : "s"))"
    }
}
