/* test_small.c - small devices: session size, memory per session, the
   memory budget (SMALL DEVICES in wt.h). */

WT_TEST(small_session_struct_fits_1k) {
    /* rare data (close reasons, a long capsule's buffer) lives on the heap */
    printf("    sizeof: wt_session %zu, wt_stream %zu, connection %zu, endpoint %zu\n", sizeof(wt_session),
           sizeof(wt_stream), sizeof(wt__conn), sizeof(wt__ep));
    CHECK(sizeof(wt_session) <= 1024);
    CHECK(sizeof(wt__capsule_reader) <= 128);
}

/* Opens n more sessions on the client's (one) connection; 0 when all opened. */
static int small_open_sessions(harness *h, server_ctx *sx, client_ctx *cx, int n) {
    int i, want = sx->sessions_opened + n;
    for (i = 0; i < n; i++)
        if (client_open(h, &cx[i], "/echo") != 0) return -1;
    RUN_UNTIL(h->loop, sx->sessions_opened >= want, HARNESS_DEADLINE_MS);
    return sx->sessions_opened == want ? 0 : -1;
}

static void small_counting(wt_allocator *al, counting_alloc *ca) {
    memset(ca, 0, sizeof *ca);
    al->malloc_fn = count_malloc;
    al->realloc_fn = count_realloc;
    al->free_fn = count_free;
    al->user = ca;
}

/* Heap per extra session on a shared connection, server side, through the
   app's allocator: wt.h's own allocations apart from ngtcp2's and nghttp3's
   (their hooks get a second counting allocator). */
WT_TEST(small_extra_session_costs_at_most_2k) {
    enum { EXTRA = 8 };
    harness h;
    server_ctx sx;
    static client_ctx cx[1 + EXTRA];
    static counting_alloc ca, cd;
    static wt_allocator al, dl;
    size_t before, dbefore, per, dper;
    int i;
    small_counting(&al, &ca);
    small_counting(&dl, &cd);
    harness_server_alloc = &al;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    h.app->ep.mem.user_data = &dl; /* no connection yet: none has the old one */
    h.app->ep.h3mem.user_data = &dl;
    REQUIRE(small_open_sessions(&h, &sx, cx, 1) == 0);
    /* the connection with its first session, settled: acknowledgements in */
    REQUIRE(harness_run_past(&h, wt_loop_now_ms(h.loop) + 50));
    before = ca.live, dbefore = cd.live;
    REQUIRE(small_open_sessions(&h, &sx, cx + 1, EXTRA) == 0);
    REQUIRE(harness_run_past(&h, wt_loop_now_ms(h.loop) + 50));
    CHECK_EQ_INT((int)h.app->ep.nconns, 1); /* all on one connection */
    per = ca.live > before ? (ca.live - before) / EXTRA : 0;
    dper = cd.live > dbefore ? (cd.live - dbefore) / EXTRA : 0;
    printf("    server heap: wt.h %zu + ngtcp2/nghttp3 %zu bytes with one session; per extra session "
           "wt.h %zu + ngtcp2/nghttp3 %zu\n", before, dbefore, per, dper);
    CHECK(per > 0);
    CHECK(per <= 2048);
    CHECK(per + dper <= 4096); /* 5.2 KB before the close reasons moved out */
    for (i = 0; i < 1 + EXTRA; i++) CHECK(cx[i].opened && !cx[i].closed);
    harness_stop(&h);
    CHECK_EQ_INT(ca.live, 0);
    CHECK_EQ_INT(cd.live, 0);
}

/* wt_limits.memory_budget: a server near its budget refuses the next
   session (429) and the next connection (CONNECTION_REFUSED, at once),
   the sessions it has keep echoing, and closing them makes room again. */
