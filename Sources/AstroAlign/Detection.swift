import AstroImage
import Foundation

/// One source found in an image. Positions are 0-based pixel centres (FITS/SExtractor
/// coordinates are these + 1).
public struct Detection: Sendable, Equatable {
    /// The windowed centroid (SExtractor XWIN/YWIN), or the barycentre when windowing failed:
    /// 2–5× more accurate than the barycentre for bright stars, so it is what matching uses.
    public var x: Double
    public var y: Double
    /// Isophotal barycentre (SExtractor X_IMAGE/Y_IMAGE − 1).
    public var xBarycentre: Double
    public var yBarycentre: Double
    /// Background-subtracted sum over the footprint (FLUX_ISO); used to rank sources.
    public var flux: Double
    /// Highest background-subtracted pixel.
    public var peak: Double
    public var fwhm: Double
    /// Isophotal RMS semi-axes (px) and position angle (degrees from +x towards +y).
    public var a: Double
    public var b: Double
    public var theta: Double
    public var area: Int
    public var snr: Double
    /// 1σ error of `x` and of `y` (px), from the noise map: the weight of the star in fits.
    public var positionError: Double
    public var background: Double
    /// SExtractor flag bits: 4 saturated, 8 truncated by the image border.
    public var flags: Int

    public init(x: Double, y: Double, flux: Double, fwhm: Double = 2, flags: Int = 0, positionError: Double = 0.05) {
        self.x = x; self.y = y
        xBarycentre = x; yBarycentre = y
        self.flux = flux
        peak = 0
        self.fwhm = fwhm
        a = fwhm / 2.3548; b = a; theta = 0
        area = 0; snr = 0
        self.positionError = positionError
        background = 0
        self.flags = flags
    }
}

/// SExtractor's meaning of the flag bits astrotool sets.
public enum DetectionFlag {
    public static let saturated = 4
    public static let truncated = 8
}

/// How sources are found (docs/align.md "detect").
public struct DetectionOptions: Sendable {
    /// Threshold in σ of the filtered image (matched-filter S/N for white noise; sep's `thresh`).
    public var threshold = 5.0
    /// Fewest connected pixels above threshold that make a source.
    public var minArea = 5
    /// Background mesh side and the median filter over the mesh grid.
    public var meshSize = 64
    public var meshFilter = 3
    /// Pixel value (background included) at and above which a source is flagged saturated;
    /// nil: the header's SATURATE, else none.
    public var saturation: Double?
    /// Electrons per data unit for the Poisson part of the position error; nil: the header's
    /// GAIN, else 1.
    public var gain: Double?

    public init() {}
}

/// Finds sources: background mesh, 3×3 [1 2 1] filter, threshold in σ of the local noise,
/// 8-connected components of at least `minArea` pixels, then per source the barycentre,
/// moments, a FWHM, the windowed centroid and its error. No deblending yet: touching stars
/// merge into one source (its moments then flag it as elongated to callers that care).
public enum Detector {
    /// - Throws: `.badData` for an image without finite pixels or without enough usable
    ///   pixels to estimate a background.
    public static func detect(_ image: Image, options: DetectionOptions = DetectionOptions()) throws -> [Detection] {
        try detectWithBackground(image, options: options).detections
    }

