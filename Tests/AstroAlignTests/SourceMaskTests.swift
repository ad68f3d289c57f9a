@testable import AstroAlign
import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `--source-mask`: ORed with the source's own MASK, and left out of detection.
@Suite struct SourceMaskTests {
    @Test func maskedStarsAreNotDetected() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let (image, _) = DetectionTests.lattice(seed: 7, flux: 50_000)
        let w = image.width, h = image.height
        let source = dir.appendingPathComponent("src.fits").path, mask = dir.appendingPathComponent("mask.fits").path
        // Own MASK: bit 2 on rows y < 50; user mask: 128 on columns x < 130.
        try FITSWriter.write([OutputHDU(image),
                              OutputHDU(integers: (0..<(w * h)).map { $0 / w < 50 ? 2 : 0 }, width: w, height: h, header: Header(),
                                        extname: "MASK", storage: .uint8)], to: source, overwrite: false)
        try FITSWriter.write([OutputHDU(Image(width: w, height: h, pixels: (0..<(w * h)).map { $0 % w < 130 ? 128 : 0 }))],
                             to: mask, overwrite: false)
        let read = try Align.readSource(source, userMask: mask).image
        let m = try #require(read.mask)
        #expect(m[10 * w + 10] == 130 && m[10 * w + 200] == 2 && m[100 * w + 10] == 128 && m[100 * w + 200] == 0)
        let found = try Detector.detect(read)
        #expect(found.count == 24 && found.allSatisfy { $0.x > 130 && $0.y > 50 }, "\(found.count)")
        #expect(try Detector.detect(Align.readSource(source, userMask: nil).image).count == 42)
    }
}
