#!/usr/bin/env bash
# idle_heap: server heap per idle WebTransport session, one session per
# connection (32 of them after a warm-up connection), all four libraries
# counted through their allocator hooks: wt.h's, ngtcp2_mem and nghttp3_mem
# behind it, wolfSSL through wolfSSL_SetAllocators (build/bench/idle_heap).
# Reference: a raw ngtcp2 + wolfSSL connection, conn_heap_bytes of the
# "hkdf" helper's build/bench/handshake_raw (null while it is not built).
# A count, not a timing: the same on a busy machine, so one pair.
. "$(dirname "$0")/../lib.sh"
case "$1" in
meta) echo '{"title": "heap per idle session, one per connection", "unit": "bytes", "better": "lower",
  "ref": "raw ngtcp2+wolfSSL connection (handshake_raw)", "target": {"max": 40960}, "pairs": 1}' | tr -d '\n'; echo ;;
wt) f="$BENCH_BIN/idle_heap"
    [ -x "$f" ] || { echo "$f not built (make bench-bins)" >&2; exit 1; }
    out=$("$f" --conns "$(pick 2 32)" --extra 0)
    json_value "$(echo "$out" | json_get idle_heap_bytes)" detail "$out" ;;
ref) f="$BENCH_BIN/handshake_raw"
    if [ ! -x "$f" ]; then echo '{"value": null}'; exit 0; fi
    out=$("$f" --n "$(pick 4 50)" --quiet)
    json_value "$(echo "$out" | json_get conn_heap_bytes)" ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
