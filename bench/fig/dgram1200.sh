#!/usr/bin/env bash
# dgram1200: 1200-byte datagrams one way (one per QUIC packet), received
# per second; as dgram64 otherwise.
# Both sides pin their two ends to different CPUs (cross_cpus): left to
# the scheduler, some runs shared one CPU and ran at half the rate.
. "$(dirname "$0")/../lib.sh"
secs=$(pick 0.2 1.5)
case "$1" in
meta) echo '{"title": "1200 B datagrams one way", "unit": "datagrams/s", "better": "higher",
  "ref": "raw UDP flood: sendmmsg, one 1200 B datagram each (gso_value: GSO trains)", "target": null, "pairs": 3}' | tr -d '\n'; echo ;;
wt) cross_cpus
    start_server ${CPU_A[@]+"${CPU_A[@]}"} --
    ${CPU_B[@]+"${CPU_B[@]}"} "$BENCH_BIN/wt_dgram" --mode flood --url "https://127.0.0.1:$SERVER_PORT/dgram" --size 1200 --seconds "$secs" ;;
ref) cross_cpus
     plain=$("$BENCH_BIN/udp_flood" --cpus "$(cpus_arg)" --size 1200 --seconds "$secs")
     gso=$("$BENCH_BIN/udp_flood" --cpus "$(cpus_arg)" --size 1200 --seconds "$(pick 0.1 0.75)" --gso)
     json_value "$(echo "$plain" | json_get value)" gso_value "$(echo "$gso" | json_get value)" ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
