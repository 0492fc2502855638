import Foundation

/// One node of a thread tree: a message, or a placeholder for a message that others answer but
/// that is not in the set being threaded ("not in archive").
public struct ThreadNode<Item> {
    /// The Message-ID the node stands for; nil for a message without one.
    public var messageID: String?
    /// The message; nil for a placeholder.
    public var item: Item?
    /// Replies, oldest first.
    public var children: [ThreadNode<Item>]
    /// The message's date, or for a placeholder (or an undated message) the earliest date below it:
    /// what siblings are sorted by.
    public var sortDate: Date?

    public var isPlaceholder: Bool { item == nil }

    /// The nodes of this subtree in display order (pre-order), with their depth below this node.
    public func flattened() -> [(depth: Int, node: ThreadNode<Item>)] {
        var result: [(Int, ThreadNode<Item>)] = []
        var stack: [(Int, ThreadNode<Item>)] = [(0, self)]
        while let (depth, node) = stack.popLast() {
            result.append((depth, node))
            for child in node.children.reversed() { stack.append((depth + 1, child)) }
        }
        return result
    }

    /// Messages (not placeholders) in this subtree.
    public var messageCount: Int { flattened().filter { !$0.node.isPlaceholder }.count }
}

extension ThreadNode: Sendable where Item: Sendable {}

/// JWZ threading (https://www.jwz.org/doc/threading.html), without its subject grouping step
/// (grouping by subject joins unrelated "Invoice" mail, which a client file must not do).
///
/// 1. One container per Message-ID. A message fills the container of its id; a second message
///    with an id already filled (a duplicate id) gets a container of its own.
/// 2. A message's ancestry (`parentChain`: References, then In-Reply-To as the direct parent)
///    links each id to the next as parent and child, unless that child already has a parent, is
///    a message present (its own headers decide its parent), or the link would make a cycle.
/// 3. The message's parent becomes the last id of its ancestry (overriding what other messages'
///    References guessed; none when it names none), unless that would make a cycle.
/// 4. Containers without a parent are the roots. Placeholders (ids referred to but not present)
///    are kept where they tell something: as the parent of a message, or of several branches;
///    a chain of placeholders over one placeholder collapses to the last, and a childless one
///    goes.
/// 5. Siblings are sorted by date (undated last), then Message-ID.
///
/// The result does not depend on the order of the input: messages are processed sorted by date,
/// Message-ID and then input position.
public enum ThreadBuilder {
    /// Threads `items` into trees, roots sorted like siblings.
    /// - Parameters:
    ///   - messageID: the message's own id (without angle brackets), or nil.
    ///   - references: the References ids, oldest first.
    ///   - inReplyTo: the In-Reply-To ids.
    ///   - date: the message's date, or nil.
    public static func build<Item>(_ items: [Item], messageID: (Item) -> String?, references: (Item) -> [String],
                                   inReplyTo: (Item) -> [String], date: (Item) -> Date?) -> [ThreadNode<Item>] {
        var graph = Graph()
        let ids = items.map { messageID($0).flatMap { $0.isEmpty ? nil : $0 } }
        let dates = items.map(date)
        let order = items.indices.sorted { a, b in
            if let da = dates[a], let db = dates[b], da != db { return da < db }
            if (dates[a] == nil) != (dates[b] == nil) { return dates[a] != nil }
            if ids[a] != ids[b] { return (ids[a] ?? "\u{10FFFF}") < (ids[b] ?? "\u{10FFFF}") }
            return a < b
        }
        for index in order {
            let own = graph.containerForMessage(id: ids[index], item: index)
            let chain = parentChain(references: references(items[index]), inReplyTo: inReplyTo(items[index]), excluding: ids[index])
            // Step 2: link the ancestry, never overriding an existing parent, never making a cycle.
            var previous: Int?
            for reference in chain {
                let container = graph.container(id: reference)
                // A container a message fills gets its parent from that message alone (step 3).
                if let parent = previous, graph.parent[container] == nil, graph.items[container] == nil,
                   !graph.wouldCycle(child: container, parent: parent) {
                    graph.link(child: container, to: parent)
                }
                previous = container
            }
            // Step 3: the last reference is the parent: the message itself knows best, also when
            // it names none (then what other messages' References guessed is dropped).
            if let parent = previous {
                if graph.parent[own] != parent && !graph.wouldCycle(child: own, parent: parent) {
                    graph.unlink(own)
                    graph.link(child: own, to: parent)
                }
            } else {
                graph.unlink(own)
            }
        }
        return graph.trees(items: items, dates: dates)
    }

