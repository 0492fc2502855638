import Foundation

/// The kinds of machine-made mail (../shared/spec/filing-report.md), in the order they are
/// tried: a bounce is also automatic, and an automatic reply may also carry list headers, so the
/// most specific kind names a message.
public enum NoiseKind: String, Sendable, Codable, CaseIterable, Comparable {
    case bounce
    case readReceipt = "read_receipt"
    case meetingReply = "meeting_reply"
    case autoreply
    case newsletter
    case noreply

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: NoiseKind, rhs: NoiseKind) -> Bool { lhs.rank < rhs.rank }
}

/// One thing about a message that says a machine made it, as `dossier why` shows it.
public struct NoiseSignal: Sendable, Hashable, Codable {
    public var kind: NoiseKind
    /// What fired, e.g. `Auto-Submitted: auto-replied` or `subject "Automatic reply:" + out-of-office text`.
    public var evidence: String

    public init(_ kind: NoiseKind, _ evidence: String) {
        self.kind = kind
        self.evidence = evidence
    }

    /// `kind: evidence`, the stored form.
    public var description: String { "\(kind.rawValue): \(evidence)" }
}

/// What the noise stage found in one message.
public struct NoiseVerdict: Sendable, Equatable {
    /// The kind the message is, or nil when signals were seen but not enough of them.
    public var kind: NoiseKind?
    /// Proof rather than a hint: a delivery or disposition report, a calendar reply, an auto-reply
    /// header. A decisive verdict stands whatever the filing evidence ("a bounce is a bounce"); a
    /// weak one (list headers, a no-reply sender, wording) yields to a tracking code or a thread
    /// to a filed message, because then a person is most likely writing in a client's matter.
    public var isDecisive: Bool
    /// Every signal seen, of every kind (the deciding kind's first).
    public var signals: [NoiseSignal]

    public init(kind: NoiseKind?, isDecisive: Bool, signals: [NoiseSignal]) {
        self.kind = kind
        self.isDecisive = isDecisive
        self.signals = signals
    }

    /// The kind, when the verdict stands against this filing evidence.
    public func standingKind(trackingCode: Bool, thread: Bool) -> NoiseKind? {
        guard let kind else { return nil }
        return isDecisive || !(trackingCode || thread) ? kind : nil
    }

    /// The signals one per line, as stored in `message.noise_signals`.
    public var storedSignals: String { signals.map(\.description).joined(separator: "\n") }
}

/// The classify stage's noise detector: recognises bounces, read receipts, meeting replies,
/// automatic replies, newsletters and no-reply notifications from the message alone, and says how
/// sure it is (`NoiseVerdict`). Pure and `Sendable`: the import's workers share one.
///
/// It reads standard markers first (RFC 3464 delivery-status and RFC 8098 disposition reports,
/// RFC 3834 Auto-Submitted, RFC 2369/2919 list fields, iCalendar METHOD:REPLY), then the de facto
/// ones of Exchange, Gmail, Postfix and marketing platforms, then wording in several languages,
/// only ever in the sender's own text. When in doubt a message is not noise: wording alone needs a
/// second sign, and a person's words quoted in a reply are never read as the reply's.
public struct NoiseClassifier: Sendable {
    /// Whether a domain is the firm's own: list fields of the firm's own list server are not
    /// marketing (a client's reply relayed to a matter's list is a person writing).
    private let isInternalDomain: @Sendable (String) -> Bool
    private let phrases: PhraseMatcher
    private let phraseList: [String]
    private let groups: [Group: Range<Int>]

    private static let noReplyFragments = NoisePhrases.noReplyFragments.map { Array($0.utf8) }

    /// How many bytes of body text are read for wording: the sender's own words come first.
    static let bodyLimit = 4096

    private enum Group: CaseIterable {
        case outOfOffice, deliveryFailure, wasRead, automated, doNotReply
        var phrases: [String] {
            switch self {
            case .outOfOffice: return NoisePhrases.outOfOffice
            case .deliveryFailure: return NoisePhrases.deliveryFailure
            case .wasRead: return NoisePhrases.wasRead
            case .automated: return NoisePhrases.automated
            case .doNotReply: return NoisePhrases.doNotReply
            }
        }
    }

