#!/usr/bin/env bash
# wt.h used from another project, as a new user would. hello_wt.c (in
# install/) is copied out of the repository and built four ways:
#   cc + pkg-config and CMake find_package(wt), against `make install DESTDIR=`
#   CMake FetchContent and a Meson subproject, both pinning `make dist`'s tarball
# and once more with `make install WT_DEPS=system`. Each build must complete
# a session with echo_server (a stream echoed, the session closed). Also: the
# unpacked tarball's own `make smoke`, find_package and FetchContent refusing
# a wrong version or hash, and `make uninstall` leaving no file behind.
# Installs cmake, meson, ninja-build and pkg-config if missing.
# Usage: install_test.sh <build dir>. Last line: "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-build}" && pwd)
tmp=$(mktemp -d)
pass=0 fail=0
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

ok() { pass=$((pass + 1)); echo "ok   install: $1"; }
bad() { # name, output
  fail=$((fail + 1)); echo "FAIL install: $1"
  [ -z "${2:-}" ] || printf '%s\n' "$2" | tail -n 25 | sed 's/^/     /'
}
check() { # name, command...: passes when the command exits 0; returns its status, LAST_OUT its output
  local name=$1 rc=0; shift
  LAST_OUT=$("$@" 2>&1) || rc=$?
  if [ "$rc" -eq 0 ]; then ok "$name"; else bad "$name (exit $rc)" "$LAST_OUT"; fi
  return "$rc"
}
refused() { # name, command...: passes when the command fails
  local name=$1; shift
  LAST_OUT=$("$@" 2>&1) && bad "$name (it succeeded)" "$LAST_OUT" || ok "$name"
}
# make as a user runs it, not as a sub-make of `make test`
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory "$@"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

if ! out=$(bash "$here/tools/apt-install.sh" cmake meson ninja-build pkg-config 2>&1); then
  bad "cmake, meson, ninja-build and pkg-config installed" "$out"; finish
fi
version=$(sed -n 's/^#define WT_VERSION "\([^"]*\)"$/\1/p' "$here/wt.h")
deps_prefix=$(cat "$B/deps/prefix" 2>/dev/null)
if [ -z "$version" ] || [ ! -d "$deps_prefix" ] || [ ! -x "$B/examples/echo_server" ]; then
  bad "prerequisites: WT_VERSION '$version', a built deps prefix '$deps_prefix', $B/examples/echo_server"; finish
fi

# ---------------------------------------------------------------- echo server
mkdir -p "$tmp/server"
for _attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  (cd "$tmp/server" && exec "$B/examples/echo_server" --port "$port" >"$tmp/server/out" 2>&1) &
  server_pid=$!
  for _ in $(seq 50); do
    grep -q "listening on" "$tmp/server/out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "listening on" "$tmp/server/out" && break
  kill "$server_pid" 2>/dev/null; server_pid=""
done
hash=$(grep -oE 'sha256[: ]+[0-9a-f]{64}' "$tmp/server/out" | grep -oE '[0-9a-f]{64}' | head -n1)
if [ -z "$server_pid" ] || [ -z "$hash" ]; then bad "echo_server started" "$(cat "$tmp/server/out")"; finish; fi
url="https://127.0.0.1:$port/"

session() { # name, program: it must print the echo of "hello from <name>"
  check "$1: the program completes a session" timeout 20 "$2" "$url" "$hash" "$1"
  grep -qxF "wt $version reply: ECHO: hello from $1" <<<"$LAST_OUT" ||
    bad "$1: the reply is the echo and the header says wt $version" "$LAST_OUT"
}

app="$tmp/app" # the other project: outside the repository
mkdir -p "$app"
cp "$here/wt_impl_tests/install/hello_wt.c" "$here/wt_impl_tests/install/CMakeLists.txt" \
  "$here/wt_impl_tests/install/meson.build" "$app/"

# ---------------------------------------------------------------- make install
root="$tmp/root"
inst="$root/opt/wt"
check "make install DESTDIR=... PREFIX=/opt/wt" mk -C "$here" install B="$B" DESTDIR="$root" PREFIX=/opt/wt
cmp -s "$here/wt.h" "$inst/include/wt.h" && ok "the installed wt.h is the repository's" ||
  bad "the installed wt.h is the repository's"
missing=""
for f in lib/wt/libngtcp2_crypto_wolfssl.a lib/wt/libngtcp2.a lib/wt/libnghttp3.a lib/wt/libwolfssl.a \
  include/wt/ngtcp2/ngtcp2.h include/wt/nghttp3/nghttp3.h include/wt/wolfssl/options.h \
  lib/pkgconfig/wt.pc lib/cmake/wt/wt-config.cmake lib/cmake/wt/wt-config-version.cmake share/doc/wt/LICENSE; do
  [ -f "$inst/$f" ] || missing="$missing $f"
