import AstroImage
import Foundation

/// Which columns of a reference catalogue hold RA, Dec (degrees) and a magnitude.
public struct ReferenceColumns: Sendable {
    /// Overrides; nil: the first present of the usual names (case-insensitive).
    public var ra: String?
    public var dec: String?
    public var mag: String?

    public init() {}

    static let raNames = ["ra", "ra_icrs", "raj2000", "ra_j2000", "alpha_j2000", "ra_deg", "radeg"]
    static let decNames = ["dec", "de", "dec_icrs", "de_icrs", "dej2000", "decj2000", "dec_j2000", "delta_j2000",
                           "dec_deg", "decdeg"]
    static let magNames = ["mag", "phot_g_mean_mag", "gmag", "g", "rmag", "r", "mag_auto", "magnitude"]
}

/// A RA/Dec reference catalogue (Gaia-like): positions in degrees and, when the catalogue has
/// one, a magnitude for ordering the stars brightest first.
public struct ReferenceCatalogue: Sendable {
    public var ra: [Double]
    public var dec: [Double]
    public var mag: [Double]?

    public var count: Int { ra.count }

    /// Reads a CSV table (a header line of column names; `#` lines before it are skipped;
    /// comma-separated, or whitespace-separated when the header has no comma) or the first
    /// FITS binary table holding the RA and Dec columns. Rows with a non-finite RA or Dec are
    /// dropped; a missing or non-numeric magnitude counts as the faintest.
    /// - Throws: `.noInput` if unreadable; `.badData` naming the file for a table without the
    ///   RA or Dec column, a row that does not parse, or no usable row.
    public static func read(_ path: String, columns: ReferenceColumns = ReferenceColumns()) throws -> ReferenceCatalogue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AstroError(.noInput, file: path, operation: "reading reference catalogue", reason: "cannot read the file")
        }
        func fail(_ reason: String) -> AstroError {
            AstroError(.badData, file: path, operation: "reading reference catalogue", reason: reason)
        }
        let table: (names: [String], columns: (Int) throws -> [Double])
        if data.starts(with: Array("SIMPLE  =".utf8)) {
            table = try BinaryTable.read(data, wanted: { names in
                (try? pick(names, columns, fail: fail)) != nil
            }, fail: fail)
        } else {
            table = try csv(data, fail: fail)
        }
        let (rc, dc, mc) = try pick(table.names, columns, fail: fail)
        let ra = try table.columns(rc), dec = try table.columns(dc)
        let mag = try mc.map { try table.columns($0) }
        var out = ReferenceCatalogue(ra: [], dec: [], mag: mag == nil ? nil : [])
        for i in ra.indices where ra[i].isFinite && dec[i].isFinite && abs(dec[i]) <= 90 {
            out.ra.append(ra[i])
            out.dec.append(dec[i])
            if let mag { out.mag!.append(mag[i].isFinite ? mag[i] : .infinity) }
        }
        guard out.count > 0 else { throw fail("no row with a finite RA and Dec") }
        return out
    }

    /// The indices of the RA, Dec and (optional) magnitude columns.
    private static func pick(_ names: [String], _ o: ReferenceColumns, fail: (String) -> AstroError) throws -> (Int, Int, Int?) {
        let lower = names.map { $0.lowercased() }
        func find(_ override: String?, _ defaults: [String], _ what: String, required: Bool) throws -> Int? {
            if let override {
                guard let k = lower.firstIndex(of: override.lowercased()) else {
                    throw fail("no column '\(override)' for \(what) (columns: \(names.joined(separator: ", ")))")
                }
                return k
            }
            if let k = defaults.lazy.compactMap({ lower.firstIndex(of: $0) }).first { return k }
            if required {
                throw fail("no \(what) column (looked for \(defaults.joined(separator: ", ")); name one with --\(what)-col)")
            }
            return nil
        }
        let r = try find(o.ra, ReferenceColumns.raNames, "ra", required: true)!
        let d = try find(o.dec, ReferenceColumns.decNames, "dec", required: true)!
        let m = try find(o.mag, ReferenceColumns.magNames, "mag", required: false)
        return (r, d, m)
    }

    private static func csv(_ data: Data, fail: @escaping (String) -> AstroError) throws -> (names: [String], columns: (Int) throws -> [Double]) {
        let text = String(decoding: data, as: UTF8.self)
        var names: [String]?
        var comma = true
        var rows: [[Substring]] = []
        var lineNumbers: [Int] = []
        for (n, raw) in text.split(whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if names == nil {
                comma = line.contains(",")
                names = split(Substring(line), comma: comma).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) }
                continue
            }
            rows.append(split(Substring(line), comma: comma))
            lineNumbers.append(n + 1)
        }
        guard let names else { throw fail("empty table (a header line of column names is expected)") }
        return (names, { c in
            try rows.indices.map { r in
                let row = rows[r]
                guard c < row.count else { throw fail("line \(lineNumbers[r]): \(row.count) fields, column \(names[c]) missing") }
                let field = row[c].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                if field.isEmpty || field.lowercased() == "nan" || field.lowercased() == "null" { return .nan }
                guard let v = Double(field) else { throw fail("line \(lineNumbers[r]): \(names[c]) '\(field)' is not a number") }
                return v
            }
        })
    }

    private static func split(_ line: Substring, comma: Bool) -> [Substring] {
        comma ? line.split(separator: ",", omittingEmptySubsequences: false)
              : line.split(whereSeparator: { $0 == " " || $0 == "\t" })
    }

    /// Projects the catalogue onto the tangent plane about `centre` (the gnomonic projection,
    /// FITS TAN's intermediate coordinates): ξ towards east, η towards north, in degrees; NaN
    /// for the far hemisphere.
    static func standardCoordinates(ra: Double, dec: Double, centre: (ra: Double, dec: Double)) -> (xi: Double, eta: Double) {
        let r = Double.pi / 180
        let d0 = centre.dec * r, d = dec * r, da = (ra - centre.ra) * r
        let cosc = sin(d0) * sin(d) + cos(d0) * cos(d) * cos(da)
        guard cosc > 0 else { return (.nan, .nan) }
        return (cos(d) * sin(da) / cosc / r, (cos(d0) * sin(d) - sin(d0) * cos(d) * cos(da)) / cosc / r)
    }

    /// Angular distance in arcseconds (haversine).
    static func separation(_ a: (ra: Double, dec: Double), _ b: (ra: Double, dec: Double)) -> Double {
        let r = Double.pi / 180
        let s1 = sin((b.dec - a.dec) * r / 2), s2 = sin((b.ra - a.ra) * r / 2)
        let h = s1 * s1 + cos(a.dec * r) * cos(b.dec * r) * s2 * s2
        return 2 * asin(min(1, h.squareRoot())) / r * 3600
    }
}

