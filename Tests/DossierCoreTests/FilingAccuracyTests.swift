import Foundation
import XCTest

/// End to end against the generator's truth: scripts/gen-corpus writes mail, a CRM directory and
/// the expected filing of every message (every rule and precedence case as scenarios);
/// `crm load`, `import` and `report assignments` must agree with it 100 %, as scored by
/// scripts/score (which exits non-zero below 100 %).
final class FilingAccuracyTests: XCTestCase {
    private var repository: URL { Repository.root }

    /// `keepNoise`: rules.yaml says `noise: store: true` (kept, flagged) instead of the default
    /// (counted only); the report must not change.
    private func check(format: String, mode: [String] = [], keepNoise: Bool = false) throws {
        let dir = try TemporaryDirectory()
        let generated = try Repository.python(["scripts/gen-corpus", "--messages", "1500", "--seed", "3", "--format", format,
                                    "--out", dir.sub("corpus"), "--quiet"] + mode)
        XCTAssertEqual(generated.status, 0, generated.output)
        if keepNoise {
            let rules = URL(fileURLWithPath: dir.sub("corpus/crm/rules.yaml"))
            try (String(contentsOf: rules, encoding: .utf8) + "noise:\n  store: true\n").write(to: rules, atomically: true, encoding: .utf8)
        }
        let archive = dir.sub("archive")
        let load = try DossierCLI.run(["crm", "load", dir.sub("corpus/crm"), "--archive", archive])
        XCTAssertEqual(load.status, 0, load.stderr)
        let imported = try DossierCLI.run(["import", dir.sub("corpus/\(format)"), "--archive", archive, "--quiet"], timeout: 300)
        XCTAssertEqual(imported.status, 0, imported.stderr)
        let report = try DossierCLI.run(["report", "assignments", "--archive", archive])
        XCTAssertEqual(report.status, 0, report.stderr)
        try dir.write("assignments.jsonl", report.stdout)
        // With the noise stage: every noise kind at 100 % precision and recall, every near miss filed.
        let score = try Repository.python(["scripts/score", "--truth", dir.sub("corpus/truth.jsonl"), "--assignments", dir.sub("assignments.jsonl"),
                                "--show-mismatches", "10"] + (format == "mbox" ? ["--format", "mbox"] : []))
        XCTAssertEqual(score.status, 0, score.output)
        XCTAssertTrue(score.output.contains("100.000 %"), score.output)
        XCTAssertTrue(score.output.contains("messages that are not noise reported as noise: 0"), score.output)
    }

    func testMaildirCorpusIsFiledExactlyAsTheTruthSays() throws {
        try check(format: "maildir")
    }

    func testMboxCorpusIsFiledExactlyAsTheTruthSays() throws {
        try check(format: "mbox")
    }

    func testMatchedOnlyModeExcludesExactlyTheUnmatched() throws {
        try check(format: "maildir", mode: ["--mode", "matched_only"])
    }

    func testKeepingNoiseFlaggedReportsTheSameFiling() throws {
        try check(format: "maildir", keepNoise: true)
    }
}
