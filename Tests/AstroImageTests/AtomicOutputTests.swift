import AstroImage
import Foundation
import Testing

/// Outputs appear whole or not at all; an existing one is replaced only when asked, and the
/// replacement (an exchange of names on Linux) leaves no temporary file behind.
@Suite struct AtomicOutputTests {
    func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func leftovers(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
    }

    @Test func replacesOnlyWhenAsked() throws {
        let dir = try folder(), path = dir.appendingPathComponent("out.fits").path
        defer { try? FileManager.default.removeItem(at: dir) }
        try AtomicOutput(path, overwrite: false).write { try Data("first".utf8).write(to: URL(fileURLWithPath: $0)) }
        #expect(throws: AstroError.self) { try AtomicOutput(path, overwrite: false) }
        for text in ["second", "third, longer than the others"] {
            try AtomicOutput(path, overwrite: true).write { try Data(text.utf8).write(to: URL(fileURLWithPath: $0)) }
            #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self) == text)
        }
        #expect(try leftovers(dir).isEmpty)
    }

    @Test func aFailedWriteLeavesTheOldOutput() throws {
        let dir = try folder(), path = dir.appendingPathComponent("out.fits").path
        defer { try? FileManager.default.removeItem(at: dir) }
        try AtomicOutput(path, overwrite: false).write { try Data("kept".utf8).write(to: URL(fileURLWithPath: $0)) }
        struct Broken: Error {}
        #expect(throws: Broken.self) {
            try AtomicOutput(path, overwrite: true).write { try Data("half".utf8).write(to: URL(fileURLWithPath: $0)); throw Broken() }
        }
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self) == "kept")
        #expect(try leftovers(dir).isEmpty)
    }
}
