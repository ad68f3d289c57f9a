/// Where the headers and data units of a FITS file lie, read from its raw bytes without
/// trusting anything: every number is clamped to the file, a missing END ends the walk, and
/// no value needs to be well formed. The reader walks it before cfitsio parses a header
/// (see `FITSFile.prescan`); the fuzz harness uses it to aim its mutations.
import AstroImage

public struct RawLayout: Sendable {
    public struct Card: Sendable {
        /// Byte offset of the 80-byte card in the file.
        public var offset: Int
        /// Columns 1–8, without trailing blanks.
        public var keyword: String
        /// The value field (columns 11–80 up to a `/` outside quotes), trimmed; nil without `= `.
        public var value: String?
    }

    public struct Unit: Sendable {
        public var cards: [Card]
        /// Offset of the END card, or nil when the header has none.
        public var endCard: Int?
        /// The data unit's byte range, clipped to the file (possibly empty).
        public var data: Range<Int>

        /// Value text of the first card with each keyword.
        private var firstValues: [String: String] = [:]

        init(cards: [Card], endCard: Int?, data: Range<Int>) {
            self.cards = cards
            self.endCard = endCard
            self.data = data
            for card in cards where firstValues[card.keyword] == nil {
                if let v = card.value { firstValues[card.keyword] = v }
            }
        }

        /// The value text of the first card with this keyword.
        public func value(_ keyword: String) -> String? { firstValues[keyword] }

        /// The value texts of every card with this keyword, in header order (cfitsio looks a
        /// keyword up from wherever it last read, so any duplicate may be the one it uses).
        public func values(_ keyword: String) -> [String] { cards.filter { $0.keyword == keyword }.compactMap(\.value) }

        /// The value as a whole number, or nil when it is absent or not an integer literal.
        public func integer(_ keyword: String) -> Int? { value(keyword).flatMap { Int($0) } }
    }

    public private(set) var units: [Unit] = []

    /// Walks a file of `size` bytes; `read(offset, count)` returns those bytes or nil.
    /// Stops after `maxUnits` HDUs or when a header runs past the file.
    public init(size: Int, maxUnits: Int = 10_000, read: (Int, Int) -> [UInt8]?) {
        var start = 0
        while start + 80 <= size, units.count < maxUnits {
            var cards: [Card] = []
            var end: Int?
            var block = start
            walk: while block + 80 <= size, let bytes = read(block, min(2880, size - block)) {
                var i = 0
                while i + 80 <= bytes.count {
                    let card = Self.card(bytes, i, offset: block + i)
                    cards.append(card)
                    if card.keyword == "END" { end = block + i; break walk }
                    i += 80
                }
                if bytes.count < 2880 { break }
                block += 2880
            }
            guard let end else {
                units.append(Unit(cards: cards, endCard: nil, data: size..<size))
                break
            }
            let dataStart = min(size, (end / 2880 + 1) * 2880)
            var unit = Unit(cards: cards, endCard: end, data: dataStart..<dataStart)
            let length = Self.dataSize(unit, limit: size)
            unit.data = dataStart..<min(size, dataStart + length)
            units.append(unit)
            let next = dataStart + (length + 2879) / 2880 * 2880
            if next <= start || next >= size { break }
            start = next
        }
    }

    /// Walks bytes held in memory.
    public init(_ bytes: [UInt8]) {
        self.init(size: bytes.count) { offset, count in Array(bytes[offset..<(offset + count)]) }
    }

    private static func card(_ bytes: [UInt8], _ i: Int, offset: Int) -> Card {
        let keyword = AstroImage.Card.text(bytes, i..<(i + 8))
        var value: String?
        if bytes[i + 8] == UInt8(ascii: "="), bytes[i + 9] == UInt8(ascii: " ") {
            var inQuote = false, end = i + 10
            while end < i + 80 {
                let b = bytes[end]
                if b == UInt8(ascii: "'") { inQuote.toggle() }
                if b == UInt8(ascii: "/") && !inQuote { break }
                end += 1
            }
            value = AstroImage.Card.text(bytes, (i + 10)..<end)
        }
        return Card(offset: offset, keyword: keyword, value: value)
    }

    /// |BITPIX|/8 · GCOUNT · (PCOUNT + ΠNAXISn), saturating at `limit` instead of overflowing.
    private static func dataSize(_ unit: Unit, limit: Int) -> Int {
        let naxis = unit.integer("NAXIS") ?? 0
        guard naxis > 0, naxis <= 999 else { return 0 }
        var count = 1
        for i in 1...naxis {
            let (c, o) = count.multipliedReportingOverflow(by: max(0, unit.integer("NAXIS\(i)") ?? 0))
            count = o ? limit : min(c, limit)
        }
        let groups = max(1, min(unit.integer("GCOUNT") ?? 1, limit))
        let withHeap = count.addingReportingOverflow(max(0, min(unit.integer("PCOUNT") ?? 0, limit))).partialValue
        let bitpix = max(-64, min(64, unit.integer("BITPIX") ?? 8))
        let (bytes, o) = min(withHeap, limit).multipliedReportingOverflow(by: max(1, abs(bitpix) / 8) * groups)
        return o ? limit : min(bytes, limit)
    }
}
