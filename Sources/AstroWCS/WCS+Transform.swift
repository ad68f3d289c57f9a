internal import CWCSLIB
import AstroImage

extension WCS {
    /// Maps 0-based pixel positions to (RA, Dec) in degrees, distortions included.
    ///
    /// Batched through one `wcsp2s` call. A point wcslib cannot transform (its `stat` bit mask is
    /// non-zero, e.g. inside the hole of a ZPN projection) or a non-finite input comes back as
    /// NaN in both outputs; the other points are unaffected and the call never throws.
    /// - Precondition: `x.count == y.count`.
    /// - Complexity: O(n), one C call (per point only if wcslib reports a whole-call failure).
    public func pixelToWorld(x: [Double], y: [Double]) -> (ra: [Double], dec: [Double]) {
        precondition(x.count == y.count, "pixelToWorld: x and y must have the same length")
        return inParallel(x, y) { w, a, b in w.serialPixelToWorld(x: a, y: b) }
    }

    private func serialPixelToWorld(x: [Double], y: [Double]) -> (ra: [Double], dec: [Double]) {
        let n = x.count
        var input = [Double](repeating: 0, count: 2 * n)
        var valid = [Bool](repeating: true, count: n)
        let crpix = referencePixel
        for i in 0..<n {
            if x[i].isFinite && y[i].isFinite {
                input[2 * i] = x[i] + 1
                input[2 * i + 1] = y[i] + 1
                if let d = pixelDistortion { (input[2 * i], input[2 * i + 1]) = d.focal(x[i] + 1, y[i] + 1) }
            } else {
                // Keep wcslib away from NaN/inf (its distortion iterations do not expect them).
                valid[i] = false
                input[2 * i] = crpix.x + 1
                input[2 * i + 1] = crpix.y + 1
            }
        }
        let world = transform(input, count: n, valid: &valid, forward: true).output
        let lng = Int(prm.pointee.lng), lat = Int(prm.pointee.lat)
        var ra = [Double](repeating: .nan, count: n)
        var dec = [Double](repeating: .nan, count: n)
        for i in 0..<n where valid[i] {
            ra[i] = world[2 * i + lng]
            dec[i] = world[2 * i + lat]
        }
        return (ra, dec)
    }

    /// Maps (RA, Dec) in degrees to 0-based pixel positions, distortions included (wcslib inverts
    /// them iteratively).
    ///
    /// Batched through one `wcss2p` call. A point wcslib cannot transform, or a non-finite input,
    /// comes back as NaN in both outputs; the call never throws.
    /// - Precondition: `ra.count == dec.count`.
    public func worldToPixel(ra: [Double], dec: [Double]) -> (x: [Double], y: [Double]) {
        precondition(ra.count == dec.count, "worldToPixel: ra and dec must have the same length")
        return inParallel(ra, dec) { w, a, b in w.serialWorldToPixel(ra: a, dec: b) }
    }

    /// Large batches are split over the cores, each part on its own ``copy()`` (a wcsprm is
    /// not thread-safe; copying only reads this one).
    private func inParallel(_ a: [Double], _ b: [Double],
                            _ body: @escaping @Sendable (WCS, [Double], [Double]) -> ([Double], [Double])) -> ([Double], [Double]) {
        guard a.count >= 65_536, Parallel.threads > 1 else { return body(self, a, b) }
        let template = UncheckedWCS(wcs: self)
        let parts = Parallel.mapBlocks(count: a.count, minBlock: 32_768) { block in
            let r = body(template.wcs.copy(), Array(a[block]), Array(b[block]))
            return UncheckedPair(first: r.0, second: r.1)
        }
        return (parts.flatMap(\.first), parts.flatMap(\.second))
    }

    private func serialWorldToPixel(ra: [Double], dec: [Double]) -> (x: [Double], y: [Double]) {
        let n = ra.count
        let lng = Int(prm.pointee.lng), lat = Int(prm.pointee.lat)
        let crval = referenceWorld
        var input = [Double](repeating: 0, count: 2 * n)
        var valid = [Bool](repeating: true, count: n)
        for i in 0..<n {
            if ra[i].isFinite && dec[i].isFinite {
                input[2 * i + lng] = ra[i]
                input[2 * i + lat] = dec[i]
            } else {
                valid[i] = false
                input[2 * i + lng] = crval.ra
                input[2 * i + lat] = crval.dec
            }
        }
        let pix = transform(input, count: n, valid: &valid, forward: false).output
        var x = [Double](repeating: .nan, count: n)
        var y = [Double](repeating: .nan, count: n)
        for i in 0..<n where valid[i] {
            if let d = pixelDistortion {
                // wcslib gave focal-plane coordinates; invert the pixel-side chain.
                guard let (px, py) = d.pixel(focal: pix[2 * i], pix[2 * i + 1]) else { continue }
                x[i] = px - 1
                y[i] = py - 1
            } else {
                x[i] = pix[2 * i] - 1
                y[i] = pix[2 * i + 1] - 1
            }
        }
        return (x, y)
    }

