import Foundation
import GRDB

/// What one drop-folder run did: the import's ledger, and where each file went.
public struct DropReport: Sendable, Codable {
    /// A file moved out of the drop folder.
    public struct Moved: Sendable, Codable, Equatable {
        /// Where it was, relative to the drop folder.
        public var file: String
        /// Where it is now, relative to the drop folder.
        public var to: String
        /// Why it was quarantined (nil for processed files).
        public var reason: String?
    }

    public var folder: String
    public var settleSeconds: Double
    public var ledger: RunLedger
    public var processed: [Moved] = []
    public var quarantined: [Moved] = []
    /// Files left in the drop folder for the next run, with the reason.
    public var left: [DropFolder.Left] = []
    /// The copy of this report kept in the archive (`reports/...json`), relative to the archive.
    public var savedAs: String?

    /// Whether anything was quarantined: a file of the drop folder, or a message inside one.
    public var hasQuarantine: Bool { !quarantined.isEmpty || ledger.quarantined > 0 }

    enum CodingKeys: String, CodingKey {
        case folder, ledger, processed, quarantined, left
        case settleSeconds = "settle_seconds"
        case savedAs = "saved_as"
    }
}

/// `dossier import --drop DIR`: takes the archive's writer lock at once (a second run exits with
/// `ArchiveBusy` before it looks at anything), takes the files that have settled, imports them as
/// one run, makes the database durable, then moves each file to processed/ or quarantine/ (see
/// `DropFolder` for the rules), and keeps the report in the archive's `reports/`.
///
/// Nothing moves unless the import completed: an interrupted or failed run leaves every file in
/// place, and the next run finds what was committed as duplicates. The outcome of any sequence of
/// runs, however they end, is that of one clean run.
public enum DropImport {
    /// Name of the archive folder the reports are kept in.
    public static let reportsFolder = "reports"

    public static func run(archive: Archive, drop: DropFolder, options: ImportOptions,
                           cancellation: CancellationFlag = CancellationFlag(),
                           progress: ((ImportProgress) -> Void)? = nil,
                           now: Date = Date()) throws -> DropReport {
        let writer = try WriterLock.acquire(archive)
        defer { withExtendedLifetime(writer) {} }
        var drop = drop
        drop.excluding.append(archive.path)
        let (found, skipped) = try drop.scan()
        let (ready, unsettled) = drop.settled(found)
        var importOptions = options
        importOptions.paths = [drop.root]
        importOptions.plan = drop.plan(ready)
        let ledger = try Importer(archive: archive, options: importOptions).run(cancellation: cancellation, progress: progress)
        var report = DropReport(folder: drop.root, settleSeconds: drop.settleSeconds, ledger: ledger, left: skipped + unsettled)
        guard ledger.status == "completed" else {
            report.left += ready.map { DropFolder.Left(file: $0.relative, reason: "the run did not complete (\(ledger.status)); the next run reads it again") }
            report.savedAs = try save(report, archive: archive, now: now)
            return report
        }
        // Every message is committed; on disk before any file leaves the drop folder.
        try archive.syncDatabase()
        let entries = try archive.database.read { try QuarantineEntry.all($0, run: ledger.run) }
        var byPath: [String: [QuarantineEntry]] = [:]
        for entry in entries { byPath[entry.path, default: []].append(entry) }
        let day = dayFormatter.string(from: now)
        for item in ready {
            let path = drop.root + "/" + item.relative
            if let change = drop.changedReason(item) {
                // Written to while it was read: what was read is committed; the next run reads the
                // whole file again and finds those messages duplicates.
                report.left.append(DropFolder.Left(file: item.relative, reason: change))
                continue
            }
            if let reason = quarantineReason(item, byPath[path] ?? []) {
                let to = try drop.move(item, to: .quarantine, day: day, reason: reason)
                report.quarantined.append(.init(file: item.relative, to: to, reason: reason))
            } else {
                let to = try drop.move(item, to: .processed, day: day)
                report.processed.append(.init(file: item.relative, to: to, reason: nil))
            }
        }
        report.savedAs = try save(report, archive: archive, now: now)
        return report
    }

    /// Why a file goes to quarantine/: it could not be read (in whole or in part), or, holding one
    /// message, that message was not one. An mbox of which some messages were quarantined is
    /// processed: every message of it is committed, the bad ones as quarantine entries with
    /// their bytes and reasons (the ledger counts them and the exit code says so).
    static func quarantineReason(_ item: DropFolder.Item, _ entries: [QuarantineEntry]) -> String? {
        let unreadable = entries.filter { $0.sha256 == nil }
        let chosen = item.kind == .mbox ? unreadable : entries
        guard !chosen.isEmpty else { return nil }
        var seen = Set<String>()
        return chosen.map(\.reason).filter { seen.insert($0).inserted }.joined(separator: "\n")
    }

    /// Writes the report as JSON into `reports/`, whole or not at all.
    static func save(_ report: DropReport, archive: Archive, now: Date) throws -> String {
        let folder = archive.path + "/" + reportsFolder
        try DurableFiles.makeDirectories(folder)
        let name = "import-\(stampFormatter.string(from: now))-run\(report.ledger.run).json"
        var saved = report
        saved.savedAs = reportsFolder + "/" + name
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try DurableFiles.write(folder + "/" + name, Array(try encoder.encode(saved)) + [10])
        return reportsFolder + "/" + name
    }

    private static let dayFormatter: DateFormatter = utcFormatter("yyyy-MM-dd")
    private static let stampFormatter: DateFormatter = utcFormatter("yyyyMMdd'T'HHmmss'Z'")

    private static func utcFormatter(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = format
        return formatter
    }
}
