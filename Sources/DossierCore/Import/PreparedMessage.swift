import Foundation

/// The text columns of one row of `message_fts`, in schema order.
struct SearchColumns: Sendable {
    var subject: String
    var from: String
    var to: String
    var cc: String
    var bcc: String
    var body: String
    var attachment: String
}

/// An attachment whose bytes are already in the object store.
struct StoredAttachment: Sendable {
    var part: String
    var name: String?
    var contentType: String
    var size: Int
    var sha256: String
}

/// One message after the parallel stage: hashed, parsed, classified, its objects written.
/// Only database work is left for the writer.
struct PreparedMessage: Sendable {
    var location: MessageLocation
    var sha256: String
    /// Where this run appended the original; nil when the archive already had it (or it was not
    /// stored, e.g. excluded). The writer indexes it.
    var blob: PackLocation?
    var size: Int
    var key: String
    var messageID: String?
    var date: Date?
    var subject: String?
    var fromAddress: String?
    var fromName: String?
    /// (role, lowercased address, display name)
    var addresses: [(role: String, address: String, name: String?)]
    /// (kind, message id)
    var references: [(kind: String, id: String)]
    var attachments: [StoredAttachment]
    var unknownCharsets: [String]
    var truncatedNesting: Bool
    var search: SearchColumns
    var decision: ImportDecision
    /// The worker's part of filing (nil when the message is excluded before filing).
    var prefiling: PreFiling?
    /// What the noise stage saw (nil: nothing, or excluded before it ran).
    var noise: NoiseVerdict?
}

/// What the parallel stage hands to the writer, in read order.
enum PreparedItem: Sendable {
    case message(PreparedMessage)
    /// Bytes that are not a message, or a source that could not be read (any further).
    case quarantine(location: MessageLocation, reason: String, sha256: String?, size: Int)
    /// The archive itself failed (disk full, permissions): the run must stop.
    case failure(String)
}
