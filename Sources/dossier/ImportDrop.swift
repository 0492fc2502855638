import ArgumentParser
import DossierCore
import Foundation

/// `dossier import --drop DIR`: the nightly job (see `DropImport`).
extension Import {
    func runDrop() throws {
        let report = try guarded { () -> DropReport in
            let folder = DropFolder(root: drop!, settleSeconds: settle ?? 5)
            try SourcePlanner.checkPaths([folder.root])
            let archive = try openArchive(archiveOptions, create: true)
            let cancellation = CancellationFlag()
            let interrupt = InterruptHandler { cancellation.cancel() }
            defer { interrupt.restore() }
            let display = progressDisplay()
            let report = try DropImport.run(archive: archive, drop: folder, options: try importOptions(),
                                            cancellation: cancellation, progress: display.update)
            display.finish()
            return report
        }
        if json {
            try printJSON(report)
        } else if !quiet {
            writeOut(LedgerText.render(report.ledger))
            writeOut(DropText.render(report))
        }
        switch report.ledger.status {
        case "failed": fail(report.ledger.error ?? "import failed", Exit.failed)
        case "interrupted":
            FileHandle.standardError.write(Data("dossier: interrupted; every file is still in the drop folder, run again to resume\n".utf8))
            throw Exit.interrupted
        default: break
        }
        if report.hasQuarantine { throw Exit.quarantined }
    }
}

/// The drop run's moves, after the ledger.
enum DropText {
    static func render(_ report: DropReport) -> String {
        var lines = ["drop folder \(report.folder): \(report.processed.count) processed, \(report.quarantined.count) quarantined, \(report.left.count) left for the next run"]
        for moved in report.quarantined {
            lines.append("  quarantined \(moved.file) -> \(moved.to): \(moved.reason?.split(separator: "\n").first.map(String.init) ?? "")")
        }
        for left in report.left.prefix(20) { lines.append("  left \(left.file): \(left.reason)") }
        if report.left.count > 20 { lines.append("  ... and \(report.left.count - 20) more (see the report)") }
        if let saved = report.savedAs { lines.append("report: \(saved)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
