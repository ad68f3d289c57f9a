internal import CFITSIO
import Foundation
import AstroImage

/// Turns a cfitsio status code into an `AstroError` that names the file and HDU.
///
/// cfitsio's message stack is process-global and shared between threads, so the message is
/// built from the status code plus our own context; the stack is drained and discarded.
enum FITSStatus {
    static func error(_ status: Int32, file: String, hdu: String?, operation: String) -> AstroError {
        ffcmsg()
        var text = [CChar](repeating: 0, count: Int(FLEN_STATUS))
        ffgerr(status, &text)
        let reason = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } + " (cfitsio status \(status))"
        return AstroError(kind(for: status), file: file, hdu: hdu, operation: operation, reason: reason)
    }

    static func kind(for status: Int32) -> AstroError.Kind {
        switch status {
        case FILE_NOT_OPENED: .noInput
        case FILE_NOT_CREATED: .cannotCreate
        case WRITE_ERROR: .io
        default: .badData
        }
    }

    /// The file part of a cfitsio extended file name (`f.fits[SCI]`, `f.fits+2` → `f.fits`),
    /// used to tell "no such file" from "not a FITS file" in error messages.
    static func basePath(_ name: String) -> String {
        var base = Substring(name)
        if let open = base.firstIndex(of: "[") { base = base[..<open] }
        if let plus = base.lastIndex(of: "+"), base[base.index(after: plus)...].allSatisfy(\.isNumber),
           base.index(after: plus) < base.endIndex {
            base = base[..<plus]
        }
        return String(base)
    }

    /// Fails early with `.noInput` when the file is missing or unreadable, so the message says
    /// so plainly instead of cfitsio's generic "could not open the named file".
    static func checkReadable(_ name: String) throws {
        let base = basePath(name)
        // cfitsio reads these through libcurl, which astrotool does not link (CurlAbsent.swift).
        if let scheme = ["https://", "ftps://"].first(where: { base.lowercased().hasPrefix($0) }) {
            throw AstroError(.noInput, file: name, operation: "opening",
                             reason: "\(scheme) names are not read (astrotool is built without libcurl); download the file first")
        }
        guard !base.contains("://"), base != "-" else { return }
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: base, isDirectory: &isDir) {
            throw AstroError(.noInput, file: name, operation: "opening", reason: "no such file")
        }
        if isDir.boolValue {
            throw AstroError(.noInput, file: name, operation: "opening", reason: "is a folder, not a FITS file")
        }
        if !FileManager.default.isReadableFile(atPath: base) {
            throw AstroError(.noInput, file: name, operation: "opening", reason: "permission denied")
        }
    }
}
