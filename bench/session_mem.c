/* bench/session_mem.c - what a whole WebTransport session costs a wt.h
   server, without sockets: N times a new client connects (QUIC + TLS
   handshake, HTTP/3 SETTINGS, extended CONNECT, 200), opens the session,
   closes it and goes away, the server dropping the connection. The app and
   the client run on two loops of one thread (wt.h's sans-I/O hooks: io.send,
   wt_app_input / wt_client_input, a virtual clock), datagrams handed over
   in memory, so the server's share can be timed apart: the thread's CPU
   clock around every server call (wt_app_input, the server loop's
   wt_loop_process), less what one clock reading costs.
   Beside build/bench/handshake_raw (the raw stack's bare handshake, same
   TLS settings) it shows what wt.h adds per session; under perf it shows
   where (perf record build/bench/session_mem --n 2000).
   Prints one JSON line: sessions_per_s (client and server on one core),
   server_cpu_ms (per session), n.
   usage: session_mem [--n N] [--warmup W] */
#define _POSIX_C_SOURCE 200809L
#define WT_IMPLEMENTATION
#include "wt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WIRE_SLOTS 256
typedef struct datagram {
    int to_server;
    size_t len;
    uint8_t data[1500];
} datagram;

static struct {
    uint64_t now_ns;
    datagram wire[WIRE_SLOTS];
    size_t head, count;
    struct sockaddr_in server_addr, client_addr;
    int server_side, client_side;
    uint64_t dropped;
} dev;

static uint64_t clock_now(void *user) {
    (void)user;
    return dev.now_ns;
}

static int udp_send(void *user, const void *local, size_t local_len, const void *remote, size_t remote_len,
                    const uint8_t *data, size_t len, size_t segment) {
    size_t off;
    (void)local, (void)local_len, (void)remote, (void)remote_len;
    for (off = 0; off < len; off += segment) {
        size_t n = len - off < segment ? len - off : segment;
        datagram *d;
        if (dev.count == WIRE_SLOTS || n > sizeof d->data) {
            dev.dropped++;
            continue;
        }
        d = &dev.wire[(dev.head + dev.count++) % WIRE_SLOTS];
        d->to_server = user == &dev.client_side;
        d->len = n;
        memcpy(d->data, data + off, n);
    }
    return 0;
}

static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t g_server_cpu, g_server_spans;

static void server_handler(wt_event *ev) { (void)ev; }

/* The server's two entry points, kept out of line so that a profiler can
   collect just them (valgrind --tool=callgrind --collect-atstart=no
   --toggle-collect=server_input --toggle-collect=server_process). */
__attribute__((noinline)) static void server_input(wt_app *app, const uint8_t *data, size_t len) {
    (void)wt_app_input(app, &dev.client_addr, sizeof dev.client_addr, data, len);
}

__attribute__((noinline)) static void server_process(wt_loop *sl) { (void)wt_loop_process(sl); }

typedef struct client_state {
    int open, closed, failed;
} client_state;

static void client_handler(wt_event *ev) {
    client_state *cs = (client_state *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) {
        cs->open = 1;
        (void)wt_session_close(ev->session, 0, "done");
    } else if (ev->type == WT_EV_SESSION_CLOSED) {
        if (ev->error != WT_OK && !cs->open) cs->failed = 1;
        cs->closed = 1;
    }
}

/* Delivers what is on the wire and runs both loops until nothing moves
   and, when `until` is given, it is set; time jumps to the next timer. */
static void run(wt_app *app, wt_loop *sl, wt_client *client, wt_loop *cl, const int *until, uint64_t max_ns) {
    uint64_t end = dev.now_ns + max_ns;
    while (dev.now_ns < end) {
        int ts, tc, t;
        uint64_t t0;
        while (dev.count) {
            datagram *d = &dev.wire[dev.head];
            dev.head = (dev.head + 1) % WIRE_SLOTS;
            dev.count--;
            if (d->to_server) {
                t0 = cpu_ns();
                server_input(app, d->data, d->len);
                g_server_cpu += cpu_ns() - t0, g_server_spans++;
            } else if (client) {
                (void)wt_client_input(client, &dev.server_addr, sizeof dev.server_addr, d->data, d->len);
            }
        }
        t0 = cpu_ns();
        server_process(sl);
        g_server_cpu += cpu_ns() - t0, g_server_spans++;
        if (cl) (void)wt_loop_process(cl);
        if (dev.count) continue;
        if (until && *until) return;
        ts = wt_loop_timeout(sl);
        tc = cl ? wt_loop_timeout(cl) : -1;
        t = ts < 0 ? tc : tc < 0 ? ts : ts < tc ? ts : tc;
        if (t < 0) return;
        dev.now_ns += (uint64_t)(t > 0 ? t : 1) * 1000000ULL;
    }
}

