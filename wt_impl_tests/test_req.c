/* test_req.c - errors of one request: a malformed request is answered on
   its own stream (400, or a stream reset) while the connection and its
   other sessions go on; a close capsule cut short by FIN is a protocol
   error. On the simulated network (sim.h), with the requests built on the
   wt.h client's own nghttp3 connection. */
#include "sim.h"

/* A server with /echo (test_wt.c's server_handler) and one session to it. */
static int req_setup(sim *s, server_ctx *sx, client_ctx *a, uint64_t seed) {
    memset(s, 0, sizeof *s);
    memset(sx, 0, sizeof *sx);
    memset(a, 0, sizeof *a);
    s->up.delay_ms = s->down.delay_ms = 10;
    if (sim_start(s, seed, NULL, NULL) != 0) return -1;
    if (wt_app_route(s->app, "/echo", server_handler, sx) != WT_OK) return -1;
    if (wt_client_connect(s->client, "https://10.0.0.1:443/echo", client_handler, a, NULL) != WT_OK) return -1;
    return sim_run(s, &a->opened, 10000) ? 0 : -1;
}

/* A stream round trip on an open session: its bytes come back intact. */
static int req_echoes(sim *s, client_ctx *cx, unsigned seed) {
    xfer *x = cx->s ? client_xfer(cx, 3000, seed) : NULL;
    return x && sim_run(s, &x->done, 10000) && !x->bad && x->received == 3000;
}

/* A request's body: nothing until req_body_go, then "ab" and its end (and
   the stream's, unless trailers follow: req_body_trailers). */
static int req_body_go, req_body_trailers;
static nghttp3_ssize req_read_body(nghttp3_conn *h3, int64_t id, nghttp3_vec *vec, size_t veccnt, uint32_t *pflags,
                                   void *cu, void *su) {
    static const char body[] = "ab";
    (void)h3, (void)id, (void)veccnt, (void)cu, (void)su;
    if (!req_body_go) return NGHTTP3_ERR_WOULDBLOCK;
    req_body_go = 0;
    vec[0].base = (uint8_t *)body;
    vec[0].len = 2;
    *pflags |= NGHTTP3_DATA_FLAG_EOF | (req_body_trailers ? NGHTTP3_DATA_FLAG_NO_END_STREAM : 0);
    return 1;
}
static const nghttp3_data_reader req_body_reader = {req_read_body};

static void req_nv(nghttp3_nv *nv, size_t *n, const char *const *f) {
    for (*n = 0; f[2 * *n] && *n < 16; (*n)++) {
        nv[*n].name = (const uint8_t *)f[2 * *n], nv[*n].namelen = strlen(f[2 * *n]);
        nv[*n].value = (const uint8_t *)f[2 * *n + 1], nv[*n].valuelen = strlen(f[2 * *n + 1]);
        /* as given: nghttp3 lower-cases the names of a copy */
        nv[*n].flags = NGHTTP3_NV_FLAG_NO_COPY_NAME | NGHTTP3_NV_FLAG_NO_COPY_VALUE;
    }
}

/* A request of our own making on the client's connection: fields are
   name, value, ..., NULL, sent as given (nghttp3 checks nothing it sends).
   fin: the request ends with its headers (a GET); else the stream stays
   open like a CONNECT's. The answer goes to cx as a session's events. */
static wt_session *req_send(wt__conn *c, const char *const *f, int fin, client_ctx *cx) {
    nghttp3_nv nv[16];
    size_t n;
    int64_t id;
    wt_session *s;
    req_nv(nv, &n, f);
    if (ngtcp2_conn_open_bidi_stream(c->tp.qc, &id, NULL) != 0) return NULL;
    s = wt__session_new(c, id, 0);
    if (!s) return NULL;
    s->fn = client_handler;
    s->fn_user = cx;
    if (nghttp3_conn_submit_request(c->h3.conn, id, nv, n, fin ? NULL : &req_body_reader, s) != 0) return NULL;
    c->dirty = 1;
    return s;
}

static int req_count_sessions(const wt__conn *c) {
    const wt_session *s;
    int n = 0;
    for (s = c ? c->wt.sessions : NULL; s; s = s->next) n++;
    return n;
}

/* One malformed request while session a is open: it alone is refused with
   400, a keeps echoing, and a new session on the same connection opens. */
