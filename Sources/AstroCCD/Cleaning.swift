import AstroImage

/// Replaces the pixels L.A.Cosmic flagged, from their 5×5 box, as astroscrappy does (float32
/// sums in row order). Pixels within 2 of the border are left alone.
enum Cleaning {
    /// 1/distance from the box centre (the centre itself weighs nothing), rounded to eight
    /// digits as astroscrappy's table is, then to float32.
    static let idwWeights: [Float] = {
        let byDistance2: [Int: Double] = [1: 1, 2: 0.70710678, 4: 0.5, 5: 0.4472136, 8: 0.35355339]
        var w = [Float](repeating: 0, count: 25)
        for l in -2...2 {
            for k in -2...2 where l != 0 || k != 0 { w[(l + 2) * 5 + k + 2] = Float(byDistance2[l * l + k * k]!) }
        }
        return w
    }()

    static func clean(_ p: Plane<Float>, crmask: Plane<UInt8>, mask: Plane<UInt8>,
                      type: LACosmicOptions.CleanType, fallback: Float) {
        let w = p.width, h = p.height
        guard w > 4, h > 4 else { return }
        // The unmasked median reads flagged neighbours, so it reads them from before cleaning.
        let source = type == .median ? Plane(width: w, height: h, copying: UnsafeBufferPointer(start: p.base, count: p.count)) : p
        let weights = idwWeights
        Parallel.forEachBlock(count: h - 4, minBlock: 16) { block in
            var values = [Float](repeating: 0, count: 25)
            for y in (block.lowerBound + 2)..<(block.upperBound + 2) {
                crmask.forEachSet(row: y, columns: 2..<(w - 2)) { x in
                    var n = 0
                    var sum: Float = 0, wsum: Float = 0
                    for l in -2...2 {
                        for k in -2...2 {
                            let i = (y + l) * w + x + k
                            let v = source.base[i]
                            if type == .median { values[n] = v; n += 1; continue }
                            guard crmask.base[i] == 0 && mask.base[i] == 0 else { continue }
                            switch type {
                            case .meanmask: sum = sum + v
                            case .medmask: values[n] = v
                            case .idw:
                                let weight = weights[(l + 2) * 5 + k + 2]
                                sum = sum + weight * v
                                wsum = wsum + weight
                            case .median: break
                            }
                            n += 1
                        }
                    }
                    let value: Float
                    switch type {
                    case .meanmask: value = n == 0 ? fallback : sum / Float(n)
                    case .medmask, .median:
                        if n == 0 { value = fallback } else {
                            values[0..<n].sort()
                            value = values[(n - 1) / 2]
                        }
                    case .idw: value = wsum < 1e-6 ? fallback : sum / wsum
                    }
                    p.base[y * w + x] = value
                }
            }
        }
    }
}
