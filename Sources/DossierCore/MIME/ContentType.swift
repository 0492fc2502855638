/// A parsed Content-Type field. Type and subtype are lowercased; parameter names are lowercased
/// and values decoded (RFC 2231 continuations and charsets, RFC 2047 in broken mail).
public struct ContentType: Sendable, Hashable {
    public var type: String
    public var subtype: String
    public var parameters: [String: String]

    public init(type: String, subtype: String, parameters: [String: String] = [:]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    public var mimeType: String { "\(type)/\(subtype)" }
    public var charset: String? { parameters["charset"] }
    public var boundary: String? { parameters["boundary"] }
    public var name: String? { parameters["name"] }
    public var isMultipart: Bool { type == "multipart" }

    /// RFC 2045's default: text/plain; charset=us-ascii.
    public static let textPlain = ContentType(type: "text", subtype: "plain")
    /// RFC 2046 5.1.5: the default inside multipart/digest.
    public static let messageRFC822 = ContentType(type: "message", subtype: "rfc822")

    /// Parses a raw Content-Type value; nil when no type/subtype can be read.
    /// A missing subtype is repaired where the intent is clear, as MimeKit does: `text` is
    /// text/plain, and `multipart` is multipart/mixed (RFC 2046 5.1.3: unknown multipart subtypes
    /// are read as mixed).
    public static func parse(_ raw: [UInt8]) -> ContentType? {
        let (value, params) = ParameterParser.parse(raw)
        var type: [UInt8] = []
        var subtype: [UInt8] = []
        var sawSlash = false
        for c in value.utf8 {
            if c == UInt8(ascii: "/") && !sawSlash { sawSlash = true; continue }
            let lower = (c >= 65 && c <= 90) ? c | 0x20 : c
            guard ParameterParser.isTokenChar(lower) else { return nil }
            if sawSlash { subtype.append(lower) } else { type.append(lower) }
        }
        guard !type.isEmpty else { return nil }
        let t = String(decoding: type, as: UTF8.self)
        if subtype.isEmpty {
            switch t {
            case "text": return ContentType(type: "text", subtype: "plain", parameters: params)
            case "multipart": return ContentType(type: "multipart", subtype: "mixed", parameters: params)
            default: return nil
            }
        }
        return ContentType(type: t, subtype: String(decoding: subtype, as: UTF8.self), parameters: params)
    }
}

/// A parsed Content-Disposition field.
public struct ContentDisposition: Sendable, Hashable {
    /// "inline", "attachment", or whatever the sender wrote, lowercased.
    public var kind: String
    public var parameters: [String: String]

    public init(kind: String, parameters: [String: String] = [:]) {
        self.kind = kind
        self.parameters = parameters
    }

    public var isAttachment: Bool { kind == "attachment" }
    public var filename: String? { parameters["filename"] }

    public static func parse(_ raw: [UInt8]) -> ContentDisposition? {
        let (value, params) = ParameterParser.parse(raw)
        let kind = value.lowercased()
        if kind.isEmpty && params.isEmpty { return nil }
        return ContentDisposition(kind: kind, parameters: params)
    }
}

/// `value; name=token; name*=charset'lang'%xx; name*0*=...` parameter lists (RFC 2045, RFC 2231).
///
/// A real tokenizer, not a split on `;`: quoted strings with escapes (and `;` inside them),
/// comments, folding. Tolerance for what mailers really send:
/// - RFC 2231 continuations joined in numeric order, out-of-order or missing pieces tolerated,
///   encoded and plain pieces mixed, the charset taken from the first piece;
/// - an RFC 2231 value wins over a plain one of the same name (senders send both; the plain one is
///   the fallback for old readers); otherwise the first of duplicate parameters wins;
/// - RFC 2047 encoded words inside a parameter value (Outlook's filenames) are decoded, except in
///   `boundary`, which must stay byte-exact;
/// - unquoted values containing spaces or `/`, and a forgotten `;` before the next `name=`;
/// - 8-bit values read as UTF-8, else Windows-1252.
public enum ParameterParser {
    /// At most this many parameters are read (hostile input).
    static let maxParameters = 512
    /// Continuation numbers above this are ignored.
    static let maxSection = 999

    /// The leading value (e.g. "text/plain") and the parameters: names lowercased, continuations
    /// joined, charsets decoded to Swift strings.
    public static func parse(_ raw: [UInt8]) -> (value: String, parameters: [String: String]) {
        raw.withUnsafeBufferPointer { parse(buffer: $0) }
    }

