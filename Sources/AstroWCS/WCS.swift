import AstroImage
internal import CWCSLIB

/// A celestial 2-D world coordinate system, backed by one wcslib `wcsprm`.
///
/// Pixel convention: every pixel coordinate in this API is **0-based**: (0, 0) is the centre
/// of the first pixel, and the first pixel covers -0.5…0.5 on each axis. FITS (and wcslib)
/// count from 1, so FITS pixel = ours + 1; the conversion happens only at the C boundary.
/// World coordinates are (RA, Dec) in degrees, whatever the order of the celestial axes in
/// the header. RA comes back in wcslib's range, which for the usual CRVAL1 ≥ 0 is [0, 360).
///
/// Ownership and threads: each instance owns exactly one `wcsprm` that it allocated itself
/// (`flag = -1`, then `wcssub`), runs `wcsset` once in `init`, and frees it in `deinit`.
/// The type is **not Sendable** and must not be shared between threads: `wcsp2s`/`wcss2p`
/// write into the struct (its error record, and `linprm::tmpcrd`, a scratch buffer used
/// whenever a distortion is present). Give each thread or task its own ``copy()``.
/// To hand a WCS across threads, pass its ``header`` (a Sendable value) and rebuild.
public final class WCS {
    /// Owned; allocated with `flag = -1`, filled by `wcssub`, freed with `wcsfree` + deallocate.
    let prm: UnsafeMutablePointer<wcsprm>
    /// HST's lookup-table chain (with SIP), applied before wcslib; nil for every other header.
    let pixelDistortion: PixelDistortion?

    /// Reads an image extension (EXTNAME, EXTVER) of the header's own file: how the lookup
    /// tables of FITS Paper IV (WCSDVARR, D2IMARR) are found. `WCS.read(path:)` supplies one.
    public typealias DistortionArrays = (_ extname: String, _ extver: Int) throws -> Image

    /// Parses the primary (alternate ' ') WCS of a header.
    ///
    /// Runs `wcspih` with `WCSHDR_all` (every informal extension wcslib recognises: SIP, TPV,
    /// DSS, CROTA, …) and `ctrl = 0` (rejected cards are not printed), keeps the primary
    /// description and runs `wcsset` on it.
    /// - Parameters:
    ///   - header: The cards. Non-ASCII characters are replaced by `?` before wcslib sees them.
    ///   - file: Used only in error messages (the path as the user typed it).
    ///   - hdu: Used only in error messages, e.g. `HDU 2 'SCI'`.
    ///   - arrays: The file's extensions, needed when the header uses lookup tables
    ///     (CPDISj/D2IMDISj = 'Lookup', AXISCORR).
    /// - Throws: ``AstroError`` `.badData` (operation `parsing WCS`) when the header has no
    ///   primary WCS, when wcslib rejects it (the reason is wcslib's own message and status),
    ///   or when it is not a 2-D celestial (longitude/latitude) system.
    public init(header: Header, file: String? = nil, hdu: String? = nil, arrays: DistortionArrays? = nil) throws {
        WCSLib.enableErrorMessages()
        func fail(_ reason: String) -> AstroError {
            AstroError(.badData, file: file, hdu: hdu, operation: "parsing WCS", reason: reason)
        }

        // wcslib implements polynomial and TPD distortions but not the FITS Paper IV lookup
        // tables (CPDISj/D2IMDISj = 'Lookup', stored in WCSDVARR/D2IMARR extensions): those, and
        // then SIP too, are applied here and wcslib sees the header without them (as in astropy).
        var header = header
        if PixelDistortion.isNeeded(header) {
            guard let arrays else {
                throw fail("lookup-table distortion (FITS Paper IV) needs the file's WCSDVARR/D2IMARR extensions; read the WCS from the file")
            }
            pixelDistortion = try PixelDistortion.read(header, arrays: arrays, fail: fail)
            header = PixelDistortion.linearHeader(header)
        } else {
            pixelDistortion = nil
        }
        if let problem = WCS.crashingCard(in: header) { throw fail(problem) }
        var buffer = WCSLib.cardBuffer(header)
        guard !buffer.isEmpty else { throw fail("the header is empty") }
        let nkeyrec = Int32(buffer.count / 80)
        var nreject: Int32 = 0
        var nwcs: Int32 = 0
        var array: UnsafeMutablePointer<wcsprm>? = nil
        let status = buffer.withUnsafeMutableBufferPointer { buf in
            wcspih(buf.baseAddress, nkeyrec, WCSHDR_all, 0, &nreject, &nwcs, &array)
        }
        defer { if array != nil { wcsvfree(&nwcs, &array) } }
        guard status == 0 else {
            throw fail("wcslib could not parse the header: \(WCSLib.statusText(status)) (wcspih status \(status))")
        }
        guard let array, nwcs > 0 else { throw fail("no WCS keywords (CTYPEn, CRVALn, …) in the header") }

        var primary: UnsafeMutablePointer<wcsprm>? = nil
        var alternates: [String] = []
        for i in 0..<Int(nwcs) {
            let key = WCSLib.alt(array + i)
            if key == "" { primary = array + i } else { alternates.append(key) }
        }
        guard let primary else {
            throw fail("no primary WCS (only alternate descriptions \(alternates.joined(separator: ", ")))")
        }
        let setStatus = wcsset(primary)
        guard setStatus == 0 else { throw fail(WCSLib.errorText(primary, status: setStatus, function: "wcsset")) }
        try WCS.checkCelestial2D(primary, fail: fail)

        // Keep our own single struct, so ownership is the same for every instance.
        let own = try WCS.allocateCopy(of: primary, fail: fail)
        prm = own
    }

