/* test_flow.c - session flow control (draft-ietf-webtrans-http3-16 section
   5) and the two dialects. Mostly on the simulated network (sim.h), in
   virtual time: the wt.h client in the latest dialect against the wt.h
   server, blocked by WT_MAX_DATA / WT_MAX_STREAMS and freed by the
   capsules; a client that ignores the limits (its test hook) and gets
   WT_FLOW_CONTROL_ERROR; 1,000 streams and 64 MiB under small limits; a
   peer that looks like Safari; draft-02 and latest clients side by side. */
#include "sim.h"

/* The client config of the next sim_start (through sim_configure). */
static wt_dialect flow_dialect;
static int flow_ignore_limits;
static const char *const *flow_headers;
static const char *flow_origin;

static void flow_configure(wt_app_config *ac, wt_client_config *cc) {
    (void)ac;
    if (!cc) return;
    cc->dialect = flow_dialect;
    cc->test_ignore_session_limits = flow_ignore_limits;
    cc->headers = flow_headers;
    cc->origin = flow_origin;
}

static int flow_start(sim *s, const wt_limits *server_lim, const wt_limits *client_lim, wt_dialect d, int ignore) {
    int rv;
    memset(s, 0, sizeof *s);
    s->up.delay_ms = s->down.delay_ms = 5;
    flow_dialect = d;
    flow_ignore_limits = ignore;
    sim_configure = flow_configure;
    rv = sim_start(s, 7, server_lim, client_lim);
    sim_configure = NULL;
    flow_dialect = WT_DIALECT_AUTO;
    flow_ignore_limits = 0;
    flow_headers = NULL;
    flow_origin = NULL;
    return rv;
}

/* Runs in steps of 5 virtual ms until *flag, calling step (if any) between
   them: how the tests retry what waits on a capsule with no event of its
   own (a stream the session's count refused). */
static int flow_run(sim *s, volatile int *flag, uint64_t ms, void (*step)(void *), void *arg) {
    uint64_t end = sim_ms(s) + ms;
    int never = 0;
    while (!*flag && sim_ms(s) < end) {
        sim_run(s, &never, 5);
        if (step) step(arg);
    }
    return *flag;
}

/* Stream i carries: its index (4 bytes), its payload length (4 bytes),
   then flow_byte(i, 0 ..). */
static uint8_t flow_byte(uint32_t i, uint64_t j) { return (uint8_t)(i * 7u + j * 131u + (j >> 11)); }

/* ---------------------------------------------------------------- the server: a verifying sink */
typedef struct flow_in {
    uint8_t head[8];
    uint64_t got;          /* bytes of the stream so far, head included */
    uint32_t idx, len;
    int bad;
} flow_in;

#define FLOW_MAX_HELD 64
typedef struct flow_srv {
    int opened, closed, close_error, streams, finished, bad;
    int pause;             /* pause each new stream (a reader that takes nothing) */
    uint64_t bytes;
    wt_session *s;
    wt_stream *held[FLOW_MAX_HELD];
    int nheld;
    unsigned char done_idx[1024];
} flow_srv;

static void flow_srv_handler(wt_event *ev) {
    flow_srv *sv = (flow_srv *)ev->user;
    wt_stream *st = ev->stream;
    flow_in *in = st ? (flow_in *)wt_stream_user(st) : NULL;
    size_t i;
    if (sim_session_event(ev, &sv->opened, &sv->closed, &sv->close_error, &sv->s)) return;
    switch (ev->type) {
    case WT_EV_STREAM_OPEN:
        sv->streams++;
        wt_stream_set_user(st, calloc(1, sizeof(flow_in)));
        if (sv->pause) {
            wt_stream_pause(st, 1);
            if (sv->nheld < FLOW_MAX_HELD) sv->held[sv->nheld++] = st;
        }
        break;
    case WT_EV_STREAM_DATA:
        if (!in) break;
        for (i = 0; i < ev->len; i++, in->got++) {
            if (in->got < 8) {
                in->head[in->got] = ev->data[i];
                if (in->got == 7) {
                    in->idx = (uint32_t)in->head[0] << 24 | (uint32_t)in->head[1] << 16 | (uint32_t)in->head[2] << 8 | in->head[3];
                    in->len = (uint32_t)in->head[4] << 24 | (uint32_t)in->head[5] << 16 | (uint32_t)in->head[6] << 8 | in->head[7];
                }
            } else if (ev->data[i] != flow_byte(in->idx, in->got - 8)) {
                in->bad = 1;
            }
        }
        sv->bytes += ev->len;
        if (ev->fin) {
            if (in->got != 8 + (uint64_t)in->len) in->bad = 1;
            if (in->idx < sizeof sv->done_idx) {
                if (sv->done_idx[in->idx]) in->bad = 1; /* twice */
                sv->done_idx[in->idx] = 1;
            }
            sv->bad |= in->bad;
            sv->finished++;
        }
        break;
    case WT_EV_STREAM_CLOSED:
        for (i = 0; i < (size_t)sv->nheld; i++)
            if (sv->held[i] == st) sv->held[i] = NULL;
        free(in);
        wt_stream_set_user(st, NULL);
        break;
    default: break;
    }
}

static void flow_srv_resume(flow_srv *sv) {
    int i;
    sv->pause = 0;
    for (i = 0; i < sv->nheld; i++)
        if (sv->held[i]) wt_stream_pause(sv->held[i], 0);
    sv->nheld = 0;
}

