/// Decoding of unstructured header text: unfolding, RFC 2047 encoded words (including the broken
/// and adjacent forms real mail has), raw 8-bit text (UTF-8, else a legacy fallback).
public enum HeaderText {
    /// Unfolds and decodes an unstructured header value (Subject, Comments, a display name...).
    public static func decodeUnstructured(_ raw: [UInt8]) -> String {
        // TODO(MIME headers): RFC 2047
        String(decoding: raw, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "").replacingOccurrences(of: "\n", with: "").trimmingCharacters(in: .whitespaces)
    }

    /// Removes folding (CRLF or LF followed by white space) without decoding anything.
    public static func unfold(_ raw: [UInt8]) -> [UInt8] {
        raw.filter { $0 != 13 && $0 != 10 }
    }
}
