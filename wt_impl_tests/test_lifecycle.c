/* test_lifecycle.c - startup hooks that fail, the graceful stop (GOAWAY,
   DRAIN, grace period, close, closing period, shutdown hooks), signals,
   and handing work to the loop from other threads (wt_loop_post,
   wt_loop_wakeup). The stop's timings run in sim.h's virtual time. */
#include "harness.h"
#include "sim.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

/* What happened, in order, as short words: "startup open drained ..." */
static char lc_trace[512];

static void lc_note(const char *what) {
    size_t n = strlen(lc_trace);
    snprintf(lc_trace + n, sizeof lc_trace - n, "%s%s", n ? " " : "", what);
}

static uint64_t lc_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- startup failure */
typedef struct lc_hooks {
    int fail_at;        /* the startup hook (1-based) that fails, 0: none */
    int port_seen;      /* wt_app_port inside the first hook */
    int startup_ran[3];
    int shutdown_ran;
    int resource;       /* taken by startup hook 1, given back at shutdown */
} lc_hooks;

static int lc_startup1(wt_app *app, void *user) {
    lc_hooks *k = (lc_hooks *)user;
    k->startup_ran[0]++;
    k->port_seen = wt_app_port(app);
    k->resource = 1;
    lc_note("startup");
    return WT_OK;
}

static int lc_startup2(wt_app *app, void *user) {
    lc_hooks *k = (lc_hooks *)user;
    (void)app;
    k->startup_ran[1]++;
    return k->fail_at == 2 ? -42 : 1; /* any value >= 0 is success */
}

static int lc_startup3(wt_app *app, void *user) {
    lc_hooks *k = (lc_hooks *)user;
    (void)app;
    k->startup_ran[2]++;
    return WT_OK;
}

static int lc_shutdown(wt_app *app, void *user) {
    lc_hooks *k = (lc_hooks *)user;
    (void)app;
    k->shutdown_ran++;
    k->resource = 0;
    lc_note("shutdown");
    return WT_OK;
}

static int lc_shutdown_fails(wt_app *app, void *user) {
    (void)app, (void)user;
    return WT_ERR_IO;
}

static int lc_udp_bindable(int port) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), ok;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

static void lc_noop_handler(wt_event *ev) { (void)ev; }

/* An app of its own (its own loop) on a free port of 127.0.0.1 with the
   harness's certificate, logging quietly. */
static void lc_app_config(wt_app_config *ac) {
    memset(ac, 0, sizeof *ac);
    ac->host = "127.0.0.1";
    ac->port = -1;
    ac->cert_file = harness_crt;
    ac->key_file = harness_key;
    ac->log.fn = harness_quiet_log;
    ac->log.level = WT_LOG_INFO;
}

WT_TEST(lifecycle_startup_hook_failure_aborts_start) {
    wt_app_config ac;
    wt_app *app;
    lc_hooks k;
    int rv;
    REQUIRE(harness_cert() == 0);
    memset(&k, 0, sizeof k);
    k.fail_at = 2;
    lc_trace[0] = 0;
    lc_app_config(&ac);
    app = wt_app_create(&ac);
    REQUIRE(app != NULL);
    REQUIRE(wt_app_route(app, "/", lc_noop_handler, NULL) == WT_OK);
    REQUIRE(wt_app_on_startup(app, lc_startup1, &k) == WT_OK);
    REQUIRE(wt_app_on_startup(app, lc_startup2, &k) == WT_OK);
    REQUIRE(wt_app_on_startup(app, lc_startup3, &k) == WT_OK);
    REQUIRE(wt_app_on_shutdown(app, lc_shutdown, &k) == WT_OK);
    harness_log_match = "startup hook 2 of 3 failed";
    harness_log_hits = 0;
    rv = wt_app_run(app); /* the same path as wt_app_start */
    CHECK_EQ_INT(rv, -42);
    CHECK_EQ_INT(harness_log_hits, 1);
    CHECK_EQ_INT(harness_log_level, WT_LOG_ERROR);
    harness_log_match = NULL;
    CHECK_EQ_INT(k.startup_ran[0], 1);
    CHECK_EQ_INT(k.startup_ran[1], 1);
    CHECK_EQ_INT(k.startup_ran[2], 0); /* the hooks after the failing one never run */
    CHECK_EQ_INT(k.shutdown_ran, 1);   /* and what hook 1 took was given back */
    CHECK_EQ_INT(k.resource, 0);
    CHECK(strcmp(lc_trace, "startup shutdown") == 0);
    CHECK_EQ_INT(wt_app_port(app), 0);
    /* the socket is closed: its port can be bound again */
    REQUIRE(k.port_seen > 0);
    CHECK(lc_udp_bindable(k.port_seen));
    /* positive: once the hook succeeds the start goes through */
    k.fail_at = 0;
    CHECK_EQ_INT(wt_app_start(app), WT_OK);
    CHECK_EQ_INT(k.startup_ran[2], 1);
    CHECK(wt_app_port(app) > 0);
    CHECK(!lc_udp_bindable(wt_app_port(app)));
    CHECK_EQ_INT(k.resource, 1);
    /* a shutdown hook's failure is logged, the others still run */
    REQUIRE(wt_app_on_shutdown(app, lc_shutdown_fails, &k) == WT_OK);
    harness_log_match = "shutdown hook 2 of 2 returned";
    harness_log_hits = 0;
    wt_app_destroy(app);
    CHECK_EQ_INT(harness_log_hits, 1);
    harness_log_match = NULL;
    CHECK_EQ_INT(k.shutdown_ran, 2);
    CHECK_EQ_INT(k.resource, 0);
}

