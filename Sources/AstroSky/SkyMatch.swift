import AstroFITS
import AstroImage
import Foundation

/// `astrotool skymatch`'s settings (docs/skymatch.md).
public struct SkyMatchOptions: Sendable {
    public var method = SkyMethod.globalMatch
    /// `match` references each island to its highest item instead of its lowest.
    public var matchUp = false
    /// Subtract the sky from the written data and mark it `SKYSUB = T`.
    public var subtract = false
    public var stats = SkyStats()
    public var goodBits = GoodBits.none
    /// One mask file per input (non-zero = exclude from the sky), or none.
    public var masks: [String] = []
    /// Largest spacing in pixels of the outline's vertices along each chip edge.
    public var footprintStep = 64
    /// The header keyword that receives each chip's sky.
    public var keyword = "SKYVALUE"
    /// Chips with equal values of this keyword (chip header, else primary) form one group;
    /// nil: the chips of one file form one group.
    public var groupBy: String?
    /// A file with one group per line (docs/skymatch.md, "User skies and groups"); excludes `groupBy`.
    public var groupsFile: String?
    /// `--method user`: the file of sky values, a line `NAME SKY` per input or chip.
    public var skylist: String?
    /// Reproduce stcal 1.20 `skymatch` (jwst `SkyMatchStep`) where astrotool differs on purpose:
    /// imagestats statistics, rasterised overlaps measured on each side's own pixels, groups
    /// as count-weighted means of their members, 4-corner footprints, one baseline for all
    /// islands (docs/skymatch.md, "Compatibility").
    public var compat = false
    /// `plane`: a level and two slopes per group from the pixel differences (match and global+match).
    public var model = SkyModel.constant

    public init() {}
}

/// Where the results go: only the report, copies (one output path per input), or the inputs.
public enum SkyMatchOutput: Sendable {
    case report
    case copies([String])
    case inPlace
}

/// What a run found, per chip and per overlap.
public struct SkyMatchReport: Sendable, Encodable {
    public struct Chip: Sendable, Encodable {
        public var image: String
        public var group: String
        /// The sky found (an offset for `match`); nil when SKIPPED.
        public var sky: Double?
        /// The chip's own statistic over all its usable pixels.
        public var local: Double?
        /// The chip's pixels that fell in overlaps with other groups (summed over the overlaps).
        public var overlapPixels: Int
        /// The connected set of overlapping groups it belongs to, from 1.
        public var island: Int
        /// `OK`, or `SKIPPED` when no sky could be found (no overlap for `match`, no usable pixel).
        public var status: String
        public var output: String?
        /// `--model plane`: the sky's slope along the chip's x and y, data units per pixel
        /// (`sky` is the level at the chip's centre).
        public var slope: [Double]?
    }

    /// One overlap between two groups that entered the match.
    public struct Pair: Sendable, Encodable {
        public var groups: [String]
        /// The sky of the first group minus the second's: the statistic of the pixel differences
        /// on each side's pixels (the other side interpolated), and how many pixels remained.
        public var offsets: [Double]
        public var npix: [Int]
        /// The overlap's area on the sky in arcsec² (summed over member pairs).
        public var area: Double
        /// `--compat`: each side's own statistic in the overlap (their difference is the offset).
        public var levels: [Double]?
        /// `--model plane`: the difference's slopes along ξ and η of the mosaic's tangent plane
        /// (per arcsec); `offsets` are then the difference at the overlap's centre.
        public var slope: [Double]?
    }

    public var method: String
    public var statistic: String
    public var subtracted: Bool
    public var islands: Int
    public var chips: [Chip]
    public var pairs: [Pair]

