/* bench/handshake_raw.c - the raw stack's handshake ceiling: N QUIC
   handshakes between an ngtcp2 + wolfSSL client and server in one process,
   packets handed over in memory (no sockets, no wt.h, virtual time).

   Built twice from this file: build/bench/handshake_raw links ngtcp2's
   wolfSSL glue as tools/deps.sh patches it (HKDF through wc_HKDF_*), and
   build/bench/handshake_raw_unpatched the glue compiled from the pristine
   sources (libngtcp2_crypto_wolfssl_unpatched.a). The TLS set-up is wt.h's
   default: an ECDSA P-256 certificate, the groups of WT_TLS_GROUPS_DEFAULT
   with client key shares for the first two.

   Prints one JSON line:
     handshakes_per_s  client + server handshakes per second on one core
     server_cpu_ms     server CPU per connection (thread CPU time of every
                       server-side call: accept, packets in and out, the
                       settling ACKs, teardown)
     conn_heap_bytes   server-side heap per established, idle connection
                       (median), ngtcp2 (ngtcp2_mem) + wolfSSL
                       (wolfSSL_SetAllocators), also given separately
   usage: handshake_raw [--unpatched] [--n N] [--warmup W] [--quiet]
   (--unpatched runs handshake_raw_unpatched from the same directory) */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, execv */
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_wolfssl.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef HR_GLUE
#define HR_GLUE "patched"
#endif

#define HR_PKT_MAX 1452
#define HR_QUEUE 64
#define HR_MS 1000000ULL /* ns */

/* ---------------------------------------------------------------- heap accounting */
enum { SIDE_CLIENT, SIDE_SERVER, SIDE_OTHER, SIDE_N };
enum { LIB_NGTCP2, LIB_WOLFSSL, LIB_N };
static int g_side = SIDE_OTHER; /* whose work runs now: wolfSSL's hooks are global */
static long long g_live[SIDE_N][LIB_N];

/* a header in front of every block: its size and owner, 16-byte aligned */
typedef union {
    struct {
        size_t size;
        int side, lib;
    } h;
    max_align_t align;
} hr_hdr;

static void *hr_alloc(size_t n, int side, int lib) {
    hr_hdr *h = (hr_hdr *)malloc(sizeof *h + n);
    if (!h) return NULL;
    h->h.size = n, h->h.side = side, h->h.lib = lib;
    g_live[side][lib] += (long long)n;
    return h + 1;
}

static void hr_free(void *p) {
    hr_hdr *h;
    if (!p) return;
    h = (hr_hdr *)p - 1;
    g_live[h->h.side][h->h.lib] -= (long long)h->h.size;
    free(h);
}

static void *hr_realloc(void *p, size_t n, int side, int lib) {
    hr_hdr *h, *nh;
    if (!p) return hr_alloc(n, side, lib);
    h = (hr_hdr *)p - 1;
    nh = (hr_hdr *)realloc(h, sizeof *h + n);
    if (!nh) return NULL;
    g_live[nh->h.side][nh->h.lib] += (long long)n - (long long)nh->h.size;
    nh->h.size = n;
    return nh + 1;
}

static void *hr_wolf_malloc(size_t n) { return hr_alloc(n, g_side, LIB_WOLFSSL); }
static void hr_wolf_free(void *p) { hr_free(p); }
static void *hr_wolf_realloc(void *p, size_t n) { return hr_realloc(p, n, g_side, LIB_WOLFSSL); }

static void *hr_ng_malloc(size_t n, void *user) { return hr_alloc(n, *(int *)user, LIB_NGTCP2); }
static void hr_ng_free(void *p, void *user) {
    (void)user;
    hr_free(p);
}
static void *hr_ng_calloc(size_t k, size_t n, void *user) {
    void *p;
    if (n && k > SIZE_MAX / n) return NULL;
    if ((p = hr_alloc(k * n, *(int *)user, LIB_NGTCP2))) memset(p, 0, k * n);
    return p;
}
static void *hr_ng_realloc(void *p, size_t n, void *user) { return hr_realloc(p, n, *(int *)user, LIB_NGTCP2); }

