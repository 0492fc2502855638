import Foundation

// MARK: - HTML helpers
//
// Small, internal helpers for the export's static site (`ExportSite`): escaping, relative links,
// UTC dates, numbers, the page skeleton with its stylesheet, and the monthly chart. Kept apart and
// internal so that they can later be folded into the shared HTML helpers of `Report/`.
//
// Everything appends to an `inout String` the caller reserved: pages of 50k rows are built in
// one buffer, never by concatenating intermediate strings.

enum ExportHTML {
    /// How `escape` treats line breaks and tabs.
    enum TextMode {
        /// Names, subjects, file names, attribute values: one line. Tab, CR and LF become a space.
        case inline
        /// A message's text inside `<pre>`: LF and tab kept, CRLF and lone CR become LF.
        case body
    }

    // MARK: Escaping

    /// Appends `text` escaped for HTML text and quoted attribute values.
    ///
    /// - `& < > " '` become entities;
    /// - C0 and C1 controls and DEL (other than those `mode` keeps) are shown as `\u{1B}`, so a
    ///   reader sees that they are there without the browser acting on them;
    /// - bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are shown
    ///   the same way: a file name like `invoice\u{202E}fdp.exe` cannot display as `invoiceexe.pdf`.
    static func escape(_ text: String, _ mode: TextMode = .inline, into out: inout String) {
        if !needsEscaping(text) {
            out.append(text)
            return
        }
        var text = text
        text.withUTF8 { buf in
            let n = buf.count
            var runStart = 0, i = 0
            // Bytes between the ones replaced are appended as runs, not scalar by scalar.
            func flush(_ end: Int) {
                if end > runStart { out.append(String(decoding: UnsafeBufferPointer(rebasing: buf[runStart..<end]), as: UTF8.self)) }
            }
            func shown(_ scalar: UInt32, width: Int) {
                flush(i)
                out.append("\\u{")
                out.append(String(scalar, radix: 16, uppercase: true))
                out.append("}")
                i += width
                runStart = i
            }
            func replaced(_ replacement: String, width: Int = 1) {
                flush(i)
                out.append(replacement)
                i += width
                runStart = i
            }
            while i < n {
                let b = buf[i]
                switch b {
                case 0x26: replaced("&amp;")
                case 0x3C: replaced("&lt;")
                case 0x3E: replaced("&gt;")
                case 0x22: replaced("&quot;")
                case 0x27: replaced("&#39;")
                case 0x09: if mode == .body { i += 1 } else { replaced(" ") }
                case 0x0A: if mode == .body { i += 1 } else { replaced(" ") }
                case 0x0D:
                    // CRLF and a lone CR end one line in the body.
                    if mode == .body { replaced("\n", width: i + 1 < n && buf[i + 1] == 0x0A ? 2 : 1) } else { replaced(" ") }
                case 0x00...0x1F, 0x7F:
                    shown(UInt32(b), width: 1)
                case 0xC2 where i + 1 < n && (0x80...0x9F).contains(buf[i + 1]):
                    shown(UInt32(buf[i + 1]), width: 2) // U+0080...U+009F
                case 0xE2 where i + 2 < n && ((buf[i + 1] == 0x80 && (0xAA...0xAE).contains(buf[i + 2]))
                                              || (buf[i + 1] == 0x81 && (0xA6...0xA9).contains(buf[i + 2]))):
                    // U+202A...U+202E (0xE2 0x80 0xAA...0xAE), U+2066...U+2069 (0xE2 0x81 0xA6...0xA9)
                    shown(0x2000 | (UInt32(buf[i + 1] & 0x3F) << 6) | UInt32(buf[i + 2] & 0x3F), width: 3)
                default:
                    i += 1
                }
            }
            flush(n)
        }
    }

