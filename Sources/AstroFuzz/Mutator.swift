import AstroFITS
import AstroImage
import AstroSim

/// Damages a real FITS file the ways files get damaged, and the ways a hostile one lies:
/// structural card values, card lengths, the END card, long-string CONTINUE cards, non-ASCII
/// bytes, truncation and random data bytes. Case `i` of seed `s` is always the same bytes,
/// so any finding can be rebuilt from its two numbers.
struct Mutator {
    /// Keywords whose values steer the reader: most mutations aim at these.
    static let structuralKeys = [
        "SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT",
        "BSCALE", "BZERO", "BLANK", "ZIMAGE", "ZBITPIX", "ZNAXIS", "ZNAXIS1", "ZNAXIS2", "ZTILE1", "ZTILE2",
        "ZCMPTYPE", "ZNAME1", "ZVAL1", "ZNAME2", "ZVAL2", "ZQUANTIZ", "ZBLANK", "ZSCALE", "ZZERO", "THEAP",
        "TFIELDS", "TFORM1", "TTYPE1", "TFORM2", "EXTNAME", "CTYPE1", "CTYPE2", "CRPIX1", "CRPIX2", "CRVAL1",
        "CRVAL2", "CD1_1", "CD2_2", "CDELT1", "CDELT2", "PC1_1", "CROTA2", "A_ORDER", "B_ORDER", "AP_ORDER",
        "A_2_0", "PV2_1", "PV1_1", "LONPOLE", "LATPOLE", "EQUINOX", "RADESYS", "WCSAXES", "CPDIS1", "D2IMDIS1",
    ]

    /// Values that sit on the edges of what readers expect.
    static let values = [
        "0", "-1", "1", "2", "3", "7", "8", "-8", "16", "-16", "32", "-32", "64", "-64", "999", "1000",
        "999999999", "2147483647", "-2147483648", "4294967296", "9223372036854775807", "99999999999999999999",
        "1E300", "-1E300", "1E-300", "NaN", "0.5", "-0.0", "T", "F", "", "'abc'", "''", "'RICE_1'", "'GZIP_1'",
        "'GZIP_2'", "'HCOMPRESS_1'", "'PLIO_1'", "'NOCOMPRESS'", "'1PB(100)'", "'1QB'", "'1PI(9999999)'",
        "'RA---TAN-SIP'", "'DEC--TAN-SIP'", "'RA---ZPN'", "'RA---TPV'", "'DEC--XXX'", "'GLON-CAR'", "'Lookup'",
        "'IMAGE   '", "'BINTABLE'", "'&'", "'unterminated",
    ]

    var rng: SimRandom

    init(seed: UInt64, index: Int) {
        rng = SimRandom(seed, 0xF022, UInt64(index))
    }

    /// One to three mutations of `original`.
    mutating func mutate(_ original: [UInt8]) -> [UInt8] {
        var bytes = original
        for _ in 0..<(1 + rng.index(3)) {
            let layout = RawLayout(bytes)
            switch rng.index(100) {
            case 0..<34: setValue(&bytes, layout)
            case 34..<42: insertCard(&bytes, layout)
            case 42..<50: shiftBytes(&bytes, layout)
            case 50..<57: moveEnd(&bytes, layout)
            case 57..<63: continueCards(&bytes, layout)
            case 63..<69: nonASCII(&bytes, layout)
            case 69..<80: truncate(&bytes, layout)
            case 80..<92: dataNoise(&bytes, layout)
            default: deleteCard(&bytes, layout)
            }
        }
        return bytes
    }

    // MARK: Choosing a place

    private mutating func anyCard(_ layout: RawLayout) -> Int? {
        let units = layout.units.filter { !$0.cards.isEmpty }
        guard !units.isEmpty else { return nil }
        let unit = units[rng.index(units.count)]
        return unit.cards[rng.index(unit.cards.count)].offset
    }

    /// A card with a structural keyword (three times in four when there is one), else any card.
    private mutating func targetCard(_ bytes: [UInt8], _ layout: RawLayout) -> Int? {
        if rng.index(4) != 0 {
            let hits = layout.units.flatMap(\.cards).filter { Self.structuralKeys.contains($0.keyword) }
            if !hits.isEmpty { return hits[rng.index(hits.count)].offset }
        }
        return anyCard(layout)
    }

    private mutating func randomValue() -> String {
        if rng.index(5) == 0 { return String(Int(truncatingIfNeeded: rng.next()) >> rng.index(64)) }
        return Self.values[rng.index(Self.values.count)]
    }

    /// `KEY     = value` padded to one 80-byte card.
    private static func card(_ key: String, _ value: String) -> [UInt8] {
        var text = key.padding(8) + "= " + String(repeating: " ", count: max(0, 20 - value.count)) + value
        text = String(text.prefix(80))
        return Array(text.padding(80).utf8.prefix(80))
    }

    // MARK: Mutations

    private mutating func setValue(_ bytes: inout [UInt8], _ layout: RawLayout) {
        guard let offset = targetCard(bytes, layout) else { return }
        let key = String(decoding: bytes[offset..<(offset + 8)], as: UTF8.self).trimmingSpaces
        bytes.replaceSubrange(offset..<(offset + 80), with: Self.card(key.isEmpty ? "NAXIS1" : key, randomValue()))
    }

