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
        let line = String(image.prefix(80))
        let chars = Array(line.utf8)
        func text(_ r: Range<Int>) -> String {
            let lo = min(r.lowerBound, chars.count), hi = min(r.upperBound, chars.count)
            return String(decoding: chars[lo..<hi], as: UTF8.self)
        }
        var key = text(0..<8).trimmingSpaces
        var valueStart = 10
        if key == "HIERARCH", let eq = chars.firstIndex(of: UInt8(ascii: "=")) {
            key = text(9..<eq).trimmingSpaces
            valueStart = eq + 1
        } else if !(chars.count >= 10 && chars[8] == UInt8(ascii: "=") && chars[9] == UInt8(ascii: " ")) {
            // Commentary card (or a keyword without the value indicator).
            self.keyword = key.uppercased()
            self.value = nil
            var t = text(8..<80)
            while t.hasSuffix(" ") { t.removeLast() }
            self.comment = t
            return
        }
        self.keyword = key.uppercased()
        let (value, comment) = Card.parseValueField(Array(chars.dropFirst(valueStart)))
        self.value = value
        self.comment = comment
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
            if k < f.count {
                comment = String(decoding: f[(k + 1)...], as: UTF8.self).trimmingSpaces
            }
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
        let token = String(decoding: f[i..<j], as: UTF8.self).trimmingSpaces
        takeComment(from: j)
        if token.isEmpty { return (.undefined, comment) }
        if token == "T" { return (.logical(true), comment) }
        if token == "F" { return (.logical(false), comment) }
        if let v = Int(token.hasPrefix("+") ? String(token.dropFirst()) : token) { return (.integer(v), comment) }
        let realText = token.replacingAll("D", with: "E").replacingAll("d", with: "e")
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