/* ---------------------------------------------------------------- graceful stop, in virtual time */
typedef struct lc_side {
    wt_session *s;
    int opened, draining, closed, close_error, drain_before_close, goaway_seen;
    uint32_t close_code;
    char close_reason[64];
    uint32_t close_on_drain; /* client: close its session when drained, with this code + 1 */
    int reconnect_on_drain;  /* client: connect again when drained */
    wt_session *s2;          /* that second session (gone after its CLOSED) */
    int s2_new_conn, s2_closed, s2_error;
} lc_side;

static lc_side lc_server, lc_client;
static lc_hooks lc_sim_hooks;
static sim *lc_sim;

static void lc_server_handler(wt_event *ev) {
    lc_side *x = &lc_server;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        x->opened = 1;
        lc_note("open");
        break;
    case WT_EV_SESSION_DRAINING: /* the server's own DRAIN is not an event here */
        x->draining = 1;
        break;
    case WT_EV_SESSION_CLOSED:
        x->closed = 1;
        x->close_error = ev->error;
        x->close_code = ev->code;
        snprintf(x->close_reason, sizeof x->close_reason, "%.*s", (int)ev->reason_len, ev->reason ? ev->reason : "");
        lc_note("server-closed");
        break;
    default:
        break;
    }
}

static void lc_client2_handler(wt_event *ev) {
    if (ev->type == WT_EV_SESSION_CLOSED) {
        lc_client.s2_closed = 1;
        lc_client.s2_error = ev->error;
    }
}

static void lc_client_handler(wt_event *ev) {
    lc_side *x = &lc_client;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        x->opened = 1;
        break;
    case WT_EV_SESSION_DRAINING:
        x->draining = 1;
        lc_note("drained");
        if (x->close_on_drain) wt_session_close(ev->session, x->close_on_drain - 1, "client leaves");
        if (x->reconnect_on_drain) {
            char url[64];
            snprintf(url, sizeof url, "https://10.0.0.1:443/x");
            CHECK_EQ_INT(wt_client_connect(lc_sim->client, url, lc_client2_handler, NULL, &x->s2), WT_OK);
            /* compared now: both connections are alive here */
            x->s2_new_conn = x->s2 && x->s2->conn != ev->session->conn;
        }
        break;
    case WT_EV_SESSION_CLOSED:
        x->closed = 1;
        x->goaway_seen = ev->session->conn->h3.goaway; /* HTTP/3 GOAWAY reached us */
        x->drain_before_close = x->draining;
        x->close_error = ev->error;
        x->close_code = ev->code;
        snprintf(x->close_reason, sizeof x->close_reason, "%.*s", (int)ev->reason_len, ev->reason ? ev->reason : "");
        lc_note("client-closed");
        break;
    default:
        break;
    }
}

