import AstroImage
import AstroWCS
import Foundation

/// The primary header of a tile's part file, and reading it back in `combine`. A part is a
/// mosaic of its own (its WCS shifted to the tile, its bookkeeping over what reached the tile),
/// plus cards naming its plan and place, and per input (0-based plan index k) what combine needs
/// to write the whole mosaic's bookkeeping: NAMk (file name), HDUk (the chip), USEk ('used', 'unused' or
/// 'unread' when the input does not reach the tile), and for inputs read WGTk, SKYk, EXPk,
/// STPk, BEGk/ENDk (EXPSTART/EXPEND) and WHYk (why unused).
enum TilePart {
    static func header(_ plan: ResamplePlan, tile: ResamplePlan.Tile, inputs: [ResampleInput], notes: [Int: ResamplePass.Note],
                       options o: ResampleOptions) -> Header {
        var grid = Header(cardImages: plan.grid.cards.joined())
        let crpix = (grid.double("CRPIX1") ?? 0, grid.double("CRPIX2") ?? 0)
        // The part's own WCS: its first pixel is the tile's (x0, y0).
        grid.set("CRPIX1", crpix.0 - Double(tile.x0))
        grid.set("CRPIX2", crpix.1 - Double(tile.y0))
        let gridCards = grid.cards.count
        let unread = ResamplePass.Note(weights: "-", step: 0, sky: 0, exptime: 0, unused: "it does not reach this tile")
        let records = Resample.records(inputs, notes, otherwise: unread)
        var h = Resample.outputHeader(grid: grid, inputs: records, bunit: Resample.bunit(inputs, o), options: o)
        h.set("PLANID", plan.id, comment: "the resample plan this tile belongs to")
        h.set("TILE", tile.number, comment: "tile number (1: bottom-left, row-major)")
        h.set("NTILES", plan.tiles.count, comment: "tiles in the plan")
        h.set("TILESNX", plan.tilesX, comment: "tiles across")
        h.set("TILESNY", plan.tilesY, comment: "tiles up")
        h.set("TILEX0", tile.x0, comment: "grid column of the first column (0-based)")
        h.set("TILEY0", tile.y0, comment: "grid row of the first row (0-based)")
        h.set("GRIDNX", plan.grid.width, comment: "the whole grid's NAXIS1")
        h.set("GRIDNY", plan.grid.height, comment: "the whole grid's NAXIS2")
        h.set("GRIDCRDS", gridCards, comment: "the cards before the HISTORY are the grid's WCS")
        h.set("GCRPIX1", crpix.0, comment: "the whole grid's CRPIX1")
        h.set("GCRPIX2", crpix.1, comment: "the whole grid's CRPIX2")
        h.set("EXPKEY", o.exptimeKey, comment: "exposure time keyword")
        h.set("NINPUTS", inputs.count, comment: "inputs in the plan")
        for (k, record) in records.enumerated() {
            h.set("NAM\(k)", record.name)
            h.set("FID\(k)", record.file)
            h.set("HDU\(k)", inputs[k].hdu)
            guard let note = notes[k] else { h.set("USE\(k)", "unread"); continue }
            h.set("USE\(k)", note.unused == nil ? "used" : "unused")
            h.set("WGT\(k)", note.weights)
            h.set("SKY\(k)", note.sky)
            h.set("EXP\(k)", note.exptime)
            h.set("STP\(k)", note.step)
            if let v = record.expstart { h.set("BEG\(k)", v) }
            if let v = record.expend { h.set("END\(k)", v) }
            if let why = note.unused { h.set("WHY\(k)", why) }
        }
        return h
    }

    /// What one part's header says.
    struct Info {
        var plan: String
        var tile: Int, tiles: Int
        var x0: Int, y0: Int
        var gridWidth: Int, gridHeight: Int
        var grid: Header
        var options: ResampleOptions
        var bunit: String
        /// Per input: file name and HDU, and its record (nil when it was not read for this tile).
        var names: [String]
        var hdus: [String]
        var records: [Resample.InputRecord?]
    }

    /// Reads a part's primary header; nil for a header that is not a part's.
    static func info(_ h: Header) -> Info? {
        guard let plan = h.string("PLANID"), let tile = h.int("TILE"), let tiles = h.int("NTILES"), h.int("TILESNX") != nil,
              h.int("TILESNY") != nil, let x0 = h.int("TILEX0"), let y0 = h.int("TILEY0"), let gw = h.int("GRIDNX"),
              let gh = h.int("GRIDNY"), let count = h.int("GRIDCRDS"), let c1 = h.double("GCRPIX1"),
              let c2 = h.double("GCRPIX2"), let n = h.int("NINPUTS"), let key = h.string("EXPKEY"),
              let kernel = h.string("KERNEL").flatMap(DrizzleOptions.Kernel.init(rawValue:)), let pixfrac = h.double("PIXFRAC"),
              let fill = h.string("FILLVAL").flatMap(DrizzleOptions.Fill.init(text:)),
              let weights = h.string("WTSCL").flatMap(ResampleOptions.WeightType.init(rawValue:)) else { return nil }
        // The grid's cards end where the HISTORY lines begin (a writer may put cards before them).
        guard let end = h.cards.firstIndex(where: { $0.keyword == "HISTORY" }), end >= count else { return nil }
        var grid = Header(cards: Array(h.cards[(end - count)..<end]))
        grid.set("CRPIX1", c1)
        grid.set("CRPIX2", c2)
        var o = ResampleOptions()
        o.exptimeKey = key
        o.drizzle.kernel = kernel
        o.drizzle.pixfrac = pixfrac
        o.drizzle.fill = fill
        o.weightType = weights
        var names: [String] = [], hdus: [String] = [], records: [Resample.InputRecord?] = []
        for k in 0..<n {
            guard let name = h.string("NAM\(k)"), let use = h.string("USE\(k)") else { return nil }
            names.append(name)
            hdus.append(h.string("HDU\(k)") ?? "-")
            guard use != "unread" else { records.append(nil); continue }
            let note = ResamplePass.Note(weights: h.string("WGT\(k)") ?? "-", step: h.int("STP\(k)") ?? 0, sky: h.double("SKY\(k)") ?? 0,
                                         exptime: h.double("EXP\(k)") ?? 0, unused: use == "used" ? nil : (h.string("WHY\(k)") ?? "unused"))
            records.append(Resample.InputRecord(name: name, file: h.int("FID\(k)") ?? k, note: note,
                                                expstart: h.double("BEG\(k)"), expend: h.double("END\(k)")))
        }
        return Info(plan: plan, tile: tile, tiles: tiles, x0: x0, y0: y0, gridWidth: gw, gridHeight: gh,
                    grid: grid, options: o, bunit: h.string("BUNIT") ?? "", names: names, hdus: hdus, records: records)
    }
}
