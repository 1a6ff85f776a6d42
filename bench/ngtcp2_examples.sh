#!/usr/bin/env bash
# bench/ngtcp2_examples.sh [OUT_DIR] - ngtcp2's own HTTP/3 example server
# and client, the reference of the bulk figures (bench/fig/bulk_*.sh), into
# OUT_DIR (default build/bench) as ngtcp2_server and ngtcp2_client.
#
# They are built from the same ngtcp2 source tarball and linked against the
# same static prefix (wolfSSL, ngtcp2, its wolfSSL crypto glue, nghttp3) as
# wt.h, found through tools/deps.sh. The examples are C++23: Debian's
# clang-19 with libc++-19, and libev (installed by tools/apt-install.sh).
# bench/ngtcp2_examples.patch (ours, applied to a copy in the cache) makes
# them build against this wolfSSL (no OPENSSL_ALL, no early data) and
# nghttp3 1.15, offers active_connection_id_limit 4 (the dependency build's
# patched ngtcp2 asserts the limit fits its 4 slots), and adds two things
# the bench needs: the client does not verify the server's certificate (as
# the other TLS backends' example clients), and $NGTCP2_EXAMPLE_UDP_BUFFER
# sets the socket buffers.
#
# Cached under ${WT_CACHE_DIR:-~/.cache/wt.h}/ngtcp2-examples/<key>: the key
# covers this script, the patch, the deps prefix (itself keyed by its
# recipe) and the compiler. Exit 77 with "skipped: <why>" when a package
# cannot be installed or the deps are not a static prefix with ngtcp2
# 1.24 (WT_DEPS=system, a fallback version); any other failure is an error.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build/bench}
cache="${WT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wt.h}"
deps_out="${WT_DEPS_OUT:-$here/build/deps}"
jobs=$(nproc 2>/dev/null || echo 2)
NGTCP2_VER=1.24.0

say() { printf 'ngtcp2_examples: %s\n' "$*" >&2; }
skip() { printf 'ngtcp2_examples: skipped: %s\n' "$*" >&2; exit 77; }
die() { printf 'ngtcp2_examples: error: %s\n' "$*" >&2; exit 1; }

bash "$here/tools/apt-install.sh" clang-19 libc++-19-dev libc++abi-19-dev libev-dev patch \
  || skip "could not install clang-19, libc++-19-dev, libc++abi-19-dev, libev-dev (Debian bookworm main)"
CXX=clang++-19
command -v "$CXX" >/dev/null 2>&1 || skip "$CXX not found after installing clang-19"

WT_DEPS_OUT="$deps_out" bash "$here/tools/deps.sh" || die "tools/deps.sh failed"
prefix=$(cat "$deps_out/prefix")
[ "$prefix" != system ] && [ -d "$prefix/lib" ] \
  || skip "the deps are system libraries (WT_DEPS=system): the examples need the static prefix tools/deps.sh builds"
grep -q "ngtcp2 $NGTCP2_VER" "$deps_out/versions" \
  || skip "the deps have $(cat "$deps_out/versions"); the patch is for ngtcp2 $NGTCP2_VER"
tarball="$cache/dl/ngtcp2_$NGTCP2_VER.orig.tar.xz"
[ -f "$tarball" ] || die "$tarball is missing (tools/deps.sh downloads it)"

key=$(cat "$0" "$here/bench/ngtcp2_examples.patch" | sha256sum | cut -c1-16)
key=$(printf '%s\n' "$key" "$prefix" "$(cat "$prefix/.wt-deps-ok")" "$("$CXX" --version | head -n1)" \
  | sha256sum | cut -c1-16)
dir="$cache/ngtcp2-examples/$key"
mkdir -p "$cache/ngtcp2-examples" "$out"
exec 9>"$cache/ngtcp2-examples/.lock"
flock 9

if [ ! -f "$dir/.ok" ]; then
  say "building ngtcp2 $NGTCP2_VER's example server and client with $CXX (one-time, ~1-3 min)"
  work="$dir.work.$$"
  rm -rf "$work"
  mkdir -p "$work/obj"
  trap 'rm -rf "$work"' EXIT
  tar -xf "$tarball" -C "$work"
  src="$work/ngtcp2-$NGTCP2_VER"
  (cd "$src" && patch -p1 --quiet <"$here/bench/ngtcp2_examples.patch") || die "bench/ngtcp2_examples.patch does not apply"
  # What configure would find on Linux; the examples only test these.
  cat >"$work/obj/config.h" <<'EOF'
#define HAVE_ARPA_INET_H 1
#define HAVE_ASM_TYPES_H 1
#define HAVE_LINUX_NETLINK_H 1
#define HAVE_LINUX_RTNETLINK_H 1
#define HAVE_NETINET_IN_H 1
#define HAVE_NETINET_IP_H 1
#define HAVE_NETINET_UDP_H 1
#define HAVE_SYS_SOCKET_H 1
EOF
  # The source lists of examples/Makefile.am's wsslserver and wsslclient.
  common="debug util shared tls_session_base_wolfssl util_wolfssl"
  server="server server_base http siphash http3_server_proto_codec tls_server_context_wolfssl tls_server_session_wolfssl"
  client="client client_base http3_client_proto_codec tls_client_context_wolfssl tls_client_session_wolfssl"
  # -O2 as ngtcp2's configure defaults to (assertions kept, as there)
  cxxflags="-std=c++23 -stdlib=libc++ -O2 -DHAVE_CONFIG_H -DWITH_EXAMPLE_WOLFSSL -DWITH_EXAMPLE_HTTP3_PROTO_CODEC"
  incs="-I$work/obj -I$src/third-party/urlparse -I$prefix/include"
  log="$work/build.log"
  if ! printf '%s\n' $common $server $client \
      | xargs -P "$jobs" -I{} sh -c "$CXX $cxxflags $incs -c '$src/examples/{}.cc' -o '$work/obj/{}.o' >>'$log.{}' 2>&1 || { cat '$log.{}'; exit 255; }" >&2; then
    die "compiling the examples failed (see above)"
  fi
  clang-19 -O2 -I"$src/third-party/urlparse" -c "$src/third-party/urlparse/urlparse.c" -o "$work/obj/urlparse.o" \
    || die "compiling urlparse failed"
  libs="$prefix/lib/libngtcp2_crypto_wolfssl.a $prefix/lib/libngtcp2.a $prefix/lib/libnghttp3.a $prefix/lib/libwolfssl.a -lev -lm"
  objs() { for f in "$@"; do printf '%s ' "$work/obj/$f.o"; done; }
  # shellcheck disable=SC2046
  $CXX -stdlib=libc++ -o "$work/ngtcp2_server" $(objs $common $server) "$work/obj/urlparse.o" $libs \
    || die "linking the server failed"
  # shellcheck disable=SC2046
  $CXX -stdlib=libc++ -o "$work/ngtcp2_client" $(objs $common $client) "$work/obj/urlparse.o" $libs \
    || die "linking the client failed"
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$work/ngtcp2_server" "$work/ngtcp2_client" "$dir/"
  printf 'ngtcp2 %s examples, deps %s\n' "$NGTCP2_VER" "$prefix" >"$dir/.ok"
  rm -rf "$work"
  trap - EXIT
  # work directories of interrupted runs (none runs now: the lock is ours)
  rm -rf "$cache"/ngtcp2-examples/*.work.* 2>/dev/null || true
fi
cp -f "$dir/ngtcp2_server" "$dir/ngtcp2_client" "$out/"
say "$(cat "$dir/.ok") in $out"
