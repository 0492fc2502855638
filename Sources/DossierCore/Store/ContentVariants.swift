import Foundation
import GRDB

/// How a copy's bytes differ from the message's first stored content (content 1, whose digest is
/// `message.sha256` and which `report assignments` names).
public struct ContentDifference: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// The same bytes.
        case identical
        /// The same once CRLF and LF are made one: a copy saved by another client or transport.
        case lineEndings = "line_endings"
        /// The same body; header fields were added, removed or changed (a Bcc copy, a list's
        /// added List-* fields, another Received trail).
        case headers
        /// The body differs too (a list's footer, a re-sent draft, a forgery).
        case body
    }

    public var kind: Kind
    /// The header fields that differ, in order of first appearance: `+Name` only in this copy,
    /// `-Name` only in content 1, `~Name` in both with other values.
    public var fields: [String]

    public init(kind: Kind, fields: [String] = []) {
        self.kind = kind
        self.fields = fields
    }

    /// "headers only (+Bcc, ~Received)", "body too (~Subject)", "line endings only", "identical".
    public var description: String {
        let list = fields.isEmpty ? "" : " (" + fields.joined(separator: ", ") + ")"
        switch kind {
        case .identical: return "identical"
        case .lineEndings: return "line endings only"
        case .headers: return "headers only" + list
        case .body: return "body too" + list
        }
    }

    /// Compares two originals: their header fields by name (values unfolded of CR) and their
    /// bodies byte for byte (and again with line endings made one). Pure.
    public static func between(_ first: [UInt8], _ other: [UInt8]) -> ContentDifference {
        if first == other { return ContentDifference(kind: .identical) }
        let firstRoot = MIMEParser.parse(first), otherRoot = MIMEParser.parse(other)
        let fields = fieldChanges(firstRoot.headers, otherRoot.headers)
        if withoutCR(first[...]) == withoutCR(other[...]) { return ContentDifference(kind: .lineEndings) }
        let firstBody = first[clamped(firstRoot.bodyRange, first.count)]
        let otherBody = other[clamped(otherRoot.bodyRange, other.count)]
        let sameBody = firstBody.elementsEqual(otherBody) || withoutCR(firstBody) == withoutCR(otherBody)
        return ContentDifference(kind: sameBody ? .headers : .body, fields: fields)
    }

    static func fieldChanges(_ first: HeaderList, _ other: HeaderList) -> [String] {
        func values(_ list: HeaderList) -> (order: [String], names: [String: String], values: [String: [[UInt8]]]) {
            var order: [String] = [], names: [String: String] = [:], values: [String: [[UInt8]]] = [:]
            for field in list.fields {
                let folded = field.name.lowercased()
                if names[folded] == nil { order.append(folded); names[folded] = field.name }
                values[folded, default: []].append(withoutCR(field.rawValue[...]))
            }
            return (order, names, values)
        }
        let a = values(first), b = values(other)
        var changes: [String] = []
        var seen = Set<String>()
        for name in a.order + b.order where seen.insert(name).inserted {
            switch (a.values[name], b.values[name]) {
            case (nil, _?): changes.append("+" + (b.names[name] ?? name))
            case (_?, nil): changes.append("-" + (a.names[name] ?? name))
            case let (x?, y?) where x != y: changes.append("~" + (a.names[name] ?? name))
            default: break
            }
        }
        return changes
    }

    private static func withoutCR(_ bytes: ArraySlice<UInt8>) -> [UInt8] { bytes.filter { $0 != 13 } }

    private static func clamped(_ range: Range<Int>, _ count: Int) -> Range<Int> {
        let lower = min(max(range.lowerBound, 0), count)
        return lower..<min(max(range.upperBound, lower), count)
    }
}

/// A message's copies numbered as `show` lists them (1, 2, ... in the order they were read),
/// each with the content its bytes are: 1 for the first stored content, 2, 3, ... for each other
/// content kept (a `variant` row), nil when the bytes were not kept (the copy was excluded).
public struct MessageCopy: Sendable, Encodable {
    /// 1-based, in the order the copies were read (`show --raw --copy N`).
    public var copy: Int
    public var source: CopyRecord
    /// Which distinct content these bytes are (1: the first stored), nil when not kept.
    public var content: Int?
    /// How these bytes differ from content 1 (nil for content 1 itself and for bytes not kept).
    public var difference: ContentDifference?

    private enum CodingKeys: String, CodingKey { case copy, content, difference }

    /// The source's own fields (as `show --json` always gave them) with the copy's number,
    /// content and difference beside them.
    public func encode(to encoder: Encoder) throws {
        try source.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(copy, forKey: .copy)
        try container.encode(content, forKey: .content)
        try container.encode(difference, forKey: .difference)
    }
}

