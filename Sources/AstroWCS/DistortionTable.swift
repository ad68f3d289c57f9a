import AstroImage

/// One FITS Paper IV lookup table (a WCSDVARR or D2IMARR image): the offset, in pixels, that one
/// axis gets at each point of a coarse grid over the detector, interpolated bilinearly.
struct DistortionTable: Sendable {
    let width: Int
    let height: Int
    /// Row-major, float32 as stored.
    let data: [Float]
    /// The table's own CRPIX, CRVAL and CDELT per axis: image coordinate (1-based) →
    /// table position ((img − CRVAL) / CDELT + CRPIX), 1-based.
    let crpix: (Double, Double)
    let crval: (Double, Double)
    let cdelt: (Double, Double)

    /// The offset at 1-based image coordinates (x, y), as astropy computes it: the table
    /// position clamped to the table, then bilinear interpolation with edge values repeated.
    @inline(__always)
    func offset(_ x: Double, _ y: Double) -> Double {
        let tx = clamp((x - crval.0) / cdelt.0 + crpix.0 - 1, width)
        let ty = clamp((y - crval.1) / cdelt.1 + crpix.1 - 1, height)
        let fx = tx.rounded(.down), fy = ty.rounded(.down)
        let ix = Int(fx), iy = Int(fy)
        let wx = tx - fx, wy = ty - fy
        func at(_ i: Int, _ j: Int) -> Double {
            Double(data[min(max(j, 0), height - 1) * width + min(max(i, 0), width - 1)])
        }
        return at(ix, iy) * (1 - wx) * (1 - wy) + at(ix, iy + 1) * (1 - wx) * wy
            + at(ix + 1, iy) * wx * (1 - wy) + at(ix + 1, iy + 1) * wx * wy
    }

    @inline(__always)
    private func clamp(_ v: Double, _ n: Int) -> Double { min(max(v, 0), Double(n - 1)) }
}
