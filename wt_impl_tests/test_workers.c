/* test_workers.c - an app with several workers (wt_app_config.workers):
   sessions spread over them, a client whose source port changes stays on
   its worker, hooks once, summed statistics, wt_app_post / _post_all.
   Real sockets on loopback; worker 0 runs on the test's loop (cfg.loop)
   beside the clients, the other workers on the app's threads, so what the
   server's handlers record is shared across threads (atomics, a mutex). */
#include "harness.h"

#include <poll.h>
#include <pthread.h>

#define WK_WORKERS 2
#define WK_CLIENTS 16

typedef struct wk_srv {
    wt_app *app;
    atomic_int opened, closed;
    atomic_int per_worker[WK_WORKERS];
    atomic_int bad_worker;        /* a handler ran on another worker than its session's */
    atomic_int startups, shutdowns;
    atomic_int shutdown_saw_live; /* a shutdown hook ran while a worker thread still ran */
    atomic_int echoes;
    int port;                     /* wt_app_port as a startup hook saw it */
    pthread_mutex_t mu;           /* guards the fields below */
    uint64_t last_id;
    int last_worker;
    char last_remote[64];
} wk_srv;

/* The server's handler: counts sessions per worker, echoes stream data
   (remembering which worker and which client address it came from). */
static void wk_srv_handler(wt_event *ev) {
    wk_srv *a = (wk_srv *)ev->user;
    wt_session *s = ev->session;
    int w = wt_session_worker(s);
    if (w != wt_app_current_worker(a->app) || w < 0 || w >= WK_WORKERS ||
        (int)((wt_session_id(s) - 1) % WK_WORKERS) != w)
        a->bad_worker++;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        a->opened++;
        if (w >= 0 && w < WK_WORKERS) a->per_worker[w]++;
        break;
    case WT_EV_SESSION_CLOSED: a->closed++; break;
    case WT_EV_STREAM_DATA:
        if (ev->len) {
            pthread_mutex_lock(&a->mu);
            a->last_id = wt_session_id(s);
            a->last_worker = w;
            wt_session_remote_addr(s, a->last_remote, sizeof a->last_remote);
            pthread_mutex_unlock(&a->mu);
            a->echoes++;
            wt_stream_write(ev->stream, ev->data, ev->len);
        }
        break;
    default: break;
    }
}

static int wk_startup(wt_app *app, void *user) {
    (void)app;
    ((wk_srv *)user)->startups++;
    return WT_OK;
}

static int wk_shutdown(wt_app *app, void *user) {
    wk_srv *a = (wk_srv *)user;
    int i;
    /* every worker thread has been joined by now */
    for (i = 1; i < WK_WORKERS; i++)
        if (app->w[i].joinable) a->shutdown_saw_live++;
    a->shutdowns++;
    return WT_OK;
}

/* What a client session saw: opened, closed, and bytes echoed back. */
typedef struct wk_cli {
    wt_session *s;
    wt_stream *st;
    int open, closed;
    char got[64];
    size_t got_len;
    int uni_data;                 /* a stream the server opened (wt_app_post) brought data */
} wk_cli;

static void wk_cli_handler(wt_event *ev) {
    wk_cli *c = (wk_cli *)ev->user;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN: c->open = 1; break;
    case WT_EV_SESSION_CLOSED:
        c->closed = 1;
        c->s = NULL;
        break;
    case WT_EV_STREAM_DATA:
        if (ev->stream == c->st) {
            size_t n = WT__MIN(ev->len, sizeof c->got - c->got_len);
            memcpy(c->got + c->got_len, ev->data, n);
            c->got_len += n;
        } else if (ev->len) {
            c->uni_data = 1;
        }
        break;
    case WT_EV_STREAM_CLOSED:
        if (ev->stream == c->st) c->st = NULL;
        break;
    default: break;
    }
}

static int wk_all_open(const wk_cli *c, int n) {
    int i;
    for (i = 0; i < n; i++)
        if (!c[i].open) return 0;
    return 1;
}

