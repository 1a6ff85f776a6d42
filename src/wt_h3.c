/* wt_h3.c - HTTP/3 on nghttp3, and what nghttp3 cannot do for WebTransport:
   SETTINGS it does not know, streams it must never see, error codes. */
#include "wt_internal.h"

/* ---------------------------------------------------------------- error codes */
uint64_t wt_code_to_h3(uint32_t code) {
    return WT__H3_CODE_FIRST + code + code / 0x1e;
}

int64_t wt_h3_to_code(uint64_t h3) {
    uint64_t s;
    if (h3 < WT__H3_CODE_FIRST || h3 > WT__H3_CODE_LAST) return -1;
    if ((h3 - 0x21) % 0x1f == 0) return -1; /* a reserved (GREASE) codepoint */
    s = h3 - WT__H3_CODE_FIRST;
    return (int64_t)(s - s / 0x1f);
}

/* ---------------------------------------------------------------- SETTINGS */
static int wt__settings_parse(const uint8_t *p, size_t n, wt__wt_settings *out) {
    size_t off = 0;
    memset(out, 0, sizeof *out);
    out->seen = 1;
    while (off < n) {
        uint64_t id, val;
        size_t k = wt__varint_get(p + off, n - off, &id), k2;
        if (!k) return WT_ERR_PROTOCOL;
        k2 = wt__varint_get(p + off + k, n - off - k, &val);
        if (!k2) return WT_ERR_PROTOCOL;
        off += k + k2;
        switch (id) {
        case WT__H3_SETTINGS_ENABLE_CONNECT: out->connect = val == 1; break;
        case WT__H3_SETTINGS_H3_DATAGRAM:
        case WT__H3_SETTINGS_H3_DATAGRAM_DRAFT04: out->datagram |= val == 1; break;
        case WT__H3_SETTINGS_WT_ENABLE_DRAFT02: out->wt_draft02 = val == 1; break;
        case WT__H3_SETTINGS_WT_ENABLED: out->wt_enabled = val == 1; break;
        case WT__H3_SETTINGS_WT_MAX_SESSIONS: out->max_sessions = val; break;
        case WT__H3_SETTINGS_WT_INITIAL_MAX_DATA: out->init_max_data = val; break;
        case WT__H3_SETTINGS_WT_INITIAL_MAX_STREAMS_BIDI: out->init_max_streams_bidi = val; break;
        case WT__H3_SETTINGS_WT_INITIAL_MAX_STREAMS_UNI: out->init_max_streams_uni = val; break;
        default: break; /* unknown and GREASE settings are ignored */
        }
    }
    return WT_OK;
}

/* A server offers the superset, so draft-02 browsers, Safari and
   current-draft clients all find what they look for; a client what its
   dialect asks (auto: both enables and its flow-control limits). */
static void wt__settings_offer_of(const wt__ep *ep, wt__settings_offer *o) {
    memset(o, 0, sizeof *o);
    o->draft02 = ep->server || ep->dialect != WT_DIALECT_LATEST;
    o->latest = ep->server || ep->dialect != WT_DIALECT_DRAFT02;
    if (ep->server) o->max_sessions = ep->lim.max_sessions;
    if (o->latest) {
        o->max_data = ep->lim.session_max_data;
        o->max_streams_bidi = ep->lim.session_max_streams_bidi;
        o->max_streams_uni = ep->lim.session_max_streams_uni;
    }
}

static int wt__settings_inject(const uint8_t *in, size_t n, uint8_t *out, size_t outcap, size_t *consumed,
                        const wt__settings_offer *offer) {
    uint64_t stype, ftype, flen;
    size_t a, b, c, hdr, o = 0, extra_len = 0, i;
    uint8_t extra[128];
    uint64_t pairs[16];
    size_t npairs = 0;

    if (!(a = wt__varint_get(in, n, &stype))) return 0;
    if (!(b = wt__varint_get(in + a, n - a, &ftype))) return 0;
    if (!(c = wt__varint_get(in + a + b, n - a - b, &flen))) return 0;
    if (stype != 0x00 || ftype != 0x04) return WT_ERR_H3; /* not a control stream */
    hdr = a + b + c;
    if (n - hdr < flen) return 0;
    /* nghttp3 wrote 0x08 (server) and 0x33; the older datagram setting
       goes to everyone, the rest as offered */
    if (offer->draft02) pairs[npairs++] = WT__H3_SETTINGS_WT_ENABLE_DRAFT02, pairs[npairs++] = 1;
    pairs[npairs++] = WT__H3_SETTINGS_H3_DATAGRAM_DRAFT04, pairs[npairs++] = 1;
    if (offer->max_sessions)
        pairs[npairs++] = WT__H3_SETTINGS_WT_MAX_SESSIONS, pairs[npairs++] = offer->max_sessions;
    if (offer->latest) pairs[npairs++] = WT__H3_SETTINGS_WT_ENABLED, pairs[npairs++] = 1;
    if (offer->max_data) pairs[npairs++] = WT__H3_SETTINGS_WT_INITIAL_MAX_DATA, pairs[npairs++] = offer->max_data;
    if (offer->max_streams_uni)
        pairs[npairs++] = WT__H3_SETTINGS_WT_INITIAL_MAX_STREAMS_UNI, pairs[npairs++] = offer->max_streams_uni;
    if (offer->max_streams_bidi)
        pairs[npairs++] = WT__H3_SETTINGS_WT_INITIAL_MAX_STREAMS_BIDI, pairs[npairs++] = offer->max_streams_bidi;
    for (i = 0; i < npairs; i++) extra_len += wt__varint_put(extra + extra_len, pairs[i]);
    if (outcap < 1 + 1 + 8 + flen + extra_len) return WT_ERR_TOO_BIG;
    o += wt__varint_put(out + o, 0x00);
    o += wt__varint_put(out + o, 0x04);
    o += wt__varint_put(out + o, flen + extra_len);
    memcpy(out + o, in + hdr, flen);
    o += flen;
    memcpy(out + o, extra, extra_len);
    o += extra_len;
    *consumed = hdr + flen;
    return (int)o;
}

