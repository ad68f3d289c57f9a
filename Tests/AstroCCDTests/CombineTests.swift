@testable import AstroCCD
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `combine` against ccdproc 2.5.1 under --ccdproc-compat, on a seeded 7-frame stack with outliers,
/// NaNs and masks (testdata/ccdproc/ref/comb_cases.json), and our own semantics on analytic stacks.
@Suite struct CombineTests {
    static let stack = (1...7).map { Fixture.ref(String(format: "stack_%03d", $0)) }

    static func compat(_ edit: (inout CombineOptions) -> Void) -> CombineOptions {
        var o = CombineOptions()
        o.ccdprocCompat = true
        edit(&o)
        return o
    }

    static func clip(_ low: Double, _ high: Double, _ c: CombineOptions.SigmaClip.Center,
                     _ d: CombineOptions.SigmaClip.Deviation) -> CombineOptions.SigmaClip {
        var s = CombineOptions.SigmaClip()
        s.low = low; s.high = high; s.center = c; s.deviation = d
        return s
    }

    static let cases: [(String, CombineOptions)] = [
        ("avg", compat { _ in }),
        ("median", compat { $0.method = .median }),
        ("sum", compat { $0.method = .sum }),
        ("avg_sigclip", compat { $0.sigmaClip = clip(3, 3, .mean, .std) }),
        ("avg_sigclip_str", compat { $0.sigmaClip = clip(3, 3, .mean, .std); $0.ccdprocCallables = false }),
        ("avg_sigclip_med", compat { $0.sigmaClip = clip(3, 3, .median, .madStd) }),
        ("median_sigclip_med", compat { $0.method = .median; $0.sigmaClip = clip(2.5, 2.5, .median, .madStd) }),
        ("avg_minmax", compat { $0.minmax = -12.0...250.0 }),
        ("avg_extrema", compat { $0.extrema = (1, 1) }),
        ("avg_extrema02", compat { $0.extrema = (0, 2) }),
        ("avg_scale", compat { $0.scale = .values((1...7).map { 1 / (1 + 0.01 * Double($0)) }) }),
        ("median_scale_fn", compat { $0.method = .median; $0.scale = .inverse(.median) }),
        ("avg_weights", compat { $0.weights = (1...7).map(Double.init) }),
        ("sum_sigclip", compat { $0.method = .sum; $0.sigmaClip = clip(3, 3, .mean, .std) }),
    ]

    @Test(arguments: cases.map(\.0))
    func matchesCCDProcCombine(name: String) throws {
        let options = Self.cases.first { $0.0 == name }!.1
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("c.fits").path
        _ = try Combine.run(Self.stack, options: options, output: out, overwrite: false)
        let got = try Fixture.read(out)
        let ref = try Fixture.read(Fixture.ref("comb_\(name)"))
        #expect(Fixture.maxDiff(got.pixels, ref.pixels, scale: 10) < 1e-6, "data \(name)")
        #expect(Fixture.maxDiff(got.uncertainty!, ref.uncertainty!, scale: 1) < 1e-6, "ERR \(name)")
        let gotMask = got.mask!.map { $0 != 0 }
        let refMask = (ref.mask ?? [UInt8](repeating: 0, count: got.count)).map { $0 != 0 }
        #expect(gotMask == refMask, "MASK \(name)")
        #expect(got.header.int("NCOMBINE") == 7)
    }

