/* wt_trace.c - seeing inside a connection: one qlog file per connection
   (ngtcp2's transport events with WebTransport events beside them), the
   TLS key log for Wireshark, and the names log lines are tagged with. */
#include "wt_internal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- set-up */
/* A config value wins; NULL falls back to the environment; "" is off. */
static const char *wt__trace_pick(const char *cfg, const char *env, int *from_env) {
    *from_env = 0;
    if (cfg) return *cfg ? cfg : NULL;
    cfg = getenv(env);
    *from_env = cfg && *cfg;
    return *from_env ? cfg : NULL;
}

static int wt__trace_init(wt__ep *ep, const char *qlog_dir, const char *tls_keylog) {
    int env;
    const char *dir = wt__trace_pick(qlog_dir, "QLOGDIR", &env), *kl;
    struct stat st;
    if (dir) {
        (void)mkdir(dir, 0755); /* the last level, for convenience: stat says if it is there */
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK) != 0) {
            if (!env) return wt__fail(&ep->log, WT_ERR_IO, "qlog_dir %s: not a writable directory", dir);
            wt__log(&ep->log, WT_LOG_ERROR, "QLOGDIR=%s is not a writable directory: no qlog", dir);
        } else if (!(ep->qlog_dir = wt__strdup(&ep->alloc, dir))) {
            return wt__fail(&ep->log, WT_ERR_NOMEM, "qlog_dir: out of memory");
        } else {
            wt__log(&ep->log, WT_LOG_INFO, "qlog: one file per connection in %s", dir);
        }
    }
    kl = wt__trace_pick(tls_keylog, "SSLKEYLOGFILE", &env);
    if (!kl) return WT_OK;
#ifdef HAVE_SECRET_CALLBACK
    ep->keylog_fd = open(kl, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (ep->keylog_fd < 0) {
        int e = errno;
        if (!env) return wt__fail(&ep->log, WT_ERR_IO, "tls_keylog %s: %s", kl, strerror(e));
        wt__log(&ep->log, WT_LOG_ERROR, "SSLKEYLOGFILE=%s: %s: no TLS key log", kl, strerror(e));
        return WT_OK;
    }
    if (!(ep->keylog_path = wt__strdup(&ep->alloc, kl)))
        return wt__fail(&ep->log, WT_ERR_NOMEM, "tls_keylog: out of memory");
    /* the secrets decrypt every byte of every connection: never by accident */
    wt__log(&ep->log, WT_LOG_WARN,
            "TLS KEY LOG IS ON%s: the secrets of every connection are appended to %s, and anyone who reads "
            "that file can decrypt this %s's traffic. For debugging only.",
            env ? " (SSLKEYLOGFILE)" : "", kl, ep->server ? "server" : "client");
    return WT_OK;
#else
    /* a system wolfSSL built without HAVE_SECRET_CALLBACK never shows its secrets */
    if (!env)
        return wt__fail(&ep->log, WT_ERR_STATE,
                        "tls_keylog: this wolfSSL was built without HAVE_SECRET_CALLBACK, so the TLS secrets "
                        "cannot be logged (rebuild it with CPPFLAGS=-DHAVE_SECRET_CALLBACK, as make deps does)");
    wt__log(&ep->log, WT_LOG_ERROR,
            "SSLKEYLOGFILE is set, but this wolfSSL was built without HAVE_SECRET_CALLBACK: no TLS key log "
            "(rebuild it with CPPFLAGS=-DHAVE_SECRET_CALLBACK, as make deps does)");
    return WT_OK;
#endif
}

static void wt__trace_free(wt__ep *ep) {
    if (ep->keylog_fd >= 0) close(ep->keylog_fd);
    ep->keylog_fd = -1;
    wt__free(&ep->alloc, ep->keylog_path);
    ep->keylog_path = NULL;
    wt__free(&ep->alloc, ep->qlog_dir);
    ep->qlog_dir = NULL;
}

