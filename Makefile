# astrotool — build, test, demo and benchmark entry points.
#   make        release build (.build/release/astrotool)
#   make test   the whole test suite
#   make demo   simulate a small night and reduce it end to end under demo-out/
#   make bench  astrotool against the anchor tools, medians and ratios
#   make fuzz   the reader's fuzz harness: N mutated files (default 100000), SEED (default 1)
#   make fuzz-libfuzzer   the same pipeline under coverage-guided libFuzzer for T seconds (default 600)
#   make install [PREFIX=/usr/local] [DESTDIR=]   binary, man pages, shell completions, recipes
#   make uninstall [PREFIX=...] [DESTDIR=]        removes what install recorded in its manifest
#   make install-test   install into a temporary prefix, use it, uninstall, check it is empty
#   make cluster-test   a tiled mosaic run by a one-node Slurm started here equals the single run (root)
SWIFT ?= swift
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
TOOL := .build/release/astrotool
N ?= 100000
SEED ?= 1
T ?= 600
PREFIX ?= /usr/local
DESTDIR ?=
# Man pages generated from the release binary's help (scripts/manpages.sh).
MANPAGES := .build/manpages
# x86-64 machines with AVX2 (2013 on) get code for their vector units: the SIMD kernels run up to
# ~25 % faster (drizzle's square kernel 0.90 -> 0.70 s), results bit for bit the same. `make CPU=`
# builds for any x86-64 (a binary for older machines); `make CPU=skylake-avx512` picks another.
CPU ?= $(shell [ "$$(uname -m)" = x86_64 ] && grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo haswell)
CPUFLAGS := $(if $(CPU),-Xswiftc -target-cpu -Xswiftc $(CPU))
# The Swift runtime and Foundation linked into the binary: a process starts in ~6 ms instead of
# ~13 (night.mk runs ~30 of them). scripts/manpages.sh builds with the same flags.
# -fno-math-errno: Swift's squareRoot() goes through a C shim that, with errno semantics, checks
# every result and calls libm's sqrt for NaN; without them it is one instruction, and the vector
# loops (SIMD4<Double>.squareRoot()) use vsqrtpd instead of four scalar roots. Same values.
RELEASEFLAGS := $(CPUFLAGS) -Xcc -fno-math-errno --static-swift-stdlib
LIBFUZZER_FLAGS := -Xswiftc -sanitize=fuzzer -Xswiftc -DLIBFUZZER -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld

.PHONY: all build deps buildinfo test demo bench fuzz fuzz-libfuzzer install uninstall install-test cluster-test clean

all: build

deps:
	@scripts/ensure-deps.sh

# The git commit `astrotool --version` prints (Sources/AstroCLI/BuildInfo+Generated.swift).
buildinfo:
	@scripts/buildinfo.sh

build: deps buildinfo
	$(SWIFT) build -c release $(RELEASEFLAGS)

test: deps buildinfo
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: build
	@scripts/demo.sh $(TOOL) demo-out

bench: build
	@bench/run.sh $(TOOL) $(CASE)

fuzz: build
	.build/release/astrotool-fuzz -n $(N) --seed $(SEED) --testdata testdata --out fuzz-out

# Its own build folder: every module instrumented for coverage, libFuzzer's driver linked (lld;
# gold fails on it). New inputs go to fuzz-out/libfuzzer-corpus, crashes to fuzz-out/libfuzzer-*.
fuzz-libfuzzer: deps
	$(SWIFT) build -c release --product astrotool-fuzz --scratch-path .build-libfuzzer $(LIBFUZZER_FLAGS)
	mkdir -p fuzz-out/libfuzzer-corpus
	.build-libfuzzer/release/astrotool-fuzz fuzz-out/libfuzzer-corpus testdata/fits -max_total_time=$(T) \
		-timeout=10 -rss_limit_mb=2048 -max_len=600000 -artifact_prefix=fuzz-out/libfuzzer-

# The man pages are regenerated only when the binary is newer than them.
install: build
	@[ $(MANPAGES)/astrotool.1 -nt $(TOOL) ] || SWIFT="$(SWIFT)" SWIFT_BUILD_FLAGS="$(RELEASEFLAGS)" scripts/manpages.sh $(MANPAGES)
	@scripts/install.sh $(TOOL) $(MANPAGES) "$(DESTDIR)$(PREFIX)"

uninstall:
	@scripts/uninstall.sh "$(DESTDIR)$(PREFIX)"

install-test: build
	@scripts/ensure-deps.sh man
	@MAKE="$(MAKE)" scripts/install-test.sh

# Not part of make test: it starts daemons (Debian's slurm-wlm and munge, installed when missing).
cluster-test: build
	@scripts/ensure-deps.sh slurmctld slurmd sbatch munged
	@scripts/cluster-test.sh $(TOOL)

clean:
	rm -rf .build .build-libfuzzer demo-out bench/out fuzz-out
	rm -f Sources/AstroCLI/BuildInfo+Generated.swift
