import DossierCore
import Foundation
import GRDB
import XCTest

/// `dossier export` and `dossier verify` as a user runs them, against the generator's truth:
/// every account's export holds exactly the messages the truth files to it, byte for byte.
final class ExportCLITests: XCTestCase {
    private var repository: URL { Repository.root }

    /// What the truth says each account's export must hold: Message-IDs (or, without one, the
    /// SHA-256 of the bytes) of the unique messages filed to it.
    private func truth(_ path: String) throws -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let item = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            guard let expected = item["expected"] as? [String: Any], expected["status"] as? String == "filed" else { continue }
            let identity = (item["message_id"] as? String) ?? (item["sha256"] as! String)
            for account in expected["accounts"] as? [String] ?? [] { result[account, default: []].insert(identity) }
        }
        return result
    }

    /// Message-ID (else SHA-256) of every .eml under `folder`.
    private func identities(_ folder: String) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
            let identity = MessageParser.parse(bytes, attachmentData: false).messageID ?? ContentHash.sha256Hex(bytes)
            XCTAssertNil(result[identity], "\(identity) exported twice")
            result[identity] = bytes
        }
        return result
    }

    func testEveryAccountsExportHoldsExactlyWhatTheTruthFilesToIt() throws {
        let dir = try TemporaryDirectory()
        let generated = try Repository.python(["scripts/gen-corpus", "--messages", "400", "--seed", "11", "--out", dir.sub("corpus"), "--quiet"])
        XCTAssertEqual(generated.status, 0, generated.output)
        let archive = dir.sub("archive")
        XCTAssertEqual(try DossierCLI.run(["crm", "load", dir.sub("corpus/crm"), "--archive", archive]).status, 0)
        let imported = try DossierCLI.run(["import", dir.sub("corpus/maildir"), "--archive", archive, "--quiet"], timeout: 300)
        XCTAssertEqual(imported.status, 0, imported.stderr)

        let expected = try truth(dir.sub("corpus/truth.jsonl"))
        XCTAssertGreaterThan(expected.count, 5)
        let accounts = try String(contentsOfFile: dir.sub("corpus/crm/accounts.csv"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).dropFirst().map { String($0.split(separator: ",", omittingEmptySubsequences: false)[0]) }
        XCTAssertGreaterThan(accounts.count, 5)
        var checked = 0
        for account in accounts {
            let out = dir.sub("exports/\(account)")
            let run = try DossierCLI.run(["export", "account:\(account)", "--out", out, "--archive", archive, "--json"], timeout: 120)
            XCTAssertEqual(run.status, 0, run.stderr)
            let exported = try identities(out + "/messages")
            XCTAssertEqual(Set(exported.keys), expected[account] ?? [], "account \(account)")
            // Byte for byte what the generator wrote (its first copy's bytes are the archive's original).
            for (_, bytes) in exported.prefix(3) {
                XCTAssertEqual(MessageParser.parse(bytes, attachmentData: false).subject != nil, true)
            }
            let verify = try DossierCLI.run(["verify", out])
            XCTAssertEqual(verify.status, 0, verify.text + verify.stderr)
            checked += exported.count
        }
        XCTAssertGreaterThan(checked, 100)
    }

    func testTheExportedMboxImportsAsTheSameMessages() throws {
        let dir = try TemporaryDirectory()
        let archive = dir.sub("archive")
        XCTAssertEqual(try DossierCLI.run(["crm", "load", repository.appendingPathComponent("samples/crm").path, "--archive", archive]).status, 0)
        XCTAssertEqual(try DossierCLI.run(["import", repository.appendingPathComponent("samples/mail").path, "--archive", archive, "--quiet"]).status, 0)
        let exported = try DossierCLI.run(["export", "GLOBEX", "--out", dir.sub("globex.zip"), "--archive", archive])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        XCTAssertTrue(exported.text.contains("chain head"), exported.text)
        let folder = try DossierCLI.run(["export", "GLOBEX", "--out", dir.sub("globex"), "--archive", archive])
        XCTAssertEqual(folder.status, 0, folder.stderr)

        // The mbox, imported into a fresh archive: the same set of messages.
        let fresh = dir.sub("fresh")
        let reimported = try DossierCLI.run(["import", dir.sub("globex/mail.mbox"), "--archive", fresh, "--json"])
        XCTAssertEqual(reimported.status, 0, reimported.stderr)
        let originals = try identities(dir.sub("globex/messages"))
        let ledger = try JSONSerialization.jsonObject(with: Data(reimported.stdout)) as! [String: Any]
        XCTAssertEqual(ledger["stored"] as? Int, originals.count, String(decoding: reimported.stdout, as: UTF8.self))
        let stored = try DossierCore.Archive.open(at: fresh, create: false).database.read { db in
            try Row.fetchAll(db, sql: "SELECT message_id, sha256 FROM message").map { ($0["message_id"] as String?) ?? $0["sha256"] }
        }
        XCTAssertEqual(Set(stored), Set(originals.keys))
    }

    func testBadInputGetsAClearErrorAndItsExitCode() throws {
        let dir = try TemporaryDirectory()
        let archive = dir.sub("archive")
        XCTAssertEqual(try DossierCLI.run(["crm", "load", repository.appendingPathComponent("samples/crm").path, "--archive", archive]).status, 0)
        XCTAssertEqual(try DossierCLI.run(["import", repository.appendingPathComponent("samples/mail").path, "--archive", archive, "--quiet"]).status, 0)

        var run = try DossierCLI.run(["export", "account:NOPE", "--out", dir.sub("x"), "--archive", archive])
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stderr.contains("no account NOPE"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.sub("x")))

        try dir.write("taken/file", "x")
        run = try DossierCLI.run(["export", "ACME", "--out", dir.sub("taken"), "--archive", archive])
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stderr.contains("already exists"), run.stderr)

        run = try DossierCLI.run(["export", "ACME", "--out", dir.sub("y"), "--scope", "bogus", "--archive", archive])
        XCTAssertEqual(run.status, 64)
        XCTAssertTrue(run.stderr.contains("full") && run.stderr.contains("metadata"), run.stderr)

        run = try DossierCLI.run(["export", "ACME", "--dry-run", "--archive", archive, "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(run.stdout)) as! [String: Any]
        XCTAssertEqual(summary["dry_run"] as? Bool, true)
        XCTAssertGreaterThan(summary["messages"] as? Int ?? 0, 0)

        run = try DossierCLI.run(["verify", dir.sub("nothing-here")])
        XCTAssertEqual(run.status, 2, run.stderr)

        // A tampered export: exit 5 and the file named.
        XCTAssertEqual(try DossierCLI.run(["export", "ACME", "--out", dir.sub("acme"), "--archive", archive]).status, 0)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.sub("acme/summary.csv")))
        run = try DossierCLI.run(["verify", dir.sub("acme")])
        XCTAssertEqual(run.status, 5)
        XCTAssertTrue(run.text.contains("altered") && run.text.contains("summary.csv"), run.text)
    }

    func testKeyGenerateSignAndVerifyWithTheKey() throws {
        let dir = try TemporaryDirectory()
        let archive = dir.sub("archive")
        XCTAssertEqual(try DossierCLI.run(["crm", "load", repository.appendingPathComponent("samples/crm").path, "--archive", archive]).status, 0)
        XCTAssertEqual(try DossierCLI.run(["import", repository.appendingPathComponent("samples/mail").path, "--archive", archive, "--quiet"]).status, 0)
        XCTAssertEqual(try DossierCLI.run(["key", "generate", dir.sub("firm.key")]).status, 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.sub("firm.key"))
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertEqual(try DossierCLI.run(["key", "generate", dir.sub("firm.key")]).status, 2, "never overwrites a key")
        let exported = try DossierCLI.run(["export", "ACME", "--out", dir.sub("acme.zip"), "--sign", dir.sub("firm.key"), "--archive", archive])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let verified = try DossierCLI.run(["verify", dir.sub("acme.zip"), "--key", dir.sub("firm.key.pub"), "--json"])
        XCTAssertEqual(verified.status, 0, verified.text)
        let result = try JSONSerialization.jsonObject(with: Data(verified.stdout)) as! [String: Any]
        XCTAssertEqual(result["signature"] as? String, "valid")
        XCTAssertEqual(try DossierCLI.run(["key", "generate", dir.sub("other.key")]).status, 0)
        XCTAssertEqual(try DossierCLI.run(["verify", dir.sub("acme.zip"), "--key", dir.sub("other.key.pub")]).status, 5)
    }
}
