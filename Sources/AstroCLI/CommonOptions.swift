import ArgumentParser
import AstroImage
import Foundation

/// Options every subcommand shares.
public struct CommonOptions: ParsableArguments {
    @Flag(help: "Replace existing output files.")
    public var overwrite = false

    @Flag(help: "Print a machine-readable JSON summary on stdout.")
    public var json = false

    @Flag(name: .shortAndLong, help: "More detail on stderr (per-step timings).")
    public var verbose = false

    @Flag(name: .shortAndLong, help: "Only errors on stderr.")
    public var quiet = false

    @Option(help: "Worker threads (default: one per core).")
    public var threads: Int?

    public init() {}

    public func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if verbose && quiet { throw ValidationError("--verbose and --quiet exclude each other") }
    }

    /// Applies process-wide settings (thread count) before a command runs.
    public func apply() {
        if let threads { Parallel.threads = threads }
    }

    /// A line for humans on stderr, unless `--quiet` or `--json` (scripts want stderr for errors).
    public func note(_ line: String) {
        if !quiet && !json { Console.error(line) }
    }

    /// A transient status line for long work (terminal only, and not with `--quiet`/`--json`).
    public func progress(_ text: String) {
        if !quiet && !json { Console.progress(text) }
    }

    /// `astrotool: warning: …` on stderr, unless `--quiet` (shown with `--json`: it is not the result).
    public func warn(_ line: String) {
        if !quiet { Console.error("astrotool: warning: \(line)") }
    }

    public func detail(_ line: String) {
        if verbose { Console.error(line) }
    }
}

/// Expands `@list` arguments: a file naming one input per line (blank lines and `#` comments
/// skipped), as SWarp and IRAF accept.
public func expandListArguments(_ args: [String]) throws -> [String] {
    var out: [String] = []
    for arg in args {
        guard arg.hasPrefix("@"), arg.count > 1 else { out.append(arg); continue }
        let listPath = String(arg.dropFirst())
        guard let text = try? String(contentsOfFile: listPath, encoding: .utf8) else {
            throw AstroError(.noInput, file: listPath, operation: "reading @list", reason: "cannot read the list file")
        }
        let folder = URL(fileURLWithPath: listPath).deletingLastPathComponent().path
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            out.append(line.hasPrefix("/") ? line : (folder == "." ? line : folder + "/" + line))
        }
    }
    return out
}

/// JSON encoding for `--json` reports: stable key order, no escaped slashes.
public func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let data = try encoder.encode(value)
    Console.out(String(decoding: data, as: UTF8.self))
}

/// A memory size as `--mem-limit` takes it: bytes, or a number with K, M or G (1024-based).
func byteCount(_ text: String) -> Int? {
    let t = text.uppercased().trimmingCharacters(in: .whitespaces)
    let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
    if let last = t.last, let unit = units[last] { return Double(t.dropLast()).map { Int($0 * Double(unit)) }.flatMap { $0 > 0 ? $0 : nil } }
    return Int(t).flatMap { $0 > 0 ? $0 : nil }
}
