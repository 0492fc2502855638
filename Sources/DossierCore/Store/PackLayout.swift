import CDossierZlib
import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One blob of a pack as the index records it.
public struct PackMember: Sendable, Hashable {
    public var sha256: String
    public var offset: Int64
    public var length: Int64

    public init(sha256: String, offset: Int64, length: Int64) {
        self.sha256 = sha256
        self.offset = offset
        self.length = length
    }

    public var end: Int64 { offset + length }
}

/// How a pack file's bytes are covered by the blobs that point into it: a pure function of the
/// blob rows and the file's size.
public struct PackLayout: Sendable, Equatable {
    /// Ranges no blob points at: gaps between members, before the first, after the last.
    public var unreferenced: [VerificationFinding.ByteRange] = []
    /// Indexes (into the sorted members) of members that run past the end of the file or have a
    /// negative offset or a length under 1.
    public var outside: [Int] = []
    /// Pairs of indexes of members whose ranges overlap.
    public var overlapping: [(Int, Int)] = []
    public var fileSize: Int64 = 0

    public static func == (a: PackLayout, b: PackLayout) -> Bool {
        a.fileSize == b.fileSize && a.unreferenced == b.unreferenced && a.outside == b.outside
            && a.overlapping.map { [$0.0, $0.1] } == b.overlapping.map { [$0.0, $0.1] }
    }

    public var unreferencedBytes: Int64 { unreferenced.reduce(0) { $0 + $1.length } }

    /// True when the only unreferenced bytes are the file's tail (a killed import's last appends):
    /// cutting the file back frees them without rewriting anything.
    public var onlyTrailing: Bool {
        unreferenced.count == 1 && outside.isEmpty && overlapping.isEmpty && unreferenced[0].offset > 0 && unreferenced[0].end == fileSize
    }

    /// - Parameter members: sorted by offset.
    public static func analyze(members: [PackMember], fileSize: Int64) -> PackLayout {
        var layout = PackLayout()
        layout.fileSize = fileSize
        var cursor: Int64 = 0
        var lastEndIndex: Int? = nil
        for (index, member) in members.enumerated() {
            guard member.offset >= 0, member.length > 0, member.offset <= Int64.max - member.length else {
                layout.outside.append(index)
                continue
            }
            if member.offset > cursor {
                layout.unreferenced.append(.init(offset: cursor, length: min(member.offset, fileSize) - cursor))
            } else if member.offset < cursor, let previous = lastEndIndex {
                layout.overlapping.append((previous, index))
            }
            if member.end > fileSize { layout.outside.append(index) }
            if member.end > cursor {
                cursor = min(member.end, max(fileSize, cursor))
                lastEndIndex = index
            }
        }
        if fileSize > cursor { layout.unreferenced.append(.init(offset: cursor, length: fileSize - cursor)) }
        layout.unreferenced.removeAll { $0.length <= 0 }
        return layout
    }
}

/// Checks stored gzip members against the digest they are named by: inflates each (zlib, which
/// also checks the member's CRC-32 and length) and hashes the output as it comes, so memory stays
/// one output buffer whatever the original's size. Not thread-safe: one per thread.
final class MemberChecker {
    private let stream: UnsafeMutablePointer<z_stream>
    private var output = [UInt8](repeating: 0, count: 1 << 18)

    init() {
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 + 16: one gzip member, its trailer checked.
        _ = inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// The gzip FNAME of a member, nil when its header has none; throws on a damaged header.
    static func headerName(_ member: UnsafeRawBufferPointer) -> (name: String?, damaged: Bool) {
        let bytes = member.bindMemory(to: UInt8.self)
        guard bytes.count >= 18, bytes[0] == 0x1f, bytes[1] == 0x8b, bytes[2] == 8 else { return (nil, true) }
        let flags = bytes[3]
        var position = 10
        if flags & 0x04 != 0 {
            guard position + 2 <= bytes.count else { return (nil, true) }
            position += 2 + Int(bytes[position]) + Int(bytes[position + 1]) << 8
        }
        guard flags & 0x08 != 0 else { return (nil, false) }
        var end = position
        while end < bytes.count && bytes[end] != 0 && end - position < 256 { end += 1 }
        guard end < bytes.count, bytes[end] == 0 else { return (nil, true) }
        return (String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self), false)
    }

    /// Why `member` is not a sound stored original named `sha256`; nil when it is.
    func problem(_ member: UnsafeRawBufferPointer, sha256: String) -> String? {
        let header = Self.headerName(member)
        if header.damaged { return "its gzip header is damaged" }
        guard let name = header.name else { return "its gzip header carries no name" }
        if name != sha256 { return "its gzip header names it \(name.prefix(80))" }
        switch inflateDigest(member) {
        case .failure(let reason): return reason
        case .success(let digest): return digest == sha256 ? nil : "it inflates to bytes whose SHA-256 is \(digest)"
        }
    }

    enum Outcome { case success(String), failure(String) }

    /// The SHA-256 (hex) of the one gzip member `member` holds, or why it cannot be had.
    func inflateDigest(_ member: UnsafeRawBufferPointer) -> Outcome {
        inflateReset(stream)
        var hasher = SHA256()
        guard let base = member.baseAddress, member.count > 0 else { return .failure("it is empty") }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = uInt(member.count)
        while true {
            let status: Int32 = output.withUnsafeMutableBytes { out in
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
                stream.pointee.avail_out = uInt(out.count)
                let status = inflate(stream, Z_NO_FLUSH)
                let produced = out.count - Int(stream.pointee.avail_out)
                if produced > 0 { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: out[0..<produced])) }
                return status
            }
            switch status {
            case Z_STREAM_END:
                let left = Int(stream.pointee.avail_in)
                if left > 0 { return .failure("\(left) bytes follow the end of its gzip member inside its recorded length") }
                return .success(ContentHash.hex(hasher.finalize()))
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                if stream.pointee.avail_in == 0 { return .failure("its gzip member is truncated (it ends before its deflate stream does)") }
                continue
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                return .failure("it does not inflate (\(message))")
            }
        }
    }
}
