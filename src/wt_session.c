/* wt_session.c - WebTransport sessions: extended CONNECT, capsules, close. */
#include "wt_internal.h"

/* ---------------------------------------------------------------- capsules */
static int wt__capsule_parse(const uint8_t *p, size_t n, wt__capsule *c, size_t max) {
    uint64_t len;
    size_t a = wt__varint_get(p, n, &c->type), b;
    if (!a) return 0;
    if (!(b = wt__varint_get(p + a, n - a, &len))) return 0;
    if (len > max) return WT_ERR_TOO_BIG;
    if (n - a - b < len) return 0;
    c->value = p + a + b;
    c->len = (size_t)len;
    return (int)(a + b + len);
}

static size_t wt__capsule_close(uint8_t *out, uint32_t code, const char *reason, size_t reason_len) {
    size_t o = 0;
    o += wt__varint_put(out + o, WT__CAPSULE_CLOSE);
    o += wt__varint_put(out + o, 4 + reason_len);
    out[o++] = (uint8_t)(code >> 24);
    out[o++] = (uint8_t)(code >> 16);
    out[o++] = (uint8_t)(code >> 8);
    out[o++] = (uint8_t)code;
    if (reason_len) memcpy(out + o, reason, reason_len);
    return o + reason_len;
}

/* The capsules we read; others (GREASE, HTTP datagrams) are skipped. */
static int wt__capsule_known(uint64_t type) {
    switch (type) {
    case WT__CAPSULE_CLOSE:
    case WT__CAPSULE_DRAIN:
    case WT__CAPSULE_MAX_DATA:
    case WT__CAPSULE_MAX_STREAMS_BIDI:
    case WT__CAPSULE_MAX_STREAMS_UNI:
    case WT__CAPSULE_DATA_BLOCKED:
    case WT__CAPSULE_STREAMS_BLOCKED_BIDI:
    case WT__CAPSULE_STREAMS_BLOCKED_UNI:
    case WT__CAPSULE_MAX_STREAM_DATA:
    case WT__CAPSULE_STREAM_DATA_BLOCKED: return 1;
    }
    return 0;
}

static void wt__capsule_reader_free(wt__capsule_reader *r) {
    if (r->buf && r->buf != r->small) wt__free(r->alloc, r->buf);
    r->buf = NULL;
    r->cap = r->len = 0;
}

static int wt__capsule_feed(wt__capsule_reader *r, const uint8_t *p, size_t n, wt__capsule_fn fn, void *ctx) {
    if (!r->buf) r->buf = r->small, r->cap = sizeof r->small;
    while (n > 0) {
        size_t k, off = 0;
        wt__capsule c;
        uint64_t type, len;
        size_t a, b;
        if (r->skip) {
            k = (size_t)WT__MIN((uint64_t)n, r->skip);
            r->skip -= k, p += k, n -= k;
            continue;
        }
        k = WT__MIN(n, r->cap - r->len);
        memcpy(r->buf + r->len, p, k);
        r->len += k, p += k, n -= k;
        while (off < r->len) {
            int used;
            if (!(a = wt__varint_get(r->buf + off, r->len - off, &type))) break;
            if (!(b = wt__varint_get(r->buf + off + a, r->len - off - a, &len))) break;
            if (!wt__capsule_known(type)) {
                /* unknown (GREASE, HTTP datagrams): skip its value */
                uint64_t here = r->len - off - a - b;
                if (len <= here) {
                    off += a + b + (size_t)len;
                    continue;
                }
                r->skip = len - here;
                off = r->len;
                break;
            }
            used = wt__capsule_parse(r->buf + off, r->len - off, &c, WT__CAPSULE_MAX);
            if (used <= 0) {
                if (used < 0) return used;
                break;
            }
            /* by what the parser used: varints need not be in their shortest form */
            off += (size_t)used;
            if ((used = fn(ctx, &c)) != WT_OK) return used;
        }
        if (off) {
            memmove(r->buf + 0, r->buf + off, r->len - off);
            r->len -= off;
        }
        if (r->len == 0 && r->buf != r->small) {
            /* the long capsule is done: its buffer goes back */
            wt__free(r->alloc, r->buf);
            r->buf = r->small, r->cap = sizeof r->small;
        }
        if (r->len == r->cap) {
            /* a known capsule longer than the small buffer (a CLOSE with a
               long reason): the full-size one, for as long as it takes */
            uint8_t *big;
            if (r->cap >= WT__CAPSULE_BUF) return WT_ERR_TOO_BIG; /* cannot happen with max <= buf */
            if (!(big = (uint8_t *)wt__alloc(r->alloc, WT__CAPSULE_BUF))) return WT_ERR_NOMEM;
            memcpy(big, r->buf, r->len);
            r->buf = big, r->cap = WT__CAPSULE_BUF;
        }
    }
    return WT_OK;
}

/* ---------------------------------------------------------------- sessions */
static void wt__session_free_fields(wt_session *s) {
    const wt_allocator *a = &s->conn->ep->alloc;
    wt__hdrs_free(a, &s->req);
    wt__hdrs_free(a, &s->resp);
    wt__free(a, s->path);
    wt__free(a, s->authority);
    wt__free(a, s->origin);
    wt__free(a, s->protocol);
    wt__free(a, s->method);
    wt__free(a, s->params);
    wt__sendbuf_free(a, &s->cap_tx);
    wt__capsule_reader_free(&s->cap_rx);
    wt__free(a, s->close_reason);
    s->close_reason = NULL;
    wt__free(a, s->local_reason_buf);
    s->local_reason_buf = NULL;
    wt__alpn_free(s);
}

static void wt__session_undefer(wt_session *s) {
    if (!s->deferred) return;
    s->deferred = s->resumed = 0;
    s->conn->ep->ndeferred--;
}

static wt_session *wt__session_new(wt__conn *c, int64_t id, int server) {
    wt_session *s = (wt_session *)wt__calloc(&c->ep->alloc, sizeof *s);
    if (!s) {
        wt__clog(c, id, WT_LOG_ERROR, "out of memory for a session");
        return NULL;
    }
    s->conn = c;
    s->id = id;
    /* with workers the ID names its worker too: (n - 1) * workers + worker + 1,
       so wt_app_post finds the loop that owns it without asking them all */
    s->uid = ++c->ep->last_session_id;
    if (c->ep->nworkers > 1) s->uid = (s->uid - 1) * (uint64_t)c->ep->nworkers + c->ep->worker + 1;
    s->server = server;
    s->state = server ? WT__SESS_REQUESTED : WT__SESS_CONNECTING;
    s->next = c->wt.sessions;
    c->wt.sessions = s;
    return s;
}

