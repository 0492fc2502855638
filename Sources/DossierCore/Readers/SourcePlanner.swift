import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One unit of work for the importer: a file or folder that a single `MessageReader` reads.
public struct MessageSource: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// An mbox file (mboxo, mboxrd or Content-Length delimited), possibly gzip-compressed.
        case mbox
        /// One Maildir folder: the message files of its `cur/` and `new/`.
        case maildirFolder
        /// One file holding one message (.eml or any other regular file), possibly gzip-compressed.
        case messageFile
        /// One message file of a Maildir folder, read on its own (the drop folder hands over
        /// each file it will move): its flags come from its name, as `MaildirReader` reads them.
        case maildirMessage
    }

    public var kind: Kind
    /// The mbox/message file, or the Maildir folder directory (the one holding cur/ and new/).
    public var path: String
    public var mailbox: String
    public var folder: String
    public var gzip: Bool
    /// Size on disk in bytes (for a Maildir folder: all its message files, or 0 when it was
    /// planned without sizes), for progress and ETA.
    public var byteSize: Int64
    /// Files that hold one message each: the listed files of a Maildir folder, 1 for a message
    /// file, 0 for an mbox.
    public var messageFiles: Int
    /// False for a file found inside a directory tree: it is opened with `O_NOFOLLOW`, so a file
    /// swapped for a symbolic link after planning is refused, not followed (`SymlinkPolicy`).
    /// A path given on the command line is followed.
    public var followsLinks = true

    public init(kind: Kind, path: String, mailbox: String, folder: String, gzip: Bool, byteSize: Int64, messageFiles: Int? = nil) {
        self.kind = kind
        self.path = path
        self.mailbox = mailbox
        self.folder = folder
        self.gzip = gzip
        self.byteSize = byteSize
        self.messageFiles = messageFiles ?? (kind == .messageFile || kind == .maildirMessage ? 1 : 0)
    }

    /// Opens a streaming reader over this source.
    ///
    /// - Throws: `SourceError` when the source cannot be opened (the importer records it against
    ///   this source and goes on with the next).
    public func openReader() throws -> any MessageReader {
        switch kind {
        case .mbox:
            return try MboxReader(path: path, gzip: gzip, mailbox: mailbox, folder: folder, followLinks: followsLinks)
        case .maildirFolder:
            return try MaildirReader(folderPath: path, mailbox: mailbox, folder: folder)
        case .messageFile:
            // Gzip is recognised by its magic bytes when the file is read.
            return MessageFileReader(path: path, mailbox: mailbox, folder: folder, followLinks: followsLinks)
        case .maildirMessage:
            // A file of a Maildir's cur/ or new/ (the drop folder hands over each): never through a link.
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return MessageFileReader(path: path, mailbox: mailbox, folder: folder, flags: MaildirReader.flags(fromFileName: name),
                                     followLinks: false)
        }
    }
}

/// Which mailbox the mail under one path is recorded in, and by which rule: what `dossier check`
/// and `import --dry-run` show, so that the access groups staff.csv gives can be checked before
/// anything is imported.
public struct MailboxMapping: Sendable, Hashable, Codable {
    public enum Rule: String, Sendable, Hashable, Codable {
        /// `--mailbox NAME` named it.
        case option
        /// A file given on the command line: its name without extensions.
        case fileName = "file_name"
        /// A Maildir given on the command line: its directory's name.
        case maildir
        /// An entry (mbox file, Maildir or subfolder) of a directory given on the command line:
        /// the entry's name (without extensions for a file).
        case entry
        /// Single-message files directly inside a directory given on the command line: the
        /// directory's own name.
        case looseFiles = "loose_files"
    }

    /// The file or directory whose mail goes to `mailbox` (absolute).
    public var path: String
    public var mailbox: String
    public var rule: Rule

    public init(path: String, mailbox: String, rule: Rule) {
        self.path = path
        self.mailbox = mailbox
        self.rule = rule
    }
}

