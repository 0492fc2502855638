import Foundation

/// Parses the query language documented on `SearchQuery`: a tokenizer, then recursive descent.
///
///     query   := or
///     or      := and ("OR" and)*
///     and     := unary (["AND"] unary)*
///     unary   := ("NOT" | "-") unary | primary
///     primary := "(" or ")" | term
///
/// Positions in errors are 1-based character (grapheme) offsets into the text as the user typed
/// it. Recursion depth and the number of terms are capped so that hostile input (thousands of
/// parentheses or NOTs) fails fast with `tooComplex` instead of exhausting the stack or building
/// an FTS5 expression SQLite would refuse.
struct SearchQueryParser {
    /// Deepest nesting of groups and NOTs accepted; real searches use a handful.
    static let maximumDepth = 32
    /// Most terms (words, phrases and filters) in one query.
    static let maximumTerms = 64
    /// Longest query accepted, in characters.
    static let maximumLength = 4096

    private let characters: [Character]
    private var tokens: [Token] = []
    private var index = 0
    private var depth = 0
    private var termCount = 0

    init(_ text: String) {
        characters = Array(text)
    }

    /// The AST, with unsearchable terms (only punctuation) left out.
    func parse() throws -> SearchQuery {
        // The parser state lives in a copy, so a parser value can be reused.
        var state = self
        return try state.run()
    }

    private mutating func run() throws -> SearchQuery {
        if characters.count > Self.maximumLength {
            throw SearchQueryError(.tooComplex("longer than \(Self.maximumLength) characters"), position: nil)
        }
        tokens = try tokenize()
        if tokens.isEmpty { throw SearchQueryError(.emptyQuery, position: nil) }
        let result = try parseOr()
        if index < tokens.count {
            // The only token `parseOr` stops at without consuming is an unmatched `)`.
            throw SearchQueryError(.unbalancedParenthesis, position: tokens[index].position)
        }
        guard let result else { throw SearchQueryError(.emptyQuery, position: nil) }
        return result
    }

    // MARK: Tokens

    private enum TokenKind: Equatable {
        case open, close, and, or, not
        /// `-` directly before a term or group.
        case minus
        case term(RawTerm)
    }

    private struct Token {
        var kind: TokenKind
        /// 1-based position of the token's first character.
        var position: Int
    }

    /// A term as written: `field:` (if any, lowercased), the value without quotes or prefix star.
    private struct RawTerm: Equatable {
        var field: String?
        var value: String
        var quoted: Bool
        var isPrefix: Bool
    }

    /// Field names that turn `name:value` into something other than plain text.
    private static let fieldNames: Set<String> = Set(SearchText.Field.allCases.map(\.rawValue))
        .union(["mailbox", "folder", "date", "has", "is"])

    private static func isSpace(_ c: Character) -> Bool { c.isWhitespace }

    /// Characters that end an unquoted word.
    private static func endsWord(_ c: Character) -> Bool {
        c.isWhitespace || c == "(" || c == ")" || c == "\""
    }

