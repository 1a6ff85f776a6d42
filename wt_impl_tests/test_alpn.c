/* test_alpn.c - subprotocol negotiation (wt-available-protocols / wt-protocol)
   and the session's keying material exporter. */

/* ---------------------------------------------------------------- structured fields */
typedef struct sf_out {
    char s[8][32];
    int n;
} sf_out;

static int sf_out_add(void *ctx, const char *raw, size_t n) {
    sf_out *o = (sf_out *)ctx;
    char *v;
    if (o->n >= 8 || n >= sizeof o->s[0]) return -1;
    v = wt__sf_unescape(&(wt_allocator){0}, raw, n);
    if (!v) return -1;
    snprintf(o->s[o->n++], sizeof o->s[0], "%s", v);
    free(v);
    return 0;
}

WT_TEST(alpn_structured_field_strings) {
    static const struct {
        const char *in;
        int list, ok, n;
        const char *first, *last;
    } t[] = {
        {"\"a\"", 1, 1, 1, "a", "a"},
        {"\"chat-v2\", \"chat-v1\"", 1, 1, 2, "chat-v2", "chat-v1"},
        {"  \"a\",\"b\"\t,  \"c\"  ", 1, 1, 3, "a", "c"},
        {"\"a\";q=1;x, \"b\";y=?0;z=:YWJj:;w=tok/en;v=@12;u=-1.5;t=%\"x\"", 1, 1, 2, "a", "b"},
        {"\"q\\\"uo\\\\te\"", 1, 1, 1, "q\"uo\\te", "q\"uo\\te"},
        {"", 1, 1, 0, NULL, NULL},
        {"   ", 1, 1, 0, NULL, NULL},
        {"\"a\", token", 1, 0, 0, NULL, NULL},     /* a Token is not a String */
        {"\"a\", 1", 1, 0, 0, NULL, NULL},         /* nor an Integer */
        {"(\"a\" \"b\")", 1, 0, 0, NULL, NULL},    /* nor an Inner List */
        {"\"a\",", 1, 0, 0, NULL, NULL},           /* trailing comma */
        {"\"a\" \"b\"", 1, 0, 0, NULL, NULL},      /* no comma */
        {"\"unterminated", 1, 0, 0, NULL, NULL},
        {"\"bad\\escape\"", 1, 0, 0, NULL, NULL},
        {"\"tab\there\"", 1, 0, 0, NULL, NULL},
        {"\"a\";Q=1", 1, 0, 0, NULL, NULL},        /* upper-case parameter key */
        {"\"a\";q=", 1, 0, 0, NULL, NULL},
        {"\"v1\"", 0, 1, 1, "v1", "v1"},
        {" \"v1\";p=1 ", 0, 1, 1, "v1", "v1"},
        {"\"v1\", \"v2\"", 0, 0, 0, NULL, NULL},  /* an Item, not a List */
        {"v1", 0, 0, 0, NULL, NULL},
        {"", 0, 0, 0, NULL, NULL},
    };
    size_t i;
    for (i = 0; i < WT__COUNTOF(t); i++) {
        sf_out o;
        int rv;
        memset(&o, 0, sizeof o);
        rv = wt__sf_strings(t[i].in, strlen(t[i].in), t[i].list, sf_out_add, &o);
        if ((rv == 0) != t[i].ok) printf("    case %zu: %s\n", i, t[i].in);
        CHECK((rv == 0) == t[i].ok);
        if (t[i].ok && rv == 0) {
            CHECK_EQ_INT(o.n, t[i].n);
            if (t[i].n) {
                CHECK(!strcmp(o.s[0], t[i].first));
                CHECK(!strcmp(o.s[o.n - 1], t[i].last));
            }
        }
    }
    {
        /* what a client sends: each name a String, escapes where needed */
        const char *names[] = {"chat", "a\"b\\c", NULL};
        const char *bad[] = {"ok", "caf\xc3\xa9", NULL}, *empty[] = {"", NULL};
        char *v = NULL;
        sf_out o;
        wt_allocator a;
        memset(&a, 0, sizeof a);
        CHECK(wt__alpn_offer_value(&a, NULL, names, &v) == WT_OK);
        REQUIRE(v != NULL);
        CHECK(!strcmp(v, "\"chat\", \"a\\\"b\\\\c\""));
        memset(&o, 0, sizeof o);
        CHECK(wt__sf_strings(v, strlen(v), 1, sf_out_add, &o) == 0);
        CHECK(o.n == 2 && !strcmp(o.s[1], "a\"b\\c"));
        free(v);
        v = (char *)1;
        CHECK(wt__alpn_offer_value(&a, NULL, NULL, &v) == WT_OK && v == NULL);
        CHECK(wt__alpn_offer_value(&a, NULL, bad, &v) == WT_ERR_INVALID);
        CHECK(wt__alpn_offer_value(&a, NULL, empty, &v) == WT_ERR_INVALID);
    }
}

