/* rtt_cpu.c - what one datagram round trip costs wt.h itself, without the
 * kernel: the rtt figure's exchange (a 64 B datagram to /echo and back, one
 * at a time) between a server and a client in one process, each on its own
 * loop, through the sans-I/O seam (wt_io.send into an in-memory wire,
 * wt_app_input / wt_client_input out of it).
 *
 *   build/bench/rtt_cpu [--size 64] [--n 50000] [--warmup 2000]
 *
 * Each side's share is the time spent in its own calls (input, process,
 * timeout: what its wt_loop_run_once does apart from poll, recvmmsg and
 * sendmmsg), with the real clock (CLOCK_MONOTONIC, as a loop without a
 * wt_clock reads it). Nothing here makes a syscall per round trip, so on an
 * idle CPU that is CPU time; it moves far less between runs than a figure
 * with sockets. The client does what wt_dgram --mode rtt does per round
 * trip (a timeout timer set and cancelled). Prints
 *   {"value": server + client ns per round trip, "server_ns": ..,
 *    "client_ns": .., "n": n, "packets": wire datagrams per round trip}
 * Run it under `perf record --all-user -g` to see where the time goes.
 * --virtual: the loops run on a clock that moves 5 us per side per step
 * (a fast round trip as the timers see it) whatever the real time: for
 * valgrind --tool=callgrind --toggle-collect=run_until, whose instruction
 * count per round trip is the same on every run (the ns figures are then
 * meaningless).
 * Exits 1 if the session does not open or an echo is missing.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WIRE_SLOTS 64
#define MAX_SIZE 1200
#define RTT_TIMEOUT_MS 200
#define BATCH 250

typedef struct pkt {
    size_t len;
    uint8_t data[1500];
} pkt;

typedef struct wire { /* one direction, a ring */
    pkt slot[WIRE_SLOTS];
    size_t head, count;
    uint64_t sent, dropped;
} wire;

typedef struct bench {
    wire to_server, to_client;
    struct sockaddr_in server_addr, client_addr;
    wt_loop *sloop, *cloop;
    wt_app *app;
    wt_client *client;
    wt_session *session;
    uint8_t buf[MAX_SIZE];
    size_t size;
    uint64_t seq, echoed, target;
    int64_t timer;
    int open, failed;
} bench;

static bench B;
static int virtual_clock;
static uint64_t vnow = 1000000000ULL;

/* --virtual: the loops' time moves only VSTEP_NS per side per step, so a
   run under valgrind (callgrind counts instructions: the same on every
   machine) sees the timers a fast run sees */
#define VSTEP_NS 5000
static uint64_t vclock(void *user) {
    (void)user;
    return vnow;
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int wire_send(void *user, const void *local, size_t local_len, const void *remote, size_t remote_len,
                     const uint8_t *data, size_t len, size_t segment) {
    wire *w = (wire *)user;
    size_t off;
    (void)local, (void)local_len, (void)remote, (void)remote_len;
    for (off = 0; off < len; off += segment) {
        size_t n = len - off < segment ? len - off : segment;
        pkt *p;
        if (w->count == WIRE_SLOTS || n > sizeof p->data) {
            w->dropped++;
            continue;
        }
        p = &w->slot[(w->head + w->count++) % WIRE_SLOTS];
        p->len = n;
        memcpy(p->data, data + off, n);
        w->sent++;
    }
    return 0;
}

static void server_handler(wt_event *ev) {
    if (ev->type == WT_EV_DATAGRAM) (void)wt_session_send_datagram(ev->session, ev->data, ev->len);
}

static void rtt_timeout(wt_loop *loop, void *user) {
    (void)loop, (void)user;
    B.timer = 0;
    B.failed = 1;
    fprintf(stderr, "rtt_cpu: an echo did not come back\n");
}

static void send_next(void) {
    B.seq++;
    memcpy(B.buf, &B.seq, sizeof B.seq);
    if (wt_session_send_datagram(B.session, B.buf, B.size) != WT_OK) {
        B.failed = 1;
        return;
    }
    B.timer = wt_loop_timer(B.cloop, RTT_TIMEOUT_MS, rtt_timeout, NULL);
}

static void client_handler(wt_event *ev) {
    uint64_t seq;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        B.open = 1;
        break;
    case WT_EV_DATAGRAM:
        if (ev->len < sizeof seq) break;
        memcpy(&seq, ev->data, sizeof seq);
        if (seq != B.seq || !B.timer) break;
        (void)wt_loop_timer_cancel(B.cloop, B.timer);
        B.timer = 0;
        B.echoed++;
        if (B.echoed < B.target) send_next();
        break;
    case WT_EV_SESSION_CLOSED:
        if (!B.open) fprintf(stderr, "rtt_cpu: session failed: %s\n", wt_strerror(ev->error));
        B.failed = 1;
        break;
    default:
        break;
    }
}

