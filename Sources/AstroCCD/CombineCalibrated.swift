import AstroImage
import Foundation

/// Combining raw frames: each is calibrated first (overscan, trim, bias, dark, ... as `ccdproc
/// process` would), as IRAF's zerocombine, darkcombine and flatcombine run ccdproc on their
/// inputs. When all the calibrated frames fit in half the memory limit they stay in memory
/// (a night's masters: 11 biases of 4 MB; writing and reading them back was a quarter of the
/// bias master's time); otherwise they go to a scratch folder beside the output, one at a time,
/// so memory stays bounded by the combination's own line buffers, and the folder goes when it
/// is done. Both ways give the same bytes: only float32 output, which the copies hold exactly,
/// combines from memory.
extension Combine {
    public static func run(_ paths: [String], calibratedBy process: ProcessOptions, options: CombineOptions, output: String,
                           overwrite: Bool, progress: (Int, Int) -> Void = { _, _ in }) throws -> CombineReport {
        guard !paths.isEmpty else {
            throw AstroError(.noInput, operation: "combining", reason: "no input frames")
        }
        var process = process
        process.goodBits = options.goodBits
        process.exptimeKey = options.exptimeKey
        // The frames' σ only counts when it is propagated; otherwise the combination's own
        // scatter gives the output's, and σ planes for every frame (from the masters' ERR, or
        // --error) were memory and work for nothing: the masters' are not read, the frames' dropped.
        let keepSigma = options.uncertainty == .propagate
        let masters = try Masters(options: process, uncertainty: keepSigma)
        _ = try AtomicOutput(output, overwrite: overwrite)   // a bad output is refused before any work
        var plain = options
        plain.goodBits = .none   // applied when the raw frames were read
        let goodBits = options.goodBits, steps = process, lent = masters
        let calibrate = { @Sendable (path: String) throws -> CCDFile in
            var frame = try CCDProcess.run(try CCDFile.read(path, goodBits: goodBits, uncertainty: keepSigma), masters: lent, options: steps).0
            if !keepSigma { frame.dropUncertainty() }
            return frame
        }
        let first = try calibrate(paths[0])
        if options.shifts == nil && options.pixelType == .float32 && first.byteCount * paths.count <= options.memLimit / 2 {
            // The rest calibrated two at a time (reading and the overscan fits are serial work);
            // the first failure in input order is reported.
            let frames = try [first] + Parallel.tryMap(count: paths.count - 1) { i in try calibrate(paths[i + 1]) }
            return try run(frames, paths: paths, options: plain, output: output, overwrite: overwrite, progress: progress)
        }
        let scratch = try ScratchFolder(beside: output, overwrite: overwrite, purpose: "calibrate")
        defer { scratch.remove() }
        var calibrated: [String] = []
        for (i, path) in paths.enumerated() {
            let result = i == 0 ? first : try calibrate(path)
            let target = try scratch.path(i, for: path)
            try result.write(to: target, overwrite: false, bitpix: options.pixelType)
            calibrated.append(target)
        }
        do {
            return try run(calibrated, options: plain, output: output, overwrite: overwrite, progress: progress)
        } catch var error as AstroError {
            // Name the raw frames, not their calibrated copies in the scratch folder.
            for (copy, raw) in zip(calibrated, paths) {
                if error.file == copy { error.file = raw }
                error.reason = error.reason.replacingOccurrences(of: copy, with: raw)
            }
            throw error
        }
    }
}
