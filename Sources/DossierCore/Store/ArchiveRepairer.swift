import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dossier verify --archive --repair`: verifies, removes only what nothing references, and
/// verifies again.
///
/// Removed: files in `tmp/`; attachment, quarantine and legacy original files no row names;
/// blob rows no message or copy has the digest of; pack files no pack row names and packs no
/// blob points into; pack bytes no blob points at (a pack whose only such bytes are its tail is
/// cut back, any other is rewritten by `PackCompactor`). Never removed or changed: anything a row
/// references, and damage of any kind (a corrupt original stays and stays reported: it is
/// evidence, and may still be read in part).
///
/// It is careful where "unreferenced" might only mean "its row was lost":
/// - nothing at all is removed when SQLite's integrity check fails;
/// - no pack bytes are removed while a stored message's original is missing, a blob names an
///   unknown pack or a pack file is gone (the bytes may be that original or that pack);
/// - a pack with a damaged member (corrupt, outside the file, overlapping) is not rewritten.
///
/// It runs only with the archive's lock held exclusively (`ArchiveLock`), and refuses when that
/// is held by another process (an import or a rematch is running) or a pack's name says a live
/// Dossier process wrote it: to a repair, an object an import has not committed yet looks the same
/// as one a killed import left.
public struct ArchiveRepairer: Sendable {
    public let archive: Archive
    public var workers: Int
    /// Tests stop a compaction where a crash could.
    var compactionStop: PackCompactor.Step? = nil

    public init(archive: Archive, workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)) {
        self.archive = archive
        self.workers = workers
    }

    /// The verification before, what was done, and the verification after (the same report as
    /// before when nothing was done).
    public struct Outcome: Sendable, Codable {
        public var before: VerificationReport
        public var repair: RepairReport
        public var after: VerificationReport
    }

    public func run() throws -> Outcome {
        guard let lock = try ArchiveLock.acquire(.exclusive, root: archive.path, wait: false) else {
            throw VerificationError.archiveBusy("another Dossier process (an import or a rematch) is using the archive; try again when it has finished")
        }
        return try withExtendedLifetime(lock) {
            let live = ArchiveLock.livePackWriters(packNames: Inventory.packNames(root: archive.path))
            if !live.isEmpty {
                throw VerificationError.archiveBusy("packs were written by Dossier processes that still run (pid \(live.map(String.init).joined(separator: ", "))), "
                                                    + "perhaps an import by an older Dossier; try again when they have finished")
            }
            // Alone with the archive: runs still "running" belong to processes that are gone.
            _ = try WriterRecovery.markInterruptedRuns(archive.database, by: "verify --repair")
            var verifier = ArchiveVerifier(archive: archive, workers: workers)
            verifier.holdsExclusiveLock = true
            let before = try verifier.verify()
            var repair = RepairReport()
            guard before.findings.contains(where: \.kind.isUnreferenced) else {
                return Outcome(before: before, repair: repair, after: before)
            }
            guard before.findings(.databaseIntegrity).isEmpty else {
                repair.skipped.append("nothing was removed: SQLite's integrity check failed, so an object that looks unreferenced may only have lost its row")
                return Outcome(before: before, repair: repair, after: before)
            }
            try removeFiles(before, &repair)
            try removeBlobRows(before, &repair)
            try reclaimPacks(before, &repair)
            return Outcome(before: before, repair: repair, after: try verifier.verify())
        }
    }

    /// tmp/ files, and attachment, quarantine and legacy files no row names (asked again first).
    private func removeFiles(_ report: VerificationReport, _ repair: inout RepairReport) throws {
        let kinds: Set<VerificationFinding.Kind> = [.strayTemporaryFile, .unreferencedAttachment, .unreferencedQuarantine, .unreferencedLegacyOriginal]
        for finding in report.findings where kinds.contains(finding.kind) {
            let stillUnreferenced = try archive.database.read { db -> Bool in
                let name = String(finding.object.split(separator: "/").last ?? "")
                switch finding.kind {
                case .unreferencedAttachment:
                    return try !(Bool.fetchOne(db, sql: "SELECT 1 FROM attachment WHERE sha256 = ?", arguments: [name]) ?? false)
                case .unreferencedQuarantine:
                    return try !(Bool.fetchOne(db, sql: "SELECT 1 FROM quarantine WHERE sha256 = ?", arguments: [String(name.dropLast(3))]) ?? false)
                case .unreferencedLegacyOriginal:
                    let sha = String(name.dropLast(7))
                    return try !(Bool.fetchOne(db, sql: "SELECT 1 FROM message WHERE sha256 = ? UNION ALL SELECT 1 FROM copy WHERE sha256 = ?",
                                               arguments: [sha, sha]) ?? false)
                default:
                    return true
                }
            }
            guard stillUnreferenced else {
                repair.skipped.append("\(finding.object): a row names it now; left alone")
                continue
            }
            let path = archive.path + "/" + finding.object
            let size = Inventory.size(of: path) ?? 0
            if unlink(path) != 0 && errno != ENOENT { throw StoreError.io(path: path, errno: errno) }
            repair.actions.append(.init(kind: .removedFile, object: finding.object, bytes: size))
        }
    }

    /// Blob rows no message or copy has the digest of (asked again inside the transaction).
    private func removeBlobRows(_ report: VerificationReport, _ repair: inout RepairReport) throws {
        let reported = Set(report.findings(.unreferencedBlob).map { String($0.object.dropFirst("blob ".count)) })
        guard !reported.isEmpty else { return }
        let removed = try archive.database.write { db -> [(String, Int64)] in
            let now = try Row.fetchAll(db, sql: """
                SELECT sha256, length FROM blob WHERE sha256 IN
                  (SELECT sha256 FROM blob EXCEPT SELECT sha256 FROM message EXCEPT SELECT sha256 FROM copy)
                """).map { ($0[0] as String, $0[1] as Int64) }.filter { reported.contains($0.0) }
            for (sha, _) in now { try db.execute(sql: "DELETE FROM blob WHERE sha256 = ?", arguments: [sha]) }
            return now
        }
        for (sha, length) in removed.sorted(by: { $0.0 < $1.0 }) {
            // Its bytes stay in the pack until the pack is reclaimed below.
            repair.actions.append(.init(kind: .removedRow, object: "blob \(sha)", bytes: 0))
            _ = length
        }
    }

    /// Pack files no row names, packs no blob points into, and unreferenced bytes of the rest.
    private func reclaimPacks(_ report: VerificationReport, _ repair: inout RepairReport) throws {
        let blocking: [(VerificationFinding.Kind, String)] = [
            (.missingOriginal, "a stored message's original is missing"),
            (.blobWithoutPack, "a blob names a pack that has no row"),
            (.missingPackFile, "a pack file is gone"),
        ]
        if let (_, why) = blocking.first(where: { !report.findings($0.0).isEmpty }) {
            if report.findings.contains(where: { [.unreferencedPack, .unreferencedPackBytes, .unreferencedBlob].contains($0.kind) }) {
                repair.skipped.append("no pack bytes were removed: \(why), and unreferenced pack bytes may be what it lost")
            }
            return
        }
        // Packs with damage are left as they are.
        let damagedBlobs = Set(report.findings.filter { [.corruptOriginal, .originalOutsidePack, .overlappingOriginals].contains($0.kind) }
            .map { String($0.object.dropFirst("blob ".count)) })
        let compactor = PackCompactor(archive: archive, stopAfter: compactionStop)
        let (rows, blobs) = try archive.database.read { db -> ([Int64: String], [Int64: [PackMember]]) in
            var rows: [Int64: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM pack") { rows[row[0]] = row[1] }
            var blobs: [Int64: [PackMember]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT sha256, pack, offset, length FROM blob ORDER BY pack, offset") {
                blobs[row[1], default: []].append(PackMember(sha256: row[0], offset: row[2], length: row[3]))
            }
            return (rows, blobs)
        }
        let named = Set(rows.values)
        for name in Inventory.packNames(root: archive.path) where !named.contains(name) {
            let freed = try compactor.remove(packID: nil, name: name)
            repair.actions.append(.init(kind: .removedFile, object: "\(PackStore.directory)/\(name)", bytes: freed))
        }
        for (id, name) in rows.sorted(by: { $0.key < $1.key }) {
            let path = "\(PackStore.directory)/\(name)"
            let members = blobs[id] ?? []
            guard let size = Inventory.size(of: archive.packs.directoryPath + "/" + name) else {
                if members.isEmpty {
                    _ = try compactor.remove(packID: id, name: name)
                    repair.actions.append(.init(kind: .removedRow, object: "pack \(id)", bytes: 0))
                }
                continue
            }
            if members.isEmpty {
                let freed = try compactor.remove(packID: id, name: name)
                repair.actions.append(.init(kind: .removedFile, object: path, bytes: freed))
                continue
            }
            let layout = PackLayout.analyze(members: members, fileSize: size)
            guard !layout.unreferenced.isEmpty else { continue }
            if !layout.outside.isEmpty || !layout.overlapping.isEmpty || members.contains(where: { damagedBlobs.contains($0.sha256) }) {
                repair.skipped.append("\(path): \(layout.unreferencedBytes) unreferenced bytes left, because the pack holds a damaged original")
                continue
            }
            if layout.onlyTrailing {
                let freed = try compactor.truncate(name: name, to: layout.unreferenced[0].offset)
                repair.actions.append(.init(kind: .truncatedPack, object: path, bytes: freed))
            } else {
                let (replacement, freed) = try compactor.compact(packID: id, name: name, members: members)
                repair.actions.append(.init(kind: .compactedPack, object: path, bytes: freed,
                                            replacement: "\(PackStore.directory)/\(replacement)"))
            }
        }
    }
}
