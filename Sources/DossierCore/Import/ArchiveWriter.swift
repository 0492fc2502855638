import Foundation
import GRDB

/// What happened to one item read, as counted in the run's ledger.
enum ItemOutcome: Equatable {
    case stored
    case duplicate
    case excluded(reason: String)
    case quarantined(reason: String)
}

/// The single database writer of an import. It decides identity (Message-ID, else the bytes'
/// SHA-256) against what the archive already holds and writes rows; all parsing and object I/O
/// happened before, in `MessagePreparer`.
struct ArchiveWriter {
    let runID: Int64
    let filingStore: FilingStore
    let packs: PackStore
    /// Keep noise in the archive, flagged and searchable (`is:noise`); else count it only.
    let keepNoise: Bool
    /// Pack ids by file name, so each pack's row is looked up once.
    private let packIDs = PackIDCache()
    /// Every Message-ID a stored message refers to, as a filter: a message nobody refers to has
    /// no reply to pass its records on to, and most messages are in that case, so the writer skips
    /// the convergence query for them (`propagateAdditions`).
    private let referenced: ReferencedIDs
    /// This run's noise by kind, kept as the writer changes it (see `NoiseTally`).
    let noiseTally = NoiseTally()
    /// Rows an earlier run recorded that this run decided again (an exclusion record it
    /// rewrote, or gave content): its ledger counts their noise as its own.
    let redecided = RowSet()
    /// The writer's own pack, for held members it keeps (`PreparedMessage.heldMember`): written
    /// at once (no buffer), so the bytes are in the file before the batch's sync and commit.
    private let heldPack: PackWriter

    init(runID: Int64, filer: Filer, packs: PackStore, keepNoise: Bool, referenced: ReferencedIDs = ReferencedIDs()) {
        self.runID = runID
        self.packs = packs
        self.keepNoise = keepNoise
        self.referenced = referenced
        self.filingStore = FilingStore(filer: filer)
        self.heldPack = PackWriter(store: packs)
    }

