import AstroFITS
import AstroImage
import AstroWCS
import Foundation

/// A mosaic cut into tiles that separate processes (or cluster jobs) drizzle one each
/// (`resample plan`, `resample --plan P --tile K`, `resample combine`): the output grid, the
/// tiles with the inputs that reach each, the inputs' fingerprints and the drizzle options, so
/// that every tile job drizzles exactly what one run over the whole grid would.
public struct ResamplePlan: Codable, Sendable, Equatable {
    /// A hash of everything else in the plan: a part carries it, so combine can tell plans apart.
    public var id: String
    public var grid: Grid
    /// The tiling, NX × NY.
    public var tilesX: Int, tilesY: Int
    public var tiles: [Tile]
    public var inputs: [Input]
    /// The working folder the plan was made in: relative input paths are relative to it.
    public var directory: String
    public var options: Options
    public var cost: Cost

    /// What one job needs (ResampleLayout's working bytes): a tile job holds its tile's planes
    /// and one input at a time; combine holds one row of tiles of one plane.
    public struct Cost: Codable, Sendable, Equatable {
        /// Working bytes per output pixel while drizzling, and for the largest input.
        public var bytesPerPixel: Int
        public var largestInputBytes: Int
        /// The largest tile's working bytes, and a tile job's memory (those, the largest input and 64 MiB).
        public var largestTileBytes: Int
        public var tileJobBytes: Int
        /// A combine job's memory: one row of tiles of one plane, read (as doubles for integer
        /// planes), converted, assembled and converted again for writing (20 bytes a pixel), and 64 MiB.
        public var combineJobBytes: Int
    }

    public struct Grid: Codable, Sendable, Equatable {
        /// The output WCS as 80-column header cards (17 significant digits: every double survives).
        public var cards: [String]
        public var width: Int, height: Int
    }

    /// Tile `number` (1…NX·NY, row-major from the bottom-left) covers grid columns x0..<x1 and
    /// rows y0..<y1 (0-based) and is reached by `inputs` (indices into the plan's inputs).
    public struct Tile: Codable, Sendable, Equatable {
        public var number: Int
        public var x0: Int, x1: Int, y0: Int, y1: Int
        public var inputs: [Int]
    }

    /// An input as given, with what identifies its content: the file's size and a hash of the
    /// chip's header cards.
    public struct Input: Codable, Sendable, Equatable {
        public var path: String
        public var hdu: String
        public var width: Int, height: Int
        public var bytes: Int
        public var headerHash: String
    }

    /// The drizzle options a tile job takes from the plan (the grid is in `grid`).
    public struct Options: Codable, Sendable, Equatable {
        public var kernel: String
        public var pixfrac: Double
        public var fillval: String
        public var weightType: String
        /// `--good-bits` as the mask of good bits.
        public var goodBits: UInt64
        public var units: String
        public var skyKey: String?
        public var exptimeKey: String
        public var context: Bool
        public var variance: Bool
        public var errorSource: String
        /// `auto`, or the step in pixels (1: exact).
        public var pixmapStep: String
        /// For `auto`.
        public var pixmapTolerance: Double?
    }

    /// Splits the grid's `grid.width`×`grid.height` pixels into `nx`×`ny` tiles (sizes differing by
    /// at most one pixel), row-major from the bottom-left.
    static func tiles(width: Int, height: Int, nx: Int, ny: Int, reach: [Reach]) -> [Tile] {
        var out: [Tile] = []
        for ty in 0..<ny {
            for tx in 0..<nx {
                let x0 = width * tx / nx, x1 = width * (tx + 1) / nx, y0 = height * ty / ny, y1 = height * (ty + 1) / ny
                let touching = reach.indices.filter { reach[$0].columns.overlaps(x0..<x1) && reach[$0].rows.overlaps(y0..<y1) }
                out.append(Tile(number: out.count + 1, x0: x0, x1: x1, y0: y0, y1: y1, inputs: touching))
            }
        }
        return out
    }

