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

/// Writes `manifest.csv` and `manifest.json` while the export is written, without keeping the
/// entries in memory: each is appended to manifest.csv and to a scratch file of JSON objects as
/// its file is written, and manifest.json is assembled from that scratch at the end. A
/// 50,000-message export lists over 100,000 files; held and encoded at once they were the
/// export's largest allocation.
final class ManifestWriter {
    private(set) var head = ManifestChain.seed
    private(set) var count = 0
    private(set) var bytes: Int64 = 0
    private let sink: ExportSink
    private let csv: StreamedFile
    private let entries: StreamedFile

    init(sink: ExportSink) throws {
        self.sink = sink
        csv = try StreamedFile(path: ExportLayout.manifestCSV, sink: sink)
        entries = try StreamedFile(path: ".manifest-entries.tmp", sink: sink)
        try csv.append(Array("path,size,sha256,chain\n".utf8))
    }

    func append(path: String, size: Int64, sha256: String) throws {
        head = ManifestChain.link(head, path: path, size: size, sha256: sha256)
        try csv.append(Array(CSVLine.row([path, String(size), sha256, head]).utf8))
        let entry = (count == 0 ? "" : ",\n") + "    {\n      \"chain\" : \"\(head)\",\n      \"path\" : \(JSONText.string(path)),\n"
            + "      \"sha256\" : \"\(sha256)\",\n      \"size\" : \(size)\n    }"
        try entries.append(Array(entry.utf8))
        count += 1
        bytes += size
    }

    /// Writes manifest.json (keys in the order JSONEncoder's `.sortedKeys` gives, so it reads
    /// like every other JSON file of the export) and manifest.csv. Returns manifest.json's
    /// SHA-256, and its bytes when `keepBytes` (to sign them: Ed25519 signs a whole message).
    func finish(record: String, createdAt: String, parameters: ExportParameters, keepBytes: Bool) throws -> (sha256: [UInt8], bytes: [UInt8]?) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let encodedParameters = String(decoding: try encoder.encode(parameters), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
        let json = try StreamedFile(path: ExportLayout.manifestJSON, sink: sink, keepingBytes: keepBytes)
        try json.append(Array("""
            {
              "chain_head" : "\(head)",
              "chain_seed" : "\(ManifestChain.seed)",
              "created_at" : \(JSONText.string(createdAt)),
              "files" : [

            """.utf8))
        try entries.copy(into: json)
        entries.discard()
        try json.append(Array("""

              ],
              "format" : "\(ManifestChain.format)",
              "parameters" : \(encodedParameters),
              "record" : \(JSONText.string(record))
            }

            """.utf8))
        let kept = json.keptBytes
        let (_, digest) = try json.finish()
        _ = try csv.finish()
        return (Array(hexBytes: digest), kept)
    }
}

extension Array where Element == UInt8 {
    /// The bytes of a lowercase hex string.
    init(hexBytes hex: String) {
        let digits = Array(hex.utf8)
        func value(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
        self = stride(from: 0, to: digits.count - 1, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
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
    /// true for `--all-copies` (every content of each message); absent otherwise.
    public var allCopies: Bool? = nil
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
        case allCopies = "all_copies"
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
