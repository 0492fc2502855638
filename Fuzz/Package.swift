// swift-tools-version:6.0
// The fuzz targets: a package of its own so that the project's `swift build` and `swift test`
// never see them. Built only by scripts/fuzz, with libFuzzer and AddressSanitizer
// (-sanitize=fuzzer,address, -parse-as-library, -enable-testing for `@testable import`).
import PackageDescription

let package = Package(
    name: "DossierFuzz",
    dependencies: [
        .package(name: "Dossier", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "dossier-fuzz",
            dependencies: [.product(name: "DossierCore", package: "Dossier")]
        ),
    ]
)
