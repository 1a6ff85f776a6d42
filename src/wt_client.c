/* wt_client.c - the client: https:// URLs, server verification, sessions. */
#include "wt_internal.h"

#include <netdb.h>
#include <pthread.h>

struct wt_client {
    wt__ep ep;
    char *origin;
    char **headers; /* name, value, ..., NULL */
    size_t nheaders;
    wt_resolve_fn resolve;
    void *resolve_user;
    char *protocols; /* the wt-available-protocols value, or NULL */
};

/* ---------------------------------------------------------------- name lookups
   A lookup runs on a thread of its own (getaddrinfo blocks) or in the
   user's resolve hook, and may finish after the client is gone: its result
   goes into a slot that both sides hold a reference to. The resolver wakes
   the loop (wt_loop_wakeup) only while the client has not cancelled, under
   the slot's lock: the client cancels before it (and perhaps its loop) goes. */
#define WT__DIAL_MAX 16
#define WT__DIAL_STAGGER_MS 250 /* RFC 8305's connection attempt delay */

struct wt_resolve {
    pthread_mutex_t mu;
    int refs;                /* the client's and the resolver's */
    int done, cancelled;
    wt_loop *loop;           /* woken when done, unless cancelled */
    size_t skipped;          /* answers that were not numeric addresses */
    char error[128];
    struct sockaddr_storage addrs[WT__DIAL_MAX];
    size_t n;
    uint16_t port;
    char host[256];
};

typedef struct wt__dial {
    wt_resolve *res;                          /* a lookup under way, else NULL */
    struct sockaddr_storage addrs[WT__DIAL_MAX];
    size_t n, next;                           /* addresses, the next one to try */
    wt__conn *attempts[WT__DIAL_MAX];         /* under way */
    size_t nattempts;
    uint64_t next_ms;                         /* the next attempt may start then */
    int last_error;                           /* of the last attempt that failed */
    char tried[WT__DIAL_MAX * 50];            /* for the log */
} wt__dial;

static void wt__resolve_release(wt_resolve *r) {
    int last;
    pthread_mutex_lock(&r->mu);
    last = --r->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (last) {
        pthread_mutex_destroy(&r->mu);
        WT_FREE(r); /* not the client's allocator: the client may be gone */
    }
}

/* The resolver's answer: stored once, the loop woken, its reference dropped. */
static void wt__resolve_post(wt_resolve *r, const struct sockaddr_storage *addrs, size_t n, size_t skipped,
                             const char *error) {
    pthread_mutex_lock(&r->mu);
    if (!r->done) {
        r->done = 1;
        r->n = WT__MIN(n, (size_t)WT__DIAL_MAX);
        if (r->n) memcpy(r->addrs, addrs, r->n * sizeof *addrs);
        r->skipped = skipped;
        snprintf(r->error, sizeof r->error, "%s", error ? error : "");
        if (!r->cancelled) wt_loop_wakeup(r->loop);
    }
    pthread_mutex_unlock(&r->mu);
    wt__resolve_release(r);
}

static void wt__set_port(struct sockaddr_storage *a, uint16_t port) {
    if (a->ss_family == AF_INET6) ((struct sockaddr_in6 *)a)->sin6_port = htons(port);
    else ((struct sockaddr_in *)a)->sin_port = htons(port);
}

/* getaddrinfo into addrs (at most WT__DIAL_MAX); returns the count, 0 with
   error set when the name does not resolve. Blocks: never on the loop's
   thread, except for the sans-I/O path (which has no loop to block). */
static size_t wt__getaddrinfo(const char *host, uint16_t port, struct sockaddr_storage *addrs, char *error,
                              size_t errcap) {
    struct addrinfo hints, *res = NULL, *ai;
    size_t n = 0;
    int rv;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    rv = getaddrinfo(host, NULL, &hints, &res);
    if (rv != 0) {
        snprintf(error, errcap, "%s", gai_strerror(rv));
        return 0;
    }
    for (ai = res; ai && n < WT__DIAL_MAX; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || ai->ai_addrlen > sizeof *addrs) continue;
        memset(&addrs[n], 0, sizeof addrs[n]);
        memcpy(&addrs[n], ai->ai_addr, ai->ai_addrlen);
        wt__set_port(&addrs[n], port);
        n++;
    }
    freeaddrinfo(res);
    if (!n) snprintf(error, errcap, "no IPv4 or IPv6 address");
    return n;
}

