/* lb_peer.c - both ends of lb_test.sh: wt.h servers behind an nftables load
 * balancer in network namespaces, and the clients that check them.
 *
 *   lb_peer cert DIR
 *       writes DIR/cert.pem and DIR/key.pem, prints the SHA-256 (hex)
 *   lb_peer server --host IP --port P --cert F --key F --id HEX
 *                  --reset-key HEX --token-key HEX [--retry]
 *       one instance: QUIC-LB server ID HEX, the deployment's shared keys
 *       (32 bytes each); --retry: every new client proves its address with
 *       a Retry first. Every bidirectional stream is answered, on the same
 *       stream, with "sid=<server ID> cids=<cid>,<cid>,..." (the connection
 *       IDs this instance issued for the connection) and the request's
 *       text. Prints "READY" once listening; SIGTERM stops it.
 *   lb_peer client URL PIN --sid-len N --sessions K
 *       K sessions, each on its own connection (its own source port); per
 *       session one line
 *         SESSION i sid=<reported> dcid=<decoded> cids=<decodable>/<issued>
 *       where dcid is the server ID the test's QUIC-LB decoder (quiclb.h)
 *       reads from the CID the client sends to, and cids counts the
 *       instance's issued CIDs that decode to the ID it reported. A session
 *       that fails: "FAILED i error=<wt_strerror>". Exits 0 if every
 *       session was answered.
 *   lb_peer client URL PIN --sid-len N --interactive
 *       one session; prints "OPEN port=<local UDP port> sid=.. dcid=..",
 *       then per line on stdin: "ping [MS]" asks again on a new stream and
 *       prints "PONG sid=.. dcid=.." or, if the session ends instead,
 *       "CLOSED error=<wt_strerror> reset=<0|1>" (reset: the client heard
 *       a stateless reset) and exits, or after MS ms (default and at most
 *       10000) with neither, "SILENT reset=<0|1>" and goes on; "quit"
 *       closes and exits.
 * Log lines at WARN and above go to stderr; so does every line of a
 * client's log that mentions a reset or a token.
 */
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "quiclb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEADLINE_MS 10000 /* how long a client waits for anything */
#define REPLY_MAX 4096

static void peer_log(wt_log_level level, const char *msg, void *user) {
    int *resets = (int *)user;
    if (resets && strstr(msg, "stateless reset")) ++*resets;
    if (level <= WT_LOG_WARN || (resets && (strstr(msg, "reset") || strstr(msg, "token"))))
        fprintf(stderr, "log: %s\n", msg);
}

static void hex(const uint8_t *p, size_t n, char *out) {
    size_t i;
    for (i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = 0;
}

/* ---------------------------------------------------------------- server */
static char server_sid_hex[2 * WT_SERVER_ID_MAX + 1];

static void server_answer(wt_event *ev) {
    char out[REPLY_MAX];
    ngtcp2_cid cids[16];
    ngtcp2_conn *qc = ev->session->conn->tp.qc;
    size_t n = ngtcp2_conn_get_scid2(qc, NULL), i;
    int len;
    if (n > 16) n = 0; /* more than this test ever sees: report none, the client fails */
    else ngtcp2_conn_get_scid2(qc, cids);
    len = snprintf(out, sizeof out, "sid=%s cids=", server_sid_hex);
    for (i = 0; i < n && len < (int)sizeof out - 2 * NGTCP2_MAX_CIDLEN - 2; i++) {
        if (i) out[len++] = ',';
        hex(cids[i].data, cids[i].datalen, out + len);
        len += (int)(2 * cids[i].datalen);
    }
    len += snprintf(out + len, sizeof out - (size_t)len, " %.*s", (int)(ev->len < 64 ? ev->len : 64),
                    (const char *)ev->data);
    if (wt_stream_write_all(ev->stream, out, (size_t)len, 1) != WT_OK) wt_stream_reset(ev->stream, 1);
}

static void server_handler(wt_event *ev) {
    if (ev->type == WT_EV_STREAM_OPEN && wt_stream_is_bidi(ev->stream)) {
        if (wt_stream_read_all(ev->stream, 1024) != WT_OK) wt_stream_reset(ev->stream, 1);
    } else if (ev->type == WT_EV_STREAM_DATA && ev->fin) {
        server_answer(ev);
    }
}

static int ready_hook(wt_app *app, void *user) {
    (void)app;
    (void)user;
    printf("READY\n");
    fflush(stdout);
    return WT_OK;
}

static int key_arg(const char *s, uint8_t out[32]) {
    return quiclb_unhex(s, out, 32) == 32 ? 0 : -1;
}

static int run_server(int argc, char **argv) {
    wt_app_config cfg;
    wt_app *app;
    uint8_t sid[WT_SERVER_ID_MAX], reset_key[32], token_key[32];
    int i, n = 0, rv, have_reset = 0, have_token = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.stop_on_signals = 1;
    cfg.log.fn = peer_log;
    cfg.log.level = WT_LOG_WARN;
    cfg.limits.retry_threshold = UINT32_MAX; /* never, unless --retry */
    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--retry")) {
            cfg.limits.retry_threshold = 1;
            continue;
        }
        if (!v) break;
        i++;
        if (!strcmp(a, "--host")) cfg.host = v;
        else if (!strcmp(a, "--port")) cfg.port = atoi(v);
        else if (!strcmp(a, "--cert")) cfg.cert_file = v;
        else if (!strcmp(a, "--key")) cfg.key_file = v;
        else if (!strcmp(a, "--id")) n = quiclb_unhex(v, sid, sizeof sid);
        else if (!strcmp(a, "--reset-key")) have_reset = key_arg(v, reset_key) == 0;
        else if (!strcmp(a, "--token-key")) have_token = key_arg(v, token_key) == 0;
        else break;
    }
    if (i < argc || n <= 0 || !have_reset || !have_token) {
        fprintf(stderr, "lb_peer server: bad arguments (see lb_peer.c)\n");
        return 2;
    }
    cfg.server_id = sid;
    cfg.server_id_len = (size_t)n;
    cfg.reset_key = reset_key;
    cfg.token_key = token_key;
    hex(sid, (size_t)n, server_sid_hex);
    if (!(app = wt_app_create(&cfg))) return 1;
    rv = wt_app_route(app, "/lb", server_handler, NULL);
    if (rv == WT_OK) rv = wt_app_on_startup(app, ready_hook, NULL);
    if (rv == WT_OK) rv = wt_app_run(app);
    wt_app_destroy(app);
    return rv == WT_OK ? 0 : 1;
}

