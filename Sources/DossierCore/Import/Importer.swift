import Foundation
import GRDB
import Logging

/// Options of one `dossier import` run.
public struct ImportOptions: Sendable {
    public var paths: [String]
    /// `--mailbox NAME`: the mailbox every source is recorded under; nil derives it from the path.
    public var mailbox: String?
    /// `--folders GLOB`: only folders matching one of these are read.
    public var folderGlobs: [String] = []
    /// `--since/--until`.
    public var window: DateWindow = .unbounded
    /// Parsing threads; defaults to the machine's cores.
    public var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// gzip level of stored originals (1 fastest .. 9 smallest).
    public var compressionLevel: Int32 = 1
    /// Messages per database transaction (a transaction also ends at half the byte budget).
    /// Each commit writes every page it touched to the WAL, and inserts into indexes keyed by
    /// hashes and Message-IDs touch pages all over them: at 5,000 rather than 1,000, a 100k
    /// import spent about 9 s instead of 15 s in the kernel.
    public var batchSize: Int = 5000
    /// The command line, recorded with the run.
    public var commandLine: [String] = []
    /// `--dry-run`: the whole run happens in one transaction that is rolled back at the end, and no
    /// object (pack, attachment, quarantine file) is written; duplicates and thread filing are
    /// decided against the archive as it is. See `Importer.dryRun(archiveAt:options:...)`.
    public var dryRun = false
    /// The CRM directory to file against instead of the one in force (`--dry-run --crm DIR`).
    public var directory: CRMDirectory?
    /// The sources to read, planned by the caller (the drop folder names each file it hands
    /// over); nil plans `paths` with `SourcePlanner`.
    public var plan: SourcePlan?
    /// How long a reply that no rule filed (matched_only's unmatched replies; weak-noise replies
    /// when noise is only counted) keeps its content, unsearchable, for a parent that a later
    /// run may bring and whose thread would file it: from the end of the run that read it. Past
    /// it, the next import purges it as the spec says. 0 purges at the end of its own run.
    public var replyWait: TimeInterval = ImportOptions.defaultReplyWait
    /// 30 days: a nightly drop folder, or one mailbox imported per run over weeks, converges.
    public static let defaultReplyWait: TimeInterval = 30 * 86_400

    public init(paths: [String]) {
        self.paths = paths
    }
}

/// A snapshot of a running import, for progress display.
public struct ImportProgress: Sendable {
    public var read: Int
    public var bytes: Int64
    /// Bytes of the sources fully read plus those of the current one so far: with `totalBytes`,
    /// the fraction done.
    public var sourceBytesDone: Int64
    public var totalBytes: Int64
    public var elapsed: Double
    /// What the run has committed so far (the ledger's counts at the last commit).
    public var stored = 0
    public var duplicate = 0
    public var excluded = 0
    public var quarantined = 0

    public init(read: Int, bytes: Int64, sourceBytesDone: Int64, totalBytes: Int64, elapsed: Double,
                stored: Int = 0, duplicate: Int = 0, excluded: Int = 0, quarantined: Int = 0) {
        self.read = read
        self.bytes = bytes
        self.sourceBytesDone = sourceBytesDone
        self.totalBytes = totalBytes
        self.elapsed = elapsed
        self.stored = stored
        self.duplicate = duplicate
        self.excluded = excluded
        self.quarantined = quarantined
    }
}

/// Runs an import: sources -> parse (all cores) -> classify -> store (one writer), in read
/// order, in bounded memory, with a ledger that balances.
///
/// Threads: one reader walks the sources in order; `workers` threads prepare messages
/// (`MessagePreparer`); the calling thread writes them to SQLite in sequence order, in batches,
/// each batch committed together with the run's ledger. Memory is bounded by a byte budget on
/// messages in flight. An interrupted or crashed import is resumed by running it again: what was
/// committed is recognised as duplicate, the rest is imported.
public final class Importer {
    public let archive: Archive
    public let options: ImportOptions
    private let logger = Logger(label: "dossier.import")

