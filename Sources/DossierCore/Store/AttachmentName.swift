import Foundation

/// Attachment file names as senders write them are untrusted: they may carry paths
/// (`../../etc/passwd`, `C:\Windows\x.exe`), control characters or bidi tricks. Dossier never uses
/// them as paths (objects are named by digest); this makes them safe to *display* and export.
public enum AttachmentName {
    /// The last path component, without control or bidi-override characters, leading dots or
    /// surrounding white space, at most 255 UTF-8 bytes; nil when nothing displayable is left.
    public static func sanitize(_ name: String?) -> String? {
        guard let name else { return nil }
        let lastComponent = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var cleaned = String.UnicodeScalarView()
        for scalar in lastComponent.unicodeScalars {
            switch scalar.value {
            case 0..<0x20, 0x7f, 0x80..<0xa0: continue            // C0/C1 controls
            case 0x202a...0x202e, 0x2066...0x2069, 0x200e, 0x200f: continue // bidi overrides and marks
            case 0x3a where cleaned.isEmpty: continue               // "C:" drive remnants
            default: cleaned.append(scalar)
            }
        }
        var result = String(cleaned).trimmingCharacters(in: .whitespaces)
        while result.hasPrefix(".") { result.removeFirst() }
        result = result.trimmingCharacters(in: .whitespaces)
        while result.utf8.count > 255 { result.removeLast() }
        return result.isEmpty ? nil : result
    }
}
