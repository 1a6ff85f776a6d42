/* test_trace.c - seeing inside a connection: qlog files (ngtcp2's events and
   the WebTransport ones), the TLS key log (checked by decrypting captured
   1-RTT packets with it), and log lines tagged with the connection. Runs on
   the simulated network (sim.h), so times and packets are exact. */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/hmac.h>

/* ---------------------------------------------------------------- a small JSON checker */
static const char *tj_value(const char *p, const char *end, int depth);

static const char *tj_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    return p;
}

static const char *tj_string(const char *p, const char *end) {
    if (p >= end || *p != '"') return NULL;
    for (p++; p < end; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') return p + 1;
        if (ch < 0x20) return NULL;
        if (ch == '\\') {
            if (++p >= end) return NULL;
            if (*p == 'u') {
                int i;
                for (i = 1; i <= 4; i++)
                    if (p + i >= end || !strchr("0123456789abcdefABCDEF", p[i]) || !p[i]) return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
                return NULL;
            }
        } else if (ch >= 0x80) {
            size_t k = wt__utf8_len((const uint8_t *)p, (size_t)(end - p));
            if (!k) return NULL;
            p += k - 1;
        }
    }
    return NULL;
}

static const char *tj_number(const char *p, const char *end) {
    const char *s = p;
    if (p < end && *p == '-') p++;
    if (p >= end || *p < '0' || *p > '9') return NULL;
    if (*p == '0') p++;
    else
        while (p < end && *p >= '0' && *p <= '9') p++;
    if (p < end && *p == '.') {
        if (++p >= end || *p < '0' || *p > '9') return NULL;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return NULL;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    return p > s ? p : NULL;
}

static const char *tj_value(const char *p, const char *end, int depth) {
    p = tj_ws(p, end);
    if (p >= end || depth > 64) return NULL;
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = tj_ws(p + 1, end);
        if (p < end && *p == close) return p + 1;
        for (;;) {
            if (obj) {
                if (!(p = tj_string(p, end))) return NULL;
                p = tj_ws(p, end);
                if (p >= end || *p != ':') return NULL;
                p++;
            }
            if (!(p = tj_value(p, end, depth + 1))) return NULL;
            p = tj_ws(p, end);
            if (p >= end) return NULL;
            if (*p == close) return p + 1;
            if (*p != ',') return NULL;
            p = tj_ws(p + 1, end);
        }
    }
    if (*p == '"') return tj_string(p, end);
    if (end - p >= 4 && !memcmp(p, "true", 4)) return p + 4;
    if (end - p >= 5 && !memcmp(p, "false", 5)) return p + 5;
    if (end - p >= 4 && !memcmp(p, "null", 4)) return p + 4;
    return tj_number(p, end);
}

/* One JSON object, alone on [p, end). */
static int tj_is_object(const char *p, const char *end) {
    const char *q = tj_ws(p, end);
    if (q >= end || *q != '{') return 0;
    q = tj_value(q, end, 0);
    return q && tj_ws(q, end) == end;
}

