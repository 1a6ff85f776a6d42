/* wt_dgram.c - WebTransport datagrams as fast as they go, or one at a time
 * back and forth: the wt.h side of the dgram64, dgram1200 and rtt figures.
 *
 *   build/bench/wt_dgram --mode flood --url https://127.0.0.1:PORT/dgram
 *       [--size 64] [--seconds 2] [--queue-bytes B] [--queue N]
 *       [--cc cubic|reno|bbr] [--pin HEX | --ca F | --insecure]
 *   build/bench/wt_dgram --mode rtt --url https://127.0.0.1:PORT/echo
 *       [--size 64] [--n 2000] [--pin HEX | --ca F | --insecure]
 *
 * flood: once the session is open, queues datagrams of --size bytes until
 * the queue says WOULDBLOCK, again at each WT_EV_DATAGRAM_WRITABLE, for
 * --seconds; then, after 100 ms for the last ones, asks wt_bench_server's
 * /dgram for its count on a bidirectional stream and prints
 *   {"value": received per second at the server, "sent": n, "received": n,
 *    "seconds": span at the server, "wouldblock": n}
 * (the rate over the span from the first datagram the server got to its
 * last, so connection setup and the report do not count), and the
 * connection's packets_sent, packets_lost, srtt_us and cwnd at the end.
 * --queue-bytes and --queue set the client's datagram queue limits (0:
 * the library's defaults, 64 KiB and 1024), --cc its congestion
 * controller (limits.congestion_control; default CUBIC).
 * rtt: sends one datagram of --size bytes to /echo (wt_bench_server sends
 * each datagram back), waits for it, sends the next, --n times after 20 of
 * warm-up; one that is not back within 200 ms counts as lost and the next
 * goes. Prints {"value": p50 in us, "p90_us": .., "p99_us": .., "min_us": ..,
 * "lost": n}.
 * Exits 1 when the session fails, nothing arrives, or more than a tenth of
 * the round trips are lost. Without --pin/--ca it does not verify the
 * server (--insecure).
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SIZE 1500
#define WARMUP 20
#define RTT_TIMEOUT_MS 200
#define DRAIN_MS 100
#define REPORT_MAX 1024
#define DEADLINE_SLACK_MS 10000

enum { MODE_FLOOD, MODE_RTT };

typedef struct bench {
    wt_loop *loop;
    wt_session *session;
    int mode;
    size_t size;
    double seconds;
    uint8_t buf[MAX_SIZE];
    /* flood */
    int sending;
    uint64_t sent, wouldblock;
    char report[REPORT_MAX];
    wt_stats stats; /* the connection's, when the report came */
    /* rtt */
    uint64_t n, done, lost, seq;
    uint64_t send_ns;
    int64_t rtt_timer;
    double *rtt_us;
    int ok, finished;
} bench;

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void finish(bench *b, int ok) {
    if (b->finished) return;
    b->finished = 1;
    b->ok = ok;
    (void)wt_session_close(b->session, 0, NULL); /* CLOSED stops the loop */
}

/* ---------------------------------------------------------------- flood */
static void flood_fill(bench *b) {
    while (b->sending) {
        int rv = wt_session_send_datagram(b->session, b->buf, b->size);
        if (rv == WT_ERR_WOULDBLOCK) {
            b->wouldblock++;
            return; /* WT_EV_DATAGRAM_WRITABLE comes */
        }
        if (rv != WT_OK) {
            fprintf(stderr, "wt_dgram: send: %s\n", wt_strerror(rv));
            finish(b, 0);
            return;
        }
        b->sent++;
    }
}

static void ask_report(wt_loop *loop, void *user) {
    bench *b = (bench *)user;
    wt_stream *st;
    (void)loop;
    if (b->finished) return;
    if (wt_session_open_stream(b->session, 1, &st) != WT_OK || wt_stream_read_all(st, REPORT_MAX - 1) != WT_OK ||
        wt_stream_write_all(st, "report", 6, 1) != WT_OK) {
        fprintf(stderr, "wt_dgram: cannot ask for the report\n");
        finish(b, 0);
    }
}

static void flood_stop(wt_loop *loop, void *user) {
    bench *b = (bench *)user;
    b->sending = 0;
    if (wt_loop_timer(loop, DRAIN_MS, ask_report, b) < 0) finish(b, 0);
}

/* ---------------------------------------------------------------- rtt */
static void rtt_send(bench *b);

