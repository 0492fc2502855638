import Foundation
import GRDB

/// `dossier assign` and `dossier unassign`.
public enum ManualAction: String, Sendable, Codable {
    case assign, unassign
}

/// What `assign` or `unassign` did.
public struct ManualFilingResult: Sendable, Codable, Equatable {
    public var key: String
    public var action: ManualAction
    /// The record, as the CRM directory spells it (`kind:id`).
    public var record: String
    /// False when the message already stood that way (assigned twice, say): nothing was recorded.
    public var recorded: Bool
    /// The message's status and records afterwards.
    public var status: String
    public var records: [String]
    /// Every message whose filing changed: the message itself (when it did), then the replies
    /// that inherit its records through the thread rule.
    public var changes: [FilingChange]
}

/// Manual filing: a person's decision that a message belongs to a record, or does not. Decisions
/// are kept in `manual_filing` (one row per message and record, with its time) and every later
/// re-decision honours them: import convergence, `assign`/`unassign` of other messages and
/// `rematch` all read them back. A contact or case assigned by hand files to its account too, as
/// a rule's match would. Only an exclusion (blacklist, excluded contact) ranks above them.
public enum ManualFiler {
    /// Files the message with key (prefix) `key` to `record` (`account:ID`, `contact:ID`,
    /// `lead:ID`, `case:ID`; a case may be named by its code), which must exist in the CRM
    /// directory in force; its replies inherit the record.
    public static func assign(key: String, record: String, in archive: Archive, at date: Date = Date()) throws -> ManualFilingResult {
        try apply(.assign, key: key, record: record, in: archive, at: date)
    }

    /// Takes `record` out of the message's records: an assignment by hand is withdrawn; a record
    /// that a rule (or the thread) files the message to is removed for good, rematching included.
    /// The last record gone, the message is unassigned (in `mode: matched_only`, excluded as
    /// unmatched, its content kept).
    public static func unassign(key: String, record: String, in archive: Archive, at date: Date = Date()) throws -> ManualFilingResult {
        try apply(.unassign, key: key, record: record, in: archive, at: date)
    }

    static func apply(_ action: ManualAction, key: String, record text: String, in archive: Archive, at date: Date) throws -> ManualFilingResult {
        guard let requested = CRMRecordRef(parsing: text) else { throw FilingError.badRecord(text) }
        let (directory, message) = try archive.database.read { db in
            (try CRMStore.activeDirectory(in: db), try MessageRecord.resolve(db, key: key))
        }
        guard let directory else { throw FilingError.noDirectory }
        guard message.status == "stored" else { throw FilingError.noContent(key: message.key, reason: message.reason) }
        let filer = Filer(index: CRMIndex(directory))
        // Re-derived from the original: the stored matches of an internal message, say, do not
        // include its subject tags, and the directory may have changed since it was filed.
        let pre = filer.prefile(FilingFacts(MessageParser.parse(try message.original(in: archive))))
        if let reason = pre.exclusion { throw FilingError.excluded(key: message.key, reason: reason) }
        let at = Timestamp.format(date)
        let store = FilingStore(filer: filer)

        return try archive.database.write { db in
            var rows: [CRMRecordRef: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT action, kind, record FROM manual_filing WHERE message = ?", arguments: [message.id]) {
                if let kind = CRMRecordKind(rawValue: row[1]) { rows[CRMRecordRef(kind, row[2])] = row[0] }
            }
            let current = try FilingStore.matches(of: message.id, db)
            let known = Set(current.map(\.record)).union(rows.keys)
            let record = try resolve(requested, index: filer.index, accepting: action == .unassign ? known : [])
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO manual_filing (message, action, kind, record, at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (message, kind, record) DO UPDATE SET action = excluded.action, at = excluded.at
                """)
            var recorded = true
            switch action {
            case .assign:
                if rows[record] == ManualAction.assign.rawValue {
                    recorded = false
                } else {
                    try upsert.execute(arguments: [message.id, ManualAction.assign.rawValue, record.kind.rawValue, record.id, at])
                }
            case .unassign:
                if rows[record] == ManualAction.unassign.rawValue {
                    recorded = false
                } else if rows[record] == ManualAction.assign.rawValue {
                    // Withdraw the assignment; if the record would still be there (a rule, the
                    // thread, or an assigned contact's account), take it out for good as well.
                    try db.execute(sql: "DELETE FROM manual_filing WHERE message = ? AND kind = ? AND record = ?",
                                   arguments: [message.id, record.kind.rawValue, record.id])
                    var manual = try FilingStore.manual(of: message.id, db)
                    manual.removed.remove(record)
                    let thread = current.filter { $0.rule == .thread }
                    if filer.combine(direct: pre.direct, thread: thread, manual: manual).records.contains(record) {
                        try upsert.execute(arguments: [message.id, ManualAction.unassign.rawValue, record.kind.rawValue, record.id, at])
                    }
                } else if !current.contains(where: { $0.record == record }) {
                    throw FilingError.notFiledTo(key: message.key, record: record)
                } else {
                    try upsert.execute(arguments: [message.id, ManualAction.unassign.rawValue, record.kind.rawValue, record.id, at])
                }
            }
            let changes = recorded ? try store.redecide(messageRowID: message.id, pre: pre, db) : []
            let after = try Row.fetchOne(db, sql: "SELECT filing FROM message WHERE id = ?", arguments: [message.id])
            let records = Array(Set(try FilingStore.matches(of: message.id, db).map(\.record))).sorted()
            return ManualFilingResult(key: message.key, action: action, record: record.description, recorded: recorded,
                                      status: after?["filing"] ?? FilingStatus.unassigned.rawValue,
                                      records: records.map(\.description), changes: changes)
        }
    }

    /// The directory's record for what the user typed: the id as written, else ignoring case,
    /// and for a case its code too. `accepting` lists records taken as they are even when the
    /// directory no longer has them (unassigning a record the message is filed to).
    static func resolve(_ requested: CRMRecordRef, index: CRMIndex, accepting: Set<CRMRecordRef>) throws -> CRMRecordRef {
        let found = index.records(named: requested.id, kind: requested.kind)
        if found.contains(requested) { return requested }
        if found.count == 1 { return found[0] }
        if found.count > 1 { throw FilingError.ambiguousRecord(requested.description, found) }
        if accepting.contains(requested) { return requested }
        throw FilingError.unknownRecord(requested)
    }
}