static void lc_sim_config(wt_app_config *ac, wt_client_config *cc) {
    (void)cc;
    if (!ac) return;
    ac->shutdown_code = 4242;
    ac->shutdown_reason = "maintenance";
    ac->shutdown_grace_ms = 5000;
}

static void lc_sim_hooks_add(wt_app *app) {
    CHECK_EQ_INT(wt_app_on_startup(app, lc_startup1, &lc_sim_hooks), WT_OK);
    CHECK_EQ_INT(wt_app_on_shutdown(app, lc_shutdown, &lc_sim_hooks), WT_OK);
    CHECK_EQ_INT(wt_app_route(app, "/x", lc_server_handler, NULL), WT_OK);
}

/* A simulated server and client (20 ms each way) with one open session. */
static int lc_sim_open(sim *s) {
    memset(&lc_server, 0, sizeof lc_server);
    memset(&lc_client, 0, sizeof lc_client);
    memset(&lc_sim_hooks, 0, sizeof lc_sim_hooks);
    lc_trace[0] = 0;
    memset(s, 0, sizeof *s);
    s->up.delay_ms = s->down.delay_ms = 20;
    sim_configure = lc_sim_config;
    sim_before_start = lc_sim_hooks_add;
    lc_sim = s;
    if (sim_start(s, 7, NULL, NULL) != 0) return -1;
    sim_configure = NULL;
    sim_before_start = NULL;
    if (wt_client_connect(s->client, "https://10.0.0.1:443/x", lc_client_handler, NULL, &lc_client.s) != WT_OK)
        return -1;
    if (!sim_run(s, &lc_client.opened, 5000) || !sim_run(s, &lc_server.opened, 5000)) return -1;
    return 0;
}

static int lc_stopped_flag;
/* while the stop ran: the most GOAWAY the server sent on any connection
   (1 the notice, 2 the final one), and whether one reached the client */
static int lc_goaway_sent, lc_goaway_received;

static void lc_note_goaway(sim *s) {
    const wt__conn *c;
    for (c = s->app->ep.conns; c; c = c->next) lc_goaway_sent = WT__MAX(lc_goaway_sent, c->h3.goaway_sent);
    for (c = s->client->ep.conns; c; c = c->next) lc_goaway_received |= c->h3.goaway;
}

static int lc_sim_run_until_stopped(sim *s, uint64_t ms) {
    uint64_t end = sim_ms(s) + ms;
    lc_stopped_flag = 0;
    lc_goaway_sent = lc_goaway_received = 0;
    while (!wt_app_stopped(s->app) && sim_ms(s) < end) {
        uint64_t before = s->now;
        sim_run(s, &lc_stopped_flag, 1);
        lc_note_goaway(s);
        if (s->now == before) s->now += 1000000ULL; /* nothing due: time goes on */
    }
    return wt_app_stopped(s->app);
}

WT_TEST(lifecycle_graceful_stop_drains_then_closes_with_the_code) {
    sim s;
    uint64_t t0;
    REQUIRE(lc_sim_open(&s) == 0);
    lc_client.reconnect_on_drain = 1;
    CHECK(!wt_app_stopped(s.app));
    t0 = sim_ms(&s);
    harness_log_match = "stopped:";
    harness_log_hits = 0;
    wt_app_stop(s.app);
    /* the stop runs on the loop (the embedder's form: process until stopped) */
    REQUIRE(lc_sim_run_until_stopped(&s, 20000));
    CHECK_EQ_INT(harness_log_hits, 1);
    harness_log_match = NULL;
    /* the client saw DRAINING, then its session closed cleanly with the code */
    CHECK(lc_client.draining);
    CHECK(lc_client.closed && lc_client.drain_before_close);
    /* no HTTP/3 GOAWAY on a connection with a session: Chromium stops
       opening streams for good on one (see wt__app_conn_holds_wt); the
       positive case is lifecycle_graceful_stop_goaway_without_sessions */
    CHECK(!lc_client.goaway_seen);
    CHECK_EQ_INT(lc_goaway_sent, 0);
    CHECK(!lc_goaway_received);
    CHECK_EQ_INT(lc_client.close_error, WT_OK);
    CHECK_EQ_INT(lc_client.close_code, 4242);
    CHECK(strcmp(lc_client.close_reason, "maintenance") == 0);
    /* the server's handler got no DRAINING of its own, and its CLOSED */
    CHECK(!lc_server.draining);
    CHECK(lc_server.closed);
    CHECK_EQ_INT(lc_server.close_code, 4242);
    /* the grace period was used in full: the client never closed */
    CHECK(sim_ms(&s) - t0 >= 5000);
    CHECK(sim_ms(&s) - t0 < 5000 + 4000);
    /* a connect while drained took a new connection, which the stopping
       server refused (it did not wait for a handshake timeout) */
    REQUIRE(lc_client.s2 != NULL);
    CHECK(lc_client.s2_new_conn);
    sim_run(&s, &lc_client.s2_closed, 5000);
    CHECK(lc_client.s2_closed);
    CHECK(lc_client.s2_error != WT_OK);
    /* every connection finished its closing period before the hooks */
    CHECK_EQ_INT(s.app->ep.nconns, 0);
    CHECK_EQ_INT(lc_sim_hooks.shutdown_ran, 1);
    CHECK(strcmp(lc_trace, "startup open drained server-closed client-closed shutdown") == 0 ||
          strcmp(lc_trace, "startup open drained client-closed server-closed shutdown") == 0);
    if (!strstr(lc_trace, "server-closed shutdown") && !strstr(lc_trace, "client-closed shutdown"))
        printf("    trace: %s\n", lc_trace);
    sim_stop(&s);
}

