import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `Archive.open` checks about an archive directory before SQLite sees it.
enum ArchiveContent {
    /// Whether the directory holds anything an archive stores: a file anywhere under `objects/` or
    /// `quarantine/` (a new archive has only empty directories there). Stops at the first file found.
    static func holdsObjects(_ root: String) -> Bool {
        func holdsFile(_ path: String, depth: Int) -> Bool {
            guard depth < 4, let dir = opendir(path) else { return false }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                let child = path + "/" + name
                var info = stat()
                guard lstat(child, &info) == 0 else { continue }
                if (info.st_mode & S_IFMT) != S_IFDIR { return true }
                if holdsFile(child, depth: depth + 1) { return true }
            }
            return false
        }
        return holdsFile(root + "/objects", depth: 0) || holdsFile(root + "/quarantine", depth: 0)
    }

    /// Why a writing command cannot write the archive, or nil when it can (the directory and, when
    /// it exists, the database).
    static func whyNotWritable(root: String, database: String?) -> String? {
        for path in [root, database].compactMap({ $0 }) where access(path, W_OK) != 0 {
            let code = errno
            if code == ENOENT { continue }
            return "\(path): \(String(cString: strerror(code)))"
        }
        return nil
    }

    enum ReadOnlyOpen: Equatable {
        /// SQLite's read-only open (SQLite may add its `-shm`/`-wal` companion files, nothing else).
        case plain
        /// `immutable=1`: the directory cannot be written and there is no write-ahead log to read.
        case immutable
        case impossible(String)
    }

    /// How a read-only command opens the database.
    static func readOnlyOpen(root: String, database: String) -> ReadOnlyOpen {
        if access(root, W_OK) == 0 { return .plain }
        var info = stat()
        let walExists = stat(database + "-wal", &info) == 0 && info.st_size > 0
        if !walExists { return .immutable }
        // A log with its index: SQLite reads both without writing (3.22+).
        if access(database + "-shm", R_OK) == 0 { return .plain }
        return .impossible("its database has a write-ahead log (\(Archive.databaseName)-wal) but no -shm file, on a directory that "
                           + "cannot be written: SQLite cannot read it there; copy the archive to writable storage, or checkpoint "
                           + "it (any dossier command that writes) before making it read-only")
    }

    /// An SQLite URI opening `path` immutable (the path percent-encoded).
    static func immutableURI(_ path: String) -> String {
        var encoded = ""
        for byte in path.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if c.isASCII && (c.isLetter || c.isNumber || "/-._~".contains(c)) {
                encoded.append(c)
            } else {
                encoded += String(format: "%%%02X", byte)
            }
        }
        return "file:" + encoded + "?immutable=1"
    }
}
