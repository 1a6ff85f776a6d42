/* wt_client.c - the client: https:// URLs, server verification, sessions. */
#include "wt_internal.h"

#include <netdb.h>

struct wt_client {
    wt__ep ep;
    char *origin;
    char **headers; /* name, value, ..., NULL */
    size_t nheaders;
    char *protocols; /* the wt-available-protocols value, or NULL */
};

static void wt__client_free(wt_client *cl);

static void wt__client_no_request(wt__ep *ep, wt_session *s) {
    WT__UNUSED(ep);
    s->reject_status = 404;
}

/* Splits https://host[:port][/path] (host may be [IPv6]). */
static int wt__parse_url(const char *url, char *host, size_t hostcap, uint16_t *port, const char **path) {
    const char *p, *h, *he, *slash;
    size_t hl;
    long pn = 443;
    if (!url || strncmp(url, "https://", 8) != 0) return WT_ERR_URL;
    h = url + 8;
    slash = strchr(h, '/');
    he = slash ? slash : h + strlen(h);
    /* a query or fragment needs a path first; userinfo is not supported */
    if (memchr(h, '?', (size_t)(he - h)) || memchr(h, '#', (size_t)(he - h)) || memchr(h, '@', (size_t)(he - h)))
        return WT_ERR_URL;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(he - h));
        if (!rb) return WT_ERR_URL;
        hl = (size_t)(rb - h - 1);
        if (hl == 0 || hl >= hostcap) return WT_ERR_URL;
        memcpy(host, h + 1, hl);
        p = rb + 1;
    } else {
        const char *colon = memchr(h, ':', (size_t)(he - h));
        p = colon ? colon : he;
        hl = (size_t)(p - h);
        if (hl == 0 || hl >= hostcap) return WT_ERR_URL;
        memcpy(host, h, hl);
    }
    host[hl] = 0;
    if (p < he) {
        char *end;
        if (*p != ':' || p[1] < '0' || p[1] > '9') return WT_ERR_URL; /* strtol allows sign, spaces */
        pn = strtol(p + 1, &end, 10);
        if (end != he || pn < 1 || pn > 65535) return WT_ERR_URL;
    }
    *port = (uint16_t)pn;
    *path = slash ? slash : "/";
    return WT_OK;
}

