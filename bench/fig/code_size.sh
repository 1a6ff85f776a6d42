#!/usr/bin/env bash
# code_size: examples/echo_server.c linked statically (wolfSSL, ngtcp2,
# nghttp3, glibc), -Os, --gc-sections, stripped: the file's size. Built
# by make bench-bins as build/bench/echo_server_static. No reference.
. "$(dirname "$0")/../lib.sh"
case "$1" in
meta) echo '{"title": "static stripped echo server", "unit": "KiB", "better": "lower",
  "ref": "none", "target": null, "pairs": 1}' | tr -d '\n'; echo ;;
wt) f="$BENCH_BIN/echo_server_static"
    [ -f "$f" ] || { echo "$f not built (make bench-bins)" >&2; exit 1; }
    bytes=$(stat -c %s "$f")
    json_value "$(python3 -c "print(round($bytes / 1024, 1))")" bytes "$bytes" ;;
ref) echo '{"value": null}' ;;
*) echo "usage: $0 meta|wt|ref" >&2; exit 2 ;;
esac
