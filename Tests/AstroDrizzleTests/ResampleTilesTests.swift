@testable import AstroDrizzle
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// A mosaic planned in tiles, each tile drizzled alone and the parts combined, is the mosaic of
/// one run over the whole grid, bit for bit: every kernel, with context, DQ, ERR and variances,
/// tile edges crossing the inputs, and inputs that reach only some tiles.
@Suite struct ResampleTilesTests {
    /// Three copies of a 128×96 reduced frame (ERR, MASK, VAR_RNOISE; one with VAR_POISSON too)
    /// under WCSs shifted apart, the third far enough that some tiles miss it.
    static func inputs(_ dir: URL) throws -> [String] {
        let frame = TestSupport.path("ccdproc/ref/sci_reduced.fits")
        let sci = try FITS.readImage(frame), err = try FITS.readImage(frame + "[ERR]"), mask = try FITS.readImage(frame + "[MASK]")
        let variance = Image(width: sci.width, height: sci.height, pixels: err.pixels.map { $0 * $0 })
        var paths: [String] = []
        for (k, shift) in [(0.0, 0.0), (7.3, -11.6), (-170.2, 58.4)].enumerated() {
            var h = sci.header
            h.set("CRPIX1", (sci.header.double("CRPIX1") ?? 0) + shift.0)
            h.set("CRPIX2", (sci.header.double("CRPIX2") ?? 0) + shift.1)
            h.set("EXPSTART", 60000.0 + Double(k)); h.set("EXPEND", 60000.01 + Double(k))
            let p = dir.appendingPathComponent("in\(k).fits").path
            var hdus = [OutputHDU(Image(width: sci.width, height: sci.height, pixels: sci.pixels.map { $0 + Float(k) }, header: h)),
                        OutputHDU(err, extname: "ERR"), OutputHDU(mask, extname: "MASK", pixelType: .uint8),
                        OutputHDU(variance, extname: "VAR_RNOISE")]
            if k == 1 { hdus.append(OutputHDU(Image(width: sci.width, height: sci.height, pixels: sci.pixels.map { abs($0) }), extname: "VAR_POISSON")) }
            try FITSWriter.write(hdus, to: p, overwrite: false)
            paths.append(p)
        }
        return paths
    }

    /// Plans `nx`×`ny` tiles, drizzles each into its part, combines them; returns the mosaic.
    static func tiled(_ paths: [String], _ o: ResampleOptions, _ nx: Int, _ ny: Int, dir: URL) throws -> (String, ResamplePlan) {
        let plan = try Resample.plan(paths, options: o, tiles: nx, ny)
        let planPath = dir.appendingPathComponent("plan-\(nx)x\(ny).json").path
        var parts: [String] = []
        for tile in plan.tiles {
            let part = dir.appendingPathComponent("part-\(nx)x\(ny)-\(tile.number).fits").path
            _ = try Resample.runTile(plan, planPath: planPath, paths: tile.number == 1 ? paths : nil, tile: tile.number,
                                     output: part, overwrite: true)
            parts.append(part)
        }
        let mosaic = dir.appendingPathComponent("mosaic-\(nx)x\(ny).fits").path
        _ = try Resample.combine(parts.reversed(), output: mosaic, overwrite: true)
        return (mosaic, plan)
    }

