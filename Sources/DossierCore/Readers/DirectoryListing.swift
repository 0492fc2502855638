#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One directory entry, classified without following directory symlinks.
struct DirectoryEntry: Sendable {
    enum Kind: Sendable { case file, directory, symlinkToFile, symlinkToDirectory, other }
    var name: String
    var kind: Kind
    /// False when the name is not valid UTF-8: `name` is then a repaired spelling that does not
    /// open the file (Swift strings cannot carry the raw bytes).
    var nameIsExact: Bool = true
}

/// Directory reading for the planner and the Maildir reader: readdir(3) with its d_type, so that
/// a Maildir folder of a million files costs no stat per file just to be listed.
enum DirectoryListing {
    /// The entries of `path` except "." and "..", sorted by the bytes of their names so that runs
    /// are reproducible whatever the file system's order.
    static func entries(_ path: String) throws -> [DirectoryEntry] {
        guard let dir = opendir(path) else {
            let code = errno
            if code == ENOENT { throw SourceError.notFound(path: path) }
            throw SourceError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        defer { closedir(dir) }
        var result: [DirectoryEntry] = []
        while let entry = readdir(dir) {
            let (name, exact) = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { raw -> (String, Bool) in
                    if let valid = String(validatingCString: raw) { return (valid, true) }
                    return (String(cString: raw), false)
                }
            }
            if name == "." || name == ".." { continue }
            let kind: DirectoryEntry.Kind
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): kind = .file
            case Int32(DT_DIR): kind = .directory
            case Int32(DT_LNK): kind = classify(path + "/" + name, follow: true, symlink: true)
            case Int32(DT_UNKNOWN): kind = classify(path + "/" + name, follow: false, symlink: false)
            default: kind = .other
            }
            result.append(DirectoryEntry(name: name, kind: exact ? kind : (kind == .directory ? .other : .file), nameIsExact: exact))
        }
        result.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return result
    }

    private static func classify(_ path: String, follow: Bool, symlink: Bool) -> DirectoryEntry.Kind {
        var info = stat()
        if !follow {
            guard lstat(path, &info) == 0 else { return .other }
            if (info.st_mode & S_IFMT) == S_IFLNK { return classify(path, follow: true, symlink: true) }
        } else {
            guard stat(path, &info) == 0 else { return .other } // dangling link
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return symlink ? .symlinkToFile : .file
        case S_IFDIR: return symlink ? .symlinkToDirectory : .directory
        default: return .other
        }
    }

    /// Size and identity of a path (following symlinks), nil when it cannot be stat'ed.
    static func info(_ path: String) -> (size: Int64, isDirectory: Bool, isFile: Bool, device: UInt64, inode: UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let type = info.st_mode & S_IFMT
        return (Int64(info.st_size), type == S_IFDIR, type == S_IFREG, UInt64(info.st_dev), UInt64(info.st_ino))
    }

    static func isDirectory(_ path: String) -> Bool { info(path)?.isDirectory ?? false }
}
