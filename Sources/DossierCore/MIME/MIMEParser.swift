/// Limits that keep hostile input from exhausting memory or the stack.
public struct ParseLimits: Sendable {
    /// Multipart / message nesting deeper than this is kept opaque (bytes kept, not parsed).
    /// Values above `MIMEParser.maximumDepth` are treated as that maximum.
    public var maxDepth: Int
    /// Header fields beyond this count are ignored for parsing (the original bytes are kept whole).
    public var maxHeaderFields: Int
    /// Body text kept for the search index, in UTF-8 bytes (cut at a character boundary).
    public var maxIndexedText: Int

    /// Limits; negative values count as zero.
    public init(maxDepth: Int = 64, maxHeaderFields: Int = 10_000, maxIndexedText: Int = 1 << 20) {
        self.maxDepth = maxDepth
        self.maxHeaderFields = maxHeaderFields
        self.maxIndexedText = maxIndexedText
    }

    /// Depth 64, 10,000 header fields, 1 Mi scalars of indexed text.
    public static let `default` = ParseLimits()
}

/// The MIME structure parser (RFC 2045-2049), tolerant of broken mail the way MimeKit and GMime
/// are: missing or wrong closing boundaries, parts without headers, bare LF or CRLF, junk lines.
///
/// One forward pass over the bytes, with an explicit stack of open containers instead of
/// recursion: a message nested thousands deep costs heap, never stack, and every byte is looked
/// at a bounded number of times (no quadratic rescans, whatever the nesting).
///
/// Tolerance rules, in brief:
/// - Header blocks end at a blank line, at the end of the input (a message without a blank line
///   is all headers) or at a boundary line of an enclosing multipart. A line that is not a
///   `Name: value` field is skipped when fields came before it (MimeKit, GMime), and starts the
///   body when it is the first line of a part (a part without headers), or when it is a line of
///   base64 data in a part that declared base64 (a mailer forgot the blank line; MimeKit and
///   GMime lose that attachment). An mbox "From " line (or ">From ") at the very start of a
///   message is skipped.
/// - A boundary line starts with `--boundary`, optionally followed by white space; the closing
///   one adds `--`. Every open multipart's boundary is checked, innermost first, so an inner part
///   ends at an outer boundary when its own closing boundary is missing.
/// - The line ending before a boundary line belongs to the boundary, not to the part before it;
///   that includes a blank line ending a header block right before a boundary (the part's body
///   is then empty, and its header range stops before that blank line).
/// - A multipart without a boundary parameter, or whose body holds no boundary line, is treated
///   as one text/plain part when its body has any text (so the text is not lost), and as an empty
///   multipart when it has none.
/// - message/rfc822 and message/global parts are parsed into `embedded` when they are not
///   transfer-encoded (encoded ones stay leaves; their bytes are an attachment).
/// - Containers at `maxDepth` are kept `opaque`: their bytes are in `bodyRange`, unparsed.
public enum MIMEParser {
    /// The deepest nesting ever parsed, whatever `ParseLimits.maxDepth` asks for, so code that
    /// walks the tree recursively (including Swift's own deinitialisation of nested arrays)
    /// never runs out of stack.
    public static let maximumDepth = 256

    /// Parses the message in `bytes` into its MIME tree. Never fails: whatever cannot be parsed
    /// becomes an opaque or text/plain part.
    public static func parse(_ bytes: [UInt8], limits: ParseLimits = .default) -> MIMEEntity {
        bytes.withUnsafeBufferPointer { buffer in
            var builder = MIMETreeBuilder(MIMELineScanner(buffer), limits: limits)
            return builder.run()
        }
    }
}

/// The state of one `MIMEParser.parse` call.
private struct MIMETreeBuilder {
    /// A boundary of an open multipart, innermost last.
    struct Boundary {
        var marker: [UInt8]
        /// Index in `open` of the multipart that owns it.
        var owner: Int
    }

