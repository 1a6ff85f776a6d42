#!/usr/bin/env bash
# dgram1200_bbr: dgram1200 with both ends on BBR (limits.congestion_control
# = WT_CC_BBR). Under the default CUBIC a datagram sender whose queue
# (datagram_queue_bytes, 64 KiB) stays below the congestion window is
# app-limited, and CUBIC keeps the pacing rate it set before (from an
# older, larger RTT): bursts wait for it. BBR paces by the delivery rate it
# measures. Reference: the same raw UDP flood.
# Both sides pin their two ends to different CPUs (cross_cpus): left to
# the scheduler, some runs shared one CPU and ran at half the rate.
. "$(dirname "$0")/../lib.sh"
secs=$(pick 0.2 1.5)
case "$1" in
meta) echo '{"title": "1200 B datagrams one way, BBR", "unit": "datagrams/s", "better": "higher",
  "ref": "raw UDP flood: sendmmsg, one 1200 B datagram each (gso_value: GSO trains)", "target": null, "pairs": 3}' | tr -d '\n'; echo ;;
wt) cross_cpus
    start_server ${CPU_A[@]+"${CPU_A[@]}"} -- --cc bbr
    ${CPU_B[@]+"${CPU_B[@]}"} "$BENCH_BIN/wt_dgram" --mode flood --url "https://127.0.0.1:$SERVER_PORT/dgram" --size 1200 --seconds "$secs" --cc bbr ;;
ref) cross_cpus
     plain=$("$BENCH_BIN/udp_flood" --cpus "$(cpus_arg)" --size 1200 --seconds "$secs")
     gso=$("$BENCH_BIN/udp_flood" --cpus "$(cpus_arg)" --size 1200 --seconds "$(pick 0.1 0.75)" --gso)
     json_value "$(echo "$plain" | json_get value)" gso_value "$(echo "$gso" | json_get value)" ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
