/* wt_app.c - the server application: config, routes, startup/shutdown hooks. */
#include "wt_internal.h"

#include <netdb.h>

typedef struct wt__route {
    char *pattern;
    char *key;       /* the pattern without parameter names: same key, same route */
    wt_handler fn;
    void *user;
} wt__route;

typedef struct wt__hook {
    wt_app_hook fn;
    void *user;
} wt__hook;

typedef struct wt__accept_hook {
    wt_accept_fn fn;
    void *user;
} wt__accept_hook;

/* One client address's token bucket (sessions_per_ip_per_s). */
typedef struct wt__rate {
    uint8_t addr[16];
    uint8_t family;   /* 4 or 6; 0: a free slot */
    uint64_t tokens;  /* in thousandths of a session */
    uint64_t last_ms;
} wt__rate;

struct wt_app {
    wt__ep ep;
    char *host;
    int port, bound_port;
    wt__route *routes;
    size_t nroutes;
    wt__route default_route;     /* fn NULL: none (404) */
    wt__accept_hook *use;
    size_t nuse;
    char **origins;              /* allowed_origins, NULL-terminated; NULL: any */
    char *auth_token;
    wt__rate *rates;             /* rate_limit_ips slots; NULL: no rate limit */
    wt__hook *startup, *shutdown;
    size_t nstartup, nshutdown;
    int started, shut_down;
    int stop_on_signals;
    uint32_t shutdown_code;
    char *shutdown_reason;
};

/* Signals are process-wide, so this one pointer is too: the loop that a
   SIGINT/SIGTERM stops while wt_app_run runs with stop_on_signals. */
static wt_loop *volatile wt__signal_loop;

static void wt__on_signal(int sig) {
    WT__UNUSED(sig);
    if (wt__signal_loop) wt_loop_stop(wt__signal_loop);
}

/* ---------------------------------------------------------------- routes */
static int wt__hexval(int ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* The next byte of percent-encoded text in [*p, end), lenient as
   URLSearchParams: a '%' without two hex digits stands for itself; '+' is
   a space when plus is set. */
static int wt__pct_next(const char **p, const char *end, int plus) {
    const char *q = *p;
    if (*q == '%' && end - q >= 3 && wt__hexval(q[1]) >= 0 && wt__hexval(q[2]) >= 0) {
        *p = q + 3;
        return wt__hexval(q[1]) * 16 + wt__hexval(q[2]);
    }
    *p = q + 1;
    return plus && *q == '+' ? ' ' : (unsigned char)*q;
}

/* Strict decoding of a route parameter into out (n bytes of room, plus a
   NUL): the length, or -1 for a malformed %xx or a %00. */
static int wt__pct_decode_param(const char *in, size_t n, char *out) {
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        int ch = (unsigned char)in[i];
        if (ch == '%') {
            if (n - i < 3 || wt__hexval(in[i + 1]) < 0 || wt__hexval(in[i + 2]) < 0) return -1;
            ch = wt__hexval(in[i + 1]) * 16 + wt__hexval(in[i + 2]);
            if (ch == 0) return -1;
            i += 2;
        }
        out[o++] = (char)ch;
    }
    out[o] = 0;
    return (int)o;
}

static int wt__name_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* A segment of a pattern: 2 literal, 1 "{name}", 0 "{name...}". */
static int wt__seg_kind(const char *seg, size_t len) {
    if (!len || seg[0] != '{') return 2;
    return len >= 5 && !memcmp(seg + len - 4, "...}", 4) ? 0 : 1;
}

/* Checks a pattern (see ROUTES in wt.h) and makes its key, the pattern
   with the names left out. NULL: logged. */
