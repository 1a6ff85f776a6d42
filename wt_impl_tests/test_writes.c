/* test_writes.c - whole-message writes (write_all by copy, write_ref by
   reference), the DATAGRAM_WRITABLE and SESSION_STREAMS events, and the
   statistics. Over the simulated network (sim.h) in virtual time; the
   server side is test_sim.c's verifying sink (each stream: a seed byte,
   then sim_byte's pattern; on FIN it answers "<bytes> <ok|bad>"). */

/* ---------------------------------------------------------------- a client that records */
static int wr_seq; /* orders callbacks and events across a test */

typedef struct wr_stream {
    char reply[64];
    size_t reply_len;
    int answered, closed_seq;
} wr_stream;

typedef struct wr_client {
    wt_session *s;
    int opened, closed, close_error;
    int writable, dgram_writable, streams_events, streams_code, streams_open;
    int answered, stream_closed;
} wr_client;

static void wr_handler(wt_event *ev) {
    wr_client *c = (wr_client *)ev->user;
    wr_stream *ws = ev->stream ? (wr_stream *)wt_stream_user(ev->stream) : NULL;
    if (sim_session_event(ev, &c->opened, &c->closed, &c->close_error, &c->s)) return;
    switch (ev->type) {
    case WT_EV_STREAM_WRITABLE: c->writable++; break;
    case WT_EV_DATAGRAM_WRITABLE: c->dgram_writable++; break;
    case WT_EV_SESSION_STREAMS:
        c->streams_events++;
        c->streams_code = (int)ev->code;
        /* the point of the event: opening works again */
        if (wt_session_open_stream(ev->session, 1, NULL) == WT_OK) c->streams_open++;
        break;
    case WT_EV_STREAM_DATA:
        if (!ws) break;
        if (ev->len && ws->reply_len + ev->len < sizeof ws->reply) {
            memcpy(ws->reply + ws->reply_len, ev->data, ev->len);
            ws->reply_len += ev->len;
        }
        if (ev->fin) {
            ws->answered = 1;
            c->answered++;
        }
        break;
    case WT_EV_STREAM_CLOSED:
        c->stream_closed++;
        if (ws) ws->closed_seq = ++wr_seq;
        break;
    default: break;
    }
}

/* A stream's bytes as the sink expects them: the seed, then the pattern. */
static uint8_t *wr_pattern(size_t len, unsigned seed) {
    uint8_t *p = (uint8_t *)malloc(len ? len : 1);
    size_t i;
    if (!p) return NULL;
    for (i = 0; i < len; i++) p[i] = i == 0 ? (uint8_t)seed : sim_byte(i - 1, seed);
    return p;
}

static int wr_reply_is(const wr_stream *ws, uint64_t bytes) {
    char want[64];
    snprintf(want, sizeof want, "%llu ok", (unsigned long long)bytes);
    return ws->answered && ws->reply_len == strlen(want) && memcmp(ws->reply, want, ws->reply_len) == 0;
}

/* sim_start, a route at path on the server, a client session to it (open
   once *opened is set). */
static int wr_connect(sim *s, uint64_t seed, const wt_limits *slim, const wt_limits *clim, const char *path,
                      wt_handler srv, void *srv_user, wt_handler cli, void *cli_user, volatile int *opened) {
    char url[64];
    if (sim_start(s, seed, slim, clim) != 0) return -1;
    if (wt_app_route(s->app, path, srv, srv_user) != WT_OK) return -1;
    snprintf(url, sizeof url, "https://10.0.0.1:443%s", path);
    if (wt_client_connect(s->client, url, cli, cli_user, NULL) != WT_OK) return -1;
    return sim_run(s, opened, 10000) ? 0 : -1;
}

static int wr_start(sim *s, sink_server *sv, wr_client *c, uint64_t seed, const wt_limits *slim,
                    const wt_limits *clim) {
    memset(sv, 0, sizeof *sv);
    memset(c, 0, sizeof *c);
    return wr_connect(s, seed, slim, clim, "/sink", sink_handler, sv, wr_handler, c, &c->opened);
}

