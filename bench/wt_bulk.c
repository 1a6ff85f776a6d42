/* wt_bulk.c - one bulk transfer over one WebTransport stream: the client
 * side of the bulk figures (bench/fig/bulk_down.sh, bulk_up.sh,
 * bulk_peak_rss.sh) against build/bench/wt_bench_server.
 *
 *   build/bench/wt_bulk --url https://127.0.0.1:4433 --down N | --up N
 *       [--pin HEX | --ca F | --insecure]
 *
 * --down N  opens a session to URL/source?bytes=N and reads the
 *           unidirectional stream the server sends (N bytes, then FIN);
 * --up N    opens a session to URL/sink, writes N bytes on a bidirectional
 *           stream with FIN and waits for the server's count of them.
 * Then it closes the session and prints one JSON line:
 *   {"mode": "down", "bytes": N, "seconds": s, "mb_per_s": r}
 * seconds: from wt_client_connect to the last byte (down) or the count
 * (up), so the handshake is in it, as it is in the reference client's run.
 * Exits 1 when the transfer failed, came out short or stalled 10 s.
 * Without --pin/--ca it does not verify the server (--insecure).
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 65536
#define STALL_MS 10000

typedef struct bulk {
    wt_loop *loop;
    int up;
    uint64_t want, got, sent;
    uint64_t t0_ns, t1_ns, last_progress_ns, progress_mark;
    wt_stream *st;
    int inflight; /* write_ref chunks not yet acknowledged */
    char reply[32];
    size_t reply_len;
    int done, failed;
} bulk;

static uint8_t fill[CHUNK];

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void finish(bulk *b, wt_session *s, int failed) {
    if (b->done) return;
    b->done = 1;
    b->failed = failed;
    b->t1_ns = mono_ns();
    (void)wt_session_close(s, 0, NULL);
}

/* Upload by reference from one static buffer, INFLIGHT chunks waiting for
   their acknowledgements at a time (2 MiB, the default send buffer), as
   ngtcp2's example client hands nghttp3 its mapped file: the figure
   measures the transport, not a copy of the app's data. */
#define INFLIGHT 32
static void pump(bulk *b);

static void sent_done(wt_stream *st, const void *data, size_t len, int status, void *user) {
    bulk *b = (bulk *)user;
    (void)st, (void)data, (void)len;
    b->inflight--;
    if (status != WT_OK) return; /* the session's end reports it */
    pump(b);
}

static void pump(bulk *b) {
    while (b->st && b->sent < b->want && b->inflight < INFLIGHT) {
        size_t n = b->want - b->sent < CHUNK ? (size_t)(b->want - b->sent) : CHUNK;
        int fin = b->sent + n == b->want;
        int rv = wt_stream_write_ref(b->st, fill, n, fin, sent_done, b);
        if (rv != WT_OK) {
            fprintf(stderr, "wt_bulk: write: %s\n", wt_strerror(rv));
            finish(b, wt_stream_session(b->st), 1);
            return;
        }
        b->inflight++;
        b->sent += (uint64_t)n;
    }
}

static void on_event(wt_event *ev) {
    bulk *b = (bulk *)ev->user;
    int rv;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        if (!b->up) break;
        if ((rv = wt_session_open_stream(ev->session, 1, &b->st)) != WT_OK) {
            fprintf(stderr, "wt_bulk: open stream: %s\n", wt_strerror(rv));
            finish(b, ev->session, 1);
            break;
        }
        if (!b->want) (void)wt_stream_finish(b->st);
        pump(b);
        break;
    case WT_EV_STREAM_DATA:
        if (b->up) {
            /* the server's count, decimal ASCII, then FIN */
            size_t n = ev->len < sizeof b->reply - 1 - b->reply_len ? ev->len : sizeof b->reply - 1 - b->reply_len;
            memcpy(b->reply + b->reply_len, ev->data, n);
            b->reply_len += n;
            if (ev->fin) {
                b->reply[b->reply_len] = 0;
                b->got = strtoull(b->reply, NULL, 10);
                finish(b, ev->session, b->got != b->want);
            }
        } else {
            b->got += ev->len;
            if (ev->fin) finish(b, ev->session, b->got != b->want);
        }
        break;
    case WT_EV_STREAM_RESET:
        fprintf(stderr, "wt_bulk: stream reset (code %u)\n", (unsigned)ev->code);
        finish(b, ev->session, 1);
        break;
    case WT_EV_STREAM_CLOSED:
        if (ev->stream == b->st) b->st = NULL;
        break;
    case WT_EV_SESSION_CLOSED:
        if (!b->done) {
            fprintf(stderr, "wt_bulk: session closed early: %s (status %d)\n", wt_strerror(ev->error), ev->status);
            b->done = b->failed = 1;
            b->t1_ns = mono_ns();
        }
        wt_loop_stop(b->loop);
        break;
    default:
        break;
    }
}

