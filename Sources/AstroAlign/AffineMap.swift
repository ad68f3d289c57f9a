import Foundation

/// x' = a·x + b·y + c, y' = d·x + e·y + f on 0-based pixel coordinates. Shift, similarity
/// (with either parity) and general affine models are all stored this way.
public struct AffineMap: Sendable, Equatable, Codable {
    public var a: Double, b: Double, c: Double
    public var d: Double, e: Double, f: Double

    public init(a: Double, b: Double, c: Double, d: Double, e: Double, f: Double) {
        self.a = a; self.b = b; self.c = c
        self.d = d; self.e = e; self.f = f
    }

    public static let identity = AffineMap(a: 1, b: 0, c: 0, d: 0, e: 1, f: 0)

    /// Scale `s`, counter-clockwise rotation `degrees` (x towards y), an optional mirror of x
    /// applied first, then a shift.
    public static func similarity(scale s: Double, rotation degrees: Double, flip: Bool = false,
                                  shiftX: Double = 0, shiftY: Double = 0) -> AffineMap {
        let t = degrees * .pi / 180, m = flip ? -1.0 : 1.0
        return AffineMap(a: s * cos(t) * m, b: -s * sin(t), c: shiftX, d: s * sin(t) * m, e: s * cos(t), f: shiftY)
    }

    @inline(__always)
    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        (a * x + b * y + c, d * x + e * y + f)
    }

    public var determinant: Double { a * e - b * d }

    /// The inverse map; nil when the linear part is singular.
    public var inverse: AffineMap? {
        let det = determinant
        guard det.isFinite, abs(det) > 1e-300 else { return nil }
        let ia = e / det, ib = -b / det, id = -d / det, ie = a / det
        return AffineMap(a: ia, b: ib, c: -(ia * c + ib * f), d: id, e: ie, f: -(id * c + ie * f))
    }

    /// `self` after `first`: x ↦ self(first(x)).
    public func composed(after first: AffineMap) -> AffineMap {
        AffineMap(a: a * first.a + b * first.d, b: a * first.b + b * first.e, c: a * first.c + b * first.f + c,
                        d: d * first.a + e * first.d, e: d * first.b + e * first.e, f: d * first.c + e * first.f + f)
    }

    /// The linear part read as mirror-then-scale-rotate-shear: scales along x and y, rotation
    /// of the x axis in degrees (counter-clockwise, x towards y), shear in degrees, and parity
    /// −1 when it mirrors.
    public var decomposition: (scaleX: Double, scaleY: Double, rotation: Double, shear: Double, parity: Int) {
        let parity = determinant < 0 ? -1 : 1
        // Undo the mirror of x, then split M = R(θ)·[[sx, k],[0, sy]] (QR).
        let ma = a * Double(parity), md = d * Double(parity)
        let sx = (ma * ma + md * md).squareRoot()
        let theta = atan2(md, ma)
        let k = (ma * b + md * e) / max(sx, 1e-300)
        let sy = (ma * e - md * b) / max(sx, 1e-300)
        return (sx, sy, theta * 180 / .pi, atan2(k, sy) * 180 / .pi, parity)
    }
}
