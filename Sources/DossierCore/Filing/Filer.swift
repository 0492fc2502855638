#if canImport(Glibc)
import CDossierSystem
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The filing rules that need nothing but the message and the CRM directory: exclusions
/// (blacklist, excluded contacts), internal mail, direction, and rules 1, 3, 4 and 5 (tracking
/// code, subject tag, address, domain). Rule 2 (thread) needs the archive and lives in
/// `ThreadFiling`; `decide` combines them with the spec's precedence. Pure and `Sendable`: the
/// import's worker threads share one.
public struct Filer: Sendable {
    public let index: CRMIndex
    private let trackingLiterals: [[UInt8]?]
    private let tagLiterals: [[UInt8]?]

    public init(index: CRMIndex) {
        self.index = index
        trackingLiterals = index.trackingCodes.map { Self.requiredLiteral($0.pattern.pattern) }
        tagLiterals = index.subjectTags.map { Self.requiredLiteral($0.pattern.pattern) }
    }

    // MARK: Exclusions, internal, direction

    /// `blacklist` or `excluded_contact` when a participant makes the message excluded (checked in
    /// that order, as the spec's precedence says), else nil.
    private func exclusion(_ profiles: [AddressProfile]) -> String? {
        if profiles.contains(where: \.isBlacklisted) { return "blacklist" }
        if profiles.contains(where: \.isExcludedContact) { return "excluded_contact" }
        return nil
    }

    /// No participant is external (all are staff or in internal domains). A message with no
    /// participant at all counts as internal too: there is nobody to file it to.
    public func isInternal(_ facts: FilingFacts) -> Bool {
        facts.addresses.allSatisfy(index.isInternal)
    }

    /// Inbound when the sender is outside, outbound when the firm wrote to someone outside,
    /// internal otherwise.
    public func direction(_ facts: FilingFacts) -> Direction { direction(facts, isInternal: index.isInternal) }

    private func direction(_ facts: FilingFacts, isInternal: (String) -> Bool) -> Direction {
        let senders = facts.participants.filter { $0.role == "from" || $0.role == "sender" }.map(\.address)
        let recipients = facts.participants.filter { $0.role == "to" || $0.role == "cc" || $0.role == "bcc" }.map(\.address)
        if let from = senders.first, !isInternal(from) { return .inbound }
        if recipients.contains(where: { !isInternal($0) }) { return .outbound }
        return senders.isEmpty && !recipients.isEmpty ? .inbound : .internal
    }

    // MARK: Rules 1, 3, 4, 5

    /// Every match of the rules that need no archive, strongest rule first.
    public func directMatches(_ facts: FilingFacts) -> [FilingMatch] {
        directMatches(facts, profiles: facts.addresses.map { profile(of: $0) })
    }

    private func directMatches(_ facts: FilingFacts, profiles: [AddressProfile]) -> [FilingMatch] {
        var matches: [FilingMatch] = []
        // 1. Tracking codes, anywhere a reply carries them: headers, subject, body (quoted text too).
        for (pattern, literal) in zip(index.trackingCodes, trackingLiterals) {
            var names: [String] = []
            for value in facts.headerValues where Self.mayContain(value, literal) {
                names += pattern.captures(in: String(decoding: value, as: UTF8.self))
            }
            if Self.mayContain(facts.subject, literal) { names += pattern.captures(in: facts.subject) }
            names += Self.captures(of: pattern, in: facts.bodyText, around: literal)
            var seen = Set<String>()
            for name in names where seen.insert(name).inserted {
                for record in index.records(named: name, kind: pattern.kind) {
                    matches += expand(.trackingCode, record, matched: name)
                }
            }
        }
        // 3. Subject tags.
        for (pattern, literal) in zip(index.subjectTags, tagLiterals) where Self.mayContain(facts.subject, literal) {
            for name in pattern.captures(in: facts.subject) {
                for record in index.records(named: name, kind: pattern.kind) {
                    matches += expand(.subjectTag, record, matched: name)
                }
            }
        }
        // 4. Exact addresses; 5. account domains (never free-mail or internal ones).
        for profile in profiles where !profile.isInternal { matches += profile.matches }
        return Self.normalized(matches)
    }

