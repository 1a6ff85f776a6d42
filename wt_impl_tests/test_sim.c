/* test_sim.c - the whole stack over the simulated network (sim.h), in
   virtual time: loss, reordering, duplication, a bottleneck. Deterministic
   and fast, whatever the machine's load. */
#include "sim.h"
#include "../fuzz/quic_initial.h" /* client Initials sealed by hand */

static uint8_t sim_byte(uint64_t i, unsigned seed) { return (uint8_t)((i * 131u) ^ (i >> 13) ^ seed); }

/* ---------------------------------------------------------------- a verifying sink */
typedef struct sink_stream {
    uint64_t got;
    unsigned seed;
    int bad;
} sink_stream;

typedef struct sink_server {
    int opened, closed, close_error, streams, finished, bad;
    uint64_t bytes;
    wt_session *s;
} sink_server;

/* Each stream's first byte says its seed; the rest must follow the pattern.
   On FIN the server answers "<bytes> <ok|bad>" and finishes. */
static void sink_handler(wt_event *ev) {
    sink_server *sv = (sink_server *)ev->user;
    wt_stream *st = ev->stream;
    sink_stream *ss = st ? (sink_stream *)wt_stream_user(st) : NULL;
    if (sim_session_event(ev, &sv->opened, &sv->closed, &sv->close_error, &sv->s)) return;
    switch (ev->type) {
    case WT_EV_STREAM_OPEN:
        sv->streams++;
        ss = (sink_stream *)calloc(1, sizeof *ss);
        wt_stream_set_user(st, ss);
        break;
    case WT_EV_STREAM_DATA: {
        size_t i;
        if (!ss) break;
        for (i = 0; i < ev->len; i++) {
            if (ss->got == 0 && i == 0) {
                ss->seed = ev->data[0];
                continue;
            }
            if (ev->data[i] != sim_byte(ss->got + i - 1, ss->seed)) ss->bad = 1;
        }
        ss->got += ev->len;
        sv->bytes += ev->len;
        if (ev->fin) {
            char reply[64];
            int n = snprintf(reply, sizeof reply, "%llu %s", (unsigned long long)(ss->got - 1), ss->bad ? "bad" : "ok");
            sv->bad |= ss->bad;
            wt_stream_write(st, reply, (size_t)n);
            wt_stream_finish(st);
            sv->finished++;
        }
        break;
    }
    case WT_EV_STREAM_CLOSED:
        free(ss);
        wt_stream_set_user(st, NULL);
        break;
    default: break;
    }
}

/* ---------------------------------------------------------------- uploading clients */
#define SIM_MAX_UP 64
typedef struct upload {
    wt_stream *st;
    uint64_t total, sent;
    unsigned seed;
    int finished, answered;
    char reply[64];
    size_t reply_len;
} upload;

typedef struct uploader {
    int opened, closed, close_error, answered, all_answered;
    wt_session *s;
    upload up[SIM_MAX_UP];
    int n;
} uploader;

static void upload_pump(upload *u) {
    uint8_t buf[16384];
    while (u->sent < u->total + 1) {
        size_t n = sizeof buf, i;
        int w;
        if (u->total + 1 - u->sent < n) n = (size_t)(u->total + 1 - u->sent);
        for (i = 0; i < n; i++) {
            uint64_t at = u->sent + i;
            buf[i] = at == 0 ? (uint8_t)u->seed : sim_byte(at - 1, u->seed);
        }
        w = wt_stream_write(u->st, buf, n);
        if (w <= 0) return;
        u->sent += (uint64_t)w;
    }
    if (!u->finished) {
        u->finished = 1;
        wt_stream_finish(u->st);
    }
}

static upload *uploader_find(uploader *c, wt_stream *st) {
    int i;
    for (i = 0; i < c->n; i++)
        if (c->up[i].st == st) return &c->up[i];
    return NULL;
}

static void uploader_handler(wt_event *ev) {
    uploader *c = (uploader *)ev->user;
    upload *u = ev->stream ? uploader_find(c, ev->stream) : NULL;
    if (sim_session_event(ev, &c->opened, &c->closed, &c->close_error, &c->s)) return;
    switch (ev->type) {
    case WT_EV_STREAM_WRITABLE:
        if (u) upload_pump(u);
        break;
    case WT_EV_STREAM_DATA:
        if (!u) break;
        if (u->reply_len + ev->len < sizeof u->reply) {
            memcpy(u->reply + u->reply_len, ev->data, ev->len);
            u->reply_len += ev->len;
        }
        if (ev->fin) {
            u->answered = 1;
            if (++c->answered == c->n) c->all_answered = 1;
        }
        break;
    case WT_EV_STREAM_CLOSED:
        if (u) u->st = NULL;
        break;
    default: break;
    }
}

