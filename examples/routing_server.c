/* routing_server.c - two routes, each sends one message and closes.
 *
 *   cc -std=c11 -O2 examples/routing_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o routing_server
 *   ./routing_server [port]     ($P: cat build/deps/prefix after make deps)
 *
 * Generates localhost.crt/.key, prints the certificate's SHA-256 and listens
 * on https://127.0.0.1:4433/. A session on "/" gets "Welcome to the home
 * page!", one on "/api/v1/status" gets {"status": "ok"}: the server opens a
 * unidirectional stream, writes the message, finishes the stream and then
 * closes the session (code 0).
 *
 * Closing the session resets every stream it still has, so it is closed only
 * once the message is delivered: the local stream's WT_EV_STREAM_CLOSED comes
 * when all its data and the FIN are acknowledged.
 *
 * Paths without a route ("/nope") are refused by the library itself with
 * HTTP 404; their handler never hears of them. Ctrl-C stops the server.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One handler for both routes: ev->user is the route's message. */
static void send_and_close(wt_event *ev) {
    const char *message = (const char *)ev->user;
    wt_stream *st;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        if (wt_session_open_stream(ev->session, 0, &st) != WT_OK) {
            wt_session_close(ev->session, 0, NULL);
            break;
        }
        /* a message this small always fits the send buffer */
        wt_stream_write(st, message, strlen(message));
        wt_stream_finish(st);
        break;
    case WT_EV_STREAM_CLOSED:
        /* our unidirectional stream is fully acknowledged: now close. (If the
           client closed first, the session is closed already and this
           returns WT_ERR_CLOSED, which is fine.) */
        if (wt_stream_is_local(ev->stream)) wt_session_close(ev->session, 0, NULL);
        break;
    default:
        break; /* streams and datagrams from the client are ignored */
    }
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
    cfg.stop_on_signals = 1; /* Ctrl-C ends wt_app_run */
    cfg.log.level = WT_LOG_INFO;
    app = wt_app_create(&cfg);
    if (!app) return 1;
    wt_app_route(app, "/", send_and_close, "Welcome to the home page!");
    wt_app_route(app, "/api/v1/status", send_and_close, "{\"status\": \"ok\"}");
    /* no other route: the library answers every other path with 404 */
    rv = wt_app_run(app);
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
