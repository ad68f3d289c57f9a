@testable import AstroAlign
import AstroFITS
import AstroImage
import AstroTestSupport
import AstroWCS
import Foundation
import Testing

/// Resampling, NaN holes, and the file-level runs (warp and --update-wcs).
@Suite struct WarpTests {
    static func smooth(_ w: Int, _ h: Int) -> [Float] {
        (0..<(w * h)).map { k in
            let x = Double(k % w), y = Double(k / w)
            return Float(100 + 20 * sin(x / 7) * cos(y / 9))
        }
    }

    @Test(arguments: Interpolation.allCases)
    func integerShiftIsExactAndFractionalIsClose(_ interp: Interpolation) {
        let w = 64, h = 48
        let image = Image(width: w, height: h, pixels: Self.smooth(w, h))
        let fill = [Float](repeating: 100, count: w * h)
        let shift = AffineMap(a: 1, b: 0, c: 3, d: 0, e: 1, f: -2)
        let r = Warp.warp(image, fillPlane: fill, pull: shift, width: w, height: h, interpolation: interp, fill: .nan, conserveFlux: false)
        #expect(abs(r.pixels[10 * w + 10] - image[13, 8]) < 1e-3)
        #expect(r.pixels[0].isNaN && r.mask[0] == 32)
        #expect(r.noData == 2 * w + 3 * h - 6)
        // Half a pixel: the smooth pattern is reproduced to a small error by every kernel but nearest.
        let half = AffineMap(a: 1, b: 0, c: 0.5, d: 0, e: 1, f: 0.25)
        let q = Warp.warp(image, fillPlane: fill, pull: half, width: w, height: h, interpolation: interp, fill: .nan, conserveFlux: false)
        var worst: Float = 0
        for y in 8..<40 {
            for x in 8..<56 {
                let truth = Float(100 + 20 * sin((Double(x) + 0.5) / 7) * cos((Double(y) + 0.25) / 9))
                worst = max(worst, abs(q.pixels[y * w + x] - truth))
            }
        }
        let tolerance: Float = switch interp {
        case .nearest: 3
        case .bilinear: 0.3
        case .lanczos3: 0.1
        case .spline3: 0.02
        }
        #expect(worst < tolerance, "\(interp): worst \(worst)")
    }

    /// Bands (as `align` streams them to disk) give the whole image's pixels, bits and counts,
    /// across band boundaries, with a hole and a region outside the source.
    @Test func bandsMakeTheWholeImage() {
        let w = 70, h = 95
        var image = Image(width: w, height: h, pixels: Self.smooth(w, h))
        for y in 30..<33 { for x in 20..<22 { image[x, y] = .nan } }
        let pull = AffineMap.similarity(scale: 1.01, rotation: 0.05, shiftX: 4.3, shiftY: -2.6)
        let fill = [Float](repeating: 100, count: w * h)
        let whole = Warp.warp(image, fillPlane: fill, pull: pull, width: w, height: h, interpolation: .spline3, fill: .nan, conserveFlux: false)
        var pixels: [Float] = [], mask: [UInt8] = [], starts: [Int] = []
        let counts = Warp.warp(image, fillPlane: fill, pull: pull, width: w, height: h, interpolation: .spline3, fill: .nan,
                               conserveFlux: false, bandRows: 32) { rows, p, m in
            starts.append(rows.lowerBound); pixels += p; mask += m
        }
        #expect(starts == [0, 32, 64])
        #expect(zip(pixels, whole.pixels).allSatisfy { $0.bitPattern == $1.bitPattern })
        #expect(mask == whole.mask)
        #expect(counts.noData == whole.noData && counts.holes == whole.holes && whole.holes > 0 && whole.noData > 0)
    }

