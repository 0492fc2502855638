#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text in any charset to Swift strings, through the system's iconv (glibc), with an alias table
/// for the names real mail uses that iconv does not know.
///
/// Rules, in order:
/// - ASCII input in an ASCII-compatible charset, and valid UTF-8 declared as UTF-8 (or US-ASCII,
///   which mislabelled UTF-8 often is), never reach iconv.
/// - Charset names are normalised (case, quotes, white space, an RFC 2231 `*lang` suffix) and looked
///   up in an alias table first; the table maps labels to the superset that real senders actually
///   produce (ks_c_5601-1987 → CP949, gb2312 → GB18030, shift_jis → CP932, latin1 → Windows-1252...).
/// - Invalid or truncated sequences become U+FFFD and conversion goes on: one bad byte never loses
///   the text around it.
/// - No charset, or an unknown one: UTF-8 when the bytes are valid UTF-8, else Windows-1252 (which
///   maps every byte, so nothing is lost). An unknown declared charset reports `recognized == false`.
///
/// Thread safety: an `iconv_t` carries shift state and must not be shared between threads, and
/// `iconv_open` loads gconv modules (costly). Each thread therefore keeps its own small cache of open
/// converters (a pthread key whose destructor closes them when the thread ends).
public enum CharsetDecoder {
    /// Decodes `bytes` declared as `charset` (nil: US-ASCII/UTF-8, with a Windows-1252 fallback for
    /// invalid UTF-8). `recognized` is false when the charset is unknown and a fallback was used.
    public static func decode<C: Collection>(_ bytes: C, charset: String?) -> (text: String, recognized: Bool) where C.Element == UInt8 {
        if let done = bytes.withContiguousStorageIfAvailable({ decodeBuffer($0, charset: charset) }) {
            return done
        }
        let copy = Array(bytes)
        return copy.withUnsafeBufferPointer { decodeBuffer($0, charset: charset) }
    }

    /// Like `decode`, for bytes already in a contiguous buffer (no copy).
    public static func decodeBuffer(_ buf: UnsafeBufferPointer<UInt8>, charset: String?) -> (text: String, recognized: Bool) {
        let kind = charset.map { resolve($0) } ?? .auto
        switch kind {
        case .auto:
            return (autoDecode(buf), true)
        case .unknown:
            return (autoDecode(buf), false)
        case .utf8:
            return (decodeUTF8(buf), true)
        case .ascii:
            // Mail labelled US-ASCII is very often UTF-8 or Windows-1252 in disguise.
            return (autoDecode(buf), true)
        case .windows1252:
            if isASCII(buf) { return (String(decoding: buf, as: UTF8.self), true) }
            return (decodeWindows1252(buf), true)
        case .iso2022jp:
            if let viaSJIS = ISO2022JP.toCP932(buf) {
                let text = viaSJIS.withUnsafeBufferPointer { iconvDecode($0, name: "CP932") }
                return (text ?? decodeWindows1252(buf), true)
            }
            return (iconvDecode(buf, name: "ISO-2022-JP-2") ?? autoDecode(buf), true)
        case let .iconv(name, asciiSafe, bom):
            if asciiSafe && isASCII(buf) { return (String(decoding: buf, as: UTF8.self), true) }
            guard var text = iconvDecode(buf, name: name) else { return (autoDecode(buf), false) }
            if bom, text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
            return (text, true)
        }
    }

    /// True when `charset` names an encoding this decoder can convert from (used by callers that
    /// want to report unknown charsets without decoding anything).
    public static func isKnown(_ charset: String) -> Bool {
        switch resolve(charset) {
        case .unknown: return false
        case let .iconv(name, _, _): return ConverterCache.current.converter(for: name) != nil
        default: return true
        }
    }

    // MARK: - Names

    enum Kind: Hashable {
        case auto, unknown, utf8, ascii, windows1252, iso2022jp
        /// An iconv source name; `asciiSafe` when ASCII bytes mean ASCII (not UTF-7/16/32, not
        /// ISO-2022, not HZ); `bom` when a leading U+FEFF must be dropped.
        case iconv(String, asciiSafe: Bool, bom: Bool)
    }

