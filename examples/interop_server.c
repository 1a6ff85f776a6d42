/* interop_server.c - the endpoints other WebTransport implementations test
 * against.
 *
 *   cc -std=c11 -O2 examples/interop_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o interop_server
 *   ./interop_server [--host H] [--port N] [--protocol P]...
 *                               ($P: cat build/deps/prefix after make deps)
 *
 * Generates localhost.crt/.key in the current directory, then prints
 * "READY port=N hash=<certificate SHA-256>" (the hash is what a browser
 * passes as serverCertificateHashes). Port -1 takes a free one; 4433 by
 * default. Ctrl-C stops it.
 *
 *   /echo           every bidirectional stream is echoed back on itself,
 *                   byte for byte, FIN included; every unidirectional
 *                   stream on a new unidirectional stream; every datagram
 *                   as a datagram. A reset or STOP_SENDING is passed on.
 *   /close?code=N&reason=TEXT
 *                   accepts, then closes the session at once with that
 *                   code (0-4294967295, default 0) and reason (percent-
 *                   decoded, at most 1024 bytes).
 *   /stats          sends the session's and the server's statistics as one
 *                   JSON object on a unidirectional stream.
 *   /webtransport/devious-baton?version=0&baton=B&count=C
 *                   the Devious Baton protocol (draft-frindell-webtrans-
 *                   devious-baton, with its parallel batons): C batons
 *                   (1-100, default 1) start at B (0-255, default random)
 *                   on unidirectional streams and go back and forth, +1
 *                   each time, until each has come back as 0; then the
 *                   server closes the session with code 0. Bad parameters:
 *                   400.
 *   anything else   404 (by the library: no route).
 *
 * Subprotocols: when the client offers some (wt-available-protocols, the
 * browser's `protocols` option), the server picks the first of its own
 * --protocol preferences the client offered, else the client's first.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PREFS 8
static const char *prefs[MAX_PREFS];
static size_t nprefs;
static wt_app *app;

/* ---------------------------------------------------------------- helpers */
/* The percent-decoded value of query parameter name in s's path into buf
   ('+' reads as a space, as in a form); its length, or -1 if absent. */
static int query_get(wt_session *s, const char *name, char *buf, size_t size) {
    const char *q = strchr(wt_session_path(s), '?');
    size_t nl = strlen(name);
    while (q && *q) {
        const char *k = q + 1, *end = strchr(k, '&');
        if (!end) end = k + strlen(k);
        if ((size_t)(end - k) >= nl && !strncmp(k, name, nl) && (k[nl] == '=' || k + nl == end)) {
            const char *v = k[nl] == '=' ? k + nl + 1 : end;
            size_t n = 0;
            while (v < end && n + 1 < size) {
                unsigned hi, lo;
                if (*v == '%' && end - v >= 3 && sscanf(v + 1, "%1x%1x", &hi, &lo) == 2) {
                    buf[n++] = (char)(hi * 16 + lo);
                    v += 3;
                } else {
                    buf[n++] = *v == '+' ? ' ' : *v;
                    v++;
                }
            }
            buf[n] = 0;
            return (int)n;
        }
        q = *end ? end : NULL;
    }
    return -1;
}

/* A whole decimal number in [0, max] from query parameter name, or dflt if
   absent; -1 if present but not such a number. */
static long long query_number(wt_session *s, const char *name, long long max, long long dflt) {
    char buf[32], *end;
    long long v;
    if (query_get(s, name, buf, sizeof buf) < 0) return dflt;
    if (buf[0] < '0' || buf[0] > '9') return -1;
    v = strtoll(buf, &end, 10);
    return *end || v > max ? -1 : v;
}

/* One line per session opened and closed, on stdout: what a test driver reads. */
static void trace(const wt_event *ev) {
    if (ev->type == WT_EV_SESSION_OPEN)
        printf("OPEN id=%llu path=%s protocol=%s\n", (unsigned long long)wt_session_id(ev->session),
               wt_session_path(ev->session), wt_session_protocol(ev->session));
    else if (ev->type == WT_EV_SESSION_CLOSED)
        printf("CLOSED id=%llu path=%s code=%u reason=%.*s error=%d\n", (unsigned long long)wt_session_id(ev->session),
               wt_session_path(ev->session), ev->code, (int)ev->reason_len, ev->reason ? ev->reason : "", ev->error);
    else
        return;
    fflush(stdout);
}

/* During the request, on every route: choose a subprotocol if offered. */
static void choose_protocol(wt_session *s) {
    size_t i, j, n = wt_session_protocol_count(s);
    if (!n) return;
    for (i = 0; i < nprefs; i++)
        for (j = 0; j < n; j++)
            if (!strcmp(prefs[i], wt_session_protocol_at(s, j))) {
                wt_session_set_protocol(s, prefs[i]);
                return;
            }
    wt_session_set_protocol(s, wt_session_protocol_at(s, 0));
}

