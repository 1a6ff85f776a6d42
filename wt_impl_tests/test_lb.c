/* test_lb.c - connection IDs for load balancers: the QUIC-LB plaintext
   layout of wt__cid_make, checked with the test's own decoder (quiclb.h),
   and the stateless reset a client hears from a server without its
   connection. The same over real network namespaces and nftables:
   lb_test.sh with lb_peer.c. */
#include "quiclb.h"

/* The decoder on CIDs built by hand from the draft's format. */
WT_TEST(lb_decoder_plaintext_by_hand) {
    static const quiclb_config two = {0, 2, 1}, rot2 = {2, 3, 0};
    uint8_t cid[20], sid[15];
    int n;
    /* config rotation 0, length 15, server ID 0a01, nonce of 13 bytes */
    n = quiclb_unhex("0f0a01" "00112233445566778899aabbcc", cid, sizeof cid);
    REQUIRE(n == 16);
    CHECK_EQ_INT(quiclb_decode(&two, cid, (size_t)n, sid), 0);
    CHECK(sid[0] == 0x0a && sid[1] == 0x01);
    /* the length disagrees: unroutable when the balancer checks it */
    CHECK_EQ_INT(quiclb_decode(&two, cid, 15, sid), -1);
    /* config rotation 2 (0x4_), random low bits, server ID c0ffee, nonce of 4 */
    n = quiclb_unhex("5dc0ffee01020304", cid, sizeof cid);
    REQUIRE(n == 8);
    CHECK_EQ_INT(quiclb_decode(&rot2, cid, (size_t)n, sid), 0);
    CHECK(sid[0] == 0xc0 && sid[1] == 0xff && sid[2] == 0xee);
    CHECK_EQ_INT(quiclb_decode(&two, cid, (size_t)n, sid), -1); /* another configuration */
    /* 0b111: unroutable whatever follows; a nonce under 4 bytes too */
    n = quiclb_unhex("ef0a0100112233445566778899aabbcc", cid, sizeof cid);
    CHECK_EQ_INT(quiclb_decode(&two, cid, (size_t)n, sid), -1);
    n = quiclb_unhex("050a01001122", cid, sizeof cid);
    CHECK_EQ_INT(quiclb_decode(&two, cid, (size_t)n, sid), -1);
    CHECK_EQ_INT(quiclb_unhex("0g", cid, sizeof cid), -1);
}

/* An app with a server ID of len bytes (from 0xa0 up), not started. */
static wt_app *lb_app(size_t len) {
    static const uint8_t sid[WT_SERVER_ID_MAX + 1] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                                      0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae};
    wt_app_config ac;
    if (harness_cert() != 0) return NULL;
    memset(&ac, 0, sizeof ac);
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.log.fn = harness_quiet_log;
    ac.server_id = len ? sid : NULL;
    ac.server_id_len = len;
    return wt_app_create(&ac);
}

/* wt__cid_make: first octet config rotation 0 and the length after it,
   the server ID, the worker byte, then random; every length of server ID. */
WT_TEST(lb_cid_layout_quic_lb_plaintext) {
    size_t len, i;
    for (len = 1; len <= WT_SERVER_ID_MAX; len++) {
        wt_app *app = lb_app(len);
        quiclb_config cfg;
        uint8_t cid[NGTCP2_MAX_CIDLEN], first[NGTCP2_MAX_CIDLEN], sid[15];
        size_t cl, differ = 0;
        REQUIRE(app != NULL);
        cl = app->ep.cid_len;
        CHECK_EQ_INT(cl, len + 6 > 16 ? len + 6 : 16);
        cfg.config_rotation = 0, cfg.server_id_len = len, cfg.check_length = 1;
        app->ep.worker = (uint8_t)(len % 3);
        for (i = 0; i < 16; i++) {
            REQUIRE(wt__cid_make(&app->ep, cid, cl) == 0);
            CHECK_EQ_INT(cid[0], cl - 1); /* 0b000 then the length: 3 + 5 bits */
            CHECK_EQ_INT(quiclb_decode(&cfg, cid, cl, sid), 0);
            CHECK(memcmp(sid, "\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad", len) == 0);
            CHECK_EQ_INT(cid[1 + len], len % 3);
            if (i == 0) memcpy(first, cid, cl);
            else if (memcmp(first + 2 + len, cid + 2 + len, cl - 2 - len) != 0) differ++;
        }
        CHECK_EQ_INT(differ, 15); /* the nonce's random part changes every time */
        wt_app_destroy(app);
    }
    /* one byte too many is refused, with the positive case above beside it */
    CHECK(lb_app(WT_SERVER_ID_MAX + 1) == NULL);
}

/* Without a server ID the first octet stays random (no QUIC-LB claim),
   the worker byte is still at [1]. */