/* The app: WK_WORKERS workers, worker 0 on the harness loop. */
static wt_app *wk_app(harness *h, wk_srv *a, int workers) {
    wt_app_config ac;
    memset(&ac, 0, sizeof ac);
    ac.host = "127.0.0.1";
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = h->loop;
    ac.log.fn = harness_quiet_log;
    ac.log.level = WT_LOG_DEBUG;
    ac.workers = workers;
    ac.shutdown_grace_ms = 200;
    ac.limits.max_half_open_per_ip = 64; /* every client is 127.0.0.1, all at once */
    ac.workers_stats_ms = 20;            /* the sums catch up sooner */
    a->app = wt_app_create(&ac);
    if (!a->app) return NULL;
    if (wt_app_route(a->app, "/echo", wk_srv_handler, a) != WT_OK ||
        wt_app_on_startup(a->app, wk_startup, a) != WT_OK || wt_app_on_shutdown(a->app, wk_shutdown, a) != WT_OK) {
        wt_app_destroy(a->app);
        return a->app = NULL;
    }
    return a->app;
}

/* A harness loop with no app of its own: the test makes one with workers. */
static int wk_start(harness *h, wk_srv *a) {
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
    if (harness_start_ex(h, NULL, NULL, NULL) != 0) return -1;
    wt_app_destroy(h->app);
    h->app = wk_app(h, a, WK_WORKERS);
    return h->app ? 0 : -1;
}

/* Writes msg on the client's echo stream (opened the first time) and waits
   for it to come back; 1 when it did. */
static int wk_echo(harness *h, wk_cli *c, const char *msg) {
    size_t n = strlen(msg);
    c->got_len = 0;
    if (!c->st && wt_session_open_stream(c->s, 1, &c->st) != WT_OK) return 0;
    if (wt_stream_write(c->st, msg, n) != (int)n) return 0;
    RUN_UNTIL(h->loop, c->got_len >= n || c->closed, HARNESS_DEADLINE_MS);
    return c->got_len == n && !memcmp(c->got, msg, n);
}

/* Stops the app (worker 0 runs on this loop: drive it until stopped). */
static void wk_stop(harness *h, wk_srv *a) {
    wt_app_stop(a->app);
    RUN_UNTIL(h->loop, wt_app_stopped(a->app), HARNESS_DEADLINE_MS);
}

/* ---------------------------------------------------------------- posts */
typedef struct wk_post {
    wk_srv *srv;
    atomic_int ran, got_session, on_worker, opened_stream;
    atomic_int null_ran;
    atomic_int all_mask, all_count;
} wk_post;

static void wk_post_fn(wt_session *s, void *user) {
    wk_post *p = (wk_post *)user;
    wt_stream *st;
    if (s) {
        p->got_session++;
        p->on_worker = wt_session_worker(s) == wt_app_current_worker(p->srv->app) ? 1 : -1;
        /* reach the client from the session's own worker */
        if (wt_session_open_stream(s, 0, &st) == WT_OK && wt_stream_write_all(st, "posted", 6, 1) == WT_OK)
            p->opened_stream++;
    }
    p->ran++;
}

static void wk_post_null_fn(wt_session *s, void *user) {
    wk_post *p = (wk_post *)user;
    if (!s) p->null_ran++;
}

static void wk_post_all_fn(wt_loop *loop, void *user) {
    wk_post *p = (wk_post *)user;
    int w = wt_app_current_worker(p->srv->app);
    (void)loop;
    if (w >= 0) atomic_fetch_or(&p->all_mask, 1 << w);
    p->all_count++;
}