    @Test func nanHoleStaysLocal() {
        let w = 80, h = 80
        var image = Image(width: w, height: h, pixels: Self.smooth(w, h))
        for y in 40..<43 { for x in 30..<33 { image[x, y] = .nan } }
        let pull = AffineMap.similarity(scale: 1, rotation: 0, shiftX: 0.3, shiftY: 0.6)
        for interp in Interpolation.allCases {
            let r = Warp.warp(image, fillPlane: [Float](repeating: 100, count: w * h), pull: pull, width: w, height: h,
                              interpolation: interp, fill: 0, conserveFlux: false)
            let nan = r.pixels.filter(\.isNaN).count
            #expect(nan == 16 && r.holes == 16, "\(interp): \(nan) NaN pixels")
            #expect(r.mask.filter { $0 == 64 }.count == 16)
        }
    }

    /// A template and a source on disk with TAN WCSs; the source's WCS is off by the truth.
    static func files(in dir: URL, rotation: Double = 3.5, sourceNaN: Bool = false) throws -> (template: String, source: String, truth: AffineMap) {
        let truth = RegistrationTests.truth(rotation: rotation)
        let n = RegistrationTests.size
        let pair = SyntheticStars.pair(width: n, height: n, stars: 150, seed: 11) { x, y in
            let p = truth.apply(x, y); return (p.x, p.y)
        }
        let twcs = try WCS.tan(ra: 150, dec: 2, pixelScale: 0.5, width: n, height: n)
        var th = twcs.header
        th.set("OBJECT", "field")
        let template = dir.appendingPathComponent("template.fits").path
        try FITSWriter.write([OutputHDU(Image(width: n, height: n, pixels: pair.template, header: th))], to: template, overwrite: false)
        var sh = try WCS.tan(ra: 150.001, dec: 2.001, pixelScale: 0.5, rotation: 1, width: n, height: n).header
        sh.set("OBJECT", "source")
        var pixels = pair.source
        if sourceNaN { for y in 200..<203 { for x in 150..<153 { pixels[y * n + x] = .nan } } }
        let source = dir.appendingPathComponent("source.fits").path
        let err = Image(width: n, height: n, value: 2)
        let mask = [Int32](repeating: 0, count: n * n)
        try FITSWriter.write([OutputHDU(Image(width: n, height: n, pixels: pixels, header: sh)),
                              OutputHDU(err, extname: "ERR"),
                              OutputHDU(integers: mask, width: n, height: n, extname: "MASK", storage: .uint8)],
                             to: source, overwrite: false)
        return (template, source, truth)
    }

