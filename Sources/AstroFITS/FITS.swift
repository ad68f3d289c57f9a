import AstroImage
import Foundation

/// One-call conveniences over `FITSFile` for the common cases.
public enum FITS {
    /// Reads the image a name selects: the HDU given in extended syntax, else the first HDU
    /// with image data.
    public static func readImage(_ name: String) throws -> Image {
        try FITSFile(name, image: true).readImage()
    }

    /// The header of the HDU a name selects (the primary unless the name selects another).
    public static func readHeader(_ name: String) throws -> Header {
        try FITSFile(name).header()
    }

    /// The file part of an extended name (`f.fits[SCI,2]` → `f.fits`): what exists on disk.
    public static func basePath(_ name: String) -> String { FITSStatus.basePath(name) }

    /// The file on disk a name stands for, absolute with links resolved (`f.fits[SCI,2]` →
    /// `/data/f.fits`): two names for one file compare equal, so an output can be refused
    /// when it is an input.
    public static func canonicalPath(_ name: String) -> String {
        URL(fileURLWithPath: basePath(name)).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// The chips a name stands for: a file named without an HDU that holds several SCI image
    /// extensions is each of them, `file[SCI,n]` (a multi-chip exposure, as drizzlepac and
    /// skymatch take it); any other name is itself.
    public static func sciChips(_ name: String) throws -> [String] {
        guard basePath(name) == name else { return [name] }
        let sci = try listHDUs(name).filter {
            ($0.extname ?? "").uppercased() == "SCI" && $0.kind == .image && $0.shape.count >= 2 && !$0.shape.contains(0)
        }
        return sci.count < 2 ? [name] : sci.map { "\(name)[SCI,\($0.header.int("EXTVER") ?? 1)]" }
    }

    /// Every HDU of the file, or only the one the name selects.
    public static func listHDUs(_ name: String) throws -> [HDUInfo] {
        var out: [HDUInfo] = []
        try forEachHDU(name) { _, info in out.append(info) }
        return out
    }

    /// Visits every HDU of the file (or only the one the name selects) through one open
    /// handle, positioned on that HDU, so callers can read its pixels without reopening.
    public static func forEachHDU(_ name: String, _ body: (FITSFile, HDUInfo) throws -> Void) throws {
        let file = try FITSFile(name)
        let indices = file.namesHDU ? [file.hduIndex] : Array(0..<file.hduCount)
        for i in indices {
            try file.select(hdu: i)
            try body(file, try file.info())
        }
    }
}