/* ---------------------------------------------------------------- client */
typedef struct probe {
    wt_client *client;
    wt_session *s;
    int index, open, closed, error, answered, resets;
    char reply[REPLY_MAX];
} probe;

static quiclb_config lb_cfg;

static void client_handler(wt_event *ev) {
    probe *p = (probe *)ev->user;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        p->open = 1;
        p->s = ev->session;
        break;
    case WT_EV_SESSION_CLOSED:
        p->closed = 1;
        p->error = ev->error;
        p->s = NULL;
        break;
    case WT_EV_STREAM_DATA:
        if (ev->fin) {
            snprintf(p->reply, sizeof p->reply, "%.*s", (int)ev->len, (const char *)ev->data);
            p->answered = 1;
        }
        break;
    default:
        break;
    }
}

/* Asks on a new stream; the caller runs the loop until answered or closed. */
static int ask(probe *p, const char *text) {
    wt_stream *st;
    p->answered = 0;
    if (!p->s || wt_session_open_stream(p->s, 1, &st) != WT_OK) return -1;
    wt_stream_read_all(st, REPLY_MAX - 1);
    return wt_stream_write_all(st, text, strlen(text), 1) == WT_OK ? 0 : -1;
}

/* The reply's server ID, the server ID decoded from our current DCID, and
   how many of the reported CIDs decode to the reported ID (of how many). */
static void judge(probe *p, char *sid, char *dcid_sid, int *ok, int *issued) {
    const ngtcp2_cid *d = ngtcp2_conn_get_dcid2(p->s->conn->tp.qc);
    uint8_t got[15], want[15], cid[NGTCP2_MAX_CIDLEN];
    const char *c;
    char one[2 * NGTCP2_MAX_CIDLEN + 1];
    int n;
    *ok = *issued = 0;
    strcpy(dcid_sid, "none");
    if (quiclb_decode(&lb_cfg, d->data, d->datalen, got) == 0) hex(got, lb_cfg.server_id_len, dcid_sid);
    if (sscanf(p->reply, "sid=%30[0-9a-f]", sid) != 1) strcpy(sid, "none");
    if (quiclb_unhex(sid, want, sizeof want) != (int)lb_cfg.server_id_len || !(c = strstr(p->reply, " cids=")))
        return;
    c += 6;
    while (sscanf(c, "%40[0-9a-f]", one) == 1) {
        ++*issued;
        n = quiclb_unhex(one, cid, sizeof cid);
        if (n > 0 && quiclb_decode(&lb_cfg, cid, (size_t)n, got) == 0 && !memcmp(got, want, lb_cfg.server_id_len))
            ++*ok;
        c += strlen(one);
        if (*c != ',') break;
        c++;
    }
}

static void run_until(wt_loop *loop, int *a, int *b) {
    uint64_t end = wt_loop_now_ms(loop) + DEADLINE_MS;
    while (!*a && !*b && wt_loop_now_ms(loop) < end) wt_loop_run_once(loop, 20);
}

