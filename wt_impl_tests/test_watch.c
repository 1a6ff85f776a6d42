/* test_watch.c - wt_loop_watch: another library's descriptors in the loop
   (pipes here; the Redis adapter's socket in redis_test.c). */
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

typedef struct watch_rec {
    int calls;
    short last;
    int fd_seen;
    int other_fd;   /* removed by the callback when >= 0 */
    int drain;      /* read what is there */
    int try_process; /* call wt_loop_process from inside the callback */
    int process_rv;
    wt_loop *loop;
} watch_rec;

static void watch_cb(wt_loop *loop, int fd, short revents, void *user) {
    watch_rec *r = (watch_rec *)user;
    r->calls++;
    r->last = revents;
    r->fd_seen = fd;
    if (r->drain) {
        char buf[64];
        while (read(fd, buf, sizeof buf) > 0) {
        }
    }
    if (r->other_fd >= 0) {
        CHECK(wt_loop_watch(loop, r->other_fd, 0, NULL, NULL) == WT_OK);
        r->other_fd = -1;
    }
    if (r->try_process) r->process_rv = wt_loop_process(loop);
}

static int watch_pipe(int p[2]) {
    int i;
    if (pipe(p) != 0) return -1;
    for (i = 0; i < 2; i++) fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
    return 0;
}

static wt_loop *watch_loop(void) {
    wt_loop_config lc;
    memset(&lc, 0, sizeof lc);
    lc.log.fn = harness_quiet_log;
    lc.log.level = WT_LOG_DEBUG;
    return wt_loop_create(&lc);
}

/* Readable: the callback runs with POLLIN, once per readiness; not before. */
WT_TEST(watch_pipe_readable_runs_callback) {
    wt_loop *loop = watch_loop();
    watch_rec r;
    int p[2];
    REQUIRE(loop && watch_pipe(p) == 0);
    memset(&r, 0, sizeof r);
    r.other_fd = -1;
    r.drain = 1;
    r.try_process = 1;
    CHECK(wt_loop_watch(loop, p[0], POLLIN, watch_cb, &r) == WT_OK);
    CHECK(wt_loop_run_once(loop, 0) == WT_OK);
    CHECK_EQ_INT(r.calls, 0); /* nothing to read yet */
    CHECK(write(p[1], "x", 1) == 1);
    CHECK(wt_loop_run_once(loop, 2000) == WT_OK);
    CHECK_EQ_INT(r.calls, 1); /* ... and now there is */
    CHECK(r.last == POLLIN && r.fd_seen == p[0]);
    CHECK(r.process_rv == WT_ERR_STATE); /* like a timer: not re-entered */
    CHECK(wt_loop_run_once(loop, 0) == WT_OK);
    CHECK_EQ_INT(r.calls, 1); /* drained: quiet again */
    CHECK(wt_loop_watch(loop, p[0], 0, NULL, NULL) == WT_OK);
    close(p[0]);
    close(p[1]);
    wt_loop_destroy(loop);
}

/* Again for the same fd replaces its events; 0 removes it (then
   WT_ERR_NOT_FOUND); a removed watch is never called. */
WT_TEST(watch_update_and_remove) {
    wt_loop *loop = watch_loop();
    watch_rec r;
    int p[2], fds[8];
    short ev[8];
    REQUIRE(loop && watch_pipe(p) == 0);
    memset(&r, 0, sizeof r);
    r.other_fd = -1;
    CHECK(wt_loop_watch(loop, p[1], POLLIN, watch_cb, &r) == WT_OK);
    CHECK(wt_loop_run_once(loop, 0) == WT_OK);
    CHECK_EQ_INT(r.calls, 0); /* a pipe's write end is never readable */
    CHECK(wt_loop_watch(loop, p[1], POLLOUT, watch_cb, &r) == WT_OK);
    CHECK_EQ_INT(wt_loop_pollfds(loop, fds, ev, 8), 2); /* wakeup + the one watch, not two */
    CHECK(fds[1] == p[1] && ev[1] == POLLOUT);
    CHECK(wt_loop_run_once(loop, 2000) == WT_OK);
    CHECK_EQ_INT(r.calls, 1);
    CHECK(r.last == POLLOUT);
    CHECK(wt_loop_watch(loop, p[1], 0, NULL, NULL) == WT_OK);
    CHECK(wt_loop_watch(loop, p[1], 0, NULL, NULL) == WT_ERR_NOT_FOUND);
    CHECK_EQ_INT(wt_loop_pollfds(loop, fds, ev, 8), 1);
    CHECK(wt_loop_run_once(loop, 0) == WT_OK);
    CHECK_EQ_INT(r.calls, 1); /* still writable, no longer watched */
    close(p[0]);
    close(p[1]);
    wt_loop_destroy(loop);
}

/* Bad arguments: an error code and a log line. */
WT_TEST(watch_refuses_bad_arguments) {
    wt_loop *loop = watch_loop();
    watch_rec r;
    int fds[4];
    REQUIRE(loop);
    memset(&r, 0, sizeof r);
    CHECK(wt_loop_watch(NULL, 0, POLLIN, watch_cb, &r) == WT_ERR_INVALID);
    CHECK(wt_loop_watch(loop, -1, POLLIN, watch_cb, &r) == WT_ERR_INVALID);
    CHECK(wt_loop_watch(loop, 0, POLLIN, NULL, &r) == WT_ERR_INVALID);
    CHECK(wt_loop_watch(loop, 0, POLLPRI, watch_cb, &r) == WT_ERR_INVALID);
    CHECK(wt_loop_pollfds(loop, fds, NULL, 4) == 1);
    CHECK(wt_loop_watch(loop, fds[0], POLLIN, watch_cb, &r) == WT_ERR_INVALID); /* the wakeup */
    CHECK(wt_loop_watch(loop, 0, POLLIN, watch_cb, &r) == WT_OK);                /* beside: a good one */
    CHECK(wt_loop_watch(loop, 0, 0, NULL, NULL) == WT_OK);
    wt_loop_destroy(loop);
}

