import AstroDrizzle
import Foundation

/// The Slurm jobs of a plan: a job array drizzling one tile per task (tiles.sbatch), the combine
/// job (combine.sbatch), and submit.sh, which submits the array, then combine to run once every
/// task succeeded, and prints both job ids (array first). Every path in them is absolute: the
/// jobs may start in any folder of any node that sees the same filesystem.
struct SlurmScripts {
    let plan: ResamplePlan
    let planPath: String
    let folder: String
    let mosaic: String
    /// The astrotool executable the jobs run.
    let tool: String
    /// Extra sbatch options, e.g. "--partition=short --account=sky" (one #SBATCH line each).
    let extra: String

    /// (file name, text, executable).
    func files() -> [(name: String, text: String, executable: Bool)] {
        [("tiles.sbatch", tiles, false), ("combine.sbatch", combine, false), ("submit.sh", submit, true)]
    }

    /// The absolute path of the running executable (/proc/self/exe, else argv[0] made absolute).
    static func executable() -> String {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return target }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// A word for sh, single-quoted.
    static func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// --partition=x --account y → one line per option (a value not starting with '-' joins the option before it).
    var extraLines: [String] {
        var lines: [String] = []
        for word in extra.split(whereSeparator: \.isWhitespace).map(String.init) {
            if word.hasPrefix("-") || lines.isEmpty { lines.append("#SBATCH " + word) } else { lines[lines.count - 1] += " " + word }
        }
        return lines
    }

    /// As many threads as Slurm gave the task (--cpus-per-task), else astrotool's default.
    static let threads = " ${SLURM_CPUS_PER_TASK:+--threads \"$SLURM_CPUS_PER_TASK\"}"

    private func megabytes(_ bytes: Int) -> Int { (bytes * 5 / 4 + (1 << 20) - 1) >> 20 }

    private func header(_ name: String, memory: Int, log: String) -> [String] {
        ["#!/bin/sh", "# astrotool resample plan \(plan.id): \(plan.grid.width)x\(plan.grid.height) grid in \(plan.tiles.count) tiles",
         "#SBATCH --job-name=\(name)", "#SBATCH --mem=\(megabytes(memory))M", "#SBATCH --output=\(folder)/\(log)"] + extraLines
    }

    var tiles: String {
        (header("astrotool-tiles", memory: plan.cost.tileJobBytes, log: "tile_%a.log") + [
            "#SBATCH --array=1-\(plan.tiles.count)",
            "exec \(Self.quoted(tool)) resample --plan \(Self.quoted(planPath)) --tile \"$SLURM_ARRAY_TASK_ID\" "
                + "-o \(Self.quoted(folder))/part_\"$SLURM_ARRAY_TASK_ID\".fits --overwrite -q" + Self.threads,
        ]).joined(separator: "\n") + "\n"
    }

    var combine: String {
        (header("astrotool-combine", memory: plan.cost.combineJobBytes, log: "combine.log") + [
            "exec \(Self.quoted(tool)) resample combine \(Self.quoted(folder))/part_*.fits -o \(Self.quoted(mosaic)) --overwrite -q" + Self.threads,
        ]).joined(separator: "\n") + "\n"
    }

    var submit: String {
        """
        #!/bin/sh
        # Submits the \(plan.tiles.count) tile jobs of plan \(plan.id), then the combine job to run once they all
        # succeeded; prints the array's job id, then the combine job's.
        set -e
        array=$(sbatch --parsable \(Self.quoted(folder + "/tiles.sbatch")))
        array=${array%%;*}
        combine=$(sbatch --parsable --dependency=afterok:"$array" \(Self.quoted(folder + "/combine.sbatch")))
        combine=${combine%%;*}
        echo "$array"
        echo "$combine"

        """
    }
}