    /// A multipart or message/rfc822 part whose end has not been found yet.
    struct Container {
        var entity: MIMEEntity
        var depth: Int
        /// message/rfc822 or message/global: its single child goes to `embedded`.
        var isMessage: Bool
        /// The multipart's boundary is still on the boundary stack (false in the epilogue).
        var boundaryActive: Bool
        /// At least one of its boundary lines was seen.
        var sawBoundary: Bool
    }

    /// A part whose header block starts at `start`.
    struct PendingPart {
        var start: Int
        var depth: Int
        var defaultType: ContentType
        /// The top of a message (the root or an encapsulated message): may start with a From line.
        var isMessage: Bool
    }

    /// A boundary line found while scanning.
    struct BoundaryHit {
        var level: Int
        var isClosing: Bool
        var lineStart: Int
        var nextLine: Int
    }

    struct HeaderBlock {
        var fields: [HeaderField]
        var range: Range<Int>
        var bodyStart: Int
        /// Set when a boundary line ended the header block (the part has an empty body).
        var boundary: BoundaryHit?
    }

    let scanner: MIMELineScanner
    let maxDepth: Int
    let maxHeaderFields: Int
    var boundaries: [Boundary] = []
    var open: [Container] = []
    var root: MIMEEntity?

    init(_ scanner: MIMELineScanner, limits: ParseLimits) {
        self.scanner = scanner
        self.maxDepth = min(max(limits.maxDepth, 0), MIMEParser.maximumDepth)
        self.maxHeaderFields = max(limits.maxHeaderFields, 0)
    }

    mutating func run() -> MIMEEntity {
        let bytes = scanner.bytes
        var start = 0
        // A UTF-8 byte order mark is not part of the first field name.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { start = 3 }

        var pending: PendingPart? = PendingPart(start: start, depth: 0, defaultType: .textPlain, isMessage: true)
        var leaf: MIMEEntity?
        var scanFrom = start

        while true {
            var hit: BoundaryHit?
            if let part = pending {
                pending = nil
                let block = parseHeaderBlock(at: part.start, isMessage: part.isMessage)
                var entity = Self.makeEntity(block, defaultType: part.defaultType)
                scanFrom = block.bodyStart
                hit = block.boundary

                let canNest = part.depth < maxDepth
                if entity.contentType.isMultipart, let marker = entity.contentType.boundary.map({ Array($0.utf8) }),
                   !marker.isEmpty {
                    if canNest {
                        boundaries.append(Boundary(marker: marker, owner: open.count))
                        open.append(Container(entity: entity, depth: part.depth, isMessage: false,
                                              boundaryActive: true, sawBoundary: false))
                    } else {
                        entity.opaque = true
                        leaf = entity
                    }
                } else if Self.isEncapsulatedMessage(entity) {
                    if canNest {
                        open.append(Container(entity: entity, depth: part.depth, isMessage: true,
                                              boundaryActive: false, sawBoundary: false))
                        if hit == nil {
                            pending = PendingPart(start: block.bodyStart, depth: part.depth + 1,
                                                  defaultType: .textPlain, isMessage: true)
                            continue
                        }
                    } else {
                        entity.opaque = true
                        leaf = entity
                    }
                } else {
                    leaf = entity
                }
            }

            let found = hit ?? scanForBoundary(from: scanFrom)
            let end = found.map { scanner.endBeforeLineEnding($0.lineStart) } ?? scanner.count

            if var part = leaf {
                leaf = nil
                close(&part, at: end)
                attach(part)
            }

            guard let found else {
                while !open.isEmpty { closeInnermost(at: scanner.count) }
                return root ?? MIMEEntity(headers: HeaderList(), contentType: .textPlain, disposition: nil,
                                          transferEncoding: "7bit", headerRange: start..<start,
                                          bodyRange: start..<scanner.count)
            }

            // Everything opened inside the multipart that owns this boundary ends here.
            let owner = boundaries[found.level].owner
            while open.count - 1 > owner { closeInnermost(at: end) }

            open[owner].sawBoundary = true
            if found.isClosing {
                // The epilogue follows; it ends where the enclosing part ends.
                boundaries.removeLast()
                open[owner].boundaryActive = false
                scanFrom = found.nextLine
            } else {
                let isDigest = open[owner].entity.contentType.subtype == "digest"
                pending = PendingPart(start: found.nextLine, depth: open[owner].depth + 1,
                                      defaultType: isDigest ? .messageRFC822 : .textPlain, isMessage: false)
            }
        }
    }

