#!/usr/bin/env bash
# dgram64_stable: the dgram64 flood ten times in a row (shorter runs);
# every run within 20% of the others ((max-min)/median), i.e. small
# datagrams never collapse. No reference.
# (both ends pinned apart: bench/lib.sh flood_wt, flood_ref)
. "$(dirname "$0")/../lib.sh"
case "$1" in
meta) echo '{"title": "64 B datagrams, 10 runs in a row", "unit": "datagrams/s", "better": "higher",
  "ref": "none (the spread of the wt.h runs is the figure)", "target": {"spread_max": 0.2}, "pairs": 10}' | tr -d '\n'; echo ;;
wt) flood_wt 64 "$(pick 0.2 0.8)" ;;
ref) echo '{"value": null}' ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
