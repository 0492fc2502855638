import Foundation

/// One message as an export holds it: what the static site, the load file and the summaries
/// need, gathered once from the store by `ExportWriter`.
///
/// Everything here came from a message or the archive and is untrusted for display: renderers
/// escape every string. Paths are the export's own (relative to its root, built by
/// `ExportLayout` from dates and digests), never anything a message said.
public struct ExportedMessage: Sendable, Equatable {
    /// The load file's control number (`DOSSIER-00000001`), in the export's date order.
    public var controlNumber: String
    /// The archive's key (`dossier show KEY`).
    public var key: String
    /// Without angle brackets.
    public var messageID: String?
    public var date: Date?
    public var subject: String?
    public var from: [MailAddress]
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var bcc: [MailAddress]
    /// The mailboxes holding a copy (the load file's custodians), sorted.
    public var mailboxes: [String]
    /// The folders those copies were read from, sorted.
    public var folders: [String]
    /// inbound | outbound | internal, as filing decided.
    public var direction: String?
    /// Every rule that filed the message to a record of this export.
    public var matches: [FilingMatch]
    /// The strongest rule among `matches`.
    public var evidence: FilingRule? { matches.map(\.rule).min() }
    /// SHA-256 of the original bytes (those of `emlPath` when there is one).
    public var sha256: String
    public var size: Int
    /// `messages/<date>-<key>.eml`; nil in the metadata scope (no originals exported).
    public var emlPath: String?
    /// `pages/<date>-<key>.html`, the message's page in the static site.
    public var pagePath: String
    public var attachments: [ExportedAttachment]
    /// The message's thread within the export: index into `ExportOverview.threads`.
    public var thread: Int
    /// The message's own text (the text/plain parts, else the HTML's text), for display only;
    /// nil in the metadata scope.
    public var text: String?

    public init(controlNumber: String, key: String, messageID: String?, date: Date?, subject: String?,
                from: [MailAddress], to: [MailAddress], cc: [MailAddress], bcc: [MailAddress],
                mailboxes: [String], folders: [String], direction: String?, matches: [FilingMatch],
                sha256: String, size: Int, emlPath: String?, pagePath: String,
                attachments: [ExportedAttachment], thread: Int, text: String?) {
        self.controlNumber = controlNumber
        self.key = key
        self.messageID = messageID
        self.date = date
        self.subject = subject
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.mailboxes = mailboxes
        self.folders = folders
        self.direction = direction
        self.matches = matches
        self.sha256 = sha256
        self.size = size
        self.emlPath = emlPath
        self.pagePath = pagePath
        self.attachments = attachments
        self.thread = thread
        self.text = text
    }
}

/// One attachment of an exported message.
public struct ExportedAttachment: Sendable, Equatable {
    /// Control number of the attachment's own load-file row (`DOSSIER-00000001.0001`).
    public var controlNumber: String
    /// The sender's file name, sanitised (`AttachmentName`); nil when it had none.
    public var name: String?
    public var contentType: String
    public var size: Int
    public var sha256: String
    /// `attachments/<name>` in the export (each distinct attachment once); nil in the
    /// no-attachments and metadata scopes.
    public var path: String?

    public init(controlNumber: String, name: String?, contentType: String, size: Int, sha256: String, path: String?) {
        self.controlNumber = controlNumber
        self.name = name
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.path = path
    }
}

/// A message's line in the site's lists (index and thread views): little enough to keep every
/// message's in memory however large the export.
public struct ExportedMessageSummary: Sendable, Equatable {
    public var controlNumber: String
    public var key: String
    public var date: Date?
    /// The sender as "Name <address>", or the address.
    public var from: String?
    public var subject: String?
    public var direction: String?
    public var evidence: FilingRule?
    public var attachmentCount: Int
    public var pagePath: String

    public init(controlNumber: String, key: String, date: Date?, from: String?, subject: String?, direction: String?,
                evidence: FilingRule?, attachmentCount: Int, pagePath: String) {
        self.controlNumber = controlNumber
        self.key = key
        self.date = date
        self.from = from
        self.subject = subject
        self.direction = direction
        self.evidence = evidence
        self.attachmentCount = attachmentCount
        self.pagePath = pagePath
    }
}

/// What the export's front page shows: who it is for, what it holds and how it was made.
public struct ExportOverview: Sendable, Equatable {
    /// `account:ACME`.
    public var record: CRMRecordRef
    /// The record's name in the CRM directory in force.
    public var name: String?
    /// Records whose mail is included too (`--with-subsidiaries`), as `account:ID`.
    public var includedRecords: [CRMRecordRef]
    public var createdAt: Date
    /// The options the export was made with, as `--since 2024-01-01` words, for display.
    public var parameters: [String]
    public var messageCount: Int
    public var attachmentCount: Int
    /// Messages left out on purpose (`left-out.csv`), by reason.
    public var leftOut: [String: Int]
    public var first: Date?
    public var last: Date?
    /// Per calendar month (UTC, `2024-03`), oldest first, every month between the first and
    /// the last message (months without mail have zero counts).
    public var months: [MonthCount]
    /// Threads, each oldest message first; threads ordered by their first message.
    public var threads: [[ExportedMessageSummary]]
    /// How many threads the export has: `threads.count`, or, for a writer that streams the
    /// index thread by thread (and leaves `threads` empty), the number it will write.
    public var threadCount: Int
    /// What the writer put at the export's root besides the site (`mail.mbox`, `loadfile.csv`...,
    /// folders with a trailing slash: `messages/`): the index lists these and links to the files
    /// among them, and no others, so a scope without originals has no broken link and does not
    /// describe a `messages/` folder it lacks.
    public var files: [String]

    /// Everything an export's root can hold besides the site, in the order the index lists it.
    public static let standardFiles = ["mail.mbox", "loadfile.csv", "loadfile.dat", "manifest.json", "export.json", "summary.csv", "left-out.csv",
                                       "messages/", "attachments/"]

    public init(record: CRMRecordRef, name: String?, includedRecords: [CRMRecordRef], createdAt: Date, parameters: [String],
                messageCount: Int, attachmentCount: Int, leftOut: [String: Int], first: Date?, last: Date?,
                months: [MonthCount], threads: [[ExportedMessageSummary]], files: [String] = ExportOverview.standardFiles,
                threadCount: Int? = nil) {
        self.threadCount = threadCount ?? threads.count
        self.record = record
        self.name = name
        self.includedRecords = includedRecords
        self.createdAt = createdAt
        self.parameters = parameters
        self.messageCount = messageCount
        self.attachmentCount = attachmentCount
        self.leftOut = leftOut
        self.first = first
        self.last = last
        self.months = months
        self.threads = threads
        self.files = files
    }

    /// Messages of one calendar month, by direction.
    public struct MonthCount: Sendable, Equatable {
        /// `2024-03`.
        public var month: String
        public var inbound: Int
        public var outbound: Int
        /// Internal or unknown direction.
        public var other: Int

        public init(month: String, inbound: Int, outbound: Int, other: Int) {
            self.month = month
            self.inbound = inbound
            self.outbound = outbound
            self.other = other
        }
    }
}
