/// Message-ID, In-Reply-To and References: `<local@domain>` tokens, tolerant of missing brackets,
/// comments and junk between ids.
public enum MessageIDParser {
    /// The first id of the field, without angle brackets; nil when none can be found.
    public static func parseOne(_ raw: [UInt8]) -> String? { parseList(raw).first }

    /// Every id of the field, in order, without angle brackets.
    public static func parseList(_ raw: [UInt8]) -> [String] {
        // TODO(MIME headers)
        let s = String(decoding: raw, as: UTF8.self)
        var out: [String] = []
        var cur: String? = nil
        for c in s {
            if c == "<" { cur = "" } else if c == ">" { if let v = cur, !v.isEmpty { out.append(v) }; cur = nil } else if cur != nil { cur!.append(c) }
        }
        return out
    }
}
