import Foundation
@testable import DossierCore

/// Reports a broken invariant as a crash libFuzzer records (with the input that caused it).
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #file, line: UInt = #line) {
    if !condition() { fatalError("invariant: \(message())", file: file, line: line) }
}

/// Every fuzz target: input bytes in, a trap (crash, sanitizer report or broken invariant) out
/// when something is wrong. Each checks "no crash" and the cheap invariants its API offers.
enum FuzzTargets {
    nonisolated(unsafe) static var selected: ([UInt8]) -> Void = { _ in }

    nonisolated(unsafe) static let all: [String: ([UInt8]) -> Void] = [
        "mime": mime,
        "header": header,
        "address": address,
        "date": date,
        "params": params,
        "transfer": transfer,
        "mbox": mbox,
        "query": query,
        "csv": csv,
        "rules": rules,
        "crm": crm,
    ]

    // MARK: MIME

    /// The whole message: the entity tree's byte ranges stay inside the input and nest; the
    /// message parser (text, attachments, addresses, dates) and every part's decoding run.
    static func mime(_ bytes: [UInt8]) {
        let limits = ParseLimits(maxDepth: bytes.count % 2 == 0 ? 64 : 3)
        let root = MIMEParser.parse(bytes, limits: limits)
        var stack: [(MIMEEntity, Range<Int>)] = [(root, 0..<bytes.count)]
        var seen = 0
        while let (entity, outer) = stack.popLast() {
            seen += 1
            let h = entity.headerRange, b = entity.bodyRange
            require(h.lowerBound >= outer.lowerBound && b.upperBound <= outer.upperBound,
                    "entity \(h) \(b) outside its parent \(outer)")
            require(h.upperBound == b.lowerBound, "header \(h) does not end where body \(b) starts")
            _ = entity.decodedBody(in: bytes)
            _ = entity.fileName
            for child in entity.children { stack.append((child, b)) }
            for inner in entity.embedded { stack.append((inner, b)) }
        }
        var walked = 0
        root.walk { number, _ in
            walked += 1
            require(root.part(number) != nil, "part \(number) from walk not found by part()")
        }
        _ = walked
        let message = MessageParser.parse(bytes, limits: limits)
        require(message.root.bodyRange.upperBound <= bytes.count, "message body beyond input")
        _ = MessageParser.rejectionReason(bytes)
    }

    // MARK: Header fields

    /// Unstructured text (RFC 2047) and Message-ID lists.
    static func header(_ bytes: [UInt8]) {
        let text = HeaderText.decodeUnstructured(bytes)
        if let first = text.unicodeScalars.first, let last = text.unicodeScalars.last {
            require(!(first == " " || first == "\t") && !(last == " " || last == "\t"),
                    "decoded text not trimmed: \(text.debugDescription)")
        }
        let unfolded = HeaderText.unfold(bytes)
        require(!unfolded.contains(13) && !unfolded.contains(10), "unfold left a line break")
        let ids = MessageIDParser.parseList(bytes)
        require(ids.count <= MessageIDParser.maxIDs, "\(ids.count) ids")
        require(Set(ids).count == ids.count, "duplicate ids in \(ids)")
        if let one = MessageIDParser.parseOne(bytes) { require(!one.isEmpty, "empty Message-ID") }
    }

    /// Address lists; a plain `local@domain` address comes back as itself when parsed alone.
    static func address(_ bytes: [UInt8]) {
        let list = AddressParser.parse(bytes)
        require(list.count <= AddressParser.maxAddresses, "\(list.count) addresses")
        for entry in list {
            _ = entry.domain
            _ = entry.normalized
            // Addresses holding encoded-word syntax are left out: the lexer keeps `=?...?=` whole
            // even glued to address text (MimeKit's loose mode), so such junk need not round-trip.
            guard isPlainAddress(entry.address), !entry.address.contains("=?") else { continue }
            let again = AddressParser.parse(Array(entry.address.utf8))
            require(again.count == 1 && again[0].address.lowercased() == entry.address.lowercased(),
                    "\(entry.address) re-parsed as \(again)")
        }
    }

    static func isPlainAddress(_ s: String) -> Bool {
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-.".utf8)
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        for part in parts {
            guard !part.isEmpty, part.first != ".", part.last != ".", !part.contains("..") else { return false }
            guard part.utf8.allSatisfy({ atext.contains($0) }) else { return false }
        }
        return true
    }

