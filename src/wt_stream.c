/* wt_stream.c - WebTransport streams: the header, bounded send buffers with
   backpressure, in-order delivery with flow control tied to consumption. */
#include "wt_internal.h"

static wt_stream *wt__stream_new(wt__conn *c, int64_t id, int bidi, int local) {
    wt_stream *st = (wt_stream *)wt__calloc(&c->ep->alloc, sizeof *st);
    if (!st) {
        wt__clog(c, -1, WT_LOG_ERROR, "out of memory for a stream");
        return NULL;
    }
    st->conn = c;
    st->id = id;
    st->bidi = bidi != 0;
    st->local = local != 0;
    st->kind = WT__ST_CLASSIFY;
    st->all_next = c->wt.all_streams;
    if (c->wt.all_streams) c->wt.all_streams->all_prev = st;
    c->wt.all_streams = st;
    return st;
}

/* The connection's and the endpoint's send budgets follow every byte a
   stream holds for sending, until the peer acknowledges it. */
static void wt__stream_budget(wt_stream *st, size_t add, size_t sub) {
    wt__conn *c = st->conn;
    if (sub > st->tx_acct) sub = st->tx_acct;
    st->tx_acct += add;
    st->tx_acct -= sub;
    c->wt.tx_stored += add;
    c->wt.tx_stored -= sub;
    c->ep->tx_stored += add;
    c->ep->tx_stored -= sub;
}

static void wt__stream_wait_budget(wt_stream *st) {
    if (st->budget_wait) return;
    st->budget_wait = 1;
    st->conn->wt.tx_waiters++;
    st->conn->ep->tx_waiters++;
}

static void wt__stream_unwait(wt_stream *st) {
    if (!st->budget_wait) return;
    st->budget_wait = 0;
    st->conn->wt.tx_waiters--;
    st->conn->ep->tx_waiters--;
}

/* Every write_ref still waiting gets done(status), in order; after the
   stream's CLOSED the completion names no stream or session. */
static void wt__stream_fail_refs(wt_stream *st, int status) {
    wt_loop *loop = st->conn->ep->loop;
    wt__ref *r;
    while ((r = st->refs) != NULL) {
        st->refs = r->next;
        if (!st->refs) st->refs_tail = NULL;
        if (st->closed) wt__loop_emit_done(loop, NULL, NULL, r, status);
        else wt__loop_emit_done(loop, st->sess, st, r, status);
    }
}

static void wt__stream_free(wt_stream *st) {
    const wt_allocator *a = &st->conn->ep->alloc;
    wt__conn *c = st->conn;
    st->closed = 1;
    if (st->refs) {
        /* the connection goes, nothing reads them now; queued, not called
           in the middle of freeing (wt__ep_free and the loop deliver them) */
        c->ep->loop->in_handler++;
        wt__stream_fail_refs(st, WT_ERR_CLOSED);
        c->ep->loop->in_handler--;
    }
    wt__stream_budget(st, 0, st->tx_acct);
    wt__stream_unwait(st);
    if (st->all_prev) st->all_prev->all_next = st->all_next;
    else c->wt.all_streams = st->all_next;
    if (st->all_next) st->all_next->all_prev = st->all_prev;
    wt__sendbuf_free(a, &st->tx);
    wt__buf_free(a, &st->rx);
    wt__free(a, st);
}

/* ---------------------------------------------------------------- lists */
static void wt__stream_unlink(wt_stream *st) {
    wt__conn *c = st->conn;
    wt_stream **head = NULL;
    if (st->kind == WT__ST_PENDING) head = &c->wt.pending;
    else if (st->sess) head = &st->sess->streams;
    if (head && (st->prev || *head == st)) {
        if (st->prev) st->prev->next = st->next;
        else *head = st->next;
        if (st->next) st->next->prev = st->prev;
        if (st->kind == WT__ST_PENDING) c->wt.npending--;
    }
    st->next = st->prev = NULL;
}

static void wt__stream_link(wt_stream **head, wt_stream *st) {
    st->prev = NULL;
    st->next = *head;
    if (*head) (*head)->prev = st;
    *head = st;
}

static void wt__stream_queue_send(wt_stream *st) {
    wt__conn *c = st->conn;
    c->dirty = 1;
    if (st->in_send_queue || st->closed) return;
    st->in_send_queue = 1;
    st->send_next = NULL;
    if (c->wt.send_tail) c->wt.send_tail->send_next = st;
    else c->wt.send_head = st;
    c->wt.send_tail = st;
}

static void wt__stream_unqueue_send(wt_stream *st) {
    wt__conn *c = st->conn;
    wt_stream **pp, *prev = NULL;
    if (!st->in_send_queue) return;
    for (pp = &c->wt.send_head; *pp; prev = *pp, pp = &(*pp)->send_next)
        if (*pp == st) {
            *pp = st->send_next;
            if (c->wt.send_tail == st) c->wt.send_tail = prev;
            break;
        }
    st->in_send_queue = 0;
    st->send_next = NULL;
}

static void wt__stream_bury(wt_stream *st) {
    st->next = st->conn->wt.graveyard;
    st->conn->wt.graveyard = st;
}