    public init(isInternalDomain: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.isInternalDomain = isInternalDomain
        var all: [String] = []
        var groups: [Group: Range<Int>] = [:]
        for group in Group.allCases {
            groups[group] = all.count..<(all.count + group.phrases.count)
            all += group.phrases
        }
        self.groups = groups
        phraseList = all
        phrases = PhraseMatcher(all)
    }

    /// The classifier of a CRM directory: its internal domains are the firm's own.
    public init(index: CRMIndex) {
        self.init(isInternalDomain: { [index] in index.isInternalDomain($0) })
    }

    /// The verdict on one message (`bytes` are those it was parsed from), or nil when nothing
    /// about it looks machine-made.
    public func classify(_ message: ParsedMessage, bytes: [UInt8]) -> NoiseVerdict? {
        var findings = Findings()
        let headers = HeaderFacts(message.root.headers)
        let subject = Self.subjectForMatching(message.subject)
        let sender = (message.from.first ?? message.sender.first)?.normalized ?? ""
        let senderLocal = sender.split(separator: "@", maxSplits: 1).first.map(String.init) ?? ""
        var body: Lazy<[Int]> = Lazy { [phrases] in Self.ownTextPhrases(message.bodyText, phrases) }
        func bodyHas(_ group: Group) -> String? {
            let range = groups[group]!
            return body.value.first(where: range.contains).map { "\"\(phraseList[$0])\"" }
        }

        // Bounce: a delivery-status report, or the mail system writing about a failure.
        let structure = ReportStructure(message.root)
        if let report = structure.deliveryStatus {
            findings.add(.bounce, report, decisive: true)
        }
        let daemon = NoisePhrases.mailDaemons.contains(senderLocal)
        let postmaster = senderLocal == "postmaster"
        let bounceSubject = Self.bounceSubjects.prefix(of: subject)
        if daemon || postmaster || bounceSubject != nil || headers.nullReturnPath {
            var signs: [String] = []
            if daemon || postmaster { signs.append("sender \(sender)") }
            if headers.nullReturnPath { signs.append("Return-Path: <> (null sender)") }
            if let bounceSubject { signs.append("subject \"\(bounceSubject)\"") }
            let failure = (daemon || postmaster || bounceSubject != nil) ? bodyHas(.deliveryFailure) : nil
            if let failure { signs.append("delivery failure text \(failure)") }
            let decisive = daemon && signs.count >= 2 || postmaster && bounceSubject != nil && (headers.nullReturnPath || failure != nil)
            let weak = daemon || bounceSubject != nil && (headers.nullReturnPath || failure != nil) || postmaster && signs.count >= 3
            findings.add(.bounce, signs.joined(separator: " + "), decisive: decisive, weak: weak)
        }

        // Read receipt: a disposition-notification report, or Outlook's "Read:" mail.
        if let report = structure.dispositionNotification {
            findings.add(.readReceipt, report, decisive: true)
        } else if let read = Self.readReceiptSubjects.prefix(of: subject) {
            let confirmed = bodyHas(.wasRead)
            findings.add(.readReceipt, "subject \"\(read)\"" + (confirmed.map { " + read-receipt text \($0)" } ?? ""),
                         decisive: false, weak: confirmed != nil)
        }

        // Meeting reply: only a calendar part answering an invitation; a subject names it.
        if let calendar = CalendarReply.find(in: message.root, bytes: bytes) {
            var evidence = calendar
            if let word = Self.meetingReplySubjects.prefix(of: subject) { evidence += " + subject \"\(word)\"" }
            findings.add(.meetingReply, evidence, decisive: true)
        }

        // Automatic reply: RFC 3834 and the de facto headers decide; so do a subject and text that
        // both say it. A subject alone is how people write about absences ("Out of office cover").
        if let header = headers.autoReplied {
            findings.add(.autoreply, header, decisive: true)
        }
        if let prefix = Self.autoreplySubjects.prefix(of: subject) {
            if let text = bodyHas(.outOfOffice) {
                findings.add(.autoreply, "subject \"\(prefix)\" + out-of-office text \(text)", decisive: true)
            } else if let generated = headers.autoGenerated {
                findings.add(.autoreply, "subject \"\(prefix)\" + \(generated)", decisive: true)
            } else {
                findings.add(.autoreply, "subject \"\(prefix)\"", decisive: false, weak: false)
            }
        }

        // Newsletter: list and marketing-platform fields, except the firm's own list server's.
        let bulk = headers.bulkSignals(isInternalDomain: isInternalDomain)
        if !bulk.isEmpty { findings.add(.newsletter, bulk.joined(separator: ", "), decisive: false) }

        // No-reply: a sender that takes no replies, an automatic notification, or text saying so.
        if NoisePhrases.mailDaemons.contains(senderLocal) == false && !senderLocal.isEmpty {
            let local = Array(senderLocal.utf8)
            if let fragment = Self.noReplyFragments.firstIndex(where: { local.contains(bytes: $0) }) {
                findings.add(.noreply, "sender \(sender) (\"\(NoisePhrases.noReplyFragments[fragment])\")", decisive: false)
            } else if NoisePhrases.notificationLocalParts.contains(senderLocal) {
                findings.add(.noreply, "notification-only sender \(sender)", decisive: false)
            }
        }
        if let generated = headers.autoGenerated { findings.add(.noreply, generated, decisive: false) }
        if let text = bodyHas(.automated) { findings.add(.noreply, "automated-message text \(text)", decisive: false) }
        if let text = bodyHas(.doNotReply) { findings.add(.noreply, "\"do not reply\" text \(text)", decisive: false, weak: false) }

        return findings.verdict()
    }

