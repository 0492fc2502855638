import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reclaims the bytes of a pack no blob points at, crash-safely. Only `ArchiveRepairer` uses it,
/// holding the archive's lock exclusively (no import can be appending).
///
/// Compaction, in this order:
/// 1. write a new pack (a fresh name, O_EXCL) with only the referenced members, copied byte for
///    byte and each checked again (inflated, hashed) on the way; `fsync` it and its directory;
/// 2. in one transaction, committed with `synchronous = FULL` (the archive's NORMAL could lose
///    the commit to a power cut after step 3), add the new pack's row, point every blob at its
///    new offset and delete the old pack's row;
/// 3. unlink the old pack and `fsync` the directory.
///
/// A crash before 2 commits leaves the old state and an unreferenced new pack file; after, the
/// new state and an unreferenced old pack file. Either way the next repair removes that file.
struct PackCompactor {
    /// Where a test can stop a compaction, as a crash would.
    enum Step { case newPackWritten, committed }

    let archive: Archive
    var stopAfter: Step? = nil

    enum Failure: Error, CustomStringConvertible {
        case changed(String)
        case corrupt(String)

        var description: String {
            switch self {
            case .changed(let why): return "the pack changed under the compaction: \(why)"
            case .corrupt(let why): return "a member failed its check while being copied: \(why)"
            }
        }
    }

    private var directory: String { archive.packs.directoryPath }

    /// Rewrites pack `id` (file `name`) with only `members` (its blobs, sorted by offset).
    /// - Returns: the new pack's name and the bytes freed.
    func compact(packID id: Int64, name: String, members: [PackMember]) throws -> (replacement: String, freed: Int64) {
        let oldPath = directory + "/" + name
        let oldSize = Inventory.size(of: oldPath) ?? 0
        let source = open(oldPath, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw StoreError.io(path: oldPath, errno: errno) }
        defer { close(source) }

        let newName = PackStore.newName()
        let newPath = directory + "/" + newName
        let target = open(newPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard target >= 0 else { throw StoreError.io(path: newPath, errno: errno) }
        var moved: [(PackMember, Int64)] = []
        do {
            defer { close(target) }
            let checker = MemberChecker()
            var buffer: [UInt8] = []
            var written: Int64 = 0
            for member in members {
                let length = Int(member.length)
                if buffer.count < length { buffer = [UInt8](repeating: 0, count: length) }
                try Self.readExactly(source, &buffer, length, at: member.offset, path: oldPath)
                if let problem = buffer.withUnsafeBytes({ checker.problem(UnsafeRawBufferPointer(rebasing: $0[0..<length]), sha256: member.sha256) }) {
                    throw Failure.corrupt("blob \(member.sha256): \(problem)")
                }
                try Self.writeAll(target, buffer, length, path: newPath)
                moved.append((member, written))
                written += member.length
            }
            guard fsync(target) == 0 else { throw StoreError.io(path: newPath, errno: errno) }
            try syncDirectory()
        } catch {
            unlink(newPath)
            throw error
        }
        if stopAfter == .newPackWritten { return (newName, 0) }

        try durableWrite { db in
            try db.execute(sql: "INSERT INTO pack (name) VALUES (?)", arguments: [newName])
            let newID = db.lastInsertedRowID
            let update = try db.makeStatement(sql: "UPDATE blob SET pack = ?, offset = ? WHERE sha256 = ? AND pack = ? AND offset = ? AND length = ?")
            for (member, offset) in moved {
                try update.execute(arguments: [newID, offset, member.sha256, id, member.offset, member.length])
                if db.changesCount != 1 { throw Failure.changed("blob \(member.sha256) is no longer where it was") }
            }
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blob WHERE pack = ?", arguments: [id]) != 0 {
                throw Failure.changed("blobs were added to it")
            }
            try db.execute(sql: "DELETE FROM pack WHERE id = ?", arguments: [id])
        }
        if stopAfter == .committed { return (newName, 0) }

        guard unlink(oldPath) == 0 || errno == ENOENT else { throw StoreError.io(path: oldPath, errno: errno) }
        try syncDirectory()
        let newSize = moved.last.map { $0.1 + $0.0.length } ?? 0
        return (newName, oldSize - newSize)
    }

    /// Cuts pack `name` back to `end` (the end of its last referenced member): nothing before
    /// `end` changes, so no row does either.
    func truncate(name: String, to end: Int64) throws -> Int64 {
        let path = directory + "/" + name
        let size = Inventory.size(of: path) ?? 0
        guard size > end else { return 0 }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.io(path: path, errno: errno) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(end)) == 0, fsync(fd) == 0 else { throw StoreError.io(path: path, errno: errno) }
        return size - end
    }

    /// Removes a pack no blob points at: its row first (if it has one), then its file.
    /// - Returns: the bytes of the file removed.
    func remove(packID id: Int64?, name: String) throws -> Int64 {
        if let id {
            try durableWrite { db in
                if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blob WHERE pack = ?", arguments: [id]) != 0 {
                    throw Failure.changed("blobs point into pack \(id)")
                }
                try db.execute(sql: "DELETE FROM pack WHERE id = ?", arguments: [id])
            }
        }
        let path = directory + "/" + name
        let size = Inventory.size(of: path) ?? 0
        guard unlink(path) == 0 || errno == ENOENT else { throw StoreError.io(path: path, errno: errno) }
        return size
    }

    /// One transaction committed with `synchronous = FULL`: durable before the caller removes
    /// the file the old rows named.
    private func durableWrite(_ body: (Database) throws -> Void) throws {
        try archive.database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
            try db.inTransaction(.immediate) {
                try body(db)
                return .commit
            }
        }
    }

    private func syncDirectory() throws {
        try DurableFiles.syncDirectory(directory)
    }

    private static func readExactly(_ fd: Int32, _ buffer: inout [UInt8], _ length: Int, at offset: Int64, path: String) throws {
        var done = 0
        while done < length {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, length - done, off_t(offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(path: path, errno: errno)
            }
            if n == 0 { throw Failure.changed("\(path) ends inside a member at \(offset + Int64(done))") }
            done += n
        }
    }

    private static func writeAll(_ fd: Int32, _ buffer: [UInt8], _ length: Int, path: String) throws {
        var done = 0
        while done < length {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + done, length - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(path: path, errno: errno)
            }
            done += n
        }
    }
}