/* The one way a stream's life ends, once: unlinked first (so a handler
   that closes the session from its CLOSED event does not meet it again),
   then CLOSED to the handler, then freed at the next safe point, as ngtcp2,
   nghttp3 or a handler may still be on the stack with this pointer. */
static void wt__stream_end(wt_stream *st) {
    wt__conn *c = st->conn;
    wt_session *s = st->sess;
    int tell = s && st->kind == WT__ST_WT && (st->open_delivered || st->local);
    if (st->closed) return;
    /* ngtcp2 no longer reads what they point at (reset, or the connection
       closing), unless the stream lingers for its last acknowledgements:
       those complete them as usual */
    if (st->refs && !st->linger) {
        wt__stream_fail_refs(st, WT_ERR_CLOSED);
        if (st->closed) return; /* a completion closed it */
    }
    st->closed = 1;
    if (s && st->kind == WT__ST_WT) {
        s->stats.streams_closed++;
        c->stats.streams_closed++;
    }
    if (st->owes_slot) wt__conn_stream_slot_free(c, st->id);
    if (s) wt__fc_rx_stream_done(s, st); /* its session stream credit comes back */
    wt__stream_unqueue_send(st);
    wt__stream_unlink(st);
    if (tell) {
        wt_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = WT_EV_STREAM_CLOSED;
        ev.stream = st;
        wt__session_emit(s, &ev);
    }
    st->sess = NULL;
    if (!st->linger) wt__stream_bury(st);
}

static void wt__conn_free_graveyard(wt__conn *c) {
    if (c->ep->loop->evq_head) return; /* a queued event may point at one */
    while (c->wt.graveyard) {
        wt_stream *st = c->wt.graveyard;
        c->wt.graveyard = st->next;
        wt__stream_free(st);
    }
}

/* Gives back flow-control credit for up to n received bytes, never more
   than were received and not yet credited. */
static void wt__stream_credit(wt_stream *st, uint64_t n) {
    if (n > st->uncredited) n = st->uncredited;
    st->uncredited -= n;
    wt__conn_consumed(st->conn, st->id, (size_t)n);
    if (st->sess && n) wt__fc_rx_credit(st->sess, n); /* and the session's credit */
}

/* Payload queued for sending counts against the session's credit at once
   (wt_stream_write takes no more than is left); whatever write_all and
   write_ref queue beyond it waits in the send path for WT_MAX_DATA. */
static void wt__stream_fc_queued(wt_stream *st, size_t n) {
    if (!st->sess || !st->sess->fc) return;
    st->fc_tx_body += n;
    st->sess->fc_tx_used += n;
}

/* Our side of a stream was reset: what it took of the session's credit
   but never sent is not part of its final size, so it comes back. */
static void wt__stream_fc_refund(wt_stream *st) {
    wt_session *s = st->sess;
    if (!s || !s->fc || st->fc_tx_body <= st->fc_tx_sent) return;
    s->fc_tx_used -= WT__MIN(s->fc_tx_used, st->fc_tx_body - st->fc_tx_sent);
    st->fc_tx_body = st->fc_tx_sent;
    st->fc_wait = st->fc_blocked = 0; /* this one will not send again */
    wt__fc_wake_writers(s); /* others may go on with it */
}

/* A stream ngtcp2 has closed lives on only while it holds data the app has
   not taken (paused, or waiting for its session); then it ends. */
static void wt__stream_maybe_end(wt_stream *st) {
    if (st->transport_closed && !st->closed && st->kind == WT__ST_WT && (!st->paused || st->read_done) &&
        st->rx.len == 0)
        wt__stream_end(st);
}

static void wt__stream_emit(wt_stream *st, wt_event *ev) {
    ev->stream = st;
    if (st->sess) wt__session_emit(st->sess, ev);
}

/* ---------------------------------------------------------------- arrival */
static void wt__stream_attach(wt_stream *st, wt_session *s) {
    wt__stream_unlink(st);
    st->kind = WT__ST_WT;
    st->sess = s;
    s->stats.streams_opened++;
    s->conn->stats.streams_opened++;
    wt__stream_link(&s->streams, st);
    if (st->conn->qlog) wt__qlog_stream(st, "stream_attached", NULL);
}

static void wt__stream_refuse(wt_stream *st, uint64_t h3code, const char *why) {
    wt__conn *c = st->conn;
    wt__clog(c, WT__ST_SID(st), WT_LOG_INFO, "stream %lld for session %llu refused: %s", (long long)st->id,
             (unsigned long long)st->session_id, why);
    if (c->qlog) wt__qlog_stream(st, "stream_refused", why);
    wt__stream_gone(st, h3code);
}

static void wt__stream_deliver_open(wt_stream *st) {
    wt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = WT_EV_STREAM_OPEN;
    st->open_delivered = 1;
    wt__stream_emit(st, &ev);
}

static void wt__stream_deliver_held(wt_stream *st);

