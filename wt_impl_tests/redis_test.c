/* redis_test.c - the Redis adapter (WT_REDIS) against a real redis-server
   that each test starts on a free port, and examples/chat_server.c --redis
   as two instances with chat members on each. Built with -DWT_REDIS and
   -lhiredis by `make build/wt_redis_tests` (which installs redis-server and
   libhiredis-dev through tools/apt-install.sh).
   Usage: wt_redis_tests [name-substring ...] [-name-substring ...]
   WT_CHAT_SERVER: the chat_server built with WT_REDIS (default
   build/chat_server_redis). */
#ifndef WT_REDIS
#define WT_REDIS
#endif
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "wt_test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

wt_test_case wt_test_cases[WT_TEST_MAX];
int wt_test_count;
int wt_test_failed_checks;

/* ---------------------------------------------------------------- log
   Lines kept for checks (a ring); errors and warnings also printed. */
#define LOG_LINES 256
static char log_ring[LOG_LINES][256];
static unsigned log_next;

static void test_log(wt_log_level level, const char *msg, void *user) {
    (void)user;
    snprintf(log_ring[log_next++ % LOG_LINES], sizeof log_ring[0], "%s", msg);
    if (level <= WT_LOG_WARN) printf("    [%s] %s\n", level == WT_LOG_ERROR ? "error" : "warn", msg);
}

static int log_seen(const char *needle) {
    unsigned i;
    for (i = 0; i < LOG_LINES; i++)
        if (strstr(log_ring[i], needle)) return 1;
    return 0;
}

