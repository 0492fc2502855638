import GRDB

/// A Bloom filter over strings: "certainly not seen" or "maybe seen", never a false "not". 16
/// bits and 4 probes per key (about 0.2 % false positives at capacity, more beyond it), at most
/// 32 MiB (16 million keys at that rate; past them, "maybe" comes more often).
///
/// The import uses it where asking the database is what costs: whether the archive holds an
/// original (`PendingBlobs`), whether any stored message refers to a Message-ID (`ArchiveWriter`).
/// A "maybe" is always followed by the real lookup, so a false positive costs time, not truth.
struct KeyFilter {
    /// How keys become the two 64-bit hashes that the probes combine (Kirsch–Mitzenmacher).
    enum Keys {
        /// SHA-256 digests in hex: already uniformly random, their first 32 digits are the hashes.
        case sha256Hex
        /// Any text (Message-IDs): FNV-1a over its UTF-8, and a second FNV-1a with another basis.
        case text
    }

    private var words: [UInt64]
    private let mask: UInt64
    private let keys: Keys

    init(capacity: Int, keys: Keys) {
        var bits: UInt64 = 1 << 16
        while bits < UInt64(max(capacity, 1)) * 16 && bits < 1 << 28 { bits <<= 1 }
        words = [UInt64](repeating: 0, count: Int(bits / 64))
        mask = bits - 1
        self.keys = keys
    }

    /// A filter holding every value of one text column, with room for `expectedNew` more
    /// (`table` and `column` are the code's own names, never user input).
    static func loading(_ db: Database, table: String, column: String, expectedNew: Int, keys: Keys) throws -> KeyFilter {
        let existing = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
        var filter = KeyFilter(capacity: existing + max(expectedNew, 1 << 16), keys: keys)
        let values = try String.fetchCursor(db, sql: "SELECT \(column) FROM \(table)")
        while let value = try values.next() { filter.insert(value) }
        return filter
    }

    mutating func insert(_ key: String) {
        guard let (a, b) = hashes(key) else { return }
        for i in 0..<4 {
            let bit = (a &+ UInt64(i) &* b) & mask
            words[Int(bit >> 6)] |= 1 << (bit & 63)
        }
    }

    func mayContain(_ key: String) -> Bool {
        guard let (a, b) = hashes(key) else { return true }
        for i in 0..<4 {
            let bit = (a &+ UInt64(i) &* b) & mask
            if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
        }
        return true
    }

    /// Two 64-bit hashes (the second odd, so the probes differ), or nil for a key this filter
    /// cannot read (then it is never ruled out).
    private func hashes(_ key: String) -> (UInt64, UInt64)? {
        switch keys {
        case .sha256Hex: return Self.hexHalves(key)
        case .text:
            var a: UInt64 = 0xcbf2_9ce4_8422_2325
            var b: UInt64 = 0x8422_2325_cbf2_9ce4
            for byte in key.utf8 {
                a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
                b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
            return (a, b | 1)
        }
    }

    /// The first 32 hex digits as two 64-bit numbers.
    private static func hexHalves(_ digest: String) -> (UInt64, UInt64)? {
        var values: (UInt64, UInt64) = (0, 0)
        var count = 0
        for byte in digest.utf8 {
            let nibble: UInt64
            switch byte {
            case 48...57: nibble = UInt64(byte - 48)
            case 97...102: nibble = UInt64(byte - 87)
            case 65...70: nibble = UInt64(byte - 55)
            default: return nil
            }
            if count < 16 { values.0 = values.0 << 4 | nibble } else { values.1 = values.1 << 4 | nibble }
            count += 1
            if count == 32 { return (values.0, values.1 | 1) }
        }
        return nil
    }
}
