import Foundation

/// Rule 2 (thread) solved for many messages at once, in memory: every message filed by the rules
/// takes the records of the filed messages its In-Reply-To/References name, transitively, until
/// nothing changes (the least fixpoint). That is what an import converges to whatever order the
/// mail came in (`FilingStore.propagate` gets there one message at a time), so `rematch` (the
/// whole archive) and `assign`/`unassign` (one message and its replies) compute the same thing
/// an import of the same mail would, without writing intermediate decisions.
///
/// Solving it whole rather than re-filing replies one by one matters when records go away: a
/// reply of two parents that both lose a record, or two messages that name each other, would keep
/// the record alive from each other's stale rows.
struct ThreadConvergence {
    struct Node {
        var messageID: String?
        /// In-Reply-To first, then References.
        var references: [String]
        /// Filed or unassigned by the rules: no exclusion, noise or internal status ranks above
        /// filing (`Filer.precedingDecision`). Only such a message takes records from the messages
        /// it answers, and only a filed one gives its records to its replies.
        var byRules: Bool
        /// Rules 1, 3, 4 and 5.
        var direct: [FilingMatch]
        var manual: ManualFiling
    }

    var nodes: [Node]
    /// The records of filed messages that are not among `nodes`, by Message-ID: fixed inputs
    /// (the parents of the replies an assignment touches, which it cannot change).
    var outside: [String: [CRMRecordRef]] = [:]

    init(nodes: [Node], outside: [String: [CRMRecordRef]] = [:]) {
        self.nodes = nodes
        self.outside = outside
    }

    /// The thread matches of every node at the fixpoint (empty for nodes not filed by the rules),
    /// deduplicated and in `Filer.normalized` order.
    func solve(filer: Filer) -> [[FilingMatch]] {
        let count = nodes.count
        var position: [String: Int] = [:]
        position.reserveCapacity(count)
        for (index, node) in nodes.enumerated() {
            if let id = node.messageID, position[id] == nil { position[id] = index }
        }
        var references = [[String]](repeating: [], count: count)
        var records = [Set<CRMRecordRef>](repeating: [], count: count)
        var children = [[Int]](repeating: [], count: count)
        for (index, node) in nodes.enumerated() where node.byRules {
            var seen = Set<String>()
            references[index] = node.references.filter { seen.insert($0).inserted }
            let own = Filer.normalized(node.direct + filer.manualMatches(node.manual)).filter { !node.manual.excludes($0) }
            records[index] = Set(own.map(\.record))
            for reference in references[index] {
                if let parent = position[reference] {
                    if parent != index { children[parent].append(index) }
                } else if let inherited = outside[reference] {
                    for record in inherited where !node.manual.removed.contains(record) { records[index].insert(record) }
                }
            }
        }
        // Only messages filed by the rules have records, so only they pass them on.
        var work = (0..<count).filter { !records[$0].isEmpty }
        while let parent = work.popLast() {
            for child in children[parent] {
                let before = records[child].count
                let removed = nodes[child].manual.removed
                for record in records[parent] where !removed.contains(record) { records[child].insert(record) }
                if records[child].count != before { work.append(child) }
            }
        }
        return (0..<count).map { index in
            guard nodes[index].byRules else { return [] }
            var matches: [FilingMatch] = []
            for reference in references[index] {
                let inherited: [CRMRecordRef]
                if let parent = position[reference] {
                    guard parent != index else { continue }
                    inherited = Array(records[parent])
                } else {
                    inherited = outside[reference] ?? []
                }
                matches += inherited.map { FilingMatch(rule: .thread, record: $0, matched: reference) }
            }
            return Filer.normalized(matches)
        }
    }
}