/// What `dossier import PATH...` will read, decided before reading starts.
public struct SourcePlan: Sendable {
    public var sources: [MessageSource]
    /// How the paths given map to mailboxes, in plan order (one entry per mailbox-naming path).
    public var mappings: [MailboxMapping] = []
    /// What the walk found and deliberately did not read: symbolic links inside the trees
    /// (`SymlinkPolicy`), each with its reason. The run's ledger counts them as skipped.
    public var skipped: [SkippedPath]
    public var totalBytes: Int64 { sources.reduce(0) { $0 + $1.byteSize } }
    /// A floor on the messages the sources hold, for sizing filters before reading: one per
    /// message file and one per 2 KiB of mbox (mail is larger).
    public var expectedMessages: Int {
        sources.reduce(0) { $0 + $1.messageFiles + ($1.kind == .mbox ? Int($1.byteSize / 2048) : 0) }
    }

    public init(sources: [MessageSource], mappings: [MailboxMapping] = [], skipped: [SkippedPath] = []) {
        self.sources = sources
        self.mappings = mappings
        self.skipped = skipped
    }
}

/// Turns the paths a user gives to `import` into sources, the way the user means them:
/// Maildir folders (cur/new) as Maildir, files starting with a "From " line as mbox, `.gz` through
/// zlib, every other regular file as one message.
///
/// Rules, decided once here so that every run reads the same things in the same order:
/// - **Order**: paths in the order given; inside a directory, entries sorted by the bytes of their
///   names; a Maildir's INBOX before its other folders, which are sorted by name.
/// - **What a file is**: sniffed, never guessed from its name. Gzip by its magic bytes (then the
///   decompressed start is sniffed); mbox when the first non-blank line starts with "From "
///   (after an optional UTF-8 BOM); anything else is one message. Non-messages are quarantined
///   later with a reason, so nothing given is silently dropped. Files whose names start with "."
///   are skipped inside directories.
/// - **Maildir**: a directory with `cur/` or `new/`. Its folders are the root ("INBOX"), Maildir++
///   `.Folder.Sub` directories ("Folder/Sub") and plain subdirectories that are Maildirs
///   themselves ("Folder/Sub", recursively). `tmp/` is never read. Server metadata beside cur/
///   and new/ (dot files, maildirfolder, maildirsize, subscriptions, dovecot*, courierimap*) is
///   skipped; any other file there is read as a loose message of that folder (notmuch keeps mail
///   so), rather than silently left behind.
/// - **Mailbox** (`SourcePlan.mappings` records each decision): `--mailbox NAME` names every
///   source. Else an mbox or message file given directly is named by its file name without
///   extensions (`work.mbox.gz` -> "work"), a Maildir given directly by its directory's name, and
///   a plain directory given directly is a folder of mailboxes, `DIR/<mailbox>...`: each mbox
///   file in it is a mailbox named after the file (`bob.mbox` -> "bob"), each Maildir or
///   subfolder a mailbox named after the directory (everything below it, Maildirs included, is
///   that mailbox's), and single-message files lying directly in it belong to a mailbox named
///   after the directory itself. A folder of per-user exports thus gives per-user mailboxes,
///   which staff.csv's `mailbox` column maps to users and access groups; one user's tree of
///   folders is imported with `--mailbox NAME`.
/// - **Folder**: Maildir folders as above; inside a plain directory tree an mbox's folder is its
///   relative path without extensions (`Clients/acme.mbox` -> "Clients/acme") and a message file's
///   folder is its directory's relative path, both relative to the mailbox's directory ("" at its
///   top). A file given directly, or an mbox that is a mailbox of its own, has no folder.
/// - **--folders GLOB**: fnmatch(3) without FNM_PATHNAME on the folder name (so `Clients/*` also
///   matches `Clients/A/B`); it filters folders found inside directories. Files given directly on
///   the command line are always read: the user named them.
/// - **Symlinks**: a path given on the command line is followed (the user named it). Inside the
///   tree it leads to, no symbolic link is read or followed, to a file or a directory, inside the
///   tree or out of it: each is recorded in `SourcePlan.skipped` with its reason (`SymlinkPolicy`).
///   That keeps every read inside the tree the user named, reads each file once (under its own
///   name), and makes loops impossible. A Maildir's `cur/` or `new/` that is a link is not entered.
///   A directory reached twice (bind mounts) is read once.
public enum SourcePlanner {
    /// - Parameters:
    ///   - paths: files and directories given on the command line.
    ///   - mailbox: `--mailbox NAME`; when nil each path derives its own name.
    ///   - folderGlobs: `--folders GLOB` (repeatable); when non-empty only matching folders are read.
    /// - Throws: `SourceError.notFound` for a path that does not exist (checked for every path
    ///   before anything else is done), `.unreadable` for a top-level directory that cannot be listed.
    ///   - excluding: directories never entered inside a tree: the archive being written, when the
    ///     user keeps it inside the folder being imported (its objects are not new mail, and its
    ///     database is not mail at all).
    ///   - measuringMaildirs: whether to add up the sizes of Maildir folders' files, which costs a
    ///     stat per message (about a second per 100,000 before reading can start) and only serves
    ///     a progress display.
    public static func plan(paths: [String], mailbox: String? = nil, folderGlobs: [String] = [],
                            excluding: [String] = [], measuringMaildirs: Bool = true) throws -> SourcePlan {
        let absolute = paths.map(absolutePath)
        try checkPaths(absolute)
        var walk = Walk(mailbox: mailbox, globs: folderGlobs, measuringMaildirs: measuringMaildirs)
        for path in excluding {
            if let info = DirectoryListing.info(path), info.isDirectory {
                walk.visited.insert(DirectoryID(device: info.device, inode: info.inode))
            }
        }
        for path in absolute {
            guard let info = DirectoryListing.info(path) else { continue }
            if info.isDirectory {
                // Links inside are judged against where the named path really is.
                guard case .success(let root) = SymlinkPolicy.realPath(path) else {
                    throw SourceError.unreadable(path: path, reason: "its real path cannot be resolved")
                }
                walk.root = root
                walk.visited.insert(DirectoryID(device: info.device, inode: info.inode))
                if let mailbox {
                    walk.mappings.append(MailboxMapping(path: path, mailbox: mailbox, rule: .option))
                    if isMaildir(path) {
                        try walk.maildir(root: path, mailbox: mailbox)
                    } else {
                        try walk.tree(path, relative: "", mailbox: mailbox, top: true)
                    }
                } else if isMaildir(path) {
                    walk.mappings.append(MailboxMapping(path: path, mailbox: baseName(path), rule: .maildir))
                    try walk.maildir(root: path, mailbox: baseName(path))
                } else {
                    try walk.mailboxes(in: path)
                }
            } else {
                let name = mailbox ?? strippingExtensions(baseName(path))
                walk.mappings.append(MailboxMapping(path: path, mailbox: name, rule: mailbox == nil ? .fileName : .option))
                walk.file(path, size: info.size, mailbox: name, folder: "", filtered: false)
            }
        }
        return SourcePlan(sources: walk.sources, mappings: walk.mappings, skipped: walk.skipped)
    }

