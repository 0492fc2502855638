import Foundation
import GRDB

/// One line of `dossier import --dry-run`: what importing one item read would do (or, with
/// `update`, what a later message of the same run did to an earlier line).
public struct ImportPreviewRow: Sendable, Encodable {
    /// The message's date.
    public var received: Date?
    public var from: String?
    public var subject: String?
    /// The records it is (or, for a duplicate, already was) filed to.
    public var records: [CRMRecordRef]
    /// reply or new; nil when not stored.
    public var context: String?
    /// filed, unassigned, internal, noise, excluded, quarantined, or duplicate.
    public var status: String
    /// Why, for excluded and quarantined.
    public var reason: String?
    /// The archive key the message has (or would have); nil for a quarantined input.
    public var key: String?
    public var mailbox: String
    public var path: String
    public var offset: Int64?
    /// Nil for a line per item read. For a message re-filed after its line was given: `refiled`
    /// (read earlier in this run; this line is its final state) or `archive` (a message already in
    /// the archive that this run re-files).
    public var update: String?

    /// `excluded (window)`, `filed`.
    public var statusText: String { reason.map { "\(status) (\($0))" } ?? status }

    enum CodingKeys: String, CodingKey {
        case received, from, subject, records, context, status, reason, key, mailbox, path, offset, update
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(received, forKey: .received)
        try container.encode(from, forKey: .from)
        try container.encode(subject, forKey: .subject)
        try container.encode(records.map(\.description), forKey: .records)
        try container.encode(context, forKey: .context)
        try container.encode(status, forKey: .status)
        try container.encode(reason, forKey: .reason)
        try container.encode(key, forKey: .key)
        try container.encode(mailbox, forKey: .mailbox)
        try container.encode(path, forKey: .path)
        try container.encode(offset, forKey: .offset)
        try container.encode(update, forKey: .update)
    }
}

/// Builds preview rows from what the writer just did, reading its rows back inside its transaction.
enum ImportPreview {
    static func row(for item: PreparedItem, outcome: ItemOutcome, _ db: Database) throws -> ImportPreviewRow {
        switch item {
        case .failure(let message):
            throw ImportError.archiveFailure(message)
        case .quarantine(let location, let reason, _, _):
            return ImportPreviewRow(received: nil, from: nil, subject: nil, records: [], context: nil, status: FilingStatus.quarantined.rawValue,
                                    reason: reason, key: nil, mailbox: location.mailbox, path: location.path, offset: location.offset)
        case .message(let message):
            var row = ImportPreviewRow(
                received: message.date, from: from(message.fromAddress, message.fromName), subject: message.subject, records: [],
                context: nil, status: "", reason: nil, key: message.key, mailbox: message.location.mailbox,
                path: message.location.path, offset: message.location.offset)
            switch outcome {
            case .excluded(let reason) where reason == MessagePreparer.noiseReason:
                // Noise that is counted only: its status is noise, its reason the kind.
                row.status = FilingStatus.noise.rawValue
                row.reason = message.noise?.kind?.rawValue
            case .excluded(let reason):
                row.status = FilingStatus.excluded.rawValue
                row.reason = reason
            case .quarantined(let reason):
                row.status = FilingStatus.quarantined.rawValue
                row.reason = reason
            case .stored, .duplicate:
                let state = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, status, filing, filing_reason, context FROM message WHERE key = ?"),
                                             arguments: [message.key])
                if let state {
                    row.records = try records(of: state["id"], db)
                    row.context = state["context"]
                    if outcome == .duplicate {
                        row.status = "duplicate"
                    } else {
                        row.status = state["filing"] ?? FilingStatus.unassigned.rawValue
                        row.reason = state["filing_reason"]
                    }
                } else {
                    row.status = outcome == .duplicate ? "duplicate" : FilingStatus.unassigned.rawValue
                }
            }
            return row
        }
    }

    /// Messages a message stored by run `run` re-filed through the thread rule after they were
    /// written: replies read earlier in the run (their line showed them before the message they
    /// answer arrived) and replies already in the archive. Recognised by a thread match naming a
    /// message of this run stored after them.
    static func refiled(run: Int64, _ db: Database, emit: (ImportPreviewRow) -> Void) throws {
        let ids = try Int64.fetchAll(db, sql: """
            SELECT DISTINCT m.id FROM message p
            JOIN reference r ON r.message_id = p.message_id
            JOIN message m ON m.id = r.message AND m.id < p.id
            JOIN filing_match f ON f.message = m.id AND f.rule = 'thread' AND f.matched = p.message_id
            WHERE p.first_run = ? AND p.message_id IS NOT NULL AND p.filing = 'filed'
            ORDER BY m.id
            """, arguments: [run])
        for id in ids {
            guard let state = try Row.fetchOne(db, sql: """
                SELECT m.key, m.date, m.from_address, m.from_name, m.subject, m.filing, m.filing_reason, m.context, m.first_run,
                       c.mailbox, c.path, c.offset
                FROM message m JOIN copy c ON c.message = m.id WHERE m.id = ? ORDER BY c.id LIMIT 1
                """, arguments: [id]) else { continue }
            let offset: Int64 = state["offset"]
            emit(ImportPreviewRow(
                received: (state["date"] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0)) },
                from: from(state["from_address"], state["from_name"]), subject: state["subject"], records: try records(of: id, db),
                context: state["context"], status: state["filing"] ?? FilingStatus.unassigned.rawValue, reason: state["filing_reason"],
                key: state["key"], mailbox: state["mailbox"], path: state["path"], offset: offset < 0 ? nil : offset,
                update: (state["first_run"] as Int64) == run ? "refiled" : "archive"))
        }
    }

    private static func records(of id: Int64, _ db: Database) throws -> [CRMRecordRef] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT DISTINCT kind, record FROM filing_match WHERE message = ?"), arguments: [id])
            .compactMap { row in CRMRecordKind(rawValue: row[0]).map { CRMRecordRef($0, row[1]) } }.sorted()
    }

    private static func from(_ address: String?, _ name: String?) -> String? {
        guard let address else { return name }
        if let name, !name.isEmpty { return "\(name) <\(address)>" }
        return address
    }
}

extension Importer {
    /// `dossier import --dry-run`: runs the import against the archive at `path` without changing
    /// it (see `ImportOptions.dryRun`), giving one preview row per item read. When there is no
    /// archive at `path`, the run uses a temporary one, deleted afterwards, so nothing is created;
    /// the CRM directory then comes from `options.directory` (`--crm DIR`), else there is none.
    public static func dryRun(archiveAt path: String, options: ImportOptions, cancellation: CancellationFlag = CancellationFlag(),
                              progress: ((ImportProgress) -> Void)? = nil,
                              preview: @escaping (ImportPreviewRow) -> Void) throws -> RunLedger {
        var options = options
        options.dryRun = true
        let root = URL(fileURLWithPath: path).standardizedFileURL.path
        if FileManager.default.fileExists(atPath: root + "/" + Archive.databaseName) {
            let archive = try Archive.open(at: root, create: false)
            return try Importer(archive: archive, options: options).run(cancellation: cancellation, progress: progress, preview: preview)
        }
        // Check the paths first: one that does not exist fails before anything is made, even in /tmp.
        try SourcePlanner.checkPaths(options.paths)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-dry-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // Closed explicitly: a connection still open when the folder is removed (a checkpointer's,
        // a pool's reader) would re-create -wal/-shm files in it, or keep it from going.
        let archive = try Archive.open(at: scratch, create: true)
        defer { try? archive.database.close() }
        return try Importer(archive: archive, options: options).run(cancellation: cancellation, progress: progress, preview: preview)
    }
}
