#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One directory entry, classified without following symbolic links.
struct DirectoryEntry: Sendable {
    /// `symlink`: a symbolic link, whatever it points at (links inside a tree are never read; see
    /// `SymlinkPolicy`).
    enum Kind: Sendable { case file, directory, symlink, other }
    var name: String
    var kind: Kind
    /// False when the name is not valid UTF-8: `name` then spells its invalid bytes as
    /// `FileSystemName` escapes, which still open the file.
    var nameIsExact: Bool = true
}

/// File names are bytes; Swift strings are Unicode. A name that is not valid UTF-8 (Latin-1 names
/// from old Windows or mail-client exports are common) would otherwise be unopenable and its mail
/// lost. Each byte of an invalid sequence is kept as one scalar of a private-use block
/// (U+10FE80 + byte - 0x80), and turned back into that byte whenever the path is handed to the
/// kernel, so the round trip is exact (in the spirit of Python's "surrogateescape").
enum FileSystemName {
    static let escapeBase: UInt32 = 0x10FE00

    /// The name for raw bytes: the bytes themselves when valid UTF-8, else with every byte of an
    /// invalid sequence escaped. `exact` is false when anything was escaped.
    static func decode(_ bytes: [UInt8]) -> (name: String, exact: Bool) {
        if let valid = String(validating: bytes, as: UTF8.self) { return (valid, true) }
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            let lead = bytes[i]
            let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0
            if length > 0, i + length <= bytes.count,
               let piece = String(validating: bytes[i..<(i + length)], as: UTF8.self) {
                scalars.append(contentsOf: piece.unicodeScalars)
                i += length
            } else {
                scalars.append(Unicode.Scalar(escapeBase + UInt32(lead))!)
                i += 1
            }
        }
        return (String(scalars), false)
    }

    /// The bytes the kernel knows `path` by (escapes undone), NUL-terminated.
    static func bytes(_ path: String) -> [CChar] {
        var result: [CChar] = []
        result.reserveCapacity(path.utf8.count + 1)
        for scalar in path.unicodeScalars {
            if scalar.value >= escapeBase + 0x80 && scalar.value <= escapeBase + 0xFF {
                result.append(CChar(bitPattern: UInt8(scalar.value - escapeBase)))
            } else {
                for unit in UTF8.encode(scalar)! { result.append(CChar(bitPattern: unit)) }
            }
        }
        result.append(0)
        return result
    }

    /// Calls `body` with the kernel's spelling of `path`.
    static func with<T>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        let raw = bytes(path)
        return try raw.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}

/// Directory reading for the planner and the Maildir reader: readdir(3) with its d_type, so that
/// a Maildir folder of a million files costs no stat per file just to be listed.
enum DirectoryListing {
    /// The entries of `path` except "." and "..", sorted by the bytes of their names so that runs
    /// are reproducible whatever the file system's order.
    static func entries(_ path: String) throws -> [DirectoryEntry] {
        let dir = try open(path)
        defer { closedir(dir) }
        var result: [DirectoryEntry] = []
        while let entry = readdir(dir) {
            let (name, exact) = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: UInt8.self, capacity: Int(NAME_MAX) + 1) { raw -> (String, Bool) in
                    FileSystemName.decode(Array(UnsafeBufferPointer(start: raw, count: strlen(UnsafeRawPointer(raw).assumingMemoryBound(to: CChar.self)))))
                }
            }
            if name == "." || name == ".." { continue }
            let kind: DirectoryEntry.Kind
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): kind = .file
            case Int32(DT_DIR): kind = .directory
            case Int32(DT_LNK): kind = .symlink
            case Int32(DT_UNKNOWN): kind = classify(path + "/" + name)
            default: kind = .other
            }
            result.append(DirectoryEntry(name: name, kind: kind, nameIsExact: exact))
        }
        result.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return result
    }

    /// Throws what `entries` would throw for a directory that cannot be listed, without listing it.
    static func checkListable(_ path: String) throws {
        closedir(try open(path))
    }

    private static func open(_ path: String) throws -> OpaquePointer {
        guard let dir = FileSystemName.with(path, { opendir($0) }) else {
            let code = errno
            if code == ENOENT { throw SourceError.notFound(path: path) }
            throw SourceError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        return dir
    }

    private static func classify(_ path: String) -> DirectoryEntry.Kind {
        var info = stat()
        guard FileSystemName.with(path, { lstat($0, &info) }) == 0 else { return .other }
        switch info.st_mode & S_IFMT {
        case S_IFLNK: return .symlink
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// Whether `path` itself (not what a link there points at) is a directory.
    static func isRealDirectory(_ path: String) -> Bool {
        var info = stat()
        return FileSystemName.with(path, { lstat($0, &info) }) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether `path` itself is a symbolic link.
    static func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return FileSystemName.with(path, { lstat($0, &info) }) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// Size and identity of a path (following symlinks), nil when it cannot be stat'ed.
    static func info(_ path: String) -> (size: Int64, isDirectory: Bool, isFile: Bool, device: UInt64, inode: UInt64)? {
        var info = stat()
        guard FileSystemName.with(path, { stat($0, &info) }) == 0 else { return nil }
        let type = info.st_mode & S_IFMT
        return (Int64(info.st_size), type == S_IFDIR, type == S_IFREG, UInt64(info.st_dev), UInt64(info.st_ino))
    }

    static func isDirectory(_ path: String) -> Bool { info(path)?.isDirectory ?? false }
}
