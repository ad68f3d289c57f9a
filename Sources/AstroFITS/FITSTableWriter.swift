internal import CFITSIO
import AstroImage
import Foundation

// Table writer names: ffcrtb = fits_create_tbl   ffpcl = fits_write_col   ffptdm = fits_write_tdim
//   ffmcom = fits_modify_comment   ffpkys = fits_write_key_str

/// One column of an output binary table: its name (TTYPE), one value per row, and the unit,
/// description (the TTYPE card's comment) and display format (TDISP) when given.
public struct TableColumn: Sendable {
    public enum Values: Sendable {
        case int16([Int16])
        case int32([Int32])
        case float32([Float])
        case float64([Double])
        /// Fixed-width text (TFORM `wA`), one string per row, blank-padded to `width`.
        case text([String], width: Int)
    }

    public var name: String
    public var values: Values
    public var unit: String?
    public var description: String?
    public var display: String?
    /// TDIM: how a text cell is folded, e.g. [80, cards] for a header stored as card images.
    public var dimensions: [Int]?

    public init(_ name: String, _ values: Values, unit: String? = nil, description: String? = nil, display: String? = nil,
                dimensions: [Int]? = nil) {
        self.name = name
        self.values = values
        self.unit = unit
        self.description = description
        self.display = display
        self.dimensions = dimensions
    }

    var rows: Int {
        switch values {
        case .int16(let v): v.count
        case .int32(let v): v.count
        case .float32(let v): v.count
        case .float64(let v): v.count
        case .text(let v, _): v.count
        }
    }

    var form: String {
        switch values {
        case .int16: "1I"
        case .int32: "1J"
        case .float32: "1E"
        case .float64: "1D"
        case .text(_, let width): "\(width)A"
        }
    }
}

/// A binary table extension: its EXTNAME, columns (all of one length) and extra header cards.
public struct OutputTable: Sendable {
    public var extname: String
    public var columns: [TableColumn]
    public var header: Header

    public init(extname: String, columns: [TableColumn], header: Header = Header()) {
        precondition(Set(columns.map(\.rows)).count <= 1, "the columns of a table have one length")
        self.extname = extname
        self.columns = columns
        self.header = header
    }
}

extension FITSWriter {
    /// Writes an empty primary HDU followed by one BINTABLE extension per table (a FITS_LDAC
    /// catalogue is such a file) into `output`'s temporary file, then commits it.
    /// - Throws: `.io`/`.cannotCreate` naming `output.path` and the HDU when cfitsio fails.
    public static func writeTables(_ tables: [OutputTable], to output: AtomicOutput) throws {
        try output.write { tmp in
            var fptr: UnsafeMutablePointer<fitsfile>? = nil
            var status: Int32 = 0
            ffinit(&fptr, tmp, &status)
            if status != 0 { throw FITSStatus.error(status, file: output.path, hdu: nil, operation: "creating output") }
            var closed = false
            defer { if !closed { var s: Int32 = 0; ffclos(fptr, &s) } }
            var none: [Int] = []
            ffcrim(fptr, BYTE_IMG, 0, &none, &status)
            if status != 0 { throw FITSStatus.error(status, file: output.path, hdu: "HDU 0", operation: "creating the primary HDU") }
            for (i, table) in tables.enumerated() {
                try writeTable(table, fptr: fptr, path: output.path, label: "HDU \(i + 1) '\(table.extname)'")
            }
            ffclos(fptr, &status)
            closed = true
            if status != 0 { throw FITSStatus.error(status, file: output.path, hdu: nil, operation: "closing output") }
        }
    }

    private static func writeTable(_ table: OutputTable, fptr: UnsafeMutablePointer<fitsfile>?, path: String, label: String) throws {
        var status: Int32 = 0
        func check(_ operation: String) throws {
            if status != 0 { throw FITSStatus.error(status, file: path, hdu: label, operation: operation) }
        }
        let columns = table.columns
        // cfitsio takes char** lists; the copies live until the table exists.
        func cStrings(_ list: [String]) -> [UnsafeMutablePointer<CChar>?] { list.map { strdup($0) } }
        var names = cStrings(columns.map(\.name)), forms = cStrings(columns.map(\.form)), units = cStrings(columns.map { $0.unit ?? "" })
        defer { for p in names + forms + units { free(p) } }
        ffcrtb(fptr, BINARY_TBL, Int64(columns.first?.rows ?? 0), Int32(columns.count), &names, &forms, &units, table.extname, &status)
        try check("creating binary table")
        for (k, column) in columns.enumerated() {
            let n = Int32(k + 1)
            if let description = column.description {
                ffmcom(fptr, "TTYPE\(n)", description, &status)
                try check("describing column \(column.name)")
            }
            if let display = column.display {
                ffpkys(fptr, "TDISP\(n)", display, "display format", &status)
                try check("writing TDISP of column \(column.name)")
            }
            if var dims = column.dimensions?.map(Int64.init) {
                ffptdmll(fptr, n, Int32(dims.count), &dims, &status)
                try check("writing TDIM of column \(column.name)")
            }
            try writeColumn(column.values, number: n, fptr: fptr, status: &status)
            try check("writing column \(column.name)")
        }
        for card in table.header.userCards.cards where card.keyword != "EXTNAME" {
            for record in card.images {
                ffprec(fptr, record, &status)
                try check("writing header card \(card.keyword)")
            }
        }
    }

    private static func writeColumn(_ values: TableColumn.Values, number n: Int32, fptr: UnsafeMutablePointer<fitsfile>?,
                                    status: inout Int32) throws {
        func write<T>(_ v: [T], _ type: Int32) {
            guard !v.isEmpty else { return }
            v.withUnsafeBufferPointer { b in
                _ = ffpcl(fptr, type, n, 1, 1, Int64(b.count), UnsafeMutableRawPointer(mutating: b.baseAddress!), &status)
            }
        }
        switch values {
        case .int16(let v): write(v, TSHORT)
        case .int32(let v): write(v, TINT)
        case .float32(let v): write(v, TFLOAT)
        case .float64(let v): write(v, TDOUBLE)
        case .text(let v, _):
            var strings = v.map { strdup($0) }
            defer { for p in strings { free(p) } }
            if !strings.isEmpty { ffpcls(fptr, n, 1, 1, Int64(strings.count), &strings, &status) }
        }
    }
}
