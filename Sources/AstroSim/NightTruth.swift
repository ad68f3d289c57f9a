import AstroFITS
import AstroImage
import AstroWCS
import Foundation

/// The truth of a night as `simulate night` wrote it under `DIR/truth/`, read back for
/// `simulate score`: the star catalogue, the galaxy, the PSF, the detector's gain and clipping
/// level, and for every science frame (exposure × chip) its true WCS, sky and cosmic-ray mask.
struct NightTruth {
    /// One science frame: an exposure seen by one chip.
    struct Frame {
        let wcs: WCS
        let width: Int, height: Int
        /// The cosmic-ray mask (`cr_NNN.fits`, the chip's HDU for two chips).
        let cosmicRays: String
        /// Sky in ADU: level at the chip centre and gradients per pixel.
        let sky: SkyPlane
        /// Raw bias level of the chip, ADU.
        let bias: Double
    }

    let folder: String
    let stars: [Star]
    let galaxy: SersicGalaxy?
    let psf: MoffatPSF
    /// e⁻/ADU and read noise (e⁻) of the raw frames.
    let gain: Double
    let readNoise: Double
    /// Clipping level of the raw frames, ADU.
    let saturation: Double
    /// Exposure time of one science frame, s: the truth fluxes are ADU per such exposure.
    let exptime: Double
    /// The frames' mean pixel scale, arcsec/px (the PSF's FWHM is in these pixels).
    let pixelScale: Double
    let frames: [Frame]

    /// Reads `folder` (a `truth/` folder). Throws `.noInput` for a missing file, `.badData`
    /// for one that lacks what the score needs (e.g. a scene.fits from before the PSF cards).
    static func load(_ folder: String) throws -> NightTruth {
        let dir = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        func path(_ name: String) -> String { dir + "/" + name }
        func need(_ name: String) throws -> String {
            let p = path(name)
            guard FileManager.default.fileExists(atPath: p) else {
                throw AstroError(.noInput, file: p, operation: "reading the truth", reason: "no such file (is \(folder) a simulate night truth/ folder?)")
            }
            return p
        }

        let scene = try FITS.readHeader(try need("scene.fits"))
        func card(_ key: String, zero: Bool = false) throws -> Double {
            guard let v = scene.double(key), v.isFinite, v > 0 || (zero && v == 0) else {
                throw AstroError(.badData, file: path("scene.fits"), operation: "reading the truth",
                                 reason: "no \(zero ? "" : "positive ")\(key) card (written by simulate night since simulate score exists; make the night again)")
            }
            return v
        }
        let psf = MoffatPSF(fwhm: try card("PSFFWHM"), beta: try card("PSFBETA"))
        let gain = try card("GAIN"), readNoise = try card("RDNOISE", zero: true), saturation = try card("SATURATE"), exptime = try card("EXPTIME")

        let starTable = try TruthTable(try need("stars.csv"))
        let ids = try starTable.numbers("id"), ra = try starTable.numbers("ra"), dec = try starTable.numbers("dec")
        let flux = try starTable.numbers("flux")
        let stars = ids.indices.map { Star(id: Int(ids[$0]), ra: ra[$0], dec: dec[$0], flux: flux[$0]) }

        var galaxy: SersicGalaxy?
        if FileManager.default.fileExists(atPath: path("galaxy.csv")) {
            let g = try TruthTable(path("galaxy.csv"))
            func v(_ name: String) throws -> Double {
                guard let x = try g.numbers(name).first, x.isFinite else {
                    throw AstroError(.badData, file: g.path, operation: "reading the truth", reason: "no value in column '\(name)'")
                }
                return x
            }
            galaxy = SersicGalaxy(ra: try v("ra"), dec: try v("dec"), re: try v("re_arcsec"), n: try v("n"),
                                  axisRatio: try v("axis_ratio"), pa: try v("pa_deg"), ie: try v("ie"))
        }

        let exposures = try TruthTable(try need("exposures.csv"))
        let scales = try exposures.numbers("pixel_scale").filter { $0.isFinite && $0 > 0 }
        guard !scales.isEmpty else {
            throw AstroError(.badData, file: exposures.path, operation: "reading the truth", reason: "no science exposure")
        }
        let skyTable = try TruthTable(try need("sky.csv"))
        let skyExposure = try skyTable.strings("exposure"), skyChip = try skyTable.strings("chip")
        let level = try skyTable.numbers("level"), gx = try skyTable.numbers("gradient_x"), gy = try skyTable.numbers("gradient_y")
        let chips = Set(skyChip).count
        let biasFile = try need("bias.fits")

        var frames: [Frame] = []
        for e in try exposures.strings("exposure") {
            for c in 1...max(1, chips) {
                let name = chips > 1 ? "\(e)_\(c)" : e
                let hdr = try need("wcs_\(name).hdr")
                guard let text = try? String(contentsOfFile: hdr, encoding: .utf8) else {
                    throw AstroError(.noInput, file: hdr, operation: "reading the truth", reason: "cannot read the file")
                }
                let wcs = try AstroError.naming(hdr) { try WCS(header: Header(cardImages: text)) }
                let crFile = try need("cr_\(e).fits")
                let cr = chips > 1 ? "\(crFile)[SCI,\(c)]" : crFile
                let crHeader = try FITS.readHeader(cr)
                guard let w = crHeader.int("NAXIS1"), let h = crHeader.int("NAXIS2") else {
                    throw AstroError(.badData, file: cr, operation: "reading the truth", reason: "not an image")
                }
                guard let row = skyExposure.indices.first(where: { skyExposure[$0] == e && skyChip[$0] == String(c) }) else {
                    throw AstroError(.badData, file: skyTable.path, operation: "reading the truth", reason: "no sky for exposure \(e) chip \(c)")
                }
                let bias = try FITS.readHeader(chips > 1 ? "\(biasFile)[SCI,\(c)]" : biasFile).double("BIASLVL") ?? 0
                frames.append(Frame(wcs: wcs, width: w, height: h, cosmicRays: cr,
                                    sky: SkyPlane(level: level[row], gradX: gx[row], gradY: gy[row],
                                                  centreX: Double(w - 1) / 2, centreY: Double(h - 1) / 2), bias: bias))
            }
        }
        return NightTruth(folder: dir, stars: stars, galaxy: galaxy, psf: psf, gain: gain, readNoise: readNoise, saturation: saturation,
                          exptime: exptime, pixelScale: scales.reduce(0, +) / Double(scales.count), frames: frames)
    }
}
