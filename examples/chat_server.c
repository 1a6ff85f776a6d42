/* chat_server.c - a chat room: every datagram goes to everyone else.
 *
 *   cc -std=c11 -O2 examples/chat_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o chat_server
 *   ./chat_server [port]        ($P: cat build/deps/prefix after make deps)
 *
 * Generates localhost.crt/.key, prints the certificate's SHA-256 and listens
 * on https://127.0.0.1:4433/chat. The server keeps the active sessions in a
 * fixed array (MAX_MEMBERS; one more is refused with HTTP 429). A datagram
 * received from one session is sent as a datagram to every other session; a
 * send that fails (queue full, session closing) is reported and skipped, it
 * does not stop the broadcast. A session leaves the room on its
 * WT_EV_SESSION_CLOSED, however it ended. Ctrl-C stops the server.
 *
 * Members are numbered by the room itself, in the order they joined
 * (wt_session_id() would do too: it is unique within the app).
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_MEMBERS 64

/* --- Shared state: the active sessions. */
typedef struct member {
    wt_session *session;
    unsigned long number;
} member;

static member members[MAX_MEMBERS];
static size_t nmembers;
static unsigned long next_number = 1;
static wt_app *app;

static member *find_member(const wt_session *s) {
    size_t i;
    for (i = 0; i < nmembers; i++)
        if (members[i].session == s) return &members[i];
    return NULL;
}

/* Adds a new session to the shared state (there is room: checked at request). */
static void add_session(wt_session *s) {
    member *m = &members[nmembers++];
    m->session = s;
    m->number = next_number++;
    printf("Session %lu joined.\n", m->number);
}

/* Removes a session; its pointer is invalid once the CLOSED event returns. */
static void remove_session(wt_session *s) {
    member *m = find_member(s);
    if (!m) return; /* refused at request time: never joined */
    printf("Session %lu left.\n", m->number);
    *m = members[--nmembers];
}

/* Sends a message to all connected sessions except the sender. */
static void broadcast_message(const member *sender, const uint8_t *msg, size_t len) {
    size_t i, failed = 0;
    int err = WT_OK;
    printf("Broadcasting from %lu: %.*s\n", sender->number, (int)len, (const char *)msg);
    for (i = 0; i < nmembers; i++) {
        int rv;
        if (members[i].session == sender->session) continue;
        rv = wt_session_send_datagram(members[i].session, msg, len);
        if (rv != WT_OK) { /* don't let one failed send stop the others */
            failed++;
            err = rv;
        }
    }
    if (failed) printf("  not sent to %zu of %zu sessions: %s\n", failed, nmembers - 1, wt_strerror(err));
}

static void chat_handler(wt_event *ev) {
    member *m;
    switch (ev->type) {
    case WT_EV_SESSION_REQUEST:
        if (nmembers == MAX_MEMBERS) {
            printf("Room full (%d sessions): refusing with 429.\n", MAX_MEMBERS);
            wt_session_reject(ev->session, 429);
        }
        break;
    case WT_EV_SESSION_OPEN:
        add_session(ev->session);
        break;
    case WT_EV_DATAGRAM: /* low-latency chat messages; a real app would parse JSON */
        if ((m = find_member(ev->session)) != NULL) broadcast_message(m, ev->data, ev->len);
        break;
    case WT_EV_SESSION_CLOSED:
        remove_session(ev->session);
        break;
    default:
        break;
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
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
    wt_app_route(app, "/chat", chat_handler, NULL);
    rv = wt_app_start(app); /* binds the socket: the port is known */
    if (rv == WT_OK) {
        printf("Chat server running at https://127.0.0.1:%d/chat\n", wt_app_port(app));
        fflush(stdout);
        rv = wt_app_run(app);
    }
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