    /// Escaped as `escape` would, as a new string (for small values).
    static func escaped(_ text: String, _ mode: TextMode = .inline) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        escape(text, mode, into: &out)
        return out
    }

    /// Appends `text` escaped and isolated in `<bdi>`: a right-to-left name does not reorder the
    /// text around it.
    static func bdi(_ text: String, into out: inout String) {
        out.append("<bdi>")
        escape(text, .inline, into: &out)
        out.append("</bdi>")
    }

    /// Whether any UTF-8 byte of `text` may need escaping: markup characters, controls, DEL, the
    /// lead byte of C1 controls (0xC2) or of the bidi controls (0xE2). Most strings have none and
    /// are appended as they are.
    @inline(__always)
    static func needsEscaping(_ text: String) -> Bool {
        for b in text.utf8 {
            switch b {
            case 0x00...0x1F, 0x22, 0x26, 0x27, 0x3C, 0x3E, 0x7F, 0xC2, 0xE2: return true
            default: continue
            }
        }
        return false
    }

    // MARK: Links

    /// A relative URL from the page at `from` to the file at `to`, both paths relative to the
    /// export's root, `/`-separated. Each segment is percent-encoded (everything but RFC 3986's
    /// unreserved characters), so names with spaces, `#`, `?`, `%`, `:` or any Unicode stay one
    /// path; the result starts with `../` or `./`, never with a scheme. It holds only unreserved
    /// characters, `/` and `%`: nothing HTML needs escaped in a quoted attribute.
    static func relativeLink(from: String, to: String) -> String {
        plainRelativeLink(from: from, to: to) ?? segmentRelativeLink(from: from, to: to)
    }

    /// `relativeLink` for the common case of two plain paths (only unreserved characters and
    /// single slashes, no segment starting with `.`): one pass over the bytes, nothing to encode.
    /// Nil for anything else.
    static func plainRelativeLink(from: String, to: String) -> String? {
        var from = from, to = to
        return from.withUTF8 { f in to.withUTF8 { t in plainRelativeLink(f, t) } }
    }

    private static func plainRelativeLink(_ f: UnsafeBufferPointer<UInt8>, _ t: UnsafeBufferPointer<UInt8>) -> String? {
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        // Not empty, no leading or trailing slash, no "//", no segment starting with a dot.
        func plain(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
            var previous = slash
            for b in path {
                if b == slash {
                    if previous == slash { return false }
                } else if !isUnreserved(b) || (b == dot && previous == slash) {
                    return false
                }
                previous = b
            }
            return previous != slash
        }
        guard plain(f), plain(t) else { return nil }
        // The common directories end at the last slash of the common prefix.
        var i = 0, restStart = 0
        while i < f.count, i < t.count, f[i] == t[i] {
            if f[i] == slash { restStart = i + 1 }
            i += 1
        }
        // Directories of `from` below the common ones: its slashes after them.
        var ups = 0
        for j in restStart..<f.count where f[j] == slash { ups += 1 }
        var out = ""
        out.reserveCapacity(t.count - restStart + 3 * ups + 2)
        if ups == 0 { out.append("./") }
        for _ in 0..<ups { out.append("../") }
        out.append(String(decoding: UnsafeBufferPointer(rebasing: t[restStart...]), as: UTF8.self))
        return out
    }

    /// `relativeLink` for any path: segments normalised, compared and percent-encoded one by one.
    static func segmentRelativeLink(from: String, to: String) -> String {
        let fromDir = normalizedSegments(from).dropLast()
        let target = normalizedSegments(to)
        var common = 0
        // A target's last segment is a file: only directories are shared.
        while common < fromDir.count, common < target.count - 1, fromDir[fromDir.startIndex + common] == target[common] {
            common += 1
        }
        var out = ""
        out.reserveCapacity(to.utf8.count + 3 * (fromDir.count - common) + 8)
        let ups = fromDir.count - common
        if ups == 0 { out.append("./") }
        for _ in 0..<ups { out.append("../") }
        var first = true
        for segment in target[common...] {
            if !first { out.append("/") }
            first = false
            percentEncode(segment, into: &out)
        }
        return out
    }

    /// Appends `href="…"` for a link from the page at `from` to the file at `to`.
    static func href(from: String, to: String, into out: inout String) {
        out.append("href=\"")
        out.append(relativeLink(from: from, to: to))
        out.append("\"")
    }

    /// The path's segments with empty ones and `.` dropped and `..` resolved, never above the root.
    static func normalizedSegments(_ path: String) -> [Substring] {
        var out: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(segment)
        }
        return out
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Appends one path segment, keeping only `A-Z a-z 0-9 - . _ ~` as they are.
    static func percentEncode(_ segment: Substring, into out: inout String) {
        var safe = true
        for b in segment.utf8 where !isUnreserved(b) { safe = false; break }
        if safe { out.append(contentsOf: segment); return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(segment.utf8.count * 3)
        for b in segment.utf8 {
            if isUnreserved(b) {
                bytes.append(b)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigits[Int(b >> 4)])
                bytes.append(hexDigits[Int(b & 0x0F)])
            }
        }
        out.append(String(decoding: bytes, as: UTF8.self))
    }

    @inline(__always)
    static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    // MARK: Dates and numbers

    /// `2024-02-05 14:14` (UTC), or `2024-02-05 14:14:00` with `seconds`. Computed from the
    /// epoch with integer arithmetic (Hinnant's civil-from-days): no formatter, no locale.
    static func utc(_ date: Date, seconds: Bool = false, into out: inout String) {
        let t = Int64(date.timeIntervalSince1970.rounded(.down))
        var days = t / 86_400
        var secs = t % 86_400
        if secs < 0 { secs += 86_400; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        pad(Int(year), 4, into: &out)
        out.append("-")
        pad(Int(month), 2, into: &out)
        out.append("-")
        pad(Int(day), 2, into: &out)
        out.append(" ")
        pad(Int(secs / 3600), 2, into: &out)
        out.append(":")
        pad(Int(secs % 3600 / 60), 2, into: &out)
        if seconds {
            out.append(":")
            pad(Int(secs % 60), 2, into: &out)
        }
    }

    static func utc(_ date: Date, seconds: Bool = false) -> String {
        var out = ""
        utc(date, seconds: seconds, into: &out)
        return out
    }

    @inline(__always)
    static func pad(_ n: Int, _ width: Int, into out: inout String) {
        let s = String(n)
        if s.utf8.count < width { out.append(String(repeating: "0", count: width - s.utf8.count)) }
        out.append(s)
    }

    /// `50,000`.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = n < 0 ? "-" : ""
        let count = digits.utf8.count
        for (i, c) in digits.enumerated() {
            if i > 0, (count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    /// `12.3 KB` (powers of 1000, as file managers show them).
    static func humanSize(_ bytes: Int) -> String {
        if bytes < 1000 { return "\(bytes) bytes" }
        let units = ["KB", "MB", "GB", "TB"]
        var value = Double(bytes) / 1000
        var unit = 0
        while value >= 999.95, unit < units.count - 1 { value /= 1000; unit += 1 }
        return "\(oneDecimal(value)) \(units[unit])"
    }

    /// A number with at most one decimal, without trailing `.0` (SVG coordinates).
    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let whole = tenths / 10, frac = abs(tenths % 10)
        if frac == 0 { return String(whole) }
        return (tenths < 0 && whole == 0 ? "-" : "") + "\(whole).\(frac)"
    }

    // MARK: Page skeleton

    /// The document's start: doctype, `lang`, charset, a policy that forbids every script and
    /// fetch (a second line of defence behind escaping), the title and the stylesheet.
    static func pageStart(title: String, into out: inout String) {
        out.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        out.append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n")
        out.append("<meta name=\"referrer\" content=\"no-referrer\">\n")
        out.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        out.append("<meta name=\"generator\" content=\"Dossier\">\n<title>")
        escape(title, .inline, into: &out)
        out.append("</title>\n<style>\n")
        out.append(stylesheet)
        out.append("</style>\n</head>\n<body>\n")
    }

    static func pageEnd(into out: inout String) {
        out.append("</body>\n</html>\n")
    }

    /// One stylesheet for every page of the site (inline: the site loads nothing).
    static let stylesheet = """
    :root{color-scheme:light;--ink:#1c2230;--muted:#5d6675;--rule:#dfe2e7;--rule-strong:#b4bac4;--soft:#f6f7f9;--accent:#1f3a5f;--mark:#fbf3df}
    *{box-sizing:border-box}
    html{-webkit-text-size-adjust:100%}
    body{margin:0;background:#fff;color:var(--ink);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
    main{max-width:1140px;margin:0 auto;padding:28px 44px 72px}
    a{color:var(--accent);text-decoration:underline;text-decoration-color:#a9b7c9;text-underline-offset:2px}
    a:hover{text-decoration-color:currentColor}
    a:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
    nav.top{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;font-size:.85rem;padding-bottom:.75rem;margin-bottom:1.75rem;border-bottom:1px solid var(--rule)}
    nav.top .here{color:var(--muted)}
    .kicker{margin:0 0 .35rem;color:var(--muted);font-size:.78rem;letter-spacing:.08em;text-transform:uppercase}
    .context{margin:0 0 .35rem;color:var(--muted);font-size:.85rem}
    .nowrap{white-space:nowrap}
    h1{font-size:1.65rem;line-height:1.25;font-weight:600;letter-spacing:-.01em;margin:0 0 .4rem;overflow-wrap:anywhere}
    h2{font-size:1.08rem;font-weight:600;margin:2.6rem 0 .9rem;padding-bottom:.4rem;border-bottom:1px solid var(--rule-strong)}
    h3{font-size:.98rem;font-weight:600;margin:0;overflow-wrap:anywhere}
    p{margin:.5rem 0}
    .sub{color:var(--muted);margin:0}
    .path{display:block;color:var(--muted);font-size:.8em}
    .note{color:var(--muted);font-size:.88rem}
    code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace;font-size:.9em}
    .hash{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace;font-size:.82em;color:#3a4250;overflow-wrap:anywhere;word-break:break-all}
    table{border-collapse:collapse;width:100%;font-size:.88rem}
    th,td{text-align:left;vertical-align:top;padding:.42rem .65rem;border-bottom:1px solid var(--rule);overflow-wrap:anywhere}
    thead th{font-size:.74rem;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;border-bottom:1px solid var(--rule-strong);white-space:nowrap}
    tbody th{font-weight:500}
    .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
    .date{white-space:nowrap;font-variant-numeric:tabular-nums}
    table.fields th{width:11rem;color:var(--muted);font-weight:500}
    table.list{table-layout:fixed}
    .w-date{width:9.6rem}.w-from{width:24%}.w-dir{width:6.6rem}.w-ev{width:7.8rem}.w-att{width:4.2rem}
    .w-type{width:11rem}.w-size{width:7rem}.w-hash{width:18rem}.w-cn{width:11.5rem}
    td.cn{white-space:nowrap}
    tr.current td,tr.current th{background:var(--mark)}
    tr.deciding td{background:var(--mark)}
    .tag{display:inline-block;font-size:.72rem;letter-spacing:.04em;text-transform:uppercase;color:var(--muted);border:1px solid var(--rule-strong);border-radius:3px;padding:0 .3rem;line-height:1.5;white-space:nowrap}
    .stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:1px;background:var(--rule);border:1px solid var(--rule);margin:1.6rem 0 0}
    .stats div{background:#fff;padding:.85rem 1.1rem}
    .stats dt{font-size:.74rem;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
    .stats dd{margin:.15rem 0 0;font-size:1.35rem;font-weight:600;font-variant-numeric:tabular-nums}
    .stats dd.range{font-size:1rem;padding-top:.3rem}
    .chart{margin:.5rem 0 0}
    .chart svg{display:block;width:100%;height:auto;max-height:320px}
    details{margin:.6rem 0 0;font-size:.88rem}
    summary{cursor:pointer;color:var(--accent)}
    section.thread{margin:0 0 1.9rem;break-inside:avoid-page}
    section.thread header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.2rem 1rem;margin-bottom:.35rem}
    section.thread header .note{margin:0}
    pre.body{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;word-break:normal;tab-size:4;background:var(--soft);border:1px solid var(--rule);border-radius:4px;padding:1.1rem 1.3rem;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.84rem;line-height:1.55}
    footer{margin-top:3.5rem;padding-top:.8rem;border-top:1px solid var(--rule);color:var(--muted);font-size:.8rem}
    @media (max-width:700px){main{padding:18px 16px 48px}table.fields th{width:7.5rem}}
    @media print{
    @page{margin:16mm 14mm}
    *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
    html{font-size:9.5pt}
    body{font-size:1rem;line-height:1.4}
    main{max-width:none;padding:0}
    nav.top,details{display:none}
    a{color:inherit;text-decoration:none}
    h2{break-after:avoid}
    h3,section.thread header{break-after:avoid}
    thead{display:table-header-group}
    tr{break-inside:avoid}
    pre.body{background:none;border:none;padding:0;font-size:8.5pt}
    .stats div{padding:.5rem .8rem}
    .w-type{width:7rem}.w-size{width:5.2rem}.w-hash{width:12.5rem}.w-cn{width:8.5rem}
    td.cn,thead th{white-space:normal}
    }

    """

    // MARK: Monthly chart

    /// An inline SVG of mail per month: one stacked bar group per month (inbound at the bottom,
    /// outbound, then other), y axis with a few round ticks, x labels thinned so that at most
    /// about 16 show (every month, every 2, 3 or 6, then years), a `<title>` tooltip per month and
    /// a legend. Colours differ in lightness too, so the chart still reads in black and white.
    static func monthlyChart(_ months: [ExportOverview.MonthCount], into out: inout String) {
        let width = 960.0, height = 280.0
        let left = 52.0, right = 12.0, top = 34.0, bottom = 34.0
        let plotW = width - left - right, plotH = height - top - bottom
        let n = months.count
        let maxTotal = months.reduce(0) { max($0, $1.inbound + $1.outbound + $1.other) }
        let (step, axisTop) = yAxis(maxTotal)
        let colours = (inbound: "#1f3a5f", outbound: "#d08838", other: "#bcc2cb")

        out.reserveCapacity(out.utf8.count + 600 + n * 420)
        out.append("<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif\" font-size=\"11\">\n")
        out.append("<title id=\"chart-title\">Messages per month</title>\n<desc id=\"chart-desc\">")
        if let first = months.first, let last = months.last {
            out.append("Stacked bars of inbound, outbound and other messages for each month from ")
            escape(first.month, into: &out)
            out.append(" to ")
            escape(last.month, into: &out)
            out.append("; the most in one month: \(maxTotal).")
        } else {
            out.append("No messages.")
        }
        out.append("</desc>\n")

        // Legend, top left above the plot.
        var lx = left
        for (label, colour) in [("Inbound", colours.inbound), ("Outbound", colours.outbound), ("Other", colours.other)] {
            out.append("<rect x=\"\(oneDecimal(lx))\" y=\"8\" width=\"11\" height=\"11\" fill=\"\(colour)\"/>")
            out.append("<text x=\"\(oneDecimal(lx + 16))\" y=\"17.5\" fill=\"#1c2230\">\(label)</text>\n")
            lx += 16 + Double(label.count) * 6.6 + 18
        }

        // Y axis: gridlines and labelled ticks.
        out.append("<g class=\"y-axis\" fill=\"#5d6675\" text-anchor=\"end\">\n")
        var tick = 0
        while tick <= axisTop {
            let y = top + plotH - Double(tick) / Double(axisTop) * plotH
            out.append("<line x1=\"\(oneDecimal(left))\" x2=\"\(oneDecimal(width - right))\" y1=\"\(oneDecimal(y))\" y2=\"\(oneDecimal(y))\" stroke=\"\(tick == 0 ? "#8a919c" : "#e3e6ea")\" stroke-width=\"1\"/>")
            out.append("<text x=\"\(oneDecimal(left - 8))\" y=\"\(oneDecimal(y + 3.8))\">\(grouped(tick))</text>\n")
            tick += step
        }
        out.append("</g>\n")

        guard n > 0 else {
            out.append("<text x=\"\(oneDecimal(left + plotW / 2))\" y=\"\(oneDecimal(top + plotH / 2))\" text-anchor=\"middle\" fill=\"#5d6675\">No messages</text>\n</svg>")
            return
        }

        let slot = plotW / Double(n)
        let barW = min(slot * 0.74, 44)
        let labelEvery = xLabelStep(n, plotWidth: plotW)
        let byYear = labelEvery >= 12
        let baseline = top + plotH
        let firstIndex = monthIndex(months[0].month)

        out.append("<g class=\"bars\">\n")
        for (i, m) in months.enumerated() {
            let x = left + Double(i) * slot + (slot - barW) / 2
            let total = m.inbound + m.outbound + m.other
            out.append("<g class=\"month\"><title>")
            escape(m.month, into: &out)
            out.append(": \(grouped(total)) message\(total == 1 ? "" : "s") (\(grouped(m.inbound)) inbound, \(grouped(m.outbound)) outbound, \(grouped(m.other)) other)</title>")
            // The whole column answers the pointer, so months with little or no mail have a tooltip too.
            out.append("<rect x=\"\(oneDecimal(left + Double(i) * slot))\" y=\"\(oneDecimal(top))\" width=\"\(oneDecimal(slot))\" height=\"\(oneDecimal(plotH))\" fill=\"#ffffff\" fill-opacity=\"0\"/>")
            var y = baseline
            for (count, colour) in [(m.inbound, colours.inbound), (m.outbound, colours.outbound), (m.other, colours.other)] where count > 0 {
                let h = Double(count) / Double(axisTop) * plotH
                y -= h
                out.append("<rect x=\"\(oneDecimal(x))\" y=\"\(oneDecimal(y))\" width=\"\(oneDecimal(barW))\" height=\"\(oneDecimal(h))\" fill=\"\(colour)\"/>")
            }
            out.append("</g>\n")
        }
        out.append("</g>\n<g class=\"x-axis\" fill=\"#5d6675\" text-anchor=\"middle\">\n")
        for (i, m) in months.enumerated() {
            let index = firstIndex.map { $0 + i } ?? i
            let labelled = n == 1 || index % labelEvery == 0
            guard labelled else { continue }
            let cx = left + Double(i) * slot + slot / 2
            out.append("<line x1=\"\(oneDecimal(cx))\" x2=\"\(oneDecimal(cx))\" y1=\"\(oneDecimal(baseline))\" y2=\"\(oneDecimal(baseline + 4))\" stroke=\"#8a919c\"/>")
            out.append("<text class=\"xl\" x=\"\(oneDecimal(cx))\" y=\"\(oneDecimal(baseline + 17))\">")
            escape(byYear ? String(m.month.prefix(4)) : m.month, into: &out)
            out.append("</text>\n")
        }
        out.append("</g>\n</svg>")
    }

    /// A round tick step (1, 2 or 5 times a power of ten) giving about four intervals, and the
    /// axis top: the first multiple of the step at or above `maxValue`.
    static func yAxis(_ maxValue: Int) -> (step: Int, top: Int) {
        guard maxValue > 0 else { return (1, 1) }
        let raw = Double(maxValue) / 4
        let magnitude = pow(10, floor(log10(max(raw, 1))))
        var step = Int(magnitude)
        for factor in [1.0, 2.0, 5.0, 10.0] where magnitude * factor >= raw {
            step = Int(magnitude * factor)
            break
        }
        step = max(step, 1)
        let top = (maxValue + step - 1) / step * step
        return (step, top)
    }

    /// Label every month, or every 2, 3, 6 months, or each year (at January) when months are many.
    static func xLabelStep(_ count: Int, plotWidth: Double) -> Int {
        let maxLabels = max(1, Int(plotWidth / 58))
        for step in [1, 2, 3, 6, 12, 24, 60, 120] where (count + step - 1) / step <= maxLabels {
            return step
        }
        return 120
    }

    /// `2024-03` → months since year 0 (so that `% 12 == 0` is January), or nil.
    static func monthIndex(_ month: String) -> Int? {
        let parts = month.split(separator: "-")
        guard parts.count == 2, let y = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m) else { return nil }
        return y * 12 + (m - 1)
    }
}
