/* wt_internal.h - includes, macros and helpers shared by the implementation. */
#ifndef WT__INTERNAL_H
#define WT__INTERNAL_H

#include "wt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* wolfSSL's options.h must come before any other wolfSSL header. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/quic.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_wolfssl.h>
#include <nghttp3/nghttp3.h>

#ifndef WOLFSSL_QUIC
#error "wt.h needs a wolfSSL built with --enable-quic (Debian's libwolfssl-dev is not): see make deps"
#endif

#ifndef WT_MALLOC
#define WT_MALLOC(sz) malloc(sz)
#define WT_REALLOC(p, sz) realloc((p), (sz))
#define WT_FREE(p) free(p)
#endif
#ifndef WT_ASSERT
#include <assert.h>
#define WT_ASSERT(x) assert(x)
#endif

#define WT__MIN(a, b) ((a) < (b) ? (a) : (b))
#define WT__MAX(a, b) ((a) > (b) ? (a) : (b))
#define WT__COUNTOF(a) (sizeof(a) / sizeof((a)[0]))
#define WT__UNUSED(x) (void)(x)

#if defined(__GNUC__) || defined(__clang__)
#define WT__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WT__PRINTF(f, a)
#endif

/* ---- allocator (wt_util.c) */
static void *wt__alloc(const wt_allocator *a, size_t n);
static void *wt__calloc(const wt_allocator *a, size_t n);
static void *wt__realloc(const wt_allocator *a, void *p, size_t n);
static void wt__free(const wt_allocator *a, void *p);
static char *wt__strdup(const wt_allocator *a, const char *s);
static char *wt__strndup(const wt_allocator *a, const char *s, size_t n);

/* ---- logging (wt_util.c) */
static void wt__log(const wt_log *lg, wt_log_level level, const char *fmt, ...) WT__PRINTF(3, 4);
/* Logs at ERROR and returns err, for `return wt__fail(lg, WT_ERR_X, "...")`. */
static int wt__fail(const wt_log *lg, int err, const char *fmt, ...) WT__PRINTF(3, 4);
/* The same at another level: for failures that are a normal outcome (a full
   queue, an object the peer closed first), which the app also learns by event. */
static int wt__fail_at(const wt_log *lg, wt_log_level level, int err, const char *fmt, ...) WT__PRINTF(4, 5);
/* The same for a connection's lines, tagged "[cid 1a2b3c4d s=4] " (its short
   connection ID, the one in its qlog file name, and the session ID when sid
   >= 0) so one connection's story can be picked out of a busy log. */
struct wt__conn;
static void wt__clog(const struct wt__conn *c, int64_t sid, wt_log_level level, const char *fmt, ...) WT__PRINTF(4, 5);
static int wt__cfail(const struct wt__conn *c, int64_t sid, int err, const char *fmt, ...) WT__PRINTF(4, 5);
static int wt__cfail_at(const struct wt__conn *c, int64_t sid, wt_log_level level, int err, const char *fmt, ...)
    WT__PRINTF(5, 6);

/* ---- QUIC variable-length integers (RFC 9000 section 16) */
#define WT__VARINT_MAX 0x3fffffffffffffffULL
/* Bytes needed to encode v (1, 2, 4 or 8); v must be <= WT__VARINT_MAX. */
static size_t wt__varint_len(uint64_t v);
/* Writes v at p, returns the bytes written. */
static size_t wt__varint_put(uint8_t *p, uint64_t v);
/* Reads a varint from [p, p+n): the bytes used, 0 when n is too short. */
static size_t wt__varint_get(const uint8_t *p, size_t n, uint64_t *v);

/* ---- growable byte buffer with a hard cap */
typedef struct wt__buf {
    uint8_t *data;
    size_t len, cap;
} wt__buf;
static int wt__buf_reserve(const wt_allocator *a, wt__buf *b, size_t need);
static int wt__buf_append(const wt_allocator *a, wt__buf *b, const void *p, size_t n);
static void wt__buf_free(const wt_allocator *a, wt__buf *b);


/* ---- header lists: name, value, name, value ... as received or sent.
   Each field costs its lengths + 32 (RFC 9114 4.2.2) against max. */
typedef struct wt__hdrs {
    char **kv;
    size_t n, bytes;
} wt__hdrs;
static int wt__hdrs_add(const wt_allocator *a, wt__hdrs *h, const char *n, size_t nl, const char *v, size_t vl, size_t max);
static const char *wt__hdrs_get(const wt__hdrs *h, const char *name);
static void wt__hdrs_free(const wt_allocator *a, wt__hdrs *h);

/* ---- send buffer: data never moves until the peer acknowledges it, as
   ngtcp2 and nghttp3 keep pointers into it for retransmission. */
typedef struct wt__chunk {
    struct wt__chunk *next;
    size_t cap, len;
    const uint8_t *ext;    /* by reference (wt_stream_write_ref): the caller's
                              len bytes, never appended to; NULL: data[] */
    uint8_t data[];
} wt__chunk;
#define WT__CHUNK_BYTES(c) ((c)->ext ? (c)->ext : (c)->data)

typedef struct wt__sendbuf {
    wt__chunk *head, *tail;
    size_t head_off;       /* acknowledged bytes at the front of head */
    size_t stored;         /* bytes held: sent-but-unacked + unsent */
    size_t unsent;         /* bytes not yet handed to the transport */
    wt__chunk *send_chunk; /* where the first unsent byte is */
    size_t send_off;
    wt__chunk *spare;      /* acknowledged chunks of WT__CHUNK_SIZE or more kept
                              for the next appends (at most WT__CHUNK_SPARES):
                              a bulk sender reuses warm memory instead of a
                              malloc, a free and the heap trims between them.
                              Freed once everything is acknowledged. The first
                              one's len counts them */
} wt__sendbuf;

static int wt__sendbuf_append(const wt_allocator *a, wt__sendbuf *b, const void *p, size_t n);
static int wt__sendbuf_append_all(const wt_allocator *a, wt__sendbuf *b, const void *p, size_t n);
/* Appends n bytes by reference: p must stay until they are acknowledged. */
static int wt__sendbuf_append_ref(const wt_allocator *a, wt__sendbuf *b, const void *p, size_t n);
/* Fills up to max vecs with unsent data; returns the count. */
static size_t wt__sendbuf_peek(const wt__sendbuf *b, ngtcp2_vec *v, size_t max);
/* The same, stopping once the vecs hold at least `bytes` (what one packet
   can take: no walk over every chunk for each packet). */
static size_t wt__sendbuf_peek_upto(const wt__sendbuf *b, ngtcp2_vec *v, size_t max, size_t bytes);
static void wt__sendbuf_mark_sent(wt__sendbuf *b, size_t n);
static void wt__sendbuf_ack(const wt_allocator *a, wt__sendbuf *b, size_t n);
static void wt__sendbuf_free(const wt_allocator *a, wt__sendbuf *b);

/* ---- WebTransport protocol constants (see the wire notes) */
#define WT__H3_SETTINGS_ENABLE_CONNECT 0x08
#define WT__H3_SETTINGS_H3_DATAGRAM 0x33
#define WT__H3_SETTINGS_H3_DATAGRAM_DRAFT04 0xffd277
#define WT__H3_SETTINGS_WT_ENABLE_DRAFT02 0x2b603742
#define WT__H3_SETTINGS_WT_MAX_SESSIONS 0x14e9cd29
#define WT__H3_SETTINGS_WT_ENABLED 0x2c7cf000
#define WT__STREAM_TYPE_BIDI 0x41
#define WT__STREAM_TYPE_UNI 0x54
#define WT__CAPSULE_CLOSE 0x2843
#define WT__CAPSULE_DRAIN 0x78ae
/* Session flow control, draft-ietf-webtrans-http3-16 sections 5.5, 5.6
   and 9 (github.com/ietf-wg-webtrans/draft-ietf-webtrans-http3, tag
   draft-ietf-webtrans-http3-16): SETTINGS codepoints, capsule types and
   the WT_FLOW_CONTROL_ERROR HTTP/3 error code. */