static void watchdog(wt_loop *loop, void *user) {
    bulk *b = (bulk *)user;
    uint64_t mark = b->got + b->sent, now = mono_ns();
    if (b->done) return;
    if (mark != b->progress_mark) {
        b->progress_mark = mark;
        b->last_progress_ns = now;
    } else if (now - b->last_progress_ns > (uint64_t)STALL_MS * 1000000u) {
        fprintf(stderr, "wt_bulk: no progress for %d ms (%llu sent, %llu received): giving up\n", STALL_MS,
                (unsigned long long)b->sent, (unsigned long long)b->got);
        b->failed = 1;
        wt_loop_stop(loop);
        return;
    }
    (void)wt_loop_timer(loop, 500, watchdog, b);
}

static int usage(void) {
    fprintf(stderr, "usage: wt_bulk --url https://HOST:PORT (--down N | --up N) [--pin HEX | --ca FILE | --insecure]\n");
    return 1;
}

int main(int argc, char **argv) {
    wt_client_config cfg = {0};
    wt_loop_config lcfg = {0};
    wt_client *client;
    bulk b;
    const char *url = NULL;
    char full[512];
    double secs;
    int i = 1, rv, have = 0;

    memset(&b, 0, sizeof b);
    memset(fill, 0x5a, sizeof fill);
    while (i < argc) {
        rv = wt_client_config_args(&cfg, argc - i + 1, argv + i - 1);
        if (rv == WT_ARGS_HELP) return usage() - 1;
        if (rv < 0) return usage();
        i += rv - 1;
        if (i >= argc) break;
        if (i + 1 >= argc) return usage();
        if (!strcmp(argv[i], "--url")) url = argv[i + 1];
        else if (!strcmp(argv[i], "--down") || !strcmp(argv[i], "--up")) {
            char *end;
            b.up = argv[i][2] == 'u';
            b.want = strtoull(argv[i + 1], &end, 10);
            if (*end || !argv[i + 1][0]) return usage();
            have++;
        } else return usage();
        i += 2;
    }
    if (!url || have != 1) return usage();
    /* the URL's path is the route: strip a trailing slash before adding it */
    {
        size_t ul = strlen(url);
        while (ul && url[ul - 1] == '/') ul--;
        if (b.up) rv = snprintf(full, sizeof full, "%.*s/sink", (int)ul, url);
        else rv = snprintf(full, sizeof full, "%.*s/source?bytes=%llu", (int)ul, url, (unsigned long long)b.want);
        if (rv < 0 || (size_t)rv >= sizeof full) return usage();
    }
    if (!cfg.ca_file && !cfg.cert_sha256) cfg.insecure = 1;
    cfg.log.level = WT_LOG_ERROR; /* not the warning about --insecure */

    if (!(b.loop = wt_loop_create(&lcfg))) return 1;
    cfg.loop = b.loop;
    if (!(client = wt_client_create(&cfg))) return 1;
    b.t0_ns = b.last_progress_ns = mono_ns();
    if ((rv = wt_client_connect(client, full, on_event, &b, NULL)) != WT_OK) {
        fprintf(stderr, "wt_bulk: connect: %s\n", wt_strerror(rv));
        return 1;
    }
    (void)wt_loop_timer(b.loop, 500, watchdog, &b);
    if ((rv = wt_loop_run(b.loop)) != WT_OK) {
        fprintf(stderr, "wt_bulk: %s\n", wt_strerror(rv));
        b.failed = 1;
    }
    if (!b.t1_ns) b.t1_ns = mono_ns();
    secs = (double)(b.t1_ns - b.t0_ns) / 1e9;
    if (!b.failed)
        printf("{\"mode\": \"%s\", \"bytes\": %llu, \"seconds\": %.4f, \"mb_per_s\": %.1f}\n", b.up ? "up" : "down",
               (unsigned long long)b.got, secs, secs > 0 ? (double)b.got / secs / 1e6 : 0.0);
    else
        fprintf(stderr, "wt_bulk: failed: %llu of %llu bytes\n", (unsigned long long)b.got,
                (unsigned long long)b.want);
    fflush(stdout);
    wt_client_destroy(client);
    wt_loop_destroy(b.loop);
    return b.failed ? 1 : 0;
}
