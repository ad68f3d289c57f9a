import AstroImage
import Foundation

/// A CSV table of the truth folder as `simulate night` writes it: one header line, then rows
/// of comma-separated fields (no quoting). Reading it back is all `simulate score` needs.
struct TruthTable {
    let path: String
    let header: [String]
    let rows: [[String]]

    /// - Throws: `.noInput` when the file cannot be read, `.badData` when it has no header line.
    init(_ path: String) throws {
        self.path = path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AstroError(.noInput, file: path, operation: "reading the truth", reason: "cannot read the file")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first else {
            throw AstroError(.badData, file: path, operation: "reading the truth", reason: "empty table")
        }
        header = first.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// A column as text. Throws `.badData` naming the column when it is missing.
    func strings(_ name: String) throws -> [String] {
        guard let i = header.firstIndex(of: name) else {
            throw AstroError(.badData, file: path, operation: "reading the truth", reason: "no column '\(name)'")
        }
        return try rows.enumerated().map { k, row in
            guard i < row.count else {
                throw AstroError(.badData, file: path, operation: "reading the truth", reason: "row \(k + 2) has \(row.count) fields, fewer than the header")
            }
            return row[i]
        }
    }

    /// A column as numbers; a field that is not a number ("nan" included) is NaN.
    func numbers(_ name: String) throws -> [Double] {
        try strings(name).map { Double($0) ?? .nan }
    }
}
