/// A streaming reader over one source (an mbox file, a Maildir folder, one .eml file).
///
/// Readers hold at most one message in memory at a time; a whole mailbox is never loaded.
public protocol MessageReader {
    /// The next message, or nil when the source is exhausted.
    ///
    /// Throws `SourceError` when the source cannot be read any further (an unreadable file, a
    /// corrupt gzip stream). Messages returned before the error stay valid; the caller records the
    /// error against the source and moves on to the next one.
    ///
    /// The exception is an error for which `SourceError.isPerMessage` is true (`.tooLarge`,
    /// `.unreadableMessage`): it concerns a single message, which the reader has already stepped
    /// over, so the caller records it and may call `next()` again.
    mutating func next() throws -> RawMessage?
}

/// Bounds every reader honours.
public enum ReaderLimits {
    /// The largest single message a reader will hold in memory (256 MiB). Real mail is capped by
    /// servers at 25-150 MB; anything larger in an mbox is almost always a broken separator
    /// swallowing thousands of messages, or not mail at all. Such a message is stepped over (never
    /// loaded whole) and reported as `SourceError.tooLarge`, which the importer records as
    /// quarantined-unread with its location, so the ledger still balances and the user can cut it
    /// out by hand from the untouched source.
    public static let maxMessageBytes = 256 << 20
}

/// Why a source could not be planned or read.
public enum SourceError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case unreadable(path: String, reason: String)
    case corrupt(path: String, offset: Int64, reason: String)
    /// One message larger than `limit` bytes was skipped (mbox: the offset of its "From " line);
    /// the reader can go on with the next message.
    case tooLarge(path: String, offset: Int64?, limit: Int)
    /// One message file of a multi-file source (a Maildir folder) could not be read; the reader
    /// can go on with the next file.
    case unreadableMessage(path: String, reason: String)

    /// True when the error concerns one message and the reader that threw it can go on.
    public var isPerMessage: Bool {
        switch self {
        case .tooLarge, .unreadableMessage: return true
        case .notFound, .unreadable, .corrupt: return false
        }
    }

    /// The file the error is about.
    public var path: String {
        switch self {
        case .notFound(let path), .unreadable(let path, _), .corrupt(let path, _, _),
             .tooLarge(let path, _, _), .unreadableMessage(let path, _):
            return path
        }
    }

    public var description: String {
        switch self {
        case .notFound(let path): return "no such file or directory: \(path)"
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .corrupt(let path, let offset, let reason): return "\(path) is corrupt at byte \(offset): \(reason)"
        case .tooLarge(let path, let offset, let limit):
            let at = offset.map { " at byte \($0)" } ?? ""
            return "message in \(path)\(at) is larger than \(limit) bytes; skipped, not read"
        case .unreadableMessage(let path, let reason): return "cannot read \(path): \(reason)"
        }
    }
}