static char *wt__route_key(wt_app *app, const char *pat) {
    const char *p = pat;
    char *key;
    size_t o = 0;
    if (pat[0] != '/' || strpbrk(pat, "?#")) {
        wt__fail(&app->ep.log, WT_ERR_INVALID, "wt_app_route: %s: a pattern starts with '/' and has no '?' or '#'", pat);
        return NULL;
    }
    key = (char *)wt__alloc(&app->ep.alloc, strlen(pat) + 1); /* a key is never longer */
    if (!key) {
        wt__fail(&app->ep.log, WT_ERR_NOMEM, "wt_app_route: out of memory");
        return NULL;
    }
    while (*p) {
        size_t len, nl, i;
        int kind;
        const char *seg, *q;
        key[o++] = *p++; /* the '/' */
        seg = p;
        len = strcspn(p, "/");
        p += len;
        if (!memchr(seg, '{', len) && !memchr(seg, '}', len)) {
            memcpy(key + o, seg, len);
            o += len;
            continue;
        }
        kind = wt__seg_kind(seg, len);
        nl = kind == 0 ? len - 5 : len - 2;
        if (kind == 2 || len < 3 || seg[len - 1] != '}' || nl == 0) goto bad;
        for (i = 0; i < nl; i++)
            if (!wt__name_char(seg[1 + i])) goto bad;
        if (kind == 0 && *p) {
            wt__fail(&app->ep.log, WT_ERR_INVALID, "wt_app_route: %s: {name...} must be the last segment", pat);
            goto fail;
        }
        /* each name once: look for it among the parameters before it */
        for (q = strchr(pat, '{'); q && q < seg; q = strchr(q + 1, '{'))
            if (!strncmp(q + 1, seg + 1, nl) && (q[1 + nl] == '}' || q[1 + nl] == '.')) {
                wt__fail(&app->ep.log, WT_ERR_INVALID, "wt_app_route: %s: parameter %.*s named twice", pat, (int)nl,
                         seg + 1);
                goto fail;
            }
        memcpy(key + o, kind == 0 ? "{...}" : "{}", kind == 0 ? 5 : 2);
        o += kind == 0 ? 5 : 2;
    }
    key[o] = 0;
    return key;
bad:
    wt__fail(&app->ep.log, WT_ERR_INVALID,
             "wt_app_route: %s: a parameter is a whole segment, {name} or {name...}, the name of letters, digits, '_'",
             pat);
fail:
    wt__free(&app->ep.alloc, key);
    return NULL;
}

typedef void (*wt__param_fn)(void *ctx, const char *name, size_t nl, const char *value, size_t vl);

/* Does pattern pat match the path [path, path+n)? Each parameter goes to
   fn (if set) as it matches. */
static int wt__route_match(const char *pat, const char *path, size_t n, wt__param_fn fn, void *ctx) {
    const char *q = path, *end = path + n;
    if (n == 0 || *path != '/') return 0;
    for (;;) {
        size_t pl, ql;
        const char *slash;
        pat++, q++; /* past the '/' both have */
        pl = strcspn(pat, "/");
        slash = (const char *)memchr(q, '/', (size_t)(end - q));
        ql = slash ? (size_t)(slash - q) : (size_t)(end - q);
        switch (wt__seg_kind(pat, pl)) {
        case 0: /* the rest, '/' and all */
            if (fn) fn(ctx, pat + 1, pl - 5, q, (size_t)(end - q));
            return 1;
        case 1:
            if (ql == 0) return 0;
            if (fn) fn(ctx, pat + 1, pl - 2, q, ql);
            break;
        default:
            if (pl != ql || memcmp(pat, q, pl) != 0) return 0;
        }
        pat += pl, q += ql;
        if (!*pat || q == end) return !*pat && q == end;
    }
}

/* > 0 when pattern a is more specific than b: from the left, at the first
   segment where they differ, literal > {name} > {name...}. */
static int wt__route_cmp(const char *a, const char *b) {
    while (*a && *b) {
        size_t la, lb;
        int ka, kb;
        a++, b++;
        la = strcspn(a, "/"), lb = strcspn(b, "/");
        ka = wt__seg_kind(a, la), kb = wt__seg_kind(b, lb);
        if (ka != kb) return ka - kb;
        a += la, b += lb;
    }
    return 0;
}

typedef struct wt__param_sink {
    wt__param *params;
    size_t n;
    char *bytes;     /* where the next name or value goes */
    int bad;         /* a value with a malformed %xx or a %00 */
} wt__param_sink;

static void wt__param_put(void *ctx, const char *name, size_t nl, const char *value, size_t vl) {
    wt__param_sink *k = (wt__param_sink *)ctx;
    int dl;
    wt__param *pr = &k->params[k->n++];
    memcpy(k->bytes, name, nl);
    k->bytes[nl] = 0;
    pr->name = k->bytes;
    k->bytes += nl + 1;
    dl = wt__pct_decode_param(value, vl, k->bytes);
    if (dl < 0) {
        k->bad = 1;
        dl = 0;
        k->bytes[0] = 0;
    }
    pr->value = k->bytes;
    k->bytes += (size_t)dl + 1;
}

/* Finds the session's route: sets s->fn and its parameters, or
   reject_status (404 without a route, 400 for a bad parameter, 500 when out
   of memory). */