    // MARK: Header blocks

    /// Reads the header block starting at `start`. See `MIMEParser` for the tolerance rules.
    func parseHeaderBlock(at start: Int, isMessage: Bool) -> HeaderBlock {
        let bytes = scanner.bytes
        var i = start
        if isMessage && scanner.isMboxFromLine(i, allowMunged: true) {
            i = scanner.nextLine(after: i)
        }
        let blockStart = i
        var fields: [HeaderField] = []
        var fieldLines = 0
        /// A Content-Transfer-Encoding: base64 field was read (for the missing blank line rule).
        var base64Declared = false

        while i < scanner.count {
            let next = scanner.nextLine(after: i)
            let end = scanner.contentEnd(lineStart: i, next: next)
            if end == i {
                // A blank line right before a boundary line is the line ending that belongs to the
                // boundary: the body is empty and starts at the blank line, where the enclosing
                // part ends too (as in MimeKit), so the part stays inside its parent.
                if next < scanner.count && bytes[next] == UInt8(ascii: "-") {
                    let after = scanner.nextLine(after: next)
                    if let hit = boundaryHit(lineStart: next, contentEnd: scanner.contentEnd(lineStart: next, next: after),
                                             next: after) {
                        return HeaderBlock(fields: fields, range: blockStart..<i, bodyStart: i, boundary: hit)
                    }
                }
                return HeaderBlock(fields: fields, range: blockStart..<next, bodyStart: next, boundary: nil)
            }
            if bytes[i] == UInt8(ascii: "-"), let hit = boundaryHit(lineStart: i, contentEnd: end, next: next) {
                // No blank line: the line ending before the boundary belongs to the boundary.
                let headerEnd = max(blockStart, scanner.endBeforeLineEnding(i))
                return HeaderBlock(fields: fields, range: blockStart..<headerEnd, bodyStart: headerEnd, boundary: hit)
            }

            // The field runs on over folded lines (lines that start with white space).
            var fieldEnd = next
            while fieldEnd < scanner.count && (bytes[fieldEnd] == 32 || bytes[fieldEnd] == 9) {
                fieldEnd = scanner.nextLine(after: fieldEnd)
            }

            guard let (nameEnd, colon) = scanner.headerColon(lineStart: i, contentEnd: end) else {
                if fieldLines == 0 {
                    // No field yet: this part has no headers and its body starts here.
                    return HeaderBlock(fields: fields, range: blockStart..<i, bodyStart: i, boundary: nil)
                }
                if !isMessage && base64Declared && isBase64DataLine(i, end) {
                    // A base64 part whose mailer forgot the blank line (MimeKit issue 1189): the
                    // data starts here. Read as junk header lines, the attachment would be lost.
                    return HeaderBlock(fields: fields, range: blockStart..<i, bodyStart: i, boundary: nil)
                }
                // Junk among fields (e.g. a wrapped line that lost its indentation): skipped.
                i = fieldEnd
                continue
            }

            fieldLines += 1
            if fields.count < maxHeaderFields {
                let valueEnd = max(colon + 1, scanner.contentEnd(lineStart: colon + 1, next: fieldEnd))
                let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[i..<nameEnd]), as: UTF8.self)
                let field = HeaderField(name: name, rawValue: Array(bytes[(colon + 1)..<valueEnd]))
                if nameEnd - i == 25 && name.caseInsensitiveEquals("Content-Transfer-Encoding") {
                    base64Declared = Self.transferEncodingToken(field.rawValue) == "base64"
                }
                fields.append(field)
            }
            i = fieldEnd
        }
        return HeaderBlock(fields: fields, range: blockStart..<scanner.count, bodyStart: scanner.count, boundary: nil)
    }

    /// True for a line of at least 40 base64 characters ("=" only as trailing padding): the
    /// length rules out a header line wrapped without indentation, which has spaces or is short.
    func isBase64DataLine(_ start: Int, _ end: Int) -> Bool {
        guard end - start >= 40 else { return false }
        let bytes = scanner.bytes
        var i = start
        while i < end {
            let c = bytes[i]
            let isAlphabet = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 43 || c == 47
            if !isAlphabet { break }
            i += 1
        }
        while i < end && bytes[i] == UInt8(ascii: "=") { i += 1 }
        return i == end && end - start >= 40
    }

    /// The entity described by a header block, its body not yet delimited.
    static func makeEntity(_ block: HeaderBlock, defaultType: ContentType) -> MIMEEntity {
        var typeField: HeaderField?
        var dispositionField: HeaderField?
        var encodingField: HeaderField?
        for field in block.fields {
            // Cheap length test first: most fields are not Content-*.
            let length = field.name.utf8.count
            if length == 12, typeField == nil, field.name.caseInsensitiveEquals("Content-Type") {
                typeField = field
            } else if length == 19, dispositionField == nil, field.name.caseInsensitiveEquals("Content-Disposition") {
                dispositionField = field
            } else if length == 25, encodingField == nil, field.name.caseInsensitiveEquals("Content-Transfer-Encoding") {
                encodingField = field
            }
        }
        return MIMEEntity(
            headers: HeaderList(block.fields),
            contentType: typeField.map { effectiveType($0.rawValue, default: defaultType) } ?? defaultType,
            disposition: dispositionField.flatMap { ContentDisposition.parse($0.rawValue) },
            transferEncoding: encodingField.map { transferEncodingToken($0.rawValue) } ?? "7bit",
            headerRange: block.range,
            bodyRange: block.bodyStart..<block.bodyStart)
    }

    /// The Content-Type to use for a field value. An empty value means the default; a value
    /// without a readable type/subtype is text/plain when it names "text" (RFC 2045 5.2), else
    /// application/octet-stream with whatever parameters can be recovered (MimeKit's choice:
    /// a `name` parameter then still makes it an attachment).
    static func effectiveType(_ raw: [UInt8], default defaultType: ContentType) -> ContentType {
        if let parsed = ContentType.parse(raw) { return parsed }
        let (value, parameters) = ParameterParser.parse(raw)
        let token = value.lowercased()
        if token.isEmpty && parameters.isEmpty { return defaultType }
        if token == "text" || token.hasPrefix("text/") {
            return ContentType(type: "text", subtype: "plain", parameters: parameters)
        }
        return ContentType(type: "application", subtype: "octet-stream", parameters: parameters)
    }

    /// The first token of a Content-Transfer-Encoding value, lowercased ("7bit" when empty).
    static func transferEncodingToken(_ raw: [UInt8]) -> String {
        var token: [UInt8] = []
        for c in raw {
            if c == 32 || c == 9 || c == 13 || c == 10 {
                if token.isEmpty { continue }
                break
            }
            if c == UInt8(ascii: ";") || c == UInt8(ascii: "(") { break }
            token.append(c >= 65 && c <= 90 ? c | 0x20 : c)
        }
        if token.isEmpty { return "7bit" }
        // A quoted value ("base64") is wrong but seen in the wild.
        if token.count >= 2 && token.first == 34 && token.last == 34 { token = Array(token.dropFirst().dropLast()) }
        return String(decoding: token, as: UTF8.self)
    }

    /// message/rfc822 (or message/global) that is not transfer-encoded, so its bytes are a message.
    static func isEncapsulatedMessage(_ entity: MIMEEntity) -> Bool {
        guard entity.contentType.type == "message",
              entity.contentType.subtype == "rfc822" || entity.contentType.subtype == "global" else { return false }
        switch entity.transferEncoding {
        case "7bit", "8bit", "binary": return true
        default: return false
        }
    }

    // MARK: Boundaries

    /// The next boundary line of any open multipart at or after `start`, nil at the end of input.
    func scanForBoundary(from start: Int) -> BoundaryHit? {
        guard !boundaries.isEmpty else { return nil }
        let bytes = scanner.bytes
        var i = start
        while i < scanner.count {
            let next = scanner.nextLine(after: i)
            if bytes[i] == UInt8(ascii: "-") {
                let end = scanner.contentEnd(lineStart: i, next: next)
                if let hit = boundaryHit(lineStart: i, contentEnd: end, next: next) { return hit }
            }
            i = next
        }
        return nil
    }

    /// Which open boundary the line `[start, end)` is, innermost first, if any.
    func boundaryHit(lineStart start: Int, contentEnd end: Int, next: Int) -> BoundaryHit? {
        let bytes = scanner.bytes
        guard end - start >= 2, bytes[start] == 45, bytes[start + 1] == 45 else { return nil }
        var level = boundaries.count - 1
        while level >= 0 {
            let marker = boundaries[level].marker
            let markerEnd = start + 2 + marker.count
            if markerEnd <= end && Self.equal(bytes, at: start + 2, marker) {
                if isPadding(markerEnd, end) {
                    return BoundaryHit(level: level, isClosing: false, lineStart: start, nextLine: next)
                }
                if markerEnd + 2 <= end && bytes[markerEnd] == 45 && bytes[markerEnd + 1] == 45 && isPadding(markerEnd + 2, end) {
                    return BoundaryHit(level: level, isClosing: true, lineStart: start, nextLine: next)
                }
            }
            level -= 1
        }
        return nil
    }

    private func isPadding(_ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end {
            if !MIMELineScanner.isPadding(scanner.bytes[i]) { return false }
            i += 1
        }
        return true
    }

    private static func equal(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, _ marker: [UInt8]) -> Bool {
        var k = 0
        while k < marker.count {
            if bytes[offset + k] != marker[k] { return false }
            k += 1
        }
        return true
    }

    // MARK: Closing parts

    /// Sets the end of a part's body and settles multiparts that never showed a boundary.
    func close(_ entity: inout MIMEEntity, at end: Int) {
        let bodyStart = entity.bodyRange.lowerBound
        entity.bodyRange = bodyStart..<max(bodyStart, end)
        if entity.contentType.isMultipart && entity.children.isEmpty && !entity.opaque
            && !scanner.isBlank(entity.bodyRange.lowerBound, entity.bodyRange.upperBound) {
            // A multipart without a usable boundary but with text: one text/plain part, so the
            // text stays readable and indexable (the declared type is still in `headers`).
            var parameters: [String: String] = [:]
            if let charset = entity.contentType.charset { parameters["charset"] = charset }
            entity.contentType = ContentType(type: "text", subtype: "plain", parameters: parameters)
        }
    }

    mutating func closeInnermost(at end: Int) {
        guard var container = open.popLast() else { return }
        if container.boundaryActive { boundaries.removeLast() }
        // A container never ends before its last part: when a boundary line directly follows
        // another ("--inner" then "--outer"), the line ending between them ends the inner
        // boundary line and cannot also be given back to the outer one.
        let lastPart = container.entity.children.last ?? container.entity.embedded.last
        let end = max(end, lastPart?.bodyRange.upperBound ?? end)
        if container.sawBoundary {
            let bodyStart = container.entity.bodyRange.lowerBound
            container.entity.bodyRange = bodyStart..<max(bodyStart, end)
        } else {
            close(&container.entity, at: end)
        }
        attach(container.entity)
    }

    /// Hands a finished part to the container it belongs to (or makes it the root).
    mutating func attach(_ entity: MIMEEntity) {
        guard let parent = open.indices.last else {
            root = entity
            return
        }
        if open[parent].isMessage {
            // An encapsulated message with no headers and no body is no message at all.
            if entity.headers.fields.isEmpty && scanner.isBlank(entity.bodyRange.lowerBound, entity.bodyRange.upperBound)
                && entity.children.isEmpty {
                return
            }
            open[parent].entity.embedded.append(entity)
        } else {
            open[parent].entity.children.append(entity)
        }
    }
}
