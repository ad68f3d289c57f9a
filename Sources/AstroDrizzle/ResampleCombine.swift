import AstroFITS
import AstroImage
import Foundation

public struct ResampleCombineReport: Sendable, Encodable {
    public var output: String
    public var plan: String
    public var tiles: Int
    public var width: Int
    public var height: Int
    public var exposure: Double
    /// Inputs that added nothing to any tile, with the reason.
    public var unused: [UnusedInput]
}

extension Resample {
    /// Assembles the parts of one plan (every tile once, one layout) into the whole mosaic with
    /// the header one run would write. Streams a row of tiles at a time: memory is one row of
    /// tiles of one plane.
    public static func combine(_ paths: [String], output: String, overwrite: Bool) throws -> ResampleCombineReport {
        guard !paths.isEmpty else { throw AstroError(.noInput, operation: "combining tiles", reason: "no part files") }
        // Every header first: nothing is written unless the parts make one mosaic.
        var parts: [(path: String, info: TilePart.Info, hdus: [HDUInfo])] = []
        for path in paths {
            let hdus = try FITS.listHDUs(path)
            guard let first = hdus.first, let info = TilePart.info(first.header.userCards) else {
                throw AstroError(.badData, file: path, operation: "combining tiles", reason: "not a tile of a resample plan (no PLANID/TILE cards)")
            }
            if let p = parts.first {
                guard info.plan == p.info.plan else {
                    throw AstroError(.badData, file: path, operation: "combining tiles",
                                     reason: "it belongs to plan \(info.plan), \(p.path) to plan \(p.info.plan)")
                }
                let layout = { (h: [HDUInfo]) in h.map { "\($0.extname ?? "SCI")/\($0.bitpix)" }.joined(separator: ",") }
                guard layout(hdus) == layout(p.hdus) else {
                    throw AstroError(.badData, file: path, operation: "combining tiles",
                                     reason: "its HDUs (\(layout(hdus))) differ from \(p.path)'s (\(layout(p.hdus)))")
                }
                if let twin = parts.first(where: { $0.info.tile == info.tile }) {
                    throw AstroError(.badData, file: path, operation: "combining tiles", reason: "tile \(info.tile) is also \(twin.path)")
                }
            }
            guard info.tile >= 1, info.tile <= info.tiles, hdus.allSatisfy({ $0.shape.count == 2 && $0.shape == hdus[0].shape }),
                  info.x0 + hdus[0].shape[0] <= info.gridWidth, info.y0 + hdus[0].shape[1] <= info.gridHeight else {
                throw AstroError(.badData, file: path, operation: "combining tiles", reason: "its tile cards do not match its planes")
            }
            parts.append((path, info, hdus))
        }
        let first = parts[0].info
        let have = Set(parts.map(\.info.tile))
        if let missing = (1...first.tiles).first(where: { !have.contains($0) }) {
            throw AstroError(.badData, operation: "combining tiles",
                             reason: "tile \(missing) of plan \(first.plan) is missing (\(parts.count) of \(first.tiles) parts given)")
        }
        // Each input's bookkeeping from any tile that read it; never read: it reaches no tile.
        let (width, height) = (first.gridWidth, first.gridHeight)
        let records = first.names.indices.map { k in
            parts.lazy.compactMap { $0.info.records[k] }.first ?? InputRecord(
                name: first.names[k], file: k, note: .init(weights: "-", step: 0, sky: 0, exptime: 0,
                                                  unused: "it does not overlap the output grid (\(width)x\(height)): no pixel centre lands on it"),
                expstart: nil, expend: nil)
        }
        let unused = records.indices.compactMap { k in records[k].note.unused.map { UnusedInput(input: records[k].name, hdu: first.hdus[k], reason: $0) } }
        if unused.count == records.count { throw refusal(unused, operation: "drizzling", grid: (width, height)) }
        let header = outputHeader(grid: first.grid, inputs: records, bunit: first.bunit, options: first.options)

        let types = parts[0].hdus.map { h -> PixelType in
            switch h.bitpix { case 8: .uint8; case 16: .int16; case 32: .int32; default: .float32 }
        }
        let plans = parts[0].hdus.enumerated().map { k, h in
            FITSStreamWriter.Plan(width: width, height: height, pixelType: types[k], extname: h.extname, extver: h.header.int("EXTVER"),
                                  header: k == 0 ? header : Header())
        }
        let stream = try FITSStreamWriter(to: output, overwrite: overwrite, plans: plans)
        // One row of tiles (a band of grid rows) at a time, plane by plane.
        let rows = Dictionary(grouping: parts, by: \.info.y0).sorted { $0.key < $1.key }
        for (y0, row) in rows {
            let bandHeight = row[0].hdus[0].shape[1]
            for (k, type) in types.enumerated() {
                // The band of plane k, each tile's rows placed at its column.
                func band<T>(_ fill: T, _ read: (String) throws -> [T]) throws -> [T] {
                    var band = [T](repeating: fill, count: width * bandHeight)
                    for part in row {
                        place(try read("\(part.path)[\(k)]"), width: part.hdus[k].shape[0], at: part.info.x0, into: &band, bandWidth: width)
                    }
                    return band
                }
                let hdu = type == .float32
                    ? OutputHDU(Image(width: width, height: bandHeight, pixels: try band(Float.nan) { try FITS.readImage($0).pixels }))
                    : OutputHDU(integers: try band(Int32(0)) { try FITSFile($0).readImageDouble().pixels.map { Int32($0) } },
                                width: width, height: bandHeight, storage: type)
                try stream.write(rows: y0, of: k, hdu)
            }
        }
        try stream.finish(headers: [header] + plans.dropFirst().map { _ in Header() })
        return ResampleCombineReport(output: output, plan: first.plan, tiles: parts.count, width: width, height: height,
                                     exposure: totalExposure(records), unused: unused)
    }

    /// Copies a tile's rows into the band at column x0.
    private static func place<T>(_ tile: [T], width: Int, at x0: Int, into band: inout [T], bandWidth: Int) {
        for r in 0..<(tile.count / width) {
            band.replaceSubrange((r * bandWidth + x0)..<(r * bandWidth + x0 + width), with: tile[(r * width)..<((r + 1) * width)])
        }
    }
}
