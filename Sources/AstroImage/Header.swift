/// A FITS header as an ordered list of cards, with typed access.
///
/// Pure Swift: it parses and formats 80-column card images itself, so the same type serves
/// cfitsio files, wcslib (which wants `nkeys × 80` bytes) and text `.hdr` files.
/// Long strings use the CONTINUE convention on both read and write.
public struct Header: Sendable, Equatable {
    public var cards: [Card]

    public init(cards: [Card] = []) { self.cards = cards }

    /// Structural keywords that describe the data layout of one HDU; they are never copied
    /// from an input header onto an output (the writer makes its own).
    public static func isStructural(_ keyword: String) -> Bool {
        switch keyword {
        case "SIMPLE", "XTENSION", "BITPIX", "NAXIS", "EXTEND", "PCOUNT", "GCOUNT",
             "BSCALE", "BZERO", "BLANK", "CHECKSUM", "DATASUM", "END", "ZIMAGE", "ZBITPIX",
             "ZCMPTYPE", "ZQUANTIZ", "ZDITHER0", "ZSIMPLE", "ZEXTEND", "ZBLANK", "ZSCALE",
             "ZZERO", "ZTENSION", "ZPCOUNT", "ZGCOUNT", "ZHECKSUM", "ZDATASUM", "TFIELDS", "THEAP":
            return true
        default:
            if keyword.hasPrefix("NAXIS") || keyword.hasPrefix("ZNAXIS") || keyword.hasPrefix("ZTILE")
                || keyword.hasPrefix("ZNAME") || keyword.hasPrefix("ZVAL") { return true }
            if keyword.hasPrefix("TTYPE") || keyword.hasPrefix("TFORM") || keyword.hasPrefix("TUNIT")
                || keyword.hasPrefix("TSCAL") || keyword.hasPrefix("TZERO") || keyword.hasPrefix("TNULL")
                || keyword.hasPrefix("TDIM") || keyword.hasPrefix("TDISP") { return true }
            return false
        }
    }

    /// The cards a derived product should inherit: everything but the structural ones and the
    /// FITS standard's two-line reference, which every writer puts in a new primary itself
    /// (inherited, it came back once more with each step of a chain).
    public var userCards: Header {
        Header(cards: cards.filter { !Header.isStructural($0.keyword) && !Header.isStandardReference($0) })
    }

    /// The COMMENT pair cfitsio (and the direct writer) put after EXTEND in a primary header.
    public static let standardReference = [
        "  FITS (Flexible Image Transport System) format is defined in 'Astronomy",
        "  and Astrophysics', volume 376, page 359; bibcode: 2001A&A...376..359H",
    ]

    static func isStandardReference(_ card: Card) -> Bool {
        card.keyword == "COMMENT" && card.value == nil && standardReference.contains { card.comment.hasPrefix($0) }
    }

    // MARK: Lookup

    public func index(of keyword: String) -> Int? {
        let key = keyword.uppercased()
        return cards.firstIndex { $0.keyword == key && $0.value != nil }
    }

    public func contains(_ keyword: String) -> Bool { index(of: keyword) != nil }

    public subscript(keyword: String) -> CardValue? {
        index(of: keyword).flatMap { cards[$0].value }
    }

    public func string(_ keyword: String) -> String? {
        guard let v = self[keyword] else { return nil }
        if case .string(let s) = v { return s }
        return nil
    }

    public func int(_ keyword: String) -> Int? {
        switch self[keyword] {
        case .integer(let i)?: return i
        case .real(let d)? where d == d.rounded() && abs(d) < 9e15: return Int(d)
        default: return nil
        }
    }

    public func double(_ keyword: String) -> Double? {
        switch self[keyword] {
        case .integer(let i)?: return Double(i)
        case .real(let d)?: return d
        case .string(let s)?: return Double(s.trimmingSpaces)
        default: return nil
        }
    }

    public func bool(_ keyword: String) -> Bool? {
        if case .logical(let b)? = self[keyword] { return b }
        return nil
    }

    public func comment(_ keyword: String) -> String? { index(of: keyword).map { cards[$0].comment } }

    // MARK: Mutation

