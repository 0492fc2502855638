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
        XCTAssertEqual(ledger.read, 32)
        XCTAssertEqual(ledger.stored, 26)
        XCTAssertEqual(ledger.duplicate, 3)
        XCTAssertEqual(ledger.quarantined, 3)
        XCTAssertEqual(ledger.quarantineReasons, ["empty file": 1, "no header block": 2])
        XCTAssertTrue(ledger.isBalanced)

        let again = try importSamples(into: dir.sub("archive")).1
        XCTAssertEqual(again.stored, 0)
        XCTAssertEqual(again.duplicate, 29)
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
    }

    func testEveryStoredOriginalIsByteExactWithItsSourceFile() throws {
        let dir = try TemporaryDirectory()
        let (archive, _) = try importSamples(into: dir.sub("archive"))
        // Every copy read from a one-message file must give back that file's bytes exactly.
        let copies = try archive.database.read { db in
            try Row.fetchAll(db, sql: "SELECT path, sha256 FROM copy WHERE offset = -1")
        }
        XCTAssertEqual(copies.count, 20, "13 Maildir files and 7 .eml drops")
        for copy in copies {
            let path: String = copy["path"]
            let sha256: String = copy["sha256"]
            let source = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            XCTAssertEqual(try archive.readOriginal(sha256: sha256), source, path)
        }
    }
}
