# astrotool — build, test, demo and benchmark entry points.
#   make        release build (.build/release/astrotool)
#   make test   the whole test suite
#   make demo   simulate a small night and reduce it end to end under demo-out/
#   make bench  astrotool against the anchor tools, medians and ratios
#   make fuzz   the reader's fuzz harness: N mutated files (default 100000), SEED (default 1)
#   make fuzz-libfuzzer   the same pipeline under coverage-guided libFuzzer for T seconds (default 600)
SWIFT ?= swift
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
TOOL := .build/release/astrotool
N ?= 100000
SEED ?= 1
T ?= 600
LIBFUZZER_FLAGS := -Xswiftc -sanitize=fuzzer -Xswiftc -DLIBFUZZER -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld

.PHONY: all build deps test demo bench fuzz fuzz-libfuzzer clean

all: build

deps:
	@scripts/ensure-deps.sh

build: deps
	$(SWIFT) build -c release

test: deps
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

clean:
	rm -rf .build .build-libfuzzer demo-out bench/out fuzz-out