static void wt__stream_emit_code(wt_stream *st, wt_event_type type, uint64_t app_error) {
    wt_event ev;
    int64_t code = wt_h3_to_code(app_error);
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.code = code < 0 ? 0 : (uint32_t)code; /* generic HTTP/3 codes (browsers') read as 0 */
    wt__stream_emit(st, &ev);
}

/* What happened to a stream before the app had it, told right after its
   STREAM_OPEN. */
static void wt__stream_after_open(wt_stream *st) {
    if (!st->closed && st->pending_stop) {
        uint64_t code = st->pending_stop - 1;
        st->pending_stop = 0;
        wt__stream_emit_code(st, WT_EV_STREAM_STOP_SENDING, code); /* ngtcp2 reset our side already */
    }
    if (!st->closed && st->pending_reset) {
        uint64_t code = st->pending_reset - 1;
        st->pending_reset = 0;
        wt__stream_on_reset(st, st->pending_final, code); /* counted against the session now */
    }
    if (!st->closed) wt__stream_maybe_end(st);
}

static int wt__stream_on_wt_header(wt_stream *st) {
    wt__conn *c = st->conn;
    wt_session *s = wt__session_find(c, st->session_id);
    if ((st->session_id & 3) != 0) {
        wt__stream_refuse(st, WT__H3_ID_ERROR, "not a client bidirectional stream ID");
        return WT_ERR_CLOSED;
    }
    if (s && s->state == WT__SESS_OPEN) {
        if (wt__fc_rx_stream(s, st) != WT_OK) {
            wt__stream_refuse(st, WT__ERR_SESSION_GONE, "past the session's stream limit");
            return WT_ERR_CLOSED;
        }
        wt__stream_attach(st, s);
        wt__stream_deliver_open(st);
        wt__stream_after_open(st);
        return st->closed ? WT_ERR_CLOSED : WT_OK;
    }
    if ((s && s->state == WT__SESS_CLOSED) ||
        (!s && c->ep->server && (int64_t)st->session_id <= c->h3.max_seen_request)) {
        wt__stream_refuse(st, WT__ERR_SESSION_GONE, "session gone");
        return WT_ERR_CLOSED;
    }
    if (c->wt.npending >= c->ep->lim.buffered_streams) {
        wt__stream_refuse(st, WT__ERR_BUFFERED_STREAM_REJECTED, "buffered_streams limit");
        return WT_ERR_CLOSED;
    }
    /* its session is not known yet: hold it (no credit given back) */
    st->kind = WT__ST_PENDING;
    wt__stream_link(&c->wt.pending, st);
    c->wt.npending++;
    return WT_OK;
}

static void wt__conn_adopt_pending(wt__conn *c, wt_session *s) {
    wt_stream *st = c->wt.pending, *next;
    for (; st; st = next) {
        next = st->next;
        if (st->session_id != (uint64_t)s->id) continue;
        if (wt__fc_rx_stream(s, st) != WT_OK) return; /* the session is closed, its pending streams refused */
        wt__stream_attach(st, s);
        wt__stream_deliver_open(st);
        if (s->state != WT__SESS_OPEN) return;
        if (!st->closed && (st->rx.len || st->fin_received)) {
            /* replay what was held as if it arrived now, so the modes the
               OPEN handler chose (pause, read_all) apply to it; it was
               counted as uncredited when it arrived */
            wt__buf held = st->rx;
            memset(&st->rx, 0, sizeof st->rx);
            st->uncredited -= WT__MIN(st->uncredited, held.len);
            wt__stream_on_data(st, held.data, held.len, st->fin_received);
            wt__buf_free(&c->ep->alloc, &held);
        }
        wt__stream_after_open(st);
        next = c->wt.pending; /* the handler may have changed the list */
    }
}

static void wt__conn_reject_pending(wt__conn *c, uint64_t session_id, uint64_t h3code) {
    wt_stream *st = c->wt.pending, *next;
    for (; st; st = next) {
        next = st->next;
        if (st->session_id == session_id) wt__stream_refuse(st, h3code, "session refused or closed");
    }
}

/* ---------------------------------------------------------------- receiving */
static void wt__stream_emit_data(wt_stream *st, const uint8_t *p, size_t n, int fin) {
    wt_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = WT_EV_STREAM_DATA;
    ev.data = p;
    ev.len = n;
    ev.fin = fin;
    if (fin) st->read_done = 1;
    wt__stream_emit(st, &ev);
}

/* Delivers what was held (paused, pending or collected) and gives back
   whatever credit it still owes. */
static void wt__stream_deliver_held(wt_stream *st) {
    wt__conn *c = st->conn;
    wt__buf held = st->rx;
    int fin = st->fin_received;
    memset(&st->rx, 0, sizeof st->rx);
    if (held.len || fin) wt__stream_emit_data(st, held.data, held.len, fin);
    wt__stream_credit(st, held.len);
    wt__buf_free(&c->ep->alloc, &held);
}

/* read_all passed its limit: STOP_SENDING, and one DATA with the first
   `limit` bytes (what was held may already be more than that). */