    static func detectWithBackground(_ image: Image, options o: DetectionOptions) throws
        -> (detections: [Detection], background: BackgroundMap) {
        let w = image.width, h = image.height
        guard w > 0, h > 0, image.pixels.contains(where: { $0.isFinite }) else {
            throw AstroError(.badData, operation: "detecting sources", reason: "no finite pixel (all NaN or infinite)")
        }
        guard let bg = BackgroundMap(pixels: image.pixels, width: w, height: h, mask: image.mask,
                                     meshSize: o.meshSize, filterSize: o.meshFilter) else {
            throw AstroError(.badData, operation: "detecting sources", reason: "too few usable pixels to estimate the background")
        }
        let (level, rms) = bg.planes()
        // The background-subtracted image, NaN where unusable, rows across the cores.
        let mask = image.mask ?? []
        let sub = [Float](unsafeUninitializedCapacity: w * h) { sp, filled in
            image.pixels.withUnsafeBufferPointer { pp in
                level.withUnsafeBufferPointer { lp in
                    mask.withUnsafeBufferPointer { mp in
                        let out = SendableMutableBuffer(sp), px = SendableBuffer(pp), lv = SendableBuffer(lp), m = SendableBuffer(mp)
                        let masked = !mask.isEmpty
                        Parallel.forEachBlock(count: h, minBlock: 16) { rows in
                            for k in (rows.lowerBound * w)..<(rows.upperBound * w) {
                                let v = px[k]
                                (out.base + k).initialize(to: v.isFinite && (!masked || m[k] == 0) ? v - lv[k] : .nan)
                            }
                        }
                    }
                }
            }
            filled = w * h
        }
        let above = thresholded(sub, rms: rms, width: w, height: h, threshold: Float(o.threshold))
        let components = connectedComponents(above, width: w, height: h, minArea: max(1, o.minArea))
        let saturation = o.saturation ?? image.header.double("SATURATE")
        let gain = max(1e-6, o.gain ?? image.header.double("GAIN") ?? 1)
        let frame = Frame(sub: sub, rms: rms, level: level, width: w, height: h, saturation: saturation, gain: gain)
        let found = Parallel.mapBlocks(count: components.count, minBlock: 64) { range in
            range.compactMap { frame.measure(components[$0]) }
        }.flatMap { $0 }
        return (found, bg)
    }

    /// Pixels whose 3×3-filtered background-subtracted value exceeds `threshold` σ of the
    /// filtered noise (0.375·rms for the [1 2 1]⊗[1 2 1]/16 kernel on white noise).
    /// Unusable (NaN) pixels never pass and do not contribute to their neighbours.
    static func thresholded(_ sub: [Float], rms: [Float], width w: Int, height h: Int, threshold: Float) -> [Bool] {
        var above = [Bool](repeating: false, count: w * h)
        let kernelNoise: Float = 6.0 / 16.0
        sub.withUnsafeBufferPointer { sp in
            rms.withUnsafeBufferPointer { rp in
                above.withUnsafeMutableBufferPointer { ap in
                    let s = SendableBuffer(sp), r = SendableBuffer(rp), out = SendableMutableBuffer(ap)
                    // The filtered value with NaN neighbours left out (and the kernel renormalised).
                    @Sendable func general(_ x: Int, _ y: Int) -> Bool {
                        let k = y * w + x
                        guard s[k].isFinite, r[k] > 0 else { return false }
                        var sum: Float = 0, weight: Float = 0
                        for dy in -1...1 {
                            let yy = y + dy
                            guard yy >= 0, yy < h else { continue }
                            for dx in -1...1 {
                                let xx = x + dx
                                guard xx >= 0, xx < w else { continue }
                                let v = s[yy * w + xx]
                                guard v.isFinite else { continue }
                                let kw: Float = (dx == 0 ? 2 : 1) * (dy == 0 ? 2 : 1)
                                sum += kw * v; weight += kw
                            }
                        }
                        return sum / weight > threshold * kernelNoise * r[k]
                    }
                    Parallel.forEachBlock(count: h, minBlock: 16) { rows in
                        for y in rows {
                            guard y > 0 && y < h - 1 && w > 2 else {
                                for x in 0..<w { out[y * w + x] = general(x, y) }
                                continue
                            }
                            out[y * w] = general(0, y)
                            out[y * w + w - 1] = general(w - 1, y)
                            // Interior pixels whose nine neighbours are all finite: the full
                            // kernel (weight 16), summed in the same order as `general`; eight
                            // at a time while all eight have finite neighbourhoods.
                            var done = 1
                            while done + 8 <= w - 1, interiorStep(s.base + y * w + done, r.base + y * w + done, w,
                                                                  threshold * kernelNoise, into: out.base + y * w + done) {
                                done += 8
                            }
                            for x in done..<(w - 1) {
                                let k = y * w + x
                                let a0 = s[k - w - 1], a1 = s[k - w], a2 = s[k - w + 1]
                                let b0 = s[k - 1], b1 = s[k], b2 = s[k + 1]
                                let c0 = s[k + w - 1], c1 = s[k + w], c2 = s[k + w + 1]
                                guard a0.isFinite && a1.isFinite && a2.isFinite && b0.isFinite && b1.isFinite
                                    && b2.isFinite && c0.isFinite && c1.isFinite && c2.isFinite else {
                                    out[k] = general(x, y)
                                    continue
                                }
                                var sum: Float = a0
                                sum += 2 * a1; sum += a2; sum += 2 * b0; sum += 4 * b1; sum += 2 * b2
                                sum += c0; sum += 2 * c1; sum += c2
                                out[k] = r[k] > 0 && sum / 16 > threshold * kernelNoise * r[k]
                            }
                        }
                    }
                }
            }
        }
        return above
    }