static void req_check_refused(const char *const *fields, int fin, uint64_t seed) {
    sim s;
    server_ctx sx;
    client_ctx a, bad, b;
    wt__conn *c;
    memset(&bad, 0, sizeof bad);
    memset(&b, 0, sizeof b);
    REQUIRE(req_setup(&s, &sx, &a, seed) == 0);
    c = a.s->conn;
    REQUIRE(req_echoes(&s, &a, 1));
    REQUIRE(req_send(c, fields, fin, &bad) != NULL);
    CHECK(sim_run(&s, &bad.closed, 10000));
    CHECK_EQ_INT(bad.close_error, WT_ERR_REFUSED);
    CHECK_EQ_INT(bad.refused_status, 400);
    /* the connection and its session are untouched */
    CHECK_EQ_INT(a.closed, 0);
    CHECK(req_echoes(&s, &a, 2));
    CHECK_EQ_INT((int)s.app->ep.nconns, 1);
    CHECK(s.app->ep.conns && s.app->ep.conns->state == WT__CONN_OPEN);
    CHECK_EQ_INT(c->state, WT__CONN_OPEN);
    CHECK_EQ_INT(sx.requests, 1); /* the route's handler saw only a's request */
    CHECK_EQ_INT(sx.sessions_closed, 0);
    /* and it takes new sessions */
    CHECK_EQ_INT(wt_client_connect(s.client, "https://10.0.0.1:443/echo", client_handler, &b, NULL), WT_OK);
    CHECK(sim_run(&s, &b.opened, 10000));
    CHECK(b.s && b.s->conn == c);
    CHECK(req_echoes(&s, &b, 3));
    CHECK(req_echoes(&s, &a, 4));
    CHECK_EQ_INT(a.closed + b.closed, 0);
    /* the refused request's stream closed on both sides: nothing of it is
       left but a's and b's sessions */
    {
        int never = 0;
        sim_run(&s, &never, 1000);
    }
    CHECK_EQ_INT(req_count_sessions(s.app->ep.conns), 2);
    CHECK_EQ_INT(req_count_sessions(c), 2);
    sim_stop(&s);
}

/* Extended CONNECT without :protocol is a classic CONNECT, which must not
   have :scheme or :path (RFC 9114 4.4): nghttp3 finds it malformed once
   the header section is complete. */
WT_TEST(wt_req_connect_without_protocol_gets_400_alone) {
    static const char *const f[] = {":method", "CONNECT", ":scheme", "https", ":authority", "10.0.0.1",
                                    ":path", "/echo", NULL};
    req_check_refused(f, 0, 101);
}

/* A GET: a well-formed one is wt.h's own refusal (not WebTransport), one
   with :protocol (only CONNECT may carry it) or without :authority is
   malformed for nghttp3. */
WT_TEST(wt_req_get_gets_400_alone) {
    static const char *const plain[] = {":method", "GET", ":scheme", "https", ":authority", "10.0.0.1",
                                        ":path", "/echo", NULL};
    static const char *const proto[] = {":method", "GET", ":protocol", "webtransport", ":scheme", "https",
                                        ":authority", "10.0.0.1", ":path", "/echo", NULL};
    static const char *const noauth[] = {":method", "GET", ":scheme", "https", ":path", "/echo", NULL};
    req_check_refused(plain, 1, 102);
    req_check_refused(proto, 1, 107);
    req_check_refused(noauth, 1, 108);
}

/* A :path with a character HTTP forbids (a space): malformed in the middle
   of the header section. */
WT_TEST(wt_req_bad_path_gets_400_alone) {
    static const char *const f[] = {":method", "CONNECT", ":protocol", "webtransport", ":scheme", "https",
                                    ":authority", "10.0.0.1", ":path", "/ec ho", NULL};
    req_check_refused(f, 0, 103);
}

/* A :path that does not start with "/": malformed at the section's end. */
WT_TEST(wt_req_relative_path_gets_400_alone) {
    static const char *const f[] = {":method", "CONNECT", ":protocol", "webtransport", ":scheme", "https",
                                    ":authority", "10.0.0.1", ":path", "echo", NULL};
    req_check_refused(f, 0, 104);
}

/* HTTP/3 field names are lower case (RFC 9114 4.2). */
WT_TEST(wt_req_upper_case_header_name_gets_400_alone) {
    static const char *const f[] = {":method", "CONNECT", ":protocol", "webtransport", ":scheme", "https",
                                    ":authority", "10.0.0.1", ":path", "/echo", "X-Upper", "1", NULL};
    req_check_refused(f, 0, 105);
}

/* RFC 9297 3.3: a capsule cut short by the end of the stream makes the
   message malformed. The first 5 bytes of a CLOSE_WEBTRANSPORT_SESSION
   capsule, then FIN: the server's session ends with WT_ERR_PROTOCOL, not
   as a clean close with code 0, and a second session lives on. */
WT_TEST(wt_req_close_capsule_cut_by_fin_is_a_protocol_error) {
    sim s;
    server_ctx sx;
    client_ctx a, b;
    uint8_t cap[64];
    size_t n;
    wt_session *as;
    wt__conn *c;
    memset(&b, 0, sizeof b);
    REQUIRE(req_setup(&s, &sx, &a, 106) == 0);
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/echo", client_handler, &b, NULL) == WT_OK);
    REQUIRE(sim_run(&s, &b.opened, 10000));
    REQUIRE(req_echoes(&s, &a, 1) && req_echoes(&s, &b, 2));
    as = a.s;
    c = as->conn;
    REQUIRE(b.s->conn == c);
    n = wt__capsule_close(cap, 7, "bye", 3);
    REQUIRE(n > 5);
    REQUIRE(wt__sendbuf_append(&c->ep->alloc, &as->cap_tx, cap, 5) == WT_OK);
    as->cap_fin = 1;
    nghttp3_conn_resume_stream(c->h3.conn, as->id);
    c->dirty = 1;
    CHECK(sim_run(&s, &sx.sessions_closed, 10000));
    CHECK_EQ_INT(sx.closed_error, WT_ERR_PROTOCOL);
    CHECK_EQ_INT(sx.closed_code, 0);
    CHECK(sim_run(&s, &a.closed, 10000)); /* the server reset the CONNECT stream */
    CHECK_EQ_INT(sx.sessions_closed, 1);
    CHECK_EQ_INT(b.closed, 0);
    CHECK(req_echoes(&s, &b, 3));
    CHECK_EQ_INT(c->state, WT__CONN_OPEN);
    sim_stop(&s);
}