/* ---------------------------------------------------------------- end to end */
typedef struct alpn_server {
    const char *pick;       /* wt_session_set_protocol with this, or NULL */
    const char *force;      /* bypass the check: the server misbehaves */
    int requests, opened, set_rv, bad_rv;
    size_t offered;
    char first[32], last[32], chosen[32];
    uint8_t key[32], key_other_label[32];
    int key_rv;
    wt_session *sess[4];
    int nsess;
} alpn_server;

static void alpn_server_handler(wt_event *ev) {
    alpn_server *a = (alpn_server *)ev->user;
    wt_session *s = ev->session;
    if (ev->type == WT_EV_SESSION_REQUEST) {
        size_t n = wt_session_protocol_count(s);
        a->requests++;
        a->offered = n;
        const char *first = wt_session_protocol_at(s, 0), *last = n ? wt_session_protocol_at(s, n - 1) : NULL;
        snprintf(a->first, sizeof a->first, "%s", first ? first : "");
        snprintf(a->last, sizeof a->last, "%s", last ? last : "");
        CHECK(wt_session_protocol_at(s, n) == NULL);
        a->bad_rv = wt_session_set_protocol(s, "never-offered");
        /* the field is wt.h's to write: only through wt_session_set_protocol */
        CHECK(wt_session_add_response_header(s, "wt-protocol", "\"x\"") == WT_ERR_INVALID);
        if (a->pick) a->set_rv = wt_session_set_protocol(s, a->pick);
        if (a->force) {
            free(s->alpn);
            s->alpn = strdup(a->force);
        }
    }
    if (ev->type == WT_EV_SESSION_OPEN) {
        a->opened++;
        snprintf(a->chosen, sizeof a->chosen, "%s", wt_session_protocol(s));
        /* too late to choose once answered */
        CHECK(wt_session_set_protocol(s, NULL) == WT_ERR_STATE);
        if (a->nsess < 4) a->sess[a->nsess++] = s;
    }
}

typedef struct alpn_client {
    int opened, closed, error;
    char chosen[32];
    wt_session *s;
} alpn_client;

static void alpn_client_handler(wt_event *ev) {
    alpn_client *c = (alpn_client *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) {
        c->opened++;
        snprintf(c->chosen, sizeof c->chosen, "%s", wt_session_protocol(ev->session));
    }
    if (ev->type == WT_EV_SESSION_CLOSED) {
        c->closed++;
        c->error = ev->error;
    }
}

/* The harness with its client replaced by one that offers protocols (and
   sends extra headers). */
static int alpn_start(harness *h, alpn_server *sv, const char *const *protocols, const char *const *headers) {
    wt_client_config cc;
    if (harness_start_ex(h, NULL, NULL, NULL) != 0) return -1;
    if (wt_app_route(h->app, "/p", alpn_server_handler, sv) != WT_OK || harness_listen(h) != 0) return -1;
    wt_client_destroy(h->client);
    harness_client_config(h, &cc);
    cc.protocols = protocols;
    cc.headers = headers;
    h->client = wt_client_create(&cc);
    return h->client ? 0 : -1;
}

