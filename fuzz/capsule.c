/* fuzz/capsule.c - the capsule reader of a CONNECT stream's body
   (wt__capsule_feed, wt__capsule_parse, wt__capsule_close).

   Input: one byte that seeds how the body is cut into pieces, then the
   body. The oracle: however the bytes arrive (all at once, in pieces of
   varying size, one by one) the reader hands the session's own capsule
   callback the same capsules and ends with the same result, and every
   capsule it hands over lies inside its buffer. A close capsule encoded
   from the input parses back to itself. */
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "fuzz.h"

#define MAX_SEEN 4096

typedef struct seen {
    uint64_t type, hash;
    size_t len;
} seen;

typedef struct run {
    wt__capsule_reader r;
    wt_session s;      /* only its close fields are touched ... */
    wt__conn c;        /* ... and its connection's qlog pointer (NULL) */
    seen ev[MAX_SEEN];
    size_t n;
    int rv;
} run;

static int on_capsule(void *ctx, const wt__capsule *c) {
    run *x = (run *)ctx;
    /* what the reader hands over is a view into its own buffer */
    FUZZ_CHECK(c->value >= x->r.buf && c->value + c->len <= x->r.buf + x->r.len);
    FUZZ_CHECK(wt__capsule_known(c->type)); /* close, drain, flow control */
    FUZZ_CHECK(c->len <= WT__CAPSULE_MAX);
    if (x->n < MAX_SEEN) {
        x->ev[x->n].type = c->type;
        x->ev[x->n].len = c->len;
        x->ev[x->n].hash = fuzz_hash(c->value, c->len);
        x->n++;
    }
    /* the real callback (a session that is not open ignores DRAIN) */
    return wt__session_on_capsule(&x->s, c);
}

/* Feeds body in pieces: step 0 all at once, 1 byte by byte, else sizes
   drawn from seed. Stops at the first error, as the session does. */
static void feed(run *x, const uint8_t *p, size_t n, int step, uint64_t seed) {
    /* what the last run allocated (a long capsule's buffer, a close reason) */
    wt__capsule_reader_free(&x->r);
    wt__free(NULL, x->s.close_reason);
    memset(&x->r, 0, sizeof x->r);
    memset(&x->s, 0, sizeof x->s);
    memset(&x->c, 0, sizeof x->c);
    x->s.conn = &x->c;
    x->n = 0;
    x->rv = WT_OK;
    x->s.state = WT__SESS_CONNECTING;
    while (n > 0) {
        size_t k = n;
        if (step == 1) k = 1;
        else if (step == 2) k = 1 + (size_t)(fuzz_next(&seed) % (fuzz_next(&seed) & 1 ? 7 : 1500));
        if (k > n) k = n;
        x->rv = wt__capsule_feed(&x->r, p, k, on_capsule, x);
        if (x->rv != WT_OK) return;
        p += k, n -= k;
        FUZZ_CHECK(x->r.len < x->r.cap && x->r.cap <= WT__CAPSULE_BUF);
    }
}

static void same(const run *a, const run *b) {
    size_t i;
    FUZZ_CHECK(a->rv == b->rv);
    FUZZ_CHECK(a->n == b->n);
    for (i = 0; i < a->n; i++)
        FUZZ_CHECK(a->ev[i].type == b->ev[i].type && a->ev[i].len == b->ev[i].len && a->ev[i].hash == b->ev[i].hash);
    FUZZ_CHECK(a->s.close_received == b->s.close_received && a->s.close_code == b->s.close_code &&
               a->s.close_reason_len == b->s.close_reason_len &&
               (!a->s.close_reason_len || !memcmp(a->s.close_reason, b->s.close_reason, a->s.close_reason_len)));
}

static run runs[3];

static void parse_direct(const uint8_t *p, size_t n, size_t max) {
    wt__capsule c;
    int k = wt__capsule_parse(p, n, &c, max);
    if (k > 0) {
        FUZZ_CHECK((size_t)k <= n && c.len <= max);
        FUZZ_CHECK(c.value >= p && c.value + c.len == p + k);
    } else {
        FUZZ_CHECK(k == 0 || k == WT_ERR_TOO_BIG);
    }
}

static void close_roundtrip(const uint8_t *p, size_t n) {
    uint8_t out[WT__REASON_MAX + 32];
    wt__capsule c;
    uint32_t code;
    size_t len, rlen;
    int k;
    if (n < 4) return;
    code = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    rlen = WT__MIN(n - 4, (size_t)WT__REASON_MAX);
    len = wt__capsule_close(out, code, (const char *)p + 4, rlen);
    FUZZ_CHECK(len <= sizeof out);
    k = wt__capsule_parse(out, len, &c, WT__CAPSULE_MAX);
    FUZZ_CHECK(k > 0 && (size_t)k == len);
    FUZZ_CHECK(c.type == WT__CAPSULE_CLOSE && c.len == 4 + rlen);
    FUZZ_CHECK(!memcmp(c.value, p, 4) && !memcmp(c.value + 4, p + 4, rlen));
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t seed;
    if (size < 1) return 0;
    seed = (uint64_t)data[0] * 0x9e3779b97f4a7c15ULL + 1;
    feed(&runs[0], data + 1, size - 1, 0, seed);
    feed(&runs[1], data + 1, size - 1, 1, seed);
    feed(&runs[2], data + 1, size - 1, 2, seed);
    same(&runs[0], &runs[1]);
    same(&runs[0], &runs[2]);
    parse_direct(data + 1, size - 1, data[0] < 128 ? data[0] : WT__CAPSULE_MAX);
    close_roundtrip(data + 1, size - 1);
    return 0;
}
