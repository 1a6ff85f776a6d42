/* test_tls.c - TLS key exchange: the groups a client offers and the key
   shares in its first ClientHello, a server's choice with and without
   HelloRetryRequest, and what a failed handshake reports.

   The in-memory tests take the WOLFSSL objects wt.h makes for a connection
   (wt__tls_new on a real wt_app's and wt_client's endpoint) and drive them
   through a recording WOLFSSL_QUIC_METHOD instead of ngtcp2, so the checks
   read the handshake messages themselves: the ClientHello's key_share and
   supported_groups extensions, and whether the server's first ServerHello
   carries the HelloRetryRequest random. The loopback tests run the same
   configurations end to end. */
#include "harness.h"

/* ---------------------------------------------------------------- log capture */
static char tls_log_lines[64][300];
static int tls_log_count;

static void tls_log(wt_log_level level, const char *msg, void *user) {
    snprintf(tls_log_lines[tls_log_count % 64], sizeof tls_log_lines[0], "%s", msg);
    tls_log_count++;
    harness_quiet_log(level, msg, user);
}

static void tls_discard(wt_log_level level, const char *msg, void *user) {
    (void)level, (void)msg, (void)user;
}
static const wt_log tls_silent = {tls_discard, NULL, WT_LOG_ERROR};

/* A captured line holding a, and b after it (b may be NULL). */
static int tls_log_has2(const char *a, const char *b) {
    int i, n = tls_log_count < 64 ? tls_log_count : 64;
    for (i = 0; i < n; i++) {
        const char *p = strstr(tls_log_lines[i], a);
        if (p && (!b || strstr(p + strlen(a), b))) return 1;
    }
    return 0;
}

static int tls_log_has(const char *s) { return tls_log_has2(s, NULL); }

/* One side logged "TLS handshake failed: ... we send alert N (name)" and the
   other "TLS handshake failed: the client|server sent alert N (name)",
   with the same N and name. */