/* ---------------------------------------------------------------- tests */
WT_TEST(workers_spread_hooks_stats_and_posts) {
    harness h;
    wk_srv a;
    wk_cli c[WK_CLIENTS];
    wt_client *cl[WK_CLIENTS];
    wk_post p;
    wt_stats st;
    int i, worker1 = -1, all_echo = 1;
    memset(c, 0, sizeof c);
    memset(cl, 0, sizeof cl);
    memset(&p, 0, sizeof p);
    REQUIRE(wk_start(&h, &a) == 0);
    CHECK_EQ_INT(wt_app_workers(a.app), WK_WORKERS);
    CHECK_EQ_INT(a.startups, 0);
    REQUIRE(harness_listen(&h) == 0);
    /* the startup hooks ran once, before the workers started */
    CHECK_EQ_INT(a.startups, 1);
    CHECK_EQ_INT(wt_app_current_worker(a.app), 0); /* this thread runs worker 0 */
    /* routes are read by every worker: they are fixed once started */
    CHECK_EQ_INT(wt_app_route(a.app, "/late", wk_srv_handler, &a), WT_ERR_STATE);
    /* many clients, each its own socket (source port): the kernel's hash
       spreads their first packets over the workers */
    for (i = 0; i < WK_CLIENTS; i++) {
        wt_client_config cc;
        char url[160];
        harness_client_config(&h, &cc);
        REQUIRE((cl[i] = wt_client_create(&cc)) != NULL);
        snprintf(url, sizeof url, "%s/echo", h.url);
        REQUIRE(wt_client_connect(cl[i], url, wk_cli_handler, &c[i], &c[i].s) == WT_OK);
    }
    RUN_UNTIL(h.loop, a.opened == WK_CLIENTS && wk_all_open(c, WK_CLIENTS), HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(a.opened, WK_CLIENTS);
    for (i = 0; i < WK_CLIENTS; i++) CHECK(c[i].open);
    for (i = 0; i < WK_WORKERS; i++) CHECK(a.per_worker[i] > 0); /* each worker got some */
    CHECK_EQ_INT(a.per_worker[0] + a.per_worker[1], WK_CLIENTS);
    /* every session echoes, on its worker */
    for (i = 0; i < WK_CLIENTS; i++) all_echo &= wk_echo(&h, &c[i], "hello");
    CHECK(all_echo);
    CHECK_EQ_INT(a.bad_worker, 0);
    CHECK_EQ_INT(a.echoes, WK_CLIENTS);
    /* the sums: the other worker's figures are published by its thread (a
       read asks for a fresh copy): wait until they add up */
    {
        uint64_t end = wt_loop_now_ms(h.loop) + HARNESS_DEADLINE_MS;
        do {
            wt_loop_run_once(h.loop, 10);
            wt_app_stats(a.app, &st);
        } while ((st.sessions_opened != WK_CLIENTS || st.streams_opened != WK_CLIENTS ||
                  st.connections != WK_CLIENTS || wt_app_session_count(a.app) != WK_CLIENTS) &&
                 wt_loop_now_ms(h.loop) < end);
        CHECK_EQ_INT(st.sessions_opened, WK_CLIENTS);
        CHECK_EQ_INT(st.connections, WK_CLIENTS);
        CHECK_EQ_INT(st.streams_opened, WK_CLIENTS);
        CHECK(st.bytes_received > 0 && st.packets_sent > 0);
        CHECK_EQ_INT(wt_app_session_count(a.app), WK_CLIENTS);
    }
    /* wt_app_post reaches a session that worker 1 owns, on worker 1's thread */
    p.srv = &a;
    {
        /* a session of worker 1's: echo on each client until worker 1 serves one */
        for (i = 0; i < WK_CLIENTS && worker1 < 0; i++) {
            CHECK(wk_echo(&h, &c[i], "who"));
            pthread_mutex_lock(&a.mu);
            if (a.last_worker == 1) worker1 = i;
            pthread_mutex_unlock(&a.mu);
        }
        REQUIRE(worker1 >= 0);
        REQUIRE(wt_app_post(a.app, a.last_id, wk_post_fn, &p) == WT_OK);
        RUN_UNTIL(h.loop, p.ran && c[worker1].uni_data, HARNESS_DEADLINE_MS);
        CHECK_EQ_INT(p.ran, 1);
        CHECK_EQ_INT(p.got_session, 1);
        CHECK_EQ_INT(p.on_worker, 1);
        CHECK_EQ_INT(p.opened_stream, 1);
        CHECK(c[worker1].uni_data); /* the client got it */
        for (i = 0; i < WK_CLIENTS; i++) CHECK(i == worker1 || !c[i].uni_data);
        /* an ID no session has (any more): fn still runs, with NULL */
        REQUIRE(wt_app_post(a.app, a.last_id + 1000 * WK_WORKERS, wk_post_null_fn, &p) == WT_OK);
        RUN_UNTIL(h.loop, p.null_ran, HARNESS_DEADLINE_MS);
        CHECK_EQ_INT(p.null_ran, 1);
        CHECK_EQ_INT(wt_app_post(a.app, 0, wk_post_null_fn, &p), WT_ERR_INVALID);
        /* wt_app_resume belongs on the session's worker: not from here */
        CHECK_EQ_INT(wt_app_resume(a.app, a.last_id, 0), WT_ERR_STATE);
    }
    /* post_all: once on every worker */
    REQUIRE(wt_app_post_all(a.app, wk_post_all_fn, &p) == WT_OK);
    RUN_UNTIL(h.loop, p.all_count == WK_WORKERS, HARNESS_DEADLINE_MS);
    CHECK_EQ_INT(p.all_count, WK_WORKERS);
    CHECK_EQ_INT(p.all_mask, (1 << WK_WORKERS) - 1);
    /* the stop: every worker drains and closes its sessions, then the
       shutdown hooks run once, after the worker threads are done */
    wk_stop(&h, &a);
    CHECK(wt_app_stopped(a.app));
    CHECK_EQ_INT(a.shutdowns, 1);
    CHECK_EQ_INT(a.shutdown_saw_live, 0);
    CHECK_EQ_INT(a.closed, WK_CLIENTS);
    RUN_UNTIL(h.loop, c[WK_CLIENTS - 1].closed, HARNESS_DEADLINE_MS);
    for (i = 0; i < WK_CLIENTS; i++) CHECK(c[i].closed);
    /* after the stop the sums are read directly: still all there */
    wt_app_stats(a.app, &st);
    CHECK_EQ_INT(st.sessions_opened, WK_CLIENTS);
    CHECK_EQ_INT(st.sessions_closed, WK_CLIENTS);
    CHECK_EQ_INT(st.connections, 0);
    CHECK_EQ_INT(a.startups, 1);
    for (i = 0; i < WK_CLIENTS; i++) wt_client_destroy(cl[i]);
    harness_stop(&h);
    CHECK_EQ_INT(a.shutdowns, 1);
    pthread_mutex_destroy(&a.mu);
}

/* Whether this system attaches a classic BPF program to a reuseport group
   (Linux 4.5 on; qemu-user does not translate the option): the steering
   tests need it, and skip with a line where it is missing. */
static int wk_cbpf_available(void) {
#if defined(__linux__) && defined(SO_ATTACH_REUSEPORT_CBPF)
    struct sock_filter code[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
    struct sock_fprog prog;
    int one = 1, ok, fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return 0;
    prog.len = 1;
    prog.filter = code;
    ok = setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0 &&
         setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) == 0;
    if (!ok) printf("    skipped: SO_ATTACH_REUSEPORT_CBPF refused here (%s): no steering to test\n", strerror(errno));
    close(fd);
    return ok;
#else
    printf("    skipped: no SO_ATTACH_REUSEPORT_CBPF on this system: no steering to test\n");
    return 0;
#endif
}

/* ---------------------------------------------------------------- NAT rebinding */
/* A UDP relay on its own thread standing for a NAT: the client talks to
   its front socket; it forwards to the server from a back socket, and on
   request swaps that for a new one (a new source port, as when a NAT
   forgets a mapping). */
typedef struct wk_relay {
    int front, back;
    struct sockaddr_in server, client;
    int have_client;
    atomic_int rebind, rebinds, stop;
    atomic_int back_port;
    int front_port;
    pthread_t th;
} wk_relay;

static int wk_udp_socket(int *port) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void *wk_relay_main(void *arg) {
    wk_relay *r = (wk_relay *)arg;
    uint8_t buf[65536];
    while (!r->stop) {
        struct pollfd pf[2];
        if (r->rebind) {
            int port, fd = wk_udp_socket(&port);
            if (fd >= 0) {
                close(r->back);
                r->back = fd;
                r->back_port = port;
            }
            r->rebind = 0;
            r->rebinds++;
        }
        pf[0].fd = r->front;
        pf[1].fd = r->back;
        pf[0].events = pf[1].events = POLLIN;
        if (poll(pf, 2, 10) <= 0) continue;
        if (pf[0].revents & POLLIN) {
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(r->front, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (n > 0) {
                r->client = from;
                r->have_client = 1;
                sendto(r->back, buf, (size_t)n, 0, (struct sockaddr *)&r->server, sizeof r->server);
            }
        }
        if (pf[1].revents & POLLIN) {
            ssize_t n = recv(r->back, buf, sizeof buf, 0);
            if (n > 0 && r->have_client)
                sendto(r->front, buf, (size_t)n, 0, (struct sockaddr *)&r->client, sizeof r->client);
        }
    }
    return NULL;
}

static int wk_relay_start(wk_relay *r, int server_port) {
    int port;
    memset(r, 0, sizeof *r);
    r->server.sin_family = AF_INET;
    r->server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->server.sin_port = htons((uint16_t)server_port);
    if ((r->front = wk_udp_socket(&r->front_port)) < 0) return -1;
    if ((r->back = wk_udp_socket(&port)) < 0) return -1;
    r->back_port = port;
    return pthread_create(&r->th, NULL, wk_relay_main, r) == 0 ? 0 : -1;
}

static void wk_relay_stop(wk_relay *r) {
    r->stop = 1;
    pthread_join(r->th, NULL);
    close(r->front);
    close(r->back);
}

WT_TEST(workers_client_port_change_stays_on_its_worker) {
    harness h;
    wk_srv a;
    wk_relay r;
    wk_cli c;
    char url[160], remote[64], port_str[16];
    uint64_t id;
    int worker, i, rebinds = 6, tries = 0;
    memset(&c, 0, sizeof c);
    if (!wk_cbpf_available()) return;
    REQUIRE(wk_start(&h, &a) == 0);
    REQUIRE(harness_listen(&h) == 0);
    REQUIRE(wk_relay_start(&r, h.port) == 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/echo", r.front_port);
    REQUIRE(wt_client_connect(h.client, url, wk_cli_handler, &c, &c.s) == WT_OK);
    REQUIRE_SOON(&h, c.open);
    REQUIRE(wk_echo(&h, &c, "before"));
    pthread_mutex_lock(&a.mu);
    id = a.last_id;
    worker = a.last_worker;
    pthread_mutex_unlock(&a.mu);
    /* each new source port hashes to a random worker: without steering by
       the connection ID, half the changes would land on a worker that does
       not know the connection (a stateless reset ends it) */
    for (i = 0; i < rebinds; i++) {
        char msg[32];
        int before = r.rebinds;
        r.rebind = 1;
        RUN_UNTIL(h.loop, r.rebinds > before, HARNESS_DEADLINE_MS);
        REQUIRE(r.rebinds > before);
        snprintf(msg, sizeof msg, "after %d", i);
        CHECK(wk_echo(&h, &c, msg));
        /* the server takes the new address once it has validated the path:
           echo until it names the new port (each echo: the same session on
           the same worker) */
        snprintf(port_str, sizeof port_str, ":%d", (int)r.back_port);
        for (;;) {
            pthread_mutex_lock(&a.mu);
            CHECK_EQ_INT(a.last_id, id);
            CHECK_EQ_INT(a.last_worker, worker);
            snprintf(remote, sizeof remote, "%s", a.last_remote);
            pthread_mutex_unlock(&a.mu);
            if (strstr(remote, port_str) || ++tries > 100 || c.closed) break;
            if (!wk_echo(&h, &c, "again")) break;
        }
        CHECK(strstr(remote, port_str) != NULL);
        if (!strstr(remote, port_str)) printf("    remote %s, relay's port %s\n", remote, port_str);
    }
    CHECK(!c.closed);
    CHECK_EQ_INT(a.closed, 0);
    CHECK_EQ_INT(a.opened, 1);
    CHECK_EQ_INT(a.bad_worker, 0);
    wk_stop(&h, &a);
    CHECK(wt_app_stopped(a.app));
    CHECK_EQ_INT(a.shutdowns, 1);
    harness_stop(&h);
    wk_relay_stop(&r);
    pthread_mutex_destroy(&a.mu);
}

/* The steering program, run by the kernel: a datagram that names worker
   w in its connection ID reaches socket w of the group whatever its
   source; one that names none (a client's first Initial) goes by the
   kernel's hash. Checked on a reuseport group of the test's own, with
   hand-made datagrams from many source ports. */
static int wk_group_socket(int *port) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)*port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* Sends pkt from a new socket (a new source port); returns which of the
   group's sockets got it (-1: none within the deadline). */
static int wk_steered_to(const int *grp, int n, int port, const uint8_t *pkt, size_t len) {
    struct sockaddr_in to;
    int from_port = 0, fd = wk_udp_socket(&from_port), i, got = -1;
    uint8_t buf[2048];
    struct timespec t0, t1;
    if (fd < 0) return -1;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons((uint16_t)port);
    sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof to);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (i = 0; i < n && got < 0; i++)
            if (recv(grp[i], buf, sizeof buf, 0) == (ssize_t)len) got = i;
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while (got < 0 && (t1.tv_sec - t0.tv_sec) * 1000 < HARNESS_DEADLINE_MS);
    close(fd);
    return got;
}

WT_TEST(workers_steering_program_reads_the_worker_byte) {
    wt_app_config ac;
    wt_app *app;
    static const uint8_t sid[2] = {0xab, 0xcd};
    int grp[3], port = 0, i, k, hashed[3] = {0, 0, 0};
    uint8_t pkt[64];
    if (!wk_cbpf_available()) return;
    memset(&ac, 0, sizeof ac);
    ac.dev_cert = 1;
    ac.log.fn = harness_quiet_log;
    ac.workers = 3;
    ac.server_id = sid;
    ac.server_id_len = 2; /* the worker byte moves to 1 + 2 */
    REQUIRE((app = wt_app_create(&ac)) != NULL);
    REQUIRE(app->w[0].ep->cid_len == 16);
    for (i = 0; i < 3; i++) REQUIRE((grp[i] = wk_group_socket(&port)) >= 0);
    REQUIRE(wt__app_steer(app, grp[0]) == WT_OK);
    for (k = 0; k < 3; k++)
        for (i = 0; i < 4; i++) {
            uint8_t cid[16];
            REQUIRE(wt__cid_make(app->w[k].ep, cid, sizeof cid) == 0);
            /* short header: 0x40, then the DCID */
            memset(pkt, 0x55, sizeof pkt);
            pkt[0] = 0x40;
            memcpy(pkt + 1, cid, sizeof cid);
            CHECK_EQ_INT(wk_steered_to(grp, 3, port, pkt, sizeof pkt), k);
            /* long header (Handshake, say): 0xe0, version, DCID length 16, DCID */
            memset(pkt, 0x55, sizeof pkt);
            pkt[0] = 0xe0;
            pkt[1] = 0, pkt[2] = 0, pkt[3] = 0, pkt[4] = 1;
            pkt[5] = 16;
            memcpy(pkt + 6, cid, sizeof cid);
            CHECK_EQ_INT(wk_steered_to(grp, 3, port, pkt, sizeof pkt), k);
        }
    /* a client's first Initial names no worker (its DCID is its own, of
       another length): the kernel's hash of the 4-tuple, which spreads */
    for (i = 0; i < 60; i++) {
        int to;
        memset(pkt, 0, sizeof pkt);
        pkt[0] = 0xc0;
        pkt[4] = 1;
        pkt[5] = 8;
        pkt[6 + 3] = 0x01; /* would say worker 1 at a 16-byte CID's offset */
        to = wk_steered_to(grp, 3, port, pkt, sizeof pkt);
        CHECK(to >= 0);
        if (to >= 0) hashed[to]++;
    }
    CHECK(hashed[0] > 0 && hashed[1] > 0 && hashed[2] > 0);
    for (i = 0; i < 3; i++) close(grp[i]);
    wt_app_destroy(app);
}

WT_TEST(workers_config_checks) {
    wt_app_config ac;
    wt_app *app;
    memset(&ac, 0, sizeof ac);
    ac.dev_cert = 1;
    ac.log.fn = harness_quiet_log;
    ac.workers = -1;
    CHECK(wt_app_create(&ac) == NULL);
    ac.workers = WT_WORKERS_MAX + 1;
    CHECK(wt_app_create(&ac) == NULL);
    /* sans-I/O has no sockets to share */
    ac.workers = 2;
    ac.io.send = (int (*)(void *, const void *, size_t, const void *, size_t, const uint8_t *, size_t, size_t))1;
    ac.port = 4433;
    CHECK(wt_app_create(&ac) == NULL);
    memset(&ac.io, 0, sizeof ac.io);
    /* the positive side: 1 and 0 are one worker, WT_WORKERS_MAX is fine */
    ac.workers = 1;
    REQUIRE((app = wt_app_create(&ac)) != NULL);
    CHECK_EQ_INT(wt_app_workers(app), 1);
    CHECK_EQ_INT(wt_app_current_worker(app), 0);
    wt_app_destroy(app);
    ac.workers = 3;
    REQUIRE((app = wt_app_create(&ac)) != NULL);
    CHECK_EQ_INT(wt_app_workers(app), 3);
    CHECK_EQ_INT(wt_app_current_worker(app), -1); /* not started: no thread runs one */
    CHECK_EQ_INT(wt_app_route(app, "/x", wk_srv_handler, NULL), WT_OK); /* before the start: fine */
    wt_app_destroy(app); /* never started: no threads to join */
}

/* ---------------------------------------------------------------- run and destroy */
typedef struct wk_runner {
    wt_app *app;
    pthread_t th;
    int rv;
} wk_runner;

static void *wk_run_main(void *arg) {
    wk_runner *r = (wk_runner *)arg;
    r->rv = wt_app_run(r->app);
    return NULL;
}

/* Opens n sessions on their own clients, waits for them and their echoes. */
static int wk_open_all(harness *h, int port, wt_client **cl, wk_cli *c, int n) {
    char url[160];
    int i, ok = 1;
    snprintf(url, sizeof url, "https://127.0.0.1:%d/echo", port);
    for (i = 0; i < n; i++) {
        wt_client_config cc;
        harness_client_config(h, &cc);
        if (!(cl[i] = wt_client_create(&cc)) || wt_client_connect(cl[i], url, wk_cli_handler, &c[i], &c[i].s) != WT_OK)
            return 0;
    }
    RUN_UNTIL(h->loop, wk_all_open(c, n), HARNESS_DEADLINE_MS);
    for (i = 0; i < n; i++) ok &= c[i].open && wk_echo(h, &c[i], "hi");
    return ok;
}

static int wk_all_closed(const wk_cli *c, int n) {
    int i;
    for (i = 0; i < n; i++)
        if (!c[i].closed) return 0;
    return 1;
}

WT_TEST(workers_run_on_threads_then_destroy_without_a_stop) {
    harness h;
    wk_srv a;
    wk_runner r;
    wk_cli c[6];
    wt_client *cl[6];
    wt_app_config ac;
    int i;
    memset(c, 0, sizeof c);
    memset(cl, 0, sizeof cl);
    memset(&r, 0, sizeof r);
    REQUIRE(wk_start(&h, &a) == 0); /* the harness loop for the clients */
    wt_app_destroy(h.app);
    h.app = NULL;
    /* wt_app_run with the app's own loops: worker 0 on the runner thread */
    memset(&ac, 0, sizeof ac);
    ac.host = "127.0.0.1";
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.log.fn = harness_quiet_log;
    ac.log.level = WT_LOG_DEBUG;
    ac.workers = 2;
    ac.shutdown_grace_ms = 100;
    ac.limits.max_half_open_per_ip = 64;
    REQUIRE((a.app = r.app = wt_app_create(&ac)) != NULL);
    REQUIRE(wt_app_route(a.app, "/echo", wk_srv_handler, &a) == WT_OK);
    REQUIRE(wt_app_on_startup(a.app, wk_startup, &a) == WT_OK);
    REQUIRE(wt_app_on_shutdown(a.app, wk_shutdown, &a) == WT_OK);
    REQUIRE(pthread_create(&r.th, NULL, wk_run_main, &r) == 0);
    RUN_UNTIL(h.loop, a.startups == 1, HARNESS_DEADLINE_MS);
    REQUIRE(a.startups == 1);
    CHECK_EQ_INT(wt_app_current_worker(a.app), -1); /* this thread runs none of them */
    CHECK(wk_open_all(&h, wt_app_port(a.app), cl, c, 6));
    wt_app_stop(a.app); /* from another thread: every worker drains and stops */
    RUN_UNTIL(h.loop, wk_all_closed(c, 6), HARNESS_DEADLINE_MS);
    CHECK(wk_all_closed(c, 6));
    pthread_join(r.th, NULL);
    CHECK_EQ_INT(r.rv, WT_OK);
    CHECK(wt_app_stopped(a.app));
    CHECK_EQ_INT(a.shutdowns, 1);
    CHECK_EQ_INT(a.closed, 6);
    wt_app_destroy(a.app);
    for (i = 0; i < 6; i++) wt_client_destroy(cl[i]);
    CHECK_EQ_INT(a.shutdowns, 1);

    /* destroy with no stop at all: the worker threads are told to return,
       then every worker's sessions are closed from here; hooks once */
    memset(c, 0, sizeof c);
    memset(cl, 0, sizeof cl);
    a.startups = a.shutdowns = a.closed = a.opened = 0;
    REQUIRE(wk_app(&h, &a, 2) != NULL);
    REQUIRE(wt_app_start(a.app) == WT_OK);
    CHECK(wk_open_all(&h, wt_app_port(a.app), cl, c, 6));
    CHECK(a.per_worker[0] > 0 || a.per_worker[1] > 0);
    wt_app_destroy(a.app);
    CHECK_EQ_INT(a.shutdowns, 1);
    CHECK_EQ_INT(a.closed, 6); /* every session got its CLOSED event */
    RUN_UNTIL(h.loop, wk_all_closed(c, 6), HARNESS_DEADLINE_MS);
    CHECK(wk_all_closed(c, 6));
    for (i = 0; i < 6; i++) wt_client_destroy(cl[i]);
    harness_stop(&h);
    pthread_mutex_destroy(&a.mu);
}

WT_TEST(workers_config_args) {
    static const struct {
        const char *argv[4];
        int rv, workers;
    } cases[] = {
        {{"prog", "--workers", "4", NULL}, 3, 4},
        {{"prog", "--workers=0", "rest", NULL}, 2, 0},
        {{"prog", "--workers", "64", NULL}, 3, WT_WORKERS_MAX},
        {{"prog", "--workers", "65", NULL}, WT_ERR_INVALID, 0},
        {{"prog", "--workers", "-1", NULL}, WT_ERR_INVALID, 0},
        {{"prog", "--workers", "2x", NULL}, WT_ERR_INVALID, 0},
        {{"prog", "--workers", NULL, NULL}, WT_ERR_INVALID, 0},
    };
    size_t i;
    for (i = 0; i < WT__COUNTOF(cases); i++) {
        wt_app_config cfg;
        char *argv[4];
        int argc = 0;
        memset(&cfg, 0, sizeof cfg);
        cfg.log.fn = harness_quiet_log;
        cfg.log.level = WT_LOG_WARN;
        while (argc < 4 && cases[i].argv[argc]) {
            argv[argc] = (char *)cases[i].argv[argc];
            argc++;
        }
        CHECK_EQ_INT(wt_app_config_args(&cfg, argc, argv), cases[i].rv);
        CHECK_EQ_INT(cfg.workers, cases[i].workers);
    }
}

static int wk_startup_fails(wt_app *app, void *user) {
    ((wk_srv *)user)->port = wt_app_port(app);
    ((wk_srv *)user)->startups++;
    return WT_ERR_IO;
}

/* A failing startup hook with workers: nothing starts (no thread, every
   worker's socket closed), the shutdown hooks give back what was taken. */
WT_TEST(workers_failed_startup_starts_nothing) {
    wk_srv a;
    wt_app_config ac;
    int fd;
    memset(&a, 0, sizeof a);
    memset(&ac, 0, sizeof ac);
    ac.dev_cert = 1;
    ac.port = -1;
    ac.log.fn = harness_quiet_log;
    ac.workers = 2;
    REQUIRE((a.app = wt_app_create(&ac)) != NULL);
    REQUIRE(wt_app_on_startup(a.app, wk_startup_fails, &a) == WT_OK);
    REQUIRE(wt_app_on_shutdown(a.app, wk_shutdown, &a) == WT_OK);
    CHECK_EQ_INT(wt_app_start(a.app), WT_ERR_IO);
    CHECK_EQ_INT(a.startups, 1);
    CHECK_EQ_INT(a.shutdowns, 1);
    CHECK_EQ_INT(wt_app_port(a.app), 0);
    CHECK_EQ_INT(a.app->w[0].ep->nsocks + a.app->w[1].ep->nsocks, 0);
    CHECK(!a.app->w[1].joinable);
    /* the port is free again: a plain socket (no SO_REUSEPORT) binds it */
    CHECK(a.port > 0);
    {
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons((uint16_t)a.port);
        fd = socket(AF_INET, SOCK_DGRAM, 0);
        CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
        if (fd >= 0) close(fd);
    }
    wt_app_destroy(a.app);
    CHECK_EQ_INT(a.shutdowns, 1); /* not again at destroy */
}
