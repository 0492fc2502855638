import Foundation
import GRDB

/// Options of one `dossier rematch`.
public struct RematchOptions: Sendable {
    /// Compute and report, write nothing (no run is recorded either).
    public var dryRun = false
    /// Parsing threads; defaults to the machine's cores.
    public var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Called from the parsing threads with (messages handed out so far, messages in all, seconds
    /// since the start), for a progress display or log; it must be thread-safe.
    public var progress: (@Sendable (Int, Int, Double) -> Void)?
    /// Changed messages per write transaction.
    public var batchSize = 1000
    /// The command line, recorded with the run.
    public var commandLine: [String] = []

    public init() {}
}

/// What `rematch` moved.
public struct RematchReport: Sendable, Codable, Equatable {
    /// How many messages went from one status to another (including those that stayed).
    public struct Transition: Sendable, Codable, Equatable {
        public var from: String
        public var to: String
        public var count: Int
    }

    /// The run recorded (nil for a dry run).
    public var run: Int64?
    public var dryRun: Bool
    /// The CRM load filed against.
    public var crmLoad: Int64?
    /// Messages with content, all considered.
    public var messages: Int
    /// Of those, noise: another stage's decision, left as it was.
    public var noiseKept: Int
    /// Messages whose filing was rewritten (status, reason, evidence, records, direction or context).
    public var updated: Int
    public var transitions: [Transition]
    /// Messages whose status or records changed, in archive order.
    public var changes: [FilingChange]
    /// Stored messages the directory now excludes, by reason (their content stays in the archive).
    public var excludedWithContent: [String: Int]
    /// Messages excluded when imported: no content, so not re-filed (importing their mail again does).
    public var withoutContent: Int
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case run, messages, updated, transitions, changes, seconds
        case dryRun = "dry_run"
        case crmLoad = "crm_load"
        case noiseKept = "noise_kept"
        case excludedWithContent = "excluded_with_content"
        case withoutContent = "without_content"
    }

    /// The changes whose records moved (not only the status).
    public var recordChanges: [FilingChange] { changes.filter(\.recordsChanged) }
}

/// `dossier rematch`: re-files every message with content against the CRM directory in force,
/// as a fresh import of the same mail would file it, keeping manual decisions and noise.
///
/// 1. One read: the stored messages, their current filing (for the diff), manual decisions and
///    where each original lives.
/// 2. Workers (one per core) read each original from its pack, parse it and run the rules that
///    need only the message (`Filer.prefile`), as the importer's workers do.
/// 3. The thread rule is solved over the whole archive at once in memory (`ThreadConvergence`):
///    the least fixpoint, which is what an import converges to in any order. Replies and their
///    parents are therefore consistent without writing intermediate decisions first.
/// 4. One writer writes only what changed, in transactions of `batchSize` messages. Every
///    original is read before anything is written, so a missing object fails the rematch whole;
///    an interrupted one is finished by running it again (it recomputes everything).
///
/// A stored message the directory now excludes (blacklist, excluded contact, or nothing matched
/// in `mode: matched_only`) becomes `excluded` with that reason, its content kept; the window is
/// an import's choice and is not re-applied. Noise is the noise stage's decision and is left as is.
public final class Rematcher {
    public let archive: Archive
    public let options: RematchOptions

    public init(archive: Archive, options: RematchOptions = RematchOptions()) {
        self.archive = archive
        self.options = options
    }

    private struct Message: Sendable {
        var id: Int64
        var key: String
        var messageID: String?
        var sha256: String
        var location: PackLocation?
        var filing: String
        var reason: String?
        var evidence: String?
        var direction: String?
        var context: String?
    }

    private struct Parsed: Sendable {
        var pre: PreFiling
        var bytes: Int
    }

