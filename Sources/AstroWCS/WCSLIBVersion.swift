internal import CWCSLIB

/// The version of the wcslib library astrotool runs on, as wcslib_version() gives it ("7.12").
public func wcslibVersion() -> String {
    var parts: [Int32] = [0, 0, 0]
    if let text = wcslib_version(&parts) { return String(cString: text) }
    return parts[2] == 0 ? "\(parts[0]).\(parts[1])" : "\(parts[0]).\(parts[1]).\(parts[2])"
}
