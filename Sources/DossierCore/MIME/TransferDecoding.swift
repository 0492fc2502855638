/// Content-Transfer-Encoding decoders, tolerant: junk in base64 is skipped, broken soft line breaks
/// in quoted-printable are kept literally.
public enum TransferDecoding {
    /// Decodes `bytes` per `encoding` ("base64", "quoted-printable", "x-uuencode"/"uuencode",
    /// case-insensitive); anything else (7bit, 8bit, binary, unknown) is returned as is.
    public static func decode(_ bytes: ArraySlice<UInt8>, encoding: String) -> [UInt8] {
        switch encoding {
        case "base64": return base64(bytes)
        case "quoted-printable": return quotedPrintable(bytes)
        case "7bit", "8bit", "binary": return Array(bytes)
        default: break
        }
        switch encoding.lowercased().trimmingASCIIWhitespace() {
        case "base64": return base64(bytes)
        case "quoted-printable": return quotedPrintable(bytes)
        case "x-uuencode", "uuencode", "x-uue", "uue": return uudecode(bytes)
        default: return Array(bytes)
        }
    }

    // MARK: base64

    /// Sextet value of each byte; 0xFF for bytes outside the alphabet.
    private static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(value)
        }
        return table
    }()

    /// Base64 (RFC 2045 6.8). Bytes outside the alphabet (line breaks, spaces, junk) are skipped;
    /// decoding stops at the first "=" (padding ends the data: what follows is usually a footer a
    /// mailing list appended); a final partial quantum yields the whole bytes it holds.
    public static func base64(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        let table = base64Values
        let capacity = bytes.count / 4 * 3 + 3
        return bytes.withUnsafeBufferPointer { input in
            table.withUnsafeBufferPointer { values in
                [UInt8](unsafeUninitializedCapacity: capacity) { output, written in
                    var accumulator: UInt32 = 0
                    var sextets = 0
                    var o = 0
                    for byte in input {
                        let value = values[Int(byte)]
                        if value != 0xFF {
                            accumulator = accumulator << 6 | UInt32(value)
                            sextets += 1
                            if sextets == 4 {
                                output[o] = UInt8(truncatingIfNeeded: accumulator >> 16)
                                output[o + 1] = UInt8(truncatingIfNeeded: accumulator >> 8)
                                output[o + 2] = UInt8(truncatingIfNeeded: accumulator)
                                o += 3
                                sextets = 0
                                accumulator = 0
                            }
                        } else if byte == UInt8(ascii: "=") {
                            break
                        }
                    }
                    // 2 sextets carry one byte, 3 carry two; a lone sextet carries nothing.
                    if sextets == 2 {
                        output[o] = UInt8(truncatingIfNeeded: accumulator >> 4)
                        o += 1
                    } else if sextets == 3 {
                        output[o] = UInt8(truncatingIfNeeded: accumulator >> 10)
                        output[o + 1] = UInt8(truncatingIfNeeded: accumulator >> 2)
                        o += 2
                    }
                    written = o
                }
            }
        }
    }

    // MARK: quoted-printable

    @inline(__always)
    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    /// Quoted-printable (RFC 2045 6.7), tolerant: "=XX" with upper- or lowercase hex; "=" then
    /// optional white space then LF or CRLF (or the end) is a soft line break; any other "=" is
    /// kept literally; white space at the end of a line is dropped (rule 3: it was added in
    /// transport). Hard line breaks are kept as they are (LF or CRLF).
    public static func quotedPrintable(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        bytes.withUnsafeBufferPointer { input in
            let n = input.count
            return [UInt8](unsafeUninitializedCapacity: n) { output, written in
                var i = 0
                var o = 0
                while i < n {
                    let c = input[i]
                    if c == UInt8(ascii: "=") {
                        if i + 2 < n, let high = hexValue(input[i + 1]), let low = hexValue(input[i + 2]) {
                            output[o] = high << 4 | low
                            o += 1
                            i += 3
                            continue
                        }
                        var j = i + 1
                        while j < n && (input[j] == 32 || input[j] == 9) { j += 1 }
                        if j == n {
                            i = n
                        } else if input[j] == 10 {
                            i = j + 1
                        } else if input[j] == 13 && (j + 1 == n || input[j + 1] == 10) {
                            i = min(j + 2, n)
                        } else {
                            output[o] = c
                            o += 1
                            i += 1
                        }
                    } else if c == 32 || c == 9 {
                        var j = i
                        while j < n && (input[j] == 32 || input[j] == 9) { j += 1 }
                        let atLineEnd = j == n || input[j] == 10 || (input[j] == 13 && (j + 1 == n || input[j + 1] == 10))
                        if !atLineEnd {
                            while i < j {
                                output[o] = input[i]
                                o += 1
                                i += 1
                            }
                        }
                        i = j
                    } else {
                        output[o] = c
                        o += 1
                        i += 1
                    }
                }
                written = o
            }
        }
    }

    // MARK: uuencode

    /// uuencode, as attached by old mailers: the data between a "begin MODE NAME" line and an
    /// "end" line (from the start when there is no begin line). Each line's first character gives
    /// its byte count; characters map to sextets as `(c - 32) & 63` (so "`" is zero).
    public static func uudecode(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        bytes.withUnsafeBufferPointer { input in
            let n = input.count
            var output: [UInt8] = []
            output.reserveCapacity(n * 3 / 4)

            /// The end of the line's content (before LF or CRLF) and the start of the next line.
            func line(_ start: Int) -> (content: Int, next: Int) {
                var i = start
                while i < n && input[i] != 10 { i += 1 }
                let next = min(i + 1, n)
                if i > start && input[i - 1] == 13 { i -= 1 }
                return (i, next)
            }
            func starts(_ start: Int, _ end: Int, with prefix: StaticString) -> Bool {
                let length = prefix.utf8CodeUnitCount
                guard end - start >= length else { return false }
                let p = prefix.utf8Start
                for k in 0..<length where input[start + k] != p[k] { return false }
                return true
            }
            @inline(__always) func sextet(_ index: Int, _ end: Int) -> UInt8 {
                index < end ? (input[index] &- 32) & 63 : 0
            }

            // Start after the begin line; without one, at the first line.
            var i = 0
            var probe = 0
            while probe < n {
                let (content, next) = line(probe)
                if starts(probe, content, with: "begin ") {
                    i = next
                    break
                }
                probe = next
            }

            while i < n {
                let (content, next) = line(i)
                if content > i {
                    if content - i == 3 && starts(i, content, with: "end") { break }
                    let length = Int((input[i] &- 32) & 63)
                    if length == 0 { break }
                    var produced = 0
                    var k = i + 1
                    while produced < length && k < content {
                        let a = sextet(k, content), b = sextet(k + 1, content)
                        let c = sextet(k + 2, content), d = sextet(k + 3, content)
                        output.append(a << 2 | b >> 4)
                        if produced + 1 < length { output.append((b & 0x0F) << 4 | c >> 2) }
                        if produced + 2 < length { output.append((c & 0x03) << 6 | d) }
                        produced += 3
                        k += 4
                    }
                }
                i = next
            }
            return output
        }
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces, tabs and line breaks.
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }
        let utf8 = Array(self.utf8)
        guard let first = utf8.firstIndex(where: { !isSpace($0) }),
              let last = utf8.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: utf8[first...last], as: UTF8.self)
    }
}
