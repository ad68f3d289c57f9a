import AstroImage
import Foundation

/// L.A.Cosmic cosmic-ray detection (van Dokkum 2001) as astroscrappy implements it, step for
/// step and in float32, so that masks agree pixel for pixel; docs/ccdproc.md lists where
/// astrotool departs from it on purpose.
public enum LACosmic {
    public struct Result: Sendable {
        /// 1 where a cosmic ray was found.
        public var mask: [UInt8]
        /// The data with cosmic rays replaced, in the input's units.
        public var cleaned: [Float]
        /// Pixels flagged by each iteration that ran.
        public var found: [Int]
    }

    /// Finds cosmic rays in `data` (width×height, row-major, with the sky still in it).
    /// `inmask` (non-zero = bad) keeps pixels out of detection and cleaning; `background` is
    /// removed during detection only; `variance` replaces the noise model. Non-finite pixels
    /// must be masked by the caller.
    /// `windowed`: false recomputes every pass over the whole frame, as astroscrappy does
    /// (for the tests that check the windows change nothing).
    public static func detect(_ data: [Float], width: Int, height: Int, inmask: [UInt8]? = nil,
                              background: [Float]? = nil, variance invar: [Float]? = nil,
                              options o: LACosmicOptions = .init(), windowed: Bool = true) -> Result {
        let gain = o.gain
        let clean = plane(width, height) { r, out in for i in r { out[i] = data[i] * gain } }
        let bkg = background.map { b in plane(width, height) { r, out in for i in r { out[i] = b[i] * gain } } }
        let given = Plane<UInt8>.unset(width: width, height: height)
        forEachPixelRange(width, height) { r in
            if let inmask { for i in r { given.base[i] = inmask[i] != 0 ? 1 : 0 } } else { (given.base + r.lowerBound).update(repeating: 0, count: r.count) }
        }

        // The variance in electrons², fixed once and then cleaned along with the data.
        let gg = gain * gain, rr = o.readnoise * o.readnoise
        let variance: Plane<Float>
        switch (invar, bkg) {
        case let (v?, b?): variance = plane(width, height) { r, out in for i in r { out[i] = v[i] * gg - b.base[i] } }
        case let (v?, nil): variance = plane(width, height) { r, out in for i in r { out[i] = v[i] * gg } }
        case let (nil, b?): variance = plane(width, height) { r, out in for i in r { out[i] = clean.base[i] - b.base[i] + rr } }
        case (nil, nil): variance = plane(width, height) { r, out in for i in r { out[i] = clean.base[i] + rr } }
        }

        let mask = maskSaturation(clean, given, o)
        if let bkg { for i in 0..<clean.count { clean.base[i] -= bkg.base[i] } }
        let maskView = UnsafeBufferPointer(start: mask.base, count: mask.count)
        let backgroundLevel = Statistics.lowerMedian(UnsafeBufferPointer(start: clean.base, count: clean.count), mask: maskView)
        let varianceLevel = Statistics.lowerMedian(UnsafeBufferPointer(start: variance.base, count: variance.count), mask: maskView)
        let kernel = o.fsmode == .convolve ? PSFKernel.make(o) : nil

        let crmask = Plane<UInt8>(width: width, height: height, repeating: 0)
        var found: [Int] = []
        // The pixels the last cleaning may have changed, how far around them (see
        // `windowedHits`), and the last pass's hits.
        var changed: (seeds: [Int], radius: Int)? = nil, previous: [Int] = []
        for _ in 0..<o.niter {
            // The first pass over the whole frame; the later ones only around what the cleaning
            // changed, unless that is a large part of the frame (the same hits either way).
            let frame = Frame(clean: clean, variance: variance, mask: mask, background: bkg)
            let hits = changed.flatMap {
                windowed ? windowedHits(frame, around: $0.seeds, widened: $0.radius, previous: previous, kernel: kernel, options: o) : nil
            } ?? hitIndices(frame, kernel: kernel, options: o)
            previous = hits
            let new = hits.filter { crmask.base[$0] == 0 }
            for i in new { crmask.base[i] = 1 }
            // A cleaned pixel is the mean (or median, or weighted mean) of the unflagged pixels in
            // its 5×5 box, which never change: it changes when it is new or when a pixel within
            // 2 of it is. The unmasked median (`median`) also reads flagged neighbours as they
            // were, so there every flagged pixel counts.
            changed = o.cleantype == .median ? ((0..<crmask.count).filter { crmask.base[$0] != 0 }, 0) : (new, 2)
            found.append(hits.count)
            if hits.isEmpty { break }
            Cleaning.clean(clean, crmask: crmask, mask: mask, type: o.cleantype, fallback: backgroundLevel)
            Cleaning.clean(variance, crmask: crmask, mask: mask, type: o.cleantype, fallback: varianceLevel)
        }
        if let bkg { for i in 0..<clean.count { clean.base[i] += bkg.base[i] } }
        for i in 0..<clean.count { clean.base[i] /= gain }
        return Result(mask: crmask.array, cleaned: clean.array, found: found)
    }

