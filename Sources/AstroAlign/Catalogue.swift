import AstroFITS
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
    /// A column `align detect` writes: SExtractor's name, description and unit, its FITS type
    /// and display format (as SExtractor's LDAC), the ASCII_HEAD printf format, and the value.
    struct Column {
        enum Kind { case int16, int32, float32, float64 }
        let name: String, description: String, unit: String
        let kind: Kind, display: String, format: String
        let value: @Sendable (_ number: Int, _ d: Detection) -> Double
    }

    /// The columns of `align detect`'s catalogues, both formats, positions 1-based.
    static let columns: [Column] = [
        Column(name: "NUMBER", description: "Running object number", unit: "", kind: .int32, display: "I10", format: "%10d") { n, _ in Double(n) },
        Column(name: "X_IMAGE", description: "Object position along x", unit: "pixel", kind: .float64, display: "F11.4", format: "%11.4f") { $1.xBarycentre + 1 },
        Column(name: "Y_IMAGE", description: "Object position along y", unit: "pixel", kind: .float64, display: "F11.4", format: "%11.4f") { $1.yBarycentre + 1 },
        Column(name: "XWIN_IMAGE", description: "Windowed position estimate along x", unit: "pixel", kind: .float64, display: "F11.4", format: "%11.4f") { $1.x + 1 },
        Column(name: "YWIN_IMAGE", description: "Windowed position estimate along y", unit: "pixel", kind: .float64, display: "F11.4", format: "%11.4f") { $1.y + 1 },
        Column(name: "ERRAWIN_IMAGE", description: "RMS windowed position error along x and y", unit: "pixel", kind: .float32, display: "F9.5", format: "%9.5f") { $1.positionError },
        Column(name: "FLUX_ISO", description: "Isophotal flux", unit: "count", kind: .float32, display: "G12.7", format: "%14.6g") { $1.flux },
        Column(name: "FLUXERR_ISO", description: "RMS error for isophotal flux", unit: "count", kind: .float32, display: "G12.7", format: "%12.6g") { $1.snr > 0 ? $1.flux / $1.snr : .nan },
        Column(name: "FLUX_MAX", description: "Peak flux above background", unit: "count", kind: .float32, display: "G12.7", format: "%12.6g") { $1.peak },
        Column(name: "BACKGROUND", description: "Background at centroid position", unit: "count", kind: .float32, display: "G12.7", format: "%12.6g") { $1.background },
        Column(name: "FWHM_IMAGE", description: "FWHM assuming a gaussian core", unit: "pixel", kind: .float32, display: "F8.2", format: "%8.3f") { $1.fwhm },
        Column(name: "A_IMAGE", description: "Profile RMS along major axis", unit: "pixel", kind: .float32, display: "F9.3", format: "%8.3f") { $1.a },
        Column(name: "B_IMAGE", description: "Profile RMS along minor axis", unit: "pixel", kind: .float32, display: "F9.3", format: "%8.3f") { $1.b },
        Column(name: "THETA_IMAGE", description: "Position angle (CCW/x)", unit: "deg", kind: .float32, display: "F6.2", format: "%7.2f") { $1.theta },
        Column(name: "ISOAREA_IMAGE", description: "Isophotal area above Analysis threshold", unit: "pixel**2", kind: .int32, display: "I9", format: "%7d") { Double($1.area) },
        Column(name: "FLAGS", description: "Extraction flags", unit: "", kind: .int16, display: "I3", format: "%4d") { Double($1.flags) },
    ]

    /// Detections as a SExtractor ASCII_HEAD catalogue, 1-based: X_IMAGE/Y_IMAGE the
    /// barycentre, XWIN_IMAGE/YWIN_IMAGE the windowed centroid (what `read` prefers).
    public static func text(_ detections: [Detection]) -> String {
        var lines = columns.enumerated().map { i, c in
            let number = String(i + 1)
            let name = c.name.padding(toLength: 22, withPad: " ", startingAt: 0)
            return "# " + String(repeating: " ", count: 3 - number.count) + number + " " + name + " " + c.description + (c.unit.isEmpty ? "" : " [\(c.unit)]")
        }
        for (n, d) in detections.enumerated() {
            lines.append(columns.map { c in
                let v = c.value(n + 1, d)
                return c.kind == .int16 || c.kind == .int32 ? String(format: c.format, Int(v)) : String(format: c.format, v)
            }.joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Detections as a SExtractor FITS_LDAC catalogue: LDAC_IMHEAD, the image's header as one
    /// row of 80-character card images ("Field Header Card", TDIM (80, cards), ending in END),
    /// then LDAC_OBJECTS with the ASCII_HEAD columns (1-based, units in TUNIT).
    public static func ldacTables(_ detections: [Detection], header: Header, width: Int, height: Int) -> [OutputTable] {
        var image = Header()
        image.set("SIMPLE", true, comment: "conforms to FITS standard")
        image.set("BITPIX", -32, comment: "array data type")
        image.set("NAXIS", 2, comment: "number of array dimensions")
        image.set("NAXIS1", width)
        image.set("NAXIS2", height)
        // The image's own cards, less those that describe its stored data, not the float image
        // BITPIX −32 says it is (scaling, checksums).
        var own = header.userCards
        for key in ["BZERO", "BSCALE", "BLANK", "CHECKSUM", "DATASUM"] { own.remove(key) }
        let cards = (image.cardImages + own.cardImages).map { $0.padding(toLength: 80, withPad: " ", startingAt: 0) }
            + ["END".padding(toLength: 80, withPad: " ", startingAt: 0)]
        let imhead = TableColumn("Field Header Card", .text([cards.joined()], width: 80 * cards.count), dimensions: [80, cards.count])
        let objects = columns.map { c -> TableColumn in
            let v = detections.enumerated().map { c.value($0.offset + 1, $0.element) }
            let values: TableColumn.Values = switch c.kind {
            case .int16: .int16(v.map { Int16(clamping: Int($0)) })
            case .int32: .int32(v.map { Int32(clamping: Int($0)) })
            case .float32: .float32(v.map(Float.init))
            case .float64: .float64(v)
            }
            return TableColumn(c.name, values, unit: c.unit.isEmpty ? nil : c.unit, description: c.description, display: c.display)
        }
        return [OutputTable(extname: "LDAC_IMHEAD", columns: [imhead]), OutputTable(extname: "LDAC_OBJECTS", columns: objects)]
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
