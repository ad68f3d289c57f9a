import AstroFITS
import AstroImage
import Foundation

/// `--where KEY=VALUE` selection of files by header cards, as ccdproc's
/// `ImageFileCollection.files_filtered(imagetyp='bias')`: a file matches when, for every
/// condition, some HDU has the keyword with a matching value (case-insensitive, `*` wildcard).
struct HeaderFilter {
    private var conditions: [(key: String, pattern: String)] = []

    init(_ texts: [String]) throws {
        for text in texts {
            guard let eq = text.firstIndex(of: "=") else {
                throw AstroError(.usage, operation: "parsing --where", reason: "'\(text)' is not KEY=VALUE")
            }
            conditions.append((text[..<eq].trimmingCharacters(in: .whitespaces).uppercased(), text[text.index(after: eq)...].trimmingCharacters(in: .whitespaces).lowercased()))
        }
    }

    var isEmpty: Bool { conditions.isEmpty }

    func matches(_ headers: [Header]) -> Bool {
        conditions.allSatisfy { condition in
            headers.contains { header in
                guard let value = header[condition.key] else { return false }
                return Self.glob(condition.pattern, value.description.trimmingCharacters(in: .whitespaces).lowercased())
            }
        }
    }

    /// `*` matches any run of characters; everything else literally.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 { return pattern == text }
        var rest = Substring(text)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let r = rest.range(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        return rest.hasSuffix(parts.last!)
    }

    /// The inputs (after @list expansion) whose headers match `texts`; refuses an empty result.
    static func select(_ inputs: [String], where texts: [String]) throws -> [String] {
        let filter = try HeaderFilter(texts)
        var files = try expandListArguments(inputs)
        if !filter.isEmpty { files = try files.filter { filter.matches(try FITS.listHDUs($0).map(\.header)) } }
        guard !files.isEmpty else {
            throw AstroError(.noInput, operation: "selecting inputs", reason: filter.isEmpty ? "no input files" : "no input matches --where")
        }
        return files
    }
}
