import Foundation
import GRDB

/// One line of `dossier report assignments` (../shared/spec/filing-report.md): where one unique
/// message went and why.
public struct AssignmentLine: Sendable, Equatable {
    public struct Source: Sendable, Equatable {
        public var mailbox: String
        public var path: String
        /// Byte offset of the message in an mbox; nil for a file holding one message.
        public var offset: Int64?
        /// SHA-256 of this copy's bytes: copies sharing a Message-ID may differ, and this says
        /// which copy had which (the line's own `sha256` is the first stored content's; see
        /// `report duplicates`). Nil when nothing of the input could be read.
        public var sha256: String? = nil
    }

    public var key: String
    public var messageID: String?
    public var sha256: String?
    public var status: String
    public var reason: String?
    public var accounts: [String] = []
    public var contacts: [String] = []
    public var leads: [String] = []
    public var cases: [String] = []
    public var evidence: String?
    public var date: Date?
    public var sources: [Source] = []

    /// The line as JSON, keys in the spec's order.
    public var json: String {
        var out = "{"
        out += "\"key\":" + JSONText.string(key)
        out += ",\"message_id\":" + JSONText.optional(messageID)
        out += ",\"sha256\":" + JSONText.optional(sha256)
        out += ",\"status\":" + JSONText.string(status)
        out += ",\"reason\":" + JSONText.optional(reason)
        out += ",\"accounts\":" + JSONText.array(accounts)
        out += ",\"contacts\":" + JSONText.array(contacts)
        out += ",\"leads\":" + JSONText.array(leads)
        out += ",\"cases\":" + JSONText.array(cases)
        out += ",\"evidence\":" + JSONText.optional(evidence)
        out += ",\"date\":" + JSONText.optional(date.map(Timestamp.format))
        out += ",\"sources\":[" + sources.map { source in
            "{\"mailbox\":" + JSONText.string(source.mailbox) + ",\"path\":" + JSONText.string(source.path)
                + ",\"offset\":" + (source.offset.map(String.init) ?? "null") + ",\"sha256\":" + JSONText.optional(source.sha256) + "}"
        }.joined(separator: ",") + "]"
        return out + "}"
    }
}

/// Builds the assignments report: every unique message (stored or excluded) in import order,
/// then every quarantined input (one line per distinct bytes), streamed to `emit`.
public enum AssignmentsReport {
    public static func write(_ db: Database, emit: (AssignmentLine) throws -> Void) throws {
        let records = try db.cachedStatement(sql: "SELECT DISTINCT kind, record FROM filing_match WHERE message = ? ORDER BY kind, record")
        let sources = try db.cachedStatement(sql: "SELECT mailbox, path, offset, sha256 FROM copy WHERE message = ? ORDER BY id")
        let rows = try Row.fetchCursor(db, sql: """
            SELECT id, key, message_id, sha256, status, reason, filing, filing_reason, evidence, date FROM message ORDER BY id
            """)
        while let row = try rows.next() {
            let id: Int64 = row["id"]
            let stored = (row["status"] as String) == "stored"
            var line = AssignmentLine(
                key: row["key"], messageID: row["message_id"], sha256: row["sha256"],
                status: row["filing"] ?? (stored ? FilingStatus.unassigned.rawValue : FilingStatus.excluded.rawValue),
                reason: row["filing_reason"] ?? (stored ? nil : row["reason"]),
                evidence: row["evidence"],
                date: (row["date"] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0)) })
            for record in try Row.fetchAll(records, arguments: [id]) {
                let recordID: String = record[1]
                switch CRMRecordKind(rawValue: record[0]) {
                case .account: line.accounts.append(recordID)
                case .contact: line.contacts.append(recordID)
                case .lead: line.leads.append(recordID)
                case .case: line.cases.append(recordID)
                case nil: break
                }
            }
            line.sources = try Row.fetchAll(sources, arguments: [id]).map(source)
            try emit(line)
        }
        // Quarantined inputs: one line per distinct bytes (per path when nothing could be read).
        var seen: [String: Int] = [:]
        var pending: [AssignmentLine] = []
        let emptySHA = ContentHash.sha256Hex([])
        for row in try Row.fetchAll(db, sql: "SELECT mailbox, path, offset, reason, size, sha256 FROM quarantine ORDER BY id") {
            // Empty files are all the same bytes: one message, as the spec's identity rule says.
            let sha: String? = row["sha256"] ?? ((row["size"] as Int64) == 0 && (row["reason"] as String) == "empty file" ? emptySHA : nil)
            let group = sha ?? "path:" + (row["path"] as String)
            let entry = source(row)
            if let index = seen[group] {
                if !pending[index].sources.contains(entry) { pending[index].sources.append(entry) }
                continue
            }
            seen[group] = pending.count
            pending.append(AssignmentLine(
                key: "quarantine:" + (sha.map { String($0.prefix(16)) } ?? String(ContentHash.sha256Hex(Array(group.utf8)).prefix(16))),
                messageID: nil, sha256: sha, status: FilingStatus.quarantined.rawValue, reason: row["reason"],
                sources: [entry]))
        }
        for line in pending { try emit(line) }
    }

    private static func source(_ row: Row) -> AssignmentLine.Source {
        let offset: Int64 = row["offset"]
        return AssignmentLine.Source(mailbox: row["mailbox"], path: row["path"], offset: offset < 0 ? nil : offset, sha256: row["sha256"])
    }
}

/// Minimal JSON text for hand-ordered objects.
enum JSONText {
    static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func optional(_ value: String?) -> String { value.map(string) ?? "null" }

    static func array(_ values: [String]) -> String { "[" + values.map(string).joined(separator: ",") + "]" }
}