    /// RFC 2045 token characters (printable ASCII minus tspecials and space).
    @inline(__always)
    static func isTokenChar(_ c: UInt8) -> Bool {
        guard c > 32 && c < 127 else { return false }
        switch c {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"),
             UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "\\"), UInt8(ascii: "\""),
             UInt8(ascii: "/"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "?"), UInt8(ascii: "="):
            return false
        default: return true
        }
    }

    struct Section {
        var number: Int
        var encoded: Bool
        var bytes: [UInt8]
    }

    static func parse(buffer buf: UnsafeBufferPointer<UInt8>) -> (value: String, parameters: [String: String]) {
        let n = buf.count
        var i = 0

        func skipCFWS() {
            while i < n {
                let c = buf[i]
                if HeaderText.isWhite(c) { i += 1; continue }
                if c == UInt8(ascii: "(") {
                    var depth = 0
                    while i < n {
                        let ch = buf[i]
                        if ch == UInt8(ascii: "\\") { i += 2; continue }
                        if ch == UInt8(ascii: "(") { depth += 1 }
                        if ch == UInt8(ascii: ")") { depth -= 1; if depth == 0 { i += 1; break } }
                        i += 1
                    }
                    continue
                }
                break
            }
            if i > n { i = n }
        }

        func readQuoted() -> [UInt8] {
            // At the opening quote. Folding inside is dropped; an unclosed quote runs to the end.
            var out: [UInt8] = []
            i += 1
            while i < n {
                let c = buf[i]
                if c == UInt8(ascii: "\\") && i + 1 < n { out.append(buf[i + 1]); i += 2; continue }
                if c == UInt8(ascii: "\"") { i += 1; break }
                if c != 13 && c != 10 { out.append(c) }
                i += 1
            }
            return out
        }

        // The leading value: `type/subtype` (spaces around the slash tolerated) or a disposition.
        skipCFWS()
        var value: [UInt8] = []
        if i < n && buf[i] == UInt8(ascii: "\"") {
            value = readQuoted()
        } else {
            let start = i
            var j = i
            while j < n {
                let c = buf[j]
                if c == UInt8(ascii: ";") || c == UInt8(ascii: "(") || c == UInt8(ascii: "\"") { break }
                if HeaderText.isWhite(c) {
                    // `text / plain`: white space next to a slash belongs to the value.
                    var k = j
                    while k < n && HeaderText.isWhite(buf[k]) { k += 1 }
                    let prevSlash = j > start && buf[j - 1] == UInt8(ascii: "/")
                    if prevSlash || (k < n && buf[k] == UInt8(ascii: "/")) { j = k; continue }
                    break
                }
                j += 1
            }
            let run = UnsafeBufferPointer(rebasing: buf[start..<j])
            if run.contains(UInt8(ascii: "=")) {
                // No value at all, the field starts with a parameter.
                i = start
            } else {
                for c in run where !HeaderText.isWhite(c) { value.append(c) }
                i = j
            }
        }

        var plain: [String: (bytes: [UInt8], quoted: Bool)] = [:]
        var extended: [String: [Section]] = [:]
        var count = 0
        while i < n && count < maxParameters {
            skipCFWS()
            guard i < n else { break }
            if buf[i] == UInt8(ascii: ";") { i += 1; continue }
            // Name.
            var name: [UInt8] = []
            while i < n {
                let c = buf[i]
                if c == UInt8(ascii: "=") || c == UInt8(ascii: ";") || c == UInt8(ascii: "\"") || HeaderText.isWhite(c) { break }
                name.append((c >= 65 && c <= 90) ? c | 0x20 : c)
                i += 1
            }
            skipCFWS()
            guard !name.isEmpty, i < n, buf[i] == UInt8(ascii: "=") else {
                // A word that is not `name=value`: junk, skip it (and a stray quoted string).
                if i < n && buf[i] == UInt8(ascii: "\"") { _ = readQuoted() } else if name.isEmpty && i < n { i += 1 }
                continue
            }
            i += 1
            skipCFWS()
            var bytes: [UInt8]
            var quoted = false
            if i < n && buf[i] == UInt8(ascii: "\"") {
                bytes = readQuoted()
                quoted = true
            } else {
                // Unquoted: up to `;`, spaces and `/` allowed, unless a forgotten `;` shows as
                // white space followed by `name=`.
                bytes = []
                while i < n {
                    let c = buf[i]
                    if c == UInt8(ascii: ";") { break }
                    if HeaderText.isWhite(c) {
                        var k = i
                        while k < n && HeaderText.isWhite(buf[k]) { k += 1 }
                        var e = k
                        while e < n && isTokenChar(buf[e]) { e += 1 }
                        if e > k && e < n && buf[e] == UInt8(ascii: "=") { i = k; break }
                        // ` (comment)` after the value.
                        if k < n && buf[k] == UInt8(ascii: "(") { i = k; break }
                    }
                    if c != 13 && c != 10 { bytes.append(c) }
                    i += 1
                }
                while let last = bytes.last, last == 32 || last == 9 { bytes.removeLast() }
            }
            count += 1
            // RFC 2231: `name*`, `name*N`, `name*N*`.
            if let star = name.firstIndex(of: UInt8(ascii: "*")) {
                let base = String(decoding: name[..<star], as: UTF8.self)
                let rest = name[(star + 1)...]
                guard !base.isEmpty else { continue }
                var number = 0
                var encoded = false
                if rest.isEmpty {
                    encoded = true
                } else {
                    var digits = 0
                    var k = rest.startIndex
                    while k < rest.endIndex, rest[k] >= 48, rest[k] <= 57, digits < 4 {
                        number = number * 10 + Int(rest[k] - 48); digits += 1; k += 1
                    }
                    guard digits > 0, number <= maxSection else { continue }
                    if k < rest.endIndex {
                        guard rest[k] == UInt8(ascii: "*"), k + 1 == rest.endIndex else { continue }
                        encoded = true
                    }
                }
                extended[base, default: []].append(Section(number: number, encoded: encoded, bytes: bytes))
            } else {
                let key = String(decoding: name, as: UTF8.self)
                if plain[key] == nil { plain[key] = (bytes, quoted) }
            }
        }

        var params: [String: String] = [:]
        for (name, sections) in extended {
            params[name] = joinSections(sections)
        }
        for (name, v) in plain where params[name] == nil {
            params[name] = decodePlain(v.bytes, name: name)
        }
        return (String(decoding: value, as: UTF8.self), params)
    }