    // MARK: Pieces

    /// The subject as matched, as UTF-8: lower-cased (ASCII and beyond), leading space trimmed,
    /// and the no-break spaces French Outlook puts before a colon ("Réponse automatique\u{A0}:")
    /// made plain. Only the first 64 characters matter (prefixes are shorter). Byte work only:
    /// this runs on every message.
    static func subjectForMatching(_ subject: String?) -> [UInt8] {
        guard let subject, !subject.isEmpty else { return [] }
        var bytes: [UInt8]
        let head = subject.utf8.prefix(64)
        if head.allSatisfy({ $0 < 0x80 }) {
            bytes = Array(head)
            for i in bytes.indices where bytes[i] >= 65 && bytes[i] <= 90 { bytes[i] |= 0x20 }
        } else {
            bytes = Array(String(subject.prefix(64)).lowercased().utf8)
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var i = 0
            while i < bytes.count {
                if bytes[i] == 0xC2 && i + 1 < bytes.count && bytes[i + 1] == 0xA0 {
                    out.append(32); i += 2
                } else if bytes[i] == 0xE2 && i + 2 < bytes.count && bytes[i + 1] == 0x80 && bytes[i + 2] == 0xAF {
                    out.append(32); i += 3
                } else {
                    out.append(bytes[i]); i += 1
                }
            }
            bytes = out
        }
        let start = bytes.firstIndex { $0 != 32 && $0 != 9 } ?? bytes.count
        return start == 0 ? bytes : Array(bytes[start...])
    }

    /// Subject prefix lists as bytes: compared byte for byte (the subject is lower-cased the same
    /// way), not as Characters, which would cost Unicode work on every message.
    struct Prefixes: Sendable {
        let entries: [(text: String, bytes: [UInt8])]
        init(_ texts: [String]) { entries = texts.map { ($0, Array($0.utf8)) } }

        /// The entry the subject starts with.
        func prefix(of subject: [UInt8]) -> String? {
            guard let first = subject.first else { return nil }
            for entry in entries where entry.bytes[0] == first && subject.starts(with: entry.bytes) { return entry.text }
            return nil
        }
    }

    static let autoreplySubjects = Prefixes(NoisePhrases.autoreplySubjects)
    static let bounceSubjects = Prefixes(NoisePhrases.bounceSubjects)
    static let readReceiptSubjects = Prefixes(NoisePhrases.readReceiptSubjects)
    static let meetingReplySubjects = Prefixes(NoisePhrases.meetingReplySubjects)

