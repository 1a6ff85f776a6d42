#!/bin/sh
# Figure idle_heap: server heap per idle WebTransport session, one session
# per connection, all four libraries counted through their allocator hooks
# (wt.h, ngtcp2_mem, nghttp3_mem, wolfSSL_SetAllocators). The reference is
# a raw ngtcp2 + wolfSSL connection: conn_heap_bytes of the "hkdf" helper's
# build/bench/handshake_raw (null while that binary is not built).
# A count, not a timing: the same on a busy machine.
set -eu
side=${1:?usage: idle_heap.sh meta|wt|ref}
bin=${BENCH_BIN:-build/bench}
conns=32
[ "${BENCH_SMOKE:-0}" = 1 ] && conns=2
field() { # name: the value of a numeric JSON field on stdin
  sed -n "s/.*\"$1\": *\([0-9.][0-9.]*\).*/\1/p"
}
case "$side" in
  meta)
    echo '{"title": "heap per idle session, one per connection", "unit": "bytes", "better": "lower", "ref": "raw ngtcp2+wolfSSL connection (handshake_raw conn_heap_bytes)", "target": {"max": 40960}, "pairs": 3}' ;;
  wt)
    out=$("$bin/idle_heap" --conns "$conns" --extra 0)
    v=$(printf '%s\n' "$out" | field idle_heap_bytes)
    [ -n "$v" ] || { echo "idle_heap.sh: no idle_heap_bytes in: $out" >&2; exit 1; }
    printf '{"value": %s, "detail": %s}\n' "$v" "$out" ;;
  ref)
    if [ ! -x "$bin/handshake_raw" ]; then
      echo '{"value": null, "why": "build/bench/handshake_raw not built"}'
      exit 0
    fi
    n=50
    [ "${BENCH_SMOKE:-0}" = 1 ] && n=4
    out=$("$bin/handshake_raw" --n "$n" --quiet)
    v=$(printf '%s\n' "$out" | field conn_heap_bytes)
    [ -n "$v" ] || { echo "idle_heap.sh: no conn_heap_bytes in: $out" >&2; exit 1; }
    printf '{"value": %s}\n' "$v" ;;
  *) echo "usage: idle_heap.sh meta|wt|ref" >&2; exit 2 ;;
esac
