import Foundation

/// The PSF L.A.Cosmic's `convolve` fine-structure mode filters with: astroscrappy's models on
/// a psfsize×psfsize grid centred on its middle pixel, normalised to unit sum in float32.
struct PSFKernel: Sendable {
    let size: Int
    /// Row-major weights, [row][column].
    let weights: [Float]

    static func make(_ o: LACosmicOptions) -> PSFKernel {
        let n = o.psfsize, c = Double(n / 2)
        let fwhm = Double(o.psffwhm), sigma2 = fwhm * fwhm / 2.35482 / 2.35482
        let beta = Double(o.psfbeta)
        let alpha = fwhm / 2 / (pow(2, 1 / beta) - 1).squareRoot()
        var w = [Float](repeating: 0, count: n * n)
        for row in 0..<n {
            for col in 0..<n {
                let x = Double(col) - c, y = Double(row) - c
                let value: Double
                switch o.psfmodel {
                case .gauss: value = exp(-0.5 * (x * x + y * y) / sigma2)
                case .gaussx: value = exp(-0.5 * x * x / sigma2)
                case .gaussy: value = exp(-0.5 * y * y / sigma2)
                case .moffat:
                    let r = (x * x + y * y).squareRoot()
                    value = pow(1 + r * r / alpha / alpha, -beta)
                }
                w[row * n + col] = Float(value)
            }
        }
        let total = pairwiseSum(w)
        return PSFKernel(size: n, weights: w.map { $0 / total })
    }

    /// numpy's float32 sum of up to 128 values: eight interleaved partial sums, combined in a
    /// tree, then the remainder.
    static func pairwiseSum(_ v: [Float]) -> Float {
        guard v.count >= 8 else { return v.reduce(0, +) }
        var r = Array(v[0..<8])
        var i = 8
        while i + 8 <= v.count {
            for j in 0..<8 { r[j] += v[i + j] }
            i += 8
        }
        var total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < v.count { total += v[i]; i += 1 }
        return total
    }

    /// Σ weight[b+l][b+k] · image[y+l][x+k] over the kernel, zero outside the image, summed in
    /// float32 row by row as astroscrappy does (a correlation with the PSF).
    func correlate(_ image: Plane<Float>) -> Plane<Float> {
        let w = image.width, h = image.height, b = size / 2, n = size
        let out = Plane<Float>(width: w, height: h, repeating: 0)
        let weights = self.weights
        image.forEachRowBlock { rows in
            for y in rows {
                for x in 0..<w {
                    var sum: Float = 0
                    for l in -b...b {
                        let yy = y + l
                        for k in -b...b {
                            let xx = x + k
                            let v: Float = yy >= 0 && yy < h && xx >= 0 && xx < w ? image.base[yy * w + xx] : 0
                            sum += weights[(b + l) * n + b + k] * v
                        }
                    }
                    out.base[y * w + x] = sum
                }
            }
        }
        return out
    }
}
