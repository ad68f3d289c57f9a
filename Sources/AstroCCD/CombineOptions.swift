import AstroFITS
import AstroImage

/// Options of `astrotool ccdproc combine` (ccdproc's `combine` and its Combiner clipping).
public struct CombineOptions: Sendable {
    public enum Method: String, Sendable, CaseIterable { case average, median, sum }

    /// ccdproc's `sigma_clipping`: centre and spread per pixel stack, strict thresholds.
    public struct SigmaClip: Sendable, Equatable {
        public enum Center: String, Sendable, CaseIterable { case mean, median }
        public enum Deviation: String, Sendable, CaseIterable { case std, madStd = "mad_std" }
        public var low = 3.0
        public var high = 3.0
        public var center = Center.mean
        public var deviation = Deviation.std
        /// ccdproc always runs one pass (astropy's maxiters=1).
        public var iterations = 1
        public init() {}
    }

    /// How each image is scaled before combining (a multiplier per image).
    public enum Scale: Sendable, Equatable {
        case none
        /// Normalise each image to the first's statistic (IRAF imcombine's scale=mean|median|mode).
        case toFirst(Statistic)
        /// Multiply by 1/statistic: every image to unit level (ccdproc's `scale=lambda a: 1/np.ma.median(a)`).
        case inverse(Statistic)
        /// t_first / t_image from the exposure-time keyword.
        case exposure
        /// The header keyword's value is the multiplier.
        case keyword(String)
        /// One multiplier per image, in input order.
        case values([Double])
    }

    public enum Statistic: String, Sendable, CaseIterable { case mean, median, mode }

    /// Where ERR comes from.
    public enum Uncertainty: String, Sendable, CaseIterable {
        /// The spread of the stack (ccdproc): std/√n (average), 1.4826·MAD/√n (median), std·√n (sum).
        case scatter
        /// Propagated from the inputs' ERR planes (ccdproc lacks this).
        case propagate
        case none
    }

    /// IRAF imcombine's rejection algorithms, all working from the ends of each pixel's sorted
    /// stack (docs/ccdproc.md); the alternative to ccdproc's sigma clipping and extrema.
    public struct Rejection: Sendable, Equatable {
        public enum Algorithm: String, Sendable, CaseIterable { case minmax, sigclip, avsigclip, ccdclip, crreject, pclip }
        public typealias Quantity = ProcessOptions.Quantity
        public var algorithm: Algorithm
        public var lsigma = 3.0
        public var hsigma = 3.0
        /// Centre sigclip on the median (IRAF's mclip=yes) rather than the mean without the extremes.
        public var mclip = true
        /// Keep at least this many values; negative: reject at most −nkeep.
        public var nkeep = 1
        /// minmax: how many (≥ 1) or what fraction (< 1) of the images to drop at each end.
        public var nlow = 1.0
        public var nhigh = 1.0
        /// pclip: the clipping width runs from the median to this many values (|pclip| ≥ 1) or
        /// this fraction of half the stack (|pclip| < 1) below (negative) or above it.
        public var pclip = -0.5
        /// Also reject each rejected value's neighbours within this radius (pixels) in its own
        /// image (IRAF's grow; 0: none).
        public var grow = 0.0
        /// ccdclip/crreject noise model, per image: read noise (e⁻), gain (e⁻/ADU), and the
        /// sensitivity noise as a fraction of the signal; numbers or header keywords.
        public var readNoise = Quantity.value(0)
        public var gain = Quantity.value(1)
        public var snoise = Quantity.value(0)
        public init(algorithm: Algorithm) { self.algorithm = algorithm }
    }

    /// Additive offsets, subtracted after scaling (IRAF's zero).
    public enum Zero: Sendable, Equatable {
        case none
        /// Each image's statistic (after scaling) brought to the first image's.
        case toFirst(Statistic)
        /// One offset per image, in input order, in data units.
        case values([Double])
        /// The header keyword's value is the offset.
        case keyword(String)
    }

    public var method = Method.average
    public var sigmaClip: SigmaClip?
    /// Raw values outside [lo, hi] are rejected (ccdproc `minmax_clip`, IRAF lthreshold/hthreshold).
    public var minmax: ClosedRange<Double>?
    /// The nlow lowest and nhigh highest values of each stack are rejected (ccdproc `clip_extrema`).
    public var extrema: (low: Int, high: Int)?
    public var scale = Scale.none
    public var zero = Zero.none
    /// Offsets between the frames: each is resampled onto a common grid first.
    public var shifts: ShiftOptions?
    /// Written where no value survives (default NaN; the pixel is masked either way).
    public var fillValue: Float?
    public var reject: Rejection?
    /// One weight per image for the average (ccdproc `weights`).
    public var weights: [Double]?
    /// Region for the scale statistics.
    public var statsec: String?
    public var exptimeKey = "EXPTIME"
    public var uncertainty = Uncertainty.scatter
    /// Bytes the line buffers of all inputs may use together.
    public var memLimit = 512 << 20
    public var goodBits = GoodBits.none
    /// Reproduce ccdproc 2.5.1 exactly: clip on raw unscaled data ignoring masks, extrema counting
    /// masked values, scale statistics on the plain data, weights summed over every image, a
    /// fully rejected sum or weighted average of 0.
    public var ccdprocCompat = false
    /// Under ccdprocCompat, whether clipping behaves like ccdproc's callables (`np.ma.mean`/`np.ma.std`,
    /// `combine`'s defaults, and `np.ma.median`/`mad_std`), which a NaN in a stack derails: with
    /// mean/std the whole stack is rejected, with median/mad_std nothing is clipped. False: like its
    /// NaN-safe strings (`'mean'`, `'std'`).
    public var ccdprocCallables = true
    public var pixelType: PixelType = .float32
    public var software = "astrotool"

    public init() {}
}
