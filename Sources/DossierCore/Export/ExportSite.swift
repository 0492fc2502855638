import Foundation

/// The export's static HTML site: `index.html` at the root and one page per message under
/// `pages/`, for a compliance officer, an auditor or opposing counsel who opens the export from
/// the file system.
///
/// A pure renderer: it takes the export's model (`ExportOverview`, `ExportedMessage`) and returns
/// HTML; `ExportWriter` writes the files. The pages need no server and run nothing: no script, no
/// event handler, nothing fetched (inline CSS and inline SVG only, and a Content-Security-Policy
/// that forbids the rest), and they print.
///
/// Every string from a message or the archive is untrusted: it is escaped (`& < > " '`), its
/// control characters and bidirectional overrides are shown as `\u{..}` rather than obeyed, and
/// names and subjects are isolated in `<bdi>`. A message's HTML is never rendered: the page shows
/// its extracted text in a wrapped `<pre>`. Every link is a relative path the exporter computed
/// (`relativeLink(from:to:)`), never a URL a message contained.
public enum ExportSite {
    /// The index's path, relative to the export's root.
    public static let indexPath = "index.html"

    // MARK: - Index

    /// `index.html`: who the export is for and how it was made, its counts, what was left out,
    /// links to the export's files, a chart of mail per month, then every thread with its messages.
    ///
    /// Linear in the number of messages (one reserved buffer): 50k messages render in a fraction
    /// of a second.
    public static func indexPage(_ overview: ExportOverview) -> String {
        let messageTotal = overview.threads.reduce(0) { $0 + $1.count }
        var out = ""
        out.reserveCapacity(24_000 + messageTotal * 520 + overview.months.count * 450)
        out.append(indexHead(overview))
        for (t, thread) in overview.threads.enumerated() { out.append(indexThread(thread, number: t)) }
        out.append(indexTail(overview))
        return out
    }