/* ---------------------------------------------------------------- write_all */
WT_TEST(wt_writes_write_all_8mib_small_send_buffer) {
    sim s;
    sink_server sv;
    wr_client c;
    wr_stream ws;
    wt_limits cl;
    wt_stream *st = NULL;
    size_t len = 8u << 20;
    uint8_t *data = wr_pattern(len + 1, 7);
    REQUIRE(data);
    memset(&s, 0, sizeof s);
    memset(&ws, 0, sizeof ws);
    memset(&cl, 0, sizeof cl);
    sim_lossy(&s, 0.01, 0, 0);
    cl.stream_send_buffer = 64 * 1024; /* a plain write would take 64 KiB at a time */
    cl.stream_queue = 9u << 20;
    REQUIRE(wr_start(&s, &sv, &c, 41, NULL, &cl) == 0);
    REQUIRE(wt_session_open_stream(c.s, 1, &st) == WT_OK);
    wt_stream_set_user(st, &ws);
    CHECK_EQ_INT(wt_stream_write_all(st, data, len + 1, 1), WT_OK);
    memset(data, 0, len + 1); /* a copy was taken: the caller's memory is free again */
    free(data);
    CHECK_EQ_INT(wt_stream_send_buffered(st), len + 1 + 3); /* + the stream header (0x41, 0) */
    CHECK(sim_run(&s, &ws.answered, 600000));
    CHECK(wr_reply_is(&ws, len));
    CHECK_EQ_INT(c.writable, 0); /* nothing to handle */
    CHECK(sim_run(&s, &c.stream_closed, 10000));
    CHECK_EQ_INT(s.client->ep.tx_stored, 0); /* every copied byte left the budgets */
    CHECK_EQ_INT(c.closed, 0);
    sim_stop(&s);
}

WT_TEST(wt_writes_write_all_past_limits_queues_nothing) {
    sim s;
    sink_server sv;
    wr_client c;
    wr_stream wa, wb;
    wt_limits cl;
    wt_stream *a = NULL, *b = NULL;
    uint8_t *pa = wr_pattern(48 * 1024, 3), *pb = wr_pattern(24 * 1024, 5);
    size_t held;
    REQUIRE(pa && pb);
    memset(&s, 0, sizeof s);
    memset(&wa, 0, sizeof wa);
    memset(&wb, 0, sizeof wb);
    memset(&cl, 0, sizeof cl);
    cl.stream_send_buffer = 16 * 1024;
    cl.stream_queue = 32 * 1024;       /* a stream holds at most 48 KiB of copies */
    cl.conn_send_buffer = 64 * 1024;   /* the connection 64 KiB */
    REQUIRE(wr_start(&s, &sv, &c, 42, NULL, &cl) == 0);
    REQUIRE(wt_session_open_stream(c.s, 1, &a) == WT_OK);
    REQUIRE(wt_session_open_stream(c.s, 1, &b) == WT_OK);
    wt_stream_set_user(a, &wa);
    wt_stream_set_user(b, &wb);
    /* 3 header bytes + 40 KiB fit in 48 KiB; 8 KiB more do not, 8 KiB - 3 do */
    CHECK_EQ_INT(wt_stream_write_all(a, pa, 40 * 1024, 0), WT_OK);
    held = wt_stream_send_buffered(a);
    CHECK_EQ_INT(wt_stream_write_all(a, pa + 40 * 1024, 8 * 1024, 0), WT_ERR_LIMIT);
    CHECK_EQ_INT(wt_stream_send_buffered(a), held); /* nothing queued */
    CHECK_EQ_INT(wt_stream_write_all(a, pa + 40 * 1024, 8 * 1024 - 3, 0), WT_OK);
    CHECK_EQ_INT(wt_stream_send_buffered(a), 48 * 1024);
    CHECK_EQ_INT(wt_stream_write_all(a, pa + 48 * 1024 - 3, 1, 1), WT_ERR_LIMIT);
    /* the connection's budget: 48 KiB held on a, 3 bytes of b's header */
    CHECK_EQ_INT(wt_stream_write_all(b, pb, 16 * 1024, 1), WT_ERR_LIMIT);
    CHECK_EQ_INT(wt_stream_send_buffered(b), 3);
    CHECK_EQ_INT(wt_stream_write_all(b, pb, 16 * 1024 - 3, 1), WT_OK); /* exactly 64 KiB in all */
    CHECK_EQ_INT(wt_stream_write_all(a, NULL, 0, 1), WT_OK); /* FIN alone needs no room */
    CHECK_EQ_INT(wt_stream_write_all(a, pa, 1, 0), WT_ERR_CLOSED); /* after FIN */
    CHECK_EQ_INT(wt_stream_write_all(NULL, pa, 1, 0), WT_ERR_INVALID);
    {
        int two = 0;
        while (!two && sim_ms(&s) < 100000) {
            int never = 0;
            sim_run(&s, &never, 100);
            two = wa.answered && wb.answered;
        }
    }
    CHECK(wr_reply_is(&wa, 48 * 1024 - 3 - 1));
    CHECK(wr_reply_is(&wb, 16 * 1024 - 3 - 1));
    free(pa);
    free(pb);
    sim_stop(&s);
}

/* write, write_all and write_ref in turns on one stream, with a small send
   buffer: the bytes arrive in the order of the calls. A plain write while
   write_all's copies fill the send buffer takes nothing. */
typedef struct wr_mix {
    wt_stream *st;
    const uint8_t *data;
    size_t len, off, step_end;
    int step, zero_writes, short_writes, refs, refs_done, finished;
} wr_mix;
static wr_mix *wr_mix_cur;

