/* test_io.c - the socket I/O path: UDP GRO on receive, the GSO fallback,
   the portable recvmsg/sendmsg build (WT_NO_MMSG, WT_NO_GSO, WT_NO_GRO),
   ECN, stateless-reset tokens from a configured key, and small datagrams
   woken by DATAGRAM_WRITABLE. Uses test_wt.c's echo server and client. */

/* ---------------------------------------------------------------- GRO */
/* A bulk upload on loopback: the client's GSO trains reach the server's
   GRO socket whole, and each read is split into its packets. */
WT_TEST(io_gro_reads_hold_several_packets_in_bulk) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *x;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    if (!h.app->ep.socks[0].gro) {
        printf("    skipped: UDP GRO %s\n", WT__HAVE_GRO ? "refused by this kernel (before 5.0?)" : "compiled out (WT_NO_GRO)");
        harness_stop(&h);
        return;
    }
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    REQUIRE((x = client_xfer(&cx, 4 * 1024 * 1024, 11)) != NULL);
    harness_run(&h, &x->done, 30000);
    CHECK(x->done && !x->bad && x->received == 4 * 1024 * 1024);
    if (WT__HAVE_GSO && h.client->ep.socks[0].gso == 1) {
        /* a GSO train from the client arrived as one read */
        CHECK(h.app->ep.socks[0].gro_max > 1);
        printf("    up to %u packets per read\n", (unsigned)h.app->ep.socks[0].gro_max);
    } else {
        printf("    the client sent without GSO: loopback does not coalesce (at most %u per read)\n",
               (unsigned)h.app->ep.socks[0].gro_max);
        CHECK(h.app->ep.socks[0].gro_max >= 1);
    }
    harness_stop(&h);
}

/* ---------------------------------------------------------------- GSO fallback */
/* The kernel refuses UDP_SEGMENT (EIO: a device without checksum offload;
   EINVAL): GSO goes off on that socket with one log line, and the batch
   goes again datagram by datagram, so nothing is lost. */
WT_TEST(io_gso_refused_falls_back_and_resends) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *x;
    if (!WT__HAVE_GSO) {
        printf("    skipped: GSO compiled out (WT_NO_GSO)\n");
        return;
    }
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    harness_log_match = "UDP GSO unavailable";
    harness_log_hits = 0;
    h.app->ep.socks[0].gso_fault = EIO;
    h.client->ep.socks[0].gso_fault = EINVAL;
    REQUIRE((x = client_xfer(&cx, 1024 * 1024, 12)) != NULL);
    harness_run(&h, &x->done, 30000);
    CHECK(x->done && !x->bad && x->received == 1024 * 1024);
    CHECK_EQ_INT(h.app->ep.socks[0].gso, 0);
    CHECK_EQ_INT(h.client->ep.socks[0].gso, 0);
    CHECK_EQ_INT(harness_log_hits, 2); /* one line per socket, not per send */
    CHECK(h.app->ep.socks[0].gso_fault == 0 && h.client->ep.socks[0].gso_fault == 0); /* it did happen */
    harness_log_match = NULL;
    harness_stop(&h);
}

/* Without a refusal the same transfer keeps GSO on (the positive side). */
WT_TEST(io_gso_stays_on_when_the_kernel_takes_it) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *x;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    REQUIRE((x = client_xfer(&cx, 1024 * 1024, 13)) != NULL);
    harness_run(&h, &x->done, 30000);
    CHECK(x->done && !x->bad && x->received == 1024 * 1024);
    CHECK_EQ_INT(h.app->ep.socks[0].gso, WT__HAVE_GSO ? 1 : 0);
    CHECK_EQ_INT(h.client->ep.socks[0].gso, WT__HAVE_GSO ? 1 : 0);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- ECN */
/* Both ends read the ECN bits and ngtcp2 marks its packets ECT(0) once it
   validated ECN on the path: the server's socket ends up sending with it. */