    /// Without --ccdproc-compat: masks and NaN are honoured in the statistics, weights of
    /// rejected values leave the denominator, a fully rejected pixel is NaN and flagged.
    @Test func honestSemantics() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var paths: [String] = []
        // Five frames of 2x1: pixel 0 = 10 with one 1000 outlier masked in frame 0 and one NaN,
        // pixel 1 masked in every frame.
        let values: [[Float]] = [[1000, 1], [10, 1], [10, 1], [.nan, 1], [10, 1], [10, 1]]
        for (i, v) in values.enumerated() {
            let p = dir.appendingPathComponent("f\(i).fits").path
            let img = Image(width: 2, height: 1, pixels: v)
            let m = Image(width: 2, height: 1, pixels: [i == 0 ? 1 : 0, 1])
            try FITSWriter.write([OutputHDU(img), OutputHDU(m, extname: "MASK", pixelType: .uint8)], to: p, overwrite: false)
            paths.append(p)
        }
        var o = CombineOptions()
        o.sigmaClip = Self.clip(3, 3, .mean, .std)
        o.weights = [1, 1, 1, 1, 1, 1]
        let out = dir.appendingPathComponent("c.fits").path
        let report = try Combine.run(paths, options: o, output: out, overwrite: false)
        let got = try Fixture.read(out)
        #expect(got.pixels[0] == 10)
        #expect(got.uncertainty![0] == 0)
        #expect(got.pixels[1].isNaN && got.mask![1] == MaskBits.bad.rawValue)
        #expect(report.empty == 1)
        // ccdproc: the masked 1000 and the NaN poison the clip; the weights' sum counts masked frames.
        o.ccdprocCompat = true
        let report2 = try Combine.run(paths, options: o, output: out, overwrite: true)
        let compat = try Fixture.read(out)
        #expect(compat.pixels[0] == 0 && report2.empty == 2)
    }

    @Test func memoryLimitStreamsBlocks() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let whole = dir.appendingPathComponent("a.fits").path, small = dir.appendingPathComponent("b.fits").path
        var o = CombineOptions()
        o.method = .median
        o.sigmaClip = Self.clip(3, 3, .median, .madStd)
        let a = try Combine.run(Self.stack, options: o, output: whole, overwrite: false)
        o.memLimit = 7 * 64 * 5 * 3   // 3 rows of data and mask bits
        let b = try Combine.run(Self.stack, options: o, output: small, overwrite: false)
        #expect(a.blockRows == 48 && b.blockRows == 3)
        #expect(try Fixture.read(whole).pixels.elementsEqual(try Fixture.read(small).pixels) { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }

    @Test func refusals() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("c.fits").path
        #expect(throws: AstroError.self) { try Combine.run([], options: .init(), output: out, overwrite: false) }
        // Shapes differ.
        #expect(throws: AstroError.self) {
            try Combine.run([Self.stack[0], Fixture.raw("bias_001")], options: .init(), output: out, overwrite: false)
        }
        // Mixed BUNIT.
        let e = dir.appendingPathComponent("e.fits").path
        var img = try Fixture.read(Self.stack[1])
        img.header.set("BUNIT", "electron")
        try FITSWriter.write([OutputHDU(img)], to: e, overwrite: false)
        do {
            _ = try Combine.run([Self.stack[0], e], options: .init(), output: out, overwrite: false)
            Issue.record("mixed units combined")
        } catch let error as AstroError { #expect(error.file == e && error.reason.contains("BUNIT")) }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

/// The sorting network behind medians: every stack size sorts correctly.
@Suite struct SortingNetworkTests {
    @Test func sortsEverySize() {
        var g = SeededGenerator(seed: 3)
        for n in 1...70 {
            let pairs = StackKernel.batcherNetwork(n)
            for _ in 0..<20 {
                var v = (0..<n).map { _ in Double(Int.random(in: 0...9, using: &g)) }
                let expected = v.sorted()
                for (i, j) in pairs {
                    let a = v[Int(i)], b = v[Int(j)]
                    v[Int(i)] = min(a, b); v[Int(j)] = max(a, b)
                }
                #expect(v == expected, "n=\(n)")
            }
        }
    }
}

/// mad_std of a sorted run equals the brute-force one (median of the sorted |x − median|).
@Suite struct SortedRunTests {
    @Test func madStdMatchesBruteForce() {
        var g = SeededGenerator(seed: 5)
        for m in 1...41 {
            for _ in 0..<30 {
                var v = (0..<m).map { _ in Double(Int.random(in: 0...12, using: &g)) }.sorted()
                let med = m % 2 == 1 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2])
                let d = v.map { abs($0 - med) }.sorted()
                let mad = m % 2 == 1 ? d[m / 2] : 0.5 * (d[m / 2 - 1] + d[m / 2])
                let got = v.withUnsafeMutableBufferPointer { SortedRun.madStd($0.baseAddress!, 0, m) }
                #expect(abs(got - 1.482602218505602 * mad) < 1e-12, "m=\(m) \(v)")
            }
        }
    }
}

