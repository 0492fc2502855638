#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sequential bytes of one file, plain or gzip-decompressed, read with read(2) in large chunks.
///
/// The file is opened read-only and never written: sources are evidence. A class because it owns
/// a file descriptor (closed in deinit) and, for gzip, the zlib state.
final class FileByteStream {
    /// Compressed input per read(2): large reads keep the syscall cost negligible next to scanning.
    static let chunkSize = 1 << 20

    let path: String
    private let fd: Int32
    private let inflater: GzipInflater?
    private var input: UnsafeMutableRawBufferPointer
    private var inputStart = 0
    private var inputEnd = 0
    private var inputEOF = false
    private var finished = false
    /// Decompressed (or plain) bytes delivered so far: the offset of the next byte returned.
    private(set) var offset: Int64 = 0
    /// The file's size when it was opened (of the compressed data for gzip).
    let size: Int64
    /// Compressed bytes read from the file so far (gzip only).
    private var compressedRead: Int64 = 0

    /// The cap on what one gzip source may inflate to: past `bombFloor` bytes, no more than
    /// `bombRatio` times the compressed bytes read. Mail compresses 3-10 times, and deflate
    /// cannot pass about 1,030 times, which only long runs of one byte reach: a stream beyond
    /// 200 times is a decompression bomb (a 10 MB file of zeros inflating to 10 GB), and reading
    /// it would cost minutes for nothing. Messages returned before the cap stay valid; the rest
    /// of the source is reported corrupt (quarantined with this reason). Each message is capped
    /// on its own at `ReaderLimits.maxMessageBytes`.
    static let bombRatio: Int64 = 200
    static let bombFloor: Int64 = 1 << 30

    /// Opens `path`; `gzip` decompresses as it reads. With `followLinks` false, a symbolic link
    /// at `path` itself is refused (`O_NOFOLLOW`): files found inside a tree are never read
    /// through a link (see `SymlinkPolicy`).
    /// - Throws: `SourceError.notFound` or `.unreadable`.
    init(path: String, gzip: Bool, followLinks: Bool = true) throws {
        self.path = path
        var descriptor: Int32
        let name = FileSystemName.bytes(path)
        // O_NONBLOCK: a FIFO (or a file swapped for one after the directory was listed) must not
        // block the import forever waiting for a writer; it is refused below.
        let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followLinks ? 0 : O_NOFOLLOW)
        repeat { descriptor = open(name, flags) } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT { throw SourceError.notFound(path: path) }
            if code == ELOOP && !followLinks { throw SourceError.unreadable(path: path, reason: "a symbolic link (not followed)") }
            throw SourceError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        var info = stat()
        if fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG {
            close(descriptor)
            if (info.st_mode & S_IFMT) == S_IFDIR { throw SourceError.unreadable(path: path, reason: "is a directory") }
            throw SourceError.unreadable(path: path, reason: "not a regular file (a FIFO, socket or device); not read")
        }
        // O_NONBLOCK stays set: it means nothing for a regular file, and clearing it cost two
        // system calls per Maildir message.
        size = Int64(info.st_size)
        #if os(Linux)
        // Tell the kernel we read a large file front to back, so it reads ahead generously.
        if info.st_size > Self.chunkSize { _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_SEQUENTIAL) }
        #endif
        fd = descriptor
        if gzip {
            do { inflater = try GzipInflater() } catch {
                close(descriptor)
                throw SourceError.unreadable(path: path, reason: "\(error)")
            }
            input = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        } else {
            inflater = nil
            input = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 16)
        }
    }

    deinit {
        close(fd)
        input.deallocate()
    }

    /// Fills `buffer` with the next bytes; returns 0 only at the end of the data.
    /// - Throws: `SourceError.unreadable` on an I/O error, `.corrupt` for bad gzip data (the offset
    ///   is the decompressed offset reached, the reason names the compressed one).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0, !finished else { return 0 }
        guard let inflater else {
            let n = try rawRead(into: buffer)
            if n == 0 { finished = true }
            offset += Int64(n)
            return n
        }
        while true {
            if inputStart == inputEnd && !inputEOF {
                inputStart = 0
                inputEnd = try rawRead(into: input)
                compressedRead += Int64(inputEnd)
                if inputEnd == 0 { inputEOF = true }
            }
            let available = UnsafeRawBufferPointer(rebasing: input[inputStart..<inputEnd])
            let result: (consumed: Int, produced: Int)
            do {
                result = try inflater.inflate(available, into: buffer)
            } catch {
                throw SourceError.corrupt(path: path, offset: offset, reason: "\(error)")
            }
            inputStart += result.consumed
            offset += Int64(result.produced)
            if offset > Self.bombFloor && offset > Self.bombRatio * compressedRead {
                finished = true
                throw SourceError.corrupt(path: path, offset: offset, reason: "gzip data inflating to more than \(Self.bombRatio) times "
                                          + "its compressed size (\(compressedRead) bytes became \(offset)): a decompression bomb; not read further")
            }
            if result.produced > 0 { return result.produced }
            if inputEOF && inputStart == inputEnd {
                do { try inflater.finish() } catch {
                    throw SourceError.corrupt(path: path, offset: offset, reason: "\(error)")
                }
                finished = true
                return 0
            }
            if result.consumed == 0 && inputStart < inputEnd {
                // zlib accepted nothing and produced nothing with input pending: cannot happen with
                // a sane zlib, but never spin.
                throw SourceError.corrupt(path: path, offset: offset, reason: "gzip decoder made no progress")
            }
        }
    }

    private func rawRead(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        while true {
            #if canImport(Glibc)
            let n = Glibc.read(fd, base, buffer.count)
            #else
            let n = Darwin.read(fd, base, buffer.count)
            #endif
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw SourceError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Reads the whole remaining stream, refusing to grow beyond `limit` bytes.
    /// - Returns: the bytes, or nil when the data is longer than `limit` (the rest is not read).
    func readAll(limit: Int, sizeHint: Int) throws -> [UInt8]? {
        // Read straight into the result, sized for the expected bytes and one more (so that the
        // read that finds the end needs no growth), doubling when the data is longer.
        var bytes = [UInt8](repeating: 0, count: min(max(sizeHint, 0), limit) + 1)
        var filled = 0
        while true {
            if filled == bytes.count {
                if filled > limit { return nil }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit + 1 - filled)))
            }
            let n = try bytes.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if n == 0 { break }
            filled += n
        }
        if filled > limit { return nil }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }
}
