/* wt_bench_server.c - the server side of `make bench` (bench/run.py) and of
 * other helpers' figures: a few routes that do one thing each, as fast as
 * the library lets them.
 *
 *   build/bench/wt_bench_server [--host H] [--port N (-1: a free one)]
 *       [--cert F --key F] [--max-sessions N] [--max-connections N]
 *       [--retry] [--log-level 0-4] [--cc cubic|reno|bbr] [--workers N]
 *
 * Without --cert/--key it makes a development certificate in memory. Once
 * the socket is bound it prints one JSON line to stdout and flushes it:
 *   {"port": 4433, "pid": 1234, "sha256": "<hex of the certificate>"}
 * so a script can start it with --port -1 and read where it listens. It
 * runs until SIGINT/SIGTERM (graceful stop).
 *
 * Routes:
 *   /echo            every bidirectional stream's bytes back on it as they
 *                    come (FIN after the peer's FIN); a unidirectional
 *                    stream's bytes on a new unidirectional stream of ours;
 *                    every datagram back as it is. A slow reader pauses
 *                    the stream it echoes (memory stays bounded).
 *   /sink            reads and counts. At a stream's FIN the count goes
 *                    back as decimal ASCII with FIN: on the same stream if
 *                    bidirectional, else on a new unidirectional stream.
 *                    Datagrams are counted and dropped.
 *   /source?bytes=N  once the session is open: one unidirectional stream
 *                    of ours with N bytes (0x5a) and FIN (N: 1 MiB if
 *                    missing). The session stays open until the peer
 *                    closes it.
 *   /dgram           counts the datagrams it receives. A bidirectional
 *                    stream's FIN is answered on it with one JSON line,
 *                    {"datagrams": n, "bytes": b, "span_us": us}, us from
 *                    the first datagram to the last.
 *
 * Bench defaults differ from the library's on purpose, to measure the
 * steady cost of a session rather than the defences: no Retry round trip
 * (--retry turns the library's default back on), no cap on half-open
 * handshakes per address (every client of a benchmark is 127.0.0.1),
 * max_sessions 256 per connection and 16384 connections (both flags).
 * --workers N runs N worker loops on as many threads (wt_app_config.workers;
 * the handlers keep all their state per session, so they need no lock).
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

static uint8_t fill[CHUNK]; /* what /source sends: 0x5a bytes */

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---------------------------------------------------------------- /echo
 * One pair per echoed stream: in (the stream read) and out (where the
 * echo goes: the same stream when bidirectional). What wt_stream_write did
 * not take waits in pend while in is paused. Both streams point to the
 * pair; it is freed when both have closed. */
typedef struct echo_pair {
    wt_stream *in, *out;
    uint8_t *pend;
    size_t pend_len, pend_cap;
    int fin; /* the peer's FIN came: finish out once pend is written */
} echo_pair;

static void echo_pair_release(echo_pair *p, wt_stream *st) {
    if (p->in == st) p->in = NULL;
    if (p->out == st) p->out = NULL;
    if (!p->in && !p->out) {
        free(p->pend);
        free(p);
    }
}

/* Writes what waits; resumes in once it is all written. */
static void echo_flush(echo_pair *p) {
    int n;
    if (!p->out) return;
    if (p->pend_len) {
        n = wt_stream_write(p->out, p->pend, p->pend_len);
        if (n < 0) {
            if (p->in) (void)wt_stream_stop_sending(p->in, 1);
            p->pend_len = 0;
            return;
        }
        memmove(p->pend, p->pend + n, p->pend_len - (size_t)n);
        p->pend_len -= (size_t)n;
        if (p->pend_len) return; /* WRITABLE comes */
        if (p->in) (void)wt_stream_pause(p->in, 0);
    }
    if (p->fin) {
        p->fin = 0;
        (void)wt_stream_finish(p->out);
    }
}