/// The distinct contents of one message and its numbered copies (see `MessageCopy`).
///
/// Search: each content other than the first is indexed as a `message_fts` row of its own whose
/// rowid carries the message's id in its low 40 bits and the content number above them
/// (`searchRowID`); content 1 keeps rowid = message id, as before. A separate row per content,
/// rather than the words of every content in the message's one row: the index is contentless, so
/// changing a row means re-deriving its old values from every original it was built from, while
/// a new row is one insert; and a phrase or a `NOT` is then judged against text that one copy
/// really had, never against words spliced from two different versions. Search maps rows back to
/// messages (`SearchEngine`), so a message is one hit whichever of its contents matched.
public enum ContentVariants {
    /// Bits of a search rowid that hold the message id (2^40 messages is far beyond any archive).
    public static let messageBits: Int64 = 40
    public static let messageMask: Int64 = (1 << 40) - 1

    /// The `message_fts` rowid of content `number` (2, 3, ...) of message `id`.
    public static func searchRowID(message id: Int64, number: Int64) -> Int64 {
        (number << messageBits) | id
    }

    /// The message a `message_fts` rowid belongs to, as SQL over `rowid`.
    static func messageOf(_ rowid: String) -> String { "(\(rowid) & \(messageMask))" }

    /// Whether any variant has a search row (search then folds several rows into one hit).
    static func anyIndexed(_ db: Database) throws -> Bool {
        // An archive opened read-only before its v7 migration has no such table, and no variants.
        guard try db.tableExists("variant") else { return false }
        return try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM variant WHERE indexed = 1)") ?? false
    }

    /// The copies of `record`, numbered, with the content of each and how it differs from the
    /// first (read from the originals; `compare: false` skips that).
    public static func copies(of record: MessageRecord, in archive: Archive, compare: Bool = true, _ db: Database) throws -> [MessageCopy] {
        let sources = try CopyRecord.all(db, message: record.id)
        var numbers: [String: Int] = [record.sha256: 1]
        for row in try db.tableExists("variant") ? Row.fetchAll(db, sql: "SELECT sha256, number FROM variant WHERE message = ?", arguments: [record.id]) : [] {
            numbers[row[0]] = row[1]
        }
        // Archives written before v7 have no variant rows: number other kept contents after the
        // known ones, in the order they were read.
        var next = (numbers.values.max() ?? 1) + 1
        var kept: [String: Bool] = [:]
        func isKept(_ sha: String) throws -> Bool {
            if let known = kept[sha] { return known }
            let value = try PackStore.location(of: sha, db) != nil || archive.objects.exists(.message, sha256: sha)
            kept[sha] = value
            return value
        }
        let firstBytes: [UInt8]? = compare && record.status == "stored" && sources.contains(where: { $0.sha256 != record.sha256 })
            ? try? read(record.sha256, archive, db) : nil
        var differences: [String: ContentDifference] = [:]
        var result: [MessageCopy] = []
        for (index, source) in sources.enumerated() {
            var content: Int?
            var difference: ContentDifference?
            if record.status == "stored", try isKept(source.sha256) {
                if let known = numbers[source.sha256] {
                    content = known
                } else {
                    content = next
                    numbers[source.sha256] = next
                    next += 1
                }
                if source.sha256 != record.sha256, let firstBytes {
                    if differences[source.sha256] == nil, let bytes = try? read(source.sha256, archive, db) {
                        differences[source.sha256] = ContentDifference.between(firstBytes, bytes)
                    }
                    difference = differences[source.sha256]
                }
            }
            result.append(MessageCopy(copy: index + 1, source: source, content: content, difference: difference))
        }
        return result
    }

    /// The original bytes of copy `number` (1-based, as `copies` numbers them).
    public static func original(ofCopy number: Int, of record: MessageRecord, in archive: Archive, _ db: Database) throws -> [UInt8] {
        let sources = try CopyRecord.all(db, message: record.id)
        guard number >= 1, number <= sources.count else {
            throw MessageContentError.noSuchCopy(key: record.key, copy: number, copies: sources.count)
        }
        let sha = sources[number - 1].sha256
        guard record.status == "stored", try PackStore.location(of: sha, db) != nil || archive.objects.exists(.message, sha256: sha) else {
            throw MessageContentError.copyNotKept(key: record.key, copy: number)
        }
        return try read(sha, archive, db)
    }

    /// An original by digest inside the caller's read (`Archive.readOriginal` opens a read of its own).
    static func read(_ sha256: String, _ archive: Archive, _ db: Database) throws -> [UInt8] {
        if let location = try PackStore.location(of: sha256, db) { return try archive.packs.readOriginal(at: location) }
        return try archive.objects.readMessage(sha256: sha256)
    }
}