static void wr_mix_done(wt_stream *st, const void *data, size_t len, int status, void *user) {
    wr_mix *m = (wr_mix *)user;
    (void)data, (void)len;
    if (st == m->st && status == WT_OK) m->refs_done++;
}

static void wr_mix_pump(wr_mix *m) {
    while (m->off < m->len) {
        size_t n;
        int kind = m->step % 3;
        if (m->step_end <= m->off) m->step_end = m->off + WT__MIN(m->len - m->off, (size_t)(20 * 1024 + 7 * m->step));
        n = m->step_end - m->off;
        if (kind == 0) {
            int w = wt_stream_write(m->st, m->data + m->off, n);
            if (w < 0) return;
            if (w == 0) m->zero_writes++;
            else if ((size_t)w < n) m->short_writes++;
            m->off += (size_t)w;
            if ((size_t)w < n) return; /* WRITABLE goes on */
        } else if (kind == 1) {
            if (wt_stream_write_all(m->st, m->data + m->off, n, 0) != WT_OK) return;
            m->off += n;
        } else {
            if (wt_stream_write_ref(m->st, m->data + m->off, n, 0, wr_mix_done, m) != WT_OK) return;
            m->off += n;
            m->refs++;
        }
        m->step++;
    }
    if (!m->finished) m->finished = wt_stream_finish(m->st) == WT_OK;
}

static void wr_mix_handler(wt_event *ev) {
    wr_mix *m = wr_mix_cur;
    if (ev->type == WT_EV_STREAM_WRITABLE && ev->stream == m->st) wr_mix_pump(m);
    wr_handler(ev);
}

WT_TEST(wt_writes_mixed_writes_keep_order) {
    sim s;
    sink_server sv;
    struct {
        wr_client c;
        wr_mix m;
    } cm; /* cm.m is wr_mix_cur */
    wr_stream ws;
    wt_limits cl;
    size_t len = 600 * 1024 + 1;
    uint8_t *data = wr_pattern(len, 9);
    REQUIRE(data);
    memset(&s, 0, sizeof s);
    memset(&cm, 0, sizeof cm);
    wr_mix_cur = &cm.m;
    memset(&ws, 0, sizeof ws);
    memset(&cl, 0, sizeof cl);
    sim_lossy(&s, 0.02, 0.01, 0);
    cl.stream_send_buffer = 16 * 1024;
    memset(&sv, 0, sizeof sv);
    REQUIRE(wr_connect(&s, 43, NULL, &cl, "/sink", sink_handler, &sv, wr_mix_handler, &cm.c, &cm.c.opened) == 0);
    REQUIRE(wt_session_open_stream(cm.c.s, 1, &cm.m.st) == WT_OK);
    wt_stream_set_user(cm.m.st, &ws);
    cm.m.data = data;
    cm.m.len = len;
    wr_mix_pump(&cm.m);
    CHECK(sim_run(&s, &ws.answered, 600000));
    CHECK(wr_reply_is(&ws, len - 1));
    CHECK(sim_run(&s, &cm.c.stream_closed, 10000)); /* every byte acknowledged */
    printf("    %d steps, %d refs (%d done), %d zero and %d short writes\n", cm.m.step, cm.m.refs, cm.m.refs_done,
           cm.m.zero_writes, cm.m.short_writes);
    CHECK(cm.m.zero_writes > 0);  /* write_all's copies held the buffer: write took 0 */
    CHECK(cm.m.short_writes > 0); /* ... and appended behind them when there was room */
    CHECK(cm.m.refs > 5);
    CHECK_EQ_INT(cm.m.refs_done, cm.m.refs);
    free(data);
    wr_mix_cur = NULL;
    sim_stop(&s);
}

/* ---------------------------------------------------------------- write_ref */
typedef struct wr_done_rec {
    int calls, status, seq;
    wt_stream *st;
    const void *data;
    size_t len;
    uint64_t server_bytes; /* what the sink had when done ran */
    sink_server *sv;
    void *user_seen;
} wr_done_rec;

static void wr_done(wt_stream *st, const void *data, size_t len, int status, void *user) {
    wr_done_rec *r = (wr_done_rec *)user;
    r->calls++;
    r->status = status;
    r->st = st;
    r->data = data;
    r->len = len;
    r->seq = ++wr_seq;
    if (r->sv) r->server_bytes = r->sv->bytes;
}

/* done frees the caller's buffer: ASan sees any read after it */
static void wr_done_free(wt_stream *st, const void *data, size_t len, int status, void *user) {
    wr_done(st, data, len, status, user);
    free((void *)(uintptr_t)data);
}

