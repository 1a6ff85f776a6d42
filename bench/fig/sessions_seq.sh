#!/usr/bin/env bash
# sessions_seq: whole sessions one after another, each on a new QUIC
# connection (handshake, CONNECT, 200, CONNECTION_CLOSE): wt_sessions
# --mode sequential against wt_bench_server. No reference is run:
# PyWebTransport publishes 552 connections/s on its own machine.
. "$(dirname "$0")/../lib.sh"
case "$1" in
meta) echo '{"title": "new sessions/s, sequential, a new connection each", "unit": "sessions/s", "better": "higher",
  "ref": "none run (PyWebTransport publishes 552/s, its own 4-vCPU machine)", "target": null, "pairs": 3}' | tr -d '\n'; echo ;;
wt) start_server
    out=$("$BENCH_BIN/wt_sessions" --url "https://127.0.0.1:$SERVER_PORT/echo" --mode sequential \
          --n "$(pick 5 3000)" --seconds "$(pick 5 2)")
    json_value "$(echo "$out" | json_get sessions_per_s)" run "$out" ;;
ref) echo '{"value": null}' ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
