@testable import AstroDrizzle
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `Resample.prepare` takes eight pixels a step where the sky is level along a row, and the
/// rest (and any step with a DQ value that is not a small integer) one by one: rows of 19
/// pixels, spread with NaN and infinite data and ERR, zero and negative ERR, bad DQ bits,
/// negative and fractional DQ values, give every pixel the values of the rules written out,
/// bit for bit, for every kind of weight, in counts and in rate.
@Suite struct ResamplePrepareTests {
    @Test func everyPixelFollowsTheRules() throws {
        let frame = TestSupport.path("ccdproc/ref/sci_reduced.fits")
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        var h = try FITS.readImage(frame).header
        let (w, ht) = (19, 3), n = 19 * 3
        let sky = 12.25, exptime = 300.0
        h.set("SKYVALUE", sky); h.set("EXPTIME", exptime)
        h.remove("SKYSLPX"); h.remove("SKYSLPY"); h.remove("SKYSUB")
        let data: [Float] = (0..<n).map { k in
            switch k % 11 { case 3: .nan; case 7: .infinity; default: Float(k) * 1.75 - 20 }
        }
        let err: [Float] = (0..<n).map { k in
            switch k % 13 { case 5: 0; case 9: -2; case 11: .nan; case 12: 1e-30; default: 0.5 + Float(k % 7) }
        }
        // A fractional and a negative DQ value in the first row's first eight (its vector step
        // falls back); bits 4 (bad) and 2 (good) elsewhere.
        let dq: [Float] = (0..<n).map { k in k == 2 ? 2.5 : k == 6 ? -1 : k % 5 == 1 ? 4 : k % 5 == 3 ? 2 : 0 }
        // ivm weights from ERR, and from VAR_RNOISE where a file has it.
        let variance: [Float] = (0..<n).map { k -> Float in
            if k == 40 { return .nan }
            switch k % 6 { case 4: return 0; case 5: return -1; default: return 0.25 * Float(k % 9) }
        }
        for withVariance in [false, true] {
        let path = dir.appendingPathComponent("in\(withVariance).fits").path
        var hdus = [OutputHDU(Image(width: w, height: ht, pixels: data, header: h)),
                    OutputHDU(Image(width: w, height: ht, pixels: err), extname: "ERR"),
                    OutputHDU(Image(width: w, height: ht, pixels: dq), extname: "DQ")]
        if withVariance { hdus.append(OutputHDU(Image(width: w, height: ht, pixels: variance), extname: "VAR_RNOISE")) }
        try FITSWriter.write(hdus, to: path, overwrite: false)
        let input = try ResampleInput(path)
        let planes = try input.load()
        for weightType in ResampleOptions.WeightType.allCases {
            for units in ResampleOptions.Units.allCases {
                var o = ResampleOptions()
                o.weightType = weightType; o.units = units; o.goodBits = try GoodBits.parse("2")
                let p = try Resample.prepare(input, planes, o)
                for k in 0..<n {
                    let v = dq[k]
                    let bits: UInt32 = v.isFinite && v > 0 ? UInt32(Double(v).rounded()) : 0
                    var weight: Float = switch weightType {
                    case .none: 1
                    case .exptime: Float(exptime)
                    case .ivm where withVariance: { v in let r = 1 / v; return v > 0 && r.isFinite ? r : 0 }(variance[k])
                    case .ivm: { e in let r = 1 / (e * e); return e > 0 && e * e > 0 && r.isFinite ? r : 0 }(err[k])
                    }
                    if bits & ~2 != 0 || !data[k].isFinite || !err[k].isFinite { weight = 0 }
                    var d = data[k].isFinite ? data[k] : 0
                    d -= Float(sky)
                    if units == .counts { d /= Float(exptime) }
                    let label = "\(weightType)\(withVariance ? " (VAR_RNOISE)" : "") \(units) pixel \(k)"
                    #expect(p.bits![k] == bits, "\(label) DQ")
                    #expect(p.weights[k].bitPattern == weight.bitPattern, "\(label) weight \(p.weights[k]) against \(weight)")
                    #expect(p.data[k].bitPattern == d.bitPattern, "\(label) data \(p.data[k]) against \(d)")
                }
            }
        }
        }
    }
}
