import Foundation
import GRDB

/// The CPU-heavy, order-independent part of importing one message, run on every core: hash,
/// sniff, parse, classify, compress, decode attachments, and write the content-addressed objects
/// (the original to the worker's pack, attachments and quarantined bytes as files).
///
/// Writing objects here rather than in the single database writer keeps the writer free for
/// SQLite. It is safe because objects are immutable and named by digest: an original the archive
/// already indexes, or that another worker of this run is writing, is not written again; an
/// attachment file that exists is left alone; and bytes whose row never commits (a crash) are
/// unreferenced and harmless.
struct MessagePreparer: Sendable {
    let objects: ObjectStore
    /// The archive's index of originals, read to skip those already stored.
    let database: DatabasePool
    let pending: PendingBlobs
    let classifiers: [any MessageClassifier]
    /// The CRM directory's rules that need only the message (exclusions, direct matches).
    let filer: Filer
    /// The noise stage (between parsing and filing).
    let noise: NoiseClassifier
    /// Keep noise in the archive, flagged (else count it only: no content is kept).
    let keepNoise: Bool
    let compressionLevel: Int32
    let limits: ParseLimits
    /// `import --dry-run`: decide everything, write no object (no pack, attachment or quarantine file).
    var dryRun = false

    /// `packs` and `profiles` belong to the calling thread: its pack file, its memo of addresses.
    func prepare(_ raw: RawMessage, packs: PackWriter, profiles: AddressProfiles? = nil) -> PreparedItem {
        let bytes = raw.bytes
        let sha256 = ContentHash.sha256Hex(bytes)
        if let reason = MessageParser.rejectionReason(bytes) {
            do {
                if !bytes.isEmpty && !dryRun {
                    try objects.writeIfAbsent(.quarantine, sha256: sha256, bytes: Gzip.compress(bytes, level: compressionLevel))
                }
            } catch {
                return .failure("cannot keep quarantined bytes: \(error)")
            }
            return .quarantine(location: raw.location, reason: reason, sha256: bytes.isEmpty ? nil : sha256, size: bytes.count)
        }

        let parsed = MessageParser.parse(bytes, limits: limits)
        var decision = ImportDecision.keep
        for classifier in classifiers {
            if let verdict = classifier.decide(parsed, at: raw.location) {
                decision = verdict
                break
            }
        }

        // Filing, the part that needs only the message: blacklist and excluded contacts exclude
        // it before anything is stored. Then noise: a verdict that nothing can overturn here (it is
        // decisive, or no tracking code and no thread can speak against it) is final, and when
        // noise is only counted, nothing of it is stored. In matched_only mode, having nothing to
        // match excludes the rest, unless it is a reply (the thread rule, in the writer, may still
        // file it).
        var prefiling: PreFiling?
        var verdict: NoiseVerdict?
        if decision == .keep {
            let pre = filer.prefile(FilingFacts(parsed), profiles: profiles)
            if let reason = pre.exclusion {
                decision = .exclude(reason: reason)
            } else {
                verdict = noise.classify(parsed, bytes: bytes)
                let tracked = pre.direct.contains { $0.rule == .trackingCode }
                let final = verdict.map { $0.kind != nil && ($0.isDecisive || (!tracked && pre.references.isEmpty)) } ?? false
                if final && !keepNoise {
                    decision = .exclude(reason: Self.noiseReason)
                } else if !final && filer.index.rules.mode == .matchedOnly && !pre.isInternal && pre.direct.isEmpty && pre.references.isEmpty {
                    decision = .exclude(reason: "unmatched")
                } else {
                    prefiling = pre
                }
            }
        }

        var attachments: [StoredAttachment] = []
        var blob: PackLocation?
        if decision == .keep {
            do {
                if !dryRun && pending.claim(sha256) {
                    if try pending.mayBeStored(sha256) && database.unsafeRead({ try PackStore.contains(sha256, $0) }) {
                        pending.release([sha256])
                    } else {
                        blob = try packs.append(Gzip.compress(bytes, level: compressionLevel, name: sha256))
                        pending.appended(sha256)
                    }
                }
                attachments.reserveCapacity(parsed.attachments.count)
                for attachment in parsed.attachments {
                    let digest = ContentHash.sha256Hex(attachment.data)
                    if !dryRun { try objects.writeIfAbsent(.attachment, sha256: digest, bytes: attachment.data) }
                    attachments.append(StoredAttachment(
                        part: attachment.partNumber,
                        name: AttachmentName.sanitize(attachment.fileName),
                        contentType: attachment.contentType,
                        size: attachment.data.count,
                        sha256: digest))
                }
            } catch {
                return .failure("cannot write to the archive: \(error)")
            }
        }

        // Counted noise with a Message-ID may be another content of a message stored earlier
        // (see PreparedMessage.heldMember): compressed here, stored only if the writer says so.
        var held: [UInt8]?
        // (A dry run writes nothing: an empty member says the same to the writer.)
        if decision == .exclude(reason: Self.noiseReason), parsed.messageID.map({ !$0.isEmpty }) ?? false {
            held = dryRun ? [] : try? Gzip.compress(bytes, level: compressionLevel, name: sha256)
        }
        return .message(Self.describe(parsed, raw: raw, sha256: sha256, attachments: attachments, decision: decision,
                                      blob: blob, prefiling: prefiling, noise: verdict, heldMember: held))
    }

