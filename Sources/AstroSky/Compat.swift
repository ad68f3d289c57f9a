import AstroImage
import Foundation

/// `--compat`: the numbers of stcal 1.20 `skymatch` (jwst `SkyMatchStep`), where astrotool
/// differs on purpose (docs/skymatch.md, "Compatibility"). Checked against
/// `testdata/skymatch/anchors.json` (scripts/fixtures/skymatch_anchors.py).
///
/// * statistics: `stsci.imagestats` as it is, quirks included (``ImageStatsCompat``);
/// * overlaps: the intersection polygon's vertices mapped into the chip and rasterised with
///   integer vertices, gwcs `region.Polygon.scan` rules (``ScanFill``); only this chip's own
///   mask applies, and each side of a pair measures its own pixels;
/// * a group's overlap sky: the pixel-count weighted mean of its members' statistics;
/// * footprints from the four corners; one reference level shared by all islands.
enum Compat {
    /// The sky of group `side` in its overlap with group `other` as stcal's `SkyGroup.calc_sky`
    /// gives it: per member, the union of its intersections with `other`'s members rasterised
    /// into one mask, its statistic and count; then the count-weighted mean. Also the summed
    /// intersection area (sr); nil sky when no member found one.
    static func groupSky(_ side: [Int], against other: [Int], _ chips: [SkyChip], stats: SkyStats,
                         _ counts: inout [Int]) -> (sky: SkyValue?, area: Double) {
        var wsky = 0.0, weight = 0, area = 0.0
        for m in side {
            let chip = chips[m]
            let regions = other.compactMap { chip.footprint.intersection(chips[$0].footprint) }
            guard !regions.isEmpty else { continue }
            var fill = [Bool](repeating: false, count: chip.pixels.count)
            var memberArea = 0.0
            for region in regions {
                let a = region.area
                guard a > 0 else { continue }
                memberArea += a
                var ring = region.radec
                ring.append(ring[0])
                let p = chip.wcs.worldToPixel(ra: ring.map(\.ra), dec: ring.map(\.dec))
                ScanFill.fill(&fill, width: chip.width, height: chip.height, x: p.x, y: p.y)
            }
            area += memberArea
            guard memberArea > 0 else { continue }
            var values: [Float] = []
            for p in fill.indices where fill[p] && chip.excluded[p] == 0 { values.append(chip.pixels[p]) }
            counts[m] += values.count
            guard let s = ImageStatsCompat.measure(values, stats), s.npix > 0 else { continue }
            wsky += s.value * Double(s.npix)
            weight += s.npix
        }
        guard weight > 0, area > 0 else { return (nil, area) }
        return (SkyValue(value: wsky / Double(weight), npix: weight), area)
    }

    /// A chip's own statistic over its usable pixels, in storage order (imagestats depends on it).
    static func local(pixels: [Float], excluded: [UInt8], stats: SkyStats) -> SkyValue? {
        var values: [Float] = []
        values.reserveCapacity(pixels.count)
        for p in pixels.indices where excluded[p] == 0 { values.append(pixels[p]) }
        return ImageStatsCompat.measure(values, stats)
    }
}

