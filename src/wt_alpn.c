/* wt_alpn.c - what a session agrees on beyond the CONNECT itself: the
   application protocol (wt-available-protocols / wt-protocol, draft-ietf-
   webtrans-http3 section 3.3) and keying material bound to the session
   (section 4.8). */
#include "wt_internal.h"

/* ---------------------------------------------------------------- structured fields
 * RFC 9651 (Structured Field Values), only as far as these two fields need:
 * a List (wt-available-protocols) or an Item (wt-protocol) whose values must
 * all be Strings. Every other bare item type is parsed, so parameters can be
 * skipped, and then makes the whole field invalid, as the draft asks. */
typedef struct wt__sf {
    const char *p, *end;
} wt__sf;

static int wt__sf_lcalpha(int c) { return c >= 'a' && c <= 'z'; }
static int wt__sf_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int wt__sf_digit(int c) { return c >= '0' && c <= '9'; }
static int wt__sf_tchar(int c) {
    return wt__sf_alpha(c) || wt__sf_digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void wt__sf_sp(wt__sf *f) {
    while (f->p < f->end && *f->p == ' ') f->p++;
}

static void wt__sf_ows(wt__sf *f) {
    while (f->p < f->end && (*f->p == ' ' || *f->p == '\t')) f->p++;
}

/* A String's raw bytes between the quotes (escapes still in) go to s and n. */
static int wt__sf_string(wt__sf *f, const char **s, size_t *n) {
    const char *start;
    if (f->p >= f->end || *f->p != '"') return -1;
    start = ++f->p;
    while (f->p < f->end) {
        unsigned char c = (unsigned char)*f->p;
        if (c == '"') {
            *s = start, *n = (size_t)(f->p - start);
            f->p++;
            return 0;
        }
        if (c == '\\') {
            if (f->p + 1 >= f->end || (f->p[1] != '"' && f->p[1] != '\\')) return -1;
            f->p += 2;
            continue;
        }
        if (c < 0x20 || c > 0x7e) return -1;
        f->p++;
    }
    return -1;
}

static int wt__sf_number(wt__sf *f) {
    size_t ints = 0, fracs = 0;
    if (f->p < f->end && *f->p == '-') f->p++;
    while (f->p < f->end && wt__sf_digit(*f->p)) f->p++, ints++;
    if (ints == 0) return -1;
    if (f->p < f->end && *f->p == '.') {
        f->p++;
        while (f->p < f->end && wt__sf_digit(*f->p)) f->p++, fracs++;
        return ints <= 12 && fracs >= 1 && fracs <= 3 ? 0 : -1;
    }
    return ints <= 15 ? 0 : -1;
}

/* Any bare item; *is_string says whether it was a String (then s, n). */
static int wt__sf_bare_item(wt__sf *f, int *is_string, const char **s, size_t *n) {
    char c;
    *is_string = 0;
    if (f->p >= f->end) return -1;
    c = *f->p;
    if (c == '"') {
        *is_string = 1;
        return wt__sf_string(f, s, n);
    }
    if (c == '-' || wt__sf_digit(c)) return wt__sf_number(f);
    if (wt__sf_alpha(c) || c == '*') { /* Token */
        for (f->p++; f->p < f->end && (wt__sf_tchar(*f->p) || *f->p == ':' || *f->p == '/');) f->p++;
        return 0;
    }
    if (c == ':') { /* Byte Sequence */
        for (f->p++; f->p < f->end && *f->p != ':'; f->p++)
            if (!(wt__sf_alpha(*f->p) || wt__sf_digit(*f->p) || strchr("+/=", *f->p))) return -1;
        if (f->p >= f->end) return -1;
        f->p++;
        return 0;
    }
    if (c == '?') { /* Boolean */
        if (f->p + 1 >= f->end || (f->p[1] != '0' && f->p[1] != '1')) return -1;
        f->p += 2;
        return 0;
    }
    if (c == '@') { /* Date */
        f->p++;
        return wt__sf_number(f);
    }
    if (c == '%') { /* Display String: %"..." with %xx escapes */
        if (f->p + 1 >= f->end || f->p[1] != '"') return -1;
        for (f->p += 2; f->p < f->end && *f->p != '"'; f->p++)
            if ((unsigned char)*f->p < 0x20 || (unsigned char)*f->p > 0x7e) return -1;
        if (f->p >= f->end) return -1;
        f->p++;
        return 0;
    }
    return -1;
}

/* Parameters are parsed and ignored (the draft defines none). */
static int wt__sf_params(wt__sf *f) {
    while (f->p < f->end && *f->p == ';') {
        f->p++;
        wt__sf_sp(f);
        if (f->p >= f->end || !(wt__sf_lcalpha(*f->p) || *f->p == '*')) return -1;
        while (f->p < f->end && (wt__sf_lcalpha(*f->p) || wt__sf_digit(*f->p) || strchr("_-.*", *f->p))) f->p++;
        if (f->p < f->end && *f->p == '=') {
            int is_string;
            const char *s;
            size_t n;
            f->p++;
            if (wt__sf_bare_item(f, &is_string, &s, &n)) return -1;
        }
    }
    return 0;
}

/* An Item (list = 0) or a List (list = 1) of Strings: fn(ctx, raw, n) for
   each String in order (escapes still in: see wt__sf_unescape). Returns 0,
   or -1 when the field is malformed or holds anything but Strings (fn may
   have been called for the members before the fault). */
typedef int (*wt__sf_string_fn)(void *ctx, const char *raw, size_t n);
static int wt__sf_strings(const char *v, size_t vl, int list, wt__sf_string_fn fn, void *ctx) {
    wt__sf f;
    f.p = v, f.end = v + vl;
    wt__sf_sp(&f);
    if (list && f.p == f.end) return 0; /* an empty List */
    for (;;) {
        int is_string;
        const char *s = NULL;
        size_t n = 0;
        if (f.p < f.end && *f.p == '(') return -1; /* an Inner List is not a String */
        if (wt__sf_bare_item(&f, &is_string, &s, &n) || !is_string || wt__sf_params(&f)) return -1;
        if (fn && fn(ctx, s, n)) return -1;
        if (!list) break;
        wt__sf_ows(&f);
        if (f.p == f.end) return 0;
        if (*f.p != ',') return -1;
        f.p++;
        wt__sf_ows(&f);
        if (f.p == f.end) return -1; /* a trailing comma */
    }
    wt__sf_sp(&f);
    return f.p == f.end ? 0 : -1;
}

/* The value of a String whose raw bytes (between the quotes) are raw/n. */
static char *wt__sf_unescape(const wt_allocator *a, const char *raw, size_t n) {
    char *out = (char *)wt__alloc(a, n + 1);
    size_t i, o = 0;
    if (!out) return NULL;
    for (i = 0; i < n; i++) {
        if (raw[i] == '\\') i++; /* checked by wt__sf_string: one of " or \ follows */
        out[o++] = raw[i];
    }
    out[o] = 0;
    return out;
}

/* Bytes a String's serialization takes (quotes and escapes included), or 0
   when s holds a byte a String cannot (outside printable ASCII). */
static size_t wt__sf_string_len(const char *s) {
    size_t n = 2;
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) return 0;
        n += (*s == '"' || *s == '\\') ? 2 : 1;
    }
    return n;
}

