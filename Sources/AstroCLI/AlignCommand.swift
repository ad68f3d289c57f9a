import ArgumentParser
import AstroAlign
import AstroImage
import Foundation

/// `astrotool align`: register a source image onto a template (spalipy's align-fits), or
/// detect sources into a catalogue (docs/align.md).
struct AlignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Register a source image onto a template image or catalogue (spalipy/astroalign), or detect sources.",
        discussion: "Without a subcommand the source is registered: `astrotool align SOURCE OUTPUT -tf TEMPLATE`, or as spalipy's align-fits-simple `astrotool align --simple SOURCE OUTPUT TEMPLATE`.",
        subcommands: [AlignRegisterCommand.self, AlignDetectCommand.self],
        defaultSubcommand: AlignRegisterCommand.self
    )
}

/// Detection settings shared by `align` and `align detect`.
struct AlignDetectionOptions: ParsableArguments {
    @Option(help: "Detection threshold in sigma of the 3x3-filtered noise (sep/spalipy sep_thresh).") var sepThresh = 5.0
    @Option(help: "Fewest connected pixels above threshold.") var minArea = 5
    @Option(help: "Background mesh size in pixels.") var backSize = 64
    @Option(help: "Median filter over the background meshes (1 = none).") var backFilterSize = 3
    @Option(help: "Saturation level (default: SATURATE from the header, else none); sources at or above it get flag 4.") var saturation: Double?
    @Option(help: "Electrons per data unit for position errors (default: GAIN from the header, else 1).") var gain: Double?

    func validate() throws {
        guard sepThresh > 0 else { throw ValidationError("--sep-thresh must be positive") }
        guard minArea >= 1 else { throw ValidationError("--min-area must be at least 1") }
        guard backSize >= 8 else { throw ValidationError("--back-size must be at least 8") }
        guard backFilterSize >= 1 else { throw ValidationError("--back-filter-size must be at least 1") }
        if let gain, !(gain > 0) { throw ValidationError("--gain must be positive") }
    }

    var options: DetectionOptions {
        var o = DetectionOptions()
        o.threshold = sepThresh
        o.minArea = minArea
        o.meshSize = backSize
        o.meshFilter = backFilterSize
        o.saturation = saturation
        o.gain = gain
        return o
    }
}

