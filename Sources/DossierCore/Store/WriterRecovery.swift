#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import GRDB
import Logging

/// What a writer that died (SIGKILL, a crash, a power cut, a full disk) leaves behind in the packs,
/// cleared by the next writer.
///
/// Called by an import or rematch once it holds the `WriterLock` (no other import or rematch is
/// alive; the lock also marks runs left `running` as `interrupted`) and the `ArchiveLock` shared
/// (no `verify --repair` is moving packs): every pack's bytes after its last indexed member were
/// appended by a writer that never committed them (a pack is only ever appended to by the writer
/// that created it, in one run), so the pack is cut back to its last member (`ftruncate`, then
/// `fsync`). Bytes between members (the originals of noise a run purged) and pack files no row
/// names are left to `verify --archive --repair`, which checks the whole archive first.
///
/// Nothing is cut while a pack is named after a live Dossier process (an older Dossier imports
/// without either lock), nor when the packs' rows look damaged (a pack row whose file is missing
/// or shorter than its last member, a blob naming no pack): unindexed bytes may then be what the
/// index lost. A failure to cut is logged and never stops the run.
public enum WriterRecovery {
    public struct Outcome: Sendable, Equatable {
        /// Packs cut back, with the bytes removed from each.
        public var truncatedPacks: [String: Int64] = [:]
        /// Why pack tails were left alone, when they were.
        public var leftAlone: String?
        public var reclaimedBytes: Int64 { truncatedPacks.values.reduce(0, +) }
    }

    private static let logger = Logger(label: "dossier.recovery")

    /// Cuts every pack back to its last indexed member. The caller holds the `WriterLock` and the
    /// `ArchiveLock` (shared or exclusive).
    @discardableResult
    public static func reclaimPackTails(_ archive: Archive) -> Outcome {
        var outcome = Outcome()
        let live = ArchiveLock.livePackWriters(packNames: packFileNames(archive.packs.directoryPath))
        guard live.isEmpty else {
            outcome.leftAlone = "packs are named after Dossier processes that still run (pid \(live.map(String.init).joined(separator: ", ")))"
            return outcome
        }
        do {
            try truncatePackTails(archive, &outcome)
        } catch {
            // Reclaiming space must never stop a run; verify --archive --repair can do it later.
            outcome.leftAlone = "\(error)"
            logger.warning("pack tails not reclaimed: \(error)")
        }
        if outcome.reclaimedBytes > 0 {
            logger.info("reclaimed \(outcome.reclaimedBytes) bytes a killed run appended to \(outcome.truncatedPacks.count) packs")
        }
        return outcome
    }

    /// Marks every `running` run interrupted (`verify --repair`, which holds the `ArchiveLock`
    /// exclusively, so no import or rematch is alive). Only call when no live process can own one.
    public static func markInterruptedRuns(_ database: DatabasePool, by command: String) throws -> [Int64] {
        try database.write { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM run WHERE status = 'running' ORDER BY id")
            guard !ids.isEmpty else { return [] }
            try db.execute(sql: """
                UPDATE run SET status = 'interrupted', finished_at = COALESCE(finished_at, ?),
                               error = COALESCE(error, ?)
                WHERE status = 'running'
                """, arguments: [Timestamp.now(),
                                 "the process ended without finishing the run (killed, crashed, power lost or out of disk space); "
                                 + "marked interrupted by the next \(command), which found no live process holding the archive"])
            return ids
        }
    }

    private static func truncatePackTails(_ archive: Archive, _ outcome: inout Outcome) throws {
        let (ends, orphanBlobs) = try archive.database.read { db -> ([String: Int64], Int) in
            var ends: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT pack.name, MAX(blob.offset + blob.length) FROM pack JOIN blob ON blob.pack = pack.id GROUP BY pack.id
                """) {
                ends[row[0]] = row[1]
            }
            let orphans = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blob WHERE pack NOT IN (SELECT id FROM pack)") ?? 0
            return (ends, orphans)
        }
        if orphanBlobs > 0 {
            outcome.leftAlone = "\(orphanBlobs) blob rows name no pack"
            return
        }
        var cuts: [(path: String, end: Int64, size: Int64)] = []
        for (name, end) in ends.sorted(by: { $0.key < $1.key }) {
            guard PackStore.isValidName(name) else { continue }
            let path = archive.packs.directoryPath + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int64(info.st_size) >= end else {
                outcome.leftAlone = "\(PackStore.directory)/\(name) is missing or shorter than its last indexed original"
                return
            }
            if Int64(info.st_size) > end { cuts.append((path, end, Int64(info.st_size))) }
        }
        for cut in cuts {
            let fd = open(cut.path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { throw StoreError.io(path: cut.path, errno: errno) }
            defer { close(fd) }
            guard ftruncate(fd, off_t(cut.end)) == 0, fsync(fd) == 0 else { throw StoreError.io(path: cut.path, errno: errno) }
            outcome.truncatedPacks[String(cut.path.split(separator: "/").last!)] = cut.size - cut.end
        }
    }

    private static func packFileNames(_ directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter(PackStore.isValidName) ?? []
    }
}
