import Crypto
import Foundation
import ZIPFoundation
#if canImport(Glibc)
import Glibc
#endif

/// What `dossier verify PATH` found in an export.
public struct ExportVerification: Sendable, Encodable {
    public enum FindingKind: String, Sendable, Encodable {
        /// A listed file whose size or SHA-256 differs.
        case altered
        /// A listed file that is not there.
        case missing
        /// A file that the manifest does not list.
        case added
        /// manifest.json unreadable, or its chain, its CSV twin or export.json disagreeing with it.
        case manifest
        /// A signature that does not verify, or a key that is not the expected one.
        case signature
        /// A time-stamp reply that is not for this manifest.
        case timestamp
        /// Something that is not a regular file (a link, a device).
        case notAFile = "not_a_file"
    }

    public struct Finding: Sendable, Encodable, Equatable {
        public var kind: FindingKind
        public var path: String
        public var detail: String
    }

    public var path: String
    public var record: String?
    public var files: Int = 0
    public var bytes: Int64 = 0
    public var chainHead: String?
    public var manifestSHA256: String?
    /// valid | invalid | absent
    public var signature: String = "absent"
    /// The time the authority stamped, when a valid reply sits beside the manifest.
    public var timestamp: String?
    public var findings: [Finding] = []
    public var elapsed: Double = 0

    public var ok: Bool { findings.isEmpty }

    enum CodingKeys: String, CodingKey {
        case path, record, files, bytes, signature, timestamp, findings, elapsed, ok
        case chainHead = "chain_head"
        case manifestSHA256 = "manifest_sha256"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(record, forKey: .record)
        try container.encode(files, forKey: .files)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(chainHead, forKey: .chainHead)
        try container.encode(manifestSHA256, forKey: .manifestSHA256)
        try container.encode(signature, forKey: .signature)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encode(findings, forKey: .findings)
        try container.encode(elapsed, forKey: .elapsed)
        try container.encode(ok, forKey: .ok)
    }
}

/// Re-checks an export, a folder or a zip, against its manifest: every listed file's size and
/// SHA-256, no file missing and none added, the hash chain link by link, the CSV manifest and
/// export.json agreeing with it, the signature, and a time-stamp reply if one sits beside it.
/// It reads each file once, streaming, and never extracts anything: names inside a zip are
/// compared as strings, so a hostile entry name (`../x`) is only ever reported.
public struct ExportVerifier {
    public var path: String
    /// The chain head the export printed when made (`--head`): proves order and completeness
    /// even against someone who rewrote the manifest and its chain.
    public var expectedHead: String?
    /// The key the signature must be made with (`--key`); without it the key shipped in the
    /// export is used, which proves integrity since signing, not who signed.
    public var publicKey: Curve25519.Signing.PublicKey?

    public init(path: String) {
        self.path = path
    }

    /// An export's files, a folder's or a zip's.
    private protocol Source {
        /// Every entry: path and whether it is a regular file.
        func entries() throws -> [(path: String, regular: Bool)]
        /// The bytes of one entry, in chunks.
        func read(_ path: String, _ consume: ([UInt8]) throws -> Void) throws
    }