#define WT__H3_SETTINGS_WT_INITIAL_MAX_DATA 0x2b61
#define WT__H3_SETTINGS_WT_INITIAL_MAX_STREAMS_UNI 0x2b64
#define WT__H3_SETTINGS_WT_INITIAL_MAX_STREAMS_BIDI 0x2b65
#define WT__CAPSULE_MAX_DATA 0x190b4d3dULL
#define WT__CAPSULE_MAX_STREAMS_BIDI 0x190b4d3fULL
#define WT__CAPSULE_MAX_STREAMS_UNI 0x190b4d40ULL
#define WT__CAPSULE_DATA_BLOCKED 0x190b4d41ULL
#define WT__CAPSULE_STREAMS_BLOCKED_BIDI 0x190b4d43ULL
#define WT__CAPSULE_STREAMS_BLOCKED_UNI 0x190b4d44ULL
/* WebTransport over HTTP/2's per-stream capsules (draft-ietf-webtrans-http2
   sections 6.6, 6.9): prohibited over HTTP/3, a session error (draft-16 5.4) */
#define WT__CAPSULE_MAX_STREAM_DATA 0x190b4d3eULL
#define WT__CAPSULE_STREAM_DATA_BLOCKED 0x190b4d42ULL
#define WT__ERR_FLOW_CONTROL 0x045d4487ULL
#define WT__MAX_STREAMS_LIMIT (1ULL << 60) /* larger stream counts are an error */
#define WT__REASON_MAX 1024
#define WT__CAPSULE_MAX (WT__REASON_MAX + 16) /* larger known capsules are an error */
#define WT__ERR_BUFFERED_STREAM_REJECTED 0x3994bd84ULL
#define WT__ERR_SESSION_GONE 0x170d7b68ULL
#define WT__H3_NO_ERROR 0x100
#define WT__H3_GENERAL_PROTOCOL_ERROR 0x101
#define WT__H3_INTERNAL_ERROR 0x102
#define WT__H3_STREAM_CREATION_ERROR 0x103
#define WT__H3_ID_ERROR 0x108
#define WT__H3_REQUEST_REJECTED 0x10b
#define WT__H3_REQUEST_CANCELLED 0x10c
#define WT__H3_MESSAGE_ERROR 0x10e
#define WT__H3_CONNECT_ERROR 0x10f
#define WT__H3_DATAGRAM_ERROR 0x33
#define WT__H3_ALPN_ERROR 0x0817b3ddULL /* WT_ALPN_ERROR: the server chose a protocol not offered */

/* ---- capsules (RFC 9297): type varint, length varint, value */
typedef struct wt__capsule {
    uint64_t type;
    const uint8_t *value;
    size_t len;
} wt__capsule;
/* Parses one capsule from [p, p+n): bytes used, 0 when more input is
   needed, WT_ERR_TOO_BIG when its length is above max. */
static int wt__capsule_parse(const uint8_t *p, size_t n, wt__capsule *c, size_t max);
/* Encodes a CLOSE_WEBTRANSPORT_SESSION capsule; returns bytes (<= 8+4+1024+8). */
static size_t wt__capsule_close(uint8_t *out, uint32_t code, const char *reason, size_t reason_len);

/* ---- SETTINGS frame rewriting and reading */
typedef struct wt__wt_settings {
    unsigned seen : 1;        /* a SETTINGS frame arrived */
    unsigned wt_draft02 : 1;  /* 0x2b603742 = 1 */
    unsigned wt_enabled : 1;  /* 0x2c7cf000 = 1 */
    unsigned datagram : 1;    /* 0x33 or 0xffd277 = 1 */
    unsigned connect : 1;     /* 0x08 = 1 */
    uint64_t max_sessions;    /* 0x14e9cd29, 0 if absent */
    uint64_t init_max_data;   /* 0x2b61, 0 if absent */
    uint64_t init_max_streams_bidi; /* 0x2b65 */
    uint64_t init_max_streams_uni;  /* 0x2b64 */
} wt__wt_settings;
/* What one endpoint puts in its SETTINGS beyond nghttp3's. */
typedef struct wt__settings_offer {
    unsigned draft02 : 1, latest : 1;
    uint64_t max_sessions;    /* 0: not sent */
    uint64_t max_data, max_streams_bidi, max_streams_uni; /* 0: not sent */
} wt__settings_offer;
/* The peer advertised session flow control (any WT_INITIAL_* non-zero). */
#define WT__SETTINGS_FC(st) ((st)->init_max_data || (st)->init_max_streams_bidi || (st)->init_max_streams_uni)
/* Parses a SETTINGS frame payload. */
static int wt__settings_parse(const uint8_t *p, size_t n, wt__wt_settings *out);
/* Given the start of nghttp3's control stream (stream type + SETTINGS
   frame), writes a copy with the WebTransport settings appended; returns
   the new length, or 0 if in does not yet hold a whole SETTINGS frame, or
   <0 on error. *consumed gets the bytes of `in` the copy replaces. */
static int wt__settings_inject(const uint8_t *in, size_t n, uint8_t *out, size_t outcap, size_t *consumed,
                        const wt__settings_offer *offer);
/* What ep advertises (server: the superset; client: by its dialect). */
struct wt__ep;
static void wt__settings_offer_of(const struct wt__ep *ep, wt__settings_offer *o);

/* ---- the stream demultiplexer: what the first bytes of a peer stream say */
enum { WT__DEMUX_MORE = 0, WT__DEMUX_H3 = 1, WT__DEMUX_WT = 2, WT__DEMUX_CTRL = 3 };
/* Looks at the first n bytes of a peer-initiated stream. Returns MORE, H3
   (give it to nghttp3), CTRL (HTTP/3 control stream: nghttp3, and read
   its SETTINGS) or WT with *session_id and *hdr_len (bytes of header). */
static int wt__demux(const uint8_t *p, size_t n, int bidi, uint64_t *session_id, size_t *hdr_len);

/* ---- error-code mapping */
#define WT__H3_CODE_FIRST 0x52e4a40fa8dbULL
#define WT__H3_CODE_LAST 0x52e5ac983162ULL

/* ---- capsule reader: feeds CONNECT-stream body bytes, skips unknown
   capsules piecewise so a large GREASE capsule costs no memory. */
typedef struct wt__capsule_reader {
    uint8_t *buf;        /* small, or while a capsule longer than that comes in,
                            WT__CAPSULE_BUF bytes from alloc (freed once empty) */
    size_t len, cap;
    uint64_t skip;
    const wt_allocator *alloc; /* NULL: WT_MALLOC */
    uint8_t small[40];   /* flow-control capsules, DRAIN, short CLOSEs */
} wt__capsule_reader;
#define WT__CAPSULE_BUF (WT__CAPSULE_MAX + 16)
static void wt__capsule_reader_free(wt__capsule_reader *r);
typedef int (*wt__capsule_fn)(void *ctx, const wt__capsule *c);
static int wt__capsule_feed(wt__capsule_reader *r, const uint8_t *p, size_t n, wt__capsule_fn fn, void *ctx);

/* ================================================================ runtime objects */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdatomic.h>
#include <poll.h>
/* wt_loop_wakeup, wt_loop_stop and wt_app_stop run in signal handlers:
   their atomics must not hide a lock */
#if ATOMIC_INT_LOCK_FREE != 2 || ATOMIC_POINTER_LOCK_FREE != 2
#error "wt.h needs lock-free atomic int and pointer (C11 <stdatomic.h>)"
#endif

#define WT__MAX_SOCKS 4
#define WT__MAX_UDP_PAYLOAD 1452
#define WT__RECV_BATCH 32
#define WT__SEND_BATCH 44
#define WT__PKT_BUF 2048

