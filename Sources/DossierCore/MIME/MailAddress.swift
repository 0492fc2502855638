/// One mailbox from an address header: `"Name" <local@domain>`.
public struct MailAddress: Sendable, Hashable, Codable {
    /// Display name, decoded (RFC 2047), without quotes; nil when absent.
    public var name: String?
    /// `local@domain` as written (no angle brackets); may lack a domain in broken mail.
    public var address: String
    /// The group this mailbox was listed in (`Team: a@x, b@y;`), if any.
    public var group: String?

    public init(name: String? = nil, address: String, group: String? = nil) {
        self.name = name
        self.address = address
        self.group = group
    }

    /// The address lowercased, for matching and indexing.
    public var normalized: String { address.lowercased() }

    /// The domain part, lowercased; "" when there is none.
    public var domain: String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...].lowercased()
    }
}

/// RFC 5322 address lists, tolerant of what real mail does: groups, comments, quoted names,
/// obsolete routes, missing brackets, unquoted commas in names, raw 8-bit names.
public enum AddressParser {
    public static func parse(_ raw: [UInt8]) -> [MailAddress] {
        // TODO(MIME headers)
        let text = HeaderText.decodeUnstructured(raw)
        return text.split(separator: ",").map { part in
            let s = part.trimmingCharacters(in: .whitespaces)
            if let lt = s.firstIndex(of: "<"), let gt = s.lastIndex(of: ">"), lt < gt {
                let name = s[..<lt].trimmingCharacters(in: .whitespaces)
                return MailAddress(name: name.isEmpty ? nil : name, address: String(s[s.index(after: lt)..<gt]))
            }
            return MailAddress(address: s)
        }
    }
}
