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

    func testFormsOtherReadersAccept() {
        let feb28 = DateParser.epochSeconds(year: 2025, month: 2, day: 28)
        XCTAssertEqual(secs("Fri, 28 Feb 2025 09:00:00 0200"), feb28 + 7 * 3600)       // zone without sign
        XCTAssertEqual(secs("Fri, 28 Feb 2025 09:00:00 400"), feb28 + 5 * 3600)
        XCTAssertEqual(secs("Feb 28 2025 09:00:00 0100"), feb28 + 8 * 3600)
        XCTAssertEqual(secs("Fri, 28 Feb 2025 09:00:00 -2200"), feb28 + 9 * 3600)     // impossible zone: UTC
        XCTAssertEqual(secs("Fri, 28 Feb 2025 09:00:00 04+00"), feb28 + 9 * 3600)
        XCTAssertEqual(secs("Fri, 28 Feb 2025 09:00:00 -1234567890123"), feb28 + 9 * 3600)
        XCTAssertEqual(secs("Fri, 28 Feb 2025 23:59:60 +0000"), feb28 + 86_399)         // leap second
        XCTAssertNil(secs("Fri, 28 Feb 2025 23:59:61 +0000"))
        XCTAssertEqual(secs("Fri, 28 Feb 2025 12:15:00 AM -0500"), feb28 + 5 * 3600 + 15 * 60)
        XCTAssertEqual(secs("Sat Mar 24 21:23:03 EDT 2007"), DateParser.epochSeconds(year: 2007, month: 3, day: 25, hour: 1, minute: 23, second: 3))
        XCTAssertEqual(secs("17-6-2008 17:10:08"), DateParser.epochSeconds(year: 2008, month: 6, day: 17, hour: 17, minute: 10, second: 8))
        XCTAssertEqual(secs("Tue, 9 Jun 92 03:45:24 JST"), DateParser.epochSeconds(year: 1992, month: 6, day: 8, hour: 18, minute: 45, second: 24))
        XCTAssertEqual(secs("Fri, 8 May 2015 12"), DateParser.epochSeconds(year: 2015, month: 5, day: 8))
        XCTAssertEqual(secs("8 Dec 1991 09:11 (Sunday)"), DateParser.epochSeconds(year: 1991, month: 12, day: 8, hour: 9, minute: 11))
        XCTAssertEqual(secs("Thu, 1 Oct 2015 14:40:57 +0200 (Mitteleurop\u{E4}ische Sommerzeit)"),
                       DateParser.epochSeconds(year: 2015, month: 10, day: 1, hour: 12, minute: 40, second: 57))
        XCTAssertEqual(secs("Tuesday, March 5, 2024 10:00 AM"), ref)
        XCTAssertEqual(secs("5 March 2024 at 10:00"), ref)
        XCTAssertNil(secs("Sat, 9 May flies bit my arms"))
        XCTAssertNil(secs("Sat, 8 dogs did while 8 cats hid"))
        XCTAssertNil(secs("Sun is so bright"))
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
