/* echo_server.c - the guide's echo_server.py: every stream and datagram back, prefixed "ECHO: ".
 *
 *   cc -std=c11 -O2 examples/echo_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o echo_server
 *   ./echo_server [--host 127.0.0.1] [--port 4433] [--cert F --key F]
 *                                        ($P: cat build/deps/prefix after make deps)
 *
 * Without --cert/--key it makes a development certificate and logs its
 * SHA-256, which a browser page passes as serverCertificateHashes:
 *
 *   new WebTransport("https://127.0.0.1:4433/", {serverCertificateHashes:
 *       [{algorithm: "sha-256", value: <the 32 bytes>}]})
 *
 * The guide runs two tasks per session, one for datagrams and one for
 * streams; here both are the one event handler, and "started"/"stopped"
 * are the session's OPEN and CLOSED events. A stream is read whole
 * (read_all) and answered on the same stream (write_all + FIN). The guide
 * only answers bidirectional streams; this one also answers a
 * unidirectional stream, on a new unidirectional stream of its own.
 * Ctrl-C stops the server.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STREAM (4 << 20) /* the largest stream this example reads whole */
#define PRINT_MAX 200        /* bytes of a message shown */

/* Prints bytes the way Python's repr() does, b'...', the first PRINT_MAX of them. */
static void print_bytes(const uint8_t *p, size_t n) {
    size_t i, shown = n > PRINT_MAX ? PRINT_MAX : n;
    char q = shown && memchr(p, '\'', shown) && !memchr(p, '"', shown) ? '"' : '\'';
    printf("b%c", q);
    for (i = 0; i < shown; i++) {
        if (p[i] == '\\' || p[i] == (uint8_t)q) printf("\\%c", p[i]);
        else if (p[i] == '\n') printf("\\n");
        else if (p[i] == '\r') printf("\\r");
        else if (p[i] == '\t') printf("\\t");
        else if (p[i] < 0x20 || p[i] > 0x7e) printf("\\x%02x", p[i]);
        else putchar(p[i]);
    }
    if (shown < n) printf("%c... (%zu bytes)\n", q, n);
    else printf("%c\n", q);
}

/* b"ECHO: " + data */
static uint8_t *echo_of(const uint8_t *data, size_t len) {
    uint8_t *buf = (uint8_t *)malloc(len + 6);
    if (!buf) return NULL;
    memcpy(buf, "ECHO: ", 6);
    if (len) memcpy(buf + 6, data, len);
    return buf;
}

static void handle_datagram(wt_event *ev) {
    uint8_t *echo = echo_of(ev->data, ev->len);
    int rv;
    printf("Received datagram: ");
    print_bytes(ev->data, ev->len);
    if (!echo) return;
    rv = wt_session_send_datagram(ev->session, echo, ev->len + 6);
    if (rv != WT_OK) printf("Datagram not echoed: %s\n", wt_strerror(rv)); /* unreliable anyway */
    free(echo);
}

static void handle_stream_data(wt_event *ev) {
    wt_stream *out = ev->stream;
    uint8_t *echo;
    int rv;
    if (!ev->fin) { /* over MAX_STREAM: the library stopped the stream */
        printf("Stream %lld too large, not echoed.\n", (long long)wt_stream_id(ev->stream));
        return;
    }
    printf("Received stream data: ");
    print_bytes(ev->data, ev->len);
    if (!wt_stream_is_bidi(ev->stream) && (rv = wt_session_open_stream(ev->session, 0, &out)) != WT_OK) {
        printf("Cannot open a stream for the echo: %s\n", wt_strerror(rv));
        return;
    }
    if (!(echo = echo_of(ev->data, ev->len))) return;
    rv = wt_stream_write_all(out, echo, ev->len + 6, 1); /* the guide's write_all: copied, all or nothing */
    free(echo);
    if (rv != WT_OK) {
        printf("Stream %lld not echoed: %s\n", (long long)wt_stream_id(ev->stream), wt_strerror(rv));
        (void)wt_stream_reset(out, 1);
    }
    printf("Stream %lld finished.\n", (long long)wt_stream_id(ev->stream));
}

static void echo_handler(wt_event *ev) {
    char addr[64];
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        if (wt_session_remote_addr(ev->session, addr, sizeof addr) > 0) printf("Session received from %s\n", addr);
        else printf("Session received, but connection details are unavailable.\n");
        printf("Datagram handler started.\n");
        printf("Stream handler started.\n");
        break;
    case WT_EV_DATAGRAM:
        handle_datagram(ev);
        break;
    case WT_EV_STREAM_OPEN:
        printf("Received new stream: %lld\n", (long long)wt_stream_id(ev->stream));
        if (wt_stream_read_all(ev->stream, MAX_STREAM) != WT_OK) wt_stream_reset(ev->stream, 0);
        break;
    case WT_EV_STREAM_DATA: /* with read_all: once, the whole stream */
        handle_stream_data(ev);
        break;
    case WT_EV_SESSION_CLOSED: /* the guide's finally: after wait_closed() */
        printf("Session %llu closing. Cleaning up tasks.\n", (unsigned long long)wt_session_id(ev->session));
        printf("Datagram handler stopped.\n");
        printf("Stream handler stopped.\n");
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
    rv = wt_app_route(app, "/", echo_handler, NULL);
    if (rv == WT_OK) rv = wt_app_run(app);
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