    public init(archive: Archive, options: ImportOptions) {
        self.archive = archive
        self.options = options
    }

    /// Plans the sources (throws `SourceError.notFound` before anything is written), then imports.
    /// - Parameter preview: called with one row per item read, in read order, as the writer
    ///   stores it (and at the end with rows for messages re-filed after their row was given).
    public func run(cancellation: CancellationFlag = CancellationFlag(),
                    progress: ((ImportProgress) -> Void)? = nil,
                    preview: ((ImportPreviewRow) -> Void)? = nil) throws -> RunLedger {
        let plan = try options.plan ?? SourcePlanner.plan(paths: options.paths, mailbox: options.mailbox, folderGlobs: options.folderGlobs,
                                                          excluding: [archive.path], measuringMaildirs: progress != nil)
        // The CRM directory in force (`CRMDirectory.none` when none was loaded: everything unassigned).
        let directory = try options.directory ?? archive.database.read { try CRMStore.activeDirectory(in: $0) } ?? CRMDirectory.none
        // Held shared for the whole run: `verify --repair` must not take this run's uncommitted
        // objects for a killed import's leftovers, nor move originals it reads (see ArchiveLock).
        let lock = try ArchiveLock.acquire(.shared, root: archive.path, wait: true)
        defer { withExtendedLifetime(lock) {} }
        guard options.dryRun else {
            // One writing run at a time; a second one exits at once (ArchiveBusy).
            let writer = try WriterLock.acquire(archive)
            defer { withExtendedLifetime(writer) {} }
            // The only writer now: pack bytes a killed run appended are cut back (WriterRecovery).
            WriterRecovery.reclaimPackTails(archive)
            return try run(plan, directory, WriteSession(pool: archive.database, held: nil), cancellation, progress, preview)
        }
        // Dry run: everything the writer does happens in one transaction that is rolled back, so
        // the run sees (and files against) the archive as it is and leaves it as it was.
        var ledger: RunLedger?
        try archive.database.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                ledger = try run(plan, directory, WriteSession(pool: archive.database, held: db), cancellation, progress, preview)
                return .rollback
            }
        }
        return ledger!
    }

    private func run(_ plan: SourcePlan, _ directory: CRMDirectory, _ session: WriteSession, _ cancellation: CancellationFlag,
                     _ progress: ((ImportProgress) -> Void)?, _ preview: ((ImportPreviewRow) -> Void)?) throws -> RunLedger {
        let started = Date()
        let startedAt = Timestamp.format(started)
        let arguments = String(decoding: try JSONEncoder().encode(options.commandLine), as: UTF8.self)
        let runID = try session.write { db -> Int64 in
            try db.execute(sql: "PRAGMA cache_size = -\(Self.writerCacheKiB)")
            try db.execute(sql: "INSERT INTO run (command, arguments, started_at, status) VALUES ('import', ?, ?, 'running')",
                           arguments: [arguments, startedAt])
            return db.lastInsertedRowID
        }
        defer { try? session.write { db in try db.execute(sql: "PRAGMA cache_size = -\(Archive.cacheKiB)") } }
        // Message rows are numbered upwards: every row this run inserts has a larger id.
        let firstMessageID = try session.write { try Int64.fetchOne($0, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM message") ?? 1 }
        var ledger = RunLedger(run: runID, command: "import", status: "running", startedAt: startedAt)
        ledger.sources = plan.sources.count
        ledger.skip(plan.skipped) // links inside the sources, never read (SymlinkPolicy)

        let filer = Filer(index: CRMIndex(directory))
        // --since/--until override rules.yaml's window.
        let window = options.window.isUnbounded ? directory.rules.window.dateWindow : options.window
        var classifiers: [any MessageClassifier] = []
        if !window.isUnbounded { classifiers.append(window) }
        // Room in the filter of known originals for every message the plan expects.
        let pendingBlobs = try session.write { try PendingBlobs(loading: $0, expectedNew: plan.expectedMessages) }
        let keepNoise = directory.rules.noise.store
        let preparer = MessagePreparer(objects: archive.objects, database: archive.database, pending: pendingBlobs,
                                       classifiers: classifiers, filer: filer, noise: NoiseClassifier(index: filer.index),
                                       keepNoise: keepNoise, compressionLevel: options.compressionLevel,
                                       limits: .default, dryRun: options.dryRun)

        let budget = ByteBudget(limit: 32 << 20)
        let work = BlockingQueue<(Int, Reading)>(capacity: 256)
        let results = ReorderBuffer<(PreparedItem, Int, Int64)>()
        let progressState = SourceProgress()

        // Reader: one thread, sources in plan order.
        let reader = Thread {
            ThreadPriority.yieldToWriter()
            var sequence = 0
            var doneBytes: Int64 = 0
            for source in plan.sources {
                if cancellation.isCancelled { break }
                do {
                    var messages = try source.openReader()
                    while !cancellation.isCancelled {
                        let next: RawMessage?
                        do {
                            next = try messages.next()
                        } catch let error as SourceError where error.isPerMessage {
                            // One message skipped unread; the reader has stepped over it and goes on.
                            let location = MessageLocation(mailbox: source.mailbox, path: error.path, offset: Self.offset(of: error),
                                                           folder: source.folder)
                            work.push((sequence, .unreadable(location, "\(error)")))
                            sequence += 1
                            continue
                        }
                        guard let raw = next else { break }
                        budget.acquire(raw.bytes.count)
                        work.push((sequence, .message(raw)))
                        sequence += 1
                    }
                } catch {
                    let location = MessageLocation(mailbox: source.mailbox, path: source.path, offset: Self.offset(of: error),
                                                   folder: source.folder)
                    work.push((sequence, .unreadable(location, "\(error)")))
                    sequence += 1
                }
                doneBytes += source.byteSize
                progressState.set(doneBytes)
            }
            results.finish(total: sequence)
            work.close()
        }
        reader.stackSize = 1 << 22
        reader.start()

        // Workers: prepare in parallel, results land in the reorder buffer.
        let workerCount = max(1, options.workers)
        let group = DispatchGroup()
        for _ in 0..<workerCount {
            let packStore = archive.packs
            let thread = Thread {
                ThreadPriority.yieldToWriter()
                let packs = PackWriter(store: packStore, bufferLimit: Self.packBufferBytes)
                let profiles = AddressProfiles()
                // Results are handed on in small groups, after their originals are written to the
                // pack in one call (see PackWriter), and always before the worker waits for work:
                // the writer may need them to commit, and only commits free the reader's budget.
                var held: [(Int, (PreparedItem, Int, Int64))] = []
                func handOn() {
                    do { try packs.flush() } catch {
                        for index in held.indices {
                            if case .message(let message) = held[index].1.0, message.blob != nil {
                                held[index].1.0 = .failure("cannot write to the archive: \(error)")
                            }
                        }
                    }
                    results.put(contentsOf: held)
                    held.removeAll(keepingCapacity: true)
                }
                while true {
                    var next = work.popWithoutWaiting()
                    if next == nil {
                        handOn()
                        next = work.pop()
                    }
                    guard let (sequence, reading) = next else { break }
                    switch reading {
                    case .message(let raw):
                        held.append((sequence, (preparer.prepare(raw, packs: packs, profiles: profiles), raw.bytes.count, Int64(raw.bytes.count))))
                    case .unreadable(let location, let reason):
                        held.append((sequence, (.quarantine(location: location, reason: reason, sha256: nil, size: 0), 0, 0)))
                    }
                    if held.count >= Self.handOnCount { handOn() }
                }
                handOn()
                group.leave()
            }
            // Deeply nested MIME is bounded by ParseLimits; a larger stack is belt and braces.
            thread.stackSize = 1 << 24
            group.enter()
            thread.start()
        }

        // Writer: this thread, in sequence order, in batches.
        // References: about two per message.
        let referenced = try session.write { try ReferencedIDs(loading: $0, expectedNew: 2 * plan.expectedMessages) }
        let writer = ArchiveWriter(runID: runID, filer: filer, packs: archive.packs, keepNoise: keepNoise, referenced: referenced)
        let checkpointer = options.dryRun ? nil : try? WALCheckpointer(pool: archive.database)
        var failure: Error?
        var pending: [(PreparedItem, Int, Int64)] = []
        var pendingBudget = 0
        var lastCommit = Date()
        var lastProgress = Date.distantPast
        func commit(final: Bool) throws {
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            pendingBudget = 0
            let now = Date()
            var next = ledger
            // Objects first, rows second: a committed row must never point at an object that is
            // still only in the page cache. Every object of this batch is written by now, so the
            // flush runs on another thread while the rows are inserted, and the commit waits for it.
            // (A dry run writes no objects: nothing to flush.)
            let objects = archive.objects
            let flush = options.dryRun ? nil : BackgroundTask { try objects.flush() }
            try session.write { db in
                for (item, _, bytes) in batch {
                    let outcome = try writer.write(item, db)
                    next.count(outcome)
                    next.bytes += bytes
                    if let preview { preview(try ImportPreview.row(for: item, outcome: outcome, db)) }
                }
                next.seconds = now.timeIntervalSince(started)
                if final {
                    try next.countNoise(db, firstID: firstMessageID, redecided: writer.redecided.ids)
                    assert(next.noiseReasons == writer.noiseTally.counts,
                           "noise tally \(writer.noiseTally.counts) differs from the archive's \(next.noiseReasons)")
                } else {
                    next.setNoise(writer.noiseTally.counts)
                }
                try next.save(db)
                try flush?.wait()
                try FaultPoint.check(.midTransaction)
            }
            try FaultPoint.check(.afterCommit)
            checkpointer?.committed()
            // Indexed now: later copies find these originals in the database.
            pendingBlobs.release(batch.lazy.compactMap { entry -> String? in
                if case .message(let message) = entry.0, message.blob != nil { return message.sha256 }
                return nil
            })
            ledger = next
            for (_, budgetBytes, _) in batch { budget.release(budgetBytes) }
            lastCommit = now
        }
        // The budget is released only by commits, so the writer must never sit on uncommitted
        // messages while waiting: the reader may be blocked on that very budget, and then the
        // message the writer waits for never comes (a deadlock with large mail: the budget's worth of
        // messages in fewer than a batch, within a second). So a batch also ends at half the
        // budget, and whenever nothing arrives for a second.
        loop: while true {
            let entry: (PreparedItem, Int, Int64)
            switch results.take(timeout: 1) {
            case .finished:
                break loop
            case .timedOut:
                if failure == nil && !pending.isEmpty {
                    do { try commit(final: false) } catch {
                        failure = error
                        cancellation.cancel()
                    }
                }
                continue loop
            case .element(let taken):
                entry = taken
            }
            if failure != nil {
                budget.release(entry.1)
                continue
            }
            pending.append(entry)
            pendingBudget += entry.1
            if pending.count >= options.batchSize || pendingBudget >= budget.limit / 2
                || Date().timeIntervalSince(lastCommit) > 1 {
                do { try commit(final: false) } catch {
                    failure = error
                    cancellation.cancel()
                }
            }
            if let progress, Date().timeIntervalSince(lastProgress) > 0.1 {
                lastProgress = Date()
                progress(ImportProgress(read: ledger.read + pending.count, bytes: ledger.bytes,
                                        sourceBytesDone: progressState.get(), totalBytes: plan.totalBytes,
                                        elapsed: Date().timeIntervalSince(started), stored: ledger.stored,
                                        duplicate: ledger.duplicate, excluded: ledger.excluded, quarantined: ledger.quarantined))
            }
        }
        if failure == nil {
            do { try commit(final: true) } catch { failure = error }
        }
        if failure == nil {
            do {
                var next = ledger
                try session.write { db in
                    let waiting = try writer.holdWaitingReplies(db, until: Date().addingTimeInterval(options.replyWait))
                    try writer.purgeExpiredReplies(db, now: Date(), matchedOnly: filer.index.rules.mode == .matchedOnly)
                    // This run's waiting replies are excluded unless a later parent files them.
                    for (reason, purged) in waiting where purged > 0 {
                        next.stored -= purged
                        next.excluded += purged
                        next.excludedReasons[reason, default: 0] += purged
                    }
                    try next.countNoise(db, firstID: firstMessageID, redecided: writer.redecided.ids)
                    try next.save(db)
                }
                ledger = next
            } catch { failure = error }
        }
        group.wait()
        do { try checkpointer?.finish() } catch { failure = failure ?? error }
        if failure == nil, let preview {
            // Rows given before a later message of this run re-filed them (a reply read before the
            // message it answers), and messages already in the archive that this run re-files.
            do { try session.write { db in try ImportPreview.refiled(run: runID, db, emit: preview) } } catch { failure = error }
        }

        ledger.finishedAt = Timestamp.now()
        ledger.seconds = Date().timeIntervalSince(started)
        if let failure {
            ledger.status = "failed"
            ledger.error = "\(failure)"
        } else if cancellation.isCancelled {
            ledger.status = "interrupted"
        } else {
            ledger.status = "completed"
        }
        let final = ledger
        try session.write { db in try final.save(db) }
        if let failure { logger.error("import failed: \(failure)") }
        return ledger
    }

    /// The writer's SQLite page cache during an import, in KiB (every other connection has
    /// `Archive.cacheKiB`). The writer inserts at random places in indexes keyed by address,
    /// Message-ID and, with a CRM directory, filing record (filing_match's index is the largest
    /// of them), and reads back the filing of the messages each reply names. With 16 MiB and
    /// 1,000-message transactions, the 100k-message generated corpus read 5.5 GB while importing
    /// with its directory, 2.7 GB with 64 MiB. With 5,000-message transactions, 20 MiB imports a
    /// 1 GB mbox as fast as 32 MiB did (79.1 s against 79.4 s) and keeps its peak memory at
    /// 141 MB instead of 155 MB, under the 150 MB bound. The cache grows only as far as the
    /// archive is large, and shrinks back after the run.
    static let writerCacheKiB = 20480

    /// Results a worker gathers before handing them to the writer, and bytes of originals it
    /// gathers before writing them to its pack: about 80 KiB of compressed originals per write
    /// with the generated corpus's messages, and never more than 1 MiB.
    static let handOnCount = 32
    static let packBufferBytes = 1 << 20

    private enum Reading: Sendable {
        case message(RawMessage)
        case unreadable(MessageLocation, String)
    }

    private static func offset(of error: Error) -> Int64? {
        if case SourceError.corrupt(_, let offset, _) = error { return offset }
        if case SourceError.tooLarge(_, let offset, _) = error { return offset }
        return nil
    }
}

/// Where the importer writes: the pool, one transaction per call; or, in a dry run, the one
/// connection already inside the run's transaction.
private struct WriteSession {
    let pool: DatabasePool
    let held: Database?

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        if let held { return try body(held) }
        return try pool.write(body)
    }
}

/// The byte count of fully read sources, shared between the reader and the progress display.
private final class SourceProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64 = 0
    func set(_ newValue: Int64) { lock.lock(); value = newValue; lock.unlock() }
    func get() -> Int64 { lock.lock(); defer { lock.unlock() }; return value }
}
