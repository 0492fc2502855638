import XCTest
@testable import DossierCore

final class CharsetTests: XCTestCase {
    private func dec(_ bytes: [UInt8], _ cs: String?) -> String { CharsetDecoder.decode(bytes, charset: cs).text }

    func testASCIIAndUTF8FastPaths() {
        XCTAssertEqual(dec(Array("hello".utf8), "us-ascii"), "hello")
        XCTAssertEqual(dec(Array("héllo ✓".utf8), "UTF-8"), "héllo ✓")
        XCTAssertEqual(dec(Array("héllo".utf8), "utf8"), "héllo")
        XCTAssertEqual(dec(Array("héllo".utf8), nil), "héllo")
        // UTF-8 BOM is not text.
        XCTAssertEqual(dec([0xEF, 0xBB, 0xBF, 0x61], "utf-8"), "a")
    }

    func testMissingOrASCIICharsetFallsBackToWindows1252() {
        XCTAssertEqual(dec([0x63, 0x61, 0x66, 0xE9], nil), "café")
        XCTAssertEqual(dec([0x93, 0x71, 0x94, 0x80], "us-ascii"), "\u{201C}q\u{201D}€")
        XCTAssertEqual(dec(Array("naïve".utf8), "ascii"), "naïve")
        XCTAssertTrue(CharsetDecoder.decode([0xE9], charset: nil).recognized)
    }

    func testLatin1IsReadAsWindows1252() {
        XCTAssertEqual(dec([0x80, 0x20, 0xE9], "ISO-8859-1"), "€ é")
        XCTAssertEqual(dec([0xE9], "latin1"), "é")
    }

    func testUnknownCharsetIsReportedAndFallsBack() {
        let r = CharsetDecoder.decode([0x63, 0xE9], charset: "x-no-such-charset")
        XCTAssertFalse(r.recognized)
        XCTAssertEqual(r.text, "cé")
        let u = CharsetDecoder.decode(Array("ok ✓".utf8), charset: "bogus")
        XCTAssertFalse(u.recognized)
        XCTAssertEqual(u.text, "ok ✓")
    }

    func testLegacyCharsetsThroughIconv() {
        XCTAssertEqual(dec([0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4], "koi8-r"), "Привет")
        XCTAssertEqual(dec([0xA6], "koi8-u"), "і")
        XCTAssertEqual(dec([0xCF, 0xF0, 0xE8], "windows-1251"), "При")
        XCTAssertEqual(dec([0xB1], "iso-8859-2"), "ą")
        XCTAssertEqual(dec([0xA4], "ISO-8859-15"), "€")
        XCTAssertEqual(dec([0xE0], "iso-8859-8-i"), "א")
        XCTAssertEqual(dec([0xA1], "windows-874"), "ก")
        XCTAssertEqual(dec([0x82], "cp-850"), "é")
    }

    func testEastAsianCharsets() {
        // 日本 in Shift_JIS, EUC-JP, ISO-2022-JP
        XCTAssertEqual(dec([0x93, 0xFA, 0x96, 0x7B], "Shift_JIS"), "日本")
        XCTAssertEqual(dec([0x93, 0xFA, 0x96, 0x7B], "x-sjis"), "日本")
        XCTAssertEqual(dec([0xC6, 0xFC, 0xCB, 0xDC], "euc-jp"), "日本")
        XCTAssertEqual(dec([0xC6, 0xFC, 0xCB, 0xDC], "x-euc-jp"), "日本")
        let jis: [UInt8] = [0x1B, 0x24, 0x42, 0x46, 0x7C, 0x4B, 0x5C, 0x1B, 0x28, 0x42, 0x61]
        XCTAssertEqual(dec(jis, "ISO-2022-JP"), "日本a")
        // NEC row 13 (circled one) inside ISO-2022-JP, which strict converters reject.
        XCTAssertEqual(dec([0x1B, 0x24, 0x42, 0x2D, 0x21, 0x1B, 0x28, 0x42], "iso-2022-jp"), "①")
        // 한국 in EUC-KR under Outlook's label.
        XCTAssertEqual(dec([0xC7, 0xD1, 0xB1, 0xB9], "ks_c_5601-1987"), "한국")
        XCTAssertEqual(dec([0xC7, 0xD1, 0xB1, 0xB9], "euc-kr"), "한국")
        // 中文 in GB2312; a GBK-only character (亍 0x81 0x40 = 丂) under the gb2312 label.
        XCTAssertEqual(dec([0xD6, 0xD0, 0xCE, 0xC4], "gb2312"), "中文")
        XCTAssertEqual(dec([0x81, 0x40], "GB2312"), "丂")
        XCTAssertEqual(dec([0xA4, 0xA4, 0xA4, 0xE5], "big5"), "中文")
    }

