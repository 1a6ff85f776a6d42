#!/usr/bin/env bash
# rtt: a 64-byte round trip, one at a time, the two ends on different
# CPUs; the median. wt.h: a datagram to wt_bench_server's /echo and back
# (wt_dgram --mode rtt); reference: raw UDP (udp_pingpong, blocking
# recv, the echo thread on the other CPU).
. "$(dirname "$0")/../lib.sh"
n=$(pick 50 3000)
case "$1" in
meta) echo '{"title": "64 B round trip across CPUs (p50)", "unit": "us", "better": "lower",
  "ref": "raw UDP ping-pong", "target": {"ratio_max": 1.15}, "pairs": 3}' | tr -d '\n'; echo ;;
wt) cross_cpus
    start_server ${CPU_A[@]+"${CPU_A[@]}"} --
    ${CPU_B[@]+"${CPU_B[@]}"} "$BENCH_BIN/wt_dgram" --mode rtt --url "https://127.0.0.1:$SERVER_PORT/echo" --size 64 --n "$n" ;;
ref) cross_cpus
     if [ ${#CPU_A[@]} -gt 0 ]; then cpus=0,1; else cpus=-; fi
     "$BENCH_BIN/udp_pingpong" --size 64 --n "$n" --cpus "$cpus" ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