/// A minimal reader of FITS binary tables (uncompressed BINTABLE extensions, scalar numeric
/// columns), enough for reference catalogues without going through cfitsio's table API.
enum BinaryTable {
    /// The first BINTABLE extension whose column names `wanted` accepts: its names and a
    /// reader of one column as Doubles (TSCAL/TZERO applied, TNULL → NaN; a vector column's
    /// first element). `lacking` is the reason given when no table is accepted.
    static func read(_ data: Data, wanted: ([String]) -> Bool, lacking: String = "no binary table with RA and Dec columns",
                     fail: @escaping (String) -> AstroError) throws -> (names: [String], columns: (Int) throws -> [Double]) {
        let bytes = [UInt8](data)
        var offset = 0
        var first = true
        var seenTable = false
        while offset + 2880 <= bytes.count {
            // Header: 80-character cards in 2880-byte blocks up to END.
            var cards: [String: String] = [:]
            var end = false
            while !end {
                guard offset + 2880 <= bytes.count else { throw fail("truncated FITS header") }
                for k in 0..<36 {
                    let card = String(decoding: bytes[(offset + 80 * k)..<(offset + 80 * k + 80)], as: UTF8.self)
                    let key = card.prefix(8).trimmingCharacters(in: .whitespaces)
                    if key == "END" { end = true; break }
                    if card.dropFirst(8).hasPrefix("= "), cards[key] == nil { cards[key] = value(String(card.dropFirst(10))) }
                }
                offset += 2880
            }
            func int(_ k: String) -> Int { Int(cards[k] ?? "") ?? 0 }
            let naxis = int("NAXIS")
            var size = naxis == 0 ? 0 : abs(int("BITPIX")) / 8
            for i in 0..<naxis { size *= int("NAXIS\(i + 1)") }
            if !first { size = (size + int("PCOUNT")) * max(1, int("GCOUNT")) }
            let dataStart = offset
            offset += (size + 2879) / 2880 * 2880
            defer { first = false }
            guard !first, cards["XTENSION"] == "BINTABLE" else { continue }
            seenTable = true
            let tfields = int("TFIELDS"), rowBytes = int("NAXIS1"), nrows = int("NAXIS2")
            guard dataStart + rowBytes * nrows <= bytes.count else { throw fail("truncated FITS table") }
            var names: [String] = [], starts: [Int] = [], types: [Character] = [], repeats: [Int] = []
            var position = 0
            for f in 1...max(1, tfields) where tfields > 0 {
                let form = (cards["TFORM\(f)"] ?? "").uppercased()
                let digits = form.prefix { $0.isNumber }
                let repeatCount = digits.isEmpty ? 1 : Int(digits) ?? 1
                guard let type = form.dropFirst(digits.count).first else { throw fail("column \(f): bad TFORM '\(form)'") }
                let width: Int = switch type {
                case "L", "B", "A", "X": 1
                case "I": 2
                case "J", "E": 4
                case "K", "D", "C", "P": 8
                case "M", "Q": 16
                default: -1
                }
                guard width > 0 else { throw fail("column \(f): unknown TFORM '\(form)'") }
                names.append(cards["TTYPE\(f)"] ?? "col\(f)")
                starts.append(position)
                types.append(type)
                repeats.append(repeatCount)
                position += type == "X" ? (repeatCount + 7) / 8 : width * repeatCount
            }
            guard wanted(names) else { continue }
            return (names, { c in
                guard repeats[c] >= 1, "BIJKED".contains(types[c]) else {
                    throw fail("column \(names[c]) (TFORM \(repeats[c])\(types[c])) is not a numeric scalar")
                }
                let scale = Double(cards["TSCAL\(c + 1)"] ?? "") ?? 1, zero = Double(cards["TZERO\(c + 1)"] ?? "") ?? 0
                let null = Int64(cards["TNULL\(c + 1)"] ?? "")
                return (0..<nrows).map { r in
                    let o = dataStart + r * rowBytes + starts[c]
                    func be(_ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[o + $1]) } }
                    let raw: Double
                    switch types[c] {
                    case "E": return Double(Float(bitPattern: UInt32(be(4))))
                    case "D": return Double(bitPattern: be(8))
                    case "B": let v = Int64(be(1)); if v == null { return .nan }; raw = Double(v)
                    case "I": let v = Int64(Int16(bitPattern: UInt16(be(2)))); if v == null { return .nan }; raw = Double(v)
                    case "J": let v = Int64(Int32(bitPattern: UInt32(be(4)))); if v == null { return .nan }; raw = Double(v)
                    default: let v = Int64(bitPattern: be(8)); if v == null { return .nan }; raw = Double(v)
                    }
                    return zero + scale * raw
                }
            })
        }
        throw fail(seenTable ? lacking : "no binary table extension (FITS catalogues are BINTABLEs)")
    }

    /// A card's value: a quoted string without its quotes and trailing blanks, else the text
    /// before any comment.
    private static func value(_ text: String) -> String {
        let t = text.drop { $0 == " " }
        if t.hasPrefix("'") {
            var out = "", rest = t.dropFirst()
            while let q = rest.firstIndex(of: "'") {
                out += rest[..<q]
                rest = rest[rest.index(after: q)...]
                if rest.hasPrefix("'") { out += "'"; rest = rest.dropFirst() } else { break }
            }
            return out.trimmingCharacters(in: .whitespaces)
        }
        return (t.split(separator: "/", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces)
    }
}
