/* fuzz/request.c - request validation, and the session behind it, on a
   real connection: a wt_app and a connection of a wt_client complete the
   QUIC and HTTP/3 handshakes over the sans-I/O seam (virtual clock,
   WT_TEST_RNG, one packet queue each way, no loss), then the input is
   the client's request and what the client does next.

   Input:
     u8 mode    bit 0: direct (below), else on the wire
                bit 1: the request ends the stream (FIN with the headers)
                bits 2-4: what the route's handler does (see on_event)
                bit 5: limits.max_header_bytes 1024 (else 16 KiB)
                bit 6: the route is "/wt" (else "/")
                bit 7: the handler pauses the streams the client opens
     u8 arg     a status or code the handler uses
     u8 n, then n fields: u8 name length, name, u8 value length, value
     then actions, each: u8 op, u8 length, length bytes
       op & 7: 0 request body (DATA frames: capsules), 1 a new raw
               unidirectional stream, 2 a new raw bidirectional stream,
               3 a DATAGRAM frame, 4 reset the request stream (code =
               first byte), 5 stop sending on it, 6 wait length * 10 ms,
               7 end the request stream (FIN)
       op & 8: FIN on a raw stream

   On the wire the client's nghttp3 sends the fields as a request
   (QPACK, HEADERS), so the server's nghttp3 checks them first, as it
   does with any peer. Direct: the client sends only the start of a
   HEADERS frame, which makes the server's nghttp3 open the request and
   wt.h create the session; then the fields go straight to
   wt__session_on_header and wt__session_on_headers_done, as nghttp3's
   callbacks would call them, but unfiltered.

   The oracles: the handler sees WT_EV_SESSION_REQUEST exactly when the
   request is a WebTransport CONNECT within the limits for a routed path
   (direct mode, computed here from the fields), and the header list it
   reads is the one sent; every session and stream follows the header's
   LIFETIME rules (the first event opens it, CLOSED comes once and last,
   a session's streams close before it), and after the destroys nothing
   is left open. */
#define WT_TEST_RNG fuzz_rng
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "fuzz.h"

#include <unistd.h>

static uint64_t rng_state, now_ns;
static char dir[64], crt[96], key[96];

void fuzz_rng(uint8_t *out, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) out[i] = (uint8_t)(fuzz_next(&rng_state) >> 56);
}

static uint64_t clock_now(void *user) {
    (void)user;
    return now_ns;
}

static void quiet(wt_log_level level, const char *msg, void *user) {
    if (getenv("WT_FUZZ_LOG")) fprintf(stderr, "%s: %d: %s\n", user ? (const char *)user : "wt", (int)level, msg);
}

/* ---------------------------------------------------------------- the wire */
typedef struct pkt {
    int to_server;
    size_t len;
    uint8_t data[1500];
} pkt;

#define QCAP 256
static pkt queue[QCAP];
static size_t qhead, qlen;
static struct sockaddr_in server_addr, client_addr;
static wt_loop *loop;
static wt_app *app;
static wt_client *client;

static int on_send(void *user, const void *local, size_t local_len, const void *remote, size_t remote_len,
                   const uint8_t *data, size_t len, size_t segment) {
    int to_server = remote_len == sizeof server_addr && !memcmp(remote, &server_addr, sizeof server_addr);
    size_t off;
    (void)user, (void)local, (void)local_len;
    for (off = 0; off < len; off += segment) {
        pkt *p;
        size_t n = WT__MIN(segment, len - off);
        if (qlen == QCAP || n > sizeof p->data) return 0; /* lost, as on a congested link */
        p = &queue[(qhead + qlen++) % QCAP];
        p->to_server = to_server;
        p->len = n;
        memcpy(p->data, data + off, n);
    }
    return 0;
}

/* The connections this input drives, while they live. */
static wt__conn *cconn, *sconn;

static void refresh(void) {
    wt__conn *c;
    for (c = client ? client->ep.conns : NULL; c && c != cconn; c = c->next) {}
    cconn = c;
    for (c = app ? app->ep.conns : NULL; c && c != sconn; c = c->next) {}
    sconn = c;
}

/* Delivers packets and lets both sides work until nothing is due within
   200 ms of virtual time (timers further out wait for the next call). */
