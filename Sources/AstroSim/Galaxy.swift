import AstroImage
import AstroWCS
import Foundation

/// A large elliptical Sersic galaxy, defined on the sky so every exposure sees the same
/// object: I(r) = Iₑ·exp(−bₙ((r/rₑ)^{1/n} − 1)) in ADU/arcsec², r the elliptical radius in the
/// galaxy's own tangent plane. n = 1 is an exponential disc, n = 4 de Vaucouleurs.
///
/// It is meant to cover a good part of the field (rₑ = ¼ of the chip), the case that defeats
/// sky estimators which take the image median for the sky. It is not convolved with the
/// seeing: its scale is far larger than the PSF.
struct SersicGalaxy: Sendable {
    let ra: Double, dec: Double
    /// Effective (half-light) radius along the major axis, arcsec.
    let re: Double
    let n: Double
    /// Minor/major axis ratio.
    let axisRatio: Double
    /// Position angle of the major axis, degrees east of north.
    let pa: Double
    /// Surface brightness at rₑ, ADU/arcsec².
    let ie: Double
    let b: Double
    private let plane: TangentPlane
    private let sinPA: Double, cosPA: Double

    init(ra: Double, dec: Double, re: Double, n: Double, axisRatio: Double, pa: Double, ie: Double) {
        self.ra = ra
        self.dec = dec
        self.re = re
        self.n = n
        self.axisRatio = axisRatio
        self.pa = pa
        self.ie = ie
        b = SersicGalaxy.bn(n)
        plane = TangentPlane(ra: ra, dec: dec)
        sinPA = sin(pa * .pi / 180)
        cosPA = cos(pa * .pi / 180)
    }

    /// bₙ such that rₑ encloses half the light (Ciotti & Bertin 1999 asymptotic series).
    static func bn(_ n: Double) -> Double {
        2 * n - 1.0 / 3 + 4 / (405 * n) + 46 / (25515 * n * n) + 131 / (1_148_175 * n * n * n)
            - 2_194_697 / (30_690_717_750 * n * n * n * n)
    }

    /// The galaxy of a night: centred within 5 % of the field size of the field centre,
    /// rₑ = ¼ of the smaller chip side, axis ratio 0.6–0.85, random PA; Iₑ set so that the
    /// surface brightness one FWHM from the centre is `peak` ADU per nominal pixel.
    static func make(options o: NightOptions, plane field: TangentPlane) -> SersicGalaxy {
        var rng = SimRandom(o.seed, Stream.galaxy.rawValue)
        let size = Double(min(o.nx, o.ny)) * o.pixelScale
        let centre = field.deproject(xi: rng.uniform(-0.05, 0.05) * size, eta: rng.uniform(-0.05, 0.05) * size)
        let q = rng.uniform(0.6, 0.85)
        let pa = rng.uniform(0, 180)
        let re = size / 4
        let bn = bn(o.galaxyN)
        let rPeak = o.fwhm * o.pixelScale
        let sbPeak = o.effectiveGalaxyPeak / (o.pixelScale * o.pixelScale)
        let ie = sbPeak / DetMath.exp(-bn * (DetMath.pow(rPeak / re, 1 / o.galaxyN) - 1))
        return SersicGalaxy(ra: centre.ra, dec: centre.dec, re: re, n: o.galaxyN, axisRatio: q, pa: pa, ie: ie)
    }

    /// Total flux to infinity, ADU: 2π q rₑ² Iₑ n e^{bₙ} bₙ^{−2n} Γ(2n).
    var totalFlux: Double {
        2 * Double.pi * axisRatio * re * re * ie * n * Foundation.exp(b) / Foundation.pow(b, 2 * n) * tgamma(2 * n)
    }

    /// Surface brightness (ADU/arcsec²) at offsets (ξ, η) arcsec from the centre.
    @inline(__always)
    func surfaceBrightness(xi: Double, eta: Double) -> Double {
        let major = xi * sinPA + eta * cosPA
        let minor = (-xi * cosPA + eta * sinPA) / axisRatio
        let r = (major * major + minor * minor).squareRoot()
        if r == 0 { return ie * DetMath.exp(b) }
        let x = r / re
        // (r/rₑ)^{1/n}: exact square roots for the common indices, exp/log otherwise.
        let root: Double = switch n {
        case 1: x
        case 2: x.squareRoot()
        case 4: x.squareRoot().squareRoot()
        default: DetMath.exp(DetMath.log(x) / n)
        }
        return ie * DetMath.exp(-b * (root - 1))
    }

    /// Surface brightness (ADU/arcsec²) at a point of the sky.
    func surfaceBrightness(ra: Double, dec: Double) -> Double {
        let p = plane.project(ra: ra, dec: dec)
        return surfaceBrightness(xi: p.xi, eta: p.eta)
    }