static void wt__stream_read_all_over(wt_stream *st, const uint8_t *data, size_t len) {
    wt__conn *c = st->conn;
    size_t fit = st->rx.len < st->read_all_limit ? st->read_all_limit - st->rx.len : 0;
    wt__clog(c, WT__ST_SID(st), WT_LOG_WARN, "stream %lld: read_all limit of %zu bytes passed: stop sending",
             (long long)st->id, st->read_all_limit);
    if (!st->transport_closed) wt__tp_shutdown(c, WT__TP_READ, st->id, wt_code_to_h3(0));
    st->stop_sent = 1;
    st->read_all = 0;
    st->fin_received = 0;
    if (st->rx.len > st->read_all_limit) st->rx.len = st->read_all_limit;
    if (data && wt__buf_append(&c->ep->alloc, &st->rx, data, WT__MIN(fit, len)) != WT_OK) {
        wt__stream_refuse(st, WT__H3_INTERNAL_ERROR, "out of memory");
        return;
    }
    wt__stream_deliver_held(st);
    st->read_done = 1;
    wt__stream_credit(st, st->uncredited);
}

static void wt__stream_on_data(wt_stream *st, const uint8_t *data, size_t len, int fin) {
    wt__conn *c = st->conn;
    if (len == 0 && !fin) return; /* e.g. a header that came alone: no empty DATA */
    if (fin) st->fin_received = 1;
    st->uncredited += len;
    if (st->sess && st->kind == WT__ST_WT) st->sess->stats.bytes_received += len;
    if (st->sess && st->kind == WT__ST_WT && wt__fc_rx_data(st->sess, st, len) != WT_OK) return; /* session closed */
    if (st->closed || st->read_done) {
        wt__stream_credit(st, len);
        return;
    }
    if (st->kind == WT__ST_PENDING || st->paused) {
        /* bounded by the stream window: no credit until delivered */
        if (wt__buf_append(&c->ep->alloc, &st->rx, data, len) != WT_OK) {
            wt__stream_refuse(st, WT__H3_INTERNAL_ERROR, "out of memory");
        }
        return;
    }
    if (st->read_all) {
        if (st->rx.len + len > st->read_all_limit) {
            wt__stream_read_all_over(st, data, len);
            return;
        }
        if (wt__buf_append(&c->ep->alloc, &st->rx, data, len) != WT_OK) {
            wt__stream_refuse(st, WT__H3_INTERNAL_ERROR, "out of memory");
            return;
        }
        wt__stream_credit(st, len); /* collecting is consuming */
        if (fin) {
            st->read_all = 0;
            wt__stream_deliver_held(st);
        }
        return;
    }
    wt__stream_emit_data(st, data, len, fin);
    wt__stream_credit(st, len);
}

static void wt__stream_on_reset(wt_stream *st, uint64_t final_size, uint64_t app_error) {
    if (st->closed || st->reset_received) return;
    if (st->sess && st->kind == WT__ST_WT && st->sess->fc && final_size != UINT64_MAX) {
        /* the final size counts against the session, delivered or not
           (draft-16 5.4); what was never delivered is consumed at once */
        uint64_t hdr = st->local ? 0 : st->wt_hdr_len;
        uint64_t payload = final_size > hdr ? final_size - hdr : 0;
        if (payload > st->fc_rx_seen) {
            uint64_t extra = payload - st->fc_rx_seen;
            wt_session *s = st->sess;
            if (wt__fc_rx_data(s, st, extra) != WT_OK) return; /* session closed */
            wt__fc_rx_credit(s, extra);
        }
    }
    if (st->kind == WT__ST_PENDING) {
        /* told to the app after STREAM_OPEN, when its session comes */
        st->pending_reset = app_error + 1;
        st->pending_final = final_size;
        st->fin_received = 0;
        wt__stream_credit(st, st->uncredited);
        wt__buf_free(&st->conn->ep->alloc, &st->rx);
        return;
    }
    st->reset_received = 1;
    st->read_done = 1;
    wt__stream_credit(st, st->uncredited);
    wt__buf_free(&st->conn->ep->alloc, &st->rx);
    if (st->kind != WT__ST_WT) return;
    wt__stream_emit_code(st, WT_EV_STREAM_RESET, app_error);
    if (!st->closed) wt__stream_maybe_end(st);
}

static void wt__stream_on_stop_sending(wt_stream *st, uint64_t app_error) {
    if (st->closed) return;
    if (st->kind != WT__ST_WT) {
        /* ngtcp2 resets our side now; the app hears of it after STREAM_OPEN */
        st->pending_stop = app_error + 1;
        st->reset_sent = 1;
        return;
    }
    wt__stream_emit_code(st, WT_EV_STREAM_STOP_SENDING, app_error);
    if (!st->closed && !st->reset_sent) {
        /* nobody will read what we send: reset with the same code */
        wt__stream_fc_refund(st);
        st->reset_sent = 1;
        wt__tp_shutdown(st->conn, WT__TP_WRITE, st->id, app_error);
        wt__stream_unqueue_send(st);
        wt__stream_fail_refs(st, WT_ERR_CLOSED);
    }
}

/* Room for a stream's next write: its own buffer, its connection's and its
   endpoint's budgets, whichever is tightest. *by_budget says the latter. */
