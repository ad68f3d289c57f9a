@testable import AstroDrizzle
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// Inputs hanging over the output's edges against spacetelescope/drizzle's C core
/// (testdata/drizzle/edges.json, made by scripts/fixtures/drizzle_edges.py): every output pixel,
/// borders included, so the overlap scanner must visit the input pixels the C core visits.
/// `DRIZZLE_EDGES_VERBOSE=1 swift test --filter DrizzleEdge` prints what each case measured.
@Suite struct DrizzleEdgeTests {
    struct Doc: Decodable {
        struct Input: Decodable { var data: Int; var weight: Int?; var map: [Double]; var nan: [Int]; var nan_x: [Int]; var ratio: Double }
        struct Case: Decodable {
            var kernel: String; var pixfrac: Double; var nmiss_nskip: [[Int]]
            var image: [Double?]; var weight: [Double?]; var context: [Int]
        }
        struct Scene: Decodable { var output_shape: [Int]; var inputs: [Input]; var cases: [Case] }
        var input_shape: [Int]
        var data: [[Double]]; var weights: [[Double]]; var scenes: [Scene]
    }
    static let doc = try! JSONDecoder().decode(Doc.self, from: Data(contentsOf: URL(fileURLWithPath: TestSupport.path("drizzle/edges.json"))))

    /// The fixture's pixmap: x = ((x0 + ax·i) + bx·j) + qx·(i·j), likewise y, in the script's order
    /// (so the same bits), with its NaN entries.
    static func pixmap(_ input: Doc.Input) -> Pixmap {
        let (ny, nx) = (doc.input_shape[0], doc.input_shape[1]), m = input.map
        var xs = [Double](repeating: 0, count: nx * ny), ys = xs
        for j in 0..<ny {
            for i in 0..<nx {
                let u = Double(i), v = Double(j)
                xs[j * nx + i] = ((m[0] + m[1] * u) + m[2] * v) + m[3] * (u * v)
                ys[j * nx + i] = ((m[4] + m[5] * u) + m[6] * v) + m[7] * (u * v)
            }
        }
        for k in input.nan { xs[k] = .nan; ys[k] = .nan }
        for k in input.nan_x { xs[k] = .nan }
        return Pixmap(width: nx, height: ny, x: xs, y: ys)
    }

    static func drizzle(_ scene: Doc.Scene, _ c: Doc.Case) -> DrizzleOutput {
        var out = DrizzleOutput(width: scene.output_shape[1], height: scene.output_shape[0])
        for input in scene.inputs {
            var o = DrizzleOptions()
            o.kernel = DrizzleOptions.Kernel(rawValue: c.kernel)!
            o.pixfrac = c.pixfrac
            o.pixelScaleRatio = input.ratio
            out.add(doc.data[input.data].map(Float.init), weights: input.weight.map { doc.weights[$0].map(Float.init) },
                    pixmap: pixmap(input), options: o)
        }
        return out
    }

    static let cases = doc.scenes.indices.flatMap { s in doc.scenes[s].cases.indices.map { [s, $0] } }