    @Test func warpOntoTemplateGrid() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (template, source, truth) = try Self.files(in: dir, sourceNaN: true)
        let output = dir.appendingPathComponent("out.fits").path
        var o = AlignOptions()
        o.transformFile = dir.appendingPathComponent("t.json").path
        let r = try Align.run(source: source, template: .image(template), sourceCatalogue: nil, output: output, options: o, overwrite: false)
        let rms = RegistrationTests.rmsVsTruth(r.transform.pull, truth)
        print("align warp (file): rms vs truth \(rms) px, \(r.transform.used) matches, \(r.holePixels ?? -1) hole pixels, \(r.noDataPixels ?? -1) no-data pixels")
        #expect(rms <= 0.05)
        // A 3x3 hole under a rotated grid: the output pixels whose bilinear support touches it.
        #expect((9...25).contains(r.holePixels ?? 0))
        let out = try FITS.readImage(output)
        let t = try FITS.readImage(template)
        #expect(out.width == t.width && out.height == t.height)
        #expect(out.header.string("OBJECT") == "source")
        #expect(abs(out.header.double("CRVAL1")! - 150) < 1e-12 && abs(out.header.double("CRPIX1")! - t.header.double("CRPIX1")!) < 1e-12)
        #expect(out.header.history.contains { $0.contains("astrotool align") })
        #expect(out.header.int("ALIGNNST") == r.transform.used)
        let mask = try FITS.readImage(output + "[MASK]")
        #expect(mask.pixels.filter { $0 == 64 }.count == r.holePixels)
        #expect(mask.pixels.filter { $0 == 32 }.count == r.noDataPixels)
        // Stars land where the template has them: bright template detections vs the aligned image's.
        let aligned = try Detector.detect(out), reference = try Detector.detect(t)
        let index = PointIndex(xs: aligned.map(\.x), ys: aligned.map(\.y), cell: 1)
        let offsets = reference.filter { $0.snr > 200 }.compactMap { index.nearestTwo($0.x, $0.y, radius: 1)?.d1 }
        let imageRMS = (offsets.map { $0 * $0 }.reduce(0, +) / Double(offsets.count)).squareRoot()
        print("align warp (file): bright stars on the aligned image vs template, rms \(imageRMS) px over \(offsets.count)")
        #expect(offsets.count > 10 && imageRMS < 0.08)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: o.transformFile!))) as! [String: Any]
        #expect((json["transform"] as! [String: Any])["model"] as? String == r.transform.model)
    }

    @Test func updateWCSTiesTheSourceToTheTemplateSky() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (template, source, truth) = try Self.files(in: dir, rotation: 93)
        let output = dir.appendingPathComponent("reg.fits").path
        var o = AlignOptions()
        o.updateWCS = true
        let r = try Align.run(source: source, template: .image(template), sourceCatalogue: nil, output: output, options: o, overwrite: false)
        #expect(r.mode == "update-wcs")
        let twcs = try WCS.read(path: template), swcs = try WCS.read(path: output)
        let push = truth.inverse!
        var worst = 0.0
        for (x, y) in [(50.0, 60.0), (200, 200), (350, 120), (100, 330)] {
            let t = push.apply(x, y)
            let a = swcs.pixelToWorld(x: x, y: y)!, b = twcs.pixelToWorld(x: t.x, y: t.y)!
            let dra: Double = (a.ra - b.ra) * cos(2 * Double.pi / 180), ddec: Double = a.dec - b.dec
            let sep: Double = (dra * dra + ddec * ddec).squareRoot() * 3600 / 0.5
            worst = max(worst, sep)
        }
        print("align --update-wcs: worst sky error \(worst) template px at 4 source pixels")
        #expect(worst < 0.05)
        // Pixels and the other planes untouched.
        let before = try FITS.readImage(source), after = try FITS.readImage(output)
        #expect(before.pixels == after.pixels)
        #expect(try FITS.listHDUs(output).map(\.extname) == [nil, "ERR", "MASK"])
        #expect(try FITS.readImage(output + "[ERR]").pixels == FITS.readImage(source + "[ERR]").pixels)
        #expect(after.header.string("OBJECT") == "source" && after.header.history.contains { $0.contains("WCS tied") })
    }

    @Test func wcsKeywordsAreRecognised() {
        for k in ["CTYPE1", "CRPIX2", "CD1_2", "PC2_1", "PV2_10", "A_ORDER", "BP_0_3", "CRVAL1A", "WCSAXES", "RADESYS", "EQUINOX", "LONPOLE", "CDELT2", "DP1", "WCSNAMEB"] {
            #expect(AlignWCS.isWCSKeyword(k), "\(k)")
        }
        for k in ["OBJECT", "EXPTIME", "A_IMAGE", "DATE-OBS", "CCDSUM", "PCOUNT", "GAIN", "DATASEC"] {
            #expect(!AlignWCS.isWCSKeyword(k), "\(k)")
        }
    }
}

extension Warp {
    struct Result {
        var pixels: [Float]
        var mask: [UInt8]
        var noData: Int
        var holes: Int
    }

    /// The whole output as one band, for the tests.
    static func warp(_ source: Image, fillPlane: [Float], pull: some PixelMap, width ow: Int, height oh: Int,
                     interpolation: Interpolation, fill: Float, conserveFlux: Bool) -> Result {
        var result = Result(pixels: [], mask: [], noData: 0, holes: 0)
        (result.noData, result.holes) = warp(source, fillPlane: fillPlane, pull: pull, width: ow, height: oh, interpolation: interpolation,
                                             fill: fill, conserveFlux: conserveFlux, bandRows: oh) { _, pixels, mask in
            result.pixels = pixels
            result.mask = mask
        }
        return result
    }
}
