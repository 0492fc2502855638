import Foundation
import XCTest

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("dossier-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes a file (creating parent directories) and returns its path.
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return url.path
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, Array(text.utf8))
    }

    func sub(_ relative: String) -> String { path + "/" + relative }
}

/// The repository's checkout (for samples/ and scripts/), and its Python scripts run from there.
enum Repository {
    /// Tests/DossierCoreTests/<file> -> the repository root.
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Runs `python3 ARGUMENTS` in the repository root (stdout and stderr together), or skips
    /// when python3 is absent.
    static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = arguments
        process.currentDirectoryURL = root
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

/// Paths of the shared real-world corpora, or a skip when they are absent (a user's clone).
enum SharedCorpora {
    static var root: String {
        // Tests/DossierCoreTests/<file> -> repository root -> ../shared/corpora
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/corpora").path
    }

    static func path(_ relative: String) throws -> String {
        let full = root + "/" + relative
        guard FileManager.default.fileExists(atPath: full) else {
            throw XCTSkip("shared corpus \(relative) is not present at \(root)")
        }
        return full
    }
}

/// A small well-formed message for tests.
func makeMessage(id: String?, from: String = "Alice Example <alice@client.example>", to: String = "bob@firm.example",
                 subject: String = "Hello", date: String = "Tue, 05 Mar 2024 10:00:00 +0000",
                 body: String = "Body text.\n", extraHeaders: String = "") -> String {
    var text = "From: \(from)\nTo: \(to)\nSubject: \(subject)\nDate: \(date)\n"
    if let id { text += "Message-ID: <\(id)>\n" }
    text += extraHeaders
    text += "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" + body
    return text
}

/// The built `dossier` binary, run the way a user runs it.
enum DossierCLI {
    /// What one run of the binary left behind.
    struct Outcome {
        var status: Int32
        var reason: Process.TerminationReason
        var stdout: [UInt8]
        var stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// The debug (else release) build of `dossier`, or a skip when neither is built.
    static var binary: String {
        get throws {
            let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            for configuration in ["debug", "release"] {
                let candidate = repo.appendingPathComponent(".build/\(configuration)/dossier").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
            throw XCTSkip("the dossier binary is not built (swift build)")
        }
    }

    /// Runs `dossier arguments...`. Output goes to files rather than pipes, so a large output can
    /// never fill a pipe and block the child; a run longer than `timeout` is killed and fails the test.
    /// `environment` is added to this process's (e.g. `DOSSIER_FAULT`, see `FaultPoint`).
    static func run(_ arguments: [String], timeout: TimeInterval = 60, environment: [String: String] = [:],
                    file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        let scratch = try TemporaryDirectory()
        let outPath = scratch.sub("stdout"), errPath = scratch.sub("stderr")
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            process.terminate()
            XCTFail("dossier \(arguments.map { String($0.prefix(60)) }) did not finish in \(Int(timeout)) s", file: file, line: line)
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, reason: process.terminationReason,
                       stdout: Array(FileManager.default.contents(atPath: outPath) ?? Data()),
                       stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }
}

/// A small deterministic random generator (SplitMix64), so a failing fuzz round can be replayed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
