import Foundation

/// RFC 5322 dates and the broken forms common in real mail, normalised to UTC.
/// An unreadable date is nil: never a crash, never "now".
public enum DateParser {
    public static func parse(_ raw: [UInt8]) -> Date? {
        // TODO(MIME headers)
        nil
    }
}
