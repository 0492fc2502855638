import Foundation
#if canImport(Glibc)
import CDossierSystem
import Glibc
#endif

/// Where an export's files go: a folder or a zip. Every path is the export's own (built by
/// `ExportLayout`), relative, with `/` separators; a sink refuses to write one twice.
///
/// Nothing is visible under the final name until `commit()`: a folder is written under a
/// staging name beside it and renamed into place, a zip is written as `NAME.partial` and renamed.
/// A run that fails (a full disk, a missing object) calls `abandon()`, which removes the staging
/// output, so a half export never sits where a finished one would.
public protocol ExportSink: AnyObject {
    /// Writes one file.
    func write(_ path: String, _ bytes: [UInt8]) throws
    /// A scratch file for an entry written piece by piece (the mbox), on the same filesystem.
    func scratchPath(for path: String) throws -> String
    /// Moves a finished scratch file in as `path`.
    func adopt(_ path: String, scratch: String) throws
    /// Makes everything durable and visible under the final name.
    func commit() throws
    /// Removes whatever was written.
    func abandon()
}

/// Errors about the export's output location.
public enum ExportOutputError: Error, CustomStringConvertible, Sendable {
    case exists(String)
    case io(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .exists(let path): return "\(path) already exists and is not an empty folder; choose a new path"
        case .io(let path, let code): return "\(path): \(String(cString: strerror(code)))"
        }
    }
}

/// An export written as a folder.
public final class FolderSink: ExportSink {
    public let destination: String
    private let staging: String
    private var directories = Set<String>()
    private var committed = false

    /// `destination` must not exist, or be an empty folder (which the export replaces).
    public init(destination: String) throws {
        let url = URL(fileURLWithPath: destination).standardizedFileURL
        self.destination = url.path
        if let contents = try? FileManager.default.contentsOfDirectory(atPath: self.destination) {
            guard contents.isEmpty else { throw ExportOutputError.exists(destination) }
        } else if FileManager.default.fileExists(atPath: self.destination) {
            throw ExportOutputError.exists(destination)
        }
        let parent = url.deletingLastPathComponent().path
        try makeParents(parent)
        staging = parent + "/." + url.lastPathComponent + ".dossier-partial-\(getpid())"
        try Self.makeDirectory(staging)
        directories.insert("")
    }

    public func write(_ path: String, _ bytes: [UInt8]) throws {
        let target = try prepare(path)
        let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ExportOutputError.io(path: target, errno: errno) }
        defer { close(fd) }
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ExportOutputError.io(path: target, errno: errno)
                }
                done += n
            }
        }
    }

    public func scratchPath(for path: String) throws -> String {
        try prepare(path)
    }

    public func adopt(_ path: String, scratch: String) throws {
        // The scratch file already is the file, in place.
    }

    public func commit() throws {
        // Flush the whole staged tree, then rename it into place and flush the parent directory.
        let fd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ExportOutputError.io(path: staging, errno: errno) }
        let synced = syncfs(fd)
        close(fd)
        guard synced == 0 else { throw ExportOutputError.io(path: staging, errno: errno) }
        // rename(2) replaces an empty directory; anything else at the destination was refused at init
        // (or appeared since, which rename refuses with ENOTEMPTY).
        guard rename(staging, destination) == 0 else { throw ExportOutputError.io(path: destination, errno: errno) }
        committed = true
        syncDirectory(of: destination)
    }

    public func abandon() {
        guard !committed else { return }
        try? FileManager.default.removeItem(atPath: staging)
    }

    private func prepare(_ path: String) throws -> String {
        precondition(ExportLayout.isSafeRelativePath(path), "not an export path: \(path)")
        var directory = ""
        let parts = path.split(separator: "/").dropLast()
        for part in parts {
            directory += (directory.isEmpty ? "" : "/") + part
            if directories.insert(directory).inserted { try Self.makeDirectory(staging + "/" + directory) }
        }
        return staging + "/" + path
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw ExportOutputError.io(path: path, errno: errno) }
    }
}

/// An export written as one zip file.
public final class ZipSink: ExportSink {
    public let destination: String
    private let partial: String
    private let writer: ZipWriter
    private var scratch: [String] = []
    private var committed = false

    /// `destination` must not exist.
    public init(destination: String, created: Date) throws {
        self.destination = URL(fileURLWithPath: destination).standardizedFileURL.path
        if FileManager.default.fileExists(atPath: self.destination) { throw ExportOutputError.exists(destination) }
        try makeParents(URL(fileURLWithPath: self.destination).deletingLastPathComponent().path)
        partial = self.destination + ".partial"
        do {
            writer = try ZipWriter(path: partial, modified: created)
        } catch ZipWriter.Failure.io(_, let code) where code == EEXIST {
            throw ExportOutputError.exists(partial)
        }
    }

    public func write(_ path: String, _ bytes: [UInt8]) throws {
        precondition(ExportLayout.isSafeRelativePath(path), "not an export path: \(path)")
        try writer.add(path, bytes)
    }

    public func scratchPath(for path: String) throws -> String {
        let name = partial + "." + path.replacingOccurrences(of: "/", with: "_") + ".tmp"
        let fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ExportOutputError.io(path: name, errno: errno) }
        close(fd)
        scratch.append(name)
        return name
    }

    public func adopt(_ path: String, scratch name: String) throws {
        try writer.add(path, contentsOf: name)
        unlink(name)
        scratch.removeAll { $0 == name }
    }

    public func commit() throws {
        try writer.finish()
        guard rename(partial, destination) == 0 else { throw ExportOutputError.io(path: destination, errno: errno) }
        committed = true
        syncDirectory(of: destination)
    }

    public func abandon() {
        for name in scratch { unlink(name) }
        if !committed { unlink(partial) }
    }
}

/// The folders above an export, created like `mkdir -p`.
private func makeParents(_ path: String) throws {
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw ExportOutputError.io(path: path, errno: (error as NSError).code == NSFileWriteNoPermissionError ? EACCES : ENOENT)
    }
}

/// fsync of the directory holding `path`, so a rename into it survives a power loss (best
/// effort: the export is complete either way, only its durability is at stake).
private func syncDirectory(of path: String) {
    try? DurableFiles.syncParent(of: path)
}