WT_TEST(lb_cid_without_server_id_random_first_octet) {
    wt_app *app = lb_app(0);
    uint8_t cid[NGTCP2_MAX_CIDLEN], seen[256];
    size_t i, kinds = 0;
    REQUIRE(app != NULL);
    CHECK_EQ_INT(app->ep.cid_len, 16);
    memset(seen, 0, sizeof seen);
    app->ep.worker = 1;
    for (i = 0; i < 64; i++) {
        REQUIRE(wt__cid_make(&app->ep, cid, app->ep.cid_len) == 0);
        CHECK_EQ_INT(cid[1], 1);
        if (!seen[cid[0]]++) kinds++;
    }
    CHECK(kinds > 8);
    wt_app_destroy(app);
}

/* Over a real connection: the CID the client sends to, and every CID the
   server issued (its first and those of NEW_CONNECTION_ID), decode to the
   server's ID. */
WT_TEST(lb_issued_cids_decode_to_server_id) {
    static const uint8_t id[2] = {0x0a, 0x02};
    static const quiclb_config cfg = {0, 2, 1};
    harness h;
    server_ctx sx;
    client_ctx cx;
    ngtcp2_cid scids[16];
    const ngtcp2_cid *dcid;
    uint8_t sid[2];
    size_t n, i;
    harness_server_id = id;
    harness_server_id_len = sizeof id;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    dcid = ngtcp2_conn_get_dcid2(cx.s->conn->tp.qc);
    CHECK_EQ_INT(dcid->datalen, 16);
    CHECK_EQ_INT(quiclb_decode(&cfg, dcid->data, dcid->datalen, sid), 0);
    CHECK(memcmp(sid, id, 2) == 0);
    REQUIRE(h.app->ep.conns != NULL);
    CHECK_SOON(&h, ngtcp2_conn_get_scid2(h.app->ep.conns->tp.qc, NULL) >= 2);
    n = ngtcp2_conn_get_scid2(h.app->ep.conns->tp.qc, NULL);
    REQUIRE(n <= 16);
    ngtcp2_conn_get_scid2(h.app->ep.conns->tp.qc, scids);
    for (i = 0; i < n; i++) {
        CHECK_EQ_INT(quiclb_decode(&cfg, scids[i].data, scids[i].datalen, sid), 0);
        CHECK(memcmp(sid, id, 2) == 0);
    }
    harness_stop(&h);
}

/* A client told by a stateless reset says so in its log (the server here
   forgets the connection; behind a balancer another instance would send it). */
WT_TEST(lb_client_logs_stateless_reset) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    harness_log_match = "stateless reset";
    harness_log_hits = 0;
    REQUIRE(client_xfer(&cx, 100, 1) != NULL);
    RUN_UNTIL(h.loop, cx.ndone == 1, HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(cx.ndone, 1);
    CHECK_EQ_INT(harness_log_hits, 0); /* the connection works: no reset said */
    h.app->ep.conns->state = WT__CONN_DEAD;
    h.app->ep.conns->fail_error = 0;
    CHECK_SOON(&h, h.app->ep.nconns == 0);
    REQUIRE(client_xfer(&cx, 100, 2) != NULL);
    CHECK_SOON(&h, cx.closed);
    CHECK_EQ_INT(cx.close_error, WT_ERR_CLOSED);
    CHECK_EQ_INT(harness_log_hits, 1);
    CHECK(harness_log_level == WT_LOG_INFO);
    harness_log_match = NULL;
    harness_stop(&h);
}

static uint64_t lb_fixed_clock(void *user) {
    return *(uint64_t *)user;
}

/* Retry tokens carry the wall clock, not the loop's CLOCK_MONOTONIC (each
   machine's uptime: another instance could not check them); with a clock
   hook on the loop, that clock. lb_test.sh runs it across two uptimes. */
WT_TEST(lb_retry_token_time_is_wall_clock) {
    wt_app *app = lb_app(1);
    wt_loop_config lc;
    wt_loop *loop;
    uint64_t virt = 123456789, got;
    struct timespec rt;
    REQUIRE(app != NULL);
    got = wt__token_time(&app->ep, 42);
    clock_gettime(CLOCK_REALTIME, &rt);
    CHECK(got != 42);
    CHECK(got <= (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec);
    CHECK(got + 5000000000ULL > (uint64_t)rt.tv_sec * 1000000000ULL); /* within seconds of it */
    wt_app_destroy(app);
    memset(&lc, 0, sizeof lc);
    lc.clock.now_ns = lb_fixed_clock;
    lc.clock.user = &virt;
    REQUIRE((loop = wt_loop_create(&lc)) != NULL);
    {
        wt_app_config ac;
        memset(&ac, 0, sizeof ac);
        ac.port = -1;
        ac.cert_file = harness_crt;
        ac.key_file = harness_key;
        ac.loop = loop;
        ac.log.fn = harness_quiet_log;
        app = wt_app_create(&ac);
    }
    REQUIRE(app != NULL);
    CHECK_EQ_INT(wt__token_time(&app->ep, virt), virt);
    wt_app_destroy(app);
    wt_loop_destroy(loop);
}