/* ---------------------------------------------------------------- TLS key log */
#ifdef HAVE_SECRET_CALLBACK
/* NSS key log format, as Wireshark reads it: LABEL <client random> <secret>. */
static int wt__keylog_secret(WOLFSSL *ssl, int id, const unsigned char *secret, int len, void *ctx) {
    wt__ep *ep = (wt__ep *)ctx;
    const char *label;
    unsigned char random[32];
    char line[64 + 2 * 32 + 2 * 64 + 4];
    size_t n;
    switch (id) {
    case CLIENT_EARLY_TRAFFIC_SECRET: label = "CLIENT_EARLY_TRAFFIC_SECRET"; break;
    case CLIENT_HANDSHAKE_TRAFFIC_SECRET: label = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"; break;
    case SERVER_HANDSHAKE_TRAFFIC_SECRET: label = "SERVER_HANDSHAKE_TRAFFIC_SECRET"; break;
    case CLIENT_TRAFFIC_SECRET: label = "CLIENT_TRAFFIC_SECRET_0"; break;
    case SERVER_TRAFFIC_SECRET: label = "SERVER_TRAFFIC_SECRET_0"; break;
    case EARLY_EXPORTER_SECRET: label = "EARLY_EXPORTER_SECRET"; break;
    case EXPORTER_SECRET: label = "EXPORTER_SECRET"; break;
    default: return 0; /* (ECH) nothing Wireshark needs */
    }
    if (ep->keylog_fd < 0 || len <= 0 || len > 64 || wolfSSL_get_client_random(ssl, random, sizeof random) != 32)
        return 0;
    n = (size_t)snprintf(line, sizeof line, "%s ", label);
    wt_hex(random, 32, line + n);
    n += 64;
    line[n++] = ' ';
    wt_hex(secret, (size_t)len, line + n);
    n += 2 * (size_t)len;
    line[n++] = '\n';
    /* one write per line: O_APPEND keeps lines whole when processes share the file */
    if (write(ep->keylog_fd, line, n) != (ssize_t)n && !ep->keylog_failed) {
        ep->keylog_failed = 1;
        wt__log(&ep->log, WT_LOG_ERROR, "TLS key log %s: write failed (%s): secrets are missing from it",
                ep->keylog_path, strerror(errno));
    }
    return 0; /* never fail a handshake over the log */
}
#endif

#ifdef HAVE_SECRET_CALLBACK
/* Every TLS 1.3 secret of a connection passes here: the exporter secret is
   kept (wt_session_export_keying_material), the key log gets them all. */
static int wt__tls_secret(WOLFSSL *ssl, int id, const unsigned char *secret, int len, void *ctx) {
    wt__conn *c = (wt__conn *)ctx;
    if (id == EXPORTER_SECRET && (len == 32 || len == 48)) {
        memcpy(c->tp.exporter, secret, (size_t)len);
        c->tp.exporter_len = (uint8_t)len;
    }
    return wt__keylog_secret(ssl, id, secret, len, c->ep);
}
#endif

/* A connection's TLS object: its secrets come to wt__tls_secret. */
static void wt__tls_attach(wt__conn *c) {
    wolfSSL_set_app_data(c->tp.ssl, &c->tp.ref);
#ifdef HAVE_SECRET_CALLBACK
    wolfSSL_set_tls13_secret_cb(c->tp.ssl, wt__tls_secret, c);
#endif
}

/* ---------------------------------------------------------------- qlog files */
static void wt__trace_conn(wt__conn *c, const ngtcp2_cid *odcid) {
    wt__ep *ep = c->ep;
    char hex[2 * NGTCP2_MAX_CIDLEN + 1], *path;
    size_t n;
    int fd;
    c->tp.odcid = *odcid;
    wt_hex(odcid->data, WT__MIN(odcid->datalen, (size_t)4), c->log_id);
    if (!ep->qlog_dir) return;
    wt_hex(odcid->data, odcid->datalen, hex);
    /* both ends name it after the client's first DCID: the pair sorts together */
    n = strlen(ep->qlog_dir) + strlen(hex) + 16;
    if (!(path = (char *)wt__alloc(&ep->alloc, n))) return;
    snprintf(path, n, "%s/%s_%s.sqlog", ep->qlog_dir, hex, ep->server ? "server" : "client");
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
    if (fd < 0) {
        wt__clog(c, -1, WT_LOG_WARN, "qlog %s: %s: this connection has none", path, strerror(errno));
        wt__free(&ep->alloc, path);
        return;
    }
    if (!(c->qlog = wt__qlog_new(c, fd, path))) {
        close(fd);
        wt__free(&ep->alloc, path);
        return;
    }
    wt__clog(c, -1, WT_LOG_DEBUG, "qlog: %s", path);
}