/* A request answered already cannot be refused: its stream is reset with
   H3_MESSAGE_ERROR, and nothing else. A POST is not WebTransport, so wt.h
   answers 400 as soon as its headers are in; what follows on the stream
   is then malformed: a trailer with an upper-case name (a malformed field),
   or 2 bytes of body where content-length said 5 (a malformed message).
   (Trailers on a CONNECT stream are a frame out of place: RFC 9114 makes
   that a connection error, and so it stays.) */
static void req_check_reset_after_answer(int bad_trailer, uint64_t seed) {
    static const char *const f[] = {":method", "POST", ":scheme", "https", ":authority", "10.0.0.1",
                                    ":path", "/echo", "content-length", "5", NULL};
    static const char *const trailer[] = {"X-Upper", "1", NULL};
    sim s;
    server_ctx sx;
    client_ctx a, t;
    wt_session *ts;
    wt__conn *c;
    nghttp3_nv nv[16];
    size_t n;
    memset(&t, 0, sizeof t);
    req_body_go = 0;
    req_body_trailers = bad_trailer;
    REQUIRE(req_setup(&s, &sx, &a, seed) == 0);
    c = a.s->conn;
    REQUIRE((ts = req_send(c, f, 0, &t)) != NULL);
    REQUIRE(sim_run(&s, &t.closed, 10000));
    REQUIRE(t.refused_status == 400);
    harness_log_match = "malformed HTTP/3 request";
    harness_log_hits = 0;
    req_body_go = 1;
    if (bad_trailer) {
        req_nv(nv, &n, trailer);
        REQUIRE(nghttp3_conn_submit_trailers(c->h3.conn, ts->id, nv, n) == 0);
    }
    nghttp3_conn_resume_stream(c->h3.conn, ts->id);
    c->dirty = 1;
    CHECK(sim_run(&s, &harness_log_hits, 10000));
    harness_log_match = NULL;
    CHECK_EQ_INT(a.closed, 0);
    CHECK(req_echoes(&s, &a, 2));
    CHECK_EQ_INT(c->state, WT__CONN_OPEN);
    CHECK_EQ_INT(sx.sessions_closed, 0);
    {
        int never = 0;
        sim_run(&s, &never, 1000);
    }
    CHECK_EQ_INT(req_count_sessions(s.app->ep.conns), 1); /* the POST's stream is gone */
    sim_stop(&s);
}

WT_TEST(wt_req_malformed_trailer_after_400_resets_only_its_stream) {
    req_check_reset_after_answer(1, 109);
}

WT_TEST(wt_req_content_length_mismatch_after_400_resets_only_its_stream) {
    req_check_reset_after_answer(0, 111);
}

/* The other way round: a response HTTP/3 forbids (a connection-specific
   field, which wt_session_add_response_header refuses, so put in behind
   its back) ends that session on the client with WT_ERR_PROTOCOL and
   resets its stream; the client's other session on the connection goes on. */
static void req_bad_response_server(wt_event *ev) {
    if (ev->type == WT_EV_SESSION_REQUEST)
        wt__hdrs_add(&ev->session->conn->ep->alloc, &ev->session->resp, "connection", 10, "close", 5, 65536);
    server_handler(ev);
}

WT_TEST(wt_req_malformed_response_fails_its_session_alone) {
    sim s;
    server_ctx sx, bx;
    client_ctx a, b;
    memset(&bx, 0, sizeof bx);
    memset(&b, 0, sizeof b);
    REQUIRE(req_setup(&s, &sx, &a, 110) == 0);
    REQUIRE(wt_app_route(s.app, "/bad", req_bad_response_server, &bx) == WT_OK);
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/bad", client_handler, &b, NULL) == WT_OK);
    CHECK(sim_run(&s, &b.closed, 10000));
    CHECK_EQ_INT(b.opened, 0);
    CHECK_EQ_INT(b.close_error, WT_ERR_PROTOCOL);
    CHECK(sim_run(&s, &bx.sessions_closed, 10000)); /* the server saw its stream reset */
    CHECK_EQ_INT(bx.closed_error, WT_ERR_CLOSED);
    CHECK_EQ_INT(a.closed, 0);
    CHECK(req_echoes(&s, &a, 2));
    CHECK_EQ_INT((int)s.client->ep.nconns, 1);
    CHECK(a.s && a.s->conn->state == WT__CONN_OPEN);
    sim_stop(&s);
}
