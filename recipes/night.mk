# recipes/night.mk — reduce one night of raw frames end to end, one make target per frame.
#
#   make -f recipes/night.mk RAW=night/raw OUT=night/reduced AT=path/to/astrotool -j 2
#   (REFCAT=gaia.csv: the RA/Dec catalogue the frames' WCSs are fitted to; default the
#   simulated night's stand-in for Gaia, $(RAW)/truth/refcat.csv)
#
# Frames are selected by their headers (IMAGETYP, FILTER) with `astrotool info --label`, so
# file names do not matter. Every product is written atomically, so an interrupted run
# resumes where it stopped and `make -j N` runs frames in parallel.
#
# Stages: masters (bias, dark per second, flat, bad-pixel mask) -> calibrated science (electrons, ERR, MASK) ->
# cosmic rays cleaned -> aligned -> sky-matched -> outliers flagged -> drizzled mosaic; PNG previews of the raw
# frames and the products. A stage whose astrotool subcommand is not built yet is reported as
# such by `make report`, never faked.

AT     ?= astrotool
RAW    ?= raw
OUT    ?= reduced
FILTER ?= R
# RA/Dec reference catalogue (CSV or FITS table, Gaia-like) the WCSs are registered to.
# `astrotool simulate night` writes its stand-in for Gaia next to the raw frames.
REFCAT ?= $(RAW)/truth/refcat.csv

# A subcommand exists when the root help lists it (`astrotool X --help` alone would show the
# root help for an unknown X and succeed).
have    = $(shell $(AT) --help | grep -qE '^  $(1) ' && echo yes)