static int alpn_connect(harness *h, alpn_client *c) {
    char url[160];
    snprintf(url, sizeof url, "%s/p", h->url);
    return wt_client_connect(h->client, url, alpn_client_handler, c, &c->s);
}

/* alpn_start, then a session of c to it. */
static int alpn_open(harness *h, alpn_server *sv, const char *const *protocols, const char *const *headers,
                     alpn_client *c) {
    if (alpn_start(h, sv, protocols, headers) != 0) return -1;
    return alpn_connect(h, c) == WT_OK ? 0 : -1;
}

WT_TEST(alpn_server_picks_an_offered_protocol) {
    static const char *const offer[] = {"chat-v2", "chat-v1", NULL};
    harness h;
    alpn_server sv;
    alpn_client c, c2;
    uint8_t k1[32], k2[32], k3[32], k4[32], ks[32];
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    memset(&c2, 0, sizeof c2);
    sv.pick = "chat-v1";
    REQUIRE(alpn_start(&h, &sv, offer, NULL) == 0);
    h.client->ep.test_keep_tls_arrays = 1; /* so wolfSSL's own exporter can check wt.h's */
    REQUIRE(alpn_connect(&h, &c) == WT_OK);
    /* the client reads back what it offers before any answer */
    CHECK(wt_session_protocol_count(c.s) == 2 && !strcmp(wt_session_protocol_at(c.s, 1), "chat-v1"));
    CHECK(!strcmp(wt_session_protocol(c.s), ""));
    CHECK(!strcmp(wt_session_header(c.s, "wt-available-protocols"), "\"chat-v2\", \"chat-v1\""));
    REQUIRE_SOON(&h, c.opened && sv.opened);
    CHECK_EQ_INT(sv.offered, 2);
    CHECK(!strcmp(sv.first, "chat-v2") && !strcmp(sv.last, "chat-v1"));
    CHECK_EQ_INT(sv.set_rv, WT_OK);
    CHECK_EQ_INT(sv.bad_rv, WT_ERR_INVALID);
    CHECK(!strcmp(sv.chosen, "chat-v1"));
    CHECK(!strcmp(c.chosen, "chat-v1"));
    CHECK(!strcmp(wt_session_response_header(c.s, "wt-protocol"), "\"chat-v1\""));
    CHECK(!strcmp(wt_session_response_header(sv.sess[0], "wt-protocol"), "\"chat-v1\""));

#ifdef HAVE_KEYING_MATERIAL
    /* keying material: both ends of the session agree, and the label, the
       context and the session each change it */
    REQUIRE(sv.nsess == 1);
    CHECK_EQ_INT(wt_session_export_keying_material(c.s, "app", (const uint8_t *)"ctx", 3, k1, sizeof k1), WT_OK);
    CHECK_EQ_INT(wt_session_export_keying_material(sv.sess[0], "app", (const uint8_t *)"ctx", 3, ks, sizeof ks),
                 WT_OK);
    CHECK(!memcmp(k1, ks, sizeof k1));
    CHECK_EQ_INT(wt_session_export_keying_material(c.s, "app2", (const uint8_t *)"ctx", 3, k2, sizeof k2), WT_OK);
    CHECK(memcmp(k1, k2, sizeof k1) != 0);
    CHECK_EQ_INT(wt_session_export_keying_material(c.s, "app", NULL, 0, k3, sizeof k3), WT_OK);
    CHECK(memcmp(k1, k3, sizeof k1) != 0);
    /* the draft's construction, by hand: wolfSSL's own TLS exporter with
       the fixed label and the session-bound context */
    {
        uint8_t ctx[8 + 1 + 3 + 1 + 3], direct[32];
        size_t n = 0;
        int i;
        for (i = 7; i >= 0; i--) ctx[n++] = (uint8_t)((uint64_t)c.s->id >> (8 * i));
        ctx[n++] = 3, memcpy(ctx + n, "app", 3), n += 3;
        ctx[n++] = 3, memcpy(ctx + n, "ctx", 3), n += 3;
        CHECK(wolfSSL_export_keying_material(c.s->conn->tp.ssl, direct, sizeof direct, "EXPORTER-WebTransport", 21,
                                             ctx, n, 1) == WOLFSSL_SUCCESS);
        CHECK(!memcmp(direct, k1, sizeof k1));
    }
#ifdef HAVE_SECRET_CALLBACK
    {
        /* the server kept the exporter secret, not its WOLFSSL (freed after
           the handshake) nor wolfSSL's handshake arrays (the client above
           kept them for the check) */
        uint8_t rnd[32];
        CHECK(sv.sess[0]->conn->tp.exporter_len == 32 || sv.sess[0]->conn->tp.exporter_len == 48);
        CHECK(sv.sess[0]->conn->tp.ssl == NULL);
        CHECK_EQ_INT((int)wolfSSL_get_client_random(c.s->conn->tp.ssl, rnd, sizeof rnd), 32);
    }
#endif
    /* a second session on the same connection derives other bytes */
    REQUIRE(alpn_connect(&h, &c2) == WT_OK);
    REQUIRE_SOON(&h, c2.opened && sv.nsess == 2);
    CHECK(c2.s->conn == c.s->conn);
    CHECK_EQ_INT(wt_session_export_keying_material(c2.s, "app", (const uint8_t *)"ctx", 3, k4, sizeof k4), WT_OK);
    CHECK(memcmp(k1, k4, sizeof k1) != 0);
    CHECK_EQ_INT(wt_session_export_keying_material(sv.sess[1], "app", (const uint8_t *)"ctx", 3, ks, sizeof ks),
                 WT_OK);
    CHECK(!memcmp(k4, ks, sizeof k4));
#else
    /* a wolfSSL without the exporter (WT_DEPS=system): an error, not a crash */
    CHECK_EQ_INT(wt_session_export_keying_material(c.s, "app", NULL, 0, k1, sizeof k1), WT_ERR_STATE);
    (void)k2, (void)k4, (void)ks, (void)c2;
#endif
    /* bad arguments */
    CHECK_EQ_INT(wt_session_export_keying_material(c.s, "", NULL, 0, k3, sizeof k3), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_session_export_keying_material(c.s, NULL, NULL, 0, k3, sizeof k3), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_session_export_keying_material(c.s, "app", NULL, 3, k3, sizeof k3), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_session_export_keying_material(c.s, "app", NULL, 0, k3, 0), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_session_export_keying_material(NULL, "app", NULL, 0, k3, sizeof k3), WT_ERR_INVALID);
    harness_stop(&h);
}