/* ---------------------------------------------------------------- demultiplexer */
static int wt__demux(const uint8_t *p, size_t n, int bidi, uint64_t *session_id, size_t *hdr_len) {
    uint64_t type;
    size_t a = wt__varint_get(p, n, &type), b;
    if (!a) return WT__DEMUX_MORE;
    if ((bidi && type == WT__STREAM_TYPE_BIDI) || (!bidi && type == WT__STREAM_TYPE_UNI)) {
        if (!(b = wt__varint_get(p + a, n - a, session_id))) return WT__DEMUX_MORE;
        *hdr_len = a + b;
        return WT__DEMUX_WT;
    }
    if (!bidi && type == 0x00) return WT__DEMUX_CTRL;
    return WT__DEMUX_H3;
}

/* ---------------------------------------------------------------- stream kinds
   ngtcp2 keeps one user pointer per stream; besides wt_stream objects these
   markers say what a stream is. NULL on a peer stream: not classified yet. */
static char wt__mark_h3, wt__mark_ctrl, wt__mark_dead;
#define WT__H3_STREAM ((void *)&wt__mark_h3)
#define WT__CTRL_STREAM ((void *)&wt__mark_ctrl)
#define WT__DEAD_STREAM ((void *)&wt__mark_dead)

static int wt__is_wt_stream(void *u) {
    return u && u != WT__H3_STREAM && u != WT__CTRL_STREAM && u != WT__DEAD_STREAM;
}

static void *wt__dead_stream_marker(void) { return WT__DEAD_STREAM; }

/* ---------------------------------------------------------------- nghttp3 callbacks */
static int wt__h3_acked_stream_data(nghttp3_conn *h3, int64_t stream_id, uint64_t n, void *cu, void *su) {
    wt_session *s = (wt_session *)su;
    WT__UNUSED(h3), WT__UNUSED(stream_id), WT__UNUSED(cu);
    if (s) wt__sendbuf_ack(&s->conn->ep->alloc, &s->cap_tx, (size_t)n);
    return 0;
}

static int wt__h3_stream_close(nghttp3_conn *h3, int64_t stream_id, uint64_t code, void *cu, void *su) {
    wt_session *s = (wt_session *)su;
    WT__UNUSED(h3), WT__UNUSED(stream_id), WT__UNUSED(cu), WT__UNUSED(code);
    if (s) {
        s->connect_closed = 1;
        if (s->state != WT__SESS_CLOSED) wt__session_end(s, s->close_received ? WT_OK : WT_ERR_CLOSED);
        /* freed by the next sweep (wt__conn_sweep_sessions), outside nghttp3 */
    }
    return 0;
}

static int wt__h3_recv_data(nghttp3_conn *h3, int64_t stream_id, const uint8_t *data, size_t len, void *cu,
                            void *su) {
    wt__conn *c = (wt__conn *)cu;
    WT__UNUSED(h3);
    c->h3.rx_body += len;
    if (su) wt__session_on_body((wt_session *)su, data, len);
    wt__conn_consumed(c, stream_id, len);
    return 0;
}

static int wt__h3_deferred_consume(nghttp3_conn *h3, int64_t stream_id, size_t n, void *cu, void *su) {
    WT__UNUSED(h3), WT__UNUSED(su);
    wt__conn_consumed((wt__conn *)cu, stream_id, n);
    return 0;
}

static int wt__h3_begin_headers(nghttp3_conn *h3, int64_t stream_id, void *cu, void *su) {
    wt__conn *c = (wt__conn *)cu;
    wt_session *s;
    if (!c->ep->server || su) return 0; /* client: the session exists already */
    if (stream_id > c->h3.max_seen_request) c->h3.max_seen_request = stream_id;
    s = wt__session_new(c, stream_id, 1);
    if (!s) return NGHTTP3_ERR_CALLBACK_FAILURE;
    nghttp3_conn_set_stream_user_data(h3, stream_id, s);
    return 0;
}