static int g_side_client = SIDE_CLIENT, g_side_server = SIDE_SERVER;
static const ngtcp2_mem g_mem_client = {&g_side_client, hr_ng_malloc, hr_ng_free, hr_ng_calloc, hr_ng_realloc};
static const ngtcp2_mem g_mem_server = {&g_side_server, hr_ng_malloc, hr_ng_free, hr_ng_calloc, hr_ng_realloc};

/* ---------------------------------------------------------------- helpers */
static void die(const char *what) {
    fprintf(stderr, "handshake_raw: %s\n", what);
    exit(1);
}

static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static WC_RNG g_rng;

static void hr_random(uint8_t *p, size_t n) {
    if (wc_RNG_GenerateBlock(&g_rng, p, (word32)n) != 0) die("wc_RNG_GenerateBlock failed");
}

static void cb_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx) {
    (void)ctx;
    hr_random(dest, len);
}

static uint8_t g_reset_secret[32];

/* what ngtcp2's own example server does: a random CID and its token by HKDF */
static int cb_new_cid(ngtcp2_conn *qc, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *user) {
    (void)qc, (void)user;
    hr_random(cid->data, cidlen);
    cid->datalen = cidlen;
    return ngtcp2_crypto_generate_stateless_reset_token(token, g_reset_secret, sizeof g_reset_secret, cid) == 0
               ? 0
               : NGTCP2_ERR_CALLBACK_FAILURE;
}

/* ---------------------------------------------------------------- one endpoint */
typedef struct {
    uint8_t data[HR_PKT_MAX];
    size_t len;
} hr_pkt;

typedef struct {
    hr_pkt pkt[HR_QUEUE];
    size_t n;
} hr_queue;

typedef struct {
    ngtcp2_conn *qc;
    WOLFSSL *ssl;
    ngtcp2_crypto_conn_ref ref;
    ngtcp2_path path;
    int side;
} hr_end;

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref) { return ((hr_end *)ref->user_data)->qc; }

static struct sockaddr_in g_client_addr, g_server_addr;
static WOLFSSL_CTX *g_client_ctx, *g_server_ctx;
/* wt.h's WT_TLS_GROUPS_DEFAULT: X25519MLKEM768, X25519, P-256, P-384, P-521 */
static int g_groups[] = {0x11ec, 29, 23, 24, 25};
static int g_ngroups;

static void callbacks(ngtcp2_callbacks *cb, int server) {
    memset(cb, 0, sizeof *cb);
    if (server) {
        cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    } else {
        cb->client_initial = ngtcp2_crypto_client_initial_cb;
        cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
    }
    cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
    cb->encrypt = ngtcp2_crypto_encrypt_cb;
    cb->decrypt = ngtcp2_crypto_decrypt_cb;
    cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
    cb->update_key = ngtcp2_crypto_update_key_cb;
    cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
    cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
    cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
    cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
    cb->rand = cb_rand;
    cb->get_new_connection_id = cb_new_cid;
}

/* The transport parameters of an HTTP/3 endpoint with wt.h's default
   limits (what a server keeps per connection depends on them). */
static void settings(ngtcp2_settings *s, ngtcp2_transport_params *tp, uint64_t now) {
    ngtcp2_settings_default(s);
    s->initial_ts = now;
    s->max_window = 16 * 1024 * 1024;
    s->max_stream_window = 6 * 1024 * 1024;
    ngtcp2_transport_params_default(tp);
    tp->initial_max_stream_data_bidi_local = 256 * 1024;
    tp->initial_max_stream_data_bidi_remote = 256 * 1024;
    tp->initial_max_stream_data_uni = 256 * 1024;
    tp->initial_max_data = 1024 * 1024;
    tp->initial_max_streams_bidi = 100;
    tp->initial_max_streams_uni = 103;
    tp->max_idle_timeout = 30000 * HR_MS;
    tp->active_connection_id_limit = 4; /* as wt.h: the memory-patched ngtcp2 keeps 4 slots and asserts */
    tp->max_datagram_frame_size = 65535;
}

static void end_path(hr_end *e, int server) {
    struct sockaddr_in *l = server ? &g_server_addr : &g_client_addr, *r = server ? &g_client_addr : &g_server_addr;
    e->path.local.addr = (ngtcp2_sockaddr *)l;
    e->path.local.addrlen = sizeof *l;
    e->path.remote.addr = (ngtcp2_sockaddr *)r;
    e->path.remote.addrlen = sizeof *r;
}

