/* wt_util.c - errors, allocation, logging, varints, byte buffers. */
#include "wt_internal.h"

const char *wt_strerror(int err) {
    switch (err) {
    case WT_OK: return "success";
    case WT_ERR_INVALID: return "invalid argument";
    case WT_ERR_NOMEM: return "out of memory";
    case WT_ERR_IO: return "system call failed";
    case WT_ERR_TLS: return "TLS error";
    case WT_ERR_QUIC: return "QUIC error";
    case WT_ERR_H3: return "HTTP/3 error";
    case WT_ERR_PROTOCOL: return "peer violated the protocol";
    case WT_ERR_WOULDBLOCK: return "buffer full, try again when writable";
    case WT_ERR_CLOSED: return "closed";
    case WT_ERR_LIMIT: return "configured limit reached";
    case WT_ERR_TOO_BIG: return "too large";
    case WT_ERR_NOT_FOUND: return "not found";
    case WT_ERR_STATE: return "not allowed in this state";
    case WT_ERR_CERT: return "certificate error";
    case WT_ERR_TIMEOUT: return "timed out";
    case WT_ERR_URL: return "invalid URL";
    case WT_ERR_REFUSED: return "session refused by the server";
    case WT_ERR_TRUNCATED: return "input truncated";
    case WT_ERR_FLOW_CONTROL: return "session flow control error";
    default: return "unknown error";
    }
}

/* ---------------------------------------------------------------- allocation */
static void *wt__alloc(const wt_allocator *a, size_t n) {
    if (a && a->malloc_fn) return a->malloc_fn(n ? n : 1, a->user);
    return WT_MALLOC(n ? n : 1);
}