WT_TEST(io_ecn_marks_after_validation_on_loopback) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    xfer *x;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    if (!h.app->ep.socks[0].ecn) {
        printf("    skipped: the system reports no ECN bits (IP_RECVTOS)\n");
        harness_stop(&h);
        return;
    }
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    REQUIRE((x = client_xfer(&cx, 256 * 1024, 14)) != NULL);
    harness_run(&h, &x->done, 30000);
    CHECK(x->done && !x->bad);
    CHECK_EQ_INT(h.app->ep.socks[0].tos, NGTCP2_ECN_ECT_0);
    CHECK_EQ_INT(h.client->ep.socks[0].tos, NGTCP2_ECN_ECT_0);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- reset tokens */
/* With wt_app_config.reset_key a server's stateless reset carries
   HMAC-SHA256(key, "wt.h stateless reset\0" || DCID)[0..15]: computed here
   on its own, it matches; another key gives another token. */
static int io_reset_token_of(const uint8_t *key, const uint8_t *cid, size_t cidlen, uint8_t out[16]) {
    static const uint8_t label[] = "wt.h stateless reset";
    uint8_t mac[WC_SHA256_DIGEST_SIZE];
    Hmac hm;
    if (wc_HmacInit(&hm, NULL, INVALID_DEVID) != 0) return -1;
    if (wc_HmacSetKey(&hm, WC_SHA256, key, 32) != 0 || wc_HmacUpdate(&hm, label, sizeof label) != 0 ||
        wc_HmacUpdate(&hm, cid, (word32)cidlen) != 0 || wc_HmacFinal(&hm, mac) != 0) {
        wc_HmacFree(&hm);
        return -1;
    }
    wc_HmacFree(&hm);
    memcpy(out, mac, 16);
    return 0;
}

static int io_reset_from(const uint8_t *key, uint8_t token[16], const uint8_t *dcid) {
    wt_app_config ac;
    wt_loop_config lc;
    wt_loop *loop;
    wt_app *app;
    struct sockaddr_in to;
    uint8_t pkt[100], back[1500];
    ssize_t n = -1;
    int fd, i;
    if (harness_cert() != 0) return -1;
    memset(&lc, 0, sizeof lc);
    lc.log.fn = harness_quiet_log;
    lc.log.level = WT_LOG_DEBUG;
    if (!(loop = wt_loop_create(&lc))) return -1;
    memset(&ac, 0, sizeof ac);
    ac.host = "127.0.0.1";
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = loop;
    ac.log = lc.log;
    ac.reset_key = key;
    if (!(app = wt_app_create(&ac)) || wt_app_start(app) != WT_OK) return -1;
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)wt_app_port(app));
    to.sin_addr.s_addr = htonl(0x7f000001);
    for (i = 0; i < (int)sizeof pkt; i++) pkt[i] = (uint8_t)(i * 7 + 1);
    pkt[0] = 0x40 | 0x03; /* a 1-RTT packet of a connection it does not know */
    memcpy(pkt + 1, dcid, WT__SCID_LEN);
    if (fd >= 0 && sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)sizeof pkt)
        RUN_UNTIL(loop, (n = recv(fd, back, sizeof back, 0)) >= 0, HARNESS_DEADLINE_MS);
    if (fd >= 0) close(fd);
    wt_app_destroy(app);
    wt_loop_destroy(loop);
    if (n < 41) return -1;
    memcpy(token, back + n - 16, 16); /* a reset ends with its token */
    return 0;
}