    /// One point; nil when wcslib cannot transform it.
    public func pixelToWorld(x: Double, y: Double) -> (ra: Double, dec: Double)? {
        let r = pixelToWorld(x: [x], y: [y])
        guard r.ra[0].isFinite, r.dec[0].isFinite else { return nil }
        return (r.ra[0], r.dec[0])
    }

    /// One point; nil when wcslib cannot transform it.
    public func worldToPixel(ra: Double, dec: Double) -> (x: Double, y: Double)? {
        let r = worldToPixel(ra: [ra], dec: [dec])
        guard r.x[0].isFinite, r.y[0].isFinite else { return nil }
        return (r.x[0], r.y[0])
    }

    /// Pixel → world that also returns wcslib's intermediate world coordinates (projection-plane
    /// x, y in degrees, distortions applied, in wcslib's axis order), interleaved. Points wcslib
    /// flags, or non-finite results, are NaN in both. Inputs are 0-based and must be finite.
    func pixelToWorldAndIntermediate(x: [Double], y: [Double]) -> (world: [Double], intermediate: [Double]) {
        let n = x.count
        var input = [Double](repeating: 0, count: 2 * n)
        for i in 0..<n {
            input[2 * i] = x[i] + 1
            input[2 * i + 1] = y[i] + 1
            if let d = pixelDistortion { (input[2 * i], input[2 * i + 1]) = d.focal(x[i] + 1, y[i] + 1) }
        }
        var valid = [Bool](repeating: true, count: n)
        var (world, img) = transform(input, count: n, valid: &valid, forward: true)
        for i in 0..<n where !valid[i] {
            world[2 * i] = .nan; world[2 * i + 1] = .nan
            img[2 * i] = .nan; img[2 * i + 1] = .nan
        }
        return (world, img)
    }

    /// Runs `wcsp2s` (forward) or `wcss2p` on interleaved 2-element coordinates (FITS pixels or
    /// world in wcslib's axis order). Clears `valid[i]` for every point wcslib flags in `stat`.
    /// Statuses 8/9 (some points bad) are per point; any other failure of a batch is retried
    /// point by point, so one pathological point cannot blank the rest. Returns the outputs and
    /// the intermediate world coordinates.
    private func transform(
        _ input: [Double], count n: Int, valid: inout [Bool], forward: Bool
    ) -> (output: [Double], intermediate: [Double]) {
        guard n > 0 else { return ([], []) }
        var output = [Double](repeating: .nan, count: 2 * n)
        var img = [Double](repeating: 0, count: 2 * n)
        var phi = [Double](repeating: 0, count: n)
        var theta = [Double](repeating: 0, count: n)
        var stat = [Int32](repeating: 0, count: n)

        func run(from start: Int, count m: Int) -> Int32 {
            input.withUnsafeBufferPointer { inp in
                output.withUnsafeMutableBufferPointer { out in
                    img.withUnsafeMutableBufferPointer { imgp in
                        phi.withUnsafeMutableBufferPointer { phip in
                            theta.withUnsafeMutableBufferPointer { thetap in
                                stat.withUnsafeMutableBufferPointer { statp in
                                    let o = 2 * start
                                    if forward {
                                        return wcsp2s(prm, Int32(m), 2, inp.baseAddress! + o, imgp.baseAddress! + o,
                                                      phip.baseAddress! + start, thetap.baseAddress! + start,
                                                      out.baseAddress! + o, statp.baseAddress! + start)
                                    } else {
                                        return wcss2p(prm, Int32(m), 2, inp.baseAddress! + o,
                                                      phip.baseAddress! + start, thetap.baseAddress! + start,
                                                      imgp.baseAddress! + o, out.baseAddress! + o,
                                                      statp.baseAddress! + start)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        let perPoint: Int32 = forward ? Int32(WCSERR_BAD_PIX.rawValue) : Int32(WCSERR_BAD_WORLD.rawValue)
        let status = run(from: 0, count: n)
        if status == 0 || status == perPoint {
            for i in 0..<n where stat[i] != 0 { valid[i] = false }
        } else if n == 1 {
            valid[0] = false
        } else {
            for i in 0..<n {
                stat[i] = 0
                let s = run(from: i, count: 1)
                if !(s == 0 || s == perPoint) || stat[i] != 0 { valid[i] = false }
            }
        }
        for i in 0..<n where valid[i] && !(output[2 * i].isFinite && output[2 * i + 1].isFinite) {
            valid[i] = false
        }
        return (output, img)
    }
}

/// A WCS handed to worker threads that only copy it (``WCS/copy()`` reads, never writes).
private struct UncheckedWCS: @unchecked Sendable { let wcs: WCS }
private struct UncheckedPair: Sendable { let first: [Double]; let second: [Double] }
