/// One node of a message's MIME tree. Offsets refer to the bytes the message was parsed from, so
/// any part can be re-read from the stored original without keeping decoded copies.
public struct MIMEEntity: Sendable {
    public var headers: HeaderList
    /// The effective Content-Type (defaults applied: text/plain, or message/rfc822 in a digest).
    public var contentType: ContentType
    public var disposition: ContentDisposition?
    /// Content-Transfer-Encoding, lowercased ("7bit" when absent).
    public var transferEncoding: String
    /// Byte range of the header block (from the first header byte to the end of the blank line).
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
}