static void echo_data(echo_pair *p, const uint8_t *data, size_t len, int fin) {
    size_t off = 0;
    if (!p->out) return;
    if (!p->pend_len && len) {
        int n = wt_stream_write(p->out, data, len);
        if (n < 0) {
            if (p->in) (void)wt_stream_stop_sending(p->in, 1);
            return;
        }
        off = (size_t)n;
    }
    if (off < len) {
        size_t need = p->pend_len + (len - off);
        if (need > p->pend_cap) {
            size_t cap = p->pend_cap ? p->pend_cap : CHUNK;
            uint8_t *b;
            while (cap < need) cap *= 2;
            if (!(b = (uint8_t *)realloc(p->pend, cap))) {
                if (p->in) (void)wt_stream_stop_sending(p->in, 1);
                (void)wt_stream_reset(p->out, 1);
                return;
            }
            p->pend = b;
            p->pend_cap = cap;
        }
        memcpy(p->pend + p->pend_len, data + off, len - off);
        p->pend_len = need;
        if (p->in) (void)wt_stream_pause(p->in, 1); /* until WRITABLE drains pend */
    }
    if (fin) p->fin = 1;
    if (!p->pend_len) echo_flush(p);
}

static void echo_handler(wt_event *ev) {
    echo_pair *p;
    switch (ev->type) {
    case WT_EV_STREAM_OPEN:
        if (!(p = (echo_pair *)calloc(1, sizeof *p))) {
            (void)wt_stream_stop_sending(ev->stream, 1);
            break;
        }
        p->in = ev->stream;
        if (wt_stream_is_bidi(ev->stream)) p->out = ev->stream;
        else if (wt_session_open_stream(ev->session, 0, &p->out) != WT_OK) p->out = NULL;
        wt_stream_set_user(ev->stream, p);
        if (p->out && p->out != p->in) wt_stream_set_user(p->out, p);
        if (!p->out) (void)wt_stream_stop_sending(ev->stream, 1);
        break;
    case WT_EV_STREAM_DATA:
        if ((p = (echo_pair *)wt_stream_user(ev->stream)) != NULL) echo_data(p, ev->data, ev->len, ev->fin);
        break;
    case WT_EV_STREAM_WRITABLE:
        if ((p = (echo_pair *)wt_stream_user(ev->stream)) != NULL) echo_flush(p);
        break;
    case WT_EV_STREAM_RESET:
        /* the peer gave up on its side: so does the echo */
        if ((p = (echo_pair *)wt_stream_user(ev->stream)) != NULL && p->out) (void)wt_stream_reset(p->out, ev->code);
        break;
    case WT_EV_STREAM_CLOSED:
        if ((p = (echo_pair *)wt_stream_user(ev->stream)) != NULL) echo_pair_release(p, ev->stream);
        break;
    case WT_EV_DATAGRAM:
        (void)wt_session_send_datagram(ev->session, ev->data, ev->len); /* a full queue drops it */
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- /sink */
typedef struct sink_stream {
    uint64_t bytes;
} sink_stream;

static void reply_text(wt_session *s, wt_stream *st, const char *text) {
    wt_stream *out = st;
    if (!wt_stream_is_bidi(st) && wt_session_open_stream(s, 0, &out) != WT_OK) return;
    if (wt_stream_write_all(out, text, strlen(text), 1) != WT_OK) (void)wt_stream_reset(out, 1);
}

static void sink_handler(wt_event *ev) {
    sink_stream *k;
    char buf[32];
    switch (ev->type) {
    case WT_EV_STREAM_OPEN:
        if (!(k = (sink_stream *)calloc(1, sizeof *k))) (void)wt_stream_stop_sending(ev->stream, 1);
        wt_stream_set_user(ev->stream, k);
        break;
    case WT_EV_STREAM_DATA:
        if (!(k = (sink_stream *)wt_stream_user(ev->stream))) break;
        k->bytes += ev->len;
        if (ev->fin) {
            snprintf(buf, sizeof buf, "%llu", (unsigned long long)k->bytes);
            reply_text(ev->session, ev->stream, buf);
        }
        break;
    case WT_EV_STREAM_CLOSED:
        free(wt_stream_user(ev->stream));
        wt_stream_set_user(ev->stream, NULL);
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- /source */
/* The bytes go by reference from one static buffer (wt_stream_write_ref),
   as ngtcp2's example hands nghttp3 a pointer to its static buffer: the
   bulk figure then measures the transport, not a copy of the app's data.
   SOURCE_INFLIGHT chunks (2 MiB, the default stream_send_buffer) wait for
   their acknowledgements at a time. */
#define SOURCE_INFLIGHT 32
typedef struct source_state {
    uint64_t left;
    wt_stream *st;
    int inflight; /* write_ref calls whose done has not run */
    int closed;   /* the session is gone: free at the last done */
} source_state;

static void source_pump(source_state *src);

static void source_done(wt_stream *st, const void *data, size_t len, int status, void *user) {
    source_state *src = (source_state *)user;
    (void)st, (void)data, (void)len;
    src->inflight--;
    if (status != WT_OK) src->left = 0;
    if (src->closed) {
        if (!src->inflight) free(src);
        return;
    }
    source_pump(src);
}

static void source_pump(source_state *src) {
    while (src->left && src->st && src->inflight < SOURCE_INFLIGHT) {
        size_t want = src->left < CHUNK ? (size_t)src->left : CHUNK;
        int last = (uint64_t)want == src->left;
        if (wt_stream_write_ref(src->st, fill, want, last, source_done, src) != WT_OK) {
            (void)wt_stream_reset(src->st, 1);
            src->left = 0;
            return;
        }
        src->inflight++;
        src->left -= (uint64_t)want;
    }
}

static void source_handler(wt_event *ev) {
    source_state *src;
    char num[32];
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        if (!(src = (source_state *)calloc(1, sizeof *src))) {
            (void)wt_session_close(ev->session, 1, "out of memory");
            break;
        }
        src->left = 1u << 20;
        if (wt_session_query_get(ev->session, "bytes", num, sizeof num) > 0) src->left = strtoull(num, NULL, 10);
        wt_session_set_user(ev->session, src);
        if (wt_session_open_stream(ev->session, 0, &src->st) != WT_OK) {
            (void)wt_session_close(ev->session, 1, "cannot open a stream");
            break;
        }
        wt_stream_set_user(src->st, src);
        if (!src->left) (void)wt_stream_finish(src->st);
        source_pump(src);
        break;
    case WT_EV_STREAM_CLOSED:
        if ((src = (source_state *)wt_stream_user(ev->stream)) != NULL) src->st = NULL;
        break;
    case WT_EV_SESSION_CLOSED:
        if ((src = (source_state *)wt_session_user(ev->session)) != NULL) {
            src->closed = 1;
            if (!src->inflight) free(src);
        }
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- /dgram */
typedef struct dgram_count {
    uint64_t n, bytes, first_us, last_us;
} dgram_count;

static void dgram_handler(wt_event *ev) {
    dgram_count *c = (dgram_count *)wt_session_user(ev->session);
    char buf[160];
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        if (!(c = (dgram_count *)calloc(1, sizeof *c))) (void)wt_session_close(ev->session, 1, "out of memory");
        wt_session_set_user(ev->session, c);
        break;
    case WT_EV_DATAGRAM:
        if (!c) break;
        c->last_us = now_us();
        if (!c->n++) c->first_us = c->last_us;
        c->bytes += ev->len;
        break;
    case WT_EV_STREAM_DATA:
        if (!c || !ev->fin || !wt_stream_is_bidi(ev->stream)) break;
        snprintf(buf, sizeof buf, "{\"datagrams\": %llu, \"bytes\": %llu, \"span_us\": %llu}\n",
                 (unsigned long long)c->n, (unsigned long long)c->bytes,
                 (unsigned long long)(c->n ? c->last_us - c->first_us : 0));
        reply_text(ev->session, ev->stream, buf);
        break;
    case WT_EV_SESSION_CLOSED:
        free(c);
        wt_session_set_user(ev->session, NULL);
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- main */
static int print_ready(wt_app *app, void *user) {
    uint8_t sha[32];
    char hex[65] = "";
    (void)user;
    if (wt_app_cert_sha256(app, sha) == WT_OK) wt_hex(sha, 32, hex);
    printf("{\"port\": %d, \"pid\": %ld, \"sha256\": \"%s\"}\n", wt_app_port(app), (long)getpid(), hex);
    fflush(stdout);
    return WT_OK;
}

static int usage(const char *prog) {
    fprintf(stderr,
            "usage: %s [--host H] [--port N] [--cert F --key F] [--max-sessions N] [--max-connections N]\n"
            "       [--retry] [--log-level 0-4] [--cc cubic|reno|bbr] [--workers N]\n",
            prog);
    return 1;
}

/* A positive count for --max-sessions and its kind; 0 if not one. */
static uint32_t count_arg(const char *v) {
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    return *v && !*end && n > 0 && n <= UINT32_MAX ? (uint32_t)n : 0;
}

int main(int argc, char **argv) {
    wt_app_config cfg = {0};
    wt_app *app;
    int i = 1, rv;

    memset(fill, 0x5a, sizeof fill);
    cfg.port = -1;
    cfg.dev_cert = 1;
    cfg.stop_on_signals = 1;
    cfg.limits.retry_threshold = UINT32_MAX;
    cfg.limits.max_half_open_per_ip = UINT32_MAX;
    cfg.limits.max_sessions = 256;
    cfg.limits.max_connections = 16384;
    cfg.limits.max_app_sessions = UINT32_MAX;
    /* the library's own options and ours, in any order */
    while (i < argc) {
        rv = wt_app_config_args(&cfg, argc - i + 1, argv + i - 1);
        if (rv == WT_ARGS_HELP) return usage(argv[0]) - 1;
        if (rv < 0) return usage(argv[0]);
        i += rv - 1;
        if (i >= argc) break;
        if (!strcmp(argv[i], "--retry")) {
            cfg.limits.retry_threshold = 0; /* the library's default */
            cfg.limits.max_half_open_per_ip = 0;
            i++;
        } else if (i + 1 < argc && !strcmp(argv[i], "--max-sessions") && count_arg(argv[i + 1])) {
            cfg.limits.max_sessions = count_arg(argv[i + 1]);
            i += 2;
        } else if (i + 1 < argc && !strcmp(argv[i], "--max-connections") && count_arg(argv[i + 1])) {
            cfg.limits.max_connections = count_arg(argv[i + 1]);
            i += 2;
        } else if (i + 1 < argc && !strcmp(argv[i], "--cc") &&
                   (!strcmp(argv[i + 1], "cubic") || !strcmp(argv[i + 1], "reno") || !strcmp(argv[i + 1], "bbr"))) {
            cfg.limits.congestion_control = !strcmp(argv[i + 1], "bbr")    ? WT_CC_BBR
                                            : !strcmp(argv[i + 1], "reno") ? WT_CC_RENO
                                                                           : WT_CC_CUBIC;
            i += 2;
        } else if (i + 1 < argc && !strcmp(argv[i], "--log-level") && argv[i + 1][0] >= '0' &&
                   argv[i + 1][0] <= '4' && !argv[i + 1][1]) {
            cfg.log.level = (wt_log_level)(argv[i + 1][0] - '0');
            i += 2;
        } else {
            fprintf(stderr, "%s: bad argument: %s\n", argv[0], argv[i]);
            return usage(argv[0]);
        }
    }
    if (!(app = wt_app_create(&cfg))) return 1;
    rv = wt_app_route(app, "/echo", echo_handler, NULL);
    if (rv == WT_OK) rv = wt_app_route(app, "/sink", sink_handler, NULL);
    if (rv == WT_OK) rv = wt_app_route(app, "/source", source_handler, NULL);
    if (rv == WT_OK) rv = wt_app_route(app, "/dgram", dgram_handler, NULL);
    if (rv == WT_OK) rv = wt_app_on_startup(app, print_ready, NULL);
    if (rv == WT_OK) rv = wt_app_run(app);
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