    public func verify() throws -> ExportVerification {
        let started = Date()
        var result = ExportVerification(path: path)
        let source: Source = try Self.isZip(path) ? ZipSource(path: path) : FolderSource(root: path)
        let entries = try source.entries()
        var present: [String: Bool] = [:]
        for entry in entries { present[entry.path] = entry.regular }

        func whole(_ name: String) throws -> [UInt8]? {
            guard present[name] == true else { return nil }
            var bytes: [UInt8] = []
            try source.read(name) { bytes.append(contentsOf: $0) }
            return bytes
        }
        func finding(_ kind: ExportVerification.FindingKind, _ path: String, _ detail: String) {
            result.findings.append(.init(kind: kind, path: path, detail: detail))
        }

        guard let manifestBytes = try whole(ExportLayout.manifestJSON) else {
            finding(.missing, ExportLayout.manifestJSON, "no manifest: nothing can be verified")
            result.elapsed = Date().timeIntervalSince(started)
            return result
        }
        result.manifestSHA256 = ContentHash.sha256Hex(manifestBytes)
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(manifestBytes))
        } catch {
            finding(.manifest, ExportLayout.manifestJSON, "not a Dossier manifest: \(error)")
            result.elapsed = Date().timeIntervalSince(started)
            return result
        }
        result.record = manifest.record
        result.chainHead = manifest.chainHead

        // The chain, link by link, from the fixed seed.
        var link = ManifestChain.seed
        if manifest.chainSeed != link { finding(.manifest, ExportLayout.manifestJSON, "chain seed is not \(ManifestChain.format)'s") }
        var listed = Set<String>()
        for (position, entry) in manifest.files.enumerated() {
            link = ManifestChain.link(link, path: entry.path, size: entry.size, sha256: entry.sha256)
            if entry.chain != link {
                finding(.manifest, entry.path, "chain broken at entry \(position + 1): the entries were changed, removed or reordered")
                break
            }
            if !listed.insert(entry.path).inserted { finding(.manifest, entry.path, "listed twice") }
        }
        if link != manifest.chainHead { finding(.manifest, ExportLayout.manifestJSON, "the chain does not end at chain_head") }
        if let expectedHead, expectedHead.lowercased() != manifest.chainHead {
            finding(.manifest, ExportLayout.manifestJSON, "chain head \(manifest.chainHead) is not the expected \(expectedHead)")
        }

        // Every listed file, re-hashed.
        for entry in manifest.files {
            guard let regular = present[entry.path] else {
                finding(.missing, entry.path, "listed in the manifest, not in the export")
                continue
            }
            guard regular else {
                finding(.notAFile, entry.path, "not a regular file")
                continue
            }
            var hasher = SHA256()
            var size: Int64 = 0
            do {
                try source.read(entry.path) { chunk in
                    hasher.update(data: chunk)
                    size += Int64(chunk.count)
                }
            } catch {
                finding(.altered, entry.path, "cannot be read back: \(error)")
                continue
            }
            let digest = ContentHash.hex(hasher.finalize())
            result.files += 1
            result.bytes += size
            if size != entry.size || digest != entry.sha256 {
                finding(.altered, entry.path, size != entry.size ? "\(size) bytes, the manifest says \(entry.size)"
                        : "SHA-256 \(digest), the manifest says \(entry.sha256)")
            }
        }
        for entry in entries.map(\.path).sorted() where !listed.contains(entry) && !ExportLayout.manifestFiles.contains(entry) {
            finding(.added, entry, "not listed in the manifest")
        }

        // The manifest's twins.
        if let csv = try whole(ExportLayout.manifestCSV) {
            if csv != manifest.csv() { finding(.manifest, ExportLayout.manifestCSV, "does not match manifest.json") }
        } else {
            finding(.missing, ExportLayout.manifestCSV, "no manifest.csv")
        }
        if let parameters = try whole(ExportLayout.parameters) {
            if (try? JSONDecoder().decode(ExportParameters.self, from: Data(parameters))) != manifest.parameters {
                finding(.manifest, ExportLayout.parameters, "does not match the parameters in manifest.json")
            }
        }

        // The signature.
        if let signature = try whole(ExportLayout.signature) {
            var key = publicKey
            if key == nil, let pem = try whole(ExportLayout.signerKey) {
                key = try? ExportSigning.publicKey(pem: String(decoding: pem, as: UTF8.self))
            }
            if let key {
                let valid = ExportSigning.isValid(signature, for: manifestBytes, key: key)
                result.signature = valid ? "valid" : "invalid"
                if !valid {
                    finding(.signature, ExportLayout.signature, publicKey == nil ? "does not verify with signer.pub.pem"
                            : "does not verify with the given key")
                }
            } else {
                result.signature = "invalid"
                finding(.signature, ExportLayout.signerKey, "no usable public key to check the signature with")
            }
        } else if publicKey != nil {
            finding(.signature, ExportLayout.signature, "a key was given but the export is not signed")
        }

        // A time-stamp reply, when the authority's answer was put beside the request.
        if let reply = try whole(ExportLayout.timestampReply) {
            let digest = Array(SHA256.hash(data: manifestBytes))
            do {
                let parsed = try TimestampRequest.parseReply(reply)
                if parsed.status > 1 {
                    finding(.timestamp, ExportLayout.timestampReply, "the authority refused the request (status \(parsed.status))")
                } else if parsed.hashAlgorithm != "sha256" || parsed.imprint != digest {
                    finding(.timestamp, ExportLayout.timestampReply, "stamps another digest, not this manifest's")
                } else if let nonce = parsed.nonce, nonce != TimestampRequest.nonce(for: digest) {
                    finding(.timestamp, ExportLayout.timestampReply, "answers another request (nonce differs)")
                } else {
                    result.timestamp = parsed.time
                }
            } catch {
                finding(.timestamp, ExportLayout.timestampReply, "not a time-stamp reply: \(error)")
            }
        }
        result.elapsed = Date().timeIntervalSince(started)
        return result
    }

    static func isZip(_ path: String) throws -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ExportOutputError.io(path: path, errno: ENOENT)
        }
        return !isDirectory.boolValue
    }

    /// An export folder, walked without following links.
    private struct FolderSource: Source {
        let root: String

        func entries() throws -> [(path: String, regular: Bool)] {
            var result: [(String, Bool)] = []
            func walk(_ relative: String) throws {
                let directory = relative.isEmpty ? root : root + "/" + relative
                for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                    let path = relative.isEmpty ? name : relative + "/" + name
                    var info = stat()
                    guard lstat(root + "/" + path, &info) == 0 else { continue }
                    switch info.st_mode & S_IFMT {
                    case S_IFDIR: try walk(path)
                    case S_IFREG: result.append((path, true))
                    default: result.append((path, false))
                    }
                }
            }
            try walk("")
            return result
        }

        func read(_ path: String, _ consume: ([UInt8]) throws -> Void) throws {
            let fd = open(root + "/" + path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw ExportOutputError.io(path: root + "/" + path, errno: errno) }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ExportOutputError.io(path: root + "/" + path, errno: errno)
                }
                if n == 0 { return }
                try consume(Array(buffer[0..<n]))
            }
        }
    }

    /// An export zip, read entry by entry with ZIPFoundation.
    private final class ZipSource: Source {
        let archive: ZIPFoundation.Archive
        var byPath: [String: Entry] = [:]

        init(path: String) throws {
            do {
                archive = try ZIPFoundation.Archive(url: URL(fileURLWithPath: path), accessMode: .read)
            } catch {
                throw ExportVerifierError.notAnExport(path, "not a zip file or an export folder (\(error))")
            }
        }

        func entries() throws -> [(path: String, regular: Bool)] {
            var result: [(String, Bool)] = []
            for entry in archive {
                if entry.type == .directory { continue }
                byPath[entry.path] = entry
                result.append((entry.path, entry.type == .file))
            }
            return result
        }

        func read(_ path: String, _ consume: ([UInt8]) throws -> Void) throws {
            guard let entry = byPath[path] else { return }
            // The CRC check stays on: a damaged entry is reported as altered either way.
            do {
                _ = try archive.extract(entry, bufferSize: 1 << 20) { data in try consume(Array(data)) }
            } catch {
                throw ExportVerifierError.unreadable(path, "\(error)")
            }
        }
    }
}

public enum ExportVerifierError: Error, CustomStringConvertible, Sendable {
    case notAnExport(String, String)
    case unreadable(String, String)

    public var description: String {
        switch self {
        case .notAnExport(let path, let why): return "\(path): \(why)"
        case .unreadable(let path, let why): return "\(path): cannot be read (\(why))"
        }
    }
}
