/* test_mem.c - heap per idle session, all four libraries counted (wolfSSL
   through its allocator hook): the budgets of issue 10. */
#include "heap_count.h"

/* wolfSSL's hook must be in before wolfSSL's first block */
__attribute__((constructor)) static void mem_install_hook(void) { hc_install(); }

static void mem_print(const char *what, const double *each, double total) {
    int k;
    printf("    %s: %.0f bytes (", what, total);
    for (k = 0; k < HC_N; k++) printf("%s%s %.0f", k ? ", " : "", hc_names[k], each[k]);
    printf(")\n");
}

/* What the bundled (patched, tools/patches/) dependencies reach: issue
   10 asks for 40 KiB per idle connection (the idle_heap figure); this
   guards what is reached against growing. */
#ifndef WT_TEST_IDLE_HEAP_MAX
#if defined(__x86_64__) || defined(__aarch64__) || defined(__s390x__)
#define WT_TEST_IDLE_HEAP_MAX (40 * 1024) /* 38,317 bytes measured on all three */
#else
#define WT_TEST_IDLE_HEAP_MAX (48 * 1024) /* other ABIs (32-bit) size the libraries' structures otherwise */
#endif
#endif

/* The budgets: an idle connection with one session (WT_TEST_IDLE_HEAP_MAX
   on the server), every further session on it at most 8 KiB. */
WT_TEST(mem_idle_session_heap_within_budget) {
    hc_result r;
    REQUIRE(hc_installed);
    if (hc_measure(8, 8, NULL, &r) != 0) {
        printf("    measurement failed: %s\n", r.error);
        CHECK(0);
        return;
    }
    printf("    the app with a first connection: %zu bytes\n", r.base);
    mem_print("per idle connection with one session", r.per_conn, r.conn);
    mem_print("per extra session on it", r.per_session, r.session);
    CHECK(r.per_conn[HC_WOLFSSL] > 0); /* the hook saw wolfSSL's blocks */
    /* and only the four 1-RTT AES contexts (about 1 KB each) stay: the
       server freed each connection's WOLFSSL (about 9 KB more) */
    CHECK(r.per_conn[HC_WOLFSSL] < 6 * 1024);
    CHECK(r.per_conn[HC_NGTCP2] > 0 && r.per_conn[HC_NGHTTP3] > 0 && r.per_conn[HC_WT] > 0);
    CHECK(r.session > 0);
    printf("    issue 10's target per idle connection, 40960 bytes: %s by %.0f\n", r.conn <= 40960 ? "met" : "missed",
           r.conn <= 40960 ? 40960 - r.conn : r.conn - 40960);
    CHECK(r.conn <= WT_TEST_IDLE_HEAP_MAX);
    CHECK(r.session <= 8192);
}

/* ---------------------------------------------------------------- the server's TLS object goes after the handshake */

/* The server's only connection (the harness has one client). */
static wt__conn *mem_server_conn(harness *h) { return h->app->ep.conns; }

/* Key updates from either side after the server freed its WOLFSSL: they use
   ngtcp2's secrets and wolfSSL's static cipher descriptors, and data goes
   on flowing both ways; the exporter still agrees with the client's. */
WT_TEST(mem_server_frees_tls_key_updates_both_ways) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *x;
    wt__conn *sc;
    uint8_t kc[32], ks[32];
    int rv = -1;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    REQUIRE_SOON(&h, sx.last != NULL);
    sc = mem_server_conn(&h);
    REQUIRE(sc != NULL);
    CHECK(sc->tp.ssl == NULL);         /* the server's is gone */
    CHECK(cx.s->conn->tp.ssl != NULL); /* a client keeps its own */
#ifdef HAVE_KEYING_MATERIAL
    CHECK_EQ_INT(wt_session_export_keying_material(cx.s, "k", NULL, 0, kc, sizeof kc), WT_OK);
    CHECK_EQ_INT(wt_session_export_keying_material(sx.last, "k", NULL, 0, ks, sizeof ks), WT_OK);
    CHECK(!memcmp(kc, ks, sizeof kc));
#else
    (void)kc, (void)ks;