    /// The checks `plan` makes of the paths it is given, without walking them: each exists, is a
    /// regular file or a directory, and a directory can be opened. A command calls this to fail on
    /// a bad path before it creates an archive; planning itself (listing every file of a Maildir)
    /// is left to the import.
    /// - Throws: `SourceError.notFound` or `.unreadable`, as `plan` would.
    public static func checkPaths(_ paths: [String]) throws {
        for path in paths.map(absolutePath) {
            guard let info = DirectoryListing.info(path) else {
                if access(path, F_OK) != 0 && (errno == ENOENT || errno == ENOTDIR) { throw SourceError.notFound(path: path) }
                throw SourceError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if info.isDirectory {
                try DirectoryListing.checkListable(path)
            } else if !info.isFile {
                // A FIFO or device would block or never end; the user surely meant something else.
                throw SourceError.unreadable(path: path, reason: "not a regular file or directory")
            }
        }
    }

    /// Does `folder` pass `--folders`? Every folder passes when there are no globs.
    public static func folderMatches(_ folder: String, globs: [String]) -> Bool {
        globs.isEmpty || globs.contains { fnmatch($0, folder, 0) == 0 }
    }

    /// Files Maildir servers and clients keep beside the mail.
    static func isMaildirMetadata(_ name: String) -> Bool {
        if name.hasPrefix(".") { return true }
        let lower = name.lowercased()
        if ["maildirfolder", "maildirsize", "subscriptions", "uidvalidity"].contains(lower) { return true }
        return ["dovecot", "courierimap", "courierpop3"].contains { lower.hasPrefix($0) }
    }

    static func hasMboxExtension(_ name: String) -> Bool {
        let lower = name.lowercased()
        return [".mbox", ".mbx", ".mbox.gz", ".mbx.gz"].contains { lower.hasSuffix($0) }
    }

    /// A directory with a real (not linked) `cur/` or `new/`.
    static func isMaildir(_ path: String) -> Bool {
        DirectoryListing.isRealDirectory(path + "/cur") || DirectoryListing.isRealDirectory(path + "/new")
    }

    static func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// "work.mbox.gz" -> "work": drops the extensions mail files commonly carry.
    static func strippingExtensions(_ name: String) -> String {
        let known: Set<String> = ["gz", "mbox", "mbx", "mbs", "eml", "txt", "mail", "msg", "emlx"]
        var result = name
        while let dot = result.lastIndex(of: "."), dot != result.startIndex,
              known.contains(result[result.index(after: dot)...].lowercased()) {
            result = String(result[..<dot])
        }
        return result
    }

    /// What a file holds, from its first bytes: gzip or not, mbox or single message.
    static func sniff(_ path: String) -> (gzip: Bool, mbox: Bool) {
        guard let plain = try? FileByteStream(path: path, gzip: false) else { return (false, false) }
        var head = [UInt8](repeating: 0, count: 4096)
        let count = (try? head.withUnsafeMutableBytes { try plain.read(into: $0) }) ?? 0
        let gzip = count >= 2 && head[0] == 0x1F && head[1] == 0x8B
        var start = [UInt8](head[0..<count])
        if gzip {
            // Decompress just enough to look at the first lines.
            guard let inflated = try? FileByteStream(path: path, gzip: true) else { return (true, false) }
            var out = [UInt8](repeating: 0, count: 4096)
            var filled = 0
            while filled < out.count {
                let n = (try? out.withUnsafeMutableBytes { try inflated.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }) ?? 0
                if n == 0 { break }
                filled += n
            }
            start = Array(out[0..<filled])
        }
        return (gzip, startsLikeMbox(start))
    }

    /// An optional BOM, blank lines, then "From ".
    static func startsLikeMbox(_ bytes: [UInt8]) -> Bool {
        var i = 0
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { i = 3 }
        while i < bytes.count && (bytes[i] == 10 || bytes[i] == 13) { i += 1 }
        return bytes.count - i >= 5 && Array(bytes[i..<i + 5]) == Array("From ".utf8)
    }
}

/// A directory's identity, to read a directory reached twice only once.
struct DirectoryID: Hashable {
    var device: UInt64
    var inode: UInt64
}

/// The state of one planning walk.
private struct Walk {
    let mailbox: String?
    let globs: [String]
    let measuringMaildirs: Bool
    var sources: [MessageSource] = []
    var mappings: [MailboxMapping] = []
    var skipped: [SkippedPath] = []
    var visited: Set<DirectoryID> = []
    /// The real path of the command-line directory being walked.
    var root = "/"

