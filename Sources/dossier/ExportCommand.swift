import ArgumentParser
import DossierCore
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "A client's compliance export: every message filed to the record, byte-exact, with a site, load files and a signed manifest.",
        discussion: """
            RECORD is account:ID, contact:ID, lead:ID or case:ID, or a bare id (or case code) as \
            `dossier client` resolves it. PATH ending in .zip writes a zip; any other PATH a folder, \
            which must not exist or be empty. The export holds exactly the messages filed to the \
            record (for an account, also through its contacts and cases); left-out.csv lists the \
            noise, excluded and unassigned mail that concerns the client, and what the options left \
            out, each with its reason. `dossier verify PATH` checks it.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: "The client record (account:ID, contact:ID, lead:ID, case:ID, or an id).")
    var record: String

    @Option(help: "Where to write: a new folder, or a file ending in .zip.")
    var out: String?

    @Flag(help: "An account's subsidiaries' mail too (every level), each message once.")
    var withSubsidiaries = false

    @Option(help: "Only mail on or after this day (YYYY-MM-DD, UTC).")
    var since: String?

    @Option(help: "Only mail on or before this day (YYYY-MM-DD, UTC).")
    var until: String?

    @Option(help: "full (default), no-attachments, or metadata (header fields, filing records and hashes only).")
    var scope: ExportScope = .full

    @Option(help: "Only mail accessible to this security group (rules.yaml groups).")
    var group: String?

    @Option(help: "Only mail matching this search query (the `dossier search` language).")
    var query: String?

    @Option(help: "Sign manifest.json with this Ed25519 private key (PEM; see `dossier key generate`).")
    var sign: String?

    @Flag(help: "Every content of each message: copies with its Message-ID but other bytes too, as KEY.content-N.eml and in the mbox (default: one copy per message, the one report assignments names).")
    var allCopies = false

    @Flag(help: "Count what would be exported; write nothing.")
    var dryRun = false

    @Flag(help: "Print the export's summary as JSON.")
    var json = false

    func validate() throws {
        if out == nil && !dryRun { throw ValidationError("--out PATH is required (or --dry-run)") }
    }

    func run() throws {
        let result = try guarded { () -> ExportResult in
            let archive = try openArchiveForReading(archiveOptions)
            var writer = ExportWriter(archive: archive, request: try request(archive))
            writer.version = Dossier.versionText
            if let sign {
                guard let text = try? String(contentsOfFile: sign, encoding: .utf8) else { fail("cannot read the key \(sign)", Exit.badInput) }
                do { writer.signingKey = try ExportSigning.privateKey(pem: text) } catch { fail("\(sign): \(error)", Exit.badInput) }
            }
            let bar = (!json && stderrIsTerminal) ? CountBar(noun: "messages") : nil
            // Not on a terminal (cron, a service): periodic lines in the log instead.
            let log = stderrIsTerminal ? nil : ProgressLog(command: "export")
            let started = Date()
            if let bar {
                writer.progress = { bar.update($0, of: $1) }
            } else if let log {
                writer.progress = { log.update($0, of: $1, elapsed: Date().timeIntervalSince(started)) }
            }
            defer { bar?.finish() }
            let destination = out ?? "-"
            let sink: ExportSink?
            do {
                if dryRun {
                    sink = nil
                } else if destination.lowercased().hasSuffix(".zip") {
                    sink = try ZipSink(destination: destination, created: writer.now)
                } else {
                    sink = try FolderSink(destination: destination)
                }
            } catch let error as ExportOutputError {
                fail(error.description, Exit.badInput)
            }
            do {
                return try writer.run(into: sink, destination: destination)
            } catch let error as ExportError {
                switch error {
                case .missingObject: fail(error.description, Exit.failed)
                default: fail(error.description, Exit.badInput)
                }
            } catch let error as ExportOutputError {
                fail("\(error); nothing was exported", Exit.failed)
            }
        }
        if json { return try printJSON(result) }
        writeOut(Self.text(result))
    }

    private func request(_ archive: Archive) throws -> ExportRequest {
        let resolved = try archive.database.read { db -> CRMRecordRef in
            let index = CRMIndex(try CRMStore.activeDirectory(in: db) ?? CRMDirectory())
            var id = record
            var kind: CRMRecordKind?
            if let colon = record.firstIndex(of: ":"), let named = CRMRecordKind(rawValue: String(record[..<colon])) {
                kind = named
                id = String(record[record.index(after: colon)...])
            }
            do {
                return try ClientFile.resolve(id, kind: kind, index: index, db)
            } catch let error as ClientFileError {
                fail(error.description, Exit.badInput)
            }
        }
        var request = ExportRequest(record: resolved)
        request.withSubsidiaries = withSubsidiaries
        request.since = since
        request.until = until
        request.scope = scope
        request.group = group
        request.query = query
        request.allCopies = allCopies
        return request
    }

    static func text(_ result: ExportResult) -> String {
        var lines: [String] = []
        let verb = result.dryRun ? "Would export" : "Exported"
        lines.append("\(verb) \(result.record) (\(result.scope))" + (result.dryRun ? "" : " to \(result.destination)"))
        lines.append("  messages     \(grouped(result.messages))")
        if result.variants > 0 { lines.append("  other copies \(grouped(result.variants)) (other contents under the same Message-IDs: --all-copies)") }
        lines.append("  attachments  \(grouped(result.attachments)) (\(grouped(result.attachmentFiles)) distinct file\(result.attachmentFiles == 1 ? "" : "s"))")
        if !result.dryRun { lines.append("  files        \(grouped(result.files)) in the manifest") }
        lines.append("  size         " + String(format: "%.1f MB", Double(result.bytes) / 1_000_000))
        let leftOut = result.leftOut.values.reduce(0, +)
        lines.append("  left out     \(grouped(leftOut))" + (leftOut == 0 ? "" : " (" + result.leftOut.sorted { $0.key < $1.key }
            .map { "\($0.key) \(grouped($0.value))" }.joined(separator: ", ") + "; see left-out.csv)"))
        if let head = result.chainHead {
            lines.append("  chain head   \(head)")
            lines.append("  manifest     sha256 \(result.manifestSHA256 ?? "-")\(result.signed ? ", signed (manifest.json.sig)" : "")")
            lines.append("  check it     dossier verify \(result.destination) --head \(head)")
        }
        lines.append(String(format: "  in %.2f s", result.elapsed))
        return lines.map { $0.trimmingCharacters(in: .whitespaces).isEmpty ? "" : $0 }.joined(separator: "\n") + "\n"
    }
}

extension ExportScope: ExpressibleByArgument {}

/// "n of total" on stderr, for commands that know how much there is to do.
final class CountBar {
    private let noun: String
    private let started = Date()
    private var lastDraw = Date.distantPast

    init(noun: String) { self.noun = noun }

    func update(_ done: Int, of total: Int) {
        let now = Date()
        guard done == total || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let width = 24
        let filled = Int(fraction * Double(width))
        let line = "  \(grouped(done)) of \(grouped(total)) \(noun)  [" + String(repeating: "#", count: filled)
            + String(repeating: " ", count: width - filled) + "]" + String(format: " %3.0f%%  %.0f s", fraction * 100, now.timeIntervalSince(started))
        FileHandle.standardError.write(Data(("\r" + line).utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 80) + "\r").utf8))
    }
}
