/* concurrent_streams_server.c - the guide's concurrent_streams_server.py: uploads processed at once.
 *
 *   cc -std=c11 -O2 examples/concurrent_streams_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o concurrent_streams_server
 *   ./concurrent_streams_server [--host 127.0.0.1] [--port 4433] [--cert F --key F]
 *                                        ($P: cat build/deps/prefix after make deps)
 *
 * The route is "/upload". Each bidirectional stream the client opens is a
 * task: it reads the stream whole (read_all, up to MAX_UPLOAD bytes), then a
 * one-second loop timer stands for the guide's asyncio.sleep(1) (saving a
 * file, say), then "Processed N bytes from stream ID." goes back with FIN
 * (write_all). Every task has its own timer, so five streams opened
 * together are all answered about one second later, not five.
 *
 * The guide's `async for stream in session.incoming_streams()` ends when
 * the client will open no more: here when the client sends DRAIN
 * (wt_session_drain; examples/upload_client.c does after its last stream).
 * Then it prints "Waiting for N upload tasks to complete...", and "All
 * upload tasks finished." once the last one is done.
 *
 * A stream pointer is valid only until its WT_EV_STREAM_CLOSED (the client
 * may reset it, or close the session): the task lives on the heap, hangs
 * off the stream (wt_stream_set_user), and is freed there, after its timer
 * is cancelled if it has not fired yet. Ctrl-C stops the server.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_UPLOAD (1 << 20) /* the largest stream this example reads whole */
#define WORK_MS 1000         /* the simulated processing time */

/* Per session: the guide's `tasks` list, as counts. */
typedef struct uploads {
    unsigned tasks, finished;
    int draining; /* the client opens no more streams */
} uploads;

/* One upload being processed: the guide's process_single_stream task. */
typedef struct task {
    wt_stream *stream;
    uploads *u;
    size_t len;    /* bytes received */
    int64_t timer; /* > 0 while the work is pending */
    int done;      /* answered, or given up on */
} task;

static wt_app *app;

static long long sid(const wt_stream *st) { return (long long)wt_stream_id(st); }

static void task_done(task *t) {
    t->done = 1;
    if (++t->u->finished == t->u->tasks && t->u->draining) printf("All upload tasks finished.\n");
}

/* The work is over: answer on the stream, which is still alive (its CLOSED
   event would have cancelled this timer). */
static void work_done(wt_loop *loop, void *user) {
    task *t = (task *)user;
    char response[96];
    int n, rv;
    (void)loop;
    t->timer = 0;
    n = snprintf(response, sizeof response, "Processed %zu bytes from stream %lld.", t->len, sid(t->stream));
    rv = wt_stream_write_all(t->stream, response, (size_t)n, 1);
    if (rv == WT_OK) printf("Task finished for stream %lld.\n", sid(t->stream));
    else printf("Error processing stream %lld: %s\n", sid(t->stream), wt_strerror(rv));
    task_done(t);
    fflush(stdout);
}

static void fail_task(task *t, const char *why) {
    printf("Error processing stream %lld: %s\n", sid(t->stream), why);
    task_done(t);
    (void)wt_stream_reset(t->stream, 0); /* our side is done too, so the stream closes */
}

static void start_task(uploads *u, wt_stream *st) {
    task *t = (task *)calloc(1, sizeof *t);
    if (!t) {
        (void)wt_stream_reset(st, 0);
        return;
    }
    t->stream = st;
    t->u = u;
    u->tasks++;
    wt_stream_set_user(st, t);
    printf("Task started for stream %lld.\n", sid(st));
    if (wt_stream_read_all(st, MAX_UPLOAD) != WT_OK) fail_task(t, "cannot read");
}

static void upload_handler(wt_event *ev) {
    uploads *u = (uploads *)wt_session_user(ev->session);
    task *t = ev->stream ? (task *)wt_stream_user(ev->stream) : NULL;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        if (!(u = (uploads *)calloc(1, sizeof *u))) {
            (void)wt_session_close(ev->session, 1, "out of memory");
            break;
        }
        wt_session_set_user(ev->session, u);
        printf("Session %llu ready to receive concurrent uploads.\n", (unsigned long long)wt_session_id(ev->session));
        break;
    case WT_EV_STREAM_OPEN: /* don't await the work here: start a task */
        if (u && wt_stream_is_bidi(ev->stream)) start_task(u, ev->stream);
        break;
    case WT_EV_STREAM_DATA: /* with read_all: once, the whole upload */
        if (!t || t->done) break;
        if (!ev->fin) { /* over MAX_UPLOAD: the library stopped the upload */
            fail_task(t, "too large");
            break;
        }
        t->len = ev->len;
        t->timer = wt_loop_timer(wt_app_loop(app), WORK_MS, work_done, t); /* asyncio.sleep(1) */
        if (t->timer < 0) {
            t->timer = 0;
            fail_task(t, "no timer");
        }
        break;
    case WT_EV_STREAM_RESET: /* the client aborted the upload */
        if (t && !t->timer && !t->done) fail_task(t, "reset by the client");
        break;
    case WT_EV_STREAM_CLOSED: /* the last event of the stream: forget it */
        if (!t) break;
        if (t->timer > 0) {
            (void)wt_loop_timer_cancel(wt_app_loop(app), t->timer);
            printf("Task cancelled for stream %lld.\n", sid(ev->stream));
        }
        wt_stream_set_user(ev->stream, NULL);
        free(t);
        break;
    case WT_EV_SESSION_DRAINING: /* the incoming streams are over */
        if (!u || u->draining) break;
        u->draining = 1;
        if (u->tasks) printf("Waiting for %u upload tasks to complete...\n", u->tasks);
        if (u->tasks && u->finished == u->tasks) printf("All upload tasks finished.\n");
        break;
    case WT_EV_SESSION_CLOSED:
        printf("Session %llu closed.\n", (unsigned long long)wt_session_id(ev->session));
        free(u);
        break;
    default:
        break;
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    wt_app_config cfg = {0};
    int rv;

    cfg.host = "127.0.0.1";
    cfg.port = 4433;
    cfg.stop_on_signals = 1; /* Ctrl-C: a graceful stop (a second one: at once) */
    cfg.log.level = WT_LOG_INFO;
    cfg.dev_cert = 1;        /* generate_self_signed_cert("localhost"), in memory */
    if ((rv = wt_app_config_args(&cfg, argc, argv)) != argc) return rv == WT_ARGS_HELP ? 0 : 1;
    if (!(app = wt_app_create(&cfg))) return 1; /* the reason is logged */
    rv = wt_app_route(app, "/upload", upload_handler, NULL);
    if (rv == WT_OK) rv = wt_app_run(app);
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
