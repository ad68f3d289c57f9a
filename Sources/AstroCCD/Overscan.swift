import AstroImage

/// Overscan subtraction (ccdproc `subtract_overscan`, IRAF ccdproc's overscan step): collapse the
/// overscan strip to one value per line (or column), optionally model that profile, and subtract
/// it from the whole frame. Non-finite overscan pixels are skipped rather than poisoning a line.
public struct OverscanOptions: Sendable, Equatable {
    public enum Statistic: String, Sendable, CaseIterable { case mean, median }

    /// A polynomial model of the profile; every family fits the same values (see `Polyfit`),
    /// the name is kept for the log.
    public struct Model: Sendable, Equatable, CustomStringConvertible {
        public enum Family: String, Sendable, CaseIterable { case chebyshev, legendre, poly }
        public var family: Family
        public var degree: Int
        public init(_ family: Family, degree: Int) { self.family = family; self.degree = degree }
        public var description: String { "\(family.rawValue):\(degree)" }

        /// `chebyshev:N`, `legendre:N`, `poly:N`; nil for `none`.
        public static func parse(_ text: String) throws -> Model? {
            if text == "none" { return nil }
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let family = Family(rawValue: parts[0]), let degree = Int(parts[1]),
                  (0...30).contains(degree) else {
                throw AstroError(.usage, operation: "parsing --oscan-model",
                                 reason: "'\(text)' is not none, chebyshev:N, legendre:N or poly:N with N in 0…30")
            }
            return Model(family, degree: degree)
        }
    }

    /// The strip, already validated against the frame.
    public var region: PixelRegion
    /// How the user wrote it (for the log), FITS convention.
    public var sectionText: String
    /// numpy axis collapsed: 1 = one value per line (strip of columns), 0 = one per column;
    /// nil picks 0 for a strip wider than tall, else 1 (ccdproc's rule).
    public var axis: Int?
    public var statistic: Statistic
    public var model: Model?
    public var rejection: Polyfit.Rejection?

    public init(region: PixelRegion, sectionText: String, axis: Int? = 1, statistic: Statistic = .median,
                model: Model? = nil, rejection: Polyfit.Rejection? = nil) {
        self.region = region; self.sectionText = sectionText; self.axis = axis
        self.statistic = statistic; self.model = model; self.rejection = rejection
    }

    /// The axis actually used.
    public var resolvedAxis: Int { axis ?? (region.x.count > region.y.count ? 0 : 1) }
}

/// What an overscan subtraction removed, for the log and `--json`.
public struct OverscanResult: Sendable, Equatable {
    public var mean: Double
    public var min: Double
    public var max: Double
}

public enum Overscan {
    /// Subtracts the overscan profile from `image` in place (uncertainty and mask unchanged, as
    /// ccdproc: the profile's own noise is not added to σ).
    /// - Throws: `.badData` when the strip does not span the frame along the kept axis (there
    ///   would be lines without an overscan value).
    public static func subtract(_ image: inout Image, _ options: OverscanOptions, file: String? = nil) throws -> OverscanResult {
        let p = try profile(image, options, file: file)
        apply(p.correction, axis: p.axis, to: &image)
        return p.result
    }

