/* wt_quic.c - QUIC connections on ngtcp2 + wolfSSL: accept, connect,
   packets in and out, timers, connection IDs, close. */
#include "wt_internal.h"

#define WT__SCID_LEN 16 /* without a long server ID (see wt__cid_make) */
#define WT__NS_PER_MS 1000000ULL

static void wt__conn_not_half_open(wt__conn *c);

static const wt_limits wt__default_limits = {
    256,              /* max_connections */
    16,               /* max_sessions */
    128,              /* max_streams_bidi */
    128,              /* max_streams_uni */
    4 * 1024 * 1024,  /* stream_window: a bulk stream's bytes in flight */
    8 * 1024 * 1024,  /* conn_window */
    2 * 1024 * 1024,  /* stream_send_buffer: more costs a bulk sender cache misses */
    1024,             /* datagram_queue: with _bytes, small ones fill a window */
    24,               /* buffered_streams */
    32,               /* buffered_datagrams */
    16 * 1024,        /* max_header_bytes */
    30000,            /* idle_timeout_ms */
    10000,            /* handshake_timeout_ms */
    4 * 1024 * 1024,  /* udp_buffer */
    0,                /* keepalive_ms: idle_timeout_ms / 2, set below */
    50000,            /* glitch_burst */
    5000,             /* glitch_rate */
    32,               /* retry_threshold */
    8,                /* max_half_open_per_ip */
    5000,             /* unvalidated_timeout_ms */
    16 * 1024 * 1024, /* conn_send_buffer */
    256 * 1024 * 1024, /* total_send_buffer */
    4 * 1024 * 1024,  /* stream_queue */
    UINT32_MAX,       /* max_app_sessions: no cap of its own */
    UINT32_MAX,       /* sessions_per_ip_per_s: no limit */
    1024,             /* rate_limit_ips */
    0,                /* session_max_data: conn_window, set below */
    0,                /* session_max_streams_bidi: max_streams_bidi */
    0,                /* session_max_streams_uni: max_streams_uni */
    64 * 1024,        /* datagram_queue_bytes */
    0,                /* memory_budget: none */
    0,                /* qpack_table: none */
    WT_CC_CUBIC       /* congestion_control */
};

/* ---------------------------------------------------------------- randomness */
/* Every random byte the endpoint draws itself: connection IDs, the reset
   and Retry-token secrets, ngtcp2's rand callback. Fuzzers and tests may
   compile the implementation with WT_TEST_RNG defined as the name of a
   function void f(uint8_t *out, size_t n), which then supplies them, so
   the same packets meet the same connection IDs run after run (wolfSSL's
   own TLS randomness is not covered).
   Without it this is wolfSSL's generator, drawn WT__RAND_POOL bytes at a
   time: each call of wc_RNG_GenerateBlock costs a getpid() system call
   (wolfSSL's fork check) and a SHA-512 block whatever the size, and a
   connection takes about twenty small pieces (its connection IDs, ngtcp2's
   rand). Bytes handed out are wiped from the pool, and the pool when the
   endpoint goes. An endpoint belongs to the process that made it (after a
   fork() the child makes its own app or client). */
#ifdef WT_TEST_RNG
void WT_TEST_RNG(uint8_t *out, size_t n); /* defined by the test program */
#endif
static int wt__random(wt__ep *ep, uint8_t *out, size_t n) {
#ifdef WT_TEST_RNG
    WT__UNUSED(ep);
    WT_TEST_RNG(out, n);
    return 0;
#else
    if (n > sizeof ep->rand_pool / 4) return wc_RNG_GenerateBlock(&ep->rng, out, (word32)n) == 0 ? 0 : -1;
    while (n > 0) {
        size_t k;
        uint8_t *p;
        if (ep->rand_left == 0) {
            if (wc_RNG_GenerateBlock(&ep->rng, ep->rand_pool, (word32)sizeof ep->rand_pool) != 0) return -1;
            ep->rand_left = sizeof ep->rand_pool;
        }
        k = WT__MIN(n, ep->rand_left);
        p = ep->rand_pool + sizeof ep->rand_pool - ep->rand_left;
        memcpy(out, p, k);
        wt__zero(p, k);
        ep->rand_left -= k;
        out += k;
        n -= k;
    }
    return 0;
#endif
}

/* ---------------------------------------------------------------- memory budget */
/* wt_limits.memory_budget: the app's allocator behind one that counts.
   Each block carries its size in a header; the budget itself is taken
   from the app's allocator directly (not counted). An allocation that
   would pass the budget fails (an error, never a crash); admission keeps
   room for the work already admitted (WT__BUDGET_CONN / _SESSION). */
#define WT__BUDGET_CONN (64 * 1024)   /* a new connection needs this much room */
#define WT__BUDGET_SESSION (4 * 1024) /* a new session, with its first stream */
typedef union wt__budget_hdr {
    size_t n;
    max_align_t align;
} wt__budget_hdr;

static void *wt__budget_malloc(size_t n, void *u) {
    wt__budget *b = (wt__budget *)u;
    wt__budget_hdr *h;
    if (n > b->max || b->used + n + sizeof *h > b->max) {
        b->failed++;
        return NULL;
    }
    if (!(h = (wt__budget_hdr *)wt__alloc(&b->raw, n + sizeof *h))) return NULL;
    h->n = n;
    b->used += n + sizeof *h;
    if (b->used > b->peak) b->peak = b->used;
    return h + 1;
}

static void wt__budget_free(void *p, void *u) {
    wt__budget *b = (wt__budget *)u;
    wt__budget_hdr *h;
    if (!p) return;
    h = (wt__budget_hdr *)p - 1;
    b->used -= h->n + sizeof *h;
    wt__free(&b->raw, h);
}

static void *wt__budget_realloc(void *p, size_t n, void *u) {
    wt__budget *b = (wt__budget *)u;
    wt__budget_hdr *h, *nh;
    if (!p) return wt__budget_malloc(n, u);
    h = (wt__budget_hdr *)p - 1;
    if (n > h->n && (n > b->max || b->used + (n - h->n) > b->max)) {
        b->failed++;
        return NULL;
    }
    if (!(nh = (wt__budget_hdr *)wt__realloc(&b->raw, h, n + sizeof *nh))) return NULL;
    b->used = b->used - nh->n + n;
    nh->n = n;
    if (b->used > b->peak) b->peak = b->used;
    return nh + 1;
}

/* A budget of max bytes over raw; *out becomes the allocator to use. */
static wt__budget *wt__budget_new(const wt_allocator *raw, size_t max, wt_allocator *out) {
    wt__budget *b = (wt__budget *)wt__calloc(raw, sizeof *b);
    if (!b) return NULL;
    b->raw = *raw;
    b->max = max;
    out->malloc_fn = wt__budget_malloc;
    out->realloc_fn = wt__budget_realloc;
    out->free_fn = wt__budget_free;
    out->user = b;
    return b;
}

/* Room for need more bytes, with an endpoint under a budget (always
   without one). The send buffer every connection shares comes first. */
static int wt__budget_room(wt__ep *ep, size_t need) {
    if (!ep->budget) return 1;
    if (!ep->txbuf && !(ep->txbuf = (uint8_t *)wt__alloc(&ep->alloc, WT__SEND_BATCH * WT__MAX_UDP_PAYLOAD))) return 0;
    /* an eighth stays for the connections and sessions already admitted:
       their streams and acknowledgements still need memory */
    return ep->budget->used + need + ep->budget->max / 8 <= ep->budget->max;
}

/* ---------------------------------------------------------------- memory hooks */
static void *wt__mem_malloc(size_t n, void *u) { return wt__alloc((const wt_allocator *)u, n); }
static void wt__mem_free(void *p, void *u) { wt__free((const wt_allocator *)u, p); }
static void *wt__mem_calloc(size_t k, size_t n, void *u) {
    if (n && k > SIZE_MAX / n) return NULL;
    return wt__calloc((const wt_allocator *)u, k * n);
}
static void *wt__mem_realloc(void *p, size_t n, void *u) {
    return wt__realloc((const wt_allocator *)u, p, n);
}

static int wt__ep_init(wt__ep *ep, wt_loop *loop, int server, const wt_allocator *alloc, const wt_log *log,
                const wt_limits *lim) {
    static int tls_ready;
    const uint32_t *d = (const uint32_t *)&wt__default_limits;
    uint32_t *o;
    size_t i;
    wt__budget *budget = ep->budget; /* the app's, set before */
    memset(ep, 0, sizeof *ep);
    ep->budget = budget;
    ep->keylog_fd = -1;
    ep->tick_due_ms = UINT64_MAX;
    ep->server = server;
    if (alloc) ep->alloc = *alloc;
    if (log) ep->log = *log;
    if (lim) ep->lim = *lim;
    /* zero means default, field by field (wt_limits holds only uint32_t) */
    o = (uint32_t *)&ep->lim;
    for (i = 0; i < sizeof(wt_limits) / sizeof(uint32_t); i++)
        if (o[i] == 0) o[i] = d[i];
    if (ep->lim.congestion_control > WT_CC_BBR)
        return wt__fail(&ep->log, WT_ERR_INVALID, "limits.congestion_control %u: not WT_CC_CUBIC, _RENO or _BBR",
                        (unsigned)ep->lim.congestion_control);
    if (ep->lim.max_header_bytes < 1024) ep->lim.max_header_bytes = 1024;
    if (!ep->lim.keepalive_ms) ep->lim.keepalive_ms = ep->lim.idle_timeout_ms / 2;
    /* session flow control follows QUIC's windows unless set */
    if (!lim || !lim->session_max_data) ep->lim.session_max_data = ep->lim.conn_window;
    if (!lim || !lim->session_max_streams_bidi) ep->lim.session_max_streams_bidi = ep->lim.max_streams_bidi;
    if (!lim || !lim->session_max_streams_uni) ep->lim.session_max_streams_uni = ep->lim.max_streams_uni;
    ep->mem.user_data = &ep->alloc;
    ep->mem.malloc = wt__mem_malloc;
    ep->mem.free = wt__mem_free;
    ep->mem.calloc = wt__mem_calloc;
    ep->mem.realloc = wt__mem_realloc;
    ep->h3mem.user_data = &ep->alloc;
    ep->h3mem.malloc = wt__mem_malloc;
    ep->h3mem.free = wt__mem_free;
    ep->h3mem.calloc = wt__mem_calloc;
    ep->h3mem.realloc = wt__mem_realloc;
    if (!tls_ready) {
        if (wolfSSL_Init() != WOLFSSL_SUCCESS) return wt__fail(&ep->log, WT_ERR_TLS, "wolfSSL_Init failed");
        tls_ready = 1;
    }
    if (!loop) {
        wt_loop_config lc;
        memset(&lc, 0, sizeof lc);
        lc.alloc = ep->alloc;
        lc.log = ep->log;
        if (!(loop = wt_loop_create(&lc))) return WT_ERR_NOMEM;
        ep->owns_loop = 1;
    }
    ep->loop = loop;
    if (wc_InitRng(&ep->rng) != 0) {
        wt__ep_free(ep);
        return wt__fail(&ep->log, WT_ERR_TLS, "wolfSSL RNG init failed");
    }
    ep->rng_ready = 1;
    wt__random(ep, ep->reset_secret, sizeof ep->reset_secret);
    wt__random(ep, ep->token_secret, sizeof ep->token_secret);
    ep->cid_len = WT__SCID_LEN;
    ep->cids_cap = 64;
    ep->cids = (wt__cid_slot *)wt__calloc(&ep->alloc, ep->cids_cap * sizeof *ep->cids);
    ep->ssl_ctx = wolfSSL_CTX_new(server ? wolfTLSv1_3_server_method() : wolfTLSv1_3_client_method());
    if (!ep->cids || !ep->ssl_ctx ||
        (server ? ngtcp2_crypto_wolfssl_configure_server_context(ep->ssl_ctx)
                : ngtcp2_crypto_wolfssl_configure_client_context(ep->ssl_ctx)) != 0) {
        wt__ep_free(ep);
        return wt__fail(&ep->log, WT_ERR_TLS, "cannot set up the TLS context (or out of memory)");
    }
    /* (its one-time self-check runs here rather than in a first packet) */
    wt__log(&ep->log, WT_LOG_DEBUG, "packet protection: %s",
            wt__aead_is_direct(NULL, NULL) ? "AES-GCM on wolfCrypt, the rest through ngtcp2's glue"
                                           : "ngtcp2's wolfSSL glue");
    wt__loop_add_ep(loop, ep);
    return WT_OK;
}