/* ---------------------------------------------------------------- /echo
 * One pipe per echoed stream: bytes from `in` go to `out` (the same stream
 * for a bidirectional one). What the send buffer does not take waits in
 * `held` while `in` is paused, so a fast sender is slowed, never buffered
 * without bound. */
typedef struct echo_pipe {
    wt_stream *in, *out;
    uint8_t *held;
    size_t held_len;
    int fin;   /* FIN after held */
    int refs;  /* streams still pointing here */
} echo_pipe;

static void echo_pipe_unref(echo_pipe *p) {
    if (--p->refs == 0) {
        free(p->held);
        free(p);
    }
}

/* Writes what is held; returns 1 when all of it (and the FIN) went. */
static int echo_pipe_flush(echo_pipe *p) {
    if (p->held_len) {
        int n = wt_stream_write(p->out, p->held, p->held_len);
        if (n < 0) return 0;
        memmove(p->held, p->held + n, p->held_len - (size_t)n);
        p->held_len -= (size_t)n;
        if (p->held_len) return 0;
    }
    if (p->fin) {
        wt_stream_finish(p->out);
        p->fin = 0;
    }
    return 1;
}

static void echo_pipe_data(echo_pipe *p, const uint8_t *data, size_t len, int fin) {
    if (!p->out) return;
    if (!p->held_len) {
        int n = wt_stream_write(p->out, data, len);
        if (n < 0) return;
        data += n, len -= (size_t)n;
    }
    if (len) {
        uint8_t *h = (uint8_t *)realloc(p->held, p->held_len + len);
        if (!h) {
            wt_stream_reset(p->out, 0);
            return;
        }
        memcpy(h + p->held_len, data, len);
        p->held = h;
        p->held_len += len;
        wt_stream_pause(p->in, 1); /* until WRITABLE takes what is held */
    }
    if (fin) p->fin = 1;
    if (!p->held_len && p->fin) echo_pipe_flush(p);
}

