/// Finds which of a fixed set of phrases occur in a text, in one pass over its bytes
/// (Aho–Corasick, compiled to a table of transitions). ASCII letters are folded to lower case
/// and every run of white space counts as one space, so a phrase wrapped over two lines or written
/// in capitals is still found; phrases are given in lower case with single spaces.
///
/// Why an automaton: the noise stage looks for a hundred-odd phrases in many languages in every
/// message of a migration. Searching them one by one would cost a hundred passes per body; this is
/// one, at a table lookup per byte.
struct PhraseMatcher: Sendable {
    /// `transitions[state * 256 + byte]`: the next state.
    private let transitions: [UInt16]
    /// For each state, the phrases that end there (its own and those of its suffix states).
    private let endings: [[Int]]
    /// Whether any phrase ends in a state: the scan's per-byte test, without touching `endings`.
    private let isTerminal: [Bool]
    let count: Int

    init(_ phrases: [String]) {
        count = phrases.count
        var goto: [[UInt8: Int]] = [[:]]
        var ends: [[Int]] = [[]]
        for (index, phrase) in phrases.enumerated() {
            var state = 0
            for byte in PhraseMatcher.normalized(phrase) {
                if let next = goto[state][byte] {
                    state = next
                } else {
                    goto.append([:])
                    ends.append([])
                    goto[state][byte] = goto.count - 1
                    state = goto.count - 1
                }
            }
            ends[state].append(index)
        }
        precondition(goto.count < Int(UInt16.max), "too many phrases for a 16-bit automaton")
        // Breadth first: each state's failure link is final before its children need it.
        var table = [UInt16](repeating: 0, count: goto.count * 256)
        var failure = [Int](repeating: 0, count: goto.count)
        var queue: [Int] = []
        for byte in 0..<256 {
            if let next = goto[0][UInt8(byte)] {
                table[byte] = UInt16(next)
                queue.append(next)
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            ends[state] += ends[failure[state]]
            for byte in 0..<256 {
                if let next = goto[state][UInt8(byte)] {
                    failure[next] = Int(table[failure[state] * 256 + byte])
                    table[state * 256 + byte] = UInt16(next)
                    queue.append(next)
                } else {
                    table[state * 256 + byte] = table[failure[state] * 256 + byte]
                }
            }
        }
        transitions = table
        endings = ends
        isTerminal = ends.map { !$0.isEmpty }
    }

    /// The phrase's bytes as the automaton sees text: ASCII lower case, single spaces.
    static func normalized(_ phrase: String) -> [UInt8] {
        var out: [UInt8] = []
        var lastWasSpace = false
        for byte in phrase.utf8 {
            let folded = fold(byte)
            if folded == 32 {
                if lastWasSpace { continue }
                lastWasSpace = true
            } else {
                lastWasSpace = false
            }
            out.append(folded)
        }
        return out
    }

    @inline(__always)
    static func fold(_ byte: UInt8) -> UInt8 {
        switch byte {
        case 65...90: return byte | 0x20
        case 9, 10, 11, 12, 13: return 32
        default: return byte
        }
    }

    /// A scan in progress: feed it bytes (or whole lines), then read `found`.
    struct Scan {
        private var state = 0
        private var lastWasSpace = false
        /// Indexes of the phrases seen so far.
        private(set) var found: [Int] = []

        init() {}

        mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, _ matcher: PhraseMatcher) {
            matcher.transitions.withUnsafeBufferPointer { table in
                for raw in bytes {
                    let byte = PhraseMatcher.fold(raw)
                    if byte == 32 {
                        if lastWasSpace { continue }
                        lastWasSpace = true
                    } else {
                        lastWasSpace = false
                    }
                    state = Int(table[state &* 256 &+ Int(byte)])
                    if matcher.isTerminal[state] {
                        for index in matcher.endings[state] where !found.contains(index) { found.append(index) }
                    }
                }
            }
        }

        /// Ends a line: a phrase may continue on the next one, as if a space stood between.
        mutating func lineBreak(_ matcher: PhraseMatcher) {
            var space: UInt8 = 32
            withUnsafeMutablePointer(to: &space) { feed(UnsafeBufferPointer(start: $0, count: 1), matcher) }
        }
    }

    /// The phrases found anywhere in `text`.
    func matches(in text: String) -> [Int] {
        var scan = Scan()
        var text = text
        text.withUTF8 { scan.feed($0, self) }
        return scan.found
    }
}