    private func tokenize() throws -> [Token] {
        var result: [Token] = []
        var i = 0
        let n = characters.count
        while i < n {
            let c = characters[i]
            if Self.isSpace(c) {
                i += 1
                continue
            }
            let position = i + 1
            if c == "(" {
                result.append(Token(kind: .open, position: position))
                i += 1
                continue
            }
            if c == ")" {
                result.append(Token(kind: .close, position: position))
                i += 1
                continue
            }
            // `-` negates only when glued to what follows and that starts a term or group: a lone
            // `-`, `--` or `a - b` are punctuation, searched (that is, ignored) as text.
            if c == "-", i + 1 < n {
                let next = characters[i + 1]
                if !next.isWhitespace && next != ")" && next != "-" {
                    result.append(Token(kind: .minus, position: position))
                    i += 1
                    continue
                }
            }
            if c == "\"" {
                let (value, end) = try readQuoted(from: i)
                i = end
                let isPrefix = i < n && characters[i] == "*"
                while i < n && characters[i] == "*" { i += 1 }
                result.append(Token(kind: .term(RawTerm(field: nil, value: value, quoted: true, isPrefix: isPrefix)), position: position))
                continue
            }
            // An unquoted word, possibly `field:` followed by a word or a quoted phrase.
            var end = i
            while end < n && !Self.endsWord(characters[end]) { end += 1 }
            let word = String(characters[i..<end])
            if word == "AND" || word == "OR" || word == "NOT" {
                let kind: TokenKind = word == "AND" ? .and : word == "OR" ? .or : .not
                result.append(Token(kind: kind, position: position))
                i = end
                continue
            }
            if let colon = word.firstIndex(of: ":") {
                let name = word[..<colon].lowercased()
                if Self.fieldNames.contains(name) {
                    let afterColon = word[word.index(after: colon)...]
                    if afterColon.isEmpty && end < n && characters[end] == "\"" {
                        let (value, quoteEnd) = try readQuoted(from: end)
                        var j = quoteEnd
                        let isPrefix = j < n && characters[j] == "*"
                        while j < n && characters[j] == "*" { j += 1 }
                        result.append(Token(kind: .term(RawTerm(field: name, value: value, quoted: true, isPrefix: isPrefix)), position: position))
                        i = j
                        continue
                    }
                    let (value, isPrefix) = Self.splitStar(String(afterColon))
                    if value.isEmpty && !isPrefix {
                        throw SearchQueryError(.missingValue(field: name), position: position)
                    }
                    result.append(Token(kind: .term(RawTerm(field: name, value: value, quoted: false, isPrefix: isPrefix)), position: position))
                    i = end
                    continue
                }
            }
            let (value, isPrefix) = Self.splitStar(word)
            result.append(Token(kind: .term(RawTerm(field: nil, value: value, quoted: false, isPrefix: isPrefix)), position: position))
            i = end
        }
        return result
    }

    /// Reads a `"..."` starting at `start` (the opening quote). Returns the text inside and the
    /// index after the closing quote. There is no escape: a quote always closes the phrase.
    private func readQuoted(from start: Int) throws -> (String, Int) {
        var j = start + 1
        while j < characters.count && characters[j] != "\"" { j += 1 }
        guard j < characters.count else { throw SearchQueryError(.unterminatedQuote, position: start + 1) }
        return (String(characters[(start + 1)..<j]), j + 1)
    }

    /// `term*` -> ("term", true); every trailing star goes.
    private static func splitStar(_ word: String) -> (String, Bool) {
        var value = Substring(word)
        var isPrefix = false
        while value.last == "*" {
            value = value.dropLast()
            isPrefix = true
        }
        return (String(value), isPrefix)
    }

    // MARK: Grammar

    private var current: Token? { index < tokens.count ? tokens[index] : nil }

    /// Whether the next token can start an operand (a term, a group or a negation).
    private var atOperand: Bool {
        guard let token = current else { return false }
        switch token.kind {
        case .open, .not, .minus, .term: return true
        case .close, .and, .or: return false
        }
    }

    private mutating func parseOr() throws -> SearchQuery? {
        if let token = current, token.kind == .or {
            throw SearchQueryError(.missingOperand(operator: "OR"), position: token.position)
        }
        var parts: [SearchQuery?] = [try parseAnd()]
        while let token = current, token.kind == .or {
            index += 1
            guard atOperand else { throw SearchQueryError(.missingOperand(operator: "OR"), position: token.position) }
            parts.append(try parseAnd())
        }
        return Self.combine(parts.compactMap { $0 }, or: true)
    }

    private mutating func parseAnd() throws -> SearchQuery? {
        if let token = current, token.kind == .and {
            throw SearchQueryError(.missingOperand(operator: "AND"), position: token.position)
        }
        var parts: [SearchQuery?] = [try parseUnary()]
        while let token = current {
            if token.kind == .and {
                index += 1
                guard atOperand else { throw SearchQueryError(.missingOperand(operator: "AND"), position: token.position) }
                parts.append(try parseUnary())
            } else if atOperand {
                parts.append(try parseUnary())
            } else {
                break
            }
        }
        return Self.combine(parts.compactMap { $0 }, or: false)
    }

