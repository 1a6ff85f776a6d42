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
 * descriptors too) until wt_app_stopped. Ctrl-C or SIGTERM calls
 * wt_app_stop: a graceful stop (sessions are asked to finish, then closed),
 * after which the shutdown hooks run; main then prints "Server stopped by
 * user.". A second Ctrl-C stops at once (wt_app_stop_now).
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

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

/* Called once when the server starts; a negative return would abort
   wt_app_start before it serves anyone. */
static int startup_handler(wt_app *app, void *user) {
    int rv;
    (void)app;
    printf("Server is starting up...\n");
    rv = db_pool_connect((database_pool *)user);
    fflush(stdout);
    return rv;
}

/* Called once when the server shuts down (every session closed by then). */
static int shutdown_handler(wt_app *app, void *user) {
    (void)app;
    printf("Server is shutting down...\n");
    db_pool_close((database_pool *)user);
    fflush(stdout);
    return WT_OK;
}

static void handler(wt_event *ev) {
    /* db_pool is connected here: startup ran before the first session */
    if (ev->type == WT_EV_SESSION_OPEN) (void)wt_session_close(ev->session, 0, "Work done.");
}

/* KeyboardInterrupt: the first Ctrl-C (or SIGTERM) stops gracefully, a
   second one at once. Both calls are safe in a signal handler: they set a
   flag and wake the loop through its wakeup descriptor, which serve()
   polls with the sockets, so no signal is lost. */
static wt_app *app;
static volatile sig_atomic_t stopping;
static void on_signal(int sig) {
    (void)sig;
    if (stopping) wt_app_stop_now(app);
    else wt_app_stop(app);
    stopping = 1;
}

/* The guide's app.serve(): the app's descriptors in our own poll loop,
   until the stop has run to its end (the shutdown hooks ran). */
static int serve(wt_app *server) {
    wt_loop *loop = wt_app_loop(server);
    struct pollfd pfd[16];
    int fds[16], n, i, rv = WT_OK;
    short events[16];
    while (!wt_app_stopped(server) && rv == WT_OK) {
        n = wt_loop_pollfds(loop, fds, events, 16);
        if (n > 16) n = 16;
        for (i = 0; i < n; i++) {
            pfd[i].fd = fds[i];
            pfd[i].events = events[i];
            pfd[i].revents = 0;
        }
        if (poll(pfd, (nfds_t)n, wt_loop_timeout(loop)) < 0 && errno != EINTR) return WT_ERR_IO;
        rv = wt_loop_process(loop);
    }
    return rv;
}

int main(int argc, char **argv) {
    static database_pool db_pool;
    wt_app_config cfg = {0};
    struct sigaction sa;
    int rv;

    cfg.host = "127.0.0.1";
    cfg.port = 4433;
    cfg.log.level = WT_LOG_INFO;
    cfg.dev_cert = 1;        /* generate_self_signed_cert("localhost"), in memory */
    if ((rv = wt_app_config_args(&cfg, argc, argv)) != argc) return rv == WT_ARGS_HELP ? 0 : 1;
    if (!(app = wt_app_create(&cfg))) return 1; /* the reason is logged */
    rv = wt_app_on_startup(app, startup_handler, &db_pool);
    if (rv == WT_OK) rv = wt_app_on_shutdown(app, shutdown_handler, &db_pool);
    if (rv == WT_OK) rv = wt_app_route(app, "/", handler, NULL);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (rv == WT_OK && (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)) rv = WT_ERR_IO;

    if (rv == WT_OK) rv = wt_app_start(app); /* async with app: binds, startup hooks */
    if (rv == WT_OK) rv = serve(app);         /* await app.serve(), until stopped */
    wt_app_destroy(app);
    if (rv != WT_OK) return 1;
    printf("Server stopped by user.\n");
    return 0;
}
