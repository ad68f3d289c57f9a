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

/// SExtractor catalogues — ASCII_HEAD (`# n NAME description [unit]` lines, then one row per
/// source) and FITS_LDAC — and DS9 region files.
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

    /// Reads a SExtractor catalogue, ASCII_HEAD or FITS_LDAC (the table holding the position
    /// columns, LDAC_OBJECTS), into detections with 0-based positions. Vector parameters
    /// (FLUX_APER with several apertures) take their first element.
    /// - Throws: `.noInput` if unreadable; `.badData` (naming the file) for a catalogue without
    ///   a header, without the x, y or flux column, or with a row that does not parse.
    public static func read(_ path: String, columns o: CatalogueColumns = CatalogueColumns()) throws -> [Detection] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AstroError(.noInput, file: path, operation: "reading catalogue", reason: "cannot read the file")
        }
        func fail(_ reason: String) -> AstroError { AstroError(.badData, file: path, operation: "reading catalogue", reason: reason) }
        let table = data.starts(with: Array("SIMPLE  =".utf8)) ? try ldac(data, o, fail: fail) : try asciiHead(data, fail: fail)
        func find(_ override: String?, _ names: [String], _ what: String, required: Bool) throws -> Int? {
            if let override {
                guard let k = table.index[override.uppercased()] else { throw fail("no column \(override.uppercased()) for \(what)") }
                return k
            }
            if let k = names.lazy.compactMap({ table.index[$0] }).first { return k }
            if required { throw fail("no \(what) column (looked for \(names.joined(separator: ", ")); name one with --\(what)-col)") }
            return nil
        }
        let x = try table.column(try find(o.x, CatalogueColumns.xNames, "x", required: true)!)
        let y = try table.column(try find(o.y, CatalogueColumns.yNames, "y", required: true)!)
        let flux = try table.column(try find(o.flux, CatalogueColumns.fluxNames, "flux", required: true)!)
        let fwhm = try find(o.fwhm, ["FWHM_IMAGE"], "fwhm", required: false).map(table.column)
        let flags = try find(o.flags, ["FLAGS"], "flag", required: false).map(table.column)
        let error = try CatalogueColumns.errorNames.lazy.compactMap { table.index[$0] }.first.map(table.column)
        return x.indices.map { r in
            var d = Detection(x: x[r] - o.origin, y: y[r] - o.origin, flux: flux[r], fwhm: fwhm?[r] ?? .nan,
                              flags: flags.map { $0[r].isFinite ? Int($0[r]) : 0 } ?? 0, positionError: error?[r] ?? 0.1)
            if !(d.positionError > 0) { d.positionError = 0.1 }
            return d
        }
    }

    /// A catalogue's columns by name (upper case) and a reader of one column as numbers.
    private typealias Table = (index: [String: Int], column: (Int) throws -> [Double])

    /// ASCII_HEAD: `# n NAME` lines give each column's (1-based) position, then one row per source.
    private static func asciiHead(_ data: Data, fail: @escaping (String) -> AstroError) throws -> Table {
        var index: [String: Int] = [:]
        var rows: [[Substring]] = []
        for (n, raw) in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.dropFirst().split(separator: " ", omittingEmptySubsequences: true)
                if parts.count >= 2, let k = Int(parts[0]), index[parts[1].uppercased()] == nil { index[parts[1].uppercased()] = k - 1 }
                continue
            }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard !fields.isEmpty else { continue }
            rows.append(fields)
            if rows.count == 1 && index.isEmpty { throw fail("line \(n + 1): no '# n NAME' header lines (SExtractor ASCII_HEAD expected)") }
        }
        return (index, { c in
            try rows.enumerated().map { r, fields in
                guard c < fields.count, let v = Double(fields[c]) else { throw fail("row \(r + 1): column \(c + 1) is missing or not a number") }
                return v
            }
        })
    }

    /// FITS_LDAC (or any FITS binary table): the first table with an x column; LDAC_IMHEAD, the
    /// image header stored as text before it, is passed over.
    private static func ldac(_ data: Data, _ o: CatalogueColumns, fail: @escaping (String) -> AstroError) throws -> Table {
        let xNames = o.x.map { [$0.uppercased()] } ?? CatalogueColumns.xNames
        let table = try BinaryTable.read(data, wanted: { names in names.contains { xNames.contains($0.uppercased()) } },
                                         lacking: "no binary table with an x column (\(xNames.joined(separator: ", ")))", fail: fail)
        var index: [String: Int] = [:]
        for (k, name) in table.names.enumerated() where index[name.uppercased()] == nil { index[name.uppercased()] = k }
        return (index, table.columns)
    }
}