static void wt__session_free(wt_session *s) {
    wt_session **pp;
    for (pp = &s->conn->wt.sessions; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    wt__session_undefer(s);
    wt__session_free_fields(s);
    wt__free(&s->conn->ep->alloc, s);
}


static wt_session *wt__session_find(wt__conn *c, uint64_t id) {
    wt_session *s;
    for (s = c->wt.sessions; s; s = s->next)
        if ((uint64_t)s->id == id && s->id >= 0) return s;
    return NULL;
}

static void wt__session_emit(wt_session *s, wt_event *ev) {
    ev->session = s;
    ev->user = s->fn_user;
    if (s->fn) wt__loop_emit(s->conn->ep->loop, s, s->fn, ev);
}

static void wt__session_on_header(wt_session *s, const char *n, size_t nl, const char *v, size_t vl) {
    const wt_allocator *a = &s->conn->ep->alloc;
    char **slot = NULL;
    if (s->bad_headers) return;
    /* every field, pseudo-headers included, is listed and counts against
       max_header_bytes; some are also kept where the code reads them */
    if (nl == 5 && !memcmp(n, ":path", 5)) slot = &s->path;
    else if (nl == 10 && !memcmp(n, ":authority", 10)) slot = &s->authority;
    else if (nl == 9 && !memcmp(n, ":protocol", 9)) slot = &s->protocol;
    else if (nl == 7 && !memcmp(n, ":method", 7)) slot = &s->method;
    else if (nl == 6 && !memcmp(n, "origin", 6)) slot = &s->origin;
    if (slot) {
        wt__free(a, *slot);
        if (!(*slot = wt__strndup(a, v, vl))) s->bad_headers = WT_ERR_NOMEM;
    }
    if (!s->bad_headers) s->bad_headers = wt__hdrs_add(a, &s->req, n, nl, v, vl, s->conn->ep->lim.max_header_bytes);
}

static void wt__session_on_response_header(wt_session *s, const char *n, size_t nl, const char *v, size_t vl) {
    const wt_allocator *a = &s->conn->ep->alloc;
    if (s->bad_headers) return;
    if (nl == 7 && !memcmp(n, ":status", 7)) {
        size_t i;
        s->status = 0;
        for (i = 0; i < vl && v[i] >= '0' && v[i] <= '9' && s->status < 1000; i++)
            s->status = s->status * 10 + (v[i] - '0');
        wt__hdrs_free(a, &s->resp); /* an interim (1xx) response's fields are not the answer */
    }
    s->bad_headers = wt__hdrs_add(a, &s->resp, n, nl, v, vl, s->conn->ep->lim.max_header_bytes);
}

static const nghttp3_data_reader wt__capsule_reader_def;

/* Sends the response: :status, the draft-02 answer on success, then what
   the handler added; s->resp becomes exactly what went out. */
static int wt__session_respond(wt_session *s, int status) {
    const wt_allocator *a = &s->conn->ep->alloc;
    wt__hdrs out, added = s->resp;
    nghttp3_nv *nv;
    char code[8];
    size_t i;
    int rv, ok = status >= 200 && status < 300;
    if (s->conn->qlog) wt__qlog_session(s, ok ? "session_accepted" : "session_refused", status);
    s->conn->wt.session_seen = 1; /* answered, one way or the other */
    s->responded = 1;
    s->status = status;
    memset(&out, 0, sizeof out);
    snprintf(code, sizeof code, "%03d", status);
    rv = wt__hdrs_add(a, &out, ":status", 7, code, 3, SIZE_MAX);
    if (rv == WT_OK && ok && s->dialect == WT_DIALECT_DRAFT02)
        rv = wt__hdrs_add(a, &out, "sec-webtransport-http3-draft", 28, "draft02", 7, SIZE_MAX);
    if (rv == WT_OK && ok) rv = wt__alpn_add_response(s, &out);
    for (i = 0; rv == WT_OK && i < added.n; i++)
        rv = wt__hdrs_add(a, &out, added.kv[2 * i], strlen(added.kv[2 * i]), added.kv[2 * i + 1],
                          strlen(added.kv[2 * i + 1]), SIZE_MAX);
    nv = rv == WT_OK ? (nghttp3_nv *)wt__alloc(a, out.n * sizeof *nv) : NULL;
    if (!nv) {
        wt__hdrs_free(a, &out);
        return wt__cfail(s->conn, s->id, WT_ERR_NOMEM, "session %lld: out of memory for the response",
                         (long long)s->id);
    }
    wt__hdrs_free(a, &s->resp);
    s->resp = out;
    for (i = 0; i < out.n; i++) {
        nv[i].name = (const uint8_t *)out.kv[2 * i], nv[i].namelen = strlen(out.kv[2 * i]);
        nv[i].value = (const uint8_t *)out.kv[2 * i + 1], nv[i].valuelen = strlen(out.kv[2 * i + 1]);
        nv[i].flags = NGHTTP3_NV_FLAG_NONE;
    }
    if (ok) {
        rv = nghttp3_conn_submit_response(s->conn->h3.conn, s->id, nv, out.n, &wt__capsule_reader_def);
    } else {
        rv = nghttp3_conn_submit_response(s->conn->h3.conn, s->id, nv, out.n, NULL);
        s->cap_fin = s->cap_fin_sent = 1;
    }
    wt__free(a, nv);
    s->conn->dirty = 1;
    if (rv != 0) return wt__cfail(s->conn, s->id, WT_ERR_H3, "nghttp3_conn_submit_response: %s", nghttp3_strerror(rv));
    return WT_OK;
}

static void wt__session_opened(wt_session *s) {
    wt_event ev;
    s->conn->wt.session_seen = 1;
    s->state = WT__SESS_OPEN;
    s->stats.sessions_opened = 1;
    s->conn->stats.sessions_opened++;
    wt__fc_session_start(s);
    if (s->conn->wt.nsessions++ == 0) wt__conn_keepalive(s->conn);
    memset(&ev, 0, sizeof ev);
    ev.type = WT_EV_SESSION_OPEN;
    wt__session_emit(s, &ev);
    if (s->state != WT__SESS_OPEN) return;
    wt__conn_adopt_pending(s->conn, s);
    if (s->state == WT__SESS_OPEN) wt__dgram_adopt_pending(s->conn, s);
}

/* Server: refuses a request its handler never hears of. When even the
   response cannot go, the stream is reset (H3_REQUEST_REJECTED: nothing
   of the request was processed). */
static void wt__session_refuse(wt_session *s, int status) {
    wt__session_undefer(s);
    s->fn = NULL;
    if (wt__session_respond(s, status) != WT_OK)
        wt__tp_shutdown(s->conn, WT__TP_BOTH, s->id, WT__H3_REQUEST_REJECTED);
    s->state = WT__SESS_CLOSED;
    wt__conn_reject_pending(s->conn, (uint64_t)s->id, WT__H3_REQUEST_CANCELLED);
}

static void wt__session_on_malformed(wt_session *s, const char *why) {
    wt__conn *c = s->conn;
    if (s->server && s->state == WT__SESS_REQUESTED && !s->responded) {
        wt__log(&c->ep->log, WT_LOG_INFO, "refusing request on stream %lld: malformed (%s)", (long long)s->id, why);
        wt__session_refuse(s, 400);
        return;
    }
    /* answered already (a bad trailer, say), or our own request's answer */
    wt__log(&c->ep->log, WT_LOG_WARN, "session %lld: malformed HTTP/3 %s from the peer (%s): resetting its stream",
            (long long)s->id, s->server ? "request" : "response", why);
    wt__tp_shutdown(c, WT__TP_BOTH, s->id, WT__H3_MESSAGE_ERROR);
    nghttp3_conn_shutdown_stream_write(c->h3.conn, s->id);
    if (!s->server) c->wt.session_seen = 1;
    wt__session_end(s, WT_ERR_PROTOCOL);
}

/* Server: a request's headers are complete. */
static void wt__session_on_request(wt_session *s, int fin) {
    wt__conn *c = s->conn;
    wt__ep *ep = c->ep;
    int is_wt = s->method && !strcmp(s->method, "CONNECT") && s->protocol &&
                (!strcmp(s->protocol, "webtransport") || !strcmp(s->protocol, "webtransport-h3"));
    if (!s->wait_settings && c->qlog) wt__qlog_session(s, "session_requested", 0);
    s->wait_settings = 0;
    if (is_wt) s->dialect = strcmp(s->protocol, "webtransport-h3") ? WT_DIALECT_DRAFT02 : WT_DIALECT_LATEST;
    if (is_wt && s->dialect == WT_DIALECT_LATEST && !c->h3.peer.seen && !s->bad_headers && !fin) {
        /* draft-16 7.1: not before the client's SETTINGS, which say
           whether session flow control applies */
        wt__clog(c, s->id, WT_LOG_DEBUG, "session %lld: waiting for the client's SETTINGS", (long long)s->id);
        s->wait_settings = 1;
        return;
    }
    wt__alpn_parse_offers(s);
    if (s->bad_headers || !is_wt || fin || !s->path || !s->authority) {
        wt__clog(c, s->id, WT_LOG_INFO, "refusing request on stream %lld: %s", (long long)s->id,
                 s->bad_headers ? "headers over the limit" : "not a WebTransport CONNECT");
        wt__session_refuse(s, s->bad_headers == WT_ERR_LIMIT ? 431 : 400);
        return;
    }
    {
        /* deferred sessions hold a place: they may all be let through */
        size_t n = c->wt.nsessions;
        wt_session *o;
        for (o = c->wt.sessions; o; o = o->next) n += o->deferred;
        if (s->dialect == WT_DIALECT_LATEST && !WT__SETTINGS_FC(&c->h3.peer) && n >= 1) {
            /* draft-16 5.1: without flow control one session per connection;
               the excess CONNECT stream is reset with H3_REQUEST_REJECTED (the
               client may retry it on a new connection) */
            wt__clog(c, s->id, WT_LOG_INFO, "refusing session on %s: a second session without flow control (reset)",
                     s->path);
            s->fn = NULL;
            wt__tp_shutdown(c, WT__TP_BOTH, s->id, WT__H3_REQUEST_REJECTED);
            s->state = WT__SESS_CLOSED;
            wt__conn_reject_pending(c, (uint64_t)s->id, WT__H3_REQUEST_CANCELLED);
            return;
        }
        if (n >= ep->lim.max_sessions || c->h3.goaway || ep->closing_all || ep->stopping) {
            wt__clog(c, s->id, WT_LOG_INFO, "refusing session on %s: 429 (%s)", s->path,
                     ep->closing_all || ep->stopping ? "the server is shutting down"
                                                     : "max_sessions reached (or GOAWAY)");
            wt__session_refuse(s, 429);
            return;
        }
    }
    ep->on_request(ep, s); /* hooks and routes, then wt__session_answer (or later) */
}

static void wt__session_answer(wt_session *s) {
    wt__conn *c = s->conn;
    if (s->state != WT__SESS_REQUESTED || s->responded) return;
    if (s->fn && !s->reject_status) {
        wt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = WT_EV_SESSION_REQUEST;
        wt__session_emit(s, &ev);
    }
    if (s->reject_status && !s->fn) {
        wt__session_refuse(s, s->reject_status); /* no handler heard of it */
        return;
    }
    if (s->reject_status) {
        wt__session_respond(s, s->reject_status);
        {
            /* the handler saw the request: it gets a CLOSED too */
            wt_event ev;
            s->state = WT__SESS_CLOSED;
            memset(&ev, 0, sizeof ev);
            ev.type = WT_EV_SESSION_CLOSED;
            ev.error = WT_ERR_REFUSED;
            ev.status = s->reject_status;
            wt__session_emit(s, &ev);
        }
        s->state = WT__SESS_CLOSED;
        s->fn = NULL;
        wt__conn_reject_pending(c, (uint64_t)s->id, WT__H3_REQUEST_CANCELLED);
        return;
    }
    if (wt__session_respond(s, s->accept_status ? s->accept_status : 200) != WT_OK) {
        wt__session_end(s, WT_ERR_H3);
        return;
    }
    wt__session_opened(s);
}

static void wt__session_on_headers_done(wt_session *s, int fin) {
    if (s->server) {
        if (s->state == WT__SESS_REQUESTED) wt__session_on_request(s, fin);
        return;
    }
    if (s->state != WT__SESS_CONNECTING) return;
    if (s->bad_headers) {
        wt__clog(s->conn, s->id, WT_LOG_WARN, "session %s: response headers over max_header_bytes (or no memory)",
                 s->path ? s->path : "");
        s->conn->wt.session_seen = 1;
        wt__tp_shutdown(s->conn, WT__TP_BOTH, s->id, WT__H3_REQUEST_CANCELLED);
        wt__session_end(s, s->bad_headers);
        return;
    }
    if (s->status >= 100 && s->status < 200) return; /* interim response */
    if (s->status >= 200 && s->status < 300 && !fin) {
        if (wt__alpn_check_response(s) != WT_OK) return;
        if (s->conn->qlog) wt__qlog_session(s, "session_accepted", s->status);
        wt__session_opened(s);
        return;
    }
    if (s->conn->qlog) wt__qlog_session(s, "session_refused", s->status);
    wt__clog(s->conn, s->id, WT_LOG_INFO, "server refused session %s with status %d", s->path ? s->path : "",
             s->status);
    s->conn->wt.session_seen = 1;
    s->cap_fin = 1;
    nghttp3_conn_resume_stream(s->conn->h3.conn, s->id);
    wt__session_end(s, WT_ERR_REFUSED);
}

static int wt__session_on_capsule(void *ctx, const wt__capsule *c) {
    wt_session *s = (wt_session *)ctx;
    if (c->type != WT__CAPSULE_CLOSE && c->type != WT__CAPSULE_DRAIN) return wt__fc_on_capsule(s, c);
    if (c->type == WT__CAPSULE_CLOSE) {
        if (c->len < 4 || c->len - 4 > WT__REASON_MAX) return WT_ERR_PROTOCOL;
        s->close_received = 1;
        s->close_code = ((uint32_t)c->value[0] << 24) | ((uint32_t)c->value[1] << 16) |
                        ((uint32_t)c->value[2] << 8) | c->value[3];
        {
            /* the connection's allocator (none in the capsule fuzzer) */
            const wt_allocator *a = s->conn->ep ? &s->conn->ep->alloc : NULL;
            wt__free(a, s->close_reason);
            s->close_reason = wt__strndup(a, (const char *)c->value + 4, c->len - 4);
            /* without memory the session still closes, with its code */
            s->close_reason_len = s->close_reason ? c->len - 4 : 0;
        }
        if (s->conn->qlog)
            wt__qlog_capsule(s, 0, c->type, s->close_code, s->close_reason ? s->close_reason : "", s->close_reason_len);
    } else if (c->type == WT__CAPSULE_DRAIN) {
        if (s->conn->qlog) wt__qlog_capsule(s, 0, c->type, 0, NULL, 0);
        wt__session_on_drain(s);
    }
    return WT_OK;
}

static void wt__session_on_drain(wt_session *s) {
    wt_event ev;
    if (s->state != WT__SESS_OPEN || s->drain_received) return;
    s->drain_received = 1;
    memset(&ev, 0, sizeof ev);
    ev.type = WT_EV_SESSION_DRAINING;
    wt__session_emit(s, &ev);
}

static void wt__session_on_body(wt_session *s, const uint8_t *p, size_t n) {
    int rv;
    if (s->state == WT__SESS_CLOSED || s->close_received) return; /* nothing may follow a CLOSE capsule */
    s->cap_rx.alloc = &s->conn->ep->alloc;
    rv = wt__capsule_feed(&s->cap_rx, p, n, wt__session_on_capsule, s);
    if (rv == WT_ERR_FLOW_CONTROL) return; /* closed already (wt__fc_error) */
    if (rv != WT_OK) {
        wt__clog(s->conn, s->id, WT_LOG_WARN, "session %lld: bad capsule (%s): closing its stream",
                 (long long)s->id, wt_strerror(rv));
        wt__tp_shutdown(s->conn, WT__TP_BOTH, s->id, WT__H3_MESSAGE_ERROR);
        wt__session_end(s, WT_ERR_PROTOCOL);
    }
}

static void wt__session_on_fin(wt_session *s) {
    if (s->state == WT__SESS_CLOSED) return;
    if (s->cap_rx.len || s->cap_rx.skip) {
        /* RFC 9297 3.3: a capsule cut short by the end of the stream makes
           the message malformed; a half close capsule is no clean close */
        wt__log(&s->conn->ep->log, WT_LOG_WARN, "session %lld: the stream ended inside a capsule: closing it",
                (long long)s->id);
        wt__tp_shutdown(s->conn, WT__TP_BOTH, s->id, WT__H3_MESSAGE_ERROR);
        wt__session_end(s, WT_ERR_PROTOCOL);
        return;
    }
    /* the peer is done: finish our side too (a bare FIN means code 0) */
    if (!s->cap_fin) {
        s->cap_fin = 1;
        nghttp3_conn_resume_stream(s->conn->h3.conn, s->id);
        s->conn->dirty = 1;
    }
    wt__session_end(s, s->state == WT__SESS_CONNECTING ? WT_ERR_REFUSED : WT_OK);
}

static void wt__session_end(wt_session *s, int error) {
    wt__conn *c = s->conn;
    wt_event ev;
    int was_open = s->state == WT__SESS_OPEN || s->state == WT__SESS_CLOSING;
    if (s->state == WT__SESS_CLOSED) return;
    s->state = WT__SESS_CLOSED;
    wt__session_undefer(s); /* no handler saw it: gone without an event */
    if (c->qlog) wt__qlog_session_closed(s, error);
    if (was_open && c->wt.nsessions > 0 && --c->wt.nsessions == 0) wt__conn_keepalive(c);
    if (was_open) {
        s->stats.sessions_closed = 1;
        c->stats.sessions_closed++;
    }
    while (s->streams) wt__stream_gone(s->streams, WT__ERR_SESSION_GONE);
    wt__conn_reject_pending(c, (uint64_t)s->id, WT__ERR_SESSION_GONE);
    if (s->server && !s->responded && !s->connect_closed && c->tp.qc && c->state <= WT__CONN_OPEN) {
        /* no response was submitted (e.g. reset inside its headers): nghttp3
           has nothing to finish, so close our side here */
        wt__tp_shutdown(c, WT__TP_WRITE, s->id, WT__H3_REQUEST_CANCELLED);
        s->cap_fin = 1;
        c->dirty = 1;
    }
    if (c->h3.conn && !s->cap_fin && !s->connect_closed && c->state <= WT__CONN_OPEN) {
        s->cap_fin = 1;
        nghttp3_conn_resume_stream(c->h3.conn, s->id);
        c->dirty = 1;
    }
    memset(&ev, 0, sizeof ev);
    ev.type = WT_EV_SESSION_CLOSED;
    ev.error = error;
    ev.status = s->server ? 0 : (error == WT_ERR_REFUSED ? s->status : 0);
    ev.code = s->close_received ? s->close_code : s->local_code;
    ev.reason = s->close_received ? s->close_reason : s->local_reason;
    ev.reason_len = s->close_received ? s->close_reason_len : s->local_reason_len;
    if (!ev.reason) ev.reason = "";
    wt__session_emit(s, &ev);
    s->fn = NULL; /* nothing more reaches the handler */
    if (c->state >= WT__CONN_CLOSING || !c->h3.conn || s->id < 0) s->connect_closed = 1;
}

/* Frees closed sessions nothing points into any more; run at safe points. */
static void wt__conn_sweep_sessions(wt__conn *c) {
    wt_session **pp = &c->wt.sessions;
    if (c->ep->loop->evq_head) return; /* a queued event may point at one */
    while (*pp) {
        wt_session *s = *pp;
        if (s->state == WT__SESS_CLOSED && s->connect_closed && !s->in_event) {
            *pp = s->next;
            wt__session_free(s); /* already unlinked: its search finds nothing */
        } else {
            pp = &s->next;
        }
    }
}

/* Every session of a connection that is going away: CLOSED events now,
   memory at the next sweep or when the connection is freed. */
static void wt__conn_end_sessions(wt__conn *c, int error) {
    wt_session *s;
    for (s = c->wt.sessions; s; s = s->next) wt__session_end(s, error);
    while (c->wt.pending) wt__stream_gone(c->wt.pending, 0);
}

static void wt__session_streams_available(wt_session *s, int bidi) {
    unsigned bit = bidi ? 2 : 1;
    wt_event ev;
    if (!(s->streams_blocked & bit)) return;
    s->streams_blocked &= ~bit;
    if (s->state != WT__SESS_OPEN) return;
    memset(&ev, 0, sizeof ev);
    ev.type = WT_EV_SESSION_STREAMS;
    ev.code = bidi ? 1 : 0;
    wt__session_emit(s, &ev);
}

static void wt__conn_streams_available(wt__conn *c, int bidi) {
    wt_session *s;
    for (s = c->wt.sessions; s; s = s->next) wt__session_streams_available(s, bidi);
}

/* ---------------------------------------------------------------- capsule sending */
static nghttp3_ssize wt__read_capsules(nghttp3_conn *h3, int64_t stream_id, nghttp3_vec *vec, size_t veccnt,
                                       uint32_t *pflags, void *cu, void *su) {
    wt_session *s = (wt_session *)su;
    ngtcp2_vec v[8];
    size_t n, i, total = 0;
    WT__UNUSED(h3), WT__UNUSED(stream_id), WT__UNUSED(cu);
    if (!s) return NGHTTP3_ERR_CALLBACK_FAILURE;
    n = wt__sendbuf_peek(&s->cap_tx, v, WT__MIN(veccnt, 8));
    for (i = 0; i < n; i++) {
        vec[i].base = v[i].base;
        vec[i].len = v[i].len;
        total += v[i].len;
    }
    wt__sendbuf_mark_sent(&s->cap_tx, total);
    if (s->cap_fin && s->cap_tx.unsent == 0) {
        *pflags |= NGHTTP3_DATA_FLAG_EOF;
        s->cap_fin_sent = 1;
        return (nghttp3_ssize)n;
    }
    if (n == 0) return NGHTTP3_ERR_WOULDBLOCK;
    return (nghttp3_ssize)n;
}

static const nghttp3_data_reader wt__capsule_reader_def = {wt__read_capsules};

static int wt__request_to_latest(wt_session *s) {
    const wt_allocator *a = &s->conn->ep->alloc;
    wt__hdrs *h = &s->req;
    size_t i = 0;
    while (i < h->n) {
        char **kv = h->kv + 2 * i;
        if (!strcmp(kv[0], ":protocol") && strcmp(kv[1], "webtransport-h3")) {
            char *v = wt__strdup(a, "webtransport-h3");
            if (!v) return WT_ERR_NOMEM;
            h->bytes = h->bytes - strlen(kv[1]) + strlen(v);
            wt__free(a, kv[1]);
            kv[1] = v;
            wt__free(a, s->protocol);
            s->protocol = wt__strdup(a, v);
        } else if (!strcmp(kv[0], "sec-webtransport-http3-draft02")) {
            h->bytes -= strlen(kv[0]) + strlen(kv[1]) + 32;
            wt__free(a, kv[0]);
            wt__free(a, kv[1]);
            memmove(kv, kv + 2, (h->n - i - 1) * 2 * sizeof *kv);
            h->n--;
            continue;
        }
        i++;
    }
    return WT_OK;
}

static int wt__session_submit_request(wt_session *s) {
    wt__conn *c = s->conn;
    nghttp3_nv *nv;
    size_t i;
    int64_t sid;
    int rv;
    /* s->req holds the whole request, built by wt_client_connect as
       draft-02; the latest dialect changes :protocol and drops the draft-02
       header */
    if (s->dialect == WT_DIALECT_LATEST && wt__request_to_latest(s) != WT_OK)
        return wt__cfail(c, -1, WT_ERR_NOMEM, "out of memory for a request");
    nv = (nghttp3_nv *)wt__alloc(&c->ep->alloc, s->req.n * sizeof *nv);
    if (!nv) return wt__cfail(c, -1, WT_ERR_NOMEM, "out of memory for a request");
    for (i = 0; i < s->req.n; i++) {
        nv[i].name = (const uint8_t *)s->req.kv[2 * i], nv[i].namelen = strlen(s->req.kv[2 * i]);
        nv[i].value = (const uint8_t *)s->req.kv[2 * i + 1], nv[i].valuelen = strlen(s->req.kv[2 * i + 1]);
        nv[i].flags = NGHTTP3_NV_FLAG_NONE;
    }
    rv = wt__tp_open(c, 1, &sid, NULL);
    if (rv != 0) {
        wt__free(&c->ep->alloc, nv);
        return wt__cfail(c, s->id, WT_ERR_LIMIT, "cannot open a CONNECT stream: %s", ngtcp2_strerror(rv));
    }
    s->id = sid;
    if (c->qlog) wt__qlog_session(s, "session_requested", 0);
    rv = nghttp3_conn_submit_request(c->h3.conn, sid, nv, s->req.n, &wt__capsule_reader_def, s);
    wt__free(&c->ep->alloc, nv);
    if (rv != 0) {
        /* nghttp3 does not know the stream: close it, nothing points here */
        wt__tp_shutdown(c, WT__TP_BOTH, sid, WT__H3_REQUEST_CANCELLED);
        s->connect_closed = 1;
        return wt__cfail(c, s->id, WT_ERR_H3, "nghttp3_conn_submit_request: %s", nghttp3_strerror(rv));
    }
    c->dirty = 1;
    return WT_OK;
}

/* The peer's SETTINGS arrived: sessions waiting for them may go. A
   client picks each session's dialect here (see DIALECTS in wt.h). */
static void wt__conn_on_peer_settings(wt__conn *c) {
    wt_session *s;
    const wt__wt_settings *p = &c->h3.peer;
    if (c->ep->server) {
        int again = 1;
        while (again) { /* a handler may add or end sessions: from the top */
            again = 0;
            for (s = c->wt.sessions; s; s = s->next)
                if (s->wait_settings && s->state == WT__SESS_REQUESTED) {
                    wt__session_on_request(s, 0);
                    again = 1;
                    break;
                }
        }
        return;
    }
    for (s = c->wt.sessions; s; s = s->next) {
        int want = c->ep->dialect;
        if (s->state != WT__SESS_CONNECTING || s->id >= 0) continue;
        if (want == WT_DIALECT_AUTO) want = p->wt_enabled ? WT_DIALECT_LATEST : WT_DIALECT_DRAFT02;
        if (!p->connect || (want == WT_DIALECT_LATEST ? !p->wt_enabled : !p->wt_draft02)) {
            wt__clog(c, s->id, WT_LOG_ERROR, "server does not offer WebTransport%s (no SETTINGS for it)",
                     c->ep->dialect == WT_DIALECT_AUTO ? "" : want == WT_DIALECT_LATEST ? " of the latest draft" : " draft-02");
            wt__session_end(s, WT_ERR_PROTOCOL);
            continue;
        }
        s->dialect = want;
        if (wt__session_submit_request(s) != WT_OK) wt__session_end(s, WT_ERR_LIMIT);
    }
}

/* ---------------------------------------------------------------- session flow control
   draft-ietf-webtrans-http3-16 section 5. Index 1 of the stream arrays is
   bidirectional, 0 unidirectional. */
static void wt__fc_send(wt_session *s, uint64_t type, uint64_t v) {
    wt__conn *c = s->conn;
    uint8_t cap[24];
    size_t n = 0;
    if (s->state != WT__SESS_OPEN || !c->h3.conn || s->connect_closed || s->cap_fin || s->send_stopped ||
        c->state != WT__CONN_OPEN)
        return;
    n += wt__varint_put(cap + n, type);
    n += wt__varint_put(cap + n, wt__varint_len(v));
    n += wt__varint_put(cap + n, v);
    if (wt__sendbuf_append(&c->ep->alloc, &s->cap_tx, cap, n) != WT_OK) {
        wt__clog(c, s->id, WT_LOG_ERROR, "session %lld: out of memory for a %s capsule", (long long)s->id,
                 wt__capsule_name(type));
        return;
    }
    nghttp3_conn_resume_stream(c->h3.conn, s->id);
    c->dirty = 1;
    if (c->qlog) wt__qlog_fc_capsule(s, 1, type, v);
}

static void wt__fc_session_start(wt_session *s) {
    wt__conn *c = s->conn;
    const wt__wt_settings *p = &c->h3.peer;
    wt__settings_offer o;
    wt__settings_offer_of(c->ep, &o);
    s->fc = s->dialect == WT_DIALECT_LATEST && p->seen && WT__SETTINGS_FC(p) &&
            (o.max_data || o.max_streams_bidi || o.max_streams_uni);
    if (!s->fc) return;
    s->fc_tx_max = p->init_max_data;
    s->fc_tx_max_streams[1] = p->init_max_streams_bidi;
    s->fc_tx_max_streams[0] = p->init_max_streams_uni;
    s->fc_rx_max = o.max_data;
    s->fc_rx_max_streams[1] = o.max_streams_bidi;
    s->fc_rx_max_streams[0] = o.max_streams_uni;
    wt__clog(c, s->id, WT_LOG_DEBUG,
             "session %lld: flow control on: peer allows %llu bytes, %llu bidi, %llu uni streams; we allow %llu, %llu, %llu",
             (long long)s->id, (unsigned long long)s->fc_tx_max, (unsigned long long)s->fc_tx_max_streams[1],
             (unsigned long long)s->fc_tx_max_streams[0], (unsigned long long)s->fc_rx_max,
             (unsigned long long)s->fc_rx_max_streams[1], (unsigned long long)s->fc_rx_max_streams[0]);
}

/* The peer broke our limits (or sent a limit that is not one): the
   session ends with WT_FLOW_CONTROL_ERROR on both directions of its
   CONNECT stream (draft-16 5.6.2, 5.6.4). */
static void wt__fc_error(wt_session *s, const char *why) {
    wt__conn *c = s->conn;
    if (s->state == WT__SESS_CLOSED) return;
    wt__clog(c, s->id, WT_LOG_WARN, "session %lld: %s: closing it with WT_FLOW_CONTROL_ERROR", (long long)s->id, why);
    if (c->tp.qc && c->state <= WT__CONN_OPEN && !s->connect_closed) {
        wt__tp_shutdown(c, WT__TP_BOTH, s->id, WT__ERR_FLOW_CONTROL);
        if (c->h3.conn) {
            nghttp3_conn_shutdown_stream_read(c->h3.conn, s->id);
            nghttp3_conn_shutdown_stream_write(c->h3.conn, s->id);
        }
        s->cap_fin = 1; /* nothing more goes on the stream */
    }
    wt__session_end(s, WT_ERR_FLOW_CONTROL);
}

static int wt__fc_rx_data(wt_session *s, wt_stream *st, uint64_t n) {
    if (!s->fc || s->state != WT__SESS_OPEN) return WT_OK;
    st->fc_rx_seen += n;
    s->fc_rx_used += n;
    if (s->fc_rx_used > s->fc_rx_max) {
        wt__fc_error(s, "the peer sent more stream data than WT_MAX_DATA allows");
        return WT_ERR_FLOW_CONTROL;
    }
    return WT_OK;
}

/* The application consumed n counted bytes: once half the window is
   used, raise the limit to a full window past what was consumed. */
static void wt__fc_rx_credit(wt_session *s, uint64_t n) {
    uint64_t window = s->conn->ep->lim.session_max_data;
    if (!s->fc || s->state != WT__SESS_OPEN) return;
    s->fc_rx_consumed += n;
    if (s->fc_rx_consumed > s->fc_rx_used) s->fc_rx_consumed = s->fc_rx_used; /* never credit twice */
    if (s->fc_rx_max - s->fc_rx_consumed > window / 2) return;
    s->fc_rx_max = s->fc_rx_consumed + window;
    s->fc_count.max_data_sent++;
    wt__fc_send(s, WT__CAPSULE_MAX_DATA, s->fc_rx_max);
}

static int wt__fc_rx_stream(wt_session *s, wt_stream *st) {
    int b = st->bidi;
    if (!s->fc || st->local || st->fc_counted) return WT_OK;
    st->fc_counted = 1;
    if (++s->fc_rx_streams[b] > s->fc_rx_max_streams[b]) {
        wt__fc_error(s, b ? "the peer opened more bidirectional streams than WT_MAX_STREAMS allows"
                          : "the peer opened more unidirectional streams than WT_MAX_STREAMS allows");
        return WT_ERR_FLOW_CONTROL;
    }
    return WT_OK;
}

static void wt__fc_rx_stream_done(wt_session *s, wt_stream *st) {
    int b = st->bidi;
    uint64_t window = b ? s->conn->ep->lim.session_max_streams_bidi : s->conn->ep->lim.session_max_streams_uni;
    if (!st->fc_counted) return;
    st->fc_counted = 0;
    s->fc_rx_streams_done[b]++;
    if (!s->fc || s->state != WT__SESS_OPEN) return;
    if (s->fc_rx_max_streams[b] - s->fc_rx_streams_done[b] > window / 2) return;
    s->fc_rx_max_streams[b] = s->fc_rx_streams_done[b] + window;
    s->fc_count.max_streams_sent++;
    wt__fc_send(s, b ? WT__CAPSULE_MAX_STREAMS_BIDI : WT__CAPSULE_MAX_STREAMS_UNI, s->fc_rx_max_streams[b]);
}

static uint64_t wt__fc_tx_room(wt_session *s) {
    if (!s || !s->fc || s->conn->ep->test_ignore_limits) return UINT64_MAX;
    return s->fc_tx_max > s->fc_tx_used ? s->fc_tx_max - s->fc_tx_used : 0;
}

static void wt__fc_tx_blocked(wt_session *s) {
    if (!s->fc || s->fc_tx_blocked_at == s->fc_tx_max + 1) return; /* once per limit */
    s->fc_tx_blocked_at = s->fc_tx_max + 1;
    s->fc_count.data_blocked_sent++;
    wt__fc_send(s, WT__CAPSULE_DATA_BLOCKED, s->fc_tx_max);
}

/* wt_session_open_stream: WT_OK, or WT_ERR_LIMIT at the peer's count. */
static int wt__fc_tx_open(wt_session *s, int bidi) {
    int b = bidi != 0;
    if (!s->fc) return WT_OK;
    if (s->fc_tx_streams[b] < s->fc_tx_max_streams[b] || s->conn->ep->test_ignore_limits) {
        s->fc_tx_streams[b]++;
        return WT_OK;
    }
    s->streams_blocked |= b ? 2 : 1; /* SESSION_STREAMS when WT_MAX_STREAMS comes */
    if (s->fc_tx_streams_blocked_at[b] != s->fc_tx_max_streams[b] + 1) {
        s->fc_tx_streams_blocked_at[b] = s->fc_tx_max_streams[b] + 1;
        s->fc_count.streams_blocked_sent++;
        wt__fc_send(s, b ? WT__CAPSULE_STREAMS_BLOCKED_BIDI : WT__CAPSULE_STREAMS_BLOCKED_UNI,
                    s->fc_tx_max_streams[b]);
    }
    return WT_ERR_LIMIT;
}

/* More credit (WT_MAX_DATA, or a reset gave some back): streams whose
   sending waited go on, and those whose write it cut short hear WRITABLE. */
static void wt__fc_wake_writers(wt_session *s) {
    wt_stream *st, *next;
    for (st = s->streams; st; st = st->next)
        if (st->fc_blocked) {
            st->fc_blocked = 0;
            wt__stream_queue_send(st);
        }
    for (st = s->streams; st && s->state == WT__SESS_OPEN; st = next) {
        next = st->next;
        if (!st->fc_wait) continue;
        st->fc_wait = 0;
        wt__stream_check_writable(st);
    }
}

/* The send path: how many of the n bytes st offers (its header first)
   the session's credit lets go now; 0 blocks it until more comes. */
static size_t wt__fc_tx_allow(wt_stream *st, size_t n) {
    wt_session *s = st->sess;
    uint64_t credit, allow;
    if (!s || !s->fc || s->conn->ep->test_ignore_limits) return n;
    credit = s->fc_tx_max > s->fc_tx_sent ? s->fc_tx_max - s->fc_tx_sent : 0;
    allow = st->tx_hdr_left + credit;
    if (allow >= n) return n;
    wt__fc_tx_blocked(s);
    if (allow == 0) st->fc_blocked = 1;
    return (size_t)allow;
}

static int wt__fc_on_capsule(wt_session *s, const wt__capsule *c) {
    uint64_t v = 0;
    int b;
    if (c->type == WT__CAPSULE_MAX_STREAM_DATA || c->type == WT__CAPSULE_STREAM_DATA_BLOCKED) {
        if (s->conn->qlog) wt__qlog_fc_capsule(s, 0, c->type, 0);
        if (s->dialect != WT_DIALECT_LATEST) return WT_OK; /* not of its dialect: skipped */
        wt__fc_error(s, "a WebTransport-over-HTTP/2 per-stream capsule, prohibited over HTTP/3");
        return WT_ERR_FLOW_CONTROL;
    }
    if (wt__varint_get(c->value, c->len, &v) != c->len) return WT_ERR_PROTOCOL; /* one varint, nothing more */
    if (s->conn->qlog) wt__qlog_fc_capsule(s, 0, c->type, v);
    if (!s->fc) return WT_OK; /* draft-16 5.1: ignored without flow control */
    switch (c->type) {
    case WT__CAPSULE_MAX_DATA:
        s->fc_count.max_data_received++;
        if (v <= s->fc_tx_max) {
            wt__fc_error(s, "WT_MAX_DATA did not raise the limit");
            return WT_ERR_FLOW_CONTROL;
        }
        s->fc_tx_max = v;
        wt__fc_wake_writers(s);
        break;
    case WT__CAPSULE_MAX_STREAMS_BIDI:
    case WT__CAPSULE_MAX_STREAMS_UNI:
        b = c->type == WT__CAPSULE_MAX_STREAMS_BIDI;
        s->fc_count.max_streams_received++;
        if (v > WT__MAX_STREAMS_LIMIT || v <= s->fc_tx_max_streams[b]) {
            wt__fc_error(s, "WT_MAX_STREAMS above 2^60 or not raising the limit");
            return WT_ERR_FLOW_CONTROL;
        }
        s->fc_tx_max_streams[b] = v;
        wt__session_streams_available(s, b);
        break;
    case WT__CAPSULE_DATA_BLOCKED:
        s->fc_count.data_blocked_received++;
        wt__clog(s->conn, s->id, WT_LOG_DEBUG, "session %lld: the peer is blocked by our WT_MAX_DATA %llu",
                 (long long)s->id, (unsigned long long)v);
        break;
    case WT__CAPSULE_STREAMS_BLOCKED_BIDI:
    case WT__CAPSULE_STREAMS_BLOCKED_UNI:
        s->fc_count.streams_blocked_received++;
        if (v > WT__MAX_STREAMS_LIMIT) {
            wt__fc_error(s, "WT_STREAMS_BLOCKED above 2^60");
            return WT_ERR_FLOW_CONTROL;
        }
        wt__clog(s->conn, s->id, WT_LOG_DEBUG, "session %lld: the peer is blocked by our WT_MAX_STREAMS %llu",
                 (long long)s->id, (unsigned long long)v);
        break;
    }
    return s->state != WT__SESS_CLOSED ? WT_OK : WT_ERR_FLOW_CONTROL; /* a handler may have closed it */
}

/* ---------------------------------------------------------------- public API */
int wt_session_dialect(const wt_session *s) { return s ? s->dialect : 0; }
int wt_session_flow_control(const wt_session *s) { return s ? s->fc : 0; }
uint64_t wt_session_id(const wt_session *s) { return s ? s->uid : 0; }

int wt_session_worker(const wt_session *s) { return s && s->server ? s->conn->ep->worker : 0; }

static wt_session *wt__ep_find_session(wt__ep *ep, uint64_t session_id) {
    wt__conn *c;
    wt_session *s;
    for (c = ep->conns; c; c = c->next)
        for (s = c->wt.sessions; s; s = s->next)
            if (s->uid == session_id) return s->state == WT__SESS_CLOSED ? NULL : s;
    return NULL;
}
int64_t wt_session_stream_id(const wt_session *s) { return s ? s->id : -1; }
const char *wt_session_path(const wt_session *s) { return s && s->path ? s->path : ""; }
const char *wt_session_authority(const wt_session *s) { return s && s->authority ? s->authority : ""; }
const char *wt_session_origin(const wt_session *s) { return s && s->origin ? s->origin : ""; }
int wt_session_is_server(const wt_session *s) { return s ? s->server : 0; }
void wt_session_set_user(wt_session *s, void *user) {
    if (s) s->user = user;
}
void *wt_session_user(const wt_session *s) { return s ? s->user : NULL; }
size_t wt_session_header_count(const wt_session *s) { return s ? s->req.n : 0; }
size_t wt_session_response_header_count(const wt_session *s) { return s ? s->resp.n : 0; }

const char *wt_session_header(const wt_session *s, const char *name) {
    return s && name ? wt__hdrs_get(&s->req, name) : NULL;
}

const char *wt_session_response_header(const wt_session *s, const char *name) {
    return s && name ? wt__hdrs_get(&s->resp, name) : NULL;
}

static int wt__hdrs_at(const wt_session *s, const wt__hdrs *h, size_t i, const char **name, const char **value) {
    if (i >= h->n)
        return wt__cfail_at(s->conn, s->id, WT_LOG_DEBUG, WT_ERR_NOT_FOUND, "header list: no field %zu", i);
    if (name) *name = h->kv[2 * i];
    if (value) *value = h->kv[2 * i + 1];
    return WT_OK;
}

int wt_session_header_at(const wt_session *s, size_t i, const char **name, const char **value) {
    return s ? wt__hdrs_at(s, &s->req, i, name, value) : wt__fail(NULL, WT_ERR_INVALID, "wt_session_header_at: no session");
}

int wt_session_response_header_at(const wt_session *s, size_t i, const char **name, const char **value) {
    return s ? wt__hdrs_at(s, &s->resp, i, name, value)
             : wt__fail(NULL, WT_ERR_INVALID, "wt_session_response_header_at: no session");
}

int wt_session_remote_addr(const wt_session *s, char *buf, size_t size) {
    char ip[INET6_ADDRSTRLEN];
    const struct sockaddr_storage *a;
    int port;
    if (!s || !buf || !size)
        return wt__fail(s ? &s->conn->ep->log : NULL, WT_ERR_INVALID, "wt_session_remote_addr: no session or buffer");
    a = &s->conn->tp.remote;
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof ip);
        port = ntohs(a6->sin6_port);
        return snprintf(buf, size, "[%s]:%d", ip, port);
    }
    inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, ip, sizeof ip);
    port = ntohs(((const struct sockaddr_in *)a)->sin_port);
    return snprintf(buf, size, "%s:%d", ip, port);
}

