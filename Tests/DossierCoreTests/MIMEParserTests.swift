import DossierCore
import Foundation
import XCTest

/// Hand-written messages for each tolerance rule of `MIMEParser`, IMAP numbering, byte ranges,
/// and `MessageParser`'s choice of body text and attachments.
final class MIMEParserTests: XCTestCase {
    // MARK: Helpers

    private func parse(_ text: String, limits: ParseLimits = .default) -> (bytes: [UInt8], root: MIMEEntity) {
        let bytes = Array(text.utf8)
        return (bytes, MIMEParser.parse(bytes, limits: limits))
    }

    private func string(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    private func body(_ entity: MIMEEntity, _ bytes: [UInt8]) -> String {
        String(decoding: entity.decodedBody(in: bytes), as: UTF8.self)
    }

    private func tree(_ root: MIMEEntity) -> [String] { MIMETreeDump.lines(root) }

    // MARK: Header blocks

    func testSimpleMessageRanges() {
        let text = "From: a@example.com\nSubject: Hi\n\nHello\n"
        let (bytes, root) = parse(text)
        XCTAssertEqual(root.contentType.mimeType, "text/plain")
        XCTAssertEqual(root.headers.fields.map(\.name), ["From", "Subject"])
        XCTAssertEqual(string(bytes, root.headerRange), "From: a@example.com\nSubject: Hi\n\n")
        XCTAssertEqual(root.headerRange.upperBound, root.bodyRange.lowerBound)
        XCTAssertEqual(string(bytes, root.bodyRange), "Hello\n")
        XCTAssertEqual(root.transferEncoding, "7bit")
    }

    func testMessageWithoutBlankLineIsAllHeaders() {
        let (bytes, root) = parse("From: a@example.com\nSubject: no body")
        XCTAssertEqual(root.headers.fields.count, 2)
        XCTAssertEqual(root.headers.text("Subject"), "no body")
        XCTAssertEqual(root.bodyRange, bytes.count..<bytes.count)
        XCTAssertEqual(root.headerRange, 0..<bytes.count)
    }

    func testFoldedFieldsAndWhiteSpaceBeforeColon() {
        let (_, root) = parse("Subject: one\n two\n\tthree\nX-Odd : yes\n\nbody")
        XCTAssertEqual(root.headers.fields.map(\.name), ["Subject", "X-Odd"])
        XCTAssertEqual(String(decoding: root.headers.first("Subject")!.rawValue, as: UTF8.self), " one\n two\n\tthree")
        XCTAssertEqual(root.headers.text("x-odd"), "yes")
    }

    func testJunkLineAmongFieldsIsSkipped() {
        let (bytes, root) = parse("From: a@example.com\nthis line lost its indentation\nSubject: kept\n\nbody\n")
        XCTAssertEqual(root.headers.fields.map(\.name), ["From", "Subject"])
        XCTAssertEqual(body(root, bytes), "body\n")
    }

    func testBase64PartWithoutBlankLineKeepsItsData() {
        let data = (0..<200).map { UInt8($0) }
        let encoded = Data(data).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
        let text = "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream\n"
            + "Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=a.bin\n\(encoded)\n--b--\n"
        let (bytes, root) = parse(text)
        let part = root.children[0]
        XCTAssertEqual(part.headers.fields.count, 3)
        XCTAssertEqual(part.decodedBody(in: bytes), data)
        XCTAssertEqual(part.headerRange.upperBound, part.bodyRange.lowerBound)
        XCTAssertEqual(MessageParser.parse(bytes).attachments.first?.data, data)
    }

    func testJunkLinesThatAreNotBase64DataStayJunk() {
        let long = String(repeating: "A", count: 60)
        let cases = [
            // No base64 declared.
            "Content-Type: application/octet-stream\n\(long)\n\nbody",
            // Too short to be data: a wrapped header line.
            "Content-Transfer-Encoding: base64\nshortwrappedline\n\nYQ==",
            // Spaces: text, not data.
            "Content-Transfer-Encoding: base64\n\(long) \(long)\n\nYQ==",
            // Declared after the line: the line comes first.
            "Content-Type: text/plain\n\(long)\nContent-Transfer-Encoding: base64\n\nYQ==",
        ]
        for (index, headers) in cases.enumerated() {
            let text = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\(headers)\n--b--\n"
            let (bytes, root) = parse(text)
            let part = root.children[0]
            XCTAssertFalse(string(bytes, part.bodyRange).contains(long), "case \(index)")
        }
        // A message's own header block is never cut this way.
        let (_, message) = parse("Subject: x\nContent-Transfer-Encoding: base64\n\(long)\nTo: b@example.com\n\nYQ==")
        XCTAssertEqual(message.headers.fields.map(\.name), ["Subject", "Content-Transfer-Encoding", "To"])
    }

    func testPartWithoutHeadersStartsItsBodyAtTheFirstLine() {
        let text = """
            Content-Type: multipart/mixed; boundary=b

            --b
            Note: a first line that looks like a field is one (as in MimeKit and GMime)
            --b
            just text: a field name has no spaces
            second line
            --b--

            """
        let (bytes, root) = parse(text)
        XCTAssertEqual(root.children.count, 2)
        XCTAssertEqual(root.children[0].headers.fields.map(\.name), ["Note"])
        let headerless = root.children[1]
        XCTAssertEqual(headerless.headers.fields.count, 0)
        XCTAssertEqual(headerless.headerRange.count, 0)
        XCTAssertEqual(headerless.contentType.mimeType, "text/plain")
        XCTAssertEqual(body(headerless, bytes), "just text: a field name has no spaces\nsecond line")
    }

    func testPartWithBlankHeaderBlock() {
        let (bytes, root) = parse("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nbody only\n--b--\n")
        let part = root.children[0]
        XCTAssertEqual(part.headers.fields.count, 0)
        XCTAssertEqual(string(bytes, part.headerRange), "\n")
        XCTAssertEqual(body(part, bytes), "body only")
    }

    func testMboxFromLinesAreSkippedAtTheStartOfAMessage() {
        for prefix in ["From alice@example.com Thu Jan  1 00:00:00 2024\n", ">From alice@example.com Thu Jan  1 00:00:00 2024\n"] {
            let text = prefix + "Subject: s\n\nbody\n"
            let (bytes, root) = parse(text)
            XCTAssertEqual(root.headers.fields.map(\.name), ["Subject"], prefix)
            XCTAssertEqual(root.headerRange.lowerBound, prefix.utf8.count)
            XCTAssertEqual(body(root, bytes), "body\n")
        }
        // Only at the very start: later, it is a junk line among the fields.
        let (_, root) = parse("Subject: s\nFrom x Thu Jan  1 00:00:00 2024\nTo: b@example.com\n\n")
        XCTAssertEqual(root.headers.fields.map(\.name), ["Subject", "To"])
    }

    func testByteOrderMarkIsNotPartOfTheFirstFieldName() {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("Subject: bom\n\nx".utf8)
        let root = MIMEParser.parse(bytes)
        XCTAssertEqual(root.headers.fields.first?.name, "Subject")
        XCTAssertEqual(root.headerRange.lowerBound, 3)
    }

    func testEmptyInput() {
        let root = MIMEParser.parse([])
        XCTAssertEqual(root.contentType.mimeType, "text/plain")
        XCTAssertEqual(root.bodyRange, 0..<0)
        let parsed = MessageParser.parse([])
        XCTAssertEqual(parsed.bodyText, "")
        XCTAssertEqual(parsed.attachments.count, 0)
    }

    func testHugeHeaderBlockIsParsedAndCapped() {
        var text = ""
        for i in 0..<50_000 { text += "X-Field-\(i): value \(i)\n" }
        text += "Subject: last\n\nthe body\n"
        let (bytes, root) = parse(text)
        XCTAssertEqual(root.headers.fields.count, 10_000, "fields beyond maxHeaderFields are not kept")
        XCTAssertEqual(body(root, bytes), "the body\n", "but the body is still found after all of them")
        let limited = MIMEParser.parse(bytes, limits: ParseLimits(maxHeaderFields: 3))
        XCTAssertEqual(limited.headers.fields.count, 3)
        XCTAssertEqual(limited.bodyRange, root.bodyRange)
    }

    func testVeryLongFoldedField() {
        var text = "To: first@example.com"
        for i in 0..<20_000 { text += ",\n\tperson\(i)@example.com" }
        text += "\nSubject: after\n\nbody"
        let (bytes, root) = parse(text)
        XCTAssertEqual(root.headers.fields.map(\.name), ["To", "Subject"])
        XCTAssertEqual(body(root, bytes), "body")
    }

    // MARK: Boundaries

    func testNestedMultipartWithPreambleAndEpilogue() {
        let text = """
            Content-Type: multipart/mixed; boundary="outer"

            This is the preamble.
            --outer
            Content-Type: multipart/alternative; boundary=inner

            inner preamble
            --inner
            Content-Type: text/plain

            plain
            --inner
            Content-Type: text/html

            <p>html</p>
            --inner--
            inner epilogue
            --outer
            Content-Type: application/pdf; name="x.pdf"
            Content-Transfer-Encoding: base64

            JVBERg==
            --outer--
            This is the epilogue.

            """
        let (bytes, root) = parse(text)
        XCTAssertEqual(tree(root), [
            "Content-Type: multipart/mixed",
            "   Content-Type: multipart/alternative",
            "      Content-Type: text/plain",
            "      Content-Type: text/html",
            "   Content-Type: application/pdf",
        ])
        let alternative = root.children[0]
        XCTAssertEqual(body(alternative.children[0], bytes), "plain")
        XCTAssertEqual(body(alternative.children[1], bytes), "<p>html</p>")
        // The alternative's body runs to the line ending before the outer boundary: its own
        // closing boundary and epilogue included.
        XCTAssertTrue(string(bytes, alternative.bodyRange).hasSuffix("--inner--\ninner epilogue"))
        XCTAssertEqual(root.children[1].decodedBody(in: bytes), Array("%PDF".utf8))
        XCTAssertEqual(root.bodyRange.upperBound, bytes.count)
        XCTAssertTrue(string(bytes, root.bodyRange).hasPrefix("This is the preamble.\n--outer\n"))
    }

    func testBoundaryWithTrailingWhiteSpaceAndStrayCR() {
        let text = "Content-Type: multipart/mixed; boundary=b\n\n--b  \t\nContent-Type: text/plain\n\none\n--b\r\r\n\ntwo\n--b-- \n"
        let (bytes, root) = parse(text)
        XCTAssertEqual(root.children.count, 2)
        XCTAssertEqual(body(root.children[0], bytes), "one")
        XCTAssertEqual(body(root.children[1], bytes), "two")
    }

    func testLinesThatOnlyStartLikeTheBoundaryAreText() {
        let text = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n--bx\n--b-x\n-- b\n--b--x\nend\n--b--\n"
        let (bytes, root) = parse(text)
        XCTAssertEqual(root.children.count, 1)
        XCTAssertEqual(body(root.children[0], bytes), "--bx\n--b-x\n-- b\n--b--x\nend")
    }

    func testMissingClosingBoundaryEndsAtTheEndOfInput() {
        let text = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\n\nsecond, never closed\n"
        let (bytes, root) = parse(text)
        XCTAssertEqual(root.children.count, 2)
        XCTAssertEqual(body(root.children[1], bytes), "second, never closed\n")
        XCTAssertEqual(root.bodyRange.upperBound, bytes.count)
    }

    func testInnerPartEndsAtOuterBoundaryWhenItsClosingBoundaryIsMissing() {
        let text = """
            Content-Type: multipart/mixed; boundary=outer

            --outer
            Content-Type: multipart/alternative; boundary=inner

            --inner

            inner text
            --outer
            Content-Type: text/plain

            after
            --outer--

            """
        let (bytes, root) = parse(text)
        XCTAssertEqual(tree(root), [
            "Content-Type: multipart/mixed",
            "   Content-Type: multipart/alternative",
            "      Content-Type: text/plain",
            "   Content-Type: text/plain",
        ])
        XCTAssertEqual(body(root.children[0].children[0], bytes), "inner text")
        XCTAssertEqual(body(root.children[1], bytes), "after")
    }

    func testOuterClosingBoundaryClosesEverythingInside() {
        let text = "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; boundary=i\n\n--i\n\nx\n--o--\nepilogue\n"
        let (bytes, root) = parse(text)
        XCTAssertEqual(tree(root), [
            "Content-Type: multipart/mixed",
            "   Content-Type: multipart/mixed",
            "      Content-Type: text/plain",
        ])
        XCTAssertEqual(body(root.children[0].children[0], bytes), "x")
        XCTAssertEqual(root.bodyRange.upperBound, bytes.count)
    }

    func testWrongClosingBoundaryLeavesTheRestInTheLastPart() {
        // The closing line names another boundary: it is text of the last part.
        let text = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nlast\n--c--\n"
        let (bytes, root) = parse(text)
        XCTAssertEqual(root.children.count, 1)
        XCTAssertEqual(body(root.children[0], bytes), "last\n--c--\n")
    }

    func testBoundaryEndingAHeaderBlockGivesAnEmptyPart() {
        let text = "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n--b\n\nsecond\n--b--\n"
        let (bytes, root) = parse(text)
        XCTAssertEqual(root.children.count, 2)
        XCTAssertEqual(root.children[0].headers.fields.count, 1)
        // The line ending before the boundary belongs to the boundary, not to the header block.
        XCTAssertEqual(string(bytes, root.children[0].headerRange), "Content-Type: text/plain")
        XCTAssertEqual(root.children[0].bodyRange.count, 0)
        XCTAssertEqual(root.children[0].headerRange.upperBound, root.children[0].bodyRange.lowerBound)
        XCTAssertEqual(body(root.children[1], bytes), "second")
    }

    func testBlankLineBeforeABoundaryBelongsToTheBoundary() {
        let text = "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n--b\nContent-Type: text/plain\n\n\n--b\n\n\n\n--b--\n"
        let (bytes, root) = parse(text)
        let empty = root.children[0]
        XCTAssertEqual(string(bytes, empty.headerRange), "Content-Type: text/plain\n")
        XCTAssertEqual(empty.bodyRange.count, 0)
        XCTAssertEqual(empty.bodyRange.lowerBound, empty.headerRange.upperBound)
        // Two blank lines: the second is the line ending of the boundary, the body is empty.
        XCTAssertEqual(body(root.children[1], bytes), "")
        XCTAssertEqual(string(bytes, root.children[1].headerRange), "Content-Type: text/plain\n\n")
        // A headerless part of two blank lines: one line ending of body.
        XCTAssertEqual(body(root.children[2], bytes), "\n")
    }

    /// Found by fuzzing: an encapsulated message whose header block ends with a blank line right
    /// before the enclosing boundary reached one byte past the end of its message/rfc822 part.
    func testEncapsulatedMessageEndingAtABoundaryStaysInsideItsPart() {
        let texts = [
            "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nSubject: s\n\n--b--\n",
            "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nSubject: s\n--b--\n",
            "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; boundary=i\n\n--i\nSubject: s\n\n--o--\n",
            // A boundary line right after another: the line ending between them ends the first.
            "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; boundary=i\n\n--i\n--o--\n",
            "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n--o\r\n\r\n--o--\r\n",
        ]
        for text in texts {
            let (bytes, root) = parse(text)
            var problems: [String] = []
            MIMETreeDump.checkRanges(root, count: bytes.count, problems: &problems)
            XCTAssertEqual(problems, [], text)
        }
        let (_, root) = parse(texts[0])
        let message = root.children[0].embedded[0]
        XCTAssertEqual(message.headers.text("Subject"), "s")
        XCTAssertEqual(message.bodyRange.upperBound, root.children[0].bodyRange.upperBound)
    }

    func testLineEndingBeforeABoundaryBelongsToTheBoundary() {
        let text = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nline one\r\n\r\n--b--\r\n"
        let (bytes, root) = parse(text)
        // One CRLF of the two before the boundary is the part's own blank line.
        XCTAssertEqual(body(root.children[0], bytes), "line one\r\n")
    }

    func testMultipartWithoutBoundaryParameterIsText() {
        let (bytes, root) = parse("Content-Type: multipart/mixed\n\nsome text\n")
        XCTAssertEqual(root.contentType.mimeType, "text/plain")
        XCTAssertEqual(root.children.count, 0)
        XCTAssertEqual(body(root, bytes), "some text\n")
        // The declared type is still in the headers.
        XCTAssertEqual(root.headers.text("Content-Type"), "multipart/mixed")
        XCTAssertEqual(MessageParser.parse(bytes).bodyText, "some text\n")
    }

    func testMultipartWithoutAnyBoundaryLineIsText() {
        let (bytes, root) = parse("Content-Type: multipart/mixed; boundary=zz\n\nno boundary lines at all\n")
        XCTAssertEqual(root.contentType.mimeType, "text/plain")
        XCTAssertEqual(body(root, bytes), "no boundary lines at all\n")
    }

    func testEmptyMultipartStaysMultipart() {
        let (_, root) = parse("Content-Type: multipart/mixed; boundary=zz\n\n\n")
        XCTAssertEqual(root.contentType.mimeType, "multipart/mixed")
        XCTAssertEqual(root.children.count, 0)
        let parsed = MessageParser.parse(Array("Content-Type: multipart/mixed; boundary=zz\n\n\n".utf8))
        XCTAssertEqual(parsed.attachments.count, 0)
        XCTAssertEqual(parsed.bodyText, "")
    }

    func testMultipartDigestDefaultsToMessageRFC822() {
        let text = "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nfirst\n--d\nContent-Type: text/plain\n\nplain\n--d--\n"
        let (_, root) = parse(text)
        XCTAssertEqual(tree(root), [
            "Content-Type: multipart/digest",
            "   Content-Type: message/rfc822",
            "      Content-Type: text/plain",
            "   Content-Type: text/plain",
        ])
        XCTAssertEqual(root.children[0].embedded.first?.headers.text("Subject"), "one")
    }

    // MARK: Line endings and odd bytes

    func testCRLFAndLFGiveTheSameTree() {
        let lf = "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhello\n--b\nContent-Type: image/png; name=a.png\n\nPNG\n--b--\n"
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        let (lfBytes, lfRoot) = parse(lf)
        let (crlfBytes, crlfRoot) = parse(crlf)
        XCTAssertEqual(tree(lfRoot), tree(crlfRoot))
        XCTAssertEqual(body(lfRoot.children[0], lfBytes), "hello")
        XCTAssertEqual(body(crlfRoot.children[0], crlfBytes), "hello")
        XCTAssertEqual(crlfRoot.children[1].fileName, "a.png")
        XCTAssertEqual(string(crlfBytes, crlfRoot.headerRange), "Content-Type: multipart/mixed; boundary=b\r\n\r\n")
    }

    func testMixedLineEndings() {
        let text = "Content-Type: multipart/mixed; boundary=b\r\n\n--b\r\n\nx\n--b--\r\n"
        let (bytes, root) = parse(text)
        XCTAssertEqual(root.children.count, 1)
        XCTAssertEqual(body(root.children[0], bytes), "x")
    }

    func testNULBytesAreJustBytes() {
        var bytes = Array("Subject: a\0b\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\n".utf8)
        bytes += [0, 0, 1, 2, 0]
        bytes += Array("\n--b--\n".utf8)
        let root = MIMEParser.parse(bytes)
        XCTAssertEqual(root.children.count, 1)
        XCTAssertEqual(root.children[0].decodedBody(in: bytes), [0, 0, 1, 2, 0])
        XCTAssertEqual(MessageParser.rejectionReason(bytes), "binary data (NUL bytes in the header block)")
        _ = MessageParser.parse(bytes)
    }

    func testNoLineEndingAtAll() {
        let (bytes, root) = parse("Content-Type: multipart/mixed; boundary=b")
        XCTAssertEqual(root.contentType.mimeType, "multipart/mixed")
        XCTAssertEqual(root.bodyRange, bytes.count..<bytes.count)
    }

    // MARK: Encapsulated messages

    func testMessageRFC822IsParsedRecursively() {
        let text = """
            Subject: outer
            Content-Type: multipart/mixed; boundary=b

            --b
            Content-Type: text/plain

            see attached
            --b
            Content-Type: message/rfc822

            Subject: inner
            Content-Type: multipart/alternative; boundary=c

            --c
            Content-Type: text/plain

            inner plain
            --c
            Content-Type: text/html

            <b>inner</b>
            --c--
            --b--

            """
        let (bytes, root) = parse(text)
        XCTAssertEqual(tree(root), [
            "Content-Type: multipart/mixed",
            "   Content-Type: text/plain",
            "   Content-Type: message/rfc822",
            "      Content-Type: multipart/alternative",
            "         Content-Type: text/plain",
            "         Content-Type: text/html",
        ])
        let part = root.children[1]
        let message = part.embedded[0]
        XCTAssertEqual(message.headers.text("Subject"), "inner")
        XCTAssertEqual(message.headerRange.lowerBound, part.bodyRange.lowerBound)
        XCTAssertEqual(message.bodyRange.upperBound, part.bodyRange.upperBound)
        XCTAssertEqual(body(message.children[0], bytes), "inner plain")

        let parsed = MessageParser.parse(bytes)
        XCTAssertEqual(parsed.bodyText, "see attached\nSubject: inner\ninner plain")
        XCTAssertEqual(parsed.attachments.count, 0)
    }

    func testTransferEncodedMessageRFC822IsAnAttachment() {
        let inner = "Subject: hidden\n\nbody\n"
        let encoded = Data(inner.utf8).base64EncodedString()
        let text = "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n\(encoded)\n--b--\n"
        let (bytes, root) = parse(text)
        XCTAssertTrue(root.children[0].embedded.isEmpty)
        let parsed = MessageParser.parse(bytes)
        XCTAssertEqual(parsed.attachments.count, 1)
        XCTAssertEqual(parsed.attachments.first?.contentType, "message/rfc822")
        XCTAssertEqual(parsed.attachments.first?.data, Array(inner.utf8))
    }

    func testEmptyMessageRFC822HasNoEmbeddedMessage() {
        let text = "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\n--b--\n"
        let (_, root) = parse(text)
        XCTAssertEqual(root.children.count, 1)
        XCTAssertEqual(root.children[0].embedded.count, 0)
        _ = MessageParser.parse(Array(text.utf8))
    }

    func testMessageGlobalIsParsedToo() {
        let (_, root) = parse("Content-Type: message/global\n\nSubject: g\n\nbody\n")
        XCTAssertEqual(root.embedded.first?.headers.text("Subject"), "g")
    }

    // MARK: Nesting limit

    func testThousandDeepMultipartIsKeptOpaqueBelowTheLimit() {
        var text = ""
        for level in 0..<1000 {
            text += "Content-Type: multipart/mixed; boundary=\"b\(level)\"\n\n--b\(level)\n"
        }
        text += "Content-Type: text/plain\n\ndeepest text\n"
        for level in (0..<1000).reversed() { text += "--b\(level)--\n" }
        let (bytes, root) = parse(text)

        var depth = 0
        var entity = root
        while let child = entity.children.first {
            entity = child
            depth += 1
        }
        XCTAssertEqual(depth, ParseLimits.default.maxDepth)
        XCTAssertTrue(entity.opaque)
        XCTAssertEqual(entity.contentType.mimeType, "multipart/mixed")
        // The opaque part keeps the bytes below it: nothing is lost.
        XCTAssertTrue(string(bytes, entity.bodyRange).contains("deepest text"))

        let parsed = MessageParser.parse(bytes)
        XCTAssertTrue(parsed.truncatedNesting)
        XCTAssertEqual(parsed.attachments.count, 0)
        var visited = 0
        root.walk { _, _ in visited += 1 }
        XCTAssertEqual(visited, ParseLimits.default.maxDepth + 1)
    }

    func testDeepMessageRFC822NestingIsBoundedToo() {
        var text = ""
        for _ in 0..<2000 { text += "Content-Type: message/rfc822\n\n" }
        text += "Subject: bottom\n\nbottom text\n"
        let (bytes, root) = parse(text, limits: ParseLimits(maxDepth: 100_000))
        var depth = 0
        var entity = root
        while let next = entity.embedded.first {
            entity = next
            depth += 1
        }
        // Whatever the limits ask for, never deeper than the hard maximum.
        XCTAssertEqual(depth, MIMEParser.maximumDepth)
        XCTAssertTrue(entity.opaque)
        XCTAssertTrue(string(bytes, entity.bodyRange).hasSuffix("bottom text\n"))
        XCTAssertTrue(MessageParser.parse(bytes).truncatedNesting)
    }

    func testSmallNestingLimit() {
        let text = "Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n--a\n\ny\n--a--\n"
        let (bytes, root) = parse(text, limits: ParseLimits(maxDepth: 1))
        XCTAssertEqual(root.children.count, 2)
        XCTAssertTrue(root.children[0].opaque)
        XCTAssertEqual(body(root.children[1], bytes), "y")
        let zero = MIMEParser.parse(bytes, limits: ParseLimits(maxDepth: 0))
        XCTAssertTrue(zero.opaque)
        XCTAssertEqual(zero.bodyRange.upperBound, bytes.count)
    }

    // MARK: IMAP part numbers

    /// The example structure of RFC 3501 section 6.4.5.
    func testRFC3501PartNumbers() {
        let text = """
            Subject: example
            Content-Type: multipart/mixed; boundary=x

            --x
            Content-Type: text/plain

            1
            --x
            Content-Type: application/octet-stream

            2
            --x
            Content-Type: message/rfc822

            Subject: 3
            Content-Type: multipart/mixed; boundary=y

            --y
            Content-Type: text/plain

            3.1
            --y
            Content-Type: application/octet-stream

            3.2
            --y--
            --x
            Content-Type: multipart/mixed; boundary=z

            --z
            Content-Type: image/gif

            4.1
            --z
            Content-Type: message/rfc822

            Subject: 4.2
            Content-Type: multipart/mixed; boundary=w

            --w
            Content-Type: text/plain

            4.2.1
            --w
            Content-Type: multipart/alternative; boundary=v

            --v
            Content-Type: text/plain

            4.2.2.1
            --v
            Content-Type: text/richtext

            4.2.2.2
            --v--
            --w--
            --z--
            --x--

            """
        let (bytes, root) = parse(text)
        var seen: [String] = []
        root.walk { number, entity in
            seen.append(number)
            if entity.children.isEmpty && entity.embedded.isEmpty {
                XCTAssertEqual(self.body(entity, bytes), number)
            }
        }
        XCTAssertEqual(seen, ["TEXT", "1", "2", "3", "3.TEXT", "3.1", "3.2", "4", "4.1", "4.2", "4.2.TEXT",
                              "4.2.1", "4.2.2", "4.2.2.1", "4.2.2.2"])
        XCTAssertEqual(root.part("4.2.2")?.contentType.mimeType, "multipart/alternative")
        XCTAssertEqual(root.part("3.TEXT")?.headers.text("Subject"), "3")
        XCTAssertNil(root.part("4.3"))

        let parsed = MessageParser.parse(bytes)
        XCTAssertEqual(parsed.attachments.map(\.partNumber), ["2", "3.2", "4.1"])
    }

    func testSinglePartMessageIsPartOne() {
        let (_, root) = parse("Subject: x\n\nbody")
        var seen: [String] = []
        root.walk { number, _ in seen.append(number) }
        XCTAssertEqual(seen, ["1"])
        let (_, wrapped) = parse("Content-Type: message/rfc822\n\nSubject: y\n\ninner")
        seen = []
        wrapped.walk { number, _ in seen.append(number) }
        XCTAssertEqual(seen, ["1", "1.1"])
    }

    // MARK: Content types, encodings, names

    func testContentTypeFallbacks() {
        let cases: [(String, String)] = [
            ("Content-Type: \n", "text/plain"),
            ("Content-Type: text\n", "text/plain"),
            ("Content-Type: TEXT/HTML\n", "text/html"),
            ("Content-Type: garbage; name=a.bin\n", "application/octet-stream"),
        ]
        for (field, expected) in cases {
            let (_, root) = parse("Subject: t\n" + field + "\nbody")
            XCTAssertEqual(root.contentType.mimeType, expected, field)
        }
        let (_, named) = parse("Content-Type: garbage; name=a.bin\n\nbody")
        XCTAssertEqual(named.fileName, "a.bin")
    }

    func testTransferEncodingToken() {
        let cases: [(String, String)] = [
            ("BASE64", "base64"), (" Quoted-Printable ", "quoted-printable"), ("\"base64\"", "base64"),
            ("8bit (comment)", "8bit"), ("", "7bit"), ("x-uuencode", "x-uuencode"),
        ]
        for (value, expected) in cases {
            let (_, root) = parse("Content-Transfer-Encoding: \(value)\n\nbody")
            XCTAssertEqual(root.transferEncoding, expected, value)
        }
    }

    func testDecodedBodyForEachEncoding() {
        let cases: [(String, String, String)] = [
            ("base64", "aGVsbG8gd29y\nbGQ=\n", "hello world"),
            ("quoted-printable", "caf=C3=A9 =\nau lait=3d\n", "café au lait=\n"),
            ("7bit", "plain\n", "plain\n"),
            ("8bit", "café\n", "café\n"),
            ("binary", "raw\n", "raw\n"),
            ("x-uuencode", "begin 644 a.txt\n#86)C\n`\nend\n", "abc"),
        ]
        for (encoding, encoded, decoded) in cases {
            let (bytes, root) = parse("Content-Transfer-Encoding: \(encoding)\n\n\(encoded)")
            XCTAssertEqual(body(root, bytes), decoded, encoding)
        }
    }

    func testDecodedBodyClampsARangeFromAnotherBuffer() {
        let (bytes, root) = parse("Subject: x\n\nsome body text\n")
        XCTAssertEqual(root.decodedBody(in: Array(bytes.prefix(15))), Array("som".utf8))
        XCTAssertEqual(root.decodedBody(in: []), [])
    }

    func testAttachmentNamesFromDispositionThenContentType() {
        let text = """
            Content-Type: multipart/mixed; boundary=b

            --b
            Content-Type: application/pdf; name="type-name.pdf"
            Content-Disposition: attachment; filename="disposition-name.pdf"

            %PDF
            --b
            Content-Type: image/png; name=only-type.png

            PNG
            --b
            Content-Type: text/plain
            Content-Disposition: attachment

            text file
            --b
            Content-Type: text/plain
            Content-Disposition: inline; filename=notes.txt

            named inline text
            --b--

            """
        let parsed = MessageParser.parse(Array(text.utf8))
        XCTAssertEqual(parsed.attachments.map(\.fileName), ["disposition-name.pdf", "only-type.png", nil, "notes.txt"])
        XCTAssertEqual(parsed.attachments.map(\.partNumber), ["1", "2", "3", "4"])
        XCTAssertEqual(parsed.attachments.map(\.contentType), ["application/pdf", "image/png", "text/plain", "text/plain"])
        XCTAssertEqual(parsed.attachments[0].data, Array("%PDF".utf8))
        // The named inline text is shown by readers, so it is searchable; the text marked
        // `attachment` is not body text.
        XCTAssertEqual(parsed.bodyText, "named inline text")
    }

    // MARK: Body text

    func testAlternativeChoosesTextPlain() {
        let text = """
            Content-Type: multipart/alternative; boundary=b

            --b
            Content-Type: text/html

            <p>html words</p>
            --b
            Content-Type: text/plain

            plain words
            --b--

            """
        let parsed = MessageParser.parse(Array(text.utf8))
        XCTAssertEqual(parsed.bodyText, "plain words")
    }

    func testAlternativeWithoutPlainUsesHTMLAsText() {
        let text = """
            Content-Type: multipart/alternative; boundary=b

            --b
            Content-Type: text/html; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            <html><head><style>p { color: red }</style><script>var x = 1;</script></head>
            <body><p>Caf=C3=A9 &amp; cr&egrave;me</p><p>second</p></body></html>
            --b
            Content-Type: application/pdf; name=a.pdf

            %PDF
            --b--

            """
        let parsed = MessageParser.parse(Array(text.utf8))
        XCTAssertEqual(parsed.bodyText, "Café & crème\nsecond")
        XCTAssertEqual(parsed.attachments.map(\.fileName), ["a.pdf"])
    }

    func testNamedTextIsBodyTextUnlessMarkedAttachment() {
        let text = """
            Content-Type: multipart/mixed; boundary=b

            --b

            the body
            --b
            Content-Type: text/plain; name=log.txt

            log lines
            --b
            Content-Type: text/plain; name=saved.txt
            Content-Disposition: attachment

            saved lines
            --b--

            """
        let parsed = MessageParser.parse(Array(text.utf8))
        XCTAssertEqual(parsed.bodyText, "the body\nlog lines")
        XCTAssertEqual(parsed.attachments.map(\.fileName), ["log.txt", "saved.txt"])
    }

    func testIndexedTextIsCapped() {
        let body = String(repeating: "é", count: 100)
        let parsed = MessageParser.parse(Array(("Subject: s\n\n" + body).utf8), limits: ParseLimits(maxIndexedText: 10))
        // 10 bytes of UTF-8 hold five two-byte characters; a cap of 9 must not split the fifth.
        XCTAssertEqual(parsed.bodyText, String(repeating: "é", count: 5))
        let odd = MessageParser.parse(Array(("Subject: s\n\n" + body).utf8), limits: ParseLimits(maxIndexedText: 9))
        XCTAssertEqual(odd.bodyText, String(repeating: "é", count: 4))
    }

    // MARK: rejectionReason

    func testRejectionReasons() {
        XCTAssertEqual(MessageParser.rejectionReason([]), "empty file")
        XCTAssertEqual(MessageParser.rejectionReason(Array("just some text\nmore\n".utf8)), "no header block")
        XCTAssertEqual(MessageParser.rejectionReason([0xC3, 0xA9, 0x3A, 0x20, 0x78, 0x0A]), "no header block")
        XCTAssertNil(MessageParser.rejectionReason(Array("Subject: x\n\nbody".utf8)))
        XCTAssertNil(MessageParser.rejectionReason(Array("From a@b Thu Jan  1 00:00:00 2024\nSubject: x\n\n".utf8)))
        XCTAssertNil(MessageParser.rejectionReason(Array("Subject: x\n\nbody with \0 NUL".utf8)))
        XCTAssertEqual(MessageParser.rejectionReason(Array("From a@b Thu Jan  1 00:00:00 2024\n".utf8)), "no header block")
    }

    // MARK: Robustness

    /// Arbitrary bytes never trap and give a consistent tree: a cheap deterministic fuzz over
    /// the bytes that matter to the parser.
    func testRandomInputsNeverTrap() {
        var generator = SplitMix64(seed: 42)
        let alphabet = Array("-\r\n:; =\"bB\tContent-Type multipart/mixed boundary message/rfc822 base64 From >".utf8) + [0, 0xFF]
        let seeds = [
            "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n",
            "Content-Type: message/rfc822\n\nContent-Type: multipart/digest; boundary=b\n\n--b\n\n",
        ]
        for round in 0..<400 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            for _ in 0..<(Int(generator.next() % 40)) {
                let position = Int(generator.next() % UInt64(bytes.count + 1))
                let byte = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                if generator.next() % 3 == 0 && position < bytes.count {
                    bytes.remove(at: position)
                } else {
                    bytes.insert(byte, at: position)
                }
            }
            let parsed = MessageParser.parse(bytes)
            var problems: [String] = []
            MIMETreeDump.checkRanges(parsed.root, count: bytes.count, problems: &problems)
            XCTAssertEqual(problems, [], "round \(round): \(String(decoding: bytes, as: UTF8.self))")
            _ = MessageParser.rejectionReason(bytes)
        }
    }

    /// Many sibling parts: linear work, every part found.
    func testManySiblingParts() {
        var text = "Content-Type: multipart/mixed; boundary=b\n\n"
        for i in 0..<20_000 { text += "--b\nContent-Type: text/plain\n\npart \(i)\n" }
        text += "--b--\n"
        let (bytes, root) = parse(text)
        XCTAssertEqual(root.children.count, 20_000)
        XCTAssertEqual(body(root.children[19_999], bytes), "part 19999")
    }

    /// Many open boundaries that never match: each line is compared with each open boundary, so
    /// the work is lines × depth, bounded by the nesting limit.
    func testManyOpenBoundariesAndLongBody() {
        var text = ""
        for level in 0..<64 { text += "Content-Type: multipart/mixed; boundary=\"level\(level)\"\n\n--level\(level)\n" }
        text += "\n" + String(repeating: "--levelX not a boundary\n", count: 20_000)
        let (_, root) = parse(text)
        XCTAssertEqual(root.children.count, 1)
    }
}
