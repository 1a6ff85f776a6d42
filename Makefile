# wt.h - build the examples and run the tests.
#   make              every example into build/examples/
#   make test         amalgamation + symbol checks, the suite (normal and ASan+UBSan)
#   make deps         only the dependencies (see tools/deps.sh for WT_DEPS=system)
#   make check-symbols  fail if wt.h exports a symbol without the wt_ prefix
#   make check-stack    fail if a wt.h function needs more than 4 KiB of stack
#   make cross-test   the suite for aarch64 and s390x (Debian cross gcc, static,
#                     run under qemu-user; GSO/GRO off: qemu does not translate them)
#   make bench        wt.h against its references, figure by figure (bench/run.py, < 5 min;
#                     results in bench/results/); make bench-smoke: each once, tiny (in make test)
#   make size         text/data/bss of wt.h and a static echo server per deps profile
#   make install      wt.h, wt.pc, wt-config.cmake and the dependencies under PREFIX
#                     (default /usr/local; DESTDIR honoured; see tools/install.sh)
#   make uninstall    removes them again
#   make dist         build/wt-<version>.tar.gz, a release (see tools/dist.sh)
#   make demo         the demo page: open the URL it prints (examples/demo_server.c, demo/)
#   make smoke        amalgamation check + every example run as a user would
#   make redis-test   the Redis adapter (WT_REDIS) and chat_server --redis against
#                     redis-server (installs redis-server, libhiredis-dev)
#   make lb-test      two instances behind an nftables load balancer, in network
#                     namespaces (root; part of make test)
#   make fuzz         each libFuzzer target in fuzz/ for FUZZ_SECONDS (60), crashes reported
#   make fuzz-corpus  writes fresh seeds into fuzz/corpus/ (real ClientHellos included)
# Every target that needs ngtcp2/nghttp3/wolfSSL runs the deps step first; it
# is cached under ~/.cache/wt.h and takes well under a second once built.

CC ?= cc
CLANG ?= clang
CFLAGS ?= -O2 -g
WARN := -std=c11 -Wall -Wextra -Wpedantic -Werror
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 60
B := build
PREFIX ?= /usr/local
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR ?= $(PREFIX)/lib
DOCDIR ?= $(PREFIX)/share/doc/wt
INSTALL_ENV = PREFIX="$(PREFIX)" INCLUDEDIR="$(INCLUDEDIR)" LIBDIR="$(LIBDIR)" DOCDIR="$(DOCDIR)" \
	DESTDIR="$(DESTDIR)" WT_DEPS_OUT="$(B)/deps"
# Read when the recipe runs, after the deps step has written them.
DEPS_CFLAGS = $$(cat $(B)/deps/cflags)
DEPS_LIBS = $$(cat $(B)/deps/libs)
# What a binary built on the dependencies lists: tools/deps.sh rewrites it
# only when it changes (another build of the libraries: a new RECIPE, patch
# or version), so binaries are relinked then, and only then.
DEPS_OUT := $(B)/deps/libs

