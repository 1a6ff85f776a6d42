/* example_probe.c - the client side of examples_test.sh: drives the example
 * servers and prints what it sees, one line per event, for the script to
 * check. The server is pinned by its certificate's SHA-256.
 *
 *   example_probe URL SHA256-HEX [--close] [--uploads N SIZE] [--abandon]
 *   example_probe URL SHA256-HEX --chat
 *
 * One session to URL. Lines printed:
 *   OPEN                          the session is open
 *   UNI <text>                    a whole unidirectional stream from the server
 *   REPLY <text>                  the whole answer on one of our bidi streams
 *   DATAGRAM <text>
 *   CLOSED code=C reason=R error=E status=S   (always last)
 * --close        close the session (code 0) once it is open and every
 *                upload is answered; otherwise wait for the server to close
 * --uploads N SIZE   open N bidirectional streams at once, SIZE bytes each
 * --abandon      close the session as soon as the server has acknowledged
 *                every upload, without waiting for the answers
 * --chat         two sessions, A and B (two connections): B sends a datagram
 *                until A receives it, then A sends one until B receives it;
 *                prints "A got <text>" / "B got <text>", then closes both
 * Exits 0 once every session is closed, 1 after 15 s.
 */
#define WT_IMPLEMENTATION
#include "../wt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_UPLOADS 32

typedef struct probe {
    wt_loop *loop;
    wt_session *session;
    const char *name;      /* "A"/"B" in chat mode, NULL otherwise */
    struct probe *peer;    /* chat: the other session */
    int open, closed;
    int close_when_done, abandon;
    int uploads, upload_size, answers;
    wt_stream *streams[MAX_UPLOADS];
    const char *say;       /* chat: what this session sends until the peer has it */
    int heard;             /* chat: the peer's message arrived */
} probe;

static int sessions_left;

static void stop_if_done(probe *p) {
    if (--sessions_left == 0) wt_loop_stop(p->loop);
}

static void upload(probe *p) {
    static char buf[1 << 16];
    int i;
    memset(buf, 'u', sizeof buf);
    for (i = 0; i < p->uploads; i++) {
        wt_stream *st;
        if (wt_session_open_stream(p->session, 1, &st) != WT_OK) {
            printf("ERROR cannot open upload %d\n", i);
            continue;
        }
        wt_stream_read_all(st, 4096);
        if (wt_stream_write(st, buf, (size_t)p->upload_size) != p->upload_size) printf("ERROR short write\n");
        wt_stream_finish(st);
        p->streams[i] = st;
    }
}

/* --abandon: every upload acknowledged by the server, close without waiting. */
static void check_acked(wt_loop *loop, void *user) {
    probe *p = (probe *)user;
    int i;
    if (p->closed) return;
    for (i = 0; i < p->uploads; i++)
        if (p->streams[i] && wt_stream_send_buffered(p->streams[i]) > 0) {
            wt_loop_timer(loop, 10, check_acked, p);
            return;
        }
    printf("ABANDON\n");
    wt_session_close(p->session, 0, "abandoned");
}

/* --chat: say it again until the other side has heard it. */
static void chat_send(wt_loop *loop, void *user) {
    probe *p = (probe *)user;
    if (p->closed || p->peer->heard) return;
    wt_session_send_datagram(p->session, p->say, strlen(p->say));
    wt_loop_timer(loop, 100, chat_send, p);
}