static WOLFSSL *end_ssl(hr_end *e, WOLFSSL_CTX *ctx, int server) {
    WOLFSSL *ssl = wolfSSL_new(ctx);
    if (!ssl) die("wolfSSL_new failed");
    e->ref.get_conn = get_conn;
    e->ref.user_data = e;
    wolfSSL_set_app_data(ssl, &e->ref);
    if (server) {
        wolfSSL_set_accept_state(ssl);
        wolfSSL_UseALPN(ssl, (char *)"h3", 2, WOLFSSL_ALPN_FAILED_ON_MISMATCH);
    } else {
        int i;
        wolfSSL_set_connect_state(ssl);
        wolfSSL_set_alpn_protos(ssl, (const unsigned char *)"\x02h3", 3);
        wolfSSL_set_quic_transport_version(ssl, 0x39);
        for (i = 0; i < 2 && i < g_ngroups; i++)
            if (wolfSSL_UseKeyShare(ssl, (word16)g_groups[i]) != WOLFSSL_SUCCESS) die("wolfSSL_UseKeyShare failed");
    }
    return ssl;
}

static void client_new(hr_end *c, uint64_t now) {
    ngtcp2_callbacks cb;
    ngtcp2_settings s;
    ngtcp2_transport_params tp;
    ngtcp2_cid dcid, scid;
    memset(c, 0, sizeof *c);
    c->side = SIDE_CLIENT;
    end_path(c, 0);
    callbacks(&cb, 0);
    settings(&s, &tp, now);
    dcid.datalen = 16;
    hr_random(dcid.data, dcid.datalen);
    scid.datalen = 16;
    hr_random(scid.data, scid.datalen);
    if (ngtcp2_conn_client_new(&c->qc, &dcid, &scid, &c->path, NGTCP2_PROTO_VER_V1, &cb, &s, &tp, &g_mem_client, c) != 0)
        die("ngtcp2_conn_client_new failed");
    c->ssl = end_ssl(c, g_client_ctx, 0);
    ngtcp2_conn_set_tls_native_handle(c->qc, c->ssl);
}

static void server_new(hr_end *sv, const uint8_t *pkt, size_t len, uint64_t now) {
    ngtcp2_pkt_hd hd;
    ngtcp2_callbacks cb;
    ngtcp2_settings s;
    ngtcp2_transport_params tp;
    ngtcp2_cid scid;
    memset(sv, 0, sizeof *sv);
    sv->side = SIDE_SERVER;
    if (ngtcp2_accept(&hd, pkt, len) != 0) die("ngtcp2_accept refused the client's Initial");
    end_path(sv, 1);
    callbacks(&cb, 1);
    settings(&s, &tp, now);
    tp.original_dcid = hd.dcid;
    tp.original_dcid_present = 1;
    scid.datalen = 16;
    hr_random(scid.data, scid.datalen);
    if (ngtcp2_conn_server_new(&sv->qc, &hd.scid, &scid, &sv->path, hd.version, &cb, &s, &tp, &g_mem_server, sv) != 0)
        die("ngtcp2_conn_server_new failed");
    sv->ssl = end_ssl(sv, g_server_ctx, 1);
    ngtcp2_conn_set_tls_native_handle(sv->qc, sv->ssl);
}

static void end_free(hr_end *e) {
    if (e->qc) ngtcp2_conn_del(e->qc);
    if (e->ssl) wolfSSL_free(e->ssl);
    e->qc = NULL, e->ssl = NULL;
}

/* everything the endpoint wants to send now */
static void end_write(hr_end *e, hr_queue *q, uint64_t now) {
    ngtcp2_pkt_info pi;
    for (;;) {
        ngtcp2_ssize n;
        if (q->n == HR_QUEUE) die("more packets in one flight than the queue holds");
        n = ngtcp2_conn_write_pkt(e->qc, NULL, &pi, q->pkt[q->n].data, HR_PKT_MAX, now);
        if (n < 0) {
            fprintf(stderr, "handshake_raw: %s write: %s\n", e->side == SIDE_SERVER ? "server" : "client",
                    ngtcp2_strerror((int)n));
            exit(1);
        }
        if (n == 0) break;
        q->pkt[q->n++].len = (size_t)n;
    }
}

