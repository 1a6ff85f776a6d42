#!/usr/bin/env bash
# tools/deps.sh - make wolfSSL (with QUIC), ngtcp2 (wolfSSL crypto) and nghttp3
# available to wt.h, on a fresh Debian 12 machine or with libraries you have.
#
# Writes build/deps/{cflags,libs,prefix,versions} for the Makefile (or into
# $WT_DEPS_OUT: the CMake and Meson builds keep them in their build directory),
# and libs_unpatched when it built the libraries itself (below).
#
# ngtcp2's wolfSSL crypto glue is built with tools/patches/ngtcp2-wolfssl-hkdf.patch
# (HKDF through wolfCrypt's wc_HKDF_*: no random-number generator set up per key
# derivation). The glue from the pristine sources is kept beside it as
# libngtcp2_crypto_wolfssl_unpatched.a (libs_unpatched links it) for
# build/bench/handshake_raw_unpatched and the interoperability test.
#
# Environment:
#   WT_DEPS=auto     (default) use pkg-config libraries if all three are there and
#                    wolfSSL has QUIC, else build from Debian's source tarballs
#   WT_DEPS=system   only pkg-config libraries (PKG_CONFIG_PATH selects them); fail otherwise
#   WT_DEPS=build    always build into the cache
#   WT_CACHE_DIR     cache root (default: ${XDG_CACHE_HOME:-~/.cache}/wt.h)
#   WT_DEPS_SHA256_<file>  override an expected sha256; <file> is the file name with
#                    every character outside [A-Za-z0-9] turned into '_'
#                    (e.g. WT_DEPS_SHA256_wolfssl_5_9_2_orig_tar_gz)
#   WT_DEPS_PRIMARY_ONLY=1  never fall back to the older version set
#   WT_DEPS_OUT      where to write cflags/libs/prefix/versions (default: build/deps)
#
# Built libraries get tools/patches/<name>-<version>-memory.patch where one
# exists for that version: small changes that cut the heap an idle
# connection holds (README "Embedding"), part of the cache key. ngtcp2 1.24
# also gets tools/patches/ngtcp2-1.24.0-pacing.patch (CUBIC's pacing rate
# for an app-limited sender; see the patch).
#
#   WT_DEPS_TARGET   cross-build for this GNU triplet (aarch64-linux-gnu,
#                    s390x-linux-gnu, ...) with Debian's <triplet>-gcc (WT_DEPS_CC
#                    overrides it; the cross gcc is installed if it is a Debian
#                    package): --host for the three autotools builds, always built
#                    (never pkg-config), its own cache key. `make cross-test` uses it.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out_dir="${WT_DEPS_OUT:-$here/build/deps}"
cache="${WT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wt.h}"
mode="${WT_DEPS:-auto}"
jobs=$(nproc 2>/dev/null || echo 2)
target="${WT_DEPS_TARGET:-}"
if [ -n "$target" ]; then
  # A cross build: the host's pkg-config libraries are for the wrong machine.
  mode=build
  CC="${WT_DEPS_CC:-$target-gcc}"
fi

say() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

# Bump when a flag or step below changes: it is part of the cache key.
RECIPE=10

# name|version|file|pool dir|sha256|kind  (first line of each name = primary)
SOURCES='
wolfssl|5.9.2|wolfssl_5.9.2.orig.tar.gz|pool/main/w/wolfssl|2f4ef3d4fd387a9b3191d36a6316d69116c46ff69bb9583b6c82b36d7b8ca114|src
wolfssl|5.7.2|wolfssl_5.7.2.orig.tar.gz|pool/main/w/wolfssl|0f2ed82e345b833242705bbc4b08a2a2037a33f7bf9c610efae6464f6b10e305|src
ngtcp2|1.24.0|ngtcp2_1.24.0.orig.tar.xz|pool/main/n/ngtcp2|7fa5ec2be0f0cbed8bc4ec89c0787dfa9d8ce678f1ed9477c52f30eb1a591207|src
ngtcp2|1.11.0|ngtcp2_1.11.0.orig.tar.xz|pool/main/n/ngtcp2|382c15bf66b630f26021631b25b7eb1feac42c67c1d6826189d61091dfaa4d09|src
nghttp3|1.15.0|nghttp3_1.15.0.orig.tar.xz|pool/main/n/nghttp3|6da0cd06b428d32a54c58137838505d9dc0371a900bb8070a46b29e1ceaf2e0f|src
nghttp3|1.8.0|libnghttp3-dev_1.8.0-1~bpo12+1_amd64.deb|pool/main/n/nghttp3|3fa28e0bdd320d5de2eca8c89215a985d23e03f3c230436f2eeab6cd303f5e02|deb
'

