import AstroImage
import AstroWCS
import Foundation

/// Header surgery for align's outputs: a source header loses its own (now wrong) WCS and
/// receives the template's, either as is (the warped image lies on the template grid) or
/// composed with the fitted transform (`--update-wcs`: the source grid, re-tied to the sky).
enum AlignWCS {
    /// True for a card that describes a WCS (primary or alternate), distortions included.
    static func isWCSKeyword(_ keyword: String) -> Bool {
        var k = Substring(keyword)
        if ["RADECSYS", "D2IMEXT"].contains(k) { return true }
        if k.hasPrefix("A_") || k.hasPrefix("B_") || k.hasPrefix("AP_") || k.hasPrefix("BP_") {
            let rest = k.drop { $0 != "_" }.dropFirst()
            return rest == "ORDER" || rest == "DMAX" || isIndexPair(rest)
        }
        // An alternate description ends in a letter A…Z after the digits.
        if let last = k.last, last.isUppercase, k.dropLast().last?.isNumber == true { k = k.dropLast() }
        if ["WCSAXES", "WCSNAME", "LONPOLE", "LATPOLE", "RADESYS", "EQUINOX"].contains(where: { k.hasPrefix($0) && k.count <= $0.count + 1 }) {
            return true
        }
        for family in ["CTYPE", "CRPIX", "CRVAL", "CDELT", "CUNIT", "CROTA", "CRDER", "CSYER",
                       "CPDIS", "CQDIS", "DP", "DQ", "CPERR", "CQERR", "D2IMDIS", "D2IMERR"] where k.hasPrefix(family) {
            let rest = k.dropFirst(family.count)
            if rest.count == 1 && rest.first!.isNumber { return true }
        }
        for family in ["PC", "CD", "PV", "PS"] where k.hasPrefix(family) && isIndexPair(k.dropFirst(family.count)) {
            return true
        }
        return false
    }

    /// `i_j` with decimal i and j.
    private static func isIndexPair(_ s: Substring) -> Bool {
        let parts = s.split(separator: "_", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    /// A TAN-SIP header's WCS without its SIP terms: the linear TAN part.
    static func linearPart(_ header: Header) throws -> WCS {
        var h = Header(cards: header.cards.filter { card in
            let k = card.keyword
            return !(k.hasPrefix("A_") || k.hasPrefix("B_") || k.hasPrefix("AP_") || k.hasPrefix("BP_")) || !isWCSKeyword(k)
        })
        for key in ["CTYPE1", "CTYPE2"] {
            if let c = h.string(key), c.hasSuffix("-SIP") { h.set(key, String(c.dropLast(4))) }
        }
        return try WCS(header: h)
    }

    static func withoutWCS(_ header: Header) -> Header {
        Header(cards: header.userCards.cards.filter { !isWCSKeyword($0.keyword) })
    }

    /// The source's cards with the template's WCS in place of its own; for a grid whose pixel
    /// (0, 0) is template pixel `offset` (`--preserve-footprints`), CRPIX moved by −offset.
    static func onTemplateGrid(_ source: Header, template: WCS, offset: (x: Int, y: Int) = (0, 0)) -> Header {
        var h = withoutWCS(source)
        h.cards += template.header.cards.filter { $0.keyword != "COMMENT" && $0.keyword != "" }
        for (key, d) in [("CRPIX1", offset.x), ("CRPIX2", offset.y)] where d != 0 {
            h.set(key, (h.double(key) ?? 0) - Double(d))
        }
        return h
    }

    /// The source's cards with a WCS tied to the template's through the registration: TAN
    /// for a linear model, TAN-SIP for a polynomial one.
    /// - Throws: `.badData` for a spline model, which no WCS holds.
    static func tied(_ source: Header, template: WCS, registration reg: Registration) throws -> Header {
        guard reg.spline == nil else {
            throw AstroError(.badData, operation: "updating the WCS", reason: "a spline model cannot be written as a WCS; fit a polynomial (TAN-SIP) instead")
        }
        guard let poly = reg.pushPoly else { return try tiedToTemplate(source, template: template, push: reg.push) }
        return try AlignSIP.tied(source, template: template, push: poly, near: reg.pull.apply(template.referencePixel.x, template.referencePixel.y))
    }

    /// The source's cards with a WCS that maps each source pixel s to the sky position the
    /// template's WCS gives to push(s): CD = CD_template·M and CRPIX = push⁻¹(CRPIX_template),
    /// exact for a linear (undistorted) template WCS.
    /// - Throws: `.badData` when the template's WCS has a distortion, which a linear
    ///   composition cannot carry yet.
    static func tiedToTemplate(_ source: Header, template: WCS, push: AffineMap) throws -> Header {
        guard !template.hasDistortion else {
            throw AstroError(.badData, operation: "updating the WCS",
                             reason: "the template's WCS has a distortion (\(template.ctype.joined(separator: ", "))); --update-wcs handles undistorted template WCSs only so far")
        }
        guard let pull = push.inverse else {
            throw AstroError(.badData, operation: "updating the WCS", reason: "the transform is singular")
        }
        let r = template.referencePixel
        return composed(source, template: template, crpix: pull.apply(r.x, r.y), matrix: [[push.a, push.b], [push.d, push.e]])
    }

    /// The source's cards without its WCS, the template's WCS cards, and CRPIX (`crpix`, 0-based)
    /// and CD = CD_template·`matrix` of the composition: what a linear or SIP tie writes.
    static func composed(_ source: Header, template: WCS, crpix: (x: Double, y: Double), matrix m: [[Double]]) -> Header {
        let t = template.header
        func value(_ key: String, _ fallback: Double) -> Double { t.double(key) ?? fallback }
        // wcslib writes PCi_j and CDELTi; CD = diag(CDELT)·PC.
        var cd = [[0.0, 0.0], [0.0, 0.0]]
        for i in 0..<2 {
            for j in 0..<2 {
                cd[i][j] = t.double("CD\(i + 1)_\(j + 1)") ?? value("PC\(i + 1)_\(j + 1)", i == j ? 1 : 0) * value("CDELT\(i + 1)", 1)
            }
        }
        var h = withoutWCS(source)
        let replaced = ["CRPIX1", "CRPIX2", "CDELT1", "CDELT2", "PC1_1", "PC1_2", "PC2_1", "PC2_2", "CD1_1", "CD1_2", "CD2_1", "CD2_2"]
        h.cards += t.cards.filter { $0.keyword != "COMMENT" && $0.keyword != "" && !replaced.contains($0.keyword) }
        h.set("CRPIX1", crpix.x + 1, comment: "Pixel coordinate of reference point")
        h.set("CRPIX2", crpix.y + 1, comment: "Pixel coordinate of reference point")
        for i in 0..<2 {
            for j in 0..<2 {
                h.set("CD\(i + 1)_\(j + 1)", cd[i][0] * m[0][j] + cd[i][1] * m[1][j], comment: "Linear transformation matrix element")
            }
        }
        return h
    }
}