/// The eight-lane tile path gives what the one-stack kernel gives, for every option it takes.
@Suite struct StackTileTests {
    static func variants() -> [CombineOptions] {
        var all: [CombineOptions] = []
        for method in CombineOptions.Method.allCases {
            for compat in [false, true] {
                for clipCase in 0..<5 {
                    var o = CombineOptions()
                    o.method = method
                    o.ccdprocCompat = compat
                    switch clipCase {
                    case 1: var c = CombineOptions.SigmaClip(); c.iterations = compat ? 1 : 10; o.sigmaClip = c
                    case 2: var c = CombineOptions.SigmaClip(); c.center = .median; c.deviation = .madStd; c.low = 2; c.high = 2.5; o.sigmaClip = c
                    case 3: o.extrema = (1, 2); var c = CombineOptions.SigmaClip(); c.center = .median; o.sigmaClip = c
                    case 4: o.minmax = 95...108
                    default: break
                    }
                    all.append(o)
                }
            }
        }
        return all
    }

    @Test(arguments: [3, 8, 20])
    func agreesWithKernel(n: Int) {
        var g = SeededGenerator(seed: UInt64(n))
        let width = StackTile.width
        for options in Self.variants() {
            for scaled in [false, true] {
                let scales = (0..<n).map { scaled ? 0.9 + 0.02 * Double($0) : 1 }
                let network = StackKernel.batcherNetwork(n)
                guard let tile = StackTile(options: options, scales: scales, network: network) else {
                    #expect(scaled && (options.ccdprocCompat || options.minmax != nil)); continue
                }
                let kernel = StackKernel(options: options, constants: .init(scales: scales), network: network)
                defer { tile.deallocate(); kernel.deallocate() }
                // Gaussian stacks, with outliers in lanes 0-3 (clipped lanes beside kept ones);
                // lane 7 made of ties.
                var data = [Float](repeating: 0, count: n * width)
                for i in 0..<n {
                    for lane in 0..<width {
                        var v = 100 + 3 * g.gaussian()
                        if lane < 4 && Int.random(in: 0..<6, using: &g) == 0 { v += 40 }
                        data[i * width + lane] = lane == 7 ? 101 : Float(v)
                    }
                }
                let loaded = data.withUnsafeBufferPointer { tile.load($0.baseAddress!, stride: width, bits: nil) }
                #expect(loaded)
                // All lanes at once gives each lane's own result, bit for bit.
                var all = [StackKernel.Result?](repeating: nil, count: width)
                tile.combineAll { all[$0] = $1 }
                for lane in 0..<width {
                    let one = tile.combine(lane: lane)
                    let same = all[lane].map {
                        $0.value.bitPattern == one.value.bitPattern && $0.sigma.bitPattern == one.sigma.bitPattern
                            && $0.mask == one.mask && $0.rejected == one.rejected
                    }
                    #expect(same == true, "n=\(n) \(options.method) compat=\(options.ccdprocCompat) lane \(lane)")
                }
                for lane in 0..<width {
                    for i in 0..<n { kernel.x[i] = Double(data[i * width + lane]); kernel.bits[i] = 0 }
                    let want = kernel.combine(), got = tile.combine(lane: lane)
                    let what = "n=\(n) \(options.method) compat=\(options.ccdprocCompat) clip=\(options.sigmaClip != nil) scaled=\(scaled) lane \(lane)"
                    #expect(got.rejected == want.rejected && got.mask == want.mask, "\(what)")
                    for (a, b) in [(got.value, want.value), (got.sigma, want.sigma)] where !(a.isNaN && b.isNaN) {
                        // Scaled tiles round x·scale to Float: up to an ulp of the data (level 100) or result per value.
                        let tolerance = scaled ? 2 * max(abs(b), 100).ulp : 2e-6 * max(1, abs(b))
                        #expect(abs(a - b) <= tolerance, "\(what): \(a) vs \(b)")
                    }
                }
            }
        }
    }

