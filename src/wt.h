/*
 * wt.h - WebTransport over HTTP/3 for C: servers and clients in one header.
 *
 * Built on ngtcp2 (QUIC), nghttp3 (HTTP/3 + QPACK) and wolfSSL (TLS 1.3).
 * MIT licensed (see the end of this file). wolfSSL is GPLv3 or commercial:
 * a program that links it is bound by the GPLv3 unless you hold a wolfSSL
 * commercial licence.
 *
 * ---------------------------------------------------------------- BUILD
 * In exactly one .c file of your program:
 *
 *     #define WT_IMPLEMENTATION
 *     #include "wt.h"
 *
 * (the define goes before any other #include of that file, or add
 * -D_GNU_SOURCE: the implementation uses Linux socket calls)
 * and link the three libraries, in this order:
 *
 *     cc -std=c11 app.c -I$P/include -L$P/lib \
 *        -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm
 *
 * (add -pthread on a C library older than glibc 2.34: a client resolves
 * host names on a thread)
 *
 * where $P is a prefix holding them (`make deps` in the wt.h repository
 * builds one and writes its path to build/deps/prefix). Other files
 * include "wt.h" without the define and see only the API below.
 * Optional: #define WT_REDIS (before the include, in every file that uses
 * it) adds the Redis pub/sub adapter; link -lhiredis then (see "Redis" at
 * the end of the API).
 *
 * ---------------------------------------------------------------- CONVENTIONS
 * - Public names start with wt_ (WT_ for macros), private ones with wt__.
 * - Functions that can fail return int: 0 or a positive count on success,
 *   a negative WT_ERR_* code on failure; wt_strerror() names it. Every
 *   failure is also logged through the context's log hook (stderr when
 *   there is no context, e.g. a NULL handle): at WT_LOG_ERROR, or at
 *   WT_LOG_DEBUG when it is a normal outcome the app also learns by event
 *   (WOULDBLOCK on a full queue, CLOSED for what the peer closed first, a
 *   timer that already fired).
 * - Config structs are read once at creation; a zeroed field means "the
 *   default" named beside it.
 * - Allocation goes through the allocator in the config (default: the
 *   WT_MALLOC/WT_REALLOC/WT_FREE macros, which default to libc). ngtcp2
 *   and nghttp3 allocate through it too; wolfSSL uses its own allocator
 *   (wolfSSL_SetAllocators is process-wide).
 *
 * ---------------------------------------------------------------- QUICK START
 * A server: wt_app_create() with dev_cert = 1 (a certificate made in memory;
 * its SHA-256 is logged and given by wt_app_cert_sha256) or your own PEM
 * files (wt_cert_generate() writes a pair), wt_app_route(app, "/path",
 * handler, user), wt_app_run(). wt_app_config_args() reads --host, --port,
 * --cert and --key from the command line into the config. A client:
 * wt_client_create() with ca_file, cert_sha256 or insecure, then
 * wt_client_connect(client, "https://host:port/path", handler, user, NULL)
 * and wt_loop_run(wt_client_loop(client)). Both sides then see the same
 * events (see EVENTS below) and use the same session/stream/datagram calls.
 *
 * ---------------------------------------------------------------- THE MODEL
 * Everything happens on one thread, inside wt_loop calls: the loop reads
 * UDP packets, feeds ngtcp2 (QUIC) and nghttp3 (HTTP/3), and calls your
 * handler with a wt_event. Calls you make from a handler only queue work
 * (bytes, FIN, capsules); packets go out when the handler returns. Nothing
 * in wt.h blocks; the one thread it starts is a client's name lookup (see
 * CONNECTING). For your own loop (epoll, libuv, a game loop) use
 * wt_loop_pollfds + wt_loop_timeout + wt_loop_process.
 *
 * No re-entry: a handler is never called from inside a wt_ call. Events a
 * call causes (the DATA held by a paused stream that wt_stream_pause(st, 0)
 * releases, the CLOSED events of wt_session_close or wt_stream_stop_sending,
 * a SESSION_CLOSED from wt_client_connect) wait in order and are delivered
 * right after the running handler or timer returns, or by the next
 * wt_loop_process when the call came from outside the loop. So a handler
 * may call anything, and state it frees on CLOSED is never in use further
 * up its own stack. The exceptions are the destroy calls, which deliver
 * every CLOSED before they return (and may not be called from a handler).
 *
 * Browsers speak draft-02 of WebTransport over HTTP/3; wt.h advertises the
 * SETTINGS that draft and the newer drafts ask for, answers Chromium's
 * draft-02 header, and accepts both `:protocol webtransport` and
 * `webtransport-h3`. Application error codes are 32-bit (browsers: 0-255
 * interoperate everywhere); reasons are at most 1024 bytes.
 *
 * ---------------------------------------------------------------- CONNECTING
 * wt_client_connect returns at once with a session that is valid from then
 * on (its request readable, wt_session_close allowed); the connection
 * behind it comes in three steps, none of which blocks the loop:
 * - The name: a numeric host ("192.0.2.1", "[2001:db8::1]") is used as it
 *   is. A name is looked up with getaddrinfo on a detached thread of its
 *   own, which hands the addresses back and wakes the loop
 *   (wt_loop_wakeup); with wt_client_config.resolve set, the hook
 *   gets the name instead (on the loop's thread, from wt_client_connect)
 *   and answers with wt_resolve_done, at once or later, from any thread
 *   (c-ares, a cache, a test's fixed answer). A client with io.send
 *   (sans-I/O) and no hook looks names up at once: it has no loop to block.
 *   Destroying the client while a lookup runs is safe: the lookup finishes
 *   on its own and its answer is dropped.
 * - The race (happy eyeballs, RFC 8305): the addresses are ordered IPv6
 *   first, then IPv4 and IPv6 in turn. The first attempt starts at once,
 *   each next one 250 ms after the one before unless the server has
 *   answered some attempt by then, and at once when an attempt fails. The
 *   first attempt to finish its QUIC handshake takes the sessions; the
 *   others are dropped (closed, if the server had answered them). Log at
 *   WT_LOG_DEBUG to see the addresses and each attempt.
 * - The deadline: connect_timeout_ms (0: limits.handshake_timeout_ms)
 *   bounds all of it, lookup included. Then the sessions end with
 *   WT_ERR_TIMEOUT and a warning names the addresses tried. A name that
 *   does not resolve ends them with WT_ERR_IO; when every attempt failed
 *   before the deadline, they end with the last attempt's error
 *   (WT_ERR_CERT for a pin that does not match, say).
 * More sessions to the same host:port join the connection under way.
 *
 * ---------------------------------------------------------------- DIALECTS
 * Two dialects of WebTransport over HTTP/3 are spoken, per session
 * (wt_session_dialect):
 * - WT_DIALECT_DRAFT02: draft-ietf-webtrans-http3-02, what Chromium and
 *   Firefox speak. `:protocol webtransport`, SETTINGS_ENABLE_WEBTRANSPORT
 *   (0x2b603742) = 1, no session flow control.
 * - WT_DIALECT_LATEST: the current draft (-15/-16). `:protocol
 *   webtransport-h3`, SETTINGS_WT_ENABLED (0x2c7cf000) = 1, and session
 *   flow control (below) when both sides advertise it.
 * A server speaks both at once: its SETTINGS are the superset (0x08, 0x33,
 * 0xffd277, 0x2b603742, WT_MAX_SESSIONS 0x14e9cd29, WT_ENABLED, and
 * non-zero WT_INITIAL_MAX_DATA 0x2b61 / _STREAMS_UNI 0x2b64 / _BIDI 0x2b65
 * from wt_limits), and each request's :protocol says which dialect its
 * session speaks. A latest-dialect request is answered only once the
 * client's SETTINGS are in (the draft asks it: they say whether flow
 * control applies). A client waits for the server's SETTINGS before its
 * first CONNECT (it always did) and picks the latest dialect when the
 * server offers WT_ENABLED = 1, else draft-02; wt_client_config.dialect
 * forces one. In auto mode the client advertises both enables and its
 * WT_INITIAL_* limits; forced to draft-02 only 0x2b603742; forced to the
 * latest only WT_ENABLED and the limits.
 *
 * Safari (26.4 on) speaks the newer drafts and needs from a server:
 * WT_MAX_SESSIONS >= 1, all three WT_INITIAL_* settings non-zero, and
 * WT_MAX_DATA credit before it sends stream data; wt.h's server sends all
 * of that. Without a Mac this is covered by the flow-control tests (the
 * wt.h client in latest mode against the server) and by a test that
 * plays a peer sending Safari's SETTINGS and CONNECT as WebKit's source
 * describes them. Firefox will soon also require the QUIC reset_stream_at
 * transport parameter (draft-ietf-quic-reliable-stream-reset; the current
 * draft uses RESET_STREAM_AT so a reset stream's header, and with it its
 * session, always arrives). No ngtcp2 release supports it yet (its pull
 * request ngtcp2/ngtcp2#1097 is open). Once one does, wt.h built against
 * it (a compile-time version check, as for other ngtcp2 features) will:
 * advertise the empty reset_stream_at transport parameter; reset its own
 * WebTransport streams (wt_stream_reset, a STOP_SENDING answered, a
 * session's end) with RESET_STREAM_AT whose reliable size covers the
 * stream header; and read a peer's RESET_STREAM_AT as a reset that comes
 * after the bytes below its reliable size, so the header is always seen
 * and both ends count the stream against the session. Until then streams
 * are reset with plain RESET_STREAM, and Firefox versions that insist on
 * the parameter cannot connect.
 *
 * ---------------------------------------------------------------- SMALL DEVICES
 * Stack: no wt.h function takes more than 4 KiB of stack for itself (gcc
 *   -fstack-usage at -O2 and -Os; `make check-stack`, part of `make test`).
 *   Big buffers live on the heap: the packet batch of the send path (64 KB,
 *   one per app or client, made on first use), wt_cert_generate's work
 *   area (about 50 KB, for the call), qlog records (in the connection's
 *   qlog), the happy-eyeballs address list (reordered by index), the
 *   receive batch's message headers (about 10 KB, on the loop). A
 *   handler's stack comes on top; wolfSSL's own depth depends on its build (WOLFSSL_SMALL_
 *   STACK moves its big locals to the heap). The suite runs a whole echo
 *   session (handshake, streams, a datagram, close; both ends) in a thread
 *   with a 64 KiB stack, with the default and the small dependency build.
 * Memory, measured on x86-64 through the allocator hooks, wolfSSL's too
 *   (the suite prints these in mem_idle_session_heap_within_budget,
 *   build/bench/idle_heap measures them):
 *   - per app or client: the endpoint and the 64 KB send batch;
 *   - per idle connection with one session on a server: about 38.5 KB,
 *     of which 3 KB wt.h, 20 KB ngtcp2, 11 KB nghttp3 and 4 KB wolfSSL,
 *     with the dependencies tools/deps.sh builds (its patches let a
 *     connection give back what its handshake grew; libraries of your own:
 *     about 54 KB). After the handshake wt.h keeps only the TLS exporter
 *     secret of the handshake's state: a server frees its WOLFSSL (about
 *     9 KB; a client keeps its own), and a client that sends TLS data
 *     after that (QUIC has none) gets CRYPTO_ERROR with alert 10
 *     (unexpected_message). No QPACK dynamic table unless
 *     limits.qpack_table asks for one;
 *   - per session on a shared connection: about 1.1 KB of wt.h (the 840-
 *     byte wt_session, its request headers and path) and 1.3 KB of ngtcp2
 *     and nghttp3 (the CONNECT stream). Close reasons and a long capsule's
 *     buffer are made only when a session has one;
 *   - per stream: the 336-byte wt_stream, what the peer sent and the app
 *     has not read (at most limits.stream_window), and what it queued to
 *     send (at most stream_send_buffer), in chunks of 1 KiB growing to
 *     16 KiB (64 KiB for large writes), so a short message costs little;
 *     a bulk sender's acknowledged chunks (up to 1 MiB) are reused for its
 *     next writes and freed once all it sent is acknowledged.
 *   Lower stream_window, conn_window, stream_send_buffer and max_sessions
 *   to bound a connection further (see "Limits and defences" in the README).
 * A hard cap: limits.memory_budget (server) is the most heap, in bytes,
 *   the app may hold through its allocator: wt.h, ngtcp2 and nghttp3 (each
 *   block counted with a 16-byte header), the app itself included. An
 *   allocation that would pass it fails, which the library handles as any
 *   out-of-memory: the call or the stream or session fails with
 *   WT_ERR_NOMEM, nothing crashes. Admission keeps room for the work
 *   already admitted: a new connection is refused with CONNECTION_REFUSED
 *   (before any state is kept) unless 64 KiB plus an eighth of the budget
 *   are free, a new session gets 429 (with retry-after) unless 4 KiB plus
 *   that eighth are. wt_app_memory_used() reads the count and its peak.
 *   Not counted: wolfSSL (wolfSSL_SetAllocators is process-wide: point it
 *   at a bounded allocator of your own for a total), the loop's receive
 *   buffer (64 KB, wt_loop_config.alloc), events queued for handlers and
 *   wt_stream_write_ref records (the loop's allocator). A fixed arena works
 *   too: an allocator in wt_app_config.alloc that returns NULL when it is
 *   full gets the same handling, without the admission control.
 * Without sockets: a device with a UDP stack of its own (lwIP, a modem's
 *   socket API) drives wt.h through the sans-I/O seam (below) and four
 *   hooks: wt_io.send in the app's or client's config (each datagram to
 *   send; on lwIP pbuf_alloc + udp_sendto per segment), wt_app_input /
 *   wt_client_input for each datagram received (from the task that owns the
 *   loop: an lwIP udp_recv callback queues to it), wt_loop_process after
 *   inputs and when wt_loop_timeout's milliseconds have passed (the task's
 *   wait timeout), and wt_loop_config.clock (on lwIP sys_now() * 1000000).
 *   wt.h then opens no socket and never reads the system clock;
 *   wt_client_config.resolve or a numeric host avoids name lookups.
 *   examples/sans_io_echo.c is the whole pattern, run by the test suite.
 *
 * ---------------------------------------------------------------- FLOW CONTROL
 * On top of QUIC's per-stream and per-connection windows (limits.stream_
 * window, conn_window), a latest-dialect session whose two ends both sent
 * a non-zero WT_INITIAL_* setting has session flow control: the bytes of
 * all its streams' payload (headers excluded) count against a session
 * credit each way (WT_MAX_DATA), and the streams each side may open
 * against a cumulative count per direction (WT_MAX_STREAMS).
 * - Ours: limits.session_max_data / session_max_streams_bidi / _uni. Credit
 *   comes back as the application consumes: bytes delivered in
 *   WT_EV_STREAM_DATA (or dropped by stop_sending, a reset, a stream's end)
 *   and peer streams that closed. Once half of a window is used, WT_MAX_DATA
 *   / WT_MAX_STREAMS capsules raise it. A paused stream gives no credit
 *   back (neither to its QUIC window nor to the session) until it resumes.
 *   A peer that sends beyond our credit or opens streams beyond our count
 *   breaks the protocol: its session is closed with WT_FLOW_CONTROL_ERROR
 *   (the HTTP/3 code 0x045d4487 on both directions of the CONNECT stream)
 *   and ends locally with WT_ERR_FLOW_CONTROL, as it does on the peer.
 *   So does a WT_MAX_DATA / WT_MAX_STREAMS that does not raise the limit
 *   (or a count above 2^60), and on a latest-dialect session HTTP/2's
 *   per-stream capsules (WT_MAX_STREAM_DATA, WT_STREAM_DATA_BLOCKED),
 *   which draft-16 prohibits over HTTP/3. A flow-control capsule whose
 *   value is not one varint is malformed (WT_ERR_PROTOCOL).
 * - The peer's: wt_stream_write takes no more than the session's remaining
 *   credit (a short count; WT_EV_STREAM_WRITABLE follows when WT_MAX_DATA
 *   raises it); wt_stream_write_all and wt_stream_write_ref queue whole
 *   messages as before, and what passes the credit waits where stream
 *   data is handed to QUIC, which never sends past the peer's WT_MAX_DATA.
 *   wt_session_open_stream returns WT_ERR_LIMIT at the peer's stream count
 *   (WT_EV_SESSION_STREAMS follows its WT_MAX_STREAMS). wt.h then sends
 *   WT_DATA_BLOCKED / WT_STREAMS_BLOCKED (once per limit). A reset stream
 *   gives back the credit its unsent bytes held.
 * Draft-02 sessions, and latest ones without both sides' settings, have
 * only QUIC's flow control; flow-control capsules are then ignored.
 *
 * ---------------------------------------------------------------- MEMORY
 * Every buffer has a bound in wt_limits: a stream's send buffer
 * (wt_stream_write takes what fits, WT_EV_STREAM_WRITABLE says when to go
 * on; wt_stream_write_all copies up to stream_queue more, or fails with
 * WT_ERR_LIMIT), a stream's receive window (a paused reader stops the sender instead
 * of growing memory), queued datagrams, streams and datagrams that arrive
 * before their session, header bytes, connections and sessions.
 *
 * ---------------------------------------------------------------- BAD REQUESTS
 * A peer's mistake in one request costs that request only. A server
 * answers a request that is not a WebTransport CONNECT with 400 (431 over
 * max_header_bytes, 429 over a session cap or rate, 404 without a route,
 * 400 for a route parameter with a bad %xx; see ACCEPTING), and one
 * that HTTP/3 calls malformed (RFC 9114 4.1.2: a CONNECT without
 * :protocol that has :scheme or :path, :protocol on another method, no
 * :authority, a :path with a space or not starting with "/", an
 * upper-case or connection-specific field name, a pseudo-header out of
 * place) with 400 and STOP_SENDING (H3_MESSAGE_ERROR) for whatever else it
 * sends. No handler hears of such a request; the connection and its other
 * sessions go on. What turns malformed after the answer went (a bad
 * trailer, a body that does not match content-length) resets that stream
 * with H3_MESSAGE_ERROR, as does a malformed response on a client, whose
 * session then ends with WT_ERR_PROTOCOL. A CONNECT stream that ends in
 * the middle of a capsule (a close capsule cut short) is malformed too:
 * the session ends with WT_ERR_PROTOCOL and its stream is reset, never a
 * clean close with code 0. Errors of the connection itself still close it,
 * as RFC 9114 asks: frames out of place (a HEADERS frame after a CONNECT
 * request's, DATA first), a broken QPACK or control stream. With nghttp3
 * 1.11 or later that also holds for a malformed header section QPACK had
 * to hold back (it is found while reading the encoder stream, not its own).
 * ---------------------------------------------------------------- SCALING
 * Several machines behind one UDP load balancer: give every instance the
 * same reset_key and token_key (32 secret bytes each) and its own
 * server_id, all of one length n (wt_app_config). Its connection IDs are
 * then QUIC-LB's plaintext format (draft-ietf-quic-load-balancers-21):
 * [0] config rotation 0 in the top 3 bits, the CID's length less this
 * octet in the low 5; [1..n] the server ID; [n+1] the worker index; the
 * rest random; max(16, n + 6) bytes. A QUIC-LB-aware balancer routes every
 * packet by the server ID in its destination CID, so a connection stays on
 * its instance when the client's address changes (README: "Several
 * machines" has an nftables recipe). Where packets of a connection reach
 * another instance anyway (a balancer hashing addresses, an instance
 * replaced), that one answers with a stateless reset the client accepts
 * (the shared reset_key): it learns at once that the connection is gone; a
 * wt.h client logs it. A Retry token one instance issued is honoured by
 * all (the shared token_key; it carries the wall-clock time, so their
 * clocks must agree within a second or two). Connection state is not
 * shared. The server ID is in plaintext: observers can tell which instance
 * a connection is on. Application state the instances must share (a chat
 * room, presence) can go through Redis pub/sub: the optional adapter
 * (WT_REDIS, "Redis" at the end of the API) rides the loop.
 *
 * ---------------------------------------------------------------- DEBUGGING
 * Three views of a connection, all off by default (README: "Debugging a
 * connection" walks through them):
 * - Log lines about a connection start with "[cid 1a2b3c4d s=4]": the first
 *   4 bytes of the client's first destination connection ID (the same on
 *   both ends) and the session's CONNECT stream ID (wt_session_stream_id,
 *   the same on both ends), when there is one.
 * - qlog: with qlog_dir (or $QLOGDIR) every connection writes
 *   <dir>/<that connection ID in hex>_<server|client>.sqlog, JSON-SEQ as
 *   qvis reads it: ngtcp2's transport and recovery events, and beside them,
 *   on the same clock, "webtransport:" events with a session_id (the
 *   CONNECT stream ID):
 *   session_requested (authority, path, protocol, origin), session_accepted
 *   and session_refused (status), session_closed (error_code, reason,
 *   closed_by, wt_error), capsule_sent and capsule_received (capsule_type;
 *   error_code and reason for a close; value for the flow-control ones,
 *   wt_max_data, wt_max_streams_bidi/_uni, wt_data_blocked,
 *   wt_streams_blocked_bidi/_uni), stream_attached (stream_id,
 *   stream_type, owner) and stream_refused, datagram_sent, _received,
 *   _dropped and _lost (length). Records gather in a 64 KiB buffer per
 *   connection that goes out in one write() at a time; when the file cannot
 *   keep up, records are dropped and counted (a "wt:qlog_records_dropped"
 *   record and a log line say how many) instead of memory growing.
 * - TLS key log: with tls_keylog (or $SSLKEYLOGFILE) the TLS 1.3 secrets of
 *   every connection are appended in the NSS key log format, which Wireshark
 *   uses to decrypt QUIC. Creating the app or client then logs a warning:
 *   whoever reads the file reads the traffic. Meanwhile packets go out one
 *   by one, not in GSO batches (which a capture on loopback shows as one
 *   datagram that Wireshark cannot split). It needs a wolfSSL built with
 *   HAVE_SECRET_CALLBACK (make deps builds one); without it a tls_keylog in
 *   the config fails the create, $SSLKEYLOGFILE alone is logged and ignored.
 * A path the config names must work (or the create fails); one from the
 * environment that does not is logged and left off.
 *
 * ---------------------------------------------------------------- CONFIG MACROS
 *   WT_MALLOC(sz) / WT_REALLOC(p, sz) / WT_FREE(p)   default allocator
 *   WT_ASSERT(x)                                       default assert()
 *   WT_NO_MMSG / WT_NO_GSO / WT_NO_GRO                 I/O path, below
 *   WT_AEAD_GLUE                                       packet protection all
 *                                                      through ngtcp2's glue (TLS)
 *
 * ---------------------------------------------------------------- I/O PATH
 * On Linux sockets are read with recvmmsg and UDP GRO (the kernel hands
 * over a train of same-size datagrams in one read of up to 64 KiB, split
 * into QUIC packets in place; the loop's receive buffer grows from 64 KiB
 * to 256 KiB the first time a GRO socket is read) and written with UDP GSO
 * (one send per train of packets) or sendmmsg. Elsewhere, and on Linux when
 * compiled with -DWT_NO_MMSG, -DWT_NO_GSO, -DWT_NO_GRO (any of them; e.g.
 * under qemu-user, which does not byte-swap UDP_SEGMENT), plain recvmsg and
 * sendmsg one datagram at a time. A kernel without UDP_GRO (before 5.0)
 * gets single datagrams; one that refuses GSO on a send (EIO: a device
 * without checksum offload; EINVAL) has it switched off for that socket
 * with one log line, and the train goes again datagram by datagram. Every
 * path keeps answering from the address the client sent to (IP_PKTINFO)
 * and carries ECN: the ECN bits of each datagram go to ngtcp2
 * (IP_RECVTOS / IPV6_RECVTCLASS), and sends carry the mark ngtcp2 chose
 * (ECT(0) once it validated the path; IP_TOS / IPV6_TCLASS).
 */