/* The I/O path. On Linux: recvmmsg/sendmmsg, UDP GSO on send, UDP GRO on
   receive; elsewhere plain recvmsg/sendmsg one datagram at a time. Each
   can be switched off at compile time (-DWT_NO_MMSG, -DWT_NO_GSO,
   -DWT_NO_GRO): the portable path on Linux, e.g. for qemu-user, which
   does not byte-swap UDP_SEGMENT. GSO and GRO are also switched off at run
   time where the kernel refuses them. */
#if defined(__linux__) && !defined(WT_NO_MMSG)
#define WT__HAVE_MMSG 1
typedef struct mmsghdr wt__mmsg;
#else
#define WT__HAVE_MMSG 0
typedef struct wt__mmsg {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} wt__mmsg;
#endif
#if defined(__linux__) && !defined(WT_NO_GSO)
#define WT__HAVE_GSO 1
#else
#define WT__HAVE_GSO 0
#endif
#if defined(__linux__) && !defined(WT_NO_GRO)
#define WT__HAVE_GRO 1
#else
#define WT__HAVE_GRO 0
#endif
/* A GRO socket reads coalesced trains of up to 64 KiB: WT__GRO_BATCH of
   them per call, into the loop's one receive buffer (grown to 256 KiB the
   first time a GRO socket is read; 64 KiB otherwise) */
#define WT__GRO_BATCH 4
#define WT__GRO_BUF 65536
/* The headers of one batched read: kept on the loop, not the stack (about
   10 KiB; a device task's stack may be 8 KiB) */
typedef struct wt__rxmeta {
    wt__mmsg msgs[WT__RECV_BATCH];
    struct iovec iov[WT__RECV_BATCH];
    struct sockaddr_storage from[WT__RECV_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo)) +
                 3 * CMSG_SPACE(sizeof(int))];
        size_t align; /* a cmsghdr's (its first member); the struct itself cannot be in an array */
    } ctl[WT__RECV_BATCH];
} wt__rxmeta;
#define WT__MAX_GROUPS 16
#define WT__RAND_POOL 256 /* bytes an endpoint draws from its generator at a time */

typedef struct wt__ep wt__ep;
typedef struct wt__conn wt__conn;

typedef struct wt__sock {
    int fd;
    int virt;         /* sans-I/O: no fd, sends go to ep->io.send */
    int want_write;   /* the last send hit EAGAIN */
    int poll_idle;    /* wt_loop_run_once's poll saw nothing to read: the next
                         process skips a read that would only say EAGAIN */
    int gso;          /* UDP_SEGMENT works on it; -1 unknown */
    int gso_fault;    /* tests: the next GSO send fails with this errno */
    int gro;          /* UDP_GRO is on: reads may hold a train of packets */
    int ecn;          /* IP_RECVTOS / IPV6_RECVTCLASS on: ECN bits read */
    int tos;          /* the ECN bits sends carry now (IP_TOS / IPV6_TCLASS) */
    uint32_t gro_max; /* the most packets one read held (tests, statistics) */
    int pktinfo;      /* bound to a wildcard address: each datagram's destination
                         is read (IP_PKTINFO / IPV6_RECVPKTINFO), replies name
                         their source (IP_PKTINFO / IPV6_PKTINFO) */
    struct sockaddr_storage local;
    socklen_t local_len;
    wt__ep *ep;
} wt__sock;

typedef struct wt__timer {
    int64_t id;
    uint64_t due_ms;
    wt_timer_fn fn;
    void *user;
} wt__timer;

/* wt_loop_watch: a descriptor of the application's (or a library's, e.g.
   hiredis) in the loop's poll set. */
typedef struct wt__watch {
    int fd;
    short events;     /* POLLIN and/or POLLOUT */
    short revents;    /* ready bits not yet delivered */
    wt_watch_fn fn;
    void *user;
} wt__watch;

/* An event that could not be delivered when it happened because a handler
   (or timer) was running, or no loop call was: delivered in order once the
   handler returns, or by the next wt_loop_process. */
typedef struct wt__queued_event {
    struct wt__queued_event *next;
    wt_event ev;
    wt_handler fn;
    /* or, with done set, a wt_stream_write_ref completion: done(ev.stream,
       ev.data, ev.len, ev.error, ev.user); ev.data is the caller's, not
       copied; ev.session/stream NULL once the stream is closed for the app */
    wt_write_done_fn done;
    uint8_t data[]; /* a copy of ev.data */
} wt__queued_event;

/* A wt_stream_write_ref waiting for its bytes [start, end) of the stream's
   sending side to be acknowledged. */
typedef struct wt__ref {
    struct wt__ref *next;
    uint64_t start, end;
    const void *data;
    size_t len;
    wt_write_done_fn done;
    void *user;
} wt__ref;

/* A function another thread handed to the loop (wt_loop_post), or, with
   sfn set, one for a session of ep (wt_app_post): it gets the session
   with that ID, or NULL when it is gone. */
typedef struct wt__post {
    struct wt__post *next;
    wt_timer_fn fn;
    void *user;
    wt_session_fn sfn;
    wt__ep *ep;
    uint64_t session_id;
} wt__post;

struct wt_loop {
    wt_allocator alloc;
    wt_log log;
    wt_clock clock;
    wt__ep *eps;
    wt__timer *timers;
    size_t ntimers, timers_cap;
    int64_t next_timer_id;
    atomic_int stop;  /* atomics: set by other threads and signal handlers */
    int processing;   /* inside wt_loop_process: handlers and timers run */
    int driving;      /* the library is running its machinery (process,
                         shutdown, destroy): events may go straight out */
    int in_handler;   /* a handler or timer is on the stack */
    wt__queued_event *evq_head, *evq_tail;
    uint8_t *rxbuf;   /* WT__RECV_BATCH * WT__PKT_BUF, or WT__GRO_BATCH * WT__GRO_BUF */
    size_t rxbuf_len;
    wt__rxmeta *rxmeta; /* the message headers for rxbuf's slots */
    /* wt_loop_wakeup: an eventfd (wake_rd == wake_wr) or a self-pipe */
    int wake_rd, wake_wr;
    atomic_int woken; /* a wakeup since the last drain: timeout 0 (set after the write) */
    /* wt_loop_post: a lock-free stack, newest first; the loop takes it all
       at once and runs it oldest first */
    _Atomic(wt__post *) posts;
    /* wt_loop_watch: polled last in wt_loop_run_once (watch_polled: their
       revents are from that poll), else with a zero timeout in process */
    wt__watch *watches;
    size_t nwatches, watches_cap;
    int watch_polled;
    struct pollfd *pfd;  /* poll sets beyond run_once's stack array */
    size_t pfd_cap;
};

/* wt_limits.memory_budget (wt_quic.c) */
typedef struct wt__budget {
    wt_allocator raw;             /* the app's allocator */
    size_t used, peak, max;       /* bytes, headers included */
    uint64_t failed;              /* allocations refused */
    uint64_t refused;             /* connections and sessions refused */
} wt__budget;

/* Server and client share one engine: an endpoint owns sockets, a TLS
   context and connections. */