    /// `indexPage` in three parts, for a writer that streams the index instead of holding every
    /// message's line: the head (everything before the first thread; `overview.threads` is not
    /// read, `threadCount` is), each thread's section in order, and the tail.
    public static func indexHead(_ overview: ExportOverview) -> String {
        let from = indexPath
        var out = ""
        out.reserveCapacity(24_000 + overview.months.count * 450)

        ExportHTML.pageStart(title: "\(recordTitle(overview)) · mail export", into: &out)
        out.append("<main>\n<nav class=\"top\" aria-label=\"Sections\"><a href=\"#chart\">Mail per month</a><a href=\"#files\">Files</a><a href=\"#made\">How it was made</a><a href=\"#left-out\">Left out</a><a href=\"#threads\">Threads</a></nav>\n")

        // Title and counts.
        out.append("<header>\n<p class=\"kicker\">Client mail export</p>\n<h1>")
        recordHeading(overview, into: &out)
        out.append("</h1>\n<p class=\"sub\">Made ")
        ExportHTML.utc(overview.createdAt, seconds: true, into: &out)
        out.append(" UTC by Dossier</p>\n<dl class=\"stats\">\n")
        stat("Messages", ExportHTML.grouped(overview.messageCount), into: &out)
        stat("Attachments", ExportHTML.grouped(overview.attachmentCount), into: &out)
        stat("Threads", ExportHTML.grouped(overview.threadCount), into: &out)
        out.append("<div><dt>Period (UTC)</dt><dd class=\"range\">")
        period(overview.first, overview.last, into: &out)
        out.append("</dd></div>\n</dl>\n</header>\n")

        // Chart.
        out.append("<h2 id=\"chart\">Mail per month</h2>\n")
        if overview.months.isEmpty {
            out.append("<p class=\"note\">No dated messages.</p>\n")
        } else {
            out.append("<figure class=\"chart\" style=\"margin:0\">\n")
            ExportHTML.monthlyChart(overview.months, into: &out)
            out.append("\n</figure>\n<details><summary>The same counts as a table</summary>\n<table>\n<thead><tr><th scope=\"col\">Month</th><th scope=\"col\" class=\"num\">Inbound</th><th scope=\"col\" class=\"num\">Outbound</th><th scope=\"col\" class=\"num\">Other</th><th scope=\"col\" class=\"num\">Total</th></tr></thead>\n<tbody>\n")
            for m in overview.months {
                out.append("<tr><th scope=\"row\">")
                ExportHTML.escape(m.month, into: &out)
                out.append("</th><td class=\"num\">\(ExportHTML.grouped(m.inbound))</td><td class=\"num\">\(ExportHTML.grouped(m.outbound))</td><td class=\"num\">\(ExportHTML.grouped(m.other))</td><td class=\"num\">\(ExportHTML.grouped(m.inbound + m.outbound + m.other))</td></tr>\n")
            }
            out.append("</tbody>\n</table>\n</details>\n")
        }

        // Files.
        out.append("<h2 id=\"files\">Files</h2>\n<table>\n<thead><tr><th scope=\"col\" style=\"width:14rem\">File</th><th scope=\"col\">What it holds</th></tr></thead>\n<tbody>\n")
        for file in overview.files {
            if file.hasSuffix("/") {
                // A folder: described, not linked (a folder's URL is a listing, or nothing, depending on the browser).
                out.append("<tr><td><code>")
                ExportHTML.escape(file, into: &out)
                out.append("</code></td><td>")
            } else {
                out.append("<tr><td><a ")
                ExportHTML.href(from: from, to: file, into: &out)
                out.append("><code>")
                ExportHTML.escape(file, into: &out)
                out.append("</code></a></td><td>")
            }
            out.append(fileDescriptions[file] ?? "")
            out.append("</td></tr>\n")
        }
        out.append("<tr><td><code>pages/</code></td><td>One page per message: headers, filing evidence, attachments, thread and text</td></tr>\n")
        out.append("</tbody>\n</table>\n")

        // Parameters.
        out.append("<h2 id=\"made\">How this export was made</h2>\n<table class=\"fields\">\n<tbody>\n")
        out.append("<tr><th scope=\"row\">Record</th><td><code>")
        ExportHTML.escape(overview.record.description, into: &out)
        out.append("</code></td></tr>\n<tr><th scope=\"row\">Name in the CRM</th><td>")
        if let name = overview.name, !name.isEmpty { ExportHTML.bdi(name, into: &out) } else { out.append("<span class=\"note\">none</span>") }
        out.append("</td></tr>\n<tr><th scope=\"row\">Also included</th><td>")
        if overview.includedRecords.isEmpty {
            out.append("<span class=\"note\">no other records</span>")
        } else {
            for (i, r) in overview.includedRecords.enumerated() {
                if i > 0 { out.append(", ") }
                out.append("<code>")
                ExportHTML.escape(r.description, into: &out)
                out.append("</code>")
            }
        }
        out.append("</td></tr>\n<tr><th scope=\"row\">Made</th><td class=\"date\">")
        ExportHTML.utc(overview.createdAt, seconds: true, into: &out)
        out.append(" UTC</td></tr>\n<tr><th scope=\"row\">Options</th><td>")
        if overview.parameters.isEmpty {
            out.append("<span class=\"note\">none (the defaults)</span>")
        } else {
            out.append("<code>")
            for (i, p) in overview.parameters.enumerated() {
                if i > 0 { out.append(" ") }
                ExportHTML.escape(p, into: &out)
            }
            out.append("</code>")
        }
        out.append("</td></tr>\n</tbody>\n</table>\n")

        // Left out.
        out.append("<h2 id=\"left-out\">Left out</h2>\n")
        let leftOut = overview.leftOut.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        if leftOut.isEmpty {
            out.append("<p>Nothing was left out.</p>\n")
        } else {
            let total = leftOut.reduce(0) { $0 + $1.value }
            out.append("<p>\(ExportHTML.grouped(total)) message\(total == 1 ? " was" : "s were") left out on purpose")
            if overview.files.contains(leftOutFile) {
                out.append("; each is listed with its reason in <a ")
                ExportHTML.href(from: from, to: leftOutFile, into: &out)
                out.append("><code>left-out.csv</code></a>")
            }
            out.append(".</p>\n<table style=\"max-width:34rem\">\n<thead><tr><th scope=\"col\">Reason</th><th scope=\"col\" class=\"num\">Messages</th></tr></thead>\n<tbody>\n")
            for (reason, count) in leftOut {
                out.append("<tr><td>")
                ExportHTML.bdi(reason, into: &out)
                out.append("</td><td class=\"num\">\(ExportHTML.grouped(count))</td></tr>\n")
            }
            out.append("</tbody>\n</table>\n")
        }

        // Threads.
        out.append("<h2 id=\"threads\">Threads</h2>\n")
        if overview.threadCount == 0 {
            out.append("<p class=\"note\">No messages.</p>\n")
        }
        return out
    }

