import XCTest
@testable import DossierCore

final class HeaderDecodingTests: XCTestCase {
    private func text(_ s: String) -> String { HeaderText.decodeUnstructured(Array(s.utf8)) }

    func testPlainAndUnfolding() {
        XCTAssertEqual(text("Hello world"), "Hello world")
        XCTAssertEqual(text("  Hello\r\n world  "), "Hello world")
        XCTAssertEqual(text(" Hello\r\n\tworld"), "Hello world")
        XCTAssertEqual(text("a\n b"), "a b")
        XCTAssertEqual(text(""), "")
        XCTAssertEqual(HeaderText.unfold(Array("a\r\n b".utf8)), Array("a b".utf8))
    }

    func testEncodedWordsBAndQ() {
        XCTAssertEqual(text("=?UTF-8?B?SGVsbG8gV29ybGQ=?="), "Hello World")
        XCTAssertEqual(text("=?utf-8?b?SGVsbG8gV29ybGQ=?="), "Hello World")
        XCTAssertEqual(text("=?ISO-8859-1?Q?Andr=E9?= Pirard"), "André Pirard")
        XCTAssertEqual(text("=?iso-8859-1?q?this=20is=20some=20text?="), "this is some text")
        XCTAssertEqual(text("=?utf-8?Q?a_b?="), "a b")
        XCTAssertEqual(text("=?utf-8*en?Q?Hello?="), "Hello")
        XCTAssertEqual(text("=?US-ASCII*EN?Q?Keith_Moore?="), "Keith Moore")
    }

    func testRFC2047Examples() {
        XCTAssertEqual(text("(=?ISO-8859-1?Q?a?=)"), "(a)")
        XCTAssertEqual(text("=?ISO-8859-1?Q?a?= b"), "a b")
        XCTAssertEqual(text("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?="), "ab")
        XCTAssertEqual(text("=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?="), "ab")
        XCTAssertEqual(text("=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?="), "ab")
        XCTAssertEqual(text("=?ISO-8859-1?Q?a_b?="), "a b")
        XCTAssertEqual(text("=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?="), "a b")
        XCTAssertEqual(text("a =?ISO-8859-1?Q?b?= c"), "a b c")
    }

    func testBrokenForms() {
        // Encoded words glued to text and to each other.
        XCTAssertEqual(text("foo=?utf-8?q?bar?=baz"), "foobarbaz")
        XCTAssertEqual(text("=?utf-8?q?a?==?utf-8?q?b?="), "ab")
        // A multibyte character split across two words of the same charset (é = C3 A9).
        XCTAssertEqual(text("=?utf-8?B?w6k=?= =?utf-8?q?=A9?="), "é\u{FFFD}")
        XCTAssertEqual(text("=?utf-8?Q?caf=C3?= =?utf-8?Q?=A9?="), "café")
        XCTAssertEqual(text("=?UTF-8?B?5pel?= =?UTF-8?B?5pys?="), "日本")
        // Q triplet split across words.
        XCTAssertEqual(text("=?utf-8?q?caf=C?= =?utf-8?q?3=A9?="), "café")
        // `?` and spaces inside Q text.
        XCTAssertEqual(text("=?utf-8?q?Is it ok??="), "Is it ok?")
        XCTAssertEqual(text("=?iso-8859-1?q?Hello World?= x"), "Hello World x")
        // Missing base64 padding.
        XCTAssertEqual(text("=?utf-8?B?SGVsbG8?="), "Hello")
        XCTAssertEqual(text("=?utf-8?B?SGk?="), "Hi")
        // Unclosed or malformed words stay as written.
        XCTAssertEqual(text("=?utf-8?q?unclosed"), "=?utf-8?q?unclosed")
        XCTAssertEqual(text("=?utf-8?x?abc?="), "=?utf-8?x?abc?=")
        XCTAssertEqual(text("a =? b"), "a =? b")
        XCTAssertEqual(text("=??q?abc?="), "=??q?abc?=")
        // Unknown charset: bytes still come through (UTF-8 or Windows-1252).
        XCTAssertEqual(text("=?x-unknown?q?caf=E9?="), "café")
        // Different charsets in a row.
        XCTAssertEqual(text("=?koi8-r?b?8NLJ18XU?= =?utf-8?q?_=E2=9C=93?="), "Привет ✓")
        // Lowercase everything, ISO-2022-JP in B (Japanese subjects).
        XCTAssertEqual(text("=?iso-2022-jp?b?GyRCRnxLXBsoQg==?="), "日本")
        XCTAssertEqual(text("=?ks_c_5601-1987?B?x9GxuQ==?="), "한국")
        XCTAssertEqual(text("=?gb2312?B?1tDOxA==?="), "中文")
    }

    func testRaw8BitText() {
        XCTAssertEqual(HeaderText.decodeUnstructured(Array("Grüße".utf8)), "Grüße")
        XCTAssertEqual(HeaderText.decodeUnstructured([0x63, 0x61, 0x66, 0xE9]), "café")
        // Raw 8-bit next to an encoded word.
        XCTAssertEqual(HeaderText.decodeUnstructured([0xE9, 0x20] + Array("=?utf-8?q?=C3=A9?=".utf8)), "é é")
    }

    func testControlCharactersFromEncodedWordsBecomeSpaces() {
        XCTAssertEqual(text("=?utf-8?q?a=0D=0Ab?="), "a  b")
    }

    func testHostileInputIsLinearAndSafe() {
        let big = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
        XCTAssertEqual(HeaderText.decodeUnstructured(big).utf8.count, 1 << 20)
        var evil: [UInt8] = []
        for _ in 0..<60_000 { evil += Array("=?a?q?x ".utf8) }
        let start = Date()
        _ = HeaderText.decodeUnstructured(evil)
        var evil2: [UInt8] = []
        for _ in 0..<100_000 { evil2 += Array("=?utf-8?q?x?=".utf8) }
        _ = HeaderText.decodeUnstructured(evil2)
        let unclosed = Array("=?utf-8?q?".utf8) + [UInt8](repeating: 0x41, count: 1 << 20)
        _ = HeaderText.decodeUnstructured(unclosed)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testFuzzNeverCrashes() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["=?", "?=", "?q?", "?B?", "utf-8", "=C3", "=A9", " ", "\r\n ", "_", "==", "a", "\u{E9}", "iso-2022-jp", "\u{1B}$B"]
        for _ in 0..<2000 {
            var s = ""
            for _ in 0..<Int.random(in: 0..<20, using: &rng) { s += pieces.randomElement(using: &rng)! }
            _ = text(s)
            let n = Int.random(in: 0..<40, using: &rng)
            _ = HeaderText.decodeUnstructured((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
    }
}