    /// Lowercases, drops quotes and white space, and an RFC 2231 `*language` suffix.
    static func normalize(_ name: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(name.utf8.count)
        for c in name.utf8 {
            switch c {
            case UInt8(ascii: "*"): return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\""), UInt8(ascii: "'"), 32, 9, 10, 13: continue
            case 65...90: out.append(c | 0x20)
            default: out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Labels seen in real mail that glibc's iconv does not know, or that must be read as a superset
    /// because senders (mostly Windows) really write the superset under the older name.
    static let aliases: [String: Kind] = {
        var t: [String: Kind] = [:]
        func add(_ kind: Kind, _ names: String...) { for n in names { t[n] = kind } }
        add(.utf8, "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8", "unicode-2-0-utf-8", "utf-8n")
        add(.ascii, "us-ascii", "ascii", "ansi_x3.4-1968", "ansi_x3.4-1986", "iso646-us", "iso-646-us", "us",
            "cp367", "ibm367", "iso-ir-6", "646", "csascii", "7bit", "8bit")
        // WHATWG (and every browser) reads ISO-8859-1 as Windows-1252: C1 controls are never meant.
        add(.windows1252, "windows-1252", "cp1252", "x-cp1252", "cp-1252", "win-1252", "ms-ansi", "ansi",
            "iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987", "iso88591", "8859-1", "latin1", "latin-1",
            "l1", "cp819", "ibm819", "iso-ir-100", "csisolatin1", "iso-8859-15-1", "western")
        add(.auto, "default", "x-user-defined", "unicode-1-1", "none", "charset", "")
        add(.unknown, "unknown", "unknown-8bit", "x-unknown", "unknown-8-bit")
        add(.iso2022jp, "iso-2022-jp", "csiso2022jp", "iso2022jp", "jis", "x-iso-2022-jp", "iso-2022-jp-1",
            "cp50220", "cp50221", "cp50222")
        func iconv(_ name: String, asciiSafe: Bool = true, bom: Bool = false) -> Kind {
            .iconv(name, asciiSafe: asciiSafe, bom: bom)
        }
        add(iconv("ISO-2022-JP-2", asciiSafe: false), "iso-2022-jp-2", "csiso2022jp2")
        add(iconv("ISO-2022-JP-3", asciiSafe: false), "iso-2022-jp-3")
        add(iconv("ISO-2022-KR", asciiSafe: false), "iso-2022-kr", "csiso2022kr")
        add(iconv("ISO-2022-CN", asciiSafe: false), "iso-2022-cn")
        add(iconv("ISO-2022-CN-EXT", asciiSafe: false), "iso-2022-cn-ext")
        // Korean: Outlook's label for Unified Hangul Code; CP949 is a superset of EUC-KR.
        add(iconv("CP949"), "ks_c_5601-1987", "ks_c_5601", "ks_c_5601-1989", "ksc5601", "ksc_5601", "korean",
            "csksc56011987", "iso-ir-149", "euc-kr", "euckr", "x-euc-kr", "cseuckr", "cp949", "uhc", "windows-949",
            "x-windows-949", "ms949")
        // Hebrew "logical/visual" variants only differ in display direction.
        add(iconv("ISO-8859-8"), "iso-8859-8-i", "iso-8859-8-e", "iso_8859-8-i", "iso_8859-8-e", "logical",
            "visual", "csiso88598i", "csiso88598e")
        add(iconv("ISO-8859-6"), "iso-8859-6-i", "iso-8859-6-e", "csiso88596i", "csiso88596e")
        add(iconv("UTF-7", asciiSafe: false), "utf-7", "unicode-1-1-utf-7", "x-unicode-2-0-utf-7", "csunicode11utf7",
            "x-utf-7", "utf7")
        // Japanese: Windows writes CP932 (NEC/IBM extensions) under every Shift_JIS label.
        add(iconv("CP932"), "shift_jis", "shift-jis", "x-sjis", "sjis", "ms_kanji", "csshiftjis", "windows-31j",
            "cp932", "ms932", "x-ms-cp932", "shift_jis2004", "x-shift_jis")
        add(iconv("EUC-JP-MS"), "euc-jp", "x-euc-jp", "eucjp", "x-euc", "cseucpkdfmtjapanese", "euc-jp-ms", "ujis")
        // Chinese: GB18030 is a superset of GB2312 and GBK, and senders label GBK text "gb2312".
        add(iconv("GB18030"), "gb2312", "gb_2312-80", "gb_2312", "csgb2312", "x-gbk", "gbk", "cp936", "ms936",
            "windows-936", "euc-cn", "x-euc-cn", "euccn", "chinese", "iso-ir-58", "csiso58gb231280", "gb18030",
            "x-gb18030", "gb-18030")
        add(iconv("HZ", asciiSafe: false), "hz-gb-2312", "hz", "x-hz")
        add(iconv("BIG5-HKSCS"), "big5", "big-5", "x-x-big5", "cn-big5", "csbig5", "x-big5", "big5-hkscs",
            "big5hkscs", "x-ms-cp950")
        add(iconv("CP950"), "cp950", "windows-950", "ms950")
        add(iconv("KOI8-R"), "koi8-r", "koi8r", "koi8", "cskoi8r", "koi")
        add(iconv("KOI8-U"), "koi8-u", "koi8u")
        add(iconv("KOI8-RU"), "koi8-ru")
        add(iconv("CP874"), "windows-874", "cp874", "x-windows-874", "tis-620", "tis620", "iso-8859-11",
            "iso8859-11", "dos-874", "ms874")
        add(iconv("CP850"), "cp-850", "cp850", "ibm850", "850", "csibm850")
        add(iconv("CP866"), "cp-866", "cp866", "ibm866", "866", "csibm866")
        add(iconv("CP437"), "cp-437", "cp437", "ibm437", "437")
        add(iconv("MACINTOSH"), "macintosh", "mac", "x-mac-roman", "macroman", "csmacintosh")
        add(iconv("MAC-CYRILLIC"), "x-mac-cyrillic", "mac-cyrillic", "x-mac-ukrainian")
        add(iconv("MAC-CENTRALEUROPE"), "x-mac-ce", "x-mac-centraleurroman", "mac-centraleurope")
        add(iconv("ISO-8859-15"), "latin9", "latin-9", "iso-8859-15", "iso8859-15", "iso_8859-15", "l9")
        for n in 1250...1258 where n != 1252 {
            add(iconv("CP\(n)"), "windows-\(n)", "cp\(n)", "x-cp\(n)", "cp-\(n)", "win-\(n)", "win\(n)", "windows\(n)")
        }
        for n in [2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 16] {
            add(iconv("ISO-8859-\(n)"), "iso-8859-\(n)", "iso8859-\(n)", "iso_8859-\(n)", "iso8859\(n)", "iso-8859\(n)")
        }
        add(iconv("UTF-16", asciiSafe: false, bom: true), "utf-16", "utf16", "unicode", "ucs-2", "csunicode", "iso-10646-ucs-2")
        add(iconv("UTF-16LE", asciiSafe: false, bom: true), "utf-16le", "utf16le", "unicodefffe", "ucs-2le")
        add(iconv("UTF-16BE", asciiSafe: false, bom: true), "utf-16be", "utf16be", "unicodefeff", "ucs-2be")
        add(iconv("UTF-32", asciiSafe: false, bom: true), "utf-32", "utf32", "ucs-4", "iso-10646-ucs-4")
        add(iconv("UTF-32LE", asciiSafe: false, bom: true), "utf-32le", "utf32le")
        add(iconv("UTF-32BE", asciiSafe: false, bom: true), "utf-32be", "utf32be")
        return t
    }()

    /// Maps a declared charset name to how it is decoded. Names outside the table go to iconv as
    /// written (uppercased): glibc knows hundreds of aliases itself.
    static func resolve(_ name: String) -> Kind {
        let n = normalize(name)
        if let k = aliases[n] { return k }
        if n.utf8.count > 64 { return .unknown }
        // Stateful or non-ASCII-compatible encodings must never take the ASCII shortcut.
        let unsafeASCII = n.hasPrefix("utf-16") || n.hasPrefix("utf-32") || n.hasPrefix("ucs") ||
            n.hasPrefix("utf-7") || n.hasPrefix("iso-2022") || n.hasPrefix("hz") || n.hasPrefix("csiso2022")
        return .iconv(n.uppercased(), asciiSafe: !unsafeASCII, bom: unsafeASCII)
    }

    // MARK: - Fast paths

    @inline(__always)
    static func isASCII(_ buf: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = buf.count
        // Eight bytes at a time: the common case is a long pure-ASCII body.
        if let base = buf.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= n {
                if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
                i += 8
            }
        }
        while i < n {
            if buf[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// True when the bytes are well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
    static func isValidUTF8(_ buf: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = buf.count
        guard let base = buf.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        while i < n {
            let c = buf[i]
            if c < 0x80 {
                // Mostly-ASCII text with a few accents: skip ASCII eight bytes at a time.
                i += 1
                while i + 8 <= n && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                }
                continue
            }
            var need = 0
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return false
            }
            if i + need >= n { return false }
            let c1 = buf[i + 1]
            if c1 < lo || c1 > hi { return false }
            var k = 2
            while k <= need {
                let ck = buf[i + k]
                if ck & 0xC0 != 0x80 { return false }
                k += 1
            }
            i += need + 1
        }
        return true
    }

    /// UTF-8 if valid, else Windows-1252: the reading of undeclared 8-bit text.
    static func autoDecode(_ buf: UnsafeBufferPointer<UInt8>) -> String {
        if isASCII(buf) || isValidUTF8(buf) { return stripUTF8BOM(buf) }
        return decodeWindows1252(buf)
    }

    /// Declared UTF-8. Valid: as is. Invalid with no well-formed multibyte sequence at all: the
    /// label is wrong (Latin-1/Windows-1252 text is the usual culprit), so read it as Windows-1252.
    /// Otherwise real UTF-8 with damage: invalid bytes become U+FFFD (Swift's repair).
    static func decodeUTF8(_ buf: UnsafeBufferPointer<UInt8>) -> String {
        if isASCII(buf) || isValidUTF8(buf) { return stripUTF8BOM(buf) }
        if !containsUTF8Multibyte(buf) { return decodeWindows1252(buf) }
        return stripUTF8BOM(buf)
    }

    /// True when at least one well-formed UTF-8 multibyte sequence occurs in the bytes.
    static func containsUTF8Multibyte(_ buf: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = buf.count
        while i < n {
            let c = buf[i]
            let need: Int
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0...0xEF: need = 2
            case 0xF0...0xF4: need = 3
            default: i += 1; continue
            }
            if i + need < n {
                var ok = true
                for k in 1...need where buf[i + k] & 0xC0 != 0x80 { ok = false; break }
                if ok { return true }
            }
            i += 1
        }
        return false
    }

    private static func stripUTF8BOM(_ buf: UnsafeBufferPointer<UInt8>) -> String {
        if buf.count >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF {
            return String(decoding: UnsafeBufferPointer(rebasing: buf[3...]), as: UTF8.self)
        }
        return String(decoding: buf, as: UTF8.self)
    }

    /// Windows-1252's 0x80...0x9F; the five holes keep their C1 code point (as browsers do).
    static let cp1252High: [UInt16] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]

