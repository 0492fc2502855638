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
/// Only database work is left for the writer. A class: the writer's batches and reorder buffer
/// move each message several times, and a struct of this many strings and arrays cost a retain
/// and a release per field each time (about 0.6 s of the writer's time in a 100k import).
final class PreparedMessage: Sendable {
    let location: MessageLocation
    let sha256: String
    /// Where this run appended the original; nil when the archive already had it (or it was not
    /// stored, e.g. excluded). The writer indexes it.
    let blob: PackLocation?
    let size: Int
    let key: String
    let messageID: String?
    let date: Date?
    let subject: String?
    let fromAddress: String?
    let fromName: String?
    /// (role, lowercased address, display name)
    let addresses: [(role: String, address: String, name: String?)]
    /// (kind, message id)
    let references: [(kind: String, id: String)]
    let attachments: [StoredAttachment]
    let unknownCharsets: [String]
    let truncatedNesting: Bool
    let search: SearchColumns
    let decision: ImportDecision
    /// The worker's part of filing (nil when the message is excluded before filing).
    let prefiling: PreFiling?
    /// What the noise stage saw (nil: nothing, or excluded before it ran).
    let noise: NoiseVerdict?
    /// Noise that is only counted keeps no bytes; but a copy of a message already stored, with
    /// its Message-ID and other bytes (a list's altered copy: List-Id and a footer), is another
    /// content of that message, not noise of its own. Only the writer can tell (it alone sees
    /// every earlier copy, in read order), so such noise carries its gzip member here, unwritten;
    /// the writer stores it when it is a content of a stored message, and drops it otherwise.
    let heldMember: [UInt8]?

    init(location: MessageLocation,
         sha256: String,
         blob: PackLocation?,
         size: Int,
         key: String,
         messageID: String?,
         date: Date?,
         subject: String?,
         fromAddress: String?,
         fromName: String?,
         addresses: [(role: String, address: String, name: String?)],
         references: [(kind: String, id: String)],
         attachments: [StoredAttachment],
         unknownCharsets: [String],
         truncatedNesting: Bool,
         search: SearchColumns,
         decision: ImportDecision,
         prefiling: PreFiling?,
         noise: NoiseVerdict?,
         heldMember: [UInt8]? = nil) {
        self.location = location
        self.sha256 = sha256
        self.blob = blob
        self.size = size
        self.key = key
        self.messageID = messageID
        self.date = date
        self.subject = subject
        self.fromAddress = fromAddress
        self.fromName = fromName
        self.addresses = addresses
        self.references = references
        self.attachments = attachments
        self.unknownCharsets = unknownCharsets
        self.truncatedNesting = truncatedNesting
        self.search = search
        self.decision = decision
        self.prefiling = prefiling
        self.noise = noise
        self.heldMember = heldMember
    }
}

/// What the parallel stage hands to the writer, in read order.
enum PreparedItem: Sendable {
    case message(PreparedMessage)
    /// Bytes that are not a message, or a source that could not be read (any further).
    case quarantine(location: MessageLocation, reason: String, sha256: String?, size: Int)
    /// The archive itself failed (disk full, permissions): the run must stop.
    case failure(String)
}