    @Test func refusesUnusableValues() {
        let tile = StackTile(options: CombineOptions(), scales: [1, 1, 1], network: StackKernel.batcherNetwork(3))!
        defer { tile.deallocate() }
        var data = [Float](repeating: 1, count: 24)
        let bits = [UInt8](repeating: 0, count: 24)
        for bad in [Float.nan, .infinity] {
            data[13] = bad
            #expect(!data.withUnsafeBufferPointer { tile.load($0.baseAddress!, stride: 8, bits: nil) })
        }
        data[13] = 1
        var masked = bits
        masked[20] = MaskBits.bad.rawValue
        #expect(data.withUnsafeBufferPointer { d in bits.withUnsafeBufferPointer { tile.load(d.baseAddress!, stride: 8, bits: $0.baseAddress!) } })
        #expect(!data.withUnsafeBufferPointer { d in masked.withUnsafeBufferPointer { tile.load(d.baseAddress!, stride: 8, bits: $0.baseAddress!) } })
    }
}

/// IRAF imcombine's rejections on hand-made stacks, against what its algorithms document.
@Suite struct IRAFRejectionTests {
    static func combine(_ values: [Double], _ r: CombineOptions.Rejection, method: CombineOptions.Method = .average,
                        masked: Set<Int> = [], constants: StackKernel.Constants? = nil, lineSigma: Double = 0) -> StackKernel.Result {
        var o = CombineOptions()
        o.method = method
        o.reject = r
        let c = constants ?? .init(scales: values.map { _ in 1 })
        let kernel = StackKernel(options: o, constants: c, network: StackKernel.batcherNetwork(values.count))
        defer { kernel.deallocate() }
        for (i, v) in values.enumerated() { kernel.x[i] = v; kernel.bits[i] = masked.contains(i) ? 1 : 0 }
        return kernel.combine(lineSigma: lineSigma)
    }

    @Test func sigclipAboutTheMedian() {
        // One outlier among n values is at most √(n − 1) σ out (σ includes it): 3σ needs n > 10.
        let ten = [10, 10.5, 9.5, 10, 10.2, 9.8, 10.1, 9.9, 10, 100]
        #expect(Self.combine(ten, .init(algorithm: .sigclip)).rejected == 0)
        let stack = ten + [10, 10.3, 9.7, 10, 10]
        let r = Self.combine(stack, .init(algorithm: .sigclip))
        #expect(r.rejected == 1)
        #expect(abs(Double(r.value) - 10) < 1e-6)
        // About the mean without the extremes: the same here.
        var mean = CombineOptions.Rejection(algorithm: .sigclip)
        mean.mclip = false
        #expect(Self.combine(stack, mean).rejected == 1)
    }

    @Test func minmaxScalesCountsToValuesPresent() {
        var r = CombineOptions.Rejection(algorithm: .minmax)
        r.nlow = 1; r.nhigh = 2
        let stack: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        let all = Self.combine(stack, r)
        #expect(all.rejected == 3 && all.value == 5)            // 2...8
        // One value masked: nlow·9/10 + 0.001 truncates to 0, nhigh to 1.
        let some = Self.combine(stack, r, masked: [0])
        #expect(some.rejected == 1 && some.value == 5.5)         // 2...9
    }

    @Test func ccdclipUsesTheNoiseModel() {
        // Poisson only (gain 1, no read noise): σ = √100 = 10 about the median 100.
        var c = StackKernel.Constants(scales: [Double](repeating: 1, count: 7))
        c.gain = c.gain.map { _ in 1 }
        let stack: [Double] = [100, 100, 100, 100, 129, 131, 71]
        let r = Self.combine(stack, .init(algorithm: .ccdclip), constants: c)
        #expect(r.rejected == 1)                                 // only 131 (> 3σ); 71 is 2.9σ low
        var lowOut = stack; lowOut[6] = 69
        #expect(Self.combine(lowOut, .init(algorithm: .ccdclip), constants: c).rejected == 2)
        // crreject keeps every low value.
        #expect(Self.combine(lowOut, .init(algorithm: .crreject), constants: c).rejected == 1)
        // Read noise widens σ: √(100 + (10/1)²) ≈ 14.1, so 131 stays.
        c.readNoise = c.readNoise.map { _ in 10 }
        #expect(Self.combine(stack, .init(algorithm: .ccdclip), constants: c).rejected == 0)
    }

