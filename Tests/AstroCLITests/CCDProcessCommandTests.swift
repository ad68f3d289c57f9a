import AstroFITS
import AstroImage
import AstroTestSupport
import Foundation
import Testing

/// `astrotool ccdproc process` as scripts call it: outputs, refusals and exit codes.
@Suite struct CCDProcessCommandTests {
    let sci = TestSupport.path("ccdproc/raw/sci_R_001.fits")
    let bias = TestSupport.path("ccdproc/raw/bias_001.fits")

    @Test func calibratesWithHeaderSections() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let r = try TestSupport.runTool(["ccdproc", "process", sci, bias, "--outdir", dir.path, "--oscan", "BIASSEC",
                                         "--trim", "TRIMSEC", "--gain", "GAIN", "--readnoise", "RDNOISE", "--error", "--json",
                                         "--add-keyword", "OBSERVER=me"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"steps\":[\"overscan\",\"trim\",\"deviation\",\"gain\"]"))
        let out = dir.appendingPathComponent("sci_R_001.fits").path
        let hdus = try FITS.listHDUs(out)
        #expect(hdus.map(\.extname) == [nil, "ERR"])
        #expect(hdus[0].shape == [128, 96])
        #expect(hdus[0].header.string("OBSERVER") == "me")
        #expect(hdus[0].header.string("BUNIT") == "electron")
        // Outputs are never replaced without --overwrite.
        let again = try TestSupport.runTool(["ccdproc", "process", sci, "-o", out, "--oscan", "BIASSEC"])
        #expect(again.code == 73)
    }

    @Test func exitCodes() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("o.fits").path
        // A section on the command line outside the frame: usage, 64.
        let cmd = try TestSupport.runTool(["ccdproc", "process", sci, "-o", out, "--oscan", "[131:140,1:96]"])
        #expect(cmd.code == 64 && cmd.stderr.split(separator: "\n").count == 1)
        // A header keyword that does not exist: bad data, 65, naming the file.
        let key = try TestSupport.runTool(["ccdproc", "process", sci, "-o", out, "--trim", "NOSUCHSEC"])
        #expect(key.code == 65 && key.stderr.contains("sci_R_001.fits") && key.stderr.contains("NOSUCHSEC"))
        // Master of another shape: 65.
        let shape = try TestSupport.runTool(["ccdproc", "process", sci, "-o", out, "--trim", "TRIMSEC", "--bias", bias])
        #expect(shape.code == 65 && shape.stderr.contains("bias_001.fits"))
        #expect(!FileManager.default.fileExists(atPath: out))
        // The input itself as output: refused even with --overwrite.
        let copy = dir.appendingPathComponent("in.fits").path
        try FileManager.default.copyItem(atPath: sci, toPath: copy)
        let same = try TestSupport.runTool(["ccdproc", "process", copy, "-o", copy, "--oscan", "BIASSEC", "--overwrite"])
        #expect(same.code == 73)
        // Nothing selected by --where.
        let none = try TestSupport.runTool(["ccdproc", "process", sci, "-o", out, "--where", "IMAGETYP=nope"])
        #expect(none.code == 66)
    }

    @Test func dryRunListsSteps() throws {
        let r = try TestSupport.runTool(["ccdproc", "process", sci, bias, "--dry-run", "--oscan", "BIASSEC", "--flat", "f.fits",
                                         "--where", "IMAGETYP=object"])
        #expect(r.code == 0)
        #expect(r.stdout == "\(sci): overscan, flat\n")
    }
}

/// `astrotool ccdproc combine` from the command line.
@Suite struct CCDCombineCommandTests {
    let stack = (1...7).map { TestSupport.path(String(format: "ccdproc/ref/stack_%03d.fits", $0)) }

