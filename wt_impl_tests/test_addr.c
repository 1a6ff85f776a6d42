/* test_addr.c - a server bound to a wildcard address (0.0.0.0, ::) answers
   from the address the client used: Linux routes all of 127.0.0.0/8 to lo,
   so a client of 127.0.0.2 is answered from 127.0.0.1 unless the server
   reads each datagram's destination (IP_PKTINFO / IPV6_RECVPKTINFO) and
   sends from it. Real sockets: the kernel's choice is what is tested. */

/* The address and port in a sockaddr, as "ip" and a number. */
static int addr_text(const struct sockaddr_storage *a, char *ip, size_t n, int *port) {
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
        *port = ntohs(a6->sin6_port);
        return inet_ntop(AF_INET6, &a6->sin6_addr, ip, (socklen_t)n) ? 0 : -1;
    }
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
        *port = ntohs(a4->sin_port);
        return inet_ntop(AF_INET, &a4->sin_addr, ip, (socklen_t)n) ? 0 : -1;
    }
    return -1;
}

static int addr_have_ipv6_loopback(void) {
    struct sockaddr_in6 a;
    int fd = socket(AF_INET6, SOCK_DGRAM, 0), ok;
    if (fd < 0) return 0;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* A server bound to bind_host, the harness client connecting to
   connect_host: the session opens, bytes enough for GSO batches (or, with
   no_gso, for sendmmsg batches) come back intact, and the server's
   connection says its address is want_local, on the bound port. */
static void addr_check(const char *bind_host, const char *connect_host, const char *want_local, int no_gso) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_app_config ac;
    wt_limits cl;
    wt_app *app;
    wt__conn *c;
    xfer *x;
    char url[200], ip[INET6_ADDRSTRLEN];
    int port = 0;
    memset(&sx, 0, sizeof sx);
    memset(&cx, 0, sizeof cx);
    memset(&cl, 0, sizeof cl);
    cl.handshake_timeout_ms = 3000; /* a client that hears nothing gives up soon */
    REQUIRE(harness_start_ex(&h, NULL, &cl, NULL) == 0);
    memset(&ac, 0, sizeof ac);
    ac.host = bind_host;
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = h.loop;
    ac.log.fn = harness_quiet_log;
    ac.log.level = WT_LOG_DEBUG;
    REQUIRE((app = wt_app_create(&ac)) != NULL);
    REQUIRE(wt_app_route(app, "/echo", server_handler, &sx) == WT_OK);
    REQUIRE(wt_app_start(app) == WT_OK);
    REQUIRE(app->ep.nsocks == 1);
    if (no_gso) app->ep.socks[0].gso = 0;
    snprintf(url, sizeof url, strchr(connect_host, ':') ? "https://[%s]:%d/echo" : "https://%s:%d/echo", connect_host,
             wt_app_port(app));
    REQUIRE(wt_client_connect(h.client, url, client_handler, &cx, NULL) == WT_OK);
    RUN_UNTIL(h.loop, cx.opened || cx.closed, HARNESS_DEADLINE_MS);
    CHECK(cx.opened);
    if (cx.opened) {
        REQUIRE((x = client_xfer(&cx, 256 * 1024, 7)) != NULL);
        CHECK_SOON(&h, x->done);
        CHECK(!x->bad && x->received == 256 * 1024);
        CHECK_EQ_INT(app->ep.socks[0].gso, no_gso || !WT__HAVE_GSO ? 0 : 1);
    }
    /* the server's connection: ngtcp2's path (which every reply goes
       out on) has the client's destination as its local address */
    REQUIRE((c = app->ep.conns) != NULL);
    {
        const ngtcp2_path *p = ngtcp2_conn_get_path(c->tp.qc);
        struct sockaddr_storage local;
        memset(&local, 0, sizeof local);
        memcpy(&local, p->local.addr, WT__MIN((size_t)p->local.addrlen, sizeof local));
        CHECK(addr_text(&local, ip, sizeof ip, &port) == 0 && strcmp(ip, want_local) == 0);
        if (strcmp(ip, want_local) != 0) printf("    the server's path says its address is %s, not %s\n", ip, want_local);
        CHECK_EQ_INT(port, wt_app_port(app));
    }
    wt_app_destroy(app);
    harness_stop(&h);
}

WT_TEST(wt_addr_wildcard_ipv4_answers_from_the_address_used) {
    addr_check("0.0.0.0", "127.0.0.2", "127.0.0.2", 0);
}

WT_TEST(wt_addr_wildcard_ipv4_answers_from_the_address_used_without_gso) {
    addr_check("0.0.0.0", "127.0.0.2", "127.0.0.2", 1);
}

/* "::" takes IPv4 too (dual stack): the IPv4 destination arrives mapped. */
WT_TEST(wt_addr_wildcard_dual_stack_answers_ipv4_from_the_address_used) {
    if (!addr_have_ipv6_loopback()) {
        printf("    skipped: no IPv6 loopback\n");
        return;
    }
    addr_check("::", "127.0.0.2", "::ffff:127.0.0.2", 0);
}

WT_TEST(wt_addr_wildcard_ipv6_records_the_address_used) {
    if (!addr_have_ipv6_loopback()) {
        printf("    skipped: no IPv6 loopback\n");
        return;
    }
    addr_check("::", "::1", "::1", 0);
}
