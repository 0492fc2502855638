import ArgumentParser
import DossierCore
import Foundation

/// `dossier verify PATH`: an export re-hashed against its manifest (see `ExportVerifier`).
/// Exit 0 when everything holds, 5 on any finding.
func verifyExport(path: String, head: String?, keyFile: String?, json: Bool) throws {
    let result = try guarded { () -> ExportVerification in
        var verifier = ExportVerifier(path: path)
        verifier.expectedHead = head
        if let keyFile {
            guard let text = try? String(contentsOfFile: keyFile, encoding: .utf8) else { fail("cannot read the key \(keyFile)", Exit.badInput) }
            do { verifier.publicKey = try ExportSigning.publicKey(pem: text) } catch { fail("\(keyFile): \(error)", Exit.badInput) }
        }
        do {
            return try verifier.verify()
        } catch let error as ExportVerifierError {
            fail(error.description, Exit.badInput)
        } catch let error as ExportOutputError {
            fail(error.description, Exit.badInput)
        }
    }
    if json {
        try printJSON(result)
    } else {
        var lines = ["Export \(result.path)" + (result.record.map { " (\($0))" } ?? "")]
        lines.append("  files        \(grouped(result.files)) re-hashed, " + String(format: "%.1f MB", Double(result.bytes) / 1_000_000))
        if let chainHead = result.chainHead {
            let expectation = head.map { $0.lowercased() == chainHead ? " (as expected)" : " (NOT the expected \($0))" } ?? ""
            lines.append("  chain head   \(chainHead)" + expectation)
        }
        if let digest = result.manifestSHA256 { lines.append("  manifest     sha256 \(digest)") }
        lines.append("  signature    \(result.signature)")
        if let time = result.timestamp { lines.append("  timestamp    \(time) (manifest.tsr stamps this manifest; check the authority's signature with openssl ts -verify)") }
        if result.findings.isEmpty {
            lines.append("OK: every file matches the manifest, none is missing or added, the chain holds")
        } else {
            lines.append("\(result.findings.count) finding\(result.findings.count == 1 ? "" : "s"):")
            for finding in result.findings {
                lines.append("  \(finding.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(oneLine(finding.path)): \(oneLine(finding.detail))")
            }
        }
        lines.append(String(format: "  in %.2f s", result.elapsed))
        writeOut(lines.joined(separator: "\n") + "\n")
    }
    if !result.ok { throw Exit.problemsFound }
}
