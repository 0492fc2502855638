#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Line-level primitives over one message buffer, shared by the MIME parser and the rejection
/// check. Lines end with LF; a CR right before the LF belongs to the line ending. Everything is
/// bounds-checked against the buffer, so any byte sequence is safe to scan.
struct MIMELineScanner {
    let bytes: UnsafeBufferPointer<UInt8>

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var count: Int { bytes.count }

    /// The start of the line after the one containing `index` (just past its LF), or `count`.
    /// memchr keeps this at memory speed on long lines.
    @inline(__always)
    func nextLine(after index: Int) -> Int {
        guard index < bytes.count, let base = bytes.baseAddress else { return bytes.count }
        guard let hit = memchr(base + index, 10, bytes.count - index) else { return bytes.count }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
    }

    /// The end of a line's content: `next` (the start of the following line) minus the LF or CRLF.
    @inline(__always)
    func contentEnd(lineStart: Int, next: Int) -> Int {
        var end = next
        if end > lineStart && bytes[end - 1] == 10 {
            end -= 1
            if end > lineStart && bytes[end - 1] == 13 { end -= 1 }
        }
        return end
    }

    /// Where the content before the line starting at `lineStart` ends: the LF or CRLF that ends
    /// the previous line belongs to the next line (a boundary, RFC 2046 5.1.1), not to the body.
    @inline(__always)
    func endBeforeLineEnding(_ lineStart: Int) -> Int {
        var end = lineStart
        if end > 0 && bytes[end - 1] == 10 {
            end -= 1
            if end > 0 && bytes[end - 1] == 13 { end -= 1 }
        }
        return end
    }

    /// True when the line starting at `index` begins with "From " (or ">From " when `munged`).
    func isMboxFromLine(_ index: Int, allowMunged: Bool) -> Bool {
        var i = index
        if allowMunged && i < bytes.count && bytes[i] == UInt8(ascii: ">") { i += 1 }
        guard i + 5 <= bytes.count else { return false }
        return bytes[i] == 70 && bytes[i + 1] == 114 && bytes[i + 2] == 111 && bytes[i + 3] == 109 && bytes[i + 4] == 32
    }

    /// The end of a header field name (the index of its colon) when the line `[start, end)` begins
    /// with one, else nil. A name is one or more bytes that are neither control characters nor
    /// white space; white space is tolerated between the name and the colon (RFC 5322 obs-hdr),
    /// as MimeKit and GMime do.
    func headerColon(lineStart start: Int, contentEnd end: Int) -> (nameEnd: Int, colon: Int)? {
        var i = start
        while i < end {
            let c = bytes[i]
            if c == UInt8(ascii: ":") || c == 32 || c == 9 || c < 32 || c == 127 { break }
            i += 1
        }
        let nameEnd = i
        guard nameEnd > start else { return nil }
        while i < end && (bytes[i] == 32 || bytes[i] == 9) { i += 1 }
        guard i < end, bytes[i] == UInt8(ascii: ":") else { return nil }
        return (nameEnd, i)
    }

    /// True for bytes RFC 2046 allows after a boundary marker (transport padding). A stray CR is
    /// tolerated too: "--b\r\r\n" is common enough in mail that went through broken gateways.
    @inline(__always)
    static func isPadding(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 13 }

    /// True when `[start, end)` is only spaces, tabs and line endings.
    func isBlank(_ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end {
            let c = bytes[i]
            if !(c == 32 || c == 9 || c == 13 || c == 10 || c == 12) { return false }
            i += 1
        }
        return true
    }
}
