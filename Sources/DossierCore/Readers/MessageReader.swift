/// A streaming reader over one source (an mbox file, a Maildir folder, one .eml file).
///
/// Readers hold at most one message in memory at a time; a whole mailbox is never loaded.
public protocol MessageReader {
    /// The next message, or nil when the source is exhausted.
    ///
    /// Throws `SourceError` when the source cannot be read any further (an unreadable file, a
    /// corrupt gzip stream). Messages returned before the error stay valid; the caller records the
    /// error against the source and moves on to the next one.
    mutating func next() throws -> RawMessage?
}

/// Why a source could not be planned or read.
public enum SourceError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case unreadable(path: String, reason: String)
    case corrupt(path: String, offset: Int64, reason: String)

    public var description: String {
        switch self {
        case .notFound(let path): return "no such file or directory: \(path)"
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .corrupt(let path, let offset, let reason): return "\(path) is corrupt at byte \(offset): \(reason)"
        }
    }
}
