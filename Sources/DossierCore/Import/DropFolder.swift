#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A folder a mail server or an export job drops mail into, for `dossier import --drop DIR`: the
/// nightly, unattended import, exactly once.
///
/// Layout: `DIR/<mailbox>/...` (anything `import` reads: mbox files, Maildirs, .eml files, in any
/// subfolders, which become folders), as `import DIR` maps a folder of mailboxes: an mbox file
/// directly in `DIR` is a mailbox named after it (`alice.mbox` -> "alice"), a loose message file
/// there belongs to the mailbox named after `DIR`. Dossier adds `DIR/processed/YYYY-MM-DD/` and
/// `DIR/quarantine/YYYY-MM-DD/` and never reads them.
///
/// The rules that make a run exactly once:
/// - a file is taken only when it has settled: its size and modification time did not change
///   over the settle time, and its name is not one writers use while writing (dot names, `.tmp`,
///   `.part`, `.partial`, `.crdownload`, `.filepart`, Maildir `tmp/`); the rest waits for the
///   next run;
/// - a symbolic link is never followed, nor read: anyone who can write to the drop folder could
///   otherwise make the job read any file it can (it is reported as skipped);
/// - a file moves to `processed/` only after every message in it is committed and the database
///   has been made durable (`fsync` of the WAL), and the move itself is fsynced: a crash at any
///   moment leaves each file either still in `DIR` (the next run finds its committed messages
///   duplicates and the rest new) or in `processed/` with all its messages stored;
/// - a file that could not be read, or held no message, moves to `quarantine/` with a `.reason`
///   file beside it; a name that is taken already gets a suffix, never overwrites.
public struct DropFolder: Sendable {
    /// Where a file goes after a run.
    public enum Bin: String, Sendable, Codable {
        case processed, quarantine
    }

    /// One file waiting in the drop folder.
    public struct Item: Sendable, Hashable {
        /// Path under the drop folder, as found (never with "..": it comes from a directory walk).
        public var relative: String
        public var mailbox: String
        public var folder: String
        public var kind: MessageSource.Kind
        public var gzip: Bool
        public var size: Int64
        /// Modification time (seconds, nanoseconds), to see whether a writer is still at work.
        var modified: Int64
    }

    /// A file left where it is, with the reason.
    public struct Left: Sendable, Hashable, Codable {
        public var file: String
        public var reason: String
    }

    public let root: String
    /// Seconds a file's size and modification time must stay the same to be taken.
    public var settleSeconds: Double
    /// Directories never read as mail: the archive, when it is kept inside the drop folder.
    public var excluding: [String] = []

    /// Names the two folders Dossier keeps inside the drop folder.
    public static let reservedNames: Set<String> = [Bin.processed.rawValue, Bin.quarantine.rawValue]

    public init(root: String, settleSeconds: Double = 5) {
        self.root = SourcePlanner.absolutePath(root)
        self.settleSeconds = settleSeconds
    }

    // MARK: Finding what is ready

    /// Every file waiting (in the order an import of the same paths would read them), and what is
    /// left out at once: links, names writers use while writing.
    /// - Throws: `SourceError` when the drop folder itself cannot be listed.
    public func scan() throws -> (items: [Item], left: [Left]) {
        try SourcePlanner.checkPaths([root])
        guard DirectoryListing.isDirectory(root) else {
            throw SourceError.unreadable(path: root, reason: "a drop folder must be a directory")
        }
        var items: [Item] = []
        var left: [Left] = []
        for entry in try DirectoryListing.entries(root).sorted(by: { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }) {
            let path = root + "/" + entry.name
            if Self.reservedNames.contains(entry.name) && entry.kind == .directory { continue }
            if excluding.contains(path) { continue }
            if let reason = Self.inProgressReason(entry.name) {
                left.append(Left(file: entry.name, reason: reason))
                continue
            }
            switch entry.kind {
            case .symlink:
                left.append(Left(file: entry.name, reason: "a symbolic link: never followed in a drop folder"))
                continue
            case .other:
                left.append(Left(file: entry.name, reason: "not a regular file or directory"))
                continue
            case .file, .directory:
                break
            }
            // As `import DIR` maps a folder of mailboxes: a subfolder or an mbox file is a mailbox
            // named after it, a loose message file belongs to the mailbox named after DIR.
            let plan: SourcePlan
            do {
                plan = try SourcePlanner.plan(paths: [path], mailbox: entry.kind == .directory ? entry.name : nil, excluding: excluding,
                                              measuringMaildirs: true)
            } catch {
                left.append(Left(file: entry.name, reason: "\(error)"))
                continue
            }
            // Links inside a subfolder are never read either (SymlinkPolicy): left, with the reason.
            for skipped in plan.skipped {
                left.append(Left(file: String(skipped.path.dropFirst(root.count + 1)), reason: skipped.reason))
            }
            for var source in plan.sources {
                if entry.kind == .file && source.kind == .messageFile { source.mailbox = SourcePlanner.baseName(root) }
                var files: [(path: String, kind: MessageSource.Kind)] = []
                if source.kind == .maildirFolder {
                    for file in (try? MaildirReader.messageFiles(in: source.path)) ?? [] { files.append((file.path, .maildirMessage)) }
                } else {
                    files.append((source.path, source.kind))
                }
                for file in files {
                    let relative = String(file.path.dropFirst(root.count + 1))
                    let name = relative.split(separator: "/").last.map(String.init) ?? relative
                    if let reason = Self.inProgressReason(name) {
                        left.append(Left(file: relative, reason: reason))
                        continue
                    }
                    guard let status = Self.status(file.path) else {
                        left.append(Left(file: relative, reason: "vanished while the drop folder was read"))
                        continue
                    }
                    guard status.isRegular else {
                        left.append(Left(file: relative, reason: status.isLink ? "a symbolic link: never followed in a drop folder"
                                         : "not a regular file"))
                        continue
                    }
                    items.append(Item(relative: relative, mailbox: source.mailbox, folder: source.folder, kind: file.kind,
                                      gzip: source.gzip, size: status.size, modified: status.modified))
                }
            }
        }
        return (items, left)
    }