/* ---------------------------------------------------------------- files */
static char *trace_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f) return NULL;
    for (;;) {
        size_t got;
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = (char *)realloc(buf, cap);
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        if (!got) break;
        n += got;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* The names of the files in dir, up to max. */
static int trace_list(const char *dir, char names[][256], int max) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n < max) snprintf(names[n], 256, "%s", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static void trace_rmdir(const char *dir) {
    char names[64][256], path[400];
    int i, n = trace_list(dir, names, 64);
    for (i = 0; i < n && i < 64; i++) {
        snprintf(path, sizeof path, "%.100s/%.255s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Checks a qlog file: every record is RS + one JSON object + LF, the first
   is the JSON-SEQ header, times never go back. Returns the record count. */
static int trace_check_qlog(const char *text, size_t len) {
    const char *p = text, *end = text + len;
    int n = 0, bad = 0;
    long long last = -1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *t;
        if (!nl || *p != '\x1e' || !tj_is_object(p + 1, nl)) {
            printf("    not a JSON-SEQ record: %.*s\n", (int)((nl ? nl : end) - p > 200 ? 200 : (nl ? nl : end) - p), p);
            return -1;
        }
        if (n == 0 && !strstr(p, "\"qlog_format\":\"JSON-SEQ\"")) return -1;
        t = strstr(p, "\"time\":");
        if (n > 0 && (!t || t > nl)) return -1;
        if (n > 0) {
            long long v = strtoll(t + 7, NULL, 10);
            if (v < last && !bad++) printf("    time goes back from %lld to %lld: %.*s\n", last, v, (int)(nl - p), p);
            last = v;
        }
        n++;
        p = nl + 1;
    }
    return bad ? -1 : n;
}

/* The "time" of the first record containing frag, or -1. */
static long long trace_time_of(const char *text, const char *frag) {
    const char *hit = strstr(text, frag), *line, *t;
    if (!hit) return -1;
    for (line = hit; line > text && line[-1] != '\n'; line--) {}
    t = strstr(line, "\"time\":");
    return t && t < hit ? strtoll(t + 7, NULL, 10) : -1;
}

static int trace_count(const char *text, const char *frag) {
    int n = 0;
    const char *p = text;
    while ((p = strstr(p, frag)) != NULL) n++, p++;
    return n;
}

#define CHECK_HAS(text, frag)                                                              \
    do {                                                                                   \
        if (!strstr((text), (frag))) {                                                     \
            wt_test_failed_checks++;                                                       \
            printf("    %s:%d: the qlog has no %s\n", __FILE__, __LINE__, (frag));         \
        }                                                                                  \
    } while (0)

/* ---------------------------------------------------------------- a session that does a bit of everything */
typedef struct trace_srv {
    wt_session *a, *b;
    int closed_b, drained;
} trace_srv;

static void trace_server(wt_event *ev) {
    trace_srv *sv = (trace_srv *)ev->user;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        if (!sv->a) sv->a = ev->session;
        else sv->b = ev->session;
        break;
    case WT_EV_STREAM_OPEN: wt_stream_read_all(ev->stream, 65536); break;
    case WT_EV_STREAM_DATA:
        if (ev->fin && wt_stream_is_bidi(ev->stream)) {
            wt_stream_write(ev->stream, ev->data, ev->len);
            wt_stream_finish(ev->stream);
        }
        break;
    case WT_EV_DATAGRAM: wt_session_send_datagram(ev->session, ev->data, ev->len); break;
    case WT_EV_SESSION_CLOSED:
        if (ev->session == sv->b) sv->closed_b = 1;
        if (ev->session == sv->a) sv->a = NULL;
        if (ev->session == sv->b) sv->b = NULL;
        break;
    default: break;
    }
}

typedef struct trace_cli {
    wt_session *s;
    int open, closed, refused, draining, echoed, dgram, status;
    char echo[64];
    size_t echo_len;
} trace_cli;

static void trace_client(wt_event *ev) {
    trace_cli *c = (trace_cli *)ev->user;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        c->open = 1;
        c->s = ev->session;
        break;
    case WT_EV_SESSION_DRAINING: c->draining = 1; break;
    case WT_EV_STREAM_DATA:
        if (c->echo_len + ev->len < sizeof c->echo) {
            memcpy(c->echo + c->echo_len, ev->data, ev->len);
            c->echo_len += ev->len;
        }
        if (ev->fin) c->echoed = 1;
        break;
    case WT_EV_DATAGRAM: c->dgram = 1; break;
    case WT_EV_SESSION_CLOSED:
        c->closed = 1;
        c->refused = ev->error == WT_ERR_REFUSED;
        c->status = ev->status;
        c->s = NULL;
        break;
    default: break;
    }
}

/* Session A (ID 0) drained and closed by the server, B (4) with streams
   both ways, datagrams and a close from the client, C (8) refused with 404.
   Fills the times the client's connection started and B's close was sent. */
static int trace_story(sim *s, const char *close_reason, uint64_t *t_conn, uint64_t *t_close) {
    static trace_srv sv;
    static trace_cli a, b, c;
    wt_stream *bidi, *uni;
    memset(&sv, 0, sizeof sv);
    memset(&a, 0, sizeof a), memset(&b, 0, sizeof b), memset(&c, 0, sizeof c);
    if (wt_app_route(s->app, "/q", trace_server, &sv) != WT_OK) return -1;
    *t_conn = s->now;
    if (wt_client_connect(s->client, "https://10.0.0.1:443/q", trace_client, &a, NULL) != WT_OK) return -2;
    if (!sim_run(s, &a.open, 10000)) return -3;
    if (wt_client_connect(s->client, "https://10.0.0.1:443/q", trace_client, &b, NULL) != WT_OK) return -4;
    if (!sim_run(s, &b.open, 10000) || wt_session_stream_id(b.s) != 4) return -5;
    if (wt_client_connect(s->client, "https://10.0.0.1:443/nope", trace_client, &c, NULL) != WT_OK) return -6;
    if (!sim_run(s, &c.closed, 10000) || !c.refused || c.status != 404) return -7;
    if (wt_session_open_stream(b.s, 1, &bidi) != WT_OK || wt_stream_write(bidi, "ping", 4) != 4 ||
        wt_stream_finish(bidi) != WT_OK)
        return -8;
    if (wt_session_open_stream(b.s, 0, &uni) != WT_OK || wt_stream_write(uni, "uni", 3) != 3 ||
        wt_stream_finish(uni) != WT_OK)
        return -9;
    if (wt_session_send_datagram(b.s, "dg", 2) != WT_OK) return -10;
    if (!sim_run(s, &b.echoed, 10000) || b.echo_len != 4 || memcmp(b.echo, "ping", 4) != 0) return -11;
    if (!sim_run(s, &b.dgram, 10000)) return -12;
    if (!sv.a || wt_session_drain(sv.a) != WT_OK || !sim_run(s, &a.draining, 10000)) return -13;
    *t_close = s->now;
    if (wt_session_close(b.s, 42, close_reason) != WT_OK || !sim_run(s, &sv.closed_b, 10000)) return -14;
    if (!sv.a || wt_session_close(sv.a, 7, "done") != WT_OK || !sim_run(s, &a.closed, 10000)) return -15;
    return 0;
}

static char trace_saved_env[256];
static int trace_had_env;

static void trace_setenv(const char *dir) {
    const char *old = getenv("QLOGDIR");
    trace_had_env = old != NULL;
    if (old) snprintf(trace_saved_env, sizeof trace_saved_env, "%s", old);
    if (dir) setenv("QLOGDIR", dir, 1);
    else unsetenv("QLOGDIR");
}

static void trace_restore_env(void) {
    if (trace_had_env) setenv("QLOGDIR", trace_saved_env, 1);
    else unsetenv("QLOGDIR");
}

/* ---------------------------------------------------------------- qlog */
WT_TEST(trace_qlog_has_transport_and_webtransport_events) {
    /* a quote, a line break, a backslash, UTF-8 and a control character */
    static const char reason[] = "bye \"qlog\"\n\\ \xc3\xa9\x01";
    static const char reason_json[] = "\"reason\":\"bye \\\"qlog\\\"\\u000a\\\\ \xc3\xa9\\u0001\"";
    sim s;
    char dir[64], names[8][256], path[400], hex[40], frag[512];
    char *cl = NULL, *sv = NULL;
    size_t cl_len = 0, sv_len = 0;
    uint64_t t_conn = 0, t_close = 0;
    int n, rv, i;
    long long t;
    REQUIRE(wt_test_tmpdir(dir, sizeof dir) == 0);
    trace_setenv(dir); /* the common convention: QLOGDIR, config fields left NULL */
    memset(&s, 0, sizeof s);
    s.up.delay_ms = s.down.delay_ms = 15; /* times worth comparing */
    REQUIRE(sim_start(&s, 41, NULL, NULL) == 0);
    rv = trace_story(&s, reason, &t_conn, &t_close);
    if (rv) printf("    the session story failed at step %d\n", rv);
    CHECK_EQ_INT(rv, 0);
    {
        wt__conn *c = s.client->ep.conns;
        REQUIRE(c && c->qlog && s.app->ep.conns && s.app->ep.conns->qlog);
        wt_hex(c->tp.odcid.data, c->tp.odcid.datalen, hex);
    }
    sim_stop(&s);
    trace_restore_env();

    n = trace_list(dir, names, 8);
    CHECK_EQ_INT(n, 2); /* one file per end of the one connection */
    snprintf(path, sizeof path, "%s/%s_client.sqlog", dir, hex);
    cl = trace_slurp(path, &cl_len);
    snprintf(path, sizeof path, "%s/%s_server.sqlog", dir, hex);
    sv = trace_slurp(path, &sv_len);
    REQUIRE(cl && sv);
    CHECK(trace_check_qlog(cl, cl_len) > 50);
    CHECK(trace_check_qlog(sv, sv_len) > 50);
    CHECK_HAS(cl, "\"vantage_point\":{\"name\":\"ngtcp2\",\"type\":\"client\"}");
    CHECK_HAS(sv, "\"vantage_point\":{\"name\":\"ngtcp2\",\"type\":\"server\"}");
    for (i = 0; i < 2; i++) { /* ngtcp2's own events */
        const char *x = i ? sv : cl;
        CHECK_HAS(x, "\"name\":\"transport:packet_sent\"");
        CHECK_HAS(x, "\"name\":\"transport:packet_received\"");
        CHECK_HAS(x, "\"name\":\"transport:parameters_set\"");
        CHECK_HAS(x, "\"name\":\"recovery:metrics_updated\"");
        CHECK_HAS(x, "\"frame_type\":\"datagram\"");
        CHECK(!strstr(x, "qlog_records_dropped"));
    }

    /* the client's view */
    CHECK_HAS(cl, "\"name\":\"webtransport:session_requested\",\"data\":{\"session_id\":4,\"owner\":\"local\","
                  "\"authority\":\"10.0.0.1:443\",\"path\":\"/q\",\"protocol\":\"webtransport-h3\"}");
    CHECK_HAS(cl, "\"name\":\"webtransport:session_accepted\",\"data\":{\"session_id\":0,\"owner\":\"remote\",\"status\":200}");
    CHECK_HAS(cl, "\"name\":\"webtransport:session_accepted\",\"data\":{\"session_id\":4,\"owner\":\"remote\",\"status\":200}");
    CHECK_HAS(cl, "\"name\":\"webtransport:session_refused\",\"data\":{\"session_id\":8,\"owner\":\"remote\",\"status\":404}");
    CHECK_HAS(cl, "\"name\":\"webtransport:stream_attached\",\"data\":{\"session_id\":4,\"stream_id\":12,"
                  "\"stream_type\":\"bidirectional\",\"owner\":\"local\"}");
    CHECK_HAS(cl, "\"name\":\"webtransport:stream_attached\",\"data\":{\"session_id\":4,\"stream_id\":14,"
                  "\"stream_type\":\"unidirectional\",\"owner\":\"local\"}");
    CHECK_HAS(cl, "\"name\":\"webtransport:datagram_sent\",\"data\":{\"session_id\":4,\"length\":2}");
    CHECK_HAS(cl, "\"name\":\"webtransport:datagram_received\",\"data\":{\"session_id\":4,\"length\":2}");
    CHECK_HAS(cl, "\"name\":\"webtransport:capsule_received\",\"data\":{\"session_id\":0,"
                  "\"capsule_type\":\"drain_webtransport_session\",\"capsule_type_value\":30894}");
    snprintf(frag, sizeof frag,
             "\"name\":\"webtransport:capsule_sent\",\"data\":{\"session_id\":4,\"capsule_type\":"
             "\"close_webtransport_session\",\"capsule_type_value\":10307,\"error_code\":42,%s}",
             reason_json);
    CHECK_HAS(cl, frag);
    CHECK_HAS(cl, "\"name\":\"webtransport:capsule_received\",\"data\":{\"session_id\":0,\"capsule_type\":"
                  "\"close_webtransport_session\",\"capsule_type_value\":10307,\"error_code\":7,\"reason\":\"done\"}");
    snprintf(frag, sizeof frag,
             "\"name\":\"webtransport:session_closed\",\"data\":{\"session_id\":4,\"closed_by\":\"local\","
             "\"error_code\":42,%s,\"wt_error\":0",
             reason_json);
    CHECK_HAS(cl, frag);
    /* on ngtcp2's clock: 0 is when the connection started */
    t = trace_time_of(cl, "\"name\":\"webtransport:capsule_sent\",\"data\":{\"session_id\":4");
    CHECK_EQ_INT(t, (long long)((t_close - t_conn) / 1000000));
    printf("    B closed at %lld ms of the connection\n", t);
    CHECK(t > 150); /* half a dozen round trips of 30 ms came first */
    CHECK_HAS(cl, "\"name\":\"webtransport:session_closed\",\"data\":{\"session_id\":8,\"wt_error\":-17,");

    /* the server's view of the same story */
    CHECK_HAS(sv, "\"name\":\"webtransport:session_requested\",\"data\":{\"session_id\":4,\"owner\":\"remote\","
                  "\"authority\":\"10.0.0.1:443\",\"path\":\"/q\",\"protocol\":\"webtransport-h3\"}");
    CHECK_HAS(sv, "\"name\":\"webtransport:session_accepted\",\"data\":{\"session_id\":4,\"owner\":\"local\",\"status\":200}");
    CHECK_HAS(sv, "\"name\":\"webtransport:session_refused\",\"data\":{\"session_id\":8,\"owner\":\"local\",\"status\":404}");
    CHECK_HAS(sv, "\"name\":\"webtransport:stream_attached\",\"data\":{\"session_id\":4,\"stream_id\":12,"
                  "\"stream_type\":\"bidirectional\",\"owner\":\"remote\"}");
    CHECK_HAS(sv, "\"name\":\"webtransport:stream_attached\",\"data\":{\"session_id\":4,\"stream_id\":14,"
                  "\"stream_type\":\"unidirectional\",\"owner\":\"remote\"}");
    CHECK_HAS(sv, "\"name\":\"webtransport:datagram_received\",\"data\":{\"session_id\":4,\"length\":2}");
    CHECK_HAS(sv, "\"name\":\"webtransport:datagram_sent\",\"data\":{\"session_id\":4,\"length\":2}");
    CHECK_HAS(sv, "\"name\":\"webtransport:capsule_sent\",\"data\":{\"session_id\":0,"
                  "\"capsule_type\":\"drain_webtransport_session\",\"capsule_type_value\":30894}");
    snprintf(frag, sizeof frag,
             "\"name\":\"webtransport:capsule_received\",\"data\":{\"session_id\":4,\"capsule_type\":"
             "\"close_webtransport_session\",\"capsule_type_value\":10307,\"error_code\":42,%s}",
             reason_json);
    CHECK_HAS(sv, frag);
    CHECK_HAS(sv, "\"name\":\"webtransport:capsule_sent\",\"data\":{\"session_id\":0,\"capsule_type\":"
                  "\"close_webtransport_session\",\"capsule_type_value\":10307,\"error_code\":7,\"reason\":\"done\"}");
    CHECK_HAS(sv, "\"name\":\"webtransport:session_closed\",\"data\":{\"session_id\":4,\"closed_by\":\"remote\","
                  "\"error_code\":42");
    /* each session asked for once on each side */
    CHECK_EQ_INT(trace_count(cl, "webtransport:session_requested"), 3);
    CHECK_EQ_INT(trace_count(sv, "webtransport:session_requested"), 3);
    free(cl);
    free(sv);
    trace_rmdir(dir);
}

static void trace_qlog_off_cfg(wt_app_config *ac, wt_client_config *cc) {
    if (ac) ac->qlog_dir = "";
    if (cc) cc->qlog_dir = "";
}

WT_TEST(trace_qlog_off_writes_nothing) {
    sim s;
    char dir[64], names[4][256];
    uint64_t t1, t2;
    int rv;
    REQUIRE(wt_test_tmpdir(dir, sizeof dir) == 0);
    /* "" in the config turns it off even with QLOGDIR set */
    trace_setenv(dir);
    sim_configure = trace_qlog_off_cfg;
    memset(&s, 0, sizeof s);
    rv = sim_start(&s, 42, NULL, NULL);
    sim_configure = NULL;
    REQUIRE(rv == 0);
    CHECK(s.app->ep.qlog_dir == NULL && s.client->ep.qlog_dir == NULL);
    CHECK_EQ_INT(trace_story(&s, "x", &t1, &t2), 0);
    CHECK(s.client->ep.conns && !s.client->ep.conns->qlog);
    sim_stop(&s);
    CHECK_EQ_INT(trace_list(dir, names, 4), 0);
    /* and without QLOGDIR there is nothing to write to at all (the first
       value back first: trace_setenv saves what it replaces) */
    trace_restore_env();
    trace_setenv(NULL);
    memset(&s, 0, sizeof s);
    REQUIRE(sim_start(&s, 43, NULL, NULL) == 0);
    CHECK(s.app->ep.qlog_dir == NULL && s.client->ep.qlog_dir == NULL);
    CHECK_EQ_INT(trace_story(&s, "x", &t1, &t2), 0);
    CHECK(s.client->ep.conns && !s.client->ep.conns->qlog && s.app->ep.conns && !s.app->ep.conns->qlog);
    sim_stop(&s);
    trace_restore_env();
    CHECK_EQ_INT(trace_list(dir, names, 4), 0);
    trace_rmdir(dir);
}

WT_TEST(trace_qlog_dir_that_cannot_be_used_fails_create) {
    wt_app_config ac;
    wt_client_config cc;
    wt_app *app;
    wt_client *cl;
    REQUIRE(harness_cert() == 0);
    memset(&ac, 0, sizeof ac);
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.port = -1;
    ac.log.fn = harness_quiet_log;
    ac.qlog_dir = "/proc/no/such/dir";
    harness_log_match = "qlog_dir /proc/no/such/dir: not a writable directory";
    harness_log_hits = 0;
    app = wt_app_create(&ac);
    CHECK(app == NULL);
    wt_app_destroy(app);
    memset(&cc, 0, sizeof cc);
    cc.insecure = 1;
    cc.log.fn = harness_quiet_log;
    cc.qlog_dir = "/proc/no/such/dir";
    cl = wt_client_create(&cc);
    CHECK(cl == NULL);
    wt_client_destroy(cl);
    CHECK_EQ_INT(harness_log_hits, 2);
    harness_log_match = NULL;
}

/* A file that takes nothing (a pipe nobody reads): memory stays at the
   buffer, every record is either in the file or counted as dropped, and
   the file and the log say how many were dropped. */
static char trace_log_lines[64][600];
static int trace_nlog;

static void trace_capture_log(wt_log_level level, const char *msg, void *user) {
    (void)user;
    if (trace_nlog < 64) snprintf(trace_log_lines[trace_nlog++], sizeof trace_log_lines[0], "%s", msg);
    if (getenv("WT_TEST_LOG") || level <= WT_LOG_ERROR) fprintf(stderr, "    [log] %s\n", msg);
}

WT_TEST(trace_qlog_drops_and_counts_when_the_file_stalls) {
    wt_loop_config lc;
    wt__ep ep;
    wt__conn c;
    wt__qlog *q;
    int fds[2], i, dropped_line = 0;
    char rec[1000], *got = NULL, marker[160];
    size_t got_len = 0, written = 0, total = 0;
    memset(&lc, 0, sizeof lc);
    memset(&ep, 0, sizeof ep);
    memset(&c, 0, sizeof c);
    ep.log.fn = trace_capture_log;
    ep.log.level = WT_LOG_WARN;
    trace_nlog = 0;
    REQUIRE((ep.loop = wt_loop_create(&lc)) != NULL);
    c.ep = &ep;
    snprintf(c.log_id, sizeof c.log_id, "feedf00d");
    REQUIRE(pipe(fds) == 0);
    REQUIRE(fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    REQUIRE((q = wt__qlog_new(&c, fds[1], wt__strdup(NULL, "pipe"))) != NULL);
    c.qlog = q;
    memset(rec, 'x', sizeof rec);
    rec[0] = '\x1e';
    memcpy(rec + 1, "{\"time\":0,\"name\":\"t\",\"data\":{\"pad\":\"", 36);
    memcpy(rec + sizeof rec - 5, "\"}}\n", 4);
    rec[sizeof rec - 1] = 0;
    for (i = 0; i < 1000; i++) { /* 1 MB into a 64 KiB pipe and a 64 KiB buffer */
        wt__qlog_put(q, rec, sizeof rec - 1);
        total += sizeof rec - 1;
        CHECK(q->len <= WT__QLOG_BUF);
    }
    CHECK(q->dropped > 800);
    CHECK(q->dropped_noted == 0);
    /* the reader wakes up: what it reads is whole records, then the count */
    for (;;) {
        char buf[65536];
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r <= 0) break;
        got = (char *)realloc(got, got_len + (size_t)r + 1);
        memcpy(got + got_len, buf, (size_t)r);
        got_len += (size_t)r;
    }
    written = got_len;
    snprintf(marker, sizeof marker, "\"name\":\"wt:qlog_records_dropped\",\"data\":{\"records\":%llu,",
             (unsigned long long)q->dropped);
    wt__qlog_close(&c); /* flushes the rest: buffer, the count, nothing lost silently */
    for (;;) {
        char buf[65536];
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r <= 0) break;
        got = (char *)realloc(got, got_len + (size_t)r + 1);
        memcpy(got + got_len, buf, (size_t)r);
        got_len += (size_t)r;
    }
    close(fds[0]);
    REQUIRE(got);
    got[got_len] = 0;
    CHECK(written > 0 && written < got_len); /* some while stalled, the rest at the end */
    {
        /* whole records only (no header record here: this is not a connection) */
        const char *p = got, *end = got + got_len, *m = strstr(got, marker);
        size_t records = 0;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            REQUIRE(nl && *p == '\x1e' && tj_is_object(p + 1, nl));
            if (!strncmp(p + 1, "{\"time\":0,\"name\":\"t\",", 21)) records++;
            p = nl + 1;
        }
        REQUIRE(m != NULL);
        /* every record is in the pipe or in the count */
        CHECK_EQ_INT(records + strtoull(strstr(m, "\"records\":") + 10, NULL, 10), 1000);
        CHECK_EQ_INT(records * (sizeof rec - 1) + strtoull(strstr(m, "\"bytes\":") + 8, NULL, 10), total);
    }
    for (i = 0; i < trace_nlog; i++)
        if (strstr(trace_log_lines[i], "[cid feedf00d] qlog pipe: ") && strstr(trace_log_lines[i], "records (") &&
            strstr(trace_log_lines[i], "dropped"))
            dropped_line++;
    CHECK_EQ_INT(dropped_line, 1);
    free(got);
    wt_loop_destroy(ep.loop);
}

