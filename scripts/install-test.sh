#!/usr/bin/env bash
# make install-test: `make install` into a temporary prefix, then use what it installed the way a
# user would (the binary's --version, the man pages of astrotool and of `info` through man -M,
# the bash completion through `complete -p`), `make uninstall`, and check the prefix is empty
# again. Then the same with DESTDIR (a packager's staged install) and a second install over the
# first. Needs `man` (man-db; `make install-test` installs it when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
MAKE="${MAKE:-make}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/astrotool-install-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install-test: FAIL: $*" >&2; exit 1; }
sub_make() { "$MAKE" --no-print-directory DESTDIR= "$@"; }

prefix="$tmp/prefix"
mkdir "$prefix"
sub_make install PREFIX="$prefix"

# The binary: a machine-friendly first line, then commit and C library versions.
version="$(cd "$tmp" && "$prefix/bin/astrotool" --version)"
echo "$version" | sed 's/^/install-test: --version: /'
echo "$version" | head -n 1 | grep -Eq '^astrotool [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version's first line"
for key in commit cfitsio wcslib; do
    echo "$version" | grep -Eq "^$key [^ ]+" || fail "--version has no '$key' line"
done

# Man pages, as man finds them.
for page in astrotool astrotool.info; do
    text="$(MANWIDTH=80 man -M "$prefix/share/man" -P cat "$page" 2>&1)" || fail "man $page: $text"
    grep -q 'SYNOPSIS' <<<"$text" || fail "man $page has no SYNOPSIS: $text"
    grep -qF "$(tr a-z A-Z <<<"$page")(1)" <<<"$text" || fail "man $page: no $page(1) title"
    echo "install-test: man $page: $(wc -l <<<"$text") lines"
done
grep -q 'astrotool info' <<<"$(MANWIDTH=80 man -M "$prefix/share/man" -P cat astrotool.info)" \
    || fail "man astrotool.info shows no 'astrotool info' usage"

# Completions.
spec="$(bash -c 'source "$1/share/bash-completion/completions/astrotool" && complete -p astrotool' _ "$prefix")" \
    || fail "bash completion not registered"
echo "install-test: bash: $spec"
[ -s "$prefix/share/zsh/site-functions/_astrotool" ] || fail "no zsh completion"
[ -s "$prefix/share/fish/vendor_completions.d/astrotool.fish" ] || fail "no fish completion"
if command -v zsh >/dev/null 2>&1; then zsh -n "$prefix/share/zsh/site-functions/_astrotool" || fail "zsh completion: syntax"; fi
if command -v fish >/dev/null 2>&1; then fish -n "$prefix/share/fish/vendor_completions.d/astrotool.fish" || fail "fish completion: syntax"; fi
[ -s "$prefix/share/astrotool/recipes/night.mk" ] || fail "no recipes"

# A second install over the first, then uninstall: the prefix is as it was, empty.
sub_make install PREFIX="$prefix" >/dev/null
sub_make uninstall PREFIX="$prefix"
left="$(cd "$prefix" && find . -mindepth 1)"
[ -z "$left" ] || fail "left in the prefix after uninstall: $left"
[ -d "$prefix" ] || fail "uninstall removed the prefix, which existed before install"

# A staged install (DESTDIR): everything under DESTDIR/PREFIX, nothing left after uninstall.
stage="$tmp/stage"
"$MAKE" --no-print-directory install DESTDIR="$stage" PREFIX=/usr/local >/dev/null
[ -x "$stage/usr/local/bin/astrotool" ] || fail "DESTDIR: no $stage/usr/local/bin/astrotool"
[ -f "$stage/usr/local/share/man/man1/astrotool.info.1" ] || fail "DESTDIR: no astrotool.info.1"
"$MAKE" --no-print-directory uninstall DESTDIR="$stage" PREFIX=/usr/local >/dev/null
[ ! -e "$stage/usr/local" ] || fail "DESTDIR: left after uninstall: $(find "$stage/usr/local")"

echo "install-test: OK (install, man, completion, reinstall, uninstall, DESTDIR)"
