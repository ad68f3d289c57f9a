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

    /// `names` adds mnemonics (`--dq-flags JUMP_DET=4,...`) to astrotool's own bit names; a
    /// mission's names are then read as astropy's `interpret_bit_flags` reads them.
    public static func parse(_ text: String, names extra: [(String, UInt64)] = []) throws -> GoodBits {
        var spec = text.trimmingCharacters(in: .whitespaces)
        let lower = spec.lowercased()
        if lower.isEmpty || lower == "none" || lower == "indef" { return .none }
        if lower == "all" { return GoodBits(good: ~0) }
        func fail(_ why: String) -> AstroError { AstroError(.usage, operation: "parsing good bits", reason: "'\(text)' \(why)") }
        var flip = false
        if spec.hasPrefix("~") { flip = true; spec.removeFirst() }
        guard !spec.contains("~") else { throw fail("has a '~' that is not its first character") }
        // astropy writes the flipped list in parentheses: ~(1,8,32).
        if spec.hasPrefix("(") && spec.hasSuffix(")") && spec.count >= 2 { spec = String(spec.dropFirst().dropLast()) }
        let separators = Set(spec.filter { $0 == "," || $0 == "+" || $0 == "|" })
        guard separators.count <= 1 else { throw fail("mixes the separators , + and |") }
        let tokens = spec.split(separator: separators.first ?? ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !tokens.isEmpty, !tokens.contains(where: \.isEmpty) else {
            throw fail("is not a bit list such as 4, 4,8, 4+8 or ~4")
        }
        let table = extra.map { ($0.0.lowercased(), $0.1) } + MaskBits.names.map { ($0.0, UInt64($0.1.rawValue)) }
        var bits: UInt64 = 0
        for token in tokens {
            if let value = Self.integer(token) {
                // A list names single bits; only a lone number may combine several ("12").
                guard tokens.count == 1 || value & (value &- 1) == 0 else { throw fail("lists \(token), which is not a power of two") }
                bits |= value
            } else if let named = table.first(where: { $0.0 == token.lowercased() }) {
                bits |= named.1
            } else {
                let known = table.map(\.0).joined(separator: ", ")
                throw fail("names '\(token)', neither an integer nor a bit name (\(known))")
            }
        }
        return GoodBits(good: flip ? ~bits : bits)
    }

    /// `--dq-flags` text, `NAME=bit,NAME=bit` (bit a value such as 4 or 0x10), as a name table.
    public static func names(_ text: String) throws -> [(String, UInt64)] {
        try text.split(separator: ",").map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, let v = integer(parts[1]) else {
                throw AstroError(.usage, operation: "parsing DQ flag names", reason: "'\(item)' is not NAME=value")
            }
            return (parts[0], v)
        }
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