#ifndef WT_H
#define WT_H

/* The implementation uses POSIX and Linux calls (recvmmsg, sendmmsg; see
   I/O PATH for other systems):
   define WT_IMPLEMENTATION before the first #include of that file, or
   compile it with -D_GNU_SOURCE. */
#if defined(WT_IMPLEMENTATION) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WT_VERSION_MAJOR 0
#define WT_VERSION_MINOR 1
#define WT_VERSION_PATCH 0
#define WT_VERSION "0.1.0"

/* ================================================================ errors */
enum {
    WT_OK = 0,
    WT_ERR_INVALID = -1,     /* a bad argument from the caller */
    WT_ERR_NOMEM = -2,       /* the allocator returned NULL */
    WT_ERR_IO = -3,          /* a system call failed (errno is logged) */
    WT_ERR_TLS = -4,         /* wolfSSL failed: certificate, key, handshake */
    WT_ERR_QUIC = -5,        /* ngtcp2 reported an error */
    WT_ERR_H3 = -6,          /* nghttp3 reported an error */
    WT_ERR_PROTOCOL = -7,    /* the peer broke the WebTransport protocol */
    WT_ERR_WOULDBLOCK = -8,  /* a bounded buffer is full: wait for the event */
    WT_ERR_CLOSED = -9,      /* the session, stream or connection is closed */
    WT_ERR_LIMIT = -10,      /* a configured limit was reached */
    WT_ERR_TOO_BIG = -11,    /* larger than allowed (datagram, reason, ...) */
    WT_ERR_NOT_FOUND = -12,  /* no such file, route or object */
    WT_ERR_STATE = -13,      /* not allowed in the current state */
    WT_ERR_CERT = -14,       /* certificate generation, loading or checking */
    WT_ERR_TIMEOUT = -15,    /* a deadline passed (connect, handshake, idle) */
    WT_ERR_URL = -16,        /* a URL that is not https://host[:port][/path] */
    WT_ERR_REFUSED = -17,    /* the server refused the session */
    WT_ERR_TRUNCATED = -18,  /* input ended inside an element: need more bytes */
    WT_ERR_FLOW_CONTROL = -19 /* session flow control broken (WT_FLOW_CONTROL_ERROR) */
};

