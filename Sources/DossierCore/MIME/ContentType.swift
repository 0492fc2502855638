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
    public static func parse(_ raw: [UInt8]) -> ContentType? {
        // TODO(MIME headers)
        let (value, params) = ParameterParser.parse(raw)
        let parts = value.lowercased().split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        return ContentType(type: String(parts[0]), subtype: String(parts[1]), parameters: params)
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
public enum ParameterParser {
    /// The leading value (e.g. "text/plain") and the parameters: names lowercased, continuations
    /// joined, charsets decoded to Swift strings.
    public static func parse(_ raw: [UInt8]) -> (value: String, parameters: [String: String]) {
        // TODO(MIME headers)
        let s = HeaderText.decodeUnstructured(raw)
        var pieces = s.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !pieces.isEmpty else { return ("", [:]) }
        let value = pieces.removeFirst()
        var params: [String: String] = [:]
        for p in pieces {
            guard let eq = p.firstIndex(of: "=") else { continue }
            var v = p[p.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            params[p[..<eq].trimmingCharacters(in: .whitespaces).lowercased()] = v
        }
        return (value, params)
    }
}