WT_TEST(wt_writes_write_ref_completes_once_after_ack) {
    sim s;
    sink_server sv;
    wr_client c;
    wr_stream ws;
    wr_done_rec r1, r2;
    wt_stream *st = NULL;
    size_t len = 256 * 1024;
    uint8_t *data = wr_pattern(len, 11);
    REQUIRE(data);
    memset(&s, 0, sizeof s);
    memset(&ws, 0, sizeof ws);
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    sim_lossy(&s, 0.02, 0, 0);
    REQUIRE(wr_start(&s, &sv, &c, 44, NULL, NULL) == 0);
    r1.sv = r2.sv = &sv;
    REQUIRE(wt_session_open_stream(c.s, 1, &st) == WT_OK);
    wt_stream_set_user(st, &ws);
    CHECK_EQ_INT(wt_stream_write_ref(st, data, len - 100, 0, wr_done, &r1), WT_OK);
    CHECK_EQ_INT(wt_stream_write_ref(st, data + len - 100, 100, 1, wr_done, &r2), WT_OK);
    CHECK_EQ_INT(r1.calls + r2.calls, 0); /* never inside the call */
    CHECK_EQ_INT(wt_stream_write_ref(st, data, 1, 0, NULL, NULL), WT_ERR_CLOSED); /* after FIN */
    CHECK(sim_run(&s, &ws.answered, 600000));
    CHECK(wr_reply_is(&ws, len - 1));
    CHECK(sim_run(&s, &c.stream_closed, 10000));
    CHECK_EQ_INT(r1.calls, 1);
    CHECK_EQ_INT(r2.calls, 1);
    CHECK_EQ_INT(r1.status, WT_OK);
    CHECK_EQ_INT(r2.status, WT_OK);
    CHECK(r1.st == st && r1.data == data && r1.len == len - 100);
    CHECK(r2.st == st && r2.len == 100);
    CHECK(r1.seq < r2.seq && r2.seq < ws.closed_seq); /* in order, before STREAM_CLOSED */
    CHECK_EQ_INT(r1.server_bytes >= len - 100, 1); /* acknowledged: the peer had it */
    CHECK_EQ_INT(r2.server_bytes, len);
    {
        int never = 0;
        sim_run(&s, &never, 2000);
    }
    CHECK_EQ_INT(r1.calls + r2.calls, 2); /* once each */
    free(data);
    sim_stop(&s);
}

/* Many small references, FIN with the last: the FIN must not ride on an
   earlier packet that holds only some of them. */
static void wr_count_ok(wt_stream *st, const void *data, size_t len, int status, void *user) {
    (void)st, (void)data, (void)len;
    if (status == WT_OK) ++*(int *)user;
}

WT_TEST(wt_writes_many_small_refs_then_fin) {
    sim s;
    sink_server sv;
    wr_client c;
    wr_stream ws;
    wt_stream *st = NULL;
    uint8_t *data = wr_pattern(1001, 21);
    int i, ok = 0;
    REQUIRE(data);
    memset(&s, 0, sizeof s);
    memset(&ws, 0, sizeof ws);
    sim_lossy(&s, 0, 0, 0);
    REQUIRE(wr_start(&s, &sv, &c, 50, NULL, NULL) == 0);
    REQUIRE(wt_session_open_stream(c.s, 1, &st) == WT_OK);
    wt_stream_set_user(st, &ws);
    CHECK_EQ_INT(wt_stream_write_ref(st, data, 11, 0, wr_count_ok, &ok), WT_OK);
    for (i = 1; i < 100; i++) CHECK_EQ_INT(wt_stream_write_ref(st, data + 1 + 10 * i, 10, i == 99, wr_count_ok, &ok), WT_OK);
    CHECK(sim_run(&s, &ws.answered, 10000));
    CHECK(wr_reply_is(&ws, 1000));
    CHECK(sim_run(&s, &c.stream_closed, 10000));
    CHECK_EQ_INT(ok, 100);
    free(data);
    sim_stop(&s);
}

WT_TEST(wt_writes_write_ref_fails_once_when_the_session_closes_first) {
    sim s;
    sink_server sv;
    wr_client c;
    wr_stream ws;
    wr_done_rec r1, r2, r3;
    wt_stream *st = NULL, *st2 = NULL;
    size_t len = 1u << 20;
    uint8_t *data = wr_pattern(len, 13);
    uint8_t *d2 = wr_pattern(4096, 15);
    REQUIRE(data && d2);
    memset(&s, 0, sizeof s);
    memset(&ws, 0, sizeof ws);
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    memset(&r3, 0, sizeof r3);
    sim_lossy(&s, 0, 0, 0);
    REQUIRE(wr_start(&s, &sv, &c, 45, NULL, NULL) == 0);
    REQUIRE(wt_session_open_stream(c.s, 1, &st) == WT_OK);
    wt_stream_set_user(st, &ws);
    CHECK_EQ_INT(wt_stream_write_ref(st, data, len, 1, wr_done_free, &r1), WT_OK);
    CHECK_EQ_INT(wt_stream_write_ref(st, data, 0, 0, wr_done, &r2), WT_ERR_CLOSED); /* FIN queued */
    /* a reset stream completes its references with an error too */
    REQUIRE(wt_session_open_stream(c.s, 1, &st2) == WT_OK);
    CHECK_EQ_INT(wt_stream_write_ref(st2, d2, 4096, 0, wr_done_free, &r3), WT_OK);
    CHECK_EQ_INT(wt_stream_reset(st2, 7), WT_OK);
    CHECK_EQ_INT(r3.calls, 0); /* not inside the call ... */
    CHECK_EQ_INT(wt_session_close(c.s, 0, "bye"), WT_OK); /* before a byte went */
    CHECK_EQ_INT(r1.calls, 0);
    CHECK(sim_run(&s, &c.closed, 10000));
    CHECK_EQ_INT(r1.calls, 1);
    CHECK_EQ_INT(r1.status, WT_ERR_CLOSED);
    CHECK(r1.st == st && r1.len == len);
    CHECK(r1.seq < ws.closed_seq); /* before the stream's CLOSED */
    CHECK_EQ_INT(r3.calls, 1);     /* ... but once, from the loop */
    CHECK_EQ_INT(r3.status, WT_ERR_CLOSED);
    {
        int never = 0;
        sim_run(&s, &never, 2000);
    }
    CHECK_EQ_INT(r1.calls + r3.calls, 2);
    sim_stop(&s);
}