    /// One thread's section of the index (`number` counts from 0, in the index's order).
    public static func indexThread(_ thread: [ExportedMessageSummary], number t: Int) -> String {
        let from = indexPath
        var out = ""
        out.reserveCapacity(600 + thread.count * 520)
        do {
            let anchor = threadAnchor(t)
            out.append("<section class=\"thread\" id=\"\(anchor)\" aria-labelledby=\"\(anchor)-h\">\n<header><h3 id=\"\(anchor)-h\">")
            subject(threadSubject(thread), into: &out)
            out.append("</h3><p class=\"note\">\(ExportHTML.grouped(thread.count)) message\(thread.count == 1 ? "" : "s")")
            let dates = thread.compactMap(\.date)
            if let a = dates.min(), let b = dates.max() {
                out.append(" · ")
                period(a, b, into: &out)
            }
            out.append("</p></header>\n")
            messageList(thread, from: from, current: nil, into: &out)
            out.append("</section>\n")
        }
        return out
    }

    /// The index's end, after the last thread.
    public static func indexTail(_ overview: ExportOverview) -> String {
        var out = ""
        footer(overview, into: &out)
        out.append("</main>\n")
        ExportHTML.pageEnd(into: &out)
        return out
    }

    // MARK: - Message page

    /// The page at `message.pagePath`: navigation, the header fields, the filing evidence, the
    /// attachments, the original `.eml` with its SHA-256, the thread with this message marked,
    /// then the message's text (escaped, never its HTML; in the metadata scope, a note that the
    /// body is not part of the export).
    ///
    /// - Parameters:
    ///   - thread: the message's thread as the index lists it (`overview.threads[message.thread]`).
    ///   - overview: the export's overview, for the record and the thread's place in the index.
    ///   - previous: the message before this one in the export's date order (see `dateOrder`), if any.
    ///   - next: the message after this one in that order, if any.
    public static func messagePage(_ message: ExportedMessage, thread: [ExportedMessageSummary], overview: ExportOverview,
                                   previous: ExportedMessageSummary? = nil, next: ExportedMessageSummary? = nil) -> String {
        let from = message.pagePath
        var out = ""
        out.reserveCapacity(16_000 + (message.text?.utf8.count ?? 0) * 11 / 10 + thread.count * 520 + message.attachments.count * 600)

        let subjectText = message.subject.flatMap { $0.isEmpty ? nil : $0 }
        ExportHTML.pageStart(title: "\(subjectText ?? "(no subject)") · \(message.controlNumber)", into: &out)

        // Navigation.
        out.append("<main>\n<nav class=\"top\" aria-label=\"Export\">")
        link(to: indexPath, from: from, text: "Export index", into: &out)
        if message.thread >= 0 && message.thread < overview.threadCount {
            out.append("<a href=\"")
            out.append(relativeLink(from: from, to: indexPath))
            out.append("#\(threadAnchor(message.thread))\">This thread in the index</a>")
        }
        if let previous {
            out.append("<a rel=\"prev\" href=\"")
            out.append(relativeLink(from: from, to: previous.pagePath))
            out.append("\">← Previous message</a>")
        }
        if let next {
            out.append("<a rel=\"next\" href=\"")
            out.append(relativeLink(from: from, to: next.pagePath))
            out.append("\">Next message →</a>")
        }
        if let position = thread.firstIndex(where: { $0.pagePath == message.pagePath }) {
            if position > 0 {
                out.append("<a ")
                ExportHTML.href(from: from, to: thread[position - 1].pagePath, into: &out)
                out.append(">↑ Earlier in thread</a>")
            }
            if position + 1 < thread.count {
                out.append("<a ")
                ExportHTML.href(from: from, to: thread[position + 1].pagePath, into: &out)
                out.append(">↓ Later in thread</a>")
            }
        }
        out.append("</nav>\n")

        // Title.
        out.append("<header>\n<p class=\"context\">")
        ExportHTML.escape(message.controlNumber, into: &out)
        out.append(" · ")
        recordHeading(overview, into: &out)
        out.append("</p>\n<h1>")
        subject(subjectText, into: &out)
        out.append("</h1>\n<p class=\"sub\">")
        if let sender = message.from.first {
            address(sender, into: &out)
            out.append(" · ")
        }
        if let date = message.date {
            ExportHTML.utc(date, seconds: true, into: &out)
            out.append(" UTC")
        } else {
            out.append("undated")
        }
        if let direction = message.direction {
            out.append(" · ")
            ExportHTML.escape(direction, into: &out)
        }
        out.append("</p>\n</header>\n")

        // Header fields.
        out.append("<h2 id=\"header\">Header</h2>\n<table class=\"fields\">\n<tbody>\n")
        addressRow("From", message.from, into: &out)
        addressRow("To", message.to, into: &out)
        addressRow("Cc", message.cc, into: &out)
        addressRow("Bcc", message.bcc, into: &out)
        out.append("<tr><th scope=\"row\">Date</th><td class=\"date\">")
        if let date = message.date {
            ExportHTML.utc(date, seconds: true, into: &out)
            out.append(" UTC")
        } else {
            out.append("<span class=\"note\">none</span>")
        }
        out.append("</td></tr>\n<tr><th scope=\"row\">Subject</th><td>")
        subject(subjectText, into: &out)
        out.append("</td></tr>\n<tr><th scope=\"row\">Message-ID</th><td>")
        if let id = message.messageID, !id.isEmpty {
            out.append("<code>&lt;")
            ExportHTML.escape(id, into: &out)
            out.append("&gt;</code>")
        } else {
            out.append("<span class=\"note\">none</span>")
        }
        out.append("</td></tr>\n")
        listRow("Mailboxes", message.mailboxes, into: &out)
        listRow("Folders", message.folders, into: &out)
        out.append("<tr><th scope=\"row\">Direction</th><td>")
        if let direction = message.direction { ExportHTML.escape(direction, into: &out) } else { out.append("<span class=\"note\">unknown</span>") }
        out.append("</td></tr>\n</tbody>\n</table>\n")

        // Filing evidence.
        out.append("<h2 id=\"evidence\">Filing evidence</h2>\n")
        if message.matches.isEmpty {
            out.append("<p class=\"note\">No rule is recorded for this message.</p>\n")
        } else {
            let deciding = message.evidence
            out.append("<p class=\"note\">Every rule that filed this message to a record of this export; the deciding (strongest) rule is marked.</p>\n")
            out.append("<table>\n<thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Record</th><th scope=\"col\">Matched</th><th scope=\"col\">Via</th></tr></thead>\n<tbody>\n")
            for match in message.matches {
                let isDeciding = match.rule == deciding
                out.append(isDeciding ? "<tr class=\"deciding\"><td>" : "<tr><td>")
                out.append(ruleLabel(match.rule))
                if isDeciding { out.append(" <span class=\"tag\">deciding</span>") }
                out.append("</td><td><code>")
                ExportHTML.escape(match.record.description, into: &out)
                out.append("</code>")
                if match.record == overview.record, let name = overview.name, !name.isEmpty {
                    out.append(" ")
                    ExportHTML.bdi(name, into: &out)
                }
                out.append("</td><td><code>")
                ExportHTML.bdi(match.matched, into: &out)
                out.append("</code></td><td>")
                if let via = match.via {
                    out.append("<code>")
                    ExportHTML.escape(via.description, into: &out)
                    out.append("</code>")
                } else {
                    out.append("<span class=\"note\">—</span>")
                }
                out.append("</td></tr>\n")
            }
            out.append("</tbody>\n</table>\n")
        }

        // Attachments.
        out.append("<h2 id=\"attachments\">Attachments</h2>\n")
        if message.attachments.isEmpty {
            out.append("<p class=\"note\">None.</p>\n")
        } else {
            out.append("<table class=\"list\">\n<thead><tr><th scope=\"col\">Name</th><th scope=\"col\" class=\"w-type\">Type</th><th scope=\"col\" class=\"num w-size\">Bytes</th><th scope=\"col\" class=\"w-hash\">SHA-256</th><th scope=\"col\" class=\"w-cn\">Control number</th></tr></thead>\n<tbody>\n")
            for attachment in message.attachments {
                out.append("<tr><td>")
                let name = attachment.name.flatMap { $0.isEmpty ? nil : $0 }
                if let path = attachment.path {
                    out.append("<a class=\"file\" href=\"")
                    out.append(relativeLink(from: from, to: path))
                    out.append("\">")
                    if let name { ExportHTML.bdi(name, into: &out) } else { out.append("(no name)") }
                    out.append("</a><code class=\"path\">")
                    ExportHTML.bdi(path, into: &out)
                    out.append("</code>")
                } else {
                    if let name { ExportHTML.bdi(name, into: &out) } else { out.append("(no name)") }
                    out.append("<br><span class=\"note\">not exported in this scope</span>")
                }
                out.append("</td><td><code>")
                ExportHTML.escape(attachment.contentType, into: &out)
                out.append("</code></td><td class=\"num\">\(ExportHTML.grouped(attachment.size))</td><td class=\"hash\">")
                ExportHTML.escape(attachment.sha256, into: &out)
                out.append("</td><td class=\"mono cn\">")
                ExportHTML.escape(attachment.controlNumber, into: &out)
                out.append("</td></tr>\n")
            }
            out.append("</tbody>\n</table>\n")
        }

        // Original.
        out.append("<h2 id=\"original\">Original</h2>\n<table class=\"fields\">\n<tbody>\n<tr><th scope=\"row\">File</th><td>")
        if let eml = message.emlPath {
            out.append("<a class=\"file\" href=\"")
            out.append(relativeLink(from: from, to: eml))
            out.append("\"><code>")
            ExportHTML.escape(eml, into: &out)
            out.append("</code></a>")
        } else {
            out.append("<span class=\"note\">not exported in this scope</span>")
        }
        out.append("</td></tr>\n<tr><th scope=\"row\">SHA-256</th><td class=\"hash\">")
        ExportHTML.escape(message.sha256, into: &out)
        out.append("</td></tr>\n<tr><th scope=\"row\">Size</th><td>\(ExportHTML.grouped(message.size)) bytes")
        if message.size >= 1000 { out.append(" (\(ExportHTML.humanSize(message.size)))") }
        out.append("</td></tr>\n<tr><th scope=\"row\">Control number</th><td class=\"mono\">")
        ExportHTML.escape(message.controlNumber, into: &out)
        out.append("</td></tr>\n<tr><th scope=\"row\">Archive key</th><td class=\"mono\">")
        ExportHTML.escape(message.key, into: &out)
        out.append("</td></tr>\n</tbody>\n</table>\n")

        // Thread.
        out.append("<h2 id=\"thread\">Thread</h2>\n")
        if thread.isEmpty {
            out.append("<p class=\"note\">This message is alone in its thread.</p>\n")
        } else {
            out.append("<p class=\"note\">\(ExportHTML.grouped(thread.count)) message\(thread.count == 1 ? "" : "s") in this export, oldest first; this one is marked.</p>\n")
            messageList(thread, from: from, current: message.pagePath, into: &out)
        }

        // Text.
        out.append("<h2 id=\"text\">Text</h2>\n")
        if let text = message.text {
            if text.isEmpty {
                out.append("<p class=\"note\">The message has no text.</p>\n")
            } else {
                out.append("<p class=\"note\">The message's text as extracted by Dossier (formatting and images are in the original).</p>\n<pre class=\"body\">")
                ExportHTML.escape(text, .body, into: &out)
                out.append("</pre>\n")
            }
        } else {
            out.append("<p>The body is not part of this export (metadata scope): only the header fields, the filing evidence and the digests are.</p>\n")
        }

        footer(overview, into: &out)
        out.append("</main>\n")
        ExportHTML.pageEnd(into: &out)
        return out
    }

