/* concurrent_streams_server.c - many uploads at once, each answered later.
 *
 *   cc -std=c11 -O2 examples/concurrent_streams_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o concurrent_streams_server
 *   ./concurrent_streams_server [port]   ($P: cat build/deps/prefix after make deps)
 *
 * Generates localhost.crt/.key, prints the certificate's SHA-256 and listens
 * on https://127.0.0.1:4433/upload. Every bidirectional stream the client
 * opens is read whole (up to MAX_UPLOAD bytes); then a one-second timer
 * stands for the processing work (saving a file, say) and, when it fires,
 * "Processed N bytes from stream ID." is written back and the stream
 * finished. Each stream has its own timer, so ten streams opened together
 * are all answered about one second later, not ten. Ctrl-C stops the server.
 *
 * A stream pointer is valid only until its WT_EV_STREAM_CLOSED (the client
 * may reset it, or close the session): the per-stream job lives on the heap,
 * hangs off the stream (wt_stream_set_user), and is freed there, after
 * cancelling its timer if it has not fired yet.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_UPLOAD (1 << 20) /* largest stream this example reads whole */
#define WORK_MS 1000         /* the simulated processing time */

/* One upload being processed. */
typedef struct job {
    wt_stream *stream;
    size_t len;    /* bytes received */
    int64_t timer; /* > 0 while the work is pending */
    int done;      /* answered, or given up on */
} job;

static wt_app *app;

/* The work is over: answer on the stream, which is still alive (its CLOSED
   event would have cancelled this timer). */
static void work_done(wt_loop *loop, void *user) {
    job *j = (job *)user;
    char response[96];
    int n;
    (void)loop;
    j->timer = 0;
    n = snprintf(response, sizeof response, "Processed %zu bytes from stream %lld.", j->len,
                 (long long)wt_stream_id(j->stream));
    j->done = 1;
    if (wt_stream_write(j->stream, response, (size_t)n) == n && wt_stream_finish(j->stream) == WT_OK)
        printf("Task finished for stream %lld.\n", (long long)wt_stream_id(j->stream));
    else
        printf("Error processing stream %lld: cannot send the answer\n", (long long)wt_stream_id(j->stream));
    fflush(stdout);
}

static void fail_stream(job *j, wt_stream *st, const char *why) {
    printf("Error processing stream %lld: %s\n", (long long)wt_stream_id(st), why);
    if (j) j->done = 1;
    wt_stream_reset(st, 0); /* our side is done too, so the stream closes */
}

static void upload_handler(wt_event *ev) {
    job *j = ev->stream ? (job *)wt_stream_user(ev->stream) : NULL;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        printf("Session %llu ready to receive concurrent uploads.\n", (unsigned long long)wt_session_id(ev->session));
        break;
    case WT_EV_STREAM_OPEN:
        if (!wt_stream_is_bidi(ev->stream)) break; /* nowhere to answer: ignored */
        if (!(j = (job *)calloc(1, sizeof *j))) {
            fail_stream(NULL, ev->stream, "out of memory");
            break;
        }
        j->stream = ev->stream;
        wt_stream_set_user(ev->stream, j);
        wt_stream_read_all(ev->stream, MAX_UPLOAD);
        printf("Task started for stream %lld.\n", (long long)wt_stream_id(ev->stream));
        break;
    case WT_EV_STREAM_DATA:
        if (!j) break;
        if (!ev->fin) { /* over MAX_UPLOAD: the library stopped the upload */
            fail_stream(j, ev->stream, "too large");
            break;
        }
        /* don't block: start the work and return to the loop */
        j->len = ev->len;
        j->timer = wt_loop_timer(wt_app_loop(app), WORK_MS, work_done, j);
        if (j->timer < 0) {
            fail_stream(j, ev->stream, wt_strerror((int)j->timer));
            j->timer = 0;
        }
        break;
    case WT_EV_STREAM_RESET: /* the client aborted the upload */
        if (j && !j->timer && !j->done) fail_stream(j, ev->stream, "reset by the client");
        break;
    case WT_EV_STREAM_CLOSED: /* last event of the stream: forget it */
        if (!j) break;
        if (j->timer > 0) {
            wt_loop_timer_cancel(wt_app_loop(app), j->timer);
            printf("Task cancelled for stream %lld.\n", (long long)wt_stream_id(ev->stream));
        }
        wt_stream_set_user(ev->stream, NULL);
        free(j);
        break;
    case WT_EV_SESSION_CLOSED:
        printf("Session %llu closed.\n", (unsigned long long)wt_session_id(ev->session));
        break;
    default:
        break;
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
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
    wt_app_route(app, "/upload", upload_handler, NULL);
    rv = wt_app_run(app);
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}
