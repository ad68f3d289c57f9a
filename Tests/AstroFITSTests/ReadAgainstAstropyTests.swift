import Testing
import AstroFITS
import AstroImage
import AstroTestSupport

/// Every committed FITS file reads to the values astropy reads (testdata/fits/expected.json,
/// made by scripts/fixtures/fits.py).
@Suite struct ReadAgainstAstropyTests {
    nonisolated(unsafe) static let expected: [String: Any] = try! TestSupport.json("fits/expected.json")
    static let files: [String] = expected.keys.sorted()

    @Test(arguments: files)
    func pixelsMatchAstropy(file: String) throws {
        let hdus = Self.expected[file] as! [[String: Any]]
        for hdu in hdus {
            guard let shape = hdu["shape"] as? [Int] else { continue }
            let index = hdu["index"] as! Int
            let f = try FITSFile(TestSupport.path("fits/\(file)"))
            try f.select(hdu: index)
            let image = try f.readImage()
            #expect([image.width, image.height] == shape, "\(file)[\(index)] shape")
            var sum = 0.0, nans = 0
            for v in image.pixels { if v.isFinite { sum += Double(v) } else { nans += 1 } }
            #expect(nans == hdu["nan_count"] as! Int, "\(file)[\(index)] NaN count")
            let want = hdu["sum"] as! Double
            // Reading into Float32 rounds 32/64-bit integers and doubles; the rest is exact.
            let rel = file.contains("64") || file.contains("i32") ? 1e-6 : 1e-9
            #expect(TestSupport.close(sum, want, abs: 1e-6, rel: rel), "\(file)[\(index)] sum \(sum) vs \(want)")
            for sample in hdu["samples"] as! [[Any]] {
                let x = sample[0] as! Int, y = sample[1] as! Int
                let v = image[x, y]
                if let w = sample[2] as? Double {
                    #expect(TestSupport.close(Double(v), w, abs: 1e-6, rel: 1e-7), "\(file)[\(index)] (\(x),\(y)) \(v) vs \(w)")
                } else {
                    #expect(v.isNaN, "\(file)[\(index)] (\(x),\(y)) should be NaN (BLANK)")
                }
            }
        }
    }

    @Test func cardsMatchAstropy() throws {
        for file in Self.files {
            for hdu in Self.expected[file] as! [[String: Any]] {
                let f = try FITSFile(TestSupport.path("fits/\(file)"))
                try f.select(hdu: hdu["index"] as! Int)
                let header = try f.header()
                for (key, value) in hdu["cards"] as! [String: Any] {
                    switch value {
                    case let s as String: #expect(header.string(key) == s, "\(file) \(key)")
                    case let d as Double: #expect(header.double(key) == d, "\(file) \(key)")
                    default: break
                    }
                }
            }
        }
    }

    @Test func int64ExactInDouble() throws {
        let f = try FITSFile(TestSupport.path("fits/bitpix_i64.fits"), image: true)
        let (w, _, pixels) = try f.readImageDouble()
        #expect(pixels[0] == -1_099_511_627_776)
        #expect(pixels[1] == 1_099_511_627_776)
        #expect(w == 7)
    }

    /// The direct pread path gives exactly cfitsio's values; an image section (which cfitsio
    /// copies into memory) takes cfitsio's own path.
    @Test(arguments: ["bitpix_u8.fits", "bitpix_i16.fits", "bitpix_u16.fits", "bitpix_i16_scaled_blank.fits",
                      "bitpix_i32.fits", "bitpix_f32.fits", "bitpix_f64.fits", "a8280271.fits"])
    func directReadEqualsCfitsio(file: String) throws {
        let path = TestSupport.path("fits/\(file)")
        let direct = try FITSFile(path, image: true).readImage()
        let viaCfitsio = try FITSFile(path + "[1:\(direct.width),1:\(direct.height)]", image: true).readImage()
        #expect(direct.pixels.count == viaCfitsio.pixels.count)
        let same = zip(direct.pixels, viaCfitsio.pixels).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
        #expect(same, "\(file)")
    }
}