/* ---------------------------------------------------------------- the client: uploads */
#define FLOW_MAX_OUT 256
typedef struct flow_out {
    wt_stream *st;
    uint32_t idx, len;
    uint64_t sent;         /* of 8 + len */
    int finished;
} flow_out;

typedef struct flow_cli {
    int opened, closed, close_error, writable, limit_hits, streams_events;
    wt_session *s;
    int bidi;              /* the kind of stream to open */
    uint32_t total;        /* streams to send in all */
    uint32_t each;         /* payload bytes per stream (0: flow_len) */
    uint32_t next;         /* index of the next stream to open */
    uint64_t sent_bytes;
    int done;              /* all opened and finished */
    flow_out out[FLOW_MAX_OUT];
} flow_cli;

static uint32_t flow_len(const flow_cli *c, uint32_t idx) {
    /* 64 MiB over 1000 streams: 67108 bytes each, the rest on stream 0 */
    if (c->each) return c->each;
    return 67108 + (idx == 0 ? 864 : 0);
}

static void flow_pump(flow_cli *c, flow_out *o) {
    uint8_t buf[8192];
    while (o->st && o->sent < 8 + (uint64_t)o->len) {
        size_t n = 0;
        int w;
        while (n < sizeof buf && o->sent + n < 8 + (uint64_t)o->len) {
            uint64_t at = o->sent + n;
            if (at < 4) buf[n] = (uint8_t)(o->idx >> (8 * (3 - at)));
            else if (at < 8) buf[n] = (uint8_t)(o->len >> (8 * (7 - at)));
            else buf[n] = flow_byte(o->idx, at - 8);
            n++;
        }
        w = wt_stream_write(o->st, buf, n);
        if (w <= 0) return;
        o->sent += (uint64_t)w;
        c->sent_bytes += (uint64_t)w;
    }
    if (o->st && !o->finished) {
        o->finished = 1;
        wt_stream_finish(o->st);
    }
}

/* Opens streams while the session lets it, up to total. */
static void flow_fill(void *arg) {
    flow_cli *c = (flow_cli *)arg;
    int i;
    while (c->s && c->next < c->total) {
        flow_out *o = NULL;
        for (i = 0; i < FLOW_MAX_OUT; i++)
            if (!c->out[i].st) {
                o = &c->out[i];
                break;
            }
        if (!o) break;
        memset(o, 0, sizeof *o);
        if (wt_session_open_stream(c->s, c->bidi, &o->st) != WT_OK) {
            o->st = NULL;
            c->limit_hits++;
            break;
        }
        o->idx = c->next++;
        o->len = flow_len(c, o->idx);
        flow_pump(c, o);
    }
    if (c->next == c->total) {
        for (i = 0; i < FLOW_MAX_OUT; i++)
            if (c->out[i].st && !c->out[i].finished) return;
        c->done = 1;
    }
}

static void flow_cli_handler(wt_event *ev) {
    flow_cli *c = (flow_cli *)ev->user;
    int i;
    if (sim_session_event(ev, &c->opened, &c->closed, &c->close_error, &c->s)) return;
    switch (ev->type) {
    case WT_EV_STREAM_WRITABLE:
        c->writable++;
        for (i = 0; i < FLOW_MAX_OUT; i++)
            if (c->out[i].st == ev->stream) flow_pump(c, &c->out[i]);
        break;
    case WT_EV_STREAM_CLOSED:
        for (i = 0; i < FLOW_MAX_OUT; i++)
            if (c->out[i].st == ev->stream) c->out[i].st = NULL;
        break;
    case WT_EV_SESSION_STREAMS: /* WT_MAX_STREAMS came after a WT_ERR_LIMIT */
        c->streams_events++;
        flow_fill(c);
        break;
    default: break;
    }
}

/* A server with /sink (flow_srv) and one session of the client to it. */
static int flow_connect(sim *s, flow_srv *sv, flow_cli *c) {
    if (wt_app_route(s->app, "/sink", flow_srv_handler, sv) != WT_OK) return -1;
    if (wt_client_connect(s->client, "https://10.0.0.1:443/sink", flow_cli_handler, c, NULL) != WT_OK) return -1;
    if (!sim_run(s, &c->opened, 10000) || !sim_run(s, &sv->opened, 10000)) return -1;
    return 0;
}

/* flow_start, then flow_connect. */
static int flow_open(sim *s, const wt_limits *server_lim, const wt_limits *client_lim, wt_dialect d, int ignore,
                     flow_srv *sv, flow_cli *c) {
    if (flow_start(s, server_lim, client_lim, d, ignore) != 0) return -1;
    return flow_connect(s, sv, c);
}