static void pump(void) {
    int rounds;
    for (rounds = 0; rounds < 2000; rounds++) {
        int t;
        while (qlen > 0) {
            pkt *p = &queue[qhead];
            qhead = (qhead + 1) % QCAP, qlen--;
            if (p->to_server) wt_app_input(app, &client_addr, sizeof client_addr, p->data, p->len);
            else wt_client_input(client, &server_addr, sizeof server_addr, p->data, p->len);
        }
        wt_loop_process(loop);
        if (qlen > 0) continue;
        t = wt_loop_timeout(loop);
        if (t < 0 || t > 200) break;
        now_ns += (uint64_t)(t ? t : 1) * 1000000ULL;
    }
    refresh();
}


/* ---------------------------------------------------------------- lifetimes */
#define MAX_TRACK 256
typedef struct tracked {
    void *p;
    wt_session *sess; /* a stream's session */
} tracked;
static tracked sessions[MAX_TRACK], streams[MAX_TRACK];

static tracked *find(tracked *t, const void *p) {
    int i;
    for (i = 0; i < MAX_TRACK; i++)
        if (t[i].p == p) return &t[i];
    return NULL;
}

static void track(tracked *t, void *p, wt_session *s) {
    tracked *e = find(t, NULL);
    FUZZ_CHECK(e != NULL);
    e->p = p;
    e->sess = s;
}

static int count(const tracked *t) {
    int i, n = 0;
    for (i = 0; i < MAX_TRACK; i++) n += t[i].p != NULL;
    return n;
}

/* ---------------------------------------------------------------- the input */
typedef struct field {
    const uint8_t *name, *value;
    size_t nl, vl;
} field;

static struct {
    uint8_t mode, arg;
    field f[256];
    size_t nf;
    int requests, opened;
    wt_session *server_session;
} in;

static void check_header_list(wt_session *s) {
    size_t i, n = wt_session_header_count(s);
    /* direct: the list is the fields, up to where max_header_bytes cut it */
    if (in.mode & 1) {
        FUZZ_CHECK(n <= in.nf);
        for (i = 0; i < n; i++) {
            const char *name, *value;
            FUZZ_CHECK(wt_session_header_at(s, i, &name, &value) == WT_OK);
            /* kept as C strings: an inner NUL ends them */
            FUZZ_CHECK(strlen(name) <= in.f[i].nl && !memcmp(name, in.f[i].name, strlen(name)));
            FUZZ_CHECK(strlen(value) <= in.f[i].vl && !memcmp(value, in.f[i].value, strlen(value)));
        }
        FUZZ_CHECK(wt_session_header_at(s, n, NULL, NULL) == WT_ERR_NOT_FOUND);
    }
}

