import AstroFITS
import AstroImage
import AstroWCS
import Foundation

extension Align {
    /// `--update-wcs --ref-cat`: the source's detections are registered onto a RA/Dec
    /// catalogue projected through the source's own (roughly right) header WCS, and the source
    /// is written again with a TAN WCS fitted to the catalogue: CRPIX kept, CRVAL and CD
    /// corrected (TAN-SIP about a new CRPIX for a polynomial model, which a SIP header gets).
    /// Pixels and every other HDU are untouched.
    ///
    /// The projection: each catalogue star goes through the header WCS into the source's pixel
    /// frame (the gnomonic plane about the header's CRVAL, then its CD and CRPIX). The fitted
    /// source → catalogue-pixel map composed with that projection is again a TAN WCS (same
    /// tangent point, CD·M, moved CRPIX); it is then re-centred so CRPIX stays where it was and
    /// CRVAL becomes the sky position of that pixel (CD refitted over the frame on the new
    /// tangent plane; the two agree to ≪ 10⁻⁴ px, else the first form is written).
    ///
    /// A multi-chip file named without an HDU has each SCI chip fitted on its own (each has
    /// its own header WCS); the file is written once, and the report is the first chip's.
    static func fitToReference(source: String, catalogue: String, sourceCatalogue: String?, output: String,
                               options o: AlignOptions, overwrite: Bool) throws -> AlignReport {
        let transformOut = try reserveOutputs(output, o, overwrite: overwrite)
        let chips = sourceCatalogue == nil ? try FITS.sciChips(source) : [source]
        var headers: [Int: Header] = [:], reports: [AlignReport] = [], base = FITS.basePath(source)
        for chip in chips {
            let fit = try fitChip(chip, catalogue: catalogue, sourceCatalogue: sourceCatalogue, output: output, options: o)
            headers[fit.hduIndex] = fit.header
            reports.append(fit.report)
            base = fit.base
        }
        let hdus = try HDUCopy.hdus(of: base, headers: headers)
        try write(hdus, to: output, report: reports[0], transform: transformOut, overwrite: overwrite)
        return reports[0]
    }