/* The peer will not read: its STOP_SENDING resets our side, and the
   reference completes with an error, once, before the stream's CLOSED. */
static void wr_stopper(wt_event *ev) {
    if (ev->type == WT_EV_STREAM_OPEN) {
        wt_stream_stop_sending(ev->stream, 5);
        wt_stream_finish(ev->stream); /* nothing to say either */
    }
}

WT_TEST(wt_writes_write_ref_fails_on_stop_sending) {
    sim s;
    wr_client c;
    wr_stream ws;
    wr_done_rec r;
    wt_stream *st = NULL;
    uint8_t *data = wr_pattern(1u << 20, 25);
    REQUIRE(data);
    memset(&s, 0, sizeof s);
    memset(&c, 0, sizeof c);
    memset(&ws, 0, sizeof ws);
    memset(&r, 0, sizeof r);
    sim_lossy(&s, 0, 0, 0);
    REQUIRE(wr_connect(&s, 52, NULL, NULL, "/stop", wr_stopper, NULL, wr_handler, &c, &c.opened) == 0);
    REQUIRE(wt_session_open_stream(c.s, 1, &st) == WT_OK);
    wt_stream_set_user(st, &ws);
    CHECK_EQ_INT(wt_stream_write_ref(st, data, 1u << 20, 1, wr_done_free, &r), WT_OK);
    CHECK(sim_run(&s, &r.calls, 10000));
    CHECK_EQ_INT(r.status, WT_ERR_CLOSED);
    CHECK(r.st == st);
    CHECK(sim_run(&s, &c.stream_closed, 10000)); /* the server ends its side too */
    CHECK(r.seq < ws.closed_seq);
    CHECK_EQ_INT(r.calls, 1);
    CHECK_EQ_INT(c.closed, 0); /* the session goes on */
    sim_stop(&s);
}

WT_TEST(wt_writes_write_ref_completes_at_destroy) {
    sim s;
    sink_server sv;
    wr_client c;
    wr_done_rec r;
    wt_stream *st = NULL;
    uint8_t *data = wr_pattern(2u << 20, 17);
    REQUIRE(data);
    memset(&s, 0, sizeof s);
    memset(&r, 0, sizeof r);
    sim_lossy(&s, 0, 0, 0);
    REQUIRE(wr_start(&s, &sv, &c, 46, NULL, NULL) == 0);
    REQUIRE(wt_session_open_stream(c.s, 1, &st) == WT_OK);
    CHECK_EQ_INT(wt_stream_write_ref(st, data, 2u << 20, 1, wr_done_free, &r), WT_OK);
    {
        int never = 0;
        sim_run(&s, &never, 5); /* some of it in flight */
    }
    CHECK_EQ_INT(r.calls, 0);
    sim_stop(&s); /* the client's destroy completes it */
    CHECK_EQ_INT(r.calls, 1);
    CHECK_EQ_INT(r.status, WT_ERR_CLOSED);
}

/* A server answers by reference; its session closes when the answer and
   FIN are all sent but not yet acknowledged: the stream is not reset, the
   answer completes later, after the CLOSED events, with st NULL. */
typedef struct wr_refsrv {
    wt_session *s;
    wt_stream *st;
    uint8_t *answer;
    wr_done_rec rec;
    int closed_seq, session_closed_seq;
} wr_refsrv;

static void wr_refsrv_handler(wt_event *ev) {
    wr_refsrv *r = (wr_refsrv *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) r->s = ev->session;
    if (ev->type == WT_EV_STREAM_DATA && ev->fin && !r->st) {
        r->st = ev->stream;
        if (wt_stream_write_ref(ev->stream, r->answer, 64 * 1024, 1, wr_done, &r->rec) != WT_OK) r->rec.calls = -100;
    }
    if (ev->type == WT_EV_STREAM_CLOSED && ev->stream == r->st) r->closed_seq = ++wr_seq;
    if (ev->type == WT_EV_SESSION_CLOSED) r->session_closed_seq = ++wr_seq;
}