    @Test func pclipWidthFromAQuartile() {
        // N = 10: pclip −0.5 → −2 places; the width runs from the median (10) to the 3rd value (9).
        let stack: [Double] = [8, 9, 9, 10, 10, 10, 10, 11, 11, 14]
        let r = Self.combine(stack, .init(algorithm: .pclip))
        // Width 1: 14 (4 above) goes, 8 (2 below) stays, as do values exactly at 3 widths.
        #expect(r.rejected == 1)
    }

    @Test func nkeepRestoresTheNearest() {
        var r = CombineOptions.Rejection(algorithm: .ccdclip)
        r.nkeep = 4
        var c = StackKernel.Constants(scales: [Double](repeating: 1, count: 5))
        c.gain = c.gain.map { _ in 1 }
        // σ = 10 about 100: 150 (5σ) and 40 (6σ) are rejected; keeping 4 restores the nearer, 150.
        let stack: [Double] = [100, 100, 150, 40, 100]
        let kept = Self.combine(stack, r, constants: c)
        #expect(kept.rejected == 1)
        #expect(abs(Double(kept.value) - 112.5) < 1e-4)
    }

    @Test func avsigclipScalesTheLineSigma() {
        // σ = lineSigma·√median = 1·√100.
        let stack: [Double] = [100, 101, 99, 100, 135, 100]
        #expect(Self.combine(stack, .init(algorithm: .avsigclip), lineSigma: 1).rejected == 1)
        #expect(Self.combine(stack, .init(algorithm: .avsigclip), lineSigma: 2).rejected == 0)
    }
}

/// Multi-extension inputs combine chip by chip, into the same layout.
@Suite struct MEFCombineTests {
    @Test func chipByChip() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var paths: [String] = []
        for k in 0..<3 {
            var primary = Header(); primary.set("EXPTIME", Double(10 * (k + 1)))
            let chips = (1...2).map { c in
                CCDChip(image: Image(width: 4, height: 3, pixels: [Float](repeating: Float(100 * c + k), count: 12)),
                        extname: "SCI", extver: c, hduLabel: nil)
            }
            let p = dir.appendingPathComponent("m\(k).fits").path
            try CCDFile(path: p, primaryHeader: primary, chips: chips).write(to: p, overwrite: false)
            paths.append(p)
        }
        let out = dir.appendingPathComponent("c.fits").path
        var o = CombineOptions()
        o.method = .median
        let r = try Combine.run(paths, options: o, output: out, overwrite: false)
        #expect(r.inputs == 3)
        let hdus = try FITS.listHDUs(out)
        #expect(hdus.map(\.extname) == [nil, "SCI", "ERR", "MASK", "SCI", "ERR", "MASK"])
        #expect(hdus[0].header.double("EXPTIME") == 20 && hdus[0].header.int("NCOMBINE") == 3)
        let result = try CCDFile.read(out)
        #expect(result.chips.map { $0.image.pixels[0] } == [101, 201])
        // A single-frame input among MEF ones is refused.
        #expect(throws: AstroError.self) {
            try Combine.run(paths + [Fixture.ref("stack_001")], options: o, output: out, overwrite: true)
        }
    }
}

/// Shifted frames: exact integer offsets, accurate spline resampling, union and overlap grids.
@Suite struct ShiftTests {
    @Test func splineResamplesSmoothData() {
        let w = 40, h = 30
        func f(_ x: Double, _ y: Double) -> Double { 100 + 20 * sin(x / 4) * cos(y / 5) }
        let image = Image(width: w, height: h, pixels: (0..<(w * h)).map { Float(f(Double($0 % w), Double($0 / w))) })
        var o = ShiftOptions(shifts: [(dx: 0.3, dy: -0.6)])
        let grid = try! o.grid(width: w, height: h)
        for (order, tolerance) in [(3, 0.02), (1, 0.3)] {
            o.order = order
            let out = Shift.resample(image, dx: 0.3, dy: -0.6, order: order, grid: grid)
            var worst = 0.0
            for y in 4..<(grid.height - 4) {
                for x in 4..<(grid.width - 4) {
                    let u = Double(x + grid.x0) - 0.3, v = Double(y + grid.y0) + 0.6
                    worst = max(worst, abs(Double(out.pixels[y * grid.width + x]) - f(u, v)))
                }
            }
            #expect(worst < tolerance, "order \(order): \(worst)")
        }
    }

