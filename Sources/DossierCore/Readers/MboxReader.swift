#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams the messages of one mbox file (mboxo, mboxrd, Content-Length delimited; LF or CRLF;
/// plain or gzip), holding one message in memory at a time.
///
/// ## Where a message ends
///
/// A line is a **separator** when it starts with `From ` and looks like an envelope line
/// (`From <sender>` optionally followed by a date containing a time `h:mm`; Netscape's bare
/// `From - ` qualifies) **and** either follows a blank line, or is followed by a line that looks
/// like a header field. This is the rule of mutt and MimeKit (any `From ` line after a blank line)
/// tightened in two ways that only ever avoid false splits on unquoted body text:
/// - `From Russia with love` after a blank line is body text, not a separator (no date);
/// - a `From ...` line inside a paragraph is a separator only if headers follow it, which is what
///   Netscape/Mozilla files without blank separating lines need (MimeKit's content-length corpus).
///
/// The first non-blank line of the file must start with `From ` (a UTF-8 BOM and blank lines
/// before it are tolerated); otherwise the file is not an mbox and `next()` throws `.corrupt`.
///
/// **Content-Length** (Solaris mboxcl/mboxcl2, MimeKit): when a message's header has exactly one
/// `Content-Length: N` and the body's first N bytes end exactly at a `From ` line, or at a blank
/// line followed by a `From ` line, or at the end of the file, the message is exactly that long and
/// `From ` lines inside it do not split it. Otherwise the header is ignored and separators decide.
/// A file whose lengths keep being wrong by a lot (re-reading them costs more than 16 MiB plus the
/// bytes read so far) has its Content-Length headers ignored from then on, so reading stays linear.
///
/// ## What is stored
///
/// The bytes between the separator line and the next separator, with the separator line excluded
/// and one blank line before the next separator (the separating newline every writer adds)
/// excluded; a missing final newline is kept as is. From-quoting is undone by the mboxrd rule (one
/// `>` removed from lines matching `^>+From `), except in a Content-Length-delimited message whose
/// body holds an unquoted `From ` line: that writer did not quote (mboxcl2), so its bytes are kept.
///
/// `MessageLocation.offset` is the byte offset of the separator line (in the decompressed stream
/// for gzip). A message longer than `maxMessageBytes` is scanned through without being kept and
/// reported as `SourceError.tooLarge`; the next call to `next()` goes on after it.
public struct MboxReader: MessageReader {
    private let parser: MboxParser

    /// Opens `path` for reading. `mailbox` and `folder` are recorded in every message's location.
    /// `followLinks` false refuses a symbolic link at `path` (a file found inside a tree).
    public init(path: String, gzip: Bool, mailbox: String, folder: String = "",
                maxMessageBytes: Int = ReaderLimits.maxMessageBytes, followLinks: Bool = true) throws {
        try self.init(path: path, gzip: gzip, mailbox: mailbox, folder: folder, maxMessageBytes: maxMessageBytes,
                      windowBytes: FileByteStream.chunkSize * 2, followLinks: followLinks)
    }

    /// `windowBytes` is the scanning window; tests make it tiny to exercise every refill path.
    init(path: String, gzip: Bool, mailbox: String, folder: String, maxMessageBytes: Int, windowBytes: Int,
         followLinks: Bool = true) throws {
        parser = try MboxParser(stream: FileByteStream(path: path, gzip: gzip, followLinks: followLinks),
                                location: MessageLocation(mailbox: mailbox, path: path, folder: folder),
                                limit: maxMessageBytes, window: windowBytes)
    }

    public mutating func next() throws -> RawMessage? {
        try parser.next()
    }
}

private let LF: UInt8 = 10
private let CR: UInt8 = 13

/// The mbox state machine over a refillable window of the stream. Positions are absolute stream
/// offsets (Int64); `index(_:)` maps them into the window.
final class MboxParser {
    private let stream: FileByteStream
    private let template: MessageLocation
    private let limit: Int

    // The window: buf[lo..<hi] holds unconsumed bytes; buf[0] is at stream offset `base`.
    private var buf: UnsafeMutablePointer<UInt8>
    private var cap: Int
    private var lo = 0
    private var hi = 0
    private var base: Int64 = 0
    private var eof = false

