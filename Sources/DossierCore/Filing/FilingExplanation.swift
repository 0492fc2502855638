import Foundation
import GRDB

/// `dossier why KEY`: where one message is filed and why. For a filed message, every rule that
/// fired, for every record, with the text that matched and the rule that decided (the evidence);
/// for any other status, what made it so (the participant that excluded it, the window, the
/// internal participants, the external ones nothing matched). Manual decisions come with their
/// time. Built from what filing stored, plus the CRM directory in force for names and for the
/// exclusion and internal tests of the participants.
public struct FilingExplanation: Sendable, Codable, Equatable {
    /// One rule firing for one record.
    public struct Match: Sendable, Codable, Equatable {
        public var rule: FilingRule
        /// `kind:id`.
        public var record: String
        /// The record's name in the directory in force (nil when it has none, or no longer has the record).
        public var name: String?
        /// The address, domain, tag or tracking code as found, the Message-ID a reply refers to,
        /// or "dossier assign".
        public var matched: String
        /// The contact or case (`kind:id`) that brought in this account.
        public var via: String?
        /// This match's rule is the strongest that fired: the evidence.
        public var decided: Bool
        /// For the thread rule: the archive key of the message replied to.
        public var parentKey: String?
        /// For a manual match: when the assignment was made (RFC 3339).
        public var at: String?

        enum CodingKeys: String, CodingKey {
            case rule, record, name, matched, via, decided, at
            case parentKey = "parent_key"
        }
    }

    /// A participant (From, Sender, Reply-To, To, Cc, Bcc) as the directory in force sees it.
    public struct Participant: Sendable, Codable, Equatable {
        public var role: String
        public var address: String
        /// Staff or an internal domain.
        public var `internal`: Bool
        /// What makes it notable: "staff S-1", "internal domain firm.example", "blacklisted
        /// (domain competitor.example)", "excluded contact C-9"; nil otherwise.
        public var note: String?
    }

    /// A person's decision (`dossier assign` / `unassign`).
    public struct ManualDecision: Sendable, Codable, Equatable {
        public var action: String
        public var record: String
        public var at: String
    }

    /// What the noise stage saw in a message (every message with at least one signal).
    public struct Noise: Sendable, Codable, Equatable {
        /// The kind the signals point to; nil when they were too few to make it noise.
        public var kind: String?
        /// A decisive verdict stands whatever the filing evidence; a weak one yields to a
        /// tracking code or a thread to a filed message.
        public var decisive: Bool
        /// `kind: what fired`, the deciding kind's first.
        public var signals: [String]
    }

    /// The import window that excluded a message.
    public struct Window: Sendable, Codable, Equatable {
        /// First day inside (as written), or nil for open.
        public var since: String?
        public var until: String?
        /// Where it came from: the import's `--since/--until`, or rules.yaml.
        public var source: String
    }

    public var key: String
    public var messageID: String?
    public var date: Date?
    public var from: String?
    public var fromName: String?
    public var subject: String?
    /// The content is in the archive (false: excluded when imported, only the record kept).
    public var stored: Bool
    public var status: String
    public var reason: String?
    public var evidence: String?
    public var direction: String?
    public var context: String?
    /// The mailboxes holding a copy, and the security groups the message is accessible to under
    /// the directory in force (lowest rank first; empty when rules.yaml lists no groups).
    public var mailboxes: [String] = []
    public var accessibleTo: [String] = []
    /// Every rule that fired, strongest first.
    public var matches: [Match]
    /// Manual decisions, oldest first.
    public var manual: [ManualDecision]
    /// Empty for a message excluded when imported (its participants were not kept).
    public var participants: [Participant]
    /// For excluded (blacklist, excluded_contact): the participant addresses that exclude it
    /// under the directory in force.
    public var triggers: [String]
    /// For excluded (window).
    public var window: Window?
    /// The noise stage's verdict and signals, when any signal fired.
    public var noise: Noise?
    /// The explanation in sentences, as `dossier why` prints it.
    public var summary: [String]

