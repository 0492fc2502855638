import XCTest
@testable import DossierCore

final class PackStoreTests: XCTestCase {
    func testMembersRoundTripAndAPackIsPlainConcatenatedGzip() throws {
        let dir = try TemporaryDirectory()
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        let writer = PackWriter(store: archive.packs)
        let originals = (0..<20).map { index in Array("Subject: \(index)\n\n".utf8) + Array(repeating: UInt8(65 + index), count: 100 * index) }
        var locations: [PackLocation] = []
        for original in originals {
            locations.append(try writer.append(Gzip.compress(original, name: ContentHash.sha256Hex(original))))
        }
        for (original, location) in zip(originals, locations) {
            let member = try archive.packs.readMember(at: location)
            XCTAssertEqual(try Gzip.decompress(member), original)
            // The gzip header names the member by the digest of its original (FNAME).
            XCTAssertEqual(member[3] & 0x08, 0x08)
            let name = member[10..<(10 + 64)]
            XCTAssertEqual(String(decoding: name, as: UTF8.self), ContentHash.sha256Hex(original))
        }
        XCTAssertEqual(Set(locations.map(\.pack)).count, 1)
        let packPath = archive.packs.directoryPath + "/" + locations[0].pack
        let whole = try Array(Data(contentsOf: URL(fileURLWithPath: packPath)))
        XCTAssertEqual(try Gzip.decompress(whole), originals.flatMap { $0 }, "zcat of a pack gives every original in order")
    }

    func testWriterStartsANewPackPastItsLimit() throws {
        let dir = try TemporaryDirectory()
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        let writer = PackWriter(store: archive.packs, limit: 1000)
        var packs: Set<String> = []
        for index in 0..<10 {
            let bytes = try Gzip.compress((0..<600).map { UInt8(truncatingIfNeeded: $0 * 7919 + index * 104729) }, level: 0)
            let location = try writer.append(bytes)
            XCTAssertEqual(location.offset, 0, "each member over half the limit opens a pack")
            packs.insert(location.pack)
        }
        XCTAssertEqual(packs.count, 10)
    }

    func testABufferedWriterWritesAtItsLimitAtFlushAndAcrossPacks() throws {
        let dir = try TemporaryDirectory()
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        let writer = PackWriter(store: archive.packs, limit: 5000, bufferLimit: 2500)
        let members = try (0..<12).map { index in
            try Gzip.compress((0..<700).map { UInt8(truncatingIfNeeded: $0 * 7919 + index * 104729) }, level: 0)
        }
        var locations: [PackLocation] = []
        for member in members { locations.append(try writer.append(member)) }
        let packs = Set(locations.map(\.pack))
        XCTAssertGreaterThan(packs.count, 1, "the pack limit still opens new packs")
        // Members of a finished pack and members past the buffer limit are in their files;
        // the last few are in memory until flush().
        XCTAssertTrue(writer.hasBufferedBytes)
        XCTAssertThrowsError(try archive.packs.readMember(at: locations.last!))
        XCTAssertEqual(try archive.packs.readMember(at: locations[0]), members[0])
        try writer.flush()
        XCTAssertFalse(writer.hasBufferedBytes)
        for (member, location) in zip(members, locations) {
            XCTAssertEqual(try archive.packs.readMember(at: location), member)
        }
        for pack in packs {
            let size = try FileManager.default.attributesOfItem(atPath: archive.packs.directoryPath + "/" + pack)[.size] as! Int
            XCTAssertEqual(size, locations.filter { $0.pack == pack }.map(\.length).reduce(0, +), "nothing written twice or lost")
        }
    }

    func testQueuesHandOverEverythingInOrderThroughSmallCapacities() throws {
        let queue = BlockingQueue<Int>(capacity: 3)
        let results = ReorderBuffer<Int>()
        let total = 20_000
        let producer = Thread {
            for value in 0..<total { queue.push(value) }
            results.finish(total: total)
            queue.close()
        }
        producer.start()
        let group = DispatchGroup()
        for worker in 0..<3 {
            group.enter()
            Thread {
                var held: [(Int, Int)] = []
                while true {
                    var next = queue.popWithoutWaiting()
                    if next == nil {
                        results.put(contentsOf: held)
                        held.removeAll()
                        next = queue.pop()
                    }
                    guard let value = next else { break }
                    if worker == 0 { results.put(value, value * 2) } else { held.append((value, value * 2)) }
                    if held.count >= 5 { results.put(contentsOf: held); held.removeAll() }
                }
                results.put(contentsOf: held)
                group.leave()
            }.start()
        }
        var taken: [Int] = []
        loop: while true {
            switch results.take(timeout: 10) {
            case .element(let value): taken.append(value)
            case .finished: break loop
            case .timedOut: XCTFail("stalled after \(taken.count)"); break loop
            }
        }
        group.wait()
        XCTAssertEqual(taken, (0..<total).map { $0 * 2 })
        XCTAssertNil(queue.pop())
    }

