import CDossierZlib

/// One-shot gzip compression and decompression of whole blobs (stored originals, quarantined
/// bytes). Streaming decompression of large inputs lives in Readers.
///
/// Originals are stored as gzip (not raw deflate) so that a compliance officer can check any
/// object with standard tools: `zcat objects/messages/ab/<sha256>.eml.gz | sha256sum`.
public enum Gzip {
    public enum Failure: Error, CustomStringConvertible {
        case zlib(String)
        public var description: String {
            switch self { case .zlib(let message): return "zlib: \(message)" }
        }
    }

    /// Compresses `bytes` into a single gzip member. Level 1 is the default: on email text it runs
    /// ~5x faster than level 6 for a few percent more space, and compression is the import's
    /// largest single CPU cost.
    public static func compress(_ bytes: [UInt8], level: Int32 = 1) throws -> [UInt8] {
        var stream = z_stream()
        let initStatus = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                       ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw Failure.zlib("deflateInit2 failed (\(initStatus))") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(bytes.count)))
        var output = [UInt8](repeating: 0, count: bound)
        var written = 0
        var status: Int32 = Z_OK
        bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                status = deflate(&stream, Z_FINISH)
                written = out.count - Int(stream.avail_out)
            }
        }
        guard status == Z_STREAM_END else { throw Failure.zlib("deflate did not finish (\(status))") }
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses every gzip member in `bytes` (concatenated members are joined).
    public static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure.zlib("inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(max(bytes.count * 4, 4096))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        try bytes.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    if stream.avail_in == 0 { return }
                    inflateReset(&stream)
                case Z_OK:
                    if stream.avail_in == 0 && produced == 0 { throw Failure.zlib("truncated gzip data") }
                case Z_BUF_ERROR:
                    if stream.avail_in == 0 { throw Failure.zlib("truncated gzip data") }
                default:
                    throw Failure.zlib("corrupt gzip data (\(status))")
                }
            }
        }
        return output
    }
}
