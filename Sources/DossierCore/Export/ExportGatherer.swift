import Foundation
import GRDB

/// Reads what the export needs of each message from the archive, inside the export's read
/// transaction (one snapshot), with cached statements.
struct ExportGatherer {
    /// A message's line in the lists, and its Message-ID: read when it is needed (its own page,
    /// a neighbour's, its thread's section of the index), never kept for every message.
    struct Head {
        var id: Int64
        var messageID: String?
        var summary: ExportedMessageSummary

        var key: String { summary.key }
        var date: Date? { summary.date }
        var controlNumber: String { summary.controlNumber }
    }

    /// What pass 2 reads of one message, when it writes it.
    struct Detail {
        var fromAddress: String?
        var sha256: String
        var size: Int
        var participants: [(role: String, address: MailAddress)]
        var mailboxes: [String]
        var folders: [String]
        /// Every (mailbox, folder) a copy was read from.
        var locations: [ExportSummaryTable.Location]
        var matches: [FilingMatch]

        func exported(_ head: Head, attachments: [ExportedAttachment], thread: Int, text: String?, emlPath: String?) -> ExportedMessage {
            func role(_ name: String) -> [MailAddress] { participants.filter { $0.role == name }.map(\.address) }
            return ExportedMessage(controlNumber: head.controlNumber, key: head.key, messageID: head.messageID, date: head.date,
                                   subject: head.summary.subject, from: role("from"), to: role("to"), cc: role("cc"), bcc: role("bcc"),
                                   mailboxes: mailboxes, folders: folders, direction: head.summary.direction, matches: matches,
                                   sha256: sha256, size: size, emlPath: emlPath, pagePath: head.summary.pagePath,
                                   attachments: attachments, thread: thread, text: text)
        }
    }

    struct Attachment {
        var name: String?
        var contentType: String
        var size: Int
        var sha256: String
    }

    private let db: Database
    private let records: Set<CRMRecordRef>
    private let row: Statement
    private let addresses: Statement
    private let copies: Statement
    private let references: Statement
    private let attachmentRows: Statement
    private let blob: Statement
    private let packs: PackStore
    private let objects: ObjectStore
    private let archive: Archive

    init(archive: Archive, db: Database, records: [CRMRecordRef]) throws {
        self.db = db
        self.records = Set(records)
        row = try db.cachedStatement(sql: """
            SELECT key, message_id, date, subject, from_address, from_name, direction, sha256, size, attachment_count
            FROM message WHERE id = ?
            """)
        addresses = try db.cachedStatement(sql: "SELECT role, address, name FROM address WHERE message = ? ORDER BY rowid")
        copies = try db.cachedStatement(sql: "SELECT DISTINCT mailbox, folder FROM copy WHERE message = ?")
        references = try db.cachedStatement(sql: "SELECT message_id FROM reference WHERE message = ? ORDER BY kind, position")
        attachmentRows = try db.cachedStatement(sql: "SELECT name, content_type, size, sha256 FROM attachment WHERE message = ? ORDER BY id")
        blob = try db.cachedStatement(sql: "SELECT p.name, b.offset, b.length FROM blob b JOIN pack p ON p.id = b.pack WHERE b.sha256 = ?")
        objects = archive.objects
        self.archive = archive
        packs = archive.packs
    }

    func head(_ id: Int64, controlNumber: String) throws -> Head {
        guard let message = try Row.fetchOne(row, arguments: [id]) else { throw StoreError.noSuchMessage("rowid \(id)") }
        let key: String = message["key"]
        let date = (message["date"] as Int64?).map { Date(timeIntervalSince1970: TimeInterval($0)) }
        let address: String? = message["from_address"]
        let name: String? = message["from_name"]
        let from = address.map { address in name.flatMap { $0.isEmpty ? nil : "\($0) <\(address)>" } ?? address } ?? name
        let summary = ExportedMessageSummary(controlNumber: controlNumber, key: key, date: date, from: from, subject: message["subject"],
                                             direction: message["direction"], evidence: try matches(id).map(\.rule).min(),
                                             attachmentCount: message["attachment_count"],
                                             pagePath: ExportLayout.pagePath(date: date, key: key))
        return Head(id: id, messageID: message["message_id"], summary: summary)
    }

    /// The Message-IDs that thread a message: its own and those it refers to.
    func threadKeys(_ id: Int64) throws -> [String] {
        var keys = try String.fetchAll(references, arguments: [id])
        if let own = try String.fetchOne(db.cachedStatement(sql: "SELECT message_id FROM message WHERE id = ?"), arguments: [id]) {
            keys.append(own)
        }
        return keys
    }

    func detail(_ id: Int64) throws -> Detail {
        guard let message = try Row.fetchOne(row, arguments: [id]) else { throw StoreError.noSuchMessage("rowid \(id)") }
        let participants = try Row.fetchAll(addresses, arguments: [id]).map { row in
            (role: row[0] as String, address: MailAddress(name: row[2] as String?, address: row[1] as String))
        }
        var mailboxes = Set<String>()
        var folders = Set<String>()
        var locations: [ExportSummaryTable.Location] = []
        for copy in try Row.fetchAll(copies, arguments: [id]) {
            mailboxes.insert(copy[0])
            let folder: String = copy[1]
            if !folder.isEmpty { folders.insert(folder) }
            locations.append(.init(mailbox: copy[0], folder: folder))
        }
        return Detail(fromAddress: message["from_address"], sha256: message["sha256"], size: message["size"], participants: participants,
                      mailboxes: mailboxes.sorted(), folders: folders.sorted(), locations: locations, matches: try matches(id))
    }

    /// The rules that filed the message to one of the export's records.
    func matches(_ id: Int64) throws -> [FilingMatch] {
        try FilingStore.matches(of: id, db).filter { records.contains($0.record) }
            .sorted { ($0.rule, $0.record) < ($1.rule, $1.record) }
    }

