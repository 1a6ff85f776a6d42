/* basic_server.c - the smallest server: one route, prints who came and left.
 *
 *   cc -std=c11 -O2 examples/basic_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o basic_server
 *   ./basic_server [port]       ($P: cat build/deps/prefix after make deps)
 *
 * Generates localhost.crt/.key and prints the certificate's SHA-256, then
 * listens on https://127.0.0.1:4433/. Each session on "/" prints its remote
 * address and path when it opens and "Session N closed." when it ends; it
 * stays open until the client closes it (Python's wait_closed() is simply
 * the WT_EV_SESSION_CLOSED event here). Other paths are refused with 404.
 * Ctrl-C stops the server.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>

/* Called for every event of every session on "/". */
static void handle_root_session(wt_event *ev) {
    char addr[64];
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        wt_session_remote_addr(ev->session, addr, sizeof addr);
        printf("Session received from %s for path %s\n", addr, wt_session_path(ev->session));
        break;
    case WT_EV_SESSION_CLOSED: /* always delivered, exactly once, last */
        printf("Session %llu closed.\n", (unsigned long long)wt_session_id(ev->session));
        break;
    default:
        break;
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    wt_app *app;
    wt_cert_config cc = {0};
    wt_app_config cfg = {0};
    int rv;

    /* generate_self_signed_cert("localhost"): localhost.crt + localhost.key */
    cc.host = "localhost";
    if (wt_cert_generate(&cc) != WT_OK) return 1; /* the app logs its SHA-256 */

    cfg.host = "127.0.0.1";
    cfg.port = argc > 1 ? atoi(argv[1]) : 4433;
    cfg.cert_file = "localhost.crt";
    cfg.key_file = "localhost.key";
    cfg.stop_on_signals = 1; /* Ctrl-C ends wt_app_run */
    cfg.log.level = WT_LOG_INFO;
    app = wt_app_create(&cfg);
    if (!app) return 1;
    wt_app_route(app, "/", handle_root_session, NULL);
    rv = wt_app_run(app);
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
