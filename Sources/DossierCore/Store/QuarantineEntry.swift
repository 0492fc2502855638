import GRDB

/// An input that was not a message (or a source that could not be read), with the reason.
public struct QuarantineEntry: Sendable, Codable, FetchableRecord {
    public var mailbox: String
    public var path: String
    public var offset: Int64?
    public var reason: String
    public var size: Int
    public var sha256: String?
    /// Where the bytes are kept, relative to the archive root; nil when nothing could be read.
    public var keptAs: String?

    enum CodingKeys: String, CodingKey {
        case mailbox, path, offset, reason, size, sha256
        case keptAs = "kept_as"
    }

    public init(row: Row) throws {
        mailbox = row["mailbox"]
        path = row["path"]
        let rawOffset: Int64 = row["offset"]
        offset = rawOffset < 0 ? nil : rawOffset
        reason = row["reason"]
        size = row["size"]
        sha256 = row["sha256"]
        keptAs = sha256.map { ObjectStore(root: "").relativePath(.quarantine, sha256: $0) }
    }

    public static func all(_ db: Database, run: Int64) throws -> [QuarantineEntry] {
        try QuarantineEntry.fetchAll(db, sql: "SELECT * FROM quarantine WHERE run = ? ORDER BY id", arguments: [run])
    }
}
