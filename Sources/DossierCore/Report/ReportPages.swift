import Foundation

// The `--format html` page of each report, built from the same values the other formats print,
// with the pieces of HTMLPage.swift. Every value from mail or the CRM directory goes through
// HTMLCell(text) or HTML.text; only markup made here is raw.

extension ClientsReport {
    /// The report as one self-contained page: a summary table, then one card per account with
    /// its monthly chart (in vs out) and its people on both sides. `people` caps each list.
    public func html(people: Int = 8) -> String {
        var page = HTMLPage(title: "Clients", subtitle: subtitle)
        let table = HTMLTable([.init("Account"), .init("Score", numeric: true), .init("In", numeric: true), .init("Out", numeric: true),
                               .init("Threads", numeric: true), .init("First"), .init("Last"),
                               .init("Trend (\(period) vs previous)", numeric: true), .init("Staff"), .init("Client side")])
        page.table(table, rows: accounts.map { account in
            [.raw("<a href=\"#\(HTML.attribute(HTML.anchor(account.id)))\">\(HTML.text(account.name))</a> "
                    + "<span class=\"muted\">\(HTML.text(account.id))</span>"
                    + (account.includes.isEmpty ? "" : " <span class=\"tag\">+\(account.includes.count) subsidiar\(account.includes.count == 1 ? "y" : "ies")</span>")),
             .raw(Self.scoreHTML(account.score)),
             HTMLCell(account.inbound), HTMLCell(account.outbound), HTMLCell(account.threads),
             HTMLCell(HTML.day(account.first), classes: ["nowrap"]), HTMLCell(HTML.day(account.last), classes: ["nowrap"]),
             .raw(Self.trendHTML(account.trend)),
             HTMLCell(account.staff.first.map { ($0.name ?? $0.address) + (account.staff.count > 1 ? " +\(account.staff.count - 1)" : "") } ?? ""),
             HTMLCell(account.client.first.map { ($0.name ?? $0.address) + (account.client.count > 1 ? " +\(account.client.count - 1)" : "") } ?? "")]
        }, empty: "The CRM directory in force has no accounts.")

        page.heading("Accounts")
        for account in accounts {
            var card = "<section class=\"card\" id=\"\(HTML.attribute(HTML.anchor(account.id)))\">"
            card += "<h3>\(HTML.text(account.name)) <span class=\"muted\">\(HTML.text(account.id))</span></h3>"
            var facts: [(String, String)] = [
                ("score", String(account.score)),
                ("messages", "\(account.messages): \(account.inbound) in, \(account.outbound) out, \(account.threads) thread\(account.threads == 1 ? "" : "s")"),
                ("first / last", "\(HTML.day(account.first)) / \(HTML.day(account.last))"),
                ("trend", account.trend.text),
            ]
            if let parent = account.parent { facts.append(("parent", parent)) }
            if !account.includes.isEmpty { facts.append(("includes", account.includes.joined(separator: ", "))) }
            card += "<div class=\"cols\"><div>"
            card += MonthlyChart(months: account.months).svg(title: "\(account.name): messages per month, in and out")
            card += HTMLPage.facts(facts)
            card += "</div><div><h4>Firm</h4>" + Self.peopleHTML(account.staff, limit: people, empty: "No staff in this mail.")
            card += "</div><div><h4>Client side</h4>" + Self.peopleHTML(account.client, limit: people, empty: "No external people in this mail.")
            card += "</div></div></section>\n"
            page.raw(card)
        }
        return page.render()
    }

    /// What the page and the table's heading say about the report's terms.
    public var subtitle: String {
        let end = asOf.addingTimeInterval(-1)
        return "As of \(HTML.date(asOf)) UTC · \(accounts.count) account\(accounts.count == 1 ? "" : "s")"
            + (withSubsidiaries ? " · subsidiaries rolled up" : "")
            + " · trend: \(HTML.day(periodStart)) to \(HTML.day(end)) against \(HTML.day(previousStart)) to \(HTML.day(periodStart.addingTimeInterval(-1)))"
            + " · score half-life \(halfLifeDays == halfLifeDays.rounded() ? String(Int(halfLifeDays)) : String(halfLifeDays)) days"
    }

    static func scoreHTML(_ score: Int) -> String {
        "<span class=\"score\">\(score)</span><span class=\"bar\" style=\"width:\(score / 2)px\"></span>"
    }

    static func trendHTML(_ trend: Trend) -> String {
        let style = trend.change > 0 ? "up" : (trend.change < 0 ? "down" : "muted")
        return "<span class=\"\(style)\">\(HTML.text(trend.text))</span>"
    }

