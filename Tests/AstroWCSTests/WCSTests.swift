import Foundation
import Synchronization
import Testing
import AstroImage
import AstroTestSupport
import AstroWCS

/// Fixtures and astropy 8.0.2 reference values: testdata/wcs/ (see its README.md);
/// regenerate expected.json with scripts/fixtures/wcs.py.
enum Fixture {
    static func header(_ name: String) throws -> Header {
        Header(cardImages: try String(contentsOfFile: TestSupport.path("wcs/\(name)"), encoding: .ascii))
    }

    static func wcs(_ name: String) throws -> WCS {
        try WCS(header: header(name), file: "testdata/wcs/\(name)")
    }

    /// One header's entry in expected.json (null = NaN). Decoded with JSONDecoder, which parses
    /// doubles exactly; Foundation's JSONSerialization on Linux can be 1 ulp off.
    struct Expected: Decodable {
        var kind: String
        var width: Int, height: Int
        var ctype: [String]
        var hasDistortion: Bool
        var crpix0: [Double], crval: [Double]
        var x: [Double], y: [Double]
        var ra: [Double], dec: [Double], backX: [Double], backY: [Double]
        var projPlanePixelArea: Double
        var centre: [Double]
        var centreAreaFd: Double
        var crpixAreaFd: Double

        private enum CodingKeys: String, CodingKey {
            case kind, width, height, ctype, hasDistortion = "has_distortion", crpix0, crval, x, y, ra, dec
            case backX = "back_x", backY = "back_y", projPlanePixelArea = "proj_plane_pixel_area", centre
            case centreAreaFd = "centre_area_fd", crpixAreaFd = "crpix_area_fd"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func nan(_ k: CodingKeys) throws -> [Double] { try c.decode([Double?].self, forKey: k).map { $0 ?? .nan } }
            kind = try c.decode(String.self, forKey: .kind)
            width = try c.decode(Int.self, forKey: .width)
            height = try c.decode(Int.self, forKey: .height)
            ctype = try c.decode([String].self, forKey: .ctype)
            hasDistortion = try c.decode(Bool.self, forKey: .hasDistortion)
            crpix0 = try nan(.crpix0); crval = try nan(.crval)
            x = try nan(.x); y = try nan(.y); ra = try nan(.ra); dec = try nan(.dec)
            backX = try nan(.backX); backY = try nan(.backY)
            projPlanePixelArea = try c.decode(Double.self, forKey: .projPlanePixelArea)
            centre = try nan(.centre)
            centreAreaFd = try c.decodeIfPresent(Double.self, forKey: .centreAreaFd) ?? .nan
            crpixAreaFd = try c.decodeIfPresent(Double.self, forKey: .crpixAreaFd) ?? .nan
        }
    }

    private struct File: Decodable { var headers: [String: Expected] }

    static func expected(_ name: String) throws -> Expected {
        let data = try Data(contentsOf: TestSupport.testdata.appendingPathComponent("wcs/expected.json"))
        return try #require(try JSONDecoder().decode(File.self, from: data).headers[name])
    }

    /// Every header with a well-defined mapping over its whole grid.
    static let mapped = [
        "j8bt06nyq_sci1.hdr", "m13.hdr", "nrcb5_output_wcs_psr_1p0.hdr",
        "irac_sip.hdr", "siponly.hdr", "nrcb5_sip_wcs.hdr", "sip-broken.hdr", "tpvonly.hdr",
    ]
    static let all = mapped + ["zpn-hole.hdr"]
}

/// |Δ| in degrees, RA wrapped to ±180.
func angleDiff(_ a: Double, _ b: Double) -> Double {
    var d = (a - b).truncatingRemainder(dividingBy: 360)
    if d > 180 { d -= 360 }
    if d < -180 { d += 360 }
    return abs(d)
}