    func write(_ item: PreparedItem, _ db: Database) throws -> ItemOutcome {
        switch item {
        case .failure(let message):
            throw ImportError.archiveFailure(message)
        case .quarantine(let location, let reason, let sha256, let size):
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO quarantine (run, mailbox, path, offset, reason, size, sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """).run { row in
                    row.add(runID); row.add(location.mailbox); row.add(location.path); row.add(location.offset ?? -1)
                    row.add(reason); row.add(size); row.add(sha256)
                }
            return .quarantined(reason: reason)
        case .message(let message):
            return try write(message, db)
        }
    }

    private func write(_ message: PreparedMessage, _ db: Database) throws -> ItemOutcome {
        let existing: (id: Int64, status: String, firstRun: Int64, filing: String?, reason: String?, sha256: String, excludedAs: String?)?
        let existingSQL = message.messageID == nil
            ? "SELECT id, status, first_run, filing, filing_reason, sha256, reason FROM message WHERE message_id IS NULL AND sha256 = ?"
            : "SELECT id, status, first_run, filing, filing_reason, sha256, reason FROM message WHERE message_id = ?"
        existing = try db.cachedStatement(sql: existingSQL).firstRow(binding: { $0.add(message.messageID ?? message.sha256) }) { row in
            (row.int64(0), row.string(1) ?? "", row.int64(2), row.string(3), row.string(4), row.string(5) ?? "", row.string(6))
        }

        // The thread rule can still exclude a reply in matched_only mode; decide before storing.
        var decision = message.decision
        var filing: FilingDecision?
        var context = ConversationContext.new
        if decision == .keep, let pre = message.prefiling, existing.map({ $0.status == "excluded" }) ?? true {
            let thread = try FilingStore.lookup(references: pre.references, excluding: existing?.id, index: filingStore.filer.index, db)
            let decided = filingStore.filer.decide(pre, thread: thread.matches, noise: message.noise)
            if decided.status == .excluded && !(decided.reason == "unmatched" && !pre.references.isEmpty) {
                decision = .exclude(reason: decided.reason ?? "excluded")
            } else {
                // An unmatched reply in matched_only mode is kept, unsearchable, until the end of
                // the run: its parent may come later in the same import (see purgeUnmatchedReplies).
                // So is a reply with weak noise signals when noise is counted only: filed parents
                // arriving later in the run would outrank them.
                filing = decided
            }
            context = thread.context
        }
        if decision == .keep, let blob = message.blob {
            let pack = try packIDs.id(of: blob.pack, db)
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO blob (sha256, pack, offset, length) VALUES (?, ?, ?, ?)").run { row in
                row.add(message.sha256); row.add(pack); row.add(blob.offset); row.add(blob.length)
            }
        }

        if let (id, status, firstRun, oldFiling, oldReason, firstSHA, excludedAs) = existing {
            // Whether this run's ledger counts the row's noise: rows it first stored, and rows
            // recorded by an earlier run that this run decided again.
            let ours = firstRun == runID || redecided.contains(id)
            try insertCopy(message, messageRowID: id, db)
            if status == "stored", message.sha256 != firstSHA, let member = message.heldMember {
                // Counted noise by itself, but other bytes of a stored message: a content of it.
                if !member.isEmpty, try !PackStore.contains(message.sha256, db) {
                    let location = try heldPack.append(member)
                    let pack = try packIDs.id(of: location.pack, db)
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO blob (sha256, pack, offset, length) VALUES (?, ?, ?, ?)").run { row in
                        row.add(message.sha256); row.add(pack); row.add(location.offset); row.add(location.length)
                    }
                }
                try recordVariant(message, messageRowID: id, searchable: isSearchable(filingStatus: oldFiling), db)
                return .duplicate
            }
            switch decision {
            case .exclude(let reason) where status == "excluded" && reason == excludedAs:
                // Recorded already, for the same reason: nothing new but the copy.
                return .duplicate
            case .exclude(let reason) where status == "excluded" && reason != "window":
                // An exclusion record never blocks a later decision: a record left by a one-off
                // --since/--until (or an older directory) becomes what this import decides. A
                // window only leaves a message out of its run; it never replaces a decision.
                try redecideExclusion(message, reason: reason, messageRowID: id,
                                      countedNoise: ours && oldFiling == FilingStatus.noise.rawValue, oldReason: oldReason, db)
                return .excluded(reason: reason)
            case .exclude(let reason):
                return .excluded(reason: reason)
            case .keep where status == "excluded":
                // Seen before only while excluded (outside a window, say); now it is wanted: give it its content.
                try db.cachedStatement(sql: """
                    UPDATE message SET status = 'stored', reason = NULL, sha256 = ?, size = ?,
                                       filing = ?, filing_reason = ?, evidence = ?, direction = ?, context = ?,
                                       noise = ?, noise_decisive = ?, noise_signals = ? WHERE id = ?
                    """).execute(arguments: [message.sha256, message.size, filing?.status.rawValue, filing?.reason,
                                            filing?.evidence?.rawValue, message.prefiling?.direction.rawValue, context.rawValue,
                                            message.noise?.kind?.rawValue, message.noise?.isDecisive, message.noise?.storedSignals, id])
                if ours && oldFiling == FilingStatus.noise.rawValue { noiseTally.add(oldReason, -1) }
                if filing?.status == .noise { noiseTally.add(filing?.reason, +1) }
                if firstRun != runID { redecided.insert(id) }
                try insertContent(message, messageRowID: id, searchable: isSearchable(filing), fillingSummary: true, db)
                try fileStored(message, filing, messageRowID: id, db)
                return .stored
            case .keep:
                // Same Message-ID, other bytes: a content of its own, reachable like the first.
                if status == "stored" && message.sha256 != firstSHA {
                    try recordVariant(message, messageRowID: id, searchable: isSearchable(filingStatus: oldFiling), db)
                }
                return .duplicate
            }
        }

        let status: String
        let reason: String?
        switch decision {
        case .keep: (status, reason) = ("stored", nil)
        case .exclude(let why): (status, reason) = ("excluded", why)
        }
        // Noise that is only counted keeps who sent it, when and about what, for `report
        // excluded` (a person checks there that nothing human was dropped); nothing else.
        let countedNoise = reason == MessagePreparer.noiseReason
        let summary = status == "stored" || countedNoise
        let filingValue = countedNoise ? FilingStatus.noise.rawValue : filing?.status.rawValue ?? FilingStatus.excluded.rawValue
        let filingReason = countedNoise ? message.noise?.kind?.rawValue : filing?.reason ?? reason
        try db.cachedStatement(sql: """
            INSERT INTO message (key, message_id, sha256, date, subject, from_address, from_name, size,
                                 attachment_count, unknown_charsets, truncated_nesting, status, reason, first_run,
                                 filing, filing_reason, evidence, direction, context, noise, noise_decisive, noise_signals)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).run { row in
                row.add(message.key); row.add(message.messageID); row.add(message.sha256)
                row.add(message.date.map { Int64($0.timeIntervalSince1970.rounded(.down)) })
                row.add(summary ? message.subject : nil)
                row.add(summary ? message.fromAddress : nil)
                row.add(summary ? message.fromName : nil)
                row.add(message.size); row.add(status == "stored" ? message.attachments.count : 0)
                row.add(message.unknownCharsets.isEmpty ? nil : message.unknownCharsets.joined(separator: ","))
                row.add(message.truncatedNesting); row.add(status); row.add(reason); row.add(runID)
                row.add(filingValue); row.add(filingReason)
                row.add(filing?.evidence?.rawValue); row.add(filing == nil ? nil : message.prefiling?.direction.rawValue)
                row.add(filing == nil ? nil : context.rawValue)
                row.add(message.noise?.kind?.rawValue); row.add(message.noise?.isDecisive); row.add(message.noise?.storedSignals)
            }
        let id = db.lastInsertedRowID
        if filingValue == FilingStatus.noise.rawValue { noiseTally.add(filingReason, +1) }
        try insertCopy(message, messageRowID: id, db)
        if status == "stored" {
            // The row just inserted has its summary (subject, sender, attachment count) already.
            try insertContent(message, messageRowID: id, searchable: isSearchable(filing), fillingSummary: false, db)
            try fileStored(message, filing, messageRowID: id, db)
            return .stored
        }
        return .excluded(reason: reason ?? "excluded")
    }

    /// Rewrites an exclusion record (no content) as this import decides it: counted noise keeps
    /// its sender, date, subject and signals, as when first stored (see the insert below).
    private func redecideExclusion(_ message: PreparedMessage, reason: String, messageRowID id: Int64,
                                   countedNoise wasCounted: Bool, oldReason: String?, _ db: Database) throws {
        let countedNoise = reason == MessagePreparer.noiseReason
        let filing = countedNoise ? FilingStatus.noise.rawValue : FilingStatus.excluded.rawValue
        let filingReason = countedNoise ? message.noise?.kind?.rawValue : reason
        try db.cachedStatement(sql: """
            UPDATE message SET reason = ?, sha256 = ?, size = ?, filing = ?, filing_reason = ?, evidence = NULL,
                               direction = NULL, context = NULL, subject = ?, from_address = ?, from_name = ?,
                               noise = ?, noise_decisive = ?, noise_signals = ? WHERE id = ?
            """).execute(arguments: [reason, message.sha256, message.size, filing, filingReason,
                                    countedNoise ? message.subject : nil, countedNoise ? message.fromAddress : nil,
                                    countedNoise ? message.fromName : nil, message.noise?.kind?.rawValue,
                                    message.noise?.isDecisive, message.noise?.storedSignals, id])
        try db.cachedStatement(sql: "DELETE FROM filing_match WHERE message = ?").execute(arguments: [id])
        if wasCounted { noiseTally.add(oldReason, -1) }
        if countedNoise { noiseTally.add(filingReason, +1) }
        redecided.insert(id)
    }

    /// Whether a stored message goes into the search index now: not a reply waiting for a parent
    /// to file it (matched_only's unmatched replies, weak noise that is only counted).
    private func isSearchable(_ filing: FilingDecision?) -> Bool {
        switch filing?.status {
        case .excluded: return false
        case .noise: return keepNoise
        default: return true
        }
    }

    private func isSearchable(filingStatus: String?) -> Bool {
        isSearchable(filingStatus.flatMap(FilingStatus.init(rawValue:)).map { FilingDecision(status: $0) })
    }

    /// Records a content a stored message had not had yet (its blob row is in already) as the
    /// message's next `variant`, and indexes its text as a search row of its own when the
    /// message is searchable (else `indexForSearch` does when the message becomes so).
    private func recordVariant(_ message: PreparedMessage, messageRowID id: Int64, searchable: Bool, _ db: Database) throws {
        let known = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM variant WHERE message = ? AND sha256 = ?"),
                                      arguments: [id, message.sha256]) ?? false
        if known { return }
        let number = (try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(number) FROM variant WHERE message = ?"), arguments: [id]) ?? 1) + 1
        try db.cachedStatement(sql: "INSERT INTO variant (message, number, sha256, indexed) VALUES (?, ?, ?, ?)")
            .execute(arguments: [id, number, message.sha256, searchable])
        guard searchable else { return }
        try insertSearchRow(ContentVariants.searchRowID(message: id, number: number), message.search, db)
    }

    private func insertSearchRow(_ rowid: Int64, _ search: SearchColumns, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO message_fts (rowid, subject, from_addr, to_addr, cc_addr, bcc_addr, body, attachment)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [rowid, search.subject, search.from, search.to, search.cc, search.bcc, search.body, search.attachment])
    }

