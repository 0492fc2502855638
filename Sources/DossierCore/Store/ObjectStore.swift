#if canImport(Glibc)
import CDossierSystem
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Content-addressed files in the archive directory:
///
///     objects/packs/<name>.pack             original messages (see `PackStore`)
///     objects/attachments/ab/<sha256>       decoded attachment bytes, sha256 of those bytes
///     objects/messages/ab/<sha256>.eml.gz   originals of archives written before packs (read only)
///     quarantine/<sha256>.gz                bytes that were not a message, kept for inspection
///     tmp/                                  staging for atomic writes where O_TMPFILE is missing
///
/// Every path is built from a hex digest, never from anything a message says, so nothing a
/// message contains can make the archive write outside its directory. Writes are completed out
/// of sight, then linked or renamed into place: an object either exists whole or not at all, and
/// writing one that exists is a no-op, which is what makes concurrent and repeated imports safe. Across a power loss, "whole"
/// holds once `flush()` has returned: the importer calls it before every database commit.
public struct ObjectStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public enum Kind: Sendable {
        case message, attachment, quarantine
    }

    /// Creates the directory skeleton (all 256 fan-out directories up front, so writers never race
    /// to create them).
    public func prepare() throws {
        for dir in ["objects", PackStore.directory, "objects/attachments", "quarantine", "tmp"] {
            try Self.makeDirectory(root + "/" + dir)
        }
        for byte in 0..<256 {
            try Self.makeDirectory("\(root)/objects/attachments/\(Self.hexByte(byte))")
        }
    }

    /// The path of an object, relative to the archive root.
    public func relativePath(_ kind: Kind, sha256: String) -> String {
        // Names come from our own digests or from the database; anything else (a damaged row)
        // must not become a path.
        let name = Self.isHexDigest(sha256) ? sha256 : "invalid-digest"
        let fan = name.prefix(2)
        switch kind {
        case .message: return "objects/messages/\(fan)/\(name).eml.gz"
        case .attachment: return "objects/attachments/\(fan)/\(name)"
        case .quarantine: return "quarantine/\(name).gz"
        }
    }

    public func path(_ kind: Kind, sha256: String) -> String {
        root + "/" + relativePath(kind, sha256: sha256)
    }

    public func exists(_ kind: Kind, sha256: String) -> Bool {
        access(path(kind, sha256: sha256), F_OK) == 0
    }

    /// Writes `bytes` as the object unless it already exists. Returns true when it wrote.
    ///
    /// On Linux the bytes go to an unnamed file in the object's own directory (`O_TMPFILE`) that
    /// is linked into place once complete: no staging name, no cross-directory rename, nothing
    /// left behind by a crash, and no single staging directory that every worker contends for
    /// (that lock cost more than compression). Elsewhere, or on a filesystem without
    /// `O_TMPFILE`, a named file in tmp/ is renamed into place.
    @discardableResult
    public func writeIfAbsent(_ kind: Kind, sha256: String, bytes: [UInt8]) throws -> Bool {
        try writeIfAbsent(kind, sha256: sha256) { bytes }
    }

    /// Like `writeIfAbsent(_:sha256:bytes:)`, but makes the bytes only when the object is
    /// missing, so a duplicate costs one `access` and no compression.
    @discardableResult
    public func writeIfAbsent(_ kind: Kind, sha256: String, making make: () throws -> [UInt8]) throws -> Bool {
        let target = path(kind, sha256: sha256)
        if access(target, F_OK) == 0 { return false }
        let bytes = try make()
        try FaultPoint.check(.beforeObjectWrite, path: target)
        defer { try? FaultPoint.check(.afterObjectWrite, path: target) }
        #if os(Linux)
        let directory = String(target[..<(target.lastIndex(of: "/") ?? target.endIndex)])
        let unnamed = open(directory, Self.tmpfileFlags | O_WRONLY | O_CLOEXEC, 0o644)
        if unnamed >= 0 {
            if let failure = Self.writeAll(unnamed, bytes) {
                close(unnamed)
                throw StoreError.io(path: target, errno: failure)
            }
            // Start writeback now (SYNC_FILE_RANGE_WRITE): `flush()` before the commit then
            // waits for little, and the disk works while the CPUs parse.
            _ = sync_file_range(unnamed, 0, 0, 2)
            let linked = linkat(AT_FDCWD, "/proc/self/fd/\(unnamed)", AT_FDCWD, target, AT_SYMLINK_FOLLOW)
            let code = errno
            close(unnamed)
            // EEXIST: another writer finished the same object first; the content is the same.
            if linked == 0 || code == EEXIST { return linked == 0 }
            throw StoreError.io(path: target, errno: code)
        }
        // EOPNOTSUPP, EISDIR, EINVAL: this filesystem has no O_TMPFILE; use a named staging file.
        #endif
        let staging = "\(root)/tmp/\(sha256).\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(staging, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io(path: staging, errno: errno) }
        let failure = Self.writeAll(fd, bytes)
        close(fd)
        if let failure {
            unlink(staging)
            throw StoreError.io(path: staging, errno: failure)
        }
        guard rename(staging, target) == 0 else {
            let code = errno
            unlink(staging)
            throw StoreError.io(path: target, errno: code)
        }
        return true
    }

    #if os(Linux)
    /// `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`), which Swift's Glibc module does not import.
    private static let tmpfileFlags: Int32 = 0o20000000 | O_DIRECTORY
    #endif

    /// Writes all of `bytes` to `fd`; the errno of a failed write, or nil.
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { raw -> Int32? in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
    }

    /// Makes every object written so far durable (Linux `syncfs` on the archive's filesystem; a
    /// plain `sync` elsewhere). Called before each commit that references new objects, because a
    /// row whose object a power loss took away would be worse than no row: the next import would
    /// call the message a duplicate and never store it again.
    public func flush() throws {
        #if canImport(Glibc)
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.io(path: root, errno: errno) }
        defer { close(fd) }
        guard syncfs(fd) == 0 else { throw StoreError.io(path: root, errno: errno) }
        #else
        sync()
        #endif
    }

    /// Reads an object's stored bytes (still compressed for messages and quarantine).
    public func read(_ kind: Kind, sha256: String) throws -> [UInt8] {
        let target = path(kind, sha256: sha256)
        let fd = open(target, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.missingObject(path: relativePath(kind, sha256: sha256)) }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(path: target, errno: errno)
            }
            if n == 0 { break }
            result.append(contentsOf: buffer[0..<n])
        }
        return result
    }

    /// The original bytes of a stored message, decompressed.
    public func readMessage(sha256: String) throws -> [UInt8] {
        try Gzip.decompress(read(.message, sha256: sha256))
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw StoreError.io(path: path, errno: errno)
        }
    }

    static func hexByte(_ value: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[value >> 4], digits[value & 15]])
    }

    static func isHexDigest(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}

/// Failures of the archive store, each with a one-line description for the CLI.
public enum StoreError: Error, CustomStringConvertible {
    case io(path: String, errno: Int32)
    case missingObject(path: String)
    case notAnArchive(path: String, reason: String)
    /// A command that writes was pointed at an archive it cannot write (a read-only mount, a
    /// WORM share, a DVD, files without write permission).
    case readOnly(path: String, reason: String)
    case noSuchMessage(String)
    case ambiguousKey(String, matches: Int)

    public var description: String {
        switch self {
        case .io(let path, let code): return "\(path): \(String(cString: strerror(code)))"
        case .missingObject(let path): return "archive object missing: \(path)"
        case .notAnArchive(let path, let reason): return "\(path) is not a usable Dossier archive: \(reason)"
        case .readOnly(let path, let reason):
            return "the archive \(path) cannot be written (\(reason)); this command writes to it. search, show, report, why, thread, "
                + "client, export and verify --archive (without --repair) work on a read-only archive"
        case .noSuchMessage(let key): return "no message with key \(key)"
        case .ambiguousKey(let key, let matches): return "key prefix \(key) matches \(matches) messages; give more characters"
        }
    }
}
