import AstroFITS
import AstroImage
import Foundation

/// What a combination did, for the summary and `--json`.
public struct CombineReport: Sendable, Encodable {
    public var output: String
    public var inputs: Int
    public var width: Int
    public var height: Int
    public var method: String
    public var scales: [Double]
    /// Values rejected by clipping, over all pixels and images.
    public var rejected: Int
    /// Pixels where no value survived (masked in MASK).
    public var empty: Int
    /// Lines read per block under `--mem-limit`.
    public var blockRows: Int
}

/// Image combination (ccdproc `combine`): streams line blocks from every input at once, so the
/// buffers stay under `memLimit` whatever the stack size; the output frame itself is in memory.
public enum Combine {
    /// Combines single frames, or multi-extension files chip by chip (SCI k of every input
    /// into SCI k of the output, each with its ERR and MASK), and writes the result.
    public static func run(_ paths: [String], options: CombineOptions, output: String, overwrite: Bool,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> CombineReport {
        guard !paths.isEmpty else {
            throw AstroError(.noInput, operation: "combining", reason: "no input frames")
        }
        let counts = try paths.map { try CombineInput.chipCount($0) }
        for (path, k) in zip(paths, counts) where k != counts[0] {
            throw AstroError(.badData, file: path, operation: "combining", reason: "it has \(k) chips, \(paths[0]) has \(counts[0])")
        }
        let nchips = counts[0]
        if let shifts = options.shifts {
            guard nchips == 1 else {
                throw AstroError(.usage, operation: "combining with --shifts", reason: "shifts apply to single frames, not \(nchips)-chip files")
            }
            return try runShifted(paths, shifts, options: options, output: output, overwrite: overwrite, progress: progress)
        }
        return try run(chips: nchips, options: options, output: output, overwrite: overwrite, progress: progress) { c in
            try paths.map { try CombineInput($0, chip: nchips > 1 ? c : nil) }
        }
    }

    /// Frames already in memory (calibrated by combine itself), named by `paths` in messages
    /// and IMCMB cards.
    static func run(_ frames: [CCDFile], paths: [String], options: CombineOptions, output: String, overwrite: Bool,
                    progress: (Int, Int) -> Void) throws -> CombineReport {
        let nchips = frames[0].chips.count
        for (frame, path) in zip(frames, paths) where frame.chips.count != nchips {
            throw AstroError(.badData, file: path, operation: "combining", reason: "it has \(frame.chips.count) chips, \(paths[0]) has \(nchips)")
        }
        return try run(chips: nchips, options: options, output: output, overwrite: overwrite, progress: progress) { c in
            zip(frames, paths).map { CombineInput($0, chip: c, path: $1) }
        }
    }

    /// Chip by chip: `inputs(c)` opens chip c of every input.
    private static func run(chips nchips: Int, options: CombineOptions, output: String, overwrite: Bool,
                            progress: (Int, Int) -> Void, inputs open: (Int) throws -> [CombineInput]) throws -> CombineReport {
        var chips: [CCDChip] = []
        var report: CombineReport?
        var primary: Header?
        for c in 0..<nchips {
            let inputs = try open(c)
            let (image, part) = try combineChip(inputs, options: options, output: output) { row, height in
                progress(c * height + row, nchips * height)
            }
            chips.append(CCDChip(image: image, extname: inputs[0].primaryHeader == nil ? nil : inputs[0].extname,
                                 extver: inputs[0].extver, hduLabel: nil))
            if var r = report { r.rejected += part.rejected; r.empty += part.empty; report = r } else { report = part }
            if let p = inputs[0].primaryHeader {
                // The primary keeps the inputs' list and the exposure, as the chips do.
                var h = p
                for card in ["NCOMBINE", options.exptimeKey] { if let v = image.header.double(card) { h.set(card, v) } }
                for (i, input) in inputs.enumerated() where i < 999 {
                    h.set(String(format: "IMCMB%03d", i + 1), URL(fileURLWithPath: input.path).lastPathComponent)
                }
                primary = h
            }
        }
        try CCDFile(path: output, primaryHeader: primary, chips: chips).write(to: output, overwrite: overwrite, bitpix: options.pixelType)
        return report!
    }

    /// Resamples every frame onto the shifts' common grid into a scratch folder beside the
    /// output (one frame in memory at a time), then combines those.
    static func runShifted(_ paths: [String], _ shifts: ShiftOptions, options: CombineOptions, output: String,
                           overwrite: Bool, progress: (Int, Int) -> Void) throws -> CombineReport {
        guard shifts.shifts.count == paths.count else {
            throw AstroError(.usage, operation: "combining with --shifts", reason: "\(shifts.shifts.count) shifts for \(paths.count) inputs")
        }
        let scratch = try ScratchFolder(beside: output, overwrite: overwrite, purpose: "shift")
        defer { scratch.remove() }
        var grid: (width: Int, height: Int, x0: Int, y0: Int)?
        var shifted: [String] = []
        for (i, path) in paths.enumerated() {
            let frame = try CCDFile.read(path, goodBits: options.goodBits)
            var image = frame.chips[0].image
            let g = try grid ?? shifts.grid(width: image.width, height: image.height)
            grid = g
            let s = shifts.shifts[i]
            image = Shift.resample(image, dx: s.dx, dy: s.dy, order: shifts.order, grid: g)
            image.header.addHistory("astrotool ccdproc combine: shifted by (\(s.dx), \(s.dy)) onto \(g.width)x\(g.height)")
            let target = try scratch.path(i, for: path)
            try CCDFile(path: target, chips: [CCDChip(image: image, extname: nil, extver: nil, hduLabel: nil)])
                .write(to: target, overwrite: false, bitpix: .float32)
            shifted.append(target)
        }
        var plain = options
        plain.shifts = nil
        plain.goodBits = .none   // already applied when the frames were read
        let inputs = try shifted.map { try CombineInput($0) }
        var (image, report) = try combineChip(inputs, options: plain, output: output, progress: progress)
        let g = grid!
        image.header.addHistory("astrotool ccdproc combine: \(shifts.overlap ? "overlap" : "union") of the shifted frames, "
            + "order \(shifts.order), grid origin (\(g.x0), \(g.y0))")
        try CCDFile(path: output, chips: [CCDChip(image: image, extname: nil, extver: nil, hduLabel: nil)])
            .write(to: output, overwrite: overwrite, bitpix: options.pixelType)
        return report
    }

    /// One chip's combination: the result (data, ERR unless none, MASK) with its header.
    static func combineChip(_ inputs: [CombineInput], options: CombineOptions, output: String,
                            progress: (Int, Int) -> Void) throws -> (Image, CombineReport) {
        let first = inputs[0]
        let width = first.width, height = first.height
        let unit = CCDUnit.of(first.header)
        for input in inputs.dropFirst() {
            guard input.width == width, input.height == height else {
                throw AstroError(.badData, file: input.path, operation: "combining",
                                 reason: "it is \(input.width)x\(input.height), \(first.path) is \(width)x\(height)")
            }
            let u = CCDUnit.of(input.header)
            guard u == unit else {
                throw AstroError(.badData, file: input.path, operation: "combining",
                                 reason: "its BUNIT is '\(u)', \(first.path) is in '\(unit)'")
            }
        }
        if let w = options.weights, w.count != inputs.count {
            throw AstroError(.usage, operation: "combining", reason: "\(w.count) weights for \(inputs.count) inputs")
        }
        if options.uncertainty == .propagate, let bare = inputs.first(where: { !$0.hasErr }) {
            throw AstroError(.badData, file: bare.path, operation: "propagating ERR", reason: "it has no ERR/UNCERT extension")
        }
        let scales = try scaleFactors(inputs, options)
        let constants = try kernelConstants(inputs, options, scales: scales)

        let n = inputs.count
        let propagate = options.uncertainty == .propagate
        let masked = inputs.contains { $0.hasMask }
        let bytesPerPixel = 4 + (masked ? 1 : 0) + (propagate ? 4 : 0)   // data, mask bits, σ
        // The limit bounds the block buffers; past 64 MiB bigger blocks only cost page faults.
        // Rows copied from frames in memory go in 4 MiB blocks: the copy stays in cache for the
        // kernel and the buffer's pages are reused (the night's three masters 0.42 -> 0.37 s);
        // file reads want large blocks (20 files of 4096x2048: 0.62 s with 64 MiB, 0.67 with 4).
        let budget = min(options.memLimit, inputs.allSatisfy(\.inMemory) ? 4 << 20 : 64 << 20)
        let blockRows = max(1, min(height, budget / max(1, n * width * bytesPerPixel)))

        // Zeroed on all cores: a fresh page costs a fault and zeroing (a serial fill was a
        // tenth of a master's wall time here).
        var value = [Float](parallelRepeating: 0, count: width * height)
        var sigma = [Float](parallelRepeating: 0, count: options.uncertainty == .none ? 0 : width * height)
        var mask = [UInt8](parallelRepeating: 0, count: width * height)
        // One set of block buffers for the whole run: input i's lines at i·bp.
        let capacity = n * blockRows * width
        var data = [Float](repeating: 0, count: capacity)
        var bits = [UInt8](repeating: 0, count: masked ? capacity : 0)
        var errs = [Float](repeating: 0, count: propagate ? capacity : 0)
        let network = StackKernel.batcherNetwork(n)
        /// One pass over every line block. `record` receives, per pixel, the set of images whose
        /// value was rejected; `extra` is such a set to leave out (IRAF's grow, second pass).
        func pass(_ options: CombineOptions, record: SendableMutableBuffer<UInt64>?,
                  extra: SendableBuffer<UInt64>?) throws -> (rejected: Int, empty: Int) {
        var rejected = 0, empty = 0
        var row = 0
        while row < height {
            let rows = row..<min(height, row + blockRows)
            let bp = rows.count * width
            // Each input's rows into its part of the block buffers, inputs across the cores (a
            // copy or a file read each; the first failure in input order is thrown).
            let failure = data.withUnsafeMutableBufferPointer { dp in
                bits.withUnsafeMutableBufferPointer { mp in
                    errs.withUnsafeMutableBufferPointer { ep in
                        let (d, m, e) = (SendableMutableBuffer(dp), SendableMutableBuffer(mp), SendableMutableBuffer(ep))
                        let goodBits = options.goodBits, sources = Unshared(inputs)
                        return Parallel.mapBlocks(count: n) { r -> (any Error)? in
                            for i in r {
                                let input = sources.value[i]
                                do {
                                    try input.data(rows: rows, into: UnsafeMutableBufferPointer(start: d.base + i * bp, count: bp))
                                    if masked {
                                        let part = UnsafeMutableBufferPointer(start: m.base + i * bp, count: bp)
                                        if let bits = try input.mask(rows: rows, goodBits: goodBits) {
                                            _ = part.update(fromContentsOf: bits)
                                        } else {
                                            part.update(repeating: 0)
                                        }
                                    }
                                    if propagate { try input.sigma(rows: rows, into: UnsafeMutableBufferPointer(start: e.base + i * bp, count: bp)) }
                                } catch { return error }
                            }
                            return nil
                        }.compactMap { $0 }.first
                    }
                }
            }
            if let failure { throw failure }
            let offset = rows.lowerBound * width
            let hasSigma = !sigma.isEmpty
            let counts = data.withUnsafeBufferPointer { dp in
                bits.withUnsafeBufferPointer { mp in
                    errs.withUnsafeBufferPointer { ep in
                        value.withUnsafeMutableBufferPointer { vp in
                            sigma.withUnsafeMutableBufferPointer { sp in
                                mask.withUnsafeMutableBufferPointer { op in
                                    let d = SendableBuffer(dp), m = SendableBuffer(mp), e = SendableBuffer(ep)
                                    let v = SendableMutableBuffer(vp), s = SendableMutableBuffer(sp), o = SendableMutableBuffer(op)
                                    /// Loads pixel q's stack into a kernel.
                                    @Sendable func load(_ kernel: StackKernel, _ q: Int) {
                                        for i in 0..<n {
                                            kernel.x[i] = Double(d.base[i * bp + q])
                                            kernel.bits[i] = masked ? m.base[i * bp + q] : 0
                                            if let extra, (extra.base[offset + q] >> UInt64(i)) & 1 == 1 { kernel.bits[i] |= MaskBits.outlier.rawValue }
                                            if propagate { kernel.s[i] = Double(e.base[i * bp + q]) }
                                        }
                                    }
                                    // avsigclip's σ per √signal, one per image line.
                                    var lineSigma = [Double](repeating: 0, count: rows.count)
                                    if options.reject?.algorithm == .avsigclip {
                                        lineSigma = Parallel.mapBlocks(count: rows.count) { lines in
                                            let kernel = StackKernel(options: options, constants: constants, network: network)
                                            defer { kernel.deallocate() }
                                            return lines.map { line -> Double in
                                                var sum = 0.0, count = 0
                                                for q in line * width..<(line + 1) * width {
                                                    load(kernel, q)
                                                    for i in 0..<n { kernel.y[i] = kernel.x[i] * kernel.scales[i] - kernel.zeros[i]
                                                                     kernel.ok[i] = kernel.bits[i] == 0 && kernel.x[i].isFinite }
                                                    if let (s, c) = kernel.avsigclipTerms() { sum += s; count += c }
                                                }
                                                return count > 1 ? (sum / Double(count - 1)).squareRoot() : 0
                                            }
                                        }.flatMap { $0 }
                                    }
                                    let sigmas = lineSigma
                                    return Parallel.mapBlocks(count: bp, minBlock: 4096) { block in
                                        let kernel = StackKernel(options: options, constants: constants, network: network)
                                        let tile = record == nil && extra == nil ? StackTile(options: options, scales: scales, network: network) : nil
                                        defer { kernel.deallocate(); tile?.deallocate() }
                                        var rej = 0, emp = 0
                                        func store(_ r: StackKernel.Result, _ p: Int) {
                                            // Where nothing survived: NaN, or --fillval (IRAF's blank).
                                            v.base[offset + p] = r.mask != 0 ? (options.fillValue ?? r.value) : r.value
                                            if hasSigma { s.base[offset + p] = r.sigma }
                                            o.base[offset + p] = r.mask
                                            rej += r.rejected
                                            if r.mask != 0 { emp += 1 }
                                        }
                                        var p = block.lowerBound
                                        while p < block.upperBound {
                                            let end = min(block.upperBound, p + StackTile.width)
                                            if let tile, end - p == StackTile.width,
                                               tile.load(d.base + p, stride: bp, bits: masked ? m.base + p : nil) {
                                                tile.combineAll { lane, r in store(r, p + lane) }
                                            } else {
                                                for q in p..<end {
                                                    load(kernel, q)
                                                    store(kernel.combine(lineSigma: sigmas[q / width]), q)
                                                    if let record {
                                                        var set: UInt64 = 0
                                                        for i in 0..<n where !kernel.ok[i] && kernel.bits[i] == 0 && kernel.x[i].isFinite { set |= 1 << UInt64(i) }
                                                        record.base[offset + q] = set
                                                    }
                                                }
                                            }
                                            p = end
                                        }
                                        return (rej, emp)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            for (r, e) in counts { rejected += r; empty += e }
            row = rows.upperBound
            progress(row, height)
        }
        return (rejected, empty)
        }

        var rejected = 0, empty = 0
        if let r = options.reject, r.grow >= 1 {
            guard n <= 64 else {
                throw AstroError(.usage, operation: "combining with --grow", reason: "grow handles up to 64 images, not \(n)")
            }
            var sets = [UInt64](repeating: 0, count: width * height)
            _ = try sets.withUnsafeMutableBufferPointer { try pass(options, record: SendableMutableBuffer($0), extra: nil) }
            let grown = Self.grow(sets, width: width, height: height, radius: r.grow)
            var plain = options
            plain.reject = nil
            (rejected, empty) = try grown.withUnsafeBufferPointer { try pass(plain, record: nil, extra: SendableBuffer($0)) }
            rejected = grown.reduce(0) { $0 + $1.nonzeroBitCount }
        } else {
            (rejected, empty) = try pass(options, record: nil, extra: nil)
        }

        var header = first.header
        header.set("NCOMBINE", n, comment: "number of images combined")
        for (i, input) in inputs.enumerated() where i < 999 {
            header.set(String(format: "IMCMB%03d", i + 1), URL(fileURLWithPath: input.path).lastPathComponent)
        }
        if case .values = options.scale {} else if options.scale != .none {
            header.addHistory("astrotool ccdproc combine: scales " + scales.map { String(format: "%.6g", $0) }.joined(separator: " "))
        }
        var what = "\(options.method.rawValue) of \(n)"
        if let c = options.sigmaClip { what += ", sigma clip \(c.low)/\(c.high) \(c.center.rawValue)/\(c.deviation.rawValue)" }
        if let r = options.minmax { what += ", minmax \(r.lowerBound)..\(r.upperBound)" }
        if let e = options.extrema { what += ", extrema \(e.low)/\(e.high)" }
        if let r = options.reject {
            what += ", IRAF \(r.algorithm.rawValue)"
            what += r.algorithm == .minmax ? " \(r.nlow)/\(r.nhigh)" : " \(r.lsigma)/\(r.hsigma) nkeep \(r.nkeep)"
        }
        if options.zero != .none { what += ", zero offsets " + constants.zeros.map { String(format: "%.6g", $0) }.joined(separator: " ") }
        if options.ccdprocCompat { what += " (ccdproc-compat)" }
        header.addHistory("astrotool ccdproc combine: \(what); \(rejected) values rejected, \(empty) pixels empty")
        if let times = try? inputs.map({ input -> Double in
            guard let t = input.double(options.exptimeKey) else { throw AstroError(.badData, operation: "", reason: "") }
            return t
        }) {
            // The output's exposure: the sum for a sum, else the mean (IRAF's rule for unweighted stacks).
            let total = times.reduce(0, +)
            header.set(options.exptimeKey, options.method == .sum ? total : total / Double(n))
        }
        // Scaled by 1/level, every image (and so the result) is a dimensionless ratio.
        var unitText = unit.description
        if case .inverse = options.scale { unitText = "" }
        header.set("BUNIT", unitText)
        var image = Image(width: width, height: height, pixels: value, header: header)
        image.uncertainty = sigma.isEmpty ? nil : sigma
        image.mask = mask
        return (image, CombineReport(output: output, inputs: n, width: width, height: height, method: options.method.rawValue,
                                     scales: scales, rejected: rejected, empty: empty, blockRows: blockRows))
    }

    /// One multiplier per input.
    static func scaleFactors(_ inputs: [CombineInput], _ options: CombineOptions) throws -> [Double] {
        switch options.scale {
        case .none:
            return Array(repeating: 1, count: inputs.count)
        case .values(let v):
            guard v.count == inputs.count else {
                throw AstroError(.usage, operation: "scaling", reason: "\(v.count) scale factors for \(inputs.count) inputs")
            }
            return v
        case .exposure, .keyword:
            let key: String
            if case .keyword(let k) = options.scale { key = k } else { key = options.exptimeKey }
            let values = try inputs.map { input -> Double in
                guard let t = input.double(key), t.isFinite, t > 0 else {
                    throw AstroError(.badData, file: input.path, operation: "scaling", reason: "no positive \(key) in the header")
                }
                return t
            }
            if case .keyword = options.scale { return values }
            return values.map { values[0] / $0 }
        case .toFirst(let stat), .inverse(let stat):
            let levels = try levels(inputs, stat, options)
            for (input, l) in zip(inputs, levels) where !(l.isFinite && l != 0) && !options.ccdprocCompat {
                throw AstroError(.badData, file: input.path, operation: "scaling",
                                 reason: "its \(stat.rawValue) is \(l); it cannot be scaled")
            }
            if case .inverse = options.scale { return levels.map { 1 / $0 } }
            return levels.map { levels[0] / $0 }
        }
    }

    /// IRAF's grow: every image's rejections spread to its pixels within `radius`.
    static func grow(_ sets: [UInt64], width: Int, height: Int, radius: Double) -> [UInt64] {
        var out = sets
        let r = Int(radius)
        var offsets: [(Int, Int)] = []
        for dy in -r...r {
            for dx in -r...r where Double(dx * dx + dy * dy) <= radius * radius { offsets.append((dx, dy)) }
        }
        for y in 0..<height {
            for x in 0..<width where sets[y * width + x] != 0 {
                let set = sets[y * width + x]
                for (dx, dy) in offsets {
                    let xx = x + dx, yy = y + dy
                    if xx >= 0 && yy >= 0 && xx < width && yy < height { out[yy * width + xx] |= set }
                }
            }
        }
        return out
    }

    /// Zero offsets and the noise model, per input.
    static func kernelConstants(_ inputs: [CombineInput], _ options: CombineOptions, scales: [Double]) throws -> StackKernel.Constants {
        var c = StackKernel.Constants(scales: scales)
        switch options.zero {
        case .none: break
        case .values(let v):
            guard v.count == inputs.count else {
                throw AstroError(.usage, operation: "applying zero offsets", reason: "\(v.count) offsets for \(inputs.count) inputs")
            }
            c.zeros = v
        case .keyword(let key):
            c.zeros = try inputs.map { input in
                guard let v = input.double(key), v.isFinite else {
                    throw AstroError(.badData, file: input.path, operation: "applying zero offsets", reason: "no numeric \(key) in the header")
                }
                return v
            }
        case .toFirst(let stat):
            let levels = try zip(inputs, scales).map { input, s in try level(input, stat, options) * s }
            for (input, l) in zip(inputs, levels) where !l.isFinite {
                throw AstroError(.badData, file: input.path, operation: "applying zero offsets", reason: "its \(stat.rawValue) is \(l)")
            }
            c.zeros = levels.map { $0 - levels[0] }
        }
        if let r = options.reject, r.algorithm == .ccdclip || r.algorithm == .crreject {
            func values(_ q: CombineOptions.Rejection.Quantity, _ what: String) throws -> [Double] {
                try inputs.map { input in
                    switch q {
                    case .value(let v): return v
                    case .keyword(let key):
                        guard let v = input.double(key), v.isFinite else {
                            throw AstroError(.badData, file: input.path, operation: "reading the \(what)", reason: "no numeric \(key) in the header")
                        }
                        return v
                    }
                }
            }
            c.readNoise = try values(r.readNoise, "read noise")
            c.snoise = try values(r.snoise, "sensitivity noise")
            // Data already in electrons have a gain of 1 whatever the detector's.
            c.gain = try zip(inputs, values(r.gain, "gain")).map { input, g in CCDUnit.of(input.header).base == .electron ? 1 : g }
            for (input, g) in zip(inputs, c.gain) where !(g > 0) {
                throw AstroError(.badData, file: input.path, operation: "reading the gain", reason: "gain \(g) is not positive")
            }
        }
        return c
    }

    /// Every input's `level`; frames in memory two at a time (a level is mostly serial work:
    /// gathering the usable values, then the selection), files one after another.
    static func levels(_ inputs: [CombineInput], _ stat: CombineOptions.Statistic, _ options: CombineOptions) throws -> [Double] {
        guard inputs.allSatisfy(\.inMemory) else { return try inputs.map { try level($0, stat, options) } }
        let shared = Unshared(inputs)
        return try Parallel.tryMap(count: inputs.count) { k in try level(shared.value[k], stat, options) }
    }

    /// The statistic of one image, on its unmasked finite pixels (ccdproc-compat: every pixel,
    /// so a NaN makes it NaN), inside `statsec` when given.
    static func level(_ input: CombineInput, _ stat: CombineOptions.Statistic, _ options: CombineOptions) throws -> Double {
        var region = PixelRegion.whole(width: input.width, height: input.height)
        if let s = options.statsec { region = try Section.parseFITS(s, width: input.width, height: input.height) }
        // The usable values gathered by pointer and summed in the same pass, in order (an
        // append per value, with its uniqueness check, was most of this function's time). The
        // loop's state is local to the closure that runs it: captured from outside, every
        // store of a value could alias it and it went through memory.
        let compat = options.ccdprocCompat, width = input.width
        let (values, sum, poisoned, infinite) = try input.withRows(region.y, goodBits: options.goodBits) { data, mask in
            var state = (sum: 0.0, poisoned: false, infinite: false)
            let values = [Float](unsafeUninitializedCapacity: region.x.count * region.y.count) { out, kept in
                var poisoned = false, infinite = false, sum = 0.0, n = 0
                for r in 0..<region.y.count {
                    for x in region.x {
                        let k = r * width + x
                        let v = data[k]
                        if compat {
                            if v.isNaN { poisoned = true }
                            if v.isInfinite { infinite = true }
                        } else {
                            guard v.isFinite && (mask?[k] ?? 0) == 0 else { continue }
                        }
                        out[n] = v
                        sum += Double(v)
                        n += 1
                    }
                }
                kept = n
                state = (sum, poisoned, infinite)
            }
            return (values, state.sum, state.poisoned, state.infinite)
        }
        if poisoned && stat != .mean { return .nan }
        guard !values.isEmpty else { return .nan }
        let mean = sum / Double(values.count)
        if stat == .mean { return mean }
        // A selection, not a sort (100 ms per megapixel); infinities (kept by ccdproc-compat)
        // count in numpy's median, so those few stacks take the sort.
        let median: Double
        if infinite {
            let sorted = values.sorted(), m = sorted.count
            median = m % 2 == 1 ? Double(sorted[m / 2]) : 0.5 * (Double(sorted[m / 2 - 1]) + Double(sorted[m / 2]))
        } else {
            median = Statistics.median(values)
        }
        return stat == .median ? median : 3 * median - 2 * mean
    }
}