/* ---------------------------------------------------------------- connection-ID table */
static size_t wt__cid_hash(const uint8_t *p, size_t n) {
    size_t h = 1469598103934665603ULL & SIZE_MAX, i;
    for (i = 0; i < n; i++) h = (h ^ p[i]) * (1099511628211ULL & SIZE_MAX);
    return h;
}

static wt__cid_slot *wt__cid_lookup_slot(wt__ep *ep, const uint8_t *p, size_t n) {
    size_t mask = ep->cids_cap - 1, i = wt__cid_hash(p, n) & mask, k;
    for (k = 0; k < ep->cids_cap; k++, i = (i + 1) & mask) {
        wt__cid_slot *s = &ep->cids[i];
        if (s->len == 0) return NULL;
        if (s->len == n && memcmp(s->data, p, n) == 0) return s;
    }
    return NULL;
}

static wt__conn *wt__cid_find(wt__ep *ep, const uint8_t *p, size_t n) {
    wt__cid_slot *s = wt__cid_lookup_slot(ep, p, n);
    return s ? s->conn : NULL;
}

static void wt__cid_put(wt__ep *ep, const uint8_t *p, size_t n, wt__conn *c) {
    size_t mask = ep->cids_cap - 1, i = wt__cid_hash(p, n) & mask;
    while (ep->cids[i].len != 0 && ep->cids[i].len != 255) i = (i + 1) & mask;
    if (ep->cids[i].len == 255) ep->cids_dead--;
    ep->cids_live++;
    ep->cids[i].len = (uint8_t)n;
    memcpy(ep->cids[i].data, p, n);
    ep->cids[i].conn = c;
}

/* Keeps the table at most half full counting tombstones: rehashing drops
   them, and the size follows the live count only, so connection churn
   cannot grow it. */
static int wt__cid_make_room(wt__ep *ep) {
    size_t cap = ep->cids_cap, j;
    wt__cid_slot *old, *nt;
    if ((ep->cids_live + ep->cids_dead + 1) * 2 <= ep->cids_cap) return WT_OK;
    while ((ep->cids_live + 1) * 4 > cap) cap *= 2;
    nt = (wt__cid_slot *)wt__calloc(&ep->alloc, cap * sizeof *nt);
    if (!nt) return WT_ERR_NOMEM;
    old = ep->cids;
    j = ep->cids_cap;
    ep->cids = nt;
    ep->cids_cap = cap;
    ep->cids_live = ep->cids_dead = 0;
    while (j-- > 0)
        if (old[j].len && old[j].len != 255) wt__cid_put(ep, old[j].data, old[j].len, old[j].conn);
    wt__free(&ep->alloc, old);
    return WT_OK;
}

static int wt__cid_add(wt__ep *ep, const uint8_t *p, size_t n, wt__conn *c) {
    if (n == 0 || n > NGTCP2_MAX_CIDLEN) return WT_OK;
    if (wt__cid_find(ep, p, n)) return WT_OK; /* e.g. the client's DCID reused */
    if (c->tp.ncids == c->tp.cids_cap) {
        size_t cap = c->tp.cids_cap ? c->tp.cids_cap * 2 : 8;
        ngtcp2_cid *nc = (ngtcp2_cid *)wt__realloc(&ep->alloc, c->tp.cids, cap * sizeof *nc);
        if (!nc) return WT_ERR_NOMEM;
        c->tp.cids = nc;
        c->tp.cids_cap = cap;
    }
    if (wt__cid_make_room(ep) != WT_OK) return WT_ERR_NOMEM;
    ngtcp2_cid_init(&c->tp.cids[c->tp.ncids++], p, n);
    wt__cid_put(ep, p, n, c);
    return WT_OK;
}

static void wt__cid_remove(wt__ep *ep, wt__conn *c, const uint8_t *p, size_t n) {
    wt__cid_slot *s = wt__cid_lookup_slot(ep, p, n);
    size_t i;
    if (s && s->conn == c) {
        s->len = 255, s->conn = NULL; /* a tombstone keeps probe chains intact */
        ep->cids_live--;
        ep->cids_dead++;
    }
    for (i = 0; i < c->tp.ncids; i++)
        if (c->tp.cids[i].datalen == n && memcmp(c->tp.cids[i].data, p, n) == 0) {
            c->tp.cids[i] = c->tp.cids[--c->tp.ncids];
            break;
        }
}

static void wt__cid_remove_conn(wt__ep *ep, wt__conn *c) {
    while (c->tp.ncids > 0) wt__cid_remove(ep, c, c->tp.cids[c->tp.ncids - 1].data, c->tp.cids[c->tp.ncids - 1].datalen);
    wt__free(&ep->alloc, c->tp.cids);
    c->tp.cids = NULL;
    c->tp.cids_cap = 0;
}

/* ---------------------------------------------------------------- ngtcp2 callbacks */
static ngtcp2_conn *wt__get_conn(ngtcp2_crypto_conn_ref *ref) {
    return ((wt__conn *)ref->user_data)->tp.qc;
}

static void wt__cb_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx) {
    wt__ep *ep = (wt__ep *)ctx->native_handle;
    wt__random(ep, dest, len);
}

/* The stateless-reset token of a connection ID (RFC 9000 10.3.2): HMAC-
   SHA256 of the CID under the endpoint's reset key, the first 16 bytes.
   Unpredictable without the key, the same for a CID across restarts when
   the key is (wt_app_config.reset_key), and about 1 us: wolfCrypt's HMAC
   directly, not ngtcp2's HKDF through wolfSSL's EVP layer (~6 us, a DRBG
   instantiated each time). */
static int wt__reset_token(const wt__ep *ep, const uint8_t *cid, size_t cidlen,
                           uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN]) {
    static const uint8_t label[] = "wt.h stateless reset";
    uint8_t mac[WC_SHA256_DIGEST_SIZE];
    Hmac h;
    int rv;
    if (wc_HmacInit(&h, NULL, INVALID_DEVID) != 0) return -1;
    rv = wc_HmacSetKey(&h, WC_SHA256, ep->reset_secret, (word32)sizeof ep->reset_secret);
    if (rv == 0) rv = wc_HmacUpdate(&h, label, (word32)sizeof label);
    if (rv == 0) rv = wc_HmacUpdate(&h, cid, (word32)cidlen);
    if (rv == 0) rv = wc_HmacFinal(&h, mac);
    wc_HmacFree(&h);
    if (rv != 0) return -1;
    memcpy(token, mac, NGTCP2_STATELESS_RESET_TOKENLEN);
    return 0;
}

/* A server connection ID, ep->cid_len bytes:
     [0]           first octet: with a server ID, QUIC-LB's (draft-ietf-
                   quic-load-balancers-21, "First CID octet"): config
                   rotation in the top 3 bits (0: our one configuration;
                   0b111 would mean unroutable), then the length of the
                   rest of the CID (cid_len - 1, at most 19) in the low 5
                   bits; else random
     [1 .. sid]    the server ID (wt_app_config.server_id), if any: the
                   plaintext algorithm (no key), so a balancer reads it as is
     [1 + sid]     the worker index (ep->worker): the reuseport steering
                   program reads it, so a connection's packets reach the
                   worker that owns it whatever address they come from. To a
                   balancer it is the nonce's first byte (the draft's "server
                   process demultiplexing")
     [2 + sid ..]  random (at least 4 bytes)
   A client's connection IDs are all random. */
#define WT__QUICLB_CR_SHIFT 5    /* config rotation: the first octet's top 3 bits */
#define WT__QUICLB_LEN_MASK 0x1f /* the low 5: length of the CID after the first octet */
static int wt__cid_make(wt__ep *ep, uint8_t *cid, size_t len) {
    if (wt__random(ep, cid, len) != 0) return -1;
    if (!ep->server || len < (size_t)ep->sid_len + 6) return 0;
    if (ep->sid_len) {
        cid[0] = (uint8_t)((0u << WT__QUICLB_CR_SHIFT) | ((len - 1) & WT__QUICLB_LEN_MASK));
        memcpy(cid + 1, ep->sid, ep->sid_len);
    }
    cid[1 + ep->sid_len] = ep->worker;
    return 0;
}

