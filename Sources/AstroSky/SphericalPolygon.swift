import Foundation

/// A point on the unit sphere, or any 3-vector of the geometry.
struct Vec3: Sendable, Equatable {
    var x: Double, y: Double, z: Double

    /// The unit vector of (RA, Dec) in degrees.
    init(ra: Double, dec: Double) {
        let a = ra * .pi / 180, d = dec * .pi / 180
        x = cos(d) * cos(a); y = cos(d) * sin(a); z = sin(d)
    }

    init(x: Double, y: Double, z: Double) { self.x = x; self.y = y; self.z = z }

    static func + (a: Vec3, b: Vec3) -> Vec3 { Vec3(x: a.x + b.x, y: a.y + b.y, z: a.z + b.z) }
    static func * (s: Double, a: Vec3) -> Vec3 { Vec3(x: s * a.x, y: s * a.y, z: s * a.z) }
    func dot(_ b: Vec3) -> Double { x * b.x + y * b.y + z * b.z }
    func cross(_ b: Vec3) -> Vec3 { Vec3(x: y * b.z - z * b.y, y: z * b.x - x * b.z, z: x * b.y - y * b.x) }
    var length: Double { dot(self).squareRoot() }
    var normalized: Vec3 { (1 / length) * self }

    /// (RA, Dec) in degrees, RA in [0, 360).
    var radec: (ra: Double, dec: Double) {
        var ra = atan2(y, x) * 180 / .pi
        if ra < 0 { ra += 360 }
        return (ra, asin(max(-1, min(1, z))) * 180 / .pi)
    }

    /// The angle to `b` in radians (atan2 form: accurate for tiny and large angles alike).
    func angle(to b: Vec3) -> Double { atan2(cross(b).length, dot(b)) }
}

/// A chip's outline on the sky: vertices joined by great-circle arcs (docs/skymatch.md §2).
///
/// Geometry is done in a gnomonic plane tangent near the polygons, where great circles are
/// straight lines, so planar clipping there is exactly spherical clipping (§2.2). That needs
/// every vertex well inside the tangent hemisphere, hence the size limit of ``maxRadius``.
public struct SphericalPolygon: Sendable {
    /// The outline, in order, not closed (the first vertex is not repeated).
    let vertices: [Vec3]
    /// Normalised mean of the vertices: the tangent point for this polygon's own plane.
    let centre: Vec3
    /// Largest angle (radians) from `centre` to a vertex: a cap that holds the polygon.
    let radius: Double

    /// Outlines larger than this (radians from their centre) are refused: per-pair tangent
    /// planes then stay within 60° of every vertex, where the projection is well conditioned.
    static let maxRadius = 30 * Double.pi / 180

    /// The polygon through (RA, Dec) points in degrees; nil when fewer than 3 points are given
    /// or one is not finite.
    public init?(ra: [Double], dec: [Double]) {
        guard ra.count == dec.count, ra.count >= 3, !ra.contains(where: { !$0.isFinite }),
              !dec.contains(where: { !$0.isFinite }) else { return nil }
        self.init(zip(ra, dec).map { Vec3(ra: $0.0, dec: $0.1) })
    }

    init?(_ vertices: [Vec3]) {
        guard vertices.count >= 3 else { return nil }
        let sum = vertices.dropFirst().reduce(vertices[0], +)
        guard sum.length > 1e-12 else { return nil }
        self.vertices = vertices
        let c = sum.normalized
        centre = c
        radius = vertices.map { c.angle(to: $0) }.max()!
    }

    /// The vertices as (RA, Dec) in degrees.
    public var radec: [(ra: Double, dec: Double)] { vertices.map(\.radec) }

    /// Solid angle in steradians: a fan of triangles from the centre (Van Oosterom–Strackee),
    /// exact for outlines that are star-shaped about their centre, as chips and their overlaps are.
    public var area: Double {
        var total = 0.0
        for k in vertices.indices {
            let a = centre, b = vertices[k], c = vertices[(k + 1) % vertices.count]
            let triple = a.dot(b.cross(c))
            total += 2 * atan2(triple, 1 + a.dot(b) + b.dot(c) + c.dot(a))
        }
        return abs(total)
    }

