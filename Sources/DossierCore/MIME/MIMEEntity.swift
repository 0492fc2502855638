/// One node of a message's MIME tree. Offsets refer to the bytes the message was parsed from, so
/// any part can be re-read from the stored original without keeping decoded copies.
public struct MIMEEntity: Sendable {
    /// The part's header fields in order (for a message's top-level entity, the message headers).
    public var headers: HeaderList
    /// The effective Content-Type (defaults applied: text/plain, or message/rfc822 in a digest).
    public var contentType: ContentType
    /// Content-Disposition, when the part has a readable one.
    public var disposition: ContentDisposition?
    /// Content-Transfer-Encoding, lowercased ("7bit" when absent).
    public var transferEncoding: String
    /// Byte range of the header block: from the first header byte (after a skipped mbox "From "
    /// line) to the end of the blank line. When a boundary line follows the header block
    /// directly, or right after its blank line, the range stops before that line ending, which
    /// belongs to the boundary (RFC 2046 5.1.1); the body is then empty. Always ends where
    /// `bodyRange` starts.
    public var headerRange: Range<Int>
    /// Byte range of the body: for a multipart, everything between its headers and its end,
    /// preamble, boundaries and epilogue included.
    public var bodyRange: Range<Int>
    /// Children of a multipart, in order.
    public var children: [MIMEEntity]
    /// The encapsulated message of a message/rfc822 (or message/global) part.
    public var embedded: [MIMEEntity]
    /// True when the nesting limit was reached here: the part's bytes are kept, not parsed further.
    public var opaque: Bool

    /// Makes an entity from its parts; `MIMEParser.parse` is the usual way to get one.
    public init(headers: HeaderList, contentType: ContentType, disposition: ContentDisposition?,
                transferEncoding: String, headerRange: Range<Int>, bodyRange: Range<Int>,
                children: [MIMEEntity] = [], embedded: [MIMEEntity] = [], opaque: Bool = false) {
        self.headers = headers
        self.contentType = contentType
        self.disposition = disposition
        self.transferEncoding = transferEncoding
        self.headerRange = headerRange
        self.bodyRange = bodyRange
        self.children = children
        self.embedded = embedded
        self.opaque = opaque
    }

    /// File name from Content-Disposition `filename`, else Content-Type `name`; as the sender wrote
    /// it (decoded), never to be used as a path.
    public var fileName: String? { disposition?.filename ?? contentType.name }

    /// The body with its Content-Transfer-Encoding undone (base64, quoted-printable, uuencode;
    /// anything else as is). `bytes` must be the buffer this entity was parsed from; a range that
    /// does not fit it is clamped rather than trapping.
    public func decodedBody(in bytes: [UInt8]) -> [UInt8] {
        let lower = min(max(bodyRange.lowerBound, 0), bytes.count)
        let upper = min(max(bodyRange.upperBound, lower), bytes.count)
        return TransferDecoding.decode(bytes[lower..<upper], encoding: transferEncoding)
    }

    // MARK: IMAP part numbers

    /// Visits this entity (taken as a message's top-level entity) and every entity below it, in
    /// document order, with its IMAP part number (RFC 3501 6.4.5):
    ///
    /// - a message whose body is not multipart has that body as part "1";
    /// - the children of a multipart are numbered 1, 2, ... below the multipart's own number;
    /// - the body of a message/rfc822 part "N" is "N.1" when it is not multipart; when it is,
    ///   its children are "N.1", "N.2", ...
    ///
    /// A multipart that is a message's whole body has no number of its own in IMAP; it is visited
    /// with the section that fetches exactly its bytes: "TEXT" for the top level, "N.TEXT" for
    /// the message in part N. Iterative: a tree of any depth is walked without recursion.
    public func walk(_ visit: (_ partNumber: String, _ entity: MIMEEntity) throws -> Void) rethrows {
        _ = try walkUntil { number, entity in
            try visit(number, entity)
            return false
        }
    }

    /// The entity with this IMAP part number (as `walk` numbers them), or nil.
    public func part(_ number: String) -> MIMEEntity? {
        var found: MIMEEntity?
        walkUntil { partNumber, entity in
            guard partNumber == number else { return false }
            found = entity
            return true
        }
        return found
    }

    /// Pre-order walk that stops as soon as `visit` returns true.
    @discardableResult
    func walkUntil(_ visit: (_ partNumber: String, _ entity: MIMEEntity) throws -> Bool) rethrows -> Bool {
        // Each entry carries the prefix its children (or its encapsulated message's parts) are
        // numbered under, which differs from its own number for a message's multipart body.
        var stack: [(entity: MIMEEntity, number: String, childPrefix: String)] = [
            MIMEEntity.numberedBody(self, messagePrefix: ""),
        ]
        while let (entity, number, prefix) = stack.popLast() {
            if try visit(number, entity) { return true }
            if entity.contentType.isMultipart {
                for (index, child) in entity.children.enumerated().reversed() {
                    let childNumber = MIMEEntity.childNumber(prefix, index + 1)
                    stack.append((child, childNumber, childNumber))
                }
            } else if let message = entity.embedded.first {
                stack.append(MIMEEntity.numberedBody(message, messagePrefix: number))
            }
        }
        return false
    }

    /// Numbers the top-level entity of a message whose own part number is `messagePrefix`
    /// ("" for the outermost message).
    static func numberedBody(_ body: MIMEEntity, messagePrefix: String) -> (entity: MIMEEntity, number: String, childPrefix: String) {
        if body.contentType.isMultipart {
            return (body, messagePrefix.isEmpty ? "TEXT" : messagePrefix + ".TEXT", messagePrefix)
        }
        let number = childNumber(messagePrefix, 1)
        return (body, number, number)
    }

    /// "prefix.index", or just "index" at the top level.
    static func childNumber(_ prefix: String, _ index: Int) -> String {
        prefix.isEmpty ? String(index) : prefix + "." + String(index)
    }
}