/* A short English description of a WT_ERR_* code (never NULL). */
const char *wt_strerror(int err);

/* ================================================================ hooks */
typedef enum wt_log_level {
    WT_LOG_NONE = 0,
    WT_LOG_ERROR = 1,
    WT_LOG_WARN = 2,
    WT_LOG_INFO = 3,
    WT_LOG_DEBUG = 4
} wt_log_level;

/* Log hook: msg is one line without a trailing newline, valid only during
   the call. The default hook writes "wt: LEVEL: msg" to stderr. */
typedef void (*wt_log_fn)(wt_log_level level, const char *msg, void *user);

typedef struct wt_log {
    wt_log_fn fn;         /* NULL: stderr */
    void *user;
    wt_log_level level;   /* 0: WT_LOG_WARN; messages above it are dropped */
} wt_log;

/* Allocator hook: all three set, or all NULL for the WT_MALLOC defaults. */
typedef struct wt_allocator {
    void *(*malloc_fn)(size_t size, void *user);
    void *(*realloc_fn)(void *ptr, size_t size, void *user);
    void (*free_fn)(void *ptr, void *user);
    void *user;
} wt_allocator;

/* ================================================================ handles
 * wt_loop     the poll() loop: UDP sockets, timers. One per thread.
 * wt_app      a WebTransport server: config, routes, startup/shutdown hooks.
 * wt_client   a WebTransport client: connects to https:// URLs.
 * wt_session  one WebTransport session (one CONNECT stream).
 * wt_stream   one WebTransport stream, bidirectional or unidirectional.
 *
 * LIFETIME (when a pointer stops being valid)
 * - wt_session: from its first event until the handler returns from its
 *   WT_EV_SESSION_CLOSED event, which is always delivered exactly once and
 *   always last, after WT_EV_STREAM_CLOSED for each of its streams. A
 *   client's session pointer is valid from wt_client_connect on. Before a
 *   server session reaches its handler, an accept hook has it for the
 *   call; a deferred one is reached by its ID (see ACCEPTING), and one
 *   refused or gone before any handler saw it ends without an event.
 * - wt_stream: from its WT_EV_STREAM_OPEN (peer-opened) or from a
 *   successful wt_session_open_stream (local) until the handler returns
 *   from its WT_EV_STREAM_CLOSED, delivered exactly once, after every other
 *   event of that stream. A stream closes when both directions are done
 *   (FIN or reset each way) or when its session ends.
 * - Event data (data, reason, header strings) is valid only during the call.
 * - wt_app_destroy / wt_client_destroy close everything first, so every
 *   CLOSED event is delivered before they return. Open sessions get their
 *   close capsule first, and the call serves that endpoint's sockets until
 *   the peers acknowledge it: up to 3 PTO (1 s at most) when a peer is
 *   slow or silent. They, wt_loop_destroy and wt_loop_process must not be
 *   called from a handler or timer, nor from a CLOSED event delivered by a
 *   destroy (they log an error and do nothing): stop the loop, destroy
 *   after it returns. A client being destroyed refuses wt_client_connect.
 * - A stopping app (wt_app_stop) keeps its sessions until they close or
 *   the grace period ends, then closes the rest, so every CLOSED event is
 *   delivered before its shutdown hooks run; wt_app_run returns after
 *   them. The app itself stays valid until wt_app_destroy.
 * - Threads: everything runs on the loop's thread. The only calls another
 *   thread may make are wt_loop_wakeup, wt_loop_post, wt_app_post and
 *   wt_app_post_all (and wt_app_stop /
 *   wt_app_stop_now / wt_loop_stop, which are flags and a wakeup, and
 *   wt_resolve_done); a signal handler may make all of those but
 *   the posts and wt_resolve_done. An app with workers has a loop and a
 *   thread per worker (see WORKERS).
 */
typedef struct wt_loop wt_loop;
typedef struct wt_app wt_app;
typedef struct wt_client wt_client;
typedef struct wt_session wt_session;
typedef struct wt_stream wt_stream;

/* ================================================================ events
 * One handler per session (from the route on a server, from wt_client_connect
 * on a client) receives every event of that session and of its streams.
 *
 * event                    fields set
 * WT_EV_SESSION_REQUEST    session. Server only, before the response, once
 *                          the built-in checks and accept hooks let it
 *                          through (see ACCEPTING): read path, headers,
 *                          route parameters, then wt_session_reject() to
 *                          refuse (300-599) or wt_session_accept() for a
 *                          2xx other than 200, optionally with response
 *                          headers; returning without either accepts (200).
 * WT_EV_SESSION_OPEN       session. Streams and datagrams may be used.
 * WT_EV_SESSION_DRAINING   session. The peer asked to wind down (its
 *                          DRAIN capsule, or HTTP/3 GOAWAY on the
 *                          connection). A client's next wt_client_connect
 *                          to that server then opens a new connection.
 * WT_EV_SESSION_CLOSED     session, code, reason/reason_len (the peer's
 *                          close capsule, or what wt_session_close sent; 0
 *                          and "" for a bare FIN), error: WT_OK for a clean
 *                          close; WT_ERR_REFUSED with status for a refused
 *                          session; WT_ERR_CLOSED when the connection went
 *                          away (wt_session_close_connection included;
 *                          closed by the server during the handshake too:
 *                          the log says why); WT_ERR_TIMEOUT when the peer
 *                          went silent (handshake or idle) or the client's
 *                          connect_timeout_ms passed; WT_ERR_IO when the
 *                          host name did not resolve; WT_ERR_CERT
 *                          when the server's certificate is not the pinned
 *                          one; WT_ERR_TLS when the TLS handshake failed
 *                          (either side's alert: no common group, an
 *                          unverifiable certificate; logged with its name);
 *                          WT_ERR_FLOW_CONTROL when either side broke
 *                          session flow control (see FLOW CONTROL);
 *                          WT_ERR_PROTOCOL when the peer broke the protocol
 *                          (bad capsule, or one cut short by FIN; no
 *                          WebTransport; a malformed response, see BAD
 *                          REQUESTS; the stream is reset); WT_ERR_LIMIT /
 *                          WT_ERR_NOMEM when the response's headers passed
 *                          max_header_bytes (or memory ran out); WT_ERR_H3
 *                          when nghttp3 failed.
 * WT_EV_STREAM_OPEN        session, stream. The peer opened a stream.
 * WT_EV_STREAM_DATA        session, stream, data/len in order, fin = 1 on
 *                          the last. Never empty except a final event
 *                          (len 0, fin 1) when the FIN came alone.
 * WT_EV_STREAM_WRITABLE    session, stream. The send buffer has room again
 *                          after a short wt_stream_write (or, under session
 *                          flow control, WT_MAX_DATA brought credit).
 * WT_EV_STREAM_RESET       session, stream, code: the peer aborted its
 *                          sending side (no more DATA). Codes outside the
 *                          WebTransport range (browsers' generic HTTP/3
 *                          codes when a session goes away) read as 0.
 * WT_EV_STREAM_STOP_SENDING session, stream, code: the peer will not read;
 *                          the library resets our sending side with it.
 *                          (ngtcp2 >= 1.24; older ngtcp2 resets silently)
 * WT_EV_STREAM_CLOSED      session, stream. Last event of the stream.
 * WT_EV_DATAGRAM           session, data/len.
 * WT_EV_DATAGRAM_WRITABLE  session. After wt_session_send_datagram returned
 *                          WT_ERR_WOULDBLOCK: the queue is at most half full
 *                          again. Once per WOULDBLOCK episode and session.
 * WT_EV_SESSION_STREAMS    session, code: 1 bidirectional, 0 unidirectional.
 *                          After wt_session_open_stream returned WT_ERR_LIMIT:
 *                          the peer allows more streams of that kind (QUIC
 *                          MAX_STREAMS, or the session's WT_MAX_STREAMS
 *                          under flow control). Once per WT_ERR_LIMIT episode.
 */
typedef enum wt_event_type {
    WT_EV_SESSION_REQUEST = 1,
    WT_EV_SESSION_OPEN,
    WT_EV_SESSION_DRAINING,
    WT_EV_SESSION_CLOSED,
    WT_EV_STREAM_OPEN,
    WT_EV_STREAM_DATA,
    WT_EV_STREAM_WRITABLE,
    WT_EV_STREAM_RESET,
    WT_EV_STREAM_STOP_SENDING,
    WT_EV_STREAM_CLOSED,
    WT_EV_DATAGRAM,
    WT_EV_DATAGRAM_WRITABLE,
    WT_EV_SESSION_STREAMS
} wt_event_type;

typedef struct wt_event {
    wt_event_type type;
    wt_session *session;
    wt_stream *stream;
    const uint8_t *data;
    size_t len;
    int fin;
    uint32_t code;
    const char *reason;
    size_t reason_len;
    int status;  /* WT_ERR_REFUSED: the response status (any non-2xx, or a
                    2xx that ended the stream; 0 if none came) */
    int error;   /* WT_EV_SESSION_CLOSED: why it closed */
    void *user;  /* the user pointer given with the handler */
} wt_event;

typedef void (*wt_handler)(wt_event *ev);

/* Name of an event type, for logs. */
const char *wt_event_name(wt_event_type type);

/* ================================================================ limits
 * Every bound the library enforces. Zero means the default beside it. */
