import AstroImage
import Foundation

/// An output too large to hold in memory, written a band of rows at a time: every HDU's header
/// is reserved first (with room to spare), the bands of each plane go to their offsets as they
/// are computed, and `finish` rewrites the headers with their final cards (keywords only known
/// at the end, such as a total exposure) in the space reserved, then renames the file into
/// place. Nothing appears at the output path until then; a failure removes the temporary file.
public final class FITSStreamWriter {
    /// One HDU of the output: its shape, storage type, name and a header with every card the
    /// final one will have (values may still change; `spareCards` absorbs the rest).
    public struct Plan: Sendable {
        public var width: Int, height: Int
        public var pixelType: PixelType
        public var extname: String?
        public var extver: Int?
        public var header: Header
        public init(width: Int, height: Int, pixelType: PixelType, extname: String? = nil, extver: Int? = nil, header: Header = Header()) {
            self.width = width; self.height = height; self.pixelType = pixelType
            self.extname = extname; self.extver = extver; self.header = header
        }
    }

    private let output: AtomicOutput
    private let plans: [Plan]
    private var file: SparseFile
    private let fd: Int32
    /// Per HDU: where its header starts, how many blocks it has, where its data starts.
    private var layout: [(header: Int, blocks: Int, data: Int)] = []
    private var finished = false
    /// The thread of `writeBehind`, the first failure there, and the bands it may hold at once
    /// (a slow disk makes the caller wait instead of piling up bands in memory).
    private let behind = DispatchQueue(label: "astrotool.fits.write-behind")
    private var behindError: (any Error)?
    private let behindSlots = DispatchSemaphore(value: 2)

    public init(to path: String, overwrite: Bool, plans: [Plan], spareCards: Int = 36) throws {
        precondition(!plans.isEmpty, "FITSStreamWriter needs at least one HDU")
        precondition(FITSWriter.writesDirectly(path), "streamed outputs are plain FITS files")
        output = try AtomicOutput(path, overwrite: overwrite)
        self.plans = plans
        fd = open(output.temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FITSWriter.failure(path, nil, "creating output") }
        file = SparseFile(fd: fd, path: path)
        var position = 0
        for (index, plan) in plans.enumerated() {
            let cards = FITSWriter.headerCards(Self.hdu(plan, plan.header), index: index, width: plan.width, height: plan.height, blank: nil)
            let blocks = (cards.count + spareCards + 1 + 35) / 36
            let size = plan.width * plan.height * abs(plan.pixelType.bitpix) / 8
            layout.append((position, blocks, position + blocks * 2880))
            position += blocks * 2880 + (size + 2879) / 2880 * 2880
        }
    }

    deinit {
        close(fd)
        if !finished { output.discard() }
    }

    /// Writes rows `first ..< first + part.height` of HDU `index` (float pixels, or `integers`
    /// for an integer plane), `part` being just those rows.
    public func write(rows first: Int, of index: Int, _ part: OutputHDU) throws {
        precondition(!finished, "write after finish")
        let plan = plans[index]
        let shape = part.exactShape ?? (part.image.width, part.image.height)
        precondition(shape.0 == plan.width && first >= 0 && first + shape.1 <= plan.height, "rows outside the planned HDU")
        var typed = part
        typed.pixelType = plan.pixelType
        file.label = plan.extname.map { "HDU \(index) '\($0)'" } ?? "HDU \(index)"
        file.seek(to: layout[index].data + first * plan.width * abs(plan.pixelType.bitpix) / 8)
        try DataUnit(typed).write(to: &file, pad: false)
    }

    /// `write(rows:of:_:)` on a thread of the writer's own: returns at once, so the caller can
    /// compute the next band while this one goes to disk. Bands go in the order given; `finish`
    /// waits for them and throws the first failure (the bands after it are dropped). Not to be
    /// mixed with `write` on one writer.
    public func writeBehind(rows first: Int, of index: Int, _ part: OutputHDU) {
        precondition(!finished, "writeBehind after finish")
        behindSlots.wait()
        let writer = Handle(self)
        behind.async {
            let w = writer.writer
            defer { w.behindSlots.signal() }
            guard w.behindError == nil else { return }
            do { try w.write(rows: first, of: index, part) } catch { w.behindError = error }
        }
    }

    /// The writer handed to its own thread, which alone uses it until `finish` has waited.
    private struct Handle: @unchecked Sendable {
        let writer: FITSStreamWriter
        init(_ writer: FITSStreamWriter) { self.writer = writer }
    }

    /// Writes the final headers into their reserved space and moves the file into place (after
    /// every `writeBehind` band is on disk).
    public func finish(headers: [Header]) throws {
        precondition(headers.count == plans.count, "one header per HDU")
        behind.sync {}
        do {
            if let behindError { throw behindError }
            for (index, plan) in plans.enumerated() {
                let cards = FITSWriter.headerCards(Self.hdu(plan, headers[index]), index: index, width: plan.width, height: plan.height, blank: nil)
                guard cards.count < layout[index].blocks * 36 else {
                    throw AstroError(.cannotCreate, file: output.path, hdu: "HDU \(index)", operation: "writing the header",
                                     reason: "\(cards.count) cards do not fit the \(layout[index].blocks * 36 - 1) reserved")
                }
                file.seek(to: layout[index].header)
                try FITSWriter.headerBlock(cards, blocks: layout[index].blocks).withUnsafeBytes { try file.put($0) }
            }
            file.seek(to: layout.last!.data + (plans.last!.width * plans.last!.height * abs(plans.last!.pixelType.bitpix) / 8 + 2879) / 2880 * 2880)
            try file.finish()
            try output.commit()
            finished = true
        } catch {
            output.discard()
            finished = true
            throw error
        }
    }

    /// The header-only stand-in the card builder takes.
    private static func hdu(_ plan: Plan, _ header: Header) -> OutputHDU {
        OutputHDU(Image(width: 0, height: 0, pixels: [], header: header), extname: plan.extname, extver: plan.extver, pixelType: plan.pixelType)
    }
}
