import DossierCore
import Foundation
import XCTest

final class TransferDecodingTests: XCTestCase {
    private func b64(_ s: String) -> String { String(decoding: TransferDecoding.base64(ArraySlice(s.utf8)), as: UTF8.self) }
    private func qp(_ s: String) -> String { String(decoding: TransferDecoding.quotedPrintable(ArraySlice(s.utf8)), as: UTF8.self) }
    private func uu(_ s: String) -> [UInt8] { TransferDecoding.uudecode(ArraySlice(s.utf8)) }

    // MARK: base64

    func testBase64RoundTripsEveryLength() {
        var generator = SplitMix64(seed: 7)
        for length in 0..<200 {
            let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let encoded = Data(data).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
            XCTAssertEqual(TransferDecoding.base64(ArraySlice(encoded.utf8)), data, "length \(length)")
        }
    }

    func testBase64ToleratesLineBreaksSpacesAndGarbage() {
        XCTAssertEqual(b64("aGVs\r\nbG8g\n d29y bGQ="), "hello world")
        XCTAssertEqual(b64("aGV*sbG8!gd29y\u{7}bGQ="), "hello world")
        XCTAssertEqual(b64("aGVsbG8gd29ybGQ=\n"), "hello world")
    }

    func testBase64MissingPadding() {
        XCTAssertEqual(b64("aGVsbG8gd29ybGQ"), "hello world")
        XCTAssertEqual(b64("aGVsbG8gd29ybA"), "hello worl")
        XCTAssertEqual(b64("YQ"), "a")
        // A lone trailing sextet carries no whole byte.
        XCTAssertEqual(b64("YWJjZ"), "abc")
    }

    func testBase64StopsAtPadding() {
        // What follows "=" is typically a footer a mailing list appended.
        XCTAssertEqual(b64("YQ==\n-- \nlist footer"), "a")
        XCTAssertEqual(b64(""), "")
        XCTAssertEqual(b64("===="), "")
    }

    func testBase64DecodesAllBytes() {
        let all = (0...255).map { UInt8($0) }
        XCTAssertEqual(TransferDecoding.base64(ArraySlice(Data(all).base64EncodedString().utf8)), all)
    }

    // MARK: quoted-printable

    func testQuotedPrintableBasics() {
        XCTAssertEqual(qp("caf=C3=A9"), "café")
        XCTAssertEqual(qp("caf=c3=a9"), "café", "lowercase hex")
        XCTAssertEqual(qp("a=3Db"), "a=b")
    }

    func testQuotedPrintableSoftLineBreaks() {
        XCTAssertEqual(qp("long li=\nne"), "long line")
        XCTAssertEqual(qp("long li=\r\nne"), "long line")
        XCTAssertEqual(qp("long li=  \t\nne"), "long line", "white space after = before the line break")
        XCTAssertEqual(qp("ends with ="), "ends with ", "= at the very end")
        XCTAssertEqual(qp("ends with =  "), "ends with ")
    }

    func testQuotedPrintableKeepsBrokenEscapesLiterally() {
        XCTAssertEqual(qp("100% =zz sure"), "100% =zz sure")
        XCTAssertEqual(qp("=4"), "=4")
        XCTAssertEqual(qp("a=\rb"), "a=\rb")
        XCTAssertEqual(qp("x=G1"), "x=G1")
    }

    func testQuotedPrintableTrailingWhiteSpaceIsDropped() {
        XCTAssertEqual(qp("trailing   \nnext\t\r\nlast  "), "trailing\nnext\r\nlast")
        XCTAssertEqual(qp("inner  spaces kept"), "inner  spaces kept")
        XCTAssertEqual(qp("kept=20\n"), "kept \n")
    }

    func testQuotedPrintableBinaryAndEmpty() {
        XCTAssertEqual(TransferDecoding.quotedPrintable(ArraySlice("=00=FF=80".utf8)), [0x00, 0xFF, 0x80])
        XCTAssertEqual(qp(""), "")
        XCTAssertEqual(qp("="), "")
    }

    // MARK: uuencode

    func testUudecode() {
        XCTAssertEqual(uu("begin 644 a.txt\n#86)C\n`\nend\n"), Array("abc".utf8))
        // Without a begin line, from the first line; CRLF line endings.
        XCTAssertEqual(uu("#86)C\r\n`\r\nend\r\n"), Array("abc".utf8))
        // Text before the begin line (a message body with an inline attachment).
        XCTAssertEqual(uu("Here it is:\n\nbegin 600 x\n%:&5L;&\\\n`\nend\n"), Array("hello".utf8))
        XCTAssertEqual(uu(""), [])
    }

    func testUudecodeMatchesALongerEncoding() {
        // 45 bytes per line, as uuencode writes them.
        let data = (0..<100).map { UInt8($0) }
        var text = "begin 644 data.bin\n"
        var index = 0
        while index < data.count {
            let chunk = Array(data[index..<min(index + 45, data.count)])
            var line = [UInt8(32 + chunk.count)]
            var k = 0
            while k < chunk.count {
                let a = chunk[k], b = k + 1 < chunk.count ? chunk[k + 1] : 0, c = k + 2 < chunk.count ? chunk[k + 2] : 0
                for sextet in [a >> 2, (a & 3) << 4 | b >> 4, (b & 15) << 2 | c >> 6, c & 63] {
                    line.append(sextet == 0 ? 96 : sextet + 32)
                }
                k += 3
            }
            text += String(decoding: line, as: UTF8.self) + "\n"
            index += 45
        }
        text += "`\nend\n"
        XCTAssertEqual(uu(text), data)
    }

    // MARK: dispatch

    func testDecodeDispatchesOnTheEncodingName() {
        let slice = ArraySlice("aGk=".utf8)
        XCTAssertEqual(TransferDecoding.decode(slice, encoding: "base64"), Array("hi".utf8))
        XCTAssertEqual(TransferDecoding.decode(slice, encoding: " BASE64 "), Array("hi".utf8))
        XCTAssertEqual(TransferDecoding.decode(slice, encoding: "7bit"), Array("aGk=".utf8))
        XCTAssertEqual(TransferDecoding.decode(slice, encoding: "x-unknown"), Array("aGk=".utf8))
        XCTAssertEqual(TransferDecoding.decode(ArraySlice("a=3Db".utf8), encoding: "Quoted-Printable"), Array("a=b".utf8))
        XCTAssertEqual(TransferDecoding.decode(ArraySlice("#86)C\n".utf8), encoding: "x-uuencode"), Array("abc".utf8))
    }

    func testDecodingASliceWithANonZeroStartIndex() {
        let bytes = Array("XXXXaGk=YYYY".utf8)
        XCTAssertEqual(TransferDecoding.decode(bytes[4..<8], encoding: "base64"), Array("hi".utf8))
        let qp = Array("XXXXa=3DYYYY".utf8)
        XCTAssertEqual(TransferDecoding.decode(qp[4..<8], encoding: "quoted-printable"), Array("a=".utf8))
        // A slice ending in "=": a soft line break at the end, even though more bytes follow in the array.
        XCTAssertEqual(TransferDecoding.decode(bytes[4..<8], encoding: "quoted-printable"), Array("aGk".utf8))
    }
}