    /// Takes ownership of a struct that `allocateCopy` (or a builder) made and that is set.
    private init(owning prm: UnsafeMutablePointer<wcsprm>, pixelDistortion: PixelDistortion?) {
        self.prm = prm
        self.pixelDistortion = pixelDistortion
    }

    deinit {
        wcsfree(prm)
        prm.deinitialize(count: 1)
        prm.deallocate()
    }

    /// An independent copy (`wcssub` through the `astro_wcscopy` shim, then `wcsset`), for use
    /// on another thread. Reads this instance's struct but does not modify it.
    public func copy() -> WCS {
        let own = try! WCS.allocateCopy(of: prm) { reason in
            AstroError(.badData, operation: "copying WCS", reason: reason)
        }
        return WCS(owning: own, pixelDistortion: pixelDistortion)
    }

    // MARK: Properties

    /// The CTYPEn values as wcslib holds them after parsing, e.g. `["RA---TAN-SIP", "DEC--TAN-SIP"]`.
    /// wcslib rewrites some: a TPV header reports `RA---TAN`/`DEC--TAN` with the polynomial
    /// held as a distortion (see ``hasDistortion``).
    public var ctype: [String] {
        let types = (0..<Int(prm.pointee.naxis)).map { i in
            withUnsafeBytes(of: prm.pointee.ctype[i]) { WCSLib.string($0) }
        }
        // wcslib was given the header without SIP when astrotool applies SIP itself.
        return pixelDistortion?.sip == nil ? types : types.map { $0 + "-SIP" }
    }

    /// True when wcslib applies a distortion (SIP, TPV, TPD, DSS, CPDIS/CQDIS …): the prior or
    /// sequent `disprm` of the linear transformation is present.
    public var hasDistortion: Bool {
        pixelDistortion != nil || prm.pointee.lin.dispre != nil || prm.pointee.lin.disseq != nil
    }

    /// The lookup-table chain's parts ("SIP order 4, CPDIS1 lookup 65x33, …"), or nil when
    /// wcslib handles every distortion of the header.
    public var lookupDistortion: String? { pixelDistortion?.summary }

    /// CRPIX as a 0-based pixel.
    public var referencePixel: (x: Double, y: Double) {
        (prm.pointee.crpix[0] - 1, prm.pointee.crpix[1] - 1)
    }

    /// CRVAL of the celestial axes, in degrees.
    public var referenceWorld: (ra: Double, dec: Double) {
        (prm.pointee.crval[Int(prm.pointee.lng)], prm.pointee.crval[Int(prm.pointee.lat)])
    }

    // MARK: Internals

    /// Allocates a struct with `flag = -1`, copies `source` into it with `wcssub`, runs `wcsset`.
    static func allocateCopy(
        of source: UnsafePointer<wcsprm>, fail: (String) -> AstroError
    ) throws -> UnsafeMutablePointer<wcsprm> {
        let p = UnsafeMutablePointer<wcsprm>.allocate(capacity: 1)
        p.initialize(to: wcsprm())
        p.pointee.flag = -1
        func release() {
            wcsfree(p)
            p.deinitialize(count: 1)
            p.deallocate()
        }
        let copyStatus = astro_wcscopy(1, source, p)
        guard copyStatus == 0 else {
            let text = WCSLib.errorText(p, status: copyStatus, function: "wcssub")
            release()
            throw fail(text)
        }
        let setStatus = wcsset(p)
        guard setStatus == 0 else {
            let text = WCSLib.errorText(p, status: setStatus, function: "wcsset")
            release()
            throw fail(text)
        }
        return p
    }

