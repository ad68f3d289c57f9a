import Foundation

/// A hidden folder beside a command's output for intermediate frames (same file system, so no
/// copy across devices), removed when the command ends, whatever happens.
struct ScratchFolder {
    let url: URL

    init(beside output: String, purpose: String) throws {
        let dir = URL(fileURLWithPath: output).deletingLastPathComponent()
        url = dir.appendingPathComponent(".astrotool-\(purpose)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
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
