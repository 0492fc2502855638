import Foundation

/// RFC 5322 dates and the broken forms common in real mail, normalised to UTC.
/// An unreadable date is nil: never a crash, never "now".
///
/// A byte tokenizer classifies numbers, times, words and zones, then assigns them by shape and
/// order rather than by position, which is what reads the broken forms (no day of week, asctime
/// `Tue Mar  5 10:00:00 2024`, ISO 8601, `5-Mar-2024`, `2024/03/05`, full or lowercase month names,
/// two- and three-digit years, missing seconds, named and military zones, `+0100 (CET)`).
/// No zone means UTC. Out-of-range fields (month 13, day 32, hour 25, year 0) give nil.
/// The epoch is computed directly (no DateFormatter, no Calendar: both are slow on the hot path).
public enum DateParser {
    /// Only the first bytes matter; a longer Date field is junk after that.
    static let maxInput = 512

    /// Parses a Date header value.
    public static func parse(_ raw: [UInt8]) -> Date? {
        epochSeconds(raw).map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// Parses a Date header value to seconds since 1970-01-01T00:00:00Z.
    public static func epochSeconds(_ raw: [UInt8]) -> Int64? {
        raw.withUnsafeBufferPointer { whole in
            let buf = whole.count > maxInput ? UnsafeBufferPointer(rebasing: whole[..<maxInput]) : whole
            var p = Parser(buf)
            return p.run()
        }
    }

    /// Seconds since the epoch of a UTC civil date and time (proleptic Gregorian calendar).
    public static func epochSeconds(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) -> Int64 {
        // Days from civil (the well-known era/day-of-era computation).
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
    }

    /// A numeric zone in seconds east of UTC. Real zones lie between -12:00 and +14:00; anything
    /// beyond is damage, and the time is then read as UTC rather than dropping the date.
    static func zoneSeconds(sign: Int, hours: Int, minutes: Int) -> Int {
        guard minutes <= 59 else { return 0 }
        let v = sign * (hours * 3600 + minutes * 60)
        return (-12 * 3600...14 * 3600).contains(v) ? v : 0
    }

    static func daysInMonth(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Up to 8 lowercase ASCII letters packed into an integer (how the tokenizer sees words).
    static func pack(_ s: String) -> UInt64 {
        var v: UInt64 = 0
        for c in s.utf8.prefix(8) { v = v << 8 | UInt64(c) }
        return v
    }

    static let monthNames = ["january", "february", "march", "april", "may", "june", "july", "august",
                             "september", "october", "november", "december"]
    static let monthKeys: [UInt64] = monthNames.map { pack(String($0.prefix(3))) }
    static let am = pack("am"), pm = pack("pm")

    /// Zone names seen in mail, in seconds east of UTC. RFC 5322's own (UT, GMT, EST...) and the
    /// common non-standard ones; ambiguous IST is read as Irish time (+0100).
    static let zones: [UInt64: Int] = {
        var t: [UInt64: Int] = [:]
        let hours: [(String, Double)] = [
            ("ut", 0), ("utc", 0), ("gmt", 0), ("z", 0), ("uct", 0), ("wet", 0),
            ("edt", -4), ("est", -5), ("cdt", -5), ("cst", -6), ("mdt", -6), ("mst", -7), ("pdt", -7), ("pst", -8),
            ("akdt", -8), ("akst", -9), ("hdt", -9), ("hst", -10), ("ast", -4), ("adt", -3), ("nst", -3.5), ("ndt", -2.5),
            ("bst", 1), ("cet", 1), ("met", 1), ("west", 1), ("mez", 1), ("ist", 1),
            ("cest", 2), ("mest", 2), ("mesz", 2), ("eet", 2), ("sast", 2), ("eest", 3), ("msk", 3),
            ("hkt", 8), ("sgt", 8), ("awst", 8), ("jst", 9), ("kst", 9), ("aest", 10), ("aedt", 11),
            ("nzst", 12), ("nzdt", 13),
        ]
        for (name, h) in hours { t[pack(name)] = Int(h * 3600) }
        return t
    }()

    enum Token {
        case number(value: Int, digits: Int, sepAfter: UInt8)
        case time(h: Int, m: Int, s: Int)
        case month(Int)
        case zone(seconds: Int, numeric: Bool)
        case meridiem(pm: Bool)
    }

    struct Parser {
        let buf: UnsafeBufferPointer<UInt8>
        var tokens: [Token] = []

        init(_ buf: UnsafeBufferPointer<UInt8>) {
            self.buf = buf
            tokens.reserveCapacity(12)
        }

        @inline(__always) func isDigit(_ i: Int) -> Bool { i < buf.count && buf[i] >= 48 && buf[i] <= 57 }
        @inline(__always) func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 97 && (c | 0x20) <= 122 }

        /// Reads up to `max` digits at `i`; nil when there is no digit.
        func digits(_ i: inout Int, max: Int) -> (value: Int, count: Int)? {
            var v = 0, k = 0
            while k < max && isDigit(i) { v = v * 10 + Int(buf[i] - 48); i += 1; k += 1 }
            return k == 0 ? nil : (v, k)
        }

        mutating func run() -> Int64? {
            tokenize()
            return assemble()
        }

        mutating func tokenize() {
            let n = buf.count
            var i = 0
            var afterSpace = true
            var lastWasTime = false
            while i < n && tokens.count < 32 {
                let c = buf[i]
                switch c {
                case 32, 9, 13, 10, UInt8(ascii: ","):
                    afterSpace = true; i += 1; continue
                case UInt8(ascii: "("):
                    // Comments (`(CET)`) carry nothing we trust more than the numeric zone.
                    var depth = 0
                    while i < n {
                        if buf[i] == UInt8(ascii: "(") { depth += 1 }
                        if buf[i] == UInt8(ascii: ")") { depth -= 1; if depth == 0 { i += 1; break } }
                        i += 1
                    }
                    afterSpace = true
                    continue
                case UInt8(ascii: "+"), UInt8(ascii: "-"):
                    if (afterSpace || lastWasTime || c == UInt8(ascii: "+")), let z = numericZone(&i) {
                        tokens.append(.zone(seconds: z, numeric: true))
                        lastWasTime = false
                        afterSpace = false
                        continue
                    }
                    i += 1
                    afterSpace = false
                    continue
                case 48...57:
                    var j = i
                    guard let (v, k) = digits(&j, max: 9) else { i += 1; continue }
                    if j < n && buf[j] == UInt8(ascii: ":") && k <= 2 {
                        // h:mm[:ss[.fraction]]
                        j += 1
                        guard let (m, mk) = digits(&j, max: 2), mk == 2 || (mk == 1 && !isDigit(j)) else {
                            i = j; afterSpace = false; continue
                        }
                        var s = 0
                        if j < n && buf[j] == UInt8(ascii: ":") && isDigit(j + 1) {
                            j += 1
                            s = digits(&j, max: 2)?.value ?? 0
                            if j < n && (buf[j] == UInt8(ascii: ".") || buf[j] == UInt8(ascii: ",")) && isDigit(j + 1) {
                                j += 1
                                while isDigit(j) { j += 1 }
                            }
                        }
                        while isDigit(j) { j += 1 }   // an over-long field: not a time we can read
                        tokens.append(.time(h: v, m: m, s: s))
                        lastWasTime = true
                        afterSpace = false
                        i = j
                        continue
                    }
                    while isDigit(j) { j += 1 }   // more than 9 digits: junk, keep the prefix
                    var sep: UInt8 = 0
                    if j < n, buf[j] == UInt8(ascii: "-") || buf[j] == UInt8(ascii: ".") || buf[j] == UInt8(ascii: "/") {
                        sep = buf[j]
                    }
                    tokens.append(.number(value: v, digits: k, sepAfter: sep))
                    lastWasTime = false
                    afterSpace = false
                    i = j
                    if sep != 0 { i += 1 }
                    continue
                default:
                    if isAlpha(c) {
                        var j = i
                        var word: UInt64 = 0   // the first 8 letters, lowercased, packed
                        var len = 0
                        while j < n && isAlpha(buf[j]) {
                            if len < 8 { word = word << 8 | UInt64(buf[j] | 0x20) }
                            len += 1
                            j += 1
                        }
                        if len == 1 && (word == UInt64(UInt8(ascii: "t"))) && isDigit(j) {
                            // ISO 8601 date/time separator.
                        } else if let t = classify(word: word, length: len) {
                            tokens.append(t)
                        }
                        lastWasTime = false
                        afterSpace = false
                        i = j
                        continue
                    }
                    // Dots, slashes, stray punctuation, 8-bit junk: separators.
                    afterSpace = c == UInt8(ascii: ".") ? afterSpace : true
                    i += 1
                }
            }
        }

        /// `+hhmm`, `-hhmm`, `+hh:mm`, `+hh` at `i` (the sign); advances past it when it is one.
        func numericZone(_ i: inout Int) -> Int? {
            let sign = buf[i] == UInt8(ascii: "-") ? -1 : 1
            var j = i + 1
            guard let (v, k) = digits(&j, max: 4) else { return nil }
            if isDigit(j) { return nil }
            var hh = 0, mm = 0
            switch k {
            case 4: hh = v / 100; mm = v % 100
            case 3: hh = v / 100; mm = v % 100   // `+100`: one-digit hour
            case 1, 2:
                hh = v
                if j < buf.count && buf[j] == UInt8(ascii: ":") {
                    var j2 = j + 1
                    guard let (m, mk) = digits(&j2, max: 2), mk == 2 else { return nil }
                    mm = m
                    j = j2
                } else if j < buf.count && (buf[j] == UInt8(ascii: "-") || buf[j] == UInt8(ascii: ".") || buf[j] == UInt8(ascii: "/")) {
                    return nil   // `-03-05`: part of a date, not a zone
                }
            default: return nil
            }
            i = j
            return DateParser.zoneSeconds(sign: sign, hours: hh, minutes: mm)
        }

        func classify(word: UInt64, length: Int) -> Token? {
            if length >= 3 {
                // Month names by their first three letters (full and abbreviated, any case).
                let prefix = word >> UInt64(8 * (min(length, 8) - 3))
                if let idx = DateParser.monthKeys.firstIndex(of: prefix) {
                    // "mar" but not "mart" or "mayday": the 3-letter form, "sept", or a prefix of
                    // the full name.
                    if length == 3 || (idx == 8 && length == 4) || fullMatches(word, length, DateParser.monthNames[idx]) {
                        return .month(idx + 1)
                    }
                }
            }
            if length > 8 { return nil }
            if word == DateParser.am { return .meridiem(pm: false) }
            if word == DateParser.pm { return .meridiem(pm: true) }
            if let z = DateParser.zones[word] { return .zone(seconds: z, numeric: false) }
            // Military letters: RFC 822 defined their signs backwards, so RFC 5322 (4.3) says to
            // read them as -0000. J is not a zone.
            if length == 1 && word != UInt64(UInt8(ascii: "j")) { return .zone(seconds: 0, numeric: false) }
            return nil
        }

        func fullMatches(_ word: UInt64, _ length: Int, _ full: String) -> Bool {
            guard length <= full.utf8.count else { return false }
            let n = min(length, 8)
            var v: UInt64 = 0
            for c in full.utf8.prefix(n) { v = v << 8 | UInt64(c) }
            return v == word
        }

        func assemble() -> Int64? {
            var year: Int? = nil, month: Int? = nil, day: Int? = nil
            var yearDigits = 4
            var time: (h: Int, m: Int, s: Int)? = nil
            var zone: Int? = nil, namedZone: Int? = nil
            var pm: Bool? = nil
            var k = 0
            let n = tokens.count
            while k < n {
                switch tokens[k] {
                case let .number(v1, d1, s1):
                    // Numeric dates: 2024-03-05, 2024/03/05, 5.3.2024, 03/05/2024.
                    if s1 != 0, k + 2 < n, year == nil, month == nil,
                       case let .number(v2, _, s2) = tokens[k + 1], s2 == s1,
                       case let .number(v3, d3, _) = tokens[k + 2] {
                        if d1 >= 3 {
                            year = v1; yearDigits = d1; month = v2; day = v3
                        } else if s1 == UInt8(ascii: "/") && v1 <= 12 {
                            month = v1; day = v2; year = v3; yearDigits = d3
                        } else {
                            day = v1; month = v2; year = v3; yearDigits = d3
                        }
                        k += 3
                        continue
                    }
                    if (d1 == 3 || d1 == 4) && year != nil && time != nil && zone == nil && v1 % 100 < 60 {
                        // `19:22:28 0200`: a zone whose sign was forgotten (east, like MimeKit reads it).
                        zone = DateParser.zoneSeconds(sign: 1, hours: v1 / 100, minutes: v1 % 100)
                    } else if d1 >= 3 && year == nil {
                        year = v1; yearDigits = d1
                    } else if d1 <= 2 && day == nil && v1 >= 1 && v1 <= 31 {
                        day = v1
                    } else if d1 <= 2 && year == nil && day != nil {
                        year = v1; yearDigits = d1
                    }
                case let .time(h, m, s):
                    if time == nil { time = (h, m, s) }
                case let .month(mo):
                    if month == nil { month = mo }
                case let .zone(secs, numeric):
                    if numeric { if zone == nil { zone = secs } } else if namedZone == nil { namedZone = secs }
                case let .meridiem(isPM):
                    if time != nil && pm == nil { pm = isPM }
                }
                k += 1
            }
            guard var y = year, let mo = month, let d = day else { return nil }
            switch yearDigits {
            case 1, 2: y += y < 50 ? 2000 : 1900      // RFC 5322 4.3
            case 3: y += 1900                          // obs-year: years since 1900
            default: break
            }
            guard y >= 1000, y <= 9999, (1...12).contains(mo), d >= 1, d <= DateParser.daysInMonth(mo, y) else { return nil }
            var (h, mi, s) = time ?? (0, 0, 0)
            if let pm {
                guard h >= 1 && h <= 12 else { return nil }
                if pm && h < 12 { h += 12 } else if !pm && h == 12 { h = 0 }
            }
            guard h <= 23, mi <= 59, s <= 60 else { return nil }
            // A leap second (23:59:60) is kept inside its minute: Unix time has no room for it.
            if s == 60 { s = 59 }
            let offset = zone ?? namedZone ?? 0
            return DateParser.epochSeconds(year: y, month: mo, day: d, hour: h, minute: mi, second: s) - Int64(offset)
        }
    }
}
