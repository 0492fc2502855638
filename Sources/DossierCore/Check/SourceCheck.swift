import Foundation

/// What `dossier check PATH... [--crm DIR]` is asked to look at.
public struct SourceCheckOptions: Sendable {
    public var paths: [String]
    /// `--mailbox NAME`, as `import` takes it.
    public var mailbox: String?
    /// `--folders GLOB`, as `import` takes it.
    public var folderGlobs: [String] = []
    /// `--since/--until`; when unbounded, rules.yaml's window (from `crmDirectory`) applies.
    public var window: DateWindow = .unbounded
    /// `--crm DIR`: the CRM directory to check and to take the window and the staff from.
    public var crmDirectory: URL?

    public init(paths: [String]) { self.paths = paths }
}

/// The report of `dossier check`: what an import of these paths would meet, found by reading
/// every source and the CRM directory and writing nothing (no archive is opened or made).
///
/// Errors are what would make a run fail or leave mail out without the user having asked:
/// a path that does not exist or cannot be listed, a source that cannot be opened or read to
/// its end (an I/O error, a corrupt gzip stream), a CRM directory with errors. Warnings are
/// what a run would record but survive: inputs it would quarantine (not a message, too large),
/// messages the window would exclude, mailboxes no user of staff.csv lists, CRM warnings.
public struct SourceCheckReport: Sendable, Codable {
    /// Sources by kind: "mbox", "mbox (gzip)", "maildir folder", "message file", "message file (gzip)".
    public var formats: [String: Int] = [:]
    /// The path-to-mailbox decisions (`SourcePlanner`'s rules), with what each holds.
    public var mailboxes: [CheckedMailbox] = []
    /// Messages per mailbox and folder, in plan order.
    public var folders: [CheckedFolder] = []
    public var messages = 0
    public var bytes: Int64 = 0
    /// Messages that share a Message-ID with one read before them (an import stores them once).
    public var duplicateMessageIDs = 0
    /// Inputs an import would quarantine, and sources it could not read, with the reason.
    public var unreadable: [CheckedProblem] = []
    /// The oldest and newest Date header read (UTC, RFC 3339), and how many had none readable.
    public var oldest: String?
    public var newest: String?
    public var undated = 0
    public var window: CheckedWindow?
    public var crm: CheckedCRM?
    /// Every error and warning in words, in the order found.
    public var errors: [String] = []
    public var warnings: [String] = []
    public var seconds: Double = 0

    public var hasErrors: Bool { !errors.isEmpty }

    enum CodingKeys: String, CodingKey {
        case formats, mailboxes, folders, messages, bytes, oldest, newest, undated, window, crm, errors, warnings, seconds, unreadable
        case duplicateMessageIDs = "duplicate_message_ids"
    }
}

/// One mailbox an import would record mail under.
public struct CheckedMailbox: Sendable, Codable, Equatable {
    public var mailbox: String
    /// The paths mapped to it and by which rule (`MailboxMapping.Rule`'s raw values).
    public var paths: [MailboxMapping]
    public var messages: Int
    /// The staff.csv users who list this mailbox (ids), and the groups its mail is accessible to.
    public var users: [String]?
    public var groups: [String]?
}

public struct CheckedFolder: Sendable, Codable, Equatable {
    public var mailbox: String
    public var folder: String
    public var messages: Int
}

/// An input an import would not store as a message.
public struct CheckedProblem: Sendable, Codable, Equatable {
    public enum Severity: String, Sendable, Codable { case error, warning }
    public var path: String
    /// The mbox offset of the message, when it is one message of an mbox.
    public var offset: Int64?
    public var reason: String
    public var severity: Severity
}

/// The window's effect on what was read.
public struct CheckedWindow: Sendable, Codable, Equatable {
    /// "options" (--since/--until) or "rules.yaml".
    public var source: String
    public var since: String?
    /// The last instant inside the window's end (exclusive bound, RFC 3339), if any.
    public var before: String?
    public var inside: Int
    public var beforeWindow: Int
    public var afterWindow: Int

    public init(source: String, since: String?, before: String?, inside: Int, beforeWindow: Int, afterWindow: Int) {
        self.source = source
        self.since = since
        self.before = before
        self.inside = inside
        self.beforeWindow = beforeWindow
        self.afterWindow = afterWindow
    }

    enum CodingKeys: String, CodingKey {
        case source, since, before, inside
        case beforeWindow = "before_window"
        case afterWindow = "after_window"
    }
}

public struct CheckedCRM: Sendable, Codable, Equatable {
    public var path: String
    public var errors: [CRMDiagnostic]
    public var warnings: [CRMDiagnostic]
    /// Record counts when the directory loaded.
    public var accounts: Int?
    public var contacts: Int?
    public var staff: Int?
}