    /// The items whose size and modification time stay the same over the settle time; the others
    /// are left for the next run.
    public func settled(_ items: [Item], sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }) -> (ready: [Item], left: [Left]) {
        if settleSeconds > 0 && !items.isEmpty { sleep(settleSeconds) }
        var ready: [Item] = []
        var left: [Left] = []
        for item in items {
            if let reason = changedReason(item) {
                left.append(Left(file: item.relative, reason: reason))
            } else {
                ready.append(item)
            }
        }
        return (ready, left)
    }

    /// Why an item is not as it was when found (nil: unchanged).
    func changedReason(_ item: Item) -> String? {
        guard let now = Self.status(root + "/" + item.relative) else { return "vanished before it was read" }
        if !now.isRegular { return "no longer a regular file" }
        if now.size != item.size || now.modified != item.modified { return "still being written (it changed during the settle time)" }
        return nil
    }

    /// The import's sources: one per file, so that each file's outcome is known.
    public func plan(_ items: [Item]) -> SourcePlan {
        SourcePlan(sources: items.map { item in
            var source = MessageSource(kind: item.kind, path: root + "/" + item.relative, mailbox: item.mailbox, folder: item.folder,
                                       gzip: item.gzip, byteSize: item.size)
            // A file swapped for a link after the scan is refused when opened, never read through it.
            source.followsLinks = false
            return source
        })
    }

    /// Names writers give files they have not finished: dot files, and the usual suffixes.
    static func inProgressReason(_ name: String) -> String? {
        if name.hasPrefix(".") { return "a dot file (a writer's temporary name, or hidden)" }
        let lower = name.lowercased()
        for suffix in [".tmp", ".part", ".partial", ".crdownload", ".filepart", ".download"] where lower.hasSuffix(suffix) {
            return "named \(suffix): a file still being written"
        }
        return nil
    }

    // MARK: Filing the files away

    /// Moves one file to `bin/day/` (same relative path), never over an existing file: a taken
    /// name gets "-2", "-3", ... before its extensions (the caller holds the writer lock, so no
    /// other run moves files meanwhile). With a reason (quarantine), a `.reason`
    /// text file is written beside it. Both directories are fsynced: the move survives a power
    /// loss. Returns the destination, relative to the drop folder.
    public func move(_ item: Item, to bin: Bin, day: String, reason: String? = nil) throws -> String {
        let source = root + "/" + item.relative
        let relativeDirectory = item.relative.split(separator: "/").dropLast().joined(separator: "/")
        let name = item.relative.split(separator: "/").last.map(String.init) ?? item.relative
        let binRelative = bin.rawValue + "/" + day + (relativeDirectory.isEmpty ? "" : "/" + relativeDirectory)
        let directory = root + "/" + binRelative
        try DurableFiles.makeDirectories(directory)
        var candidate = name
        var n = 1
        while Self.status(directory + "/" + candidate) != nil || (reason != nil && Self.status(directory + "/" + candidate + ".reason") != nil) {
            n += 1
            candidate = Self.suffixed(name, n)
        }
        let target = directory + "/" + candidate
        try FaultPoint.check(.beforeDropMove)
        if let reason {
            try DurableFiles.write(directory + "/" + candidate + ".reason", Array((reason + "\n").utf8))
        }
        // One atomic rename, so that a kill never leaves the file in both places (a link and an
        // unlink would, and the next run would read it again). It cannot replace a file that
        // appeared since the check above: only the holder of the writer lock moves files here.
        let renamed = FileSystemName.bytes(source).withUnsafeBufferPointer { from in
            FileSystemName.bytes(target).withUnsafeBufferPointer { to in rename(from.baseAddress!, to.baseAddress!) }
        }
        guard renamed == 0 else { throw StoreError.io(path: target, errno: errno) }
        try DurableFiles.syncDirectory(directory)
        try DurableFiles.syncParent(of: source)
        try FaultPoint.check(.afterDropMove)
        return binRelative + "/" + candidate
    }

    /// "mail.mbox.gz", 2 -> "mail-2.mbox.gz"; a Maildir name "1700000000.M1P2.host:2,S" -> "...host-2:2,S".
    static func suffixed(_ name: String, _ n: Int) -> String {
        if let info = name.range(of: ":2,") ?? name.range(of: "!2,") {
            return name[..<info.lowerBound] + "-\(n)" + name[info.lowerBound...]
        }
        let stem = SourcePlanner.strippingExtensions(name)
        guard stem.count < name.count, !stem.isEmpty else { return name + "-\(n)" }
        return stem + "-\(n)" + name.dropFirst(stem.count)
    }

    // MARK: File system helpers

    struct Status {
        var isRegular: Bool
        var isLink: Bool
        var size: Int64
        var modified: Int64
    }

    /// lstat: links are described, never followed.
    static func status(_ path: String) -> Status? {
        var info = stat()
        guard FileSystemName.bytes(path).withUnsafeBufferPointer({ lstat($0.baseAddress!, &info) }) == 0 else { return nil }
        let type = info.st_mode & S_IFMT
        return Status(isRegular: type == S_IFREG, isLink: type == S_IFLNK, size: Int64(info.st_size),
                      modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