    private enum State { case start, separator(Int64), done }
    private var state = State.start

    // The message being assembled: `message` plus the not yet copied stream bytes [copyFrom, pos).
    private var message: [UInt8] = []
    private var copyFrom: Int64 = 0
    private var oversize = false

    /// Bytes read twice because a Content-Length turned out wrong (the message ended at a
    /// separator inside the claimed length, and what followed was pushed back and read again).
    /// A file whose every message claims a huge length would otherwise be read once per message,
    /// quadratic in its size; once the waste passes `rescanAllowance` plus the bytes read so far,
    /// the file's Content-Length headers are no longer trusted and separators alone decide.
    private var rescanned: Int64 = 0
    private var trustContentLength = true
    static let rescanAllowance: Int64 = 16 << 20

    init(stream: FileByteStream, location: MessageLocation, limit: Int, window: Int) throws {
        self.stream = stream
        self.template = location
        self.limit = max(limit, 1)
        // At least room for a header lookahead (256 bytes) after a separator line.
        cap = max(window, 1024)
        buf = UnsafeMutablePointer<UInt8>.allocate(capacity: cap)
    }

    deinit { buf.deallocate() }

    @inline(__always) private func index(_ position: Int64) -> Int { Int(position - base) }
    @inline(__always) private func byte(_ position: Int64) -> UInt8 { buf[Int(position - base)] }

    // MARK: window management

    /// Reads more data after `hi`, first dropping consumed bytes. False when nothing was added
    /// (end of data, or the window is full of unconsumed bytes).
    private func fill() throws -> Bool {
        if eof { return false }
        if lo > 0 && (hi == cap || lo >= cap / 2) {
            let count = hi - lo
            if count > 0 { memmove(buf, buf + lo, count) }
            base += Int64(lo)
            hi = count
            lo = 0
        }
        if hi == cap { return false }
        let n = try stream.read(into: UnsafeMutableRawBufferPointer(start: buf + hi, count: cap - hi))
        if n == 0 {
            eof = true
            return false
        }
        hi += n
        return true
    }

    /// Copies the pending bytes [copyFrom, position) into the message (unless it is oversize) and
    /// marks them consumed, so the window can be compacted.
    private func flush(upTo position: Int64) {
        guard position > copyFrom else {
            lo = max(lo, index(position))
            return
        }
        let start = index(copyFrom)
        let end = index(position)
        if !oversize {
            message.append(contentsOf: UnsafeBufferPointer(start: buf + start, count: end - start))
        }
        copyFrom = position
        lo = end
    }

    /// The line starting at `position`: its end (after the LF) and whether it is complete. A line
    /// longer than the window comes back in pieces (`complete == false`). Nil at the end of data.
    private func line(at position: Int64) throws -> (end: Int64, complete: Bool)? {
        while true {
            let i = index(position)
            if i < hi, let hit = memchr(buf + i, Int32(LF), hi - i) {
                let nl = UnsafeMutablePointer<UInt8>(OpaquePointer(hit)) - buf
                return (base + Int64(nl + 1), true)
            }
            if eof { return i < hi ? (base + Int64(hi), false) : nil }
            flush(upTo: position)
            if try !fill() {
                if eof { continue }
                return (base + Int64(hi), false)
            }
        }
    }

    /// Makes up to `count` bytes from `position` available (fewer at the end of data), keeping
    /// everything from `keep` on.
    private func ensure(_ count: Int, at position: Int64, keeping keep: Int64) throws {
        while index(position) + count > hi && !eof {
            flush(upTo: keep)
            if try !fill() { break }
        }
    }

