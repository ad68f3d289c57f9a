import AstroImage
import Foundation

/// A hidden folder beside a command's output for intermediate frames (same file system, so no
/// copy across devices), removed when the command ends, whatever happens.
struct ScratchFolder {
    let url: URL

    /// Checks first that the output may be written (its folder exists; it does not, or
    /// `overwrite`), as the output's own writer would, so a refusal comes before the work and
    /// no missing folder is created on the way.
    init(beside output: String, overwrite: Bool, purpose: String) throws {
        _ = try AtomicOutput(output, overwrite: overwrite)
        let dir = URL(fileURLWithPath: output).deletingLastPathComponent()
        url = dir.appendingPathComponent(".astrotool-\(purpose)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        } catch {
            throw AstroError(.cannotCreate, file: output, operation: "creating a scratch folder", reason: "cannot create \(url.path)")
        }
    }

    /// The path of input `index`'s intermediate: its own subfolder keeps the input's file name,
    /// which the combination records in IMCMBnnn.
    func path(_ index: Int, for input: String) throws -> String {
        let folder = url.appendingPathComponent("\(index)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(URL(fileURLWithPath: input).lastPathComponent).path
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
