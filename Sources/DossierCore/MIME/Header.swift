/// One header field as it stands in the message: its name and its raw value bytes
/// (after the colon, folding CRLFs still in place, not yet decoded).
public struct HeaderField: Sendable, Hashable {
    public var name: String
    public var rawValue: [UInt8]

    public init(name: String, rawValue: [UInt8]) {
        self.name = name
        self.rawValue = rawValue
    }

    /// The value unfolded and RFC 2047-decoded, as a person would read it.
    public var text: String { HeaderText.decodeUnstructured(rawValue) }
}

/// The header block of a message or MIME part, in order, with case-insensitive lookup.
public struct HeaderList: Sendable, Hashable {
    public var fields: [HeaderField]

    public init(_ fields: [HeaderField] = []) { self.fields = fields }

    public func first(_ name: String) -> HeaderField? {
        fields.first { $0.name.caseInsensitiveEquals(name) }
    }

    public func all(_ name: String) -> [HeaderField] {
        fields.filter { $0.name.caseInsensitiveEquals(name) }
    }

    /// The decoded text of the first field with this name.
    public func text(_ name: String) -> String? { first(name)?.text }
}

extension String {
    /// ASCII case-insensitive comparison, cheap enough for header lookups on the hot path.
    @inlinable
    func caseInsensitiveEquals(_ other: String) -> Bool {
        // Native Swift strings know their UTF-8 length: most mismatches stop here.
        if self.utf8.count != other.utf8.count { return false }
        var a = self.utf8.makeIterator()
        var b = other.utf8.makeIterator()
        while true {
            switch (a.next(), b.next()) {
            case (nil, nil): return true
            case let (x?, y?):
                let lx = (x >= 65 && x <= 90) ? x | 0x20 : x
                let ly = (y >= 65 && y <= 90) ? y | 0x20 : y
                if lx != ly { return false }
            default: return false
            }
        }
    }
}