    /// Everything the rules make of one participant address. It depends on the address alone, so
    /// an `AddressProfiles` memo can keep it: a firm's mail has few distinct addresses.
    public func profile(of address: String) -> AddressProfile {
        let isInternal = index.isInternal(address)
        var matches: [FilingMatch] = []
        if !isInternal {
            for contact in index.contacts(forAddress: address) {
                matches += expand(.address, CRMRecordRef(.contact, contact.id), matched: address)
            }
            for account in index.accounts(forMainEmail: address) {
                matches.append(FilingMatch(rule: .address, record: CRMRecordRef(.account, account.id), matched: address))
            }
            for lead in index.leads(forAddress: address) {
                matches.append(FilingMatch(rule: .address, record: CRMRecordRef(.lead, lead.id), matched: address))
            }
            let accounts = index.accounts(forDomainOf: address)
            if !accounts.isEmpty {
                let domain = address.split(separator: "@").last.map(String.init) ?? ""
                for account in accounts {
                    matches.append(FilingMatch(rule: .domain, record: CRMRecordRef(.account, account.id), matched: domain))
                }
            }
        }
        return AddressProfile(isInternal: isInternal, isBlacklisted: index.isBlacklisted(address),
                              isExcludedContact: index.isExcludedContact(address), matches: matches)
    }

    /// A record and what filing to it implies: a contact's or a case's account too (`via` names
    /// the record that brought the account in). Rules and manual assignments expand alike.
    public func expand(_ rule: FilingRule, _ record: CRMRecordRef, matched: String) -> [FilingMatch] {
        var result = [FilingMatch(rule: rule, record: record, matched: matched)]
        switch record.kind {
        case .contact:
            if let contact = index.contact(id: record.id), let account = index.account(forContact: contact) {
                result.append(FilingMatch(rule: rule, record: CRMRecordRef(.account, account.id), matched: matched, via: record))
            }
        case .case:
            if let item = index.case(id: record.id), let account = index.account(forCase: item) {
                result.append(FilingMatch(rule: rule, record: CRMRecordRef(.account, account.id), matched: matched, via: record))
            }
        case .account, .lead:
            break
        }
        return result
    }

    // MARK: Decision

    /// Everything about filing one message that the parsing worker can decide alone.
    /// `profiles`, one per thread, remembers what each address resolved to: a migration asks
    /// about the same few thousand addresses for every one of its messages.
    public func prefile(_ facts: FilingFacts, profiles memo: AddressProfiles? = nil) -> PreFiling {
        let addresses = facts.addresses
        let profiles = addresses.map { memo?.profile(of: $0, self) ?? profile(of: $0) }
        // A handful of addresses: their profiles answer direction's questions by a linear scan.
        func isInternal(_ address: String) -> Bool {
            addresses.firstIndex(of: address).map { profiles[$0].isInternal } ?? index.isInternal(address)
        }
        return PreFiling(exclusion: exclusion(profiles), isInternal: profiles.allSatisfy(\.isInternal),
                         direction: direction(facts, isInternal: isInternal),
                         direct: directMatches(facts, profiles: profiles), references: facts.references)
    }

    /// Combines everything with the spec's precedence (the window was applied before parsing
    /// finished): excluded (blacklist, excluded_contact) > noise > internal > filed > unassigned
    /// (or excluded, unmatched). The noise stage's verdict counts unless it is weak and a tracking
    /// code or the thread to a filed message says a person wrote in a client's matter (address
    /// and domain matches outrank no noise: a newsletter from a client's domain is still one).
    /// Manual assignments file a message whatever the rules say, short of an exclusion; manual
    /// removals take a record out for good.
    public func decide(_ pre: PreFiling, thread: [FilingMatch] = [], manual: ManualFiling = ManualFiling(),
                       noise verdict: NoiseVerdict? = nil) -> FilingDecision {
        let noise = verdict?.standingKind(trackingCode: pre.direct.contains { $0.rule == .trackingCode }, thread: !thread.isEmpty)
        return precedingDecision(pre, manual: manual, noise: noise?.rawValue)
            ?? combine(direct: pre.direct, thread: thread, manual: manual)
    }

    /// The decision when a status ranked above filing applies (excluded by blacklist or excluded
    /// contact, noise, internal), else nil: the message is filed or unassigned by the rules, and
    /// only then does the thread rule count for it (and through it, for its replies).
    public func precedingDecision(_ pre: PreFiling, manual: ManualFiling = ManualFiling(), noise: String? = nil) -> FilingDecision? {
        if let reason = pre.exclusion { return FilingDecision(status: .excluded, reason: reason) }
        if let noise, manual.assigned.isEmpty { return FilingDecision(status: .noise, reason: noise) }
        if manual.assigned.isEmpty && pre.isInternal { return FilingDecision(status: .internal) }
        return nil
    }

