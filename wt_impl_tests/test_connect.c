/* test_connect.c - the client's way to a server: name lookups off the loop
   (a thread, or a resolve hook), happy eyeballs over every address, the
   connect timeout; the development certificate; command-line arguments. */
#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>

#include "harness.h"
#include "sim.h"

/* ---------------------------------------------------------------- helpers */
typedef struct conn_client {
    int opened, closed, error;
} conn_client;

static void conn_client_handler(wt_event *ev) {
    conn_client *cc = (conn_client *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) cc->opened++;
    if (ev->type == WT_EV_SESSION_CLOSED) {
        cc->closed++;
        cc->error = ev->error;
    }
}

static void conn_server_handler(wt_event *ev) { (void)ev; }

static struct sockaddr_storage conn_addr(const char *ip) {
    struct sockaddr_storage a;
    CHECK(wt__numeric_addr(ip, 443, &a));
    return a;
}

/* ---------------------------------------------------------------- ordering (RFC 8305) */
WT_TEST(connect_addresses_ipv6_first_families_interleaved) {
    static const struct {
        const char *in[6];
        const char *out[6];
    } cases[] = {
        {{"10.0.0.1", "10.0.0.2", "2001:db8::1", "2001:db8::2"}, {"[2001:db8::1]", "10.0.0.1", "[2001:db8::2]", "10.0.0.2"}},
        {{"10.0.0.1", "2001:db8::1", "2001:db8::2", "2001:db8::3"},
         {"[2001:db8::1]", "10.0.0.1", "[2001:db8::2]", "[2001:db8::3]"}},
        {{"10.0.0.1", "10.0.0.2"}, {"10.0.0.1", "10.0.0.2"}},
        {{"::1"}, {"[::1]"}},
        {{"10.0.0.1", "10.0.0.1", "::1", "::1"}, {"[::1]", "10.0.0.1"}}, /* duplicates go */
    };
    size_t i, j;
    for (i = 0; i < WT__COUNTOF(cases); i++) {
        struct sockaddr_storage a[6];
        size_t n = 0, k;
        while (n < 6 && cases[i].in[n]) {
            a[n] = conn_addr(cases[i].in[n]);
            n++;
        }
        k = wt__dial_order(a, n);
        for (j = 0; j < 6 && cases[i].out[j]; j++) {
            char s[64];
            if (j >= k) break;
            wt__addr_str(&a[j], s, sizeof s);
            if (strcmp(s, cases[i].out[j]) != 0) printf("    case %zu position %zu: %s, not %s\n", i, j, s, cases[i].out[j]);
            CHECK(strcmp(s, cases[i].out[j]) == 0);
        }
        CHECK_EQ_INT(k, j);
    }
}

WT_TEST(connect_numeric_hosts_need_no_lookup) {
    struct sockaddr_storage a;
    CHECK(wt__numeric_addr("127.0.0.1", 1, &a) && a.ss_family == AF_INET);
    CHECK(wt__numeric_addr("::1", 1, &a) && a.ss_family == AF_INET6);
    CHECK(wt__numeric_addr("2001:db8::42", 1, &a) && a.ss_family == AF_INET6);
    CHECK(!wt__numeric_addr("localhost", 1, &a));
    CHECK(!wt__numeric_addr("10.0.0", 1, &a));
    CHECK(!wt__numeric_addr("[::1]", 1, &a));
}

/* ---------------------------------------------------------------- real lookups */
static wt_client *conn_client_new(harness *h, wt_resolve_fn fn, void *user, uint32_t connect_timeout_ms) {
    wt_client_config cc;
    harness_client_config(h, &cc);
    cc.resolve = fn;
    cc.resolve_user = user;
    cc.connect_timeout_ms = connect_timeout_ms;
    return wt_client_create(&cc);
}

