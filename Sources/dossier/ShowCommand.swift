import ArgumentParser
import DossierCore
import Foundation
import GRDB

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one message: a summary with its sources, attachments and text, or one view of it.",
        discussion: """
            KEY is the key that search prints; a unique prefix of at least 4 characters is enough. \
            Without an option: the main headers, every source the message was imported from, its \
            attachments and its body text. Everything is read from the stored original.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: "The message key, or a unique prefix of it.")
    var key: String

    @Flag(help: "Write the original bytes, identical to the source.")
    var raw = false

    @Flag(help: "Write the original header block.")
    var headers = false

    @Flag(help: "Write the body text (as indexed).")
    var text = false

    @Flag(help: "List the attachments: part, name, type, size, SHA-256.")
    var attachments = false

    @Flag(help: "Show the MIME tree, numbered like IMAP (1, 1.1, 1.2, ...).")
    var structure = false

    @Option(help: ArgumentHelp("Write the decoded bytes of this part (see --structure).", valueName: "N.N"))
    var part: String?

    @Option(help: ArgumentHelp("Read copy N's bytes (numbered as the summary's sources list them) for --raw, --headers, --text, --structure or --part: copies that share a Message-ID may differ.", valueName: "N"))
    var copy: Int?

    @Flag(help: "JSON output (with --structure, --attachments, or the summary).")
    var json = false

    func validate() throws {
        let views = [raw, headers, text, attachments, structure, part != nil].filter { $0 }.count
        if views > 1 { throw ValidationError("choose one of --raw, --headers, --text, --attachments, --structure, --part") }
        if json && (raw || headers || text || part != nil) {
            throw ValidationError("--json goes with --structure, --attachments or the summary")
        }
        if copy != nil && !(raw || headers || text || structure || part != nil) {
            throw ValidationError("--copy goes with --raw, --headers, --text, --structure or --part")
        }
        if let copy, copy < 1 { throw ValidationError("--copy counts from 1") }
    }

    func run() throws {
        try guarded {
            let archive = try openArchiveForReading(archiveOptions)
            let summary = !(raw || headers || text || structure || part != nil || attachments)
            let (record, copies, stored, chosen) = try archive.database.read { db in
                let record = try MessageRecord.resolve(db, key: key)
                return (record, try ContentVariants.copies(of: record, in: archive, compare: summary, db),
                        try AttachmentRecord.all(db, message: record.id),
                        try copy.map { try ContentVariants.original(ofCopy: $0, of: record, in: archive, db) })
            }
            if attachments {
                return try showAttachments(stored)
            }
            if record.status != "stored" && !(raw || headers || text || structure || part != nil) {
                // An excluded message still has a record and sources worth showing.
                return try showSummary(record, copies: copies, attachments: [], parsed: nil)
            }
            let original = try chosen ?? record.original(in: archive)
            if raw { return writeOut(original) }
            if headers {
                let root = MIMEParser.parse(original)
                return writeOut(Array(original[clamped(root.headerRange, original.count)]))
            }
            if structure {
                return try showStructure(MessagePartSummary.outline(MIMEParser.parse(original), bytes: original))
            }
            if let part {
                let root = MIMEParser.parse(original)
                guard let entity = root.part(part) else { throw MessageContentError.noSuchPart(key: record.key, part: part) }
                return writeOut(entity.decodedBody(in: original))
            }
            let parsed = MessageParser.parse(original)
            if text {
                return writeOut(parsed.bodyText.hasSuffix("\n") || parsed.bodyText.isEmpty ? parsed.bodyText : parsed.bodyText + "\n")
            }
            try showSummary(record, copies: copies, attachments: stored, parsed: parsed)
        }
    }

    private func clamped(_ range: Range<Int>, _ count: Int) -> Range<Int> {
        let lower = min(max(range.lowerBound, 0), count)
        return lower..<min(max(range.upperBound, lower), count)
    }

    private func showAttachments(_ stored: [AttachmentRecord]) throws {
        if json { return try printJSON(stored) }
        var table = TextTable(["PART", "NAME", "TYPE", "SIZE", "SHA256"], maxWidths: [nil, 40, 40, nil, nil])
        for attachment in stored {
            table.add([attachment.part, attachment.name ?? "-", attachment.contentType, String(attachment.size), attachment.sha256])
        }
        writeOut(table.render())
    }

    private func showStructure(_ parts: [MessagePartSummary]) throws {
        if json { return try printJSON(parts) }
        var table = TextTable(["PART", "TYPE", "CHARSET", "NAME", "DISPOSITION", "ENCODING", "SIZE"], maxWidths: [nil, nil, nil, 40, nil, nil, nil])
        for part in parts {
            // Indent the type so the tree reads at a glance.
            table.add([part.part, String(repeating: "  ", count: part.depth) + part.contentType, part.charset ?? "",
                       part.fileName ?? "", part.disposition ?? "", part.transferEncoding, String(part.size)])
        }
        writeOut(table.render())
    }

    private func showSummary(_ record: MessageRecord, copies: [MessageCopy], attachments: [AttachmentRecord],
                             parsed: ParsedMessage?) throws {
        if json {
            struct Summary: Encodable {
                var message: MessageRecord
                var to: [MailAddress]
                var cc: [MailAddress]
                var sources: [MessageCopy]
                var attachments: [AttachmentRecord]
                var text: String?
            }
            return try printJSON(Summary(message: record, to: parsed?.to ?? [], cc: parsed?.cc ?? [], sources: copies,
                                         attachments: attachments, text: parsed?.bodyText))
        }
        func addresses(_ list: [MailAddress]) -> String {
            list.map { address in
                if let name = address.name, !name.isEmpty { return "\(name) <\(address.address)>" }
                return address.address
            }.joined(separator: ", ")
        }
        var lines: [String] = []
        func field(_ name: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            lines.append(name.padding(toLength: 12, withPad: " ", startingAt: 0) + oneLine(value.replacingOccurrences(of: "\n", with: " ")))
        }
        field("Key:", record.key)
        field("Date:", formatDate(record.date))
        let from: String? = {
            if let parsed, !parsed.from.isEmpty { return addresses(parsed.from) }
            return record.fromAddress.map { address in record.fromName.map { "\($0) <\(address)>" } ?? address }
        }()
        field("From:", from)
        field("To:", parsed.map { addresses($0.to) })
        field("Cc:", parsed.map { addresses($0.cc) })
        field("Subject:", parsed?.subject ?? record.subject)
        field("Message-ID:", record.messageID.map { "<\($0)>" })
        field("Size:", "\(record.size) bytes")
        if record.status != "stored" { field("Status:", record.status + (record.reason.map { " (\($0))" } ?? "")) }
        if let unknown = record.unknownCharsets { field("Charsets:", "unknown \(unknown) (decoded with a fallback)") }
        var text = lines.joined(separator: "\n") + "\n"

        // Copies with other bytes than the first are contents of their own (a Bcc copy, a
        // list's altered copy, a re-sent draft, a forgery): say which, and how they differ.
        let contents = Set(copies.compactMap(\.content))
        var sources = TextTable(contents.count > 1
            ? ["COPY", "SOURCE", "MAILBOX", "FOLDER", "OFFSET", "FLAGS", "SIZE", "CONTENT"]
            : ["COPY", "SOURCE", "MAILBOX", "FOLDER", "OFFSET", "FLAGS"], maxWidths: [nil, nil, nil, nil, nil, nil, nil, 60])
        for entry in copies {
            let copy = entry.source
            var row = [String(entry.copy), copy.path, copy.mailbox, copy.folder.isEmpty ? "-" : copy.folder,
                       copy.offset.map(String.init) ?? "-", copy.flags.isEmpty ? "-" : copy.flags]
            if contents.count > 1 {
                row.append(String(copy.size))
                switch (entry.content, entry.difference) {
                case (nil, _): row.append("not kept (excluded when read)")
                case (1?, _): row.append("1 (first stored)")
                case (let number?, let difference?): row.append("\(number): \(difference.description)")
                case (let number?, nil): row.append(String(number))
                }
            }
            sources.add(row)
        }
        if contents.count > 1 {
            text += "\n\(copies.count) copies, \(contents.count) different contents (dossier show \(record.key) --raw --copy N):\n"
        }
        text += "\n" + sources.render()
        if !attachments.isEmpty {
            var table = TextTable(["PART", "ATTACHMENT", "TYPE", "SIZE"], maxWidths: [nil, 50, 40, nil])
            for attachment in attachments {
                table.add([attachment.part, attachment.name ?? "-", attachment.contentType, String(attachment.size)])
            }
            text += "\n" + table.render()
        }
        if let body = parsed?.bodyText, !body.isEmpty {
            text += "\n" + displayText(body) + (body.hasSuffix("\n") ? "" : "\n")
        }
        writeOut(text)
    }
}
