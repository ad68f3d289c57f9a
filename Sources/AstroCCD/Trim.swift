import AstroImage

/// Trimming to the data section (ccdproc `trim_image`), keeping the file self-describing:
/// ccdproc leaves TRIMSEC/DATASEC/BIASSEC pointing at pixels that no longer exist; we drop the
/// sections that no longer apply, record the IRAF `CCDSEC` and `LTV1/LTV2` offsets, and let the
/// WCS follow the crop (`Image.cropped`). A flipped section (`[10:1,*]`) is cut flipped, but the
/// LTV/CCDSEC cards describe only its offset, not the flip (no LTM is written).
public enum Trim {
    public static func apply(_ image: Image, region: PixelRegion) -> Image {
        var out = image.cropped(to: region)
        var h = out.header
        let x0 = region.x.lowerBound, y0 = region.y.lowerBound
        // The section of the original detector these pixels are, composed with an earlier trim.
        let ltv1 = h.double("LTV1") ?? 0, ltv2 = h.double("LTV2") ?? 0
        let cx1 = x0 + 1 - Int(ltv1), cy1 = y0 + 1 - Int(ltv2)
        let ccdsec = "[\(cx1):\(cx1 + region.x.count - 1),\(cy1):\(cy1 + region.y.count - 1)]"
        for key in ["TRIMSEC", "BIASSEC", "DATASEC"] { h.remove(key) }
        h.set("CCDSEC", ccdsec, comment: "detector section of these pixels")
        h.set("LTV1", ltv1 - Double(x0), comment: "physical = image - LTV1 (IRAF)")
        h.set("LTV2", ltv2 - Double(y0), comment: "physical = image - LTV2 (IRAF)")
        out.header = h
        return out
    }
}