    /// Saves the matches of a message just stored (its status is in its row already), and files
    /// the replies that came before it.
    private func fileStored(_ message: PreparedMessage, _ filing: FilingDecision?, messageRowID id: Int64, _ db: Database) throws {
        guard let filing else { return }
        try FilingStore.insertMatches(filing.matches, messageRowID: id, db)
        if filing.status == .filed, let messageID = message.messageID, referenced.mayBeReferenced(messageID) {
            let revived = try filingStore.propagateAdditions(from: messageID, records: filing.records, db) { id in
                try directMatches(ofStored: id, db)
            }
            for reply in revived {
                if reply.wasNoise && (reply.firstRun == runID || redecided.contains(reply.id)) { noiseTally.add(reply.reason, -1) }
                if !reply.wasNoise || !keepNoise { try indexForSearch(messageRowID: reply.id, db) }
            }
        }
    }

    private func insertCopy(_ message: PreparedMessage, messageRowID: Int64, _ db: Database) throws {
        let location = message.location
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO copy (message, run, sha256, size, mailbox, path, offset, folder, flags)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).run { row in
                row.add(messageRowID); row.add(runID); row.add(message.sha256); row.add(message.size); row.add(location.mailbox)
                row.add(location.path); row.add(location.offset ?? -1); row.add(location.folder); row.add(location.flags)
            }
    }

    /// Rows that only a stored (not excluded) message has: participants, references,
    /// attachments and its search index entry (not for a reply waiting for its parent, which is
    /// not searchable unless it gets filed). `fillingSummary`: the message row was stored without
    /// content (excluded before) and may lack its subject, sender and attachment count.
    private func insertContent(_ message: PreparedMessage, messageRowID id: Int64, searchable: Bool,
                               fillingSummary: Bool, _ db: Database) throws {
        if fillingSummary && (message.subject != nil || message.fromAddress != nil) {
            try db.cachedStatement(sql: "UPDATE message SET subject = ?, from_address = ?, from_name = ?, attachment_count = ? WHERE id = ? AND subject IS NULL AND from_address IS NULL")
                .execute(arguments: [message.subject, message.fromAddress, message.fromName, message.attachments.count, id])
        }
        let address = try db.cachedStatement(sql: "INSERT INTO address (message, role, address, name) VALUES (?, ?, ?, ?)")
        for entry in message.addresses {
            try address.run { row in row.add(id); row.add(entry.role); row.add(entry.address); row.add(entry.name) }
        }
        let reference = try db.cachedStatement(sql: "INSERT INTO reference (message, kind, position, message_id) VALUES (?, ?, ?, ?)")
        for (position, entry) in message.references.enumerated() {
            try reference.run { row in row.add(id); row.add(entry.kind); row.add(position); row.add(entry.id) }
            referenced.insert(entry.id)
        }
        let attachment = try db.cachedStatement(sql: """
            INSERT INTO attachment (message, part, name, content_type, size, sha256) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for entry in message.attachments {
            try attachment.run { row in
                row.add(id); row.add(entry.part); row.add(entry.name); row.add(entry.contentType); row.add(entry.size); row.add(entry.sha256)
            }
        }
        guard searchable else { return }
        let search = message.search
        try db.cachedStatement(sql: """
            INSERT INTO message_fts (rowid, subject, from_addr, to_addr, cc_addr, bcc_addr, body, attachment)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).run { row in
                row.add(id); row.add(search.subject); row.add(search.from); row.add(search.to); row.add(search.cc)
                row.add(search.bcc); row.add(search.body); row.add(search.attachment)
            }
    }
}

