import AstroImage
import Foundation

/// `astrotool ccdproc cosmicray`: finds cosmic rays in every chip of a calibrated frame, replaces
/// them, and sets the COSMIC_RAY bit (4) in MASK. Units are handled so the pitfall of
/// ccdproc's wrapper (an ADU image relabelled electrons, σ left unscaled) cannot happen: the
/// detection works in electrons with the frame's gain, and the output stays in the input's unit
/// unless `gainApply` asks for electrons (then data and ERR are both scaled).
public struct CosmicRayOptions: Sendable {
    public enum Method: String, Sendable, CaseIterable { case lacosmic, median }
    /// A number or the header keyword holding one.
    public typealias Quantity = ProcessOptions.Quantity

    public var method = Method.lacosmic
    public var lacosmic = LACosmicOptions()
    public var median = CosmicRayMedianOptions()
    /// e⁻/ADU for ADU data; nil: the header's GAIN, else 1. Electron data use 1.
    public var gain: Quantity?
    /// e⁻; nil: the header's RDNOISE, else 6.5.
    public var readNoise: Quantity?
    /// Saturation; nil: the header's SATURATE in data units, else 65535 ADU.
    public var saturation: Saturation?
    public var gainApply = false
    /// Leave the frame's MASK out of detection (it is used by default).
    public var ignoreMask = false
    /// Extra bad-pixel mask (non-zero = bad) and L.A.Cosmic's background and variance images.
    public var inmask: [UInt8]?
    public var background: [Float]?
    public var variance: [Float]?
    public var logStyle = StepLog.Style.iraf
    public var software = "astrotool"

    /// A saturation level with its unit: electrons, data units (ADU), or a header keyword in ADU.
    public enum Saturation: Sendable, Equatable {
        case electrons(Double), adu(Double), keyword(String)

        /// "65535" and "65535e" are electrons (astroscrappy's unit), "65535adu" ADU, else a keyword.
        public static func parse(_ text: String) -> Saturation {
            let t = text.trimmingCharacters(in: .whitespaces).lowercased()
            if t.hasSuffix("adu"), let v = Double(t.dropLast(3)) { return .adu(v) }
            for suffix in ["electrons", "electron", "e-", "e"] where t.hasSuffix(suffix) {
                if let v = Double(t.dropLast(suffix.count)) { return .electrons(v) }
            }
            if let v = Double(t) { return .electrons(v) }
            return .keyword(text.uppercased())
        }
    }

    public init() {}
}

/// What the step did to one chip.
public struct CosmicRayReport: Sendable, Encodable {
    public var hdu: String?
    public var flagged: Int
    /// Flags per L.A.Cosmic iteration.
    public var iterations: [Int]?
    public var gain: Double
    public var readNoise: Double
    public var saturationElectrons: Double
    public var unit: String
}

public enum CosmicRay {
    public static func run(_ input: CCDFile, options: CosmicRayOptions) throws -> (CCDFile, [CosmicRayReport]) {
        var output = input
        var reports: [CosmicRayReport] = []
        let log = StepLog(style: options.logStyle)
        for c in input.chips.indices {
            var chip = input.chips[c]
            let report = try runChip(&chip, index: c, file: input, options: options, log: log)
            output.chips[c] = chip
            reports.append(report)
        }
        return (output, reports)
    }

