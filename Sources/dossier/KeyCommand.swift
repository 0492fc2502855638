import ArgumentParser
import DossierCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Signing keys for exports.",
        subcommands: [KeyGenerate.self]
    )
}

struct KeyGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Writes a new Ed25519 key pair as PEM: PATH (private, mode 0600) and PATH.pub.",
        discussion: """
            Sign an export with `dossier export ... --sign PATH`; anyone checks it with PATH.pub, \
            with `dossier verify EXPORT --key PATH.pub` or with OpenSSL alone: \
            openssl pkeyutl -verify -pubin -inkey PATH.pub -rawin -in manifest.json -sigfile manifest.json.sig
            """
    )

    @Argument(help: "Where to write the private key; the public key goes to PATH.pub.")
    var path: String

    func run() throws {
        let (privatePEM, publicPEM) = ExportSigning.generate()
        for (file, text, mode) in [(path, privatePEM, mode_t(0o600)), (path + ".pub", publicPEM, mode_t(0o644))] {
            let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            guard fd >= 0 else { fail("\(file): \(String(cString: strerror(errno))) (an existing key is never overwritten)", Exit.badInput) }
            let bytes = Array(text.utf8)
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard written == bytes.count else { fail("\(file): could not write the key", Exit.failed) }
        }
        writeOut("Wrote \(path) (private, keep it safe) and \(path).pub (public, give it to whoever checks exports)\n")
    }
}
