import Foundation
import Testing
import AstroFITS
import AstroImage
import AstroTestSupport

/// `astrotool simulate score` through the binary, on a night's own truth: scene.fits (the
/// noiseless stars and galaxy on the reference grid, ADU per exposure) turned into e⁻/s is
/// what a perfect chain would make, so it must score as one.
@Suite(.serialized) struct SimulateScoreCommandTests {
    @Test func theTruthSceneScoresAsAPerfectMosaic() throws {
        let dir = TestSupport.scratch("astrotool-score"); defer { TestSupport.cleanup(dir) }
        let night = dir.appendingPathComponent("night").path
        let sim = try TestSupport.runTool(["simulate", "night", "--outdir", night, "--shape", "160", "160", "--overscan", "16",
                                           "--nbias", "1", "--ndark", "1", "--nflat", "1", "--nsci", "2", "--stars", "80",
                                           "--galaxy", "-q"])
        #expect(sim.code == 0, "\(sim.stderr)")
        let scene = try FITS.readImage(night + "/truth/scene.fits")
        let rate = Float(scene.header.double("GAIN")! / scene.header.double("EXPTIME")!)
        var header = scene.header
        header.set("BUNIT", "electron/s")
        let mosaic = dir.appendingPathComponent("mosaic.fits").path
        try FITSWriter.write([OutputHDU(Image(width: scene.width, height: scene.height, pixels: scene.pixels.map { $0 * rate }, header: header)),
                              OutputHDU(Image(width: scene.width, height: scene.height, value: 1), extname: "WHT")],
                             to: mosaic, overwrite: true)

        let png = dir.appendingPathComponent("score.png").path
        let run = try TestSupport.runTool(["simulate", "score", mosaic, "--truth", night + "/truth", "--json", "--plot", png,
                                           "--max-noise", "1"])
        #expect(run.code == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let photometry = try #require(json["photometry"] as? [String: Any])
        let astrometry = try #require(json["astrometry"] as? [String: Any])
        let background = try #require(json["background"] as? [String: Any])
        let stars = try #require(photometry["stars"] as? Int)
        #expect(stars >= 3, "\(photometry)")
        #expect(abs((photometry["medianRatio"] as? Double ?? 0) - 1) < 2e-3, "\(photometry)")
        #expect((astrometry["rmsPixels"] as? Double ?? 1) < 0.01, "\(astrometry)")
        #expect(abs(background["bias"] as? Double ?? 1) < 1e-3, "\(background)")
        #expect(json["cosmicRays"] == nil)   // no ERR
        #expect((json["stars"] as? [Any])?.count == stars)
        let head = try Data(contentsOf: URL(fileURLWithPath: png)).prefix(8)
        #expect(head == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))

        // The text report: one line per quantity; an existing plot is kept without --overwrite.
        let text = try TestSupport.runTool(["simulate", "score", mosaic, "--truth", night + "/truth", "--max-noise", "1"])
        #expect(text.code == 0 && text.stdout.contains("flux ratio, median: ") && text.stdout.contains(" e-/s "), "\(text.stdout)")
        let again = try TestSupport.runTool(["simulate", "score", mosaic, "--truth", night + "/truth", "--plot", png])
        #expect(again.code == 73, "\(again.stderr)")
    }

    @Test func refusalsHaveTheirExitCodes() throws {
        let dir = TestSupport.scratch("astrotool-score-bad"); defer { TestSupport.cleanup(dir) }
        let missing = try TestSupport.runTool(["simulate", "score", dir.path + "/none.fits", "--truth", dir.path])
        #expect(missing.code == 66 && missing.stderr.contains("scene.fits"), "\(missing.stderr)")
        let usage = try TestSupport.runTool(["simulate", "score", "m.fits", "--truth", dir.path, "--scale", "-2"])
        #expect(usage.code == 64, "\(usage.stderr)")
    }
}
