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
}
