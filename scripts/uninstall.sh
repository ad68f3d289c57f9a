#!/usr/bin/env bash
# make uninstall: removes what `make install` recorded in ROOT/share/astrotool/install-manifest
# (ROOT = $(DESTDIR)$(PREFIX)): the files it lists, the manifest, then the folders that install
# created, deepest first and only when empty, so the prefix is left as it was found.
# Usage: scripts/uninstall.sh ROOT
set -euo pipefail
root="$1"
[ -n "$root" ] || { echo "astrotool: uninstall: empty PREFIX" >&2; exit 64; }
manifest="$root/share/astrotool/install-manifest"
if [ ! -f "$manifest" ]; then
    echo "astrotool: uninstall: nothing to do, no $manifest (astrotool is not installed there)" >&2
    exit 0
fi

files=() dirs=()
while read -r kind path; do
    case "$kind" in "#"*|"") continue ;; esac
    # Only plain paths inside ROOT: no absolute paths, no "..".
    case "/$path/" in *"/../"*) echo "astrotool: uninstall: skipping '$path' (outside the prefix)" >&2; continue ;; esac
    case "$path" in /*) echo "astrotool: uninstall: skipping '$path' (absolute)" >&2; continue ;; esac
    case "$kind" in
        file) files+=("$path") ;;
        dir) dirs+=("$path") ;;
        *) echo "astrotool: uninstall: $manifest: unknown entry '$kind $path'" >&2; exit 65 ;;
    esac
done < "$manifest"

removed=0
for f in ${files[@]+"${files[@]}"}; do
    if [ -e "$root/$f" ] || [ -L "$root/$f" ]; then rm -f "$root/$f"; removed=$((removed + 1)); fi
done
rm -f "$manifest"

# Folders deepest first ("." = ROOT itself last); rmdir leaves any that hold other files.
if [ ${#dirs[@]} -gt 0 ]; then
    while read -r _ d; do
        if [ "$d" = . ]; then target="$root"; else target="$root/$d"; fi
        rmdir "$target" 2>/dev/null || true
    done < <(for d in "${dirs[@]}"; do
                 if [ "$d" = . ]; then echo "0 ."; else echo "$(( $(tr -cd / <<<"$d" | wc -c) + 1 )) $d"; fi
             done | sort -u | sort -k1,1nr)
fi
echo "uninstalled astrotool from $root: $removed files"
