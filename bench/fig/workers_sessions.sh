#!/usr/bin/env bash
# workers_sessions: new sessions/s (each on a new connection: handshake,
# CONNECT, 200, CONNECTION_CLOSE) served by wt_bench_server with 2 workers
# (wt side) against the same server with 1 worker (ref side), so the ratio
# is what the second worker adds (wt_app_config.workers, issue 12). The
# load: two wt_sessions processes in parallel mode, K sessions in flight
# each, for the same time; the figure is their sum. Extra keys: each
# client's JSON line, and the server's CPU per session.
# Mind the machine: the clients run beside the server. On 2 cores, with a
# client that costs about what the server does per session (both sides do
# the handshake's key exchange), the clients take half the CPU, and the
# ratio cannot reach 2 (nor the 1.7 target) even with a server that scales
# perfectly: see client_cpu_ms_per_session next to server_cpu_ms_per_session.
# With 4 CPUs or more (and taskset) the server gets CPUs 0-1 and the
# clients the rest, which measures the server alone.
. "$(dirname "$0")/../lib.sh"

# run WORKERS: starts the server with that many workers, two clients at
# once, prints {"value": summed sessions/s, ...}
run() {
  local w=$1 secs n k out1 out2 p1 p2 r1 r2
  secs=$(pick 1 3)
  n=$(pick 10 100000)
  k=$(pick 2 16)
  local srv=() cli=() pinned=false
  if [ "$(nproc)" -ge 4 ] && command -v taskset >/dev/null 2>&1; then
    srv=(taskset -c 0,1) cli=(taskset -c "2-$(($(nproc) - 1))") pinned=true
  fi
  start_server ${srv[@]+"${srv[@]}"} -- --workers "$w"
  ${cli[@]+"${cli[@]}"} "$BENCH_BIN/wt_sessions" --url "https://127.0.0.1:$SERVER_PORT/echo" --mode parallel --inflight "$k" \
    --n "$n" --seconds "$secs" --server-pid "$SERVER_PID" > "$BENCH_TMP/ws1.out" &
  p1=$!
  ${cli[@]+"${cli[@]}"} "$BENCH_BIN/wt_sessions" --url "https://127.0.0.1:$SERVER_PORT/echo" --mode parallel --inflight "$k" \
    --n "$n" --seconds "$secs" > "$BENCH_TMP/ws2.out" &
  p2=$!
  wait "$p1"
  wait "$p2"
  out1=$(tail -n1 "$BENCH_TMP/ws1.out")
  out2=$(tail -n1 "$BENCH_TMP/ws2.out")
  r1=$(echo "$out1" | json_get sessions_per_s)
  r2=$(echo "$out2" | json_get sessions_per_s)
  # the server's CPU (measured over client 1's run) per session of both
  # clients, and the clients' own, to show where the machine's time went
  json_value "$(python3 -c 'import sys; print(round(float(sys.argv[1]) + float(sys.argv[2]), 1))' "$r1" "$r2")" \
    workers "$w" cpus "$(nproc)" server_pinned "$pinned" \
    server_cpu_ms_per_session "$(python3 -c 'import json,sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
n = a["sessions"] + b["sessions"] * a["seconds"] / max(b["seconds"], 1e-9)
print(round(a["server_cpu_ms"] / n, 4) if n and a.get("server_cpu_ms") is not None else "null")' "$out1" "$out2")" \
    client_cpu_ms_per_session "$(python3 -c 'import json,sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
n = a["sessions"] + b["sessions"]
print(round((a["client_cpu_ms"] + b["client_cpu_ms"]) / n, 4) if n else "null")' "$out1" "$out2")" \
    client1 "$out1" client2 "$out2"
}

case "$1" in
meta) echo '{"title": "new sessions/s, 2 workers vs 1 (two parallel clients, a new connection each)",
  "unit": "sessions/s", "better": "higher", "ref": "the same server with 1 worker", "target": {"ratio_min": 1.7},
  "pairs": 3}' | tr -d '\n'; echo ;;
wt) run 2 ;;
ref) run 1 ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
