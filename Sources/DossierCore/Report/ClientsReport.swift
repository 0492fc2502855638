import Foundation
import GRDB

/// `dossier report clients`: one row per account of the CRM directory in force (accounts with no
/// mail too), with the mail filed to it: messages in and out, threads, first and last dates, a
/// connection-strength score, the trend over a period, the people on both sides, and messages per
/// month.
///
/// Everything is measured at a reference time (`Options.asOf`), so a report can be re-made: mail
/// dated after it is left out, as if the report had been made then. A message with no readable
/// date counts in the totals and threads only (it has no place in time).
///
/// **Score** (0-100). Each dated message weighs `w = 0.5^(age / halfLife)` (age in days before the
/// reference time; half-life 90 days by default). With `I` and `O` the summed weights of inbound
/// and outbound messages:
///
///     x = 2·I·O / (I + O) + (I + O) / 10        (x = 0 when I + O = 0)
///     score = round(100 · (1 − e^(−x / 5)))
///
/// The first term is the harmonic mean of I and O, which is zero for one-way mail and grows only
/// when both sides write; the second gives one-way mail a little (ten recent one-way messages
/// score 18). Five recent messages each way score 70, ten each way 91; the score saturates
/// towards 100 and decays with the half-life when the exchange stops. It rises with every
/// message, more for recent ones.
///
/// **Trend**: messages (all directions) dated in `[asOf − period, asOf)` against
/// `[asOf − 2·period, asOf − period)`, with the change.
public struct ClientsReport: Sendable, Encodable {
    public enum Sort: String, Sendable, CaseIterable {
        /// Score, highest first (then messages, then name).
        case score
        /// Messages, most first.
        case messages
        /// Account name, A to Z.
        case name
        /// Last interaction, latest first (accounts without mail last).
        case last
    }

    public struct Options: Sendable {
        /// The reference time: mail dated at or after it is left out.
        public var asOf: Date
        /// The trend's period.
        public var period: ReportPeriod
        /// Roll each subsidiary's mail up into its parent accounts (at every level).
        public var withSubsidiaries: Bool
        public var sort: Sort
        /// The score's half-life, in days.
        public var halfLifeDays: Double
        /// How many months the per-month counts cover, ending with the reference time's month.
        public var months: Int

        public init(asOf: Date, period: ReportPeriod = ReportPeriod(count: 90, unit: .day), withSubsidiaries: Bool = false,
                    sort: Sort = .score, halfLifeDays: Double = 90, months: Int = 12) {
            self.asOf = asOf
            self.period = period
            self.withSubsidiaries = withSubsidiaries
            self.sort = sort
            self.halfLifeDays = halfLifeDays
            self.months = months
        }
    }

    public var asOf: Date
    public var period: ReportPeriod
    /// Start of the trend's current period (`asOf − period`) and of the previous one.
    public var periodStart: Date
    public var previousStart: Date
    public var withSubsidiaries: Bool
    public var halfLifeDays: Double
    public var accounts: [ClientSummary]

    enum CodingKeys: String, CodingKey {
        case period, accounts
        case asOf = "as_of"
        case periodStart = "period_start"
        case previousStart = "previous_start"
        case withSubsidiaries = "with_subsidiaries"
        case halfLifeDays = "half_life_days"
    }
}

/// One account's line of the clients report.
public struct ClientSummary: Sendable, Encodable {
    public var id: String
    public var name: String
    /// The parent account's id, for a subsidiary.
    public var parent: String?
    /// With `--with-subsidiaries`: the subsidiaries (at every level) whose mail is counted here.
    public var includes: [String]
    /// Messages filed to the account (each once), and by direction.
    public var messages: Int
    public var inbound: Int
    public var outbound: Int
    public var threads: Int
    public var first: Date?
    public var last: Date?
    public var score: Int
    public var trend: Trend
    /// The firm's people (staff and internal addresses) in the account's mail.
    public var staff: [TeamMember]
    /// The client's people: every external participant, third parties in Cc included.
    public var client: [TeamMember]
    /// Messages per month, in and out, oldest first.
    public var months: [MonthlyChart.Month]

    enum CodingKeys: String, CodingKey {
        case id, name, parent, includes, messages, inbound, outbound, threads, first, last, score, trend, staff, client, months
    }
}

/// Messages in one period against the period before.
public struct Trend: Sendable, Equatable, Encodable {
    public var current: Int
    public var previous: Int
    public var change: Int { current - previous }
    /// The change against the previous period, in percent; nil when the previous period had none.
    public var changePercent: Double? {
        previous > 0 ? (Double(current - previous) / Double(previous) * 100).rounded() : nil
    }

    public init(current: Int, previous: Int) {
        self.current = current
        self.previous = previous
    }

    /// `12 vs 8 (+4, +50%)`, `3 vs 0 (+3, new)`, `0 vs 0`.
    public var text: String {
        if current == 0 && previous == 0 { return "0 vs 0" }
        let sign = change > 0 ? "+" : ""
        let percent = changePercent.map { (change > 0 ? "+" : "") + String(Int($0)) + "%" } ?? "new"
        return "\(current) vs \(previous) (\(sign)\(change), \(percent))"
    }