SRC := $(wildcard src/*.c src/*.h)
EXAMPLE_SRC := $(wildcard examples/*.c)
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(EXAMPLE_SRC))
TEST_SRC := $(wildcard wt_impl_tests/*.c wt_impl_tests/*.h)
FUZZ_TARGETS := capsule demux settings url request server route
FUZZ_BINS := $(patsubst %,$(B)/fuzz/%,$(FUZZ_TARGETS))
FUZZ_HDRS := fuzz/fuzz.h fuzz/quic_initial.h

.PHONY: all examples deps size test check-amalgamation check-symbols check-stack check-clang run-echo demo browser-deps clean \
	install uninstall dist smoke soak lb-test lb-deps clang-deps fuzz fuzz-build fuzz-corpus cross-test redis-deps redis-test

all: examples

examples: $(EXAMPLES)

deps:
	@WT_DEPS_OUT="$(B)/deps" bash tools/deps.sh

$(DEPS_OUT): deps
	@:

wt.h: amalgamate.py $(SRC)
	python3 amalgamate.py

$(B)/examples/%: examples/%.c wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

$(B)/wt_tests: $(TEST_SRC) wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -pthread -I. $(DEPS_CFLAGS) wt_impl_tests/main.c -o $@ $(DEPS_LIBS)

$(B)/wt_tests_san: $(TEST_SRC) wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SAN) -pthread -I. $(DEPS_CFLAGS) wt_impl_tests/main.c -o $@ $(DEPS_LIBS)

# The same suite on the other I/O paths: without UDP GRO (what kernels
# before 5.0 do), and the portable one (plain recvmsg/sendmsg, no GSO, no
# GRO: what non-Linux systems compile).
$(B)/wt_tests_nogro: $(TEST_SRC) wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -DWT_NO_GRO -pthread -I. $(DEPS_CFLAGS) wt_impl_tests/main.c -o $@ $(DEPS_LIBS)

$(B)/wt_tests_portable: $(TEST_SRC) wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -DWT_NO_MMSG -DWT_NO_GSO -DWT_NO_GRO -pthread -I. $(DEPS_CFLAGS) wt_impl_tests/main.c -o $@ $(DEPS_LIBS)

# Cross builds: the dependencies for <arch>-linux-gnu (tools/deps.sh with
# WT_DEPS_TARGET, cached per target) and the suite linked -static so
# qemu-user runs it without a sysroot. qemu-user passes UDP_SEGMENT and
# UDP_GRO control messages through without byte-swapping them, so the
# suite uses neither there (-DWT_NO_GSO -DWT_NO_GRO).
CROSS_ARCHS := aarch64 s390x
cross-deps-%:
	@WT_DEPS_TARGET=$*-linux-gnu WT_DEPS_OUT="$(B)/cross-$*/deps" bash tools/deps.sh

$(B)/cross-%/wt_tests: $(TEST_SRC) wt.h | cross-deps-%
	@mkdir -p $(@D)
	$*-linux-gnu-gcc $(WARN) -O2 -g -static -DWT_NO_GSO -DWT_NO_GRO -pthread -I. $$(cat $(@D)/deps/cflags) \
	  wt_impl_tests/main.c -o $@ $$(cat $(@D)/deps/libs)

cross-test: $(patsubst %,$(B)/cross-%/wt_tests,$(CROSS_ARCHS))
	@bash wt_impl_tests/cross_test.sh $(B) $(CROSS_ARCHS)

$(B)/example_probe: wt_impl_tests/example_probe.c wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

# Both ends of the load-balancer test (lb_test.sh: network namespaces,
# nftables), under ASan+UBSan like the demo server.
$(B)/lb_peer: wt_impl_tests/lb_peer.c wt_impl_tests/quiclb.h wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SAN) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

# nft and ip for the load-balancer test (lb_test.sh also installs them if missing).
lb-deps:
	@bash tools/apt-install.sh nftables iproute2

# The load-balancer test alone (root: it makes network namespaces).
lb-test: $(B)/lb_peer lb-deps
	@bash wt_impl_tests/lb_test.sh $(B)

$(B)/soak: wt_impl_tests/soak.c wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

# Session and stream churn for SOAK_SECONDS with memory and open files
# sampled (not part of make test; CI runs a short one).
SOAK_SECONDS ?= 600
soak: $(B)/soak
	$(B)/soak $(SOAK_SECONDS)

$(B)/browser_server: wt_impl_tests/browser/browser_server.c wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

browser-deps:
	@bash wt_impl_tests/browser/setup.sh

# make test's demo phases run the demo server under ASan+UBSan
$(B)/demo_server_san: examples/demo_server.c wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SAN) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

# The Redis adapter (#define WT_REDIS, -lhiredis; src/wt_redis.c): its
# tests start redis-server themselves, on a free port. The checks below
# compile it in too wherever hiredis's headers are installed.
REDIS_DEF = $(if $(wildcard /usr/include/hiredis/async.h),-DWT_REDIS)
redis-deps:
	@bash tools/apt-install.sh redis-server libhiredis-dev

$(B)/wt_redis_tests: wt_impl_tests/redis_test.c wt_impl_tests/wt_test.h wt.h $(DEPS_OUT) | redis-deps
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS) -lhiredis

$(B)/wt_redis_tests_san: wt_impl_tests/redis_test.c wt_impl_tests/wt_test.h wt.h $(DEPS_OUT) | redis-deps
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SAN) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS) -lhiredis

# chat_server with --redis, under ASan+UBSan, for the tests
$(B)/chat_server_redis: examples/chat_server.c wt.h $(DEPS_OUT) | redis-deps
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(SAN) -DWT_REDIS -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS) -lhiredis

redis-test: $(B)/wt_redis_tests $(B)/wt_redis_tests_san $(B)/chat_server_redis
	WT_CHAT_SERVER=$(B)/chat_server_redis $(B)/wt_redis_tests
	WT_CHAT_SERVER=$(B)/chat_server_redis ASAN_OPTIONS=detect_leaks=1 $(B)/wt_redis_tests_san