wt_client *wt_client_create(const wt_client_config *cfg) {
    wt_client *cl;
    const wt_log *lg;
    size_t i, n = 0;
    if (!cfg) {
        wt__fail(NULL, WT_ERR_INVALID, "wt_client_create: no config");
        return NULL;
    }
    lg = &cfg->log;
    if (!cfg->ca_file && !cfg->cert_sha256 && !cfg->insecure) {
        wt__fail(lg, WT_ERR_INVALID, "wt_client_create: set ca_file, cert_sha256, or insecure = 1");
        return NULL;
    }
    cl = (wt_client *)wt__calloc(&cfg->alloc, sizeof *cl);
    if (!cl) {
        wt__fail(lg, WT_ERR_NOMEM, "wt_client_create: out of memory");
        return NULL;
    }
    if (wt__ep_init(&cl->ep, cfg->loop, 0, &cfg->alloc, &cfg->log, &cfg->limits) != WT_OK) goto fail;
    cl->ep.owner = cl;
    cl->ep.on_request = wt__client_no_request;
    if (cfg->dialect < WT_DIALECT_AUTO || cfg->dialect > WT_DIALECT_LATEST) {
        wt__fail(lg, WT_ERR_INVALID, "wt_client_create: dialect %d is not a wt_dialect", (int)cfg->dialect);
        goto fail;
    }
    cl->ep.dialect = cfg->dialect;
    cl->ep.test_ignore_limits = cfg->test_ignore_session_limits != 0;
    if (cl->ep.test_ignore_limits)
        wt__log(lg, WT_LOG_WARN, "client created with test_ignore_session_limits = 1: it breaks flow control on purpose");
    cl->ep.io = cfg->io;
    if (wt__tls_set_groups(&cl->ep, cfg->tls_groups, cfg->tls_key_shares) != WT_OK) goto fail;
    if (wt__trace_init(&cl->ep, cfg->qlog_dir, cfg->tls_keylog) != WT_OK) goto fail;
    if (cfg->ca_file) {
        if (wolfSSL_CTX_load_verify_locations(cl->ep.ssl_ctx, cfg->ca_file, NULL) != WOLFSSL_SUCCESS) {
            wt__fail(lg, WT_ERR_CERT, "cannot load CA file %s", cfg->ca_file);
            goto fail;
        }
        wolfSSL_CTX_set_verify(cl->ep.ssl_ctx, WOLFSSL_VERIFY_PEER, NULL);
        cl->ep.verify_peer = 1;
    } else {
        /* a pin is checked when the handshake completes; insecure checks nothing */
        wolfSSL_CTX_set_verify(cl->ep.ssl_ctx, WOLFSSL_VERIFY_NONE, NULL);
        if (cfg->cert_sha256) {
            memcpy(cl->ep.pin, cfg->cert_sha256, 32);
            cl->ep.has_pin = 1;
        } else {
            wt__log(lg, WT_LOG_WARN, "client created with insecure = 1: the server is not verified");
        }
    }
    if (cfg->origin && !(cl->origin = wt__strdup(&cfg->alloc, cfg->origin))) goto nomem;
    while (cfg->headers && cfg->headers[n]) n++;
    if (n % 2) {
        wt__fail(lg, WT_ERR_INVALID, "wt_client_create: headers must come in name, value pairs");
        goto fail;
    }
    if (n) {
        cl->headers = (char **)wt__calloc(&cfg->alloc, (n + 1) * sizeof(char *));
        if (!cl->headers) goto nomem;
        for (i = 0; i < n; i++)
            if (!(cl->headers[i] = wt__strdup(&cfg->alloc, cfg->headers[i]))) goto nomem;
        cl->nheaders = n / 2;
    }
    if (wt__alpn_offer_value(&cfg->alloc, lg, cfg->protocols, &cl->protocols) != WT_OK) goto fail;
    return cl;
nomem:
    wt__fail(lg, WT_ERR_NOMEM, "wt_client_create: out of memory");
fail:
    wt__client_free(cl); /* not on any stack yet: safe inside a handler too */
    return NULL;
}

static wt__conn *wt__client_reusable(wt_client *cl, const char *host, uint16_t port) {
    wt__conn *c;
    for (c = cl->ep.conns; c; c = c->next) {
        size_t live = 0;
        wt_session *s;
        if (c->state > WT__CONN_OPEN || c->h3.goaway || !c->host || strcmp(c->host, host) != 0 || c->port != port)
            continue;
        for (s = c->wt.sessions; s; s = s->next) {
            live += s->state != WT__SESS_CLOSED;
            /* a DRAIN can come before the GOAWAY (they travel on different
               streams): a server winding down gets a fresh connection */
            if (s->drain_received) break;
        }
        if (s) continue;
        /* before the SETTINGS arrive the limit is unknown: share, the server
           refuses (429) past its limit */
        if (!c->h3.peer.seen) return c;
        {
            /* draft-16 5.1: the latest dialect without flow control allows
               one session per connection */
            int latest = cl->ep.dialect == WT_DIALECT_LATEST || (cl->ep.dialect == WT_DIALECT_AUTO && c->h3.peer.wt_enabled);
            if (latest && !WT__SETTINGS_FC(&c->h3.peer) && live >= 1) continue;
        }
        if (c->h3.peer.max_sessions > live) return c;
    }
    return NULL;
}

