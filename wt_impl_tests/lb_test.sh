#!/usr/bin/env bash
# lb_test.sh [BUILD] - two wt.h server instances behind an nftables load
# balancer, in network namespaces this script makes (and removes on every
# exit): a client, the balancer, two servers.
#
#   client 10.77.1.2 -- 10.77.1.1 balancer (the service address, UDP 4433)
#                                 10.77.2.1 -- 10.77.2.2 instance 1, server ID 0a01
#                                 10.77.3.1 -- 10.77.3.2 instance 2, server ID 0a02
#   and over IPv6 fd77:1::2, fd77:1::1; fd77:2::1, fd77:2::2; fd77:3::1, fd77:3::2
#
# The balancer is README's nftables recipe ("Scaling", "Several machines"),
# loaded as written there: stateless, it picks an instance per packet in
# the prerouting hook and rewrites the destination address (no conntrack);
# the answers get the service address back in postrouting. The instances
# share reset_key and token_key, and ask every new client for a Retry.
# Phases, each a rule set for the recipe's "pick" chain:
#   hash    the UDP 4-tuple's hash (jhash) alone: clients are served by
#           both; when a client's source port changes (NAT rebinding, done
#           statelessly by nftables in the client's namespace) and the hash
#           sends it to the other instance, that one's stateless reset ends
#           the session
#   quiclb  the recipe as written: short-header packets and long-header
#           packets that carry one of our CIDs go by the server ID in the
#           CID, the rest by the hash: clients are served by both, and port
#           changes do not move a session
#   quiclb6 the recipe in a table ip6 (README's words for IPv6), the same
#   front   the recipe, but Initials without one of our CIDs go to one
#           instance (a Retry front) and those with one to the other: the
#           token one issued is honoured by the other
# Then instance 2 gets keys of its own: it refuses instance 1's tokens and
# the client ignores its resets.
# Every CID a client sends to, and every CID an instance reports it issued,
# is decoded with the test's QUIC-LB decoder (quiclb.h, in lb_peer).
# Instance 2 runs in a time namespace with CLOCK_MONOTONIC an hour ahead:
# another machine's uptime (Retry tokens must not depend on it).
# Needs root, ip (iproute2), nft (nftables, installed here if missing) and
# unshare (util-linux) with time namespaces.
set -u
B=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
PEER=${LB_PEER:-$B/lb_peer} # make test builds it with ASan+UBSan
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
expect() { # name, condition (shell code, evaluated)
  if eval "$2"; then ok "$1"; else bad "$1"; fi
}
summary() { echo "$pass passed, $fail failed"; }
skip() { echo "skipped: $*"; echo "0 passed, 0 failed"; exit 0; }