static void on_event(wt_event *ev) {
    wt_session *s = ev->session;
    wt_stream *st = ev->stream;
    int action = (in.mode >> 2) & 7;
    tracked *ts = find(sessions, s);
    FUZZ_CHECK(s != NULL);
    FUZZ_CHECK(wt_session_is_server(s));
    if (!ts) {
        /* a session's first event is its request */
        FUZZ_CHECK(ev->type == WT_EV_SESSION_REQUEST);
        track(sessions, s, NULL);
    }
    if (st) {
        tracked *t = find(streams, st);
        if (!t) {
            FUZZ_CHECK(ev->type == WT_EV_STREAM_OPEN);
            track(streams, st, s);
        } else {
            FUZZ_CHECK(ev->type != WT_EV_STREAM_OPEN && t->sess == s);
        }
        FUZZ_CHECK(wt_stream_session(st) == s);
    }
    switch (ev->type) {
    case WT_EV_SESSION_REQUEST:
        in.requests++;
        in.server_session = s;
        check_header_list(s);
        {
            /* the offered subprotocols: every one readable, one of them choosable,
               nothing else (a name with a control byte is never an offer) */
            size_t k, n = wt_session_protocol_count(s);
            for (k = 0; k < n; k++) FUZZ_CHECK(wt_session_protocol_at(s, k) != NULL);
            FUZZ_CHECK(wt_session_protocol_at(s, n) == NULL);
            FUZZ_CHECK(wt_session_set_protocol(s, "\x01") == WT_ERR_INVALID);
            if (n) FUZZ_CHECK(wt_session_set_protocol(s, wt_session_protocol_at(s, in.arg % n)) == WT_OK);
        }
        FUZZ_CHECK(!strcmp(wt_session_header(s, ":method") ? wt_session_header(s, ":method") : "", "CONNECT") ||
                   (in.mode & 1));
        if (action == 1) wt_session_accept(s, 200 + in.arg % 100);
        if (action == 2) wt_session_reject(s, 300 + in.arg % 300);
        if (action == 3) {
            char v[8];
            snprintf(v, sizeof v, "%u", in.arg);
            wt_session_add_response_header(s, "x-fuzz", v);
            wt_session_add_response_header(s, in.nf ? "x-twice" : "x-none", wt_session_path(s));
        }
        if (action == 4) wt_session_close(s, in.arg, "no");
        if (action == 5) {
            wt_session_add_response_header(s, "location", "https://example.com/");
            wt_session_reject(s, 301);
        }
        break;
    case WT_EV_SESSION_OPEN:
        in.opened++;
        if (action == 6) {
            wt_stream *out;
            if (wt_session_open_stream(s, in.arg & 1, &out) == WT_OK) {
                track(streams, out, s);
                wt_stream_write(out, "hello", 5);
                if (in.arg & 2) wt_stream_finish(out);
            }
            wt_session_send_datagram(s, "dgram", 5);
        }
        if (action == 7) {
            if (in.arg & 1) wt_session_drain(s);
            else wt_session_close(s, in.arg, "bye");
        }
        break;
    case WT_EV_STREAM_OPEN:
        if (in.mode & 0x80) wt_stream_pause(st, 1);
        else if (in.arg & 4) wt_stream_read_all(st, 64);
        break;
    case WT_EV_STREAM_DATA:
        if (wt_stream_is_bidi(st) && ev->len) wt_stream_write(st, ev->data, ev->len);
        if (wt_stream_is_bidi(st) && ev->fin) wt_stream_finish(st);
        if (in.arg & 8) wt_stream_stop_sending(st, in.arg);
        break;
    case WT_EV_DATAGRAM:
        wt_session_send_datagram(s, ev->data, ev->len);
        break;
    case WT_EV_STREAM_CLOSED:
        find(streams, st)->p = NULL;
        break;
    case WT_EV_SESSION_CLOSED: {
        int i;
        /* its streams closed first */
        for (i = 0; i < MAX_TRACK; i++) FUZZ_CHECK(streams[i].p == NULL || streams[i].sess != s);
        find(sessions, s)->p = NULL;
        if (in.server_session == s) in.server_session = NULL;
        break;
    }
    default: break;
    }
}

/* What direct mode expects of the fields, by wt.h's rules: the last
   :method, :protocol, :path, :authority count; each field costs its
   lengths + 32 against max_header_bytes; C strings end at a NUL. */
static int expect_request(size_t max_bytes) {
    const char *method = NULL, *protocol = NULL, *path = NULL, *authority = NULL;
    static char buf[4][256];
    size_t i, bytes = 0;
    for (i = 0; i < in.nf; i++) {
        const field *f = &in.f[i];
        char *slot = NULL;
        bytes += f->nl + f->vl + 32;
        if (bytes > max_bytes) return 0;
        if (f->nl == 7 && !memcmp(f->name, ":method", 7)) slot = buf[0], method = slot;
        else if (f->nl == 9 && !memcmp(f->name, ":protocol", 9)) slot = buf[1], protocol = slot;
        else if (f->nl == 5 && !memcmp(f->name, ":path", 5)) slot = buf[2], path = slot;
        else if (f->nl == 10 && !memcmp(f->name, ":authority", 10)) slot = buf[3], authority = slot;
        if (slot) {
            memcpy(slot, f->value, f->vl);
            slot[f->vl] = 0;
        }
    }
    if (!method || strcmp(method, "CONNECT") || !protocol || !path || !authority || (in.mode & 2)) return 0;
    if (strcmp(protocol, "webtransport") && strcmp(protocol, "webtransport-h3")) return 0;
    {
        const char *route = (in.mode & 0x40) ? "/wt" : "/";
        size_t n = strcspn(path, "?");
        return strlen(route) == n && !memcmp(route, path, n);
    }
}

