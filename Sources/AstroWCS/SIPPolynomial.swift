import AstroImage

/// The SIP forward polynomials (A_p_q, B_p_q for p + q ≤ order) about CRPIX, evaluated in
/// Swift when the lookup-table chain is in use (wcslib then sees the header without them, as
/// astropy does).
struct SIPPolynomial: Sendable {
    let crpix: (Double, Double)
    /// Coefficients indexed [p * (order + 1) + q].
    let a: [Double], b: [Double]
    let aOrder: Int, bOrder: Int

    init?(_ header: Header) {
        guard let ao = header.int("A_ORDER"), let bo = header.int("B_ORDER"), ao >= 0, bo >= 0, ao <= 9, bo <= 9,
              let c1 = header.double("CRPIX1"), let c2 = header.double("CRPIX2") else { return nil }
        func read(_ prefix: String, _ order: Int) -> [Double] {
            var c = [Double](repeating: 0, count: (order + 1) * (order + 1))
            for p in 0...order { for q in 0...(order - p) { c[p * (order + 1) + q] = header.double("\(prefix)_\(p)_\(q)") ?? 0 } }
            return c
        }
        crpix = (c1, c2)
        aOrder = ao; bOrder = bo
        a = read("A", ao); b = read("B", bo)
    }

    /// (Δx, Δy) at 1-based pixel (x, y).
    @inline(__always)
    func deltas(_ x: Double, _ y: Double) -> (Double, Double) {
        let u = x - crpix.0, v = y - crpix.1
        return (Self.evaluate(a, aOrder, u, v), Self.evaluate(b, bOrder, u, v))
    }

    /// Σ c[p][q] u^p v^q by Horner's rule in v, then in u.
    @inline(__always)
    private static func evaluate(_ c: [Double], _ order: Int, _ u: Double, _ v: Double) -> Double {
        var total = 0.0
        for p in stride(from: order, through: 0, by: -1) {
            var inner = 0.0
            for q in stride(from: order - p, through: 0, by: -1) { inner = inner * v + c[p * (order + 1) + q] }
            total = total * u + inner
        }
        return total
    }
}
