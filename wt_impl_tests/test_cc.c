/* test_cc.c - limits.congestion_control picks ngtcp2's controller, and
   CUBIC paces an app-limited datagram sender by today's RTT (the bundled
   ngtcp2's pacing patch; unpatched, it kept a stale rate: bench figure
   dgram1200). */

WT_TEST(wt_congestion_control_checked_at_create) {
    wt_client_config cc;
    wt_client *c;
    memset(&cc, 0, sizeof cc);
    cc.insecure = 1;
    cc.log.fn = harness_quiet_log;
    cc.limits.congestion_control = WT_CC_BBR + 1;
    CHECK(wt_client_create(&cc) == NULL); /* not a controller */
    cc.limits.congestion_control = WT_CC_BBR;
    CHECK((c = wt_client_create(&cc)) != NULL); /* one is */
    if (c) wt_client_destroy(c);
    cc.limits.congestion_control = WT_CC_RENO;
    CHECK((c = wt_client_create(&cc)) != NULL);
    if (c) wt_client_destroy(c);
}

/* A client that keeps the datagram queue full of 1200-byte datagrams. */
typedef struct cc_flood {
    wt_session *s;
    int opened;
    uint64_t sent;
} cc_flood;

static void cc_fill(cc_flood *f) {
    uint8_t b[1200];
    memset(b, 'c', sizeof b);
    while (f->s && wt_session_send_datagram(f->s, b, sizeof b) == WT_OK) f->sent++;
}

static void cc_client(wt_event *ev) {
    cc_flood *f = (cc_flood *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) {
        f->s = ev->session;
        f->opened = 1;
        cc_fill(f);
    } else if (ev->type == WT_EV_DATAGRAM_WRITABLE) {
        cc_fill(f);
    } else if (ev->type == WT_EV_SESSION_CLOSED) {
        f->s = NULL;
    }
}

/* 30 ms of virtual time on a loopback-like path (no delay, 10 Gbit/s, no
   loss) with both ends on one controller: datagrams delivered, and the
   client's congestion window at the end. */
static uint64_t cc_flood_run(uint32_t algo, uint64_t *cwnd) {
    sim s;
    sink_server sv;
    cc_flood f;
    wt_limits lim;
    wt_stats st;
    int never = 0;
    uint64_t got = 0;
    memset(&s, 0, sizeof s);
    memset(&sv, 0, sizeof sv);
    memset(&f, 0, sizeof f);
    memset(&lim, 0, sizeof lim);
    lim.congestion_control = algo;
    s.up.rate_mbps = s.down.rate_mbps = 10000;
    *cwnd = 0;
    if (sim_start(&s, 11, &lim, &lim) == 0 && wt_app_route(s.app, "/sink", dg_sink, &sv) == WT_OK &&
        wt_client_connect(s.client, "https://10.0.0.1:443/sink", cc_client, &f, NULL) == WT_OK &&
        sim_run(&s, &f.opened, 10000)) {
        sim_run(&s, &never, 30);
        if (f.s && wt_session_connection_stats(f.s, &st) == WT_OK) *cwnd = st.cwnd;
        f.s = NULL; /* no more refills */
        sim_run(&s, &never, 20);
        got = (uint64_t)sv.finished;
    }
    sim_stop(&s);
    return got;
}

WT_TEST(wt_congestion_control_reaches_ngtcp2) {
    uint64_t cw_cubic, cw_bbr;
    uint64_t got_cubic = cc_flood_run(WT_CC_CUBIC, &cw_cubic);
    uint64_t got_bbr = cc_flood_run(WT_CC_BBR, &cw_bbr);
    printf("    30 ms of 1200-byte datagrams at 10 Gbit/s: CUBIC %llu delivered (cwnd %llu), BBR %llu (cwnd %llu)\n",
           (unsigned long long)got_cubic, (unsigned long long)cw_cubic, (unsigned long long)got_bbr,
           (unsigned long long)cw_bbr);
    CHECK(got_cubic > 1000); /* both move datagrams ... */
    CHECK(got_bbr > 1000);
    CHECK(cw_cubic > 0 && cw_bbr > 0);
    CHECK(cw_bbr != cw_cubic); /* ... under different controllers */
}

/* CUBIC's pacing rate for an app-limited datagram sender follows the RTT
   (tools/patches/ngtcp2-1.24.0-pacing.patch). The window grows on a 40 ms
   path; the sender pauses, the path drops to 2 ms, the sender goes on.
   Pacing at the old RTT sends so little per round trip that the window is
   never full again, so every ACK is app-limited: unpatched ngtcp2 never
   recomputes the rate (it does so only when the window changes) and the
   sender stays at its rate on the long path. The loopback benchmark saw
   the same as one run in three at a tenth of the speed
   (bench/fig/dgram1200.sh). */
WT_TEST(wt_cubic_app_limited_pacing_follows_the_rtt) {
    sim s;
    sink_server sv;
    cc_flood f;
    wt_limits lim;
    wt_stats st;
    wt_session *paused;
    int never = 0;
    uint64_t before, slow_path, fast_path;
    memset(&s, 0, sizeof s);
    memset(&sv, 0, sizeof sv);
    memset(&f, 0, sizeof f);
    memset(&lim, 0, sizeof lim);
    lim.congestion_control = WT_CC_CUBIC;
    s.up.rate_mbps = s.down.rate_mbps = 10000;
    s.up.delay_ms = s.down.delay_ms = 20;
    REQUIRE(sim_start(&s, 13, &lim, &lim) == 0);
    REQUIRE(wt_app_route(s.app, "/sink", dg_sink, &sv) == WT_OK);
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/sink", cc_client, &f, NULL) == WT_OK);
    REQUIRE(sim_run(&s, &f.opened, 10000));
    /* 40 ms round trips: the window grows */
    before = (uint64_t)sv.finished;
    sim_run(&s, &never, 400);
    slow_path = ((uint64_t)sv.finished - before) / 2; /* per 200 ms */
    REQUIRE(f.s && wt_session_connection_stats(f.s, &st) == WT_OK);
    printf("    40 ms path, per 200 ms: %llu datagrams, cwnd %llu, srtt %llu us, lost %llu\n",
           (unsigned long long)slow_path, (unsigned long long)st.cwnd, (unsigned long long)st.smoothed_rtt_us,
           (unsigned long long)st.packets_lost);
    CHECK(slow_path > 1000);
    CHECK(st.cwnd > 200000); /* far above what 2 ms round trips need at that rate */
    /* a pause until all is acknowledged; then 2 ms round trips, settle, count 200 ms */
    paused = f.s, f.s = NULL;
    sim_run(&s, &never, 200);
    s.up.delay_ms = s.down.delay_ms = 1;
    f.s = paused;
    cc_fill(&f);
    sim_run(&s, &never, 100);
    before = (uint64_t)sv.finished;
    sim_run(&s, &never, 200);
    fast_path = (uint64_t)sv.finished - before;
    REQUIRE(f.s && wt_session_connection_stats(f.s, &st) == WT_OK);
    printf("    then a 2 ms path, 200 ms: %llu datagrams, cwnd %llu, srtt %llu us, lost %llu\n",
           (unsigned long long)fast_path, (unsigned long long)st.cwnd, (unsigned long long)st.smoothed_rtt_us,
           (unsigned long long)st.packets_lost);
    CHECK(st.smoothed_rtt_us < 5000); /* the sender did see the shorter path */
    CHECK(fast_path > 10 * slow_path); /* and paces by it: 43x here (unpatched: 3.7x, its window unchanged) */
    f.s = NULL;
    sim_stop(&s);
}
