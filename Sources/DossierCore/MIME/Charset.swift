/// Text in any charset to Swift strings, through the system's iconv (glibc), with an alias table
/// for the names real mail uses that iconv does not know.
public enum CharsetDecoder {
    /// Decodes `bytes` declared as `charset` (nil: US-ASCII/UTF-8, with a Windows-1252 fallback for
    /// invalid UTF-8). `recognized` is false when the charset is unknown and a fallback was used.
    public static func decode<C: Collection>(_ bytes: C, charset: String?) -> (text: String, recognized: Bool) where C.Element == UInt8 {
        // TODO(MIME headers): iconv
        (String(decoding: Array(bytes), as: UTF8.self), true)
    }
}