static size_t wt__stream_room(const wt_stream *st, int *by_budget) {
    const wt__conn *c = st->conn;
    const wt_limits *l = &c->ep->lim;
    /* copies only (write_all's too, so a write never jumps their queue);
       bytes by reference are the caller's memory */
    size_t own = st->tx_acct < l->stream_send_buffer ? l->stream_send_buffer - st->tx_acct : 0;
    size_t conn = c->wt.tx_stored < l->conn_send_buffer ? l->conn_send_buffer - c->wt.tx_stored : 0;
    size_t all = c->ep->tx_stored < l->total_send_buffer ? l->total_send_buffer - c->ep->tx_stored : 0;
    size_t budget = WT__MIN(conn, all);
    if (by_budget) *by_budget = budget < own;
    return WT__MIN(own, budget);
}

/* WRITABLE once the stream's own buffer is half empty and the budgets a
   quarter free (hysteresis: not an event per acknowledged packet). */
static void wt__stream_check_writable(wt_stream *st) {
    wt__conn *c = st->conn;
    const wt_limits *l = &c->ep->lim;
    wt_event ev;
    if (!st->want_writable || st->closed || st->reset_sent || st->tx_acct > l->stream_send_buffer / 2) return;
    if (c->wt.tx_stored > l->conn_send_buffer - l->conn_send_buffer / 4 ||
        c->ep->tx_stored > l->total_send_buffer - l->total_send_buffer / 4) {
        /* its own buffer has room, the budget not yet: wait with the others */
        wt__stream_wait_budget(st);
        return;
    }
    st->want_writable = 0;
    wt__stream_unwait(st);
    memset(&ev, 0, sizeof ev);
    ev.type = WT_EV_STREAM_WRITABLE;
    wt__stream_emit(st, &ev);
}

/* Streams held back by a budget, not their own buffer: any stream's
   acknowledgement may free room for them. */
static void wt__conn_wake_budget_waiters(wt__conn *c) {
    wt_session *s;
    wt_stream *st, *next;
    for (s = c->wt.sessions; s && c->wt.tx_waiters; s = s->next)
        for (st = s->streams; st && c->wt.tx_waiters; st = next) {
            next = st->next;
            if (st->budget_wait) wt__stream_check_writable(st);
        }
}

static void wt__stream_on_acked(wt_stream *st, uint64_t n) {
    wt__conn *c = st->conn, *o;
    uint64_t from = st->tx_acked, to = from + n, by_ref = 0;
    wt__ref *r;
    /* acknowledgements come in order: the bytes by reference among them
       were never in the budgets */
    for (r = st->refs; r && r->start < to; r = r->next) {
        uint64_t lo = WT__MAX(from, r->start), hi = WT__MIN(to, r->end);
        if (hi > lo) by_ref += hi - lo;
    }
    st->tx_acked = to;
    wt__sendbuf_ack(&c->ep->alloc, &st->tx, (size_t)n);
    wt__stream_budget(st, 0, (size_t)(n - by_ref));
    wt__stream_check_writable(st);
    if (c->wt.tx_waiters) wt__conn_wake_budget_waiters(c);
    for (o = c->ep->conns; o && c->ep->tx_waiters; o = o->next)
        if (o != c && o->wt.tx_waiters) wt__conn_wake_budget_waiters(o);
    /* last: a completion may do anything, this stream's end included */
    while ((r = st->refs) != NULL && r->end <= st->tx_acked) {
        st->refs = r->next;
        if (!st->refs) st->refs_tail = NULL;
        if (st->closed) wt__loop_emit_done(c->ep->loop, NULL, NULL, r, WT_OK);
        else wt__loop_emit_done(c->ep->loop, st->sess, st, r, WT_OK);
    }
}

static void wt__stream_on_close(wt_stream *st) {
    wt__conn *c = st->conn;
    st->transport_closed = 1;
    if (st->closed) {
        /* a lingering stream: ngtcp2 no longer needs its send buffer */
        if (st->linger) {
            st->linger = 0;
            wt__stream_bury(st);
        }
        return;
    }
    if (st->kind == WT__ST_CLASSIFY) {
        wt__conn_consumed(c, st->id, st->hdr_len); /* header bytes held back */
        wt__stream_end(st);
        return;
    }
    /* data the app has not taken yet (paused, or the session is still on
       its way) outlives the QUIC stream; the rest ends now */
    if (st->kind == WT__ST_PENDING) return;
    wt__stream_maybe_end(st);
}

static void wt__stream_gone(wt_stream *st, uint64_t h3code) {
    wt__conn *c = st->conn;
    int send_done = st->fin_sent || st->reset_sent || (!st->bidi && !st->local);
    int recv_done = st->fin_received || st->reset_received || st->stop_sent || (!st->bidi && st->local);
    if (st->closed) return;
    if (c->tp.qc && c->state <= WT__CONN_OPEN && h3code && !st->transport_closed) {
        if (send_done && recv_done && st->kind == WT__ST_WT) {
            /* finished both ways, only acknowledgements to come: no reset
               (a peer would see one for a stream that completed), but its
               memory stays until ngtcp2 lets go of the send buffer */
            st->linger = 1;
        } else {
            wt__tp_set_user(c, st->id, wt__dead_stream_marker());
            wt__tp_shutdown(c, WT__TP_BOTH, st->id, h3code);
            c->dirty = 1;
        }
    }
    /* what it held back still counts against the connection window */
    wt__stream_credit(st, st->uncredited);
    wt__stream_end(st);
}

