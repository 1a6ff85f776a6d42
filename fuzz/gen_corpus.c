/* fuzz/gen_corpus.c - writes the seed corpora of the fuzz targets into
   fuzz/corpus/<target>/ (`make fuzz-corpus`). Most seeds are written out
   by hand below; the server's are real ClientHellos, captured from a
   wt_client through io.send as test_sim.c's flood does, both as sent
   (sealed) and opened into their frames, which the server target seals
   again under its own connection IDs so mutations reach the TLS and QUIC
   parsers. A new capture differs from the last (wolfSSL's randomness):
   run this only to change the seeds, and commit what it wrote.
   Usage: gen_corpus DIR */
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "quic_initial.h"

#include <sys/stat.h>

static const char *root;

static void put(const char *target, const char *name, const uint8_t *p, size_t n) {
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", root, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    if (!(f = fopen(path, "wb")) || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "gen_corpus: cannot write %s\n", path);
        exit(1);
    }
}

/* a growing seed */
typedef struct seed {
    uint8_t b[16384];
    size_t n;
} seed;

static void add(seed *s, const void *p, size_t n) {
    if (s->n + n > sizeof s->b) {
        fprintf(stderr, "gen_corpus: seed too large\n");
        exit(1);
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static void add_byte(seed *s, uint8_t b) { add(s, &b, 1); }

static void add_varint(seed *s, uint64_t v) {
    uint8_t b[8];
    add(s, b, wt__varint_put(b, v));
}

/* ---------------------------------------------------------------- small targets */
static void capsules(void) {
    seed s;
    uint8_t close[64];
    size_t n;
    /* a close capsule with a reason, in pieces chosen by seed byte 0x11 */
    memset(&s, 0, sizeof s);
    add_byte(&s, 0x11);
    n = wt__capsule_close(close, 42, "done here", 9);
    add(&s, close, n);
    put("capsule", "close", s.b, s.n);
    /* a GREASE capsule with a long body, then DRAIN, then an empty close */
    memset(&s, 0, sizeof s);
    add_byte(&s, 0x02);
    add_varint(&s, 0x29 * 7 + 0x17); /* reserved: 0x29 * N + 0x17 */
    add_varint(&s, 300);
    {
        uint8_t pad[300];
        memset(pad, 0x61, sizeof pad);
        add(&s, pad, sizeof pad);
    }
    add_varint(&s, WT__CAPSULE_DRAIN);
    add_varint(&s, 0);
    add(&s, close, wt__capsule_close(close, 0, "", 0));
    put("capsule", "grease-drain-close", s.b, s.n);
    /* a close capsule that claims more than WT__CAPSULE_MAX, in 8-byte varints */
    memset(&s, 0, sizeof s);
    add_byte(&s, 0x00);
    add(&s, "\xc0\x00\x00\x00\x00\x00\x28\x43\xc0\x00\x00\x00\x00\x00\x10\x00", 16);
    put("capsule", "close-too-big", s.b, s.n);
    /* the six flow-control capsules (WT_MAX_DATA, WT_MAX_STREAMS bidi/uni,
       WT_DATA_BLOCKED, WT_STREAMS_BLOCKED bidi/uni), then one whose value
       is not a single varint, then a close; cut into pieces by seed 0x05 */
    memset(&s, 0, sizeof s);
    add_byte(&s, 0x05);
    {
        static const uint64_t types[] = {WT__CAPSULE_MAX_DATA, WT__CAPSULE_MAX_STREAMS_BIDI,
                                         WT__CAPSULE_MAX_STREAMS_UNI, WT__CAPSULE_DATA_BLOCKED,
                                         WT__CAPSULE_STREAMS_BLOCKED_BIDI, WT__CAPSULE_STREAMS_BLOCKED_UNI};
        size_t i;
        for (i = 0; i < sizeof types / sizeof types[0]; i++) {
            uint64_t v = (uint64_t)1 << (i * 9);
            add_varint(&s, types[i]);
            add_varint(&s, wt__varint_len(v));
            add_varint(&s, v);
        }
    }
    add(&s, close, wt__capsule_close(close, 3, "fc", 2));
    put("capsule", "flow-control", s.b, s.n);
    memset(&s, 0, sizeof s);
    add_byte(&s, 0x01);
    add_varint(&s, WT__CAPSULE_MAX_DATA);
    add_varint(&s, 3);
    add(&s, "\x01\x02\x03", 3); /* a 1-byte varint and two bytes too many */
    put("capsule", "flow-control-bad-value", s.b, s.n);
}

static void demux(void) {
    static const uint8_t bidi[] = {0x01, 0x40, 0x41, 0x04, 'x'};          /* bidi, WT, session 4 */
    static const uint8_t uni[] = {0x00, 0x40, 0x54, 0x80, 0, 0, 8};      /* uni, WT, session 8, 4-byte varint */
    static const uint8_t ctrl[] = {0x00, 0x00, 0x04, 0x00};              /* uni, control stream */
    static const uint8_t headers[] = {0x01, 0x01, 0x40, 0x40, 0x00, 0x00}; /* bidi, HTTP/3 HEADERS */
    put("demux", "bidi-wt", bidi, sizeof bidi);
    put("demux", "uni-wt", uni, sizeof uni);
    put("demux", "control", ctrl, sizeof ctrl);
    put("demux", "headers", headers, sizeof headers);
}

static void settings(void) {
    seed s;
    /* nghttp3's control stream start as a server writes it: type 0,
       SETTINGS with QPACK capacity, blocked streams, CONNECT, datagrams */
    memset(&s, 0, sizeof s);
    add_byte(&s, 0x01 | (1 << 1));
    add_varint(&s, 0x00);
    add_varint(&s, 0x04);
    add_varint(&s, 13);
    add_varint(&s, 0x01), add_varint(&s, 4096);
    add_varint(&s, 0x07), add_varint(&s, 100);
    add_varint(&s, 0x08), add_varint(&s, 1);
    add_varint(&s, 0x33), add_varint(&s, 1);
    add_varint(&s, 0x06), add_varint(&s, 16384);
    put("settings", "server", s.b, s.n);
    /* a client's, with GREASE settings and the WebTransport ones, little room */
    memset(&s, 0, sizeof s);
    add_byte(&s, 0x10 | (3 << 5));
    add_varint(&s, 0x00);
    add_varint(&s, 0x04);
    add_varint(&s, 0);
    {
        seed p;
        memset(&p, 0, sizeof p);
        add_varint(&p, 0x1f * 3 + 0x21), add_varint(&p, 7);
        add_varint(&p, WT__H3_SETTINGS_WT_ENABLE_DRAFT02), add_varint(&p, 1);
        add_varint(&p, WT__H3_SETTINGS_H3_DATAGRAM_DRAFT04), add_varint(&p, 1);
        add_varint(&p, WT__H3_SETTINGS_WT_MAX_SESSIONS), add_varint(&p, 16);
        s.b[s.n - 1] = (uint8_t)p.n;
        add(&s, p.b, p.n);
    }
    put("settings", "client-grease", s.b, s.n);
    /* a latest-draft client's (Safari-like): WT_ENABLED and the three
       flow-control settings; seed byte 0x20 makes the injector offer them too */
    memset(&s, 0, sizeof s);
    add_byte(&s, 0x20);
    add_varint(&s, 0x00);
    add_varint(&s, 0x04);
    add_varint(&s, 0);
    {
        seed p;
        memset(&p, 0, sizeof p);
        add_varint(&p, 0x33), add_varint(&p, 1);
        add_varint(&p, WT__H3_SETTINGS_WT_ENABLED), add_varint(&p, 1);
        add_varint(&p, WT__H3_SETTINGS_WT_INITIAL_MAX_DATA), add_varint(&p, 1048576);
        add_varint(&p, WT__H3_SETTINGS_WT_INITIAL_MAX_STREAMS_UNI), add_varint(&p, 100);
        add_varint(&p, WT__H3_SETTINGS_WT_INITIAL_MAX_STREAMS_BIDI), add_varint(&p, 100);
        s.b[s.n - 1] = (uint8_t)p.n;
        add(&s, p.b, p.n);
    }
    put("settings", "client-latest", s.b, s.n);
}

static void urls(void) {
    static const char *u[] = {"\x20https://localhost:4433/echo?x=1", "\x08https://[::1]:443/", "\xffhttps://h",
                              "\x40https://example.com:65535"};
    static const char *names[] = {"port-path-query", "ipv6", "host-only", "max-port"};
    size_t i;
    for (i = 0; i < WT__COUNTOF(u); i++) put("url", names[i], (const uint8_t *)u[i], strlen(u[i]));
}

/* ---------------------------------------------------------------- request */
static void field(seed *s, const char *n, const char *v) {
    add_byte(s, (uint8_t)strlen(n));
    add(s, n, strlen(n));
    add_byte(s, (uint8_t)strlen(v));
    add(s, v, strlen(v));
}

static void browser_request(seed *s, uint8_t mode, uint8_t arg, const char *path) {
    memset(s, 0, sizeof *s);
    add_byte(s, mode);
    add_byte(s, arg);
    add_byte(s, 8);
    field(s, ":method", "CONNECT");
    field(s, ":protocol", "webtransport");
    field(s, ":scheme", "https");
    field(s, ":authority", "localhost:4433");
    field(s, ":path", path);
    field(s, "origin", "https://localhost:4433");
    field(s, "sec-webtransport-http3-draft02", "1");
    field(s, "user-agent", "Mozilla/5.0");
}

static void op(seed *s, uint8_t code, const void *p, size_t n) {
    add_byte(s, code);
    add_byte(s, (uint8_t)n);
    add(s, p, n);
}

static void requests(void) {
    seed s;
    uint8_t b[64];
    size_t n;
    /* on the wire, then a bidi stream, a uni stream, a datagram, a close capsule */
    browser_request(&s, 0x00, 0x00, "/");
    n = 0;
    b[n++] = 0x40, b[n++] = 0x41, b[n++] = 0x00; /* WT bidi stream of session 0 */
    memcpy(b + n, "ping", 4), n += 4;
    op(&s, 0x02 | 0x08, b, n);
    n = 0;
    b[n++] = 0x40, b[n++] = 0x54, b[n++] = 0x00;
    memcpy(b + n, "uni", 3), n += 3;
    op(&s, 0x01 | 0x08, b, n);
    op(&s, 0x03, "\x00hello", 6);
    op(&s, 0x00, b, wt__capsule_close(b, 7, "bye", 3));
    op(&s, 0x07, NULL, 0);
    put("request", "wire-session", s.b, s.n);
    /* the same fields straight to the session, a route of "/wt", the
       handler opening streams of its own */
    browser_request(&s, 0x01 | (6 << 2) | 0x40, 0x03, "/wt?room=1");
    put("request", "direct-accept", s.b, s.n);
    /* refused by the handler with a redirect */
    browser_request(&s, 0x01 | (5 << 2), 0x00, "/");
    put("request", "direct-redirect", s.b, s.n);
    /* no :protocol: a plain CONNECT, refused with 400 */
    memset(&s, 0, sizeof s);
    add_byte(&s, 0x01);
    add_byte(&s, 0);
    add_byte(&s, 3);
    field(&s, ":method", "CONNECT");
    field(&s, ":authority", "localhost");
    field(&s, ":path", "/");
    put("request", "direct-plain-connect", s.b, s.n);
    /* on the wire, paused streams, the client resets the CONNECT stream */
    browser_request(&s, 0x80, 0x00, "/");
    op(&s, 0x02, "\x40\x41\x00data", 7);
    op(&s, 0x06, "0123456789", 10); /* 100 ms */
    op(&s, 0x04, "\x05", 1);
    put("request", "wire-reset", s.b, s.n);
    /* subprotocols offered on the wire (parameters, an escape), then directly
       a malformed offer (a Token among the Strings), which is ignored */
    browser_request(&s, 0x00, 0x01, "/");
    s.b[2]++;
    field(&s, "wt-available-protocols", "\"chat-v2\";q=1, \"chat-v1\", \"a\\\"b\"");
    put("request", "wire-protocols", s.b, s.n);
    browser_request(&s, 0x01, 0x00, "/");
    s.b[2]++;
    field(&s, "wt-available-protocols", "\"ok\", token");
    put("request", "direct-protocols-malformed", s.b, s.n);
}

/* ---------------------------------------------------------------- server */
typedef struct capture {
    uint8_t pkt[8][1500];
    size_t len[8];
    int n, on;
    uint64_t now;
} capture;

static uint64_t cap_clock(void *user) { return ((capture *)user)->now; }

static int cap_send(void *user, const void *local, size_t local_len, const void *remote, size_t remote_len,
                    const uint8_t *data, size_t len, size_t segment) {
    capture *c = (capture *)user;
    size_t off;
    (void)local, (void)local_len, (void)remote, (void)remote_len;
    for (off = 0; off < len && c->on && c->n < 8; off += segment) {
        size_t k = WT__MIN(segment, len - off);
        memcpy(c->pkt[c->n], data + off, k);
        c->len[c->n++] = k;
    }
    return 0;
}

static void ignore(wt_event *ev) { (void)ev; }

/* The first flight of a wt_client: its Initial datagrams. */
static void capture_first_flight(capture *c, const char *groups, int key_shares) {
    wt_loop_config lc;
    wt_client_config cc;
    wt_loop *loop;
    wt_client *cl;
    memset(c, 0, sizeof *c);
    c->now = 5000000000ULL;
    c->on = 1;
    memset(&lc, 0, sizeof lc);
    lc.log.level = WT_LOG_ERROR;
    lc.clock.now_ns = cap_clock;
    lc.clock.user = c;
    loop = wt_loop_create(&lc);
    memset(&cc, 0, sizeof cc);
    cc.insecure = 1;
    cc.loop = loop;
    cc.log.level = WT_LOG_ERROR;
    cc.io.send = cap_send;
    cc.io.user = c;
    cc.io.local_host = "10.0.0.2";
    cc.io.local_port = 50000;
    cc.tls_groups = groups;
    cc.tls_key_shares = key_shares;
    cl = wt_client_create(&cc);
    if (!loop || !cl || wt_client_connect(cl, "https://10.0.0.1:443/", ignore, NULL, NULL) != WT_OK) {
        fprintf(stderr, "gen_corpus: no client\n");
        exit(1);
    }
    wt_loop_process(loop);
    c->on = 0; /* not the CONNECTION_CLOSE of the destroy */
    wt_client_destroy(cl);
    wt_loop_destroy(loop);
    if (c->n == 0) {
        fprintf(stderr, "gen_corpus: the client sent nothing\n");
        exit(1);
    }
}

static void record(seed *s, uint8_t kind, const uint8_t *p, size_t n) {
    add_byte(s, (uint8_t)(n >> 8));
    add_byte(s, (uint8_t)n);
    add_byte(s, kind);
    add(s, p, n);
}

/* The CRYPTO stream of the captured Initials, in order: ngtcp2 cuts a
   ClientHello into small frames and shuffles them; a seed holds it whole. */
static size_t crypto_stream(const capture *c, uint8_t *out, size_t cap, uint8_t scid[20], size_t *scidlen) {
    size_t total = 0;
    int i;
    for (i = 0; i < c->n; i++) {
        uint8_t f[1500];
        size_t used, o = 0;
        long n = qi_open(c->pkt[i], c->len[i], f, sizeof f, &used, scid, scidlen);
        if (n < 0) {
            fprintf(stderr, "gen_corpus: cannot open a captured Initial\n");
            exit(1);
        }
        while (o < (size_t)n) {
            uint64_t type = 0, off = 0, len = 0;
            size_t a;
            a = wt__varint_get(f + o, (size_t)n - o, &type);
            o += a;
            if (type == 0x00 || type == 0x01) continue; /* PADDING, PING */
            if (type != 0x06 || !a) {
                fprintf(stderr, "gen_corpus: unexpected frame 0x%llx in a ClientHello\n", (unsigned long long)type);
                exit(1);
            }
            o += wt__varint_get(f + o, (size_t)n - o, &off);
            o += wt__varint_get(f + o, (size_t)n - o, &len);
            if (off + len > cap || o + len > (size_t)n) exit(1);
            memcpy(out + off, f + o, (size_t)len);
            o += (size_t)len;
            total = WT__MAX(total, (size_t)(off + len));
        }
    }
    return total;
}

/* The captured ClientHello as records: k = 0 the datagrams as sent; else
   kind k (1: frames to seal; 2: to seal, answering a Retry), one CRYPTO
   frame of at most 1100 bytes each, for connection ci from address a.
   `when` is the first record's wait. */
static void records(seed *s, const capture *c, int k, int a, int ci, uint8_t when) {
    uint8_t hello[8192], scid[20], dcid[20], mine[20];
    size_t n, sl = 0, dl, ml, j, off;
    int i;
    if (k == 0) {
        for (i = 0; i < c->n; i++) record(s, (uint8_t)((a << 2) | (i == 0 ? when << 6 : 0)), c->pkt[i], c->len[i]);
        return;
    }
    n = crypto_stream(c, hello, sizeof hello, scid, &sl);
    qi_conn_ids(ci, dcid, &dl, mine, &ml);
    if (sl != ml) exit(1);
    /* its transport parameters name the SCID (initial_source_connection_id):
       the one the harness's packets will carry */
    for (j = 0; j + sl <= n; j++)
        if (!memcmp(hello + j, scid, sl)) memcpy(hello + j, mine, sl);
    for (off = 0; off < n; off += 1100) {
        seed f;
        size_t len = WT__MIN((size_t)1100, n - off);
        memset(&f, 0, sizeof f);
        add_varint(&f, 0x06);
        add_varint(&f, off);
        add_varint(&f, len);
        add(&f, hello + off, len);
        record(s, (uint8_t)(k | (a << 2) | (ci << 4) | (off == 0 ? when << 6 : 0)), f.b, f.n);
    }
}

static void servers(void) {
    capture hybrid, x25519;
    seed s;
    capture_first_flight(&hybrid, NULL, 0);   /* X25519MLKEM768 + X25519 key shares: two Initials */
    capture_first_flight(&x25519, "X25519", 1); /* one Initial */

    memset(&s, 0, sizeof s);
    add_byte(&s, 0);
    records(&s, &hybrid, 0, 0, 0, 0);
    put("server", "clienthello-sealed", s.b, s.n);

    memset(&s, 0, sizeof s);
    add_byte(&s, 0);
    records(&s, &hybrid, 1, 0, 0, 0);
    put("server", "clienthello-hybrid-frames", s.b, s.n);

    /* a ClientHello, then the client's ACK of the server's first Initial and
       a CONNECTION_CLOSE of its own */
    memset(&s, 0, sizeof s);
    add_byte(&s, 0);
    records(&s, &x25519, 1, 0, 1, 0);
    {
        static const uint8_t ack_close[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x1c, 0x0a, 0x06, 0x00};
        record(&s, 1 | (1 << 4) | (1 << 6), ack_close, sizeof ack_close);
    }
    put("server", "clienthello-ack-close", s.b, s.n);

    /* Retry for everyone: the client comes back with its token, another
       address tries a token of its own making */
    memset(&s, 0, sizeof s);
    add_byte(&s, 1);
    records(&s, &x25519, 1, 0, 0, 0);
    records(&s, &x25519, 2, 0, 0, 1);
    {
        uint8_t forged[400] = {4, 0xb6, 1, 2, 3};
        memcpy(forged + 5, "\x06\x00\x40\x20", 4); /* CRYPTO at offset 0, more to come */
        record(&s, 2 | (2 << 2) | (2 << 4), forged, 300);
    }
    put("server", "retry", s.b, s.n);

    /* max_connections 1: the second client is refused */
    memset(&s, 0, sizeof s);
    add_byte(&s, 2 | 8);
    records(&s, &x25519, 1, 0, 0, 0);
    records(&s, &x25519, 1, 3, 3, 2);
    put("server", "refused", s.b, s.n);

    /* an unknown version (version negotiation), then a short-header packet
       for a connection the server does not know (stateless reset) */
    memset(&s, 0, sizeof s);
    add_byte(&s, 0);
    {
        uint8_t p[1200];
        memset(p, 0, sizeof p);
        p[0] = 0xc0, p[1] = 0x1a, p[2] = 0x2a, p[3] = 0x3a, p[4] = 0x4a;
        p[5] = 8, memset(p + 6, 0xd0, 8);
        p[14] = 8, memset(p + 15, 0xc0, 8);
        record(&s, 0, p, sizeof p);
        memset(p, 0x5a, 60);
        p[0] = 0x40;
        record(&s, 1 << 6, p, 60);
    }
    put("server", "version-negotiation-reset", s.b, s.n);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus DIR\n");
        return 2;
    }
    root = argv[1];
    mkdir(root, 0755);
    capsules();
    demux();
    settings();
    urls();
    requests();
    servers();
    printf("gen_corpus: seeds written under %s\n", root);
    return 0;
}
