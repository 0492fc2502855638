/// Where one copy of a message was read from. Every stored message keeps one of these per copy,
/// so a user can always answer "which export did this come from?".
public struct MessageLocation: Sendable, Hashable, Codable {
    /// Mailbox name: `--mailbox NAME`, else derived from the path given to `import`.
    public var mailbox: String
    /// Absolute path of the file the bytes came from (the mbox, the Maildir file, the .eml).
    public var path: String
    /// Byte offset of the message's "From " separator line in an mbox (in the decompressed stream
    /// for .gz); nil for one-message-per-file sources.
    public var offset: Int64?
    /// Folder within the mailbox: "INBOX" for a Maildir root, "Work/Sub" for `.Work.Sub` or
    /// `Work/Sub`; "" when the source has no folders.
    public var folder: String
    /// Maildir flags from the `:2,` suffix, as their letters in canonical order (e.g. "FRS").
    public var flags: String

    public init(mailbox: String, path: String, offset: Int64? = nil, folder: String = "", flags: String = "") {
        self.mailbox = mailbox
        self.path = path
        self.offset = offset
        self.folder = folder
        self.flags = flags
    }
}

/// The original bytes of one message, exactly as the source holds them (mbox From-quoting undone),
/// and where they came from.
public struct RawMessage: Sendable {
    public var bytes: [UInt8]
    public var location: MessageLocation

    public init(bytes: [UInt8], location: MessageLocation) {
        self.bytes = bytes
        self.location = location
    }
}