    func testDamagedLocationsNeverBecomePaths() throws {
        let dir = try TemporaryDirectory()
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        for name in ["../../etc/passwd", "../dossier.sqlite", ".pack", "a/b.pack", "x.pack\0"] {
            XCTAssertThrowsError(try archive.packs.readMember(at: PackLocation(pack: name, offset: 0, length: 10)), name)
        }
        XCTAssertThrowsError(try archive.packs.readMember(at: PackLocation(pack: "1-2-3.pack", offset: 0, length: 10)))
    }

    func testReimportAndInRunCopiesAppendNothingTwice() throws {
        let dir = try TemporaryDirectory()
        let message = "Message-ID: <same@x.example>\nSubject: s\n\nbody\n"
        let other = "Subject: no id\n\nsame bytes twice\n"
        for index in 0..<3 {
            try dir.write("in/a\(index).eml", Array(message.utf8))
            try dir.write("in/b\(index).eml", Array(other.utf8))
        }
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        let first = try Importer(archive: archive, options: ImportOptions(paths: [dir.sub("in")])).run()
        XCTAssertEqual(first.stored, 2)
        XCTAssertEqual(first.duplicate, 4)
        let packBytes = try packSize(archive)
        let second = try Importer(archive: archive, options: ImportOptions(paths: [dir.sub("in")])).run()
        XCTAssertEqual(second.duplicate, 6)
        XCTAssertEqual(try packSize(archive), packBytes, "a second import of the same mail writes no pack bytes")
        let blobs = try archive.database.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM blob") }
        XCTAssertEqual(blobs, 2)
        let members = try archive.database.read { try Int.fetchOne($0, sql: "SELECT sum(length) FROM blob") }
        XCTAssertEqual(members, packBytes, "every byte in the packs is an indexed original")
    }

    func testCopiesInLaterBatchesOfOneRunAppendNothingTwice() throws {
        // One message per commit: a later copy finds the original through the filter of known
        // originals (the claim is released at each commit), then in the index.
        let dir = try TemporaryDirectory()
        for index in 0..<5 { try dir.write("in/a\(index).eml", Array("Subject: same\n\nsame bytes\n".utf8)) }
        let archive = try Archive.open(at: dir.sub("archive"), create: true)
        var options = ImportOptions(paths: [dir.sub("in")])
        options.batchSize = 1
        options.workers = 1
        let ledger = try Importer(archive: archive, options: options).run()
        XCTAssertEqual(ledger.stored, 1)
        XCTAssertEqual(ledger.duplicate, 4)
        let members = try archive.database.read { try Int.fetchOne($0, sql: "SELECT sum(length) FROM blob") }
        XCTAssertEqual(try packSize(archive), members, "one member in the packs")
    }

    func testKeyFilterHasNoFalseNegativesAndFewFalsePositives() {
        var filter = KeyFilter(capacity: 10_000, keys: .sha256Hex)
        let inserted = (0..<10_000).map { ContentHash.sha256Hex(Array("in \($0)".utf8)) }
        for digest in inserted { filter.insert(digest) }
        XCTAssertTrue(inserted.allSatisfy(filter.mayContain))
        let others = (0..<10_000).map { ContentHash.sha256Hex(Array("out \($0)".utf8)) }
        let falsePositives = others.filter(filter.mayContain).count
        XCTAssertLessThan(falsePositives, 100, "about 0.2 % expected at capacity")
        XCTAssertTrue(filter.mayContain("not hex"), "what it cannot read, it cannot rule out")

        var ids = KeyFilter(capacity: 10_000, keys: .text)
        let referenced = (0..<10_000).map { "\($0).\($0 * 7)@mail.example" }
        for id in referenced { ids.insert(id) }
        XCTAssertTrue(referenced.allSatisfy(ids.mayContain))
        XCTAssertLessThan((0..<10_000).filter { ids.mayContain("other-\($0)@mail.example") }.count, 100)
    }

    private func packSize(_ archive: Archive) throws -> Int {
        let names = try FileManager.default.contentsOfDirectory(atPath: archive.packs.directoryPath)
        return try names.reduce(0) { total, name in
            total + (try FileManager.default.attributesOfItem(atPath: archive.packs.directoryPath + "/" + name)[.size] as! Int)
        }
    }
}