    /// Updates the first card with this keyword in place (keeping its comment unless one is
    /// given), or appends a new card.
    public mutating func set(_ keyword: String, _ value: CardValue, comment: String? = nil) {
        let key = keyword.uppercased()
        if let i = index(of: key) {
            cards[i].value = value
            if let comment { cards[i].comment = comment }
        } else {
            cards.append(Card(key, value, comment: comment ?? ""))
        }
    }

    public mutating func set(_ keyword: String, _ value: String, comment: String? = nil) {
        set(keyword, .string(value), comment: comment)
    }
    public mutating func set(_ keyword: String, _ value: Int, comment: String? = nil) {
        set(keyword, .integer(value), comment: comment)
    }
    public mutating func set(_ keyword: String, _ value: Double, comment: String? = nil) {
        set(keyword, .real(value), comment: comment)
    }
    public mutating func set(_ keyword: String, _ value: Bool, comment: String? = nil) {
        set(keyword, .logical(value), comment: comment)
    }

    /// Removes every valued card with this keyword.
    public mutating func remove(_ keyword: String) {
        let key = keyword.uppercased()
        cards.removeAll { $0.keyword == key && $0.value != nil }
    }

    /// Appends HISTORY cards, wrapping the text at 72 characters (HISTORY has no CONTINUE).
    public mutating func addHistory(_ text: String) { addCommentary("HISTORY", text) }

    /// Appends COMMENT cards, wrapped like HISTORY.
    public mutating func addComment(_ text: String) { addCommentary("COMMENT", text) }

    public var history: [String] { cards.filter { $0.keyword == "HISTORY" }.map(\.comment) }

    /// Lines of at most 72 characters, broken at the last space when there is one in the
    /// second half of the line (that space dropped), else mid-word.
    private mutating func addCommentary(_ keyword: String, _ text: String) {
        var rest = Substring(text)
        repeat {
            var chunk = rest.prefix(72)
            var next = rest.dropFirst(chunk.count)
            if !next.isEmpty, next.first != " ", let space = chunk.lastIndex(of: " "),
               chunk.distance(from: chunk.startIndex, to: space) >= 36 {
                chunk = rest[rest.startIndex..<space]
                next = rest[rest.index(after: space)...]
            } else if next.first == " " {
                next = next.dropFirst()
            }
            cards.append(Card(commentary: keyword, String(chunk)))
            rest = next
        } while !rest.isEmpty
    }

    // MARK: Card images

    /// Parses card images: either one block of `n × 80` characters (cfitsio's `ffhdr2str`,
    /// a raw FITS header) or newline-separated cards (text `.hdr` files). Stops at END.
    public init(cardImages text: String) {
        var lines: [Substring] = []
        let utf8 = text.utf8
        if !utf8.contains(UInt8(ascii: "\n")) && utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII cards of 80 bytes, cut by byte offset (80 Characters took a grapheme walk).
            var at = utf8.startIndex
            while at != utf8.endIndex {
                let end = utf8.index(at, offsetBy: 80, limitedBy: utf8.endIndex) ?? utf8.endIndex
                lines.append(text[at..<end])
                at = end
            }
        } else if text.contains("\n") {
            lines = text.split(separator: "\n", omittingEmptySubsequences: true).map {
                $0.hasSuffix("\r") ? $0.dropLast() : $0
            }
        } else {
            var rest = Substring(text)
            while !rest.isEmpty {
                lines.append(rest.prefix(80))
                rest = rest.dropFirst(80)
            }
        }
        var cards: [Card] = []
        for line in lines {
            let card = Card(parsing: line)
            if card.keyword == "END" && card.value == nil { break }
            // CONTINUE: append to the previous long string that ended with '&'.
            if card.keyword == "CONTINUE", let last = cards.last,
               case .string(let s)? = last.value, s.hasSuffix("&") {
                let more = Card(parsing: "CONTINUE= " + line.dropFirst(min(10, line.count)))
                if case .string(let t)? = more.value {
                    cards[cards.count - 1].value = .string(String(s.dropLast()) + t)
                    if !more.comment.isEmpty { cards[cards.count - 1].comment = more.comment }
                    continue
                }
            }
            if card.keyword.isEmpty && card.comment.isEmpty { continue }
            cards.append(card)
        }
        self.cards = cards
    }

    /// The header as 80-column card images (long strings split into CONTINUE cards),
    /// without END.
    public var cardImages: [String] { cards.flatMap { $0.images } }
}
