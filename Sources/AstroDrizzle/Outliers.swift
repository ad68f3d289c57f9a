import AstroFITS
import AstroImage
import AstroWCS
import Foundation

/// `astrotool resample outliers`: the dithered-exposure cosmic-ray rejection of AstroDrizzle and
/// JWST outlier_detection. Each exposure is drizzled alone onto a common grid, the stack's median
/// is blotted back onto every exposure, and pixels far from it (against their noise and the
/// median's local slope) are flagged in a copy of the exposure.
public struct OutlierOptions: Sendable {
    /// Grid, kernel, weights, DQ, sky and units of the single-exposure drizzles.
    public var resample = ResampleOptions()
    /// Lowest and highest values dropped from each output pixel's stack before the median.
    public var nlow = 0
    public var nhigh = 0
    /// A drizzled pixel enters the median only with weight ≥ maskpt × its image's 3σ-clipped
    /// mean non-zero weight (stcal's compute_weight_threshold).
    public var maskpt = 0.7
    /// Thresholds in noise σ, before and after the 3×3 smoothing of the first mask.
    public var snr = (5.0, 4.0)
    /// Multiples of the blotted median's local derivative added to each threshold.
    public var scale = (1.2, 0.7)
    /// A level subtracted from every difference data − blot (stcal's backg).
    public var backg = 0.0
    /// Flag also the pixels within grow − 1 of a flagged one (drizzlepac's driz_cr_grow).
    public var grow = 1
    public var interpolation = Blot.Interpolation.linear
    /// The bit set in DQ/MASK for a flagged pixel (our cosmic_ray bit, as `ccdproc cosmicray` sets).
    public var flagBit: UInt32 = UInt32(MaskBits.cosmicRay.rawValue)
    public init() {}
}

public struct OutlierReport: Sendable, Encodable {
    public struct Frame: Sendable, Encodable {
        public var input: String
        public var output: String
        public var flagged: Int
        /// ERR, or the Poisson noise of the blotted median plus sky (gain 1) when the input has none.
        public var noise: String
    }
    public var frames: [Frame]
    public var width: Int
    public var height: Int
    /// Inputs with no pixel of weight > 0 on the grid: not tested, copied unflagged.
    public var unused: [UnusedInput]
}

