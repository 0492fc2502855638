/// Limits that keep hostile input from exhausting memory or the stack.
public struct ParseLimits: Sendable {
    /// Multipart / message nesting deeper than this is kept opaque (bytes kept, not parsed).
    public var maxDepth: Int
    /// Header fields beyond this count are ignored for parsing (the original bytes are kept whole).
    public var maxHeaderFields: Int
    /// Characters of body text kept for the search index.
    public var maxIndexedText: Int

    public init(maxDepth: Int = 64, maxHeaderFields: Int = 10_000, maxIndexedText: Int = 1 << 20) {
        self.maxDepth = maxDepth
        self.maxHeaderFields = maxHeaderFields
        self.maxIndexedText = maxIndexedText
    }

    public static let `default` = ParseLimits()
}

/// The MIME structure parser (RFC 2045-2049), tolerant of broken mail the way MimeKit and GMime
/// are: missing or wrong closing boundaries, parts without headers, bare LF or CRLF, junk lines.
public enum MIMEParser {
    /// Parses the message in `bytes` into its MIME tree. Never fails: whatever cannot be parsed
    /// becomes an opaque or text/plain part.
    public static func parse(_ bytes: [UInt8], limits: ParseLimits = .default) -> MIMEEntity {
        // TODO(MIME body)
        MIMEEntity(headers: HeaderList(), contentType: .textPlain, disposition: nil, transferEncoding: "7bit",
                   headerRange: 0..<0, bodyRange: 0..<bytes.count)
    }
}