    /// The report for humans: one row per chip, then the islands when there are several.
    public var table: String {
        let width = max(5, chips.map(\.image.count).max() ?? 0)
        let gwidth = max(5, chips.map(\.group.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
        func lpad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        var lines = [pad("image", width) + "  " + pad("group", gwidth) + "  " + lpad("sky", 12) + "  "
                     + lpad("overlap_pix", 11) + "  " + lpad("island", 6) + "  status"]
        for c in chips {
            let sky = c.sky.map { String(format: "%.6g", $0) } ?? "-"
            lines.append(pad(c.image, width) + "  " + pad(c.group, gwidth) + "  " + lpad(sky, 12) + "  "
                         + lpad("\(c.overlapPixels)", 11) + "  " + lpad("\(c.island)", 6) + "  " + c.status)
        }
        if islands > 1 {
            lines.append("\(islands) islands (disconnected sub-mosaics): each has its own reference level")
        }
        return lines.joined(separator: "\n")
    }
}

/// The file-level run: read the chips, measure, solve, report and write.
public enum SkyMatch {
    /// Runs skymatch on `paths` (files or extended names). Every input is read and every
    /// output checked before the first file is written, so a bad input leaves nothing behind.
    /// - Throws: ``AstroError``: `.usage` for masks that do not pair with the inputs or limits
    ///   in the wrong order; `.badData` for fewer than two chips, a chip without WCS or finite
    ///   pixels, a missing `groupBy` keyword, a file to write that has table HDUs, a
    ///   sky-subtracted chip written without `subtract`; `.cannotCreate` for an existing output
    ///   without `overwrite`.
    public static func run(_ paths: [String], options o: SkyMatchOptions, output: SkyMatchOutput,
                           overwrite: Bool = false) throws -> SkyMatchReport {
        guard !paths.isEmpty else { throw AstroError(.noInput, operation: "skymatch", reason: "no input images") }
        guard o.masks.isEmpty || o.masks.count == paths.count else {
            throw AstroError(.usage, operation: "reading masks", reason: "\(o.masks.count) masks for \(paths.count) inputs; give one per input")
        }
        if o.groupsFile != nil && o.groupBy != nil {
            throw AstroError(.usage, operation: "grouping", reason: "give --groups or --group-by, not both")
        }
        if let lo = o.stats.lower, let hi = o.stats.upper, !(lo <= hi) {
            throw AstroError(.usage, operation: "matching sky", reason: "the lower limit \(lo) is above the upper limit \(hi)")
        }
        // --compat: the references' default outline, the four corners joined by great circles.
        let chips = try SkyChip.read(paths, goodBits: o.goodBits, masks: o.masks, footprintStep: o.compat ? 1 << 40 : o.footprintStep)
        let (groupOf, groupNames) = if let file = o.groupsFile {
            try SkyLists.groups(file, chips: chips, paths: paths)
        } else {
            try groups(chips, paths: paths, by: o.groupBy)
        }
        if o.method == .user {
            return try user(chips, paths: paths, groupOf: groupOf, groupNames: groupNames, options: o, output: output,
                            overwrite: overwrite)
        }
        guard chips.count >= 2 else {
            throw AstroError(.badData, file: paths[0], operation: "matching sky", reason: "only one image: skymatch needs at least two")
        }
        let members = groupNames.indices.map { g in chips.indices.filter { groupOf[$0] == g } }

        let locals = localSkies(chips, options: o)
        let skies: [ChipSky], reported: [SkyMatchReport.Pair], overlapPixels: [Int]
        if o.model == .plane {
            guard o.method == .match || o.method == .globalMatch, !o.compat else {
                throw AstroError(.usage, operation: "matching sky", reason: o.compat ? "--model plane has no --compat form (the references fit levels only)"
                                 : "--model plane needs --method match or global+match (slopes come from the overlaps)")
            }
            (skies, reported, overlapPixels) = SkyMatchPlane.skies(chips, members: members, groupOf: groupOf, groupNames: groupNames,
                                                                    locals: locals.map { $0?.value }, options: o)
        } else {
            let groupLocal = members.map { m in m.compactMap { locals[$0]?.value }.min() }
            let pairs: [PairSky]
            (pairs, reported, overlapPixels) = o.compat ? compatPairs(members, groupNames, chips, stats: o.stats)
                : differencePairs(members, groupNames, chips, stats: o.stats)
            let levels = SkyMatchSolver.levels(method: o.method, local: groupLocal, pairs: pairs, matchUp: o.matchUp,
                                               sharedBaseline: o.compat)
            skies = chips.indices.map { ChipSky(sky: levels[groupOf[$0]].sky, island: levels[groupOf[$0]].island) }
        }

        var report = SkyMatchReport(method: o.method.rawValue, statistic: o.stats.statistic.rawValue, subtracted: o.subtract,
                                    islands: Set(skies.map(\.island)).count, chips: [], pairs: reported)
        let outputs = try plannedOutputs(chips, output: output, overwrite: overwrite)
        for (k, c) in chips.enumerated() {
            report.chips.append(.init(image: c.name, group: groupNames[groupOf[k]], sky: skies[k].sky, local: locals[k]?.value,
                                      overlapPixels: overlapPixels[k], island: skies[k].island,
                                      status: skies[k].sky == nil ? "SKIPPED" : "OK", output: outputs[c.file],
                                      slope: skies[k].slope.map { [$0.x, $0.y] }))
        }
        if case .report = output { return report }
        try write(chips, skies: skies, outputs: outputs, options: o, overwrite: overwrite)
        return report
    }

    /// `--method user`: each chip's sky from the list, nothing measured (no local sky, no
    /// overlaps, island 0), reported and written like the others.
    static func user(_ chips: [SkyChip], paths: [String], groupOf: [Int], groupNames: [String], options o: SkyMatchOptions,
                     output: SkyMatchOutput, overwrite: Bool) throws -> SkyMatchReport {
        guard let list = o.skylist else {
            throw AstroError(.usage, operation: "matching sky", reason: "--method user needs --skylist FILE")
        }
        let skies = try SkyLists.skies(list, chips: chips, paths: paths).map { ChipSky(sky: $0, island: 0) }
        let outputs = try plannedOutputs(chips, output: output, overwrite: overwrite)
        var report = SkyMatchReport(method: o.method.rawValue, statistic: "none", subtracted: o.subtract, islands: 0,
                                    chips: [], pairs: [])
        for (k, c) in chips.enumerated() {
            report.chips.append(.init(image: c.name, group: groupNames[groupOf[k]], sky: skies[k].sky, local: nil, overlapPixels: 0,
                                      island: 0, status: "OK", output: outputs[c.file]))
        }
        if case .report = output { return report }
        try write(chips, skies: skies, outputs: outputs, options: o, overwrite: overwrite)
        return report
    }

    /// Each chip's own statistic over its usable pixels, chips measured in parallel.
    static func localSkies(_ chips: [SkyChip], options o: SkyMatchOptions) -> [SkyValue?] {
        let data = chips.map { (pixels: $0.pixels, excluded: $0.excluded) }
        var out = [SkyValue?](repeating: nil, count: chips.count)
        out.withUnsafeMutableBufferPointer { op in
            let results = SendableMutableBuffer(op)
            Parallel.forEachBlock(count: data.count, minBlock: 1) { block in
                for k in block {
                    let (pixels, excluded) = data[k]
                    results[k] = o.compat ? Compat.local(pixels: pixels, excluded: excluded, stats: o.stats)
                        : pixels.withUnsafeBufferPointer { p in excluded.withUnsafeBufferPointer { o.stats.measure(p, mask: $0) } }
                }
            }
        }
        return out
    }

    /// The pairs of astrotool's own match: offsets from the pixel differences in each overlap.
    static func differencePairs(_ members: [[Int]], _ groupNames: [String], _ chips: [SkyChip], stats: SkyStats)
        -> ([PairSky], [SkyMatchReport.Pair], [Int]) {
        // Sources cancel in the pixel differences, which leaves a symmetric distribution: its
        // clipped median is the efficient robust offset, whatever `--stat` says (the histogram
        // mode would only add noise there). The limits apply to the pixel values themselves.
        var offsetStats = stats
        offsetStats.statistic = .median
        offsetStats.lower = nil
        offsetStats.upper = nil
        let limits = (stats.lower.map(Float.init) ?? -.infinity)...(stats.upper.map(Float.init) ?? .infinity)
        // The offset seen from both sides (each side's pixels, the other interpolated), averaged.
        let found = PairWorker.map(members: members, chips: chips, sidesApart: true) { worker, from, against -> (sky: SkyValue?, area: Double) in
            var none: Positions? = nil
            let d = differences(members[from], against: members[against], &worker, limits: limits, positions: &none)
            return (measure(d.values, offsetStats), d.area)
        } combine: { gi, gj, a, b -> (PairSky, SkyMatchReport.Pair)? in
            guard a.area > 0, let da = a.sky, let db = b.sky else { return nil }
            let offset = (da.value - db.value) / 2
            let arcsec2 = a.area * pow(180 / Double.pi * 3600, 2)
            return (PairSky(i: gi, j: gj, si: SkyValue(value: offset, npix: da.npix), sj: SkyValue(value: 0, npix: db.npix)),
                    .init(groups: [groupNames[gi], groupNames[gj]], offsets: [da.value, -db.value], npix: [da.npix, db.npix], area: arcsec2))
        }
        return (found.results.map(\.0), found.results.map(\.1), found.overlapPixels)
    }

    /// The pairs as stcal forms them (`--compat`): each side's own statistic in its rasterised
    /// overlap, a pair used when both sides have a value and a count.
    static func compatPairs(_ members: [[Int]], _ groupNames: [String], _ chips: [SkyChip], stats: SkyStats)
        -> ([PairSky], [SkyMatchReport.Pair], [Int]) {
        var pairs: [PairSky] = [], reported: [SkyMatchReport.Pair] = []
        var overlapPixels = [Int](repeating: 0, count: chips.count)
        for gi in members.indices {
            for gj in members.indices where gj > gi {
                let a = Compat.groupSky(members[gi], against: members[gj], chips, stats: stats, &overlapPixels)
                let b = Compat.groupSky(members[gj], against: members[gi], chips, stats: stats, &overlapPixels)
                guard a.area > 0, b.area > 0, let sa = a.sky, let sb = b.sky else { continue }
                pairs.append(PairSky(i: gi, j: gj, si: sa, sj: sb))
                let d = sa.value - sb.value
                reported.append(.init(groups: [groupNames[gi], groupNames[gj]], offsets: [d, d], npix: [sa.npix, sb.npix],
                                      area: a.area * pow(180 / Double.pi * 3600, 2), levels: [sa.value, sb.value]))
            }
        }
        return (pairs, reported, overlapPixels)
    }

    /// Group index per chip and the groups' names: one group per input, or per value of `key`.
    static func groups(_ chips: [SkyChip], paths: [String], by key: String?) throws -> ([Int], [String]) {
        var names: [String] = [], index: [Int] = []
        for c in chips {
            let name: String
            if let key {
                let primary = try FITS.readHeader(c.file)
                guard let value = c.header[key] ?? primary[key] else {
                    throw AstroError(.badData, file: c.name, operation: "grouping", reason: "no \(key.uppercased()) keyword in the chip's or the primary header")
                }
                name = "\(key.uppercased())=\(value)"
            } else {
                name = paths[c.input]
            }
            if let g = names.firstIndex(of: name) { index.append(g) } else { index.append(names.count); names.append(name) }
        }
        return (index, names)
    }

    /// The pixel differences `side − other` at the pixels of group `side` that group `other`
    /// also covers (a pixel covered by several members of `other` counts once), pooled over
    /// `side`'s members, where both values are within `limits`; and the summed overlap area (sr).
    static func differences(_ side: [Int], against other: [Int], _ worker: inout PairWorker, limits: ClosedRange<Float>,
                            positions: inout Positions?) -> (values: [Float], area: Double) {
        let chips = worker.chips
        var values: [Float] = [], area = 0.0
        for m in side {
            let chip = chips[m]
            // Most pairs of a large mosaic do not touch: nothing to allocate or scan for them.
            let regions = other.compactMap { k in chip.footprint.intersection(chips[k].footprint).map { (k, $0) } }
            // The buffer spans the union of the overlaps' pixel boxes only.
            let boxes = regions.compactMap { Overlap.bounds(of: $0.1, in: chip) }
            guard let first = boxes.first else { continue }
            let window = boxes.dropFirst().reduce(first) { w, b in
                (min(w.x.lowerBound, b.x.lowerBound)...max(w.x.upperBound, b.x.upperBound),
                 min(w.y.lowerBound, b.y.lowerBound)...max(w.y.upperBound, b.y.upperBound))
            }
            let ww = window.x.count, size = ww * window.y.count
            // One buffer per worker for all its members and pairs (no page faults for each new one).
            if worker.scratch.count < size { worker.scratch = [Float](repeating: .nan, count: size) } else {
                worker.scratch.withUnsafeMutableBufferPointer { UnsafeMutableBufferPointer(rebasing: $0[0..<size]).update(repeating: .nan) }
            }
            for (k, region) in regions {
                area += region.area
                Overlap.sample(&worker.scratch, window: window, of: chip, from: chips[k], region: region)
            }
            let lo = limits.lowerBound, hi = limits.upperBound
            // (ξ, η) of each kept pixel when the plane model asks: the chip's affine map.
            let map = positions?.maps[m]
            var xis: [Float] = [], etas: [Float] = []
            // The kept differences written by pointer, the loop's state local to its closure.
            let found = [Float](unsafeUninitializedCapacity: size) { out, kept in
                var n = 0
                worker.scratch.withUnsafeBufferPointer { seen in
                    chip.pixels.withUnsafeBufferPointer { pix in
                        typealias F = SIMD8<Float>
                        let flo = F(repeating: lo), fhi = F(repeating: hi)
                        let seenRaw = UnsafeRawPointer(seen.baseAddress!), pixRaw = UnsafeRawPointer(pix.baseAddress!)
                        let outRaw = UnsafeMutableRawPointer(out.baseAddress!)
                        for y in window.y {
                            let row = (y - window.y.lowerBound) * ww - window.x.lowerBound, prow = y * chip.width
                            var x = window.x.lowerBound
                            while x <= window.x.upperBound {
                                // Eight pixels a step where all eight are kept (most of an
                                // overlap's rows) and no positions are wanted: the same
                                // differences in the same order.
                                if map == nil && x + 8 <= window.x.upperBound + 1 {
                                    let o = seenRaw.loadUnaligned(fromByteOffset: (row + x) * 4, as: F.self)
                                    let v = pixRaw.loadUnaligned(fromByteOffset: (prow + x) * 4, as: F.self)
                                    if all((o .>= flo) .& (o .<= fhi) .& (v .>= flo) .& (v .<= fhi)) {
                                        outRaw.storeBytes(of: v - o, toByteOffset: n * 4, as: F.self)
                                        n += 8
                                        x += 8
                                        continue
                                    }
                                }
                                defer { x += 1 }
                                // NaN (nothing seen) fails the limits too.
                                let o = seen[row + x], v = pix[prow + x]
                                if o >= lo && o <= hi && v >= lo && v <= hi {
                                    out[n] = v - o
                                    n += 1
                                    if let map {
                                        let fx = Double(x), fy = Double(y)
                                        xis.append(Float(map.xi[0] + map.xi[1] * fx + map.xi[2] * fy))
                                        etas.append(Float(map.eta[0] + map.eta[1] * fx + map.eta[2] * fy))
                                    }
                                }
                            }
                        }
                    }
                }
                kept = n
            }
            let n = found.count
            if values.isEmpty { values = found } else { values += found }
            worker.overlapPixels[m] += n
            if map != nil { positions!.xi += xis; positions!.eta += etas }
        }
        return (values, area)
    }

    /// Where `differences` also records each difference's position on the mosaic plane: the
    /// chips' affine maps in, the positions out.
    struct Positions {
        let maps: [(xi: [Double], eta: [Double])]
        var xi: [Float] = [], eta: [Float] = []
    }

    static func measure(_ values: [Float], _ stats: SkyStats) -> SkyValue? {
        values.isEmpty ? nil : values.withUnsafeBufferPointer { stats.measure($0) }
    }

    /// The output path of each input file (by its path on disk), checked before anything is
    /// written: copies must not exist without `overwrite` and must not be an input.
    static func plannedOutputs(_ chips: [SkyChip], output: SkyMatchOutput, overwrite: Bool) throws -> [String: String] {
        var planned: [String: String] = [:]
        switch output {
        case .report:
            return [:]
        case .inPlace:
            for c in chips { planned[c.file] = c.file }
        case .copies(let paths):
            for c in chips { planned[c.file] = paths[c.input] }
            let inputs = Set(chips.map { FITS.canonicalPath($0.file) })
            for out in Set(planned.values) {
                if inputs.contains(FITS.canonicalPath(out)) {
                    throw AstroError(.cannotCreate, file: out, operation: "creating output", reason: "it is one of the inputs")
                }
                if !overwrite && FileManager.default.fileExists(atPath: out) {
                    throw AstroError(.cannotCreate, file: out, operation: "creating output", reason: "output exists (use --overwrite to replace it)")
                }
            }
        }
        return planned
    }

    /// Writes every input file once, with its chips' keywords (and data, with `subtract`).
    static func write(_ chips: [SkyChip], skies: [ChipSky], outputs: [String: String], options o: SkyMatchOptions,
                      overwrite: Bool) throws {
        for (k, c) in chips.enumerated() where c.header.bool("SKYSUB") == true && !o.subtract && skies[k].sky != nil {
            throw AstroError(.badData, file: c.name, operation: "writing sky",
                             reason: "the data are already sky-subtracted (SKYSUB = T); use --subtract, or start from unsubtracted frames")
        }
        var files: [String] = []
        for c in chips where !files.contains(c.file) { files.append(c.file) }
        // The files two at a time (each is read back and written whole); the first failure in
        // file order is reported. Each file's chips are updated as it is written, so that with
        // --subtract only the files being written hold a second copy of their pixels. The chips
        // are only read here (their WCSs not at all): `Unshared` hands them to both workers.
        let shared = Unshared(chips), names = files
        let failures = Parallel.mapBlocks(count: names.count) { r -> (any Error)? in
            for file in names[r] {
                var updates: [Int: Image] = [:]
                for (k, c) in shared.value.enumerated() where c.file == file {
                    updates[c.hdu] = updated(c, sky: skies[k], options: o)
                }
                do {
                    try SkyFileWriter.write(file, replacing: updates, to: outputs[file]!, overwrite: overwrite || outputs[file] == file)
                } catch { return error }
            }
            return nil
        }
        if let failure = failures.compactMap({ $0 }).first { throw failure }
    }

    /// The chip as written: its sky keyword (cumulative over runs when subtracting), method,
    /// statistic, validity, the plane's slopes (SKYSLPX/SKYSLPY about the chip's centre),
    /// HISTORY; the data less the sky (level, or plane) with `subtract`.
    static func updated(_ c: SkyChip, sky chipSky: ChipSky, options o: SkyMatchOptions) -> Image {
        var h = c.header
        var pixels = c.pixels
        let sky = chipSky.sky
        let method = o.method.rawValue, stat = o.method == .user ? "none" : o.stats.statistic.rawValue
        h.set("SKYMETH", method, comment: "astrotool skymatch method")
        h.set("SKYSTAT", stat, comment: "astrotool skymatch statistic")
        h.set("SKYVALID", sky != nil, comment: "a sky level was found")
        if let sky {
            let earlier = o.subtract && h.bool("SKYSUB") == true ? (h.double(o.keyword) ?? 0) : 0
            h.set(o.keyword, earlier + sky, comment: o.subtract ? "sky subtracted from the data" : "sky level of the data")
            if let slope = chipSky.slope {
                h.set("SKYSLPX", slope.x, comment: "sky slope along x, per pixel, about the centre")
                h.set("SKYSLPY", slope.y, comment: "sky slope along y, per pixel, about the centre")
            }
            if o.subtract {
                let (gx, gy) = chipSky.slope ?? (0, 0)
                let cx = Double(c.width - 1) / 2, cy = Double(c.height - 1) / 2
                for y in 0..<c.height {
                    let row = sky + gy * (Double(y) - cy)
                    for x in 0..<c.width { pixels[y * c.width + x] -= Float(row + gx * (Double(x) - cx)) }
                }
                h.set("SKYSUB", true, comment: "the sky has been subtracted")
            }
            h.addHistory("astrotool skymatch: \(method) (\(stat)) sky \(String(format: "%.6g", sky))"
                         + (chipSky.slope.map { String(format: ", plane slopes %.4g %.4g per pixel", $0.x, $0.y) } ?? "")
                         + (o.subtract ? " subtracted" : " in \(o.keyword)"))
        } else {
            h.addHistory("astrotool skymatch: \(method) (\(stat)) SKIPPED, no sky found")
        }
        return Image(width: c.width, height: c.height, pixels: pixels, header: h)
    }
}
