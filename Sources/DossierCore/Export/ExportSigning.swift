import Crypto
import Foundation

/// Ed25519 signatures over `manifest.json`, with keys as standard PEM (PKCS #8 private,
/// SubjectPublicKeyInfo public), so that OpenSSL checks an export without Dossier:
///
///     openssl pkeyutl -verify -pubin -inkey signer.pub.pem -rawin -in manifest.json -sigfile manifest.json.sig
///
/// swift-crypto has no PEM form for Curve25519 keys; Ed25519's DER encodings are a fixed
/// prefix before the 32 key bytes (RFC 8410), written and checked here.
public enum ExportSigning {
    public enum Failure: Error, CustomStringConvertible, Sendable {
        case badKey(String)

        public var description: String {
            switch self { case .badKey(let why): return "not an Ed25519 key: \(why)" }
        }
    }

    /// SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }
    private static let privatePrefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70,
                                                 0x04, 0x22, 0x04, 0x20]
    /// SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (32) }
    private static let publicPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    /// A new key pair as PEM texts (private, public).
    public static func generate() -> (privatePEM: String, publicPEM: String) {
        let key = Curve25519.Signing.PrivateKey()
        return (pem("PRIVATE KEY", privatePrefix + Array(key.rawRepresentation)), publicKeyPEM(key.publicKey))
    }

    public static func publicKeyPEM(_ key: Curve25519.Signing.PublicKey) -> String {
        pem("PUBLIC KEY", publicPrefix + Array(key.rawRepresentation))
    }

    public static func privateKey(pem text: String) throws -> Curve25519.Signing.PrivateKey {
        let der = try decode(text, label: "PRIVATE KEY")
        guard der.count == privatePrefix.count + 32, Array(der.prefix(privatePrefix.count)) == privatePrefix else {
            throw Failure.badKey("expected a PKCS #8 Ed25519 private key (dossier key generate, or openssl genpkey -algorithm ed25519)")
        }
        return try Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32))
    }

    public static func publicKey(pem text: String) throws -> Curve25519.Signing.PublicKey {
        let der = try decode(text, label: "PUBLIC KEY")
        guard der.count == publicPrefix.count + 32, Array(der.prefix(publicPrefix.count)) == publicPrefix else {
            throw Failure.badKey("expected an Ed25519 SubjectPublicKeyInfo")
        }
        return try Curve25519.Signing.PublicKey(rawRepresentation: der.suffix(32))
    }

    public static func sign(_ bytes: [UInt8], with key: Curve25519.Signing.PrivateKey) throws -> Data {
        try key.signature(for: bytes)
    }

    public static func isValid(_ signature: [UInt8], for bytes: [UInt8], key: Curve25519.Signing.PublicKey) -> Bool {
        key.isValidSignature(signature, for: bytes)
    }

    private static func pem(_ label: String, _ der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines = ["-----BEGIN \(label)-----"]
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(64)))
            rest = rest.dropFirst(64)
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func decode(_ text: String, label: String) throws -> [UInt8] {
        let begin = "-----BEGIN \(label)-----", end = "-----END \(label)-----"
        guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex) else {
            throw Failure.badKey("no \(begin) block")
        }
        let body = text[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(body)) else { throw Failure.badKey("the PEM block is not base64") }
        return Array(data)
    }
}

/// RFC 3161 time-stamping of the manifest: the request the export carries (`manifest.tsq`,
/// what `openssl ts -query -data manifest.json -sha256 -cert` writes), for the firm's time-stamp
/// authority to answer, and the checks `dossier verify` makes of an answer (`manifest.tsr`)
/// placed beside it: granted, for SHA-256 of this manifest, with this request's nonce.
///
/// The authority's signature on the answer is checked against its certificate by
/// `openssl ts -verify -in manifest.tsr -queryfile manifest.tsq -CAfile TSA-CA.pem`: trust in a
/// particular authority is the firm's to configure, not Dossier's.
public enum TimestampRequest {
    /// What a time-stamp reply says, as far as Dossier checks it.
    public struct Reply: Sendable, Equatable {
        /// PKIStatus: 0 granted, 1 granted with modifications, 2 and above refused.
        public var status: Int
        public var hashAlgorithm: String?
        public var imprint: [UInt8]?
        public var nonce: [UInt8]?
        /// GeneralizedTime as written (`20241205143000Z`).
        public var time: String?
    }

