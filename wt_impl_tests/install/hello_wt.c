/* hello_wt.c - a program of another project using an installed or vendored
 * wt.h: install_test.sh copies it out of the repository and builds it with
 * pkg-config, CMake and Meson.
 *
 *   hello_wt URL SHA256-HEX WORD
 *
 * Connects to echo_server at URL pinning its certificate, sends
 * "hello from WORD" on a bidirectional stream, checks that the reply is
 * "ECHO: hello from WORD", closes the session and waits for it to close.
 * Prints "wt <WT_VERSION> reply: <reply>" and exits 0 only if all of that
 * happened within 10 s.
 */
#define WT_IMPLEMENTATION
#include <wt.h>

#include <stdio.h>
#include <string.h>

#define DEADLINE_MS 10000

typedef struct hello {
    wt_loop *loop;
    char message[128];
    int echoed;  /* the reply was the expected one */
    int closing; /* we closed the session */
    int exit_code;
} hello;

static void give_up(wt_loop *loop, void *user) {
    hello *h = (hello *)user;
    fprintf(stderr, "hello_wt: no complete session within %d ms\n", DEADLINE_MS);
    h->exit_code = 1;
    wt_loop_stop(loop);
}

static void on_event(wt_event *ev) {
    hello *h = (hello *)ev->user;
    char want[160];
    wt_stream *st;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        if (wt_session_open_stream(ev->session, 1, &st) != WT_OK || wt_stream_read_all(st, 4096) != WT_OK ||
            wt_stream_write(st, h->message, strlen(h->message)) < 0 || wt_stream_finish(st) != WT_OK) {
            fprintf(stderr, "hello_wt: cannot send the stream\n");
            wt_session_close(ev->session, 1, "send failed");
        }
        break;
    case WT_EV_STREAM_DATA:
        if (!ev->fin) break;
        printf("wt %s reply: %.*s\n", WT_VERSION, (int)ev->len, (const char *)ev->data);
        snprintf(want, sizeof want, "ECHO: %s", h->message);
        h->echoed = ev->len == strlen(want) && memcmp(ev->data, want, ev->len) == 0;
        h->closing = 1;
        wt_session_close(ev->session, 0, "done");
        break;
    case WT_EV_SESSION_CLOSED:
        if (!h->echoed || !h->closing || ev->error != WT_OK) {
            fprintf(stderr, "hello_wt: session ended without the echo: %s (status %d)\n", wt_strerror(ev->error),
                    ev->status);
            h->exit_code = 1;
        }
        wt_loop_stop(h->loop);
        break;
    default:
        break;
    }
}

static int parse_pin(const char *hex, uint8_t pin[32]) {
    size_t i;
    if (strlen(hex) != 64) return -1;
    for (i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        pin[i] = (uint8_t)v;
    }
    return 0;
}

int main(int argc, char **argv) {
    wt_client_config cfg = {0};
    hello h = {0};
    wt_client *client;
    uint8_t pin[32];
    int rv;

    if (argc != 4 || parse_pin(argv[2], pin) != 0) {
        fprintf(stderr, "usage: hello_wt URL SHA256-HEX WORD\n");
        return 2;
    }
    snprintf(h.message, sizeof h.message, "hello from %s", argv[3]);
    cfg.cert_sha256 = pin;
    client = wt_client_create(&cfg);
    if (!client) return 1;
    h.loop = wt_client_loop(client);
    if (wt_loop_timer(h.loop, DEADLINE_MS, give_up, &h) < 0 ||
        (rv = wt_client_connect(client, argv[1], on_event, &h, NULL)) != WT_OK) {
        fprintf(stderr, "hello_wt: cannot connect to %s\n", argv[1]);
        wt_client_destroy(client);
        return 1;
    }
    rv = wt_loop_run(h.loop);
    if (rv != WT_OK || !h.echoed) h.exit_code = 1;
    wt_client_destroy(client);
    return h.exit_code;
}
