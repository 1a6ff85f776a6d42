#!/usr/bin/env bash
# Figure handshake_ceiling: the raw stack's handshake ceiling, server handshakes
# per CPU-second of an ngtcp2 + wolfSSL server in memory (bench/handshake_raw.c:
# no sockets, no wt.h), with ngtcp2's wolfSSL glue as tools/deps.sh patches it
# (wt side: HKDF through wc_HKDF_*) and pristine (ref side). Target: the patch
# lifts the ceiling 1.8x. Usage: handshake_ceiling.sh meta|wt|ref (figure
# protocol: bench/run.py). Extra keys: handshakes_per_s (client and server on
# one core, wall clock), server_cpu_ms, conn_heap_bytes.
set -euo pipefail
side=${1:?usage: handshake_ceiling.sh meta|wt|ref}
bin=${BENCH_BIN:-build/bench}
n=1000 warmup=20
if [ "${BENCH_SMOKE:-0}" = 1 ]; then n=3 warmup=1; fi
case "$side" in
  meta)
    echo '{"title": "Raw handshake ceiling (ngtcp2 + wolfSSL in memory, server side)", "unit": "handshakes/s per core", "better": "higher", "ref": "the same loop with ngtcp2'"'"'s pristine wolfSSL glue (HKDF through EVP, a DRBG per call)", "target": {"ratio_min": 1.8}, "pairs": 3}'
    exit 0 ;;
  wt) prog=$bin/handshake_raw ;;
  ref) prog=$bin/handshake_raw_unpatched ;;
  *) echo "handshake_ceiling.sh: side must be meta, wt or ref" >&2; exit 2 ;;
esac
[ -x "$prog" ] || { echo "handshake_ceiling.sh: $prog not built (make $prog)" >&2; exit 1; }
out=$("$prog" --n "$n" --warmup "$warmup" --quiet)
python3 -c '
import json, sys
r = json.loads(sys.argv[1])
r["value"] = r["server_handshakes_per_s"]
print(json.dumps(r))' "$out"
