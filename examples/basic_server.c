/* basic_server.c - the guide's basic_server.py: one route, prints who came and left.
 *
 *   cc -std=c11 -O2 examples/basic_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o basic_server
 *   ./basic_server [--host 127.0.0.1] [--port 4433] [--cert F --key F]
 *                                        ($P: cat build/deps/prefix after make deps)
 *
 * Without --cert/--key it makes a self-signed development certificate (the
 * guide's generate_self_signed_cert("localhost")) and logs its SHA-256 for
 * a browser's serverCertificateHashes. Each session on "/" prints its remote
 * address and path when it opens and "Session N closed." when it ends; it
 * stays open until the client closes it (the guide's wait_closed() is the
 * WT_EV_SESSION_CLOSED event here). Other paths get 404. Ctrl-C stops it.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>

/* Called for every event of every session on "/". */
static void handle_root_session(wt_event *ev) {
    char addr[64];
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        if (wt_session_remote_addr(ev->session, addr, sizeof addr) > 0)
            printf("Session received from %s for path %s\n", addr, wt_session_path(ev->session));
        else
            printf("Session received for path %s, but connection details are unavailable.\n",
                   wt_session_path(ev->session));
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
    wt_app_config cfg = {0};
    wt_app *app;
    int rv;

    cfg.host = "127.0.0.1";
    cfg.port = 4433;
    cfg.stop_on_signals = 1; /* Ctrl-C: a graceful stop (a second one: at once) */
    cfg.log.level = WT_LOG_INFO;
    cfg.dev_cert = 1;        /* generate_self_signed_cert("localhost"), in memory */
    if ((rv = wt_app_config_args(&cfg, argc, argv)) != argc) return rv == WT_ARGS_HELP ? 0 : 1;
    if (!(app = wt_app_create(&cfg))) return 1; /* the reason is logged */
    rv = wt_app_route(app, "/", handle_root_session, NULL);
    if (rv == WT_OK) rv = wt_app_run(app);
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