/* Only a server may shape the answer (its hooks, its handler), and only before it goes. */
static int wt__session_answering(wt_session *s, const char *what) {
    if (!s) return wt__fail(NULL, WT_ERR_INVALID, "%s: no session", what);
    if (!s->server || s->state != WT__SESS_REQUESTED)
        return wt__cfail(s->conn, s->id, WT_ERR_STATE,
                         "%s: only a server, before its answer (accept hooks, deferred, WT_EV_SESSION_REQUEST)", what);
    return WT_OK;
}

int wt_session_accept(wt_session *s, int status) {
    int rv = wt__session_answering(s, "wt_session_accept");
    if (rv) return rv;
    if (status == 0) status = 200;
    if (status < 200 || status > 299)
        return wt__cfail(s->conn, s->id, WT_ERR_INVALID, "wt_session_accept: status %d is not 200-299", status);
    s->accept_status = status;
    s->reject_status = 0;
    return WT_OK;
}

int wt_session_reject(wt_session *s, int status) {
    int rv = wt__session_answering(s, "wt_session_reject");
    if (rv) return rv;
    if (status < 300 || status > 599)
        return wt__cfail(s->conn, s->id, WT_ERR_INVALID, "wt_session_reject: status %d is not 300-599", status);
    s->reject_status = status;
    if (s->deferred) s->conn->ep->wake_ms = 0; /* no need to wait for wt_app_resume */
    return WT_OK;
}

