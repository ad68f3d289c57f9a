import Foundation
import Synchronization

/// Runs many cases in worker processes and keeps what went wrong.
///
/// Each job is a worker process on a contiguous range of cases. When a worker dies (a crash in
/// our code, cfitsio or wcslib) or a case runs past the time limit, the campaign records the
/// case, saves its file for reproduction and starts a new worker on the next case. Every
/// `rssEvery`-th case is also run as a real `astrotool info` whose own peak memory is compared
/// with the bound: process baseline + 2 × max(file size, Float32 bytes its header promises)
/// + `rssSlack`.
public struct FuzzCampaign: Sendable {
    public struct Settings: Sendable {
        public var count = 2000
        /// The first case's index: a campaign covers first ..< first + count.
        public var first = 0
        public var seed: UInt64 = 1
        public var jobs = max(1, ProcessInfo.processInfo.activeProcessorCount)
        public var testdata = "testdata"
        public var out = "fuzz-out"
        public var timeout = 10.0
        public var rssEvery = 100
        /// The fuzz executable (workers are this binary with `worker`) and astrotool itself.
        public var worker: String
        public var tool: String
        public init(worker: String, tool: String) { self.worker = worker; self.tool = tool }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public var cases = 0, accepted = 0, rejected = 0
        public var crashes: [String] = [], hangs: [String] = [], failures: [String] = [], memory: [String] = []
        public var rssChecked = 0
        /// The largest peak memory `info` reached, and the bound for that case.
        public var largestPeak = 0, largestPeakBound = 0
        public var baselineRSS = 0
        public var seconds = 0.0

        public var findings: Int { crashes.count + hangs.count + failures.count + memory.count }

        public var description: String {
            var lines = [
                "fuzz: \(cases) cases in \(String(format: "%.1f", seconds)) s: \(accepted) accepted, \(rejected) rejected with a one-line error",
                "fuzz: \(crashes.count) crashes, \(hangs.count) hangs, \(failures.count) contract failures, "
                    + "\(memory.count) over the memory bound (\(rssChecked) checked; largest peak \(largestPeak >> 10) KiB, "
                    + "bound there \(largestPeakBound >> 10) KiB; baseline \(baselineRSS >> 10) KiB)",
            ]
            for (label, list) in [("crash", crashes), ("hang", hangs), ("failure", failures), ("memory", memory)] {
                lines += list.prefix(20).map { "  \(label): \($0)" }
            }
            return lines.joined(separator: "\n")
        }
    }

    let settings: Settings
    let cases: FuzzCases

    public init(_ settings: Settings) throws {
        self.settings = settings
        cases = try FuzzCases(testdata: settings.testdata, seed: settings.seed)
    }

