import Foundation
import Testing
import AstroFuzz
import AstroTestSupport

/// `make test`'s short seeded fuzz round: the campaign `make fuzz` runs, with fewer cases.
/// Workers are the `astrotool-fuzz` built beside the tests, so a crash is a finding, not a
/// crashed test run.
@Suite struct FuzzRoundTests {
    static let folder = URL(fileURLWithPath: TestSupport.toolPath).deletingLastPathComponent()

    @Test func seededRoundFindsNothing() throws {
        let out = TestSupport.scratch("astrotool-fuzz"); defer { TestSupport.cleanup(out) }
        var settings = FuzzCampaign.Settings(worker: Self.folder.appendingPathComponent("astrotool-fuzz").path,
                                             tool: TestSupport.toolPath)
        settings.count = Int(ProcessInfo.processInfo.environment["FUZZ_CASES"] ?? "") ?? 2000
        settings.testdata = TestSupport.testdata.path
        settings.out = out.path
        settings.rssEvery = 250
        let report = try FuzzCampaign(settings).run()
        #expect(report.cases == settings.count)
        #expect(report.findings == 0, "\(report)")
        #expect(report.rejected > settings.count / 4 && report.accepted > settings.count / 10, "\(report)")
        #expect(report.rssChecked >= settings.count / 250)
    }

    @Test func casesAreReproducible() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let cases = try FuzzCases(testdata: TestSupport.testdata.path, seed: 7)
        let a = dir.appendingPathComponent("a.fits").path, b = dir.appendingPathComponent("b.fits").path
        try cases.write(123, to: a)
        try cases.write(123, to: b)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
    }
}