    /// The plan's content hash (FNV-1a, 64 bits, of its JSON without the id).
    func contentHash() -> String {
        var copy = self
        copy.id = ""
        return Fingerprint.hash(Self.encoded(copy))
    }

    static func encoded(_ plan: ResamplePlan) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try! encoder.encode(plan)
    }

    /// The plan as JSON (keys sorted, one per line).
    public var json: Data { Self.encoded(self) }

    /// Reads a plan; a file that is not one, or whose content no longer matches its id (edited
    /// by hand), is refused.
    public static func read(_ path: String) throws -> ResamplePlan {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AstroError(.noInput, file: path, operation: "reading the plan", reason: "cannot read the file")
        }
        let plan: ResamplePlan
        do { plan = try JSONDecoder().decode(ResamplePlan.self, from: data) } catch {
            throw AstroError(.badData, file: path, operation: "reading the plan", reason: "not a resample plan (\(Self.describe(error)))")
        }
        guard plan.contentHash() == plan.id else {
            throw AstroError(.badData, file: path, operation: "reading the plan", reason: "its content does not match its id \(plan.id) (edited?)")
        }
        return plan
    }

    private static func describe(_ error: Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "no '\(key.stringValue)'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            c.codingPath.map(\.stringValue).joined(separator: ".") + ": " + c.debugDescription
        default: "\(error)"
        }
    }

    /// An input path as a tile job opens it (relative ones from `directory`).
    public func resolved(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: directory).appendingPathComponent(path).path
    }

    /// The engine's options for a tile job.
    func resampleOptions() throws -> ResampleOptions {
        var o = ResampleOptions()
        let p = options
        func bad(_ what: String) -> AstroError { AstroError(.badData, operation: "reading the plan", reason: "\(what) is not valid") }
        guard let kernel = DrizzleOptions.Kernel(rawValue: p.kernel) else { throw bad("kernel '\(p.kernel)'") }
        guard let fill = DrizzleOptions.Fill(text: p.fillval) else { throw bad("fillval '\(p.fillval)'") }
        guard let weights = ResampleOptions.WeightType(rawValue: p.weightType) else { throw bad("weightType '\(p.weightType)'") }
        guard let units = ResampleOptions.Units(rawValue: p.units) else { throw bad("units '\(p.units)'") }
        guard let errors = ResampleOptions.ErrorSource(rawValue: p.errorSource) else { throw bad("errorSource '\(p.errorSource)'") }
        o.drizzle.kernel = kernel
        o.drizzle.pixfrac = p.pixfrac
        o.drizzle.fill = fill
        o.weightType = weights
        o.goodBits = GoodBits(good: p.goodBits)
        o.units = units
        o.skyKey = p.skyKey
        o.exptimeKey = p.exptimeKey
        o.context = p.context
        o.variance = p.variance
        o.errorSource = errors
        if p.pixmapStep == "auto" { o.pixmapSampling = .auto(tolerance: p.pixmapTolerance ?? 1e-5) }
        else if let n = Int(p.pixmapStep), n >= 1 { o.pixmapSampling = n > 1 ? .step(n) : .exact }
        else { throw bad("pixmapStep '\(p.pixmapStep)'") }
        return o
    }

    /// The output WCS.
    func gridWCS(file: String) throws -> WCS {
        try WCS(header: Header(cardImages: grid.cards.joined()), file: file)
    }
}

/// What identifies an input's content without reading its pixels, and the stable hash used for
/// it and for the plan id (FNV-1a, 64 bits: Swift's own Hasher differs from run to run).
enum Fingerprint {
    static func hash(_ data: Data) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return String(format: "%016llx", h)
    }

    static func of(_ input: ResampleInput) -> ResamplePlan.Input {
        let base = FITS.basePath(input.path)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: base)[.size] as? Int) ?? -1
        return ResamplePlan.Input(path: input.path, hdu: input.hdu, width: input.width, height: input.height, bytes: bytes,
                                  headerHash: hash(Data(input.header.cardImages.joined().utf8)))
    }
}

