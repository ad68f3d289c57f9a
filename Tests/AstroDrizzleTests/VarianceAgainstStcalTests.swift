@testable import AstroDrizzle
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `Resample.run` against stcal 1.20's `Resample` (testdata/drizzle/variance.json, made by
/// scripts/fixtures/stcal_variance.py): three shifted, rotated 24×20 frames with VAR_RNOISE,
/// VAR_POISSON, VAR_FLAT and DQ, drizzled with the square kernel onto a 30×30 TAN grid of 1.25×
/// their pixel size, ERR from the variances. Every output plane (SCI, WHT, VAR_*, ERR) must equal
/// stcal's to 1e-5 relative and be NaN exactly where stcal's is; two more cases: unflagged invalid
/// variances, and inputs whose pixel scales differ.
@Suite struct VarianceAgainstStcalTests {
    struct Doc: Decodable {
        struct Input: Decodable {
            var exptime: Double; var header: [String]; var data: [Double?]; var dq: [Int]
            var var_rnoise: [Double?]; var var_poisson: [Double?]; var var_flat: [Double?]
        }
        struct Patch: Decodable { var frame: Int; var plane: String; var y: Int; var x: Int; var value: Double? }
        struct Case: Decodable {
            var name: String; var weight_type: String; var pixel_scale_ratio: Double; var exposure_time: Double
            var patches: [Patch]; var headers: [[String]]?
            var data: [Double?]; var wht: [Double?]; var var_rnoise: [Double?]; var var_poisson: [Double?]
            var var_flat: [Double?]; var err: [Double?]
            func plane(_ name: String) -> [Double?] {
                switch name {
                case "SCI": data
                case "WHT": wht
                case "VAR_RNOISE": var_rnoise
                case "VAR_POISSON": var_poisson
                case "VAR_FLAT": var_flat
                default: err
                }
            }
        }
        var stcal: String; var input_shape: [Int]; var output_shape: [Int]
        var inputs: [Input]; var output_header: [String]; var cases: [Case]
        func named(_ name: String) -> Case { cases.first { $0.name == name }! }
    }
    static let doc = try! JSONDecoder().decode(Doc.self, from: Data(contentsOf: URL(fileURLWithPath: TestSupport.path("drizzle/variance.json"))))
    static let planes = ["SCI", "WHT", "VAR_RNOISE", "VAR_POISSON", "VAR_FLAT", "ERR"]

    static func floats(_ a: [Double?]) -> [Float] { a.map { $0.map(Float.init) ?? .nan } }

    /// Writes the case's frames as FITS (science in the primary with its WCS and EXPTIME, then
    /// VAR_RNOISE, VAR_POISSON, VAR_FLAT and DQ) and the output grid as a text header, runs
    /// `Resample.run` as stcal was run (square, pixfrac 1, fill NaN, no sky, ERR from the
    /// variances) and reads back every output plane.
    static func resample(_ c: Doc.Case) throws -> [String: [Float]] {
        let d = doc, width = d.input_shape[1], height = d.input_shape[0]
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var paths: [String] = []
        for (k, input) in d.inputs.enumerated() {
            var header = Header(cardImages: (c.headers?[k] ?? input.header).joined(separator: "\n"))
            header.set("EXPTIME", input.exptime)
            var vars = ["VAR_RNOISE": floats(input.var_rnoise), "VAR_POISSON": floats(input.var_poisson), "VAR_FLAT": floats(input.var_flat)]
            for p in c.patches where p.frame == k { vars[p.plane.uppercased()]![p.y * width + p.x] = p.value.map(Float.init) ?? .nan }
            func image(_ v: [Float], _ h: Header = Header()) -> Image { Image(width: width, height: height, pixels: v, header: h) }
            let path = dir.appendingPathComponent("in\(k).fits").path
            try FITSWriter.write([OutputHDU(image(floats(input.data), header)),
                                  OutputHDU(image(vars["VAR_RNOISE"]!), extname: "VAR_RNOISE"),
                                  OutputHDU(image(vars["VAR_POISSON"]!), extname: "VAR_POISSON"),
                                  OutputHDU(image(vars["VAR_FLAT"]!), extname: "VAR_FLAT"),
                                  OutputHDU(integers: input.dq.map { Int32($0) }, width: width, height: height, extname: "DQ")],
                                 to: path, overwrite: false)
            paths.append(path)
        }
        let grid = dir.appendingPathComponent("grid.hdr").path
        try (d.output_header.joined(separator: "\n") + "\nEND\n").write(toFile: grid, atomically: true, encoding: .ascii)
        var o = ResampleOptions()
        o.grid = .header(grid, shape: nil)
        o.weightType = .init(rawValue: c.weight_type)!
        o.skyKey = nil
        o.units = .rate
        o.errorSource = .fromVar
        o.drizzle.kernel = .square
        o.drizzle.pixfrac = 1
        o.drizzle.fill = .nan
        let out = dir.appendingPathComponent("out.fits").path
        let report = try Resample.run(paths, options: o, output: out, overwrite: false)
        #expect(report.width == d.output_shape[1] && report.height == d.output_shape[0])
        #expect(abs(report.exposure - c.exposure_time) < 1e-9)
        #expect(try FITS.listHDUs(out).map(\.extname) == [nil, "WHT", "ERR", "VAR_RNOISE", "VAR_POISSON", "VAR_FLAT", "DQ", "CON"])
        var result: [String: [Float]] = [:]
        for name in planes { result[name] = try FITS.readImage(name == "SCI" ? out : out + "[\(name)]").pixels }
        return result
    }