static int wt__h3_recv_header(nghttp3_conn *h3, int64_t stream_id, int32_t token, nghttp3_rcbuf *name,
                              nghttp3_rcbuf *value, uint8_t flags, void *cu, void *su) {
    nghttp3_vec n = nghttp3_rcbuf_get_buf(name), v = nghttp3_rcbuf_get_buf(value);
    wt_session *s = (wt_session *)su;
    WT__UNUSED(h3), WT__UNUSED(stream_id), WT__UNUSED(token), WT__UNUSED(flags), WT__UNUSED(cu);
    if (s && s->server) wt__session_on_header(s, (const char *)n.base, n.len, (const char *)v.base, v.len);
    else if (s) wt__session_on_response_header(s, (const char *)n.base, n.len, (const char *)v.base, v.len);
    return 0;
}

static int wt__h3_end_headers(nghttp3_conn *h3, int64_t stream_id, int fin, void *cu, void *su) {
    WT__UNUSED(h3), WT__UNUSED(stream_id), WT__UNUSED(cu);
    if (su) wt__session_on_headers_done((wt_session *)su, fin);
    return 0;
}

static int wt__h3_end_stream(nghttp3_conn *h3, int64_t stream_id, void *cu, void *su) {
    WT__UNUSED(h3), WT__UNUSED(stream_id), WT__UNUSED(cu);
    if (su) wt__session_on_fin((wt_session *)su);
    return 0;
}

static int wt__h3_stop_sending(nghttp3_conn *h3, int64_t stream_id, uint64_t code, void *cu, void *su) {
    wt__conn *c = (wt__conn *)cu;
    WT__UNUSED(h3), WT__UNUSED(su);
    wt__tp_shutdown(c, WT__TP_READ, stream_id, code);
    return 0;
}

static int wt__h3_reset_stream(nghttp3_conn *h3, int64_t stream_id, uint64_t code, void *cu, void *su) {
    wt__conn *c = (wt__conn *)cu;
    WT__UNUSED(h3);
    if (code == WT__H3_MESSAGE_ERROR && su) {
        /* nghttp3 < 1.11 found a malformed message: its stop_sending came
           first; the answer (a 400 needs this side) once the read returns */
        ((wt_session *)su)->malformed = 1;
        c->h3.malformed = 1;
        return 0;
    }
    wt__tp_shutdown(c, WT__TP_WRITE, stream_id, code);
    return 0;
}

static int wt__h3_shutdown(nghttp3_conn *h3, int64_t id, void *cu) {
    wt__conn *c = (wt__conn *)cu;
    wt_session *s;
    WT__UNUSED(h3), WT__UNUSED(id);
    /* GOAWAY: every session is asked to drain */
    c->h3.goaway = 1;
    for (s = c->wt.sessions; s; s = s->next) wt__session_on_drain(s);
    return 0;
}

static int wt__h3_init(wt__conn *c) {
    nghttp3_callbacks cb;
    nghttp3_settings s;
    int64_t ctrl, qenc, qdec;
    int rv;
    memset(&cb, 0, sizeof cb);
    cb.acked_stream_data = wt__h3_acked_stream_data;
    cb.stream_close = wt__h3_stream_close;
    cb.recv_data = wt__h3_recv_data;
    cb.deferred_consume = wt__h3_deferred_consume;
    cb.begin_headers = wt__h3_begin_headers;
    cb.recv_header = wt__h3_recv_header;
    cb.end_headers = wt__h3_end_headers;
    cb.end_stream = wt__h3_end_stream;
    cb.stop_sending = wt__h3_stop_sending;
    cb.reset_stream = wt__h3_reset_stream;
    cb.shutdown = wt__h3_shutdown;
    nghttp3_settings_default(&s);
    /* what the peer's encoder may put in our decoder (wt_limits.qpack_table):
       none by default, an idle connection keeps no table */
    s.qpack_max_dtable_capacity = c->ep->lim.qpack_table;
    s.qpack_blocked_streams = c->ep->lim.qpack_table ? 100 : 0;
    s.max_field_section_size = c->ep->lim.max_header_bytes;
    s.enable_connect_protocol = (uint8_t)c->ep->server;
    s.h3_datagram = 1;
    if (c->ep->server) rv = nghttp3_conn_server_new(&c->h3.conn, &cb, &s, &c->ep->h3mem, c);
    else rv = nghttp3_conn_client_new(&c->h3.conn, &cb, &s, &c->ep->h3mem, c);
    if (rv != 0) return wt__cfail(c, -1, WT_ERR_H3, "nghttp3_conn_new: %s", nghttp3_strerror(rv));
    if (c->ep->server) nghttp3_conn_set_max_client_streams_bidi(c->h3.conn, c->ep->lim.max_streams_bidi);
    if (wt__tp_open(c, 0, &ctrl, WT__H3_STREAM) != 0 ||
        wt__tp_open(c, 0, &qenc, WT__H3_STREAM) != 0 ||
        wt__tp_open(c, 0, &qdec, WT__H3_STREAM) != 0)
        return wt__cfail(c, -1, WT_ERR_QUIC, "cannot open the HTTP/3 control streams");
    if ((rv = nghttp3_conn_bind_control_stream(c->h3.conn, ctrl)) != 0 ||
        (rv = nghttp3_conn_bind_qpack_streams(c->h3.conn, qenc, qdec)) != 0)
        return wt__cfail(c, -1, WT_ERR_H3, "nghttp3 bind: %s", nghttp3_strerror(rv));
    c->h3.ctrl_id = ctrl;
    c->dirty = 1;
    return WT_OK;
}

