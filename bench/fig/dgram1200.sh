#!/usr/bin/env bash
# dgram1200: 1200-byte datagrams one way (one per QUIC packet), received
# per second; as dgram64 otherwise.
# (both ends pinned apart: bench/lib.sh flood_wt, flood_ref)
. "$(dirname "$0")/../lib.sh"
secs=$(pick 0.2 1.5)
case "$1" in
meta) echo '{"title": "1200 B datagrams one way", "unit": "datagrams/s", "better": "higher",
  "ref": "raw UDP flood: sendmmsg, one 1200 B datagram each (gso_value: GSO trains)", "target": null, "pairs": 3}' | tr -d '\n'; echo ;;
wt) flood_wt 1200 "$secs" ;;
ref) flood_ref 1200 "$secs" ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