static void rtt_timeout(wt_loop *loop, void *user) {
    bench *b = (bench *)user;
    (void)loop;
    b->rtt_timer = 0;
    b->lost++;
    if (b->lost > (b->n + WARMUP) / 10 + 1) {
        fprintf(stderr, "wt_dgram: %llu round trips lost\n", (unsigned long long)b->lost);
        finish(b, 0);
        return;
    }
    rtt_send(b);
}

static void rtt_send(bench *b) {
    int rv;
    b->seq++;
    memcpy(b->buf, &b->seq, sizeof b->seq);
    b->send_ns = mono_ns();
    if ((rv = wt_session_send_datagram(b->session, b->buf, b->size)) != WT_OK) {
        fprintf(stderr, "wt_dgram: send: %s\n", wt_strerror(rv));
        finish(b, 0);
        return;
    }
    b->rtt_timer = wt_loop_timer(b->loop, RTT_TIMEOUT_MS, rtt_timeout, b);
}

static void rtt_echo(bench *b, const uint8_t *data, size_t len) {
    uint64_t seq, now = mono_ns();
    if (len < sizeof seq) return;
    memcpy(&seq, data, sizeof seq);
    if (seq != b->seq || !b->rtt_timer) return; /* a late one */
    (void)wt_loop_timer_cancel(b->loop, b->rtt_timer);
    b->rtt_timer = 0;
    if (b->seq > WARMUP) b->rtt_us[b->done++] = (double)(now - b->send_ns) / 1e3;
    if (b->done >= b->n) finish(b, 1);
    else rtt_send(b);
}

/* ---------------------------------------------------------------- events */
static void on_event(wt_event *ev) {
    bench *b = (bench *)ev->user;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        if (b->mode == MODE_RTT) {
            rtt_send(b);
            break;
        }
        b->sending = 1;
        if (wt_loop_timer(b->loop, (uint32_t)(b->seconds * 1000), flood_stop, b) < 0) finish(b, 0);
        flood_fill(b);
        break;
    case WT_EV_DATAGRAM_WRITABLE:
        flood_fill(b);
        break;
    case WT_EV_DATAGRAM:
        if (b->mode == MODE_RTT) rtt_echo(b, ev->data, ev->len);
        break;
    case WT_EV_STREAM_DATA:
        if (b->mode != MODE_FLOOD || !ev->fin) break;
        snprintf(b->report, sizeof b->report, "%.*s", (int)ev->len, (const char *)ev->data);
        (void)wt_session_connection_stats(ev->session, &b->stats);
        finish(b, 1);
        break;
    case WT_EV_SESSION_CLOSED:
        if (!b->finished) {
            fprintf(stderr, "wt_dgram: session ended: %s (status %d)\n", wt_strerror(ev->error), ev->status);
            b->finished = 1;
            b->ok = 0;
        }
        if (b->rtt_timer > 0) (void)wt_loop_timer_cancel(b->loop, b->rtt_timer);
        b->rtt_timer = 0;
        wt_loop_stop(b->loop);
        break;
    default:
        break;
    }
}

static void deadline(wt_loop *loop, void *user) {
    bench *b = (bench *)user;
    fprintf(stderr, "wt_dgram: did not finish in time\n");
    b->finished = 1;
    b->ok = 0;
    wt_loop_stop(loop);
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, c = *(const double *)y;
    return a < c ? -1 : a > c;
}

static int usage(void) {
    fprintf(stderr, "usage: wt_dgram --mode flood|rtt --url URL [--size B] [--seconds S] [--n N]\n"
                    "       [--queue-bytes B] [--queue N] [--cc cubic|reno|bbr] (the client's limits)\n"
                    "       [--pin HEX | --ca FILE | --insecure]\n");
    return 1;
}

/* A number after "key": in the report line; -1 if absent. */
static double report_num(const char *report, const char *key) {
    char pat[64];
    const char *p;
    snprintf(pat, sizeof pat, "\"%s\":", key);
    if (!(p = strstr(report, pat))) return -1;
    return atof(p + strlen(pat));
}