WT_TEST(wt_writes_write_ref_outlives_a_finished_stream) {
    sim s;
    wr_client c;
    wr_refsrv r;
    wt_stream *st = NULL;
    uint8_t seed = 1;
    int in_flight = 0;
    memset(&s, 0, sizeof s);
    memset(&c, 0, sizeof c);
    memset(&r, 0, sizeof r);
    r.answer = wr_pattern(64 * 1024, 23);
    REQUIRE(r.answer);
    sim_lossy(&s, 0, 0, 0); /* 20 ms each way: acknowledgements take 40 */
    REQUIRE(wr_connect(&s, 51, NULL, NULL, "/ref", wr_refsrv_handler, &r, wr_handler, &c, &c.opened) == 0);
    REQUIRE(wt_session_open_stream(c.s, 1, &st) == WT_OK);
    CHECK_EQ_INT(wt_stream_write_all(st, &seed, 1, 1), WT_OK);
    while (!in_flight && sim_ms(&s) < 20000) {
        int never = 0;
        sim_run(&s, &never, 1);
        /* the moment it is all sent, FIN included, and still waiting */
        in_flight = r.st && r.st->fin_sent && r.st->refs != NULL;
    }
    REQUIRE(in_flight);
    REQUIRE(r.s);
    CHECK_EQ_INT(wt_session_close(r.s, 0, NULL), WT_OK);
    CHECK(r.st->linger); /* not reset: the peer gets all of it */
    CHECK(sim_run(&s, &r.rec.calls, 10000));
    CHECK_EQ_INT(r.rec.calls, 1);
    CHECK_EQ_INT(r.rec.status, WT_OK);
    CHECK(r.rec.st == NULL);
    CHECK(r.closed_seq > 0 && r.session_closed_seq > r.closed_seq && r.rec.seq > r.session_closed_seq);
    {
        int never = 0;
        sim_run(&s, &never, 2000);
    }
    CHECK_EQ_INT(r.rec.calls, 1);
    sim_stop(&s);
    free(r.answer);
}

/* ---------------------------------------------------------------- flow events */
WT_TEST(wt_writes_datagram_writable_after_wouldblock) {
    sim s;
    sink_server sv;
    wr_client c;
    wt_limits cl;
    uint8_t d[100];
    int i, rv = WT_OK, sent = 0;
    memset(&s, 0, sizeof s);
    memset(&cl, 0, sizeof cl);
    memset(d, 'x', sizeof d);
    sim_lossy(&s, 0, 0, 0);
    cl.datagram_queue = 8;
    REQUIRE(wr_start(&s, &sv, &c, 47, NULL, &cl) == 0);
    for (i = 0; i < 20 && (rv = wt_session_send_datagram(c.s, d, sizeof d)) == WT_OK; i++) sent++;
    CHECK_EQ_INT(rv, WT_ERR_WOULDBLOCK);
    CHECK_EQ_INT(sent, 8);
    CHECK_EQ_INT(wt_session_send_datagram(c.s, d, sizeof d), WT_ERR_WOULDBLOCK); /* the same episode */
    CHECK_EQ_INT(c.dgram_writable, 0);
    CHECK(sim_run(&s, &c.dgram_writable, 10000));
    {
        int never = 0;
        sim_run(&s, &never, 1000);
    }
    CHECK_EQ_INT(c.dgram_writable, 1); /* once per episode */
    CHECK_EQ_INT(wt_session_send_datagram(c.s, d, sizeof d), WT_OK); /* room indeed */
    for (i = 0; i < 20 && wt_session_send_datagram(c.s, d, sizeof d) == WT_OK; i++) {
    }
    {
        int two = 0;
        while (!two && sim_ms(&s) < 60000) {
            int never = 0;
            sim_run(&s, &never, 50);
            two = c.dgram_writable == 2;
        }
    }
    CHECK_EQ_INT(c.dgram_writable, 2); /* a second episode, a second event */
    sim_stop(&s);
}

