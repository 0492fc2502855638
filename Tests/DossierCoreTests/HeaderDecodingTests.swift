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
        // Declared UTF-8 but really Latin-1 (a common mislabel).
        XCTAssertEqual(text("=?utf-8?q?caf=E9?="), "café")
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

    func testRawISO2022JPInHeader() {
        let raw: [UInt8] = Array("Re: ".utf8) + [0x1B, 0x24, 0x42, 0x46, 0x7C, 0x4B, 0x5C, 0x1B, 0x28, 0x42]
        XCTAssertEqual(HeaderText.decodeUnstructured(raw), "Re: 日本")
    }

    /// Speed check, run by hand: DOSSIER_BENCH=1 swift test --skip-build --filter testHeaderSpeed
    func testHeaderSpeed() throws {
        try XCTSkipIf(ProcessInfo.processInfo.environment["DOSSIER_BENCH"] == nil, "timing harness, run by hand")
        let subject = Array("Re: =?UTF-8?Q?R=C3=A9union_de_l=27=C3=A9quipe?= =?UTF-8?B?4pyT?= next week".utf8)
        let from = Array("\"Dupont, Jean\" <jean.dupont@example.fr>".utf8)
        let to = Array("Alice <alice@example.com>, bob@example.org,\r\n =?iso-8859-1?q?J=F6rg?= <j@example.de>".utf8)
        let date = Array("Tue, 5 Mar 2024 10:00:00 +0100 (CET)".utf8)
        let mid = Array("<20240305100000.12345@mail.example.com>".utf8)
        let refs = Array("<a1@x.com> <b2@x.com>\r\n <c3@x.com> <d4@x.com> <e5@x.com>".utf8)
        let ctype = Array("multipart/alternative; boundary=\"----=_Part_123_456.789\"".utf8)
        let ctype2 = Array("text/plain; charset=\"iso-8859-1\"; format=flowed".utf8)
        let disp = Array("attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf".utf8)
        let plain = Array("Weekly status report for the infrastructure team".utf8)
        let n = 20_000
        let start = Date()
        var sink = 0
        for _ in 0..<n {
            sink &+= HeaderText.decodeUnstructured(subject).utf8.count
            sink &+= HeaderText.decodeUnstructured(plain).utf8.count
            sink &+= AddressParser.parse(from).count + AddressParser.parse(to).count
            sink &+= DateParser.parse(date) == nil ? 0 : 1
            sink &+= MessageIDParser.parseOne(mid)?.utf8.count ?? 0
            sink &+= MessageIDParser.parseList(refs).count
            sink &+= ContentType.parse(ctype)?.parameters.count ?? 0
            sink &+= ContentType.parse(ctype2)?.parameters.count ?? 0
            sink &+= ContentDisposition.parse(disp)?.parameters.count ?? 0
            sink &+= CharsetDecoder.decode([0x63, 0x61, 0x66, 0xE9, 0x20, 0xE0], charset: "iso-8859-2").text.utf8.count
        }
        let t = Date().timeIntervalSince(start)
        print("header set x\(n): \(t)s, \(Int(Double(n) / t)) header sets/s on one core (sink \(sink))")
    }

    /// A whole message through MessageParser: the header decoders as the pipeline uses them.
    private static let sampleMessage: [UInt8] = {
        let head: String = """
        Message-ID: <m1@example.jp>\r
        Date: Tue, 5 Mar 2024 19:00:00 +0900 (JST)\r
        From: =?ISO-2022-JP?B?GyRCRnxLXBsoQg==?= <taro@example.jp>\r
        To: Team: a@x.org, "Doe, John" <j@x.org>;, Roe, Jane <r@x.org>\r
        Subject: =?UTF-8?Q?R=C3=A9union?=\r
         =?UTF-8?B?IOKckw==?= ok\r
        References: <r1@x> <r2@x>\r
         <r1@x>\r
        MIME-Version: 1.0\r
        Content-Type: multipart/mixed; boundary="==b?=1"\r
        \r
        --==b?=1\r
        Content-Type: text/plain; charset=iso-2022-jp\r
        \r

        """
        let jis: [UInt8] = [0x1B, 0x24, 0x42, 0x46, 0x7C, 0x4B, 0x5C, 0x1B, 0x28, 0x42]
        let tail: String = """
        \r
        --==b?=1\r
        Content-Type: application/pdf;\r
         name*0*=utf-8''r%C3%A9; name*1=sum.pdf\r
        Content-Disposition: attachment\r
        Content-Transfer-Encoding: base64\r
        \r
        JVBERg==\r
        --==b?=1--\r

        """
        var bytes = Array(head.utf8)
        bytes.append(contentsOf: jis)
        bytes.append(contentsOf: Array(tail.utf8))
        return bytes
    }()

    func testWholeMessageHeaders() {
        let m = MessageParser.parse(Self.sampleMessage)
        XCTAssertEqual(m.messageID, "m1@example.jp")
        XCTAssertEqual(m.date.map { Int64($0.timeIntervalSince1970) }, 1_709_632_800)
        XCTAssertEqual(m.subject, "Réunion ✓ ok")
        XCTAssertEqual(m.from.first?.name, "日本")
        XCTAssertEqual(m.to.map(\.address), ["a@x.org", "j@x.org", "r@x.org"])
        XCTAssertEqual(m.to.map { $0.group ?? "-" }, ["Team", "Team", "-"])
        XCTAssertEqual(m.to.map { $0.name ?? "-" }, ["-", "Doe, John", "Roe, Jane"])
        XCTAssertEqual(m.references, ["r1@x", "r2@x"])
        XCTAssertTrue(m.bodyText.contains("日本"), m.bodyText)
        XCTAssertEqual(m.attachments.first?.fileName, "résum.pdf")
        XCTAssertEqual(m.unknownCharsets, [])
    }

    /// Speed check, run by hand: DOSSIER_BENCH=1 swift test --skip-build --filter testWholeMessageSpeed
    func testWholeMessageSpeed() throws {
        try XCTSkipIf(ProcessInfo.processInfo.environment["DOSSIER_BENCH"] == nil, "timing harness, run by hand")
        let n = 10_000
        let start = Date()
        var sink = 0
        for _ in 0..<n { sink &+= MessageParser.parse(Self.sampleMessage).to.count }
        let t = Date().timeIntervalSince(start)
        print("message x\(n): \(t)s, \(Int(Double(n) / t)) messages/s on one core (sink \(sink))")
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

// Content-Type, Content-Disposition, parameters and message ids: structured header fields.
extension HeaderDecodingTests {
    private func ct(_ s: String) -> ContentType? { ContentType.parse(Array(s.utf8)) }
    private func params(_ s: String) -> [String: String] { ParameterParser.parse(Array(s.utf8)).parameters }

    func testContentTypeBasics() {
        let t = ct("Text/HTML; Charset=\"UTF-8\"; format=flowed")
        XCTAssertEqual(t?.mimeType, "text/html")
        XCTAssertEqual(t?.charset, "UTF-8")
        XCTAssertEqual(t?.parameters["format"], "flowed")
        XCTAssertEqual(ct("multipart/mixed;\r\n boundary=\"----=_Part_1; x\"")?.boundary, "----=_Part_1; x")
        XCTAssertEqual(ct("text / plain ; charset = us-ascii (comment)")?.mimeType, "text/plain")
        XCTAssertEqual(ct("text / plain ; charset = us-ascii (comment)")?.charset, "us-ascii")
        XCTAssertEqual(ct("text")?.mimeType, "text/plain")
        XCTAssertEqual(ct("text/; charset=utf-8")?.mimeType, "text/plain")
        XCTAssertEqual(ct("multipart; boundary=x")?.mimeType, "multipart/mixed")
        XCTAssertNil(ct(""))
        XCTAssertNil(ct("garbage here"))
        XCTAssertNil(ct("application"))
        XCTAssertNil(ct("te<xt/plain"))
        XCTAssertEqual(ct("text/plain charset=utf-8")?.charset, "utf-8")   // forgotten `;`
        XCTAssertEqual(ct("\"text/plain\"")?.mimeType, "text/plain")
    }

    func testBoundaries() {
        XCTAssertEqual(ct("multipart/mixed; boundary=----=_NextPart_000_0012_01D9")?.boundary, "----=_NextPart_000_0012_01D9")
        XCTAssertEqual(ct("multipart/mixed;boundary=\"=_abc?=def\"")?.boundary, "=_abc?=def")
        XCTAssertEqual(ct("multipart/alternative;\r\n\tboundary=\"b1_\"")?.boundary, "b1_")
        XCTAssertEqual(ct("multipart/related; type=\"text/html\"; boundary=x")?.parameters["type"], "text/html")
    }

    func testParameterTokenizer() {
        XCTAssertEqual(params("a; name=\"semi;colon \\\"q\\\"\"; x=1")["name"], "semi;colon \"q\"")
        XCTAssertEqual(params("a; name=my file.pdf; x=1")["name"], "my file.pdf")
        XCTAssertEqual(params("a; name=a/b/c")["name"], "a/b/c")
        XCTAssertEqual(params("a; NAME=first; name=second")["name"], "first")
        XCTAssertEqual(params("a; name=x.pdf filename=y.pdf")["filename"], "y.pdf")
        XCTAssertEqual(params("a; name=x.pdf filename=y.pdf")["name"], "x.pdf")
        XCTAssertEqual(params("a;;; ; name=v;")["name"], "v")
        XCTAssertEqual(params("a; junk; name=v")["name"], "v")
        XCTAssertEqual(ParameterParser.parse(Array("attachment; filename=a.txt".utf8)).value, "attachment")
    }

    func testRFC2231() {
        XCTAssertEqual(params("a; filename*=utf-8''%E2%82%AC%20rates.pdf")["filename"], "€ rates.pdf")
        XCTAssertEqual(params("a; filename*=iso-8859-1'en'caf%E9")["filename"], "café")
        XCTAssertEqual(params("a; filename*0*=utf-8''%C3; filename*1*=%A9t%C3%A9; filename*2=.txt")["filename"], "été.txt")
        // Out of order, and a missing piece.
        XCTAssertEqual(params("a; name*1=\"def\"; name*0=\"abc\"; name*3=\"jkl\"")["name"], "abcdefjkl")
        // RFC 2231 wins over the plain fallback whatever the order.
        XCTAssertEqual(params("a; filename=\"fallback.pdf\"; filename*=UTF-8''r%C3%A9el.pdf")["filename"], "réel.pdf")
        XCTAssertEqual(params("a; filename*=UTF-8''r%C3%A9el.pdf; filename=\"fallback.pdf\"")["filename"], "réel.pdf")
        // Broken: bad percent escapes, no charset quotes, unknown charset.
        XCTAssertEqual(params("a; name*=utf-8''100%zz")["name"], "100%zz")
        XCTAssertEqual(params("a; name*=abc%20d")["name"], "abc d")
        XCTAssertEqual(params("a; name*=x-bogus''caf%E9")["name"], "café")
        XCTAssertEqual(params("a; name*=\"utf-8''quoted%20too\"")["name"], "quoted too")
    }

    func testEncodedWordsInParameters() {
        XCTAssertEqual(params("a; name=\"=?UTF-8?B?w6l0w6kucGRm?=\"")["name"], "été.pdf")
        XCTAssertEqual(params("a; filename==?iso-8859-1?Q?caf=E9.doc?=")["filename"], "café.doc")
        XCTAssertEqual(params("a; boundary=\"=?x?q?y?=\"")["boundary"], "=?x?q?y?=")
        XCTAssertEqual(ParameterParser.parse([0x61, 0x3B, 0x20] + Array("name=\"".utf8) + [0xE9] + Array("t.txt\"".utf8)).parameters["name"], "ét.txt")
    }

    func testContentDisposition() {
        let d = ContentDisposition.parse(Array("Attachment;\r\n filename=\"report 2024.pdf\"; size=1234".utf8))
        XCTAssertEqual(d?.kind, "attachment")
        XCTAssertTrue(d?.isAttachment ?? false)
        XCTAssertEqual(d?.filename, "report 2024.pdf")
        XCTAssertEqual(ContentDisposition.parse(Array("inline".utf8))?.kind, "inline")
        XCTAssertNil(ContentDisposition.parse(Array("".utf8)))
    }

    func testMessageIDs() {
        func one(_ s: String) -> String? { MessageIDParser.parseOne(Array(s.utf8)) }
        func list(_ s: String) -> [String] { MessageIDParser.parseList(Array(s.utf8)) }
        XCTAssertEqual(one("<abc@example.com>"), "abc@example.com")
        XCTAssertEqual(one("  <abc@example.com> (comment)"), "abc@example.com")
        XCTAssertEqual(one("abc@example.com"), "abc@example.com")
        XCTAssertEqual(one("<abc\r\n @example.com>"), "abc@example.com")
        XCTAssertEqual(one("<\"quoted local\"@example.com>"), "\"quoted local\"@example.com")
        XCTAssertEqual(one("(c) <a@b>"), "a@b")
        XCTAssertEqual(one("12345.abc"), "12345.abc")
        XCTAssertEqual(one("<12345.abc>"), "12345.abc")
        XCTAssertNil(one(""))
        XCTAssertNil(one("   "))
        XCTAssertEqual(list("<a@x> <b@x>\r\n\t<c@x>"), ["a@x", "b@x", "c@x"])
        XCTAssertEqual(list("<a@x>,<b@x>"), ["a@x", "b@x"])
        XCTAssertEqual(list("<a@x> <b@x> <a@x>"), ["a@x", "b@x"])
        XCTAssertEqual(list("junk words <a@x> more junk b@y"), ["a@x", "b@y"])
        XCTAssertEqual(list("<a@x> (Message from John of \"Tue\") <b@x>"), ["a@x", "b@x"])
        XCTAssertEqual(list("<<a@x>>"), ["a@x"])
        XCTAssertEqual(list("<a@x <b@x>"), ["a@x", "b@x"])
        XCTAssertEqual(list("<a@x"), ["a@x"])
        XCTAssertEqual(list("<unclosed@x more <b@y>"), ["unclosed@x", "b@y"])
        XCTAssertEqual(list("<" + String(repeating: "x", count: 2000) + "@y> <ok@y>"), ["ok@y"])
    }

    /// Long fuzz of every header decoder, run by hand: DOSSIER_FUZZ=200000 swift test --skip-build --filter testLongFuzz
    func testLongFuzz() throws {
        let rounds = Int(ProcessInfo.processInfo.environment["DOSSIER_FUZZ"] ?? "") ?? 0
        try XCTSkipIf(rounds == 0, "long fuzz, run by hand")
        var rng = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = ["=?", "?=", "?q?", "?b?", "utf-8", "iso-2022-jp", "*en", "=C3", "=", "?", " ", "\r\n ", "\"", "\\",
                                 "(", ")", "<", ">", "@", ",", ";", ":", "*0*", "'", "%E9", "+0100", "Mar", "10:00", "2024", "-", "."]
            .map { Array($0.utf8) } + [[0x1B, 0x24, 0x42], [0xE9], [0xC3], [0xFF], [0x00]]
        for _ in 0..<rounds {
            var b: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<30, using: &rng) {
                if Bool.random(using: &rng) { b += pieces.randomElement(using: &rng)! } else { b.append(UInt8.random(in: 0...255, using: &rng)) }
            }
            _ = HeaderText.decodeUnstructured(b)
            _ = AddressParser.parse(b)
            _ = DateParser.parse(b)
            _ = MessageIDParser.parseList(b)
            _ = MessageIDParser.parseOne(b)
            _ = ContentType.parse(b)
            _ = ContentDisposition.parse(b)
            _ = CharsetDecoder.decode(b, charset: ["iso-2022-jp", "utf-7", "utf-16", "gb2312", "shift_jis", "utf-8", nil].randomElement(using: &rng)!)
        }
    }

    func testStructuredFieldsFuzz() {
        var rng = SystemRandomNumberGenerator()
        let pieces = [";", "=", "\"", "\\", "*", "*0*", "*1", "'", "%", "%E9", "name", "text/plain", " ", "(", ")", "<", ">", "@", "\r\n ", "=?utf-8?q?x?="]
        for _ in 0..<3000 {
            var s = ""
            for _ in 0..<Int.random(in: 0..<20, using: &rng) { s += pieces.randomElement(using: &rng)! }
            _ = ContentType.parse(Array(s.utf8))
            _ = ContentDisposition.parse(Array(s.utf8))
            _ = MessageIDParser.parseList(Array(s.utf8))
        }
        let start = Date()
        _ = ParameterParser.parse([UInt8](repeating: UInt8(ascii: " "), count: 1 << 20))
        _ = ParameterParser.parse(Array("a; " .utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20))
        var many: [UInt8] = Array("a".utf8)
        for k in 0..<20_000 { many += Array("; n*\(k % 1500)*=%41".utf8) }
        _ = ParameterParser.parse(many)
        _ = MessageIDParser.parseList([UInt8](repeating: UInt8(ascii: "<"), count: 1 << 20))
        _ = MessageIDParser.parseList(Array("<".utf8) + [UInt8](repeating: UInt8(ascii: " "), count: 1 << 20))
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }
}
