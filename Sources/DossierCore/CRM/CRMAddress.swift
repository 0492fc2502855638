import Foundation

/// How the CRM compares addresses and domains: trimmed and lowercased (mail systems treat both
/// case-insensitively in practice), and a domain also matches its subdomains.
public enum CRMAddress {
    /// `address` trimmed and lowercased.
    public static func normalized(_ address: String) -> String {
        // Addresses from parsed mail are already trimmed and lowercased: skip the copies (this
        // runs several times for every participant of every imported message).
        if address.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x80 && !($0 >= 65 && $0 <= 90) }) { return address }
        return CRMValues.trimmed(address).lowercased()
    }

    /// A domain as people write it in a spreadsheet (`@Acme.example`, `*.acme.example`,
    /// `acme.example.`) reduced to `acme.example`.
    public static func normalizedDomain(_ domain: String) -> String {
        var text = Substring(CRMValues.trimmed(domain).lowercased())
        if text.hasPrefix("*.") { text = text.dropFirst(2) }
        if text.hasPrefix("@") { text = text.dropFirst() }
        while text.hasSuffix(".") { text = text.dropLast() }
        return String(text)
    }

    /// The part after the last `@`, or nil when there is none.
    public static func domain(of address: String) -> Substring? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = address[address.index(after: at)...]
        return domain.isEmpty ? nil : domain
    }

    /// A plain `local@domain` with no spaces, brackets or commas: what a directory cell must hold.
    /// Deliberately loose beyond that (the CRM, not Dossier, owns address syntax).
    /// (Checked on UTF-8 bytes: it runs for every address of a large directory.)
    public static func isPlausibleAddress(_ address: String) -> Bool {
        let utf8 = address.utf8
        guard let at = utf8.firstIndex(of: UInt8(ascii: "@")), at != utf8.startIndex else { return false }
        return utf8[..<at].allSatisfy { !isForbidden($0) } && isPlausibleDomain(utf8[utf8.index(after: at)...])
    }

    /// A non-empty dotted or single-label name without spaces, `@` or brackets.
    public static func isPlausibleDomain(_ domain: String) -> Bool { isPlausibleDomain(Substring(domain).utf8) }

    private static func isPlausibleDomain(_ domain: Substring.UTF8View) -> Bool {
        guard let first = domain.first, first != UInt8(ascii: ".") else { return false }
        var previous: UInt8 = 0
        for byte in domain {
            if isForbidden(byte) || byte == UInt8(ascii: "@") || (byte == UInt8(ascii: ".") && previous == byte) { return false }
            previous = byte
        }
        return true
    }

    /// Spaces, controls and the characters that mark a display name or a list, not an address.
    private static func isForbidden(_ byte: UInt8) -> Bool {
        switch byte {
        case 0...0x20, 0x7F, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\""),
             UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"):
            return true
        default:
            return false
        }
    }

    /// `domain` and each parent domain, most specific first:
    /// `a.b.firm.example` -> `a.b.firm.example`, `b.firm.example`, `firm.example`, `example`.
    public static func suffixes(of domain: Substring) -> [Substring] {
        var result: [Substring] = [domain]
        var rest = domain
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            if rest.isEmpty { break }
            result.append(rest)
        }
        return result
    }

    /// `a+tag@x` -> `a@x` (plus-addressing, a.k.a. subaddressing); other addresses unchanged.
    public static func withoutPlusTag(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@"),
              let plus = address[..<at].firstIndex(of: "+"), plus != address.startIndex else { return address }
        return String(address[..<plus]) + String(address[at...])
    }
}