    /// Dates: a parsed date, written back in RFC 5322 form, parses to the same instant.
    static func date(_ bytes: [UInt8]) {
        guard let seconds = DateParser.epochSeconds(bytes) else { return }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let (y, m, d) = civil(fromDays: days)
        let rest = seconds - days * 86_400
        guard y >= 1000 && y <= 9999 else { return }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let text = String(format: "%d %@ %04d %02d:%02d:%02d +0000", d, months[m - 1], y,
                          Int(rest / 3600), Int(rest / 60 % 60), Int(rest % 60))
        let again = DateParser.epochSeconds(Array(text.utf8))
        require(again == seconds, "\(seconds) written as \(text) re-parsed as \(String(describing: again))")
        require(DateParser.epochSeconds(year: y, month: m, day: d) == days * 86_400, "epochSeconds(year:...) for \(text)")
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func civil(fromDays z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }

    /// Content-Type / Content-Disposition parameters (RFC 2045, RFC 2231 continuations and charsets).
    static func params(_ bytes: [UInt8]) {
        let (_, parameters) = ParameterParser.parse(bytes)
        require(parameters.count <= ParameterParser.maxParameters, "\(parameters.count) parameters")
        // Names are lowercased as ASCII (RFC 2045 tokens); other bytes are left alone.
        for name in parameters.keys { require(!name.utf8.contains { $0 >= 65 && $0 <= 90 }, "parameter name \(name) not lowercased") }
        if let type = ContentType.parse(bytes) {
            require(!type.type.isEmpty && !type.subtype.isEmpty, "empty type in \(type)")
            require(!type.mimeType.utf8.contains { $0 >= 65 && $0 <= 90 }, "type case \(type.mimeType)")
        }
        if let disposition = ContentDisposition.parse(bytes) { _ = disposition.isAttachment }
    }

    /// Transfer decodings: no crash on anything, output bounded by the input, and what a standard
    /// encoder writes decodes back to the input.
    static func transfer(_ bytes: [UInt8]) {
        let slice = bytes[...]
        let b64 = TransferDecoding.base64(slice)
        require(b64.count <= (bytes.count * 3) / 4 + 3, "base64 \(bytes.count) -> \(b64.count)")
        let qp = TransferDecoding.quotedPrintable(slice)
        require(qp.count <= bytes.count, "quoted-printable grew \(bytes.count) -> \(qp.count)")
        _ = TransferDecoding.uudecode(slice)
        for name in ["base64", "quoted-printable", "x-uuencode", "8bit", "BASE64"] {
            _ = TransferDecoding.decode(slice, encoding: name)
        }
        let encoded = Array(Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]).utf8)
        require(TransferDecoding.base64(encoded[...]) == bytes, "base64 round trip")
        require(TransferDecoding.quotedPrintable(quotedPrintableEncoded(bytes)[...]) == bytes, "quoted-printable round trip")
    }

    /// Quoted-printable as a conservative encoder writes it: every byte but letters and digits as
    /// `=XX`, soft line breaks every 72 columns.
    static func quotedPrintableEncoded(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        var column = 0
        for c in bytes {
            let plain = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
            let width = plain ? 1 : 3
            if column + width > 72 { out += [61, 13, 10]; column = 0 }
            if plain { out.append(c) } else { out += [61, hex[Int(c >> 4)], hex[Int(c & 15)]] }
            column += width
        }
        return out
    }

    // MARK: Readers

    static let scratch: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(base)/dossier-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: "/dev/shm/dossier-fuzz-\(getpid())") }
        return path
    }()

    /// The mbox reader over the input written to a file, with a window size and message limit
    /// picked from the first byte: offsets rise, stay inside the file, and the messages (with
    /// their separator lines dropped) never hold more bytes than the file.
    static func mbox(_ bytes: [UInt8]) {
        guard let control = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        let path = scratch + "/input.mbox"
        guard FileManager.default.createFile(atPath: path, contents: Data(body)) else { fatalError("cannot write \(path)") }
        let window = [1024, 1500, 4096, 1 << 16][Int(control & 3)]
        let limit = [64, 512, 4096, 1 << 20][Int((control >> 2) & 3)]
        guard var reader = try? MboxReader(path: path, gzip: false, mailbox: "fuzz", folder: "",
                                           maxMessageBytes: limit, windowBytes: window) else { return }
        var previous: Int64 = -1
        var total = 0
        for _ in 0..<100_000 {
            do {
                guard let message = try reader.next() else { break }
                let offset = message.location.offset ?? -1
                require(offset > previous && offset < Int64(body.count), "offset \(offset) after \(previous), size \(body.count)")
                require(message.bytes.count <= limit, "message of \(message.bytes.count) bytes over the limit \(limit)")
                previous = offset
                total += message.bytes.count
                require(total <= body.count, "messages hold \(total) bytes of a \(body.count)-byte file")
            } catch let error as SourceError {
                if case .tooLarge(_, let offset?, _) = error {
                    require(offset > previous && offset < Int64(body.count), "tooLarge offset \(offset)")
                    previous = offset
                }
                if !error.isPerMessage { break }
            } catch {
                fatalError("unexpected error \(error)")
            }
        }
    }

    // MARK: Search

    /// An empty archive the query target searches, created once per process.
    static let searchArchive: Archive = {
        do { return try Archive.open(at: scratch + "/archive", create: true) } catch { fatalError("archive: \(error)") }
    }()

    /// The query language: parsing, then the real search over an empty archive, which must never
    /// fail in SQLite (user text must never become FTS5 or SQL syntax).
    static func query(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let parsed = try? SearchQuery.parse(text) else { return }
        _ = parsed.mentionsNoise
        for sort in SearchSort.allCases {
            _ = SearchEngine.plan(parsed, sort: sort, limit: 10)
        }
        do {
            _ = try SearchEngine(archive: searchArchive).search(parsed, sort: .relevance, limit: 5)
        } catch {
            fatalError("search of a parsed query failed: \(error) for \(text.debugDescription)")
        }
    }

    // MARK: CRM directory

    /// CSV: positions are sane, and the records written back (every field quoted) read the same.
    static func csv(_ bytes: [UInt8]) {
        guard let records = try? CSVReader.records(bytes) else { return }
        var line = 0
        for record in records {
            require(record.line >= 1 && record.line >= line, "record line \(record.line) after \(line)")
            line = record.line
            for field in record.fields { require(field.line >= record.line && field.column >= 1, "field at \(field.line):\(field.column)") }
        }
        var text = ""
        for record in records {
            text += record.fields.map { "\"" + $0.value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",")
            text += "\r\n"
        }
        do {
            let again = try CSVReader.records(Array(text.utf8))
            require(again.map { $0.fields.map(\.value) } == records.map { $0.fields.map(\.value) }, "CSV round trip differs")
        } catch {
            fatalError("CSV written back does not read: \(error)")
        }
    }

    /// rules.yaml on its own.
    static func rules(_ bytes: [UInt8]) {
        _ = CRMRulesParser.parse(String(decoding: bytes, as: UTF8.self))
    }

    /// The whole CRM directory: the input is split at lines `==> NAME <==` into the five CSV
    /// files and rules.yaml (text before the first marker is accounts.csv).
    static func crm(_ bytes: [UInt8]) {
        let folder = scratch + "/crm"
        try? FileManager.default.removeItem(atPath: folder)
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, content) in splitFiles(bytes) {
            _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(content))
        }
        do {
            let (directory, _) = try CRMDirectoryLoader.load(from: URL(fileURLWithPath: folder))
            _ = CRMIndex(directory)
        } catch is CRMLoadError {
        } catch {
            fatalError("unexpected error \(error)")
        }
    }

    static func splitFiles(_ bytes: [UInt8]) -> [(String, [UInt8])] {
        var files: [(String, [UInt8])] = []
        var name = "accounts.csv"
        var current: [UInt8] = []
        for line in bytes.split(separator: 10, omittingEmptySubsequences: false) {
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("==> ") && text.hasSuffix(" <=="), CRMDirectoryLoader.files.contains(String(text.dropFirst(4).dropLast(4))) {
                files.append((name, current))
                name = String(text.dropFirst(4).dropLast(4))
                current = []
            } else {
                current += line
                current.append(10)
            }
        }
        files.append((name, current))
        return files
    }
}
