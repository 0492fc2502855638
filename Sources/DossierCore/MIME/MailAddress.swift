/// One mailbox from an address header: `"Name" <local@domain>`.
public struct MailAddress: Sendable, Hashable, Codable {
    /// Display name, decoded (RFC 2047), without quotes; nil when absent.
    public var name: String?
    /// `local@domain` as written (no angle brackets); may lack a domain in broken mail.
    public var address: String
    /// The group this mailbox was listed in (`Team: a@x, b@y;`), if any.
    public var group: String?

    public init(name: String? = nil, address: String, group: String? = nil) {
        self.name = name
        self.address = address
        self.group = group
    }

    /// The address lowercased, for matching and indexing.
    public var normalized: String { address.lowercased() }

    /// The domain part, lowercased; "" when there is none.
    public var domain: String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...].lowercased()
    }
}

/// RFC 5322 address lists, tolerant of what real mail does: groups, comments, quoted names,
/// obsolete routes, missing brackets, unquoted commas in names, raw 8-bit names.
///
/// One linear pass tokenizes the field (atoms, quoted strings, comments with an iterative depth
/// counter, specials); a second walks the tokens. Choices for broken input, in the spirit of
/// MimeKit and GMime:
/// - `Doe, John <j@x>`: a part with neither `@` nor `<...>` followed by a bracketed mailbox is the
///   first half of an unquoted name, not a local address;
/// - `John Smith john@x` (no brackets): the words before the address are the name;
/// - `a@b (Name)`: the comment is the name when there is no other;
/// - `<@route,@route:a@b>`: the route is dropped;
/// - `undisclosed-recipients:;` and empty lists give no mailbox; junk tokens are skipped;
/// - names are RFC 2047-decoded even inside quotes (Outlook), 8-bit names read as UTF-8 or
///   Windows-1252.
public enum AddressParser {
    /// Fields longer than this are cut (hostile input).
    public static let maxInput = 1 << 20
    /// At most this many mailboxes come out of one field.
    public static let maxAddresses = 10_000

    /// Parses an address-list header value (From, To, Cc...) into mailboxes, in order.
    public static func parse(_ raw: [UInt8]) -> [MailAddress] {
        raw.withUnsafeBufferPointer { whole in
            let buf = whole.count > maxInput ? UnsafeBufferPointer(rebasing: whole[..<maxInput]) : whole
            var lexer = Lexer(buf)
            lexer.run()
            var parser = ListParser(tokens: lexer.tokens, arena: lexer.arena)
            return parser.run()
        }
    }

    enum Kind: UInt8 { case atom, quoted, comment, lt, gt, colon, semicolon, at, comma }

    struct Token {
        var kind: Kind
        /// The token's text (unescaped for quoted strings and comments) in the lexer's arena.
        var range: Range<Int>
        var spaceBefore: Bool
    }

    struct Lexer {
        let buf: UnsafeBufferPointer<UInt8>
        var tokens: [Token] = []
        var arena: [UInt8] = []

        init(_ buf: UnsafeBufferPointer<UInt8>) {
            self.buf = buf
            arena.reserveCapacity(buf.count)
        }