struct wt__ep {
    wt_loop *loop;
    int owns_loop;                /* made by wt__ep_init: destroyed with it */
    wt__ep *next;
    int server;
    wt_io io;                     /* io.send set: virtual sockets only */
    wt_allocator alloc;
    wt_log log;
    wt_limits lim;
    WOLFSSL_CTX *ssl_ctx;
    wt__sock socks[WT__MAX_SOCKS];
    int nsocks;
    wt__conn *conns;
    size_t nconns;
    uint8_t *txbuf;               /* wt__conn_write's batch: WT__SEND_BATCH packets */
    wt__budget *budget;           /* memory_budget: behind alloc; NULL: none */
    /* connection-ID table (open addressing); server only */
    struct wt__cid_slot *cids;
    size_t cids_cap, cids_live, cids_dead; /* dead: tombstones */
    uint8_t reset_secret[32];
    uint8_t token_secret[32];     /* Retry tokens */
    uint8_t cid_len;              /* our connection IDs' length (wt__cid_make) */
    uint8_t sid_len;              /* QUIC-LB server ID: wt_app_config.server_id */
    uint8_t sid[WT_SERVER_ID_MAX];
    uint8_t worker;               /* this endpoint's worker index, in its CIDs */
    int nworkers;                 /* app: its workers (1 without); session IDs
                                     and sockets depend on it */
    size_t nhalf_open;            /* server connections still in their handshake */
    size_t tx_stored;             /* stream send bytes held, all connections */
    wt_stats closed;              /* the counters of connections already freed */
    size_t tx_waiters;            /* streams waiting for total_send_buffer room */
    struct wt__log_gate {         /* rate-limited warnings, one per kind */
        uint64_t last_ms;
        unsigned long suppressed;
    } gates[8];                   /* WT__GATES of them */
    WC_RNG rng;
    int rng_ready;
    uint8_t rand_pool[WT__RAND_POOL]; /* drawn from rng ahead, see wt__random */
    size_t rand_left;                 /* unused bytes at the pool's end */
    ngtcp2_mem mem;
    nghttp3_mem h3mem;
    void *owner;                  /* wt_app or wt_client */
    struct wt__router *router;    /* app: its routes and accept hooks */
    /* app: a new session request passed the connection's checks: run the
       app's checks, hooks and routes, then wt__session_answer (or defer) */
    void (*on_request)(wt__ep *ep, wt_session *s);
    /* app: deferred sessions to resume or time out, when wake_ms is due */
    void (*on_service)(wt__ep *ep, uint64_t now_ms);
    uint64_t wake_ms;             /* on_service due (UINT64_MAX: not before a change) */
    size_t ndeferred;             /* sessions with deferred set */
    uint64_t last_session_id;     /* wt_session_id: the last one given */
    /* client verification */
    uint8_t pin[32];
    int has_pin;
    int verify_peer;              /* a CA file is loaded: check the name too */
    int closing_all;
    int dialect;                  /* client: wt_client_config.dialect */
    int test_ignore_limits;       /* client: test_ignore_session_limits */
    int stopping;                 /* server: a stop began: new connections are
                                     refused, new sessions get 429 */
    /* app: a step of its graceful stop, run by every wt_loop_process, and
       when it wants to run next (UINT64_MAX: only when woken) */
    void (*tick)(wt__ep *ep);
    uint64_t tick_due_ms;
    /* TLS key exchange: IANA group ids, most preferred first */
    uint16_t groups[WT__MAX_GROUPS];
    int ngroups;
    int key_shares;               /* client: shares for groups[0..key_shares) */
    /* seeing inside (wt_trace.c) */
    char *qlog_dir;               /* one qlog file per connection here; NULL: none */
    int keylog_fd;                /* TLS secrets appended here; -1: none */
    char *keylog_path;
    int keylog_failed;            /* a write failed: logged once */
    int test_keep_tls_arrays;     /* TESTING ONLY: wolfSSL keeps its handshake
                                     arrays, so its own exporter still works */
    int test_keep_tls;            /* TESTING ONLY: a server keeps each connection's
                                     WOLFSSL after the handshake (wt__tls_release) */
    uint32_t connect_timeout_ms;  /* client: from the config (0: handshake_timeout_ms) */
};

typedef struct wt__cid_slot {
    uint8_t len; /* 0 empty, 255 deleted */
    uint8_t data[NGTCP2_MAX_CIDLEN];
    wt__conn *conn;
} wt__cid_slot;

typedef struct wt__dgram {
    struct wt__dgram *next;
    size_t len;
    uint8_t data[];
} wt__dgram;

enum { WT__CONN_HANDSHAKE, WT__CONN_OPEN, WT__CONN_CLOSING, WT__CONN_DRAINING, WT__CONN_DEAD };

/* A connection in three parts, one per layer, and what they share. */
typedef struct wt__conn_tp { /* QUIC and TLS */
    ngtcp2_conn *qc;
    WOLFSSL *ssl;
    ngtcp2_crypto_conn_ref ref;
    wt__sock *sock;
    struct sockaddr_storage local; /* our address on its path: on a wildcard
                                      socket, the one the peer sends to */
    socklen_t local_len;
    struct sockaddr_storage remote;
    socklen_t remote_len;
    ngtcp2_ccerr ccerr;
    uint8_t *close_pkt;          /* CONNECTION_CLOSE, re-sent while closing */
    size_t close_pkt_len;
    uint64_t closing_rx;         /* packets received while closing */
    uint64_t closing_budget;     /* 3x their bytes, less the closes re-sent */
    int validated;               /* server: the client's address is proven (Retry) */
    int counted_half_open;       /* in ep->nhalf_open */
    int heard;                   /* a packet from the peer was accepted */
    /* a pacing deadline with nothing held back by it is no reason to wake
       (wt__conn_write): while ngtcp2's expiry is still pace_ts, the one
       without it is unpaced_ts. Only for pace_skip, cleared by anything
       that moves ngtcp2's timers outside a write. */
    int pace_skip;
    uint64_t pace_ts, unpaced_ts;
    ngtcp2_cid *cids;            /* our CIDs in ep->cids, to drop them in O(own) */
    size_t ncids, cids_cap;
    char *close_why;             /* the reason phrase of our CONNECTION_CLOSE */
    ngtcp2_cid odcid;            /* the client's first DCID: names the connection */
    uint8_t exporter[48];        /* TLS 1.3 exporter_master_secret: all that
                                    wt_session_export_keying_material needs, so
                                    wolfSSL frees its handshake arrays */
    uint8_t exporter_len;        /* 32 (SHA-256) or 48 (SHA-384); 0: none (yet) */
    uint8_t ssl_release;         /* server: the handshake is done, ssl goes
                                    once the packet that finished it is read */
    uint8_t post_hdr[4];         /* 1-RTT CRYPTO data: the TLS message header */
    uint8_t post_hdr_len;        /* read so far, */
    uint32_t post_left;          /* and what is left of a skipped message's body */
} wt__conn_tp;

#define WT__CTRL_PREFIX_MAX 256
typedef struct wt__conn_h3 { /* HTTP/3 on nghttp3, and what nghttp3 cannot do */
    nghttp3_conn *conn;
    wt__wt_settings peer;        /* the peer's SETTINGS, read by us */
    int64_t ctrl_id;             /* our control stream (nghttp3's) */
    int64_t peer_ctrl_id;        /* the peer's control stream, -1 until seen */
    uint8_t *ctrl_prefix;        /* our rewritten SETTINGS (WT__CTRL_PREFIX_MAX bytes
                                    on the heap until the peer acknowledges them) */
    size_t ctrl_prefix_len, ctrl_prefix_sent, ctrl_prefix_h3len;
    int ctrl_prefix_state;       /* 0 not built, 1 sending, 2 done */
    wt__buf peer_ctrl;           /* the peer's control stream until SETTINGS */
    uint64_t ctrl_acked;         /* control stream bytes acknowledged */
    int64_t max_seen_request;    /* highest peer request stream with headers */
    size_t rx_body;              /* DATA payload nghttp3 delivered in the read under way */
    int malformed;               /* a session has malformed set (nghttp3 < 1.11) */
    int goaway;                  /* the peer sent GOAWAY */
    int goaway_sent;             /* we sent GOAWAY: 1 the notice, 2 the final one */
} wt__conn_h3;

typedef struct wt__conn_wt { /* WebTransport: sessions, streams, datagrams */
    wt_session *sessions;
    size_t nsessions;
    int session_seen;            /* a session was answered: CONNECT deadline met */
    wt_stream *pending;          /* peer WT streams whose session is unknown */
    size_t npending;
    wt__dgram *pending_dgrams, *pending_dgrams_tail;
    size_t npending_dgrams;
    wt_stream *send_head, *send_tail; /* WT streams with data or FIN to send */
    wt__dgram *dq_head, *dq_tail;     /* datagrams to send */
    size_t dq_len;
    size_t dq_bytes;                  /* their lengths together */
    wt_stream *graveyard;        /* closed streams, freed at a safe point */
    wt_stream *all_streams;      /* every wt_stream of the connection, whatever
                                    its state: none outlives the connection */
    size_t tx_stored;            /* stream send bytes held by this connection */
    size_t tx_waiters;           /* its streams waiting for conn_send_buffer room */
    int dgram_waiters;           /* sessions owed a DATAGRAM_WRITABLE */
} wt__conn_wt;

