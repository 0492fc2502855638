import Foundation
@testable import DossierCore

/// Seeds for the field-level targets, taken from real messages: every Subject-like, address,
/// Date, Content-Type/Disposition value and encoded body of the given files, one file each.
enum SeedExtractor {
    static func run(_ arguments: [String]) -> CInt {
        guard let out = arguments.first else { return 2 }
        var written = 0
        let targets = ["header", "address", "date", "params", "transfer"]
        for target in targets {
            try? FileManager.default.createDirectory(atPath: "\(out)/\(target)", withIntermediateDirectories: true)
        }
        var seen = Set<[UInt8]>()
        func write(_ target: String, _ bytes: [UInt8]) {
            guard !bytes.isEmpty, bytes.count < 64 * 1024, seen.insert([UInt8](target.utf8) + [0] + bytes).inserted else { return }
            written += 1
            FileManager.default.createFile(atPath: "\(out)/\(target)/\(written)", contents: Data(bytes))
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let bytes = Array(data)
            var stack = [MIMEParser.parse(bytes)]
            while let entity = stack.popLast() {
                for field in entity.headers.fields {
                    switch field.name.lowercased() {
                    case "from", "to", "cc", "bcc", "reply-to", "sender": write("address", field.rawValue)
                    case "date", "received": write("date", field.rawValue)
                    case "content-type", "content-disposition": write("params", field.rawValue)
                    default: write("header", field.rawValue)
                    }
                }
                if ["base64", "quoted-printable"].contains(entity.transferEncoding) {
                    write("transfer", Array(bytes[entity.bodyRange.clamped(to: 0..<bytes.count)].prefix(4096)))
                }
                stack += entity.children
                stack += entity.embedded
            }
        }
        print("seeds: \(written) written to \(out)")
        return 0
    }
}