        static func isSpecial(_ c: UInt8) -> Bool {
            switch c {
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ":"),
                 UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: ","), UInt8(ascii: "\""), UInt8(ascii: "["):
                return true
            default: return false
            }
        }

        mutating func run() {
            let n = buf.count
            var i = 0
            var space = false
            while i < n {
                let c = buf[i]
                if HeaderText.isWhite(c) { space = true; i += 1; continue }
                let start = arena.count
                let kind: Kind
                switch c {
                case UInt8(ascii: "("):
                    // Nested comments with a counter, never recursion.
                    var depth = 1
                    i += 1
                    while i < n {
                        let ch = buf[i]
                        if ch == UInt8(ascii: "\\") && i + 1 < n { arena.append(buf[i + 1]); i += 2; continue }
                        if ch == UInt8(ascii: "(") { depth += 1 }
                        if ch == UInt8(ascii: ")") { depth -= 1; if depth == 0 { i += 1; break } }
                        if ch != 13 && ch != 10 { arena.append(ch) }
                        i += 1
                    }
                    kind = .comment
                case UInt8(ascii: "\""):
                    i += 1
                    while i < n {
                        let ch = buf[i]
                        if ch == UInt8(ascii: "\\") && i + 1 < n { arena.append(buf[i + 1]); i += 2; continue }
                        if ch == UInt8(ascii: "\"") { i += 1; break }
                        if ch != 13 && ch != 10 { arena.append(ch) }
                        i += 1
                    }
                    kind = .quoted
                case UInt8(ascii: "<"): kind = .lt; i += 1
                case UInt8(ascii: ">"): kind = .gt; i += 1
                case UInt8(ascii: ":"): kind = .colon; i += 1
                case UInt8(ascii: ";"): kind = .semicolon; i += 1
                case UInt8(ascii: "@"): kind = .at; i += 1
                case UInt8(ascii: ","): kind = .comma; i += 1
                case UInt8(ascii: ")"):
                    // A stray closing parenthesis: junk, skip it.
                    i += 1
                    continue
                case UInt8(ascii: "["):
                    // Domain literal, kept with its brackets as one atom.
                    while i < n {
                        let ch = buf[i]
                        if ch != 13 && ch != 10 { arena.append(ch) }
                        i += 1
                        if ch == UInt8(ascii: "]") { break }
                    }
                    kind = .atom
                default:
                    while i < n {
                        let ch = buf[i]
                        // An encoded word is one unit even when broken senders put specials in it
                        // (`=?utf-8?Q?Doe,_John?=`), as in MimeKit's loose mode.
                        if ch == UInt8(ascii: "="), i + 1 < n, buf[i + 1] == UInt8(ascii: "?"),
                           let word = HeaderText.encodedWord(in: buf, at: i) {
                            arena.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<word.end]))
                            i = word.end
                            continue
                        }
                        if HeaderText.isWhite(ch) || Lexer.isSpecial(ch) || ch == UInt8(ascii: ")") { break }
                        arena.append(ch)
                        i += 1
                    }
                    kind = .atom
                }
                tokens.append(Token(kind: kind, range: start..<arena.count, spaceBefore: space))
                space = false
            }
        }
    }

    struct ListParser {
        let tokens: [Token]
        let arena: [UInt8]
        var out: [MailAddress] = []
        var group: String? = nil
        /// A name-only part waiting to see whether the next part completes it (`Doe, John <j@x>`).
        var held: (name: [UInt8], comment: [UInt8]?, group: String?)? = nil

        init(tokens: [Token], arena: [UInt8]) {
            self.tokens = tokens
            self.arena = arena
        }

        mutating func run() -> [MailAddress] {
            var entryStart = 0
            var inAngle = false
            var angleRoute = false
            var t = 0
            let n = tokens.count
            while t < n && out.count < AddressParser.maxAddresses {
                let tok = tokens[t]
                switch tok.kind {
                case .lt:
                    inAngle = true
                    angleRoute = t + 1 < n && tokens[t + 1].kind == .at
                case .gt:
                    inAngle = false
                case .comma:
                    // Inside `<@a,@b:x@y>` a comma belongs to the route; elsewhere it ends a mailbox
                    // (also when a `>` was forgotten).
                    if !(inAngle && angleRoute) {
                        entry(entryStart..<t)
                        entryStart = t + 1
                        inAngle = false
                    }
                case .colon:
                    if inAngle {
                        angleRoute = false
                    } else if !hasAddressSyntax(entryStart..<t) {
                        flushHeld()
                        let name = phrase(entryStart..<t)
                        group = name.isEmpty ? nil : decode(name)
                        entryStart = t + 1
                    }
                case .semicolon:
                    entry(entryStart..<t)
                    flushHeld()
                    entryStart = t + 1
                    inAngle = false
                    group = nil
                default:
                    break
                }
                t += 1
            }
            if out.count < AddressParser.maxAddresses { entry(entryStart..<n) }
            flushHeld()
            if out.count > AddressParser.maxAddresses { out.removeLast(out.count - AddressParser.maxAddresses) }
            return out
        }

        func hasAddressSyntax(_ r: Range<Int>) -> Bool {
            for k in r where tokens[k].kind == .at || tokens[k].kind == .lt { return true }
            return false
        }

        /// A held name-only part that no bracketed mailbox completed: a local address after all.
        mutating func flushHeld() {
            guard let h = held else { return }
            held = nil
            let text = decode(h.name)
            // `jeff (Jeffrey Stedfast)`: a local address, its comment as the name.
            if !text.isEmpty && !text.contains(" ") {
                let name = h.comment.map { decode($0) } ?? ""
                out.append(MailAddress(name: cleanName(name, address: text), address: text, group: h.group))
            }
        }

        /// Decodes one mailbox part (or several when commas were forgotten).
        mutating func entry(_ r: Range<Int>) {
            if r.isEmpty { return }
            if let lt = r.first(where: { tokens[$0].kind == .lt }) {
                var gt = r.upperBound
                for k in (lt + 1)..<r.upperBound where tokens[k].kind == .gt { gt = k; break }
                // obs-route: keep what follows the last colon inside the brackets.
                var addrStart = lt + 1
                for k in addrStart..<gt where tokens[k].kind == .colon { addrStart = k + 1 }
                // `<@a,@b` without the colon: a route with no mailbox behind it.
                if addrStart < gt && tokens[addrStart].kind == .at { return }
                let address = addressText(addrStart..<gt)
                var nameBytes = phrase(r.lowerBound..<lt)
                if let h = held {
                    held = nil
                    if !h.name.isEmpty {
                        nameBytes = h.name + Array(",".utf8) + (nameBytes.isEmpty ? [] : [32] + nameBytes)
                    }
                }
                var name = decode(nameBytes)
                if name.isEmpty, let c = firstComment(r) { name = decode(c) }
                guard address.utf8.contains(where: { $0 != UInt8(ascii: "@") }) else { return }
                out.append(MailAddress(name: cleanName(name, address: address), address: address, group: group))
                return
            }
            flushHeld()
            // No brackets: each `local@domain` run is a mailbox; words before it are its name.
            var k = r.lowerBound
            var found = false
            while k < r.upperBound {
                guard let at = (k..<r.upperBound).first(where: { tokens[$0].kind == .at }) else { break }
                // Comments next to the `@` (`a(x)@b`) are white space inside the address.
                var lo = at, hi = at + 1
                var p = at - 1
                while p >= k && tokens[p].kind == .comment { p -= 1 }
                if p >= k && isWord(p) {
                    lo = p
                    while lo - 1 >= k && isWord(lo - 1) && !tokens[lo].spaceBefore { lo -= 1 }
                }
                var q = at + 1
                while q < r.upperBound && tokens[q].kind == .comment { q += 1 }
                if q < r.upperBound && isWord(q) {
                    hi = q + 1
                    while hi < r.upperBound && isWord(hi) && !tokens[hi].spaceBefore { hi += 1 }
                }
                let address = addressText(lo..<hi)
                var name = decode(phrase(k..<lo))
                if name.isEmpty, let c = firstComment(hi..<nextAtOrEnd(hi, r.upperBound)) { name = decode(c) }
                if name.isEmpty, let c = firstComment(lo..<hi) { name = decode(c) }
                if name.isEmpty, let c = firstComment(k..<lo) { name = decode(c) }
                if address.utf8.contains(where: { $0 != UInt8(ascii: "@") }) {
                    out.append(MailAddress(name: cleanName(name, address: address), address: address, group: group))
                    found = true
                }
                k = hi
            }
            if !found && !r.contains(where: { tokens[$0].kind == .at }) {
                let words = phrase(r)
                if !words.isEmpty { held = (words, firstComment(r), group) }
            }
        }

        func nextAtOrEnd(_ from: Int, _ end: Int) -> Int {
            var k = from
            while k < end && tokens[k].kind != .at { k += 1 }
            // The comment must come before the next mailbox's words.
            while k > from && k - 1 >= from && isWord(k - 1) { k -= 1 }
            return k
        }

        func isWord(_ k: Int) -> Bool { tokens[k].kind == .atom || tokens[k].kind == .quoted }

        func firstComment(_ r: Range<Int>) -> [UInt8]? {
            for k in r where tokens[k].kind == .comment && !tokens[k].range.isEmpty {
                return Array(arena[tokens[k].range])
            }
            return nil
        }

        /// Words of a display name joined with single spaces (comments left out), still encoded.
        func phrase(_ r: Range<Int>) -> [UInt8] {
            var out: [UInt8] = []
            for k in r {
                let tok = tokens[k]
                switch tok.kind {
                case .atom, .quoted:
                    if !out.isEmpty && tok.spaceBefore { out.append(32) }
                    out.append(contentsOf: arena[tok.range])
                case .at:
                    out.append(UInt8(ascii: "@"))
                case .comment, .lt, .gt, .colon, .semicolon, .comma:
                    continue
                }
            }
            return out
        }

        /// `local@domain` from address tokens: white space and comments dropped, quoted local parts
        /// re-quoted only when they need it.
        func addressText(_ r: Range<Int>) -> String {
            var bytes: [UInt8] = []
            for k in r {
                let tok = tokens[k]
                switch tok.kind {
                case .atom: bytes.append(contentsOf: arena[tok.range])
                case .at: bytes.append(UInt8(ascii: "@"))
                case .quoted:
                    let content = arena[tok.range]
                    let needsQuotes = content.isEmpty || content.contains { c in
                        c <= 32 || c == 127 || (Lexer.isSpecial(c) && c != UInt8(ascii: "[")) || c == UInt8(ascii: ")") || c == UInt8(ascii: "\\")
                    }
                    if needsQuotes {
                        bytes.append(UInt8(ascii: "\""))
                        for c in content {
                            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                            bytes.append(c)
                        }
                        bytes.append(UInt8(ascii: "\""))
                    } else {
                        bytes.append(contentsOf: content)
                    }
                default: continue
                }
            }
            return CharsetDecoder.decode(bytes, charset: nil).text
        }

        func decode(_ bytes: [UInt8]) -> String {
            bytes.isEmpty ? "" : HeaderText.decodeUnstructured(bytes)
        }

        /// Drops quotes left around a decoded name ('John' and "John" from encoded words) and
        /// empty names.
        func cleanName(_ name: String, address: String) -> String? {
            var s = Substring(name)
            while s.count >= 2, let f = s.first, let l = s.last,
                  (f == "'" && l == "'") || (f == "\"" && l == "\"") {
                s = s.dropFirst().dropLast()
            }
            while s.first == " " { s = s.dropFirst() }
            while s.last == " " { s = s.dropLast() }
            return s.isEmpty ? nil : String(s)
        }
    }
}