    enum CodingKeys: String, CodingKey { case current, previous, change, changePercent = "change_percent" }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(current, forKey: .current)
        try container.encode(previous, forKey: .previous)
        try container.encode(change, forKey: .change)
        try container.encode(changePercent, forKey: .changePercent)
    }
}

/// A person in an account's mail.
public struct TeamMember: Sendable, Equatable, Encodable {
    public var address: String
    /// staff.csv's name, else the display name seen most often.
    public var name: String?
    /// The staff member's id (staff side) or the contact's id (client side), when known.
    public var staffID: String?
    public var contactID: String?
    /// Client side: the address belongs neither to the account (its contacts, main email,
    /// domains) nor, rolled up, to its subsidiaries: an adviser, a counterparty, copied in.
    public var thirdParty: Bool
    /// Messages of the account the person took part in (From, To, Cc or Bcc).
    public var messages: Int
    public var last: Date?

    /// `Name <address>`, or the address.
    public var label: String { name.map { "\($0) <\(address)>" } ?? address }

    enum CodingKeys: String, CodingKey {
        case address, name, messages, last
        case staffID = "staff_id"
        case contactID = "contact_id"
        case thirdParty = "third_party"
    }
}

extension ClientsReport {
    /// The score of `inbound` and `outbound` decayed message weights (see the type's doc).
    public static func score(inbound: Double, outbound: Double) -> Int {
        let total = inbound + outbound
        guard total > 0 else { return 0 }
        let x = 2 * inbound * outbound / total + total / 10
        return Int((100 * (1 - exp(-x / 5))).rounded())
    }

    /// A message's weight `age` seconds before the reference time.
    public static func weight(age: TimeInterval, halfLifeDays: Double) -> Double {
        pow(0.5, max(0, age) / 86_400 / halfLifeDays)
    }