/* A field name HTTP/3 allows (RFC 9110 token, lower case) and a value
   without CR, LF or NUL (RFC 9114 4.2). */
static int wt__field_ok(const char *name, const char *value) {
    const char *p;
    if (!*name) return 0;
    for (p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("!#$%&'*+-.^_`|~", *p))) return 0;
    for (p = value; *p; p++)
        if (*p == '\r' || *p == '\n') return 0;
    return 1;
}

int wt_session_add_response_header(wt_session *s, const char *name, const char *value) {
    int rv = wt__session_answering(s, "wt_session_add_response_header");
    if (rv) return rv;
    if (!name || !value || !wt__field_ok(name, value))
        return wt__cfail(s->conn, s->id, WT_ERR_INVALID,
                         "wt_session_add_response_header: \"%s\" is not a lower-case field name with a one-line value",
                         name ? name : "(null)");
    {
        /* set by wt.h (wt-protocol: wt_session_set_protocol), or
           connection-specific fields HTTP/3 forbids (RFC 9114 4.2); a
           CONNECT response has no content-length */
        static const char *const banned[] = {"sec-webtransport-http3-draft", "wt-protocol", "connection",
                                             "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
                                             "te", "content-length"};
        size_t i;
        for (i = 0; i < WT__COUNTOF(banned); i++)
            if (!strcmp(name, banned[i]))
                return wt__cfail(s->conn, s->id, WT_ERR_INVALID,
                                 "wt_session_add_response_header: %s is not allowed in a WebTransport response", name);
    }
    rv = wt__hdrs_add(&s->conn->ep->alloc, &s->resp, name, strlen(name), value, strlen(value),
                      s->conn->ep->lim.max_header_bytes);
    if (rv) return wt__cfail(s->conn, s->id, rv, "wt_session_add_response_header: %s",
                             rv == WT_ERR_LIMIT ? "over max_header_bytes" : "out of memory");
    return WT_OK;
}

