@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// A small firm, its CRM directory and a mailbox of hand-made messages, imported through the CLI
/// the way a user does it (`crm load`, then `import`): the archive the thread, client, unassigned
/// and dry-run tests look at.
///
/// Files are read in name order, so the replies 01 and 02 come before the message 03 they answer.
///
/// | file | message | filing |
/// |---|---|---|
/// | 01 | m3: John's reply to m2 | filed ACME, C-JM, K-1 (tag, address, thread) |
/// | 02 | m2: Alice's reply to m1 (outbound) | filed ACME, C-JM, K-1 |
/// | 03 | m1: `[CASE-101] Contract` from John | filed ACME, C-JM, K-1 |
/// | 04 | m4: John answers `lost@firm.example`, not in the archive | filed ACME, C-JM (address) |
/// | 05 | m5: from uk.acme.example | filed ACME-UK (subsidiary, domain) |
/// | 06 | m6: "John Miller" from gmail.com | unassigned; name suggests C-JM |
/// | 07 | m7: from acme.com | unassigned; look-alike domain suggests ACME |
/// | 08 | m8: subject mentions CASE-101 without brackets | unassigned; suggests K-1 |
/// | 09 | m9: a newsletter, oldest | unassigned; nothing near |
/// | 10 | m10: carol@other.example | unassigned; its reply m11 is filed to GLOBEX |
/// | 11 | m11: Sarah (Globex) answers m10 | filed GLOBEX, C-SD (address) |
/// | 12 | m12: ops@globex.example; Globex's domain is us.globex.example | unassigned; related domain |
/// | 13 | m13: Alice to Bob | internal |
final class FilingFixture {
    let dir: TemporaryDirectory
    var archive: String { dir.sub("archive") }
    var crm: String { dir.sub("crm") }
    var mail: String { dir.sub("mail") }