/* ---------------------------------------------------------------- tests */
WT_TEST(wt_flow_blocked_at_max_data_then_unblocked) {
    sim s;
    wt_limits sl;
    flow_srv sv;
    flow_cli c;
    int got_64k;
    memset(&sl, 0, sizeof sl);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sl.session_max_data = 64 * 1024;
    sv.pause = 1; /* take nothing: no credit comes back */
    REQUIRE(flow_open(&s, &sl, NULL, WT_DIALECT_AUTO, 0, &sv, &c) == 0);
    CHECK_EQ_INT(wt_session_dialect(c.s), WT_DIALECT_LATEST);
    CHECK(wt_session_flow_control(c.s) && wt_session_flow_control(sv.s));
    CHECK(c.s->fc_tx_max == 64 * 1024); /* from the server's SETTINGS_WT_INITIAL_MAX_DATA */
    c.total = 1;
    c.each = 256 * 1024;
    flow_fill(&c);
    /* the write took no more than the session's credit (plus our 8-byte head) */
    CHECK(c.sent_bytes == 64 * 1024);
    CHECK(c.out[0].sent == 64 * 1024);
    CHECK_EQ_INT(wt_stream_write(c.out[0].st, "x", 1), 0);
    CHECK_EQ_INT(c.s->fc_count.data_blocked_sent, 1); /* once per limit */
    got_64k = 0;
    {
        int i;
        for (i = 0; i < 200 && !(sv.s && sv.s->fc_rx_used == 64 * 1024 && sv.s->fc_count.data_blocked_received); i++)
            sim_run(&s, &got_64k, 5);
    }
    REQUIRE(sv.s != NULL);
    CHECK(sv.s->fc_rx_used == 64 * 1024);               /* the server holds all the credit allowed ... */
    CHECK_EQ_INT(sv.s->fc_count.data_blocked_received, 1); /* ... and heard the client is blocked */
    CHECK_EQ_INT(sv.s->fc_count.max_data_sent, 0);        /* paused: no credit given back */
    CHECK_EQ_INT(c.s->fc_count.max_data_received, 0);
    CHECK_EQ_INT(sv.finished, 0);
    /* the reader takes the data: WT_MAX_DATA, WRITABLE, the rest flows */
    flow_srv_resume(&sv);
    CHECK(flow_run(&s, &sv.finished, 20000, NULL, NULL));
    CHECK_EQ_INT(sv.bad, 0);
    CHECK(sv.bytes == 8 + 256 * 1024);
    CHECK(sv.s->fc_count.max_data_sent >= 1);
    CHECK(c.s->fc_count.max_data_received >= 1);
    CHECK(c.writable >= 1);
    CHECK_EQ_INT(c.closed, 0);
    sim_stop(&s);
}

WT_TEST(wt_flow_blocked_at_max_streams_then_unblocked) {
    sim s;
    wt_limits sl;
    flow_srv sv;
    flow_cli c;
    wt_stream *st;
    int i, opened = 0;
    memset(&sl, 0, sizeof sl);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sl.session_max_streams_uni = 4;
    sl.session_max_streams_bidi = 2;
    REQUIRE(flow_open(&s, &sl, NULL, WT_DIALECT_LATEST, 0, &sv, &c) == 0);
    /* bidi: two, then the session's count (not QUIC's, 128) refuses */
    for (i = 0; i < 3; i++)
        if (wt_session_open_stream(c.s, 1, &st) == WT_OK) opened++;
    CHECK_EQ_INT(opened, 2);
    CHECK_EQ_INT(wt_session_open_stream(c.s, 1, &st), WT_ERR_LIMIT);
    CHECK(st == NULL);
    /* uni: four through the test's uploader, then refused */
    c.total = 10;
    c.each = 1000;
    flow_fill(&c);
    CHECK_EQ_INT(c.next, 4);
    CHECK(c.limit_hits >= 1);
    CHECK_EQ_INT(c.s->fc_count.streams_blocked_sent, 2); /* one per direction and limit */
    /* the server reads the four to their end: their slots come back
       (WT_MAX_STREAMS once half the window is free), SESSION_STREAMS tells
       the client, and the rest go (no polling here: the event drives it) */
    CHECK(flow_run(&s, &c.done, 20000, NULL, NULL));
    CHECK(c.streams_events >= 1);
    {
        int fin = 0;
        uint64_t end = sim_ms(&s) + 20000;
        while (sv.finished < 10 && sim_ms(&s) < end) sim_run(&s, &fin, 5);
    }
    CHECK_EQ_INT(sv.finished, 10);
    CHECK_EQ_INT(sv.bad, 0);
    CHECK(sv.s->fc_count.streams_blocked_received >= 2);
    CHECK(sv.s->fc_count.max_streams_sent >= 2);
    CHECK(c.s->fc_count.max_streams_received >= 2);
    CHECK(c.s->fc_tx_max_streams[0] > 4);
    CHECK(c.s->fc_rx_max_streams[1] == sv.s->fc_tx_max_streams[1]); /* both ends agree */
    CHECK_EQ_INT(c.closed, 0);
    sim_stop(&s);
}

/* A client that ignores the server's limits (the test hook) gets its
   session closed with WT_FLOW_CONTROL_ERROR, on both ends. */
static void flow_violation(int by_streams) {
    sim s;
    wt_limits sl;
    flow_srv sv;
    flow_cli c;
    memset(&sl, 0, sizeof sl);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sl.session_max_data = 16 * 1024;
    sl.session_max_streams_uni = 2;
    sv.pause = 1; /* no credit comes back: whatever passes the limit is the client's fault */
    harness_log_match = "closing it with WT_FLOW_CONTROL_ERROR";
    harness_log_hits = 0;
    REQUIRE(flow_open(&s, &sl, NULL, WT_DIALECT_AUTO, 1, &sv, &c) == 0);
    if (by_streams) {
        c.total = 3; /* one more than allowed */
        c.each = 10;
    } else {
        c.total = 1;
        c.each = 100 * 1024;
    }
    flow_fill(&c);
    CHECK_EQ_INT(c.next, (int)c.total); /* the client's side did not stop it */
    CHECK(flow_run(&s, &c.closed, 10000, NULL, NULL));
    CHECK(flow_run(&s, &sv.closed, 10000, NULL, NULL));
    CHECK_EQ_INT(sv.close_error, WT_ERR_FLOW_CONTROL);
    CHECK_EQ_INT(c.close_error, WT_ERR_FLOW_CONTROL); /* from the CONNECT stream's reset code */
    CHECK_EQ_INT(harness_log_hits, 1);
    harness_log_match = NULL;
    sim_stop(&s);
}

