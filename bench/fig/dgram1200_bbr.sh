#!/usr/bin/env bash
# dgram1200_bbr: dgram1200 with both ends on BBR (limits.congestion_control
# = WT_CC_BBR). A datagram sender whose queue (datagram_queue_bytes, 64
# KiB) stays below the congestion window is app-limited; unpatched, ngtcp2's
# CUBIC then keeps the pacing rate of its last window change (the bundled
# ngtcp2 is patched: tools/patches/ngtcp2-1.24.0-pacing.patch). BBR paces by
# the delivery rate it measures. Reference: the same raw UDP flood.
# (both ends pinned apart: bench/lib.sh flood_wt, flood_ref)
. "$(dirname "$0")/../lib.sh"
secs=$(pick 0.2 1.5)
case "$1" in
meta) echo '{"title": "1200 B datagrams one way, BBR", "unit": "datagrams/s", "better": "higher",
  "ref": "raw UDP flood: sendmmsg, one 1200 B datagram each (gso_value: GSO trains)", "target": null, "pairs": 3}' | tr -d '\n'; echo ;;
wt) flood_wt 1200 "$secs" --cc bbr ;;
ref) flood_ref 1200 "$secs" ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
