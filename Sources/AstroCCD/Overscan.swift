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
        let correction = profile
        image.pixels.withUnsafeMutableBufferPointer { px in
            let dst = SendableMutableBuffer(px)
            correction.withUnsafeBufferPointer { cb in
                let c = SendableBuffer(cb)
                Parallel.forEachBlock(count: h, minBlock: 16) { rows in
                    for y in rows {
                        let row = y * w
                        if axis == 1 {
                            let v = c.base[y]
                            for x in 0..<w { dst.base[row + x] = Float(Double(dst.base[row + x]) - v) }
                        } else {
                            for x in 0..<w { dst.base[row + x] = Float(Double(dst.base[row + x]) - c.base[x]) }
                        }
                    }
                }
            }
        }
        let finite = correction.filter(\.isFinite)
        return OverscanResult(mean: finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count),
                              min: finite.min() ?? .nan, max: finite.max() ?? .nan)
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