    private mutating func parseUnary() throws -> SearchQuery? {
        guard let token = current else {
            // Callers check `atOperand` first; reaching the end here means an empty operand.
            throw SearchQueryError(.emptyQuery, position: nil)
        }
        switch token.kind {
        case .not, .minus:
            index += 1
            let name = token.kind == .not ? "NOT" : "-"
            guard atOperand else { throw SearchQueryError(.missingOperand(operator: name), position: token.position) }
            try enter(at: token.position)
            defer { depth -= 1 }
            // NOT of something unsearchable is nothing, not "everything".
            return try parseUnary().map { SearchQuery.not($0) }
        default:
            return try parsePrimary()
        }
    }

    private mutating func parsePrimary() throws -> SearchQuery? {
        guard let token = current else { throw SearchQueryError(.emptyQuery, position: nil) }
        switch token.kind {
        case .open:
            index += 1
            if let next = current, next.kind == .close {
                throw SearchQueryError(.emptyParentheses, position: token.position)
            }
            guard current != nil else { throw SearchQueryError(.unbalancedParenthesis, position: token.position) }
            try enter(at: token.position)
            defer { depth -= 1 }
            let inner = try parseOr()
            guard current?.kind == .close else {
                throw SearchQueryError(.unbalancedParenthesis, position: token.position)
            }
            index += 1
            return inner
        case .term(let raw):
            index += 1
            termCount += 1
            if termCount > Self.maximumTerms {
                throw SearchQueryError(.tooComplex("more than \(Self.maximumTerms) terms"), position: token.position)
            }
            return try Self.build(raw, position: token.position)
        case .close:
            throw SearchQueryError(.unbalancedParenthesis, position: token.position)
        case .and, .or:
            let name = token.kind == .and ? "AND" : "OR"
            throw SearchQueryError(.missingOperand(operator: name), position: token.position)
        case .not, .minus:
            return try parseUnary()
        }
    }

    private mutating func enter(at position: Int) throws {
        depth += 1
        if depth > Self.maximumDepth {
            throw SearchQueryError(.tooComplex("nested deeper than \(Self.maximumDepth)"), position: position)
        }
    }

    /// One part stays itself; several become an AND/OR, flattening nested ones of the same kind
    /// (`(a b) c` is `a b c`), which changes nothing but keeps the tree (and the SQL) small.
    private static func combine(_ parts: [SearchQuery], or: Bool) -> SearchQuery? {
        var flat: [SearchQuery] = []
        for part in parts {
            switch part {
            case .and(let inner) where !or: flat += inner
            case .or(let inner) where or: flat += inner
            default: flat.append(part)
            }
        }
        switch flat.count {
        case 0: return nil
        case 1: return flat[0]
        default: return or ? .or(flat) : .and(flat)
        }
    }

    // MARK: Terms