/* ---------------------------------------------------------------- the client's side */
static int64_t req_id = -1;
static uint8_t arena[1 << 16]; /* bytes ngtcp2 and nghttp3 keep until acknowledged */
static size_t arena_used;
static const uint8_t *body;
static size_t body_len, body_sent;
static int body_fin;

static const uint8_t *keep(const uint8_t *p, size_t n) {
    uint8_t *d;
    if (arena_used + n > sizeof arena) return NULL;
    d = arena + arena_used;
    memcpy(d, p, n);
    arena_used += n;
    return d;
}

static nghttp3_ssize read_body(nghttp3_conn *h3, int64_t id, nghttp3_vec *vec, size_t veccnt, uint32_t *pflags,
                               void *cu, void *su) {
    (void)h3, (void)id, (void)cu, (void)su;
    if (body_sent < body_len && veccnt > 0) {
        vec[0].base = (uint8_t *)body + body_sent;
        vec[0].len = body_len - body_sent;
        body_sent = body_len;
        if (body_fin) *pflags |= NGHTTP3_DATA_FLAG_EOF;
        return 1;
    }
    if (body_fin) {
        *pflags |= NGHTTP3_DATA_FLAG_EOF;
        return 0;
    }
    return NGHTTP3_ERR_WOULDBLOCK;
}

static const nghttp3_data_reader body_reader = {read_body};

/* A stream the client's own machinery ignores (the dead-stream marker):
   its bytes are ours, whatever comes back is dropped. */
static void raw_stream(int bidi, const uint8_t *p, size_t n, int fin) {
    int64_t id;
    ngtcp2_path_storage ps;
    ngtcp2_pkt_info pi;
    ngtcp2_ssize nw, nd = 0;
    ngtcp2_vec v;
    uint8_t out[1500];
    int rv = bidi ? ngtcp2_conn_open_bidi_stream(cconn->tp.qc, &id, wt__dead_stream_marker())
                  : ngtcp2_conn_open_uni_stream(cconn->tp.qc, &id, wt__dead_stream_marker());
    if (rv != 0 || !(v.base = (uint8_t *)keep(p, n))) return;
    v.len = n;
    ngtcp2_path_storage_zero(&ps);
    nw = ngtcp2_conn_writev_stream(cconn->tp.qc, &ps.path, &pi, out, WT__MAX_UDP_PAYLOAD, &nd,
                                   fin ? NGTCP2_WRITE_STREAM_FLAG_FIN : 0, id, &v, 1, now_ns);
    if (nw > 0) on_send(NULL, NULL, 0, &server_addr, sizeof server_addr, out, (size_t)nw, (size_t)nw);
}

static void raw_datagram(const uint8_t *p, size_t n) {
    ngtcp2_path_storage ps;
    ngtcp2_pkt_info pi;
    ngtcp2_vec v;
    uint8_t out[1500];
    int accepted = 0;
    ngtcp2_ssize nw;
    v.base = (uint8_t *)p;
    v.len = n;
    ngtcp2_path_storage_zero(&ps);
    nw = ngtcp2_conn_writev_datagram(cconn->tp.qc, &ps.path, &pi, out, WT__MAX_UDP_PAYLOAD, &accepted, 0, 0, &v, 1,
                                     now_ns);
    if (nw > 0) on_send(NULL, NULL, 0, &server_addr, sizeof server_addr, out, (size_t)nw, (size_t)nw);
}

