import Foundation

/// Why a filing command (`why`, `assign`, `unassign`, `rematch`) cannot do what was asked. All of
/// them are the user's input or the archive's state, never a failure of the archive itself.
public enum FilingError: Error, Sendable, CustomStringConvertible, Equatable {
    /// No `crm load` has succeeded in this archive yet.
    case noDirectory
    /// Not `account:ID`, `contact:ID`, `lead:ID` or `case:ID`.
    case badRecord(String)
    /// The active CRM directory has no such record.
    case unknownRecord(CRMRecordRef)
    /// A case code that names several cases.
    case ambiguousRecord(String, [CRMRecordRef])
    /// The message was excluded when imported: only its record was kept, there is nothing to file.
    case noContent(key: String, reason: String?)
    /// A blacklisted participant or an excluded contact: no manual decision overrides that.
    case excluded(key: String, reason: String)
    /// `unassign` of a record the message is not filed to.
    case notFiledTo(key: String, record: CRMRecordRef)

    public var description: String {
        switch self {
        case .noDirectory:
            return "no CRM directory is loaded in this archive (dossier crm load DIR)"
        case .badRecord(let text):
            return "'\(text)' is not a record; write account:ID, contact:ID, lead:ID or case:ID"
        case .unknownRecord(let record):
            return "the CRM directory in force has no \(record.kind.rawValue) '\(record.id)' (dossier crm status)"
        case .ambiguousRecord(let text, let records):
            return "'\(text)' names \(records.count) records (\(records.map(\.description).joined(separator: ", "))); give the id"
        case .noContent(let key, let reason):
            return "message \(key) was excluded when imported\(reason.map { " (\($0))" } ?? ""): only its record was kept, so it cannot be filed"
                + " (import its mail again once it is no longer excluded)"
        case .excluded(let key, let reason):
            let why = reason == "blacklist" ? "a participant is blacklisted" : reason == "excluded_contact"
                ? "a participant is a contact marked excluded" : reason
            return "message \(key) is excluded (\(why)): a manual decision cannot override that (see dossier why \(key))"
        case .notFiledTo(let key, let record):
            return "message \(key) is not filed to \(record) (see dossier why \(key))"
        }
    }
}
