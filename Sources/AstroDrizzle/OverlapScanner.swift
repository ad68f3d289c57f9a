/// Which input pixels a drizzle visits, as the C core decides it (cdrizzlemap.c): the input box,
/// shrunk to the pixmap entries that are not NaN, is mapped onto the output, clipped to the
/// output's window, mapped back by inverting the pixmap, and each input row is then scanned
/// between the left and right sides of that polygon. The sides are moved inward by half a pixel
/// (more where they slope), widened by the 0.03-pixel tolerance and rounded to whole pixels, so
/// roughly the pixels centred inside the polygon are offered to the kernel: a pixel whose drop
/// only grazes the output's edge is left out, as in the C core.
///
/// Built once per input and output, before any kernel runs; per row it holds the inclusive
/// column range to visit, so the hot loop pays nothing per pixel.
struct OverlapScanner: Sendable {
    /// An inclusive box of input pixels.
    struct Box: Equatable, Sendable {
        var xmin: Int, xmax: Int, ymin: Int, ymax: Int
    }

    struct Vertex: Equatable, Sendable {
        var x: Double, y: Double
        init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
        static func - (a: Vertex, b: Vertex) -> Vertex { Vertex(a.x - b.x, a.y - b.y) }
    }

    /// How far (input pixels) an inverted vertex may be off; also the scan's tolerance.
    static let tolerance = 0.03
    /// Vertices closer than this in both coordinates are one.
    static let vertexTolerance = 1e-12
    /// A cross product below this is zero (collinear vertices).
    static let approxZero = 1e3 * Double.leastNormalMagnitude
    /// The most vertices a clipped polygon keeps (twice a quadrilateral's).
    static let capacity = 8

    /// The input box scanned: the whole input shrunk to its pixmap entries that are not NaN.
    let box: Box
    /// Input row j visits columns first[j]...last[j] (none when first[j] > last[j]).
    let first: [Int32]
    let last: [Int32]
    /// The rows that visit at least one column.
    let rows: Range<Int>
    /// Rows of the box the scan leaves out entirely (the C core's nskip).
    let skippedRows: Int
    /// False when mapping the box to the output or back failed: the C core then scans the
    /// polygon it had at that point (the box, in part or whole).
    let overlapValid: Bool

    /// The columns to visit on input row j (half-open; empty for none).
    @inline(__always)
    func columns(_ j: Int) -> Range<Int> {
        let a = Int(first[j]), b = Int(last[j])
        return a <= b ? a..<(b + 1) : 0..<0
    }

    /// The scanner for `map` drizzled onto an output whose columns are `outputColumns` and rows
    /// `outputRows` (normally 0..<width and 0..<height; a band or tile of a larger grid passes
    /// the whole grid's, so it scans exactly what the whole grid would). nil when nothing is to be drizzled: too few pixmap entries (the
    /// C core refuses those), or no overlap with the output.
    init?(_ map: Pixmap, outputColumns: Range<Int>, outputRows: Range<Int>) {
        let found: (Box, [Int32], [Int32], Range<Int>, Int, Bool)? = map.x.withUnsafeBufferPointer { xs in
            map.y.withUnsafeBufferPointer { ys in
                let m = MapView(x: xs, y: ys, width: map.width, height: map.height)
                return Self.scan(m, outputColumns: outputColumns, outputRows: outputRows)
            }
        }
        guard let found else { return nil }
        (box, first, last, rows, skippedRows, overlapValid) = found
    }

    /// The pixmap as the scanner reads it.
    struct MapView {
        let x: UnsafeBufferPointer<Double>
        let y: UnsafeBufferPointer<Double>
        let width: Int
        let height: Int

        /// Neither coordinate is NaN (the C core's test; infinities count as valid).
        @inline(__always)
        func valid(_ i: Int, _ j: Int) -> Bool { !(x[j * width + i].isNaN || y[j * width + i].isNaN) }

