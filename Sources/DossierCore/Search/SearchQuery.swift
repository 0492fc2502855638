/// A parsed `dossier search` query: a tree of full-text terms and filters joined by AND, OR and NOT.
///
/// Syntax (see `parse(_:)`):
///
/// | written | meaning |
/// |---|---|
/// | `invoice`, `"share purchase"` | a word or a phrase, in any indexed column |
/// | `from: to: cc: bcc: subject: body: attachment:` + word, address or `"phrase"` | the same, in that column only (`from:` also covers Sender and Reply-To) |
/// | `term*`, `"phrase"*`, `from:ali*` | prefix: the last word may continue |
/// | `mailbox:NAME` | a copy was imported into that mailbox (exact, case-insensitive) |
/// | `folder:NAME` | a copy sits in that folder or one of its subfolders (`folder:Work` matches `Work` and `Work/Sub`), case-insensitive |
/// | `mailbox:NA*`, `folder:Clients/*` | a trailing `*` makes the name a prefix |
/// | `date:2024-01-01..2024-03-31`, `date:2024-01-01..`, `date:..2024-03-31` | UTC days, both ends inclusive, either end open |
/// | `date:2024-01-05`, `date:2024-03`, `date:2024` | one day, month or year (range ends may use these too) |
/// | `has:attachment` | the message has at least one attachment |
/// | `is:noise`, `is:filed`, `is:unassigned`, `is:internal` | the message's filing status; noise (kept flagged when rules.yaml says `noise: store: true`) is left out of every search that does not name `is:noise` |
/// | `a b`, `a AND b` | both |
/// | `a OR b` | either; AND binds tighter than OR: `a OR b c` is `a OR (b AND c)` |
/// | `NOT a`, `-a` | not; also before a group: `-(a OR b)` |
/// | `( ... )` | grouping |
///
/// `AND`, `OR` and `NOT` are operators only when written in capitals; `and` is a word like any other.
/// Field names are case-insensitive. A `word:` whose prefix is not a field name (`10:30`,
/// `re:meeting`) is searched as text. Terms with nothing searchable in them (`^`, `--`, `*`) are
/// ignored, as the full-text index ignores punctuation.
///
/// User text never becomes FTS5 or SQL syntax: every word and phrase is passed to FTS5 as a quoted
/// string (so an address like `alice@example.com` becomes the phrase "alice example com"), and every
/// value is a bound argument.
public indirect enum SearchQuery: Sendable, Hashable {
    /// A word or phrase in the full-text index.
    case text(SearchText)
    /// A copy of the message was imported into this mailbox (case-insensitive); with `prefix`, into
    /// a mailbox whose name starts with it.
    case mailbox(String, prefix: Bool)
    /// A copy of the message sits in this folder or below it (case-insensitive); with `prefix`, in a
    /// folder whose path starts with it (`Clients/` then means strictly below `Clients`).
    case folder(String, prefix: Bool)
    /// The message's Date falls in the range. Undated messages never match (so `NOT date:...` keeps them).
    case date(SearchDateRange)
    /// The message has at least one attachment.
    case hasAttachment
    /// The message's filing status is this one (`is:noise`, `is:filed`, ...).
    case status(FilingStatus)
    /// Every part matches (at least two parts).
    case and([SearchQuery])
    /// At least one part matches (at least two parts).
    case or([SearchQuery])
    /// The part does not match.
    case not(SearchQuery)

    /// The statuses `is:` takes: those of messages whose content is kept.
    public static let searchableStatuses: [FilingStatus] = [.filed, .unassigned, .internal, .noise]

    /// Whether the query names `is:noise` somewhere (else noise is left out of the hits).
    public var mentionsNoise: Bool {
        switch self {
        case .status(let status): return status == .noise
        case .and(let parts), .or(let parts): return parts.contains { $0.mentionsNoise }
        case .not(let inner): return inner.mentionsNoise
        case .text, .mailbox, .folder, .date, .hasAttachment: return false
        }
    }

    /// Parses the query language described on `SearchQuery`.
    /// - Throws: `SearchQueryError`, whose description says what is wrong and where.
    public static func parse(_ text: String) throws -> SearchQuery {
        try SearchQueryParser(text).parse()
    }
}