@Suite struct AstropyAgreementTests {
    @Test(arguments: Fixture.mapped)
    func pixelToWorldMatchesAstropy(name: String) throws {
        let w = try Fixture.wcs(name)
        let e = try Fixture.expected(name)
        let world = w.pixelToWorld(x: e.x, y: e.y)
        var maxRA = 0.0, maxDec = 0.0
        for i in e.x.indices {
            maxRA = max(maxRA, angleDiff(world.ra[i], e.ra[i]))
            maxDec = max(maxDec, abs(world.dec[i] - e.dec[i]))
        }
        // World -> pixel from astropy's world positions back to the grid.
        let pix = w.worldToPixel(ra: e.ra, dec: e.dec)
        var maxPix = 0.0, maxVsAstropy = 0.0
        for i in e.x.indices {
            maxPix = max(maxPix, abs(pix.x[i] - e.x[i]), abs(pix.y[i] - e.y[i]))
            maxVsAstropy = max(maxVsAstropy, abs(pix.x[i] - e.backX[i]), abs(pix.y[i] - e.backY[i]))
        }
        #expect(maxVsAstropy <= 1e-6)
        #expect(maxRA <= 1e-9)
        #expect(maxDec <= 1e-9)
        #expect(maxPix <= 1e-6)
        #expect(!world.ra.contains { $0.isNaN } && !pix.x.contains { $0.isNaN })
    }

    @Test(arguments: Fixture.all)
    func propertiesMatchHeader(name: String) throws {
        let w = try Fixture.wcs(name)
        let e = try Fixture.expected(name)
        #expect(w.ctype == e.ctype)
        #expect(w.hasDistortion == e.hasDistortion)
        #expect(abs(w.referencePixel.x - e.crpix0[0]) < 1e-12 && abs(w.referencePixel.y - e.crpix0[1]) < 1e-12)
        #expect(w.referenceWorld.ra == e.crval[0] && w.referenceWorld.dec == e.crval[1])
    }

    @Test func ctypeAsWritten() throws {
        #expect(try Fixture.wcs("irac_sip.hdr").ctype == ["RA---TAN-SIP", "DEC--TAN-SIP"])
        #expect(try Fixture.wcs("m13.hdr").ctype == ["RA---TAN", "DEC--TAN"])
        // wcslib turns TPV into TAN plus a sequent distortion, as astropy reports too.
        let tpv = try Fixture.wcs("tpvonly.hdr")
        #expect(tpv.ctype == ["RA---TAN", "DEC--TAN"])
        #expect(tpv.hasDistortion)
        #expect(try !Fixture.wcs("j8bt06nyq_sci1.hdr").hasDistortion)
    }

    @Test(arguments: Fixture.mapped)
    func pixelAreaAgreesWithAstropy(name: String) throws {
        let w = try Fixture.wcs(name)
        let e = try Fixture.expected(name)
        // astropy's finite differences of all_pix2world (±0.5 px) at CRPIX and at the centre.
        let atRef = w.pixelArea(x: w.referencePixel.x, y: w.referencePixel.y)
        #expect(TestSupport.close(atRef, e.crpixAreaFd, rel: 1e-6), "\(atRef) vs \(e.crpixAreaFd)")
        let atCentre = w.pixelArea(x: e.centre[0], y: e.centre[1])
        #expect(TestSupport.close(atCentre, e.centreAreaFd, rel: 1e-6), "\(atCentre) vs \(e.centreAreaFd)")
        // Without distortion, the area at the tangent point is astropy's |det CD| (linear part).
        if !w.hasDistortion {
            #expect(TestSupport.close(atRef, e.projPlanePixelArea, rel: 1e-9), "\(atRef) vs \(e.projPlanePixelArea)")
        }
        #expect(abs(w.pixelScale(x: e.centre[0], y: e.centre[1]) - atCentre.squareRoot()) < 1e-15)
    }
}

