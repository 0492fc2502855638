import Foundation
import GRDB

/// How search hits are ordered.
public enum SearchSort: String, Sendable, CaseIterable, Codable {
    /// Best match first (FTS5 bm25; subject and from count most). Queries that cannot be ranked
    /// (only filters, or a NOT or filter inside an OR with words) come newest first instead.
    case relevance
    /// Newest first; undated messages last.
    case date
    /// Oldest first; undated messages last.
    case oldest
}

/// One message that matches a search.
public struct SearchHit: Sendable, Codable, Hashable {
    /// The archive key (`dossier show KEY`).
    public var key: String
    public var date: Date?
    public var fromName: String?
    public var fromAddress: String?
    public var subject: String?
    /// Mailboxes holding a copy, sorted, without repeats.
    public var mailboxes: [String]
    /// Folders holding a copy, sorted, without repeats (sources without folders add none).
    public var folders: [String]
    public var attachmentCount: Int
    /// bm25 score when the hits are ranked (lower is better); nil in date order.
    public var score: Double?

    enum CodingKeys: String, CodingKey {
        case key, date, subject, mailboxes, folders, score
        case fromName = "from_name"
        case fromAddress = "from_address"
        case attachmentCount = "attachment_count"
    }

    /// "Name <address>", or whichever of the two exists.
    public var from: String {
        switch (fromName.flatMap { $0.isEmpty ? nil : $0 }, fromAddress) {
        case (let name?, let address?): return "\(name) <\(address)>"
        case (let name?, nil): return name
        case (nil, let address?): return address
        case (nil, nil): return ""
        }
    }
}

/// Runs `SearchQuery`s against an archive's FTS5 index and tables.
///
/// Compilation (see `plan`): every word and phrase becomes an FTS5 string literal (quotes doubled,
/// so user text is never FTS5 syntax), optionally with a `{column}` filter and a `*` prefix, and
/// the whole expression is one bound argument; every other value is a bound argument too.
/// - When the query is an FTS5-expressible tree of terms (AND, OR, and NOT with something
///   positive beside it, as FTS5's NOT is binary: `a NOT b`), or an AND of such a part with
///   filters, that part is one `MATCH` joined to `message`, so hits can be ranked with bm25.
/// - Everything else (a lone `NOT a`, `mailbox:x OR subject:y`) is plain SQL boolean logic over
///   conditions, where each term subtree is `message.id IN (SELECT rowid FROM message_fts WHERE
///   message_fts MATCH ?)`. Such queries cannot be ranked and come in date order.
public struct SearchEngine: Sendable {
    public let archive: Archive

    /// Default number of hits returned.
    public static let defaultLimit = 50

    public init(archive: Archive) {
        self.archive = archive
    }

