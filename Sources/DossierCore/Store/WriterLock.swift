#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import GRDB

/// The archive's one-writer-at-a-time lock: `flock` on `writer.lock` in the archive, held
/// exclusively for a whole import (drop-folder or not) or rematch, and never waited for: a second
/// run started by mistake (a cron job still running at dawn, a user at a terminal) exits at once
/// with `ArchiveBusy`, which names the process that holds it.
///
/// It is a different file from the one `ArchiveLock` locks, because `flock` locks belong to open
/// file descriptions: this process takes `ArchiveLock` shared on the directory too, and an
/// exclusive lock on the same inode through another descriptor would conflict with itself.
///
/// Whoever holds it knows that no other run is alive: a run row still `running` was left by a
/// process killed or stopped by a full disk, and `acquire` marks such rows `interrupted`.
public final class WriterLock: @unchecked Sendable {
    public static let fileName = "writer.lock"

    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }

    /// Takes the lock or throws `ArchiveBusy` at once; then marks runs left `running` by a dead
    /// process as `interrupted`. Within one process it is reentrant: a drop-folder run holds it
    /// from before it looks at the folder, and the import it runs takes it again.
    public static func acquire(_ archive: Archive) throws -> WriterLock {
        try held.with { held in
            if let lock = held[archive.path]?.lock { return lock }
            let lock = try take(archive)
            held[archive.path] = Weak(lock: lock)
            return lock
        }
    }

    private final class Weak: @unchecked Sendable {
        weak var lock: WriterLock?
        init(lock: WriterLock) { self.lock = lock }
    }

    private final class Held: @unchecked Sendable {
        private let mutex = NSLock()
        private var locks: [String: Weak] = [:]
        func with<T>(_ body: (inout [String: Weak]) throws -> T) rethrows -> T {
            mutex.lock()
            defer { mutex.unlock() }
            return try body(&locks)
        }
    }

    private static let held = Held()

    private static func take(_ archive: Archive) throws -> WriterLock {
        let path = archive.path + "/" + fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io(path: path, errno: errno) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK {
                let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                throw ArchiveBusy(archive: archive.path, holder: holder?.isEmpty == false ? holder : nil)
            }
            throw StoreError.io(path: path, errno: code)
        }
        // Who holds it, for the message a second run prints (advisory: the lock is the truth).
        let note = Array("pid \(getpid()) since \(Timestamp.now())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = note.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        let lock = WriterLock(fd: fd)
        try archive.database.write { db in
            try db.execute(sql: """
                UPDATE run SET status = 'interrupted',
                               error = COALESCE(error, 'the process ended without finishing (killed, crashed or out of space)')
                WHERE status = 'running'
                """)
        }
        return lock
    }
}

/// Another run holds the archive's writer lock.
public struct ArchiveBusy: Error, CustomStringConvertible {
    public var archive: String
    /// What the holder wrote into the lock file ("pid 123 since ...").
    public var holder: String?

    public var description: String {
        "another Dossier run is writing to \(archive)" + (holder.map { " (\($0))" } ?? "") + "; try again when it has finished"
    }
}
