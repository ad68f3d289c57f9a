import AstroImage

/// Which value of the clipped sample is "the sky".
public enum SkyStatistic: String, Sendable, CaseIterable {
    case mode, median, mean, midpt
}

/// A sky statistic and the number of pixels it rests on (after clipping): the match weight.
public struct SkyValue: Sendable, Equatable {
    public var value: Double
    public var npix: Int
}

/// The sky statistic of skymatch (docs/skymatch.md §4): IRAF `imstatistics` clipping and
/// histogram estimators in the corrected form of `Statistics.imstat`, so it is the same
/// number `ccdproc stats` reports.
public struct SkyStats: Sendable {
    public var statistic = SkyStatistic.mode
    /// Absolute limits applied before clipping (nil: none).
    public var lower: Double?
    public var upper: Double?
    public var nclip = 5
    public var lsigma = 4.0
    public var usigma = 4.0
    /// Histogram bin width for mode and midpt, in units of the clipped σ.
    public var binwidth = 0.1

    public init() {}

    /// The statistic of the finite values whose `mask` byte is 0; nil when none survive.
    ///
    /// `median` is the exact median of the final clipped sample (the limits are honoured even
    /// with `nclip = 0`, unlike imagestats). When the histogram is degenerate (constant data,
    /// or too few distinct values for bins of `binwidth·σ`) `mode` and `midpt` fall back to
    /// that median, so a flat image gives its own level instead of no value.
    public func measure(_ values: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<UInt8>? = nil) -> SkyValue? {
        // The histogram only when mode or midpt asks for it; the median (two passes more) when
        // asked for, or when the histogram's estimate has no value (degenerate data: rare, so
        // the clipping is then done again).
        func run(histogram: Bool, median: Bool) -> (stats: IMStats, median: Double) {
            Statistics.imstatWithMedian(values, mask: mask, lower: lower, upper: upper, nclip: nclip, lsigma: lsigma,
                                        usigma: usigma, binwidth: binwidth, histogram: histogram, median: median)
        }
        let (s, median) = run(histogram: statistic == .mode || statistic == .midpt, median: statistic == .median)
        guard s.npix > 0 else { return nil }
        var value: Double
        switch statistic {
        case .mean: value = s.mean
        case .mode: value = s.mode
        case .midpt: value = s.midpt
        case .median: value = median
        }
        if !value.isFinite { value = statistic == .median ? median : run(histogram: false, median: true).median }
        return value.isFinite ? SkyValue(value: value, npix: s.npix) : nil
    }
}