    /// Every message of the overview in the export's date order (control-number order), for the
    /// previous and next links of `messagePage`: compute it once for the whole site.
    public static func dateOrder(_ overview: ExportOverview) -> [ExportedMessageSummary] {
        overview.threads.joined().sorted { $0.controlNumber < $1.controlNumber }
    }

    // MARK: - Links

    /// A relative URL from the page at `from` to the file at `to`, both relative to the export's
    /// root (`pages/x.html` → `messages/y.eml` gives `../messages/y.eml`; a sibling gives `./z.html`).
    /// Each path segment is percent-encoded (all but `A-Z a-z 0-9 - . _ ~`), so names with spaces,
    /// `#`, `?`, `%`, `:` or Unicode stay paths, and the result never starts with a scheme.
    /// Escape it for HTML (`&` cannot occur, but quotes are cheap) when putting it in an attribute.
    public static func relativeLink(from: String, to: String) -> String {
        ExportHTML.relativeLink(from: from, to: to)
    }

    // MARK: - Pieces

    static let leftOutFile = "left-out.csv"

    static let fileDescriptions: [String: String] = [
        "mail.mbox": "Every exported message in one mbox file, for a mail program",
        "loadfile.csv": "Load file for review platforms (one row per message and per attachment), CSV",
        "loadfile.dat": "The same load file in Concordance DAT format",
        "manifest.json": "Every file of the export with its size and SHA-256, in a hash chain (check it with <code>dossier verify</code>)",
        "export.json": "How the export was made: its options, the CRM load and the archive state it came from",
        "summary.csv": "What the export holds per mailbox, folder and year: messages, in and out, attachments, bytes",
        "left-out.csv": "Messages left out on purpose, each with its reason",
        "messages/": "Each message's original as an <code>.eml</code> file, linked from its page",
        "attachments/": "Each distinct attachment once, linked from the pages of the messages that carry it",
    ]

