/* harness.h - a server and a client of wt.h on one loop, over loopback UDP. */
#ifndef WT_HARNESS_H
#define WT_HARNESS_H

typedef struct harness {
    wt_loop *loop;
    wt_app *app;
    wt_client *client;
    char url[128];
    int port;
} harness;

static char harness_crt[128], harness_key[128];
static uint8_t harness_pin[32];

/* Log lines containing harness_log_match are counted in harness_log_hits;
   harness_log_level is the level of the last one. */
static const char *harness_log_match;
static int harness_log_hits;
static wt_log_level harness_log_level;

static void harness_quiet_log(wt_log_level level, const char *msg, void *user) {
    (void)user;
    if (harness_log_match && strstr(msg, harness_log_match)) {
        harness_log_hits++;
        harness_log_level = level;
    }
    if (getenv("WT_TEST_LOG") || level <= WT_LOG_ERROR) fprintf(stderr, "    [%s] %s\n", level <= WT_LOG_ERROR ? "error" : "log", msg);
}

static int harness_cert(void) {
    static int done;
    wt_cert_config cc;
    char dir[64];
    if (done) return 0;
    if (wt_test_tmpdir(dir, sizeof dir) != 0) return -1;
    snprintf(harness_crt, sizeof harness_crt, "%s/c.pem", dir);
    snprintf(harness_key, sizeof harness_key, "%s/k.pem", dir);
    memset(&cc, 0, sizeof cc);
    cc.cert_file = harness_crt;
    cc.key_file = harness_key;
    if (wt_cert_generate(&cc) != WT_OK || wt_cert_sha256(harness_crt, harness_pin) != WT_OK) return -1;
    done = 1;
    return 0;
}

/* The client's dialect and its flow-control test hook for the next
   harness_start (reset to 0 by it: set them right before). */
static wt_dialect harness_client_dialect;
static int harness_client_ignore_limits;
/* The server's allocator for the next harness_start (reset by it). */
static const wt_allocator *harness_server_alloc;
/* The server's QUIC-LB server ID for the next harness_start (reset by it). */
static const uint8_t *harness_server_id;
static size_t harness_server_id_len;

/* Starts a server on a free port of 127.0.0.1 with the given routes and a
   client that pins the server's certificate. */
static int harness_start_ex(harness *h, const wt_limits *server_lim, const wt_limits *client_lim,
                            const wt_allocator *client_alloc) {
    wt_app_config ac;
    wt_client_config cc;
    wt_loop_config lc;
    memset(h, 0, sizeof *h);
    if (harness_cert() != 0) return -1;
    memset(&lc, 0, sizeof lc);
    lc.log.fn = harness_quiet_log;
    lc.log.level = WT_LOG_DEBUG;
    h->loop = wt_loop_create(&lc);
    if (!h->loop) return -1;
    memset(&ac, 0, sizeof ac);
    ac.host = "127.0.0.1";
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = h->loop;
    ac.log = lc.log;
    if (server_lim) ac.limits = *server_lim;
    if (harness_server_alloc) ac.alloc = *harness_server_alloc;
    harness_server_alloc = NULL;
    ac.server_id = harness_server_id;
    ac.server_id_len = harness_server_id_len;
    harness_server_id = NULL;
    harness_server_id_len = 0;
    h->app = wt_app_create(&ac);
    if (!h->app) return -1;
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    cc.loop = h->loop;
    cc.log = lc.log;
    if (client_lim) cc.limits = *client_lim;
    if (client_alloc) cc.alloc = *client_alloc;
    cc.dialect = harness_client_dialect;
    cc.test_ignore_session_limits = harness_client_ignore_limits;
    harness_client_dialect = WT_DIALECT_AUTO;
    harness_client_ignore_limits = 0;
    h->client = wt_client_create(&cc);
    if (!h->client) return -1;
    return 0;
}

/* The config of another client on the harness's loop: it pins the
   harness's certificate and logs quietly. */