static void *wt__resolve_thread(void *arg) {
    wt_resolve *r = (wt_resolve *)arg;
    struct sockaddr_storage addrs[WT__DIAL_MAX];
    char error[128] = "";
    size_t n = wt__getaddrinfo(r->host, r->port, addrs, error, sizeof error);
    wt__resolve_post(r, addrs, n, 0, error);
    return NULL;
}

/* A numeric IPv4 or IPv6 address (no lookup needed). */
static int wt__numeric_addr(const char *host, uint16_t port, struct sockaddr_storage *a) {
    struct sockaddr_in *a4 = (struct sockaddr_in *)a;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)a;
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        return 1;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        return 1;
    }
    return 0;
}

int wt_resolve_done(wt_resolve *req, const char *const *addrs, size_t n) {
    struct sockaddr_storage sa[WT__DIAL_MAX];
    size_t i, k = 0, skipped = 0;
    if (!req) return wt__fail(NULL, WT_ERR_INVALID, "wt_resolve_done: no request");
    for (i = 0; addrs && i < n; i++) {
        if (k < WT__DIAL_MAX && addrs[i] && wt__numeric_addr(addrs[i], req->port, &sa[k])) k++;
        else if (k < WT__DIAL_MAX) skipped++;
    }
    wt__resolve_post(req, sa, k, skipped, k ? "" : "the resolve hook found no address");
    return WT_OK;
}

/* "192.0.2.1" or "[2001:db8::1]" */
static void wt__addr_str(const struct sockaddr_storage *a, char *buf, size_t size) {
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, ip, sizeof ip);
        snprintf(buf, size, "[%s]", ip);
    } else {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, ip, sizeof ip);
        snprintf(buf, size, "%s", ip);
    }
}

/* RFC 8305 section 4: IPv6 first, then the families take turns, each in
   the resolver's order; duplicates go. */
static size_t wt__dial_order(struct sockaddr_storage *a, size_t n) {
    /* indexes, not copies: 4 KB of addresses would not fit a small stack */
    uint8_t v6[WT__DIAL_MAX], v4[WT__DIAL_MAX], order[WT__DIAL_MAX];
    size_t n6 = 0, n4 = 0, i, j, k = 0, m = 0;
    for (i = 0; i < n && i < WT__DIAL_MAX; i++) { /* duplicates out, in order */
        int dup = 0;
        for (j = 0; j < m && !dup; j++) dup = !memcmp(&a[i], &a[j], sizeof a[i]);
        if (!dup && m != i) a[m] = a[i];
        if (!dup) m++;
    }
    for (i = 0; i < m; i++) {
        if (a[i].ss_family == AF_INET6) v6[n6++] = (uint8_t)i;
        else v4[n4++] = (uint8_t)i;
    }
    for (i = 0; i < n6 || i < n4; i++) {
        if (i < n6) order[k++] = v6[i];
        if (i < n4) order[k++] = v4[i];
    }
    /* apply the permutation in place, one cycle at a time */
    for (i = 0; i < k; i++) {
        struct sockaddr_storage t;
        size_t cur = i;
        if (order[i] == i) continue;
        t = a[i];
        while (order[cur] != i) {
            size_t from = order[cur];
            a[cur] = a[from];
            order[cur] = (uint8_t)cur;
            cur = from;
        }
        a[cur] = t;
        order[cur] = (uint8_t)cur;
    }
    return k;
}

static int wt__dial_heard(const wt__dial *d) {
    size_t i;
    for (i = 0; i < d->nattempts; i++)
        if (d->attempts[i]->tp.heard) return 1;
    return 0;
}

/* Ends the attempts: politely (CONNECTION_CLOSE) those the server answered,
   silently those it never did. */
static void wt__dial_drop_attempts(wt__dial *d, const wt__conn *keep) {
    size_t i;
    for (i = 0; i < d->nattempts; i++) {
        wt__conn *a = d->attempts[i];
        if (a == keep) continue;
        a->dial_owner = NULL;
        if (a->tp.heard) wt__conn_close(a, WT__H3_NO_ERROR, "");
        else a->state = WT__CONN_DEAD;
    }
    d->nattempts = 0;
}

/* Nothing worked: the sessions end with err when the placeholder is freed
   (at once: this runs in its service pass). */
static void wt__dial_fail(wt__conn *c, int err) {
    wt__dial_drop_attempts(c->dial, NULL);
    c->fail_error = err;
    c->state = WT__CONN_DEAD;
}