    public func run() throws -> RematchReport {
        let started = Date()
        // It reads every original at the location it read first: no repair may move one meanwhile.
        let lock = try ArchiveLock.acquire(.shared, root: archive.path, wait: true)
        defer { withExtendedLifetime(lock) {} }
        // One writing run at a time (an import or another rematch: ArchiveBusy at once).
        let writer = options.dryRun ? nil : try WriterLock.acquire(archive)
        defer { withExtendedLifetime(writer) {} }
        if writer != nil { WriterRecovery.reclaimPackTails(archive) }
        let (directory, load, messages, oldMatches, manuals, withoutContent) = try archive.database.read { db in
            (try CRMStore.activeDirectory(in: db), try CRMStore.activeLoad(in: db), try Self.messages(db), try Self.allMatches(db),
             try Self.allManual(db), try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE status <> 'stored'") ?? 0)
        }
        guard let directory else { throw FilingError.noDirectory }
        let filer = Filer(index: CRMIndex(directory))

        var runID: Int64?
        if !options.dryRun {
            let arguments = String(decoding: try JSONEncoder().encode(options.commandLine), as: UTF8.self)
            runID = try archive.database.write { db -> Int64 in
                try db.execute(sql: "INSERT INTO run (command, arguments, started_at, status) VALUES ('rematch', ?, ?, 'running')",
                               arguments: [arguments, Timestamp.format(started)])
                return db.lastInsertedRowID
            }
        }
        var ledger = RunLedger(run: runID ?? 0, command: "rematch", status: "running", startedAt: Timestamp.format(started))
        do {
            let report = try rematch(messages, oldMatches: oldMatches, manuals: manuals, filer: filer, ledger: &ledger)
            var result = report
            result.run = runID
            result.crmLoad = load?.id
            result.withoutContent = withoutContent
            result.seconds = Date().timeIntervalSince(started)
            if runID != nil {
                ledger.status = "completed"
                ledger.finishedAt = Timestamp.now()
                let final = ledger
                try archive.database.write { db in try final.save(db) }
            }
            return result
        } catch {
            if runID != nil {
                ledger.status = "failed"
                ledger.error = "\(error)"
                ledger.finishedAt = Timestamp.now()
                let final = ledger
                try? archive.database.write { db in try final.save(db) }
            }
            throw error
        }
    }

    private func rematch(_ messages: [Message], oldMatches: [Int64: [FilingMatch]], manuals: [Int64: ManualFiling],
                         filer: Filer, ledger: inout RunLedger) throws -> RematchReport {
        let noise = FilingStatus.noise.rawValue
        let parsed = try parseAll(messages, filer: filer)

        // Decide: the statuses ranked above filing, then the thread rule over everything at once.
        var preceding = [FilingDecision?](repeating: nil, count: messages.count)
        var nodes: [ThreadConvergence.Node] = []
        nodes.reserveCapacity(messages.count)
        for (index, message) in messages.enumerated() {
            guard let pre = parsed[index]?.pre else {
                // Noise: left as it is, and it passes nothing on to replies (it is not filed).
                nodes.append(ThreadConvergence.Node(messageID: message.messageID, references: [], byRules: false, direct: [],
                                                    manual: ManualFiling()))
                continue
            }
            let manual = manuals[message.id] ?? ManualFiling()
            preceding[index] = filer.precedingDecision(pre, manual: manual)
            nodes.append(ThreadConvergence.Node(messageID: message.messageID, references: pre.references,
                                                byRules: preceding[index] == nil, direct: pre.direct, manual: manual))
        }
        let thread = ThreadConvergence(nodes: nodes).solve(filer: filer)
        var decisions: [FilingDecision?] = []
        decisions.reserveCapacity(messages.count)
        for index in messages.indices {
            guard parsed[index] != nil else { decisions.append(nil); continue }
            decisions.append(preceding[index] ?? filer.combine(direct: nodes[index].direct, thread: thread[index], manual: nodes[index].manual))
        }

        // Direction and context as an import would record them (excluded messages have none).
        var directions: [String: Direction] = [:]
        for (index, message) in messages.enumerated() {
            guard let id = message.messageID else { continue }
            if let decision = decisions[index] {
                if decision.status != .excluded, let pre = parsed[index]?.pre { directions[id] = pre.direction }
            } else if let direction = message.direction.flatMap(Direction.init(rawValue:)) {
                directions[id] = direction
            }
        }

        // The diff, and what to write.
        var transitions: [String: Int] = [:]
        var changes: [FilingChange] = []
        var excluded: [String: Int] = [:]
        var writes: [(Int, FilingDecision, String?, String?)] = []
        var noiseKept = 0
        for (index, message) in messages.enumerated() {
            ledger.read += 1
            ledger.bytes += Int64(parsed[index]?.bytes ?? 0)
            guard let decision = decisions[index], let pre = parsed[index]?.pre else {
                noiseKept += 1
                ledger.stored += 1
                transitions[noise + "\u{0}" + noise, default: 0] += 1
                continue
            }
            let status = decision.status.rawValue
            transitions[message.filing + "\u{0}" + status, default: 0] += 1
            if decision.status == .excluded {
                excluded[decision.reason ?? "excluded", default: 0] += 1
                ledger.excluded += 1
                ledger.excludedReasons[decision.reason ?? "excluded", default: 0] += 1
            } else {
                ledger.stored += 1
            }
            // An unmatched reply keeps its content for a parent that may still file it, and an
            // import records its direction and context as for any filed message (the thread
            // files it later without deciding them again); other excluded mail has neither.
            let waiting = decision.status == .excluded && decision.reason == "unmatched" && !pre.references.isEmpty
            let direction = decision.status == .excluded && !waiting ? nil : pre.direction.rawValue
            let context = decision.status == .excluded && !waiting ? nil
                : FilingStore.context(references: pre.references, index: filer.index) { directions[$0] }.rawValue
            let old = oldMatches[message.id] ?? []
            let oldRecords = Array(Set(old.map(\.record))).sorted()
            let newRecords = decision.records
            if status != message.filing || oldRecords != newRecords {
                changes.append(FilingChange(key: message.key, oldStatus: message.filing, newStatus: status,
                                            oldRecords: oldRecords.map(\.description), newRecords: newRecords.map(\.description)))
            }
            if status != message.filing || decision.reason != message.reason || decision.evidence?.rawValue != message.evidence
                || direction != message.direction || context != message.context || Set(decision.matches) != Set(old) {
                writes.append((index, decision, direction, context))
            }
        }

        if !options.dryRun {
            let store = FilingStore(filer: filer)
            var start = 0
            let batchSize = max(1, options.batchSize)
            while start < writes.count {
                let batch = writes[start..<min(start + batchSize, writes.count)]
                try archive.database.write { db in
                    let update = try db.cachedStatement(sql: "UPDATE message SET direction = ?, context = ? WHERE id = ?")
                    for (index, decision, direction, context) in batch {
                        let id = messages[index].id
                        try store.save(decision, messageRowID: id, db)
                        try update.execute(arguments: [direction, context, id])
                    }
                }
                start += batchSize
            }
        }

        let order = FilingStatus.allCases.map(\.rawValue)
        let list = transitions.map { entry -> RematchReport.Transition in
            let parts = entry.key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            return RematchReport.Transition(from: parts[0], to: parts[1], count: entry.value)
        }.sorted { a, b in
            let (fa, fb) = (order.firstIndex(of: a.from) ?? order.count, order.firstIndex(of: b.from) ?? order.count)
            if fa != fb { return fa < fb }
            if a.from != b.from { return a.from < b.from }
            return (order.firstIndex(of: a.to) ?? order.count, a.to) < (order.firstIndex(of: b.to) ?? order.count, b.to)
        }
        return RematchReport(run: nil, dryRun: options.dryRun, crmLoad: nil, messages: messages.count, noiseKept: noiseKept,
                             updated: writes.count, transitions: list, changes: changes, excludedWithContent: excluded,
                             withoutContent: 0, seconds: 0)
    }

    /// Reads, parses and pre-files every message but noise, on `options.workers` threads.
    private func parseAll(_ messages: [Message], filer: Filer) throws -> [Parsed?] {
        let results = ParsedSlots<Parsed>(count: messages.count)
        let next = WorkCounter(limit: messages.count)
        let archive = self.archive
        let noise = FilingStatus.noise.rawValue
        let progress = options.progress
        let started = Date()
        let group = DispatchGroup()
        for _ in 0..<max(1, options.workers) {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                let profiles = AddressProfiles()
                while let range = next.take(32) {
                    progress?(range.upperBound, messages.count, Date().timeIntervalSince(started))
                    for index in range {
                        let message = messages[index]
                        if message.filing == noise { continue }
                        do {
                            let bytes: [UInt8]
                            if let location = message.location {
                                bytes = try archive.packs.readOriginal(at: location)
                            } else {
                                bytes = try archive.readOriginal(sha256: message.sha256)
                            }
                            let facts = FilingFacts(MessageParser.parse(bytes, limits: .default, attachmentData: false))
                            results.set(index, Parsed(pre: filer.prefile(facts, profiles: profiles), bytes: bytes.count))
                        } catch {
                            results.fail("message \(message.key): \(error)")
                            next.stop()
                        }
                    }
                }
            }
            // As the importer's workers: deeply nested MIME is bounded, a large stack is belt and braces.
            thread.stackSize = 1 << 24
            thread.start()
        }
        group.wait()
        if let failure = results.failure { throw ImportError.archiveFailure("cannot read an original: \(failure)") }
        return results.values
    }

