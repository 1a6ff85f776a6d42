/* wt_stats.c - counters and path figures of sessions, connections, apps
   and clients. Counting happens where the events are (packets in and out in
   wt_quic.c, stream bytes in wt_stream.c, datagrams in wt_datagram.c); this
   only reads and adds them up. */
#include "wt_internal.h"

static void wt__stats_add(wt_stats *d, const wt_stats *s) {
    d->bytes_sent += s->bytes_sent;
    d->bytes_received += s->bytes_received;
    d->packets_sent += s->packets_sent;
    d->packets_received += s->packets_received;
    d->packets_lost += s->packets_lost;
    d->streams_opened += s->streams_opened;
    d->streams_closed += s->streams_closed;
    d->datagrams_sent += s->datagrams_sent;
    d->datagrams_received += s->datagrams_received;
    d->datagrams_lost += s->datagrams_lost;
    d->datagrams_dropped += s->datagrams_dropped;
    d->sessions_opened += s->sessions_opened;
    d->sessions_closed += s->sessions_closed;
}

/* ngtcp2's figures of the connection: RTT, congestion window, losses. */
static void wt__conn_path(wt__conn *c, wt_stats *out) {
    ngtcp2_conn_info ci;
    if (!c->tp.qc) return;
#if NGTCP2_VERSION_NUM >= 0x011700
    ngtcp2_conn_get_conn_info2(c->tp.qc, &ci);
#else
    ngtcp2_conn_get_conn_info(c->tp.qc, &ci);
#endif
    /* before the first sample ngtcp2 reports its initial guess (333 ms) */
    if (ci.min_rtt != UINT64_MAX) {
        out->smoothed_rtt_us = ci.smoothed_rtt / 1000;
        out->rtt_var_us = ci.rttvar / 1000;
        out->min_rtt_us = ci.min_rtt / 1000;
    }
    out->cwnd = ci.cwnd;
    out->bytes_in_flight = ci.bytes_in_flight;
#if NGTCP2_VERSION_NUM >= 0x011000
    out->packets_lost = ci.pkt_lost; /* added in ngtcp2 1.16 */
#endif
}

static void wt__conn_stats(wt__conn *c, wt_stats *out) {
    *out = c->stats;
    out->smoothed_rtt_us = out->rtt_var_us = out->min_rtt_us = out->cwnd = out->bytes_in_flight = 0;
    wt__conn_path(c, out);
    out->connections = 1;
}

static void wt__conn_stats_retire(wt__conn *c) {
    wt_stats cs;
    wt__conn_stats(c, &cs);
    wt__stats_add(&c->ep->closed, &cs);
}

static uint64_t wt__ep_stats(const wt__ep *ep, wt_stats *out) {
    wt__conn *c;
    uint64_t n = 0;
    memset(out, 0, sizeof *out);
    wt__stats_add(out, &ep->closed);
    for (c = ep->conns; c; c = c->next) {
        wt_stats cs;
        memset(&cs, 0, sizeof cs);
        wt__conn_stats(c, &cs);
        wt__stats_add(out, &cs);
        if (c->state != WT__CONN_OPEN) continue;
        out->cwnd += cs.cwnd;
        out->bytes_in_flight += cs.bytes_in_flight;
        if (!cs.min_rtt_us) continue; /* no sample yet */
        n++;
        out->smoothed_rtt_us += cs.smoothed_rtt_us;
        out->rtt_var_us += cs.rtt_var_us;
        if (!out->min_rtt_us || cs.min_rtt_us < out->min_rtt_us) out->min_rtt_us = cs.min_rtt_us;
    }
    if (n) {
        out->smoothed_rtt_us /= n;
        out->rtt_var_us /= n;
    }
    out->connections = ep->nconns;
    return n;
}

int wt_session_stats_get(const wt_session *s, wt_stats *out) {
    wt_stats cs;
    if (!s || !out) return wt__fail(s ? &s->conn->ep->log : NULL, WT_ERR_INVALID, "wt_session_stats_get: no session");
    wt__conn_stats(s->conn, &cs);
    *out = s->stats;
    out->packets_sent = cs.packets_sent;
    out->packets_received = cs.packets_received;
    out->packets_lost = cs.packets_lost;
    out->connections = 1;
    out->smoothed_rtt_us = cs.smoothed_rtt_us;
    out->rtt_var_us = cs.rtt_var_us;
    out->min_rtt_us = cs.min_rtt_us;
    out->cwnd = cs.cwnd;
    out->bytes_in_flight = cs.bytes_in_flight;
    return WT_OK;
}

int wt_session_connection_stats(const wt_session *s, wt_stats *out) {
    if (!s || !out)
        return wt__fail(s ? &s->conn->ep->log : NULL, WT_ERR_INVALID, "wt_session_connection_stats: no session");
    wt__conn_stats(s->conn, out);
    return WT_OK;
}

int wt_client_stats(const wt_client *c, wt_stats *out) {
    if (!c || !out) return wt__fail(c ? &c->ep.log : NULL, WT_ERR_INVALID, "wt_client_stats: no client or no out");
    wt__ep_stats(&c->ep, out);
    return WT_OK;
}