static void echo_handler(wt_event *ev) {
    echo_pipe *p = ev->stream ? (echo_pipe *)wt_stream_user(ev->stream) : NULL;
    trace(ev);
    switch (ev->type) {
    case WT_EV_SESSION_REQUEST:
        choose_protocol(ev->session);
        break;
    case WT_EV_STREAM_OPEN:
        if (!(p = (echo_pipe *)calloc(1, sizeof *p))) {
            wt_stream_stop_sending(ev->stream, 0);
            break;
        }
        p->in = ev->stream;
        p->refs = 1;
        wt_stream_set_user(ev->stream, p);
        if (wt_stream_is_bidi(ev->stream)) {
            p->out = ev->stream;
        } else if (wt_session_open_stream(ev->session, 0, &p->out) == WT_OK) {
            p->refs++;
            wt_stream_set_user(p->out, p);
        } else {
            p->out = NULL; /* no stream credit: refuse this one */
            wt_stream_stop_sending(ev->stream, 0);
        }
        break;
    case WT_EV_STREAM_DATA:
        if (p && ev->stream == p->in) echo_pipe_data(p, ev->data, ev->len, ev->fin);
        break;
    case WT_EV_STREAM_WRITABLE:
        if (p && ev->stream == p->out && echo_pipe_flush(p)) wt_stream_pause(p->in, 0);
        break;
    case WT_EV_STREAM_RESET: /* the sender gave up: so does the echo */
        if (p && p->out && ev->stream == p->in) wt_stream_reset(p->out, ev->code);
        break;
    case WT_EV_STREAM_STOP_SENDING: /* the reader gave up: stop its source */
        if (p && ev->stream == p->out && p->in != p->out) wt_stream_stop_sending(p->in, ev->code);
        break;
    case WT_EV_STREAM_CLOSED:
        if (p) {
            if (ev->stream == p->out) p->out = NULL;
            if (ev->stream == p->in) p->in = NULL;
            echo_pipe_unref(p);
        }
        break;
    case WT_EV_DATAGRAM:
        wt_session_send_datagram(ev->session, ev->data, ev->len); /* a full queue drops it */
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- /close */
typedef struct close_args {
    uint32_t code;
    char reason[1025];
} close_args;

static void close_handler(wt_event *ev) {
    close_args *a = (close_args *)wt_session_user(ev->session);
    trace(ev);
    if (ev->type == WT_EV_SESSION_REQUEST) {
        long long code = query_number(ev->session, "code", 0xffffffffLL, 0);
        choose_protocol(ev->session);
        if (code < 0 || !(a = (close_args *)calloc(1, sizeof *a))) {
            wt_session_reject(ev->session, 400);
            return;
        }
        a->code = (uint32_t)code;
        if (query_get(ev->session, "reason", a->reason, sizeof a->reason) < 0) a->reason[0] = 0;
        wt_session_set_user(ev->session, a);
    } else if (ev->type == WT_EV_SESSION_OPEN && a) {
        wt_session_close(ev->session, a->code, a->reason);
    } else if (ev->type == WT_EV_SESSION_CLOSED) {
        free(a);
    }
}

/* ---------------------------------------------------------------- /stats */
static void stats_handler(wt_event *ev) {
    if (ev->type == WT_EV_SESSION_REQUEST) choose_protocol(ev->session);
    trace(ev);
    if (ev->type == WT_EV_SESSION_OPEN) {
        wt_stats ds;
        wt_stream *st;
        char json[1024], addr[64], proto[2 * 64 + 1];
        const char *p = wt_session_protocol(ev->session);
        size_t k = 0;
        int n;
        /* a protocol name is printable ASCII: only '"' and '\\' need escaping */
        for (; *p && k + 2 < sizeof proto; p++) {
            if (*p == '"' || *p == '\\') proto[k++] = '\\';
            proto[k++] = *p;
        }
        proto[k] = 0;
        memset(&ds, 0, sizeof ds);
        wt_session_stats_get(ev->session, &ds);
        wt_session_remote_addr(ev->session, addr, sizeof addr);
        n = snprintf(json, sizeof json,
                     "{\"session_id\":%llu,\"path\":\"/stats\",\"remote\":\"%s\",\"protocol\":\"%s\","
                     "\"max_datagram_size\":%zu,\"datagrams_sent\":%llu,\"datagrams_received\":%llu,"
                     "\"datagrams_lost\":%llu,\"datagrams_dropped\":%llu,\"app_sessions\":%zu}",
                     (unsigned long long)wt_session_id(ev->session), addr, proto,
                     wt_session_max_datagram_size(ev->session), (unsigned long long)ds.datagrams_sent,
                     (unsigned long long)ds.datagrams_received, (unsigned long long)ds.datagrams_lost,
                     (unsigned long long)ds.datagrams_dropped, wt_app_session_count(app));
        if (n < 0 || (size_t)n >= sizeof json || wt_session_open_stream(ev->session, 0, &st) != WT_OK) {
            wt_session_close(ev->session, 1, "cannot send the statistics");
            return;
        }
        wt_stream_write(st, json, (size_t)n); /* a few hundred bytes always fit */
        wt_stream_finish(st);
    }
}

/* ---------------------------------------------------------------- devious baton */
enum { DB_DA_YAMN = 1, DB_BRUH = 2, DB_SUS = 3, DB_BORED = 4 };
#define DB_MAX_COUNT 100
#define DB_MAX_MESSAGE (1 << 20) /* a stream's Baton message, padding included */

typedef struct baton_game {
    int active; /* batons not yet back to 0 */
    int count, first;
} baton_game;

/* Baton Message { padding length (i), padding (..), baton (1) } */
static size_t baton_message(uint8_t *out, uint8_t baton, size_t padding) {
    size_t n = 0;
    if (padding < 64) {
        out[n++] = (uint8_t)padding;
    } else { /* padding stays below 16384: a two-byte varint */
        out[n++] = (uint8_t)(0x40 | (padding >> 8));
        out[n++] = (uint8_t)padding;
    }
    memset(out + n, 0, padding);
    n += padding;
    out[n++] = baton;
    return n;
}

/* The baton of a whole message; -1 if malformed. */
static int baton_parse(const uint8_t *p, size_t len) {
    uint64_t pad;
    size_t vl;
    if (len < 1) return -1;
    vl = (size_t)1 << (p[0] >> 6);
    if (len < vl) return -1;
    pad = p[0] & 0x3f;
    for (size_t i = 1; i < vl; i++) pad = pad << 8 | p[i];
    if (pad > len || len - vl != pad + 1) return -1;
    return p[len - 1];
}

/* Sends a baton on st (a new stream when st is NULL: bidi or uni). */
static int baton_send(wt_session *s, wt_stream *st, int bidi, uint8_t baton) {
    uint8_t msg[1100];
    size_t n = baton_message(msg, baton, (size_t)baton * 4); /* some padding, to exercise it */
    if (!st && wt_session_open_stream(s, bidi, &st) != WT_OK) {
        wt_session_close(s, DB_DA_YAMN, "no stream credit for the baton");
        return -1;
    }
    if (st && wt_stream_is_local(st) && wt_stream_is_bidi(st)) wt_stream_read_all(st, DB_MAX_MESSAGE);
    wt_stream_write(st, msg, n); /* at most ~1 KiB: always fits */
    wt_stream_finish(st);
    return 0;
}

static void baton_received(wt_session *s, baton_game *g, wt_stream *st, int value) {
    uint8_t msg[16];
    if (value % 7 == 0) { /* the server echoes these as a datagram too */
        size_t n = baton_message(msg, (uint8_t)value, 0);
        wt_session_send_datagram(s, msg, n);
    }
    if (value == 0) {
        if (--g->active <= 0) wt_session_close(s, 0, NULL);
        return;
    }
    value = (value + 1) % 256;
    if (!wt_stream_is_bidi(st)) baton_send(s, NULL, 1, (uint8_t)value);     /* uni in: new bidi */
    else if (!wt_stream_is_local(st)) baton_send(s, st, 1, (uint8_t)value); /* peer's bidi: on it */
    else baton_send(s, NULL, 0, (uint8_t)value);                            /* ours: new uni */
    if (value == 0) g->active--; /* it ends at the peer, which then closes */
}

static void baton_handler(wt_event *ev) {
    wt_session *s = ev->session;
    baton_game *g = (baton_game *)wt_session_user(s);
    trace(ev);
    switch (ev->type) {
    case WT_EV_SESSION_REQUEST: {
        long long version = query_number(s, "version", 1000, 0);
        long long baton = query_number(s, "baton", 255, 1 + rand() % 255);
        long long count = query_number(s, "count", 1000000, 1);
        choose_protocol(s);
        if (version != 0 || baton < 0 || count < 1 || count > DB_MAX_COUNT ||
            !(g = (baton_game *)calloc(1, sizeof *g))) {
            wt_session_reject(s, 400);
            return;
        }
        g->active = g->count = (int)count;
        g->first = (int)baton;
        wt_session_set_user(s, g);
        break;
    }
    case WT_EV_SESSION_OPEN:
        for (int i = 0; g && i < g->count; i++)
            if (baton_send(s, NULL, 0, (uint8_t)g->first) != 0) break;
        break;
    case WT_EV_STREAM_OPEN:
        wt_stream_read_all(ev->stream, DB_MAX_MESSAGE);
        break;
    case WT_EV_STREAM_DATA: {
        int value = ev->fin ? baton_parse(ev->data, ev->len) : -1;
        if (!ev->fin && ev->len < DB_MAX_MESSAGE) break; /* read_all delivers it whole */
        if (value < 0) {
            wt_session_close(s, DB_BRUH, "malformed baton message");
            break;
        }
        baton_received(s, g, ev->stream, value);
        break;
    }
    case WT_EV_STREAM_STOP_SENDING: /* the library resets our side; the protocol asks WHATEVER (2) */
    case WT_EV_STREAM_RESET:
        if (ev->type == WT_EV_STREAM_RESET && wt_stream_is_bidi(ev->stream)) wt_stream_reset(ev->stream, 2);
        if (g && --g->active <= 0) wt_session_close(s, 0, NULL); /* a reset baton counts as done */
        break;
    case WT_EV_DATAGRAM:
        if (baton_parse(ev->data, ev->len) < 0) wt_session_close(s, DB_BRUH, "malformed baton datagram");
        break;
    case WT_EV_SESSION_CLOSED:
        free(g);
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- main */
int main(int argc, char **argv) {
    wt_cert_config cc = {0};
    wt_app_config cfg = {0};
    uint8_t hash[32];
    char hex[65];
    int i, rv;

    cfg.host = "127.0.0.1";
    cfg.port = 4433;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc) cfg.host = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc) cfg.port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--protocol") && i + 1 < argc && nprefs < MAX_PREFS) prefs[nprefs++] = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--host H] [--port N (-1: any)] [--protocol P]...\n", argv[0]);
            return 2;
        }
    }
    srand((unsigned)time(NULL));
    cc.host = "localhost";
    if (wt_cert_generate(&cc) != WT_OK || wt_cert_sha256("localhost.crt", hash) != WT_OK) return 1;
    wt_hex(hash, 32, hex);
    cfg.cert_file = "localhost.crt";
    cfg.key_file = "localhost.key";
    cfg.stop_on_signals = 1;
    cfg.log.level = getenv("WT_TEST_LOG") ? WT_LOG_DEBUG : WT_LOG_WARN;
    app = wt_app_create(&cfg);
    if (!app || wt_app_route(app, "/echo", echo_handler, NULL) != WT_OK ||
        wt_app_route(app, "/close", close_handler, NULL) != WT_OK ||
        wt_app_route(app, "/stats", stats_handler, NULL) != WT_OK ||
        wt_app_route(app, "/webtransport/devious-baton", baton_handler, NULL) != WT_OK || wt_app_start(app) != WT_OK)
        return 1;
    printf("READY port=%d hash=%s\n", wt_app_port(app), hex);
    fflush(stdout);
    rv = wt_app_run(app);
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