    /// Every HDU's pixels bit for bit, the same HDUs, and the same primary cards.
    static func expectSame(_ one: String, _ other: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let a = try FITS.listHDUs(one), b = try FITS.listHDUs(other)
        #expect(a.map(\.extname) == b.map(\.extname) && a.map(\.bitpix) == b.map(\.bitpix) && a.map(\.shape) == b.map(\.shape),
                "\(label): layouts differ", sourceLocation: sourceLocation)
        for (x, y) in zip(a, b) {
            let p = try FITSFile("\(one)[\(x.index)]").readImageDouble().pixels, q = try FITSFile("\(other)[\(y.index)]").readImageDouble().pixels
            let differ = zip(p, q).filter { !($0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN)) }.count
            #expect(p.count == q.count && differ == 0, "\(label): \(x.extname ?? "SCI") differs in \(differ) pixels", sourceLocation: sourceLocation)
        }
        let ca = a[0].header.userCards.cards.map { "\($0.keyword)=\($0.value.map { "\($0)" } ?? $0.comment)" }
        let cb = b[0].header.userCards.cards.map { "\($0.keyword)=\($0.value.map { "\($0)" } ?? $0.comment)" }
        #expect(ca == cb, "\(label): headers differ: \(ca.difference(from: cb))", sourceLocation: sourceLocation)
    }

    @Test(arguments: DrizzleOptions.Kernel.allCases)
    func tilesGiveTheSameMosaic(kernel: DrizzleOptions.Kernel) throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let paths = try Self.inputs(dir)
        var o = ResampleOptions()
        o.grid = .cover(pixelScale: nil, ratio: 0.8, rotation: 25, centre: nil, shape: nil)
        o.skyKey = nil
        o.drizzle.kernel = kernel
        o.drizzle.pixfrac = kernel == .square ? 0.8 : 1
        // driz_err for two kernels: the drizzled-ERR accumulator is tiled too.
        if kernel == .square || kernel == .lanczos3 { o.errorSource = .drizErr }
        let one = dir.appendingPathComponent("one.fits").path
        _ = try Resample.run(paths, options: o, output: one, overwrite: false)
        var missing = 0
        for (nx, ny) in [(1, 1), (2, 2), (3, 1), (1, 3)] {
            let (mosaic, plan) = try Self.tiled(paths, o, nx, ny, dir: dir)
            #expect(plan.tiles.count == nx * ny)
            missing += plan.tiles.filter { $0.inputs.count < 3 }.count
            try Self.expectSame(one, mosaic, "\(kernel) \(nx)x\(ny)")
        }
        #expect(missing > 0, "some tiles should miss an input")
    }

    /// Onto the first input's grid, with the third input far off it: it is left out of the tiled
    /// mosaic as of one run (same HISTORY, EXPTIME, NDRIZIM), and combine reports it.
    @Test func anInputOffTheGridIsLeftOutAlike() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var paths = try Self.inputs(dir)
        let far = dir.appendingPathComponent("far.fits").path
        var h = try FITS.readHeader(paths[2])
        h.set("CRPIX1", (h.double("CRPIX1") ?? 0) + 5000)
        try FITSWriter.write([OutputHDU(Image(width: 128, height: 96, pixels: [Float](repeating: 1, count: 128 * 96), header: h.userCards))],
                             to: far, overwrite: false)
        paths[2] = far
        var o = ResampleOptions()
        o.grid = .reference(paths[0])
        o.drizzle.kernel = .turbo
        let one = dir.appendingPathComponent("one.fits").path
        let r = try Resample.run(paths, options: o, output: one, overwrite: false)
        #expect(r.unused.map(\.input) == [far])
        let plan = try Resample.plan(paths, options: o, tiles: 2, 2)
        #expect(plan.tiles.allSatisfy { !$0.inputs.contains(2) })
        let parts = try plan.tiles.map { tile in
            let part = dir.appendingPathComponent("part\(tile.number).fits").path
            _ = try Resample.runTile(plan, planPath: "plan.json", paths: nil, tile: tile.number, output: part, overwrite: false)
            return part
        }
        let mosaic = dir.appendingPathComponent("mosaic.fits").path
        let c = try Resample.combine(parts, output: mosaic, overwrite: false)
        #expect(c.unused.map(\.input) == ["far.fits"] && c.unused[0].hdu == r.unused[0].hdu && c.exposure == r.exposure)
        try Self.expectSame(one, mosaic, "far input")
    }

    /// A band or tile reads only the input rows whose pixels can reach it (the kernel's reach
    /// around its rows and columns), and drizzled from those rows alone it is the same.
    @Test func aWindowReadsOnlyTheRowsReachingIt() {
        let (nx, ny) = (50, 40), pixmap = Pixmap.identity(width: nx, height: ny)
        let data = (0..<(nx * ny)).map { Float($0 % 13) }
        var o = DrizzleOptions()
        o.kernel = .lanczos2
        o.gridRows = 0..<50; o.gridColumns = 0..<60
        var whole = DrizzleOutput(width: 60, height: 50)
        whole.add(data, pixmap: pixmap, options: o)
        #expect(whole.inputRows(pixmap, options: o) == 0..<ny)
        var tile = DrizzleOutput(width: 20, height: 10, firstRow: 10, firstColumn: 30)
        let rows = tile.inputRows(pixmap, options: o)
        // Reach 2 + 4/r + 2·pixfrac = 8 pixels: centres within 1.5…27.5.
        #expect(rows == 2..<28)
        tile.add(Array(data[(rows.lowerBound * nx)..<(rows.upperBound * nx)]), pixmap: pixmap, firstInputRow: rows.lowerBound, options: o)
        for r in 0..<10 {
            let mine = tile.image[(r * 20)..<(r * 20 + 20)], theirs = whole.image[((r + 10) * 60 + 30)..<((r + 10) * 60 + 50)]
            #expect(mine.elementsEqual(theirs) { $0.bitPattern == $1.bitPattern }, "row \(r + 10)")
        }
    }

    @Test func thePlanRecordsTheGridTilesInputsAndOptions() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let paths = try Self.inputs(dir)
        var o = ResampleOptions()
        o.drizzle.kernel = .lanczos2
        o.pixmapSampling = .step(8)
        let plan = try Resample.plan(paths, options: o, tiles: 3, 2)
        #expect(plan.tiles.map(\.number) == Array(1...6))
        // Row-major from the bottom-left, covering the grid once.
        #expect(plan.tiles[0].x0 == 0 && plan.tiles[0].y0 == 0 && plan.tiles[1].x0 == plan.tiles[0].x1 && plan.tiles[3].y0 == plan.tiles[0].y1)
        #expect(plan.tiles.reduce(0) { $0 + ($1.x1 - $1.x0) * ($1.y1 - $1.y0) } == plan.grid.width * plan.grid.height)
        #expect(plan.inputs.map(\.path) == paths && plan.inputs.allSatisfy { $0.bytes > 0 && $0.headerHash.count == 16 })
        #expect(plan.options.kernel == "lanczos2" && plan.options.pixmapStep == "8")
        // The JSON reads back as the same plan, and an edited one is caught.
        let path = dir.appendingPathComponent("plan.json").path
        try plan.json.write(to: URL(fileURLWithPath: path))
        #expect(try ResamplePlan.read(path) == plan)
        try String(decoding: plan.json, as: UTF8.self).replacingOccurrences(of: "lanczos2", with: "lanczos3")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: AstroError.self) { try ResamplePlan.read(path) }
    }
}
