/* test_conformance.c - what browsers' WebTransport conformance tests ask of
   a server: any response status, response headers, the request's
   pseudo-headers, closing the whole connection, no empty non-final DATA. */
#include "harness.h"

typedef struct cf_peer {
    int opened, closed, close_error, status, requests;
    int action;                 /* server: what the REQUEST handler does */
    int api_rv[8];              /* return values of calls made in the handler */
    char location[200];         /* client: the refusal's location header */
    char resp_status[8];        /* client: ":status" as listed */
    wt_session *s;
    int data_events, empty_nonfinal, fin;
    char data[64];
    size_t data_len;
} cf_peer;

enum { CF_ACCEPT_202 = 1, CF_REDIRECT_301, CF_REDIRECT_302, CF_BAD_CALLS, CF_CLOSE_CONN, CF_READ_ALL_3 };

static void cf_server(wt_event *ev) {
    cf_peer *p = (cf_peer *)ev->user;
    switch (ev->type) {
    case WT_EV_SESSION_REQUEST:
        p->requests++;
        if (p->action == CF_ACCEPT_202) {
            p->api_rv[0] = wt_session_accept(ev->session, 202);
            p->api_rv[1] = wt_session_add_response_header(ev->session, "x-served-by", "wt.h");
        } else if (p->action == CF_REDIRECT_301 || p->action == CF_REDIRECT_302) {
            p->api_rv[0] = wt_session_reject(ev->session, p->action == CF_REDIRECT_301 ? 301 : 302);
            p->api_rv[1] = wt_session_add_response_header(ev->session, "location", "https://example.test/elsewhere");
        } else if (p->action == CF_BAD_CALLS) {
            p->api_rv[0] = wt_session_accept(ev->session, 300);
            p->api_rv[1] = wt_session_reject(ev->session, 299);
            p->api_rv[2] = wt_session_reject(ev->session, 600);
            p->api_rv[3] = wt_session_add_response_header(ev->session, "Upper-Case", "x");
            p->api_rv[4] = wt_session_add_response_header(ev->session, "x-two-lines", "a\r\nb");
            p->api_rv[5] = wt_session_add_response_header(ev->session, ":status", "200");
            p->api_rv[6] = wt_session_accept(ev->session, 0); /* 200 */
        }
        break;
    case WT_EV_SESSION_OPEN:
        p->opened++;
        p->s = ev->session;
        if (p->action == CF_BAD_CALLS) {
            p->api_rv[7] = wt_session_accept(ev->session, 200); /* too late */
        }
        break;
    case WT_EV_STREAM_OPEN:
        if (p->action == CF_READ_ALL_3) wt_stream_read_all(ev->stream, 3);
        if (p->action == CF_CLOSE_CONN) p->api_rv[0] = wt_session_close_connection(ev->session, 0x100, "all of it");
        break;
    case WT_EV_STREAM_DATA:
        p->data_events++;
        if (ev->len == 0 && !ev->fin) p->empty_nonfinal++;
        if (p->data_len + ev->len <= sizeof p->data) {
            memcpy(p->data + p->data_len, ev->data, ev->len);
            p->data_len += ev->len;
        }
        if (ev->fin) p->fin = 1;
        break;
    case WT_EV_SESSION_CLOSED:
        p->closed++;
        p->close_error = ev->error;
        p->s = NULL;
        break;
    default: break;
    }
}

static void cf_client(wt_event *ev) {
    cf_peer *p = (cf_peer *)ev->user;
    const char *v;
    if (ev->type == WT_EV_SESSION_OPEN) {
        p->opened++;
        p->s = ev->session;
    }
    if (ev->type == WT_EV_SESSION_OPEN || ev->type == WT_EV_SESSION_CLOSED) {
        /* the response is readable until the handler returns from CLOSED */
        if ((v = wt_session_response_header(ev->session, "location")) != NULL)
            snprintf(p->location, sizeof p->location, "%s", v);
        if ((v = wt_session_response_header(ev->session, ":status")) != NULL)
            snprintf(p->resp_status, sizeof p->resp_status, "%s", v);
    }
    if (ev->type == WT_EV_SESSION_CLOSED) {
        p->closed++;
        p->close_error = ev->error;
        p->status = ev->status;
        p->s = NULL;
    }
}

