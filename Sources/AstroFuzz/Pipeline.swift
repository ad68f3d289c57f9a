import AstroDisplay
import AstroFITS
import AstroImage
import AstroWCS
import Foundation

/// What one fuzz case did.
enum Outcome: Sendable {
    /// Every stage ran; `promisedBytes` is what the image HDUs that passed the reader's checks
    /// needed as Float32 (the memory bound is judged against it).
    case accepted(promisedBytes: Int)
    /// Some stage refused the file with a proper one-line `AstroError`.
    case rejected(promisedBytes: Int, message: String)
    /// A contract was broken: an error that names no file, a message over several lines,
    /// another error type, or an output left behind by a failed write.
    case failure(String)
}

/// Feeds one file through what every command does with an input — open, header, image read,
/// statistics, WCS, preview — in process, and checks the contracts on the way.
enum Pipeline {
    static func run(path: String, scratch: URL) -> Outcome {
        var promised = 0
        var firstError: String?
        var broken: String?
        var previewed = false

        /// Runs one stage; a domain error is fine if it is well formed, anything else is a finding.
        func stage(_ name: String, _ body: () throws -> Void) {
            do {
                try body()
            } catch let error as AstroError {
                let message = error.description
                if error.file == nil {
                    broken = broken ?? "\(name): error names no file: \(message)"
                } else if message.contains("\n") {
                    broken = broken ?? "\(name): error spans several lines: \(message)"
                }
                firstError = firstError ?? message
            } catch {
                broken = broken ?? "\(name): not an AstroError: \(error)"
            }
        }

        stage("open") {
            let file = try FITSFile(path)
            for index in 0..<file.hduCount {
                stage("HDU \(index)") {
                    try file.select(hdu: index)
                    let info = try file.info()
                    _ = info.header.cardImages
                    guard info.kind == .image, info.shape.count >= 1 else { return }
                    let image = try file.readImage()
                    promised += image.width * image.height * 4
                    examine(image, path: path, label: file.hduLabel, preview: !previewed, scratch: scratch, stage: stage)
                    previewed = true
                }
            }
        }
        stage("first image") {
            let file = try FITSFile(path, image: true)
            _ = try file.readImageDouble()
        }
        if broken == nil, let left = leftovers(scratch) { broken = "output left behind: \(left)" }
        if let broken { return .failure(broken) }
        if let firstError { return .rejected(promisedBytes: promised, message: firstError) }
        return .accepted(promisedBytes: promised)
    }

    /// Statistics, WCS and a preview of one image that was read.
    private static func examine(_ image: Image, path: String, label: String, preview: Bool, scratch: URL,
                                stage: (String, () throws -> Void) -> Void) {
        _ = image.pixels.withUnsafeBufferPointer { Statistics.summary($0, sigma: 3, maxIters: 5) }
        if image.header.contains("CTYPE1") {
            stage("WCS") {
                let wcs = try WCS(header: image.header, file: path, hdu: label)
                let cx = Double(image.width - 1) / 2, cy = Double(image.height - 1) / 2
                if let c = wcs.pixelToWorld(x: cx, y: cy) { _ = wcs.worldToPixel(ra: c.ra, dec: c.dec) }
                _ = wcs.pixelScale(x: cx, y: cy)
                _ = wcs.footprint(width: image.width, height: image.height)
            }
        }
        guard preview else { return }
        stage("preview") {
            let output = scratch.appendingPathComponent("preview.png").path
            var options = PreviewOptions()
            options.size = 256
            _ = try AstroError.naming(path) { try Preview.write(image, to: output, options: options, overwrite: false) }
            try FileManager.default.removeItem(atPath: output)
        }
    }

    /// Names of files in the scratch folder (it must be empty after each case).
    private static func leftovers(_ scratch: URL) -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? []
        for name in names { try? FileManager.default.removeItem(at: scratch.appendingPathComponent(name)) }
        return names.isEmpty ? nil : names.sorted().joined(separator: ", ")
    }
}
