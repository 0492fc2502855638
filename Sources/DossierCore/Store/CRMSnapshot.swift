import Foundation

/// The stored form of a `CRMDirectory` (`crm_snapshot.directory`): a compact binary encoding,
/// read back whole at the start of every import and rematch.
///
/// Not JSON because of speed: 100,000 contacts took about 1 s to decode with JSONDecoder (and
/// longer with JSONSerialization or property lists), against the requirement of well under a
/// second; this format reads them in a fraction of that. The layout is deliberately plain:
///
///     "DCRM" version(1) rules(JSON, length-prefixed) accounts contacts leads cases staff
///
/// each section a count followed by its records' fields in declaration order. Strings are a
/// LEB128 length and UTF-8 bytes; an optional string stores length + 1 (0 = nil); a list is a
/// count and its strings; a flag is one byte. The small, rarely read rules stay JSON so that new
/// rules.yaml keys need no new version. A change to the record fields needs a new version.
enum CRMSnapshot {
    static let magic: [UInt8] = Array("DCRM".utf8)
    static let version: UInt8 = 1
    /// `crm_snapshot.format` of this encoding.
    static let format = "dcrm-1"

    typealias Corrupt = CRMSnapshotError

    static func encode(_ directory: CRMDirectory) throws -> [UInt8] {
        var out = Writer()
        out.bytes.append(contentsOf: magic)
        out.bytes.append(version)
        out.data(Array(try JSONEncoder().encode(directory.rules)))
        out.count(directory.accounts.count)
        for account in directory.accounts {
            out.string(account.id); out.string(account.name); out.list(account.domains)
            out.optional(account.mainEmail); out.optional(account.parentID)
        }
        out.count(directory.contacts.count)
        for contact in directory.contacts {
            out.string(contact.id); out.string(contact.accountID); out.optional(contact.name)
            out.list(contact.emails); out.flag(contact.excluded)
        }
        out.count(directory.leads.count)
        for lead in directory.leads {
            out.string(lead.id); out.optional(lead.company); out.optional(lead.name)
            out.optional(lead.email); out.list(lead.contactEmails)
        }
        out.count(directory.cases.count)
        for item in directory.cases {
            out.string(item.id); out.string(item.accountID); out.optional(item.code); out.optional(item.title)
        }
        out.count(directory.staff.count)
        for member in directory.staff {
            out.string(member.id); out.optional(member.name); out.string(member.email)
            out.list(member.mailboxes); out.optional(member.group)
        }
        return out.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> CRMDirectory {
        try bytes.withUnsafeBufferPointer { buffer in
            var input = Reader(buffer: buffer)
            guard try input.take(magic.count).elementsEqual(magic), try input.byte() == version else { throw Corrupt() }
            let rulesBytes = try input.take(try input.count())
            let rules = try JSONDecoder().decode(CRMRules.self, from: Data(rulesBytes))
            var directory = CRMDirectory(rules: rules)
            let accounts = try input.count()
            directory.accounts.reserveCapacity(accounts)
            for _ in 0..<accounts {
                directory.accounts.append(Account(id: try input.string(), name: try input.string(), domains: try input.list(),
                                                  mainEmail: try input.optional(), parentID: try input.optional()))
            }
            let contacts = try input.count()
            directory.contacts.reserveCapacity(contacts)
            for _ in 0..<contacts {
                directory.contacts.append(Contact(id: try input.string(), accountID: try input.string(), name: try input.optional(),
                                                  emails: try input.list(), excluded: try input.flag()))
            }
            let leads = try input.count()
            directory.leads.reserveCapacity(leads)
            for _ in 0..<leads {
                directory.leads.append(Lead(id: try input.string(), company: try input.optional(), name: try input.optional(),
                                            email: try input.optional(), contactEmails: try input.list()))
            }
            let cases = try input.count()
            directory.cases.reserveCapacity(cases)
            for _ in 0..<cases {
                directory.cases.append(Case(id: try input.string(), accountID: try input.string(), code: try input.optional(),
                                            title: try input.optional()))
            }
            let staff = try input.count()
            directory.staff.reserveCapacity(staff)
            for _ in 0..<staff {
                directory.staff.append(StaffMember(id: try input.string(), name: try input.optional(), email: try input.string(),
                                                   mailboxes: try input.list(), group: try input.optional()))
            }
            guard input.isAtEnd else { throw Corrupt() }
            return directory
        }
    }

    private struct Writer {
        var bytes: [UInt8] = []

        mutating func count(_ value: Int) {
            var rest = UInt64(value)
            while rest >= 0x80 {
                bytes.append(UInt8(rest & 0x7F) | 0x80)
                rest >>= 7
            }
            bytes.append(UInt8(rest))
        }

        mutating func data(_ value: [UInt8]) { count(value.count); bytes.append(contentsOf: value) }
        mutating func string(_ value: String) { count(value.utf8.count); bytes.append(contentsOf: value.utf8) }

        mutating func optional(_ value: String?) {
            guard let value else { return count(0) }
            count(value.utf8.count + 1)
            bytes.append(contentsOf: value.utf8)
        }

        mutating func list(_ values: [String]) { count(values.count); for value in values { string(value) } }
        mutating func flag(_ value: Bool) { bytes.append(value ? 1 : 0) }
    }

    private struct Reader {
        let buffer: UnsafeBufferPointer<UInt8>
        var index = 0

        var isAtEnd: Bool { index == buffer.count }

        mutating func byte() throws -> UInt8 {
            guard index < buffer.count else { throw Corrupt() }
            defer { index += 1 }
            return buffer[index]
        }

        mutating func count() throws -> Int {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let next = try byte()
                value |= UInt64(next & 0x7F) << shift
                if next < 0x80 { break }
                shift += 7
                guard shift < 63 else { throw Corrupt() }
            }
            // Every count or length is bounded by the bytes left (+1 for an optional's offset),
            // so a corrupt value fails here instead of reserving gigabytes.
            guard value <= UInt64(buffer.count - index) + 1 else { throw Corrupt() }
            return Int(value)
        }

        mutating func take(_ length: Int) throws -> UnsafeBufferPointer<UInt8> {
            guard length >= 0, length <= buffer.count - index else { throw Corrupt() }
            defer { index += length }
            return UnsafeBufferPointer(rebasing: buffer[index..<index + length])
        }

        mutating func string() throws -> String { String(decoding: try take(try count()), as: UTF8.self) }

        mutating func optional() throws -> String? {
            let length = try count()
            if length == 0 { return nil }
            return String(decoding: try take(length - 1), as: UTF8.self)
        }

        mutating func list() throws -> [String] {
            let items = try count()
            var result: [String] = []
            result.reserveCapacity(items)
            for _ in 0..<items { result.append(try string()) }
            return result
        }

        mutating func flag() throws -> Bool {
            switch try byte() {
            case 0: return false
            case 1: return true
            default: throw Corrupt()
            }
        }
    }
}

/// The stored CRM directory cannot be read: the archive is corrupt or was written by a newer Dossier.
public struct CRMSnapshotError: Error, Sendable, CustomStringConvertible {
    public var description: String { "the stored CRM directory is unreadable (corrupt, or written by a newer Dossier)" }
}
