/// The value of a FITS header card.
public enum CardValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case real(Double)
    case logical(Bool)
    /// A keyword present with an empty value field.
    case undefined

    public var description: String {
        switch self {
        case .string(let s): s
        case .integer(let i): String(i)
        case .real(let d): Card.formatReal(d)
        case .logical(let b): b ? "T" : "F"
        case .undefined: ""
        }
    }
}

/// One header card: a keyword with a value and comment, or a commentary card
/// (HISTORY, COMMENT, blank keyword) whose text is kept in `comment` and `value` is nil.
public struct Card: Sendable, Equatable {
    public var keyword: String
    public var value: CardValue?
    public var comment: String

    public init(_ keyword: String, _ value: CardValue, comment: String = "") {
        self.keyword = keyword.uppercased()
        self.value = value
        self.comment = comment
    }

    public init(commentary keyword: String, _ text: String) {
        self.keyword = keyword.uppercased()
        self.value = nil
        self.comment = text
    }

    public var isCommentary: Bool { value == nil }

    // MARK: Parsing

    /// Parses one card image (up to 80 characters; shorter lines are padded).
    public init(parsing image: Substring) {
        // Bytes, not Characters: an ASCII card (every valid one) is cut at 80 bytes without
        // walking grapheme clusters, which took most of a header's parsing time.
        let utf8 = image.utf8
        let chars = utf8.allSatisfy { $0 < 0x80 } ? Array(utf8.prefix(80)) : Array(String(image.prefix(80)).utf8)
        var key = Card.text(chars, 0..<8, upper: true)
        var valueStart = 10
        if key == "HIERARCH", let eq = chars.firstIndex(of: UInt8(ascii: "=")) {
            key = Card.text(chars, 9..<eq, upper: true)
            valueStart = eq + 1
        } else if !(chars.count >= 10 && chars[8] == UInt8(ascii: "=") && chars[9] == UInt8(ascii: " ")) {
            // Commentary card (or a keyword without the value indicator).
            self.keyword = key
            self.value = nil
            self.comment = Card.text(chars, 8..<80, leading: false)
            return
        }
        self.keyword = key
        let (value, comment) = Card.parseValueField(Array(chars.dropFirst(valueStart)))
        self.value = value
        self.comment = comment
    }

    /// `bytes[range]` (clamped) as text without trailing spaces, nor leading ones unless
    /// `leading` is false; letters upper-cased when `upper`.
    public static func text(_ bytes: [UInt8], _ range: Range<Int>, leading: Bool = true, upper: Bool = false) -> String {
        var lo = min(range.lowerBound, bytes.count), hi = min(range.upperBound, bytes.count)
        while hi > lo && bytes[hi - 1] == UInt8(ascii: " ") { hi -= 1 }
        while leading && lo < hi && bytes[lo] == UInt8(ascii: " ") { lo += 1 }
        let text = String(decoding: bytes[lo..<hi], as: UTF8.self)
        guard upper, bytes[lo..<hi].contains(where: { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 >= 0x80 }) else { return text }
        return text.uppercased()
    }

