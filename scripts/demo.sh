#!/usr/bin/env bash
# make demo: the main job on bundled data, from nothing but astrotool and this repository.
#  1. describe and preview the bundled real FITS files (testdata/fits);
#  2. simulate a small observing night with known truth;
#  3. reduce it with recipes/night.mk (masters, calibration, cosmic rays, registration,
#     sky matching, outlier flags, mosaic, previews), timing each stage, and print the masters' and the
#     registered WCSs' errors against the simulation's truth;
#  4. score the mosaic against the truth (simulate score): photometry, astrometry, background.
# Usage: scripts/demo.sh PATH/TO/astrotool OUTDIR
set -euo pipefail
AT="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
OUT="$2"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
mkdir -p "$OUT/bundled"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

t=$(now)
"$AT" info --json testdata/fits/*.fit* > "$OUT/bundled/info.json"
for f in m13.fits m13_rice.fits a8280271.fits gmos.fits; do
    "$AT" preview "testdata/fits/$f" -o "$OUT/bundled/${f%%.*}.png" --overwrite -q
done
"$AT" preview testdata/fits/m13.fits -o "$OUT/bundled/m13_magma.png" --stretch asinh --colormap magma --colorbar --overwrite -q
echo "demo: bundled data: info JSON of $(ls testdata/fits/*.fit* | wc -l) files and 5 previews in $OUT/bundled ($(elapsed "$t"))"

if ! "$AT" --help | grep -qE '^  simulate '; then
    echo "demo: stage simulate: not built yet (needs astrotool simulate)"
    exit 0
fi
NIGHT="$OUT/night"
t=$(now)
"$AT" simulate night --outdir "$NIGHT/raw" --seed 42 --shape 1024 1024 --nsci 6 --galaxy \
    --pointing-error 5 --roll-error 0.3 --overwrite -q
echo "demo: simulate: $(ls "$NIGHT/raw"/*.fits | wc -l) raw frames + truth in $NIGHT/raw, headers up to 5\" and 0.3 deg off ($(elapsed "$t"))"

t=$(now)
make --no-print-directory -f recipes/night.mk -j "$JOBS" AT="$AT" RAW="$NIGHT/raw" OUT="$NIGHT/reduced" masters
echo "demo: masters: bias, dark (per second), flat, bad-pixel mask ($("$AT" ccdproc stats "$NIGHT/reduced/masters/bpm_R.fits" --no-mask | awk 'NR == 2 { printf "%d", $3 * $2 + 0.5 }') bad pixels) in $NIGHT/reduced/masters ($(elapsed "$t"))"
t=$(now)
make --no-print-directory -f recipes/night.mk -j "$JOBS" AT="$AT" RAW="$NIGHT/raw" OUT="$NIGHT/reduced" calibrated
echo "demo: calibrated: $(ls "$NIGHT/reduced/calibrated" | wc -l) science frames in electrons with ERR and MASK ($(elapsed "$t"))"
t=$(now)
make --no-print-directory -f recipes/night.mk -j "$JOBS" AT="$AT" RAW="$NIGHT/raw" OUT="$NIGHT/reduced" cleaned
echo "demo: cosmic rays: $(ls "$NIGHT/reduced/cleaned" | wc -l) frames cleaned by L.A.Cosmic ($(elapsed "$t"))"

# The masters against the simulation's truth: the scatter of the difference (bias, dark) or
# ratio (flat) is their error; the constant offsets (bias level, flat normalisation) are not.
rms() { "$AT" ccdproc stats "$1" "$2" "$3" | awk 'NR == 2 { print $7 }'; }
M="$NIGHT/reduced/masters"; T="$NIGHT/raw/truth"
NB=$("$AT" info --no-stats --names --where IMAGETYP=BIAS "$NIGHT/raw"/*.fits | wc -l)
card() { "$AT" info --no-stats "$1" | grep -o "$2=[0-9.]*" | head -1 | cut -d= -f2; }
FIRST=$(ls "$NIGHT/raw"/bias_*.fits | head -1)
FLOOR=$(awk -v r="$(card "$FIRST" RDNOISE)" -v g="$(card "$FIRST" GAIN)" -v n="$NB" 'BEGIN { printf "%.3g", r / g / sqrt(n) }')
echo "demo: master bias - truth: rms $(rms "$M/bias.fits" --minus "$T/bias.fits") ADU ($NB frames; read noise / sqrt(N) = $FLOOR ADU)"
echo "demo: master dark - truth: rms $(rms "$M/dark.fits" --minus "$T/dark.fits") ADU/s"
echo "demo: master flat / truth: rms $(rms "$M/flat_R.fits" --divide "$T/flat.fits")"

t=$(now)
make --no-print-directory -f recipes/night.mk -j "$JOBS" AT="$AT" RAW="$NIGHT/raw" OUT="$NIGHT/reduced" aligned
# What each fit did (from its --transform JSON), then the WCSs against the truth: the true
# pixel positions of the catalogue stars on the frame (truth/stars.csv, from the true WCS
# truth/wcs_NNN.hdr) against where each header puts their RA/Dec, before and after.
num() { grep -o "\"$2\" *: *[-0-9.e+]*" "$1" | head -1 | sed 's/.*: *//'; }
MOVES=""; RMSAS=""
for j in "$NIGHT/reduced/aligned"/*.json; do
    MOVES="$MOVES $(awk -v p="$(num "$j" pointingCorrection)" -v r="$(num "$j" rollCorrection)" 'BEGIN { printf "%.2f\"/%.3fdeg", p, r }')"
    RMSAS="$RMSAS $(awk -v v="$(num "$j" rmsArcsec)" 'BEGIN { printf "%.3f", v }')"
done
wcs_error() {   # RMS px between the true positions of frame $2's bright stars and header $1's
    local col
    col=$(head -1 "$NIGHT/raw/truth/stars.csv" | tr ',' '\n' | grep -n "^x_$2\$" | cut -d: -f1)
    awk -F, -v c="$col" 'NR > 1 && $4 > 2000 && $c > 0 && $c < 1023 && $(c + 1) > 0 && $(c + 1) < 1023 { print $2, $3, $c, $(c + 1) }' \
        "$NIGHT/raw/truth/stars.csv" > "$NIGHT/reduced/aligned/.stars_$2"
    cut -d' ' -f1,2 "$NIGHT/reduced/aligned/.stars_$2" | "$AT" wcs sky2pix "$1" - | paste -d' ' - "$NIGHT/reduced/aligned/.stars_$2" |
        awk '{ dx = $3 - $7; dy = $4 - $8; s += dx * dx + dy * dy; n++ } END { printf "%.3f", sqrt(s / n) }'
    rm -f "$NIGHT/reduced/aligned/.stars_$2"
}
BEFORE=""; AFTER=""
for f in "$NIGHT/reduced/aligned"/*.fits; do
    b=$(basename "$f" .fits); k=${b##*_}
    BEFORE="$BEFORE $(wcs_error "$NIGHT/reduced/cleaned/$b.fits" "$k")"
    AFTER="$AFTER $(wcs_error "$f" "$k")"
done
list() { echo "$1" | awk '{ for (i = 1; i <= NF; i++) printf "%s%s", (i > 1 ? ", " : ""), $i }'; }
echo "demo: align: $(ls "$NIGHT/reduced/aligned"/*.fits | wc -l) WCSs fitted to truth/refcat.csv, fit RMS $(list "$RMSAS") arcsec, pointing/roll corrected by $(list "$MOVES") ($(elapsed "$t"))"
echo "demo: WCS error vs truth (px RMS over the bright stars): headers $(list "$BEFORE") -> aligned $(list "$AFTER")"

t=$(now)
make --no-print-directory -f recipes/night.mk -j "$JOBS" AT="$AT" RAW="$NIGHT/raw" OUT="$NIGHT/reduced" skymatched
SKIES=$(grep -o '"sky":[-0-9.e+]*' "$NIGHT/reduced/skymatched/skymatch.json" | awk -F: '{ printf "%s%.1f", s, $2; s = ", " }')
echo "demo: skymatch: $(ls "$NIGHT/reduced/skymatched"/*.fits | wc -l) frames matched in their overlaps (global+match), SKYVALUE $SKIES e- ($(elapsed "$t"))"

t=$(now)
make --no-print-directory -f recipes/night.mk -j "$JOBS" AT="$AT" RAW="$NIGHT/raw" OUT="$NIGHT/reduced" outliers
FLAGS=$(grep -o '"flagged":[0-9]*' "$NIGHT/reduced/outliers/outliers.json" | awk -F: '{ printf "%s%d", s, $2; s = ", " }')
echo "demo: outliers: $(ls "$NIGHT/reduced/outliers"/*.fits | wc -l) frames checked against the blotted median of the dithers, pixels flagged $FLAGS ($(elapsed "$t"))"

t=$(now)
make --no-print-directory -f recipes/night.mk -j "$JOBS" AT="$AT" RAW="$NIGHT/raw" OUT="$NIGHT/reduced" mosaic
echo "demo: mosaic: $("$AT" info --no-stats "$NIGHT/reduced/mosaic_R.fits" | awk 'NR == 2 { print $3 }') drizzled from $(ls "$NIGHT/reduced/outliers"/*.fits | wc -l) aligned, sky-matched, outlier-flagged frames ($(elapsed "$t"))"

t=$(now)
make --no-print-directory -f recipes/night.mk -j "$JOBS" AT="$AT" RAW="$NIGHT/raw" OUT="$NIGHT/reduced" previews
echo "demo: previews: $(find "$NIGHT/reduced/previews" -name '*.png' | wc -l) PNGs ($(elapsed "$t"))"
make --no-print-directory -f recipes/night.mk AT="$AT" RAW="$NIGHT/raw" OUT="$NIGHT/reduced" report

# The mosaic scored against the night's truth (docs/simulate.md, simulate score): flux ratio,
# astrometric RMS, background bias, cosmic-ray residue, coverage; a plot beside the mosaic.
t=$(now)
"$AT" simulate score "$NIGHT/reduced/mosaic_R.fits" --truth "$NIGHT/raw/truth" --plot "$NIGHT/reduced/score.png" --overwrite -q |
    sed 's/^/demo: score: /'
echo "demo: score: plot in $NIGHT/reduced/score.png ($(elapsed "$t"))"
