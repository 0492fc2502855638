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
