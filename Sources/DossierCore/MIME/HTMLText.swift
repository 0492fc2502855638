/// HTML to plain text for the search index: tags removed, entities decoded, script/style dropped,
/// block elements turned into line breaks.
///
/// A single forward scan over the UTF-8 bytes, linear in the input: every search for a closing
/// construct either succeeds (and the scan continues after it) or fails once and ends the
/// document, so no byte is rescanned more than a bounded number of times. It is not an HTML
/// parser: it aims at readable, searchable words from the HTML mail actually contains.
public enum HTMLText {
    /// The words of `html` as plain text: one line per block element, cells separated by a
    /// space, runs of white space collapsed, character references decoded. Never fails.
    public static func text(from html: String) -> String {
        var html = html
        return html.withUTF8 { input in
            var converter = HTMLTextConverter(input)
            converter.run()
            return String(decoding: converter.output, as: UTF8.self)
        }
    }
}

/// How a tag affects the text around it.
private enum TagEffect {
    case none
    /// A block element: the text before and after it are on separate lines.
    case lineBreak
    /// A table cell: the text before and after it are separate words.
    case space
    /// Its content is not text (script, style): skip to the matching end tag.
    case skipContent
    /// The document head (title, meta, style...): skip to `</head>` or `<body>`.
    case head
}

private struct HTMLTextConverter {
    let input: UnsafeBufferPointer<UInt8>
    var output: [UInt8] = []
    /// White space seen since the last emitted text: emitted as one space before the next text.
    var pendingSpace = false
    /// A block boundary seen since the last emitted text: emitted as one line break.
    var pendingBreak = false
    /// Set once a search for `</head>` (or for `<body>` to the end of the input) failed, so later
    /// `<head>` tags do not search again: that keeps hostile `<head><head>...` input linear.
    var headCloseMissing = false
    var bodyMissing = false
    /// Set once a search for the closing `"` (or `'`) of an attribute value failed: that quote
    /// does not occur again, so later values are not searched for it (keeps the scan linear).
    var doubleQuoteMissing = false
    var singleQuoteMissing = false

    init(_ input: UnsafeBufferPointer<UInt8>) {
        self.input = input
        output.reserveCapacity(input.count / 2)
    }

    mutating func run() {
        let n = input.count
        var i = 0
        while i < n {
            let c = input[i]
            switch c {
            case UInt8(ascii: "<"):
                guard let next = tag(at: i) else { return }
                i = next
            case UInt8(ascii: "&"):
                i = entity(at: i)
            case 32, 9, 10, 13, 12:
                pendingSpace = true
                i += 1
            default:
                emitPending()
                output.append(c)
                i += 1
            }
        }
    }

    // MARK: Output

    mutating func emitPending() {
        if pendingBreak {
            if !output.isEmpty { output.append(10) }
        } else if pendingSpace {
            if !output.isEmpty && output.last != 10 { output.append(32) }
        }
        pendingBreak = false
        pendingSpace = false
    }

    mutating func emit(scalar value: UInt32) {
        // No-break spaces are spaces to a reader and to the index.
        if value == 0xA0 || value == 0x20 || value == 0x09 || value == 0x0A || value == 0x0D {
            pendingSpace = true
            return
        }
        emitPending()
        let v = Unicode.Scalar(value).map { $0.value } ?? 0xFFFD
        switch v {
        case 0..<0x80:
            output.append(UInt8(v))
        case 0x80..<0x800:
            output.append(UInt8(0xC0 | v >> 6))
            output.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            output.append(UInt8(0xE0 | v >> 12))
            output.append(UInt8(0x80 | v >> 6 & 0x3F))
            output.append(UInt8(0x80 | v & 0x3F))
        default:
            output.append(UInt8(0xF0 | v >> 18))
            output.append(UInt8(0x80 | v >> 12 & 0x3F))
            output.append(UInt8(0x80 | v >> 6 & 0x3F))
            output.append(UInt8(0x80 | v & 0x3F))
        }
    }

    // MARK: Tags

