import ArgumentParser
import AstroFITS
import AstroImage
import AstroWCS
import Foundation

/// `astrotool wcs`: coordinates through a frame's WCS, distortions included (WCSTools'
/// xy2sky/sky2xy for scripts).
struct WCSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wcs",
        abstract: "Pixel <-> sky coordinates and footprints through a frame's WCS (SIP, TPV, Paper IV lookup tables, D2IM).",
        discussion: "Distortion conventions read and refused: docs/wcs.md.",
        subcommands: [WCSPix2SkyCommand.self, WCSSky2PixCommand.self, WCSFootprintCommand.self]
    )
}

/// Shared by the coordinate commands: the file and the pairs of numbers.
struct CoordinateInput: ParsableArguments {
    /// All unrecognised words, so negative numbers (declinations) are coordinates, not options.
    @Argument(parsing: .allUnrecognized,
              help: "The FITS file (an HDU by extended name, e.g. 'flt.fits[SCI,2]'), then pairs of numbers, or - to read two columns from stdin.")
    var values: [String]
    @Flag(help: "Pixels are FITS pixels (1-based) instead of 0-based.")
    var fitsPixels = false

    var file: String { values[0] }

    func validate() throws {
        guard values.count >= 2 else { throw ValidationError("give a file and coordinate pairs (or -)") }
        if values[1] != "-" && (values.count - 1) % 2 != 0 { throw ValidationError("coordinates come in pairs") }
    }

    /// The pairs, from the command line or stdin (whitespace- or comma-separated, # comments).
    func pairs() throws -> (a: [Double], b: [Double]) {
        var numbers: [String] = []
        if values[1] == "-" {
            while let line = readLine() {
                let text = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
                if fields.isEmpty { continue }
                guard fields.count >= 2 else {
                    throw AstroError(.badData, file: "stdin", operation: "reading coordinates", reason: "'\(line)' has fewer than two columns")
                }
                numbers += fields.prefix(2).map(String.init)
            }
        } else {
            numbers = Array(values.dropFirst())
        }
        var a: [Double] = [], b: [Double] = []
        for k in stride(from: 0, to: numbers.count - 1, by: 2) {
            guard let u = Double(numbers[k]), let v = Double(numbers[k + 1]) else {
                throw AstroError(.usage, operation: "reading coordinates", reason: "'\(numbers[k]) \(numbers[k + 1])' is not a pair of numbers")
            }
            a.append(u); b.append(v)
        }
        return (a, b)
    }

    func wcs() throws -> WCS { try WCS.read(path: file) }
}

struct WCSPix2SkyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pix2sky",
        abstract: "Pixel positions to RA, Dec (degrees).",
        discussion: """
        Prints 'x y ra dec' per point (17 significant digits); points the WCS cannot map give nan.
        Example: astrotool wcs pix2sky flt.fits[SCI,1] 0 0 2047.5 1023.5
        """
    )
    @OptionGroup var input: CoordinateInput
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let w = try input.wcs()
        let (x, y) = try input.pairs()
        let shift = input.fitsPixels ? 1.0 : 0.0
        let clock = ContinuousClock(), start = clock.now
        let r = w.pixelToWorld(x: x.map { $0 - shift }, y: y.map { $0 - shift })
        common.detail("wcs: \(x.count) points in \(clock.now - start)")
        try emit(x, y, r.ra, r.dec, names: ("x", "y", "ra", "dec"), json: common.json)
    }
}

struct WCSSky2PixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sky2pix",
        abstract: "RA, Dec (degrees) to pixel positions, inverting every distortion.",
        discussion: """
        Prints 'ra dec x y' per point; points that do not map (off the projection, or a distortion \
        that does not converge) give nan.
        Example: echo '5.527 -72.052' | astrotool wcs sky2pix flt.fits[SCI,1] -
        """
    )
    @OptionGroup var input: CoordinateInput
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let w = try input.wcs()
        let (ra, dec) = try input.pairs()
        let shift = input.fitsPixels ? 1.0 : 0.0
        let clock = ContinuousClock(), start = clock.now
        let r = w.worldToPixel(ra: ra, dec: dec)
        common.detail("wcs: \(ra.count) points in \(clock.now - start)")
        try emit(ra, dec, r.x.map { $0 + shift }, r.y.map { $0 + shift }, names: ("ra", "dec", "x", "y"), json: common.json)
    }
}

struct WCSFootprintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "footprint",
        abstract: "A chip's outline on the sky: its corner pixels (astropy's calc_footprint), or its edges.",
        discussion: """
        By default the centres of the four corner pixels, in astropy's order: (1,1), (1,NAXIS2), \
        (NAXIS1,NAXIS2), (NAXIS1,1) in FITS pixels. --edges follows the pixel edges instead, with a \
        point every --step pixels (the polygon skymatch uses). --regions prints a DS9 region.
        Example: astrotool wcs footprint flt.fits[SCI,1] --regions > chip1.reg
        """
    )
    @Argument(help: "The FITS file (an HDU by extended name).") var file: String
    @Flag(help: "Follow the pixel edges instead of joining the corner pixels.") var edges = false
    @Option(help: "With --edges, the largest gap between points, in pixels.") var step = 64
    @Flag(help: "Print a DS9 region (fk5 polygon).") var regions = false
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        guard step > 0 else { throw AstroError(.usage, operation: "footprint", reason: "--step must be positive") }
        let w = try WCS.read(path: file)
        let info = try FITSFile(file).info()
        guard info.shape.count >= 2, info.shape[0] > 0, info.shape[1] > 0 else {
            throw AstroError(.badData, file: file, operation: "footprint", reason: "the HDU holds no 2-D image (NAXIS1, NAXIS2)")
        }
        let nx = info.shape[0], ny = info.shape[1]
        let points: [(ra: Double, dec: Double)]
        if edges { points = w.footprint(width: nx, height: ny, step: step) } else {
            let r = w.pixelToWorld(x: [0, 0, Double(nx - 1), Double(nx - 1)], y: [0, Double(ny - 1), Double(ny - 1), 0])
            points = (0..<4).map { (r.ra[$0], r.dec[$0]) }
        }
        if regions {
            Console.out("# Region file format: DS9 version 4.1")
            Console.out("fk5")
            Console.out("polygon(" + points.map { String(format: "%.10f,%.10f", $0.ra, $0.dec) }.joined(separator: ",") + ")")
        } else if common.json {
            try printJSON(points.map { [$0.ra, $0.dec] })
        } else {
            for p in points { Console.out("\(number(p.ra)) \(number(p.dec))") }
        }
    }
}

/// 17 significant digits, the round-trip precision of a Double.
private func number(_ v: Double) -> String { v.isFinite ? String(format: "%.17g", v) : "nan" }

private func emit(_ a: [Double], _ b: [Double], _ c: [Double], _ d: [Double],
                  names: (String, String, String, String), json: Bool) throws {
    if json {
        try printJSON((0..<a.count).map { i in [names.0: a[i], names.1: b[i], names.2: c[i], names.3: d[i]] })
        return
    }
    var out = ""
    out.reserveCapacity(a.count * 80)
    for i in a.indices { out += "\(number(a[i])) \(number(b[i])) \(number(c[i])) \(number(d[i]))\n" }
    if !out.isEmpty { out.removeLast() }
    Console.out(out)
}