int wt_client_connect(wt_client *cl, const char *url, wt_handler fn, void *user, wt_session **out) {
    char host[256], authority[300];
    const char *path;
    uint16_t port;
    wt__conn *c;
    wt_session *s;
    size_t i;
    if (out) *out = NULL;
    if (!cl || !fn)
        return wt__fail(cl ? &cl->ep.log : NULL, WT_ERR_INVALID, "wt_client_connect: no client or no handler");
    if (cl->ep.closing_all) return wt__fail(&cl->ep.log, WT_ERR_STATE, "wt_client_connect: the client is being destroyed");
    if (wt__parse_url(url, host, sizeof host, &port, &path) != WT_OK)
        return wt__fail(&cl->ep.log, WT_ERR_URL, "not an https://host[:port][/path] URL: %s", url ? url : "(null)");
    c = wt__client_reusable(cl, host, port);
    if (!c) {
        struct addrinfo hints, *res = NULL;
        char ps[8];
        int rv;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_DGRAM;
        hints.ai_flags = AI_NUMERICSERV;
        snprintf(ps, sizeof ps, "%u", (unsigned)port);
        rv = getaddrinfo(host, ps, &hints, &res);
        if (rv != 0 || !res)
            return wt__fail(&cl->ep.log, WT_ERR_IO, "cannot resolve %s: %s", host, gai_strerror(rv));
        c = wt__conn_client_new(&cl->ep, res->ai_addr, (socklen_t)res->ai_addrlen, host, port);
        freeaddrinfo(res);
        if (!c) return wt__fail(&cl->ep.log, WT_ERR_QUIC, "cannot start a connection to %s", url);
    }
    s = wt__session_new(c, -1, 0);
    if (!s) return wt__cfail(c, -1, WT_ERR_NOMEM, "wt_client_connect: out of memory");
    s->fn = fn;
    s->fn_user = user;
    if (strchr(host, ':')) snprintf(authority, sizeof authority, "[%s]:%u", host, (unsigned)port);
    else snprintf(authority, sizeof authority, "%s:%u", host, (unsigned)port);
    {
        /* the request exactly as it will be sent; the pseudo-headers also
           fill s->path and s->authority */
        const char *fixed[] = {":method", "CONNECT", ":protocol", "webtransport", ":scheme", "https",
                               ":authority", authority, ":path", path, "sec-webtransport-http3-draft02", "1",
                               "origin", cl->origin};
        size_t nf = cl->origin && *cl->origin ? WT__COUNTOF(fixed) : WT__COUNTOF(fixed) - 2;
        for (i = 0; i < nf; i += 2) wt__session_on_header(s, fixed[i], strlen(fixed[i]), fixed[i + 1], strlen(fixed[i + 1]));
    }
    for (i = 0; i < cl->nheaders; i++) {
        const char *n = cl->headers[2 * i], *v = cl->headers[2 * i + 1];
        wt__session_on_header(s, n, strlen(n), v, strlen(v));
    }
    if (cl->protocols) {
        wt__session_on_header(s, "wt-available-protocols", 22, cl->protocols, strlen(cl->protocols));
        wt__alpn_parse_offers(s); /* what was offered, for the check of the answer */
    }
    if (!s->path || !s->authority || s->bad_headers) {
        wt__session_free(s);
        return wt__cfail(c, -1, WT_ERR_NOMEM, "wt_client_connect: out of memory or headers over the limit");
    }
    if (c->h3.peer.seen) wt__conn_on_peer_settings(c);
    if (out) *out = s;
    return WT_OK;
}

static void wt__client_free(wt_client *cl) {
    wt_allocator a = cl->ep.alloc;
    size_t i;
    if (cl->ep.loop) {
        cl->ep.closing_all = 1;
        wt__ep_close_all(&cl->ep, 0, "");
    }
    wt__ep_free(&cl->ep);
    for (i = 0; cl->headers && cl->headers[i]; i++) wt__free(&a, cl->headers[i]);
    wt__free(&a, cl->headers);
    wt__free(&a, cl->origin);
    wt__free(&a, cl->protocols);
    wt__free(&a, cl);
}

void wt_client_destroy(wt_client *cl) {
    if (!cl || wt__loop_busy(cl->ep.loop, "wt_client_destroy")) return;
    wt__client_free(cl);
}

wt_loop *wt_client_loop(wt_client *cl) { return cl ? cl->ep.loop : NULL; }

int wt_client_input(wt_client *cl, const void *from, size_t from_len, const uint8_t *pkt, size_t len) {
    return cl ? wt__ep_input(&cl->ep, from, from_len, pkt, len) : WT_ERR_INVALID;
}
