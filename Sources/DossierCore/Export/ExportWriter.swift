import Crypto
import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// What an export run produced (or, for a dry run, would produce).
public struct ExportResult: Sendable, Encodable {
    public var destination: String
    public var record: String
    public var scope: String
    public var dryRun: Bool
    public var messages: Int
    /// Attachments of the exported messages, and the distinct files they are (`attachments/`).
    public var attachments: Int
    public var attachmentFiles: Int
    public var files: Int
    /// Bytes of every file listed in the manifest (a dry run: of the originals and attachments).
    public var bytes: Int64
    public var leftOut: [String: Int]
    /// The hash chain's last link: with it, the manifest proves the export whole.
    public var chainHead: String?
    public var manifestSHA256: String?
    public var signed: Bool
    public var elapsed: Double
    /// Other contents written beside their message's first (`--all-copies`).
    public var variants: Int = 0

    enum CodingKeys: String, CodingKey {
        case destination, record, scope, messages, attachments, files, bytes, signed, elapsed, variants
        case dryRun = "dry_run"
        case attachmentFiles = "attachment_files"
        case leftOut = "left_out"
        case chainHead = "chain_head"
        case manifestSHA256 = "manifest_sha256"
    }
}

/// Writes one client's export (see `ExportLayout` for what it holds) from one snapshot of the
/// archive, streaming: one message's original, page and attachments in memory at a time, the
/// mbox and load files appended to files as they grow. Memory grows only with a small summary
/// per message (for the threads of the index page) and a manifest entry per file.
///
/// Order of work: select in one read transaction (`ExportSelection`), then, still in it, write
/// every message in date order, then the whole-export files, then the manifest, its signature
/// and the timestamp request; only then does the sink make the export visible (`commit`). Any
/// failure abandons the sink, so no half export is left where a finished one would be.
public struct ExportWriter {
    public let archive: Archive
    public var request: ExportRequest
    /// Signs `manifest.json` when set (`--sign`).
    public var signingKey: Curve25519.Signing.PrivateKey?
    /// Called after each message with (done, total).
    public var progress: ((Int, Int) -> Void)?
    /// `dossier --version`'s text, recorded in export.json.
    public var version: String = "dossier"
    /// The time the export says it was made (fixed in tests).
    public var now: Date = Date()

    public init(archive: Archive, request: ExportRequest) {
        self.archive = archive
        self.request = request
    }

    /// Makes the export through `sink` (nil: a dry run that only counts). `destination` is what
    /// the result names.
    public func run(into sink: ExportSink?, destination: String) throws -> ExportResult {
        let started = Date()
        do {
            var result = try archive.database.read { db in
                // The export reads each message's rows once, in order: a small page cache holds
                // the indexes' upper levels, which is all it reuses; the default 16 MiB would only
                // fill with pages never read again (and grow memory from 1k to 10k messages).
                try db.execute(sql: "PRAGMA cache_size = -\(Self.cacheKiB)")
                defer { try? db.execute(sql: "PRAGMA cache_size = -\(Archive.cacheKiB)") }
                return try write(into: sink, destination: destination, db)
            }
            try sink?.commit()
            result.elapsed = Date().timeIntervalSince(started)
            return result
        } catch {
            sink?.abandon()
            throw error
        }
    }

    /// The export's SQLite page cache, in KiB.
    static let cacheKiB = 4096