extension ArchiveWriter {
    /// Rules 1, 3, 4 and 5 for a message already stored, from its original: for a reply whose weak
    /// noise signals a filed parent just outranked (noise keeps no matches of its own).
    func directMatches(ofStored id: Int64, _ db: Database) throws -> [FilingMatch] {
        guard let sha: String = try String.fetchOne(db, sql: "SELECT sha256 FROM message WHERE id = ?", arguments: [id]),
              let location = try PackStore.location(of: sha, db) else { return [] }
        let parsed = MessageParser.parse(try packs.readOriginal(at: location), attachmentData: false)
        return filingStore.filer.prefile(FilingFacts(parsed)).direct
    }

    /// Adds the search row of a message stored without one (a reply that waited for its parent),
    /// from its stored original.
    func indexForSearch(messageRowID id: Int64, _ db: Database) throws {
        guard let sha: String = try String.fetchOne(db, sql: "SELECT sha256 FROM message WHERE id = ?", arguments: [id]),
              let location = try PackStore.location(of: sha, db) else { return }
        let parsed = MessageParser.parse(try packs.readOriginal(at: location))
        let names = try String?.fetchAll(db, sql: "SELECT name FROM attachment WHERE message = ? ORDER BY id", arguments: [id]).compactMap { $0 }
        try insertSearchRow(id, MessagePreparer.searchColumns(parsed, attachmentNames: names), db)
        // Its other contents, recorded while it waited (their attachments have no rows: their
        // names are the variant's own, read again from its original).
        for row in try Row.fetchAll(db, sql: "SELECT number, sha256 FROM variant WHERE message = ? AND indexed = 0", arguments: [id]) {
            let sha: String = row[1]
            guard let location = try PackStore.location(of: sha, db) else { continue }
            let variant = MessageParser.parse(try packs.readOriginal(at: location), attachmentData: false)
            let variantNames = variant.attachments.compactMap(\.fileName)
            try insertSearchRow(ContentVariants.searchRowID(message: id, number: row[0]),
                                MessagePreparer.searchColumns(variant, attachmentNames: variantNames), db)
            try db.execute(sql: "UPDATE variant SET indexed = 1 WHERE message = ? AND number = ?", arguments: [id, row[0] as Int64])
        }
    }