    /// Puts `bytes` back in front of the unconsumed window (a Content-Length that did not hold).
    private func pushBack(_ bytes: ArraySlice<UInt8>) {
        let count = bytes.count
        guard count > 0 else { return }
        if lo >= count {
            lo -= count
            bytes.withUnsafeBufferPointer { src in
                if let s = src.baseAddress { (buf + lo).update(from: s, count: count) }
            }
            return
        }
        let live = hi - lo
        let newCap = max(cap, count + live + FileByteStream.chunkSize)
        let newBuf = UnsafeMutablePointer<UInt8>.allocate(capacity: newCap)
        bytes.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { newBuf.update(from: s, count: count) }
        }
        if live > 0 { (newBuf + count).update(from: buf + lo, count: live) }
        base = base + Int64(lo) - Int64(count)
        buf.deallocate()
        buf = newBuf
        cap = newCap
        lo = 0
        hi = count + live
    }

    // MARK: line classification

    /// Does the line [start, end) begin with "From "?
    private func startsWithFrom(_ start: Int64, _ end: Int64) -> Bool {
        guard end - start >= 5 else { return false }
        let p = buf + index(start)
        return p[0] == 0x46 && p[1] == 0x72 && p[2] == 0x6F && p[3] == 0x6D && p[4] == 0x20
    }

    /// `From <sender>` and then nothing or something holding a time (`h:mm`).
    private func looksLikeEnvelope(_ start: Int64, _ end: Int64) -> Bool {
        let p = buf + index(start)
        var n = Int(end - start)
        while n > 0 && (p[n - 1] == LF || p[n - 1] == CR || p[n - 1] == 32 || p[n - 1] == 9) { n -= 1 }
        var i = 5
        while i < n && (p[i] == 32 || p[i] == 9) { i += 1 }
        while i < n && p[i] != 32 && p[i] != 9 { i += 1 }
        while i < n && (p[i] == 32 || p[i] == 9) { i += 1 }
        if i >= n { return true }
        // A time somewhere in the rest: digit ':' digit digit.
        var k = i
        while k + 3 < n {
            if p[k] >= 0x30 && p[k] <= 0x39 && p[k + 1] == 0x3A && p[k + 2] >= 0x30 && p[k + 2] <= 0x39
                && p[k + 3] >= 0x30 && p[k + 3] <= 0x39 { return true }
            k += 1
        }
        return false
    }

    /// Does the line at `position` start like a header field (`Name:`)? Looks at most 256 bytes.
    private func looksLikeHeader(at position: Int64, keeping keep: Int64) throws -> Bool {
        try ensure(256, at: position, keeping: keep)
        let i = index(position)
        let available = min(hi - i, 256)
        guard available > 0 else { return false }
        let p = buf + i
        var k = 0
        while k < available {
            let c = p[k]
            if c == 0x3A { break }
            if c <= 32 || c >= 127 { break }
            k += 1
        }
        guard k > 0 else { return false }
        while k < available && (p[k] == 32 || p[k] == 9) { k += 1 }
        return k < available && p[k] == 0x3A
    }

    /// The mbox separator rule (see `MboxReader`).
    private func isSeparator(_ start: Int64, _ end: Int64, complete: Bool, afterBlank: Bool) throws -> Bool {
        guard startsWithFrom(start, end), looksLikeEnvelope(start, end) else { return false }
        if afterBlank { return true }
        guard complete else { return false }
        return try looksLikeHeader(at: end, keeping: start)
    }

    /// `^>+From ` in [start, end)?
    private func isQuotedFrom(_ start: Int64, _ end: Int64) -> Bool {
        let p = buf + index(start)
        let n = Int(end - start)
        var i = 0
        while i < n && p[i] == 0x3E { i += 1 }
        guard i > 0, n - i >= 5 else { return false }
        return p[i] == 0x46 && p[i + 1] == 0x72 && p[i + 2] == 0x6F && p[i + 3] == 0x6D && p[i + 4] == 0x20
    }

    /// The value of a `Content-Length:` header line, nil if the line is another header; -1 when
    /// it is a Content-Length with an unusable value.
    private func contentLength(_ start: Int64, _ end: Int64) -> Int? {
        let name = Array("content-length".utf8)
        let n = Int(end - start)
        guard n > name.count else { return nil }
        let p = buf + index(start)
        for k in 0..<name.count where p[k] | 0x20 != name[k] && !(name[k] == 0x2D && p[k] == 0x2D) { return nil }
        var i = name.count
        while i < n && (p[i] == 32 || p[i] == 9) { i += 1 }
        guard i < n, p[i] == 0x3A else { return nil }
        i += 1
        while i < n && (p[i] == 32 || p[i] == 9) { i += 1 }
        var value = 0
        var digits = 0
        while i < n && p[i] >= 0x30 && p[i] <= 0x39 && digits < 18 {
            value = value * 10 + Int(p[i] - 0x30)
            digits += 1
            i += 1
        }
        while i < n && (p[i] == 32 || p[i] == 9 || p[i] == CR || p[i] == LF) { i += 1 }
        return digits > 0 && i == n ? value : -1
    }

    // MARK: messages

    func next() throws -> RawMessage? {
        while true {
            switch state {
            case .done:
                return nil
            case .start:
                try findFirstSeparator()
            case .separator(let offset):
                return try readMessage(separator: offset)
            }
        }
    }

    /// Skips a BOM and blank lines; the first line must be a "From " line.
    private func findFirstSeparator() throws {
        var position: Int64 = 0
        try ensure(3, at: 0, keeping: 0)
        if hi - lo >= 3 && buf[lo] == 0xEF && buf[lo + 1] == 0xBB && buf[lo + 2] == 0xBF { position = 3 }
        while true {
            copyFrom = position
            guard let (end, complete) = try line(at: position) else {
                state = .done
                return
            }
            let length = end - position
            let blank = complete && (length == 1 || (length == 2 && byte(position) == CR))
            if blank {
                position = end
                continue
            }
            if startsWithFrom(position, end) {
                state = .separator(position)
                return
            }
            state = .done
            throw SourceError.corrupt(path: template.path, offset: position, reason: "not an mbox: the first line is not a \"From \" line")
        }
    }

    private func readMessage(separator: Int64) throws -> RawMessage? {
        // Skip the separator line (in pieces if absurdly long).
        var position = separator
        while true {
            copyFrom = position
            guard let (end, complete) = try line(at: position) else { break }
            position = end
            if complete { break }
        }
        copyFrom = position
        message = []
        oversize = false

        var inHeader = true
        var contentLengthValue: Int? = nil
        var contentLengthSeen = 0
        var target: Int64? = nil            // where a Content-Length says the message ends
        var fallback: (position: Int64, afterBlank: Bool)? = nil
        var verifiedByLength = false
        var bareFromInBody = false
        var quoted: [Int] = []
        var previousBlank = false
        var atLineStart = true
        var next: State = .done
        var trimBlank = false

        scan: while true {
            let lineStart = position
            let found = try line(at: lineStart)

            // A Content-Length is checked where it says the message ends.
            if let end = target {
                var verdict: Bool? = nil
                if found == nil {
                    verdict = lineStart == end
                    // As everywhere, a final blank line is the writer's separating newline.
                    if verdict == true { trimBlank = previousBlank }
                } else if let (lineEnd, complete) = found, lineStart >= end {
                    if lineStart == end && atLineStart {
                        let length = lineEnd - lineStart
                        let blank = complete && (length == 1 || (length == 2 && byte(lineStart) == CR))
                        if startsWithFrom(lineStart, lineEnd) {
                            verdict = true
                            trimBlank = previousBlank
                            next = .separator(lineStart)
                        } else if blank {
                            try ensure(5, at: lineEnd, keeping: lineStart)
                            let rest = hi - index(lineEnd)
                            if rest <= 0 {
                                verdict = true
                                position = lineEnd
                                next = .done
                            } else if startsWithFrom(lineEnd, lineEnd + Int64(min(rest, 5))) {
                                verdict = true
                                next = .separator(lineEnd)
                            } else {
                                verdict = false
                            }
                            // The blank line is the separator's newline, not part of the message.
                            if verdict == true { flush(upTo: lineStart); copyFrom = lineEnd; lo = index(lineEnd) }
                        } else {
                            verdict = false
                        }
                    } else if lineStart > end {
                        verdict = false
                    }
                }
                if let verdict {
                    target = nil
                    if verdict {
                        verifiedByLength = true
                        flush(upTo: lineStart)
                        break scan
                    }
                    if let cut = fallback {
                        // The length was wrong: end at the first separator inside it and read
                        // the rest again as the following messages.
                        flush(upTo: lineStart)
                        let keep = message.count - Int(lineStart - cut.position)
                        if keep >= 0 {
                            pushBack(message[keep...])
                            message.removeSubrange(keep...)
                            quoted.removeAll { $0 >= keep }
                        }
                        rescanned += lineStart - cut.position
                        if rescanned > Self.rescanAllowance + cut.position { trustContentLength = false }
                        copyFrom = cut.position
                        position = cut.position
                        trimBlank = cut.afterBlank
                        next = .separator(cut.position)
                        break scan
                    }
                }
            }

            guard let (lineEnd, complete) = found else {
                // End of data.
                flush(upTo: lineStart)
                trimBlank = previousBlank
                next = .done
                break scan
            }
            let startsLine = atLineStart
            atLineStart = complete
            let length = lineEnd - lineStart
            let first = byte(lineStart)
            let blank = startsLine && complete && (length == 1 || (length == 2 && first == CR))

            if startsLine && first == 0x46 {
                if target != nil {
                    // Protected by Content-Length until it is verified.
                    if startsWithFrom(lineStart, lineEnd) {
                        bareFromInBody = true
                        if fallback == nil, try isSeparator(lineStart, lineEnd, complete: complete, afterBlank: previousBlank) {
                            fallback = (lineStart, previousBlank)
                        }
                    }
                } else if try isSeparator(lineStart, lineEnd, complete: complete, afterBlank: previousBlank) {
                    flush(upTo: lineStart)
                    trimBlank = previousBlank
                    next = .separator(lineStart)
                    break scan
                }
            } else if startsLine && first == 0x3E && !oversize && isQuotedFrom(lineStart, lineEnd) {
                quoted.append(message.count + Int(lineStart - copyFrom))
            }

            if inHeader {
                if blank {
                    inHeader = false
                    if trustContentLength, contentLengthSeen == 1, let value = contentLengthValue, value >= 0, value <= limit, !oversize {
                        target = lineEnd + Int64(value)
                    }
                } else if startsLine, complete, first | 0x20 == 0x63, let value = contentLength(lineStart, lineEnd) {
                    contentLengthSeen += 1
                    contentLengthValue = value
                }
            }
            previousBlank = blank
            position = lineEnd

            if !oversize && message.count + Int(position - copyFrom) > limit {
                // Keep scanning for the next separator, but stop keeping bytes.
                oversize = true
                message = []
                quoted = []
                target = nil
                fallback = nil
            }
        }

        state = next
        if oversize {
            message = []
            throw SourceError.tooLarge(path: template.path, offset: separator, limit: limit)
        }
        var bytes = message
        message = []
        if trimBlank { Self.dropFinalBlankLine(&bytes) }
        if !(verifiedByLength && bareFromInBody) && !quoted.isEmpty { Self.unquote(&bytes, at: quoted) }
        var location = template
        location.offset = separator
        return RawMessage(bytes: bytes, location: location)
    }

    /// Removes the last line when it is empty ("\n" or "\r\n" after a line end): the newline a
    /// writer puts before the next "From " line.
    static func dropFinalBlankLine(_ bytes: inout [UInt8]) {
        let n = bytes.count
        if n >= 2 && bytes[n - 1] == LF && bytes[n - 2] == LF {
            bytes.removeLast()
        } else if n >= 3 && bytes[n - 1] == LF && bytes[n - 2] == CR && bytes[n - 3] == LF {
            bytes.removeLast(2)
        } else if n == 1 && bytes[0] == LF {
            bytes.removeLast()
        } else if n == 2 && bytes[0] == CR && bytes[1] == LF {
            bytes.removeLast(2)
        }
    }

    /// Removes one '>' at each of the (ascending) line starts in `positions`.
    static func unquote(_ bytes: inout [UInt8], at positions: [Int]) {
        var write = 0
        var read = 0
        var next = 0
        let n = bytes.count
        while read < n {
            if next < positions.count && positions[next] == read {
                next += 1
                read += 1
                continue
            }
            bytes[write] = bytes[read]
            write += 1
            read += 1
        }
        bytes.removeSubrange(write...)
    }
}