    /// The stored messages matching `query`, best (or newest, or oldest) first, at most `limit`
    /// (nil: all). Excluded messages (kept as a record only) never match; noise matches only a
    /// query that names `is:noise`.
    public func search(_ query: SearchQuery, sort: SearchSort = .relevance, limit: Int? = SearchEngine.defaultLimit) throws -> [SearchHit] {
        return try archive.database.read { db in
            let plan = SearchEngine.plan(query, sort: sort, limit: limit, names: try CopyNames(db, for: query),
                                         severalRowsPerMessage: try ContentVariants.anyIndexed(db))
            let rows = try Row.fetchAll(db, sql: plan.sql, arguments: plan.arguments)
            let locations = try db.cachedStatement(sql: "SELECT DISTINCT mailbox, folder FROM copy WHERE message = ?")
            return try rows.map { row in
                let id: Int64 = row["id"]
                var mailboxes = Set<String>()
                var folders = Set<String>()
                for location in try Row.fetchAll(locations, arguments: [id]) {
                    mailboxes.insert(location["mailbox"])
                    let folder: String = location["folder"]
                    if !folder.isEmpty { folders.insert(folder) }
                }
                let date = (row["date"] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0)) }
                return SearchHit(key: row["key"], date: date, fromName: row["from_name"], fromAddress: row["from_address"],
                                 subject: row["subject"], mailboxes: mailboxes.sorted(), folders: folders.sorted(),
                                 attachmentCount: row["attachment_count"], score: plan.ranked ? row["score"] : nil)
            }
        }
    }

    /// Parses `text` (throwing `SearchQueryError`) and searches.
    public func search(_ text: String, sort: SearchSort = .relevance, limit: Int? = SearchEngine.defaultLimit) throws -> [SearchHit] {
        try search(SearchQuery.parse(text), sort: sort, limit: limit)
    }

    // MARK: Compilation

    /// A compiled query: the SQL, its arguments, and whether it orders by bm25.
    struct Plan {
        var sql: String
        var arguments: StatementArguments
        var ranked: Bool
    }

    /// bm25 weights in column order: subject, from, to, cc, bcc, body, attachment. A word in the
    /// subject or the sender says more about what a message is than the same word in the body.
    static let bm25Weights = "10.0, 5.0, 2.0, 2.0, 1.0, 1.0, 3.0"

    /// `severalRowsPerMessage`: some message has more than one search row (a content variant,
    /// see `ContentVariants`), so the ranked form folds rows into one hit per message.
    static func plan(_ query: SearchQuery, sort: SearchSort, limit: Int?, names: CopyNames = CopyNames(),
                     severalRowsPerMessage: Bool = false) -> Plan {
        var arguments = StatementArguments()
        var conditions = ["message.status = 'stored'"]
        // Noise kept in the archive is there to be checked, not to crowd every search.
        if !query.mentionsNoise { conditions.append("message.filing IS NOT 'noise'") }
        var match: String?

        // Split a top-level AND into the part FTS5 can evaluate as one MATCH and the rest.
        let conjuncts: [SearchQuery]
        if case .and(let parts) = query { conjuncts = parts } else { conjuncts = [query] }
        var ftsPositive: [String] = []
        var ftsNegative: [String] = []
        var rest: [SearchQuery] = []
        for part in conjuncts {
            if let expression = ftsExpression(part) {
                ftsPositive.append(expression)
            } else if case .not(let inner) = part, let expression = ftsExpression(inner) {
                ftsNegative.append(expression)
            } else {
                rest.append(part)
            }
        }
        if !ftsPositive.isEmpty {
            match = conjunction(positive: ftsPositive, negative: ftsNegative)
        } else {
            // Nothing positive for FTS5 to start from: negations become SQL NOT IN conditions.
            rest = conjuncts
        }

        var sql: String
        if let match, severalRowsPerMessage {
            // A message whose contents both match is one hit, ranked by its best row. bm25 can
            // only be computed in the MATCH query itself, never inside an aggregate: the rows
            // are scored in a materialized CTE first, then folded per message.
            sql = """
                WITH scored AS MATERIALIZED (
                    SELECT rowid AS row, bm25(message_fts, \(bm25Weights)) AS score FROM message_fts WHERE message_fts MATCH ?
                ), best AS (
                    SELECT \(ContentVariants.messageOf("row")) AS id, MIN(score) AS score FROM scored GROUP BY 1
                )
                SELECT message.id, message.key, message.date, message.subject, message.from_address, message.from_name,
                       message.attachment_count, best.score AS score
                FROM best JOIN message ON message.id = best.id
                WHERE 1
                """
            arguments += [match]
        } else if let match {
            sql = """
                SELECT message.id, message.key, message.date, message.subject, message.from_address, message.from_name,
                       message.attachment_count, bm25(message_fts, \(bm25Weights)) AS score
                FROM message_fts JOIN message ON message.id = message_fts.rowid
                WHERE message_fts MATCH ?
                """
            arguments += [match]
        } else {
            sql = """
                SELECT message.id, message.key, message.date, message.subject, message.from_address, message.from_name,
                       message.attachment_count
                FROM message
                WHERE 1
                """
        }
        for part in rest {
            conditions.append(condition(part, names, &arguments))
        }
        sql += " AND " + conditions.joined(separator: " AND ")

        let ranked = match != nil && sort == .relevance
        switch sort {
        case .relevance where ranked:
            sql += " ORDER BY score, message.date DESC, message.id DESC"
        case .relevance, .date:
            sql += " ORDER BY message.date IS NULL, message.date DESC, message.id DESC"
        case .oldest:
            sql += " ORDER BY message.date IS NULL, message.date ASC, message.id ASC"
        }
        if let limit {
            sql += " LIMIT ?"
            arguments += [max(0, limit)]
        }
        return Plan(sql: sql, arguments: arguments, ranked: ranked)
    }

    /// An SQL condition on `message` (never NULL, so that NOT is exact) for any query node.
    static func condition(_ query: SearchQuery, _ names: CopyNames, _ arguments: inout StatementArguments) -> String {
        if let expression = ftsExpression(query) {
            arguments += [expression]
            // Low bits: the message a row belongs to (its first content's row, or a variant's).
            return "message.id IN (SELECT \(ContentVariants.messageOf("rowid")) FROM message_fts WHERE message_fts MATCH ?)"
        }
        switch query {
        case .text:
            // Always FTS-expressible; handled above.
            return "0"
        case .mailbox(let name, let prefix):
            // The matching names were found in Swift (see `CopyNames`); SQL compares exactly,
            // so the (mailbox, folder) index does the work.
            arguments += [jsonArray(names.mailboxes(matching: name, prefix: prefix))]
            return "message.id IN (SELECT copy.message FROM copy WHERE copy.mailbox IN (SELECT value FROM json_each(?)))"
        case .folder(let name, let prefix):
            arguments += [jsonArray(names.folders(matching: name, prefix: prefix))]
            return "message.id IN (SELECT copy.message FROM copy WHERE copy.folder IN (SELECT value FROM json_each(?)))"
        case .date(let range):
            var parts = ["message.date IS NOT NULL"]
            if let start = range.start {
                parts.append("message.date >= ?")
                arguments += [start]
            }
            if let end = range.end {
                parts.append("message.date < ?")
                arguments += [end]
            }
            return "(" + parts.joined(separator: " AND ") + ")"
        case .hasAttachment:
            return "message.attachment_count > 0"
        case .status(let status):
            arguments += [status.rawValue]
            return "message.filing = ?"
        case .and(let parts):
            return "(" + parts.map { condition($0, names, &arguments) }.joined(separator: " AND ") + ")"
        case .or(let parts):
            return "(" + parts.map { condition($0, names, &arguments) }.joined(separator: " OR ") + ")"
        case .not(let inner):
            return "NOT (" + condition(inner, names, &arguments) + ")"
        }
    }

    /// The FTS5 expression for a subtree made only of terms, when FTS5 can evaluate it alone:
    /// not for a NOT without something positive beside it (FTS5 has no "all rows"), nor for a
    /// subtree with filters. Every part is parenthesised, so FTS5's precedence never matters.
    static func ftsExpression(_ query: SearchQuery) -> String? {
        switch query {
        case .text(let text):
            return ftsTerm(text)
        case .and(let parts):
            var positive: [String] = []
            var negative: [String] = []
            for part in parts {
                if let expression = ftsExpression(part) {
                    positive.append(expression)
                } else if case .not(let inner) = part, let expression = ftsExpression(inner) {
                    negative.append(expression)
                } else {
                    return nil
                }
            }
            guard !positive.isEmpty else { return nil }
            return conjunction(positive: positive, negative: negative)
        case .or(let parts):
            var expressions: [String] = []
            for part in parts {
                guard let expression = ftsExpression(part) else { return nil }
                expressions.append(expression)
            }
            return "(" + expressions.joined(separator: " OR ") + ")"
        case .not, .mailbox, .folder, .date, .hasAttachment, .status:
            return nil
        }
    }

    /// `(p1 AND p2) NOT (n1 OR n2)`: FTS5's binary NOT removes whatever any negative matches.
    static func conjunction(positive: [String], negative: [String]) -> String {
        var expression = positive.count == 1 ? positive[0] : "(" + positive.joined(separator: " AND ") + ")"
        if !negative.isEmpty {
            expression = "(" + expression + " NOT " + (negative.count == 1 ? negative[0] : "(" + negative.joined(separator: " OR ") + ")") + ")"
        }
        return expression
    }

    /// FTS5 columns of each field.
    static func columns(_ field: SearchText.Field) -> String {
        switch field {
        case .from: return "from_addr"
        case .to: return "to_addr"
        case .cc: return "cc_addr"
        case .bcc: return "bcc_addr"
        case .subject: return "subject"
        case .body: return "body"
        case .attachment: return "attachment"
        }
    }

    /// One term as an FTS5 string: `{column} : "words" *`. Inside an FTS5 string only `"` is
    /// special (doubled to escape it), so nothing the user types can become an operator, a column
    /// name or NEAR. Control characters (NUL could cut the expression short) become spaces,
    /// which the tokenizer treats as separators anyway.
    static func ftsTerm(_ text: SearchText) -> String {
        var quoted = "\""
        for scalar in text.value.unicodeScalars {
            if scalar == "\"" {
                quoted += "\"\""
            } else if scalar.properties.generalCategory == .control {
                quoted += " "
            } else {
                quoted.unicodeScalars.append(scalar)
            }
        }
        quoted += "\""
        if text.isPrefix { quoted += " *" }
        if let field = text.field { return "{\(columns(field))} : " + quoted }
        return quoted
    }

    /// A JSON array of strings, one bound argument however many names match (no limit on SQL
    /// variables to hit).
    static func jsonArray(_ values: [String]) -> String {
        let data = (try? JSONEncoder().encode(values)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The distinct mailbox and folder names of an archive's copies, matched case-insensitively in
/// Swift. SQLite's NOCASE and lower() fold ASCII only, and a folding SQL function would run once
/// per copy row (seconds on a large archive); there are few distinct names, so they are read once
/// (from the index) and the matching ones are passed to SQL as exact values.
struct CopyNames {
    private var allMailboxes: [String] = []
    private var allFolders: [String] = []

    init() {}

    /// Reads only the names `query` needs.
    init(_ db: Database, for query: SearchQuery) throws {
        var needsMailboxes = false
        var needsFolders = false
        var stack = [query]
        while let node = stack.popLast() {
            switch node {
            case .mailbox: needsMailboxes = true
            case .folder: needsFolders = true
            case .and(let parts), .or(let parts): stack += parts
            case .not(let inner): stack.append(inner)
            case .text, .date, .hasAttachment, .status: break
            }
        }
        if needsMailboxes { allMailboxes = try String.fetchAll(db, sql: "SELECT DISTINCT mailbox FROM copy") }
        if needsFolders { allFolders = try String.fetchAll(db, sql: "SELECT DISTINCT folder FROM copy") }
    }

    init(mailboxes: [String], folders: [String]) {
        allMailboxes = mailboxes
        allFolders = folders
    }

    /// `mailbox:NAME` is the whole name; `mailbox:NA*` its start.
    func mailboxes(matching name: String, prefix: Bool) -> [String] {
        let wanted = Self.fold(name)
        return allMailboxes.filter { candidate in
            let folded = Self.fold(candidate)
            return prefix ? folded.hasPrefix(wanted) : folded == wanted
        }
    }

    /// `folder:NAME` is that folder and every folder below it; `folder:NA*` any folder whose path
    /// starts with it.
    func folders(matching name: String, prefix: Bool) -> [String] {
        let wanted = Self.fold(name)
        return allFolders.filter { candidate in
            let folded = Self.fold(candidate)
            if prefix { return folded.hasPrefix(wanted) }
            return folded == wanted || folded.hasPrefix(wanted + "/")
        }
    }

    /// Unicode case folding: `ÉCRITS` and `écrits` are the same name.
    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive], locale: nil)
    }
}

extension SearchEngine {
    /// The rowids of every stored message matching `query`, for narrowing another selection
    /// (`dossier export --query`). Reads inside the caller's transaction, so the answer belongs
    /// to the same snapshot as the rest of what the caller reads.
    public static func matchingIDs(_ query: SearchQuery, _ db: Database) throws -> Set<Int64> {
        let plan = SearchEngine.plan(query, sort: .oldest, limit: nil, names: try CopyNames(db, for: query),
                                     severalRowsPerMessage: try ContentVariants.anyIndexed(db))
        var ids = Set<Int64>()
        let rows = try Row.fetchCursor(db, sql: plan.sql, arguments: plan.arguments)
        while let row = try rows.next() { ids.insert(row["id"]) }
        return ids
    }
}
