#!/usr/bin/env bash
# sessions_reuse: whole sessions one after another over one QUIC
# connection (CONNECT, 200, CLOSE_WEBTRANSPORT_SESSION): wt_sessions
# --mode reuse --inflight 1 against wt_bench_server. No reference.
. "$(dirname "$0")/../lib.sh"
case "$1" in
meta) echo '{"title": "new sessions/s, sequential, over one connection", "unit": "sessions/s", "better": "higher",
  "ref": "none", "target": null, "pairs": 3}' | tr -d '\n'; echo ;;
wt) start_server
    out=$("$BENCH_BIN/wt_sessions" --url "https://127.0.0.1:$SERVER_PORT/echo" --mode reuse --inflight 1 \
          --n "$(pick 5 20000)" --seconds "$(pick 5 1.5)")
    json_value "$(echo "$out" | json_get sessions_per_s)" run "$out" ;;
ref) echo '{"value": null}' ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