    init(importing: Bool = true) throws {
        dir = try TemporaryDirectory()
        try Self.writeCRM(dir, "crm")
        for (name, text) in Self.messages { try dir.write("mail/\(name).eml", text) }
        guard importing else { return }
        let loaded = try DossierCLI.run(["crm", "load", crm, "--archive", archive])
        XCTAssertEqual(loaded.status, 0, loaded.stderr)
        let imported = try DossierCLI.run(["import", mail, "--mailbox", "alice", "--archive", archive, "--quiet"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
    }

    /// The archive key of the message with this Message-ID.
    func key(_ messageID: String) -> String { MessagePreparer.key(messageID: messageID, sha256: "") }

    static func writeCRM(_ dir: TemporaryDirectory, _ folder: String, extraAccounts: String = "") throws {
        try dir.write("\(folder)/accounts.csv", """
            id,name,domains,main_email,parent_id
            ACME,Acme Corporation,acme.example,,
            ACME-UK,Acme UK Ltd,uk.acme.example,,ACME
            GLOBEX,Globex,us.globex.example,,
            \(extraAccounts)
            """)
        try dir.write("\(folder)/contacts.csv", """
            id,account_id,name,emails,excluded
            C-JM,ACME,John Miller,john.miller@acme.example,no
            C-SD,GLOBEX,Sarah Davis,sarah.davis@globex.example,no

            """)
        try dir.write("\(folder)/cases.csv", "id,account_id,code,title\nK-1,ACME,CASE-101,Supply contract\n")
        try dir.write("\(folder)/staff.csv", """
            id,name,email,mailbox,group
            S-A,Alice Hartwell,alice@firm.example,alice,Staff
            S-B,Bob Okafor,bob@firm.example,bob,Staff

            """)
        try dir.write("\(folder)/rules.yaml", """
            internal_domains: [firm.example]
            groups: [Public, Staff]
            subject_tags:
              - pattern: '\\[(CASE-[0-9]+)\\]'
                kind: case

            """)
    }

    static let john = "John Miller <john.miller@acme.example>"
    static let alice = "Alice Hartwell <alice@firm.example>"

    static func reply(to parent: String, _ references: [String]) -> String {
        "In-Reply-To: <\(parent)>\nReferences: " + references.map { "<\($0)>" }.joined(separator: " ") + "\n"
    }

    static let messages: [(String, String)] = [
        ("01", makeMessage(id: "m3@acme.example", from: john, to: alice, subject: "Re: [CASE-101] Contract",
                           date: "Mon, 04 Mar 2024 09:00:00 +0000", extraHeaders: reply(to: "m2@firm.example", ["m1@acme.example", "m2@firm.example"]))),
        ("02", makeMessage(id: "m2@firm.example", from: alice, to: john, subject: "Re: [CASE-101] Contract",
                           date: "Sat, 02 Mar 2024 10:00:00 +0000", extraHeaders: reply(to: "m1@acme.example", ["m1@acme.example"]))),
        ("03", makeMessage(id: "m1@acme.example", from: john, to: alice, subject: "[CASE-101] Contract",
                           date: "Fri, 01 Mar 2024 09:00:00 +0000")),
        ("04", makeMessage(id: "m4@acme.example", from: john, to: alice, subject: "Re: Delivery dates",
                           date: "Tue, 05 Mar 2024 09:00:00 +0000", extraHeaders: reply(to: "lost@firm.example", ["lost@firm.example"]))),
        ("05", makeMessage(id: "m5@uk.acme.example", from: "Bob Jones <bob@uk.acme.example>", to: alice, subject: "UK order",
                           date: "Wed, 06 Mar 2024 09:00:00 +0000")),
        ("06", makeMessage(id: "m6@gmail.com", from: "John Miller <john.miller.private@gmail.com>", to: alice,
                           subject: "Contract question from home", date: "Thu, 07 Mar 2024 09:00:00 +0000")),
        ("07", makeMessage(id: "m7@acme.com", from: "x@acme.com", to: alice, subject: "Hello", date: "Fri, 08 Mar 2024 09:00:00 +0000")),
        ("08", makeMessage(id: "m8@other.example", from: "someone@other.example", to: alice, subject: "About CASE-101 status",
                           date: "Sat, 09 Mar 2024 09:00:00 +0000")),
        ("09", makeMessage(id: "m9@news.example", from: "News <news@news.example>", to: alice, subject: "Weekly news",
                           date: "Thu, 01 Feb 2024 09:00:00 +0000")),
        ("10", makeMessage(id: "u1@other.example", from: "Carol <carol@other.example>", to: alice, subject: "Introduction",
                           date: "Sun, 10 Mar 2024 09:00:00 +0000")),
        ("11", makeMessage(id: "m11@globex.example", from: "Sarah Davis <sarah.davis@globex.example>", to: "carol@other.example",
                           subject: "Re: Introduction", date: "Mon, 11 Mar 2024 09:00:00 +0000",
                           extraHeaders: reply(to: "u1@other.example", ["u1@other.example"]))),
        ("12", makeMessage(id: "m12@globex.example", from: "ops@globex.example", to: alice, subject: "Invoice",
                           date: "Tue, 12 Mar 2024 09:00:00 +0000")),
        ("13", makeMessage(id: "m13@firm.example", from: alice, to: "bob@firm.example", subject: "Lunch",
                           date: "Wed, 13 Mar 2024 09:00:00 +0000")),
    ]

    /// Every file under `path` with its size, and a hash of the database's content (every row of
    /// every table), to tell that nothing changed. File times are left out: opening a WAL database
    /// (any command does) touches the file's header and time, never its content.
    static func snapshot(_ path: String) throws -> (files: [String], content: String) {
        var files: [String] = []
        let root = URL(fileURLWithPath: path)
        if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey, .isDirectoryKey]) {
            for case let url as URL in walker {
                let values = try url.resourceValues(forKeys: [.fileSizeKey, .isDirectoryKey])
                let relative = String(url.path.dropFirst(root.path.count))
                files.append(values.isDirectory == true ? relative + "/" : "\(relative) \(values.fileSize ?? -1)")
            }
        }
        files.sort()
        return (files, try contentHash(path))
    }

    private static func contentHash(_ path: String) throws -> String {
        let archive = try Archive.open(at: path, create: false)
        return try archive.database.read { db in
            var text = ""
            let tables = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name
                """)
            for table in tables {
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map(\.description).sorted()
                text += table + "\n" + rows.joined(separator: "\n") + "\n"
            }
            text += try String?.fetchAll(db, sql: "SELECT sql FROM sqlite_master ORDER BY name").compactMap { $0 }.joined(separator: "\n")
            return ContentHash.sha256Hex(Array(text.utf8))
        }
    }
}
