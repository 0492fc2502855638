@testable import DossierCore
import Foundation
import GRDB
import XCTest

/// What a new user ran into (issue 14), each as a test that failed before its fix.
final class NewUserFindingsTests: XCTestCase {
    private func dossier(_ arguments: [String]) throws -> DossierCLI.Outcome { try DossierCLI.run(arguments, timeout: 120) }

    /// Every enumerated option of every command refuses a value it does not know, and says which
    /// it knows (before: `report excluded --reason bogus` printed nothing and exited 0).
    func testUnknownEnumeratedValuesAreErrorsListingTheValidOnes() throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/a.eml", makeMessage(id: "a@client.example"))
        let archive = dir.sub("archive")
        XCTAssertEqual(try dossier(["import", dir.sub("in"), "--archive", archive, "--quiet"]).status, 0)
        let cases: [(arguments: [String], valid: [String])] = [
            (["report", "excluded", "--reason", "bogus"], ExcludedReport.Reason.allCases.map(\.rawValue)),
            (["report", "excluded", "--format", "bogus"], ["table", "csv", "json", "jsonl", "html"]),
            (["report", "unassigned", "--format", "bogus"], ["table", "csv", "json", "jsonl", "html"]),
            (["report", "contacts", "--discovered", "--format", "bogus"], ["table", "csv", "json", "jsonl", "html"]),
            (["report", "clients", "--format", "bogus"], ["table", "csv", "json", "jsonl", "html"]),
            (["report", "clients", "--sort", "bogus"], ClientsReport.Sort.allCases.map(\.rawValue)),
            (["report", "duplicates", "--format", "bogus"], ["table", "csv", "json", "jsonl", "html"]),
            (["report", "assignments", "--format", "bogus"], ["jsonl", "json"]),
            (["report", "run", "--format", "bogus"], ["table", "csv", "json", "jsonl", "html"]),
            (["search", "x", "--sort", "bogus"], SearchSort.allCases.map(\.rawValue)),
            (["export", "ACME", "--out", dir.sub("out"), "--scope", "bogus"], ExportScope.allCases.map(\.rawValue)),
            (["client", "ACME", "--kind", "bogus"], ["account", "contact", "lead", "case"]),
            (["import", dir.sub("in"), "--dry-run", "--format", "bogus"], ["table", "csv", "json"]),
        ]
        for (arguments, valid) in cases {
            let run = try dossier(arguments + ["--archive", archive])
            let name = arguments.joined(separator: " ")
            XCTAssertNotEqual(run.status, 0, name)
            XCTAssertTrue(run.stdout.isEmpty, "\(name): \(run.text)")
            XCTAssertTrue(run.stderr.contains("'bogus'"), "\(name): \(run.stderr)")
            // ArgumentParser quotes a short list in one line and bullets a long one.
            for value in valid {
                XCTAssertTrue(run.stderr.contains("'\(value)'") || run.stderr.contains("- \(value)\n"), "\(name) lists \(value): \(run.stderr)")
            }
        }
        // Reasons are still matched in any case, as before.
        let upper = try dossier(["report", "excluded", "--reason", "AutoReply", "--archive", archive])
        XCTAssertEqual(upper.status, 0, upper.stderr)
    }

    private static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples").path

    /// A one-off --since leaves exclusion records (window); the same mail imported again without
    /// it gets what a first import would have decided: its noise counted as noise, the rest
    /// stored. The ledger's noise then agrees with its excluded reasons, and a third run of the
    /// same mail is all duplicates (no noise, no exclusions).
    func testAWindowExclusionNeverBlocksALaterImportAndTheLedgerAgrees() throws {
        let dir = try TemporaryDirectory()
        let fresh = dir.sub("fresh"), windowed = dir.sub("windowed")
        for archive in [fresh, windowed] {
            XCTAssertEqual(try dossier(["crm", "load", Self.samples + "/crm", "--archive", archive]).status, 0)
        }
        let once = try ledger(["import", Self.samples + "/mail", "--archive", fresh, "--json", "--quiet"])
        let narrow = try ledger(["import", Self.samples + "/mail", "--since", "2030-01-01", "--archive", windowed, "--json", "--quiet"])
        XCTAssertGreaterThan((narrow["excluded_reasons"] as? [String: Int])?["window"] ?? 0, 30, "all but the undated mail")
        let again = try ledger(["import", Self.samples + "/mail", "--archive", windowed, "--json", "--quiet"])
        for field in ["stored", "excluded", "noise"] {
            XCTAssertEqual(again[field] as? Int, once[field] as? Int, field)
        }
        XCTAssertEqual(again["excluded_reasons"] as? [String: Int], once["excluded_reasons"] as? [String: Int])
        XCTAssertEqual(again["noise_reasons"] as? [String: Int], once["noise_reasons"] as? [String: Int])
        XCTAssertEqual(again["noise"] as? Int, (again["excluded_reasons"] as? [String: Int])?["noise"], "excluded N (N noise) and noise N")

        // The reports equal a fresh import's, but for keys of runs.
        func statuses(_ archive: String) throws -> [String: String] {
            let report = try dossier(["report", "assignments", "--archive", archive])
            var result: [String: String] = [:]
            for line in report.text.split(separator: "\n") {
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                result[object["key"] as? String ?? ""] = "\(object["status"] ?? "") \(object["reason"] ?? "") \(object["accounts"] ?? "")"
            }
            return result
        }
        XCTAssertEqual(try statuses(windowed), try statuses(fresh))

        let third = try ledger(["import", Self.samples + "/mail", "--archive", windowed, "--json", "--quiet"])
        XCTAssertEqual(third["stored"] as? Int, 0)
        XCTAssertEqual(third["excluded"] as? Int, 0, "a message recorded as excluded for the same reason is a duplicate")
        XCTAssertEqual(third["noise"] as? Int, 0)
    }

    /// Re-filing with nothing changed changes nothing, the first time after an import too (before:
    /// 4 updated, then 2, then 2 forever: an account matched by its main_email and through a
    /// contact at that address kept two matches where the archive stores one, and an import kept
    /// one thread match per record where a rematch keeps one per record and parent).
    func testRematchWithNothingChangedUpdatesNothing() throws {
        let dir = try TemporaryDirectory()
        let archive = dir.sub("archive")
        XCTAssertEqual(try dossier(["crm", "load", Self.samples + "/crm", "--archive", archive]).status, 0)
        XCTAssertEqual(try dossier(["import", Self.samples + "/mail", "--archive", archive, "--quiet"]).status, 0)
        for round in 1...2 {
            let rematch = try dossier(["rematch", "--archive", archive, "--json"])
            XCTAssertEqual(rematch.status, 0, rematch.stderr)
            let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(rematch.stdout)) as? [String: Any])
            XCTAssertEqual(report["updated"] as? Int, 0, "round \(round): \(report["changes"] ?? "")")
        }
    }

    private func ledger(_ arguments: [String]) throws -> [String: Any] {
        let run = try dossier(arguments)
        XCTAssertEqual(run.status, 0, run.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any])
    }
}
