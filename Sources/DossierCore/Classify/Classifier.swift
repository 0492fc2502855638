import Foundation

/// What the classify stage decides for one message before it is stored.
public enum ImportDecision: Sendable, Equatable {
    /// Store the message with its content.
    case keep
    /// Keep only the record that the message was seen and why it was left out; no content.
    case exclude(reason: String)
}

/// One rule of the classify stage. Rules run in order between parsing and storing; the first
/// that returns a decision wins, and a message no rule decides is kept. Filing and noise rules of
/// later stages plug in here.
public protocol MessageClassifier: Sendable {
    func decide(_ message: ParsedMessage, at location: MessageLocation) -> ImportDecision?
}

/// The historic import window (`--since`/`--until`, rules.yaml `window`). A message whose date
/// cannot be read is never excluded by the window: losing it would be worse than keeping it.
public struct DateWindow: MessageClassifier, Equatable {
    /// First instant inside the window, or nil for no lower bound.
    public var since: Date?
    /// First instant after the window, or nil for no upper bound.
    public var before: Date?

    public init(since: Date? = nil, before: Date? = nil) {
        self.since = since
        self.before = before
    }

    public static let unbounded = DateWindow()

    public var isUnbounded: Bool { since == nil && before == nil }

    public func contains(_ date: Date?) -> Bool {
        guard let date else { return true }
        if let since, date < since { return false }
        if let before, date >= before { return false }
        return true
    }

    public func decide(_ message: ParsedMessage, at location: MessageLocation) -> ImportDecision? {
        contains(message.date) ? nil : .exclude(reason: "window")
    }

    /// Parses a day (`2024-01-31`) as midnight UTC; nil when it is not a valid day.
    public static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components),
              calendar.component(.day, from: date) == day else { return nil }
        return date
    }

    /// `--since DAY --until DAY`, both inclusive days in UTC.
    public static func days(since: String?, until: String?) throws -> DateWindow {
        var window = DateWindow()
        if let since {
            guard let date = day(since) else { throw WindowError.badDay(since) }
            window.since = date
        }
        if let until {
            guard let date = day(until) else { throw WindowError.badDay(until) }
            window.before = date.addingTimeInterval(86_400)
        }
        if let start = window.since, let end = window.before, start >= end {
            throw WindowError.empty
        }
        return window
    }

    public enum WindowError: Error, CustomStringConvertible {
        case badDay(String)
        case empty
        public var description: String {
            switch self {
            case .badDay(let text): return "'\(text)' is not a day; use YYYY-MM-DD"
            case .empty: return "--since is after --until: the window is empty"
            }
        }
    }
}