        /// Bilinear interpolation at input position (u, v), extrapolating past the first and
        /// last centres (cell index truncated toward zero, then clamped to the last cell), in
        /// the C core's order of operations; nil when the result is NaN.
        func interpolate(_ u: Double, _ v: Double) -> Vertex? {
            guard u.isFinite, v.isFinite, abs(u) < 2e9, abs(v) < 2e9, width >= 2, height >= 2 else { return nil }
            let i0 = min(max(Int(u), 0), width - 2), j0 = min(max(Int(v), 0), height - 2)
            let fx = u - Double(i0), fy = v - Double(j0), gx = 1 - fx, gy = 1 - fy
            let k = j0 * width + i0, up = k + width
            let ox = x[k] * gx * gy + x[k + 1] * fx * gy + x[up] * gx * fy + x[up + 1] * fx * fy
            let oy = y[k] * gx * gy + y[k + 1] * fx * gy + y[up] * gx * fy + y[up + 1] * fx * fy
            return ox.isNaN || oy.isNaN ? nil : Vertex(ox, oy)
        }

        /// A point of the input on the output: the pixmap entry itself at a pixel centre of the
        /// box (nil outside it or when NaN), interpolated elsewhere.
        func toOutput(_ p: Vertex, box: Box) -> Vertex? {
            guard p.x.isFinite, p.y.isFinite, abs(p.x) < 2e9, abs(p.y) < 2e9 else { return nil }
            let i = Int(p.x), j = Int(p.y)
            guard Double(i) == p.x && Double(j) == p.y else { return interpolate(p.x, p.y) }
            guard i >= box.xmin, i <= box.xmax, j >= box.ymin, j <= box.ymax, valid(i, j) else { return nil }
            return Vertex(x[j * width + i], y[j * width + i])
        }

        /// The input point that interpolates to output point `target`: a golden-section search
        /// over the box in both coordinates at once, down to a bracket of `tolerance` pixels;
        /// nil when an interpolation is NaN or 50 rounds do not get there.
        func toInput(_ target: Vertex, box: Box) -> Vertex? {
            let ratio = 0.6180339887498948482
            var xlo = Double(box.xmin) - 0.5, xhi = Double(box.xmax) + 0.5
            var ylo = Double(box.ymin) - 0.5, yhi = Double(box.ymax) + 0.5
            var dx = xhi - xlo, dy = yhi - ylo
            var rounds = 0
            func distance(_ u: Double, _ v: Double) -> Double? {
                guard let p = interpolate(u, v) else { return nil }
                let ex = p.x - target.x, ey = p.y - target.y
                return ex * ex + ey * ey
            }
            while (dx > OverlapScanner.tolerance || dy > OverlapScanner.tolerance) && rounds < 50 {
                rounds += 1
                let x1 = xhi - ratio * dx, x2 = xlo + ratio * dx
                let y1 = yhi - ratio * dy, y2 = ylo + ratio * dy
                guard let d11 = distance(x1, y1), let d12 = distance(x1, y2), let d21 = distance(x2, y1),
                      let d22 = distance(x2, y2) else { return nil }
                // Keep the sub-bracket around the strictly smallest of the four; the last one on ties.
                if d11 < d12 && d11 < d21 && d11 < d22 {
                    xhi = x2; yhi = y2
                } else if d12 < d11 && d12 < d21 && d12 < d22 {
                    xhi = x2; ylo = y1
                } else if d21 < d11 && d21 < d12 && d21 < d22 {
                    xlo = x1; yhi = y2
                } else {
                    xlo = x1; ylo = y1
                }
                dx = xhi - xlo; dy = yhi - ylo
            }
            return rounds == 50 ? nil : Vertex(0.5 * (xlo + xhi), 0.5 * (ylo + yhi))
        }
    }

    /// The input box shrunk to the finite pixmap entries: the lowest row and column holding one
    /// (the first found from the left on each row), likewise the highest from the right; nil
    /// when that leaves less than two columns or two rows.
    static func shrink(_ m: MapView) -> Box? {
        guard m.width >= 1, m.height >= 1 else { return nil }
        var xmin = m.width - 1, ymin = m.height - 1
        for j in 0..<m.height {
            for i in 0..<m.width where m.valid(i, j) {
                xmin = min(xmin, i); ymin = min(ymin, j)
                break
            }
        }
        var xmax = xmin, ymax = ymin
        for j in stride(from: m.height - 1, through: 0, by: -1) {
            for i in stride(from: m.width - 1, through: 0, by: -1) where m.valid(i, j) {
                xmax = max(xmax, i); ymax = max(ymax, j)
                break
            }
        }
        return xmin < xmax && ymin < ymax ? Box(xmin: xmin, xmax: xmax, ymin: ymin, ymax: ymax) : nil
    }

    // MARK: Polygons (vertices in order, the last joined to the first)

