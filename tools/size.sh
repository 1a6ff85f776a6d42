#!/usr/bin/env bash
# tools/size.sh BUILD_DIR - what wt.h costs in a program, per dependency
# profile (make size): text/data/bss of the wt.h object at -Os, of each
# dependency archive, and of a static, stripped echo server linked with
# --gc-sections. The default profile is the one `make deps` built
# (BUILD/deps); the small one (WT_DEPS_PROFILE=small, BUILD/deps-small) is
# measured when it has been built, or with WT_SIZE_BUILD_SMALL=1 built now
# (a one-time ~3-5 min; cached).
set -eu
b=${1:-build}
cc=${CC:-cc}
flags="-std=c11 -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables"
mkdir -p "$b/size"
printf '#define WT_IMPLEMENTATION\n#include "wt.h"\n' > "$b/size/wt_impl.c"

measure() { # profile depsdir
  local prof=$1 d=$2 prefix
  prefix=$(cat "$d/prefix")
  echo "== profile $prof ($(cat "$d/versions"))"
  printf '%-28s %9s %9s %9s\n' "" text data bss
  $cc $flags -I. $(cat "$d/cflags") -c "$b/size/wt_impl.c" -o "$b/size/wt_$prof.o"
  size "$b/size/wt_$prof.o" | awk -v n="wt.h object (-Os)" 'NR == 2 { printf "%-28s %9s %9s %9s\n", n, $1, $2, $3 }'
  for l in libwolfssl.a libngtcp2.a libngtcp2_crypto_wolfssl.a libnghttp3.a; do
    size -t "$prefix/lib/$l" 2>/dev/null | tail -n1 |
      awk -v n="$l (whole archive)" '{ printf "%-28s %9s %9s %9s\n", n, $1, $2, $3 }'
  done
  # static glibc warns about getaddrinfo (the resolver thread): harmless here
  $cc $flags -static -Wl,--gc-sections -s -I. $(cat "$d/cflags") examples/echo_server.c \
    -o "$b/size/echo_server_$prof" $(cat "$d/libs") -pthread 2>/dev/null
  size "$b/size/echo_server_$prof" | awk -v n="echo_server (static, stripped)" 'NR == 2 { printf "%-28s %9s %9s %9s\n", n, $1, $2, $3 }'
  printf '%-28s %9s bytes\n' "  file size" "$(stat -c %s "$b/size/echo_server_$prof")"
}

measure default "$b/deps"
if [ "${WT_SIZE_BUILD_SMALL:-0}" = 1 ] && [ ! -f "$b/deps-small/prefix" ]; then
  WT_DEPS_PROFILE=small WT_DEPS=build WT_DEPS_OUT="$b/deps-small" bash tools/deps.sh
fi
if [ -f "$b/deps-small/prefix" ]; then
  measure small "$b/deps-small"
else
  echo "== profile small: not built (WT_SIZE_BUILD_SMALL=1 make size builds it)"
fi
