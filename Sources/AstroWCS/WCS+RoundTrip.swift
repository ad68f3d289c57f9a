import AstroImage
import Foundation

extension WCS {
    /// Refuses a WCS that cannot carry this image's pixels to the sky and back (as drizzle, blot
    /// and sky matching need): the centre pixel must have a sky position and an area there, and
    /// pixel → sky → pixel must come back within 0.01 px at the centre, corners and edge
    /// midpoints that map.
    public func checkRoundTrip(width: Int, height: Int, file: String, hdu: String?) throws {
        func fail(_ reason: String) -> AstroError { AstroError(.badData, file: file, hdu: hdu, operation: "checking the WCS", reason: reason) }
        func shown(_ x: Double, _ y: Double) -> String { String(format: "(%.2f, %.2f)", x, y) }
        let (cx, cy) = (Double(width - 1) / 2, Double(height - 1) / 2)
        var px = [cx], py = [cy]
        for y in [0, cy, Double(height - 1)] { for x in [0, cx, Double(width - 1)] { px.append(x); py.append(y) } }
        let sky = pixelToWorld(x: px, y: py)
        guard sky.ra[0].isFinite, sky.dec[0].isFinite else { throw fail("the centre pixel \(shown(cx, cy)) has no sky position") }
        let area = pixelArea(x: cx, y: cy)
        guard area > 0, area.isFinite else {
            throw fail("the centre pixel has no area on the sky (a singular CD or PC matrix?)")
        }
        let back = worldToPixel(ra: sky.ra, dec: sky.dec)
        for k in px.indices where sky.ra[k].isFinite && sky.dec[k].isFinite {
            guard hypot(back.x[k] - px[k], back.y[k] - py[k]) <= 0.01 else {
                let to = back.x[k].isFinite && back.y[k].isFinite ? "pixel \(shown(back.x[k], back.y[k]))" : "no pixel"
                throw fail("it does not invert: pixel \(shown(px[k], py[k])) -> sky -> \(to)")
            }
        }
    }
}