    init(mailbox: String?, globs: [String], measuringMaildirs: Bool) {
        self.mailbox = mailbox
        self.globs = globs
        self.measuringMaildirs = measuringMaildirs
    }

    /// Marks a directory visited; false if it was already.
    mutating func enter(_ path: String) -> Bool {
        guard let info = DirectoryListing.info(path) else { return false }
        return visited.insert(DirectoryID(device: info.device, inode: info.inode)).inserted
    }

    mutating func file(_ path: String, size: Int64, mailbox: String, folder: String, filtered: Bool) {
        var (gzip, mbox) = SourcePlanner.sniff(path)
        let name = SourcePlanner.baseName(path)
        // An empty "x.mbox" is an empty mailbox, not an empty message to quarantine.
        if size == 0 && SourcePlanner.hasMboxExtension(name) { mbox = true }
        var folderName = folder
        if mbox && filtered {
            let stem = SourcePlanner.strippingExtensions(name)
            folderName = folder.isEmpty ? stem : folder + "/" + stem
        }
        if filtered && !SourcePlanner.folderMatches(folderName, globs: globs) { return }
        var source = MessageSource(kind: mbox ? .mbox : .messageFile, path: path, mailbox: mailbox,
                                   folder: folderName, gzip: gzip, byteSize: size)
        // Only files found inside a tree are `filtered`; a file named on the command line is followed.
        source.followsLinks = !filtered
        sources.append(source)
    }

