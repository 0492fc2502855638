import Foundation

/// How the CRM compares addresses and domains: trimmed and lowercased (mail systems treat both
/// case-insensitively in practice), and a domain also matches its subdomains.
public enum CRMAddress {
    /// `address` trimmed and lowercased.
    public static func normalized(_ address: String) -> String {
        address.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// A domain as people write it in a spreadsheet (`@Acme.example`, `*.acme.example`,
    /// `acme.example.`) reduced to `acme.example`.
    public static func normalizedDomain(_ domain: String) -> String {
        var text = Substring(domain.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
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
    public static func isPlausibleAddress(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return false }
        return isPlausibleDomain(String(parts[1])) && !address.contains(where: isForbidden)
    }

    /// A non-empty dotted or single-label name without spaces, `@` or brackets.
    public static func isPlausibleDomain(_ domain: String) -> Bool {
        !domain.isEmpty && !domain.contains("@") && !domain.hasPrefix(".") && !domain.contains("..")
            && !domain.contains(where: isForbidden)
    }

    private static func isForbidden(_ character: Character) -> Bool {
        character.isWhitespace || "<>,;\"()[]".contains(character)
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
