import AstroImage
import Foundation

/// Which catalogue columns hold what, and where their pixel coordinates start.
public struct CatalogueColumns: Sendable {
    /// Overrides of the column names; nil: the first present of the usual SExtractor names.
    public var x: String?
    public var y: String?
    public var flux: String?
    public var fwhm: String?
    public var flags: String?
    /// 1 for SExtractor (FITS pixel 1 is the first pixel's centre), 0 for sep/photutils tables.
    public var origin = 1.0

    public init() {}

    static let xNames = ["XWIN_IMAGE", "X_IMAGE", "XPEAK_IMAGE"]
    static let yNames = ["YWIN_IMAGE", "Y_IMAGE", "YPEAK_IMAGE"]
    static let fluxNames = ["FLUX", "FLUX_BEST", "FLUX_AUTO", "FLUX_ISO", "FLUX_APER"]
    static let errorNames = ["ERRAWIN_IMAGE", "ERRA_IMAGE"]
}

/// SExtractor ASCII_HEAD catalogues (`# n NAME description [unit]` lines, then one row per
/// source) and DS9 region files.
public enum Catalogue {
    /// Detections as a SExtractor ASCII_HEAD catalogue, 1-based: X_IMAGE/Y_IMAGE the
    /// barycentre, XWIN_IMAGE/YWIN_IMAGE the windowed centroid (what `read` prefers).
    public static func text(_ detections: [Detection]) -> String {
        let columns: [(String, String, String)] = [
            ("NUMBER", "Running object number", ""),
            ("X_IMAGE", "Object position along x", "[pixel]"),
            ("Y_IMAGE", "Object position along y", "[pixel]"),
            ("XWIN_IMAGE", "Windowed position estimate along x", "[pixel]"),
            ("YWIN_IMAGE", "Windowed position estimate along y", "[pixel]"),
            ("ERRAWIN_IMAGE", "RMS windowed position error along x and y", "[pixel]"),
            ("FLUX_ISO", "Isophotal flux", "[count]"),
            ("FLUXERR_ISO", "RMS error for isophotal flux", "[count]"),
            ("FLUX_MAX", "Peak flux above background", "[count]"),
            ("BACKGROUND", "Background at centroid position", "[count]"),
            ("FWHM_IMAGE", "FWHM assuming a gaussian core", "[pixel]"),
            ("A_IMAGE", "Profile RMS along major axis", "[pixel]"),
            ("B_IMAGE", "Profile RMS along minor axis", "[pixel]"),
            ("THETA_IMAGE", "Position angle (CCW/x)", "[deg]"),
            ("ISOAREA_IMAGE", "Isophotal area above Analysis threshold", "[pixel**2]"),
            ("FLAGS", "Extraction flags", ""),
        ]
        var lines = columns.enumerated().map { i, c in
            let number = String(i + 1)
            let name = c.0.padding(toLength: 22, withPad: " ", startingAt: 0)
            return "# " + String(repeating: " ", count: 3 - number.count) + number + " " + name + " " + c.1 + (c.2.isEmpty ? "" : " " + c.2)
        }
        for (n, d) in detections.enumerated() {
            let fluxErr = d.snr > 0 ? d.flux / d.snr : .nan
            lines.append(String(format: "%10d %11.4f %11.4f %11.4f %11.4f %9.5f %14.6g %12.6g %12.6g %12.6g %8.3f %8.3f %8.3f %7.2f %7d %4d",
                                n + 1, d.xBarycentre + 1, d.yBarycentre + 1, d.x + 1, d.y + 1, d.positionError,
                                d.flux, fluxErr, d.peak, d.background, d.fwhm, d.a, d.b, d.theta, d.area, d.flags))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// DS9 regions in image coordinates (1-based): a circle of one FWHM per detection.
    public static func regions(_ detections: [Detection]) -> String {
        var lines = ["# Region file format: DS9", "global color=green", "image"]
        for (n, d) in detections.enumerated() {
            let r = d.fwhm.isFinite && d.fwhm > 0 ? d.fwhm : 3
            lines.append(String(format: "circle(%.4f,%.4f,%.3f) # text={%d}", d.x + 1, d.y + 1, r, n + 1))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads an ASCII_HEAD catalogue into detections with 0-based positions.
    /// Vector parameters (FLUX_APER with several apertures) take their first element.
    /// - Throws: `.noInput` if unreadable; `.badData` (naming the file) for a catalogue without
    ///   a header, without the x, y or flux column, or with a row that does not parse.
    public static func read(_ path: String, columns o: CatalogueColumns = CatalogueColumns()) throws -> [Detection] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AstroError(.noInput, file: path, operation: "reading catalogue", reason: "cannot read the file")
        }
        func fail(_ reason: String) -> AstroError { AstroError(.badData, file: path, operation: "reading catalogue", reason: reason) }
        var column: [String: Int] = [:]
        var rows: [[Substring]] = []
        for (n, raw) in text.split(whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.dropFirst().split(separator: " ", omittingEmptySubsequences: true)
                if parts.count >= 2, let k = Int(parts[0]), column[parts[1].uppercased()] == nil { column[parts[1].uppercased()] = k - 1 }
                continue
            }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard !fields.isEmpty else { continue }
            rows.append(fields)
            if rows.count == 1 && column.isEmpty { throw fail("line \(n + 1): no '# n NAME' header lines (SExtractor ASCII_HEAD expected)") }
        }
        func find(_ override: String?, _ names: [String], _ what: String, required: Bool) throws -> Int? {
            if let override {
                guard let k = column[override.uppercased()] else { throw fail("no column \(override.uppercased()) for \(what)") }
                return k
            }
            if let k = names.lazy.compactMap({ column[$0] }).first { return k }
            if required { throw fail("no \(what) column (looked for \(names.joined(separator: ", ")); name one with --\(what)-col)") }
            return nil
        }
        let xc = try find(o.x, CatalogueColumns.xNames, "x", required: true)!
        let yc = try find(o.y, CatalogueColumns.yNames, "y", required: true)!
        let fc = try find(o.flux, CatalogueColumns.fluxNames, "flux", required: true)!
        let wc = try find(o.fwhm, ["FWHM_IMAGE"], "fwhm", required: false)
        let gc = try find(o.flags, ["FLAGS"], "flag", required: false)
        let ec = column.isEmpty ? nil : CatalogueColumns.errorNames.lazy.compactMap { column[$0] }.first
        var out: [Detection] = []
        for (r, fields) in rows.enumerated() {
            func value(_ c: Int) throws -> Double {
                guard c < fields.count, let v = Double(fields[c]) else {
                    throw fail("row \(r + 1): column \(c + 1) is missing or not a number")
                }
                return v
            }
            var d = Detection(x: try value(xc) - o.origin, y: try value(yc) - o.origin, flux: try value(fc),
                              fwhm: try wc.map(value) ?? .nan, flags: Int(try gc.map(value) ?? 0),
                              positionError: try ec.map(value) ?? 0.1)
            if !(d.positionError > 0) { d.positionError = 0.1 }
            out.append(d)
        }
        return out
    }
}
