import ArgumentParser
import Foundation

/// `astrotool-fuzz`: the reader's fuzz harness (`make fuzz N=100000`; see docs/reliability.md).
public struct FuzzCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "astrotool-fuzz",
        abstract: "Mutate the FITS files in testdata/ and feed them through open, header, read, statistics, WCS and preview.",
        subcommands: [Run.self, Worker.self, Case.self, Measure.self],
        defaultSubcommand: Run.self
    )

    public init() {}

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a seeded campaign in worker processes (the default).")

        @Option(name: [.customShort("n"), .long], help: "Number of cases.") var count = 2000
        @Option(help: "Campaign seed: case I of seed S is always the same file.") var seed: UInt64 = 1
        @Option(help: "Index of the first case (to go on from, or to rerun, part of a campaign).") var first = 0
        @Option(help: "Worker processes (default: one per core).") var jobs = ProcessInfo.processInfo.activeProcessorCount
        @Option(help: "The repository's testdata folder (the seed files).") var testdata = "testdata"
        @Option(help: "Folder for the report and the files of findings.") var out = "fuzz-out"
        @Option(help: "Seconds one case may take before it counts as a hang.") var timeout = 10.0
        @Option(help: "Run every Nth case also as `astrotool info` and check its peak memory (0: never).") var rssEvery = 100
        @Option(help: "The astrotool executable (default: beside this one).") var tool: String?

        func run() throws {
            let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            var s = FuzzCampaign.Settings(worker: me.path,
                                          tool: tool ?? me.deletingLastPathComponent().appendingPathComponent("astrotool").path)
            s.count = count; s.first = first; s.seed = seed; s.jobs = jobs; s.testdata = testdata; s.out = out
            s.timeout = timeout; s.rssEvery = rssEvery
            let terminal = isatty(2) == 1
            let total = count
            let report = try FuzzCampaign(s).run { done in
                if terminal, done % 100 == 0 { FileHandle.standardError.write(Data("\r\u{1B}[2Kfuzz: \(done)/\(total)".utf8)) }
            }
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
            print(report)
            if report.findings > 0 { throw ExitCode(1) }
        }
    }

    struct Worker: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run cases in this process (started by run).", shouldDisplay: false)
        @Option var seed: UInt64
        @Option var from: Int
        @Option var to: Int
        @Option var testdata: String
        @Option var scratch: String

        func run() throws {
            try FuzzCases(testdata: testdata, seed: seed).work(from..<to, scratch: URL(fileURLWithPath: scratch, isDirectory: true))
        }
    }

    struct Case: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the file of one case, to reproduce a finding by hand.")
        @Option var seed: UInt64 = 1
        @Option var index: Int
        @Option var testdata = "testdata"
        @Option(name: .shortAndLong) var output: String

        func run() throws {
            try FuzzCases(testdata: testdata, seed: seed).write(index, to: output)
        }
    }

    /// Runs a command and prints its own peak memory. The campaign measures through this small
    /// process because Linux hands a spawned child the parent's peak at exec: measured straight
    /// from the campaign (tens of MB), every child would seem at least that big.
    struct Measure: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a command's peak memory (maxrss bytes).", shouldDisplay: false)
        @Argument(parsing: .captureForPassthrough) var command: [String]

        func run() throws {
            let argv = command.first == "--" ? Array(command.dropFirst()) : command
            guard let program = argv.first else { throw ValidationError("measure needs a command") }
            let exit = try ChildProcess(program, Array(argv.dropFirst()), captureOutput: false,
                                        environment: ["SWIFT_BACKTRACE": "enable=no"]).wait()
            print("maxrss \(exit.maxRSS) exit \(exit.code.map(String.init) ?? "signal")")
        }
    }
}
