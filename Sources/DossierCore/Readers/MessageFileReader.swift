/// Reads one file as one message: an .eml, any other regular file found in a directory tree, or a
/// Maildir message file. Gzip data (by its magic bytes, e.g. Dovecot's compressed Maildir) is
/// decompressed. Whether the bytes are a message at all is decided later (`MessagePreparer`).
public struct MessageFileReader: MessageReader {
    private let path: String
    private let location: MessageLocation
    private let limit: Int
    private let followLinks: Bool
    private var done = false

    /// - Parameter followLinks: false for a file found inside a tree (never read through a link).
    public init(path: String, mailbox: String, folder: String = "", flags: String = "",
                maxMessageBytes: Int = ReaderLimits.maxMessageBytes, followLinks: Bool = true) {
        self.path = path
        self.location = MessageLocation(mailbox: mailbox, path: path, folder: folder, flags: flags)
        self.limit = maxMessageBytes
        self.followLinks = followLinks
    }

    public mutating func next() throws -> RawMessage? {
        guard !done else { return nil }
        done = true
        return RawMessage(bytes: try Self.read(path, limit: limit, followLinks: followLinks), location: location)
    }

    /// The bytes of `path`, gunzipped when they start with the gzip magic.
    /// - Throws: `SourceError.tooLarge` beyond `limit` (before or after decompression),
    ///   `.unreadable`, `.notFound`, `.corrupt` for bad gzip data.
    static func read(_ path: String, limit: Int, followLinks: Bool = true) throws -> [UInt8] {
        let plain = try FileByteStream(path: path, gzip: false, followLinks: followLinks)
        let size = plain.size
        if size > Int64(limit) { throw SourceError.tooLarge(path: path, offset: nil, limit: limit) }
        guard let raw = try plain.readAll(limit: limit, sizeHint: Int(size)) else {
            throw SourceError.tooLarge(path: path, offset: nil, limit: limit)
        }
        guard raw.count >= 2 && raw[0] == 0x1F && raw[1] == 0x8B else { return raw }
        return try gunzip(raw, path: path, limit: limit)
    }

    private static func gunzip(_ raw: [UInt8], path: String, limit: Int) throws -> [UInt8] {
        let inflater: GzipInflater
        do { inflater = try GzipInflater() } catch { throw SourceError.unreadable(path: path, reason: "\(error)") }
        var output: [UInt8] = []
        output.reserveCapacity(min(raw.count * 4, limit))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var consumedTotal = 0
        do {
            while true {
                let (consumed, produced) = try raw.withUnsafeBytes { input in
                    try chunk.withUnsafeMutableBytes { out in
                        try inflater.inflate(UnsafeRawBufferPointer(rebasing: input[consumedTotal...]), into: out)
                    }
                }
                consumedTotal += consumed
                if output.count + produced > limit { throw SourceError.tooLarge(path: path, offset: nil, limit: limit) }
                output.append(contentsOf: chunk[0..<produced])
                if produced == 0 && (consumed == 0 || consumedTotal == raw.count) {
                    try inflater.finish()
                    return output
                }
            }
        } catch let error as GzipInflater.Failure {
            throw SourceError.corrupt(path: path, offset: Int64(output.count), reason: "\(error)")
        }
    }
}
