/// Parameters of L.A.Cosmic (van Dokkum 2001), named and defaulted as astroscrappy's
/// `detect_cosmics`. Values are Float because astroscrappy computes in float32, and agreeing
/// with it pixel for pixel depends on rounding the same way.
public struct LACosmicOptions: Sendable, Equatable {
    /// How flagged pixels are replaced between iterations (and in the output).
    public enum CleanType: String, Sendable, CaseIterable {
        /// Mean of the 5×5 box's usable pixels (not flagged, not masked).
        case meanmask
        /// Median of the same (the lower middle value for an even count).
        case medmask
        /// Inverse-distance weighted mean of the same.
        case idw
        /// Median of all 25 box pixels, flagged or not — what astroscrappy 1.3.0 documents but,
        /// through a typo, does not compute.
        case median
    }

    /// How the fine-structure image (which protects stars) is built.
    public enum FineStructure: String, Sendable, CaseIterable { case median, convolve }

    public enum PSFModel: String, Sendable, CaseIterable { case gauss, gaussx, gaussy, moffat }

    /// Laplacian-to-noise threshold for candidates.
    public var sigclip: Float = 4.5
    /// Neighbours of a cosmic ray need only sigfrac·sigclip.
    public var sigfrac: Float = 0.3
    /// Minimum contrast of the Laplacian over the fine structure.
    public var objlim: Float = 5
    /// Electrons per data unit.
    public var gain: Float = 1
    /// Read noise in electrons.
    public var readnoise: Float = 6.5
    /// Saturation in electrons (data × gain).
    public var satlevel: Float = 65536
    public var niter = 4
    /// Separable medians (faster, approximate) instead of true box medians.
    public var sepmed = true
    public var cleantype = CleanType.meanmask
    public var fsmode = FineStructure.median
    public var psfmodel = PSFModel.gauss
    public var psffwhm: Float = 2.5
    /// Side of the PSF kernel (odd).
    public var psfsize = 7
    public var psfbeta: Float = 4.765

    public init() {}
}