/* ---------------------------------------------------------------- TLS key log */
#ifdef HAVE_SECRET_CALLBACK
#define TRACE_MAX_PKTS 600
static struct {
    int to_server;
    size_t len;
    uint8_t data[1500];
} trace_pkts[TRACE_MAX_PKTS];
static int trace_npkts;

static void trace_tap(int to_server, const uint8_t *data, size_t len) {
    if (trace_npkts >= TRACE_MAX_PKTS || len > sizeof trace_pkts[0].data) return;
    trace_pkts[trace_npkts].to_server = to_server;
    trace_pkts[trace_npkts].len = len;
    memcpy(trace_pkts[trace_npkts].data, data, len);
    trace_npkts++;
}

static char trace_keylog_server[128], trace_keylog_client[128];

static void trace_keylog_cfg(wt_app_config *ac, wt_client_config *cc) {
    if (ac) {
        ac->tls_keylog = trace_keylog_server;
        ac->log.fn = trace_capture_log;
    }
    if (cc) {
        cc->tls_keylog = trace_keylog_client;
        cc->log.fn = trace_capture_log;
    }
}

typedef struct trace_secret {
    char label[40];
    uint8_t random[32], secret[64];
    size_t len;
} trace_secret;

static int trace_unhex(const char *p, size_t n, uint8_t *out) {
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(p + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* Reads NSS key log lines: LABEL <64 hex> <hex>. */
static int trace_read_keylog(const char *path, trace_secret *out, int max) {
    size_t len;
    char *text = trace_slurp(path, &len), *line, *save = NULL;
    int n = 0;
    if (!text) return -1;
    for (line = strtok_r(text, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
        char label[40], rnd[65], sec[129];
        if (sscanf(line, "%39s %64s %128s", label, rnd, sec) != 3 || strlen(rnd) != 64 ||
            (strlen(sec) != 64 && strlen(sec) != 96))
            continue;
        snprintf(out[n].label, sizeof out[n].label, "%s", label);
        out[n].len = strlen(sec) / 2;
        if (trace_unhex(rnd, 32, out[n].random) || trace_unhex(sec, out[n].len, out[n].secret)) continue;
        n++;
    }
    free(text);
    return n;
}

static const trace_secret *trace_find_secret(const trace_secret *s, int n, const char *label) {
    int i;
    for (i = 0; i < n; i++)
        if (!strcmp(s[i].label, label)) return &s[i];
    return NULL;
}

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context. */
static int trace_expand_label(int hash, const uint8_t *secret, size_t slen, const char *label, uint8_t *out,
                              size_t outlen) {
    uint8_t info[64];
    size_t n = 0, ll = strlen(label);
    info[n++] = (uint8_t)(outlen >> 8);
    info[n++] = (uint8_t)outlen;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, ll);
    n += ll;
    info[n++] = 0;
    return wc_HKDF_Expand(hash, secret, (word32)slen, info, (word32)n, out, (word32)outlen);
}

/* Removes header protection from a short-header packet and opens it with
   the keys RFC 9001 (5.1-5.4) derives from a traffic secret (AES-GCM: the
   suites wt.h negotiates). 0 and the plaintext when the AEAD tag checks. */
static int trace_open_1rtt(const trace_secret *ts, const uint8_t *pkt, size_t len, size_t dcid_len, uint8_t *out,
                           size_t *out_len) {
    int hash = ts->len == 48 ? WC_SHA384 : WC_SHA256;
    size_t klen = ts->len == 48 ? 32 : 16, pn_off = 1 + dcid_len, pn_len, i;
    uint8_t key[32], iv[12], hp[32], mask[16], hdr[64], nonce[12];
    uint64_t pn = 0;
    Aes aes;
    int rv;
    if (len < pn_off + 4 + 16 || (pkt[0] & 0x80)) return -1; /* the sample must fit */
    if (trace_expand_label(hash, ts->secret, ts->len, "quic key", key, klen) ||
        trace_expand_label(hash, ts->secret, ts->len, "quic iv", iv, 12) ||
        trace_expand_label(hash, ts->secret, ts->len, "quic hp", hp, klen))
        return -1;
    /* header protection: AES-ECB of the sample 4 bytes after the packet number start */
    if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0) return -1;
    rv = wc_AesSetKey(&aes, hp, (word32)klen, NULL, AES_ENCRYPTION) || wc_AesEcbEncrypt(&aes, mask, pkt + pn_off + 4, 16);
    wc_AesFree(&aes);
    if (rv) return -1;
    memcpy(hdr, pkt, pn_off);
    hdr[0] ^= mask[0] & 0x1f;
    pn_len = (size_t)(hdr[0] & 3) + 1;
    for (i = 0; i < pn_len; i++) {
        hdr[pn_off + i] = pkt[pn_off + i] ^ mask[1 + i];
        pn = (pn << 8) | hdr[pn_off + i]; /* early packets: the truncated number is the number */
    }
    memcpy(nonce, iv, 12);
    for (i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    *out_len = len - pn_off - pn_len - 16;
    if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0) return -1;
    rv = wc_AesGcmSetKey(&aes, key, (word32)klen) ||
         wc_AesGcmDecrypt(&aes, out, pkt + pn_off + pn_len, (word32)*out_len, nonce, 12, pkt + len - 16, 16, hdr,
                          (word32)(pn_off + pn_len));
    wc_AesFree(&aes);
    return rv ? -1 : 0;
}

static int trace_memmem(const uint8_t *h, size_t hn, const char *needle) {
    size_t n = strlen(needle), i;
    for (i = 0; i + n <= hn; i++)
        if (!memcmp(h + i, needle, n)) return 1;
    return 0;
}

/* How many captured 1-RTT packets in one direction open with the secret
   (of *total), and whether one of them carries the needle. */
static int trace_decrypt_all(const trace_secret *ts, int to_server, const char *needle, int *found, int *total) {
    int i, opened = 0;
    *found = *total = 0;
    for (i = 0; i < trace_npkts; i++) {
        uint8_t plain[1500];
        size_t n;
        if (trace_pkts[i].to_server != to_server || (trace_pkts[i].data[0] & 0x80)) continue;
        ++*total;
        if (trace_open_1rtt(ts, trace_pkts[i].data, trace_pkts[i].len, 16, plain, &n) != 0) continue;
        opened++;
        if (trace_memmem(plain, n, needle)) *found = 1;
    }
    return opened;
}
#endif

/* Secrets each end logs: the four traffic secrets, and the exporter's when
   wolfSSL keeps the handshake's secrets for wt_session_export_keying_material
   (HAVE_KEYING_MATERIAL), which it then reports too. */
#ifdef HAVE_KEYING_MATERIAL
#define TRACE_NSECRETS 5
#else
#define TRACE_NSECRETS 4
#endif

WT_TEST(trace_keylog_has_both_directions_and_decrypts_1rtt_packets) {
#ifdef HAVE_SECRET_CALLBACK
    static const char *labels[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                   "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"};
    static trace_srv sv;
    static trace_cli cli;
    sim s;
    char dir[64];
    trace_secret ks[16], kc[16];
    int nks, nkc, i, rv, warned = 0, found = 0, total = 0;
    wt_stream *st;
    const trace_secret *c_ap, *s_ap, *c_hs;
    REQUIRE(wt_test_tmpdir(dir, sizeof dir) == 0);
    snprintf(trace_keylog_server, sizeof trace_keylog_server, "%s/server.keys", dir);
    snprintf(trace_keylog_client, sizeof trace_keylog_client, "%s/client.keys", dir);
    trace_nlog = 0;
    trace_npkts = 0;
    sim_configure = trace_keylog_cfg;
    sim_tap = trace_tap;
    memset(&s, 0, sizeof s);
    rv = sim_start(&s, 44, NULL, NULL);
    sim_configure = NULL;
    if (rv != 0) sim_tap = NULL;
    REQUIRE(rv == 0);
    for (i = 0; i < trace_nlog; i++) warned += strstr(trace_log_lines[i], "TLS KEY LOG IS ON") != NULL;
    CHECK_EQ_INT(warned, 2); /* loud, once for each of the two */
    memset(&sv, 0, sizeof sv);
    memset(&cli, 0, sizeof cli);
    REQUIRE(wt_app_route(s.app, "/k", trace_server, &sv) == WT_OK);
    REQUIRE(wt_client_connect(s.client, "https://10.0.0.1:443/k", trace_client, &cli, NULL) == WT_OK);
    REQUIRE(sim_run(&s, &cli.open, 10000));
    REQUIRE(wt_session_open_stream(cli.s, 1, &st) == WT_OK);
    REQUIRE(wt_stream_write(st, "key-log-check", 13) == 13);
    REQUIRE(wt_stream_finish(st) == WT_OK);
    REQUIRE(sim_run(&s, &cli.echoed, 10000));
    sim_stop(&s);
    sim_tap = NULL;

    nks = trace_read_keylog(trace_keylog_server, ks, 16);
    nkc = trace_read_keylog(trace_keylog_client, kc, 16);
    CHECK_EQ_INT(nks, TRACE_NSECRETS);
    CHECK_EQ_INT(nkc, TRACE_NSECRETS);
    for (i = 0; i < (int)WT__COUNTOF(labels); i++) {
        const trace_secret *a = trace_find_secret(ks, nks, labels[i]), *b = trace_find_secret(kc, nkc, labels[i]);
        if (!a || !b) {
            printf("    %s missing from the %s key log\n", labels[i], a ? "client's" : "server's");
            wt_test_failed_checks++;
            continue;
        }
        /* both ends log the same secret under the same ClientHello random */
        CHECK(a->len == b->len && !memcmp(a->secret, b->secret, a->len));
        CHECK(!memcmp(a->random, b->random, 32) && !memcmp(a->random, ks[0].random, 32));
    }
#ifdef HAVE_KEYING_MATERIAL
    {
        const trace_secret *a = trace_find_secret(ks, nks, "EXPORTER_SECRET"),
                           *b = trace_find_secret(kc, nkc, "EXPORTER_SECRET");
        CHECK(a && b && a->len == b->len && !memcmp(a->secret, b->secret, a->len));
    }
#endif
    c_ap = trace_find_secret(kc, nkc, "CLIENT_TRAFFIC_SECRET_0");
    s_ap = trace_find_secret(kc, nkc, "SERVER_TRAFFIC_SECRET_0");
    c_hs = trace_find_secret(kc, nkc, "CLIENT_HANDSHAKE_TRAFFIC_SECRET");
    REQUIRE(c_ap && s_ap && c_hs);
    printf("    captured %d packets; secrets of %zu bytes\n", trace_npkts, c_ap->len);
    /* every 1-RTT packet opens: client to server (the request, the stream),
       server to client (the response, the echo) */
    CHECK_EQ_INT(trace_decrypt_all(c_ap, 1, "key-log-check", &found, &total), total);
    CHECK(total > 3 && found);
    CHECK_EQ_INT(trace_decrypt_all(s_ap, 0, "key-log-check", &found, &total), total);
    CHECK(total > 3 && found);
    /* and a wrong secret opens nothing: the check can fail */
    CHECK_EQ_INT(trace_decrypt_all(c_hs, 1, "key-log-check", &found, &total), 0);
    CHECK_EQ_INT(trace_decrypt_all(s_ap, 1, "key-log-check", &found, &total), 0);
    unlink(trace_keylog_server);
    unlink(trace_keylog_client);
    rmdir(dir);
#else
    /* without wolfSSL's secret callback a key log cannot work: create says so */
    wt_client_config cc;
    wt_client *cl;
    memset(&cc, 0, sizeof cc);
    cc.insecure = 1;
    cc.log.fn = harness_quiet_log;
    cc.tls_keylog = "/tmp/never-written.keys";
    harness_log_match = "HAVE_SECRET_CALLBACK";
    harness_log_hits = 0;
    cl = wt_client_create(&cc);
    CHECK(cl == NULL);
    CHECK_EQ_INT(harness_log_hits, 1);
    harness_log_match = NULL;
    wt_client_destroy(cl);
#endif
}

#ifdef HAVE_SECRET_CALLBACK
/* Over real sockets too; and while the key log is on, no GSO batches, so
   a capture on loopback shows each packet on its own. */
WT_TEST(trace_keylog_over_loopback_sends_without_gso) {
    static trace_srv sv;
    static trace_cli cli;
    wt_loop_config lc;
    wt_app_config ac;
    wt_client_config cc;
    wt_loop *loop;
    wt_app *app;
    wt_client *cl;
    wt_stream *st;
    char dir[64], keys[128], url[64];
    trace_secret k[16];
    int i, n;
    REQUIRE(harness_cert() == 0);
    REQUIRE(wt_test_tmpdir(dir, sizeof dir) == 0);
    snprintf(keys, sizeof keys, "%s/keys", dir);
    memset(&lc, 0, sizeof lc);
    lc.log.fn = harness_quiet_log;
    REQUIRE((loop = wt_loop_create(&lc)) != NULL);
    memset(&ac, 0, sizeof ac);
    ac.port = -1;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = loop;
    ac.log = lc.log;
    ac.tls_keylog = keys;
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    cc.loop = loop;
    cc.log = lc.log;
    cc.tls_keylog = keys; /* both ends into one file, as with SSLKEYLOGFILE */
    app = wt_app_create(&ac);
    cl = wt_client_create(&cc);
    REQUIRE(app && cl && wt_app_start(app) == WT_OK);
    memset(&sv, 0, sizeof sv);
    memset(&cli, 0, sizeof cli);
    REQUIRE(wt_app_route(app, "/k", trace_server, &sv) == WT_OK);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/k", wt_app_port(app));
    REQUIRE(wt_client_connect(cl, url, trace_client, &cli, NULL) == WT_OK);
    RUN_UNTIL(loop, cli.open, HARNESS_DEADLINE_MS);
    REQUIRE(cli.open);
    REQUIRE(wt_session_open_stream(cli.s, 1, &st) == WT_OK && wt_stream_write(st, "x", 1) == 1);
    wt_stream_finish(st);
    RUN_UNTIL(loop, cli.echoed, HARNESS_DEADLINE_MS);
    CHECK(cli.echoed);
    for (i = 0; i < app->ep.nsocks; i++) CHECK_EQ_INT(app->ep.socks[i].gso, 0);
    for (i = 0; i < cl->ep.nsocks; i++) CHECK_EQ_INT(cl->ep.socks[i].gso, 0);
    CHECK(cl->ep.nsocks > 0);
    wt_session_close(cli.s, 0, NULL);
    RUN_UNTIL(loop, cli.closed, HARNESS_DEADLINE_MS);
    wt_client_destroy(cl);
    wt_app_destroy(app);
    wt_loop_destroy(loop);
    n = trace_read_keylog(keys, k, 16);
    CHECK_EQ_INT(n, 2 * TRACE_NSECRETS); /* each end's secrets */
    CHECK(trace_find_secret(k, n, "CLIENT_TRAFFIC_SECRET_0") && trace_find_secret(k, n, "SERVER_TRAFFIC_SECRET_0"));
    unlink(keys);
    rmdir(dir);
}
#endif

/* ---------------------------------------------------------------- tagged log lines */
static char trace_lines[400][600];
static int trace_nlines;

static void trace_collect_log(wt_log_level level, const char *msg, void *user) {
    (void)user;
    if (trace_nlines < 400) snprintf(trace_lines[trace_nlines++], sizeof trace_lines[0], "%s", msg);
    if (getenv("WT_TEST_LOG") || level <= WT_LOG_ERROR) fprintf(stderr, "    [log] %s\n", msg);
}

static void trace_log_cfg(wt_app_config *ac, wt_client_config *cc) {
    if (ac) ac->log.fn = trace_collect_log, ac->log.level = WT_LOG_DEBUG;
    if (cc) cc->log.fn = trace_collect_log, cc->log.level = WT_LOG_DEBUG;
}

static int trace_has_line(const char *a, const char *b) {
    int i;
    for (i = 0; i < trace_nlines; i++)
        if (strstr(trace_lines[i], a) && (!b || strstr(trace_lines[i], b))) return 1;
    return 0;
}

WT_TEST(trace_log_lines_name_the_connection_and_session) {
    sim s;
    uint64_t t1, t2;
    char tag[64], hex[9];
    int rv, i, first;
    trace_setenv(NULL);
    trace_nlines = 0;
    sim_configure = trace_log_cfg;
    memset(&s, 0, sizeof s);
    rv = sim_start(&s, 45, NULL, NULL);
    sim_configure = NULL;
    trace_restore_env();
    REQUIRE(rv == 0);
    first = trace_nlines; /* from here on, every line is about the connection */
    CHECK_EQ_INT(trace_story(&s, "bye", &t1, &t2), 0);
    REQUIRE(s.client->ep.conns && s.app->ep.conns);
    {
        wt__conn *c = s.client->ep.conns;
        /* the short form: the first 4 bytes of the ID the qlog file is named by, the same on both ends */
        wt_hex(c->tp.odcid.data, 4, hex);
        CHECK(!strcmp(c->log_id, hex));
        CHECK(!strcmp(s.app->ep.conns->log_id, hex));
    }
    snprintf(tag, sizeof tag, "[cid %s] ", hex);
    CHECK(trace_has_line(tag, "TLS handshake done"));
    snprintf(tag, sizeof tag, "[cid %s s=8] ", hex);
    CHECK(trace_has_line(tag, "no route for /nope: 404"));                       /* the server */
    CHECK(trace_has_line(tag, "server refused session /nope with status 404")); /* the client */
    sim_stop(&s);
    CHECK(trace_nlines > first + 5);
    for (i = first; i < trace_nlines; i++)
        if (strncmp(trace_lines[i], "[cid ", 5) != 0) {
            printf("    untagged: %s\n", trace_lines[i]);
            wt_test_failed_checks++;
        }
}
