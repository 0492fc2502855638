#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Something found inside a source tree and deliberately not read, with why (the run's ledger
/// counts these as `skipped`; they are not `read`).
public struct SkippedPath: Sendable, Hashable, Codable {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// What happens to symbolic links inside the trees `import` walks.
///
/// A path given on the command line is the user's explicit choice and is followed, link or not.
/// Inside it, no symbolic link is ever read or followed, wherever it points:
/// - out of the tree (a link to `/etc/shadow` dropped into a Maildir's `cur/`): reading it would
///   hand the target to anyone who can write to the source folder;
/// - to a file inside the tree: that file is read under its own name (when the walk reaches it at
///   all), so reading it again through the link would only count it twice;
/// - to a directory: not entered, so a walk cannot loop or leave the tree;
/// - to nothing, or to itself (a loop): there is nothing to read, and resolving never hangs
///   (realpath(3) gives up with ELOOP).
///
/// Each such link is recorded as skipped with one of the reasons below. Files are also opened with
/// `O_NOFOLLOW` where the planner found them inside a tree, so a file swapped for a link after the
/// listing is refused too.
enum SymlinkPolicy {
    static let outside = "symbolic link leading outside the source tree (not followed)"
    static let insideFile = "symbolic link to a file inside the source tree (not followed; read under its own name)"
    static let insideDirectory = "symbolic link to a directory (not followed)"
    static let insideSpecial = "symbolic link to a FIFO, socket or device (not followed)"
    static let loop = "symbolic link loop (not followed)"
    static let dangling = "symbolic link to nothing (not followed)"

    /// The real path (every link resolved) of `path`, or the errno that stopped the resolution.
    enum Resolution { case success(String), failure(Int32) }

    static func realPath(_ path: String) -> Resolution {
        guard let resolved = FileSystemName.with(path, { realpath($0, nil) }) else { return .failure(errno) }
        defer { free(resolved) }
        return .success(FileSystemName.decode(Array(UnsafeBufferPointer(start: UnsafeRawPointer(resolved).assumingMemoryBound(to: UInt8.self),
                                                                      count: strlen(resolved)))).name)
    }

    /// Whether `path` (resolved) is `root` (resolved) or below it.
    static func isInside(_ path: String, root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    /// Why the link at `path` is not read, for a walk of the tree whose real path is `root`.
    static func reason(forLinkAt path: String, root: String) -> String {
        switch realPath(path) {
        case .failure(let code):
            if code == ELOOP { return loop }
            if code == ENOENT || code == ENOTDIR { return dangling }
            return "symbolic link that cannot be resolved: \(String(cString: strerror(code))) (not followed)"
        case .success(let target):
            guard isInside(target, root: root) else { return outside }
            var info = stat()
            guard FileSystemName.with(target, { stat($0, &info) }) == 0 else { return dangling }
            switch info.st_mode & S_IFMT {
            case S_IFREG: return insideFile
            case S_IFDIR: return insideDirectory
            default: return insideSpecial
            }
        }
    }
}