typedef struct wt_limits {
    uint32_t max_connections;      /* server connections at once: 256 */
    uint32_t max_sessions;         /* sessions per connection: 16 */
    uint32_t max_streams_bidi;     /* peer-opened bidi streams at once: 128 */
    uint32_t max_streams_uni;      /* peer-opened uni streams at once: 128 */
    uint32_t stream_window;        /* receive window per stream: 4 MiB (a stream's
                                      bytes in flight: 4 MiB per round trip) */
    uint32_t conn_window;          /* receive window per connection: 8 MiB */
    uint32_t stream_send_buffer;   /* unacknowledged bytes per stream: 2 MiB */
    uint32_t datagram_queue;       /* datagrams waiting to be sent: 1024 (and see
                                      datagram_queue_bytes) */
    uint32_t buffered_streams;     /* streams arriving before their session: 24 */
    uint32_t buffered_datagrams;   /* datagrams arriving before their session: 32 */
    uint32_t max_header_bytes;     /* request/response header section: 16 KiB */
    uint32_t idle_timeout_ms;      /* QUIC idle timeout: 30000 */
    uint32_t handshake_timeout_ms; /* QUIC handshake + first session answered: 10000 */
    uint32_t udp_buffer;           /* SO_RCVBUF / SO_SNDBUF: 4 MiB */
    uint32_t keepalive_ms;         /* PING after this much quiet, on a client and on a
                                      server while a session is open: idle_timeout_ms
                                      / 2; UINT32_MAX: never */
    uint32_t glitch_burst;         /* ngtcp2 >= 1.15 closes a connection whose peer
                                      sends more needless frames (duplicates, stale
                                      updates) than this burst ... : 50000 */
    uint32_t glitch_rate;          /* ... refilled at this many per second: 5000.
                                      Loss and reordering cause them too: ngtcp2's own
                                      10000 and 330/s can cut a long lossy transfer */
    uint32_t retry_threshold;      /* server: once this many handshakes are under way,
                                      a new client must prove its address with a Retry
                                      round trip before it gets a slot: 32; 1: always;
                                      UINT32_MAX: never */
    uint32_t max_half_open_per_ip; /* server: handshakes at once from one IP address
                                      that did not prove it (more are dropped): 8 */
    uint32_t unvalidated_timeout_ms; /* server: the handshake deadline of a client that
                                      did not prove its address: 5000 (at most
                                      handshake_timeout_ms) */
    uint32_t conn_send_buffer;     /* stream bytes queued or unacknowledged, all the
                                      streams of one connection together: 16 MiB */
    uint32_t total_send_buffer;    /* the same for the whole app or client: 256 MiB.
                                      Past either, wt_stream_write takes less (or 0)
                                      and WT_EV_STREAM_WRITABLE says when to go on */
    uint32_t stream_queue;         /* bytes wt_stream_write_all may copy and hold per
                                      stream beyond stream_send_buffer: 4 MiB */
    uint32_t max_app_sessions;     /* server: sessions at once in the whole app (open
                                      or deferred; more are refused with 429):
                                      UINT32_MAX, i.e. only max_connections x
                                      max_sessions */
    uint32_t sessions_per_ip_per_s; /* server: new sessions per second from one client
                                      IP address (port ignored), a token bucket with a
                                      burst of twice this; more are refused with 429:
                                      UINT32_MAX, i.e. no limit */
    uint32_t rate_limit_ips;       /* server: client addresses that limit remembers; a
                                      new one replaces the least recently seen: 1024 */
    /* Session flow control (latest dialect only, see FLOW CONTROL): what a
       peer may send and open per session, sent as SETTINGS_WT_INITIAL_* and
       raised by capsules as the application consumes. */
    uint32_t session_max_data;     /* payload bytes of all of a session's streams in
                                      flight to us: conn_window (8 MiB) */
    uint32_t session_max_streams_bidi; /* peer bidi streams per session at once:
                                      max_streams_bidi (128) */
    uint32_t session_max_streams_uni;  /* peer uni streams per session at once:
                                      max_streams_uni (128) */
    uint32_t datagram_queue_bytes; /* payload bytes of datagrams waiting to be sent,
                                      all sessions of a connection: 64 KiB. With
                                      datagram_queue (a count) the first bound
                                      reached gives WT_ERR_WOULDBLOCK: small
                                      datagrams can queue a congestion window's
                                      worth, large ones stay within this */
    uint32_t memory_budget;        /* server: bytes of heap the app may hold through
                                      its allocator (wt.h, ngtcp2, nghttp3; not
                                      wolfSSL): new connections are refused and new
                                      sessions get 429 near it, no allocation passes
                                      it (see SMALL DEVICES): 0, i.e. no budget */
    uint32_t qpack_table;          /* bytes of QPACK dynamic table the peer may fill
                                      with header fields for us to keep, per
                                      connection: 0, i.e. none (headers come as
                                      literals; a WebTransport connection sends a
                                      few hundred bytes of them per session, and a
                                      table costs about 1.5 KB of heap per connection
                                      plus what the peer puts in it) */
    uint32_t congestion_control;   /* ngtcp2's congestion controller: WT_CC_CUBIC (0,
                                      the default), WT_CC_RENO or WT_CC_BBR. BBR paces
                                      by the delivery rate it measures; unpatched
                                      CUBIC holds an app-limited datagram sender to
                                      a stale pacing rate (the bundled ngtcp2 is
                                      patched; README: Limits and defences) */
} wt_limits;

/* wt_limits.congestion_control */
#define WT_CC_CUBIC 0
#define WT_CC_RENO 1
#define WT_CC_BBR 2

/* ================================================================ loop
 * wt_app and wt_client run on a wt_loop: their own unless config.loop is
 * set, so a server and clients (or several servers) can share one thread.
 * To embed wt.h in another event loop (epoll, libuv, a game loop), watch
 * the descriptors from wt_loop_pollfds (the loop's wakeup descriptor
 * first, then the UDP sockets), wake up after wt_loop_timeout ms at the
 * latest, and call wt_loop_process each time one is readable or the time
 * is up. The wakeup descriptor is how wt_loop_wakeup, wt_loop_post,
 * wt_loop_stop and wt_app_stop reach a loop asleep in poll(): readable
 * until the next wt_loop_process. Call wt_loop_pollfds again after
 * wt_app_start or wt_client_connect (new sockets) and wt_loop_watch.
 * The other way round, wt_loop_watch puts another library's descriptor
 * into wt.h's own loop (the Redis adapter rides it so).
 *
 * Another thread hands work to the loop with wt_loop_post(loop, fn, user):
 * fn(loop, user) then runs on the loop's thread, in the next
 * wt_loop_process, in the order of posting (per thread, and overall as
 * the calls were made), each exactly once; from there it may call any wt_
 * function (wt_app_resume, wt_session_send_datagram, ...). The queue is
 * lock-free (C11 atomics) but each post
 * allocates its node from the loop's allocator on the posting thread: a
 * custom allocator (wt_loop_config.alloc) must then be thread-safe (libc's
 * is). Posts still queued when the loop is destroyed are dropped, not run
 * (logged with their count): what they point to may be gone by then. */
/* The loop's clock: monotonic nanoseconds. Tests and simulations give a
   virtual one; every timer, timeout and QUIC timestamp reads it. */
typedef struct wt_clock {
    uint64_t (*now_ns)(void *user);  /* NULL: CLOCK_MONOTONIC */
    void *user;
} wt_clock;

typedef struct wt_loop_config {
    wt_allocator alloc;
    wt_log log;
    wt_clock clock;
} wt_loop_config;

typedef void (*wt_timer_fn)(wt_loop *loop, void *user);

wt_loop *wt_loop_create(const wt_loop_config *cfg);
void wt_loop_destroy(wt_loop *loop);  /* apps and clients on it first */
/* Runs until wt_loop_stop. Returns WT_OK or an error. */
int wt_loop_run(wt_loop *loop);
/* Waits at most timeout_ms (-1: until something happens) and processes. */
int wt_loop_run_once(wt_loop *loop, int timeout_ms);
/* Makes wt_loop_run return; safe from a handler, another thread or a
   signal handler (a flag, then wt_loop_wakeup: never lost, even when it
   lands just before poll()). */
void wt_loop_stop(wt_loop *loop);
/* Makes a loop waiting in poll() (wt_loop_run, wt_loop_run_once(-1), or
   your own poll on wt_loop_pollfds) return at once and process.
   Thread-safe and async-signal-safe: an eventfd on Linux (a self-pipe
   elsewhere) written to; errno is preserved. */
void wt_loop_wakeup(wt_loop *loop);
/* Runs fn(loop, user) on the loop's thread soon (the next
   wt_loop_process), in order of posting; thread-safe, not signal-safe
   (it allocates). WT_ERR_NOMEM / WT_ERR_INVALID. See "Another thread"
   above. */
int wt_loop_post(wt_loop *loop, wt_timer_fn fn, void *user);
/* Fills up to max pollfd-like entries {fd, events}; returns the count
   (which may exceed max: call again with more room). The first is the
   wakeup descriptor (POLLIN); then the sockets: POLLIN, or POLLIN|POLLOUT
   while a socket is congested; then the wt_loop_watch descriptors with
   their events. */
int wt_loop_pollfds(wt_loop *loop, int *fds, short *events, int max);
/* Milliseconds until wt_loop_process must run again; -1: no timer. */
int wt_loop_timeout(wt_loop *loop);
/* Never blocks: reads every ready socket, runs due timers, sends. */
int wt_loop_process(wt_loop *loop);
/* A one-shot timer; returns an id > 0, or a negative WT_ERR_*. */
int64_t wt_loop_timer(wt_loop *loop, uint32_t ms, wt_timer_fn fn, void *user);
int wt_loop_timer_cancel(wt_loop *loop, int64_t id);
/* Monotonic milliseconds, the loop's clock. */
uint64_t wt_loop_now_ms(wt_loop *loop);
/* Another library's descriptor in the loop (a database client, a pipe):
   fn(loop, fd, revents, user) runs on the loop's thread, inside
   wt_loop_process, when poll() finds fd ready. events: POLLIN and/or
   POLLOUT; calling again for the same fd replaces events, fn and user;
   events 0 removes the watch (WT_ERR_NOT_FOUND if there was none).
   revents holds the ready bits among events, plus POLLERR / POLLHUP /
   POLLNVAL whenever poll() reports them. A descriptor closed while
   watched (POLLNVAL) has its watch removed after fn (logged: remove it
   before closing). fn may call any wt_ function, wt_loop_watch included;
   like a timer, it never runs inside a handler. The fd stays the
   caller's: the loop never reads, writes or closes it. Loop thread only.
   wt_loop_pollfds lists watched fds last; an own poll loop just calls
   wt_loop_process, which asks poll() (timeout 0) which of them are ready.
   WT_ERR_INVALID (bad fd, events or fn), WT_ERR_NOMEM. */
typedef void (*wt_watch_fn)(wt_loop *loop, int fd, short revents, void *user);
int wt_loop_watch(wt_loop *loop, int fd, short events, wt_watch_fn fn, void *user);

/* ================================================================ TLS
 * Key exchange (TLS 1.3 "groups") is configured by name, a ':'-separated
 * list, case ignored: X25519MLKEM768 (hybrid post-quantum, 0x11ec),
 * SECP256R1MLKEM768, SECP384R1MLKEM1024, X25519, X448, P-256 (or secp256r1),
 * P-384 (secp384r1), P-521 (secp521r1), ffdhe2048, ffdhe3072.
 *
 * A client lists them in its ClientHello in the order given and sends key
 * shares for the first tls_key_shares (default 2) of them: by default the
 * hybrid and X25519, as browsers do, so a server with ML-KEM and one
 * without both answer in one round trip. A server takes the first group of
 * its own list that the client sent a share for; if there is none, it asks
 * for its most preferred group the client supports (HelloRetryRequest, one
 * more round trip). With no group in common the handshake fails with a
 * TLS alert that both sides log: 40 (handshake_failure) from most servers,
 * 47 (illegal_parameter) with a wt.h server, as wolfSSL then asks for a
 * group the client did not offer.
 *
 * The default skips the groups this wolfSSL build lacks (an older wolfSSL
 * such as 5.7, or one built without ML-KEM, has no hybrid); naming such a
 * group, or a name not above, makes wt_app_create / wt_client_create fail
 * (logged). */
