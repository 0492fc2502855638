import DossierCore
import XCTest

final class HTMLTextTests: XCTestCase {
    private func text(_ html: String) -> String { HTMLText.text(from: html) }

    func testTagsAreRemovedAndBlocksBreakLines() {
        XCTAssertEqual(text("<p>Hello <b>bold</b> world</p><p>Second</p>"), "Hello bold world\nSecond")
        XCTAssertEqual(text("one<br>two<br/>three"), "one\ntwo\nthree")
        XCTAssertEqual(text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"), "a b\nc")
        XCTAssertEqual(text("<DIV>Upper</DIV><Li>case</LI>"), "Upper\ncase")
    }

    func testWhiteSpaceCollapses() {
        XCTAssertEqual(text("  many \n\n  spaces\there  "), "many spaces here")
        XCTAssertEqual(text("<p>\n  para\n</p>\n\n<p>next</p>\n"), "para\nnext")
    }

    func testNamedAndNumericEntities() {
        XCTAssertEqual(text("Caf&eacute; &amp; cr&egrave;me &lt;tag&gt; &quot;q&quot; &apos;"), "Café & crème <tag> \"q\" '")
        XCTAssertEqual(text("&#233;&#xE9;&#XE9;&#x1F600;"), "ééé😀")
        XCTAssertEqual(text("&euro;&mdash;&hellip;&Omega;&sigma;"), "€—…Ωσ")
        XCTAssertEqual(text("a&nbsp;b&nbsp;&nbsp;c"), "a b c", "no-break spaces are spaces for the index")
    }

    func testBrokenEntitiesStayLiteral() {
        XCTAssertEqual(text("AT&T and &unknown; and & alone &#; &#xZZ;"), "AT&T and &unknown; and & alone &#; &#xZZ;")
        XCTAssertEqual(text("fish &amp chips"), "fish & chips", "legacy entity without semicolon")
        XCTAssertEqual(text("&#150;"), "\u{2013}", "C1 numeric references are Windows-1252")
        XCTAssertEqual(text("&#0;&#xD800;&#99999999999;"), "\u{FFFD}\u{FFFD}\u{FFFD}")
    }

    func testScriptStyleAndHeadAreDropped() {
        let html = """
            <html><head><title>Title text</title><style>p { color: red; }</style>
            <script>var hidden = "<p>not text</p>";</script></head>
            <body><p>Visible</p><SCRIPT type="text/javascript">alert(1)</SCRIPT><p>after</p></body></html>
            """
        XCTAssertEqual(text(html), "Visible\nafter")
        XCTAssertEqual(text("<style>body{}</style>text"), "text")
        XCTAssertEqual(text("a<script>never closed"), "a", "an unterminated script drops the rest")
    }

    func testHeadWithoutEndFallsBackToBody() {
        XCTAssertEqual(text("<head><title>t</title><body>content</body>"), "content")
        XCTAssertEqual(text("<head>no end, no body"), "no end, no body")
    }

    func testCommentsDoctypeAndProcessingInstructions() {
        XCTAssertEqual(text("<!DOCTYPE html><?xml version=\"1.0\"?>a<!-- hidden <p> -->b<![if !mso]>c"), "abc")
        XCTAssertEqual(text("<!--[if mso]><p>outlook only</p><![endif]-->shown"), "shown")
        XCTAssertEqual(text("before<!-- unterminated"), "before")
    }

    func testLiteralLessThan() {
        XCTAssertEqual(text("1 < 2 and 3 <4 <3"), "1 < 2 and 3 <4 <3")
        XCTAssertEqual(text("x <"), "x <")
    }

    func testGreaterThanInsideQuotedAttributeValues() {
        XCTAssertEqual(text("<a href=\"x\" title=\"a>b\">link</a>"), "link")
        XCTAssertEqual(text("<input value='a>swordfish'>after"), "after")
        XCTAssertEqual(text("<input value = \"a>b\" >after"), "after")
        // A quote not after "=" is not a value: the tag ends at the first ">".
        XCTAssertEqual(text("<p class=x don\"t>text</p>"), "text")
        // An unmatched quote is not a quote either.
        XCTAssertEqual(text("<a title=\"open>text"), "text")
        // As in a browser, a quote opened in one tag runs into the next one (the first two tags
        // are one tag whose value is `x>w<a t=`); the third quote has no match.
        XCTAssertEqual(text(String(repeating: "<a t=\"x>w", count: 3)), "ww")
    }

    func testNonASCIITextPassesThrough() {
        XCTAssertEqual(text("<p>日本語</p><p>Ελληνικά</p>"), "日本語\nΕλληνικά")
    }

    func testHostileInputsStayLinear() {
        // Many unclosed heads and scripts: every search fails once, then the rest is dropped or kept.
        let heads = String(repeating: "<head>", count: 20_000) + "tail"
        XCTAssertEqual(text(heads), "tail")
        let lessThans = String(repeating: "< ", count: 50_000)
        XCTAssertEqual(text(lessThans).count, 99_999)
        let quotes = String(repeating: "<a title=\"x>w ", count: 20_000)
        XCTAssertEqual(text(quotes).count, 19_999, "tags pair up by their quotes: one word per pair")
        let ampersands = String(repeating: "&", count: 50_000)
        XCTAssertEqual(text(ampersands).count, 50_000)
        XCTAssertEqual(text(""), "")
    }
}