/* Writes s as a String at out (wt__sf_string_len(s) bytes, no NUL). */
static size_t wt__sf_put_string(char *out, const char *s) {
    size_t o = 0;
    out[o++] = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') out[o++] = '\\';
        out[o++] = *s;
    }
    out[o++] = '"';
    return o;
}

/* ---------------------------------------------------------------- negotiation */
static void wt__alpn_free(wt_session *s) {
    const wt_allocator *a = &s->conn->ep->alloc;
    size_t i;
    for (i = 0; i < s->noffers; i++) wt__free(a, s->offers[i]);
    wt__free(a, s->offers);
    wt__free(a, s->alpn);
    s->offers = NULL, s->noffers = 0, s->alpn = NULL;
}

static int wt__alpn_count(void *ctx, const char *raw, size_t n) {
    WT__UNUSED(raw), WT__UNUSED(n);
    (*(size_t *)ctx)++;
    return 0;
}

static int wt__alpn_collect(void *ctx, const char *raw, size_t n) {
    wt_session *s = (wt_session *)ctx;
    char *p = wt__sf_unescape(&s->conn->ep->alloc, raw, n);
    if (!p) return -1;
    s->offers[s->noffers++] = p;
    return 0;
}

/* Reads the request's wt-available-protocols (every line of it, as HTTP
   joins repeated fields) into s->offers. A malformed field, or one with a
   value that is not a String, is ignored as a whole (draft section 3.3):
   the session goes on as if none had been offered. */
