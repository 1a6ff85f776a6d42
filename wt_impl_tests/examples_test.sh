#!/usr/bin/env bash
# The examples as a user runs them, each server in a scratch directory of
# its own: echo_server with the client example (pinned by hash, verified by
# CA file), and basic, routing, lifecycle, chat and concurrent_streams
# driven by example_probe (wt_impl_tests/example_probe.c), which prints one
# line per event. Then the README's ten-line server and client, cut out of
# README.md, compiled and run against each other.
# Usage: examples_test.sh <build dir>. Last line: "N passed, N failed".
set -u
B=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   examples: $1"; }
bad() { # name, output to show
  fail=$((fail + 1)); echo "FAIL examples: $1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/     /'
  return 0
}
check() { # name, command... (exit 0 expected unless name starts with "!")
  local name=$1; shift
  local want=0 out rc
  case "$name" in '!'*) want=1; name=${name#!} ;; esac
  out=$("$@" 2>&1); rc=$?
  if { [ "$want" -eq 0 ] && [ "$rc" -eq 0 ]; } || { [ "$want" -eq 1 ] && [ "$rc" -ne 0 ]; }; then ok "$name"
  else bad "$name (exit $rc)" "$out"; fi
  LAST_OUT=$out
}
# expect NAME TEXT FILE-OR-"-": the text is a whole line of the output
expect() {
  local text
  if [ "$3" = - ]; then text=$LAST_OUT; else text=$(cat "$3"); fi
  if grep -qxF -- "$2" <<<"$text"; then ok "$1"; else bad "$1: no line \"$2\"" "$text"; fi
}
# expect_re NAME REGEX FILE: a line of the file matches (grep -E)
expect_re() {
  if grep -qE -- "$2" "$3"; then ok "$1"; else bad "$1: no line matching $2" "$(cat "$3")"; fi
}
# wait_for FILE REGEX [N]: until N lines (default 1) match, 10 s at most
wait_for() {
  local i
  for i in $(seq 100); do [ "$(grep -cE -- "$2" "$1" 2>/dev/null)" -ge "${3:-1}" ] && return 0; sleep 0.1; done
  return 1
}

