# astrotool — build, test, demo and benchmark entry points.
#   make        release build (.build/release/astrotool)
#   make test   the whole test suite
#   make demo   simulate a small night and reduce it end to end under demo-out/
#   make bench  astrotool against the anchor tools, medians and ratios
#   make fuzz   the reader's fuzz harness: N mutated files (default 100000), SEED (default 1)
SWIFT ?= swift
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
TOOL := .build/release/astrotool
N ?= 100000
SEED ?= 1

.PHONY: all build deps test demo bench fuzz clean

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

clean:
	rm -rf .build demo-out bench/out fuzz-out
