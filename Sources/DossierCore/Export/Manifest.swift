import Crypto
import Foundation

/// One file of an export as the manifest lists it.
public struct ManifestEntry: Sendable, Equatable, Codable {
    public var path: String
    public var size: Int64
    public var sha256: String
    /// The hash chain's value after this entry (see `ManifestChain`).
    public var chain: String

    public init(path: String, size: Int64, sha256: String, chain: String) {
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.chain = chain
    }
}

/// A hash chain over the manifest's entries: each link is
///
///     chain[i] = SHA-256( chain[i-1] "\n" path "\n" size "\n" sha256 )   (hex digests, UTF-8)
///     chain[-1] = SHA-256( "dossier-export-1" )
///
/// so the last link (the *head*) fixes every entry, their order and their number: changing,
/// adding, removing or reordering any entry changes the head. Given the head (printed when the
/// export is made, signed with the manifest), completeness is provable from the manifest alone.
public struct ManifestChain: Sendable {
    public static let format = "dossier-export-1"
    public static var seed: String { ContentHash.sha256Hex(Array(format.utf8)) }

    public private(set) var head: String = ManifestChain.seed
    public private(set) var entries: [ManifestEntry] = []

    public init() {}

    /// The link after `previous` for one file.
    public static func link(_ previous: String, path: String, size: Int64, sha256: String) -> String {
        ContentHash.sha256Hex(Array("\(previous)\n\(path)\n\(size)\n\(sha256)".utf8))
    }

    /// Appends one file.
    public mutating func append(path: String, size: Int64, sha256: String) {
        head = Self.link(head, path: path, size: size, sha256: sha256)
        entries.append(ManifestEntry(path: path, size: size, sha256: sha256, chain: head))
    }
}

/// `manifest.json`: every file of the export with its size, SHA-256 and chain link, the chain's
/// head, and a copy of `export.json`'s parameters for a reader's convenience (the authoritative
/// copy is `export.json` itself, which is an entry of the chain).
public struct Manifest: Sendable, Codable, Equatable {
    public var format: String
    public var record: String
    public var createdAt: String
    public var parameters: ExportParameters
    public var chainSeed: String
    public var chainHead: String
    public var files: [ManifestEntry]

    enum CodingKeys: String, CodingKey {
        case format, record, parameters, files
        case createdAt = "created_at"
        case chainSeed = "chain_seed"
        case chainHead = "chain_head"
    }

    public init(record: String, createdAt: String, parameters: ExportParameters, chain: ManifestChain) {
        format = ManifestChain.format
        self.record = record
        self.createdAt = createdAt
        self.parameters = parameters
        chainSeed = ManifestChain.seed
        chainHead = chain.head
        files = chain.entries
    }

    /// Pretty-printed JSON with sorted keys: stable bytes for the same export, diff-friendly.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [10]
    }

    /// `manifest.csv`: path, size, sha256, chain; one row per file, in chain order.
    public func csv() -> [UInt8] {
        var text = "path,size,sha256,chain\n"
        for file in files { text += CSVLine.row([file.path, String(file.size), file.sha256, file.chain]) }
        return Array(text.utf8)
    }
}

/// What an export was made from and with: written as `export.json` (an entry of the manifest)
/// and repeated in `manifest.json`.
public struct ExportParameters: Sendable, Codable, Equatable {
    public var record: String
    public var recordName: String?
    public var includedRecords: [String]
    public var withSubsidiaries: Bool
    public var scope: String
    public var since: String?
    public var until: String?
    public var group: String?
    public var query: String?
    public var createdAt: String
    public var dossierVersion: String
    /// The archive the export came from.
    public var archive: ArchiveState
    public var counts: Counts

    public struct ArchiveState: Sendable, Codable, Equatable {
        public var path: String
        /// The CRM load in force (`dossier crm status`), nil when none was loaded.
        public var crmLoad: Int64?
        public var crmLoadedAt: String?
        public var crmSource: String?
        /// Every run that changed the archive before the export, with the last one's id and time.
        public var runs: Int
        public var lastRun: Int64?
        public var lastRunFinishedAt: String?
        /// Messages in the archive (any status) when the export was made.
        public var messages: Int

        enum CodingKeys: String, CodingKey {
            case path, runs, messages
            case crmLoad = "crm_load"
            case crmLoadedAt = "crm_loaded_at"
            case crmSource = "crm_source"
            case lastRun = "last_run"
            case lastRunFinishedAt = "last_run_finished_at"
        }
    }

    public struct Counts: Sendable, Codable, Equatable {
        public var messages: Int
        public var attachments: Int
        public var attachmentFiles: Int
        public var leftOut: Int
        public var bytes: Int64

        enum CodingKeys: String, CodingKey {
            case messages, attachments, bytes
            case attachmentFiles = "attachment_files"
            case leftOut = "left_out"
        }
    }

    enum CodingKeys: String, CodingKey {
        case record, scope, since, until, group, query, archive, counts
        case recordName = "record_name"
        case includedRecords = "included_records"
        case withSubsidiaries = "with_subsidiaries"
        case createdAt = "created_at"
        case dossierVersion = "dossier_version"
    }
}

/// RFC 4180 fields for the export's CSV files.
public enum CSVLine {
    /// One row: fields quoted when they hold a comma, a quote or a line break; CRLF-free (`\n`).
    public static func row(_ fields: [String]) -> String {
        fields.map(quote).joined(separator: ",") + "\n"
    }

    public static func quote(_ field: String) -> String {
        // A leading =, +, -, @ would make a spreadsheet run the field as a formula (CSV injection):
        // mail is untrusted, and these files are opened in Excel.
        var value = field
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), !isNumber(value) {
            value = "'" + value
        }
        if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }

    private static func isNumber(_ value: String) -> Bool { Double(value) != nil }
}