    /// One chip fitted to the catalogue: its new header, HDU, file and report.
    private static func fitChip(_ source: String, catalogue: String, sourceCatalogue: String?, output: String,
                                options o: AlignOptions) throws -> (header: Header, hduIndex: Int, base: String, report: AlignReport) {
        func fail(_ reason: String) -> AstroError {
            AstroError(.badData, file: source, operation: "fitting the WCS to a reference catalogue", reason: reason)
        }

        let (image, hduIndex, base) = try readSource(source, userMask: o.sourceMask)
        let headerWCS: WCS
        do {
            headerWCS = try WCS.read(path: source)
        } catch let e as AstroError {
            throw fail("--ref-cat needs the source's celestial WCS as a first guess: \(e.reason)")
        }
        // A SIP header: the catalogue goes through its linear part, and the fit is a polynomial
        // of the header's SIP order (unless --model says otherwise), written back as TAN-SIP.
        var registration = o.registration
        let wcs: WCS
        if headerWCS.hasDistortion {
            let order = image.header.int("A_ORDER") ?? 0
            guard headerWCS.ctype.allSatisfy({ $0.hasSuffix("-TAN-SIP") }), order >= 2, let linear = try? AlignWCS.linearPart(image.header),
                  !linear.hasDistortion else {
                throw fail("the source's WCS has a distortion other than SIP (\(headerWCS.ctype.joined(separator: ", "))); --ref-cat fits TAN and TAN-SIP WCSs")
            }
            wcs = linear
            if registration.model == nil && registration.polyOrders == nil {
                registration.polyOrders = min(order, 5)...min(order, 5)
                registration.forcePoly = true
            }
        } else {
            wcs = headerWCS
        }

        let detections: [Detection]
        if let sourceCatalogue {
            detections = try Catalogue.read(sourceCatalogue, columns: o.columns)
        } else {
            detections = try AstroError.naming(source) { try Detector.detect(image, options: o.detection) }
        }
        let cat = try ReferenceCatalogue.read(catalogue, columns: o.referenceColumns)

        // The catalogue in the source's pixel frame, as its header WCS puts it; stars up to a
        // margin beyond the edges are kept (the header may be off by that much).
        let projected = wcs.worldToPixel(ra: cat.ra, dec: cat.dec)
        let margin = 16.0, xMax = Double(image.width - 1) + margin, yMax = Double(image.height - 1) + margin
        var reference: [Detection] = []
        for i in 0..<cat.count {
            let x = projected.x[i], y = projected.y[i]
            guard x.isFinite, y.isFinite, x >= -margin, y >= -margin, x <= xMax, y <= yMax else { continue }
            // Brightest first: from the magnitude, else in catalogue order.
            let flux = cat.mag.map { pow(10, -0.4 * min($0[i], 99)) } ?? (1 - Double(i) * 1e-12)
            reference.append(Detection(x: x, y: y, flux: flux, fwhm: .nan, flags: 0, positionError: 0.005))
        }
        let usable = Registrar.select(detections, o.registration).count
        guard usable >= 3 else {
            throw AstroError(.badData, file: sourceCatalogue ?? source, operation: "registering",
                             reason: "too few stars: \(usable) usable of \(detections.count) detected (need at least 3)")
        }
        guard reference.count >= 3 else {
            throw AstroError(.badData, file: catalogue, operation: "registering",
                             reason: "too few catalogue stars in the frame: \(reference.count) of \(cat.count) (need at least 3; is the source's WCS roughly right?)")
        }
        // With --match quads, a field too sparse for quads is named by its own file.
        let frame: PixelFrame = (image.width, image.height)
        try Registrar.checkQuads(detections, frame: frame, side: "source", file: sourceCatalogue ?? source, options: registration)
        try Registrar.checkQuads(reference, frame: frame, side: "reference catalogue", file: catalogue, options: registration)
        let reg = try AstroError.naming(source) {
            // The catalogue is projected into the source's frame: both lists share it.
            try Registrar.register(source: detections, template: reference, options: registration,
                                   sourceFrame: (image.width, image.height), templateFrame: (image.width, image.height))
        }
        if let limit = o.maxRMS, !(reg.report.rms <= limit) {
            throw AstroError(.badData, file: source, operation: "registering",
                             reason: String(format: "transform RMS %.4f px exceeds --max-rms %g", reg.report.rms, limit))
        }

        let tied = try AstroError.naming(source) { try AlignWCS.tied(image.header, template: wcs, registration: reg) }
        let fitted = try WCS(header: tied, file: source)
        let crpix = wcs.referencePixel
        // A linear WCS moves back to the header's reference pixel; SIP terms belong to theirs.
        let recentred = reg.pushPoly != nil ? nil
            : try AlignWCS.recentred(fitted, source: image.header, at: crpix, width: image.width, height: image.height)
        var header = recentred.map { $0.deviation < 1e-4 ? $0.header : tied } ?? tied

        let r = reg.report
        let scale = wcs.pixelScale(x: crpix.x, y: crpix.y)
        let before = wcs.pixelToWorld(x: crpix.x, y: crpix.y), after = fitted.pixelToWorld(x: crpix.x, y: crpix.y)
        let moved = before.flatMap { b in after.map { ReferenceCatalogue.separation(b, $0) } } ?? .nan
        var report = AlignReport(source: source, template: catalogue, output: output, mode: "update-wcs",
                                 width: image.width, height: image.height, transform: r)
        report.referenceStars = reference.count
        report.pointingCorrection = moved
        report.rollCorrection = r.rotation
        report.rmsArcsec = r.rms * scale

        provenance(&header, r, source: base, template: catalogue)
        header.addHistory("align: WCS fitted to the RA/Dec catalogue (\(reference.count) of \(cat.count) stars in the frame); pixels unchanged")
        header.addHistory(String(format: "align: reference pixel moved %.4f arcsec on the sky, rotation %.5f deg; rms %.4f arcsec",
                                 moved, r.rotation, r.rms * scale))
        return (header, hduIndex, base, report)
    }
}

