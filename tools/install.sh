#!/usr/bin/env bash
# tools/install.sh install|uninstall - what `make install` and `make uninstall` do.
#
# Under $DESTDIR$PREFIX (paths as the defaults have them):
#   include/wt.h                          the library
#   lib/pkgconfig/wt.pc                   pkg-config --cflags --libs wt
#   lib/cmake/wt/wt-config.cmake          find_package(wt) -> the target wt::wt
#   lib/cmake/wt/wt-config-version.cmake
#   include/wt/{ngtcp2,nghttp3,wolfssl}/  headers and static libraries of the
#   lib/wt/lib*.a                         dependencies wt.h was built and tested with
#   share/doc/wt/                         README.md, CHANGELOG.md, LICENSE
#
# The dependencies sit in directories of their own, not beside wt.h: Debian
# ships its own libwolfssl (built without QUIC), libngtcp2 and libnghttp3, and
# headers or -l names of ours in $PREFIX/include or $PREFIX/lib would shadow
# those for every other program built on the machine. Only wt.pc and
# wt-config.cmake name the private directories, so only programs that ask for
# wt get them. uninstall removes exactly these files and directories.
#
# With dependencies from pkg-config (WT_DEPS=system, or auto when it found
# them), nothing of the dependencies is copied: wt.pc Requires the system's
# packages and wt-config.cmake finds them through pkg-config.
#
# Environment (the Makefile sets these): PREFIX (absolute), INCLUDEDIR, LIBDIR,
# DOCDIR, DESTDIR; WT_DEPS_OUT, the deps step's output directory (build/deps).
# The dependencies installed are those that directory names, i.e. the ones the
# last `make` used, so `make && sudo make install` needs no second deps step;
# the step runs first when there is none yet or when WT_DEPS is given.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

