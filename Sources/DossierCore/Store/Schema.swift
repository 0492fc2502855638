import GRDB

/// The archive database schema, as an ordered list of migrations (GRDB's `DatabaseMigrator`).
/// Never edit a shipped migration: add a new one.
///
/// Tables
/// - `run`: one row per command run that changes the archive, with its ledger counts;
///   `run_reason` breaks its quarantined and excluded counts down by reason.
/// - `message`: one row per unique message (identity: Message-ID, else SHA-256 of the bytes).
///   Its `id` is the rowid of `message_fts`.
/// - `copy`: every place a message was read from (mailbox, path, offset, folder, flags) and the
///   SHA-256 of that copy's bytes (a copy with the same Message-ID but other bytes keeps its own blob).
/// - `address`: participants by role (from, sender, reply-to, to, cc, bcc), lowercased address.
/// - `reference`: In-Reply-To / References ids, for threading.
/// - `attachment`: decoded attachments, content-addressed by SHA-256 (files under objects/).
/// - `quarantine`: inputs that are not messages, with the reason and where the bytes were kept.
/// - `filing_match` (v4): every rule that fired for every record a message is filed to, with the
///   matched text; `manual_filing`: assignments and removals made by hand. The message row carries
///   the filing status, reason, evidence, direction and context.
/// - `pack`, `blob` (v3): where each original's gzip member lives (`PackStore`).
/// - `message_fts`: contentless FTS5 index (subject, addresses and names by role, body text,
///   attachment names). Contentless keeps the index small and inserts fast; a row is deleted by
///   re-deriving its values from the stored original, which is deterministic.
/// - `crm_load` (v2): every `dossier crm load`, successful or not, with its counts, warnings and
///   errors (JSON arrays of `CRMDiagnostic`) and the rules.yaml text; at most one row is `active`,
///   the directory in force. A failed load is recorded but never becomes active.
/// - `crm_snapshot` (v2): the whole `CRMDirectory` of a successful load as one compact document
///   (`CRMSnapshot`, format named in `format`). The directory is only ever used whole (to build a
///   `CRMIndex`), and one blob decodes far quicker than 100k contacts rebuilt from rows or JSON.
/// - v5: `message.noise`, `noise_decisive`, `noise_signals`: the noise stage's verdict and signals.
/// - v6: no index by participant address; messages by digest only where they have no Message-ID.
/// - `variant` (v7): every other content a message's copies brought (same Message-ID, other
///   bytes: a list's altered copy, a Bcc copy, a re-sent draft, a forgery), numbered from 2 (the
///   first stored content, `message.sha256`, is 1); each indexed one has its own `message_fts`
///   row, rowid `number << 40 | message` (see `ContentVariants`).
/// - `waiting_reply` (v8): replies kept, unsearchable, for a parent a later run may bring
///   (`ImportOptions.replyWait`); purged when their time is up.
public enum Schema {
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: core archive") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY,
                    command TEXT NOT NULL,
                    arguments TEXT NOT NULL,          -- JSON array of the command line
                    started_at TEXT NOT NULL,         -- RFC 3339 UTC
                    finished_at TEXT,
                    status TEXT NOT NULL,             -- running | completed | interrupted | failed
                    read INTEGER NOT NULL DEFAULT 0,
                    stored INTEGER NOT NULL DEFAULT 0,
                    duplicate INTEGER NOT NULL DEFAULT 0,
                    quarantined INTEGER NOT NULL DEFAULT 0,
                    excluded INTEGER NOT NULL DEFAULT 0,
                    bytes_read INTEGER NOT NULL DEFAULT 0,
                    sources INTEGER NOT NULL DEFAULT 0,
                    error TEXT
                );
                CREATE TABLE run_reason (
                    run INTEGER NOT NULL REFERENCES run(id),
                    outcome TEXT NOT NULL,            -- quarantined | excluded
                    reason TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (run, outcome, reason)
                );
                CREATE TABLE message (
                    id INTEGER PRIMARY KEY,
                    key TEXT NOT NULL UNIQUE,
                    message_id TEXT,                  -- without angle brackets
                    sha256 TEXT NOT NULL,             -- of the first copy stored
                    date INTEGER,                     -- Unix seconds UTC; NULL when unreadable
                    subject TEXT,
                    from_address TEXT,
                    from_name TEXT,
                    size INTEGER NOT NULL,
                    attachment_count INTEGER NOT NULL DEFAULT 0,
                    unknown_charsets TEXT,            -- comma-separated, NULL when none
                    truncated_nesting INTEGER NOT NULL DEFAULT 0,
                    status TEXT NOT NULL DEFAULT 'stored', -- stored | excluded (later: filed, noise, ...)
                    reason TEXT,                      -- why, for excluded (e.g. window)
                    first_run INTEGER NOT NULL REFERENCES run(id)
                );
                CREATE UNIQUE INDEX message_by_message_id ON message(message_id) WHERE message_id IS NOT NULL;
                CREATE INDEX message_by_sha256 ON message(sha256);
                CREATE INDEX message_by_date ON message(date);
                CREATE TABLE copy (
                    id INTEGER PRIMARY KEY,
                    message INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
                    run INTEGER NOT NULL REFERENCES run(id),
                    sha256 TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    mailbox TEXT NOT NULL,
                    path TEXT NOT NULL,
                    offset INTEGER NOT NULL DEFAULT -1, -- -1: one message per file
                    folder TEXT NOT NULL,
                    flags TEXT NOT NULL,
                    UNIQUE (message, mailbox, path, offset)
                );
                CREATE INDEX copy_by_mailbox_folder ON copy(mailbox, folder);
                CREATE TABLE address (
                    message INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
                    role TEXT NOT NULL,               -- from | sender | reply-to | to | cc | bcc
                    address TEXT NOT NULL,            -- lowercased
                    name TEXT
                );
                CREATE INDEX address_by_message ON address(message);
                CREATE INDEX address_by_address ON address(address);
                CREATE TABLE reference (
                    message INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,               -- in-reply-to | references
                    position INTEGER NOT NULL,
                    message_id TEXT NOT NULL
                );
                CREATE INDEX reference_by_message ON reference(message);
                CREATE INDEX reference_by_message_id ON reference(message_id);
                CREATE TABLE attachment (
                    id INTEGER PRIMARY KEY,
                    message INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
                    part TEXT NOT NULL,               -- IMAP-style part number
                    name TEXT,                        -- sanitised for display; never a path
                    content_type TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    sha256 TEXT NOT NULL
                );
                CREATE INDEX attachment_by_message ON attachment(message);
                CREATE INDEX attachment_by_sha256 ON attachment(sha256);
                CREATE TABLE quarantine (
                    id INTEGER PRIMARY KEY,
                    run INTEGER NOT NULL REFERENCES run(id),
                    mailbox TEXT NOT NULL,
                    path TEXT NOT NULL,
                    offset INTEGER NOT NULL DEFAULT -1,
                    reason TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    sha256 TEXT,                      -- of the kept bytes; NULL when nothing could be read
                    UNIQUE (run, path, offset)
                );
                CREATE VIRTUAL TABLE message_fts USING fts5(
                    subject, from_addr, to_addr, cc_addr, bcc_addr, body, attachment,
                    content = '',
                    tokenize = 'unicode61 remove_diacritics 2'
                );
                """)
        }
        migrator.registerMigration("v2: crm directory") { db in
            try db.execute(sql: """
                CREATE TABLE crm_load (
                    id INTEGER PRIMARY KEY,
                    loaded_at TEXT NOT NULL,          -- RFC 3339 UTC
                    source_dir TEXT NOT NULL,         -- absolute path of the folder read
                    status TEXT NOT NULL,             -- ok | failed
                    accounts INTEGER NOT NULL DEFAULT 0,
                    contacts INTEGER NOT NULL DEFAULT 0,
                    leads INTEGER NOT NULL DEFAULT 0,
                    cases INTEGER NOT NULL DEFAULT 0,
                    staff INTEGER NOT NULL DEFAULT 0,
                    warnings TEXT NOT NULL DEFAULT '[]', -- JSON array of {file, line, column, message}
                    errors TEXT NOT NULL DEFAULT '[]',   -- the same, for a failed load
                    rules_yaml TEXT,                  -- rules.yaml as read; NULL when absent
                    active INTEGER NOT NULL DEFAULT 0 -- 1 for the directory in force
                );
                CREATE UNIQUE INDEX crm_load_active ON crm_load(active) WHERE active = 1;
                CREATE TABLE crm_snapshot (
                    load INTEGER PRIMARY KEY REFERENCES crm_load(id) ON DELETE CASCADE,
                    format TEXT NOT NULL,             -- dcrm-1: see CRMSnapshot
                    directory BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3: message packs") { db in
            // Originals move from one file each to pack files (see PackStore).
            try db.execute(sql: """
                CREATE TABLE pack (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE         -- file name under objects/packs/
                );
                CREATE TABLE blob (
                    sha256 TEXT PRIMARY KEY,          -- of the original bytes
                    pack INTEGER NOT NULL REFERENCES pack(id),
                    offset INTEGER NOT NULL,          -- of the gzip member in the pack
                    length INTEGER NOT NULL           -- of the gzip member
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v4: filing") { db in
            // Where each message is filed and why (see Filing/). `filing` is the spec's status
            // (filed | unassigned | noise | internal | excluded); `message.status` stays the
            // storage state (stored | excluded: content kept or not).
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN filing TEXT;
                ALTER TABLE message ADD COLUMN filing_reason TEXT;
                ALTER TABLE message ADD COLUMN evidence TEXT;      -- strongest rule that fired
                ALTER TABLE message ADD COLUMN direction TEXT;     -- inbound | outbound | internal
                ALTER TABLE message ADD COLUMN context TEXT;       -- reply | new
                CREATE INDEX message_by_filing ON message(filing);
                CREATE TABLE filing_match (
                    message INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
                    rule TEXT NOT NULL,               -- tracking_code | thread | subject_tag | address | domain | manual
                    kind TEXT NOT NULL,               -- account | contact | lead | case
                    record TEXT NOT NULL,
                    matched TEXT NOT NULL,            -- the address, domain, tag, code or parent Message-ID
                    via TEXT,                         -- contact:ID / case:ID when filed to that record's account
                    PRIMARY KEY (message, rule, kind, record, matched)
                ) WITHOUT ROWID;                      -- one B-tree, clustered by message: cheaper inserts
                CREATE INDEX filing_match_by_record ON filing_match(kind, record);
                CREATE TABLE manual_filing (
                    message INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
                    action TEXT NOT NULL,             -- assign | unassign
                    kind TEXT NOT NULL,
                    record TEXT NOT NULL,
                    at TEXT NOT NULL,                 -- RFC 3339 UTC
                    PRIMARY KEY (message, kind, record)
                );
                """)
        }
        migrator.registerMigration("v5: noise") { db in
            // What the noise stage saw (see Classify/NoiseClassifier.swift), kept apart from the
            // filing status so that it survives a manual assignment and `why` can always show it:
            // the kind it points to (NULL when signals were too few), whether the verdict was
            // decisive or yields to a tracking code or a thread, and every signal, one per line.
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN noise TEXT;
                ALTER TABLE message ADD COLUMN noise_decisive INTEGER;
                ALTER TABLE message ADD COLUMN noise_signals TEXT;
                """)
        }
        migrator.registerMigration("v6: leaner import indexes") { db in
            // Every index is a random insert per row for the import's single writer, its
            // bottleneck. `address_by_address` served no query (participants are read by message,
            // and search finds addresses through message_fts): 2.3 inserts per message into an
            // index that outgrew the writer's cache. A message's digest is looked up only for
            // identity when it has no Message-ID: the index now holds just those rows.
            try db.execute(sql: """
                DROP INDEX address_by_address;
                DROP INDEX message_by_sha256;
                CREATE INDEX message_by_sha256_without_id ON message(sha256) WHERE message_id IS NULL;
                """)
        }
        migrator.registerMigration("v7: content variants") { db in
            // Copies that share a Message-ID but not their bytes were recorded as copies of the
            // first and nothing but the blob store could reach them. Each distinct content now
            // has a row, so show, search, export and the duplicates report can reach it.
            try db.execute(sql: """
                CREATE TABLE variant (
                    message INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
                    number INTEGER NOT NULL,          -- 2, 3, ...: content 1 is message.sha256
                    sha256 TEXT NOT NULL,             -- of this content's bytes (its blob)
                    indexed INTEGER NOT NULL DEFAULT 0, -- 1: has its message_fts row
                    PRIMARY KEY (message, number),
                    UNIQUE (message, sha256)
                ) WITHOUT ROWID;
                """)
            // How a content differs from the first is derived from the two originals when it
            // is shown (`ContentVariants`), so archives made before v7 show theirs too; only
            // their search rows are missing until the mail is imported again.
        }
        migrator.registerMigration("v8: replies waiting for their thread") { db in
            // A reply no rule filed (matched_only's unmatched, or weak noise that is only counted)
            // lost its content at the end of its own run, before a parent read by a later run
            // could file it: the outcome depended on how mail was split into runs. Such a reply
            // now keeps its content (unsearchable) until `until`, and the thread files it when
            // the parent comes (`FilingStore.propagateAdditions`); past `until` an import purges it.
            try db.execute(sql: """
                CREATE TABLE waiting_reply (
                    message INTEGER PRIMARY KEY REFERENCES message(id) ON DELETE CASCADE,
                    run INTEGER NOT NULL REFERENCES run(id),  -- the run that stored it
                    until INTEGER NOT NULL                  -- Unix seconds: kept for its thread until then
                );
                CREATE INDEX waiting_reply_by_until ON waiting_reply(until);
                """)
        }
        return migrator
    }
}
