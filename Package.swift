// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Dossier",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "DossierCore", targets: ["DossierCore"]),
        .executable(name: "dossier", targets: ["dossier"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"4.0.0"),
        // rules.yaml of the CRM directory; its composed nodes carry line/column marks for errors.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Reading export zips in `dossier verify` (streamed entry by entry).
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // zlib from the system (zlib1g-dev). Not named CZlib: ZIPFoundation owns that module name.
        .systemLibrary(
            name: "CDossierZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // libdeflate from the system (libdeflate-dev): compresses stored originals.
        .systemLibrary(
            name: "CDossierDeflate",
            pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]
        ),
        // Linux system calls glibc only declares under _GNU_SOURCE (syncfs).
        .systemLibrary(name: "CDossierSystem"),
        // The library: one folder per pipeline stage (Readers -> MIME -> Classify -> Store -> Search/Report),
        // driven by Import. The CLI is a thin shell over it.
        .target(
            name: "DossierCore",
            dependencies: [
                "CDossierZlib",
                "CDossierSystem",
                "CDossierDeflate",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the import writer's direct binding (Store/DirectBinding.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .executableTarget(
            name: "dossier",
            dependencies: [
                "DossierCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "DossierCoreTests",
            dependencies: ["DossierCore", .product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
    ]
)