static void wt__alpn_parse_offers(wt_session *s) {
    const wt_allocator *a = &s->conn->ep->alloc;
    size_t i, total = 0;
    int bad = 0;
    wt__alpn_free(s);
    for (i = 0; i < s->req.n && !bad; i++)
        if (!strcmp(s->req.kv[2 * i], "wt-available-protocols")) {
            const char *v = s->req.kv[2 * i + 1];
            bad = wt__sf_strings(v, strlen(v), 1, wt__alpn_count, &total) != 0;
        }
    if (bad) {
        wt__clog(s->conn, s->id, WT_LOG_INFO,
                 "session %s: ignoring a malformed wt-available-protocols field (it must be a structured "
                 "field list of strings)", s->path ? s->path : "");
        return;
    }
    if (!total) return;
    s->offers = (char **)wt__calloc(a, total * sizeof *s->offers);
    for (i = 0; s->offers && i < s->req.n; i++)
        if (!strcmp(s->req.kv[2 * i], "wt-available-protocols")) {
            const char *v = s->req.kv[2 * i + 1];
            if (wt__sf_strings(v, strlen(v), 1, wt__alpn_collect, s)) break;
        }
    if (!s->offers || s->noffers != total) {
        wt__clog(s->conn, s->id, WT_LOG_ERROR, "session %s: out of memory for the offered protocols",
                 s->path ? s->path : "");
        wt__alpn_free(s);
    }
}

static int wt__alpn_offered(const wt_session *s, const char *p) {
    size_t i;
    for (i = 0; i < s->noffers; i++)
        if (!strcmp(s->offers[i], p)) return 1;
    return 0;
}

/* Server: the wt-protocol line of an accepting response, if one was chosen. */
static int wt__alpn_add_response(wt_session *s, wt__hdrs *out) {
    const wt_allocator *a = &s->conn->ep->alloc;
    size_t n;
    char *v;
    int rv;
    if (!s->alpn || !*s->alpn) return WT_OK;
    n = wt__sf_string_len(s->alpn); /* an offer that parsed, so never 0 */
    if (!(v = (char *)wt__alloc(a, n + 1))) return WT_ERR_NOMEM;
    v[wt__sf_put_string(v, s->alpn)] = 0;
    rv = wt__hdrs_add(a, out, "wt-protocol", 11, v, n, SIZE_MAX);
    wt__free(a, v);
    return rv;
}

static int wt__alpn_take(void *ctx, const char *raw, size_t n) {
    wt_session *s = (wt_session *)ctx;
    wt__free(&s->conn->ep->alloc, s->alpn);
    s->alpn = wt__sf_unescape(&s->conn->ep->alloc, raw, n);
    return s->alpn ? 0 : -1;
}

/* Client, on a 2xx: reads wt-protocol. One that is malformed is ignored
   (logged); one we did not offer ends the session (draft section 3.3: the
   client closes it with WT_ALPN_ERROR, here a reset of the CONNECT stream
   with that code, and the app sees WT_ERR_PROTOCOL). Returns WT_OK when the
   session may open. */
static int wt__alpn_check_response(wt_session *s) {
    const char *v = wt__hdrs_get(&s->resp, "wt-protocol");
    wt__conn *c = s->conn;
    if (!v) return WT_OK;
    if (wt__sf_strings(v, strlen(v), 0, wt__alpn_take, s)) {
        wt__clog(c, s->id, WT_LOG_INFO, "session %s: ignoring a malformed wt-protocol field: %.64s",
                 s->path ? s->path : "", v);
        wt__free(&c->ep->alloc, s->alpn);
        s->alpn = NULL;
        return WT_OK;
    }
    if (wt__alpn_offered(s, s->alpn)) return WT_OK;
    if (!s->noffers) { /* an answer to no question: nothing to agree on */
        wt__clog(c, s->id, WT_LOG_INFO, "session %s: ignoring wt-protocol \"%.64s\": no protocols were offered",
                 s->path ? s->path : "", s->alpn);
        wt__free(&c->ep->alloc, s->alpn);
        s->alpn = NULL;
        return WT_OK;
    }
    wt__clog(c, s->id, WT_LOG_WARN,
             "session %s: the server chose protocol \"%.64s\", which was not offered: closing with WT_ALPN_ERROR",
             s->path ? s->path : "", s->alpn);
    wt__free(&c->ep->alloc, s->alpn);
    s->alpn = NULL;
    c->wt.session_seen = 1;
    wt__tp_shutdown(c, WT__TP_BOTH, s->id, WT__H3_ALPN_ERROR);
    nghttp3_conn_shutdown_stream_write(c->h3.conn, s->id);
    wt__session_end(s, WT_ERR_PROTOCOL);
    return WT_ERR_PROTOCOL;
}