    /// `thresholded`'s interior test at the eight pixels from `p` (rms at `rms`): lane for lane
    /// the scalar sum, in its order, and comparison; false, with nothing written, when a value
    /// in the eight 3×3 neighbourhoods is not finite (the scalar loop then takes them).
    @inline(__always)
    static func interiorStep(_ p: UnsafePointer<Float>, _ rms: UnsafePointer<Float>, _ w: Int, _ level: Float,
                             into out: UnsafeMutablePointer<Bool>) -> Bool {
        typealias V = SIMD8<Float>
        @inline(__always) func load(_ q: UnsafePointer<Float>) -> V { UnsafeRawPointer(q).loadUnaligned(as: V.self) }
        let a0 = load(p - w - 1), a1 = load(p - w), a2 = load(p - w + 1)
        let b0 = load(p - 1), b1 = load(p), b2 = load(p + 1)
        let c0 = load(p + w - 1), c1 = load(p + w), c2 = load(p + w + 1)
        // x − x is 0 for finite x, NaN otherwise: one NaN spoils the sum of all nine.
        let spoiled = (a0 - a0) + (a1 - a1) + (a2 - a2) + (b0 - b0) + (b1 - b1) + (b2 - b2) + (c0 - c0) + (c1 - c1) + (c2 - c2)
        guard spoiled == V() else { return false }
        var sum = a0
        sum += 2 * a1; sum += a2; sum += 2 * b0; sum += 4 * b1; sum += 2 * b2
        sum += c0; sum += 2 * c1; sum += c2
        let r = load(rms), zero = V()
        let above = (r .> zero) .& (sum / 16 .> V(repeating: level) * r)
        for lane in 0..<8 { out[lane] = above[lane] }
        return true
    }

    /// 8-connected groups of `true` pixels with at least `minArea` members, as pixel indices.
    static func connectedComponents(_ above: [Bool], width w: Int, height h: Int, minArea: Int) -> [[Int]] {
        var seen = [Bool](repeating: false, count: w * h)
        var components: [[Int]] = []
        var stack: [Int] = []
        for start in 0..<(w * h) where above[start] && !seen[start] {
            var members: [Int] = []
            seen[start] = true
            stack.append(start)
            while let k = stack.popLast() {
                members.append(k)
                let x = k % w, y = k / w
                for dy in -1...1 {
                    let yy = y + dy
                    guard yy >= 0, yy < h else { continue }
                    for dx in -1...1 {
                        let xx = x + dx
                        guard xx >= 0, xx < w else { continue }
                        let n = yy * w + xx
                        if above[n] && !seen[n] { seen[n] = true; stack.append(n) }
                    }
                }
            }
            if members.count >= minArea { components.append(members) }
        }
        return components
    }
}

