import Foundation
import GRDB

/// Moves SQLite's WAL checkpoints off the import's writer thread.
///
/// By default SQLite checkpoints inside the commit that pushes the WAL past 1000 pages, on the
/// writing connection, and a checkpoint ends in two `fdatasync` calls. Profiling a 100k-message
/// import showed the writer thread, the import's bottleneck, spending about a fifth of its time
/// there. While an import runs, the writer's automatic checkpoints are turned off and this
/// object's own connection runs PASSIVE checkpoints in the background: they never block the
/// writer. `finish()` restores automatic checkpoints and runs a last checkpoint.
///
/// A PASSIVE checkpoint does not rewind the WAL; the writer does that when it begins a
/// transaction after a checkpoint has finished. Under a steady import the next transaction
/// usually begins while the checkpoint (with its `fdatasync`s) is still running, so the WAL only
/// grows: 430 MB within the first 30 s of a 1 GB mbox. Rewinding after every commit (RESTART)
/// kept it small and saved kernel time, but made the writer wait for each checkpoint and was no
/// faster. So the WAL is rewound (RESTART, which waits for the writer's transaction and for
/// readers) only once it passes `rewindFrames`, which bounds its size on disk for any import.
final class WALCheckpointer: @unchecked Sendable {
    private let writer: DatabasePool
    private let connection: DatabaseQueue
    private let condition = NSCondition()
    private var commits = 0
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)
    /// WAL frames (pages of 4 KiB) past which the WAL is rewound: 64 MiB.
    static let rewindFrames = 16_384

    init(pool: DatabasePool) throws {
        writer = pool
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        connection = try DatabaseQueue(path: pool.path, configuration: configuration)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        let thread = Thread { [self] in run() }
        thread.start()
    }

    /// Tells the checkpointer that a transaction was committed.
    func committed() {
        condition.lock()
        commits += 1
        condition.signal()
        condition.unlock()
    }

    /// Stops the background thread, restores automatic checkpoints and checkpoints what is left.
    func finish() throws {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
        done.wait()
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 1000")
            try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)")
        }
    }

    private func run() {
        defer { done.signal() }
        while true {
            condition.lock()
            while commits == 0 && !stopped { condition.wait() }
            let isStopped = stopped
            commits = 0
            condition.unlock()
            if isStopped { return }
            // A failed checkpoint loses nothing (the frames stay in the WAL for the next one).
            try? connection.writeWithoutTransaction { db in
                let frames = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)").map { $0[1] as Int } ?? 0
                if frames > Self.rewindFrames {
                    // Everything is copied by now: this only waits for the writer's transaction
                    // and readers to end, then starts the WAL over.
                    try db.execute(sql: "PRAGMA wal_checkpoint(RESTART)")
                }
            }
        }
    }
}
