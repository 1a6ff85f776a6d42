#!/usr/bin/env bash
# The dependency script must refuse a file whose sha256 is wrong, name it,
# and leave nothing a later run would trust. Uses a scratch cache seeded with
# the already verified wolfSSL and ngtcp2 tarballs, so only the small nghttp3
# tarball is downloaded. Last line: "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
real_cache="${WT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wt.h}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   deps: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL deps: $1"; }
mkdir -p "$scratch/cache/dl" "$scratch/tree/tools"
cp "$here/tools/deps.sh" "$here/tools/apt-install.sh" "$scratch/tree/tools/"
cp -r "$here/tools/patches" "$scratch/tree/tools/"
for f in "$real_cache"/dl/wolfssl_5.9.2.orig.tar.gz "$real_cache"/dl/ngtcp2_1.24.0.orig.tar.xz; do
  [ -f "$f" ] && cp "$f" "$scratch/cache/dl/"
done
out=$(cd "$scratch/tree" && WT_CACHE_DIR="$scratch/cache" WT_DEPS=build WT_DEPS_PRIMARY_ONLY=1 \
  WT_DEPS_SHA256_nghttp3_1_15_0_orig_tar_xz=0000000000000000000000000000000000000000000000000000000000000000 \
  bash tools/deps.sh 2>&1); rc=$?
[ "$rc" -ne 0 ] && ok "a wrong sha256 fails the step" || bad "a wrong sha256 fails the step (exit 0)"
grep -q "sha256 mismatch for nghttp3_1.15.0.orig.tar.xz" <<<"$out" && ok "the message names the file" ||
  { bad "the message names the file"; printf '%s\n' "$out" | tail -n 5 | sed 's/^/     /'; }
stamps=$(find "$scratch/cache" -name .wt-deps-ok | wc -l)
[ "$stamps" -eq 0 ] && ok "no prefix a later run would trust" || bad "a trusted prefix was left behind"
[ ! -e "$scratch/cache/dl/nghttp3_1.15.0.orig.tar.xz" ] && [ -z "$(find "$scratch/cache" -name '*.part*')" ] &&
  ok "no partial or unverified download kept" || bad "an unverified download was kept"
[ ! -e "$scratch/tree/build/deps/cflags" ] && ok "no build flags written" || bad "build flags were written"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
