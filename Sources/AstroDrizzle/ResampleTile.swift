import AstroFITS
import AstroImage
import AstroWCS
import Foundation

public struct ResampleTileReport: Sendable, Encodable {
    public var output: String
    public var plan: String
    public var tile: Int
    /// The tile's grid columns x0..<x1 and rows y0..<y1 (0-based).
    public var x0: Int, x1: Int, y0: Int, y1: Int
    /// The plan's input indices read for this tile.
    public var read: [Int]
    public var kernelSeconds: Double
    public var missed: Int
}

extension Resample {
    /// Drizzles tile `number` of `plan` alone into `output` (a part for `combine`): the grid and
    /// the options are the plan's, only the inputs reaching the tile are read, and every input
    /// keeps its context bit. `paths`, when given, must be the plan's inputs in its order; else
    /// the plan's own (relative ones from the plan's folder of origin).
    public static func runTile(_ plan: ResamplePlan, planPath: String, paths: [String]?, tile number: Int,
                               output: String, overwrite: Bool) throws -> ResampleTileReport {
        guard let tile = plan.tiles.first(where: { $0.number == number }) else {
            throw AstroError(.badData, file: planPath, operation: "choosing the tile",
                             reason: "tile \(number) is not in the plan (1…\(plan.tiles.count))")
        }
        let inputs = try checkedInputs(plan, planPath: planPath, paths: paths)
        let o = try plan.resampleOptions()
        let grid = try plan.gridWCS(file: planPath)
        let setup = PassSetup(inputs, grid: grid, width: plan.grid.width, height: plan.grid.height, options: o)
        let skip = Set(inputs.indices).subtracting(tile.inputs)
        var pass = try ResamplePass.run(inputs, rows: tile.y0..<tile.y1, columns: tile.x0..<tile.x1, setup: setup, skip: skip, options: o)
        pass.hdus[0].image.header = TilePart.header(plan, tile: tile, inputs: inputs, notes: pass.notes, options: o)
        try FITSWriter.write(pass.hdus, to: output, overwrite: overwrite)
        return ResampleTileReport(output: output, plan: plan.id, tile: number, x0: tile.x0, x1: tile.x1, y0: tile.y0, y1: tile.y1,
                                  read: pass.notes.keys.sorted(), kernelSeconds: pass.kernelSeconds,
                                  missed: pass.missed)
    }

    /// The plan's inputs, headers read and checked against the plan: the same list (when given),
    /// the same HDU, shape, file size and header cards.
    static func checkedInputs(_ plan: ResamplePlan, planPath: String, paths named: [String]?) throws -> [ResampleInput] {
        let given = try named?.flatMap(FITS.sciChips)
        let expected = plan.inputs.map { plan.resolved($0.path) }
        let paths = given ?? expected
        if let given {
            guard given.count == expected.count else {
                throw AstroError(.badData, file: planPath, operation: "checking the inputs",
                                 reason: "\(given.count) inputs given, the plan has \(expected.count)")
            }
            for (k, (a, b)) in zip(given, expected).enumerated() where !sameInput(a, b) {
                throw AstroError(.badData, file: a, operation: "checking the inputs",
                                 reason: "input \(k + 1) of the plan \(planPath) is \(plan.inputs[k].path)")
            }
        }
        return try zip(paths, plan.inputs).map { path, recorded in
            let input = try ResampleInput(path)
            let now = Fingerprint.of(input)
            var why: String?
            if now.hdu != recorded.hdu { why = "the chip was \(recorded.hdu)" }
            else if (now.width, now.height) != (recorded.width, recorded.height) {
                why = "it was \(recorded.width)x\(recorded.height), now \(now.width)x\(now.height)"
            } else if now.bytes != recorded.bytes { why = "the file was \(recorded.bytes) bytes, now \(now.bytes)" }
            else if now.headerHash != recorded.headerHash { why = "its header cards differ" }
            if let why {
                throw AstroError(.badData, file: path, hdu: input.hdu, operation: "checking the plan \(planPath)",
                                 reason: "the input changed since the plan was made: \(why)")
            }
            return input
        }
    }

    /// Two names for one chip: the same text, or the same file (after links) and selector.
    private static func sameInput(_ a: String, _ b: String) -> Bool {
        guard a != b else { return true }
        let (ba, bb) = (FITS.basePath(a), FITS.basePath(b))
        return FITS.canonicalPath(ba) == FITS.canonicalPath(bb) && a.dropFirst(ba.count) == b.dropFirst(bb.count)
    }
}