public enum SourceCheck {
    /// Reads everything `options` names and reports what an import would meet. Never throws for
    /// bad input: every problem is in the report (`hasErrors`); nothing is written anywhere.
    public static func run(_ options: SourceCheckOptions) -> SourceCheckReport {
        let started = Date()
        var report = SourceCheckReport()

        // The CRM directory first: its window and staff shape the rest of the report.
        var directory: CRMDirectory?
        if let url = options.crmDirectory {
            var crm = CheckedCRM(path: url.path, errors: [], warnings: [])
            if !FileManager.default.fileExists(atPath: url.path) {
                crm.errors = [CRMDiagnostic(file: url.lastPathComponent, line: 0, column: 0, message: "no such directory")]
            } else {
                do {
                    let (loaded, warnings) = try CRMDirectoryLoader.load(from: url)
                    directory = loaded
                    crm.warnings = warnings
                    crm.accounts = loaded.accounts.count
                    crm.contacts = loaded.contacts.count
                    crm.staff = loaded.staff.count
                } catch let error as CRMLoadError {
                    crm.errors = error.errors
                    crm.warnings = error.warnings
                } catch {
                    crm.errors = [CRMDiagnostic(file: url.lastPathComponent, line: 0, column: 0, message: "\(error)")]
                }
            }
            report.errors += crm.errors.map { "CRM: \($0)" }
            report.warnings += crm.warnings.map { "CRM: \($0)" }
            report.crm = crm
        }

        let window: DateWindow
        let windowSource: String
        if !options.window.isUnbounded {
            (window, windowSource) = (options.window, "options")
        } else if let directory, !directory.rules.window.dateWindow.isUnbounded {
            (window, windowSource) = (directory.rules.window.dateWindow, "rules.yaml")
        } else {
            (window, windowSource) = (.unbounded, "")
        }

        let plan: SourcePlan
        do {
            plan = try SourcePlanner.plan(paths: options.paths, mailbox: options.mailbox, folderGlobs: options.folderGlobs)
        } catch {
            let path = (error as? SourceError)?.path ?? options.paths.first ?? ""
            report.unreadable.append(CheckedProblem(path: path, reason: "\(error)", severity: .error))
            report.errors.append("\(error)")
            report.seconds = Date().timeIntervalSince(started)
            return report
        }

        var tally = Tally(window: window)
        for source in plan.sources {
            report.formats[formatName(source), default: 0] += 1
            tally.read(source, into: &report)
        }
        report.messages = tally.messages
        report.bytes = tally.bytes
        report.duplicateMessageIDs = tally.duplicates
        report.undated = tally.undated
        report.oldest = tally.oldest.map(rfc3339)
        report.newest = tally.newest.map(rfc3339)
        report.folders = tally.folderOrder.map { CheckedFolder(mailbox: $0.mailbox, folder: $0.folder, messages: tally.folderCounts[$0] ?? 0) }
        if !window.isUnbounded {
            report.window = CheckedWindow(source: windowSource, since: window.since.map(rfc3339),
                                          before: window.before.map(rfc3339), inside: tally.inside,
                                          beforeWindow: tally.beforeWindow, afterWindow: tally.afterWindow)
            let outside = tally.beforeWindow + tally.afterWindow
            if outside > 0 {
                report.warnings.append("\(outside) of \(tally.messages) messages are outside the window (\(windowSource)) and would be excluded")
            }
        }

        // Mailboxes: each name once, with every path that maps to it.
        let index = directory.map { CRMIndex($0) }
        var order: [String] = []
        var byName: [String: CheckedMailbox] = [:]
        for mapping in plan.mappings {
            if byName[mapping.mailbox] == nil {
                order.append(mapping.mailbox)
                byName[mapping.mailbox] = CheckedMailbox(mailbox: mapping.mailbox, paths: [], messages: 0)
            }
            byName[mapping.mailbox]!.paths.append(mapping)
        }
        for source in plan.sources where byName[source.mailbox] == nil {
            order.append(source.mailbox)
            byName[source.mailbox] = CheckedMailbox(mailbox: source.mailbox, paths: [], messages: 0)
        }
        for name in order {
            var mailbox = byName[name]!
            mailbox.messages = tally.mailboxCounts[name] ?? 0
            if let index {
                let users = index.staff(forMailbox: name)
                mailbox.users = users.map(\.id)
                mailbox.groups = index.accessibleGroups(forMailboxes: [name])
                if users.isEmpty && mailbox.messages > 0 && !index.directory.staff.isEmpty {
                    let groups = mailbox.groups ?? []
                    report.warnings.append("mailbox '\(name)' is listed by no user in staff.csv: its mail is accessible to "
                        + (groups.isEmpty ? "no group" : groups.joined(separator: ", ")) + " only")
                }
            }
            report.mailboxes.append(mailbox)
        }
        for problem in report.unreadable {
            let location = problem.offset.map { "\(problem.path) at offset \($0)" } ?? problem.path
            switch problem.severity {
            case .error: report.errors.append("\(location): \(problem.reason)")
            case .warning: report.warnings.append("\(location): would be quarantined: \(problem.reason)")
            }
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// RFC 3339 in UTC, whole seconds.
    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func formatName(_ source: MessageSource) -> String {
        switch source.kind {
        case .mbox: return source.gzip ? "mbox (gzip)" : "mbox"
        case .maildirFolder: return "maildir folder"
        case .messageFile: return source.gzip ? "message file (gzip)" : "message file"
        case .maildirMessage: return "maildir message file"
        }
    }

    /// The header block of `bytes` (up to the first blank line), for reading Date and Message-ID
    /// without parsing the body.
    static func headerBlock(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var i = 0
        var lineStart = true
        while i < bytes.count {
            let byte = bytes[i]
            if lineStart && (byte == 10 || (byte == 13 && i + 1 < bytes.count && bytes[i + 1] == 10)) {
                return bytes[..<i]
            }
            lineStart = byte == 10
            i += 1
        }
        return bytes[...]
    }
}

/// Counts gathered while reading.
private struct Tally {
    struct FolderKey: Hashable { var mailbox: String; var folder: String }
    let window: DateWindow
    var messages = 0
    var bytes: Int64 = 0
    var duplicates = 0
    var undated = 0
    var inside = 0
    var beforeWindow = 0
    var afterWindow = 0
    var oldest: Date?
    var newest: Date?
    var seenIDs: Set<String> = []
    var folderOrder: [FolderKey] = []
    var folderCounts: [FolderKey: Int] = [:]
    var mailboxCounts: [String: Int] = [:]

    init(window: DateWindow) { self.window = window }

    mutating func read(_ source: MessageSource, into report: inout SourceCheckReport) {
        var reader: any MessageReader
        do { reader = try source.openReader() } catch {
            report.unreadable.append(CheckedProblem(path: source.path, reason: Self.reason(error), severity: .error))
            return
        }
        while true {
            let raw: RawMessage?
            do { raw = try reader.next() } catch let error as SourceError where error.isPerMessage {
                var offset: Int64?
                if case .tooLarge(_, let at, _) = error { offset = at }
                report.unreadable.append(CheckedProblem(path: error.path, offset: offset, reason: Self.reason(error), severity: .warning))
                continue
            } catch {
                report.unreadable.append(CheckedProblem(path: source.path, reason: Self.reason(error), severity: .error))
                return
            }
            guard let raw else { return }
            count(raw, into: &report)
        }
    }

    mutating func count(_ raw: RawMessage, into report: inout SourceCheckReport) {
        if let reason = MessageParser.rejectionReason(raw.bytes) {
            report.unreadable.append(CheckedProblem(path: raw.location.path, offset: raw.location.offset, reason: reason, severity: .warning))
            return
        }
        messages += 1
        bytes += Int64(raw.bytes.count)
        let key = FolderKey(mailbox: raw.location.mailbox, folder: raw.location.folder)
        if folderCounts[key] == nil { folderOrder.append(key) }
        folderCounts[key, default: 0] += 1
        mailboxCounts[key.mailbox, default: 0] += 1

        let headers = MIMEParser.parse(Array(SourceCheck.headerBlock(raw.bytes)) + [10, 10]).headers
        if let id = headers.first("Message-ID").flatMap({ MessageIDParser.parseOne($0.rawValue) }) {
            if !seenIDs.insert(id).inserted { duplicates += 1 }
        }
        let date = headers.first("Date").flatMap { DateParser.parse($0.rawValue) }
        if let date {
            oldest = min(oldest ?? date, date)
            newest = max(newest ?? date, date)
        } else {
            undated += 1
        }
        if window.contains(date) {
            inside += 1
        } else if let since = window.since, let date, date < since {
            beforeWindow += 1
        } else {
            afterWindow += 1
        }
    }

    static func reason(_ error: Error) -> String {
        if let error = error as? SourceError {
            switch error {
            case .unreadable(_, let reason), .unreadableMessage(_, let reason): return reason
            case .corrupt(_, let offset, let reason): return "\(reason) (at byte \(offset))"
            case .tooLarge(_, _, let limit): return "a message larger than \(limit >> 20) MiB"
            case .notFound: return "no such file or directory"
            }
        }
        return "\(error)"
    }
}