done
for f in lib/libwolfssl.a lib/libngtcp2.a lib/libnghttp3.a include/wolfssl include/ngtcp2 include/nghttp3; do
  [ -e "$inst/$f" ] && missing="$missing (shadowing: $f)"
done
[ -z "$missing" ] && ok "dependencies in lib/wt and include/wt only, wt.pc and wt-config.cmake present" ||
  bad "dependencies in lib/wt and include/wt only, wt.pc and wt-config.cmake present:$missing"
leaked=$(grep -rIl -- "$tmp" "$root" 2>/dev/null)
[ -z "$leaked" ] && ok "no installed file names the DESTDIR" || bad "no installed file names the DESTDIR" "$leaked"

# ---------------------------------------------------------------- cc + pkg-config
# PKG_CONFIG_LIBDIR: only this wt.pc; SYSROOT: its paths as seen inside DESTDIR.
pc() { PKG_CONFIG_LIBDIR="$inst/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" pkg-config "$@"; }
got=$(pc --modversion wt 2>&1)
[ "$got" = "$version" ] && ok "pkg-config --modversion wt is $version" || bad "pkg-config --modversion wt is $version" "$got"
got=$(pc --libs wt 2>&1 | tr ' ' '\n' | grep '^-l' | tr '\n' ' ')
[ "$got" = "-lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm " ] && ok "pkg-config --libs wt in link order" ||
  bad "pkg-config --libs wt in link order" "$got"
build_pc() { cd "$app" && cc -std=c11 -Wall -Wextra -Werror hello_wt.c $(pc --cflags --libs wt) -o hello_pc; }
check "cc \$(pkg-config --cflags --libs wt) builds the program" build_pc && session pkg-config "$app/hello_pc"

# ---------------------------------------------------------------- CMake find_package
cm() { cmake -G Ninja -S "$app" -DCMAKE_PREFIX_PATH="$inst" "$@"; }
check "CMake find_package(wt 0.1): configure" cm -B "$tmp/b-find"
grep -qF -- "wt $version from $inst/lib/cmake/wt" <<<"$LAST_OUT" && ok "find_package found the installed wt-config.cmake" ||
  bad "find_package found the installed wt-config.cmake" "$LAST_OUT"
check "CMake find_package(wt 0.1): build" cmake --build "$tmp/b-find" && session cmake-find-package "$tmp/b-find/hello_wt"
refused "find_package(wt 0.2) refuses $version (before 1.0 a minor version breaks)" cm -B "$tmp/b-v02" -DWT_WANT=0.2
refused "find_package(wt 1.0) refuses $version" cm -B "$tmp/b-v1" -DWT_WANT=1.0

# ---------------------------------------------------------------- make dist
tarball="$B/wt-$version.tar.gz"
rm -f "$tarball"
check "make dist" mk -C "$here" dist B="$B"
if [ -f "$tarball" ]; then
  ok "make dist wrote wt-$version.tar.gz"
  sum=$(sha256sum "$tarball" | cut -d' ' -f1)
  have=$(tar -tzf "$tarball" | sort)
  missing=""
  for f in wt.h CHANGELOG.md LICENSE README.md Makefile CMakeLists.txt meson.build tools/deps.sh \
    examples/echo_server.c examples/echo_client.c wt_impl_tests/run.sh wt_impl_tests/main.c; do
    grep -qxF "wt-$version/$f" <<<"$have" || missing="$missing $f"
  done
  junk=$(grep -E '/build/|node_modules|\.(o|crt|key)$' <<<"$have")
  [ -z "$missing$junk" ] && ok "the tarball has wt.h, examples, tests, deps script, CHANGELOG and no build output" ||
    bad "the tarball has wt.h, examples, tests, deps script, CHANGELOG and no build output" "missing:$missing $junk"
  # In a git checkout (CI's and developers'), exactly the tracked files.
  if git -C "$here" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    want=$(git -C "$here" ls-files | sed "s,^,wt-$version/," | sort)
    [ "$want" = "$have" ] && ok "the tarball holds exactly the tracked files under wt-$version/" ||
      bad "the tarball holds exactly the tracked files under wt-$version/" "$(diff <(echo "$want") <(echo "$have"))"
  fi
  mkdir -p "$tmp/dist"
  tar -xzf "$tarball" -C "$tmp/dist"
  check "the unpacked release's make smoke" timeout 300 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make --no-print-directory -C "$tmp/dist/wt-$version" -j2 smoke
  grep -qE '^[1-9][0-9]* passed, 0 failed$' <<<"$LAST_OUT" || bad "make smoke ran its examples" "$LAST_OUT"
else
  bad "make dist wrote wt-$version.tar.gz"; sum=0
fi

