#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the messages of one Maildir folder: the files of its `cur/` then `new/`, each sorted by
/// name (`tmp/` holds deliveries in progress and is never read).
///
/// The listing is taken when the reader opens. A file that vanishes before it is read (a mail
/// client moved it from new/ to cur/, or expunged it) is skipped: that is normal Maildir life, not
/// an error. Dot files (`.nfs*`, editor droppings) are not messages and are skipped.
public struct MaildirReader: MessageReader {
    private let mailbox: String
    private let folder: String
    private let limit: Int
    private var files: [(path: String, name: String)]
    private var position = 0

    /// - Parameter folderPath: the folder directory (the one holding cur/ and new/).
    /// - Throws: `SourceError.unreadable` when neither cur/ nor new/ can be listed.
    public init(folderPath: String, mailbox: String, folder: String, maxMessageBytes: Int = ReaderLimits.maxMessageBytes) throws {
        self.mailbox = mailbox
        self.folder = folder
        self.limit = maxMessageBytes
        self.files = try Self.messageFiles(in: folderPath).map { ($0.path, $0.name) }
    }

    public mutating func next() throws -> RawMessage? {
        while position < files.count {
            let (path, name) = files[position]
            position += 1
            let bytes: [UInt8]
            do {
                bytes = try MessageFileReader.read(path, limit: limit, followLinks: false)
            } catch SourceError.notFound {
                var info = stat()
                if lstat(FileSystemName.bytes(path), &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK {
                    throw SourceError.unreadableMessage(path: path, reason: "a symbolic link to a file that does not exist")
                }
                // Moved or expunged since the listing: normal for a live Maildir.
                continue
            } catch let error as SourceError where !error.isPerMessage {
                // One bad file must not end the folder.
                throw SourceError.unreadableMessage(path: path, reason: "\(error)")
            }
            return RawMessage(bytes: bytes, location: MessageLocation(mailbox: mailbox, path: path, folder: folder,
                                                                      flags: Self.flags(fromFileName: name)))
        }
        return nil
    }

    /// The message files of a Maildir folder, cur/ before new/, each by name.
    static func messageFiles(in folderPath: String) throws -> [(path: String, name: String, exact: Bool)] {
        try listing(in: folderPath).files
    }

    /// The message files of a Maildir folder, and the symbolic links in its cur/ and new/, which
    /// are never read (`SymlinkPolicy`; the planner records them as skipped). A cur/ or new/ that
    /// is itself a link is not entered (the planner records it from the folder's own listing).
    static func listing(in folderPath: String) throws -> (files: [(path: String, name: String, exact: Bool)], links: [String]) {
        var result: [(String, String, Bool)] = []
        var links: [String] = []
        var listed = false
        var lastError: Error? = nil
        for sub in ["cur", "new"] {
            let dir = folderPath + "/" + sub
            guard DirectoryListing.isRealDirectory(dir) else { continue }
            do {
                for entry in try DirectoryListing.entries(dir) where !entry.name.hasPrefix(".") {
                    switch entry.kind {
                    // .other (a FIFO, socket) too: reading it fails without blocking, and the
                    // ledger records it instead of the message silently missing.
                    case .file, .other: result.append((dir + "/" + entry.name, entry.name, entry.nameIsExact))
                    case .symlink: links.append(dir + "/" + entry.name)
                    case .directory: continue
                    }
                }
                listed = true
            } catch {
                lastError = error
            }
        }
        if !listed, let lastError { throw lastError }
        return (result, links)
    }

    /// The standard flags of a Maildir file name's info part (`:2,FRS`, or `!2,` where ':' is not
    /// allowed in file names), as sorted unique letters from D F P R S T. Lower-case letters are
    /// Dovecot keyword indexes and other letters are not standard: both are dropped.
    public static func flags(fromFileName name: String) -> String {
        let bytes = Array(name.utf8)
        var infoStart: Int? = nil
        var i = bytes.count - 3
        while i >= 0 {
            if (bytes[i] == 0x3A || bytes[i] == 0x21) && bytes[i + 1] == 0x32 && bytes[i + 2] == 0x2C {
                infoStart = i + 3
                break
            }
            i -= 1
        }
        guard let start = infoStart else { return "" }
        var present = Set<UInt8>()
        for c in bytes[start...] where "DFPRST".utf8.contains(c) { present.insert(c) }
        return String(decoding: present.sorted(), as: UTF8.self)
    }
}