    public func run(progress: (@Sendable (Int) -> Void)? = nil) throws -> Report {
        let started = Date()
        let out = URL(fileURLWithPath: settings.out, isDirectory: true)
        try FileManager.default.createDirectory(at: out.appendingPathComponent("findings"), withIntermediateDirectories: true)
        var base = Report()
        base.baselineRSS = try baselineRSS(in: out)
        let baseline = base.baselineRSS
        let jobs = max(1, min(settings.jobs, settings.count))
        let reports = Mutex([Report](repeating: Report(), count: jobs))
        let done = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: jobs) { job in
            let lower = settings.first + settings.count * job / jobs
            let upper = settings.first + settings.count * (job + 1) / jobs
            let r = runJob(lower..<upper, job: job, out: out, baseline: baseline) {
                progress?(done.add(1, ordering: .relaxed).newValue)
            }
            reports.withLock { $0[job] = r }
        }
        var total = base
        for r in reports.withLock({ $0 }) {
            total.cases += r.cases; total.accepted += r.accepted; total.rejected += r.rejected
            total.crashes += r.crashes; total.hangs += r.hangs; total.failures += r.failures; total.memory += r.memory
            total.rssChecked += r.rssChecked
            if r.largestPeak > total.largestPeak { total.largestPeak = r.largestPeak; total.largestPeakBound = r.largestPeakBound }
        }
        total.seconds = Date().timeIntervalSince(started)
        try total.description.write(to: out.appendingPathComponent("report.txt"), atomically: true, encoding: .utf8)
        return total
    }

    /// One job: workers on `range`, restarted past each case that killed one.
    private func runJob(_ range: Range<Int>, job: Int, out: URL, baseline: Int, tick: () -> Void) -> Report {
        var report = Report()
        let scratch = out.appendingPathComponent("job\(job)", isDirectory: true)
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var next = range.lowerBound
        while next < range.upperBound {
            let args = ["worker", "--seed", "\(settings.seed)", "--from", "\(next)", "--to", "\(range.upperBound)",
                        "--testdata", settings.testdata, "--scratch", scratch.path]
            guard let child = try? ChildProcess(settings.worker, args, captureOutput: true,
                                                environment: ["SWIFT_BACKTRACE": "enable=no"]) else {
                report.failures.append("could not start the worker \(settings.worker)")
                return report
            }
            var current: Int?
            var ended = false, hung = false
            var stray = Set<Int>()
            while !ended {
                switch child.readLine(timeout: settings.timeout) {
                case .text(let line):
                    let parts = line.split(separator: " ", maxSplits: 6).map(String.init)
                    guard parts.count >= 2, ["start", "done"].contains(parts[0]), let index = Int(parts[1]) else {
                        // Not ours: a library wrote to stdout, which would corrupt `--json` output.
                        if let c = current, !stray.contains(c) {
                            stray.insert(c)
                            report.failures.append("case \(c) (\(cases.bytes(c).seedName)): a library wrote to stdout: "
                                                   + String(line.prefix(60)).debugDescription + save(c, out))
                        }
                        continue
                    }
                    if parts[0] == "start" { current = index; continue }
                    current = nil
                    next = index + 1
                    record(parts, index: index, into: &report, out: out, baseline: baseline)
                    tick()
                case .end:
                    ended = true
                case .timedOut:
                    child.kill()
                    ended = true
                    hung = true
                    if let c = current {
                        report.hangs.append("case \(c) (\(cases.bytes(c).seedName)) ran over \(Int(settings.timeout)) s" + save(c, out))
                    }
                }
            }
            let exit = child.wait()
            if let c = current {
                report.cases += 1
                if !hung {
                    let how = exit.signal.map { "signal \($0)" } ?? "exit \(exit.code ?? -1)"
                    report.crashes.append("case \(c) (\(cases.bytes(c).seedName)) killed the worker: \(how)" + save(c, out))
                }
                next = c + 1
                tick()
            } else if exit.code != 0 && next < range.upperBound {
                report.failures.append("worker exited \(exit.code ?? -1) before case \(next)")
                return report
            }
        }
        return report
    }

    private func record(_ parts: [String], index: Int, into report: inout Report, out: URL, baseline: Int) {
        report.cases += 1
        guard parts.count >= 7 else { report.failures.append("case \(index): garbled report"); return }
        let promised = Int(parts[3]) ?? 0, size = Int(parts[4]) ?? 0, milliseconds = Int(parts[5]) ?? 0
        switch parts[2] {
        case "accepted": report.accepted += 1
        case "rejected": report.rejected += 1
        default: report.failures.append("case \(index) (\(cases.bytes(index).seedName)): \(parts[6])" + save(index, out))
        }
        // Sampled, and every case that took long: a big allocation shows first as time.
        if settings.rssEvery > 0, index % settings.rssEvery == 0 || milliseconds >= Self.slowCase {
            checkMemory(index, promised: promised, size: size, baseline: baseline, out: out, into: &report)
        }
    }

    /// Peak RSS of the same run varies (allocator arenas, page granularity, the thread pool's
    /// stacks, how many workers' 64 Ki-bin tables are alive at once), more so while the rest
    /// of the test suite loads both cores: a CI run once failed 28 KiB over one MiB of slack,
    /// a local `make test` 52 KiB over. A real leak of image size is megabytes per megabyte of
    /// file, so two MiB of slack keeps the check meaningful without flaking.
    static let rssSlack = 2 << 20

    /// Cases that take this long (ms) get their memory checked whatever their index.
    static let slowCase = 500

    /// Runs `astrotool info` on the case and compares its own peak memory with the bound.
    private func checkMemory(_ index: Int, promised: Int, size: Int, baseline: Int, out: URL, into report: inout Report) {
        let path = out.appendingPathComponent("rss-\(index).fits").path
        defer { unlink(path) }
        guard (try? cases.write(index, to: path)) != nil, let peak = peakRSS(["info", "--json", path]) else { return }
        let allowance = 2 * max(size, promised) + Self.rssSlack
        report.rssChecked += 1
        if peak > report.largestPeak { report.largestPeak = peak; report.largestPeakBound = baseline + allowance }
        if peak > baseline + allowance {
            report.memory.append("case \(index): info peaked at \(peak >> 10) KiB, bound \((baseline + allowance) >> 10) KiB" + save(index, out))
        }
    }

    /// Peak memory of `astrotool ARGS`, through the `measure` helper (see `FuzzCommand.Measure`).
    private func peakRSS(_ arguments: [String]) -> Int? {
        guard let child = try? ChildProcess(settings.worker, ["measure", "--", settings.tool] + arguments, captureOutput: true) else { return nil }
        defer { _ = child.wait() }
        guard case .text(let line) = child.readLine(timeout: settings.timeout) else { return nil }
        let parts = line.split(separator: " ")
        return parts.count >= 2 && parts[0] == "maxrss" ? Int(parts[1]) : nil
    }

    /// The process baseline: the most `astrotool info` needs beyond the bound's allowance on
    /// any unmutated seed file (the process itself, plus the statistics' fixed 64 Ki-bin radix
    /// tables, up to about 18 MB, which do not grow with the image).
    private func baselineRSS(in out: URL) throws -> Int {
        let scratch = out.appendingPathComponent("baseline", isDirectory: true)
        let previews = scratch.appendingPathComponent("out", isDirectory: true)
        try FileManager.default.createDirectory(at: previews, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let path = scratch.appendingPathComponent("seed.fits").path
        var worst = 0
        for seed in cases.corpus {
            try Data(seed.bytes).write(to: URL(fileURLWithPath: path))
            let outcome = Pipeline.run(path: path, scratch: previews)
            var promised = 0
            if case .accepted(let p) = outcome { promised = p }
            if case .rejected(let p, _) = outcome { promised = p }
            guard let peak = peakRSS(["info", "--json", path]) else { continue }
            worst = max(worst, peak - 2 * max(seed.bytes.count, promised))
        }
        return worst
    }

    /// Keeps a finding's file and says where.
    private func save(_ index: Int, _ out: URL) -> String {
        let path = out.appendingPathComponent("findings/seed\(settings.seed)-case\(index).fits").path
        return (try? cases.write(index, to: path)) != nil ? " -> \(path)" : ""
    }
}