WT_TEST(lifecycle_graceful_stop_ends_early_when_sessions_close) {
    sim s;
    uint64_t t0;
    REQUIRE(lc_sim_open(&s) == 0);
    lc_client.close_on_drain = 7 + 1; /* the client leaves as soon as it is asked */
    t0 = sim_ms(&s);
    wt_app_stop(s.app);
    REQUIRE(lc_sim_run_until_stopped(&s, 20000));
    CHECK(lc_client.draining && lc_client.closed);
    CHECK_EQ_INT(lc_client.close_code, 7);
    CHECK(lc_server.closed);
    CHECK_EQ_INT(lc_server.close_code, 7); /* the peer's code: nobody closed it for the stop */
    CHECK(strcmp(lc_server.close_reason, "client leaves") == 0);
    /* well under the 5 s of grace: a few round trips and a closing period */
    CHECK(sim_ms(&s) - t0 < 2000);
    CHECK_EQ_INT(lc_sim_hooks.shutdown_ran, 1);
    sim_stop(&s);
}

/* A connection without WebTransport (its one request refused with 404) gets
   HTTP/3 GOAWAY, the notice and the final one, before it is closed. */
WT_TEST(lifecycle_graceful_stop_goaway_without_sessions) {
    sim s;
    memset(&lc_server, 0, sizeof lc_server);
    memset(&lc_client, 0, sizeof lc_client);
    memset(&lc_sim_hooks, 0, sizeof lc_sim_hooks);
    lc_trace[0] = 0;
    memset(&s, 0, sizeof s);
    s.up.delay_ms = s.down.delay_ms = 20;
    sim_configure = lc_sim_config;
    sim_before_start = lc_sim_hooks_add;
    lc_sim = &s;
    REQUIRE(sim_start(&s, 7, NULL, NULL) == 0);
    sim_configure = NULL;
    sim_before_start = NULL;
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/no-such-route", lc_client_handler, NULL, &lc_client.s) ==
            WT_OK);
    REQUIRE(sim_run(&s, &lc_client.closed, 5000));
    CHECK(lc_client.close_error != WT_OK); /* refused */
    REQUIRE(s.app->ep.nconns == 1);
    wt_app_stop(s.app);
    REQUIRE(lc_sim_run_until_stopped(&s, 20000));
    CHECK_EQ_INT(lc_goaway_sent, 2);
    CHECK(lc_goaway_received);
    CHECK_EQ_INT(s.app->ep.nconns, 0);
    CHECK_EQ_INT(lc_sim_hooks.shutdown_ran, 1);
    sim_stop(&s);
}

