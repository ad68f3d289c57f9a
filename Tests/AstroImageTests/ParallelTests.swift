import AstroImage
import Testing

@Suite struct ParallelTests {
    struct Failure: Error, Equatable { let item: Int }

    /// Results in item order whatever the blocks; of several failures, the first in item order.
    @Test func tryMapKeepsOrderAndTheFirstError() throws {
        #expect(try Parallel.tryMap(count: 37) { $0 * $0 } == (0..<37).map { $0 * $0 })
        #expect(try Parallel.tryMap(count: 0) { $0 }.isEmpty)
        #expect(throws: Failure(item: 5)) {
            try Parallel.tryMap(count: 40) { k -> Int in
                if k == 5 || k == 31 { throw Failure(item: k) }
                return k
            }
        }
    }
}