static void wt__app_route_request(wt_app *app, wt_session *s) {
    const wt__route *best = NULL;
    size_t i, n = strcspn(s->path, "?"), nparams = 0;
    for (i = 0; i < app->nroutes; i++)
        if (wt__route_match(app->routes[i].pattern, s->path, n, NULL, NULL) &&
            (!best || wt__route_cmp(app->routes[i].pattern, best->pattern) > 0))
            best = &app->routes[i];
    if (!best && app->default_route.fn) best = &app->default_route;
    if (!best) {
        wt__clog(s->conn, s->id, WT_LOG_INFO, "no route for %s: 404", s->path);
        s->reject_status = 404;
        return;
    }
    if (best->pattern) {
        const char *q;
        for (q = strchr(best->pattern, '{'); q; q = strchr(q + 1, '{')) nparams++;
    }
    if (nparams) {
        /* names fit in the pattern's length, decoded values in the path's */
        size_t size = nparams * sizeof(wt__param) + strlen(best->pattern) + n + 2 * nparams;
        wt__param_sink k;
        wt__free(&app->ep.alloc, s->params);
        s->nparams = 0;
        if (!(s->params = (wt__param *)wt__alloc(&app->ep.alloc, size))) {
            wt__clog(s->conn, s->id, WT_LOG_ERROR, "out of memory for the parameters of %s: 500", s->path);
            s->reject_status = 500;
            return;
        }
        k.params = s->params;
        k.n = 0;
        k.bytes = (char *)(s->params + nparams);
        k.bad = 0;
        wt__route_match(best->pattern, s->path, n, wt__param_put, &k);
        s->nparams = k.n;
        if (k.bad) {
            wt__clog(s->conn, s->id, WT_LOG_INFO, "refusing %s: a parameter of route %s has a malformed %%xx or a %%00: 400",
                     s->path, best->pattern);
            s->reject_status = 400;
            return;
        }
    }
    s->fn = best->fn;
    s->fn_user = best->user;
}

/* ---------------------------------------------------------------- accepting */
/* Takes a token from the bucket of the client's address; 0 when empty. */
static int wt__app_rate_ok(wt_app *app, const struct sockaddr_storage *ss) {
    uint32_t rate = app->ep.lim.sessions_per_ip_per_s;
    uint64_t now = wt_loop_now_ms(app->ep.loop), cap = 2000ULL * rate, el;
    uint8_t addr[16];
    uint8_t fam;
    wt__rate *e = NULL, *victim = NULL;
    size_t i;
    if (!app->rates) return 1;
    memset(addr, 0, sizeof addr);
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            fam = 4;
            memcpy(addr, a6->s6_addr + 12, 4);
        } else {
            fam = 6;
            memcpy(addr, a6->s6_addr, 16);
        }
    } else {
        fam = 4;
        memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    }
    for (i = 0; i < app->ep.lim.rate_limit_ips; i++) {
        wt__rate *r = &app->rates[i];
        if (r->family == fam && !memcmp(r->addr, addr, 16)) {
            e = r;
            break;
        }
        if (!victim || (victim->family && (!r->family || r->last_ms < victim->last_ms))) victim = r;
    }
    if (!e) {
        /* a new address: a free slot, else the least recently seen one's */
        e = victim;
        e->family = fam;
        memcpy(e->addr, addr, 16);
        e->tokens = cap;
        e->last_ms = now;
    }
    el = now - e->last_ms;
    e->tokens = el >= 2000 ? cap : WT__MIN(cap, e->tokens + el * rate);
    e->last_ms = now;
    if (e->tokens < 1000) return 0;
    e->tokens -= 1000;
    return 1;
}

