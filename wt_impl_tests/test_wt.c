/* test_wt.c - wt.h client against wt.h server over loopback UDP. */
#include "harness.h"

static uint8_t pattern_byte(size_t i, unsigned seed) { return (uint8_t)((i * 31u + seed * 7u + (i >> 9)) & 0xff); }

/* ---------------------------------------------------------------- the echo server */
typedef struct echo_stream {
    uint8_t *pend;       /* bytes the send buffer did not take yet */
    size_t pend_len;
    int fin_pending;
} echo_stream;

typedef struct server_ctx {
    int sessions_opened, sessions_closed;
    int requests;
    wt_session *last;
    uint32_t closed_code;
    char closed_reason[1100];
    int closed_error;
    int reject_status;            /* reject requests with this status */
    uint32_t stream_reset_code;   /* last RESET seen */
    uint32_t stop_sending_code;   /* last STOP_SENDING seen */
    int resets, stops;
    int datagrams;
    int streams_opened;
    int open_bidi_on_open;        /* open a server bidi stream and send "hello from server" */
    int pause_all;                /* never read: the slow reader */
    size_t paused_bytes_seen;
    wt_stream *paused_stream;
} server_ctx;

static void echo_flush(wt_stream *st, echo_stream *es) {
    while (es->pend_len) {
        int n = wt_stream_write(st, es->pend, es->pend_len);
        if (n <= 0) return;
        memmove(es->pend, es->pend + n, es->pend_len - (size_t)n);
        es->pend_len -= (size_t)n;
    }
    wt_stream_pause(st, 0); /* may deliver held data right here */
    if (es->fin_pending && es->pend_len == 0) {
        es->fin_pending = 0;
        wt_stream_finish(st);
    }
}

static void server_handler(wt_event *ev) {
    server_ctx *sx = (server_ctx *)ev->user;
    wt_stream *st = ev->stream;
    echo_stream *es = st ? (echo_stream *)wt_stream_user(st) : NULL;
    switch (ev->type) {
    case WT_EV_SESSION_REQUEST:
        sx->requests++;
        if (sx->reject_status) wt_session_reject(ev->session, sx->reject_status);
        break;
    case WT_EV_SESSION_OPEN:
        sx->sessions_opened++;
        sx->last = ev->session;
        if (sx->open_bidi_on_open) {
            wt_stream *out;
            if (wt_session_open_stream(ev->session, 1, &out) == WT_OK) {
                wt_stream_write(out, "hello from server", 17);
                wt_stream_finish(out);
            }
        }
        break;
    case WT_EV_SESSION_CLOSED:
        sx->sessions_closed++;
        sx->closed_code = ev->code;
        sx->closed_error = ev->error;
        snprintf(sx->closed_reason, sizeof sx->closed_reason, "%.*s", (int)ev->reason_len, ev->reason);
        if (sx->last == ev->session) sx->last = NULL;
        break;
    case WT_EV_STREAM_OPEN:
        sx->streams_opened++;
        if (sx->pause_all) {
            wt_stream_pause(st, 1);
            sx->paused_stream = st;
            break;
        }
        es = (echo_stream *)calloc(1, sizeof *es);
        wt_stream_set_user(st, es);
        if (!wt_stream_is_bidi(st)) wt_stream_read_all(st, 1 << 20);
        break;
    case WT_EV_STREAM_DATA:
        if (!es) break;
        if (!wt_stream_is_bidi(st)) {
            /* a whole uni stream: answer on a uni stream of our own */
            wt_stream *out;
            if (ev->fin && wt_session_open_stream(ev->session, 0, &out) == WT_OK) {
                wt_stream_write(out, ev->data, ev->len);
                wt_stream_finish(out);
            }
            break;
        }
        if (ev->len) {
            int n = es->pend_len ? 0 : wt_stream_write(st, ev->data, ev->len);
            if (n < 0) n = 0;
            if ((size_t)n < ev->len) {
                es->pend = (uint8_t *)realloc(es->pend, es->pend_len + ev->len - (size_t)n);
                memcpy(es->pend + es->pend_len, ev->data + n, ev->len - (size_t)n);
                es->pend_len += ev->len - (size_t)n;
                wt_stream_pause(st, 1); /* backpressure: read no more until it drains */
            }
        }
        if (ev->fin) {
            if (es->pend_len) es->fin_pending = 1;
            else wt_stream_finish(st);
        }
        break;
    case WT_EV_STREAM_WRITABLE:
        if (es) echo_flush(st, es);
        break;
    case WT_EV_STREAM_RESET:
        sx->resets++;
        sx->stream_reset_code = ev->code;
        break;
    case WT_EV_STREAM_STOP_SENDING:
        sx->stops++;
        sx->stop_sending_code = ev->code;
        break;
    case WT_EV_STREAM_CLOSED:
        if (es) {
            free(es->pend);
            free(es);
            wt_stream_set_user(st, NULL);
        }
        if (sx->paused_stream == st) sx->paused_stream = NULL;
        break;
    case WT_EV_DATAGRAM:
        sx->datagrams++;
        {
            uint8_t buf[1500];
            size_t n = ev->len < sizeof buf - 6 ? ev->len : sizeof buf - 6;
            memcpy(buf, "ECHO: ", 6);
            memcpy(buf + 6, ev->data, n);
            wt_session_send_datagram(ev->session, buf, n + 6 <= wt_session_max_datagram_size(ev->session)
                                                           ? n + 6 : wt_session_max_datagram_size(ev->session));
        }
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- the client side */
#define MAX_XFER 128
typedef struct xfer {
    wt_stream *st;
    size_t total, sent, received;
    unsigned seed;
    int done, bad, finished;
} xfer;

typedef struct client_ctx {
    int opened, closed, refused_status, close_error;
    uint32_t close_code;
    char close_reason[1100];
    wt_session *s;
    xfer x[MAX_XFER];
    int nx, ndone;
    int streams_in, uni_in_done;
    char uni_in[256];
    size_t uni_in_len;
    int datagrams_in;
    char dgram[256];
    size_t dgram_len;
    uint32_t reset_code, stop_code;
    int resets, stops, stream_closed;
    int drained;
} client_ctx;

static void xfer_pump(xfer *x) {
    uint8_t buf[16384];
    while (x->sent < x->total) {
        size_t n = x->total - x->sent, i;
        int w;
        if (n > sizeof buf) n = sizeof buf;
        for (i = 0; i < n; i++) buf[i] = pattern_byte(x->sent + i, x->seed);
        w = wt_stream_write(x->st, buf, n);
        if (w <= 0) return;
        x->sent += (size_t)w;
    }
    if (!x->finished) {
        x->finished = 1;
        wt_stream_finish(x->st);
    }
}

static xfer *client_find(client_ctx *cx, wt_stream *st) {
    int i;
    for (i = 0; i < cx->nx; i++)
        if (cx->x[i].st == st) return &cx->x[i];
    return NULL;
}

static void client_handler(wt_event *ev) {
    client_ctx *cx = (client_ctx *)ev->user;
    xfer *x = ev->stream ? client_find(cx, ev->stream) : NULL;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        cx->opened = 1;
        cx->s = ev->session;
        break;
    case WT_EV_SESSION_CLOSED:
        cx->closed = 1;
        cx->close_error = ev->error;
        cx->refused_status = ev->status;
        cx->close_code = ev->code;
        snprintf(cx->close_reason, sizeof cx->close_reason, "%.*s", (int)ev->reason_len, ev->reason);
        cx->s = NULL;
        break;
    case WT_EV_SESSION_DRAINING:
        cx->drained++;
        break;
    case WT_EV_STREAM_OPEN:
        cx->streams_in++;
        wt_stream_read_all(ev->stream, 4096);
        break;
    case WT_EV_STREAM_DATA:
        if (x) {
            size_t i;
            for (i = 0; i < ev->len; i++)
                if (ev->data[i] != pattern_byte(x->received + i, x->seed)) x->bad = 1;
            x->received += ev->len;
            if (ev->fin) {
                x->done = 1;
                cx->ndone++;
            }
        } else if (ev->fin) {
            memcpy(cx->uni_in, ev->data, ev->len < sizeof cx->uni_in ? ev->len : sizeof cx->uni_in);
            cx->uni_in_len = ev->len;
            cx->uni_in_done++;
        }
        break;
    case WT_EV_STREAM_WRITABLE:
        if (x) xfer_pump(x);
        break;
    case WT_EV_STREAM_RESET:
        cx->resets++;
        cx->reset_code = ev->code;
        break;
    case WT_EV_STREAM_STOP_SENDING:
        cx->stops++;
        cx->stop_code = ev->code;
        break;
    case WT_EV_STREAM_CLOSED:
        cx->stream_closed++;
        if (x) x->st = NULL;
        break;
    case WT_EV_DATAGRAM:
        cx->datagrams_in++;
        memcpy(cx->dgram, ev->data, ev->len < sizeof cx->dgram ? ev->len : sizeof cx->dgram);
        cx->dgram_len = ev->len;
        break;
    default:
        break;
    }
}

static int client_open(harness *h, client_ctx *cx, const char *path) {
    char url[200];
    memset(cx, 0, sizeof *cx);
    snprintf(url, sizeof url, "%s%s", h->url, path);
    if (wt_client_connect(h->client, url, client_handler, cx, NULL) != WT_OK) return -1;
    harness_run(h, &cx->opened, 5000);
    return cx->opened ? 0 : -1;
}

static xfer *client_xfer(client_ctx *cx, size_t total, unsigned seed) {
    xfer *x = &cx->x[cx->nx];
    if (cx->nx >= MAX_XFER || wt_session_open_stream(cx->s, 1, &x->st) != WT_OK) return NULL;
    cx->nx++;
    x->total = total;
    x->seed = seed;
    xfer_pump(x);
    return x;
}

/* A server with one route on a free port, and the pinned client. */
static int route_setup(harness *h, const char *path, wt_handler fn, void *user, const wt_limits *server_lim) {
    if (harness_start_ex(h, server_lim, NULL, NULL) != 0) return -1;
    if (wt_app_route(h->app, path, fn, user) != WT_OK) return -1;
    return harness_listen(h);
}

static int server_setup(harness *h, server_ctx *sx, const wt_limits *sl, const wt_limits *cl) {
    memset(sx, 0, sizeof *sx);
    if (harness_start_ex(h, sl, cl, NULL) != 0) return -1;
    if (wt_app_route(h->app, "/echo", server_handler, sx) != WT_OK) return -1;
    return harness_listen(h);
}

/* ---------------------------------------------------------------- tests */
WT_TEST(wt_session_open_and_bidi_echo_1_byte) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *x;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo?x=1") == 0);
    CHECK_EQ_INT(sx.sessions_opened, 1);
    CHECK_EQ_INT(sx.requests, 1);
    REQUIRE(sx.last != NULL);
    CHECK(strcmp(wt_session_path(sx.last), "/echo?x=1") == 0);
    {
        char addr[64];
        CHECK(wt_session_remote_addr(sx.last, addr, sizeof addr) > 0);
        CHECK(strncmp(addr, "127.0.0.1:", 10) == 0);
        /* a wt.h client picks the latest dialect from a wt.h server's SETTINGS */
        CHECK_EQ_INT(wt_session_dialect(sx.last), WT_DIALECT_LATEST);
        CHECK(wt_session_flow_control(sx.last));
        CHECK(strcmp(wt_session_header(sx.last, ":protocol"), "webtransport-h3") == 0);
        CHECK(wt_session_header(sx.last, "sec-webtransport-http3-draft02") == NULL);
    }
    x = client_xfer(&cx, 1, 1);
    REQUIRE(x != NULL);
    harness_run(&h, &x->done, 5000);
    CHECK(x->done);
    CHECK_EQ_INT(x->received, 1);
    CHECK(!x->bad);
    harness_stop(&h);
}

WT_TEST(wt_session_rejected_404_and_by_handler) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    char url[200];
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    memset(&cx, 0, sizeof cx);
    snprintf(url, sizeof url, "%s/nowhere", h.url);
    REQUIRE(wt_client_connect(h.client, url, client_handler, &cx, NULL) == WT_OK);
    harness_run(&h, &cx.closed, 5000);
    CHECK(cx.closed);
    CHECK(!cx.opened);
    CHECK_EQ_INT(cx.close_error, WT_ERR_REFUSED);
    CHECK_EQ_INT(cx.refused_status, 404);
    CHECK_EQ_INT(sx.requests, 0);
    /* a handler may refuse with its own status */
    sx.reject_status = 403;
    memset(&cx, 0, sizeof cx);
    snprintf(url, sizeof url, "%s/echo", h.url);
    REQUIRE(wt_client_connect(h.client, url, client_handler, &cx, NULL) == WT_OK);
    harness_run(&h, &cx.closed, 5000);
    CHECK_EQ_INT(cx.refused_status, 403);
    CHECK_EQ_INT(sx.requests, 1);
    CHECK_EQ_INT(sx.sessions_closed, 1); /* the handler saw REQUEST, so it gets CLOSED */
    CHECK_EQ_INT(sx.closed_error, WT_ERR_REFUSED);
    harness_stop(&h);
}

WT_TEST(wt_bidi_echo_64k_and_16m) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *a, *b;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    a = client_xfer(&cx, 64 * 1024, 2);
    b = client_xfer(&cx, 16 * 1024 * 1024, 3);
    REQUIRE(a && b);
    harness_run(&h, &a->done, 10000);
    harness_run(&h, &b->done, 60000);
    CHECK(a->done && b->done);
    CHECK_EQ_INT(a->received, 64 * 1024);
    CHECK_EQ_INT(b->received, 16 * 1024 * 1024);
    CHECK(!a->bad && !b->bad);
    /* bulk data went out in UDP GSO batches (Linux loopback has GSO),
       unless compiled out (WT_NO_GSO) */
    CHECK_EQ_INT(h.app->ep.socks[0].gso, WT__HAVE_GSO ? 1 : 0);
    harness_stop(&h);
}