struct wt__conn {
    wt__ep *ep;
    wt__conn *next, *prev;
    int state;
    uint64_t deadline_ms;        /* handshake or closing-period end */
    uint64_t created_ms;
    int dirty;                   /* has something to write */
    int fail_error;              /* WT_ERR_* the sessions learn when it dies */
    char log_id[9];              /* the first 4 bytes of tp.odcid in hex, for log lines */
    struct wt__qlog *qlog;       /* NULL: no qlog (and no cost) */
    wt_stats stats;              /* counters only: its sessions' and the wire's */
    wt__conn_tp tp;
    wt__conn_h3 h3;
    wt__conn_wt wt;
    /* client */
    char *host;
    uint16_t port;
    /* A client's connection to a name starts as a placeholder with no
       transport (tp.qc NULL) that holds the sessions while the name
       resolves and attempts to each address race (happy eyeballs); the
       first attempt to finish its handshake takes the sessions over. */
    struct wt__dial *dial;       /* placeholder: the name, addresses, attempts */
    wt__conn *dial_owner;        /* an attempt: the placeholder it races for */
};

enum { WT__SESS_CONNECTING, WT__SESS_REQUESTED, WT__SESS_OPEN, WT__SESS_CLOSING, WT__SESS_CLOSED };

/* A route parameter: name and percent-decoded value, NUL-terminated. */
typedef struct wt__param {
    const char *name, *value;
} wt__param;

struct wt_session {
    wt__conn *conn;
    wt_session *next;
    int64_t id;                  /* the CONNECT stream's ID (-1: none yet) */
    uint64_t uid;                /* wt_session_id: unique in the endpoint, from 1 */
    int state;
    int server;
    wt_handler fn;
    void *fn_user;
    void *user;
    char *path, *authority, *origin, *protocol, *method;
    int bad_headers;             /* a header did not fit: WT_ERR_LIMIT/NOMEM */
    wt__hdrs req;                /* the request, pseudo-headers included, in order */
    wt__hdrs resp;               /* the response: received (client) or to send/sent (server) */
    int reject_status;           /* server: 300-599 to refuse */
    int accept_status;           /* server: the 2xx to accept with (0: 200) */
    int status;                  /* the response status */
    wt__sendbuf cap_tx;          /* capsules we send on the CONNECT stream */
    int cap_fin;                 /* FIN the CONNECT stream after cap_tx */
    int cap_fin_sent;
    wt__capsule_reader cap_rx;
    int close_received;
    uint32_t close_code;
    /* close reasons: on the heap, only for a session that has one (a
       session stays small: see SMALL DEVICES in wt.h) */
    char *close_reason;          /* the peer's, NUL-terminated; NULL: none or no memory */
    size_t close_reason_len;
    int close_error;
    uint32_t local_code;         /* what we closed with */
    const char *local_reason;    /* local_reason_buf, or "" without memory; NULL: not closed by us */
    char *local_reason_buf;
    size_t local_reason_len;
    wt_stream *streams;
    int connect_closed;          /* nghttp3 is done with the CONNECT stream */
    int responded;               /* server: a response was submitted */
    int drain_received;
    int drain_sent;              /* the app's graceful stop sent DRAIN */
    int send_stopped;            /* the peer sent STOP_SENDING on the CONNECT stream */
    wt_stats stats;              /* counters only */
    unsigned dgram_blocked : 1;  /* a WOULDBLOCK owes a DATAGRAM_WRITABLE */
    unsigned streams_blocked : 2; /* a WT_ERR_LIMIT owes SESSION_STREAMS: 1 uni, 2 bidi */
    int malformed;               /* nghttp3 < 1.11 reset it as malformed: answer after the read */
    int in_event;
    int dialect;                 /* WT_DIALECT_DRAFT02 / _LATEST (client: once requested) */
    int wait_settings;           /* server: a latest-dialect request waits for the
                                    client's SETTINGS (1 + whether it ended with FIN) */
    /* session flow control (see FLOW CONTROL in wt.h); index 1: bidi, 0: uni */
    int fc;                      /* on for this session */
    uint64_t fc_tx_max;          /* the peer's WT_MAX_DATA */
    uint64_t fc_tx_used;         /* payload bytes our streams queued (or sent) */
    uint64_t fc_tx_sent;         /* of them, handed to QUIC: never past fc_tx_max */
    uint64_t fc_tx_blocked_at;   /* the limit a WT_DATA_BLOCKED went for, +1 */
    uint64_t fc_tx_max_streams[2];   /* the peer's WT_MAX_STREAMS */
    uint64_t fc_tx_streams[2];       /* streams we opened */
    uint64_t fc_tx_streams_blocked_at[2]; /* +1 */
    uint64_t fc_rx_max;          /* the WT_MAX_DATA we gave */
    uint64_t fc_rx_used;         /* payload bytes the peer sent */
    uint64_t fc_rx_consumed;     /* of those, credited back (consumed) */
    uint64_t fc_rx_max_streams[2];   /* the WT_MAX_STREAMS we gave */
    uint64_t fc_rx_streams[2];       /* peer streams seen */
    uint64_t fc_rx_streams_done[2];  /* peer streams ended */
    struct {                     /* capsules, for tests and statistics */
        uint32_t max_data_sent, max_data_received, max_streams_sent, max_streams_received;
        uint32_t data_blocked_sent, data_blocked_received, streams_blocked_sent, streams_blocked_received;
    } fc_count;
    /* server: the way to an answer (wt_app.c) */
    size_t next_hook;            /* the next accept hook to run */
    int deferred;                /* a hook said WT_DEFER: counted in ep->ndeferred */
    int resumed;                 /* wt_app_resume came: go on at the next service */
    int resume_status;
    uint64_t defer_deadline_ms;  /* then 503 */
    wt__param *params;           /* route parameters, in one allocation */
    size_t nparams;
    char **offers;               /* wt-available-protocols: received (server) or sent (client) */
    size_t noffers;
    char *alpn;                  /* wt-protocol: to send (server) or as received (client) */
};

enum { WT__ST_CLASSIFY, WT__ST_WT, WT__ST_PENDING };