extension AlignWCS {
    /// A TAN WCS that maps like `fitted` but has its reference pixel at `crpix` (0-based):
    /// CRVAL = fitted(crpix), CD fitted by least squares to the gnomonic coordinates about it
    /// of a 9×9 grid over the frame. Returns the source's cards with that WCS (RADESYS and
    /// EQUINOX kept from the source) and the largest distance, in pixels, between the two WCSs
    /// over the grid.
    static func recentred(_ fitted: WCS, source: Header, at crpix: (x: Double, y: Double),
                          width: Int, height: Int) throws -> (header: Header, deviation: Double) {
        guard let centre = fitted.pixelToWorld(x: crpix.x, y: crpix.y) else {
            throw AstroError(.badData, operation: "updating the WCS", reason: "the reference pixel has no sky position")
        }
        var gx: [Double] = [], gy: [Double] = []
        for j in 0...8 {
            for i in 0...8 {
                gx.append(Double(i) * Double(width - 1) / 8)
                gy.append(Double(j) * Double(height - 1) / 8)
            }
        }
        let sky = fitted.pixelToWorld(x: gx, y: gy)
        // (ξ, η) = CD·(p − crpix): two 2-parameter least-squares problems with one matrix.
        var sxx = 0.0, sxy = 0.0, syy = 0.0, xi1 = 0.0, xi2 = 0.0, eta1 = 0.0, eta2 = 0.0
        for k in gx.indices {
            let s = ReferenceCatalogue.standardCoordinates(ra: sky.ra[k], dec: sky.dec[k], centre: centre)
            guard s.xi.isFinite, s.eta.isFinite else { continue }
            let dx = gx[k] - crpix.x, dy = gy[k] - crpix.y
            sxx += dx * dx; sxy += dx * dy; syy += dy * dy
            xi1 += dx * s.xi; xi2 += dy * s.xi
            eta1 += dx * s.eta; eta2 += dy * s.eta
        }
        let det = sxx * syy - sxy * sxy
        guard det.isFinite, det > 0 else {
            throw AstroError(.badData, operation: "updating the WCS", reason: "cannot refit the CD matrix over the frame")
        }
        let cd = [[(xi1 * syy - xi2 * sxy) / det, (xi2 * sxx - xi1 * sxy) / det],
                  [(eta1 * syy - eta2 * sxy) / det, (eta2 * sxx - eta1 * sxy) / det]]
        var h = withoutWCS(source)
        h.set("WCSAXES", 2, comment: "number of World Coordinate System axes")
        h.set("CTYPE1", "RA---TAN", comment: "gnomonic projection")
        h.set("CTYPE2", "DEC--TAN", comment: "gnomonic projection")
        h.set("CUNIT1", "deg")
        h.set("CUNIT2", "deg")
        h.set("CRPIX1", crpix.x + 1, comment: "Pixel coordinate of reference point")
        h.set("CRPIX2", crpix.y + 1, comment: "Pixel coordinate of reference point")
        h.set("CRVAL1", centre.ra, comment: "[deg] RA at the reference point")
        h.set("CRVAL2", centre.dec, comment: "[deg] Dec at the reference point")
        for i in 0..<2 {
            for j in 0..<2 { h.set("CD\(i + 1)_\(j + 1)", cd[i][j], comment: "Linear transformation matrix element") }
        }
        h.set("RADESYS", source.string("RADESYS") ?? source.string("RADECSYS") ?? "ICRS")
        if let equinox = source.double("EQUINOX") { h.set("EQUINOX", equinox) }
        let check = try WCS(header: h)
        let back = check.worldToPixel(ra: sky.ra, dec: sky.dec)
        var deviation = 0.0
        for k in gx.indices {
            let d = ((back.x[k] - gx[k]) * (back.x[k] - gx[k]) + (back.y[k] - gy[k]) * (back.y[k] - gy[k])).squareRoot()
            deviation = max(deviation, d.isFinite ? d : .infinity)
        }
        return (h, deviation)
    }
}
