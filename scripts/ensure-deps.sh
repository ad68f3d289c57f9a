#!/usr/bin/env bash
# Makes sure the C libraries astrotool links against are installed.
# As root on Debian/Ubuntu it installs what is missing with apt-get; otherwise it names the
# missing packages and fails, so `make` never dies later with a cryptic compiler error.
# Arguments name extra commands a target needs (`scripts/ensure-deps.sh man` for make install-test).
set -euo pipefail

declare -A pkgconfig_to_apt=([cfitsio]=libcfitsio-dev [wcslib]=wcslib-dev [libpng]=libpng-dev [zlib]=zlib1g-dev)
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
for pc in "${!pkgconfig_to_apt[@]}"; do
    if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists "$pc"; then
        missing+=("${pkgconfig_to_apt[$pc]}")
    fi
done
declare -A command_to_apt=([man]=man-db [slurmctld]=slurm-wlm [slurmd]=slurm-wlm [sbatch]=slurm-wlm [munged]=munge)
for cmd in "$@"; do
    pkg="${command_to_apt[$cmd]:-$cmd}"
    command -v "$cmd" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "astrotool: installing missing packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    exit 0
fi
echo "astrotool: missing system packages: ${missing[*]}" >&2
echo "  install them with: sudo apt-get install ${missing[*]}" >&2
exit 1
