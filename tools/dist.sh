#!/usr/bin/env bash
# tools/dist.sh [OUTDIR] - the release tarball OUTDIR/wt-<version>.tar.gz
# (OUTDIR defaults to build/), <version> being WT_VERSION in wt.h.
#
# It holds the repository's files under wt-<version>/: wt.h and src/, the
# examples, the tests, tools/deps.sh, the Makefile, CMakeLists.txt,
# meson.build and CHANGELOG.md. Inside a git checkout the files are the ones
# git tracks (as they are in the work tree); elsewhere, e.g. in an unpacked
# release, every file except build output. Every entry gets the same owner
# and time (SOURCE_DATE_EPOCH, else the last commit's), so the same tree
# gives the same tarball, and make does not try to regenerate wt.h from
# src/ after unpacking. Refuses a CHANGELOG.md without a "## <version>"
# section.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-build}
die() { printf 'dist: error: %s\n' "$*" >&2; exit 1; }

version=$(sed -n 's/^#define WT_VERSION "\([^"]*\)"$/\1/p' "$here/wt.h")
[ -n "$version" ] || die "no WT_VERSION in wt.h"
grep -qE "^## \[?$(printf '%s' "$version" | sed 's/\./\\./g')\]?( |$)" "$here/CHANGELOG.md" ||
  die "CHANGELOG.md has no \"## $version\" section"

mkdir -p "$out"
out=$(cd "$out" && pwd)
name="wt-$version"
list=$(mktemp)
trap 'rm -f "$list" "$out/$name.tar.gz.part"' EXIT

cd "$here"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z >"$list"
  epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
else
  find . -type f ! -path './build/*' ! -path '*/node_modules/*' ! -name '*.o' ! -name '*.crt' ! -name '*.key' \
    -printf '%P\0' >"$list"
  epoch=${SOURCE_DATE_EPOCH:-$(stat -c %Y wt.h)}
fi
for f in wt.h CHANGELOG.md tools/deps.sh Makefile; do
  grep -qzx -- "$f" "$list" || die "$f is not among the files to package"
done

tar --null -T "$list" --transform "flags=r;s,^,$name/," --sort=name --owner=0 --group=0 --numeric-owner \
  --mtime="@$epoch" --mode='u+rwX,go+rX,go-w' -cf - | gzip -9n >"$out/$name.tar.gz.part"
mv "$out/$name.tar.gz.part" "$out/$name.tar.gz"
echo "dist: $out/$name.tar.gz ($(tr -cd '\0' <"$list" | wc -c) files)"
