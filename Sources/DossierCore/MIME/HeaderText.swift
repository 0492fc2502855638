/// Decoding of unstructured header text: unfolding, RFC 2047 encoded words (including the broken
/// and adjacent forms real mail has), raw 8-bit text (UTF-8, else a legacy fallback).
///
/// Tolerance, learnt from what MimeKit's loose mode and GMime accept:
/// - encoded words glued to other text (`foo=?utf-8?q?bar?=baz`) or to each other with no space;
/// - white space between two encoded words is dropped (RFC 2047 6.2), elsewhere it is kept;
/// - consecutive encoded words in the same charset are decoded to bytes first and converted once,
///   so a multibyte character split across two words survives (and so does a Q `=XX` or a base64
///   quantum split across them);
/// - lowercase `b`/`q`, an RFC 2231 language (`=?utf-8*en?Q?...?=`), `?` and spaces inside Q text,
///   missing or extra base64 padding;
/// - raw 8-bit text: UTF-8 when valid, else Windows-1252, decided per run of plain text.
/// Everything is one linear pass; input beyond `maxInput` bytes is ignored.
public enum HeaderText {
    /// Header values longer than this are cut (hostile input; nothing legitimate comes close).
    public static let maxInput = 1 << 20

    /// Unfolds and decodes an unstructured header value (Subject, Comments, a display name...).
    /// Leading and trailing white space is trimmed; tabs and folding become plain spaces.
    public static func decodeUnstructured(_ raw: [UInt8]) -> String {
        raw.withUnsafeBufferPointer { decodeUnstructured(buffer: $0) }
    }

    /// `decodeUnstructured` over a slice of a larger buffer (no copy).
    public static func decodeUnstructured(buffer: UnsafeBufferPointer<UInt8>) -> String {
        let buf = buffer.count > maxInput ? UnsafeBufferPointer(rebasing: buffer[..<maxInput]) : buffer
        if let simple = plainASCII(buf) { return simple }
        var d = Decoder(buf)
        return d.run()
    }

    /// Removes folding (CRLF or LF followed by white space) without decoding anything.
    /// A bare CR or LF inside a value is dropped too: it can only be damage.
    public static func unfold(_ raw: [UInt8]) -> [UInt8] {
        guard raw.contains(where: { $0 == 13 || $0 == 10 }) else { return raw }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        for c in raw where c != 13 && c != 10 { out.append(c) }
        return out
    }

    /// The common case, printable ASCII with no encoded word and nothing to trim: no work at all.
    @inline(__always)
    private static func plainASCII(_ buf: UnsafeBufferPointer<UInt8>) -> String? {
        let n = buf.count
        if n == 0 { return "" }
        if buf[0] == 32 || buf[n - 1] == 32 { return nil }
        var prevEq = false
        for c in buf {
            if c < 32 || c > 126 { return nil }
            if prevEq && c == UInt8(ascii: "?") { return nil }
            prevEq = c == UInt8(ascii: "=")
        }
        return String(decoding: buf, as: UTF8.self)
    }

    @inline(__always)
    static func isWhite(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 13 || c == 10 }

    /// One encoded word's location in the input.
    struct EncodedWord {
        var charsetRange: Range<Int>
        var isBase64: Bool
        var payload: Range<Int>
        var end: Int
    }

    /// Recognises `=?charset[*lang]?B|Q?payload?=` at `s` (which holds `=?`), tolerantly.
    static func encodedWord(in buf: UnsafeBufferPointer<UInt8>, at s: Int) -> EncodedWord? {
        let n = buf.count
        var p = s + 2
        // Charset names are short tokens; bounding the scan keeps garbage linear.
        while p < n && buf[p] != UInt8(ascii: "?") {
            let c = buf[p]
            if isWhite(c) || c == UInt8(ascii: "=") || c >= 0x80 || p - s > 80 { return nil }
            p += 1
        }
        let charsetRange = (s + 2)..<p
        guard !charsetRange.isEmpty, p + 2 < n, buf[p + 2] == UInt8(ascii: "?") else { return nil }
        let isBase64: Bool
        switch buf[p + 1] {
        case UInt8(ascii: "B"), UInt8(ascii: "b"): isBase64 = true
        case UInt8(ascii: "Q"), UInt8(ascii: "q"): isBase64 = false
        default: return nil
        }
        let start = p + 3
        var q = start
        var sawWhite = false
        while q + 1 < n {
            let c = buf[q]
            if c == UInt8(ascii: "?") && buf[q + 1] == UInt8(ascii: "=") {
                return EncodedWord(charsetRange: charsetRange, isBase64: isBase64, payload: start..<q, end: q + 2)
            }
            // Another word's start before our end: this one was never closed.
            if c == UInt8(ascii: "=") && buf[q + 1] == UInt8(ascii: "?") && !(q + 2 < n && buf[q + 2] == UInt8(ascii: "=")) {
                return nil
            }
            if isWhite(c) {
                sawWhite = true
            }
            // Spaces inside a payload are tolerated (senders that forgot `_`), but only in a word of
            // plausible length: an unclosed word must not swallow the rest of the header.
            if sawWhite && q - start > 256 { return nil }
            q += 1
        }
        return nil
    }