static int wt__ascii_casecmp(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        int x = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a, y = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b;
        if (x != y) return x - y;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

/* "Bearer <token>" (the scheme's case ignored), compared in constant time. */
static int wt__bearer_ok(const char *value, const char *token) {
    size_t n = strlen(token), i;
    unsigned diff = 0;
    if (!value || strlen(value) < 7) return 0;
    for (i = 0; i < 6; i++) diff |= (unsigned)((value[i] | 0x20) ^ "bearer"[i]);
    if (diff || value[6] != ' ') return 0;
    value += 7;
    while (*value == ' ') value++;
    if (strlen(value) != n) return 0;
    for (i = 0; i < n; i++) diff |= (unsigned)(value[i] ^ token[i]);
    return diff == 0;
}

/* A refusal that no handler hears of: logged, with the headers it adds. */
static void wt__app_refuse(wt_session *s, int status, const char *why, const char *hname, const char *hvalue) {
    wt__clog(s->conn, s->id, WT_LOG_INFO, "refusing session %llu on %s: %d (%s)", (unsigned long long)s->uid, s->path,
             status, why);
    if (hname) wt__hdrs_add(&s->conn->ep->alloc, &s->resp, hname, strlen(hname), hvalue, strlen(hvalue), SIZE_MAX);
    s->reject_status = status;
    wt__session_answer(s);
}

static void wt__app_defer(wt_app *app, wt_session *s, size_t hook) {
    wt__ep *ep = &app->ep;
    s->deferred = 1;
    s->resumed = 0;
    ep->ndeferred++;
    s->defer_deadline_ms = wt_loop_now_ms(ep->loop) + ep->lim.handshake_timeout_ms;
    ep->wake_ms = WT__MIN(ep->wake_ms, s->defer_deadline_ms);
    /* a request came in time: from now on the deferral's deadline counts */
    s->conn->wt.session_seen = 1;
    wt__clog(s->conn, s->id, WT_LOG_DEBUG, "session %llu on %s deferred by accept hook %zu", (unsigned long long)s->uid,
             s->path, hook);
}

/* The accept hooks from s->next_hook on, then the route and the answer. */
static void wt__app_proceed(wt_app *app, wt_session *s) {
    while (s->next_hook < app->nuse) {
        wt__accept_hook h = app->use[s->next_hook++]; /* a copy: a hook may add hooks */
        wt_loop *loop = app->ep.loop;
        int r;
        /* a hook is user code like a handler: its calls queue their events */
        loop->in_handler++;
        s->in_event++;
        r = h.fn(s, h.user);
        s->in_event--;
        loop->in_handler--;
        if (s->state != WT__SESS_REQUESTED || s->responded) return; /* its connection went, say */
        if (r != WT_ACCEPT && r != WT_DEFER && !s->reject_status) {
            if (r >= 300 && r <= 599) s->reject_status = r;
            else {
                wt__clog(s->conn, s->id, WT_LOG_ERROR, "accept hook %zu returned %d (not WT_ACCEPT, WT_DEFER or 300-599): 500",
                         s->next_hook - 1, r);
                s->reject_status = 500;
            }
        }
        if (s->reject_status) {
            wt__clog(s->conn, s->id, WT_LOG_INFO, "session %llu on %s: accept hook %zu refused it with %d",
                     (unsigned long long)s->uid, s->path, s->next_hook - 1, s->reject_status);
            wt__session_answer(s);
            return;
        }
        if (r == WT_DEFER) {
            wt__app_defer(app, s, s->next_hook - 1);
            return;
        }
    }
    wt__app_route_request(app, s);
    wt__session_answer(s);
}

static void wt__app_on_request(wt__ep *ep, wt_session *s) {
    wt_app *app = (wt_app *)ep->owner;
    if (wt_app_session_count(app) + ep->ndeferred >= ep->lim.max_app_sessions) {
        wt__app_refuse(s, 429, "max_app_sessions reached", NULL, NULL);
        return;
    }
    if (!wt__app_rate_ok(app, &s->conn->tp.remote)) {
        wt__app_refuse(s, 429, "sessions_per_ip_per_s passed", "retry-after", "1");
        return;
    }
    if (app->origins) {
        char **o = app->origins;
        while (*o && (!s->origin || wt__ascii_casecmp(*o, s->origin) != 0)) o++;
        if (!*o) {
            wt__app_refuse(s, 403, s->origin ? "origin not in allowed_origins" : "no origin header", NULL, NULL);
            return;
        }
    }
    if (app->auth_token && !wt__bearer_ok(wt__hdrs_get(&s->req, "authorization"), app->auth_token)) {
        wt__app_refuse(s, 401, "no valid bearer token", "www-authenticate", "Bearer");
        return;
    }
    s->next_hook = 0;
    wt__app_proceed(app, s);
}

/* Deferred sessions: resumed ones go on, late ones get 503. */
static void wt__app_on_service(wt__ep *ep, uint64_t now_ms) {
    wt_app *app = (wt_app *)ep->owner;
    wt__conn *c;
    wt_session *s;
    uint64_t wake;
again:
    wake = UINT64_MAX;
    for (c = ep->conns; c; c = c->next)
        for (s = c->wt.sessions; s; s = s->next) {
            int resumed, status;
            if (!s->deferred) continue;
            if (!s->resumed && !s->reject_status && now_ms < s->defer_deadline_ms && !ep->closing_all) {
                wake = WT__MIN(wake, s->defer_deadline_ms);
                continue;
            }
            resumed = s->resumed;
            status = s->resume_status;
            wt__session_undefer(s);
            if (ep->closing_all) wt__app_refuse(s, 429, "the server is shutting down", NULL, NULL);
            else if (s->reject_status) wt__app_refuse(s, s->reject_status, "wt_session_reject while deferred", NULL, NULL);
            else if (!resumed) wt__app_refuse(s, 503, "deferred, no wt_app_resume within handshake_timeout_ms", NULL, NULL);
            else if (status) wt__app_refuse(s, status, "wt_app_resume", NULL, NULL);
            else wt__app_proceed(app, s);
            goto again; /* the lists may have changed under the handlers */
        }
    ep->wake_ms = wake;
}

static void wt__app_free(wt_app *app);

wt_app *wt_app_create(const wt_app_config *cfg) {
    wt_app *app;
    const wt_log *lg;
    if (!cfg) {
        wt__fail(NULL, WT_ERR_INVALID, "wt_app_create: no config");
        return NULL;
    }
    lg = &cfg->log;
    if (!cfg->cert_file || !cfg->key_file) {
        wt__fail(lg, WT_ERR_INVALID, "wt_app_create: cert_file and key_file are required");
        return NULL;
    }
    if (cfg->port < -1 || cfg->port > 65535) {
        wt__fail(lg, WT_ERR_INVALID, "wt_app_create: port %d outside -1..65535", cfg->port);
        return NULL;
    }
    app = (wt_app *)wt__calloc(&cfg->alloc, sizeof *app);
    if (!app) {
        wt__fail(lg, WT_ERR_NOMEM, "wt_app_create: out of memory");
        return NULL;
    }
    if (wt__ep_init(&app->ep, cfg->loop, 1, &cfg->alloc, &cfg->log, &cfg->limits) != WT_OK) goto fail;
    app->ep.owner = app;
    app->ep.on_request = wt__app_on_request;
    app->ep.on_service = wt__app_on_service;
    app->ep.wake_ms = UINT64_MAX;
    app->ep.io = cfg->io;
    if (cfg->io.send && cfg->port == -1) {
        wt__fail(lg, WT_ERR_INVALID, "wt_app_create: with io.send (no socket) the port must be given");
        goto fail;
    }
    if (wt__tls_set_groups(&app->ep, cfg->tls_groups, 0) != WT_OK) goto fail;
    if (wt__trace_init(&app->ep, cfg->qlog_dir, cfg->tls_keylog) != WT_OK) goto fail;
    app->host = wt__strdup(&cfg->alloc, cfg->host ? cfg->host : "127.0.0.1");
    app->port = cfg->port == 0 ? 4433 : cfg->port;
    app->stop_on_signals = cfg->stop_on_signals;
    app->shutdown_code = cfg->shutdown_code;
    app->shutdown_reason = wt__strdup(&cfg->alloc, cfg->shutdown_reason ? cfg->shutdown_reason : "server shutting down");
    if (!app->host || !app->shutdown_reason) {
        wt__fail(lg, WT_ERR_NOMEM, "wt_app_create: out of memory");
        goto fail;
    }
    if (cfg->allowed_origins) {
        size_t n = 0, i;
        while (cfg->allowed_origins[n]) n++;
        if (!(app->origins = (char **)wt__calloc(&cfg->alloc, (n + 1) * sizeof(char *)))) goto nomem;
        for (i = 0; i < n; i++)
            if (!(app->origins[i] = wt__strdup(&cfg->alloc, cfg->allowed_origins[i]))) goto nomem;
    }
    if (cfg->auth_token) {
        if (!*cfg->auth_token) {
            wt__fail(lg, WT_ERR_INVALID, "wt_app_create: auth_token is empty (NULL turns the check off)");
            goto fail;
        }
        if (!(app->auth_token = wt__strdup(&cfg->alloc, cfg->auth_token))) goto nomem;
    }
    if (app->ep.lim.sessions_per_ip_per_s != UINT32_MAX &&
        !(app->rates = (wt__rate *)wt__calloc(&cfg->alloc, (size_t)app->ep.lim.rate_limit_ips * sizeof(wt__rate))))
        goto nomem;
    if (strlen(app->shutdown_reason) > WT__REASON_MAX) {
        wt__fail(lg, WT_ERR_TOO_BIG, "wt_app_create: shutdown_reason over %d bytes", WT__REASON_MAX);
        goto fail;
    }
    if (wolfSSL_CTX_use_certificate_chain_file(app->ep.ssl_ctx, cfg->cert_file) != WOLFSSL_SUCCESS) {
        wt__fail(lg, WT_ERR_CERT, "cannot load certificate %s", cfg->cert_file);
        goto fail;
    }
    if (wolfSSL_CTX_use_PrivateKey_file(app->ep.ssl_ctx, cfg->key_file, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_check_private_key(app->ep.ssl_ctx) != WOLFSSL_SUCCESS) {
        wt__fail(lg, WT_ERR_CERT, "cannot load private key %s (or it does not match the certificate)", cfg->key_file);
        goto fail;
    }
    {
        uint8_t h[32];
        char hex[65];
        if (wt_cert_sha256(cfg->cert_file, h) == WT_OK) {
            wt_hex(h, 32, hex);
            wt__log(lg, WT_LOG_INFO, "certificate %s sha256 %s (for serverCertificateHashes)", cfg->cert_file, hex);
        }
    }
    return app;
nomem:
    wt__fail(lg, WT_ERR_NOMEM, "wt_app_create: out of memory");
fail:
    wt__app_free(app); /* not on any stack yet: safe inside a handler too */
    return NULL;
}

static int wt__hook_add(wt_app *app, wt__hook **list, size_t *n, wt_app_hook fn, void *user) {
    wt__hook *h;
    if (!app || !fn) return wt__fail(app ? &app->ep.log : NULL, WT_ERR_INVALID, "hook: no app or no function");
    h = (wt__hook *)wt__realloc(&app->ep.alloc, *list, (*n + 1) * sizeof *h);
    if (!h) return wt__fail(&app->ep.log, WT_ERR_NOMEM, "hook: out of memory");
    h[*n].fn = fn;
    h[*n].user = user;
    *list = h;
    (*n)++;
    return WT_OK;
}

int wt_app_on_startup(wt_app *app, wt_app_hook fn, void *user) {
    return wt__hook_add(app, &app->startup, &app->nstartup, fn, user);
}

int wt_app_on_shutdown(wt_app *app, wt_app_hook fn, void *user) {
    return wt__hook_add(app, &app->shutdown, &app->nshutdown, fn, user);
}

int wt_app_route(wt_app *app, const char *pattern, wt_handler fn, void *user) {
    wt__route *r;
    char *key;
    size_t i;
    if (!app) return wt__fail(NULL, WT_ERR_INVALID, "wt_app_route: no app");
    if (!pattern || !fn) return wt__fail(&app->ep.log, WT_ERR_INVALID, "wt_app_route: no pattern or no handler");
    if (!(key = wt__route_key(app, pattern))) return WT_ERR_INVALID;
    for (i = 0; i < app->nroutes; i++)
        if (!strcmp(app->routes[i].key, key)) {
            wt__free(&app->ep.alloc, key);
            return wt__fail(&app->ep.log, WT_ERR_INVALID, "wt_app_route: %s is routed already (as %s)", pattern,
                            app->routes[i].pattern);
        }
    r = (wt__route *)wt__realloc(&app->ep.alloc, app->routes, (app->nroutes + 1) * sizeof *r);
    if (!r) {
        wt__free(&app->ep.alloc, key);
        return wt__fail(&app->ep.log, WT_ERR_NOMEM, "wt_app_route: out of memory");
    }
    app->routes = r;
    r += app->nroutes;
    if (!(r->pattern = wt__strdup(&app->ep.alloc, pattern))) {
        wt__free(&app->ep.alloc, key);
        return wt__fail(&app->ep.log, WT_ERR_NOMEM, "wt_app_route: out of memory");
    }
    r->key = key;
    r->fn = fn;
    r->user = user;
    app->nroutes++;
    return WT_OK;
}

int wt_app_default_route(wt_app *app, wt_handler fn, void *user) {
    if (!app || !fn) return wt__fail(app ? &app->ep.log : NULL, WT_ERR_INVALID, "wt_app_default_route: no app or no handler");
    if (app->default_route.fn) return wt__fail(&app->ep.log, WT_ERR_INVALID, "wt_app_default_route: set already");
    app->default_route.fn = fn;
    app->default_route.user = user;
    return WT_OK;
}

int wt_app_use(wt_app *app, wt_accept_fn fn, void *user) {
    wt__accept_hook *h;
    if (!app || !fn) return wt__fail(app ? &app->ep.log : NULL, WT_ERR_INVALID, "wt_app_use: no app or no hook");
    h = (wt__accept_hook *)wt__realloc(&app->ep.alloc, app->use, (app->nuse + 1) * sizeof *h);
    if (!h) return wt__fail(&app->ep.log, WT_ERR_NOMEM, "wt_app_use: out of memory");
    h[app->nuse].fn = fn;
    h[app->nuse].user = user;
    app->use = h;
    app->nuse++;
    return WT_OK;
}

int wt_app_resume(wt_app *app, uint64_t session_id, int status) {
    wt__conn *c;
    wt_session *s = NULL;
    if (!app) return wt__fail(NULL, WT_ERR_INVALID, "wt_app_resume: no app");
    if (status != 0 && (status < 300 || status > 599))
        return wt__fail(&app->ep.log, WT_ERR_INVALID, "wt_app_resume: status %d is not 0 or 300-599", status);
    for (c = app->ep.conns; c && !s; c = c->next)
        for (s = c->wt.sessions; s && s->uid != session_id; s = s->next) {}
    if (!s || !s->deferred)
        return wt__fail_at(&app->ep.log, WT_LOG_INFO, WT_ERR_NOT_FOUND,
                           "wt_app_resume: session %llu is not waiting (its peer left, it timed out, or it never deferred)",
                           (unsigned long long)session_id);
    if (s->resumed)
        return wt__cfail(s->conn, s->id, WT_ERR_STATE, "wt_app_resume: session %llu was resumed already",
                         (unsigned long long)session_id);
    s->resumed = 1;
    s->resume_status = status;
    app->ep.wake_ms = 0; /* the loop acts on it next, never inside this call */
    return WT_OK;
}

const char *wt_session_param(const wt_session *s, const char *name) {
    size_t i;
    if (!s || !name) return NULL;
    for (i = 0; i < s->nparams; i++)
        if (!strcmp(s->params[i].name, name)) return s->params[i].value;
    return NULL;
}

const char *wt_session_query(const wt_session *s) {
    const char *q = s && s->path ? strchr(s->path, '?') : NULL;
    return q ? q + 1 : "";
}

int wt_session_query_get(const wt_session *s, const char *name, char *buf, size_t size) {
    const char *q = wt_session_query(s);
    if (!s || !name || (!buf && size))
        return wt__fail(s ? &s->conn->ep->log : NULL, WT_ERR_INVALID, "wt_session_query_get: no session, name or buffer");
    while (*q) {
        const char *end = q + strcspn(q, "&"), *eq = (const char *)memchr(q, '=', (size_t)(end - q));
        const char *k = q, *kend = eq ? eq : end, *nm = name;
        int same = end > q; /* "&&" holds no parameter */
        while (same && k < kend) same = *nm && wt__pct_next(&k, kend, 1) == (unsigned char)*nm++;
        if (same && !*nm) {
            const char *v = eq ? eq + 1 : end;
            size_t len = 0;
            while (v < end) {
                int ch = wt__pct_next(&v, end, 1);
                if (len + 1 < size) buf[len] = (char)ch;
                len++;
            }
            if (len + 1 > size) {
                if (size) buf[0] = 0;
                return wt__cfail_at(s->conn, s->id, WT_LOG_INFO, WT_ERR_TOO_BIG,
                                    "wt_session_query_get: %s has %zu bytes, the buffer %zu", name, len, size);
            }
            buf[len] = 0;
            return (int)len;
        }
        q = *end ? end + 1 : end;
    }
    return wt__cfail_at(s->conn, s->id, WT_LOG_DEBUG, WT_ERR_NOT_FOUND, "wt_session_query_get: no %s in the query", name);
}

int wt_app_start(wt_app *app) {
    struct addrinfo hints, *res = NULL, *ai;
    char port[12];
    int rv, i;
    if (!app) return wt__fail(NULL, WT_ERR_INVALID, "wt_app_start: no app");
    if (app->started) return WT_OK;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | (app->ep.io.send ? AI_NUMERICHOST : 0);
    snprintf(port, sizeof port, "%d", app->port < 0 ? 0 : app->port);
    rv = getaddrinfo(app->host, port, &hints, &res);
    if (rv != 0) return wt__fail(&app->ep.log, WT_ERR_IO, "cannot resolve %s: %s", app->host, gai_strerror(rv));
    for (ai = res; ai; ai = ai->ai_next) {
        struct sockaddr_storage a;
        memcpy(&a, ai->ai_addr, ai->ai_addrlen);
        /* a free port chosen for the first address is used for the rest */
        if (app->bound_port) {
            if (a.ss_family == AF_INET) ((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)app->bound_port);
            else ((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)app->bound_port);
        }
        rv = wt__sock_open(&app->ep, (struct sockaddr *)&a, (socklen_t)ai->ai_addrlen, 1);
        if (rv < 0) break;
        {
            wt__sock *s = &app->ep.socks[rv];
            app->bound_port = ntohs(s->local.ss_family == AF_INET ? ((struct sockaddr_in *)&s->local)->sin_port
                                                                  : ((struct sockaddr_in6 *)&s->local)->sin6_port);
        }
        rv = WT_OK;
    }
    freeaddrinfo(res);
    if (rv < 0) {
        for (i = 0; i < app->ep.nsocks; i++) wt__sock_close(&app->ep.socks[i]);
        app->ep.nsocks = 0;
        return wt__fail(&app->ep.log, rv, "cannot listen on %s port %d", app->host, app->port);
    }
    app->started = 1;
    wt__log(&app->ep.log, WT_LOG_INFO, "listening on https://%s:%d/", app->host, app->bound_port);
    for (i = 0; i < (int)app->nstartup; i++) app->startup[i].fn(app, app->startup[i].user);
    return WT_OK;
}

static void wt__app_shutdown(wt_app *app) {
    size_t i;
    if (!app->started || app->shut_down) return;
    app->shut_down = 1;
    app->ep.closing_all = 1;
    wt__ep_close_all(&app->ep, app->shutdown_code, app->shutdown_reason);
    for (i = 0; i < app->nshutdown; i++) app->shutdown[i].fn(app, app->shutdown[i].user);
}

int wt_app_run(wt_app *app) {
    struct sigaction sa, old_int, old_term;
    int rv;
    if (!app) return wt__fail(NULL, WT_ERR_INVALID, "wt_app_run: no app");
    if ((rv = wt_app_start(app)) != WT_OK) return rv;
    if (app->stop_on_signals) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = wt__on_signal;
        sigemptyset(&sa.sa_mask);
        wt__signal_loop = app->ep.loop;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    rv = wt_loop_run(app->ep.loop);
    if (app->stop_on_signals) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        wt__signal_loop = NULL;
    }
    wt__app_shutdown(app);
    return rv;
}

void wt_app_stop(wt_app *app) {
    if (app) wt_loop_stop(app->ep.loop);
}

static void wt__app_free(wt_app *app) {
    wt_allocator a = app->ep.alloc;
    size_t i;
    wt__app_shutdown(app);
    wt__ep_free(&app->ep);
    for (i = 0; i < app->nroutes; i++) {
        wt__free(&a, app->routes[i].pattern);
        wt__free(&a, app->routes[i].key);
    }
    wt__free(&a, app->routes);
    wt__free(&a, app->use);
    for (i = 0; app->origins && app->origins[i]; i++) wt__free(&a, app->origins[i]);
    wt__free(&a, app->origins);
    wt__free(&a, app->auth_token);
    wt__free(&a, app->rates);
    wt__free(&a, app->startup);
    wt__free(&a, app->shutdown);
    wt__free(&a, app->host);
    wt__free(&a, app->shutdown_reason);
    wt__free(&a, app);
}

void wt_app_destroy(wt_app *app) {
    if (!app || wt__loop_busy(app->ep.loop, "wt_app_destroy")) return;
    wt__app_free(app);
}

int wt_app_port(const wt_app *app) { return app ? app->bound_port : 0; }

int wt_app_input(wt_app *app, const void *from, size_t from_len, const uint8_t *pkt, size_t len) {
    if (!app) return WT_ERR_INVALID;
    if (!app->started) return wt__fail(&app->ep.log, WT_ERR_STATE, "wt_app_input: call wt_app_start first");
    return wt__ep_input(&app->ep, from, from_len, pkt, len);
}
wt_loop *wt_app_loop(wt_app *app) { return app ? app->ep.loop : NULL; }

size_t wt_app_session_count(const wt_app *app) {
    const wt__conn *c;
    size_t n = 0;
    if (!app) return 0;
    for (c = app->ep.conns; c; c = c->next) n += c->wt.nsessions;
    return n;
}