# A file is rewritten only when its content changes: the Makefile relinks
# what lists build/deps/libs when its time changes, i.e. after another
# build of the libraries, not on every make.
put_out() { # file content
  local f="$out_dir/$1" old="$out_dir/$1"
  [ -f "$f.old" ] && old="$f.old"
  printf '%s\n' "$2" >"$f.tmp"
  if cmp -s "$f.tmp" "$old"; then
    rm -f "$f.tmp"
    [ "$old" = "$f" ] || mv -f "$old" "$f"
  else
    mv -f "$f.tmp" "$f"
  fi
  rm -f "$f.old"
}
write_out() { # cflags libs prefix versions [libs_unpatched]
  mkdir -p "$out_dir"
  if [ -n "${5:-}" ]; then put_out libs_unpatched "$5"; else rm -f "$out_dir/libs_unpatched"; fi
  put_out cflags "$1"
  put_out prefix "$3"
  put_out versions "$4"
  put_out libs "$2" # last: the one the Makefile watches
}

# ---------------------------------------------------------------- system libs
try_system() {
  command -v pkg-config >/dev/null 2>&1 || return 1
  local pcs="libngtcp2_crypto_wolfssl libngtcp2 libnghttp3 wolfssl"
  pkg-config --exists $pcs 2>/dev/null || return 1
  local cf libs
  cf=$(pkg-config --cflags $pcs)
  libs=$(pkg-config --libs --static $pcs)
  # Debian's own libwolfssl has no QUIC: check before trusting it.
  local t; t=$(mktemp -d)
  printf '#include <wolfssl/options.h>\n#include <wolfssl/ssl.h>\n#ifndef WOLFSSL_QUIC\n#error no QUIC\n#endif\nint main(void){return 0;}\n' >"$t/q.c"
  if ! ${CC:-cc} $cf "$t/q.c" -o "$t/q" $libs >/dev/null 2>&1; then
    rm -rf "$t"; return 1
  fi
  rm -rf "$t"
  write_out "$cf" "$libs -lm" "system" "system: $(pkg-config --modversion $pcs | tr '\n' ' ')"
  say "using system libraries found by pkg-config"
}

if [ "$mode" != build ]; then
  if try_system; then exit 0; fi
  [ "$mode" = system ] && die "WT_DEPS=system but pkg-config does not find libngtcp2_crypto_wolfssl, libngtcp2, libnghttp3 and a wolfssl built with QUIC (set PKG_CONFIG_PATH)"
fi

# ---------------------------------------------------------------- build tools
# (waits for another apt or dpkg run instead of failing)
bash "$here/tools/apt-install.sh" build-essential pkg-config autoconf automake libtool xz-utils ca-certificates patch \
  || die "installing the build tools failed"
if [ -n "$target" ] && ! command -v "$CC" >/dev/null 2>&1; then
  # Debian names: gcc-aarch64-linux-gnu + libc6-dev-arm64-cross, gcc-s390x-linux-gnu + libc6-dev-s390x-cross
  case "$target" in aarch64-*) darch=arm64 ;; x86_64-*) darch=amd64 ;; powerpc64le-*) darch=ppc64el ;;
    arm-*hf) darch=armhf ;; *) darch=${target%%-*} ;; esac
  bash "$here/tools/apt-install.sh" "gcc-$target" "libc6-dev-$darch-cross" \
    || die "installing the cross compiler for $target failed"
fi

