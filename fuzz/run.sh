#!/usr/bin/env bash
# fuzz/run.sh B SECONDS [TARGET...] - runs each libFuzzer target (all of
# them by default) for SECONDS, one after the other, over its committed
# seeds in fuzz/corpus/<target>; what it learns goes to B/fuzz/corpus/<target>,
# a crash to B/fuzz/crashes/<target>-crash-..., its log to B/fuzz/<target>.log.
# Prints a line per target (runs, coverage, speed, or the reproducer) and
# "N passed, N failed". `make fuzz FUZZ_SECONDS=N` builds the targets first.
set -u
B=${1:-build}
secs=${2:-60}
shift 2 2>/dev/null || shift $#
targets=${*:-capsule demux settings url request server route}
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0
for t in $targets; do
  bin="$B/fuzz/$t"
  log="$B/fuzz/$t.log"
  if [ ! -x "$bin" ]; then
    echo "FAIL $t: $bin not built (make fuzz-build)"
    fail=$((fail + 1))
    continue
  fi
  mkdir -p "$B/fuzz/corpus/$t" "$B/fuzz/crashes"
  # -timeout: one input taking 30 s is a hang; the first directory takes
  # new inputs, the second (the committed seeds) is only read
  "$bin" -max_total_time="$secs" -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$B/fuzz/crashes/$t-" "$B/fuzz/corpus/$t" "$here/corpus/$t" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n1)
  if [ "$rc" -eq 0 ]; then
    echo "ok   $t: ${runs:-?} runs in ${secs} s (${speed:-?}/s), $cov"
    pass=$((pass + 1))
  else
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
    echo "FAIL $t (exit $rc): $(grep -m1 -E 'ERROR: |FUZZ_CHECK|runtime error' "$log")"
    if [ -n "$crash" ]; then
      echo "     reproducer: $crash"
      echo "     run it:     $bin $crash"
    fi
    echo "     log: $log"
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