WT_TEST(lifecycle_stop_now_skips_the_grace) {
    sim s;
    uint64_t t0;
    REQUIRE(lc_sim_open(&s) == 0);
    t0 = sim_ms(&s);
    wt_app_stop_now(s.app);
    REQUIRE(lc_sim_run_until_stopped(&s, 20000));
    CHECK(lc_client.closed);
    CHECK_EQ_INT(lc_client.close_error, WT_OK);
    CHECK_EQ_INT(lc_client.close_code, 4242);
    CHECK(strcmp(lc_client.close_reason, "maintenance") == 0);
    CHECK(sim_ms(&s) - t0 < 2000);
    CHECK_EQ_INT(lc_sim_hooks.shutdown_ran, 1);
    /* stop_now during a graceful stop cuts the grace short */
    sim_stop(&s);
    REQUIRE(lc_sim_open(&s) == 0);
    t0 = sim_ms(&s);
    wt_app_stop(s.app);
    sim_run(&s, &lc_client.draining, 2000);
    CHECK(lc_client.draining && !lc_client.closed);
    wt_app_stop_now(s.app);
    REQUIRE(lc_sim_run_until_stopped(&s, 20000));
    CHECK(lc_client.closed);
    CHECK_EQ_INT(lc_client.close_code, 4242);
    CHECK(sim_ms(&s) - t0 < 3000);
    sim_stop(&s);
}

/* ---------------------------------------------------------------- signals */
typedef struct lc_sig {
    wt_app *app;
    pthread_t main_thread;
    atomic_int started, client_open, client_draining, returned, fallback, second;
    int with_client;
} lc_sig;

static lc_sig lc_sg;

static int lc_sig_startup(wt_app *app, void *user) {
    (void)app, (void)user;
    atomic_store(&lc_sg.started, 1);
    return WT_OK;
}

static void lc_sig_client(wt_event *ev) {
    if (ev->type == WT_EV_SESSION_OPEN) atomic_store(&lc_sg.client_open, 1);
    if (ev->type == WT_EV_SESSION_DRAINING) atomic_store(&lc_sg.client_draining, 1);
    if (ev->type == WT_EV_SESSION_CLOSED) {
        lc_client.closed = 1;
        lc_client.close_code = ev->code;
        lc_client.close_error = ev->error;
    }
}

static void lc_on_usr2(int sig) { (void)sig; }

static int lc_wait_flag(atomic_int *f, uint64_t ms) {
    uint64_t end = lc_wall_ms() + ms;
    while (!atomic_load(f) && lc_wall_ms() < end) usleep(1000);
    return atomic_load(f);
}

/* From another thread: the signal handler runs here, not on the thread in
   poll(), so only the wakeup descriptor can end that poll. If nothing
   does within the deadline, stop the app and interrupt poll() another way,
   so the test fails instead of hanging. */
static void *lc_sig_thread(void *arg) {
    (void)arg;
    if (!lc_wait_flag(&lc_sg.started, 5000)) goto fallback;
    if (lc_sg.with_client) {
        if (!lc_wait_flag(&lc_sg.client_open, 5000)) goto fallback;
    } else {
        usleep(50000); /* not a wait for a condition: time to sit down in poll(-1) */
    }
    raise(SIGTERM);
    if (lc_sg.with_client) {
        if (!lc_wait_flag(&lc_sg.client_draining, 5000)) goto fallback;
        atomic_store(&lc_sg.second, 1);
        raise(SIGTERM); /* the second: at once, not after the 30 s of grace */
    }
    if (lc_wait_flag(&lc_sg.returned, 5000)) return NULL;
fallback:
    atomic_store(&lc_sg.fallback, 1);
    wt_app_stop_now(lc_sg.app);
    while (!atomic_load(&lc_sg.returned)) {
        pthread_kill(lc_sg.main_thread, SIGUSR2);
        usleep(10000);
    }
    return NULL;
}

