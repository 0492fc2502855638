import Crypto
import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dossier verify --archive`: the archive's own integrity check. Read-only; `ArchiveRepairer`
/// removes what it reports as unreferenced.
///
/// What it checks (each problem becomes a `VerificationFinding` with its kind, object and reason):
/// 1. Every stored original: its gzip member is read from its pack, inflated (zlib checks the
///    CRC-32 and length) and hashed; the digest and the member's gzip FNAME must both be the
///    blob's name, and the member must lie inside the pack file. Legacy `objects/messages/` files
///    likewise. Packs are read in offset order, a few MiB at a time, so memory stays bounded
///    whatever their size; the hashing runs on `workers` threads.
/// 2. Every attachment file hashes to its name; every quarantine file inflates to bytes that hash
///    to its name (the `quarantine.sha256` column is the digest of the input's bytes, which are
///    kept gzip-compressed).
/// 3. SQLite: `PRAGMA integrity_check` and `foreign_key_check`; the search index: FTS5's own
///    `integrity-check` (for a contentless table, SQLite 3.40 checks the index's structure only:
///    it has no content to compare with), and, through `message_fts_docsize` (one row per indexed
///    document, which is what a full scan of a contentless table reads), every searchable stored
///    message has an index row and every index row has a stored message.
/// 4. Rows pointing at missing objects: stored messages without an original, blobs in an unknown
///    pack or a pack whose file is gone, attachment and quarantine rows without their file.
/// 5. Objects nothing points at: attachment, quarantine and legacy files no row names, pack files
///    no pack row names, pack bytes no blob points at (gaps, a killed import's tail), blobs no
///    message or copy has the digest of, files left in `tmp/`.
///
/// Files are listed before the database is read, and pack sizes taken after, so an import
/// committing meanwhile cannot make a referenced object look unreferenced or a committed member
/// look outside its pack. While another process holds the archive (`ArchiveLock`: an import or a
/// rematch), objects it has not committed yet are indistinguishable from garbage: unreferenced
/// objects are then not reported, and FTS5's check (which needs the write lock) is skipped; a
/// note says so.
public struct ArchiveVerifier: Sendable {
    public let archive: Archive
    /// Hashing threads.
    public var workers: Int
    /// Set by a caller that already holds the archive's lock exclusively (the repairer): nobody
    /// else can be writing, so there is no need (and no way) to ask the lock.
    var holdsExclusiveLock = false

    public init(archive: Archive, workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)) {
        self.archive = archive
        self.workers = max(1, workers)
    }

    public func verify() throws -> VerificationReport {
        let started = Date()
        var report = VerificationReport(archive: archive.path)
        let quietBefore = try isQuiet()

        // 1. Files first, rows second (see the type's comment).
        var inventory = try Inventory.list(root: archive.path)
        // The checks among rows, SQLite's own (it reads the whole database) and FTS5's run on
        // their own threads beside the hashing. FTS5's takes the write lock: only when quiet.
        let legacyDigests = Set(inventory.legacy.keys)
        let database = archive.database
        let rowChecks = Background { try Snapshot.read(database, parts: .rows, legacyDigests: legacyDigests, attachmentFiles: []) }
        // FTS5's check is an INSERT, which a read-only open refuses: skipped there (and said so).
        let indexCheck = quietBefore && !archive.isReadOnly
        let integrity = Background { try self.databaseChecks() + (indexCheck ? self.searchIndexCheck() : []) }
        var snapshot = try Snapshot.read(database, parts: .objects, legacyDigests: legacyDigests,
                                         attachmentFiles: Set(inventory.attachments.keys))
        snapshot.take(try rowChecks.wait())

        // 2. Objects and their rows.
        var findings: [VerificationFinding] = []
        findings += inventory.unexpected.map { VerificationFinding(kind: .unexpectedFile, object: $0.path, reason: $0.reason) }
        var checked = VerificationReport.Checked()
        checked.messages = snapshot.messages
        checked.copies = snapshot.copies
        checked.searchRows = snapshot.searchRows
        checked.temporaryFiles = inventory.temporary.count
        for (path, size) in inventory.temporary {
            findings.append(.init(kind: .strayTemporaryFile, object: path,
                                  reason: "staging file left by a writer that is gone", bytes: size))
        }

        var work: [WorkItem] = []
        let packs = planPacks(snapshot, &inventory, &findings, &checked)
        work += packs
        for (sha, size) in inventory.attachments.sorted(by: { $0.key < $1.key }) {
            checked.attachments += 1
            checked.attachmentBytes += size
            work.append(.file(.attachment, sha256: sha))
            if !snapshot.attachmentDigests.contains(sha) {
                findings.append(.init(kind: .unreferencedAttachment, object: archive.objects.relativePath(.attachment, sha256: sha),
                                      reason: "no attachment row names it", bytes: size))
            }
        }
        for (sha, keys) in snapshot.missingAttachments {
            findings.append(.init(kind: .missingAttachment, object: archive.objects.relativePath(.attachment, sha256: sha),
                                  reason: "attachment rows of message \(keys) name it, but the file is gone"))
        }
        for (sha, size) in inventory.quarantine.sorted(by: { $0.key < $1.key }) {
            checked.quarantined += 1
            checked.quarantineBytes += size
            work.append(.file(.quarantine, sha256: sha))
            if !snapshot.quarantineDigests.contains(sha) {
                findings.append(.init(kind: .unreferencedQuarantine, object: archive.objects.relativePath(.quarantine, sha256: sha),
                                      reason: "no quarantine row names it", bytes: size))
            }
        }
        for sha in snapshot.quarantineDigests.subtracting(inventory.quarantine.keys).sorted() {
            findings.append(.init(kind: .missingQuarantine, object: archive.objects.relativePath(.quarantine, sha256: sha),
                                  reason: "a quarantine row names it but the file is gone"))
        }
        for (sha, size) in inventory.legacy.sorted(by: { $0.key < $1.key }) {
            checked.legacyOriginals += 1
            work.append(.file(.legacy, sha256: sha))
            if !(snapshot.messageAndCopyDigests?.contains(sha) ?? true) {
                findings.append(.init(kind: .unreferencedLegacyOriginal, object: archive.objects.relativePath(.message, sha256: sha),
                                      reason: "no message or copy has its digest", bytes: size))
            }
        }
        for missing in snapshot.missingOriginals {
            findings.append(.init(kind: .missingOriginal, object: "message \(missing.key)",
                                  reason: "stored, but its original \(missing.sha256) is in no pack and no legacy file"))
        }
        for sha in snapshot.unreferencedBlobs {
            findings.append(.init(kind: .unreferencedBlob, object: "blob \(sha)", reason: "no message or copy has this digest",
                                  bytes: snapshot.blobLength[sha]))
        }
        for (id, key) in snapshot.notIndexed {
            findings.append(.init(kind: .messageNotIndexed, object: "message \(key)",
                                  reason: "stored and searchable, but message_fts has no row \(id) (search cannot find it)"))
        }
        for (id, why) in snapshot.orphanRows {
            findings.append(.init(kind: .indexRowWithoutMessage, object: "message_fts \(id)", reason: why))
        }

        // 3. Content, on every core.
        let outcome = ContentChecks(root: archive.path, objects: archive.objects, items: work).run(workers: workers)
        findings += outcome.findings
        checked.originals = outcome.originals
        checked.originalBytes = outcome.originalBytes
        findings += try integrity.wait()

        let quiet = try quietBefore && isQuiet()
        if quiet {
            for run in snapshot.runningRuns {
                report.notes.append("run \(run.id) (\(run.command), started \(run.started)) is recorded as running, but no Dossier "
                                    + "process holds the archive: it was interrupted; run the same command again to finish it")
            }
        } else {
            let dropped = findings.filter(\.kind.isUnreferenced).count
            findings.removeAll { $0.kind.isUnreferenced }
            report.notes.append("another Dossier process (an import or a rematch) holds the archive: objects it has not committed "
                                + "yet look unreferenced, so none are reported (\(dropped) left out), and FTS5's own index check "
                                + "was skipped; verify again once it has finished")
        }
        if archive.isReadOnly && quiet {
            report.notes.append("the archive was opened read-only: FTS5's own index check (an INSERT for SQLite) was skipped; "
                                + "every other check ran")
        }
        if snapshot.copiesWithoutOriginal > 0 {
            report.notes.append("\(snapshot.copiesWithoutOriginal) copies of stored messages have no original of their own: "
                                + "a copy decided excluded when read keeps its row, not its bytes")
        }
        report.checked = checked
        report.findings = findings.sorted { ($0.kind, $0.object, $0.reason) < ($1.kind, $1.object, $1.reason) }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Whether nobody else may be writing objects: the lock is free and no pack was named by a
    /// live Dossier process (an older Dossier imports without taking the lock).
    func isQuiet() throws -> Bool {
        if holdsExclusiveLock { return true }
        guard try ArchiveLock.isFree(root: archive.path) else { return false }
        return ArchiveLock.livePackWriters(packNames: Inventory.packNames(root: archive.path)).isEmpty
    }

    /// Pack rows against pack files; then the work of reading every member, a few MiB at a time.
    private func planPacks(_ snapshot: Snapshot, _ inventory: inout Inventory, _ findings: inout [VerificationFinding],
                           _ checked: inout VerificationReport.Checked) -> [WorkItem] {
        var work: [WorkItem] = []
        let namedByRow = Set(snapshot.packs.values)
        // Sizes now, after the rows were read: a member committed since the listing is inside.
        for name in inventory.packFiles.keys {
            if let size = Inventory.size(of: archive.packs.directoryPath + "/" + name) { inventory.packFiles[name] = size }
        }
        for (name, size) in inventory.packFiles.sorted(by: { $0.key < $1.key }) {
            checked.packs += 1
            checked.packBytes += size
            if !namedByRow.contains(name) {
                findings.append(.init(kind: .unreferencedPack, object: "\(PackStore.directory)/\(name)",
                                      reason: "no pack row names it", bytes: size))
            }
        }
        for (id, name) in snapshot.packs.sorted(by: { $0.key < $1.key }) {
            let members = snapshot.blobs[id] ?? []
            let path = "\(PackStore.directory)/\(name)"
            guard let size = inventory.packFiles[name] else {
                if members.isEmpty {
                    findings.append(.init(kind: .unreferencedPack, object: "pack \(id)",
                                          reason: "pack row for \(name), whose file is gone, and no blob points at it", bytes: 0))
                } else {
                    findings.append(.init(kind: .missingPackFile, object: path,
                                          reason: "\(members.count) originals are indexed in it (first: \(members[0].sha256)) but the file is gone"))
                }
                continue
            }
            if members.isEmpty {
                findings.append(.init(kind: .unreferencedPack, object: path, reason: "no blob points into it", bytes: size))
                continue
            }
            let layout = PackLayout.analyze(members: members, fileSize: size)
            if !layout.unreferenced.isEmpty {
                let tail = layout.onlyTrailing ? " (the tail after its last member)" : ""
                findings.append(.init(kind: .unreferencedPackBytes, object: path,
                                      reason: "\(layout.unreferenced.count) byte ranges, \(layout.unreferencedBytes) bytes, no blob points at\(tail)",
                                      bytes: layout.unreferencedBytes, ranges: layout.unreferenced))
            }
            for index in layout.outside {
                let member = members[index]
                findings.append(.init(kind: .originalOutsidePack, object: "blob \(member.sha256)",
                                      reason: "recorded at \(path) bytes \(member.offset)..<\(member.end), but the file has \(size) bytes"))
            }
            for (a, b) in layout.overlapping {
                findings.append(.init(kind: .overlappingOriginals, object: "blob \(members[b].sha256)",
                                      reason: "its range \(members[b].offset)..<\(members[b].end) in \(path) overlaps blob \(members[a].sha256)"))
            }
            let outside = Set(layout.outside)
            var chunk: [PackMember] = []
            var chunkStart: Int64 = 0
            var chunkEnd: Int64 = 0
            for (index, member) in members.enumerated() where !outside.contains(index) {
                if !chunk.isEmpty && (member.offset < chunkEnd || member.offset - chunkEnd > 1 << 20 || member.end - chunkStart > ContentChecks.chunkBytes) {
                    work.append(.pack(name, chunk))
                    chunk = []
                }
                if chunk.isEmpty { chunkStart = member.offset }
                chunk.append(member)
                chunkEnd = member.end
            }
            if !chunk.isEmpty { work.append(.pack(name, chunk)) }
        }
        for (sha, pack) in snapshot.blobsWithoutPack {
            findings.append(.init(kind: .blobWithoutPack, object: "blob \(sha)", reason: "its pack id \(pack) names no pack row"))
        }
        return work
    }

    /// `PRAGMA integrity_check` and `foreign_key_check` (blobs without a pack are reported as such).
    private func databaseChecks() throws -> [VerificationFinding] {
        var findings: [VerificationFinding] = []
        do {
            let lines = try archive.database.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
            if lines != ["ok"] {
                findings += lines.map { .init(kind: .databaseIntegrity, object: Archive.databaseName, reason: $0) }
            }
            let rows = try archive.database.read { try Row.fetchAll($0, sql: "PRAGMA foreign_key_check") }
            for row in rows {
                let table: String = row[0], parent: String = row[2]
                if table == "blob" && parent == "pack" { continue }
                let rowid: Int64? = row[1]
                findings.append(.init(kind: .foreignKey, object: "\(table) row \(rowid.map(String.init) ?? "?")",
                                      reason: "points at a \(parent) row that does not exist"))
            }
        } catch let error as DatabaseError {
            findings.append(.init(kind: .databaseIntegrity, object: Archive.databaseName, reason: error.message ?? "\(error.resultCode)"))
        }
        return findings
    }

    /// FTS5's own check of the search index. It is an INSERT, so it takes the write lock for as
    /// long as it runs: only done when nobody else writes.
    private func searchIndexCheck() -> [VerificationFinding] {
        do {
            try archive.database.write { db in
                try db.execute(sql: "INSERT INTO message_fts(message_fts, rank) VALUES('integrity-check', 0)")
            }
            return []
        } catch let error as DatabaseError {
            return [.init(kind: .searchIndexCorrupt, object: "message_fts", reason: "FTS5 integrity-check: \(error.message ?? "\(error.resultCode)")")]
        } catch {
            return [.init(kind: .searchIndexCorrupt, object: "message_fts", reason: "FTS5 integrity-check: \(error)")]
        }
    }
}

// MARK: - Files

/// The files of the archive's object directories, listed once (sizes by `lstat`, no link followed).
struct Inventory {
    var packFiles: [String: Int64] = [:]
    var attachments: [String: Int64] = [:]
    var quarantine: [String: Int64] = [:]
    var legacy: [String: Int64] = [:]
    /// Files under tmp/: path relative to the root, size.
    var temporary: [(path: String, size: Int64)] = []
    var unexpected: [(path: String, reason: String)] = []

    static func list(root: String) throws -> Inventory {
        var inventory = Inventory()
        let packs = PackStore.directory
        for name in try names(root + "/" + packs) {
            let relative = "\(packs)/\(name)"
            guard let size = regularSize(root + "/" + relative) else {
                inventory.unexpected.append((relative, "not a regular file")); continue
            }
            if PackStore.isValidName(name) { inventory.packFiles[name] = size } else {
                inventory.unexpected.append((relative, "not a pack name Dossier writes"))
            }
        }
        try listFanOut(root, "objects/attachments", suffix: "", into: &inventory.attachments, &inventory.unexpected)
        try listFanOut(root, "objects/messages", suffix: ".eml.gz", into: &inventory.legacy, &inventory.unexpected)
        for name in try names(root + "/quarantine") {
            let relative = "quarantine/\(name)"
            let digest = name.hasSuffix(".gz") ? String(name.dropLast(3)) : ""
            guard let size = regularSize(root + "/" + relative) else {
                inventory.unexpected.append((relative, "not a regular file")); continue
            }
            if ObjectStore.isHexDigest(digest) { inventory.quarantine[digest] = size } else {
                inventory.unexpected.append((relative, "not a quarantine name Dossier writes"))
            }
        }
        for name in try names(root + "/tmp") {
            let relative = "tmp/\(name)"
            if let size = regularSize(root + "/" + relative) { inventory.temporary.append((relative, size)) } else {
                inventory.unexpected.append((relative, "not a regular file"))
            }
        }
        for name in try names(root + "/objects") where !["packs", "attachments", "messages"].contains(name) {
            inventory.unexpected.append(("objects/\(name)", "not a directory Dossier writes"))
        }
        return inventory
    }

    private static func listFanOut(_ root: String, _ directory: String, suffix: String, into found: inout [String: Int64],
                                   _ unexpected: inout [(path: String, reason: String)]) throws {
        for fan in try names(root + "/" + directory) {
            let fanPath = "\(directory)/\(fan)"
            var info = stat()
            guard fan.utf8.count == 2, ObjectStore.isHexDigest(fan + String(repeating: "0", count: 62)),
                  lstat(root + "/" + fanPath, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                unexpected.append((fanPath, "not a fan-out directory Dossier writes")); continue
            }
            for name in try names(root + "/" + fanPath) {
                let relative = "\(fanPath)/\(name)"
                let digest = name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : ""
                guard let size = regularSize(root + "/" + relative) else {
                    unexpected.append((relative, "not a regular file")); continue
                }
                if ObjectStore.isHexDigest(digest) && digest.hasPrefix(fan) { found[digest] = size } else {
                    unexpected.append((relative, "not an object name Dossier writes"))
                }
            }
        }
    }

    /// The pack file names, for the live-writer test.
    static func packNames(root: String) -> [String] {
        ((try? names(root + "/" + PackStore.directory)) ?? []).filter(PackStore.isValidName)
    }

    /// Entry names of a directory (none when it does not exist).
    static func names(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw StoreError.io(path: path, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The size of a regular file, nil for anything else (a link is not followed).
    static func regularSize(_ path: String) -> Int64? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    static func size(of path: String) -> Int64? { regularSize(path) }
}

// MARK: - Rows

/// Everything the checks need from the database, each part read in one transaction.
struct Snapshot {
    struct Parts: OptionSet {
        let rawValue: Int
        /// What the object checks need: packs, blobs, attachment and quarantine digests.
        static let objects = Parts(rawValue: 1)
        /// Checks among rows: originals missing or unreferenced, the search index, counts, runs.
        static let rows = Parts(rawValue: 2)
    }

    var packs: [Int64: String] = [:]
    /// Blobs by pack id, sorted by offset.
    var blobs: [Int64: [PackMember]] = [:]
    var blobLength: [String: Int64] = [:]
    var blobsWithoutPack: [(String, Int64)] = []
    var missingOriginals: [(key: String, sha256: String)] = []
    var copiesWithoutOriginal = 0
    var unreferencedBlobs: [String] = []
    var attachmentDigests: Set<String> = []
    /// Attachment digests whose file is missing, with the keys of (up to three) messages naming them.
    var missingAttachments: [(String, String)] = []
    var quarantineDigests: Set<String> = []
    /// Digests of every message and copy, only read when legacy files exist.
    var messageAndCopyDigests: Set<String>?
    var notIndexed: [(Int64, String)] = []
    var orphanRows: [(Int64, String)] = []
    var messages = 0
    var copies = 0
    var searchRows = 0
    var runningRuns: [(id: Int64, command: String, started: String)] = []

    /// Messages whose search row must exist: stored, and not one of those kept unsearchable
    /// (`filing` 'excluded': a matched_only reply waiting for its parent, or excluded by a later
    /// directory; 'noise': searchable only when the rules keep noise).
    static let searchableCondition = "status = 'stored' AND (filing IS NULL OR filing NOT IN ('excluded', 'noise'))"

    /// Takes the row checks' part from `other`.
    mutating func take(_ other: Snapshot) {
        missingOriginals = other.missingOriginals
        copiesWithoutOriginal = other.copiesWithoutOriginal
        unreferencedBlobs = other.unreferencedBlobs
        notIndexed = other.notIndexed
        orphanRows = other.orphanRows
        messages = other.messages
        copies = other.copies
        searchRows = other.searchRows
        runningRuns = other.runningRuns
        messageAndCopyDigests = other.messageAndCopyDigests
    }

    static func read(_ pool: DatabasePool, parts: Parts, legacyDigests: Set<String>, attachmentFiles: Set<String>) throws -> Snapshot {
        try pool.read { db in
            var snapshot = Snapshot()
            if parts.contains(.objects) { try snapshot.readObjects(db, attachmentFiles: attachmentFiles) }
            if parts.contains(.rows) { try snapshot.readRows(db, legacyDigests: legacyDigests) }
            return snapshot
        }
    }

    private mutating func readObjects(_ db: Database, attachmentFiles: Set<String>) throws {
        for row in try Row.fetchAll(db, sql: "SELECT id, name FROM pack") { packs[row[0]] = row[1] }
        let rows = try Row.fetchCursor(db, sql: "SELECT sha256, pack, offset, length FROM blob ORDER BY pack, offset")
        while let row = try rows.next() {
            let sha: String = row[0], pack: Int64 = row[1]
            let member = PackMember(sha256: sha, offset: row[2], length: row[3])
            blobLength[sha] = member.length
            if packs[pack] == nil {
                blobsWithoutPack.append((sha, pack))
            } else {
                blobs[pack, default: []].append(member)
            }
        }
        attachmentDigests = Set(try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM attachment"))
        quarantineDigests = Set(try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM quarantine WHERE sha256 IS NOT NULL"))
        for sha in attachmentDigests.subtracting(attachmentFiles).sorted() {
            let keys = try String.fetchAll(db, sql: """
                SELECT DISTINCT m.key FROM attachment a JOIN message m ON m.id = a.message WHERE a.sha256 = ? ORDER BY m.id LIMIT 3
                """, arguments: [sha])
            missingAttachments.append((sha, keys.isEmpty ? "?" : keys.joined(separator: ", ")))
        }
    }

    private mutating func readRows(_ db: Database, legacyDigests: Set<String>) throws {
        for row in try Row.fetchAll(db, sql: """
            SELECT key, sha256 FROM message m
            WHERE status = 'stored' AND NOT EXISTS (SELECT 1 FROM blob WHERE blob.sha256 = m.sha256) ORDER BY id
            """) where !legacyDigests.contains(row[1]) {
            missingOriginals.append((row[0], row[1]))
        }
        copiesWithoutOriginal = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM copy c JOIN message m ON m.id = c.message
            WHERE m.status = 'stored' AND NOT EXISTS (SELECT 1 FROM blob WHERE blob.sha256 = c.sha256)
            """) ?? 0
        // EXCEPT sorts once (message.sha256 is only indexed where there is no Message-ID, and
        // copy.sha256 not at all): linear-logarithmic, where NOT EXISTS per blob would scan.
        unreferencedBlobs = try String.fetchAll(db, sql: """
            SELECT sha256 FROM blob EXCEPT SELECT sha256 FROM message EXCEPT SELECT sha256 FROM copy ORDER BY 1
            """)
        if !legacyDigests.isEmpty {
            messageAndCopyDigests = Set(try String.fetchAll(db, sql: "SELECT sha256 FROM message UNION SELECT sha256 FROM copy"))
        }
        messages = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message") ?? 0
        copies = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM copy") ?? 0
        // A contentless FTS5 table keeps one message_fts_docsize row per document (unless
        // created with columnsize=0, which ours is not); a full scan of the table reads it.
        let docsize = try Bool.fetchOne(db, sql: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'message_fts_docsize'") ?? false
        let documents = docsize ? "message_fts_docsize" : "(SELECT rowid AS id FROM message_fts)"
        searchRows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(documents)") ?? 0
        for row in try Row.fetchAll(db, sql: """
            SELECT id, key FROM message WHERE \(Self.searchableCondition)
              AND NOT EXISTS (SELECT 1 FROM \(documents) d WHERE d.id = message.id) ORDER BY id
            """) {
            notIndexed.append((row[0], row[1]))
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT d.id, m.key, m.status FROM \(documents) d LEFT JOIN message m ON m.id = \(ContentVariants.messageOf("d.id"))
            WHERE m.id IS NULL OR m.status <> 'stored' ORDER BY d.id
            """) {
            let key: String? = row[1]
            orphanRows.append((row[0], key.map { "indexed, but message \($0) has no content (\(row[2] as String? ?? "?"))" }
                                   ?? "indexed, but no message has id \(row[0] as Int64)"))
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, command, started_at FROM run WHERE status = 'running' ORDER BY id") {
            runningRuns.append((row[0], row[1], row[2]))
        }
    }
}

// MARK: - Content

/// One unit of hashing work.
enum WorkItem: Sendable {
    enum FileKind: Sendable { case attachment, quarantine, legacy }
    /// Members of one pack, close together: read in one `pread`.
    case pack(String, [PackMember])
    case file(FileKind, sha256: String)
}

/// Inflates and hashes every object of `items` on several threads.
struct ContentChecks: Sendable {
    /// Most bytes read at once from a pack (one member larger than this is read alone).
    static let chunkBytes: Int64 = 8 << 20

    let root: String
    let objects: ObjectStore
    let items: [WorkItem]

    struct Outcome {
        var findings: [VerificationFinding] = []
        var originals = 0
        var originalBytes: Int64 = 0
    }

    func run(workers: Int) -> Outcome {
        let next = WorkCounter(limit: items.count)
        let results = OutcomeBox()
        let group = DispatchGroup()
        for _ in 0..<max(1, min(workers, max(1, items.count))) {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                var local = Outcome()
                let checker = MemberChecker()
                var buffer: [UInt8] = []
                while let range = next.take(1) {
                    for index in range { check(items[index], checker, &buffer, &local) }
                }
                results.add(local)
            }
            thread.start()
        }
        group.wait()
        return results.total
    }

    private func check(_ item: WorkItem, _ checker: MemberChecker, _ buffer: inout [UInt8], _ outcome: inout Outcome) {
        switch item {
        case .pack(let name, let members):
            checkPack(name, members, checker, &buffer, &outcome)
        case .file(let kind, let sha):
            let (objectKind, findingKind): (ObjectStore.Kind, VerificationFinding.Kind) = switch kind {
            case .attachment: (.attachment, .corruptAttachment)
            case .quarantine: (.quarantine, .corruptQuarantine)
            case .legacy: (.message, .corruptLegacyOriginal)
            }
            let path = objects.path(objectKind, sha256: sha)
            let result = kind == .attachment ? Self.digestOfFile(path, &buffer) : Self.digestOfGzipFile(path, &buffer)
            switch result {
            case .success(let digest) where digest == sha: break
            case .success(let digest):
                outcome.findings.append(.init(kind: findingKind, object: objects.relativePath(objectKind, sha256: sha),
                                              reason: kind == .attachment ? "its bytes hash to \(digest)" : "it inflates to bytes whose SHA-256 is \(digest)"))
            case .failure(let reason):
                outcome.findings.append(.init(kind: findingKind, object: objects.relativePath(objectKind, sha256: sha), reason: reason))
            }
        }
    }

    private func checkPack(_ name: String, _ members: [PackMember], _ checker: MemberChecker, _ buffer: inout [UInt8], _ outcome: inout Outcome) {
        let relative = "\(PackStore.directory)/\(name)"
        let start = members[0].offset
        let length = Int(members.last!.end - start)
        if buffer.count < length { buffer = [UInt8](repeating: 0, count: length) }
        let path = root + "/" + relative
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        var got = 0
        var failure: String?
        if fd < 0 {
            failure = "cannot open \(relative): \(String(cString: strerror(errno)))"
        } else {
            #if os(Linux)
            _ = posix_fadvise(fd, off_t(start), off_t(length), POSIX_FADV_SEQUENTIAL)
            #endif
            while got < length {
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, length - got, off_t(start) + off_t(got)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot read \(relative): \(String(cString: strerror(errno)))"
                    break
                }
                if n == 0 { break }
                got += n
            }
            close(fd)
        }
        for member in members {
            let from = Int(member.offset - start)
            if failure == nil && from + Int(member.length) > got {
                // The file shrank after its size was taken: the member is no longer all there.
                outcome.findings.append(.init(kind: .originalOutsidePack, object: "blob \(member.sha256)",
                                              reason: "recorded at \(relative) bytes \(member.offset)..<\(member.end), past the end of the file"))
                continue
            }
            if let failure {
                outcome.findings.append(.init(kind: .corruptOriginal, object: "blob \(member.sha256)", reason: failure))
                continue
            }
            let problem = buffer.withUnsafeBytes { raw in
                checker.problem(UnsafeRawBufferPointer(rebasing: raw[from..<(from + Int(member.length))]), sha256: member.sha256)
            }
            outcome.originals += 1
            outcome.originalBytes += member.length
            if let problem {
                outcome.findings.append(.init(kind: .corruptOriginal, object: "blob \(member.sha256)",
                                              reason: "in \(relative) at \(member.offset): \(problem)"))
            }
        }
        // Keep one worker's buffer from staying at the size of the one huge original it read.
        if buffer.count > Int(Self.chunkBytes) * 2 { buffer = [] }
    }

    enum Digest { case success(String), failure(String) }

    /// SHA-256 of a file's bytes, read 1 MiB at a time.
    static func digestOfFile(_ path: String, _ buffer: inout [UInt8]) -> Digest {
        var hasher = SHA256()
        let result = readChunks(path, &buffer) { hasher.update(bufferPointer: $0); return nil }
        if let result { return .failure(result) }
        return .success(ContentHash.hex(hasher.finalize()))
    }

    /// SHA-256 of what a gzip file inflates to, streamed.
    static func digestOfGzipFile(_ path: String, _ buffer: inout [UInt8]) -> Digest {
        var hasher = SHA256()
        let inflater: GzipInflater
        do { inflater = try GzipInflater() } catch { return .failure("\(error)") }
        var output = [UInt8](repeating: 0, count: 1 << 18)
        let result = readChunks(path, &buffer) { chunk in
            var offset = 0
            repeat {
                do {
                    let (consumed, produced) = try output.withUnsafeMutableBytes { out in
                        try inflater.inflate(UnsafeRawBufferPointer(rebasing: chunk[offset...]), into: out)
                    }
                    output.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
                    offset += consumed
                    if consumed == 0 && produced == 0 { break }
                } catch {
                    return "it does not inflate (\(error))"
                }
            } while offset < chunk.count
            return nil
        }
        if let result { return .failure(result) }
        // Drain what zlib may still hold, then insist the input ended at a member's end.
        do {
            while true {
                let produced = try output.withUnsafeMutableBytes { try inflater.inflate(UnsafeRawBufferPointer(start: nil, count: 0), into: $0).produced }
                if produced == 0 { break }
                output.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            try inflater.finish()
        } catch {
            return .failure("it does not inflate (\(error))")
        }
        return .success(ContentHash.hex(hasher.finalize()))
    }

    /// Calls `body` with each chunk of the file; its non-nil answer stops the reading and is returned.
    private static func readChunks(_ path: String, _ buffer: inout [UInt8], _ body: (UnsafeRawBufferPointer) -> String?) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno == ENOENT ? "the file is gone" : "cannot open it: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        if buffer.count < 1 << 20 { buffer = [UInt8](repeating: 0, count: 1 << 20) }
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1 << 20) }
            if n < 0 {
                if errno == EINTR { continue }
                return "cannot read it: \(String(cString: strerror(errno)))"
            }
            if n == 0 { return nil }
            if let stop = buffer.withUnsafeBytes({ body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) { return stop }
        }
    }
}

/// Hands out indexes of work items to the workers.
private final class WorkCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func take(_ count: Int) -> Range<Int>? {
        lock.lock(); defer { lock.unlock() }
        guard next < limit else { return nil }
        let range = next..<min(next + count, limit)
        next = range.upperBound
        return range
    }
}

/// The workers' outcomes, added up.
private final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var total = ContentChecks.Outcome()

    func add(_ outcome: ContentChecks.Outcome) {
        lock.lock(); defer { lock.unlock() }
        total.findings += outcome.findings
        total.originals += outcome.originals
        total.originalBytes += outcome.originalBytes
    }
}

/// A value computed on its own thread while the caller does other work.
private final class Background<Value>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Value, Error>?

    init(_ body: @escaping @Sendable () throws -> Value) {
        let thread = Thread { [self] in
            result = Result { try body() }
            done.signal()
        }
        thread.start()
    }

    func wait() throws -> Value {
        done.wait()
        return try result!.get()
    }
}
