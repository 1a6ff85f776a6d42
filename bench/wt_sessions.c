/* wt_sessions.c - opens and closes WebTransport sessions as fast as a
 * server takes them; the client side of the session figures.
 *
 *   build/bench/wt_sessions --url https://127.0.0.1:4433/echo
 *       [--mode sequential|reuse|parallel] [--n N] [--inflight K]
 *       [--seconds S] [--server-pid PID] [--pin HEX | --ca F | --insecure]
 *
 * Each session: connect, wait for the 200 (WT_EV_SESSION_OPEN), close.
 *   sequential  one at a time, each on a new QUIC connection, closed with
 *               CONNECTION_CLOSE once the session is open (handshake,
 *               CONNECT, 200, close);
 *   parallel    the same with K in flight (K clients on one loop, so each
 *               has a connection of its own);
 *   reuse       K in flight over one connection: each session ends with
 *               CLOSE_WEBTRANSPORT_SESSION and the next one takes its
 *               place on the same connection (mind the server's
 *               max_sessions: wt_bench_server allows 256).
 * It stops after N sessions (default 100) or once S seconds have passed
 * (0: no time limit), whichever comes first, and prints one JSON line:
 *   {"mode": "...", "sessions": opened, "failed": n, "seconds": s,
 *    "sessions_per_s": r, "open_p50_ms": m, "open_p99_ms": m,
 *    "client_cpu_ms": c, "server_cpu_ms": c}
 * open_p*: from wt_client_connect to WT_EV_SESSION_OPEN. server_cpu_ms
 * (with --server-pid, Linux): the server process's CPU time over the run
 * (all its threads, from /proc/PID/task/x/schedstat in nanoseconds, or
 * /proc/PID/stat in clock ticks where schedstat is missing), divided by
 * the sessions: the server's cost of one whole session. Exits 1 when a
 * session failed or nothing happened for 10 s.
 * Without --pin/--ca it does not verify the server (--insecure).
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define STALL_MS 10000
#define MAX_INFLIGHT 4096

enum { MODE_SEQUENTIAL, MODE_PARALLEL, MODE_REUSE };

typedef struct bench bench;
typedef struct slot {
    bench *b;
    wt_client *client; /* its own, or the shared one (reuse) */
    uint64_t start_ns;
    int opened, busy;
} slot;

struct bench {
    wt_loop *loop;
    const char *url;
    int mode;
    uint64_t n, launched, opened, failed;
    uint64_t deadline_ns, t0_ns, last_progress_ns;
    double *open_ms; /* one per opened session, up to n */
    slot *slots;
    int inflight, busy;
    int stopping; /* the loop returned: CLOSED events from the destroys start nothing */
};

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of a process, all threads, in ns; 0 if unreadable. */
static uint64_t proc_cpu_ns(long pid) {
    char path[96], line[512];
    uint64_t sum = 0;
    int found = 0;
    DIR *d;
    struct dirent *e;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    if ((d = opendir(path)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            unsigned long long run;
            if (e->d_name[0] == '.') continue;
            snprintf(path, sizeof path, "/proc/%ld/task/%.20s/schedstat", pid, e->d_name);
            if (!(f = fopen(path, "r"))) continue;
            if (fscanf(f, "%llu", &run) == 1) {
                sum += run;
                found = 1;
            }
            fclose(f);
        }
        closedir(d);
    }
    if (found) return sum;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if ((f = fopen(path, "r")) != NULL) {
        if (fgets(line, sizeof line, f)) {
            /* fields 14 and 15 (utime, stime) after the ")" that ends the name */
            char *p = strrchr(line, ')');
            unsigned long long ut, st;
            if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
                sum = (ut + st) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
        }
        fclose(f);
    }
    return sum;
}

static void on_event(wt_event *ev);

/* Starts the slot's next session, or retires the slot when done. */
static void launch(slot *sl) {
    bench *b = sl->b;
    uint64_t now = mono_ns();
    int rv;
    for (;;) {
        if (b->stopping || b->launched >= b->n || (b->deadline_ns && now >= b->deadline_ns)) {
            if (sl->busy && --b->busy == 0) wt_loop_stop(b->loop);
            sl->busy = 0;
            return;
        }
        b->launched++;
        sl->opened = 0;
        sl->start_ns = now;
        rv = wt_client_connect(sl->client, b->url, on_event, sl, NULL);
        if (rv == WT_OK) return;
        fprintf(stderr, "wt_sessions: connect: %s\n", wt_strerror(rv));
        b->failed++;
    }
}

static void on_event(wt_event *ev) {
    slot *sl = (slot *)ev->user;
    bench *b = sl->b;
    int rv;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        sl->opened = 1;
        b->last_progress_ns = mono_ns();
        if (b->opened < b->n) b->open_ms[b->opened] = (double)(b->last_progress_ns - sl->start_ns) / 1e6;
        b->opened++;
        if (b->mode == MODE_REUSE) rv = wt_session_close(ev->session, 0, NULL);
        else rv = wt_session_close_connection(ev->session, 0x100, NULL); /* H3_NO_ERROR */
        if (rv != WT_OK) fprintf(stderr, "wt_sessions: close: %s\n", wt_strerror(rv));
        break;
    case WT_EV_SESSION_CLOSED:
        if (!sl->opened && !b->stopping) {
            b->failed++;
            fprintf(stderr, "wt_sessions: a session failed: %s (status %d)\n", wt_strerror(ev->error), ev->status);
        }
        launch(sl);
        break;
    default:
        break;
    }
}

