import AstroImage
import Foundation

/// Combining raw frames: each is calibrated first (overscan, trim, bias, dark, ... as `ccdproc
/// process` would), as IRAF's zerocombine, darkcombine and flatcombine run ccdproc on their
/// inputs. The calibrated frames go to a scratch folder beside the output, one at a time, so
/// memory stays bounded by the combination's own line buffers; the folder goes when it is done.
extension Combine {
    public static func run(_ paths: [String], calibratedBy process: ProcessOptions, options: CombineOptions, output: String,
                           overwrite: Bool, progress: (Int, Int) -> Void = { _, _ in }) throws -> CombineReport {
        guard !paths.isEmpty else {
            throw AstroError(.noInput, operation: "combining", reason: "no input frames")
        }
        var process = process
        process.goodBits = options.goodBits
        process.exptimeKey = options.exptimeKey
        let masters = try Masters(options: process)
        let scratch = try ScratchFolder(beside: output, overwrite: overwrite, purpose: "calibrate")
        defer { scratch.remove() }
        var calibrated: [String] = []
        for (i, path) in paths.enumerated() {
            let frame = try CCDFile.read(path, goodBits: options.goodBits)
            let (result, _) = try CCDProcess.run(frame, masters: masters, options: process)
            let target = try scratch.path(i, for: path)
            try result.write(to: target, overwrite: false, bitpix: options.pixelType)
            calibrated.append(target)
        }
        var plain = options
        plain.goodBits = .none   // applied when the raw frames were read
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
