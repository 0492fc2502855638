@testable import DossierCore
import Foundation
import XCTest

/// JWZ threading on hand-made message sets: order independence, missing parents, cycles,
/// self-references, duplicate ids, date order.
final class ThreadBuilderTests: XCTestCase {
    struct M {
        var name: String
        var id: String?
        var refs: [String] = []
        var irt: [String] = []
        var date: Double?
    }

    private func m(_ name: String, id: String? = nil, refs: [String] = [], irt: [String] = [], at date: Double? = nil) -> M {
        M(name: name, id: id ?? name, refs: refs, irt: irt, date: date)
    }

    private func build(_ messages: [M]) -> [ThreadNode<M>] {
        ThreadBuilder.build(messages, messageID: \.id, references: \.refs, inReplyTo: \.irt, date: { $0.date.map(Date.init(timeIntervalSince1970:)) })
    }

    /// The forest as text: one line per node, indented by depth, placeholders as `?id`.
    private func render(_ roots: [ThreadNode<M>]) -> String {
        roots.flatMap { $0.flattened() }.map { depth, node in
            String(repeating: ".", count: depth) + (node.item?.name ?? "?" + (node.messageID ?? ""))
        }.joined(separator: " ")
    }

    func testRepliesNestUnderWhatTheyAnswerAndSiblingsAreInDateOrder() {
        let set = [
            m("a", at: 1),
            m("b", refs: ["a"], irt: ["a"], at: 3),
            m("c", refs: ["a"], irt: ["a"], at: 2),
            m("d", refs: ["a", "c"], irt: ["c"], at: 4),
            m("e", refs: ["a", "b"], at: 5), // no In-Reply-To: References' last id is the parent
        ]
        XCTAssertEqual(render(build(set)), "a .c ..d .b ..e")
    }

    func testTheTreeDoesNotDependOnInputOrder() {
        let set = [
            m("a", at: 1), m("b", refs: ["a"], at: 2), m("c", refs: ["a", "b"], at: 3), m("d", refs: ["x"], at: 4),
            m("e", refs: ["x"], at: 5), m("f", refs: ["a", "b"], irt: ["a"], at: 6), m("g", at: nil), m("h", refs: ["g"], at: 0),
        ]
        let expected = render(build(set))
        var rng = SplitMix64(seed: 42)
        for _ in 0..<50 {
            var shuffled = set
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
                shuffled.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            XCTAssertEqual(render(build(shuffled)), expected)
        }
        // f's In-Reply-To (a) beats its References' last id (b); undated g sorts by its reply h.
        XCTAssertEqual(expected, "g .h a .b ..c .f ?x .d .e")
    }

    func testMissingParentsBecomePlaceholdersAndChainsOfThemCollapse() {
        // b and c answer a, which is not there; d's ancestry x -> y -> z is all missing.
        let roots = build([m("b", refs: ["a"], at: 2), m("c", refs: ["a"], at: 3), m("d", refs: ["x", "y", "z"], at: 1)])
        XCTAssertEqual(render(roots), "?z .d ?a .b .c")
        XCTAssertTrue(roots[0].isPlaceholder)
        XCTAssertEqual(roots[0].sortDate, Date(timeIntervalSince1970: 1), "a placeholder sorts by its earliest reply")
        // A placeholder between two present messages stays: the message in between is missing.
        XCTAssertEqual(render(build([m("a", at: 1), m("c", refs: ["a", "b"], irt: ["b"], at: 3)])), "a .?b ..c")
    }

    func testCyclesAreBrokenWithoutLosingMessages() {
        // Two messages claiming each other as parent, and a three-cycle through References.
        let two = build([m("a", refs: ["b"], at: 1), m("b", refs: ["a"], at: 2)])
        XCTAssertEqual(two.reduce(0) { $0 + $1.messageCount }, 2)
        XCTAssertEqual(render(two), "b .a")
        let three = build([m("a", refs: ["c"], at: 1), m("b", refs: ["a"], at: 2), m("c", refs: ["b"], at: 3)])
        XCTAssertEqual(three.reduce(0) { $0 + $1.messageCount }, 3)
        XCTAssertEqual(render(three), "c .a ..b")
        // A References list that loops on itself.
        let looped = build([m("a", at: 1), m("d", refs: ["a", "b", "a", "c", "b"], at: 2)])
        XCTAssertEqual(looped.reduce(0) { $0 + $1.messageCount }, 2)
        XCTAssertEqual(render(looped), "a .?c ..d", "References deduplicated: a, b, c; the missing b and c collapse to c")
    }

    func testSelfReferencesAreIgnored() {
        XCTAssertEqual(render(build([m("a", refs: ["a"], irt: ["a"], at: 1)])), "a")
        XCTAssertEqual(render(build([m("a", at: 1), m("b", refs: ["a", "b"], irt: ["b"], at: 2)])), "a .b")
    }

    func testDuplicateIDsKeepBothMessages() {
        let roots = build([
            M(name: "first", id: "x", date: 1), M(name: "second", id: "x", date: 2),
            m("reply", refs: ["x"], at: 3),
        ])
        XCTAssertEqual(roots.reduce(0) { $0 + $1.messageCount }, 3)
        XCTAssertEqual(render(roots), "first .reply second", "replies attach to the first message with the id")
        // Messages without any id thread by their references alone.
        let anonymous = build([m("a", at: 1), M(name: "n1", id: nil, refs: ["a"], date: 2), M(name: "n2", id: nil, date: 3)])
        XCTAssertEqual(render(anonymous), "a .n1 n2")
    }

    func testAMessageWithoutReferencesIsNotGivenAParentByOthers() {
        // c's References say a -> b -> c, but b itself names no parent: b stays a root (JWZ).
        XCTAssertEqual(render(build([m("b", at: 1), m("c", refs: ["a", "b"], at: 2)])), "b .c")
        XCTAssertEqual(render(build([m("c", refs: ["a", "b"], at: 2), m("b", at: 1)])), "b .c")
    }

    func testInReplyToIsTheDirectParent() {
        XCTAssertEqual(ThreadBuilder.parentChain(references: ["a", "b"], inReplyTo: ["c"], excluding: nil), ["a", "b", "c"])
        XCTAssertEqual(ThreadBuilder.parentChain(references: ["a", "b", "c"], inReplyTo: ["b"], excluding: nil), ["a", "c", "b"])
        XCTAssertEqual(ThreadBuilder.parentChain(references: ["a", "a", "me"], inReplyTo: ["me"], excluding: "me"), ["a"])
        XCTAssertEqual(ThreadBuilder.parentChain(references: [], inReplyTo: [], excluding: "me"), [])
    }

    func testUndatedMessagesSortLast() {
        XCTAssertEqual(render(build([m("a", at: 1), m("n", refs: ["a"]), m("b", refs: ["a"], at: 5), m("c", refs: ["a"], at: 2)])),
                       "a .c .b .n")
    }

    func testAVeryLongReplyChainNeedsNoDeepRecursion() {
        var set = [m("m0", at: 0)]
        for i in 1..<20_000 { set.append(m("m\(i)", refs: ["m\(i - 1)"], at: Double(i))) }
        let roots = build(set.reversed())
        XCTAssertEqual(roots.count, 1)
        let flat = roots[0].flattened()
        XCTAssertEqual(flat.count, 20_000)
        XCTAssertEqual(flat.last?.depth, 19_999)
    }
}