/* ---------------------------------------------------------------- incoming data */
/* RFC 9114 4.1.2: a malformed request or response (a field nghttp3's HTTP
   checks refuse, a content-length that does not match) is an error of its
   stream alone. nghttp3 up to 1.10 resets such a stream itself through the
   stop_sending and reset_stream callbacks (see wt__h3_reset_stream); from
   1.11 on nghttp3_conn_read_stream returns the error and calls it one of
   the connection, but nghttp3 is still whole: the error comes before the
   stream's state moves on, and a stream shut for reading is never parsed
   again. So: stop reading (QPACK hears of it: the peer may drop its
   references), stop the peer (STOP_SENDING), and let the session answer. */
static void wt__h3_message_error(wt__conn *c, int64_t stream_id, const char *why) {
    wt_session *s = wt__session_find(c, (uint64_t)stream_id);
    int rv = nghttp3_conn_shutdown_stream_read(c->h3.conn, stream_id);
    if (rv != 0) {
        wt__tp_close_error(c, WT__H3_INTERNAL_ERROR);
        wt__conn_fail(c, WT_ERR_H3, "nghttp3_conn_shutdown_stream_read failed");
        return;
    }
    wt__tp_shutdown(c, WT__TP_READ, stream_id, WT__H3_MESSAGE_ERROR);
    if (s) {
        wt__session_on_malformed(s, why);
        return;
    }
    wt__log(&c->ep->log, WT_LOG_INFO, "stream %lld: malformed HTTP/3 message (%s): reset", (long long)stream_id, why);
    wt__tp_shutdown(c, WT__TP_WRITE, stream_id, WT__H3_MESSAGE_ERROR);
    nghttp3_conn_shutdown_stream_write(c->h3.conn, stream_id);
}

/* nghttp3 < 1.11: the streams its read found malformed. */
static void wt__h3_old_malformed(wt__conn *c) {
    wt_session *s;
    c->h3.malformed = 0;
    for (;;) {
        /* from the top each time: a handler may have added sessions */
        for (s = c->wt.sessions; s && !s->malformed; s = s->next) continue;
        if (!s) return;
        s->malformed = 0;
        wt__h3_message_error(c, s->id, "malformed header field");
    }
}

static int wt__h3_read(wt__conn *c, int64_t stream_id, const uint8_t *data, size_t len, int fin) {
    nghttp3_ssize n;
    if (!c->h3.conn) return WT_OK;
    c->h3.rx_body = 0;
    n = nghttp3_conn_read_stream(c->h3.conn, stream_id, data, len, fin);
    if ((n == NGHTTP3_ERR_MALFORMED_HTTP_HEADER || n == NGHTTP3_ERR_MALFORMED_HTTP_MESSAGING) &&
        (stream_id & 3) == 0) {
        /* a request stream: about that stream alone (a header section
           QPACK held back surfaces on the encoder stream instead) */
        wt__h3_message_error(c, stream_id, nghttp3_strerror((int)n));
        /* nothing more of this chunk is read: give back all the DATA
           payload did not (that went through wt__h3_recv_data) */
        n = (nghttp3_ssize)(len - WT__MIN(len, c->h3.rx_body));
    }
    if (n < 0) {
        wt__clog(c, -1, WT_LOG_WARN, "HTTP/3 error on stream %lld: %s", (long long)stream_id,
                 nghttp3_strerror((int)n));
        wt__tp_close_error(c, nghttp3_err_infer_quic_app_error_code((int)n));
        wt__conn_fail(c, WT_ERR_H3, "HTTP/3 protocol error");
        return WT_ERR_H3;
    }
    wt__conn_consumed(c, stream_id, (size_t)n);
    if (c->h3.malformed && c->state <= WT__CONN_OPEN) wt__h3_old_malformed(c);
    return WT_OK;
}

/* The peer's control stream: nghttp3 reads it, and so do we until its
   SETTINGS frame is complete, because nghttp3 drops unknown settings. */
