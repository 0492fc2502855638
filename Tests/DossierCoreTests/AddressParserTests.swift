import XCTest
@testable import DossierCore

final class AddressParserTests: XCTestCase {
    private func parse(_ s: String) -> [MailAddress] { AddressParser.parse(Array(s.utf8)) }
    private func pairs(_ s: String) -> [String] {
        parse(s).map { a in "\(a.name ?? "-")|\(a.address)\(a.group.map { "|" + $0 } ?? "")" }
    }

    func testSimpleForms() {
        XCTAssertEqual(pairs("a@example.com"), ["-|a@example.com"])
        XCTAssertEqual(pairs("John Doe <john@example.com>"), ["John Doe|john@example.com"])
        XCTAssertEqual(pairs("\"Doe, John\" <john@example.com>, b@x.org"), ["Doe, John|john@example.com", "-|b@x.org"])
        XCTAssertEqual(pairs("<john@example.com>"), ["-|john@example.com"])
        XCTAssertEqual(pairs(""), [])
        XCTAssertEqual(pairs("   "), [])
    }

    func testQuotedNamesWithEscapesAndFolding() {
        XCTAssertEqual(pairs("\"John \\\"Jr\\\" Doe\" <j@x>"), ["John \"Jr\" Doe|j@x"])
        XCTAssertEqual(pairs("John\r\n Doe <j@x>"), ["John Doe|j@x"])
        XCTAssertEqual(pairs("\"a b\"@example.com"), ["-|\"a b\"@example.com"])
        XCTAssertEqual(pairs("\"ab\"@example.com"), ["-|ab@example.com"])
    }

    func testGroups() {
        XCTAssertEqual(pairs("Team: a@x, B <b@y>;, c@z"), ["-|a@x|Team", "B|b@y|Team", "-|c@z"])
        XCTAssertEqual(pairs("undisclosed-recipients:;"), [])
        XCTAssertEqual(pairs("Undisclosed recipients:;"), [])
        XCTAssertEqual(pairs("Team: a@x"), ["-|a@x|Team"])
    }

    func testComments() {
        XCTAssertEqual(pairs("a@b.c (John Doe)"), ["John Doe|a@b.c"])
        XCTAssertEqual(pairs("John <a@b.c> (work)"), ["John|a@b.c"])
        XCTAssertEqual(pairs("a(nested (comment) here)@b.c"), ["nested (comment) here|a@b.c"])
        XCTAssertEqual(pairs("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>"), ["Pete|pete@silly.test"])
    }

    func testEncodedAndRawNames() {
        XCTAssertEqual(pairs("=?utf-8?Q?J=C3=B6rg?= <j@x>"), ["Jörg|j@x"])
        XCTAssertEqual(pairs("\"=?utf-8?Q?J=C3=B6rg_M=C3=BCller?=\" <j@x>"), ["Jörg Müller|j@x"])
        XCTAssertEqual(pairs("Jörg <j@x>"), ["Jörg|j@x"])
        // Specials inside broken encoded words do not split the name.
        XCTAssertEqual(pairs("=?utf-8?Q?Doe,_John?= <j@x>, b@y"), ["Doe, John|j@x", "-|b@y"])
        XCTAssertEqual(pairs("=?utf-8?Q?Jo=C3=ABl_(Work)?= <j@x>"), ["Joël (Work)|j@x"])
        XCTAssertEqual(pairs("=?utf-8?Q?unclosed <a@b>, c@d"), ["=?utf-8?Q?unclosed|a@b", "-|c@d"])
        XCTAssertEqual(AddressParser.parse([0x4A, 0xF6, 0x72, 0x67] + Array(" <j@x>".utf8)).first?.name, "Jörg")
        XCTAssertEqual(pairs("=?iso-8859-1?q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>"), ["André Pirard|PIRARD@vm1.ulg.ac.be"])
    }

    func testObsoleteRoute() {
        XCTAssertEqual(pairs("Jane <@relay1,@relay2:jane@example.com>"), ["Jane|jane@example.com"])
        XCTAssertEqual(pairs("<@relay:jane@example.com>"), ["-|jane@example.com"])
    }