static void end_read(hr_end *e, hr_queue *q, uint64_t now) {
    ngtcp2_pkt_info pi;
    size_t i;
    memset(&pi, 0, sizeof pi);
    for (i = 0; i < q->n; i++) {
        int rv = ngtcp2_conn_read_pkt(e->qc, &e->path, &pi, q->pkt[i].data, q->pkt[i].len, now);
        if (rv != 0) {
            fprintf(stderr, "handshake_raw: %s read: %s\n", e->side == SIDE_SERVER ? "server" : "client",
                    ngtcp2_strerror(rv));
            exit(1);
        }
    }
    q->n = 0;
}

/* Server CPU: the thread's CPU clock read around every server-side step.
   A reading is a system call (1-2 us on a VM, a few % of a handshake), so
   what one costs inside a measured interval is taken off per interval. */
static uint64_t g_server_cpu, g_server_spans, g_clock_cost;

static void server_span(uint64_t t0) {
    g_server_cpu += cpu_ns() - t0;
    g_server_spans++;
}

static uint64_t clock_cost(void) {
    uint64_t best = UINT64_MAX;
    int i;
    for (i = 0; i < 1000; i++) {
        uint64_t a = cpu_ns(), b = cpu_ns();
        if (b - a < best) best = b - a;
    }
    return best;
}

/* one exchange: client flight to the server, the server's answer back.
   Returns the number of packets sent by either side. */
static size_t exchange(hr_end *c, hr_end *sv, uint64_t now) {
    static hr_queue c2s, s2c;
    size_t sent;
    uint64_t t0;
    g_side = SIDE_CLIENT;
    end_write(c, &c2s, now);
    sent = c2s.n;
    g_side = SIDE_SERVER;
    t0 = cpu_ns();
    if (!sv->qc && c2s.n) server_new(sv, c2s.pkt[0].data, c2s.pkt[0].len, now);
    if (sv->qc) {
        end_read(sv, &c2s, now);
        end_write(sv, &s2c, now);
    }
    server_span(t0);
    sent += s2c.n;
    g_side = SIDE_CLIENT;
    end_read(c, &s2c, now);
    g_side = SIDE_OTHER;
    return sent;
}

static void expire(hr_end *e, uint64_t now) {
    if (ngtcp2_conn_get_expiry(e->qc) <= now && ngtcp2_conn_handle_expiry(e->qc, now) != 0)
        die(e->side == SIDE_SERVER ? "server timer failed" : "client timer failed");
}

/* One whole connection: handshake, the exchanges until both sides are
   idle (ACKs and HANDSHAKE_DONE delivered, nothing left to retransmit),
   then teardown. Returns the server's heap while idle. */
static long long one_handshake(uint64_t *now, long long *ng, long long *wolf) {
    hr_end c, sv;
    long long base_ng = g_live[SIDE_SERVER][LIB_NGTCP2], base_wolf = g_live[SIDE_SERVER][LIB_WOLFSSL];
    int rounds = 0;
    uint64_t t0;
    memset(&sv, 0, sizeof sv);
    g_side = SIDE_CLIENT;
    client_new(&c, *now);
    for (;;) {
        size_t sent = exchange(&c, &sv, *now);
        uint64_t next;
        if (++rounds > 200) die("the handshake did not finish in 200 exchanges");
        *now += HR_MS; /* the link's one-way time, roughly */
        if (sent) continue;
        if (!sv.qc) die("the client sent nothing");
        if (!ngtcp2_conn_get_handshake_completed(c.qc) || !ngtcp2_conn_get_handshake_completed(sv.qc))
            die("both sides went quiet before the handshake completed");
        /* quiet: run the timers that are due soon (delayed ACKs, loss
           detection); idle once the next one is far (idle timeout) */
        next = ngtcp2_conn_get_expiry(c.qc);
        if (ngtcp2_conn_get_expiry(sv.qc) < next) next = ngtcp2_conn_get_expiry(sv.qc);
        if (next > *now + 1000 * HR_MS) break;
        if (next > *now) *now = next;
        g_side = SIDE_CLIENT;
        expire(&c, *now);
        g_side = SIDE_SERVER;
        t0 = cpu_ns();
        expire(&sv, *now);
        server_span(t0);
        g_side = SIDE_OTHER;
    }
    *ng = g_live[SIDE_SERVER][LIB_NGTCP2] - base_ng;
    *wolf = g_live[SIDE_SERVER][LIB_WOLFSSL] - base_wolf;
    g_side = SIDE_SERVER;
    t0 = cpu_ns();
    end_free(&sv);
    server_span(t0);
    g_side = SIDE_CLIENT;
    end_free(&c);
    g_side = SIDE_OTHER;
    *now += 1000 * HR_MS;
    return *ng + *wolf;
}

