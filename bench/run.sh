#!/usr/bin/env bash
# make bench: sets up bench/.venv with the anchor tools on first use, then runs bench/bench.py.
# Usage: bench/run.sh PATH/TO/astrotool [CASE...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; shift
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    echo "bench: creating $venv (astropy, numpy, ccdproc)" >&2
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import ccdproc, astroscrappy, drizzle" 2>/dev/null; then
    "$venv/bin/pip" install -q --disable-pip-version-check astropy numpy ccdproc==2.5.1 astroscrappy==1.3.0 drizzle
fi
# Siril is the fast C stacker the combine cases race; Debian packages it.
case "${1:-all}" in all|combine-siril)
    if ! command -v siril-cli >/dev/null && [ "$(id -u)" = 0 ]; then apt-get install -y -q siril >&2; fi ;;
esac
case "${1:-all}" in all|resample-swarp)
    if ! command -v SWarp >/dev/null && [ "$(id -u)" = 0 ]; then apt-get install -y -q swarp >&2; fi ;;
esac
# stcal pins a drizzle that conflicts with the one above: the skymatch case gets its own venv.
case "${1:-all}" in all|skymatch)
    if ! "$here/.venv-stcal/bin/python" -c "import stcal.skymatch" 2>/dev/null; then
        echo "bench: creating $here/.venv-stcal (stcal 1.20.0 for skymatch)" >&2
        python3 -m venv "$here/.venv-stcal"
        "$here/.venv-stcal/bin/pip" install -q --disable-pip-version-check stcal==1.20.0 astropy
    fi ;;
esac
# spalipy and astroalign pin their own numpy/scipy/sep: the align case gets its own venv too.
case "${1:-all}" in all|align)
    if ! "$here/.venv-align/bin/python" -c "import spalipy, astroalign, astropy, scipy" 2>/dev/null; then
        echo "bench: creating $here/.venv-align (spalipy, astroalign for align)" >&2
        python3 -m venv "$here/.venv-align"
        "$here/.venv-align/bin/pip" install -q --disable-pip-version-check spalipy==3.5.5 astroalign==2.6.2 astropy scipy
    fi ;;
esac
# The chain case races the whole Python stack: stcal (with the drizzle it pins), ccdproc, astroscrappy.
case "${1:-all}" in all|chain|chain-large)
    if ! "$here/.venv-chain/bin/python" -c "import stcal.skymatch, ccdproc, astroscrappy, drizzle" 2>/dev/null; then
        echo "bench: creating $here/.venv-chain (stcal 1.20.0, ccdproc, astroscrappy for chain)" >&2
        python3 -m venv "$here/.venv-chain"
        "$here/.venv-chain/bin/pip" install -q --disable-pip-version-check stcal==1.20.0 astropy ccdproc==2.5.1 astroscrappy==1.3.0
    fi ;;
esac
exec "$venv/bin/python" "$here/bench.py" --tool "$tool" --out "$here/out" "$@"