public enum Outliers {
    /// Flags outliers in every input; writes each input's file, with its mask updated, into `outdir`.
    public static func run(_ paths: [String], options o: OutlierOptions, outdir: String, overwrite: Bool) throws -> OutlierReport {
        guard paths.count >= 2 else {
            throw AstroError(.usage, operation: "finding outliers", reason: "needs at least two exposures of the same field")
        }
        let inputs = try ResampleInput.read(paths)
        var owners: [String: String] = [:]
        for base in Set(inputs.map { FITS.basePath($0.path) }).sorted() {
            let out = outputPath(base, outdir)
            if let other = owners[out] {
                throw AstroError(.usage, file: base, operation: "choosing outputs", reason: "\(other) has the same file name; both would be written to \(out)")
            }
            owners[out] = base
        }
        let (grid, width, height) = try Resample.grid(o.resample.grid, inputs)
        let outScale = grid.pixelScale(x: Double(width - 1) / 2, y: Double(height - 1) / 2)
        // 1. Each exposure alone onto the grid, two at a time (each on one core): the reading,
        // pixmap and weight threshold of one, serial work, overlap the other's drizzle.
        // The inputs' planes are not kept for step 3 but read and prepared again there, into
        // the memory the singles held: fresh pages cost a fault and zeroing each, more than a
        // read (outliers' peak on six 1024² frames 214 → 131 MiB).
        // A WCS is not thread-safe: each job takes the inputs it alone uses, and its own copy of the grid's.
        let shared = Unshared((inputs: inputs, grid: grid))
        let drizzled = try inOrder(inputs.count) { k -> Single in
            let input = shared.value.inputs[k], grid = shared.value.grid.copy()
            let p = try Resample.prepare(input, input.load(), o.resample)
            let pixmap = Pixmap(from: input.wcs, width: input.width, height: input.height, to: grid, sampling: o.resample.pixmapSampling)
            if let reason = Resample.unusedReason(pixmap, weights: p.weights, width: width, height: height) {
                return .unused(UnusedInput(input: input.path, hdu: input.hdu, reason: reason))
            }
            var d = o.resample.drizzle
            d.context = false
            d.fill = .nan
            d.pixelScaleRatio = outScale / input.wcs.pixelScale(x: Double(input.width - 1) / 2, y: Double(input.height - 1) / 2)
            var out = DrizzleOutput(width: width, height: height)
            out.add(p.data, weights: p.weights, pixmap: pixmap, options: d)
            // The weights only say which values the median may use: a byte each is kept, and
            // the next drizzle's weight plane reuses the memory of this one.
            return .drizzled(image: out.image, usable: usable(out.weight, maskpt: o.maskpt))
        }
        var singles: [(image: [Float], usable: [UInt8])] = []
        var unused: [UnusedInput] = [], skipped = Set<Int>()
        for (k, result) in drizzled.enumerated() {
            switch result {
            case .drizzled(let image, let usable): singles.append((image, usable))
            case .unused(let reason): unused.append(reason); skipped.insert(k)
            }
        }
        guard singles.count >= 2 else {
            throw Resample.refusal(unused, operation: "finding outliers", grid: (width, height),
                                   needed: "at least two exposures must land on the grid, \(singles.count) of \(inputs.count) do")
        }
        do { try FileManager.default.createDirectory(atPath: outdir, withIntermediateDirectories: true) } catch {
            throw AstroError(.cannotCreate, file: outdir, operation: "creating the output directory", reason: error.localizedDescription)
        }
        // 2. The median of the well-covered values at each output pixel.
        let median = stackMedian(singles, count: width * height, nlow: o.nlow, nhigh: o.nhigh)
        singles = []
        // 3. The median back onto each exposure, compared with it, two at a time as in step 1.
        let untested = skipped
        let tested = try inOrder(inputs.count) { k -> (ChipFlags, OutlierReport.Frame) in
            let input = shared.value.inputs[k], grid = shared.value.grid.copy()
            let (w, h) = (input.width, input.height)
            let output = outputPath(FITS.basePath(input.path), outdir)
            guard !untested.contains(k) else {
                return (ChipFlags(input, [Bool](repeating: false, count: w * h)), .init(input: input.path, output: output, flagged: 0, noise: "not tested"))
            }
            let planes = try input.load()
            let p = try Resample.prepare(input, planes, o.resample)
            let pixmap = Pixmap(from: input.wcs, width: w, height: h, to: grid, sampling: o.resample.pixmapSampling)
            let blot = Blot.sample(median, width: width, height: height, at: pixmap, interpolation: o.interpolation, fill: .nan).pixels
            // The drizzles were in rate when the inputs are counts: the noise follows.
            let t = Float(o.resample.units == .counts ? p.exptime : 1), sky = Float(p.sky)
            let noise = noisePlane(err: planes.err, blot: blot, exptime: t, sky: sky)
            // Pixels already without weight (bad DQ, non-finite) stay as they were.
            let (flags, flagged) = flag(p.data, noise, blot, weights: p.weights, width: w, height: h, o)
            return (ChipFlags(input, flags), .init(input: input.path, output: output, flagged: flagged, noise: input.has(.err) ? "ERR" : "sqrt(|median|)"))
        }
        var frames: [OutlierReport.Frame] = [], masks: [String: [ChipFlags]] = [:]
        for (k, (chip, frame)) in tested.enumerated() {
            masks[FITS.basePath(inputs[k].path), default: []].append(chip)
            frames.append(frame)
        }
        // The copies are written two at a time; the first failure (in file order) is reported.
        let jobs = masks.sorted(by: { $0.key < $1.key }), bit = o.flagBit
        let failures = Parallel.mapBlocks(count: jobs.count) { r -> (any Error)? in
            for (base, chips) in jobs[r] {
                do { try writeCopy(of: base, chips: chips, to: outputPath(base, outdir), bit: bit, overwrite: overwrite) } catch { return error }
            }
            return nil
        }
        if let failure = failures.compactMap({ $0 }).first { throw failure }
        return OutlierReport(frames: frames, width: width, height: height, unused: unused)
    }