    /// z of a × b.
    @inline(__always) static func cross(_ a: Vertex, _ b: Vertex) -> Double { a.x * b.y - a.y * b.x }

    /// Whether `p` lies strictly left of the directed line from `a` to `b`, computed as the C core
    /// does (the same sums, so points on the line fall the same way).
    @inline(__always)
    static func strictlyLeft(_ p: Vertex, of a: Vertex, _ b: Vertex) -> Bool {
        cross(p, a) - cross(b, a) - cross(p, b) > 0
    }

    /// Reverses a polygon that turns clockwise, judged by its first two vertices about the mean.
    static func counterClockwise(_ p: [Vertex]) -> [Vertex] {
        guard p.count >= 3 else { return p }
        var sx = 0.0, sy = 0.0
        for v in p { sx += v.x; sy += v.y }
        let centre = Vertex(sx / Double(p.count), sy / Double(p.count))
        return cross(p[0] - centre, p[1] - centre) >= 0 ? p : p.reversed()
    }

    /// Drops vertices lying on the line through their neighbours (or between coincident ones).
    static func simplified(_ p: [Vertex]) -> [Vertex] {
        let n = p.count
        guard n >= 3 else { return p }
        var kept: [Vertex] = []
        for k in 0..<n {
            let before = p[(k + n - 1) % n], here = p[k], after = p[(k + 1) % n]
            let span = after - before, offset = here - before
            if abs(cross(span, offset)) > approxZero && (span.x * span.x + span.y * span.y).squareRoot() > vertexTolerance {
                kept.append(here)
            }
        }
        return kept
    }

    /// Adds a vertex unless it repeats the last or the first one, or the polygon is full.
    static func append(_ v: Vertex, to p: inout [Vertex]) {
        func same(_ a: Vertex) -> Bool { abs(a.x - v.x) < vertexTolerance && abs(a.y - v.y) < vertexTolerance }
        if let tail = p.last, same(tail) { return }
        if let head = p.first, same(head) { return }
        if p.count < capacity { p.append(v) }
    }

    /// The part of polygon `p` inside the convex `window` (Sutherland–Hodgman, one window side at
    /// a time), counter-clockwise and simplified; empty when they do not meet, nil when either
    /// has fewer than three vertices.
    static func clip(_ p: [Vertex], to window: [Vertex]) -> [Vertex]? {
        guard p.count >= 3, window.count >= 3 else { return nil }
        let w = counterClockwise(window)
        var out = counterClockwise(p)
        for k in 0..<w.count {
            let a = w[(k + w.count - 1) % w.count], b = w[k]
            let side = b - a
            let input = out
            out = []
            for j in 0..<input.count {
                let from = input[(j + input.count - 1) % input.count], to = input[j]
                let fromIn = strictlyLeft(from, of: a, b), toIn = strictlyLeft(to, of: a, b)
                if fromIn != toIn {
                    // Where the polygon's side crosses the window's side.
                    let edge = to - from
                    let d = cross(edge, side), e = cross(to, from), f = cross(b, a)
                    let cut = Vertex((e * side.x - f * edge.x) / d, (e * side.y - f * edge.y) / d)
                    if cut.x.isFinite && cut.y.isFinite { append(cut, to: &out) }
                    if toIn { append(to, to: &out) }
                } else if fromIn {
                    append(to, to: &out)
                }
            }
        }
        return simplified(counterClockwise(out))
    }

    // MARK: The scan

    /// A side of the polygon, with the intercept moved by half a pixel (plus half the slope)
    /// toward the inside, so that a whole pixel fits on the inner side of it.
    struct Side {
        let from: Vertex, to: Vertex
        /// dx/dy along the side.
        let slope: Double
        /// x at y = 0, moved inward.
        let inner: Double

        /// `right`: a side bounding the polygon on the right (high x), else on the left.
        init(_ a: Vertex, _ b: Vertex, right: Bool) {
            from = a; to = b
            slope = (b.x - a.x) / (b.y - a.y)
            let intercept = (a.x * b.y - a.y * b.x) / (b.y - a.y)
            let shift = 0.5 + 0.5 * abs(slope)
            inner = right ? intercept - shift : intercept + shift
        }
    }

    /// The polygon's left and right sides from its lowest to its highest vertex, and its y extent.
    struct Sides {
        var left: [Side] = [], right: [Side] = []
        var minY = 0.0, maxY = 0.0