    func testBrokenForms() {
        // Unquoted comma in the name.
        XCTAssertEqual(pairs("Doe, John <john@example.com>"), ["Doe, John|john@example.com"])
        XCTAssertEqual(pairs("Doe, John <j@x>, Roe, Jane <r@x>"), ["Doe, John|j@x", "Roe, Jane|r@x"])
        // Dots in an unquoted name.
        XCTAssertEqual(pairs("John Q. Public <jqp@x.com>"), ["John Q. Public|jqp@x.com"])
        // Missing brackets.
        XCTAssertEqual(pairs("John Smith john@x.com"), ["John Smith|john@x.com"])
        // Missing closing bracket, missing comma.
        XCTAssertEqual(pairs("John <john@x.com"), ["John|john@x.com"])
        XCTAssertEqual(pairs("a@x b@y"), ["-|a@x", "-|b@y"])
        // Quotes left around a name; trailing junk; empty brackets.
        XCTAssertEqual(pairs("'John' <j@x>"), ["John|j@x"])
        XCTAssertEqual(pairs("a@x, ,;>"), ["-|a@x"])
        XCTAssertEqual(pairs("Nobody <>"), [])
        // A local address without a domain.
        XCTAssertEqual(pairs("root"), ["-|root"])
        XCTAssertEqual(pairs("a@x,\r\n\tb@y"), ["-|a@x", "-|b@y"])
        XCTAssertEqual(pairs("<a@x>, <b@y>"), ["-|a@x", "-|b@y"])
        XCTAssertEqual(pairs("user@[192.168.0.1]"), ["-|user@[192.168.0.1]"])
    }

    func testFormsOtherReadersAccept() {
        XCTAssertEqual(pairs("jeff (Jeffrey Stedfast)"), ["Jeffrey Stedfast|jeff"])
        XCTAssertEqual(pairs("Warren Worthington, Jr. <warren@worthington.com>"), ["Warren Worthington, Jr.|warren@worthington.com"])
        XCTAssertEqual(pairs("jeff>"), ["-|jeff"])
        XCTAssertEqual(pairs("Jeffrey Stedfast < jeff@xamarin.com >"), ["Jeffrey Stedfast|jeff@xamarin.com"])
        XCTAssertEqual(pairs("Skye <@"), [])
        XCTAssertEqual(pairs("Skye <@hackers.com,@shield.gov"), [])
        XCTAssertEqual(pairs("Skye <@hackers.com,@shield.gov>, b@x"), ["-|b@x"])
        XCTAssertEqual(pairs("@"), [])
    }

    func testDomainHelpers() {
        let a = parse("X <Someone@Example.COM>")[0]
        XCTAssertEqual(a.domain, "example.com")
        XCTAssertEqual(a.normalized, "someone@example.com")
    }

    func testHostileInputIsLinearAndSafe() {
        let start = Date()
        let deep = [UInt8](repeating: UInt8(ascii: "("), count: 1 << 20)
        XCTAssertEqual(AddressParser.parse(deep).count, 0)
        var many: [UInt8] = []
        for k in 0..<50_000 { many += Array("u\(k)@x.org, ".utf8) }
        XCTAssertEqual(AddressParser.parse(many).count, AddressParser.maxAddresses)
        let commas = [UInt8](repeating: UInt8(ascii: ","), count: 1 << 20)
        XCTAssertEqual(AddressParser.parse(commas).count, 0)
        var names: [UInt8] = []
        for _ in 0..<100_000 { names += Array("word ".utf8) }
        _ = AddressParser.parse(names + Array("<a@b>".utf8))
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testFuzzNeverCrashes() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["<", ">", "@", ",", ";", ":", "(", ")", "\"", "\\", " ", "a", "b.c", "=?utf-8?q?x?=", "[", "]", "\u{E9}", "\r\n "]
        for _ in 0..<3000 {
            var s = ""
            for _ in 0..<Int.random(in: 0..<25, using: &rng) { s += pieces.randomElement(using: &rng)! }
            _ = parse(s)
        }
    }
}