    /// The phrases found in the text the sender wrote: the first `bodyLimit` bytes of the body,
    /// quoted lines ("> ...") skipped, up to the first divider of a forwarded or quoted message.
    static func ownTextPhrases(_ text: String, _ matcher: PhraseMatcher) -> [Int] {
        var text = text
        return text.withUTF8 { all -> [Int] in
            let bytes = UnsafeBufferPointer(rebasing: all.prefix(bodyLimit))
            var scan = PhraseMatcher.Scan()
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 10 { end += 1 }
                let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                if OwnText.isDivider(line) { break }
                if !OwnText.isQuoted(line) {
                    scan.feed(line, matcher)
                    scan.lineBreak(matcher)
                }
                start = end + 1
            }
            return scan.found
        }
    }
}

/// A value computed on first use (the body scan, needed by few messages).
private struct Lazy<Value> {
    private var compute: () -> Value
    private var cached: Value?
    init(_ compute: @escaping () -> Value) { self.compute = compute }
    var value: Value {
        mutating get {
            if let cached { return cached }
            let computed = compute()
            cached = computed
            return computed
        }
    }
}

/// The signals seen so far and which kinds they make, for `NoiseClassifier.classify`.
private struct Findings {
    var signals: [NoiseSignal] = []
    var decisive: Set<NoiseKind> = []
    var weak: Set<NoiseKind> = []

    /// Records a signal. `weak: false` records it for `why` without making the message noise.
    mutating func add(_ kind: NoiseKind, _ evidence: String, decisive isDecisive: Bool, weak isWeak: Bool = true) {
        signals.append(NoiseSignal(kind, evidence))
        if isDecisive { decisive.insert(kind) } else if isWeak { weak.insert(kind) }
    }

    func verdict() -> NoiseVerdict? {
        guard !signals.isEmpty else { return nil }
        let kind = decisive.min() ?? weak.min()
        let ordered = signals.filter { $0.kind == kind } + signals.filter { $0.kind != kind }
        return NoiseVerdict(kind: kind, isDecisive: kind.map(decisive.contains) ?? false, signals: ordered)
    }
}

/// The header fields the noise stage reads, looked up once per message.
private struct HeaderFacts {
    var autoSubmitted: String?
    var precedence: String?
    var returnPath: String?
    var xAutoreply: String?
    var xAutorespond: String?
    var xAutogenerated: String?
    var mailer: String?
    var listID: String?
    var listPost: String?
    /// Bulk-mail fields present (names as written).
    var bulk: [String] = []

    init(_ headers: HeaderList) {
        for field in headers.fields {
            // Every field this reads starts with a, f, l, p, r or x: skip the rest (Received,
            // DKIM-Signature, Content-*, ...) without making a lower-case copy of the name.
            guard let initial = field.name.utf8.first.map({ $0 | 0x20 }), Self.initials.contains(initial),
                  !field.name.caseInsensitiveEquals("received"), !field.name.caseInsensitiveEquals("references"),
                  !field.name.caseInsensitiveEquals("from") else { continue }
            let name = field.name.lowercased()
            switch name {
            case "auto-submitted": autoSubmitted = autoSubmitted ?? Self.value(field)
            case "precedence": precedence = precedence ?? Self.value(field)
            case "return-path": returnPath = returnPath ?? Self.value(field)
            case "x-autoreply", "x-mail-autoreply", "x-autoreply-from": xAutoreply = xAutoreply ?? field.name + ": " + Self.value(field)
            case "x-autorespond", "x-autoresponder": xAutorespond = xAutorespond ?? field.name + ": " + Self.value(field)
            case "x-autogenerated": xAutogenerated = xAutogenerated ?? Self.value(field)
            case "x-mailer": mailer = mailer ?? Self.value(field)
            default: break
            }
            // Only list-*, x-* and feedback-id can be bulk fields: skip the table for the rest.
            guard let first = name.utf8.first, first == UInt8(ascii: "l") || first == UInt8(ascii: "x") || first == UInt8(ascii: "f") else { continue }
            if name == "list-id" { listID = listID ?? Self.value(field) }
            if name == "list-post" { listPost = listPost ?? Self.value(field) }
            if Self.bulkNames.contains(name) || Self.bulkPrefixes.contains(where: { name.utf8.starts(with: $0) }) {
                bulk.append(field.name)
            }
        }
    }

