import Foundation
import Testing
import AstroCLI
import AstroFITS
import AstroTestSupport

/// `astrotool --version`: `astrotool X.Y.Z` alone on the first line (scripts read it), then the
/// commit it was built from and the versions of the C libraries it runs on.
@Suite struct VersionTests {
    @Test func versionLines() throws {
        let r = try TestSupport.runTool(["--version"])
        #expect(r.code == 0 && r.stderr.isEmpty)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try #require(lines.count == 5 && lines[4].isEmpty, "\(r.stdout)")
        #expect(lines[0] == "astrotool \(AstroTool.version)")
        #expect(lines[0].wholeMatch(of: #/astrotool \d+\.\d+\.\d+/#) != nil)
        // 12 hex digits (-dirty when built from a modified tree), or unknown outside git.
        #expect(lines[1].wholeMatch(of: #/commit ([0-9a-f]{12}(-dirty)?|unknown)/#) != nil, "\(lines[1])")
        #expect(lines[2] == "cfitsio \(cfitsioVersion())")
        #expect(lines[2].wholeMatch(of: #/cfitsio \d+\.\d+(\.\d+)?/#) != nil, "\(lines[2])")
        #expect(lines[3].wholeMatch(of: #/wcslib \d+\.\d+(\.\d+)?/#) != nil, "\(lines[3])")
    }

    /// The run-time cfitsio is the one the tests link: 4.x reports major.minor.micro.
    @Test func cfitsioVersionIsDecoded() {
        let parts = cfitsioVersion().split(separator: ".").compactMap { Int($0) }
        #expect(parts.count >= 2 && parts[0] >= 3)
        if parts[0] >= 4 { #expect(parts.count == 3 && parts[1] < 100 && parts[2] < 100) }
    }
}