static int send_request(void) {
    nghttp3_nv nv[256];
    size_t i;
    if (ngtcp2_conn_open_bidi_stream(cconn->tp.qc, &req_id, NULL) != 0) return -1;
    if (in.mode & 1) {
        /* HEADERS of 64 bytes, of which only the field section prefix comes */
        static const uint8_t start[] = {0x01, 0x40, 0x40, 0x00, 0x00};
        ngtcp2_conn_set_stream_user_data(cconn->tp.qc, req_id, wt__dead_stream_marker());
        {
            ngtcp2_path_storage ps;
            ngtcp2_pkt_info pi;
            ngtcp2_ssize nw, nd = 0;
            ngtcp2_vec v;
            uint8_t out[1500];
            v.base = (uint8_t *)start;
            v.len = sizeof start;
            ngtcp2_path_storage_zero(&ps);
            nw = ngtcp2_conn_writev_stream(cconn->tp.qc, &ps.path, &pi, out, WT__MAX_UDP_PAYLOAD, &nd, 0, req_id, &v, 1,
                                           now_ns);
            if (nw <= 0) return -1;
            on_send(NULL, NULL, 0, &server_addr, sizeof server_addr, out, (size_t)nw, (size_t)nw);
        }
        return 0;
    }
    for (i = 0; i < in.nf; i++) {
        nv[i].name = (uint8_t *)in.f[i].name;
        nv[i].namelen = in.f[i].nl;
        nv[i].value = (uint8_t *)in.f[i].value;
        nv[i].valuelen = in.f[i].vl;
        nv[i].flags = NGHTTP3_NV_FLAG_NONE;
    }
    body_fin = (in.mode & 2) != 0;
    if (nghttp3_conn_submit_request(cconn->h3.conn, req_id, nv, in.nf, body_fin ? NULL : &body_reader, NULL) != 0)
        return -1;
    cconn->dirty = 1;
    return 0;
}

/* Direct mode: the fields reach the session as nghttp3's callbacks would
   bring them, inside the loop's machinery (wt__ep_input's context). */
static void feed_direct(void) {
    wt_session *s = sconn ? wt__session_find(sconn, (uint64_t)req_id) : NULL;
    size_t i;
    FUZZ_CHECK(s && s->state == WT__SESS_REQUESTED); /* the HEADERS frame began it */
    loop->processing = 1;
    wt__loop_enter(loop);
    for (i = 0; i < in.nf; i++)
        wt__session_on_header(s, (const char *)in.f[i].name, in.f[i].nl, (const char *)in.f[i].value, in.f[i].vl);
    wt__session_on_headers_done(s, (in.mode & 2) != 0);
    wt__loop_leave(loop);
    loop->processing = 0;
}

static void act(uint8_t op, const uint8_t *p, size_t n) {
    if (!cconn || cconn->state != WT__CONN_OPEN) {
        if ((op & 7) == 6) now_ns += (uint64_t)n * 10000000ULL;
        return;
    }
    switch (op & 7) {
    case 0:
    case 7:
        if ((in.mode & 1) || body_fin) break;
        if (n && (p = keep(p, n))) {
            if (body_sent < body_len) break; /* one piece at a time: the last is still going */
            body = p, body_len = n, body_sent = 0;
        }
        if ((op & 7) == 7) body_fin = 1;
        nghttp3_conn_resume_stream(cconn->h3.conn, req_id);
        cconn->dirty = 1;
        break;
    case 1: raw_stream(0, p, n, (op & 8) != 0); break;
    case 2: raw_stream(1, p, n, (op & 8) != 0); break;
    case 3: raw_datagram(p, n); break;
    case 4:
        ngtcp2_conn_shutdown_stream_write(cconn->tp.qc, 0, req_id, n ? wt_code_to_h3(p[0]) : WT__H3_REQUEST_CANCELLED);
        cconn->dirty = 1;
        break;
    case 5:
        ngtcp2_conn_shutdown_stream_read(cconn->tp.qc, 0, req_id, n ? wt_code_to_h3(p[0]) : WT__H3_NO_ERROR);
        cconn->dirty = 1;
        break;
    case 6: now_ns += (uint64_t)n * 10000000ULL; break;
    }
}

/* ---------------------------------------------------------------- setup */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    wt_cert_config cc;
    (void)argc, (void)argv;
    snprintf(dir, sizeof dir, "/tmp/wt-fuzz-request-XXXXXX");
    if (!mkdtemp(dir)) abort();
    snprintf(crt, sizeof crt, "%s/c.pem", dir);
    snprintf(key, sizeof key, "%s/k.pem", dir);
    memset(&cc, 0, sizeof cc);
    cc.cert_file = crt;
    cc.key_file = key;
    if (wt_cert_generate(&cc) != WT_OK) abort();
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons(443);
    server_addr.sin_addr.s_addr = htonl(0x0a000001);
    client_addr.sin_family = AF_INET;
    client_addr.sin_port = htons(50000);
    client_addr.sin_addr.s_addr = htonl(0x0a000002);
    return 0;
}