static int wt__ctrl_tap(wt__conn *c, const uint8_t *data, size_t len) {
    uint64_t stype, ftype, flen;
    size_t a, b, d;
    if (c->h3.peer.seen) return WT_OK;
    if (c->h3.peer_ctrl.len + len > 4096) {
        wt__clog(c, -1, WT_LOG_WARN, "peer SETTINGS larger than 4 KiB: WebTransport settings ignored");
        c->h3.peer.seen = 1;
        wt__buf_free(&c->ep->alloc, &c->h3.peer_ctrl);
        return WT_OK;
    }
    if (wt__buf_append(&c->ep->alloc, &c->h3.peer_ctrl, data, len) != WT_OK) return WT_ERR_NOMEM;
    if (!(a = wt__varint_get(c->h3.peer_ctrl.data, c->h3.peer_ctrl.len, &stype))) return WT_OK;
    if (!(b = wt__varint_get(c->h3.peer_ctrl.data + a, c->h3.peer_ctrl.len - a, &ftype))) return WT_OK;
    if (!(d = wt__varint_get(c->h3.peer_ctrl.data + a + b, c->h3.peer_ctrl.len - a - b, &flen))) return WT_OK;
    if (ftype != 0x04) return WT_OK; /* nghttp3 rejects a control stream not starting with SETTINGS */
    if (c->h3.peer_ctrl.len - a - b - d < flen) return WT_OK;
    if (wt__settings_parse(c->h3.peer_ctrl.data + a + b + d, (size_t)flen, &c->h3.peer) != WT_OK) c->h3.peer.seen = 1;
    wt__buf_free(&c->ep->alloc, &c->h3.peer_ctrl);
    wt__clog(c, -1, WT_LOG_DEBUG,
             "peer SETTINGS: webtransport draft02=%d enabled=%d datagram=%d max_sessions=%llu initial max_data=%llu "
             "streams bidi=%llu uni=%llu",
             c->h3.peer.wt_draft02, c->h3.peer.wt_enabled, c->h3.peer.datagram, (unsigned long long)c->h3.peer.max_sessions,
             (unsigned long long)c->h3.peer.init_max_data, (unsigned long long)c->h3.peer.init_max_streams_bidi,
             (unsigned long long)c->h3.peer.init_max_streams_uni);
    wt__conn_on_peer_settings(c);
    return WT_OK;
}

static int wt__h3_on_stream_data(wt__conn *c, int64_t stream_id, void *su, const uint8_t *data, size_t len, int fin) {
    wt_stream *st;
    int kind, bidi;
    size_t hdr_len = 0, had;
    uint64_t sid = 0;
    if (su == WT__DEAD_STREAM) {
        wt__conn_consumed(c, stream_id, len); /* keep the connection window open */
        return WT_OK;
    }
    if (wt__is_wt_stream(su) && ((wt_stream *)su)->kind != WT__ST_CLASSIFY) {
        wt__stream_on_data((wt_stream *)su, data, len, fin);
        return WT_OK;
    }
    if (su == WT__CTRL_STREAM) {
        if (wt__ctrl_tap(c, data, len) != WT_OK) return WT_ERR_NOMEM;
        return wt__h3_read(c, stream_id, data, len, fin);
    }
    if (su == WT__H3_STREAM || (!su && wt__tp_is_local(c, stream_id)))
        return wt__h3_read(c, stream_id, data, len, fin);

    /* a peer stream whose first bytes we have not seen in full yet */
    bidi = (stream_id & 2) == 0;
    st = (wt_stream *)su;
    had = st ? st->hdr_len : 0;
    {
        uint8_t tmp[16];
        size_t k = WT__MIN(len, sizeof tmp - had);
        if (had) memcpy(tmp, st->hdr, had);
        if (k) memcpy(tmp + had, data, k); /* a lone FIN comes with no data at all */
        kind = wt__demux(tmp, had + k, bidi, &sid, &hdr_len);
        if (kind == WT__DEMUX_MORE && !fin && had + k < sizeof tmp) {
            if (!st) {
                st = wt__stream_new(c, stream_id, bidi, 0);
                if (!st) return WT_ERR_NOMEM;
                st->kind = WT__ST_CLASSIFY;
                wt__tp_set_user(c, stream_id, st);
            }
            memcpy(st->hdr, tmp, had + k);
            st->hdr_len = had + k;
            return WT_OK;
        }
    }
    if (kind == WT__DEMUX_WT) {
        size_t in_this = hdr_len - had; /* header bytes inside this chunk */
        if (!st) {
            st = wt__stream_new(c, stream_id, bidi, 0);
            if (!st) return WT_ERR_NOMEM;
            wt__tp_set_user(c, stream_id, st);
        }
        st->kind = WT__ST_PENDING;
        st->session_id = sid;
        st->wt_hdr_len = hdr_len;
        wt__conn_consumed(c, stream_id, hdr_len);
        if (wt__stream_on_wt_header(st) == WT_OK)
            wt__stream_on_data(st, data + in_this, len - in_this, fin);
        else
            wt__conn_consumed(c, stream_id, len - in_this); /* refused: credit and drop */
        return WT_OK;
    }
    /* HTTP/3 (or a stream ending inside its header): nghttp3 takes it from
       offset 0, including what we held back */
    if (st) {
        uint8_t held[16];
        uint64_t stop = st->pending_stop;
        memcpy(held, st->hdr, had);
        wt__stream_free(st);
        if (stop) {
            /* a request whose answer the peer refused before sending it: no
               session can come of it */
            wt__tp_set_user(c, stream_id, WT__DEAD_STREAM);
            wt__tp_shutdown(c, WT__TP_BOTH, stream_id, WT__H3_REQUEST_REJECTED);
            wt__conn_consumed(c, stream_id, had + len);
            return WT_OK;
        }
        wt__tp_set_user(c, stream_id, NULL);
        if (kind == WT__DEMUX_MORE) kind = WT__DEMUX_H3;
        if (bidi && !c->ep->server) goto refuse;
        wt__tp_set_user(c, stream_id, kind == WT__DEMUX_CTRL ? WT__CTRL_STREAM : WT__H3_STREAM);
        if (kind == WT__DEMUX_CTRL && wt__ctrl_tap(c, held, had) != WT_OK) return WT_ERR_NOMEM;
        if (wt__h3_read(c, stream_id, held, had, 0) != WT_OK) return WT_ERR_H3;
    } else {
        if (kind == WT__DEMUX_MORE) kind = WT__DEMUX_H3;
        if (bidi && !c->ep->server) goto refuse;
        wt__tp_set_user(c, stream_id, kind == WT__DEMUX_CTRL ? WT__CTRL_STREAM : WT__H3_STREAM);
    }
    if (kind == WT__DEMUX_CTRL && wt__ctrl_tap(c, data, len) != WT_OK) return WT_ERR_NOMEM;
    return wt__h3_read(c, stream_id, data, len, fin);
refuse:
    /* HTTP/3 forbids server-initiated bidi streams other than WebTransport */
    wt__clog(c, -1, WT_LOG_WARN, "server opened bidi stream %lld that is not WebTransport: reset",
             (long long)stream_id);
    wt__tp_set_user(c, stream_id, WT__DEAD_STREAM);
    wt__tp_shutdown(c, WT__TP_BOTH, stream_id, WT__H3_STREAM_CREATION_ERROR);
    wt__conn_consumed(c, stream_id, had + len);
    return WT_OK;
}

