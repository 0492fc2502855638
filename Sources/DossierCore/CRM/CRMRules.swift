import Foundation

/// rules.yaml of the CRM directory (every key optional; the defaults are what an absent key means).
/// Parsed and checked by `CRMRulesParser`.
public struct CRMRules: Sendable, Equatable, Codable {
    /// The firm's own domains (lowercased); subdomains are internal too, as is every staff address.
    public var internalDomains: [String] = []
    /// Free-mail domains added to the built-in list (`FreemailDomains`); never matched by domain.
    public var freemailDomains: [String] = []
    /// Mail with any participant here is excluded (reason `blacklist`).
    public var blacklist = Blacklist()
    /// Patterns whose first capture group, found in the subject, names a record.
    public var subjectTags: [CRMPattern] = []
    /// Patterns whose first capture group, found in headers, subject or body text, names a record.
    public var trackingCodes: [CRMPattern] = []
    /// Security groups, lowest rank first.
    public var groups: [String] = []
    public var noise = Noise()
    public var mode: CRMMode = .all
    /// The historic import window; `import --since/--until` override it.
    public var window = CRMWindow()
    /// `plus_addressing: true` makes `a+tag@x` the same address as `a@x` when matching. Off by
    /// default: many providers treat `+` as an ordinary character, so `a+b@x` may be someone else.
    public var plusAddressing = false
    /// The text of rules.yaml as loaded (nil when the file is absent), kept for the record.
    public var source: String?

    public init() {}

    /// rules.yaml's own names, so JSON output reads like the file.
    enum CodingKeys: String, CodingKey {
        case blacklist, groups, noise, mode, window, source
        case internalDomains = "internal_domains"
        case freemailDomains = "freemail_domains"
        case subjectTags = "subject_tags"
        case trackingCodes = "tracking_codes"
        case plusAddressing = "plus_addressing"
    }

    public struct Blacklist: Sendable, Equatable, Codable {
        /// Lowercased; subdomains are blacklisted too.
        public var domains: [String] = []
        /// Lowercased.
        public var addresses: [String] = []
        public init(domains: [String] = [], addresses: [String] = []) {
            self.domains = domains
            self.addresses = addresses
        }
    }

    public struct Noise: Sendable, Equatable, Codable {
        /// true: keep noise in the archive, flagged; false: count it only.
        public var store = false
        public init(store: Bool = false) { self.store = store }
    }
}

/// What happens to external mail that no rule files.
public enum CRMMode: String, Sendable, Equatable, Codable {
    /// Kept as "unassigned".
    case all
    /// Excluded (reason `unmatched`).
    case matchedOnly = "matched_only"
}

/// A `subject_tags` or `tracking_codes` entry: a regular expression (NSRegularExpression syntax)
/// whose capture group 1 names a record of `kind`. Checked at load time to compile and to have a group.
public struct CRMPattern: Sendable, Equatable, Hashable, Codable {
    public var pattern: String
    public var kind: CRMRecordKind

    public init(pattern: String, kind: CRMRecordKind) {
        self.pattern = pattern
        self.kind = kind
    }
}

/// rules.yaml's `window`, inclusive at both ends as written. A day (`YYYY-MM-DD`) means that whole
/// day in UTC; an RFC 3339 time means that instant.
public struct CRMWindow: Sendable, Equatable, Codable {
    /// First instant inside the window, or nil for no lower bound.
    public var since: Date?
    /// First instant after the window, or nil for no upper bound.
    public var before: Date?
    /// The values as written in rules.yaml, for display.
    public var sinceText: String?
    public var untilText: String?

    public init(since: Date? = nil, before: Date? = nil, sinceText: String? = nil, untilText: String? = nil) {
        self.since = since
        self.before = before
        self.sinceText = sinceText
        self.untilText = untilText
    }

    enum CodingKeys: String, CodingKey {
        case since, before
        case sinceText = "since_text"
        case untilText = "until_text"
    }

    /// The window as the classify stage applies it.
    public var dateWindow: DateWindow { DateWindow(since: since, before: before) }
}