    /// The common part of two outlines, or nil when they do not overlap (or only along a line).
    ///
    /// Sutherland–Hodgman in the plane tangent at the mean of the two centres, clipping this
    /// outline by the convex hull of `other`. A chip bent concave by distortion is thus clipped
    /// by slightly more than its outline; callers that select pixels test each pixel exactly
    /// and use this polygon only to bound the search. Identical outlines come back whole.
    public func intersection(_ other: SphericalPolygon) -> SphericalPolygon? {
        guard centre.angle(to: other.centre) < radius + other.radius else { return nil }
        let plane = TangentPlane(at: centre + other.centre)
        let subject = vertices.map(plane.project)
        let clip = Planar.convexHull(other.vertices.map(plane.project))
        let cut = Planar.clip(subject, by: clip)
        guard cut.count >= 3, abs(Planar.signedArea(cut)) > 1e-18 else { return nil }
        return SphericalPolygon(cut.map(plane.unproject))
    }
}

/// The gnomonic projection about a tangent point: every great circle becomes a straight line.
struct TangentPlane {
    let t: Vec3, e1: Vec3, e2: Vec3

    init(at point: Vec3) {
        t = point.normalized
        // Any axis not parallel to t gives the plane's basis.
        let axis = abs(t.z) < 0.9 ? Vec3(x: 0, y: 0, z: 1) : Vec3(x: 1, y: 0, z: 0)
        e1 = axis.cross(t).normalized
        e2 = t.cross(e1)
    }

    /// Plane coordinates of a point in the tangent hemisphere (callers keep points within 60°).
    func project(_ p: Vec3) -> SIMD2<Double> {
        let d = p.dot(t)
        return SIMD2(p.dot(e1) / d, p.dot(e2) / d)
    }

    func unproject(_ q: SIMD2<Double>) -> Vec3 { (t + q.x * e1 + q.y * e2).normalized }
}

/// Plane polygon helpers for the tangent-plane geometry.
enum Planar {
    static func cross(_ o: SIMD2<Double>, _ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
        (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
    }

    /// Shoelace area, positive for counter-clockwise order.
    static func signedArea(_ p: [SIMD2<Double>]) -> Double {
        var s = 0.0
        for k in p.indices {
            let a = p[k], b = p[(k + 1) % p.count]
            s += a.x * b.y - a.y * b.x
        }
        return s / 2
    }

    /// Counter-clockwise convex hull (Andrew's monotone chain), collinear points dropped.
    static func convexHull(_ points: [SIMD2<Double>]) -> [SIMD2<Double>] {
        let p = points.sorted { $0.x != $1.x ? $0.x < $1.x : $0.y < $1.y }
        guard p.count >= 3 else { return p }
        var lower: [SIMD2<Double>] = [], upper: [SIMD2<Double>] = []
        for q in p {
            while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], q) <= 0 { lower.removeLast() }
            lower.append(q)
        }
        for q in p.reversed() {
            while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], q) <= 0 { upper.removeLast() }
            upper.append(q)
        }
        return Array(lower.dropLast() + upper.dropLast())
    }

    /// Sutherland–Hodgman: the part of `subject` inside the convex counter-clockwise `clip`.
    /// Points on a clip edge count as inside, so coincident edges (identical chips) survive;
    /// vertices closer than 1e-12 (about 0.2 µas) are merged.
    static func clip(_ subject: [SIMD2<Double>], by clip: [SIMD2<Double>]) -> [SIMD2<Double>] {
        guard clip.count >= 3 else { return [] }
        var output = signedArea(subject) < 0 ? subject.reversed() : subject
        let scale = clip.map { max(abs($0.x), abs($0.y)) }.max()! + 1e-300
        for k in clip.indices {
            guard !output.isEmpty else { return [] }
            let a = clip[k], b = clip[(k + 1) % clip.count]
            let input = output
            output = []
            // Distances to the edge's line, relative, with a tolerance so round-off on an edge is inside.
            let tol = 1e-13 * scale * scale
            func side(_ p: SIMD2<Double>) -> Double { cross(a, b, p) }
            for i in input.indices {
                let p = input[i], q = input[(i + 1) % input.count]
                let sp = side(p), sq = side(q)
                let pIn = sp >= -tol, qIn = sq >= -tol
                if pIn { output.append(p) }
                if pIn != qIn {
                    let f = sp / (sp - sq)
                    output.append(p + f * (q - p))
                }
            }
        }
        var merged: [SIMD2<Double>] = []
        for p in output where merged.last.map({ distance($0, p) > 1e-12 }) ?? true { merged.append(p) }
        while merged.count > 1 && distance(merged[0], merged[merged.count - 1]) <= 1e-12 { merged.removeLast() }
        return merged
    }

    private static func distance(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
        let d = a - b
        return (d.x * d.x + d.y * d.y).squareRoot()
    }
}