int main(int argc, char **argv) {
    wt_loop_config lc;
    wt_app_config ac;
    wt_loop *sl, *cl;
    wt_app *app;
    uint8_t pin[32];
    long n = 500, warmup = 20, i;
    uint64_t w0 = 0, clock_cost = UINT64_MAX;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--n N] [--warmup W]\n", argv[0]);
            return 2;
        }
    }
    if (n < 1 || warmup < 0) {
        fprintf(stderr, "session_mem: --n must be at least 1, --warmup not negative\n");
        return 2;
    }
    dev.now_ns = 1000000000ULL;
    dev.server_addr.sin_family = dev.client_addr.sin_family = AF_INET;
    dev.server_addr.sin_port = htons(443);
    dev.client_addr.sin_port = htons(50000);
    inet_pton(AF_INET, "10.0.0.1", &dev.server_addr.sin_addr);
    inet_pton(AF_INET, "10.0.0.2", &dev.client_addr.sin_addr);

    memset(&lc, 0, sizeof lc);
    lc.clock.now_ns = clock_now;
    lc.log.level = WT_LOG_WARN;
    if (!(sl = wt_loop_create(&lc)) || !(cl = wt_loop_create(&lc))) return 1;
    memset(&ac, 0, sizeof ac);
    ac.loop = sl;
    ac.host = "10.0.0.1";
    ac.port = 443;
    ac.dev_cert = 1;
    ac.io.send = udp_send;
    ac.io.user = &dev.server_side;
    ac.log.level = WT_LOG_WARN;
    if (!(app = wt_app_create(&ac)) || wt_app_route(app, "/", server_handler, NULL) != WT_OK ||
        wt_app_start(app) != WT_OK || wt_app_cert_sha256(app, pin) != WT_OK) {
        fprintf(stderr, "session_mem: cannot start the server\n");
        return 1;
    }
    for (i = 0; i < 1000; i++) {
        uint64_t a = cpu_ns(), b = cpu_ns();
        if (b - a < clock_cost) clock_cost = b - a;
    }
    for (i = -warmup; i < n; i++) {
        wt_client_config cc;
        wt_client *client;
        client_state cs = {0, 0, 0};
        wt_stats st;
        if (i == 0) {
            g_server_cpu = g_server_spans = 0;
            w0 = wall_ns();
        }
        memset(&cc, 0, sizeof cc);
        cc.loop = cl;
        cc.cert_sha256 = pin;
        cc.io.send = udp_send;
        cc.io.user = &dev.client_side;
        cc.io.local_host = "10.0.0.2";
        cc.io.local_port = 50000;
        cc.log.level = WT_LOG_WARN;
        if (!(client = wt_client_create(&cc)) ||
            wt_client_connect(client, "https://10.0.0.1:443/", client_handler, &cs, NULL) != WT_OK) {
            fprintf(stderr, "session_mem: cannot connect\n");
            return 1;
        }
        run(app, sl, client, cl, &cs.closed, 10ULL * 1000000000ULL);
        if (!cs.closed || cs.failed) {
            fprintf(stderr, "session_mem: session %ld did not open and close\n", i);
            return 1;
        }
        wt_client_destroy(client); /* closes the connection */
        run(app, sl, NULL, NULL, NULL, 60ULL * 1000000000ULL); /* the server's draining ends */
        if (wt_app_stats(app, &st) != WT_OK || st.connections != 0) {
            fprintf(stderr, "session_mem: the server still has %llu connections\n", (unsigned long long)st.connections);
            return 1;
        }
        dev.count = 0;
    }
    if (g_server_cpu > g_server_spans * clock_cost) g_server_cpu -= g_server_spans * clock_cost;
    printf("{\"sessions_per_s\": %.1f, \"server_cpu_ms\": %.4f, \"server_sessions_per_s\": %.1f, \"n\": %ld}\n",
           (double)n * 1e9 / (double)(wall_ns() - w0), (double)g_server_cpu / 1e6 / (double)n,
           (double)n * 1e9 / (double)g_server_cpu, n);
    wt_app_destroy(app);
    wt_loop_destroy(cl);
    wt_loop_destroy(sl);
    return 0;
}