    /// How one plane compares with stcal's (after dividing it by `scale`): the largest relative
    /// difference and where, the pixels empty on one side only (NaN, or a weight of exactly 0 —
    /// where stcal has 0, any other value is a mismatch), the pixels off by more than 1e-5.
    struct Comparison: CustomStringConvertible {
        var worst = 0.0, at = -1, emptyMismatch = 0, firstEmptyMismatch = -1, over = 0, compared = 0
        var description: String {
            String(format: "%.2e at pixel %d (%d of %d over 1e-5; %d empty on one side only, first at pixel %d)",
                   worst, at, over, compared, emptyMismatch, firstEmptyMismatch)
        }
        var matches: Bool { worst <= 1e-5 && emptyMismatch == 0 }
    }

    static func compare(_ mine: [Float], _ ref: [Double?], scale: Double = 1) -> Comparison {
        var c = Comparison()
        func empty(_ p: Int) { c.emptyMismatch += 1; if c.firstEmptyMismatch < 0 { c.firstEmptyMismatch = p } }
        for p in ref.indices {
            guard let r = ref[p] else {
                if !mine[p].isNaN { empty(p) }
                continue
            }
            let m = Double(mine[p]) / scale
            guard m.isFinite else { empty(p); continue }
            if r == 0 {
                if m != 0 { empty(p) }
                continue
            }
            c.compared += 1
            let rel = abs(m - r) / abs(r)
            if rel > 1e-5 { c.over += 1 }
            if rel > c.worst { c.worst = rel; c.at = p }
        }
        return c
    }

    @Test(arguments: ["ivm", "exptime"])
    func matchesStcal(name: String) throws {
        let c = Self.doc.named(name)
        let mine = try Self.resample(c)
        var measured: [String] = []
        for plane in Self.planes {
            let r = Self.compare(mine[plane]!, c.plane(plane))
            measured.append("\(plane) \(String(format: "%.2e", r.worst))")
            // Float32 images and float32 variance sums on both sides: 1e-5 relative.
            #expect(r.matches && r.compared > 400, "\(name) \(plane): \(r)")
        }
        print("VarianceAgainstStcal \(name) (stcal \(Self.doc.stcal)), largest relative differences: " + measured.joined(separator: ", "))
    }

    /// Unflagged NaN or negative variances. stcal drizzles √var, so such a value turns every output
    /// pixel it reaches with weight > 0 into NaN in that frame's resampled plane, and that frame
    /// then adds neither variance nor weight to that plane there (the NaN VAR_RNOISE counts here
    /// because the weights are exposure times). Drizzling it as √0 instead (astrotool before this
    /// test) left the combined variance up to 48 % low on the 3–4 output pixels each reaches.
    @Test func invalidVariancesLeaveTheFrameOutAsStcalDoes() throws {
        let c = Self.doc.named("invalid variances")
        let mine = try Self.resample(c)
        for plane in ["SCI", "WHT"] {
            let r = Self.compare(mine[plane]!, c.plane(plane))
            #expect(r.matches, "\(plane): \(r)")
        }
        for plane in ["VAR_RNOISE", "VAR_POISSON", "VAR_FLAT", "ERR"] {
            let r = Self.compare(mine[plane]!, c.plane(plane))
            #expect(r.matches, "\(plane): \(r)")
        }
    }

    /// Frame 2's pixels 1.02 times the others'. stcal computes r = output / input pixel scale once,
    /// from the first model, and scales the variances by 1/r² (ERR by 1/r) with it; taking the
    /// last input's r instead (astrotool before this test) made every variance 1.0404× stcal's and
    /// the result depend on the order of the inputs.
    @Test func theFirstInputsPixelScaleScalesTheVariances() throws {
        let c = Self.doc.named("pixel scales differ")
        let mine = try Self.resample(c)
        func scale(_ cards: [String]) -> Double {
            let h = Header(cardImages: cards.joined(separator: "\n"))
            return abs(h.double("CD1_1")! * h.double("CD2_2")! - h.double("CD1_2")! * h.double("CD2_1")!).squareRoot()
        }
        let headers = c.headers!, last = scale(headers[headers.count - 1]) / scale(headers[0])
        #expect(abs(last - 1.02) < 1e-9)
        for plane in ["SCI", "WHT"] {
            let r = Self.compare(mine[plane]!, c.plane(plane))
            #expect(r.matches, "\(plane): \(r)")
        }
        for plane in ["VAR_RNOISE", "VAR_POISSON", "VAR_FLAT", "ERR"] {
            let r = Self.compare(mine[plane]!, c.plane(plane))
            #expect(r.matches, "\(plane): \(r)")
        }
    }
}
