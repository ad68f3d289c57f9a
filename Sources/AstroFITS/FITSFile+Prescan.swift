internal import CFITSIO
import AstroImage

// ffmbyt = move to a byte of the logical file   ffgbyt = read bytes there (cfitsio internals)

/// Header checks made on the raw bytes before cfitsio parses a header.
///
/// cfitsio reads a tile-compressed image's parameters the moment it moves to that HDU, and
/// divides by ZTILEn there: `ZTILE1 = 0.5` (read as 0) kills the process with SIGFPE before
/// any of our code could look. So on opening, every header of the file is walked from its
/// bytes (`RawLayout`) and the values cfitsio would trust are checked first.
extension FITSFile {
    func prescan() throws {
        let layout = RawLayout(size: logicalSize) { offset, count in
            var status: Int32 = 0
            var bytes = [UInt8](repeating: 0, count: count)
            ffmbyt(fptr, Int64(offset), 0, &status)
            ffgbyt(fptr, Int64(count), &bytes, &status)
            if status != 0 { ffcmsg(); return nil }
            return bytes
        }
        for (index, unit) in layout.units.enumerated() {
            if let reason = Self.structuralProblem(unit) ?? (unit.value("ZIMAGE") == "T" ? Self.compressedHeaderProblem(unit) : nil) {
                throw AstroError(.badData, file: name, hdu: "HDU \(index)", operation: "opening", reason: reason)
            }
        }
    }

    /// A negative PCOUNT or GCOUNT makes cfitsio's data size negative, so moving to the next
    /// HDU goes backwards and counting the HDUs never ends. cfitsio allocates one column
    /// description per TFIELDS before it checks the table: TFIELDS = 14674035 cost 2.3 GB
    /// and seconds of page faults; the standard allows at most 999.
    static func structuralProblem(_ unit: RawLayout.Unit) -> String? {
        for key in ["PCOUNT", "GCOUNT"] {
            for text in unit.values(key) { if let n = Int(text), n < 0 { return "\(key) = \(text) is negative" } }
        }
        for text in unit.values("TFIELDS") {
            if let n = Int(text), !(0...999).contains(n) { return "TFIELDS = \(text) is not 0 to 999 columns" }
        }
        return nil
    }

    /// Why cfitsio must not be given this compressed-image header, or nil when it may.
    static func compressedHeaderProblem(_ unit: RawLayout.Unit) -> String? {
        guard let text = unit.value("ZNAXIS") else { return nil }   // cfitsio refuses it itself
        guard let naxis = Int(text), (1...6).contains(naxis) else { return "tile-compressed image: ZNAXIS = \(text) is not 1 to 6 axes" }
        // Every occurrence: cfitsio may read a duplicate rather than the first card.
        for i in 1...naxis {
            for length in unit.values("ZNAXIS\(i)") where (Int(length) ?? -1) < 0 {
                return "tile-compressed image: ZNAXIS\(i) = \(length) is not a whole axis length"
            }
            for tile in unit.values("ZTILE\(i)") where (Int(tile) ?? 0) < 1 {
                return "tile-compressed image: ZTILE\(i) = \(tile) is not a positive whole tile size"
            }
        }
        if unit.values("ZCMPTYPE").contains(where: { $0.uppercased().contains("RICE") }) {
            for block in unit.values("ZVAL1") where (Int(block) ?? 0) < 1 {
                return "tile-compressed image: ZVAL1 = \(block) is not a positive Rice block size"
            }
        }
        return nil
    }
}
