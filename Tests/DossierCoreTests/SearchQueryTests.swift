import DossierCore
import XCTest

final class SearchQueryTests: XCTestCase {
    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> SearchQuery? {
        do {
            return try SearchQuery.parse(text)
        } catch {
            XCTFail("\(text): \(error)", file: file, line: line)
            return nil
        }
    }

    private func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> SearchQueryError? {
        do {
            let query = try SearchQuery.parse(text)
            XCTFail("\(text) parsed as \(query)", file: file, line: line)
            return nil
        } catch let error as SearchQueryError {
            return error
        } catch {
            XCTFail("\(text): unexpected \(error)", file: file, line: line)
            return nil
        }
    }

    private func word(_ value: String, _ field: SearchText.Field? = nil, prefix: Bool = false) -> SearchQuery {
        .text(SearchText(field: field, value, isPrefix: prefix))
    }

    // MARK: Terms

    func testWordsPhrasesAndFields() {
        XCTAssertEqual(parse("invoice"), word("invoice"))
        XCTAssertEqual(parse("\"share purchase agreement\""), word("share purchase agreement"))
        XCTAssertEqual(parse("from:alice@acme.example"), word("alice@acme.example", .from))
        XCTAssertEqual(parse("FROM:alice"), word("alice", .from), "field names are case-insensitive")
        XCTAssertEqual(parse("subject:\"signed contract\""), word("signed contract", .subject))
        for field in SearchText.Field.allCases {
            XCTAssertEqual(parse("\(field.rawValue):x1"), word("x1", field))
        }
    }

    func testPrefixes() {
        XCTAssertEqual(parse("inv*"), word("inv", prefix: true))
        XCTAssertEqual(parse("\"share purch\"*"), word("share purch", prefix: true))
        XCTAssertEqual(parse("from:ali*"), word("ali", .from, prefix: true))
        XCTAssertEqual(parse("to:\"bob sm\"*"), word("bob sm", .to, prefix: true))
        XCTAssertEqual(parse("inv**"), word("inv", prefix: true))
    }

    func testUnknownFieldPrefixIsText() {
        XCTAssertEqual(parse("re:meeting"), word("re:meeting"))
        XCTAssertEqual(parse("10:30"), word("10:30"))
    }

    func testOperatorsOnlyInCapitals() {
        XCTAssertEqual(parse("a and b"), .and([word("a"), word("and"), word("b")]))
        XCTAssertEqual(parse("a or b"), .and([word("a"), word("or"), word("b")]))
        XCTAssertEqual(parse("not a"), .and([word("not"), word("a")]))
        XCTAssertEqual(parse("\"OR\""), word("OR"), "a quoted operator is a word")
    }

    func testFilters() {
        XCTAssertEqual(parse("mailbox:Alice"), .mailbox("Alice", prefix: false))
        XCTAssertEqual(parse("mailbox:\"Alice Smith\""), .mailbox("Alice Smith", prefix: false))
        XCTAssertEqual(parse("mailbox:al*"), .mailbox("al", prefix: true))
        XCTAssertEqual(parse("folder:Clients/*"), .folder("Clients/", prefix: true))
        XCTAssertEqual(parse("folder:Work/"), .folder("Work", prefix: false))
        XCTAssertEqual(parse("has:attachment"), .hasAttachment)
        XCTAssertEqual(parse("HAS:Attachment"), .hasAttachment)
    }

    // MARK: Dates

    func testDates() {
        let jan1 = Int64(1_704_067_200) // 2024-01-01T00:00:00Z
        let day = Int64(86_400)
        XCTAssertEqual(parse("date:2024-01-01"), .date(SearchDateRange(start: jan1, end: jan1 + day)))
        XCTAssertEqual(parse("date:2024-01"), .date(SearchDateRange(start: jan1, end: jan1 + 31 * day)))
        XCTAssertEqual(parse("date:2024"), .date(SearchDateRange(start: jan1, end: jan1 + 366 * day)), "2024 is a leap year")
        XCTAssertEqual(parse("date:2024-02"), .date(SearchDateRange(start: jan1 + 31 * day, end: jan1 + 60 * day)))
        XCTAssertEqual(parse("date:2024-01-01..2024-03-31"), .date(SearchDateRange(start: jan1, end: jan1 + 91 * day)))
        XCTAssertEqual(parse("date:2024-01-01.."), .date(SearchDateRange(start: jan1, end: nil)))
        XCTAssertEqual(parse("date:..2023"), .date(SearchDateRange(start: nil, end: jan1)))
        XCTAssertEqual(parse("date:2023-12..2024"), .date(SearchDateRange(start: jan1 - 31 * day, end: jan1 + 366 * day)))
        XCTAssertEqual(parse("date:1969-12-31"), .date(SearchDateRange(start: -day, end: 0)))
    }