    static func peopleHTML(_ people: [TeamMember], limit: Int, empty: String) -> String {
        guard !people.isEmpty else { return "<p class=\"muted\">\(HTML.text(empty))</p>" }
        var out = "<ul class=\"people\">"
        for person in people.prefix(limit) {
            out += "<li>" + HTML.text(person.label)
            if let id = person.staffID ?? person.contactID { out += " <span class=\"tag\">\(HTML.text(id))</span>" }
            if person.thirdParty { out += " <span class=\"tag\">third party</span>" }
            out += " <span class=\"muted\">\(person.messages) msg, last \(HTML.day(person.last))</span></li>"
        }
        if people.count > limit { out += "<li class=\"muted\">and \(people.count - limit) more</li>" }
        return out + "</ul>"
    }
}

extension DiscoveredContacts {
    /// The candidates as one page, a table per group.
    public func html() -> String {
        let total = groups.reduce(0) { $0 + $1.candidates.count }
        var page = HTMLPage(title: "Discovered contacts",
                            subtitle: "\(total) address\(total == 1 ? "" : "es") outside the firm and the CRM directory with at least \(minMessages) message\(minMessages == 1 ? "" : "s"); candidates for contacts.csv, nothing was created")
        if groups.isEmpty { page.paragraph("No candidates.", classes: ["muted"]) }
        let table = HTMLTable([.init("Address"), .init("Name"), .init("Messages", numeric: true), .init("Sent to firm", numeric: true),
                               .init("Received from firm", numeric: true), .init("Last"), .init("Filed to"), .init("Suggested row")])
        for group in groups {
            page.heading(group.title + (group.account == nil ? "" : " · \(group.candidates.first?.domain ?? "")"), level: 3)
            page.table(table, rows: group.candidates.map { candidate in
                [HTMLCell(candidate.address),
                 HTMLCell(candidate.name ?? ""),
                 HTMLCell(candidate.messages), HTMLCell(candidate.sent), HTMLCell(candidate.received),
                 HTMLCell(HTML.day(candidate.last), classes: ["nowrap"]),
                 HTMLCell(candidate.filedTo.map(\.text).joined(separator: ", ")),
                 .raw("<span class=\"tag\">\(HTML.text(candidate.suggestedID))</span> → "
                      + HTML.text(candidate.suggestedAccount ?? "account to choose")
                      + (candidate.freemail ? " <span class=\"muted\">(free-mail)</span>" : ""))]
            })
        }
        return page.render()
    }
}

/// Pages of the run, unassigned, excluded and assignments reports.
public enum ReportPages {
    /// One run's ledger and its quarantined inputs.
    public static func run(_ ledger: RunLedger, quarantine: [QuarantineEntry]) -> String {
        var page = HTMLPage(title: "Run \(ledger.run) (\(ledger.command)): \(ledger.status)",
                            subtitle: "Started \(ledger.startedAt)" + (ledger.finishedAt.map { ", finished \($0)" } ?? ""))
        page.heading("Ledger")
        page.facts([("read", HTMLCell.grouped(ledger.read)), ("stored", HTMLCell.grouped(ledger.stored)),
                    ("duplicate", HTMLCell.grouped(ledger.duplicate)), ("excluded", HTMLCell.grouped(ledger.excluded)),
                    ("quarantined", HTMLCell.grouped(ledger.quarantined)),
                    ("noise", HTMLCell.grouped(ledger.noise) + " (included above: in stored when kept flagged, in excluded when only counted)"),
                    ("skipped", HTMLCell.grouped(ledger.skipped) + " (found in the sources and not read: not in read)"),
                    ("sources", HTMLCell.grouped(ledger.sources)),
                    ("throughput", String(format: "%.1f MB in %.2f s (%.0f msg/s, %.1f MB/s)", Double(ledger.bytes) / 1_048_576, ledger.seconds,
                                    ledger.messagesPerSecond, ledger.megabytesPerSecond)),
                    ("balance", ledger.isBalanced ? "read = stored + duplicate + excluded + quarantined" : "THE LEDGER DOES NOT BALANCE")]
                   + (ledger.error.map { [("error", $0)] } ?? []))
        let reasons = HTMLTable([.init("Outcome"), .init("Reason"), .init("Messages", numeric: true)], caption: "By reason")
        var rows: [[HTMLCell]] = []
        for (outcome, counts) in [("excluded", ledger.excludedReasons), ("quarantined", ledger.quarantineReasons), ("noise", ledger.noiseReasons),
                                 ("skipped", ledger.skippedReasons)] {
            for (reason, count) in counts.sorted(by: { $0.key < $1.key }) { rows.append([HTMLCell(outcome), HTMLCell(reason), HTMLCell(count)]) }
        }
        page.table(reasons, rows: rows, empty: "Nothing excluded, quarantined or noise.")
        page.heading("Quarantined inputs")
        let table = HTMLTable([.init("Path"), .init("Offset", numeric: true), .init("Reason"), .init("Size", numeric: true), .init("Kept as")])
        page.table(table, rows: quarantine.map { entry in
            [HTMLCell("\(entry.mailbox): \(entry.path)", classes: ["path"]), HTMLCell(entry.offset.map(String.init) ?? "-"),
             HTMLCell(entry.reason, classes: ["nowrap"]), HTMLCell(entry.size), HTMLCell(entry.keptAs ?? "-", classes: ["path"])]
        }, empty: "No input of this run was quarantined.")
        page.heading("Skipped (not read)")
        let skippedTable = HTMLTable([.init("Path"), .init("Reason")])
        page.table(skippedTable, rows: ledger.skippedPaths.map { [HTMLCell($0.path, classes: ["path"]), HTMLCell($0.reason)] },
                   empty: "Nothing found in the sources was left unread.")
        return page.render()
    }