static int sim_upload_start(sim *s, uploader *c, int streams, uint64_t each) {
    int i;
    char url[64];
    snprintf(url, sizeof url, "https://10.0.0.1:443/sink");
    if (wt_client_connect(s->client, url, uploader_handler, c, NULL) != WT_OK) return -1;
    if (!sim_run(s, &c->opened, 10000)) return -1;
    for (i = 0; i < streams; i++) {
        upload *u = &c->up[i];
        if (wt_session_open_stream(c->s, 1, &u->st) != WT_OK) return -1;
        u->total = each;
        u->seed = (unsigned)(i * 37 + 1) & 0xff;
        c->n++;
        upload_pump(u);
    }
    return 0;
}

static int upload_ok(const upload *u) {
    char want[64];
    snprintf(want, sizeof want, "%llu ok", (unsigned long long)u->total);
    return u->answered && u->reply_len == strlen(want) && memcmp(u->reply, want, u->reply_len) == 0;
}

static void sim_lossy(sim *s, double loss, double reorder, double dup) {
    sim_link l;
    memset(&l, 0, sizeof l);
    l.loss = loss, l.reorder = reorder, l.dup = dup;
    l.delay_ms = 20;
    l.rate_mbps = 200;
    s->up = s->down = l;
}

static void sim_report(const char *what, const sim *s) {
    printf("    %s: %.1f s virtual; up %llu sent %llu lost %llu queue-dropped %llu reordered %llu duplicated; "
           "down %llu sent %llu lost\n",
           what, (double)(sim_ms(s)) / 1000.0 - 1.0, (unsigned long long)s->up.sent, (unsigned long long)s->up.dropped,
           (unsigned long long)s->up.queue_drops, (unsigned long long)s->up.reordered,
           (unsigned long long)s->up.duplicated, (unsigned long long)s->down.sent, (unsigned long long)s->down.dropped);
}

/* ---------------------------------------------------------------- tests */
WT_TEST(wt_sim_clean_path_upload) {
    sim s;
    sink_server sv;
    uploader c;
    memset(&s, 0, sizeof s);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sim_lossy(&s, 0, 0, 0);
    REQUIRE(sim_start(&s, 1, NULL, NULL) == 0);
    REQUIRE(wt_app_route(s.app, "/sink", sink_handler, &sv) == WT_OK);
    REQUIRE(sim_upload_start(&s, &c, 1, 1 << 20) == 0);
    CHECK(sim_run(&s, &c.all_answered, 60000));
    CHECK(upload_ok(&c.up[0]));
    CHECK(s.up.sent > 700); /* 1 MiB really crossed the wire */
    CHECK_EQ_INT(s.up.dropped, 0);
    sim_stop(&s);
}

/* Uploads `streams` x `each` bytes over a path with that loss, reordering
   and duplication; every stream must arrive byte-exact and the connection
   live. Returns the simulation stopped, for the caller's path checks. */
static void sim_lossy_upload(const char *what, uint64_t seed, double loss, double reorder, double dup, int streams,
                             uint64_t each, sim *s) {
    sink_server sv;
    uploader c;
    int i, ok = 0;
    memset(s, 0, sizeof *s);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sim_lossy(s, loss, reorder, dup);
    REQUIRE(sim_start(s, seed, NULL, NULL) == 0);
    REQUIRE(wt_app_route(s->app, "/sink", sink_handler, &sv) == WT_OK);
    REQUIRE(sim_upload_start(s, &c, streams, each) == 0);
    CHECK(sim_run(s, &c.all_answered, 3600 * 1000));
    sim_report(what, s);
    for (i = 0; i < c.n; i++) ok += upload_ok(&c.up[i]);
    CHECK_EQ_INT(ok, streams);
    CHECK_EQ_INT(c.closed, 0); /* the connection lived */
    sim_stop(s);
}

WT_TEST(wt_sim_64mib_one_stream_lossy_reordering_path) {
    sim s;
    sim_lossy_upload("64 MiB", 7, 0.10, 0.25, 0.01, 1, 64u << 20, &s);
    CHECK(s.up.dropped > 1000 && s.up.reordered > 1000 && s.up.duplicated > 100); /* the path was bad */
}

WT_TEST(wt_sim_50_streams_of_1mib_lossy_reordering_path) {
    sim s;
    sim_lossy_upload("50 x 1 MiB", 11, 0.10, 0.25, 0.01, 50, 1 << 20, &s);
    CHECK(s.up.dropped > 1000 && s.up.reordered > 1000);
}