static void wt__dial_addresses(wt__conn *c, struct sockaddr_storage *addrs, size_t n) {
    wt__dial *d = c->dial;
    char list[640] = "", one[INET6_ADDRSTRLEN + 3]; /* a long list is cut: a log line, in 4 KiB of stack */
    size_t i;
    memcpy(d->addrs, addrs, n * sizeof *addrs);
    d->n = wt__dial_order(d->addrs, n);
    for (i = 0; i < d->n; i++) {
        wt__addr_str(&d->addrs[i], one, sizeof one);
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", one);
    }
    wt__log(&c->ep->log, WT_LOG_DEBUG, "%s resolved to %s", c->host, list);
    d->next_ms = 0;
}

static uint64_t wt__dial_expiry_ms(wt__conn *c) {
    wt__dial *d = c->dial;
    uint64_t e = c->deadline_ms;
    if (!d) return e;
    if (d->res) {
        int done;
        pthread_mutex_lock(&d->res->mu);
        done = d->res->done;
        pthread_mutex_unlock(&d->res->mu);
        if (done) return 0;
    } else if (d->next < d->n && !wt__dial_heard(d)) {
        e = WT__MIN(e, d->next_ms);
    }
    return e;
}

static void wt__dial_service(wt__conn *c, uint64_t now_ms) {
    wt__dial *d = c->dial;
    wt__ep *ep = c->ep;
    char one[INET6_ADDRSTRLEN + 3];
    wt_session *s;
    for (s = c->wt.sessions; s && s->state == WT__SESS_CLOSED; s = s->next) {}
    if (!s) {
        /* every session waiting here was closed: nobody wants the connection */
        wt__log(&ep->log, WT_LOG_DEBUG, "connecting to %s port %u: given up, no session waits for it", c->host,
                (unsigned)c->port);
        wt__dial_fail(c, WT_ERR_CLOSED);
        return;
    }
    if (now_ms >= c->deadline_ms) {
        wt__log(&ep->log, WT_LOG_WARN, "connecting to %s port %u timed out after %u ms (%s%s)", c->host,
                (unsigned)c->port, (unsigned)(c->deadline_ms - c->created_ms), d->res ? "still resolving" : "tried ",
                d->res ? "" : d->tried);
        wt__dial_fail(c, WT_ERR_TIMEOUT);
        return;
    }
    if (d->res) {
        wt_resolve *r = d->res;
        struct sockaddr_storage addrs[WT__DIAL_MAX];
        size_t n = 0, skipped = 0;
        char error[128] = "";
        int done;
        pthread_mutex_lock(&r->mu);
        done = r->done;
        if (done) {
            n = r->n;
            memcpy(addrs, r->addrs, n * sizeof *addrs);
            skipped = r->skipped;
            memcpy(error, r->error, sizeof error);
            r->cancelled = 1; /* no more wakeups needed */
        }
        pthread_mutex_unlock(&r->mu);
        if (done) {
            d->res = NULL;
            wt__resolve_release(r);
            if (skipped)
                wt__log(&ep->log, WT_LOG_WARN, "resolving %s: %zu answers were not numeric addresses: skipped", c->host,
                        skipped);
            if (!n) {
                wt__log(&ep->log, WT_LOG_ERROR, "cannot resolve %s: %s", c->host, error);
                wt__dial_fail(c, WT_ERR_IO);
                return;
            }
            wt__dial_addresses(c, addrs, n);
        }
    }
    if (!d->res) {
        /* the next attempt: at once, or WT__DIAL_STAGGER_MS after the last
           if none has heard from the server yet */
        while (d->next < d->n && now_ms >= d->next_ms && !wt__dial_heard(d)) {
            const struct sockaddr_storage *to = &d->addrs[d->next++];
            wt__conn *a;
            wt__addr_str(to, one, sizeof one);
            snprintf(d->tried + strlen(d->tried), sizeof d->tried - strlen(d->tried), "%s%s", d->next > 1 ? ", " : "",
                     one);
            wt__log(&ep->log, WT_LOG_DEBUG, "connecting to %s port %u: attempt %zu of %zu, to %s", c->host,
                    (unsigned)c->port, d->next, d->n, one);
            a = wt__conn_client_new(ep, (const struct sockaddr *)to, wt__sa_len((const struct sockaddr *)to), c->host,
                                    c->port);
            if (!a) {
                d->last_error = WT_ERR_IO;
                continue; /* logged; the next one at once */
            }
            a->dial_owner = c;
            d->attempts[d->nattempts++] = a;
            d->next_ms = now_ms + WT__DIAL_STAGGER_MS;
            break;
        }
        if (!d->nattempts && d->next >= d->n) {
            wt__log(&ep->log, WT_LOG_WARN, "cannot connect to %s port %u: every address failed (tried %s)", c->host,
                    (unsigned)c->port, d->tried);
            wt__dial_fail(c, d->last_error ? d->last_error : WT_ERR_IO);
            return;
        }
    }
}