    @Test(arguments: cases)
    func matchesTheCCoreAtTheEdges(_ index: [Int]) {
        let scene = Self.doc.scenes[index[0]], c = scene.cases[index[1]]
        let out = Self.drizzle(scene, c)
        let nx = scene.output_shape[1], ny = scene.output_shape[0]
        let peak = scene.inputs.flatMap { Self.doc.data[$0.data] }.map(abs).max()!
        let maxWeight = c.weight.compactMap { $0 }.max()!
        var image = 0.0, imageAt = -1, weight = 0.0, weightAt = -1, nanMismatch = 0, border = 0.0
        for p in out.image.indices {
            let mine = Double(out.image[p])
            if let ref = c.image[p] {
                let e = abs(mine - ref)
                if !(e <= image) { image = e; imageAt = p }
                let (x, y) = (p % nx, p / nx)
                if x < 2 || y < 2 || x >= nx - 2 || y >= ny - 2 { border = max(border, e) }
            } else if !mine.isNaN { nanMismatch += 1 }
            let e = abs(Double(out.weight[p]) - (c.weight[p] ?? .nan))
            if !(e <= weight) { weight = e; weightAt = p }
        }
        let contextMismatch = zip(out.context[0], c.context).filter { Int($0) != $1 }.count
        let what = "scene \(index[0]) \(c.kernel) \(c.pixfrac): image \(image / peak) of the peak at \(imageAt % nx),\(imageAt / nx) "
            + "(outer two rows/columns \(border / peak)), weight \(weight / maxWeight) of the largest at \(weightAt % nx),\(weightAt / nx), "
            + "\(nanMismatch) NaN mismatches, \(contextMismatch) context mismatches"
        if ProcessInfo.processInfo.environment["DRIZZLE_EDGES_VERBOSE"] != nil { print("DrizzleEdgeTests: " + what) }
        // The tolerances: 1e-5 of the peak for square, point and turbo, 1e-4 for the others.
        let tolerance = ["square", "point", "turbo"].contains(c.kernel) ? 1e-5 : 1e-4
        #expect(image <= tolerance * peak && nanMismatch == 0, "\(what)")
        #expect(weight <= 1e-6 * maxWeight, "\(what)")
        #expect(contextMismatch == 0, "\(what)")
    }
}
/// The point kernel's short loop (no DQ, errors or variance) lands every pixel where the
/// general loop does: centres on half-pixel edges (−0.5 rounds to −1, 0.5 to 1), NaN and
/// infinite centres counted as unmapped, a tile's columns and a band's rows.
@Suite struct DrizzlePointPathTests {
    @Test func shortLoopMatchesTheGeneralOne() {
        let nx = 40, ny = 30
        var m = Pixmap.identity(width: nx, height: ny)
        for k in m.x.indices {
            // Half-integers and their neighbours, around the output's edges too.
            m.x[k] = (m.x[k] - 2) * 1.25 + [-0.5, 0.5, 0, -0.4999999999999999, 0.49999999999999994][k % 5]
            m.y[k] = (m.y[k] - 1.5) * 1.1 + [0.5, -0.5, 0][k % 3]
        }
        m.x[407] = .nan; m.y[101] = .infinity; m.x[333] = -.infinity
        // Exactly on the edges of the grid (−0.5, 49.5) and of the tile below (2.5, 28.5).
        m.x[412] = -0.5; m.y[413] = -0.5; m.x[414] = 2.5; m.x[416] = 28.5; m.x[417] = 49.5; m.y[418] = 35.5
        let data = (0..<(nx * ny)).map { Float($0 % 17) + 0.25 }
        let weights = (0..<(nx * ny)).map { Float(($0 * 7) % 5) / 4 }
        var o = DrizzleOptions()
        o.kernel = .point
        for (rows, columns) in [(0..<36, 0..<50), (5..<21, 0..<50), (0..<36, 3..<29)] {
            var band = o
            band.gridRows = 0..<36; band.gridColumns = 0..<50
            var short = DrizzleOutput(width: columns.count, height: rows.count, firstRow: rows.lowerBound,
                                      firstColumn: columns.lowerBound, context: true)
            var general = short
            let a = short.add(data, weights: weights, pixmap: m, options: band)
            // ERR sends the same drop through the general loop (it adds a variance, not compared).
            let b = general.add(data, weights: weights, errors: [Float](repeating: 1, count: nx * ny), pixmap: m, options: band)
            #expect(a == b && (rows.count < 36 || columns.count < 50 || a == 3), "rows \(rows) columns \(columns): \(a) vs \(b) unmapped")
            let same = { (x: [Float], y: [Float]) in x.elementsEqual(y) { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) } }
            #expect(same(short.image, general.image) && same(short.weight, general.weight), "rows \(rows) columns \(columns)")
            #expect(short.context == general.context && short.weight.contains { $0 > 0 })
        }
    }
}


/// The scanner itself against the C core's counts, and what it must keep: thread-count
/// independence, bands of a larger grid, nothing drizzled without an overlap.
@Suite struct OverlapScannerTests {
    typealias Doc = DrizzleEdgeTests.Doc

    /// nskip (rows of the shrunk box not scanned) for every input, and for the point kernel the
    /// whole nmiss: columns left out of each row, plus visited pixels that are NaN or land off
    /// the output. Equal counts mean the same rows and, row for row, the same number of columns.
    @Test func countsMatchTheCCore() throws {
        let doc = DrizzleEdgeTests.doc
        for (s, scene) in doc.scenes.enumerated() {
            let (ny, nx) = (scene.output_shape[0], scene.output_shape[1])
            let point = try #require(scene.cases.first { $0.kernel == "point" })
            for (k, input) in scene.inputs.enumerated() {
                let m = DrizzleEdgeTests.pixmap(input)
                let (nmiss, nskip) = (point.nmiss_nskip[k][0], point.nmiss_nskip[k][1])
                guard let scan = OverlapScanner(m, outputColumns: 0..<nx, outputRows: 0..<ny) else {
                    // The C core reports nothing when it finds no overlap.
                    #expect(nmiss == 0 && nskip == 0, "scene \(s) input \(k): no overlap found")
                    continue
                }
                #expect(scan.skippedRows == nskip, "scene \(s) input \(k): nskip \(scan.skippedRows), C \(nskip)")
                let b = scan.box
                var missed = (b.xmax - b.xmin) * (b.ymax - b.ymin + 1)
                for j in scan.rows {
                    let columns = scan.columns(j)
                    missed -= columns.count
                    for i in columns {
                        let x = m.x[j * m.width + i], y = m.y[j * m.width + i]
                        if x.isNaN || y.isNaN { missed += 1; continue }
                        let (ii, jj) = (nearest(x), nearest(y))
                        if ii < 0 || ii >= nx || jj < 0 || jj >= ny { missed += 1 }
                    }
                }
                #expect(missed == nmiss, "scene \(s) input \(k): nmiss \(missed), C \(nmiss)")
            }
        }
    }

