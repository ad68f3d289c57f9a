import Foundation

/// The meaning of each bit of astrotool's `MASK` plane (uint8, non-zero = bad), shared by every
/// engine so a pixel flagged by ccdproc stays explained through resample, skymatch and align.
/// The table is in docs/conventions.md; keep the two in step.
public struct MaskBits: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A bad pixel from a bad-pixel mask (ccdmask, a user BPM, a DQ plane).
    public static let bad = MaskBits(rawValue: 1)
    /// At or above the saturation level.
    public static let saturated = MaskBits(rawValue: 2)
    /// Flagged as a cosmic ray.
    public static let cosmicRay = MaskBits(rawValue: 4)
    /// The flat field is zero, negative or not finite here, so the pixel was not flattened.
    public static let badFlat = MaskBits(rawValue: 8)
    /// Rejected as an outlier by every frame of a combination (no value survived).
    public static let outlier = MaskBits(rawValue: 16)
    /// No input covers this pixel.
    public static let noData = MaskBits(rawValue: 32)
    /// The value is NaN or infinite.
    public static let nonFinite = MaskBits(rawValue: 64)
    /// Set by the user (`--bpm` bit mapping, external tools).
    public static let user = MaskBits(rawValue: 128)

    /// Names accepted in `--good-bits` lists, lower case.
    public static let names: [(String, MaskBits)] = [
        ("bad", .bad), ("saturated", .saturated), ("cosmic_ray", .cosmicRay), ("bad_flat", .badFlat),
        ("outlier", .outlier), ("no_data", .noData), ("non_finite", .nonFinite), ("user", .user),
    ]
}

/// Which bits of a DQ/MASK plane count as good, in stcal's and astropy's `bitfield_to_boolean_mask`
/// syntax, so `--good-bits` means the same thing as in the JWST and HST pipelines.
///
/// Accepted: an integer (`4`, `0x14`), a list `"4,8"` or `"4+8"`, bit names (`"cosmic_ray,saturated"`),
/// `"none"` or `""` (no bit is good: any set bit is bad, the default), `"all"` (nothing is bad),
/// and a leading `~` that flips the selection (`"~4"`: only bit 4 is bad).
public struct GoodBits: Sendable, Equatable {
    /// Bits that do not make a pixel bad.
    public var good: UInt64

    public init(good: UInt64 = 0) { self.good = good }

    /// The default: every set bit marks a bad pixel.
    public static let none = GoodBits(good: 0)

    public static func parse(_ text: String) throws -> GoodBits {
        var spec = text.trimmingCharacters(in: .whitespaces)
        let lower = spec.lowercased()
        if lower.isEmpty || lower == "none" { return .none }
        if lower == "all" { return GoodBits(good: ~0) }
        var flip = false
        if spec.hasPrefix("~") { flip = true; spec.removeFirst() }
        // astropy writes the flipped list in parentheses: ~(1,8,32).
        if spec.hasPrefix("(") && spec.hasSuffix(")") && spec.count >= 2 { spec = String(spec.dropFirst().dropLast()) }
        let tokens = spec.split(whereSeparator: { $0 == "," || $0 == "+" || $0 == "|" })
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !tokens.isEmpty, !tokens.contains(where: \.isEmpty) else {
            throw AstroError(.usage, operation: "parsing good bits", reason: "'\(text)' is not a bit list such as 4, 4,8, 4+8 or ~4")
        }
        var bits: UInt64 = 0
        for token in tokens {
            if let value = Self.integer(token) {
                bits |= value
            } else if let named = MaskBits.names.first(where: { $0.0 == token.lowercased() }) {
                bits |= UInt64(named.1.rawValue)
            } else {
                let known = MaskBits.names.map(\.0).joined(separator: ", ")
                throw AstroError(.usage, operation: "parsing good bits",
                                 reason: "'\(token)' is neither an integer nor a bit name (\(known))")
            }
        }
        return GoodBits(good: flip ? ~bits : bits)
    }

    /// True when `value` has a bit set that is not good.
    @inlinable
    public func isBad(_ value: UInt64) -> Bool { value & ~good != 0 }

    private static func integer(_ token: String) -> UInt64? {
        let t = token.lowercased()
        if t.hasPrefix("0x") { return UInt64(t.dropFirst(2), radix: 16) }
        return UInt64(t)
    }
}