    static func threadAnchor(_ index: Int) -> String { "t\(index + 1)" }

    /// `account:ACME — Acme Corp`.
    static func recordTitle(_ overview: ExportOverview) -> String {
        if let name = overview.name, !name.isEmpty { return "\(overview.record.description) — \(name)" }
        return overview.record.description
    }

    static func recordHeading(_ overview: ExportOverview, into out: inout String) {
        ExportHTML.bdi(overview.record.description, into: &out)
        if let name = overview.name, !name.isEmpty {
            out.append(" — ")
            ExportHTML.bdi(name, into: &out)
        }
    }

    static func stat(_ label: String, _ value: String, into out: inout String) {
        out.append("<div><dt>\(label)</dt><dd>\(value)</dd></div>\n")
    }

    /// `2024-01-02 – 2024-02-05` (days, UTC), or one day, or `no dates`.
    static func period(_ first: Date?, _ last: Date?, into out: inout String) {
        guard let first else { out.append("no dates"); return }
        let a = String(ExportHTML.utc(first).prefix(10))
        let b = last.map { String(ExportHTML.utc($0).prefix(10)) } ?? a
        out.append("<span class=\"date\">\(a)</span>")
        if b != a { out.append(" – <span class=\"date\">\(b)</span>") }
    }

    static func threadSubject(_ thread: [ExportedMessageSummary]) -> String? {
        thread.first { !($0.subject ?? "").isEmpty }?.subject
    }

