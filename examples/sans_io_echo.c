/* sans_io_echo.c - wt.h without sockets: how a device with its own UDP stack
 * (lwIP, a modem's socket API, a radio link) drives the library.
 *
 *   cc -std=c11 -O2 examples/sans_io_echo.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o sans_io_echo
 *   ./sans_io_echo                       ($P: cat build/deps/prefix after make deps)
 *
 * A server (app) and a client in one process, on one loop, talk through a
 * tiny in-memory "UDP stack": a queue of datagrams. Nothing here opens a
 * socket or reads the system clock; the four hooks a device supplies are:
 *
 *   1. wt_io.send (app and client config): wt.h hands every UDP datagram it
 *      wants sent to it. On lwIP: pbuf_alloc + udp_sendto per segment.
 *   2. wt_app_input / wt_client_input: every datagram that arrives goes in
 *      (on lwIP: from the udp_recv callback, or queued from it to the task
 *      that owns the loop: they must run on the loop's thread, never from a
 *      wt.h handler).
 *   3. wt_loop_process, after inputs and whenever wt_loop_timeout's
 *      milliseconds have passed (on a device: the task's wait timeout).
 *   4. wt_loop_config.clock: monotonic nanoseconds (on lwIP: sys_now() *
 *      1000000). Here the clock is virtual and jumps straight to the next
 *      timer when nothing is in flight, so the run takes no real time.
 *
 * The client opens a bidirectional stream, sends a message with FIN and
 * reads the echo, then sends a datagram and waits for its echo, then closes
 * the session. Exits 0 when both echoes came back intact, 1 otherwise.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char stream_message[] = "Hello over a stream, no sockets!";
static const char datagram_message[] = "Hello over a datagram, no sockets!";

/* ---------------------------------------------------------------- the "UDP stack" */
#define WIRE_SLOTS 256
typedef struct datagram {
    int to_server;
    size_t len;
    uint8_t data[1500];
} datagram;

typedef struct device {
    uint64_t now_ns;                /* the device clock */
    datagram wire[WIRE_SLOTS];      /* datagrams in flight, a ring */
    size_t head, count;
    struct sockaddr_in server_addr; /* 10.0.0.1:443 */
    struct sockaddr_in client_addr; /* 10.0.0.2:50000 */
    int server_side, client_side;   /* io.user of each end: whose send it is */
    uint64_t sent, dropped;
} device;

static device dev;

static uint64_t device_clock(void *user) { return ((device *)user)->now_ns; }

/* wt_io.send: len bytes as datagrams of `segment` bytes (the last may be
   shorter). A full queue drops them, as a real network may: QUIC resends. */
static int udp_send(void *user, const void *local, size_t local_len, const void *remote, size_t remote_len,
                    const uint8_t *data, size_t len, size_t segment) {
    int to_server = user == &dev.client_side; /* the client sends to the server */
    size_t off;
    (void)local, (void)local_len, (void)remote, (void)remote_len; /* one peer each here */
    for (off = 0; off < len; off += segment) {
        size_t n = len - off < segment ? len - off : segment;
        datagram *d;
        if (dev.count == WIRE_SLOTS || n > sizeof d->data) {
            dev.dropped++;
            continue;
        }
        d = &dev.wire[(dev.head + dev.count++) % WIRE_SLOTS];
        d->to_server = to_server;
        d->len = n;
        memcpy(d->data, data + off, n);
        dev.sent++;
    }
    return 0;
}

