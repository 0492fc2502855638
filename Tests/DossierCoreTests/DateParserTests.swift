import XCTest
@testable import DossierCore

final class DateParserTests: XCTestCase {
    /// The parsed date as seconds since 1970, nil when unreadable.
    private func secs(_ s: String) -> Int64? { DateParser.epochSeconds(Array(s.utf8)) }
    /// 2024-03-05T10:00:00Z
    private let ref: Int64 = 1_709_632_800

    func testEpochArithmetic() {
        XCTAssertEqual(DateParser.epochSeconds(year: 1970, month: 1, day: 1), 0)
        XCTAssertEqual(DateParser.epochSeconds(year: 2024, month: 3, day: 5, hour: 10), ref)
        XCTAssertEqual(DateParser.epochSeconds(year: 2000, month: 2, day: 29), 951_782_400)
        XCTAssertEqual(DateParser.epochSeconds(year: 1969, month: 12, day: 31, hour: 23, minute: 59, second: 59), -1)
    }

    func testRFC5322() {
        XCTAssertEqual(secs("Tue, 05 Mar 2024 10:00:00 +0000"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 11:00:00 +0100"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 05:00:00 -0500"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 15:30:00 +0530"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 10:00:00 -0000"), ref)
        XCTAssertEqual(secs("Tue,\r\n 5 Mar 2024\r\n 10:00:00 +0000"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 11:00:00 +0100 (CET)"), ref)
        XCTAssertEqual(DateParser.parse(Array("Tue, 05 Mar 2024 10:00:00 +0000".utf8))?.timeIntervalSince1970, 1_709_632_800)
    }

    func testCommonBrokenForms() {
        XCTAssertEqual(secs("5 Mar 2024 10:00:00 +0000"), ref)                 // no day of week
        XCTAssertEqual(secs("Tue, 5 Mar 24 10:00:00 +0000"), ref)              // two-digit year
        XCTAssertEqual(secs("Tue, 5 Mar 124 10:00:00 +0000"), ref)             // three-digit year
        XCTAssertEqual(secs("Sat, 1 Jan 99 00:00:00 GMT"), 915_148_800)        // 99 -> 1999
        XCTAssertEqual(secs("Tue, 5 Mar 2024 10:00 +0000"), ref)               // no seconds
        XCTAssertEqual(secs("Tue, 5 Mar 2024 05:00:00 EST"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 06:00:00 EDT"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 04:00:00 CST"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 02:00:00 PST"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 03:00:00 pdt"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 10:00:00 UT"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 10:00:00 GMT"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 10:00:00 Z"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 10:00:00 A"), ref)                // military: -0000
        XCTAssertEqual(secs("Tue, 5 Mar 2024 10:00:00"), ref)                  // no zone: UTC
        XCTAssertEqual(secs("Tue Mar  5 10:00:00 2024"), ref)                  // asctime
        XCTAssertEqual(secs("2024-03-05T10:00:00Z"), ref)                      // ISO 8601
        XCTAssertEqual(secs("2024-03-05T11:00:00+01:00"), ref)
        XCTAssertEqual(secs("2024-03-05T05:00:00.250-05:00"), ref)
        XCTAssertEqual(secs("2024-03-05 10:00:00"), ref)
        XCTAssertEqual(secs("5-Mar-2024 10:00:00 +0000"), ref)                 // dashes
        XCTAssertEqual(secs("Tue, 5.Mar.2024 10:00:00 +0000"), ref)            // dots
        XCTAssertEqual(secs("05.03.2024 10:00:00"), ref)                       // numeric, day first
        XCTAssertEqual(secs("2024/03/05 10:00:00"), ref)
        XCTAssertEqual(secs("tue, 5 mar 2024 10:00:00 +0000"), ref)            // lowercase
        XCTAssertEqual(secs("Tuesday, 5 March 2024 10:00:00 +0000"), ref)      // full names
        XCTAssertEqual(secs("Tue,, 5 Mar, 2024, 10:00:00 +0000"), ref)          // extra commas
        XCTAssertEqual(secs("Tue, 5 Mar 2024 10:00:00 AM +0000"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 10:00:00 PM +0000"), ref + 12 * 3600)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 10:00:00+0000"), ref)
        XCTAssertEqual(secs("Tue, 5 Mar 2024 10:00:00 GMT+0100"), ref - 3600)
        XCTAssertEqual(secs("Tue, 5 Sept 2024 10:00:00 +0000"), DateParser.epochSeconds(year: 2024, month: 9, day: 5, hour: 10))
        XCTAssertEqual(secs("Tue, 5 Mar 2024"), ref - 10 * 3600)                  // date only
    }

    func testOutOfRangeAndGarbageAreNil() {
        XCTAssertNil(secs(""))
        XCTAssertNil(secs("not a date"))
        XCTAssertNil(secs("Tue, 5 Foo 2024 10:00:00 +0000"))
        XCTAssertNil(secs("2024-13-05T10:00:00Z"))
        XCTAssertNil(secs("Tue, 32 Mar 2024 10:00:00 +0000"))
        XCTAssertNil(secs("Tue, 30 Feb 2024 10:00:00 +0000"))
        XCTAssertNil(secs("Tue, 5 Mar 2024 25:00:00 +0000"))
        XCTAssertNil(secs("Tue, 5 Mar 2024 10:61:00 +0000"))
        XCTAssertNil(secs("Tue, 5 Mar 0000 10:00:00 +0000"))
        XCTAssertNil(secs("Tue, 5 Mar 10:00:00"))
        XCTAssertNotNil(secs("Thu, 29 Feb 2024 10:00:00 +0000"))
        XCTAssertNil(secs("Fri, 29 Feb 2023 10:00:00 +0000"))
    }

    func testFuzzNeverCrashesNorReturnsNow() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["Tue", ",", " ", "5", "05", "Mar", "2024", "24", "10:00", ":00", "+0100", "-", "(", ")", "Z", "T", ".", "/", "99999999999", "PM"]
        let now = Int64(Date().timeIntervalSince1970)
        for _ in 0..<3000 {
            var s = ""
            for _ in 0..<Int.random(in: 0..<14, using: &rng) { s += pieces.randomElement(using: &rng)! }
            if let v = secs(s) { XCTAssertNotEqual(v, now) }
            let n = Int.random(in: 0..<40, using: &rng)
            _ = DateParser.parse((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
        _ = DateParser.parse([UInt8](repeating: UInt8(ascii: "("), count: 1 << 20))
        _ = DateParser.parse([UInt8](repeating: UInt8(ascii: "9"), count: 1 << 20))
    }
}