WT_TEST(wt_100_concurrent_bidi_streams) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    int i, want = 100;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    for (i = 0; i < want; i++) REQUIRE(client_xfer(&cx, 1000 + (size_t)i * 97, (unsigned)i) != NULL);
    RUN_UNTIL(h.loop, cx.ndone == want, 2 * HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(cx.ndone, want);
    for (i = 0; i < cx.nx; i++) {
        CHECK(!cx.x[i].bad);
        CHECK_EQ_INT(cx.x[i].received, cx.x[i].total);
    }
    harness_stop(&h);
}

WT_TEST(wt_uni_streams_both_directions) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_stream *u;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    REQUIRE(wt_session_open_stream(cx.s, 0, &u) == WT_OK);
    CHECK(!wt_stream_is_bidi(u) && wt_stream_is_local(u));
    CHECK_EQ_INT(wt_stream_write(u, "one-way ticket", 14), 14);
    CHECK_EQ_INT(wt_stream_finish(u), WT_OK);
    harness_run(&h, &cx.uni_in_done, 5000);
    CHECK_EQ_INT(cx.uni_in_done, 1);
    CHECK_EQ_INT(cx.streams_in, 1);
    CHECK(cx.uni_in_len == 14 && memcmp(cx.uni_in, "one-way ticket", 14) == 0);
    harness_stop(&h);
}

WT_TEST(wt_server_initiated_bidi_stream) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    sx.open_bidi_on_open = 1;
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    harness_run(&h, &cx.uni_in_done, 5000);
    CHECK_EQ_INT(cx.streams_in, 1);
    CHECK(cx.uni_in_len == 17 && memcmp(cx.uni_in, "hello from server", 17) == 0);
    harness_stop(&h);
}

WT_TEST(wt_datagrams_both_ways) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    size_t max;
    uint8_t big[2000];
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    max = wt_session_max_datagram_size(cx.s);
    CHECK(max >= 1000 && max < 1500);
    CHECK_EQ_INT(wt_session_send_datagram(cx.s, "ping", 4), WT_OK);
    harness_run(&h, &cx.datagrams_in, 5000);
    CHECK_EQ_INT(sx.datagrams, 1);
    CHECK(cx.dgram_len == 10 && memcmp(cx.dgram, "ECHO: ping", 10) == 0);
    memset(big, 'x', sizeof big);
    CHECK_EQ_INT(wt_session_send_datagram(cx.s, big, max + 1), WT_ERR_TOO_BIG);
    CHECK_EQ_INT(wt_session_send_datagram(cx.s, big, max), WT_OK);
    cx.datagrams_in = 0;
    harness_run(&h, &cx.datagrams_in, 5000);
    CHECK_EQ_INT(sx.datagrams, 2);
    harness_stop(&h);
}

WT_TEST(wt_reset_and_stop_sending_codes_reach_the_peer) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_stream *a, *b;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    REQUIRE(wt_session_open_stream(cx.s, 1, &a) == WT_OK);
    REQUIRE(wt_session_open_stream(cx.s, 1, &b) == WT_OK);
    wt_stream_write(a, "x", 1);
    wt_stream_write(b, "y", 1);
    REQUIRE_SOON(&h, sx.streams_opened == 2); /* both reach the server before they are cut */
    CHECK_EQ_INT(wt_stream_reset(a, 0xdeadbeef), WT_OK);
    CHECK_EQ_INT(wt_stream_stop_sending(b, 42), WT_OK);
    CHECK_SOON(&h, sx.resets == 1);
    CHECK(sx.stream_reset_code == 0xdeadbeef);
    /* the server answered STOP_SENDING by resetting with the same code */
    CHECK_SOON(&h, cx.resets == 1);
    CHECK_EQ_INT(cx.reset_code, 42);
#if NGTCP2_VERSION_NUM >= 0x011800
    CHECK_EQ_INT(sx.stops, 1); /* and told its application */
    CHECK_EQ_INT(sx.stop_sending_code, 42);
#else
    CHECK_EQ_INT(sx.stops, 0); /* older ngtcp2 resets silently: no event (see the manual) */
#endif
    harness_stop(&h);
}

WT_TEST(wt_close_code_and_reason_both_directions) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    char reason[1100];
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    /* client closes */
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    CHECK_EQ_INT(wt_session_close(cx.s, 7, "bye from client"), WT_OK);
    CHECK(!cx.closed); /* no handler runs inside a call: CLOSED comes from the loop */
    CHECK(harness_run(&h, &cx.closed, 5000));
    harness_run(&h, &sx.sessions_closed, 5000);
    CHECK_EQ_INT(sx.closed_code, 7);
    CHECK(strcmp(sx.closed_reason, "bye from client") == 0);
    CHECK_EQ_INT(sx.closed_error, WT_OK);
    /* server closes */
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    REQUIRE(sx.last != NULL);
    memset(reason, 'r', 1025);
    reason[1025] = 0;
    CHECK_EQ_INT(wt_session_close(sx.last, 1, reason), WT_ERR_TOO_BIG); /* 1025 bytes */
    reason[1024] = 0;
    CHECK_EQ_INT(wt_session_close(sx.last, 0xfffffffe, reason), WT_OK);
    harness_run(&h, &cx.closed, 5000);
    CHECK_EQ_INT(cx.close_error, WT_OK);
    CHECK(cx.close_code == 0xfffffffe);
    CHECK_EQ_INT(strlen(cx.close_reason), 1024);
    harness_stop(&h);
}

WT_TEST(wt_several_sessions_on_one_connection) {
    harness h;
    server_ctx sx;
    client_ctx c1, c2, c3;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &c1, "/echo") == 0);
    REQUIRE(client_open(&h, &c2, "/echo") == 0);
    REQUIRE(client_open(&h, &c3, "/echo") == 0);
    CHECK_EQ_INT(sx.sessions_opened, 3);
    CHECK_EQ_INT(wt_app_session_count(h.app), 3);
    CHECK(c1.s->conn == c2.s->conn && c2.s->conn == c3.s->conn);
    CHECK(wt_session_id(c1.s) != wt_session_id(c2.s));
    /* traffic on each is kept apart */
    {
        xfer *a = client_xfer(&c1, 5000, 11), *b = client_xfer(&c2, 7000, 12);
        REQUIRE(a && b);
        CHECK_EQ_INT(wt_session_send_datagram(c3.s, "three", 5), WT_OK);
        harness_run(&h, &a->done, 5000);
        harness_run(&h, &b->done, 5000);
        harness_run(&h, &c3.datagrams_in, 5000);
        CHECK(a->done && !a->bad && b->done && !b->bad);
        CHECK_EQ_INT(c1.datagrams_in + c2.datagrams_in, 0);
        CHECK_EQ_INT(c3.datagrams_in, 1);
    }
    wt_session_close(c2.s, 2, "only me");
    harness_run(&h, &sx.sessions_closed, 5000);
    CHECK_EQ_INT(sx.sessions_closed, 1);
    CHECK(!c1.closed && !c3.closed);
    CHECK_EQ_INT(wt_app_session_count(h.app), 2);
    harness_stop(&h);
}

/* Counts live heap bytes through the allocator hook. */
typedef struct counting_alloc {
    size_t live, peak;
} counting_alloc;

static void *count_malloc(size_t n, void *u) {
    counting_alloc *ca = (counting_alloc *)u;
    size_t *p = (size_t *)malloc(n + sizeof(size_t) * 2);
    if (!p) return NULL;
    p[0] = n;
    ca->live += n;
    if (ca->live > ca->peak) ca->peak = ca->live;
    return p + 2;
}

static void count_free(void *ptr, void *u) {
    counting_alloc *ca = (counting_alloc *)u;
    size_t *p;
    if (!ptr) return;
    p = (size_t *)ptr - 2;
    ca->live -= p[0];
    free(p);
}

static void *count_realloc(void *ptr, size_t n, void *u) {
    counting_alloc *ca = (counting_alloc *)u;
    size_t *p, old;
    if (!ptr) return count_malloc(n, u);
    p = (size_t *)ptr - 2;
    old = p[0];
    p = (size_t *)realloc(p, n + sizeof(size_t) * 2);
    if (!p) return NULL;
    p[0] = n;
    ca->live = ca->live - old + n;
    if (ca->live > ca->peak) ca->peak = ca->live;
    return p + 2;
}

/* The first stream of the server's first connection, or NULL. */
static wt_stream *first_server_stream(harness *h) {
    wt__conn *c = h->app->ep.conns;
    wt_session *s;
    for (s = c ? c->wt.sessions : NULL; s; s = s->next)
        if (s->streams) return s->streams;
    return NULL;
}

typedef struct slow_ctx {
    size_t got;
    int fin;
} slow_ctx;

static void slow_server(wt_event *ev) {
    slow_ctx *sc = (slow_ctx *)ev->user;
    if (ev->type == WT_EV_STREAM_OPEN) {
        wt_stream_pause(ev->stream, 1);
        wt_stream_set_user(ev->stream, ev->stream);
    } else if (ev->type == WT_EV_STREAM_DATA) {
        sc->got += ev->len;
        if (ev->fin) sc->fin = 1;
    }
}

WT_TEST(wt_slow_reader_bounds_memory) {
    harness h;
    client_ctx cx;
    slow_ctx sc;
    counting_alloc ca = {0, 0};
    wt_allocator al;
    wt_limits lim;
    xfer *x;
    wt_stream *server_st = NULL;
    const size_t total = 64u * 1024 * 1024;
    memset(&sc, 0, sizeof sc);
    memset(&lim, 0, sizeof lim);
    lim.stream_window = 256 * 1024;
    lim.stream_send_buffer = 256 * 1024;
    al.malloc_fn = count_malloc;
    al.realloc_fn = count_realloc;
    al.free_fn = count_free;
    al.user = &ca;
    REQUIRE(harness_start_ex(&h, &lim, &lim, &al) == 0);
    REQUIRE(wt_app_route(h.app, "/slow", slow_server, &sc) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    REQUIRE(client_open(&h, &cx, "/slow") == 0);
    x = client_xfer(&cx, total, 9);
    REQUIRE(x != NULL);
    /* offer 64 MiB to a reader that does not read, until both sides are
       full: the server holds its whole stream window, the client's send
       buffer is full of what the window does not let through */
    RUN_UNTIL(h.loop, (server_st = first_server_stream(&h)) != NULL && server_st->rx.len + 16 >= lim.stream_window &&
                      x->st->tx.unsent > 0, HARNESS_DEADLINE_MS);
    REQUIRE(server_st != NULL);
    CHECK(server_st->rx.len + 16 >= lim.stream_window);
    CHECK(server_st->rx.len <= lim.stream_window); /* the server holds at most its stream window */
    CHECK(x->st->tx.unsent > 0); /* and the client has more it may not send */
    CHECK(x->sent <= lim.stream_window + lim.stream_send_buffer); /* the sender was held back */
    CHECK(wt_stream_send_buffered(x->st) <= lim.stream_send_buffer);
    CHECK(ca.peak < 6u * 1024 * 1024);
    CHECK_EQ_INT(sc.got, 0);
    /* the reader wakes up: everything arrives */
    REQUIRE(wt_stream_pause(server_st, 0) == WT_OK);
    harness_run(&h, &sc.fin, 30000);
    CHECK(sc.fin);
    CHECK_EQ_INT(sc.got, total);
    CHECK(ca.peak < 6u * 1024 * 1024);
    harness_stop(&h);
    CHECK_EQ_INT(ca.live, 0); /* the client freed everything it allocated */
}

/* ---------------------------------------------------------------- more behaviour */
static wt_client *second_client(harness *h, const wt_client_config *base) {
    wt_client_config cc = *base;
    cc.loop = h->loop;
    cc.log.fn = harness_quiet_log;
    cc.log.level = WT_LOG_DEBUG;
    return wt_client_create(&cc);
}

static int connect_with(harness *h, wt_client *cl, client_ctx *cx, const char *url) {
    memset(cx, 0, sizeof *cx);
    if (wt_client_connect(cl, url, client_handler, cx, NULL) != WT_OK) return -1;
    RUN_UNTIL(h->loop, cx->opened || cx->closed, HARNESS_DEADLINE_MS);
    return cx->opened ? 0 : -1;
}

WT_TEST(wt_request_headers_origin_and_authority) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_client_config cc;
    wt_client *cl;
    const char *hdrs[] = {"x-token", "abc123", "user-agent", "wt-test", NULL};
    char url[200];
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    cc.origin = "https://app.example";
    cc.headers = hdrs;
    cl = second_client(&h, &cc);
    REQUIRE(cl != NULL);
    snprintf(url, sizeof url, "%s/echo", h.url);
    REQUIRE(connect_with(&h, cl, &cx, url) == 0);
    REQUIRE(sx.last != NULL);
    CHECK(strcmp(wt_session_origin(sx.last), "https://app.example") == 0);
    CHECK(strcmp(wt_session_header(sx.last, "x-token"), "abc123") == 0);
    CHECK(strcmp(wt_session_header(sx.last, "user-agent"), "wt-test") == 0);
    CHECK(wt_session_header(sx.last, "nope") == NULL);
    {
        char want[64];
        snprintf(want, sizeof want, "127.0.0.1:%d", h.port);
        CHECK(strcmp(wt_session_authority(sx.last), want) == 0);
    }
    CHECK(wt_session_header_count(sx.last) >= 4); /* + origin, sec-webtransport-http3-draft02 */
    wt_client_destroy(cl);
    harness_stop(&h);
}