    enum CodingKeys: String, CodingKey {
        case key, date, from, subject, stored, status, reason, evidence, direction, context, mailboxes, matches, manual,
             participants, triggers, window, noise, summary
        case accessibleTo = "accessible_to"
        case messageID = "message_id"
        case fromName = "from_name"
    }

    /// Explains the message whose key is (or starts with) `key`, with `index` built from the
    /// directory in force.
    /// - Throws: `StoreError.noSuchMessage` / `.ambiguousKey`.
    public static func explain(key: String, in db: Database, index: CRMIndex) throws -> FilingExplanation {
        let record = try MessageRecord.resolve(db, key: key)
        guard let row = try Row.fetchOne(db, sql: """
            SELECT filing, filing_reason, evidence, direction, context, first_run, noise, noise_decisive, noise_signals
            FROM message WHERE id = ?
            """, arguments: [record.id]) else { throw StoreError.noSuchMessage(key) }
        let stored = record.status == "stored"
        var explanation = FilingExplanation(
            key: record.key, messageID: record.messageID, date: record.date, from: record.fromAddress, fromName: record.fromName,
            subject: record.subject, stored: stored,
            status: row["filing"] ?? (stored ? FilingStatus.unassigned.rawValue : FilingStatus.excluded.rawValue),
            reason: row["filing_reason"] ?? (stored ? nil : record.reason), evidence: row["evidence"],
            direction: row["direction"], context: row["context"], matches: [], manual: [], participants: [], triggers: [],
            window: nil, summary: [])
        if let signals: String = row["noise_signals"], !signals.isEmpty {
            explanation.noise = Noise(kind: row["noise"], decisive: (row["noise_decisive"] as Bool?) ?? false,
                                      signals: signals.split(separator: "\n").map(String.init))
        }

        // Who may see it: the staff whose mailboxes hold a copy (crm-directory.md's group rule).
        explanation.mailboxes = try String.fetchAll(db, sql: "SELECT DISTINCT mailbox FROM copy WHERE message = ? ORDER BY mailbox",
                                                    arguments: [record.id])
        explanation.accessibleTo = index.accessibleGroups(forMailboxes: explanation.mailboxes)

        // Manual decisions, then the matches (a manual match carries its decision's time).
        var decidedAt: [CRMRecordRef: String] = [:]
        for manual in try Row.fetchAll(db, sql: "SELECT action, kind, record, at FROM manual_filing WHERE message = ? ORDER BY at, kind, record",
                                       arguments: [record.id]) {
            let ref = CRMRecordKind(rawValue: manual["kind"]).map { CRMRecordRef($0, manual["record"]) }
            explanation.manual.append(ManualDecision(action: manual["action"], record: ref?.description ?? manual["record"], at: manual["at"]))
            if let ref { decidedAt[ref] = manual["at"] }
        }
        let matches = Filer.normalized(try FilingStore.matches(of: record.id, db))
        let evidence = explanation.evidence.flatMap(FilingRule.init(rawValue:)) ?? matches.map(\.rule).min()
        explanation.evidence = evidence?.rawValue
        let parentKey = try db.cachedStatement(sql: "SELECT key FROM message WHERE message_id = ?")
        for match in matches {
            explanation.matches.append(Match(
                rule: match.rule, record: match.record.description, name: name(of: match.record, in: index), matched: match.matched,
                via: match.via?.description, decided: match.rule == evidence,
                parentKey: match.rule == .thread ? try String.fetchOne(parentKey, arguments: [match.matched]) : nil,
                at: match.rule == .manual ? decidedAt[match.via ?? match.record] : nil))
        }

        for participant in try Row.fetchAll(db, sql: "SELECT role, address FROM address WHERE message = ? ORDER BY rowid",
                                            arguments: [record.id]) {
            let address: String = participant["address"]
            explanation.participants.append(Participant(role: participant["role"], address: address,
                                                        internal: index.isInternal(address), note: note(address, index)))
        }
        explanation.summary = summary(&explanation, index: index, run: row["first_run"], db)
        return explanation
    }

