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
                let kernel = StackKernel(options: options, scales: scales, network: network)
                defer { tile.deallocate(); kernel.deallocate() }
                // Gaussian stacks with outliers; some lanes made of ties.
                var data = [Float](repeating: 0, count: n * width)
                for i in 0..<n {
                    for lane in 0..<width {
                        var v = 100 + 3 * g.gaussian()
                        if Int.random(in: 0..<6, using: &g) == 0 { v += 40 }
                        data[i * width + lane] = lane == 7 ? 101 : Float(v)
                    }
                }
                let loaded = data.withUnsafeBufferPointer { tile.load($0.baseAddress!, stride: width, bits: nil) }
                #expect(loaded)
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
