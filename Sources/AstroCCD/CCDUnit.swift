import Foundation
import AstroImage

/// The unit of a frame's pixels, read from `BUNIT`: counts (ADU) or electrons, optionally per
/// second. ccdproc refuses to mix units; so do we, but we convert where the gain makes it exact.
public struct CCDUnit: Sendable, Equatable, CustomStringConvertible {
    public enum Base: Sendable, Equatable {
        case adu, electron
        /// Anything else (e.g. a normalised flat's empty unit, `MJy/sr`), kept verbatim.
        case other(String)
    }

    public var base: Base
    public var perSecond: Bool

    public init(_ base: Base, perSecond: Bool = false) {
        self.base = base
        self.perSecond = perSecond
    }

    public static let adu = CCDUnit(.adu)
    public static let electron = CCDUnit(.electron)

    /// The unit a header declares; no `BUNIT` means raw counts, as every raw CCD frame is.
    public static func of(_ header: Header) -> CCDUnit {
        guard let text = header.string("BUNIT") else { return .adu }
        return parse(text)
    }

    public static func parse(_ text: String) -> CCDUnit {
        var t = text.lowercased().filter { $0 != " " }
        var perSecond = false
        for suffix in ["/s", "/sec", "/second", "s-1", "s**-1", "s^-1"] where t.hasSuffix(suffix) {
            perSecond = true
            t = String(t.dropLast(suffix.count))
            break
        }
        switch t {
        case "adu", "count", "counts", "dn", "ct", "cts": return CCDUnit(.adu, perSecond: perSecond)
        case "electron", "electrons", "e-", "e": return CCDUnit(.electron, perSecond: perSecond)
        default: return CCDUnit(.other(text.trimmingCharacters(in: .whitespaces)), perSecond: false)
        }
    }

    /// The `BUNIT` value astrotool writes (astropy's spelling, which it reads back).
    public var description: String {
        let stem: String = switch base {
        case .adu: "adu"
        case .electron: "electron"
        case .other(let s): s
        }
        return perSecond ? stem + " / s" : stem
    }

    /// The same unit per second (`--to-rate`).
    public var rate: CCDUnit { CCDUnit(base, perSecond: true) }
}
