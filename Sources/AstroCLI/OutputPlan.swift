import AstroFITS
import AstroImage
import Foundation

/// Where each input's product goes: `-o OUT` for one input, or `--outdir DIR` keeping the
/// input's file name. Refuses to write over an input, even with `--overwrite`.
struct OutputPlan {
    static func outputs(for inputs: [String], output: String?, outdir: String?) throws -> [String] {
        if let output {
            guard inputs.count == 1 else {
                throw AstroError(.usage, operation: "choosing outputs",
                                 reason: "-o names one output but \(inputs.count) inputs were given; use --outdir")
            }
            return [output]
        }
        guard let outdir else {
            throw AstroError(.usage, operation: "choosing outputs", reason: "give -o OUT or --outdir DIR")
        }
        return inputs.map { input in
            let base = URL(fileURLWithPath: FITS.basePath(input)).lastPathComponent
            return URL(fileURLWithPath: outdir).appendingPathComponent(base).path
        }
    }

    /// Throws when an output is one of the inputs (the same file on disk).
    static func checkDistinct(inputs: [String], outputs: [String]) throws {
        let ins = Set(inputs.map(FITS.canonicalPath))
        for out in outputs where ins.contains(FITS.canonicalPath(out)) {
            throw AstroError(.cannotCreate, file: out, operation: "creating output", reason: "it is one of the inputs")
        }
    }
}