    private func write(into sink: ExportSink?, destination: String, _ db: Database) throws -> ExportResult {
        let index = CRMIndex(try CRMStore.activeDirectory(in: db) ?? CRMDirectory())
        let selection = try ExportSelection.select(request, index: index, db)
        let scope = request.scope
        var leftOutCounts: [String: Int] = [:]
        for item in selection.leftOut { leftOutCounts[item.reason.rawValue, default: 0] += 1 }
        var result = ExportResult(destination: destination, record: request.record.description, scope: scope.rawValue,
                                  dryRun: sink == nil, messages: selection.messages.count, attachments: 0, attachmentFiles: 0,
                                  files: 0, bytes: 0, leftOut: leftOutCounts, chainHead: nil, manifestSHA256: nil,
                                  signed: false, elapsed: 0)

        // Pass 1: the threads, as a few integers per message.
        let gather = try ExportGatherer(archive: archive, db: db, records: selection.records)
        let ids = selection.messages
        let threads = try ExportGatherer.threads(count: ids.count) { try gather.threadKeys(ids[$0]) }
        let prefix = ExportGatherer.controlPrefix(for: request.record)
        var cache = SummaryCache(capacity: 4096)
        func headAt(_ position: Int) throws -> ExportGatherer.Head {
            try cache.head(position) { try gather.head(ids[position], controlNumber: String(format: "%@-%08d", prefix, position + 1)) }
        }

        guard let sink else {
            var digests = Set<String>()
            for id in ids {
                result.bytes += Int64(try gather.detail(id).size)
                for attachment in try gather.attachments(id) {
                    result.attachments += 1
                    if digests.insert(attachment.sha256).inserted, scope.includesAttachments { result.bytes += Int64(attachment.size) }
                }
            }
            result.attachmentFiles = scope.includesAttachments ? digests.count : 0
            return result
        }

        // Pass 2: the messages, oldest first. Every file goes into the chain as it is written;
        // the manifest's entries are streamed to files, not kept.
        let manifest = try ManifestWriter(sink: sink)
        func add(_ path: String, _ bytes: [UInt8]) throws {
            try sink.write(path, bytes)
            try manifest.append(path: path, size: Int64(bytes.count), sha256: ContentHash.sha256Hex(bytes))
        }
        let mbox = scope.includesOriginals ? try StreamedFile(path: ExportLayout.mbox, sink: sink) : nil
        let loadCSV = try StreamedFile(path: ExportLayout.loadFileCSV, sink: sink)
        let loadDAT = try StreamedFile(path: ExportLayout.loadFileDAT, sink: sink)
        try loadCSV.append(Array(LoadFile.csvHeader().utf8))
        try loadDAT.append(Array(LoadFile.datHeader().utf8))
        var namer = AttachmentNamer()
        var written = Set<String>()
        var summary = ExportSummaryTable()
        let name = ClientName.of(request.record, index: index)
        let first = ids.isEmpty ? nil : try headAt(0).summary.date
        let last = ids.isEmpty ? nil : try headAt(ids.count - 1).summary.date
        // What each page's heading needs; the index gets the months and counts at the end.
        var overview = ExportOverview(record: request.record, name: name, includedRecords: Array(selection.records.dropFirst()),
                                      createdAt: now, parameters: parameterWords(), messageCount: ids.count, attachmentCount: 0,
                                      leftOut: leftOutCounts, first: first, last: last, months: [], threads: [],
                                      threadCount: threads.members.count)
        var months: [String: ExportOverview.MonthCount] = [:]

        for position in ids.indices {
            let head = try headAt(position)
            let detail = try gather.detail(head.id)
            let original = scope.includesOriginals ? try gather.original(head, detail) : nil
            var attachments: [ExportedAttachment] = []
            for (n, attachment) in try gather.attachments(head.id).enumerated() {
                var path: String?
                if scope.includesAttachments {
                    let target = namer.path(sha256: attachment.sha256, name: attachment.name)
                    if written.insert(attachment.sha256).inserted {
                        try add(target, try gather.attachmentBytes(attachment, key: head.summary.key))
                    }
                    path = target
                }
                attachments.append(ExportedAttachment(controlNumber: head.summary.controlNumber + String(format: ".%04d", n + 1),
                                                      name: attachment.name, contentType: attachment.contentType,
                                                      size: attachment.size, sha256: attachment.sha256, path: path))
            }
            let text = original.map { MessageParser.parse($0, attachmentData: false).bodyText }
            let thread = Int(threads.of[position])
            let message = detail.exported(head, attachments: attachments, thread: thread, text: text,
                                          emlPath: scope.includesOriginals ? ExportLayout.messagePath(date: head.summary.date, key: head.summary.key) : nil)
            if let original, let path = message.emlPath {
                try add(path, original)
                try mbox?.append(Mboxrd.entry(original, sender: detail.fromAddress, date: head.summary.date))
                if request.allCopies {
                    for variant in try gather.variants(head.id) {
                        let bytes = try gather.original(sha256: variant.sha256, key: head.summary.key)
                        try add(ExportLayout.variantPath(date: head.summary.date, key: head.summary.key, number: variant.number), bytes)
                        try mbox?.append(Mboxrd.entry(bytes, sender: detail.fromAddress, date: head.summary.date))
                        result.variants += 1
                    }
                }
            }
            let siblings = try threads.members[thread].map { try headAt(Int($0)).summary }
            let page = ExportSite.messagePage(message, thread: siblings, overview: overview,
                                              previous: position > 0 ? try headAt(position - 1).summary : nil,
                                              next: position + 1 < ids.count ? try headAt(position + 1).summary : nil)
            try add(message.pagePath, Array(page.utf8))
            try loadCSV.append(Array(LoadFile.csvRows(message).utf8))
            try loadDAT.append(Array(LoadFile.datRows(message).utf8))
            summary.add(message, at: detail.locations)
            let month = ExportGatherer.month(head.summary.date)
            var count = months[month] ?? ExportOverview.MonthCount(month: month, inbound: 0, outbound: 0, other: 0)
            switch message.direction {
            case "inbound": count.inbound += 1
            case "outbound": count.outbound += 1
            default: count.other += 1
            }
            months[month] = count
            result.attachments += attachments.count
            progress?(position + 1, ids.count)
        }
        result.attachmentFiles = written.count

        // The whole-export files.
        for file in [mbox, loadCSV, loadDAT].compactMap({ $0 }) {
            let (size, digest) = try file.finish()
            try manifest.append(path: file.path, size: size, sha256: digest)
        }
        overview.attachmentCount = result.attachments
        overview.months = ExportGatherer.monthSeries(months)
        overview.files = ExportOverview.standardFiles.filter { file in
            switch file {
            case ExportLayout.mbox: return scope.includesOriginals
            case "messages/": return scope.includesOriginals && !ids.isEmpty
            case "attachments/": return !written.isEmpty
            default: return true
            }
        }
        // Pass 3: the index, streamed thread by thread (threads in the order of their first message).
        let site = try StreamedFile(path: ExportLayout.index, sink: sink)
        try site.append(Array(ExportSite.indexHead(overview).utf8))
        for (number, members) in threads.members.enumerated() {
            let section = ExportSite.indexThread(try members.map { try headAt(Int($0)).summary }, number: number)
            try site.append(Array(section.utf8))
        }
        try site.append(Array(ExportSite.indexTail(overview).utf8))
        let (siteSize, siteDigest) = try site.finish()
        try manifest.append(path: ExportLayout.index, size: siteSize, sha256: siteDigest)
        try add(ExportLayout.summary, Array(summary.csv().utf8))
        try add(ExportLayout.leftOut, Array(LeftOutFile.csv(selection.leftOut).utf8))
        var parameters = try self.parameters(db, name: name, selection: selection, result: result)
        // Everything listed so far; export.json itself is the one file its count leaves out.
        parameters.counts.bytes = manifest.bytes
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let parametersJSON = Array(try encoder.encode(parameters)) + [10]
        try add(ExportLayout.parameters, parametersJSON)

        // The manifest, then what proves it.
        let sealed = try manifest.finish(record: request.record.description, createdAt: parameters.createdAt, parameters: parameters,
                                         keepBytes: signingKey != nil)
        if let signingKey, let manifestBytes = sealed.bytes {
            try sink.write(ExportLayout.signature, Array(try ExportSigning.sign(manifestBytes, with: signingKey)))
            try sink.write(ExportLayout.signerKey, Array(ExportSigning.publicKeyPEM(signingKey.publicKey).utf8))
            result.signed = true
        }
        try sink.write(ExportLayout.timestampQuery, TimestampRequest.query(sha256: sealed.sha256))

        result.files = manifest.count
        result.bytes = manifest.bytes
        result.chainHead = manifest.head
        result.manifestSHA256 = ContentHash.hex(sealed.sha256)
        return result
    }

