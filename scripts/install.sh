#!/usr/bin/env bash
# make install: copies astrotool into ROOT (= $(DESTDIR)$(PREFIX)) and records what it wrote in
# ROOT/share/astrotool/install-manifest, which `make uninstall` (scripts/uninstall.sh) follows.
#   bin/astrotool                                  the release binary
#   share/man/man1/astrotool*.1                    man pages (scripts/manpages.sh)
#   share/bash-completion/completions/astrotool    completion scripts, from
#   share/zsh/site-functions/_astrotool              `astrotool --generate-completion-script`
#   share/fish/vendor_completions.d/astrotool.fish
#   share/astrotool/recipes/*.mk                   the make recipes (recipes/)
# The manifest lists the files (`file PATH`) and the folders this install created (`dir PATH`),
# relative to ROOT; installing again over an earlier install keeps that install's folders and
# removes its files that are no longer part of astrotool.
# Usage: scripts/install.sh TOOL MANPAGES_DIR ROOT
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd -P)"
tool="$1"; mandir="$2"; root="$3"
[ -n "$root" ] || { echo "astrotool: install: empty PREFIX" >&2; exit 64; }
[ -x "$tool" ] || { echo "astrotool: install: $tool is not built" >&2; exit 66; }
ls "$mandir"/astrotool*.1 >/dev/null 2>&1 || { echo "astrotool: install: no man pages in $mandir" >&2; exit 66; }
manifest_rel=share/astrotool/install-manifest

stage="$(mktemp -d "${TMPDIR:-/tmp}/astrotool-install.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

# Earlier install: its folders stay ours; its files are compared with this install's below.
old_files=() dirs=()
if [ -f "$root/$manifest_rel" ]; then
    while read -r kind path; do
        case "$kind" in
            file) old_files+=("$path") ;;
            dir) dirs+=("$path") ;;
        esac
    done < "$root/$manifest_rel"
fi

# mkdir -p that records each folder it creates inside ROOT (ROOT itself as ".").
if [ ! -d "$root" ]; then
    mkdir -p "$root"
    dirs+=(.)
fi
root="$(cd "$root" && pwd)"
makedir() {
    local rel="" part
    local IFS=/
    for part in $1; do
        rel="${rel:+$rel/}$part"
        if [ ! -d "$root/$rel" ]; then
            install -d -m 0755 "$root/$rel"
            dirs+=("$rel")
        fi
    done
}

files=()
put() {   # put MODE SOURCE RELATIVE-DESTINATION
    makedir "$(dirname "$3")"
    install -m "$1" "$2" "$root/$3"
    files+=("$3")
}

# Completion scripts first: they come from the binary, so a broken one fails before anything is
# copied.
for shell in bash zsh fish; do
    "$tool" --generate-completion-script "$shell" > "$stage/$shell"
    [ -s "$stage/$shell" ] || { echo "astrotool: install: empty $shell completion script" >&2; exit 70; }
done

put 0755 "$tool" bin/astrotool
for page in "$mandir"/astrotool*.1; do
    put 0644 "$page" "share/man/man1/$(basename "$page")"
done
put 0644 "$stage/bash" share/bash-completion/completions/astrotool
put 0644 "$stage/zsh" share/zsh/site-functions/_astrotool
put 0644 "$stage/fish" share/fish/vendor_completions.d/astrotool.fish
for recipe in "$src"/recipes/*.mk; do
    put 0644 "$recipe" "share/astrotool/recipes/$(basename "$recipe")"
done

# Files an earlier install put there that this one does not (a subcommand that went away).
for old in ${old_files[@]+"${old_files[@]}"}; do
    keep=no
    for new in "${files[@]}"; do [ "$old" = "$new" ] && { keep=yes; break; }; done
    [ "$keep" = yes ] || rm -f "$root/$old"
done

makedir "$(dirname "$manifest_rel")"
{
    echo "# astrotool install manifest: what \`make install\` wrote under $root; \`make uninstall\` removes it."
    for f in "${files[@]}"; do echo "file $f"; done
    for d in ${dirs[@]+"${dirs[@]}"}; do echo "dir $d"; done
} > "$stage/manifest"
install -m 0644 "$stage/manifest" "$root/$manifest_rel"
echo "installed astrotool under $root: ${#files[@]} files (manifest: $manifest_rel)"