/// `astrotool align [register] SOURCE OUTPUT (-tf TEMPLATE | -tc TEMPLATE.cat)`.
struct AlignRegisterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register SOURCE onto a template and write OUTPUT: resampled onto the template grid, or (--update-wcs) with its WCS corrected.",
        discussion: """
        Sources are detected in both images (or read from SExtractor ASCII_HEAD catalogues, 1-based \
        X_IMAGE/Y_IMAGE converted); triangles of the brightest stars propose transforms (any rotation, \
        scale and mirror), or with --match quads spalipy's 4-star hash codes (per --sub-tile, both \
        parities), scored by cross-matches; then rounds of guarded mutual matching and a weighted, \
        sigma-clipped fit (shift, similarity or affine, chosen by BIC; polynomials of order 2 to \
        --poly-order compete unless --update-wcs; --model spline adds spline surfaces of the residuals \
        in template pixels, applied before the inverse linear map). The warp writes the source on the \
        template grid with the template's WCS and a MASK extension (32 no_data, 64 source hole); \
        --update-wcs writes the source unchanged but for a WCS tied to the template's. Statistics go \
        to stdout (--json for scripts).
        Example: astrotool align sci_002.fits sci_002_on_001.fits -tf sci_001.fits --transform t.json
        spalipy's align-fits-simple: astrotool align --simple sci_002.fits sci_002_on_001.fits sci_001.fits
        """
    )

    @Argument(help: "Source image (FITS or extension).") var source: String
    @Argument(help: "Output FITS file.") var output: String
    @Argument(help: ArgumentHelp("Template image, with --simple only (align-fits-simple's third positional).", valueName: "template")) var simpleTemplate: String?
    @Flag(help: "spalipy's align-fits-simple preset: SOURCE OUTPUT TEMPLATE, an affine model, --n-det 0.9; with --match quads, patience 1 and one sub-tile.") var simple = false
    @Option(name: [.customLong("tf", withSingleDash: true), .customLong("template-fits")], help: "Template image.") var templateFits: String?
    @Option(name: [.customLong("tc", withSingleDash: true), .customLong("template-cat")], help: "Template catalogue (SExtractor ASCII_HEAD or FITS_LDAC).") var templateCat: String?
    @Option(name: [.customLong("sc", withSingleDash: true), .customLong("source-cat")], help: "Source catalogue instead of detecting in SOURCE.") var sourceCat: String?
    @Option(help: "Mask of SOURCE's shape, non-zero = bad (values 1-255 are MASK bits, others 1; a multi-HDU mask: the HDU of SOURCE's EXTVER), ORed with SOURCE's own MASK/DQ: left out of detection, its bits carried into the output MASK.") var sourceMask: String?
    @Option(help: "RA/Dec reference catalogue (CSV with ra/dec columns, or a FITS binary table), with --update-wcs: fit SOURCE's own WCS to it.") var refCat: String?
    @Option(help: "Reference catalogue column of RA in degrees (default: ra, ra_icrs, raj2000, alpha_j2000, ...).") var raCol: String?
    @Option(help: "Reference catalogue column of Dec in degrees (default: dec, de_icrs, dej2000, delta_j2000, ...).") var decCol: String?
    @Option(help: "Reference catalogue column of magnitude, to pick the brightest stars (default: mag, phot_g_mean_mag, gmag, ...; else file order).") var magCol: String?
    @Flag(help: "Do not resample: write SOURCE with its WCS tied to the template's (-tf with a WCS) or fitted to --ref-cat; other HDUs untouched.") var updateWcs = false
    @Option(help: "auto (BIC among shift, similarity, affine and, unless --update-wcs, polynomials of order 2 to --poly-order; never a spline), shift, similarity, affine, poly (with --update-wcs written as TAN-SIP) or spline (the linear fit plus spline surfaces of its residuals in template pixels, as spalipy; not with --update-wcs).") var model = "auto"
    @Option(help: "Polynomial distortion order for --model poly, or the highest --model auto tries (2 to 5).") var polyOrder = 3
    @Option(help: "Degree of the --model spline surfaces, 1 to 5 (default 3); 0: no spline, a plain affine fit (spalipy's spline_order). Only with --model spline.") var splineOrder: Int?
    @Option(help: "While the RMS residual per axis of --model spline exceeds this many pixels, a finer grid of interior knots is tried; below it the spline is one patch (default 1: spalipy's smoothing s = number of stars). Only with --model spline.") var splineSmoothing: Double?
    @Option(help: "Initial matching: triangles (astroalign's: any rotation, scale and mirror, from 3 stars), quads (spalipy's 4-star hash codes) or auto (triangles).") var match = "auto"
    @Option(help: "Mirror parity: auto (try both), no, yes.") var flip = "auto"
    @Option(help: "Cross-match radius in template pixels.") var maxMatchDist = 3.0
    @Option(help: "Matches required (default: a fifth of the smaller star list, 5 to 20).") var minNMatch: Int?
    @Option(help: "Cap on detections per image: a count, or a fraction in (0,1) (default: all).") var nDet: Double?
    @Option(help: "Brightest detections per image that form triangles, or per sub-tile that form quads (default: 40 for triangles, 20 for quads).") var nQuadDet: Int?
    @Option(help: "Quads: each of a quad's six separations must exceed this, in pixels (default: 50).") var minQuadSep: Double?
    @Option(help: "Quads: stars closer than this to the image edge form no quads, in pixels (default: 0).") var quadEdgeBuffer: Double?
    @Option(help: "Quads: most candidate quads tried per sub-tile and parity (default: 10).") var maxQuadCand: Int?
    @Option(help: "Quads: stop after this many candidates in a row without more matches (default: 2).") var patienceQuadCand: Int?
    @Option(help: "Quads: largest distance between a source and a template quad's 4-D hash code (default: 0.005).") var maxQuadHashDist: Double?
    @Option(help: "Quads: cut the source into N x N sub-tiles, each matched on its own (default: 1).") var subTile: Int?
    @Option(help: "Drop both stars of pairs closer than this, in pixels (0 = off).") var minSep = 0.0
    @Option(help: "Drop detections with a FWHM below this, in pixels (hot pixels, cosmic rays).") var minFwhm = 1.0
    @Option(help: "Drop detections with any of these SExtractor flag bits.") var badFlagBits = 0
    @Option(help: "Reject matches beyond this many robust sigma in the fit.") var clipSigma = 3.5
    @Option(help: "Interpolation: spline3 (cubic B-spline), lanczos3, bilinear, nearest.") var interp = "spline3"
    @Option(help: "Output value where the source does not reach: NaN or a number.") var fillval = "NaN"
    @Flag(help: "Multiply by the pixel-area ratio so fluxes are kept when pixel scales differ.") var conserveFlux = false
    @Flag(help: "Grow the output grid from the template's to hold the whole source (spalipy's preserve_footprints): its WCS is the template's with CRPIX shifted. Not with --update-wcs or --output-shape.") var preserveFootprints = false
    @Option(help: "Output grid X,Y (default: the template's; the source's with -tc).") var outputShape: String?
    @Option(help: "Refuse (exit 65, no output) when the fit RMS exceeds this, in pixels.") var maxRms: Double?
    @Option(help: "Accepted for spalipy-compatible scripts and ignored: matching here is deterministic (nothing random), so results do not depend on it.") var seed: Int?
    @Option(help: "Save the transform and its statistics as JSON here.") var transform: String?
    @Option(help: "Pixel origin of catalogue positions: 1 (SExtractor) or 0.") var catOrigin = 1
    @Option(help: "Catalogue column of x (default: XWIN_IMAGE, X_IMAGE, XPEAK_IMAGE).") var xCol: String?
    @Option(help: "Catalogue column of y (default: YWIN_IMAGE, Y_IMAGE, YPEAK_IMAGE).") var yCol: String?
    @Option(help: "Catalogue column of flux (default: FLUX, FLUX_BEST, FLUX_AUTO, FLUX_ISO, FLUX_APER).") var fluxCol: String?
    @Option(help: "Catalogue column of FWHM (default: FWHM_IMAGE).") var fwhmCol: String?
    @Option(help: "Catalogue column of flags (default: FLAGS).") var flagCol: String?
    @OptionGroup var detection: AlignDetectionOptions
    @OptionGroup var common: CommonOptions

    /// The template image, by -tf or (--simple) as the third positional.
    private var templateImage: String? { templateFits ?? simpleTemplate }

    func validate() throws {
        if simple { try validateSimple() } else if simpleTemplate != nil {
            throw ValidationError("a third positional (TEMPLATE) goes with --simple; otherwise give -tf TEMPLATE")
        }
        guard [templateImage, templateCat, refCat].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give one template: -tf TEMPLATE.fits, -tc TEMPLATE.cat or --ref-cat CATALOGUE")
        }
        if refCat != nil && !updateWcs { throw ValidationError("--ref-cat needs --update-wcs (there is no template grid to warp onto)") }
        if updateWcs && templateCat != nil { throw ValidationError("--update-wcs needs -tf TEMPLATE.fits (its WCS) or --ref-cat CATALOGUE") }
        guard ["auto", "poly", "spline"].contains(model) || TransformModel(rawValue: model) != nil else {
            throw ValidationError("--model takes auto, shift, similarity, affine, poly or spline")
        }
        guard (2...5).contains(polyOrder) else { throw ValidationError("--poly-order takes 2 to 5") }
        if let splineOrder {
            guard (0...5).contains(splineOrder) else { throw ValidationError("--spline-order takes 0 (no spline) to 5") }
            if model != "spline" { throw ValidationError("--spline-order goes with --model spline (auto never fits a spline)") }
        }
        if let splineSmoothing {
            guard splineSmoothing > 0 else { throw ValidationError("--spline-smoothing must be positive") }
            if model != "spline" { throw ValidationError("--spline-smoothing goes with --model spline") }
        }
        if model == "spline" && splineOrder != 0 && updateWcs {
            throw ValidationError("--update-wcs cannot carry a spline model (a WCS holds a polynomial): use --model poly, written as TAN-SIP")
        }
        guard InitialMatching(rawValue: match) != nil || match == "auto" else { throw ValidationError("--match takes auto, triangles or quads") }
        guard ["auto", "no", "yes"].contains(flip) else { throw ValidationError("--flip takes auto, no or yes") }
        guard Interpolation(rawValue: interp) != nil else { throw ValidationError("--interp takes spline3, lanczos3, bilinear or nearest") }
        guard fillval.lowercased() == "nan" || Float(fillval) != nil else { throw ValidationError("--fillval takes NaN or a number") }
        guard maxMatchDist > 0 else { throw ValidationError("--max-match-dist must be positive") }
        if let minNMatch, minNMatch < 3 { throw ValidationError("--min-n-match must be at least 3") }
        if let nDet, !(nDet > 0) || (nDet > 1 && nDet != nDet.rounded()) { throw ValidationError("--n-det takes a count (1 or more) or a fraction in (0,1)") }
        if let nQuadDet, nQuadDet < (match == "quads" ? 4 : 3) {
            throw ValidationError("--n-quad-det must be at least \(match == "quads" ? "4 for quads" : "3 for triangles")")
        }
        try validateQuadOptions()
        guard minSep >= 0, clipSigma > 0 else { throw ValidationError("--min-sep must be >= 0 and --clip-sigma positive") }
        guard catOrigin == 0 || catOrigin == 1 else { throw ValidationError("--cat-origin takes 0 or 1") }
        if let maxRms, !(maxRms > 0) { throw ValidationError("--max-rms must be positive") }
        if preserveFootprints && (updateWcs || outputShape != nil) {
            throw ValidationError("--preserve-footprints sets the output grid of a warp: not with \(updateWcs ? "--update-wcs" : "--output-shape")")
        }
        if outputShape != nil && shape == nil { throw ValidationError("--output-shape takes X,Y (two positive integers)") }
    }

    /// --simple fixes spalipy's align-fits-simple settings: options saying otherwise contradict it.
    private func validateSimple() throws {
        if simpleTemplate != nil && (templateFits != nil || templateCat != nil) {
            throw ValidationError("--simple takes the template as the third positional: drop -tf/-tc")
        }
        if !["auto", "affine"].contains(model) { throw ValidationError("--simple fits an affine model (spalipy's spline_order 0): drop --model \(model)") }
        if let nDet, nDet != 0.9 { throw ValidationError("--simple fixes --n-det 0.9") }
        if let patienceQuadCand, patienceQuadCand != 1 { throw ValidationError("--simple fixes --patience-quad-cand 1") }
        if let subTile, subTile != 1 { throw ValidationError("--simple fixes --sub-tile 1") }
    }

    /// The quad settings: only with --match quads (auto is triangles), each in its range.
    private func validateQuadOptions() throws {
        let given = [("--min-quad-sep", minQuadSep != nil), ("--quad-edge-buffer", quadEdgeBuffer != nil), ("--max-quad-cand", maxQuadCand != nil),
                     ("--patience-quad-cand", patienceQuadCand != nil), ("--max-quad-hash-dist", maxQuadHashDist != nil),
                     ("--sub-tile", subTile != nil)].filter(\.1).map(\.0)
        if match != "quads", let first = given.first {
            throw ValidationError("\(first) applies to --match quads (--match \(match) uses triangles)")
        }
        if let minQuadSep, !(minQuadSep >= 0) { throw ValidationError("--min-quad-sep must be >= 0") }
        if let quadEdgeBuffer, !(quadEdgeBuffer >= 0) { throw ValidationError("--quad-edge-buffer must be >= 0") }
        if let maxQuadCand, maxQuadCand < 1 { throw ValidationError("--max-quad-cand must be at least 1") }
        if let patienceQuadCand, patienceQuadCand < 1 { throw ValidationError("--patience-quad-cand must be at least 1") }
        if let maxQuadHashDist, !(maxQuadHashDist > 0) { throw ValidationError("--max-quad-hash-dist must be positive") }
        if let subTile, !(1...16).contains(subTile) { throw ValidationError("--sub-tile takes 1 to 16") }
    }

    private var shape: (Int, Int)? {
        guard let outputShape else { return nil }
        let parts = outputShape.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return nil }
        return (parts[0], parts[1])
    }

    func run() throws {
        common.apply()
        try OutputPlan.checkDistinct(inputs: [source, templateImage, templateCat, sourceCat, refCat, sourceMask].compactMap { $0 },
                                     outputs: [output, transform].compactMap { $0 })
        var o = AlignOptions()
        o.detection = detection.options
        let model = simple ? "affine" : model
        o.registration.model = TransformModel(rawValue: model)
        if model == "spline" {
            // --spline-order 0: spalipy's plain affine.
            if splineOrder == 0 { o.registration.model = .affine } else { o.registration.splineOrder = splineOrder ?? 3 }
            o.registration.splineSmoothing = splineSmoothing ?? 1
        } else if model == "poly" {
            o.registration.polyOrders = polyOrder...polyOrder
            o.registration.forcePoly = true
        } else if model == "auto" && !updateWcs {
            // --update-wcs keeps auto linear (TAN): a polynomial, written as SIP, when asked.
            o.registration.polyOrders = 2...polyOrder
        }
        o.registration.maxMatchDist = maxMatchDist
        o.registration.minNMatch = minNMatch
        o.registration.nDet = simple ? 0.9 : nDet
        o.registration.matching = InitialMatching(rawValue: match) ?? .triangles
        o.registration.nControl = nQuadDet
        if let minQuadSep { o.registration.quads.minSeparation = minQuadSep }
        if let quadEdgeBuffer { o.registration.quads.edgeBuffer = quadEdgeBuffer }
        if let maxQuadCand { o.registration.quads.maxCandidates = maxQuadCand }
        if let patienceQuadCand { o.registration.quads.patience = patienceQuadCand }
        if let maxQuadHashDist { o.registration.quads.maxHashDistance = maxQuadHashDist }
        if let subTile { o.registration.quads.subTile = subTile }
        if simple { (o.registration.quads.patience, o.registration.quads.subTile) = (1, 1) }
        o.registration.minSep = minSep
        o.registration.minFWHM = minFwhm
        o.registration.badFlagBits = badFlagBits
        o.registration.flip = flip == "auto" ? nil : flip == "yes"
        o.registration.clipSigma = clipSigma
        o.columns.x = xCol; o.columns.y = yCol; o.columns.flux = fluxCol; o.columns.fwhm = fwhmCol; o.columns.flags = flagCol
        o.columns.origin = Double(catOrigin)
        o.referenceColumns.ra = raCol; o.referenceColumns.dec = decCol; o.referenceColumns.mag = magCol
        o.interpolation = Interpolation(rawValue: interp)!
        o.fill = fillval.lowercased() == "nan" ? .nan : Float(fillval)!
        o.conserveFlux = conserveFlux
        o.outputWidth = shape?.0
        o.outputHeight = shape?.1
        o.updateWCS = updateWcs
        o.maxRMS = maxRms
        o.transformFile = transform
        o.sourceMask = sourceMask
        o.preserveFootprints = preserveFootprints
        let template: AlignTemplate = templateImage.map { .image($0) } ?? refCat.map { .reference($0) } ?? .catalogue(templateCat!)
        let r = try Align.run(source: source, template: template, sourceCatalogue: sourceCat, output: output,
                              options: o, overwrite: common.overwrite)
        if common.json { try printJSON(r); return }
        let t = r.transform
        Console.out("astrotool align: \(r.source) -> \(r.output) (\(r.mode) onto \(r.template), \(r.width)x\(r.height))")
        Console.out("Matched \(t.matches) detections within \(maxMatchDist) pixels, \(t.used) used (detections: source \(t.sourceDetections), template \(t.templateDetections))")
        Console.out("model \(t.model), parity \(t.parity): " + String(format: "scale %.6f x %.6f, rotation %.4f deg, shear %.4f deg, shift %.3f %.3f",
                                                                      t.scaleX, t.scaleY, t.rotation, t.shear, t.shiftX, t.shiftY))
        if let k = t.polyOrder {
            Console.out(String(format: "polynomial order %d: at most %.4f px from its affine part (the linear part below)", k, t.polyMaxDeviation ?? .nan))
        }
        if let k = t.splineOrder {
            Console.out(String(format: "spline of degree %d, %d interior knots per axis: corrects the linear part below by at most %.4f px", k, t.splineKnots ?? 0, t.splineMaxDeviation ?? .nan))
        }
        Console.out(String(format: "rms %.4f px, robust rms %.4f px, p90 %.4f px, chi scale %.3f", t.rms, t.robustRMS, t.p90, t.chiScale))
        if let n = r.referenceStars {
            Console.out(String(format: "reference catalogue: %d stars in the frame; WCS moved %.4f arcsec at CRPIX, rotated %.5f deg; rms %.4f arcsec",
                               n, r.pointingCorrection ?? .nan, r.rollCorrection ?? .nan, r.rmsArcsec ?? .nan))
        }
        Console.out(String(format: "x = %.4f, %.4f (%.4f)", t.meanDx, t.medianDx, t.stdDx))
        Console.out(String(format: "y = %.4f, %.4f (%.4f)", t.meanDy, t.medianDy, t.stdDy))
    }
}

