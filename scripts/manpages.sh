#!/usr/bin/env bash
# Writes astrotool's man pages (section 1: astrotool.1 and one per subcommand, astrotool.info.1,
# astrotool.ccdproc.process.1, ...) into OUTDIR, generated from the same help text the binary
# prints by swift-argument-parser's GenerateManual plugin (`swift package plugin
# generate-manual`), which builds the package in release mode first (a no-op after `make`) and
# needs no network once the dependencies are resolved under .build.
# Usage: scripts/manpages.sh OUTDIR        (SWIFT=... to choose the swift driver; SWIFT_BUILD_FLAGS=...
# the flags `make build` used, so the plugin's release build is the same no-op)
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

# The plugin writes into its own work folder under .build: clear pages of earlier runs there (a
# subcommand may have gone), run it, and take the pages it wrote.
mkdir -p .build
find .build/plugins -type f -name 'astrotool*.1' -delete 2>/dev/null || true
log="$(mktemp .build/manpages-log.XXXXXX)"
# shellcheck disable=SC2086 # the flags are words
if ! "$SWIFT" package ${SWIFT_BUILD_FLAGS:-} plugin generate-manual --multi-page --date "$date" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "astrotool: generating the man pages failed (swift package plugin generate-manual)" >&2
    exit 1
fi
rm -f "$log"
page="$(find .build/plugins -type f -name astrotool.1 2>/dev/null | head -n 1)"
if [ -z "$page" ]; then
    echo "astrotool: the GenerateManual plugin wrote no astrotool.1 under .build/plugins" >&2
    exit 1
fi
rm -rf "$out"
mkdir -p "$out"
cp "$(dirname "$page")"/astrotool*.1 "$out"/
echo "man pages: $(ls "$out" | wc -l) in $out"
