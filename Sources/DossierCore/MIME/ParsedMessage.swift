import Foundation

/// A decoded attachment: a leaf part that is not body text.
public struct AttachmentPart: Sendable {
    /// IMAP-style part number ("2", "1.3").
    public var partNumber: String
    /// The file name as the sender gave it, decoded; nil when the part has none.
    public var fileName: String?
    /// "type/subtype", lowercased.
    public var contentType: String
    /// The decoded bytes (transfer encoding undone).
    public var data: [UInt8]

    /// Makes an attachment record.
    public init(partNumber: String, fileName: String?, contentType: String, data: [UInt8]) {
        self.partNumber = partNumber
        self.fileName = fileName
        self.contentType = contentType
        self.data = data
    }
}

/// Everything the pipeline needs from one message, produced by `MessageParser.parse`.
public struct ParsedMessage: Sendable {
    /// The Message-ID without angle brackets, when there is a readable one.
    public var messageID: String?
    /// The Date header, when readable.
    public var date: Date?
    /// The Subject, decoded.
    public var subject: String?
    /// Mailboxes of the address headers, decoded, in header order.
    public var from: [MailAddress] = []
    public var sender: [MailAddress] = []
    public var replyTo: [MailAddress] = []
    public var to: [MailAddress] = []
    public var cc: [MailAddress] = []
    public var bcc: [MailAddress] = []
    /// Message-IDs of In-Reply-To and References, without angle brackets.
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
    /// The MIME tree, with byte ranges into the parsed bytes.
    public var root: MIMEEntity

    /// A message with only its tree; `MessageParser.parse` fills in the rest.
    public init(root: MIMEEntity) { self.root = root }
}

/// Parses a whole message: structure, the headers the archive needs, body text and attachments.
public enum MessageParser {
    /// Parses `bytes` (never fails; see `MIMEParser` for how broken structure is read).
    ///
    /// Body text: inline text parts decoded from their charset, in document order (a named text
    /// part not marked `attachment` counts as inline, and is an attachment as well); HTML turned
    /// into text only where no text/plain alternative exists in the same multipart/alternative;
    /// each attached (message/rfc822) message contributes its Subject and From, then its own body
    /// text. Attachments: leaf parts with disposition `attachment` or a file name, and non-text
    /// leaves (images, application/*, transfer-encoded message/rfc822...). Containers are never
    /// attachments; parts left opaque by the nesting limit are kept in the original bytes only.
    /// `attachmentData: false` lists attachments without decoding their bytes (`data` empty), for
    /// callers that only need the headers and text (re-filing).
    public static func parse(_ bytes: [UInt8], limits: ParseLimits = .default, attachmentData: Bool = true) -> ParsedMessage {
        let root = MIMEParser.parse(bytes, limits: limits)
        var m = ParsedMessage(root: root)
        let h = root.headers
        m.messageID = h.first("Message-ID").flatMap { MessageIDParser.parseOne($0.rawValue) }
        m.subject = h.text("Subject")
        m.date = h.first("Date").flatMap { DateParser.parse($0.rawValue) }
        m.from = h.all("From").flatMap { AddressParser.parse($0.rawValue) }
        m.sender = h.all("Sender").flatMap { AddressParser.parse($0.rawValue) }
        m.replyTo = h.all("Reply-To").flatMap { AddressParser.parse($0.rawValue) }
        m.to = h.all("To").flatMap { AddressParser.parse($0.rawValue) }
        m.cc = h.all("Cc").flatMap { AddressParser.parse($0.rawValue) }
        m.bcc = h.all("Bcc").flatMap { AddressParser.parse($0.rawValue) }
        m.inReplyTo = h.all("In-Reply-To").flatMap { MessageIDParser.parseList($0.rawValue) }
        m.references = h.all("References").flatMap { MessageIDParser.parseList($0.rawValue) }

        var content = MessageContentCollector(bytes: bytes, maxText: max(limits.maxIndexedText, 0), attachmentData: attachmentData)
        content.collect(root)
        m.bodyText = content.text
        m.attachments = content.attachments
        m.unknownCharsets = content.unknownCharsets
        m.truncatedNesting = content.truncatedNesting
        return m
    }

