import Foundation

/// HTML escaping for text that comes from mail. Mail is untrusted: a display name or a subject can
/// carry `<script>`, quotes that end an attribute, or bidi overrides that make a line read
/// differently from what it holds. Every value a page shows goes through `HTML.text` (element
/// content) or `HTML.attribute` (a quoted attribute value); only markup built here is raw.
public enum HTML {
    /// `value` as element content: `& < > " '` become entities, and control characters and bidi
    /// overrides/isolates (U+202A-202E, U+2066-2069, U+2028/2029) are spelled out as `\u{202E}`,
    /// the way the terminal reports show them, so a hostile name cannot reverse what follows it.
    /// Tabs and line breaks are kept (HTML shows them as spaces).
    public static func text(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            case "\r": out += " "
            default:
                let v = scalar.value
                if v < 0x20 || (0x7F..<0xA0).contains(v) || v == 0x2028 || v == 0x2029 || (0x202A...0x202E).contains(v)
                    || (0x2066...0x2069).contains(v) {
                    out += "\\u{" + String(v, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// `value` for a double- or single-quoted attribute value. The same escaping as `text`
    /// (quotes are always escaped), kept as its own name so call sites say where a value goes.
    public static func attribute(_ value: String) -> String { text(value) }

    /// A fragment id made from `value`: letters, digits, `-` and `_` kept, anything else `_`,
    /// prefixed so it never starts with a digit. For `id=` and `href="#..."` within one page.
    public static func anchor(_ value: String) -> String {
        "r-" + String(value.unicodeScalars.map { scalar -> Character in
            let v = scalar.value
            let ok = (0x30...0x39).contains(v) || (0x41...0x5A).contains(v) || (0x61...0x7A).contains(v) || v == 0x2D || v == 0x5F
            return ok ? Character(scalar) : "_"
        })
    }

    /// `2024-03-05 10:00` (UTC), or `-`: dates as the table reports print them.
    public static func date(_ date: Date?) -> String {
        guard let date else { return "-" }
        return UTCDate.minute(date)
    }

    /// `2024-03-05` (UTC), or `-`.
    public static func day(_ date: Date?) -> String {
        guard let date else { return "-" }
        return String(UTCDate.minute(date).prefix(10))
    }
}

/// One cell of an `HTMLTable`: escaped text, or markup built by the caller.
public struct HTMLCell: Sendable, ExpressibleByStringLiteral {
    /// The cell's content, ready to insert (already escaped).
    public var html: String
    /// Extra class names for the `<td>`: `nowrap` (a date, a key), `path` (long unbroken text such as
    /// a source path, allowed to wrap anywhere), `muted`.
    public var classes: [String]

    /// Text from anywhere (mail included): escaped. An empty string shows as `-`.
    public init(_ text: String, classes: [String] = []) {
        html = text.isEmpty ? "-" : HTML.text(text)
        self.classes = classes
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// A count, grouped by thousands (`12,345`).
    public init(_ number: Int) {
        html = HTMLCell.grouped(number)
        classes = []
    }

    /// Markup the caller built (and escaped) itself: a chart, a list, a link to an anchor.
    public static func raw(_ html: String, classes: [String] = []) -> HTMLCell {
        var cell = HTMLCell("")
        cell.html = html
        cell.classes = classes
        return cell
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = value < 0 ? "-" : ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }
}

/// A table, written all at once (`render`) or a row at a time (`start`, `row`, `end`) for reports
/// too long to hold. Numeric columns are right-aligned with tabular figures; the header row
/// repeats on every printed page.
public struct HTMLTable: Sendable {
    public struct Column: Sendable {
        public var header: String
        public var numeric: Bool
        public init(_ header: String, numeric: Bool = false) {
            self.header = header
            self.numeric = numeric
        }
    }

    public var columns: [Column]
    public var caption: String?
    /// Class names for the `<table>` (e.g. `compact`).
    public var classes: [String]

    public init(_ columns: [Column], caption: String? = nil, classes: [String] = []) {
        self.columns = columns
        self.caption = caption
        self.classes = classes
    }

    /// Columns by header, none numeric.
    public init(headers: [String], caption: String? = nil) {
        self.init(headers.map { Column($0) }, caption: caption)
    }

    /// `<table>`, its caption and header row, and `<tbody>`.
    public func start() -> String {
        var out = "<table" + (classes.isEmpty ? "" : " class=\"\(HTML.attribute(classes.joined(separator: " ")))\"") + ">\n"
        if let caption { out += "<caption>\(HTML.text(caption))</caption>\n" }
        out += "<thead><tr>" + columns.map { column in
            "<th scope=\"col\"\(column.numeric ? " class=\"num\"" : "")>\(HTML.text(column.header))</th>"
        }.joined() + "</tr></thead>\n<tbody>\n"
        return out
    }

    /// One `<tr>`; missing cells are left empty, extra cells are dropped.
    public func row(_ cells: [HTMLCell]) -> String {
        var out = "<tr>"
        for (index, column) in columns.enumerated() {
            let cell = index < cells.count ? cells[index] : HTMLCell.raw("")
            let classes = (column.numeric ? ["num"] : []) + cell.classes
            out += "<td" + (classes.isEmpty ? "" : " class=\"\(HTML.attribute(classes.joined(separator: " ")))\"") + ">" + cell.html + "</td>"
        }
        return out + "</tr>\n"
    }

    /// Closes what `start` opened.
    public func end() -> String { "</tbody>\n</table>\n" }

    /// The whole table; with no rows, one row saying `empty` across all columns.
    public func render(_ rows: [[HTMLCell]], empty: String = "None.") -> String {
        var out = start()
        if rows.isEmpty {
            out += "<tr><td class=\"empty\" colspan=\"\(columns.count)\">\(HTML.text(empty))</td></tr>\n"
        }
        for row in rows { out += self.row(row) }
        return out + end()
    }
}

/// One self-contained HTML page: inline stylesheet, no script, no external resource (a
/// Content-Security-Policy says so to the browser too), readable printed (A4 landscape, header rows
/// repeated, rows and charts not split across pages). Build the body with the helpers, or write
/// the page as a stream with `start()`, your own markup, and `end()`.
public struct HTMLPage: Sendable {
    public var title: String
    /// A line under the title (what the report covers, the reference time).
    public var subtitle: String?
    /// The body so far, as markup.
    public private(set) var body = ""

    public init(title: String, subtitle: String? = nil) {
        self.title = title
        self.subtitle = subtitle
    }

    /// Appends a heading (`level` 2 to 4), with an optional fragment id for `#` links.
    public mutating func heading(_ text: String, level: Int = 2, id: String? = nil) {
        let level = min(max(level, 2), 4)
        body += "<h\(level)" + (id.map { " id=\"\(HTML.attribute($0))\"" } ?? "") + ">\(HTML.text(text))</h\(level)>\n"
    }

    /// Appends a paragraph of text.
    public mutating func paragraph(_ text: String, classes: [String] = []) {
        body += "<p" + (classes.isEmpty ? "" : " class=\"\(HTML.attribute(classes.joined(separator: " ")))\"") + ">\(HTML.text(text))</p>\n"
    }

    /// Appends label/value pairs as a compact definition list (a ledger, a record's details).
    public mutating func facts(_ pairs: [(String, String)]) {
        body += Self.facts(pairs)
    }

    /// Label/value pairs as a `<dl class="facts">`.
    public static func facts(_ pairs: [(String, String)]) -> String {
        "<dl class=\"facts\">" + pairs.map { "<dt>\(HTML.text($0.0))</dt><dd>\(HTML.text($0.1))</dd>" }.joined() + "</dl>\n"
    }

    /// Appends a whole table.
    public mutating func table(_ table: HTMLTable, rows: [[HTMLCell]], empty: String = "None.") {
        body += table.render(rows, empty: empty)
    }

    /// Appends markup built (and escaped) by the caller.
    public mutating func raw(_ html: String) { body += html }

    /// Everything before the body: doctype, head with the stylesheet, the title block.
    public func start() -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>\(HTML.text(title))</title>
            <style>
            \(Self.stylesheet)</style>
            </head>
            <body>
            <header><h1>\(HTML.text(title))</h1>
            """
        if let subtitle { out += "<p class=\"meta\">\(HTML.text(subtitle))</p>" }
        return out + "</header>\n<main>\n"
    }

    /// Everything after the body.
    public func end() -> String { "</main>\n<footer>Dossier</footer>\n</body>\n</html>\n" }

    /// The whole page.
    public func render() -> String { start() + body + end() }

    /// The page's stylesheet: system fonts, compact tables with tabular figures, muted secondary
    /// text, and print rules (A4 landscape, repeated header rows, nothing split mid-row).
    public static let stylesheet = """
        :root { color-scheme: light; --ink: #1d2430; --muted: #5b6573; --rule: #d5dae1; --band: #f3f5f8; --in: #1f4e8c; --out: #e08a2e; }
        * { box-sizing: border-box; }
        body { margin: 0; padding: 24px 28px; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
        header { border-bottom: 2px solid var(--ink); margin-bottom: 16px; padding-bottom: 6px; }
        h1 { font-size: 20px; margin: 0 0 2px; }
        h2 { font-size: 16px; margin: 22px 0 8px; }
        h3 { font-size: 14px; margin: 16px 0 6px; }
        h4 { font-size: 13px; margin: 10px 0 4px; }
        p { margin: 6px 0; }
        .meta, .muted, footer { color: var(--muted); }
        footer { margin-top: 24px; font-size: 11px; border-top: 1px solid var(--rule); padding-top: 4px; }
        table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; }
        caption { text-align: left; font-weight: 600; padding: 4px 0; }
        th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--rule); overflow-wrap: break-word; unicode-bidi: plaintext; }
        th { background: var(--band); font-weight: 600; border-bottom: 1px solid #aab3bf; white-space: nowrap; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        td.nowrap { white-space: nowrap; }
        td.path { overflow-wrap: anywhere; min-width: 12em; }
        td.empty { color: var(--muted); font-style: italic; }
        tbody tr:nth-child(even) td { background: #fafbfc; }
        dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 6px 0 14px; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
        ul.people { list-style: none; margin: 0; padding: 0; }
        ul.people li { margin: 0 0 2px; }
        .tag { display: inline-block; padding: 0 5px; border-radius: 3px; background: var(--band); border: 1px solid var(--rule); font-size: 11px; }
        .up { color: #1c7a3d; } .down { color: #b3261e; }
        .score { display: inline-block; min-width: 2.4em; text-align: right; font-weight: 600; }
        .bar { display: inline-block; height: 8px; background: var(--in); vertical-align: middle; margin-left: 6px; }
        section.card { border: 1px solid var(--rule); border-radius: 4px; padding: 8px 12px; margin: 0 0 14px; break-inside: avoid; }
        section.card h3 { margin-top: 2px; }
        .cols { display: grid; grid-template-columns: 380px 1fr 1fr; gap: 16px; align-items: start; }
        svg.chart { display: block; }
        svg.chart text { font: 10px system-ui, "DejaVu Sans", sans-serif; fill: var(--muted); }
        a { color: inherit; }
        @page { size: A4 landscape; margin: 12mm; }
        @media print {
          body { padding: 0; font-size: 10.5px; }
          thead { display: table-header-group; }
          tr, section.card, svg.chart { break-inside: avoid; }
          a { text-decoration: none; }
          tbody tr:nth-child(even) td { background: none; }
        }

        """
}

/// A small bar chart of messages per month, two series (in and out), as inline SVG: one pair of
/// bars per month, a value axis with its maximum, month labels (the year under January and under
/// the first month), a legend, and a `<title>` per bar so a browser shows the exact count. No
/// script, no external resource (inline SVG in HTML needs no namespace URL); colours differ in lightness as well as hue, so a black and
/// white print still tells the series apart.
public struct MonthlyChart: Sendable, Equatable, Encodable {
    /// One calendar month's counts.
    public struct Month: Sendable, Equatable, Encodable {
        public var year: Int
        /// 1...12.
        public var month: Int
        public var inbound: Int
        public var outbound: Int

        public init(year: Int, month: Int, inbound: Int = 0, outbound: Int = 0) {
            self.year = year
            self.month = month
            self.inbound = inbound
            self.outbound = outbound
        }

        /// `2024-03`.
        public var label: String { "\(year)-" + (month < 10 ? "0" : "") + String(month) }

        enum CodingKeys: String, CodingKey { case month, inbound = "in", outbound = "out" }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(label, forKey: .month)
            try container.encode(inbound, forKey: .inbound)
            try container.encode(outbound, forKey: .outbound)
        }
    }

    /// Oldest first, consecutive.
    public var months: [Month]
    /// Names of the two series, for the legend and the bar titles.
    public var inboundLabel: String
    public var outboundLabel: String

    public init(months: [Month], inboundLabel: String = "in", outboundLabel: String = "out") {
        self.months = months
        self.inboundLabel = inboundLabel
        self.outboundLabel = outboundLabel
    }

    /// `count` consecutive months, all zero, ending with the month (UTC) that holds `date`.
    public static func empty(monthsEndingAt date: Date, count: Int) -> [Month] {
        let (year, month) = UTCDate.yearMonth(date)
        var result: [Month] = []
        var y = year, m = month
        for _ in 0..<max(count, 0) {
            result.append(Month(year: y, month: m))
            m -= 1
            if m == 0 { m = 12; y -= 1 }
        }
        return result.reversed()
    }

    /// The index in `months` of the month holding `date`, if it is shown.
    public func index(of date: Date) -> Int? {
        let (year, month) = UTCDate.yearMonth(date)
        return months.firstIndex { $0.year == year && $0.month == month }
    }

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The chart as an `<svg>` element, `width` by `height` CSS pixels; `title` is its accessible
    /// name (escaped here).
    public func svg(title: String, width: Int = 360, height: Int = 130) -> String {
        let left = 30.0, right = 6.0, top = 16.0, bottom = 28.0
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        let peak = months.map { max($0.inbound, $0.outbound) }.max() ?? 0
        let scaleMax = Double(Self.niceCeiling(peak))
        let slot = months.isEmpty ? plotWidth : plotWidth / Double(months.count)
        let barWidth = max(1.0, (slot - 2) / 2)
        func f(_ value: Double) -> String { String(format: "%.1f", value) }

        var out = "<svg class=\"chart\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(HTML.attribute(title))\">"
        out += "<title>\(HTML.text(title))</title>"
        // Value axis: the maximum and zero, with a faint grid line at the top.
        let baseline = top + plotHeight
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(top))\" stroke=\"#e3e7ec\" stroke-width=\"1\"/>"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(baseline))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(baseline))\" stroke=\"#8a94a3\" stroke-width=\"1\"/>"
        out += "<text x=\"\(f(left - 4))\" y=\"\(f(top + 3))\" text-anchor=\"end\">\(Int(scaleMax))</text>"
        out += "<text x=\"\(f(left - 4))\" y=\"\(f(baseline + 3))\" text-anchor=\"end\">0</text>"
        // Legend, top right.
        let legendX = Double(width) - right - 92
        out += "<rect x=\"\(f(legendX))\" y=\"2\" width=\"9\" height=\"9\" fill=\"#1f4e8c\"/>"
        out += "<text x=\"\(f(legendX + 12))\" y=\"10\">\(HTML.text(inboundLabel))</text>"
        out += "<rect x=\"\(f(legendX + 46))\" y=\"2\" width=\"9\" height=\"9\" fill=\"#f0a858\"/>"
        out += "<text x=\"\(f(legendX + 58))\" y=\"10\">\(HTML.text(outboundLabel))</text>"
        for (index, month) in months.enumerated() {
            let x0 = left + Double(index) * slot + 1
            for (series, value) in [(0, month.inbound), (1, month.outbound)] {
                let h = scaleMax > 0 ? Double(value) / scaleMax * plotHeight : 0
                let x = x0 + Double(series) * barWidth
                let label = "\(month.label): \(value) \(series == 0 ? inboundLabel : outboundLabel)"
                out += "<rect x=\"\(f(x))\" y=\"\(f(baseline - h))\" width=\"\(f(barWidth))\" height=\"\(f(h))\" "
                    + "fill=\"\(series == 0 ? "#1f4e8c" : "#f0a858")\"><title>\(HTML.text(label))</title></rect>"
            }
            // Every month gets a label when there is room, else every other; the year goes under
            // January and under the first month shown.
            let every = slot >= 22 ? 1 : (slot >= 11 ? 2 : 3)
            let center = x0 + barWidth
            if index % every == 0 || month.month == 1 {
                out += "<text x=\"\(f(center))\" y=\"\(f(baseline + 11))\" text-anchor=\"middle\">\(Self.monthNames[(month.month - 1) % 12])</text>"
            }
            if index == 0 || month.month == 1 {
                out += "<text x=\"\(f(center))\" y=\"\(f(baseline + 22))\" text-anchor=\"middle\">\(month.year)</text>"
            }
        }
        return out + "</svg>"
    }

    /// The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `value` (at least 1).
    static func niceCeiling(_ value: Int) -> Int {
        var magnitude = 1
        while true {
            for step in [1, 2, 5] where step * magnitude >= value { return step * magnitude }
            magnitude *= 10
        }
    }
}

/// UTC calendar fields without a Foundation formatter per call (reports format a date per row).
enum UTCDate {
    static func fields(_ date: Date) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day), Int(rest / 3600), Int(rest % 3600 / 60), Int(rest % 60))
    }

    static func yearMonth(_ date: Date) -> (Int, Int) {
        let t = fields(date)
        return (t.year, t.month)
    }

    /// `2024-03-05 10:00`.
    static func minute(_ date: Date) -> String {
        let t = fields(date)
        return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2)) \(pad(t.hour, 2)):\(pad(t.minute, 2))"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