    static let sha256OID: [UInt8] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]

    /// TimeStampReq { version 1, messageImprint { sha256, digest }, nonce, certReq TRUE }. The
    /// nonce is derived from the digest, so the same manifest always gets the same request.
    public static func query(sha256 digest: [UInt8]) -> [UInt8] {
        let algorithm = DER.sequence(DER.tlv(0x06, sha256OID) + [0x05, 0x00])
        let imprint = DER.sequence(algorithm + DER.tlv(0x04, digest))
        return DER.sequence(DER.tlv(0x02, [1]) + imprint + DER.tlv(0x02, nonce(for: digest)) + [0x01, 0x01, 0xFF])
    }

    /// 8 bytes from the digest with the top bit clear (a positive INTEGER).
    static func nonce(for digest: [UInt8]) -> [UInt8] {
        var bytes = Array(ContentHash.sha256Hex(Array("dossier-tsq-nonce".utf8) + digest).utf8.prefix(16))
        bytes = stride(from: 0, to: 16, by: 2).map { UInt8(String(decoding: bytes[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
        bytes[0] &= 0x7F
        if bytes[0] == 0 { bytes[0] = 1 }
        return bytes
    }

    /// Reads a TimeStampResp: its status, and from the token's TSTInfo the imprint, nonce and time.
    public static func parseReply(_ bytes: [UInt8]) throws -> Reply {
        var reader = DER.Reader(bytes)
        let response = try reader.expect(0x30)
        var fields = DER.Reader(response)
        var statusInfo = DER.Reader(try fields.expect(0x30))
        let status = try statusInfo.expect(0x02).reduce(0) { $0 << 8 | Int($1) }
        var reply = Reply(status: status)
        guard !fields.atEnd else { return reply }
        // The token is CMS SignedData; its encapsulated content (id-ct-TSTInfo) is an OCTET
        // STRING holding the TSTInfo. Find it by walking the token's structure.
        guard let tstInfo = DER.findTSTInfo(try fields.element()) else { throw DER.Failure.malformed("no TSTInfo in the token") }
        var info = DER.Reader(tstInfo)
        var tst = DER.Reader(try info.expect(0x30))
        _ = try tst.expect(0x02)                       // version
        _ = try tst.expect(0x06)                       // policy
        var imprint = DER.Reader(try tst.expect(0x30))
        var algorithm = DER.Reader(try imprint.expect(0x30))
        let oid = try algorithm.expect(0x06)
        reply.hashAlgorithm = oid == sha256OID ? "sha256" : oid.map { String(format: "%02x", $0) }.joined()
        reply.imprint = try imprint.expect(0x04)
        _ = try tst.expect(0x02)                       // serial number
        reply.time = String(decoding: try tst.expect(0x18), as: UTF8.self)
        while !tst.atEnd {
            let (tag, value) = try tst.next()
            if tag == 0x02 { reply.nonce = value }
        }
        return reply
    }
}

/// Just enough DER for the keys and time-stamp messages above.
enum DER {
    enum Failure: Error, CustomStringConvertible {
        case malformed(String)
        var description: String {
            switch self { case .malformed(let why): return "malformed DER: \(why)" }
        }
    }

    static func length(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(count)] }
        var bytes: [UInt8] = []
        var rest = count
        while rest > 0 { bytes.insert(UInt8(rest & 0xFF), at: 0); rest >>= 8 }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    static func tlv(_ tag: UInt8, _ value: [UInt8]) -> [UInt8] { [tag] + length(value.count) + value }
    static func sequence(_ value: [UInt8]) -> [UInt8] { tlv(0x30, value) }

    struct Reader {
        private let bytes: [UInt8]
        private var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position >= bytes.count }

        /// The next element's tag and contents.
        mutating func next() throws -> (UInt8, [UInt8]) {
            let (tag, start, end) = try header()
            position = end
            return (tag, Array(bytes[start..<end]))
        }

        /// The next element whole (tag and length included).
        mutating func element() throws -> [UInt8] {
            let begin = position
            let (_, _, end) = try header()
            position = end
            return Array(bytes[begin..<end])
        }

        mutating func expect(_ tag: UInt8) throws -> [UInt8] {
            let (found, value) = try next()
            guard found == tag else { throw Failure.malformed(String(format: "tag %02x where %02x was expected", found, tag)) }
            return value
        }

        private func header() throws -> (UInt8, Int, Int) {
            guard position + 2 <= bytes.count else { throw Failure.malformed("truncated") }
            let tag = bytes[position]
            var cursor = position + 1
            var length = Int(bytes[cursor])
            cursor += 1
            if length & 0x80 != 0 {
                let count = length & 0x7F
                guard count >= 1, count <= 4, cursor + count <= bytes.count else { throw Failure.malformed("bad length") }
                length = bytes[cursor..<cursor + count].reduce(0) { $0 << 8 | Int($1) }
                cursor += count
            }
            guard cursor + length <= bytes.count else { throw Failure.malformed("truncated") }
            return (tag, cursor, cursor + length)
        }
    }

    /// id-ct-TSTInfo, 1.2.840.113549.1.9.16.1.4.
    static let tstInfoOID: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x01, 0x04]

    /// Depth-first through constructed elements: the OCTET STRING that follows the TSTInfo OID
    /// (inside an [0] EXPLICIT wrapper), which holds the DER TSTInfo.
    static func findTSTInfo(_ element: [UInt8], depth: Int = 0) -> [UInt8]? {
        guard depth < 12 else { return nil }
        var reader = Reader(element)
        guard let (tag, value) = try? reader.next() else { return nil }
        guard tag & 0x20 != 0 else { return nil }
        var children = Reader(value)
        var sawOID = false
        while !children.atEnd {
            guard let child = try? children.element() else { return nil }
            var probe = Reader(child)
            guard let (childTag, childValue) = try? probe.next() else { return nil }
            if childTag == 0x06 && childValue == tstInfoOID { sawOID = true; continue }
            if sawOID && childTag == 0xA0 {
                var inner = Reader(childValue)
                if let (octetTag, octets) = try? inner.next(), octetTag == 0x04 { return octets }
            }
            if let found = findTSTInfo(child, depth: depth + 1) { return found }
        }
        return nil
    }
}
