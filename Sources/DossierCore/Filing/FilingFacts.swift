import Foundation

/// What the filing rules look at in one message, extracted once by the parsing worker.
public struct FilingFacts: Sendable {
    /// (role, lowercased address) for From, Sender, Reply-To, To, Cc and Bcc.
    public var participants: [(role: String, address: String)]
    public var subject: String
    /// Raw header values, where CRMs hide tracking codes (e.g. an X-header); decoded only when
    /// a pattern's fixed text is there.
    public var headerValues: [[UInt8]]
    /// The indexed body text, quoted replies included.
    public var bodyText: String
    /// In-Reply-To first, then References, without angle brackets.
    public var references: [String]

    public init(participants: [(role: String, address: String)], subject: String, headerValues: [[UInt8]],
                bodyText: String, references: [String]) {
        self.participants = participants
        self.subject = subject
        self.headerValues = headerValues
        self.bodyText = bodyText
        self.references = references
    }

    /// The facts of a parsed message.
    public init(_ parsed: ParsedMessage) {
        var participants: [(role: String, address: String)] = []
        let roles: [(String, [MailAddress])] = [
            ("from", parsed.from), ("sender", parsed.sender), ("reply-to", parsed.replyTo),
            ("to", parsed.to), ("cc", parsed.cc), ("bcc", parsed.bcc),
        ]
        for (role, list) in roles {
            for address in list where !address.address.isEmpty {
                participants.append((role, address.normalized))
            }
        }
        var references = parsed.inReplyTo
        for id in parsed.references where !references.contains(id) { references.append(id) }
        self.init(participants: participants, subject: parsed.subject ?? "", headerValues: parsed.root.headers.fields.map(\.rawValue),
                  bodyText: parsed.bodyText, references: references)
    }

    /// Distinct participant addresses, in order of appearance.
    public var addresses: [String] {
        var seen = Set<String>()
        return participants.map(\.address).filter { seen.insert($0).inserted }
    }
}
