/* example_probe.c - the client side of examples_test.sh: drives the example
 * servers and prints what it sees, one line per event, for the script to
 * check. The server is pinned by its certificate's SHA-256.
 *
 *   example_probe URL SHA256-HEX [--close] [--uploads N SIZE] [--abandon]
 *   example_probe URL SHA256-HEX --chat N
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
 * --chat N       N sessions A, B, C... (one connection each, 2 <= N <= 8):
 *                each sends "hello from X" as a datagram every 50 ms until
 *                every other member has it; once all have all, each sends
 *                "marker from X" the same way (after the markers, an echo of
 *                a member's own hello would have come: the negative check
 *                has its positive beside it); prints "X got <text>" for
 *                every datagram, then closes them all
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
    const char *name;      /* "A", "B"... in chat mode, NULL otherwise */
    int index;             /* chat: this member's number */
    int open, closed;
    int close_when_done, abandon;
    int uploads, upload_size, answers;
    wt_stream *streams[MAX_UPLOADS];
} probe;

#define MAX_MEMBERS 8
static int sessions_left;
static probe members[MAX_MEMBERS];
static int nmembers, nopen;
static int heard[2][MAX_MEMBERS][MAX_MEMBERS]; /* [phase][listener][speaker] */
static int phase;                               /* 0: hellos, 1: markers, 2: done */
static const char *const phase_word[2] = {"hello", "marker"};

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

/* --chat: has every other member heard what `speaker` says in this phase? */
static int all_heard(int ph, int speaker) {
    int i;
    for (i = 0; i < nmembers; i++)
        if (i != speaker && !heard[ph][i][speaker]) return 0;
    return 1;
}

/* --chat: say it again (every 50 ms) until everyone else has heard it. */
static void chat_send(wt_loop *loop, void *user) {
    probe *p = (probe *)user;
    char msg[64];
    if (p->closed || phase > 1) return;
    if (!all_heard(phase, p->index)) {
        snprintf(msg, sizeof msg, "%s from %s", phase_word[phase], p->name);
        if (wt_session_send_datagram(p->session, msg, strlen(msg)) != WT_OK) printf("%s ERROR send\n", p->name);
    }
    wt_loop_timer(loop, 50, chat_send, p);
}

/* --chat: a datagram arrived at member p. */
static void chat_heard(probe *p, const uint8_t *data, size_t len) {
    int ph, i, done = 1;
    printf("%s got %.*s\n", p->name, (int)len, (const char *)data);
    for (ph = 0; ph < 2; ph++)
        for (i = 0; i < nmembers; i++) {
            char msg[64];
            snprintf(msg, sizeof msg, "%s from %s", phase_word[ph], members[i].name);
            if (len == strlen(msg) && !memcmp(data, msg, len)) heard[ph][p->index][i] = 1;
        }
    if (phase > 1) return;
    for (i = 0; i < nmembers; i++) done &= all_heard(phase, i);
    if (!done) return;
    if (++phase == 2) /* both rounds heard by all: leave */
        for (i = 0; i < nmembers; i++) wt_session_close(members[i].session, 0, "bye");
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
        if (p->name && ++nopen == nmembers) /* all in: everyone starts talking */
            for (i = 0; i < nmembers; i++) chat_send(p->loop, &members[i]);
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
        chat_heard(p, ev->data, ev->len);
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
    static const char *const names[MAX_MEMBERS] = {"A", "B", "C", "D", "E", "F", "G", "H"};
    wt_client_config cfg;
    wt_client *clients[MAX_MEMBERS];
    wt_loop *loop;
    probe p;
    uint8_t pin[32];
    int i, chat = 0, nclients = 0;
    if (argc < 3 || parse_sha256(argv[2], pin) != 0) {
        fprintf(stderr, "usage: example_probe URL SHA256-HEX [--close] [--uploads N SIZE] [--abandon] [--chat N]\n");
        return 2;
    }
    memset(&p, 0, sizeof p);
    for (i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--close")) p.close_when_done = 1;
        else if (!strcmp(argv[i], "--abandon")) p.abandon = 1;
        else if (!strcmp(argv[i], "--chat") && i + 1 < argc) {
            chat = atoi(argv[++i]);
            if (chat < 2 || chat > MAX_MEMBERS) return 2;
        } else if (!strcmp(argv[i], "--uploads") && i + 2 < argc) {
            p.uploads = atoi(argv[++i]);
            p.upload_size = atoi(argv[++i]);
            if (p.uploads < 1 || p.uploads > MAX_UPLOADS || p.upload_size < 1 || p.upload_size > 1 << 16) return 2;
        } else return 2;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.cert_sha256 = pin;
    if (!(clients[nclients++] = wt_client_create(&cfg))) return 1;
    loop = cfg.loop = wt_client_loop(clients[0]); /* every member on this loop */
    wt_loop_timer(loop, 15000, give_up, NULL);
    if (!chat) {
        p.loop = loop;
        sessions_left = 1;
        if (wt_client_connect(clients[0], argv[1], on_event, &p, &p.session) != WT_OK) return 1;
    } else { /* each member on a connection of its own */
        nmembers = sessions_left = chat;
        for (i = 0; i < chat; i++) {
            members[i].loop = loop;
            members[i].name = names[i];
            members[i].index = i;
            if (i > 0 && !(clients[nclients++] = wt_client_create(&cfg))) return 1;
            if (wt_client_connect(clients[i], argv[1], on_event, &members[i], &members[i].session) != WT_OK) return 1;
        }
    }
    wt_loop_run(loop);
    while (nclients > 1) wt_client_destroy(clients[--nclients]);
    wt_client_destroy(clients[0]); /* owns the loop: last */
    return 0;
}