static void on_event(wt_event *ev) {
    probe *p = (probe *)ev->user;
    const char *who = p->name ? p->name : "";
    int i;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        p->open = 1;
        printf("%s%sOPEN\n", who, p->name ? " " : "");
        if (p->uploads) upload(p);
        if (p->abandon) wt_loop_timer(p->loop, 10, check_acked, p);
        if (p->close_when_done && !p->uploads) wt_session_close(ev->session, 0, "bye");
        if (p->name && p->peer->open) chat_send(p->loop, !strcmp(p->name, "B") ? p : p->peer); /* both in: B starts */
        break;
    case WT_EV_STREAM_OPEN:
        wt_stream_read_all(ev->stream, 4096);
        break;
    case WT_EV_STREAM_DATA:
        if (!ev->fin) break;
        if (!wt_stream_is_local(ev->stream)) {
            printf("UNI %.*s\n", (int)ev->len, (const char *)ev->data);
            break;
        }
        printf("REPLY %.*s\n", (int)ev->len, (const char *)ev->data);
        for (i = 0; i < p->uploads; i++)
            if (p->streams[i] == ev->stream) p->answers++;
        if (p->close_when_done && p->answers == p->uploads) wt_session_close(ev->session, 0, "bye");
        break;
    case WT_EV_STREAM_CLOSED:
        for (i = 0; i < p->uploads; i++)
            if (p->streams[i] == ev->stream) p->streams[i] = NULL;
        break;
    case WT_EV_DATAGRAM:
        if (!p->name) {
            printf("DATAGRAM %.*s\n", (int)ev->len, (const char *)ev->data);
            break;
        }
        printf("%s got %.*s\n", p->name, (int)ev->len, (const char *)ev->data);
        if (ev->len != strlen(p->peer->say) || memcmp(ev->data, p->peer->say, ev->len) != 0 || p->heard) break;
        p->heard = 1;
        if (!strcmp(p->name, "A")) chat_send(p->loop, p); /* A's turn */
        else {                                            /* both heard: done */
            wt_session_close(p->session, 0, "bye");
            wt_session_close(p->peer->session, 0, "bye");
        }
        break;
    case WT_EV_SESSION_CLOSED:
        p->closed = 1;
        printf("%s%sCLOSED code=%u reason=%.*s error=%d status=%d\n", who, p->name ? " " : "", ev->code,
               (int)ev->reason_len, ev->reason, ev->error, ev->status);
        stop_if_done(p);
        break;
    default:
        break;
    }
    fflush(stdout);
}

static void give_up(wt_loop *loop, void *user) {
    (void)loop, (void)user;
    printf("TIMEOUT\n");
    fflush(stdout);
    exit(1);
}

static int parse_sha256(const char *hex, uint8_t out[32]) {
    int i;
    if (strlen(hex) != 64) return -1;
    for (i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

int main(int argc, char **argv) {
    wt_client_config cfg;
    wt_client *client, *second = NULL;
    probe p, q;
    uint8_t pin[32];
    int i, chat = 0;
    if (argc < 3 || parse_sha256(argv[2], pin) != 0) {
        fprintf(stderr, "usage: example_probe URL SHA256-HEX [--close] [--uploads N SIZE] [--abandon] [--chat]\n");
        return 2;
    }
    memset(&p, 0, sizeof p);
    memset(&q, 0, sizeof q);
    for (i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--close")) p.close_when_done = 1;
        else if (!strcmp(argv[i], "--abandon")) p.abandon = 1;
        else if (!strcmp(argv[i], "--chat")) chat = 1;
        else if (!strcmp(argv[i], "--uploads") && i + 2 < argc) {
            p.uploads = atoi(argv[++i]);
            p.upload_size = atoi(argv[++i]);
            if (p.uploads < 1 || p.uploads > MAX_UPLOADS || p.upload_size < 1 || p.upload_size > 1 << 16) return 2;
        } else return 2;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.cert_sha256 = pin;
    if (!(client = wt_client_create(&cfg))) return 1;
    p.loop = wt_client_loop(client);
    wt_loop_timer(p.loop, 15000, give_up, NULL);
    sessions_left = 1;
    if (chat) {
        cfg.loop = p.loop; /* B on a connection of its own, same loop */
        if (!(second = wt_client_create(&cfg))) return 1;
        q.loop = p.loop;
        p.name = "A", q.name = "B";
        p.say = "hello from A", q.say = "hello from B";
        p.peer = &q, q.peer = &p;
        sessions_left = 2;
        if (wt_client_connect(second, argv[1], on_event, &q, &q.session) != WT_OK) return 1;
    }
    if (wt_client_connect(client, argv[1], on_event, &p, &p.session) != WT_OK) return 1;
    wt_loop_run(p.loop);
    if (second) wt_client_destroy(second);
    wt_client_destroy(client);
    return 0;
}