static int cf_setup(harness *h, cf_peer *sp, const wt_limits *sl) {
    if (harness_start_ex(h, sl, NULL, NULL) != 0) return -1;
    if (wt_app_route(h->app, "/cf", cf_server, sp) != WT_OK) return -1;
    return harness_listen(h);
}

static int cf_connect(harness *h, cf_peer *cp, const char *path) {
    char url[2200];
    snprintf(url, sizeof url, "%s%s", h->url, path);
    return wt_client_connect(h->client, url, cf_client, cp, NULL);
}

/* ---------------------------------------------------------------- statuses */
static void cf_redirect(int action, int status) {
    harness h;
    cf_peer sp, cp;
    memset(&sp, 0, sizeof sp);
    memset(&cp, 0, sizeof cp);
    sp.action = action;
    REQUIRE(cf_setup(&h, &sp, NULL) == 0);
    REQUIRE(cf_connect(&h, &cp, "/cf") == WT_OK);
    REQUIRE(harness_run(&h, &cp.closed, 5000));
    CHECK_EQ_INT(sp.api_rv[0], WT_OK);
    CHECK_EQ_INT(sp.api_rv[1], WT_OK);
    CHECK_EQ_INT(cp.opened, 0);
    CHECK_EQ_INT(cp.close_error, WT_ERR_REFUSED);
    CHECK_EQ_INT(cp.status, status);
    CHECK(strcmp(cp.location, "https://example.test/elsewhere") == 0);
    CHECK_EQ_INT(atoi(cp.resp_status), status);
    harness_stop(&h);
}

WT_TEST(wt_conformance_redirect_301_with_location) { cf_redirect(CF_REDIRECT_301, 301); }
WT_TEST(wt_conformance_redirect_302_with_location) { cf_redirect(CF_REDIRECT_302, 302); }

WT_TEST(wt_conformance_accept_with_202_and_headers) {
    harness h;
    cf_peer sp, cp;
    const char *n, *v;
    memset(&sp, 0, sizeof sp);
    memset(&cp, 0, sizeof cp);
    sp.action = CF_ACCEPT_202;
    REQUIRE(cf_setup(&h, &sp, NULL) == 0);
    REQUIRE(cf_connect(&h, &cp, "/cf") == WT_OK);
    REQUIRE(harness_run(&h, &cp.opened, 5000));
    REQUIRE(harness_run(&h, &sp.opened, 5000));
    CHECK_EQ_INT(sp.api_rv[0], WT_OK);
    CHECK_EQ_INT(sp.api_rv[1], WT_OK);
    CHECK(strcmp(cp.resp_status, "202") == 0);
    REQUIRE(cp.s != NULL && sp.s != NULL);
    CHECK(strcmp(wt_session_response_header(cp.s, "x-served-by"), "wt.h") == 0);
    /* the server's list is what went out: :status first */
    REQUIRE(wt_session_response_header_at(sp.s, 0, &n, &v) == WT_OK);
    CHECK(strcmp(n, ":status") == 0 && strcmp(v, "202") == 0);
    CHECK_EQ_INT(wt_session_response_header_count(cp.s), wt_session_response_header_count(sp.s));
    CHECK_EQ_INT(wt_session_response_header_at(sp.s, 99, &n, &v), WT_ERR_NOT_FOUND);
    harness_stop(&h);
}