static void lc_signal_run(int with_client) {
    wt_app_config ac;
    wt_client_config cc;
    wt_client *client = NULL;
    struct sigaction sa, old_usr2;
    pthread_t th;
    uint64_t t0;
    int rv;
    REQUIRE(harness_cert() == 0);
    memset(&lc_sg, 0, sizeof lc_sg);
    memset(&lc_client, 0, sizeof lc_client);
    lc_sg.with_client = with_client;
    lc_sg.main_thread = pthread_self();
    lc_app_config(&ac);
    ac.stop_on_signals = 1;
    ac.shutdown_code = 99;
    ac.shutdown_grace_ms = 30000;
    lc_sg.app = wt_app_create(&ac);
    REQUIRE(lc_sg.app != NULL);
    REQUIRE(wt_app_route(lc_sg.app, "/", lc_noop_handler, NULL) == WT_OK);
    REQUIRE(wt_app_on_startup(lc_sg.app, lc_sig_startup, NULL) == WT_OK);
    if (with_client) {
        char url[64];
        /* bound now so the client knows the port; wt_app_run starts no more */
        REQUIRE(wt_app_start(lc_sg.app) == WT_OK);
        memset(&cc, 0, sizeof cc);
        cc.cert_sha256 = harness_pin;
        cc.loop = wt_app_loop(lc_sg.app);
        cc.log = ac.log;
        client = wt_client_create(&cc);
        REQUIRE(client != NULL);
        snprintf(url, sizeof url, "https://127.0.0.1:%d/", wt_app_port(lc_sg.app));
        REQUIRE(wt_client_connect(client, url, lc_sig_client, NULL, NULL) == WT_OK);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = lc_on_usr2; /* no SA_RESTART: interrupts poll() */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, &old_usr2);
    harness_log_match = with_client ? "SIGTERM again: stopping now" : "SIGTERM: stopping gracefully";
    harness_log_hits = 0;
    REQUIRE(pthread_create(&th, NULL, lc_sig_thread, NULL) == 0);
    t0 = lc_wall_ms();
    rv = wt_app_run(lc_sg.app);
    atomic_store(&lc_sg.returned, 1);
    pthread_join(th, NULL);
    sigaction(SIGUSR2, &old_usr2, NULL);
    CHECK_EQ_INT(rv, WT_OK);
    CHECK(!atomic_load(&lc_sg.fallback));
    CHECK(lc_wall_ms() - t0 < 10000);
    CHECK_EQ_INT(harness_log_hits, 1);
    harness_log_match = NULL;
    CHECK(wt_app_stopped(lc_sg.app));
    if (with_client) {
        CHECK(atomic_load(&lc_sg.second));
        CHECK(lc_client.closed);
        CHECK_EQ_INT(lc_client.close_error, WT_OK);
        CHECK_EQ_INT(lc_client.close_code, 99);
        wt_client_destroy(client);
    }
    wt_app_destroy(lc_sg.app);
}

WT_TEST(lifecycle_sigterm_while_in_poll_stops_run) { lc_signal_run(0); }

WT_TEST(lifecycle_second_sigterm_stops_now) { lc_signal_run(1); }

/* ---------------------------------------------------------------- other threads */
#define LC_THREADS 4
#define LC_POSTS 1000

typedef struct lc_post_item {
    int thread, seq;
} lc_post_item;

static struct {
    wt_loop *loop;
    pthread_t loop_thread;
    lc_post_item items[LC_THREADS][LC_POSTS];
    int runs[LC_THREADS][LC_POSTS];
    int next[LC_THREADS];
    int total, out_of_order, off_thread, post_errors;
} lc_p;

static void lc_post_fn(wt_loop *loop, void *user) {
    lc_post_item *it = (lc_post_item *)user;
    if (loop != lc_p.loop || !pthread_equal(pthread_self(), lc_p.loop_thread)) lc_p.off_thread++;
    if (it->seq != lc_p.next[it->thread]) lc_p.out_of_order++;
    lc_p.next[it->thread] = it->seq + 1;
    lc_p.runs[it->thread][it->seq]++;
    lc_p.total++;
}

static void *lc_post_thread(void *arg) {
    int t = (int)(intptr_t)arg, i;
    for (i = 0; i < LC_POSTS; i++) {
        lc_p.items[t][i].thread = t;
        lc_p.items[t][i].seq = i;
        if (wt_loop_post(lc_p.loop, lc_post_fn, &lc_p.items[t][i]) != WT_OK) lc_p.post_errors++;
    }
    return NULL;
}

