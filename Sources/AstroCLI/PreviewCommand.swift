import ArgumentParser
import AstroDisplay
import AstroFITS
import AstroImage
import AstroWCS
import Foundation

/// `astrotool preview`: an 8-bit PNG of an image for a quick look or a report.
struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Render a FITS image as an 8-bit PNG with display stretches and intervals.",
        discussion: """
        The image is block-averaged by an integer factor to fit --size, the interval is computed \
        on its finite pixels, values are clipped to [0,1], stretched, optionally inverted and \
        coloured. FITS orientation by default: row 1 at the bottom.
        Intervals: zscale, minmax, percentile:P or pP (central P%), pLO,HI (asymmetric \
        percentiles), sK (median ± K sigma), nN (drop the N lowest and highest values), LO,HI \
        (manual). Stretches: linear, sqrt, log, asinh, sinh, power, exp, histeq, sb (surface \
        brightness in mag/arcsec² from --zeropoint and the WCS pixel area; needs a WCS or \
        --pixel-scale); a parameter may follow a colon, e.g. asinh:0.05.
        """
    )

    @Argument(help: "FITS image (extended syntax selects the HDU).")
    var file: String

    @Option(name: .shortAndLong, help: "Output PNG path.")
    var output: String

    @Option(help: "Stretch: linear|sqrt|log|asinh|sinh|power|exp|histeq|sb[:param].")
    var stretch = "linear"

    @Option(parsing: .unconditional, help: "Interval: zscale|minmax|percentile:P|pP|pLO,HI|sK|nN|LO,HI.")
    var interval = "zscale"

    @Option(help: "Largest output dimension in pixels (0 = full size).")
    var size = 1024

    @Flag(help: "Invert the grey scale or colormap.")
    var invert = false

    @Option(help: "Mirror the picture: x (left-right) or y (top-bottom).")
    var flip: [String] = []

    @Option(help: "Colormap: gray, viridis, magma, inferno, plasma, cividis, hot.")
    var colormap = "gray"

    @Flag(help: "Add a colour bar under the image.")
    var colorbar = false

    @Option(help: ArgumentHelp("Bad-pixel mask: a FITS image of the same shape, non-zero = bad (e.g. 'f.fits[DQ]').",
                               valueName: "FILE"))
    var mask: String?

    @Option(name: .customLong("mask-color"), help: "Paint masked pixels: red, green, blue, yellow, cyan, magenta, white, black, or R,G,B.")
    var maskColor: String?

    @Option(parsing: .unconditional, help: "Photometric zero point for --stretch sb (mag).")
    var zeropoint: Double?

    @Option(help: "Pixel scale in arcsec/pixel for --stretch sb when the image has no WCS.")
    var pixelScale: Double?

    @OptionGroup var region: SectionOptions

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if size < 0 { throw ValidationError("--size must be 0 (full size) or positive") }
        for f in flip where f != "x" && f != "y" { throw ValidationError("--flip takes x or y, not '\(f)'") }
        if stretch.hasPrefix("sb") && zeropoint == nil {
            throw ValidationError("--stretch sb needs --zeropoint")
        }
        if let maskColor, Self.color(maskColor) == nil {
            throw ValidationError("--mask-color takes a colour name or R,G,B with values 0-255, not '\(maskColor)'")
        }
    }

    func run() throws {
        common.apply()
        var image = try FITS.readImage(file)
        if let mask {
            let plane = try FITS.readImage(mask)
            guard plane.width == image.width, plane.height == image.height else {
                throw AstroError(.badData, file: mask, operation: "reading mask",
                                 reason: "mask is \(plane.width)x\(plane.height), image is \(image.width)x\(image.height)")
            }
            image.mask = plane.pixels.map { $0 != 0 && !$0.isNaN ? 1 : 0 }
        }
        if let r = try region.region(width: image.width, height: image.height, file: file, hdu: nil) {
            image = image.cropped(to: r)
        }
        var area: Double? = pixelScale.map { $0 * $0 }
        if stretch.hasPrefix("sb"), area == nil {
            guard let wcs = try? WCS(header: image.header, file: file) else {
                throw AstroError(.badData, file: file, operation: "surface-brightness stretch",
                                 reason: "the image has no usable WCS; give --pixel-scale")
            }
            area = wcs.pixelArea(x: Double(image.width - 1) / 2, y: Double(image.height - 1) / 2)
        }
        var options = PreviewOptions()
        options.stretch = try Stretch.parse(stretch, zeropoint: zeropoint, pixelArea: area)
        options.interval = try Interval.parse(interval)
        options.size = size == 0 ? nil : size
        options.invert = invert
        options.flipX = flip.contains("x")
        options.flipY = flip.contains("y")
        options.colormap = colormap
        options.colorbar = colorbar
        options.maskColor = maskColor.flatMap(Self.color) ?? (mask == nil ? nil : (255, 0, 0))
        let rendered = try AstroError.naming(file) {
            try Preview.write(image, to: output, options: options, overwrite: common.overwrite)
        }
        let summary = PreviewSummary(input: file, output: output, width: rendered.width, height: rendered.height,
                                     low: Double(rendered.lo), high: Double(rendered.hi))
        if common.json {
            try printJSON(summary)
        } else {
            let interval = rendered.lo.isNaN ? "no finite unmasked pixels" : "interval \(rendered.lo) … \(rendered.hi)"
            common.note("astrotool preview: \(file) -> \(output) (\(rendered.width)x\(rendered.height), \(interval))")
        }
    }
}

extension PreviewCommand {
    /// A named colour or "R,G,B".
    static func color(_ text: String) -> (UInt8, UInt8, UInt8)? {
        let named: [String: (UInt8, UInt8, UInt8)] = [
            "red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0),
            "cyan": (0, 255, 255), "magenta": (255, 0, 255), "white": (255, 255, 255), "black": (0, 0, 0),
        ]
        if let c = named[text.lowercased()] { return c }
        let parts = text.split(separator: ",").map { UInt8($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, let r = parts[0], let g = parts[1], let b = parts[2] else { return nil }
        return (r, g, b)
    }
}

struct PreviewSummary: Encodable {
    var input, output: String
    var width, height: Int
    var low, high: Double
}
