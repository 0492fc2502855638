import Foundation
import GRDB

/// One `dossier crm load`, as recorded in the archive (`crm_load`).
public struct CRMLoad: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable { case ok, failed }

    public var id: Int64
    /// RFC 3339 UTC.
    public var loadedAt: String
    /// The folder read (absolute).
    public var sourceDir: String
    public var status: Status
    public var accounts: Int
    public var contacts: Int
    public var leads: Int
    public var cases: Int
    public var staff: Int
    public var warnings: [CRMDiagnostic]
    public var errors: [CRMDiagnostic]
    /// rules.yaml as read; nil when the folder had none.
    public var rulesYAML: String?
    /// The directory in force.
    public var active: Bool

    enum CodingKeys: String, CodingKey {
        case id, status, accounts, contacts, leads, cases, staff, warnings, errors, active
        case loadedAt = "loaded_at"
        case sourceDir = "source_dir"
        case rulesYAML = "rules_yaml"
    }
}

/// The CRM directory in the archive: every load recorded, the last successful one in force.
/// Functions take a GRDB `Database` so that callers choose the transaction (the filing stage
/// reads the active directory in the same read as the messages it files).
public enum CRMStore {
    /// Records a successful load and makes it the active directory, in the caller's transaction.
    /// - Parameters:
    ///   - source: the folder the directory was read from.
    ///   - warnings: the loader's warnings, kept with the load.
    public static func save(_ directory: CRMDirectory, from source: URL, warnings: [CRMDiagnostic] = [],
                            at date: Date = Date(), in db: Database) throws -> CRMLoad {
        try db.execute(sql: "UPDATE crm_load SET active = 0 WHERE active = 1")
        var load = CRMLoad(id: 0, loadedAt: Timestamp.format(date), sourceDir: source.standardizedFileURL.path, status: .ok,
                           accounts: directory.accounts.count, contacts: directory.contacts.count, leads: directory.leads.count,
                           cases: directory.cases.count, staff: directory.staff.count, warnings: warnings, errors: [],
                           rulesYAML: directory.rules.source, active: true)
        load.id = try insert(load, db)
        try db.execute(sql: "INSERT INTO crm_snapshot (load, format, directory) VALUES (?, ?, ?)",
                       arguments: [load.id, CRMSnapshot.format, Data(try CRMSnapshot.encode(directory))])
        return load
    }

    /// Records a load that failed; the active directory stays as it was.
    public static func recordFailure(from source: URL, errors: [CRMDiagnostic], warnings: [CRMDiagnostic] = [],
                                     rulesYAML: String? = nil, at date: Date = Date(), in db: Database) throws -> CRMLoad {
        var load = CRMLoad(id: 0, loadedAt: Timestamp.format(date), sourceDir: source.standardizedFileURL.path, status: .failed,
                           accounts: 0, contacts: 0, leads: 0, cases: 0, staff: 0, warnings: warnings, errors: errors,
                           rulesYAML: rulesYAML, active: false)
        load.id = try insert(load, db)
        return load
    }

    /// The directory in force, or nil when no load has succeeded yet.
    public static func activeDirectory(in db: Database) throws -> CRMDirectory? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT s.format, s.directory FROM crm_snapshot s JOIN crm_load l ON l.id = s.load WHERE l.active = 1
            """) else { return nil }
        guard row["format"] as String == CRMSnapshot.format else { throw CRMSnapshot.Corrupt() }
        return try CRMSnapshot.decode(Array(row["directory"] as Data))
    }

    /// The record of the load in force, or nil.
    public static func activeLoad(in db: Database) throws -> CRMLoad? {
        try fetch(db, where: "active = 1").first
    }

    /// Every load, oldest first.
    public static func loads(in db: Database) throws -> [CRMLoad] {
        try fetch(db, where: "1")
    }

    /// Reads the folder at `folder` and records the outcome in `archive`: on success the new
    /// directory becomes active; on a `CRMLoadError` the failure is recorded and the error
    /// rethrown, the previous directory staying in force. A folder that does not exist throws
    /// `SourceError` and records nothing (nothing was read).
    public static func load(from folder: URL, into archive: Archive) throws -> (load: CRMLoad, directory: CRMDirectory) {
        do {
            let (directory, warnings) = try CRMDirectoryLoader.load(from: folder)
            let load = try archive.database.write { db in try save(directory, from: folder, warnings: warnings, in: db) }
            return (load, directory)
        } catch let error as CRMLoadError {
            _ = try archive.database.write { db in
                try recordFailure(from: folder, errors: error.errors, warnings: error.warnings, rulesYAML: error.rulesSource, in: db)
            }
            throw error
        }
    }

    // MARK: Rows

    private static func insert(_ load: CRMLoad, _ db: Database) throws -> Int64 {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try db.execute(sql: """
            INSERT INTO crm_load (loaded_at, source_dir, status, accounts, contacts, leads, cases, staff,
                                  warnings, errors, rules_yaml, active)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [load.loadedAt, load.sourceDir, load.status.rawValue, load.accounts, load.contacts, load.leads,
                             load.cases, load.staff, String(decoding: try encoder.encode(load.warnings), as: UTF8.self),
                             String(decoding: try encoder.encode(load.errors), as: UTF8.self), load.rulesYAML, load.active])
        return db.lastInsertedRowID
    }

    private static func fetch(_ db: Database, where condition: String) throws -> [CRMLoad] {
        let decoder = JSONDecoder()
        return try Row.fetchAll(db, sql: """
            SELECT id, loaded_at, source_dir, status, accounts, contacts, leads, cases, staff, warnings, errors, rules_yaml, active
            FROM crm_load WHERE \(condition) ORDER BY id
            """).map { row in
            CRMLoad(id: row["id"], loadedAt: row["loaded_at"], sourceDir: row["source_dir"],
                    status: CRMLoad.Status(rawValue: row["status"]) ?? .failed,
                    accounts: row["accounts"], contacts: row["contacts"], leads: row["leads"], cases: row["cases"], staff: row["staff"],
                    warnings: try decoder.decode([CRMDiagnostic].self, from: Data((row["warnings"] as String).utf8)),
                    errors: try decoder.decode([CRMDiagnostic].self, from: Data((row["errors"] as String).utf8)),
                    rulesYAML: row["rules_yaml"], active: row["active"])
        }
    }
}