@Suite struct FailureTests {
    @Test func zpnHoleGivesNaNNotGarbage() throws {
        let w = try Fixture.wcs("zpn-hole.hdr")
        let e = try Fixture.expected("zpn-hole.hdr")
        let world = w.pixelToWorld(x: e.x, y: e.y)
        var holes = 0
        for i in e.x.indices {
            if e.ra[i].isNaN {
                holes += 1
                #expect(world.ra[i].isNaN && world.dec[i].isNaN, "point \(i) should be in the hole")
            } else {
                #expect(angleDiff(world.ra[i], e.ra[i]) <= 1e-9 && abs(world.dec[i] - e.dec[i]) <= 1e-9)
            }
        }
        #expect(holes > 0 && holes < e.x.count)
        // astropy's own regression test: (110, 110) is in the hole, (0, 0) is not.
        #expect(w.pixelToWorld(x: 110, y: 110) == nil)
        #expect(w.pixelToWorld(x: 0, y: 0) != nil)
        // The valid points of a batch survive the bad ones.
        let mixed = w.pixelToWorld(x: [0, 110, 199], y: [0, 110, 199])
        #expect(mixed.ra[0].isFinite && mixed.ra[1].isNaN && mixed.ra[2].isFinite)
        // Every sky position maps outside the hole, and back onto itself.
        let sky = w.worldToPixel(ra: [0, 45, 100], dec: [-90, -60, -85])
        for i in 0..<3 {
            let r = w.distanceFromReference(x: sky.x[i], y: sky.y[i])
            #expect(r > 80, "world→pixel landed in the hole at \(sky.x[i]), \(sky.y[i])")
        }
        // Invalid world coordinates come back NaN, the valid neighbour does not.
        let bad = w.worldToPixel(ra: [0, 10, .nan], dec: [-60, 95, -60])
        #expect(bad.x[0].isFinite && bad.x[1].isNaN && bad.y[1].isNaN && bad.x[2].isNaN)
        #expect(w.worldToPixel(ra: 10, dec: 95) == nil)
    }

    @Test func tanAntipodeIsNaN() throws {
        let w = try Fixture.wcs("m13.hdr")
        let c = w.referenceWorld
        let r = w.worldToPixel(ra: [c.ra, c.ra + 180], dec: [c.dec, -c.dec])
        #expect(r.x[0].isFinite && r.x[1].isNaN && r.y[1].isNaN)
        let nanIn = w.pixelToWorld(x: [.nan, 1, .infinity], y: [1, 1, 1])
        #expect(nanIn.ra[0].isNaN && nanIn.ra[1].isFinite && nanIn.ra[2].isNaN)
        #expect(w.pixelToWorld(x: [], y: []).ra.isEmpty)
    }

    /// sip-broken.hdr is astropy's regression file for SIP keywords on *alternate* descriptions
    /// (A_p_qO, …), which once crashed wcslib. wcslib 7.12 and astropy 8.0.2 both read its
    /// primary WCS without complaint, so it is covered by the agreement tests above. Genuinely
    /// bad variants of it must throw.
    @Test func sipBrokenParsesButBadVariantsThrow() throws {
        let w = try Fixture.wcs("sip-broken.hdr")
        #expect(w.hasDistortion && w.ctype == ["RA---TAN-SIP", "DEC--TAN-SIP"])

        var bad = try Fixture.header("sip-broken.hdr")
        bad.set("CTYPE1", "RA---XYZ-SIP")
        let error = try #require(throws: AstroError.self) {
            try WCS(header: bad, file: "sip-broken.hdr", hdu: "HDU 2 'SCI'")
        }
        #expect(error.kind == .badData)
        #expect(error.operation == "parsing WCS")
        #expect(error.description.contains("sip-broken.hdr[HDU 2 'SCI']: parsing WCS:"))
        #expect(error.description.contains("Unrecognized projection code (XYZ in CTYPE1)"))
        #expect(error.description.contains("status 4"))
    }

    @Test func headersWithoutACelestialWCSThrow() throws {
        var noWCS = Header()
        noWCS.set("NAXIS", 2)
        noWCS.set("NAXIS1", 10)
        noWCS.set("NAXIS2", 10)
        noWCS.set("OBJECT", "nothing")
        let e1 = try #require(throws: AstroError.self) { try WCS(header: noWCS, file: "a.fits") }
        #expect(e1.kind == .badData && e1.description == "a.fits: parsing WCS: no celestial WCS: the header has no CTYPEn keywords")

        var linear = noWCS
        linear.set("CTYPE1", "LINEAR")
        linear.set("CTYPE2", "LINEAR")
        linear.set("CRPIX1", 1.0)
        let e2 = try #require(throws: AstroError.self) { try WCS(header: linear) }
        #expect(e2.reason.contains("not a celestial WCS"))

        var cube = try Fixture.header("m13.hdr")
        cube.set("NAXIS", 3)
        cube.set("NAXIS3", 5)
        cube.set("CTYPE3", "FREQ")
        cube.set("CRVAL3", 1.4e9)
        cube.set("CDELT3", 1e6)
        cube.set("CRPIX3", 1.0)
        let e3 = try #require(throws: AstroError.self) { try WCS(header: cube) }
        #expect(e3.reason.contains("2-D"))

        var onlyAlternate = Header()
        for card in try Fixture.header("m13.hdr").cards where card.keyword.hasPrefix("C") && card.value != nil {
            var c = card
            if c.keyword.count < 8 { c.keyword += "B" }
            onlyAlternate.cards.append(c)
        }
        let e4 = try #require(throws: AstroError.self) { try WCS(header: onlyAlternate) }
        #expect(e4.reason.contains("no primary WCS"))
    }
}

