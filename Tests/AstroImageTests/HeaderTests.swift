import Testing
import AstroImage

@Suite struct HeaderTests {
    @Test func parsesTypedValuesAndComments() {
        let text = [
            "SIMPLE  =                    T / conforms",
            "BITPIX  =                  -32",
            "EXPTIME =                 60.5 / [s] exposure",
            "OBJECT  = 'M31 field'          / target",
            "QUOTE   = 'it''s'",
            "BIG     =            1.5D+03",
            "HISTORY step one",
            "END",
        ].joined(separator: "\n")
        let h = Header(cardImages: text)
        #expect(h.bool("SIMPLE") == true)
        #expect(h.int("BITPIX") == -32)
        #expect(h.double("EXPTIME") == 60.5)
        #expect(h.comment("EXPTIME") == "[s] exposure")
        #expect(h.string("OBJECT") == "M31 field")
        #expect(h.string("QUOTE") == "it's")
        #expect(h.double("BIG") == 1500)
        #expect(h.history == ["step one"])
    }

    /// An 80-column block (cut by byte) and the same cards one per line parse alike, and so
    /// does a block with a non-ASCII card (cut by Character).
    @Test func blockAndLinesParseAlike() {
        let cards = [
            "exptime =                 60.5 / lower-case keyword",
            "HIERARCH ESO DET GAIN = 1.25 / hierarchical",
            "SMALL   =            2.5d-03",
            "COMMENT    indented text   ",
            "TEXT    = '  padded  '        /   spaced comment  ",
            "END",
        ].map { $0.padding(toLength: 80, withPad: " ", startingAt: 0) }
        let block = Header(cardImages: cards.joined()), lines = Header(cardImages: cards.joined(separator: "\n"))
        #expect(block == lines)
        #expect(block.double("EXPTIME") == 60.5 && block.comment("EXPTIME") == "lower-case keyword")
        #expect(block.double("ESO DET GAIN") == 1.25)
        #expect(block.double("SMALL") == 0.0025)
        #expect(block.string("TEXT") == "  padded" && block.comment("TEXT") == "spaced comment")
        #expect(block.cards.first { $0.keyword == "COMMENT" }?.comment == "   indented text")
        var accented = cards
        accented.insert("OBSERVER= 'Ångström'".padding(toLength: 80, withPad: " ", startingAt: 0), at: 0)
        let both = Header(cardImages: accented.joined())
        #expect(both.string("OBSERVER") == "Ångström" && both.double("EXPTIME") == 60.5)
    }

    @Test func roundTripsThroughCardImages() {
        var h = Header()
        h.set("OBJECT", "NGC 104")
        h.set("EXPTIME", 60.0, comment: "seconds")
        h.set("NCOMBINE", 7)
        h.set("FLAG", true)
        // Trailing blanks of a FITS string are not significant, so the value ends in a letter.
        h.set("LONGSTR", String(repeating: "abc'def ", count: 30) + "end")
        h.addHistory(String(repeating: "x", count: 150))
        let images = h.cardImages
        #expect(images.allSatisfy { $0.count == 80 })
        let back = Header(cardImages: images.joined())
        #expect(back == h)
    }

    /// HISTORY text breaks between words (the space dropped), mid-word only when a word would
    /// leave the line less than half full.
    @Test func historyWrapsBetweenWords() {
        var h = Header()
        let words = "astrotool ccdproc: gain x1.5 (to electron) from GAIN; read noise 5.0 e- from RDNOISE; error frame added"
        h.addHistory(words)
        #expect(h.history == ["astrotool ccdproc: gain x1.5 (to electron) from GAIN; read noise 5.0 e-",
                              "from RDNOISE; error frame added"])
        #expect(h.history.allSatisfy { $0.count <= 72 })
        h = Header()
        h.addHistory("short " + String(repeating: "y", count: 100))
        #expect(h.history == ["short " + String(repeating: "y", count: 66), String(repeating: "y", count: 34)])
    }

    @Test func setUpdatesInPlace() {
        var h = Header()
        h.set("A", 1)
        h.set("B", 2)
        h.set("A", 3)
        #expect(h.cards.map(\.keyword) == ["A", "B"])
        #expect(h.int("A") == 3)
        h.remove("A")
        #expect(!h.contains("A"))
    }
}