    /// The options as words, for the index page.
    private func parameterWords() -> [String] {
        var words = ["--scope \(request.scope.rawValue)"]
        if request.withSubsidiaries { words.append("--with-subsidiaries") }
        if let since = request.since { words.append("--since \(since)") }
        if let until = request.until { words.append("--until \(until)") }
        if let group = request.group { words.append("--group \(group)") }
        if let query = request.query { words.append("--query \(query)") }
        if request.allCopies { words.append("--all-copies") }
        return words
    }

    private func parameters(_ db: Database, name: String?, selection: ExportSelection, result: ExportResult) throws -> ExportParameters {
        let load = try Row.fetchOne(db, sql: "SELECT id, loaded_at, source_dir FROM crm_load WHERE active = 1")
        let run = try Row.fetchOne(db, sql: "SELECT id, finished_at FROM run ORDER BY id DESC LIMIT 1")
        let state = ExportParameters.ArchiveState(
            path: archive.path, crmLoad: load?["id"], crmLoadedAt: load?["loaded_at"], crmSource: load?["source_dir"],
            runs: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run") ?? 0, lastRun: run?["id"], lastRunFinishedAt: run?["finished_at"],
            messages: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message") ?? 0)
        return ExportParameters(
            record: request.record.description, recordName: name, includedRecords: selection.records.map(\.description),
            withSubsidiaries: request.withSubsidiaries, scope: request.scope.rawValue, since: request.since, until: request.until,
            group: request.group, query: request.query, allCopies: request.allCopies ? true : nil, createdAt: ExportGatherer.iso(now), dossierVersion: version, archive: state,
            counts: ExportParameters.Counts(messages: result.messages, attachments: result.attachments,
                                            attachmentFiles: result.attachmentFiles, leftOut: selection.leftOut.count, bytes: 0))
    }
}

/// A file of the export appended to piece by piece (the mbox, the load files, the manifest),
/// hashed as it grows, in a scratch file the sink adopts when it is finished.
final class StreamedFile {
    let path: String
    private let sink: ExportSink
    private let scratch: String
    private let fd: Int32
    private var hasher = SHA256()
    private var size: Int64 = 0
    private var buffer: [UInt8] = []
    /// Every byte appended, when asked for at creation (manifest.json, to be signed).
    private(set) var keptBytes: [UInt8]?