static void watchdog(wt_loop *loop, void *user) {
    bench *b = (bench *)user;
    if (mono_ns() - b->last_progress_ns > (uint64_t)STALL_MS * 1000000u) {
        fprintf(stderr, "wt_sessions: no session opened for %d ms: giving up\n", STALL_MS);
        b->failed++;
        wt_loop_stop(loop);
        return;
    }
    (void)wt_loop_timer(loop, 500, watchdog, b);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, uint64_t n, double p) {
    if (!n) return 0;
    return v[(uint64_t)(p * (double)(n - 1) + 0.5)];
}

static int usage(void) {
    fprintf(stderr, "usage: wt_sessions --url URL [--mode sequential|reuse|parallel] [--n N] [--inflight K]\n"
                    "       [--seconds S] [--server-pid PID] [--pin HEX | --ca FILE | --insecure]\n");
    return 1;
}

int main(int argc, char **argv) {
    wt_client_config cfg = {0};
    wt_loop_config lcfg = {0};
    bench b;
    const char *mode = "sequential";
    double seconds = 0, elapsed;
    long server_pid = 0;
    uint64_t srv0 = 0, srv1 = 0;
    struct rusage ru;
    int i = 1, k, rv, ok = 1;

    memset(&b, 0, sizeof b);
    b.n = 100;
    b.inflight = 1;
    while (i < argc) {
        rv = wt_client_config_args(&cfg, argc - i + 1, argv + i - 1);
        if (rv == WT_ARGS_HELP) return usage() - 1;
        if (rv < 0) return usage();
        i += rv - 1;
        if (i >= argc) break;
        if (i + 1 >= argc) return usage();
        if (!strcmp(argv[i], "--url")) b.url = argv[i + 1];
        else if (!strcmp(argv[i], "--mode")) mode = argv[i + 1];
        else if (!strcmp(argv[i], "--n")) b.n = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--inflight")) b.inflight = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--server-pid")) server_pid = atol(argv[i + 1]);
        else return usage();
        i += 2;
    }
    if (!strcmp(mode, "sequential")) b.mode = MODE_SEQUENTIAL, b.inflight = 1;
    else if (!strcmp(mode, "parallel")) b.mode = MODE_PARALLEL;
    else if (!strcmp(mode, "reuse")) b.mode = MODE_REUSE;
    else return usage();
    if (!b.url || b.n == 0 || b.inflight < 1 || b.inflight > MAX_INFLIGHT || seconds < 0) return usage();
    if (!cfg.ca_file && !cfg.cert_sha256) cfg.insecure = 1;
    cfg.log.level = WT_LOG_ERROR; /* not a warning per client about insecure */
    if ((uint64_t)b.inflight > b.n) b.inflight = (int)b.n;

    if (!(b.loop = wt_loop_create(&lcfg))) return 1;
    cfg.loop = b.loop;
    b.open_ms = (double *)calloc((size_t)b.n, sizeof(double));
    b.slots = (slot *)calloc((size_t)b.inflight, sizeof(slot));
    if (!b.open_ms || !b.slots) return 1;
    for (k = 0; k < b.inflight; k++) {
        b.slots[k].b = &b;
        if (b.mode == MODE_REUSE && k > 0) b.slots[k].client = b.slots[0].client;
        else if (!(b.slots[k].client = wt_client_create(&cfg))) return 1;
    }
    if (server_pid) srv0 = proc_cpu_ns(server_pid);
    b.t0_ns = b.last_progress_ns = mono_ns();
    if (seconds > 0) b.deadline_ns = b.t0_ns + (uint64_t)(seconds * 1e9);
    b.busy = b.inflight;
    for (k = 0; k < b.inflight; k++) {
        b.slots[k].busy = 1;
        launch(&b.slots[k]);
    }
    (void)wt_loop_timer(b.loop, 500, watchdog, &b);
    if (b.busy > 0 && (rv = wt_loop_run(b.loop)) != WT_OK) {
        fprintf(stderr, "wt_sessions: %s\n", wt_strerror(rv));
        ok = 0;
    }
    b.stopping = 1;
    elapsed = (double)(mono_ns() - b.t0_ns) / 1e9;
    if (server_pid) srv1 = proc_cpu_ns(server_pid);
    getrusage(RUSAGE_SELF, &ru);
    qsort(b.open_ms, (size_t)(b.opened < b.n ? b.opened : b.n), sizeof(double), cmp_double);
    printf("{\"mode\": \"%s\", \"inflight\": %d, \"sessions\": %llu, \"failed\": %llu, \"seconds\": %.3f, "
           "\"sessions_per_s\": %.1f, \"open_p50_ms\": %.3f, \"open_p99_ms\": %.3f, \"client_cpu_ms\": %.1f",
           mode, b.inflight, (unsigned long long)b.opened, (unsigned long long)b.failed, elapsed,
           elapsed > 0 ? (double)b.opened / elapsed : 0.0, pct(b.open_ms, b.opened, 0.5),
           pct(b.open_ms, b.opened, 0.99),
           (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
    if (server_pid && srv1 >= srv0 && srv0)
        printf(", \"server_cpu_ms\": %.3f, \"server_cpu_ms_per_session\": %.4f", (double)(srv1 - srv0) / 1e6,
               b.opened ? (double)(srv1 - srv0) / 1e6 / (double)b.opened : 0.0);
    printf("}\n");
    fflush(stdout);
    /* stopping: no session is left running (each slot retired), so the
       destroys only finish closing connections */
    for (k = 0; k < b.inflight; k++)
        if (b.mode != MODE_REUSE || k == 0) wt_client_destroy(b.slots[k].client);
    wt_loop_destroy(b.loop);
    free(b.open_ms);
    free(b.slots);
    return ok && b.failed == 0 && b.opened > 0 ? 0 : 1;
}
