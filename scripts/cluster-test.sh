#!/usr/bin/env bash
# make cluster-test: a tiled mosaic drizzled by Slurm equals the single-process one.
#  1. simulate a small dithered night and calibrate its science frames (electrons, ERR, MASK);
#  2. drizzle them in one process (the reference);
#  3. `resample plan --tiles 2 2 --slurm`: run once by make (recipes/tiles.mk), then as a job
#     array (one task per tile) and a combine job held by afterok, submitted to a one-node
#     Slurm started here (scripts/slurm-local.sh);
#  4. wait for the combine job with a deadline, compare every plane with the reference
#     (≤ 1e-6 of its peak, NaNs in the same places), stop the daemons whatever happened.
# Usage: scripts/cluster-test.sh PATH/TO/astrotool [WORKDIR]   (as root; WORKDIR default a temp dir,
# removed when the test passes)
set -euo pipefail
AT="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
W="${2:-}"
[ -n "$W" ] || { W="$(mktemp -d /tmp/astrotool-cluster.XXXXXX)"; CLEAN=1; }
mkdir -p "$W"; W="$(cd "$W" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
DEADLINE="${DEADLINE:-600}"
TILES="${TILES:-2 2}"
say() { echo "cluster-test: $*"; }

# 1. Four 512² exposures, dithered, and their calibrated science frames.
"$AT" simulate night --outdir "$W/raw" --seed 11 --shape 512 512 --nsci 4 --nbias 3 --ndark 1 --nflat 3 --overwrite -q
mkdir -p "$W/cal"
for f in "$W"/raw/sci_*.fits; do
    "$AT" ccdproc process "$f" -o "$W/cal/$(basename "$f")" --oscan BIASSEC --trim TRIMSEC \
        --gain GAIN --readnoise RDNOISE --error --overwrite -q
done
say "$(ls "$W"/cal/*.fits | wc -l) calibrated frames in $W/cal"

# 2. The reference: one process.
"$AT" resample "$W"/cal/*.fits -o "$W/single.fits" --overwrite -q --units counts

# 3. The plan; first run by make (recipes/tiles.mk, one target per tile), then as Slurm jobs on
# a Slurm of our own making that is stopped on any exit.
"$AT" resample plan "$W"/cal/*.fits --units counts --tiles $TILES -o "$W/plan.json" \
    --slurm "$W/jobs" --mosaic "$W/mosaic.fits" --overwrite -q
make --no-print-directory -f "$HERE/../recipes/tiles.mk" -j 2 AT="$AT" PLAN="$W/plan.json" PARTS="$W/make-parts" \
    MOSAIC="$W/mosaic-make.fits"
# On any exit: the daemons stopped (by the pids under $W), then a temporary $W removed if it passed.
finish() {
    "$HERE/slurm-local.sh" stop "$W/slurm" || true
    if [ -n "${CLEAN:-}" ] && [ -n "${PASSED:-}" ]; then rm -rf "$W"; fi
}
trap finish EXIT
"$HERE/slurm-local.sh" start "$W/slurm"
export SLURM_CONF="$W/slurm/slurm.conf"
ids=$("$W/jobs/submit.sh")
array=$(echo "$ids" | sed -n 1p); combine=$(echo "$ids" | sed -n 2p)
[ -n "$array" ] && [ -n "$combine" ] || { say "submit.sh printed no job ids: '$ids'"; exit 1; }
say "submitted tiles as job array $array, combine as job $combine (afterok)"

# 4. Wait for the combine job; any array task failing leaves it pending forever, so look at both.
start=$(date +%s)
while :; do
    state=$(scontrol show job "$combine" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 || true)
    case "$state" in
        COMPLETED) break ;;
        FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE)
            say "combine job $combine ended $state"; exit 1 ;;
    esac
    if scontrol show job "$array" 2>/dev/null | grep -qE 'JobState=(FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY)'; then
        say "a tile task of job $array failed:"; scontrol show job "$array" | grep -E 'JobId|JobState|StdErr' >&2
        exit 1
    fi
    if [ $(( $(date +%s) - start )) -gt "$DEADLINE" ]; then
        say "no result after $DEADLINE s (combine job $combine: ${state:-unknown})"; exit 1
    fi
    sleep 1
done
say "Slurm finished in $(( $(date +%s) - start )) s: $(ls "$W"/jobs/part_*.fits | wc -l) parts combined into $W/mosaic.fits"

# Every plane of the make-built and the Slurm-built mosaics against the single run: the largest difference relative
# to the plane's peak, and the non-finite pixels in the same places.
num() { grep -o "\"$1\":[-0-9.e+a-z]*" | head -1 | cut -d: -f2; }
stats() { "$AT" ccdproc stats "$@" --no-mask --json; }
failed=0; checked=0
hdus=$("$AT" info --no-stats "$W/single.fits")
for built in mosaic-make mosaic; do
for ext in "" WHT CON ERR DQ; do
    name="${ext:+[$ext]}"
    [ -z "$ext" ] || [[ "$hdus" == *"'$ext'"* ]] || continue
    ref=$(stats "$W/single.fits$name"); got=$(stats "$W/$built.fits$name")
    diff=$(stats "$W/$built.fits$name" --minus "$W/single.fits$name")
    peak=$(awk -v a="$(echo "$ref" | num min)" -v b="$(echo "$ref" | num max)" 'BEGIN { a = a < 0 ? -a : a; b = b < 0 ? -b : b; print (a > b ? a : b) }')
    worst=$(awk -v a="$(echo "$diff" | num min)" -v b="$(echo "$diff" | num max)" 'BEGIN { a = a < 0 ? -a : a; b = b < 0 ? -b : b; print (a > b ? a : b) }')
    nref=$(echo "$ref" | num nonFinite); ngot=$(echo "$got" | num nonFinite); ndiff=$(echo "$diff" | num nonFinite)
    verdict=$(awk -v w="$worst" -v p="$peak" 'BEGIN { print (w <= 1e-6 * p ? "ok" : "DIFFERENT") }')
    [ "$nref" = "$ngot" ] && [ "$nref" = "$ndiff" ] || verdict="DIFFERENT (non-finite pixels $ngot vs $nref)"
    say "$built.fits ${ext:-SCI}: max |difference| $worst (peak $peak): $verdict"
    [ "$verdict" = ok ] || failed=1
    checked=$((checked + 1))
done
done
[ "$checked" = 10 ] || { say "only $checked of 2 x 5 planes (SCI, WHT, CON, ERR, DQ) compared"; exit 1; }
[ "$failed" = 0 ] || exit 1
PASSED=1
say "passed: the make-built and the Slurm-built mosaics ($TILES tiles) equal the single-process one"