    init(path: String, sink: ExportSink, keepingBytes: Bool = false) throws {
        self.path = path
        self.sink = sink
        scratch = try sink.scratchPath(for: path)
        fd = open(scratch, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ExportOutputError.io(path: scratch, errno: errno) }
        buffer.reserveCapacity(1 << 20)
        if keepingBytes { keptBytes = [] }
    }

    deinit { close(fd) }

    func append(_ bytes: [UInt8]) throws {
        hasher.update(data: bytes)
        size += Int64(bytes.count)
        keptBytes?.append(contentsOf: bytes)
        // A large piece (a big message in the mbox) goes straight to the file: copied into the
        // buffer, it would grow the buffer to its size for the rest of the export.
        if bytes.count >= Self.bufferBytes {
            try drain()
            try writeAll(bytes)
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.bufferBytes { try drain() }
    }

    private static let bufferBytes = 1 << 20

    /// Writes what is left, hands the file to the sink; its size and SHA-256.
    func finish() throws -> (Int64, String) {
        try drain()
        guard fsync(fd) == 0 else { throw ExportOutputError.io(path: scratch, errno: errno) }
        try sink.adopt(path, scratch: scratch)
        return (size, ContentHash.hex(hasher.finalize()))
    }

    /// Appends everything written so far to `other`, reading it back in chunks.
    func copy(into other: StreamedFile) throws {
        try drain()
        var offset: off_t = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ExportOutputError.io(path: scratch, errno: errno)
            }
            if n == 0 { return }
            try other.append(Array(chunk[0..<n]))
            offset += off_t(n)
        }
    }

    /// Removes the scratch file: for working files that are not part of the export.
    func discard() {
        unlink(scratch)
    }

    private func drain() throws {
        try writeAll(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ExportOutputError.io(path: scratch, errno: errno)
                }
                done += n
            }
        }
    }
}

/// Message heads by position, a bounded number at a time: a page needs its thread's and its
/// neighbours' lines, the index each thread's, and holding every message's would make memory
/// grow with the client.
struct SummaryCache {
    let capacity: Int
    private var heads: [Int: ExportGatherer.Head] = [:]

    init(capacity: Int) { self.capacity = capacity }

    mutating func head(_ position: Int, read: () throws -> ExportGatherer.Head) rethrows -> ExportGatherer.Head {
        if let known = heads[position] { return known }
        if heads.count >= capacity { heads.removeAll(keepingCapacity: true) }
        let head = try read()
        heads[position] = head
        return head
    }
}

/// The client's name in the directory in force.
enum ClientName {
    static func of(_ record: CRMRecordRef, index: CRMIndex) -> String? {
        switch record.kind {
        case .account: return index.account(id: record.id)?.name
        case .contact: return index.contact(id: record.id)?.name
        case .lead: return index.lead(id: record.id).flatMap { $0.name ?? $0.company }
        case .case: return index.case(id: record.id).flatMap { $0.title ?? $0.code }
        }
    }
}