    /// One exposure drizzled alone: its values and which of them the median may use, or why
    /// it was left out.
    private enum Single: Sendable {
        case drizzled(image: [Float], usable: [UInt8])
        case unused(UnusedInput)
    }

    /// `body(k)` for k in 0..<count, two at a time (`Parallel.both`: each shares the cores
    /// with the other) and a last odd one alone on all of them; the results in order, or the
    /// first error in order.
    private static func inOrder<T: Sendable>(_ count: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        var results: [T] = []
        for k in stride(from: 0, to: count, by: 2) {
            if k + 1 < count {
                let (a, b) = try Parallel.both({ try body(k) }, { try body(k + 1) })
                results += [a, b]
            } else {
                results.append(try body(k))
            }
        }
        return results
    }

    /// Where the flagged copy of `base` goes: `outdir` with the input's file name.
    public static func outputPath(_ base: String, _ outdir: String) -> String {
        URL(fileURLWithPath: outdir).appendingPathComponent(URL(fileURLWithPath: base).lastPathComponent).path
    }

    /// 1 where a single drizzle's weight reaches its threshold (maskpt × the 3σ-clipped mean of
    /// its non-zero weights, `weightThreshold`) and is positive, else 0: the values the median uses.
    static func usable(_ weight: [Float], maskpt: Double) -> [UInt8] {
        let floor = weightThreshold(weight, maskpt: maskpt)
        return [UInt8](parallelRanges: weight.count) { r, out in
            for p in r { out[p] = weight[p] >= floor && weight[p] > 0 ? 1 : 0 }
        }
    }