WT_TEST(wt_client_verifies_the_server) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_client_config cc;
    wt_client *cl;
    char url[200], dir[64], other_crt[128], other_key[128];
    uint8_t wrong_pin[32];
    wt_cert_config gc;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    snprintf(url, sizeof url, "%s/echo", h.url);
    /* a CA file: the self-signed certificate is its own CA; 127.0.0.1 is in its SAN */
    memset(&cc, 0, sizeof cc);
    cc.ca_file = harness_crt;
    REQUIRE((cl = second_client(&h, &cc)) != NULL);
    CHECK(connect_with(&h, cl, &cx, url) == 0);
    wt_client_destroy(cl);
    /* a wrong pin fails with WT_ERR_CERT */
    memcpy(wrong_pin, harness_pin, 32);
    wrong_pin[5] ^= 1;
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = wrong_pin;
    REQUIRE((cl = second_client(&h, &cc)) != NULL);
    CHECK(connect_with(&h, cl, &cx, url) != 0);
    CHECK(cx.closed);
    CHECK_EQ_INT(cx.close_error, WT_ERR_CERT);
    CHECK_EQ_INT(sx.sessions_opened, 1);
    wt_client_destroy(cl);
    /* a CA that did not sign the server's certificate fails the handshake */
    REQUIRE(wt_test_tmpdir(dir, sizeof dir) == 0);
    snprintf(other_crt, sizeof other_crt, "%s/o.pem", dir);
    snprintf(other_key, sizeof other_key, "%s/ok.pem", dir);
    memset(&gc, 0, sizeof gc);
    gc.cert_file = other_crt;
    gc.key_file = other_key;
    REQUIRE(wt_cert_generate(&gc) == WT_OK);
    memset(&cc, 0, sizeof cc);
    cc.ca_file = other_crt;
    REQUIRE((cl = second_client(&h, &cc)) != NULL);
    CHECK(connect_with(&h, cl, &cx, url) != 0);
    CHECK(cx.closed);
    CHECK(cx.close_error == WT_ERR_TLS || cx.close_error == WT_ERR_CERT);
    wt_client_destroy(cl);
    unlink(other_crt);
    unlink(other_key);
    rmdir(dir);
    /* no verification mode given at all is an error, not a silent insecure client */
    memset(&cc, 0, sizeof cc);
    cc.log.fn = harness_quiet_log;
    CHECK(wt_client_create(&cc) == NULL);
    CHECK_EQ_INT(sx.sessions_opened, 1);
    harness_stop(&h);
}

WT_TEST(wt_max_connections_refuses_quickly) {
    harness h;
    server_ctx sx;
    client_ctx c1, c2;
    wt_limits lim;
    wt_client_config cc;
    wt_client *cl;
    char url[200];
    uint64_t t0;
    memset(&lim, 0, sizeof lim);
    lim.max_connections = 1;
    REQUIRE(server_setup(&h, &sx, &lim, NULL) == 0);
    REQUIRE(client_open(&h, &c1, "/echo") == 0);
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    REQUIRE((cl = second_client(&h, &cc)) != NULL);
    snprintf(url, sizeof url, "%s/echo", h.url);
    t0 = wt_loop_now_ms(h.loop);
    CHECK(connect_with(&h, cl, &c2, url) != 0);
    CHECK(c2.closed);
    CHECK(wt_loop_now_ms(h.loop) - t0 < 2000); /* refused, not timed out */
    CHECK(!c1.closed);
    wt_client_destroy(cl);
    harness_stop(&h);
}

WT_TEST(wt_drain_reaches_the_peer) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *x;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    REQUIRE(sx.last != NULL);
    CHECK_EQ_INT(wt_session_drain(sx.last), WT_OK);
    CHECK_SOON(&h, cx.drained); /* the public event, WT_EV_SESSION_DRAINING */
    CHECK_EQ_INT(cx.drained, 1);
    /* draining is advice: the session stays open and carries traffic */
    CHECK(!cx.closed);
    x = client_xfer(&cx, 1000, 4);
    REQUIRE(x != NULL);
    CHECK_SOON(&h, x->done);
    CHECK(!x->bad && !cx.closed);
    harness_stop(&h);
}

WT_TEST(wt_datagram_send_queue_is_bounded) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_limits lim;
    int i, ok = 0, full = 0;
    memset(&lim, 0, sizeof lim);
    lim.datagram_queue = 8;
    REQUIRE(server_setup(&h, &sx, NULL, &lim) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    for (i = 0; i < 20; i++) {
        int rv = wt_session_send_datagram(cx.s, "d", 1);
        if (rv == WT_OK) ok++;
        else if (rv == WT_ERR_WOULDBLOCK) full++;
    }
    CHECK_EQ_INT(ok, 8);
    CHECK_EQ_INT(full, 12);
    harness_run(&h, &cx.datagrams_in, 3000);
    CHECK(cx.datagrams_in > 0);
    CHECK_EQ_INT(wt_session_send_datagram(cx.s, "d", 1), WT_OK); /* the queue drained */
    harness_stop(&h);
}

#include <poll.h>
WT_TEST(wt_runs_inside_a_foreign_poll_loop) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    char url[200];
    xfer *x;
    uint64_t end;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    snprintf(url, sizeof url, "%s/echo", h.url);
    memset(&cx, 0, sizeof cx);
    REQUIRE(wt_client_connect(h.client, url, client_handler, &cx, NULL) == WT_OK);
    /* the application owns the loop: descriptors + timeout + process. It
       never waits longer than 100 ms and gives up at a deadline, so a
       failed handshake fails the test instead of hanging it. */
    end = wt_loop_now_ms(h.loop) + HARNESS_DEADLINE_MS;
    while (!cx.closed && (!cx.opened || (cx.nx && !cx.x[0].done)) && wt_loop_now_ms(h.loop) < end) {
        struct pollfd pfd[8];
        int fds[8], n, i, t = wt_loop_timeout(h.loop);
        short ev[8];
        n = wt_loop_pollfds(h.loop, fds, ev, 8);
        REQUIRE(n >= 2 && n <= 8); /* the server's socket and the client's */
        for (i = 0; i < n; i++) pfd[i].fd = fds[i], pfd[i].events = ev[i], pfd[i].revents = 0;
        poll(pfd, (nfds_t)n, t < 0 || t > 100 ? 100 : t);
        REQUIRE(wt_loop_process(h.loop) == WT_OK);
        if (cx.opened && cx.nx == 0) REQUIRE(client_xfer(&cx, 300000, 5) != NULL);
    }
    x = &cx.x[0];
    REQUIRE(cx.opened);
    CHECK(!cx.closed);
    CHECK(x->done && !x->bad && x->received == 300000);
    harness_stop(&h);
}

WT_TEST(wt_key_update_mid_transfer) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *x;
    int rv = -1;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    x = client_xfer(&cx, 4 * 1024 * 1024, 6);
    REQUIRE(x != NULL);
    /* a key update is allowed once the handshake is confirmed */
    RUN_UNTIL(h.loop, cx.s && (rv = ngtcp2_conn_initiate_key_update(cx.s->conn->tp.qc, wt__loop_ns(h.loop))) == 0, HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(rv, 0);
    harness_run(&h, &x->done, 20000);
    CHECK(x->done && !x->bad);
    CHECK_EQ_INT(x->received, 4 * 1024 * 1024);
    harness_stop(&h);
}

WT_TEST(wt_stateless_reset_for_unknown_connection) {
    harness h;
    server_ctx sx;
    int fd;
    struct sockaddr_in to;
    uint8_t pkt[100], back[1500];
    ssize_t n = -1;
    int i;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)h.port);
    to.sin_addr.s_addr = htonl(0x7f000001);
    for (i = 0; i < (int)sizeof pkt; i++) pkt[i] = (uint8_t)(i * 13 + 5);
    pkt[0] = 0x40 | 0x03; /* short header, fixed bit: a 1-RTT packet of a connection it does not know */
    REQUIRE(sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)sizeof pkt);
    RUN_UNTIL(h.loop, (n = recv(fd, back, sizeof back, 0)) >= 0, HARNESS_DEADLINE_MS);
    CHECK(n >= 41 && n < (ssize_t)sizeof pkt); /* shorter than what provoked it */
    CHECK(n > 0 && (back[0] & 0xc0) == 0x40);
    close(fd);
    harness_stop(&h);
}

/* An empty UDP datagram carries no QUIC packet; ngtcp2 asserts on a zero
   length, so one sent to a server's or a client's port by anyone ended the
   process (found by fuzz/server.c). Both drop it and go on. */
WT_TEST(wt_regress_empty_datagram_is_dropped) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *x;
    int fd;
    struct sockaddr_in to;
    wt__conn *c;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(0x7f000001);
    to.sin_port = htons((uint16_t)h.port);
    CHECK(sendto(fd, "", 0, 0, (struct sockaddr *)&to, sizeof to) == 0);
    c = h.client->ep.conns;
    REQUIRE(c != NULL);
    to.sin_port = ((struct sockaddr_in *)&c->tp.sock->local)->sin_port;
    CHECK(sendto(fd, "", 0, 0, (struct sockaddr *)&to, sizeof to) == 0);
    x = client_xfer(&cx, 1000, 3);
    REQUIRE(x != NULL);
    harness_run(&h, &x->done, 5000);
    CHECK(x->done && x->received == 1000 && !x->bad);
    CHECK_EQ_INT(sx.sessions_closed, 0);
    close(fd);
    harness_stop(&h);
}

/* Streams may overtake the CONNECT that creates their session: the server
   holds them (within buffered_streams) and hands them over on accept. */
/* A WebTransport stream written by hand, outside any session: it can name a
   session that does not exist yet. */
static wt_stream *raw_wt_stream_ex(wt__conn *c, int bidi, uint64_t session_id, const char *payload, int fin) {
    int64_t id;
    wt_stream *st;
    uint8_t hdr[16];
    size_t n = 0;
    if ((bidi ? ngtcp2_conn_open_bidi_stream(c->tp.qc, &id, NULL) : ngtcp2_conn_open_uni_stream(c->tp.qc, &id, NULL)) != 0)
        return NULL;
    st = wt__stream_new(c, id, bidi, 1);
    st->kind = WT__ST_WT;
    ngtcp2_conn_set_stream_user_data(c->tp.qc, id, st);
    n += wt__varint_put(hdr, bidi ? WT__STREAM_TYPE_BIDI : WT__STREAM_TYPE_UNI);
    n += wt__varint_put(hdr + n, session_id);
    wt__sendbuf_append(NULL, &st->tx, hdr, n);
    wt__sendbuf_append(NULL, &st->tx, payload, strlen(payload));
    st->fin_queued = fin != 0;
    wt__stream_queue_send(st);
    return st;
}

static wt_stream *raw_wt_stream(wt__conn *c, uint64_t session_id, const char *payload) {
    return raw_wt_stream_ex(c, 1, session_id, payload, 0);
}

static void raw_wt_stream_free(wt__conn *c, wt_stream *st) {
    wt__stream_unqueue_send(st);
    ngtcp2_conn_set_stream_user_data(c->tp.qc, st->id, NULL);
    wt__stream_free(st);
}

typedef struct early_ctx {
    int opened, streams, data_ok;
} early_ctx;

static void early_server(wt_event *ev) {
    early_ctx *ec = (early_ctx *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) ec->opened++;
    if (ev->type == WT_EV_STREAM_OPEN) {
        ec->streams++;
        wt_stream_read_all(ev->stream, 100);
    }
    if (ev->type == WT_EV_STREAM_DATA && ev->len == 5 && !memcmp(ev->data, "early", 5)) ec->data_ok++;
}

WT_TEST(wt_streams_before_their_session_are_held_within_a_bound) {
    harness h;
    client_ctx first, second;
    early_ctx ec;
    wt_limits lim;
    wt__conn *c;
    wt_stream *raw[4];
    int64_t next_id;
    int i;
    char url[200];
    memset(&ec, 0, sizeof ec);
    memset(&lim, 0, sizeof lim);
    lim.buffered_streams = 3;
    REQUIRE(route_setup(&h, "/early", early_server, &ec, &lim) == 0);
    REQUIRE(client_open(&h, &first, "/early") == 0); /* the connection, SETTINGS exchanged */
    c = first.s->conn;
    /* the next CONNECT will take the bidi stream ID after four raw streams */
    next_id = (int64_t)first.s->id + 4 * 5;
    harness_log_match = "buffered_streams limit";
    harness_log_hits = 0;
    for (i = 0; i < 4; i++) REQUIRE((raw[i] = raw_wt_stream(c, (uint64_t)next_id, "early")) != NULL);
    /* they reach the server first: three held, one refused */
    RUN_UNTIL(h.loop, h.app->ep.conns->wt.npending >= 3 && harness_log_hits >= 1, HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(ec.streams, 0);
    CHECK_EQ_INT((int)h.app->ep.conns->wt.npending, 3);
    CHECK_EQ_INT(harness_log_hits, 1); /* the fourth was over buffered_streams: reset */
    harness_log_match = NULL;
    memset(&second, 0, sizeof second);
    snprintf(url, sizeof url, "%s/early", h.url);
    REQUIRE(wt_client_connect(h.client, url, client_handler, &second, NULL) == WT_OK);
    harness_run(&h, &second.opened, 5000);
    REQUIRE(second.opened);
    CHECK_EQ_INT((int64_t)second.s->id, next_id);
    CHECK_SOON(&h, ec.streams == 3); /* handed over on accept */
    CHECK_EQ_INT(ec.data_ok, 0);     /* read_all: no FIN was sent on them yet */
    CHECK_EQ_INT((int)h.app->ep.conns->wt.npending, 0);
    /* the held bytes went into the collection: a FIN now delivers them */
    raw[0]->fin_queued = 1;
    wt__stream_queue_send(raw[0]);
    CHECK_SOON(&h, ec.data_ok == 1);
    /* the reset one was closed and freed by the library; these three are ours */
    for (i = 0; i < 3; i++) raw_wt_stream_free(c, raw[i]);
    harness_stop(&h);
}

WT_TEST(wt_ipv6_and_dual_stack) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_app_config ac;
    wt_app *app6;
    char url[200];
    memset(&sx, 0, sizeof sx);
    REQUIRE(harness_start_ex(&h, NULL, NULL, NULL) == 0);
    /* "::" takes IPv6 and IPv4 on one socket */
    memset(&ac, 0, sizeof ac);
    ac.host = "::";
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = h.loop;
    ac.log.fn = harness_quiet_log;
    REQUIRE((app6 = wt_app_create(&ac)) != NULL);
    REQUIRE(wt_app_route(app6, "/echo", server_handler, &sx) == WT_OK);
    REQUIRE(wt_app_start(app6) == WT_OK);
    snprintf(url, sizeof url, "https://[::1]:%d/echo", wt_app_port(app6));
    memset(&cx, 0, sizeof cx);
    REQUIRE(wt_client_connect(h.client, url, client_handler, &cx, NULL) == WT_OK);
    harness_run(&h, &cx.opened, 5000);
    CHECK(cx.opened);
    REQUIRE(sx.last != NULL);
    {
        char addr[80];
        wt_session_remote_addr(sx.last, addr, sizeof addr);
        CHECK(strncmp(addr, "[::1]:", 6) == 0);
    }
    snprintf(url, sizeof url, "https://127.0.0.1:%d/echo", wt_app_port(app6));
    memset(&cx, 0, sizeof cx);
    REQUIRE(wt_client_connect(h.client, url, client_handler, &cx, NULL) == WT_OK);
    harness_run(&h, &cx.opened, 5000);
    CHECK(cx.opened);
    CHECK_EQ_INT(sx.sessions_opened, 2);
    wt_app_destroy(app6);
    harness_stop(&h);
}

