import ArgumentParser
import AstroFITS
import AstroImage
import AstroWCS

/// The root command: parses arguments, runs the subcommand, and maps domain errors to
/// one-line messages and sysexits codes (usage errors keep swift-argument-parser's 64).
public struct AstroTool: ParsableCommand {
    public static let version = "0.1.0"

    /// What `--version` prints: `astrotool 0.1.0` on the first line (for scripts), then the git
    /// commit it was built from ("unknown" outside a git checkout) and the versions of the C
    /// libraries it runs on.
    public static var versionText: String {
        """
        astrotool \(version)
        commit \(BuildInfo.commit)
        cfitsio \(cfitsioVersion())
        wcslib \(wcslibVersion())
        """
    }

    public static let configuration = CommandConfiguration(
        commandName: "astrotool",
        abstract: "From raw CCD frames to a calibrated, registered, sky-matched, drizzled mosaic.",
        version: versionText,
        subcommands: [
            InfoCommand.self,
            PreviewCommand.self,
            SimulateCommand.self,
            CCDProcCommand.self,
            WCSCommand.self,
            ResampleCommand.self,
            SkymatchCommand.self,
            AlignCommand.self,
        ]
    )

    public init() {}

    public static func main() {
        MallocTuning.apply()
        Self.exit(withError: ExitCode(run(Array(CommandLine.arguments.dropFirst()))))
    }

    /// Runs one command line and returns the exit code; the in-process entry point for tests.
    public static func run(_ arguments: [String]) -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return 0
        } catch let error as AstroError {
            Console.error("astrotool: error: \(error)")
            return error.exitCode
        } catch {
            let code = exitCode(for: error).rawValue
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if code == 0 { Console.out(message) } else { Console.error(message) }
            }
            return code
        }
    }
}

/// Facts recorded at build time. `make` (scripts/buildinfo.sh) writes them into
/// `BuildInfo+Generated.swift` (not in git) as members of `BuildInfo` itself, which Swift prefers
/// over these protocol defaults; without that file (`swift build` alone, a tarball) they apply.
protocol BuildInfoDefaults {}

extension BuildInfoDefaults {
    /// The git commit of the source tree (12 hex digits, `-dirty` if it had local changes).
    static var commit: String { "unknown" }
}

enum BuildInfo: BuildInfoDefaults {}
