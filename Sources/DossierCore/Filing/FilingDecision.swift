import Foundation

/// The filing rules, strongest evidence first (../shared/spec/filing-report.md).
public enum FilingRule: String, Sendable, Codable, CaseIterable, Comparable {
    case trackingCode = "tracking_code"
    case thread
    case subjectTag = "subject_tag"
    case address
    case domain
    /// A person's `dossier assign`; never overridden by rematching.
    case manual

    /// Lower is stronger. Manual decisions rank above every rule.
    var strength: Int {
        switch self {
        case .manual: return 0
        case .trackingCode: return 1
        case .thread: return 2
        case .subjectTag: return 3
        case .address: return 4
        case .domain: return 5
        }
    }

    public static func < (lhs: FilingRule, rhs: FilingRule) -> Bool { lhs.strength < rhs.strength }
}

/// Where a message stands, with the spec's precedence: quarantined > excluded (window, blacklist,
/// excluded_contact) > noise > internal > filed / unassigned (or excluded, unmatched).
public enum FilingStatus: String, Sendable, Codable, CaseIterable {
    case filed, unassigned, noise, `internal`, excluded, quarantined
}

/// One rule firing for one record, with the text that matched: the raw material of `dossier why`.
public struct FilingMatch: Sendable, Hashable, Codable {
    public var rule: FilingRule
    public var record: CRMRecordRef
    /// What matched: the address, the domain, the tag or code as written, or the Message-ID of
    /// the filed message a reply refers to.
    public var matched: String
    /// For a record filed because another was (a contact's or a case's account): that record.
    public var via: CRMRecordRef?

    public init(rule: FilingRule, record: CRMRecordRef, matched: String, via: CRMRecordRef? = nil) {
        self.rule = rule
        self.record = record
        self.matched = matched
        self.via = via
    }
}

/// Which way a message went, seen from the firm.
public enum Direction: String, Sendable, Codable {
    /// From someone outside to the firm.
    case inbound
    /// From the firm to someone outside.
    case outbound
    /// Only the firm's own people.
    case `internal`
}

/// A reply to a message the firm sent, or a new conversation (as in PRIM's import preview).
public enum ConversationContext: String, Sendable, Codable {
    case reply, new
}

/// The outcome of filing one message.
public struct FilingDecision: Sendable, Equatable {
    public var status: FilingStatus
    /// For excluded: window, blacklist, excluded_contact, unmatched; for noise: its kind.
    public var reason: String?
    /// Every rule that fired, for every record (deduplicated, strongest first).
    public var matches: [FilingMatch]

    public init(status: FilingStatus, reason: String? = nil, matches: [FilingMatch] = []) {
        self.status = status
        self.reason = reason
        self.matches = matches
    }

    /// The strongest rule that fired, or nil.
    public var evidence: FilingRule? { matches.map(\.rule).min() }

    /// The records filed to, sorted (accounts, contacts, leads, cases).
    public var records: [CRMRecordRef] { Array(Set(matches.map(\.record))).sorted() }
}
