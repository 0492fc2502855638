import Foundation

/// Attachment file names as senders write them are untrusted: they may carry paths
/// (`../../etc/passwd`, `C:\Windows\x.exe`), control characters or bidi tricks. Dossier never uses
/// them as paths (objects are named by digest); this makes them safe to *display* and export.
public enum AttachmentName {
    /// The last path component, without control or bidi-override characters, leading dots or
    /// surrounding white space, at most 255 UTF-8 bytes; nil when nothing displayable is left.
    public static func sanitize(_ name: String?) -> String? {
        guard let name else { return nil }
        // One pass over the scalars after the last separator (this runs for every attachment of
        // every import; Foundation's split and trimming were a visible cost).
        func isSeparator(_ scalar: Unicode.Scalar) -> Bool { scalar == "/" || scalar == "\\" }
        let scalars = name.unicodeScalars
        // The last non-empty component: "a/b/" is "b".
        let end = scalars.lastIndex { !isSeparator($0) }.map(scalars.index(after:)) ?? scalars.startIndex
        let start = scalars[..<end].lastIndex(where: isSeparator).map(scalars.index(after:)) ?? scalars.startIndex
        var cleaned: [Unicode.Scalar] = []
        for scalar in scalars[start..<end] {
            switch scalar.value {
            case 0..<0x20, 0x7f, 0x80..<0xa0: continue            // C0/C1 controls
            case 0x202a...0x202e, 0x2066...0x2069, 0x200e, 0x200f: continue // bidi overrides and marks
            case 0x3a where cleaned.isEmpty: continue               // "C:" drive remnants
            default: cleaned.append(scalar)
            }
        }
        // Blanks (Unicode space separators and tabs) trimmed at the end; blanks and dots at the start.
        func isBlank(_ scalar: Unicode.Scalar) -> Bool { scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator }
        var low = 0
        var high = cleaned.count
        while low < high && (isBlank(cleaned[low]) || cleaned[low] == ".") { low += 1 }
        while high > low && isBlank(cleaned[high - 1]) { high -= 1 }
        var result = String(String.UnicodeScalarView(cleaned[low..<high]))
        if result.utf8.count > 255 {
            // Cut the stem, not the extension: "report….pdf" still opens as a PDF.
            let (stem, ext) = AttachmentNamer.split(result)
            let keep = ext.utf8.count <= 16 ? ext : ""
            var cut = keep.isEmpty ? result : stem
            while cut.utf8.count + keep.utf8.count > 255 { cut.removeLast() }
            result = cut + keep
        }
        return result.isEmpty ? nil : result
    }
}
