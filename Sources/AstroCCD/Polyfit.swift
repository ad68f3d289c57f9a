/// Linear least-squares polynomial fits of a 1-D profile against its index, for overscan models.
///
/// Chebyshev, Legendre and power-series polynomials of one degree span the same functions, so
/// their least-squares fits have the same values; we always solve in the Chebyshev basis on the
/// index mapped to [−1, 1] (astropy's default domain for Chebyshev1D/Legendre1D), which stays well
/// conditioned at high degree where a raw power series (Polynomial1D on 0…n−1) does not.
public enum Polyfit {
    /// Optional iterative rejection, IRAF ccdproc's `low_reject`/`high_reject`/`niterate`
    /// (ccdproc's fitter has none: issue #722).
    public struct Rejection: Sendable, Equatable {
        public var low: Double
        public var high: Double
        public var iterations: Int
        public init(low: Double, high: Double, iterations: Int) {
            self.low = low; self.high = high; self.iterations = iterations
        }
    }

    /// The fitted values at indices 0..<values.count. Non-finite samples get zero weight.
    /// - Precondition: `degree >= 0`.
    public static func fit(_ values: [Double], degree: Int, rejection: Rejection? = nil) -> [Double] {
        precondition(degree >= 0)
        let n = values.count
        guard n > 0 else { return [] }
        var use = values.map(\.isFinite)
        var fitted = solve(values, use: use, degree: degree)
        guard let rejection, rejection.iterations > 0 else { return fitted }
        for _ in 0..<rejection.iterations {
            var sum2 = 0.0, k = 0
            for i in 0..<n where use[i] { let r = values[i] - fitted[i]; sum2 += r * r; k += 1 }
            guard k > degree + 1 else { break }
            let sigma = (sum2 / Double(k)).squareRoot()
            var changed = false
            for i in 0..<n where use[i] {
                let r = values[i] - fitted[i]
                if r < -rejection.low * sigma || r > rejection.high * sigma { use[i] = false; changed = true }
            }
            if !changed { break }
            fitted = solve(values, use: use, degree: degree)
        }
        return fitted
    }

    /// Householder QR least squares on the used samples; evaluates the fit at every index.
    private static func solve(_ values: [Double], use: [Bool], degree: Int) -> [Double] {
        let n = values.count
        let rows = (0..<n).filter { use[$0] }
        let m = rows.count
        let p = min(degree + 1, m)
        guard p > 0 else { return [Double](repeating: .nan, count: n) }
        let scale = n > 1 ? 2.0 / Double(n - 1) : 0
        func basis(_ i: Int) -> [Double] {
            let t = Double(i) * scale - (n > 1 ? 1 : 0)
            var b = [Double](repeating: 0, count: p)
            b[0] = 1
            if p > 1 { b[1] = t }
            if p > 2 { for j in 2..<p { b[j] = 2 * t * b[j - 1] - b[j - 2] } }
            return b
        }
        // Column-major design matrix a[j*m + r].
        var a = [Double](repeating: 0, count: m * p)
        var y = rows.map { values[$0] }
        for (r, i) in rows.enumerated() {
            let b = basis(i)
            for j in 0..<p { a[j * m + r] = b[j] }
        }
        for j in 0..<p {
            var norm = 0.0
            for r in j..<m { norm += a[j * m + r] * a[j * m + r] }
            norm = norm.squareRoot()
            if norm == 0 { continue }
            let alpha = a[j * m + j] > 0 ? -norm : norm
            a[j * m + j] -= alpha
            var vnorm2 = 0.0
            for r in j..<m { vnorm2 += a[j * m + r] * a[j * m + r] }
            if vnorm2 == 0 { a[j * m + j] = alpha; continue }
            // Reflect the remaining columns and y.
            for k in (j + 1)..<p {
                var dot = 0.0
                for r in j..<m { dot += a[j * m + r] * a[k * m + r] }
                let f = 2 * dot / vnorm2
                for r in j..<m { a[k * m + r] -= f * a[j * m + r] }
            }
            var dot = 0.0
            for r in j..<m { dot += a[j * m + r] * y[r] }
            let f = 2 * dot / vnorm2
            for r in j..<m { y[r] -= f * a[j * m + r] }
            // Store R's diagonal in place of the reflector's head; the reflector is no longer needed.
            for r in (j + 1)..<m { a[j * m + r] = 0 }
            a[j * m + j] = alpha
        }
        var c = [Double](repeating: 0, count: p)
        for j in stride(from: p - 1, through: 0, by: -1) {
            var s = y[j]
            for k in (j + 1)..<p { s -= a[k * m + j] * c[k] }
            let d = a[j * m + j]
            c[j] = d == 0 ? 0 : s / d
        }
        return (0..<n).map { i in zip(basis(i), c).reduce(0) { $0 + $1.0 * $1.1 } }
    }
}