/* The routing example's pattern: send on a uni stream, close the session
   when that stream is done. CLOSED must come once per stream. */
typedef struct route_ctx {
    int stream_closed, session_closed;
} route_ctx;

static void route_server(wt_event *ev) {
    route_ctx *rc = (route_ctx *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) {
        wt_stream *st;
        if (wt_session_open_stream(ev->session, 0, &st) == WT_OK) {
            wt_stream_write(st, "{\"status\": \"ok\"}", 16);
            wt_stream_finish(st);
        }
    } else if (ev->type == WT_EV_STREAM_CLOSED) {
        rc->stream_closed++;
        CHECK_EQ_INT(wt_stream_write(ev->stream, "x", 1), WT_ERR_CLOSED);
        wt_session_close(ev->session, 0, NULL);
    } else if (ev->type == WT_EV_SESSION_CLOSED) {
        rc->session_closed++;
    }
}

WT_TEST(wt_close_session_from_stream_closed_event) {
    harness h;
    client_ctx cx;
    route_ctx rc;
    memset(&rc, 0, sizeof rc);
    REQUIRE(route_setup(&h, "/api/v1/status", route_server, &rc, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/api/v1/status") == 0);
    /* SESSION_CLOSED is the server's last event: the counts are final then */
    CHECK_SOON(&h, cx.closed && rc.session_closed);
    CHECK_EQ_INT(cx.uni_in_done, 1);
    CHECK(cx.uni_in_len == 16 && memcmp(cx.uni_in, "{\"status\": \"ok\"}", 16) == 0);
    CHECK_EQ_INT(rc.stream_closed, 1);
    CHECK_EQ_INT(rc.session_closed, 1);
    harness_stop(&h);
}

WT_TEST(wt_handshake_timeout_is_reported) {
    harness h;
    client_ctx cx;
    wt_limits lim;
    wt_client_config cc;
    wt_client *cl;
    int fd, port;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    char url[100];
    REQUIRE(harness_start_ex(&h, NULL, NULL, NULL) == 0);
    /* a UDP port that swallows everything: nobody answers */
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000001);
    REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    getsockname(fd, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);
    memset(&lim, 0, sizeof lim);
    lim.handshake_timeout_ms = 300;
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    cc.limits = lim;
    REQUIRE((cl = second_client(&h, &cc)) != NULL);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", port);
    memset(&cx, 0, sizeof cx);
    REQUIRE(wt_client_connect(cl, url, client_handler, &cx, NULL) == WT_OK);
    harness_run(&h, &cx.closed, 3000);
    CHECK(cx.closed);
    CHECK_EQ_INT(cx.close_error, WT_ERR_TIMEOUT);
    wt_client_destroy(cl);
    close(fd);
    harness_stop(&h);
}

static void stop_now(wt_loop *loop, void *user) {
    (void)user;
    wt_loop_stop(loop);
}

WT_TEST(wt_loop_stop_before_run_is_kept) {
    wt_loop *loop = wt_loop_create(NULL);
    REQUIRE(loop != NULL);
    wt_loop_stop(loop); /* e.g. a signal during setup */
    CHECK_EQ_INT(wt_loop_run(loop), WT_OK); /* returns at once instead of blocking */
    CHECK(wt_loop_timer(loop, 10, stop_now, NULL) > 0);
    CHECK_EQ_INT(wt_loop_run(loop), WT_OK); /* a later run runs again */
    wt_loop_destroy(loop);
}

/* A peer stream whose only frame is an empty one with FIN: ngtcp2 hands
   over no data at all (a NULL pointer), which the demultiplexer passed to
   memcpy (undefined behaviour; the request fuzz target caught it under
   UBSan). It is an HTTP/3 stream that ended before its type: nothing for
   the session, and the connection goes on. */
WT_TEST(wt_regress_peer_stream_of_only_a_fin) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *x;
    wt__conn *c;
    wt_stream *st;
    int64_t id;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    c = h.client->ep.conns;
    REQUIRE(c && ngtcp2_conn_open_uni_stream(c->tp.qc, &id, NULL) == 0);
    st = wt__stream_new(c, id, 0, 1); /* sends what its buffer holds: nothing, then FIN */
    st->kind = WT__ST_WT;
    ngtcp2_conn_set_stream_user_data(c->tp.qc, id, st);
    st->fin_queued = 1;
    wt__stream_queue_send(st);
    REQUIRE_SOON(&h, st->fin_sent);
    x = client_xfer(&cx, 1000, 5);
    REQUIRE(x != NULL);
    harness_run(&h, &x->done, 5000);
    CHECK(x->done && x->received == 1000 && !x->bad);
    CHECK_EQ_INT(sx.streams_opened, 1); /* the echo stream only */
    CHECK_EQ_INT(sx.sessions_closed, 0);
    harness_stop(&h);
}

/* The demultiplexer sees a stream's header one byte per packet, in the
   longest varint forms: it must wait for the whole header, then hand the
   stream to the session, not to nghttp3. */
WT_TEST(wt_stream_header_split_across_packets) {
    harness h;
    client_ctx cx;
    early_ctx ec;
    wt__conn *c;
    wt_stream *st;
    int64_t id;
    uint8_t bytes[32];
    size_t n = 0, i;
    uint64_t sid;
    memset(&ec, 0, sizeof ec);
    REQUIRE(route_setup(&h, "/early", early_server, &ec, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/early") == 0);
    c = cx.s->conn;
    sid = (uint64_t)cx.s->id;
    /* 0x54 in its 2-byte form, the session ID in its 8-byte form */
    bytes[n++] = 0x40;
    bytes[n++] = 0x54;
    bytes[n++] = 0xc0;
    for (i = 1; i < 8; i++) bytes[n++] = (uint8_t)(sid >> (8 * (7 - i)));
    memcpy(bytes + n, "early", 5);
    n += 5;
    REQUIRE(ngtcp2_conn_open_uni_stream(c->tp.qc, &id, NULL) == 0);
    st = wt__stream_new(c, id, 0, 1);
    REQUIRE(st != NULL);
    st->kind = WT__ST_WT;
    ngtcp2_conn_set_stream_user_data(c->tp.qc, id, st);
    for (i = 0; i < n; i++) {
        wt__sendbuf_append(NULL, &st->tx, bytes + i, 1);
        if (i == n - 1) st->fin_queued = 1;
        wt__stream_queue_send(st);
        if (i == n - 1) break; /* the FIN's acknowledgement frees st */
        /* one packet each: the server has acknowledged this byte before the next goes */
        RUN_UNTIL(h.loop, st->tx.stored == 0, HARNESS_DEADLINE_MS);
        CHECK_EQ_INT(st->tx.stored, 0);
        if (i < 9) CHECK_EQ_INT(ec.streams, 0); /* still inside the 10-byte header */
    }
    CHECK_SOON(&h, ec.data_ok);
    CHECK_EQ_INT(ec.streams, 1);
    CHECK_EQ_INT(ec.data_ok, 1);
    /* the stream closes once its FIN is acknowledged: the library frees it */
    harness_stop(&h);
}
/* ---------------------------------------------------------------- regressions
   Each of these reproduced a defect found in review; they now hold the
   fixed behaviour. */

/* R1: ngtcp2 never raises MAX_STREAMS by itself; wt.h never calls
   ngtcp2_conn_extend_max_streams_bidi/uni, so a connection can carry only
   limits.max_streams_bidi peer bidi streams in its whole life. */
WT_TEST(wt_regress_stream_limit_never_extended) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    int i, ok = 0, fail_at = -1;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    for (i = 0; i < 150; i++) { /* more than max_streams_bidi (128) in the connection's life */
        xfer *x;
        /* MAX_STREAMS may still be on its way */
        RUN_UNTIL(h.loop, ngtcp2_conn_get_streams_bidi_left(cx.s->conn->tp.qc) > 0, HARNESS_DEADLINE_MS);
        cx.nx = 0; /* reuse slot 0: one stream at a time */
        memset(&cx.x[0], 0, sizeof cx.x[0]);
        x = client_xfer(&cx, 10, (unsigned)i);
        if (!x) {
            fail_at = i;
            break;
        }
        /* the echo is back and the stream closed on our side (FIN both ways, acknowledged) */
        RUN_UNTIL(h.loop, x->done && !x->st, HARNESS_DEADLINE_MS);
        if (!x->done || x->st) {
            fail_at = i;
            break;
        }
        ok++;
    }
    if (fail_at >= 0) printf("    sequential bidi streams: first failure at #%d\n", fail_at);
    CHECK_EQ_INT(ok, 150);
    harness_stop(&h);
}

/* R2: a peer uni stream that arrives whole (data + FIN) while the
   application has it paused is closed by ngtcp2 at once: the held bytes
   are never delivered and never credited. */
typedef struct pause_ctx {
    int opened, data_events, closed, bytes;
    uint64_t uncredited_at_close;
    wt_stream *st;
} pause_ctx;

static void pause_server(wt_event *ev) {
    pause_ctx *pc = (pause_ctx *)ev->user;
    if (ev->type == WT_EV_STREAM_OPEN) {
        pc->opened++;
        pc->st = ev->stream;
        wt_stream_pause(ev->stream, 1);
    }
    if (ev->type == WT_EV_STREAM_DATA) {
        pc->data_events++;
        pc->bytes += (int)ev->len;
    }
    if (ev->type == WT_EV_STREAM_CLOSED) {
        pc->closed++;
        pc->uncredited_at_close = ev->stream->uncredited;
        if (pc->st == ev->stream) pc->st = NULL;
    }
}

WT_TEST(wt_regress_paused_uni_stream_keeps_data_and_credit) {
    harness h;
    client_ctx cx;
    pause_ctx pc;
    wt_stream *u;
    wt__conn *sc;
    wt_limits sl;
    uint64_t before_max;
    static uint8_t buf[100000];
    memset(&pc, 0, sizeof pc);
    /* a connection window the stream nearly fills: the credit it gives back
       is large enough (over a quarter of the window) that ngtcp2 announces it */
    memset(&sl, 0, sizeof sl);
    sl.conn_window = 128 * 1024;
    REQUIRE(route_setup(&h, "/p", pause_server, &pc, &sl) == 0);
    REQUIRE(client_open(&h, &cx, "/p") == 0);
    sc = cx.s->conn; /* the client's send credit shows what the server gave back */
    before_max = ngtcp2_conn_get_max_data_left(sc->tp.qc);
    REQUIRE(wt_session_open_stream(cx.s, 0, &u) == WT_OK);
    memset(buf, 'z', sizeof buf);
    CHECK_EQ_INT(wt_stream_write(u, buf, sizeof buf), (int)sizeof buf);
    CHECK_EQ_INT(wt_stream_finish(u), WT_OK);
    RUN_UNTIL(h.loop, pc.st && pc.st->transport_closed, HARNESS_DEADLINE_MS);
    REQUIRE(pc.st && pc.st->transport_closed); /* the QUIC stream is done, the app has not read */
    CHECK(ngtcp2_conn_get_max_data_left(sc->tp.qc) < before_max - sizeof buf + 64); /* and not credited */
    CHECK_EQ_INT(pc.closed, 0);
    CHECK_EQ_INT(pc.data_events, 0);
    CHECK_EQ_INT(pc.st->uncredited, sizeof buf); /* held, so no credit given back yet */
    REQUIRE(wt_stream_pause(pc.st, 0) == WT_OK); /* the app reads now: data, FIN, then CLOSED */
    CHECK_EQ_INT(pc.bytes, 0); /* ... from the loop, not inside the call */
    CHECK(harness_run(&h, &pc.closed, 3000));
    CHECK_EQ_INT(pc.bytes, (int)sizeof buf);
    CHECK_EQ_INT(pc.closed, 1);
    CHECK_EQ_INT(pc.uncredited_at_close, 0); /* every byte credited back on delivery */
    /* the credit reaches the client (MAX_DATA), and only once: the client
       may never have more credit than the server's whole window */
    CHECK_SOON(&h, ngtcp2_conn_get_max_data_left(sc->tp.qc) >= before_max);
    CHECK(ngtcp2_conn_get_max_data_left(sc->tp.qc) <= sl.conn_window);
    harness_stop(&h);
}

/* R3: a uni stream that arrives complete before its session is known is
   closed by ngtcp2 while it is PENDING: dropped, never handed over. */
static wt_stream *raw_wt_uni(wt__conn *c, uint64_t session_id, const char *payload) {
    return raw_wt_stream_ex(c, 0, session_id, payload, 1);
}

WT_TEST(wt_regress_uni_stream_before_session_is_lost) {
    harness h;
    client_ctx first, second;
    early_ctx ec;
    wt__conn *c;
    int64_t next_id;
    char url[200];
    memset(&ec, 0, sizeof ec);
    REQUIRE(route_setup(&h, "/early", early_server, &ec, NULL) == 0);
    REQUIRE(client_open(&h, &first, "/early") == 0);
    c = first.s->conn;
    next_id = (int64_t)first.s->id + 4;
    REQUIRE(raw_wt_uni(c, (uint64_t)next_id, "early") != NULL);
    /* held although its QUIC stream is done */
    CHECK_SOON(&h, h.app->ep.conns->wt.npending == 1 && h.app->ep.conns->wt.pending->transport_closed);
    memset(&second, 0, sizeof second);
    snprintf(url, sizeof url, "%s/early", h.url);
    REQUIRE(wt_client_connect(h.client, url, client_handler, &second, NULL) == WT_OK);
    harness_run(&h, &second.opened, 5000);
    REQUIRE(second.opened);
    CHECK_EQ_INT((int64_t)second.s->id, next_id);
    CHECK_SOON(&h, ec.data_ok == 1);
    CHECK_EQ_INT(ec.streams, 1);
    harness_stop(&h);
}

/* R4: the peer resets its CONNECT stream (STOP_SENDING + RESET_STREAM).
   When ngtcp2 closes it, nghttp3_conn_close_stream unschedules the stream
   and then calls stream_close; wt__h3_stream_close -> wt__session_end ->
   nghttp3_conn_resume_stream re-schedules the stream nghttp3 is deleting:
   the scheduler keeps a pointer to a freed nghttp3_stream. */
WT_TEST(wt_regress_connect_stream_reset_reschedules_deleted_stream) {
    harness h;
    server_ctx sx;
    client_ctx cx, cx2;
    wt__conn *cc;
    int i;
    char url[200];
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    cc = cx.s->conn;
    /* what a peer does when it aborts a session: reset its CONNECT stream both ways */
    CHECK_EQ_INT(ngtcp2_conn_shutdown_stream(cc->tp.qc, 0, cx.s->id, 0x10c), 0);
    cc->dirty = 1;
    CHECK_SOON(&h, sx.sessions_closed == 1);
    /* more sessions and traffic on the same connection reuse the freed nghttp3_stream slot */
    for (i = 0; i < 3; i++) {
        xfer *x;
        memset(&cx2, 0, sizeof cx2);
        snprintf(url, sizeof url, "%s/echo", h.url);
        REQUIRE(wt_client_connect(h.client, url, client_handler, &cx2, NULL) == WT_OK);
        REQUIRE_SOON(&h, cx2.opened);
        CHECK(cx2.s->conn == cc);
        REQUIRE((x = client_xfer(&cx2, 5000, 9)) != NULL);
        CHECK_SOON(&h, x->done);
        CHECK(!x->bad);
        CHECK_EQ_INT(wt_session_close(cx2.s, 0, "bye"), WT_OK);
        CHECK_SOON(&h, sx.sessions_closed == 2 + i); /* the server saw it end */
    }
    harness_stop(&h);
}

/* R4b: the same, triggered purely by the peer: the client's own stack is
   told to ignore the stream (DEAD marker) so only the server reacts. */
WT_TEST(wt_regress_peer_resets_connect_stream_server_uaf) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    client_ctx cx2;
    wt__conn *cc;
    xfer *x;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    cc = cx.s->conn;
    ngtcp2_conn_set_stream_user_data(cc->tp.qc, cx.s->id, wt__dead_stream_marker());
    CHECK_EQ_INT(ngtcp2_conn_shutdown_stream(cc->tp.qc, 0, cx.s->id, 0x10c), 0);
    cc->dirty = 1;
    CHECK_SOON(&h, sx.sessions_closed == 1); /* a reset CONNECT stream ends the session */
    /* the server writes again through nghttp3 on that connection: no stale stream */
    REQUIRE(client_open(&h, &cx2, "/echo") == 0);
    CHECK(cx2.s->conn == cc);
    REQUIRE((x = client_xfer(&cx2, 5000, 10)) != NULL);
    CHECK_SOON(&h, x->done);
    CHECK(!x->bad);
    harness_stop(&h);
}