    /// RFC 2231 continuations in numeric order (first of duplicate numbers wins), percent-decoded
    /// where marked, converted from the charset named by the first piece.
    static func joinSections(_ sections: [Section]) -> String {
        var ordered = sections.enumerated().sorted { a, b in
            a.element.number != b.element.number ? a.element.number < b.element.number : a.offset < b.offset
        }.map(\.element)
        var unique: [Section] = []
        for s in ordered where unique.last?.number != s.number { unique.append(s) }
        ordered = unique
        var charset: String? = nil
        var bytes: [UInt8] = []
        for (k, s) in ordered.enumerated() {
            var piece = s.bytes[...]
            if k == 0 && s.encoded {
                // charset'language'value; tolerate a missing language part or no quotes at all.
                if let q1 = piece.firstIndex(of: UInt8(ascii: "'")) {
                    let name = String(decoding: piece[..<q1], as: UTF8.self)
                    if !name.isEmpty { charset = name }
                    let afterQ1 = piece[(q1 + 1)...]
                    if let q2 = afterQ1.firstIndex(of: UInt8(ascii: "'")) {
                        piece = afterQ1[(q2 + 1)...]
                    } else {
                        piece = afterQ1
                    }
                }
            }
            if s.encoded {
                var j = piece.startIndex
                while j < piece.endIndex {
                    let c = piece[j]
                    if c == UInt8(ascii: "%"), j + 2 < piece.endIndex,
                       let h = HeaderText.hex(piece[j + 1]), let l = HeaderText.hex(piece[j + 2]) {
                        bytes.append(h << 4 | l)
                        j += 3
                        continue
                    }
                    bytes.append(c)
                    j += 1
                }
            } else {
                bytes.append(contentsOf: piece)
            }
        }
        let text = CharsetDecoder.decode(bytes, charset: charset).text
        if text.utf8.contains(UInt8(ascii: "=")) && text.contains("=?") {
            return HeaderText.decodeUnstructured(Array(text.utf8))
        }
        return text
    }

    /// A plain value: RFC 2047 words decoded (not in `boundary`), 8-bit read as UTF-8 or 1252.
    static func decodePlain(_ bytes: [UInt8], name: String) -> String {
        if name != "boundary" {
            var sawOpen = false
            var prev: UInt8 = 0
            for c in bytes {
                if prev == UInt8(ascii: "=") && c == UInt8(ascii: "?") { sawOpen = true }
                if sawOpen && prev == UInt8(ascii: "?") && c == UInt8(ascii: "=") {
                    return HeaderText.decodeUnstructured(bytes)
                }
                prev = c
            }
        }
        return CharsetDecoder.decode(bytes, charset: nil).text
    }
}