/// The planes one source is measured on, shared read-only by the measuring threads.
private struct Frame: Sendable {
    let sub: [Float]
    let rms: [Float]
    let level: [Float]
    let width: Int
    let height: Int
    let saturation: Double?
    let gain: Double

    func measure(_ pixels: [Int]) -> Detection? {
        var sum = 0.0, sx = 0.0, sy = 0.0, peak = -Double.infinity, peakIndex = pixels[0], noise = 0.0
        var truncated = false
        for k in pixels {
            let v = Double(sub[k]), x = Double(k % width), y = Double(k / width)
            sum += v; sx += v * x; sy += v * y
            if v > peak { peak = v; peakIndex = k }
            noise += Double(rms[k] * rms[k]) + max(v, 0) / gain
            let px = k % width, py = k / width
            if px == 0 || py == 0 || px == width - 1 || py == height - 1 { truncated = true }
        }
        guard sum > 0 else { return nil }
        let xb = sx / sum, yb = sy / sum
        var x2 = 0.0, y2 = 0.0, xy = 0.0
        for k in pixels {
            let v = Double(sub[k]), dx = Double(k % width) - xb, dy = Double(k / width) - yb
            x2 += v * dx * dx; y2 += v * dy * dy; xy += v * dx * dy
        }
        x2 /= sum; y2 /= sum; xy /= sum
        // SExtractor: a source one pixel wide has singular moments; widen by a pixel's variance.
        if x2 * y2 - xy * xy < 1.0 / 144 { x2 += 1.0 / 12; y2 += 1.0 / 12 }
        let mid = (x2 + y2) / 2, diff = (((x2 - y2) / 2) * ((x2 - y2) / 2) + xy * xy).squareRoot()
        let a = (mid + diff).squareRoot(), b = max(0, mid - diff).squareRoot()
        let theta = 0.5 * atan2(2 * xy, x2 - y2) * 180 / .pi
        // The profile fit, else the moments, else the isophotal area's equivalent diameter (a
        // saturated flat top or negative wings can leave the first two non-finite).
        var fwhm = profileFWHM(pixels, xb: xb, yb: yb, peak: peak) ?? .nan
        if !(fwhm.isFinite && fwhm > 0) { fwhm = 2 * (log(2.0) * (a * a + b * b)).squareRoot() }
        if !(fwhm.isFinite && fwhm > 0) { fwhm = 2 * (Double(pixels.count) / .pi).squareRoot() }
        var flags = truncated ? DetectionFlag.truncated : 0
        if let saturation, peak + Double(level[peakIndex]) >= saturation { flags |= DetectionFlag.saturated }
        var d = Detection(x: xb, y: yb, flux: sum, fwhm: fwhm, flags: flags)
        d.peak = peak
        d.a = a; d.b = b; d.theta = theta
        d.area = pixels.count
        d.snr = sum / max(noise, 1e-30).squareRoot()
        d.background = Double(level[peakIndex])
        // Barycentre error (SExtractor ERRX2_IMAGE), the fallback when windowing fails.
        var ex = 0.0, ey = 0.0
        for k in pixels {
            let s2 = Double(rms[k] * rms[k]) + max(Double(sub[k]), 0) / gain
            ex += s2 * (Double(k % width) - xb) * (Double(k % width) - xb)
            ey += s2 * (Double(k / width) - yb) * (Double(k / width) - yb)
        }
        d.positionError = ((ex + ey) / 2).squareRoot() / sum
        if fwhm <= 50, let win = windowed(xb, yb, sigma: max(fwhm, 1) / 2.3548) {
            d.x = win.x; d.y = win.y; d.positionError = win.error
        }
        return d
    }