WT_TEST(lifecycle_loop_post_from_four_threads) {
    wt_loop_config lc;
    pthread_t th[LC_THREADS];
    uint64_t end;
    int t, i, once = 1;
    memset(&lc_p, 0, sizeof lc_p);
    memset(&lc, 0, sizeof lc);
    lc.log.fn = harness_quiet_log;
    lc_p.loop = wt_loop_create(&lc);
    REQUIRE(lc_p.loop != NULL);
    lc_p.loop_thread = pthread_self();
    for (t = 0; t < LC_THREADS; t++) REQUIRE(pthread_create(&th[t], NULL, lc_post_thread, (void *)(intptr_t)t) == 0);
    /* the loop sleeps in poll(-1) between posts: only their wakeups end it */
    end = lc_wall_ms() + HARNESS_DEADLINE_MS;
    while (lc_p.total < LC_THREADS * LC_POSTS && lc_wall_ms() < end) wt_loop_run_once(lc_p.loop, 100);
    for (t = 0; t < LC_THREADS; t++) pthread_join(th[t], NULL);
    CHECK_EQ_INT(lc_p.post_errors, 0);
    CHECK_EQ_INT(lc_p.total, LC_THREADS * LC_POSTS);
    CHECK_EQ_INT(lc_p.out_of_order, 0);
    CHECK_EQ_INT(lc_p.off_thread, 0);
    for (t = 0; t < LC_THREADS; t++)
        for (i = 0; i < LC_POSTS; i++) once &= lc_p.runs[t][i] == 1;
    CHECK(once);
    /* posts never run at destroy: dropped, and the log says so */
    {
        int ran = 0;
        REQUIRE(wt_loop_post(lc_p.loop, harness_set_flag, &ran) == WT_OK);
        REQUIRE(wt_loop_post(lc_p.loop, harness_set_flag, &ran) == WT_OK);
        CHECK_EQ_INT(wt_loop_timeout(lc_p.loop), 0); /* work is waiting */
        harness_log_match = "2 wt_loop_post function(s) not run";
        harness_log_hits = 0;
        wt_loop_destroy(lc_p.loop);
        CHECK_EQ_INT(harness_log_hits, 1);
        harness_log_match = NULL;
        CHECK(!ran);
    }
}

/* 1 if fd has something to read now, 0 if not */
static int lc_readable(int fd) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN) ? 1 : 0;
}

static void *lc_wakeup_thread(void *arg) {
    usleep(50000); /* let the main thread sit down in poll(-1) */
    wt_loop_wakeup((wt_loop *)arg);
    return NULL;
}

WT_TEST(lifecycle_wakeup_unblocks_run_once) {
    wt_loop_config lc;
    wt_loop *loop;
    pthread_t th;
    int fds[4], n, fired = 0;
    int64_t safety;
    uint64_t t0;
    memset(&lc, 0, sizeof lc);
    lc.log.fn = harness_quiet_log;
    loop = wt_loop_create(&lc);
    REQUIRE(loop != NULL);
    /* an embedder sees the wakeup descriptor */
    n = wt_loop_pollfds(loop, fds, NULL, 4);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(wt_loop_timeout(loop), -1);
    /* a wakeup from this thread: timeout 0, the descriptor readable, and
       one process clears both */
    CHECK_EQ_INT(lc_readable(fds[0]), 0);
    wt_loop_wakeup(loop);
    CHECK_EQ_INT(wt_loop_timeout(loop), 0);
    CHECK_EQ_INT(lc_readable(fds[0]), 1);
    CHECK_EQ_INT(wt_loop_process(loop), WT_OK);
    CHECK_EQ_INT(wt_loop_timeout(loop), -1);
    CHECK_EQ_INT(lc_readable(fds[0]), 0); /* drained: an embedder's poll does not spin */
    /* from another thread while run_once(-1) waits: the safety timer
       (10 s) would end the wait if the wakeup did not */
    safety = wt_loop_timer(loop, 10000, harness_set_flag, &fired);
    REQUIRE(safety > 0);
    REQUIRE(pthread_create(&th, NULL, lc_wakeup_thread, loop) == 0);
    t0 = lc_wall_ms();
    CHECK_EQ_INT(wt_loop_run_once(loop, -1), WT_OK);
    CHECK(!fired);
    CHECK(lc_wall_ms() - t0 < 5000);
    pthread_join(th, NULL);
    CHECK_EQ_INT(lc_readable(fds[0]), 0);
    CHECK_EQ_INT(wt_loop_timeout(loop) > 0, 1); /* the safety timer, nothing else */
    wt_loop_timer_cancel(loop, safety);
    wt_loop_destroy(loop);
}