    /// The single-pass decoder state.
    struct Decoder {
        let buf: UnsafeBufferPointer<UInt8>
        var out: [UInt8] = []
        /// Start in `out` of the current run of plain text, and whether it holds 8-bit bytes.
        var segStart = 0
        var seg8bit = false
        /// The run of plain text holds an ESC: raw ISO-2022-JP, which Japanese mailers put in
        /// headers unencoded.
        var segEsc = false
        /// The pending run of encoded words in one charset, as decoded bytes.
        var runCharset: String? = nil
        var runBytes: [UInt8] = []
        var runIsBase64 = false
        var b64Bits: UInt32 = 0
        var b64Count = 0
        var qPending: [UInt8] = []

        init(_ buf: UnsafeBufferPointer<UInt8>) {
            self.buf = buf
            out.reserveCapacity(buf.count)
        }

        mutating func run() -> String {
            let n = buf.count
            var i = 0
            var lastWasEncoded = false
            while i < n {
                let wsStart = i
                while i < n && HeaderText.isWhite(buf[i]) { i += 1 }
                let wsEnd = i
                if i >= n { break }
                if buf[i] == UInt8(ascii: "="), i + 1 < n, buf[i + 1] == UInt8(ascii: "?"),
                   let word = HeaderText.encodedWord(in: buf, at: i) {
                    let charset = CharsetDecoder.normalize(
                        String(decoding: UnsafeBufferPointer(rebasing: buf[word.charsetRange]), as: UTF8.self))
                    if lastWasEncoded && runCharset == charset {
                        // Same charset, only white space between: one byte run (RFC 2047 6.2).
                    } else {
                        flushRun()
                        if !lastWasEncoded { endSegment(); appendWhite(wsStart..<wsEnd); segStart = out.count }
                        runCharset = charset
                    }
                    decodePayload(word)
                    i = word.end
                    lastWasEncoded = true
                    continue
                }
                if lastWasEncoded {
                    flushRun()
                    segStart = out.count
                    seg8bit = false; segEsc = false
                }
                appendWhite(wsStart..<wsEnd)
                lastWasEncoded = false
                // Plain text up to white space or a possible encoded word glued to it.
                var j = i
                if buf[j] == UInt8(ascii: "=") { j += 1 }   // a `=?` that did not parse is text
                while j < n {
                    let c = buf[j]
                    if HeaderText.isWhite(c) { break }
                    if c == UInt8(ascii: "="), j + 1 < n, buf[j + 1] == UInt8(ascii: "?") { break }
                    if c >= 0x80 { seg8bit = true } else if c == 0x1B { segEsc = true }
                    j += 1
                }
                if j == i { j += 1 }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<j]))
                i = j
            }
            flushRun()
            endSegment()
            return finish()
        }

        /// White space as written, minus folding CR/LF, tabs as spaces.
        mutating func appendWhite(_ r: Range<Int>) {
            for k in r {
                let c = buf[k]
                if c == 32 || c == 9 { out.append(32) }
            }
        }

        /// Closes a run of plain text: 8-bit text that is not UTF-8 is re-read as Windows-1252.
        mutating func endSegment() {
            defer { seg8bit = false; segEsc = false; segStart = out.count }
            guard seg8bit || segEsc, segStart < out.count else { return }
            let esc = segEsc && !seg8bit
            let fixed: String? = out.withUnsafeBufferPointer { all in
                let seg = UnsafeBufferPointer(rebasing: all[segStart...])
                if esc { return CharsetDecoder.decodeBuffer(seg, charset: "iso-2022-jp").text }
                return CharsetDecoder.isValidUTF8(seg) ? nil : CharsetDecoder.decodeWindows1252(seg)
            }
            if let fixed {
                out.removeSubrange(segStart...)
                out.append(contentsOf: fixed.utf8)
            }
        }

        mutating func decodePayload(_ word: EncodedWord) {
            if word.isBase64 != runIsBase64 {
                // Changing transfer encoding inside a run: leftovers of the other one are dropped.
                flushCarry()
                runIsBase64 = word.isBase64
            }
            if word.isBase64 {
                for k in word.payload {
                    let c = buf[k]
                    let v: UInt32
                    switch c {
                    case 65...90: v = UInt32(c - 65)
                    case 97...122: v = UInt32(c - 71)
                    case 48...57: v = UInt32(c + 4)
                    case UInt8(ascii: "+"), UInt8(ascii: "-"): v = 62
                    case UInt8(ascii: "/"), UInt8(ascii: "_"): v = 63
                    case UInt8(ascii: "="):
                        // Padding ends a quantum: whatever follows starts afresh (concatenated words).
                        emitPartialBase64()
                        continue
                    default: continue   // white space and junk
                    }
                    b64Bits = (b64Bits << 6) | v
                    b64Count += 1
                    if b64Count == 4 {
                        runBytes.append(UInt8((b64Bits >> 16) & 0xFF))
                        runBytes.append(UInt8((b64Bits >> 8) & 0xFF))
                        runBytes.append(UInt8(b64Bits & 0xFF))
                        b64Bits = 0; b64Count = 0
                    }
                }
                // A word without its padding still yields its bytes. Words are decoded one by one
                // (not as one stream): unpadded standalone words are far more common than a base64
                // quantum split across two words.
                emitPartialBase64()
            } else {
                var k = word.payload.lowerBound
                let end = word.payload.upperBound
                if !qPending.isEmpty {
                    // `=X` split across words: complete it with the first bytes of this one.
                    while qPending.count < 3 && k < end { qPending.append(buf[k]); k += 1 }
                    if qPending.count == 3, let h = hex(qPending[1]), let l = hex(qPending[2]) {
                        runBytes.append(h << 4 | l)
                    } else {
                        runBytes.append(contentsOf: qPending)
                    }
                    qPending.removeAll()
                }
                while k < end {
                    let c = buf[k]
                    if c == UInt8(ascii: "_") {
                        runBytes.append(32)
                    } else if c == UInt8(ascii: "=") {
                        if k + 2 < end, let h = hex(buf[k + 1]), let l = hex(buf[k + 2]) {
                            runBytes.append(h << 4 | l)
                            k += 3
                            continue
                        }
                        if end - k < 3 && (k + 1 == end || hex(buf[k + 1]) != nil) {
                            qPending = Array(UnsafeBufferPointer(rebasing: buf[k..<end]))
                            break
                        }
                        runBytes.append(c)
                    } else if c == 13 || c == 10 {
                        // folding inside a broken word
                    } else {
                        runBytes.append(c == 9 ? 32 : c)
                    }
                    k += 1
                }
            }
        }

        /// The complete bytes of an unfinished base64 quantum (2 or 3 sextets); resets the quantum.
        mutating func emitPartialBase64() {
            if b64Count >= 2 {
                let bits = b64Bits << (6 * UInt32(4 - b64Count))
                runBytes.append(UInt8((bits >> 16) & 0xFF))
                if b64Count == 3 { runBytes.append(UInt8((bits >> 8) & 0xFF)) }
            }
            b64Bits = 0; b64Count = 0
        }

        /// Ends a run's carried state: a dangling Q `=` is kept literally.
        mutating func flushCarry() {
            emitPartialBase64()
            if !qPending.isEmpty { runBytes.append(contentsOf: qPending); qPending.removeAll() }
        }

        /// Converts the pending run of encoded-word bytes through its charset into `out`.
        mutating func flushRun() {
            guard let charset = runCharset else { return }
            flushCarry()
            if !runBytes.isEmpty {
                let text = CharsetDecoder.decode(runBytes, charset: charset).text
                for c in text.utf8 {
                    // Decoded control characters would break one-line display: tabs and line
                    // breaks become spaces, NUL disappears.
                    if c < 32 {
                        if c == 9 || c == 10 || c == 13 { out.append(32) }
                        continue
                    }
                    out.append(c)
                }
            }
            runBytes.removeAll(keepingCapacity: true)
            runCharset = nil
        }

        mutating func finish() -> String {
            var lo = 0, hi = out.count
            while lo < hi && out[lo] == 32 { lo += 1 }
            while hi > lo && out[hi - 1] == 32 { hi -= 1 }
            return out.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[lo..<hi]), as: UTF8.self) }
        }
    }

    @inline(__always)
    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}