/* ---------------------------------------------------------------- TLS set-up */
static void make_cert(uint8_t *cert, int *cert_len, uint8_t *key, int *key_len) {
    ecc_key k;
    Cert c;
    if (wc_ecc_init(&k) != 0 || wc_ecc_make_key_ex(&g_rng, 32, &k, ECC_SECP256R1) != 0) die("P-256 key generation failed");
    if (wc_InitCert(&c) != 0) die("wc_InitCert failed");
    c.sigType = CTC_SHA256wECDSA;
    c.daysValid = 10;
    c.version = 2;
    snprintf(c.subject.commonName, CTC_NAME_SIZE, "localhost");
    if (wc_MakeCert(&c, cert, 4096, NULL, &k, &g_rng) < 0) die("wc_MakeCert failed");
    if ((*cert_len = wc_SignCert(c.bodySz, c.sigType, cert, 4096, NULL, &k, &g_rng)) < 0) die("wc_SignCert failed");
    if ((*key_len = wc_EccKeyToDer(&k, key, 4096)) < 0) die("wc_EccKeyToDer failed");
    wc_ecc_free(&k);
}

static void tls_setup(void) {
    static uint8_t cert[4096], key[4096];
    int cert_len, key_len;
    make_cert(cert, &cert_len, key, &key_len);
    g_ngroups = (int)(sizeof g_groups / sizeof g_groups[0]);
    g_server_ctx = wolfSSL_CTX_new(wolfTLSv1_3_server_method());
    g_client_ctx = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
    if (!g_server_ctx || !g_client_ctx) die("wolfSSL_CTX_new failed");
    if (ngtcp2_crypto_wolfssl_configure_server_context(g_server_ctx) != 0 ||
        ngtcp2_crypto_wolfssl_configure_client_context(g_client_ctx) != 0)
        die("ngtcp2_crypto_wolfssl_configure_*_context failed");
    if (wolfSSL_CTX_use_certificate_buffer(g_server_ctx, cert, cert_len, WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_PrivateKey_buffer(g_server_ctx, key, key_len, WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
        die("cannot load the certificate");
    wolfSSL_CTX_set_verify(g_client_ctx, WOLFSSL_VERIFY_NONE, NULL);
    /* drop the groups this build lacks (ML-KEM in a small build) */
    {
        int ok[5], n = 0, i;
        for (i = 0; i < g_ngroups; i++) {
            WOLFSSL *probe = wolfSSL_new(g_client_ctx);
            if (probe && wolfSSL_UseKeyShare(probe, (word16)g_groups[i]) == WOLFSSL_SUCCESS) ok[n++] = g_groups[i];
            if (probe) wolfSSL_free(probe);
        }
        if (n == 0) die("no usable TLS group");
        memcpy(g_groups, ok, (size_t)n * sizeof ok[0]);
        g_ngroups = n;
    }
    if (wolfSSL_CTX_set_groups(g_server_ctx, g_groups, g_ngroups) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_set_groups(g_client_ctx, g_groups, g_ngroups) != WOLFSSL_SUCCESS)
        die("wolfSSL_CTX_set_groups failed");
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* --unpatched: the same run with the pristine glue, the binary beside this one */
static void run_unpatched(int argc, char **argv) {
    char path[4096], *args[16];
    const char *slash = strrchr(argv[0], '/');
    int i, k = 0;
    size_t dir = slash ? (size_t)(slash - argv[0]) + 1 : 0;
    if (dir + sizeof "handshake_raw_unpatched" > sizeof path || argc > 15) die("--unpatched: path or arguments too long");
    memcpy(path, argv[0], dir);
    memcpy(path + dir, "handshake_raw_unpatched", sizeof "handshake_raw_unpatched");
    args[k++] = path;
    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], "--unpatched") != 0) args[k++] = argv[i];
    args[k] = NULL;
    execv(path, args);
    fprintf(stderr, "handshake_raw: --unpatched: cannot run %s (built by make %s)\n", path, path);
    exit(1);
}

int main(int argc, char **argv) {
    long n = 2000, warmup = 50, i;
    int quiet = 0;
    long long *heap, *heap_ng, *heap_wolf;
    uint64_t now = 1000 * HR_MS, w0, w1;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atol(argv[++i]);
        else if (!strcmp(argv[i], "--quiet")) quiet = 1;
        else if (!strcmp(argv[i], "--unpatched")) {
            if (strcmp(HR_GLUE, "unpatched") != 0) run_unpatched(argc, argv);
        } else {
            fprintf(stderr, "usage: %s [--unpatched] [--n N] [--warmup W] [--quiet]\n", argv[0]);
            return 2;
        }
    }
    if (n < 1 || n > 10000000 || warmup < 0) die("--n must be 1..10000000 and --warmup not negative");
    if (wolfSSL_SetAllocators(hr_wolf_malloc, hr_wolf_free, hr_wolf_realloc) != 0) die("wolfSSL_SetAllocators failed");
    if (wolfSSL_Init() != WOLFSSL_SUCCESS) die("wolfSSL_Init failed");
    if (wc_InitRng(&g_rng) != 0) die("wc_InitRng failed");
    hr_random(g_reset_secret, sizeof g_reset_secret);
    g_client_addr.sin_family = g_server_addr.sin_family = AF_INET;
    g_client_addr.sin_addr.s_addr = htonl(0x7f000001);
    g_server_addr.sin_addr.s_addr = htonl(0x7f000001);
    g_client_addr.sin_port = htons(50000);
    g_server_addr.sin_port = htons(4433);
    tls_setup();
    heap = (long long *)calloc((size_t)n * 3, sizeof *heap);
    if (!heap) die("out of memory");
    heap_ng = heap + n, heap_wolf = heap + 2 * n;
    for (i = 0; i < warmup; i++) {
        long long a, b;
        one_handshake(&now, &a, &b);
    }
    g_clock_cost = clock_cost();
    g_server_cpu = g_server_spans = 0;
    w0 = wall_ns();
    for (i = 0; i < n; i++) heap[i] = one_handshake(&now, &heap_ng[i], &heap_wolf[i]);
    w1 = wall_ns();
    if (g_server_cpu > g_server_spans * g_clock_cost) g_server_cpu -= g_server_spans * g_clock_cost;
    qsort(heap, (size_t)n, sizeof *heap, cmp_ll);
    qsort(heap_ng, (size_t)n, sizeof *heap, cmp_ll);
    qsort(heap_wolf, (size_t)n, sizeof *heap, cmp_ll);
    printf("{\"handshakes_per_s\": %.1f, \"server_cpu_ms\": %.4f, \"server_handshakes_per_s\": %.1f, "
           "\"conn_heap_bytes\": %lld, \"conn_heap_ngtcp2\": %lld, \"conn_heap_wolfssl\": %lld, "
           "\"n\": %ld, \"glue\": \"%s\"}\n",
           (double)n * 1e9 / (double)(w1 - w0), (double)g_server_cpu / 1e6 / (double)n,
           (double)n * 1e9 / (double)g_server_cpu, heap[n / 2], heap_ng[n / 2], heap_wolf[n / 2], n, HR_GLUE);
    if (!quiet)
        fprintf(stderr, "handshake_raw (%s glue): %ld handshakes, server heap per idle connection %lld..%lld\n", HR_GLUE,
                n, heap[0], heap[n - 1]);
    free(heap);
    wolfSSL_CTX_free(g_server_ctx);
    wolfSSL_CTX_free(g_client_ctx);
    wc_FreeRng(&g_rng);
    wolfSSL_Cleanup();
    return 0;
}