    /// Adds a card: into the header's blank padding when there is room (the file keeps its
    /// block structure), else by inserting 80 bytes (everything after shifts).
    private mutating func insertCard(_ bytes: inout [UInt8], _ layout: RawLayout) {
        let key = Self.structuralKeys[rng.index(Self.structuralKeys.count)]
        let card = Self.card(key, randomValue())
        let ends = layout.units.compactMap(\.endCard)
        if rng.index(2) == 0, !ends.isEmpty {
            let end = ends[rng.index(ends.count)]
            if end + 160 <= bytes.count, bytes[(end + 80)..<(end + 160)].allSatisfy({ $0 == UInt8(ascii: " ") }),
               (end + 80) % 2880 != 0 {
                bytes.replaceSubrange((end + 80)..<(end + 160), with: Array("END".padding(80).utf8))
                bytes.replaceSubrange(end..<(end + 80), with: card)
                return
            }
        }
        guard let offset = anyCard(layout) else { return }
        bytes.insert(contentsOf: card, at: offset)
    }

    /// Removes or inserts a few bytes inside the header, so every later card is misaligned.
    private mutating func shiftBytes(_ bytes: inout [UInt8], _ layout: RawLayout) {
        guard let offset = anyCard(layout) else { return }
        let at = offset + rng.index(80)
        let n = 1 + rng.index(79)
        if rng.index(2) == 0 {
            bytes.removeSubrange(at..<min(bytes.count, at + n))
        } else {
            bytes.insert(contentsOf: [UInt8](repeating: UInt8(ascii: rng.index(2) == 0 ? " " : "="), count: n), at: at)
        }
    }

    private mutating func moveEnd(_ bytes: inout [UInt8], _ layout: RawLayout) {
        let units = layout.units
        guard !units.isEmpty else { return }
        let unit = units[rng.index(units.count)]
        switch rng.index(3) {
        case 0:   // no END at all
            if let end = unit.endCard { bytes.replaceSubrange(end..<(end + 80), with: Array("COMMENT".padding(80).utf8)) }
        case 1:   // END too early
            if !unit.cards.isEmpty {
                let at = unit.cards[rng.index(unit.cards.count)].offset
                bytes.replaceSubrange(at..<(at + 80), with: Array("END".padding(80).utf8))
            }
        default:  // END not on a card boundary
            if let end = unit.endCard {
                bytes.replaceSubrange(end..<(end + 80), with: Array(" ".padding(80).utf8))
                let at = max(0, end - 80 + rng.index(80))
                bytes.replaceSubrange(at..<(at + 3), with: Array("END".utf8))
            }
        }
    }

    /// A long string continued over CONTINUE cards, well-formed or not.
    private mutating func continueCards(_ bytes: inout [UInt8], _ layout: RawLayout) {
        guard let offset = anyCard(layout) else { return }
        var cards: [UInt8] = Self.card(rng.index(2) == 0 ? "OBJECT" : "CTYPE1", "'" + String(repeating: "x", count: 67) + "&'")
        for _ in 0..<(1 + rng.index(4)) {
            let body = ["'more&'", "'&'", "''", "'unterminated", "no quotes", "'" + String(repeating: "y", count: 70)][rng.index(6)]
            cards += Array(("CONTINUE  " + body).padding(80).utf8.prefix(80))
        }
        bytes.insert(contentsOf: cards, at: offset)
    }

    private mutating func nonASCII(_ bytes: inout [UInt8], _ layout: RawLayout) {
        for _ in 0..<(1 + rng.index(8)) {
            guard let offset = anyCard(layout) else { return }
            bytes[offset + rng.index(80)] = UInt8(truncatingIfNeeded: rng.index(2) == 0 ? 0x80 + rng.index(128) : rng.index(32))
        }
    }

    /// Cuts the file short: mostly inside a data unit, sometimes inside a header.
    private mutating func truncate(_ bytes: inout [UInt8], _ layout: RawLayout) {
        guard bytes.count > 1 else { return }
        let data = layout.units.map(\.data).filter { !$0.isEmpty }
        let cut: Int
        if rng.index(4) != 0, !data.isEmpty {
            let range = data[rng.index(data.count)]
            cut = range.lowerBound + rng.index(range.count)
        } else {
            cut = rng.index(bytes.count)
        }
        bytes.removeSubrange(cut...)
    }

    private mutating func dataNoise(_ bytes: inout [UInt8], _ layout: RawLayout) {
        let data = layout.units.map(\.data).filter { !$0.isEmpty }
        guard !data.isEmpty else { return }
        let range = data[rng.index(data.count)]
        for _ in 0..<(1 + rng.index(16)) {
            let at = range.lowerBound + rng.index(range.count)
            let n = min(range.upperBound - at, 1 + rng.index(rng.index(4) == 0 ? 4096 : 8))
            for i in at..<(at + n) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
        }
    }

    private mutating func deleteCard(_ bytes: inout [UInt8], _ layout: RawLayout) {
        guard let offset = targetCard(bytes, layout) else { return }
        bytes.removeSubrange(offset..<(offset + 80))
    }
}