struct wt_stream {
    wt__conn *conn;
    wt_session *sess;
    wt_stream *next, *prev;      /* session list, or conn->wt.pending */
    wt_stream *send_next;        /* conn send queue */
    wt_stream *all_next, *all_prev; /* conn->wt.all_streams */
    int in_send_queue;
    int64_t id;
    int kind;
    uint64_t session_id;
    unsigned bidi : 1, local : 1;
    unsigned fin_queued : 1, fin_sent : 1, fin_received : 1, reset_received : 1;
    unsigned reset_sent : 1, stop_sent : 1, paused : 1, read_all : 1;
    unsigned want_writable : 1, open_delivered : 1, closed : 1, blocked : 1;
    unsigned read_done : 1;      /* no more DATA will be delivered */
    unsigned transport_closed : 1; /* ngtcp2 closed it; we still hold data for the app */
    unsigned owes_slot : 1;      /* give the peer its stream slot back when it ends */
    unsigned linger : 1;         /* closed for the app, kept until ngtcp2 closes it */
    unsigned budget_wait : 1;    /* a short write was the connection's or app's budget */
    unsigned fc_wait : 1;        /* a short write was the session's credit (WT_MAX_DATA) */
    unsigned fc_blocked : 1;     /* its sending waits for the session's credit */
    unsigned fc_counted : 1;     /* a peer stream counted in its session's fc_rx_streams */
    uint64_t fc_rx_seen;         /* payload bytes received, counted in fc_rx_used */
    uint64_t fc_tx_body;         /* payload bytes queued, counted in fc_tx_used */
    uint64_t fc_tx_sent;         /* of those, handed to QUIC */
    size_t wt_hdr_len;           /* its WebTransport stream header's length on the wire */
    size_t tx_acct;              /* of tx.stored, what is counted in the budgets:
                                    the copies (bytes by reference are not) */
    uint64_t tx_total;           /* bytes ever queued on the sending side */
    uint64_t tx_acked;           /* of them, acknowledged (in order) */
    size_t tx_hdr_left;          /* header bytes not yet sent (not payload) */
    wt__ref *refs, *refs_tail;   /* wt_stream_write_ref calls waiting, in order */
    uint64_t pending_stop;       /* h3 code of a STOP_SENDING that came while pending, +1 */
    wt__sendbuf tx;
    wt__buf rx;                  /* held while paused, collecting, or pending */
    uint64_t uncredited;         /* payload bytes received, flow-control credit not
                                    yet given back: every credit goes through it,
                                    so none is given twice */
    uint64_t pending_reset;      /* h3 code of a RESET that came while pending, +1 */
    uint64_t pending_final;      /* and its final size */
    size_t read_all_limit;
    uint8_t hdr[16];
    size_t hdr_len;
    void *user;
};

/* ---- tracing (wt_trace.c): qlog files, the TLS key log */
#define WT__QLOG_BUF (64 * 1024)
#define WT__JREC_MAX 8192 /* one WebTransport qlog record */
/* A connection's qlog file. Records gather in a fixed buffer that goes to
   the file in one write() when half full, once a second while records come,
   and at the end. A record that finds the buffer full (the file cannot take
   more: a full disk, a pipe nobody reads) is dropped and counted, and the
   count goes into the file and the log: memory never grows with a slow disk. */
typedef struct wt__qlog {
    wt__conn *conn;              /* its log and clock */
    int fd;
    uint8_t *buf;                /* WT__QLOG_BUF bytes */
    size_t len;
    uint64_t t0_ns;              /* ngtcp2's initial_ts: "time" 0 of every record */
    uint64_t last_flush_ns;
    uint64_t dropped, dropped_bytes, dropped_noted; /* records lost, and how many
                                                       the file was told of */
    int write_failed;            /* logged once */
    char *path;
    char rec[WT__JREC_MAX];      /* the WebTransport record being built */
} wt__qlog;
/* Reads qlog_dir / tls_keylog (NULL: $QLOGDIR / $SSLKEYLOGFILE; "": off),
   opens the key log with a loud warning. A value the config set that
   cannot be used fails; one from the environment is logged and left off. */
static int wt__trace_init(wt__ep *ep, const char *qlog_dir, const char *tls_keylog);
static void wt__trace_free(wt__ep *ep);
/* Names the connection after odcid (log_id) and opens its qlog file if the
   endpoint keeps them; a file that cannot be opened is logged, not fatal. */
static void wt__trace_conn(wt__conn *c, const ngtcp2_cid *odcid);
/* ngtcp2's qlog writer (ngtcp2_settings.qlog_write), c as user data. */
static void wt__qlog_ngtcp2(void *user, uint32_t flags, const void *data, size_t len);
static wt__qlog *wt__qlog_new(wt__conn *c, int fd, const char *path);
static void wt__qlog_put(wt__qlog *q, const void *rec, size_t len);
static void wt__qlog_close(wt__conn *c);
/* WebTransport events beside ngtcp2's, on ngtcp2's time base. Callers
   check c->qlog first, so tracing off costs one test. */
static void wt__qlog_session(wt_session *s, const char *what, int status);     /* requested, accepted, refused */
static void wt__qlog_session_closed(wt_session *s, int error);
static void wt__qlog_capsule(wt_session *s, int sent, uint64_t type, uint32_t code, const char *reason, size_t len);
static void wt__qlog_fc_capsule(wt_session *s, int sent, uint64_t type, uint64_t value);
static const char *wt__capsule_name(uint64_t type);
static void wt__qlog_stream(wt_stream *st, const char *what, const char *why);  /* attached, refused */
static void wt__qlog_datagram(wt__conn *c, int64_t session_id, const char *what, size_t len);

/* The session a stream's log lines name: -1 while it is unknown. */
#define WT__ST_SID(st) ((st)->kind == WT__ST_CLASSIFY ? (int64_t)-1 : (int64_t)(st)->session_id)

/* ---- loop (wt_loop.c) */
/* The loop's clock (its wt_clock, or CLOCK_MONOTONIC), in nanoseconds. */
static uint64_t wt__loop_ns(wt_loop *loop);
static int wt__loop_add_ep(wt_loop *loop, wt__ep *ep);
/* Logs and returns 1 when called from inside wt_loop_process (a handler or
   a timer), where destroying would pull the stack out from under it. */
static int wt__loop_busy(wt_loop *loop, const char *what);
static void wt__loop_remove_ep(wt_loop *loop, wt__ep *ep);
/* The library starts / stops driving the loop's machinery; events queued
   by calls made outside it are delivered on enter. */
static void wt__loop_enter(wt_loop *loop);
static void wt__loop_leave(wt_loop *loop);
/* Calls fn(ev) now if that is safe, else queues it (copying ev->data). */
static void wt__loop_emit(wt_loop *loop, wt_session *s, wt_handler fn, wt_event *ev);
/* The same for a write_ref completion (ref is freed here). */
static void wt__loop_emit_done(wt_loop *loop, wt_session *s, wt_stream *st, wt__ref *ref, int status);
/* Delivers queued events unless a handler is running. */
static void wt__loop_drain(wt_loop *loop);
/* Drops queued events of a connection that is being freed. */
static void wt__loop_forget_conn(wt_loop *loop, wt__conn *c);
static int wt__sock_open(wt__ep *ep, const struct sockaddr *addr, socklen_t len, int bind_it);
static void wt__sock_close(wt__sock *s);
/* The open (not yet closed) session of ep with that wt_session_id, or NULL. */
static wt_session *wt__ep_find_session(wt__ep *ep, uint64_t session_id);
static void wt__sock_set_ecn(wt__sock *s, unsigned ecn);
static void wt__ep_wait(wt__ep *ep, int timeout_ms);
/* Sans-I/O: a datagram for ep from outside (wt_app_input, wt_client_input). */
static int wt__ep_input(wt__ep *ep, const void *from, size_t fromlen, const uint8_t *pkt, size_t len);
/* Sends packets of equal size (the last may be shorter) to one address,
   from local (NULL: the socket's address; it matters on a pktinfo socket). */
static int wt__sock_send(wt__sock *s, const struct sockaddr *local, const struct sockaddr *to, socklen_t tolen,
                  const uint8_t *buf, size_t len, size_t seg);
/* For sockaddr_in and sockaddr_in6: the size, and whether it is 0.0.0.0 or ::. */
static socklen_t wt__sa_len(const struct sockaddr *a);
static int wt__sa_is_wildcard(const struct sockaddr *a);

/* ---- TLS (wt_tls.c) */
/* Parses a tls_groups list (NULL: WT_TLS_GROUPS_DEFAULT without the groups
   this wolfSSL build lacks) into IANA group ids; returns the count, or a
   WT_ERR_* after logging why. */
static int wt__tls_parse_groups(const char *list, uint16_t *ids, int max, const wt_log *lg);
/* Sets an endpoint's groups: the server's preference or the client's offer
   (key_shares: 0 means 2). */
static int wt__tls_set_groups(wt__ep *ep, const char *list, int key_shares);
/* Sets an endpoint's TLS 1.3 cipher suites from a tls_ciphers list (NULL:
   WT_TLS_CIPHERS_DEFAULT); WT_ERR_* after logging why. */