# ---------------------------------------------------------------- downloads
# The archive's address comes from this machine's apt configuration.
mirrors() {
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk 'BEGIN{RS="";FS="\n"} {u="";s="";for(i=1;i<=NF;i++){if($i~/^URIs:/)u=$i;if($i~/^Suites:/)s=$i}
           if(u!="" && s!~/-security/){sub(/^URIs:[ \t]*/,"",u);n=split(u,a,/[ \t]+/);for(j=1;j<=n;j++)print a[j]}}' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      awk '$1=="deb"||$1=="deb-src"{for(i=2;i<=NF;i++) if($i ~ /^[a-z]+:\/\//){ if($(i+1) !~ /-security/) print $i; break}}' "$f"
    done
  } | grep -E '/debian/?$' | sed 's:/*$::' | awk '!seen[$0]++'
}

sha_for() { # file default
  local var="WT_DEPS_SHA256_$(printf '%s' "$1" | tr -c 'A-Za-z0-9' '_')"
  printf '%s' "${!var:-$2}"
}

dl_dir="$cache/dl"
mkdir -p "$dl_dir"
# Aside, not kept: a run that fails leaves none (a build must not go on with
# old ones); write_out puts them back, time and all, when they come out the same.
for f in cflags libs; do if [ -f "$out_dir/$f" ]; then mv -f "$out_dir/$f" "$out_dir/$f.old"; fi; done
# One run at a time per cache (parallel makes, CI beside a developer).
exec 9>"$cache/.lock"
flock 9
tried=""

# fetch FILE POOLDIR SHA -> 0 ok (file in $dl_dir), 2 missing everywhere, dies on bad hash
fetch() {
  local file=$1 pool=$2 sha=$3 dest="$dl_dir/$1"
  if [ -f "$dest" ]; then
    if [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$sha" ]; then return 0; fi
    say "cached $file does not match sha256 $sha; fetching again"
    rm -f "$dest"
  fi
  local enc m url tmp
  enc=$(printf '%s' "$file" | sed 's/~/%7e/g; s/+/%2b/g')
  tmp="$dest.part.$$"
  local mlist; mlist=$(mirrors)
  [ -n "$mlist" ] || die "no Debian archive found in /etc/apt/sources.list{,.d} to download $file from"
  for m in $mlist; do
    url="$m/$pool/$enc"
    tried="$tried\n  $url"
    rm -f "$tmp"
    if /usr/lib/apt/apt-helper download-file "$url" "$tmp" >"$tmp.log" 2>&1; then
      local got; got=$(sha256sum "$tmp" | cut -d' ' -f1)
      if [ "$got" != "$sha" ]; then
        rm -f "$tmp" "$tmp.log"
        die "sha256 mismatch for $file from $url: expected $sha, got $got (nothing was installed)"
      fi
      mv "$tmp" "$dest"; rm -f "$tmp.log"
      return 0
    fi
    rm -f "$tmp" "$tmp.log"
  done
  return 2
}

# resolve NAME -> sets R_VER R_FILE R_KIND; primary first, then fallback
resolve() {
  local name=$1 line ver file pool sha kind first=1
  while IFS='|' read -r n ver file pool sha kind; do
    [ "$n" = "$name" ] || continue
    if [ $first -eq 0 ] && [ "${WT_DEPS_PRIMARY_ONLY:-0}" = 1 ]; then break; fi
    sha=$(sha_for "$file" "$sha")
    if fetch "$file" "$pool" "$sha"; then
      R_VER=$ver; R_FILE=$file; R_KIND=$kind
      [ $first -eq 1 ] || say "$name: primary version unavailable, using fallback $ver"
      return 0
    fi
    say "$name $ver: $file not found on the archive"
    first=0
  done <<<"$SOURCES"
  die "could not download any version of $name; tried:$(printf '%b' "$tried")"
}

resolve wolfssl; W_VER=$R_VER; W_FILE=$R_FILE
resolve ngtcp2;  N_VER=$R_VER; N_FILE=$R_FILE
resolve nghttp3; H_VER=$R_VER; H_FILE=$R_FILE; H_KIND=$R_KIND

arch=$(uname -m)
[ -z "$target" ] || arch=$target
wolf_flags="--enable-static --disable-shared --with-pic --enable-quic --enable-session-ticket \
--enable-certgen --enable-keygen --enable-certext --enable-harden --disable-examples \
--disable-crypttests --disable-benchmark --enable-keying-material"
# --enable-keying-material (HAVE_KEYING_MATERIAL): the TLS exporter behind
# wt_session_export_keying_material.
# HAVE_SECRET_CALLBACK: the TLS 1.3 secrets for the key log (tls_keylog, SSLKEYLOGFILE)
wolf_cppflags="-DWOLFSSL_ALT_NAMES -DWOLFSSL_IP_ALT_NAME -DHAVE_SECRET_CALLBACK"
case "$W_VER" in
  5.7.*) wolf_cppflags="$wolf_cppflags -DHAVE_AES_ECB" ;;
  *) wolf_flags="$wolf_flags --enable-aesecb" ;;
