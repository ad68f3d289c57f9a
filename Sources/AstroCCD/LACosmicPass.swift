import AstroImage

/// One pass of L.A.Cosmic's detection, over the whole frame or over windows of it.
///
/// A pass reads the cleaned data and variance; after the first, they differ from the previous
/// pass's only at the flagged pixels the cleaning rewrote, and every quantity a pass derives at a
/// pixel (noise, Laplacian significance, fine structure, candidates, the two growths) depends on
/// data and variance within `reach` of it. So a pixel farther than `reach` from every changed
/// pixel gives the previous pass's answer. Later passes therefore keep the previous pass's hits
/// where nothing within `reach` changed (flagged pixels found again) and look only around groups
/// of changed pixels, each computed on a window `reach` wider again, so that the filters' edge
/// handling of the window stays out of the part kept: the same hits as a pass over the whole frame, on a fraction of it (the second pass,
/// which usually finds nothing, was half of L.A.Cosmic's time on a night frame). When the
/// windows would cover much of the frame (a frame with thousands of hits), the pass runs whole.
extension LACosmic {
    /// The planes a pass reads.
    struct Frame {
        let clean: Plane<Float>
        let variance: Plane<Float>
        let mask: Plane<UInt8>
        let background: Plane<Float>?
        var width: Int { clean.width }
        var height: Int { clean.height }

        /// The window's copy: columns `x`, rows `y`.
        func window(x: Range<Int>, y: Range<Int>) -> Frame {
            func cut<T: BitwiseCopyable>(_ p: Plane<T>) -> Plane<T> {
                let out = Plane<T>.unset(width: x.count, height: y.count)
                for (row, yy) in y.enumerated() {
                    (out.base + row * x.count).update(from: p.base + yy * p.width + x.lowerBound, count: x.count)
                }
                return out
            }
            return Frame(clean: cut(clean), variance: cut(variance), mask: cut(mask), background: background.map(cut))
        }
    }

    /// How far (pixels, either axis) a change of the data or variance can move a pass's hits:
    /// the Laplacian (1) and the significance's median (rS) or the fine structure (rF) and its
    /// median (rM), or the noise's median (rN) and rS, or through the PSF weights; then the two
    /// 3×3 growths. Two pixels more, for margin.
    static func reach(_ o: LACosmicOptions, kernel: PSFKernel?) -> Int {
        let rN = o.sepmed ? 3 : 2, rS = o.sepmed ? 3 : 2, rM = o.sepmed ? 4 : 3
        let rF = kernel.map { $0.size / 2 } ?? (o.sepmed ? 2 : 1)
        let deepest = max(1 + rS, rF + rM, rN + rS, kernel == nil ? 0 : rF + rM + rN)
        return 2 + deepest + 2
    }

    /// The pixels (row-major indices of `f`) a pass flags, in order.
    static func hitIndices(_ f: Frame, kernel: PSFKernel?, options o: LACosmicOptions) -> [Int] {
        let (width, height) = (f.width, f.height)
        let (clean, variance, mask, bkg) = (f.clean, f.variance, f.mask, f.background)
        let sigclip = o.sigclip, siglow = o.sigfrac * o.sigclip, objlim = o.objlim
        // Noise each pixel would have without cosmic rays, and the Laplacian's significance.
        let m5 = o.sepmed ? MedianFilter.separable(variance, size: 7) : MedianFilter.box(variance, size: 5)
        let noise = m5
        let s = laplacian(clean)
        let floor: Float = 0.00001
        forEachPixelRange(width, height) { r in
            for i in r {
                var v = m5.base[i]
                if let bkg { v += bkg.base[i] }
                if v < floor { v = floor }
                noise.base[i] = v.squareRoot()
                s.base[i] /= 2 * noise.base[i]
            }
        }
        // Large structure removed; candidates are what stands out of it.
        let sp = o.sepmed ? MedianFilter.separable(s, size: 7) : MedianFilter.box(s, size: 5)
        forEachPixelRange(width, height) { r in for i in r { sp.base[i] = s.base[i] - sp.base[i] } }

        // Fine structure: stars are smooth on the scale of a few pixels, cosmic rays not.
        let fine: Plane<Float>
        if let kernel {
            let weighted = plane(width, height) { r, out in for i in r { out[i] = clean.base[i] / noise.base[i] / noise.base[i] } }
            let weights = plane(width, height) { r, out in for i in r { out[i] = 1 / noise.base[i] / noise.base[i] } }
            let a = kernel.correlate(weighted), b = kernel.correlate(weights)
            fine = plane(width, height) { r, out in for i in r { out[i] = a.base[i] / b.base[i] } }
        } else {
            fine = o.sepmed ? MedianFilter.separable(clean, size: 5) : MedianFilter.box(clean, size: 3)
        }
        let m7 = o.sepmed ? MedianFilter.separable(fine, size: 9) : MedianFilter.box(fine, size: 7)
        let candidates = Plane<UInt8>(width: width, height: height, repeating: 0)
        let least: Float = 0.01
        forEachPixelRange(width, height) { r in
            for i in r {
                var f = (fine.base[i] - m7.base[i]) / noise.base[i]
                if f < least { f = least }
                let v = sp.base[i]
                candidates.base[i] = v > sigclip && mask.base[i] == 0 && v / f > objlim ? 1 : 0
            }
        }
        // Grow twice: neighbours above sigclip, then above sigfrac·sigclip.
        let grown = Dilation.dilate3(candidates)
        forEachPixelRange(width, height) { r in
            for i in r {
                grown.base[i] = grown.base[i] != 0 && mask.base[i] == 0 && sp.base[i] > sigclip ? 1 : 0
            }
        }
        let cosmics = Dilation.dilate3(grown)
        return Parallel.mapBlocks(count: height, minBlock: max(8, 16384 / max(1, width))) { rows in
            var hits: [Int] = []
            for i in rows.lowerBound * width..<rows.upperBound * width
            where cosmics.base[i] != 0 && mask.base[i] == 0 && sp.base[i] > siglow {
                hits.append(i)
            }
            return hits
        }.flatMap { $0 }
    }