/// `astrotool align detect IMAGE -o CAT`: sources into a SExtractor catalogue.
struct AlignDetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Detect sources and write a SExtractor catalogue, ASCII_HEAD or FITS_LDAC (1-based X_IMAGE/Y_IMAGE, XWIN_IMAGE/YWIN_IMAGE).",
        discussion: """
        The format follows --format, or the catalogue's name: FITS_LDAC for .ldac, .fits, .fit and .fts, \
        ASCII_HEAD otherwise.
        Example: astrotool align detect sci_001.fits -o sci_001.cat --regions sci_001.reg
        """
    )

    @Argument(help: "Image (FITS or extension).") var image: String
    @Option(name: .shortAndLong, help: "Output catalogue.") var output: String
    @Option(help: "auto (by the output's name: .ldac/.fits/.fit/.fts are FITS_LDAC), ascii (ASCII_HEAD) or ldac (FITS_LDAC).") var format = "auto"
    @Option(help: "Also write DS9 regions (image coordinates) here.") var regions: String?
    @OptionGroup var detection: AlignDetectionOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard format == "auto" || CatalogueFormat(rawValue: format) != nil else { throw ValidationError("--format takes auto, ascii or ldac") }
    }

    func run() throws {
        common.apply()
        try OutputPlan.checkDistinct(inputs: [image], outputs: [output, regions].compactMap { $0 })
        let r = try Align.detect(image: image, catalogue: output, format: CatalogueFormat(rawValue: format), regions: regions,
                                 options: detection.options, overwrite: common.overwrite)
        if common.json { try printJSON(r); return }
        Console.out("astrotool align detect: \(r.image): \(r.detections) sources -> \(r.catalogue), \(r.format == "ldac" ? "FITS_LDAC" : "ASCII_HEAD")"
                    + String(format: " (background %.6g, rms %.4g)", r.background, r.rms))
    }
}
