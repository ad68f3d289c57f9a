import AstroImage
import AstroWCS
import Foundation

/// The sky seen by one chip in one exposure: a plane, level + gradient, in ADU of a
/// flat-fielded frame. `level` is the mean over the chip's trimmed area (the value at its
/// centre); gradients are ADU per pixel along the chip's x and y.
struct SkyPlane: Sendable, Equatable {
    let level: Double, gradX: Double, gradY: Double
    let centreX: Double, centreY: Double

    @inline(__always)
    func value(_ x: Double, _ y: Double) -> Double {
        level + gradX * (x - centreX) + gradY * (y - centreY)
    }
}

/// One science exposure: where the telescope pointed, how the detector was rotated and
/// scaled, the sky, and the resulting WCS cards of each chip.
///
/// The optical axis sits at the centre of the mosaic (between the chips when there are two)
/// and points at `centre`, which is the field centre moved by the dither. Each chip's WCS has
/// CRVAL = that centre and CRPIX = the axis in the chip's pixels, so a SIP distortion (fixed
/// to the optics) is the same polynomial in every exposure.
struct Exposure: Sendable {
    let index: Int
    let ditherX: Double, ditherY: Double
    let rotation: Double
    /// Actual pixel scale, arcsec/px.
    let scale: Double
    let centre: (ra: Double, dec: Double)
    /// Sky level at the optical axis, ADU, and its gradient, ADU/px.
    let skyLevel: Double, skyGradX: Double, skyGradY: Double
    /// The true WCS cards of each chip (how the stars were rendered).
    let wcsHeaders: [Header]
    /// Where the header says the telescope pointed and how it was rolled: the true centre
    /// moved by `pointingOffset` (ξ, η in arcsec) and the rotation plus `rollError` degrees.
    let pointingOffset: (xi: Double, eta: Double)
    let rollError: Double
    let headerCentre: (ra: Double, dec: Double)
    /// The WCS cards written into each chip's header: `wcsHeaders` unless the options ask for
    /// a pointing or roll error.
    let headerWCS: [Header]

    init(index: Int, options o: NightOptions, geometry g: DetectorGeometry, field: TangentPlane) {
        self.index = index
        var rng = SimRandom(o.seed, Stream.pointing.rawValue, UInt64(index))
        ditherX = rng.uniform(-o.dither, o.dither)
        ditherY = rng.uniform(-o.dither, o.dither)
        rotation = rng.uniform(-o.rotation, o.rotation)
        scale = o.pixelScale * (1 + rng.uniform(-o.scaleJitter, o.scaleJitter))
        centre = field.deproject(xi: ditherX * o.pixelScale, eta: ditherY * o.pixelScale)

        var sr = SimRandom(o.seed, Stream.sky.rawValue, UInt64(index))
        skyLevel = o.sky + sr.uniform(-o.skyJitter, o.skyJitter)
        let angle = sr.uniform(0, 2 * .pi)
        let grad = o.skyGradient * skyLevel / 1000
        skyGradX = grad * cos(angle)
        skyGradY = grad * sin(angle)

        var headers: [Header] = []
        for c in 0..<g.chips {
            headers.append(Exposure.wcsHeader(chip: c, centre: centre, scale: scale, rotation: rotation,
                                              geometry: g, distortion: o.distortion))
        }
        wcsHeaders = headers

        // The header's pointing error, from its own stream so the true geometry never changes.
        if o.pointingError > 0 || o.rollError > 0 {
            var pe = SimRandom(o.seed, Stream.pointingError.rawValue, UInt64(index))
            let r = o.pointingError * pe.uniform(0, 1).squareRoot()
            let angle = pe.uniform(0, 2 * .pi)
            let roll = pe.uniform(-o.rollError, o.rollError)
            pointingOffset = (r * cos(angle), r * sin(angle))
            rollError = roll
            let c = TangentPlane(ra: centre.ra, dec: centre.dec).deproject(xi: pointingOffset.xi, eta: pointingOffset.eta)
            headerCentre = c
            var cards: [Header] = []
            for chip in 0..<g.chips {
                cards.append(Exposure.wcsHeader(chip: chip, centre: c, scale: scale, rotation: rotation + roll,
                                                geometry: g, distortion: o.distortion))
            }
            headerWCS = cards
        } else {
            pointingOffset = (0, 0)
            rollError = 0
            headerCentre = centre
            headerWCS = headers
        }
    }

