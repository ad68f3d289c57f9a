import AstroFITS
import AstroImage
import AstroWCS
import Foundation

/// `astrotool simulate night`: a night of raw CCD frames (bias, dark, flat, science) and the
/// truth they were made from, so that every later step of the pipeline can be checked against
/// known answers.
///
/// Order of work: check the options and the output folder (nothing is written if they are
/// bad); build the fixed detector (bias pattern, dark current, flat response per chip); plan
/// the science exposures (dither, rotation, scale, sky, WCS); draw the star catalogue over
/// the area they cover; then write the frames one by one (each computed in parallel by rows)
/// and finally the truth files. Every random number comes from a sub-stream of the seed, so
/// the same options give the same bytes whatever the thread count.
public enum NightSimulator {
    /// Frame kinds, also the key of each frame's random sub-stream.
    enum FrameKind: UInt64 {
        case bias = 1, dark, flat, sci
        var imagetyp: String {
            switch self {
            case .bias: "BIAS"
            case .dark: "DARK"
            case .flat: "FLAT"
            case .sci: "OBJECT"
            }
        }
    }

    /// Runs the simulation. `progress` gets one line per file written.
    /// - Throws: `AstroError` `.usage` for bad options, `.cannotCreate` when the output folder
    ///   exists, is not empty and `overwrite` is off (or cannot be made), FITS errors on write.
    public static func run(_ o: NightOptions, progress: (String) -> Void = { _ in }) throws -> NightSummary {
        let clock = ContinuousClock()
        let started = clock.now
        try o.validate()
        try checkOutputFolder(o)

        let g = DetectorGeometry(nx: o.nx, ny: o.ny, overscan: o.overscan, chips: o.chips)
        let field = TangentPlane(ra: o.ra, dec: o.dec)
        let calibrations = (0..<g.chips).map { ChipCalibration(chip: $0, geometry: g, options: o) }
        let exposures = o.nsci == 0 ? [] : (1...o.nsci).map { Exposure(index: $0, options: o, geometry: g, field: field) }
        let wcs: [[WCS]] = try exposures.map { e in try e.wcsHeaders.map { try WCS(header: $0) } }

        let box = fieldBox(options: o, geometry: g, field: field, wcs: wcs)
        let stars = StarCatalogue.make(count: o.stars, plane: field, box: box, seed: o.seed)
        let galaxy = o.galaxy ? SersicGalaxy.make(options: o, plane: field) : nil
        let psf = MoffatPSF(fwhm: o.fwhm, beta: o.beta)
        let starRA = stars.map(\.ra), starDec = stars.map(\.dec), starFlux = stars.map(\.flux)
        try createOutputFolder(o)

        var files: [String] = []
        var truthFiles: [String] = []
        var time = 17 * 3600.0   // 17:00 UTC on 2025-01-15
        let readTime = 30.0

        func write(_ kind: FrameKind, _ index: Int, name: String, object: String, exptime: Double,
                   illumination: (Int) -> Illumination, wcsHeaders: [Header]?) throws -> (saturated: Int, crEvents: Int, masks: [[UInt8]]) {
            let date = isoDate(secondsAfterEpoch: time)
            time += exptime + readTime
            var images: [Image] = []
            var saturated = 0, events = 0
            var masks: [[UInt8]] = []
            for c in 0..<g.chips {
                var cr: CosmicRayHits? = nil
                if !o.noiseless && o.crRate > 0 && exptime > 0 {
                    var rng = SimRandom(o.seed, Stream.cosmicRays.rawValue, kind.rawValue, UInt64(index), UInt64(c))
                    cr = CosmicRayHits(width: g.nx, height: g.ny, exptime: exptime, rate: o.crRate, rng: &rng)
                }
                let seed = SimRandom.derive(o.seed, Stream.frame.rawValue, kind.rawValue, UInt64(index), UInt64(c))
                let readout = Readout(calibration: calibrations[c], geometry: g, options: o, exptime: exptime,
                                      illumination: illumination(c), cosmicRays: cr?.deposit, seed: seed)
                saturated += readout.saturated
                events += cr?.events ?? 0
                masks.append(cr?.mask ?? [UInt8](repeating: 0, count: g.nx * g.ny))
                var h = frameHeader(o, g, kind: kind, object: object, exptime: exptime, date: date, chip: c)
                if let wcsHeaders { h.cards += wcsHeaders[c].cards }
                h.addHistory("made by astrotool simulate night, seed \(o.seed): \(name)" + (g.chips > 1 ? " chip \(c + 1)" : ""))
                images.append(Image(width: g.rawWidth, height: g.ny, pixels: readout.pixels, header: h))
            }
            var primary = Header()
            if g.chips > 1 {
                primary = frameHeader(o, g, kind: kind, object: object, exptime: exptime, date: date, chip: nil)
                primary.set("NEXTEND", g.chips, comment: "number of image extensions")
                primary.addHistory("made by astrotool simulate night, seed \(o.seed): \(name)")
            }
            try TruthWriter.fits(path(o, name), images: images, primary: primary, pixelType: .uint16)
            files.append(name)
            progress("wrote \(name)")
            return (saturated, events, masks)
        }

        for i in 0..<o.nbias {
            _ = try write(.bias, i + 1, name: "bias_\(number(i + 1)).fits", object: "bias", exptime: 0,
                          illumination: { _ in .none }, wcsHeaders: nil)
        }
        for i in 0..<o.ndark {
            _ = try write(.dark, i + 1, name: "dark_\(number(i + 1)).fits", object: "dark", exptime: o.darkExptime,
                          illumination: { _ in .none }, wcsHeaders: nil)
        }
        for i in 0..<o.nflat {
            var rng = SimRandom(o.seed, Stream.lamp.rawValue, UInt64(i + 1))
            let lamp = o.flatLevel * (1 + rng.uniform(-0.02, 0.02))
            _ = try write(.flat, i + 1, name: "flat_\(o.filter)_\(number(i + 1)).fits", object: "dome flat",
                          exptime: o.flatExptime, illumination: { _ in .uniform(lamp) }, wcsHeaders: nil)
        }

        // Science exposures, with their truth gathered on the way.
        time = max(time, 20 * 3600)
        var starX: [[[Double]]] = [], starY: [[[Double]]] = []   // [exposure][chip][star]
        var galaxyFlux: [[Double]] = []
        var exposureRows: [[String]] = []
        var crTotal = 0, satTotal = 0
        let pointingErrors = o.pointingError > 0 || o.rollError > 0
        for e in exposures {
            let k = e.index - 1
            var xs: [[Double]] = [], ys: [[Double]] = [], gflux: [Double] = []
            var objects: [[Float]] = []
            for c in 0..<g.chips {
                let p = wcs[k][c].worldToPixel(ra: starRA, dec: starDec)
                xs.append(p.x)
                ys.append(p.y)
                var image = psf.render(x: p.x, y: p.y, flux: starFlux, width: g.nx, height: g.ny)
                gflux.append(galaxy?.render(into: &image, width: g.nx, height: g.ny, wcs: wcs[k][c]) ?? 0)
                objects.append(image)
            }
            starX.append(xs)
            starY.append(ys)
            galaxyFlux.append(gflux)
            let name = "sci_\(o.filter)_\(number(e.index)).fits"
            let date = isoDate(secondsAfterEpoch: time)
            let result = try write(.sci, e.index, name: name, object: "simulated field", exptime: o.exptime,
                                   illumination: { c in .scene(e.sky(chip: c, geometry: g), objects: objects[c]) },
                                   wcsHeaders: e.headerWCS)
            crTotal += result.crEvents
            satTotal += result.saturated
            let crName = "truth/cr_\(number(e.index)).fits"
            let masks = result.masks.enumerated().map { c, m in
                var h = Header()
                h.set("BUNIT", "", comment: "1 where a cosmic ray deposited charge")
                h.set("CREVENTS", result.crEvents, comment: "cosmic-ray events in this exposure")
                h.addHistory("made by astrotool simulate night, seed \(o.seed): cosmic rays of \(name)"
                             + (g.chips > 1 ? " chip \(c + 1)" : ""))
                return Image(width: g.nx, height: g.ny, pixels: m.map(Float.init), header: h)
            }
            try TruthWriter.fits(path(o, crName), images: masks, primary: Header(), pixelType: .uint8)
            truthFiles.append(crName)
            for c in 0..<g.chips {
                let hdrName = "truth/wcs_\(number(e.index))" + (g.chips > 1 ? "_\(c + 1)" : "") + ".hdr"
                try TruthWriter.hdr(path(o, hdrName), e.wcsHeaders[c])
                truthFiles.append(hdrName)
            }
            var row = [number(e.index), name, date, TruthWriter.deg(e.centre.ra), TruthWriter.deg(e.centre.dec),
                       TruthWriter.pix(e.ditherX), TruthWriter.pix(e.ditherY), String(format: "%.6f", e.rotation),
                       String(format: "%.8f", e.scale), String(format: "%g", o.exptime),
                       String(result.crEvents), String(result.saturated)]
            if pointingErrors {
                row += [TruthWriter.deg(e.headerCentre.ra), TruthWriter.deg(e.headerCentre.dec),
                        String(format: "%.6f", e.pointingOffset.xi), String(format: "%.6f", e.pointingOffset.eta),
                        String(format: "%.6f", e.rollError)]
            }
            exposureRows.append(row)
        }

        // Truth tables.
        truthFiles += try writeStarTable(o, g, stars: stars, x: starX, y: starY)
        truthFiles += try writeSkyTable(o, g, exposures: exposures)
        truthFiles += try writeReferenceCatalogue(o, stars: stars)
        if !exposures.isEmpty {
            try TruthWriter.csv(path(o, "truth/exposures.csv"),
                                header: ["exposure", "file", "date_obs", "ra", "dec", "dither_x", "dither_y",
                                         "rotation_deg", "pixel_scale", "exptime", "cr_events", "saturated_pixels"]
                                    + (pointingErrors ? ["header_ra", "header_dec", "pointing_error_xi", "pointing_error_eta",
                                                         "roll_error_deg"] : []),
                                rows: exposureRows)
            truthFiles.append("truth/exposures.csv")
        }

        // The noiseless scene on the reference grid.
        let scene = try sceneGrid(o, box: box)
        let sp = scene.wcs.worldToPixel(ra: starRA, dec: starDec)
        var sceneImage = psf.render(x: sp.x, y: sp.y, flux: starFlux, width: scene.width, height: scene.height)
        let sceneGalaxyFlux = galaxy?.render(into: &sceneImage, width: scene.width, height: scene.height, wcs: scene.wcs) ?? 0
        var sh = scene.wcs.header
        sh.set("BUNIT", "adu", comment: "flat-fielded ADU per science exposure")
        sh.set("EXPTIME", o.exptime, comment: "[s] the science exposure time the fluxes refer to")
        // What `simulate score` needs to turn these ADU into a mosaic's units and to model the stars.
        sh.set("GAIN", o.gain, comment: "[e-/ADU] of the raw frames")
        sh.set("RDNOISE", o.readnoise, comment: "[e-] read noise of the raw frames")
        sh.set("SATURATE", min(o.saturation, 65535), comment: "[ADU] clipping level of the raw frames")
        sh.set("PSFFWHM", o.fwhm, comment: "[px] Moffat FWHM in the raw frames' pixels")
        sh.set("PSFBETA", o.beta, comment: "Moffat beta")
        sh.addHistory("made by astrotool simulate night, seed \(o.seed): noiseless stars + galaxy, no sky")
        try FITSWriter.write([OutputHDU(Image(width: scene.width, height: scene.height, pixels: sceneImage, header: sh))],
                             to: path(o, "truth/scene.fits"), overwrite: true)
        truthFiles.append("truth/scene.fits")

        if let galaxy {
            var header = ["ra", "dec", "flux", "flux_scene", "re_arcsec", "n", "axis_ratio", "pa_deg", "ie"]
            var row = [TruthWriter.deg(galaxy.ra), TruthWriter.deg(galaxy.dec), TruthWriter.flux(galaxy.totalFlux),
                       TruthWriter.flux(sceneGalaxyFlux), String(format: "%.6f", galaxy.re), String(format: "%g", galaxy.n),
                       String(format: "%.6f", galaxy.axisRatio), String(format: "%.6f", galaxy.pa), TruthWriter.adu(galaxy.ie)]
            for e in exposures {
                for c in 0..<g.chips {
                    header.append("flux_\(number(e.index))" + (g.chips > 1 ? "_\(c + 1)" : ""))
                    row.append(TruthWriter.flux(galaxyFlux[e.index - 1][c]))
                }
            }
            try TruthWriter.csv(path(o, "truth/galaxy.csv"), header: header, rows: [row])
            truthFiles.append("truth/galaxy.csv")
        }

        truthFiles += try writeCalibrationTruth(o, g, calibrations)

        let seconds = (clock.now - started) / .seconds(1)
        return NightSummary(outdir: o.outdir, seed: o.seed, shape: [g.nx, g.ny], rawShape: [g.rawWidth, g.ny],
                            chips: g.chips,
                            frames: .init(bias: o.nbias, dark: o.ndark, flat: o.nflat, sci: o.nsci),
                            files: files, truth: truthFiles, stars: stars.count, galaxy: galaxy != nil,
                            cosmicRays: crTotal, saturatedPixels: satTotal, seconds: seconds)
    }