    static func subject(_ text: String?, into out: inout String) {
        if let text, !text.isEmpty { ExportHTML.bdi(text, into: &out) } else { out.append("<span class=\"note\">(no subject)</span>") }
    }

    static func link(to path: String, from: String, text: String, into out: inout String) {
        out.append("<a ")
        ExportHTML.href(from: from, to: path, into: &out)
        out.append(">")
        ExportHTML.escape(text, into: &out)
        out.append("</a>")
    }

    /// `Name <address>`, the name isolated.
    static func address(_ a: MailAddress, into out: inout String) {
        if let name = a.name, !name.isEmpty {
            ExportHTML.bdi(name, into: &out)
            out.append(" <span class=\"note\">&lt;")
            ExportHTML.bdi(a.address, into: &out)
            out.append("&gt;</span>")
        } else {
            ExportHTML.bdi(a.address, into: &out)
        }
    }

    static func addressRow(_ label: String, _ list: [MailAddress], into out: inout String) {
        if list.isEmpty, label == "Cc" || label == "Bcc" { return }
        out.append("<tr><th scope=\"row\">\(label)</th><td>")
        if list.isEmpty { out.append("<span class=\"note\">none</span>") }
        for (i, a) in list.enumerated() {
            if i > 0 { out.append(",<br>") }
            address(a, into: &out)
        }
        out.append("</td></tr>\n")
    }