    func attachments(_ id: Int64) throws -> [Attachment] {
        try Row.fetchAll(attachmentRows, arguments: [id]).map { row in
            Attachment(name: row[0], contentType: row[1], size: row[2], sha256: row[3])
        }
    }

    /// The original bytes of the message's first copy, checked against its digest.
    func original(_ head: Head, _ detail: Detail) throws -> [UInt8] {
        try original(sha256: detail.sha256, key: head.key)
    }

    /// Stored original bytes by digest, checked against it.
    func original(sha256: String, key: String) throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            if let location = try Row.fetchOne(blob, arguments: [sha256]) {
                bytes = try packs.readOriginal(at: PackLocation(pack: location[0], offset: location[1], length: location[2]))
            } else {
                bytes = try objects.readMessage(sha256: sha256)
            }
        } catch {
            throw ExportError.missingObject(key: key, what: "its original (\(sha256)): \(error)")
        }
        guard ContentHash.sha256Hex(bytes) == sha256 else {
            throw ExportError.missingObject(key: key, what: "an intact original: the stored bytes do not hash to \(sha256)")
        }
        return bytes
    }

    /// The message's other kept contents (copies with its Message-ID and other bytes), numbered
    /// as `show` and `report duplicates` number them: 2, 3, ...
    func variants(_ id: Int64) throws -> [(number: Int, sha256: String)] {
        guard let record = try MessageRecord.fetchOne(db, sql: "SELECT * FROM message WHERE id = ?", arguments: [id]) else { return [] }
        var seen = Set<Int>()
        return try ContentVariants.copies(of: record, in: archive, compare: false, db).compactMap { copy in
            guard let number = copy.content, number > 1, seen.insert(number).inserted else { return nil }
            return (number, copy.source.sha256)
        }
    }

    /// An attachment's decoded bytes, checked against its digest.
    func attachmentBytes(_ attachment: Attachment, key: String) throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try objects.read(.attachment, sha256: attachment.sha256)
        } catch {
            throw ExportError.missingObject(key: key, what: "attachment \(objects.relativePath(.attachment, sha256: attachment.sha256))")
        }
        guard ContentHash.sha256Hex(bytes) == attachment.sha256 else {
            throw ExportError.missingObject(key: key, what: "an intact attachment \(attachment.sha256): its bytes do not hash to its name")
        }
        return bytes
    }

    // MARK: - Pure helpers

    /// `ACME` for account:ACME: the record id's letters and digits, upper-cased (at most 16).
    static func controlPrefix(for record: CRMRecordRef) -> String {
        let cleaned = String(record.id.uppercased().unicodeScalars.filter { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
            .prefix(16).map(Character.init))
        return cleaned.isEmpty ? "DOSSIER" : cleaned
    }

    /// Threads among the exported messages: a message joins the thread of every id it has or
    /// names (union-find over Message-IDs, as `ClientFile` does). Threads are numbered by their
    /// first message; `of[i]` is message i's thread, `members[t]` its messages, oldest first.
    /// Message-IDs are held as 64-bit hashes, so the state is a few integers per message
    /// whatever the messages say (a collision, at 2^-64 per pair, would join two threads).
    static func threads(count: Int, keys: (Int) throws -> [String]) rethrows -> (of: [Int32], members: [[Int32]]) {
        var union = UnionFind(count: count)
        var owner: [UInt64: Int32] = [:]
        for index in 0..<count {
            for key in try keys(index) {
                let hash = ContentHash.hash64(key)
                if let other = owner[hash] { union.join(index, Int(other)) } else { owner[hash] = Int32(index) }
            }
        }
        var number: [Int32: Int32] = [:]
        var of: [Int32] = []
        of.reserveCapacity(count)
        var members: [[Int32]] = []
        for index in 0..<count {
            let root = Int32(union.find(index))
            let thread: Int32
            if let known = number[root] { thread = known } else {
                thread = Int32(members.count)
                number[root] = thread
                members.append([])
            }
            of.append(thread)
            members[Int(thread)].append(Int32(index))
        }
        return (of, members)
    }

    /// `2024-03`, or `undated`.
    static func month(_ date: Date?) -> String {
        guard let date else { return "undated" }
        return String(ExportLayout.stamp(date).prefix(6)).inserting("-", at: 4)
    }

    /// Every month from the first to the last, with zeros where there was no mail.
    static func monthSeries(_ counts: [String: ExportOverview.MonthCount]) -> [ExportOverview.MonthCount] {
        let dated = counts.keys.filter { $0 != "undated" }.sorted()
        guard let first = dated.first, let last = dated.last,
              var year = Int(first.prefix(4)), var month = Int(first.suffix(2)) else { return [] }
        var result: [ExportOverview.MonthCount] = []
        while true {
            let name = String(format: "%04d-%02d", year, month)
            result.append(counts[name] ?? ExportOverview.MonthCount(month: name, inbound: 0, outbound: 0, other: 0))
            if name >= last { break }
            month += 1
            if month > 12 { month = 1; year += 1 }
        }
        return result
    }

    /// RFC 3339 UTC with seconds.
    static func iso(_ date: Date) -> String {
        let stamp = ExportLayout.stamp(date)
        let chars = Array(stamp)
        return "\(String(chars[0..<4]))-\(String(chars[4..<6]))-\(String(chars[6..<8]))T\(String(chars[9..<11])):\(String(chars[11..<13])):\(String(chars[13..<15]))Z"
    }
}

private extension String {
    func inserting(_ character: Character, at offset: Int) -> String {
        var copy = self
        copy.insert(character, at: copy.index(copy.startIndex, offsetBy: offset))
        return copy
    }
}
