# recipes/tiles.mk — drizzle a planned mosaic tile by tile with make, then join the parts.
#
#   astrotool resample plan sky/*.fits --tiles 4 4 -o plan.json
#   make -f recipes/tiles.mk PLAN=plan.json PARTS=parts MOSAIC=mosaic.fits AT=path/to/astrotool -j 4
#
# One target per tile (`astrotool resample --plan PLAN --tile K`), so `make -j N` runs N tiles
# at once and an interrupted run resumes with the tiles still missing; the combine step
# (`astrotool resample combine`) checks that every tile of the plan is there exactly once.
# The same plan runs on Slurm with `resample plan ... --slurm DIR` (docs/scale.md).

AT     ?= astrotool
PLAN   ?= plan.json
PARTS  ?= parts
MOSAIC ?= mosaic.fits

# The plan's tile numbers (its only "number" keys).
TILES := $(shell grep -o '"number" *: *[0-9]*' $(PLAN) | grep -o '[0-9]*$$')
PARTFILES := $(TILES:%=$(PARTS)/part_%.fits)

.PHONY: all
.DELETE_ON_ERROR:

all: $(MOSAIC)

$(PARTS)/part_%.fits: $(PLAN) | $(PARTS)
	@$(AT) resample --plan $(PLAN) --tile $* -o $@ --overwrite -q

$(MOSAIC): $(PARTFILES)
	@$(AT) resample combine $^ -o $@ --overwrite -q

$(PARTS):
	@mkdir -p $@
