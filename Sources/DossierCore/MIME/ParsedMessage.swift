import Foundation

/// A decoded attachment: a leaf part that is not body text.
public struct AttachmentPart: Sendable {
    /// IMAP-style part number ("2", "1.3").
    public var partNumber: String
    /// The file name as the sender gave it, decoded; nil when the part has none.
    public var fileName: String?
    public var contentType: String
    public var data: [UInt8]

    public init(partNumber: String, fileName: String?, contentType: String, data: [UInt8]) {
        self.partNumber = partNumber
        self.fileName = fileName
        self.contentType = contentType
        self.data = data
    }
}

/// Everything the pipeline needs from one message, produced by `MessageParser.parse`.
public struct ParsedMessage: Sendable {
    public var messageID: String?
    public var date: Date?
    public var subject: String?
    public var from: [MailAddress] = []
    public var sender: [MailAddress] = []
    public var replyTo: [MailAddress] = []
    public var to: [MailAddress] = []
    public var cc: [MailAddress] = []
    public var bcc: [MailAddress] = []
    public var inReplyTo: [String] = []
    public var references: [String] = []
    /// Body text for the index: text parts (HTML turned into text), attached messages included,
    /// capped at `ParseLimits.maxIndexedText`.
    public var bodyText: String = ""
    public var attachments: [AttachmentPart] = []
    /// Charsets that could not be decoded (a fallback was used); empty when all were known.
    public var unknownCharsets: [String] = []
    /// True when the nesting limit left some part opaque.
    public var truncatedNesting: Bool = false
    public var root: MIMEEntity

    public init(root: MIMEEntity) { self.root = root }
}

/// Parses a whole message: structure, the headers the archive needs, body text and attachments.
public enum MessageParser {
    public static func parse(_ bytes: [UInt8], limits: ParseLimits = .default) -> ParsedMessage {
        // TODO(MIME body)
        let root = MIMEParser.parse(bytes, limits: limits)
        var m = ParsedMessage(root: root)
        let h = root.headers
        m.messageID = h.first("Message-ID").flatMap { MessageIDParser.parseOne($0.rawValue) }
        m.subject = h.text("Subject")
        m.date = h.first("Date").flatMap { DateParser.parse($0.rawValue) }
        m.from = h.first("From").map { AddressParser.parse($0.rawValue) } ?? []
        m.to = h.all("To").flatMap { AddressParser.parse($0.rawValue) }
        m.cc = h.all("Cc").flatMap { AddressParser.parse($0.rawValue) }
        return m
    }

    /// Why these bytes are not a message at all, or nil when they are one (however broken).
    /// Not a message: empty, binary (NUL bytes or mostly non-text in the header block), or no
    /// header block (the first line is not a header field).
    public static func rejectionReason(_ bytes: [UInt8]) -> String? {
        // TODO(MIME body)
        bytes.isEmpty ? "empty file" : nil
    }
}
