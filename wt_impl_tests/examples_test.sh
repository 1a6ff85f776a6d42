#!/usr/bin/env bash
# The examples as a user runs them: echo_server in a scratch directory,
# the client example against it, pinned by hash and verified by CA file.
# Usage: examples_test.sh <build dir>. Last line: "N passed, N failed".
set -u
B=$(cd "${1:-build}" && pwd)
dir=$(mktemp -d)
pass=0 fail=0
check() { # name, command... (exit 0 expected unless name starts with "!")
  local name=$1; shift
  local want=0 out rc
  case "$name" in '!'*) want=1; name=${name#!} ;; esac
  out=$("$@" 2>&1); rc=$?
  if { [ "$want" -eq 0 ] && [ "$rc" -eq 0 ]; } || { [ "$want" -eq 1 ] && [ "$rc" -ne 0 ]; }; then
    pass=$((pass + 1)); echo "ok   examples: $name"
  else
    fail=$((fail + 1)); echo "FAIL examples: $name (exit $rc)"; printf '%s\n' "$out" | sed 's/^/     /'
  fi
  LAST_OUT=$out
}
contains() { grep -qF -- "$1" <<<"$LAST_OUT"; }

server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
# a free port: the server says where it listens; try a few if one is taken
for try in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  (cd "$dir" && exec "$B/examples/echo_server" "$port" >"$dir/server.out" 2>&1) &
  server_pid=$!
  for _ in $(seq 50); do grep -q "listening on" "$dir/server.out" 2>/dev/null && break; kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  grep -q "listening on" "$dir/server.out" && break
  server_pid=""
done
hash=$(sed -n 's/.*sha256 \([0-9a-f]\{64\}\) (for serverCertificateHashes).*/\1/p' "$dir/server.out" | head -n1)
if [ -z "$server_pid" ] || [ -z "$hash" ]; then
  echo "FAIL examples: echo_server did not start"; cat "$dir/server.out"; echo "0 passed, 1 failed"; exit 1
fi
run_client() { timeout 20 "$B/examples/client" "$@"; }
check "client pinned by hash gets the stream echo" run_client "https://127.0.0.1:$port/" "$hash"
if ! contains "Reply: ECHO: Hello, WebTransport!"; then fail=$((fail + 1)); echo "FAIL examples: reply text"; fi
check "client verified by CA file (name localhost)" run_client "https://localhost:$port/" --ca "$dir/localhost.crt"
check "!client with a wrong pin fails" run_client "https://127.0.0.1:$port/" "$(echo "$hash" | tr '0-9a-f' '1-9a-f0')"
check "!client to an unrouted path is refused" run_client "https://127.0.0.1:$port/nope" "$hash"
contains "404" || { fail=$((fail + 1)); echo "FAIL examples: refusal names 404"; }
kill -INT "$server_pid"
for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server_pid" 2>/dev/null; then fail=$((fail + 1)); echo "FAIL examples: echo_server ignored SIGINT"
else pass=$((pass + 1)); echo "ok   examples: echo_server stops on SIGINT"; fi
grep -q "session .* closed: code 0" "$dir/server.out" && { pass=$((pass + 1)); echo "ok   examples: server saw the client's close"; } ||
  { fail=$((fail + 1)); echo "FAIL examples: server saw the client's close"; cat "$dir/server.out"; }
server_pid=""
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
