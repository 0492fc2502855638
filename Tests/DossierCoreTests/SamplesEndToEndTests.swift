import DossierCore
import Foundation
import GRDB
import XCTest

/// Imports samples/mail (the demo's mail) the way `scripts/demo` does and checks what
/// samples/mail/README.md promises: the ledger, the searches, byte-exact originals.
final class SamplesEndToEndTests: XCTestCase {
    private var samples: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/mail").path
    }

    private func importSamples(into archivePath: String) throws -> (Archive, RunLedger) {
        let archive = try Archive.open(at: archivePath, create: true)
        let ledger = try Importer(archive: archive, options: ImportOptions(paths: [samples])).run()
        return (archive, ledger)
    }

    func testLedgerIsWhatTheSamplesReadmeSays() throws {
        let dir = try TemporaryDirectory()
        let (_, ledger) = try importSamples(into: dir.sub("archive"))
        XCTAssertEqual(ledger.status, "completed")
        XCTAssertEqual(ledger.read, 45)
        // No CRM directory loaded: noise is kept, flagged (CRMDirectory.none), so all of it is stored.
        XCTAssertEqual(ledger.stored, 39)
        XCTAssertEqual(ledger.noise, 18)
        XCTAssertEqual(ledger.duplicate, 3)
        XCTAssertEqual(ledger.quarantined, 3)
        XCTAssertEqual(ledger.quarantineReasons, ["empty file": 1, "no header block": 2])
        XCTAssertTrue(ledger.isBalanced)

        let again = try importSamples(into: dir.sub("archive")).1
        XCTAssertEqual(again.stored, 0)
        XCTAssertEqual(again.duplicate, 42)
        XCTAssertEqual(again.noise, 0, "a run counts only the noise it stored")
    }

    /// A run's noise counts are its own: part of the noise first, then everything.
    func testEachRunCountsTheNoiseItStored() throws {
        let dir = try TemporaryDirectory()
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        let first = try Importer(archive: archive, options: ImportOptions(paths: [samples + "/noise"])).run()
        let second = try Importer(archive: archive, options: ImportOptions(paths: [samples])).run()
        XCTAssertGreaterThan(first.noise, 0)
        XCTAssertLessThan(first.noise, 18)
        XCTAssertEqual(first.noise + second.noise, 18)
        XCTAssertEqual(first.noiseReasons.merging(second.noiseReasons, uniquingKeysWith: +),
                       ["autoreply": 4, "bounce": 3, "meeting_reply": 2, "newsletter": 3, "noreply": 3, "read_receipt": 3])
    }

    /// With the sample firm's CRM directory (noise counted only), every kind of noise in
    /// samples/mail comes out as samples/mail/README.md says, and the near misses are filed.
    func testNoiseSamplesAreClassifiedAndNearMissesFiled() throws {
        let dir = try TemporaryDirectory()
        let archive = dir.sub("archive")
        let crm = URL(fileURLWithPath: samples).deletingLastPathComponent().appendingPathComponent("crm").path
        XCTAssertEqual(try DossierCLI.run(["crm", "load", crm, "--archive", archive]).status, 0)
        // The preview names noise that is counted only as noise, with its kind.
        let preview = try DossierCLI.run(["import", samples + "/noise", "--archive", archive, "--dry-run", "--format", "csv"])
        XCTAssertEqual(preview.status, 0, preview.stderr)
        XCTAssertTrue(preview.text.contains(",noise,bounce,"), preview.text)
        XCTAssertFalse(preview.text.contains(",excluded,noise,"), preview.text)
        let imported = try DossierCLI.run(["import", samples, "--archive", archive, "--json"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        let ledger = try JSONDecoder().decode(RunLedger.self, from: Data(imported.stdout))
        XCTAssertEqual(ledger.noiseReasons, ["autoreply": 4, "bounce": 3, "meeting_reply": 2, "newsletter": 3, "noreply": 3, "read_receipt": 3])
        XCTAssertEqual(ledger.excludedReasons["noise"], 18, "noise.store: false counts noise only")
        XCTAssertTrue(ledger.isBalanced)

        let report = try DossierCLI.run(["report", "assignments", "--archive", archive])
        var byFile: [String: (status: String, reason: String?)] = [:]
        for line in report.text.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            for source in object["sources"] as! [[String: Any]] {
                byFile[((source["path"] as! String) as NSString).lastPathComponent] = (object["status"] as! String, object["reason"] as? String)
            }
        }
        let expected: [String: String] = [
            "exchange-ndr-de.eml": "bounce", "qmail-failure-notice.eml": "bounce", "gmail-vacation-es.eml": "autoreply",
            "outlook-ooo-fr.eml": "autoreply", "ooo-ja-no-headers.eml": "autoreply", "thunderbird-mdn-it.eml": "read_receipt",
            "outlook-read-nl.eml": "read_receipt", "google-calendar-accepted-de.eml": "meeting_reply",
            "marketing-newsletter.eml": "newsletter", "portal-notification-pl.eml": "noreply",
        ]
        for (file, kind) in expected {
            XCTAssertEqual(byFile[file]?.status, "noise", file)
            XCTAssertEqual(byFile[file]?.reason, kind, file)
        }
        for file in ["near-miss-reply-quoting-ooo.eml", "near-miss-ooo-coverage.eml", "near-miss-forwarded-newsletter.eml"] {
            XCTAssertEqual(byFile[file]?.status, "filed", file)
        }

        let excluded = try DossierCLI.run(["report", "excluded", "--archive", archive, "--format", "json"])
        XCTAssertEqual(excluded.status, 0, excluded.stderr)
        let items = try JSONSerialization.jsonObject(with: Data(excluded.stdout)) as! [[String: Any]]
        XCTAssertEqual(items.count, 18)
        XCTAssertTrue(items.allSatisfy { !($0["signals"] as! [String]).isEmpty && $0["from"] is String }, "noise keeps its sender and its signals")
    }

    func testDemoSearchesFindWhatTheReadmePromises() throws {
        let dir = try TemporaryDirectory()
        let (archive, _) = try importSamples(into: dir.sub("archive"))
        let engine = SearchEngine(archive: archive)
        func subjects(_ query: String) throws -> Set<String> {
            Set(try engine.search(query, limit: nil).compactMap(\.subject))
        }

        let invoices = try subjects("invoice")
        for expected in ["Invoice INV-2024-0142 - PO number missing", "[CASE-10417] Invoice INV-2024-0117 - query",
                         "Gutschrift zu Rechnung 2024-031 (Überzahlung)", "Facture n°2023-118 - conseil fiscal"] {
            XCTAssertTrue(invoices.contains(expected), "invoice should find \(expected)")
        }
        XCTAssertTrue(invoices.contains { $0.hasPrefix("Счёт N 2024-77") }, "KOI8-R body and B-encoded subject are decoded")

        XCTAssertEqual(try subjects("from:acme.example has:attachment"),
                       ["Invoice INV-2024-0142 - PO number missing", "Supply contract - review"])
        let contracts = try subjects("subject:contract OR body:Vertrag")
        XCTAssertTrue(contracts.contains("AW: Vertragsentwurf Liefervertrag - Änderungen"))
        XCTAssertTrue(contracts.contains("業務委託契約書のご確認 (service contract)"), "ISO-2022-JP subject is decoded")
        // The RFC 2231 file name, split over two continuations and percent-encoded, is searchable.
        XCTAssertEqual(try subjects("attachment:Änderungen"), ["Unterschriebener Vertrag / signed contract"])

        // Noise is kept (no CRM directory), flagged: only a query naming is:noise finds it.
        let legalTech = try subjects("LegalTech")
        XCTAssertEqual(legalTech, ["Fwd: LegalTech Weekly #212: Five things to know about e-signatures"], "the client's forward, not the newsletters")
        XCTAssertEqual(try subjects("is:noise LegalTech"), ["LegalTech Weekly #148: AI contract review, e-signature rules",
                                                            "LegalTech Weekly #212: Five things to know about e-signatures"])
        XCTAssertEqual(try subjects("LegalTech (is:noise OR is:filed OR is:unassigned)").count, 3)
        XCTAssertTrue(try subjects("is:noise").contains("Undelivered Mail Returned to Sender"))
        XCTAssertThrowsError(try engine.search("is:spam")) { error in
            XCTAssertTrue("\(error)".contains("unknown is:spam"), "\(error)")
        }
    }

    func testEveryStoredOriginalIsByteExactWithItsSourceFile() throws {
        let dir = try TemporaryDirectory()
        let (archive, _) = try importSamples(into: dir.sub("archive"))
        // Every copy read from a one-message file must give back that file's bytes exactly.
        let copies = try archive.database.read { db in
            try Row.fetchAll(db, sql: "SELECT path, sha256 FROM copy WHERE offset = -1")
        }
        XCTAssertEqual(copies.count, 33, "13 Maildir files, 7 .eml drops and 13 noise samples")
        for copy in copies {
            let path: String = copy["path"]
            let sha256: String = copy["sha256"]
            let source = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            XCTAssertEqual(try archive.readOriginal(sha256: sha256), source, path)
        }
    }
}