WT_TEST(wt_sim_4mib_at_30_percent_loss) {
    sim s;
    sim_lossy_upload("4 MiB at 30% loss", 3, 0.30, 0, 0, 1, 4u << 20, &s);
    CHECK(s.up.dropped > 1000);
}

/* ---------------------------------------------------------------- idle sessions */
static void sim_idle(uint32_t keepalive_ms, int *closed_out, int *error_out, int *works_after) {
    sim s;
    sink_server sv;
    uploader c;
    wt_limits lim;
    memset(&s, 0, sizeof s);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    memset(&lim, 0, sizeof lim);
    lim.idle_timeout_ms = 1000;
    lim.keepalive_ms = keepalive_ms;
    sim_lossy(&s, 0, 0, 0);
    *closed_out = -1;
    if (sim_start(&s, 5, &lim, &lim) != 0 || wt_app_route(s.app, "/sink", sink_handler, &sv) != WT_OK ||
        sim_upload_start(&s, &c, 0, 0) != 0) {
        sim_stop(&s);
        return;
    }
    sim_run(&s, &c.closed, 3500); /* three idle timeouts without a byte from the app */
    *closed_out = c.closed;
    *error_out = c.close_error;
    *works_after = 0;
    if (!c.closed && wt_session_open_stream(c.s, 1, &c.up[0].st) == WT_OK) {
        c.up[0].total = 1024;
        c.n = 1;
        upload_pump(&c.up[0]);
        *works_after = sim_run(&s, &c.all_answered, 10000) && upload_ok(&c.up[0]) && sv.closed == 0;
    }
    sim_stop(&s);
}

WT_TEST(wt_sim_idle_session_kept_alive) {
    int closed, error, works;
    sim_idle(0, &closed, &error, &works); /* default: idle_timeout_ms / 2 */
    CHECK_EQ_INT(closed, 0);
    CHECK(works); /* still a working session after 3.5 s of quiet */
}

WT_TEST(wt_sim_idle_session_times_out_without_keepalive) {
    int closed, error, works;
    sim_idle(UINT32_MAX, &closed, &error, &works);
    CHECK_EQ_INT(closed, 1);
    CHECK_EQ_INT(error, WT_ERR_TIMEOUT);
}

/* The glitch limiter is ours to set: a tight one cuts a lossy, reordering
   transfer (and says why); the default lets it finish (above). */
WT_TEST(wt_sim_glitch_limits_are_configurable) {
    sim s;
    sink_server sv;
    uploader c;
    wt_limits lim;
    memset(&s, 0, sizeof s);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    memset(&lim, 0, sizeof lim);
    lim.glitch_burst = 20;
    lim.glitch_rate = 1;
    sim_lossy(&s, 0.10, 0.25, 0.01);
    REQUIRE(sim_start(&s, 13, &lim, NULL) == 0);
    REQUIRE(wt_app_route(s.app, "/sink", sink_handler, &sv) == WT_OK);
    REQUIRE(sim_upload_start(&s, &c, 1, 16u << 20) == 0);
    harness_log_match = "glitch_burst";
    harness_log_hits = 0;
    sim_run(&s, &c.closed, 3600 * 1000);
    harness_log_match = NULL;
#if NGTCP2_VERSION_NUM >= 0x010f00
    CHECK_EQ_INT(c.closed, 1);
    CHECK(!c.up[0].answered);
    CHECK(harness_log_hits >= 1);
#else
    CHECK(upload_ok(&c.up[0])); /* no glitch limiter before ngtcp2 1.15 */
#endif
    sim_stop(&s);
}

/* ---------------------------------------------------------------- a handshake flood */
/* Real ClientHellos from a throw-away client of its own (other loop, other
   clock): what a flood of genuine-looking Initials looks like. */
typedef struct flood {
    uint8_t (*pkt)[1500];
    size_t *len;
    int *conn;
    size_t n, cap;
    int capture;
    uint64_t clock;
} flood;

static uint64_t flood_clock(void *user) { return ((flood *)user)->clock; }

static int flood_capture(void *user, const void *local, size_t local_len, const void *remote, size_t remote_len,
                         const uint8_t *data, size_t len, size_t segment) {
    flood *f = (flood *)user;
    size_t off;
    (void)local, (void)local_len, (void)remote_len;
    for (off = 0; f->capture && off < len && f->n < f->cap; off += segment) {
        size_t k = len - off < segment ? len - off : segment;
        if ((data[off] & 0xf0) != 0xc0 || k > 1500) continue; /* Initial packets only */
        memcpy(f->pkt[f->n], data + off, k);
        f->len[f->n] = k;
        f->conn[f->n] = ntohs(((const struct sockaddr_in *)remote)->sin_port) - 1000;
        f->n++;
    }
    return 0;
}