    /// Windows-1252 in Swift: it is the fallback for every undeclared 8-bit byte, so it must not cost
    /// an iconv call.
    static func decodeWindows1252(_ buf: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(buf.count + buf.count / 2)
        for c in buf {
            if c < 0x80 { out.append(c); continue }
            let u = c < 0xA0 ? UInt32(cp1252High[Int(c - 0x80)]) : UInt32(c)
            if u < 0x800 {
                out.append(UInt8(0xC0 | (u >> 6)))
                out.append(UInt8(0x80 | (u & 0x3F)))
            } else {
                out.append(UInt8(0xE0 | (u >> 12)))
                out.append(UInt8(0x80 | ((u >> 6) & 0x3F)))
                out.append(UInt8(0x80 | (u & 0x3F)))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - iconv

    /// Converts through iconv to UTF-8, replacing invalid input bytes with U+FFFD. Nil when iconv
    /// does not know `name`.
    static func iconvDecode(_ buf: UnsafeBufferPointer<UInt8>, name: String) -> String? {
        let cache = ConverterCache.current
        guard let cd = cache.converter(for: name) else { return nil }
        guard let inBase = buf.baseAddress, buf.count > 0 else { return "" }
        var out = [UInt8](repeating: 0, count: buf.count * 2 + 16)
        var written = 0
        var inPtr = UnsafeMutablePointer<CChar>(mutating: UnsafeRawPointer(inBase).assumingMemoryBound(to: CChar.self))
        var inLeft = buf.count
        // Reset the shift state left by a previous use of this cached converter.
        _ = iconv(cd, nil, nil, nil, nil)
        while true {
            if out.count - written < 16 { out.append(contentsOf: repeatElement(0, count: out.count)) }
            let capacity = out.count
            var outLeft = capacity - written
            let flushing = inLeft == 0
            let result: Int = out.withUnsafeMutableBytes { raw in
                var outPtr: UnsafeMutablePointer<CChar>? = raw.baseAddress!.advanced(by: written).assumingMemoryBound(to: CChar.self)
                var ip: UnsafeMutablePointer<CChar>? = inPtr
                // With no input left, the call flushes: stateful encodings may owe a last character.
                let r = flushing ? iconv(cd, nil, nil, &outPtr, &outLeft) : iconv(cd, &ip, &inLeft, &outPtr, &outLeft)
                if let p = ip { inPtr = p }
                written = capacity - outLeft
                return r
            }
            let err = result == -1 ? errno : 0
            if err == E2BIG {
                out.append(contentsOf: repeatElement(0, count: out.count))
                continue
            }
            if flushing { break }
            if result != -1 { continue }
            // EILSEQ (invalid) or EINVAL (truncated at the end): U+FFFD, skip a byte, go on.
            if out.count - written < 3 { out.append(contentsOf: repeatElement(0, count: out.count)) }
            out[written] = 0xEF; out[written + 1] = 0xBF; out[written + 2] = 0xBD
            written += 3
            if err == EINVAL || inLeft <= 1 {
                // A truncated final sequence: nothing more can come out of it.
                _ = iconv(cd, nil, nil, nil, nil)
                break
            }
            inPtr += 1
            inLeft -= 1
        }
        return out.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[..<written]), as: UTF8.self) }
    }
}

