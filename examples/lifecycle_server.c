/* lifecycle_server.c - startup and shutdown hooks around a shared resource.
 *
 *   cc -std=c11 -O2 examples/lifecycle_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o lifecycle_server
 *   ./lifecycle_server [port]   ($P: cat build/deps/prefix after make deps)
 *
 * Generates localhost.crt/.key, prints the certificate's SHA-256 and listens
 * on https://127.0.0.1:4433/. The startup hook (run once the socket is bound)
 * connects a pretend database pool; the shutdown hook (run when wt_app_run
 * ends, after every session is closed) closes it. Each session on "/" is
 * closed at once with code 0 and reason "Work done.". Ctrl-C stops the
 * server, which then prints "Server stopped by user.".
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>

/* A dummy database connection pool. */
typedef struct database_pool {
    int connected;
} database_pool;

static void db_pool_connect(database_pool *db) {
    db->connected = 1;
    printf("Database pool connected.\n");
}

static void db_pool_close(database_pool *db) {
    db->connected = 0;
    printf("Database pool closed.\n");
}

static database_pool db_pool;
/* Called once when the server starts; a negative return would abort
   wt_app_run before it serves anyone. */
static int startup_handler(wt_app *a, void *user) {
    (void)a;
    printf("Server is starting up...\n");
    db_pool_connect((database_pool *)user);
    fflush(stdout);
    return WT_OK;
}

/* Called once when the server shuts down (every session closed by then). */
static int shutdown_handler(wt_app *a, void *user) {
    (void)a;
    printf("Server is shutting down...\n");
    db_pool_close((database_pool *)user);
    fflush(stdout);
    return WT_OK;
}

static void handler(wt_event *ev) {
    /* db_pool is connected here: startup ran before the first session */
    if (ev->type == WT_EV_SESSION_OPEN) wt_session_close(ev->session, 0, "Work done.");
}

int main(int argc, char **argv) {
    wt_app *app;
    wt_cert_config cc = {0};
    wt_app_config cfg = {0};
    int rv;

    cc.host = "localhost";
    if (wt_cert_generate(&cc) != WT_OK) return 1; /* the app logs its SHA-256 */

    cfg.host = "127.0.0.1";
    cfg.port = argc > 1 ? atoi(argv[1]) : 4433;
    cfg.cert_file = "localhost.crt";
    cfg.key_file = "localhost.key";
    cfg.stop_on_signals = 1; /* Ctrl-C stops gracefully, a second one at once */
    cfg.log.level = WT_LOG_INFO;
    app = wt_app_create(&cfg);
    if (!app) return 1;
    wt_app_on_startup(app, startup_handler, &db_pool);
    wt_app_on_shutdown(app, shutdown_handler, &db_pool);
    wt_app_route(app, "/", handler, NULL);
    rv = wt_app_run(app); /* startup hooks, the loop, then shutdown hooks */
    if (rv == WT_OK) printf("Server stopped by user.\n"); /* only a signal ends the run */
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
