import Testing
import AstroImage

/// `--good-bits` as astropy's interpret_bit_flags reads it (../shared/docs/drizzle.md §3.2).
@Suite struct GoodBitsTests {
    @Test(arguments: [
        ("none", UInt64(0)), ("", 0), ("INDEF", 0), ("12", 12), ("4+8", 12), ("4,8", 12), ("4|8", 12), (" 4 , 8 ", 12),
        ("0x10", 16), ("~4,8", ~UInt64(12)), ("~(4+8)", ~UInt64(12)), ("~0", ~UInt64(0)), ("all", ~UInt64(0)),
        ("cosmic_ray,saturated", 6),
    ])
    func parses(text: String, good: UInt64) throws {
        #expect(try GoodBits.parse(text).good == good)
    }

    @Test(arguments: ["4,8+16", "12,4", "4~8", "4,,8", "jump"])
    func refuses(text: String) {
        #expect(throws: AstroError.self) { try GoodBits.parse(text) }
    }

    @Test func missionNamesFromDQFlags() throws {
        let names = try GoodBits.names("JUMP_DET=4, DROPOUT=0x8")
        #expect(try GoodBits.parse("jump_det, DROPOUT", names: names).good == 12)
        #expect(try GoodBits.parse("~JUMP_DET", names: names).isBad(4))
        #expect(!(try GoodBits.parse("~JUMP_DET", names: names).isBad(8)))
        #expect(throws: AstroError.self) { try GoodBits.names("JUMP_DET") }
    }
}
