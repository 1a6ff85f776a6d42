/* upload_client.c - the client twin of concurrent_streams_server: N uploads at once.
 *
 *   cc -std=c11 -O2 examples/upload_client.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o upload_client
 *   ./upload_client (--pin HEX | --ca FILE | --insecure) [-n 5] [-s 10000] [URL]
 *                                        ($P: cat build/deps/prefix after make deps)
 *
 * URL defaults to https://127.0.0.1:4433/upload. Opens N bidirectional
 * streams at once, sends SIZE bytes on each with FIN (write_all), then
 * DRAIN: no more streams are coming (the server's `async for` ends). Prints
 * each answer as it comes and, once all N are in, the total time: about one
 * second against concurrent_streams_server, however large N is, because
 * the server works on all of them at once. Then closes the session (code 0)
 * and exits 0; 1 on any failure or after 30 s.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPLY 4096
#define DEADLINE_MS 30000

static struct {
    wt_loop *loop;
    wt_stream *streams[100]; /* until their CLOSED */
    int n, size, answered, exit_code, closed; /* closed: the session pointer is gone */
    uint64_t started_ms;
} u;

static void fail(wt_session *s, const char *what, int err) {
    fprintf(stderr, "upload_client: %s: %s\n", what, wt_strerror(err));
    u.exit_code = 1;
    (void)wt_session_close(s, 1, what); /* CLOSED follows either way */
}

/* Once every upload is delivered (acknowledged), DRAIN tells the server
   that no more streams are coming. Sent sooner it could overtake them. */
static void drain_when_delivered(wt_loop *loop, void *user) {
    wt_session *s = (wt_session *)user;
    int i, rv;
    if (u.closed) return;
    for (i = 0; i < u.n; i++)
        if (u.streams[i] && wt_stream_send_buffered(u.streams[i]) > 0) {
            if (wt_loop_timer(loop, 10, drain_when_delivered, s) < 0) fail(s, "no timer", WT_ERR_NOMEM);
            return;
        }
    if ((rv = wt_session_drain(s)) != WT_OK) fail(s, "cannot drain", rv);
}

/* Opens the N streams, each with its whole upload, then says that's all. */
static void upload_all(wt_session *s) {
    uint8_t *data = (uint8_t *)malloc((size_t)u.size);
    int i, rv = WT_OK;
    if (!data) {
        fail(s, "out of memory", WT_ERR_NOMEM);
        return;
    }
    memset(data, 'x', (size_t)u.size); /* the "file" */
    u.started_ms = wt_loop_now_ms(u.loop);
    for (i = 0; i < u.n && rv == WT_OK; i++) {
        wt_stream *st;
        rv = wt_session_open_stream(s, 1, &st);
        if (rv == WT_OK) u.streams[i] = st;
        if (rv == WT_OK) rv = wt_stream_read_all(st, MAX_REPLY); /* the answer as one DATA event */
        if (rv == WT_OK) rv = wt_stream_write_all(st, data, (size_t)u.size, 1);
    }
    free(data);
    if (rv == WT_OK && wt_loop_timer(u.loop, 10, drain_when_delivered, s) < 0) rv = WT_ERR_NOMEM;
    if (rv != WT_OK) {
        fail(s, "cannot upload", rv);
        return;
    }
    printf("Uploading %d streams of %d bytes at once.\n", u.n, u.size);
}

static void on_event(wt_event *ev) {
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        upload_all(ev->session);
        break;
    case WT_EV_STREAM_DATA:
        if (!ev->fin) {
            fail(ev->session, "answer too long", WT_ERR_TOO_BIG);
            break;
        }
        printf("Stream %lld: %.*s\n", (long long)wt_stream_id(ev->stream), (int)ev->len, (const char *)ev->data);
        if (++u.answered == u.n) {
            printf("All %d uploads answered in %.2f s.\n", u.n, (double)(wt_loop_now_ms(u.loop) - u.started_ms) / 1000);
            (void)wt_session_close(ev->session, 0, "done");
        }
        break;
    case WT_EV_STREAM_RESET:
        fail(ev->session, "the server reset a stream", WT_ERR_CLOSED);
        break;
    case WT_EV_STREAM_CLOSED: {
        int i;
        for (i = 0; i < u.n; i++)
            if (u.streams[i] == ev->stream) u.streams[i] = NULL;
        break;
    }
    case WT_EV_SESSION_CLOSED:
        if (ev->error != WT_OK || u.answered < u.n) {
            fprintf(stderr, "upload_client: session ended: %s (status %d, code %u)\n", wt_strerror(ev->error), ev->status,
                    ev->code);
            u.exit_code = 1;
        }
        u.closed = 1;
        wt_loop_stop(u.loop);
        break;
    default:
        break;
    }
    fflush(stdout);
}

static void too_late(wt_loop *loop, void *user) {
    (void)loop;
    if (!u.closed) fail((wt_session *)user, "no answers in time", WT_ERR_TIMEOUT);
}

static int usage(void) {
    fprintf(stderr, "usage: upload_client (--pin SHA256-HEX | --ca FILE | --insecure) [-n N] [-s SIZE] [URL]\n");
    return 1;
}

int main(int argc, char **argv) {
    const char *url = "https://127.0.0.1:4433/upload";
    wt_client_config cfg = {0};
    wt_session *session;
    wt_client *client;
    int i, rv;

    u.n = 5;
    u.size = 10000;
    if ((i = wt_client_config_args(&cfg, argc, argv)) <= 0) return i == WT_ARGS_HELP ? 0 : usage();
    for (; i < argc; i++) { /* then our own */
        if (!strcmp(argv[i], "-n") && i + 1 < argc) u.n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) u.size = atoi(argv[++i]);
        else if (strstr(argv[i], "://")) url = argv[i];
        else return usage();
    }
    if (!!cfg.ca_file + !!cfg.cert_sha256 + cfg.insecure != 1 || u.n < 1 || u.n > 100 || u.size < 0 ||
        u.size > (1 << 20))
        return usage();
    if (!(client = wt_client_create(&cfg))) return 1; /* the reason is logged */
    u.loop = wt_client_loop(client);
    rv = wt_client_connect(client, url, on_event, NULL, &session);
    if (rv == WT_OK && wt_loop_timer(u.loop, DEADLINE_MS, too_late, session) < 0) rv = WT_ERR_NOMEM;
    if (rv == WT_OK) rv = wt_loop_run(u.loop); /* until SESSION_CLOSED stops it */
    if (rv != WT_OK) {
        fprintf(stderr, "upload_client: %s\n", wt_strerror(rv));
        u.exit_code = 1;
    }
    wt_client_destroy(client);
    return u.exit_code;
}
