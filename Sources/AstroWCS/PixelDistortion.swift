import AstroImage

/// The pixel-side distortions of HST data that wcslib does not implement — FITS Paper IV
/// lookup tables (CPDISj = 'Lookup' with WCSDVARR extensions) and detector-to-image tables
/// (D2IMDISj, or the older AXISCORR, with D2IMARR) — together with SIP, read and applied as
/// astropy's WCS(header, fobj) does:
///
///     p (1-based) → t = p + D2IM(p) → focal = t + SIP(t) + CPDIS(t) → wcslib (no SIP)
///
/// A header that uses no lookup table keeps wcslib's own SIP and never builds one of these.
struct PixelDistortion: Sendable {
    var d2im: (DistortionTable?, DistortionTable?)
    var sip: SIPPolynomial?
    var cpdis: (DistortionTable?, DistortionTable?)

    /// Reads an image extension (EXTNAME, EXTVER) of the header's file.
    typealias Arrays = (_ extname: String, _ extver: Int) throws -> Image

    /// True when the header asks for a lookup table (the only case this type handles).
    static func isNeeded(_ header: Header) -> Bool {
        ["CPDIS1", "CPDIS2", "D2IMDIS1", "D2IMDIS2"].contains { header.string($0)?.uppercased() == "LOOKUP" }
            || header.contains("AXISCORR")
    }

    /// The tables and SIP of `header`; `fail` builds the error for a missing or bad extension.
    static func read(_ header: Header, arrays: Arrays, fail: (String) -> AstroError) throws -> PixelDistortion {
        func table(_ extname: String, _ extver: Int, transpose: Bool, key: String) throws -> DistortionTable {
            let image: Image
            do { image = try arrays(extname, extver) } catch {
                throw fail("\(key) needs the \(extname),\(extver) extension, which cannot be read (\(error))")
            }
            guard image.width > 0, image.height > 0 else {
                throw fail("\(extname),\(extver) holds no 1-D or 2-D table")
            }
            let h = image.header
            var data = image.pixels, w = image.width, hgt = image.height
            if transpose {
                data = (0..<(w * hgt)).map { k in image.pixels[(k % hgt) * w + k / hgt] }
                (w, hgt) = (hgt, w)
            }
            return DistortionTable(width: w, height: hgt, data: data,
                                   crpix: (h.double("CRPIX1") ?? 0, h.double("CRPIX2") ?? 0),
                                   crval: (h.double("CRVAL1") ?? 0, h.double("CRVAL2") ?? 0),
                                   cdelt: (h.double("CDELT1") ?? 1, h.double("CDELT2") ?? 1))
        }
        /// CPDISj/DPj (WCSDVARR) or D2IMDISj/D2IMj (D2IMARR) for axis j.
        func lookup(_ dis: String, _ kw: String, _ extname: String, axis j: Int) throws -> DistortionTable? {
            guard let kind = header.string("\(dis)\(j)") else { return nil }
            guard kind.uppercased() == "LOOKUP" else {
                throw fail("\(dis)\(j) = '\(kind)' is not supported (only 'Lookup' tables)")
            }
            let extver = Self.record(header, "\(kw)\(j)", "EXTVER").map { Int($0) } ?? 1
            guard let axis = Self.record(header, "\(kw)\(j)", "AXIS.\(j)").map({ Int($0) }) else {
                throw fail("\(dis)\(j) = 'Lookup' without \(kw)\(j).AXIS.\(j)")
            }
            let t = try table(extname, extver, transpose: axis != j, key: "\(dis)\(j)")
            // The record says how many axes the table has; a table of another shape is refused.
            if let naxes = Self.record(header, "\(kw)\(j)", "NAXES").map({ Int($0) }), naxes == 2, t.width < 2 || t.height < 2 {
                throw fail("\(extname),\(extver) is \(t.width)x\(t.height), but \(kw)\(j) NAXES = 2 asks for a 2-D table")
            }
            return t
        }
        var d = PixelDistortion(d2im: (nil, nil), sip: SIPPolynomial(header), cpdis: (nil, nil))
        d.cpdis = (try lookup("CPDIS", "DP", "WCSDVARR", axis: 1), try lookup("CPDIS", "DP", "WCSDVARR", axis: 2))
        if let axis = header.int("AXISCORR") {
            // The old convention: one D2IMARR row correcting axis AXISCORR.
            guard axis == 1 || axis == 2 else { throw fail("AXISCORR = \(axis); it must be 1 or 2") }
            var t = try table("D2IMARR", 1, transpose: false, key: "AXISCORR")
            t = DistortionTable(width: t.width * t.height, height: 1, data: t.data, crpix: t.crpix, crval: t.crval, cdelt: t.cdelt)
            d.d2im = axis == 1 ? (t, nil) : (nil, t)
        } else {
            d.d2im = (try lookup("D2IMDIS", "D2IM", "D2IMARR", axis: 1), try lookup("D2IMDIS", "D2IM", "D2IMARR", axis: 2))
        }
        return d
    }