WT_TEST(wt_flow_client_past_max_data_gets_flow_control_error) { flow_violation(0); }
WT_TEST(wt_flow_client_past_max_streams_gets_flow_control_error) { flow_violation(1); }

/* The same client without the hook, the same limits: it waits instead. */
WT_TEST(wt_flow_well_behaved_client_is_not_closed) {
    sim s;
    wt_limits sl;
    flow_srv sv;
    flow_cli c;
    int never = 0;
    memset(&sl, 0, sizeof sl);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sl.session_max_data = 16 * 1024;
    sl.session_max_streams_uni = 2;
    sv.pause = 1;
    REQUIRE(flow_open(&s, &sl, NULL, WT_DIALECT_AUTO, 0, &sv, &c) == 0);
    c.total = 3;
    c.each = 100 * 1024;
    flow_fill(&c);
    CHECK_EQ_INT(c.next, 2);
    CHECK(c.sent_bytes == 16 * 1024);
    sim_run(&s, &never, 2000);
    CHECK_EQ_INT(sv.closed, 0);
    CHECK_EQ_INT(c.closed, 0);
    CHECK(sv.s && sv.s->fc_rx_used == 16 * 1024);
    sim_stop(&s);
}

WT_TEST(wt_flow_1000_streams_64mib_under_small_limits) {
    sim s;
    wt_limits sl;
    flow_srv sv;
    flow_cli c;
    int fin = 0;
    uint64_t end;
    memset(&sl, 0, sizeof sl);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sl.session_max_data = 256 * 1024;
    sl.session_max_streams_uni = 8;
    REQUIRE(flow_open(&s, &sl, NULL, WT_DIALECT_AUTO, 0, &sv, &c) == 0);
    c.total = 1000;
    flow_fill(&c);
    CHECK(flow_run(&s, &c.done, 600000, flow_fill, &c));
    end = sim_ms(&s) + 60000;
    while (sv.finished < 1000 && sim_ms(&s) < end) sim_run(&s, &fin, 10);
    CHECK_EQ_INT(sv.finished, 1000);
    CHECK_EQ_INT(sv.streams, 1000);
    CHECK_EQ_INT(sv.bad, 0);
    CHECK(sv.bytes == 64ULL * 1024 * 1024 + 8000); /* 64 MiB of payload + 1000 heads */
    CHECK(c.limit_hits > 0);
    CHECK(sv.s->fc_count.max_data_sent > 100);
    CHECK(sv.s->fc_count.max_streams_sent > 100);
    CHECK(sv.s->fc_rx_used <= sv.s->fc_rx_max);
    CHECK_EQ_INT(c.closed, 0);
    printf("    64 MiB in 1000 streams: %.1f s virtual, %u WT_MAX_DATA, %u WT_MAX_STREAMS, %u blocked\n",
           (double)sim_ms(&s) / 1000.0, sv.s->fc_count.max_data_sent, sv.s->fc_count.max_streams_sent,
           c.s->fc_count.data_blocked_sent + c.s->fc_count.streams_blocked_sent);
    sim_stop(&s);
}

/* Forced dialects: what each side sees, and whether flow control applies. */
static void flow_forced(wt_dialect d) {
    sim s;
    flow_srv sv;
    flow_cli c;
    int fin = 0;
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    REQUIRE(flow_open(&s, NULL, NULL, d, 0, &sv, &c) == 0);
    CHECK_EQ_INT(wt_session_dialect(c.s), d);
    CHECK_EQ_INT(wt_session_dialect(sv.s), d);
    CHECK_EQ_INT(wt_session_flow_control(c.s), d == WT_DIALECT_LATEST);
    CHECK_EQ_INT(wt_session_flow_control(sv.s), d == WT_DIALECT_LATEST);
    /* what the client advertised fits its dialect */
    CHECK_EQ_INT(s.app->ep.conns->h3.peer.wt_draft02, d == WT_DIALECT_DRAFT02);
    CHECK_EQ_INT(s.app->ep.conns->h3.peer.wt_enabled, d == WT_DIALECT_LATEST);
    CHECK_EQ_INT(WT__SETTINGS_FC(&s.app->ep.conns->h3.peer), d == WT_DIALECT_LATEST);
    c.total = 3;
    c.each = 50000;
    flow_fill(&c);
    CHECK(flow_run(&s, &c.done, 10000, flow_fill, &c));
    {
        uint64_t end = sim_ms(&s) + 10000;
        while (sv.finished < 3 && sim_ms(&s) < end) sim_run(&s, &fin, 5);
    }
    CHECK_EQ_INT(sv.finished, 3);
    CHECK_EQ_INT(sv.bad, 0);
    sim_stop(&s);
}

