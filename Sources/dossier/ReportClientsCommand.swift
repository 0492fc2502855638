import ArgumentParser
import DossierCore
import Foundation

extension ClientsReport.Sort: ExpressibleByArgument {}

extension ReportPeriod: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var defaultCompletionKind: CompletionKind { .list(["30d", "90d", "12w", "6m", "1y"]) }
}

struct ClientsReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clients",
        abstract: "One row per account: messages in and out, threads, first and last, connection score, trend, and the people on both sides.",
        discussion: """
            Every account of the CRM directory in force, also those with no mail. Mail dated at or after \
            --as-of is left out (a day means the end of that day, UTC; default: now), so a report can be \
            made again. SCORE (0-100) weighs each message 0.5^(age/90 days): with I and O the weights in \
            and out, x = 2IO/(I+O) + (I+O)/10 and score = round(100(1 - e^(-x/5))), so one-way mail scores \
            low and sustained two-way exchange high. TREND counts messages in the last --period before \
            --as-of against the period before it. --with-subsidiaries counts a subsidiary's mail in its \
            parent accounts too (each message once per account). --format html writes one page with a \
            chart per account.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(help: "table, csv, json, jsonl or html.")
    var format: ReportFormat = .table

    @Option(name: .customLong("as-of"), help: "The reference time: a day (YYYY-MM-DD, its end, UTC) or an RFC 3339 time; default now.")
    var asOf: String?

    @Option(help: "The trend's period: \(ReportPeriod.help).")
    var period: ReportPeriod = ReportPeriod(count: 90, unit: .day)

    @Flag(name: .customLong("with-subsidiaries"), help: "Count each subsidiary's mail in its parent accounts too.")
    var withSubsidiaries = false

    @Option(help: "score, messages, name or last.")
    var sort: ClientsReport.Sort = .score

    @Option(help: "Months of per-month counts (json, jsonl, html), ending with the --as-of month.")
    var months: Int = 12

    func validate() throws {
        if let asOf, ReportTime.parse(asOf) == nil {
            throw ValidationError("--as-of '\(asOf)' is neither a day (YYYY-MM-DD) nor an RFC 3339 time")
        }
        if months < 1 || months > 120 { throw ValidationError("--months must be between 1 and 120") }
    }

    func run() throws {
        let report = try guarded { () -> ClientsReport in
            let archive = try openArchiveForReading(archiveOptions)
            return try archive.database.read { db in
                let index = CRMIndex(try CRMStore.activeDirectory(in: db) ?? CRMDirectory())
                let options = ClientsReport.Options(asOf: asOf.flatMap(ReportTime.parse) ?? Date(), period: period,
                                                    withSubsidiaries: withSubsidiaries, sort: sort, months: months)
                return try ClientsReport.load(db, index: index, options: options)
            }
        }
        switch format {
        case .table:
            var table = TextTable(["ACCOUNT", "NAME", "SCORE", "IN", "OUT", "THREADS", "FIRST", "LAST", "TREND (\(period))", "STAFF", "CLIENT SIDE"],
                                  maxWidths: [16, 30, nil, nil, nil, nil, nil, nil, nil, 44, 60])
            for account in report.accounts {
                table.add([account.id, account.name + (account.includes.isEmpty ? "" : " (+\(account.includes.count))"), String(account.score),
                           grouped(account.inbound), grouped(account.outbound), grouped(account.threads),
                           day(account.first), day(account.last), account.trend.text,
                           people(account.staff, top: 2), people(account.client, top: 2)])
            }
            writeOut(table.render())
            writeOut("\n" + report.subtitle + "\n")
        case .csv:
            writeOut(csvLine(["id", "name", "parent", "includes", "score", "messages", "inbound", "outbound", "threads", "first", "last",
                              "period", "current", "previous", "change", "change_percent", "staff", "client"]))
            for account in report.accounts {
                writeOut(csvLine([account.id, account.name, account.parent ?? "", account.includes.joined(separator: ";"),
                                  String(account.score), String(account.messages), String(account.inbound), String(account.outbound),
                                  String(account.threads), account.first.map(isoDate) ?? "", account.last.map(isoDate) ?? "",
                                  report.period.description, String(account.trend.current), String(account.trend.previous),
                                  String(account.trend.change), account.trend.changePercent.map { String(Int($0)) } ?? "",
                                  account.staff.map(csvPerson).joined(separator: "; "), account.client.map(csvPerson).joined(separator: "; ")]))
            }
        case .json:
            try printJSON(report)
        case .jsonl:
            for account in report.accounts { writeOut(try jsonLine(account) + "\n") }
        case .html:
            writeOut(report.html())
        }
    }

    private func day(_ date: Date?) -> String { date.map { String(isoDate($0).prefix(10)) } ?? "-" }

    /// `Alice Hartwell (12), Bob Okafor (3) +2`.
    private func people(_ members: [TeamMember], top: Int) -> String {
        guard !members.isEmpty else { return "-" }
        let shown = members.prefix(top).map { "\($0.name ?? $0.address) (\($0.messages))" }.joined(separator: ", ")
        return shown + (members.count > top ? " +\(members.count - top)" : "")
    }

    /// `alice@firm.example (12, 2024-03-04)`.
    private func csvPerson(_ member: TeamMember) -> String {
        "\(member.address) (\(member.messages), \(day(member.last)))"
    }
}
