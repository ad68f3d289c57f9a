import AstroImage
import AstroWCS
import Foundation

/// `--update-wcs` with a polynomial model: the source's WCS as TAN-SIP. The template's linear WCS
/// composed with the fitted source → template polynomial is itself a polynomial in the source's
/// pixel offsets; written about the source pixel that lands on the template's reference pixel,
/// its linear part is the CD matrix and the rest the SIP A/B terms (Shupe et al. 2005).
enum AlignSIP {
    /// The source's cards with a TAN-SIP WCS mapping each source pixel s to the sky position the
    /// template's WCS gives push(s).
    /// - Throws: `.badData` for a template WCS with its own distortion, a non-TAN projection, or
    ///   a polynomial that does not reach the template's reference pixel.
    static func tied(_ source: Header, template: WCS, push: PolyMap, near start: (x: Double, y: Double)) throws -> Header {
        guard !template.hasDistortion, template.ctype.allSatisfy({ $0.hasSuffix("-TAN") }) else {
            throw AstroError(.badData, operation: "updating the WCS",
                             reason: "a polynomial model is written as TAN-SIP on an undistorted TAN template WCS only (this one: \(template.ctype.joined(separator: ", ")))")
        }
        let target = template.referencePixel
        guard let p0 = solve(push, for: target, from: start) else {
            throw AstroError(.badData, operation: "updating the WCS", reason: "the polynomial does not reach the template's reference pixel")
        }
        // push(p0 + w) − target = L·w + N(w): coefficients of w_x^k w_y^l.
        let c = expanded(push, about: p0)
        let l = [[c.x[1][0], c.x[0][1]], [c.y[1][0], c.y[0][1]]]
        let det = l[0][0] * l[1][1] - l[0][1] * l[1][0]
        guard det != 0, det.isFinite else {
            throw AstroError(.badData, operation: "updating the WCS", reason: "the transform is singular")
        }
        let inv = [[l[1][1] / det, -l[0][1] / det], [-l[1][0] / det, l[0][0] / det]]
        var h = AlignWCS.composed(source, template: template, crpix: p0, matrix: l)
        h.set("CTYPE1", template.ctype[0] + "-SIP", comment: "TAN projection with SIP distortion")
        h.set("CTYPE2", template.ctype[1] + "-SIP", comment: "TAN projection with SIP distortion")
        // SIP: u + f(u, v) with f = (L⁻¹·N)ₓ, v + g(u, v) with g = (L⁻¹·N)ᵧ, terms of degree ≥ 2.
        let order = push.order
        h.set("A_ORDER", order, comment: "SIP polynomial order, axis 1")
        h.set("B_ORDER", order, comment: "SIP polynomial order, axis 2")
        for d in stride(from: 2, through: order, by: 1) {
            for q in 0...d {
                let p = d - q
                let nx = c.x[p][q], ny = c.y[p][q]
                h.set("A_\(p)_\(q)", inv[0][0] * nx + inv[0][1] * ny)
                h.set("B_\(p)_\(q)", inv[1][0] * nx + inv[1][1] * ny)
            }
        }
        return h
    }

    /// The pixel p with push(p) = target, by Newton's method from `start`.
    static func solve(_ push: PolyMap, for target: (x: Double, y: Double), from start: (x: Double, y: Double)) -> (x: Double, y: Double)? {
        var p = start
        for _ in 0..<50 {
            let f = push.apply(p.x, p.y)
            let rx = f.x - target.x, ry = f.y - target.y
            if abs(rx) < 1e-11 && abs(ry) < 1e-11 { return p }
            let e = 0.5
            let fx = push.apply(p.x + e, p.y), fy = push.apply(p.x, p.y + e)
            let a = (fx.x - f.x) / e, b = (fy.x - f.x) / e, c = (fx.y - f.y) / e, d = (fy.y - f.y) / e
            let det = a * d - b * c
            guard det != 0, det.isFinite else { return nil }
            p = (p.x - (d * rx - b * ry) / det, p.y - (a * ry - c * rx) / det)
            guard p.x.isFinite, p.y.isFinite else { return nil }
        }
        let f = push.apply(p.x, p.y)
        return abs(f.x - target.x) < 1e-8 && abs(f.y - target.y) < 1e-8 ? p : nil
    }

    /// push(p0 + w) as polynomials in w: [k][l] is the coefficient of w_x^k w_y^l (the
    /// normalised u = (x − cx)/s = w_x/s + δx expanded binomially).
    static func expanded(_ push: PolyMap, about p0: (x: Double, y: Double)) -> (x: [[Double]], y: [[Double]]) {
        let n = push.order, s = push.scale
        let dx = (p0.x - push.cx) / s, dy = (p0.y - push.cy) / s
        var cx = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n + 1), cy = cx
        func binomial(_ a: Int, _ b: Int) -> Double { b == 0 ? 1 : (1...b).reduce(1.0) { $0 * Double(a - b + $1) / Double($1) } }
        for (m, term) in PolyMap.terms(n).enumerated() {
            for k in 0...term.i {
                for l in 0...term.j {
                    let f = binomial(term.i, k) * pow(dx, Double(term.i - k)) * binomial(term.j, l) * pow(dy, Double(term.j - l)) / pow(s, Double(k + l))
                    cx[k][l] += push.ax[m] * f
                    cy[k][l] += push.ay[m] * f
                }
            }
        }
        return (cx, cy)
    }
}