    /// A message's ancestry, oldest first, the direct parent last: its References without its own
    /// id and without repeats, then its (first) In-Reply-To id, moved to the end when References
    /// has it elsewhere (In-Reply-To names the message answered; References may be reordered or
    /// truncated by clients).
    public static func parentChain(references: [String], inReplyTo: [String], excluding own: String?) -> [String] {
        var chain: [String] = []
        var seen = Set<String>()
        if let own { seen.insert(own) }
        for id in references where !id.isEmpty && seen.insert(id).inserted { chain.append(id) }
        if let parent = inReplyTo.first(where: { !$0.isEmpty && $0 != own }) {
            if let at = chain.firstIndex(of: parent) { chain.remove(at: at) }
            chain.append(parent)
        }
        return chain
    }

    /// Containers as parallel arrays: a container is an index.
    private struct Graph {
        var messageIDs: [String?] = []
        var items: [Int?] = []
        var parent: [Int?] = []
        var children: [[Int]] = []
        var byID: [String: Int] = [:]

        mutating func make(id: String?, item: Int?) -> Int {
            messageIDs.append(id)
            items.append(item)
            parent.append(nil)
            children.append([])
            return messageIDs.count - 1
        }

        /// The container of a referenced id, created empty when new.
        mutating func container(id: String) -> Int {
            if let found = byID[id] { return found }
            let made = make(id: id, item: nil)
            byID[id] = made
            return made
        }

        /// The container a message fills: its id's empty container, else a new one (no id, or a
        /// duplicate id whose container is taken, which then stays reachable only by its own links).
        mutating func containerForMessage(id: String?, item: Int) -> Int {
            if let id {
                if let found = byID[id] {
                    if items[found] == nil {
                        items[found] = item
                        return found
                    }
                    return make(id: id, item: item)
                }
                let made = make(id: id, item: item)
                byID[id] = made
                return made
            }
            return make(id: nil, item: item)
        }

        /// Linking `child` under `parent` would close a cycle: `parent` is `child` or below it.
        func wouldCycle(child: Int, parent candidate: Int) -> Bool {
            // Only a container with descendants can be above `candidate` (the common case: none).
            if child != candidate && children[child].isEmpty { return false }
            var current: Int? = candidate
            var steps = 0
            while let node = current {
                if node == child { return true }
                current = parent[node]
                steps += 1
                if steps > parent.count { return true } // cannot happen; never loop forever
            }
            return false
        }

        mutating func link(child: Int, to newParent: Int) {
            parent[child] = newParent
            children[newParent].append(child)
        }

        mutating func unlink(_ child: Int) {
            guard let old = parent[child] else { return }
            children[old].removeAll { $0 == child }
            parent[child] = nil
        }

        func trees<Item>(items list: [Item], dates: [Date?]) -> [ThreadNode<Item>] {
            // Iterative post-order: children are built before their parent.
            var built: [ThreadNode<Item>?] = Array(repeating: nil, count: messageIDs.count)
            var kept: [Bool] = Array(repeating: false, count: messageIDs.count)
            let roots = messageIDs.indices.filter { parent[$0] == nil }
            var stack: [(Int, Bool)] = roots.reversed().map { ($0, false) }
            while let (node, expanded) = stack.popLast() {
                if !expanded {
                    stack.append((node, true))
                    for child in children[node] { stack.append((child, false)) }
                    continue
                }
                var nodes: [ThreadNode<Item>] = []
                for child in children[node] where kept[child] {
                    let childNode = built[child]!
                    built[child] = nil
                    // A placeholder whose only child is a placeholder says nothing more than that child.
                    if childNode.isPlaceholder && childNode.children.count == 1 && childNode.children[0].isPlaceholder {
                        nodes.append(childNode.children[0])
                    } else {
                        nodes.append(childNode)
                    }
                }
                nodes.sort(by: Self.before)
                let item = items[node].map { list[$0] }
                if item == nil && nodes.isEmpty { continue } // a placeholder with nothing under it
                let ownDate = items[node].flatMap { dates[$0] }
                let earliest = nodes.compactMap(\.sortDate).min()
                built[node] = ThreadNode(messageID: messageIDs[node], item: item, children: nodes, sortDate: ownDate ?? earliest)
                kept[node] = true
            }
            var result: [ThreadNode<Item>] = []
            for root in roots where kept[root] {
                let node = built[root]!
                if node.isPlaceholder && node.children.count == 1 && node.children[0].isPlaceholder {
                    result.append(node.children[0])
                } else {
                    result.append(node)
                }
            }
            return result.sorted(by: Self.before)
        }

        static func before<Item>(_ a: ThreadNode<Item>, _ b: ThreadNode<Item>) -> Bool {
            switch (a.sortDate, b.sortDate) {
            case let (x?, y?) where x != y: return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return (a.messageID ?? "\u{10FFFF}") < (b.messageID ?? "\u{10FFFF}")
            }
        }
    }
}