static void flood_ignore(wt_event *ev) { (void)ev; }

static int flood_make(flood *f, int conns) {
    wt_loop_config lc;
    wt_client_config cc;
    wt_loop *loop;
    wt_client *cl;
    int i;
    memset(f, 0, sizeof *f);
    f->cap = (size_t)conns * 3;
    f->pkt = (uint8_t(*)[1500])malloc(f->cap * 1500);
    f->len = (size_t *)malloc(f->cap * sizeof *f->len);
    f->conn = (int *)malloc(f->cap * sizeof *f->conn);
    f->clock = 5000000000ULL;
    f->capture = 1;
    memset(&lc, 0, sizeof lc);
    lc.log.level = WT_LOG_NONE;
    lc.log.fn = harness_quiet_log;
    lc.clock.now_ns = flood_clock;
    lc.clock.user = f;
    loop = wt_loop_create(&lc);
    memset(&cc, 0, sizeof cc);
    cc.insecure = 1;
    cc.loop = loop;
    cc.log = lc.log;
    cc.io.send = flood_capture;
    cc.io.user = f;
    cc.io.local_host = "10.9.9.9";
    cl = wt_client_create(&cc);
    if (!loop || !cl) return -1;
    for (i = 0; i < conns; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://10.0.0.1:%d/x", 1000 + i); /* a port each: a connection each */
        if (wt_client_connect(cl, url, flood_ignore, NULL, NULL) != WT_OK) return -1;
        if (i % 50 == 49) wt_loop_process(loop);
    }
    wt_loop_process(loop);
    f->capture = 0;
    wt_client_destroy(cl);
    wt_loop_destroy(loop);
    return 0;
}

static void flood_free(flood *f) {
    free(f->pkt);
    free(f->len);
    free(f->conn);
}

WT_TEST(wt_sim_handshake_flood_does_not_lock_out_clients) {
    sim s;
    sink_server sv;
    uploader c;
    flood f;
    size_t i;
    uint64_t t0, asked;
    memset(&s, 0, sizeof s);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    REQUIRE(flood_make(&f, 1000) == 0);
    REQUIRE(f.n >= 1000); /* every ClientHello, one or two Initials each */
    sim_lossy(&s, 0, 0, 0);
    REQUIRE(sim_start(&s, 17, NULL, NULL) == 0);
    REQUIRE(wt_app_route(s.app, "/sink", sink_handler, &sv) == WT_OK);
    /* 1,000 ClientHellos from 200 addresses over 3 s */
    t0 = s.now;
    for (i = 0; i < f.n; i++) {
        struct sockaddr_in from;
        int k = f.conn[i];
        memset(&from, 0, sizeof from);
        from.sin_family = AF_INET;
        from.sin_port = htons((uint16_t)(40000 + k));
        from.sin_addr.s_addr = htonl(0x0a010000u + (uint32_t)(k % 200) + 1); /* 10.1.0.1 .. 10.1.0.200 */
        sim_inject(&s, &from, f.pkt[i], f.len[i], t0 + (uint64_t)k * 3000000ULL);
    }
    {
        int never = 0;
        sim_run(&s, &never, 1500); /* half way through the flood ... */
    }
    asked = sim_ms(&s);
    REQUIRE(sim_upload_start(&s, &c, 0, 0) == 0); /* ... a real client asks for a session */
    printf("    session open %llu ms after asking, in the middle of the flood; peak %zu server connections, "
           "%llu Retry packets to the flood\n",
           (unsigned long long)(sim_ms(&s) - asked), s.peak_conns, (unsigned long long)s.retries_to_others);
    CHECK(sim_ms(&s) - asked < 2000); /* a few round trips, not the flood's 10 s handshake timeout */
    CHECK(s.retries_to_others > 500);  /* the flood was asked to prove its addresses ... */
    CHECK(s.peak_conns <= 64);         /* ... so it never held more than a few slots */
    flood_free(&f);
    sim_stop(&s);
}

/* retry_threshold = 1: every new client proves its address first, and
   still gets its session (one round trip later). */
