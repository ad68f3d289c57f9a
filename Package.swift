// swift-tools-version: 6.0
import PackageDescription

// astrotool: one executable for CCD reduction, sky matching, registration and drizzling.
// Dependency direction: AstroImage (pure Swift core) <- AstroFITS, AstroWCS, AstroDisplay <- engines <- AstroCLI <- astrotool.
// C libraries are imported `internal`ly only, so no cfitsio/wcslib/libpng/zlib type leaks into a public API.
let package = Package(
    name: "astrotool",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "astrotool", targets: ["astrotool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
        // MARK: - C system libraries (module map + static inline shims only)
        .systemLibrary(name: "CFITSIO", providers: [.apt(["libcfitsio-dev"])]),
        .systemLibrary(name: "CWCSLIB", pkgConfig: "wcslib", providers: [.apt(["wcslib-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZLIB", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: - Domain libraries
        .target(name: "AstroImage"),
        // cfitsio linked from its static archive: the shared library pulls in libcurl and ~25 more
        // libraries (gnutls, krb5, ldap...) whose loading cost every process ~6 ms. Its only curl
        // use, https:// and ftps:// names, astrotool refuses with a message (download first), so
        // CurlAbsent.swift stands in for those six functions.
        .target(name: "AstroFITS", dependencies: ["AstroImage", "CFITSIO", "CZLIB"],
                linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libcfitsio.a"], .when(platforms: [.linux])),
                                 .linkedLibrary("bz2", .when(platforms: [.linux])),
                                 .linkedLibrary("cfitsio", .when(platforms: [.macOS]))]),
        .target(name: "AstroWCS", dependencies: ["AstroImage", "AstroFITS", "CWCSLIB"]),
        .target(name: "AstroDisplay", dependencies: ["AstroImage", "CPNG"]),
        .target(name: "AstroSim", dependencies: ["AstroImage", "AstroFITS", "AstroWCS"]),
        .target(name: "AstroCCD", dependencies: ["AstroImage", "AstroFITS"]),
        .target(name: "AstroDrizzle", dependencies: ["AstroImage", "AstroFITS", "AstroWCS"]),
        .target(name: "AstroSky", dependencies: ["AstroImage", "AstroFITS", "AstroWCS"]),
        .target(name: "AstroAlign", dependencies: ["AstroImage", "AstroFITS", "AstroWCS"]),

        // MARK: - Command line
        .target(name: "AstroCLI", dependencies: [
            "AstroImage", "AstroFITS", "AstroWCS", "AstroDisplay", "AstroSim", "AstroCCD", "AstroDrizzle", "AstroSky", "AstroAlign",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "astrotool", dependencies: ["AstroCLI"]),

        // MARK: - Reliability: the reader's fuzz harness (make fuzz)
        .target(name: "AstroFuzz", dependencies: [
            "AstroImage", "AstroFITS", "AstroWCS", "AstroDisplay", "AstroSim",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "astrotool-fuzz", dependencies: ["AstroFuzz"]),

        // MARK: - Tests
        .target(name: "AstroTestSupport", dependencies: ["AstroImage"], path: "Tests/AstroTestSupport"),
        .testTarget(name: "AstroImageTests", dependencies: ["AstroImage", "AstroTestSupport"]),
        .testTarget(name: "AstroFITSTests", dependencies: ["AstroFITS", "AstroTestSupport"]),
        .testTarget(name: "AstroWCSTests", dependencies: ["AstroWCS", "AstroFITS", "AstroTestSupport"]),
        .testTarget(name: "AstroDisplayTests", dependencies: ["AstroDisplay", "AstroTestSupport"]),
        .testTarget(name: "AstroSimTests", dependencies: ["AstroSim", "AstroFITS", "AstroWCS", "AstroTestSupport"]),
        .testTarget(name: "AstroCCDTests", dependencies: ["AstroCCD", "AstroFITS", "AstroTestSupport"]),
        .testTarget(name: "AstroDrizzleTests", dependencies: ["AstroDrizzle", "AstroWCS", "AstroFITS", "AstroTestSupport"]),
        .testTarget(name: "AstroSkyTests", dependencies: ["AstroSky", "AstroWCS", "AstroFITS", "AstroTestSupport"]),
        .testTarget(name: "AstroAlignTests", dependencies: ["AstroAlign", "AstroWCS", "AstroFITS", "AstroTestSupport"]),
        .testTarget(name: "AstroCLITests", dependencies: ["AstroCLI", "AstroFITS", "AstroTestSupport"]),
        .testTarget(name: "AstroFuzzTests", dependencies: ["AstroFuzz", "AstroTestSupport"]),
    ]
)
