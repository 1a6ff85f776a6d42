/* echo_client.c - the client twin of echo_server: one stream round trip, one datagram, close.
 *
 *   cc -std=c11 -O2 examples/echo_client.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o echo_client
 *   ./echo_client (--pin HEX | --ca FILE | --insecure) [URL]
 *                                        ($P: cat build/deps/prefix after make deps)
 *
 * URL defaults to https://127.0.0.1:4433/. The server is verified by
 * pinning its certificate's SHA-256 (64 hex digits, as echo_server logs
 * it; like the browser's serverCertificateHashes), against the CA
 * certificates in a PEM file (the name in the URL must match the
 * certificate), or, said out loud, not at all (--insecure).
 *
 * Opens a bidirectional stream, sends a message with FIN (write_all) and
 * prints the whole reply (read_all); then sends a datagram and prints the
 * echo if one arrives within 2 s (datagrams are unreliable: none is not an
 * error). Then closes the session with code 0 and exits 0. Exits 1 on any
 * failure (refused session, failed verification, connection error).
 *
 *   ./build/examples/echo_server &            (logs the certificate's sha256)
 *   ./build/examples/echo_client --pin <sha256>
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPLY 65536 /* largest reply this example reads whole */
#define DATAGRAM_WAIT_MS 2000

static const char stream_message[] = "Hello, WebTransport!";
static const char datagram_message[] = "Hello, datagram!";

typedef struct client_state {
    wt_loop *loop;
    wt_session *session; /* valid from wt_client_connect until its CLOSED event */
    int64_t timer;       /* > 0 while waiting for the datagram echo */
    int closing;         /* we closed the session ourselves */
    int exit_code;
} client_state;

/* Everything went as planned: close the session (code 0). */
static void finish(client_state *cs, wt_session *s) {
    if (cs->timer > 0) (void)wt_loop_timer_cancel(cs->loop, cs->timer);
    cs->timer = 0;
    cs->closing = 1;
    (void)wt_session_close(s, 0, "done"); /* CLOSED follows either way */
}

/* Something went wrong: close with code 1 and exit 1. */
static void fail(client_state *cs, wt_session *s, const char *what, int err) {
    fprintf(stderr, "echo_client: %s: %s\n", what, wt_strerror(err));
    cs->exit_code = 1;
    if (cs->timer > 0) (void)wt_loop_timer_cancel(cs->loop, cs->timer);
    cs->timer = 0;
    cs->closing = 1;
    (void)wt_session_close(s, 1, what);
}

/* No datagram echo within DATAGRAM_WAIT_MS: fine, they may be lost. */
static void no_echo(wt_loop *loop, void *user) {
    client_state *cs = (client_state *)user;
    (void)loop;
    cs->timer = 0;
    printf("No datagram echo within %d ms.\n", DATAGRAM_WAIT_MS);
    finish(cs, cs->session);
}

static void send_datagram(client_state *cs, wt_session *s) {
    int rv = wt_session_send_datagram(s, datagram_message, sizeof datagram_message - 1);
    if (rv != WT_OK) {
        fail(cs, s, "cannot send the datagram", rv);
        return;
    }
    printf("Sent datagram: %s\n", datagram_message);
    cs->timer = wt_loop_timer(cs->loop, DATAGRAM_WAIT_MS, no_echo, cs);
    if (cs->timer < 0) fail(cs, s, "cannot start a timer", (int)cs->timer);
}

