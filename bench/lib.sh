# bench/lib.sh - shared by the figure scripts (bench/fig/*.sh): sourced,
# not run. Sets BENCH_BIN (built binaries, default build/bench), BENCH_TMP
# (scratch, made here when unset and removed at exit), SMOKE (1 with
# BENCH_SMOKE=1), and stops every server it started when the script exits.
# See bench/README.md for the figure protocol.
set -eu
BENCH_BIN=${BENCH_BIN:-build/bench}
SMOKE=${BENCH_SMOKE:-0}
if [ -z "${BENCH_TMP:-}" ]; then
  BENCH_TMP=$(mktemp -d)
  bench__own_tmp=1
else
  mkdir -p "$BENCH_TMP"
  bench__own_tmp=0
fi
bench__pids=""

# Stops the servers; one that did not end cleanly (a crash, a sanitizer
# report, a failed graceful stop) fails the script, with its last words.
bench__cleanup() {
  local p rc bad=0
  for p in $bench__pids; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $bench__pids; do
    rc=0; wait "$p" 2>/dev/null || rc=$?
    # 0: the graceful stop; 143: SIGTERM before the handler was installed
    if [ "$rc" != 0 ] && [ "$rc" != 143 ] && [ "$rc" != 127 ]; then
      echo "wt_bench_server (pid $p) ended with status $rc:" >&2
      tail -n 20 "$BENCH_TMP/server.$p.err" >&2 2>/dev/null || true
      bad=1
    fi
  done
  if [ "$bench__own_tmp" = 1 ]; then rm -rf "$BENCH_TMP"; fi
  if [ "$bad" = 1 ]; then exit 1; fi
}
trap bench__cleanup EXIT
trap 'exit 130' INT TERM

# pick SMOKE_VALUE FULL_VALUE: the first under BENCH_SMOKE=1
pick() { if [ "$SMOKE" = 1 ]; then echo "$1"; else echo "$2"; fi; }

# json_get KEY < json-line: that key's value (numbers and strings; "null" if absent)
json_get() {
  python3 -c 'import json,sys; v=json.loads(sys.stdin.readline()).get(sys.argv[1]); print("null" if v is None else v)' "$1"
}

# json_value NUMBER-OR-null [KEY VALUE]...: prints {"value": ..., KEY: VALUE...}
# (each VALUE as JSON: a number, null, or a JSON object/string already quoted)
json_value() {
  python3 -c 'import json,sys
a=sys.argv[1:]; d={"value": json.loads(a[0])}
for i in range(1, len(a) - 1, 2): d[a[i]] = json.loads(a[i + 1])
print(json.dumps(d))' "$@"
}

# start_server [wrapper...] -- [wt_bench_server args...]: starts
# wt_bench_server on a free port and waits (10 s at most) for its ready
# line; sets SERVER_PORT, SERVER_PID, SERVER_SHA256. A wrapper such as
# "taskset -c 0" goes before the "--".
start_server() {
  local wrap=() out i
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do wrap+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  out="$BENCH_TMP/server.$$.$RANDOM"
  : > "$out"
  ${wrap[@]+"${wrap[@]}"} "$BENCH_BIN/wt_bench_server" --port -1 "$@" > "$out" 2> "$out.err" &
  SERVER_PID=$!
  bench__pids="$bench__pids $SERVER_PID"
  # links, not renames: the child may not have opened its files yet, and a
  # rename before that left it writing where nobody looked
  ln -s "$out" "$BENCH_TMP/server.$SERVER_PID"; ln -s "$out.err" "$BENCH_TMP/server.$SERVER_PID.err"
  for i in $(seq 1 200); do
    if [ -s "$out" ]; then
      SERVER_PORT=$(head -n1 "$out" | json_get port)
      SERVER_SHA256=$(head -n1 "$out" | json_get sha256)
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "wt_bench_server exited before it was ready:" >&2; cat "$out.err" >&2; return 1
    fi
    sleep 0.05
  done
  echo "wt_bench_server not ready within 10 s" >&2
  return 1
}


# cross_cpus: "taskset -c N" wrappers for two processes on different
# CPUs (CPU_A, CPU_B), or nothing on a one-CPU machine or without taskset
cross_cpus() {
  CPU_A=() CPU_B=()
  if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
    CPU_A=(taskset -c 0) CPU_B=(taskset -c 1)
  fi
}

# cpus_arg: "0,1" for the raw references' --cpus after cross_cpus found
# two CPUs, "-" (left to the scheduler) otherwise
cpus_arg() { if [ ${#CPU_A[@]} -gt 0 ]; then echo 0,1; else echo -; fi; }

# The datagram figures (dgram64, dgram64_stable, dgram1200, dgram1200_bbr).
# Both sides pin their two ends to different CPUs: left to the scheduler,
# some runs shared one CPU and ran at half the rate.
# flood_wt SIZE SECONDS [--cc ALGO]: wt_dgram floods wt_bench_server's
# /dgram (the option goes to both ends); prints wt_dgram's line
flood_wt() {
  local size=$1 secs=$2; shift 2
  cross_cpus
  start_server ${CPU_A[@]+"${CPU_A[@]}"} -- "$@"
  ${CPU_B[@]+"${CPU_B[@]}"} "$BENCH_BIN/wt_dgram" --mode flood --url "https://127.0.0.1:$SERVER_PORT/dgram" \
    --size "$size" --seconds "$secs" "$@"
}

# flood_ref SIZE SECONDS: raw UDP, one datagram per send, and (gso_value)
# the same as GSO trains for half as long
flood_ref() {
  local plain gso
  cross_cpus
  plain=$("$BENCH_BIN/udp_flood" --cpus "$(cpus_arg)" --size "$1" --seconds "$2")
  gso=$("$BENCH_BIN/udp_flood" --cpus "$(cpus_arg)" --size "$1" --seconds "$(python3 -c 'import sys; print(float(sys.argv[1]) / 2)' "$2")" --gso)
  json_value "$(echo "$plain" | json_get value)" gso_value "$(echo "$gso" | json_get value)"
}
