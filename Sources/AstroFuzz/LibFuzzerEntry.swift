import Foundation

/// One libFuzzer input: the bytes as a FITS file through the same in-process pipeline as the
/// seeded campaign. A broken contract aborts, which libFuzzer records as a crash with its input.
/// Used only by the coverage-guided build (`make fuzz-libfuzzer`).
public enum LibFuzzerEntry {
    nonisolated(unsafe) private static var scratch: URL?

    public static func run(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        let folder = scratch ?? {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("astrotool-libfuzzer-\(getpid())")
            try? FileManager.default.createDirectory(at: url.appendingPathComponent("out"), withIntermediateDirectories: true)
            scratch = url
            return url
        }()
        let file = folder.appendingPathComponent("case.fits")
        let bytes = data.map { Data(bytes: $0, count: count) } ?? Data()
        guard (try? bytes.write(to: file)) != nil else { return 0 }
        if case .failure(let why) = Pipeline.run(path: file.path, scratch: folder.appendingPathComponent("out")) {
            FileHandle.standardError.write(Data("astrotool-fuzz: contract broken: \(why)\n".utf8))
            abort()
        }
        return 0
    }
}
