/// The one error type every astrotool module throws for a domain failure.
///
/// It carries what the user needs to act on it (the file and HDU, the operation, the reason)
/// and which sysexits code the command line should exit with. Its description is the
/// one-line message `FILE[HDU]: what failed: why`.
public struct AstroError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Which class of failure this is; it decides the exit code.
    public enum Kind: Sendable, Equatable {
        /// Input exists but cannot be used (bad FITS, no WCS, wrong shape): `EX_DATAERR` 65.
        case badData
        /// Input missing or unreadable: `EX_NOINPUT` 66.
        case noInput
        /// Output exists without `--overwrite`, or cannot be created: `EX_CANTCREAT` 73.
        case cannotCreate
        /// An I/O failure while reading or writing: `EX_IOERR` 74.
        case io
        /// A bad argument value that only the domain code could detect: `EX_USAGE` 64.
        case usage

        public var exitCode: Int32 {
            switch self {
            case .badData: 65
            case .noInput: 66
            case .cannotCreate: 73
            case .io: 74
            case .usage: 64
            }
        }
    }

    public var kind: Kind
    /// The path as the user typed it, or nil when no file is involved.
    public var file: String?
    /// The HDU, e.g. `HDU 2 'SCI'`, or nil.
    public var hdu: String?
    /// What was being done, e.g. `reading image`.
    public var operation: String
    /// Why it failed.
    public var reason: String

    public init(_ kind: Kind, file: String? = nil, hdu: String? = nil, operation: String, reason: String) {
        self.kind = kind
        self.file = file
        self.hdu = hdu
        self.operation = operation
        self.reason = reason
    }

    public var exitCode: Int32 { kind.exitCode }

    public var description: String {
        var where_ = file ?? ""
        if let hdu { where_ += "[\(hdu)]" }
        return where_.isEmpty ? "\(operation): \(reason)" : "\(where_): \(operation): \(reason)"
    }
}

extension AstroError {
    /// Runs `body`; an `AstroError` it throws without a file gets `file` (and `hdu`), so code
    /// that works on pixels alone (rendering, statistics) still reports which input failed.
    public static func naming<T>(_ file: String, hdu: String? = nil, _ body: () throws -> T) rethrows -> T {
        do {
            return try body()
        } catch var error as AstroError where error.file == nil {
            error.file = file
            if error.hdu == nil { error.hdu = hdu }
            throw error
        }
    }
}