static void log_clear(void) {
    memset(log_ring, 0, sizeof log_ring);
    log_next = 0;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- redis-server */
#define MAX_PROCS 8
static pid_t procs[MAX_PROCS]; /* every child still running: killed at exit */

static void procs_add(pid_t p) {
    int i;
    for (i = 0; i < MAX_PROCS; i++)
        if (!procs[i]) {
            procs[i] = p;
            return;
        }
}

static void procs_del(pid_t p) {
    int i;
    for (i = 0; i < MAX_PROCS; i++)
        if (procs[i] == p) procs[i] = 0;
}

static void procs_kill_all(void) {
    int i;
    for (i = 0; i < MAX_PROCS; i++)
        if (procs[i] > 0) {
            kill(procs[i], SIGKILL);
            waitpid(procs[i], NULL, 0);
            procs[i] = 0;
        }
}

static void on_fatal_signal(int sig) {
    procs_kill_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* A TCP port nothing listens on right now. */
static int free_tcp_port(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd < 0) return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int tcp_accepts(int port) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    if (fd < 0) return 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

typedef struct redis_proc {
    pid_t pid;
    int port;
    char dir[64];
    const char *password; /* --requirepass; NULL: none */
} redis_proc;

static int have_redis(void) {
    if (access("/usr/bin/redis-server", X_OK) == 0) return 1;
    printf("    skipped: redis-server is not installed (tools/apt-install.sh redis-server libhiredis-dev)\n");
    return 0;
}

/* Starts redis-server on rp->port (0: a free one) with no persistence, and
   waits (up to 10 s) until it accepts connections. */
static int redis_start(redis_proc *rp) {
    char port[16], logf[96];
    uint64_t deadline = now_ms() + 10000;
    if (!rp->port) rp->port = free_tcp_port();
    if (!rp->dir[0]) {
        snprintf(rp->dir, sizeof rp->dir, "/tmp/wt_redis_test.XXXXXX");
        if (!mkdtemp(rp->dir)) return -1;
    }
    snprintf(port, sizeof port, "%d", rp->port);
    snprintf(logf, sizeof logf, "%s/redis.log", rp->dir);
    rp->pid = fork();
    if (rp->pid < 0) return -1;
    if (rp->pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        execl("/usr/bin/redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
              "--appendonly", "no", "--dir", rp->dir, "--logfile", logf, "--daemonize", "no",
              rp->password ? "--requirepass" : (char *)NULL, rp->password, (char *)NULL);
        _exit(127);
    }
    procs_add(rp->pid);
    while (now_ms() < deadline) {
        int st;
        if (tcp_accepts(rp->port)) return 0;
        if (waitpid(rp->pid, &st, WNOHANG) == rp->pid) {
            printf("    redis-server exited at start (see %s)\n", logf);
            procs_del(rp->pid);
            rp->pid = 0;
            return -1;
        }
        usleep(10000);
    }
    return -1;
}

/* SIGTERM (Redis closes its clients' connections and exits), or sig. */
static void redis_stop_sig(redis_proc *rp, int sig) {
    uint64_t deadline = now_ms() + 10000;
    if (rp->pid <= 0) return;
    kill(rp->pid, sig);
    while (now_ms() < deadline && waitpid(rp->pid, NULL, WNOHANG) != rp->pid) usleep(5000);
    if (now_ms() >= deadline) {
        kill(rp->pid, SIGKILL);
        waitpid(rp->pid, NULL, 0);
    }
    procs_del(rp->pid);
    rp->pid = 0;
}

static void redis_stop(redis_proc *rp) { redis_stop_sig(rp, SIGTERM); }

static void redis_cleanup(redis_proc *rp) {
    char cmd[128];
    redis_stop(rp);
    if (rp->dir[0] && !strncmp(rp->dir, "/tmp/wt_redis_test.", 19)) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", rp->dir);
        if (system(cmd) != 0) printf("    could not remove %s\n", rp->dir);
    }
}

/* ---------------------------------------------------------------- loop helpers */
typedef int (*cond_fn)(void *arg);

/* Runs the loop until cond(arg) or ms pass; returns cond's last value. */
static int run_until(wt_loop *loop, cond_fn cond, void *arg, int ms) {
    uint64_t deadline = now_ms() + (uint64_t)ms;
    while (!cond(arg) && now_ms() < deadline) wt_loop_run_once(loop, 20);
    return cond(arg);
}

static int never(void *arg) {
    (void)arg;
    return 0;
}

static wt_loop *test_loop(void) {
    wt_loop_config lc;
    memset(&lc, 0, sizeof lc);
    lc.log.fn = test_log;
    lc.log.level = WT_LOG_DEBUG;
    return wt_loop_create(&lc);
}

/* ---------------------------------------------------------------- adapter */
#define MAX_GOT 64
typedef struct peer {
    wt_redis *r;
    int ready_calls, ready, unready_calls;
    int ngot;
    char got[MAX_GOT][64];
    size_t got_len[MAX_GOT];
    int destroy_on_message;
} peer;

static void peer_state(wt_redis *r, int ready, void *user) {
    peer *p = (peer *)user;
    (void)r;
    p->ready = ready;
    if (ready) p->ready_calls++;
    else p->unready_calls++;
}

static void peer_message(wt_redis *r, const char *channel, const uint8_t *data, size_t len, void *user) {
    peer *p = (peer *)user;
    CHECK(!strcmp(channel, "t"));
    if (p->ngot < MAX_GOT && len <= sizeof p->got[0]) {
        memcpy(p->got[p->ngot], data, len);
        p->got_len[p->ngot++] = len;
    }
    if (p->destroy_on_message) {
        wt_redis_destroy(r);
        p->r = NULL;
    }
}

static int peer_open(peer *p, wt_loop *loop, int port, const wt_redis_config *base) {
    wt_redis_config rc;
    memset(p, 0, sizeof *p);
    if (base) rc = *base;
    else memset(&rc, 0, sizeof rc);
    rc.host = "127.0.0.1";
    rc.port = (uint16_t)port;
    rc.on_state = peer_state;
    rc.user = p;
    if (!rc.backoff_min_ms) rc.backoff_min_ms = 20;
    if (!rc.backoff_max_ms) rc.backoff_max_ms = 200;
    if (!(p->r = wt_redis_create(loop, &rc))) return -1;
    return wt_redis_subscribe(p->r, "t", peer_message, p);
}

static int peer_count(const peer *p, const char *msg) {
    int i, n = 0;
    for (i = 0; i < p->ngot; i++)
        if (p->got_len[i] == strlen(msg) && !memcmp(p->got[i], msg, p->got_len[i])) n++;
    return n;
}

typedef struct two {
    peer *a, *b;
    int n; /* messages each should have */
} two;

static int both_ready(void *arg) {
    two *t = (two *)arg;
    return t->a->ready && t->b->ready;
}
static int both_unready(void *arg) {
    two *t = (two *)arg;
    return !t->a->ready && !t->b->ready;
}
static int both_got(void *arg) {
    two *t = (two *)arg;
    return t->a->ngot >= t->n && t->b->ngot >= t->n;
}
static int b_got(void *arg) {
    two *t = (two *)arg;
    return t->b->ngot >= t->n;
}

/* Two adapters on one loop: what either publishes reaches both, byte for
   byte (a NUL inside included), once. */
WT_TEST(redis_publish_subscribe) {
    redis_proc rp;
    wt_loop *loop;
    peer a, b;
    two t = {&a, &b, 0};
    wt_redis_stats st;
    static const char bin[5] = {'x', 0, 'y', '\n', 'z'};
    if (!have_redis()) return;
    memset(&rp, 0, sizeof rp);
    REQUIRE(redis_start(&rp) == 0);
    loop = test_loop();
    REQUIRE(loop && peer_open(&a, loop, rp.port, NULL) == 0 && peer_open(&b, loop, rp.port, NULL) == 0);
    CHECK(!wt_redis_ready(a.r)); /* nothing confirmed yet */
    CHECK(run_until(loop, both_ready, &t, 10000));
    CHECK(wt_redis_ready(a.r) && a.ready_calls == 1);
    CHECK(wt_redis_publish(a.r, "t", "one", 3) == WT_OK);
    CHECK(wt_redis_publish(b.r, "t", "two", 3) == WT_OK);
    CHECK(wt_redis_publish(a.r, "t", bin, sizeof bin) == WT_OK);
    CHECK(wt_redis_publish(a.r, "t", NULL, 0) == WT_OK); /* empty is a message too */
    t.n = 4;
    CHECK(run_until(loop, both_got, &t, 10000));
    run_until(loop, never, NULL, 100); /* anything extra would come now */
    CHECK_EQ_INT(a.ngot, 4);
    CHECK_EQ_INT(b.ngot, 4);
    CHECK(peer_count(&a, "one") == 1 && peer_count(&b, "one") == 1 && peer_count(&b, "two") == 1);
    CHECK(peer_count(&b, "") == 1);
    {
        int i, nbin = 0; /* a's three come in order; b's one anywhere among them */
        for (i = 0; i < b.ngot; i++) nbin += b.got_len[i] == sizeof bin && !memcmp(b.got[i], bin, sizeof bin);
        CHECK_EQ_INT(nbin, 1);
    }
    CHECK(wt_redis_get_stats(a.r, &st) == WT_OK);
    CHECK_EQ_INT(st.published, 3);
    CHECK_EQ_INT(st.received, 4);
    CHECK_EQ_INT(st.dropped, 0);
    CHECK_EQ_INT(st.connects, 2);
    CHECK_EQ_INT(st.pending, 0);
    { /* a silent host is noticed: keepalive on both connections */
        int on = 0, idle = 0;
        socklen_t l1 = sizeof on, l2 = sizeof idle;
        CHECK(getsockopt(a.r->sub.fd, SOL_SOCKET, SO_KEEPALIVE, &on, &l1) == 0 && on == 1);
        CHECK(getsockopt(a.r->pub.fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &l2) == 0 && idle == 7);
    }
    wt_redis_destroy(a.r);
    wt_redis_destroy(b.r);
    CHECK_EQ_INT(wt_loop_pollfds(loop, NULL, NULL, 0), 1); /* their sockets left the loop */
    wt_loop_destroy(loop);
    redis_cleanup(&rp);
}

/* Redis restarts: both adapters see it go (not ready), publishes in the
   gap are dropped and counted (WT_ERR_CLOSED, stats, one log line), they
   reconnect and re-subscribe by themselves, and what is published after
   flows again; the gap's messages never arrive. */
WT_TEST(redis_restart_reconnects_and_counts_drops) {
    redis_proc rp;
    wt_loop *loop;
    peer a, b;
    two t = {&a, &b, 0};
    wt_redis_stats st;
    if (!have_redis()) return;
    memset(&rp, 0, sizeof rp);
    REQUIRE(redis_start(&rp) == 0);
    loop = test_loop();
    log_clear();
    REQUIRE(loop && peer_open(&a, loop, rp.port, NULL) == 0 && peer_open(&b, loop, rp.port, NULL) == 0);
    REQUIRE(run_until(loop, both_ready, &t, 10000));
    CHECK(wt_redis_publish(a.r, "t", "before", 6) == WT_OK);
    t.n = 1;
    CHECK(run_until(loop, b_got, &t, 10000));

    redis_stop(&rp);
    CHECK(run_until(loop, both_unready, &t, 10000));
    run_until(loop, never, NULL, 50);
    CHECK(wt_redis_publish(a.r, "t", "gap1", 4) == WT_ERR_CLOSED);
    CHECK(wt_redis_publish(a.r, "t", "gap2", 4) == WT_ERR_CLOSED);
    CHECK(wt_redis_publish(b.r, "t", "gap3", 4) == WT_ERR_CLOSED);
    CHECK(wt_redis_get_stats(a.r, &st) == WT_OK);
    CHECK_EQ_INT(st.dropped, 2);
    CHECK(log_seen("not connected: messages are dropped"));
    run_until(loop, never, NULL, 300); /* a few failed attempts with backoff */
    CHECK(wt_redis_get_stats(a.r, &st) == WT_OK);
    CHECK(st.attempts > 2);
    CHECK(!wt_redis_ready(a.r));

    REQUIRE(redis_start(&rp) == 0); /* the same port */
    CHECK(run_until(loop, both_ready, &t, 10000));
    CHECK(a.ready_calls == 2 && b.ready_calls == 2 && a.unready_calls == 1);
    CHECK(log_seen("2 message(s) dropped meanwhile"));
    CHECK(wt_redis_publish(a.r, "t", "after", 5) == WT_OK);
    t.n = 2;
    CHECK(run_until(loop, b_got, &t, 10000));
    run_until(loop, never, NULL, 100);
    CHECK_EQ_INT(b.ngot, 2);
    CHECK(peer_count(&b, "before") == 1 && peer_count(&b, "after") == 1);
    CHECK(peer_count(&b, "gap1") == 0 && peer_count(&a, "gap3") == 0);
    CHECK(wt_redis_get_stats(a.r, &st) == WT_OK);
    CHECK_EQ_INT(st.disconnects, 2); /* publish and subscribe, once each */
    CHECK_EQ_INT(st.connects, 4);
    CHECK_EQ_INT(st.dropped, 2);
    CHECK_EQ_INT(st.published, 2);
    wt_redis_destroy(a.r);
    wt_redis_destroy(b.r);
    wt_loop_destroy(loop);
    redis_cleanup(&rp);
}

/* Nothing listens yet: attempts go on with backoff (not ready, publishes
   dropped), and it connects once Redis starts there. */
WT_TEST(redis_unreachable_then_started) {
    redis_proc rp;
    wt_loop *loop;
    peer a, b;
    two t = {&a, &b, 0};
    wt_redis_stats st;
    wt_redis_config rc;
    if (!have_redis()) return;
    memset(&rp, 0, sizeof rp);
    rp.port = free_tcp_port();
    loop = test_loop();
    memset(&rc, 0, sizeof rc);
    rc.backoff_min_ms = 10;
    rc.backoff_max_ms = 40;
    REQUIRE(loop && peer_open(&a, loop, rp.port, &rc) == 0 && peer_open(&b, loop, rp.port, &rc) == 0);
    run_until(loop, never, NULL, 300);
    CHECK(wt_redis_get_stats(a.r, &st) == WT_OK);
    CHECK(st.attempts >= 6); /* two connections, several rounds of 10..50 ms */
    CHECK(st.attempts < 60); /* ... not a busy loop */
    CHECK_EQ_INT(st.connects, 0);
    CHECK(wt_redis_publish(a.r, "t", "lost", 4) == WT_ERR_CLOSED);
    REQUIRE(redis_start(&rp) == 0);
    CHECK(run_until(loop, both_ready, &t, 10000));
    CHECK(wt_redis_publish(a.r, "t", "found", 5) == WT_OK);
    t.n = 1;
    CHECK(run_until(loop, b_got, &t, 10000));
    CHECK(peer_count(&b, "found") == 1 && peer_count(&b, "lost") == 0);
    CHECK(wt_redis_get_stats(a.r, &st) == WT_OK);
    CHECK_EQ_INT(st.dropped, 1);
    wt_redis_destroy(a.r);
    wt_redis_destroy(b.r);
    wt_loop_destroy(loop);
    redis_cleanup(&rp);
}

/* A connect that never completes (a listener whose backlog is full drops
   the SYN) is given up after connect_timeout_ms and tried again. */
WT_TEST(redis_connect_timeout) {
    wt_loop *loop;
    peer a;
    wt_redis_config rc;
    wt_redis_stats st;
    struct sockaddr_in addr;
    socklen_t alen = sizeof addr;
    int lfd, fill[4], i, nfill = 0, port;
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(lfd >= 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(lfd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(lfd, 0) == 0);
    REQUIRE(getsockname(lfd, (struct sockaddr *)&addr, &alen) == 0);
    port = ntohs(addr.sin_port);
    for (i = 0; i < 4; i++) { /* fill the backlog: later SYNs go unanswered */
        fill[i] = socket(AF_INET, SOCK_STREAM, 0);
        fcntl(fill[i], F_SETFL, O_NONBLOCK);
        (void)connect(fill[i], (struct sockaddr *)&addr, sizeof addr);
        nfill++;
    }
    usleep(50000);
    loop = test_loop();
    log_clear();
    memset(&rc, 0, sizeof rc);
    rc.connect_timeout_ms = 100;
    rc.backoff_min_ms = 10;
    rc.backoff_max_ms = 10;
    REQUIRE(loop && peer_open(&a, loop, port, &rc) == 0);
    run_until(loop, never, NULL, 600);
    CHECK(wt_redis_get_stats(a.r, &st) == WT_OK);
    CHECK_EQ_INT(st.connects + st.disconnects, 0);
    if (log_seen("connect timed out")) {
        CHECK(st.attempts >= 4 && st.attempts <= 16); /* about every 110 ms, each of the two */
    } else {
        /* the kernel refused at once instead (no backlog to fill): still
           retrying, never connected */
        printf("    this kernel refused the connection instead of dropping the SYN\n");
        CHECK(st.attempts >= 4);
    }
    CHECK(!wt_redis_ready(a.r));
    wt_redis_destroy(a.r);
    wt_loop_destroy(loop);
    for (i = 0; i < nfill; i++) close(fill[i]);
    close(lfd);
}

/* Redis frozen (SIGSTOP): PUBLISHes wait for answers up to max_pending,
   the rest are dropped (WT_ERR_WOULDBLOCK, counted); thawed, the waiting
   ones are answered. */
WT_TEST(redis_max_pending_drops_beyond) {
    redis_proc rp;
    wt_loop *loop;
    peer a, b;
    two t = {&a, &b, 0};
    wt_redis_config rc;
    wt_redis_stats st;
    int i, ok = 0, full = 0;
    if (!have_redis()) return;
    memset(&rp, 0, sizeof rp);
    REQUIRE(redis_start(&rp) == 0);
    loop = test_loop();
    memset(&rc, 0, sizeof rc);
    rc.max_pending = 4;
    REQUIRE(loop && peer_open(&a, loop, rp.port, &rc) == 0 && peer_open(&b, loop, rp.port, NULL) == 0);
    REQUIRE(run_until(loop, both_ready, &t, 10000));
    kill(rp.pid, SIGSTOP);
    for (i = 0; i < 10; i++) {
        int rv = wt_redis_publish(a.r, "t", "m", 1);
        ok += rv == WT_OK;
        full += rv == WT_ERR_WOULDBLOCK;
    }
    CHECK_EQ_INT(ok, 4);
    CHECK_EQ_INT(full, 6);
    CHECK(wt_redis_get_stats(a.r, &st) == WT_OK);
    CHECK(st.pending == 4 && st.dropped == 6);
    kill(rp.pid, SIGCONT);
    t.n = 4;
    CHECK(run_until(loop, b_got, &t, 10000));
    run_until(loop, never, NULL, 100);
    CHECK_EQ_INT(b.ngot, 4);
    CHECK(wt_redis_get_stats(a.r, &st) == WT_OK);
    CHECK(st.pending == 0 && st.published == 4);
    CHECK(wt_redis_publish(a.r, "t", "m", 1) == WT_OK); /* room again */
    wt_redis_destroy(a.r);
    wt_redis_destroy(b.r);
    wt_loop_destroy(loop);
    redis_cleanup(&rp);
}

/* max_message either way; bad arguments; destroy from its own message
   callback; destroy with publishes in flight. */
WT_TEST(redis_limits_and_misuse) {
    redis_proc rp;
    wt_loop *loop;
    peer a, b;
    two t = {&a, &b, 0};
    wt_redis_config rc;
    wt_redis_stats st;
    char big[100];
    if (!have_redis()) return;
    memset(&rp, 0, sizeof rp);
    REQUIRE(redis_start(&rp) == 0);
    loop = test_loop();
    memset(big, 'b', sizeof big);
    memset(&rc, 0, sizeof rc);
    rc.max_message = 50;
    CHECK(wt_redis_create(NULL, &rc) == NULL);
    rc.host = "no-such-host.invalid";
    CHECK(wt_redis_create(loop, &rc) == NULL);
    rc.host = NULL;
    REQUIRE(loop && peer_open(&a, loop, rp.port, NULL) == 0 && peer_open(&b, loop, rp.port, &rc) == 0);
    CHECK(wt_redis_subscribe(a.r, "t", peer_message, &a) == WT_ERR_STATE); /* twice */
    CHECK(wt_redis_subscribe(a.r, "", peer_message, &a) == WT_ERR_INVALID);
    CHECK(wt_redis_publish(a.r, NULL, "x", 1) == WT_ERR_INVALID);
    CHECK(wt_redis_publish(a.r, "t", NULL, 1) == WT_ERR_INVALID);
    CHECK(wt_redis_get_stats(NULL, &st) == WT_ERR_INVALID);
    REQUIRE(run_until(loop, both_ready, &t, 10000));
    CHECK(wt_redis_publish(b.r, "t", big, sizeof big) == WT_ERR_TOO_BIG);
    CHECK(wt_redis_publish(a.r, "t", big, sizeof big) == WT_OK); /* a's limit is 1 MiB ... */
    CHECK(wt_redis_publish(a.r, "t", "small", 5) == WT_OK);
    t.n = 1;
    CHECK(run_until(loop, b_got, &t, 10000));
    run_until(loop, never, NULL, 100);
    CHECK_EQ_INT(b.ngot, 1); /* ... b's is 50: the big one is not delivered */
    CHECK(peer_count(&b, "small") == 1);
    CHECK(wt_redis_get_stats(b.r, &st) == WT_OK);
    CHECK_EQ_INT(st.too_big, 2); /* the refused publish and the received one */
    /* b destroys itself from inside its message function */
    b.destroy_on_message = 1;
    CHECK(wt_redis_publish(a.r, "t", "bye", 3) == WT_OK);
    t.n = 2;
    CHECK(run_until(loop, b_got, &t, 10000));
    CHECK(b.r == NULL);
    /* a goes with publishes unanswered */
    CHECK(wt_redis_publish(a.r, "t", "x", 1) == WT_OK);
    wt_redis_destroy(a.r);
    CHECK_EQ_INT(wt_loop_pollfds(loop, NULL, NULL, 0), 1);
    wt_loop_destroy(loop);
    redis_cleanup(&rp);
}

/* Redis with a password: the adapter that has it works, one with a wrong
   one says so (an error, auth_failures) and never becomes ready. */
WT_TEST(redis_password) {
    redis_proc rp;
    wt_loop *loop;
    peer a, b, bad;
    two t = {&a, &b, 0};
    wt_redis_config rc;
    wt_redis_stats st;
    if (!have_redis()) return;
    memset(&rp, 0, sizeof rp);
    rp.password = "s3cret pass";
    REQUIRE(redis_start(&rp) == 0);
    loop = test_loop();
    log_clear();
    memset(&rc, 0, sizeof rc);
    rc.password = "s3cret pass";
    REQUIRE(loop && peer_open(&a, loop, rp.port, &rc) == 0 && peer_open(&b, loop, rp.port, &rc) == 0);
    rc.password = "wrong";
    REQUIRE(peer_open(&bad, loop, rp.port, &rc) == 0);
    CHECK(run_until(loop, both_ready, &t, 10000));
    CHECK(wt_redis_publish(a.r, "t", "authed", 6) == WT_OK);
    CHECK(wt_redis_publish(bad.r, "t", "nope", 4) == WT_OK); /* sent: Redis refuses it */
    t.n = 1;
    CHECK(run_until(loop, b_got, &t, 10000));
    run_until(loop, never, NULL, 100);
    CHECK(peer_count(&b, "authed") == 1 && peer_count(&b, "nope") == 0);
    CHECK(!bad.ready && bad.ready_calls == 0);
    CHECK(wt_redis_get_stats(bad.r, &st) == WT_OK);
    CHECK(st.auth_failures >= 2); /* both; the subscriber retries (Redis closes it on SUBSCRIBE) */
    CHECK_EQ_INT(st.failed, 1);
    CHECK(log_seen("AUTH refused"));
    CHECK(wt_redis_get_stats(a.r, &st) == WT_OK);
    CHECK_EQ_INT(st.auth_failures, 0);
    wt_redis_destroy(a.r);
    wt_redis_destroy(b.r);
    wt_redis_destroy(bad.r);
    wt_loop_destroy(loop);
    redis_cleanup(&rp);
}

/* ---------------------------------------------------------------- chat_server --redis
   Two instances of examples/chat_server on one Redis, two members on each.
   The test reads the servers' output through wt_loop_watch on pipes. */
#define MEMBERS 5
#define MEMBERS_A 3 /* on instance 0 (two workers); the rest on 1 */
#define MAX_MSGS 64

typedef struct instance {
    pid_t pid;
    int fd;     /* its stdout + stderr */
    char buf[8192];
    size_t len;
    int port, ready, unready, pub_lost;
    int on_worker[2]; /* "Session N joined on worker W." */
    long long published, dropped, failed, received;
    int stats_seen;
} instance;

typedef struct member {
    wt_client *client;
    wt_session *session;
    const char *name;
    int open, closed;
    int nmsg;
    char msgs[MAX_MSGS][48];
} member;

static instance inst[2];
static member mem[MEMBERS];

static void instance_line(instance *in, const char *line) {
    const char *p;
    if (getenv("WT_REDIS_TEST_VERBOSE")) printf("    [%d] %s\n", (int)(in - inst), line);
    if ((p = strstr(line, "Chat server running at https://127.0.0.1:")) != NULL) in->port = atoi(p + 41);
    if (!strcmp(line, "Redis ready")) in->ready++;
    if ((p = strstr(line, " joined on worker ")) != NULL && (p[18] == '0' || p[18] == '1')) in->on_worker[p[18] - '0']++;
    if (!strcmp(line, "Redis not ready")) in->unready++;
    if (strstr(line, "redis publish connection to") && strstr(line, " lost: ")) in->pub_lost++;
    if (sscanf(line, "Redis: %lld published, %lld dropped, %lld failed, %lld received", &in->published, &in->dropped,
               &in->failed, &in->received) == 4)
        in->stats_seen = 1;
}

static void instance_readable(wt_loop *loop, int fd, short revents, void *user) {
    instance *in = (instance *)user;
    ssize_t n;
    char *nl;
    (void)revents;
    n = read(fd, in->buf + in->len, sizeof in->buf - 1 - in->len);
    if (n <= 0) {
        (void)wt_loop_watch(loop, fd, 0, NULL, NULL); /* it exited */
        return;
    }
    in->len += (size_t)n;
    in->buf[in->len] = 0;
    while ((nl = strchr(in->buf, '\n')) != NULL) {
        *nl = 0;
        instance_line(in, in->buf);
        memmove(in->buf, nl + 1, in->len - (size_t)(nl + 1 - in->buf) + 1);
        in->len -= (size_t)(nl + 1 - in->buf);
    }
    if (in->len == sizeof in->buf - 1) in->len = 0; /* a line too long to matter */
}

/* workers: 0 for none, else --workers N */
static int instance_start(wt_loop *loop, instance *in, const char *bin, int redis_port, int workers) {
    int p[2];
    char redis_arg[32];
    memset(in, 0, sizeof *in);
    snprintf(redis_arg, sizeof redis_arg, "127.0.0.1:%d", redis_port);
    if (pipe(p) != 0) return -1;
    in->pid = fork();
    if (in->pid < 0) return -1;
    if (in->pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        if (workers) {
            char n[16];
            snprintf(n, sizeof n, "%d", workers);
            execl(bin, bin, "--port", "-1", "--redis", redis_arg, "--workers", n, (char *)NULL);
        } else {
            execl(bin, bin, "--port", "-1", "--redis", redis_arg, (char *)NULL);
        }
        _exit(127);
    }
    procs_add(in->pid);
    close(p[1]);
    in->fd = p[0];
    fcntl(in->fd, F_SETFL, fcntl(in->fd, F_GETFL) | O_NONBLOCK);
    return wt_loop_watch(loop, in->fd, POLLIN, instance_readable, in);
}

/* SIGINT: a graceful stop; the adapter's counts are its last words. */
static void instance_stop(wt_loop *loop, instance *in) {
    uint64_t deadline = now_ms() + 10000;
    int st = 0;
    if (in->pid <= 0) return;
    kill(in->pid, SIGINT);
    while (now_ms() < deadline && waitpid(in->pid, &st, WNOHANG) != in->pid) wt_loop_run_once(loop, 20);
    if (now_ms() >= deadline) {
        printf("    chat_server %d did not stop: killed\n", (int)in->pid);
        kill(in->pid, SIGKILL);
        waitpid(in->pid, &st, 0);
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    procs_del(in->pid);
    in->pid = 0;
    /* what is left in the pipe */
    while (wt_loop_pollfds(loop, NULL, NULL, 0) > 1 && wt_loop_run_once(loop, 50) == WT_OK) {
        int fds[8], n = wt_loop_pollfds(loop, fds, NULL, 8), i, still = 0;
        for (i = 1; i < n; i++) still |= fds[i] == in->fd;
        if (!still) break;
    }
    (void)wt_loop_watch(loop, in->fd, 0, NULL, NULL);
    close(in->fd);
}

static void member_event(wt_event *ev) {
    member *m = (member *)ev->user;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        m->open = 1;
        break;
    case WT_EV_DATAGRAM:
        if (m->nmsg < MAX_MSGS && ev->len < sizeof m->msgs[0]) {
            memcpy(m->msgs[m->nmsg], ev->data, ev->len);
            m->msgs[m->nmsg++][ev->len] = 0;
        }
        break;
    case WT_EV_SESSION_CLOSED:
        m->closed = 1;
        m->session = NULL;
        break;
    default:
        break;
    }
}

static int member_count(const member *m, const char *msg) {
    int i, n = 0;
    for (i = 0; i < m->nmsg; i++) n += !strcmp(m->msgs[i], msg);
    return n;
}

static int all_ready(void *arg) {
    int want = *(int *)arg;
    return inst[0].ready >= want && inst[1].ready >= want;
}
static int all_ports(void *arg) {
    (void)arg;
    return inst[0].port > 0 && inst[1].port > 0;
}
static int all_open(void *arg) {
    int i;
    (void)arg;
    for (i = 0; i < MEMBERS; i++)
        if (!mem[i].open) return 0;
    return 1;
}
static int all_closed(void *arg) {
    int i;
    (void)arg;
    for (i = 0; i < MEMBERS; i++)
        if (mem[i].session && !mem[i].closed) return 0;
    return 1;
}
static int both_pub_lost(void *arg) {
    (void)arg;
    return inst[0].pub_lost > 0 && inst[1].pub_lost > 0;
}

/* A round: every member says "<round> from <name>"; done when each has
   heard every other's (expect[i][j]: i should hear j). */
typedef struct round_ctx {
    const char *word;
    int expect[MEMBERS][MEMBERS];
} round_ctx;

static int round_heard(void *arg) {
    round_ctx *r = (round_ctx *)arg;
    int i, j;
    for (i = 0; i < MEMBERS; i++)
        for (j = 0; j < MEMBERS; j++) {
            char msg[48];
            snprintf(msg, sizeof msg, "%s from %s", r->word, mem[j].name);
            if (r->expect[i][j] && !member_count(&mem[i], msg)) return 0;
        }
    return 1;
}

static void round_say(round_ctx *r, const int *who) {
    int j;
    for (j = 0; j < MEMBERS; j++)
        if (who[j]) {
            char msg[48];
            snprintf(msg, sizeof msg, "%s from %s", r->word, mem[j].name);
            CHECK(wt_session_send_datagram(mem[j].session, msg, strlen(msg)) == WT_OK);
        }
}

/* exactly once where expected, never elsewhere */
static void round_check(const round_ctx *r) {
    int i, j;
    for (i = 0; i < MEMBERS; i++)
        for (j = 0; j < MEMBERS; j++) {
            char msg[48];
            int n;
            snprintf(msg, sizeof msg, "%s from %s", r->word, mem[j].name);
            n = member_count(&mem[i], msg);
            if (n != r->expect[i][j])
                printf("    %s heard \"%s\" %d time(s), expected %d\n", mem[i].name, msg, n, r->expect[i][j]);
            CHECK_EQ_INT(n, r->expect[i][j]);
        }
}

/* instance of member i: a1, a2, a3 on instance 0; b1, b2 on 1 */
static int member_inst(int i) { return i < MEMBERS_A ? 0 : 1; }

WT_TEST(redis_chat_two_instances_and_a_restart) {
    static const char *const names[MEMBERS] = {"a1", "a2", "a3", "b1", "b2"};
    const char *bin = getenv("WT_CHAT_SERVER") ? getenv("WT_CHAT_SERVER") : "build/chat_server_redis";
    redis_proc rp;
    wt_loop *loop;
    wt_client_config cc;
    round_ctx hello, gap, after, marker;
    int i, j, want, all[MEMBERS] = {1, 1, 1, 1, 1}, gap_who[MEMBERS] = {1, 0, 0, 1, 0};
    if (!have_redis()) return;
    if (access(bin, X_OK) != 0) {
        printf("    %s not built (make %s)\n", bin, bin);
        CHECK(0);
        return;
    }
    memset(&rp, 0, sizeof rp);
    memset(mem, 0, sizeof mem);
    REQUIRE(redis_start(&rp) == 0);
    loop = test_loop();
    REQUIRE(loop);
    /* the first with two workers: its members may sit on either */
    REQUIRE(instance_start(loop, &inst[0], bin, rp.port, 2) == WT_OK);
    REQUIRE(instance_start(loop, &inst[1], bin, rp.port, 0) == WT_OK);
    want = 1;
    CHECK(run_until(loop, all_ports, NULL, 15000));
    CHECK(run_until(loop, all_ready, &want, 15000));

    memset(&cc, 0, sizeof cc);
    cc.loop = loop;
    cc.insecure = 1;
    cc.log.fn = test_log;
    for (i = 0; i < MEMBERS; i++) {
        char url[64];
        mem[i].name = names[i];
        snprintf(url, sizeof url, "https://127.0.0.1:%d/chat", inst[member_inst(i)].port);
        REQUIRE((mem[i].client = wt_client_create(&cc)) != NULL);
        REQUIRE(wt_client_connect(mem[i].client, url, member_event, &mem[i], &mem[i].session) == WT_OK);
    }
    REQUIRE(run_until(loop, all_open, NULL, 15000));
    /* the kernel's hash places them: all three on one worker 1 time in 4 */
    printf("    instance 0 (2 workers): members on worker 0: %d, on worker 1: %d\n", inst[0].on_worker[0],
           inst[0].on_worker[1]);
    CHECK_EQ_INT(inst[0].on_worker[0] + inst[0].on_worker[1], MEMBERS_A);

    /* everyone hears everyone else once, across the instances */
    memset(&hello, 0, sizeof hello);
    hello.word = "hello";
    for (i = 0; i < MEMBERS; i++)
        for (j = 0; j < MEMBERS; j++) hello.expect[i][j] = i != j;
    round_say(&hello, all);
    CHECK(run_until(loop, round_heard, &hello, 15000));

    /* Redis goes: each instance goes on alone; a1 and b1 speak, only their
       own instance's other members hear them (across instance 0's workers
       too), and each instance counts one dropped publish */
    redis_stop(&rp);
    CHECK(run_until(loop, both_pub_lost, NULL, 15000));
    memset(&gap, 0, sizeof gap);
    gap.word = "gap";
    gap.expect[1][0] = gap.expect[2][0] = gap.expect[4][3] = 1;
    round_say(&gap, gap_who);
    CHECK(run_until(loop, round_heard, &gap, 15000));

    /* Redis is back: both reconnect and re-subscribe by themselves */
    REQUIRE(redis_start(&rp) == 0);
    want = 2;
    CHECK(run_until(loop, all_ready, &want, 20000));
    memset(&after, 0, sizeof after);
    after.word = "after";
    memcpy(after.expect, hello.expect, sizeof after.expect);
    round_say(&after, all);
    CHECK(run_until(loop, round_heard, &after, 15000));
    /* markers last: a late duplicate of the rounds above would be in by now */
    memset(&marker, 0, sizeof marker);
    marker.word = "marker";
    memcpy(marker.expect, hello.expect, sizeof marker.expect);
    round_say(&marker, all);
    CHECK(run_until(loop, round_heard, &marker, 15000));
    run_until(loop, never, NULL, 200);
    round_check(&hello);
    round_check(&gap);
    round_check(&after);
    round_check(&marker);

    for (i = 0; i < MEMBERS; i++)
        if (mem[i].session) (void)wt_session_close(mem[i].session, 0, "bye");
    CHECK(run_until(loop, all_closed, NULL, 10000));
    for (i = 0; i < 2; i++) {
        int here = i == 0 ? MEMBERS_A : MEMBERS - MEMBERS_A;
        instance_stop(loop, &inst[i]);
        CHECK(inst[i].stats_seen);
        CHECK_EQ_INT(inst[i].dropped, 1); /* the gap's one message */
        CHECK_EQ_INT(inst[i].failed, 0);
        CHECK_EQ_INT(inst[i].published, here * 3); /* hello, after, marker */
        CHECK_EQ_INT(inst[i].received, MEMBERS * 3); /* its own come back too (skipped) */
        CHECK(inst[i].unready >= 1);
    }
    for (i = 0; i < MEMBERS; i++) wt_client_destroy(mem[i].client);
    wt_loop_destroy(loop);
    redis_cleanup(&rp);
}

/* ---------------------------------------------------------------- runner */
int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_fatal_signal);
    signal(SIGTERM, on_fatal_signal);
    signal(SIGSEGV, on_fatal_signal);
    signal(SIGABRT, on_fatal_signal);
    atexit(procs_kill_all);
    return wt_test_run(argc, argv, procs_kill_all); /* whatever a failed test left running */
}
