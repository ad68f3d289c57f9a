import AstroImage

extension FITS {
    /// The values of a user's mask (`--mask`, `--source-mask`) for one image: the mask's only
    /// image HDU, or among several the one with the image's EXTVER; each caller decides what a
    /// value means (non-zero = bad).
    /// - Parameters:
    ///   - image: how the image is named in the shape error.
    /// - Throws: `.badData` naming the mask when no HDU fits the EXTVER or its shape is not
    ///   `width`×`height`; cfitsio's errors for an unreadable file.
    public static func readUserMask(_ path: String, extver: Int, width: Int, height: Int, image: String) throws -> [Float] {
        let masks = try listHDUs(path).filter { $0.kind == .image && $0.shape.count >= 2 && !$0.shape.contains(0) }
        let pick = masks.count > 1 ? masks.first { ($0.header.int("EXTVER") ?? 1) == extver } : masks.first
        guard let pick else {
            throw AstroError(.badData, file: path, operation: "reading mask", reason: "no image for EXTVER \(extver)")
        }
        let m = try readImage("\(basePath(path))[\(pick.index)]")
        guard m.width == width, m.height == height else {
            throw AstroError(.badData, file: path, operation: "reading mask",
                             reason: "it is \(m.width)x\(m.height), the image \(image) is \(width)x\(height)")
        }
        return m.pixels
    }
}