WT_TEST(wt_conformance_status_calls_are_checked) {
    harness h;
    cf_peer sp, cp;
    memset(&sp, 0, sizeof sp);
    memset(&cp, 0, sizeof cp);
    sp.action = CF_BAD_CALLS;
    REQUIRE(cf_setup(&h, &sp, NULL) == 0);
    REQUIRE(cf_connect(&h, &cp, "/cf") == WT_OK);
    REQUIRE(harness_run(&h, &cp.opened, 5000));
    REQUIRE(harness_run(&h, &sp.opened, 5000));
    CHECK_EQ_INT(sp.api_rv[0], WT_ERR_INVALID);
    CHECK_EQ_INT(sp.api_rv[1], WT_ERR_INVALID);
    CHECK_EQ_INT(sp.api_rv[2], WT_ERR_INVALID);
    CHECK_EQ_INT(sp.api_rv[3], WT_ERR_INVALID);
    CHECK_EQ_INT(sp.api_rv[4], WT_ERR_INVALID);
    CHECK_EQ_INT(sp.api_rv[5], WT_ERR_INVALID);
    CHECK_EQ_INT(sp.api_rv[6], WT_OK);
    CHECK_EQ_INT(sp.api_rv[7], WT_ERR_STATE);
    CHECK(strcmp(cp.resp_status, "200") == 0);
    /* a client cannot answer anything */
    CHECK_EQ_INT(wt_session_reject(cp.s, 404), WT_ERR_STATE);
    CHECK_EQ_INT(wt_session_add_response_header(cp.s, "x", "y"), WT_ERR_STATE);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- pseudo-headers */
/* The request as each dialect sends it: draft-02 (what browsers send,
   with Chromium's draft-02 header) or the latest (webtransport-h3). */
static void cf_request_pseudo_headers(wt_dialect dialect) {
    harness h;
    cf_peer sp, cp;
    const char *n, *v;
    static const char *const want[] = {":method", "CONNECT", ":protocol", "webtransport", ":scheme", "https",
                                       ":authority", NULL, ":path", "/cf?q=1"};
    char authority[64];
    size_t i;
    wt_session *cs;
    memset(&sp, 0, sizeof sp);
    memset(&cp, 0, sizeof cp);
    harness_client_dialect = dialect;
    REQUIRE(cf_setup(&h, &sp, NULL) == 0);
    snprintf(authority, sizeof authority, "127.0.0.1:%d", h.port);
    REQUIRE(cf_connect(&h, &cp, "/cf?q=1") == WT_OK);
    REQUIRE(harness_run(&h, &sp.opened, 5000));
    REQUIRE(harness_run(&h, &cp.opened, 5000));
    cs = cp.s;
    for (i = 0; i < WT__COUNTOF(want) / 2; i++) {
        const char *wv = want[2 * i + 1] ? want[2 * i + 1] : authority;
        if (i == 1 && dialect == WT_DIALECT_LATEST) wv = "webtransport-h3";
        REQUIRE(wt_session_header_at(sp.s, i, &n, &v) == WT_OK);
        CHECK(strcmp(n, want[2 * i]) == 0);
        CHECK(strcmp(v, wv) == 0);
        CHECK(strcmp(wt_session_header(sp.s, want[2 * i]), wv) == 0);
    }
    CHECK_EQ_INT(wt_session_dialect(sp.s), dialect);
    CHECK_EQ_INT(wt_session_dialect(cs), dialect);
    if (dialect == WT_DIALECT_DRAFT02) {
        CHECK(strcmp(wt_session_header(sp.s, "sec-webtransport-http3-draft02"), "1") == 0);
        CHECK(strcmp(wt_session_response_header(cs, "sec-webtransport-http3-draft"), "draft02") == 0);
    } else {
        CHECK(wt_session_header(sp.s, "sec-webtransport-http3-draft02") == NULL);
        CHECK(wt_session_response_header(cs, "sec-webtransport-http3-draft") == NULL);
    }
    /* the client lists exactly what it sent, in the same order */
    CHECK_EQ_INT(wt_session_header_count(cs), wt_session_header_count(sp.s));
    for (i = 0; i < wt_session_header_count(cs); i++) {
        const char *sn, *sv;
        REQUIRE(wt_session_header_at(cs, i, &n, &v) == WT_OK);
        REQUIRE(wt_session_header_at(sp.s, i, &sn, &sv) == WT_OK);
        CHECK(strcmp(n, sn) == 0 && strcmp(v, sv) == 0);
    }
    CHECK_EQ_INT(wt_session_header_at(sp.s, 999, &n, &v), WT_ERR_NOT_FOUND);
    harness_stop(&h);
}

WT_TEST(wt_conformance_request_pseudo_headers_in_order) { cf_request_pseudo_headers(WT_DIALECT_DRAFT02); }
WT_TEST(wt_conformance_request_pseudo_headers_latest) { cf_request_pseudo_headers(WT_DIALECT_LATEST); }

/* The pseudo-headers count against max_header_bytes like any field. */
WT_TEST(wt_conformance_pseudo_headers_count_against_the_limit) {
    harness h;
    cf_peer sp, cp;
    wt_limits sl;
    char path[1600];
    memset(&sp, 0, sizeof sp);
    memset(&cp, 0, sizeof cp);
    memset(&sl, 0, sizeof sl);
    sl.max_header_bytes = 1024;
    REQUIRE(cf_setup(&h, &sp, &sl) == 0);
    memcpy(path, "/cf?", 4);
    memset(path + 4, 'p', sizeof path - 5);
    path[sizeof path - 1] = 0;
    REQUIRE(cf_connect(&h, &cp, path) == WT_OK);
    REQUIRE(harness_run(&h, &cp.closed, 5000));
    CHECK_EQ_INT(cp.close_error, WT_ERR_REFUSED);
    CHECK_EQ_INT(cp.status, 431);
    CHECK_EQ_INT(sp.opened, 0);
    /* and one that fits still opens */
    memset(&cp, 0, sizeof cp);
    REQUIRE(cf_connect(&h, &cp, "/cf?short") == WT_OK);
    CHECK(harness_run(&h, &cp.opened, 5000));
    harness_stop(&h);
}

/* ---------------------------------------------------------------- closing the connection */
WT_TEST(wt_conformance_close_the_whole_connection_from_a_handler) {
    harness h;
    cf_peer sp, cp, cp2;
    wt_stream *st;
    memset(&sp, 0, sizeof sp);
    memset(&cp, 0, sizeof cp);
    memset(&cp2, 0, sizeof cp2);
    sp.action = CF_CLOSE_CONN;
    REQUIRE(cf_setup(&h, &sp, NULL) == 0);
    REQUIRE(cf_connect(&h, &cp, "/cf") == WT_OK);
    REQUIRE(harness_run(&h, &cp.opened, 5000));
    REQUIRE(cf_connect(&h, &cp2, "/cf") == WT_OK); /* a second session, same connection */
    REQUIRE(harness_run(&h, &cp2.opened, 5000));
    REQUIRE(cp.s->conn == cp2.s->conn);
    CHECK_EQ_INT(wt_session_close_connection(cp.s, 1ULL << 62, NULL), WT_ERR_INVALID);
    REQUIRE(wt_session_open_stream(cp.s, 1, &st) == WT_OK);
    REQUIRE(wt_stream_write(st, "x", 1) == 1);
    REQUIRE(harness_run(&h, &cp.closed, 5000));
    REQUIRE(harness_run(&h, &cp2.closed, 5000));
    CHECK_EQ_INT(sp.api_rv[0], WT_OK);
    CHECK_EQ_INT(cp.close_error, WT_ERR_CLOSED); /* not a clean session close */
    CHECK_EQ_INT(cp2.close_error, WT_ERR_CLOSED);
    CHECK(harness_run(&h, &sp.closed, 5000));
    CHECK_EQ_INT(sp.close_error, WT_ERR_CLOSED);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- no empty DATA */
/* A WebTransport bidi stream written one byte per packet: the header (type
   and session ID) arrives before any payload. */
WT_TEST(wt_conformance_header_alone_never_gives_empty_data) {
    harness h;
    cf_peer sp, cp;
    wt__conn *c;
    wt_stream *st;
    int64_t id;
    uint8_t bytes[16];
    size_t n = 0, i;
    memset(&sp, 0, sizeof sp);
    memset(&cp, 0, sizeof cp);
    REQUIRE(cf_setup(&h, &sp, NULL) == 0);
    REQUIRE(cf_connect(&h, &cp, "/cf") == WT_OK);
    REQUIRE(harness_run(&h, &cp.opened, 5000));
    c = cp.s->conn;
    n += wt__varint_put(bytes, WT__STREAM_TYPE_BIDI);
    n += wt__varint_put(bytes + n, (uint64_t)cp.s->id);
    memcpy(bytes + n, "abc", 3);
    n += 3;
    REQUIRE(ngtcp2_conn_open_bidi_stream(c->tp.qc, &id, NULL) == 0);
    st = wt__stream_new(c, id, 1, 1);
    REQUIRE(st != NULL);
    st->kind = WT__ST_WT;
    ngtcp2_conn_set_stream_user_data(c->tp.qc, id, st);
    for (i = 0; i < n; i++) {
        uint64_t end = wt_loop_now_ms(h.loop) + 2000;
        size_t acked = st->tx.stored;
        wt__sendbuf_append(NULL, &st->tx, bytes + i, 1);
        if (i == n - 1) st->fin_queued = 1;
        wt__stream_queue_send(st);
        /* one byte per packet: the next goes only once this one is acknowledged */
        while (st->tx.stored > acked && wt_loop_now_ms(h.loop) < end) wt_loop_run_once(h.loop, 5);
    }
    REQUIRE(harness_run(&h, &sp.fin, 5000));
    CHECK_EQ_INT(sp.data_len, 3);
    CHECK(memcmp(sp.data, "abc", 3) == 0);
    CHECK_EQ_INT(sp.empty_nonfinal, 0);
    CHECK(sp.data_events >= 3); /* it did come piece by piece */
    ngtcp2_conn_shutdown_stream(c->tp.qc, 0, id, WT__H3_NO_ERROR);
    ngtcp2_conn_set_stream_user_data(c->tp.qc, id, NULL);
    wt__stream_unqueue_send(st);
    wt__stream_free(st);
    harness_stop(&h);
}

/* read_all past its limit: the event carries the first limit bytes, even
   when the very first chunk passes it (it used to carry none). */
WT_TEST(wt_conformance_read_all_past_the_limit_is_never_empty) {
    harness h;
    cf_peer sp, cp;
    wt_stream *st;
    memset(&sp, 0, sizeof sp);
    memset(&cp, 0, sizeof cp);
    sp.action = CF_READ_ALL_3;
    REQUIRE(cf_setup(&h, &sp, NULL) == 0);
    REQUIRE(cf_connect(&h, &cp, "/cf") == WT_OK);
    REQUIRE(harness_run(&h, &cp.opened, 5000));
    REQUIRE(wt_session_open_stream(cp.s, 1, &st) == WT_OK);
    REQUIRE(wt_stream_write(st, "0123456789", 10) == 10);
    REQUIRE(harness_run(&h, &sp.data_events, 5000));
    CHECK_EQ_INT(sp.data_events, 1);
    CHECK_EQ_INT(sp.empty_nonfinal, 0);
    CHECK_EQ_INT(sp.data_len, 3);
    CHECK(memcmp(sp.data, "012", 3) == 0);
    CHECK_EQ_INT(sp.fin, 0);
    harness_stop(&h);
}