WT_TEST(wt_sim_retry_always) {
    sim s;
    sink_server sv;
    uploader c;
    wt_limits lim;
    memset(&s, 0, sizeof s);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    memset(&lim, 0, sizeof lim);
    lim.retry_threshold = 1;
    sim_lossy(&s, 0, 0, 0);
    REQUIRE(sim_start(&s, 19, &lim, NULL) == 0);
    REQUIRE(wt_app_route(s.app, "/sink", sink_handler, &sv) == WT_OK);
    REQUIRE(sim_upload_start(&s, &c, 1, 65536) == 0);
    CHECK(sim_run(&s, &c.all_answered, 10000));
    CHECK(upload_ok(&c.up[0]));
    CHECK(s.retries_to_client >= 1); /* one per Initial of its first flight */
    sim_stop(&s);
}

/* A forged Retry token is refused (CONNECTION_CLOSE with INVALID_TOKEN),
   and gets no slot: an Initial carrying made-up token bytes. */
WT_TEST(wt_sim_forged_retry_token_refused) {
    sim s;
    sink_server sv;
    uploader c;
    struct sockaddr_in other;
    uint8_t pkt[1200];
    size_t k, o = 0;
    memset(&s, 0, sizeof s);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sim_lossy(&s, 0, 0, 0);
    REQUIRE(sim_start(&s, 23, NULL, NULL) == 0);
    REQUIRE(wt_app_route(s.app, "/sink", sink_handler, &sv) == WT_OK);
    REQUIRE(sim_upload_start(&s, &c, 0, 0) == 0);
    memset(pkt, 0, sizeof pkt);
    pkt[o++] = 0xc0;                                  /* long header, Initial */
    pkt[o++] = 0, pkt[o++] = 0, pkt[o++] = 0, pkt[o++] = 1; /* QUIC v1 */
    pkt[o++] = 8;                                     /* DCID */
    for (k = 0; k < 8; k++) pkt[o++] = (uint8_t)(0x51 + k);
    pkt[o++] = 8;                                     /* SCID */
    for (k = 0; k < 8; k++) pkt[o++] = (uint8_t)(0x71 + k);
    pkt[o++] = 60;                                    /* token length */
    pkt[o++] = NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY;       /* looks like ours ... */
    for (k = 1; k < 60; k++) pkt[o++] = (uint8_t)(k * 7); /* ... but is not */
    {
        size_t rest = sizeof pkt - o - 2; /* the length field (2 bytes) covers the rest */
        pkt[o] = (uint8_t)(0x40 | (rest >> 8));
        pkt[o + 1] = (uint8_t)rest;
    }
    other = s.client_addr;
    other.sin_addr.s_addr = htonl(0x0a000063); /* 10.0.0.99 */
    harness_log_match = "invalid or expired Retry token";
    harness_log_hits = 0;
    sim_inject(&s, &other, pkt, sizeof pkt, s.now);
    {
        int never = 0;
        sim_run(&s, &never, 100);
    }
    harness_log_match = NULL;
    CHECK_EQ_INT(harness_log_hits, 1);
    CHECK_EQ_INT(s.app->ep.nconns, 1); /* the real client's only */
    CHECK_EQ_INT(s.to_others, 1);      /* the forger was told, once */
    CHECK(c.opened && !c.closed);
    sim_stop(&s);
}

/* ---------------------------------------------------------------- send budgets */
/* The server answers each stream with `per` bytes; the client holds every
   stream paused (never reads) until told to read. */
typedef struct mem_count {
    size_t now, peak;
} mem_count;

static void *mc_malloc(size_t n, void *u) {
    mem_count *m = (mem_count *)u;
    size_t *p = (size_t *)malloc(n + 16);
    if (!p) return NULL;
    p[0] = n;
    m->now += n;
    if (m->now > m->peak) m->peak = m->now;
    return (char *)p + 16;
}
static void mc_free(void *ptr, void *u) {
    mem_count *m = (mem_count *)u;
    size_t *p;
    if (!ptr) return;
    p = (size_t *)((char *)ptr - 16);
    m->now -= p[0];
    free(p);
}
static void *mc_realloc(void *ptr, size_t n, void *u) {
    void *q;
    size_t old;
    if (!ptr) return mc_malloc(n, u);
    old = *(size_t *)((char *)ptr - 16);
    if (!(q = mc_malloc(n, u))) return NULL;
    memcpy(q, ptr, old < n ? old : n);
    mc_free(ptr, u);
    return q;
}

typedef struct writer_stream {
    uint64_t left;
    uint64_t off;
} writer_stream;

static uint64_t writer_per;

static void writer_push(wt_stream *st, writer_stream *w) {
    uint8_t buf[16384];
    while (w->left) {
        size_t n = w->left < sizeof buf ? (size_t)w->left : sizeof buf, i;
        int k;
        for (i = 0; i < n; i++) buf[i] = sim_byte(w->off + i, 9);
        k = wt_stream_write(st, buf, n);
        if (k <= 0) return;
        w->left -= (uint64_t)k;
        w->off += (uint64_t)k;
    }
    wt_stream_finish(st);
}