    /// Per output pixel: the finite values of the images `usable` marks, nlow lowest and nhigh
    /// highest dropped, then the median (NaN where none is left).
    static func stackMedian(_ singles: [(image: [Float], usable: [UInt8])], count n: Int, nlow: Int, nhigh: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: n)
        // The planes by pointer: per pixel a handful of loads, no array bounds or tuple copies.
        let images = singles.map { s in s.image.withUnsafeBufferPointer { SendableBuffer($0) } }
        let usable = singles.map { s in s.usable.withUnsafeBufferPointer { SendableBuffer($0) } }
        withExtendedLifetime(singles) {
            out.withUnsafeMutableBufferPointer { ob in
                let dst = SendableMutableBuffer(ob), m = singles.count
                Parallel.forEachBlock(count: n, minBlock: 4096) { range in
                    let stack = UnsafeMutablePointer<Float>.allocate(capacity: m)
                    let tile = UnsafeMutablePointer<Lanes>.allocateAligned(capacity: m)
                    defer { stack.deallocate(); tile.deallocate() }
                    var p = range.lowerBound
                    while p < range.upperBound {
                        if p + Lanes.scalarCount <= range.upperBound,
                           medianTile(p, images, usable, nlow: nlow, nhigh: nhigh, tile, into: dst) {
                            p += Lanes.scalarCount
                            continue
                        }
                        // Kept values inserted in order (a few per pixel: insertion is the fastest sort).
                        var k = 0
                        for i in 0..<m {
                            let v = images[i][p]
                            guard usable[i][p] != 0, v.isFinite else { continue }
                            var j = k
                            while j > 0 && stack[j - 1] > v { stack[j] = stack[j - 1]; j -= 1 }
                            stack[j] = v
                            k += 1
                        }
                        if k > nlow + nhigh {
                            let lo = nlow, kept = k - nlow - nhigh
                            dst[p] = kept % 2 == 1 ? stack[lo + kept / 2] : (stack[lo + kept / 2 - 1] + stack[lo + kept / 2]) / 2
                        }
                        p += 1
                    }
                }
            }
        }
        return out
    }

    typealias Lanes = SIMD16<Float>

    /// Sixteen output pixels at once when every input's value is kept at all of them (the
    /// common case inside the footprint): the stacks sorted side by side by odd-even
    /// transposition (m passes of neighbour compare-exchanges), the same median as the scalar
    /// path, bit for bit. False, with nothing written, when a value at one of them is not kept.
    @inline(__always)
    private static func medianTile(_ p: Int, _ images: [SendableBuffer<Float>], _ usable: [SendableBuffer<UInt8>],
                                   nlow: Int, nhigh: Int, _ v: UnsafeMutablePointer<Lanes>, into dst: SendableMutableBuffer<Float>) -> Bool {
        let m = images.count
        guard m > nlow + nhigh else { return false }
        // Sixteen usable bytes are all 1: two words of 0x01 bytes.
        let ones = UInt64(0x0101_0101_0101_0101)
        for i in 0..<m {
            let u = UnsafeRawPointer(usable[i].base + p)
            let x = UnsafeRawPointer(images[i].base + p).loadUnaligned(as: Lanes.self)
            // x − x is 0 exactly for finite x.
            guard u.loadUnaligned(as: UInt64.self) == ones, u.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == ones,
                  (x - x) == .zero else { return false }
            v[i] = x
        }
        for pass in 0..<m {
            var i = pass & 1
            while i + 1 < m {
                let a = v[i], b = v[i + 1]
                v[i] = a.replacing(with: b, where: b .< a)
                v[i + 1] = b.replacing(with: a, where: b .< a)
                i += 2
            }
        }
        let kept = m - nlow - nhigh, r = nlow + kept / 2
        let median = kept % 2 == 1 ? v[r] : (v[r - 1] + v[r]) / 2
        UnsafeMutableRawPointer(dst.base + p).storeBytes(of: median, as: Lanes.self)
        return true
    }

    /// stcal's compute_weight_threshold: maskpt × the 3σ-clipped (5 iterations) mean of the
    /// finite non-zero weights; +∞ when there are none, so nothing passes.
    static func weightThreshold(_ weight: [Float], maskpt: Double) -> Float {
        // Gathered by pointer (a filter appends value by value).
        let used = weight.withUnsafeBufferPointer { wb in
            [Float](unsafeUninitializedCapacity: wb.count) { out, kept in
                var n = 0
                for v in wb where v != 0 && v.isFinite { out[n] = v; n += 1 }
                kept = n
            }
        }
        guard !used.isEmpty else { return .infinity }
        let clipped = used.withUnsafeBufferPointer { Statistics.sigmaClipped($0, sigma: 3, maxIters: 5) }
        return Float(maskpt * clipped.mean)
    }

    /// The noise the differences are compared with, in the drizzles' units: ERR / t, or else
    /// the Poisson σ of the blotted median with its sky back, √|b·t + sky| / t; 0 where not finite.
    static func noisePlane(err: [Float]?, blot: [Float], exptime t: Float, sky: Float) -> [Float] {
        [Float](parallelRanges: blot.count) { r, out in
            if let err {
                for p in r { out[p] = err[p].isFinite ? err[p] / t : 0 }
            } else {
                for p in r { out[p] = blot[p].isFinite ? abs(blot[p] * t + sky).squareRoot() / t : 0 }
            }
        }
    }

    /// stcal's flag_resampled_crs: |data − blot − backg| above snr1·σ + scale1·∂ somewhere in the 3×3
    /// neighbourhood and above snr2·σ + scale2·∂ at the pixel, then grown; never where `weights`
    /// is 0. Rows across the cores. Returns the flags and how many are set.
    static func flag(_ data: [Float], _ noise: [Float], _ blot: [Float], weights: [Float], width w: Int, height h: Int,
                     _ o: OutlierOptions) -> (flags: [Bool], count: Int) {
        let deriv = absoluteDerivative(blot, width: w, height: h)
        // In Float32, as stcal computes, so that ties at the threshold fall the same way.
        let (scale1, scale2, snr1, snr2) = (Float(o.scale.0), Float(o.scale.1), Float(o.snr.0), Float(o.snr.1))
        let backg = Float(o.backg)
        // Per pixel: bit 0 above the first threshold, bit 1 above the second.
        let above = rows(w, h, UInt8.self) { y, out in
            for p in (y * w)..<((y + 1) * w) {
                guard blot[p].isFinite && data[p].isFinite else { out[p] = 0; continue }
                let diff = abs(data[p] - blot[p] - backg), d = deriv[p], s = noise[p]
                out[p] = (diff > scale1 * d + snr1 * s ? 1 : 0) | (diff > scale2 * d + snr2 * s ? 2 : 0)
            }
        }
        let r = o.grow - 1
        let flags = rows(w, h, Bool.self) { y, out in
            for x in 0..<w {
                var near = false
                if above[y * w + x] & 2 != 0 {
                    for yy in max(0, y - 1)...min(h - 1, y + 1) where !near {
                        for xx in max(0, x - 1)...min(w - 1, x + 1) where above[yy * w + xx] & 1 != 0 { near = true; break }
                    }
                }
                out[y * w + x] = near && (r > 0 || weights[y * w + x] != 0)
            }
        }
        guard r > 0 else { return (flags, count(flags)) }
        // Grown: a pixel is flagged when one within r (rows and columns) is.
        let grown = rows(w, h, Bool.self) { y, out in
            for x in 0..<w { out[y * w + x] = false }
            for yy in max(0, y - r)...min(h - 1, y + r) {
                for x in 0..<w where flags[yy * w + x] {
                    for xx in max(0, x - r)...min(w - 1, x + r) { out[y * w + xx] = true }
                }
            }
            for x in 0..<w where weights[y * w + x] == 0 { out[y * w + x] = false }
        }
        return (grown, count(grown))
    }

    /// How many flags are set, counted on all cores.
    private static func count(_ flags: [Bool]) -> Int {
        flags.withUnsafeBufferPointer { b in
            let f = SendableBuffer(b)
            return Parallel.mapBlocks(count: b.count, minBlock: 1 << 16) { r in r.reduce(0) { $0 + (f[$1] ? 1 : 0) } }.reduce(0, +)
        }
    }

    /// A w×h plane whose rows `body` writes, every pixel of each, rows across the cores (each
    /// writes only row y; no fill pass first).
    private static func rows<T: BitwiseCopyable>(_ w: Int, _ h: Int, _: T.Type, _ body: @Sendable (Int, SendableMutableBuffer<T>) -> Void) -> [T] {
        [T](unsafeUninitializedCapacity: w * h) { b, filled in
            let o = SendableMutableBuffer(b)
            Parallel.forEachBlock(count: h, minBlock: 16) { ys in for y in ys { body(y, o) } }
            filled = w * h
        }
    }

    /// The largest absolute difference between each pixel and its four neighbours (NaN ignored;
    /// NaN where the pixel is), rows across the cores.
    static func absoluteDerivative(_ a: [Float], width w: Int, height h: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: w * h) { ob, filled in
            a.withUnsafeBufferPointer { ab in
                let src = SendableBuffer(ab), dst = SendableMutableBuffer(ob)
                Parallel.forEachBlock(count: h, minBlock: 16) { ys in
                    for y in ys {
                        // Inside the frame, eight pixels a step (the same maxima), then the
                        // rest one by one.
                        var done = 0
                        if y > 0 && y < h - 1 {
                            done = 1
                            while done + 8 <= w - 1 {
                                derivativeStep(src.base + y * w + done, w, into: dst.base + y * w + done)
                                done += 8
                            }
                        }
                        for x in 0..<w where x == 0 || x >= done {
                            let p = y * w + x, v = src[p]
                            guard v.isFinite else { dst[p] = .nan; continue }
                            var m: Float = 0
                            @inline(__always) func near(_ q: Int) { let u = src[q]; if u.isFinite { m = max(m, abs(v - u)) } }
                            if x > 0 { near(p - 1) }
                            if x < w - 1 { near(p + 1) }
                            if y > 0 { near(p - w) }
                            if y < h - 1 { near(p + w) }
                            dst[p] = m
                        }
                    }
                }
            }
            filled = w * h
        }
    }

    /// `absoluteDerivative` at the eight pixels from `p` (rows above and below exist, and a
    /// column on each side): the largest |v − u| over the finite neighbours u, NaN where v is
    /// not finite; lane for lane the scalar loop's values (a maximum does not depend on order).
    @inline(__always)
    private static func derivativeStep(_ p: UnsafePointer<Float>, _ w: Int, into out: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        let v = UnsafeRawPointer(p).loadUnaligned(as: V.self), zero = V()
        // From +0, as the scalar loop: a −0 difference then leaves it +0.
        let m = maxed(maxed(maxed(maxed(zero, contribution(v, p - 1)), contribution(v, p + 1)), contribution(v, p - w)),
                      contribution(v, p + w))
        UnsafeMutableRawPointer(out).storeBytes(of: m.replacing(with: .nan, where: v - v .!= zero), as: V.self)
    }

    /// |v − u| for the neighbours u at `q`, 0 where u is not finite (x − x is 0 exactly for
    /// finite x). (Free-standing: a nested function updating the running maximum kept it in memory.)
    @inline(__always)
    private static func contribution(_ v: SIMD8<Float>, _ q: UnsafePointer<Float>) -> SIMD8<Float> {
        let u = UnsafeRawPointer(q).loadUnaligned(as: SIMD8<Float>.self), zero = SIMD8<Float>()
        let d = (v - u).replacing(with: zero, where: u - u .!= zero)
        return d.replacing(with: zero - d, where: d .< zero)
    }

    @inline(__always)
    private static func maxed(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .> a) }

    /// A copy of `base` with each chip's flags set in its DQ or MASK (a uint8 MASK is added
    /// after a chip that has none), every other HDU as it was.
    /// One chip's flags, with what `writeCopy` needs to place them.
    struct ChipFlags: Sendable {
        let version: Int, width: Int, height: Int
        let flags: [Bool]
        init(_ chip: ResampleInput, _ flags: [Bool]) {
            version = chip.header.int("EXTVER") ?? 1; width = chip.width; height = chip.height; self.flags = flags
        }
    }

    static func writeCopy(of base: String, chips: [ChipFlags], to output: String, bit: UInt32, overwrite: Bool) throws {
        let hdus = try FITS.listHDUs(base)
        var out: [OutputHDU] = []
        var pending = chips
        for info in hdus {
            guard info.kind == .image else {
                throw AstroError(.badData, file: base, hdu: "HDU \(info.index)", operation: "writing the flagged copy",
                                 reason: "table HDUs are not copied; keep only the image HDUs")
            }
            let name = (info.extname ?? "").uppercased(), ver = info.header.int("EXTVER") ?? 1
            guard info.shape.count >= 2 else { out.append(.headerOnly(info.header, extname: info.extname)); continue }
            guard name == "DQ" || name == "MASK", let k = pending.firstIndex(where: { $0.version == ver }) else {
                out.append(try FITSCopy.hdu(of: base, info))   // unchanged: its bytes as they are
                continue
            }
            var image = try FITS.readImage("\(base)[\(info.index)]")
            for (p, f) in pending[k].flags.enumerated() where f {
                image.pixels[p] = Float(UInt32(max(0, image.pixels[p])) | bit)
            }
            pending.remove(at: k)
            image.header.addHistory("astrotool resample outliers: bit \(bit) set on outliers")
            out.append(OutputHDU(image, extname: info.extname, extver: info.header.int("EXTVER"), pixelType: FITSCopy.storage(info)))
        }
        // Chips without a mask get one, MASK with their EXTVER, at the end.
        for chip in pending {
            let mask = Image(width: chip.width, height: chip.height, pixels: chip.flags.map { $0 ? Float(bit) : 0 })
            out.append(OutputHDU(mask, extname: "MASK", extver: chip.version == 1 ? nil : chip.version, pixelType: bit < 256 ? .uint8 : .int32))
        }
        try FITSWriter.write(out, to: output, overwrite: overwrite)
    }
}