/* R5: the connection-ID table counts tombstones as used and always
   doubles when it rehashes, so it grows with every connection ever made,
   not with the connections alive. Simulated churn: one live connection at
   a time, each with 3 CIDs (ngtcp2 issues more), then freed. */
WT_TEST(wt_regress_cid_table_grows_with_churn) {
    wt__ep ep;
    wt_limits lim;
    static wt__conn fake[2];
    int i, k;
    memset(&lim, 0, sizeof lim);
    REQUIRE(wt__ep_init(&ep, NULL, 1, NULL, NULL, &lim) == WT_OK);
    for (i = 0; i < 50000; i++) {
        wt__conn *c = &fake[i & 1];
        for (k = 0; k < 3; k++) {
            uint8_t cid[16];
            wc_RNG_GenerateBlock(&ep.rng, cid, sizeof cid);
            REQUIRE(wt__cid_add(&ep, cid, sizeof cid, c) == WT_OK);
        }
        wt__cid_remove_conn(&ep, c);
    }
    CHECK(ep.cids_cap <= 1024);
    wt__ep_free(&ep);
}

/* R6: wt_client_destroy from a handler (the lifetime rules do not forbid
   it): ngtcp2_conn_read_pkt is still on the stack. */
static wt_client *destroy_me, *destroy_victim;
static int destroyed;
static void destroying_handler(wt_event *ev) {
    if (ev->type == WT_EV_SESSION_OPEN && destroy_me) {
        wt_client *c = destroy_me;
        destroy_me = NULL;
        wt_client_destroy(c); /* from a handler: must be refused */
        destroyed = 1;
    }
}

WT_TEST(wt_regress_client_destroy_from_handler) {
    harness h;
    server_ctx sx;
    wt_client_config cc;
    char url[200];
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    REQUIRE((destroy_me = second_client(&h, &cc)) != NULL);
    destroy_victim = destroy_me;
    snprintf(url, sizeof url, "%s/echo", h.url);
    REQUIRE(wt_client_connect(destroy_me, url, destroying_handler, NULL, NULL) == WT_OK);
    harness_log_match = "called from a handler or timer";
    harness_log_hits = 0;
    CHECK_SOON(&h, destroyed);
    CHECK_EQ_INT(harness_log_hits, 1); /* refused with an error, not a crash */
    harness_log_match = NULL;
    CHECK_EQ_INT(sx.sessions_closed, 0); /* the client lives on */
    wt_client_destroy(destroy_victim);   /* outside the loop it works */
    CHECK_SOON(&h, sx.sessions_closed == 1); /* and closed its session on the way out */
    harness_stop(&h);
}

/* R7: read_all credits bytes as it collects them; a RESET (or
   STOP_SENDING, or the session ending) credits st->rx.len again. */
typedef struct ra_ctx {
    wt_stream *st;
    int resets, whole;
} ra_ctx;
static void ra_server(wt_event *ev) {
    ra_ctx *rc = (ra_ctx *)ev->user;
    if (ev->type == WT_EV_STREAM_OPEN) {
        rc->st = ev->stream;
        wt_stream_read_all(ev->stream, 1 << 20);
    }
    if (ev->type == WT_EV_STREAM_DATA && ev->fin) rc->whole++;
    if (ev->type == WT_EV_STREAM_RESET) rc->resets++;
    if (ev->type == WT_EV_STREAM_CLOSED && rc->st == ev->stream) rc->st = NULL;
}

WT_TEST(wt_regress_read_all_then_reset_double_credit) {
    harness h;
    client_ctx cx;
    ra_ctx rc;
    wt__conn *cc;
    static uint8_t buf[400000];
    const uint64_t window = 8388608; /* the default conn_window */
    wt_stream *marker;
    int i;
    memset(&rc, 0, sizeof rc);
    REQUIRE(route_setup(&h, "/ra", ra_server, &rc, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/ra") == 0);
    cc = cx.s->conn;
    for (i = 0; i < 20; i++) { /* 8 MB in all: the window is credited back on the way */
        wt_stream *st;
        REQUIRE(wt_session_open_stream(cx.s, 1, &st) == WT_OK);
        REQUIRE(wt_stream_write(st, buf, sizeof buf) == (int)sizeof buf);
        RUN_UNTIL(h.loop, rc.st && rc.st->rx.len == sizeof buf, HARNESS_DEADLINE_MS);
        REQUIRE(rc.st && rc.st->rx.len == sizeof buf);
        CHECK_EQ_INT(wt_stream_reset(st, 7), WT_OK);
        CHECK_SOON(&h, rc.resets == i + 1);
    }
    /* a last round trip: once the marker is acknowledged the client has
       seen every MAX_DATA the server owed it */
    REQUIRE(wt_session_open_stream(cx.s, 1, &marker) == WT_OK);
    CHECK_EQ_INT(wt_stream_write(marker, "m", 1), 1);
    CHECK_EQ_INT(wt_stream_finish(marker), WT_OK);
    CHECK_SOON(&h, rc.whole == 1 && wt_stream_send_buffered(marker) == 0);
    /* credit came back (ngtcp2 holds back at most a quarter of the window)
       and never twice: the client cannot have more than the whole window */
    CHECK(ngtcp2_conn_get_max_data_left(cc->tp.qc) >= window - window / 4 - 4096);
    CHECK(ngtcp2_conn_get_max_data_left(cc->tp.qc) <= window);
    harness_stop(&h);
}

/* R8: handshake_timeout_ms is documented as "QUIC + CONNECT must finish
   within", but only the QUIC handshake is timed: a peer that never sends
   CONNECT keeps its connection (and a max_connections slot). */
WT_TEST(wt_regress_connect_not_covered_by_handshake_timeout) {
    harness h;
    wt_limits lim;
    struct sockaddr_in a;
    wt__conn *raw;
    uint64_t t0;
    memset(&lim, 0, sizeof lim);
    lim.handshake_timeout_ms = 300;
    REQUIRE(route_setup(&h, "/x", server_handler, NULL, &lim) == 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)h.port);
    a.sin_addr.s_addr = htonl(0x7f000001);
    /* a QUIC + HTTP/3 connection with no session on it */
    t0 = wt_loop_now_ms(h.loop);
    raw = wt__conn_client_new(&h.client->ep, (struct sockaddr *)&a, sizeof a, "127.0.0.1", (uint16_t)h.port);
    REQUIRE(raw != NULL);
    /* QUIC is up on the server ... */
    REQUIRE_SOON(&h, h.app->ep.conns && h.app->ep.conns->state == WT__CONN_OPEN);
    /* ... and closed for want of a CONNECT, not before handshake_timeout_ms */
    CHECK_SOON(&h, h.app->ep.nconns == 0);
    CHECK(wt_loop_now_ms(h.loop) - t0 >= lim.handshake_timeout_ms);
    harness_stop(&h);
}

/* R9: a connection in CLOSING or DRAINING keeps dirty = 1 (wt__conn_write
   returns early without clearing it), so wt__ep_expiry_ms answers "now"
   for the whole closing period: the loop spins with a zero poll timeout. */
WT_TEST(wt_regress_closing_connection_spins_the_loop) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_client_config cc;
    wt_client *cl;
    char url[200];
    int closing_passes = 0, zero_timeouts = 0;
    uint64_t end;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    REQUIRE((cl = second_client(&h, &cc)) != NULL);
    snprintf(url, sizeof url, "%s/echo", h.url);
    REQUIRE(connect_with(&h, cl, &cx, url) == 0);
    wt_client_destroy(cl); /* sends CONNECTION_CLOSE: the server conn drains */
    REQUIRE_SOON(&h, h.app->ep.conns && h.app->ep.conns->state >= WT__CONN_CLOSING);
    /* every pass of the loop until the draining period ends */
    end = wt_loop_now_ms(h.loop) + HARNESS_DEADLINE_MS;
    while (h.app->ep.conns && wt_loop_now_ms(h.loop) < end) {
        if (wt_loop_timeout(h.loop) == 0) zero_timeouts++;
        wt_loop_run_once(h.loop, 1000);
        closing_passes++;
    }
    CHECK_EQ_INT((int)h.app->ep.nconns, 0); /* the period ended */
    CHECK(closing_passes >= 1);
    CHECK(zero_timeouts < 5); /* the loop slept until the end of the period instead of spinning */
    harness_stop(&h);
}

/* R10: datagrams are tried only when no stream has anything to send. A
   stream that is blocked by the peer's *connection* window makes
   ngtcp2_conn_writev_stream return 0 (not STREAM_DATA_BLOCKED), the write
   loop breaks, and no datagram leaves until the peer reads. */
typedef struct bulk_ctx {
    wt_session *s;
    int dgrams_sent;
} bulk_ctx;
static void bulk_server(wt_event *ev) {
    bulk_ctx *bc = (bulk_ctx *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) {
        static uint8_t big[1 << 20];
        wt_stream *st;
        bc->s = ev->session;
        if (wt_session_open_stream(ev->session, 0, &st) == WT_OK) wt_stream_write(st, big, sizeof big);
    }
    if (ev->type == WT_EV_SESSION_CLOSED) bc->s = NULL;
}
static void pausing_client(wt_event *ev) {
    if (ev->type == WT_EV_STREAM_OPEN) {
        wt_stream_pause(ev->stream, 1); /* a slow reader */
        return;
    }
    client_handler(ev);
}