    @Test func combinesAndReports() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("m.fits").path
        let r = try TestSupport.runTool(["ccdproc", "combine"] + stack + ["-o", out, "--method", "median", "--sigma-clip",
                                         "--clip-center", "median", "--clip-dev", "mad_std", "--mem-limit", "10K", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"inputs\":7") && r.stdout.contains("\"blockRows\":4"))
        let hdus = try FITS.listHDUs(out)
        #expect(hdus.map(\.extname) == [nil, "ERR", "MASK"])
        #expect(hdus[0].header.int("NCOMBINE") == 7 && hdus[0].header.string("IMCMB007") == "stack_007.fits")
    }

    @Test func refusals() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("m.fits").path
        #expect(try TestSupport.runTool(["ccdproc", "combine", stack[0], "-o", out, "--mem-limit", "lots"]).code == 64)
        #expect(try TestSupport.runTool(["ccdproc", "combine", stack[0], "-o", out, "--minmax", "5,1"]).code == 64)
        let none = try TestSupport.runTool(["ccdproc", "combine", stack[0], "-o", out, "--where", "IMAGETYP=flat"])
        #expect(none.code == 66 && none.stderr.contains("no input matches --where"))
        let shape = try TestSupport.runTool(["ccdproc", "combine", stack[0], TestSupport.path("ccdproc/raw/bias_001.fits"), "-o", out])
        #expect(shape.code == 65 && shape.stderr.contains("bias_001.fits"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

/// `ccdproc combine` with calibration steps: raw frames in, a master out, as IRAF's
/// zerocombine and darkcombine do it.
@Suite struct CCDCombineCalibratedTests {
    let biases = (1...7).map { TestSupport.path(String(format: "ccdproc/raw/bias_%03d.fits", $0)) }
    let darks = (1...3).map { TestSupport.path(String(format: "ccdproc/raw/dark_%03d.fits", $0)) }
    let clip = ["--sigma-clip", "--clip-center", "median", "--clip-dev", "mad_std"]

    /// The same master, bit for bit, as `process` to files and `combine` of those; no scratch left.
    @Test func equalsProcessThenCombine() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let work = dir.appendingPathComponent("work").path
        let twoStep = dir.appendingPathComponent("bias_2.fits").path
        let oneStep = dir.appendingPathComponent("bias_1.fits").path
        let basic = ["--oscan", "BIASSEC", "--trim", "TRIMSEC"]
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        #expect(try TestSupport.runTool(["ccdproc", "process"] + biases + ["--outdir", work] + basic).code == 0)
        let processed = biases.map { "\(work)/\(URL(fileURLWithPath: $0).lastPathComponent)" }
        #expect(try TestSupport.runTool(["ccdproc", "combine"] + processed + ["-o", twoStep] + clip).code == 0)
        let r = try TestSupport.runTool(["ccdproc", "combine"] + biases + ["-o", oneStep] + clip + basic)
        #expect(r.code == 0, "\(r.stderr)")
        for hdu in ["", "[ERR]", "[MASK]"] {
            let a = try FITS.readImage(twoStep + hdu), b = try FITS.readImage(oneStep + hdu)
            #expect(a.pixels.elementsEqual(b.pixels) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "HDU \(hdu)")
        }
        let header = try FITS.readHeader(oneStep)
        #expect(header.string("IMCMB007") == "bias_007.fits" && header.string("TRIM") != nil)
        // The calibrated frames went through memory; a limit they do not fit in half of sends
        // them through the scratch folder instead, with the same bytes.
        let viaFiles = dir.appendingPathComponent("bias_3.fits").path
        let f = try TestSupport.runTool(["ccdproc", "combine"] + biases + ["-o", viaFiles, "--mem-limit", "16K"] + clip + basic)
        #expect(f.code == 0, "\(f.stderr)")
        // (The cards but the time stamps: the runs may fall in different seconds.)
        func cards(_ h: Header) -> [Card] { h.cards.filter { !["CCDPROC", "DATE"].contains($0.keyword) } }
        for hdu in ["", "[ERR]", "[MASK]"] {
            let a = try FITS.readImage(viaFiles + hdu), b = try FITS.readImage(oneStep + hdu)
            #expect(a.pixels.elementsEqual(b.pixels) { $0 == $1 || ($0.isNaN && $1.isNaN) } && cards(a.header) == cards(b.header), "HDU \(hdu)")
        }
        // Darks per second on that master, the second step of a night's masters.
        let dark = dir.appendingPathComponent("dark.fits").path
        let d = try TestSupport.runTool(["ccdproc", "combine"] + darks + ["-o", dark] + clip + basic + ["--bias", oneStep, "--to-rate"])
        #expect(d.code == 0, "\(d.stderr)")
        #expect(try FITS.readHeader(dark).string("BUNIT") == "adu / s")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".astrotool") }
        #expect(left.isEmpty, "scratch folders left: \(left)")
    }

    /// A master that does not fit (an untrimmed bias for trimmed darks) names the raw frame
    /// being calibrated; nothing is written.
    @Test func refusalNamesTheRawFrame() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("dark.fits").path
        let r = try TestSupport.runTool(["ccdproc", "combine"] + darks + ["-o", out, "--trim", "TRIMSEC", "--bias", biases[0]])
        #expect(r.code == 65 && r.stderr.contains("dark_001.fits"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        // An output in a missing folder is refused before any work (no folder made on the way),
        // and an existing one without --overwrite, as every writer refuses them.
        let lost = dir.appendingPathComponent("missing/dark.fits").path
        let m = try TestSupport.runTool(["ccdproc", "combine"] + darks + ["-o", lost, "--trim", "TRIMSEC"])
        #expect(m.code == 73 && m.stderr.contains("does not exist"), "\(m.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("missing").path))
        FileManager.default.createFile(atPath: out, contents: Data("keep".utf8))
        let e = try TestSupport.runTool(["ccdproc", "combine"] + darks + ["-o", out, "--trim", "TRIMSEC"])
        #expect(e.code == 73 && (try? String(contentsOfFile: out, encoding: .utf8)) == "keep")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["dark.fits"])
    }
}

