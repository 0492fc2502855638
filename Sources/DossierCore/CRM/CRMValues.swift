import Foundation

/// How directory cells and rules.yaml values are read, shared by the CSV files and rules.yaml.
enum CRMValues {
    /// true/false, yes/no, 1/0 in any case; nil for anything else.
    static func bool(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: return nil
        }
    }

    /// A multi-valued cell: `;`-separated, each value trimmed, empty values dropped.
    static func list(_ text: String) -> [String] {
        text.split(separator: ";", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }

    /// The instants a window bound covers: a day (`2024-01-31`) is that whole day in UTC, an
    /// RFC 3339 time (`2024-01-31T18:00:00+01:00`) is that second. `end` is exclusive.
    static func dateBounds(_ text: String) -> (start: Date, end: Date)? {
        if let day = DateWindow.day(text) { return (day, day.addingTimeInterval(86_400)) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var date = formatter.date(from: text)
        if date == nil {
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            date = formatter.date(from: text)
        }
        guard let date else { return nil }
        // Message dates have whole seconds: the bound's second is inside, the next one is not.
        let second = date.timeIntervalSince1970.rounded(.down)
        return (date, Date(timeIntervalSince1970: second + 1))
    }
}
