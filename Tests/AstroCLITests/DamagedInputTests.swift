import Foundation
import Testing
import AstroTestSupport

/// Damaged and lying files, as a new user meets them: every command answers with one line
/// naming the file (and HDU), exits 65, and leaves no output. The cards below are the ones
/// the fuzz harness found crashing or hanging cfitsio 4.2 and wcslib 7 (docs/reliability.md).
@Suite struct DamagedInputTests {
    /// A copy of a testdata file with one header card replaced (and the file optionally cut).
    static func damaged(_ source: String, in dir: URL, _ key: String, _ card: String, cut: Int? = nil) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestSupport.path(source))))
        let pattern = Array(key.padding(toLength: 8, withPad: " ", startingAt: 0).utf8)
        let at = stride(from: 0, to: bytes.count - 80, by: 80).first { Array(bytes[$0..<($0 + 8)]) == pattern }!
        bytes.replaceSubrange(at..<(at + 80), with: Array(card.padding(toLength: 80, withPad: " ", startingAt: 0).utf8))
        if let cut { bytes.removeSubrange(cut...) }
        let path = dir.appendingPathComponent("\(key)-\(UUID().uuidString.prefix(6)).fits").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func expectRefusal(_ arguments: [String], naming path: String, saying reason: String, in dir: URL,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        let r = try TestSupport.runTool(arguments)
        #expect(r.code == 65, "\(arguments): \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("astrotool: error: \(path)"), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(reason), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == before,
                "output left behind", sourceLocation: sourceLocation)
    }

    @Test func headerPromisingMoreThanTheFileHolds() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = try Self.damaged("fits/m13.fits", in: dir, "NAXIS1", "NAXIS1  =            999999999", cut: 25_000)
        let reason = "reading image: header promises 599999999400 bytes, file holds 22120 (truncated?)"
        try expectRefusal(["info", path], naming: path + "[HDU 0]", saying: reason, in: dir)
        try expectRefusal(["preview", path, "-o", dir.appendingPathComponent("p.png").path], naming: path + "[HDU 0]", saying: reason, in: dir)
        try expectRefusal(["simulate", "noise", path, "-o", dir.appendingPathComponent("n.fits").path, "--model", "poisson"],
                          naming: path, saying: "truncated", in: dir)
    }

    @Test func emptyImageNamesTheFile() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = try Self.damaged("fits/m13.fits", in: dir, "NAXIS1", "NAXIS1  =                    0")
        try expectRefusal(["preview", path, "-o", dir.appendingPathComponent("p.png").path], naming: path + "[HDU 0]",
                          saying: "the image is empty (0x300)", in: dir)
        let info = try TestSupport.runTool(["info", path, "--json"])
        #expect(info.code == 0, "an empty image is described, not read: \(info.stderr)")
    }

    @Test func maskOfAnotherShapeNamesTheMask() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let mask = TestSupport.path("fits/bitpix_u8.fits")
        try expectRefusal(["preview", TestSupport.path("fits/m13.fits"), "--mask", mask, "-o", dir.appendingPathComponent("p.png").path],
                          naming: mask, saying: "mask is", in: dir)
    }

    /// Each of these crashed or hung a library before the reader checked it first.
    @Test(arguments: [
        ("fits/m13_gzip.fits", "ZTILE1", "ZTILE1  =                  0.5", "ZTILE1 = 0.5 is not a positive whole tile size"),
        ("fits/m13_rice.fits", "ZVAL1", "ZVAL1   =                    0", "ZVAL1 = 0 is not a positive Rice block size"),
        ("fits/science-mef.fits", "GCOUNT", "GCOUNT  =                  -15", "GCOUNT = -15 is negative"),
        ("fits/m13_hcomp.fits", "TFORM1", "TFORM1  = 'PLIO_1'", "COMPRESSED_DATA column"),
        ("fits/m13_plio.fits", "TFIELDS", "TFIELDS =             14674035", "TFIELDS = 14674035 is not 0 to 999 columns"),
    ])
    func librariesAreGuarded(source: String, key: String, card: String, reason: String) throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = try Self.damaged(source, in: dir, key, card)
        try expectRefusal(["preview", path, "-o", dir.appendingPathComponent("p.png").path], naming: path, saying: reason, in: dir)
    }

    @Test(arguments: [
        ("WCSAXES =           2147483647", "WCSAXES = 2147483647 is not an axis count"),
        ("A_2_0   = ''", "A_2_0 = '' is not a number"),
    ])
    func wcslibIsGuarded(card: String, reason: String) throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        // sip-wcs.fit carries a SIP WCS; its A_ORDER card is where the damage goes.
        let path = try Self.damaged("fits/sip-wcs.fit", in: dir, "A_ORDER", card)
        let r = try TestSupport.runTool(["info", path, "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains(reason), "\(r.stdout)")
    }

    /// wcspih's lexer echoes a WCS card without a value to C stdout; `--json` must stay JSON.
    @Test func jsonStaysCleanWhenACardHasNoValue() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let path = try Self.damaged("fits/sip-wcs.fit", in: dir, "WCSAXES", "LONPOLE =")
        let r = try TestSupport.runTool(["info", path, "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) != nil, "\(r.stdout.debugDescription)")
        #expect(r.stdout.hasPrefix("{") && r.stdout.hasSuffix("}\n"))
    }
}
