#!/usr/bin/env bash
# handshake_ceiling: the raw stack's handshake ceiling, server handshakes per
# CPU-second of an ngtcp2 + wolfSSL server in memory (bench/handshake_raw.c:
# no sockets, no wt.h; the client on the same core is not counted), with
# ngtcp2's wolfSSL glue as tools/deps.sh patches it (wt side: HKDF through
# wc_HKDF_*) against the pristine glue (ref side: HKDF through wolfSSL's EVP
# layer, a random-number generator set up per derivation). Target: the patch
# lifts the ceiling 1.8x. Extra keys: the binary's line (handshakes_per_s of
# client and server together, server_cpu_ms, conn_heap_bytes).
. "$(dirname "$0")/../lib.sh"
run() { # binary
  local out
  [ -x "$BENCH_BIN/$1" ] || { echo "handshake_ceiling: $BENCH_BIN/$1 not built (make $BENCH_BIN/$1)" >&2; exit 1; }
  out=$("$BENCH_BIN/$1" --n "$(pick 3 500)" --warmup "$(pick 1 10)" --quiet)
  json_value "$(echo "$out" | json_get server_handshakes_per_s)" run "$out"
}
case "$1" in
meta) echo '{"title": "raw handshake ceiling, server side (ngtcp2+wolfSSL in memory)", "unit": "handshakes/s per core",
  "better": "higher", "ref": "the same loop with ngtcp2'"'"'s unpatched wolfSSL glue", "target": {"ratio_min": 1.8}, "pairs": 3}' |
  tr -d '\n'; echo ;;
wt) run handshake_raw ;;
ref) run handshake_raw_unpatched ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
