/* test_app.c - the app layer: session identity, routes, accept hooks. */
#include "harness.h"

#include <pthread.h>

/* ---------------------------------------------------------------- helpers */
/* What a route's handler saw. */
typedef struct app_srv {
    int requests, opened, closed;
    const char *pname;          /* the parameter to copy (NULL: none) */
    char param[128];
    int has_param;
    uint64_t last_id;
    int64_t last_stream_id;
    wt_session *last;           /* the last opened, until it closes */
    const char *reject_path;    /* reject requests for this path with 409 */
    /* query checks, done inside the request */
    int query_checked;
    char q_a[16], q_b[32], q_c[16], q_d[4], q_e[4], q_plus[8];
    int q_f_len, q_f0, q_missing, q_small, q_small_buf0, q_empty_name;
    char query[128];
} app_srv;

static void app_srv_handler(wt_event *ev) {
    app_srv *a = (app_srv *)ev->user;
    wt_session *s = ev->session;
    switch (ev->type) {
    case WT_EV_SESSION_REQUEST: {
        const char *p = a->pname ? wt_session_param(s, a->pname) : NULL;
        a->requests++;
        a->last_id = wt_session_id(s);
        a->last_stream_id = wt_session_stream_id(s);
        a->has_param = p != NULL;
        snprintf(a->param, sizeof a->param, "%s", p ? p : "");
        if (a->reject_path && !strcmp(wt_session_path(s), a->reject_path)) wt_session_reject(s, 409);
        if (strstr(wt_session_path(s), "/query")) {
            char small[2] = {'x', 'x'}, f[8];
            a->query_checked = 1;
            snprintf(a->query, sizeof a->query, "%s", wt_session_query(s));
            wt_session_query_get(s, "a", a->q_a, sizeof a->q_a);
            wt_session_query_get(s, "b", a->q_b, sizeof a->q_b);
            wt_session_query_get(s, "c", a->q_c, sizeof a->q_c);
            wt_session_query_get(s, "d", a->q_d, sizeof a->q_d);
            wt_session_query_get(s, "e", a->q_e, sizeof a->q_e);
            wt_session_query_get(s, "x y", a->q_plus, sizeof a->q_plus);
            a->q_f_len = wt_session_query_get(s, "f", f, sizeof f);
            a->q_f0 = f[0];
            a->q_missing = wt_session_query_get(s, "nope", f, sizeof f);
            a->q_small = wt_session_query_get(s, "b", small, sizeof small);
            a->q_small_buf0 = small[0];
            a->q_empty_name = wt_session_query_get(s, "", f, sizeof f);
        }
        break;
    }
    case WT_EV_SESSION_OPEN:
        a->opened++;
        a->last = s;
        break;
    case WT_EV_SESSION_CLOSED:
        a->closed++;
        if (a->last == s) a->last = NULL;
        break;
    default: break;
    }
}

/* What a client session saw. */
typedef struct app_cli {
    wt_session *s;
    int open, closed, error, status;
    const char *hdr_name;       /* a response header to copy when answered */
    char hdr[64];
    int has_hdr;
} app_cli;

static void app_cli_handler(wt_event *ev) {
    app_cli *c = (app_cli *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN || (ev->type == WT_EV_SESSION_CLOSED && !c->open)) {
        const char *v = c->hdr_name ? wt_session_response_header(ev->session, c->hdr_name) : NULL;
        c->has_hdr = v != NULL;
        snprintf(c->hdr, sizeof c->hdr, "%s", v ? v : "");
    }
    if (ev->type == WT_EV_SESSION_OPEN) c->open = 1;
    if (ev->type == WT_EV_SESSION_CLOSED) {
        c->closed = 1;
        c->error = ev->error;
        c->status = ev->status;
        c->s = NULL;
    }
}

/* The harness with an app made from cfg (its limits, checks and config);
   routes are added by the test, then harness_listen. */
static int app_start(harness *h, const wt_app_config *cfg) {
    wt_app_config ac;
    if (harness_start_ex(h, cfg ? &cfg->limits : NULL, NULL, NULL) != 0) return -1;
    if (!cfg) return 0;
    wt_app_destroy(h->app);
    ac = *cfg;
    ac.host = "127.0.0.1";
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = h->loop;
    ac.log.fn = harness_quiet_log;
    ac.log.level = WT_LOG_DEBUG;
    h->app = wt_app_create(&ac);
    return h->app ? 0 : -1;
}

/* Another client on the harness's loop (its own connection). */
static wt_client *app_client_new(harness *h, const char *origin, const char *const *headers) {
    wt_client_config cc;
    harness_client_config(h, &cc);
    cc.origin = origin;
    cc.headers = headers;
    return wt_client_create(&cc);
}

static int app_open(harness *h, wt_client *cl, const char *path, app_cli *c) {
    char url[300];
    const char *hdr = c->hdr_name;
    memset(c, 0, sizeof *c);
    c->hdr_name = hdr;
    snprintf(url, sizeof url, "%s%s", h->url, path);
    return wt_client_connect(cl ? cl : h->client, url, app_cli_handler, c, &c->s);
}

/* Opens path and waits for the answer: 0 opened, else the refusal's status. */
static int app_answer(harness *h, wt_client *cl, const char *path, app_cli *c) {
    if (app_open(h, cl, path, c) != WT_OK) return -1;
    RUN_UNTIL(h->loop, c->open || c->closed, HARNESS_DEADLINE_MS);
    if (c->open) return 0;
    if (!c->closed) return -2;
    return c->error == WT_ERR_REFUSED ? c->status : -3;
}

/* Closes an open client session and waits until it is gone. */
static void app_close(harness *h, app_cli *c) {
    if (!c->s || c->closed) return;
    wt_session_close(c->s, 0, NULL);
    RUN_UNTIL(h->loop, c->closed, HARNESS_DEADLINE_MS);
}

