import Foundation
import AstroImage
internal import CWCSLIB

extension WCS {
    /// A gnomonic (TAN) WCS centred on a `width × height` image.
    ///
    /// CRPIX is the image centre (0-based ((width − 1)/2, (height − 1)/2), i.e. FITS
    /// CRPIX = (width + 1)/2), CRVAL = (ra, dec), CUNIT deg, RADESYS ICRS, and the CD matrix is
    /// the standard orientation with east to the left when north is up:
    ///
    ///     CD1_1 = −s·cos θ    CD1_2 = s·sin θ
    ///     CD2_1 =  s·sin θ    CD2_2 = s·cos θ        (s = pixelScale / 3600 deg)
    ///
    /// θ (`rotation`, degrees) is the position angle of the image's +y axis, measured from north
    /// through east, i.e. counter-clockwise on a north-up, east-left sky (the convention of HST's
    /// ORIENTAT, θ = atan2(CD1_2, CD2_2)). θ = 0: +y points north and +x west (RA decreasing).
    /// θ = 90°: +y points east (RA increasing) and +x north.
    /// - Parameters:
    ///   - pixelScale: arcsec per pixel, > 0.
    ///   - rotation: degrees east of north, counter-clockwise.
    /// - Throws: ``AstroError`` `.usage` for a non-positive size or scale, a non-finite value or
    ///   |dec| > 90; `.badData` if wcslib rejects the result.
    public static func tan(
        ra: Double, dec: Double, pixelScale: Double, rotation: Double = 0, width: Int, height: Int
    ) throws -> WCS {
        func bad(_ reason: String) -> AstroError {
            AstroError(.usage, operation: "building TAN WCS", reason: reason)
        }
        guard ra.isFinite, dec.isFinite, abs(dec) <= 90 else {
            throw bad("centre (\(ra), \(dec)) is not a valid RA/Dec in degrees")
        }
        guard pixelScale.isFinite, pixelScale > 0 else { throw bad("pixel scale \(pixelScale) must be > 0 arcsec/pixel") }
        guard rotation.isFinite else { throw bad("rotation \(rotation) is not finite") }
        guard width > 0, height > 0 else { throw bad("image size \(width)×\(height) must be positive") }

        let s = pixelScale / 3600
        let theta = rotation * Double.pi / 180
        // Exact zeros for multiples of 90°, so a 90° rotation swaps the axes exactly.
        func clean(_ v: Double) -> Double { abs(v) < 1e-15 ? 0 : v }
        let c = clean(cos(theta)), sn = clean(sin(theta))
        var h = Header()
        h.set("WCSAXES", 2, comment: "number of World Coordinate System axes")
        h.set("CTYPE1", "RA---TAN", comment: "gnomonic projection")
        h.set("CTYPE2", "DEC--TAN", comment: "gnomonic projection")
        h.set("CUNIT1", "deg")
        h.set("CUNIT2", "deg")
        h.set("CRPIX1", (Double(width) + 1) / 2, comment: "image centre (FITS 1-based)")
        h.set("CRPIX2", (Double(height) + 1) / 2, comment: "image centre (FITS 1-based)")
        h.set("CRVAL1", ra, comment: "[deg] RA at CRPIX")
        h.set("CRVAL2", dec, comment: "[deg] Dec at CRPIX")
        h.set("CD1_1", -s * c)
        h.set("CD1_2", s * sn)
        h.set("CD2_1", s * sn)
        h.set("CD2_2", s * c)
        h.set("RADESYS", "ICRS")
        do {
            return try WCS(header: h)
        } catch var error as AstroError {
            error.operation = "building TAN WCS"
            throw error
        }
    }

    /// The WCS as header cards, written by wcslib's `wcshdo` with `WCSHDO_safe` (the informal
    /// extensions wcslib considers safe) and `WCSHDO_P17` (17 significant digits, so every
    /// double survives exactly). SIP and TPV distortions are written in their own keywords.
    /// wcslib normalises on the way: CDELT/CROTA become PC/CDELT, comments are wcslib's.
    /// `WCS(header: w.header)` maps like `w` — except for a lookup-table chain (Paper IV, D2IM),
    /// which lives in the file's extensions and is not in these cards: use ``copy()`` for those.
    public var header: Header {
        var nkeyrec: Int32 = 0
        var text: UnsafeMutablePointer<CChar>? = nil
        let status = wcshdo(WCSHDO_safe | WCSHDO_P17, prm, &nkeyrec, &text)
        defer { if let text { wcsdealloc(text) } }
        guard status == 0, let text, nkeyrec > 0 else {
            // wcshdo only fails for states wcsset already rejected in init; keep the error visible.
            preconditionFailure("wcshdo failed: \(WCSLib.errorText(prm, status: status, function: "wcshdo"))")
        }
        let bytes = UnsafeRawBufferPointer(start: text, count: Int(nkeyrec) * 80)
        return Header(cardImages: String(decoding: bytes, as: UTF8.self))
    }
}