        /// nil for fewer than three vertices. The polygon should turn counter-clockwise.
        init?(_ p: [Vertex]) {
            let n = p.count
            guard n >= 3 else { return nil }
            func wrap(_ k: Int) -> Int { ((k % n) + n) % n }
            // The lowest vertex (the first of equals); a neighbour at the same height (to 1e-12
            // relative) makes the bottom a side of its own, the left end starting the left sides.
            var lowLeft = 0
            for k in 1..<n where p[k].y < p[lowLeft].y { lowLeft = k }
            let bottom = p[lowLeft].y
            let b1 = wrap(lowLeft - 1), b2 = wrap(lowLeft + 1)
            var lowRight = p[b1].y < p[b2].y ? b1 : b2
            if p[lowRight].y <= bottom * (1 + Double(signOf: bottom, magnitudeOf: OverlapScanner.vertexTolerance)) {
                if p[lowLeft].x > p[lowRight].x { swap(&lowLeft, &lowRight) }
            } else {
                lowRight = lowLeft
            }
            // Likewise the highest vertex.
            var highRight = 0
            for k in 1..<n where p[k].y > p[highRight].y { highRight = k }
            let top = p[highRight].y
            let t1 = wrap(highRight - 1), t2 = wrap(highRight + 1)
            var highLeft = p[t1].y > p[t2].y ? t1 : t2
            if p[highLeft].y >= top * (1 - Double(signOf: top, magnitudeOf: OverlapScanner.vertexTolerance)) {
                if p[highLeft].x > p[highRight].x { swap(&highLeft, &highRight) }
            } else {
                highLeft = highRight
            }
            // Left sides: from the bottom backwards through the vertices to the top.
            if highLeft > lowLeft { lowLeft += n }
            for k in 0..<max(lowLeft - highLeft, 0) {
                let a = wrap(lowLeft - k)
                left.append(Side(p[a], p[wrap(a - 1)], right: false))
            }
            // Right sides: from the bottom forwards to the top.
            if highRight < lowRight { highRight += n }
            for k in 0..<max(highRight - lowRight, 0) {
                let a = wrap(lowRight + k)
                right.append(Side(p[a], p[wrap(a + 1)], right: true))
            }
            minY = bottom; maxY = top
        }
    }

    /// What one row of the scan gives.
    enum Row: Equatable {
        /// Columns first...last (possibly none, first > last).
        case columns(Int, Int)
        /// The row is skipped: outside the polygon's rows, or no width left.
        case skipped
        /// The polygon's top was passed: this row and every later one are skipped.
        case ended
    }

    /// Walks the sides upward; rows must be asked in increasing order.
    struct RowScan {
        let sides: Sides
        let box: Box
        var left: Int? = 0, right: Int? = 0

        init(_ sides: Sides, box: Box) {
            self.sides = sides; self.box = box
            if sides.left.isEmpty || sides.right.isEmpty { left = nil; right = nil }
        }

        mutating func row(_ y: Int) -> Row {
            let tol = OverlapScanner.tolerance
            if box.ymax >= box.ymin && (y < 0 || y > box.ymax) { return .skipped }
            let bottom = Double(y) - 0.5, top = Double(y) + 0.5
            if top <= sides.minY || bottom >= sides.maxY + 1 { return .skipped }
            guard var l = left, var r = right else { return .ended }
            let lastLeft = sides.left.count - 1, lastRight = sides.right.count - 1
            // The sides that hold the row's bottom edge...
            while bottom > sides.left[l].to.y {
                guard l < lastLeft else { return end() }
                l += 1
            }
            while bottom > sides.right[r].to.y {
                guard r < lastRight else { return end() }
                r += 1
            }
            let fy = Double(y)
            var leftBottom = sides.left[l].slope * fy + sides.left[l].inner - tol
            var rightBottom = sides.right[r].slope * fy + sides.right[r].inner + tol
            // ...and those that hold its top edge (with half a pixel and the tolerance to spare).
            while top > sides.left[l].to.y + 0.5 + tol {
                guard l < lastLeft else { return end() }
                l += 1
            }
            while top > sides.right[r].to.y + 0.5 + tol {
                guard r < lastRight else { return end() }
                r += 1
            }
            left = l; right = r
            var leftTop = sides.left[l].slope * fy + sides.left[l].inner - tol
            var rightTop = sides.right[r].slope * fy + sides.right[r].inner + tol
            if box.xmax >= box.xmin {
                let xmin = Double(box.xmin), xmax = Double(box.xmax)
                if leftBottom < xmin { leftBottom = xmin }
                if leftTop < xmin { leftTop = xmin }
                if rightBottom > xmax { rightBottom = xmax }
                if rightTop > xmax { rightTop = xmax }
            }
            if leftTop >= rightTop {
                if leftBottom >= rightBottom { return .skipped }
                return Self.columns(leftBottom, rightBottom)
            } else if leftBottom >= rightBottom {
                return Self.columns(leftTop, rightTop)
            }
            return Self.columns(leftBottom > leftTop ? leftBottom : leftTop, rightBottom < rightTop ? rightBottom : rightTop)
        }