    // MARK: Sentences

    private static func summary(_ e: inout FilingExplanation, index: CRMIndex, run: Int64?, _ db: Database) -> [String] {
        var lines: [String] = []
        let reason = e.reason ?? ""
        let keptNote = "Its content is kept: it was stored before the CRM directory excluded it (dossier rematch)."
        // The status, and for excluded its reason: "filed", "excluded:window", ...
        let outcome = e.status == FilingStatus.excluded.rawValue ? "excluded:" + reason : e.status
        switch outcome {
        case FilingStatus.filed.rawValue:
            let records = Set(e.matches.map(\.record)).count
            lines.append("Filed to \(records) record\(records == 1 ? "" : "s"); the strongest rule that fired is \(e.evidence ?? "-") (the evidence).")
            if e.matches.contains(where: { $0.rule == .thread }) {
                lines.append("A reply inherits every record of the filed messages its In-Reply-To/References name.")
            }
        case FilingStatus.unassigned.rawValue, "excluded:unmatched":
            let external = e.participants.filter { !$0.internal }.map(\.address)
            var seen = Set<String>()
            let unique = external.filter { seen.insert($0).inserted }
            lines.append("No rule matched a record of the CRM directory"
                + (reason == "unmatched" ? ", and rules.yaml says mode: matched_only, so unmatched mail is excluded." : "."))
            if e.stored {
                lines.append(unique.isEmpty ? "It has no external participant with an address."
                             : "External participants: " + unique.joined(separator: ", ") + ".")
            } else {
                lines.append("It was excluded when imported, so its participants were not kept.")
            }
            if e.stored && reason == "unmatched" { lines.append("Its content is kept: it was stored before it became unmatched.") }
        case FilingStatus.internal.rawValue:
            lines.append(e.participants.isEmpty ? "It has no participant with an address, so there is nobody outside to file it to."
                         : "All \(e.participants.count) participants are internal (staff or internal domains): nobody outside to file it to.")
        case FilingStatus.noise.rawValue:
            let strength = e.noise.map { $0.decisive ? "decisive signals, which no filing evidence outranks"
                                                    : "weak signals, and no tracking code or thread to a filed message outranked them" }
            lines.append("Machine-made mail (\(reason.isEmpty ? "noise" : reason)): noise is not filed" + (strength.map { "; \($0)." } ?? "."))
            lines.append(e.stored ? "It is kept in the archive, flagged (rules.yaml noise: store: true); search it with is:noise."
                                  : "Only its record is kept (rules.yaml noise: store: false): sender, date and subject, no content.")
        case "excluded:blacklist", "excluded:excluded_contact":
            let blacklist = reason == "blacklist"
            let test: (String) -> Bool = { blacklist ? index.isBlacklisted($0) : index.isExcludedContact($0) }
            var seen = Set<String>()
            e.triggers = e.participants.map(\.address).filter { test($0) && seen.insert($0).inserted }
            let what = reason == "blacklist" ? "a participant is blacklisted (rules.yaml blacklist)" : "a participant is a contact marked excluded"
            lines.append("Excluded: \(what).")
            if !e.stored {
                lines.append("It was excluded when imported, so its participants were not kept and the address cannot be named.")
            } else if e.triggers.isEmpty {
                lines.append("No participant is \(reason == "blacklist" ? "blacklisted" : "an excluded contact") in the CRM directory in force: run dossier rematch.")
            } else {
                let named = e.participants.filter { e.triggers.contains($0.address) }.map { "\($0.address) (\($0.role)\($0.note.map { ", " + $0 } ?? ""))" }
                var seenNamed = Set<String>()
                lines.append("Because of: " + named.filter { seenNamed.insert($0).inserted }.joined(separator: ", ") + ".")
                lines.append(keptNote)
            }
        case "excluded:window":
            e.window = window(run: run, index: index, db)
            let since = e.window?.since ?? "(open)", until = e.window?.until ?? "(open)"
            lines.append("Excluded: dated \(e.date.map(Timestamp.format) ?? "-"), outside the import window \(since) .. \(until) (\(e.window?.source ?? "-")).")
        case _ where e.status == FilingStatus.excluded.rawValue:
            lines.append("Excluded (\(reason)).")
        default:
            break
        }
        if let noise = e.noise, e.status != FilingStatus.noise.rawValue {
            if let kind = noise.kind, !noise.decisive, e.status == FilingStatus.filed.rawValue
                && e.matches.contains(where: { $0.rule == .trackingCode || $0.rule == .thread }) {
                lines.append("It looked like \(kind) (weak signals), but a tracking code or a thread to a filed message outranks those, so it is filed like a person's mail.")
            } else if noise.kind == nil {
                lines.append("Some signals of machine-made mail fired, too few to call it noise.")
            } else if let kind = noise.kind {
                lines.append("It looked like \(kind); a status ranked above noise, or a person's decision, applies.")
            }
        }
        if let noise = e.noise { lines.append("Noise signals: " + noise.signals.joined(separator: "; ") + ".") }
        if !e.manual.isEmpty {
            let count = e.manual.count
            lines.append("\(count) manual decision\(count == 1 ? "" : "s") (dossier assign/unassign), which rematch never overrides.")
        }
        return lines
    }