    /// Adds the galaxy to `image` (row-major `width × height`, on `wcs`'s pixel grid) and
    /// returns the flux added, ADU.
    ///
    /// Pixel → sky goes through the WCS (distortions included) on a coarse grid of nodes every
    /// 8 pixels (and at the last row and column); inside each cell (ξ, η) is bilinear, which
    /// for these smooth mappings is exact to ~10⁻⁵ px. Each pixel gets surface brightness ×
    /// its own area (from the bilinear Jacobian); pixels within a few pixels of the centre
    /// are integrated on a fine sub-grid, since the profile is cuspy there for large n.
    @discardableResult
    func render(into image: inout [Float], width: Int, height: Int, wcs: WCS) -> Double {
        precondition(image.count == width * height && width >= 2 && height >= 2)
        let step = 8
        func nodes(_ n: Int) -> [Int] {
            var v = Array(stride(from: 0, to: n - 1, by: step))
            v.append(n - 1)
            return v
        }
        let xn = nodes(width), yn = nodes(height)
        var px: [Double] = [], py: [Double] = []
        px.reserveCapacity(xn.count * yn.count)
        py.reserveCapacity(xn.count * yn.count)
        for y in yn { for x in xn { px.append(Double(x)); py.append(Double(y)) } }
        let world = wcs.pixelToWorld(x: px, y: py)
        let projected = (0..<px.count).map { plane.project(ra: world.ra[$0], dec: world.dec[$0]) }
        let nxi = projected.map(\.xi), neta = projected.map(\.eta)
        let centre = wcs.worldToPixel(ra: ra, dec: dec)
        let cx = centre?.x ?? .nan, cy = centre?.y ?? .nan
        // Sub-grid integration radius and density: wider and finer for cuspier profiles.
        let subRadius = n >= 2 ? 6.0 : 3.0
        let sub = n >= 2 ? 15 : 7
        let ncol = xn.count
        let cellOf = { (v: Int, grid: [Int]) -> Int in min(v / step, grid.count - 2) }
        let xCell = (0..<width).map { cellOf($0, xn) }
        let yCell = (0..<height).map { cellOf($0, yn) }

        var rowSums = [Double](repeating: 0, count: height)
        let galaxy = self
        image.withUnsafeMutableBufferPointer { imgBuf in
            rowSums.withUnsafeMutableBufferPointer { sumBuf in
                let out = SendableMutableBuffer(imgBuf), sums = SendableMutableBuffer(sumBuf)
                Parallel.forEachBlock(count: height, minBlock: 16) { rows in
                    for y in rows {
                        let j = yCell[y]
                        let y0 = Double(yn[j]), hy = Double(yn[j + 1] - yn[j])
                        var rowSum = 0.0
                        for x in 0..<width {
                            let i = xCell[x]
                            let x0 = Double(xn[i]), hx = Double(xn[i + 1] - xn[i])
                            let k00 = j * ncol + i
                            // Bilinear (ξ, η) at any point (sx, sy) of this cell, and its Jacobian.
                            let a00 = nxi[k00], a10 = nxi[k00 + 1], a01 = nxi[k00 + ncol], a11 = nxi[k00 + ncol + 1]
                            let e00 = neta[k00], e10 = neta[k00 + 1], e01 = neta[k00 + ncol], e11 = neta[k00 + ncol + 1]
                            @inline(__always) func at(_ sx: Double, _ sy: Double) -> (Double, Double) {
                                let tx = (sx - x0) / hx, ty = (sy - y0) / hy
                                let xi = (a00 * (1 - tx) + a10 * tx) * (1 - ty) + (a01 * (1 - tx) + a11 * tx) * ty
                                let eta = (e00 * (1 - tx) + e10 * tx) * (1 - ty) + (e01 * (1 - tx) + e11 * tx) * ty
                                return (xi, eta)
                            }
                            let tx = (Double(x) - x0) / hx, ty = (Double(y) - y0) / hy
                            let dxiDx = ((a10 - a00) * (1 - ty) + (a11 - a01) * ty) / hx
                            let detaDx = ((e10 - e00) * (1 - ty) + (e11 - e01) * ty) / hx
                            let dxiDy = ((a01 - a00) * (1 - tx) + (a11 - a10) * tx) / hy
                            let detaDy = ((e01 - e00) * (1 - tx) + (e11 - e10) * tx) / hy
                            let area = abs(dxiDx * detaDy - dxiDy * detaDx)
                            let ddx = Double(x) - cx, ddy = Double(y) - cy
                            var sb: Double
                            if ddx * ddx + ddy * ddy < subRadius * subRadius {
                                sb = 0
                                for b in 0..<sub {
                                    let sy = Double(y) + (Double(b) + 0.5) / Double(sub) - 0.5
                                    for a in 0..<sub {
                                        let sx = Double(x) + (Double(a) + 0.5) / Double(sub) - 0.5
                                        let p = at(sx, sy)
                                        sb += galaxy.surfaceBrightness(xi: p.0, eta: p.1)
                                    }
                                }
                                sb /= Double(sub * sub)
                            } else {
                                let p = at(Double(x), Double(y))
                                sb = galaxy.surfaceBrightness(xi: p.0, eta: p.1)
                            }
                            let v = sb * area
                            if v.isFinite {
                                let f = Float(v)
                                out[y * width + x] += f
                                rowSum += Double(f)
                            }
                        }
                        sums[y] = rowSum
                    }
                }
            }
        }
        return rowSums.reduce(0, +)
    }
}
