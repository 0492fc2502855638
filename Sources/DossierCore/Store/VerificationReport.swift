import Foundation

/// One problem `ArchiveVerifier` found: what kind, which object or row, and why.
public struct VerificationFinding: Sendable, Codable, Hashable {
    /// The kinds of problem. Two families: damage (something referenced is missing, corrupt or
    /// inconsistent: reported, never "repaired") and unreferenced objects (nothing points at them:
    /// `verify --repair` removes them).
    public enum Kind: String, Sendable, Codable, CaseIterable, Comparable {
        // Damage.
        /// A stored original whose gzip member does not inflate, does not hash to its name, or
        /// whose gzip header names another digest.
        case corruptOriginal = "corrupt-original"
        /// A blob whose byte range runs past the end of its pack file (a truncated pack).
        case originalOutsidePack = "original-outside-pack"
        /// Two blobs whose byte ranges overlap in one pack.
        case overlappingOriginals = "overlapping-originals"
        /// A pack row some blob points at, whose file is gone.
        case missingPackFile = "missing-pack-file"
        /// A blob whose pack id names no pack row.
        case blobWithoutPack = "blob-without-pack"
        /// A stored message whose original is neither in a pack nor a legacy file.
        case missingOriginal = "missing-original"
        case corruptAttachment = "corrupt-attachment"
        case missingAttachment = "missing-attachment"
        case corruptQuarantine = "corrupt-quarantine"
        case missingQuarantine = "missing-quarantine"
        /// A legacy `objects/messages/` original that does not inflate or hash to its name.
        case corruptLegacyOriginal = "corrupt-legacy-original"
        /// `PRAGMA integrity_check` reported a problem.
        case databaseIntegrity = "database-integrity"
        /// `PRAGMA foreign_key_check` found a row pointing at a missing row.
        case foreignKey = "foreign-key"
        /// FTS5's own `integrity-check` failed: the search index is damaged.
        case searchIndexCorrupt = "search-index-corrupt"
        /// A searchable stored message with no row in the search index.
        case messageNotIndexed = "message-not-indexed"
        /// A search index row whose message does not exist or has no content.
        case indexRowWithoutMessage = "index-row-without-message"
        /// A file in one of the archive's directories under a name Dossier never writes (left alone).
        case unexpectedFile = "unexpected-file"

        // Unreferenced objects (what --repair removes).
        case unreferencedAttachment = "unreferenced-attachment"
        case unreferencedQuarantine = "unreferenced-quarantine"
        case unreferencedLegacyOriginal = "unreferenced-legacy-original"
        /// A pack file no pack row names, or a pack row (with or without its file) no blob points at.
        case unreferencedPack = "unreferenced-pack"
        /// Byte ranges of a pack that no blob points at (gaps, a killed import's tail).
        case unreferencedPackBytes = "unreferenced-pack-bytes"
        /// A blob row no message or copy has the digest of.
        case unreferencedBlob = "unreferenced-blob"
        /// A file in `tmp/` (staging; nothing refers to it once its writer is gone).
        case strayTemporaryFile = "stray-temporary-file"

        /// Whether `verify --repair` removes objects of this kind.
        public var isUnreferenced: Bool {
            switch self {
            case .unreferencedAttachment, .unreferencedQuarantine, .unreferencedLegacyOriginal, .unreferencedPack,
                 .unreferencedPackBytes, .unreferencedBlob, .strayTemporaryFile:
                return true
            default:
                return false
            }
        }

        public static func < (a: Kind, b: Kind) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// A byte range of a pack.
    public struct ByteRange: Sendable, Codable, Hashable {
        public var offset: Int64
        public var length: Int64

        public init(offset: Int64, length: Int64) {
            self.offset = offset
            self.length = length
        }

        public var end: Int64 { offset + length }
    }

    public var kind: Kind
    /// What the finding is about: a path relative to the archive root (`objects/packs/x.pack`,
    /// `objects/attachments/ab/<sha256>`), or a row (`blob <sha256>`, `message <key>`, `pack 3`,
    /// `message_fts 17`), or `dossier.sqlite` for the database as a whole.
    public var object: String
    public var reason: String
    /// Bytes removing it would free (unreferenced objects), when known.
    public var bytes: Int64?
    /// For unreferenced pack bytes: the ranges no blob points at.
    public var ranges: [ByteRange]?

    public init(kind: Kind, object: String, reason: String, bytes: Int64? = nil, ranges: [ByteRange]? = nil) {
        self.kind = kind
        self.object = object
        self.reason = reason
        self.bytes = bytes
        self.ranges = ranges
    }
}

/// What `ArchiveVerifier.verify()` checked and found.
public struct VerificationReport: Sendable, Codable {
    /// How much of each kind was checked.
    public struct Checked: Sendable, Codable, Equatable {
        /// Originals (blobs) inflated and hashed, and their stored (compressed) bytes.
        public var originals = 0
        public var originalBytes: Int64 = 0
        /// Pack files found and their total size.
        public var packs = 0
        public var packBytes: Int64 = 0
        public var legacyOriginals = 0
        public var attachments = 0
        public var attachmentBytes: Int64 = 0
        public var quarantined = 0
        public var quarantineBytes: Int64 = 0
        public var messages = 0
        public var copies = 0
        public var searchRows = 0
        public var temporaryFiles = 0