    static func listRow(_ label: String, _ list: [String], into out: inout String) {
        out.append("<tr><th scope=\"row\">\(label)</th><td>")
        if list.isEmpty { out.append("<span class=\"note\">none</span>") }
        for (i, item) in list.enumerated() {
            if i > 0 { out.append("<br>") }
            out.append("<code>")
            ExportHTML.bdi(item, into: &out)
            out.append("</code>")
        }
        out.append("</td></tr>\n")
    }

    static func ruleLabel(_ rule: FilingRule?) -> String {
        switch rule {
        case .trackingCode: return "Tracking code"
        case .thread: return "Thread"
        case .subjectTag: return "Subject tag"
        case .address: return "Address"
        case .domain: return "Domain"
        case .manual: return "Manual"
        case nil: return "—"
        }
    }

    /// A thread's messages as a table (the index's thread sections and a message page's thread),
    /// the row of `current` marked.
    static func messageList(_ thread: [ExportedMessageSummary], from: String, current: String?, into out: inout String) {
        out.append("<table class=\"list\">\n<thead><tr><th scope=\"col\" class=\"w-date\">Date (UTC)</th><th scope=\"col\" class=\"w-from\">From</th><th scope=\"col\">Subject</th><th scope=\"col\" class=\"w-dir\">Direction</th><th scope=\"col\" class=\"w-ev\">Evidence</th><th scope=\"col\" class=\"num w-att\" title=\"Attachments\">Att.</th></tr></thead>\n<tbody>\n")
        for m in thread {
            let isCurrent = m.pagePath == current
            out.append(isCurrent ? "<tr class=\"current\" aria-current=\"page\"><td class=\"date\">" : "<tr><td class=\"date\">")
            if let date = m.date { ExportHTML.utc(date, into: &out) } else { out.append("<span class=\"note\">undated</span>") }
            out.append("</td><td>")
            if let sender = m.from, !sender.isEmpty { ExportHTML.bdi(sender, into: &out) } else { out.append("<span class=\"note\">unknown</span>") }
            out.append("</td><td>")
            if isCurrent {
                out.append("<strong>")
                subject(m.subject, into: &out)
                out.append("</strong> <span class=\"tag\">this message</span>")
            } else {
                out.append("<a ")
                ExportHTML.href(from: from, to: m.pagePath, into: &out)
                out.append(">")
                subject(m.subject, into: &out)
                out.append("</a>")
            }
            out.append("</td><td>")
            if let direction = m.direction { ExportHTML.escape(direction, into: &out) }
            out.append("</td><td>")
            out.append(ruleLabel(m.evidence))
            out.append("</td><td class=\"num\">")
            if m.attachmentCount > 0 { out.append(ExportHTML.grouped(m.attachmentCount)) }
            out.append("</td></tr>\n")
        }
        out.append("</tbody>\n</table>\n")
    }

    static func footer(_ overview: ExportOverview, into out: inout String) {
        out.append("<footer>Export of ")
        recordHeading(overview, into: &out)
        out.append(", made ")
        ExportHTML.utc(overview.createdAt, seconds: true, into: &out)
        out.append(" UTC by Dossier. Times are UTC. The originals and their SHA-256 digests, not these pages, are the record.</footer>\n")
    }
}