        private mutating func end() -> Row {
            left = nil; right = nil
            return .ended
        }

        /// The nearest columns (halves away from zero); none when a limit is not a number.
        private static func columns(_ a: Double, _ b: Double) -> Row {
            let a = a.rounded(), b = b.rounded()
            guard abs(a) < 2e9, abs(b) < 2e9 else { return .columns(1, 0) }
            return .columns(Int(a), Int(b))
        }
    }

    /// Everything from the pixmap to the rows' column ranges.
    static func scan(_ m: MapView, outputColumns: Range<Int>, outputRows: Range<Int>)
        -> (Box, [Int32], [Int32], Range<Int>, Int, Bool)? {
        guard let box = shrink(m) else { return nil }
        // The box's outline, through the pixels' outer edges.
        var polygon = [Vertex(Double(box.xmin) - 0.5, Double(box.ymin) - 0.5), Vertex(Double(box.xmax) + 0.5, Double(box.ymin) - 0.5),
                       Vertex(Double(box.xmax) + 0.5, Double(box.ymax) + 0.5), Vertex(Double(box.xmin) - 0.5, Double(box.ymax) + 0.5)]
        var valid = false
        let mapped = polygon.compactMap { m.toOutput($0, box: box) }
        if mapped.count == polygon.count {
            let lo = Double(outputRows.lowerBound) - 0.5, hi = Double(outputRows.upperBound) - 0.5
            let left = Double(outputColumns.lowerBound) - 0.5, right = Double(outputColumns.upperBound) - 0.5
            let window = [Vertex(left, lo), Vertex(right, lo), Vertex(right, hi), Vertex(left, hi)]
            if let overlap = clip(mapped, to: window) {
                // Back onto the input; on a failure the C core keeps the vertices already
                // replaced (the box's count of them) and scans that.
                var back: [Vertex] = []
                for v in overlap {
                    guard let p = m.toInput(v, box: box) else { break }
                    back.append(p)
                }
                if back.count == overlap.count {
                    polygon = counterClockwise(back)
                    valid = true
                } else {
                    for (k, p) in back.prefix(polygon.count).enumerated() { polygon[k] = p }
                }
            }
        }
        guard let sides = Sides(polygon) else { return nil }
        // The rows worth asking about (C casts truncate toward zero).
        func truncated(_ v: Double) -> Int { Int(min(max(v, -2e9), 2e9)) }
        let ymin = max(0, truncated(sides.minY + 0.5 + 2 * tolerance))
        let ymax = min(box.ymax, truncated(sides.maxY + 2 * tolerance))
        var skipped = (box.ymax - box.ymin) - (ymax - ymin)
        var first = [Int32](repeating: 1, count: m.height), last = [Int32](repeating: 0, count: m.height)
        var lowest = Int.max, highest = Int.min
        var scan = RowScan(sides, box: box)
        if ymin <= ymax {
            rows: for j in ymin...ymax {
                switch scan.row(j) {
                case .ended:
                    skipped += ymax + 1 - j
                    break rows
                case .skipped:
                    skipped += 1
                case .columns(let a, let b):
                    // Within the box by construction (the limits are clamped to it before rounding).
                    let a = max(a, box.xmin), b = min(b, box.xmax)
                    guard a <= b, j < m.height else { continue }
                    first[j] = Int32(a); last[j] = Int32(b)
                    lowest = min(lowest, j); highest = max(highest, j)
                }
            }
        }
        let rows = lowest <= highest ? lowest..<(highest + 1) : 0..<0
        return (box, first, last, rows, skipped, valid)
    }
}