    /// True when the header WCS differs from the truth.
    var hasPointingError: Bool { pointingOffset != (0, 0) || rollError != 0 }

    /// The sky of chip c: the exposure's plane evaluated at the chip's centre.
    func sky(chip c: Int, geometry g: DetectorGeometry) -> SkyPlane {
        let cx = Double(g.nx - 1) / 2, cy = Double(g.ny - 1) / 2
        let f = g.focal(cx, cy, chip: c)
        return SkyPlane(level: skyLevel + skyGradX * f.u + skyGradY * f.v, gradX: skyGradX, gradY: skyGradY,
                        centreX: cx, centreY: cy)
    }

    /// TAN (or TAN-SIP) cards for chip c. CD follows `WCS.tan`: east left when north is up,
    /// `rotation` degrees east of north.
    static func wcsHeader(chip c: Int, centre: (ra: Double, dec: Double), scale: Double, rotation: Double,
                          geometry g: DetectorGeometry, distortion: NightOptions.Distortion) -> Header {
        let s = scale / 3600
        let t = rotation * Double.pi / 180
        let axis = g.axisPixel(c)
        let sip = distortion == .sip
        var h = Header()
        h.set("WCSAXES", 2, comment: "number of WCS axes")
        h.set("CTYPE1", sip ? "RA---TAN-SIP" : "RA---TAN", comment: "gnomonic projection" + (sip ? " + SIP" : ""))
        h.set("CTYPE2", sip ? "DEC--TAN-SIP" : "DEC--TAN", comment: "gnomonic projection" + (sip ? " + SIP" : ""))
        h.set("CUNIT1", "deg")
        h.set("CUNIT2", "deg")
        h.set("CRPIX1", axis.x + 1, comment: "optical axis, FITS 1-based")
        h.set("CRPIX2", axis.y + 1, comment: "optical axis, FITS 1-based")
        h.set("CRVAL1", centre.ra, comment: "[deg] RA of the optical axis")
        h.set("CRVAL2", centre.dec, comment: "[deg] Dec of the optical axis")
        h.set("CD1_1", -s * cos(t))
        h.set("CD1_2", s * sin(t))
        h.set("CD2_1", s * sin(t))
        h.set("CD2_2", s * cos(t))
        h.set("RADESYS", "ICRS")
        if sip {
            for (key, value) in sipCoefficients(geometry: g) { h.set(key, value) }
        }
        return h
    }

    /// A fixed third-order SIP distortion of the optics: small quadratic terms plus a cubic
    /// radial term, together under 1 px at the farthest corner of the mosaic.
    static func sipCoefficients(geometry g: DetectorGeometry) -> [(String, CardValue)] {
        let r = g.cornerRadius
        let q = 0.3 / (r * r), k = 0.5 / (r * r * r)
        return [
            ("A_ORDER", .integer(3)), ("A_2_0", .real(0.6 * q)), ("A_1_1", .real(-0.4 * q)),
            ("A_0_2", .real(0.3 * q)), ("A_3_0", .real(k)), ("A_1_2", .real(k)),
            ("B_ORDER", .integer(3)), ("B_2_0", .real(-0.3 * q)), ("B_1_1", .real(0.5 * q)),
            ("B_0_2", .real(0.6 * q)), ("B_2_1", .real(k)), ("B_0_3", .real(k)),
        ]
    }
}
