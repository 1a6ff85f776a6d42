/* echo_server.c - echoes every stream and datagram back, prefixed "ECHO: ".
 *
 *   cc -std=c11 -O2 examples/echo_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o echo_server
 *   ./echo_server [port]        ($P: cat build/deps/prefix after make deps)
 *
 * Generates localhost.crt/.key (valid 10 days) and prints the certificate's
 * SHA-256, which a browser page passes as serverCertificateHashes:
 *
 *   new WebTransport("https://127.0.0.1:4433/", {serverCertificateHashes:
 *       [{algorithm: "sha-256", value: <the 32 bytes>}]})
 *
 * Streams are read whole (read_all), then answered on the same stream
 * (bidirectional) or on a new unidirectional stream; datagrams are answered
 * with a datagram. Ctrl-C stops the server.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STREAM 65536 /* largest stream this example reads whole */

/* Sends "ECHO: " + data on st, then FIN. write_all copies all of it (the
   library sends it as the peer reads, no WRITABLE to handle) or nothing. */
static void echo_on(wt_stream *st, const uint8_t *data, size_t len) {
    int rv = wt_stream_write_all(st, "ECHO: ", 6, 0);
    if (rv == WT_OK) rv = wt_stream_write_all(st, data, len, 1);
    if (rv != WT_OK) {
        printf("stream %lld: cannot echo: %s\n", (long long)wt_stream_id(st), wt_strerror(rv));
        wt_stream_reset(st, 1);
    }
}

static void echo_handler(wt_event *ev) {
    char addr[64];
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        wt_session_remote_addr(ev->session, addr, sizeof addr);
        printf("session %llu from %s for %s\n", (unsigned long long)wt_session_id(ev->session), addr,
               wt_session_path(ev->session));
        break;
    case WT_EV_STREAM_OPEN:
        printf("new stream %lld\n", (long long)wt_stream_id(ev->stream));
        wt_stream_read_all(ev->stream, MAX_STREAM);
        break;
    case WT_EV_STREAM_DATA:
        if (!ev->fin) break; /* over MAX_STREAM: the library stopped it */
        printf("stream %lld: %zu bytes\n", (long long)wt_stream_id(ev->stream), ev->len);
        if (wt_stream_is_bidi(ev->stream)) {
            echo_on(ev->stream, ev->data, ev->len);
        } else {
            wt_stream *out;
            if (wt_session_open_stream(ev->session, 0, &out) == WT_OK) echo_on(out, ev->data, ev->len);
        }
        break;
    case WT_EV_DATAGRAM: {
        uint8_t buf[1500];
        size_t n = ev->len;
        if (n > sizeof buf - 6) n = sizeof buf - 6;
        memcpy(buf, "ECHO: ", 6);
        memcpy(buf + 6, ev->data, n);
        printf("datagram: %zu bytes\n", ev->len);
        if (wt_session_send_datagram(ev->session, buf, n + 6) == WT_ERR_TOO_BIG)
            wt_session_send_datagram(ev->session, buf, wt_session_max_datagram_size(ev->session));
        break;
    }
    case WT_EV_SESSION_CLOSED:
        printf("session %llu closed: code %u reason \"%.*s\"\n", (unsigned long long)wt_session_id(ev->session),
               ev->code, (int)ev->reason_len, ev->reason);
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
    wt_app_route(app, "/", echo_handler, NULL);
    rv = wt_app_run(app);
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