esac
# Without the assembly AES-GCM is ~35x slower and caps every transfer.
[ "$arch" = x86_64 ] && wolf_flags="$wolf_flags --enable-aesni --enable-intelasm --enable-sp --enable-sp-asm"
ngtcp2_flags="--enable-static --disable-shared --with-pic --enable-lib-only --with-wolfssl --without-openssl \
--without-gnutls --without-boringssl --without-picotls --without-libev --without-libnghttp3 --without-jemalloc"
nghttp3_flags="--enable-static --disable-shared --with-pic --enable-lib-only"
# WT_DEPS_PROFILE=small: the size profile (see "Embedding" in the README):
# wolfSSL for QUIC and TLS 1.3 only - ECDSA P-256 and X25519, AES-GCM and
# ChaCha20-Poly1305, SHA-256/384 - without TLS 1.2, RSA, DH, MD5, SHA-1,
# SHA-3, ML-KEM or the assembly; all three at -Os with function sections
# so a program's --gc-sections drops what it does not call. Its own cache
# key (the flags are part of it). Slower: AES-GCM without AES-NI.
profile="${WT_DEPS_PROFILE:-default}"
lib_cflags=""
case "$profile" in
  default) ;;
  small)
    wolf_flags="--enable-static --disable-shared --with-pic --enable-quic --enable-session-ticket \
--enable-certgen --enable-keygen --enable-certext --enable-harden --disable-examples \
--disable-crypttests --disable-benchmark --enable-keying-material --enable-aesecb \
--disable-oldtls --disable-tlsv12 --disable-rsa --disable-dh --disable-md5 --disable-sha \
--disable-sha3 --disable-shake128 --disable-shake256 --disable-mlkem --disable-sha224 \
--enable-ecc --enable-curve25519 --enable-aesgcm --enable-chacha --enable-poly1305 --enable-sha384 \
--enable-sha512 --disable-md4 --disable-des3 --disable-arc4 --disable-pwdbased --disable-pkcs12 \
--disable-errorstrings"
    lib_cflags="-Os -ffunction-sections -fdata-sections"
    ;;
  *) die "WT_DEPS_PROFILE=$profile: default or small" ;;
esac
cc_id=$(${CC:-cc} --version 2>/dev/null | head -n1)
hkdf_patch="$here/tools/patches/ngtcp2-wolfssl-hkdf.patch"
[ -f "$hkdf_patch" ] || die "missing $hkdf_patch"
patch_sum=$(sha256sum "$hkdf_patch" | cut -d' ' -f1)
# configure's --host for a cross build (empty, and so no change, otherwise)
host_flag=${target:+--host=$target}

