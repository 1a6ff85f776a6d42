#!/usr/bin/env bash
# dgram64: 64-byte datagrams one way, received per second. wt.h: wt_dgram
# floods wt_bench_server's /dgram (congestion-controlled; many datagrams
# share a QUIC packet), the server counts. Reference: raw UDP, one 64-byte
# UDP datagram each, sendmmsg to one recvmmsg+GRO reader (udp_flood);
# gso_value: the same sent as GSO trains, which loopback hands over whole.
# (both ends pinned apart: bench/lib.sh flood_wt, flood_ref)
. "$(dirname "$0")/../lib.sh"
secs=$(pick 0.2 1.5)
case "$1" in
meta) echo '{"title": "64 B datagrams one way", "unit": "datagrams/s", "better": "higher",
  "ref": "raw UDP flood: sendmmsg, one 64 B datagram each (gso_value: GSO trains)", "target": null, "pairs": 3}' | tr -d '\n'; echo ;;
wt) flood_wt 64 "$secs" ;;
ref) flood_ref 64 "$secs" ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
