#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import GRDB

/// Where one stored original lives: a byte range of a pack file.
public struct PackLocation: Sendable, Hashable {
    /// The pack's file name under `objects/packs/`.
    public var pack: String
    public var offset: Int64
    public var length: Int
}

/// Original messages, stored in pack files: `objects/packs/<name>.pack`.
///
/// A pack is a plain concatenation of gzip members, one per original, each carrying the SHA-256
/// of its original bytes as the gzip file name (FNAME), so `zcat` reads a pack and the pack
/// alone is enough to rebuild the index. The index is the `blob` table (sha256 -> pack, offset,
/// length). Packs replaced one file per message because creating, linking and writing back
/// 100,000 small files cost the import more than parsing them (measured: half of the import's
/// wall time on a 100k-message Maildir went to the kernel's file handling).
///
/// Each import worker appends to a pack of its own (`PackWriter`), and never to another run's
/// pack. Bytes appended but never indexed (a crash before the commit) are unreferenced and
/// harmless; `verify --repair` reclaims them (`PackCompactor`), the only time a pack is rewritten.
/// Durability follows the object store's rule: the importer flushes the filesystem before the
/// commit that indexes a blob.
public struct PackStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// `objects/packs`, relative to the archive root.
    public static let directory = "objects/packs"

    public var directoryPath: String { root + "/" + Self.directory }

    /// Whether the archive indexes an original with this digest.
    public static func contains(_ sha256: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM blob WHERE sha256 = ?"), arguments: [sha256]) ?? false
    }

    /// The pack location of an original, or nil when the archive has no such blob.
    public static func location(of sha256: String, _ db: Database) throws -> PackLocation? {
        let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT pack.name, blob.offset, blob.length FROM blob JOIN pack ON pack.id = blob.pack WHERE blob.sha256 = ?
            """), arguments: [sha256])
        return row.map { PackLocation(pack: $0[0], offset: $0[1], length: $0[2]) }
    }

    /// The original bytes stored at `location`, decompressed.
    public func readOriginal(at location: PackLocation) throws -> [UInt8] {
        try Gzip.decompress(readMember(at: location))
    }

    /// Reads the stored (gzip) bytes at `location`.
    public func readMember(at location: PackLocation) throws -> [UInt8] {
        // Names come from our own writer or from the database; a damaged row must not become a path.
        guard Self.isValidName(location.pack), location.offset >= 0, location.length >= 0 else {
            throw StoreError.missingObject(path: "\(Self.directory)/(invalid pack name)")
        }
        let path = directoryPath + "/" + location.pack
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.missingObject(path: "\(Self.directory)/\(location.pack)") }
        defer { close(fd) }
        var result = [UInt8](repeating: 0, count: location.length)
        var done = 0
        while done < location.length {
            let n = result.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, location.length - done, off_t(location.offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(path: path, errno: errno)
            }
            if n == 0 { throw StoreError.missingObject(path: "\(Self.directory)/\(location.pack) (truncated at \(location.offset + Int64(done)))") }
            done += n
        }
        return result
    }

    /// A name for a new pack: `<unix time>-<pid>-<64 random bits in hex>.pack`, unique without
    /// coordination (create it with O_EXCL to make sure). The pid tells `verify --repair` which
    /// process may still be appending (`ArchiveLock.livePackWriters`).
    static func newName() -> String {
        let stamp = Int64(Date().timeIntervalSince1970)
        return "\(stamp)-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).pack"
    }

    /// Pack names are ours: letters, digits, '-' and '.', ending in ".pack".
    static func isValidName(_ name: String) -> Bool {
        name.hasSuffix(".pack") && !name.hasPrefix(".") && name.utf8.count < 100
            && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 46 }
    }
}

/// One thread's appender: creates its pack on first use and starts a new one past `limit` bytes.
/// Not thread-safe; each import worker owns one.
///
/// With a `bufferLimit`, appended members are kept in memory and written in one call once that
/// many bytes have gathered, or at `flush()`. A member is not in the file before then: whoever
/// indexes it must flush first. Writing each member of a few KiB on its own cost a 100k-message
/// import about 1.5 s of kernel time, most of it zeroing the tail of every page the write only
/// partly covered before the next write filled it.
public final class PackWriter {
    private let store: PackStore
    private let limit: Int64
    private let bufferLimit: Int
    private var fd: Int32 = -1
    private var name = ""
    /// Bytes of the current pack, buffered ones included.
    private var size: Int64 = 0
    private var buffer: [UInt8] = []

    /// - Parameters:
    ///   - limit: the size past which the next member starts a new pack.
    ///   - bufferLimit: bytes gathered before they are written; 0 writes every member at once.
    public init(store: PackStore, limit: Int64 = 1 << 30, bufferLimit: Int = 0) {
        self.store = store
        self.limit = limit
        self.bufferLimit = bufferLimit
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Whether members are waiting in memory for `flush()`.
    public var hasBufferedBytes: Bool { !buffer.isEmpty }

    /// Appends one stored member and returns where it lands.
    public func append(_ member: [UInt8]) throws -> PackLocation {
        if fd < 0 || size + Int64(member.count) > limit && size > 0 {
            try flush()
            try openNext()
        }
        let location = PackLocation(pack: name, offset: size, length: member.count)
        if bufferLimit == 0 {
            try writeAll(member)
        } else {
            buffer.append(contentsOf: member)
            if buffer.count >= bufferLimit { try flush() }
        }
        size += Int64(member.count)
        return location
    }

    /// Writes the buffered members to the pack file.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        // On failure the members are dropped: their locations must not be indexed (the caller
        // turns their messages into failures), and the file holds at most a harmless partial tail.
        defer { buffer.removeAll(keepingCapacity: buffer.capacity <= 2 * bufferLimit) }
        try FaultPoint.check(.beforePackWrite, path: store.directoryPath + "/" + name)
        try writeAll(buffer)
        try FaultPoint.check(.afterPackWrite, path: store.directoryPath + "/" + name)
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        let path = store.directoryPath + "/" + name
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.io(path: path, errno: errno)
                }
                done += n
            }
        }
    }

    private func openNext() throws {
        if fd >= 0 { close(fd) }
        fd = -1
        let candidate = PackStore.newName()
        let path = store.directoryPath + "/" + candidate
        let opened = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        guard opened >= 0 else { throw StoreError.io(path: path, errno: errno) }
        fd = opened
        name = candidate
        size = 0
    }
}

/// The digests this import has written to packs but not yet committed to the index, so that
/// two copies of one original in flight are appended once; and a Bloom filter of every original
/// the archive may hold, so that the parsing workers ask the database only about those.
///
/// Why the filter: almost every message of a migration is new, yet asking the index whether it
/// has an original cost about a fifth of the workers' CPU (a read connection loses its page cache
/// whenever the writer commits, so each lookup goes back to the file). "Not in the filter" is
/// certain; "maybe" is checked against the database as before.
final class PendingBlobs: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed: Set<String> = []
    /// nil: nothing is known, every digest may be stored (ask the database).
    private var stored: KeyFilter?

    /// With no filter: every original may be in the archive.
    init() {}

    /// Loads the digests of every original the archive indexes, with room for `expectedNew` more.
    init(loading db: Database, expectedNew: Int) throws {
        stored = try KeyFilter.loading(db, table: "blob", column: "sha256", expectedNew: expectedNew, keys: .sha256Hex)
    }

    /// True when the caller is the first to claim `sha256` and must write it.
    func claim(_ sha256: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return claimed.insert(sha256).inserted
    }

    /// False when the archive certainly does not hold this original yet.
    func mayBeStored(_ sha256: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return stored?.mayContain(sha256) ?? true
    }

    /// Records an original this import appended to a pack (indexed at the next commit).
    func appended(_ sha256: String) {
        lock.lock(); defer { lock.unlock() }
        stored?.insert(sha256)
    }

    /// Forgets digests once their index rows are committed (or were never needed).
    func release<S: Sequence>(_ digests: S) where S.Element == String {
        lock.lock(); defer { lock.unlock() }
        for digest in digests { claimed.remove(digest) }
    }
}