    /// The window the importing run applied: its `--since/--until`, else rules.yaml's.
    private static func window(run: Int64?, index: CRMIndex, _ db: Database) -> Window {
        if let run, let text = try? String.fetchOne(db, sql: "SELECT arguments FROM run WHERE id = ?", arguments: [run]),
           let arguments = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) {
            func value(_ name: String) -> String? {
                for (position, argument) in arguments.enumerated() {
                    if argument == name, position + 1 < arguments.count { return arguments[position + 1] }
                    if argument.hasPrefix(name + "=") { return String(argument.dropFirst(name.count + 1)) }
                }
                return nil
            }
            let since = value("--since"), until = value("--until")
            if since != nil || until != nil { return Window(since: since, until: until, source: "import run \(run): --since/--until") }
        }
        let rules = index.rules.window
        return Window(since: rules.sinceText, until: rules.untilText, source: "rules.yaml window")
    }

    /// What the directory says about one participant.
    private static func note(_ address: String, _ index: CRMIndex) -> String? {
        if let member = index.staff(forAddress: address) { return "staff \(member.id)" }
        if index.isInternal(address) {
            return "internal domain " + (CRMAddress.domain(of: index.key(address)).map(String.init) ?? "")
        }
        if index.isBlacklisted(address) {
            let key = index.key(address)
            if index.rules.blacklist.addresses.map(index.key).contains(key) { return "blacklisted (address)" }
            let domain = CRMAddress.domain(of: key).map { CRMAddress.suffixes(of: $0).map(String.init) } ?? []
            let listed = domain.first { index.rules.blacklist.domains.contains($0) }
            return "blacklisted (domain \(listed ?? "?"))"
        }
        if index.isExcludedContact(address) {
            let ids = index.contacts(forAddress: address).filter(\.excluded).map(\.id)
            return "excluded contact " + ids.joined(separator: ", ")
        }
        return nil
    }

    /// A record's name in the directory in force.
    static func name(of record: CRMRecordRef, in index: CRMIndex) -> String? {
        switch record.kind {
        case .account: return index.account(id: record.id)?.name
        case .contact: return index.contact(id: record.id)?.name
        case .lead:
            guard let lead = index.lead(id: record.id) else { return nil }
            return [lead.name, lead.company].compactMap { $0 }.joined(separator: ", ").nilIfEmpty
        case .case:
            guard let item = index.case(id: record.id) else { return nil }
            return [item.code, item.title].compactMap { $0 }.joined(separator: " ").nilIfEmpty
        }
    }
}

private extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