WT_TEST(wt_writes_session_streams_after_limit) {
    sim s;
    sink_server sv;
    wr_client c;
    wt_limits sl;
    wt_stream *st[4];
    wr_stream ws;
    int n = 0, rv = WT_OK;
    uint8_t seed = 1;
    memset(&s, 0, sizeof s);
    memset(&sl, 0, sizeof sl);
    memset(&ws, 0, sizeof ws);
    sim_lossy(&s, 0, 0, 0);
    sl.max_streams_bidi = 3; /* the CONNECT stream and two more */
    REQUIRE(wr_start(&s, &sv, &c, 48, &sl, NULL) == 0);
    while (n < 4 && (rv = wt_session_open_stream(c.s, 1, &st[n])) == WT_OK) n++;
    CHECK_EQ_INT(rv, WT_ERR_LIMIT);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(wt_session_open_stream(c.s, 1, NULL), WT_ERR_LIMIT);
    {
        int never = 0;
        sim_run(&s, &never, 500);
    }
    CHECK_EQ_INT(c.streams_events, 0); /* the limit did not move yet */
    /* finishing one stream both ways gives its slot back */
    REQUIRE(n >= 1);
    wt_stream_set_user(st[0], &ws);
    CHECK_EQ_INT(wt_stream_write_all(st[0], &seed, 1, 1), WT_OK);
    CHECK(sim_run(&s, &c.streams_events, 10000));
    CHECK(wr_reply_is(&ws, 0));
    CHECK_EQ_INT(c.streams_code, 1);
    CHECK_EQ_INT(c.streams_open, 1); /* opening worked from the event */
    {
        int never = 0;
        sim_run(&s, &never, 1000);
    }
    CHECK_EQ_INT(c.streams_events, 1); /* once */
    sim_stop(&s);
}

/* ---------------------------------------------------------------- statistics */
WT_TEST(wt_writes_stats_move_with_traffic) {
    sim s;
    sink_server sv;
    wr_client c;
    wr_stream ws[3];
    wt_stream *st[3];
    wt_stats a0, cs, ss, conn, app, cl;
    size_t len = 100 * 1024;
    uint8_t *data = wr_pattern(len, 19), d[50];
    int i;
    REQUIRE(data);
    memset(&s, 0, sizeof s);
    memset(ws, 0, sizeof ws);
    memset(d, 'd', sizeof d);
    sim_lossy(&s, 0, 0, 0); /* 20 ms each way */
    REQUIRE(wr_start(&s, &sv, &c, 49, NULL, NULL) == 0);
    REQUIRE(sv.s);
    CHECK_EQ_INT(wt_app_stats(s.app, &a0), WT_OK);
    CHECK_EQ_INT(a0.connections, 1);
    CHECK_EQ_INT(a0.sessions_opened, 1);
    CHECK_EQ_INT(a0.sessions_closed, 0);
    CHECK_EQ_INT(a0.streams_opened, 0);
    CHECK(a0.packets_received > 0 && a0.bytes_received > 0); /* the handshake */
    CHECK(a0.smoothed_rtt_us >= 40000 && a0.smoothed_rtt_us < 80000);
    CHECK(a0.min_rtt_us >= 40000 && a0.min_rtt_us < 70000);
    CHECK(a0.cwnd > 0);
    for (i = 0; i < 3; i++) {
        REQUIRE(wt_session_open_stream(c.s, 1, &st[i]) == WT_OK);
        wt_stream_set_user(st[i], &ws[i]);
        CHECK_EQ_INT(wt_stream_write_all(st[i], data, i == 0 ? len : 1, 1), WT_OK);
    }
    for (i = 0; i < 5; i++) CHECK_EQ_INT(wt_session_send_datagram(c.s, d, sizeof d), WT_OK);
    {
        int done = 0;
        while (!done && sim_ms(&s) < 60000) {
            int never = 0;
            sim_run(&s, &never, 20);
            done = c.stream_closed == 3 && sv.finished == 3;
        }
    }
    CHECK_EQ_INT(c.stream_closed, 3);
    CHECK(wr_reply_is(&ws[0], len - 1));
    REQUIRE(c.s && sv.s);
    CHECK_EQ_INT(wt_session_stats_get(c.s, &cs), WT_OK);
    CHECK_EQ_INT(wt_session_stats_get(sv.s, &ss), WT_OK);
    CHECK_EQ_INT(cs.bytes_sent, len + 2);  /* payload only, exactly */
    CHECK_EQ_INT(ss.bytes_received, len + 2);
    CHECK_EQ_INT(cs.bytes_received, ws[0].reply_len + ws[1].reply_len + ws[2].reply_len);
    CHECK_EQ_INT(ss.bytes_sent, cs.bytes_received);
    CHECK_EQ_INT(cs.streams_opened, 3);
    CHECK_EQ_INT(cs.streams_closed, 3);
    CHECK_EQ_INT(ss.streams_opened, 3);
    CHECK_EQ_INT(cs.datagrams_sent, 5);
    CHECK_EQ_INT(ss.datagrams_received, 5);
    CHECK_EQ_INT(cs.sessions_opened, 1);
    CHECK_EQ_INT(cs.connections, 1);
    CHECK(cs.packets_sent > 70 && cs.packets_received > 0); /* 100 KiB: at least 70 packets */
    CHECK(cs.smoothed_rtt_us >= 40000 && cs.smoothed_rtt_us < 80000);
    CHECK(cs.cwnd > 0);
    CHECK_EQ_INT(wt_session_connection_stats(c.s, &conn), WT_OK);
    CHECK(conn.bytes_sent > len + 70 * 20); /* the wire: headers and all */
    CHECK_EQ_INT(conn.packets_sent, cs.packets_sent);
    CHECK_EQ_INT(conn.streams_opened, 3);
    CHECK_EQ_INT(conn.datagrams_sent, 5);
    CHECK_EQ_INT(wt_client_stats(s.client, &cl), WT_OK);
    CHECK_EQ_INT(cl.packets_sent, conn.packets_sent);
    CHECK_EQ_INT(cl.bytes_sent, conn.bytes_sent);
    CHECK_EQ_INT(cl.packets_sent, s.up.sent); /* what the wire carried */
    /* the connection ends: the app keeps its totals */
    CHECK_EQ_INT(wt_session_close_connection(c.s, 0x100, "done"), WT_OK);
    {
        int gone = 0;
        while (!gone && sim_ms(&s) < 120000) {
            int never = 0;
            sim_run(&s, &never, 50);
            gone = s.app->ep.nconns == 0 && s.client->ep.nconns == 0;
        }
    }
    CHECK_EQ_INT(wt_app_stats(s.app, &app), WT_OK);
    CHECK_EQ_INT(app.connections, 0);
    CHECK_EQ_INT(app.sessions_opened, 1);
    CHECK_EQ_INT(app.sessions_closed, 1);
    CHECK_EQ_INT(app.streams_opened, 3);
    CHECK_EQ_INT(app.streams_closed, 3);
    CHECK_EQ_INT(app.datagrams_received, 5);
    CHECK(app.bytes_received > len && app.packets_received >= a0.packets_received + 70);
    CHECK_EQ_INT(app.smoothed_rtt_us, 0); /* no open connection: no path */
    CHECK_EQ_INT(wt_client_stats(s.client, &cl), WT_OK);
    CHECK_EQ_INT(cl.streams_closed, 3);
    CHECK(cl.packets_sent >= conn.packets_sent);
    CHECK_EQ_INT(wt_app_stats(NULL, &app), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_session_stats_get(NULL, &cs), WT_ERR_INVALID);
    free(data);
    sim_stop(&s);
}

