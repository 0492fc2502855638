#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Failure injection for the crash-safety tests: named points on the write path where a debug
/// build can be made to die (SIGKILL, as a power cut or the OOM killer would end it) or to see a
/// write fail with ENOSPC or EIO. Release builds compile every check to nothing.
///
/// `DOSSIER_FAULT=POINT[:N][:ACTION]` arms one point: the Nth time it is reached (default 1) the
/// ACTION happens: `kill` (default), `enospc` or `eio` (the write at that point fails with that
/// errno, as a full disk or a failing one would make it).
public enum FaultPoint: String, Sendable, CaseIterable {
    /// A worker is about to write originals to its pack.
    case beforePackWrite = "before-pack-write"
    /// A worker has written originals to its pack (not yet durable, no row names them).
    case afterPackWrite = "after-pack-write"
    /// An attachment or quarantine object is about to be written.
    case beforeObjectWrite = "before-object-write"
    /// An attachment or quarantine object has been written and linked into place.
    case afterObjectWrite = "after-object-write"
    /// Inside the batch's transaction: rows inserted, not committed.
    case midTransaction = "mid-transaction"
    /// A batch has committed.
    case afterCommit = "after-commit"
    /// The drop folder is about to move a file to processed/ or quarantine/.
    case beforeDropMove = "before-drop-move"
    /// The drop folder has moved a file.
    case afterDropMove = "after-drop-move"

    public enum Action: String, Sendable { case kill, enospc, eio }

    /// Raises the armed fault if this is its point and its turn.
    @inline(__always)
    public static func check(_ point: FaultPoint, path: String = "") throws {
        #if DEBUG
        guard let armed = Armed.shared, armed.point == point, armed.due() else { return }
        switch armed.action {
        case .kill:
            kill(getpid(), SIGKILL)
            pause()
        case .enospc: throw StoreError.io(path: path.isEmpty ? "(fault \(point.rawValue))" : path, errno: ENOSPC)
        case .eio: throw StoreError.io(path: path.isEmpty ? "(fault \(point.rawValue))" : path, errno: EIO)
        }
        #endif
    }

    #if DEBUG
    private final class Armed: @unchecked Sendable {
        let point: FaultPoint
        let action: Action
        private let turn: Int
        private var count = 0
        private let lock = NSLock()

        init?(_ text: String?) {
            guard let parts = text?.split(separator: ":").map(String.init), let first = parts.first,
                  let point = FaultPoint(rawValue: first) else { return nil }
            self.point = point
            var turn = 1
            var action = Action.kill
            for part in parts.dropFirst() {
                if let n = Int(part) { turn = max(1, n) } else if let a = Action(rawValue: part) { action = a }
            }
            self.turn = turn
            self.action = action
        }

        /// True exactly once: the Nth time the point is reached.
        func due() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            count += 1
            return count == turn
        }

        static let shared = Armed(ProcessInfo.processInfo.environment["DOSSIER_FAULT"])
    }
    #endif
}