__attribute__((destructor)) static void cleanup(void) {
    if (!dir[0]) return;
    unlink(crt);
    unlink(key);
    rmdir(dir);
}

static int start(void) {
    wt_loop_config lc;
    wt_app_config ac;
    wt_client_config cc;
    int i;
    memset(&lc, 0, sizeof lc);
    lc.log.fn = quiet;
    lc.log.level = WT_LOG_DEBUG;
    lc.clock.now_ns = clock_now;
    if (!(loop = wt_loop_create(&lc))) return -1;
    memset(&ac, 0, sizeof ac);
    ac.host = "10.0.0.1";
    ac.port = 443;
    ac.cert_file = crt;
    ac.key_file = key;
    ac.loop = loop;
    ac.log = lc.log;
    ac.log.user = (void *)"server";
    ac.io.send = on_send;
    ac.tls_groups = "X25519"; /* the handshake is not what this target is about: the cheapest */
    if (in.mode & 0x20) ac.limits.max_header_bytes = 1024;
    if (!(app = wt_app_create(&ac)) || wt_app_route(app, (in.mode & 0x40) ? "/wt" : "/", on_event, NULL) != WT_OK ||
        wt_app_start(app) != WT_OK)
        return -1;
    memset(&cc, 0, sizeof cc);
    cc.insecure = 1;
    cc.loop = loop;
    cc.log = lc.log;
    cc.log.user = (void *)"client";
    cc.io.send = on_send;
    cc.io.local_host = "10.0.0.2";
    cc.io.local_port = 50000;
    cc.tls_groups = "X25519";
    if (!(client = wt_client_create(&cc))) return -1;
    cconn = wt__conn_client_new(&client->ep, (const struct sockaddr *)&server_addr, sizeof server_addr, "10.0.0.1", 443);
    if (!cconn) return -1;
    for (i = 0; i < 20; i++) {
        pump();
        sconn = app->ep.conns;
        if (cconn->state == WT__CONN_OPEN && cconn->h3.peer.seen && sconn && sconn->state == WT__CONN_OPEN &&
            sconn->h3.peer.seen)
            return 0;
    }
    return -1;
}

static size_t parse_fields(const uint8_t *d, size_t size) {
    size_t off = 3, n = size >= 3 ? d[2] : 0;
    in.nf = 0;
    while (in.nf < n && off < size) {
        field *f = &in.f[in.nf];
        f->nl = d[off++];
        if (f->nl > size - off) break;
        f->name = d + off, off += f->nl;
        if (off >= size) break;
        f->vl = d[off++];
        if (f->vl > size - off) break;
        f->value = d + off, off += f->vl;
        in.nf++;
    }
    return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t off;
    int expected = 0;
    if (size < 3) return 0;
    memset(&in, 0, sizeof in);
    memset(sessions, 0, sizeof sessions);
    memset(streams, 0, sizeof streams);
    in.mode = data[0];
    in.arg = data[1];
    off = parse_fields(data, size);
    rng_state = 0x5eed5eed5eed5eedULL;
    now_ns = 1000000000ULL;
    qhead = qlen = 0;
    arena_used = 0;
    body = NULL, body_len = body_sent = 0, body_fin = 0;
    cconn = sconn = NULL;
    req_id = -1;
    if (start() != 0) abort(); /* the harness itself is broken */
    if (send_request() == 0) {
        pump();
        if (in.mode & 1) {
            expected = expect_request((in.mode & 0x20) ? 1024 : 16 * 1024);
            feed_direct();
            FUZZ_CHECK(in.requests == expected);
        }
        pump();
        while (off + 2 <= size) {
            size_t n = WT__MIN((size_t)data[off + 1], size - off - 2);
            act(data[off], data + off + 2, n);
            off += 2 + n;
            pump();
        }
    }
    if (!(in.mode & 1) && in.requests) FUZZ_CHECK(in.requests == 1);
    wt_client_destroy(client);
    wt_app_destroy(app);
    wt_loop_destroy(loop);
    /* the destroys closed everything, each with its CLOSED */
    FUZZ_CHECK(count(sessions) == 0 && count(streams) == 0);
    return 0;
}