WT_TEST(wt_regress_datagrams_starve_behind_connection_blocked_stream) {
    harness h;
    bulk_ctx bc;
    client_ctx cx;
    wt_limits cl;
    char url[200];
    int i;
    wt__conn *sc;
    memset(&bc, 0, sizeof bc);
    memset(&cl, 0, sizeof cl);
    cl.conn_window = 64 * 1024; /* the client's connection window */
    REQUIRE(harness_start_ex(&h, NULL, &cl, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/bulk", bulk_server, &bc) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    memset(&cx, 0, sizeof cx);
    snprintf(url, sizeof url, "%s/bulk", h.url);
    REQUIRE(wt_client_connect(h.client, url, pausing_client, &cx, NULL) == WT_OK);
    harness_run(&h, &cx.opened, 5000);
    REQUIRE(cx.opened && bc.s);
    sc = h.app->ep.conns;
    /* the server fills the client's connection window: no send credit left */
    REQUIRE_SOON(&h, ngtcp2_conn_get_max_data_left(sc->tp.qc) == 0);
    for (i = 0; i < 10; i++)
        if (wt_session_send_datagram(bc.s, "ping", 4) == WT_OK) bc.dgrams_sent++;
    CHECK_EQ_INT(bc.dgrams_sent, 10);
    CHECK_SOON(&h, cx.datagrams_in > 0);
    CHECK_EQ_INT(ngtcp2_conn_get_max_data_left(sc->tp.qc), 0); /* while the stream was still blocked */
    harness_stop(&h);
}

/* R11: wt_session_max_datagram_size uses the configured maximum UDP payload
   (1452), not the current path's (1200 until PMTUD succeeds). */
static size_t r11_max, r11_path;
static void r11_server(wt_event *ev) {
    if (ev->type == WT_EV_SESSION_OPEN) {
        r11_max = wt_session_max_datagram_size(ev->session);
        r11_path = ngtcp2_conn_get_path_max_tx_udp_payload_size(ev->session->conn->tp.qc);
    }
}
WT_TEST(wt_regress_datagram_size_ignores_path_mtu) {
    harness h;
    client_ctx cx;
    REQUIRE(route_setup(&h, "/d", r11_server, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/d") == 0);
    CHECK(r11_max + 40 <= r11_path);
    harness_stop(&h);
}

/* R5b: garbage Initials from the network create and free connections,
   each leaving CID tombstones behind. */
WT_TEST(wt_regress_garbage_initials_grow_cid_table) {
    harness h;
    int fd, i;
    struct sockaddr_in a;
    uint8_t pkt[1200], back[1500];
    ssize_t n = -1;
    size_t cap0;
    unsigned lcg = 7;
    wt_limits sl;
    memset(&sl, 0, sizeof sl);
    sl.retry_threshold = UINT32_MAX; /* every Initial gets a connection: no flood defences */
    sl.max_half_open_per_ip = UINT32_MAX;
    REQUIRE(harness_start_ex(&h, &sl, NULL, NULL) == 0);
    REQUIRE(harness_listen(&h) == 0);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)h.port);
    a.sin_addr.s_addr = htonl(0x7f000001);
    cap0 = h.app->ep.cids_cap;
    for (i = 0; i < 4000; i++) {
        size_t k;
        memset(pkt, 0, sizeof pkt);
        pkt[0] = 0xc0;                      /* long header, Initial */
        pkt[1] = 0, pkt[2] = 0, pkt[3] = 0, pkt[4] = 1; /* QUIC v1 */
        pkt[5] = 8;                         /* DCID length */
        for (k = 0; k < 8; k++) pkt[6 + k] = (uint8_t)(lcg = lcg * 1103515245u + 12345u) >> 0;
        pkt[14] = 8;                        /* SCID length */
        for (k = 0; k < 8; k++) pkt[15 + k] = (uint8_t)(lcg = lcg * 1103515245u + 12345u) >> 0;
        pkt[23] = 0;                        /* token length */
        pkt[24] = 0x44, pkt[25] = 0x97;     /* length 1175 */
        for (k = 26; k < sizeof pkt; k++) pkt[k] = (uint8_t)(lcg = lcg * 1103515245u + 12345u) >> 0;
        sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&a, sizeof a);
        if (i % 64 == 63) wt_loop_run_once(h.loop, 0);
    }
    /* then a version the server does not speak: its Version Negotiation
       answer means every Initial before it was read */
    pkt[1] = 0x1a, pkt[2] = 0x2a, pkt[3] = 0x3a, pkt[4] = 0x4a;
    sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&a, sizeof a);
    RUN_UNTIL(h.loop, (n = recv(fd, back, sizeof back, MSG_DONTWAIT)) >= 0, HARNESS_DEADLINE_MS);
    REQUIRE(n > 5 && (back[0] & 0x80) && !back[1] && !back[2] && !back[3] && !back[4]);
    CHECK_EQ_INT((int)h.app->ep.nconns, 0); /* every garbage connection was dropped */
    CHECK_EQ_INT(h.app->ep.cids_live, 0);
    CHECK(h.app->ep.cids_cap > cap0);       /* the Initials made connections: up to 64 at a time */
    CHECK(h.app->ep.cids_cap <= 4 * cap0); /* bounded by live connections, not by history */
    close(fd);
    harness_stop(&h);
}
/* ---------------------------------------------------------------- regressions, second review */

static int count_streams(wt__conn *c) {
    int n = 0;
    wt_stream *st;
    for (st = c->wt.all_streams; st; st = st->all_next) n++;
    return n;
}

/* ---- A: a paused stream whose peer resets it never ends */
typedef struct rv_pause {
    int opened, resets, closed, data, stop_on_open;
    int most_held;      /* the most streams open at once */
    wt_stream *held[8]; /* the open ones */
    wt_stream *st;
} rv_pause;

static void rv_pause_server(wt_event *ev) {
    rv_pause *p = (rv_pause *)ev->user;
    int i;
    switch (ev->type) {
    case WT_EV_STREAM_OPEN:
        p->opened++;
        if (p->opened - p->closed > p->most_held) p->most_held = p->opened - p->closed;
        p->st = ev->stream;
        for (i = 0; i < 8; i++)
            if (!p->held[i]) {
                p->held[i] = ev->stream;
                break;
            }
        wt_stream_pause(ev->stream, 1);
        break;
    case WT_EV_STREAM_DATA: p->data++; break;
    case WT_EV_STREAM_RESET: p->resets++; break;
    case WT_EV_STREAM_CLOSED:
        p->closed++;
        if (p->st == ev->stream) p->st = NULL;
        for (i = 0; i < 8; i++)
            if (p->held[i] == ev->stream) p->held[i] = NULL;
        break;
    default: break;
    }
}