int wt_session_close_connection(wt_session *s, uint64_t h3_code, const char *reason) {
    size_t rlen = reason ? strlen(reason) : 0;
    if (!s) return WT_ERR_INVALID;
    if (h3_code > WT__VARINT_MAX)
        return wt__cfail(s->conn, s->id, WT_ERR_INVALID, "wt_session_close_connection: code above 2^62-1");
    if (rlen > WT__REASON_MAX)
        return wt__cfail(s->conn, s->id, WT_ERR_TOO_BIG, "wt_session_close_connection: reason of %zu bytes (1024 at most)",
                         rlen);
    if (s->conn->state >= WT__CONN_CLOSING || !s->conn->tp.qc)
        return wt__cfail(s->conn, s->id, WT_ERR_CLOSED, "wt_session_close_connection: the connection is closing already");
    wt__clog(s->conn, s->id, WT_LOG_INFO, "closing the connection of session %lld with HTTP/3 code 0x%llx",
             (long long)s->id, (unsigned long long)h3_code);
    wt__conn_close(s->conn, h3_code, reason ? reason : "");
    return WT_OK;
}

int wt_session_close(wt_session *s, uint32_t code, const char *reason) {
    uint8_t cap[WT__REASON_MAX + 32];
    size_t rlen = reason ? strlen(reason) : 0, n;
    wt__conn *c;
    int rv;
    if (!s) return wt__fail(NULL, WT_ERR_INVALID, "wt_session_close: no session");
    c = s->conn;
    if (rlen > WT__REASON_MAX)
        return wt__cfail(c, s->id, WT_ERR_TOO_BIG, "wt_session_close: reason of %zu bytes (1024 at most)", rlen);
    if (s->state == WT__SESS_CLOSED)
        return wt__cfail_at(c, s->id, WT_LOG_DEBUG, WT_ERR_CLOSED, "wt_session_close: closed already");
    if (s->state == WT__SESS_REQUESTED) return wt_session_reject(s, 404);
    if (s->state == WT__SESS_OPEN && c->h3.conn && c->state == WT__CONN_OPEN && !s->connect_closed && !s->send_stopped) {
        n = wt__capsule_close(cap, code, reason, rlen);
        if ((rv = wt__sendbuf_append(&c->ep->alloc, &s->cap_tx, cap, n)) != WT_OK)
            return wt__cfail(c, s->id, rv, "wt_session_close: out of memory");
        s->cap_fin = 1;
        nghttp3_conn_resume_stream(c->h3.conn, s->id);
        c->dirty = 1;
        if (c->qlog) wt__qlog_capsule(s, 1, WT__CAPSULE_CLOSE, code, reason, rlen);
    }
    s->local_code = code;
    wt__free(&c->ep->alloc, s->local_reason_buf);
    s->local_reason_buf = wt__strndup(&c->ep->alloc, reason ? reason : "", rlen);
    s->local_reason = s->local_reason_buf ? s->local_reason_buf : "";
    s->local_reason_len = s->local_reason_buf ? rlen : 0;
    wt__session_end(s, WT_OK);
    return WT_OK;
}

