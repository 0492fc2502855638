import Crypto
import Foundation

/// SHA-256 as lowercase hex, the archive's content address for originals and attachments.
public enum ContentHash {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func sha256Hex<D: DataProtocol>(_ data: D) -> String {
        hex(SHA256.hash(data: data))
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { hex(SHA256.hash(data: $0)) }
    }

    static func hex<S: Sequence>(_ digest: S) -> String where S.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A 64-bit digest of `text` (the first 8 bytes of its SHA-256): a stable key for sets of
    /// strings too many to hold whole.
    public static func hash64(_ text: String) -> UInt64 {
        let digest = SHA256.hash(data: Array(text.utf8))
        return digest.withUnsafeBytes { raw in raw.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
    }
}