WT_TEST(alpn_no_offer_or_no_pick_reads_empty) {
    static const char *const offer[] = {"only", NULL};
    harness h;
    alpn_server sv;
    alpn_client c;
    /* offered, none picked */
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    REQUIRE(alpn_open(&h, &sv, offer, NULL, &c) == 0);
    REQUIRE_SOON(&h, c.opened && sv.opened);
    CHECK_EQ_INT(sv.offered, 1);
    CHECK(!strcmp(c.chosen, "") && !strcmp(sv.chosen, ""));
    CHECK(wt_session_response_header(c.s, "wt-protocol") == NULL);
    harness_stop(&h);
    /* nothing offered: nothing can be picked */
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sv.pick = "only";
    REQUIRE(alpn_open(&h, &sv, NULL, NULL, &c) == 0);
    REQUIRE_SOON(&h, c.opened && sv.opened);
    CHECK_EQ_INT(sv.offered, 0);
    CHECK_EQ_INT(sv.set_rv, WT_ERR_INVALID);
    CHECK(wt_session_header(c.s, "wt-available-protocols") == NULL);
    CHECK(!strcmp(c.chosen, "") && !strcmp(sv.chosen, ""));
    harness_stop(&h);
}

WT_TEST(alpn_malformed_offer_is_ignored) {
    /* a Token among the Strings: the whole field is ignored, the session opens */
    static const char *const hdrs[] = {"wt-available-protocols", "\"a\", b", NULL};
    harness h;
    alpn_server sv;
    alpn_client c;
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sv.pick = "a";
    harness_log_match = "ignoring a malformed wt-available-protocols";
    harness_log_hits = 0;
    REQUIRE(alpn_open(&h, &sv, NULL, hdrs, &c) == 0);
    REQUIRE_SOON(&h, c.opened && sv.opened);
    CHECK_EQ_INT(sv.requests, 1);
    CHECK_EQ_INT(sv.offered, 0);
    CHECK_EQ_INT(sv.set_rv, WT_ERR_INVALID);
    CHECK(harness_log_hits >= 1);
    harness_log_match = NULL;
    harness_stop(&h);
}

