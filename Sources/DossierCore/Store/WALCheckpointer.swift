import Foundation
import GRDB

/// Moves SQLite's WAL checkpoints off the import's writer thread.
///
/// By default SQLite checkpoints inside the commit that pushes the WAL past 1000 pages, on the
/// writing connection, and a checkpoint ends in two `fdatasync` calls. Profiling a 100k-message
/// import showed the writer thread, the import's bottleneck, spending about a fifth of its time
/// there. While an import runs, the writer's automatic checkpoints are turned off and this
/// object's own connection runs PASSIVE checkpoints in the background: they never block the
/// writer, and the writer restarts the WAL from its start after each one that completed, so the
/// WAL stays small. `finish()` restores automatic checkpoints and runs a last checkpoint.
final class WALCheckpointer: @unchecked Sendable {
    private let writer: DatabasePool
    private let connection: DatabaseQueue
    private let condition = NSCondition()
    private var commits = 0
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

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
                try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)")
            }
        }
    }
}
