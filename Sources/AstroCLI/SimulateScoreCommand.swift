import ArgumentParser
import AstroDisplay
import AstroImage
import AstroSim

extension SimulateCommand {
    /// `astrotool simulate score MOSAIC --truth DIR`: thin; the measuring is AstroSim's `NightScore`.
    public struct Score: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "score",
            abstract: "Measure a reduced mosaic against the truth of the simulated night it came from.",
            discussion: """
            The truth (stars, galaxy) is rendered onto the mosaic's grid in the mosaic's units: truth ADU per exposure x GAIN (electrons) / the frame exposure time (a rate). Then: the flux ratio (aperture photometry of the isolated, bright, unsaturated, covered truth stars over their true flux, aperture-corrected through the truth PSF) as median and 1.4826 MAD; the astrometric RMS (windowed centroids against the truth RA/Dec through the mosaic's WCS); the background bias (median of mosaic - truth galaxy away from stars) and its spread over tiles; cosmic-ray residue (truth hits where mosaic - model > 5 ERR); coverage (WHT > 0). See docs/simulate.md.
            """
        )

        @Argument(help: "The mosaic (resample output: SCI, WHT, ERR).")
        var mosaic: String

        @Option(help: "The night's truth/ folder (written by simulate night).")
        var truth: String

        @Option(parsing: .unconditional, help: "Mosaic units per truth ADU per exposure (default: from BUNIT, GAIN and the frames' EXPTIME).")
        var scale: Double?

        @Option(name: .customLong("min-flux"), parsing: .unconditional, help: "Faintest star measured, ADU per exposure (the reference catalogue's limit).")
        var minFlux = 1000.0

        @Option(name: .customLong("max-noise"), parsing: .unconditional, help: "Largest expected relative flux noise (from ERR) of a star used.")
        var maxNoise = 0.005

        @Option(parsing: .unconditional, help: "Tiles per side for the background's spread.")
        var grid = 8

        @Option(help: "Also draw flux ratio and position error against magnitude and the background residual map.")
        var plot: String?

        @OptionGroup var common: CommonOptions

        public init() {}

        public func run() throws {
            common.apply()
            var o = ScoreOptions(mosaic: mosaic, truth: truth)
            o.scale = scale
            o.minFlux = minFlux
            o.maxNoise = maxNoise
            o.grid = grid
            if let plot {   // an unwritable plot is refused before the measuring, not after
                try OutputPlan.checkDistinct(inputs: [mosaic], outputs: [plot])
                _ = try AtomicOutput(plot, overwrite: common.overwrite)
            }
            let report = try NightScore.run(o)
            if let note = report.units.assumption, scale == nil { common.warn("\(mosaic): units: \(note)") }
            if let plot { try Self.plot(report).write(to: plot, overwrite: common.overwrite) }
            if common.json { try printJSON(report) } else { for line in report.lines { Console.out(line) } }
        }

        /// Flux ratio and position error against magnitude, and the background residual map.
        static func plot(_ r: ScoreReport) throws -> Canvas {
            let mag = r.stars.map(\.mag)
            var a = ScatterPlotOptions()
            a.title = "FLUX RATIO (\(r.stars.count) STARS)"
            a.xLabel = "MAG"
            a.referenceLines = [1, r.photometry.medianRatio]
            var b = ScatterPlotOptions()
            b.title = "POSITION ERROR"
            b.xLabel = "MAG"
            b.yLabel = "PX"
            b.referenceLines = [0, r.astrometry.rmsPixels]
            let error = r.stars.map { ($0.dx * $0.dx + $0.dy * $0.dy).squareRoot() }
            b.yRange = 0...max(0.01, (error.filter(\.isFinite).max() ?? 0) * 1.1)
            var p = PreviewOptions()
            p.size = nil
            p.colormap = "viridis"
            p.colorbar = true
            // Centred on the bias, so the map shows its structure; the bias is in the title.
            let bias = r.background.bias.isFinite ? r.background.bias : 0
            let spread = max(4 * r.background.tileStd, 1e-3)
            p.interval = .manual(bias - spread, bias + spread)
            let zoom = max(1, 320 / max(r.residualMap.width, r.residualMap.height))
            let map = try ImagePanel.draw(r.residualMap, title: "BACKGROUND RESIDUAL, BIAS \(String(format: "%+.4f", bias)) \(r.units.label)",
                                          options: p, zoom: zoom)
            return Canvas.row([ScatterPlot.draw(x: mag, y: r.stars.map(\.ratio), options: a),
                               ScatterPlot.draw(x: mag, y: error, options: b), map])
        }
    }
}