    /// End of an import, part 1: the replies this run stored that no rule filed and that a
    /// parent could still file by thread (in matched_only mode those no rule matched, reason
    /// `unmatched`; when noise is counted only, those whose weak noise signals no thread
    /// outranked, reason `noise`) keep their content, unsearchable, until `until`: a later run
    /// may bring the parent, and then `propagateAdditions` files them, so the outcome does not
    /// depend on how mail is split into runs. Returns how many of each, so the ledger can move
    /// them from stored to excluded (what they are unless a parent comes).
    func holdWaitingReplies(_ db: Database, until: Date) throws -> [(reason: String, count: Int)] {
        var held: [(reason: String, count: Int)] = []
        for (reason, filing) in waitingConditions(keepNoise: keepNoise) {
            try db.execute(sql: """
                INSERT OR REPLACE INTO waiting_reply (message, run, until)
                SELECT id, ?, ? FROM message WHERE first_run = ? AND status = 'stored' AND \(filing)
                """, arguments: [runID, Int64(until.timeIntervalSince1970.rounded(.up)), runID])
            held.append((reason, db.changesCount))
        }
        return held
    }

    /// End of an import, part 2: replies whose time is up (`holdWaitingReplies`) and that are
    /// still waiting are excluded for good, with no content, as the spec wants: their rows lose
    /// their content and their original is no longer kept. Those a thread filed meanwhile, or
    /// that a rematch decided otherwise, only leave the waiting list. An unmatched reply is
    /// purged only while the directory in force is matched_only, and weak noise only while noise
    /// is counted only: otherwise it keeps its content, as a rematch keeps it.
    func purgeExpiredReplies(_ db: Database, now: Date, matchedOnly: Bool) throws {
        let due = try Row.fetchAll(db, sql: """
            SELECT w.message, m.status, m.filing, m.filing_reason, m.noise_decisive
            FROM waiting_reply w JOIN message m ON m.id = w.message WHERE w.until <= ? ORDER BY w.message
            """, arguments: [Int64(now.timeIntervalSince1970.rounded(.up))])
        for row in due {
            let id: Int64 = row[0]
            let stored = (row[1] as String) == "stored"
            let filing: String? = row[2]
            let unmatched = stored && filing == FilingStatus.excluded.rawValue && (row[3] as String?) == "unmatched"
            let weakNoise = stored && filing == FilingStatus.noise.rawValue && (row[4] as Bool?) != true
            if unmatched && matchedOnly {
                try purge(id, reason: "unmatched", db)
            } else if weakNoise && !keepNoise {
                try purge(id, reason: MessagePreparer.noiseReason, db)
            }
            try db.execute(sql: "DELETE FROM waiting_reply WHERE message = ?", arguments: [id])
        }
    }