static void writer_handler(wt_event *ev) {
    writer_stream *w = ev->stream ? (writer_stream *)wt_stream_user(ev->stream) : NULL;
    if (ev->type == WT_EV_STREAM_OPEN) {
        w = (writer_stream *)calloc(1, sizeof *w);
        w->left = writer_per;
        wt_stream_set_user(ev->stream, w);
        writer_push(ev->stream, w);
    }
    if (ev->type == WT_EV_STREAM_WRITABLE && w) writer_push(ev->stream, w);
    if (ev->type == WT_EV_STREAM_CLOSED && w) {
        free(w);
        wt_stream_set_user(ev->stream, NULL);
    }
}

typedef struct reader {
    int opened, closed, done_streams, bad, reading;
    wt_session *s;
    wt_stream *st[128];
    uint64_t got[128];
    int n;
} reader;

static void reader_handler(wt_event *ev) {
    reader *r = (reader *)ev->user;
    int i;
    if (ev->type == WT_EV_SESSION_OPEN) r->opened = 1, r->s = ev->session;
    if (ev->type == WT_EV_SESSION_CLOSED) r->closed = 1;
    if (ev->type != WT_EV_STREAM_DATA) return;
    for (i = 0; i < r->n && r->st[i] != ev->stream; i++) {}
    if (i == r->n) return;
    {
        size_t k;
        for (k = 0; k < ev->len; k++)
            if (ev->data[k] != sim_byte(r->got[i] + k, 9)) r->bad = 1;
    }
    r->got[i] += ev->len;
    if (ev->fin && r->got[i] == writer_per) r->done_streams++;
}

WT_TEST(wt_sim_send_budget_holds_against_a_client_that_never_reads) {
    sim s;
    reader r;
    wt_limits sl;
    mem_count mc;
    wt_allocator al;
    size_t peak_conn = 0, base;
    int i, all = 0;
    uint64_t t;
    memset(&s, 0, sizeof s);
    memset(&r, 0, sizeof r);
    memset(&sl, 0, sizeof sl);
    memset(&mc, 0, sizeof mc);
    al.malloc_fn = mc_malloc, al.realloc_fn = mc_realloc, al.free_fn = mc_free, al.user = &mc;
    sl.conn_send_buffer = 4u << 20; /* 4 MiB for all the connection's streams */
    writer_per = 256u << 10;        /* 120 streams x 256 KiB = 30 MiB to send */
    sim_lossy(&s, 0, 0, 0);
    sim_server_alloc = &al;
    i = sim_start(&s, 29, &sl, NULL);
    sim_server_alloc = NULL;
    REQUIRE(i == 0);
    REQUIRE(wt_app_route(s.app, "/w", writer_handler, NULL) == WT_OK);
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/w", reader_handler, &r, NULL) == WT_OK);
    REQUIRE(sim_run(&s, &r.opened, 10000));
    base = mc.now;
    for (i = 0; i < 120; i++) {
        REQUIRE(wt_session_open_stream(r.s, 1, &r.st[i]) == WT_OK);
        wt_stream_pause(r.st[i], 1); /* never read */
        REQUIRE(wt_stream_write(r.st[i], "?", 1) == 1);
        r.n++;
    }
    /* 5 virtual seconds of a server that wants to send 30 MiB */
    for (t = 0; t < 5000; t += 50) {
        int never = 0;
        sim_run(&s, &never, 50);
        if (s.app->ep.conns && s.app->ep.conns->wt.tx_stored > peak_conn) peak_conn = s.app->ep.conns->wt.tx_stored;
    }
    printf("    server: peak %zu bytes held for sending (budget %u), heap grew by at most %zu bytes\n", peak_conn,
           (unsigned)sl.conn_send_buffer, mc.peak - base);
    CHECK(peak_conn > sl.conn_send_buffer / 2);  /* it did fill up ... */
    CHECK(peak_conn <= sl.conn_send_buffer);     /* ... to the budget, not 30 MiB */
    CHECK(mc.peak - base < sl.conn_send_buffer + (6u << 20)); /* the heap says so too */
    /* now the client reads: every byte arrives, through WRITABLE after WRITABLE */
    for (i = 0; i < r.n; i++) wt_stream_pause(r.st[i], 0);
    {
        int done = 0;
        uint64_t end = sim_ms(&s) + 600000;
        while (!done && sim_ms(&s) < end) {
            sim_run(&s, &done, 100);
            done = r.done_streams == r.n;
        }
        all = done;
    }
    CHECK(all);
    CHECK(!r.bad);
    sim_stop(&s);
}