/// Per-thread cache of open iconv converters (iconv_t is not thread-safe; iconv_open is costly).
final class ConverterCache {
    /// Open converters by iconv source name; nil values remember names iconv rejected.
    private var converters: [String: iconv_t?] = [:]
    /// Bounds the cache: hostile mail can name any number of charsets.
    private static let maxEntries = 64

    /// Created once (Swift's lazy static initialisation is thread-safe); the destructor runs when
    /// a thread exits and releases that thread's cache.
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { ptr in
            guard let ptr else { return }
            Unmanaged<ConverterCache>.fromOpaque(ptr).release()
        }
        return k
    }()

    /// This thread's cache, created on first use and released (closing its converters) at thread exit.
    static var current: ConverterCache {
        let k = key
        if let p = pthread_getspecific(k) {
            return Unmanaged<ConverterCache>.fromOpaque(p).takeUnretainedValue()
        }
        let cache = ConverterCache()
        pthread_setspecific(k, Unmanaged.passRetained(cache).toOpaque())
        return cache
    }

    func converter(for name: String) -> iconv_t? {
        if let hit = converters[name] { return hit }
        if converters.count >= Self.maxEntries { closeAll() }
        let cd = iconv_open("UTF-8", name)
        let value: iconv_t? = (cd == iconv_t(bitPattern: -1)) ? nil : cd
        converters[name] = value
        return value
    }

    private func closeAll() {
        for case let cd? in converters.values { iconv_close(cd) }
        converters.removeAll(keepingCapacity: true)
    }

    deinit { closeAll() }
}

