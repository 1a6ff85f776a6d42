/* routing_server.c - the guide's routing_server.py: each route sends one message and closes.
 *
 *   cc -std=c11 -O2 examples/routing_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o routing_server
 *   ./routing_server [--host 127.0.0.1] [--port 4433] [--cert F --key F]
 *                                        ($P: cat build/deps/prefix after make deps)
 *
 * A session on "/" gets "Welcome to the home page!", one on
 * "/api/v1/status" gets {"status": "ok"}: the server opens a
 * unidirectional stream, writes the message with FIN (the guide's
 * write_all) and then closes the session (code 0). Paths without a route
 * ("/nope") are refused by the library with 404; no handler hears of them.
 * One route goes beyond the guide to show a pattern: "/hello/{name}"
 * answers "Hello, <name>!" (wt_session_param, percent-decoded).
 *
 * The guide awaits write_all before close(); here the close waits for the
 * stream's WT_EV_STREAM_CLOSED, which comes once the message and its FIN
 * are acknowledged (closing the session earlier would reset the stream).
 * Ctrl-C stops the server.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <string.h>

/* Sends message on a new unidirectional stream; the session closes after. */
static void send_message(wt_session *s, const char *message) {
    wt_stream *st;
    int rv = wt_session_open_stream(s, 0, &st);
    if (rv == WT_OK) rv = wt_stream_write_all(st, message, strlen(message), 1);
    if (rv != WT_OK) wt_session_close(s, 1, wt_strerror(rv)); /* nothing else to wait for */
}

/* Our stream is delivered: now close (WT_ERR_CLOSED if the client closed
   first, which is fine). */
static void close_when_delivered(wt_event *ev) {
    if (ev->type == WT_EV_STREAM_CLOSED && wt_stream_is_local(ev->stream)) (void)wt_session_close(ev->session, 0, NULL);
}

/* One handler for both routes of the guide: ev->user is the route's message. */
static void send_and_close(wt_event *ev) {
    if (ev->type == WT_EV_SESSION_OPEN) send_message(ev->session, (const char *)ev->user);
    close_when_delivered(ev);
}

/* Beyond the guide: a pattern route, whose {name} the handler reads. */
static void hello(wt_event *ev) {
    char message[300];
    if (ev->type == WT_EV_SESSION_OPEN) {
        snprintf(message, sizeof message, "Hello, %s!", wt_session_param(ev->session, "name"));
        send_message(ev->session, message);
    }
    close_when_delivered(ev);
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
    rv = wt_app_route(app, "/", send_and_close, "Welcome to the home page!");
    if (rv == WT_OK) rv = wt_app_route(app, "/api/v1/status", send_and_close, "{\"status\": \"ok\"}");
    if (rv == WT_OK) rv = wt_app_route(app, "/hello/{name}", hello, NULL); /* /hello/World: "Hello, World!" */
    /* no other route: the library refuses every other path with 404 */
    if (rv == WT_OK) rv = wt_app_run(app);
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
