#!/usr/bin/env bash
# Writes astrotool's man pages (section 1: astrotool.1 and one per subcommand, astrotool.info.1,
# astrotool.ccdproc.process.1, ...) into OUTDIR, generated from the same help text the binary
# prints by swift-argument-parser's `generate-manual` tool (what its GenerateManual plugin runs).
# The tool is built with the flags `make build` used and run on the release binary itself: the
# plugin would rebuild the package without `--static-swift-stdlib` and relink the binary.
# Needs no network once the dependencies are resolved under .build.
# Usage: scripts/manpages.sh OUTDIR        (SWIFT=... to choose the swift driver; SWIFT_BUILD_FLAGS=...
# the flags `make build` used)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd -P)"
out="$1"
SWIFT="${SWIFT:-swift}"
cd "$root"

# The pages' date: the commit's date in a git checkout (the same tree gives the same pages),
# else today.
date="$(git log -1 --format=%cs 2>/dev/null)" || date=""
if [ -z "$date" ] || [ "$(git rev-parse --show-toplevel 2>/dev/null)" != "$root" ]; then
    date="$(date +%Y-%m-%d)"
fi

mkdir -p .build
log="$(mktemp .build/manpages-log.XXXXXX)"
# shellcheck disable=SC2086 # the flags are words
if ! "$SWIFT" build -c release ${SWIFT_BUILD_FLAGS:-} --product generate-manual >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "astrotool: building swift-argument-parser's generate-manual failed" >&2
    exit 1
fi
rm -f "$log"
bin="$("$SWIFT" build -c release ${SWIFT_BUILD_FLAGS:-} --show-bin-path)"
work="$(mktemp -d .build/manpages-work.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$bin/generate-manual" "$bin/astrotool" --output-directory "$work" --multi-page --date "$date" >/dev/null
if [ ! -f "$work/astrotool.1" ]; then
    echo "astrotool: generate-manual wrote no astrotool.1" >&2
    exit 1
fi
rm -rf "$out"
mkdir -p "$out"
cp "$work"/astrotool*.1 "$out"/
echo "man pages: $(ls "$out" | wc -l) in $out"
