@testable import DossierCore
import Foundation
import XCTest

/// The readers against real-world corpora in ../shared/corpora (skipped when absent).
final class ReaderConformanceTests: XCTestCase {
    /// MimeKit's mbox test files with the offsets of every "From " marker MimeKit's parser reports:
    /// our separator rule must find exactly the same messages.
    func testMimeKitMboxOffsetsMatch() throws {
        let dir = try SharedCorpora.path("mimekit/mbox")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".unix-offsets.json") }.sorted()
        XCTAssertFalse(names.isEmpty)
        for name in names {
            let stem = String(name.dropLast(".unix-offsets.json".count))
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
            let entries = try XCTUnwrap(json as? [[String: Any]], name)
            let expected = entries.compactMap { ($0["mboxMarkerOffset"] as? NSNumber)?.int64Value }
            XCTAssertEqual(expected.count, entries.count, name)

            let path = dir + "/" + stem + ".mbox.txt"
            var reader = try MboxReader(path: path, gzip: false, mailbox: stem)
            var offsets: [Int64] = []
            var endsBeforeNext = true
            let file = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            while let message = try reader.next() {
                offsets.append(message.location.offset ?? -1)
                // Each stored message is the file's bytes after its separator line.
                if let offset = message.location.offset, let lineEnd = file[Int(offset)...].firstIndex(of: 10) {
                    let expected = Self.unquoted(file[(lineEnd + 1)...]).prefix(message.bytes.count)
                    if Array(expected) != message.bytes { endsBeforeNext = false }
                }
            }
            XCTAssertEqual(offsets, expected, stem)
            XCTAssertTrue(endsBeforeNext, "\(stem): stored bytes are not the file's bytes")

            // The planner recognises it as an mbox by content, whatever its name.
            let plan = try SourcePlanner.plan(paths: [path])
            XCTAssertEqual(plan.sources.map(\.kind), [.mbox], stem)
        }
    }

    /// `bytes` with the mboxrd rule undone, line by line (a slow reference for the test).
    static func unquoted(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        var atLineStart = true
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if atLineStart && bytes[index] == 0x3E {
                var k = index
                while k < bytes.endIndex && bytes[k] == 0x3E { k += 1 }
                if Array(bytes[k..<min(k + 5, bytes.endIndex)]) == Array("From ".utf8) { index += 1 }
            }
            let byte = bytes[index]
            result.append(byte)
            atLineStart = byte == 10
            index += 1
        }
        return result
    }

    /// MimeKit's other mbox files (no offsets published): read without error, one message per
    /// marker line our rule accepts.
    func testMimeKitMboxFilesWithoutOffsetsRead() throws {
        let dir = try SharedCorpora.path("mimekit/mbox")
        var reader = try MboxReader(path: dir + "/simple.mbox.txt", gzip: false, mailbox: "simple")
        var count = 0
        while try reader.next() != nil { count += 1 }
        XCTAssertEqual(count, 3)
        // "From Russia with love" after a blank line is body text, not a separator; the file
        // starts with a BOM.
        var unmunged = try MboxReader(path: dir + "/unmunged.mbox.txt", gzip: false, mailbox: "unmunged")
        var messages: [RawMessage] = []
        while let message = try unmunged.next() { messages.append(message) }
        XCTAssertEqual(messages.count, 2)
        XCTAssertEqual(messages.first?.location.offset, 3)
        XCTAssertTrue(String(decoding: messages.first?.bytes ?? [], as: UTF8.self).contains("From Russia with love\n"))
    }

    /// Every file of the notmuch corpus is planned and read without a crash, from the root and
    /// from each subfolder; and every regular file is read by some source.
    func testNotmuchCorpusPlansAndReads() throws {
        let root = try SharedCorpora.path("notmuch")
        var folders = [root]
        for entry in try FileManager.default.contentsOfDirectory(atPath: root).sorted() {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + entry, isDirectory: &isDirectory), isDirectory.boolValue {
                folders.append(root + "/" + entry)
            }
        }
        var total = 0
        var readPaths = Set<String>()
        for folder in folders {
            let plan = try SourcePlanner.plan(paths: [folder])
            XCTAssertFalse(plan.sources.isEmpty, folder)
            for source in plan.sources {
                do {
                    var reader = try source.openReader()
                    while let message = try reader.next() {
                        XCTAssertFalse(message.location.path.isEmpty)
                        readPaths.insert(message.location.path)
                        total += 1
                    }
                } catch let error as SourceError {
                    // A source may legitimately fail (not an mbox after all), never crash.
                    XCTAssertNotEqual(error, .notFound(path: source.path), "\(error)")
                }
            }
        }
        XCTAssertGreaterThan(total, 100)

        // Nothing is silently left behind: every regular file outside tmp/ and not a dot file was
        // read (mbox files count by their own path).
        var missed: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let parts = relative.split(separator: "/")
            if parts.contains(where: { $0.hasPrefix(".") || $0 == "tmp" }) { continue }
            let path = root + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            if !readPaths.contains(path) && !SourcePlanner.isMaildirMetadata(String(parts.last ?? "")) { missed.append(relative) }
        }
        XCTAssertEqual(missed, [])
    }
}