    /// A later pass's hits (row-major indices of the frame, in order), or nil when its windows
    /// would cover more than a quarter of the frame (a pass over it all is then cheaper: small
    /// windows cost several times more per pixel). The pixels that may have changed are those
    /// within `widened` of `seeds`; they are gathered into groups (8×8 tiles, joined where they
    /// touch), and each group's box is looked at `reach` around, on a window `reach` wider again.
    static func windowedHits(_ f: Frame, around seeds: [Int], widened extra: Int, previous: [Int], kernel: PSFKernel?,
                             options o: LACosmicOptions) -> [Int]? {
        let (w, h) = (f.width, f.height), r = reach(o, kernel: kernel)
        @Sendable func widened(_ a: Range<Int>, _ by: Int, _ n: Int) -> Range<Int> { max(0, a.lowerBound - by)..<min(n, a.upperBound + by) }
        // Each group's box of changed pixels, the part kept (`reach` around) and its window.
        let keeps = groups(seeds, width: w, height: h).map { b in
            (x: widened(widened(b.x, extra, w), r, w), y: widened(widened(b.y, extra, h), r, h))
        }
        let windows = keeps.map { (x: widened($0.x, r, w), y: widened($0.y, r, h)) }
        guard windows.reduce(0, { $0 + $1.x.count * $1.y.count }) <= w * h / 4 else { return nil }
        let found = Parallel.mapBlocks(count: keeps.count) { block in
            block.flatMap { k -> [Int] in
                let keep = keeps[k], window = windows[k]
                return hitIndices(f.window(x: window.x, y: window.y), kernel: kernel, options: o).compactMap { i in
                    let x = window.x.lowerBound + i % window.x.count, y = window.y.lowerBound + i / window.x.count
                    return keep.x.contains(x) && keep.y.contains(y) ? y * w + x : nil
                }
            }
        }
        // Away from every window nothing changed: the previous pass's hits there (flagged
        // pixels found again) stand. Windows may overlap: each pixel once, in order.
        let kept = previous.filter { p in !keeps.contains { $0.x.contains(p % w) && $0.y.contains(p / w) } }
        return Array(Set(found.flatMap { $0 } + kept)).sorted()
    }

    /// The boxes (columns, rows) of the groups of 8×8 tiles holding one of `pixels` (row-major
    /// indices of a width×height frame), tiles joined when they touch (sides or corners).
    static func groups(_ pixels: [Int], width w: Int, height h: Int) -> [(x: Range<Int>, y: Range<Int>)] {
        let tile = 8, tw = (w + tile - 1) / tile, th = (h + tile - 1) / tile
        var marked = [Bool](repeating: false, count: tw * th)
        for p in pixels { marked[(p / w / tile) * tw + (p % w) / tile] = true }
        var boxes: [(x: Range<Int>, y: Range<Int>)] = [], stack: [Int] = []
        for start in marked.indices where marked[start] {
            marked[start] = false
            stack.append(start)
            var (x0, x1, y0, y1) = (Int.max, Int.min, Int.max, Int.min)
            while let t = stack.popLast() {
                let tx = t % tw, ty = t / tw
                (x0, x1, y0, y1) = (min(x0, tx), max(x1, tx), min(y0, ty), max(y1, ty))
                for ny in max(0, ty - 1)...min(th - 1, ty + 1) {
                    for nx in max(0, tx - 1)...min(tw - 1, tx + 1) where marked[ny * tw + nx] {
                        marked[ny * tw + nx] = false
                        stack.append(ny * tw + nx)
                    }
                }
            }
            boxes.append(((x0 * tile)..<min(w, (x1 + 1) * tile), (y0 * tile)..<min(h, (y1 + 1) * tile)))
        }
        return boxes
    }
}