    /// Handles the markup starting at `start` ("<"); returns where to continue, or nil when the
    /// rest of the document is to be dropped (an unterminated comment, tag or script).
    mutating func tag(at start: Int) -> Int? {
        let n = input.count
        let next = start + 1
        guard next < n else {
            // A "<" ending the document is text ("x <"), not the start of a tag.
            emitPending()
            output.append(UInt8(ascii: "<"))
            return next
        }
        let c = input[next]

        if c == UInt8(ascii: "!") {
            if match(at: next + 1, "--") {
                guard let end = find("-->", from: next + 3) else { return nil }
                return end + 3
            }
            guard let end = find(">", from: next) else { return nil }
            return end + 1
        }
        if c == UInt8(ascii: "?") {
            guard let end = find(">", from: next) else { return nil }
            return end + 1
        }
        let closing = c == UInt8(ascii: "/")
        let nameStart = closing ? next + 1 : next
        guard nameStart < n, Self.isLetter(input[nameStart]) else {
            // "a < b", "<3": a literal less-than sign.
            emitPending()
            output.append(UInt8(ascii: "<"))
            return next
        }
        var nameEnd = nameStart
        while nameEnd < n && (Self.isLetter(input[nameEnd]) || Self.isDigit(input[nameEnd])) { nameEnd += 1 }
        guard let tagEnd = tagEnd(from: nameEnd) else { return nil }
        let after = tagEnd + 1

        switch effect(nameStart, nameEnd) {
        case .none:
            return after
        case .lineBreak:
            pendingBreak = true
            return after
        case .space:
            pendingSpace = true
            return after
        case .skipContent:
            if closing { return after }
            // <script>...</script>: find the end tag; without one, the rest is script.
            var endTag: [UInt8] = Array("</".utf8)
            for k in nameStart..<nameEnd { endTag.append(Self.lower(input[k])) }
            guard let end = findCaseInsensitive(endTag, from: after, before: input.count),
                  let close = find(">", from: end) else { return nil }
            pendingSpace = true
            return close + 1
        case .head:
            if closing { return after }
            // Skip to </head>, or to <body> when that comes first (or </head> is missing).
            var headEnd: Int?
            if !headCloseMissing {
                headEnd = findCaseInsensitive(Array("</head".utf8), from: after, before: input.count)
                if headEnd == nil { headCloseMissing = true }
            }
            if !bodyMissing || headEnd != nil,
               let body = findCaseInsensitive(Array("<body".utf8), from: after, before: headEnd ?? input.count) {
                return body
            } else if headEnd == nil {
                bodyMissing = true
            }
            guard let end = headEnd else {
                // No end of head anywhere: treat <head> as an ordinary tag and keep its text.
                return after
            }
            guard let close = find(">", from: end) else { return nil }
            return close + 1
        }
    }

    func effect(_ start: Int, _ end: Int) -> TagEffect {
        let length = end - start
        guard length <= 10 else { return .none }
        var name: [UInt8] = []
        name.reserveCapacity(length)
        for k in start..<end { name.append(Self.lower(input[k])) }
        switch String(decoding: name, as: UTF8.self) {
        case "p", "br", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl",
             "dt", "dd", "blockquote", "pre", "hr", "section", "article", "header", "footer", "nav", "aside",
             "form", "fieldset", "address", "figure", "figcaption", "main", "center", "caption", "tbody",
             "thead", "tfoot", "body", "html", "title", "option", "legend", "details", "summary":
            return .lineBreak
        case "td", "th":
            return .space
        case "script", "style", "noframes", "template", "xml":
            return .skipContent
        case "head":
            return .head
        default:
            return .none
        }
    }

    // MARK: Entities