/// `astrotool ccdproc cosmicray` from the command line.
@Suite struct CCDCosmicRayCommandTests {
    let frame = TestSupport.path("ccdproc/ref/sci_reduced.fits")

    @Test func flagsWhatAstroscrappyFlags() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("c.fits").path
        let r = try TestSupport.runTool(["ccdproc", "cosmicray", frame, "-o", out, "--satlevel", "91962.375",
                                         "--ignore-mask", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"flagged\":1018"), "\(r.stdout)")
        let hdus = try FITS.listHDUs(out)
        #expect(hdus.map(\.extname) == [nil, "ERR", "MASK"])
        #expect(hdus[0].header.string("CRCOR") == "lacosmic: 1018 pixels")
        #expect(hdus[0].header.string("BUNIT") == "electron")
        let mask = try FITS.readImage(out + "[MASK]").pixels
        let before = try FITS.readImage(frame + "[MASK]").pixels
        let newBits = zip(mask, before).filter { UInt8($0.0) & 4 != 0 && UInt8($0.1) & 4 == 0 }.count
        #expect(newBits == 1018)
    }

    @Test func keepsAduAndScalesErrWithGainApply() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        // The reduced frame relabelled ADU at gain 2 (values halved).
        var image = try FITS.readImage(frame)
        image.pixels = image.pixels.map { $0 / 2 }
        image.header.set("BUNIT", "adu"); image.header.set("GAIN", 2.0)
        let err = try FITS.readImage(frame + "[ERR]").pixels.map { $0 / 2 }
        let adu = dir.appendingPathComponent("adu.fits").path
        try FITSWriter.write([OutputHDU(image), OutputHDU(Image(width: image.width, height: image.height, pixels: err), extname: "ERR")],
                             to: adu, overwrite: false)
        let plain = dir.appendingPathComponent("p.fits").path, applied = dir.appendingPathComponent("a.fits").path
        for (out, extra) in [(plain, [String]()), (applied, ["--gain-apply"])] {
            let r = try TestSupport.runTool(["ccdproc", "cosmicray", adu, "-o", out, "--satlevel", "91962.375", "-q"] + extra)
            #expect(r.code == 0, "\(r.stderr)")
        }
        let p = try FITS.readImage(plain), a = try FITS.readImage(applied)
        #expect(p.header.string("BUNIT") == "adu" && a.header.string("BUNIT") == "electron")
        #expect(zip(p.pixels, a.pixels).allSatisfy { abs($0 * 2 - $1) <= 1e-3 * max(1, abs($1)) })
        let pe = try FITS.readImage(plain + "[ERR]").pixels, ae = try FITS.readImage(applied + "[ERR]").pixels
        #expect(zip(pe, err).allSatisfy { $0 == $1 } && zip(ae, err).allSatisfy { $0 == 2 * $1 })
    }

    @Test func refusals() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("c.fits").path
        #expect(try TestSupport.runTool(["ccdproc", "cosmicray", frame, "-o", out, "--cleantype", "best"]).code == 64)
        #expect(try TestSupport.runTool(["ccdproc", "cosmicray", frame, "-o", out, "--readnoise", "NOSUCH"]).code == 65)
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try TestSupport.runTool(["ccdproc", "cosmicray", frame, "-o", frame, "--overwrite"]).code == 73)
    }
}

