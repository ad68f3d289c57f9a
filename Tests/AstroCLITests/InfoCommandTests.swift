import Foundation
import Testing
import AstroTestSupport

/// `astrotool info` run as a user would: the real executable, its stdout JSON and exit code.
@Suite struct InfoCommandTests {
    func infoJSON(_ args: [String]) throws -> [String: Any] {
        let r = try TestSupport.runTool(["info", "--json"] + args)
        #expect(r.code == 0, "\(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }

    @Test func jsonKeysAndAstropyStatistics() throws {
        let doc = try infoJSON([TestSupport.path("fits/m13.fits")])
        let file = (doc["files"] as! [[String: Any]])[0]
        let hdu = (file["hdus"] as! [[String: Any]])[0]
        #expect(hdu["index"] as? Int == 0)
        #expect(hdu["naxis"] as? [Int] == [300, 300])
        #expect(hdu["bitpix"] as? Int == 16)
        let wcs = hdu["wcs"] as! [String: Any]
        #expect(wcs["ctype"] as? [String] == ["RA---TAN", "DEC--TAN"])
        let stats = hdu["stats"] as! [String: Any]
        let expected = try TestSupport.json("fits/expected.json")
        let want = ((expected["m13.fits"] as! [[String: Any]])[0]["stats"]) as! [String: Any]
        for key in ["mean", "median", "std", "min", "max"] {
            #expect(TestSupport.close(stats[key] as! Double, want[key] as! Double, rel: 1e-9), "\(key)")
        }
        let clipped = stats["clipped"] as! [String: Any], wantClipped = want["clipped"] as! [String: Any]
        for key in ["mean", "median", "std"] {
            #expect(TestSupport.close(clipped[key] as! Double, wantClipped[key] as! Double, rel: 1e-6), "clipped \(key)")
        }
        #expect(stats["nan_count"] as? Int == 0)
    }

    @Test func listsEveryHDUOrTheOneNamed() throws {
        let gmos = TestSupport.path("fits/gmos.fits")
        let all = try infoJSON([gmos])
        let hdus = (all["files"] as! [[String: Any]])[0]["hdus"] as! [[String: Any]]
        #expect(hdus.map { $0["extname"] as? String } == [nil, "SCI", "VAR", "SKYFIT"])
        #expect(hdus[0]["stats"] is NSNull || hdus[0]["stats"] == nil)
        let one = try infoJSON([gmos + "[VAR]"])
        let only = (one["files"] as! [[String: Any]])[0]["hdus"] as! [[String: Any]]
        #expect(only.count == 1 && only[0]["index"] as? Int == 2)
    }

    @Test func compressedAndListFiles() throws {
        let dir = TestSupport.scratch(); defer { TestSupport.cleanup(dir) }
        let list = dir.appendingPathComponent("frames.txt")
        try "# two files\n\(TestSupport.path("fits/m13_rice.fits"))\n\n\(TestSupport.path("fits/a8280271.fits"))\n"
            .write(to: list, atomically: true, encoding: .utf8)
        let doc = try infoJSON(["@" + list.path])
        let files = doc["files"] as! [[String: Any]]
        #expect(files.count == 2)
        let rice = (files[0]["hdus"] as! [[String: Any]])[1]
        #expect(rice["compressed"] as? Bool == true)
        let raw = (files[1]["hdus"] as! [[String: Any]])[0]
        #expect((raw["keywords"] as! [String: String])["BIASSEC"] == "[   4:  13,   1: 520]")
    }

    @Test func textOutputAndHeader() throws {
        let r = try TestSupport.runTool(["info", "--header", TestSupport.path("fits/m13.fits")])
        #expect(r.code == 0)
        #expect(r.stdout.contains("HDU 0  300x300  BITPIX 16"))
        #expect(r.stdout.contains("CTYPE1  = 'RA---TAN'"))
    }
}

@Suite struct InfoSelectionTests {
    @Test func whereAndNamesSelectByHeader() throws {
        let files = ["a8280271.fits", "sip-wcs.fit", "m13.fits"].map { TestSupport.path("fits/\($0)") }
        let light = try TestSupport.runTool(["info", "--names", "--where", "imagetyp=light"] + files)
        #expect(light.code == 0)
        #expect(light.stdout == files[1] + "\n")
        let obj = try TestSupport.runTool(["info", "--names", "--where", "IMAGETYP=obj*", "--where", "GAIN=1.9"] + files)
        #expect(obj.stdout == files[0] + "\n")
        let none = try TestSupport.runTool(["info", "--names", "--where", "FILTER=Z"] + files)
        #expect(none.code == 0 && none.stdout.isEmpty)
        #expect(try TestSupport.runTool(["info", "--where", "NOEQUALS"] + files).code == 64)
    }

    /// One call, several labels: LABEL:FILE per match, in file order, a file under every label
    /// it matches; --where still filters first.
    @Test func labelsSortFilesInOneCall() throws {
        let files = ["a8280271.fits", "sip-wcs.fit", "m13.fits"].map { TestSupport.path("fits/\($0)") }
        let r = try TestSupport.runTool(["info", "--names", "--label", "LIGHT:imagetyp=light", "--label", "OBJ:IMAGETYP=obj*,GAIN=1.9",
                                         "--label", "ANY:IMAGETYP=*"] + files)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout == "OBJ:\(files[0])\nANY:\(files[0])\nLIGHT:\(files[1])\nANY:\(files[1])\n")
        let filtered = try TestSupport.runTool(["info", "--names", "--where", "imagetyp=light", "--label", "ANY:IMAGETYP=*"] + files)
        #expect(filtered.stdout == "ANY:\(files[1])\n")
        #expect(try TestSupport.runTool(["info", "--label", "A:IMAGETYP=x"] + files).code == 64)
        #expect(try TestSupport.runTool(["info", "--names", "--label", "IMAGETYP=x"] + files).code == 64)
    }
}

@Suite struct InfoSectionTests {
    func stats(_ args: [String]) throws -> [String: Any] {
        let r = try TestSupport.runTool(["info", "--json"] + args)
        #expect(r.code == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let hdu = ((doc["files"] as! [[String: Any]])[0]["hdus"] as! [[String: Any]])[0]
        return hdu["stats"] as! [String: Any]
    }

    @Test func fitsAndPythonSectionsAgree() throws {
        let raw = TestSupport.path("fits/a8280271.fits")
        let fits = try stats([raw, "--section", "[4:13,*]"])
        #expect(fits["count"] as? Int == 10 * 520)
        #expect(fits["section"] as? String == "[4:13,*]")
        let py = try stats([raw, "--section", "[:, 3:13]", "--pyslice"])
        #expect(py["mean"] as? Double == fits["mean"] as? Double)
        #expect(py["median"] as? Double == fits["median"] as? Double)
        // The bias level of this SAAO frame sits far below its sky.
        let sky = try stats([raw, "--section", "[100:400,100:400]"])
        #expect((fits["median"] as! Double) < (sky["median"] as! Double))
    }

    @Test func badSectionNamesTheFile() throws {
        let raw = TestSupport.path("fits/a8280271.fits")
        let r = try TestSupport.runTool(["info", raw, "--section", "[1:999,1:10]"])
        #expect(r.code == 64)
        #expect(r.stderr.hasPrefix("astrotool: error: \(raw)[HDU 0]: parsing section"))
        #expect(try TestSupport.runTool(["info", raw, "--pyslice"]).code == 64)
    }
}
