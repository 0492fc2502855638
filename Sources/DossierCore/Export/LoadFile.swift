import Foundation

/// The export's load files for eDiscovery review tools (Relativity, Concordance, Nuix, ...):
/// one row per message and one per attachment, attachments right after their message with the
/// message's control number as their parent.
///
/// `loadfile.csv` is RFC 4180 UTF-8; `loadfile.dat` uses Concordance's delimiters: fields
/// enclosed in þ (U+00FE) and separated by U+0014, line breaks inside a field written as ®
/// (U+00AE), UTF-8 with a byte-order mark so review tools detect the encoding.
public enum LoadFile {
    public static let columns = ["CONTROL_NUMBER", "PARENT", "RECORD_TYPE", "CUSTODIAN", "FROM", "TO", "CC", "BCC", "SUBJECT",
                                 "DATE_SENT", "MESSAGE_ID", "SHA256", "FILE_PATH", "ATTACHMENT_NAMES", "FILE_NAME", "FILE_SIZE"]

    static func csvHeader() -> String { CSVLine.row(columns) }
    static func datHeader() -> String { "\u{FEFF}" + datRow(columns) }

    static func csvRows(_ message: ExportedMessage) -> String { rows(message).map(CSVLine.row).joined() }
    static func datRows(_ message: ExportedMessage) -> String { rows(message).map(datRow).joined() }

    /// The message's row, then its attachments'.
    static func rows(_ message: ExportedMessage) -> [[String]] {
        func list(_ addresses: [MailAddress]) -> String {
            addresses.map { address in
                guard let name = address.name, !name.isEmpty else { return address.address }
                return "\(name) <\(address.address)>"
            }.joined(separator: "; ")
        }
        let sent = message.date.map(ExportGatherer.iso) ?? ""
        let custodian = message.mailboxes.joined(separator: "; ")
        var rows = [[message.controlNumber, "", "email", custodian, list(message.from), list(message.to), list(message.cc),
                     list(message.bcc), message.subject ?? "", sent, message.messageID.map { "<\($0)>" } ?? "", message.sha256,
                     message.emlPath ?? "", message.attachments.map { $0.name ?? "" }.joined(separator: "; "),
                     message.emlPath.map { String($0.split(separator: "/").last!) } ?? "", String(message.size)]]
        for attachment in message.attachments {
            rows.append([attachment.controlNumber, message.controlNumber, "attachment", custodian, "", "", "", "", "", sent, "",
                         attachment.sha256, attachment.path ?? "", "", attachment.name ?? "", String(attachment.size)])
        }
        return rows
    }

    static func datRow(_ fields: [String]) -> String {
        fields.map { field in
            let flat = field.replacingOccurrences(of: "\r\n", with: "\u{AE}").replacingOccurrences(of: "\n", with: "\u{AE}")
                .replacingOccurrences(of: "\r", with: "\u{AE}").replacingOccurrences(of: "\u{FE}", with: "")
                .replacingOccurrences(of: "\u{14}", with: "")
            return "\u{FE}" + flat + "\u{FE}"
        }.joined(separator: "\u{14}") + "\r\n"
    }
}

/// mboxrd entries (the `From ` line, then the message with every `>*From ` line quoted once
/// more, then a blank line): the mbox variant that undoes exactly, so each message reads back
/// byte for byte, which mutt, Thunderbird, Apple Mail and Dossier's reader all open.
public enum Mboxrd {
    public static func entry(_ message: [UInt8], sender: String?, date: Date?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 80)
        out.append(contentsOf: Array(fromLine(sender: sender, date: date).utf8))
        var lineStart = true
        var index = 0
        while index < message.count {
            if lineStart {
                var probe = index
                while probe < message.count && message[probe] == UInt8(ascii: ">") { probe += 1 }
                if message.count - probe >= 5 && message[probe] == 0x46 && message[probe + 1] == 0x72 && message[probe + 2] == 0x6F
                    && message[probe + 3] == 0x6D && message[probe + 4] == 0x20 {
                    out.append(UInt8(ascii: ">"))
                }
            }
            let byte = message[index]
            out.append(byte)
            lineStart = byte == 0x0A
            index += 1
        }
        if message.last != 0x0A { out.append(0x0A) }
        out.append(0x0A)
        return out
    }

    /// `From sender@example.com Mon Feb  5 14:14:00 2024`: the envelope line, with an address
    /// that has no spaces (`MAILER-DAEMON` when there is none) and the date in asctime form, UTC.
    static func fromLine(sender: String?, date: Date?) -> String {
        let address = sender.flatMap { $0.isEmpty || $0.contains(where: { $0 == " " || $0 == "\t" || $0.isNewline }) ? nil : $0 }
            ?? "MAILER-DAEMON"
        var seconds = time_t((date ?? Date(timeIntervalSince1970: 0)).timeIntervalSince1970)
        var fields = tm()
        gmtime_r(&seconds, &fields)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let stamp = String(format: "%@ %@ %2d %02d:%02d:%02d %04d", days[Int(fields.tm_wday)], months[Int(fields.tm_mon)],
                           fields.tm_mday, fields.tm_hour, fields.tm_min, fields.tm_sec, fields.tm_year + 1900)
        return "From \(address) \(stamp)\n"
    }
}

/// `summary.csv`: what the export holds per mailbox, folder and year. A message with copies in
/// several mailboxes or folders is counted in each; the `*` rows count every message once.
struct ExportSummaryTable {
    struct Location: Hashable {
        var mailbox: String
        var folder: String
    }
    private struct Key: Hashable, Comparable {
        var mailbox: String
        var folder: String
        var year: String
        static func < (a: Key, b: Key) -> Bool { (a.mailbox, a.folder, a.year) < (b.mailbox, b.folder, b.year) }
    }
    private struct Counts {
        var messages = 0
        var attachments = 0
        var bytes = 0
        var inbound = 0
        var outbound = 0
    }
    private var rows: [Key: Counts] = [:]

    mutating func add(_ message: ExportedMessage, at locations: [Location]) {
        let year = message.date.map { String(ExportLayout.stamp($0).prefix(4)) } ?? "undated"
        var keys = [Key(mailbox: "*", folder: "*", year: year)]
        for location in locations { keys.append(Key(mailbox: location.mailbox, folder: location.folder, year: year)) }
        for key in Set(keys) {
            var counts = rows[key] ?? Counts()
            counts.messages += 1
            counts.attachments += message.attachments.count
            counts.bytes += message.size
            if message.direction == "inbound" { counts.inbound += 1 }
            if message.direction == "outbound" { counts.outbound += 1 }
            rows[key] = counts
        }
    }

    func csv() -> String {
        var text = CSVLine.row(["mailbox", "folder", "year", "messages", "inbound", "outbound", "attachments", "bytes"])
        for key in rows.keys.sorted() {
            let counts = rows[key]!
            text += CSVLine.row([key.mailbox, key.folder, key.year, String(counts.messages), String(counts.inbound),
                                  String(counts.outbound), String(counts.attachments), String(counts.bytes)])
        }
        return text
    }
}

/// `left-out.csv`: every message that concerns the client and is not in the export, with why.
enum LeftOutFile {
    static func csv(_ items: [LeftOutMessage]) -> String {
        var text = CSVLine.row(["key", "date", "from", "subject", "reason", "detail", "content_in_archive"])
        for item in items {
            text += CSVLine.row([item.key, item.date.map(ExportGatherer.iso) ?? "", item.from ?? "", item.subject ?? "",
                                  item.reason.rawValue, item.detail, item.stored ? "yes" : "no (record only)"])
        }
        return text
    }
}