/// A full-text term: a word or a phrase, in all indexed columns or in one field.
public struct SearchText: Sendable, Hashable {
    /// The fields a term can be restricted to, each backed by columns of `message_fts`.
    public enum Field: String, Sendable, Hashable, CaseIterable {
        /// From, Sender and Reply-To (names and addresses).
        case from
        case to
        case cc
        case bcc
        case subject
        /// The body text (plain text, or text extracted from HTML).
        case body
        /// Attachment file names.
        case attachment
    }

    /// The column the term is restricted to; nil for all indexed columns.
    public var field: Field?
    /// The words as the user wrote them (without quotes or the prefix star). The index tokenizer
    /// splits it into words, so several words here form a phrase that must appear in order.
    public var value: String
    /// Whether the last word is a prefix (`term*`).
    public var isPrefix: Bool

    public init(field: Field? = nil, _ value: String, isPrefix: Bool = false) {
        self.field = field
        self.value = value
        self.isPrefix = isPrefix
    }
}

/// A range of instants as Unix seconds (UTC), compared with `message.date`.
public struct SearchDateRange: Sendable, Hashable {
    /// First second included; nil when the range is open at the start.
    public var start: Int64?
    /// First second no longer included (exclusive); nil when the range is open at the end.
    public var end: Int64?

    public init(start: Int64?, end: Int64?) {
        self.start = start
        self.end = end
    }
}

/// Why a query could not be parsed, and where.
public struct SearchQueryError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A `(` without its `)`, or a `)` without its `(`.
        case unbalancedParenthesis
        /// `()` with nothing inside.
        case emptyParentheses
        /// A `"` that is never closed.
        case unterminatedQuote
        /// An operator (`AND`, `OR`, `NOT`) missing the term on one side.
        case missingOperand(operator: String)
        /// A field such as `from:` with no word or phrase after it.
        case missingValue(field: String)
        /// A `date:` value that is not a day, month, year or range of them (the whole term, and why).
        case badDate(term: String, reason: String)
        /// A `has:` value other than `attachment`.
        case unknownHasValue(String)
        /// An `is:` value other than a status a stored message can have.
        case unknownIsValue(String)
        /// Nothing to search for (empty, or only punctuation).
        case emptyQuery
        /// More nesting or terms than a search needs; refused so that hostile input stays cheap.
        case tooComplex(String)
    }

    public var kind: Kind
    /// 1-based position (in characters) in the query where the problem is; nil for the whole query.
    public var position: Int?

    public init(_ kind: Kind, position: Int?) {
        self.kind = kind
        self.position = position
    }

    public var description: String {
        let what: String
        switch kind {
        case .unbalancedParenthesis: what = "unbalanced parenthesis"
        case .emptyParentheses: what = "empty parentheses"
        case .unterminatedQuote: what = "unterminated quote"
        case .missingOperand(let name) where name == "NOT" || name == "-": what = "\(name) needs a term after it"
        case .missingOperand(let name): what = "\(name) needs a term on each side"
        case .missingValue(let field): what = "\(field): needs a word or a quoted phrase"
        case .badDate(let term, let reason): what = "bad date range '\(term)' (\(reason))"
        case .unknownHasValue(let value): what = "unknown has:\(value) (only has:attachment exists)"
        case .unknownIsValue(let value):
            what = "unknown is:\(value) (use is:" + SearchQuery.searchableStatuses.map(\.rawValue).joined(separator: ", is:") + ")"
        case .emptyQuery: what = "nothing to search for"
        case .tooComplex(let reason): what = "query too complex (\(reason))"
        }
        guard let position else { return what }
        return "\(what) at \(position)"
    }
}