static void wt__dial_won(wt__conn *a) {
    wt__conn *c = a->dial_owner;
    wt__dial *d = c->dial;
    wt_session **pp = &c->wt.sessions, **tail = &a->wt.sessions;
    char one[INET6_ADDRSTRLEN + 3];
    while (*tail) tail = &(*tail)->next;
    /* the sessions move, in order; closed ones stay to be freed with c */
    while (*pp) {
        wt_session *s = *pp;
        if (s->state == WT__SESS_CLOSED) {
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        s->next = NULL;
        s->conn = a;
        *tail = s;
        tail = &s->next;
    }
    wt__addr_str(&a->tp.remote, one, sizeof one);
    wt__clog(a, -1, WT_LOG_INFO, "connected to %s port %u at %s in %u ms", c->host, (unsigned)c->port, one,
             (unsigned)(wt_loop_now_ms(c->ep->loop) - c->created_ms));
    wt__dial_drop_attempts(d, a);
    a->dial_owner = NULL;
    c->state = WT__CONN_DEAD; /* freed by the next service pass */
}

static void wt__dial_attempt_gone(wt__conn *a) {
    wt__dial *d = a->dial_owner->dial;
    size_t i;
    for (i = 0; i < d->nattempts; i++)
        if (d->attempts[i] == a) {
            d->attempts[i] = d->attempts[--d->nattempts];
            break;
        }
    d->last_error = a->fail_error ? a->fail_error : WT_ERR_CLOSED;
    d->next_ms = 0; /* a failed attempt: the next one at once */
    a->dial_owner = NULL;
}

static void wt__dial_free(wt__conn *c) {
    wt__dial *d = c->dial;
    if (d->res) {
        pthread_mutex_lock(&d->res->mu);
        d->res->cancelled = 1;
        pthread_mutex_unlock(&d->res->mu);
        wt__resolve_release(d->res);
    }
    wt__dial_drop_attempts(d, NULL);
    wt__free(&c->ep->alloc, d);
    c->dial = NULL;
}

/* A placeholder connection for a name: resolves it (a thread, the resolve
   hook, or at once without a loop to block: sans-I/O), then races attempts. */
static wt__conn *wt__dial_new(wt_client *cl, const char *host, uint16_t port) {
    wt__ep *ep = &cl->ep;
    wt__conn *c = wt__conn_alloc(ep, NULL, NULL, NULL, 0);
    wt__dial *d;
    wt_resolve *r;
    if (!c) return NULL;
    c->host = wt__strdup(&ep->alloc, host);
    c->port = port;
    c->dial = d = (wt__dial *)wt__calloc(&ep->alloc, sizeof *d);
    c->deadline_ms = c->created_ms + (ep->connect_timeout_ms ? ep->connect_timeout_ms : ep->lim.handshake_timeout_ms);
    if (!c->host || !d) goto nomem;
    if (ep->io.send && !cl->resolve) {
        struct sockaddr_storage addrs[WT__DIAL_MAX];
        char error[128] = "";
        size_t n = wt__getaddrinfo(host, port, addrs, error, sizeof error);
        if (!n) {
            wt__log(&ep->log, WT_LOG_ERROR, "cannot resolve %s: %s", host, error);
            wt__conn_free(c);
            return NULL;
        }
        wt__dial_addresses(c, addrs, n);
        return c;
    }
    r = (wt_resolve *)WT_MALLOC(sizeof *r);
    if (!r) goto nomem;
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->refs = 2;
    r->loop = ep->loop;
    r->port = port;
    snprintf(r->host, sizeof r->host, "%s", host);
    d->res = r;
    if (cl->resolve) {
        cl->resolve(r, c->host, cl->resolve_user); /* may answer at once */
    } else {
        pthread_attr_t attr;
        pthread_t t;
        int rv;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rv = pthread_create(&t, &attr, wt__resolve_thread, r);
        pthread_attr_destroy(&attr);
        if (rv != 0) {
            /* no thread: the lookup blocks this once */
            wt__log(&ep->log, WT_LOG_WARN, "cannot start a thread to resolve %s (%s): resolving on the loop", host,
                    strerror(rv));
            wt__resolve_thread(r);
        }
    }
    return c;
nomem:
    wt__log(&ep->log, WT_LOG_ERROR, "out of memory for a connection to %s", host);
    wt__conn_free(c);
    return NULL;
}

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
    cl->ep.connect_timeout_ms = cfg->connect_timeout_ms;
    cl->resolve = cfg->resolve;
    cl->resolve_user = cfg->resolve_user;
    if (wt__tls_set_groups(&cl->ep, cfg->tls_groups, cfg->tls_key_shares) != WT_OK) goto fail;
    if (wt__tls_set_ciphers(&cl->ep, cfg->tls_ciphers) != WT_OK) goto fail;
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
        /* an attempt of a race may lose it: sessions wait on its placeholder */
        if (c->state > WT__CONN_OPEN || c->h3.goaway || c->dial_owner || !c->host || strcmp(c->host, host) != 0 ||
            c->port != port)
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
        struct sockaddr_storage sa;
        if (wt__numeric_addr(host, port, &sa)) {
            /* one address: no lookup, no race */
            c = wt__conn_client_new(&cl->ep, (struct sockaddr *)&sa, wt__sa_len((struct sockaddr *)&sa), host, port);
            if (!c) return wt__fail(&cl->ep.log, WT_ERR_QUIC, "cannot start a connection to %s", url);
            if (cl->ep.connect_timeout_ms) c->deadline_ms = c->created_ms + cl->ep.connect_timeout_ms;
        } else if (!(c = wt__dial_new(cl, host, port))) {
            return wt__fail(&cl->ep.log, WT_ERR_IO, "cannot start a connection to %s", url);
        }
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

/* ---------------------------------------------------------------- command-line arguments */
static int wt__unhex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int wt_client_config_args(wt_client_config *cfg, int argc, char **argv) {
    const wt_log *lg = cfg ? &cfg->log : NULL;
    int i = 1, rv;
    if (!cfg || argc < 0 || (argc > 0 && !argv))
        return wt__fail(lg, WT_ERR_INVALID, "wt_client_config_args: no config or no argv");
    while (i < argc && argv[i]) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fprintf(stderr, "usage: %s [--ca FILE | --pin SHA256HEX | --insecure] [--help] ...\n"
                            "  --ca FILE      verify the server against these CA certificates (PEM)\n"
                            "  --pin HEX      accept exactly the certificate with this SHA-256 (64 hex digits)\n"
                            "  --insecure     verify nothing (tests only)\n",
                    argv[0] && *argv[0] ? argv[0] : "client");
            return WT_ARGS_HELP;
        }
        if (!strcmp(argv[i], "--")) return i + 1;
        if (!strcmp(argv[i], "--insecure")) {
            cfg->insecure = 1;
            i++;
        } else if ((rv = wt__arg(lg, argc, argv, &i, "--ca", &v)) != 0) {
            if (rv < 0 || !*v) goto bad;
            cfg->ca_file = v;
        } else if ((rv = wt__arg(lg, argc, argv, &i, "--pin", &v)) != 0) {
            /* the 32 bytes go over the start of the hex string itself: the
               config points into argv, as for the other options */
            uint8_t *pin = (uint8_t *)v;
            size_t k;
            if (rv < 0) goto bad;
            if (strlen(v) != 64) {
                wt__log(lg, WT_LOG_ERROR, "--pin %s: not 64 hex digits (a SHA-256)", v);
                goto bad;
            }
            for (k = 0; k < 64; k++)
                if (wt__unhex(v[k]) < 0) {
                    wt__log(lg, WT_LOG_ERROR, "--pin %s: not 64 hex digits (a SHA-256)", v);
                    goto bad;
                }
            for (k = 0; k < 32; k++) pin[k] = (uint8_t)(wt__unhex(v[2 * k]) << 4 | wt__unhex(v[2 * k + 1]));
            cfg->cert_sha256 = pin;
        } else {
            break; /* the program's own arguments */
        }
    }
    return i;
bad:
    wt__log(lg, WT_LOG_ERROR, "usage: %s [--ca FILE | --pin SHA256HEX | --insecure] [--help]",
            argc > 0 && argv[0] ? argv[0] : "client");
    return WT_ERR_INVALID;
}