static wt__qlog *wt__qlog_new(wt__conn *c, int fd, const char *path) {
    wt__qlog *q = (wt__qlog *)wt__calloc(&c->ep->alloc, sizeof *q);
    if (!q || !(q->buf = (uint8_t *)wt__alloc(&c->ep->alloc, WT__QLOG_BUF))) {
        wt__free(&c->ep->alloc, q);
        wt__clog(c, -1, WT_LOG_WARN, "qlog: out of memory: this connection has none");
        return NULL;
    }
    q->conn = c;
    q->fd = fd;
    q->path = (char *)path;
    q->last_flush_ns = wt__loop_ns(c->ep->loop);
    return q;
}

/* One write() of what is buffered, so the loop never waits on the disk for
   longer than that; what does not go stays for the next try. */
static void wt__qlog_flush(wt__qlog *q) {
    ssize_t w;
    if (!q->len) return;
    do w = write(q->fd, q->buf, q->len);
    while (w < 0 && errno == EINTR);
    q->last_flush_ns = wt__loop_ns(q->conn->ep->loop);
    if (w < 0) {
        /* EAGAIN (a pipe, say) is only slow: the count at the end tells */
        if (!q->write_failed && errno != EAGAIN) {
            wt__clog(q->conn, -1, WT_LOG_WARN, "qlog %s: %s: records are dropped (and counted) while it fails",
                     q->path, strerror(errno));
            q->write_failed = 1;
        }
        return;
    }
    q->len -= (size_t)w;
    memmove(q->buf, q->buf + w, q->len);
}

static uint64_t wt__qlog_time(const wt__qlog *q) {
    uint64_t now = wt__loop_ns(q->conn->ep->loop);
    return now > q->t0_ns ? (now - q->t0_ns) / 1000000 : 0; /* ms, as ngtcp2 writes them */
}

/* Tells the file how many records it is missing, once there is room. */
static int wt__qlog_note_drops(wt__qlog *q) {
    char rec[160];
    int n;
    if (q->dropped == q->dropped_noted) return 1;
    n = snprintf(rec, sizeof rec,
                 "\x1e{\"time\":%llu,\"name\":\"wt:qlog_records_dropped\",\"data\":{\"records\":%llu,\"bytes\":%llu}}\n",
                 (unsigned long long)wt__qlog_time(q), (unsigned long long)q->dropped,
                 (unsigned long long)q->dropped_bytes);
    if (q->len + (size_t)n > WT__QLOG_BUF) return 0;
    memcpy(q->buf + q->len, rec, (size_t)n);
    q->len += (size_t)n;
    q->dropped_noted = q->dropped;
    return 1;
}

static void wt__qlog_put(wt__qlog *q, const void *rec, size_t len) {
    if (q->len + len + 160 > WT__QLOG_BUF) wt__qlog_flush(q);
    if (q->len + len + 160 > WT__QLOG_BUF || !wt__qlog_note_drops(q)) {
        q->dropped++;
        q->dropped_bytes += len;
        return;
    }
    memcpy(q->buf + q->len, rec, len);
    q->len += len;
    if (q->len >= WT__QLOG_BUF / 2 || wt__loop_ns(q->conn->ep->loop) - q->last_flush_ns >= 1000000000ULL)
        wt__qlog_flush(q);
}

static void wt__qlog_close(wt__conn *c) {
    wt__qlog *q = c->qlog;
    if (!q) return;
    c->qlog = NULL;
    wt__qlog_flush(q);
    if (q->dropped != q->dropped_noted && wt__qlog_note_drops(q)) wt__qlog_flush(q);
    if (q->dropped)
        wt__clog(c, -1, WT_LOG_WARN, "qlog %s: %llu records (%llu bytes) dropped: the file did not keep up", q->path,
                 (unsigned long long)q->dropped, (unsigned long long)q->dropped_bytes);
    if (q->len)
        wt__clog(c, -1, WT_LOG_WARN, "qlog %s: the last %zu bytes could not be written", q->path, q->len);
    close(q->fd);
    wt__free(&c->ep->alloc, q->path);
    wt__free(&c->ep->alloc, q->buf);
    wt__free(&c->ep->alloc, q);
}

static void wt__qlog_ngtcp2(void *user, uint32_t flags, const void *data, size_t len) {
    wt__conn *c = (wt__conn *)user;
    if (!c->qlog) return;
    if (len) wt__qlog_put(c->qlog, data, len);
    if (flags & NGTCP2_QLOG_WRITE_FLAG_FIN) wt__qlog_close(c);
}