    /// Why these bytes are not a message at all, or nil when they are one (however broken).
    /// Not a message: empty ("empty file"), NUL bytes in the header block ("binary data (NUL
    /// bytes in the header block)"), or a first line that is not a header field, nor an mbox
    /// "From " line followed by one ("no header block").
    public static func rejectionReason(_ bytes: [UInt8]) -> String? {
        if bytes.isEmpty { return "empty file" }
        return bytes.withUnsafeBufferPointer { buffer -> String? in
            let scanner = MIMELineScanner(buffer)
            var start = 0
            if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { start = 3 }

            // The header block: up to the first blank line (or everything).
            var i = start
            var blockEnd = buffer.count
            while i < buffer.count {
                let next = scanner.nextLine(after: i)
                if scanner.contentEnd(lineStart: i, next: next) == i {
                    blockEnd = i
                    break
                }
                i = next
            }
            if let base = buffer.baseAddress, blockEnd > start,
               memchr(base + start, 0, blockEnd - start) != nil {
                return "binary data (NUL bytes in the header block)"
            }

            var line = start
            if scanner.isMboxFromLine(line, allowMunged: false) { line = scanner.nextLine(after: line) }
            guard line < buffer.count else { return "no header block" }
            let end = scanner.contentEnd(lineStart: line, next: scanner.nextLine(after: line))
            guard let (nameEnd, _) = scanner.headerColon(lineStart: line, contentEnd: end) else { return "no header block" }
            // A printable field name (RFC 5322: visible ASCII); 8-bit junk is not a header.
            for k in line..<nameEnd where buffer[k] < 33 || buffer[k] > 126 { return "no header block" }
            return nil
        }
    }
}

/// Walks a parsed tree for `MessageParser`: body text, attachments, charset and nesting notes.
struct MessageContentCollector {
    let bytes: [UInt8]
    let maxText: Int
    let attachmentData: Bool
    private(set) var text = ""
    private(set) var attachments: [AttachmentPart] = []
    private(set) var unknownCharsets: [String] = []
    private(set) var truncatedNesting = false

    init(bytes: [UInt8], maxText: Int, attachmentData: Bool = true) {
        self.bytes = bytes
        self.maxText = maxText
        self.attachmentData = attachmentData
    }

    /// Collects everything from a message's top-level entity.
    mutating func collect(_ root: MIMEEntity) {
        let (entity, number, prefix) = MIMEEntity.numberedBody(root, messagePrefix: "")
        visit(entity, number: number, prefix: prefix, textWanted: true)
    }