/* ---------------------------------------------------------------- sending */
static void wt__stream_tx_done(wt_stream *st, wt__tx *tx, size_t n) {
    size_t total = 0, i, hdr = WT__MIN(n, st->tx_hdr_left);
    for (i = 0; i < tx->nvec; i++) total += tx->vec[i].len;
    wt__sendbuf_mark_sent(&st->tx, n);
    st->tx_hdr_left -= hdr;
    if (st->sess) st->sess->stats.bytes_sent += n - hdr;
    if (st->sess && st->sess->fc) {
        st->fc_tx_sent += n - hdr; /* payload only: the session's count */
        st->sess->fc_tx_sent += n - hdr;
    }
    if (tx->fin && n == total) st->fin_sent = 1;
    /* round-robin: a stream with more to send goes to the back */
    wt__stream_unqueue_send(st);
    if (st->tx.unsent > 0 || (st->fin_queued && !st->fin_sent)) wt__stream_queue_send(st);
}

/* ---------------------------------------------------------------- public API */
int wt_session_open_stream(wt_session *s, int bidi, wt_stream **out) {
    wt__conn *c;
    wt_stream *st;
    int64_t id;
    int rv;
    uint8_t hdr[16];
    size_t n = 0;
    if (out) *out = NULL;
    if (!s) return wt__fail(NULL, WT_ERR_INVALID, "wt_session_open_stream: no session");
    c = s->conn;
    if (s->state != WT__SESS_OPEN || c->state != WT__CONN_OPEN)
        return wt__cfail(c, s->id, WT_ERR_STATE, "wt_session_open_stream: session not open");
    if (s->fc && wt__fc_tx_open(s, bidi) != WT_OK)
        return wt__cfail_at(c, s->id, WT_LOG_DEBUG, WT_ERR_LIMIT,
                            "wt_session_open_stream: the peer's WT_MAX_STREAMS is reached (%s)", bidi ? "bidi" : "uni");
    st = wt__stream_new(c, -1, bidi, 1);
    if (!st) return wt__cfail(c, s->id, WT_ERR_NOMEM, "wt_session_open_stream: out of memory");
    rv = wt__tp_open(c, bidi, &id, st);
    if (rv != 0) {
        wt__stream_free(st);
        if (s->fc) s->fc_tx_streams[bidi != 0]--; /* not opened after all */
        if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED) {
            s->streams_blocked |= bidi ? 2 : 1; /* SESSION_STREAMS when MAX_STREAMS comes */
            return wt__cfail_at(c, s->id, WT_LOG_DEBUG, WT_ERR_LIMIT,
                                "wt_session_open_stream: the peer's stream limit is reached");
        }
        return wt__cfail(c, s->id, WT_ERR_QUIC, "ngtcp2_conn_open_stream: %s", ngtcp2_strerror(rv));
    }
    st->id = id;
    st->session_id = (uint64_t)s->id;
    n += wt__varint_put(hdr, bidi ? WT__STREAM_TYPE_BIDI : WT__STREAM_TYPE_UNI);
    n += wt__varint_put(hdr + n, (uint64_t)s->id);
    if (wt__sendbuf_append(&c->ep->alloc, &st->tx, hdr, n) == WT_OK) {
        wt__stream_budget(st, n, 0);
        st->wt_hdr_len = n;
        st->tx_total = n;
        st->tx_hdr_left = n;
    } else {
        wt__tp_shutdown(c, WT__TP_BOTH, id, WT__H3_INTERNAL_ERROR);
        wt__tp_set_user(c, id, wt__dead_stream_marker());
        wt__stream_free(st);
        return wt__cfail(c, s->id, WT_ERR_NOMEM, "wt_session_open_stream: out of memory");
    }
    wt__stream_attach(st, s);
    st->open_delivered = 1;
    wt__stream_queue_send(st);
    if (out) *out = st;
    return WT_OK;
}

int64_t wt_stream_id(const wt_stream *st) { return st ? st->id : -1; }
wt_session *wt_stream_session(const wt_stream *st) { return st ? st->sess : NULL; }
int wt_stream_is_bidi(const wt_stream *st) { return st ? st->bidi : 0; }
int wt_stream_is_local(const wt_stream *st) { return st ? st->local : 0; }
void wt_stream_set_user(wt_stream *st, void *user) {
    if (st) st->user = user;
}
void *wt_stream_user(const wt_stream *st) { return st ? st->user : NULL; }
size_t wt_stream_send_buffered(const wt_stream *st) { return st ? st->tx.stored : 0; }

