#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file-system steps that make a change survive a power cut: fsync of a directory after a
/// rename or link into it, whole small files written under a temporary name, `mkdir -p`. Paths
/// go to the kernel through `FileSystemName`, so names that are not UTF-8 (escaped by the
/// readers) reach the same bytes on disk.
enum DurableFiles {
    /// fsync of a directory: the names created, renamed or removed in it are on disk.
    static func syncDirectory(_ path: String) throws {
        let fd = FileSystemName.with(path) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw StoreError.io(path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StoreError.io(path: path, errno: errno) }
    }

    /// fsync of the directory holding `path`.
    static func syncParent(of path: String) throws {
        try syncDirectory(parent(of: path))
    }

    /// Creates `path` and every missing directory above it.
    static func makeDirectories(_ path: String) throws {
        var built = ""
        for part in path.split(separator: "/") {
            built += "/" + part
            if FileSystemName.with(built, { mkdir($0, 0o755) }) != 0 && errno != EEXIST {
                throw StoreError.io(path: built, errno: errno)
            }
        }
    }

    /// Writes a small file whole or not at all: a temporary name beside it, fsync, rename, fsync
    /// of the directory.
    static func write(_ path: String, _ bytes: [UInt8]) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = FileSystemName.with(temporary) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw StoreError.io(path: temporary, errno: errno) }
        func fail(_ code: Int32) -> StoreError {
            _ = FileSystemName.with(temporary) { unlink($0) }
            return StoreError.io(path: path, errno: code)
        }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                throw fail(code)
            }
            done += n
        }
        let synced = fsync(fd) == 0
        let code = errno
        close(fd)
        guard synced else { throw fail(code) }
        guard rename(FileSystemName.bytes(temporary), FileSystemName.bytes(path)) == 0 else { throw fail(errno) }
        try syncParent(of: path)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