/* ---------------------------------------------------------------- WebTransport records */
/* A JSON record built in place; strings are cut rather than overflow. */
/* The text lives in the connection's qlog (heap), not on the stack. */
typedef struct wt__jrec {
    char *buf;
    size_t n;
} wt__jrec;

static void wt__j_raw(wt__jrec *r, const char *s, size_t n) {
    if (n > WT__JREC_MAX - r->n) n = WT__JREC_MAX - r->n;
    memcpy(r->buf + r->n, s, n);
    r->n += n;
}

static void wt__j_key(wt__jrec *r, const char *key) {
    if (r->buf[r->n - 1] != '{') wt__j_raw(r, ",", 1);
    wt__j_raw(r, "\"", 1);
    wt__j_raw(r, key, strlen(key));
    wt__j_raw(r, "\":", 2);
}

static void wt__j_num(wt__jrec *r, const char *key, long long v) {
    char num[24];
    wt__j_key(r, key);
    wt__j_raw(r, num, (size_t)snprintf(num, sizeof num, "%lld", v));
}

/* Length of the valid UTF-8 sequence at p (RFC 3629), 0 if there is none. */
static size_t wt__utf8_len(const uint8_t *p, size_t n) {
    size_t k, i;
    if (p[0] < 0x80) return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) k = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef) k = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4) k = 4;
    else return 0;
    if (n < k) return 0;
    for (i = 1; i < k; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) || (p[0] == 0xf0 && p[1] < 0x90) ||
        (p[0] == 0xf4 && p[1] > 0x8f))
        return 0; /* overlong, surrogate, above U+10FFFF */
    return k;
}

/* A JSON string of at most max input bytes: peers send what they like, so
   control characters are escaped and bytes that are not UTF-8 become U+FFFD. */
