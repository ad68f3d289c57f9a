import AstroImage
import Foundation

/// The real files the fuzzer starts from: every FITS file under `testdata/fits`, and each WCS
/// header of `testdata/wcs` wrapped into a small float image so WCS parsing gets damaged too.
struct Corpus {
    struct Seed: Sendable {
        var name: String
        var bytes: [UInt8]
    }

    var seeds: [Seed] = []

    init(testdata: String) throws {
        let fm = FileManager.default
        let fits = testdata + "/fits"
        for name in try fm.contentsOfDirectory(atPath: fits).sorted()
        where name.hasSuffix(".fits") || name.hasSuffix(".fit") || name.hasSuffix(".fits.gz") {
            seeds.append(Seed(name: name, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: fits + "/" + name)))))
        }
        let wcs = testdata + "/wcs"
        for name in (try? fm.contentsOfDirectory(atPath: wcs).sorted()) ?? [] where name.hasSuffix(".hdr") {
            let text = try String(contentsOfFile: wcs + "/" + name, encoding: .isoLatin1)
            seeds.append(Seed(name: name, bytes: Self.imageFile(headerText: text)))
        }
        if seeds.isEmpty { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: fits]) }
    }

    /// A 16×16 BITPIX −32 primary HDU carrying the header's WCS cards.
    static func imageFile(headerText: String) -> [UInt8] {
        let lines = headerText.contains("\n")
            ? headerText.split(whereSeparator: \.isNewline).map(String.init)
            : stride(from: 0, to: headerText.count, by: 80).map {
                let start = headerText.index(headerText.startIndex, offsetBy: $0)
                return String(headerText[start..<(headerText.index(start, offsetBy: 80, limitedBy: headerText.endIndex) ?? headerText.endIndex)])
            }
        let structural: Set = ["SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "END", "XTENSION", "PCOUNT", "GCOUNT"]
        var cards = ["SIMPLE  =                    T", "BITPIX  =                  -32", "NAXIS   =                    2",
                     "NAXIS1  =                   16", "NAXIS2  =                   16"]
        for line in lines {
            let key = String(line.prefix(8)).trimmingSpaces
            if !structural.contains(key), !key.isEmpty || !line.trimmingSpaces.isEmpty { cards.append(line) }
        }
        cards.append("END")
        var bytes = Array(cards.map { String($0.padding(80).prefix(80)) }.joined().utf8)
        bytes += [UInt8](repeating: UInt8(ascii: " "), count: (2880 - bytes.count % 2880) % 2880)
        for i in 0..<256 {
            let bits = Float(i % 17) + 100
            withUnsafeBytes(of: bits.bitPattern.bigEndian) { bytes += $0 }
        }
        bytes += [UInt8](repeating: 0, count: (2880 - 1024 % 2880))
        return bytes
    }
}