static void on_event(wt_event *ev) {
    client_state *cs = (client_state *)ev->user;
    wt_stream *st;
    int rv;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        printf("Connected to https://%s%s\n", wt_session_authority(ev->session), wt_session_path(ev->session));
        if ((rv = wt_session_open_stream(ev->session, 1, &st)) != WT_OK) {
            fail(cs, ev->session, "cannot open a stream", rv);
            break;
        }
        if ((rv = wt_stream_read_all(st, MAX_REPLY)) != WT_OK) { /* the reply comes as one DATA event */
            fail(cs, ev->session, "cannot read the stream", rv);
            break;
        }
        rv = wt_stream_write_all(st, stream_message, sizeof stream_message - 1, 1);
        if (rv != WT_OK) {
            fail(cs, ev->session, "cannot write the stream", rv);
            break;
        }
        printf("Sent on stream %lld: %s\n", (long long)wt_stream_id(st), stream_message);
        break;
    case WT_EV_STREAM_DATA:
        if (!wt_stream_is_local(ev->stream)) break; /* not our stream: ignored */
        if (!ev->fin) {
            fail(cs, ev->session, "reply too long", WT_ERR_TOO_BIG);
            break;
        }
        printf("Reply: %.*s\n", (int)ev->len, (const char *)ev->data);
        send_datagram(cs, ev->session);
        break;
    case WT_EV_STREAM_RESET:
        fail(cs, ev->session, "the server reset the stream", WT_ERR_CLOSED);
        break;
    case WT_EV_DATAGRAM:
        if (cs->timer <= 0) break; /* not waiting for one (yet, or any more) */
        printf("Datagram echo: %.*s\n", (int)ev->len, (const char *)ev->data);
        finish(cs, ev->session);
        break;
    case WT_EV_SESSION_CLOSED:
        if (cs->timer > 0) (void)wt_loop_timer_cancel(cs->loop, cs->timer);
        cs->timer = 0;
        if (ev->error == WT_ERR_REFUSED) {
            fprintf(stderr, "echo_client: session refused with HTTP status %d: %s\n", ev->status, wt_strerror(ev->error));
            cs->exit_code = 1;
        } else if (ev->error != WT_OK) {
            fprintf(stderr, "echo_client: session failed: %s\n", wt_strerror(ev->error));
            cs->exit_code = 1;
        } else if (!cs->closing) {
            fprintf(stderr, "echo_client: the server closed the session first (code %u, reason \"%.*s\")\n", ev->code,
                    (int)ev->reason_len, ev->reason);
            cs->exit_code = 1;
        } else if (cs->exit_code == 0) {
            printf("Session closed (code %u).\n", ev->code);
        }
        wt_loop_stop(cs->loop);
        break;
    default:
        break;
    }
    fflush(stdout);
}

/* 64 hex digits into 32 bytes; 0 on success. */
static int usage(void) {
    fprintf(stderr, "usage: echo_client (--pin SHA256-HEX | --ca FILE | --insecure) [URL]\n"
                    "URL defaults to https://127.0.0.1:4433/\n");
    return 1;
}

int main(int argc, char **argv) {
    const char *url = "https://127.0.0.1:4433/";
    wt_client_config cfg = {0};
    client_state cs = {0};
    wt_client *client;
    int i, rv;

    if ((i = wt_client_config_args(&cfg, argc, argv)) <= 0) return i == WT_ARGS_HELP ? 0 : usage();
    if (i < argc) url = argv[i++]; /* wt_client_connect checks it */
    if (i < argc || !!cfg.ca_file + !!cfg.cert_sha256 + cfg.insecure != 1) return usage(); /* one way to verify */
    client = wt_client_create(&cfg);
    if (!client) return 1; /* the reason is logged */
    cs.loop = wt_client_loop(client);
    rv = wt_client_connect(client, url, on_event, &cs, &cs.session);
    if (rv != WT_OK) {
        fprintf(stderr, "echo_client: cannot connect to %s: %s\n", url, wt_strerror(rv));
        wt_client_destroy(client);
        return 1;
    }
    rv = wt_loop_run(cs.loop); /* until SESSION_CLOSED stops it */
    if (rv != WT_OK) {
        fprintf(stderr, "echo_client: %s\n", wt_strerror(rv));
        cs.exit_code = 1;
    }
    wt_client_destroy(client); /* sends what is left and closes the connection */
    return cs.exit_code;
}