static int wt__h3_on_acked(wt__conn *c, int64_t stream_id, void *su, uint64_t n) {
    int rv;
    if (wt__is_wt_stream(su)) {
        wt__stream_on_acked((wt_stream *)su, n);
        return WT_OK;
    }
    if (!c->h3.conn || su == WT__DEAD_STREAM) return WT_OK;
    if (stream_id == c->h3.ctrl_id) {
        /* our SETTINGS are longer than nghttp3's: translate the offsets */
        uint64_t before = c->h3.ctrl_acked, after = before + n, delta = c->h3.ctrl_prefix_len - c->h3.ctrl_prefix_h3len;
        uint64_t hb = before < c->h3.ctrl_prefix_len ? 0 : before - delta;
        uint64_t ha = after < c->h3.ctrl_prefix_len ? 0 : after - delta;
        c->h3.ctrl_acked = after;
        if (c->h3.ctrl_prefix_state == 2 && after >= c->h3.ctrl_prefix_len && c->h3.ctrl_prefix) {
            /* acknowledged: ngtcp2 will not send those bytes again */
            wt__free(&c->ep->alloc, c->h3.ctrl_prefix);
            c->h3.ctrl_prefix = NULL;
        }
        n = ha - hb;
        if (!n) return WT_OK;
    }
    rv = nghttp3_conn_add_ack_offset(c->h3.conn, stream_id, n);
    if (rv != 0) return wt__cfail(c, -1, WT_ERR_H3, "nghttp3_conn_add_ack_offset: %s", nghttp3_strerror(rv));
    return WT_OK;
}

/* ngtcp2 never raises MAX_STREAMS by itself: a peer stream gives its slot
   back when it is really gone (see wt__stream_end for the ones that live on). */
static void wt__conn_stream_slot_free(wt__conn *c, int64_t stream_id) {
    if (!c->tp.qc || wt__tp_is_local(c, stream_id)) return;
    wt__tp_give_stream_slot(c, (stream_id & 2) == 0); /* marks the connection to write MAX_STREAMS */
}

static void wt__h3_on_stream_close(wt__conn *c, int64_t stream_id, void *su, uint64_t app_error) {
    if (wt__is_wt_stream(su)) {
        wt_stream *st = (wt_stream *)su;
        wt__stream_on_close(st);
        /* a stream still holding data for the app keeps its slot until it ends */
        if (st->closed) wt__conn_stream_slot_free(c, stream_id);
        else st->owes_slot = 1;
        return;
    }
    wt__conn_stream_slot_free(c, stream_id);
    if (c->h3.conn && su != WT__DEAD_STREAM) {
        int rv = nghttp3_conn_close_stream(c->h3.conn, stream_id, app_error);
        if (rv != 0 && rv != NGHTTP3_ERR_STREAM_NOT_FOUND) {
            wt__tp_close_error(c, nghttp3_err_infer_quic_app_error_code(rv));
            wt__conn_fail(c, WT_ERR_H3, "HTTP/3 stream close failed");
        }
    }
}

