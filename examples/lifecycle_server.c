/* lifecycle_server.c - the guide's lifecycle_server.py: startup and shutdown hooks, served by hand.
 *
 *   cc -std=c11 -O2 examples/lifecycle_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o lifecycle_server
 *   ./lifecycle_server [--host 127.0.0.1] [--port 4433] [--cert F --key F]
 *                                        ($P: cat build/deps/prefix after make deps)
 *
 * The startup hook connects a pretend database pool, the shutdown hook
 * closes it. Each session on "/" is closed at once with code 0 and reason
 * "Work done.". Like the guide's `async with app: await app.serve(...)`,
 * main() serves by hand instead of calling wt_app_run: wt_app_start (binds,
 * runs the startup hooks), then its own poll() loop over wt_loop_pollfds /
 * wt_loop_timeout / wt_loop_process (where a program would watch its own
 * descriptors too), and on Ctrl-C or SIGTERM it stops the app (the shutdown
 * hooks run) and prints "Server stopped by user.".
 */
#define WT_IMPLEMENTATION
#include "wt.h"
#include "compat_tmp.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>

/* A dummy database connection pool. */
typedef struct database_pool {
    int connected;
} database_pool;

static int db_pool_connect(database_pool *db) {
    db->connected = 1;
    printf("Database pool connected.\n");
    return 0;
}

static void db_pool_close(database_pool *db) {
    db->connected = 0;
    printf("Database pool closed.\n");
}

/* Called once when the server starts. */
static void startup_handler(wt_app *app, void *user) {
    (void)app;
    printf("Server is starting up...\n");
    db_pool_connect((database_pool *)user);
    fflush(stdout);
}

/* Called once when the server shuts down. */
static void shutdown_handler(wt_app *app, void *user) {
    (void)app;
    printf("Server is shutting down...\n");
    db_pool_close((database_pool *)user);
    fflush(stdout);
}

static void handler(wt_event *ev) {
    /* db_pool is connected here: startup ran before the first session */
    if (ev->type == WT_EV_SESSION_OPEN) (void)wt_session_close(ev->session, 0, "Work done.");
}

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* The guide's app.serve(): the app's sockets in our own poll loop. ppoll
   unblocks SIGINT/SIGTERM only while it waits, so a signal is never lost
   between the check and the wait. */
static int serve(wt_app *app, const sigset_t *waitmask) {
    wt_loop *loop = wt_app_loop(app);
    struct pollfd pfd[16];
    int fds[16], n, i, ms, rv = WT_OK;
    short events[16];
    while (!stop_requested && rv == WT_OK) {
        struct timespec ts, *tp = NULL;
        n = wt_loop_pollfds(loop, fds, events, 16);
        if (n > 16) n = 16;
        for (i = 0; i < n; i++) {
            pfd[i].fd = fds[i];
            pfd[i].events = events[i];
        }
        if ((ms = wt_loop_timeout(loop)) >= 0) {
            ts.tv_sec = ms / 1000;
            ts.tv_nsec = (long)(ms % 1000) * 1000000;
            tp = &ts;
        }
        if (ppoll(pfd, (nfds_t)n, tp, waitmask) < 0 && errno != EINTR) return WT_ERR_IO;
        rv = wt_loop_process(loop);
    }
    return rv;
}

int main(int argc, char **argv) {
    static database_pool db_pool;
    wt_app_config cfg = {0};
    struct sigaction sa = {0};
    sigset_t block, waitmask;
    wt_app *app;
    int rv;

    cfg.host = "127.0.0.1";
    cfg.port = 4433;
    cfg.log.level = WT_LOG_INFO;
    if (wt_app_config_args(&cfg, argc, argv) != argc) return 1;
    if (tmp_dev_cert(&cfg) != WT_OK) return 1;
    if (!(app = wt_app_create(&cfg))) return 1; /* the reason is logged */
    rv = wt_app_on_startup(app, startup_handler, &db_pool);
    if (rv == WT_OK) rv = wt_app_on_shutdown(app, shutdown_handler, &db_pool);
    if (rv == WT_OK) rv = wt_app_route(app, "/", handler, NULL);

    /* KeyboardInterrupt: SIGINT/SIGTERM set a flag, and are held back
       except inside ppoll */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (rv == WT_OK) rv = wt_app_start(app); /* async with app: binds, startup hooks */
    if (rv == WT_OK) rv = serve(app, &waitmask);
    wt_app_destroy(app); /* leaving `async with`: sessions closed, shutdown hooks */
    if (rv != WT_OK) return 1;
    printf("Server stopped by user.\n");
    return 0;
}