#endif
    /* the server starts a key update mid-transfer */
    x = client_xfer(&cx, 1024 * 1024, 3);
    REQUIRE(x != NULL);
    RUN_UNTIL(h.loop, (rv = ngtcp2_conn_initiate_key_update(sc->tp.qc, wt__loop_ns(h.loop))) == 0, HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(rv, 0);
    sc->dirty = 1;
    harness_run(&h, &x->done, 20000);
    CHECK(x->done && !x->bad);
    CHECK_EQ_INT(x->received, 1024 * 1024);
    /* then the client starts the next one */
    rv = -1;
    x = client_xfer(&cx, 1024 * 1024, 4);
    REQUIRE(x != NULL);
    RUN_UNTIL(h.loop, cx.s && (rv = ngtcp2_conn_initiate_key_update(cx.s->conn->tp.qc, wt__loop_ns(h.loop))) == 0,
              HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(rv, 0);
    harness_run(&h, &x->done, 20000);
    CHECK(x->done && !x->bad);
    CHECK_EQ_INT(x->received, 1024 * 1024);
    CHECK(!cx.closed && sc->tp.ssl == NULL);
    harness_stop(&h);
}

/* Sends msg on conn's 1-RTT CRYPTO stream, as a misbehaving peer would. */
static int mem_send_crypto(wt__conn *conn, const uint8_t *msg, size_t len) {
    conn->dirty = 1;
    return ngtcp2_conn_submit_crypto_data(conn->tp.qc, NGTCP2_ENCRYPTION_LEVEL_1RTT, msg, len);
}

/* A client that sends TLS handshake data after the handshake (here a
   KeyUpdate message in a 1-RTT CRYPTO frame, which QUIC forbids): the
   connection closes with alert 10 (unexpected_message), a log line says
   why, nothing crashes; with the server's WOLFSSL freed (the default) and
   kept (TESTING ONLY test_keep_tls: the moment between the handshake and
   the free, when wolfSSL would have acted on it and ngtcp2 asserted). */
WT_TEST(mem_client_key_update_message_closes_cleanly) {
    static const uint8_t key_update[5] = {24, 0, 0, 1, 0}; /* KeyUpdate, update_not_requested */
    int keep;
    for (keep = 0; keep <= 1; keep++) {
        harness h;
        server_ctx sx;
        client_ctx cx;
        xfer *x;
        wt__conn *sc;
        REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
        h.app->ep.test_keep_tls = keep;
        REQUIRE(client_open(&h, &cx, "/echo") == 0);
        REQUIRE_SOON(&h, sx.last != NULL);
        sc = mem_server_conn(&h);
        REQUIRE(sc != NULL);
        CHECK(keep ? sc->tp.ssl != NULL : sc->tp.ssl == NULL);
        /* the session works before */
        x = client_xfer(&cx, 1000, 5);
        REQUIRE(x != NULL);
        harness_run(&h, &x->done, 5000);
        CHECK(x->done && !x->bad && x->received == 1000);
        harness_log_match = "the client sent a TLS KeyUpdate message (type 24) after the handshake";
        harness_log_hits = 0;
        REQUIRE(mem_send_crypto(cx.s->conn, key_update, sizeof key_update) == 0);
        harness_run(&h, &cx.closed, 5000);
        CHECK(cx.closed);
        CHECK_EQ_INT(cx.close_error, WT_ERR_TLS); /* the client heard alert 10 */
        CHECK_EQ_INT(harness_log_hits, 1);
        CHECK_EQ_INT((int)harness_log_level, (int)WT_LOG_WARN);
        CHECK_SOON(&h, sx.sessions_closed == 1);
        CHECK_EQ_INT(sx.closed_error, WT_ERR_TLS);
        harness_log_match = NULL;
        harness_stop(&h);
    }
}

/* A server's NewSessionTicket reaches a client in pieces and is skipped (a
   wt.h client does not resume TLS sessions); a KeyUpdate after it closes
   the connection with alert 10, and the client says why. */
WT_TEST(mem_server_key_update_message_closes_cleanly) {
    static const uint8_t ticket[12] = {4, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}; /* the body is not read */
    static const uint8_t key_update[5] = {24, 0, 0, 1, 0};
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *x;
    wt__conn *sc;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    REQUIRE_SOON(&h, sx.last != NULL);
    sc = mem_server_conn(&h);
    REQUIRE(sc != NULL);
    /* a ticket in three pieces: the session goes on */
    REQUIRE(mem_send_crypto(sc, ticket, 2) == 0);
    REQUIRE(mem_send_crypto(sc, ticket + 2, 5) == 0);
    REQUIRE(mem_send_crypto(sc, ticket + 7, sizeof ticket - 7) == 0);
    x = client_xfer(&cx, 1000, 6);
    REQUIRE(x != NULL);
    harness_run(&h, &x->done, 5000);
    CHECK(x->done && !x->bad && x->received == 1000);
    CHECK(!cx.closed);
    harness_log_match = "the server sent a TLS KeyUpdate message (type 24) after the handshake";
    harness_log_hits = 0;
    REQUIRE(mem_send_crypto(sc, key_update, sizeof key_update) == 0);
    harness_run(&h, &cx.closed, 5000);
    CHECK(cx.closed);
    CHECK_EQ_INT(cx.close_error, WT_ERR_TLS);
    CHECK_EQ_INT(harness_log_hits, 1);
    CHECK_SOON(&h, sx.sessions_closed == 1);
    CHECK_EQ_INT(sx.closed_error, WT_ERR_TLS); /* the server heard alert 10 */
    harness_log_match = NULL;
    harness_stop(&h);
}
