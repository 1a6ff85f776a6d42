#!/usr/bin/env bash
# extra_session_heap: server heap per further WebTransport session on a
# connection that has one (15 more: max_sessions is 16), all four
# libraries counted as in idle_heap.sh. No reference (the raw stack has
# no sessions). A count, not a timing: one pair.
. "$(dirname "$0")/../lib.sh"
case "$1" in
meta) echo '{"title": "heap per extra session on a connection", "unit": "bytes", "better": "lower",
  "ref": "none", "target": {"max": 8192}, "pairs": 1}' | tr -d '\n'; echo ;;
wt) f="$BENCH_BIN/idle_heap"
    [ -x "$f" ] || { echo "$f not built (make bench-bins)" >&2; exit 1; }
    out=$("$f" --conns 1 --extra "$(pick 2 15)")
    json_value "$(echo "$out" | json_get extra_session_bytes)" detail "$out" ;;
ref) echo '{"value": null}' ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