    /// Filed to the union of every match, else unassigned (excluded, unmatched, in matched_only
    /// mode). A manual assignment of a contact or case files to its account too, as a rule's
    /// match would; a manual removal takes out the record and whatever it brought in (`via`).
    public func combine(direct: [FilingMatch], thread: [FilingMatch], manual: ManualFiling) -> FilingDecision {
        let all = Self.normalized(direct + thread + manualMatches(manual)).filter { !manual.excludes($0) }
        if !all.isEmpty { return FilingDecision(status: .filed, matches: all) }
        if index.rules.mode == .matchedOnly { return FilingDecision(status: .excluded, reason: "unmatched") }
        return FilingDecision(status: .unassigned)
    }

    /// The matches a person's assignments stand for, expanded like a rule's.
    public func manualMatches(_ manual: ManualFiling) -> [FilingMatch] {
        manual.assigned.flatMap { expand(.manual, $0, matched: ManualFiling.matchedText) }
    }

    /// Deduplicated, strongest rule first, then record order: a stable order for storage and `why`.
    static func normalized(_ matches: [FilingMatch]) -> [FilingMatch] {
        // A handful of matches per message: a linear scan beats hashing their strings.
        // One match per (rule, record, matched): the archive's key for `filing_match`. An
        // account can be matched by one address twice, as its main_email (no via) and through a
        // contact with that address (via the contact); only one row can be stored, so the
        // decision keeps only that one, the direct one first, else the least `via`. Keeping both
        // made every rematch see a difference from the stored rows and rewrite them ("2 updated"
        // with nothing changed).
        var unique: [FilingMatch] = []
        unique.reserveCapacity(matches.count)
        for match in matches {
            if let at = unique.firstIndex(where: { $0.rule == match.rule && $0.record == match.record && $0.matched == match.matched }) {
                let kept = unique[at].via?.description, offered = match.via?.description
                if let kept, offered == nil || offered! < kept { unique[at] = match }
            } else {
                unique.append(match)
            }
        }
        return unique.sorted { a, b in
            if a.rule != b.rule { return a.rule < b.rule }
            if a.record != b.record { return a.record < b.record }
            return a.matched < b.matched
        }
    }

    // MARK: Cheap pre-checks before a regular expression

    /// The longest run of characters every match of `pattern` must contain, or nil when none can
    /// be told safely (alternation, inline flags). Lets the filer skip the regular expression on
    /// the many bodies that cannot match: NSRegularExpression over every body would cost more
    /// than parsing it.
    static func requiredLiteral(_ pattern: String) -> [UInt8]? {
        if pattern.contains("(?") { return nil }
        let chars = Array(pattern.unicodeScalars)
        var best: [UInt8] = []
        var run: [UInt8] = []
        func endRun() {
            if run.count > best.count { best = run }
            run = []
        }
        var depth = 0
        var i = 0
        while i < chars.count {
            let c = chars[i]
            var literal: Unicode.Scalar?
            switch c {
            case "\\":
                guard i + 1 < chars.count else { return nil }
                let next = chars[i + 1]
                i += 1
                if !next.properties.isAlphabetic && !("0"..."9").contains(next) { literal = next }
            case "|":
                return nil
            case "(":
                depth += 1
            case ")":
                depth -= 1
            case "[":
                // Skip the class: it never contributes a fixed character.
                var j = i + 1
                if j < chars.count && chars[j] == "^" { j += 1 }
                if j < chars.count && chars[j] == "]" { j += 1 }
                while j < chars.count && chars[j] != "]" { if chars[j] == "\\" { j += 1 }; j += 1 }
                i = j
            case ".", "^", "$", "*", "+", "?", "{", "}":
                break
            default:
                literal = c
            }
            i += 1
            // A character followed by ?, * or {0 is optional: it cannot be required.
            let optional = i < chars.count && (chars[i] == "?" || chars[i] == "*" || chars[i] == "{")
            if let literal, depth == 0, !optional, literal.isASCII {
                run.append(UInt8(literal.value))
                if i < chars.count && chars[i] == "+" { endRun() }
            } else {
                endRun()
            }
        }
        endRun()
        return best.isEmpty ? nil : best
    }