    /// An input hanging over every edge of an output large enough to be cut into bands.
    static func overhanging(nx: Int = 300, ny: Int = 260) -> (Pixmap, [Float]) {
        var xs: [Double] = [], ys: [Double] = []
        let a = 25.0 * .pi / 180
        for j in 0..<ny { for i in 0..<nx {
            xs.append(1.1 * (cos(a) * Double(i) - sin(a) * Double(j)) + 80.3)
            ys.append(1.1 * (sin(a) * Double(i) + cos(a) * Double(j)) - 60.6)
        } }
        return (Pixmap(width: nx, height: ny, x: xs, y: ys), (0..<(nx * ny)).map { Float(($0 * 7919) % 1000) / 10 })
    }

    @Test func independentOfThreadCount() {
        let (m, data) = Self.overhanging()
        var results: [[Float]] = []
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [1, 2, 3] {
            Parallel.threads = threads
            for kernel in [DrizzleOptions.Kernel.square, .lanczos3] {
                var o = DrizzleOptions()
                o.kernel = kernel
                o.pixelScaleRatio = 1 / 1.1
                var out = DrizzleOutput(width: 320, height: 240)
                out.add(data, pixmap: m, options: o)
                results.append(out.image + out.weight + out.context[0].map { Float($0) })
            }
        }
        let same = { (a: [Float], b: [Float]) in a.elementsEqual(b) { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) } }
        #expect(same(results[0], results[2]) && same(results[0], results[4]))
        #expect(same(results[1], results[3]) && same(results[1], results[5]))
    }

    /// Bands of the output drizzled one at a time (each output's `firstRow` its place in the
    /// grid, `gridRows` naming the whole grid) give the whole output's bits; without `gridRows`
    /// each band would be clipped at its own edges and the seams would differ.
    @Test func bandsOfALargerGridMatchTheWhole() {
        let (m, data) = Self.overhanging(nx: 120, ny: 90)
        let width = 130, height = 100
        for kernel in [DrizzleOptions.Kernel.square, .point, .gaussian] {
            var o = DrizzleOptions()
            o.kernel = kernel
            o.pixelScaleRatio = 1 / 1.1
            var whole = DrizzleOutput(width: width, height: height)
            whole.add(data, pixmap: m, options: o)
            for rows in [0..<37, 37..<64, 64..<100] {
                var band = o
                band.gridRows = 0..<height
                var out = DrizzleOutput(width: width, height: rows.count, firstRow: rows.lowerBound)
                out.add(data, pixmap: m, options: band)
                let part = Array(whole.weight[(rows.lowerBound * width)..<(rows.upperBound * width)])
                #expect(out.weight.elementsEqual(part) { $0.bitPattern == $1.bitPattern }, "\(kernel) rows \(rows)")
                let image = Array(whole.image[(rows.lowerBound * width)..<(rows.upperBound * width)])
                #expect(out.image.elementsEqual(image) { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, "\(kernel) rows \(rows)")
            }
        }
    }

    /// No overlap, or too few mapped pixels (a single row: the C core refuses it): nothing is
    /// drizzled, the input still counts and takes its context bit.
    @Test func nothingIsDrizzledWithoutAnOverlap() {
        var out = DrizzleOutput(width: 10, height: 8, fill: .value(-1))
        var far = Pixmap.identity(width: 6, height: 5)
        far.x = far.x.map { $0 + 30 }
        #expect(OverlapScanner(far, outputColumns: 0..<10, outputRows: 0..<8) == nil)
        out.add([Float](repeating: 1, count: 30), pixmap: far, options: DrizzleOptions())
        let row = Pixmap.identity(width: 6, height: 1)
        #expect(OverlapScanner(row, outputColumns: 0..<10, outputRows: 0..<8) == nil)
        out.add([Float](repeating: 1, count: 6), pixmap: row, options: DrizzleOptions())
        #expect(out.count == 2 && out.image.allSatisfy { $0 == -1 } && out.weight.allSatisfy { $0 == 0 })
        #expect(out.context.count == 1 && out.context[0].allSatisfy { $0 == 0 })
        // Inside the output, every pixel is visited.
        let inside = Pixmap.identity(width: 6, height: 5)
        let scan = OverlapScanner(inside, outputColumns: 0..<10, outputRows: 0..<8)
        #expect(scan?.rows == 0..<5 && scan?.skippedRows == 0 && (0..<5).allSatisfy { scan?.columns($0) == 0..<6 })
    }
}