int main(int argc, char **argv) {
    wt_client_config cfg = {0};
    wt_client *client;
    bench *b;
    const char *url = NULL, *mode = "flood";
    int i = 1, rv, ok;
    uint32_t limit_ms;

    if (!(b = (bench *)calloc(1, sizeof *b))) return 1;
    b->size = 64;
    b->seconds = 2;
    b->n = 2000;
    while (i < argc) {
        rv = wt_client_config_args(&cfg, argc - i + 1, argv + i - 1);
        if (rv == WT_ARGS_HELP) return usage() - 1;
        if (rv < 0) return usage();
        i += rv - 1;
        if (i >= argc) break;
        if (i + 1 >= argc) return usage();
        if (!strcmp(argv[i], "--url")) url = argv[i + 1];
        else if (!strcmp(argv[i], "--mode")) mode = argv[i + 1];
        else if (!strcmp(argv[i], "--size")) b->size = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--seconds")) b->seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--n")) b->n = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--queue-bytes")) cfg.limits.datagram_queue_bytes = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--queue")) cfg.limits.datagram_queue = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--cc") && !strcmp(argv[i + 1], "bbr")) cfg.limits.congestion_control = WT_CC_BBR;
        else if (!strcmp(argv[i], "--cc") && !strcmp(argv[i + 1], "reno")) cfg.limits.congestion_control = WT_CC_RENO;
        else if (!strcmp(argv[i], "--cc") && !strcmp(argv[i + 1], "cubic")) cfg.limits.congestion_control = WT_CC_CUBIC;
        else return usage();
        i += 2;
    }
    if (!strcmp(mode, "flood")) b->mode = MODE_FLOOD;
    else if (!strcmp(mode, "rtt")) b->mode = MODE_RTT;
    else return usage();
    if (!url || b->size < 8 || b->size > MAX_SIZE || b->seconds <= 0 || b->seconds > 600 || b->n < 1 ||
        b->n > 10000000)
        return usage();
    if (!cfg.ca_file && !cfg.cert_sha256) cfg.insecure = 1;
    cfg.log.level = WT_LOG_ERROR;
    memset(b->buf, 0xa5, sizeof b->buf);
    if (b->mode == MODE_RTT && !(b->rtt_us = (double *)calloc((size_t)b->n, sizeof(double)))) return 1;
    if (!(client = wt_client_create(&cfg))) return 1;
    b->loop = wt_client_loop(client);
    if ((rv = wt_client_connect(client, url, on_event, b, &b->session)) != WT_OK) {
        fprintf(stderr, "wt_dgram: connect %s: %s\n", url, wt_strerror(rv));
        wt_client_destroy(client);
        return 1;
    }
    /* a bound on the whole run: the flood's time, or every round trip timing out */
    limit_ms = DEADLINE_SLACK_MS + (b->mode == MODE_FLOOD ? (uint32_t)(b->seconds * 1000)
                                                           : (uint32_t)((b->n / 10 + 2) * RTT_TIMEOUT_MS));
    (void)wt_loop_timer(b->loop, limit_ms, deadline, b);
    rv = wt_loop_run(b->loop);
    ok = rv == WT_OK && b->ok;
    if (ok && b->mode == MODE_FLOOD) {
        double got = report_num(b->report, "datagrams"), span = report_num(b->report, "span_us") / 1e6;
        if (got <= 0 || span <= 0) {
            fprintf(stderr, "wt_dgram: nothing counted at the server: %s\n", b->report);
            ok = 0;
        } else {
            printf("{\"value\": %.0f, \"sent\": %llu, \"received\": %.0f, \"seconds\": %.3f, \"wouldblock\": %llu, "
                   "\"packets_sent\": %llu, \"packets_lost\": %llu, \"srtt_us\": %llu, \"cwnd\": %llu}\n",
                   got / span, (unsigned long long)b->sent, got, span, (unsigned long long)b->wouldblock,
                   (unsigned long long)b->stats.packets_sent, (unsigned long long)b->stats.packets_lost,
                   (unsigned long long)b->stats.smoothed_rtt_us, (unsigned long long)b->stats.cwnd);
        }
    } else if (ok) {
        qsort(b->rtt_us, (size_t)b->done, sizeof(double), cmp_double);
        printf("{\"value\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"min_us\": %.1f, \"lost\": %llu, \"n\": %llu}\n",
               b->rtt_us[b->done / 2], b->rtt_us[b->done * 9 / 10], b->rtt_us[b->done * 99 / 100], b->rtt_us[0],
               (unsigned long long)b->lost, (unsigned long long)b->done);
    }
    fflush(stdout);
    wt_client_destroy(client);
    free(b->rtt_us);
    free(b);
    return ok ? 0 : 1;
}