    // MARK: Output folder

    /// Refuses an existing non-empty folder (or a file of that name) unless overwriting.
    static func checkOutputFolder(_ o: NightOptions) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: o.outdir, isDirectory: &isDir) else { return }
        guard isDir.boolValue else {
            throw AstroError(.cannotCreate, file: o.outdir, operation: "creating the output folder",
                             reason: "exists and is not a folder")
        }
        let contents = (try? fm.contentsOfDirectory(atPath: o.outdir)) ?? []
        if !contents.isEmpty && !o.overwrite {
            throw AstroError(.cannotCreate, file: o.outdir, operation: "creating the output folder",
                             reason: "exists and is not empty (use --overwrite to write into it)")
        }
    }

    /// Creates `DIR` and `DIR/truth` (with parents).
    static func createOutputFolder(_ o: NightOptions) throws {
        do {
            try FileManager.default.createDirectory(atPath: o.outdir + "/truth", withIntermediateDirectories: true)
        } catch {
            throw AstroError(.cannotCreate, file: o.outdir, operation: "creating the output folder",
                             reason: error.localizedDescription)
        }
    }

    static func path(_ o: NightOptions, _ name: String) -> String {
        (o.outdir.hasSuffix("/") ? o.outdir : o.outdir + "/") + name
    }

    /// 3-digit frame numbers (more digits only beyond 999).
    static func number(_ i: Int) -> String { String(format: "%03d", i) }

    // MARK: Headers

    static func frameHeader(_ o: NightOptions, _ g: DetectorGeometry, kind: FrameKind, object: String,
                            exptime: Double, date: String, chip: Int?) -> Header {
        var h = Header()
        h.set("IMAGETYP", kind.imagetyp, comment: "frame type")
        h.set("OBJECT", object)
        h.set("EXPTIME", exptime, comment: "[s] exposure time")
        h.set("DATE-OBS", date, comment: "UTC start of exposure")
        h.set("FILTER", o.filter)
        h.set("INSTRUME", "astrotool-sim", comment: "simulated CCD camera")
        h.set("TELESCOP", "simulated")
        guard let c = chip else { return h }
        h.set("GAIN", o.gain, comment: "[e-/ADU]")
        h.set("RDNOISE", o.readnoise, comment: "[e-] read noise")
        h.set("SATURATE", min(o.saturation, 65535), comment: "[ADU] clipping level")
        if let biassec = g.biassec { h.set("BIASSEC", biassec, comment: "overscan region used for the bias level") }
        h.set("TRIMSEC", g.trimsec, comment: "light-sensitive area")
        h.set("DATASEC", g.trimsec, comment: "light-sensitive area")
        h.set("BUNIT", "adu")
        if g.chips > 1 {
            h.set("CCDNAME", "chip\(c + 1)")
            h.set("DETSEC", g.detsec(c), comment: "position in the mosaic (gap included)")
        }
        return h
    }

    // MARK: Geometry of the whole night

    /// The box of the field's tangent plane (arcsec) covered by all exposures, plus a margin
    /// of 5 FWHM; the nominal pointing when there are no science frames.
    static func fieldBox(options o: NightOptions, geometry g: DetectorGeometry, field: TangentPlane,
                         wcs: [[WCS]]) -> (Double, Double, Double, Double) {
        var x0 = Double.infinity, x1 = -Double.infinity, y0 = Double.infinity, y1 = -Double.infinity
        for exposure in wcs {
            for w in exposure {
                for p in w.footprint(width: g.nx, height: g.ny, step: 32) {
                    let t = field.project(ra: p.ra, dec: p.dec)
                    guard t.xi.isFinite, t.eta.isFinite else { continue }
                    x0 = min(x0, t.xi); x1 = max(x1, t.xi)
                    y0 = min(y0, t.eta); y1 = max(y1, t.eta)
                }
            }
        }
        if !x0.isFinite {
            let hx = (Double(g.chips * g.nx + (g.chips - 1) * g.gap) / 2) * o.pixelScale
            let hy = Double(g.ny) / 2 * o.pixelScale
            (x0, x1, y0, y1) = (-hx, hx, -hy, hy)
        }
        let m = 5 * o.fwhm * o.pixelScale
        return (x0 - m, x1 + m, y0 - m, y1 + m)
    }

    /// The reference grid of `scene.fits`: TAN, centred on (ra, dec), nominal scale, north up,
    /// an odd number of pixels so the centre falls on a pixel, covering the field box.
    static func sceneGrid(_ o: NightOptions, box: (Double, Double, Double, Double)) throws -> (wcs: WCS, width: Int, height: Int) {
        let hx = max(abs(box.0), abs(box.1)) / o.pixelScale
        let hy = max(abs(box.2), abs(box.3)) / o.pixelScale
        let width = 2 * Int(hx.rounded(.up)) + 1, height = 2 * Int(hy.rounded(.up)) + 1
        let wcs = try WCS.tan(ra: o.ra, dec: o.dec, pixelScale: o.pixelScale, rotation: 0, width: width, height: height)
        return (wcs, width, height)
    }

    // MARK: Truth files

    static func writeStarTable(_ o: NightOptions, _ g: DetectorGeometry, stars: [Star],
                               x: [[[Double]]], y: [[[Double]]]) throws -> [String] {
        var header = ["id", "ra", "dec", "flux"]
        for k in 0..<x.count {
            for c in 0..<g.chips {
                let suffix = number(k + 1) + (g.chips > 1 ? "_\(c + 1)" : "")
                header += ["x_\(suffix)", "y_\(suffix)"]
            }
        }
        let rows = stars.enumerated().map { i, s -> [String] in
            var row = [String(s.id), TruthWriter.deg(s.ra), TruthWriter.deg(s.dec), TruthWriter.flux(s.flux)]
            for k in 0..<x.count {
                for c in 0..<g.chips { row += [TruthWriter.pix(x[k][c][i]), TruthWriter.pix(y[k][c][i])] }
            }
            return row
        }
        try TruthWriter.csv(path(o, "truth/stars.csv"), header: header, rows: rows)
        return ["truth/stars.csv"]
    }

    /// Stars at least this bright (ADU per exposure) go into `truth/refcat.csv`.
    static let refcatMinFlux = 1000.0
    /// Magnitude zero point of `refcat.csv`: mag = 25 − 2.5·log₁₀(flux).
    static let refcatZeroPoint = 25.0
    /// Per-axis astrometric noise of `refcat.csv`, milliarcseconds.
    static let refcatNoiseMas = 3.0

    /// `truth/refcat.csv`, a stand-in for a Gaia catalogue: id, ra, dec, mag of the stars of
    /// at least `refcatMinFlux` ADU, each position moved by Gaussian noise of
    /// `refcatNoiseMas` per axis (its own random stream), in catalogue order.
    static func writeReferenceCatalogue(_ o: NightOptions, stars: [Star]) throws -> [String] {
        var rng = SimRandom(o.seed, Stream.refcat.rawValue)
        var rows: [[String]] = []
        for s in stars where s.flux >= refcatMinFlux {
            let dxi = rng.gaussian() * refcatNoiseMas / 1000, deta = rng.gaussian() * refcatNoiseMas / 1000
            let p = TangentPlane(ra: s.ra, dec: s.dec).deproject(xi: dxi, eta: deta)
            let mag = refcatZeroPoint - 2.5 * DetMath.log(s.flux) / DetMath.log(10)
            rows.append([String(s.id), TruthWriter.deg(p.ra), TruthWriter.deg(p.dec), String(format: "%.4f", mag)])
        }
        try TruthWriter.csv(path(o, "truth/refcat.csv"), header: ["id", "ra", "dec", "mag"], rows: rows)
        return ["truth/refcat.csv"]
    }

    static func writeSkyTable(_ o: NightOptions, _ g: DetectorGeometry, exposures: [Exposure]) throws -> [String] {
        guard !exposures.isEmpty else { return [] }
        var rows: [[String]] = []
        for e in exposures {
            for c in 0..<g.chips {
                let s = e.sky(chip: c, geometry: g)
                rows.append([number(e.index), String(c + 1), TruthWriter.adu(s.level),
                             TruthWriter.grad(s.gradX), TruthWriter.grad(s.gradY)])
            }
        }
        try TruthWriter.csv(path(o, "truth/sky.csv"), header: ["exposure", "chip", "level", "gradient_x", "gradient_y"],
                            rows: rows)
        return ["truth/sky.csv"]
    }

    /// bias.fits (level + column pattern, ADU), dark.fits (ADU/s), flat.fits (mean 1), trimmed area.
    static func writeCalibrationTruth(_ o: NightOptions, _ g: DetectorGeometry,
                                      _ cals: [ChipCalibration]) throws -> [String] {
        func images(_ make: (ChipCalibration, Int) -> ([Float], Header)) -> [Image] {
            cals.enumerated().map { c, cal in
                var (pixels, h) = make(cal, c)
                if g.chips > 1 { h.set("CCDNAME", "chip\(c + 1)") }
                h.addHistory("made by astrotool simulate night, seed \(o.seed)")
                return Image(width: g.nx, height: g.ny, pixels: pixels, header: h)
            }
        }
        let bias = images { cal, _ in
            var h = Header()
            h.set("BUNIT", "adu")
            h.set("BIASLVL", cal.biasLevel, comment: "[ADU] mean level; the rest is the column pattern")
            let row = (0..<g.nx).map { Float(cal.biasLevel) + cal.columnPattern[$0] }
            var pixels: [Float] = []
            pixels.reserveCapacity(g.nx * g.ny)
            for _ in 0..<g.ny { pixels += row }
            return (pixels, h)
        }
        let dark = images { cal, _ in
            var h = Header()
            h.set("BUNIT", "adu/s")
            h.set("GAIN", o.gain, comment: "[e-/ADU]")
            h.set("NHOTPIX", cal.hotPixels, comment: "hot pixels")
            h.set("BADCOL", cal.badColumn + 1, comment: "hot column (FITS 1-based)")
            h.set("BADCOLY0", cal.badColumnStart + 1, comment: "first row of the hot column (1-based)")
            return (cal.darkRate.map { $0 / Float(o.gain) }, h)
        }
        let flat = images { cal, _ in
            var h = Header()
            h.set("BUNIT", "")
            h.set("FILTER", o.filter)
            return (cal.response, h)
        }
        try TruthWriter.fits(path(o, "truth/bias.fits"), images: bias, primary: Header(), pixelType: .float32)
        try TruthWriter.fits(path(o, "truth/dark.fits"), images: dark, primary: Header(), pixelType: .float32)
        try TruthWriter.fits(path(o, "truth/flat.fits"), images: flat, primary: Header(), pixelType: .float32)
        return ["truth/bias.fits", "truth/dark.fits", "truth/flat.fits"]
    }
}
