/// Message-ID, In-Reply-To and References: `<local@domain>` tokens, tolerant of missing brackets,
/// comments and junk between ids.
///
/// One linear scan: `<...>` is an id (white space and folding inside dropped, quoted local parts
/// kept as written); outside brackets, comments and quoted junk are skipped and a bare token with
/// an `@` is an id whose brackets were forgotten. An unclosed `<` ends at the first white space.
/// Lists keep their order and drop exact duplicates (References repeated by broken clients).
public enum MessageIDParser {
    /// Longer ids are junk (RFC 5322 lines stop at 998 bytes) and are skipped.
    public static let maxIDLength = 998
    /// At most this many ids come out of one field.
    public static let maxIDs = 10_000

    /// The first id of the field, without angle brackets; nil when none can be found. A field
    /// with no recognisable id but one plain token (`Message-ID: 12345.abc`) gives that token,
    /// so that broken mail still has a stable identity.
    public static func parseOne(_ raw: [UInt8]) -> String? {
        raw.withUnsafeBufferPointer { buf in
            if let first = scan(buf, limit: 1).first { return first }
            // Fallback: the first white-space separated token, brackets stripped.
            var i = 0
            let n = buf.count
            while i < n && (HeaderText.isWhite(buf[i]) || buf[i] == UInt8(ascii: "<")) { i += 1 }
            var j = i
            while j < n && !HeaderText.isWhite(buf[j]) && buf[j] != UInt8(ascii: ">") { j += 1 }
            guard j > i, j - i <= maxIDLength else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: buf[i..<j]), as: UTF8.self)
        }
    }

    /// Every id of the field, in order, without angle brackets, exact duplicates dropped.
    public static func parseList(_ raw: [UInt8]) -> [String] {
        raw.withUnsafeBufferPointer { scan($0, limit: maxIDs) }
    }

    static func scan(_ buf: UnsafeBufferPointer<UInt8>, limit: Int) -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        var id: [UInt8] = []
        let n = buf.count
        var i = 0
        func add(_ bytes: [UInt8]) {
            guard !bytes.isEmpty, bytes.count <= maxIDLength else { return }
            let s = String(decoding: bytes, as: UTF8.self)
            if seen.insert(s).inserted { out.append(s) }
        }
        while i < n && out.count < limit {
            let c = buf[i]
            switch c {
            case UInt8(ascii: "<"):
                id.removeAll(keepingCapacity: true)
                var j = i + 1
                var inQuote = false
                var firstWhite = -1          // source index of the first white space inside
                var idLenAtWhite = 0
                var closed = false
                var restarted = false
                while j < n {
                    let ch = buf[j]
                    if ch == UInt8(ascii: ">") && !inQuote { closed = true; j += 1; break }
                    if ch == UInt8(ascii: "<") && !inQuote { restarted = true; break }   // `<<id>>`, `<junk <id>`
                    if ch == UInt8(ascii: "\"") { inQuote.toggle() }
                    if HeaderText.isWhite(ch) {
                        if firstWhite < 0 { firstWhite = j; idLenAtWhite = id.count }
                        if inQuote && ch != 13 && ch != 10 { id.append(ch) }
                    } else if id.count <= maxIDLength {
                        id.append(ch)
                    } else {
                        id.append(ch)   // over-long: add() drops it
                    }
                    j += 1
                }
                if restarted {
                    // `<a@x <b@y>`: the unclosed id ends at its white space; `<<id>>` adds nothing.
                    if firstWhite >= 0 { id.removeSubrange(idLenAtWhite...) }
                    add(id)
                    i = j
                    continue
                }
                if !closed && firstWhite >= 0 {
                    // Unclosed bracket: the id ends at the first white space; rescan after it.
                    id.removeSubrange(idLenAtWhite...)
                    add(id)
                    i = firstWhite
                    continue
                }
                add(id)
                i = j
            case UInt8(ascii: "("):
                var depth = 0
                while i < n {
                    if buf[i] == UInt8(ascii: "\\") { i += 2; continue }
                    if buf[i] == UInt8(ascii: "(") { depth += 1 }
                    if buf[i] == UInt8(ascii: ")") { depth -= 1; if depth == 0 { i += 1; break } }
                    i += 1
                }
            case UInt8(ascii: "\""):
                i += 1
                while i < n && buf[i] != UInt8(ascii: "\"") { i += buf[i] == UInt8(ascii: "\\") ? 2 : 1 }
                i += 1
            case 32, 9, 13, 10, UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ">"):
                i += 1
            default:
                // A bare token: an id only when it has the local@domain shape.
                var j = i
                var at = -1
                while j < n {
                    let ch = buf[j]
                    if HeaderText.isWhite(ch) || ch == UInt8(ascii: "<") || ch == UInt8(ascii: "(") || ch == UInt8(ascii: ",")
                        || ch == UInt8(ascii: ";") || ch == UInt8(ascii: ">") || ch == UInt8(ascii: "\"") { break }
                    if ch == UInt8(ascii: "@") && at < 0 { at = j }
                    j += 1
                }
                if at > i && at < j - 1 {
                    add(Array(UnsafeBufferPointer(rebasing: buf[i..<j])))
                }
                i = j
            }
        }
        return out
    }
}
