#!/usr/bin/env bash
# The examples as a user runs them, each server in a scratch directory of
# its own, each driven by its client twin and by example_probe
# (wt_impl_tests/example_probe.c, the wt.h client printing one line per
# event): echo_server (echo_client, wtcat), basic, routing, lifecycle, chat
# (chat_client, three probe members) and concurrent_streams (upload_client,
# five probe uploads). Each server's printed lines are the guide's. Then the
# README's ten-line server and client, cut out of README.md, compiled and
# run against each other. Every wait has a deadline.
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
# check NAME [!|=N] COMMAND...: exit 0 expected; "!" any failure, "=N" exactly N
check() {
  local name=$1 want=0 out rc; shift
  case "${1:-}" in '!') want=any; shift ;; =*) want=${1#=}; shift ;; esac
  out=$("$@" 2>&1); rc=$?
  if { [ "$want" = any ] && [ "$rc" -ne 0 ]; } || [ "$want" = "$rc" ]; then ok "$name"
  else bad "$name (exit $rc, wanted ${want/any/non-zero})" "$out"; fi
  LAST_OUT=$out
}
# expect NAME TEXT FILE-OR-"-": the text is a whole line of the output
expect() {
  local text
  if [ "$3" = - ]; then text=$LAST_OUT; else text=$(cat "$3"); fi
  if grep -qxF -- "$2" <<<"$text"; then ok "$1"; else bad "$1: no line \"$2\"" "$text"; fi
}
# expect_not NAME TEXT FILE-OR-"-": no such line
expect_not() {
  local text
  if [ "$3" = - ]; then text=$LAST_OUT; else text=$(cat "$3"); fi
  if grep -qxF -- "$2" <<<"$text"; then bad "$1: a line \"$2\"" "$text"; else ok "$1"; fi
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
# lines FILE REGEX: the matching lines, in order, joined by "|"
lines() { grep -E -- "$2" "$1" | tr '\n' '|'; }

servers=""
cleanup() {
  local p
  for p in $servers; do kill "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT

# start NAME [ARGS]: runs build/examples/NAME --port P [ARGS] on a free port in
# $dir/NAME; sets port, hash, pid, out. The server says where it listens and
# logs its certificate's SHA-256; a port that is taken is retried.
start() {
  local name=$1 try; shift
  mkdir -p "$dir/$name"
  out="$dir/$name/out"
  for try in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    (cd "$dir/$name" && exec "$B/examples/$name" --port "$port" "$@" >"$out" 2>&1) &
    pid=$!
    servers="$servers $pid"
    for _ in $(seq 100); do grep -q "listening on" "$out" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    grep -q "listening on" "$out" && break
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    pid=""
  done
  hash=$(grep -oE 'sha256[: ]+[0-9a-f]{64}' "$out" | grep -oE '[0-9a-f]{64}' | head -n1)
  if [ -z "$pid" ] || [ -z "$hash" ]; then
    bad "$name did not start" "$(cat "$out")"; return 1
  fi
}
# stop SIGNAL: the last started server must end on it (10 s at most) with
# exit 0 (a sanitizer's report fails it too); sets stop_rc
stop() {
  local i
  kill "-$1" "$pid"
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then bad "$name ignored SIG$1"; kill -9 "$pid"; wait "$pid" 2>/dev/null; return 1; fi
  wait "$pid"; stop_rc=$?
  [ "$stop_rc" -eq 0 ] || bad "$name exits 0 on SIG$1 (exit $stop_rc)" "$(tail -n 40 "$out")"
  [ "$stop_rc" -eq 0 ]
}
probe() { timeout 20 "$B/example_probe" "$@"; }
ex() { local p=$1; shift; timeout 20 "$B/examples/$p" "$@"; }
url() { echo "https://127.0.0.1:$port$1"; }

# ---------------------------------------------------------------- arguments
check "basic_server --help: the options, exit 0" =0 ex basic_server --help
check "basic_server with an unknown argument: exit 1" =1 ex basic_server --bogus
check "wtcat --help: exit 0" =0 ex wtcat --help
check "wtcat without a URL: exit 1" =1 ex wtcat </dev/null

# ---------------------------------------------------------------- sans_io_echo
# No sockets: an app and a client through an in-memory UDP stack, virtual clock.
check "sans_io_echo: a session through an in-memory UDP stack, exit 0" ex sans_io_echo
expect "sans_io_echo: the stream echo" "stream echo: Hello over a stream, no sockets!" -
expect "sans_io_echo: the datagram echo" "datagram echo: Hello over a datagram, no sockets!" -

# ---------------------------------------------------------------- echo_server
# With --cert/--key (from gen_cert), so that --ca can verify it by name.
name=echo_server
mkdir -p "$dir/echo_server"
check "gen_cert writes localhost.crt/.key" bash -c "cd '$dir/echo_server' && '$B/examples/gen_cert' localhost"
if start echo_server --cert localhost.crt --key localhost.key; then
  check "echo_client pinned by hash" ex echo_client --pin "$hash" "$(url /)"
  expect "echo_client: the stream's echo" "Reply: ECHO: Hello, WebTransport!" -
  expect "echo_client: the datagram's echo" "Datagram echo: ECHO: Hello, datagram!" -
  check "echo_client verified by CA file (name localhost)" ex echo_client --ca "$dir/echo_server/localhost.crt" "https://localhost:$port/"
  check "echo_client with a wrong pin fails" ! ex echo_client --pin "$(echo "$hash" | tr '0-9a-f' '1-9a-f0')" "$(url /)"
  check "echo_client without a way to verify is a usage error" =1 ex echo_client "$(url /)"
  check "echo_client to an unrouted path is refused" ! ex echo_client --pin "$hash" "$(url /nope)"
  grep -q "404" <<<"$LAST_OUT" && ok "the refusal names 404" || bad "the refusal names 404" "$LAST_OUT"
  wait_for "$out" '^Datagram handler stopped\.$'
  expect_re "echo_server: Session received from <address>" '^Session received from 127\.0\.0\.1:[0-9]+$' "$out"
  expect "echo_server: Datagram handler started." "Datagram handler started." "$out"
  expect "echo_server: Stream handler started." "Stream handler started." "$out"
  expect_re "echo_server: Received new stream: N" '^Received new stream: [0-9]+$' "$out"
  sid=$(sed -n 's/^Received new stream: \([0-9]*\)$/\1/p' "$out" | head -n1)
  expect "echo_server: Received stream data as Python prints bytes" "Received stream data: b'Hello, WebTransport!'" "$out"
  expect "echo_server: Stream N finished. (the same N)" "Stream $sid finished." "$out"
  expect "echo_server: Received datagram as Python prints bytes" "Received datagram: b'Hello, datagram!'" "$out"
  expect_re "echo_server: Session N closing. Cleaning up tasks." '^Session [0-9]+ closing\. Cleaning up tasks\.$' "$out"
  expect "echo_server: Datagram handler stopped." "Datagram handler stopped." "$out"

  # wtcat: 1 MiB through a stream and back, byte for byte
  head -c 1048576 /dev/urandom >"$dir/mib"
  { printf 'ECHO: '; cat "$dir/mib"; } >"$dir/mib.want"
  if timeout 30 "$B/examples/wtcat" -q --pin "$hash" "$(url /)" <"$dir/mib" >"$dir/mib.got" 2>"$dir/mib.err"; then
    ok "wtcat: 1 MiB piped through echo_server, exit 0"
  else bad "wtcat: 1 MiB piped through echo_server, exit 0 (exit $?)" "$(cat "$dir/mib.err")"; fi
  cmp -s "$dir/mib.want" "$dir/mib.got" && ok "wtcat: ... and back intact (cmp)" ||
    bad "wtcat: ... and back intact (cmp)" "$(cmp "$dir/mib.want" "$dir/mib.got" 2>&1)"
  check "wtcat -d: two lines as datagrams" bash -c "printf 'one\ntwo\n' | timeout 20 '$B/examples/wtcat' -q -d -w 300 --pin $hash $(url /)"
  expect "wtcat -d: the first line's echo" "ECHO: one" -
  expect "wtcat -d: the second line's echo" "ECHO: two" -
  expect_re "echo_server printed wtcat's datagram" "^Received datagram: b'two'$" "$out"
  # 20000 lines at once: the queue fills (WOULDBLOCK), wtcat waits for
  # WT_EV_DATAGRAM_WRITABLE; no line may be split, doubled or reordered
  # (loopback may still drop one: only the order and wholeness are checked)
  before=$(grep -c '^Received datagram: ' "$out")
  check "wtcat -d: 20000 lines in a burst" bash -c "seq 1 20000 | timeout 20 '$B/examples/wtcat' -q -d -w 300 --pin $hash $(url /) >/dev/null"
  grep '^Received datagram: ' "$out" | tail -n +"$((before + 1))" | sed -n "s/^Received datagram: b'\([0-9]*\)'$/\1/p" >"$dir/burst"
  got=$(wc -l <"$dir/burst")
  if [ "$got" -ge 1 ] && sort -n -c "$dir/burst" 2>/dev/null && [ -z "$(uniq -d "$dir/burst")" ] &&
     [ "$(head -n1 "$dir/burst")" -ge 1 ] && [ "$(tail -n1 "$dir/burst")" -le 20000 ] &&
     [ "$got" -eq "$(grep -c '^Received datagram: ' "$out" | awk -v b="$before" '{print $1 - b}')" ]; then
    ok "wtcat -d: every line arrived whole, once, in order ($got of 20000 on loopback)"
  else bad "wtcat -d: every line arrived whole, once, in order" "$(head -n 20 "$dir/burst")"; fi
  check "wtcat: a refused session exits 3" =3 ex wtcat --pin "$hash" "$(url /nope)" </dev/null
  check "wtcat: a wrong pin exits 2" =2 ex wtcat --pin "$(echo "$hash" | tr '0-9a-f' '1-9a-f0')" "$(url /)" </dev/null
  check "wtcat: no way to verify exits 1" =1 ex wtcat "$(url /)" </dev/null
  check "wtcat: --insecure, said out loud, connects" ex wtcat -q --insecure "$(url /)" <<<"insecure"
  expect "wtcat --insecure: the echo" "ECHO: insecure" -
  stop INT && ok "echo_server stops on SIGINT, exit 0"
fi

# wtcat -l against wtcat: both directions of one stream
mkdir -p "$dir/wtcat"
for try in 1 2 3; do
  port=$((20000 + RANDOM % 30000))
  (printf 'from the listener\n' | exec timeout 20 "$B/examples/wtcat" -l --port "$port" >"$dir/wtcat/l.out" 2>"$dir/wtcat/l.err") &
  lpid=$!
  for _ in $(seq 100); do grep -q "listening on" "$dir/wtcat/l.err" 2>/dev/null && break; kill -0 "$lpid" 2>/dev/null || break; sleep 0.1; done
  grep -q "listening on" "$dir/wtcat/l.err" && break
  wait "$lpid" 2>/dev/null; lpid=""
done
if [ -n "$lpid" ]; then
  lhash=$(grep -oE '[0-9a-f]{64}' "$dir/wtcat/l.err" | head -n1)
  check "wtcat to wtcat -l (any path): exit 0" ex wtcat -q --pin "$lhash" "$(url /any/path)" <<<"from the client"
  expect "wtcat: the listener's stdin arrived" "from the listener" -
  wait "$lpid"; lrc=$?
  [ "$lrc" -eq 0 ] && ok "wtcat -l: exits 0 when the client closes" || bad "wtcat -l: exits 0 (exit $lrc)" "$(cat "$dir/wtcat/l.err")"
  expect "wtcat -l: the client's stdin arrived" "from the client" "$dir/wtcat/l.out"
else bad "wtcat -l did not start" "$(cat "$dir/wtcat/l.err")"; fi

# ---------------------------------------------------------------- basic_server
name=basic_server
if start basic_server; then
  check "basic_server: a session on / opens, the client closes it" probe "$(url /)" "$hash" --close
  expect "basic_server: the client saw its own close" "CLOSED code=0 reason=bye error=0 status=0" -
  wait_for "$out" '^Session [0-9]+ closed\.$'
  expect_re "basic_server: Session received from <address> for path /" "^Session received from 127\.0\.0\.1:[0-9]+ for path /$" "$out"
  expect "basic_server: Session 1 closed. (the app's first session)" "Session 1 closed." "$out"
  check "basic_server: other paths are refused" probe "$(url /other)" "$hash"
  expect "basic_server: ... with 404" "CLOSED code=0 reason= error=-17 status=404" -
  stop INT && ok "basic_server stops on SIGINT, exit 0"
fi

# ---------------------------------------------------------------- routing_server
name=routing_server
if start routing_server; then
  check "routing_server: /" probe "$(url /)" "$hash"
  expect "routing_server: / gets its message on a uni stream" "UNI Welcome to the home page!" -
  expect "routing_server: then the server closes with code 0" "CLOSED code=0 reason= error=0 status=0" -
  check "routing_server: /api/v1/status" probe "$(url '/api/v1/status?verbose=1')" "$hash"
  expect "routing_server: /api/v1/status gets its own message (query ignored)" 'UNI {"status": "ok"}' -
  expect "routing_server: then the server closes with code 0" "CLOSED code=0 reason= error=0 status=0" -
  check "routing_server: /nope" probe "$(url /nope)" "$hash"
  expect "routing_server: other paths get 404" "CLOSED code=0 reason= error=-17 status=404" -
  grep -q '^UNI' <<<"$LAST_OUT" && bad "routing_server: a refused session got a message" "$LAST_OUT"
  check "routing_server: /hello/{name}" probe "$(url '/hello/World%20Wide')" "$hash"
  expect "routing_server: the parameter reaches the handler, percent-decoded" "UNI Hello, World Wide!" -
  check "routing_server: /hello/ without a name" probe "$(url /hello/)" "$hash"
  expect "routing_server: ... is no match: 404" "CLOSED code=0 reason= error=-17 status=404" -
  check "routing_server: wtcat prints the message and exits 0" ex wtcat -q --pin "$hash" "$(url /api/v1/status)" </dev/null
  [ "$LAST_OUT" = '{"status": "ok"}' ] && ok "routing_server: ... exactly it" || bad "routing_server: ... exactly it" "$LAST_OUT"
  stop INT && ok "routing_server stops on SIGINT, exit 0"
fi

# ---------------------------------------------------------------- lifecycle_server
name=lifecycle_server
if start lifecycle_server; then
  expect "lifecycle_server: the startup hook ran before serving" "Server is starting up..." "$out"
  expect "lifecycle_server: ... and connected the pool" "Database pool connected." "$out"
  expect_not "lifecycle_server: no shutdown before it is asked" "Server is shutting down..." "$out"
  check "lifecycle_server: a session on /" probe "$(url /)" "$hash"
  expect "lifecycle_server: closes each session with code 0 and its reason" "CLOSED code=0 reason=Work done. error=0 status=0" -
  if stop TERM; then
    ok "lifecycle_server exits 0 on SIGTERM"
    # the order is the point: startup (checked above, before serving), shutdown, the last word
    order=$(lines "$out" '^(Server is starting up|Database pool connected|Server is shutting down|Database pool closed|Server stopped by user)')
    [ "$order" = "Server is starting up...|Database pool connected.|Server is shutting down...|Database pool closed.|Server stopped by user.|" ] &&
      ok "lifecycle_server: startup, shutdown, stopped by user, in that order" ||
      bad "lifecycle_server: startup, shutdown, stopped by user, in that order" "$(cat "$out")"
  fi
fi

# ---------------------------------------------------------------- chat_server
name=chat_server
if start chat_server; then
  expect "chat_server: Chat server running at ..." "Chat server running at https://127.0.0.1:$port/chat" "$out"
  check "chat_server: three members talk" probe "$(url /chat)" "$hash" --chat 3
  for me in A B C; do
    for other in A B C; do
      [ "$me" = "$other" ] && continue
      expect "chat_server: $me got $other's message" "$me got hello from $other" -
      expect "chat_server: $me got $other's marker" "$me got marker from $other" -
    done
    expect_not "chat_server: $me never got its own message (after the markers)" "$me got hello from $me" -
    expect_not "chat_server: $me never got its own marker" "$me got marker from $me" -
  done
  wait_for "$out" '^Session [0-9]+ left\.$' 3
  [ "$(grep -E '^Session [0-9]+ joined\.$' "$out" | sort -u | wc -l)" -eq 3 ] &&
    ok "chat_server: Session N joined. (3, each its own N)" || bad "chat_server: Session N joined. (3, each its own N)" "$(cat "$out")"
  [ "$(grep -cE '^Session [0-9]+ left\.$' "$out")" -eq 3 ] && ok "chat_server: Session N left. (3)" ||
    bad "chat_server: Session N left. (3)" "$(cat "$out")"
  expect_re "chat_server: Broadcasting from N: msg" '^Broadcasting from [0-9]+: hello from B$' "$out"

  # chat_client: A listens on a fifo held open, B says one line, A answers
  mkfifo "$dir/chat_server/a.in" "$dir/chat_server/b.in"
  (exec timeout 20 "$B/examples/chat_client" --pin "$hash" "$(url /chat)" <"$dir/chat_server/a.in" >"$dir/chat_server/a.out" 2>"$dir/chat_server/a.err") &
  apid=$!
  exec 7>"$dir/chat_server/a.in"
  (exec timeout 20 "$B/examples/chat_client" --pin "$hash" "$(url /chat)" <"$dir/chat_server/b.in" >"$dir/chat_server/b.out" 2>"$dir/chat_server/b.err") &
  bpid=$!
  exec 8>"$dir/chat_server/b.in"
  wait_for "$dir/chat_server/a.err" '^Joined' && wait_for "$dir/chat_server/b.err" '^Joined'
  for i in $(seq 20); do # a datagram may be lost: say it again, 5 s at most
    echo "hi, this is B" >&8
    wait_for "$dir/chat_server/a.out" '^hi, this is B$' && break
  done
  expect "chat_client: A printed B's line" "hi, this is B" "$dir/chat_server/a.out"
  for i in $(seq 20); do
    echo "hello B, A here" >&7
    wait_for "$dir/chat_server/b.out" '^hello B, A here$' && break
  done
  expect "chat_client: B printed A's line" "hello B, A here" "$dir/chat_server/b.out"
  expect_not "chat_client: B never printed its own line (after A's)" "hi, this is B" "$dir/chat_server/b.out"
  exec 7>&- 8>&-
  wait "$apid"; arc=$?
  wait "$bpid"; brc=$?
  [ "$arc$brc" = 00 ] && ok "chat_client: both leave at end of input, exit 0" ||
    bad "chat_client: both leave at end of input, exit 0 (A $arc, B $brc)" "$(cat "$dir/chat_server/"[ab].err)"
  stop INT && ok "chat_server stops on SIGINT, exit 0"
fi

# ---------------------------------------------------------------- concurrent_streams_server
name=concurrent_streams_server
if start concurrent_streams_server; then
  check "concurrent_streams_server: five uploads at once" probe "$(url /upload)" "$hash" --uploads 5 3000 --close
  replies=$(grep -cE '^REPLY Processed 3000 bytes from stream [0-9]+\.$' <<<"$LAST_OUT")
  [ "$replies" -eq 5 ] && ok "concurrent_streams_server: every upload answered" ||
    bad "concurrent_streams_server: every upload answered ($replies of 5)" "$LAST_OUT"
  # concurrency, structurally: every task started before the first one finished
  tasks=$(grep -E '^Task (started|finished) for stream' "$out" | cut -d' ' -f2 | tr '\n' ' ')
  [ "$tasks" = "started started started started started finished finished finished finished finished " ] &&
    ok "concurrent_streams_server: all five worked on at once" ||
    bad "concurrent_streams_server: all five worked on at once" "$(cat "$out")"
  expect_re "concurrent_streams_server: Session N ready to receive concurrent uploads." \
    '^Session [0-9]+ ready to receive concurrent uploads\.$' "$out"
  # a client that leaves cancels the work (wt_loop_timer_cancel), nothing is answered
  check "concurrent_streams_server: three uploads abandoned" probe "$(url /upload)" "$hash" --uploads 3 100 --abandon
  grep -q '^REPLY' <<<"$LAST_OUT" && bad "concurrent_streams_server: an abandoned upload was answered" "$LAST_OUT"
  wait_for "$out" '^Task cancelled for stream' 3
  [ "$(grep -c '^Task cancelled for stream' "$out")" -eq 3 ] && ok "concurrent_streams_server: their tasks were cancelled" ||
    bad "concurrent_streams_server: their tasks were cancelled" "$(cat "$out")"
  [ "$(grep -c '^Task finished for stream' "$out")" -eq 5 ] && ok "concurrent_streams_server: and never finished" ||
    bad "concurrent_streams_server: and never finished" "$(cat "$out")"
  # upload_client: DRAIN after its uploads ends the guide's `async for`
  cp "$out" "$out.before"
  check "upload_client: five uploads" ex upload_client --pin "$hash" -n 5 -s 2000 "$(url /upload)"
  [ "$(grep -cE '^Stream [0-9]+: Processed 2000 bytes from stream [0-9]+\.$' <<<"$LAST_OUT")" -eq 5 ] &&
    ok "upload_client: prints each answer" || bad "upload_client: prints each answer" "$LAST_OUT"
  grep -qE '^All 5 uploads answered in [0-9.]+ s\.$' <<<"$LAST_OUT" && ok "upload_client: prints the total time" ||
    bad "upload_client: prints the total time" "$LAST_OUT"
  wait_for "$out" '^All upload tasks finished\.$'
  seq_=$(tail -n +"$(($(wc -l <"$out.before") + 1))" "$out" | grep -E '^(Task started|Waiting for|Task finished|All upload)' |
    sed -E 's/ for stream [0-9]+\.$//' | tr '\n' '|')
  [ "$seq_" = "Task started|Task started|Task started|Task started|Task started|Waiting for 5 upload tasks to complete...|Task finished|Task finished|Task finished|Task finished|Task finished|All upload tasks finished.|" ] &&
    ok "concurrent_streams_server: started x5, Waiting for 5 upload tasks..., finished x5, All upload tasks finished." ||
    bad "concurrent_streams_server: started x5, Waiting for 5 upload tasks..., finished x5, All upload tasks finished." "$(cat "$out")"
  stop INT && ok "concurrent_streams_server stops on SIGINT, exit 0"
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
