/* chat_server.c - the guide's chat_server.py: every datagram goes to everyone else.
 *
 *   cc -std=c11 -O2 examples/chat_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o chat_server
 *   ./chat_server [--host 127.0.0.1] [--port 4433] [--cert F --key F]
 *                                        ($P: cat build/deps/prefix after make deps)
 *
 * The room is "/chat". The server keeps the active sessions (the guide's
 * ACTIVE_SESSIONS set) in a fixed array; one more than MAX_MEMBERS is
 * refused with 429. A datagram from one session is sent as a datagram to
 * every other session; a send that fails (queue full, session closing) is
 * skipped and does not stop the broadcast (the guide's
 * return_exceptions=True). A session leaves on its WT_EV_SESSION_CLOSED,
 * however it ended. Ctrl-C stops the server. examples/chat_client.c talks to it.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <string.h>

#define MAX_MEMBERS 64

/* --- Shared state: the active sessions. */
static wt_session *active_sessions[MAX_MEMBERS];
static size_t nactive;

static unsigned long long id_of(const wt_session *s) { return (unsigned long long)wt_session_id(s); }

/* Adds a new session to our shared state (there is room: checked at request). */
static void add_session(wt_session *s) {
    printf("Session %llu joined.\n", id_of(s));
    active_sessions[nactive++] = s;
}

/* Removes a session from our shared state; its pointer dies after CLOSED. */
static void remove_session(wt_session *s) {
    size_t i;
    for (i = 0; i < nactive; i++)
        if (active_sessions[i] == s) {
            printf("Session %llu left.\n", id_of(s));
            active_sessions[i] = active_sessions[--nactive];
            return;
        }
}

/* Sends a message to all connected clients except the sender. */
static void broadcast_message(wt_session *sender, const uint8_t *msg, size_t len) {
    size_t i;
    printf("Broadcasting from %llu: %.*s\n", id_of(sender), (int)len, (const char *)msg);
    for (i = 0; i < nactive; i++) {
        int rv;
        if (active_sessions[i] == sender) continue;
        rv = wt_session_send_datagram(active_sessions[i], msg, len);
        if (rv != WT_OK) /* don't let one failed send stop the others */
            printf("Not sent to %llu: %s\n", id_of(active_sessions[i]), wt_strerror(rv));
    }
}

/* The handler for each client connecting to the chat. */
static void chat_handler(wt_event *ev) {
    switch (ev->type) {
    case WT_EV_SESSION_REQUEST:
        if (nactive == MAX_MEMBERS) (void)wt_session_reject(ev->session, 429); /* room full */
        break;
    case WT_EV_SESSION_OPEN:
        add_session(ev->session);
        break;
    case WT_EV_DATAGRAM: /* low-latency chat messages; a real app would parse JSON */
        broadcast_message(ev->session, ev->data, ev->len);
        break;
    case WT_EV_SESSION_CLOSED: /* no matter how the session ends */
        remove_session(ev->session);
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
    rv = wt_app_route(app, "/chat", chat_handler, NULL);
    if (rv == WT_OK) rv = wt_app_start(app); /* binds the socket: the port is known */
    if (rv == WT_OK) {
        int v6 = strchr(cfg.host, ':') != NULL; /* an IPv6 address goes in brackets */
        printf("Chat server running at https://%s%s%s:%d/chat\n", v6 ? "[" : "", cfg.host, v6 ? "]" : "",
               wt_app_port(app));
        fflush(stdout);
        rv = wt_app_run(app);
    }
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