# The memory patches for these versions (none for a fallback version)
mem_patch() { # name version: the patch's path, or nothing
  local f="$here/tools/patches/$1-$2-memory.patch"
  [ -f "$f" ] && printf '%s\n' "$f" || true
}
W_PATCH=$(mem_patch wolfssl "$W_VER"); N_PATCH=$(mem_patch ngtcp2 "$N_VER"); H_PATCH=$(mem_patch nghttp3 "$H_VER")
N_PACE="$here/tools/patches/ngtcp2-$N_VER-pacing.patch"
[ -f "$N_PACE" ] || N_PACE=""
patch_sums=$(for f in "$W_PATCH" "$N_PATCH" "$H_PATCH" "$N_PACE"; do [ -z "$f" ] || cat "$f"; done | sha256sum | cut -c1-16)
key=$(printf '%s\n' "$RECIPE" "$arch" "$cc_id" "$W_FILE" "$N_FILE" "$H_FILE" "$wolf_flags" "$wolf_cppflags" \
  "$ngtcp2_flags" "$nghttp3_flags" "$patch_sum" "$patch_sums" $lib_cflags | sha256sum | cut -c1-16)
versions="wolfssl $W_VER, ngtcp2 $N_VER, nghttp3 $H_VER"
prefix="$cache/deps/$key"
libs="-L$prefix/lib -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm"
libs_unpatched="-L$prefix/lib -lngtcp2_crypto_wolfssl_unpatched -lngtcp2 -lnghttp3 -lwolfssl -lm"

# A prefix is trusted only when its stamp exists: the stamp is written last,
# and the directory appears by an atomic rename of a finished build.
if [ -f "$prefix/.wt-deps-ok" ]; then
  write_out "-I$prefix/include" "$libs" "$prefix" "$(cat "$prefix/.wt-deps-ok")" "$libs_unpatched"
  say "cached: $(cat "$prefix/.wt-deps-ok") in $prefix"
  exit 0
fi

say "building $versions into $prefix (one-time, ~1-2 min)"
work="$cache/work/$key.$$"
stage="$prefix.stage.$$"
rm -rf "$work" "$stage"
mkdir -p "$work"
cleanup() { rm -rf "$work" "$stage"; }
trap cleanup EXIT
log="$work/build.log"
run() { # dir description cmd...
  local d=$1 what=$2; shift 2
  if ! (cd "$d" && "$@") >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "$what failed (see the log above)"
  fi
}
apply_patch() { # dir patch-or-empty name
  [ -n "$2" ] || return 0
  say "$3: applying $(basename "$2")"
  run "$1" "$3 patch" patch -p1 --forward -i "$2"
}

tar -xf "$dl_dir/$W_FILE" -C "$work"
wdir=$(find "$work" -maxdepth 1 -type d -name 'wolfssl*' | head -n1)
apply_patch "$wdir" "$W_PATCH" "wolfSSL $W_VER"
say "wolfSSL $W_VER: autoreconf + configure + make"
[ -x "$wdir/configure" ] || run "$wdir" "wolfSSL autoreconf" autoreconf -fi
run "$wdir" "wolfSSL configure" ./configure --prefix="$stage" $host_flag ${target:+CC="$CC"} $wolf_flags CPPFLAGS="$wolf_cppflags" \
  ${lib_cflags:+CFLAGS="$lib_cflags"}
run "$wdir" "wolfSSL build" make -j"$jobs"
run "$wdir" "wolfSSL install" make install

if [ "$H_KIND" = deb ]; then
  say "nghttp3 $H_VER: unpacking the static library from $H_FILE"
  mkdir -p "$work/h3deb"
  run "$work" "nghttp3 unpack" dpkg-deb -x "$dl_dir/$H_FILE" "$work/h3deb"
  mkdir -p "$stage/include" "$stage/lib"
  cp -r "$work/h3deb/usr/include/nghttp3" "$stage/include/"
  cp "$(find "$work/h3deb" -name libnghttp3.a | head -n1)" "$stage/lib/"
else
  tar -xf "$dl_dir/$H_FILE" -C "$work"
  hdir=$(find "$work" -maxdepth 1 -type d -name 'nghttp3*' | head -n1)
  apply_patch "$hdir" "$H_PATCH" "nghttp3 $H_VER"
  say "nghttp3 $H_VER: configure + make"
  run "$hdir" "nghttp3 configure" ./configure --prefix="$stage" $host_flag ${target:+CC="$CC"} $nghttp3_flags ${lib_cflags:+CFLAGS="$lib_cflags"}
  run "$hdir" "nghttp3 build" make -j"$jobs"
  run "$hdir" "nghttp3 install" make install