WT_TEST(io_reset_token_is_hmac_of_the_cid_under_the_configured_key) {
    uint8_t key[32], key2[32], dcid[WT__SCID_LEN], got[16], got_again[16], other[16], want[16];
    int i;
    for (i = 0; i < 32; i++) key[i] = (uint8_t)(i + 1), key2[i] = (uint8_t)(i + 2);
    for (i = 0; i < WT__SCID_LEN; i++) dcid[i] = (uint8_t)(0xa0 + i);
    REQUIRE(io_reset_token_of(key, dcid, sizeof dcid, want) == 0);
    REQUIRE(io_reset_from(key, got, dcid) == 0);
    CHECK(memcmp(got, want, 16) == 0);
    /* another app with the same key (a restart): the same token */
    REQUIRE(io_reset_from(key, got_again, dcid) == 0);
    CHECK(memcmp(got_again, want, 16) == 0);
    /* another key: another token */
    REQUIRE(io_reset_from(key2, other, dcid) == 0);
    CHECK(memcmp(other, want, 16) != 0);
    /* no key: a random one, not the configured one's */
    REQUIRE(io_reset_from(NULL, other, dcid) == 0);
    CHECK(memcmp(other, want, 16) != 0);
}

/* ---------------------------------------------------------------- small datagrams */
typedef struct io_dg {
    wt_session *s;
    int opened, closed, writable;
    long received;
} io_dg;

static void io_dg_sink(wt_event *ev) {
    io_dg *d = (io_dg *)ev->user;
    if (ev->type == WT_EV_DATAGRAM) d->received++;
    else if (ev->type == WT_EV_SESSION_OPEN) d->opened = 1;
}

static void io_dg_client(wt_event *ev) {
    io_dg *d = (io_dg *)ev->user;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN: d->s = ev->session; d->opened = 1; break;
    case WT_EV_SESSION_CLOSED: d->closed = 1; d->s = NULL; break;
    case WT_EV_DATAGRAM_WRITABLE: d->writable++; break;
    default: break;
    }
}

/* 64-byte datagrams as fast as the queue takes them, the sender waiting
   for DATAGRAM_WRITABLE after each WOULDBLOCK: every episode ends with the
   event, and each loop pass moves many datagrams (small datagrams must be
   limited by congestion control, not left app-limited and waiting for the
   pacing timer one small batch at a time). No timing assertion. */
WT_TEST(io_small_datagrams_woken_by_writable_not_spinning) {
    harness h;
    io_dg sv, cl;
    char url[200];
    uint8_t d[64];
    long sent = 0, blocked = 0, passes = 0, target = 100000;
    uint64_t t0, end;
    memset(&sv, 0, sizeof sv);
    memset(&cl, 0, sizeof cl);
    memset(d, 'd', sizeof d);
    REQUIRE(harness_start_ex(&h, NULL, NULL, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/dg", io_dg_sink, &sv) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    snprintf(url, sizeof url, "%s/dg", h.url);
    REQUIRE(wt_client_connect(h.client, url, io_dg_client, &cl, NULL) == WT_OK);
    REQUIRE_SOON(&h, cl.opened && cl.s);
    t0 = wt_loop_now_ms(h.loop);
    end = t0 + 60000;
    while (sent < target && cl.s && wt_loop_now_ms(h.loop) < end) {
        int rv, w0;
        while (sent < target && (rv = wt_session_send_datagram(cl.s, d, sizeof d)) == WT_OK) sent++;
        if (sent >= target) break;
        REQUIRE(rv == WT_ERR_WOULDBLOCK);
        blocked++;
        w0 = cl.writable;
        while (cl.writable == w0 && cl.s && wt_loop_now_ms(h.loop) < end) {
            wt_loop_run_once(h.loop, 100);
            passes++;
        }
    }
    CHECK_EQ_INT(sent, target);
    CHECK(blocked > 0);
    CHECK_EQ_INT(cl.writable, blocked); /* every WOULDBLOCK episode got its event */
    RUN_UNTIL(h.loop, sv.received >= target * 9 / 10, 5000);
    printf("    %ld datagrams, %ld WOULDBLOCK episodes, %ld loop passes, %ld received, %llu ms\n", sent, blocked, passes,
           sv.received, (unsigned long long)(wt_loop_now_ms(h.loop) - t0));
    CHECK(sv.received > 0);
    /* many datagrams per pass, not a small batch per pacing timer (with a
       queue of 64 datagrams it was about 20 per pass) */
    CHECK(passes * 64 < sent);
    harness_stop(&h);
}