/* Client config: the offered list as one wt-available-protocols value
   (NULL for none). WT_ERR_INVALID when a name is empty or not printable ASCII. */
static int wt__alpn_offer_value(const wt_allocator *a, const wt_log *lg, const char *const *protocols, char **out) {
    size_t i, n = 0, k;
    char *v;
    *out = NULL;
    if (!protocols || !protocols[0]) return WT_OK;
    for (i = 0; protocols[i]; i++) {
        k = *protocols[i] ? wt__sf_string_len(protocols[i]) : 0;
        if (!k)
            return wt__fail(lg, WT_ERR_INVALID,
                            "wt_client_create: protocols[%zu] is empty or not printable ASCII", i);
        n += k + 2;
    }
    if (!(v = (char *)wt__alloc(a, n + 1))) return wt__fail(lg, WT_ERR_NOMEM, "wt_client_create: out of memory");
    for (i = 0, k = 0; protocols[i]; i++) {
        if (i) v[k++] = ',', v[k++] = ' ';
        k += wt__sf_put_string(v + k, protocols[i]);
    }
    v[k] = 0;
    *out = v;
    return WT_OK;
}

size_t wt_session_protocol_count(const wt_session *s) { return s ? s->noffers : 0; }

const char *wt_session_protocol_at(const wt_session *s, size_t i) {
    return s && i < s->noffers ? s->offers[i] : NULL;
}

const char *wt_session_protocol(const wt_session *s) { return s && s->alpn ? s->alpn : ""; }

int wt_session_set_protocol(wt_session *s, const char *protocol) {
    const wt_allocator *a;
    char *p = NULL;
    if (!s) return wt__fail(NULL, WT_ERR_INVALID, "wt_session_set_protocol: no session");
    if (!s->server || s->state != WT__SESS_REQUESTED || s->responded)
        return wt__cfail(s->conn, s->id, WT_ERR_STATE,
                         "wt_session_set_protocol: only a server, before it answers the request");
    a = &s->conn->ep->alloc;
    if (protocol && *protocol) {
        if (!wt__alpn_offered(s, protocol))
            return wt__cfail(s->conn, s->id, WT_ERR_INVALID, "wt_session_set_protocol: \"%.64s\" was not offered",
                             protocol);
        if (!(p = wt__strdup(a, protocol)))
            return wt__cfail(s->conn, s->id, WT_ERR_NOMEM, "wt_session_set_protocol: out of memory");
    }
    wt__free(a, s->alpn);
    s->alpn = p;
    return WT_OK;
}

/* ---------------------------------------------------------------- keying material */
#if defined(HAVE_KEYING_MATERIAL) && defined(HAVE_SECRET_CALLBACK)
/* RFC 8446 7.1 HKDF-Expand-Label(secret, "tls13 " label, context, len). */
static int wt__hkdf_expand_label(int hash, const uint8_t *secret, size_t secret_len, const char *label,
                                 const uint8_t *context, size_t context_len, uint8_t *out, size_t len) {
    uint8_t info[2 + 1 + 6 + 255 + 1 + WC_MAX_DIGEST_SIZE];
    size_t n = 0, label_len = strlen(label);
    if (label_len > 255 - 6 || context_len > WC_MAX_DIGEST_SIZE) return -1;
    info[n++] = (uint8_t)(len >> 8);
    info[n++] = (uint8_t)len;
    info[n++] = (uint8_t)(6 + label_len);
    memcpy(info + n, "tls13 ", 6), n += 6;
    memcpy(info + n, label, label_len), n += label_len;
    info[n++] = (uint8_t)context_len;
    memcpy(info + n, context, context_len), n += context_len;
    return wc_HKDF_Expand(hash, secret, (word32)secret_len, info, (word32)n, out, (word32)len) == 0 ? 0 : -1;
}