WT_TEST(wt_flow_forced_draft02) { flow_forced(WT_DIALECT_DRAFT02); }
WT_TEST(wt_flow_forced_latest) { flow_forced(WT_DIALECT_LATEST); }

/* A peer that sends what WebKit configures Network.framework with
   (Source/WebKit/NetworkProcess/webtransport/cocoa/
   NetworkTransportSessionCocoa.mm: initial_max_streams_uni/bidi from
   anticipatedConcurrentIncoming*Streams, 100 by default; the origin and
   a wt-available-protocols header, "" when the page offers none; QUIC
   max_datagram_frame_size 65535). The SETTINGS frame itself comes from
   Network.framework, which is not open source: its WT_INITIAL_MAX_DATA is
   assumed non-zero here (1 MiB). What Safari needs from the server
   (WT_MAX_SESSIONS >= 1, the three WT_INITIAL_* non-zero, WT_ENABLED,
   credit before stream data) is checked on the SETTINGS it received. */
WT_TEST(wt_flow_safari_like_peer) {
    static const char *const hdrs[] = {"wt-available-protocols", "", NULL};
    sim s;
    wt_limits cl;
    flow_srv sv;
    flow_cli c;
    const wt__wt_settings *srv_settings, *cli_settings;
    int fin = 0;
    memset(&cl, 0, sizeof cl);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    cl.session_max_streams_uni = 100;
    cl.session_max_streams_bidi = 100;
    cl.session_max_data = 1024 * 1024;
    flow_headers = hdrs;
    flow_origin = "https://example.com";
    REQUIRE(flow_open(&s, NULL, &cl, WT_DIALECT_LATEST, 0, &sv, &c) == 0);
    srv_settings = &s.client->ep.conns->h3.peer;
    cli_settings = &s.app->ep.conns->h3.peer;
    CHECK(srv_settings->max_sessions >= 1);
    CHECK(srv_settings->init_max_data > 0);
    CHECK(srv_settings->init_max_streams_bidi > 0);
    CHECK(srv_settings->init_max_streams_uni > 0);
    CHECK(srv_settings->wt_enabled && srv_settings->wt_draft02 && srv_settings->datagram && srv_settings->connect);
    CHECK(cli_settings->init_max_streams_uni == 100 && cli_settings->init_max_streams_bidi == 100);
    CHECK(strcmp(wt_session_header(sv.s, ":protocol"), "webtransport-h3") == 0);
    CHECK(strcmp(wt_session_header(sv.s, "wt-available-protocols"), "") == 0);
    CHECK(strcmp(wt_session_origin(sv.s), "https://example.com") == 0);
    CHECK(wt_session_flow_control(sv.s));
    CHECK(sv.s->fc_tx_max == 1024 * 1024 && sv.s->fc_tx_max_streams[0] == 100);
    c.total = 4;
    c.each = 100000;
    flow_fill(&c);
    CHECK(flow_run(&s, &c.done, 10000, flow_fill, &c));
    {
        uint64_t end = sim_ms(&s) + 10000;
        while (sv.finished < 4 && sim_ms(&s) < end) sim_run(&s, &fin, 5);
    }
    CHECK_EQ_INT(sv.finished, 4);
    CHECK_EQ_INT(sv.bad, 0);
    sim_stop(&s);
}

/* Flow-control capsules on a draft-02 session are ignored (draft-16 5.1),
   and a malformed one (two varints) is still a protocol error. */
WT_TEST(wt_flow_capsules_ignored_without_flow_control) {
    sim s;
    flow_srv sv;
    flow_cli c;
    uint8_t cap[32];
    size_t n = 0;
    int never = 0;
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    REQUIRE(flow_open(&s, NULL, NULL, WT_DIALECT_DRAFT02, 0, &sv, &c) == 0);
    REQUIRE(!wt_session_flow_control(sv.s));
    /* a WT_MAX_DATA that lowers nothing it knows of: ignored */
    n += wt__varint_put(cap + n, WT__CAPSULE_MAX_DATA);
    n += wt__varint_put(cap + n, 1);
    n += wt__varint_put(cap + n, 0);
    REQUIRE(wt__sendbuf_append(&c.s->conn->ep->alloc, &c.s->cap_tx, cap, n) == WT_OK);
    nghttp3_conn_resume_stream(c.s->conn->h3.conn, c.s->id);
    c.s->conn->dirty = 1;
    sim_run(&s, &never, 500);
    CHECK_EQ_INT(sv.closed, 0);
    CHECK(sv.s && sv.s->fc_count.max_data_received == 0);
    /* one with a value that is not a single varint */
    n = 0;
    n += wt__varint_put(cap + n, WT__CAPSULE_MAX_DATA);
    n += wt__varint_put(cap + n, 2);
    cap[n++] = 0x01, cap[n++] = 0x02;
    REQUIRE(wt__sendbuf_append(&c.s->conn->ep->alloc, &c.s->cap_tx, cap, n) == WT_OK);
    nghttp3_conn_resume_stream(c.s->conn->h3.conn, c.s->id);
    c.s->conn->dirty = 1;
    CHECK(flow_run(&s, &sv.closed, 5000, NULL, NULL));
    CHECK_EQ_INT(sv.close_error, WT_ERR_PROTOCOL);
    sim_stop(&s);
}