    /// Every run, one row each.
    public static func runs(_ ledgers: [RunLedger]) -> String {
        var page = HTMLPage(title: "Runs", subtitle: "\(ledgers.count) run\(ledgers.count == 1 ? "" : "s") of this archive")
        let table = HTMLTable([.init("Run", numeric: true), .init("Command"), .init("Started"), .init("Status"), .init("Read", numeric: true),
                               .init("Stored", numeric: true), .init("Duplicate", numeric: true), .init("Excluded", numeric: true),
                               .init("Quarantined", numeric: true), .init("Noise", numeric: true), .init("Skipped", numeric: true)])
        page.table(table, rows: ledgers.map { ledger in
            [HTMLCell(String(ledger.run)), HTMLCell(ledger.command), HTMLCell(ledger.startedAt), HTMLCell(ledger.status), HTMLCell(ledger.read),
             HTMLCell(ledger.stored), HTMLCell(ledger.duplicate), HTMLCell(ledger.excluded), HTMLCell(ledger.quarantined), HTMLCell(ledger.noise),
             HTMLCell(ledger.skipped)]
        }, empty: "This archive has no runs yet.")
        return page.render()
    }

    /// The unassigned queue, `total` messages of which `items` are shown.
    public static func unassigned(_ items: [UnassignedItem], total: Int) -> String {
        var page = HTMLPage(title: "Unassigned mail",
                            subtitle: items.count == total ? "\(HTMLCell.grouped(total)) unassigned message\(total == 1 ? "" : "s")"
                                : "\(HTMLCell.grouped(items.count)) of \(HTMLCell.grouped(total)) unassigned messages shown (--limit)")
        let table = HTMLTable([.init("Date"), .init("From"), .init("Subject"), .init("Key"), .init("External"), .init("Suggested"), .init("Why")])
        page.table(table, rows: items.map { item in
            let suggestion = item.suggestions.first
            return [HTMLCell(HTML.date(item.date), classes: ["nowrap"]), HTMLCell(item.from ?? "-"), HTMLCell(item.subject ?? ""),
                    HTMLCell(item.key, classes: ["nowrap"]), HTMLCell(item.external.joined(separator: ", "), classes: ["path"]),
                    HTMLCell(suggestion.map { s in s.record.description + (s.name.map { " (\($0))" } ?? "") } ?? "-"),
                    HTMLCell(suggestion?.why ?? "")]
        }, empty: "The queue is empty: every external message is filed.")
        return page.render()
    }