static int tls_log_alerts_agree(void) {
    int i, j, n = tls_log_count < 64 ? tls_log_count : 64;
    for (i = 0; i < n; i++) {
        const char *we = strstr(tls_log_lines[i], "we send alert ");
        if (!strstr(tls_log_lines[i], "TLS handshake failed: ") || !we) continue;
        for (j = 0; j < n; j++) {
            const char *got = strstr(tls_log_lines[j], " sent alert ");
            if (j != i && got && strstr(tls_log_lines[j], "TLS handshake failed: the ") &&
                strcmp(we + strlen("we send alert "), got + strlen(" sent alert ")) == 0)
                return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- a recording QUIC method */
#define TLS_LEVELS 4
#define TLS_REC_MAX 32768

typedef struct tls_side {
    WOLFSSL *ssl;
    uint8_t sent[TLS_LEVELS][TLS_REC_MAX]; /* every handshake byte, per encryption level */
    size_t sent_len[TLS_LEVELS];
    size_t delivered[TLS_LEVELS];          /* how much of it the peer was given */
    int alert;                             /* the alert it sent, -1 none */
    int done, failed;
} tls_side;

static int tls_rec_secrets(WOLFSSL *ssl, WOLFSSL_ENCRYPTION_LEVEL level, const uint8_t *r, const uint8_t *w,
                           size_t n) {
    (void)ssl, (void)level, (void)r, (void)w, (void)n;
    return 1;
}

static int tls_rec_data(WOLFSSL *ssl, WOLFSSL_ENCRYPTION_LEVEL level, const uint8_t *data, size_t len) {
    tls_side *t = (tls_side *)wolfSSL_get_app_data(ssl);
    if ((int)level < 0 || level >= TLS_LEVELS || t->sent_len[level] + len > TLS_REC_MAX) return 0;
    memcpy(t->sent[level] + t->sent_len[level], data, len);
    t->sent_len[level] += len;
    return 1;
}

static int tls_rec_flush(WOLFSSL *ssl) {
    (void)ssl;
    return 1;
}

static int tls_rec_alert(WOLFSSL *ssl, WOLFSSL_ENCRYPTION_LEVEL level, uint8_t alert) {
    (void)level;
    ((tls_side *)wolfSSL_get_app_data(ssl))->alert = alert;
    return 1;
}

static const WOLFSSL_QUIC_METHOD tls_rec_method = {tls_rec_secrets, tls_rec_data, tls_rec_flush, tls_rec_alert};

/* The connection's WOLFSSL exactly as wt.h makes it, recording instead of
   going to ngtcp2. */
static tls_side *tls_side_new(wt__ep *ep, const char *host) {
    /* any bytes do: wolfSSL carries transport parameters without reading them */
    static const uint8_t tp[] = {0x04, 0x01, 0x00};
    tls_side *t = (tls_side *)calloc(1, sizeof *t);
    if (!t) return NULL;
    t->alert = -1;
    t->ssl = wt__tls_new(ep, host);
    if (!t->ssl || wolfSSL_set_quic_method(t->ssl, &tls_rec_method) != WOLFSSL_SUCCESS ||
        wolfSSL_set_quic_transport_params(t->ssl, tp, sizeof tp) != WOLFSSL_SUCCESS) {
        if (t->ssl) wolfSSL_free(t->ssl);
        free(t);
        return NULL;
    }
    wolfSSL_set_app_data(t->ssl, t);
    return t;
}

static void tls_side_free(tls_side *t) {
    if (!t) return;
    wolfSSL_free(t->ssl);
    free(t);
}

static void tls_step(tls_side *t) {
    int rv, e;
    if (t->done || t->failed) return;
    rv = wolfSSL_quic_do_handshake(t->ssl);
    if (rv == WOLFSSL_SUCCESS) {
        t->done = 1;
        return;
    }
    e = wolfSSL_get_error(t->ssl, rv);
    if (e != WOLFSSL_ERROR_WANT_READ && e != WOLFSSL_ERROR_WANT_WRITE) t->failed = 1;
}

static void tls_pass(tls_side *from, tls_side *to) {
    int lv;
    for (lv = 0; lv < TLS_LEVELS; lv++) {
        size_t n = from->sent_len[lv] - from->delivered[lv];
        if (!n) continue;
        if (wolfSSL_provide_quic_data(to->ssl, (WOLFSSL_ENCRYPTION_LEVEL)lv, from->sent[lv] + from->delivered[lv],
                                      n) != WOLFSSL_SUCCESS)
            to->failed = 1;
        from->delivered[lv] = from->sent_len[lv];
    }
}

/* Runs the handshake flight by flight; 0 when both sides finished. */
static int tls_handshake(tls_side *c, tls_side *s) {
    int i;
    for (i = 0; i < 10 && !(c->done && s->done) && !c->failed && !s->failed; i++) {
        tls_step(c);
        tls_pass(c, s);
        tls_step(s);
        tls_pass(s, c);
    }
    return c->done && s->done ? 0 : -1;
}

/* ---------------------------------------------------------------- reading the hellos */
typedef struct tls_hello {
    int hrr;             /* ServerHello with the HelloRetryRequest random */
    uint16_t shares[8];  /* key_share groups (a ServerHello has one) */
    int nshares;
    uint16_t groups[16]; /* supported_groups (ClientHello) */
    int ngroups;
} tls_hello;

/* SHA-256("HelloRetryRequest"), RFC 8446 section 4.1.3 */
static const uint8_t tls_hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
                                           0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
                                           0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

static unsigned tls_u16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

/* One ClientHello (client = 1) or ServerHello body; -1 if malformed. */
static int tls_parse_hello(const uint8_t *b, size_t n, int client, tls_hello *h) {
    size_t off = 2 + 32, end, i;
    memset(h, 0, sizeof *h);
    if (n < off + 1) return -1;
    h->hrr = !client && memcmp(b + 2, tls_hrr_random, 32) == 0;
    off += 1 + b[off];                   /* session id */
    if (client) {
        if (off + 2 > n) return -1;
        off += 2 + tls_u16(b + off);     /* cipher suites */
        if (off + 1 > n) return -1;
        off += 1 + b[off];               /* compression methods */
    } else {
        off += 2 + 1;                    /* cipher suite, compression */
    }
    if (off + 2 > n) return -1;
    end = off + 2 + tls_u16(b + off);
    off += 2;
    if (end > n) return -1;
    while (off + 4 <= end) {
        unsigned type = tls_u16(b + off), len = tls_u16(b + off + 2);
        const uint8_t *d = b + off + 4;
        if (off + 4 + len > end) return -1;
        if (type == 0x000a && client && len >= 2) {
            for (i = 2; i + 2 <= 2 + (size_t)tls_u16(d) && i + 2 <= len && h->ngroups < 16; i += 2)
                h->groups[h->ngroups++] = (uint16_t)tls_u16(d + i);
        } else if (type == 0x0033 && client && len >= 2) {
            for (i = 2; i + 4 <= len && h->nshares < 8; i += 4 + tls_u16(d + i + 2))
                h->shares[h->nshares++] = (uint16_t)tls_u16(d + i);
        } else if (type == 0x0033 && !client && len >= 2) {
            h->shares[h->nshares++] = (uint16_t)tls_u16(d); /* selected_group, or the server's share */
        }
        off += 4 + len;
    }
    return off == end ? 0 : -1;
}

/* The ClientHellos (client = 1) or ServerHellos among the handshake
   messages one side sent at the initial level; returns how many. */
static int tls_hellos(const tls_side *t, int client, tls_hello *out, int max) {
    const uint8_t *p = t->sent[0];
    size_t n = t->sent_len[0], off = 0;
    int count = 0;
    while (off + 4 <= n) {
        size_t len = (size_t)p[off + 1] << 16 | (size_t)p[off + 2] << 8 | p[off + 3];
        if (off + 4 + len > n) return -1;
        if (p[off] == (client ? 1 : 2) && count < max) {
            if (tls_parse_hello(p + off + 4, len, client, &out[count]) != 0) return -1;
            count++;
        }
        off += 4 + len;
    }
    return count;
}

/* ---------------------------------------------------------------- endpoints */
static int tls_have_hybrid(void) {
    uint16_t ids[4];
    return wt__tls_parse_groups("X25519MLKEM768", ids, 4, &tls_silent) == 1;
}

static wt_app *tls_app(const char *groups) {
    wt_app_config ac;
    if (harness_cert() != 0) return NULL;
    memset(&ac, 0, sizeof ac);
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.tls_groups = groups;
    ac.log.fn = tls_log;
    return wt_app_create(&ac);
}

static wt_client *tls_client(const char *groups, int key_shares) {
    wt_client_config cc;
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    cc.tls_groups = groups;
    cc.tls_key_shares = key_shares;
    cc.log.fn = tls_log;
    return wt_client_create(&cc);
}

/* A client and a server configured so, and their WOLFSSLs; 0 on success. */
typedef struct tls_pair {
    wt_app *app;
    wt_client *client;
    tls_side *c, *s;
    tls_hello ch[4], sh[4];
    int nch, nsh;
} tls_pair;

static int tls_pair_run(tls_pair *p, const char *server_groups, const char *client_groups, int key_shares) {
    memset(p, 0, sizeof *p);
    if (!(p->app = tls_app(server_groups)) || !(p->client = tls_client(client_groups, key_shares))) return -1;
    if (!(p->s = tls_side_new(&p->app->ep, NULL)) || !(p->c = tls_side_new(&p->client->ep, "localhost"))) return -1;
    tls_handshake(p->c, p->s);
    p->nch = tls_hellos(p->c, 1, p->ch, 4);
    p->nsh = tls_hellos(p->s, 0, p->sh, 4);
    return 0;
}

static void tls_pair_free(tls_pair *p) {
    tls_side_free(p->c);
    tls_side_free(p->s);
    wt_client_destroy(p->client);
    wt_app_destroy(p->app);
}

/* ---------------------------------------------------------------- groups by name */
WT_TEST(tls_groups_parse_names_and_refuse_bad_ones) {
    uint16_t ids[WT__MAX_GROUPS];
    wt_log quiet;
    int n, i, hybrid = tls_have_hybrid();
    memset(&quiet, 0, sizeof quiet);
    quiet.fn = tls_log;
    /* the default: WT_TLS_GROUPS_DEFAULT, the hybrid only where wolfSSL has it */
    n = wt__tls_parse_groups(NULL, ids, WT__MAX_GROUPS, &quiet);
    REQUIRE(n == (hybrid ? 5 : 4));
    CHECK_EQ_INT(ids[0], hybrid ? 0x11ec : 29);
    CHECK_EQ_INT(ids[hybrid ? 1 : 0], 29);
    CHECK_EQ_INT(ids[n - 3], 23);
    CHECK_EQ_INT(ids[n - 2], 24);
    CHECK_EQ_INT(ids[n - 1], 25);
#if defined(WOLFSSL_HAVE_MLKEM) && LIBWOLFSSL_VERSION_HEX >= 0x05009000
    CHECK(hybrid); /* the primary build offers it: the issue this fixes */
#endif
    /* names are case-blind, the secpNNNr1 spellings work too */
    n = wt__tls_parse_groups("x25519:p-256:SECP384R1", ids, WT__MAX_GROUPS, &quiet);
    REQUIRE(n == 3);
    CHECK(ids[0] == 29 && ids[1] == 23 && ids[2] == 24);
    /* refused, with the reason in the log */
    tls_log_count = 0;
    CHECK_EQ_INT(wt__tls_parse_groups("X25519:bogus", ids, WT__MAX_GROUPS, &quiet), WT_ERR_INVALID);
    CHECK(tls_log_has("unknown group \"bogus\""));
    CHECK_EQ_INT(wt__tls_parse_groups("", ids, WT__MAX_GROUPS, &quiet), WT_ERR_INVALID);
    CHECK_EQ_INT(wt__tls_parse_groups("X25519:", ids, WT__MAX_GROUPS, &quiet), WT_ERR_INVALID);
    CHECK_EQ_INT(wt__tls_parse_groups("X25519:x25519", ids, WT__MAX_GROUPS, &quiet), WT_ERR_INVALID);
    CHECK(tls_log_has("X25519 is listed twice"));
    CHECK_EQ_INT(wt__tls_parse_groups("X25519:P-256", ids, 1, &quiet), WT_ERR_INVALID);
    /* a group this build lacks is an error when named (the default skips it) */
    for (i = 0; i < (int)WT__COUNTOF(wt__groups); i++) {
        char want[80];
        if (wt__tls_parse_groups(wt__groups[i].name, ids, WT__MAX_GROUPS, &tls_silent) == 1) continue;
        tls_log_count = 0;
        CHECK_EQ_INT(wt__tls_parse_groups(wt__groups[i].name, ids, WT__MAX_GROUPS, &quiet), WT_ERR_INVALID);
        snprintf(want, sizeof want, "%s is not available in this wolfSSL build", wt__groups[i].name);
        CHECK(tls_log_has(want));
    }
    /* and the configs refuse them at create time */
    CHECK(tls_app("X25519:bogus") == NULL);
    CHECK(tls_client("nope", 0) == NULL);
    CHECK(tls_client("X25519", -1) == NULL);
    {
        wt_app *app = tls_app("X25519");
        wt_client *cl = tls_client("P-256:X25519", 0);
        CHECK(app != NULL && cl != NULL);
        CHECK(cl && cl->ep.ngroups == 2 && cl->ep.key_shares == 2);
        wt_client_destroy(cl);
        wt_app_destroy(app);
    }
}

/* ---------------------------------------------------------------- the ClientHello */
WT_TEST(tls_first_client_hello_carries_hybrid_and_x25519_shares) {
    tls_pair p;
    uint16_t want[WT__MAX_GROUPS];
    int n, i, hybrid = tls_have_hybrid();
    REQUIRE(tls_pair_run(&p, NULL, NULL, 0) == 0);
    CHECK(p.c->done && p.s->done);
    REQUIRE(p.nch == 1);
    /* key shares for the first two default groups, in that order */
    REQUIRE(p.ch[0].nshares == 2);
    CHECK_EQ_INT(p.ch[0].shares[0], hybrid ? 0x11ec : 29);
    CHECK_EQ_INT(p.ch[0].shares[1], hybrid ? 29 : 23);
    /* supported_groups is the default list, in order */
    n = wt__tls_parse_groups(NULL, want, WT__MAX_GROUPS, &tls_silent);
    CHECK_EQ_INT(p.ch[0].ngroups, n);
    for (i = 0; i < n && i < p.ch[0].ngroups; i++) CHECK_EQ_INT(p.ch[0].groups[i], want[i]);
    /* a default server takes the hybrid at once */
    REQUIRE(p.nsh == 1);
    CHECK(!p.sh[0].hrr);
    CHECK_EQ_INT(p.sh[0].shares[0], hybrid ? 0x11ec : 29);
    tls_pair_free(&p);
}

WT_TEST(tls_client_offer_order_and_key_share_count_follow_the_config) {
    tls_pair p;
    /* the order given, one share */
    REQUIRE(tls_pair_run(&p, NULL, "P-256:X25519:P-384", 1) == 0);
    REQUIRE(p.nch >= 1);
    CHECK_EQ_INT(p.ch[0].ngroups, 3);
    CHECK(p.ch[0].groups[0] == 23 && p.ch[0].groups[1] == 29 && p.ch[0].groups[2] == 24);
    CHECK_EQ_INT(p.ch[0].nshares, 1);
    CHECK_EQ_INT(p.ch[0].shares[0], 23);
    tls_pair_free(&p);
    /* three shares; more than the list has means all of them */
    REQUIRE(tls_pair_run(&p, NULL, "P-256:X25519:P-384", 3) == 0);
    REQUIRE(p.nch >= 1);
    CHECK_EQ_INT(p.ch[0].nshares, 3);
    CHECK(p.ch[0].shares[0] == 23 && p.ch[0].shares[1] == 29 && p.ch[0].shares[2] == 24);
    CHECK(p.c->done && p.s->done);
    tls_pair_free(&p);
    REQUIRE(tls_pair_run(&p, NULL, "X25519:P-256", 9) == 0);
    REQUIRE(p.nch >= 1);
    CHECK_EQ_INT(p.ch[0].nshares, 2);
    tls_pair_free(&p);
}

/* ---------------------------------------------------------------- the server's choice */
WT_TEST(tls_x25519_server_answers_in_one_round_trip) {
    tls_pair p;
    REQUIRE(tls_pair_run(&p, "X25519", NULL, 0) == 0);
    CHECK(p.c->done && p.s->done);
    CHECK_EQ_INT(p.nch, 1);            /* no second ClientHello */
    REQUIRE(p.nsh == 1);
    CHECK(!p.sh[0].hrr);               /* no HelloRetryRequest */
    CHECK_EQ_INT(p.sh[0].shares[0], 29);
    tls_pair_free(&p);
}

/* A server whose group has no share in the first ClientHello asks for it
   (HelloRetryRequest) and the second ClientHello brings it. */
static void tls_check_retry(const char *server_groups, uint16_t group) {
    tls_pair p;
    REQUIRE(tls_pair_run(&p, server_groups, NULL, 0) == 0);
    CHECK(p.c->done && p.s->done);
    REQUIRE(p.nsh == 2);
    CHECK(p.sh[0].hrr);                /* asks for the group ... */
    CHECK_EQ_INT(p.sh[0].shares[0], group);
    CHECK(!p.sh[1].hrr);               /* ... and takes it */
    CHECK_EQ_INT(p.sh[1].shares[0], group);
    REQUIRE(p.nch == 2);
    CHECK(p.ch[0].nshares == 2 && p.ch[0].shares[0] != group && p.ch[0].shares[1] != group);
    CHECK(p.ch[1].nshares == 1 && p.ch[1].shares[0] == group);
    tls_pair_free(&p);
}

WT_TEST(tls_p256_server_answers_through_hello_retry_request) {
    if (tls_have_hybrid()) {
        /* the default shares are the hybrid and X25519 */
        tls_check_retry("P-256", 23);
    } else {
        /* X25519 and P-256 then: no retry needed */
        tls_pair p;
        REQUIRE(tls_pair_run(&p, "P-256", NULL, 0) == 0);
        CHECK(p.c->done && p.s->done);
        CHECK_EQ_INT(p.nch, 1);
        REQUIRE(p.nsh == 1);
        CHECK(!p.sh[0].hrr);
        CHECK_EQ_INT(p.sh[0].shares[0], 23);
        tls_pair_free(&p);
    }
    /* the default never sends a P-384 share, whatever the build */
    tls_check_retry("P-384", 24);
}

WT_TEST(tls_no_common_group_fails_with_an_alert) {
    tls_pair p;
    REQUIRE(tls_pair_run(&p, "P-256", "X25519", 0) == 0);
    CHECK(!p.c->done && !p.s->done);
    CHECK_EQ_INT(p.nch, 1);
    if (p.nsh == 1) {
        /* wolfSSL 5.9's server asks for its own group although the client
           does not list it, and the client refuses: illegal_parameter */
        CHECK(p.sh[0].hrr);
        CHECK_EQ_INT(p.sh[0].shares[0], 23);
        CHECK(p.c->failed);
        CHECK_EQ_INT(p.c->alert, 47);
    } else {
        /* RFC 8446 (and wolfSSL 5.7, with 47): the server refuses at once */
        CHECK_EQ_INT(p.nsh, 0);
        CHECK(p.s->failed);
        CHECK(p.s->alert == 40 || p.s->alert == 47);
    }
    tls_pair_free(&p);
    /* the same pair with a group in common goes through: the failure above
       is about the groups */
    REQUIRE(tls_pair_run(&p, "P-256:X25519", "X25519", 0) == 0);
    CHECK(p.c->done && p.s->done);
    CHECK_EQ_INT(p.s->alert, -1);
    tls_pair_free(&p);
}

/* ---------------------------------------------------------------- end to end over loopback */
typedef struct tls_run {
    int server_open, client_open, client_closed, client_error;
    int settled; /* the client's session opened or closed */
} tls_run;

static void tls_server_handler(wt_event *ev) {
    tls_run *r = (tls_run *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) r->server_open++;
}

static void tls_client_handler(wt_event *ev) {
    tls_run *r = (tls_run *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) r->client_open = r->settled = 1;
    if (ev->type == WT_EV_SESSION_CLOSED) {
        r->client_closed = r->settled = 1;
        r->client_error = ev->error;
    }
}

/* harness_start_ex with TLS groups on both sides and the given pin. */
static int tls_start(harness *h, tls_run *r, const char *server_groups, const char *client_groups,
                     const uint8_t *pin) {
    wt_loop_config lc;
    wt_app_config ac;
    wt_client_config cc;
    memset(h, 0, sizeof *h);
    memset(r, 0, sizeof *r);
    if (harness_cert() != 0) return -1;
    memset(&lc, 0, sizeof lc);
    lc.log.fn = tls_log;
    lc.log.level = WT_LOG_DEBUG;
    if (!(h->loop = wt_loop_create(&lc))) return -1;
    memset(&ac, 0, sizeof ac);
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = h->loop;
    ac.log = lc.log;
    ac.tls_groups = server_groups;
    if (!(h->app = wt_app_create(&ac)) || wt_app_route(h->app, "/tls", tls_server_handler, r) != WT_OK) return -1;
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = pin ? pin : harness_pin;
    cc.loop = h->loop;
    cc.log = lc.log;
    cc.tls_groups = client_groups;
    if (!(h->client = wt_client_create(&cc))) return -1;
    tls_log_count = 0;
    return harness_listen(h);
}

static int tls_connect(harness *h, tls_run *r) {
    char url[160];
    snprintf(url, sizeof url, "%s/tls", h->url);
    if (wt_client_connect(h->client, url, tls_client_handler, r, NULL) != WT_OK) return -1;
    /* well inside the 10 s handshake timeout: an answer, not a timeout */
    harness_run(h, &r->settled, 5000);
    return r->client_open ? 0 : -1;
}

static const char *tls_client_group(harness *h) {
    wt__conn *c = h->client->ep.conns;
    return c && c->tp.ssl ? wolfSSL_get_curve_name(c->tp.ssl) : NULL;
}

WT_TEST(tls_loopback_x25519_server_and_default_client) {
    harness h;
    tls_run r;
    const char *g;
    REQUIRE(tls_start(&h, &r, "X25519", NULL, NULL) == 0);
    CHECK(tls_connect(&h, &r) == 0);
    CHECK(harness_run(&h, &r.server_open, 2000));
    g = tls_client_group(&h);
    CHECK(g && strcmp(g, "X25519") == 0);
    harness_stop(&h);
}

WT_TEST(tls_loopback_p256_and_p384_servers_and_default_client) {
    static const char *const groups[2][2] = {{"P-256", "SECP256R1"}, {"P-384", "SECP384R1"}};
    int i;
    /* the default client sends no P-384 share, nor a P-256 one where the
       hybrid is there (see the in-memory tests): these connections go
       through HelloRetryRequest */
    for (i = 0; i < 2; i++) {
        harness h;
        tls_run r;
        const char *g;
        REQUIRE(tls_start(&h, &r, groups[i][0], NULL, NULL) == 0);
        CHECK(tls_connect(&h, &r) == 0);
        CHECK(harness_run(&h, &r.server_open, 2000));
        g = tls_client_group(&h);
        CHECK(g && strcmp(g, groups[i][1]) == 0);
        harness_stop(&h);
    }
}

WT_TEST(tls_loopback_disjoint_groups_fail_with_tls_error) {
    harness h;
    tls_run r;
    REQUIRE(tls_start(&h, &r, "P-256", "X25519", NULL) == 0);
    CHECK(tls_connect(&h, &r) != 0);
    CHECK(r.client_closed);
    CHECK_EQ_INT(r.client_error, WT_ERR_TLS); /* not WT_ERR_TIMEOUT */
    CHECK_EQ_INT(r.server_open, 0);
    /* the side that gave up names its reason and alert; the other side
       names the alert it got (which side it is depends on the wolfSSL
       version: see tls_no_common_group_fails_with_an_alert) */
    {
        uint64_t end = wt_loop_now_ms(h.loop) + 2000;
        while (!tls_log_has(" sent alert ") && wt_loop_now_ms(h.loop) < end) wt_loop_run_once(h.loop, 20);
    }
    CHECK(tls_log_has2("TLS handshake failed: ", "(wolfSSL error -"));
    CHECK(tls_log_alerts_agree());
    harness_stop(&h);
}

WT_TEST(tls_loopback_pin_mismatch_is_told_to_the_server) {
    harness h;
    tls_run r;
    uint8_t wrong[32];
    REQUIRE(harness_cert() == 0);
    memcpy(wrong, harness_pin, 32);
    wrong[0] ^= 1;
    REQUIRE(tls_start(&h, &r, NULL, NULL, wrong) == 0);
    CHECK(tls_connect(&h, &r) != 0);
    CHECK_EQ_INT(r.client_error, WT_ERR_CERT);
    CHECK(tls_log_has("does not match the pinned SHA-256: we send alert 42 (bad_certificate)"));
    /* the server hears the alert, not a bare internal error */
    {
        uint64_t end = wt_loop_now_ms(h.loop) + 2000;
        while (!tls_log_has("the client sent alert 42 (bad_certificate)") && wt_loop_now_ms(h.loop) < end)
            wt_loop_run_once(h.loop, 20);
    }
    CHECK(tls_log_has("TLS handshake failed: the client sent alert 42 (bad_certificate)"));
    harness_stop(&h);
}

/* A server that cannot do what the ClientHello asks (as a QUIC stack
   without HelloRetryRequest) and says so in a CONNECTION_CLOSE: the client
   must report that at once, not time out. A bare UDP socket plays it. */
static int tls_refuse_once(int fd, uint64_t error_code, const char *reason) {
    uint8_t pkt[2048], out[1200];
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ngtcp2_pkt_hd hd;
    ngtcp2_ssize n;
    ssize_t got = recvfrom(fd, pkt, sizeof pkt, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    if (got <= 0 || ngtcp2_accept(&hd, pkt, (size_t)got) != 0) return 0;
    n = ngtcp2_crypto_write_connection_close(out, sizeof out, hd.version, &hd.scid, &hd.dcid, error_code,
                                             (const uint8_t *)reason, strlen(reason));
    if (n <= 0) return -1;
    return sendto(fd, out, (size_t)n, 0, (struct sockaddr *)&from, fl) == n ? 1 : -1;
}

static void tls_connect_to_refuser(harness *h, tls_run *r, uint64_t error_code, const char *reason) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0), answered = 0;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    char url[100];
    uint64_t end;
    memset(r, 0, sizeof *r);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000001);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        goto out;
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", ntohs(a.sin_port));
    if (wt_client_connect(h->client, url, tls_client_handler, r, NULL) != WT_OK) goto out;
    /* well inside the 10 s handshake timeout */
    end = wt_loop_now_ms(h->loop) + 5000;
    while (!r->settled && wt_loop_now_ms(h->loop) < end) {
        wt_loop_run_once(h->loop, 10);
        if (!answered) answered = tls_refuse_once(fd, error_code, reason);
    }
out:
    if (fd >= 0) close(fd);
}

WT_TEST(tls_loopback_server_close_in_handshake_is_reported_not_timed_out) {
    harness h;
    tls_run r;
    REQUIRE(tls_start(&h, &r, NULL, NULL, NULL) == 0);
    /* CRYPTO_ERROR + alert 40, as a server without HelloRetryRequest sends */
    tls_connect_to_refuser(&h, &r, NGTCP2_CRYPTO_ERROR | 40, "no supported key share\n");
    CHECK(r.client_closed);
    CHECK_EQ_INT(r.client_error, WT_ERR_TLS);
    /* (the peer's reason is printed, control bytes masked) */
    CHECK(tls_log_has("TLS handshake failed: the server sent alert 40 (handshake_failure): no supported key share?"));
    /* any other close says what it was, and is no timeout either */
    tls_log_count = 0;
    tls_connect_to_refuser(&h, &r, NGTCP2_PROTOCOL_VIOLATION, "");
    CHECK(r.client_closed);
    CHECK_EQ_INT(r.client_error, WT_ERR_CLOSED);
    CHECK(tls_log_has("the server closed the connection during the handshake: PROTOCOL_VIOLATION (0xa)"));
    harness_stop(&h);
}

/* ---------------------------------------------------------------- cipher suites */
static wt_app *tls_app_ciphers(const char *ciphers) {
    wt_app_config ac;
    if (harness_cert() != 0) return NULL;
    memset(&ac, 0, sizeof ac);
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.tls_ciphers = ciphers;
    ac.log.fn = tls_log;
    return wt_app_create(&ac);
}

static wt_client *tls_client_ciphers(const char *ciphers) {
    wt_client_config cc;
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    cc.tls_ciphers = ciphers;
    cc.log.fn = tls_log;
    return wt_client_create(&cc);
}

/* The suite a server with server_ciphers and a client with client_ciphers
   agree on (0x1301 TLS_AES_128_GCM_SHA256, 0x1302 ..._256_GCM_SHA384, 0x1303
   CHACHA20), 0 if the handshake fails, -1 if the set-up does. */
static int tls_suite_agreed(const char *server_ciphers, const char *client_ciphers) {
    wt_app *app = tls_app_ciphers(server_ciphers);
    wt_client *cl = tls_client_ciphers(client_ciphers);
    tls_side *s = app ? tls_side_new(&app->ep, NULL) : NULL, *c = cl ? tls_side_new(&cl->ep, "localhost") : NULL;
    int suite = -1;
    if (s && c) {
        tls_handshake(c, s);
        suite = c->done && s->done ? wolfSSL_get_current_cipher_suite(s->ssl) : 0;
        if (suite > 0 && wolfSSL_get_current_cipher_suite(c->ssl) != suite) suite = -1;
    }
    tls_side_free(c);
    tls_side_free(s);
    wt_client_destroy(cl);
    wt_app_destroy(app);
    return suite;
}

WT_TEST(tls_ciphers_parse_names_and_refuse_bad_ones) {
    wt_app *app;
    wt_client *cl;
    /* IANA and wolfSSL spellings, case ignored */
    app = tls_app_ciphers("tls_aes_256_gcm_sha384:TLS13-AES128-GCM-SHA256");
    cl = tls_client_ciphers("TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256");
    CHECK(app != NULL && cl != NULL);
    wt_client_destroy(cl);
    wt_app_destroy(app);
    /* refused at create time, with the reason in the log */
    tls_log_count = 0;
    CHECK(tls_app_ciphers("TLS_AES_128_GCM_SHA256:bogus") == NULL);
    CHECK(tls_log_has("unknown TLS 1.3 cipher suite \"bogus\""));
    tls_log_count = 0;
    CHECK(tls_client_ciphers("TLS_AES_128_CCM_8_SHA256") == NULL); /* never in QUIC */
    CHECK(tls_log_has("unknown TLS 1.3 cipher suite \"TLS_AES_128_CCM_8_SHA256\""));
    CHECK(tls_client_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256") == NULL); /* TLS 1.2 */
    tls_log_count = 0;
    CHECK(tls_app_ciphers("TLS_AES_128_GCM_SHA256:tls13-aes128-gcm-sha256") == NULL);
    CHECK(tls_log_has("TLS_AES_128_GCM_SHA256 is listed twice"));
    CHECK(tls_client_ciphers("") == NULL);
    CHECK(tls_client_ciphers("TLS_AES_128_GCM_SHA256:") == NULL);
}

WT_TEST(tls_ciphers_default_prefers_aes128_gcm_and_the_server_decides) {
    /* the default on both sides: AES-128-GCM with SHA-256 (wolfSSL alone
       would take AES-256-GCM with SHA-384) */
    CHECK_EQ_INT(tls_suite_agreed(NULL, NULL), 0x1301);
    /* a server's own order wins over the client's */
    CHECK_EQ_INT(tls_suite_agreed("TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256", NULL), 0x1302);
    CHECK_EQ_INT(tls_suite_agreed(NULL, "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"), 0x1301);
    /* what the client offers bounds the choice */
    CHECK_EQ_INT(tls_suite_agreed(NULL, "TLS_CHACHA20_POLY1305_SHA256"), 0x1303);
    /* nothing in common: no handshake */
    CHECK_EQ_INT(tls_suite_agreed("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"), 0);
}