/* Delivers what is on the wire and lets each loop work, each side's time
   to its own counter, until neither has anything to do now. */
static void pump(uint64_t *server_ns, uint64_t *client_ns) {
    for (;;) {
        int busy = 0;
        uint64_t t0 = mono_ns();
        while (B.to_server.count) {
            pkt *p = &B.to_server.slot[B.to_server.head];
            B.to_server.head = (B.to_server.head + 1) % WIRE_SLOTS;
            B.to_server.count--;
            (void)wt_app_input(B.app, &B.client_addr, sizeof B.client_addr, p->data, p->len);
            busy = 1;
        }
        if (busy || wt_loop_timeout(B.sloop) == 0) {
            (void)wt_loop_process(B.sloop);
            (void)wt_loop_timeout(B.sloop); /* as the next run_once asks */
            busy = 1;
        }
        *server_ns += mono_ns() - t0;
        vnow += VSTEP_NS;
        t0 = mono_ns();
        {
            int cbusy = 0;
            while (B.to_client.count) {
                pkt *p = &B.to_client.slot[B.to_client.head];
                B.to_client.head = (B.to_client.head + 1) % WIRE_SLOTS;
                B.to_client.count--;
                (void)wt_client_input(B.client, &B.server_addr, sizeof B.server_addr, p->data, p->len);
                cbusy = 1;
            }
            if (cbusy || wt_loop_timeout(B.cloop) == 0) {
                (void)wt_loop_process(B.cloop);
                (void)wt_loop_timeout(B.cloop);
                cbusy = 1;
            }
            busy |= cbusy;
        }
        *client_ns += mono_ns() - t0;
        vnow += VSTEP_NS;
        if (!busy && !B.to_server.count && !B.to_client.count) return;
    }
}

/* Runs the exchange until `target` echoes (or a failure). Not inlined:
   callgrind's --toggle-collect names it. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int run_until(uint64_t target, uint64_t *server_ns, uint64_t *client_ns, uint64_t *packets) {
    uint64_t sent0 = B.to_server.sent + B.to_client.sent, start = B.echoed;
    B.target = target;
    send_next();
    while (!B.failed && B.echoed < target) {
        uint64_t before = B.echoed;
        pump(server_ns, client_ns);
        if (B.echoed == before && !B.to_server.count && !B.to_client.count) {
            /* nothing moved: only a timer can help; a real wait would sleep */
            if (virtual_clock) {
                vnow += 1000000;
                continue;
            }
            if (wt_loop_timeout(B.sloop) < 0 && wt_loop_timeout(B.cloop) < 0) break;
            {
                struct timespec ts = {0, 100000};
                nanosleep(&ts, NULL);
            }
        }
    }
    if (packets && B.echoed > start) *packets = B.to_server.sent + B.to_client.sent - sent0;
    return B.failed || B.echoed < target ? -1 : 0;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, c = *(const double *)y;
    return a < c ? -1 : a > c;
}

static int usage(void) {
    fprintf(stderr, "usage: rtt_cpu [--size 8..%d] [--n N] [--warmup N] [--virtual]\n", MAX_SIZE);
    return 1;
}

