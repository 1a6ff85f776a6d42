#!/usr/bin/env bash
# cpu_per_session: the server's CPU time per whole session (handshake,
# CONNECT, 200, CONNECTION_CLOSE) with 50 sessions in flight, each on its
# own connection: wt_bench_server's CPU over the run (all threads, from
# /proc) divided by the sessions wt_sessions --mode parallel opened.
# Reference: the bare ngtcp2+wolfSSL handshake in memory, server side, with
# the unpatched key derivation (the "hkdf" helper's handshake_raw
# --unpatched, its server_cpu_ms); null until that binary exists.
. "$(dirname "$0")/../lib.sh"
case "$1" in
meta) echo '{"title": "server CPU per session, 50 in flight", "unit": "ms", "better": "lower",
  "ref": "raw ngtcp2+wolfSSL server handshake in memory, unpatched", "target": {"ratio_max": 1.0}, "pairs": 3}' | tr -d '\n'; echo ;;
wt) start_server
    out=$("$BENCH_BIN/wt_sessions" --url "https://127.0.0.1:$SERVER_PORT/echo" --mode parallel --inflight "$(pick 5 50)" \
          --n "$(pick 10 4000)" --seconds "$(pick 5 2.5)" --server-pid "$SERVER_PID")
    json_value "$(echo "$out" | json_get server_cpu_ms_per_session)" run "$out" ;;
ref) n=$(pick 20 2000)
     if [ -x "$BENCH_BIN/handshake_raw_unpatched" ]; then out=$("$BENCH_BIN/handshake_raw_unpatched" --n "$n")
     elif [ -x "$BENCH_BIN/handshake_raw" ]; then out=$("$BENCH_BIN/handshake_raw" --unpatched --n "$n")
     else echo '{"value": null, "why": "build/bench/handshake_raw_unpatched not built"}'; exit 0; fi
     json_value "$(echo "$out" | tail -n1 | json_get server_cpu_ms)" run "$(echo "$out" | tail -n1)" ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
