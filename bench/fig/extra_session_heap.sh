#!/bin/sh
# Figure extra_session_heap: server heap per further WebTransport session on
# a connection that has one (15 more: max_sessions is 16), all four
# libraries counted as in idle_heap.sh. No reference: the raw stack has no
# sessions. A count, not a timing.
set -eu
side=${1:?usage: extra_session_heap.sh meta|wt|ref}
bin=${BENCH_BIN:-build/bench}
extra=15
[ "${BENCH_SMOKE:-0}" = 1 ] && extra=2
case "$side" in
  meta)
    echo '{"title": "heap per extra session on a connection", "unit": "bytes", "better": "lower", "ref": "none", "target": {"max": 8192}, "pairs": 3}' ;;
  wt)
    out=$("$bin/idle_heap" --conns 1 --extra "$extra")
    v=$(printf '%s\n' "$out" | sed -n 's/.*"extra_session_bytes": *\([0-9.][0-9.]*\).*/\1/p')
    [ -n "$v" ] || { echo "extra_session_heap.sh: no extra_session_bytes in: $out" >&2; exit 1; }
    printf '{"value": %s, "detail": %s}\n' "$v" "$out" ;;
  ref)
    echo '{"value": null}' ;;
  *) echo "usage: extra_session_heap.sh meta|wt|ref" >&2; exit 2 ;;
esac