static int wt__cb_new_cid(ngtcp2_conn *qc, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *user) {
    wt__conn *c = (wt__conn *)user;
    int tries = 0;
    WT__UNUSED(qc);
    do { /* a CID another connection owns would route its packets here */
        if (wt__cid_make(c->ep, cid->data, cidlen) != 0 || ++tries > 8)
            return NGTCP2_ERR_CALLBACK_FAILURE;
    } while (wt__cid_find(c->ep, cid->data, cidlen));
    cid->datalen = cidlen;
    if (wt__reset_token(c->ep, cid->data, cid->datalen, token) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
    if (wt__cid_add(c->ep, cid->data, cid->datalen, c) != WT_OK) return NGTCP2_ERR_CALLBACK_FAILURE;
    return 0;
}

static int wt__cb_remove_cid(ngtcp2_conn *qc, const ngtcp2_cid *cid, void *user) {
    wt__conn *c = (wt__conn *)user;
    WT__UNUSED(qc);
    wt__cid_remove(c->ep, c, cid->data, cid->datalen);
    return 0;
}

/* A client's connection ended by a stateless reset (RFC 9000 10.3): the
   server no longer has it: it restarted, or behind a load balancer the
   packets reached another instance (that shares reset_key). Said once, so
   a reset is not mistaken for a silent close. */
#if NGTCP2_VERSION_NUM >= 0x011600
static int wt__cb_stateless_reset(ngtcp2_conn *qc, const ngtcp2_pkt_stateless_reset2 *sr, void *user) {
#else
static int wt__cb_stateless_reset(ngtcp2_conn *qc, const ngtcp2_pkt_stateless_reset *sr, void *user) {
#endif
    WT__UNUSED(qc);
    WT__UNUSED(sr);
    wt__clog((wt__conn *)user, -1, WT_LOG_INFO,
             "the server reset the connection (a stateless reset: it has no state for it)");
    return 0;
}

static int wt__cb_handshake_completed(ngtcp2_conn *qc, void *user) {
    wt__conn *c = (wt__conn *)user;
    char *alpn = NULL;
    unsigned short alpn_len = 0;
    WT__UNUSED(qc);
    if (wolfSSL_ALPN_GetProtocol(c->tp.ssl, &alpn, &alpn_len) != WOLFSSL_SUCCESS || alpn_len != 2 ||
        memcmp(alpn, "h3", 2) != 0) {
        wt__clog(c, -1, WT_LOG_WARN, "TLS handshake failed: the peer did not negotiate ALPN h3: we send alert 120 (%s)",
                 wt__tls_alert_name(120));
        /* an alert tells the peer why; a bare internal error would not */
        ngtcp2_ccerr_set_tls_alert(&c->tp.ccerr, 120, NULL, 0);
        c->fail_error = WT_ERR_TLS;
        return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    if (!c->ep->server && c->ep->has_pin) {
        WOLFSSL_X509 *peer = wolfSSL_get_peer_certificate(c->tp.ssl);
        const unsigned char *der;
        int der_len = 0, ok = 0;
        uint8_t h[32];
        if (peer && (der = wolfSSL_X509_get_der(peer, &der_len)) != NULL &&
            wc_Sha256Hash(der, (word32)der_len, h) == 0)
            ok = memcmp(h, c->ep->pin, 32) == 0;
        wolfSSL_X509_free(peer);
        if (!ok) {
            c->fail_error = WT_ERR_CERT;
            wt__clog(c, -1, WT_LOG_ERROR,
                     "TLS handshake failed: the server certificate does not match the pinned SHA-256: "
                     "we send alert 42 (%s)", wt__tls_alert_name(42));
            ngtcp2_ccerr_set_tls_alert(&c->tp.ccerr, 42, NULL, 0);
            return NGTCP2_ERR_CALLBACK_FAILURE;
        }
    }
    {
        const char *group = wolfSSL_get_curve_name(c->tp.ssl);
        wt__clog(c, -1, WT_LOG_DEBUG, "TLS handshake done: %s, key exchange %s", wolfSSL_get_cipher_name(c->tp.ssl),
                 group ? group : "?");
    }
    c->state = WT__CONN_OPEN;
    wt__tls_done(c);
    wt__conn_not_half_open(c);
    if (c->dial_owner) wt__dial_won(c); /* the race is over: the sessions come here */
    /* the CONNECT deadline counts from the start, as for every client */
    c->deadline_ms = c->created_ms + c->ep->lim.handshake_timeout_ms;
    wt__conn_keepalive(c);
    if (wt__h3_init(c) != WT_OK) return NGTCP2_ERR_CALLBACK_FAILURE;
    return 0;
}

static int wt__cb_recv_stream_data(ngtcp2_conn *qc, uint32_t flags, int64_t stream_id, uint64_t offset,
                                   const uint8_t *data, size_t datalen, void *user, void *stream_user) {
    wt__conn *c = (wt__conn *)user;
    WT__UNUSED(qc), WT__UNUSED(offset);
    if (wt__h3_on_stream_data(c, stream_id, stream_user, data, datalen, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0) !=
        WT_OK)
        return NGTCP2_ERR_CALLBACK_FAILURE;
    return 0;
}

static int wt__cb_acked(ngtcp2_conn *qc, int64_t stream_id, uint64_t offset, uint64_t datalen, void *user,
                        void *stream_user) {
    WT__UNUSED(qc), WT__UNUSED(offset);
    return wt__h3_on_acked((wt__conn *)user, stream_id, stream_user, datalen) == WT_OK ? 0
                                                                                     : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int wt__cb_stream_close(ngtcp2_conn *qc, uint32_t flags, int64_t stream_id, uint64_t app_error,
                               void *user, void *stream_user) {
    if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET)) app_error = WT__H3_NO_ERROR;
    WT__UNUSED(qc);
    wt__h3_on_stream_close((wt__conn *)user, stream_id, stream_user, app_error);
    return 0;
}

static int wt__cb_stream_reset(ngtcp2_conn *qc, int64_t stream_id, uint64_t final_size, uint64_t app_error,
                               void *user, void *stream_user) {
    WT__UNUSED(qc);
    wt__h3_on_stream_reset((wt__conn *)user, stream_id, stream_user, final_size, app_error);
    return 0;
}

#if NGTCP2_VERSION_NUM >= 0x011800
static int wt__cb_stop_sending(ngtcp2_conn *qc, int64_t stream_id, uint64_t app_error, void *user,
                               void *stream_user) {
    WT__UNUSED(qc);
    wt__h3_on_stop_sending((wt__conn *)user, stream_id, stream_user, app_error);
    return 0;
}
#endif

static int wt__cb_extend_bidi(ngtcp2_conn *qc, uint64_t max_streams, void *user) {
    wt__conn *c = (wt__conn *)user;
    WT__UNUSED(qc);
    if (c->h3.conn && c->ep->server) nghttp3_conn_set_max_client_streams_bidi(c->h3.conn, max_streams);
    return 0;
}

static int wt__cb_extend_local_bidi(ngtcp2_conn *qc, uint64_t max_streams, void *user) {
    WT__UNUSED(qc), WT__UNUSED(max_streams);
    wt__conn_streams_available((wt__conn *)user, 1);
    return 0;
}

static int wt__cb_extend_local_uni(ngtcp2_conn *qc, uint64_t max_streams, void *user) {
    WT__UNUSED(qc), WT__UNUSED(max_streams);
    wt__conn_streams_available((wt__conn *)user, 0);
    return 0;
}

static int wt__cb_extend_stream_data(ngtcp2_conn *qc, int64_t stream_id, uint64_t max_data, void *user,
                                     void *stream_user) {
    WT__UNUSED(qc), WT__UNUSED(max_data);
    wt__h3_unblock((wt__conn *)user, stream_id, stream_user);
    return 0;
}

static int wt__cb_recv_datagram(ngtcp2_conn *qc, uint32_t flags, const uint8_t *data, size_t len, void *user) {
    WT__UNUSED(qc), WT__UNUSED(flags);
    wt__dgram_on_recv((wt__conn *)user, data, len);
    return 0;
}

static int wt__cb_lost_datagram(ngtcp2_conn *qc, uint64_t dgram_id, void *user) {
    wt_session *s = dgram_id > (uint64_t)INT64_MAX ? NULL : wt__session_find((wt__conn *)user, dgram_id);
    WT__UNUSED(qc);
    ((wt__conn *)user)->stats.datagrams_lost++;
    if (s) s->stats.datagrams_lost++;
    if (s && s->conn->qlog) wt__qlog_datagram(s->conn, s->id, "datagram_lost", 0);
    return 0;
}

static void wt__callbacks(ngtcp2_callbacks *cb, int server) {
    memset(cb, 0, sizeof *cb);
    if (server) {
        cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    } else {
        cb->client_initial = ngtcp2_crypto_client_initial_cb;
        cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
#if NGTCP2_VERSION_NUM >= 0x011600
        cb->recv_stateless_reset2 = wt__cb_stateless_reset;
#else
        cb->recv_stateless_reset = wt__cb_stateless_reset;
#endif
    }
    cb->recv_crypto_data = wt__cb_recv_crypto_data; /* wolfSSL's during the handshake, wt.h's after (wt_tls.c) */
    wt__aead_callbacks(cb); /* encrypt, decrypt, hp_mask */
    cb->update_key = ngtcp2_crypto_update_key_cb;
    cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
    cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
    cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
    cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
    cb->rand = wt__cb_rand;
    cb->get_new_connection_id = wt__cb_new_cid;
    cb->remove_connection_id = wt__cb_remove_cid;
    cb->handshake_completed = wt__cb_handshake_completed;
    cb->recv_stream_data = wt__cb_recv_stream_data;
    cb->acked_stream_data_offset = wt__cb_acked;
    cb->stream_close = wt__cb_stream_close;
    cb->stream_reset = wt__cb_stream_reset;
#if NGTCP2_VERSION_NUM >= 0x011800
    /* older ngtcp2 answers STOP_SENDING with a reset but tells nobody */
    cb->recv_stop_sending = wt__cb_stop_sending;
#endif
    cb->extend_max_remote_streams_bidi = wt__cb_extend_bidi;
    cb->extend_max_local_streams_bidi = wt__cb_extend_local_bidi;
    cb->extend_max_local_streams_uni = wt__cb_extend_local_uni;
    cb->extend_max_stream_data = wt__cb_extend_stream_data;
    cb->recv_datagram = wt__cb_recv_datagram;
    cb->lost_datagram = wt__cb_lost_datagram;
}

static void wt__ngtcp2_log(void *user, const char *fmt, ...) {
    wt__conn *c = (wt__conn *)user;
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    wt__clog(c, -1, WT_LOG_DEBUG, "ngtcp2: %s", line);
}

static void wt__settings(wt__conn *c, ngtcp2_settings *s, ngtcp2_transport_params *tp, uint64_t now) {
    const wt_limits *l = &c->ep->lim;
    ngtcp2_settings_default(s);
    s->initial_ts = now;
    s->handshake_timeout = (uint64_t)l->handshake_timeout_ms * WT__NS_PER_MS;
    s->max_window = l->conn_window;
    s->max_stream_window = l->stream_window;
#if NGTCP2_VERSION_NUM >= 0x010f00
    s->glitch_ratelim_burst = l->glitch_burst;
    s->glitch_ratelim_rate = l->glitch_rate;
#endif
    s->cc_algo = l->congestion_control == WT_CC_BBR    ? NGTCP2_CC_ALGO_BBR
                 : l->congestion_control == WT_CC_RENO ? NGTCP2_CC_ALGO_RENO
                                                       : NGTCP2_CC_ALGO_CUBIC;
    s->rand_ctx.native_handle = c->ep;
    if (c->ep->log.level >= WT_LOG_DEBUG && getenv("WT_NGTCP2_DEBUG")) s->log_printf = wt__ngtcp2_log;
    ngtcp2_transport_params_default(tp);
    tp->initial_max_stream_data_bidi_local = l->stream_window;
    tp->initial_max_stream_data_bidi_remote = l->stream_window;
    tp->initial_max_stream_data_uni = l->stream_window;
    tp->initial_max_data = l->conn_window;
    tp->initial_max_streams_bidi = l->max_streams_bidi;
    /* + the three HTTP/3 streams (control, QPACK encoder and decoder) */
    tp->initial_max_streams_uni = (uint64_t)l->max_streams_uni + 3;
    tp->max_idle_timeout = (uint64_t)l->idle_timeout_ms * WT__NS_PER_MS;
    /* spare connection IDs we take from the peer: 3 are plenty for path
       changes, and each one costs the peer a stateless-reset token and a
       NEW_CONNECTION_ID to keep (a wt.h server: about 0.3 KB and a key
       derivation per ID). Never more than 4: the bundled ngtcp2 keeps 4
       slots for them (tools/patches/ngtcp2-*-memory.patch) and asserts. */
    tp->active_connection_id_limit = 4;
    tp->max_datagram_frame_size = 65535;
}

/* local: our address on the path (NULL: the socket's). */
static wt__conn *wt__conn_alloc(wt__ep *ep, wt__sock *sock, const struct sockaddr *local, const struct sockaddr *remote,
                                socklen_t rlen) {
    wt__conn *c = (wt__conn *)wt__calloc(&ep->alloc, sizeof *c);
    if (!c) return NULL;
    c->ep = ep;
    c->tp.sock = sock;
    if (local) {
        c->tp.local_len = wt__sa_len(local);
        memcpy(&c->tp.local, local, c->tp.local_len);
    } else if (sock) {
        c->tp.local = sock->local;
        c->tp.local_len = sock->local_len;
    }
    if (remote) {
        memcpy(&c->tp.remote, remote, rlen);
        c->tp.remote_len = rlen;
    }
    c->state = WT__CONN_HANDSHAKE;
    c->h3.ctrl_id = -1;
    c->h3.peer_ctrl_id = -1;
    c->h3.max_seen_request = -1;
    c->tp.ref.get_conn = wt__get_conn;
    c->tp.ref.user_data = c;
    ngtcp2_ccerr_default(&c->tp.ccerr);
    c->created_ms = wt_loop_now_ms(ep->loop);
    c->deadline_ms = c->created_ms + ep->lim.handshake_timeout_ms;
    c->next = ep->conns;
    if (ep->conns) ep->conns->prev = c;
    ep->conns = c;
    ep->nconns++;
    return c;
}

static void wt__conn_free(wt__conn *c) {
    wt__ep *ep = c->ep;
    wt__conn_not_half_open(c);
    wt__cid_remove_conn(ep, c);
    if (c->prev) c->prev->next = c->next;
    else ep->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    ep->nconns--;
    if (c->dial_owner) wt__dial_attempt_gone(c);
    if (c->dial) wt__dial_free(c);
    wt__conn_end_sessions(c, c->fail_error ? c->fail_error : WT_ERR_CLOSED);
    if (ep->loop->evq_head) wt__loop_forget_conn(ep->loop, c);
    wt__dgram_free_all(c);
    if (c->h3.conn) nghttp3_conn_del(c->h3.conn);
    c->h3.conn = NULL;
    while (c->wt.sessions) wt__session_free(c->wt.sessions);
    wt__conn_free_graveyard(c);
    while (c->wt.all_streams) wt__stream_free(c->wt.all_streams); /* e.g. still classifying */
    wt__conn_stats_retire(c); /* the app's totals keep what it counted */
    if (c->tp.qc) ngtcp2_conn_del(c->tp.qc); /* its last qlog record closes the file */
    wt__qlog_close(c);
    if (c->tp.ssl) wolfSSL_free(c->tp.ssl);
    wt__buf_free(&ep->alloc, &c->h3.peer_ctrl);
    wt__free(&ep->alloc, c->h3.ctrl_prefix);
    wt__free(&ep->alloc, c->tp.close_pkt);
    wt__free(&ep->alloc, c->tp.close_why);
    wt__free(&ep->alloc, c->host);
    wt__free(&ep->alloc, c);
}

/* A datagram's path: from remote to local (NULL: the connection's). */
static void wt__ngtcp2_path(wt__conn *c, ngtcp2_path *p, const struct sockaddr *local, const struct sockaddr *remote,
                            socklen_t rlen) {
    memset(p, 0, sizeof *p);
    p->local.addr = (ngtcp2_sockaddr *)(local ? local : (const struct sockaddr *)&c->tp.local);
    p->local.addrlen = local ? wt__sa_len(local) : c->tp.local_len;
    p->remote.addr = (ngtcp2_sockaddr *)remote;
    p->remote.addrlen = rlen;
}

/* A handshake is over (or its connection gone): one half-open slot less. */
static void wt__conn_not_half_open(wt__conn *c) {
    if (!c->tp.counted_half_open) return;
    c->tp.counted_half_open = 0;
    c->ep->nhalf_open--;
}

/* odcid: the client's first DCID when it came back with a valid Retry
   token (its address is proven), else NULL. */
static wt__conn *wt__conn_server_new(wt__ep *ep, wt__sock *sock, const struct sockaddr *local,
                                     const struct sockaddr *from, socklen_t fromlen, const ngtcp2_pkt_hd *hd,
                                     const ngtcp2_cid *odcid, uint64_t now) {
    wt__conn *c;
    ngtcp2_settings s;
    ngtcp2_transport_params tp;
    ngtcp2_callbacks cb;
    ngtcp2_cid scid;
    ngtcp2_path path;
    int rv;
    c = wt__conn_alloc(ep, sock, local, from, fromlen);
    if (!c) {
        wt__log(&ep->log, WT_LOG_ERROR, "out of memory for a new connection");
        return NULL;
    }
    c->tp.counted_half_open = 1;
    ep->nhalf_open++;
    wt__trace_conn(c, odcid ? odcid : &hd->dcid);
    wt__settings(c, &s, &tp, now);
    tp.original_dcid = hd->dcid;
    tp.original_dcid_present = 1;
    if (odcid) {
        /* back from a Retry: the address is proven, so ngtcp2 may send it
           more than three times what it received */
        c->tp.validated = 1;
        tp.original_dcid = *odcid;
        tp.retry_scid = hd->dcid;
        tp.retry_scid_present = 1;
        s.token = hd->token;
        s.tokenlen = hd->tokenlen;
        s.token_type = NGTCP2_TOKEN_TYPE_RETRY;
    } else {
        /* an unproven address gets a shorter handshake slot */
        uint64_t t = WT__MIN(ep->lim.unvalidated_timeout_ms, ep->lim.handshake_timeout_ms);
        c->deadline_ms = wt_loop_now_ms(ep->loop) + t;
    }
    scid.datalen = ep->cid_len;
    wt__cid_make(ep, scid.data, scid.datalen);
    tp.stateless_reset_token_present = 1;
    if (wt__reset_token(ep, scid.data, scid.datalen, tp.stateless_reset_token) != 0) tp.stateless_reset_token_present = 0;
    if (c->qlog) {
        s.qlog_write = wt__qlog_ngtcp2;
        c->qlog->t0_ns = s.initial_ts;
    }
    wt__callbacks(&cb, 1);
    wt__ngtcp2_path(c, &path, NULL, from, fromlen);
    rv = ngtcp2_conn_server_new(&c->tp.qc, &hd->scid, &scid, &path, hd->version, &cb, &s, &tp, &ep->mem, c);
    if (rv != 0) {
        wt__clog(c, -1, WT_LOG_ERROR, "ngtcp2_conn_server_new: %s", ngtcp2_strerror(rv));
        wt__conn_free(c);
        return NULL;
    }
    c->tp.ssl = wt__tls_new(ep, NULL);
    if (!c->tp.ssl) {
        wt__conn_free(c);
        return NULL;
    }
    wt__tls_attach(c);
    ngtcp2_conn_set_tls_native_handle(c->tp.qc, c->tp.ssl);
    if (wt__cid_add(ep, scid.data, scid.datalen, c) != WT_OK ||
        wt__cid_add(ep, hd->dcid.data, hd->dcid.datalen, c) != WT_OK) {
        wt__conn_free(c);
        return NULL;
    }
    return c;
}

static wt__conn *wt__conn_client_new(wt__ep *ep, const struct sockaddr *to, socklen_t tolen, const char *host,
                              uint16_t port) {
    wt__conn *c;
    wt__sock *sock = NULL;
    ngtcp2_settings s;
    ngtcp2_transport_params tp;
    ngtcp2_callbacks cb;
    ngtcp2_cid scid, dcid;
    ngtcp2_path path;
    int i, rv;
    for (i = 0; i < ep->nsocks; i++)
        if ((ep->socks[i].fd >= 0 || ep->socks[i].virt) && ep->socks[i].local.ss_family == to->sa_family)
            sock = &ep->socks[i];
    if (!sock) {
        int k = wt__sock_open(ep, to, tolen, 0);
        if (k < 0) return NULL;
        sock = &ep->socks[k];
    }
    c = wt__conn_alloc(ep, sock, NULL, to, tolen);
    if (!c) return NULL;
    c->host = wt__strdup(&ep->alloc, host);
    c->port = port;
    wt__settings(c, &s, &tp, wt__loop_ns(ep->loop));
    scid.datalen = WT__SCID_LEN;
    dcid.datalen = 18;
    wt__random(ep, scid.data, WT__SCID_LEN);
    wt__random(ep, dcid.data, 18);
    wt__trace_conn(c, &dcid);
    if (c->qlog) {
        s.qlog_write = wt__qlog_ngtcp2;
        c->qlog->t0_ns = s.initial_ts;
    }
    wt__callbacks(&cb, 0);
    wt__ngtcp2_path(c, &path, NULL, to, tolen);
    rv = ngtcp2_conn_client_new(&c->tp.qc, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &cb, &s, &tp, &ep->mem, c);
    if (rv != 0 || !c->host) {
        wt__clog(c, -1, WT_LOG_ERROR, "ngtcp2_conn_client_new: %s", rv ? ngtcp2_strerror(rv) : "out of memory");
        wt__conn_free(c);
        return NULL;
    }
    c->tp.ssl = wt__tls_new(ep, host);
    if (!c->tp.ssl) {
        wt__conn_free(c);
        return NULL;
    }
    wt__tls_attach(c);
    ngtcp2_conn_set_tls_native_handle(c->tp.qc, c->tp.ssl);
    if (wt__cid_add(ep, scid.data, scid.datalen, c) != WT_OK) {
        wt__conn_free(c);
        return NULL;
    }
    c->dirty = 1;
    return c;
}

/* ---------------------------------------------------------------- packets in */
static void wt__send_stateless_reset(wt__ep *ep, wt__sock *s, const struct sockaddr *local, const struct sockaddr *to,
                                     socklen_t tolen, const uint8_t *dcid, size_t dcidlen, size_t rxlen) {
    uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN], rnd[1200], out[1200];
    size_t len;
    ngtcp2_ssize n;
    /* a reset must be shorter than what provoked it, and at least 41 bytes */
    if (rxlen <= 42 || dcidlen > NGTCP2_MAX_CIDLEN) return;
    len = WT__MIN(rxlen - 1, sizeof out);
    if (wt__reset_token(ep, dcid, dcidlen, token) != 0) return;
    wt__random(ep, rnd, len - 1 - NGTCP2_STATELESS_RESET_TOKENLEN);
    n = ngtcp2_pkt_write_stateless_reset(out, len, token, rnd, len - 1 - NGTCP2_STATELESS_RESET_TOKENLEN);
    if (n > 0) wt__sock_send(s, local, to, tolen, out, (size_t)n, (size_t)n);
}

static const char *wt__transport_error_name(uint64_t code) {
    static const char *names[] = {"NO_ERROR", "INTERNAL_ERROR", "CONNECTION_REFUSED", "FLOW_CONTROL_ERROR",
                                  "STREAM_LIMIT_ERROR", "STREAM_STATE_ERROR", "FINAL_SIZE_ERROR",
                                  "FRAME_ENCODING_ERROR", "TRANSPORT_PARAMETER_ERROR", "CONNECTION_ID_LIMIT_ERROR",
                                  "PROTOCOL_VIOLATION", "INVALID_TOKEN", "APPLICATION_ERROR",
                                  "CRYPTO_BUFFER_EXCEEDED", "KEY_UPDATE_ERROR", "AEAD_LIMIT_REACHED",
                                  "NO_VIABLE_PATH"}; /* RFC 9000 section 20.1 */
    return code < WT__COUNTOF(names) ? names[code] : "unknown error";
}

/* The peer closed the connection (ngtcp2 now drains). During the handshake
   its CONNECTION_CLOSE is the only word on why, so it goes to the log and
   decides the sessions' error: a TLS alert is WT_ERR_TLS, never a timeout. */
static int wt__conn_peer_closed(wt__conn *c) {
    const ngtcp2_ccerr *e = ngtcp2_conn_get_ccerr(c->tp.qc);
    const char *peer = c->ep->server ? "client" : "server";
    char why[2 + 200 + 1] = "";
    size_t i, n = e->reason ? WT__MIN(e->reasonlen, 200) : 0;
    int hs = c->state == WT__CONN_HANDSHAKE;
    if (n) { /* the peer's words, printable only: one log line stays one line */
        why[0] = ':', why[1] = ' ';
        for (i = 0; i < n; i++) why[2 + i] = e->reason[i] >= 0x20 && e->reason[i] < 0x7f ? (char)e->reason[i] : '?';
        why[2 + n] = 0;
    }
    if (e->type == NGTCP2_CCERR_TYPE_TRANSPORT && (e->error_code & ~(uint64_t)0xff) == NGTCP2_CRYPTO_ERROR) {
        uint8_t alert = (uint8_t)(e->error_code & 0xff);
        wt__clog(c, -1, WT_LOG_WARN, "TLS %s: the %s sent alert %u (%s)%s", hs ? "handshake failed" : "failed",
                 peer, alert, wt__tls_alert_name(alert), why);
        return WT_ERR_TLS;
    }
    if (e->type == NGTCP2_CCERR_TYPE_TRANSPORT && (hs || e->error_code != NGTCP2_NO_ERROR))
        wt__clog(c, -1, hs ? WT_LOG_WARN : WT_LOG_INFO, "the %s closed the connection%s: %s (0x%llx)%s", peer,
                 hs ? " during the handshake" : "", wt__transport_error_name(e->error_code),
                 (unsigned long long)e->error_code, why);
    else if (hs)
        wt__clog(c, -1, WT_LOG_WARN, "the %s closed the connection during the handshake: application error 0x%llx%s",
                 peer, (unsigned long long)e->error_code, why);
    return WT_ERR_CLOSED;
}

static void wt__conn_abort(wt__conn *c, int liberr);

static void wt__handle_read_error(wt__conn *c, int rv) {
    switch (rv) {
    case NGTCP2_ERR_DRAINING: {
        int error = wt__conn_peer_closed(c);
        /* stay quiet for the draining period */
        c->state = WT__CONN_DRAINING;
        c->deadline_ms = wt_loop_now_ms(c->ep->loop) + 3 * ngtcp2_conn_get_pto(c->tp.qc) / WT__NS_PER_MS + 1;
        if (!c->fail_error) c->fail_error = error;
        wt__conn_end_sessions(c, c->fail_error);
        break;
    }
    case NGTCP2_ERR_DROP_CONN:
        c->state = WT__CONN_DEAD;
        break;
    case NGTCP2_ERR_CRYPTO: {
        /* our TLS stack gave up: say why, and send the peer its alert */
        uint8_t alert = ngtcp2_conn_get_tls_alert(c->tp.qc);
        int err = c->tp.ssl ? wolfSSL_get_error(c->tp.ssl, 0) : 0;
        if (!alert) alert = 80; /* wolfSSL named none: internal_error, not close_notify */
        wt__clog(c, -1, WT_LOG_WARN, "TLS %s: %s (wolfSSL error %d): we send alert %u (%s)",
                 c->state == WT__CONN_HANDSHAKE ? "handshake failed" : "failed",
                 wolfSSL_ERR_reason_error_string((unsigned long)err), err, alert, wt__tls_alert_name(alert));
        ngtcp2_ccerr_set_tls_alert(&c->tp.ccerr, alert, NULL, 0);
        wt__conn_abort(c, WT_ERR_TLS);
        break;
    }
    default:
        if (c->tp.ccerr.type == NGTCP2_CCERR_TYPE_TRANSPORT && c->tp.ccerr.error_code == 0)
            ngtcp2_ccerr_set_liberr(&c->tp.ccerr, rv, NULL, 0);
        /* a callback that set fail_error has logged why already */
        if (c->fail_error) wt__conn_abort(c, WT_ERR_QUIC);
        else if (rv == NGTCP2_ERR_INTERNAL)
            /* what ngtcp2's glitch limiter returns, and nearly nothing else */
            wt__conn_fail(c, WT_ERR_QUIC, "ngtcp2 internal error: the peer sent too many needless frames "
                                          "(limits.glitch_burst / glitch_rate; heavy loss or reordering too)");
        else wt__conn_fail(c, WT_ERR_QUIC, ngtcp2_strerror(rv));
        break;
    }
}

static void wt__conn_read(wt__conn *c, const struct sockaddr *local, const struct sockaddr *from, socklen_t fromlen,
                          const uint8_t *pkt, size_t len, unsigned ecn, uint64_t now);

/* One warning line per kind and second at most, with a count of the
   ones held back: a flood must not flood the log too. */
enum { WT__GATE_REFUSED, WT__GATE_RETRY, WT__GATE_PER_IP, WT__GATE_TOKEN, WT__GATE_NOMEM, WT__GATE_BUDGET, WT__GATES };
static void wt__log_gated(wt__ep *ep, int gate, const char *fmt, ...) WT__PRINTF(3, 4);
static void wt__log_gated(wt__ep *ep, int gate, const char *fmt, ...) {
    struct wt__log_gate *g = &ep->gates[gate];
    uint64_t now = wt_loop_now_ms(ep->loop);
    char line[300];
    va_list ap;
    if (g->last_ms && now - g->last_ms < 1000) {
        g->suppressed++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (g->suppressed) wt__log(&ep->log, WT_LOG_WARN, "%s (and %lu more like it in the last second)", line, g->suppressed);
    else wt__log(&ep->log, WT_LOG_WARN, "%s", line);
    g->last_ms = now ? now : 1;
    g->suppressed = 0;
}

static void wt__send_close_pkt(wt__sock *s, const struct sockaddr *local, const struct sockaddr *to, socklen_t tolen,
                               const ngtcp2_pkt_hd *hd, uint64_t code) {
    uint8_t out[WT__MAX_UDP_PAYLOAD];
    ngtcp2_ssize n = ngtcp2_crypto_write_connection_close(out, sizeof out, hd->version, &hd->scid, &hd->dcid, code, NULL, 0);
    if (n > 0) wt__sock_send(s, local, to, tolen, out, (size_t)n, (size_t)n);
}

static size_t wt__half_open_from(wt__ep *ep, const struct sockaddr *from) {
    wt__conn *c;
    size_t n = 0;
    for (c = ep->conns; c; c = c->next) {
        const struct sockaddr *r = (const struct sockaddr *)&c->tp.remote;
        if (!c->tp.counted_half_open || r->sa_family != from->sa_family) continue;
        if (from->sa_family == AF_INET6
                ? !memcmp(&((const struct sockaddr_in6 *)r)->sin6_addr, &((const struct sockaddr_in6 *)from)->sin6_addr, 16)
                : ((const struct sockaddr_in *)r)->sin_addr.s_addr == ((const struct sockaddr_in *)from)->sin_addr.s_addr)
            n++;
    }
    return n;
}

/* The time in a Retry token, which another instance, on another machine,
   may check (token_key): the wall clock, which NTP keeps within a second or
   so across machines, not CLOCK_MONOTONIC (each machine's uptime: a token
   from a machine booted later would look expired, one from a machine
   booted earlier good for hours). With a clock hook on the loop
   (simulations, devices without a system clock) that clock. */
static uint64_t wt__token_time(const wt__ep *ep, uint64_t now) {
    struct timespec ts;
    if (ep->loop->clock.now_ns || clock_gettime(CLOCK_REALTIME, &ts) != 0) return now;
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A client's first packet: a connection slot, or a Retry that makes it
   prove its address first (stateless: costs us no memory), or a refusal. */
static wt__conn *wt__ep_accept(wt__ep *ep, wt__sock *s, const struct sockaddr *local, const struct sockaddr *from,
                               socklen_t fromlen, const ngtcp2_pkt_hd *hd, uint64_t now) {
    ngtcp2_cid odcid;
    int proven = 0;
    uint32_t thr = ep->lim.retry_threshold;
    if (ep->stopping) {
        wt__log_gated(ep, WT__GATE_REFUSED, "refusing a connection: the server is stopping");
        wt__send_close_pkt(s, local, from, fromlen, hd, NGTCP2_CONNECTION_REFUSED);
        return NULL;
    }
    if (!wt__budget_room(ep, WT__BUDGET_CONN)) {
        wt__log_gated(ep, WT__GATE_BUDGET, "refusing a connection: memory_budget (%zu bytes) nearly used (%zu)",
                      ep->budget->max, ep->budget->used);
        ep->budget->refused++;
        wt__send_close_pkt(s, local, from, fromlen, hd, NGTCP2_CONNECTION_REFUSED);
        return NULL;
    }
    if (ep->nconns >= ep->lim.max_connections) {
        /* say so at once (CONNECTION_REFUSED) rather than let the client time out */
        wt__log_gated(ep, WT__GATE_REFUSED, "refusing a connection: max_connections (%u) reached",
                      (unsigned)ep->lim.max_connections);
        wt__send_close_pkt(s, local, from, fromlen, hd, NGTCP2_CONNECTION_REFUSED);
        return NULL;
    }
    if (hd->type == NGTCP2_PKT_INITIAL && hd->tokenlen && hd->token[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
        if (ngtcp2_crypto_verify_retry_token(&odcid, hd->token, hd->tokenlen, ep->token_secret, sizeof ep->token_secret,
                                             hd->version, (const ngtcp2_sockaddr *)from, (ngtcp2_socklen)fromlen,
                                             &hd->dcid, 10 * NGTCP2_SECONDS, wt__token_time(ep, now)) != 0) {
            wt__log_gated(ep, WT__GATE_TOKEN, "refusing a connection: invalid or expired Retry token");
            wt__send_close_pkt(s, local, from, fromlen, hd, NGTCP2_INVALID_TOKEN);
            return NULL;
        }
        proven = 1;
    }
    if (!proven && thr != UINT32_MAX && (thr == 1 || ep->nhalf_open >= thr)) {
        uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN], out[WT__MAX_UDP_PAYLOAD];
        ngtcp2_cid scid;
        ngtcp2_ssize tl, n;
        scid.datalen = ep->cid_len;
        wt__cid_make(ep, scid.data, scid.datalen);
        tl = ngtcp2_crypto_generate_retry_token(token, ep->token_secret, sizeof ep->token_secret, hd->version,
                                                (const ngtcp2_sockaddr *)from, (ngtcp2_socklen)fromlen, &scid,
                                                &hd->dcid, wt__token_time(ep, now));
        if (tl < 0) return NULL;
        n = ngtcp2_crypto_write_retry(out, sizeof out, hd->version, &hd->scid, &scid, &hd->dcid, token, (size_t)tl);
        if (n > 0) wt__sock_send(s, local, from, fromlen, out, (size_t)n, (size_t)n);
        if (thr != 1)
            wt__log_gated(ep, WT__GATE_RETRY, "%zu handshakes under way: new clients prove their address (Retry)",
                          ep->nhalf_open);
        return NULL;
    }
    if (!proven && wt__half_open_from(ep, from) >= ep->lim.max_half_open_per_ip) {
        wt__log_gated(ep, WT__GATE_PER_IP, "dropping a handshake: max_half_open_per_ip (%u) from one address",
                      (unsigned)ep->lim.max_half_open_per_ip);
        return NULL;
    }
    return wt__conn_server_new(ep, s, local, from, fromlen, hd, proven ? &odcid : NULL, now);
}

static void wt__ep_on_packet(wt__ep *ep, wt__sock *s, const struct sockaddr *local, const struct sockaddr *from,
                      socklen_t fromlen, const uint8_t *pkt, size_t len, unsigned ecn, uint64_t now) {
    ngtcp2_version_cid vc;
    wt__conn *c;
    int rv;
    /* an empty datagram is no QUIC packet, and ngtcp2 asserts on one */
    if (len == 0) return;
    rv = ngtcp2_pkt_decode_version_cid(&vc, pkt, len, ep->cid_len);
    if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
        if (ep->server) {
            uint8_t out[256];
            uint32_t sv[2] = {NGTCP2_PROTO_VER_V1, NGTCP2_PROTO_VER_V2};
            uint8_t r;
            ngtcp2_ssize n;
            wt__random(ep, &r, 1);
            n = ngtcp2_pkt_write_version_negotiation(out, sizeof out, r, vc.scid, vc.scidlen, vc.dcid, vc.dcidlen, sv,
                                                     2);
            if (n > 0) wt__sock_send(s, local, from, fromlen, out, (size_t)n, (size_t)n);
        }
        return;
    }
    if (rv != 0) return; /* not QUIC: drop */
    c = wt__cid_find(ep, vc.dcid, vc.dcidlen);
    if (!c && !ep->server && !(pkt[0] & 0x80)) {
        /* maybe a stateless reset from a server that lost our connection:
           it carries no CID of ours, so offer it to every connection that
           talks to that address; ngtcp2 checks the token */
        for (c = ep->conns; c; c = c->next)
            if (c->state <= WT__CONN_OPEN && c->tp.qc && c->tp.remote_len == fromlen &&
                memcmp(&c->tp.remote, from, fromlen) == 0)
                wt__conn_read(c, local, from, fromlen, pkt, len, ecn, now);
        return;
    }
    if (!c) {
        ngtcp2_pkt_hd hd;
        if (!ep->server || ep->closing_all) return;
        if (!(pkt[0] & 0x80)) {
            wt__send_stateless_reset(ep, s, local, from, fromlen, vc.dcid, vc.dcidlen, len);
            return;
        }
        if (ngtcp2_accept(&hd, pkt, len) != 0) return;
        c = wt__ep_accept(ep, s, local, from, fromlen, &hd, now);
        if (!c) return;
    }
    wt__conn_read(c, local, from, fromlen, pkt, len, ecn, now);
}

/* One packet into one connection; local: where it came to (NULL: the
   socket's address). */
static void wt__conn_read(wt__conn *c, const struct sockaddr *local, const struct sockaddr *from, socklen_t fromlen,
                          const uint8_t *pkt, size_t len, unsigned ecn, uint64_t now) {
    ngtcp2_pkt_info pi;
    ngtcp2_path path;
    int rv;
    c->stats.packets_received++;
    c->stats.bytes_received += len;
    if (c->state == WT__CONN_CLOSING) {
        /* answer with our CONNECTION_CLOSE again (RFC 9000 10.2.1), but
           only to the 1st, 2nd, 4th, 8th ... packet, and to an address
           never proven with at most three times the bytes that came since
           (8.1): small packets, perhaps from a spoofed address, must not
           each buy a larger answer */
        int unproven = c->ep->server && !c->tp.validated && !ngtcp2_conn_get_handshake_completed(c->tp.qc);
        c->tp.closing_rx++;
        c->tp.closing_budget += 3 * (uint64_t)len;
        if (c->tp.close_pkt && !(c->tp.closing_rx & (c->tp.closing_rx - 1)) &&
            (!unproven || c->tp.closing_budget >= c->tp.close_pkt_len)) {
            c->tp.closing_budget -= WT__MIN(c->tp.closing_budget, (uint64_t)c->tp.close_pkt_len);
            c->stats.packets_sent++;
            c->stats.bytes_sent += c->tp.close_pkt_len;
            wt__sock_send(c->tp.sock, (struct sockaddr *)&c->tp.local, (struct sockaddr *)&c->tp.remote, c->tp.remote_len,
                          c->tp.close_pkt, c->tp.close_pkt_len, c->tp.close_pkt_len);
        }
        return;
    }
    if (c->state == WT__CONN_DRAINING || c->state == WT__CONN_DEAD) return;
    c->tp.pace_skip = 0; /* a read moves ngtcp2's timers */
    memset(&pi, 0, sizeof pi);
    pi.ecn = (uint8_t)ecn;
    wt__ngtcp2_path(c, &path, local, from, fromlen);
    rv = ngtcp2_conn_read_pkt(c->tp.qc, &path, &pi, pkt, len, now);
    if (rv != 0) {
        wt__handle_read_error(c, rv);
        return;
    }
    c->tp.heard = 1;
    if (c->tp.ssl_release) wt__tls_release(c); /* the handshake is done (wt__tls_done) */
    {
        /* the peer may have moved (NAT rebinding, or another of our
           addresses): follow the path ngtcp2 validated, not any one packet */
        const ngtcp2_path *cur = ngtcp2_conn_get_path(c->tp.qc);
        if (cur->remote.addrlen <= sizeof c->tp.remote) {
            memcpy(&c->tp.remote, cur->remote.addr, cur->remote.addrlen);
            c->tp.remote_len = (socklen_t)cur->remote.addrlen;
        }
        if (cur->local.addrlen <= sizeof c->tp.local) {
            memcpy(&c->tp.local, cur->local.addr, cur->local.addrlen);
            c->tp.local_len = (socklen_t)cur->local.addrlen;
        }
    }
    c->dirty = 1;
}

/* ---------------------------------------------------------------- the transport, as the layers above see it
   HTTP/3, sessions, streams and datagrams reach ngtcp2 only through these. */
static void wt__tp_shutdown(wt__conn *c, int how, int64_t id, uint64_t h3code) {
    if (!c->tp.qc) return;
    if (how == WT__TP_BOTH) ngtcp2_conn_shutdown_stream(c->tp.qc, 0, id, h3code);
    else if (how == WT__TP_READ) ngtcp2_conn_shutdown_stream_read(c->tp.qc, 0, id, h3code);
    else ngtcp2_conn_shutdown_stream_write(c->tp.qc, 0, id, h3code);
    c->dirty = 1;
}

static int wt__tp_open(wt__conn *c, int bidi, int64_t *id, void *user) {
    return bidi ? ngtcp2_conn_open_bidi_stream(c->tp.qc, id, user) : ngtcp2_conn_open_uni_stream(c->tp.qc, id, user);
}

static void wt__tp_set_user(wt__conn *c, int64_t id, void *user) {
    if (c->tp.qc) ngtcp2_conn_set_stream_user_data(c->tp.qc, id, user);
}

static int wt__tp_is_local(wt__conn *c, int64_t id) { return ngtcp2_conn_is_local_stream(c->tp.qc, id); }

/* The HTTP/3 code the CONNECTION_CLOSE will carry, before wt__conn_fail. */
static void wt__tp_close_error(wt__conn *c, uint64_t h3code) {
    ngtcp2_ccerr_set_application_error(&c->tp.ccerr, h3code, NULL, 0);
}

/* ngtcp2 never raises the peer's stream limit by itself */
static void wt__tp_give_stream_slot(wt__conn *c, int bidi) {
    if (bidi) ngtcp2_conn_extend_max_streams_bidi(c->tp.qc, 1);
    else ngtcp2_conn_extend_max_streams_uni(c->tp.qc, 1);
    c->dirty = 1; /* MAX_STREAMS goes out even when nothing else does */
}

static size_t wt__tp_path_payload(wt__conn *c, uint64_t *datagram_frame_max) {
    const ngtcp2_transport_params *tp = c->tp.qc ? ngtcp2_conn_get_remote_transport_params(c->tp.qc) : NULL;
    *datagram_frame_max = tp ? tp->max_datagram_frame_size : 0;
    return c->tp.qc ? ngtcp2_conn_get_path_max_tx_udp_payload_size(c->tp.qc) : 0;
}

/* Idle sessions must not die of the idle timeout: a client pings whenever
   it is quiet for keepalive_ms, a server while it has a session open. */
static void wt__conn_keepalive(wt__conn *c) {
    uint32_t ms = c->ep->lim.keepalive_ms;
    int on = ms != UINT32_MAX && (!c->ep->server || c->wt.nsessions > 0);
    c->tp.pace_skip = 0; /* a timer of ngtcp2's moves */
    if (c->tp.qc) ngtcp2_conn_set_keep_alive_timeout(c->tp.qc, on ? (uint64_t)ms * WT__NS_PER_MS : UINT64_MAX);
}

/* ---------------------------------------------------------------- packets out */
static void wt__conn_consumed(wt__conn *c, int64_t stream_id, size_t n) {
    if (!n || !c->tp.qc) return;
    ngtcp2_conn_extend_max_stream_offset(c->tp.qc, stream_id, n);
    ngtcp2_conn_extend_max_offset(c->tp.qc, n);
    c->dirty = 1;
}

static int wt__flush(wt__conn *c, const uint8_t *buf, size_t len, size_t seg, const ngtcp2_path *path, unsigned ecn) {
    int rv;
    if (!len) return WT_OK;
    wt__sock_set_ecn(c->tp.sock, ecn);
    c->stats.packets_sent += (len + seg - 1) / seg;
    c->stats.bytes_sent += len;
    rv = wt__sock_send(c->tp.sock, (const struct sockaddr *)path->local.addr, (const struct sockaddr *)path->remote.addr,
                       (socklen_t)path->remote.addrlen, buf, len, seg);
    return rv == WT_ERR_WOULDBLOCK ? WT_OK : rv;
}

/* The session a queued datagram (quarter stream ID first) belongs to. */
static wt_session *wt__dgram_session(wt__conn *c, const wt__dgram *d) {
    uint64_t q;
    return wt__varint_get(d->data, d->len, &q) ? wt__session_find(c, q * 4) : NULL;
}

/* Off the queue, counted as handed to QUIC (sent) or not (dropped). */
static void wt__dgram_pop(wt__conn *c, int sent) {
    wt__dgram *d = c->wt.dq_head;
    wt_session *s = wt__dgram_session(c, d);
    if (sent) c->stats.datagrams_sent++;
    else c->stats.datagrams_dropped++;
    if (s && sent) s->stats.datagrams_sent++;
    else if (s) s->stats.datagrams_dropped++;
    if (s && c->qlog) wt__qlog_datagram(c, s->id, sent ? "datagram_sent" : "datagram_dropped",
                                      d->len - wt__varint_len((uint64_t)s->id / 4));
    c->wt.dq_head = d->next;
    if (!c->wt.dq_head) c->wt.dq_tail = NULL;
    c->wt.dq_len--;
    c->wt.dq_bytes -= d->len;
    wt__free(&c->ep->alloc, d);
}

/* Writes packets until ngtcp2 has nothing more (or congestion control says
   stop), batching equal-size packets for GSO. Sources, in order: nghttp3
   (control, CONNECT streams, capsules), then datagrams and WebTransport
   streams (round-robin among them) taking turns packet by packet, so
   neither starves the other. A source that yields nothing is skipped for
   the rest of the call so the others still go. */
static int wt__conn_write(wt__conn *c) {
    uint8_t *buf;
    size_t used = 0, seg = 0, npkts = 0, maxpkt;
    unsigned batch_ecn = 0;
    ngtcp2_path_storage ps, batch_ps;
    uint64_t now = wt__loop_ns(c->ep->loop);
    int rounds = 0, h3_ok = 1, dgram_ok = 1, streams_ok = 1, dgram_turn = 1, ours = 0;
    c->tp.pace_skip = 0;
    if ((c->state != WT__CONN_HANDSHAKE && c->state != WT__CONN_OPEN) || !c->tp.qc) {
        c->dirty = 0;
        return WT_OK;
    }
    /* the batch buffer (64 KB) is the endpoint's, made on first use, so
       the stack stays small (see SMALL DEVICES in wt.h) */
    if (!c->ep->txbuf && !(c->ep->txbuf = (uint8_t *)wt__alloc(&c->ep->alloc, WT__SEND_BATCH * WT__MAX_UDP_PAYLOAD))) {
        wt__log_gated(c->ep, WT__GATE_NOMEM, "out of memory for the send buffer: sending later");
        return WT_ERR_NOMEM; /* still dirty: the next service pass tries again */
    }
    buf = c->ep->txbuf;
    maxpkt = ngtcp2_conn_get_max_tx_udp_payload_size(c->tp.qc);
    if (maxpkt > WT__MAX_UDP_PAYLOAD) maxpkt = WT__MAX_UDP_PAYLOAD;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_path_storage_zero(&batch_ps);
    for (;;) {
        wt__tx tx;
        ngtcp2_pkt_info pi;
        ngtcp2_ssize n, ndatalen = -1;
        uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
        int is_dgram = 0, accepted = 0, open = c->state == WT__CONN_OPEN;
        /* ngtcp2 only marks: NOT_ECT unless it says ECT(0) (an old mark kept
           would fail its ECN validation) */
        pi.ecn = NGTCP2_ECN_NOT_ECT;
        if (++rounds > 100000) {
            /* never spin: a stuck state machine is a bug, not a hang */
            wt__conn_fail(c, WT_ERR_QUIC, "write loop made no progress");
            return WT_ERR_QUIC;
        }
        memset(&tx, 0, sizeof tx);
        tx.stream_id = -1;
        if (open && h3_ok && wt__h3_next_tx(c, &tx) != WT_OK) {
            wt__conn_fail(c, WT_ERR_H3, "nghttp3 failed to produce data");
            return WT_ERR_H3;
        }
        /* nghttp3 has nothing: nothing in this call gives it more (its
           data comes from the application and from reads) */
        if (open && tx.stream_id < 0) h3_ok = 0;
        while (tx.stream_id < 0 && open && dgram_ok && c->wt.dq_head && c->wt.dq_head->len > wt__dgram_room(c)) {
            wt__clog(c, -1, WT_LOG_WARN, "datagram of %zu bytes does not fit this path: dropped",
                     c->wt.dq_head->len);
            wt__dgram_pop(c, 0);
        }
        if (tx.stream_id < 0 && open && dgram_ok && c->wt.dq_head && (dgram_turn || !streams_ok || !c->wt.send_head)) {
            ngtcp2_vec v;
            /* the last thing to send closes the packet itself: no second
               call just to end it */
            uint32_t dflags = !c->wt.dq_head->next && !h3_ok && (!streams_ok || !c->wt.send_head)
                                  ? 0
                                  : NGTCP2_WRITE_DATAGRAM_FLAG_MORE;
            v.base = c->wt.dq_head->data;
            v.len = c->wt.dq_head->len;
            is_dgram = 1;
            {
                /* its ID is its session's: ngtcp2 names it again if it is lost */
                wt_session *ds = wt__dgram_session(c, c->wt.dq_head);
                n = ngtcp2_conn_writev_datagram(c->tp.qc, &ps.path, &pi, buf + used, maxpkt, &accepted, dflags,
                                                ds ? (uint64_t)ds->id : UINT64_MAX, &v, 1, now);
            }
            if (accepted) {
                wt__dgram_pop(c, 1);
                ours = 1;
            }
            if (n == NGTCP2_ERR_INVALID_ARGUMENT || n == NGTCP2_ERR_INVALID_STATE) {
                wt__clog(c, -1, WT_LOG_WARN, "datagram refused by the peer's limits: dropped");
                if (!accepted) wt__dgram_pop(c, 0);
                continue;
            }
        } else {
            if (tx.stream_id < 0 && open && streams_ok) wt__h3_next_wt_tx(c, &tx);
            if (tx.fin) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
            n = ngtcp2_conn_writev_stream(c->tp.qc, &ps.path, &pi, buf + used, maxpkt, &ndatalen, flags, tx.stream_id,
                                          tx.nvec ? tx.vec : NULL, tx.nvec, now);
        }
        if (n < 0) {
            switch (n) {
            case NGTCP2_ERR_STREAM_DATA_BLOCKED:
                wt__h3_tx_blocked(c, &tx);
                continue;
            case NGTCP2_ERR_STREAM_SHUT_WR:
                wt__h3_tx_shut(c, &tx);
                continue;
            case NGTCP2_ERR_WRITE_MORE:
                if (!is_dgram && ndatalen >= 0) wt__h3_tx_done(c, &tx, (size_t)ndatalen);
                if (ndatalen > 0) ours = 1;
                continue;
            case NGTCP2_ERR_STREAM_NOT_FOUND:
                /* a WebTransport stream closed under it (e.g. the peer's
                   STOP_SENDING); nghttp3 writing a closed stream is a bug */
                if (tx.wst) {
                    wt__h3_tx_shut(c, &tx);
                    continue;
                }
                /* fall through */
            default:
                ngtcp2_ccerr_set_liberr(&c->tp.ccerr, (int)n, NULL, 0);
                wt__conn_fail(c, WT_ERR_QUIC, ngtcp2_strerror((int)n));
                return WT_ERR_QUIC;
            }
        }
        if (!is_dgram && ndatalen >= 0) wt__h3_tx_done(c, &tx, (size_t)ndatalen);
        if (ndatalen > 0) ours = 1;
        if (n == 0) {
            /* this source could not go (flow control or congestion): let the
               next one try; with none left, the call is done */
            if (is_dgram) dgram_ok = 0;
            else if (tx.wst) streams_ok = 0;
            else if (tx.stream_id >= 0) h3_ok = 0;
            else if (!dgram_turn && dgram_ok && c->wt.dq_head) dgram_turn = 1; /* no stream had data after all */
            else break;
            continue;
        }
        dgram_turn = !is_dgram;
        /* batch packets of one size for GSO; a different path or a larger
           packet starts a new batch */
        if (npkts > 0 && (!ngtcp2_path_eq(&batch_ps.path, &ps.path) || (size_t)n > seg || pi.ecn != batch_ecn)) {
            wt__flush(c, buf, used, seg, &batch_ps.path, batch_ecn);
            memmove(buf, buf + used, (size_t)n);
            used = 0, npkts = 0;
        }
        if (npkts == 0) {
            ngtcp2_path_copy(&batch_ps.path, &ps.path);
            seg = (size_t)n;
            batch_ecn = pi.ecn;
        }
        used += (size_t)n;
        npkts++;
        if ((size_t)n < seg || npkts == WT__SEND_BATCH) {
            wt__flush(c, buf, used, seg, &batch_ps.path, batch_ecn);
            used = 0, npkts = 0;
            if (rounds > 4 * WT__SEND_BATCH) {
                /* let other connections and reads run; come back soon */
                c->dirty = 1;
                ngtcp2_conn_update_pkt_tx_time(c->tp.qc, now);
                return WT_OK;
            }
        }
    }
    if (npkts) wt__flush(c, buf, used, seg, &batch_ps.path, batch_ecn);
    /* Pacing: the deadline update_pkt_tx_time sets only holds back what
       comes later. When our data went out in this call, pacing held nothing
       back here (ngtcp2 lets no data through while it does) and ngtcp2 has
       nothing more it may send: waking at that deadline would find nothing
       to do, and a deadline under a millisecond costs a kernel timer on
       every poll. New data makes the connection dirty, and a write that
       pacing blocks sends none of ours: then the deadline counts again. */
    if (ours) c->tp.unpaced_ts = ngtcp2_conn_get_expiry(c->tp.qc);
    ngtcp2_conn_update_pkt_tx_time(c->tp.qc, now);
    if (ours) {
        c->tp.pace_ts = ngtcp2_conn_get_expiry(c->tp.qc);
        c->tp.pace_skip = c->tp.pace_ts < c->tp.unpaced_ts;
    }
    c->dirty = 0;
    return WT_OK;
}

/* ---------------------------------------------------------------- close */
static void wt__conn_close(wt__conn *c, uint64_t app_error, const char *why) {
    if (c->state >= WT__CONN_CLOSING) return;
    /* ngtcp2 keeps the pointer until the close is written: a copy of ours */
    c->tp.close_why = wt__strdup(&c->ep->alloc, why ? why : "");
    ngtcp2_ccerr_set_application_error(&c->tp.ccerr, app_error, (const uint8_t *)c->tp.close_why,
                                       c->tp.close_why ? strlen(c->tp.close_why) : 0);
    c->state = WT__CONN_CLOSING;
    c->dirty = 1;
    c->deadline_ms = 0; /* the service pass writes CONNECTION_CLOSE */
}

/* Closes with the error already in c->tp.ccerr (INTERNAL_ERROR if none). */
static void wt__conn_abort(wt__conn *c, int liberr) {
    if (c->state >= WT__CONN_CLOSING) return;
    if (!c->fail_error) c->fail_error = liberr;
    if (c->tp.ccerr.error_code == 0 && c->tp.ccerr.type == NGTCP2_CCERR_TYPE_TRANSPORT)
        ngtcp2_ccerr_set_transport_error(&c->tp.ccerr, NGTCP2_INTERNAL_ERROR, NULL, 0);
    c->state = WT__CONN_CLOSING;
    c->dirty = 1;
    c->deadline_ms = 0;
}

static void wt__conn_fail(wt__conn *c, int liberr, const char *why) {
    if (c->state >= WT__CONN_CLOSING) return;
    wt__clog(c, -1, WT_LOG_WARN, "connection closed: %s (%s)", why, wt_strerror(liberr));
    wt__conn_abort(c, liberr);
}

/* Writes CONNECTION_CLOSE once and enters the closing period. */
static void wt__conn_send_close(wt__conn *c, uint64_t now_ns) {
    uint8_t buf[WT__MAX_UDP_PAYLOAD];
    ngtcp2_path_storage ps;
    ngtcp2_pkt_info pi;
    ngtcp2_ssize n;
    wt__conn_end_sessions(c, c->fail_error ? c->fail_error : WT_ERR_CLOSED);
    if (!c->tp.qc || ngtcp2_conn_in_closing_period(c->tp.qc) || ngtcp2_conn_in_draining_period(c->tp.qc)) {
        c->state = WT__CONN_DEAD;
        return;
    }
    ngtcp2_path_storage_zero(&ps);
    /* a fresh timestamp: the write loop may have used a later one than the
       caller's, and ngtcp2 wants time never to go back */
    now_ns = wt__loop_ns(c->ep->loop);
    n = ngtcp2_conn_write_connection_close(c->tp.qc, &ps.path, &pi, buf, sizeof buf, &c->tp.ccerr, now_ns);
    if (n <= 0) {
        c->state = WT__CONN_DEAD;
        return;
    }
    c->tp.close_pkt = (uint8_t *)wt__alloc(&c->ep->alloc, (size_t)n);
    if (c->tp.close_pkt) {
        memcpy(c->tp.close_pkt, buf, (size_t)n);
        c->tp.close_pkt_len = (size_t)n;
    }
    wt__sock_send(c->tp.sock, (struct sockaddr *)&c->tp.local, (struct sockaddr *)&c->tp.remote, c->tp.remote_len, buf, (size_t)n,
                  (size_t)n);
    c->stats.packets_sent++;
    c->stats.bytes_sent += (uint64_t)n;
    c->deadline_ms = now_ns / WT__NS_PER_MS + 3 * ngtcp2_conn_get_pto(c->tp.qc) / WT__NS_PER_MS + 1;
}

/* A session we closed whose CONNECT stream is not done both ways: our
   capsule and FIN unacknowledged, or the peer's FIN (its answer to our
   close) not in yet. A browser settles its `closed` promise on that
   exchange; a CONNECTION_CLOSE that overtakes it reads as "connection
   lost" there (Chromium: DedicatedWebTransportHttp3Client::OnConnectionClosed
   fails the session unless it already reached CLOSED, and our H3_NO_ERROR
   application close is no QUIC_NO_ERROR to it). The WebTransport draft
   (Session Termination): wait until the peer closed the CONNECT streams
   before CONNECTION_CLOSE (SHOULD). */
static int wt__conn_close_pending(const wt__conn *c) {
    const wt_session *s;
    if (c->state != WT__CONN_OPEN) return 0;
    for (s = c->wt.sessions; s; s = s->next)
        if (s->cap_fin && !s->connect_closed && !s->send_stopped) return 1;
    return 0;
}

static void wt__ep_close_all(wt__ep *ep, uint32_t code, const char *reason) {
    wt__conn *c;
    wt_session *s;
    uint64_t now = wt__loop_ns(ep->loop), deadline = now;
    int polled;
    wt__loop_enter(ep->loop);
    /* each session hears its close capsule (with our code) before the
       connection goes: CONNECTION_CLOSE alone tells the peer nothing */
    for (c = ep->conns; c; c = c->next) {
        for (s = c->wt.sessions; s; s = s->next)
            if (s->state == WT__SESS_OPEN) wt_session_close(s, code, reason);
        if (c->state == WT__CONN_OPEN)
            deadline = WT__MAX(deadline, now + WT__MIN(3 * ngtcp2_conn_get_pto(c->tp.qc), 1000 * WT__NS_PER_MS));
    }
    /* serve this endpoint alone until the peers acknowledged the capsules
       and answered with their FIN (pacing may hold ours back a moment), for
       3 PTO (1 s) at the most */
    for (polled = 0;; polled = 1) {
        int waiting = 0;
        wt__ep_service(ep, now);
        for (c = ep->conns; c && !waiting; c = c->next) waiting = wt__conn_close_pending(c);
        now = wt__loop_ns(ep->loop);
        /* sans-I/O: the acknowledgements come through wt_*_input, not here.
           The sockets are read at least once, even when nothing waits or the
           deadline passed in one step on a busy machine: a request already
           on its way gets its answer (a 429) rather than a bare close */
        if (ep->io.send || (polled && (!waiting || now >= deadline))) break;
        {
            uint64_t wait = !waiting || now >= deadline ? 0 : (deadline - now) / WT__NS_PER_MS + 1,
                     due = wt__ep_expiry_ms(ep), t = now / WT__NS_PER_MS;
            wt__ep_wait(ep, (int)(due <= t ? 0 : WT__MIN(wait, due - t)));
        }
        now = wt__loop_ns(ep->loop);
    }
    for (c = ep->conns; c; c = c->next) wt__conn_close(c, WT__H3_NO_ERROR, "shutting down");
    wt__ep_service(ep, wt__loop_ns(ep->loop));
    wt__loop_leave(ep->loop);
}

/* ---------------------------------------------------------------- timers */
/* ngtcp2's next deadline in ns, less a pacing one that holds nothing back
   (see wt__conn_write). */
static uint64_t wt__conn_expiry_ns(const wt__conn *c) {
    uint64_t x = ngtcp2_conn_get_expiry(c->tp.qc);
    return c->tp.pace_skip && x == c->tp.pace_ts ? c->tp.unpaced_ts : x;
}

static uint64_t wt__ep_expiry_ms(wt__ep *ep) {
    uint64_t now_ms = wt_loop_now_ms(ep->loop), next = ep->tick_due_ms;
    wt__conn *c;
    if (ep->ndeferred) next = WT__MIN(next, ep->closing_all || ep->stopping ? now_ms : ep->wake_ms);
    for (c = ep->conns; c; c = c->next) {
        uint64_t e;
        if (c->state == WT__CONN_DEAD) return now_ms;
        if (!c->tp.qc && c->state <= WT__CONN_OPEN) {
            e = wt__dial_expiry_ms(c);
            next = WT__MIN(next, e);
            continue;
        }
        if (c->dirty && c->state <= WT__CONN_OPEN) return now_ms;
        if (c->state >= WT__CONN_CLOSING) e = c->deadline_ms;
        else {
            uint64_t x = wt__conn_expiry_ns(c);
            e = x == UINT64_MAX ? UINT64_MAX : (x + WT__NS_PER_MS - 1) / WT__NS_PER_MS;
            if (!c->wt.session_seen) e = WT__MIN(e, c->deadline_ms);
        }
        next = WT__MIN(next, e);
    }
    return next;
}

static void wt__ep_service(wt__ep *ep, uint64_t now_ns) {
    wt__conn *c, *next;
    uint64_t now_ms = now_ns / WT__NS_PER_MS;
    /* the app's deferred sessions: resumed, late, or the app is stopping */
    if (ep->on_service && ep->ndeferred && (now_ms >= ep->wake_ms || ep->closing_all || ep->stopping))
        ep->on_service(ep, now_ms);
    for (c = ep->conns; c; c = next) {
        next = c->next;
        if (c->dial && c->state == WT__CONN_HANDSHAKE) wt__dial_service(c, now_ms);
        if (c->state == WT__CONN_HANDSHAKE && now_ms >= c->deadline_ms && c->tp.qc) {
            /* only a peer that said nothing ends here: a closing peer's
               CONNECTION_CLOSE (a TLS alert, say) ended it sooner */
            if (ep->server)
                wt__clog(c, -1, WT_LOG_INFO, "handshake timed out: the client went quiet");
            else if (c->tp.heard)
                wt__clog(c, -1, c->dial_owner ? WT_LOG_INFO : WT_LOG_WARN,
                         "handshake timed out after %u ms: %s:%u answered but did not finish",
                         (unsigned)(c->deadline_ms - c->created_ms), c->host ? c->host : "?", (unsigned)c->port);
            else
                wt__clog(c, -1, c->dial_owner ? WT_LOG_INFO : WT_LOG_WARN,
                         "handshake timed out after %u ms: no answer from %s:%u (nothing listening, or UDP blocked?)",
                         (unsigned)(c->deadline_ms - c->created_ms), c->host ? c->host : "?", (unsigned)c->port);
            if (!c->fail_error) c->fail_error = WT_ERR_TIMEOUT;
            c->state = WT__CONN_DEAD;
        }
        if (c->state == WT__CONN_OPEN && !c->wt.session_seen && now_ms >= c->deadline_ms) {
            /* QUIC is up but no session was asked for (server) or answered
               (client) in time: the slot goes back */
            wt__clog(c, -1, WT_LOG_INFO, "no WebTransport session within handshake_timeout_ms: closing");
            if (!c->fail_error) c->fail_error = WT_ERR_TIMEOUT;
            wt__conn_close(c, WT__H3_NO_ERROR, "no session");
        }
        if (c->state <= WT__CONN_OPEN && c->tp.qc && wt__conn_expiry_ns(c) <= now_ns) {
            int rv;
            c->tp.pace_skip = 0; /* its timers move */
            rv = ngtcp2_conn_handle_expiry(c->tp.qc, now_ns);
            if (rv == NGTCP2_ERR_IDLE_CLOSE) {
                wt__clog(c, -1, WT_LOG_INFO, "connection idle: closed");
                wt__conn_end_sessions(c, WT_ERR_TIMEOUT);
                c->state = WT__CONN_DEAD;
            } else if (rv != 0) {
                ngtcp2_ccerr_set_liberr(&c->tp.ccerr, rv, NULL, 0);
                wt__conn_fail(c, WT_ERR_QUIC, ngtcp2_strerror(rv));
            } else {
                c->dirty = 1;
            }
        }
        if (c->state <= WT__CONN_OPEN && c->dirty) wt__conn_write(c);
        if (c->wt.dgram_waiters && c->state == WT__CONN_OPEN) wt__dgram_check_writable(c);
        if (c->state == WT__CONN_CLOSING && !c->tp.close_pkt && c->deadline_ms == 0) wt__conn_send_close(c, now_ns);
        if ((c->state == WT__CONN_CLOSING || c->state == WT__CONN_DRAINING) && now_ms >= c->deadline_ms &&
            c->deadline_ms != 0)
            c->state = WT__CONN_DEAD;
        if (c->state == WT__CONN_DEAD) {
            wt__conn_free(c);
        } else {
            wt__conn_free_graveyard(c);
            wt__conn_sweep_sessions(c);
        }
    }
}

/* Safe on a partly set-up endpoint, and twice. */
static void wt__ep_free(wt__ep *ep) {
    int i;
    if (ep->loop) wt__loop_enter(ep->loop); /* CLOSED events go out now */
    while (ep->conns) wt__conn_free(ep->conns);
    if (ep->loop) {
        wt__loop_drain(ep->loop); /* and the write completions queued meanwhile */
        wt__loop_leave(ep->loop);
    }
    for (i = 0; i < ep->nsocks; i++) wt__sock_close(&ep->socks[i]);
    ep->nsocks = 0;
    if (ep->ssl_ctx) wolfSSL_CTX_free(ep->ssl_ctx);
    ep->ssl_ctx = NULL;
    wt__free(&ep->alloc, ep->cids);
    ep->cids = NULL;
    wt__free(&ep->alloc, ep->txbuf);
    ep->txbuf = NULL;
    if (ep->rng_ready) wc_FreeRng(&ep->rng);
    ep->rng_ready = 0;
    wt__zero(ep->rand_pool, sizeof ep->rand_pool);
    ep->rand_left = 0;
    wt__trace_free(ep);
    if (ep->loop) wt__loop_remove_ep(ep->loop, ep);
    if (ep->owns_loop) wt_loop_destroy(ep->loop);
    ep->loop = NULL;
    ep->owns_loop = 0;
}
