/* wt_datagram.c - HTTP datagrams: quarter stream ID + payload in a QUIC
   DATAGRAM frame; bounded queues both ways. */
#include "wt_internal.h"

/* Room left in a full-size packet for the datagram payload: short header
   (1 + 20-byte CID + 4-byte packet number), AEAD tag, frame type and length. */
#define WT__DGRAM_OVERHEAD (1 + NGTCP2_MAX_CIDLEN + 4 + 16 + 1 + 8)

static wt__dgram *wt__dgram_new(wt__conn *c, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2) {
    wt__dgram *d = (wt__dgram *)wt__alloc(&c->ep->alloc, sizeof *d + n1 + n2);
    if (!d) return NULL;
    d->next = NULL;
    d->len = n1 + n2;
    if (n1) memcpy(d->data, p1, n1);
    if (n2) memcpy(d->data + n1, p2, n2);
    return d;
}

static void wt__dgram_emit(wt_session *s, const uint8_t *p, size_t n) {
    wt_event ev;
    s->stats.datagrams_received++;
    s->conn->stats.datagrams_received++;
    if (s->conn->qlog) wt__qlog_datagram(s->conn, s->id, "datagram_received", n);
    memset(&ev, 0, sizeof ev);
    ev.type = WT_EV_DATAGRAM;
    ev.data = p;
    ev.len = n;
    wt__session_emit(s, &ev);
}

static void wt__dgram_on_recv(wt__conn *c, const uint8_t *data, size_t len) {
    uint64_t q;
    size_t k = wt__varint_get(data, len, &q);
    wt_session *s;
    if (!k || q > (WT__VARINT_MAX >> 2)) return; /* malformed: drop */
    s = wt__session_find(c, q * 4);
    if (s && s->state == WT__SESS_OPEN) {
        wt__dgram_emit(s, data + k, len - k);
        return;
    }
    if (s || c->wt.npending_dgrams >= c->ep->lim.buffered_datagrams) return; /* gone or full: drop */
    {
        /* its session may still be on the way: keep a bounded few */
        wt__dgram *d = wt__dgram_new(c, data, len, NULL, 0);
        if (!d) return;
        if (c->wt.pending_dgrams_tail) c->wt.pending_dgrams_tail->next = d;
        else c->wt.pending_dgrams = d;
        c->wt.pending_dgrams_tail = d;
        c->wt.npending_dgrams++;
    }
}

static void wt__dgram_adopt_pending(wt__conn *c, wt_session *s) {
    wt__dgram **pp = &c->wt.pending_dgrams, *d;
    c->wt.pending_dgrams_tail = NULL;
    while ((d = *pp) != NULL) {
        uint64_t q = 0;
        size_t k = wt__varint_get(d->data, d->len, &q);
        if (k && q * 4 == (uint64_t)s->id) {
            *pp = d->next;
            c->wt.npending_dgrams--;
            if (s->state == WT__SESS_OPEN) wt__dgram_emit(s, d->data + k, d->len - k);
            wt__free(&c->ep->alloc, d);
            continue;
        }
        c->wt.pending_dgrams_tail = d;
        pp = &d->next;
    }
}

static void wt__dgram_free_all(wt__conn *c) {
    wt__dgram *lists[2], *d;
    int i;
    lists[0] = c->wt.pending_dgrams;
    lists[1] = c->wt.dq_head;
    for (i = 0; i < 2; i++)
        while ((d = lists[i]) != NULL) {
            lists[i] = d->next;
            wt__free(&c->ep->alloc, d);
        }
    c->wt.pending_dgrams = c->wt.pending_dgrams_tail = NULL;
    c->wt.dq_head = c->wt.dq_tail = NULL;
    c->wt.npending_dgrams = c->wt.dq_len = c->wt.dq_bytes = 0;
}

