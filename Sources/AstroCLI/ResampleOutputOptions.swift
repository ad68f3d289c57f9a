import ArgumentParser
import AstroDrizzle

/// What a drizzle writes besides the grid and the kernel: fill value, context, variances and
/// ERR (`resample drizzle` and `resample plan`).
struct ResampleOutputOptions: ParsableArguments {
    @Option(help: "Where no input lands: NaN, INDEF (leave) or a number.") var fillval = "NaN"
    @Flag(help: "Write no context (CON).") var noContext = false
    @Flag(help: "Do not resample VAR_RNOISE, VAR_POISSON, VAR_FLAT.") var noVariance = false
    @Option(help: "Output ERR from: auto (from_var when variances are resampled, else from_err), from_var (the VAR_* planes, as stcal), from_err (the inputs' ERR² propagated like a variance: the error of the weighted mean), driz_err (ERR drizzled like data, as drizzle), none.") var computeErr = "auto"

    func validate() throws {
        guard ResampleOptions.ErrorSource(rawValue: computeErr) != nil else { throw ValidationError("--compute-err takes auto, from_var, from_err, driz_err or none") }
        guard DrizzleOptions.Fill(text: fillval) != nil else { throw ValidationError("--fillval takes NaN, INDEF or a number") }
    }

    func apply(to o: inout ResampleOptions) {
        o.drizzle.fill = DrizzleOptions.Fill(text: fillval)!
        o.context = !noContext
        o.variance = !noVariance
        o.errorSource = .init(rawValue: computeErr)!
    }

    /// Every option of this group, by name (a tile job takes them from its plan and refuses them).
    static let names = ["--fillval", "--no-context", "--no-variance", "--compute-err"]
}