    /// Decodes the character reference at `start` ("&") if there is one; returns where to continue.
    mutating func entity(at start: Int) -> Int {
        let n = input.count
        var i = start + 1
        if i < n && input[i] == UInt8(ascii: "#") {
            i += 1
            let hex = i < n && (input[i] == UInt8(ascii: "x") || input[i] == UInt8(ascii: "X"))
            if hex { i += 1 }
            var value: UInt32 = 0
            var digits = 0
            while i < n {
                let c = input[i]
                let digit: UInt32
                if Self.isDigit(c) {
                    digit = UInt32(c - 48)
                } else if hex && (c | 0x20) >= 97 && (c | 0x20) <= 102 {
                    digit = UInt32((c | 0x20) - 87)
                } else {
                    break
                }
                // Saturate: an absurdly long number is just invalid, not an overflow.
                value = min(value * (hex ? 16 : 10) + digit, 0x110000)
                digits += 1
                i += 1
            }
            guard digits > 0 else { return literalAmpersand(start) }
            if i < n && input[i] == UInt8(ascii: ";") { i += 1 }
            emit(scalar: Self.numericReference(value))
            return i
        }

        var nameEnd = i
        while nameEnd < n && nameEnd - i < 32 && (Self.isLetter(input[nameEnd]) || Self.isDigit(input[nameEnd])) {
            nameEnd += 1
        }
        guard nameEnd > i else { return literalAmpersand(start) }
        let name = String(decoding: UnsafeBufferPointer(rebasing: input[i..<nameEnd]), as: UTF8.self)
        if nameEnd < n && input[nameEnd] == UInt8(ascii: ";"), let value = HTMLEntities.named[name] {
            emit(scalar: value)
            return nameEnd + 1
        }
        // Browsers accept a few old entities without the semicolon ("&amp", "&nbsp").
        if let value = HTMLEntities.legacyWithoutSemicolon[name] {
            emit(scalar: value)
            return nameEnd
        }
        return literalAmpersand(start)
    }

    mutating func literalAmpersand(_ start: Int) -> Int {
        emitPending()
        output.append(UInt8(ascii: "&"))
        return start + 1
    }

    /// What a numeric reference stands for, as browsers read it: C1 controls are Windows-1252
    /// (mail from Outlook writes `&#150;` for a dash); NUL, surrogates and out-of-range values
    /// become U+FFFD.
    static func numericReference(_ value: UInt32) -> UInt32 {
        if value >= 0x80 && value <= 0x9F {
            let mapped = windows1252C1[Int(value - 0x80)]
            return mapped == 0 ? 0xFFFD : mapped
        }
        if value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) { return 0xFFFD }
        return value
    }

    /// Windows-1252 bytes 0x80-0x9F as Unicode (0: undefined).
    static let windows1252C1: [UInt32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]

    // MARK: Searching

    func match(at index: Int, _ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard index + length <= input.count else { return false }
        let p = literal.utf8Start
        for k in 0..<length where input[index + k] != p[k] { return false }
        return true
    }

    /// The ">" that ends a start or end tag whose attributes begin at `start`. A quoted attribute
    /// value may contain ">" (`<input value="a>b">`): after "=", a quote runs to its matching
    /// quote. An unmatched quote is not a quote: the tag then ends at the first ">" after it.
    mutating func tagEnd(from start: Int) -> Int? {
        let n = input.count
        var i = start
        var afterEquals = false
        while i < n {
            let c = input[i]
            if c == UInt8(ascii: ">") { return i }
            if afterEquals && (c == 34 || c == 39) {
                let missing = c == 34 ? doubleQuoteMissing : singleQuoteMissing
                if !missing {
                    var j = i + 1
                    while j < n && input[j] != c { j += 1 }
                    if j < n {
                        i = j + 1
                        afterEquals = false
                        continue
                    }
                    if c == 34 { doubleQuoteMissing = true } else { singleQuoteMissing = true }
                }
            }
            if c == UInt8(ascii: "=") {
                afterEquals = true
            } else if !(c == 32 || c == 9 || c == 10 || c == 13 || c == 12) {
                afterEquals = false
            }
            i += 1
        }
        return nil
    }

    /// The index of the first occurrence of `literal` at or after `start`.
    func find(_ literal: StaticString, from start: Int) -> Int? {
        let length = literal.utf8CodeUnitCount
        guard length > 0 else { return start }
        let first = literal.utf8Start[0]
        var i = max(start, 0)
        while i + length <= input.count {
            if input[i] == first && match(at: i, literal) { return i }
            i += 1
        }
        return nil
    }

    /// The index of the first occurrence of `needle` (lowercase ASCII) starting in
    /// `[start, limit)`, ignoring ASCII case in the input.
    func findCaseInsensitive(_ needle: [UInt8], from start: Int, before limit: Int) -> Int? {
        guard let first = needle.first else { return start }
        var i = max(start, 0)
        outer: while i < limit && i + needle.count <= input.count {
            if Self.lower(input[i]) == first {
                for k in 1..<needle.count where Self.lower(input[i + k]) != needle[k] {
                    i += 1
                    continue outer
                }
                return i
            }
            i += 1
        }
        return nil
    }

    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c | 0x20 : c }
    @inline(__always) static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 97 && (c | 0x20) <= 122 }
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
}