/* Two ready at once; the first one's callback removes the second: it is
   not called with the readiness it had. */
WT_TEST(watch_callback_removes_another) {
    wt_loop *loop = watch_loop();
    watch_rec a, b;
    int p[2], q[2];
    REQUIRE(loop && watch_pipe(p) == 0 && watch_pipe(q) == 0);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.drain = b.drain = 1;
    a.other_fd = q[0];
    b.other_fd = p[0];
    CHECK(wt_loop_watch(loop, p[0], POLLIN, watch_cb, &a) == WT_OK);
    CHECK(wt_loop_watch(loop, q[0], POLLIN, watch_cb, &b) == WT_OK);
    CHECK(write(p[1], "x", 1) == 1 && write(q[1], "y", 1) == 1);
    CHECK(wt_loop_run_once(loop, 2000) == WT_OK);
    CHECK_EQ_INT(a.calls + b.calls, 1); /* whichever came first; never both */
    CHECK_EQ_INT(wt_loop_pollfds(loop, NULL, NULL, 0), 2);
    (void)wt_loop_watch(loop, p[0], 0, NULL, NULL);
    (void)wt_loop_watch(loop, q[0], 0, NULL, NULL);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
    wt_loop_destroy(loop);
}

/* An embedder's own poll over wt_loop_pollfds, then wt_loop_process: the
   watched fd is in the set and its callback runs (process polls it). */
WT_TEST(watch_in_an_own_poll_loop) {
    wt_loop *loop = watch_loop();
    watch_rec r;
    int p[2], fds[8], n, i;
    short ev[8];
    struct pollfd pfd[8];
    REQUIRE(loop && watch_pipe(p) == 0);
    memset(&r, 0, sizeof r);
    r.other_fd = -1;
    r.drain = 1;
    CHECK(wt_loop_watch(loop, p[0], POLLIN, watch_cb, &r) == WT_OK);
    CHECK(write(p[1], "x", 1) == 1);
    n = wt_loop_pollfds(loop, fds, ev, 8);
    REQUIRE(n == 2);
    CHECK(fds[n - 1] == p[0] && ev[n - 1] == POLLIN);
    for (i = 0; i < n; i++) {
        pfd[i].fd = fds[i];
        pfd[i].events = ev[i];
        pfd[i].revents = 0;
    }
    CHECK(poll(pfd, (nfds_t)n, 2000) == 1 && pfd[1].revents == POLLIN);
    CHECK(wt_loop_process(loop) == WT_OK);
    CHECK_EQ_INT(r.calls, 1);
    CHECK(wt_loop_process(loop) == WT_OK);
    CHECK_EQ_INT(r.calls, 1); /* drained */
    (void)wt_loop_watch(loop, p[0], 0, NULL, NULL);
    close(p[0]);
    close(p[1]);
    wt_loop_destroy(loop);
}

/* Closed while watched: the callback hears POLLNVAL once, and the watch is
   removed (logged) instead of waking poll() forever. */
WT_TEST(watch_closed_fd_is_removed) {
    wt_loop *loop = watch_loop();
    watch_rec r;
    int p[2];
    REQUIRE(loop && watch_pipe(p) == 0);
    memset(&r, 0, sizeof r);
    r.other_fd = -1;
    CHECK(wt_loop_watch(loop, p[0], POLLIN, watch_cb, &r) == WT_OK);
    CHECK(wt_loop_run_once(loop, 0) == WT_OK);
    CHECK_EQ_INT(r.calls, 0);
    close(p[0]);
    CHECK(wt_loop_run_once(loop, 2000) == WT_OK);
    CHECK_EQ_INT(r.calls, 1);
    CHECK(r.last & POLLNVAL);
    CHECK_EQ_INT(wt_loop_pollfds(loop, NULL, NULL, 0), 1); /* gone */
    close(p[1]);
    wt_loop_destroy(loop);
}

/* More descriptors than run_once keeps on its stack: every one is polled
   and called once. */
WT_TEST(watch_many_descriptors) {
    enum { N = 80 };
    wt_loop *loop = watch_loop();
    watch_rec r[N];
    int p[N][2], i, total = 0, rounds;
    REQUIRE(loop);
    for (i = 0; i < N; i++) {
        REQUIRE(watch_pipe(p[i]) == 0);
        memset(&r[i], 0, sizeof r[i]);
        r[i].other_fd = -1;
        r[i].drain = 1;
        CHECK(wt_loop_watch(loop, p[i][0], POLLIN, watch_cb, &r[i]) == WT_OK);
        CHECK(write(p[i][1], "x", 1) == 1);
    }
    CHECK_EQ_INT(wt_loop_pollfds(loop, NULL, NULL, 0), N + 1);
    for (rounds = 0; rounds < 10 && total < N; rounds++) {
        CHECK(wt_loop_run_once(loop, 2000) == WT_OK);
        for (i = 0, total = 0; i < N; i++) total += r[i].calls;
    }
    CHECK_EQ_INT(total, N);
    for (i = 0; i < N; i++) {
        CHECK_EQ_INT(r[i].calls, 1);
        (void)wt_loop_watch(loop, p[i][0], 0, NULL, NULL);
        close(p[i][0]);
        close(p[i][1]);
    }
    wt_loop_destroy(loop);
}
