import Foundation
import XCTest

/// Keeps README's samples true: every ```console block of README.md is run against a fresh copy
/// of samples/ and its output compared with what the block shows.
///
/// A block is a session: `$ dossier ARGS` lines are run in order (in a fresh folder holding a
/// copy of samples/, so `./archive` starts empty), each followed by the output it must print
/// (stdout, then stderr). Compared after normalising: trailing blanks, the folder's own path,
/// and timings (`0.81 s`, `55 msg/s`, `0.1 MB/s`) become placeholders, so only what the samples
/// decide is compared. A line `...` stands for any number of lines (none included). Arguments
/// split like a shell's words (single and double quotes); no pipes or variables.
///
/// `DOSSIER_README=PATH` checks another file (a draft of README.md) instead.
final class ReadmeExamplesTests: XCTestCase {
    private var repo: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func testReadmeConsoleBlocksMatchWhatDossierPrints() throws {
        let path = ProcessInfo.processInfo.environment["DOSSIER_README"] ?? repo.appendingPathComponent("README.md").path
        let blocks = ConsoleBlock.parse(try String(contentsOfFile: path, encoding: .utf8))
        if blocks.isEmpty { throw XCTSkip("\(path) has no ```console blocks to check") }
        let binary = try DossierCLI.binary
        for block in blocks {
            let work = try TemporaryDirectory()
            try FileManager.default.copyItem(atPath: repo.appendingPathComponent("samples").path, toPath: work.sub("samples"))
            for command in block.commands {
                let output = try Self.run(binary, command.arguments, in: work.path)
                let actual = ConsoleBlock.normalise(output, root: work.path)
                let expected = ConsoleBlock.normalise(command.expected.joined(separator: "\n"), root: work.path)
                if !ConsoleBlock.matches(expected: expected, actual: actual) {
                    XCTFail("""
                        README.md line \(command.line): `$ \(command.text)` printed (normalised):
                        \(actual.joined(separator: "\n"))
                        --- the README shows (normalised):
                        \(expected.joined(separator: "\n"))
                        """)
                }
            }
        }
    }

    /// The comparison itself: wildcards, placeholders, and a mismatch is found.
    func testConsoleBlocksParseNormaliseAndMatch() {
        let text = """
            Intro.

            ```console
            $ dossier import 'samples/mail' --dry-run
            Run 1 (import): completed
            ...
              29 sources, 0.1 MB in 0.81 s (55 msg/s, 0.1 MB/s)
            $ dossier check "samples/a b"
            ```

            ```sh
            $ dossier not-a-console-block
            ```
            """
        let blocks = ConsoleBlock.parse(text)
        XCTAssertEqual(blocks.count, 1)
        XCTAssertEqual(blocks[0].commands.map(\.arguments), [["import", "samples/mail", "--dry-run"], ["check", "samples/a b"]])
        XCTAssertEqual(blocks[0].commands.map(\.line), [4, 8])
        let expected = ConsoleBlock.normalise(blocks[0].commands[0].expected.joined(separator: "\n"), root: "/w")
        XCTAssertEqual(expected.last, "  29 sources, 0.1 MB in N s (N msg/s, N MB/s)")
        let actual = ConsoleBlock.normalise("Run 1 (import): completed\n  read  45\n  stored  21   \n  29 sources, 0.1 MB in 12.5 s (3 msg/s, 0.0 MB/s)\n\n", root: "/w")
        XCTAssertTrue(ConsoleBlock.matches(expected: expected, actual: actual))
        XCTAssertFalse(ConsoleBlock.matches(expected: expected, actual: ["Run 2 (import): completed"] + actual.dropFirst()))
        XCTAssertFalse(ConsoleBlock.matches(expected: expected, actual: Array(actual.dropLast())))
        XCTAssertTrue(ConsoleBlock.matches(expected: ["a", "...", "b"], actual: ["a", "b"]))
        XCTAssertEqual(ConsoleBlock.normalise("/w/samples/mail/x: bad\n", root: "/w"), ["samples/mail/x: bad"])
    }

    /// Runs the binary in `directory`; stdout then stderr.
    private static func run(_ binary: String, _ arguments: [String], in directory: String) throws -> String {
        let scratch = try TemporaryDirectory()
        let out = scratch.sub("out"), err = scratch.sub("err")
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            process.terminate()
            XCTFail("dossier \(arguments) did not finish in 120 s")
        }
        process.waitUntilExit()
        return try String(contentsOfFile: out, encoding: .utf8) + String(contentsOfFile: err, encoding: .utf8)
    }
}

/// One ```console block of a Markdown file.
struct ConsoleBlock {
    struct Command {
        /// The 1-based line of the `$ ` line.
        var line: Int
        var text: String
        var arguments: [String]
        var expected: [String]
    }

    var commands: [Command]

    static func parse(_ markdown: String) -> [ConsoleBlock] {
        var blocks: [ConsoleBlock] = []
        var current: ConsoleBlock?
        for (index, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil {
                if trimmed == "```console" { current = ConsoleBlock(commands: []) }
                continue
            }
            if trimmed == "```" {
                if let block = current, !block.commands.isEmpty { blocks.append(block) }
                current = nil
            } else if line.hasPrefix("$ dossier ") {
                let text = String(line.dropFirst(2))
                current!.commands.append(Command(line: index + 1, text: text, arguments: Array(words(text).dropFirst()), expected: []))
            } else if !current!.commands.isEmpty {
                current!.commands[current!.commands.count - 1].expected.append(String(line))
            }
        }
        return blocks
    }

    /// Shell-like words: blanks separate, single quotes keep everything, double quotes keep all but `\"`.
    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped { word.append(character); escaped = false; continue }
            if let open = quote {
                if character == open { quote = nil } else if character == "\\" && open == "\"" { escaped = true } else { word.append(character) }
                continue
            }
            switch character {
            case "'", "\"": quote = character; inWord = true
            case "\\": escaped = true; inWord = true
            case " ", "\t":
                if inWord { words.append(word); word = ""; inWord = false }
            default: word.append(character); inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }

    /// Lines without trailing blanks or trailing empty lines; `root/` removed; timings as `N`.
    static func normalise(_ text: String, root: String) -> [String] {
        var text = text.replacingOccurrences(of: root + "/", with: "")
        for (pattern, replacement) in [(#"\b\d+(\.\d+)? s\b"#, "N s"), (#"\b[\d,]+ msg/s"#, "N msg/s"), (#"\b\d+(\.\d+)? MB/s"#, "N MB/s")] {
            text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
        }
        while lines.last == "" { lines.removeLast() }
        return lines
    }

    /// `expected` against `actual`, a `...` line matching any run of lines.
    static func matches(expected: [String], actual: [String]) -> Bool {
        func match(_ e: Int, _ a: Int) -> Bool {
            if e == expected.count { return a == actual.count }
            if expected[e].trimmingCharacters(in: .whitespaces) == "..." {
                for next in a...actual.count where match(e + 1, next) { return true }
                return false
            }
            return a < actual.count && expected[e] == actual[a] && match(e + 1, a + 1)
        }
        return match(0, 0)
    }
}