static int wt__tls_set_ciphers(wt__ep *ep, const char *list);
/* The WOLFSSL of one connection, ready for ngtcp2: ALPN h3; on a client also
   QUIC v1 parameters, SNI, the name check and the key shares. NULL: logged. */
static WOLFSSL *wt__tls_new(wt__ep *ep, const char *host);
static void wt__tls_done(wt__conn *c);
static void wt__tls_release(wt__conn *c);
static int wt__cb_recv_crypto_data(ngtcp2_conn *qc, ngtcp2_encryption_level level, uint64_t offset,
                                   const uint8_t *data, size_t datalen, void *user);
/* The connection's secrets go to wt__tls_secret: the exporter secret is
   kept, the endpoint's key log (if any) gets them all. */
static void wt__tls_attach(wt__conn *c);
static const char *wt__tls_group_name(uint16_t id);
static const char *wt__tls_alert_name(uint8_t alert);

/* ---- packet protection (wt_aead.c): ngtcp2's encrypt, decrypt and hp_mask
   on wolfCrypt for AES-GCM, the glue's for the rest */
static void wt__aead_callbacks(ngtcp2_callbacks *cb);
static int wt__aead_is_direct(const ngtcp2_crypto_aead_ctx *aead_ctx, const ngtcp2_crypto_cipher_ctx *hp_ctx);

/* ---- QUIC (wt_quic.c) */
/* Sets up what servers and clients share: a loop (its own when loop is
   NULL), limits with defaults filled in, RNG, CID table, a TLS context. */
static int wt__ep_init(wt__ep *ep, wt_loop *loop, int server, const wt_allocator *alloc, const wt_log *log,
                const wt_limits *lim);
static void wt__ep_free(wt__ep *ep);
/* Closes every session (code, reason), flushes, then every connection. */
static void wt__ep_close_all(wt__ep *ep, uint32_t code, const char *reason);
/* local: the address the datagram came to (NULL: the socket's); ecn: the
   ECN bits of its IP header. */
static void wt__ep_on_packet(wt__ep *ep, wt__sock *s, const struct sockaddr *local, const struct sockaddr *from,
                      socklen_t fromlen, const uint8_t *pkt, size_t len, unsigned ecn, uint64_t now);
static uint64_t wt__ep_expiry_ms(wt__ep *ep);
static void wt__ep_service(wt__ep *ep, uint64_t now_ns);
/* A connection on the endpoint's list; sock and remote may be NULL (a
   client's placeholder, see wt__conn.dial). */
static wt__conn *wt__conn_alloc(wt__ep *ep, wt__sock *sock, const struct sockaddr *local, const struct sockaddr *remote,
                                socklen_t rlen);
static wt__conn *wt__conn_client_new(wt__ep *ep, const struct sockaddr *to, socklen_t tolen, const char *host,
                              uint16_t port);
static int wt__conn_write(wt__conn *c);
static void wt__conn_close(wt__conn *c, uint64_t app_error, const char *why);
static void wt__conn_fail(wt__conn *c, int liberr, const char *why);
static void wt__conn_consumed(wt__conn *c, int64_t stream_id, size_t n);
static void wt__conn_keepalive(wt__conn *c); /* after the session count changes */
/* The transport as HTTP/3, sessions, streams and datagrams see it: they
   reach ngtcp2 through these only. */
enum { WT__TP_READ = 1, WT__TP_WRITE = 2, WT__TP_BOTH = 3 };
static void wt__tp_shutdown(wt__conn *c, int how, int64_t id, uint64_t h3code);
static int wt__tp_open(wt__conn *c, int bidi, int64_t *id, void *user); /* an ngtcp2 error code */
static void wt__tp_set_user(wt__conn *c, int64_t id, void *user);
static int wt__tp_is_local(wt__conn *c, int64_t id);
static void wt__tp_give_stream_slot(wt__conn *c, int bidi);
static void wt__tp_close_error(wt__conn *c, uint64_t h3code);
/* Bytes a packet can carry on the path now; *datagram_frame_max gets the
   peer's DATAGRAM frame limit (0: it takes none). */
static size_t wt__tp_path_payload(wt__conn *c, uint64_t *datagram_frame_max);

/* ---- HTTP/3 (wt_h3.c) */
static int wt__h3_init(wt__conn *c);
static int wt__h3_on_stream_data(wt__conn *c, int64_t stream_id, void *stream_user, const uint8_t *data,
                          size_t len, int fin);
static int wt__h3_on_acked(wt__conn *c, int64_t stream_id, void *stream_user, uint64_t n);
static void wt__h3_on_stream_close(wt__conn *c, int64_t stream_id, void *stream_user, uint64_t app_error);
static void wt__h3_on_stream_reset(wt__conn *c, int64_t stream_id, void *stream_user, uint64_t final_size,
                            uint64_t app_error);
static void wt__h3_on_stop_sending(wt__conn *c, int64_t stream_id, void *stream_user, uint64_t app_error);
/* Picks stream data for the next packet: nghttp3 first, then WT streams. */
typedef struct wt__tx {
    int64_t stream_id;
    int fin;
    ngtcp2_vec vec[16];
    size_t nvec;
    wt_stream *wst;    /* a WT stream, or NULL for nghttp3 */
    int ctrl_prefix;   /* the rewritten SETTINGS */
} wt__tx;
static int wt__h3_next_tx(wt__conn *c, wt__tx *tx);     /* nghttp3's streams */
static void wt__h3_next_wt_tx(wt__conn *c, wt__tx *tx); /* WebTransport streams */
static void wt__h3_tx_done(wt__conn *c, wt__tx *tx, size_t n);
static void wt__h3_tx_blocked(wt__conn *c, wt__tx *tx);
static void wt__h3_tx_shut(wt__conn *c, wt__tx *tx);
static void wt__h3_unblock(wt__conn *c, int64_t stream_id, void *stream_user);
static void wt__stream_tx_done(wt_stream *st, wt__tx *tx, size_t n);

/* ---- sessions (wt_session.c) */
static wt_session *wt__session_new(wt__conn *c, int64_t id, int server);
static void wt__session_emit(wt_session *s, wt_event *ev);
static void wt__session_end(wt_session *s, int error);   /* CLOSED events, frees later */
static void wt__session_free(wt_session *s);
static wt_session *wt__session_find(wt__conn *c, uint64_t id);
static int wt__session_submit_request(wt_session *s);
static void wt__session_on_headers_done(wt_session *s, int fin);
/* Server: the app's checks are done: s->fn set (a route) or s->reject_status.
   The handler hears the request, then the answer goes. */
static void wt__session_answer(wt_session *s);
/* No longer waiting for wt_app_resume (resumed, timed out or ended). */
static void wt__session_undefer(wt_session *s);
/* A request field: received (server) or to be sent (client). */
static void wt__session_on_header(wt_session *s, const char *n, size_t nl, const char *v, size_t vl);
/* A response field the client received. */
static void wt__session_on_response_header(wt_session *s, const char *n, size_t nl, const char *v, size_t vl);
static void wt__session_on_drain(wt_session *s);
static void wt__conn_sweep_sessions(wt__conn *c);
static void wt__conn_on_peer_settings(wt__conn *c);
static void wt__session_on_body(wt_session *s, const uint8_t *p, size_t n);
static void wt__session_on_fin(wt_session *s);
/* The peer's request or response on s's stream is malformed (RFC 9114
   4.1.2) and reading it has stopped: 400 if unanswered, else a reset. */