int main(int argc, char **argv) {
    wt_loop_config lc;
    wt_app_config ac;
    wt_client_config cc;
    uint8_t pin[32];
    uint64_t n = 50000, warmup = 2000, s_ns = 0, c_ns = 0, packets = 0, pk = 0, deadline;
    int i;

    B.size = 64;
    for (i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--size")) B.size = (size_t)strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && !strcmp(argv[i], "--n")) n = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && !strcmp(argv[i], "--warmup")) warmup = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--virtual")) virtual_clock = 1;
        else return usage();
    }
    if (B.size < 8 || B.size > MAX_SIZE || n < 1 || n > 100000000) return usage();
    memset(B.buf, 0xa5, sizeof B.buf);
    B.server_addr.sin_family = AF_INET;
    B.server_addr.sin_port = htons(443);
    inet_pton(AF_INET, "10.0.0.1", &B.server_addr.sin_addr);
    B.client_addr.sin_family = AF_INET;
    B.client_addr.sin_port = htons(50000);
    inet_pton(AF_INET, "10.0.0.2", &B.client_addr.sin_addr);

    memset(&lc, 0, sizeof lc);
    lc.log.level = WT_LOG_ERROR;
    if (virtual_clock) {
        lc.clock.now_ns = vclock;
        lc.clock.user = NULL;
    }
    if (!(B.sloop = wt_loop_create(&lc)) || !(B.cloop = wt_loop_create(&lc))) return 1;
    memset(&ac, 0, sizeof ac);
    ac.loop = B.sloop;
    ac.host = "10.0.0.1";
    ac.port = 443;
    ac.dev_cert = 1;
    ac.io.send = wire_send;
    ac.io.user = &B.to_client;
    ac.log.level = WT_LOG_ERROR;
    if (!(B.app = wt_app_create(&ac)) || wt_app_route(B.app, "/echo", server_handler, NULL) != WT_OK ||
        wt_app_start(B.app) != WT_OK || wt_app_cert_sha256(B.app, pin) != WT_OK) {
        fprintf(stderr, "rtt_cpu: cannot start the server\n");
        return 1;
    }
    memset(&cc, 0, sizeof cc);
    cc.loop = B.cloop;
    cc.cert_sha256 = pin;
    cc.io.send = wire_send;
    cc.io.user = &B.to_server;
    cc.io.local_host = "10.0.0.2";
    cc.io.local_port = 50000;
    cc.log.level = WT_LOG_ERROR;
    if (!(B.client = wt_client_create(&cc)) ||
        wt_client_connect(B.client, "https://10.0.0.1:443/echo", client_handler, NULL, &B.session) != WT_OK) {
        fprintf(stderr, "rtt_cpu: cannot connect\n");
        return 1;
    }
    deadline = mono_ns() + 10000000000ULL;
    while (!B.open && !B.failed && mono_ns() < deadline) {
        uint64_t a = 0, b = 0;
        struct timespec ts = {0, 200000};
        pump(&a, &b);
        if (virtual_clock) vnow += 1000000;
        else if (!B.open) nanosleep(&ts, NULL);
    }
    if (!B.open || B.failed) {
        fprintf(stderr, "rtt_cpu: the session did not open\n");
        return 1;
    }
    {
        uint64_t a = 0, b = 0;
        if (run_until(warmup, &a, &b, NULL) != 0) return 1;
    }
    {
        /* batches of BATCH round trips: the least disturbed one (a busy
           machine only adds) and the median, each side on its own */
        uint64_t nb = (n + BATCH - 1) / BATCH, b;
        double *sv = (double *)calloc((size_t)nb, sizeof(double)), *cv = (double *)calloc((size_t)nb, sizeof(double));
        double smin, cmin;
        if (!sv || !cv) return 1;
        for (b = 0; b < nb; b++) {
            uint64_t s = 0, c = 0, k = b + 1 < nb ? BATCH : n - b * BATCH;
            B.echoed = 0;
            if (run_until(k, &s, &c, &packets) != 0) {
                fprintf(stderr, "rtt_cpu: %llu of %llu echoes\n", (unsigned long long)B.echoed, (unsigned long long)k);
                return 1;
            }
            sv[b] = (double)s / (double)k;
            cv[b] = (double)c / (double)k;
            s_ns += s;
            c_ns += c;
            pk += packets;
        }
        smin = sv[0], cmin = cv[0];
        for (b = 1; b < nb; b++) {
            if (sv[b] < smin) smin = sv[b];
            if (cv[b] < cmin) cmin = cv[b];
        }
        qsort(sv, (size_t)nb, sizeof(double), cmp_double);
        qsort(cv, (size_t)nb, sizeof(double), cmp_double);
        printf("{\"value\": %.0f, \"server_ns\": %.0f, \"client_ns\": %.0f, \"server_min_ns\": %.0f, "
               "\"client_min_ns\": %.0f, \"mean_ns\": %.0f, \"n\": %llu, \"packets\": %.2f}\n",
               sv[nb / 2] + cv[nb / 2], sv[nb / 2], cv[nb / 2], smin, cmin, (double)(s_ns + c_ns) / (double)n,
               (unsigned long long)n, (double)pk / (double)n);
        free(sv);
        free(cv);
    }
    wt_client_destroy(B.client);
    wt_app_destroy(B.app);
    wt_loop_destroy(B.cloop);
    wt_loop_destroy(B.sloop);
    return 0;
}
