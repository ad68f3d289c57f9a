/// How filters see past an image's edge: scipy.ndimage's modes.
public enum Boundary: Sendable, Equatable {
    /// d c b a | a b c d | d c b a (scipy's default for median_filter)
    case reflect
    /// d c b | a b c d | c b a
    case mirror
    /// a a a | a b c d | d d d
    case nearest
    /// b c d | a b c d | a b c
    case wrap
    /// k k k | a b c d | k k k
    case constant(Float)

    public static func parse(_ text: String, cval: Float = 0) -> Boundary? {
        switch text {
        case "reflect": return .reflect
        case "mirror": return .mirror
        case "nearest": return .nearest
        case "wrap": return .wrap
        case "constant": return .constant(cval)
        default: return nil
        }
    }

    /// The source index for i on an axis of n, or nil for the constant.
    func index(_ i: Int, _ n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch self {
        case .constant: return nil
        case .nearest: return i < 0 ? 0 : n - 1
        case .wrap: return ((i % n) + n) % n
        case .reflect:
            var j = i
            while j < 0 || j >= n { j = j < 0 ? -j - 1 : 2 * n - j - 1 }
            return j
        case .mirror:
            guard n > 1 else { return 0 }
            let period = 2 * (n - 1)
            let j = ((i % period) + period) % period
            return j < n ? j : period - j
        }
    }

    /// The image with the given margins filled by this rule.
    func pad<T>(_ src: Plane<T>, top: Int, left: Int, bottom: Int, right: Int, constant: T? = nil) -> Plane<T> {
        let w = src.width, h = src.height
        let pw = w + left + right, ph = h + top + bottom
        let out = Plane<T>(width: pw, height: ph, repeating: src.base[0])
        let fill: T? = { if case .constant(let k) = self { return constant ?? (k as? T) }; return nil }()
        for y in 0..<ph {
            let sy = index(y - top, h)
            for x in 0..<pw {
                if let sy, let sx = index(x - left, w) { out.base[y * pw + x] = src.base[sy * w + sx] }
                else if let fill { out.base[y * pw + x] = fill }
            }
        }
        return out
    }
}
