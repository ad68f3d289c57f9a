@testable import AstroSky
import Testing

/// The match system and the methods on pair values alone.
@Suite struct SolverTests {
    /// The JWST documentation's 7-image example (docs/skymatch.md §10.2): two islands of flat
    /// sky, 1–4 and 5–7, truth 100, 120, 105, 110 | 95, 90, 100.
    static let truth = [100.0, 120, 105, 110, 95, 90, 100]
    static let pairs: [PairSky] = [(0, 1), (1, 2), (2, 3), (0, 3), (4, 5), (5, 6)].map { i, j in
        PairSky(i: i, j: j, si: SkyValue(value: truth[i], npix: 1000), sj: SkyValue(value: truth[j], npix: 1000))
    }

    @Test func islandsAreFound() {
        #expect(SkyMatchSolver.islands(count: 8, pairs: Self.pairs) == [1, 1, 1, 1, 2, 2, 2, 3])
    }

    /// The offsets sum to zero per island, so the references' one global shift gives their numbers.
    @Test func deltasReproduceTheReferencesMatch() {
        let d = SkyMatchSolver.deltas(count: 7, pairs: Self.pairs)
        let low = d.min()!
        let reference = [0.0, 20, 5, 10, 8.75, 3.75, 13.75]
        for k in 0..<7 { #expect(abs(d[k] - low - reference[k]) < 1e-9, "\(k): \(d[k] - low)") }
    }

    @Test func eachIslandGetsItsOwnReference() {
        let local = Self.truth.map { Optional($0) }
        let match = SkyMatchSolver.levels(method: .match, local: local, pairs: Self.pairs, matchUp: false).map(\.sky!)
        for (a, b) in zip(match, [0.0, 20, 5, 10, 5, 0, 10]) { #expect(abs(a - b) < 1e-9) }
        let up = SkyMatchSolver.levels(method: .match, local: local, pairs: Self.pairs, matchUp: true).map(\.sky!)
        for (a, b) in zip(up, [-20.0, 0, -15, -10, -5, -10, 0]) { #expect(abs(a - b) < 1e-9) }
        // global+match: each island on its own baseline gives the truth (the references: 86.25 for island 1).
        let gm = SkyMatchSolver.levels(method: .globalMatch, local: local, pairs: Self.pairs, matchUp: false)
        for (a, b) in zip(gm.map(\.sky!), Self.truth) { #expect(abs(a - b) < 1e-9) }
        #expect(gm.map(\.island) == [1, 1, 1, 1, 2, 2, 2])
    }

    @Test func isolatedItemIsSkippedByMatchAndKeepsItsLocalSkyOtherwise() {
        let pairs = [PairSky(i: 0, j: 1, si: SkyValue(value: 10, npix: 50), sj: SkyValue(value: 12, npix: 50))]
        let local: [Double?] = [10, 12, 200]
        let match = SkyMatchSolver.levels(method: .match, local: local, pairs: pairs, matchUp: false)
        #expect(match.map(\.sky) == [0, 2, nil])
        let gm = SkyMatchSolver.levels(method: .globalMatch, local: local, pairs: pairs, matchUp: false)
        #expect(gm.map(\.sky) == [10, 12, 200])
        let global = SkyMatchSolver.levels(method: .global, local: [10, nil, 200], pairs: pairs, matchUp: false)
        #expect(global.map(\.sky) == [10, nil, 10])
    }

    /// stcal's two-image test (fills 21 and 42, one overlap) for every method.
    @Test func stcalTwoImageTable() {
        let pairs = [PairSky(i: 0, j: 1, si: SkyValue(value: 21, npix: 100), sj: SkyValue(value: 42, npix: 100))]
        func run(_ m: SkyMethod, up: Bool = false) -> [Double?] {
            SkyMatchSolver.levels(method: m, local: [21, 42], pairs: pairs, matchUp: up).map(\.sky)
        }
        #expect(run(.local) == [21, 42])
        #expect(run(.match) == [0, 21])
        #expect(run(.match, up: true) == [-21, 0])
        #expect(run(.global) == [21, 21])
        #expect(run(.globalMatch) == [21, 42])
    }
}

/// `--compat`: the references' one reference level for every island.
@Suite struct SharedBaselineTests {
    @Test func theJWSTExampleGivesTheReferencesNumbers() {
        let local = SolverTests.truth.map { Optional($0) }
        let match = SkyMatchSolver.levels(method: .match, local: local, pairs: SolverTests.pairs, matchUp: false, sharedBaseline: true)
        for (a, b) in zip(match.map(\.sky!), [0.0, 20, 5, 10, 8.75, 3.75, 13.75]) { #expect(abs(a - b) < 1e-9) }
        let gm = SkyMatchSolver.levels(method: .globalMatch, local: local, pairs: SolverTests.pairs, matchUp: false, sharedBaseline: true)
        for (a, b) in zip(gm.map(\.sky!), [86.25, 106.25, 91.25, 96.25, 95, 90, 100]) { #expect(abs(a - b) < 1e-9) }
        // An isolated item gets the shared baseline (the spec's 10, 12, 10), and no sky from match.
        let pairs = [PairSky(i: 0, j: 1, si: SkyValue(value: 10, npix: 50), sj: SkyValue(value: 12, npix: 50))]
        let iso = SkyMatchSolver.levels(method: .globalMatch, local: [10, 12, 200], pairs: pairs, matchUp: false, sharedBaseline: true)
        #expect(iso.map(\.sky) == [10, 12, 10])
        let m = SkyMatchSolver.levels(method: .match, local: [10, 12, 200], pairs: pairs, matchUp: true, sharedBaseline: true)
        #expect(m.map(\.sky) == [-2, 0, nil])
    }
}