/* The peer aborted a CONNECT stream: its session is over, abruptly
   (WT_FLOW_CONTROL_ERROR: we broke its session flow control). */
static void wt__h3_connect_aborted(wt__conn *c, int64_t stream_id, uint64_t app_error) {
    wt_session *s = wt__session_find(c, (uint64_t)stream_id);
    if (s && s->state != WT__SESS_CLOSED) {
        int fc = app_error == WT__ERR_FLOW_CONTROL;
        wt__clog(c, stream_id, fc ? WT_LOG_WARN : WT_LOG_INFO, "session %lld: the peer reset its CONNECT stream%s",
                 (long long)stream_id, fc ? " with WT_FLOW_CONTROL_ERROR" : "");
        wt__session_end(s, fc ? WT_ERR_FLOW_CONTROL : WT_ERR_CLOSED);
    }
}

static void wt__h3_on_stream_reset(wt__conn *c, int64_t stream_id, void *su, uint64_t final_size, uint64_t app_error) {
    if (wt__is_wt_stream(su)) {
        wt_stream *st = (wt_stream *)su;
        if (st->kind == WT__ST_CLASSIFY) {
            /* reset inside its header: give the held bytes back, close our side */
            wt__conn_consumed(c, stream_id, st->hdr_len);
            st->hdr_len = 0;
            wt__tp_shutdown(c, WT__TP_BOTH, stream_id, WT__H3_REQUEST_CANCELLED);
            return;
        }
        wt__stream_on_reset(st, final_size, app_error);
        return;
    }
    if (!c->h3.conn || su == WT__DEAD_STREAM) return;
    nghttp3_conn_shutdown_stream_read(c->h3.conn, stream_id);
    wt__h3_connect_aborted(c, stream_id, app_error);
}

static void wt__h3_on_stop_sending(wt__conn *c, int64_t stream_id, void *su, uint64_t app_error) {
    if (!su && !wt__tp_is_local(c, stream_id) && !(stream_id & 2)) {
        /* STOP_SENDING before any byte of the stream: keep it until its
           first bytes say whose stream it is */
        wt_stream *st = wt__stream_new(c, stream_id, 1, 0);
        if (!st) return;
        st->kind = WT__ST_CLASSIFY;
        wt__tp_set_user(c, stream_id, st);
        su = st;
    }
    if (wt__is_wt_stream(su)) {
        wt__stream_on_stop_sending((wt_stream *)su, app_error);
        return;
    }
    if (!c->h3.conn || su == WT__DEAD_STREAM) return;
    nghttp3_conn_shutdown_stream_write(c->h3.conn, stream_id);
    {
        /* RFC 9114 4.1.1: a peer may stop our sending side (with a complete
           response, or before its own close capsule and FIN). Only that
           side ends; the session ends on the peer's capsule, FIN or reset. */
        wt_session *s = wt__session_find(c, (uint64_t)stream_id);
        if (s) {
            s->send_stopped = 1;
            wt__clog(c, stream_id, WT_LOG_DEBUG, "session %lld: the peer stopped our side of its CONNECT stream",
                     (long long)stream_id);
        }
    }
}

static void wt__h3_unblock(wt__conn *c, int64_t stream_id, void *su) {
    if (wt__is_wt_stream(su)) {
        wt_stream *st = (wt_stream *)su;
        st->blocked = 0;
        wt__stream_queue_send(st);
    } else if (c->h3.conn && su != WT__DEAD_STREAM) {
        nghttp3_conn_unblock_stream(c->h3.conn, stream_id);
    }
}