    /// A symbolic link found inside the tree: never read, recorded with why.
    mutating func skipLink(_ path: String) {
        skipped.append(SkippedPath(path: path, reason: SymlinkPolicy.reason(forLinkAt: path, root: root)))
    }

    /// A plain directory given on the command line without `--mailbox`: a folder of mailboxes
    /// (`DIR/<mailbox>...`, see `SourcePlanner`). Each mbox file, Maildir and subfolder is a
    /// mailbox named after it; single-message files directly in it are the directory's own.
    mutating func mailboxes(in directory: String) throws {
        let entries = try DirectoryListing.entries(directory)
        let own = SourcePlanner.baseName(directory)
        var looseMapped = false
        func mapLoose(_ walk: inout Walk) {
            if !looseMapped { walk.mappings.append(MailboxMapping(path: directory, mailbox: own, rule: .looseFiles)) }
            looseMapped = true
        }
        for entry in entries where !entry.name.hasPrefix(".") {
            let path = directory + "/" + entry.name
            switch entry.kind {
            case .symlink:
                skipLink(path)
            case .file:
                let size = DirectoryListing.info(path)?.size ?? 0
                let isMbox = SourcePlanner.sniff(path).mbox || (size == 0 && SourcePlanner.hasMboxExtension(entry.name))
                if isMbox {
                    let name = SourcePlanner.strippingExtensions(entry.name)
                    mappings.append(MailboxMapping(path: path, mailbox: name, rule: .entry))
                    guard SourcePlanner.folderMatches("", globs: globs) else { continue }
                    file(path, size: size, mailbox: name, folder: "", filtered: false)
                    // Found inside the tree: never opened through a link swapped in after the walk.
                    if let last = sources.indices.last, sources[last].path == path { sources[last].followsLinks = false }
                } else {
                    mapLoose(&self)
                    file(path, size: size, mailbox: own, folder: "", filtered: true)
                }
            case .directory:
                guard enter(path) else { continue }
                mappings.append(MailboxMapping(path: path, mailbox: entry.name, rule: .entry))
                if SourcePlanner.isMaildir(path) {
                    try maildir(root: path, mailbox: entry.name)
                } else {
                    try tree(path, relative: "", mailbox: entry.name, top: false)
                }
            case .other:
                // As in `tree`: planned so that reading it fails and the ledger records it.
                guard SourcePlanner.folderMatches("", globs: globs) else { continue }
                mapLoose(&self)
                sources.append(MessageSource(kind: .messageFile, path: path, mailbox: own, folder: "", gzip: false, byteSize: 0))
            }
        }
    }

    /// A plain directory: files sniffed one by one, subdirectories walked; Maildirs found in it
    /// belong to the same mailbox (their folders keep their own names).
    /// - Parameter top: the directory was given on the command line (an error listing it is the
    ///   user's to see at once, not a source that fails later).
    mutating func tree(_ directory: String, relative: String, mailbox: String, top: Bool) throws {
        let entries: [DirectoryEntry]
        do { entries = try DirectoryListing.entries(directory) } catch {
            if top { throw error }
            // An unreadable subdirectory: plan it as a source that fails when read, so the
            // importer records it instead of silently missing it.
            sources.append(MessageSource(kind: .messageFile, path: directory, mailbox: mailbox, folder: relative, gzip: false, byteSize: 0))
            return
        }
        for entry in entries where !entry.name.hasPrefix(".") {
            let path = directory + "/" + entry.name
            let childRelative = relative.isEmpty ? entry.name : relative + "/" + entry.name
            switch entry.kind {
            case .file:
                file(path, size: DirectoryListing.info(path)?.size ?? 0, mailbox: mailbox, folder: relative, filtered: true)
            case .directory:
                guard enter(path) else { continue }
                if SourcePlanner.isMaildir(path) {
                    try maildir(root: path, mailbox: mailbox)
                } else {
                    try tree(path, relative: childRelative, mailbox: mailbox, top: false)
                }
            case .other:
                // A FIFO, socket, device or dangling symlink: planned so that reading it fails
                // (without blocking) and the ledger records it, rather than silently leaving out
                // something the user gave.
                guard SourcePlanner.folderMatches(relative, globs: globs) else { continue }
                sources.append(MessageSource(kind: .messageFile, path: path, mailbox: mailbox, folder: relative, gzip: false, byteSize: 0))
            case .symlink:
                guard SourcePlanner.folderMatches(relative, globs: globs) else { continue }
                skipLink(path)
            }
        }
    }