WT_TEST(small_memory_budget_refuses_new_work_keeps_the_old) {
    enum { MAXS = 40 };
    harness h;
    server_ctx sx;
    static client_ctx cx[MAXS + 1], c2, again;
    wt_limits lim;
    wt_client_config cc;
    wt_client *cl;
    char url[200];
    size_t used, peak;
    int n, i;
    uint64_t t0;
    memset(&lim, 0, sizeof lim);
    lim.memory_budget = 4u * 1024 * 1024; /* lowered below once the first session is in */
    lim.max_sessions = 64;
    lim.stream_window = 16 * 1024;
    lim.conn_window = 64 * 1024;
    REQUIRE(server_setup(&h, &sx, &lim, NULL) == 0);
    CHECK(wt_app_memory_used(h.app, NULL) > 0);
    REQUIRE(client_open(&h, &cx[0], "/echo") == 0);
    REQUIRE(harness_run_past(&h, wt_loop_now_ms(h.loop) + 50));
    used = wt_app_memory_used(h.app, &peak);
    printf("    one connection, one session: %zu bytes in use (peak %zu)\n", used, peak);
    /* room for some more sessions, not for another connection */
    h.app->ep.budget->max = used + 96 * 1024;
    snprintf(url, sizeof url, "%s/echo", h.url);
    for (n = 1; n <= MAXS; n++) {
        /* opened, or refused (connect_with waits for either) */
        if (connect_with(&h, h.client, &cx[n], url) != 0) break;
    }
    REQUIRE(n <= MAXS);
    REQUIRE_SOON(&h, cx[n].closed);
    printf("    %d sessions in %zu bytes; the next one: %d\n", n, (size_t)h.app->ep.budget->max, cx[n].refused_status);
    CHECK(n >= 3 && n < MAXS);
    CHECK_EQ_INT(cx[n].refused_status, 429);
    CHECK(wt_app_memory_used(h.app, &peak) <= h.app->ep.budget->max);
    CHECK(peak <= 4u * 1024 * 1024);
    /* a second connection: refused at once, not timed out */
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    REQUIRE((cl = second_client(&h, &cc)) != NULL);
    t0 = wt_loop_now_ms(h.loop);
    CHECK(connect_with(&h, cl, &c2, url) != 0);
    CHECK(c2.closed);
    CHECK(wt_loop_now_ms(h.loop) - t0 < 2000);
    CHECK((int)h.app->ep.nconns == 1);
    /* the sessions it has still echo */
    for (i = 0; i < n; i++) {
        xfer *x = client_xfer(&cx[i], 3000, (unsigned)i + 1);
        REQUIRE(x != NULL);
        CHECK_SOON(&h, x->done);
        CHECK(!x->bad && !cx[i].closed);
    }
    /* fewer sessions, room again (the positive check beside the refusal) */
    for (i = 0; i < n; i++) wt_session_close(cx[i].s, 0, "");
    CHECK_SOON(&h, sx.sessions_closed == n);
    /* room with a margin: the closed sessions' buffers go back over a few
       round trips, and a loaded machine can ask in between, when there is
       just room for the check but not for the new request's own streams */
    CHECK_SOON(&h, wt__budget_room(&h.app->ep, WT__BUDGET_SESSION + 32 * 1024));
    printf("    all closed: %zu bytes in use\n", wt_app_memory_used(h.app, NULL));
    /* connect_with waits (to the harness deadline, not client_open's 5 s,
       which a loaded machine can pass) for the answer, whichever it is */
    CHECK(connect_with(&h, h.client, &again, url) == 0);
    if (!again.opened) printf("    refused with %d\n", again.refused_status);
    CHECK(h.app->ep.budget->refused >= 2);
    wt_client_destroy(cl);
    harness_stop(&h);
}

/* A whole echo session (handshake, a stream each way, a datagram, close)
   with both ends on one loop in a thread of a 64 KiB stack: wt.h's frames
   are small and the default wolfSSL build fits too. ASan's redzones make
   every frame several times larger: 512 KiB there. */
static int small_thread_done;
static void small_echo_in_thread(void) {
    static harness h;
    static server_ctx sx;
    static client_ctx cx;
    xfer *x;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    x = client_xfer(&cx, 20000, 3);
    REQUIRE(x != NULL);
    CHECK_SOON(&h, x->done);
    CHECK(!x->bad);
    CHECK_EQ_INT(wt_session_send_datagram(cx.s, "ping", 4), WT_OK);
    CHECK_SOON(&h, cx.datagrams_in > 0);
    CHECK_EQ_INT(wt_session_close(cx.s, 7, "bye"), WT_OK);
    CHECK_SOON(&h, sx.sessions_closed == 1);
    CHECK_EQ_INT(sx.closed_code, 7);
    harness_stop(&h);
    small_thread_done = 1;
}

static void *small_thread_main(void *arg) {
    (void)arg;
    small_echo_in_thread();
    return NULL;
}

WT_TEST(small_echo_session_in_a_64k_stack) {
    pthread_attr_t attr;
    pthread_t t;
    size_t stack = 64 * 1024;
#if defined(__SANITIZE_ADDRESS__)
    stack = 512 * 1024;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    stack = 512 * 1024;
#endif
#endif
#ifdef _SC_THREAD_STACK_MIN
    {
        /* glibc on aarch64 (64 KiB pages) refuses stacks below 128 KiB */
        long min = sysconf(_SC_THREAD_STACK_MIN);
        if (min > 0 && (size_t)min > stack) {
            printf("    this system's smallest thread stack is %ld bytes: using it\n", min);
            stack = (size_t)min;
        }
    }
#endif
    REQUIRE(harness_cert() == 0); /* certificate generation is not part of a session */
    small_thread_done = 0;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setstacksize(&attr, stack) == 0);
    REQUIRE(pthread_create(&t, &attr, small_thread_main, NULL) == 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    CHECK(small_thread_done);
}