fi

tar -xf "$dl_dir/$N_FILE" -C "$work"
ndir=$(find "$work" -maxdepth 1 -type d -name 'ngtcp2*' | head -n1)
# The pristine glue first, then the patch (an ngtcp2 it does not fit is
# built unpatched, and says so in versions).
mkdir -p "$work/glue_unpatched"
cp "$ndir/crypto/wolfssl/wolfssl.c" "$work/glue_unpatched/wolfssl.c"
apply_patch "$ndir" "$N_PATCH" "ngtcp2 $N_VER"
apply_patch "$ndir" "$N_PACE" "ngtcp2 $N_VER"
if (cd "$ndir" && patch -p1 --dry-run <"$hkdf_patch") >>"$log" 2>&1; then
  run "$ndir" "ngtcp2 HKDF patch" patch -p1 -i "$hkdf_patch"
  versions="$versions (HKDF patch)"
else
  say "ngtcp2 $N_VER: the HKDF patch does not apply; its wolfSSL glue stays unpatched"
fi
say "ngtcp2 $N_VER: configure + make"
run "$ndir" "ngtcp2 configure" ./configure --prefix="$stage" $host_flag ${target:+CC="$CC"} $ngtcp2_flags \
  PKG_CONFIG="pkg-config --static" PKG_CONFIG_PATH="$stage/lib/pkgconfig" \
  CPPFLAGS="-I$stage/include" LDFLAGS="-L$stage/lib" ${lib_cflags:+CFLAGS="$lib_cflags"}
run "$ndir" "ngtcp2 build" make -j"$jobs"
run "$ndir" "ngtcp2 install" make install
# The glue again from the pristine sources, with the flags ngtcp2's build used
# (its config.h, CFLAGS as configured): wolfssl.c and shared.c, nothing else.
say "ngtcp2 $N_VER: the unpatched wolfSSL glue"
read -ra glue_cc <<<"${CC:-cc} ${lib_cflags:--g -O2}" # CC may be "ccache gcc"
glue_cc+=(-fPIC -DHAVE_CONFIG_H -DBUILDING_NGTCP2 "-I$ndir" "-I$ndir/lib/includes" "-I$ndir/lib"
  "-I$ndir/crypto/includes" "-I$ndir/crypto" "-I$stage/include")
run "$work/glue_unpatched" "unpatched glue (wolfssl.c)" "${glue_cc[@]}" -c wolfssl.c -o wolfssl.o
run "$work/glue_unpatched" "unpatched glue (shared.c)" "${glue_cc[@]}" -c "$ndir/crypto/shared.c" -o shared.o
run "$work/glue_unpatched" "unpatched glue (ar)" "${AR:-${target:+$target-}ar}" rcs \
  "$stage/lib/libngtcp2_crypto_wolfssl_unpatched.a" wolfssl.o shared.o

# Libtool archives and shared objects are not wanted: static .a only.
rm -f "$stage"/lib/*.la "$stage"/lib/*.so*
for l in libwolfssl.a libngtcp2.a libngtcp2_crypto_wolfssl.a libngtcp2_crypto_wolfssl_unpatched.a libnghttp3.a; do
  [ -f "$stage/lib/$l" ] || die "build finished without $stage/lib/$l"
done
printf '%s\n' "$versions" >"$stage/.wt-deps-ok"
rm -rf "$prefix"
mv "$stage" "$prefix"
trap - EXIT
rm -rf "$work"
# Staging directories left by interrupted runs are never trusted; tidy them.
rm -rf "$cache"/deps/*.stage.* 2>/dev/null || true
# Installed .pc files name the staging path; rewrite them for the final one.
sed -i "s#$stage#$prefix#g" "$prefix"/lib/pkgconfig/*.pc 2>/dev/null || true
write_out "-I$prefix/include" "$libs" "$prefix" "$versions" "$libs_unpatched"
say "done: $versions in $prefix"
