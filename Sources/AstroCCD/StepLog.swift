import AstroImage

/// How each calibration step records itself in the header.
///
/// `iraf` (default): the IRAF ccdred keywords downstream tools look for (OVERSCAN, TRIM, ZEROCOR,
/// DARKCOR, FLATCOR, CRCOR, CCDPROC) plus one HISTORY line per step. `ccdproc`: the two cards per
/// step ccdproc's `log_meta` writes (`HIERARCH SUBTRACT_OVERSCAN = 'suboscan'` and
/// `SUBOSCAN = 'arguments'`), for scripts that parse those. `none`: no step cards at all.
public struct StepLog: Sendable {
    public enum Style: String, Sendable, CaseIterable { case iraf, ccdproc, none }

    public var style: Style

    public init(style: Style) { self.style = style }

    /// One step: its IRAF keyword and value, ccdproc's function name, short name and argument
    /// string, and a sentence for HISTORY.
    public struct Entry: Sendable {
        public var irafKey: String?
        public var irafValue: String?
        public var function: String
        public var short: String
        public var arguments: String
        public var history: String
    }

    public func record(_ entry: Entry, in header: inout Header) {
        switch style {
        case .none:
            return
        case .iraf:
            if let key = entry.irafKey, let value = entry.irafValue { header.set(key, value) }
            header.addHistory("astrotool ccdproc: " + entry.history)
        case .ccdproc:
            header.set(entry.function.uppercased(), entry.short, comment: "Shortened name for ccdproc command")
            header.set(entry.short.uppercased(), entry.arguments)
        }
    }

    /// The closing `CCDPROC` card (IRAF: processing done, when and by what).
    public func finish(_ header: inout Header, date: String, software: String, steps: [String]) {
        switch style {
        case .none: return
        case .iraf:
            header.set("CCDPROC", "\(date) \(software)", comment: "CCD processing done")
        case .ccdproc:
            header.set("CCD_PROCESS", "ccdproc", comment: "Shortened name for ccdproc command")
            header.set("CCDPROC", steps.joined(separator: ", "))
        }
    }
}