static int local_port(probe *p) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(p->s->conn->tp.sock->fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

static int run_client(int argc, char **argv) {
    static probe probes[64];
    wt_loop_config lc;
    wt_client_config cc;
    wt_loop *loop;
    uint8_t pin[32];
    const char *url;
    int i, k = 1, interactive = 0, failed = 0;
    char sid[32], dsid[32];
    if (argc < 4 || quiclb_unhex(argv[3], pin, sizeof pin) != 32) {
        fprintf(stderr, "lb_peer client: URL PIN ... (see lb_peer.c)\n");
        return 2;
    }
    url = argv[2];
    lb_cfg.check_length = 1;
    for (i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--interactive")) interactive = 1;
        else if (!strcmp(argv[i], "--sid-len") && i + 1 < argc) lb_cfg.server_id_len = (size_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sessions") && i + 1 < argc) k = atoi(argv[++i]);
        else return fprintf(stderr, "lb_peer client: unknown %s\n", argv[i]), 2;
    }
    if (k < 1 || k > 64 || lb_cfg.server_id_len < 1 || lb_cfg.server_id_len > 14) return 2;
    if (interactive) k = 1;
    memset(&lc, 0, sizeof lc);
    if (!(loop = wt_loop_create(&lc))) return 1;
    for (i = 0; i < k; i++) { /* a client each: a connection, a source port each */
        probe *p = &probes[i];
        memset(&cc, 0, sizeof cc);
        cc.cert_sha256 = pin;
        cc.loop = loop;
        cc.log.fn = peer_log;
        cc.log.user = &p->resets;
        cc.log.level = WT_LOG_INFO;
        p->index = i;
        if (!(p->client = wt_client_create(&cc)) || wt_client_connect(p->client, url, client_handler, p, NULL) != WT_OK)
            return 1;
    }
    for (i = 0; i < k; i++) {
        probe *p = &probes[i];
        int ok, issued;
        run_until(loop, &p->open, &p->closed);
        if (!p->open || ask(p, interactive ? "hello" : "session") != 0) {
            printf("FAILED %d error=%s\n", i, p->closed ? wt_strerror(p->error) : "timeout");
            failed++;
            continue;
        }
        run_until(loop, &p->answered, &p->closed);
        if (!p->answered) {
            printf("FAILED %d error=%s\n", i, p->closed ? wt_strerror(p->error) : "no answer");
            failed++;
            continue;
        }
        judge(p, sid, dsid, &ok, &issued);
        if (interactive) printf("OPEN port=%d sid=%s dcid=%s\n", local_port(p), sid, dsid);
        else printf("SESSION %d sid=%s dcid=%s cids=%d/%d\n", i, sid, dsid, ok, issued);
    }
    fflush(stdout);
    if (interactive && !failed) {
        probe *p = &probes[0];
        char line[64];
        while (fgets(line, sizeof line, stdin)) {
            int ok, issued, ms = DEADLINE_MS;
            if (strncmp(line, "ping", 4) != 0) break;
            if (line[4] == ' ') ms = atoi(line + 5);
            if (ms <= 0 || ms > DEADLINE_MS) ms = DEADLINE_MS;
            if (ask(p, "ping") == 0) {
                uint64_t end = wt_loop_now_ms(loop) + (uint64_t)ms;
                while (!p->answered && !p->closed && wt_loop_now_ms(loop) < end) wt_loop_run_once(loop, 20);
            }
            if (p->closed) {
                printf("CLOSED error=%s reset=%d\n", wt_strerror(p->error), p->resets > 0);
                fflush(stdout);
                break;
            }
            if (!p->answered) {
                printf("SILENT reset=%d\n", p->resets > 0);
                fflush(stdout);
                continue;
            }
            judge(p, sid, dsid, &ok, &issued);
            printf("PONG sid=%s dcid=%s\n", sid, dsid);
            fflush(stdout);
        }
    }
    for (i = 0; i < k; i++)
        if (probes[i].s) wt_session_close(probes[i].s, 0, NULL);
    {
        uint64_t end = wt_loop_now_ms(loop) + 1000;
        int all;
        do {
            all = 1;
            for (i = 0; i < k; i++) all &= probes[i].closed || !probes[i].open;
            if (!all) wt_loop_run_once(loop, 20);
        } while (!all && wt_loop_now_ms(loop) < end);
    }
    for (i = 0; i < k; i++) wt_client_destroy(probes[i].client);
    wt_loop_destroy(loop);
    return failed ? 1 : 0;
}

/* ---------------------------------------------------------------- cert */
static int run_cert(const char *dir) {
    wt_cert_config cc;
    char crt[512], key[512], out[65];
    uint8_t sum[32];
    snprintf(crt, sizeof crt, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    memset(&cc, 0, sizeof cc);
    cc.cert_file = crt;
    cc.key_file = key;
    if (wt_cert_generate(&cc) != WT_OK || wt_cert_sha256(crt, sum) != WT_OK) return 1;
    hex(sum, 32, out);
    printf("%s\n", out);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && !strcmp(argv[1], "cert")) return run_cert(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "server")) return run_server(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "client")) return run_client(argc, argv);
    fprintf(stderr, "usage: lb_peer cert DIR | server ... | client URL PIN ... (see lb_peer.c)\n");
    return 2;
}