static void *wt__calloc(const wt_allocator *a, size_t n) {
    void *p = wt__alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

static void *wt__realloc(const wt_allocator *a, void *p, size_t n) {
    if (a && a->realloc_fn) return a->realloc_fn(p, n ? n : 1, a->user);
    return WT_REALLOC(p, n ? n : 1);
}

static void wt__free(const wt_allocator *a, void *p) {
    if (!p) return;
    if (a && a->free_fn) a->free_fn(p, a->user);
    else WT_FREE(p);
}

static char *wt__strndup(const wt_allocator *a, const char *s, size_t n) {
    char *d = (char *)wt__alloc(a, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static char *wt__strdup(const wt_allocator *a, const char *s) {
    return s ? wt__strndup(a, s, strlen(s)) : NULL;
}

/* ---------------------------------------------------------------- logging */
static void wt__log_stderr(wt_log_level level, const char *msg, void *user) {
    static const char *names[] = {"", "error", "warn", "info", "debug"};
    WT__UNUSED(user);
    fprintf(stderr, "wt: %s: %s\n", names[level <= WT_LOG_DEBUG ? level : 0], msg);
}

/* c: tag the line with the connection (and session sid >= 0), or NULL. */
static void wt__vlog(const wt_log *lg, const wt__conn *c, int64_t sid, wt_log_level level, const char *fmt,
                     va_list ap) {
    wt_log_level max = (lg && lg->level) ? lg->level : WT_LOG_WARN;
    char msg[560];
    int n = 0;
    if (level > max) return;
    if (c && c->log_id[0] && sid >= 0) n = snprintf(msg, sizeof msg, "[cid %s s=%lld] ", c->log_id, (long long)sid);
    else if (c && c->log_id[0]) n = snprintf(msg, sizeof msg, "[cid %s] ", c->log_id);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    if (lg && lg->fn) lg->fn(level, msg, lg->user);
    else wt__log_stderr(level, msg, NULL);
}

static void wt__log(const wt_log *lg, wt_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wt__vlog(lg, NULL, -1, level, fmt, ap);
    va_end(ap);
}

static int wt__fail(const wt_log *lg, int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wt__vlog(lg, NULL, -1, WT_LOG_ERROR, fmt, ap);
    va_end(ap);
    return err;
}

static int wt__fail_at(const wt_log *lg, wt_log_level level, int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wt__vlog(lg, NULL, -1, level, fmt, ap);
    va_end(ap);
    return err;
}

static void wt__clog(const wt__conn *c, int64_t sid, wt_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wt__vlog(&c->ep->log, c, sid, level, fmt, ap);
    va_end(ap);
}

static int wt__cfail(const wt__conn *c, int64_t sid, int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wt__vlog(&c->ep->log, c, sid, WT_LOG_ERROR, fmt, ap);
    va_end(ap);
    return err;
}

static int wt__cfail_at(const wt__conn *c, int64_t sid, wt_log_level level, int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wt__vlog(&c->ep->log, c, sid, level, fmt, ap);
    va_end(ap);
    return err;
}

/* ---------------------------------------------------------------- command-line arguments */
static int wt__arg(const wt_log *lg, int argc, char **argv, int *i, const char *name, const char **value) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        (*i)++;
        return 1;
    }
    if (a[n] != 0) return 0;
    if (*i + 1 >= argc || !argv[*i + 1])
        return wt__fail(lg, WT_ERR_INVALID, "%s needs a value", name);
    *value = argv[*i + 1];
    *i += 2;
    return 1;
}

/* ---------------------------------------------------------------- varints */
static size_t wt__varint_len(uint64_t v) {
    if (v < 64) return 1;
    if (v < 16384) return 2;
    if (v < 1073741824) return 4;
    return 8;
}

static size_t wt__varint_put(uint8_t *p, uint64_t v) {
    size_t n = wt__varint_len(v), i;
    static const uint8_t prefix[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
    for (i = 0; i < n; i++) p[n - 1 - i] = (uint8_t)(v >> (8 * i));
    p[0] |= prefix[n];
    return n;
}

static size_t wt__varint_get(const uint8_t *p, size_t n, uint64_t *v) {
    size_t len, i;
    uint64_t x;
    if (n == 0) return 0;
    len = (size_t)1 << (p[0] >> 6);
    if (n < len) return 0;
    x = p[0] & 0x3f;
    for (i = 1; i < len; i++) x = (x << 8) | p[i];
    *v = x;
    return len;
}

/* ---------------------------------------------------------------- buffers */
static int wt__buf_reserve(const wt_allocator *a, wt__buf *b, size_t need) {
    size_t cap;
    uint8_t *d;
    if (need <= b->cap) return WT_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    d = (uint8_t *)wt__realloc(a, b->data, cap);
    if (!d) return WT_ERR_NOMEM;
    b->data = d;
    b->cap = cap;
    return WT_OK;
}

static int wt__buf_append(const wt_allocator *a, wt__buf *b, const void *p, size_t n) {
    int rv = wt__buf_reserve(a, b, b->len + n);
    if (rv) return rv;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return WT_OK;
}

static void wt__buf_free(const wt_allocator *a, wt__buf *b) {
    wt__free(a, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void wt_hex(const uint8_t *in, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

/* ---------------------------------------------------------------- send buffers */
#define WT__CHUNK_SIZE 16384
#define WT__CHUNK_FIRST 1024 /* a buffer's first chunk; each next one twice the
                                last, up to WT__CHUNK_SIZE: a capsule or a short
                                message costs 1 KiB, not 16 (SMALL DEVICES) */
#define WT__CHUNK_SPARES 16  /* acknowledged chunks a buffer keeps while it still
                                holds bytes: the default 2 MiB stream_send_buffer,
                                refilled at half empty, frees up to 16 of 64 KiB
                                between refills. Never more than it held before */

/* A spare chunk, or NULL. */
static wt__chunk *wt__sendbuf_take_spare(wt__sendbuf *b) {
    wt__chunk *t = b->spare;
    if (t && (b->spare = t->next) != NULL) b->spare->len = t->len - 1;
    return t;
}

static size_t wt__sendbuf_spares(const wt__sendbuf *b) { return b->spare ? b->spare->len : 0; }

static void wt__sendbuf_free_spares(const wt_allocator *a, wt__sendbuf *b) {
    while (b->spare) wt__free(a, wt__sendbuf_take_spare(b));
}

static int wt__sendbuf_append(const wt_allocator *a, wt__sendbuf *b, const void *p, size_t n) {
    const uint8_t *src = (const uint8_t *)p;
    while (n > 0) {
        wt__chunk *t = b->tail;
        size_t room, k;
        if (!t || t->len == t->cap || t->ext) {
            size_t cap = t && !t->ext ? WT__MIN(2 * t->cap, (size_t)WT__CHUNK_SIZE) : WT__CHUNK_FIRST;
            if (n > cap) cap = n > 4 * WT__CHUNK_SIZE ? 4 * WT__CHUNK_SIZE : n;
            if ((t = wt__sendbuf_take_spare(b)) != NULL) cap = t->cap; /* at least WT__CHUNK_SIZE */
            else if (!(t = (wt__chunk *)wt__alloc(a, sizeof(wt__chunk) + cap))) return WT_ERR_NOMEM;
            t->next = NULL;
            t->cap = cap;
            t->len = 0;
            t->ext = NULL;
            if (b->tail) b->tail->next = t;
            else b->head = t, b->head_off = 0;
            b->tail = t;
        }
        room = t->cap - t->len;
        k = n < room ? n : room;
        memcpy(t->data + t->len, src, k);
        if (b->unsent == 0) b->send_chunk = t, b->send_off = t->len;
        t->len += k;
        b->stored += k;
        b->unsent += k;
        src += k;
        n -= k;
    }
    return WT_OK;
}

/* All n bytes or none (on NOMEM the buffer is as before). */
static int wt__sendbuf_append_all(const wt_allocator *a, wt__sendbuf *b, const void *p, size_t n) {
    wt__sendbuf save = *b;
    size_t tail_len = b->tail ? b->tail->len : 0;
    wt__chunk *c, *next;
    int rv = wt__sendbuf_append(a, b, p, n);
    if (rv == WT_OK) return WT_OK;
    for (c = save.tail ? save.tail->next : b->head; c; c = next) {
        next = c->next;
        wt__free(a, c);
    }
    /* spares taken meanwhile were freed above with the rest */
    save.spare = b->spare;
    *b = save;
    if (b->tail) {
        b->tail->next = NULL;
        b->tail->len = tail_len;
    }
    return rv;
}

static int wt__sendbuf_append_ref(const wt_allocator *a, wt__sendbuf *b, const void *p, size_t n) {
    wt__chunk *t;
    if (!n) return WT_OK;
    t = (wt__chunk *)wt__alloc(a, sizeof(wt__chunk));
    if (!t) return WT_ERR_NOMEM;
    t->next = NULL;
    t->cap = t->len = n;
    t->ext = (const uint8_t *)p;
    if (b->tail) b->tail->next = t;
    else b->head = t, b->head_off = 0;
    b->tail = t;
    if (b->unsent == 0) b->send_chunk = t, b->send_off = 0;
    b->stored += n;
    b->unsent += n;
    return WT_OK;
}

static size_t wt__sendbuf_peek(const wt__sendbuf *b, ngtcp2_vec *v, size_t max) {
    return wt__sendbuf_peek_upto(b, v, max, SIZE_MAX);
}

static size_t wt__sendbuf_peek_upto(const wt__sendbuf *b, ngtcp2_vec *v, size_t max, size_t bytes) {
    const wt__chunk *c = b->send_chunk;
    size_t off = b->send_off, n = 0, left = b->unsent, got = 0;
    while (c && left > 0 && n < max && got < bytes) {
        size_t k = c->len - off;
        if (k > left) k = left;
        if (k > 0) {
            v[n].base = (uint8_t *)WT__CHUNK_BYTES(c) + off;
            v[n].len = k;
            n++;
            left -= k;
            got += k;
        }
        c = c->next;
        off = 0;
    }
    return n;
}

static void wt__sendbuf_mark_sent(wt__sendbuf *b, size_t n) {
    WT_ASSERT(n <= b->unsent);
    b->unsent -= n;
    while (n > 0 && b->send_chunk) {
        size_t k = b->send_chunk->len - b->send_off;
        if (n < k) {
            b->send_off += n;
            return;
        }
        n -= k;
        if (!b->send_chunk->next) {
            b->send_off = b->send_chunk->len;
            return;
        }
        b->send_chunk = b->send_chunk->next;
        b->send_off = 0;
    }
    /* a chunk boundary: move to the next chunk so peek starts there */
    if (b->send_chunk && b->send_off == b->send_chunk->len && b->send_chunk->next)
        b->send_chunk = b->send_chunk->next, b->send_off = 0;
}

static void wt__sendbuf_ack(const wt_allocator *a, wt__sendbuf *b, size_t n) {
    if (n > b->stored - b->unsent) n = b->stored - b->unsent;
    b->stored -= n;
    while (n > 0 && b->head) {
        size_t k = b->head->len - b->head_off;
        if (n < k) {
            b->head_off += n;
            return;
        }
        n -= k;
        /* never free the chunk that still holds unsent bytes or takes appends */
        if (b->head == b->send_chunk || b->head == b->tail) {
            b->head_off = b->head->len;
            break;
        }
        {
            wt__chunk *next = b->head->next;
            if (!b->head->ext && b->head->cap >= WT__CHUNK_SIZE && wt__sendbuf_spares(b) < WT__CHUNK_SPARES) {
                b->head->len = wt__sendbuf_spares(b) + 1;
                b->head->next = b->spare;
                b->spare = b->head;
            } else {
                wt__free(a, b->head);
            }
            b->head = next;
            b->head_off = 0;
        }
    }
    /* all acknowledged: a bulk sender would refill by now, so the spares
       go back (an idle stream keeps at most its last chunk) */
    if (b->stored == 0) wt__sendbuf_free_spares(a, b);
    /* everything acknowledged and nothing unsent: recycle the last chunk
       (one by reference goes: it was never ours to write into) */
    if (b->stored == 0 && b->head && b->head == b->tail && b->head->ext) {
        wt__free(a, b->head);
        b->head = b->tail = b->send_chunk = NULL;
        b->head_off = b->send_off = 0;
    } else if (b->stored == 0 && b->head && b->head == b->tail) {
        b->head->len = 0;
        b->head_off = 0;
        b->send_chunk = b->head;
        b->send_off = 0;
    }
}

static void wt__sendbuf_free(const wt_allocator *a, wt__sendbuf *b) {
    wt__chunk *c = b->head;
    wt__sendbuf_free_spares(a, b);
    while (c) {
        wt__chunk *next = c->next;
        wt__free(a, c);
        c = next;
    }
    memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------------- header lists */
static int wt__hdrs_add(const wt_allocator *a, wt__hdrs *h, const char *n, size_t nl, const char *v, size_t vl, size_t max) {
    char **kv, *name, *value;
    if (h->bytes + nl + vl + 32 > max) return WT_ERR_LIMIT;
    kv = (char **)wt__realloc(a, h->kv, (2 * h->n + 2) * sizeof *kv);
    if (!kv) return WT_ERR_NOMEM;
    h->kv = kv;
    name = wt__strndup(a, n, nl);
    value = wt__strndup(a, v, vl);
    if (!name || !value) {
        wt__free(a, name);
        wt__free(a, value);
        return WT_ERR_NOMEM;
    }
    kv[2 * h->n] = name;
    kv[2 * h->n + 1] = value;
    h->n++;
    h->bytes += nl + vl + 32;
    return WT_OK;
}

static const char *wt__hdrs_get(const wt__hdrs *h, const char *name) {
    size_t i;
    for (i = 0; i < h->n; i++)
        if (!strcmp(h->kv[2 * i], name)) return h->kv[2 * i + 1];
    return NULL;
}

static void wt__hdrs_free(const wt_allocator *a, wt__hdrs *h) {
    size_t i;
    for (i = 0; i < 2 * h->n; i++) wt__free(a, h->kv[i]);
    wt__free(a, h->kv);
    memset(h, 0, sizeof *h);
}
