#!/usr/bin/env bash
# wt_impl_tests/cross_test.sh BUILD_DIR ARCH... [-- NAME-SUBSTRING...]
# Runs BUILD_DIR/cross-ARCH/wt_tests (made by `make BUILD_DIR/cross-ARCH/wt_tests`:
# static, -DWT_NO_GSO -DWT_NO_GRO) under qemu-user for each ARCH, the tests
# whose names contain one of the substrings (all without any), and sums the
# per-arch lines into one closing "N passed, N failed".
set -u
B=$1; shift
archs=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do archs+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
bash "$(dirname "$0")/../tools/apt-install.sh" qemu-user || { echo "0 passed, 1 failed"; exit 1; }
total_pass=0 total_fail=0
for a in "${archs[@]}"; do
  bin="$B/cross-$a/wt_tests"
  echo "-- $a ($(cat "$B/cross-$a/deps/versions" 2>/dev/null)) under qemu-$a"
  t0=$SECONDS
  # A hang must not stall the suite: 15 min for everything, then counted failed.
  out=$(timeout 900 "qemu-$a" "$bin" "$@" 2>&1); rc=$?
  printf '%s\n' "$out" | grep -E '^(FAIL|ok  )' | grep -v '^ok' || true
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n1)
  if [ -z "$line" ]; then
    printf '%s\n' "$out" | tail -n 20
    echo "$a: no summary (exit $rc): counted as one failure"
    total_fail=$((total_fail + 1)); continue
  fi
  p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  echo "$a: $p passed, $f failed ($((SECONDS - t0)) s)"
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
