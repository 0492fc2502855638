import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRDB

/// An archive directory: the SQLite database (`dossier.sqlite`, WAL mode) and the object files.
public final class Archive: Sendable {
    public let path: String
    public let database: DatabasePool
    public let objects: ObjectStore
    public let packs: PackStore
    /// Opened with `Access.readOnly`: SQLite refuses every write.
    public let isReadOnly: Bool

    public static let databaseName = "dossier.sqlite"
    /// SQLite's page cache per connection, in KiB (an import's writer takes more while it runs).
    static let cacheKiB = 16384

    private init(path: String, database: DatabasePool, isReadOnly: Bool) {
        self.path = path
        self.isReadOnly = isReadOnly
        self.database = database
        self.objects = ObjectStore(root: path)
        self.packs = PackStore(root: path)
    }

    /// The original bytes of a stored message (or copy) by their SHA-256: from its pack, or, in
    /// an archive written before packs existed, from its own file.
    public func readOriginal(sha256: String) throws -> [UInt8] {
        if let location = try database.read({ try PackStore.location(of: sha256, $0) }) {
            return try packs.readOriginal(at: location)
        }
        return try objects.readMessage(sha256: sha256)
    }

    /// Whether the archive holds the original bytes with this SHA-256.
    public func hasOriginal(sha256: String) throws -> Bool {
        try database.read { try PackStore.contains(sha256, $0) } || objects.exists(.message, sha256: sha256)
    }

    /// How a command uses the archive.
    public enum Access: Sendable {
        /// Commands that write (import, rematch, assign, crm load, verify --repair): migrations run,
        /// directories are prepared; an archive that cannot be written is refused up front
        /// (`StoreError.readOnly`).
        case readWrite
        /// Commands that only read (search, show, report, why, thread, export, verify): SQLite is
        /// opened read-only and nothing in the archive is created, migrated or changed. On a
        /// directory that cannot be written with no write-ahead log beside the database (a
        /// read-only mount, a WORM share, a DVD), SQLite is opened `immutable=1`, which needs no
        /// `-shm` file and takes no locks.
        case readOnly
    }