static size_t wt__dgram_room(wt__conn *c) {
    uint64_t frame_max;
    /* what fits a packet on the path as probed now, not the configured max */
    size_t room = wt__tp_path_payload(c, &frame_max);
    if (!frame_max) return 0;
    if (room > WT__MAX_UDP_PAYLOAD) room = WT__MAX_UDP_PAYLOAD;
    room = room > WT__DGRAM_OVERHEAD ? room - WT__DGRAM_OVERHEAD : 0;
    /* the peer's frame limit counts the frame type and length too */
    if (frame_max < (uint64_t)room + 9)
        room = frame_max > 9 ? (size_t)(frame_max - 9) : 0;
    return room;
}

static void wt__dgram_check_writable(wt__conn *c) {
    wt_session *s;
    /* hysteresis: not one event per datagram */
    if (c->wt.dq_len > c->ep->lim.datagram_queue / 2 || c->wt.dq_bytes > c->ep->lim.datagram_queue_bytes / 2) return;
    c->wt.dgram_waiters = 0;
    for (s = c->wt.sessions; s; s = s->next) {
        wt_event ev;
        if (!s->dgram_blocked) continue;
        s->dgram_blocked = 0;
        if (s->state != WT__SESS_OPEN) continue;
        memset(&ev, 0, sizeof ev);
        ev.type = WT_EV_DATAGRAM_WRITABLE;
        wt__session_emit(s, &ev);
    }
}

size_t wt_session_max_datagram_size(const wt_session *s) {
    size_t room, hdr;
    if (!s || s->state != WT__SESS_OPEN) return 0;
    room = wt__dgram_room(s->conn);
    hdr = wt__varint_len((uint64_t)s->id / 4);
    return room > hdr ? room - hdr : 0;
}

int wt_session_send_datagram(wt_session *s, const void *data, size_t len) {
    uint8_t q[8];
    size_t qn, room;
    wt__dgram *d;
    wt__conn *c;
    if (!s || (!data && len))
        return wt__fail(s ? &s->conn->ep->log : NULL, WT_ERR_INVALID,
                        "wt_session_send_datagram: no session or no data");
    c = s->conn;
    if (s->state != WT__SESS_OPEN || c->state != WT__CONN_OPEN)
        return wt__cfail_at(c, s->id, WT_LOG_DEBUG, WT_ERR_CLOSED, "wt_session_send_datagram: session not open");
    /* once per datagram: as wt_session_max_datagram_size, without asking
       ngtcp2 twice */
    if ((room = wt__dgram_room(c)) == 0)
        return wt__cfail(c, s->id, WT_ERR_STATE, "the peer does not accept datagrams");
    qn = wt__varint_put(q, (uint64_t)s->id / 4);
    room = room > qn ? room - qn : 0;
    if (len > room) return wt__cfail(c, s->id, WT_ERR_TOO_BIG, "datagram of %zu bytes; at most %zu fit", len, room);
    if (c->wt.dq_len >= c->ep->lim.datagram_queue ||
        (c->wt.dq_len && c->wt.dq_bytes + len > c->ep->lim.datagram_queue_bytes)) {
        s->stats.datagrams_dropped++;
        c->stats.datagrams_dropped++;
        if (!s->dgram_blocked) {
            s->dgram_blocked = 1; /* DATAGRAM_WRITABLE once the queue drains */
            c->wt.dgram_waiters++;
        }
        return wt__cfail_at(c, s->id, WT_LOG_DEBUG, WT_ERR_WOULDBLOCK,
                            "datagram queue full (%u datagrams, %u bytes): not queued",
                            (unsigned)c->ep->lim.datagram_queue, (unsigned)c->ep->lim.datagram_queue_bytes);
    }
    d = wt__dgram_new(c, q, qn, (const uint8_t *)data, len);
    if (!d) return wt__cfail(c, s->id, WT_ERR_NOMEM, "datagram: out of memory");
    if (c->wt.dq_tail) c->wt.dq_tail->next = d;
    else c->wt.dq_head = d;
    c->wt.dq_tail = d;
    c->wt.dq_len++;
    c->wt.dq_bytes += d->len;
    c->dirty = 1;
    return WT_OK;
}