static int wt__stream_can_send(wt_stream *st, const char *what) {
    if (!st) return wt__fail(NULL, WT_ERR_INVALID, "%s: no stream", what);
    if (st->closed || !st->sess)
        return wt__cfail_at(st->conn, WT__ST_SID(st), WT_LOG_DEBUG, WT_ERR_CLOSED, "%s: stream %lld is closed", what,
                            (long long)st->id);
    if (!st->bidi && !st->local)
        return wt__cfail(st->conn, WT__ST_SID(st), WT_ERR_STATE, "%s: stream %lld is the peer's unidirectional stream", what,
                         (long long)st->id);
    if (st->fin_queued || st->reset_sent || st->transport_closed)
        return wt__cfail(st->conn, WT__ST_SID(st), WT_ERR_CLOSED, "%s: stream %lld already finished or reset", what,
                         (long long)st->id);
    if (st->conn->state != WT__CONN_OPEN)
        return wt__cfail_at(st->conn, WT__ST_SID(st), WT_LOG_DEBUG, WT_ERR_CLOSED, "%s: the connection is closing", what);
    return WT_OK;
}

int wt_stream_write(wt_stream *st, const void *data, size_t len) {
    size_t room, take;
    uint64_t credit;
    int by_budget = 0, by_credit = 0;
    int rv = wt__stream_can_send(st, "wt_stream_write");
    if (rv) return rv;
    if (!data && len) return wt__cfail(st->conn, WT__ST_SID(st), WT_ERR_INVALID, "wt_stream_write: no data");
    room = wt__stream_room(st, &by_budget);
    credit = wt__fc_tx_room(st->sess); /* session flow control: the peer's WT_MAX_DATA */
    if (credit < room) {
        room = (size_t)credit;
        by_credit = 1;
        by_budget = 0;
    }
    take = WT__MIN(len, room);
    if (take > INT32_MAX) take = INT32_MAX;
    if (take && (rv = wt__sendbuf_append(&st->conn->ep->alloc, &st->tx, data, take)) != WT_OK)
        return wt__cfail(st->conn, WT__ST_SID(st), rv, "wt_stream_write: out of memory");
    wt__stream_budget(st, take, 0);
    st->tx_total += take;
    wt__stream_fc_queued(st, take);
    if (take < len) {
        st->want_writable = 1;
        if (by_budget) wt__stream_wait_budget(st);
        if (by_credit) {
            st->fc_wait = 1;
            wt__fc_tx_blocked(st->sess);
        }
    }
    if (take) wt__stream_queue_send(st);
    return (int)take;
}

int wt_stream_write_all(wt_stream *st, const void *data, size_t len, int fin) {
    wt__conn *c;
    const wt_limits *l;
    int rv = wt__stream_can_send(st, "wt_stream_write_all");
    if (rv) return rv;
    c = st->conn;
    l = &c->ep->lim;
    if (!data && len) return wt__cfail(c, WT__ST_SID(st), WT_ERR_INVALID, "wt_stream_write_all: no data");
    if ((uint64_t)st->tx_acct + len > (uint64_t)l->stream_send_buffer + l->stream_queue)
        return wt__cfail_at(c, WT__ST_SID(st), WT_LOG_WARN, WT_ERR_LIMIT,
                            "wt_stream_write_all: %zu bytes on stream %lld holding %zu: past stream_send_buffer + "
                            "stream_queue (%u + %u): nothing queued", len, (long long)st->id, st->tx_acct,
                            (unsigned)l->stream_send_buffer, (unsigned)l->stream_queue);
    if ((uint64_t)c->wt.tx_stored + len > l->conn_send_buffer || (uint64_t)c->ep->tx_stored + len > l->total_send_buffer)
        return wt__cfail_at(c, WT__ST_SID(st), WT_LOG_WARN, WT_ERR_LIMIT,
                            "wt_stream_write_all: %zu bytes would pass conn_send_buffer (%u) or total_send_buffer "
                            "(%u): nothing queued", len, (unsigned)l->conn_send_buffer, (unsigned)l->total_send_buffer);
    if (len && (rv = wt__sendbuf_append_all(&c->ep->alloc, &st->tx, data, len)) != WT_OK)
        return wt__cfail(c, WT__ST_SID(st), rv, "wt_stream_write_all: out of memory: nothing queued");
    wt__stream_budget(st, len, 0);
    st->tx_total += len;
    wt__stream_fc_queued(st, len);
    if (fin) st->fin_queued = 1;
    if (len || fin) wt__stream_queue_send(st);
    return WT_OK;
}

