/* test_cc.c - limits.congestion_control picks ngtcp2's controller (bench
   figure dgram1200: CUBIC holds a datagram sender whose queue stays below
   the window to a stale pacing rate; BBR paces by what it measures). */

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