$(B)/wt_impl.o: wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	printf '#define WT_IMPLEMENTATION\n#include "wt.h"\n' > $(B)/wt_impl.c
	$(CC) $(WARN) $(CFLAGS) $(REDIS_DEF) -I. $(DEPS_CFLAGS) -c $(B)/wt_impl.c -o $@

check-amalgamation:
	python3 amalgamate.py --check

check-symbols: $(B)/wt_impl.o
	@bad=$$(nm -g --defined-only $< | awk '{print $$3}' | grep -v '^wt_' || true); \
	if [ -n "$$bad" ]; then echo "check-symbols: exported without the wt_ prefix:"; echo "$$bad"; exit 1; fi; \
	echo "check-symbols: every exported symbol starts with wt_"

# Bounded stack (SMALL DEVICES in wt.h): every wt.h function's own frame at
# most STACK_MAX bytes and never unbounded (a VLA or alloca), per gcc's
# -fstack-usage at -O2 and -Os (inlining moves frames around). STACK_ALLOW:
# names of functions to let past it (none today).
STACK_MAX ?= 4096
STACK_ALLOW ?=
check-stack: wt.h | deps
	@mkdir -p $(B)/stack
	@printf '#define WT_IMPLEMENTATION\n#include "wt.h"\n' > $(B)/stack/wt_stack.c
	@fail=0; for o in -O2 -Os; do \
	  $(CC) $(WARN) $$o -fstack-usage $(REDIS_DEF) -I. $(DEPS_CFLAGS) -c $(B)/stack/wt_stack.c -o $(B)/stack/wt_stack.o || exit 1; \
	  out=$$(awk -F'\t' -v max=$(STACK_MAX) -v allow=" $(STACK_ALLOW) " -v opt=$$o ' \
	    { n = split($$1, a, ":"); f = a[n]; sub(/\..*/, "", f); \
	      if (a[1] !~ /wt\.h$$/ || f !~ /^wt_/ || index(allow, " " f " ")) next; \
	      if ($$2 + 0 > top) { top = $$2 + 0; topf = f } \
	      if ($$2 + 0 > max || $$3 == "dynamic") print "  " f " (" opt "): " $$2 " bytes, " $$3 } \
	    END { print "largest " topf " " top }' $(B)/stack/wt_stack.su); \
	  bad=$$(echo "$$out" | grep -v '^largest' || true); \
	  if [ -n "$$bad" ]; then echo "check-stack: over $(STACK_MAX) bytes of stack or unbounded:"; echo "$$bad"; fail=1; fi; \
	  echo "check-stack ($$o): $$(echo "$$out" | grep '^largest')"; \
	done; \
	if [ $$fail = 0 ]; then echo "check-stack: every wt.h function within $(STACK_MAX) bytes$(if $(strip $(STACK_ALLOW)), (let through: $(STACK_ALLOW)))"; fi; \
	exit $$fail

# Sizes for small devices (tools/size.sh): the default profile, and
# WT_DEPS_PROFILE=small once built (WT_SIZE_BUILD_SMALL=1 builds it).
size: wt.h | deps
	@bash tools/size.sh $(B)

# clang and its sanitizer and libFuzzer runtimes (Debian's libclang-rt-dev).
clang-deps:
	@bash tools/apt-install.sh clang libclang-rt-dev

# The second compiler: the same sources must be warning-free under clang.
check-clang: wt.h | deps clang-deps
	@if command -v $(CLANG) >/dev/null 2>&1; then \
	  for f in wt_impl_tests/main.c wt_impl_tests/example_probe.c wt_impl_tests/lb_peer.c wt_impl_tests/browser/browser_server.c \
	           $(EXAMPLE_SRC) $(BENCH_SRC) \
	           $(patsubst %,fuzz/%.c,$(FUZZ_TARGETS)) fuzz/gen_corpus.c; do \
	    $(CLANG) $(WARN) -fsyntax-only -I. $(DEPS_CFLAGS) $$f || exit 1; \
	  done; \
	  if [ -n "$(REDIS_DEF)" ]; then for f in examples/chat_server.c wt_impl_tests/redis_test.c; do \
	    $(CLANG) $(WARN) -fsyntax-only -DWT_REDIS -I. $(DEPS_CFLAGS) $$f || exit 1; \
	  done; fi; echo "check-clang: warning-free under $$($(CLANG) --version | head -n1)"; \
	else echo "check-clang: skipped, $(CLANG) not installed"; fi