extension Resample {
    /// Plans a mosaic of `paths` in `nx`×`ny` tiles: the grid as one run would choose it, and per
    /// tile the inputs whose outline (widened by the kernel's reach) meets it.
    public static func plan(_ paths: [String], options o: ResampleOptions, tiles nx: Int, _ ny: Int) throws -> ResamplePlan {
        guard !paths.isEmpty else { throw AstroError(.noInput, operation: "planning", reason: "no input frames") }
        let inputs = try ResampleInput.read(paths)
        let (wcs, width, height) = try grid(o.grid, inputs)
        guard nx >= 1, ny >= 1, nx <= width, ny <= height else {
            throw AstroError(.usage, operation: "planning", reason: "--tiles \(nx) \(ny) does not fit the \(width)x\(height) grid")
        }
        // The tile jobs rebuild the grid from its cards: it must map as this one does (a
        // lookup-table distortion, kept in a file's extensions, would not).
        let cards = wcs.header.cardImages, rebuilt = try WCS(header: Header(cardImages: cards.joined()))
        let xs = [0, Double(width - 1), 0, Double(width - 1), Double(width - 1) / 2], ys = [0, 0, Double(height - 1), Double(height - 1), Double(height - 1) / 2]
        let a = wcs.pixelToWorld(x: xs, y: ys), b = rebuilt.pixelToWorld(x: xs, y: ys)
        guard zip(a.ra + a.dec, b.ra + b.dec).allSatisfy({ abs($0 - $1) < 1e-9 }) else {
            throw AstroError(.badData, operation: "planning",
                             reason: "the output grid's WCS does not survive as header cards (a lookup-table distortion?); tile jobs could not rebuild it")
        }
        let reach = inputs.map { reached($0, grid: wcs, width: width, height: height) }
        let step: String, tolerance: Double?
        switch o.pixmapSampling {
        case .exact: (step, tolerance) = ("1", nil)
        case .step(let n): (step, tolerance) = ("\(n)", nil)
        case .auto(let t): (step, tolerance) = ("auto", t)
        }
        let options = ResamplePlan.Options(
            kernel: o.drizzle.kernel.rawValue, pixfrac: o.drizzle.pixfrac, fillval: o.drizzle.fill.text, weightType: o.weightType.rawValue,
            goodBits: o.goodBits.good, units: o.units.rawValue, skyKey: o.skyKey, exptimeKey: o.exptimeKey, context: o.context,
            variance: o.variance, errorSource: o.errorSource.rawValue, pixmapStep: step, pixmapTolerance: tolerance)
        let layout = ResampleLayout(inputs, width: width, height: height, options: o)
        let tiles = ResamplePlan.tiles(width: width, height: height, nx: nx, ny: ny, reach: reach)
        let largestTile = tiles.map { ($0.x1 - $0.x0) * ($0.y1 - $0.y0) }.max()!, tallest = tiles.map { $0.y1 - $0.y0 }.max()!
        let input = ResampleLayout.bytesPerInput(inputs.map { $0.width * $0.height }.max()!)
        let cost = ResamplePlan.Cost(bytesPerPixel: layout.bytesPerPixel, largestInputBytes: input,
                                     largestTileBytes: largestTile * layout.bytesPerPixel,
                                     tileJobBytes: largestTile * layout.bytesPerPixel + input + (64 << 20),
                                     combineJobBytes: 20 * width * tallest + (64 << 20))
        var plan = ResamplePlan(id: "", grid: .init(cards: cards, width: width, height: height), tilesX: nx, tilesY: ny,
                                tiles: tiles,
                                inputs: inputs.map(Fingerprint.of), directory: FileManager.default.currentDirectoryPath, options: options,
                                cost: cost)
        plan.id = plan.contentHash()
        return plan
    }
}