    /// The value `subtract` takes from each line (axis 1) or column (axis 0) of the frame, its
    /// model fitted when there is one, and the summary; the frame is left as it is.
    public static func profile(_ image: Image, _ options: OverscanOptions, file: String? = nil) throws
        -> (correction: [Double], axis: Int, result: OverscanResult) {
        let r = options.region
        let axis = options.resolvedAxis
        let w = image.width, h = image.height
        if axis == 1 && r.y.count != h || axis == 0 && r.x.count != w {
            let span = axis == 1 ? "all \(h) lines" : "all \(w) columns"
            throw AstroError(.badData, file: file, operation: "overscan \(options.sectionText)",
                             reason: "the overscan strip must cover \(span) of the \(w)x\(h) frame along --oscan-axis \(axis)")
        }
        let profileCount = axis == 1 ? h : w
        var profile = [Double](repeating: .nan, count: profileCount)
        image.pixels.withUnsafeBufferPointer { px in
            let src = SendableBuffer(px)
            profile.withUnsafeMutableBufferPointer { pr in
                let out = SendableMutableBuffer(pr)
                Parallel.forEachBlock(count: profileCount, minBlock: 64) { block in
                    var scratch: [Double] = []
                    for k in block {
                        scratch.removeAll(keepingCapacity: true)
                        if axis == 1 {
                            // Line y, flipped strips collapse the same way.
                            let y = r.y.lowerBound + k
                            for x in r.x { let v = src.base[y * w + x]; if v.isFinite { scratch.append(Double(v)) } }
                        } else {
                            let x = r.x.lowerBound + k
                            for y in r.y { let v = src.base[y * w + x]; if v.isFinite { scratch.append(Double(v)) } }
                        }
                        out.base[k] = collapse(&scratch, options.statistic)
                    }
                }
            }
        }
        if let model = options.model {
            profile = Polyfit.fit(profile, degree: model.degree, rejection: options.rejection)
        }
        let finite = profile.filter(\.isFinite)
        let result = OverscanResult(mean: finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count),
                                    min: finite.min() ?? .nan, max: finite.max() ?? .nan)
        return (profile, axis, result)
    }

    /// Subtracts a `profile` from `image`, in place: per line (axis 1) or column (axis 0) of the
    /// frame the profile came from, or, when `image` is the crop `region` of that frame (the
    /// frame trimmed first: one copy of the pixels instead of two), per line or column of the
    /// frame each of its pixels came from. The same Double arithmetic either way.
    public static func apply(_ correction: [Double], axis: Int, to image: inout Image, croppedFrom region: PixelRegion? = nil) {
        let w = image.width, h = image.height
        let whole = region ?? PixelRegion.whole(width: w, height: h)
        precondition(whole.x.count == w && whole.y.count == h, "the crop's shape")
        image.pixels.withUnsafeMutableBufferPointer { px in
            let dst = SendableMutableBuffer(px)
            correction.withUnsafeBufferPointer { cb in
                let c = SendableBuffer(cb)
                Parallel.forEachBlock(count: h, minBlock: 16) { rows in
                    for y in rows {
                        let row = y * w
                        let line = whole.flipY ? whole.y.upperBound - 1 - y : whole.y.lowerBound + y
                        // Four pixels a step in Double lanes (LLVM left these loops scalar).
                        @inline(__always) func step(_ x: Int, _ v: SIMD4<Double>) {
                            (SIMD4<Double>(floatsAt: dst.base + row + x) - v).storeFloats(at: dst.base + row + x)
                        }
                        var x = 0
                        if axis == 1 {
                            let v = c.base[line]
                            while x + 4 <= w { step(x, SIMD4(repeating: v)); x += 4 }
                            for x in x..<w { dst.base[row + x] = Float(Double(dst.base[row + x]) - v) }
                        } else if whole.flipX {
                            for x in 0..<w { dst.base[row + x] = Float(Double(dst.base[row + x]) - c.base[whole.x.upperBound - 1 - x]) }
                        } else {
                            let first = whole.x.lowerBound
                            while x + 4 <= w { step(x, UnsafeRawPointer(c.base + first + x).loadUnaligned(as: SIMD4<Double>.self)); x += 4 }
                            for x in x..<w { dst.base[row + x] = Float(Double(dst.base[row + x]) - c.base[first + x]) }
                        }
                    }
                }
            }
        }
    }

    /// Mean or median (numpy's: the two middle values averaged for an even count); NaN when empty.
    static func collapse(_ values: inout [Double], _ statistic: OverscanOptions.Statistic) -> Double {
        let n = values.count
        guard n > 0 else { return .nan }
        switch statistic {
        case .mean:
            return values.reduce(0, +) / Double(n)
        case .median:
            values.sort()
            return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2])
        }
    }
}