    // MARK: Reads

    private static func messages(_ db: Database) throws -> [Message] {
        try Row.fetchAll(db, sql: """
            SELECT m.id, m.key, m.message_id, m.sha256, m.filing, m.filing_reason, m.evidence, m.direction, m.context,
                   p.name AS pack, b.offset, b.length
            FROM message m LEFT JOIN blob b ON b.sha256 = m.sha256 LEFT JOIN pack p ON p.id = b.pack
            WHERE m.status = 'stored' ORDER BY m.id
            """).map { row in
            let pack: String? = row["pack"]
            return Message(id: row["id"], key: row["key"], messageID: row["message_id"], sha256: row["sha256"],
                           location: pack.map { PackLocation(pack: $0, offset: row["offset"], length: row["length"]) },
                           filing: row["filing"] ?? FilingStatus.unassigned.rawValue, reason: row["filing_reason"],
                           evidence: row["evidence"], direction: row["direction"], context: row["context"])
        }
    }

    private static func allMatches(_ db: Database) throws -> [Int64: [FilingMatch]] {
        var result: [Int64: [FilingMatch]] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT message, rule, kind, record, matched, via FROM filing_match")
        while let row = try rows.next() {
            guard let rule = FilingRule(rawValue: row[1]), let kind = CRMRecordKind(rawValue: row[2]) else { continue }
            let via = (row[5] as String?).flatMap(CRMRecordRef.init(parsing:))
            result[row[0], default: []].append(FilingMatch(rule: rule, record: CRMRecordRef(kind, row[3]), matched: row[4], via: via))
        }
        return result
    }

    private static func allManual(_ db: Database) throws -> [Int64: ManualFiling] {
        var result: [Int64: ManualFiling] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT message, action, kind, record FROM manual_filing ORDER BY message, at") {
            guard let kind = CRMRecordKind(rawValue: row[2]) else { continue }
            let record = CRMRecordRef(kind, row[3])
            if (row[1] as String) == ManualAction.assign.rawValue {
                result[row[0], default: ManualFiling()].assigned.append(record)
            } else {
                result[row[0], default: ManualFiling()].removed.insert(record)
            }
        }
        return result
    }
}

/// Hands out index ranges to the rematch workers.
private final class WorkCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func take(_ count: Int) -> Range<Int>? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        let range = next..<min(next + count, limit)
        next = range.upperBound
        return range
    }

    func stop() {
        lock.lock()
        next = limit
        lock.unlock()
    }
}

/// The workers' results, one slot per message, each written by one worker.
private final class ParsedSlots<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]
    private(set) var failure: String?

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    func fail(_ message: String) {
        lock.lock()
        if failure == nil { failure = message }
        lock.unlock()
    }

    var values: [Value?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
