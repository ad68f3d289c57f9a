import AstroImage
import Foundation

/// The text files a user hands skymatch: `--skylist` (a sky per image or chip, for
/// `--method user`) and `--groups` (which chips share one sky). docs/skymatch.md, "User skies
/// and groups".
///
/// Both name chips the same way: a name stands for every chip of an input when it is the input
/// as typed, its path, its file name (`sci_01.fits`) or that name without the FITS extension
/// (`sci_01`, also without `.gz`); `NAME[EXT,VER]` (any of those names, then the chip's
/// extension name and version, as the report prints it) stands for one chip. Blank lines and
/// lines starting with `#` are skipped; a `#` after the values starts a comment.
enum SkyLists {
    /// One non-comment line: its number (from 1) and its fields.
    struct Line {
        let number: Int
        let fields: [String]
    }

    static func lines(_ path: String, operation: String) throws -> [Line] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AstroError(.noInput, file: path, operation: operation, reason: "cannot read the file")
        }
        var out: [Line] = []
        for (k, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if !fields.isEmpty { out.append(Line(number: k + 1, fields: fields)) }
        }
        return out
    }

    /// The file name without its FITS extension (`.fits`, `.fit`, `.fts`, each optionally `.gz`).
    static func stem(_ file: String) -> String {
        var name = (file as NSString).lastPathComponent
        if name.lowercased().hasSuffix(".gz") { name = String(name.dropLast(3)) }
        for ext in [".fits", ".fit", ".fts"] where name.lowercased().hasSuffix(ext) {
            return String(name.dropLast(ext.count))
        }
        return name
    }

    /// The chips `name` stands for (indices into `chips`); empty when it names none.
    /// - Throws: `.badData` when it stands for chips of more than one input.
    static func resolve(_ name: String, in chips: [SkyChip], paths: [String], list: String, line: Int) throws -> [Int] {
        // A chip selector at the end: NAME[EXT,VER] or NAME[N].
        var fileName = name, selector: String?
        if name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
            fileName = String(name[..<open])
            selector = String(name[name.index(after: open)..<name.index(before: name.endIndex)]).uppercased()
                .replacingOccurrences(of: " ", with: "")
        }
        var found: [Int] = []
        for (k, c) in chips.enumerated() {
            let names = [paths[c.input], c.file, (c.file as NSString).lastPathComponent, stem(c.file)]
            if let selector {
                // EXTNAME,EXTVER (EXTNAME alone for version 1) or the HDU number.
                let extname = (c.header.string("EXTNAME") ?? "").uppercased(), extver = c.header.int("EXTVER") ?? 1
                var own = ["\(c.hdu)"]
                if !extname.isEmpty { own += ["\(extname),\(extver)"] + (extver == 1 ? [extname] : []) }
                if names.contains(fileName) && own.contains(selector) { found.append(k) }
            } else if names.contains(name) || c.name == name {
                found.append(k)
            }
        }
        let inputs = Set(found.map { chips[$0].file })
        if inputs.count > 1 {
            throw AstroError(.badData, file: list, operation: "reading line \(line)",
                             reason: "'\(name)' matches chips of \(inputs.count) inputs (\(inputs.sorted().joined(separator: ", "))); give a longer path")
        }
        return found
    }

    /// `--skylist`: the sky of every chip, from lines `NAME SKY`. Every chip must get exactly
    /// one value and every line must name a chip.
    /// - Throws: `.noInput` for an unreadable file; `.badData` for a malformed line, a value
    ///   that is not a finite number, a name that matches no chip or chips of several inputs,
    ///   a chip named twice or not at all.
    static func skies(_ list: String, chips: [SkyChip], paths: [String]) throws -> [Double] {
        var sky = [Double?](repeating: nil, count: chips.count)
        var from = [Int](repeating: 0, count: chips.count)
        for line in try lines(list, operation: "reading the sky list") {
            func fail(_ reason: String) -> AstroError {
                AstroError(.badData, file: list, operation: "reading line \(line.number)", reason: reason)
            }
            guard line.fields.count == 2 else { throw fail("expected 'NAME SKY', found \(line.fields.count) fields") }
            guard let value = Double(line.fields[1]), value.isFinite else {
                throw fail("'\(line.fields[1])' is not a finite number")
            }
            let matched = try resolve(line.fields[0], in: chips, paths: paths, list: list, line: line.number)
            guard !matched.isEmpty else { throw fail("'\(line.fields[0])' names none of the inputs") }
            for k in matched {
                if sky[k] != nil {
                    throw fail("\(chips[k].name) already has a sky (line \(from[k]))")
                }
                sky[k] = value
                from[k] = line.number
            }
        }
        if let missing = sky.indices.first(where: { sky[$0] == nil }) {
            throw AstroError(.badData, file: list, operation: "reading the sky list",
                             reason: "no sky for \(chips[missing].name): every input (or each of its chips) needs one line")
        }
        return sky.map { $0! }
    }

    /// `--groups`: the group of every chip and the groups' names, one group per line. A line may
    /// start with `LABEL:` to name its group (else `group<k>`, k its order). Every chip must be
    /// in exactly one group.
    /// - Throws: `.noInput` for an unreadable file; `.badData` for a name that matches no chip
    ///   or chips of several inputs, a chip in two groups or in none, a label used twice.
    static func groups(_ list: String, chips: [SkyChip], paths: [String]) throws -> ([Int], [String]) {
        var group = [Int?](repeating: nil, count: chips.count)
        var names: [String] = []
        for line in try lines(list, operation: "reading the groups") {
            func fail(_ reason: String) -> AstroError {
                AstroError(.badData, file: list, operation: "reading line \(line.number)", reason: reason)
            }
            var fields = line.fields
            var label = "group\(names.count + 1)"
            if fields[0].hasSuffix(":") {
                label = String(fields.removeFirst().dropLast())
                guard !label.isEmpty else { throw fail("an empty group label") }
            }
            guard !names.contains(label) else { throw fail("the label '\(label)' is used twice") }
            guard !fields.isEmpty else { throw fail("the group \(label) has no members") }
            for name in fields {
                let matched = try resolve(name, in: chips, paths: paths, list: list, line: line.number)
                guard !matched.isEmpty else { throw fail("'\(name)' names none of the inputs") }
                for k in matched {
                    if let g = group[k] { throw fail("\(chips[k].name) is already in the group \(names[g])") }
                    group[k] = names.count
                }
            }
            names.append(label)
        }
        if let missing = group.indices.first(where: { group[$0] == nil }) {
            throw AstroError(.badData, file: list, operation: "reading the groups",
                             reason: "\(chips[missing].name) is in no group: every input (or each of its chips) must be listed once")
        }
        return (group.map { $0! }, names)
    }
}