WT_TEST(alpn_client_refuses_a_protocol_it_did_not_offer) {
    static const char *const offer[] = {"v1", NULL};
    harness h;
    alpn_server sv;
    alpn_client c;
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sv.force = "v9";
    harness_log_match = "which was not offered";
    harness_log_hits = 0;
    REQUIRE(alpn_open(&h, &sv, offer, NULL, &c) == 0);
    REQUIRE_SOON(&h, c.closed);
    CHECK_EQ_INT(c.opened, 0);
    CHECK_EQ_INT(c.error, WT_ERR_PROTOCOL);
    CHECK(harness_log_hits >= 1);
    CHECK_EQ_INT(sv.opened, 1); /* the server answered 200 before the client objected */
    harness_log_match = NULL;
    harness_stop(&h);
    /* a choice when nothing was offered is ignored: the session opens, no protocol */
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sv.force = "v9";
    harness_log_match = "no protocols were offered";
    harness_log_hits = 0;
    REQUIRE(alpn_open(&h, &sv, NULL, NULL, &c) == 0);
    REQUIRE_SOON(&h, c.opened);
    CHECK(!strcmp(c.chosen, ""));
    CHECK(harness_log_hits >= 1);
    harness_log_match = NULL;
    harness_stop(&h);
    /* the same server choosing what was offered: the client opens */
    memset(&sv, 0, sizeof sv);
    memset(&c, 0, sizeof c);
    sv.force = "v1";
    REQUIRE(alpn_open(&h, &sv, offer, NULL, &c) == 0);
    REQUIRE_SOON(&h, c.opened);
    CHECK(!strcmp(c.chosen, "v1"));
    harness_stop(&h);
}

WT_TEST(alpn_bad_config_and_state) {
    static const char *const bad[] = {"ok", "with\nnewline", NULL};
    wt_client_config cc;
    wt_client *cl;
    memset(&cc, 0, sizeof cc);
    cc.insecure = 1;
    cc.log.fn = harness_quiet_log;
    cc.log.level = WT_LOG_DEBUG;
    cc.protocols = bad;
    harness_log_match = "protocols[1]";
    harness_log_hits = 0;
    cl = wt_client_create(&cc);
    CHECK(cl == NULL);
    CHECK(harness_log_hits == 1);
    harness_log_match = NULL;
    cc.protocols = NULL;
    cl = wt_client_create(&cc);
    CHECK(cl != NULL);
    wt_client_destroy(cl);
    CHECK(wt_session_protocol_count(NULL) == 0);
    CHECK(wt_session_protocol_at(NULL, 0) == NULL);
    CHECK(!strcmp(wt_session_protocol(NULL), ""));
    CHECK(wt_session_set_protocol(NULL, "x") == WT_ERR_INVALID);
}
