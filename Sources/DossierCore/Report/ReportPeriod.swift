import Foundation

/// A length of time for a report's trend: `90d`, `30d`, `12w`, `6m`, `1y` (days, weeks, calendar
/// months, calendar years; UTC). Months and years are calendar arithmetic: 6m before 31 August is
/// 29 February (or the 28th), not 180 days.
public struct ReportPeriod: Sendable, Equatable, CustomStringConvertible, Encodable {
    public enum Unit: String, Sendable, CaseIterable, Encodable {
        case day = "d", week = "w", month = "m", year = "y"
    }

    public var count: Int
    public var unit: Unit

    public init(count: Int, unit: Unit) {
        self.count = count
        self.unit = unit
    }

    /// Parses `NUMBER` followed by `d`, `w`, `m` or `y` (a positive number, at most 9999).
    public init?(_ text: String) {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let last = text.last, let unit = Unit(rawValue: String(last)),
              let count = Int(text.dropLast()), count > 0, count <= 9999 else { return nil }
        self.init(count: count, unit: unit)
    }

    /// `90d`.
    public var description: String { "\(count)\(unit.rawValue)" }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The instant one period before `date`.
    public func before(_ date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let component: Calendar.Component
        var value = -count
        switch unit {
        case .day: component = .day
        case .week: component = .day; value *= 7
        case .month: component = .month
        case .year: component = .year
        }
        return calendar.date(byAdding: component, value: value, to: date) ?? date
    }

    /// The accepted spellings, for error messages.
    public static let help = "a number and d, w, m or y: 90d, 30d, 12w, 6m, 1y"
}

/// The reference time of a report (`--as-of`): a day `YYYY-MM-DD` means the end of that day (UTC),
/// so its mail is included; an RFC 3339 time means that instant.
public enum ReportTime {
    /// The instant `text` names, or nil.
    public static func parse(_ text: String) -> Date? {
        if let day = DateWindow.day(text) { return day.addingTimeInterval(86_400) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