        enum CodingKeys: String, CodingKey {
            case originals, packs, attachments, quarantined, messages, copies
            case originalBytes = "original_bytes"
            case packBytes = "pack_bytes"
            case legacyOriginals = "legacy_originals"
            case attachmentBytes = "attachment_bytes"
            case quarantineBytes = "quarantine_bytes"
            case searchRows = "search_rows"
            case temporaryFiles = "temporary_files"
        }

        public init() {}
    }

    public var archive: String
    public var checked = Checked()
    /// Every finding, by kind, then object.
    public var findings: [VerificationFinding] = []
    /// Observations that are not problems (an import running, a run recorded as running whose
    /// process is gone, copies kept without their own original).
    public var notes: [String] = []
    public var seconds: Double = 0

    enum CodingKeys: String, CodingKey {
        case archive, checked, findings, notes, seconds, clean, problems
        case findingsByKind = "findings_by_kind"
    }

    public init(archive: String) {
        self.archive = archive
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        archive = try container.decode(String.self, forKey: .archive)
        checked = try container.decode(Checked.self, forKey: .checked)
        findings = try container.decode([VerificationFinding].self, forKey: .findings)
        notes = try container.decode([String].self, forKey: .notes)
        seconds = try container.decode(Double.self, forKey: .seconds)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(archive, forKey: .archive)
        try container.encode(checked, forKey: .checked)
        try container.encode(findings, forKey: .findings)
        try container.encode(findingsByKind, forKey: .findingsByKind)
        try container.encode(notes, forKey: .notes)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(isClean, forKey: .clean)
        try container.encode(hasProblems, forKey: .problems)
    }

    /// Nothing found.
    public var isClean: Bool { findings.isEmpty }

    /// A finding other than an unreferenced object: damage, or a row whose object is missing.
    /// Unreferenced objects are garbage (bytes a killed import appended, blobs a run purged),
    /// harmless to every reader, so they are reported but do not fail `dossier verify`: a
    /// nightly check must not cry wolf after every import that purged noise.
    public var hasProblems: Bool { findings.contains { !$0.kind.isUnreferenced } }

    /// Something found, and all of it unreferenced objects.
    public var onlyUnreferenced: Bool { !findings.isEmpty && findings.allSatisfy(\.kind.isUnreferenced) }

    /// The number of findings of each kind found (kinds with none left out).
    public var findingsByKind: [String: Int] {
        var counts: [String: Int] = [:]
        for finding in findings { counts[finding.kind.rawValue, default: 0] += 1 }
        return counts
    }

    public func findings(_ kind: VerificationFinding.Kind) -> [VerificationFinding] {
        findings.filter { $0.kind == kind }
    }
}

/// What `ArchiveRepairer` did.
public struct RepairReport: Sendable, Codable {
    /// One thing removed or rewritten.
    public struct Action: Sendable, Codable, Equatable {
        public enum Kind: String, Sendable, Codable {
            /// A file removed.
            case removedFile = "removed-file"
            /// A row removed (an unreferenced blob, a pack row without blobs).
            case removedRow = "removed-row"
            /// A pack cut back to the end of its last referenced member.
            case truncatedPack = "truncated-pack"
            /// A pack rewritten with only its referenced members (`replacement` is the new pack).
            case compactedPack = "compacted-pack"
        }

        public var kind: Kind
        /// A path relative to the archive root, or a row (`blob <sha256>`, `pack 3`).
        public var object: String
        /// Bytes freed.
        public var bytes: Int64
        /// The new pack of a compaction.
        public var replacement: String?

        public init(kind: Kind, object: String, bytes: Int64, replacement: String? = nil) {
            self.kind = kind
            self.object = object
            self.bytes = bytes
            self.replacement = replacement
        }
    }

    public var actions: [Action] = []
    /// Unreferenced objects deliberately left, and why.
    public var skipped: [String] = []

    public var freedBytes: Int64 { actions.reduce(0) { $0 + $1.bytes } }

    enum CodingKeys: String, CodingKey {
        case actions, skipped
        case freedBytes = "freed_bytes"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        actions = try container.decode([Action].self, forKey: .actions)
        skipped = try container.decode([String].self, forKey: .skipped)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(actions, forKey: .actions)
        try container.encode(skipped, forKey: .skipped)
        try container.encode(freedBytes, forKey: .freedBytes)
    }
}

/// Why a verification or repair could not run at all.
public enum VerificationError: Error, CustomStringConvertible {
    /// Another process holds the archive (an import or a rematch is running).
    case archiveBusy(String)

    public var description: String {
        switch self {
        case .archiveBusy(let why): return "cannot repair now: \(why)"
        }
    }
}
