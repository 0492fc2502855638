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

    public static let databaseName = "dossier.sqlite"
    /// SQLite's page cache per connection, in KiB (an import's writer takes more while it runs).
    static let cacheKiB = 16384

    private init(path: String, database: DatabasePool) {
        self.path = path
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

    /// Opens the archive at `path`, creating it when `create` is true and it does not exist yet.
    /// Migrations run on open, so an archive made by an older Dossier is upgraded in place.
    public static func open(at path: String, create: Bool) throws -> Archive {
        let root = URL(fileURLWithPath: path).standardizedFileURL.path
        let databasePath = root + "/" + databaseName
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            throw StoreError.notAnArchive(path: root, reason: "it is a file, not a directory")
        }
        if !FileManager.default.fileExists(atPath: databasePath) {
            guard create else {
                throw StoreError.notAnArchive(path: root, reason: "no \(databaseName) there (run `dossier import` first, or pass --archive)")
            }
            do {
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            } catch {
                throw StoreError.notAnArchive(path: root, reason: "cannot create it (\(error.localizedDescription))")
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // NORMAL is durable across application crashes in WAL mode; only power loss can undo
            // the last commits, and an import is idempotent, so re-running it repairs that.
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -\(Archive.cacheKiB); PRAGMA temp_store = MEMORY")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: databasePath, configuration: configuration)
            let migrator = Schema.migrator
            try pool.read { db in
                if try migrator.hasBeenSuperseded(db) {
                    throw StoreError.notAnArchive(path: root, reason: "it was written by a newer Dossier")
                }
            }
            try migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError.notAnArchive(path: root, reason: error.message ?? "\(error.resultCode)")
        }
        let archive = Archive(path: root, database: pool)
        do {
            try archive.objects.prepare()
        } catch {
            throw StoreError.notAnArchive(path: root, reason: "cannot prepare its directories (\(error))")
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
}