WT_TEST(wt_regress2_paused_stream_reset_by_peer_never_closes) {
    harness h;
    client_ctx cx;
    rv_pause p;
    wt_stream *u;
    memset(&p, 0, sizeof p);
    REQUIRE(route_setup(&h, "/p", rv_pause_server, &p, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/p") == 0);
    REQUIRE(wt_session_open_stream(cx.s, 0, &u) == WT_OK);
    CHECK_EQ_INT(wt_stream_write(u, "abc", 3), 3);
    REQUIRE_SOON(&h, p.opened == 1);
    CHECK_EQ_INT(wt_stream_reset(u, 5), WT_OK);
    CHECK_SOON(&h, p.resets == 1);
    CHECK_SOON(&h, p.closed == 1); /* both directions are done: CLOSED is due */
    CHECK_SOON(&h, count_streams(h.app->ep.conns) == 0); /* and the stream is freed */
    harness_stop(&h);
}

/* ---- B: a paused stream the app stops reading never ends */
WT_TEST(wt_regress2_paused_stream_stop_sending_never_closes) {
    harness h;
    client_ctx cx;
    rv_pause p;
    wt_stream *u;
    memset(&p, 0, sizeof p);
    REQUIRE(route_setup(&h, "/p", rv_pause_server, &p, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/p") == 0);
    REQUIRE(wt_session_open_stream(cx.s, 0, &u) == WT_OK);
    CHECK_EQ_INT(wt_stream_write(u, "abc", 3), 3);
    CHECK_EQ_INT(wt_stream_finish(u), WT_OK);
    /* the whole stream arrives and is held: the QUIC stream is done */
    REQUIRE_SOON(&h, p.opened == 1 && p.st && p.st->transport_closed);
    CHECK_EQ_INT(p.closed, 0);
    /* the app decides it does not want the data after all */
    CHECK_EQ_INT(wt_stream_stop_sending(p.st, 1), WT_OK);
    CHECK_SOON(&h, p.closed == 1);
    CHECK_EQ_INT(p.data, 0);
    harness_stop(&h);
}

/* ---- C: streams held after the transport closed them do not count
   against max_streams_uni: a peer can make a pausing app hold any number */
WT_TEST(wt_regress2_paused_streams_escape_the_stream_limit) {
    harness h;
    client_ctx cx;
    rv_pause p;
    wt_limits sl;
    ngtcp2_conn *qc;
    int round, i;
    memset(&p, 0, sizeof p);
    memset(&sl, 0, sizeof sl);
    sl.max_streams_uni = 4;
    REQUIRE(route_setup(&h, "/p", rv_pause_server, &p, &sl) == 0);
    REQUIRE(client_open(&h, &cx, "/p") == 0);
    qc = cx.s->conn->tp.qc;
    for (round = 1; round <= 3; round++) {
        /* the slots of the last round's streams came back (MAX_STREAMS) */
        REQUIRE_SOON(&h, ngtcp2_conn_get_streams_uni_left(qc) == 4);
        for (i = 0; i < 4; i++) {
            wt_stream *u;
            REQUIRE(wt_session_open_stream(cx.s, 0, &u) == WT_OK);
            CHECK_EQ_INT(wt_stream_finish(u), WT_OK); /* an empty stream: no flow-control credit involved */
        }
        /* all four acknowledged (closed on our side): the server has them,
           and any slot it gave back would have come with those ACKs */
        REQUIRE_SOON(&h, cx.stream_closed == 4 * round && p.opened == 4 * round);
        CHECK_EQ_INT(p.opened - p.closed, 4);                 /* held by the pausing app ... */
        CHECK_EQ_INT(ngtcp2_conn_get_streams_uni_left(qc), 0); /* ... so still counted */
        /* the app reads them: they end, their slots come back */
        for (i = 0; i < 8; i++)
            if (p.held[i]) CHECK_EQ_INT(wt_stream_pause(p.held[i], 0), WT_OK);
        CHECK_SOON(&h, p.closed == 4 * round);
    }
    CHECK_SOON(&h, ngtcp2_conn_get_streams_uni_left(qc) == 4);
    CHECK_EQ_INT(p.most_held, 4);
    harness_stop(&h);
}

/* ---- D: wt_client_create from a handler that fails leaks the client */
static int rv_created;
static wt_loop *rv_loop;
static void rv_create_in_handler(wt_event *ev) {
    if (ev->type == WT_EV_SESSION_OPEN) {
        wt_client_config cc;
        const char *odd[] = {"x-only-a-name", NULL};
        memset(&cc, 0, sizeof cc);
        cc.insecure = 1;
        cc.loop = rv_loop;
        cc.headers = odd; /* a usage error: create fails */
        cc.log.fn = harness_quiet_log;
        CHECK(wt_client_create(&cc) == NULL);
        rv_created = 1;
    }
}

WT_TEST(wt_regress2_client_create_failing_in_handler_leaks) {
    harness h;
    client_ctx cx;
    int neps = 0, neps_before = 0;
    wt__ep *ep;
    REQUIRE(route_setup(&h, "/c", rv_create_in_handler, NULL, NULL) == 0);
    rv_loop = h.loop;
    for (ep = h.loop->eps; ep; ep = ep->next) neps_before++;
    REQUIRE(client_open(&h, &cx, "/c") == 0);
    CHECK_SOON(&h, rv_created);
    for (ep = h.loop->eps; ep; ep = ep->next) neps++;
    CHECK_EQ_INT(neps, neps_before);
    harness_stop(&h);
}

/* ---- E: CID table against a reference, with churn and same-size rehash */
WT_TEST(wt_regress2_cid_table_random_ops) {
    wt__ep ep;
    wt_limits lim;
    static wt__conn conns[64];
    static uint8_t ids[64][8][16];
    static int have[64][8];
    int i, k, bad = 0, step;
    unsigned r = 12345;
    memset(&lim, 0, sizeof lim);
    memset(conns, 0, sizeof conns);
    memset(have, 0, sizeof have);
    REQUIRE(wt__ep_init(&ep, NULL, 1, NULL, NULL, &lim) == WT_OK);
    for (step = 0; step < 200000; step++) {
        int ci, slot, j;
        r = r * 1103515245u + 12345u;
        ci = (int)((r >> 8) % 64);
        r = r * 1103515245u + 12345u;
        slot = (int)((r >> 8) % 8);
        r = r * 1103515245u + 12345u;
        if ((r >> 8) % 97 == 0) {
            /* free the whole connection */
            wt__cid_remove_conn(&ep, &conns[ci]);
            for (j = 0; j < 8; j++) have[ci][j] = 0;
            continue;
        }
        if (!have[ci][slot]) {
            for (j = 0; j < 16; j++) {
                r = r * 1103515245u + 12345u;
                ids[ci][slot][j] = (uint8_t)(r >> 16);
            }
            if (wt__cid_add(&ep, ids[ci][slot], 16, &conns[ci]) != WT_OK) bad++;
            have[ci][slot] = 1;
        } else {
            wt__cid_remove(&ep, &conns[ci], ids[ci][slot], 16);
            have[ci][slot] = 0;
        }
        if (step % 997 == 0) {
            size_t live = 0;
            for (i = 0; i < 64; i++)
                for (k = 0; k < 8; k++) {
                    wt__conn *f = wt__cid_find(&ep, ids[i][k], 16);
                    if (have[i][k] && f != &conns[i]) bad++;
                    if (!have[i][k] && f == &conns[i]) bad++;
                    live += have[i][k];
                }
            if (live != ep.cids_live) bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    for (i = 0; i < 64; i++) wt__cid_remove_conn(&ep, &conns[i]);
    wt__ep_free(&ep);
}

/* ---- F: a 404 first, then a second session on the same connection
   after handshake_timeout_ms; and a client whose first session ended */
WT_TEST(wt_regress2_session_seen_after_404_and_reuse) {
    harness h;
    server_ctx sx;
    client_ctx a, b;
    wt_limits lim;
    char url[200];
    memset(&lim, 0, sizeof lim);
    lim.handshake_timeout_ms = 300;
    REQUIRE(server_setup(&h, &sx, &lim, &lim) == 0);
    memset(&a, 0, sizeof a);
    snprintf(url, sizeof url, "%s/nope", h.url);
    REQUIRE(wt_client_connect(h.client, url, client_handler, &a, NULL) == WT_OK);
    REQUIRE_SOON(&h, a.closed);
    CHECK_EQ_INT(a.refused_status, 404);
    REQUIRE(h.app->ep.conns && h.client->ep.conns);
    /* past both connections' handshake_timeout_ms deadline: the 404 counts
       as the session answered, neither side closes for want of one */
    CHECK(harness_run_past(&h, WT__MAX(h.app->ep.conns->deadline_ms, h.client->ep.conns->deadline_ms)));
    CHECK_EQ_INT((int)h.app->ep.nconns, 1);
    CHECK_EQ_INT((int)h.client->ep.nconns, 1);
    REQUIRE(client_open(&h, &b, "/echo") == 0);
    CHECK_EQ_INT((int)h.client->ep.nconns, 1);
    CHECK_EQ_INT(wt_session_close(b.s, 0, "x"), WT_OK);
    CHECK_SOON(&h, sx.sessions_closed == 1);
    /* no session left: the connection stays, for another handshake_timeout_ms too */
    CHECK(harness_run_past(&h, wt_loop_now_ms(h.loop) + lim.handshake_timeout_ms));
    CHECK_EQ_INT((int)h.app->ep.nconns, 1);
    CHECK_EQ_INT((int)h.client->ep.nconns, 1);
    harness_stop(&h);
}

/* ---- G: the client notices a stateless reset (server lost the conn) */
WT_TEST(wt_regress2_client_detects_stateless_reset) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    /* the server forgets the connection without a word */
    h.app->ep.conns->state = WT__CONN_DEAD;
    h.app->ep.conns->fail_error = 0;
    CHECK_SOON(&h, h.app->ep.nconns == 0);
    REQUIRE(client_xfer(&cx, 100, 1) != NULL); /* the client sends: the server answers with a reset */
    CHECK_SOON(&h, cx.closed);
    CHECK_EQ_INT(cx.close_error, WT_ERR_CLOSED);
    harness_stop(&h);
}

/* The server connection's session on stream id, or NULL. */
static wt_session *server_session(wt__conn *c, int64_t id) {
    wt_session *s;
    for (s = c->wt.sessions; s; s = s->next)
        if (s->id == id) return s;
    return NULL;
}

/* ---- I: a request stream reset (RESET_STREAM only) inside its HEADERS:
   the server never closes its side, so the session and the ngtcp2 stream
   (one bidi slot) stay until the connection ends */
WT_TEST(wt_regress2_request_reset_inside_headers_half_open) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt__conn *cc, *sc;
    int64_t id;
    wt_stream *st;
    static const uint8_t partial[] = {0x01, 0x20, 0x00, 0x00, 0xd1}; /* HEADERS, len 32, 3 of 32 bytes */
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    cc = cx.s->conn;
    REQUIRE(ngtcp2_conn_open_bidi_stream(cc->tp.qc, &id, NULL) == 0);
    st = wt__stream_new(cc, id, 1, 1);
    st->kind = WT__ST_WT;
    ngtcp2_conn_set_stream_user_data(cc->tp.qc, id, st);
    wt__sendbuf_append(NULL, &st->tx, partial, sizeof partial);
    wt__stream_queue_send(st);
    sc = h.app->ep.conns;
    CHECK_SOON(&h, server_session(sc, id) != NULL); /* the request began */
    ngtcp2_conn_set_stream_user_data(cc->tp.qc, id, wt__dead_stream_marker());
    wt__stream_unqueue_send(st);
    CHECK_EQ_INT(ngtcp2_conn_shutdown_stream_write(cc->tp.qc, 0, id, 0x10c), 0); /* RESET_STREAM only */
    cc->dirty = 1;
    CHECK_SOON(&h, server_session(sc, id) == NULL); /* the server ended it and let it go */
    wt__stream_free(st);
    harness_stop(&h);
}

/* ---- G2: two client connections to one server address: a stateless
   reset for the older one is offered only to the newer one */
WT_TEST(wt_regress2_client_stateless_reset_two_conns) {
    harness h;
    server_ctx sx;
    client_ctx a, b;
    wt_limits sl;
    wt__conn *c;
    memset(&sl, 0, sizeof sl);
    sl.max_sessions = 1;
    REQUIRE(server_setup(&h, &sx, &sl, NULL) == 0);
    REQUIRE(client_open(&h, &a, "/echo") == 0);
    REQUIRE(client_open(&h, &b, "/echo") == 0);
    REQUIRE(a.s->conn != b.s->conn);
    for (c = h.app->ep.conns; c; c = c->next) c->state = WT__CONN_DEAD;
    CHECK_SOON(&h, h.app->ep.nconns == 0);
    REQUIRE(client_xfer(&a, 100, 1) != NULL); /* the older connection sends */
    CHECK_SOON(&h, a.closed);
    harness_stop(&h);
}

/* ---- J: a pending bidi stream that got STOP_SENDING (ngtcp2 resets our
   side by itself) and is closed by the transport; after adoption the app
   may still write to it: ngtcp2 answers STREAM_NOT_FOUND, the write loop
   treats that as fatal */
static int rv_write_rv = 1, rv_stops = 0;
static void rv_pause_and_write(wt_event *ev) {
    if (ev->type == WT_EV_STREAM_OPEN) {
        wt_stream_pause(ev->stream, 1);
        rv_write_rv = wt_stream_write(ev->stream, "hi", 2);
    }
    if (ev->type == WT_EV_STREAM_STOP_SENDING) rv_stops++;
}
WT_TEST(wt_regress2_pending_stream_stop_sending_then_write_kills_conn) {
    harness h;
    server_ctx sx;
    client_ctx first, second;
    wt__conn *c;
    wt_stream *raw;
    wt__conn *sc;
    int64_t next_id;
    char url[200];
    xfer *x;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/pw", rv_pause_and_write, NULL) == WT_OK);
    REQUIRE(client_open(&h, &first, "/echo") == 0);
    c = first.s->conn;
    sc = h.app->ep.conns;
    next_id = (int64_t)first.s->id + 8; /* raw stream takes +4, CONNECT +8 */
    REQUIRE((raw = raw_wt_stream_ex(c, 1, (uint64_t)next_id, "early", 1)) != NULL);
    CHECK_EQ_INT(ngtcp2_conn_shutdown_stream_read(c->tp.qc, 0, raw->id, 0x10c), 0); /* STOP_SENDING */
    /* held, and done in QUIC: data and FIN in, our side reset for the STOP_SENDING */
    REQUIRE_SOON(&h, sc->wt.npending == 1 && sc->wt.pending->transport_closed);
#if NGTCP2_VERSION_NUM >= 0x011800
    CHECK(sc->wt.pending->pending_stop != 0); /* kept for the application */
#endif
    memset(&second, 0, sizeof second);
    snprintf(url, sizeof url, "%s/pw", h.url);
    REQUIRE(wt_client_connect(h.client, url, client_handler, &second, NULL) == WT_OK);
    REQUIRE_SOON(&h, second.opened);
    CHECK_EQ_INT((int64_t)second.s->id, next_id);
    /* the connection lives: traffic still flows on the first session */
    REQUIRE((x = client_xfer(&first, 3000, 8)) != NULL);
    CHECK_SOON(&h, x->done);
    CHECK(!x->bad);
    CHECK(h.app->ep.conns == sc && sc->state == WT__CONN_OPEN);
    CHECK_EQ_INT(rv_write_rv, WT_ERR_CLOSED); /* a write to it is refused */
#if NGTCP2_VERSION_NUM >= 0x011800
    CHECK_EQ_INT(rv_stops, 1); /* and the STOP_SENDING told after STREAM_OPEN */
#else
    CHECK_EQ_INT(rv_stops, 0); /* older ngtcp2 resets silently: no event (see the manual) */
#endif
    harness_stop(&h);
}
/* ---------------------------------------------------------------- regressions, third review */
typedef struct mx_ctx { int opened; wt_session *s; size_t got; int dgrams; } mx_ctx;
static void mx_server(wt_event *ev) {
    mx_ctx *m = (mx_ctx *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) { m->opened = 1; m->s = ev->session; }
    if (ev->type == WT_EV_STREAM_DATA) m->got += ev->len;
    if (ev->type == WT_EV_DATAGRAM) m->dgrams++;
}
WT_TEST(wt_regress3_dgram_stall_behind_stale_send_queue_entry) {
    harness h;
    client_ctx cx;
    mx_ctx m;
    wt_limits sl;
    wt_stream *st;
    wt__conn *c;
    static uint8_t buf[256 * 1024];
    int i;
    memset(&m, 0, sizeof m);
    memset(&sl, 0, sizeof sl);
    sl.stream_window = 16 * 1024;
    REQUIRE(route_setup(&h, "/m", mx_server, &m, &sl) == 0);
    REQUIRE(client_open(&h, &cx, "/m") == 0);
    c = cx.s->conn;
    REQUIRE(wt_session_open_stream(cx.s, 1, &st) == WT_OK);
    /* 16 windows' worth: it goes as the server's window updates arrive */
    REQUIRE(wt_stream_write(st, buf, sizeof buf) == (int)sizeof buf);
    /* all delivered and acknowledged: the stream is idle, nothing queued */
    REQUIRE_SOON(&h, m.got == sizeof buf && wt_stream_send_buffered(st) == 0);
    /* what wt__cb_extend_max_stream_data does when the peer's MAX_STREAM_DATA
       for this idle stream arrives in the same loop pass */
    wt__h3_unblock(c, st->id, st);
    for (i = 0; i < 10; i++) CHECK_EQ_INT(wt_session_send_datagram(cx.s, buf, 1000), WT_OK);
    /* all sent at once, pacing aside: the defect left them queued until
       some unrelated event (the keepalive, 15 s away) woke the connection */
    RUN_UNTIL(h.loop, c->wt.dq_len == 0, 2000);
    CHECK_EQ_INT((int)c->wt.dq_len, 0);
    CHECK_SOON(&h, m.dgrams == 10);
    harness_stop(&h);
}

/* STOP_SENDING before the first byte of what turns out to be a CONNECT */
typedef struct ss_ctx { int requests, opened, closed, dgrams; } ss_ctx;
static void ss_server(wt_event *ev) {
    ss_ctx *x = (ss_ctx *)ev->user;
    if (ev->type == WT_EV_SESSION_REQUEST) x->requests++;
    if (ev->type == WT_EV_SESSION_OPEN) x->opened++;
    if (ev->type == WT_EV_SESSION_CLOSED) x->closed++;
    if (ev->type == WT_EV_DATAGRAM) x->dgrams++;
}
WT_TEST(wt_regress3_stop_sending_before_connect_bytes) {
    harness h;
    client_ctx cx;
    ss_ctx x;
    wt__conn *cc;
    wt_session *s;
    int64_t id;
    int rv;
    nghttp3_nv nv[5];
    memset(&x, 0, sizeof x);
    REQUIRE(route_setup(&h, "/ss", ss_server, &x, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/ss") == 0);
    x.requests = x.opened = x.closed = 0;
    cc = cx.s->conn;
    REQUIRE(ngtcp2_conn_open_bidi_stream(cc->tp.qc, &id, NULL) == 0);
    CHECK_EQ_INT(ngtcp2_conn_shutdown_stream_read(cc->tp.qc, 0, id, 0x10c), 0); /* STOP_SENDING first */
    cc->dirty = 1;
    /* a datagram behind it: when it is in, so is the STOP_SENDING */
    CHECK_EQ_INT(wt_session_send_datagram(cx.s, "after", 5), WT_OK);
    REQUIRE_SOON(&h, x.dgrams == 1);
    s = wt__session_new(cc, id, 0);
    s->fn = client_handler;
    s->fn_user = &cx;
#define NV(i, N, V)                                                                             \
    nv[i].name = (const uint8_t *)N, nv[i].namelen = strlen(N), nv[i].value = (const uint8_t *)V, \
    nv[i].valuelen = strlen(V), nv[i].flags = 0
    NV(0, ":method", "CONNECT");
    NV(1, ":protocol", "webtransport");
    NV(2, ":scheme", "https");
    NV(3, ":authority", "127.0.0.1");
    NV(4, ":path", "/ss");
#undef NV
    rv = nghttp3_conn_submit_request(cc->h3.conn, id, nv, 5, &wt__capsule_reader_def, s);
    CHECK_EQ_INT(rv, 0);
    cc->dirty = 1;
    /* the server answers with a reset: our session learns its CONNECT stream is gone */
    CHECK_SOON(&h, cx.closed);
    CHECK_EQ_INT(cx.close_error, WT_ERR_CLOSED);
    /* the peer refused the answer before asking: the application never saw
       a session. ngtcp2 >= 1.24 tells wt.h of the STOP_SENDING, which refuses
       the request at once; older ngtcp2 resets the stream silently and the
       request that follows is refused as incomplete: the same outcome. */
    CHECK_EQ_INT(x.opened, 0);
    CHECK_EQ_INT(x.requests, 0);
    CHECK_EQ_INT(x.closed, 0);
    harness_stop(&h);
}
/* ---------------------------------------------------------------- documented, now tested */

/* Over limits.max_sessions the server refuses with 429. A client that asks
   for two sessions before the server's SETTINGS arrive cannot know the limit
   and sends both on one connection. */
WT_TEST(wt_session_refused_429_over_max_sessions) {
    harness h;
    server_ctx sx;
    client_ctx a, b, *won, *lost;
    wt_limits sl;
    char url[200];
    xfer *x;
    memset(&sl, 0, sizeof sl);
    sl.max_sessions = 1;
    REQUIRE(server_setup(&h, &sx, &sl, NULL) == 0);
    snprintf(url, sizeof url, "%s/echo", h.url);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    REQUIRE(wt_client_connect(h.client, url, client_handler, &a, NULL) == WT_OK);
    REQUIRE(wt_client_connect(h.client, url, client_handler, &b, NULL) == WT_OK);
    CHECK_EQ_INT((int)h.client->ep.nconns, 1);
    REQUIRE_SOON(&h, (a.opened || a.closed) && (b.opened || b.closed));
    won = a.opened ? &a : &b;
    lost = a.opened ? &b : &a;
    CHECK(won->opened && !won->closed);
    CHECK(lost->closed && !lost->opened);
    CHECK_EQ_INT(lost->close_error, WT_ERR_REFUSED);
    CHECK_EQ_INT(lost->refused_status, 429);
    CHECK_EQ_INT(sx.requests, 1); /* the route's handler never heard of the refused one */
    CHECK_EQ_INT(sx.sessions_opened, 1);
    CHECK_EQ_INT(sx.sessions_closed, 0);
    /* the session within the limit is unharmed */
    REQUIRE((x = client_xfer(won, 2000, 12)) != NULL);
    CHECK_SOON(&h, x->done);
    CHECK(!x->bad);
    harness_stop(&h);
}

/* A request whose header section is over limits.max_header_bytes is refused
   with 431; the connection goes on serving requests that fit. */
WT_TEST(wt_session_refused_431_over_max_header_bytes) {
    harness h;
    server_ctx sx;
    client_ctx big, small;
    wt_limits sl;
    wt_client_config cc;
    wt_client *cl;
    static char value[2001];
    const char *hdrs[] = {"x-big", value, NULL};
    char url[200];
    memset(&sl, 0, sizeof sl);
    sl.max_header_bytes = 1024;
    REQUIRE(server_setup(&h, &sx, &sl, NULL) == 0);
    memset(value, 'v', sizeof value - 1);
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    cc.headers = hdrs;
    REQUIRE((cl = second_client(&h, &cc)) != NULL);
    snprintf(url, sizeof url, "%s/echo", h.url);
    CHECK(connect_with(&h, cl, &big, url) != 0);
    CHECK(big.closed);
    CHECK_EQ_INT(big.close_error, WT_ERR_REFUSED);
    CHECK_EQ_INT(big.refused_status, 431);
    CHECK_EQ_INT(sx.requests, 0);
    /* the connection lives on and answers the next request the same way */
    REQUIRE(cl->ep.conns && cl->ep.conns->state == WT__CONN_OPEN);
    CHECK(connect_with(&h, cl, &big, url) != 0);
    CHECK_EQ_INT(big.refused_status, 431);
    CHECK_EQ_INT((int)cl->ep.nconns, 1);
    CHECK_EQ_INT((int)h.app->ep.nconns, 1);
    /* a header section that fits is served */
    REQUIRE(client_open(&h, &small, "/echo") == 0);
    CHECK_EQ_INT(sx.requests, 1);
    wt_client_destroy(cl);
    harness_stop(&h);
}

/* A peer's GOAWAY reaches every session as WT_EV_SESSION_DRAINING; they go
   on working, and new sessions take a new connection. */
WT_TEST(wt_peer_goaway_drains_sessions) {
    harness h;
    server_ctx sx;
    client_ctx a, b, c;
    wt__conn *sc;
    xfer *x;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &a, "/echo") == 0);
    REQUIRE(client_open(&h, &b, "/echo") == 0);
    REQUIRE(a.s->conn == b.s->conn);
    sc = h.app->ep.conns;
    REQUIRE(sc != NULL && sc->h3.conn != NULL);
    /* the server's HTTP/3 layer starts a graceful shutdown: GOAWAY */
    REQUIRE(nghttp3_conn_shutdown(sc->h3.conn) == 0);
    sc->dirty = 1;
    CHECK_SOON(&h, a.drained && b.drained);
    CHECK_EQ_INT(a.drained + b.drained, 2);
    CHECK(!a.closed && !b.closed); /* advice: nothing is closed */
    REQUIRE((x = client_xfer(&a, 5000, 13)) != NULL);
    CHECK_SOON(&h, x->done);
    CHECK(!x->bad);
    /* a new session does not go to the connection that is going away */
    REQUIRE(client_open(&h, &c, "/echo") == 0);
    CHECK(c.s->conn != a.s->conn);
    CHECK_EQ_INT((int)h.client->ep.nconns, 2);
    CHECK_EQ_INT(c.drained, 0);
    harness_stop(&h);
}

/* limits.idle_timeout_ms: a connection whose peer falls silent closes its
   sessions with WT_ERR_TIMEOUT. The server is made silent by taking its
   endpoint off the loop: nothing reads its socket or runs its timers. */
WT_TEST(wt_idle_timeout_closes_a_silent_connection) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_limits lim;
    xfer *x;
    uint64_t t0;
    memset(&lim, 0, sizeof lim);
    lim.idle_timeout_ms = 300; /* the smaller of the two sides' values counts */
    REQUIRE(server_setup(&h, &sx, NULL, &lim) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    REQUIRE((x = client_xfer(&cx, 1000, 14)) != NULL);
    REQUIRE_SOON(&h, x->done);
    wt__loop_remove_ep(h.loop, &h.app->ep); /* the server stops answering */
    t0 = wt_loop_now_ms(h.loop);
    REQUIRE((x = client_xfer(&cx, 1000, 15)) != NULL); /* and this goes unanswered */
    CHECK_SOON(&h, cx.closed);
    CHECK_EQ_INT(cx.close_error, WT_ERR_TIMEOUT);
    CHECK(wt_loop_now_ms(h.loop) - t0 >= lim.idle_timeout_ms / 2); /* not at once */
    CHECK(!x->done);
    CHECK_EQ_INT(sx.sessions_closed, 0);
    /* the server comes back to a client that has gone quiet: it times out too */
    wt__loop_add_ep(h.loop, &h.app->ep);
    CHECK_SOON(&h, sx.sessions_closed == 1);
    CHECK_EQ_INT(sx.closed_error, WT_ERR_TIMEOUT);
    harness_stop(&h);
}

static void count_fire(wt_loop *loop, void *user) {
    (void)loop;
    (*(int *)user)++;
}

typedef struct rival_timer {
    wt_loop *loop;
    int64_t other;
    int fired, cancel_rv;
} rival_timer;

static void rival_fire(wt_loop *loop, void *user) {
    rival_timer *r = (rival_timer *)user;
    (void)loop;
    r->fired++;
    r->cancel_rv = wt_loop_timer_cancel(r->loop, r->other);
}

/* A cancelled timer never fires, while a later one does; a timer may cancel
   another one due in the same pass; a fired timer cannot be cancelled. */
WT_TEST(wt_loop_timer_cancel_stops_a_timer) {
    wt_loop_config lc;
    wt_loop *loop;
    int early = 0, later = 0, marker = 0;
    int64_t a, b;
    rival_timer r1, r2;
    memset(&lc, 0, sizeof lc);
    lc.log.fn = harness_quiet_log;
    lc.log.level = WT_LOG_DEBUG;
    REQUIRE((loop = wt_loop_create(&lc)) != NULL);
    a = wt_loop_timer(loop, 10, count_fire, &early);
    b = wt_loop_timer(loop, 30, count_fire, &later);
    CHECK(a > 0 && b > a);
    CHECK_EQ_INT(wt_loop_timer_cancel(loop, a), WT_OK);
    CHECK_EQ_INT(wt_loop_timer_cancel(loop, a), WT_ERR_NOT_FOUND); /* once */
    RUN_UNTIL(loop, later, HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(later, 1);
    CHECK_EQ_INT(early, 0); /* it was due 20 ms before the one that fired */
    CHECK_EQ_INT(wt_loop_timer_cancel(loop, b), WT_ERR_NOT_FOUND);
    CHECK_EQ_INT(wt_loop_timeout(loop), -1); /* no timer left */
    /* two timers due together, each cancelling the other: one runs */
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    r1.loop = r2.loop = loop;
    r1.cancel_rv = r2.cancel_rv = 1;
    r1.other = wt_loop_timer(loop, 5, rival_fire, &r2);
    r2.other = wt_loop_timer(loop, 5, rival_fire, &r1);
    CHECK(r1.other > 0 && r2.other > 0);
    CHECK(wt_loop_timer(loop, 20, count_fire, &marker) > 0);
    RUN_UNTIL(loop, marker, HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(marker, 1);
    CHECK_EQ_INT(r1.fired + r2.fired, 1);
    CHECK_EQ_INT(r1.fired ? r1.cancel_rv : r2.cancel_rv, WT_OK);
    CHECK_EQ_INT(wt_loop_timer_cancel(NULL, 1), WT_ERR_INVALID);
    wt_loop_destroy(loop);
}

/* What Linux gives for a buffer request of size bytes: twice that (the
   kernel doubles it for its bookkeeping), capped at net.core.rmem_max /
   wmem_max unless the caller may use SO_RCVBUFFORCE / SO_SNDBUFFORCE. */
static int kernel_buffer(int size, int rcv) {
    FILE *f = fopen(rcv ? "/proc/sys/net/core/rmem_max" : "/proc/sys/net/core/wmem_max", "r");
    int max = 0, fd, forced;
    if (!f) return -1;
    if (fscanf(f, "%d", &max) != 1) max = -1;
    fclose(f);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || max < 0) return -1;
    forced = setsockopt(fd, SOL_SOCKET, rcv ? SO_RCVBUFFORCE : SO_SNDBUFFORCE, &size, sizeof size) == 0;
    close(fd);
    return 2 * (forced || size <= max ? size : max);
}

static int socket_buffer(int fd, int rcv) {
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, rcv ? SO_RCVBUF : SO_SNDBUF, &v, &len) != 0) return -1;
    return v;
}

/* limits.udp_buffer sets SO_RCVBUF and SO_SNDBUF of every socket. */
WT_TEST(wt_udp_buffer_sizes_the_sockets) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_limits small, large;
    wt_app_config ac;
    wt_app *app;
    int rcv;
    memset(&small, 0, sizeof small);
    small.udp_buffer = 96 * 1024; /* below the usual rmem_max/wmem_max (208 KiB) */
    memset(&large, 0, sizeof large);
    large.udp_buffer = 8 * 1024 * 1024;
    REQUIRE(server_setup(&h, &sx, &small, &large) == 0);
    memset(&ac, 0, sizeof ac); /* one more server with the default, 4 MiB */
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = h.loop;
    ac.log.fn = harness_quiet_log;
    REQUIRE((app = wt_app_create(&ac)) != NULL);
    REQUIRE(wt_app_start(app) == WT_OK);
    REQUIRE(client_open(&h, &cx, "/echo") == 0); /* the client's socket exists now */
    for (rcv = 0; rcv <= 1; rcv++) {
        CHECK_EQ_INT(socket_buffer(h.app->ep.socks[0].fd, rcv), kernel_buffer(96 * 1024, rcv));
        CHECK_EQ_INT(socket_buffer(h.client->ep.socks[0].fd, rcv), kernel_buffer(8 * 1024 * 1024, rcv));
        CHECK_EQ_INT(socket_buffer(app->ep.socks[0].fd, rcv), kernel_buffer(4 * 1024 * 1024, rcv));
    }
    wt_app_destroy(app);
    harness_stop(&h);
}

/* "Every failure is also logged": each call below fails, and says why in
   exactly one log line, at ERROR for a caller's mistake and at DEBUG for an
   outcome of normal operation (a full queue, a timer that already fired). */
#define CHECK_LOGGED(call, want_rv, want_level)                                \
    do {                                                                       \
        harness_log_match = "";                                                \
        harness_log_hits = 0;                                                  \
        harness_log_level = WT_LOG_NONE;                                       \
        CHECK_EQ_INT((call), (want_rv));                                       \
        harness_log_match = NULL;                                              \
        CHECK_EQ_INT(harness_log_hits, 1);                                     \
        CHECK_EQ_INT(harness_log_level, (want_level));                         \
    } while (0)

WT_TEST(wt_every_failure_is_logged) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_limits cl;
    wt_stream *st, *whole;
    const char *name, *value;
    int i;
    memset(&cl, 0, sizeof cl);
    cl.datagram_queue = 2;
    REQUIRE(server_setup(&h, &sx, NULL, &cl) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    REQUIRE(wt_session_open_stream(cx.s, 1, &st) == WT_OK);
    REQUIRE(wt_session_open_stream(cx.s, 1, &whole) == WT_OK);
    REQUIRE(wt_stream_read_all(whole, 100) == WT_OK);
    CHECK_LOGGED(wt_stream_write(st, NULL, 5), WT_ERR_INVALID, WT_LOG_ERROR);
    CHECK_LOGGED(wt_stream_read_all(st, 0), WT_ERR_INVALID, WT_LOG_ERROR);
    CHECK_LOGGED(wt_stream_pause(whole, 1), WT_ERR_STATE, WT_LOG_ERROR);
    CHECK_LOGGED(wt_session_send_datagram(cx.s, NULL, 3), WT_ERR_INVALID, WT_LOG_ERROR);
    for (i = 0; i < 2; i++) CHECK_EQ_INT(wt_session_send_datagram(cx.s, "d", 1), WT_OK);
    CHECK_LOGGED(wt_session_send_datagram(cx.s, "d", 1), WT_ERR_WOULDBLOCK, WT_LOG_DEBUG);
    CHECK_LOGGED(wt_session_header_at(cx.s, 1000, &name, &value), WT_ERR_NOT_FOUND, WT_LOG_DEBUG);
    CHECK_LOGGED(wt_loop_timer(h.loop, 1, NULL, NULL), WT_ERR_INVALID, WT_LOG_ERROR);
    CHECK_LOGGED(wt_loop_timer_cancel(h.loop, 1000000), WT_ERR_NOT_FOUND, WT_LOG_DEBUG);
    CHECK_LOGGED(wt_client_connect(h.client, h.url, NULL, NULL, NULL), WT_ERR_INVALID, WT_LOG_ERROR);
    CHECK_LOGGED(wt_app_on_startup(h.app, NULL, NULL), WT_ERR_INVALID, WT_LOG_ERROR);
    CHECK_EQ_INT(wt_stream_finish(st), WT_OK);
    CHECK_LOGGED(wt_stream_finish(st), WT_ERR_CLOSED, WT_LOG_ERROR); /* finished already: a mistake */
    CHECK_LOGGED(wt_session_reject(cx.s, 404), WT_ERR_STATE, WT_LOG_ERROR);
    harness_stop(&h);
}