    /// A Maildir root and all its folders.
    mutating func maildir(root: String, mailbox: String) throws {
        var folders: [(name: String, path: String)] = [("INBOX", root)]
        try collectMaildirFolders(root, relative: "", isRoot: true, into: &folders)
        let inbox = folders.removeFirst()
        folders.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        for folder in [inbox] + folders where SourcePlanner.folderMatches(folder.name, globs: globs) {
            guard SourcePlanner.isMaildir(folder.path) else {
                // A plain directory between Maildir folders: only its loose files.
                looseFiles(in: folder.path, mailbox: mailbox, folder: folder.name)
                continue
            }
            let (files, links) = (try? MaildirReader.listing(in: folder.path)) ?? ([], [])
            for link in links { skipLink(link) }
            let size = measuringMaildirs ? files.reduce(Int64(0)) { $0 + (DirectoryListing.info($1.path)?.size ?? 0) } : 0
            sources.append(MessageSource(kind: .maildirFolder, path: folder.path, mailbox: mailbox,
                                         folder: folder.name, gzip: false, byteSize: size, messageFiles: files.count))
            looseFiles(in: folder.path, mailbox: mailbox, folder: folder.name)
        }
    }

    /// Regular files next to cur/ and new/ that are not server metadata. Maildir tools never put
    /// mail there, but people and test suites (notmuch) do; reading them (and quarantining any
    /// that are not mail) is better than silently leaving mail behind.
    private mutating func looseFiles(in directory: String, mailbox: String, folder: String) {
        guard let entries = try? DirectoryListing.entries(directory) else { return }
        for entry in entries where !SourcePlanner.isMaildirMetadata(entry.name) {
            let path = directory + "/" + entry.name
            // Links here (a linked cur/, a linked subfolder, a linked file) are never followed.
            if entry.kind == .symlink { skipLink(path); continue }
            guard entry.kind == .file else { continue }
            file(path, size: DirectoryListing.info(path)?.size ?? 0, mailbox: mailbox, folder: folder, filtered: true)
        }
    }


    /// Maildir++ `.A.B` folders (at the root only) and plain subdirectories (recursively).
    private mutating func collectMaildirFolders(_ directory: String, relative: String, isRoot: Bool,
                                                into folders: inout [(name: String, path: String)]) throws {
        let entries: [DirectoryEntry]
        do { entries = try DirectoryListing.entries(directory) } catch {
            if isRoot { throw error }
            return
        }
        for entry in entries where entry.kind == .directory {
            let name = entry.name
            let path = directory + "/" + name
            if isRoot && (name == "cur" || name == "new" || name == "tmp") { continue }
            if !isRoot && (name == "cur" || name == "new" || name == "tmp") && SourcePlanner.isMaildir(directory) { continue }
            if name.hasPrefix(".") {
                // Maildir++: ".Clients.Acme" is folder "Clients/Acme". Only at the root.
                guard isRoot, name.count > 1, SourcePlanner.isMaildir(path), enter(path) else { continue }
                let folder = name.dropFirst().split(separator: ".", omittingEmptySubsequences: false).joined(separator: "/")
                folders.append((folder, path))
                continue
            }
            if name.hasPrefix("courierimap") || name.hasPrefix("dovecot") { continue }
            guard enter(path) else { continue }
            let folder = relative.isEmpty ? name : relative + "/" + name
            folders.append((folder, path))
            try collectMaildirFolders(path, relative: folder, isRoot: false, into: &folders)
        }
    }
}
