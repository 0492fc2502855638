import Foundation

/// How directory cells and rules.yaml values are read, shared by the CSV files and rules.yaml.
enum CRMValues {
    /// `text` without leading and trailing whitespace. Most cells have none, and Foundation's
    /// trimming costs about 3 µs a call on Linux (1.5 s for a 100k-contact directory), so the
    /// common case is decided on the first and last byte.
    static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last else { return text }
        // Bytes >= 0x80 may start or end a Unicode space (no-break space): Foundation decides.
        func mayBeSpace(_ byte: UInt8) -> Bool { byte <= 0x20 || byte >= 0x80 }
        if !mayBeSpace(first) && !mayBeSpace(last) { return text }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// true/false, yes/no, 1/0 in any case; nil for anything else.
    static func bool(_ text: String) -> Bool? {
        switch trimmed(text).lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: return nil
        }
    }

    /// A multi-valued cell: `;`-separated, each value trimmed, empty values dropped.
    static func list(_ text: String) -> [String] {
        text.split(separator: ";", omittingEmptySubsequences: true)
            .map { trimmed(String($0)) }
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