    /// The report for the directory `index` holds, from the archive `db`.
    public static func load(_ db: Database, index: CRMIndex, options: Options) throws -> ClientsReport {
        let asOf = options.asOf
        let periodStart = options.period.before(asOf)
        let previousStart = options.period.before(periodStart)
        let cutoff = Int64(asOf.timeIntervalSince1970.rounded(.up))

        // Every filed message of every account, dated before the reference time.
        var byAccount: [String: [Int64]] = [:]
        var facts: [Int64: MessageFacts] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT f.record, m.id, m.date, m.direction, m.message_id
            FROM filing_match f JOIN message m ON m.id = f.message
            WHERE f.kind = 'account' AND m.filing = 'filed' AND (m.date IS NULL OR m.date < ?)
            GROUP BY f.record, m.id
            """, arguments: [cutoff])
        while let row = try rows.next() {
            let id: Int64 = row[1]
            byAccount[row[0], default: []].append(id)
            if facts[id] == nil {
                let seconds: Int64? = row[2]
                facts[id] = MessageFacts(date: seconds.map { Date(timeIntervalSince1970: TimeInterval($0)) },
                                         direction: row[3], messageID: row[4])
            }
        }
        let participants = try db.cachedStatement(sql: """
            SELECT role, address, name FROM address WHERE message = ? AND role IN ('from', 'to', 'cc', 'bcc')
            """)
        let references = try db.cachedStatement(sql: "SELECT message_id FROM reference WHERE message = ?")
        var names: [String: [String: Int]] = [:]
        for id in facts.keys.sorted() {
            var seen = Set<String>()
            for row in try Row.fetchAll(participants, arguments: [id]) {
                let address: String = row[1]
                let name: String? = row[2]
                if let name, !name.isEmpty { names[address, default: [:]][name, default: 0] += 1 }
                if seen.insert(address).inserted { facts[id]!.participants.append(address) }
            }
            facts[id]!.references = try String.fetchAll(references, arguments: [id])
        }
        func commonName(_ address: String) -> String? {
            names[address]?.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key
        }

        // Subsidiaries at every level, for the roll-up.
        var children: [String: [String]] = [:]
        for account in index.directory.accounts { if let parent = account.parentID { children[parent, default: []].append(account.id) } }
        func descendants(_ id: String) -> [String] {
            var result: [String] = []
            var stack = children[id] ?? []
            var seen: Set<String> = [id]
            while let next = stack.popLast() {
                guard seen.insert(next).inserted else { continue }
                result.append(next)
                stack.append(contentsOf: children[next] ?? [])
            }
            return result.sorted()
        }

        let emptyMonths = MonthlyChart.empty(monthsEndingAt: asOf.addingTimeInterval(-1), count: options.months)
        var summaries: [ClientSummary] = []
        for account in index.directory.accounts {
            let includes = options.withSubsidiaries ? descendants(account.id) : []
            let members = Set([account.id] + includes)
            // Each message once, however many of the accounts it is filed to.
            var ids = Set(byAccount[account.id] ?? [])
            for sub in includes { ids.formUnion(byAccount[sub] ?? []) }
            let messages = ids.sorted()

            var summary = ClientSummary(id: account.id, name: account.name, parent: account.parentID, includes: includes,
                                        messages: messages.count, inbound: 0, outbound: 0, threads: 0, first: nil, last: nil,
                                        score: 0, trend: Trend(current: 0, previous: 0), staff: [], client: [], months: emptyMonths)
            var chart = MonthlyChart(months: emptyMonths)
            var weightIn = 0.0, weightOut = 0.0
            var people: [String: (messages: Int, last: Date?)] = [:]
            for id in messages {
                let fact = facts[id]!
                let inbound = fact.direction == "inbound", outbound = fact.direction == "outbound"
                if inbound { summary.inbound += 1 }
                if outbound { summary.outbound += 1 }
                for address in fact.participants {
                    var entry = people[address] ?? (0, nil)
                    entry.messages += 1
                    if let date = fact.date { entry.last = max(entry.last ?? date, date) }
                    people[address] = entry
                }
                guard let date = fact.date else { continue }
                summary.first = min(summary.first ?? date, date)
                summary.last = max(summary.last ?? date, date)
                let weight = Self.weight(age: asOf.timeIntervalSince(date), halfLifeDays: options.halfLifeDays)
                if inbound { weightIn += weight }
                if outbound { weightOut += weight }
                if date >= periodStart { summary.trend.current += 1 } else if date >= previousStart { summary.trend.previous += 1 }
                if let month = chart.index(of: date) {
                    if inbound { chart.months[month].inbound += 1 }
                    if outbound { chart.months[month].outbound += 1 }
                }
            }
            summary.score = Self.score(inbound: weightIn, outbound: weightOut)
            summary.months = chart.months
            summary.threads = Self.threadCount(messages.map { facts[$0]! })

            for (address, entry) in people {
                if index.isInternal(address) {
                    let member = index.staff(forAddress: address)
                    summary.staff.append(TeamMember(address: address, name: member?.name ?? commonName(address), staffID: member?.id,
                                                    contactID: nil, thirdParty: false, messages: entry.messages, last: entry.last))
                } else {
                    let contacts = index.contacts(forAddress: address)
                    let own = contacts.first { members.contains($0.accountID) }
                    let belongs = own != nil || index.accounts(forMainEmail: address).contains { members.contains($0.id) }
                        || index.accounts(forDomainOf: address).contains { members.contains($0.id) }
                    summary.client.append(TeamMember(address: address, name: (own ?? contacts.first)?.name ?? commonName(address),
                                                     staffID: nil, contactID: (own ?? contacts.first)?.id, thirdParty: !belongs,
                                                     messages: entry.messages, last: entry.last))
                }
            }
            summary.staff.sort(by: Self.busierFirst)
            summary.client.sort(by: Self.busierFirst)
            summaries.append(summary)
        }
        summaries.sort(by: Self.order(options.sort))
        return ClientsReport(asOf: asOf, period: options.period, periodStart: periodStart, previousStart: previousStart,
                             withSubsidiaries: options.withSubsidiaries, halfLifeDays: options.halfLifeDays, accounts: summaries)
    }

    /// Most messages first, then the latest, then by address.
    static func busierFirst(_ a: TeamMember, _ b: TeamMember) -> Bool {
        if a.messages != b.messages { return a.messages > b.messages }
        if a.last != b.last { return (a.last ?? .distantPast) > (b.last ?? .distantPast) }
        return a.address < b.address
    }

    static func order(_ sort: Sort) -> (ClientSummary, ClientSummary) -> Bool {
        { a, b in
            func byName() -> Bool { a.name != b.name ? a.name.localizedStandardCompare(b.name) == .orderedAscending : a.id < b.id }
            switch sort {
            case .score:
                if a.score != b.score { return a.score > b.score }
                if a.messages != b.messages { return a.messages > b.messages }
                return byName()
            case .messages:
                if a.messages != b.messages { return a.messages > b.messages }
                if a.score != b.score { return a.score > b.score }
                return byName()
            case .name:
                return byName()
            case .last:
                if a.last != b.last { return (a.last ?? .distantPast) > (b.last ?? .distantPast) }
                return byName()
            }
        }
    }

    /// Threads among these messages, as `ClientFile` counts them: a message joins the thread of
    /// every Message-ID it has or names.
    static func threadCount(_ messages: [MessageFacts]) -> Int {
        var union = UnionFind(count: messages.count)
        var owner: [String: Int] = [:]
        for (index, message) in messages.enumerated() {
            for id in message.references + (message.messageID.map { [$0] } ?? []) {
                if let other = owner[id] { union.join(index, other) } else { owner[id] = index }
            }
        }
        return Set(messages.indices.map { union.find($0) }).count
    }
}

/// What the clients report needs of one message.
struct MessageFacts {
    var date: Date?
    var direction: String?
    var messageID: String?
    /// From, To, Cc, Bcc addresses (lowercased), each once, in that order.
    var participants: [String] = []
    var references: [String] = []
}
