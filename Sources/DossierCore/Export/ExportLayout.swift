import Foundation

/// The names of an export's files. Every name is built here from dates, archive keys and
/// sanitised attachment names, never taken from a message as it is.
///
///     index.html               the static site's front page
///     pages/<stamp>-<key>.html one page per message
///     messages/<stamp>-<key>.eml  the originals, byte for byte
///     mail.mbox                all originals as one mboxrd file, in date order
///     attachments/<name>       each distinct attachment once
///     loadfile.csv, loadfile.dat  eDiscovery load files
///     summary.csv, left-out.csv   what the export holds, and what it left out and why
///     export.json              the export's parameters and the archive state it came from
///     manifest.json, manifest.csv  every file above with size, SHA-256 and the hash chain
///     manifest.json.sig, signer.pub.pem, manifest.tsq   signature and timestamp request
///
/// `<stamp>` is the message's date in UTC (`20240205T141400Z`, or `undated`), so a plain file
/// listing sorts by date, and the archive key makes each name unique.
public enum ExportLayout {
    public static let index = "index.html"
    public static let mbox = "mail.mbox"
    public static let loadFileCSV = "loadfile.csv"
    public static let loadFileDAT = "loadfile.dat"
    public static let summary = "summary.csv"
    public static let leftOut = "left-out.csv"
    public static let parameters = "export.json"
    public static let manifestJSON = "manifest.json"
    public static let manifestCSV = "manifest.csv"
    public static let signature = "manifest.json.sig"
    public static let signerKey = "signer.pub.pem"
    public static let timestampQuery = "manifest.tsq"
    public static let timestampReply = "manifest.tsr"

    /// Files that describe the manifest rather than being listed in it.
    public static let manifestFiles: Set<String> = [manifestJSON, manifestCSV, signature, signerKey, timestampQuery, timestampReply]

    /// `20240205T141400Z`, or `undated`.
    public static func stamp(_ date: Date?) -> String {
        guard let date else { return "undated" }
        var seconds = time_t(date.timeIntervalSince1970)
        var fields = tm()
        gmtime_r(&seconds, &fields)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", fields.tm_year + 1900, fields.tm_mon + 1, fields.tm_mday,
                      fields.tm_hour, fields.tm_min, fields.tm_sec)
    }

    public static func messagePath(date: Date?, key: String) -> String { "messages/\(stamp(date))-\(safeKey(key)).eml" }
    /// Content `number` (2, 3, ...) of a message whose copies differ (`--all-copies`).
    public static func variantPath(date: Date?, key: String, number: Int) -> String {
        "messages/\(stamp(date))-\(safeKey(key)).content-\(number).eml"
    }
    public static func pagePath(date: Date?, key: String) -> String { "pages/\(stamp(date))-\(safeKey(key)).html" }

    /// Keys are hex; anything else (a damaged row) must not become a path.
    private static func safeKey(_ key: String) -> String {
        key.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) && !key.isEmpty ? key : "invalid-key"
    }

    /// Whether `path` is relative, `/`-separated, and every component a plain name: what every
    /// sink asserts before writing, so no bug upstream can write outside the export.
    public static func isSafeRelativePath(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.contains("\\") else { return false }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return false }
        return path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { $0 != "" && $0 != "." && $0 != ".." }
    }
}

/// Names for `attachments/`: each distinct attachment (by SHA-256) gets one file, under its
/// sender's name made safe for every file system the export may be copied to, with " (2)", " (3)"
/// before the extension where two different attachments share a name (compared ignoring case, as
/// Windows and macOS do).
public struct AttachmentNamer: Sendable {
    private var byDigest: [String: String] = [:]
    private var taken = Set<String>()

    public init() {}

    /// The export path of the attachment with this digest and sender's name; the same digest
    /// always gets the same path.
    public mutating func path(sha256: String, name: String?) -> String {
        if let known = byDigest[sha256] { return known }
        let base = Self.portable(name) ?? "attachment-\(sha256.prefix(12))"
        let (stem, ext) = Self.split(base)
        var candidate = base
        var n = 2
        while taken.contains(candidate.lowercased()) {
            candidate = "\(stem) (\(n))\(ext)"
            n += 1
        }
        taken.insert(candidate.lowercased())
        let path = "attachments/" + candidate
        byDigest[sha256] = path
        return path
    }

    /// `name` sanitised (`AttachmentName`), then made portable: characters Windows forbids
    /// become `_`, reserved device names (CON, NUL, COM1, ...) get a leading `_`, trailing dots
    /// and spaces go, and the name is cut to 120 UTF-8 bytes keeping its extension.
    static func portable(_ name: String?) -> String? {
        guard var cleaned = AttachmentName.sanitize(name) else { return nil }
        cleaned = String(cleaned.unicodeScalars.map { scalar -> Character in
            "<>:\"|?*/\\".unicodeScalars.contains(scalar) ? "_" : Character(scalar)
        })
        while let last = cleaned.last, last == "." || last == " " { cleaned.removeLast() }
        guard !cleaned.isEmpty else { return nil }
        let (stem, ext) = split(cleaned)
        let device = stem.uppercased()
        let reserved: Set<String> = ["CON", "PRN", "AUX", "NUL"]
        if reserved.contains(device) || (device.count == 4 && (device.hasPrefix("COM") || device.hasPrefix("LPT"))
                                         && device.last!.isNumber) {
            cleaned = "_" + cleaned
        }
        if cleaned.utf8.count > 120 {
            var shortStem = split(cleaned).stem
            let keep = ext.utf8.count <= 20 ? ext : ""
            while shortStem.utf8.count + keep.utf8.count > 120 { shortStem.removeLast() }
            cleaned = shortStem + keep
        }
        return cleaned
    }

    /// "report.final.pdf" -> ("report.final", ".pdf"); no extension -> (name, "").
    static func split(_ name: String) -> (stem: String, ext: String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        return (String(name[..<dot]), String(name[dot...]))
    }
}