/// `stsci.imagestats.ImageStats` 1.8.4 as stcal's `SkyStats` calls it (docs/skymatch.md §4),
/// reproduced in float32 where it computes in float32: clipping with min/max seeded from the
/// first value, σ over the [min, max] of the clipped sample, the histogram filled with bins of
/// `(max − min)/(nbins − 1)` but read with bins of `binwidth·σ`, the median over the whole
/// sample when `nclip = 0`, midpt's bin count for a one-bin histogram.
enum ImageStatsCompat {
    /// nil where imagestats raises (no value, limits outside the data) or the value is not finite.
    static func measure(_ x: [Float], _ s: SkyStats) -> SkyValue? {
        guard let first = x.first else { return nil }
        var dmin = first, dmax = first
        for v in x { dmin = Swift.min(dmin, v); dmax = Swift.max(dmax, v) }
        var lower = Double(dmin), upper = Double(dmax)
        if let lo = s.lower {
            if lo > Double(dmax) { return nil }
            if let hi = s.upper, lo > hi { return nil }
            lower = lo
        }
        if let hi = s.upper {
            if hi < Double(dmin) { return nil }
            upper = hi
        }
        var clipmin = Float(lower), clipmax = Float(upper)
        var r = Clipped(n: 0, mean: 0, std: 0, min: 0, max: 0)
        for iteration in 0...s.nclip {
            r = computeMean(x, clipmin, clipmax)
            guard r.n > 0 else { return nil }
            if iteration < s.nclip {
                // Python's max/min keep the first argument unless the second is larger/smaller (NaN never is).
                let lo = Double(r.mean) - s.lsigma * Double(r.std), hi = Double(r.mean) + s.usigma * Double(r.std)
                clipmin = Float(lo > lower ? lo : lower)
                clipmax = Float(hi < upper ? hi : upper)
            }
        }
        let value: Double
        switch s.statistic {
        case .mean:
            value = Double(r.mean)
        case .median:
            var sample = s.nclip > 0 ? x.filter { $0 >= clipmin && $0 <= clipmax } : x
            guard !sample.isEmpty else { return nil }
            sample.sort()
            let h = sample.count / 2
            value = Double(sample.count % 2 == 1 ? sample[h] : (sample[h - 1] + sample[h]) / 2)
        case .mode, .midpt:
            value = histogramValue(x, r, binwidth: s.binwidth, mode: s.statistic == .mode)
        }
        return value.isFinite ? SkyValue(value: value, npix: r.n) : nil
    }

    struct Clipped { var n: Int; var mean: Float; var std: Float; var min: Float; var max: Float }

    /// imagestats' `computeMean`: count, float mean, σ (n − 1) and the clipped extremes.
    static func computeMean(_ x: [Float], _ clipmin: Float, _ clipmax: Float) -> Clipped {
        var lo = clipmin > x[0] ? clipmin : x[0]
        var hi = clipmax < x[0] ? clipmax : x[0]
        var n = 0, sum = 0.0
        for v in x where v >= clipmin && v <= clipmax {
            if v <= lo { lo = v }
            if v >= hi { hi = v }
            n += 1
            sum += Double(v)
        }
        let mean = Float(sum / Double(n))
        var ss = 0.0
        for v in x where v >= lo && v <= hi {
            let d = v - mean
            ss += Double(d * d)
        }
        return Clipped(n: n, mean: mean, std: Float((ss / Double(n - 1)).squareRoot()), min: lo, max: hi)
    }

    /// IRAF's histogram mode and midpt as imagestats computes them (docs/skymatch.md §4, 5–7).
    static func histogramValue(_ x: [Float], _ r: Clipped, binwidth: Double, mode: Bool) -> Double {
        let hw = binwidth * Double(r.std)
        let mn = Double(r.min), range = Double(r.max) - Double(r.min)
        let tiny = 10 * Double(Float.ulpOfOne)
        let nbins: Int, dz: Double
        if hw < tiny || abs(range) < tiny || hw > range || !hw.isFinite {
            nbins = 1; dz = range
        } else {
            nbins = Int(range / hw) + 1
            dz = range / Double(nbins - 1)
        }
        // histogram1d: float32 origin, width and end; the C loop bins in float32.
        var bins = [Int](repeating: 0, count: nbins)
        let width = Float(dz), origin = r.min
        let end = origin + width * Float(nbins)
        let f = 1 / width
        for v in x where v >= origin && v < end {
            bins[Swift.min(nbins - 1, Int(f * (v - origin)))] += 1
        }
        if mode {
            if nbins == 1 { return mn + 0.5 * hw }
            if nbins == 2 {
                return bins[0] > bins[1] ? mn + 0.5 * hw : bins[0] < bins[1] ? mn + 1.5 * hw : mn + hw
            }
            let peak = bins.firstIndex(of: bins.max()!)!
            if peak == 0 { return mn + 0.5 * hw }
            if peak == nbins - 1 { return mn + (Double(nbins) - 0.5) * hw }
            let d1 = bins[peak] - bins[peak - 1], d2 = bins[peak] - bins[peak + 1]
            if d1 + d2 == 0 { return mn + (Double(peak) + 0.5) * hw }
            let m = Double(peak) + 1 + 0.5 * Double(d1 - d2) / Double(d1 + d2)
            return mn + (m - 0.5) * hw
        }
        guard nbins > 1 else { return Double(bins[0]) }
        var total = 0
        var cum = bins.map { total += $0; return Float(total) }
        let last = cum[nbins - 1]
        for k in cum.indices { cum[k] /= last }
        guard let lo = cum.firstIndex(where: { $0 >= 0.5 }) else { return .nan }
        let h1 = mn + Double(lo) * hw
        let hdiff: Float = lo == 0 ? cum[0] : cum[lo] - cum[lo - 1]
        if hdiff == 0 { return h1 }
        if lo == 0 { return h1 + Double(0.5 / hdiff * Float(hw)) }
        return h1 + Double((0.5 - cum[lo - 1]) / hdiff * Float(hw))
    }
}