    /// The captures of `pattern` in a long text. With a fixed part known, the regular expression
    /// runs only on the lines that contain it (a match cannot avoid its fixed part, and tracking
    /// codes do not span lines): NSRegularExpression first copies its whole input to UTF-16,
    /// which over every body of a migration costs more than parsing them.
    static func captures(of pattern: CRMCompiledPattern, in text: String, around literal: [UInt8]?) -> [String] {
        guard let literal else { return pattern.captures(in: text) }
        var text = text
        return text.withUTF8 { bytes -> [String] in
            guard let base = bytes.baseAddress else { return [] }
            var result: [String] = []
            var searchFrom = 0
            while searchFrom < bytes.count {
                let found = literal.withUnsafeBytes { needle in
                    memmem(base + searchFrom, UInt(bytes.count - searchFrom), needle.baseAddress, UInt(needle.count))
                }
                guard let found else { break }
                let at = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                var start = at
                while start > 0 && bytes[start - 1] != 10 && at - start < 4096 { start -= 1 }
                var end = at + literal.count
                while end < bytes.count && bytes[end] != 10 && end - at < 4096 { end += 1 }
                result += pattern.captures(in: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
                searchFrom = end
            }
            return result
        }
    }

    static func mayContain(_ bytes: [UInt8], _ literal: [UInt8]?) -> Bool {
        guard let literal else { return true }
        return bytes.withUnsafeBytes { haystack in
            literal.withUnsafeBytes { needle in
                memmem(haystack.baseAddress, UInt(haystack.count), needle.baseAddress, UInt(needle.count)) != nil
            }
        }
    }

    /// False only when `text` certainly lacks `literal`.
    static func mayContain(_ text: String, _ literal: [UInt8]?) -> Bool {
        guard let literal else { return true }
        var text = text
        return text.withUTF8 { haystack in
            literal.withUnsafeBytes { needle in
                memmem(haystack.baseAddress, UInt(haystack.count), needle.baseAddress, UInt(needle.count)) != nil
            }
        }
    }
}

/// What the parsing worker decided about filing a message, for the writer to finish with the
/// thread rule (which needs the archive).
public struct PreFiling: Sendable, Equatable {
    /// blacklist or excluded_contact.
    public var exclusion: String?
    public var isInternal: Bool
    public var direction: Direction
    /// Matches of rules 1, 3, 4 and 5.
    public var direct: [FilingMatch]
    /// In-Reply-To, then References.
    public var references: [String]
}

/// A person's decisions on one message: records assigned by hand, and records taken out by hand.
public struct ManualFiling: Sendable, Equatable {
    public var assigned: [CRMRecordRef] = []
    public var removed: Set<CRMRecordRef> = []

    public init(assigned: [CRMRecordRef] = [], removed: Set<CRMRecordRef> = []) {
        self.assigned = assigned
        self.removed = removed
    }

    public var isEmpty: Bool { assigned.isEmpty && removed.isEmpty }

    /// The `matched` text of a manual match.
    public static let matchedText = "dossier assign"

    /// A match this person took out: its record, or the record it came through (`via`).
    public func excludes(_ match: FilingMatch) -> Bool {
        removed.contains(match.record) || match.via.map(removed.contains) == true
    }
}

/// What the CRM directory says about one participant address (see `Filer.profile(of:)`).
public struct AddressProfile: Sendable {
    /// Staff, or in an internal domain: never filed by, and not external.
    public var isInternal: Bool
    public var isBlacklisted: Bool
    public var isExcludedContact: Bool
    /// Rules 4 and 5 for this address (empty for an internal one), contacts expanded to accounts.
    public var matches: [FilingMatch]
}

/// A memo of `Filer.profile(of:)` for one thread (it is not shared, so it needs no lock). Bounded:
/// it starts afresh past `capacity` addresses, which a mailbox of spam could otherwise exceed.
public final class AddressProfiles {
    private var known: [String: AddressProfile] = [:]
    private let capacity: Int

    public init(capacity: Int = 50_000) { self.capacity = capacity }

    public func profile(of address: String, _ filer: Filer) -> AddressProfile {
        if let known = known[address] { return known }
        let profile = filer.profile(of: address)
        if known.count >= capacity { known.removeAll(keepingCapacity: true) }
        known[address] = profile
        return profile
    }
}