    func testBadDates() {
        for bad in ["date:2024-13", "date:2023-02-29", "date:24-01-01", "date:2024-1-1", "date:..", "date:2024..2023",
                    "date:2024-01-01..2024-02-01..2024-03-01", "date:yesterday", "date:2024-01-0x"] {
            guard let error = error(bad) else { continue }
            guard case .badDate(let term, _) = error.kind else {
                XCTFail("\(bad): \(error)")
                continue
            }
            XCTAssertEqual(term, bad)
            XCTAssertEqual(error.position, 1)
        }
        XCTAssertEqual(error("x date:2024-00")?.position, 3)
        XCTAssertEqual(error("date:")?.kind, .missingValue(field: "date"))
    }

    // MARK: Boolean structure

    func testPrecedenceAndGrouping() {
        XCTAssertEqual(parse("a b"), .and([word("a"), word("b")]))
        XCTAssertEqual(parse("a AND b"), .and([word("a"), word("b")]))
        XCTAssertEqual(parse("a OR b"), .or([word("a"), word("b")]))
        XCTAssertEqual(parse("a OR b c"), .or([word("a"), .and([word("b"), word("c")])]), "AND binds tighter than OR")
        XCTAssertEqual(parse("a b OR c"), .or([.and([word("a"), word("b")]), word("c")]))
        XCTAssertEqual(parse("(a OR b) c"), .and([.or([word("a"), word("b")]), word("c")]))
        XCTAssertEqual(parse("a OR b OR c"), .or([word("a"), word("b"), word("c")]))
        XCTAssertEqual(parse("(a b) c"), .and([word("a"), word("b"), word("c")]), "same-operator groups flatten")
        XCTAssertEqual(parse("((a))"), word("a"))
        XCTAssertEqual(parse("x(a OR b)"), .and([word("x"), .or([word("a"), word("b")])]))
    }

    func testNegation() {
        XCTAssertEqual(parse("NOT a"), .not(word("a")))
        XCTAssertEqual(parse("-a"), .not(word("a")))
        XCTAssertEqual(parse("a -b"), .and([word("a"), .not(word("b"))]))
        XCTAssertEqual(parse("a NOT cc:legal"), .and([word("a"), .not(word("legal", .cc))]))
        XCTAssertEqual(parse("-(a OR b)"), .not(.or([word("a"), word("b")])))
        XCTAssertEqual(parse("NOT a OR b"), .or([.not(word("a")), word("b")]), "NOT binds tightest")
        XCTAssertEqual(parse("NOT NOT a"), .not(.not(word("a"))))
        XCTAssertEqual(parse("-\"draft copy\""), .not(word("draft copy")))
        XCTAssertEqual(parse("-mailbox:x"), .not(.mailbox("x", prefix: false)))
        XCTAssertEqual(parse("e-mail"), word("e-mail"), "a hyphen inside a word is not a negation")
        XCTAssertEqual(parse("a - b"), .and([word("a"), word("b")]), "a lone hyphen is punctuation")
    }

    func testReadmeExamples() {
        XCTAssertEqual(parse("from:alice@acme.example subject:contract"),
                       .and([word("alice@acme.example", .from), word("contract", .subject)]))
        XCTAssertEqual(parse("\"share purchase agreement\" -draft"),
                       .and([word("share purchase agreement"), .not(word("draft"))]))
        XCTAssertEqual(parse("mailbox:alice folder:Clients (offer OR quote) NOT cc:legal"),
                       .and([.mailbox("alice", prefix: false), .folder("Clients", prefix: false),
                             .or([word("offer"), word("quote")]), .not(word("legal", .cc))]))
        guard case .and(let parts)? = parse("attachment:pdf has:attachment date:2024-01-01..2024-03-31") else {
            return XCTFail("expected an AND")
        }
        XCTAssertEqual(parts.count, 3)
        XCTAssertEqual(parts.first, word("pdf", .attachment))
    }

    func testUnsearchableTermsAreIgnored() {
        XCTAssertEqual(parse("invoice ^"), word("invoice"))
        XCTAssertEqual(parse("invoice -- *"), word("invoice"))
        XCTAssertEqual(parse("a OR ^"), word("a"))
        XCTAssertEqual(parse("a NOT ^"), word("a"), "NOT of nothing is nothing, not everything")
        XCTAssertEqual(parse("from:@ a"), word("a"))
        XCTAssertEqual(error("^ -- *")?.kind, .emptyQuery)
        XCTAssertEqual(error("\"\"")?.kind, .emptyQuery)
    }