/// ISO-2022-JP as Japanese mailers really write it: JIS X 0208 plus the NEC/IBM rows of CP932
/// (circled digits, Roman numerals...) that strict ISO-2022-JP converters reject. Re-encoding the
/// 7-bit JIS codes as Shift_JIS and decoding that as CP932 reads both (what CP50221 does on Windows).
enum ISO2022JP {
    /// The input re-encoded as CP932 bytes, or nil when it uses escapes beyond ASCII, JIS-Roman,
    /// JIS X 0208 and half-width katakana (ISO-2022-JP-2 text: left to iconv).
    static func toCP932(_ buf: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        enum Mode { case ascii, kanji, kana }
        var mode = Mode.ascii
        var out: [UInt8] = []
        out.reserveCapacity(buf.count)
        var i = 0
        let n = buf.count
        while i < n {
            let c = buf[i]
            if c == 0x1B {
                guard i + 2 < n else { return nil }
                let a = buf[i + 1], b = buf[i + 2]
                switch (a, b) {
                case (0x28, 0x42), (0x28, 0x4A): mode = .ascii          // ESC ( B, ESC ( J
                case (0x28, 0x49): mode = .kana                         // ESC ( I
                case (0x24, 0x42), (0x24, 0x40): mode = .kanji          // ESC $ B, ESC $ @
                default: return nil
                }
                i += 3
                continue
            }
            if c == 0x0E { mode = .kana; i += 1; continue }             // SO (CP50222 style)
            if c == 0x0F { mode = .ascii; i += 1; continue }            // SI
            if c >= 0x80 { out.append(c); i += 1; continue }             // 8-bit junk: let CP932 judge
            switch mode {
            case .ascii:
                out.append(c); i += 1
            case .kana:
                if c >= 0x21 && c <= 0x5F { out.append(c + 0x80) } else { out.append(c) }
                i += 1
            case .kanji:
                if c == 0x0A || c == 0x0D { out.append(c); i += 1; continue }
                guard i + 1 < n, c >= 0x21, c <= 0x7E, buf[i + 1] >= 0x21, buf[i + 1] <= 0x7E else {
                    out.append(c); i += 1; continue
                }
                let j1 = Int(c), j2 = Int(buf[i + 1])
                // JIS row/cell to Shift_JIS lead/trail bytes.
                let s1 = (j1 + 1) / 2 + (j1 <= 0x5E ? 0x70 : 0xB0)
                let s2 = j2 + (j1 % 2 == 1 ? (j2 >= 0x60 ? 0x20 : 0x1F) : 0x7E)
                out.append(UInt8(s1)); out.append(UInt8(s2))
                i += 2
            }
        }
        return out
    }
}