action=${1:-}
[ "$action" = install ] || [ "$action" = uninstall ] || die "usage: install.sh install|uninstall"
PREFIX=${PREFIX:-/usr/local}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
LIBDIR=${LIBDIR:-$PREFIX/lib}
DOCDIR=${DOCDIR:-$PREFIX/share/doc/wt}
DESTDIR=${DESTDIR:-}
for v in PREFIX INCLUDEDIR LIBDIR DOCDIR; do
  case "${!v}" in /*) ;; *) die "$v must be an absolute path (got '${!v}')" ;; esac
done
deps_out=${WT_DEPS_OUT:-$here/build/deps}

# Where the files go (DESTDIR prepended) and where they will be found (not).
inc="$DESTDIR$INCLUDEDIR" lib="$DESTDIR$LIBDIR" doc="$DESTDIR$DOCDIR"
cmakedir="$lib/cmake/wt"
dep_headers="ngtcp2 nghttp3 wolfssl"
dep_libs="libngtcp2_crypto_wolfssl.a libngtcp2.a libnghttp3.a libwolfssl.a" # link order
docs="README.md CHANGELOG.md LICENSE"

if [ "$action" = uninstall ]; then
  rm -f "$inc/wt.h" "$lib/pkgconfig/wt.pc" "$cmakedir/wt-config.cmake" "$cmakedir/wt-config-version.cmake"
  for d in $dep_headers; do rm -rf "${inc:?}/wt/$d"; done
  for l in $dep_libs; do rm -f "$lib/wt/$l"; done
  for f in $docs; do rm -f "$doc/$f"; done
  # Our own directories go when empty; shared ones (lib/pkgconfig) stay.
  rmdir "$cmakedir" "$inc/wt" "$lib/wt" "$doc" 2>/dev/null || true
  echo "uninstall: removed wt.h and its files from $DESTDIR$PREFIX"
  exit 0
fi

# ------------------------------------------------------------------ install
version=$(sed -n 's/^#define WT_VERSION "\([^"]*\)"$/\1/p' "$here/wt.h")
[ -n "$version" ] || die "no WT_VERSION in $here/wt.h"

usable() { # the deps step's output names a finished prefix or system libraries
  local p
  p=$(cat "$deps_out/prefix" 2>/dev/null) || return 1
  [ "$p" = system ] || [ -f "$p/.wt-deps-ok" ]
}
if [ -n "${WT_DEPS:-}" ] || ! usable; then
  WT_DEPS_OUT="$deps_out" bash "$here/tools/deps.sh"
  usable || die "the deps step left no usable $deps_out/prefix"
fi
dprefix=$(cat "$deps_out/prefix")
dversions=$(cat "$deps_out/versions" 2>/dev/null || echo unknown)
mode=bundled
if [ "$dprefix" = system ]; then
  mode=system
  dversions=$(for p in libngtcp2_crypto_wolfssl libngtcp2 libnghttp3 wolfssl; do
    printf '%s %s, ' "$p" "$(pkg-config --modversion "$p")"; done)
  dversions=${dversions%, }
fi

# In wt.pc a directory under PREFIX is written relative to ${prefix}.
pcdir() { case "$1" in "$PREFIX"/*) printf '${prefix}%s' "${1#"$PREFIX"}" ;; *) printf '%s' "$1" ;; esac; }
# wt-config.cmake finds everything relative to its own directory, so an
# installed tree still works when moved (or used from DESTDIR, as the tests do).
from_cmake() { realpath -s -m --relative-to="$LIBDIR/cmake/wt" "$1"; }
fill() { # template, then NAME=value pairs for @NAME@
  local t; t=$(cat "$1"); shift
  local kv
  for kv in "$@"; do t=${t//@${kv%%=*}@/${kv#*=}}; done
  printf '%s\n' "$t"
}

install -d "$inc" "$lib/pkgconfig" "$cmakedir" "$doc"
install -m 644 "$here/wt.h" "$inc/wt.h"
for f in $docs; do install -m 644 "$here/$f" "$doc/$f"; done

if [ "$mode" = bundled ]; then
  install -d "$inc/wt" "$lib/wt"
  for d in $dep_headers; do
    [ -d "$dprefix/include/$d" ] || die "$dprefix/include/$d is missing"
    rm -rf "${inc:?}/wt/$d"
    cp -R "$dprefix/include/$d" "$inc/wt/$d"
    chmod -R u=rwX,go=rX "$inc/wt/$d"
  done
  for l in $dep_libs; do install -m 644 "$dprefix/lib/$l" "$lib/wt/$l"; done
  cflags='-I${includedir} -I${includedir}/wt'
  libs='-L${libdir}/wt -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm'
  requires=''
  pointer_size=$(getconf LONG_BIT)
  pointer_size=$((pointer_size / 8))
else
  cflags='-I${includedir}'
  libs='' # wt.h itself needs nothing more; the packages' own .pc files say what they need
  # The oldest versions wt.h is built and tested against (tools/deps.sh's fallback set).
  requires='Requires: libngtcp2_crypto_wolfssl >= 1.11.0, libngtcp2 >= 1.11.0, libnghttp3 >= 1.8.0, wolfssl >= 5.7.2'
  pointer_size=''
fi

{
  printf '# wt.h %s; dependencies: %s\n' "$version" "$dversions"
  printf 'prefix=%s\nincludedir=%s\nlibdir=%s\n\n' "$PREFIX" "$(pcdir "$INCLUDEDIR")" "$(pcdir "$LIBDIR")"
  printf 'Name: wt\nDescription: WebTransport over HTTP/3 in one header (ngtcp2, nghttp3, wolfSSL)\n'
  printf 'Version: %s\n' "$version"
  [ -z "$requires" ] || printf '%s\n' "$requires"
  printf 'Cflags: %s\n' "$cflags"
  [ -z "$libs" ] || printf 'Libs: %s\n' "$libs"
} >"$lib/pkgconfig/wt.pc"
chmod 644 "$lib/pkgconfig/wt.pc"

fill "$here/cmake/wt-config.cmake.in" "VERSION=$version" "MODE=$mode" "DEPS_VERSIONS=$dversions" \
  "INCLUDEDIR=$(from_cmake "$INCLUDEDIR")" "LIBDIR=$(from_cmake "$LIBDIR")" >"$cmakedir/wt-config.cmake"
fill "$here/cmake/wt-config-version.cmake.in" "VERSION=$version" "SIZEOF_VOID_P=$pointer_size" \
  >"$cmakedir/wt-config-version.cmake"
chmod 644 "$cmakedir/wt-config.cmake" "$cmakedir/wt-config-version.cmake"

if [ "$mode" = bundled ]; then
  echo "install: wt.h $version into $DESTDIR$PREFIX; $dversions in $DESTDIR$INCLUDEDIR/wt and $DESTDIR$LIBDIR/wt"
else
  echo "install: wt.h $version into $DESTDIR$PREFIX; wt.pc requires the system's $dversions"
fi