    func testUnicodeFamilies() {
        XCTAssertEqual(dec([0xFF, 0xFE, 0x41, 0x00, 0x42, 0x00], "utf-16"), "AB")
        XCTAssertEqual(dec([0xFE, 0xFF, 0x00, 0x41], "UTF-16"), "A")
        XCTAssertEqual(dec([0x41, 0x00], "utf-16le"), "A")
        XCTAssertEqual(dec([0xFF, 0xFE, 0x00, 0x00, 0x41, 0x00, 0x00, 0x00], "utf-32"), "A")
        XCTAssertEqual(dec(Array("Hi +AOk-".utf8), "utf-7"), "Hi é")
        XCTAssertEqual(dec(Array("+AOk-".utf8), "unicode-1-1-utf-7"), "é")
    }

    func testInvalidSequencesAreReplacedNotFatal() {
        // A broken Shift_JIS lead byte in the middle keeps both sides.
        let t = dec([0x61, 0x93, 0x20, 0x62, 0x93, 0xFA], "shift_jis")
        XCTAssertTrue(t.hasPrefix("a"), t)
        XCTAssertTrue(t.hasSuffix("日"), t)
        XCTAssertTrue(t.contains("b"), t)
        // Truncated final sequence.
        let u = dec([0x61, 0xC6], "euc-jp")
        XCTAssertEqual(u, "a\u{FFFD}")
        XCTAssertEqual(dec([0x61, 0xC3, 0xA9, 0xFF, 0x62], "utf-8"), "aé\u{FFFD}b")
        // Labelled UTF-8 but plainly Windows-1252 (no UTF-8 sequence anywhere).
        XCTAssertEqual(dec([0x63, 0x61, 0x66, 0xE9], "utf-8"), "café")
    }

    func testNameNormalisation() {
        XCTAssertEqual(dec([0xE9], " \"ISO-8859-1\" "), "é")
        XCTAssertEqual(dec([0xF0], "KOI8-R*ru"), "П")
        XCTAssertTrue(CharsetDecoder.isKnown("windows-1250"))
        XCTAssertFalse(CharsetDecoder.isKnown("x-nonsense"))
    }

    func testConcurrentUseIsSafe() {
        let inputs: [([UInt8], String, String)] = [
            ([0x93, 0xFA, 0x96, 0x7B], "shift_jis", "日本"),
            ([0xF0, 0xD2, 0xC9], "koi8-r", "При"),
            ([0xD6, 0xD0], "gb2312", "中"),
        ]
        DispatchQueue.concurrentPerform(iterations: 64) { k in
            for _ in 0..<200 {
                let (b, cs, want) = inputs[k % inputs.count]
                XCTAssertEqual(CharsetDecoder.decode(b, charset: cs).text, want)
            }
        }
    }

    func testUTF8ValidatorAgreesWithStandardLibrary() {
        var rng = SystemRandomNumberGenerator()
        let samples: [[UInt8]] = [Array("ascii only, long enough to use the wide path".utf8), Array("é✓😀".utf8),
                                  [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xF0, 0x9F, 0x98]]
        for s in samples {
            let mine = s.withUnsafeBufferPointer { CharsetDecoder.isValidUTF8($0) }
            XCTAssertEqual(mine, String(validating: s, as: UTF8.self) != nil, "\(s)")
        }
        for _ in 0..<3000 {
            let n = Int.random(in: 0..<24, using: &rng)
            // Biased towards ASCII and UTF-8 lead/continuation bytes so that both answers occur.
            let pool: [UInt8] = [0x41, 0x20, 0x7F, 0x80, 0xBF, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x90, 0x8F]
            let bytes = (0..<n).map { _ in pool.randomElement(using: &rng)! }
            let mine = bytes.withUnsafeBufferPointer { CharsetDecoder.isValidUTF8($0) }
            XCTAssertEqual(mine, String(validating: bytes, as: UTF8.self) != nil, "\(bytes)")
        }
    }

    func testRandomBytesNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        let names = ["utf-8", "iso-2022-jp", "shift_jis", "utf-16", "utf-7", "gb2312", "big5", "euc-kr", nil, "x-bad"]
        for _ in 0..<400 {
            let n = Int.random(in: 0..<64, using: &rng)
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = CharsetDecoder.decode(bytes, charset: names.randomElement()!)
        }
    }
}
