import AstroFITS
import AstroImage
import AstroWCS
import Foundation

extension Resample {
    /// The output WCS and shape.
    static func grid(_ g: ResampleOptions.Grid, _ inputs: [ResampleInput]) throws -> (WCS, Int, Int) {
        switch g {
        case .reference(let path):
            let file = try FITSFile(path, image: true), info = try file.info()
            guard info.shape.count >= 2 else { throw AstroError(.badData, file: path, operation: "reading the reference grid", reason: "no 2-D image") }
            let wcs = try WCS.read(path: path)
            try wcs.checkRoundTrip(width: info.shape[0], height: info.shape[1], file: path, hdu: file.hduLabel)
            return (wcs, info.shape[0], info.shape[1])
        case .header(let path, let shape):
            guard let text = try? String(contentsOfFile: path, encoding: .ascii) else {
                throw AstroError(.noInput, file: path, operation: "reading the output WCS", reason: "cannot read the file")
            }
            let h = Header(cardImages: text)
            guard let nx = shape?.0 ?? h.int("NAXIS1"), let ny = shape?.1 ?? h.int("NAXIS2"), nx > 0, ny > 0 else {
                throw AstroError(.badData, file: path, operation: "reading the output WCS", reason: "no NAXIS1/NAXIS2; give --shape")
            }
            let wcs = try WCS(header: h, file: path)
            try wcs.checkRoundTrip(width: nx, height: ny, file: path, hdu: nil)
            return (wcs, nx, ny)
        case .cover(let scale, let ratio, let rotation, let centre, let shape):
            // Every input's outline on the sky, then a TAN grid around them.
            var ras: [Double] = [], decs: [Double] = [], owners: [Int] = []
            for (k, input) in inputs.enumerated() {
                for p in input.wcs.footprint(width: input.width, height: input.height, step: 256) where p.ra.isFinite {
                    ras.append(p.ra); decs.append(p.dec); owners.append(k)
                }
            }
            guard !ras.isEmpty else { throw AstroError(.badData, operation: "resampling", reason: "no input maps onto the sky") }
            let ref = ras[0]
            let unwrapped = ras.map { var d = $0 - ref; d -= 360 * (d / 360).rounded(); return ref + d }
            let c = centre ?? ((unwrapped.min()! + unwrapped.max()!) / 2, (decs.min()! + decs.max()!) / 2)
            let first = inputs[0]
            let s = scale ?? first.wcs.pixelScale(x: Double(first.width - 1) / 2, y: Double(first.height - 1) / 2) * ratio
            if let shape { return (try WCS.tan(ra: c.0, dec: c.1, pixelScale: s, rotation: rotation, width: shape.0, height: shape.1), shape.0, shape.1) }
            // A trial grid gives the inputs' extent in output pixels; size it to hold them.
            let trial = try WCS.tan(ra: c.0, dec: c.1, pixelScale: s, rotation: rotation, width: 1, height: 1)
            let px = trial.worldToPixel(ra: unwrapped, dec: decs)
            if let k = px.x.indices.first(where: { !px.x[$0].isFinite || !px.y[$0].isFinite }) {
                let input = inputs[owners[k]]
                throw AstroError(.badData, file: input.path, hdu: input.hdu, operation: "building the output grid",
                                 reason: String(format: "it reaches 90 deg or more from the grid centre (RA %.4f, Dec %.4f): one TAN grid cannot hold all the inputs", c.0, c.1))
            }
            let nx = Int((2 * px.x.map(abs).max()!).rounded(.up)) + 2, ny = Int((2 * px.y.map(abs).max()!).rounded(.up)) + 2
            // Four float32/int32 planes at least (SCI, WHT, DQ, CON): inputs far apart on the sky
            // would ask for more memory than the machine has.
            let bytes = 16 * Double(nx) * Double(ny), memory = Double(ProcessInfo.processInfo.physicalMemory)
            guard bytes <= memory else {
                throw AstroError(.badData, operation: "building the output grid", reason: String(
                    format: "the inputs span %.3g x %.3g deg: %dx%d pixels of %.4g arcsec need %.3g GiB, more than this machine's %.3g GiB; are they of one field? (give --shape, --crval or a larger --pixel-scale)",
                    Double(nx) * s / 3600, Double(ny) * s / 3600, nx, ny, s, bytes / 1073741824, memory / 1073741824))
            }
            return (try WCS.tan(ra: c.0, dec: c.1, pixelScale: s, rotation: rotation, width: nx, height: ny), nx, ny)
        }
    }
}