    /// Turns a raw term into a node; nil when it has nothing searchable.
    private static func build(_ raw: RawTerm, position: Int) throws -> SearchQuery? {
        guard let field = raw.field else {
            return isSearchable(raw.value) ? .text(SearchText(raw.value, isPrefix: raw.isPrefix)) : nil
        }
        switch field {
        case "mailbox", "folder":
            var name = raw.value.trimmingCharacters(in: .whitespaces)
            if !raw.isPrefix {
                // `folder:Work/` names the same folder as `folder:Work`.
                while field == "folder" && name.hasSuffix("/") { name.removeLast() }
            }
            if name.isEmpty && !raw.isPrefix { throw SearchQueryError(.missingValue(field: field), position: position) }
            if name.isEmpty { return nil } // `mailbox:*`: any mailbox, so no condition at all
            return field == "mailbox" ? .mailbox(name, prefix: raw.isPrefix) : .folder(name, prefix: raw.isPrefix)
        case "date":
            let written = raw.value + (raw.isPrefix ? "*" : "")
            return .date(try parseDateRange(written, position: position))
        case "has":
            if raw.value.lowercased() == "attachment" && !raw.isPrefix { return .hasAttachment }
            throw SearchQueryError(.unknownHasValue(raw.value + (raw.isPrefix ? "*" : "")), position: position)
        case "is":
            if !raw.isPrefix, let status = FilingStatus(rawValue: raw.value.lowercased()), SearchQuery.searchableStatuses.contains(status) {
                return .status(status)
            }
            throw SearchQueryError(.unknownIsValue(raw.value + (raw.isPrefix ? "*" : "")), position: position)
        default:
            guard let textField = SearchText.Field(rawValue: field) else { return nil }
            if raw.value.isEmpty { throw SearchQueryError(.missingValue(field: field), position: position) }
            return isSearchable(raw.value) ? .text(SearchText(field: textField, raw.value, isPrefix: raw.isPrefix)) : nil
        }
    }

    /// Whether the index tokenizer (unicode61: letters, numbers, private use) finds a word in it.
    static func isSearchable(_ value: String) -> Bool {
        value.unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                 .decimalNumber, .letterNumber, .otherNumber, .privateUse:
                return true
            default:
                return false
            }
        }
    }

    // MARK: Dates

    /// `A..B`, `A..`, `..B` or `A`, where each end is `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (UTC).
    static func parseDateRange(_ text: String, position: Int) throws -> SearchDateRange {
        func bad(_ reason: String) -> SearchQueryError {
            SearchQueryError(.badDate(term: "date:" + text, reason: reason), position: position)
        }
        if text.isEmpty { throw SearchQueryError(.missingValue(field: "date"), position: position) }
        let pieces = text.components(separatedBy: "..")
        switch pieces.count {
        case 1:
            guard let period = period(pieces[0]) else { throw bad("expected YYYY, YYYY-MM or YYYY-MM-DD") }
            return SearchDateRange(start: period.start, end: period.end)
        case 2:
            let (from, to) = (pieces[0], pieces[1])
            if from.isEmpty && to.isEmpty { throw bad("give at least one end") }
            var start: Int64?
            var end: Int64?
            if !from.isEmpty {
                guard let period = period(from) else { throw bad("'\(from)' is not YYYY, YYYY-MM or YYYY-MM-DD") }
                start = period.start
            }
            if !to.isEmpty {
                guard let period = period(to) else { throw bad("'\(to)' is not YYYY, YYYY-MM or YYYY-MM-DD") }
                end = period.end
            }
            if let start, let end, start >= end { throw bad("the start is after the end") }
            return SearchDateRange(start: start, end: end)
        default:
            throw bad("one '..' at most")
        }
    }

    /// The first second of a year, month or day and the first second after it, in UTC.
    static func period(_ text: String) -> (start: Int64, end: Int64)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), parts[0].count == 4,
              parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let year = Int(parts[0]) else { return nil }
        var month = 1, day = 1
        if parts.count >= 2 {
            guard parts[1].count == 2, let value = Int(parts[1]), (1...12).contains(value) else { return nil }
            month = value
        }
        if parts.count == 3 {
            guard parts[2].count == 2, let value = Int(parts[2]),
                  (1...daysIn(month: month, year: year)).contains(value) else { return nil }
            day = value
        }
        let start = daysFromCivil(year: year, month: month, day: day) * 86_400
        let end: Int64
        switch parts.count {
        case 1: end = daysFromCivil(year: year + 1, month: 1, day: 1) * 86_400
        case 2: end = (month == 12 ? daysFromCivil(year: year + 1, month: 1, day: 1)
                                   : daysFromCivil(year: year, month: month + 1, day: 1)) * 86_400
        default: end = start + 86_400
        }
        return (start, end)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm): exact
    /// and independent of Foundation's calendar and the machine's time zone.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
