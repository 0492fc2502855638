import Foundation

/// One unit of work for the importer: a file or folder that a single `MessageReader` reads.
public struct MessageSource: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// An mbox file (mboxo, mboxrd or Content-Length delimited), possibly gzip-compressed.
        case mbox
        /// One Maildir folder: the message files of its `cur/` and `new/`.
        case maildirFolder
        /// One file holding one message (.eml or any other regular file), possibly gzip-compressed.
        case messageFile
    }

    public var kind: Kind
    /// The mbox/message file, or the Maildir folder directory (the one holding cur/ and new/).
    public var path: String
    public var mailbox: String
    public var folder: String
    public var gzip: Bool
    /// Size on disk in bytes (for a Maildir folder: all its message files), for progress and ETA.
    public var byteSize: Int64

    public init(kind: Kind, path: String, mailbox: String, folder: String, gzip: Bool, byteSize: Int64) {
        self.kind = kind
        self.path = path
        self.mailbox = mailbox
        self.folder = folder
        self.gzip = gzip
        self.byteSize = byteSize
    }

    /// Opens a streaming reader over this source.
    public func openReader() throws -> any MessageReader {
        throw SourceError.unreadable(path: "", reason: "TODO")
    }
}

/// What `dossier import PATH...` will read, decided before reading starts.
public struct SourcePlan: Sendable {
    public var sources: [MessageSource]
    public var totalBytes: Int64 { sources.reduce(0) { $0 + $1.byteSize } }

    public init(sources: [MessageSource]) { self.sources = sources }
}

/// Turns the paths a user gives to `import` into sources, the way the user means them:
/// Maildir folders (cur/new) as Maildir, files starting with a "From " line as mbox, `.gz` through
/// zlib, every other regular file as one message.
public enum SourcePlanner {
    /// - Parameters:
    ///   - paths: files and directories given on the command line.
    ///   - mailbox: `--mailbox NAME`; when nil each path derives its own name.
    ///   - folderGlobs: `--folders GLOB` (repeatable); when non-empty only matching folders are read.
    /// - Throws: `SourceError.notFound` for a path that does not exist.
    public static func plan(paths: [String], mailbox: String? = nil, folderGlobs: [String] = []) throws -> SourcePlan {
        throw SourceError.unreadable(path: "", reason: "TODO")
    }
}