    /// Splits a value field into its value and comment.
    static func parseValueField(_ f: [UInt8]) -> (CardValue, String) {
        var i = 0
        while i < f.count && f[i] == UInt8(ascii: " ") { i += 1 }
        guard i < f.count else { return (.undefined, "") }
        var comment = ""
        func takeComment(from j: Int) {
            var k = j
            while k < f.count && f[k] != UInt8(ascii: "/") { k += 1 }
            if k < f.count { comment = text(f, (k + 1)..<f.count) }
        }
        if f[i] == UInt8(ascii: "'") {
            var s: [UInt8] = []
            var j = i + 1
            while j < f.count {
                if f[j] == UInt8(ascii: "'") {
                    if j + 1 < f.count && f[j + 1] == UInt8(ascii: "'") { s.append(f[j]); j += 2; continue }
                    break
                }
                s.append(f[j]); j += 1
            }
            while let last = s.last, last == UInt8(ascii: " ") { s.removeLast() }
            takeComment(from: j + 1)
            return (.string(String(decoding: s, as: UTF8.self)), comment)
        }
        var j = i
        while j < f.count && f[j] != UInt8(ascii: "/") { j += 1 }
        let token = text(f, i..<j)
        takeComment(from: j)
        if token.isEmpty { return (.undefined, comment) }
        if token == "T" { return (.logical(true), comment) }
        if token == "F" { return (.logical(false), comment) }
        if let v = Int(token.hasPrefix("+") ? String(token.dropFirst()) : token) { return (.integer(v), comment) }
        // Fortran's D exponent read as E.
        let realText = token.utf8.contains(where: { $0 == UInt8(ascii: "D") || $0 == UInt8(ascii: "d") })
            ? String(decoding: token.utf8.map { $0 == UInt8(ascii: "D") ? UInt8(ascii: "E") : $0 == UInt8(ascii: "d") ? UInt8(ascii: "e") : $0 }, as: UTF8.self)
            : token
        if let d = Double(realText) { return (.real(d), comment) }
        return (.string(token), comment)
    }

    // MARK: Formatting

    /// FITS free-format real: shortest round-trip digits, upper-case exponent, always a
    /// decimal point or exponent so readers see a real.
    public static func formatReal(_ d: Double) -> String {
        if d.isNaN { return "NAN" }
        if d.isInfinite { return d > 0 ? "INF" : "-INF" }
        var s = "\(d)".uppercased()
        if !s.contains(".") && !s.contains("E") { s += "." }
        return s
    }

    /// The card as one or more 80-column images (long strings continue on CONTINUE cards).
    public var images: [String] {
        guard let value else {
            let key = keyword.padding(8)
            return [String((key + comment).prefix(80)).padding(80)]
        }
        let isHierarch = keyword.count > 8 || keyword.contains(" ")
        let prefix = isHierarch ? "HIERARCH \(keyword) = " : keyword.padding(8) + "= "
        switch value {
        case .string(let s):
            let escaped = s.replacingAll("'", with: "''")
            let room = 80 - prefix.count - 2
            if escaped.count <= room {
                var quoted = "'" + escaped.padding(8) + "'"
                if quoted.count < 20 { quoted = quoted.padding(20) }
                return [Card.appendComment(prefix + quoted, comment)]
            }
            // Long string: split into chunks ending in '&', then CONTINUE cards.
            var out: [String] = []
            var rest = Substring(escaped)
            var head = prefix
            while !rest.isEmpty {
                var n = min(rest.count, (80 - head.count - 2) - 1)
                // Never split an escaped quote pair.
                if n < rest.count, rest.prefix(n).hasSuffix("'"),
                   rest.prefix(n).reversed().prefix(while: { $0 == "'" }).count % 2 == 1 { n -= 1 }
                let chunk = rest.prefix(n)
                rest = rest.dropFirst(n)
                if rest.isEmpty {
                    out.append(Card.appendComment(head + "'" + chunk + "'", comment))
                } else {
                    out.append((head + "'" + chunk + "&'").padding(80))
                }
                head = "CONTINUE  "
            }
            return out
        case .undefined:
            return [Card.appendComment(prefix, comment)]
        default:
            let v = value.description
            let field = v.count < 20 ? String(repeating: " ", count: 20 - v.count) + v : v
            return [Card.appendComment(prefix + field, comment)]
        }
    }

    private static func appendComment(_ card: String, _ comment: String) -> String {
        let full = comment.isEmpty ? card : card + " / " + comment
        return String(full.prefix(80)).padding(80)
    }
}

extension String {
    /// Pads with spaces on the right to at least `n` characters.
    public func padding(_ n: Int) -> String {
        count >= n ? self : self + String(repeating: " ", count: n - count)
    }

    /// Without leading and trailing blanks (FITS pads with spaces only).
    public var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }

    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        out.reserveCapacity(count)
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

extension Substring {
    public var trimmingSpaces: String { String(self).trimmingSpaces }
}