# ---------------------------------------------------------------- CMake FetchContent
fetch() { cmake -G Ninja -S "$app" -DWT_TARBALL="file://$tarball" "$@"; }
check "CMake FetchContent of the tarball: configure" fetch -B "$tmp/b-fetch" -DWT_TARBALL_SHA256="$sum"
check "CMake FetchContent of the tarball: build" cmake --build "$tmp/b-fetch" && session cmake-fetchcontent "$tmp/b-fetch/hello_wt"
refused "FetchContent refuses a tarball with another sha256" fetch -B "$tmp/b-fetch-bad" -DWT_TARBALL_SHA256="$(printf '0%.0s' $(seq 64))"

# ---------------------------------------------------------------- Meson subproject
mkdir -p "$app/subprojects"
cat >"$app/subprojects/wt.wrap" <<EOF
[wrap-file]
directory = wt-$version
source_url = file://$tarball
source_filename = wt-$version.tar.gz
source_hash = $sum

[provide]
wt = wt_dep
EOF
# --force-fallback-for: the subproject even if pkg-config knows a wt
check "Meson subproject (a wrap pinning the tarball): setup" meson setup --force-fallback-for=wt "$tmp/b-meson" "$app"
grep -q "Dependency wt found: YES $version" <<<"$LAST_OUT" && ok "Meson took wt $version from the subproject" ||
  bad "Meson took wt $version from the subproject" "$LAST_OUT"
check "Meson subproject: compile" meson compile -C "$tmp/b-meson" && session meson-subproject "$tmp/b-meson/hello_wt"

# ---------------------------------------------------------------- WT_DEPS=system
# The deps prefix stands in for system libraries found by pkg-config. Installed
# without DESTDIR (so the dependencies' own .pc paths need no sysroot), with
# its own build directory (so the repository's build/deps stays as it is).
sys="$tmp/sys"
before=$(cat "$B/deps/prefix")
check "make install WT_DEPS=system" env PKG_CONFIG_PATH="$deps_prefix/lib/pkgconfig" \
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$here" install WT_DEPS=system \
  B="$tmp/b-sys" PREFIX="$sys"
if grep -q '^Requires: libngtcp2_crypto_wolfssl >= [0-9.]*, libngtcp2 >= [0-9.]*, libnghttp3 >= [0-9.]*, wolfssl >= ' \
  "$sys/lib/pkgconfig/wt.pc" 2>/dev/null && [ ! -e "$sys/lib/wt" ] && [ ! -e "$sys/include/wt" ]; then
  ok "WT_DEPS=system: wt.pc requires the system packages, no libraries copied"
else
  bad "WT_DEPS=system: wt.pc requires the system packages, no libraries copied" "$(cat "$sys/lib/pkgconfig/wt.pc" 2>&1; ls -R "$sys" 2>&1)"
fi
[ "$(cat "$B/deps/prefix")" = "$before" ] && ok "WT_DEPS=system install left $B/deps alone" ||
  bad "WT_DEPS=system install left $B/deps alone"
# --static: the stand-in libraries are static ones
build_sys() {
  local flags
  flags=$(PKG_CONFIG_PATH="$sys/lib/pkgconfig:$deps_prefix/lib/pkgconfig" pkg-config --static --cflags --libs wt) || return 1
  cd "$app" && cc -std=c11 -Wall -Wextra -Werror hello_wt.c $flags -o hello_sys
}
check "WT_DEPS=system: cc \$(pkg-config --static --cflags --libs wt) builds the program" build_sys &&
  session system-deps "$app/hello_sys"
# wt-config.cmake finds the same stand-ins through pkg-config
check "WT_DEPS=system: CMake find_package(wt) builds the program" env PKG_CONFIG_PATH="$deps_prefix/lib/pkgconfig" \
  bash -c 'cmake -G Ninja -S "$1" -B "$2" -DCMAKE_PREFIX_PATH="$3" && cmake --build "$2"' _ "$app" "$tmp/b-sys-find" "$sys" &&
  session system-deps-cmake "$tmp/b-sys-find/hello_wt"

# ---------------------------------------------------------------- make uninstall
check "make uninstall DESTDIR=... PREFIX=/opt/wt" mk -C "$here" uninstall B="$B" DESTDIR="$root" PREFIX=/opt/wt
left=$(find "$root" -type f 2>/dev/null)
[ -z "$left" ] && [ -d "$root/opt/wt/lib" ] && ok "make uninstall left no file" || bad "make uninstall left no file" "$left"
check "make uninstall of the WT_DEPS=system install" mk -C "$here" uninstall B="$tmp/b-sys" PREFIX="$sys"
left=$(find "$sys" -type f 2>/dev/null)
[ -z "$left" ] && ok "no file left of the WT_DEPS=system install" || bad "no file left of the WT_DEPS=system install" "$left"

finish