/// gwcs `region.Polygon.scan`: the scan-line fill stcal rasterises overlaps with. Vertices are
/// shifted so the box starts at ≥ 0, rounded half to even, and shifted back by the rounded
/// shift; rows run over the vertices' integer range, edges are active on ymin ≤ y < ymax (the
/// last row keeps the previous row's edges), crossings are rounded up and pixels between
/// pairs of crossings are set, both ends included, clipped to the image.
enum ScanFill {
    /// `x`, `y`: a closed ring (first point repeated) in 0-based pixel coordinates.
    static func fill(_ mask: inout [Bool], width nx: Int, height ny: Int, x: [Double], y: [Double]) {
        guard x.count >= 4, !x.contains(where: { !$0.isFinite }), !y.contains(where: { !$0.isFinite }) else { return }
        var sx = 0.0, sy = 0.0
        for k in x.indices { sx = Swift.min(x[k], sx); sy = Swift.min(y[k], sy) }
        let vx = x.map { Int(($0 - sx).rounded(.toNearestOrEven)) }, vy = y.map { Int(($0 - sy).rounded(.toNearestOrEven)) }
        let shx = Int(sx.rounded(.toNearestOrEven)), shy = Int(sy.rounded(.toNearestOrEven))
        let bx = vx.min()!, by = vy.min()!, bw = vx.max()! - bx, top = vy.max()!
        struct Edge { var sx: Int, sy: Int, ux: Int, uy: Int, ymin: Int, ymax: Int }
        let edges = (1..<vx.count).map { k in
            Edge(sx: vx[k - 1], sy: vy[k - 1], ux: vx[k] - vx[k - 1], uy: vy[k] - vy[k - 1],
                 ymin: Swift.min(vy[k - 1], vy[k]), ymax: Swift.max(vy[k - 1], vy[k]))
        }
        var active: [Int] = []
        var crossings: [Int] = []
        for row in by...top {
            if row < top {
                for (k, e) in edges.enumerated() where e.ymin == row && e.uy != 0 { active.append(k) }
                active.removeAll { edges[$0].ymax == row }
            }
            guard bw > 0 else { continue }
            crossings.removeAll(keepingCapacity: true)
            for k in active {
                let e = edges[k]
                let t = Double(row - e.sy) / Double(e.uy)
                crossings.append(Int((t * Double(e.ux) + Double(e.sx)).rounded(.up)))
            }
            crossings.sort()
            let yy = row + shy
            guard yy >= 0, yy < ny else { continue }
            var p = 0
            while p + 1 < crossings.count {
                let x0 = Swift.max(0, crossings[p] + shx), x1 = Swift.min(crossings[p + 1] + shx, nx - 1)
                if x0 <= x1 { for xx in x0...x1 { mask[yy * nx + xx] = true } }
                p += 2
            }
        }
    }
}