@Suite struct CopyAndThreadTests {
    @Test(arguments: ["irac_sip.hdr", "tpvonly.hdr", "m13.hdr"])
    func copyIsIdentical(name: String) throws {
        let w = try Fixture.wcs(name)
        let e = try Fixture.expected(name)
        let c = w.copy()
        #expect(c.ctype == w.ctype && c.hasDistortion == w.hasDistortion)
        let a = w.pixelToWorld(x: e.x, y: e.y), b = c.pixelToWorld(x: e.x, y: e.y)
        #expect(a.ra == b.ra && a.dec == b.dec)
        let p = w.worldToPixel(ra: e.ra, dec: e.dec), q = c.worldToPixel(ra: e.ra, dec: e.dec)
        #expect(p.x == q.x && p.y == q.y)
    }

    @Test func copiesAgreeAcrossThreads() throws {
        let base = try Fixture.wcs("nrcb5_sip_wcs.hdr")
        var rng = SeededGenerator(seed: 42)
        let xs = (0..<2000).map { _ in Double.random(in: -0.5..<2047.5, using: &rng) }
        let ys = (0..<2000).map { _ in Double.random(in: -0.5..<2047.5, using: &rng) }
        let reference = base.pixelToWorld(x: xs, y: ys)
        let back = base.worldToPixel(ra: reference.ra, dec: reference.dec)
        let threads = 8
        let copies = Unchecked((0..<threads).map { _ in base.copy() })
        let mismatches = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let w = copies.value[t]
            for _ in 0..<5 {
                let r = w.pixelToWorld(x: xs, y: ys)
                let p = w.worldToPixel(ra: r.ra, dec: r.dec)
                if r.ra != reference.ra || r.dec != reference.dec || p.x != back.x || p.y != back.y {
                    mismatches.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(mismatches.load(ordering: .relaxed) == 0)
    }
}

/// Hands the per-thread copies to concurrentPerform; each thread touches only its own element.
struct Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

@Suite struct BuilderTests {
    @Test(arguments: [(1.0, 0.0), (0.03, 30.0), (0.2, -47.5), (2.5, 123.4)])
    func tanCentreAndScale(scale: Double, rotation: Double) throws {
        let w = try WCS.tan(ra: 150.1, dec: 2.2, pixelScale: scale, rotation: rotation, width: 1000, height: 800)
        #expect(w.referencePixel.x == 499.5 && w.referencePixel.y == 399.5)
        let c = try #require(w.pixelToWorld(x: 499.5, y: 399.5))
        #expect(angleDiff(c.ra, 150.1) < 1e-12 && abs(c.dec - 2.2) < 1e-12)
        let measured = w.pixelScale(x: 499.5, y: 399.5)
        #expect(abs(measured / scale - 1) < 1e-9, "scale \(measured) vs \(scale)")
        #expect(!w.hasDistortion && w.ctype == ["RA---TAN", "DEC--TAN"])
    }

    @Test func tanRotationConvention() throws {
        let step = 1.0 / 3600
        // θ = 0: +x is west (RA decreases), +y is north.
        let w0 = try WCS.tan(ra: 10, dec: 0, pixelScale: 1, width: 101, height: 101)
        let x0 = try #require(w0.pixelToWorld(x: 51, y: 50)), y0 = try #require(w0.pixelToWorld(x: 50, y: 51))
        #expect(abs(x0.ra - (10 - step)) < 1e-9 && abs(x0.dec) < 1e-9)
        #expect(abs(y0.ra - 10) < 1e-9 && abs(y0.dec - step) < 1e-9)
        // θ = 90°: the axes swap, +x is north and +y is east (RA increases).
        let w90 = try WCS.tan(ra: 10, dec: 0, pixelScale: 1, rotation: 90, width: 101, height: 101)
        let x90 = try #require(w90.pixelToWorld(x: 51, y: 50)), y90 = try #require(w90.pixelToWorld(x: 50, y: 51))
        #expect(abs(x90.ra - 10) < 1e-12 && abs(x90.dec - step) < 1e-9)
        #expect(abs(y90.ra - (10 + step)) < 1e-9 && abs(y90.dec) < 1e-12)
        // The CD matrix as documented.
        let h = w90.header
        let s = 1.0 / 3600
        #expect(abs(h.double("CD1_1") ?? h.double("PC1_1").map { $0 * (h.double("CDELT1") ?? 1) } ?? .nan) < 1e-20)
        let pc12 = (h.double("PC1_2") ?? .nan) * (h.double("CDELT1") ?? 1)
        let pc21 = (h.double("PC2_1") ?? .nan) * (h.double("CDELT2") ?? 1)
        #expect(abs(pc12 - s) < 1e-18 && abs(pc21 - s) < 1e-18)
    }

    @Test func tanRejectsBadArguments() {
        #expect(throws: AstroError.self) { try WCS.tan(ra: 0, dec: 0, pixelScale: 0, width: 10, height: 10) }
        #expect(throws: AstroError.self) { try WCS.tan(ra: 0, dec: 91, pixelScale: 1, width: 10, height: 10) }
        #expect(throws: AstroError.self) { try WCS.tan(ra: .nan, dec: 0, pixelScale: 1, width: 10, height: 10) }
        #expect(throws: AstroError.self) { try WCS.tan(ra: 0, dec: 0, pixelScale: 1, width: 0, height: 10) }
    }

    @Test func tanFootprint() throws {
        let w = try WCS.tan(ra: 250.4, dec: 36.5, pixelScale: 1.2, rotation: 20, width: 300, height: 200)
        let fp = w.footprint(width: 300, height: 200, step: 64)
        let nx = 5, ny = 4   // ceil(300/64), ceil(200/64)
        #expect(fp.count == 2 * nx + 2 * ny)
        let corners = [(-0.5, -0.5), (299.5, -0.5), (299.5, 199.5), (-0.5, 199.5)]
        for (k, index) in [0, nx, nx + ny, 2 * nx + ny].enumerated() {
            let expect = try #require(w.pixelToWorld(x: corners[k].0, y: corners[k].1))
            #expect(fp[index].ra == expect.ra && fp[index].dec == expect.dec, "corner \(k)")
        }
        // Counter-clockwise in pixel space: the points of the first edge run along y = -0.5.
        let back = w.worldToPixel(ra: fp.map(\.ra), dec: fp.map(\.dec))
        for i in 0..<nx { #expect(abs(back.y[i] + 0.5) < 1e-6) }
        #expect(back.x[1] > back.x[0])
        // Unit step on a tiny image: every edge pixel boundary.
        #expect(w.footprint(width: 3, height: 2, step: 1).count == 10)
        #expect(w.footprint(width: 3, height: 2, step: 1000).count == 4)
    }

    @Test func distortedFootprintBends() throws {
        let w = try Fixture.wcs("siponly.hdr")
        let fp = w.footprint(width: 2048, height: 4096, step: 256)
        #expect(fp.count == 2 * 8 + 2 * 16)
        #expect(!fp.contains { $0.ra.isNaN })
    }
}

@Suite struct HeaderRoundTripTests {
    @Test(arguments: Fixture.all)
    func roundTrip(name: String) throws {
        let w = try Fixture.wcs(name)
        let e = try Fixture.expected(name)
        let h = w.header
        #expect(h.cardImages.allSatisfy { $0.count == 80 })
        let again = try WCS(header: h)
        #expect(again.ctype == w.ctype && again.hasDistortion == w.hasDistortion)
        let a = w.pixelToWorld(x: e.x, y: e.y), b = again.pixelToWorld(x: e.x, y: e.y)
        var worst = 0.0
        for i in e.x.indices {
            #expect(a.ra[i].isNaN == b.ra[i].isNaN)
            if a.ra[i].isFinite {
                worst = max(worst, angleDiff(a.ra[i], b.ra[i]), abs(a.dec[i] - b.dec[i]))
            }
        }
        #expect(worst <= 1e-10, "\(name): header round trip moved a point by \(worst) deg")
        let p = w.worldToPixel(ra: a.ra, dec: a.dec), q = again.worldToPixel(ra: a.ra, dec: a.dec)
        for i in e.x.indices where p.x[i].isFinite {
            #expect(abs(p.x[i] - q.x[i]) < 1e-8 && abs(p.y[i] - q.y[i]) < 1e-8)
        }
    }

    @Test func builtTanRoundTrip() throws {
        let w = try WCS.tan(ra: 359.9, dec: -89.2, pixelScale: 0.05, rotation: 200, width: 4000, height: 4100)
        let again = try WCS(header: w.header)
        let xs: [Double] = [-0.5, 0, 1999.5, 3999.5, 1234.25]
        let ys: [Double] = [-0.5, 4099.5, 2049.5, 0, 3210.75]
        let a = w.pixelToWorld(x: xs, y: ys), b = again.pixelToWorld(x: xs, y: ys)
        for i in xs.indices {
            #expect(angleDiff(a.ra[i], b.ra[i]) <= 1e-10 && abs(a.dec[i] - b.dec[i]) <= 1e-10)
        }
        #expect(abs(again.pixelScale(x: 1999.5, y: 2049.5) / 0.05 - 1) < 1e-9)
    }
}

extension WCS {
    /// Distance in pixels from CRPIX (test helper).
    func distanceFromReference(x: Double, y: Double) -> Double {
        let r = referencePixel
        return ((x - r.x) * (x - r.x) + (y - r.y) * (y - r.y)).squareRoot()
    }
}

@Suite struct HeaderContentTests {
    @Test func distortionKeywordsSurvive() throws {
        let sip = try Fixture.wcs("irac_sip.hdr").header
        #expect(sip.string("CTYPE1") == "RA---TAN-SIP" && sip.int("A_ORDER") == 2 && sip.double("A_1_1") == 1.801e-05)
        let tpv = try Fixture.wcs("tpvonly.hdr").header
        #expect(tpv.string("CTYPE1") == "RA---TPV" && tpv.double("PV1_10") == 0.000503546797066621)
        // CDELT + CROTA comes back as CDELT (PC is the identity here).
        let m13 = try Fixture.wcs("m13.hdr").header
        #expect(m13.double("CDELT1") == -0.00027770002 && !m13.contains("CROTA1"))
    }
}

@Suite struct LookupTableDistortionTests {
    /// Without the file's extensions, a lookup-table header is refused in one line.
    @Test func paperFourLookupTablesNeedTheirFile() throws {
        var header = Header(cardImages: try String(contentsOfFile: TestSupport.path("wcs/j8bt06nyq_sci1.hdr"), encoding: .utf8))
        header.set("CPDIS1", "Lookup")
        do {
            _ = try WCS(header: header, file: "x.fits", hdu: "HDU 1 'SCI'")
            Issue.record("expected an error")
        } catch let e as AstroError {
            #expect(e.kind == .badData)
            #expect(e.description == "x.fits[HDU 1 'SCI']: parsing WCS: lookup-table distortion (FITS Paper IV) needs the file's WCSDVARR/D2IMARR extensions; read the WCS from the file")
        }
    }
}