    /// A Paper IV record-valued card's field: `DP1 = 'AXIS.1: 1'` → 1 for ("DP1", "AXIS.1").
    static func record(_ header: Header, _ keyword: String, _ field: String) -> Double? {
        for card in header.cards where card.keyword == keyword {
            guard case .string(let text)? = card.value else { continue }
            let parts = text.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0].uppercased() == field.uppercased(), let v = Double(parts[1]) { return v }
        }
        return nil
    }

    /// The header wcslib should see: without SIP and lookup-table keywords, CTYPE without "-SIP".
    static func linearHeader(_ header: Header) -> Header {
        let dropped = ["A_", "B_", "AP_", "BP_", "CPDIS", "D2IMDIS", "D2IMERR", "CPERR", "AXISCORR"]
        let records: Set = ["DP1", "DP2", "D2IM1", "D2IM2"]
        var cards: [Card] = []
        for card in header.cards where !dropped.contains(where: { card.keyword.hasPrefix($0) }) && !records.contains(card.keyword) {
            var c = card
            if c.keyword == "CTYPE1" || c.keyword == "CTYPE2", case .string(let s)? = c.value, s.uppercased().hasSuffix("-SIP") {
                c.value = .string(String(s.dropLast(4)))
            }
            cards.append(c)
        }
        return Header(cards: cards)
    }

    /// Focal-plane coordinates of 1-based pixel (x, y).
    @inline(__always)
    func focal(_ x: Double, _ y: Double) -> (Double, Double) {
        var tx = x, ty = y
        if let t = d2im.0 { tx += t.offset(x, y) }
        if let t = d2im.1 { ty += t.offset(x, y) }
        var fx = tx, fy = ty
        if let sip {
            let (dx, dy) = sip.deltas(tx, ty)
            fx += dx; fy += dy
        }
        if let t = cpdis.0 { fx += t.offset(tx, ty) }
        if let t = cpdis.1 { fy += t.offset(tx, ty) }
        return (fx, fy)
    }

    /// The 1-based pixel whose focal coordinates are (fx, fy), by fixed-point iteration
    /// (the distortion is a small perturbation of the identity, as astropy's all_world2pix
    /// assumes); nil when it does not converge to `tolerance` pixels in 50 steps.
    func pixel(focal fx: Double, _ fy: Double, tolerance: Double = 1e-10) -> (Double, Double)? {
        var x = fx, y = fy
        for _ in 0..<50 {
            let (gx, gy) = focal(x, y)
            let dx = gx - fx, dy = gy - fy
            x -= dx; y -= dy
            if !(x.isFinite && y.isFinite) { return nil }
            if abs(dx) < tolerance && abs(dy) < tolerance { return (x, y) }
        }
        return nil
    }

    /// What `info` prints.
    var summary: String {
        var parts: [String] = []
        if let sip { parts.append("SIP order \(max(sip.aOrder, sip.bOrder))") }
        func describe(_ name: String, _ t: (DistortionTable?, DistortionTable?)) {
            for (j, table) in [t.0, t.1].enumerated() {
                if let table { parts.append("\(name)\(j + 1) lookup \(table.width)x\(table.height)") }
            }
        }
        describe("CPDIS", cpdis)
        describe("D2IM", d2im)
        return parts.joined(separator: ", ")
    }
}