    /// Recursion is bounded: the parser never nests deeper than `MIMEParser.maximumDepth`.
    private mutating func visit(_ entity: MIMEEntity, number: String, prefix: String, textWanted: Bool) {
        if entity.opaque {
            truncatedNesting = true
            return
        }
        if entity.contentType.isMultipart {
            // In an alternative, the plain text version is the text; the others (HTML...) are
            // the same words again, so they are only read when there is no plain version.
            var chosen: Int?
            if entity.contentType.subtype == "alternative" {
                chosen = entity.children.firstIndex { Self.isInlinePlainText($0) }
            }
            for (index, child) in entity.children.enumerated() {
                let childNumber = MIMEEntity.childNumber(prefix, index + 1)
                let wanted = textWanted && (chosen == nil || chosen == index)
                visit(child, number: childNumber, prefix: childNumber, textWanted: wanted)
            }
            return
        }
        if let message = entity.embedded.first {
            if textWanted {
                var summary: [String] = []
                if let subject = message.headers.text("Subject"), !subject.isEmpty { summary.append("Subject: " + subject) }
                if let from = message.headers.text("From"), !from.isEmpty { summary.append("From: " + from) }
                if !summary.isEmpty { append(summary.joined(separator: "\n")) }
            }
            let (body, bodyNumber, bodyPrefix) = MIMEEntity.numberedBody(message, messagePrefix: number)
            visit(body, number: bodyNumber, prefix: bodyPrefix, textWanted: textWanted)
            return
        }
        if Self.isAttachment(entity) {
            attachments.append(AttachmentPart(partNumber: number, fileName: entity.fileName,
                                              contentType: entity.contentType.mimeType,
                                              data: attachmentData ? entity.decodedBody(in: bytes) : []))
            // Text that is an attachment only because it has a name is still shown inline by
            // mail readers (and is sometimes a message's whole body): its words are searchable.
            guard entity.disposition?.isAttachment != true else { return }
        }
        if textWanted && Self.isText(entity) && text.utf8.count < maxText {
            let decoded = CharsetDecoder.decode(entity.decodedBody(in: bytes), charset: entity.contentType.charset)
            if !decoded.recognized, let charset = entity.contentType.charset?.lowercased(),
               !unknownCharsets.contains(charset) {
                unknownCharsets.append(charset)
            }
            append(entity.contentType.subtype == "html" ? HTMLText.text(from: decoded.text) : decoded.text)
        }
    }

    /// Appends a piece of text on its own line, within the index cap (counted in UTF-8 bytes, which
    /// is what the string stores: no per-character walk on the import's hot path).
    private mutating func append(_ piece: String) {
        guard text.utf8.count < maxText, Self.hasVisibleText(piece) else { return }
        if !text.isEmpty { text.append("\n") }
        let room = maxText - text.utf8.count
        guard room > 0 else { return }
        let utf8 = piece.utf8
        if utf8.count <= room {
            text.append(piece)
            return
        }
        // Cut at the last scalar boundary within the room (never in the middle of a character's bytes).
        var cut = utf8.index(utf8.startIndex, offsetBy: room)
        while cut > utf8.startIndex && (utf8[cut] & 0xC0) == 0x80 { cut = utf8.index(before: cut) }
        text.append(contentsOf: piece[..<cut])
    }

    /// True when the text has anything but white space. Any non-ASCII byte counts as visible:
    /// exotic spaces alone are rare, and indexing them is harmless.
    static func hasVisibleText(_ piece: String) -> Bool {
        piece.utf8.contains { !($0 == 32 || ($0 >= 9 && $0 <= 13)) }
    }

    /// A leaf that is text/plain and not an attachment: the body of an alternative.
    static func isInlinePlainText(_ entity: MIMEEntity) -> Bool {
        entity.contentType.type == "text" && entity.contentType.subtype == "plain"
            && entity.embedded.isEmpty && !isAttachment(entity)
    }

    /// Leaves whose content is for reading, not saving: text/*, and the message/* reports
    /// (delivery status, read receipts, abuse reports) that are plain text in all but name.
    static func isText(_ entity: MIMEEntity) -> Bool {
        switch entity.contentType.type {
        case "text":
            return true
        case "message":
            switch entity.contentType.subtype {
            case "delivery-status", "disposition-notification", "feedback-report",
                 "global-delivery-status", "global-disposition-notification", "global-headers":
                return true
            default:
                return false
            }
        default:
            return false
        }
    }

    /// A leaf to keep as a file: marked as an attachment, named, or of a non-text type. Empty
    /// boundaryless multiparts and bodiless message/* parts (external-body, partial) are not.
    static func isAttachment(_ entity: MIMEEntity) -> Bool {
        if entity.disposition?.isAttachment == true { return true }
        if let name = entity.fileName, !name.isEmpty { return true }
        switch entity.contentType.type {
        case "text", "multipart":
            return false
        case "message":
            // Reaching here, a message/rfc822 was not parsed (transfer-encoded): keep it as a file.
            return entity.contentType.subtype == "rfc822" || entity.contentType.subtype == "global"
        default:
            return true
        }
    }
}
