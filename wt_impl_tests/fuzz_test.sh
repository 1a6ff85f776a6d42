#!/usr/bin/env bash
# wt_impl_tests/fuzz_test.sh B - the fuzz targets as a test: each is built
# (clang, libFuzzer, ASan+UBSan; make installs clang if missing), runs every
# committed seed and past reproducer in fuzz/corpus/<target>, then a fixed
# number of mutations from a fixed seed, so a run repeats. A target passes
# when nothing crashed, leaked or failed a check. The long runs are
# `make fuzz`.
set -u
B=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
targets="capsule demux settings url request server route"
# mutations per target: about two seconds each on one core
runs_for() {
  case $1 in
  request) echo 300 ;;
  server) echo 2500 ;;
  *) echo 20000 ;;
  esac
}
# all at once (two compilers), then each on its own so a failure is its own
bins=""
for t in $targets; do bins="$bins $B/fuzz/$t"; done
make -s -k -j2 B="$B" $bins >"$work/build.log" 2>&1
for t in $targets; do
  if ! out=$(make -s B="$B" "$B/fuzz/$t" 2>&1); then
    printf '%s\n' "$out" | tail -n 20
    echo "FAIL $t: does not build"
    fail=$((fail + 1))
    continue
  fi
  mkdir -p "$work/$t"
  start=$(date +%s%N)
  "$B/fuzz/$t" -runs="$(runs_for "$t")" -seed=1 -timeout=30 -artifact_prefix="$work/$t-" \
    "$work/$t" "fuzz/corpus/$t" >"$work/$t.log" 2>&1
  rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  if [ "$rc" -eq 0 ]; then
    seeds=$(find "fuzz/corpus/$t" -type f | wc -l)
    printf 'ok   %s: %d seeds and %s mutations (%d ms), %s\n' "$t" "$seeds" "$(runs_for "$t")" "$ms" \
      "$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$work/$t.log" | tail -n1)"
    pass=$((pass + 1))
  else
    grep -E 'ERROR: |FUZZ_CHECK|runtime error|SUMMARY' "$work/$t.log" | head -n 5
    crash=$(ls "$work/$t-"* 2>/dev/null | head -n1)
    if [ -n "$crash" ]; then
      mkdir -p "$B/fuzz/crashes" && cp "$crash" "$B/fuzz/crashes/"
      echo "     reproducer: $B/fuzz/crashes/$(basename "$crash") (run: $B/fuzz/$t <file>)"
    fi
    echo "FAIL $t (exit $rc)"
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