/* ---------------------------------------------------------------- two dialects, one server */
WT_TEST(wt_flow_draft02_and_latest_clients_at_once) {
    harness h;
    flow_srv sv;
    flow_cli c1, c2;
    wt_client_config cc;
    wt_client *old;
    char url[200];
    memset(&sv, 0, sizeof sv);
    memset(&c1, 0, sizeof c1);
    memset(&c2, 0, sizeof c2);
    REQUIRE(harness_start_ex(&h, NULL, NULL, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/sink", flow_srv_handler, &sv) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    harness_client_config(&h, &cc);
    cc.dialect = WT_DIALECT_DRAFT02;
    old = wt_client_create(&cc);
    REQUIRE(old != NULL);
    snprintf(url, sizeof url, "%s/sink", h.url);
    REQUIRE(wt_client_connect(h.client, url, flow_cli_handler, &c1, NULL) == WT_OK);
    REQUIRE(wt_client_connect(old, url, flow_cli_handler, &c2, NULL) == WT_OK);
    REQUIRE(harness_run(&h, &c1.opened, HARNESS_DEADLINE_MS));
    REQUIRE(harness_run(&h, &c2.opened, HARNESS_DEADLINE_MS));
    CHECK_EQ_INT(wt_session_dialect(c1.s), WT_DIALECT_LATEST);
    CHECK_EQ_INT(wt_session_dialect(c2.s), WT_DIALECT_DRAFT02);
    CHECK(wt_session_flow_control(c1.s));
    CHECK(!wt_session_flow_control(c2.s));
    CHECK(strcmp(wt_session_response_header(c2.s, "sec-webtransport-http3-draft"), "draft02") == 0);
    CHECK(wt_session_response_header(c1.s, "sec-webtransport-http3-draft") == NULL);
    c1.total = c2.total = 5;
    c1.each = c2.each = 30000;
    c2.next = 500; /* other stream indexes than c1's */
    c2.total = 505;
    flow_fill(&c1);
    flow_fill(&c2);
    RUN_UNTIL(h.loop, (flow_fill(&c1), flow_fill(&c2), c1.done && c2.done && sv.finished == 10), HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(sv.opened, 2);
    CHECK_EQ_INT(sv.finished, 10);
    CHECK_EQ_INT(sv.bad, 0);
    wt_client_destroy(old);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- the server side of the dialects */
/* A latest-dialect CONNECT that comes before the client's SETTINGS waits
   for them (draft-16 7.1: they say whether flow control applies); here
   the server is made to forget it saw them, then hears them again. */
WT_TEST(wt_flow_latest_request_waits_for_client_settings) {
    sim s;
    flow_srv sv;
    flow_cli c, c2;
    wt__conn *sc;
    wt_session *ss;
    int never = 0;
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    memset(&c2, 0, sizeof c2);
    REQUIRE(flow_open(&s, NULL, NULL, WT_DIALECT_LATEST, 0, &sv, &c) == 0);
    sc = s.app->ep.conns;
    REQUIRE(sc != NULL);
    sc->h3.peer.seen = 0;
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/sink", flow_cli_handler, &c2, NULL) == WT_OK);
    sim_run(&s, &never, 300);
    CHECK_EQ_INT(sv.opened, 1); /* held back ... */
    CHECK_EQ_INT(c2.opened, 0);
    for (ss = sc->wt.sessions; ss && !ss->wait_settings; ss = ss->next) continue;
    CHECK(ss != NULL && ss->state == WT__SESS_REQUESTED);
    sc->h3.peer.seen = 1;
    wt__conn_on_peer_settings(sc); /* ... until the SETTINGS are in */
    CHECK(sim_run(&s, &c2.opened, 5000));
    CHECK_EQ_INT(sv.opened, 2);
    CHECK(wt_session_flow_control(c2.s));
    sim_stop(&s);
}

/* Without flow control (a latest-dialect client that sent no WT_INITIAL_*)
   a second session on the connection is reset with H3_REQUEST_REJECTED
   (draft-16 5.1); with it, the second session opens (the test above). */
WT_TEST(wt_flow_second_session_without_flow_control_is_rejected) {
    sim s;
    flow_srv sv;
    flow_cli c, c2;
    wt__conn *sc;
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    memset(&c2, 0, sizeof c2);
    REQUIRE(flow_open(&s, NULL, NULL, WT_DIALECT_LATEST, 0, &sv, &c) == 0);
    sc = s.app->ep.conns;
    REQUIRE(sc != NULL);
    /* as if the client had not advertised flow control */
    sc->h3.peer.init_max_data = sc->h3.peer.init_max_streams_bidi = sc->h3.peer.init_max_streams_uni = 0;
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/sink", flow_cli_handler, &c2, NULL) == WT_OK);
    CHECK(sim_run(&s, &c2.closed, 5000));
    CHECK_EQ_INT(c2.opened, 0);
    CHECK_EQ_INT(c2.close_error, WT_ERR_CLOSED); /* the CONNECT stream was reset */
    CHECK_EQ_INT(sv.opened, 1);
    CHECK_EQ_INT(c.closed, 0); /* the first session goes on */
    sim_stop(&s);
}

/* A stream reset in the middle: its final size is what both ends count
   against the session (draft-16 5.4), whatever was queued but never sent
   comes back to the sender, and the session goes on. */
WT_TEST(wt_flow_reset_stream_final_size_counts_on_both_ends) {
    sim s;
    wt_limits sl;
    flow_srv sv;
    flow_cli c;
    int never = 0;
    uint64_t used;
    memset(&sl, 0, sizeof sl);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sl.session_max_data = 64 * 1024;
    sv.pause = 1;
    REQUIRE(flow_open(&s, &sl, NULL, WT_DIALECT_AUTO, 0, &sv, &c) == 0);
    c.total = 1;
    c.each = 200 * 1024;
    flow_fill(&c);
    CHECK(c.s->fc_tx_used == 64 * 1024);
    sim_run(&s, &never, 1); /* the first flight leaves, not all of it */
    REQUIRE(c.out[0].st != NULL);
    CHECK_EQ_INT(wt_stream_reset(c.out[0].st, 9), WT_OK);
    used = c.s->fc_tx_used;
    CHECK(used > 0 && used < 64 * 1024); /* the unsent part came back */
    sim_run(&s, &never, 500);
    REQUIRE(sv.s != NULL);
    CHECK(sv.s->fc_rx_used == used); /* the server counts the final size, no more, no less */
    CHECK_EQ_INT(sv.closed, 0);
    /* the session goes on: another stream, all of it */
    flow_srv_resume(&sv);
    c.total = 2;
    c.each = 100 * 1024;
    flow_fill(&c);
    CHECK(flow_run(&s, &c.done, 10000, flow_fill, &c));
    {
        uint64_t end = sim_ms(&s) + 10000;
        while (sv.finished < 1 && sim_ms(&s) < end) sim_run(&s, &never, 5);
    }
    CHECK_EQ_INT(sv.finished, 1);
    CHECK_EQ_INT(sv.bad, 0);
    CHECK(sv.s->fc_rx_used == c.s->fc_tx_used);
    sim_stop(&s);
}

/* The client's side of draft-16 5.1: a server that speaks the latest
   dialect without flow control gets one session per connection, so a
   second session goes on a connection of its own. */
WT_TEST(wt_flow_client_pools_only_with_flow_control) {
    sim s;
    flow_srv sv;
    flow_cli c, c2, c3;
    wt__conn *cc;
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    memset(&c2, 0, sizeof c2);
    memset(&c3, 0, sizeof c3);
    REQUIRE(flow_open(&s, NULL, NULL, WT_DIALECT_AUTO, 0, &sv, &c) == 0);
    /* with flow control: the second session shares the connection */
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/sink", flow_cli_handler, &c2, NULL) == WT_OK);
    CHECK(sim_run(&s, &c2.opened, 5000));
    CHECK_EQ_INT(s.client->ep.nconns, 1);
    /* as if the server had advertised no flow control */
    cc = s.client->ep.conns;
    cc->h3.peer.init_max_data = cc->h3.peer.init_max_streams_bidi = cc->h3.peer.init_max_streams_uni = 0;
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/sink", flow_cli_handler, &c3, NULL) == WT_OK);
    CHECK_EQ_INT(s.client->ep.nconns, 2);
    CHECK(sim_run(&s, &c3.opened, 5000));
    CHECK(wt_session_flow_control(c3.s)); /* the new connection's SETTINGS have it */
    sim_stop(&s);
}

/* The flow-control capsules in the qlog files: what each end sent and
   received, with its value (see DEBUGGING in wt.h). */
WT_TEST(wt_flow_capsules_in_qlog) {
    sim s;
    wt_limits sl;
    flow_srv sv;
    flow_cli c;
    char dir[64], path[400], hex[40];
    char *cl, *sq;
    size_t cl_len = 0, sq_len = 0;
    int never = 0, i;
    REQUIRE(wt_test_tmpdir(dir, sizeof dir) == 0);
    memset(&sl, 0, sizeof sl);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sl.session_max_data = 64 * 1024;
    sv.pause = 1;
    trace_setenv(dir);
    REQUIRE(flow_open(&s, &sl, NULL, WT_DIALECT_AUTO, 0, &sv, &c) == 0);
    wt_hex(s.client->ep.conns->tp.odcid.data, s.client->ep.conns->tp.odcid.datalen, hex);
    c.total = 1;
    c.each = 256 * 1024;
    flow_fill(&c);
    for (i = 0; i < 200 && !(sv.s && sv.s->fc_count.data_blocked_received); i++) sim_run(&s, &never, 5);
    flow_srv_resume(&sv);
    CHECK(flow_run(&s, &sv.finished, 20000, NULL, NULL));
    sim_stop(&s);
    trace_restore_env();
    snprintf(path, sizeof path, "%s/%s_client.sqlog", dir, hex);
    cl = trace_slurp(path, &cl_len);
    snprintf(path, sizeof path, "%s/%s_server.sqlog", dir, hex);
    sq = trace_slurp(path, &sq_len);
    REQUIRE(cl && sq);
    CHECK(strstr(cl, "\"name\":\"webtransport:capsule_sent\",\"data\":{\"session_id\":0,\"capsule_type\":\"wt_data_blocked\","
                     "\"capsule_type_value\":420171073,\"value\":65536}") != NULL);
    CHECK(strstr(sq, "\"name\":\"webtransport:capsule_received\",\"data\":{\"session_id\":0,\"capsule_type\":\"wt_data_blocked\","
                     "\"capsule_type_value\":420171073,\"value\":65536}") != NULL);
    CHECK(strstr(sq, "\"name\":\"webtransport:capsule_sent\",\"data\":{\"session_id\":0,\"capsule_type\":\"wt_max_data\"") != NULL);
    CHECK(strstr(cl, "\"name\":\"webtransport:capsule_received\",\"data\":{\"session_id\":0,\"capsule_type\":\"wt_max_data\"") != NULL);
    CHECK(trace_check_qlog(cl, cl_len) > 50);
    CHECK(trace_check_qlog(sq, sq_len) > 50);
    free(cl);
    free(sq);
}

/* WebTransport over HTTP/2's per-stream capsules are a session error over
   HTTP/3 (draft-16 5.4); a draft-02 session skips them like any unknown. */
static void flow_prohibited_capsule(wt_dialect d) {
    sim s;
    flow_srv sv;
    flow_cli c;
    uint8_t cap[32];
    size_t n = 0;
    int never = 0;
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    REQUIRE(flow_open(&s, NULL, NULL, d, 0, &sv, &c) == 0);
    n += wt__varint_put(cap + n, WT__CAPSULE_MAX_STREAM_DATA);
    n += wt__varint_put(cap + n, 2);
    cap[n++] = 0x04, cap[n++] = 0x10;
    REQUIRE(wt__sendbuf_append(&c.s->conn->ep->alloc, &c.s->cap_tx, cap, n) == WT_OK);
    nghttp3_conn_resume_stream(c.s->conn->h3.conn, c.s->id);
    c.s->conn->dirty = 1;
    if (d == WT_DIALECT_LATEST) {
        CHECK(flow_run(&s, &sv.closed, 5000, NULL, NULL));
        CHECK_EQ_INT(sv.close_error, WT_ERR_FLOW_CONTROL);
        CHECK(flow_run(&s, &c.closed, 5000, NULL, NULL));
        CHECK_EQ_INT(c.close_error, WT_ERR_FLOW_CONTROL);
    } else {
        sim_run(&s, &never, 500);
        CHECK_EQ_INT(sv.closed, 0);
        CHECK_EQ_INT(c.closed, 0);
    }
    sim_stop(&s);
}

WT_TEST(wt_flow_http2_stream_capsule_is_a_session_error) { flow_prohibited_capsule(WT_DIALECT_LATEST); }
WT_TEST(wt_flow_http2_stream_capsule_skipped_by_draft02) { flow_prohibited_capsule(WT_DIALECT_DRAFT02); }

/* write_all and write_ref queue whole messages whatever the credit: the
   bytes past the peer's WT_MAX_DATA wait in the send path (no violation,
   WT_DATA_BLOCKED sent) and go when the credit comes. */
static void flow_ref_done(wt_stream *st, const void *data, size_t len, int status, void *user) {
    (void)st, (void)data, (void)len;
    *(int *)user = status == WT_OK ? 1 : -1;
}

static void flow_whole_writes(int by_ref) {
    sim s;
    wt_limits sl;
    flow_srv sv;
    flow_cli c;
    wt_stream *st;
    uint8_t *msg;
    size_t i, len = 256 * 1024;
    int never = 0, done = 0;
    memset(&sl, 0, sizeof sl);
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sl.session_max_data = 64 * 1024;
    sv.pause = 1;
    REQUIRE(flow_open(&s, &sl, NULL, WT_DIALECT_AUTO, 0, &sv, &c) == 0);
    msg = (uint8_t *)malloc(len);
    REQUIRE(msg != NULL);
    /* one stream in flow_srv's format: index 7, payload len - 8 */
    msg[0] = 0, msg[1] = 0, msg[2] = 0, msg[3] = 7;
    msg[4] = (uint8_t)((len - 8) >> 24), msg[5] = (uint8_t)((len - 8) >> 16);
    msg[6] = (uint8_t)((len - 8) >> 8), msg[7] = (uint8_t)(len - 8);
    for (i = 8; i < len; i++) msg[i] = flow_byte(7, i - 8);
    REQUIRE(wt_session_open_stream(c.s, 0, &st) == WT_OK);
    if (by_ref) CHECK_EQ_INT(wt_stream_write_ref(st, msg, len, 1, flow_ref_done, &done), WT_OK);
    else CHECK_EQ_INT(wt_stream_write_all(st, msg, len, 1), WT_OK);
    sim_run(&s, &never, 1000);
    REQUIRE(sv.s != NULL);
    CHECK(sv.s->fc_rx_used == 64 * 1024);  /* exactly the credit, never past it */
    CHECK(c.s->fc_tx_sent == 64 * 1024);
    CHECK_EQ_INT(sv.closed, 0);
    CHECK(c.s->fc_count.data_blocked_sent >= 1);
    CHECK_EQ_INT(wt_stream_write(st, "x", 1) <= 0, 1); /* nothing left for write() either */
    flow_srv_resume(&sv);
    CHECK(flow_run(&s, &sv.finished, 20000, NULL, NULL));
    CHECK_EQ_INT(sv.bad, 0);
    CHECK(sv.bytes == len);
    if (by_ref) {
        CHECK(flow_run(&s, &done, 5000, NULL, NULL));
        CHECK_EQ_INT(done, 1);
    }
    sim_stop(&s);
    free(msg);
}

WT_TEST(wt_flow_write_all_waits_for_credit) { flow_whole_writes(0); }
WT_TEST(wt_flow_write_ref_waits_for_credit) { flow_whole_writes(1); }