#define WT_TLS_GROUPS_DEFAULT "X25519MLKEM768:X25519:P-256:P-384:P-521"

/* Cipher suites (TLS 1.3), by IANA name, a ':'-separated list, case
 * ignored: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
 * TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_CCM_SHA256 (wolfSSL's own names,
 * e.g. TLS13-AES128-GCM-SHA256, work too). A server picks the first suite of
 * its list that the client offers; a client offers them in this order. The
 * default puts AES-128-GCM first, as browsers do: wolfSSL's own order starts
 * with AES-256-GCM and SHA-384, which costs a server about a tenth more CPU
 * per handshake (the key schedule and transcript hash on SHA-384) and more
 * per byte. All three are strong; name AES-256 first to prefer it. As with
 * groups, the default skips suites this build lacks, and naming one, or a
 * name not above, makes wt_app_create / wt_client_create fail (logged).
 *
 * Packets are protected with the keys ngtcp2's wolfSSL glue derives; for
 * AES-GCM (and AES header protection) wt.h then calls wolfCrypt itself, one
 * call per packet, instead of the glue's path through wolfSSL's EVP layer,
 * which buffers and copies every packet (same bytes; about a fifth less CPU
 * per packet for the protection, more for small packets). ChaCha20-Poly1305
 * and AES-CCM go through the glue. The direct path checks itself once per
 * process against the glue and steps aside if they differ (a wolfSSL built
 * with other options than the wolfssl/options.h wt.h was compiled with);
 * -DWT_AEAD_GLUE turns it off. */
#define WT_TLS_CIPHERS_DEFAULT "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/* ================================================================ sans-I/O
 * An app or client with io.send set opens no socket: every UDP datagram it
 * sends goes to send(), and you hand it every datagram that arrives with
 * wt_app_input / wt_client_input (not from a handler), then run
 * wt_loop_process when wt_loop_timeout says (0 right after an input). With
 * a wt_clock on the loop this drives the whole stack without a kernel: a
 * device with its own UDP stack (see SMALL DEVICES, examples/sans_io_echo.c),
 * or a simulated network in tests (wt_impl_tests/sim.h).
 * Addresses are struct sockaddr bytes (sockaddr_in or sockaddr_in6). */
typedef struct wt_io {
    /* Sends len bytes from local to remote as UDP datagrams of segment
       bytes each (the last may be shorter). Return 0, or a negative value
       to drop them (QUIC recovers, as from any loss). */
    int (*send)(void *user, const void *local, size_t local_len, const void *remote, size_t remote_len,
                const uint8_t *data, size_t len, size_t segment);
    void *user;
    const char *local_host;  /* client: its address, numeric (NULL: "127.0.0.1" or "::1"
                                after the server's family); a server uses its host */
    int local_port;          /* client: its port (0: 50000) */
} wt_io;

/* ================================================================ server (app) */
/* Startup and shutdown hooks return WT_OK (or any value >= 0), or a
   negative status: a failing startup hook aborts wt_app_start (see there);
   a shutdown hook's negative status is logged, the others still run. */
typedef int (*wt_app_hook)(wt_app *app, void *user);

typedef struct wt_app_config {
    const char *host;        /* NULL: "127.0.0.1"; "::" for every IPv4+IPv6 address;
                                a name binds every address it resolves to. On
                                "::" or "0.0.0.0" each client is answered from
                                the address it sent to (IP_PKTINFO) */
    int port;                /* 0: 4433; -1: a free port (see wt_app_port) */
    const char *cert_file;   /* PEM certificate chain (required unless dev_cert) */
    const char *key_file;    /* PEM private key (required unless dev_cert) */
    int dev_cert;            /* 1, with cert_file and key_file NULL: a self-signed
                                P-256 certificate for localhost (and host, if a
                                name or address) made in memory, valid 10 days;
                                its SHA-256 is logged (in a WARN that it is for
                                development, and at INFO) and given by
                                wt_app_cert_sha256 */
    wt_limits limits;
    wt_allocator alloc;
    wt_log log;
    wt_loop *loop;           /* NULL: the app creates and owns one */
    int stop_on_signals;     /* 1: during wt_app_run the first SIGINT or SIGTERM
                                is wt_app_stop (graceful, as Ctrl-C ends
                                app.run), a second one wt_app_stop_now; both
                                logged. The old handlers come back after */
    uint32_t shutdown_code;  /* when the app stops, every session still open
                                after the grace period is closed with this
                                code (0) ... */
    const char *shutdown_reason; /* ... and reason (NULL: "server shutting down",
                                <= 1024 bytes) before its connection closes */
    uint32_t shutdown_grace_ms; /* 0: 2000. How long wt_app_stop lets drained
                                sessions finish before closing them */
    const char *tls_groups;  /* NULL: WT_TLS_GROUPS_DEFAULT. The key-exchange
                                groups accepted, most preferred first (see TLS) */
    const char *tls_ciphers; /* NULL: WT_TLS_CIPHERS_DEFAULT. The TLS 1.3 cipher
                                suites accepted, most preferred first (see TLS) */
    wt_io io;                /* io.send set: no socket (see sans-I/O); host must
                                then be numeric and port explicit */
    const char *qlog_dir;    /* NULL: $QLOGDIR if set, else no qlog; "": none. A
                                directory: a qlog file per connection (see DEBUGGING) */
    const char *tls_keylog;  /* NULL: $SSLKEYLOGFILE if set, else none; "": none.
                                A file the TLS secrets are appended to (see DEBUGGING) */
    const char *const *allowed_origins; /* NULL: any origin. Else a NULL-terminated
                                list ("https://example.com"; case ignored): a
                                request whose origin header is missing or not
                                listed is refused with 403 */
    const char *auth_token;  /* NULL: none. Else a request must carry
                                "authorization: Bearer <auth_token>", or it is
                                refused with 401 (and www-authenticate: Bearer) */
    const uint8_t *reset_key; /* NULL: random per app. Else 32 secret bytes the
                                stateless-reset tokens are derived from (HMAC-
                                SHA256 of each connection ID): servers behind one
                                load balancer, or one restarted, share it so a
                                peer of a lost connection learns at once that it
                                is gone. Keep it secret: with it anyone can
                                reset your connections */
    const uint8_t *token_key; /* NULL: random per app. Else 32 secret bytes that
                                sign and check Retry (address-validation) tokens:
                                instances behind one load balancer share it, so
                                a token one of them issued is honoured by all.
                                A token is good for 10 s after its issue by the
                                wall clock (CLOCK_REALTIME; with a wt_clock on
                                the loop, that clock): machines sharing the key
                                need clocks within a second or two (NTP) */
    const uint8_t *server_id; /* QUIC-LB (draft-ietf-quic-load-balancers,
                                plaintext): this instance's server ID, written
                                into every connection ID it issues right after
                                the first octet, so a CID-aware balancer routes
                                a connection to it even after the client's
                                address changes (see SCALING) */
    size_t server_id_len;     /* 0: none. 1..WT_SERVER_ID_MAX bytes; connection
                                IDs are then max(16, server_id_len + 6) long */
    int workers;              /* 0 or 1: one loop, as always. 2..WT_WORKERS_MAX:
                                that many loops on as many threads, all serving
                                the port (see WORKERS) */
    uint32_t workers_stats_ms; /* 0: 100. With workers: how often (at most) each
                                publishes its figures for the others' sums
                                while they change (see WORKERS) */
} wt_app_config;
#define WT_SERVER_ID_MAX 14
#define WT_WORKERS_MAX 64

/* ---------------------------------------------------------------- WORKERS
 * With workers = N > 1 the app runs N loops, one per thread, each a whole
 * server of its own (its sockets, connection IDs, connections and
 * sessions) serving the same host and port: every core of a machine. Each
 * worker binds its own UDP socket with SO_REUSEPORT, and a classic BPF
 * program on the group (SO_ATTACH_REUSEPORT_CBPF) reads the worker index
 * that every server connection ID carries (the byte after the first octet
 * and the server ID) and hands the datagram to that worker's socket, so a
 * connection stays on its worker even when the client's address or port
 * changes (NAT rebinding, migration). A client's first packets name no
 * worker yet: the kernel's 4-tuple hash spreads new connections evenly.
 * Where the program cannot be attached (no Linux, an old kernel) a WARN
 * says so and the workers go on with the hash alone.
 *
 * What is shared and what is each worker's:
 * - routes, the default route and accept hooks: worker 0's, read by all;
 *   add them before wt_app_start (later: WT_ERR_STATE). Handlers and hooks
 *   run on the worker that owns the session, on that worker's thread:
 *   what they share across sessions needs a lock or wt_app_post.
 * - startup hooks run once, in wt_app_start, before the workers start;
 *   shutdown hooks once, on worker 0, after every worker has stopped.
 * - wt_app_run runs worker 0 on the calling thread (or cfg->loop, when
 *   set: your loop, driven as usual) and workers 1..N-1 on threads the app
 *   starts in wt_app_start. wt_app_stop / wt_app_stop_now / signals stop
 *   them all, each as described at wt_app_stop; wt_app_loop is worker 0's.
 *   wt_app_destroy without a stop first has the worker threads return,
 *   then closes every worker's sessions on the calling thread (their
 *   CLOSED events run there).
 * - the certificate, secrets (reset_key, token_key), server ID, limits and
 *   checks are the same for all; limits count per worker except
 *   max_app_sessions (the whole app: the other workers' counts may be up
 *   to workers_stats_ms old) and memory_budget (each worker gets budget / N).
 * - session IDs are unique in the app; wt_session_worker(s) says which
 *   worker owns s (the ID does too: it is (n - 1) * N + worker + 1).
 * - wt_app_stats, wt_app_session_count and wt_app_memory_used sum the
 *   workers: the caller's own worker (and all of them before the start
 *   and after the stop) as it is now, the others as they published it at
 *   most workers_stats_ms (100 ms) ago (asking makes them publish again:
 *   read twice a few ms apart for a fresh sum).
 * - wt_app_resume and wt_app_deferred_session are called on the thread of
 *   the session's worker (else WT_ERR_STATE, logged).
 * - a log function given in the config is called from every worker's
 *   thread: it must be thread-safe (the default is).
 * A session is reached from another worker or thread with wt_app_post
 * (by its ID); wt_app_post_all runs a function on every worker (a
 * broadcast: each worker then writes to its own sessions). The process
 * needs the pthread library (-pthread; part of libc since glibc 2.34).
 * With io.send (sans-I/O) there is one worker only. */

