#!/usr/bin/env bash
# ngtcp2's wolfSSL glue, patched (tools/patches/ngtcp2-wolfssl-hkdf.patch: HKDF
# through wc_HKDF_*) and pristine, must derive the same keys: echo_server and
# echo_client built against each (build/examples/ and build/hkdf/*_unpatched)
# complete sessions in all four pairings, the stream and the datagram echoed.
# Also: the binaries are what their names say (the patched glue calls
# wc_HKDF_Expand, the pristine one does not), handshake_raw runs with both
# glues, and bench/session_mem runs. Usage: hkdf_interop_test.sh <build dir>. Last line: "N passed, N failed".
set -u
B=$(cd "${1:-build}" && pwd)
dir=$(mktemp -d)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   hkdf: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL hkdf: $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/     /'; return 0; }
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

if [ ! -f "$B/deps/libs_unpatched" ]; then
  echo "skipped: the dependencies are system libraries, without an unpatched ngtcp2 glue (WT_DEPS=build builds one)"
  echo "0 passed, 0 failed"
  exit 0
fi
srv_patched=$B/examples/echo_server cli_patched=$B/examples/echo_client
srv_unpatched=$B/hkdf/echo_server_unpatched cli_unpatched=$B/hkdf/echo_client_unpatched
for f in "$srv_patched" "$cli_patched" "$srv_unpatched" "$cli_unpatched"; do
  [ -x "$f" ] || { bad "$f is missing (make test builds it)"; echo "$pass passed, $fail failed"; exit 1; }
done

# calls NAME BINARY FUNCTION: how many calls the function ngtcp2_crypto_hkdf_expand makes to it
calls() { objdump -d --no-show-raw-insn --disassemble=ngtcp2_crypto_hkdf_expand "$1" 2>/dev/null | grep -c "call.*<$2>"; }
if command -v objdump >/dev/null 2>&1; then
  [ "$(calls "$cli_patched" wc_HKDF_Expand)" -ge 1 ] && ok "the patched glue calls wc_HKDF_Expand" ||
    bad "the patched glue calls wc_HKDF_Expand" "$(objdump -d --disassemble=ngtcp2_crypto_hkdf_expand "$cli_patched" | head -40)"
  [ "$(calls "$cli_unpatched" wc_HKDF_Expand)" -eq 0 ] && [ "$(calls "$cli_unpatched" wolfSSL_quic_hkdf_expand)" -ge 1 ] &&
    ok "the unpatched glue calls wolfSSL_quic_hkdf_expand, not wc_HKDF_Expand" ||
    bad "the unpatched glue calls wolfSSL_quic_hkdf_expand, not wc_HKDF_Expand"
fi

# start SERVER: on a free port in $dir (a development certificate); sets port, hash, pid, out
start() {
  local try
  out="$dir/server.out"
  for try in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    (cd "$dir" && exec "$1" --port "$port" >"$out" 2>&1) &
    pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$out" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    grep -q "listening on" "$out" && break
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    pid=""
  done
  hash=$(grep -oE 'sha256[: ]+[0-9a-f]{64}' "$out" | grep -oE '[0-9a-f]{64}' | head -n1)
  [ -n "$pid" ] && [ -n "$hash" ]
}
stop() {
  kill -INT "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=""
}

for s in patched unpatched; do
  for c in patched unpatched; do
    srv=srv_$s cli=cli_$c
    name="$c client, $s server"
    if ! start "${!srv}"; then bad "$name: the server did not start" "$(cat "$out")"; continue; fi
    # two sessions, each a new connection and handshake
    for k in 1 2; do
      got=$(timeout 20 "${!cli}" --pin "$hash" "https://127.0.0.1:$port/" 2>&1); rc=$?
      if [ "$rc" -eq 0 ] && grep -qxF "Reply: ECHO: Hello, WebTransport!" <<<"$got" &&
        grep -qxF "Datagram echo: ECHO: Hello, datagram!" <<<"$got"; then
        ok "$name: session $k, stream and datagram echoed"
      else
        bad "$name: session $k, stream and datagram echoed (exit $rc)" "$got"
      fi
    done
    stop
  done
done

# the benchmark binaries run with both glues and say which they have
for v in "" _unpatched; do
  if [ -x "$B/bench/handshake_raw$v" ]; then
    got=$(timeout 60 "$B/bench/handshake_raw$v" --n 3 --warmup 1 --quiet 2>&1); rc=$?
    want=${v:+unpatched}; want=${want:-patched}
    if [ "$rc" -eq 0 ] && grep -q "\"glue\": \"$want\"" <<<"$got" && grep -q '"handshakes_per_s": [0-9]' <<<"$got"; then
      ok "handshake_raw$v: 3 handshakes in memory ($want glue)"
    else bad "handshake_raw$v: 3 handshakes in memory ($want glue) (exit $rc)" "$got"; fi
  fi
done
if [ -x "$B/bench/handshake_raw" ] && [ -x "$B/bench/handshake_raw_unpatched" ]; then
  got=$(timeout 60 "$B/bench/handshake_raw" --unpatched --n 2 --warmup 0 --quiet 2>&1); rc=$?
  [ "$rc" -eq 0 ] && grep -q '"glue": "unpatched"' <<<"$got" && ok "handshake_raw --unpatched runs the unpatched binary" ||
    bad "handshake_raw --unpatched runs the unpatched binary (exit $rc)" "$got"
fi
if [ -x "$B/bench/session_mem" ]; then
  got=$(timeout 60 "$B/bench/session_mem" --n 3 --warmup 0 2>&1); rc=$?
  [ "$rc" -eq 0 ] && grep -q '"server_cpu_ms": [0-9]' <<<"$got" && ok "session_mem: 3 whole sessions in memory" ||
    bad "session_mem: 3 whole sessions in memory (exit $rc)" "$got"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