    /// Saturated stars: pixels at or above satlevel whose neighbourhood median is above a tenth
    /// of it, grown twice by the 21-pixel element; joined to the input mask grown by one pixel.
    static func maskSaturation(_ c: Plane<Float>, _ mask: Plane<UInt8>, _ o: LACosmicOptions) -> Plane<UInt8> {
        let level = o.satlevel, tenth = Float(Double(o.satlevel) / 10)
        // No pixel at the level (most frames): no median filter over the frame to test them.
        let any = Parallel.mapBlocks(count: c.count, minBlock: 1 << 16) { r in r.contains { c.base[$0] >= level } }.contains(true)
        guard any else { return Dilation.dilate3(mask) }
        let med = o.sepmed ? MedianFilter.separable(c, size: 7) : MedianFilter.box(c, size: 5)
        let saturated = Plane<UInt8>(width: c.width, height: c.height, repeating: 0)
        for i in 0..<c.count { saturated.base[i] = c.base[i] >= level && med.base[i] > tenth ? 1 : 0 }
        let grownSaturation = Dilation.dilate5(saturated, times: 2)
        let grownMask = Dilation.dilate3(mask)
        for i in 0..<c.count { grownMask.base[i] |= grownSaturation.base[i] }
        return grownMask
    }

    /// van Dokkum's L⁺: the image subsampled 2×2, convolved with the Laplacian kernel
    /// [[0,−1,0],[−1,4,−1],[0,−1,0]] (zero outside the image), negative values set to 0, and
    /// rebinned by averaging 2×2 — computed without building the subsampled image, with the
    /// same float operations in the same order as astroscrappy (whose top sub-row is computed
    /// in double precision).
    static func laplacian(_ c: Plane<Float>) -> Plane<Float> {
        let w = c.width, h = c.height
        let out = Plane<Float>(width: w, height: h, repeating: 0)
        typealias Lanes = MedianFilter.Lanes
        c.forEachRowBlock { block in
            for y in block {
                let interior = y >= 1 && y < h - 1
                let row = c.base + y * w
                var x = 0
                if interior {
                    // A vector of pixels at a time where every neighbour exists; the last one
                    // shifted left to end at the last such pixel (a few computed twice, the same
                    // values): on the small windows of later passes the tail was a third of a row.
                    x = 1
                    var last = false
                    while x + Lanes.scalarCount <= w - 1 || (!last && w - 1 - Lanes.scalarCount >= 1 && x < w - 1) {
                        if x + Lanes.scalarCount > w - 1 { x = w - 1 - Lanes.scalarCount; last = true }
                        let v = MedianFilter.load(row + x)
                        let l = MedianFilter.load(row + x - 1), r = MedianFilter.load(row + x + 1)
                        let u = MedianFilter.load(row + x - w), d = MedianFilter.load(row + x + w)
                        let four = 4 * v
                        let zero = Lanes(repeating: 0)
                        func positive(_ p: Lanes) -> Lanes { p.replacing(with: zero, where: p .< zero) }
                        // Sub-pixels (row, column) within the block; neighbours right, left, down, up.
                        let s00 = positive(four - v - l - v - u)
                        let s01 = positive(four - r - v - v - u)
                        let s10 = positive(four - v - l - d - v)
                        let s11 = positive(four - r - v - d - v)
                        MedianFilter.store((s00 + s10 + s11 + s01) / 4, out.base + y * w + x)
                        x += Lanes.scalarCount
                    }
                }
                for px in 0..<w where !(interior && px >= 1 && px < x) {
                    out.base[y * w + px] = laplacianPixel(c, px, y)
                }
            }
        }
        return out
    }

    /// One pixel of `laplacian`, for the image edges, where some sub-pixel neighbours are
    /// outside (and count as nothing).
    private static func laplacianPixel(_ c: Plane<Float>, _ x: Int, _ y: Int) -> Float {
        let w = c.width, h = c.height
        let v = c[x, y]
        let l: Float? = x > 0 ? c[x - 1, y] : nil, r: Float? = x < w - 1 ? c[x + 1, y] : nil
        let u: Float? = y > 0 ? c[x, y - 1] : nil, d: Float? = y < h - 1 ? c[x, y + 1] : nil
        // Sub-pixel at block row a, column b: its right/left/down/up neighbours.
        func sub(_ a: Int, _ b: Int) -> Float {
            let right = b == 0 ? v : r, left = b == 0 ? l : v
            let down = a == 0 ? v : d, up = a == 0 ? u : v
            let p: Float
            if up == nil {
                // astroscrappy's first sub-row: one double expression, rounded once.
                var q = 4.0 * Double(v)
                for n in [right, left, down] { if let n { q -= Double(n) } }
                p = Float(q)
            } else {
                var q = 4 * v
                for n in [right, left, down, up] { if let n { q -= n } }
                p = q
            }
            return p < 0 ? 0 : p
        }
        var p = sub(0, 0)
        p += sub(1, 0)
        p += sub(1, 1)
        p += sub(0, 1)
        return p / 4
    }

    /// A new plane whose pixels `fill` sets, given ranges of indices and the plane's storage.
    static func plane(_ w: Int, _ h: Int, _ fill: @Sendable (Range<Int>, UnsafeMutablePointer<Float>) -> Void) -> Plane<Float> {
        let p = Plane<Float>(width: w, height: h, repeating: 0)
        forEachPixelRange(w, h) { r in fill(r, p.base) }
        return p
    }

    /// Calls `body` with ranges of pixel indices covering the image, rows split over the cores.
    /// Ranges, not single pixels: the loop is then the caller's, inlined and vectorised, instead
    /// of a closure call per pixel (a quarter of L.A.Cosmic's time went to those calls).
    static func forEachPixelRange(_ w: Int, _ h: Int, _ body: @Sendable (Range<Int>) -> Void) {
        Parallel.forEachBlock(count: h, minBlock: max(1, 16384 / max(1, w))) { rows in
            body(rows.lowerBound * w..<rows.upperBound * w)
        }
    }
}