    /// The value unfolded and decoded (it is shown by `why`, one signal per line), without the
    /// white space around it.
    static func value(_ field: HeaderField) -> String {
        let text = field.text
        let utf8 = text.utf8
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(text[first...last])
    }

    static let initials: Set<UInt8> = Set("aflprx".utf8)
    /// `NoisePhrases.bulkHeaders`: whole names, and the prefixes (those ending in "-").
    static let bulkNames: Set<String> = Set(NoisePhrases.bulkHeaders.filter { !$0.hasSuffix("-") })
    static let bulkPrefixes: [[UInt8]] = NoisePhrases.bulkHeaders.filter { $0.hasSuffix("-") }.map { Array($0.utf8) }

    var nullReturnPath: Bool {
        guard let returnPath else { return false }
        return returnPath.utf8.filter { $0 != 32 && $0 != 9 } == Array("<>".utf8)
    }

    /// The RFC 3834 token of Auto-Submitted, lower case ("no" means a person sent it).
    private var autoSubmittedToken: String? {
        guard let autoSubmitted else { return nil }
        let token = autoSubmitted.split(whereSeparator: { $0 == ";" || $0 == " " || $0 == "(" }).first.map { $0.lowercased() } ?? ""
        return token.isEmpty || token == "no" ? nil : token
    }

    /// The field saying this is an automatic reply.
    var autoReplied: String? {
        if autoSubmittedToken == "auto-replied" { return "Auto-Submitted: \(autoSubmitted!)" }
        if let xAutoreply, !["no", "false", "0"].contains(xAutoreply.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "") {
            return xAutoreply
        }
        if let xAutorespond { return xAutorespond }
        if let precedence, precedence.lowercased() == "auto_reply" { return "Precedence: \(precedence)" }
        if let xAutogenerated, xAutogenerated.lowercased() == "reply" { return "X-Autogenerated: \(xAutogenerated)" }
        return nil
    }

    /// The field saying this was generated automatically, but not as a reply.
    var autoGenerated: String? {
        guard let token = autoSubmittedToken, token != "auto-replied" else { return nil }
        return "Auto-Submitted: \(autoSubmitted!)"
    }

    /// List and marketing-platform signs, minus those of the firm's own list server.
    func bulkSignals(isInternalDomain: (String) -> Bool) -> [String] {
        let ownList = [listID.flatMap(Self.listIDDomain), listPost.flatMap(Self.mailtoDomain)]
            .compactMap { $0 }.contains(where: isInternalDomain)
        var signals: [String] = []
        for name in bulk {
            let lower = name.lowercased()
            if ownList && lower.hasPrefix("list-") { continue }
            signals.append(name)
        }
        if let precedence {
            let value = precedence.lowercased()
            if value == "bulk" || value == "junk" || (value == "list" && !ownList) { signals.append("Precedence: \(precedence)") }
        }
        if let mailer {
            let lower = mailer.lowercased()
            if NoisePhrases.bulkMailers.contains(where: lower.contains) { signals.append("X-Mailer: \(mailer)") }
        }
        return signals
    }

    /// `Name <list.example.org>` -> the domain part of the list's identifier, from the first dot
    /// after its local name (RFC 2919 ids are `local.domain`).
    static func listIDDomain(_ value: String) -> String? {
        guard let open = value.lastIndex(of: "<"), let close = value.lastIndex(of: ">"), open < close else { return nil }
        let id = value[value.index(after: open)..<close].lowercased()
        guard let dot = id.firstIndex(of: ".") else { return nil }
        return String(id[id.index(after: dot)...])
    }

    /// `<mailto:list@example.org>` -> `example.org`.
    static func mailtoDomain(_ value: String) -> String? {
        guard let at = value.lastIndex(of: "@") else { return nil }
        let rest = value[value.index(after: at)...]
        let domain = rest.prefix { $0 != ">" && $0 != "?" && !$0.isWhitespace }
        return domain.isEmpty ? nil : domain.lowercased()
    }
}

/// Reports of RFC 6522 found in a message's own parts (never inside a message it attaches: a
/// person forwarding a bounce is writing, not bouncing).
private struct ReportStructure {
    var deliveryStatus: String?
    var dispositionNotification: String?

    init(_ root: MIMEEntity) {
        visit(root, depth: 0)
    }