/* ---------------------------------------------------------------- datagram loss */
static void dg_sink(wt_event *ev) {
    sink_server *sv = (sink_server *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) sv->s = ev->session;
    if (ev->type == WT_EV_DATAGRAM) sv->finished++;
}

WT_TEST(wt_sim_datagram_loss_is_reported) {
    sim s;
    sink_server sv;
    uploader c;
    wt_stats cs, ss;
    int sent = 0, tries = 0, full = 0;
    uint8_t payload[100];
    memset(&s, 0, sizeof s);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    memset(payload, 'd', sizeof payload);
    sim_lossy(&s, 0.10, 0, 0);
    REQUIRE(sim_start(&s, 31, NULL, NULL) == 0);
    REQUIRE(wt_app_route(s.app, "/sink", dg_sink, &sv) == WT_OK);
    REQUIRE(sim_upload_start(&s, &c, 0, 0) == 0);
    while (sent < 500 && tries++ < 100000) {
        int never = 0;
        int rv = wt_session_send_datagram(c.s, payload, sizeof payload);
        if (rv == WT_OK) sent++;
        else if (rv == WT_ERR_WOULDBLOCK) full++;
        if (rv != WT_OK || sent % 16 == 0) sim_run(&s, &never, 5); /* let the queue drain */
    }
    {
        int never = 0;
        sim_run(&s, &never, 5000); /* every packet acknowledged or declared lost */
    }
    REQUIRE(c.s && sv.s);
    REQUIRE(wt_session_stats_get(c.s, &cs) == WT_OK);
    REQUIRE(wt_session_stats_get(sv.s, &ss) == WT_OK);
    printf("    client sent %llu, lost %llu, dropped %llu; server received %llu (wire lost %llu of %llu packets)\n",
           (unsigned long long)cs.datagrams_sent, (unsigned long long)cs.datagrams_lost,
           (unsigned long long)cs.datagrams_dropped, (unsigned long long)ss.datagrams_received,
           (unsigned long long)s.up.dropped, (unsigned long long)s.up.sent);
    CHECK_EQ_INT(sent, 500);
    CHECK_EQ_INT(cs.datagrams_sent, 500);
    CHECK_EQ_INT(cs.datagrams_dropped, full); /* the ones the full queue refused */
    CHECK_EQ_INT(ss.datagrams_received, sv.finished);
    CHECK(cs.datagrams_lost > 10); /* the wire did lose some ... */
    CHECK_EQ_INT(ss.datagrams_received + cs.datagrams_lost, 500); /* ... and every one is accounted for */
    sim_stop(&s);
}

/* Pacing (wt__conn_write): the next-packet time ngtcp2 sets after a write
   that sent our data holds nothing back, so it is not the loop's timeout (a
   deadline under a millisecond costs a kernel timer per poll); once it holds
   a datagram back, it is, and the datagram goes at that time. */
WT_TEST(wt_sim_pacing_deadline_counts_only_when_it_holds_data_back) {
    sim s;
    sink_server sv;
    uploader c;
    wt__conn *cc;
    uint8_t payload[100];
    int never = 0, t;
    memset(&s, 0, sizeof s);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    memset(payload, 'p', sizeof payload);
    sim_lossy(&s, 0, 0, 0); /* 20 ms each way: a pacing wait of some 100 us per packet */
    REQUIRE(sim_start(&s, 37, NULL, NULL) == 0);
    REQUIRE(wt_app_route(s.app, "/sink", dg_sink, &sv) == WT_OK);
    REQUIRE(sim_upload_start(&s, &c, 0, 0) == 0);
    sim_run(&s, &never, 2000); /* the handshake's last acknowledgements */
    cc = s.client->ep.conns;
    REQUIRE(cc && cc->tp.qc && c.s);
    /* one datagram: it goes, and pacing's deadline is ngtcp2's next one but
       not the loop's */
    REQUIRE(wt_session_send_datagram(c.s, payload, sizeof payload) == WT_OK);
    REQUIRE(wt_loop_process(s.loop) == WT_OK);
    CHECK_EQ_INT(cc->wt.dq_len, 0);
    CHECK(cc->tp.pace_skip);
    CHECK(ngtcp2_conn_get_expiry(cc->tp.qc) == cc->tp.pace_ts);
    CHECK(wt__conn_expiry_ns(cc) > cc->tp.pace_ts);
    CHECK(wt__conn_expiry_ns(cc) >= s.now + 1000000ULL); /* nothing due within 1 ms */
    /* another at the same instant: pacing holds it back, and its deadline
       is the loop's timeout (rounded up to 1 ms) */
    REQUIRE(wt_session_send_datagram(c.s, payload, sizeof payload) == WT_OK);
    REQUIRE(wt_loop_process(s.loop) == WT_OK);
    CHECK_EQ_INT(cc->wt.dq_len, 1);
    CHECK(!cc->tp.pace_skip);
    CHECK(wt__conn_expiry_ns(cc) == ngtcp2_conn_get_expiry(cc->tp.qc));
    t = wt_loop_timeout(s.loop);
    CHECK(t >= 0 && t <= 1);
    /* 1 ms of virtual time later it has gone, and both arrive */
    sim_run(&s, &never, 1);
    CHECK_EQ_INT(cc->wt.dq_len, 0);
    sim_run(&s, &never, 100);
    CHECK_EQ_INT(sv.finished, 2);
    sim_stop(&s);
}

