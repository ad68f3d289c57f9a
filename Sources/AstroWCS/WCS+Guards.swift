import AstroImage

/// Cards that crash wcslib 7's header parser (`wcspih`), found by the fuzz harness
/// (docs/reliability.md). They are refused before wcslib sees them.
extension WCS {
    /// Why `header` must not reach `wcspih`, or nil when it may.
    static func crashingCard(in header: Header) -> String? {
        for card in header.cards {
            let key = card.keyword
            // wcspih sizes its arrays from WCSAXESa and NAXIS without a bound
            // (WCSAXES = 2147483647, or a second NAXIS card saying so, crashes it).
            if key == "NAXIS" || (key.hasPrefix("WCSAXES") && key.count <= 8) {
                let limit = key == "NAXIS" ? 999 : 99
                guard let n = number(card.value) else { continue }
                if !(n >= 0 && n <= Double(limit) && n == n.rounded()) {
                    return "\(key) = \(card.value!) is not an axis count (0 to \(limit))"
                }
            }
            // A SIP coefficient (A_p_q, B_p_q, AP_p_q, BP_p_q) that is not a number, with no
            // A_ORDER before it, makes wcspih dereference a null pointer.
            // A coefficient card without a value (a card shifted off its columns) crashes it too.
            if isSIPCoefficient(key), number(card.value) == nil {
                let shown = switch card.value {
                case .string(let text)?: "'\(text)'"
                case let value?: value.description
                case nil: "(no value)"
                }
                return "\(key) = \(shown) is not a number"
            }
        }
        return nil
    }

    private static func number(_ value: CardValue?) -> Double? {
        switch value {
        case .integer(let i)?: Double(i)
        case .real(let d)?: d
        default: nil
        }
    }

    /// `A_2_0`, `BP_1_3`, …: a prefix, then two whole numbers joined by underscores.
    private static func isSIPCoefficient(_ key: String) -> Bool {
        let parts = key.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, ["A", "B", "AP", "BP"].contains(parts[0]) else { return false }
        return parts.dropFirst().allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
