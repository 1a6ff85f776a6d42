#!/usr/bin/env bash
# dgram1200: 1200-byte datagrams one way (one per QUIC packet), received
# per second; as dgram64 otherwise.
. "$(dirname "$0")/../lib.sh"
secs=$(pick 0.2 1.5)
case "$1" in
meta) echo '{"title": "1200 B datagrams one way", "unit": "datagrams/s", "better": "higher",
  "ref": "raw UDP flood: sendmmsg, one 1200 B datagram each (gso_value: GSO trains)", "target": null, "pairs": 3}' | tr -d '\n'; echo ;;
wt) start_server
    "$BENCH_BIN/wt_dgram" --mode flood --url "https://127.0.0.1:$SERVER_PORT/dgram" --size 1200 --seconds "$secs" ;;
ref) plain=$("$BENCH_BIN/udp_flood" --size 1200 --seconds "$secs")
     gso=$("$BENCH_BIN/udp_flood" --size 1200 --seconds "$(pick 0.1 0.75)" --gso)
     json_value "$(echo "$plain" | json_get value)" gso_value "$(echo "$gso" | json_get value)" ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