/* ---------------------------------------------------------------- server: echo */
static void server_handler(wt_event *ev) {
    switch (ev->type) {
    case WT_EV_STREAM_OPEN:
        if (wt_stream_read_all(ev->stream, 4096) != WT_OK) (void)wt_stream_reset(ev->stream, 1);
        break;
    case WT_EV_STREAM_DATA: /* with read_all: the whole stream at once */
        if (!ev->fin || wt_stream_write_all(ev->stream, ev->data, ev->len, 1) != WT_OK)
            (void)wt_stream_reset(ev->stream, 1);
        break;
    case WT_EV_DATAGRAM:
        (void)wt_session_send_datagram(ev->session, ev->data, ev->len);
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- client */
typedef struct client_state {
    int stream_ok, datagram_ok, closed, failed;
} client_state;

static void client_handler(wt_event *ev) {
    client_state *cs = (client_state *)ev->user;
    wt_stream *st;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        printf("session open\n");
        if (wt_session_open_stream(ev->session, 1, &st) != WT_OK || wt_stream_read_all(st, 4096) != WT_OK ||
            wt_stream_write_all(st, stream_message, sizeof stream_message - 1, 1) != WT_OK) {
            cs->failed = 1;
            (void)wt_session_close(ev->session, 1, "cannot send");
        }
        break;
    case WT_EV_STREAM_DATA:
        cs->stream_ok = ev->fin && ev->len == sizeof stream_message - 1 && !memcmp(ev->data, stream_message, ev->len);
        printf("stream echo: %.*s\n", (int)ev->len, (const char *)ev->data);
        if (wt_session_send_datagram(ev->session, datagram_message, sizeof datagram_message - 1) != WT_OK) {
            cs->failed = 1;
            (void)wt_session_close(ev->session, 1, "cannot send a datagram");
        }
        break;
    case WT_EV_DATAGRAM:
        cs->datagram_ok = ev->len == sizeof datagram_message - 1 && !memcmp(ev->data, datagram_message, ev->len);
        printf("datagram echo: %.*s\n", (int)ev->len, (const char *)ev->data);
        (void)wt_session_close(ev->session, 0, "done");
        break;
    case WT_EV_SESSION_CLOSED:
        if (ev->error != WT_OK) {
            fprintf(stderr, "sans_io_echo: session failed: %s\n", wt_strerror(ev->error));
            cs->failed = 1;
        }
        cs->closed = 1;
        break;
    default:
        break;
    }
    fflush(stdout);
}

/* ---------------------------------------------------------------- the device's main loop */
int main(void) {
    wt_loop_config lc = {0};
    wt_app_config ac = {0};
    wt_client_config cc = {0};
    client_state cs = {0};
    wt_loop *loop;
    wt_app *app;
    wt_client *client;
    uint8_t pin[32];
    long steps = 0;

    dev.now_ns = 1000000000ULL; /* any start; it only has to move forward */
    dev.server_addr.sin_family = AF_INET;
    dev.server_addr.sin_port = htons(443);
    inet_pton(AF_INET, "10.0.0.1", &dev.server_addr.sin_addr);
    dev.client_addr.sin_family = AF_INET;
    dev.client_addr.sin_port = htons(50000);
    inet_pton(AF_INET, "10.0.0.2", &dev.client_addr.sin_addr);

    lc.clock.now_ns = device_clock; /* hook 4 */
    lc.clock.user = &dev;
    lc.log.level = WT_LOG_WARN;
    if (!(loop = wt_loop_create(&lc))) return 1;

    ac.loop = loop;
    ac.host = "10.0.0.1"; /* the address the device's stack answers on */
    ac.port = 443;
    ac.dev_cert = 1;          /* a certificate made in memory, no files */
    ac.io.send = udp_send;    /* hook 1: no socket */
    ac.io.user = &dev.server_side;
    ac.log.level = WT_LOG_WARN;
    if (!(app = wt_app_create(&ac)) || wt_app_route(app, "/echo", server_handler, NULL) != WT_OK ||
        wt_app_start(app) != WT_OK || wt_app_cert_sha256(app, pin) != WT_OK) {
        fprintf(stderr, "sans_io_echo: cannot start the server\n");
        return 1;
    }

    cc.loop = loop;
    cc.cert_sha256 = pin; /* accept exactly the server's certificate */
    cc.io.send = udp_send;
    cc.io.user = &dev.client_side;
    cc.io.local_host = "10.0.0.2";
    cc.io.local_port = 50000;
    cc.log.level = WT_LOG_WARN;
    if (!(client = wt_client_create(&cc)) ||
        wt_client_connect(client, "https://10.0.0.1:443/echo", client_handler, &cs, NULL) != WT_OK) {
        fprintf(stderr, "sans_io_echo: cannot connect\n");
        return 1;
    }

    /* What a device task does forever; here until the session is over. */
    while (!cs.closed && steps++ < 1000000) {
        int t;
        /* hook 2: everything the UDP stack received, to the end it is for */
        while (dev.count) {
            datagram d = dev.wire[dev.head];
            dev.head = (dev.head + 1) % WIRE_SLOTS;
            dev.count--;
            if (d.to_server)
                (void)wt_app_input(app, &dev.client_addr, sizeof dev.client_addr, d.data, d.len);
            else
                (void)wt_client_input(client, &dev.server_addr, sizeof dev.server_addr, d.data, d.len);
        }
        (void)wt_loop_process(loop); /* hook 3: timers, then whatever the inputs made due */
        if (dev.count) continue;     /* it sent more: deliver those first */
        t = wt_loop_timeout(loop);
        if (t < 0) break; /* no timer and nothing in flight: nothing can happen */
        /* A device waits here for t ms or the next packet; time passes. */
        dev.now_ns += (uint64_t)(t > 0 ? t : 1) * 1000000ULL;
    }

    wt_client_destroy(client);
    wt_app_destroy(app);
    wt_loop_destroy(loop);
    printf("%llu datagrams through the in-memory UDP stack, %llu dropped\n", (unsigned long long)dev.sent,
           (unsigned long long)dev.dropped);
    if (cs.failed || !cs.stream_ok || !cs.datagram_ok) {
        fprintf(stderr, "sans_io_echo: %s\n", !cs.closed ? "the session did not finish" : "an echo was missing or wrong");
        return 1;
    }
    printf("both echoes intact, session closed\n");
    return 0;
}
