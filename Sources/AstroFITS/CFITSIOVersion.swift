internal import CFITSIO

/// The version of the cfitsio library astrotool runs on (the shared library loaded at run
/// time, not the header it was compiled against), e.g. "4.2.0".
/// cfitsio reports it through ffvers() as a float: major + minor/100 (+ micro/10000 since 4.0).
public func cfitsioVersion() -> String {
    var value: Float = 0
    _ = ffvers(&value)
    let scaled = Int((Double(value) * 10000).rounded())
    let major = scaled / 10000, minor = scaled / 100 % 100, micro = scaled % 100
    return major >= 4 ? "\(major).\(minor).\(micro)" : "\(major).\(minor)"
}