servers=""
cleanup() {
  local p
  for p in $servers; do kill "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT

# start NAME [ARGS]: runs build/examples/NAME on a free port in $dir/NAME;
# sets port, hash, pid, out. The server says where it listens; a port that
# is taken is retried.
start() {
  local name=$1 try
  mkdir -p "$dir/$name"
  out="$dir/$name/out"
  for try in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    (cd "$dir/$name" && exec "$B/examples/$name" "$port" >"$out" 2>&1) &
    pid=$!
    servers="$servers $pid"
    for _ in $(seq 100); do grep -q "listening on" "$out" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    grep -q "listening on" "$out" && break
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    pid=""
  done
  hash=$(sed -n 's/.*sha256 \([0-9a-f]\{64\}\) (for serverCertificateHashes).*/\1/p' "$out" | head -n1)
  if [ -z "$pid" ] || [ -z "$hash" ]; then
    bad "$name did not start" "$(cat "$out")"; return 1
  fi
}
# stop SIGNAL: the last started server must end on it
stop() {
  local i
  kill "-$1" "$pid"
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then bad "$name ignored SIG$1"; kill -9 "$pid"; wait "$pid" 2>/dev/null; return 1; fi
  wait "$pid"; stop_rc=$?
}
probe() { timeout 20 "$B/example_probe" "$@"; }
run_client() { timeout 20 "$B/examples/client" "$@"; }

# ---------------------------------------------------------------- echo_server + client
name=echo_server
if start echo_server; then
  check "client pinned by hash gets the stream echo" run_client "https://127.0.0.1:$port/" "$hash"
  expect "echo_server's reply text" "Reply: ECHO: Hello, WebTransport!" -
  check "client verified by CA file (name localhost)" run_client "https://localhost:$port/" --ca "$dir/echo_server/localhost.crt"
  check "!client with a wrong pin fails" run_client "https://127.0.0.1:$port/" "$(echo "$hash" | tr '0-9a-f' '1-9a-f0')"
  check "!client to an unrouted path is refused" run_client "https://127.0.0.1:$port/nope" "$hash"
  grep -q "404" <<<"$LAST_OUT" && ok "the refusal names 404" || bad "the refusal names 404" "$LAST_OUT"
  stop INT && ok "echo_server stops on SIGINT"
  grep -q "session .* closed: code 0" "$out" && ok "echo_server saw the client's close" ||
    bad "echo_server saw the client's close" "$(cat "$out")"
fi

# ---------------------------------------------------------------- basic_server
name=basic_server
if start basic_server; then
  check "basic_server: a session on / opens, the client closes it" probe "https://127.0.0.1:$port/" "$hash" --close
  expect "basic_server: the client saw its own close" "CLOSED code=0 reason=bye error=0 status=0" -
  wait_for "$out" "^Session 1 closed\.$"
  expect_re "basic_server prints who came, and the path" "^Session received from 127\.0\.0\.1:[0-9]+ for path /$" "$out"
  expect "basic_server prints the close" "Session 1 closed." "$out"
  check "basic_server: other paths are refused" probe "https://127.0.0.1:$port/other" "$hash"
  expect "basic_server: ... with 404" "CLOSED code=0 reason= error=-17 status=404" -
  stop INT && ok "basic_server stops on SIGINT"
fi

# ---------------------------------------------------------------- routing_server
name=routing_server
if start routing_server; then
  check "routing_server: /" probe "https://127.0.0.1:$port/" "$hash"
  expect "routing_server: / gets its message on a uni stream" "UNI Welcome to the home page!" -
  expect "routing_server: then the server closes with code 0" "CLOSED code=0 reason= error=0 status=0" -
  check "routing_server: /api/v1/status" probe "https://127.0.0.1:$port/api/v1/status?verbose=1" "$hash"
  expect "routing_server: /api/v1/status gets its own message (query ignored)" 'UNI {"status": "ok"}' -
  expect "routing_server: then the server closes with code 0" "CLOSED code=0 reason= error=0 status=0" -
  check "routing_server: /nope" probe "https://127.0.0.1:$port/nope" "$hash"
  expect "routing_server: other paths get 404" "CLOSED code=0 reason= error=-17 status=404" -
  grep -q '^UNI' <<<"$LAST_OUT" && bad "routing_server: a refused session got a message" "$LAST_OUT"
  stop INT && ok "routing_server stops on SIGINT"
fi

# ---------------------------------------------------------------- lifecycle_server
name=lifecycle_server
if start lifecycle_server; then
  expect "lifecycle_server: the startup hook ran" "Server is starting up..." "$out"
  expect "lifecycle_server: ... and connected the pool" "Database pool connected." "$out"
  grep -q "shutting down" "$out" && bad "lifecycle_server: shut down before it was asked" "$(cat "$out")"
  check "lifecycle_server: a session on /" probe "https://127.0.0.1:$port/" "$hash"
  expect "lifecycle_server: closes each session with its reason" "CLOSED code=0 reason=Work done. error=0 status=0" -
  if stop TERM; then
    [ "$stop_rc" -eq 0 ] && ok "lifecycle_server exits 0 on SIGTERM" || bad "lifecycle_server exits 0 on SIGTERM (exit $stop_rc)"
    expect "lifecycle_server: the shutdown hook ran" "Server is shutting down..." "$out"
    expect "lifecycle_server: ... and closed the pool" "Database pool closed." "$out"
    expect "lifecycle_server: then says why it stopped" "Server stopped by user." "$out"
    # the order is the point: startup, sessions, shutdown hooks, the last word
    order=$(grep -nE '^(Server is starting up|Database pool connected|Server is shutting down|Database pool closed|Server stopped by user)' "$out" | cut -d: -f2- | tr '\n' '|')
    [ "$order" = "Server is starting up...|Database pool connected.|Server is shutting down...|Database pool closed.|Server stopped by user.|" ] &&
      ok "lifecycle_server: in that order" || bad "lifecycle_server: in that order" "$(cat "$out")"
  fi
fi

# ---------------------------------------------------------------- chat_server
name=chat_server
if start chat_server; then
  expect "chat_server says where it runs" "Chat server running at https://127.0.0.1:$port/chat" "$out"
  check "chat_server: two members talk" probe "https://127.0.0.1:$port/chat" "$hash" --chat
  expect "chat_server: B's datagram reached A" "A got hello from B" -
  expect "chat_server: A's datagram reached B" "B got hello from A" -
  grep -qxF "B got hello from B" <<<"$LAST_OUT" && bad "chat_server: B got its own message back" "$LAST_OUT"
  grep -qxF "A got hello from A" <<<"$LAST_OUT" && bad "chat_server: A got its own message back" "$LAST_OUT"
  wait_for "$out" '^Session [12] left\.$' 2
  [ "$(grep -c '^Session [12] joined\.$' "$out")" -eq 2 ] && ok "chat_server: two members joined" ||
    bad "chat_server: two members joined" "$(cat "$out")"
  [ "$(grep -c '^Session [12] left\.$' "$out")" -eq 2 ] && ok "chat_server: and both left" ||
    bad "chat_server: and both left" "$(cat "$out")"
  grep -qE '^Broadcasting from [12]: hello from B$' "$out" && ok "chat_server: broadcast B's message" ||
    bad "chat_server: broadcast B's message" "$(cat "$out")"
  stop INT && ok "chat_server stops on SIGINT"
fi

# ---------------------------------------------------------------- concurrent_streams_server
name=concurrent_streams_server
if start concurrent_streams_server; then
  check "concurrent_streams_server: five uploads at once" probe "https://127.0.0.1:$port/upload" "$hash" --uploads 5 3000 --close
  replies=$(grep -cE '^REPLY Processed 3000 bytes from stream [0-9]+\.$' <<<"$LAST_OUT")
  [ "$replies" -eq 5 ] && ok "concurrent_streams_server: every upload answered" ||
    bad "concurrent_streams_server: every upload answered ($replies of 5)" "$LAST_OUT"
  # in parallel: every task started before the first one finished
  tasks=$(grep -E '^Task (started|finished) for stream' "$out" | cut -d' ' -f2 | tr '\n' ' ')
  [ "$tasks" = "started started started started started finished finished finished finished finished " ] &&
    ok "concurrent_streams_server: all five worked on at once" ||
    bad "concurrent_streams_server: all five worked on at once" "$(cat "$out")"
  # a client that leaves cancels the work (wt_loop_timer_cancel), nothing is answered
  check "concurrent_streams_server: three uploads abandoned" probe "https://127.0.0.1:$port/upload" "$hash" --uploads 3 100 --abandon
  grep -q '^REPLY' <<<"$LAST_OUT" && bad "concurrent_streams_server: an abandoned upload was answered" "$LAST_OUT"
  wait_for "$out" '^Task cancelled for stream' 3
  [ "$(grep -c '^Task cancelled for stream' "$out")" -eq 3 ] && ok "concurrent_streams_server: their tasks were cancelled" ||
    bad "concurrent_streams_server: their tasks were cancelled" "$(cat "$out")"
  [ "$(grep -c '^Task finished for stream' "$out")" -eq 5 ] && ok "concurrent_streams_server: and never finished" ||
    bad "concurrent_streams_server: and never finished" "$(cat "$out")"
  stop INT && ok "concurrent_streams_server stops on SIGINT"
fi

# ---------------------------------------------------------------- the README's ten lines
# The two ```c blocks under their headings, compiled as the README says and
# run against each other: the README cannot go stale. Only the port is
# changed (4433 may be taken).
readme_block() { # heading
  awk -v h="$1" '$0 == h {f = 1; next} f && /^```c$/ {p = 1; next} p && /^```$/ {exit} p {print}' "$here/README.md"
}
mkdir -p "$dir/readme"
readme_block "## A server in ten lines" >"$dir/readme/server.c.in"
readme_block "## A client in ten lines" >"$dir/readme/client.c.in"
# build_readme PORT: both programs with that port; 0 when both compiled
build_readme() {
  local f rc=0
  for f in server client; do
    sed "s/4433/$1/g" "$dir/readme/$f.c.in" >"$dir/readme/$f.c"
    cc -std=c11 -Wall -Wextra -Werror -I"$here" $(cat "$B/deps/cflags") "$dir/readme/$f.c" -o "$dir/readme/$f" \
      $(cat "$B/deps/libs") >"$dir/readme/$f.log" 2>&1 || rc=1
  done
  return $rc
}
pid=""
for f in server client; do
  grep -q 4433 "$dir/readme/$f.c.in" || bad "README's $f: no code block with port 4433 under its heading" \
    "$(cat "$dir/readme/$f.c.in")"
done
for try in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  if ! build_readme "$port"; then
    bad "README's ten-line server and client compile (-Wall -Wextra -Werror)" "$(cat "$dir/readme/"*.log)"
    break
  fi
  [ "$try" -eq 1 ] && ok "README's ten-line server and client compile (-Wall -Wextra -Werror)"
  (cd "$dir/readme" && exec ./server >server.out 2>&1) &
  pid=$!
  servers="$servers $pid"
  # it prints nothing: wait until its UDP port is bound
  hexport=$(printf '%04X' "$port")
  for _ in $(seq 100); do grep -q ":$hexport " /proc/net/udp && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  grep -q ":$hexport " /proc/net/udp && kill -0 "$pid" 2>/dev/null && break
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  pid=""
done
if [ -n "$pid" ]; then
  out=$(cd "$dir/readme" && timeout 20 ./client 2>&1); rc=$?
  [ "$rc" -eq 0 ] && ok "README's client exits 0" || bad "README's client exits 0 (exit $rc)" "$out"
  [ "$out" = "hello" ] && ok "README's client prints the echo, \"hello\"" || bad "README's client prints the echo" "$out"
  kill "$pid"; wait "$pid" 2>/dev/null
elif [ -f "$dir/readme/server" ]; then
  bad "README's server did not start" "$(cat "$dir/readme/server.out")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