    /// Opens the archive at `path`, creating it when `create` is true and it does not exist yet.
    /// Migrations run on open (read-write), so an archive made by an older Dossier is upgraded in place.
    ///
    /// An archive directory that holds objects (`objects/`, `quarantine/`) but no usable database
    /// (none, 0 bytes, not SQLite, or SQLite without Dossier's tables) is corrupt
    /// (`StoreError.notAnArchive`), never taken for a new archive: starting one there would hide
    /// every stored message.
    public static func open(at path: String, create: Bool, access: Access = .readWrite) throws -> Archive {
        let root = URL(fileURLWithPath: path).standardizedFileURL.path
        let databasePath = root + "/" + databaseName
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            throw StoreError.notAnArchive(path: root, reason: "it is a file, not a directory")
        }
        let readOnly = access == .readOnly
        let hasContent = exists && ArchiveContent.holdsObjects(root)
        var databaseInfo = stat()
        let databaseExists = lstat(databasePath, &databaseInfo) == 0
        if !databaseExists {
            if hasContent {
                throw StoreError.notAnArchive(path: root, reason: "it holds archive objects but no \(databaseName) (lost or moved?); "
                                              + "refusing to start a new archive over them")
            }
            guard create && !readOnly else {
                throw StoreError.notAnArchive(path: root, reason: "no \(databaseName) there (run `dossier import` first, or pass --archive)")
            }
            do {
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            } catch {
                throw StoreError.notAnArchive(path: root, reason: "cannot create it (\(error.localizedDescription))")
            }
        } else if databaseInfo.st_size == 0 && (hasContent || !create || readOnly) {
            throw StoreError.notAnArchive(path: root, reason: "its \(databaseName) is empty (0 bytes)"
                                          + (hasContent ? " beside stored objects: the archive is damaged; restore the database from a backup" : ""))
        }
        if !readOnly, let reason = ArchiveContent.whyNotWritable(root: root, database: databaseExists ? databasePath : nil) {
            throw StoreError.readOnly(path: root, reason: reason)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.readonly = readOnly
        configuration.prepareDatabase { db in
            // NORMAL is durable across application crashes in WAL mode; only power loss can undo
            // the last commits, and an import is idempotent, so re-running it repairs that.
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -\(Archive.cacheKiB); PRAGMA temp_store = MEMORY")
        }
        // An archive from before this Dossier's migrations, where it can be written: upgraded
        // once by a read-write open, so that read commands keep working after an update. On
        // media that cannot be written it stays as it is, and the check below says what to do.
        if readOnly && databaseInfo.st_size > 0 && ArchiveContent.whyNotWritable(root: root, database: databasePath) == nil
            && (try? Self.needsUpgrade(databasePath)) == true {
            let upgraded = try open(at: root, create: false, access: .readWrite)
            try? upgraded.database.close()
        }
        var openPath = databasePath
        if readOnly {
            switch ArchiveContent.readOnlyOpen(root: root, database: databasePath) {
            case .plain: break
            case .immutable: openPath = ArchiveContent.immutableURI(databasePath)
            case .impossible(let reason): throw StoreError.notAnArchive(path: root, reason: reason)
            }
        }
        let pool: DatabasePool
        do {
            let migrator = Schema.migrator
            let check = { (db: Database) throws in
                if try migrator.hasBeenSuperseded(db) {
                    throw StoreError.notAnArchive(path: root, reason: "it was written by a newer Dossier")
                }
                let applied = try migrator.appliedIdentifiers(db)
                if applied.isEmpty && (hasContent || readOnly || !create || databaseInfo.st_size > 0) {
                    // A database, but not one Dossier made (or one that lost its tables).
                    throw StoreError.notAnArchive(path: root, reason: "its \(databaseName) holds no Dossier tables")
                }
                if readOnly, try !migrator.hasCompletedMigrations(db) {
                    throw StoreError.notAnArchive(path: root, reason: "it was written by an older Dossier and needs upgrading, "
                                                  + "which a read-only open cannot do (run any writing command, such as `dossier import` with no new mail, where it can be written)")
                }
            }
            if !readOnly && databaseInfo.st_size > 0 {
                // Looked at read-only first: a read-write open turns the file to WAL mode, which
                // would change a damaged or foreign database before it is refused.
                var peek = Configuration()
                peek.readonly = true
                let queue = try DatabaseQueue(path: databasePath, configuration: peek)
                try queue.read(check)
                try queue.close()
            }
            pool = try DatabasePool(path: openPath, configuration: configuration)
            try pool.read(check)
            if !readOnly { try migrator.migrate(pool) }
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            let reason = error.resultCode == .SQLITE_NOTADB ? "its \(databaseName) is not a SQLite database (damaged?)"
                : (error.message ?? "\(error.resultCode)")
            throw StoreError.notAnArchive(path: root, reason: reason)
        }
        let archive = Archive(path: root, database: pool, isReadOnly: readOnly)
        if !readOnly {
            do {
                try archive.objects.prepare()
            } catch {
                throw StoreError.notAnArchive(path: root, reason: "cannot prepare its directories (\(error))")
            }
        }
        return archive
    }

    /// Makes every committed transaction durable now: `fsync` of the WAL and the database file.
    /// Commits run with `synchronous = NORMAL`, which keeps the archive consistent across a power
    /// loss but may lose the last commits; a drop-folder run calls this before it moves files to
    /// processed/, so that a file never leaves the drop folder before its messages are on disk.
    public func syncDatabase() throws {
        for name in [Self.databaseName + "-wal", Self.databaseName] {
            let file = path + "/" + name
            let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                if errno == ENOENT { continue }
                throw StoreError.io(path: file, errno: errno)
            }
            defer { close(fd) }
            guard fsync(fd) == 0 else { throw StoreError.io(path: file, errno: errno) }
        }
    }

    /// Whether the database holds Dossier's tables but not all of this version's migrations.
    static func needsUpgrade(_ databasePath: String) throws -> Bool {
        var peek = Configuration()
        peek.readonly = true
        let queue = try DatabaseQueue(path: databasePath, configuration: peek)
        defer { try? queue.close() }
        return try queue.read { db in
            let migrator = Schema.migrator
            return try !migrator.appliedIdentifiers(db).isEmpty && !migrator.hasCompletedMigrations(db) && !migrator.hasBeenSuperseded(db)
        }
    }

}
