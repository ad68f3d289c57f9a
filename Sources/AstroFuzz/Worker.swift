import Foundation

/// Builds case files and runs them in process. The worker speaks to the campaign over stdout,
/// one line per event, so the campaign knows which case was running when a worker died:
///
///     start I
///     done I accepted|rejected|failure PROMISED_BYTES FILE_BYTES MILLISECONDS MESSAGE
public struct FuzzCases: Sendable {
    let corpus: [Corpus.Seed]
    public let seed: UInt64

    public init(testdata: String, seed: UInt64) throws {
        corpus = try Corpus(testdata: testdata).seeds
        self.seed = seed
    }

    /// The bytes of case `index`: seed file `index mod n`, mutated by the case's own generator.
    /// Every 16th case is an unmutated seed, so the clean path stays exercised too.
    func bytes(_ index: Int) -> (seedName: String, bytes: [UInt8]) {
        let source = corpus[index % corpus.count]
        if index % 16 == 15 { return (source.name, source.bytes) }
        var mutator = Mutator(seed: seed, index: index)
        return (source.name, mutator.mutate(source.bytes))
    }

    public func write(_ index: Int, to path: String) throws {
        try Data(bytes(index).bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Runs one case in this process.
    func run(_ index: Int, scratch: URL) throws -> (outcome: Outcome, fileBytes: Int) {
        let file = scratch.appendingPathComponent("case.fits")
        let (_, bytes) = bytes(index)
        try Data(bytes).write(to: file)
        let out = scratch.appendingPathComponent("out", isDirectory: true)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        return (Pipeline.run(path: file.path, scratch: out), bytes.count)
    }

    /// The worker's loop over `range`, reporting on stdout.
    public func work(_ range: Range<Int>, scratch: URL) throws {
        for index in range {
            emit("start \(index)")
            let clock = ContinuousClock(), started = clock.now
            let (outcome, size) = try run(index, scratch: scratch)
            // Anything a library printed to C stdout goes out now, before this case's done
            // line, where the campaign counts it against the case.
            fflush(nil)
            let ms = (clock.now - started) / .milliseconds(1)
            emit("done \(index) \(Self.encode(outcome, fileBytes: size, milliseconds: Int(ms)))")
        }
    }

    private func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func encode(_ outcome: Outcome, fileBytes: Int, milliseconds: Int) -> String {
        func clean(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: "\\n") }
        switch outcome {
        case .accepted(let p): return "accepted \(p) \(fileBytes) \(milliseconds) -"
        case .rejected(let p, let m): return "rejected \(p) \(fileBytes) \(milliseconds) \(clean(m))"
        case .failure(let m): return "failure 0 \(fileBytes) \(milliseconds) \(clean(m))"
        }
    }
}