    private mutating func visit(_ entity: MIMEEntity, depth: Int) {
        guard depth < 8 else { return }
        let type = entity.contentType
        if type.type == "multipart" && type.subtype == "report" {
            switch type.parameters["report-type"]?.lowercased() {
            case "delivery-status", "global-delivery-status":
                deliveryStatus = deliveryStatus ?? "multipart/report; report-type=\(type.parameters["report-type"]!.lowercased())"
            case "disposition-notification", "global-disposition-notification":
                dispositionNotification = dispositionNotification
                    ?? "multipart/report; report-type=\(type.parameters["report-type"]!.lowercased())"
            default:
                break
            }
        }
        if type.type == "message" {
            switch type.subtype {
            case "delivery-status", "global-delivery-status":
                deliveryStatus = deliveryStatus ?? "a message/\(type.subtype) part"
            case "disposition-notification", "global-disposition-notification":
                dispositionNotification = dispositionNotification ?? "a message/\(type.subtype) part"
            default:
                break
            }
        }
        for child in entity.children { visit(child, depth: depth + 1) }
    }
}

/// An iCalendar answer to an invitation (METHOD:REPLY) among a message's own parts.
private enum CalendarReply {
    static func find(in root: MIMEEntity, bytes: [UInt8]) -> String? {
        var found: String?
        func visit(_ entity: MIMEEntity, depth: Int) {
            guard found == nil, depth < 8 else { return }
            let type = entity.contentType
            let calendar = (type.type == "text" && type.subtype == "calendar") || (type.type == "application" && type.subtype == "ics")
            if calendar {
                if type.parameters["method"]?.lowercased() == "reply" {
                    found = "\(type.mimeType); method=REPLY"
                    return
                }
                if hasReplyMethod(entity.decodedBody(in: bytes)) {
                    found = "\(type.mimeType) with METHOD:REPLY"
                    return
                }
            }
            for child in entity.children { visit(child, depth: depth + 1) }
        }
        visit(root, depth: 0)
        return found
    }

    /// A `METHOD:REPLY` line in iCalendar text (folded lines and case as RFC 5545 allows).
    static func hasReplyMethod(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes.prefix(1 << 16), as: UTF8.self).uppercased()
        return text.split(whereSeparator: \.isNewline).contains { line in
            line.trimmingCharacters(in: .whitespaces) == "METHOD:REPLY"
        }
    }
}

/// Where a sender's own words end in a body: quoted lines and forwarded or original-message dividers.
enum OwnText {
    static func isQuoted(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < line.count && (line[i] == 32 || line[i] == 9) { i += 1 }
        return i < line.count && line[i] == UInt8(ascii: ">")
    }

    /// Dividers mail programs write before quoted or forwarded mail: `-----Original Message-----`,
    /// `---------- Forwarded message ---------`, Outlook's line of underscores, "Begin forwarded
    /// message:", and the "On ... wrote:" attribution line and its translations.
    static func isDivider(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        while start < line.count && (line[start] == 32 || line[start] == 9) { start += 1 }
        var end = line.count
        while end > start && (line[end - 1] == 32 || line[end - 1] == 9 || line[end - 1] == 13) { end -= 1 }
        guard end > start else { return false }
        let trimmed = UnsafeBufferPointer(rebasing: line[start..<end])
        if trimmed.count >= 5 && (trimmed.prefix(5).allSatisfy { $0 == UInt8(ascii: "-") } || trimmed.prefix(5).allSatisfy { $0 == UInt8(ascii: "_") }) {
            return true
        }
        // The rest end in a colon: only those lines are worth a string.
        guard trimmed.count < 300, trimmed.last == UInt8(ascii: ":") else { return false }
        let text = String(decoding: trimmed, as: UTF8.self).lowercased()
        return text.hasPrefix("begin forwarded message") || attributionEndings.contains { text.hasSuffix($0) }
    }

    static let attributionEndings = [
        "wrote:", "schrieb:", "a écrit :", "a écrit:", "escribió:", "ha scritto:", "schreef:", "escreveu:", "napisał:",
        "napisał(a):", "napisała:", "のメッセージ:", "написал:",
    ]
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in these bytes (short strings: a plain scan).
    func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