/* The same empty datagram through the sans-I/O door (wt_app_input,
   wt_client_input): dropped, the session goes on. */
WT_TEST(wt_sim_regress_empty_datagram_is_dropped) {
    sim s;
    sink_server sv;
    uploader c;
    memset(&s, 0, sizeof s);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sim_lossy(&s, 0, 0, 0);
    REQUIRE(sim_start(&s, 29, NULL, NULL) == 0);
    REQUIRE(wt_app_route(s.app, "/sink", sink_handler, &sv) == WT_OK);
    REQUIRE(sim_upload_start(&s, &c, 1, 65536) == 0); /* a session open, an upload under way */
    CHECK_EQ_INT(wt_app_input(s.app, &s.client_addr, sizeof s.client_addr, (const uint8_t *)"", 0), WT_OK);
    CHECK_EQ_INT(wt_client_input(s.client, &s.server_addr, sizeof s.server_addr, (const uint8_t *)"", 0), WT_OK);
    CHECK(sim_run(&s, &c.all_answered, 10000));
    CHECK(upload_ok(&c.up[0]));
    CHECK(c.opened && !c.closed);
    sim_stop(&s);
}

/* A handshake the server refused (here a ClientHello it cannot parse:
   alert 50) leaves the connection closing, and a closing connection
   answers packets with its CONNECTION_CLOSE. It answered every one: 15-byte
   packets, perhaps from a spoofed address, bought some 60 bytes each, past
   the three times what came in that RFC 9000 8.1 allows while an address
   is unproven (found by fuzz/server.c). */
WT_TEST(wt_sim_regress_closing_answers_within_amplification_limit) {
    static const uint8_t hello[] = {0x06, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0x03, 0x03, 0x00, 0x00};
    static const uint8_t dcid[8] = {0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7};
    static const uint8_t scid[8] = {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7};
    sim s;
    struct sockaddr_in victim;
    uint8_t pkt[1500], small[15] = {0xc0, 0, 0, 0, 1, 8};
    size_t n;
    uint64_t rx;
    int i, never = 0;
    memset(&s, 0, sizeof s);
    sim_lossy(&s, 0, 0, 0);
    REQUIRE(sim_start(&s, 31, NULL, NULL) == 0);
    victim = s.client_addr;
    victim.sin_addr.s_addr = htonl(0x0a00004d); /* 10.0.0.77, not the simulated client */
    n = qi_seal(pkt, sizeof pkt, dcid, sizeof dcid, scid, sizeof scid, NULL, 0, 0, hello, sizeof hello, 1200);
    REQUIRE(n >= 1200);
    sim_inject(&s, &victim, pkt, n, s.now);
    rx = n;
    /* then 400 packets of 15 bytes over 400 ms, well inside the closing
       period (3 PTO: 3 s here): long header, its DCID, no SCID */
    memcpy(small + 6, dcid, sizeof dcid);
    for (i = 0; i < 400; i++) {
        sim_inject(&s, &victim, small, sizeof small, s.now + (uint64_t)(i + 1) * 1000000ULL);
        rx += sizeof small;
    }
    harness_log_match = "we send alert 50";
    harness_log_hits = 0;
    sim_run(&s, &never, 500);
    harness_log_match = NULL;
    CHECK_EQ_INT(harness_log_hits, 1);   /* refused, the connection closing */
    CHECK(s.to_others >= 2);             /* the close, and again, as RFC 9000 10.2.1 asks ... */
    CHECK(s.to_others <= 12);            /* ... to the 1st, 2nd, 4th ... packet only */
    CHECK(s.bytes_to_others <= 3 * rx);  /* and within the limit */
    sim_stop(&s);
}