/* ---------------------------------------------------------------- ACCEPTING
 * A server decides about each session request in this order; the first
 * step that refuses answers with its status, and no later step runs:
 *  1. the caps: limits.max_sessions on the connection, max_app_sessions in
 *     the app, and limits.sessions_per_ip_per_s (429; a stopping server and
 *     a GOAWAY'd connection refuse with 429 too);
 *  2. allowed_origins (403), then auth_token (401), from wt_app_config;
 *  3. the accept hooks of wt_app_use, in the order they were added;
 *  4. the route (404 when no route matches and there is no default route);
 *  5. the route's handler, which hears WT_EV_SESSION_REQUEST and may still
 *     accept with another 2xx or reject.
 * A request refused before step 5 never reaches a handler: no event at all.
 *
 * An accept hook returns WT_ACCEPT (go on), a status 300-599 (refuse with
 * it), or WT_DEFER (answer later with wt_app_resume, e.g. once a thread has
 * looked the user up). Any other value is logged and refuses with 500. A
 * hook may read the request (path, headers, query, remote address), set the
 * session's user pointer, add response headers, and call wt_session_reject
 * (the same as returning the status) or wt_session_accept (the 2xx to
 * answer with, if nothing later refuses). Response headers added by hooks
 * go out with the answer, whichever it is (a redirect's location, a 401's
 * www-authenticate). Route parameters are not known yet in a hook. A hook
 * runs on the loop's thread like a handler: it must not block (defer).
 *
 * A deferred session waits, without an answer, until wt_app_resume(app,
 * wt_session_id(s), status) on the loop's thread (from another thread:
 * wt_loop_post a function that calls it): 0 goes on with the next hook and
 * the route, 300-599 refuses. The decision is acted on by the loop right
 * after the calling handler or timer returns (never inside the call). Keep
 * the session's ID, not its pointer: if the peer goes away meanwhile (or
 * the app stops: a stop refuses deferred sessions with 429), the session is
 * freed without any event - no handler ever saw it - and wt_app_resume
 * returns WT_ERR_NOT_FOUND.
 * wt_app_deferred_session gives the pointer back for the moment (to add
 * headers with the answer), and wt_session_reject on it refuses at once.
 * One not resumed within limits.handshake_timeout_ms is refused with 503
 * (logged).
 *
 * ---------------------------------------------------------------- ROUTES
 * A route is an exact path ("/echo") or a pattern of '/'-separated
 * segments, where a whole segment may be a parameter: "{name}" matches one
 * non-empty segment, "{name...}" (last segment only) the rest of the path,
 * '/' included, possibly empty ("/files/{path...}" matches "/files/" and
 * "/files/a/b.txt", not "/files"). Names are letters, digits and '_',
 * each at most once per pattern. Literal segments are compared with the
 * path as sent (percent-encoded, case kept); the query string ("?..."
 * onwards) is ignored. When several routes match, the most specific wins:
 * going from the left, at the first segment where they differ, a literal
 * beats "{name}", which beats "{name...}". So "/chat/lobby" wins over
 * "/chat/{room}" (an exact path over any pattern), and "/a/{x}/c" over
 * "/a/{x...}". Two routes that differ only in parameter names are the same
 * route: registering it twice is WT_ERR_INVALID. Parameter values are
 * percent-decoded (wt_session_param); a value with a malformed %xx or that
 * decodes to a NUL byte refuses the request with 400. */
wt_app *wt_app_create(const wt_app_config *cfg);  /* NULL on error (logged) */
/* Adds a route (see ROUTES). WT_ERR_INVALID (logged) for a pattern that
   is not one, or one routed already. */
int wt_app_route(wt_app *app, const char *pattern, wt_handler fn, void *user);
/* The handler for requests no route matches (without it: 404). Once. */
int wt_app_default_route(wt_app *app, wt_handler fn, void *user);
/* Accept hooks (see ACCEPTING). */
#define WT_ACCEPT 0
#define WT_DEFER 1
typedef int (*wt_accept_fn)(wt_session *s, void *user);
/* Appends a hook; hooks run in the order added, after the built-in checks. */
int wt_app_use(wt_app *app, wt_accept_fn fn, void *user);
/* Answers a deferred session: status 0 goes on with the next hook and the
   route, 300-599 refuses. Loop thread only. WT_ERR_NOT_FOUND if no such
   session waits (the peer left, it timed out, or it never deferred),
   WT_ERR_STATE if it was resumed already. */
int wt_app_resume(wt_app *app, uint64_t session_id, int status);
/* The session deferred under that ID, still waiting (also once resumed,
   until the loop acts on it), or NULL: to add response headers or set its
   user pointer before resuming it. Valid until the calling handler or timer
   returns (outside the loop: until the next wt_loop_process). */
wt_session *wt_app_deferred_session(wt_app *app, uint64_t session_id);
/* Hooks run in the order added. Startup hooks run in wt_app_start once
   the sockets are bound; shutdown hooks on the loop once a stop has closed
   every connection (or in wt_app_destroy), after every CLOSED event. */
int wt_app_on_startup(wt_app *app, wt_app_hook fn, void *user);
int wt_app_on_shutdown(wt_app *app, wt_app_hook fn, void *user);
/* Binds the sockets and runs the startup hooks (once; WT_OK again later).
   A startup hook returning < 0 aborts it cleanly: the sockets are closed
   (the port is free again), the failure is logged, the shutdown hooks run
   (so the hooks before it can give back what they took), and its status is
   returned; nothing was started (a later call tries again). */
int wt_app_start(wt_app *app);
/* wt_app_start, then the loop until a stop (wt_app_stop, wt_app_stop_now,
   signals with stop_on_signals, or wt_loop_stop on its loop, which counts
   as stop_now) has run to its end: the shutdown hooks ran and a summary
   and the app's statistics (wt_app_stats) were logged at INFO. Returns WT_OK then, or an error. Once stopped an app
   does not run again: destroy it.
   With your own loop, the same stop: call wt_app_stop, go on calling
   wt_loop_process (on wt_loop_pollfds / wt_loop_timeout as usual) until
   wt_app_stopped(app) says 1, then destroy. */
int wt_app_run(wt_app *app);
/* The graceful stop (DRAIN, GOAWAY, a grace period, then close). Safe from
   a handler, another thread or a signal handler: it sets a flag and wakes
   the loop, which does the rest, in this order:
   1. new connections are refused (CONNECTION_REFUSED) and new sessions on
      the old ones get 429; every open session gets
      DRAIN_WEBTRANSPORT_SESSION, so the peers see WT_EV_SESSION_DRAINING /
      a browser's `draining` (the app's own handlers get no event for it);
      connections without a WebTransport session (or once theirs are done)
      get HTTP/3 GOAWAY (a notice at once, the final one with the last
      request taken 2 PTO later). Connections with sessions get none: after
      a GOAWAY Chromium can no longer open bidirectional streams, and its
      network service crashes when the page asks for one;
   2. up to shutdown_grace_ms (0: 2000) for the sessions to end, less if
      the last one closes sooner;
   3. each session still open is closed with shutdown_code and
      shutdown_reason (its handler gets CLOSED), and once the peers have
      answered that with their FIN (3 PTO, 1 s at most) each connection is
      closed;
   4. the loop goes on until every connection's closing period is over,
      then the shutdown hooks run, the summary is logged at INFO, and
      wt_app_run returns (wt_app_stopped turns 1). */
void wt_app_stop(wt_app *app);
/* The same without the grace period (step 2); also signal-safe. During a
   graceful stop, it cuts the grace short. */
void wt_app_stop_now(wt_app *app);
/* 1 once a stop has run to its end (the shutdown hooks ran), else 0. */
int wt_app_stopped(const wt_app *app);
/* Closes every connection (sessions get CLOSED events), runs the shutdown
   hooks if startup ran and no stop ran them, frees the app (and its loop
   if it owns it). */
void wt_app_destroy(wt_app *app);
int wt_app_port(const wt_app *app);          /* the bound port */
/* SHA-256 of the app's certificate (DER, the first of the chain): what a
   browser's serverCertificateHashes and a client's cert_sha256 take. For
   dev_cert and for files alike. */
int wt_app_cert_sha256(const wt_app *app, uint8_t out[32]);
/* Command-line options into cfg, for examples and small servers: --host H,
   --port N, --cert FILE --key FILE (both or neither), --workers N, as "--opt value" or
   "--opt=value", from argv[1] on. Strings point into argv. Parsing stops at
   the first other argument (or after "--"): returns its index, for the
   program's own arguments. --help (or -h) prints the options to stderr and
   returns WT_ARGS_HELP (0: exit with success); a bad value or a missing one
   returns WT_ERR_INVALID after logging why and a usage line (cfg->log). */
#define WT_ARGS_HELP 0
int wt_app_config_args(wt_app_config *cfg, int argc, char **argv);
/* Sans-I/O: one UDP datagram that arrived from `from` (sockaddr bytes).
   WT_ERR_STATE without io.send, from a handler, or before wt_app_start. */
int wt_app_input(wt_app *app, const void *from, size_t from_len, const uint8_t *pkt, size_t len);
wt_loop *wt_app_loop(wt_app *app);           /* with workers: worker 0's */
size_t wt_app_session_count(const wt_app *app); /* with workers: the sum (see WORKERS) */
/* Heap bytes the app holds through its allocator under wt_limits.memory_budget
   (0 without a budget); *peak (if not NULL): the most it ever held. */
size_t wt_app_memory_used(const wt_app *app, size_t *peak);
/* WORKERS: the app's number of workers (1 without). */
int wt_app_workers(const wt_app *app);
/* The worker the calling thread runs (0..N-1), or -1 from a thread that
   runs none (0 without workers): e.g. inside a wt_app_post_all function. */
int wt_app_current_worker(const wt_app *app);
/* The worker that owns the session (0 without workers, and on a client). */
int wt_session_worker(const wt_session *s);
typedef void (*wt_session_fn)(wt_session *s, void *user);
/* Runs fn(s, user) on the thread of the worker that owns the session with
   that ID (wt_session_id), in its next loop pass, as wt_loop_post does;
   s is NULL when the session has closed by then (it is never one that is
   closed). Thread-safe, from any thread or handler; WT_ERR_INVALID /
   WT_ERR_NOMEM (logged). Without workers it runs on the app's loop. */
int wt_app_post(wt_app *app, uint64_t session_id, wt_session_fn fn, void *user);
/* Runs fn(loop, user) once on every worker's loop (wt_loop_post to each):
   a broadcast reaches every worker's sessions this way. Thread-safe.
   WT_OK, or the error of a post that failed (logged; the others are
   still posted). */
int wt_app_post_all(wt_app *app, wt_timer_fn fn, void *user);

/* ================================================================ client */
/* A name lookup handed to wt_client_config.resolve (see CONNECTING). */
typedef struct wt_resolve wt_resolve;
typedef void (*wt_resolve_fn)(wt_resolve *req, const char *host, void *user);
/* The WebTransport dialect of a session (see DIALECTS). */
typedef enum wt_dialect {
    WT_DIALECT_AUTO = 0,    /* client config: latest if the server offers it */
    WT_DIALECT_DRAFT02 = 1, /* draft-02: :protocol webtransport (browsers today) */
    WT_DIALECT_LATEST = 2   /* the current draft: webtransport-h3, flow control */
} wt_dialect;

typedef struct wt_client_config {
    const char *ca_file;            /* verify the server against these CAs (PEM) */
    const uint8_t *cert_sha256;     /* or accept exactly this certificate (32 bytes),
                                       like serverCertificateHashes */
    int insecure;                   /* 1: verify nothing (tests only) */
    const char *origin;             /* NULL: no origin header */
    const char *const *headers;     /* NULL or {name, value, ..., NULL}: extra
                                       request headers (lower-case names) */
    wt_limits limits;
    wt_allocator alloc;
    wt_log log;
    wt_loop *loop;                  /* NULL: the client creates and owns one */
    const char *tls_groups;         /* NULL: WT_TLS_GROUPS_DEFAULT. The key-exchange
                                       groups offered, in this order (see TLS) */
    int tls_key_shares;             /* 0: 2. The first ClientHello carries key
                                       shares for this many groups of tls_groups */
    const char *tls_ciphers;        /* NULL: WT_TLS_CIPHERS_DEFAULT. The TLS 1.3
                                       cipher suites offered, in this order (see TLS) */
    wt_io io;                       /* io.send set: no socket (see sans-I/O) */
    const char *qlog_dir;           /* NULL: $QLOGDIR if set, else no qlog; "": none
                                       (see DEBUGGING) */
    const char *tls_keylog;         /* NULL: $SSLKEYLOGFILE if set, else none; "": none
                                       (see DEBUGGING) */
    uint32_t connect_timeout_ms;    /* 0: limits.handshake_timeout_ms. From
                                       wt_client_connect to a finished QUIC
                                       handshake: the name lookup and every
                                       attempt (see CONNECTING) */
    wt_resolve_fn resolve;          /* NULL: getaddrinfo on a thread per lookup.
                                       Else names go to this hook (see CONNECTING) */
    void *resolve_user;
    wt_dialect dialect;             /* WT_DIALECT_AUTO (0): from the server's SETTINGS;
                                       or force one (a server that does not offer it:
                                       the session ends with WT_ERR_PROTOCOL) */
    int test_ignore_session_limits; /* TESTING ONLY: 1 sends past the server's session
                                       flow-control limits (and no BLOCKED capsules),
                                       to play a misbehaving peer */
    const char *const *protocols;   /* NULL or a NULL-terminated list, most preferred
                                       first: application protocols offered in
                                       wt-available-protocols (see SUBPROTOCOLS);
                                       each non-empty printable ASCII */
} wt_client_config;