/// The HTML 4 named character references (the ones mail uses), plus `apos`.
enum HTMLEntities {
    static let named: [String: UInt32] = {
        var table: [String: UInt32] = [
            "quot": 34, "amp": 38, "apos": 39, "lt": 60, "gt": 62,
            "OElig": 338, "oelig": 339, "Scaron": 352, "scaron": 353, "Yuml": 376, "fnof": 402,
            "circ": 710, "tilde": 732,
            "thetasym": 977, "upsih": 978, "piv": 982,
            "ensp": 8194, "emsp": 8195, "thinsp": 8201, "zwnj": 8204, "zwj": 8205, "lrm": 8206, "rlm": 8207,
            "ndash": 8211, "mdash": 8212, "lsquo": 8216, "rsquo": 8217, "sbquo": 8218, "ldquo": 8220,
            "rdquo": 8221, "bdquo": 8222, "dagger": 8224, "Dagger": 8225, "bull": 8226, "hellip": 8230,
            "permil": 8240, "prime": 8242, "Prime": 8243, "lsaquo": 8249, "rsaquo": 8250, "oline": 8254,
            "frasl": 8260, "euro": 8364, "image": 8465, "weierp": 8472, "real": 8476, "trade": 8482,
            "alefsym": 8501, "larr": 8592, "uarr": 8593, "rarr": 8594, "darr": 8595, "harr": 8596,
            "crarr": 8629, "lArr": 8656, "uArr": 8657, "rArr": 8658, "dArr": 8659, "hArr": 8660,
            "forall": 8704, "part": 8706, "exist": 8707, "empty": 8709, "nabla": 8711, "isin": 8712,
            "notin": 8713, "ni": 8715, "prod": 8719, "sum": 8721, "minus": 8722, "lowast": 8727,
            "radic": 8730, "prop": 8733, "infin": 8734, "ang": 8736, "and": 8743, "or": 8744, "cap": 8745,
            "cup": 8746, "int": 8747, "there4": 8756, "sim": 8764, "cong": 8773, "asymp": 8776, "ne": 8800,
            "equiv": 8801, "le": 8804, "ge": 8805, "sub": 8834, "sup": 8835, "nsub": 8836, "sube": 8838,
            "supe": 8839, "oplus": 8853, "otimes": 8855, "perp": 8869, "sdot": 8901, "lceil": 8968,
            "rceil": 8969, "lfloor": 8970, "rfloor": 8971, "lang": 9001, "rang": 9002, "loz": 9674,
            "spades": 9824, "clubs": 9827, "hearts": 9829, "diams": 9830,
        ]
        // Latin-1 supplement, U+00A0 to U+00FF, in code point order.
        let latin1 = """
            nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr \
            deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest \
            Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml \
            ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig \
            agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml \
            eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml
            """
        for (offset, name) in latin1.split(separator: " ").enumerated() {
            table[String(name)] = 0xA0 + UInt32(offset)
        }
        // Greek: capitals from U+0391 (U+03A2 is unassigned), small letters from U+03B1.
        let greekCapitals = "Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi Omicron Pi Rho - Sigma Tau Upsilon Phi Chi Psi Omega"
        for (offset, name) in greekCapitals.split(separator: " ").enumerated() where name != "-" {
            table[String(name)] = 0x391 + UInt32(offset)
        }
        let greekSmall = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigmaf sigma tau upsilon phi chi psi omega"
        for (offset, name) in greekSmall.split(separator: " ").enumerated() {
            table[String(name)] = 0x3B1 + UInt32(offset)
        }
        return table
    }()

    /// Entities browsers still recognise without their semicolon.
    static let legacyWithoutSemicolon: [String: UInt32] = [
        "amp": 38, "lt": 60, "gt": 62, "quot": 34, "nbsp": 0xA0, "copy": 0xA9, "reg": 0xAE,
    ]
}