test: check-amalgamation check-symbols check-stack check-clang $(B)/wt_tests $(B)/wt_tests_san $(B)/wt_tests_nogro $(B)/wt_tests_portable \
      $(B)/cross-s390x/wt_tests $(B)/browser_server $(B)/example_probe $(B)/lb_peer \
      $(B)/demo_server_san examples browser-deps bench-bins lb-deps $(B)/wt_redis_tests \
      $(B)/wt_redis_tests_san $(B)/chat_server_redis
	@bash wt_impl_tests/run.sh $(B)

# Installs what the last build used (build/deps); `make && sudo make install`.
install: wt.h
	@$(INSTALL_ENV) bash tools/install.sh install

uninstall:
	@$(INSTALL_ENV) bash tools/install.sh uninstall

dist: check-amalgamation
	@bash tools/dist.sh "$(B)"

# What a release tarball checks of itself once unpacked (the full suite is `make test`).
smoke: check-amalgamation examples $(B)/example_probe
	@bash wt_impl_tests/examples_test.sh "$(B)"

# libFuzzer targets: each one translation unit with the implementation,
# built by clang with ASan+UBSan against the same static dependencies.
$(B)/fuzz/%: fuzz/%.c $(FUZZ_HDRS) wt.h $(DEPS_OUT) | clang-deps
	@mkdir -p $(@D)
	$(CLANG) $(WARN) -O1 -g $(FUZZ_SAN) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

fuzz-build: $(FUZZ_BINS)

# Each target for FUZZ_SECONDS over fuzz/corpus/<target> (new inputs go to
# build/fuzz/corpus/<target>); a crash is reported with its reproducer.
fuzz: fuzz-build
	@bash fuzz/run.sh "$(B)" "$(FUZZ_SECONDS)"

$(B)/gen_corpus: fuzz/gen_corpus.c fuzz/quic_initial.h wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

fuzz-corpus: $(B)/gen_corpus
	$(B)/gen_corpus fuzz/corpus

# The echo server on https://127.0.0.1:4433/ (certificate files go to build/).
run-echo: $(B)/examples/echo_server
	cd $(B) && ./examples/echo_server

# The demo (README's first command): WebTransport on https://127.0.0.1:4433/demo
# and its page on http://127.0.0.1:8080/ (demo/), a fresh certificate each run.
# DEMO_ARGS: more flags, e.g. DEMO_ARGS="--http-port 8000" (see --help).
DEMO_ARGS ?=
demo: $(B)/examples/demo_server
	@$(B)/examples/demo_server --root demo $(DEMO_ARGS)

clean:
	rm -rf $(B)

# ---------------------------------------------------------------- bench
# `make bench` (issue 10): every figure of bench/fig/ for wt.h and its
# reference, alternating, medians and ratios (bench/run.py; under 5 minutes
# on 2 cores); results in bench/results/. `make bench-smoke`: each figure
# once per side at tiny sizes, no timing assertion (part of make test).
# Each helper adds its binaries to BENCH_BINS in a block of its own; the
# recipes below read the list when they run, so the order of blocks does
# not matter.
BENCH_BINS += $(B)/bench/wt_bench_server $(B)/bench/wt_sessions $(B)/bench/wt_dgram \
	$(B)/bench/udp_flood $(B)/bench/udp_pingpong $(B)/bench/echo_server_static
BENCH_SRC := bench/wt_bench_server.c bench/wt_sessions.c bench/wt_dgram.c bench/udp_flood.c bench/udp_pingpong.c

$(B)/bench/wt_%: bench/wt_%.c wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g -pthread -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

# the raw UDP references: no wt.h, no dependencies
$(B)/bench/udp_%: bench/udp_%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g -pthread $< -o $@

# code_size: what tools/size.sh measures (static, -Os, --gc-sections,
# stripped); static glibc's warning about getaddrinfo is expected
$(B)/bench/echo_server_static: examples/echo_server.c wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -I. $(DEPS_CFLAGS) \
	  -c $< -o $@.o
	$(CC) -static -Wl,--gc-sections -s $@.o -o $@ $(DEPS_LIBS) -pthread 2> $@.log || { cat $@.log; exit 1; }

.PHONY: bench bench-bins bench-smoke
bench-bins:
	@$(MAKE) --no-print-directory $(BENCH_BINS)

bench: bench-bins
	python3 bench/run.py --bin $(B)/bench

bench-smoke: bench-bins
	python3 bench/run.py --bin $(B)/bench --smoke

# ---- bench: heap per idle session (helper "mem"; bench/fig/idle_heap.sh,
# bench/fig/extra_session_heap.sh)
BENCH_BINS += $(B)/bench/idle_heap
BENCH_SRC += bench/idle_heap.c
$(B)/bench/idle_heap: bench/idle_heap.c wt_impl_tests/heap_count.h wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