    /// The exclusion reason of noise that is counted only (`noise.store: false`); the kind is in
    /// the message's `noise`.
    static let noiseReason = "noise"

    /// The archive key: stable for a message whatever copy or import order, short enough to type.
    /// Derived from the Message-ID when there is one (all copies share it), else from the bytes.
    static func key(messageID: String?, sha256: String) -> String {
        if let messageID {
            return String(ContentHash.sha256Hex(Array("message-id:\(messageID)".utf8)).prefix(16))
        }
        return String(sha256.prefix(16))
    }

    /// The text a message contributes to the search index.
    static func searchColumns(_ parsed: ParsedMessage, attachmentNames: [String]) -> SearchColumns {
        func column(_ list: [MailAddress]) -> String {
            list.map { address in
                if let name = address.name, !name.isEmpty { return name + " " + address.address }
                return address.address
            }.joined(separator: "\n")
        }
        return SearchColumns(
            subject: parsed.subject ?? "",
            from: column(parsed.from + parsed.sender + parsed.replyTo),
            to: column(parsed.to),
            cc: column(parsed.cc),
            bcc: column(parsed.bcc),
            body: parsed.bodyText,
            attachment: attachmentNames.joined(separator: "\n"))
    }

    static func describe(_ parsed: ParsedMessage, raw: RawMessage, sha256: String,
                         attachments: [StoredAttachment], decision: ImportDecision,
                         blob: PackLocation?, prefiling: PreFiling?, noise: NoiseVerdict?,
                         heldMember: [UInt8]? = nil) -> PreparedMessage {
        let messageID = parsed.messageID.flatMap { $0.isEmpty ? nil : $0 }
        var addresses: [(role: String, address: String, name: String?)] = []
        let roles: [(String, [MailAddress])] = [
            ("from", parsed.from), ("sender", parsed.sender), ("reply-to", parsed.replyTo),
            ("to", parsed.to), ("cc", parsed.cc), ("bcc", parsed.bcc),
        ]
        for (role, list) in roles {
            for address in list where !address.address.isEmpty {
                addresses.append((role, address.normalized, address.name))
            }
        }
        var references: [(kind: String, id: String)] = []
        references += parsed.inReplyTo.map { ("in-reply-to", $0) }
        references += parsed.references.map { ("references", $0) }

        let search = searchColumns(parsed, attachmentNames: attachments.compactMap(\.name))

        let from = parsed.from.first ?? parsed.sender.first
        return PreparedMessage(
            location: raw.location,
            sha256: sha256,
            blob: blob,
            size: raw.bytes.count,
            key: key(messageID: messageID, sha256: sha256),
            messageID: messageID,
            date: parsed.date,
            subject: parsed.subject,
            fromAddress: from?.normalized,
            fromName: from?.name,
            addresses: addresses,
            references: references,
            attachments: attachments,
            unknownCharsets: parsed.unknownCharsets,
            truncatedNesting: parsed.truncatedNesting,
            search: search,
            decision: decision,
            prefiling: prefiling,
            noise: noise,
            heldMember: heldMember)
    }
}