/* A stopped app logs its life's statistics at INFO. */
WT_TEST(wt_writes_stopped_app_logs_its_statistics) {
    sim s;
    sink_server sv;
    wr_client c;
    wr_stream ws;
    wt_stream *st = NULL;
    uint8_t seed = 1;
    int stopped = 0;
    memset(&s, 0, sizeof s);
    memset(&ws, 0, sizeof ws);
    sim_lossy(&s, 0, 0, 0);
    REQUIRE(wr_start(&s, &sv, &c, 53, NULL, NULL) == 0);
    REQUIRE(wt_session_open_stream(c.s, 1, &st) == WT_OK);
    wt_stream_set_user(st, &ws);
    CHECK_EQ_INT(wt_stream_write_all(st, &seed, 1, 1), WT_OK);
    CHECK(sim_run(&s, &ws.answered, 10000));
    harness_log_match = "statistics: 1 session(s), 1 stream(s)";
    harness_log_hits = 0;
    wt_app_stop(s.app);
    while (!stopped && sim_ms(&s) < 60000) {
        int never = 0;
        sim_run(&s, &never, 50);
        stopped = wt_app_stopped(s.app);
    }
    CHECK(stopped);
    CHECK_EQ_INT(harness_log_hits, 1);
    CHECK_EQ_INT(harness_log_level, WT_LOG_INFO);
    harness_log_match = NULL;
    sim_stop(&s);
}

/* The default limits let one stream hold 2 MiB unacknowledged (a bulk
   sender is not capped at 1 MiB per round trip): a plain write takes that
   much of a larger one, no more, and it all arrives. */
WT_TEST(wt_writes_default_send_buffer_takes_2mib) {
    sim s;
    sink_server sv;
    wr_client c;
    wr_stream ws;
    wt_stream *st = NULL;
    size_t len = 3u << 20;
    int took;
    uint8_t *data = wr_pattern(len, 9);
    REQUIRE(data);
    memset(&s, 0, sizeof s);
    memset(&ws, 0, sizeof ws);
    REQUIRE(wr_start(&s, &sv, &c, 43, NULL, NULL) == 0);
    REQUIRE(wt_session_open_stream(c.s, 1, &st) == WT_OK);
    wt_stream_set_user(st, &ws);
    took = wt_stream_write(st, data, len);
    CHECK(took > (1 << 20));          /* past the old 1 MiB default */
    CHECK(took >= (2 << 20) - 64);    /* about stream_send_buffer (the header counts) */
    CHECK(took <= (2 << 20));         /* and not past it */
    CHECK_EQ_INT(wt_stream_finish(st), WT_OK);
    free(data);
    CHECK(sim_run(&s, &ws.answered, 120000));
    CHECK(wr_reply_is(&ws, (uint64_t)took - 1)); /* the sink counts after the seed byte */
    sim_stop(&s);
}