/* RFC 8446 7.5: HKDF-Expand-Label(Derive-Secret(exporter_master_secret,
   label, ""), "exporter", Hash(context), len), from the secret wolfSSL
   handed over during the handshake (wt__tls_secret). */
static int wt__tls_export(const wt__conn *c, const char *label, const uint8_t *context, size_t context_len,
                          uint8_t *out, size_t len) {
    size_t hl = c->tp.exporter_len;
    enum wc_HashType ht = hl == 48 ? WC_HASH_TYPE_SHA384 : WC_HASH_TYPE_SHA256;
    int hmac = hl == 48 ? WC_SHA384 : WC_SHA256, rv;
    uint8_t empty[WC_MAX_DIGEST_SIZE], hctx[WC_MAX_DIGEST_SIZE], derived[WC_MAX_DIGEST_SIZE];
    if (hl != 32 && hl != 48) return -1;
    if (wc_Hash(ht, (const byte *)"", 0, empty, (word32)hl) != 0 ||
        wc_Hash(ht, context_len ? context : (const uint8_t *)"", (word32)context_len, hctx, (word32)hl) != 0)
        return -1;
    rv = wt__hkdf_expand_label(hmac, c->tp.exporter, hl, label, empty, hl, derived, hl);
    if (rv == 0) rv = wt__hkdf_expand_label(hmac, derived, hl, "exporter", hctx, hl, out, len);
    wt__zero(derived, sizeof derived);
    return rv;
}
#endif

int wt_session_export_keying_material(const wt_session *s, const char *label, const uint8_t *context,
                                      size_t context_len, uint8_t *out, size_t out_len) {
    static const char wt_label[] = "EXPORTER-WebTransport";
    uint8_t ctx[8 + 1 + 255 + 1 + 255];
    size_t label_len = label ? strlen(label) : 0, n = 0;
    uint64_t sid;
    int i;
    if (!s) return wt__fail(NULL, WT_ERR_INVALID, "wt_session_export_keying_material: no session");
    if (!label || label_len < 1 || label_len > 255 || context_len > 255 || (context_len && !context) || !out ||
        out_len < 1 || out_len > 255 * 32)
        return wt__cfail(s->conn, s->id, WT_ERR_INVALID,
                         "wt_session_export_keying_material: needs a label of 1-255 bytes, a context of at most "
                         "255 and an output of 1-8160 bytes");
    if (s->state == WT__SESS_CLOSED || s->id < 0 || (!s->conn->tp.ssl && !s->conn->tp.exporter_len) || !s->conn->tp.qc ||
        !ngtcp2_conn_get_handshake_completed(s->conn->tp.qc))
        return wt__cfail(s->conn, s->id, WT_ERR_STATE,
                         "wt_session_export_keying_material: the session is not established (or already closed)");
    /* WebTransport Exporter Context: session ID (64), label length (8),
       label, context length (8), context */
    sid = (uint64_t)s->id;
    for (i = 7; i >= 0; i--) ctx[n++] = (uint8_t)(sid >> (8 * i));
    ctx[n++] = (uint8_t)label_len;
    memcpy(ctx + n, label, label_len), n += label_len;
    ctx[n++] = (uint8_t)context_len;
    if (context_len) memcpy(ctx + n, context, context_len), n += context_len;
#if defined(HAVE_KEYING_MATERIAL) && defined(HAVE_SECRET_CALLBACK)
    if (wt__tls_export(s->conn, wt_label, ctx, n, out, out_len) != 0)
        return wt__cfail(s->conn, s->id, WT_ERR_TLS, "wt_session_export_keying_material: the TLS exporter failed");
    return WT_OK;
#elif defined(HAVE_KEYING_MATERIAL)
    if (wolfSSL_export_keying_material(s->conn->tp.ssl, out, out_len, wt_label, sizeof wt_label - 1, ctx, n, 1) !=
        WOLFSSL_SUCCESS)
        return wt__cfail(s->conn, s->id, WT_ERR_TLS, "wt_session_export_keying_material: wolfSSL's exporter failed");
    return WT_OK;
#else
    WT__UNUSED(wt_label);
    return wt__cfail(s->conn, s->id, WT_ERR_STATE,
                     "wt_session_export_keying_material: this wolfSSL was built without HAVE_KEYING_MATERIAL "
                     "(configure it with --enable-keying-material, as make deps does)");
#endif
}