# ---------------------------------------------------------------- hkdf: the raw handshake ceiling
# bench/handshake_raw.c against ngtcp2's wolfSSL glue as tools/deps.sh patches
# it, and against the pristine glue (libngtcp2_crypto_wolfssl_unpatched.a,
# build/deps/libs_unpatched); figure bench/fig/handshake_ceiling.sh. The
# unpatched glue exists only when tools/deps.sh built the libraries.
BENCH_BINS += $(B)/bench/handshake_raw $(B)/bench/handshake_raw_unpatched
BENCH_SRC += bench/handshake_raw.c bench/session_mem.c
HKDF_UNPATCHED_MISSING = echo "$@: skipped: no unpatched ngtcp2 glue (system libraries; WT_DEPS=build builds one)"

$(B)/bench/handshake_raw: bench/handshake_raw.c $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -DHR_GLUE="\"$$(grep -q 'HKDF patch' $(B)/deps/versions && echo patched || echo system)\"" \
	  $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

$(B)/bench/handshake_raw_unpatched: bench/handshake_raw.c $(DEPS_OUT)
	@mkdir -p $(@D)
	@if [ -f $(B)/deps/libs_unpatched ]; then echo "CC $@ (unpatched ngtcp2 glue)"; \
	  $(CC) $(WARN) $(CFLAGS) -DHR_GLUE='"unpatched"' $(DEPS_CFLAGS) $< -o $@ $$(cat $(B)/deps/libs_unpatched); \
	else $(HKDF_UNPATCHED_MISSING); fi

# wt.h's own cost per whole session, server side, in memory (the same TLS
# set-up as handshake_raw; for perf/callgrind: see the file's comment).
BENCH_BINS += $(B)/bench/session_mem
$(B)/bench/session_mem: bench/session_mem.c wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

# ---- bench: wt.h's own CPU per datagram round trip, without the kernel
# (helper "rtt"): bench/rtt_cpu.c, a server and a client on two loops
# through the sans-I/O seam; not a figure, a tool (see its header).
BENCH_BINS += $(B)/bench/rtt_cpu
BENCH_SRC += bench/rtt_cpu.c
$(B)/bench/rtt_cpu: bench/rtt_cpu.c wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g -pthread -I. $(DEPS_CFLAGS) $< -o $@ $(DEPS_LIBS)

# Examples linked against the unpatched glue, for the interoperability test
# (wt_impl_tests/hkdf_interop_test.sh, part of make test).
# (handshake_raw and handshake_raw_unpatched, which it runs too, come with bench-bins)
HKDF_INTEROP_BINS := $(B)/hkdf/echo_server_unpatched $(B)/hkdf/echo_client_unpatched
# (the test rule above is read before this variable is set: name them here)
test: $(HKDF_INTEROP_BINS)
$(B)/hkdf/%_unpatched: examples/%.c wt.h $(DEPS_OUT)
	@mkdir -p $(@D)
	@if [ -f $(B)/deps/libs_unpatched ]; then echo "CC $@ (unpatched ngtcp2 glue)"; \
	  $(CC) $(WARN) $(CFLAGS) -I. $(DEPS_CFLAGS) $< -o $@ $$(cat $(B)/deps/libs_unpatched); \
	else $(HKDF_UNPATCHED_MISSING); fi

# ---- bench: one packet's protection, ngtcp2's glue against wt.h's
# callbacks (helper "aead"; src/wt_aead.c), in memory; not a figure
BENCH_BINS += $(B)/bench/wt_aead
BENCH_SRC += bench/wt_aead.c

# ---------------------------------------------------------------- bench: bulk
# The bulk figures (bench/fig/bulk_*.sh, bench/bulk_fig.py): wt_bulk, the
# client of one bulk transfer against wt_bench_server (the wt_% rule above),
# and ngtcp2's own example server and client as the reference
# (bench/ngtcp2_examples.sh: cached, always asked so a new deps prefix
# rebuilds them; exit 77, a missing package, is a skip and the figures'
# ref side prints null).
BENCH_BINS += $(B)/bench/wt_bulk $(B)/bench/ngtcp2_server
BENCH_SRC += bench/wt_bulk.c

.PHONY: ngtcp2-examples
ngtcp2-examples: | deps
	@bash bench/ngtcp2_examples.sh $(B)/bench || test $$? = 77

$(B)/bench/ngtcp2_server: ngtcp2-examples