    /// Builds an instance around a struct the caller allocated (`flag = -1`) and initialised;
    /// runs `wcsset`, and frees the struct if that fails.
    static func adopt(_ p: UnsafeMutablePointer<wcsprm>, fail: (String) -> AstroError) throws -> WCS {
        let setStatus = wcsset(p)
        guard setStatus == 0 else {
            let text = WCSLib.errorText(p, status: setStatus, function: "wcsset")
            wcsfree(p)
            p.deinitialize(count: 1)
            p.deallocate()
            throw fail(text)
        }
        return WCS(owning: p, pixelDistortion: nil)
    }

    private static func checkCelestial2D(_ p: UnsafeMutablePointer<wcsprm>, fail: (String) -> AstroError) throws {
        let naxis = Int(p.pointee.naxis)
        let types = (0..<naxis).map { i in withUnsafeBytes(of: p.pointee.ctype[i]) { WCSLib.string($0) } }
        let listed = types.map { "'\($0)'" }.joined(separator: ", ")
        guard p.pointee.lng >= 0, p.pointee.lat >= 0 else {
            if types.allSatisfy(\.isEmpty) { throw fail("no celestial WCS: the header has no CTYPEn keywords") }
            throw fail("not a celestial WCS: no longitude/latitude axis pair (CTYPE \(listed))")
        }
        guard naxis == 2 else {
            throw fail("a 2-D celestial WCS is required, but the header describes \(naxis) axes (CTYPE \(listed))")
        }
    }
}

/// `WCS` is deliberately not Sendable: see the type's documentation.
@available(*, unavailable)
extension WCS: Sendable {}

/// Small helpers around the C library; nothing here is public.
enum WCSLib {
    /// `wcserr_enable` sets a static flag in wcslib; doing it once, before any other wcslib call
    /// of ours, keeps that write out of concurrent code. A global `let` is initialised once,
    /// thread-safely.
    private static let errorMessagesEnabled: Bool = {
        wcserr_enable(1)
        return true
    }()

    static func enableErrorMessages() {
        _ = errorMessagesEnabled
    }

    /// The header as `nkeyrec × 80` ASCII bytes, exactly what `wcspih` needs (it does no bounds
    /// checking, so every card is padded or cut to 80 bytes here). Cards whose value is
    /// undefined (`LONPOLE =` and blanks) are left out: they say nothing, and wcspih's lexer
    /// echoes them to C stdout, which would corrupt `--json` output.
    static func cardBuffer(_ header: Header) -> [CChar] {
        var out: [CChar] = []
        let images = header.cards.filter { $0.value != .undefined }.flatMap(\.images)
        out.reserveCapacity(images.count * 80 + 1)
        for image in images {
            var n = 0
            for scalar in image.unicodeScalars where n < 80 {
                out.append(CChar(scalar.isASCII && scalar.value >= 32 ? Int(scalar.value) : Int(UInt8(ascii: "?"))))
                n += 1
            }
            while n < 80 {
                out.append(CChar(UInt8(ascii: " ")))
                n += 1
            }
        }
        return out
    }

    /// Decodes a fixed-size C char array (NUL-terminated or full), trailing blanks removed.
    static func string(_ raw: UnsafeRawBufferPointer) -> String {
        let bytes = raw.prefix { $0 != 0 }
        var s = String(decoding: bytes, as: UTF8.self)
        while s.last == " " { s.removeLast() }
        return s
    }

    /// The alternate-description letter, "" for the primary.
    static func alt(_ p: UnsafePointer<wcsprm>) -> String {
        withUnsafeBytes(of: p.pointee.alt) { string($0) }
    }

    static func statusText(_ status: Int32) -> String {
        String(cString: astro_wcs_errmsg(status))
    }

    /// wcslib's detailed message from `wcs->err` when there is one, else the short text of the
    /// status, always followed by the numeric status: `… (wcsset status 4)`.
    static func errorText(_ p: UnsafePointer<wcsprm>, status: Int32, function: String) -> String {
        var text = statusText(status)
        if let err = p.pointee.err, let msg = err.pointee.msg {
            let detail = String(cString: msg)
            if !detail.isEmpty { text = detail }
        }
        return "\(text) (wcslib \(function) status \(status))"
    }
}
