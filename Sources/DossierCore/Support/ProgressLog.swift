import Foundation
import Logging

/// Progress for runs nobody watches (cron, a systemd timer): instead of a terminal's progress bar,
/// a one-line summary through swift-log every `interval` seconds or every `step` messages,
/// whichever comes first. Lines are complete sentences of counts, so `journalctl -u` or a cron
/// mail reads as a history of the run.
///
/// Thread-safe: rematch reports from its worker threads.
public final class ProgressLog: @unchecked Sendable {
    /// The default spacing of lines: every 10 s, or every 10,000 messages.
    public static let defaultInterval: TimeInterval = 10
    public static let defaultStep = 10_000

    private let logger: Logger
    private let command: String
    private let interval: TimeInterval
    private let step: Int
    private let clock: @Sendable () -> Date
    private let lock = NSLock()
    private var lastTime: Date
    private var lastCount = 0

    /// - Parameters:
    ///   - command: "import", "rematch" or "export": the first word of every line.
    ///   - clock: the time source (tests pass their own; nothing here sleeps or waits).
    public init(command: String, interval: TimeInterval = ProgressLog.defaultInterval, step: Int = ProgressLog.defaultStep,
                clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "dossier.progress")) {
        self.command = command
        self.interval = interval
        self.step = step
        self.clock = clock
        self.logger = logger
        self.lastTime = clock()
    }

    /// Whether a line is due at `count` messages, and if so marks it written.
    func due(count: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let now = clock()
        guard now.timeIntervalSince(lastTime) >= interval || count - lastCount >= step else { return false }
        lastTime = now
        lastCount = count
        return true
    }

    /// An import's snapshot: logs a line when one is due. Returns the line it logged, if any.
    @discardableResult
    public func update(_ progress: ImportProgress) -> String? {
        guard due(count: progress.read) else { return nil }
        let line = Self.importLine(command, progress)
        logger.info("\(line)")
        return line
    }

    /// `done` of `total` messages (rematch, export): logs a line when one is due.
    @discardableResult
    public func update(_ done: Int, of total: Int, elapsed: TimeInterval) -> String? {
        guard due(count: done) else { return nil }
        let line = Self.countLine(command, done: done, total: total, elapsed: elapsed)
        logger.info("\(line)")
        return line
    }

    /// "import: 12,000 read, 11,500 stored, 300 duplicate, 150 excluded, 50 quarantined; 1,200 msg/s, 3.1 MB/s; 41% of 1.2 GB; 10 s elapsed".
    /// The stored, duplicate, excluded and quarantined counts are those committed so far.
    public static func importLine(_ command: String, _ progress: ImportProgress) -> String {
        let seconds = max(progress.elapsed, 0.001)
        var line = "\(command): \(grouped(progress.read)) read, \(grouped(progress.stored)) stored, "
            + "\(grouped(progress.duplicate)) duplicate, \(grouped(progress.excluded)) excluded, "
            + "\(grouped(progress.quarantined)) quarantined; "
            + String(format: "%.0f msg/s, %.1f MB/s", Double(progress.read) / seconds, Double(progress.bytes) / 1_048_576 / seconds)
        if progress.totalBytes > 0 {
            let fraction = min(1, Double(progress.sourceBytesDone) / Double(progress.totalBytes))
            line += String(format: "; %.0f%% of %.1f MB", fraction * 100, Double(progress.totalBytes) / 1_048_576)
        }
        return line + "; \(Int(progress.elapsed)) s elapsed"
    }

    /// "rematch: 40,000 of 85,501 messages (47%); 3,100 msg/s; 13 s elapsed".
    public static func countLine(_ command: String, done: Int, total: Int, elapsed: TimeInterval) -> String {
        let percent = total > 0 ? Int((Double(done) / Double(total) * 100).rounded(.down)) : 100
        return "\(command): \(grouped(done)) of \(grouped(total)) messages (\(percent)%); "
            + String(format: "%.0f msg/s", Double(done) / max(elapsed, 0.001)) + "; \(Int(elapsed)) s elapsed"
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 && character != "-" && out != "-" { out.append(",") }
            out.append(character)
        }
        return out
    }
}

/// The command line's logging: to stderr (stdout carries reports and JSON), at `info`.
public enum DossierLogging {
    /// Call once, before anything logs.
    public static func bootstrap() {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
    }
}
