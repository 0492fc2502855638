@testable import DossierCore
import Foundation
import XCTest

/// Hand-built export models for the static site's tests (and for looking at the pages).
enum SiteFixture {
    static let epoch2023 = 1_672_531_200.0 // 2023-01-01T00:00:00Z
    static let hostileScript = "<script>alert(1)</script>"
    static let hostileImg = "\"><img src=x onerror=alert(1)>"
    static let longLine = String(repeating: "A", count: 10_000)

    /// `pages/20240205T141400Z-<key>.html`, as the exporter names pages.
    static func stamp(_ date: Date) -> String {
        let s = ExportHTML.utc(date, seconds: true) // 2024-02-05 14:14:00
        return s.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "").replacingOccurrences(of: " ", with: "T") + "Z"
    }

    static func key(_ i: Int) -> String {
        let v = UInt64(truncatingIfNeeded: i &+ 1) &* 0x9E37_79B9_7F4A_7C15
        let hex = String(v, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func controlNumber(_ i: Int) -> String {
        let s = String(i + 1)
        return "DOSSIER-" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    static func month(_ date: Date) -> String { String(ExportHTML.utc(date).prefix(7)) }

    /// Months between the first and last date, every one (empty ones at zero), with counts.
    static func months(_ messages: [(Date, String?)]) -> [ExportOverview.MonthCount] {
        guard let first = messages.map(\.0).min(), let last = messages.map(\.0).max(),
              let a = ExportHTML.monthIndex(month(first)), let b = ExportHTML.monthIndex(month(last)) else { return [] }
        var counts = [ExportOverview.MonthCount]()
        for index in a...b {
            let y = index / 12, m = index % 12 + 1
            counts.append(.init(month: "\(y)-\(m < 10 ? "0" : "")\(m)", inbound: 0, outbound: 0, other: 0))
        }
        for (date, direction) in messages {
            let i = ExportHTML.monthIndex(month(date))! - a
            switch direction {
            case "inbound": counts[i].inbound += 1
            case "outbound": counts[i].outbound += 1
            default: counts[i].other += 1
            }
        }
        return counts
    }

    /// An overview whose months run over `monthCount` months, one message or more in each.
    static func overview(monthCount: Int) -> ExportOverview {
        var summaries: [ExportedMessageSummary] = []
        var dated: [(Date, String?)] = []
        for i in 0..<monthCount {
            // Mid-month, 31-day steps from mid-January drift too little to skip a month in 150.
            let date = Date(timeIntervalSince1970: epoch2023 + 14 * 86_400 + Double(i) * 30.436875 * 86_400)
            let direction = ["inbound", "outbound", "internal"][i % 3]
            for _ in 0..<(1 + i % 4) {
                let n = summaries.count
                summaries.append(.init(controlNumber: controlNumber(n), key: key(n), date: date, from: "Client <c@client.example>",
                                       subject: "Month \(i)", direction: direction, evidence: .address, attachmentCount: 0,
                                       pagePath: "pages/\(stamp(date))-\(key(n)).html"))
                dated.append((date, direction))
            }
        }
        return ExportOverview(record: CRMRecordRef(.account, "ACME"), name: "Acme Corp", includedRecords: [], createdAt: Date(timeIntervalSince1970: 1_717_236_000),
                              parameters: [], messageCount: summaries.count, attachmentCount: 0, leftOut: [:],
                              first: dated.first?.0, last: dated.last?.0, months: months(dated), threads: summaries.map { [$0] })
    }

    /// A realistic small export: a few threads over 18 months, hostile strings throughout.
    /// Returns the overview and every message in full, in date order.
    static func realistic(metadataScope: Bool = false) -> (ExportOverview, [ExportedMessage]) {
        let acme = CRMRecordRef(.account, "ACME")
        let contact = CRMRecordRef(.contact, "C-0042")
        let alice = MailAddress(name: "Alice Martin", address: "alice.martin@acme.example")
        let bob = MailAddress(name: "Bob Lawyer", address: "bob@firm.example")
        let carol = MailAddress(name: "Carol Tax", address: "carol@firm.example")
        let mallory = MailAddress(name: hostileImg, address: "mallory@acme.example")
        let rtl = MailAddress(name: "Eve \u{202E}gnp.exe", address: "eve@acme.example")

        struct Spec { var thread: Int; var day: Double; var subject: String; var from: MailAddress; var to: [MailAddress]; var direction: String; var rule: FilingRule; var attachments: [(String?, String, Int)]; var text: String }
        let body = """
        Dear Bob,

        Please find attached the signed engagement letter and the Q1 figures.
        Let me know if anything is missing.\r\n\r\nBest regards,\r\nAlice

        > On 2023-01-10, Bob Lawyer wrote:
        > Could you send the signed letter?
        """
        let specs: [Spec] = [
            Spec(thread: 0, day: 9, subject: "Engagement letter 2023", from: bob, to: [alice], direction: "outbound", rule: .address, attachments: [("Engagement letter 2023.pdf", "application/pdf", 182_331)], text: "Dear Alice,\n\nPlease sign and return the attached letter.\n\nBob"),
            Spec(thread: 0, day: 12, subject: "Re: Engagement letter 2023", from: alice, to: [bob], direction: "inbound", rule: .thread, attachments: [("signed letter #2?.pdf", "application/pdf", 201_114), ("Q1 figures – résumé (final) 100%.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 48_210)], text: body),
            Spec(thread: 1, day: 40, subject: "[ACME-2023-07] VAT return Q4", from: carol, to: [alice], direction: "outbound", rule: .subjectTag, attachments: [], text: "Alice,\n\tThe VAT return for Q4 is due on 2023-02-28.\n\tAmount: € 12 480,00\n\nCarol"),
            Spec(thread: 1, day: 44, subject: "RE: [ACME-2023-07] VAT return Q4", from: alice, to: [carol, bob], direction: "inbound", rule: .subjectTag, attachments: [("invoice\u{202E}fdp.exe", "application/octet-stream", 3_204)], text: "Thanks. javascript:alert(1) http://evil.example/x\n" + longLine),
            Spec(thread: 2, day: 130, subject: hostileScript, from: mallory, to: [bob], direction: "inbound", rule: .domain, attachments: [("../../etc/passwd", "text/plain", 1_024), (hostileScript + ".html", "text/html", 77), (nil, "image/png", 5_880)], text: "</pre><script>alert(2)</script>\u{0}\u{1B}[31mred\u{7F}\u{85} & \"quotes\" 'single'\n<img src=x onerror=alert(3)>"),
            Spec(thread: 3, day: 200, subject: "Annual accounts — draft", from: bob, to: [alice, rtl], direction: "outbound", rule: .trackingCode, attachments: [("Annual accounts draft.pdf", "application/pdf", 1_502_004)], text: "Draft attached. Ref [DSR-88412]."),
            Spec(thread: 3, day: 215, subject: "Re: Annual accounts — draft", from: alice, to: [bob], direction: "inbound", rule: .thread, attachments: [], text: "Looks good."),
            Spec(thread: 3, day: 216, subject: "Re: Annual accounts — draft", from: carol, to: [bob], direction: "internal", rule: .manual, attachments: [], text: "Internal note: filed manually."),
            Spec(thread: 4, day: 390, subject: "Meeting 14 March", from: alice, to: [bob], direction: "inbound", rule: .address, attachments: [], text: "See you then."),
            Spec(thread: 4, day: 391, subject: "Re: Meeting 14 March", from: bob, to: [alice], direction: "outbound", rule: .thread, attachments: [], text: "Confirmed."),
            Spec(thread: 5, day: 520, subject: "", from: rtl, to: [bob], direction: "inbound", rule: .address, attachments: [], text: "مرحبا — a message with no subject.\u{2067}isolate\u{2069}"),
            Spec(thread: 6, day: 545, subject: "Year-end closing", from: bob, to: [alice], direction: "outbound", rule: .address, attachments: [], text: "Closing the year."),
        ]
        var messages: [ExportedMessage] = []
        var threads: [[ExportedMessageSummary]] = Array(repeating: [], count: 7)
        var dated: [(Date, String?)] = []
        var attachmentTotal = 0
        for (i, s) in specs.enumerated() {
            let date = Date(timeIntervalSince1970: epoch2023 + s.day * 86_400 + Double(i) * 3_917)
            let key = key(i)
            let page = "pages/\(stamp(date))-\(key).html"
            var matches = [FilingMatch(rule: s.rule, record: acme, matched: s.rule == .thread ? "<prev-\(i)@firm.example>" : s.from.address)]
            if s.rule != .address { matches.append(FilingMatch(rule: .address, record: contact, matched: "alice.martin@acme.example", via: nil)) }
            if i == 4 { matches.append(FilingMatch(rule: .domain, record: acme, matched: "javascript:alert(1)", via: contact)) }
            let attachments = s.attachments.enumerated().map { j, a in
                ExportedAttachment(controlNumber: controlNumber(i) + ".000\(j + 1)", name: a.0, contentType: a.1, size: a.2,
                                   sha256: String(repeating: "\(j)a7f", count: 16),
                                   path: metadataScope ? nil : "attachments/\(key.prefix(8))-\(j) " + (a.0 ?? "unnamed").replacingOccurrences(of: "/", with: "_") + ".bin")
            }
            attachmentTotal += attachments.count
            let message = ExportedMessage(controlNumber: controlNumber(i), key: key, messageID: "\(key)@\(s.from.domain)", date: date,
                                          subject: s.subject, from: [s.from], to: s.to, cc: i % 3 == 1 ? [carol] : [], bcc: i == 4 ? [bob] : [],
                                          mailboxes: s.direction == "inbound" ? ["bob@firm.example"] : ["bob@firm.example", "carol@firm.example"],
                                          folders: ["INBOX", "Clients/ACME \u{202E}evil"], direction: s.direction, matches: matches,
                                          sha256: String(repeating: "c0ffee\(i % 10)", count: 8) + String(repeating: "0", count: 8),
                                          size: 4_000 + i * 9_137, emlPath: metadataScope ? nil : "messages/\(stamp(date))-\(key).eml", pagePath: page,
                                          attachments: attachments, thread: s.thread, text: metadataScope ? nil : s.text)
            messages.append(message)
            let fromText = s.from.name.map { "\($0) <\(s.from.address)>" } ?? s.from.address
            threads[s.thread].append(.init(controlNumber: message.controlNumber, key: key, date: date, from: fromText, subject: s.subject,
                                           direction: s.direction, evidence: message.evidence, attachmentCount: attachments.count, pagePath: page))
            dated.append((date, s.direction))
        }
        let files = metadataScope ? ExportOverview.standardFiles.filter { !["mail.mbox", "messages/", "attachments/"].contains($0) } : ExportOverview.standardFiles
        let overview = ExportOverview(record: acme, name: "Acme Corp", includedRecords: [CRMRecordRef(.account, "ACME-DE"), contact],
                                      createdAt: Date(timeIntervalSince1970: 1_717_236_000), parameters: ["--since", "2023-01-01", "--with-subsidiaries", "--scope", metadataScope ? "metadata" : "full"],
                                      messageCount: messages.count, attachmentCount: attachmentTotal,
                                      leftOut: ["noise": 41, "internal": 7, "quarantined <script>": 1],
                                      first: dated.first?.0, last: dated.last?.0, months: months(dated), threads: threads, files: files)
        return (overview, messages)
    }

    /// Every file a link of the site may point to: the pages, originals and attachments of the
    /// model, and the root files the overview names.
    static func exportFiles(_ overview: ExportOverview, _ messages: [ExportedMessage]) -> Set<String> {
        var files = Set(overview.files)
        files.insert(ExportSite.indexPath)
        for summary in overview.threads.joined() { files.insert(summary.pagePath) }
        for m in messages {
            files.insert(m.pagePath)
            if let eml = m.emlPath { files.insert(eml) }
            for a in m.attachments { if let p = a.path { files.insert(p) } }
        }
        return files
    }
}

/// The HTML a page is made of, read back the simple way the tests need: every `<tag ...>` with its
/// attributes. Valid because the renderer escapes every `<` of text.
struct HTMLTags {
    struct Tag { var name: String; var attributes: [(name: String, value: String)] }
    var tags: [Tag] = []

    init(_ html: String) {
        let attribute = try! NSRegularExpression(pattern: #"([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?"#)
        var rest = html[...]
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            let inner = String(rest[rest.index(after: open)..<close])
            rest = rest[rest.index(after: close)...]
            if inner.hasPrefix("/") || inner.hasPrefix("!") { continue }
            let name = String(inner.prefix { !$0.isWhitespace && $0 != "/" }).lowercased()
            let attrText = String(inner.dropFirst(name.count))
            var attrs: [(String, String)] = []
            let ns = attrText as NSString
            for match in attribute.matches(in: attrText, range: NSRange(location: 0, length: ns.length)) {
                let n = ns.substring(with: match.range(at: 1)).lowercased()
                var v = ""
                for g in 2...4 where match.range(at: g).location != NSNotFound { v = ns.substring(with: match.range(at: g)) }
                attrs.append((n, v))
            }
            tags.append(Tag(name: name, attributes: attrs))
        }
    }

    func values(of attribute: String) -> [String] {
        tags.flatMap { $0.attributes.filter { $0.name == attribute }.map(\.value) }
    }
}

final class ExportSiteTests: XCTestCase {
    static let allowedTags: Set<String> = ["html", "head", "meta", "title", "style", "body", "main", "nav", "a", "header", "p",
                                           "h1", "h2", "h3", "dl", "div", "dt", "dd", "figure", "svg", "desc", "rect", "text",
                                           "g", "line", "details", "summary", "table", "thead", "tbody", "tr", "th", "td",
                                           "code", "section", "footer", "bdi", "span", "strong", "br", "pre"]

    /// The site's safety rules, checked on one page: only known tags, no script, no event
    /// handler, nothing fetched, every link a relative path to a file of the export.
    func assertSafe(_ html: String, page: String, files: Set<String>, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(html.lowercased().contains("<script"), "a script tag", file: file, line: line)
        XCTAssertFalse(html.contains("<img"), "an img tag", file: file, line: line)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"), file: file, line: line)
        XCTAssertTrue(html.contains("<meta charset=\"utf-8\">"), file: file, line: line)
        let tags = HTMLTags(html)
        XCTAssertGreaterThan(tags.tags.count, 20, file: file, line: line)
        for tag in tags.tags {
            XCTAssertTrue(Self.allowedTags.contains(tag.name), "unexpected tag <\(tag.name)>", file: file, line: line)
            for a in tag.attributes {
                XCTAssertFalse(a.name.hasPrefix("on"), "event handler \(a.name)= on <\(tag.name)>", file: file, line: line)
                XCTAssertFalse(["src", "srcset", "action", "formaction", "xlink:href", "background", "poster", "data"].contains(a.name), "fetching attribute \(a.name)", file: file, line: line)
                XCTAssertFalse(a.value.lowercased().contains("javascript:"), "javascript: in \(a.name)", file: file, line: line)
                if a.name == "style" { XCTAssertFalse(a.value.contains("url("), file: file, line: line) }
            }
        }
        XCTAssertFalse(html.contains("url("), "the stylesheet fetches nothing", file: file, line: line)
        XCTAssertFalse(html.contains("@import"), file: file, line: line)

        let base = URL(string: "file:///export/" + page)!
        let hrefs = tags.values(of: "href")
        XCTAssertFalse(hrefs.isEmpty, file: file, line: line)
        for raw in hrefs {
            let href = raw.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&quot;", with: "\"")
            XCTAssertFalse(href.lowercased().hasPrefix("http:") || href.lowercased().hasPrefix("https:") || href.hasPrefix("//"), "external link \(href)", file: file, line: line)
            XCTAssertTrue(href.hasPrefix("./") || href.hasPrefix("../") || href.hasPrefix("#"), "not a relative path: \(href)", file: file, line: line)
            guard let url = URL(string: href, relativeTo: base) else { XCTFail("unparsable href \(href)", file: file, line: line); continue }
            let path = url.absoluteURL.standardized.path
            XCTAssertTrue(path.hasPrefix("/export/"), "\(href) leaves the export: \(path)", file: file, line: line)
            let relative = String(path.dropFirst("/export/".count))
            XCTAssertTrue(files.contains(relative), "\(href) from \(page) points to \(relative), not a file of the export", file: file, line: line)
        }
    }

    // MARK: Links and escaping

    func testRelativeLinksGoUpFromPagesAndEncodeEachSegment() {
        XCTAssertEqual(ExportSite.relativeLink(from: "index.html", to: "pages/a.html"), "./pages/a.html")
        XCTAssertEqual(ExportSite.relativeLink(from: "pages/a.html", to: "pages/b.html"), "./b.html")
        XCTAssertEqual(ExportSite.relativeLink(from: "pages/a.html", to: "index.html"), "../index.html")
        XCTAssertEqual(ExportSite.relativeLink(from: "pages/a.html", to: "messages/20240205T141400Z-d5016d07b9448eb1.eml"), "../messages/20240205T141400Z-d5016d07b9448eb1.eml")
        XCTAssertEqual(ExportSite.relativeLink(from: "pages/a.html", to: "attachments/a b#c?d%e é.pdf"), "../attachments/a%20b%23c%3Fd%25e%20%C3%A9.pdf")
        XCTAssertEqual(ExportSite.relativeLink(from: "a/b/c.html", to: "a/d/e.txt"), "../d/e.txt")
        XCTAssertEqual(ExportSite.relativeLink(from: "a/b/c.html", to: "a/b/c.html"), "./c.html")
        XCTAssertEqual(ExportSite.relativeLink(from: "index.html", to: "javascript:alert(1)"), "./javascript%3Aalert%281%29")
        // Never above the export's root, whatever the path says.
        XCTAssertEqual(ExportSite.relativeLink(from: "pages/a.html", to: "../../etc/passwd"), "../etc/passwd")

        // The byte-level fast path agrees with the segment-by-segment one wherever it applies.
        let plain = ["index.html", "pages/a.html", "pages/ab.html", "pages/a", "messages/x.eml", "a/b/c.html", "a/b", "a/bc/d.txt", "a/b/c/d.txt", "x/y/z.html", "pages"]
        for from in plain {
            for to in plain {
                XCTAssertEqual(ExportHTML.plainRelativeLink(from: from, to: to), ExportHTML.segmentRelativeLink(from: from, to: to), "\(from) -> \(to)")
            }
        }
        for notPlain in ["a b.pdf", "a//b", "/a", "a/", "./a", "a/../b", "a/.hidden", "é"] {
            XCTAssertNil(ExportHTML.plainRelativeLink(from: "pages/x.html", to: notPlain), notPlain)
            XCTAssertNil(ExportHTML.plainRelativeLink(from: notPlain, to: "pages/x.html"), notPlain)
        }

        // Resolved by Foundation as a browser would, the links land on the same names.
        let base = URL(string: "file:///export/pages/x.html")!
        for name in ["attachments/Q1 report #2?.pdf", "attachments/100% résumé – 日本語.xlsx", "messages/a'b\"c<d>.eml", "attachments/%41%2F..%2F.pdf"] {
            let href = ExportSite.relativeLink(from: "pages/x.html", to: name)
            XCTAssertTrue(href.hasPrefix("../"), href)
            XCTAssertFalse(href.contains("#") || href.contains("?") || href.contains(" ") || href.contains("\"") || href.contains("'"), href)
            XCTAssertEqual(URL(string: href, relativeTo: base)?.absoluteURL.standardized.path, "/export/" + name, href)
        }
    }

    func testEscapingShowsControlsAndBidiInsteadOfObeyingThem() {
        XCTAssertEqual(ExportHTML.escaped("a<b>&\"'c"), "a&lt;b&gt;&amp;&quot;&#39;c")
        XCTAssertEqual(ExportHTML.escaped("x\u{0}y\u{1B}z\u{7F}\u{85}"), "x\\u{0}y\\u{1B}z\\u{7F}\\u{85}")
        XCTAssertEqual(ExportHTML.escaped("invoice\u{202E}fdp.exe \u{2066}a\u{2069} \u{202A}"), "invoice\\u{202E}fdp.exe \\u{2066}a\\u{2069} \\u{202A}")
        XCTAssertEqual(ExportHTML.escaped("one\ntwo\tthree\r"), "one two three ")
        XCTAssertEqual(ExportHTML.escaped("a\r\nb\rc\n\td\u{7}", .body), "a\nb\nc\n\td\\u{7}")
        XCTAssertEqual(ExportHTML.escaped("résumé — 日本語 مرحبا"), "résumé — 日本語 مرحبا")
        XCTAssertEqual(ExportHTML.escaped(""), "")
    }

    func testUTCDatesAndNumbers() {
        XCTAssertEqual(ExportHTML.utc(Date(timeIntervalSince1970: 1_707_142_440), seconds: true), "2024-02-05 14:14:00")
        XCTAssertEqual(ExportHTML.utc(Date(timeIntervalSince1970: 0)), "1970-01-01 00:00")
        XCTAssertEqual(ExportHTML.utc(Date(timeIntervalSince1970: -1), seconds: true), "1969-12-31 23:59:59")
        XCTAssertEqual(ExportHTML.utc(Date(timeIntervalSince1970: 951_782_400)), "2000-02-29 00:00")
        XCTAssertEqual(ExportHTML.grouped(50_000), "50,000")
        XCTAssertEqual(ExportHTML.grouped(999), "999")
        XCTAssertEqual(ExportHTML.grouped(1_234_567), "1,234,567")
        XCTAssertEqual(ExportHTML.humanSize(1_502_004), "1.5 MB")
    }

    // MARK: Index

    func testIndexShowsRecordCountsMonthsLeftOutAndFiles() {
        let (overview, messages) = SiteFixture.realistic()
        let html = ExportSite.indexPage(overview)
        assertSafe(html, page: ExportSite.indexPath, files: SiteFixture.exportFiles(overview, messages))

        XCTAssertTrue(html.contains("<title>account:ACME — Acme Corp · mail export</title>"))
        XCTAssertTrue(html.contains("<h1><bdi>account:ACME</bdi> — <bdi>Acme Corp</bdi></h1>"))
        XCTAssertTrue(html.contains("Made 2024-06-01 10:00:00 UTC"))
        XCTAssertTrue(html.contains("<dt>Messages</dt><dd>12</dd>"))
        XCTAssertTrue(html.contains("<dt>Attachments</dt><dd>\(overview.attachmentCount)</dd>"))
        XCTAssertTrue(html.contains("<dt>Threads</dt><dd>7</dd>"))
        XCTAssertTrue(html.contains("2023-01-10"), "the first day")
        XCTAssertTrue(html.contains("2024-06-29"), "the last day")
        XCTAssertEqual(overview.months.count, 18)
        for m in overview.months { XCTAssertTrue(html.contains(m.month), m.month) }
        XCTAssertTrue(html.contains("--since 2023-01-01 --with-subsidiaries --scope full"))
        XCTAssertTrue(html.contains("<code>account:ACME-DE</code>, <code>contact:C-0042</code>"))
        // Left out, by reason, most first, with its list.
        XCTAssertTrue(html.contains("49 messages were left out"))
        XCTAssertTrue(html.contains("href=\"./left-out.csv\""))
        let noise = html.range(of: "<bdi>noise</bdi></td><td class=\"num\">41</td>")
        let internalReason = html.range(of: "<bdi>internal</bdi></td><td class=\"num\">7</td>")
        XCTAssertNotNil(noise)
        XCTAssertNotNil(internalReason)
        if let noise, let internalReason { XCTAssertLessThan(noise.lowerBound, internalReason.lowerBound) }
        XCTAssertTrue(html.contains("quarantined &lt;script&gt;"))
        for file in ["mail.mbox", "loadfile.csv", "loadfile.dat", "manifest.json", "summary.csv"] {
            XCTAssertTrue(html.contains("href=\"./\(file)\""), file)
        }
        XCTAssertTrue(html.contains("<tr><td><code>messages/</code></td>"), "folders described, not linked")
        XCTAssertTrue(html.contains("<tr><td><code>attachments/</code></td>"))
        // Every thread, each message linked.
        XCTAssertEqual(html.components(separatedBy: "<section class=\"thread\"").count - 1, 7)
        for m in messages { XCTAssertTrue(html.contains("href=\"./\(m.pagePath)\"") || m.subject == nil, m.pagePath) }
        XCTAssertTrue(html.contains("<a href=\"./\(messages[4].pagePath)\"><bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi></a>"))
        XCTAssertTrue(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), "the hostile name shown as text")
        XCTAssertTrue(html.contains("Eve \\u{202E}gnp.exe"), "the override shown, not obeyed")
        XCTAssertFalse(html.contains("\u{202E}"))
        XCTAssertTrue(html.contains("(no subject)"))
        XCTAssertTrue(html.contains("@media print"))
    }

    func testIndexLinksOnlyToTheFilesTheExportHolds() {
        let (overview, messages) = SiteFixture.realistic(metadataScope: true)
        let html = ExportSite.indexPage(overview)
        assertSafe(html, page: ExportSite.indexPath, files: SiteFixture.exportFiles(overview, messages))
        XCTAssertFalse(html.contains("mail.mbox"))
        XCTAssertFalse(html.contains("<code>messages/</code>"), "no originals folder to describe")
        XCTAssertFalse(html.contains("<code>attachments/</code>"))
        XCTAssertTrue(html.contains("<code>pages/</code>"))
        XCTAssertTrue(html.contains("href=\"./loadfile.csv\""))

        var bare = overview
        bare.leftOut = [:]
        bare.files = ["manifest.json"]
        let plain = ExportSite.indexPage(bare)
        XCTAssertTrue(plain.contains("Nothing was left out."))
        XCTAssertFalse(plain.contains("left-out.csv"))
        XCTAssertFalse(plain.contains("loadfile.csv"))
    }

    func testEmptyExportRenders() {
        let overview = ExportOverview(record: CRMRecordRef(.case, "K-1"), name: nil, includedRecords: [], createdAt: Date(timeIntervalSince1970: 0),
                                      parameters: [], messageCount: 0, attachmentCount: 0, leftOut: [:], first: nil, last: nil, months: [], threads: [])
        let html = ExportSite.indexPage(overview)
        assertSafe(html, page: ExportSite.indexPath, files: SiteFixture.exportFiles(overview, []))
        XCTAssertTrue(html.contains("<h1><bdi>case:K-1</bdi></h1>"))
        XCTAssertTrue(html.contains("no dates"))
        XCTAssertTrue(html.contains("No dated messages."))
        XCTAssertFalse(html.contains("<svg"))
    }

    // MARK: Chart

    func testChartHasOneBarGroupPerMonthAndLegibleLabels() throws {
        for (count, maxLabels, yearsOnly) in [(1, 1, false), (12, 12, false), (18, 9, false), (150, 16, true)] {
            let overview = SiteFixture.overview(monthCount: count)
            XCTAssertEqual(overview.months.count, count)
            let html = ExportSite.indexPage(overview)
            assertSafe(html, page: ExportSite.indexPath, files: SiteFixture.exportFiles(overview, []))
            let svgStart = try XCTUnwrap(html.range(of: "<svg "))
            let svgEnd = try XCTUnwrap(html.range(of: "</svg>"))
            let svg = String(html[svgStart.lowerBound..<svgEnd.upperBound])
            XCTAssertEqual(svg.components(separatedBy: "<g class=\"month\">").count - 1, count, "\(count) months")
            XCTAssertEqual(svg.components(separatedBy: "<title>").count - 1, count, "a tooltip per month")
            for m in overview.months { XCTAssertTrue(svg.contains("<title>\(m.month): "), m.month) }
            let labels = svg.components(separatedBy: "<text class=\"xl\"").dropFirst().map { String($0.drop { $0 != ">" }.dropFirst().prefix { $0 != "<" }) }
            XCTAssertGreaterThanOrEqual(labels.count, 1)
            XCTAssertLessThanOrEqual(labels.count, maxLabels, "\(count) months: \(labels)")
            XCTAssertEqual(Set(labels).count, labels.count, "labels repeat: \(labels)")
            if yearsOnly { XCTAssertTrue(labels.allSatisfy { $0.count == 4 }, "\(labels)") }
            XCTAssertTrue(svg.contains(">Inbound</text>") && svg.contains(">Outbound</text>") && svg.contains(">Other</text>"), "legend")
            XCTAssertTrue(svg.contains(">0</text>"), "y axis starts at 0")
            // Bars stay inside the plot: no negative or huge heights.
            XCTAssertFalse(svg.contains("height=\"-"))
        }
    }

    func testYAxisTicksAreRoundAndCoverTheTallestMonth() {
        for (maxValue, step, top) in [(0, 1, 1), (1, 1, 1), (3, 1, 3), (7, 2, 8), (10, 5, 10), (38, 10, 40), (123, 50, 150), (4_999, 2_000, 6_000)] {
            let axis = ExportHTML.yAxis(maxValue)
            XCTAssertEqual(axis.step, step, "\(maxValue)")
            XCTAssertEqual(axis.top, top, "\(maxValue)")
        }
    }

    // MARK: Message page

    func testMessagePageShowsHeadersEvidenceAttachmentsThreadAndEscapedText() throws {
        let (overview, messages) = SiteFixture.realistic()
        let files = SiteFixture.exportFiles(overview, messages)
        let order = ExportSite.dateOrder(overview)
        XCTAssertEqual(order.map(\.pagePath), messages.map(\.pagePath))
        for (i, message) in messages.enumerated() {
            let html = ExportSite.messagePage(message, thread: overview.threads[message.thread], overview: overview,
                                              previous: i > 0 ? order[i - 1] : nil, next: i + 1 < order.count ? order[i + 1] : nil)
            assertSafe(html, page: message.pagePath, files: files)
            XCTAssertTrue(html.contains("<a href=\"../index.html\">Export index</a>"))
            XCTAssertTrue(html.contains("href=\"../index.html#t\(message.thread + 1)\""))
            XCTAssertTrue(html.contains("href=\"../\(message.emlPath!)\""), "the original")
            XCTAssertTrue(html.contains(message.sha256))
            XCTAssertEqual(html.contains("rel=\"prev\""), i > 0)
            XCTAssertEqual(html.contains("rel=\"next\""), i + 1 < messages.count)
            if i > 0 { XCTAssertTrue(html.contains("<a rel=\"prev\" href=\"./\(String(order[i - 1].pagePath.dropFirst("pages/".count)))\">")) }
            XCTAssertEqual(html.components(separatedBy: "aria-current=\"page\"").count - 1, 1, "this message marked in its thread")
            XCTAssertTrue(html.contains("<pre class=\"body\">"))
        }

        let hostile = messages[4]
        let html = ExportSite.messagePage(hostile, thread: overview.threads[hostile.thread], overview: overview)
        XCTAssertTrue(html.contains("<h1><bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi></h1>"))
        XCTAssertTrue(html.contains("&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;\\u{0}\\u{1B}[31mred\\u{7F}\\u{85} &amp; &quot;quotes&quot; &#39;single&#39;\n&lt;img src=x onerror=alert(3)&gt;</pre>"))
        XCTAssertEqual(html.components(separatedBy: "</pre>").count - 1, 1, "the text cannot close its block")
        XCTAssertTrue(html.contains("<bdi>../../etc/passwd</bdi>"), "the attachment's name shown as text")
        XCTAssertTrue(html.contains("<bdi>&lt;script&gt;alert(1)&lt;/script&gt;.html</bdi>"))
        XCTAssertTrue(html.contains("(no name)"))
        XCTAssertTrue(html.contains("<code><bdi>javascript:alert(1)</bdi></code>"), "a matched value is text, never a link")
        XCTAssertTrue(html.contains("<tr class=\"deciding\"><td>Address <span class=\"tag\">deciding</span>"), "the contact's address beats the domain")
        XCTAssertTrue(html.contains("<tr><td>Domain</td>"))
        XCTAssertTrue(html.contains("<th scope=\"row\">Bcc</th>"))
        XCTAssertTrue(html.contains("<code>&lt;\(hostile.messageID!)&gt;</code>"))
        XCTAssertTrue(html.contains("Clients/ACME \\u{202E}evil"))
        XCTAssertTrue(html.contains("2023-05-11 04:21:08 UTC"), "the date, UTC")
        for a in hostile.attachments {
            XCTAssertTrue(html.contains("href=\"\(ExportSite.relativeLink(from: hostile.pagePath, to: a.path!))\""))
            XCTAssertTrue(html.contains(a.sha256))
        }

        // Names with spaces, #, ?, % and Unicode link percent-encoded.
        let encoded = messages[1]
        let page = ExportSite.messagePage(encoded, thread: overview.threads[encoded.thread], overview: overview)
        XCTAssertTrue(page.contains("signed%20letter%20%232%3F.pdf"))
        XCTAssertTrue(page.contains("r%C3%A9sum%C3%A9"))
        XCTAssertTrue(page.contains("<tr class=\"deciding\"><td>Thread <span class=\"tag\">deciding</span>"))
        XCTAssertTrue(page.contains("<tr><td>Address</td>"), "the weaker rule listed, not marked")

        // The 10,000-character line is there, whole, in a block that wraps.
        let long = messages[3]
        let longPage = ExportSite.messagePage(long, thread: overview.threads[long.thread], overview: overview)
        XCTAssertTrue(longPage.contains(SiteFixture.longLine))
        XCTAssertTrue(longPage.contains("pre.body{margin:0;white-space:pre-wrap;overflow-wrap:anywhere"))
        XCTAssertTrue(longPage.contains("invoice\\u{202E}fdp.exe"))
        XCTAssertFalse(longPage.contains("\u{202E}"))
    }

    func testMetadataScopePageSaysTheBodyIsNotExported() {
        let (overview, messages) = SiteFixture.realistic(metadataScope: true)
        let files = SiteFixture.exportFiles(overview, messages)
        for message in messages {
            let html = ExportSite.messagePage(message, thread: overview.threads[message.thread], overview: overview)
            assertSafe(html, page: message.pagePath, files: files)
            XCTAssertTrue(html.contains("The body is not part of this export"))
            XCTAssertFalse(html.contains("<pre"))
            XCTAssertFalse(html.contains("../messages/"), "no original to link to")
            XCTAssertFalse(html.contains("../attachments/"))
            XCTAssertFalse(html.contains("href=\"./\(String(message.pagePath.dropFirst(6)))\""), "no link to itself")
            XCTAssertTrue(html.contains("<span class=\"note\">not exported in this scope</span>"))
            XCTAssertEqual(html.components(separatedBy: "not exported in this scope").count - 1, 1 + message.attachments.count)
            XCTAssertTrue(html.contains(message.sha256), "the digest is still given")
        }
    }

    func testMessageWithoutThreadListOrDateStillRenders() {
        let (overview, _) = SiteFixture.realistic()
        let message = ExportedMessage(controlNumber: "DOSSIER-00000099", key: "k", messageID: nil, date: nil, subject: nil, from: [], to: [], cc: [], bcc: [],
                                      mailboxes: [], folders: [], direction: nil, matches: [], sha256: "00", size: 0, emlPath: nil,
                                      pagePath: "pages/undated-k.html", attachments: [], thread: 999, text: "")
        let html = ExportSite.messagePage(message, thread: [], overview: overview)
        assertSafe(html, page: message.pagePath, files: [ExportSite.indexPath])
        XCTAssertTrue(html.contains("undated"))
        XCTAssertTrue(html.contains("(no subject)"))
        XCTAssertTrue(html.contains("No rule is recorded"))
        XCTAssertTrue(html.contains("The message has no text."))
        XCTAssertFalse(html.contains("#t1000"), "no anchor for a thread the index does not have")
    }

    // MARK: Scale

    func testFiftyThousandMessageIndexRendersInOnePass() {
        let count = 50_000
        var threads: [[ExportedMessageSummary]] = []
        var thread: [ExportedMessageSummary] = []
        var dated: [(Date, String?)] = []
        for i in 0..<count {
            let date = Date(timeIntervalSince1970: SiteFixture.epoch2023 + Double(i) * 1_500)
            let direction = i % 2 == 0 ? "inbound" : "outbound"
            thread.append(.init(controlNumber: SiteFixture.controlNumber(i), key: SiteFixture.key(i), date: date,
                                from: "Sender \(i % 97) <s\(i % 97)@client.example>", subject: "Re: matter \(i / 4) & <costs>",
                                direction: direction, evidence: .thread, attachmentCount: i % 3, pagePath: "pages/m\(i).html"))
            dated.append((date, direction))
            if thread.count == 1 + threads.count % 7 { threads.append(thread); thread = [] }
        }
        if !thread.isEmpty { threads.append(thread) }
        let overview = ExportOverview(record: CRMRecordRef(.account, "BIG"), name: "Big Client", includedRecords: [], createdAt: Date(),
                                      parameters: [], messageCount: count, attachmentCount: count, leftOut: ["noise": 12_000],
                                      first: dated.first?.0, last: dated.last?.0, months: SiteFixture.months(dated), threads: threads)
        let start = Date()
        let html = ExportSite.indexPage(overview)
        let seconds = Date().timeIntervalSince(start)
        print("ExportSite: index of \(count) messages, \(threads.count) threads, \(overview.months.count) months: \(html.utf8.count / 1_000_000) MB in \(String(format: "%.3f", seconds)) s")
        XCTAssertTrue(html.contains("<dt>Messages</dt><dd>50,000</dd>"))
        XCTAssertEqual(html.components(separatedBy: "<section class=\"thread\"").count - 1, threads.count)
        XCTAssertTrue(html.contains("href=\"./pages/m0.html\""))
        XCTAssertTrue(html.contains("href=\"./pages/m49999.html\""))
        XCTAssertTrue(html.hasSuffix("</html>\n"))

        // A message page in a long thread stays linear too.
        let long = Array(threads.joined().prefix(5_000))
        let message = ExportedMessage(controlNumber: long[2_500].controlNumber, key: long[2_500].key, messageID: nil, date: long[2_500].date,
                                      subject: long[2_500].subject, from: [], to: [], cc: [], bcc: [], mailboxes: [], folders: [], direction: nil,
                                      matches: [], sha256: "", size: 0, emlPath: nil, pagePath: long[2_500].pagePath, attachments: [], thread: 0,
                                      text: String(repeating: "line of text\n", count: 50_000))
        let page = ExportSite.messagePage(message, thread: long, overview: overview)
        XCTAssertEqual(page.components(separatedBy: "aria-current=\"page\"").count - 1, 1)
    }
}