wt_client *wt_client_create(const wt_client_config *cfg);
/* Opens a session to https://host[:port][/path]; handler gets its events.
   Reuses a connection to the same host:port when the server allows more
   than one session per connection. *out (may be NULL) gets the session,
   valid at once; it is answered (or ends with WT_EV_SESSION_CLOSED) after
   the name lookup and the connection attempts, which never block the
   loop (see CONNECTING). */
int wt_client_connect(wt_client *client, const char *url, wt_handler fn, void *user, wt_session **out);
/* The answer to a resolve hook's lookup, exactly once per request, from any
   thread, even after the client is gone (then it only frees the request):
   n numeric IPv4/IPv6 addresses ("192.0.2.1", "2001:db8::1"; others are
   skipped and logged), n = 0 when the name does not resolve (the sessions
   end with WT_ERR_IO). The port is the URL's. */
int wt_resolve_done(wt_resolve *req, const char *const *addrs, size_t n);
void wt_client_destroy(wt_client *client);
wt_loop *wt_client_loop(wt_client *client);
/* The client's twin of wt_app_config_args: --ca FILE, --pin HEX (the
   server certificate's SHA-256, 64 hex digits, decoded into the bytes of
   that argv string itself, which cert_sha256 then points to), --insecure. */
int wt_client_config_args(wt_client_config *cfg, int argc, char **argv);
/* Sans-I/O: one UDP datagram from the server at `from` (see wt_app_input). */
int wt_client_input(wt_client *client, const void *from, size_t from_len, const uint8_t *pkt, size_t len);

/* ================================================================ session */
/* Unique within its app or client for the endpoint's whole life, from 1,
   never reused (across connections too). */
uint64_t wt_session_id(const wt_session *s);
/* The QUIC stream ID of the session's CONNECT request (what the protocol
   calls the session ID, shared across connections): -1 on a client until
   the request goes out. Log lines ("s=4") name this one. */
int64_t wt_session_stream_id(const wt_session *s);
const char *wt_session_path(const wt_session *s);       /* with the query string */
/* A route parameter ({name} in the pattern), percent-decoded, or NULL.
   Server, from WT_EV_SESSION_REQUEST on (hooks run before routing). */
const char *wt_session_param(const wt_session *s, const char *name);
/* The query string of the path, without the '?' ("" if none). */
const char *wt_session_query(const wt_session *s);
/* The value of the first query parameter called name (names and values
   percent-decoded, '+' read as a space; a '%' not followed by two hex
   digits is kept as it is, as URLSearchParams does) into buf with a NUL:
   returns its length (a %00 in it stays a NUL byte: the length counts),
   WT_ERR_NOT_FOUND, or WT_ERR_TOO_BIG when buf is too small (size must be
   at least the length + 1). "a&b=" gives "" for a and for b. */
int wt_session_query_get(const wt_session *s, const char *name, char *buf, size_t size);
const char *wt_session_authority(const wt_session *s);
const char *wt_session_origin(const wt_session *s);     /* "" if none */
/* The request's fields, in order: on a server as received, on a client as
   sent. Pseudo-headers are included (":method", ":protocol", ":scheme",
   ":authority", ":path" come first), so wt_session_header(s, ":scheme")
   works. By lower-case name (the first match), or NULL. */
const char *wt_session_header(const wt_session *s, const char *name);
size_t wt_session_header_count(const wt_session *s);
int wt_session_header_at(const wt_session *s, size_t i, const char **name, const char **value);
/* The response's fields, ":status" first: on a client as received (also
   for a refused session, e.g. a redirect's "location"), on a server what
   was added so far or, once answered, exactly what was sent. */
const char *wt_session_response_header(const wt_session *s, const char *name);
size_t wt_session_response_header_count(const wt_session *s);
int wt_session_response_header_at(const wt_session *s, size_t i, const char **name, const char **value);
/* The peer's address as "ip:port" ("[ip6]:port"); returns the length. */
int wt_session_remote_addr(const wt_session *s, char *buf, size_t size);
int wt_session_is_server(const wt_session *s);
/* WT_DIALECT_DRAFT02 or WT_DIALECT_LATEST (a client's session: 0 until its
   CONNECT goes out); wt_session_flow_control says whether session flow
   control applies to it (see FLOW CONTROL). */
int wt_session_dialect(const wt_session *s);
int wt_session_flow_control(const wt_session *s);
void wt_session_set_user(wt_session *s, void *user);
void *wt_session_user(const wt_session *s);
/* Server, before the answer goes: in an accept hook, while deferred, or
   during WT_EV_SESSION_REQUEST (WT_ERR_STATE otherwise): accept with a 2xx
   status (0: 200), or refuse with 300-599 (a 3xx is a redirect, which
   browsers treat as a failed session; add "location"), and add response
   headers (lower-case names; counted against limits.max_header_bytes). The
   last of accept/reject wins; a reject in a hook ends the request there. */
int wt_session_accept(wt_session *s, int status);
int wt_session_reject(wt_session *s, int status);
int wt_session_add_response_header(wt_session *s, const char *name, const char *value);
/* Closes with a 32-bit application code and a UTF-8 reason (<= 1024 bytes,
   NULL for none): the CLOSE_WEBTRANSPORT_SESSION capsule, then FIN. Streams
   still open are reset (not those already finished both ways); CLOSED
   events follow (after the calling handler returns). If the peer stopped
   our side of the CONNECT stream (STOP_SENDING), no capsule can go: the
   peer sees that side reset, without the code and reason. */
int wt_session_close(wt_session *s, uint32_t code, const char *reason);
/* Closes the whole QUIC connection under the session at once, with an
   HTTP/3 application error code (0x100 is H3_NO_ERROR) and a reason (<=
   1024 bytes): CONNECTION_CLOSE, no capsule. Every session of that
   connection ends with WT_ERR_CLOSED, and a browser's `closed` promise
   rejects, where wt_session_close resolves it with the code and reason. */
int wt_session_close_connection(wt_session *s, uint64_t h3_code, const char *reason);
/* Tells the peer to wind down (DRAIN_WEBTRANSPORT_SESSION). */
int wt_session_drain(wt_session *s);
/* Opens a stream: bidi = 1 bidirectional, 0 unidirectional. WT_ERR_LIMIT
   when the peer's stream limit is reached (QUIC's, or the session's
   WT_MAX_STREAMS under flow control). */
int wt_session_open_stream(wt_session *s, int bidi, wt_stream **out);
/* (WT_EV_SESSION_STREAMS follows a WT_ERR_LIMIT when the peer allows more.) */
/* Queues one datagram: WT_ERR_TOO_BIG above wt_session_max_datagram_size,
   WT_ERR_WOULDBLOCK when the queue (limits.datagram_queue datagrams or
   limits.datagram_queue_bytes bytes, shared by the connection's sessions)
   is full, WT_ERR_STATE when the peer takes no
   datagrams. Datagrams are unreliable: on WOULDBLOCK the caller may drop
   it or retry after WT_EV_DATAGRAM_WRITABLE. Queued datagrams and stream
   data take turns. */
int wt_session_send_datagram(wt_session *s, const void *data, size_t len);
/* ================================================================ statistics
 * One struct for a session, a connection, an app and a client. Counters
 * only grow; the path figures are ngtcp2's of the moment. Reading is cheap
 * (no allocation; an app or client walks its open connections) and allowed
 * at any time, from a handler too. What each field counts:
 * - bytes_sent / bytes_received: for a session, the payload bytes of its
 *   streams (sent: handed to QUIC the first time; received: delivered by
 *   QUIC); for a connection, app or client, the UDP payload bytes of every
 *   packet of its connections (headers, acknowledgements, resends: the wire).
 * - packets_sent / packets_received: UDP datagrams of the connection(s)
 *   (one may hold coalesced QUIC packets); a session reads its connection's.
 *   packets_lost: QUIC packets declared lost (ngtcp2 >= 1.16, else 0).
 * - streams_opened / streams_closed: WebTransport streams, either side's,
 *   from when they are attached to a session to their STREAM_CLOSED.
 * - datagrams_sent: handed to QUIC in a packet; _received; _lost: sent, then
 *   declared lost by QUIC (never resent: datagrams are unreliable);
 *   _dropped: never sent (the queue was full: WOULDBLOCK, or the path or the
 *   peer's limit shrank). A connection counts all its sessions'.
 * - sessions_opened / sessions_closed: sessions that opened, and those of
 *   them that closed since (a session reads 1 and 0 or 1).
 * - connections: 1 for a session or connection; for an app or client, its
 *   connections now (handshakes and closing ones included).
 * - smoothed_rtt_us, rtt_var_us, min_rtt_us (0 until a sample), cwnd,
 *   bytes_in_flight: the connection's; for an app or client the mean RTTs,
 *   the least min_rtt and the summed cwnd and bytes_in_flight of the open
 *   connections (0 when there are none).
 * An app's or client's counters include its connections already closed. */
typedef struct wt_stats {
    uint64_t bytes_sent, bytes_received;
    uint64_t packets_sent, packets_received, packets_lost;
    uint64_t streams_opened, streams_closed;
    uint64_t datagrams_sent, datagrams_received, datagrams_lost, datagrams_dropped;
    uint64_t sessions_opened, sessions_closed;
    uint64_t connections;
    uint64_t smoothed_rtt_us, rtt_var_us, min_rtt_us; /* 0 until a sample */
    uint64_t cwnd, bytes_in_flight;                   /* bytes */
} wt_stats;
/* The session's own counters and its connection's path figures. Valid
   until the session's CLOSED handler returns (then it reads its last). */
int wt_session_stats_get(const wt_session *s, wt_stats *out);
/* The totals of the session's connection (all its sessions so far). */
int wt_session_connection_stats(const wt_session *s, wt_stats *out);
int wt_app_stats(const wt_app *app, wt_stats *out);
int wt_client_stats(const wt_client *c, wt_stats *out);
/* SUBPROTOCOLS (draft-ietf-webtrans-http3 section 3.3, the `protocols`
   option of the browser's WebTransport constructor). A client offers a list
   (wt_client_config.protocols, sent as the structured-field list
   wt-available-protocols); a server reads it with wt_session_protocol_count
   / wt_session_protocol_at and, during the request (WT_EV_SESSION_REQUEST,
   or an accept hook), may pick one of them with wt_session_set_protocol:
   an accepting response then carries it as wt-protocol (NULL or "" picks
   none again; a name not offered is WT_ERR_INVALID). Refusing a client
   whose offer does not suit is the app's choice (wt_session_reject).
   wt_session_protocol is the choice on both sides, "" for none. A field
   that is not a valid structured field of strings is ignored as a whole,
   with a log line, as the draft says: no offer, or no choice. A client
   whose server chose a protocol it did not offer ends the session
   (WT_EV_SESSION_CLOSED with WT_ERR_PROTOCOL, logged; the CONNECT stream is
   reset with WT_ALPN_ERROR); a choice when it offered none is ignored
   (logged). On a client the offered list reads back as sent. Strings are
   valid while the session is. */
size_t wt_session_protocol_count(const wt_session *s);
const char *wt_session_protocol_at(const wt_session *s, size_t i); /* NULL past the end */
int wt_session_set_protocol(wt_session *s, const char *protocol);
const char *wt_session_protocol(const wt_session *s);
/* KEYING MATERIAL (draft-ietf-webtrans-http3 section 4.8): out_len bytes
   (1-8160) from the connection's TLS exporter (RFC 8446 7.5), with the label
   "EXPORTER-WebTransport" and as context the session ID (the CONNECT stream
   ID, 64 bits), then label (1-255 bytes) and context (0-255 bytes, may be
   NULL when 0), each after its one-byte length. Both ends of one session
   derive the same bytes; other sessions, labels or contexts give others.
   Once the session is open (a server: from WT_EV_SESSION_REQUEST on) until
   it closes; WT_ERR_STATE otherwise, and also with a wolfSSL built without
   HAVE_KEYING_MATERIAL (make deps builds it with --enable-keying-material;
   such a wolfSSL keeps each connection's handshake secrets, ~1 KiB, for
   the exporter's sake). */