int wt_session_drain(wt_session *s) {
    uint8_t cap[16];
    size_t n = 0;
    int rv;
    if (!s) return wt__fail(NULL, WT_ERR_INVALID, "wt_session_drain: no session");
    if (s->state != WT__SESS_OPEN || !s->conn->h3.conn || s->connect_closed || s->cap_fin || s->send_stopped)
        return wt__cfail(s->conn, s->id, WT_ERR_STATE, "wt_session_drain: the session is not open for sending");
    n += wt__varint_put(cap, WT__CAPSULE_DRAIN);
    n += wt__varint_put(cap + n, 0);
    if ((rv = wt__sendbuf_append(&s->conn->ep->alloc, &s->cap_tx, cap, n)) != WT_OK)
        return wt__cfail(s->conn, s->id, rv, "wt_session_drain: out of memory");
    nghttp3_conn_resume_stream(s->conn->h3.conn, s->id);
    s->conn->dirty = 1;
    if (s->conn->qlog) wt__qlog_capsule(s, 1, WT__CAPSULE_DRAIN, 0, NULL, 0);
    return WT_OK;
}

const char *wt_event_name(wt_event_type type) {
    switch (type) {
    case WT_EV_SESSION_REQUEST: return "SESSION_REQUEST";
    case WT_EV_SESSION_OPEN: return "SESSION_OPEN";
    case WT_EV_SESSION_DRAINING: return "SESSION_DRAINING";
    case WT_EV_SESSION_CLOSED: return "SESSION_CLOSED";
    case WT_EV_STREAM_OPEN: return "STREAM_OPEN";
    case WT_EV_STREAM_DATA: return "STREAM_DATA";
    case WT_EV_STREAM_WRITABLE: return "STREAM_WRITABLE";
    case WT_EV_STREAM_RESET: return "STREAM_RESET";
    case WT_EV_STREAM_STOP_SENDING: return "STREAM_STOP_SENDING";
    case WT_EV_STREAM_CLOSED: return "STREAM_CLOSED";
    case WT_EV_DATAGRAM: return "DATAGRAM";
    case WT_EV_DATAGRAM_WRITABLE: return "DATAGRAM_WRITABLE";
    case WT_EV_SESSION_STREAMS: return "SESSION_STREAMS";
    }
    return "UNKNOWN";
}
