#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An advisory lock (`flock`) on the archive directory, saying who may be writing objects.
///
/// Commands that write objects or read originals by locations they looked up earlier hold it
/// shared for their whole run: an import (its workers append to packs and write attachment and
/// quarantine files before the rows that name them commit) and a rematch (it reads every original
/// at locations it read at its start). `verify --repair`, which removes unreferenced objects and
/// rewrites packs, holds it exclusively and refuses when it cannot have it at once: to it an
/// object an import has not committed yet looks exactly like one a killed import left behind.
///
/// The kernel drops the lock when its process dies, so a killed import never leaves the archive
/// locked. `flock` is on the directory itself, not on `dossier.sqlite`, whose locks are SQLite's.
public final class ArchiveLock: @unchecked Sendable {
    public enum Mode: Sendable { case shared, exclusive }

    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }

    /// Takes the lock on the archive at `root`, waiting for it when `wait` is true; nil when it
    /// is held in a conflicting mode and `wait` is false.
    public static func acquire(_ mode: Mode, root: String, wait: Bool) throws -> ArchiveLock? {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.io(path: root, errno: errno) }
        var operation = mode == .shared ? LOCK_SH : LOCK_EX
        if !wait { operation |= LOCK_NB }
        while flock(fd, operation) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw StoreError.io(path: root, errno: code)
        }
        return ArchiveLock(fd: fd)
    }

    /// Whether no other process holds the lock now (an instant's answer: it takes and drops it).
    public static func isFree(root: String) throws -> Bool {
        try acquire(.exclusive, root: root, wait: false) != nil
    }

    /// Processes other than this one that, by the name of a pack, may still be appending to it:
    /// `PackWriter` names each pack `<time>-<pid>-<random>.pack`, and an older Dossier imports
    /// without taking the lock. A pid counts while a process of that number runs a program named
    /// `dossier` (Linux `/proc/<pid>/comm`); a reused pid can only make this say "busy" wrongly,
    /// never "free".
    public static func livePackWriters(packNames: [String]) -> [Int32] {
        var pids = Set<Int32>()
        for name in packNames {
            let parts = name.split(separator: "-")
            guard parts.count >= 3, let pid = Int32(parts[1]), pid > 0, pid != getpid() else { continue }
            pids.insert(pid)
        }
        return pids.sorted().filter { pid in
            guard kill(pid, 0) == 0 || errno == EPERM else { return false }
            guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else {
                // No /proc (not Linux): a live process of that number is enough to be careful.
                return !FileManager.default.fileExists(atPath: "/proc/self")
            }
            return comm.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("dossier")
        }
    }
}