int wt_session_export_keying_material(const wt_session *s, const char *label, const uint8_t *context,
                                      size_t context_len, uint8_t *out, size_t out_len);
/* The largest payload that fits one packet on the path as probed now
   (it may grow as path MTU discovery succeeds); 0 if no datagrams. */
size_t wt_session_max_datagram_size(const wt_session *s);

/* ================================================================ stream */
int64_t wt_stream_id(const wt_stream *st);
wt_session *wt_stream_session(const wt_stream *st);
int wt_stream_is_bidi(const wt_stream *st);
int wt_stream_is_local(const wt_stream *st);   /* opened by this side */
void wt_stream_set_user(wt_stream *st, void *user);
void *wt_stream_user(const wt_stream *st);
/* Queues bytes: returns how many were taken (0..len, bounded by
   limits.stream_send_buffer and, under session flow control, by the
   session's remaining credit) or a negative error. A short count means the
   buffer is full (or the credit used up): WT_EV_STREAM_WRITABLE follows
   when it drains (or WT_MAX_DATA brings credit). */
int wt_stream_write(wt_stream *st, const void *data, size_t len);
/* WRITING WHOLE MESSAGES. The three writes share one queue per stream, so
 * bytes go out in the order of the calls, whichever was used.
 *
 * wt_stream_write_all copies all len bytes (then FIN if fin) or nothing,
 * and the caller never handles WRITABLE for it: the library sends the copy
 * as flow control allows. WT_ERR_LIMIT (nothing queued) when the stream
 * would hold more than stream_send_buffer + stream_queue copied bytes, or
 * the copy would pass the connection's or the app's budget
 * (conn_send_buffer, total_send_buffer: copies count against them until
 * acknowledged, as written bytes do). A plain wt_stream_write after it
 * appends behind it and takes only what fits stream_send_buffer counting
 * the write_all bytes still held: 0 (and a WRITABLE later) while more
 * than that is queued, so it never jumps the queue.
 *
 * wt_stream_write_ref queues the caller's bytes without copying them (and
 * FIN if fin). The caller keeps data unchanged and alive until done runs:
 * QUIC resends from it until the peer acknowledges it. done runs exactly
 * once for every call that returned WT_OK, always from the loop (never
 * inside the call, never re-entering a handler), in the order of the calls,
 * with the call's data, len and user, and status:
 *   WT_OK          the peer acknowledged every byte of it;
 *   WT_ERR_CLOSED  the sending side ended first: wt_stream_reset, the
 *                  peer's STOP_SENDING, the session or the connection
 *                  closing, wt_app_destroy / wt_client_destroy (which
 *                  deliver it before they return).
 * st is the stream, and done comes before its WT_EV_STREAM_CLOSED, with
 * one exception: a stream whose session closes when all of it (FIN too)
 * was sent and only acknowledgements are missing is not reset; it stays
 * with QUIC until they come, and done then runs after the CLOSED events,
 * with st NULL (and WT_OK, or WT_ERR_CLOSED if the connection ends first).
 * After done the library never reads data again. Bytes by reference do not
 * count against stream_send_buffer or the budgets (they are the caller's
 * memory); each call costs one small allocation.
 *
 * Both return WT_OK, or an error with nothing queued: WT_ERR_CLOSED after
 * FIN or a reset, WT_ERR_STATE on the peer's unidirectional stream,
 * WT_ERR_INVALID (no data, no done), WT_ERR_NOMEM, and WT_ERR_LIMIT as
 * above. */
int wt_stream_write_all(wt_stream *st, const void *data, size_t len, int fin);
typedef void (*wt_write_done_fn)(wt_stream *st, const void *data, size_t len, int status, void *user);
int wt_stream_write_ref(wt_stream *st, const void *data, size_t len, int fin, wt_write_done_fn done, void *user);
/* Sends FIN after everything queued. */
int wt_stream_finish(wt_stream *st);
/* Abort sending (RESET_STREAM) / ask the peer to stop (STOP_SENDING). */
int wt_stream_reset(wt_stream *st, uint32_t code);
int wt_stream_stop_sending(wt_stream *st, uint32_t code);
/* While paused no DATA is delivered and no flow-control credit is given
   back, so a slow reader slows the sender instead of growing memory. A
   paused stream stays open (no CLOSED) while it holds unread data, even
   if the peer has finished. */
int wt_stream_pause(wt_stream *st, int paused);
/* Collect the whole stream (up to limit bytes) and deliver it as one
   WT_EV_STREAM_DATA with fin = 1. Past limit the stream is stopped with
   STOP_SENDING and the event carries the first limit bytes, fin = 0. */
int wt_stream_read_all(wt_stream *st, size_t limit);
size_t wt_stream_send_buffered(const wt_stream *st); /* bytes not yet acknowledged */

/* ================================================================ error codes
 * WebTransport application codes are 32-bit; on the wire they live in a
 * reserved HTTP/3 range. These convert; wt_h3_to_code returns -1 for an
 * HTTP/3 code outside the range. */
uint64_t wt_code_to_h3(uint32_t code);
int64_t wt_h3_to_code(uint64_t h3);

/* ================================================================ certificates */
/* A self-signed ECDSA P-256 certificate that browsers accept through
   `serverCertificateHashes` (total validity <= 14 days). */
typedef struct wt_cert_config {
    const char *host;          /* NULL: "localhost"; subject CN and first SAN */
    const char *const *alt_names; /* NULL-terminated extra SANs (DNS names or IP
                                     literals); "localhost" also gets 127.0.0.1, ::1 */
    const char *cert_file;     /* NULL: "<host>.crt" (PEM) */
    const char *key_file;      /* NULL: "<host>.key" (PEM, EC private key) */
    int valid_days;            /* 0: 10. notBefore is backdated one day, so
                                  browsers' 14-day rule allows at most 13 */
    wt_log log;
} wt_cert_config;

/* Writes cert_file and key_file (key file mode 0600). */
int wt_cert_generate(const wt_cert_config *cfg);

/* SHA-256 over the DER of the first certificate in a PEM file: the value
   for the browser's serverCertificateHashes and for wt_client's pin. */
int wt_cert_sha256(const char *cert_file, uint8_t out[32]);

/* Lower-case hex of n bytes into out (2n+1 bytes with the NUL). */
void wt_hex(const uint8_t *in, size_t n, char *out);

/* ================================================================ Redis (optional)
 * Shared state across instances through Redis pub/sub: compiled in with
 * #define WT_REDIS before including wt.h (in the implementation file and
 * wherever these are called) and linking -lhiredis (Debian:
 * libhiredis-dev); without the define nothing below exists and hiredis is
 * not needed. The adapter drives hiredis's async API from the wt_loop
 * (wt_loop_watch for its sockets, wt_loop_timer for timeouts and retries):
 * nothing blocks, except wt_redis_create resolving a host name once (give
 * an address to avoid even that). It keeps two connections, as Redis
 * requires: one subscribed, one publishing.
 *
 * Redis going away is normal: each connection retries after backoff_min_ms,
 * doubling to backoff_max_ms (plus up to a quarter of random spread), and
 * re-subscribes every channel when back. wt_redis_publish never queues
 * while disconnected: the message is dropped, counted in stats.dropped
 * (logged once per outage; the count is logged when it comes back) and
 * the call returns WT_ERR_CLOSED. At most max_pending PUBLISHes wait for
 * Redis's answer; beyond that they are dropped too (WT_ERR_WOULDBLOCK).
 * A Redis host that disappears without closing (power, a partition) is
 * noticed within about keepalive_ms. Delivery is Redis pub/sub's: at most once; a subscriber that is away
 * misses what is published meanwhile. on_state(r, 1) says the adapter is
 * ready (both connections up, every subscription confirmed by Redis),
 * on_state(r, 0) that it no longer is. Loop thread only: from another
 * thread, wt_loop_post to the loop. Destroy it before its loop; it may be
 * destroyed from its own callbacks. */
#ifdef WT_REDIS
typedef struct wt_redis wt_redis;
/* A message on a subscribed channel; data is valid during the call. */
typedef void (*wt_redis_message_fn)(wt_redis *r, const char *channel, const uint8_t *data, size_t len,
                                    void *user);
typedef void (*wt_redis_state_fn)(wt_redis *r, int ready, void *user);

typedef struct wt_redis_config {
    const char *host;             /* NULL: 127.0.0.1; a name is resolved once, here */
    uint16_t port;                /* 0: 6379 */
    const char *password;         /* AUTH on each connection (Redis requirepass); NULL: none */
    uint32_t connect_timeout_ms;  /* one attempt; 0: 2000 */
    uint32_t backoff_min_ms;      /* first retry; 0: 100 */
    uint32_t backoff_max_ms;      /* retries wait at most; 0: 5000 */
    uint32_t keepalive_ms;        /* a silent host is taken for gone after about
                                     this (TCP keepalive, TCP_USER_TIMEOUT); 0: 15000 */
    size_t max_pending;           /* PUBLISHes awaiting Redis's answer; 0: 1024 */
    size_t max_message;           /* bytes, either way; 0: 1 MiB */
    wt_redis_state_fn on_state;   /* NULL: none */
    void *user;                   /* for on_state */
    wt_log log;                   /* zero: the loop's */
} wt_redis_config;

typedef struct wt_redis_stats {
    uint64_t published;   /* PUBLISHes Redis answered */
    uint64_t dropped;     /* not sent: disconnected or max_pending */
    uint64_t failed;      /* sent, then the connection went before the answer */
    uint64_t too_big;     /* over max_message, sent or received */
    uint64_t received;    /* messages delivered to subscribers */
    uint64_t attempts;    /* connection attempts (both connections) */
    uint64_t connects;    /* of which succeeded */
    uint64_t disconnects; /* established connections lost */
    uint64_t auth_failures; /* AUTH refused (a wrong password: logged as an error) */
    size_t pending;       /* PUBLISHes awaiting an answer now */
    int ready;            /* as wt_redis_ready */
} wt_redis_stats;

/* Starts connecting at once; NULL on a bad host or no memory (logged). */
wt_redis *wt_redis_create(wt_loop *loop, const wt_redis_config *cfg);
/* fn for every message on channel, now and after every reconnect.
   WT_ERR_STATE if already subscribed to it. */
int wt_redis_subscribe(wt_redis *r, const char *channel, wt_redis_message_fn fn, void *user);
/* Binary-safe. WT_OK: handed to the connection (stats.published once Redis
   answers); WT_ERR_CLOSED / WT_ERR_WOULDBLOCK: dropped and counted. */
int wt_redis_publish(wt_redis *r, const char *channel, const void *data, size_t len);
/* 1 while both connections are up and every subscription confirmed. */
int wt_redis_ready(const wt_redis *r);
int wt_redis_get_stats(const wt_redis *r, wt_redis_stats *out);
void wt_redis_destroy(wt_redis *r);
#endif /* WT_REDIS */

#ifdef __cplusplus
}
#endif
#endif /* WT_H */

/*
 * ---------------------------------------------------------------- LICENSE
 * MIT License. Copyright (c) 2026 the wt.h authors.
 * Permission is hereby granted, free of charge, to any person obtaining a copy
 * of this software and associated documentation files (the "Software"), to
 * deal in the Software without restriction, including without limitation the
 * rights to use, copy, modify, merge, publish, distribute, sublicense, and/or
 * sell copies of the Software, and to permit persons to whom the Software is
 * furnished to do so, subject to the following conditions: The above copyright
 * notice and this permission notice shall be included in all copies or
 * substantial portions of the Software. THE SOFTWARE IS PROVIDED "AS IS",
 * WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.
 */
