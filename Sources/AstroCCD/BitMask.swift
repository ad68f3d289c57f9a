import AstroImage

/// ccdproc's `bitfield_to_boolean_mask` (astropy's): a DQ plane to 1 = bad, 0 = good, where a
/// pixel is bad when it has a bit set that is not ignored.
public enum BitMask {
    /// `ignore`: astropy's `ignore_flags` in astrotool's bit syntax (4, 4,8, 1+2, ~4, ~(1,8),
    /// names; "all" ignores every bit, astropy's None; default 0, every bit counts); `flip`
    /// makes an integer the only bits used (astropy's flip_bits=True).
    public static func parse(ignore: String?, flip: Bool) throws -> GoodBits {
        let t = (ignore ?? "0").trimmingCharacters(in: .whitespaces)
        guard flip else { return try GoodBits.parse(t) }
        guard let bits = UInt64(t) else {
            throw AstroError(.usage, operation: "parsing --flip-bits",
                             reason: "--flip-bits takes an integer --ignore-bits; for a list write ~(\(t))")
        }
        return GoodBits(good: ~bits)
    }

    public static func apply(_ dq: [Float], good: GoodBits) -> [UInt8] {
        dq.map { v in
            guard v.isFinite else { return 1 }
            return good.isBad(UInt64(max(0, v.rounded()))) ? 1 : 0
        }
    }
}