/// `astrotool ccdproc ccdmask` and `bitmask` from the command line.
@Suite struct CCDMaskCommandTests {
    @Test func ccdmaskWritesCcdprocsMask() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let out = dir.appendingPathComponent("bpm.fits").path
        let r = try TestSupport.runTool(["ccdproc", "ccdmask", TestSupport.path("ccdproc/ref/master_flat.fits"), "-o", out, "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let got = try FITS.readImage(out).pixels, want = try FITS.readImage(TestSupport.path("ccdproc/ref/ccdmask.fits")).pixels
        #expect(got == want)
        #expect(try FITS.listHDUs(out)[0].bitpix == 8)
    }

    @Test func bitmaskIgnoresBits() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let dq = dir.appendingPathComponent("dq.fits").path, out = dir.appendingPathComponent("m.fits").path
        try FITSWriter.write([OutputHDU(Image(width: 4, height: 1, pixels: [0, 4, 8, 12]), pixelType: .int16)], to: dq, overwrite: false)
        let r = try TestSupport.runTool(["ccdproc", "bitmask", dq, "-o", out, "--ignore-bits", "4", "-q"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try FITS.readImage(out).pixels == [0, 0, 1, 1])
        #expect(try TestSupport.runTool(["ccdproc", "bitmask", dq, "-o", out, "--overwrite", "--ignore-bits", "4,8", "--flip-bits"]).code == 64)
    }
}

/// `ccdproc combine --reject` (IRAF) from the command line.
@Suite struct CCDCombineIRAFCommandTests {
    @Test func ccdclipRejectsCosmicRaysAndZeroAligns() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        // Five 8x1 frames at levels 100..104 in electrons; frame 3 has a cosmic ray at x = 2.
        var files: [String] = []
        for k in 0..<5 {
            var pixels = [Float](repeating: Float(100 + k), count: 8)
            if k == 3 { pixels[2] += 500 }
            var h = Header(); h.set("BUNIT", "electron")
            let f = dir.appendingPathComponent("f\(k).fits").path
            try FITSWriter.write([OutputHDU(Image(width: 8, height: 1, pixels: pixels, header: h))], to: f, overwrite: false)
            files.append(f)
        }
        let out = dir.appendingPathComponent("c.fits").path
        let r = try TestSupport.runTool(["ccdproc", "combine"] + files + ["-o", out, "--reject", "ccdclip", "--zero", "median",
                                                                       "--rdnoise", "5", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"rejected\":1"), "\(r.stdout)")
        // Every frame brought to the first one's level: 100 everywhere.
        #expect(try FITS.readImage(out).pixels.allSatisfy { abs($0 - 100) < 1e-4 })
        #expect(try TestSupport.runTool(["ccdproc", "combine"] + files + ["-o", out, "--overwrite", "--reject", "sigclip", "--sigma-clip"]).code == 64)
    }
}