    /// Noise and excluded mail, with the counts per reason (`counts` covers every message, also
    /// those a limit left out of `items`).
    public static func excluded(_ items: [ExcludedItem], counts: [(status: String, reason: String, count: Int)]) -> String {
        let total = counts.reduce(0) { $0 + $1.count }
        var page = HTMLPage(title: "Noise and excluded mail",
                            subtitle: "\(HTMLCell.grouped(total)) message\(total == 1 ? "" : "s")"
                                + (items.count < total ? " (\(HTMLCell.grouped(items.count)) shown: --limit)" : "")
                                + " · check that nothing a client wrote was dropped")
        let summary = HTMLTable([.init("Status"), .init("Reason"), .init("Messages", numeric: true)], caption: "By reason")
        page.table(summary, rows: counts.map { [HTMLCell($0.status), HTMLCell($0.reason), HTMLCell($0.count)] }, empty: "Nothing was left out.")
        let table = HTMLTable([.init("Date"), .init("Status"), .init("Reason"), .init("From"), .init("Subject"), .init("Key"),
                               .init("Signals"), .init("Source")])
        page.table(table, rows: items.map { item in
            [HTMLCell(HTML.date(item.date), classes: ["nowrap"]), HTMLCell(item.status, classes: ["nowrap"]),
             HTMLCell(item.reason, classes: ["nowrap"]), HTMLCell(item.from ?? "-"),
             HTMLCell(item.subject ?? ""), HTMLCell(item.key, classes: ["nowrap"]), HTMLCell(item.signals.joined(separator: "; ")),
             HTMLCell(item.sources.first.map { "\($0.mailbox):\($0.path)" + ($0.offset.map { "@\($0)" } ?? "") } ?? "-", classes: ["path"])]
        }, empty: "No noise and no excluded mail.")
        return page.render()
    }

    /// Every assignment line, with the counts per status first.
    public static func assignments(_ lines: [AssignmentLine]) -> String {
        var page = HTMLPage(title: "Assignments", subtitle: "\(HTMLCell.grouped(lines.count)) unique message\(lines.count == 1 ? "" : "s") and quarantined inputs: where each went and why")
        var counts: [String: Int] = [:]
        for line in lines { counts[line.status, default: 0] += 1 }
        let order = ["filed", "unassigned", "noise", "internal", "excluded", "quarantined"]
        let statuses = order.filter { counts[$0] != nil } + counts.keys.filter { !order.contains($0) }.sorted()
        page.table(HTMLTable([.init("Status"), .init("Messages", numeric: true)], caption: "By status"),
                   rows: statuses.map { [HTMLCell($0), HTMLCell(counts[$0]!)] }, empty: "The archive is empty.")
        let table = HTMLTable([.init("Date"), .init("Key"), .init("Status"), .init("Reason"), .init("Records"), .init("Evidence"), .init("Source")])
        page.table(table, rows: lines.map { line in
            let records = line.accounts.map { "account:\($0)" } + line.contacts.map { "contact:\($0)" }
                + line.leads.map { "lead:\($0)" } + line.cases.map { "case:\($0)" }
            return [HTMLCell(HTML.date(line.date), classes: ["nowrap"]), HTMLCell(line.key, classes: ["nowrap"]),
                    HTMLCell(line.status, classes: ["nowrap"]), HTMLCell(line.reason ?? "", classes: ["nowrap"]),
                    HTMLCell(records.joined(separator: ", ")), HTMLCell(line.evidence ?? "", classes: ["nowrap"]),
                    HTMLCell(line.sources.first.map { "\($0.mailbox):\($0.path)" + ($0.offset.map { "@\($0)" } ?? "") } ?? "-", classes: ["path"])]
        })
        return page.render()
    }
}

extension DuplicatesReport {
    /// Messages read more than once, one row per distinct content, with the counts first.
    public static func html(_ groups: [DuplicateGroup]) -> String {
        let counts = Self.counts(groups)
        var page = HTMLPage(title: "Duplicates and variants", subtitle: summary(counts))
        let table = HTMLTable([.init("Date"), .init("Key"), .init("Message-ID"), .init("Subject"), .init("Content", numeric: true),
                               .init("Copies"), .init("Size", numeric: true), .init("How it differs"), .init("Sources")])
        var rows: [[HTMLCell]] = []
        for group in groups {
            for content in group.contents {
                rows.append([HTMLCell(HTML.date(group.date), classes: ["nowrap"]), HTMLCell(group.key, classes: ["nowrap"]),
                             HTMLCell(group.messageID ?? "-", classes: ["path"]), HTMLCell(group.subject ?? ""),
                             HTMLCell(content.number.map(String.init) ?? "-"),
                             HTMLCell(content.copies.map(String.init).joined(separator: ", ")), HTMLCell(content.size),
                             HTMLCell(content.differs),
                             HTMLCell(content.sources.map { "\($0.mailbox):\($0.path)" + ($0.offset.map { "@\($0)" } ?? "") }
                                         .joined(separator: "; "), classes: ["path"])])
            }
        }
        page.table(table, rows: rows, empty: "No message was read more than once.")
        return page.render()
    }
}