    /// SExtractor's FWHM_IMAGE: a weighted fit of ln I against r² over the pixels brighter than
    /// a fifth of the peak (weights I²); nil when the profile does not fall off.
    private func profileFWHM(_ pixels: [Int], xb: Double, yb: Double, peak: Double) -> Double? {
        var sw = 0.0, sr = 0.0, sl = 0.0, srr = 0.0, srl = 0.0, n = 0
        for k in pixels {
            let v = Double(sub[k])
            guard v > peak / 5, v > 0 else { continue }
            let dx = Double(k % width) - xb, dy = Double(k / width) - yb
            let r2 = dx * dx + dy * dy, l = log(v), w = v * v
            sw += w; sr += w * r2; sl += w * l; srr += w * r2 * r2; srl += w * r2 * l; n += 1
        }
        let det = sw * srr - sr * sr
        guard n >= 3, det > 0 else { return nil }
        let slope = (sw * srl - sr * sl) / det
        guard slope < 0 else { return nil }
        let fwhm = 1.6651 / (-slope).squareRoot()
        // SExtractor's correction for undersampled profiles.
        return fwhm - 1 / (4 * fwhm)
    }

    /// The windowed centroid (SExtractor XWIN_IMAGE): iterate x ← x + 2·Σwᵢ Iᵢ (xᵢ − x)/Σwᵢ Iᵢ with a
    /// Gaussian window of σ = FWHM/2.3548 out to 4σ, NaN pixels left out; nil when it does not
    /// converge or drifts more than a pixel from the barycentre.
    private func windowed(_ xb: Double, _ yb: Double, sigma: Double) -> (x: Double, y: Double, error: Double)? {
        let rmax = 4 * sigma, inv = 1 / (2 * sigma * sigma)
        /// The pixels within rmax of (x, y) on the image, as column and row ranges.
        func window(_ x: Double, _ y: Double) -> (ClosedRange<Int>, ClosedRange<Int>)? {
            let x0 = max(0, Int((x - rmax).rounded(.down))), x1 = min(width - 1, Int((x + rmax).rounded(.up)))
            let y0 = max(0, Int((y - rmax).rounded(.down))), y1 = min(height - 1, Int((y + rmax).rounded(.up)))
            return x0 <= x1 && y0 <= y1 ? (x0...x1, y0...y1) : nil
        }
        var x = xb, y = yb
        var converged = false
        for _ in 0..<16 {
            var sw = 0.0, swx = 0.0, swy = 0.0
            guard let (columns, rows) = window(x, y) else { return nil }
            for py in rows {
                let dy = Double(py) - y
                for px in columns {
                    let v = sub[py * width + px]
                    guard v.isFinite else { continue }
                    let dx = Double(px) - x, r2 = dx * dx + dy * dy
                    guard r2 <= rmax * rmax else { continue }
                    let wv = exp(-r2 * inv) * Double(v)
                    sw += wv; swx += wv * dx; swy += wv * dy
                }
            }
            guard sw > 0 else { return nil }
            let stepX = 2 * swx / sw, stepY = 2 * swy / sw
            x += stepX; y += stepY
            guard abs(x - xb) <= 1, abs(y - yb) <= 1 else { return nil }
            if stepX * stepX + stepY * stepY < 1e-8 { converged = true; break }
        }
        guard converged else { return nil }
        // ERRX2WIN: 4·Σ wᵢ² σᵢ² (xᵢ − x)² / (Σ wᵢ Iᵢ)².
        var sw = 0.0, ex = 0.0, ey = 0.0
        guard let (columns, rows) = window(x, y) else { return nil }
        for py in rows {
            let dy = Double(py) - y
            for px in columns {
                let k = py * width + px
                let v = sub[k]
                guard v.isFinite else { continue }
                let dx = Double(px) - x, r2 = dx * dx + dy * dy
                guard r2 <= rmax * rmax else { continue }
                let wgt = exp(-r2 * inv)
                let s2 = Double(rms[k] * rms[k]) + max(Double(v), 0) / gain
                sw += wgt * Double(v)
                ex += wgt * wgt * s2 * dx * dx; ey += wgt * wgt * s2 * dy * dy
            }
        }
        guard sw > 0 else { return nil }
        return (x, y, (2 * ((ex + ey) / 2).squareRoot() / sw))
    }
}