static void harness_client_config(harness *h, wt_client_config *cc) {
    memset(cc, 0, sizeof *cc);
    cc->cert_sha256 = harness_pin;
    cc->loop = h->loop;
    cc->log.fn = harness_quiet_log;
    cc->log.level = WT_LOG_DEBUG;
}

static int harness_listen(harness *h) {
    if (wt_app_start(h->app) != WT_OK) return -1;
    h->port = wt_app_port(h->app);
    snprintf(h->url, sizeof h->url, "https://127.0.0.1:%d", h->port);
    return 0;
}

/* Runs the loop until *flag is non-zero or ms pass; returns the flag. */
static int harness_run(harness *h, volatile int *flag, int ms) {
    uint64_t end = wt_loop_now_ms(h->loop) + (uint64_t)ms;
    while (!*flag && wt_loop_now_ms(h->loop) < end) wt_loop_run_once(h->loop, 20);
    return *flag;
}

/* How long a test waits for something that must happen. A wait ends as soon
   as its condition holds, so this is generous: a slow or sanitized run only
   takes longer, it does not fail. */
#define HARNESS_DEADLINE_MS 10000

/* Runs loop until cond holds or ms pass (cond is evaluated between passes). */
#define RUN_UNTIL(loop, cond, ms)                                                      \
    do {                                                                               \
        uint64_t end_ = wt_loop_now_ms(loop) + (uint64_t)(ms);                         \
        while (!(cond) && wt_loop_now_ms(loop) < end_) wt_loop_run_once((loop), 10);   \
    } while (0)

/* Waits for cond, then checks it: a positive check that does not race. */
#define CHECK_SOON(h, cond)                                                            \
    do {                                                                               \
        RUN_UNTIL((h)->loop, cond, HARNESS_DEADLINE_MS);                               \
        CHECK(cond);                                                                   \
    } while (0)
#define REQUIRE_SOON(h, cond)                                                          \
    do {                                                                               \
        RUN_UNTIL((h)->loop, cond, HARNESS_DEADLINE_MS);                               \
        REQUIRE(cond);                                                                 \
    } while (0)

static void harness_set_flag(wt_loop *loop, void *user) {
    (void)loop;
    *(int *)user = 1;
}

/* Runs the loop until its clock is past when_ms and a whole pass (timers,
   then every connection's deadlines) ran after that moment. For the
   negative checks on timers: "by its deadline, nothing closed it". */
static int harness_run_past(harness *h, uint64_t when_ms) {
    int fired = 0;
    uint64_t now = wt_loop_now_ms(h->loop);
    uint32_t ms = when_ms >= now ? (uint32_t)(when_ms - now) + 1 : 0;
    int64_t id = wt_loop_timer(h->loop, ms, harness_set_flag, &fired);
    if (id < 0) return 0;
    if (!harness_run(h, &fired, (int)ms + HARNESS_DEADLINE_MS)) wt_loop_timer_cancel(h->loop, id);
    return fired;
}

/* Closes the client's sessions and lets the server answer first: destroy
   would otherwise wait for acknowledgements from a server that shares its
   (not running) loop. */
static void harness_stop(harness *h) {
    uint64_t end;
    wt__conn *c;
    wt_session *s;
    if (h->client && h->loop) {
        for (c = h->client->ep.conns; c; c = c->next)
            for (s = c->wt.sessions; s; s = s->next)
                if (s->state == WT__SESS_OPEN) wt_session_close(s, 0, NULL);
        end = wt_loop_now_ms(h->loop) + 1000;
        while (wt_loop_now_ms(h->loop) < end) {
            int busy = 0;
            for (c = h->client->ep.conns; c; c = c->next)
                for (s = c->wt.sessions; s; s = s->next) busy |= s->state != WT__SESS_CLOSED || !s->connect_closed;
            if (!busy) break;
            wt_loop_run_once(h->loop, 10);
        }
    }
    wt_client_destroy(h->client);
    wt_app_destroy(h->app);
    wt_loop_destroy(h->loop);
}
#endif