    @Test func combinesOntoUnionOrOverlap() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        // A bright pixel at (5, 4) in frame 0, at (7, 3) in frame 1: frame 1 is shifted by (2, −1).
        var paths: [String] = []
        for (k, (x, y)) in [(5, 4), (7, 3)].enumerated() {
            var pixels = [Float](repeating: 10, count: 12 * 8)
            pixels[y * 12 + x] = 1000
            let p = dir.appendingPathComponent("s\(k).fits").path
            try FITSWriter.write([OutputHDU(Image(width: 12, height: 8, pixels: pixels))], to: p, overwrite: false)
            paths.append(p)
        }
        // Shifts that bring frame 1 back onto frame 0: out(x, y) = in(x − dx, y − dy).
        var o = CombineOptions()
        o.shifts = ShiftOptions(shifts: [(dx: 0, dy: 0), (dx: -2, dy: 1)])
        let union = dir.appendingPathComponent("u.fits").path
        _ = try Combine.run(paths, options: o, output: union, overwrite: false)
        let u = try CCDFile.read(union).chips[0].image
        #expect(u.width == 14 && u.height == 9)
        // Frame 0's (5, 4) sits at (5 − x0, 4 − y0) = (7, 4) of the union grid (x0 = −2, y0 = 0).
        #expect(u[7, 4] == 1000)
        // (0, 0) lies in neither frame: no data; (0, 1) only in frame 1: its sky, unmasked.
        #expect(u.mask![0] != 0 && u.mask![1 * 14] == 0 && u[0, 1] == 10)
        o.shifts!.overlap = true
        let overlap = dir.appendingPathComponent("o.fits").path
        _ = try Combine.run(paths, options: o, output: overlap, overwrite: false)
        let v = try CCDFile.read(overlap).chips[0].image
        #expect(v.width == 10 && v.height == 7)
        #expect(v[5, 3] == 1000 && v.mask!.allSatisfy { $0 == 0 })
    }
}

/// IRAF's grow and the fill value, through the whole combination.
@Suite struct GrowFillTests {
    @Test func growRejectsNeighboursInTheSameImage() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        // Five 7x7 frames at 100; frame 2 has a cosmic ray of 1000 at (3, 3) with a 125 halo
        // around it, 2.5 sigma (sqrt(100) = 10) high: ccdclip alone keeps the halo.
        var paths: [String] = []
        for k in 0..<5 {
            var pixels = [Float](repeating: 100, count: 49)
            if k == 2 {
                pixels[3 * 7 + 3] = 1000
                for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] { pixels[(3 + dy) * 7 + 3 + dx] = 125 }
            }
            let p = dir.appendingPathComponent("g\(k).fits").path
            try FITSWriter.write([OutputHDU(Image(width: 7, height: 7, pixels: pixels))], to: p, overwrite: false)
            paths.append(p)
        }
        var o = CombineOptions()
        o.reject = .init(algorithm: .ccdclip)
        let plain = dir.appendingPathComponent("p.fits").path, grown = dir.appendingPathComponent("g.fits").path
        let a = try Combine.run(paths, options: o, output: plain, overwrite: false)
        o.reject!.grow = 1
        let b = try Combine.run(paths, options: o, output: grown, overwrite: false)
        #expect(a.rejected == 1 && b.rejected == 5)
        let p = try Fixture.read(plain), g = try Fixture.read(grown)
        #expect(p[3, 3] == 100 && p[4, 3] == 105)
        #expect(g[3, 3] == 100 && g[4, 3] == 100 && g[3, 2] == 100)
    }

    @Test func fillValueWhereNothingSurvives() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var paths: [String] = []
        for k in 0..<3 {
            let p = dir.appendingPathComponent("f\(k).fits").path
            try FITSWriter.write([OutputHDU(Image(width: 2, height: 1, pixels: [Float(k), .nan]))], to: p, overwrite: false)
            paths.append(p)
        }
        var o = CombineOptions()
        o.fillValue = -1
        let out = dir.appendingPathComponent("c.fits").path
        _ = try Combine.run(paths, options: o, output: out, overwrite: false)
        let c = try Fixture.read(out)
        #expect(c.pixels == [1, -1] && c.mask == [0, MaskBits.nonFinite.rawValue])
    }
}
