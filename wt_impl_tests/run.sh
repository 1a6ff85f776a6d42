#!/usr/bin/env bash
# Runs every part of the suite and sums them into one closing line,
# "N passed, N failed"; exits non-zero if anything failed.
set -u
B=${1:-build}
total_pass=0 total_fail=0
phase() { # name, command...
  local name=$1; shift
  echo "== $name"
  local out rc line
  out=$("$@" 2>&1); rc=$?
  printf '%s\n' "$out" | sed 's/^/   /'
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n1)
  if [ -z "$line" ]; then
    echo "   ($name ended without a summary, exit $rc: counted as one failure)"
    total_fail=$((total_fail + 1)); return
  fi
  local p f
  p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}
phase "dependency script refuses a bad sha256" bash wt_impl_tests/deps_test.sh
phase "unit + integration" "$B/wt_tests"
phase "unit + integration under ASan+UBSan" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
  UBSAN_OPTIONS=print_stacktrace=1 "$B/wt_tests_san"
phase "unit + integration without UDP GRO (-DWT_NO_GRO)" "$B/wt_tests_nogro"
phase "unit + integration on the portable I/O path (recvmsg/sendmsg, no GSO/GRO: -DWT_NO_MMSG -DWT_NO_GSO -DWT_NO_GRO)" \
  "$B/wt_tests_portable"
# Big-endian: the suite built for s390x (static, cross gcc, -DWT_NO_GSO
# -DWT_NO_GRO) run under qemu-user; `make cross-test` adds aarch64.
# Without the six bulk transfers (16 MiB to 64 MiB; two thirds of the time
# under qemu): every protocol, unit and integration test stays.
phase "unit + integration on big-endian s390x under qemu-user, bulk transfers left out (make cross-test: all, s390x and aarch64)" \
  bash wt_impl_tests/cross_test.sh "$B" s390x -- -wt_sim_50_streams_of_1mib -wt_sim_64mib_one_stream \
  -wt_slow_reader_bounds_memory -wt_bidi_echo_64k_and_16m -wt_flow_1000_streams_64mib -wt_sim_send_budget_holds
# Redis (issue 12): the adapter and two chat_server --redis instances
# against a redis-server each test starts on a free port (and restarts)
phase "Redis adapter and chat_server --redis (redis-server started and restarted by the tests)" \
  env WT_CHAT_SERVER="$B/chat_server_redis" "$B/wt_redis_tests"
phase "Redis adapter under ASan+UBSan" env WT_CHAT_SERVER="$B/chat_server_redis" \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 "$B/wt_redis_tests_san"
phase "fuzz targets (clang, libFuzzer, ASan+UBSan): every seed and reproducer, then fixed mutations" \
  bash wt_impl_tests/fuzz_test.sh "$B"
# make bench-smoke: every figure of bench/fig/ once per side at tiny sizes
# (the benchmark binaries and their references run; no timing is judged)
phase "benchmarks, smoke run (make bench-smoke: each figure once per side, tiny sizes, no timing assertion)" \
  python3 bench/run.py --bin "$B/bench" --smoke
phase "examples as a user runs them" bash wt_impl_tests/examples_test.sh "$B"
phase "two instances behind an nftables load balancer in network namespaces: QUIC-LB CIDs, shared reset and token keys" \
  bash wt_impl_tests/lb_test.sh "$B"
phase "ngtcp2's wolfSSL glue with the HKDF patch and without: clients and servers of each complete sessions with the other" \
  bash wt_impl_tests/hkdf_interop_test.sh "$B"
phase "wt.h from another project: install, pkg-config, CMake, Meson, release tarball" \
  bash wt_impl_tests/install_test.sh "$B"
phase "Chromium (headless) against the wt.h server" node wt_impl_tests/browser/browser_test.mjs "$B/browser_server" chromium
phase "Firefox ESR (headless) against the wt.h server" node wt_impl_tests/browser/browser_test.mjs "$B/browser_server" firefox
phase "Chromium (headless) against examples/interop_server: echo, close, 404, stats, protocols, devious baton" \
  node wt_impl_tests/browser/interop_test.mjs "$B/examples/interop_server" chromium
phase "Firefox ESR (headless) against examples/interop_server: echo, close, 404, stats, protocols, devious baton" \
  node wt_impl_tests/browser/interop_test.mjs "$B/examples/interop_server" firefox
# make demo: the page's HTTP server, then the page in both browsers (screenshots
# in $B/artifacts/demo-chromium.png and demo-firefox.png); the server under
# ASan+UBSan, which a leak or any error at exit fails
demo() { env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 WT_ARTIFACTS="$B/artifacts" \
  node wt_impl_tests/browser/demo_test.mjs "$B/demo_server_san" "$1"; }
phase "the demo's HTTP server (make demo)" demo http
phase "the demo page in Chromium (headless)" demo chromium
phase "the demo page in Firefox ESR (headless)" demo firefox
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
