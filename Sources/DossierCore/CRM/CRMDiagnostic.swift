import Foundation

/// An error or warning about one place in the CRM directory: `file:line:column: message`.
/// `file` is the name inside the directory (`contacts.csv`). `line` and `column` are 1-based;
/// 0 means "the whole file" or "the whole line" (a missing file, a missing column).
/// CSV columns count fields (as a spreadsheet does); rules.yaml columns count characters.
public struct CRMDiagnostic: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// A CRM directory that cannot be loaded: every error found, in file order, not just the first,
/// so one round of fixes can address them all. Nothing of the directory is used.
public struct CRMLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [CRMDiagnostic]
    /// Warnings found along the way (reported with the errors).
    public var warnings: [CRMDiagnostic]
    /// The text of rules.yaml when it could be read, kept with the failed load's record.
    public var rulesSource: String?

    public init(errors: [CRMDiagnostic], warnings: [CRMDiagnostic] = [], rulesSource: String? = nil) {
        self.errors = errors
        self.warnings = warnings
        self.rulesSource = rulesSource
    }

    public var description: String {
        "the CRM directory has \(errors.count) error\(errors.count == 1 ? "" : "s"):\n"
            + errors.map(\.description).joined(separator: "\n")
    }
}