/* ---------------------------------------------------------------- identity */
WT_TEST(app_session_ids_are_unique_and_never_reused) {
    harness h;
    app_srv a;
    app_cli c1, c2, c3;
    uint64_t id1, id2;
    wt_client *other;
    memset(&a, 0, sizeof a);
    memset(&c1, 0, sizeof c1), memset(&c2, 0, sizeof c2), memset(&c3, 0, sizeof c3);
    REQUIRE(app_start(&h, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/id", app_srv_handler, &a) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    REQUIRE((other = app_client_new(&h, NULL, NULL)) != NULL);
    /* two connections, each with its first session: both on stream 0 */
    REQUIRE(app_answer(&h, NULL, "/id", &c1) == 0);
    id1 = a.last_id;
    CHECK_EQ_INT(a.last_stream_id, 0);
    REQUIRE(app_answer(&h, other, "/id", &c2) == 0);
    id2 = a.last_id;
    CHECK_EQ_INT(a.last_stream_id, 0);
    CHECK_EQ_INT(id1, 1);
    CHECK_EQ_INT(id2, 2);
    CHECK_EQ_INT(wt_session_stream_id(c1.s), 0);
    CHECK_EQ_INT(wt_session_stream_id(c2.s), 0);
    /* each client counts its own */
    CHECK_EQ_INT(wt_session_id(c1.s), 1);
    CHECK_EQ_INT(wt_session_id(c2.s), 1);
    /* a new session after one closed gets a new ID, on both sides */
    app_close(&h, &c1);
    CHECK_SOON(&h, a.closed == 1);
    REQUIRE(app_answer(&h, NULL, "/id", &c3) == 0);
    CHECK_EQ_INT(a.last_id, 3);
    CHECK_EQ_INT(a.last_stream_id, 4); /* the same connection's next request stream */
    CHECK_EQ_INT(wt_session_id(c3.s), 2);
    CHECK(wt_session_stream_id(NULL) == -1 && wt_session_id(NULL) == 0);
    app_close(&h, &c2);
    wt_client_destroy(other);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- routes */
WT_TEST(app_route_patterns_parameters_and_tail) {
    static const struct {
        const char *path;
        int route;           /* index into srv[], -1: none */
        int status;          /* 0: opened */
        const char *param;   /* the expected value (NULL: none) */
    } cases[] = {
        {"/chat/lobby", 1, 0, NULL},
        {"/chat/r%20oom%2Fx?lobby=1", 0, 0, "r oom/x"},
        {"/chat/a+b", 0, 0, "a+b"},                 /* '+' is a plus in a path */
        {"/files/a/b%20c.txt", 2, 0, "a/b c.txt"},
        {"/files/", 2, 0, ""},
        {"/files", -1, 404, NULL},
        {"/a/1/c", 3, 0, "1"},                      /* {x} beats {x...} */
        {"/a/1/d", 4, 0, "1/d"},
        {"/a/1", 4, 0, "1"},
        {"/chat/", -1, 404, NULL},                  /* {room} is never empty */
        {"/chat/x/y", -1, 404, NULL},
        {"/chat/%zz", -1, 400, NULL},
        {"/chat/a%4", -1, 400, NULL},
        {"/chat/a%00b", -1, 400, NULL},
        {"/", 5, 0, NULL},
        {"/?x=1", 5, 0, NULL},
    };
    harness h;
    app_srv srv[6];
    size_t i, k;
    memset(srv, 0, sizeof srv);
    srv[0].pname = "room";
    srv[2].pname = "path";
    srv[3].pname = "x";
    srv[4].pname = "x";
    REQUIRE(app_start(&h, NULL) == 0);
    /* patterns first: the most specific wins whatever the order */
    REQUIRE(wt_app_route(h.app, "/chat/{room}", app_srv_handler, &srv[0]) == WT_OK);
    REQUIRE(wt_app_route(h.app, "/chat/lobby", app_srv_handler, &srv[1]) == WT_OK);
    REQUIRE(wt_app_route(h.app, "/files/{path...}", app_srv_handler, &srv[2]) == WT_OK);
    REQUIRE(wt_app_route(h.app, "/a/{x...}", app_srv_handler, &srv[4]) == WT_OK);
    REQUIRE(wt_app_route(h.app, "/a/{x}/c", app_srv_handler, &srv[3]) == WT_OK);
    REQUIRE(wt_app_route(h.app, "/", app_srv_handler, &srv[5]) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    for (i = 0; i < WT__COUNTOF(cases); i++) {
        app_cli c;
        int before[6], got;
        for (k = 0; k < 6; k++) before[k] = srv[k].requests;
        memset(&c, 0, sizeof c);
        got = app_answer(&h, NULL, cases[i].path, &c);
        if (got != cases[i].status) printf("    %s: answer %d, expected %d\n", cases[i].path, got, cases[i].status);
        CHECK_EQ_INT(got, cases[i].status);
        for (k = 0; k < 6; k++) CHECK_EQ_INT(srv[k].requests - before[k], (int)k == cases[i].route);
        if (cases[i].route >= 0 && srv[cases[i].route].pname) {
            CHECK(srv[cases[i].route].has_param);
            if (strcmp(srv[cases[i].route].param, cases[i].param) != 0)
                printf("    %s: param \"%s\", expected \"%s\"\n", cases[i].path, srv[cases[i].route].param, cases[i].param);
            CHECK(strcmp(srv[cases[i].route].param, cases[i].param) == 0);
        }
        app_close(&h, &c);
    }
    /* names are per route: lobby has none, and no one has "nope" */
    CHECK(!srv[1].has_param);
    harness_stop(&h);
}

WT_TEST(app_route_registration_errors) {
    static const char *const bad[] = {"x", "", "/a?b=1", "/a#b", "/a/{b...}/c", "/a/{}", "/a/{...}", "/a/{b",
                                      "/a/b}", "/a/{b}{c}", "/a/x{b}", "/a/{x}/{x}", "/a/{x}/{x...}", "/a/{b-c}",
                                      "/a/{b..}"};
    harness h;
    app_srv a;
    size_t i;
    memset(&a, 0, sizeof a);
    REQUIRE(app_start(&h, NULL) == 0);
    for (i = 0; i < WT__COUNTOF(bad); i++) {
        int hits = harness_log_hits, rv;
        harness_log_match = "wt_app_route";
        rv = wt_app_route(h.app, bad[i], app_srv_handler, &a);
        if (rv != WT_ERR_INVALID) printf("    accepted %s\n", bad[i]);
        CHECK_EQ_INT(rv, WT_ERR_INVALID);
        CHECK_EQ_INT(harness_log_hits, hits + 1);
    }
    /* good ones, then the same again: exactly, and with other names */
    CHECK_EQ_INT(wt_app_route(h.app, "/x", app_srv_handler, &a), WT_OK);
    CHECK_EQ_INT(wt_app_route(h.app, "/x/", app_srv_handler, &a), WT_OK);
    CHECK_EQ_INT(wt_app_route(h.app, "/chat/{room}", app_srv_handler, &a), WT_OK);
    CHECK_EQ_INT(wt_app_route(h.app, "/f/{a}/{rest...}", app_srv_handler, &a), WT_OK);
    harness_log_match = "routed already";
    harness_log_hits = 0;
    CHECK_EQ_INT(wt_app_route(h.app, "/x", app_srv_handler, &a), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_app_route(h.app, "/chat/{name}", app_srv_handler, &a), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_app_route(h.app, "/f/{b}/{c...}", app_srv_handler, &a), WT_ERR_INVALID);
    CHECK_EQ_INT(harness_log_hits, 3);
    CHECK_EQ_INT(wt_app_route(h.app, "/f/{b}/{c}", app_srv_handler, &a), WT_OK); /* another shape */
    CHECK_EQ_INT(wt_app_route(h.app, NULL, app_srv_handler, &a), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_app_route(h.app, "/y", NULL, &a), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_app_default_route(h.app, app_srv_handler, &a), WT_OK);
    CHECK_EQ_INT(wt_app_default_route(h.app, app_srv_handler, &a), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_app_use(h.app, NULL, NULL), WT_ERR_INVALID);
    harness_log_match = NULL;
    harness_stop(&h);
}

WT_TEST(app_default_route_takes_what_no_route_matches) {
    harness h;
    app_srv a, d;
    app_cli c;
    memset(&a, 0, sizeof a), memset(&d, 0, sizeof d), memset(&c, 0, sizeof c);
    REQUIRE(app_start(&h, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/known", app_srv_handler, &a) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    /* without a default route: 404, and no handler heard of it */
    CHECK_EQ_INT(app_answer(&h, NULL, "/unknown", &c), 404);
    CHECK_EQ_INT(a.requests, 0);
    CHECK_EQ_INT(app_answer(&h, NULL, "/known", &c), 0);
    CHECK_EQ_INT(a.requests, 1);
    app_close(&h, &c);
    /* with one: it gets the rest, the routes keep theirs */
    REQUIRE(wt_app_default_route(h.app, app_srv_handler, &d) == WT_OK);
    CHECK_EQ_INT(app_answer(&h, NULL, "/unknown/deep?q=1", &c), 0);
    CHECK_EQ_INT(d.requests, 1);
    CHECK(!d.has_param);
    app_close(&h, &c);
    CHECK_EQ_INT(app_answer(&h, NULL, "/known", &c), 0);
    CHECK_EQ_INT(a.requests, 2);
    CHECK_EQ_INT(d.requests, 1);
    app_close(&h, &c);
    harness_stop(&h);
}

WT_TEST(app_query_string_is_read_decoded) {
    harness h;
    app_srv a;
    app_cli c;
    memset(&a, 0, sizeof a), memset(&c, 0, sizeof c);
    REQUIRE(app_start(&h, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/query", app_srv_handler, &a) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    CHECK_EQ_INT(app_answer(&h, NULL, "/query?a=1&b=hello+w%6Frld&&c=%41%zz%4&d&e=&a=2&f=%00x&x+y=%2B", &c), 0);
    REQUIRE(a.query_checked);
    CHECK(strcmp(a.query, "a=1&b=hello+w%6Frld&&c=%41%zz%4&d&e=&a=2&f=%00x&x+y=%2B") == 0);
    CHECK(strcmp(a.q_a, "1") == 0);                /* the first of two */
    CHECK(strcmp(a.q_b, "hello world") == 0);
    CHECK(strcmp(a.q_c, "A%zz%4") == 0);           /* a bad escape stays as it is */
    CHECK(strcmp(a.q_d, "") == 0);
    CHECK(strcmp(a.q_e, "") == 0);
    CHECK(strcmp(a.q_plus, "+") == 0);             /* names are decoded too */
    CHECK_EQ_INT(a.q_f_len, 2);                    /* the length counts the NUL */
    CHECK_EQ_INT(a.q_f0, 0);
    CHECK_EQ_INT(a.q_missing, WT_ERR_NOT_FOUND);
    CHECK_EQ_INT(a.q_small, WT_ERR_TOO_BIG);
    CHECK_EQ_INT(a.q_small_buf0, 0);
    CHECK_EQ_INT(a.q_empty_name, WT_ERR_NOT_FOUND); /* "&&" is no parameter */
    /* matching ignored the query; the client reads its own */
    CHECK(strcmp(wt_session_query(c.s), a.query) == 0);
    app_close(&h, &c);
    CHECK_EQ_INT(app_answer(&h, NULL, "/query", &c), 0);
    CHECK(strcmp(a.query, "") == 0);
    CHECK_EQ_INT(a.q_missing, WT_ERR_NOT_FOUND);
    app_close(&h, &c);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- built-in checks */
WT_TEST(app_allowed_origins_refuse_with_403) {
    static const char *const origins[] = {"https://good.example", "https://other.example", NULL};
    harness h;
    wt_app_config cfg;
    app_srv a;
    app_cli c;
    wt_client *evil, *good, *upper;
    memset(&cfg, 0, sizeof cfg), memset(&a, 0, sizeof a), memset(&c, 0, sizeof c);
    cfg.allowed_origins = origins;
    REQUIRE(app_start(&h, &cfg) == 0);
    REQUIRE(wt_app_route(h.app, "/o", app_srv_handler, &a) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    REQUIRE((evil = app_client_new(&h, "https://evil.example", NULL)) != NULL);
    REQUIRE((good = app_client_new(&h, "https://other.example", NULL)) != NULL);
    REQUIRE((upper = app_client_new(&h, "https://GOOD.example", NULL)) != NULL);
    harness_log_match = "403";
    harness_log_hits = 0;
    CHECK_EQ_INT(app_answer(&h, evil, "/o", &c), 403);
    CHECK_EQ_INT(app_answer(&h, NULL, "/o", &c), 403); /* no origin header */
    CHECK(harness_log_hits >= 2);
    harness_log_match = NULL;
    CHECK_EQ_INT(a.requests, 0);
    CHECK_EQ_INT(app_answer(&h, good, "/o", &c), 0);
    app_close(&h, &c);
    CHECK_EQ_INT(app_answer(&h, upper, "/o", &c), 0); /* case ignored */
    app_close(&h, &c);
    CHECK_EQ_INT(a.requests, 2);
    wt_client_destroy(evil);
    wt_client_destroy(good);
    wt_client_destroy(upper);
    harness_stop(&h);
}

WT_TEST(app_auth_token_refuses_with_401) {
    static const char *const right[] = {"authorization", "Bearer s3cret", NULL};
    static const char *const lower[] = {"authorization", "bearer s3cret", NULL};
    static const char *const wrong[] = {"authorization", "Bearer s3cre", NULL};
    static const char *const basic[] = {"authorization", "Basic s3cret", NULL};
    harness h;
    wt_app_config cfg;
    app_srv a;
    app_cli c;
    wt_client *cr, *cl, *cw, *cb;
    memset(&cfg, 0, sizeof cfg), memset(&a, 0, sizeof a), memset(&c, 0, sizeof c);
    cfg.auth_token = "s3cret";
    REQUIRE(app_start(&h, &cfg) == 0);
    REQUIRE(wt_app_route(h.app, "/t", app_srv_handler, &a) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    REQUIRE((cr = app_client_new(&h, NULL, right)) && (cl = app_client_new(&h, NULL, lower)));
    REQUIRE((cw = app_client_new(&h, NULL, wrong)) && (cb = app_client_new(&h, NULL, basic)));
    c.hdr_name = "www-authenticate";
    CHECK_EQ_INT(app_answer(&h, NULL, "/t", &c), 401);
    CHECK(c.has_hdr && strcmp(c.hdr, "Bearer") == 0);
    CHECK_EQ_INT(app_answer(&h, cw, "/t", &c), 401);
    CHECK_EQ_INT(app_answer(&h, cb, "/t", &c), 401);
    CHECK_EQ_INT(a.requests, 0);
    CHECK_EQ_INT(app_answer(&h, cr, "/t", &c), 0);
    CHECK(!c.has_hdr);
    app_close(&h, &c);
    CHECK_EQ_INT(app_answer(&h, cl, "/t", &c), 0);
    app_close(&h, &c);
    CHECK_EQ_INT(a.requests, 2);
    wt_client_destroy(cr), wt_client_destroy(cl), wt_client_destroy(cw), wt_client_destroy(cb);
    harness_stop(&h);
    /* an empty token is a mistake, not "no check" */
    memset(&cfg, 0, sizeof cfg);
    cfg.auth_token = "";
    cfg.cert_file = harness_crt;
    cfg.key_file = harness_key;
    cfg.log.fn = harness_quiet_log;
    cfg.log.level = WT_LOG_DEBUG;
    harness_log_match = "auth_token is empty";
    harness_log_hits = 0;
    CHECK(wt_app_create(&cfg) == NULL);
    CHECK_EQ_INT(harness_log_hits, 1);
    harness_log_match = NULL;
}

WT_TEST(app_rate_limit_per_ip_refuses_with_429) {
    harness h;
    wt_app_config cfg;
    app_srv a;
    app_cli c[3];
    int i, open = 0, refused = 0;
    memset(&cfg, 0, sizeof cfg), memset(&a, 0, sizeof a), memset(c, 0, sizeof c);
    cfg.limits.sessions_per_ip_per_s = 1; /* a burst of 2 */
    REQUIRE(app_start(&h, &cfg) == 0);
    REQUIRE(wt_app_route(h.app, "/r", app_srv_handler, &a) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    /* three at once: well inside a second */
    for (i = 0; i < 3; i++) {
        c[i].hdr_name = "retry-after";
        REQUIRE(app_open(&h, NULL, "/r", &c[i]) == WT_OK);
    }
    RUN_UNTIL(h.loop, (c[0].open || c[0].closed) && (c[1].open || c[1].closed) && (c[2].open || c[2].closed),
              HARNESS_DEADLINE_MS);
    for (i = 0; i < 3; i++) {
        open += c[i].open;
        if (c[i].closed && c[i].error == WT_ERR_REFUSED && c[i].status == 429) {
            refused++;
            CHECK(c[i].has_hdr && strcmp(c[i].hdr, "1") == 0);
        }
    }
    CHECK_EQ_INT(open, 2);
    CHECK_EQ_INT(refused, 1);
    CHECK_EQ_INT(a.requests, 2);
    for (i = 0; i < 3; i++) app_close(&h, &c[i]);
    harness_stop(&h);
}

/* The bucket itself, on a virtual clock: per address (the port ignored),
   refilled over time, the least recently seen address forgotten first. */
static uint64_t app_clock_ns;
static uint64_t app_clock(void *user) {
    (void)user;
    return app_clock_ns;
}

WT_TEST(app_rate_limit_bucket_on_the_loop_clock) {
    wt_loop_config lc;
    wt_app_config ac;
    wt_loop *loop;
    wt_app *app;
    struct sockaddr_storage a1, a1p, a2, a3, m1;
    struct sockaddr_in *v4;
    struct sockaddr_in6 *v6;
    int i, ok = 0;
    if (harness_cert() != 0) REQUIRE(0);
    memset(&lc, 0, sizeof lc);
    lc.clock.now_ns = app_clock;
    lc.log.fn = harness_quiet_log;
    app_clock_ns = 1000000000ULL;
    REQUIRE((loop = wt_loop_create(&lc)) != NULL);
    memset(&ac, 0, sizeof ac);
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = loop;
    ac.log.fn = harness_quiet_log;
    ac.limits.sessions_per_ip_per_s = 2; /* a burst of 4 */
    ac.limits.rate_limit_ips = 2;
    REQUIRE((app = wt_app_create(&ac)) != NULL);
    memset(&a1, 0, sizeof a1), memset(&a2, 0, sizeof a2), memset(&a3, 0, sizeof a3), memset(&m1, 0, sizeof m1);
    v4 = (struct sockaddr_in *)&a1;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(1000);
    inet_pton(AF_INET, "192.0.2.1", &v4->sin_addr);
    a1p = a1;
    ((struct sockaddr_in *)&a1p)->sin_port = htons(2000);
    v4 = (struct sockaddr_in *)&a2;
    v4->sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.2", &v4->sin_addr);
    v6 = (struct sockaddr_in6 *)&a3;
    v6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::1", &v6->sin6_addr);
    v6 = (struct sockaddr_in6 *)&m1; /* 192.0.2.1 again, as IPv4-mapped */
    v6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:192.0.2.1", &v6->sin6_addr);
    for (i = 0; i < 6; i++) ok += wt__router_rate_ok(&app->router, i % 3 == 0 ? &a1 : i % 3 == 1 ? &a1p : &m1);
    CHECK_EQ_INT(ok, 4); /* one address, whatever its port or form */
    CHECK(wt__router_rate_ok(&app->router, &a2));  /* another has its own */
    app_clock_ns += 500000000ULL;       /* half a second: one more for a1 */
    CHECK(wt__router_rate_ok(&app->router, &a1));
    CHECK(!wt__router_rate_ok(&app->router, &a1));
    /* a third address takes the slot of the least recently seen (a2) */
    CHECK(wt__router_rate_ok(&app->router, &a3));
    CHECK(!wt__router_rate_ok(&app->router, &a1)); /* a1 was kept, still empty */
    app_clock_ns += 2000000000ULL;     /* full again */
    for (ok = 0, i = 0; i < 5; i++) ok += wt__router_rate_ok(&app->router, &a1);
    CHECK_EQ_INT(ok, 4);
    wt_app_destroy(app);
    wt_loop_destroy(loop);
}

WT_TEST(app_session_caps_refuse_with_429) {
    harness h;
    wt_app_config cfg;
    app_srv a;
    app_cli c1, c2, c3, c4, *first, *second;
    wt_client *other;
    memset(&cfg, 0, sizeof cfg), memset(&a, 0, sizeof a);
    memset(&c1, 0, sizeof c1), memset(&c2, 0, sizeof c2), memset(&c3, 0, sizeof c3), memset(&c4, 0, sizeof c4);
    cfg.limits.max_app_sessions = 2;
    cfg.limits.max_sessions = 1;
    REQUIRE(app_start(&h, &cfg) == 0);
    REQUIRE(wt_app_route(h.app, "/cap", app_srv_handler, &a) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    REQUIRE((other = app_client_new(&h, NULL, NULL)) != NULL);
    /* the connection's cap: two requests at once share a connection (its
       SETTINGS, which would say 1, are not in yet); the second is refused */
    harness_log_match = "max_sessions reached";
    harness_log_hits = 0;
    REQUIRE(app_open(&h, NULL, "/cap", &c1) == WT_OK);
    REQUIRE(app_open(&h, NULL, "/cap", &c2) == WT_OK);
    REQUIRE_SOON(&h, (c1.open || c1.closed) && (c2.open || c2.closed));
    /* the handlers hold &c1 and &c2: name the winner, do not swap them */
    first = c1.open ? &c1 : &c2;
    second = c1.open ? &c2 : &c1;
    CHECK(first->open);
    CHECK(second->closed && second->error == WT_ERR_REFUSED && second->status == 429);
    CHECK_EQ_INT(harness_log_hits, 1);
    /* the app's: a second connection may have one, a third not */
    CHECK_EQ_INT(app_answer(&h, other, "/cap", &c3), 0);
    {
        wt_client *third = app_client_new(&h, NULL, NULL);
        REQUIRE(third != NULL);
        harness_log_match = "max_app_sessions reached";
        harness_log_hits = 0;
        CHECK_EQ_INT(app_answer(&h, third, "/cap", &c4), 429);
        CHECK_EQ_INT(harness_log_hits, 1);
        /* one closes: there is room again */
        app_close(&h, first);
        CHECK_SOON(&h, wt_app_session_count(h.app) == 1);
        CHECK_EQ_INT(app_answer(&h, third, "/cap", &c4), 0);
        app_close(&h, &c4);
        wt_client_destroy(third);
    }
    harness_log_match = NULL;
    CHECK_EQ_INT(a.requests, 3);
    app_close(&h, &c3);
    wt_client_destroy(other);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- accept hooks */
typedef struct app_hook {
    int calls;
    int ret;                    /* what to return */
    const char *deny_path;      /* return 403 for this path instead */
    const char *reject_path;    /* call wt_session_reject(451) for this one */
    const char *header;         /* add "x-hook: <header>" */
    int *order, *norder, tag;   /* the order hooks ran in */
    uint64_t deferred_id;       /* the last WT_DEFER's session */
    wt_session *deferred_s;     /* ... and its pointer (valid while it waits) */
    int defers;
    void *set_user;
} app_hook;

static int app_hook_fn(wt_session *s, void *user) {
    app_hook *k = (app_hook *)user;
    k->calls++;
    if (k->order) k->order[(*k->norder)++] = k->tag;
    if (k->header) wt_session_add_response_header(s, "x-hook", k->header);
    if (k->set_user) wt_session_set_user(s, k->set_user);
    if (k->deny_path && !strcmp(wt_session_path(s), k->deny_path)) return 403;
    if (k->reject_path && !strcmp(wt_session_path(s), k->reject_path)) {
        wt_session_reject(s, 451);
        return WT_ACCEPT;
    }
    if (k->ret == WT_DEFER) {
        k->deferred_id = wt_session_id(s);
        k->deferred_s = s;
        k->defers++;
    }
    return k->ret;
}

WT_TEST(app_hooks_run_in_order_and_refuse_before_the_handler) {
    harness h;
    app_srv a;
    app_hook k1, k2;
    app_cli c;
    int order[16], norder = 0;
    memset(&a, 0, sizeof a), memset(&k1, 0, sizeof k1), memset(&k2, 0, sizeof k2), memset(&c, 0, sizeof c);
    k1.order = k2.order = order;
    k1.norder = k2.norder = &norder;
    k1.tag = 1, k2.tag = 2;
    k1.header = "one";
    k1.deny_path = "/deny";
    k2.reject_path = "/reject";
    REQUIRE(app_start(&h, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/ok", app_srv_handler, &a) == WT_OK);
    REQUIRE(wt_app_route(h.app, "/deny", app_srv_handler, &a) == WT_OK);
    REQUIRE(wt_app_route(h.app, "/reject", app_srv_handler, &a) == WT_OK);
    REQUIRE(wt_app_use(h.app, app_hook_fn, &k1) == WT_OK);
    REQUIRE(wt_app_use(h.app, app_hook_fn, &k2) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    c.hdr_name = "x-hook";
    /* accepted: both hooks in order, then the handler; the hook's header arrives */
    CHECK_EQ_INT(app_answer(&h, NULL, "/ok", &c), 0);
    CHECK_EQ_INT(a.requests, 1);
    CHECK_EQ_INT(a.opened, 1);
    CHECK_EQ_INT(norder, 2);
    CHECK(order[0] == 1 && order[1] == 2);
    CHECK(c.has_hdr && strcmp(c.hdr, "one") == 0);
    app_close(&h, &c);
    /* refused by the first hook's status: the second never runs, nor the handler;
       the header it added goes with the refusal */
    norder = 0;
    CHECK_EQ_INT(app_answer(&h, NULL, "/deny", &c), 403);
    CHECK_EQ_INT(norder, 1);
    CHECK(c.has_hdr && strcmp(c.hdr, "one") == 0);
    CHECK_EQ_INT(a.requests, 1);
    /* refused by wt_session_reject in the second */
    norder = 0;
    CHECK_EQ_INT(app_answer(&h, NULL, "/reject", &c), 451);
    CHECK_EQ_INT(norder, 2);
    CHECK_EQ_INT(a.requests, 1);
    /* hooks run before routing: an unknown path meets them first, then 404 */
    norder = 0;
    CHECK_EQ_INT(app_answer(&h, NULL, "/nowhere", &c), 404);
    CHECK_EQ_INT(norder, 2);
    /* a hook that returns nonsense: 500, logged */
    k2.ret = 42;
    harness_log_match = "returned 42";
    harness_log_hits = 0;
    CHECK_EQ_INT(app_answer(&h, NULL, "/ok", &c), 500);
    CHECK_EQ_INT(harness_log_hits, 1);
    harness_log_match = NULL;
    k2.ret = WT_ACCEPT;
    CHECK_EQ_INT(a.requests, 1);
    CHECK_EQ_INT(app_answer(&h, NULL, "/ok", &c), 0); /* and all is well again */
    CHECK_EQ_INT(a.requests, 2);
    app_close(&h, &c);
    harness_stop(&h);
}

/* Deferred sessions answered from a timer. */
typedef struct app_resume_ctx {
    wt_app *app;
    app_hook *hook;
    int status;
    int rv, rv_again;
    int fired;
} app_resume_ctx;

static void app_resume_timer(wt_loop *loop, void *user) {
    app_resume_ctx *r = (app_resume_ctx *)user;
    (void)loop;
    r->rv = wt_app_resume(r->app, r->hook->deferred_id, r->status);
    r->rv_again = wt_app_resume(r->app, r->hook->deferred_id, r->status);
    r->fired = 1;
}

WT_TEST(app_hook_defers_and_a_timer_resumes) {
    harness h;
    wt_app_config cfg;
    app_srv a;
    app_hook k1, k2;
    app_cli c;
    app_resume_ctx r;
    int marker;
    memset(&cfg, 0, sizeof cfg), memset(&a, 0, sizeof a), memset(&k1, 0, sizeof k1), memset(&k2, 0, sizeof k2);
    memset(&c, 0, sizeof c), memset(&r, 0, sizeof r);
    REQUIRE(app_start(&h, &cfg) == 0);
    REQUIRE(wt_app_route(h.app, "/d", app_srv_handler, &a) == WT_OK);
    k1.ret = WT_DEFER;
    k1.header = "deferred";
    k1.set_user = &marker;
    REQUIRE(wt_app_use(h.app, app_hook_fn, &k1) == WT_OK);
    REQUIRE(wt_app_use(h.app, app_hook_fn, &k2) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    r.app = h.app;
    r.hook = &k1;
    c.hdr_name = "x-hook";
    /* resumed with 0: the next hook, the route, the handler */
    REQUIRE(app_open(&h, NULL, "/d", &c) == WT_OK);
    REQUIRE_SOON(&h, k1.defers == 1);
    CHECK_EQ_INT(k2.calls, 0);
    CHECK_EQ_INT(h.app->ep.ndeferred, 1);
    CHECK_EQ_INT(wt_app_resume(h.app, k1.deferred_id + 1000, 0), WT_ERR_NOT_FOUND);
    CHECK_EQ_INT(wt_app_resume(h.app, k1.deferred_id, 200), WT_ERR_INVALID);
    REQUIRE(wt_loop_timer(h.loop, 50, app_resume_timer, &r) > 0);
    CHECK_SOON(&h, c.open || c.closed);
    CHECK(c.open);
    CHECK_EQ_INT(r.rv, WT_OK);
    CHECK_EQ_INT(r.rv_again, WT_ERR_STATE);
    CHECK_EQ_INT(k2.calls, 1);
    CHECK_EQ_INT(a.requests, 1);
    CHECK(a.last && wt_session_user(a.last) == &marker);
    CHECK(c.has_hdr && strcmp(c.hdr, "deferred") == 0);
    CHECK_EQ_INT(wt_app_resume(h.app, k1.deferred_id, 0), WT_ERR_NOT_FOUND); /* answered */
    CHECK_EQ_INT(h.app->ep.ndeferred, 0);
    app_close(&h, &c);
    /* resumed with a status: refused, the rest never runs */
    r.status = 403;
    r.fired = 0;
    REQUIRE(app_open(&h, NULL, "/d", &c) == WT_OK);
    REQUIRE_SOON(&h, k1.defers == 2);
    REQUIRE(wt_loop_timer(h.loop, 10, app_resume_timer, &r) > 0);
    CHECK_SOON(&h, c.closed);
    CHECK_EQ_INT(c.error, WT_ERR_REFUSED);
    CHECK_EQ_INT(c.status, 403);
    CHECK(c.has_hdr && strcmp(c.hdr, "deferred") == 0);
    CHECK_EQ_INT(k2.calls, 1);
    CHECK_EQ_INT(a.requests, 1);
    /* refused while it waits, through the pointer: answered at once */
    REQUIRE(app_open(&h, NULL, "/d", &c) == WT_OK);
    REQUIRE_SOON(&h, k1.defers == 3);
    CHECK(wt_app_deferred_session(h.app, k1.deferred_id) == k1.deferred_s);
    CHECK(wt_app_deferred_session(h.app, k1.deferred_id + 1000) == NULL);
    CHECK_EQ_INT(wt_session_add_response_header(wt_app_deferred_session(h.app, k1.deferred_id), "x-late", "yes"), WT_OK);
    CHECK_EQ_INT(wt_session_reject(wt_app_deferred_session(h.app, k1.deferred_id), 410), WT_OK);
    c.hdr_name = "x-late";
    CHECK_SOON(&h, c.closed);
    CHECK_EQ_INT(c.status, 410);
    CHECK(c.has_hdr && strcmp(c.hdr, "yes") == 0);
    CHECK_EQ_INT(h.app->ep.ndeferred, 0);
    CHECK_EQ_INT(wt_app_resume(h.app, k1.deferred_id, 0), WT_ERR_NOT_FOUND);
    CHECK(wt_app_deferred_session(h.app, k1.deferred_id) == NULL);
    CHECK_EQ_INT(a.requests, 1);
    harness_stop(&h);
}

/* Deferred sessions answered from another thread: the hook hands the ID to
   a thread (a database lookup, say), which posts the answer to the loop. */
typedef struct app_thread_ctx {
    wt_app *app;
    wt_loop *loop;
    uint64_t id;
    int status;
    int started, post_rv;
    int resume_rv;        /* what wt_app_resume said, on the loop */
    int resumed;
    pthread_t th;
} app_thread_ctx;

static void app_thread_answer(wt_loop *loop, void *user) {
    app_thread_ctx *t = (app_thread_ctx *)user;
    (void)loop;
    t->resume_rv = wt_app_resume(t->app, t->id, t->status);
    t->resumed = 1;
}

static void *app_thread_main(void *user) {
    app_thread_ctx *t = (app_thread_ctx *)user;
    t->post_rv = wt_loop_post(t->loop, app_thread_answer, t);
    return NULL;
}

static int app_thread_hook(wt_session *s, void *user) {
    app_thread_ctx *t = (app_thread_ctx *)user;
    t->id = wt_session_id(s);
    t->started = pthread_create(&t->th, NULL, app_thread_main, t) == 0;
    return t->started ? WT_DEFER : 500;
}

WT_TEST(app_hook_defers_and_another_thread_resumes) {
    harness h;
    app_srv a;
    app_cli c;
    app_thread_ctx t;
    memset(&a, 0, sizeof a), memset(&c, 0, sizeof c), memset(&t, 0, sizeof t);
    REQUIRE(app_start(&h, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/t", app_srv_handler, &a) == WT_OK);
    REQUIRE(wt_app_use(h.app, app_thread_hook, &t) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    t.app = h.app;
    t.loop = h.loop;
    /* accepted from the thread */
    CHECK_EQ_INT(app_answer(&h, NULL, "/t", &c), 0);
    REQUIRE(t.started);
    pthread_join(t.th, NULL);
    CHECK_EQ_INT(t.post_rv, WT_OK);
    CHECK(t.resumed && t.resume_rv == WT_OK);
    CHECK_EQ_INT(a.requests, 1);
    app_close(&h, &c);
    /* refused from the thread */
    memset(&t, 0, sizeof t);
    t.app = h.app;
    t.loop = h.loop;
    t.status = 403;
    CHECK_EQ_INT(app_answer(&h, NULL, "/t", &c), 403);
    REQUIRE(t.started);
    pthread_join(t.th, NULL);
    CHECK(t.resumed && t.resume_rv == WT_OK);
    CHECK_EQ_INT(a.requests, 1);
    harness_stop(&h);
}

/* A listening app whose hook defers every session, /d routed to a. */
static int app_defer_start(harness *h, app_srv *a, app_hook *k) {
    if (app_start(h, NULL) != 0) return -1;
    if (wt_app_route(h->app, "/d", app_srv_handler, a) != WT_OK) return -1;
    k->ret = WT_DEFER;
    if (wt_app_use(h->app, app_hook_fn, k) != WT_OK) return -1;
    return harness_listen(h);
}

WT_TEST(app_deferred_session_whose_peer_leaves_is_freed) {
    harness h;
    app_srv a;
    app_hook k;
    app_cli c;
    memset(&a, 0, sizeof a), memset(&k, 0, sizeof k), memset(&c, 0, sizeof c);
    REQUIRE(app_defer_start(&h, &a, &k) == 0);
    /* the session leaves: its request stream ends before any answer */
    REQUIRE(app_open(&h, NULL, "/d", &c) == WT_OK);
    REQUIRE_SOON(&h, k.defers == 1);
    CHECK_EQ_INT(wt_session_close(c.s, 0, NULL), WT_OK);
    CHECK_SOON(&h, h.app->ep.ndeferred == 0);
    CHECK_EQ_INT(wt_app_resume(h.app, k.deferred_id, 0), WT_ERR_NOT_FOUND);
    /* the whole connection leaves */
    {
        wt_client *other = app_client_new(&h, NULL, NULL);
        app_cli c2;
        memset(&c2, 0, sizeof c2);
        REQUIRE(other != NULL);
        REQUIRE(app_open(&h, other, "/d", &c2) == WT_OK);
        REQUIRE_SOON(&h, k.defers == 2);
        CHECK_EQ_INT(h.app->ep.ndeferred, 1);
        CHECK_EQ_INT(wt_session_close_connection(c2.s, 0x100, "bye"), WT_OK);
        CHECK_SOON(&h, h.app->ep.ndeferred == 0);
        CHECK_EQ_INT(wt_app_resume(h.app, k.deferred_id, 0), WT_ERR_NOT_FOUND);
        wt_client_destroy(other);
    }
    /* no handler ever saw them: no event at all */
    CHECK_EQ_INT(a.requests + a.opened + a.closed, 0);
    /* and one that stays is freed with the app (ASan: no leak): its client
       goes first without the loop running, so the server still holds it */
    {
        wt_client *last = app_client_new(&h, NULL, NULL);
        REQUIRE(last != NULL);
        REQUIRE(app_open(&h, last, "/d", &c) == WT_OK);
        REQUIRE_SOON(&h, k.defers == 3);
        wt_client_destroy(last);
        CHECK_EQ_INT(h.app->ep.ndeferred, 1);
    }
    harness_stop(&h);
}

/* A stop refuses the sessions still deferred (429), as it refuses new ones. */
WT_TEST(app_stop_refuses_deferred_sessions) {
    harness h;
    app_srv a;
    app_hook k;
    app_cli c;
    memset(&a, 0, sizeof a), memset(&k, 0, sizeof k), memset(&c, 0, sizeof c);
    REQUIRE(app_defer_start(&h, &a, &k) == 0);
    REQUIRE(app_open(&h, NULL, "/d", &c) == WT_OK);
    REQUIRE_SOON(&h, k.defers == 1);
    wt_app_stop(h.app);
    CHECK_SOON(&h, c.closed);
    CHECK_EQ_INT(c.error, WT_ERR_REFUSED);
    CHECK_EQ_INT(c.status, 429);
    CHECK_EQ_INT(h.app->ep.ndeferred, 0);
    CHECK_EQ_INT(wt_app_resume(h.app, k.deferred_id, 0), WT_ERR_NOT_FOUND);
    CHECK_EQ_INT(a.requests, 0);
    harness_stop(&h);
}

/* A hook may pick the subprotocol; the handler and the client see it. */
static int app_pick_last_protocol(wt_session *s, void *user) {
    size_t n = wt_session_protocol_count(s);
    (void)user;
    return n && wt_session_set_protocol(s, wt_session_protocol_at(s, n - 1)) == WT_OK ? WT_ACCEPT : 406;
}

static char app_server_protocol[16];
static void app_protocol_handler(wt_event *ev) {
    if (ev->type == WT_EV_SESSION_REQUEST)
        snprintf(app_server_protocol, sizeof app_server_protocol, "%s", wt_session_protocol(ev->session));
}

WT_TEST(app_hook_picks_the_subprotocol) {
    static const char *const offer[] = {"chat-v1", "chat-v2", NULL};
    harness h;
    app_cli c;
    wt_client *cl;
    wt_client_config cc;
    memset(&c, 0, sizeof c), memset(&cc, 0, sizeof cc);
    app_server_protocol[0] = 0;
    REQUIRE(app_start(&h, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/p", app_protocol_handler, NULL) == WT_OK);
    REQUIRE(wt_app_use(h.app, app_pick_last_protocol, NULL) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    cc.cert_sha256 = harness_pin;
    cc.loop = h.loop;
    cc.log.fn = harness_quiet_log;
    cc.protocols = offer;
    REQUIRE((cl = wt_client_create(&cc)) != NULL);
    CHECK_EQ_INT(app_answer(&h, cl, "/p", &c), 0);
    CHECK(strcmp(app_server_protocol, "chat-v2") == 0);
    CHECK(c.s && strcmp(wt_session_protocol(c.s), "chat-v2") == 0);
    app_close(&h, &c);
    CHECK_EQ_INT(app_answer(&h, NULL, "/p", &c), 406); /* nothing offered: the hook refuses */
    wt_client_destroy(cl);
    harness_stop(&h);
}

/* The rate limit and a deferral's deadline in virtual time (sim.h): the
   loop's clock drives both, so a simulation sees them to the millisecond. */
#include "sim.h"

static int app_defer_slow(wt_session *s, void *user) {
    *(uint64_t *)user = wt_session_id(s);
    return strcmp(wt_session_path(s), "/slow") ? WT_ACCEPT : WT_DEFER;
}

/* Runs the simulation until cond, in steps of 10 ms of virtual time at most
   (sim_run alone jumps to the next timer, seconds away on an idle link). */
#define SIM_UNTIL(s, cond, ms)                                                         \
    do {                                                                               \
        uint64_t end_ = sim_ms(s) + (ms);                                              \
        while (!(cond) && sim_ms(s) < end_) {                                          \
            int f_ = 0;                                                                \
            int64_t t_ = wt_loop_timer((s)->loop, 10, harness_set_flag, &f_);          \
            sim_run((s), &f_, 20);                                                     \
            if (!f_) wt_loop_timer_cancel((s)->loop, t_);                              \
        }                                                                              \
    } while (0)

WT_TEST(app_rate_limit_and_deferral_deadline_in_virtual_time) {
    static sim s;
    app_srv a;
    app_cli c[6];
    wt_limits lim;
    uint64_t deferred = 0, t0;
    int i, open = 0, refused = 0;
    memset(&a, 0, sizeof a), memset(c, 0, sizeof c), memset(&lim, 0, sizeof lim);
    memset(&s, 0, sizeof s);
    lim.sessions_per_ip_per_s = 1; /* a burst of 2 */
    REQUIRE(sim_start(&s, 11, &lim, NULL) == 0);
    REQUIRE(wt_app_route(s.app, "/v", app_srv_handler, &a) == WT_OK);
    REQUIRE(wt_app_route(s.app, "/slow", app_srv_handler, &a) == WT_OK);
    REQUIRE(wt_app_use(s.app, app_defer_slow, &deferred) == WT_OK);
    for (i = 0; i < 3; i++)
        REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/v", app_cli_handler, &c[i], &c[i].s) == WT_OK);
    SIM_UNTIL(&s, (c[0].open || c[0].closed) && (c[1].open || c[1].closed) && (c[2].open || c[2].closed), 5000);
    for (i = 0; i < 3; i++) {
        open += c[i].open;
        refused += c[i].closed && c[i].error == WT_ERR_REFUSED && c[i].status == 429;
    }
    CHECK_EQ_INT(open, 2);
    CHECK_EQ_INT(refused, 1);
    /* a second later the bucket holds one more, and only one */
    t0 = sim_ms(&s);
    SIM_UNTIL(&s, sim_ms(&s) >= t0 + 1000, 2000);
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/v", app_cli_handler, &c[3], &c[3].s) == WT_OK);
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/v", app_cli_handler, &c[4], &c[4].s) == WT_OK);
    SIM_UNTIL(&s, (c[3].open || c[3].closed) && (c[4].open || c[4].closed), 5000);
    CHECK_EQ_INT(c[3].open + c[4].open, 1);
    CHECK((c[3].closed && c[3].status == 429) || (c[4].closed && c[4].status == 429));
    /* a deferral nobody answers: 503 at handshake_timeout_ms (10 s), not before */
    t0 = sim_ms(&s);
    SIM_UNTIL(&s, sim_ms(&s) >= t0 + 1000, 2000); /* a token for it */
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/slow", app_cli_handler, &c[5], &c[5].s) == WT_OK);
    SIM_UNTIL(&s, s.app->ep.ndeferred == 1, 5000);
    REQUIRE(s.app->ep.ndeferred == 1);
    t0 = sim_ms(&s);
    harness_log_match = "no wt_app_resume within handshake_timeout_ms";
    harness_log_hits = 0;
    SIM_UNTIL(&s, c[5].closed, 20000);
    CHECK_EQ_INT(c[5].status, 503);
    CHECK_EQ_INT(harness_log_hits, 1);
    harness_log_match = NULL;
    CHECK(sim_ms(&s) >= t0 + 10000 && sim_ms(&s) <= t0 + 10000 + 100); /* plus the answer's trip */
    CHECK_EQ_INT(wt_app_resume(s.app, deferred, 0), WT_ERR_NOT_FOUND);
    CHECK_EQ_INT(a.requests, 3);
    for (i = 0; i < 6; i++)
        if (c[i].open && !c[i].closed) wt_session_close(c[i].s, 0, NULL);
    SIM_UNTIL(&s, 0, 100);
    sim_stop(&s);
}

/* A second server on a port already served fails to start, with an error
   and a log line, instead of binding beside the first and taking its
   packets (SO_REUSEADDR did that on UDP). The first keeps serving. */
WT_TEST(app_second_server_on_a_used_port_fails_to_start) {
    harness h;
    server_ctx sx;
    client_ctx cx;
    wt_app_config ac;
    wt_app *second;
    REQUIRE(server_setup(&h, &sx, NULL, NULL) == 0);
    memset(&ac, 0, sizeof ac);
    ac.host = "127.0.0.1";
    ac.port = h.port;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = h.loop;
    ac.log.fn = harness_quiet_log;
    second = wt_app_create(&ac);
    REQUIRE(second != NULL);
    CHECK_EQ_INT(wt_app_start(second), WT_ERR_IO);
    wt_app_destroy(second);
    REQUIRE(client_open(&h, &cx, "/echo") == 0);
    CHECK_EQ_INT(sx.sessions_opened, 1);
    harness_stop(&h);
}