static void wt__j_str(wt__jrec *r, const char *key, const char *s, size_t len, size_t max) {
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    wt__j_key(r, key);
    wt__j_raw(r, "\"", 1);
    if (len > max) len = max;
    while (i < len && r->n + 16 < WT__JREC_MAX) {
        size_t k = wt__utf8_len(p + i, len - i);
        char esc[8];
        if (k == 0) {
            wt__j_raw(r, "\\ufffd", 6);
            i++;
        } else if (p[i] == '"' || p[i] == '\\') {
            esc[0] = '\\', esc[1] = (char)p[i];
            wt__j_raw(r, esc, 2);
            i++;
        } else if (p[i] < 0x20 || p[i] == 0x7f) {
            wt__j_raw(r, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", p[i]));
            i++;
        } else {
            wt__j_raw(r, s + i, k);
            i += k;
        }
    }
    wt__j_raw(r, "\"", 1);
}

static void wt__j_begin(wt__jrec *r, wt__conn *c, const char *name) {
    int n;
    r->buf = c->qlog->rec;
    n = snprintf(r->buf, WT__JREC_MAX, "\x1e{\"time\":%llu,\"name\":\"webtransport:%s\",\"data\":{",
                     (unsigned long long)wt__qlog_time(c->qlog), name);
    r->n = (size_t)n;
}

static void wt__j_end(wt__jrec *r, wt__conn *c) {
    if (r->n > WT__JREC_MAX - 4) r->n = WT__JREC_MAX - 4; /* cannot happen: strings stop short */
    wt__j_raw(r, "}}\n", 3);
    wt__qlog_put(c->qlog, r->buf, r->n);
}

static void wt__qlog_session(wt_session *s, const char *what, int status) {
    wt__conn *c = s->conn;
    int requested = !strcmp(what, "session_requested");
    wt__jrec r;
    wt__j_begin(&r, c, what);
    wt__j_num(&r, "session_id", s->id);
    /* the client asks, the server answers: who is that here */
    wt__j_str(&r, "owner", s->server != requested ? "local" : "remote", s->server != requested ? 5 : 6, 6);
    if (status) wt__j_num(&r, "status", status);
    if (requested) {
        if (s->authority) wt__j_str(&r, "authority", s->authority, strlen(s->authority), 512);
        if (s->path) wt__j_str(&r, "path", s->path, strlen(s->path), 1024);
        if (s->protocol) wt__j_str(&r, "protocol", s->protocol, strlen(s->protocol), 64);
        if (s->origin) wt__j_str(&r, "origin", s->origin, strlen(s->origin), 512);
    }
    wt__j_end(&r, c);
}

static void wt__qlog_session_closed(wt_session *s, int error) {
    wt__conn *c = s->conn;
    wt__jrec r;
    wt__j_begin(&r, c, "session_closed");
    if (s->id >= 0) wt__j_num(&r, "session_id", s->id); /* a client's that never got its stream has none */
    /* a close capsule (or wt_session_close) names a side; a refusal, a bare
       FIN or a lost connection leave it to wt_error */
    if (s->close_received) {
        wt__j_str(&r, "closed_by", "remote", 6, 6);
        wt__j_num(&r, "error_code", s->close_code);
        wt__j_str(&r, "reason", s->close_reason ? s->close_reason : "", s->close_reason_len, WT__REASON_MAX);
    } else if (s->local_reason) {
        wt__j_str(&r, "closed_by", "local", 5, 6);
        wt__j_num(&r, "error_code", s->local_code);
        wt__j_str(&r, "reason", s->local_reason, s->local_reason_len, WT__REASON_MAX);
    }
    wt__j_num(&r, "wt_error", error);
    wt__j_str(&r, "wt_error_name", wt_strerror(error), strlen(wt_strerror(error)), 64);
    wt__j_end(&r, c);
}

/* The fields every capsule event starts with. */
static void wt__qlog_capsule_begin(wt__jrec *r, wt_session *s, int sent, uint64_t type) {
    const char *name = wt__capsule_name(type);
    wt__j_begin(r, s->conn, sent ? "capsule_sent" : "capsule_received");
    wt__j_num(r, "session_id", s->id);
    wt__j_str(r, "capsule_type", name, strlen(name), 64);
    wt__j_num(r, "capsule_type_value", (long long)type);
}

static void wt__qlog_capsule(wt_session *s, int sent, uint64_t type, uint32_t code, const char *reason, size_t len) {
    wt__conn *c = s->conn;
    wt__jrec r;
    wt__qlog_capsule_begin(&r, s, sent, type);
    if (type == WT__CAPSULE_CLOSE) {
        wt__j_num(&r, "error_code", code);
        wt__j_str(&r, "reason", reason ? reason : "", len, WT__REASON_MAX);
    }
    wt__j_end(&r, c);
}

static const char *wt__capsule_name(uint64_t type) {
    switch (type) {
    case WT__CAPSULE_CLOSE: return "close_webtransport_session";
    case WT__CAPSULE_DRAIN: return "drain_webtransport_session";
    case WT__CAPSULE_MAX_DATA: return "wt_max_data";
    case WT__CAPSULE_MAX_STREAMS_BIDI: return "wt_max_streams_bidi";
    case WT__CAPSULE_MAX_STREAMS_UNI: return "wt_max_streams_uni";
    case WT__CAPSULE_DATA_BLOCKED: return "wt_data_blocked";
    case WT__CAPSULE_STREAMS_BLOCKED_BIDI: return "wt_streams_blocked_bidi";
    case WT__CAPSULE_STREAMS_BLOCKED_UNI: return "wt_streams_blocked_uni";
    case WT__CAPSULE_MAX_STREAM_DATA: return "wt_max_stream_data";
    case WT__CAPSULE_STREAM_DATA_BLOCKED: return "wt_stream_data_blocked";
    }
    return "unknown";
}

static void wt__qlog_fc_capsule(wt_session *s, int sent, uint64_t type, uint64_t value) {
    wt__conn *c = s->conn;
    wt__jrec r;
    wt__qlog_capsule_begin(&r, s, sent, type);
    wt__j_num(&r, "value", (long long)value);
    wt__j_end(&r, c);
}

static void wt__qlog_stream(wt_stream *st, const char *what, const char *why) {
    wt__conn *c = st->conn;
    wt__jrec r;
    wt__j_begin(&r, c, what);
    wt__j_num(&r, "session_id", (long long)st->session_id);
    wt__j_num(&r, "stream_id", st->id);
    wt__j_str(&r, "stream_type", st->bidi ? "bidirectional" : "unidirectional", st->bidi ? 13 : 14, 16);
    wt__j_str(&r, "owner", st->local ? "local" : "remote", st->local ? 5 : 6, 6);
    if (why) wt__j_str(&r, "reason", why, strlen(why), 256);
    wt__j_end(&r, c);
}

static void wt__qlog_datagram(wt__conn *c, int64_t session_id, const char *what, size_t len) {
    wt__jrec r;
    wt__j_begin(&r, c, what);
    wt__j_num(&r, "session_id", session_id);
    if (len) wt__j_num(&r, "length", (long long)len);
    wt__j_end(&r, c);
}