WT_TEST(connect_localhost_resolved_on_a_thread) {
    harness h;
    conn_client cl;
    char url[128];
    wt_session *s = NULL;
    REQUIRE(harness_start_ex(&h, NULL, NULL, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/", conn_server_handler, NULL) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    memset(&cl, 0, sizeof cl);
    snprintf(url, sizeof url, "https://localhost:%d/", h.port);
    CHECK_EQ_INT(wt_client_connect(h.client, url, conn_client_handler, &cl, &s), WT_OK);
    CHECK(s != NULL);
    /* valid at once: the request is readable before any lookup finished */
    CHECK(strcmp(wt_session_path(s), "/") == 0);
    REQUIRE(h.client->ep.conns && h.client->ep.conns->dial); /* a placeholder, not a blocking lookup */
    CHECK_SOON(&h, cl.opened == 1);
    CHECK_EQ_INT(cl.closed, 0);
    harness_stop(&h);
}

/* A resolve hook that answers from a timer, 200 ms later. */
typedef struct conn_hook {
    wt_resolve *req;
    const char *addrs[4];
    size_t n;
    int calls;
    char host[64];
    int answered;
    wt_loop *loop;
} conn_hook;

static void conn_hook_answer(wt_loop *loop, void *user) {
    conn_hook *hk = (conn_hook *)user;
    (void)loop;
    wt_resolve_done(hk->req, hk->addrs, hk->n);
    hk->req = NULL;
    hk->answered = 1;
}

static void conn_hook_later(wt_resolve *req, const char *host, void *user) {
    conn_hook *hk = (conn_hook *)user;
    hk->req = req;
    hk->calls++;
    snprintf(hk->host, sizeof hk->host, "%s", host);
    CHECK(wt_loop_timer(hk->loop, 200, conn_hook_answer, hk) > 0);
}

static void conn_hook_now(wt_resolve *req, const char *host, void *user) {
    conn_hook *hk = (conn_hook *)user;
    hk->calls++;
    snprintf(hk->host, sizeof hk->host, "%s", host);
    wt_resolve_done(req, hk->addrs, hk->n);
}

static void conn_hook_keep(wt_resolve *req, const char *host, void *user) {
    conn_hook *hk = (conn_hook *)user;
    (void)host;
    hk->calls++;
    hk->req = req;
}

typedef struct conn_tick {
    int fired;
    uint64_t at_ms;
    conn_client *cl;
    int client_opened_then;
} conn_tick;

static void conn_tick_fn(wt_loop *loop, void *user) {
    conn_tick *t = (conn_tick *)user;
    t->fired = 1;
    t->at_ms = wt_loop_now_ms(loop);
    t->client_opened_then = t->cl->opened;
}

WT_TEST(connect_resolve_hook_answers_later_and_the_loop_keeps_running) {
    harness h;
    conn_client cl, cl2;
    conn_hook hk;
    conn_tick tick;
    wt_client *client;
    char url[128];
    uint64_t t0;
    REQUIRE(harness_start_ex(&h, NULL, NULL, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/", conn_server_handler, NULL) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    memset(&hk, 0, sizeof hk);
    memset(&cl, 0, sizeof cl);
    memset(&cl2, 0, sizeof cl2);
    memset(&tick, 0, sizeof tick);
    hk.loop = h.loop;
    hk.addrs[0] = "127.0.0.1";
    hk.n = 1;
    tick.cl = &cl;
    client = conn_client_new(&h, conn_hook_later, &hk, 0);
    REQUIRE(client != NULL);
    snprintf(url, sizeof url, "https://server.test:%d/", h.port);
    t0 = wt_loop_now_ms(h.loop);
    CHECK_EQ_INT(wt_client_connect(client, url, conn_client_handler, &cl, NULL), WT_OK);
    /* a second session to the same place waits on the same lookup */
    CHECK_EQ_INT(wt_client_connect(client, url, conn_client_handler, &cl2, NULL), WT_OK);
    CHECK_EQ_INT(hk.calls, 1);
    CHECK(strcmp(hk.host, "server.test") == 0);
    CHECK(wt_loop_timer(h.loop, 100, conn_tick_fn, &tick) > 0);
    CHECK_SOON(&h, cl.opened == 1 && cl2.opened == 1);
    CHECK(client->ep.conns && !client->ep.conns->next); /* one connection for both */
    /* the loop ran a timer while the name was being resolved */
    CHECK(tick.fired);
    CHECK_EQ_INT(tick.client_opened_then, 0);
    CHECK(tick.at_ms - t0 < 200);
    CHECK(hk.answered);
    CHECK(wt_loop_now_ms(h.loop) - t0 >= 200);
    wt_client_destroy(client);
    harness_stop(&h);
}

/* Over real sockets: the name gives ::1 first, where nothing listens (UDP
   to a closed port on an unconnected socket reports nothing: a black
   hole), then 127.0.0.1, where the server is: 250 ms later it wins. */
WT_TEST(connect_happy_eyeballs_over_loopback_ipv6_first) {
    harness h;
    conn_client cl;
    conn_hook hk;
    wt_client *client;
    char url[128], remote[64] = "";
    wt_session *s = NULL;
    uint64_t t0;
    REQUIRE(harness_start_ex(&h, NULL, NULL, NULL) == 0);
    REQUIRE(wt_app_route(h.app, "/", conn_server_handler, NULL) == WT_OK);
    REQUIRE(harness_listen(&h) == 0);
    memset(&hk, 0, sizeof hk);
    memset(&cl, 0, sizeof cl);
    hk.addrs[0] = "127.0.0.1"; /* the hook's order: IPv6 goes first anyway */
    hk.addrs[1] = "::1";
    hk.n = 2;
    client = conn_client_new(&h, conn_hook_now, &hk, 0);
    REQUIRE(client != NULL);
    snprintf(url, sizeof url, "https://dual.test:%d/", h.port);
    harness_log_match = ": attempt 2 of 2, to 127.0.0.1";
    harness_log_hits = 0;
    t0 = wt_loop_now_ms(h.loop);
    CHECK_EQ_INT(wt_client_connect(client, url, conn_client_handler, &cl, &s), WT_OK);
    CHECK_SOON(&h, cl.opened == 1 || cl.closed == 1);
    CHECK_EQ_INT(cl.opened, 1);
    CHECK_EQ_INT(harness_log_hits, 1);
    harness_log_match = NULL;
    if (addr_have_ipv6_loopback()) /* test_addr.c */ CHECK(wt_loop_now_ms(h.loop) - t0 >= 250); /* else attempt 1 failed at once */
    CHECK(wt_session_remote_addr(s, remote, sizeof remote) > 0);
    CHECK(strncmp(remote, "127.0.0.1:", 10) == 0);
    wt_client_destroy(client);
    harness_stop(&h);
}

WT_TEST(connect_resolve_hook_with_no_address_ends_the_session) {
    harness h;
    conn_client cl, cl2;
    conn_hook hk;
    wt_client *client;
    wt_session *s = NULL;
    REQUIRE(harness_start_ex(&h, NULL, NULL, NULL) == 0);
    REQUIRE(harness_listen(&h) == 0);
    memset(&hk, 0, sizeof hk);
    memset(&cl, 0, sizeof cl);
    memset(&cl2, 0, sizeof cl2);
    hk.addrs[0] = "not-an-address";
    hk.n = 1;
    client = conn_client_new(&h, conn_hook_now, &hk, 0);
    REQUIRE(client != NULL);
    harness_log_match = "not numeric addresses";
    harness_log_hits = 0;
    CHECK_EQ_INT(wt_client_connect(client, "https://nowhere.test/", conn_client_handler, &cl, &s), WT_OK);
    CHECK(s != NULL);
    CHECK_SOON(&h, cl.closed == 1);
    CHECK_EQ_INT(cl.error, WT_ERR_IO);
    CHECK_EQ_INT(cl.opened, 0);
    CHECK(harness_log_hits == 1);
    harness_log_match = NULL;
    /* the positive twin: a good answer on the same client connects */
    hk.addrs[0] = "127.0.0.1";
    {
        char url[128];
        snprintf(url, sizeof url, "https://somewhere.test:%d/", h.port);
        REQUIRE(wt_app_route(h.app, "/", conn_server_handler, NULL) == WT_OK);
        CHECK_EQ_INT(wt_client_connect(client, url, conn_client_handler, &cl2, NULL), WT_OK);
        CHECK_SOON(&h, cl2.opened == 1);
    }
    wt_client_destroy(client);
    harness_stop(&h);
}

WT_TEST(connect_destroy_while_resolving) {
    harness h;
    conn_client cl, cl2;
    conn_hook hk;
    wt_client *client;
    int i;
    REQUIRE(harness_start_ex(&h, NULL, NULL, NULL) == 0);
    REQUIRE(harness_listen(&h) == 0);
    /* a hook that answers after the client is gone: the answer only frees */
    memset(&hk, 0, sizeof hk);
    memset(&cl, 0, sizeof cl);
    hk.addrs[0] = "127.0.0.1";
    hk.n = 1;
    client = conn_client_new(&h, conn_hook_keep, &hk, 0);
    REQUIRE(client != NULL);
    CHECK_EQ_INT(wt_client_connect(client, "https://late.test/", conn_client_handler, &cl, NULL), WT_OK);
    CHECK_EQ_INT(hk.calls, 1);
    wt_client_destroy(client);
    CHECK_EQ_INT(cl.closed, 1); /* destroy delivers every CLOSED */
    REQUIRE(hk.req != NULL);
    CHECK_EQ_INT(wt_resolve_done(hk.req, hk.addrs, hk.n), WT_OK);
    /* threads still looking up when their client goes: a few rounds of it,
       each thread outliving its client (ASan watches the slot) */
    for (i = 0; i < 5; i++) {
        memset(&cl2, 0, sizeof cl2);
        client = conn_client_new(&h, NULL, NULL, 0);
        REQUIRE(client != NULL);
        CHECK_EQ_INT(wt_client_connect(client, "https://localhost:1/", conn_client_handler, &cl2, NULL), WT_OK);
        wt_client_destroy(client);
        CHECK_EQ_INT(cl2.closed, 1);
        CHECK_EQ_INT(cl2.error, WT_ERR_CLOSED);
    }
    harness_stop(&h);
}

/* ---------------------------------------------------------------- happy eyeballs, in virtual time */
static sim *conn_sim;
static conn_hook conn_sim_hook;
static uint64_t conn_attempt_ms[4];
static int conn_attempts;
static char conn_timeout_line[512];
static uint32_t conn_sim_timeout_ms;

static void conn_sim_log(wt_log_level level, const char *msg, void *user) {
    (void)user;
    if (strstr(msg, ": attempt ") && conn_attempts < 4) conn_attempt_ms[conn_attempts++] = sim_ms(conn_sim);
    if (strstr(msg, "timed out after")) snprintf(conn_timeout_line, sizeof conn_timeout_line, "%s", msg);
    harness_quiet_log(level, msg, NULL);
}

static void conn_sim_cfg(wt_app_config *ac, wt_client_config *cc) {
    if (!cc) return;
    (void)ac;
    cc->resolve = conn_hook_now;
    cc->resolve_user = &conn_sim_hook;
    cc->log.fn = conn_sim_log;
    cc->connect_timeout_ms = conn_sim_timeout_ms;
}

static int conn_sim_run(sim *s, const char *a0, const char *a1, uint32_t timeout_ms, conn_client *cl) {
    memset(&conn_sim_hook, 0, sizeof conn_sim_hook);
    conn_sim_hook.addrs[0] = a0;
    conn_sim_hook.addrs[1] = a1;
    conn_sim_hook.n = 2;
    conn_attempts = 0;
    conn_timeout_line[0] = 0;
    conn_sim_timeout_ms = timeout_ms;
    conn_sim = s;
    memset(s, 0, sizeof *s);
    sim_configure = conn_sim_cfg;
    if (sim_start(s, 7, NULL, NULL) != 0) {
        sim_configure = NULL;
        return -1;
    }
    sim_configure = NULL;
    if (wt_app_route(s->app, "/", conn_server_handler, NULL) != WT_OK) return -1;
    memset(cl, 0, sizeof *cl);
    return wt_client_connect(s->client, "https://server.test/", conn_client_handler, cl, NULL);
}

static int conn_done(const conn_client *cl) { return cl->opened || cl->closed; }

/* Runs in steps of 10 virtual ms until cl is done or t0 + ms. */
static void conn_sim_wait(sim *s, const conn_client *cl, uint64_t t0, uint64_t ms) {
    volatile int never = 0;
    while (!conn_done(cl) && sim_ms(s) < t0 + ms) sim_run(s, &never, 10);
}

WT_TEST(connect_happy_eyeballs_next_address_after_250ms) {
    sim s;
    conn_client cl, cl2;
    volatile int done = 0;
    uint64_t t0;
    /* 10.0.0.9 is a black hole: nothing answers there */
    REQUIRE(conn_sim_run(&s, "10.0.0.9", "10.0.0.1", 0, &cl) == WT_OK);
    t0 = sim_ms(&s);
    /* during the race a second session joins the placeholder (never an
       attempt, which may lose) */
    sim_run(&s, &done, 100);
    CHECK_EQ_INT(conn_attempts, 1);
    memset(&cl2, 0, sizeof cl2);
    CHECK_EQ_INT(wt_client_connect(s.client, "https://server.test/", conn_client_handler, &cl2, NULL), WT_OK);
    while (!(conn_done(&cl) && conn_done(&cl2)) && sim_ms(&s) < t0 + 5000) sim_run(&s, &done, 10);
    CHECK_EQ_INT(cl2.opened, 1);
    CHECK_EQ_INT(cl.opened, 1);
    CHECK_EQ_INT(cl.closed, 0);
    CHECK_EQ_INT(conn_attempts, 2);
    CHECK(s.to_others > 0); /* the first attempt went to the dead address */
    /* the second attempt started 250 ms after the first (virtual time) */
    CHECK_EQ_INT(conn_attempt_ms[1] - conn_attempt_ms[0], 250);
    /* the loser is gone, the winner holds the session */
    {
        int conns = 0;
        wt__conn *c;
        for (c = s.client->ep.conns; c; c = c->next) conns += c->state <= WT__CONN_OPEN;
        CHECK_EQ_INT(conns, 1);
    }
    sim_stop(&s);
}

WT_TEST(connect_happy_eyeballs_first_address_answering_wins_alone) {
    sim s;
    conn_client cl;
    uint64_t t0;
    /* the working address first: connected before the stagger, one attempt */
    REQUIRE(conn_sim_run(&s, "10.0.0.1", "10.0.0.9", 0, &cl) == WT_OK);
    t0 = sim_ms(&s);
    conn_sim_wait(&s, &cl, t0, 5000);
    CHECK_EQ_INT(cl.opened, 1);
    CHECK_EQ_INT(conn_attempts, 1);
    CHECK_EQ_INT(s.to_others, 0);
    sim_stop(&s);
}

WT_TEST(connect_all_addresses_dead_times_out_at_connect_timeout) {
    sim s;
    conn_client cl;
    uint64_t t0;
    REQUIRE(conn_sim_run(&s, "10.0.0.8", "10.0.0.9", 1500, &cl) == WT_OK);
    t0 = sim_ms(&s);
    conn_sim_wait(&s, &cl, t0, 20000);
    CHECK_EQ_INT(cl.opened, 0);
    CHECK_EQ_INT(cl.closed, 1);
    CHECK_EQ_INT(cl.error, WT_ERR_TIMEOUT);
    CHECK(sim_ms(&s) - t0 >= 1500 && sim_ms(&s) - t0 < 1600);
    CHECK_EQ_INT(conn_attempts, 2);
    /* the log names the addresses tried */
    CHECK(strstr(conn_timeout_line, "10.0.0.8, 10.0.0.9") != NULL);
    if (!strstr(conn_timeout_line, "10.0.0.8, 10.0.0.9")) printf("    line: %s\n", conn_timeout_line);
    CHECK(s.client->ep.conns == NULL || s.client->ep.conns->state > WT__CONN_OPEN);
    sim_stop(&s);
}

WT_TEST(connect_closing_every_waiting_session_abandons_the_race) {
    sim s;
    conn_client cl;
    volatile int done = 0;
    wt_session *sess = NULL;
    REQUIRE(conn_sim_run(&s, "10.0.0.8", "10.0.0.9", 0, &cl) == WT_OK);
    sim_run(&s, &done, 100);
    CHECK_EQ_INT(conn_attempts, 1);
    REQUIRE(s.client->ep.conns != NULL);
    {
        wt__conn *c;
        for (c = s.client->ep.conns; c; c = c->next)
            if (c->dial && c->wt.sessions) sess = c->wt.sessions;
    }
    REQUIRE(sess != NULL);
    CHECK_EQ_INT(wt_session_close(sess, 0, NULL), WT_OK);
    sim_run(&s, &done, 1000);
    CHECK_EQ_INT(cl.closed, 1);
    CHECK_EQ_INT(conn_attempts, 1); /* no second attempt for nobody */
    CHECK(s.client->ep.conns == NULL);
    sim_stop(&s);
}

/* ---------------------------------------------------------------- dev_cert */
WT_TEST(connect_dev_cert_app_accepts_a_client_pinned_to_its_hash) {
    wt_loop_config lc;
    wt_app_config ac;
    wt_client_config cc;
    wt_loop *loop;
    wt_app *app;
    wt_client *client;
    conn_client cl;
    uint8_t pin[32], zero[32] = {0};
    char url[128];
    memset(&lc, 0, sizeof lc);
    lc.log.fn = harness_quiet_log;
    lc.log.level = WT_LOG_DEBUG;
    REQUIRE((loop = wt_loop_create(&lc)) != NULL);
    memset(&ac, 0, sizeof ac);
    ac.port = -1;
    ac.loop = loop;
    ac.log = lc.log;
    /* without files or dev_cert: refused, as before */
    CHECK(wt_app_create(&ac) == NULL);
    ac.dev_cert = 1;
    ac.cert_file = harness_crt; /* one file alone: refused */
    CHECK(wt_app_create(&ac) == NULL);
    ac.cert_file = NULL;
    harness_log_match = "for development only";
    harness_log_hits = 0;
    app = wt_app_create(&ac);
    REQUIRE(app != NULL);
    CHECK_EQ_INT(harness_log_hits, 1);
    CHECK_EQ_INT(harness_log_level, WT_LOG_WARN);
    harness_log_match = NULL;
    CHECK_EQ_INT(wt_app_cert_sha256(app, pin), WT_OK);
    CHECK(memcmp(pin, zero, 32) != 0);
    CHECK_EQ_INT(wt_app_cert_sha256(NULL, pin), WT_ERR_INVALID);
    REQUIRE(wt_app_route(app, "/", conn_server_handler, NULL) == WT_OK);
    REQUIRE(wt_app_start(app) == WT_OK);
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = pin;
    cc.loop = loop;
    cc.log = lc.log;
    REQUIRE((client = wt_client_create(&cc)) != NULL);
    memset(&cl, 0, sizeof cl);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", wt_app_port(app));
    CHECK_EQ_INT(wt_client_connect(client, url, conn_client_handler, &cl, NULL), WT_OK);
    RUN_UNTIL(loop, cl.opened || cl.closed, HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(cl.opened, 1);
    /* the negative twin: another pin fails the handshake */
    {
        wt_client *other;
        conn_client cl2;
        uint8_t wrong[32];
        memcpy(wrong, pin, 32);
        wrong[0] ^= 1;
        cc.cert_sha256 = wrong;
        REQUIRE((other = wt_client_create(&cc)) != NULL);
        memset(&cl2, 0, sizeof cl2);
        /* by name: the failed attempt's error reaches the session */
        snprintf(url, sizeof url, "https://localhost:%d/", wt_app_port(app));
        CHECK_EQ_INT(wt_client_connect(other, url, conn_client_handler, &cl2, NULL), WT_OK);
        RUN_UNTIL(loop, cl2.opened || cl2.closed, HARNESS_DEADLINE_MS);
        CHECK_EQ_INT(cl2.opened, 0);
        CHECK_EQ_INT(cl2.error, WT_ERR_CERT);
        wt_client_destroy(other);
    }
    wt_client_destroy(client);
    wt_app_destroy(app);
    wt_loop_destroy(loop);
}

WT_TEST(connect_app_cert_sha256_of_a_file_certificate) {
    harness h;
    uint8_t a[32], b[32];
    REQUIRE(harness_start_ex(&h, NULL, NULL, NULL) == 0);
    CHECK_EQ_INT(wt_app_cert_sha256(h.app, a), WT_OK);
    CHECK_EQ_INT(wt_cert_sha256(harness_crt, b), WT_OK);
    CHECK(memcmp(a, b, 32) == 0);
    CHECK(memcmp(a, harness_pin, 32) == 0);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- arguments */
WT_TEST(connect_app_config_args_table) {
    static const struct {
        const char *argv[8];
        int rv;
        const char *host, *cert, *key;
        int port;
    } cases[] = {
        {{"prog"}, 1, NULL, NULL, NULL, 0},
        {{"prog", "--host", "::", "--port", "8443"}, 5, "::", NULL, NULL, 8443},
        {{"prog", "--port=-1", "--host=0.0.0.0", "rest"}, 3, "0.0.0.0", NULL, NULL, -1},
        {{"prog", "--cert", "c.pem", "--key", "k.pem", "x", "--port", "1"}, 5, NULL, "c.pem", "k.pem", 0},
        {{"prog", "--", "--port", "1"}, 2, NULL, NULL, NULL, 0},
        {{"prog", "other", "--port", "1"}, 1, NULL, NULL, NULL, 0},
        {{"prog", "--help"}, WT_ARGS_HELP, NULL, NULL, NULL, 0},
        {{"prog", "--port", "1", "-h"}, WT_ARGS_HELP, NULL, NULL, NULL, 1},
        {{"prog", "--port"}, WT_ERR_INVALID, NULL, NULL, NULL, 0},
        {{"prog", "--port", "65536"}, WT_ERR_INVALID, NULL, NULL, NULL, 0},
        {{"prog", "--port", "80x"}, WT_ERR_INVALID, NULL, NULL, NULL, 0},
        {{"prog", "--port", ""}, WT_ERR_INVALID, NULL, NULL, NULL, 0},
        {{"prog", "--port", "-2"}, WT_ERR_INVALID, NULL, NULL, NULL, 0},
        {{"prog", "--host="}, WT_ERR_INVALID, NULL, NULL, NULL, 0},
        {{"prog", "--cert", "c.pem"}, WT_ERR_INVALID, NULL, "c.pem", NULL, 0},
    };
    size_t i;
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
    for (i = 0; i < WT__COUNTOF(cases); i++) {
        wt_app_config cfg;
        char *argv[8];
        int argc = 0, rv;
        memset(&cfg, 0, sizeof cfg);
        cfg.log.fn = harness_quiet_log;
        cfg.log.level = WT_LOG_WARN;
        while (argc < 8 && cases[i].argv[argc]) {
            argv[argc] = (char *)cases[i].argv[argc];
            argc++;
        }
        if (cases[i].rv == WT_ARGS_HELP) dup2(devnull, 2); /* the usage text */
        harness_log_match = "usage:";
        harness_log_hits = 0;
        rv = wt_app_config_args(&cfg, argc, argv);
        harness_log_match = NULL;
        if (cases[i].rv == WT_ARGS_HELP) dup2(saved, 2);
        if (rv != cases[i].rv) printf("    case %zu: %d, not %d\n", i, rv, cases[i].rv);
        CHECK_EQ_INT(rv, cases[i].rv);
        /* a usage line exactly when the input was bad */
        CHECK_EQ_INT(harness_log_hits, cases[i].rv == WT_ERR_INVALID);
        if (rv < 0) continue;
        CHECK(cases[i].host ? cfg.host && !strcmp(cfg.host, cases[i].host) : !cfg.host);
        CHECK(cases[i].cert ? cfg.cert_file && !strcmp(cfg.cert_file, cases[i].cert) : !cfg.cert_file);
        CHECK(cases[i].key ? cfg.key_file && !strcmp(cfg.key_file, cases[i].key) : !cfg.key_file);
        CHECK_EQ_INT(cfg.port, cases[i].port);
    }
    CHECK_EQ_INT(wt_app_config_args(NULL, 1, NULL), WT_ERR_INVALID);
    close(devnull);
    close(saved);
}

WT_TEST(connect_client_config_args_table) {
    char pin_hex[65], bad_hex[65];
    char *argv[8];
    wt_client_config cfg;
    uint8_t want[32];
    size_t i;
    for (i = 0; i < 32; i++) want[i] = (uint8_t)(i * 7 + 1);
    wt_hex(want, 32, pin_hex);
    for (i = 0; i < 2; i++) pin_hex[i] = (char)toupper((unsigned char)pin_hex[i]); /* either case */
    memset(&cfg, 0, sizeof cfg);
    argv[0] = (char *)"prog", argv[1] = (char *)"--pin", argv[2] = pin_hex, argv[3] = (char *)"--insecure",
    argv[4] = (char *)"--ca=ca.pem", argv[5] = (char *)"https://x/";
    CHECK_EQ_INT(wt_client_config_args(&cfg, 6, argv), 5);
    CHECK(cfg.cert_sha256 && memcmp(cfg.cert_sha256, want, 32) == 0);
    CHECK_EQ_INT(cfg.insecure, 1);
    CHECK(cfg.ca_file && !strcmp(cfg.ca_file, "ca.pem"));
    /* a pin that is not 64 hex digits */
    memset(&cfg, 0, sizeof cfg);
    cfg.log.fn = harness_quiet_log;
    cfg.log.level = WT_LOG_WARN;
    memset(bad_hex, 'a', 64);
    bad_hex[64] = 0;
    bad_hex[10] = 'g';
    argv[1] = (char *)"--pin", argv[2] = bad_hex;
    harness_log_match = "usage:";
    harness_log_hits = 0;
    CHECK_EQ_INT(wt_client_config_args(&cfg, 3, argv), WT_ERR_INVALID);
    argv[2] = (char *)"abcd";
    CHECK_EQ_INT(wt_client_config_args(&cfg, 3, argv), WT_ERR_INVALID);
    CHECK_EQ_INT(wt_client_config_args(&cfg, 2, argv), WT_ERR_INVALID);
    CHECK_EQ_INT(harness_log_hits, 3);
    harness_log_match = NULL;
    CHECK(cfg.cert_sha256 == NULL);
}
