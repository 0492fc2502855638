import ArgumentParser
import DossierCore
import Foundation

struct ThreadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thread",
        abstract: "Show the thread a message belongs to, as a tree, with where each message is filed.",
        discussion: """
            The thread is built from Message-ID, In-Reply-To and References (JWZ threading; subjects \
            are not used). Replies are indented under the message they answer, oldest first; a \
            message the thread refers to that is not in the archive is shown as \
            "(not in archive: <message-id>)". The message asked about is marked with *.
            """
    )

    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: "The message key, or a unique prefix of it.")
    var key: String

    @Flag(help: "Print the tree as JSON.")
    var json = false

    func run() throws {
        let thread = try guarded {
            try openArchiveForReading(archiveOptions).database.read { try ArchiveThread.thread(ofKey: key, $0) }
        }
        if json { return try printJSON(ThreadJSON(thread)) }
        var text = "Thread of \(grouped(thread.messageCount)) message\(thread.messageCount == 1 ? "" : "s")"
        if thread.missingCount > 0 { text += " (\(grouped(thread.missingCount)) not in archive)" }
        if thread.truncated { text += "; only the first \(grouped(thread.messageCount)) are shown" }
        text += "\n"
        let table = StreamingTable([("", 1), ("DATE", 16), ("FROM", 40), ("SUBJECT", 72), ("KEY", 16), ("FILING", 400)], sample: .max,
                                   output: { text += $0 })
        for root in thread.roots {
            for (depth, node) in root.flattened() {
                let indent = String(repeating: "  ", count: depth)
                guard let message = node.item else {
                    table.add(["", "-", "", indent + "(not in archive: <\(node.messageID ?? "?")>)", "-", ""])
                    continue
                }
                var filing = message.filingText
                if !message.records.isEmpty { filing += ": " + recordList(message.records) }
                table.add([message.key == thread.focus ? "*" : "", tableDate(message.date), message.from ?? "-",
                           indent + (message.subject ?? (message.status == "stored" ? "(no subject)" : "(not stored)")),
                           message.key, filing])
            }
        }
        table.finish()
        writeOut(text)
    }
}

/// `thread --json`: the tree, each node a message or a placeholder, replies under `children`.
private struct ThreadJSON: Encodable {
    struct Node: Encodable {
        var placeholder: Bool
        var messageID: String?
        var message: ThreadMessage?
        var children: [Node]

        init(_ node: ThreadNode<ThreadMessage>) {
            placeholder = node.isPlaceholder
            messageID = node.messageID
            message = node.item
            children = node.children.map(Node.init)
        }

        enum CodingKeys: String, CodingKey {
            case placeholder, message, children
            case messageID = "message_id"
        }
    }

    var focus: String
    var messages: Int
    var missing: Int
    var truncated: Bool
    var roots: [Node]

    init(_ thread: MessageThread) {
        focus = thread.focus
        messages = thread.messageCount
        missing = thread.missingCount
        truncated = thread.truncated
        roots = thread.roots.map(Node.init)
    }
}
