import Foundation
import XCTest

/// The release tarball of scripts/package, when one was built (skipped otherwise: building it is
/// a release build of several minutes, not part of every test run). scripts/package runs the same
/// checks itself (scripts/check-package) on every tarball it makes.
final class PackageTests: XCTestCase {
    private var repo: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The newest dist/dossier-*-linux-*.tar.gz.
    private func tarball() throws -> String {
        let dist = repo.appendingPathComponent("dist")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dist.path)) ?? []
        let candidates = names.filter { $0.hasPrefix("dossier-") && $0.contains("-linux-") && $0.hasSuffix(".tar.gz") }
            .map { dist.appendingPathComponent($0).path }
        func modified(_ path: String) -> Date {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
        }
        guard let newest = candidates.max(by: { modified($0) < modified($1) }) else {
            throw XCTSkip("no release tarball in dist/ (scripts/package builds one)")
        }
        return newest
    }

    private func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let scratch = try TemporaryDirectory()
        let out = scratch.sub("out")
        FileManager.default.createFile(atPath: out, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOfFile: out, encoding: .utf8))
    }

    func testTarballBinaryNeedsNoSwiftLibraryAndRunsFromWhereItIsUnpacked() throws {
        let tarball = try tarball()
        let unpacked = try TemporaryDirectory()
        XCTAssertEqual(try run("/bin/tar", ["-C", unpacked.path, "-xzf", tarball]).status, 0)
        let top = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: unpacked.path).first)
        let root = unpacked.sub(top)
        let binary = root + "/bin/dossier"
        XCTAssertTrue(top.hasPrefix("dossier-") && top.contains("-linux-"), top)

        let ldd = try run("/usr/bin/ldd", [binary])
        XCTAssertEqual(ldd.status, 0, ldd.output)
        for library in ["libswift", "libFoundation", "libdispatch", "libBlocksRuntime"] {
            XCTAssertFalse(ldd.output.contains(library), "the binary needs \(library):\n\(ldd.output)")
        }
        XCTAssertFalse(ldd.output.contains("not found"), ldd.output)
        XCTAssertTrue(ldd.output.contains("libc.so"), "glibc stays dynamic:\n\(ldd.output)")

        // No toolchain on the path, no LD_LIBRARY_PATH: as on a server.
        let version = try run(binary, ["--version"], environment: ["PATH": "/usr/bin:/bin"])
        XCTAssertEqual(version.status, 0, version.output)
        XCTAssertNotNil(version.output.range(of: #"^dossier [0-9]+\.[0-9]+\.[0-9]+\S*( \([0-9a-f]{7}(-dirty)?\))?\n$"#, options: .regularExpression),
                        version.output)
        for file in ["share/man/man1/dossier.1.gz", "share/bash-completion/completions/dossier", "share/zsh/site-functions/_dossier",
                     "share/fish/vendor_completions.d/dossier.fish", "lib/systemd/system/dossier-drop.service",
                     "lib/systemd/system/dossier-drop.timer"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: root + "/" + file))?[.size] as? Int ?? 0
            XCTAssertGreaterThan(size, 0, file)
        }
        // The unpacked binary works on real input, not only --version.
        let check = try run(binary, ["check", repo.appendingPathComponent("samples/mail").path, "--json"])
        XCTAssertEqual(check.status, 0, check.output)
    }

    /// The unit files hold what the service relies on (whether or not a tarball was built).
    func testSystemdUnitsAreHardenedAndNightly() throws {
        let service = try String(contentsOf: repo.appendingPathComponent("docs/systemd/dossier-drop.service"), encoding: .utf8)
        for line in ["Type=oneshot", "User=dossier", "ExecStart=/usr/local/bin/dossier import --drop /srv/mail-drop --archive /srv/dossier",
                     "ProtectSystem=strict", "ReadWritePaths=/srv/dossier /srv/mail-drop", "NoNewPrivileges=true", "PrivateTmp=true"] {
            XCTAssertTrue(service.split(separator: "\n").contains { $0 == line }, "\(line) in dossier-drop.service")
        }
        let timer = try String(contentsOf: repo.appendingPathComponent("docs/systemd/dossier-drop.timer"), encoding: .utf8)
        for line in ["Persistent=true", "Unit=dossier-drop.service", "WantedBy=timers.target"] {
            XCTAssertTrue(timer.split(separator: "\n").contains { $0 == line }, "\(line) in dossier-drop.timer")
        }
        XCTAssertTrue(timer.contains("OnCalendar=*-*-* 02:30:00"))
    }

    /// scripts/demo replaces only what it made: a non-empty directory without its marker is refused
    /// before anything is built or removed.
    func testDemoRefusesToReplaceADirectoryItDidNotMake() throws {
        let dir = try TemporaryDirectory()
        try dir.write("precious/thesis.tex", "do not delete\n")
        let outcome = try run("/bin/bash", [repo.appendingPathComponent("scripts/demo").path, dir.sub("precious")])
        XCTAssertEqual(outcome.status, 2, outcome.output)
        XCTAssertTrue(outcome.output.contains("refusing to replace it"), outcome.output)
        XCTAssertEqual(try String(contentsOfFile: dir.sub("precious/thesis.tex"), encoding: .utf8), "do not delete\n")
        try dir.write("a-file", "x\n")
        XCTAssertEqual(try run("/bin/bash", [repo.appendingPathComponent("scripts/demo").path, dir.sub("a-file")]).status, 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.sub("a-file")))
    }
}