    // MARK: Errors

    func testErrorsCarryPositions() {
        XCTAssertEqual(error("(unbalanced"), SearchQueryError(.unbalancedParenthesis, position: 1))
        XCTAssertEqual(error("a (b OR c"), SearchQueryError(.unbalancedParenthesis, position: 3))
        XCTAssertEqual(error("a b)"), SearchQueryError(.unbalancedParenthesis, position: 4))
        XCTAssertEqual(error("a ()"), SearchQueryError(.emptyParentheses, position: 3))
        XCTAssertEqual(error("say \"hello"), SearchQueryError(.unterminatedQuote, position: 5))
        XCTAssertEqual(error("subject:\"x"), SearchQueryError(.unterminatedQuote, position: 9))
        XCTAssertEqual(error("a OR"), SearchQueryError(.missingOperand(operator: "OR"), position: 3))
        XCTAssertEqual(error("OR a"), SearchQueryError(.missingOperand(operator: "OR"), position: 1))
        XCTAssertEqual(error("a AND OR b"), SearchQueryError(.missingOperand(operator: "AND"), position: 3))
        XCTAssertEqual(error("a AND"), SearchQueryError(.missingOperand(operator: "AND"), position: 3))
        XCTAssertEqual(error("(a OR) b"), SearchQueryError(.missingOperand(operator: "OR"), position: 4))
        XCTAssertEqual(error("a NOT"), SearchQueryError(.missingOperand(operator: "NOT"), position: 3))
        XCTAssertEqual(error("a (NOT)"), SearchQueryError(.missingOperand(operator: "NOT"), position: 4))
        XCTAssertEqual(error("x from: y"), SearchQueryError(.missingValue(field: "from"), position: 3))
        XCTAssertEqual(error("mailbox:"), SearchQueryError(.missingValue(field: "mailbox"), position: 1))
        XCTAssertEqual(error("has:pdf"), SearchQueryError(.unknownHasValue("pdf"), position: 1))
        XCTAssertEqual(error(""), SearchQueryError(.emptyQuery, position: nil))
        XCTAssertEqual(error("   "), SearchQueryError(.emptyQuery, position: nil))
        // Positions count characters, not bytes.
        XCTAssertEqual(error("café (x"), SearchQueryError(.unbalancedParenthesis, position: 6))
    }

    func testErrorDescriptions() {
        XCTAssertEqual(error("(unbalanced")?.description, "unbalanced parenthesis at 1")
        XCTAssertEqual(error("")?.description, "nothing to search for")
        XCTAssertEqual(error("a NOT")?.description, "NOT needs a term after it at 3")
        XCTAssertEqual(error("a OR")?.description, "OR needs a term on each side at 3")
    }

    // MARK: Hostile input

    func testHostileInputIsRefusedCheaply() {
        let deep = String(repeating: "(", count: 100) + "a" + String(repeating: ")", count: 100)
        XCTAssertEqual(error(deep).map { if case .tooComplex = $0.kind { true } else { false } }, true)
        let nots = String(repeating: "NOT ", count: 100) + "a"
        XCTAssertEqual(error(nots).map { if case .tooComplex = $0.kind { true } else { false } }, true)
        let minuses = String(repeating: "-", count: 3_000) + "a"
        XCTAssertNotNil(try? SearchQuery.parse(minuses), "a run of hyphens is one word")
        let many = (0..<200).map { "w\($0)" }.joined(separator: " OR ")
        XCTAssertEqual(error(many).map { if case .tooComplex = $0.kind { true } else { false } }, true)
        let long = String(repeating: "a", count: 100_000)
        XCTAssertEqual(error(long)?.kind, .tooComplex("longer than 4096 characters"))
        // Within the caps, nesting is fine.
        let ok = String(repeating: "(", count: 20) + "a" + String(repeating: ")", count: 20)
        XCTAssertEqual(parse(ok), word("a"))
    }

    func testFTSAndSQLSyntaxIsJustText() {
        XCTAssertEqual(parse("NEAR(a b)"), .and([word("NEAR"), word("a"), word("b")]))
        XCTAssertEqual(parse("subject:x'; DROP TABLE message; --"),
                       .and([word("x';", .subject), word("DROP"), word("TABLE"), word("message;")]))
        XCTAssertEqual(parse("{subject}:x"), word("{subject}:x"))
        XCTAssertEqual(parse("col:x"), word("col:x"))
        XCTAssertEqual(parse("a^b"), word("a^b"))
    }
}
