import Foundation
import GRDB

/// The account of one run: every item read is stored, a duplicate, excluded (why) or
/// quarantined (why), so `read == stored + duplicate + excluded + quarantined` always holds.
/// What the run found but deliberately did not read (symbolic links inside the sources, see
/// `SymlinkPolicy`) is `skipped`, with reasons and paths: outside `read`, so outside the balance.
public struct RunLedger: Sendable, Codable, Equatable {
    public var run: Int64
    public var command: String
    public var status: String
    public var startedAt: String
    public var finishedAt: String?
    public var read = 0
    public var stored = 0
    public var duplicate = 0
    public var quarantined = 0
    public var excluded = 0
    public var quarantineReasons: [String: Int] = [:]
    public var excludedReasons: [String: Int] = [:]
    /// Messages first seen in this run that are noise, by kind (bounce, newsletter, ...). Noise
    /// kept in the archive (`noise.store: true`) is also counted in `stored`; noise counted only is
    /// also in `excluded` (reason `noise`), so the balance holds either way.
    public var noise = 0
    public var noiseReasons: [String: Int] = [:]
    /// Paths found in the sources and not read (never counted in `read`), by reason.
    public var skipped = 0
    public var skippedReasons: [String: Int] = [:]
    /// The first `maxSkippedPaths` skipped paths, each with its reason.
    public var skippedPaths: [SkippedPath] = []
    public var bytes: Int64 = 0
    public var sources = 0
    public var seconds: Double = 0
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case run, command, status, read, stored, duplicate, quarantined, excluded, noise, skipped, bytes, sources, seconds, error
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case quarantineReasons = "quarantine_reasons"
        case excludedReasons = "excluded_reasons"
        case noiseReasons = "noise_reasons"
        case skippedReasons = "skipped_reasons"
        case skippedPaths = "skipped_paths"
    }

    /// Skipped paths kept one by one (the count and reasons cover all of them): a tree of a
    /// million links must not make every commit of the ledger a million rows.
    public static let maxSkippedPaths = 1000

    public init(run: Int64, command: String, status: String, startedAt: String) {
        self.run = run
        self.command = command
        self.status = status
        self.startedAt = startedAt
    }

    public var isBalanced: Bool { read == stored + duplicate + quarantined + excluded }

    public var messagesPerSecond: Double { seconds > 0 ? Double(read) / seconds : 0 }
    public var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / 1_048_576 / seconds : 0 }

    /// Counts what the planner found and did not read.
    mutating func skip(_ paths: [SkippedPath]) {
        skipped += paths.count
        for path in paths { skippedReasons[path.reason, default: 0] += 1 }
        skippedPaths += paths.prefix(max(0, Self.maxSkippedPaths - skippedPaths.count))
    }

    mutating func count(_ outcome: ItemOutcome) {
        read += 1
        switch outcome {
        case .stored: stored += 1
        case .duplicate: duplicate += 1
        case .excluded(let reason):
            excluded += 1
            excludedReasons[reason, default: 0] += 1
        case .quarantined(let reason):
            quarantined += 1
            quarantineReasons[reason, default: 0] += 1
        }
    }

    /// Counts this run's noise by kind from the archive: the messages first stored by the run whose
    /// status is noise now (a reply whose weak signals a filed parent outranked is no longer noise).
    /// - Parameter firstID: no message of this run has a smaller row id (the largest id before the
    ///   run, plus one): the count reads this run's noise rows, not the archive's. The importer
    ///   counts at its last commit; the commits before take the writer's `NoiseTally`.
    /// - Parameter redecided: rows an earlier run recorded that this run decided again (an
    ///   exclusion record rewritten, or given content): their noise is this run's too, so the
    ///   noise counts agree with the excluded and stored ones ("excluded 18 (18 noise)").
    mutating func countNoise(_ db: Database, firstID: Int64, redecided: Set<Int64> = []) throws {
        var reasons: [String: Int] = [:]
        let ids = "[" + redecided.sorted().map(String.init).joined(separator: ",") + "]"
        for row in try Row.fetchAll(db.cachedStatement(sql: """
            SELECT filing_reason, COUNT(*) FROM message
            WHERE filing = 'noise' AND ((id >= ? AND first_run = ?) OR id IN (SELECT value FROM json_each(?))) GROUP BY filing_reason
            """), arguments: [firstID, run, ids]) {
            reasons[row[0] ?? "noise"] = row[1]
        }
        setNoise(reasons)
    }

    /// Takes the noise counts the writer kept (`NoiseTally`) between two counts from the archive.
    mutating func setNoise(_ reasons: [String: Int]) {
        noiseReasons = reasons
        noise = reasons.values.reduce(0, +)
    }

    /// Writes the counts into the run's rows (inside the caller's transaction, so the ledger in the
    /// database always matches what was committed).
    func save(_ db: Database) throws {
        try db.execute(sql: """
            UPDATE run SET status = ?, finished_at = ?, read = ?, stored = ?, duplicate = ?, quarantined = ?,
                           excluded = ?, bytes_read = ?, sources = ?, error = ?
            WHERE id = ?
            """, arguments: [status, finishedAt, read, stored, duplicate, quarantined, excluded, bytes, sources, error, run])
        try db.execute(sql: "DELETE FROM run_reason WHERE run = ?", arguments: [run])
        for (outcome, reasons) in [("quarantined", quarantineReasons), ("excluded", excludedReasons), ("noise", noiseReasons)] {
            for (reason, count) in reasons {
                try db.execute(sql: "INSERT INTO run_reason (run, outcome, reason, count) VALUES (?, ?, ?, ?)",
                               arguments: [run, outcome, reason, count])
            }
        }
        // Skipped counts by reason (outcome `skipped`) and each skipped path (outcome `skipped_path`,
        // reason "PATH<TAB>REASON", count = its place in the list): run_reason holds them without a
        // new column or table.
        for (reason, count) in skippedReasons {
            try db.execute(sql: "INSERT INTO run_reason (run, outcome, reason, count) VALUES (?, 'skipped', ?, ?)",
                           arguments: [run, reason, count])
        }
        for (index, skippedPath) in skippedPaths.enumerated() {
            try db.execute(sql: "INSERT OR IGNORE INTO run_reason (run, outcome, reason, count) VALUES (?, 'skipped_path', ?, ?)",
                           arguments: [run, skippedPath.path + "\t" + skippedPath.reason, index])
        }
    }

    /// Loads a run's ledger; the latest run when `run` is nil.
    public static func load(_ db: Database, run: Int64? = nil) throws -> RunLedger? {
        let row: Row?
        if let run {
            row = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [run])
        } else {
            row = try Row.fetchOne(db, sql: "SELECT * FROM run ORDER BY id DESC LIMIT 1")
        }
        guard let row else { return nil }
        var ledger = RunLedger(run: row["id"], command: row["command"], status: row["status"], startedAt: row["started_at"])
        ledger.finishedAt = row["finished_at"]
        ledger.read = row["read"]
        ledger.stored = row["stored"]
        ledger.duplicate = row["duplicate"]
        ledger.quarantined = row["quarantined"]
        ledger.excluded = row["excluded"]
        ledger.bytes = row["bytes_read"]
        ledger.sources = row["sources"]
        ledger.error = row["error"]
        if let finished = ledger.finishedAt, let start = Timestamp.parse(ledger.startedAt), let end = Timestamp.parse(finished) {
            ledger.seconds = end.timeIntervalSince(start)
        }
        var skippedPaths: [(Int, SkippedPath)] = []
        for reason in try Row.fetchAll(db, sql: "SELECT outcome, reason, count FROM run_reason WHERE run = ?", arguments: [ledger.run]) {
            let outcome: String = reason["outcome"]
            switch outcome {
            case "quarantined": ledger.quarantineReasons[reason["reason"]] = reason["count"]
            case "noise": ledger.noiseReasons[reason["reason"]] = reason["count"]
            case "skipped": ledger.skippedReasons[reason["reason"]] = reason["count"]
            case "skipped_path":
                let text: String = reason["reason"]
                // Split at the last tab: a path may hold tabs, a reason never does.
                let tab = text.lastIndex(of: "\t") ?? text.endIndex
                let why = tab == text.endIndex ? "" : String(text[text.index(after: tab)...])
                skippedPaths.append((reason["count"], SkippedPath(path: String(text[..<tab]), reason: why)))
            default: ledger.excludedReasons[reason["reason"]] = reason["count"]
            }
        }
        ledger.noise = ledger.noiseReasons.values.reduce(0, +)
        ledger.skipped = ledger.skippedReasons.values.reduce(0, +)
        ledger.skippedPaths = skippedPaths.sorted { $0.0 < $1.0 }.map(\.1)
        return ledger
    }
}

/// RFC 3339 timestamps with fractional seconds, for run records.
enum Timestamp {
    static func now() -> String { format(Date()) }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