/// `ccdproc deviation`, `gain`, `median-filter`, `clip`, `offset` from the command line.
@Suite struct CCDPixelCommandTests {
    let frame = TestSupport.path("ccdproc/ref/trim.fits")

    @Test func deviationAndGain() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let dev = dir.appendingPathComponent("d.fits").path, gained = dir.appendingPathComponent("g.fits").path
        #expect(try TestSupport.runTool(["ccdproc", "deviation", frame, "-o", dev, "--gain", "1.5", "--readnoise", "5", "-q"]).code == 0)
        let data = try FITS.readImage(frame).pixels, d = try FITS.readImage(dev), err = try FITS.readImage(dev + "[ERR]").pixels
        #expect(d.pixels == data && d.header.string("BUNIT") == "adu")
        for i in stride(from: 0, to: data.count, by: 97) where data[i] > 0 {
            #expect(abs(Double(err[i]) - (1.5 * Double(data[i]) + 25).squareRoot() / 1.5) < 1e-3)
        }
        #expect(try TestSupport.runTool(["ccdproc", "gain", dev, "-o", gained, "--gain", "1.5", "-q"]).code == 0)
        let g = try FITS.readImage(gained), gerr = try FITS.readImage(gained + "[ERR]").pixels
        #expect(g.header.string("BUNIT") == "electron")
        #expect(zip(g.pixels, data).allSatisfy { abs($0 - 1.5 * $1) <= 1e-3 * max(1, abs($0)) })
        #expect(zip(gerr, err).allSatisfy { abs($0 - 1.5 * $1) <= 1e-4 * max(1, abs($0)) })
    }

    @Test func filterClipOffset() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let m = dir.appendingPathComponent("m.fits").path, c = dir.appendingPathComponent("c.fits").path
        let o = dir.appendingPathComponent("o.fits").path
        #expect(try TestSupport.runTool(["ccdproc", "median-filter", frame, "-o", m, "--size", "3,5", "--mode", "nearest", "-q"]).code == 0)
        #expect(try FITS.listHDUs(m).map(\.extname).contains("ERR") == false)
        let r = try TestSupport.runTool(["ccdproc", "clip", frame, "-o", c, "--threshold", "> 1e9", "--json"])
        #expect(r.code == 0 && r.stdout.contains("0 pixels clipped"))
        #expect(try TestSupport.runTool(["ccdproc", "offset", frame, "-o", o, "--by", "gminp1", "-q"]).code == 0)
        #expect(try FITS.readImage(o).pixels.min() == 1)
        #expect(try TestSupport.runTool(["ccdproc", "clip", frame, "-o", c, "--overwrite", "--sigma", "3", "--invalid"]).code == 64)
    }
}

/// `ccdproc histogram` and `mosaic` write PNGs.
@Suite struct CCDPlotCommandTests {
    @Test func histogramAndMosaic() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let frame = TestSupport.path("ccdproc/ref/sci_reduced.fits")
        let h = dir.appendingPathComponent("h.png").path, m = dir.appendingPathComponent("m.png").path
        let r = try TestSupport.runTool(["ccdproc", "histogram", frame, "-o", h, "--bins", "50", "--log", "--gaussian",
                                         "--percentiles", "5,95", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"counts\""))
        #expect(try TestSupport.runTool(["ccdproc", "mosaic", frame, frame, "-o", m, "--at", "64,48", "--at", "10,10", "-q"]).code == 0)
        for png in [h, m] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
            #expect(bytes.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        }
        #expect(try TestSupport.runTool(["ccdproc", "mosaic", frame, "-o", m, "--overwrite"]).code == 64)
    }
}