    private func waitingConditions(keepNoise: Bool) -> [(String, String)] {
        var waiting = [("unmatched", "filing = 'excluded' AND filing_reason = 'unmatched'")]
        if !keepNoise { waiting.append((MessagePreparer.noiseReason, "filing = 'noise'")) }
        return waiting
    }

    /// Takes a waiting reply's content away: its participants, references, attachments, other
    /// contents and original; it keeps its record (counted noise also its sender, date, subject).
    private func purge(_ id: Int64, reason: String, _ db: Database) throws {
        for table in ["address", "reference", "attachment"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE message = ?", arguments: [id])
        }
        // Its other contents go with it (never indexed: it was not searchable).
        try db.execute(sql: "DELETE FROM blob WHERE sha256 IN (SELECT sha256 FROM variant WHERE message = ?)", arguments: [id])
        try db.execute(sql: "DELETE FROM variant WHERE message = ?", arguments: [id])
        // Another stored row with these very bytes would have their Message-ID, which is
        // this row's (unique); so only rows without one can share the original.
        try db.execute(sql: """
            DELETE FROM blob WHERE sha256 = (SELECT sha256 FROM message WHERE id = ?)
              AND NOT EXISTS (SELECT 1 FROM message WHERE message_id IS NULL AND sha256 = blob.sha256
                                                        AND status = 'stored' AND id != ?)
            """, arguments: [id, id])
        // Counted noise keeps its sender, date and subject for `report excluded`.
        try db.execute(sql: reason == "unmatched" ? """
            UPDATE message SET status = 'excluded', reason = ?, subject = NULL, from_address = NULL,
                               from_name = NULL, attachment_count = 0 WHERE id = ?
            """ : "UPDATE message SET status = 'excluded', reason = ?, attachment_count = 0 WHERE id = ?",
            arguments: [reason, id])
    }
}

/// A run's noise by kind (`message.filing = 'noise'` among the rows it first stored), counted as
/// the writer changes it: +1 when it stores a message as noise, -1 when a filed parent outranks a
/// reply's weak noise. The ledger takes it at every commit; counting it from the archive instead
/// read every noise row of the run at every commit, quadratic in the run's length (about 0.2 s
/// per commit near the end of a million-message migration). The end of a run still counts from
/// the archive once, so the final ledger never depends on this tally.
final class NoiseTally {
    private(set) var counts: [String: Int] = [:]

    /// `reason` as the ledger names it: the stored filing reason, "noise" when there is none.
    func add(_ reason: String?, _ delta: Int) {
        let key = reason ?? "noise"
        let value = counts[key, default: 0] + delta
        counts[key] = value == 0 ? nil : value
    }
}

/// A set of message row ids, shared by the writer and the ledger.
final class RowSet {
    private(set) var ids = Set<Int64>()
    func insert(_ id: Int64) { ids.insert(id) }
    func contains(_ id: Int64) -> Bool { ids.contains(id) }
}

/// The Message-IDs stored messages refer to (`reference.message_id`), as a `KeyFilter`: loaded
/// when an import starts, added to as the writer stores references. Without a filter (tests,
/// tools that write one message) every Message-ID may be referenced.
final class ReferencedIDs {
    private var filter: KeyFilter?

    init() {}

    init(loading db: Database, expectedNew: Int) throws {
        filter = try KeyFilter.loading(db, table: "reference", column: "message_id", expectedNew: expectedNew, keys: .text)
    }

    func insert(_ id: String) { filter?.insert(id) }

    func mayBeReferenced(_ id: String) -> Bool { filter?.mayContain(id) ?? true }
}

/// The writer's memory of `pack` rows (one per pack file, created on first use).
private final class PackIDCache {
    private var ids: [String: Int64] = [:]

    func id(of name: String, _ db: Database) throws -> Int64 {
        if let id = ids[name] { return id }
        try db.execute(sql: "INSERT OR IGNORE INTO pack (name) VALUES (?)", arguments: [name])
        let id = try Int64.fetchOne(db, sql: "SELECT id FROM pack WHERE name = ?", arguments: [name])!
        ids[name] = id
        return id
    }
}

/// Why an import stopped before the end.
public enum ImportError: Error, CustomStringConvertible {
    case archiveFailure(String)

    public var description: String {
        switch self {
        case .archiveFailure(let message): return message
        }
    }
}