static void wt__session_on_malformed(wt_session *s, const char *why);
static void wt__conn_end_sessions(wt__conn *c, int error);
/* Session flow control (wt_session.c). */
static void wt__fc_session_start(wt_session *s);
static void wt__fc_error(wt_session *s, const char *why);
static int wt__fc_rx_data(wt_session *s, wt_stream *st, uint64_t n);    /* WT_OK, or it closed s */
static void wt__fc_rx_credit(wt_session *s, uint64_t n);
static int wt__fc_rx_stream(wt_session *s, wt_stream *st);              /* WT_OK, or it closed s */
static void wt__fc_rx_stream_done(wt_session *s, wt_stream *st);
static uint64_t wt__fc_tx_room(wt_session *s);                          /* UINT64_MAX: no limit */
static void wt__fc_tx_blocked(wt_session *s);
static int wt__fc_tx_open(wt_session *s, int bidi);                     /* WT_OK or WT_ERR_LIMIT */
static int wt__fc_on_capsule(wt_session *s, const wt__capsule *c);
static void wt__fc_wake_writers(wt_session *s);
static size_t wt__fc_tx_allow(wt_stream *st, size_t n);
static void wt__stream_fc_queued(wt_stream *st, size_t n);
/* The peer allows more streams (bidi 1, uni 0): SESSION_STREAMS to the
   sessions a WT_ERR_LIMIT left waiting (QUIC's MAX_STREAMS: all of the
   connection's; a session-level limit: that session only). */
static void wt__conn_streams_available(wt__conn *c, int bidi);
static void wt__session_streams_available(wt_session *s, int bidi);

/* ---- statistics (wt_stats.c) */
/* Adds the counters of src to dst (path figures untouched). */
static void wt__stats_add(wt_stats *dst, const wt_stats *src);
/* A connection's counters and path figures, as wt_session_connection_stats. */
static void wt__conn_stats(wt__conn *c, wt_stats *out);
/* An endpoint's totals (see wt_stats in wt.h); returns how many open
   connections the mean RTTs were taken over. */
static uint64_t wt__ep_stats(const wt__ep *ep, wt_stats *out);
/* Before a connection is freed: its counters go into the endpoint's totals. */
static void wt__conn_stats_retire(wt__conn *c);

/* ---- streams (wt_stream.c) */
static wt_stream *wt__stream_new(wt__conn *c, int64_t id, int bidi, int local);
static void wt__stream_attach(wt_stream *st, wt_session *s);
static void wt__stream_on_data(wt_stream *st, const uint8_t *data, size_t len, int fin);
static void wt__stream_on_acked(wt_stream *st, uint64_t n);
static void wt__stream_on_reset(wt_stream *st, uint64_t final_size, uint64_t app_error);
static void wt__stream_check_writable(wt_stream *st);
static void wt__stream_fc_refund(wt_stream *st);
static void wt__stream_on_stop_sending(wt_stream *st, uint64_t app_error);
static void wt__stream_on_close(wt_stream *st);
static void wt__stream_gone(wt_stream *st, uint64_t h3code); /* session ended */
static void wt__stream_free(wt_stream *st);
static void wt__stream_queue_send(wt_stream *st);
/* Our sending side ended (reset, closed): every write_ref gets done(status). */
static void wt__stream_fail_refs(wt_stream *st, int status);
static void wt__stream_unqueue_send(wt_stream *st);
/* WT_OK if the stream lives on (attached or held), else it was refused. */
static int wt__stream_on_wt_header(wt_stream *st);
static void wt__conn_free_graveyard(wt__conn *c);
static void wt__conn_stream_slot_free(wt__conn *c, int64_t stream_id);
static void *wt__dead_stream_marker(void);
static void wt__conn_adopt_pending(wt__conn *c, wt_session *s);
static void wt__conn_reject_pending(wt__conn *c, uint64_t session_id, uint64_t h3code);

/* ---- certificates (wt_cert.c) */
/* A self-signed development certificate for localhost (+ extra, a name or
   address, if not NULL) made in memory and loaded into ctx; its SHA-256
   into sha256. */
static int wt__cert_load_dev(WOLFSSL_CTX *ctx, const wt_log *lg, const char *extra, uint8_t sha256[32]);

/* ---- command-line arguments (wt_util.c) */
/* "--name value" or "--name=value" at argv[*i]: 1 with *value set (and *i
   past it), 0 if argv[*i] is another argument, WT_ERR_INVALID (logged) if
   the value is missing. */
static int wt__arg(const wt_log *lg, int argc, char **argv, int *i, const char *name, const char **value);
/* ---- router (wt_router.c): from a server's session request to its answer */
typedef struct wt__route {
    char *pattern;
    char *key;                   /* the pattern without parameter names: same key, same route */
    wt_handler fn;
    void *user;
} wt__route;
typedef struct wt__accept_hook {
    wt_accept_fn fn;
    void *user;
} wt__accept_hook;
typedef struct wt__rate {        /* one client address's token bucket */
    uint8_t addr[16];
    uint8_t family;              /* 4 or 6; 0: a free slot */
    uint64_t tokens;             /* in thousandths of a session */
    uint64_t last_ms;
} wt__rate;
typedef struct wt__router {
    wt__ep *ep;
    wt__route *routes;
    size_t nroutes;
    wt__route default_route;     /* fn NULL: none (404) */
    wt__accept_hook *use;        /* wt_app_use, in order */
    size_t nuse;
    char **origins;              /* allowed_origins, NULL-terminated; NULL: any */
    char *auth_token;
    wt__rate *rates;             /* rate_limit_ips slots; NULL: no rate limit */
} wt__router;
/* Sets ep's on_request and on_service; reads the checks from cfg. */
static int wt__router_init(wt__router *rt, wt__ep *ep, const wt_app_config *cfg);
/* After wt__ep_free: sessions may read routes until their CLOSED events. */
static void wt__router_free(wt__router *rt, const wt_allocator *a);
static int wt__router_add(wt__router *rt, const char *pattern, wt_handler fn, void *user);
static int wt__router_default(wt__router *rt, wt_handler fn, void *user);
static int wt__router_use(wt__router *rt, wt_accept_fn fn, void *user);
static int wt__router_resume(wt__router *rt, uint64_t session_id, int status);
static wt_session *wt__router_deferred(wt__router *rt, uint64_t session_id);
/* The app's sessions for max_app_sessions, from one worker's thread (wt_app.c). */
static size_t wt__app_sessions_now(const wt__ep *ep);
/* ---- subprotocols, keying material (wt_alpn.c) */
static void wt__alpn_free(wt_session *s);
/* s->offers from the request's wt-available-protocols (a malformed one is logged, ignored). */
static void wt__alpn_parse_offers(wt_session *s);
/* Server: adds wt-protocol to an accepting response when one was chosen. */
static int wt__alpn_add_response(wt_session *s, wt__hdrs *out);
/* Client, on a 2xx: WT_OK, or the server chose what was not offered (the session ended). */
static int wt__alpn_check_response(wt_session *s);
/* The client's protocols as one wt-available-protocols value (*out NULL: none). */
static int wt__alpn_offer_value(const wt_allocator *a, const wt_log *lg, const char *const *protocols, char **out);

/* ---- client (wt_client.c) */
static int wt__parse_url(const char *url, char *host, size_t hostcap, uint16_t *port, const char **path);
/* Dialing (see wt__conn.dial): the placeholder's next deadline, its work
   when the loop serves it (a resolution done, the next attempt due, the
   connect timeout), an attempt that won its handshake or went away. */
static uint64_t wt__dial_expiry_ms(wt__conn *c);
static void wt__dial_service(wt__conn *c, uint64_t now_ms);
static void wt__dial_won(wt__conn *attempt);
static void wt__dial_attempt_gone(wt__conn *attempt);
static void wt__dial_free(wt__conn *c);

/* ---- datagrams (wt_datagram.c) */
static void wt__dgram_on_recv(wt__conn *c, const uint8_t *data, size_t len);
static void wt__dgram_adopt_pending(wt__conn *c, wt_session *s);
static void wt__dgram_free_all(wt__conn *c);
/* Bytes a DATAGRAM frame's payload (quarter stream ID included) may have on
   the current path: 0 if the peer takes no datagrams. */
static size_t wt__dgram_room(wt__conn *c);
/* After the queue shrank: DATAGRAM_WRITABLE to the sessions owed one. */
static void wt__dgram_check_writable(wt__conn *c);

#endif /* WT__INTERNAL_H */