[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
[ -x "$PEER" ] || { echo "no $PEER (make $PEER)"; echo "0 passed, 1 failed"; exit 1; }
command -v nft >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 ||
  bash "$here/tools/apt-install.sh" nftables iproute2 >&2 || skip "nftables or iproute2 cannot be installed"

P=wtlb$$
NC=$P-c NL=$P-lb N1=$P-s1 N2=$P-s2
VIP=10.77.1.1 S1=10.77.2.2 S2=10.77.3.2 PORT=4433
VIP6=fd77:1::1 S1_6=fd77:2::2 S2_6=fd77:3::2
TMP=$(mktemp -d)
server_pids=()
CLPID=
cleanup() {
  local p
  set +eu
  [ -n "$CLPID" ] && kill "$CLPID" 2>/dev/null
  # an instance under unshare: unshare leaves signals to its child
  for p in "${server_pids[@]}"; do kill $(cat /proc/"$p"/task/*/children 2>/dev/null) "$p" 2>/dev/null; done
  wait 2>/dev/null
  for p in $NC $NL $N1 $N2; do ip netns del "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
trap '' PIPE # a client that is gone: a failed check, not the end of the script
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---------------------------------------------------------------- the network
ip netns add $NC 2>/dev/null || skip "cannot make a network namespace (no CONFIG_NET_NS?)"
set -e
ip netns add $NL; ip netns add $N1; ip netns add $N2
ip link add c0 netns $NC type veth peer name l1 netns $NL
ip link add s0 netns $N1 type veth peer name l2 netns $NL
ip link add s0 netns $N2 type veth peer name l3 netns $NL
inns $NC ip addr add 10.77.1.2/24 dev c0
inns $NL ip addr add $VIP/24 dev l1
inns $NL ip addr add 10.77.2.1/24 dev l2
inns $NL ip addr add 10.77.3.1/24 dev l3
inns $N1 ip addr add $S1/24 dev s0
inns $N2 ip addr add $S2/24 dev s0
for ns in $NC $NL $N1 $N2; do inns $ns ip link set lo up; done
inns $NC ip link set c0 up
for d in l1 l2 l3; do inns $NL ip link set $d up; done
inns $N1 ip link set s0 up; inns $N2 ip link set s0 up
inns $N1 ip route add default via 10.77.2.1
inns $N2 ip route add default via 10.77.3.1
inns $NL sysctl -qw net.ipv4.ip_forward=1
# and the same over IPv6 (nodad: usable at once)
inns $NC ip addr add fd77:1::2/64 dev c0 nodad
inns $NL ip addr add $VIP6/64 dev l1 nodad
inns $NL ip addr add fd77:2::1/64 dev l2 nodad
inns $NL ip addr add fd77:3::1/64 dev l3 nodad
inns $N1 ip addr add $S1_6/64 dev s0 nodad
inns $N2 ip addr add $S2_6/64 dev s0 nodad
inns $N1 ip -6 route add default via fd77:2::1
inns $N2 ip -6 route add default via fd77:3::1
inns $NL sysctl -qw net.ipv6.conf.all.forwarding=1
set +e
if ! nft_err=$(inns $NL nft add table ip probe 2>&1); then skip "nftables does not work here: $nft_err"; fi
inns $NL nft delete table ip probe

# The balancer: README's recipe ("Several machines") as written there, with
# this network's addresses and port; a phase replaces its pick chain. A
# table of its own counts the packets that went to each instance, that each
# sent back, and the Retry packets among those.
RECIPE=$(awk '/^define VIP = /{on=1} on && /^```/{exit} on' "$here/README.md" |
  sed -e "s/192\.0\.2\.1/$VIP/; s/10\.0\.0\.11/$S1/; s/10\.0\.0\.12/$S2/; s/\b443\b/$PORT/g")
# README's IPv6 words for it: the same rules in a table ip6
RECIPE6=$(sed -e "s/^table ip quiclb/table ip6 quiclb/; s/\bip \([ds]addr\)/ip6 \1/g" \
  -e "s/^define VIP = .*/define VIP = $VIP6/; s/^define S1 = .*/define S1 = $S1_6/; s/^define S2 = .*/define S2 = $S2_6/" \
  <<<"$RECIPE")
lb_base() {
  [ -n "$RECIPE" ] || { echo "no nftables recipe found in README.md"; return 1; }
  { echo "table ip quiclb"; echo "delete table ip quiclb"; printf '%s\n' "$RECIPE"; } | inns $NL nft -f - || return 1
  { echo "table ip6 quiclb"; echo "delete table ip6 quiclb"; printf '%s\n' "$RECIPE6"; } | inns $NL nft -f - || return 1
  inns $NL nft -f - <<EOF
table ip wtcount
delete table ip wtcount
table ip wtcount {
  counter to_s1 {}
  counter to_s2 {}
  counter from_s1 {}
  counter from_s2 {}
  counter retry_s1 {}
  counter retry_s2 {}
  chain in {
    type filter hook prerouting priority raw - 10; policy accept;
    ip saddr $S1 udp sport $PORT counter name from_s1
    ip saddr $S2 udp sport $PORT counter name from_s2
    ip saddr $S1 udp sport $PORT @th,64,4 0xf counter name retry_s1
    ip saddr $S2 udp sport $PORT @th,64,4 0xf counter name retry_s2
  }
  chain out {
    type filter hook postrouting priority srcnat - 10; policy accept;
    ip daddr $S1 udp dport $PORT counter name to_s1
    ip daddr $S2 udp dport $PORT counter name to_s2
  }
}
EOF
}
# pick RULES...: the recipe's pick chain with these rules, which set meta
# mark 1 or 2, then the recipe's own last two (the mark to the address)
pick() {
  { echo "flush chain ip quiclb pick"
    for r in "$@" "meta mark 1 ip daddr set $S1 accept" "meta mark 2 ip daddr set $S2 accept"; do
      echo "add rule ip quiclb pick $r"
    done; } | inns $NL nft -f -
}
HASH='meta mark set jhash ip saddr . udp sport mod 2 offset 1'
# The recipe's rules (server IDs of 2 bytes, CIDs of 16), for the front
# variant: short header (first bit 0), the DCID from byte 1 of the UDP
# payload, config rotation 0 in its first octet's top 3 bits, the server ID
# after it; long header: the DCID length at byte 5, the DCID from byte 6.
QUICLB=(
  "$HASH"
  '@th,64,1 0 @th,72,3 0 @th,80,16 0x0a01 meta mark set 1'
  '@th,64,1 0 @th,72,3 0 @th,80,16 0x0a02 meta mark set 2'
  '@th,64,1 1 @th,104,8 16 @th,112,3 0 @th,120,16 0x0a01 meta mark set 1'
  '@th,64,1 1 @th,104,8 16 @th,112,3 0 @th,120,16 0x0a02 meta mark set 2'
)
# front F S: the recipe, then Initials (long header, type 0: 0xc_) to F
# unless they carry one of our CIDs (after a Retry): those to S
front() {
  pick "${QUICLB[@]}" "@th,64,4 0xc meta mark set $1" "@th,64,4 0xc @th,104,8 16 @th,112,3 0 meta mark set $2"
}
count() { inns $NL nft list counter ip wtcount "$1" | grep -o 'packets [0-9]*' | awk '{print $2}'; }
reset_counters() { inns $NL nft reset counters table ip wtcount >/dev/null; }

# NAT rebinding in the client's namespace, stateless: our packets to the
# service leave from port $2 instead of $1, answers to $2 come back to $1.
# FAMILY (ip or ip6) and SERVICE say which service address.
FAMILY=ip SERVICE=$VIP
rebind() {
  inns $NC nft -f - <<EOF
table $FAMILY rebind
delete table $FAMILY rebind
table $FAMILY rebind {
  chain out {
    type filter hook output priority raw; policy accept;
    $FAMILY daddr $SERVICE udp dport $PORT udp sport $1 notrack udp sport set $2
  }
  chain in {
    type filter hook prerouting priority raw; policy accept;
    $FAMILY saddr $SERVICE udp sport $PORT udp dport $2 notrack udp dport set $1
  }
}
EOF
}
unrebind() { inns $NC nft delete table $FAMILY rebind 2>/dev/null; true; }

# ---------------------------------------------------------------- the instances
PIN=$("$PEER" cert "$TMP") || { bad "certificate"; summary; exit 1; }
key() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
RESET_KEY=$(key) TOKEN_KEY=$(key)
declare -A spid
# Instance 2 plays another machine: in a time namespace of its own its
# CLOCK_MONOTONIC (time since boot) is an hour ahead of instance 1's, while
# the wall clock is the same (as NTP keeps it on real machines).
CLOCK_2=(unshare --time --monotonic 3600 --fork --kill-child=TERM)
unshare --time --monotonic 3600 --fork true 2>/dev/null || skip "no time namespaces (unshare --time, CONFIG_TIME_NS)"
# stop_server N: SIGTERM to the instance (under unshare: to its child), then
# its exit status
stop_server() {
  local pid=${spid[$1]} kids
  kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null)
  kill -TERM ${kids:-$pid} 2>/dev/null
  wait "$pid"
}
start_server() { # n, server ID, [reset key, token key]: on every address
  local n=$1 ns=$P-s$1 out=$TMP/s$1.out end clock=()
  [ -n "${spid[$n]:-}" ] && stop_server "$n" 2>/dev/null
  [ "$n" = 2 ] && clock=("${CLOCK_2[@]}")
  : >"$out"
  ip netns exec "$ns" "${clock[@]}" "$PEER" server --host :: --port $PORT --cert "$TMP/cert.pem" \
    --key "$TMP/key.pem" --id "$2" --reset-key "${3:-$RESET_KEY}" --token-key "${4:-$TOKEN_KEY}" --retry \
    >"$out" 2>>"$TMP/s$1.err" &
  spid[$n]=$!
  server_pids+=("$!")
  end=$((SECONDS + 10))
  until grep -q READY "$out"; do
    [ $SECONDS -lt $end ] && kill -0 "${spid[$n]}" 2>/dev/null || return 1
    sleep 0.05
  done
}
start_server 1 0a01 && start_server 2 0a02 || { bad "two instances start"; cat "$TMP"/s*.err; summary; exit 1; }
if lb_base; then ok "README's nftables recipe loads on the balancer"; else bad "README's nftables recipe loads on the balancer"; summary; exit 1; fi
URL=https://$VIP:$PORT/lb

# sessions PHASE K: K clients, each its own connection; checks every one was
# answered, by which instance, and that the CIDs decode to its server ID
sessions() {
  local phase=$1 k=$2 out rc n1 n2 bad_dcid bad_cids
  out=$(inns $NC "$PEER" client "$URL" "$PIN" --sid-len 2 --sessions "$k" 2>"$TMP/client.err"); rc=$?
  expect "$phase: $k clients, $k sessions answered" "[ \$(grep -c '^SESSION' <<<\"\$out\") -eq $k ] && [ $rc -eq 0 ]"
  n1=$(grep -c '^SESSION.* sid=0a01 ' <<<"$out"); n2=$(grep -c '^SESSION.* sid=0a02 ' <<<"$out")
  bad_dcid=$(awk '/^SESSION/ { split($3, s, "="); split($4, d, "="); if (s[2] != d[2]) print }' <<<"$out")
  bad_cids=$(awk '/^SESSION/ { split($5, c, "[=/]"); if (c[2] != c[3] || c[3] < 1) print }' <<<"$out")
  expect "$phase: every client's DCID decodes to the server ID of the instance that answered" '[ -z "$bad_dcid" ]'
  expect "$phase: every CID the instances issued decodes to their own server ID" '[ -z "$bad_cids" ]'
  LAST_N1=$n1 LAST_N2=$n2
  if [ -n "$bad_dcid$bad_cids" ] || [ "$(grep -c '^SESSION' <<<"$out")" -ne "$k" ]; then
    printf '%s\n' "$out" | sed 's/^/    /'; sed 's/^/    /' "$TMP/client.err"
  fi
}

# An interactive client (coprocess CL): open() starts it, say() sends a
# line, hear() reads one (with a deadline).
open_client() {
  coproc CL { exec ip netns exec $NC "$PEER" client "$URL" "$PIN" --sid-len 2 --interactive 2>>"$TMP/client.err"; }
  CLPID=$CL_PID # bash unsets CL_PID once the coprocess is gone
  hear
}
say() { [ -n "${CL[1]:-}" ] && echo "$1" >&"${CL[1]}"; }
hear() { LINE=; [ -n "${CL[0]:-}" ] && read -t 30 -r LINE <&"${CL[0]}"; }
close_client() {
  [ -n "$CLPID" ] || return 0
  say quit 2>/dev/null
  wait "$CLPID" 2>/dev/null
  CLPID=
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
other() { [ "$1" = 0a01 ] && echo 0a02 || echo 0a01; }
sidnum() { [ "$1" = 0a01 ] && echo 1 || echo 2; }

# ---------------------------------------------------------------- hash
echo "== hash: the balancer hashes the UDP 4-tuple"
pick "$HASH"
sessions hash 16
expect "hash: both instances served clients (instance 1: $LAST_N1, instance 2: $LAST_N2)" '[ "$LAST_N1" -gt 0 ] && [ "$LAST_N2" -gt 0 ]'

# The client's port changes until the hash sends it to the other instance:
# that one has no state for the connection, answers with a stateless reset
# under the shared key, and the client takes it.
open_client
sid=$(field sid "$LINE") port=$(field port "$LINE")
expect "hash: an interactive client is served ($LINE)" '[ -n "$sid" ] && [ -n "$port" ]'
same=0 closed=
for try in $(seq 1 16); do
  [ -n "$sid" ] || break
  rebind "$port" $((40000 + try))
  reset_counters
  say "ping"; hear
  case "$LINE" in
    PONG*) [ "$(field sid "$LINE")" = "$sid" ] && same=$((same + 1)) || { closed="moved: $LINE"; break; } ;;
    *) closed=$LINE; break ;;
  esac
done
o=$(other "$sid")
expect "hash: a new source port the hash sends to the other instance ($o) ends the session with its stateless reset ($closed; $same port changes kept it on $sid first)" \
  '[ "$(field reset "$closed")" = 1 ] && [ "$(count "to_s$(sidnum "$o")")" -ge 1 ] && [ "$(count "from_s$(sidnum "$o")")" -ge 1 ]'
close_client; unrebind

# ---------------------------------------------------------------- quiclb
echo "== quiclb: README's QUIC-LB-aware recipe as written (server ID in the CID, else the hash)"
lb_base
sessions quiclb 16
expect "quiclb: both instances served clients (instance 1: $LAST_N1, instance 2: $LAST_N2)" '[ "$LAST_N1" -gt 0 ] && [ "$LAST_N2" -gt 0 ]'
open_client
sid=$(field sid "$LINE") port=$(field port "$LINE")
expect "quiclb: an interactive client is served ($LINE)" '[ -n "$sid" ]'
moves=0
for try in 1 2 3 4 5 6; do
  [ -n "$sid" ] || break
  rebind "$port" $((41000 + try))
  reset_counters
  say "ping"; hear
  [ "$(field sid "$LINE")" = "$sid" ] && [ "$(count "to_s$(sidnum "$(other "$sid")")")" -eq 0 ] || break
  moves=$((moves + 1))
done
expect "quiclb: 6 source-port changes, the session stays on its instance $sid and goes on ($moves did)" '[ "$moves" -eq 6 ]'
close_client; unrebind

echo "== quiclb6: the same recipe over IPv6 (table ip6)"
URL=https://[$VIP6]:$PORT/lb FAMILY=ip6 SERVICE=$VIP6
sessions quiclb6 16
expect "quiclb6: both instances served clients (instance 1: $LAST_N1, instance 2: $LAST_N2)" '[ "$LAST_N1" -gt 0 ] && [ "$LAST_N2" -gt 0 ]'
open_client
sid=$(field sid "$LINE") port=$(field port "$LINE")
expect "quiclb6: an interactive client is served ($LINE)" '[ -n "$sid" ]'
moves=0
for try in 1 2 3; do
  [ -n "$sid" ] || break
  rebind "$port" $((43000 + try))
  say "ping"; hear
  [ "$(field sid "$LINE")" = "$sid" ] || break
  moves=$((moves + 1))
done
expect "quiclb6: 3 source-port changes, the session stays on its instance $sid and goes on ($moves did)" '[ "$moves" -eq 3 ]'
close_client; unrebind
URL=https://$VIP:$PORT/lb FAMILY=ip SERVICE=$VIP

# ---------------------------------------------------------------- front
for fs in "1 2" "2 1"; do
  set -- $fs
  echo "== front: instance $1 answers first Initials with a Retry, instance $2 gets the clients' second ones"
  front "$1" "$2"
  reset_counters
  sessions "front $1" 4
  expect "front $1: instance $2 served all 4 (instance 1: $LAST_N1, instance 2: $LAST_N2)" \
    "[ \$LAST_N$2 -eq 4 ]"
  expect "front $1: instance $1 sent the Retry packets ($(count "retry_s$1")), instance $2 none ($(count "retry_s$2")): its tokens were honoured" \
    "[ \$(count retry_s$1) -ge 4 ] && [ \$(count retry_s$2) -eq 0 ]"
done

# ---------------------------------------------------------------- other keys
echo "== instance 2 restarted with keys of its own (the negative checks beside the ones above)"
start_server 2 0a02 "$(key)" "$(key)" || bad "instance 2 restarts"
front 1 2
: >"$TMP/s2.err"
out=$(inns $NC "$PEER" client "$URL" "$PIN" --sid-len 2 --sessions 1 2>"$TMP/client.err")
expect "other keys: instance 2 refuses a token of instance 1 ($out)" \
  'grep -q "^FAILED" <<<"$out"'
expect "other keys: instance 2 says why (invalid Retry token)" 'grep -q "invalid or expired Retry token" "$TMP/s2.err"'

# A session on instance 1; its port changes until the hash sends it to
# instance 2, whose reset carries the wrong token: the client ignores it,
# and once the port is back the session goes on.
pick "$HASH"
sid= tries=0
while [ "$sid" != 0a01 ] && [ $tries -lt 16 ]; do
  close_client
  open_client
  sid=$(field sid "$LINE") port=$(field port "$LINE") tries=$((tries + 1))
done
expect "other keys: a client on instance 1 ($LINE)" '[ "$sid" = 0a01 ]'
verdict= answered=0
for try in $(seq 1 16); do
  [ "$sid" = 0a01 ] || break
  rebind "$port" $((42000 + try))
  reset_counters
  say "ping 2000"; hear
  if [ "$(count to_s2)" -ge 1 ]; then answered=$(count from_s2) verdict="$LINE (instance 2 answered $answered packets)"; break; fi
done
expect "other keys: instance 2's reset under another key is not taken ($verdict)" \
  'grep -q "^SILENT reset=0" <<<"$verdict" && [ "$answered" -ge 1 ]'
unrebind
say "ping"; hear
expect "other keys: with the old port back the session goes on ($LINE)" '[ "$(field sid "$LINE")" = 0a01 ]'
close_client

# Both instances stop gracefully (SIGTERM) and exit 0: under ASan that
# includes its leak check. No sanitizer report from any process.
for n in 1 2; do
  stop_server "$n"; rc=$?
  expect "instance $n stops cleanly on SIGTERM (exit $rc)" "[ $rc -eq 0 ]"
done
expect "no sanitizer report from a server or client" \
  '! grep -l -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP"/*.err'
if [ $fail -gt 0 ]; then
  for f in "$TMP"/*.err; do echo "   $(basename "$f"):"; sed 's/^/    /' "$f"; done
fi
summary
[ $fail -eq 0 ]