# One `info` call sorts the raw frames: it prints LABEL:FILE for each label a file's header matches.
FRAMES  := $(shell $(AT) info --no-stats --names --label BIAS:IMAGETYP=BIAS --label DARK:IMAGETYP=DARK \
             --label FLAT:IMAGETYP=FLAT,FILTER=$(FILTER) --label SCI:IMAGETYP=OBJECT,FILTER=$(FILTER) $(wildcard $(RAW)/*.fits))
frames  = $(patsubst $(1):%,%,$(filter $(1):%,$(FRAMES)))
BIAS    := $(call frames,BIAS)
DARK    := $(call frames,DARK)
FLAT    := $(call frames,FLAT)
SCI     := $(call frames,SCI)
RAWALL  := $(BIAS) $(DARK) $(FLAT) $(SCI)

# Under make -j N the frames are reduced N at a time, so each frame's command takes cores / N
# threads (at least one; one under a bare -j): N commands of all-core threads on the same
# cores spent more time in the kernel and waiting (a 6-frame night on 2 cores, make -j 2:
# 2.56 -> 2.44 s). Without -j they take every core. The masters, skymatch, outliers and the
# mosaic, one command each, always do.
CORES   := $(shell nproc 2>/dev/null || echo 1)
jobs     = $(patsubst -j%,%,$(filter -j%,$(MAKEFLAGS)))
FRAME_THREADS = $(if $(filter -j%,$(MAKEFLAGS)),--threads $(if $(jobs),$(shell echo $$(( $(CORES) / $(jobs) > 1 ? $(CORES) / $(jobs) : 1 ))),1))

# Every raw frame: overscan (BIASSEC, a median per line) and trim (TRIMSEC).
BASIC   := --oscan BIASSEC --trim TRIMSEC
# Masters: average with 3-sigma clipping about the median (mad_std), which rejects cosmic rays
# and keeps the noise of an average.
STACK   := --method average --sigma-clip --clip-center median --clip-dev mad_std

MBIAS   := $(OUT)/masters/bias.fits
MDARK   := $(OUT)/masters/dark.fits
MFLAT   := $(OUT)/masters/flat_$(FILTER).fits
MBPM    := $(OUT)/masters/bpm_$(FILTER).fits
MASTERS := $(MBIAS) $(MDARK) $(MFLAT) $(MBPM)

CALIB   := $(patsubst $(RAW)/%.fits,$(OUT)/calibrated/%.fits,$(SCI))
CLEANED := $(patsubst $(RAW)/%.fits,$(OUT)/cleaned/%.fits,$(SCI))
ALIGNED := $(patsubst $(RAW)/%.fits,$(OUT)/aligned/%.fits,$(SCI))
SKYMATCHED := $(patsubst $(RAW)/%.fits,$(OUT)/skymatched/%.fits,$(SCI))
# skymatch solves all frames at once: one call writes every copy and this report, which
# stands for the whole set in the rules below.
SKYREPORT := $(OUT)/skymatched/skymatch.json
FLAGGED := $(patsubst $(RAW)/%.fits,$(OUT)/outliers/%.fits,$(SCI))
OUTLIERREPORT := $(OUT)/outliers/outliers.json
MOSAIC  := $(OUT)/mosaic_$(FILTER).fits

RAW_PREVIEWS  := $(patsubst $(RAW)/%.fits,$(OUT)/previews/raw/%.png,$(RAWALL))
PRODUCT_PREVIEWS := $(patsubst $(OUT)/%.fits,$(OUT)/previews/%.png,$(MASTERS) $(CLEANED) $(MOSAIC))

# Stage name : the subcommand it needs.
STAGES := masters:ccdproc calibrated:ccdproc cosmic-rays:ccdproc aligned:align skymatched:skymatch outliers:resample mosaic:resample

.PHONY: all masters calibrated cleaned aligned skymatched outliers mosaic previews report
.DELETE_ON_ERROR:

# The report comes after the products, also under make -j.
all: mosaic previews
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) report

masters: $(MASTERS)
calibrated: $(CALIB)
cleaned: $(CLEANED)
aligned: $(ALIGNED)
skymatched: $(SKYREPORT)
outliers: $(OUTLIERREPORT)
mosaic: $(MOSAIC)
previews: $(RAW_PREVIEWS) $(PRODUCT_PREVIEWS)

# --- masters ----------------------------------------------------------------------------
# Each master combines its raw frames, each calibrated first in the same command (as IRAF's
# zerocombine, darkcombine and flatcombine run ccdproc on their inputs): no prepared copies
# are kept.
$(MBIAS): $(BIAS)
	@mkdir -p $(@D)
	@$(AT) ccdproc combine $(BIAS) -o $@ --overwrite -q $(STACK) $(BASIC)

# Darks per second: bias removed, divided by their exposure time.
$(MDARK): $(DARK) $(MBIAS)
	@$(AT) ccdproc combine $(DARK) -o $@ --overwrite -q $(STACK) $(BASIC) --bias $(MBIAS) --to-rate

# Flats: bias and dark (times each flat's exposure) removed, each scaled to unit median.
$(MFLAT): $(FLAT) $(MBIAS) $(MDARK)
	@$(AT) ccdproc combine $(FLAT) -o $@ --overwrite -q $(STACK) --scale inverse-median $(BASIC) --bias $(MBIAS) --dark $(MDARK)

# Bad pixels (dead or weak columns, low-response pixels) found in the master flat: they go
# into every science frame's MASK, which keeps them out of cosmic-ray detection.
$(MBPM): $(MFLAT)
	@$(AT) ccdproc ccdmask $< -o $@ --overwrite -q

# --- science ----------------------------------------------------------------------------
# Electrons, with ERR from the gain and read noise in the header, and MASK.
$(OUT)/calibrated/%.fits: $(RAW)/%.fits $(MASTERS)
	@$(AT) ccdproc process $< -o $@ --overwrite -q $(FRAME_THREADS) $(BASIC) --gain GAIN --readnoise RDNOISE --error \
	    --bias $(MBIAS) --dark $(MDARK) --flat $(MFLAT) --bpm $(MBPM)

# L.A.Cosmic with astroscrappy's defaults; read noise from RDNOISE, saturation 65535 ADU.
$(OUT)/cleaned/%.fits: $(OUT)/calibrated/%.fits
	@$(AT) ccdproc cosmicray $< -o $@ --overwrite -q $(FRAME_THREADS)

# --- registration -----------------------------------------------------------------------
# Each cleaned frame's WCS fitted to the reference catalogue (stars detected, triangles and
# cross-matches against the catalogue projected through the header's WCS, a weighted clipped
# fit): CRVAL/CD corrected, pixels and ERR/MASK untouched. Without a catalogue, every frame's
# WCS is tied to the first frame's instead. The fit's statistics (what the command prints)
# go to a JSON beside each frame. A frame align cannot register (exit 65: too few stars, no
# consistent match) keeps its header WCS: it is copied, with the reason in a .unregistered
# file beside it, and the report counts it; any other failure stops the recipe.
ALIGN_TO = $(if $(wildcard $(REFCAT)),--ref-cat $(REFCAT),-tf $(firstword $(CLEANED)))
$(OUT)/aligned/%.fits: $(OUT)/cleaned/%.fits $(wildcard $(REFCAT)) $(if $(wildcard $(REFCAT)),,$(firstword $(CLEANED)))
	@rm -f $(@:.fits=.unregistered) $(@:.fits=.json)
	@$(AT) align --update-wcs $< $@ $(ALIGN_TO) --overwrite -q $(FRAME_THREADS) --transform $(@:.fits=.json) > /dev/null 2> $@.log-$$$$; \
	status=$$?; \
	if [ $$status = 65 ]; then \
	    mv $@.log-$$$$ $(@:.fits=.unregistered); \
	    echo "night.mk: $@: not registered, header WCS kept: $$(sed 's/^astrotool: error: //' $(@:.fits=.unregistered))" >&2; \
	    cp $< $@.tmp-$$$$ && mv $@.tmp-$$$$ $@; \
	else cat $@.log-$$$$ >&2; rm -f $@.log-$$$$; exit $$status; fi

# --- sky --------------------------------------------------------------------------------
# The aligned frames' sky levels matched in their overlaps (global+match: offsets from the
# pixel differences, so the galaxy cancels, lifted onto the lowest sky), written as SKYVALUE
# into copies in skymatched/; resample subtracts it. The JSON report is written last, atomically.
$(SKYREPORT): $(ALIGNED)
	@mkdir -p $(@D)
	@$(AT) skymatch $^ --outdir $(@D) --overwrite -q --json > $@.tmp-$$$$ && mv $@.tmp-$$$$ $@

# --- outliers ---------------------------------------------------------------------------
# What L.A.Cosmic left (cosmic rays it missed, satellite trails) found across the dithers: each
# frame drizzled alone, less its SKYVALUE, the median blotted back and compared; a MASK bit
# set in copies in outliers/. After skymatch, as JWST's pipeline does: on frames whose skies
# differ the median sits between them and whole frames get flagged (5651 false flags on the
# demo night's highest-sky frame before sky matching, 0-2 after). The single drizzles use the
# turbo kernel, as AstroDrizzle's driz_separate_kernel does by default: the median only has to
# be smooth, and turbo takes a third of square's time. The JSON report is written last and
# stands for the set.
$(OUTLIERREPORT): $(SKYREPORT)
	@mkdir -p $(@D)
	@$(AT) resample outliers $(SKYMATCHED) --outdir $(@D) --kernel turbo --overwrite -q --json > $@.tmp-$$$$ && mv $@.tmp-$$$$ $@

# --- mosaic -----------------------------------------------------------------------------
# The flagged frames drizzled (square kernel) onto a north-up TAN grid covering them, in
# electrons per second, each less its SKYVALUE, through the WCSs align fitted; flagged
# pixels (any MASK bit) left out. Weighted by exposure time: ivm weights from ERR, which holds
# each star's own photon noise, favour the frames that read low in a star's core (the demo
# night's stars came out 9 % faint: flux ratio 0.913; 1.001 with exposure-time weights).
$(MOSAIC): $(OUTLIERREPORT)
	@$(AT) resample $(FLAGGED) -o $@ --overwrite -q --units counts --weight-type exptime

# --- previews ---------------------------------------------------------------------------
$(OUT)/previews/raw/%.png: $(RAW)/%.fits
	@mkdir -p $(@D)
	@$(AT) preview $< -o $@ --overwrite --interval zscale --stretch asinh --size 512 -q

$(OUT)/previews/%.png: $(OUT)/%.fits
	@mkdir -p $(@D)
	@$(AT) preview $< -o $@ --overwrite --interval zscale --stretch asinh --size 512 -q

$(OUT)/calibrated $(OUT)/cleaned $(OUT)/aligned:
	@mkdir -p $@

$(CALIB): | $(OUT)/calibrated
$(CLEANED): | $(OUT)/cleaned
$(ALIGNED): | $(OUT)/aligned

# Files are counted by the shell: make lists directories once, before any recipe ran.
report:
	@echo "night.mk: $(words $(BIAS)) bias, $(words $(DARK)) dark, $(words $(FLAT)) flat, $(words $(SCI)) science frames in $(RAW)"
	@echo "night.mk: masters: $$(for m in $(MASTERS); do if [ -f $$m ]; then printf '%s ' $$m; else printf 'missing %s ' $$m; fi; done)"
	@echo "night.mk: calibrated: $$(ls $(CALIB) 2>/dev/null | wc -l) of $(words $(CALIB)) in $(OUT)/calibrated; cosmic rays cleaned: $$(ls $(CLEANED) 2>/dev/null | wc -l) in $(OUT)/cleaned"
	@echo "night.mk: aligned: $$(ls $(ALIGNED) 2>/dev/null | wc -l) of $(words $(ALIGNED)) in $(OUT)/aligned, $$(ls $(ALIGNED:.fits=.json) 2>/dev/null | wc -l) WCSs fitted to $(if $(wildcard $(REFCAT)),$(REFCAT),the first frame), $$(ls $(ALIGNED:.fits=.unregistered) 2>/dev/null | wc -l) kept (not registered)"
	@echo "night.mk: sky-matched: $$(ls $(SKYMATCHED) 2>/dev/null | wc -l) of $(words $(SKYMATCHED)) in $(OUT)/skymatched (SKYVALUE, global+match)"
	@echo "night.mk: outliers: $$(ls $(FLAGGED) 2>/dev/null | wc -l) of $(words $(FLAGGED)) in $(OUT)/outliers, $$(grep -o '"flagged":[0-9]*' $(OUTLIERREPORT) 2>/dev/null | awk -F: '{ n += $$2 } END { print n + 0 }') pixels flagged"
	@echo "night.mk: mosaic: $$(if [ -f $(MOSAIC) ]; then echo $(MOSAIC); else echo missing $(MOSAIC); fi) (aligned, sky-matched, outliers flagged)"
	@echo "night.mk: previews: $$(ls $(RAW_PREVIEWS) $(PRODUCT_PREVIEWS) 2>/dev/null | wc -l) PNGs in $(OUT)/previews"
	@$(foreach s,$(STAGES),echo "night.mk: stage $(word 1,$(subst :, ,$(s))): $(if $(call have,$(word 2,$(subst :, ,$(s)))),built,not built yet (needs astrotool $(word 2,$(subst :, ,$(s)))))";)