/* ---------------------------------------------------------------- outgoing data */
static int wt__h3_next_tx(wt__conn *c, wt__tx *tx) {
    if (c->h3.conn) {
        nghttp3_vec v[16];
        int64_t sid = -1;
        int fin = 0;
        nghttp3_ssize n = nghttp3_conn_writev_stream(c->h3.conn, &sid, &fin, v, 16);
        if (n < 0) return wt__cfail(c, -1, WT_ERR_H3, "nghttp3_conn_writev_stream: %s", nghttp3_strerror((int)n));
        if (sid >= 0) {
            nghttp3_ssize i;
            tx->stream_id = sid;
            tx->fin = fin;
            if (sid == c->h3.ctrl_id && c->h3.ctrl_prefix_state != 2) {
                if (c->h3.ctrl_prefix_state == 0) {
                    uint8_t flat[256];
                    size_t fl = 0, used = 0;
                    int r;
                    for (i = 0; i < n; i++) {
                        size_t k = WT__MIN(v[i].len, sizeof flat - fl);
                        memcpy(flat + fl, v[i].base, k);
                        fl += k;
                    }
                    wt__settings_offer offer;
                    wt__settings_offer_of(c->ep, &offer);
                    if (!c->h3.ctrl_prefix && !(c->h3.ctrl_prefix = (uint8_t *)wt__alloc(&c->ep->alloc, WT__CTRL_PREFIX_MAX)))
                        return wt__cfail(c, -1, WT_ERR_NOMEM, "out of memory for our SETTINGS");
                    r = wt__settings_inject(flat, fl, c->h3.ctrl_prefix, WT__CTRL_PREFIX_MAX, &used, &offer);
                    if (r <= 0) return wt__cfail(c, -1, WT_ERR_H3, "cannot add WebTransport SETTINGS");
                    c->h3.ctrl_prefix_len = (size_t)r;
                    c->h3.ctrl_prefix_h3len = used;
                    c->h3.ctrl_prefix_state = 1;
                }
                tx->vec[0].base = c->h3.ctrl_prefix + c->h3.ctrl_prefix_sent;
                tx->vec[0].len = c->h3.ctrl_prefix_len - c->h3.ctrl_prefix_sent;
                tx->nvec = 1;
                tx->fin = 0;
                tx->ctrl_prefix = 1;
                return WT_OK;
            }
            for (i = 0; i < n; i++) {
                tx->vec[i].base = v[i].base;
                tx->vec[i].len = v[i].len;
            }
            tx->nvec = (size_t)n;
            return WT_OK;
        }
    }
    return WT_OK;
}

/* The next WebTransport stream with something to send, round-robin. */
static void wt__h3_next_wt_tx(wt__conn *c, wt__tx *tx) {
    wt_stream *st;
    while ((st = c->wt.send_head) != NULL) {
        if (st->blocked || st->closed || (st->tx.unsent == 0 && (!st->fin_queued || st->fin_sent))) {
            wt__stream_unqueue_send(st);
            continue;
        }
        size_t i, peeked = 0;
        tx->stream_id = st->id;
        tx->wst = st;
        tx->nvec = wt__sendbuf_peek(&st->tx, tx->vec, 16);
        for (i = 0; i < tx->nvec; i++) peeked += tx->vec[i].len;
        if (peeked) {
            /* session flow control: never past the peer's WT_MAX_DATA */
            size_t allow = wt__fc_tx_allow(st, peeked);
            if (!allow) {
                wt__stream_unqueue_send(st); /* until more credit (wt__fc_wake_writers) */
                tx->stream_id = -1;
                tx->wst = NULL;
                tx->nvec = 0;
                continue;
            }
            if (allow < peeked) {
                peeked = allow;
                for (i = 0; i < tx->nvec && allow; i++) {
                    if (tx->vec[i].len > allow) tx->vec[i].len = allow;
                    allow -= tx->vec[i].len;
                }
                tx->nvec = i;
            }
        }
        /* FIN only with the last byte: many small chunks (write_ref) may
           not all fit the vector */
        tx->fin = st->fin_queued && peeked == st->tx.unsent;
        return;
    }
}

static void wt__h3_tx_done(wt__conn *c, wt__tx *tx, size_t n) {
    if (tx->stream_id < 0) return;
    if (tx->ctrl_prefix) {
        c->h3.ctrl_prefix_sent += n;
        if (c->h3.ctrl_prefix_sent == c->h3.ctrl_prefix_len) {
            c->h3.ctrl_prefix_state = 2;
            nghttp3_conn_add_write_offset(c->h3.conn, c->h3.ctrl_id, c->h3.ctrl_prefix_h3len);
        }
    } else if (tx->wst) {
        wt__stream_tx_done(tx->wst, tx, n);
    } else {
        nghttp3_conn_add_write_offset(c->h3.conn, tx->stream_id, n);
    }
}

static void wt__h3_tx_blocked(wt__conn *c, wt__tx *tx) {
    if (tx->wst) {
        tx->wst->blocked = 1;
        wt__stream_unqueue_send(tx->wst);
    } else if (tx->stream_id >= 0) {
        nghttp3_conn_block_stream(c->h3.conn, tx->stream_id);
    }
}

static void wt__h3_tx_shut(wt__conn *c, wt__tx *tx) {
    if (tx->wst) {
        wt__stream_fc_refund(tx->wst);
        tx->wst->reset_sent = 1; /* ngtcp2 reset it: later writes get an error */
        wt__stream_unqueue_send(tx->wst);
        /* inside the write loop: completions wait for the queue */
        c->ep->loop->in_handler++;
        wt__stream_fail_refs(tx->wst, WT_ERR_CLOSED);
        c->ep->loop->in_handler--;
    }
    else if (tx->stream_id >= 0) nghttp3_conn_shutdown_stream_write(c->h3.conn, tx->stream_id);
}