int wt_stream_write_ref(wt_stream *st, const void *data, size_t len, int fin, wt_write_done_fn done, void *user) {
    wt__conn *c;
    wt__ref *r;
    int rv = wt__stream_can_send(st, "wt_stream_write_ref");
    if (rv) return rv;
    c = st->conn;
    if ((!data && len) || !done)
        return wt__cfail(c, WT__ST_SID(st), WT_ERR_INVALID, "wt_stream_write_ref: no data or no done function");
    /* the loop's allocator: the loop frees it once done has run */
    r = (wt__ref *)wt__alloc(&c->ep->loop->alloc, sizeof *r);
    if (!r || wt__sendbuf_append_ref(&c->ep->alloc, &st->tx, data, len) != WT_OK) {
        wt__free(&c->ep->loop->alloc, r);
        return wt__cfail(c, WT__ST_SID(st), WT_ERR_NOMEM, "wt_stream_write_ref: out of memory");
    }
    r->next = NULL;
    r->start = st->tx_total;
    st->tx_total += len;
    wt__stream_fc_queued(st, len);
    r->end = st->tx_total;
    r->data = data;
    r->len = len;
    r->done = done;
    r->user = user;
    if (st->refs_tail) st->refs_tail->next = r;
    else st->refs = r;
    st->refs_tail = r;
    if (fin) st->fin_queued = 1;
    if (len || fin) wt__stream_queue_send(st);
    if (r->end <= st->tx_acked) {
        /* empty, after everything acknowledged: complete (from the queue) */
        st->refs = st->refs_tail = NULL;
        wt__loop_emit_done(c->ep->loop, st->sess, st, r, WT_OK);
    }
    return WT_OK;
}

int wt_stream_finish(wt_stream *st) {
    int rv = wt__stream_can_send(st, "wt_stream_finish");
    if (rv) return rv;
    st->fin_queued = 1;
    wt__stream_queue_send(st);
    return WT_OK;
}

int wt_stream_reset(wt_stream *st, uint32_t code) {
    int rv = wt__stream_can_send(st, "wt_stream_reset");
    if (rv) return rv;
    wt__stream_fc_refund(st);
    st->reset_sent = 1;
    wt__stream_unqueue_send(st);
    wt__tp_shutdown(st->conn, WT__TP_WRITE, st->id, wt_code_to_h3(code));
    st->conn->dirty = 1;
    wt__stream_fail_refs(st, WT_ERR_CLOSED);
    return WT_OK;
}

int wt_stream_stop_sending(wt_stream *st, uint32_t code) {
    if (!st) return wt__fail(NULL, WT_ERR_INVALID, "wt_stream_stop_sending: no stream");
    if (st->closed || !st->sess)
        return wt__cfail_at(st->conn, WT__ST_SID(st), WT_LOG_DEBUG, WT_ERR_CLOSED, "wt_stream_stop_sending: stream closed");
    if (!st->bidi && st->local)
        return wt__cfail(st->conn, WT__ST_SID(st), WT_ERR_STATE, "wt_stream_stop_sending: our own unidirectional stream");
    if (st->read_done || st->stop_sent)
        return wt__cfail_at(st->conn, WT__ST_SID(st), WT_LOG_DEBUG, WT_ERR_CLOSED,
                            "wt_stream_stop_sending: nothing left to read");
    st->stop_sent = 1;
    st->read_done = 1;
    if (!st->transport_closed) wt__tp_shutdown(st->conn, WT__TP_READ, st->id, wt_code_to_h3(code));
    wt__stream_credit(st, st->uncredited);
    wt__buf_free(&st->conn->ep->alloc, &st->rx);
    st->conn->dirty = 1;
    wt__stream_maybe_end(st);
    return WT_OK;
}

int wt_stream_pause(wt_stream *st, int paused) {
    if (!st) return wt__fail(NULL, WT_ERR_INVALID, "wt_stream_pause: no stream");
    if (st->closed)
        return wt__cfail_at(st->conn, WT__ST_SID(st), WT_LOG_DEBUG, WT_ERR_CLOSED, "wt_stream_pause: stream closed");
    if (st->read_all)
        return wt__cfail(st->conn, WT__ST_SID(st), WT_ERR_STATE, "wt_stream_pause: the stream is read whole (read_all)");
    if (paused) {
        st->paused = 1;
        return WT_OK;
    }
    if (!st->paused) return WT_OK;
    st->paused = 0;
    if (!st->read_done && (st->rx.len || st->fin_received)) wt__stream_deliver_held(st);
    if (!st->closed) wt__stream_maybe_end(st);
    return WT_OK;
}

int wt_stream_read_all(wt_stream *st, size_t limit) {
    if (!st || !limit)
        return wt__fail(st ? &st->conn->ep->log : NULL, WT_ERR_INVALID, "wt_stream_read_all: no stream or limit 0");
    if (st->closed)
        return wt__cfail_at(st->conn, WT__ST_SID(st), WT_LOG_DEBUG, WT_ERR_CLOSED, "wt_stream_read_all: stream closed");
    if (st->read_done)
        return wt__cfail(st->conn, WT__ST_SID(st), WT_ERR_STATE, "wt_stream_read_all: the stream was read already");
    if (st->bidi == 0 && st->local)
        return wt__cfail(st->conn, WT__ST_SID(st), WT_ERR_STATE, "wt_stream_read_all: our own unidirectional stream");
    st->read_all = 1;
    st->read_all_limit = limit;
    if (st->paused) {
        /* what was held while paused is part of the collection */
        st->paused = 0;
        wt__stream_credit(st, st->rx.len);
        if (st->rx.len > limit) wt__stream_read_all_over(st, NULL, 0);
        else if (st->fin_received) {
            st->read_all = 0;
            wt__stream_deliver_held(st);
        }
        if (!st->closed) wt__stream_maybe_end(st);
    }
    return WT_OK;
}
