import Foundation
import GRDB

/// A stored message's row, as the read-side commands (show, search, report) see it.
public struct MessageRecord: Sendable, Codable, FetchableRecord {
    public var id: Int64
    public var key: String
    public var messageID: String?
    public var sha256: String
    public var date: Date?
    public var subject: String?
    public var fromAddress: String?
    public var fromName: String?
    public var size: Int
    public var attachmentCount: Int
    public var unknownCharsets: String?
    public var status: String
    public var reason: String?

    public init(row: Row) throws {
        id = row["id"]
        key = row["key"]
        messageID = row["message_id"]
        sha256 = row["sha256"]
        date = (row["date"] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0)) }
        subject = row["subject"]
        fromAddress = row["from_address"]
        fromName = row["from_name"]
        size = row["size"]
        attachmentCount = row["attachment_count"]
        unknownCharsets = row["unknown_charsets"]
        status = row["status"]
        reason = row["reason"]
    }

    enum CodingKeys: String, CodingKey {
        case key, sha256, date, subject, size, status, reason
        case id = "rowid"
        case messageID = "message_id"
        case fromAddress = "from_address"
        case fromName = "from_name"
        case attachmentCount = "attachment_count"
        case unknownCharsets = "unknown_charsets"
    }

    /// The message whose key is `key` or starts with it (at least 4 characters, like git).
    public static func resolve(_ db: Database, key: String) throws -> MessageRecord {
        let cleaned = key.lowercased()
        guard cleaned.count >= 4, cleaned.allSatisfy({ $0.isHexDigit }) else { throw StoreError.noSuchMessage(key) }
        if let exact = try MessageRecord.fetchOne(db, sql: "SELECT * FROM message WHERE key = ?", arguments: [cleaned]) {
            return exact
        }
        let matches = try MessageRecord.fetchAll(db, sql: "SELECT * FROM message WHERE key >= ? AND key < ? LIMIT 2",
                                                 arguments: [cleaned, cleaned + "g"])
        switch matches.count {
        case 0: throw StoreError.noSuchMessage(key)
        case 1: return matches[0]
        default:
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE key >= ? AND key < ?",
                                         arguments: [cleaned, cleaned + "g"]) ?? 2
            throw StoreError.ambiguousKey(key, matches: count)
        }
    }
}

/// One place a message was read from.
public struct CopyRecord: Sendable, Codable, FetchableRecord {
    public var mailbox: String
    public var path: String
    public var offset: Int64?
    public var folder: String
    public var flags: String
    public var sha256: String
    public var size: Int
    public var run: Int64

    public init(row: Row) throws {
        mailbox = row["mailbox"]
        path = row["path"]
        let rawOffset: Int64 = row["offset"]
        offset = rawOffset < 0 ? nil : rawOffset
        folder = row["folder"]
        flags = row["flags"]
        sha256 = row["sha256"]
        size = row["size"]
        run = row["run"]
    }

    public static func all(_ db: Database, message: Int64) throws -> [CopyRecord] {
        try CopyRecord.fetchAll(db, sql: "SELECT * FROM copy WHERE message = ? ORDER BY id", arguments: [message])
    }
}

/// One stored attachment of a message.
public struct AttachmentRecord: Sendable, Codable, FetchableRecord {
    public var part: String
    public var name: String?
    public var contentType: String
    public var size: Int
    public var sha256: String

    enum CodingKeys: String, CodingKey {
        case part, name, size, sha256
        case contentType = "content_type"
    }

    public init(row: Row) throws {
        part = row["part"]
        name = row["name"]
        contentType = row["content_type"]
        size = row["size"]
        sha256 = row["sha256"]
    }

    public static func all(_ db: Database, message: Int64) throws -> [AttachmentRecord] {
        try AttachmentRecord.fetchAll(db, sql: "SELECT * FROM attachment WHERE message = ? ORDER BY id", arguments: [message])
    }
}

/// Why a message's content cannot be shown.
public enum MessageContentError: Error, Sendable, CustomStringConvertible {
    /// The message was excluded (e.g. outside the import window): only its record was kept.
    case notStored(key: String, status: String, reason: String?)
    /// `show --part` named a part the message does not have.
    case noSuchPart(key: String, part: String)
    /// `show --copy N` named a copy the message does not have.
    case noSuchCopy(key: String, copy: Int, copies: Int)
    /// That copy was read but its bytes were not kept (it was excluded when read).
    case copyNotKept(key: String, copy: Int)

    public var description: String {
        switch self {
        case .notStored(let key, let status, let reason):
            return "message \(key) is \(status)\(reason.map { " (\($0))" } ?? ""): its content was not stored"
        case .noSuchPart(let key, let part):
            return "message \(key) has no part \(part) (see dossier show \(key) --structure)"
        case .noSuchCopy(let key, let copy, let copies):
            return "message \(key) has no copy \(copy): it has \(copies) (see dossier show \(key))"
        case .copyNotKept(let key, let copy):
            return "copy \(copy) of message \(key) was excluded when read: its bytes were not kept"
        }
    }
}

extension MessageRecord {
    /// The original bytes of the message's first stored copy, byte for byte as read.
    /// - Throws: `MessageContentError.notStored` for an excluded message, `StoreError` when the
    ///   object is missing or unreadable.
    public func original(in archive: Archive) throws -> [UInt8] {
        guard status == "stored" else { throw MessageContentError.notStored(key: key, status: status, reason: reason) }
        return try archive.readOriginal(sha256: sha256)
    }
}

/// One entity of a message's MIME tree, for `show --structure`.
public struct MessagePartSummary: Sendable, Codable, Hashable {
    /// IMAP part number as `MIMEEntity.walk` gives it ("1", "2.1", "TEXT" for a multipart body).
    public var part: String
    /// Nesting level in the tree, 0 for the message's top-level entity.
    public var depth: Int
    public var contentType: String
    public var charset: String?
    public var fileName: String?
    /// Content-Disposition type ("inline", "attachment"), lowercased; nil when absent.
    public var disposition: String?
    public var transferEncoding: String
    /// Bytes after undoing the transfer encoding.
    public var size: Int

    enum CodingKeys: String, CodingKey {
        case part, depth, charset, disposition, size
        case contentType = "content_type"
        case fileName = "file_name"
        case transferEncoding = "transfer_encoding"
    }

    /// Every entity of the tree parsed from `bytes`, in document order with its IMAP number.
    public static func outline(_ root: MIMEEntity, bytes: [UInt8]) -> [MessagePartSummary] {
        // `walk` owns the numbering; the depths come from a pre-order walk over the same edges
        // (children of a multipart, else the encapsulated message), so the two zip one to one.
        var depths: [Int] = []
        var stack: [(MIMEEntity, Int)] = [(root, 0)]
        while let (entity, depth) = stack.popLast() {
            depths.append(depth)
            if entity.contentType.isMultipart {
                for child in entity.children.reversed() { stack.append((child, depth + 1)) }
            } else if let message = entity.embedded.first {
                stack.append((message, depth + 1))
            }
        }
        var result: [MessagePartSummary] = []
        root.walk { number, entity in
            let depth = result.count < depths.count ? depths[result.count] : 0
            result.append(MessagePartSummary(
                part: number, depth: depth, contentType: entity.contentType.mimeType,
                charset: entity.contentType.charset, fileName: entity.fileName,
                disposition: entity.disposition?.kind.lowercased(), transferEncoding: entity.transferEncoding,
                size: entity.decodedBody(in: bytes).count))
        }
        return result
    }
}