    static func runChip(_ chip: inout CCDChip, index: Int, file: CCDFile, options o: CosmicRayOptions,
                        log: StepLog) throws -> CosmicRayReport {
        func fail(_ op: String, _ reason: String) -> AstroError {
            AstroError(.badData, file: file.path, hdu: chip.hduLabel, operation: op, reason: reason)
        }
        func header(_ key: String) -> Double? {
            file.lookup(key, chip: index)?.double(key) ?? chip.image.header.double(key)
        }
        func number(_ q: CosmicRayOptions.Quantity?, fallback: String, default value: Double, _ what: String) throws -> Double {
            switch q {
            case .value(let v): return v
            case .keyword(let key):
                guard let v = header(key) else { throw fail(what, "no numeric \(key) keyword in the header") }
                return v
            case nil: return header(fallback) ?? value
            }
        }
        let image = chip.image
        let n = image.pixels.count
        let unit = CCDUnit.of(image.header)
        if unit.perSecond {
            throw fail("finding cosmic rays", "the data are a rate (\(unit)); find cosmic rays before dividing by the exposure time")
        }
        let electrons = unit.base == .electron
        // The gain that turns data into electrons, and the detector's, for ADU saturation levels.
        let detectorGain = try number(o.gain, fallback: "GAIN", default: 1, "reading the gain")
        guard detectorGain.isFinite && detectorGain > 0 else { throw fail("reading the gain", "gain \(detectorGain) is not positive") }
        let gain = electrons ? 1 : detectorGain
        let readNoise = try number(o.readNoise, fallback: "RDNOISE", default: 6.5, "reading the read noise")
        guard readNoise.isFinite && readNoise >= 0 else { throw fail("reading the read noise", "read noise \(readNoise) is not valid") }
        let saturation: Double
        switch o.saturation {
        case .electrons(let v)?: saturation = v
        case .adu(let v)?: saturation = v * detectorGain
        case .keyword(let key)?:
            guard let v = header(key) else { throw fail("reading the saturation level", "no numeric \(key) keyword in the header") }
            saturation = v * detectorGain
        case nil: saturation = (header("SATURATE") ?? 65535) * detectorGain
        }

        // Pixels kept out: the frame's MASK, the extra mask, and anything not finite (given a
        // neutral value for the filters and put back afterwards).
        if let extra = o.inmask, extra.count != n { throw fail("reading --inmask", "it does not have the frame's shape") }
        let frameMask = o.ignoreMask ? nil : image.mask, extra = o.inmask
        // One pass on all cores: each pixel's flag, and how many are not finite.
        var nonFiniteCount = 0
        let bad = [UInt8](unsafeUninitializedCapacity: n) { out, filled in
            let b = SendableMutableBuffer(out)
            nonFiniteCount = image.pixels.withUnsafeBufferPointer { pp in
                let pix = SendableBuffer(pp)
                return Parallel.mapBlocks(count: n, minBlock: 1 << 16) { r -> Int in
                    var count = 0
                    for i in r {
                        let finite = pix[i].isFinite
                        if !finite { count += 1 }
                        let flagged = !finite || (frameMask.map { $0[i] != 0 } ?? false) || (extra.map { $0[i] != 0 } ?? false)
                        (b.base + i).initialize(to: flagged ? 1 : 0)
                    }
                    return count
                }.reduce(0, +)
            }
            filled = n
        }
        var data = image.pixels
        let nonFinite = nonFiniteCount == 0 ? [] : data.indices.filter { !data[$0].isFinite }
        if !nonFinite.isEmpty {
            let fill = data.withUnsafeBufferPointer { Statistics.lowerMedian($0) }
            for i in nonFinite { data[i] = fill.isFinite ? fill : 0 }
        }
        for (plane, name) in [(o.background, "--inbkg"), (o.variance, "--invar")] {
            if let plane, plane.count != n { throw fail("reading \(name)", "it does not have the frame's shape") }
        }

        var flags: [UInt8], cleaned: [Float], iterations: [Int]?
        var detail: String
        switch o.method {
        case .lacosmic:
            var l = o.lacosmic
            l.gain = Float(gain); l.readnoise = Float(readNoise); l.satlevel = Float(saturation)
            let r = LACosmic.detect(data, width: image.width, height: image.height, inmask: bad,
                                    background: o.background, variance: o.variance, options: l)
            (flags, cleaned, iterations) = (r.mask, r.cleaned, r.found)
            detail = "lacosmic sigclip \(l.sigclip) sigfrac \(l.sigfrac) objlim \(l.objlim) niter \(l.niter) "
                + "\(l.sepmed ? "sepmed" : "full medians") \(l.cleantype.rawValue) fsmode \(l.fsmode.rawValue), "
                + "gain \(fmt(gain)) readnoise \(fmt(readNoise)) satlevel \(fmt(saturation)) e-"
        case .median:
            let sigma: [Float]
            if let u = image.uncertainty { sigma = u } else {
                // No ERR: the noise model √(g·D + R²)/g.
                sigma = data.map { d in Float((max(0, Double(d) * gain) + readNoise * readNoise).squareRoot() / gain) }
            }
            let r = CosmicRayMedian.detect(data, width: image.width, height: image.height, sigma: sigma, bad: bad, options: o.median)
            (flags, cleaned, iterations) = (r.mask, r.cleaned, nil)
            let m = o.median
            detail = "median thresh \(m.thresh) mbox \(m.mbox) gbox \(m.gbox) rbox \(m.rbox ?? m.mbox)"
                + (image.uncertainty == nil ? ", noise model gain \(fmt(gain)) readnoise \(fmt(readNoise))" : ", sigma from ERR")
        }
        for i in nonFinite { cleaned[i] = image.pixels[i]; flags[i] = 0 }

        var result = image
        result.pixels = cleaned
        // The cosmic-ray bit ORed into the mask and the flags counted, in one pass on all cores.
        var flagged = 0
        let given = image.mask, bit = MaskBits.cosmicRay.rawValue
        result.mask = [UInt8](unsafeUninitializedCapacity: n) { out, filled in
            let m = SendableMutableBuffer(out)
            flagged = flags.withUnsafeBufferPointer { fp in
                let f = SendableBuffer(fp)
                return Parallel.mapBlocks(count: n, minBlock: 1 << 16) { r -> Int in
                    var count = 0
                    for i in r {
                        let hit = f[i] != 0
                        count += Int(f[i])
                        (m.base + i).initialize(to: (given.map { $0[i] } ?? 0) | (hit ? bit : 0))
                    }
                    return count
                }.reduce(0, +)
            }
            filled = n
        }
        var outUnit = unit
        if o.gainApply && !electrons && gain != 1 {
            let g = Float(gain)
            result.pixels = result.pixels.map { $0 * g }
            result.uncertainty = result.uncertainty?.map { $0 * g }
            outUnit = .electron
            result.header.set("BUNIT", outUnit.description)
            detail += "; data and ERR multiplied by the gain"
        }
        log.record(.init(irafKey: "CRCOR", irafValue: "\(o.method.rawValue): \(flagged) pixels",
                         function: o.method == .lacosmic ? "cosmicray_lacosmic" : "cosmicray_median",
                         short: o.method == .lacosmic ? "crlacos" : "crmedian",
                         arguments: detail, history: "cosmic rays (\(detail)): \(flagged) pixels"),
                   in: &result.header)
        chip.image = result
        return CosmicRayReport(hdu: chip.hduLabel, flagged: flagged, iterations: iterations, gain: gain,
                               readNoise: readNoise, saturationElectrons: saturation, unit: outUnit.description)
    }

    private static func fmt(_ v: Double) -> String { String(format: "%.6g", v) }
}
