/* wt_router.c - the way from a server's session request to its answer: the
   built-in checks (caps, rate per IP, origins, token), the accept hooks and
   their deferral, the routes with their parameters, the query string. */
#include "wt_internal.h"

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
static char *wt__route_key(wt__router *rt, const char *pat) {
    const char *p = pat;
    char *key;
    size_t o = 0;
    if (pat[0] != '/' || strpbrk(pat, "?#")) {
        wt__fail(&rt->ep->log, WT_ERR_INVALID, "wt_app_route: %s: a pattern starts with '/' and has no '?' or '#'", pat);
        return NULL;
    }
    key = (char *)wt__alloc(&rt->ep->alloc, strlen(pat) + 1); /* a key is never longer */
    if (!key) {
        wt__fail(&rt->ep->log, WT_ERR_NOMEM, "wt_app_route: out of memory");
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
            wt__fail(&rt->ep->log, WT_ERR_INVALID, "wt_app_route: %s: {name...} must be the last segment", pat);
            goto fail;
        }
        /* each name once: look for it among the parameters before it */
        for (q = strchr(pat, '{'); q && q < seg; q = strchr(q + 1, '{'))
            if (!strncmp(q + 1, seg + 1, nl) && (q[1 + nl] == '}' || q[1 + nl] == '.')) {
                wt__fail(&rt->ep->log, WT_ERR_INVALID, "wt_app_route: %s: parameter %.*s named twice", pat, (int)nl,
                         seg + 1);
                goto fail;
            }
        memcpy(key + o, kind == 0 ? "{...}" : "{}", kind == 0 ? 5 : 2);
        o += kind == 0 ? 5 : 2;
    }
    key[o] = 0;
    return key;
bad:
    wt__fail(&rt->ep->log, WT_ERR_INVALID,
             "wt_app_route: %s: a parameter is a whole segment, {name} or {name...}, the name of letters, digits, '_'",
             pat);
fail:
    wt__free(&rt->ep->alloc, key);
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
static void wt__router_route(wt__router *rt, wt_session *s) {
    const wt__route *best = NULL;
    size_t i, n = strcspn(s->path, "?"), nparams = 0;
    for (i = 0; i < rt->nroutes; i++)
        if (wt__route_match(rt->routes[i].pattern, s->path, n, NULL, NULL) &&
            (!best || wt__route_cmp(rt->routes[i].pattern, best->pattern) > 0))
            best = &rt->routes[i];
    if (!best && rt->default_route.fn) best = &rt->default_route;
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
        wt__free(&rt->ep->alloc, s->params);
        s->nparams = 0;
        if (!(s->params = (wt__param *)wt__alloc(&rt->ep->alloc, size))) {
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
static int wt__router_rate_ok(wt__router *rt, const struct sockaddr_storage *ss) {
    uint32_t rate = rt->ep->lim.sessions_per_ip_per_s;
    uint64_t now = wt_loop_now_ms(rt->ep->loop), cap = 2000ULL * rate, el;
    uint8_t addr[16];
    uint8_t fam;
    wt__rate *e = NULL, *victim = NULL;
    size_t i;
    if (!rt->rates) return 1;
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
    for (i = 0; i < rt->ep->lim.rate_limit_ips; i++) {
        wt__rate *r = &rt->rates[i];
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
static void wt__router_refuse(wt_session *s, int status, const char *why, const char *hname, const char *hvalue) {
    wt__clog(s->conn, s->id, WT_LOG_INFO, "refusing session %llu on %s: %d (%s)", (unsigned long long)s->uid, s->path,
             status, why);
    if (hname) wt__hdrs_add(&s->conn->ep->alloc, &s->resp, hname, strlen(hname), hvalue, strlen(hvalue), SIZE_MAX);
    s->reject_status = status;
    wt__session_answer(s);
}

static void wt__router_defer(wt__router *rt, wt_session *s, size_t hook) {
    wt__ep *ep = rt->ep;
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
static void wt__router_proceed(wt__router *rt, wt_session *s) {
    while (s->next_hook < rt->nuse) {
        wt__accept_hook h = rt->use[s->next_hook++]; /* a copy: a hook may add hooks */
        wt_loop *loop = rt->ep->loop;
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
            wt__router_defer(rt, s, s->next_hook - 1);
            return;
        }
    }
    wt__router_route(rt, s);
    wt__session_answer(s);
}

static void wt__router_on_request(wt__ep *ep, wt_session *s) {
    wt__router *rt = ep->router;
    if (wt__app_sessions_now(ep) + ep->ndeferred >= ep->lim.max_app_sessions) {
        wt__router_refuse(s, 429, "max_app_sessions reached", NULL, NULL);
        return;
    }
    if (!wt__budget_room(ep, WT__BUDGET_SESSION)) {
        ep->budget->refused++;
        wt__router_refuse(s, 429, "memory_budget nearly used", "retry-after", "1");
        return;
    }
    if (!wt__router_rate_ok(rt, &s->conn->tp.remote)) {
        wt__router_refuse(s, 429, "sessions_per_ip_per_s passed", "retry-after", "1");
        return;
    }
    if (rt->origins) {
        char **o = rt->origins;
        while (*o && (!s->origin || wt__ascii_casecmp(*o, s->origin) != 0)) o++;
        if (!*o) {
            wt__router_refuse(s, 403, s->origin ? "origin not in allowed_origins" : "no origin header", NULL, NULL);
            return;
        }
    }
    if (rt->auth_token && !wt__bearer_ok(wt__hdrs_get(&s->req, "authorization"), rt->auth_token)) {
        wt__router_refuse(s, 401, "no valid bearer token", "www-authenticate", "Bearer");
        return;
    }
    s->next_hook = 0;
    wt__router_proceed(rt, s);
}

/* Deferred sessions: resumed ones go on, late ones get 503. */
static void wt__router_on_service(wt__ep *ep, uint64_t now_ms) {
    wt__router *rt = ep->router;
    wt__conn *c;
    wt_session *s;
    uint64_t wake;
again:
    wake = UINT64_MAX;
    for (c = ep->conns; c; c = c->next)
        for (s = c->wt.sessions; s; s = s->next) {
            int resumed, status;
            if (!s->deferred) continue;
            if (!s->resumed && !s->reject_status && now_ms < s->defer_deadline_ms && !ep->closing_all && !ep->stopping) {
                wake = WT__MIN(wake, s->defer_deadline_ms);
                continue;
            }
            resumed = s->resumed;
            status = s->resume_status;
            wt__session_undefer(s);
            if (ep->closing_all || ep->stopping) wt__router_refuse(s, 429, "the server is shutting down", NULL, NULL);
            else if (s->reject_status) wt__router_refuse(s, s->reject_status, "wt_session_reject while deferred", NULL, NULL);
            else if (!resumed) wt__router_refuse(s, 503, "deferred, no wt_app_resume within handshake_timeout_ms", NULL, NULL);
            else if (status) wt__router_refuse(s, status, "wt_app_resume", NULL, NULL);
            else wt__router_proceed(rt, s);
            goto again; /* the lists may have changed under the handlers */
        }
    ep->wake_ms = wake;
}

/* ---------------------------------------------------------------- setup */
static int wt__router_init(wt__router *rt, wt__ep *ep, const wt_app_config *cfg) {
    size_t n = 0, i;
    memset(rt, 0, sizeof *rt);
    rt->ep = ep;
    ep->router = rt;
    ep->on_request = wt__router_on_request;
    ep->on_service = wt__router_on_service;
    ep->wake_ms = UINT64_MAX;
    if (cfg->allowed_origins) {
        while (cfg->allowed_origins[n]) n++;
        if (!(rt->origins = (char **)wt__calloc(&ep->alloc, (n + 1) * sizeof(char *)))) goto nomem;
        for (i = 0; i < n; i++)
            if (!(rt->origins[i] = wt__strdup(&ep->alloc, cfg->allowed_origins[i]))) goto nomem;
    }
    if (cfg->auth_token) {
        if (!*cfg->auth_token)
            return wt__fail(&ep->log, WT_ERR_INVALID, "wt_app_create: auth_token is empty (NULL turns the check off)");
        if (!(rt->auth_token = wt__strdup(&ep->alloc, cfg->auth_token))) goto nomem;
    }
    if (ep->lim.sessions_per_ip_per_s != UINT32_MAX &&
        !(rt->rates = (wt__rate *)wt__calloc(&ep->alloc, (size_t)ep->lim.rate_limit_ips * sizeof(wt__rate))))
        goto nomem;
    return WT_OK;
nomem:
    return wt__fail(&ep->log, WT_ERR_NOMEM, "wt_app_create: out of memory");
}

static void wt__router_free(wt__router *rt, const wt_allocator *a) {
    size_t i;
    for (i = 0; i < rt->nroutes; i++) {
        wt__free(a, rt->routes[i].pattern);
        wt__free(a, rt->routes[i].key);
    }
    wt__free(a, rt->routes);
    wt__free(a, rt->use);
    for (i = 0; rt->origins && rt->origins[i]; i++) wt__free(a, rt->origins[i]);
    wt__free(a, rt->origins);
    wt__free(a, rt->auth_token);
    wt__free(a, rt->rates);
}

/* ---------------------------------------------------------------- registering */
static int wt__router_add(wt__router *rt, const char *pattern, wt_handler fn, void *user) {
    wt__route *r;
    char *key;
    size_t i;
    if (!pattern || !fn) return wt__fail(&rt->ep->log, WT_ERR_INVALID, "wt_app_route: no pattern or no handler");
    if (!(key = wt__route_key(rt, pattern))) return WT_ERR_INVALID;
    for (i = 0; i < rt->nroutes; i++)
        if (!strcmp(rt->routes[i].key, key)) {
            wt__free(&rt->ep->alloc, key);
            return wt__fail(&rt->ep->log, WT_ERR_INVALID, "wt_app_route: %s is routed already (as %s)", pattern,
                            rt->routes[i].pattern);
        }
    r = (wt__route *)wt__realloc(&rt->ep->alloc, rt->routes, (rt->nroutes + 1) * sizeof *r);
    if (!r) {
        wt__free(&rt->ep->alloc, key);
        return wt__fail(&rt->ep->log, WT_ERR_NOMEM, "wt_app_route: out of memory");
    }
    rt->routes = r;
    r += rt->nroutes;
    if (!(r->pattern = wt__strdup(&rt->ep->alloc, pattern))) {
        wt__free(&rt->ep->alloc, key);
        return wt__fail(&rt->ep->log, WT_ERR_NOMEM, "wt_app_route: out of memory");
    }
    r->key = key;
    r->fn = fn;
    r->user = user;
    rt->nroutes++;
    return WT_OK;
}

static int wt__router_default(wt__router *rt, wt_handler fn, void *user) {
    if (!fn) return wt__fail(&rt->ep->log, WT_ERR_INVALID, "wt_app_default_route: no handler");
    if (rt->default_route.fn) return wt__fail(&rt->ep->log, WT_ERR_INVALID, "wt_app_default_route: set already");
    rt->default_route.fn = fn;
    rt->default_route.user = user;
    return WT_OK;
}

static int wt__router_use(wt__router *rt, wt_accept_fn fn, void *user) {
    wt__accept_hook *h;
    if (!fn) return wt__fail(&rt->ep->log, WT_ERR_INVALID, "wt_app_use: no hook");
    h = (wt__accept_hook *)wt__realloc(&rt->ep->alloc, rt->use, (rt->nuse + 1) * sizeof *h);
    if (!h) return wt__fail(&rt->ep->log, WT_ERR_NOMEM, "wt_app_use: out of memory");
    h[rt->nuse].fn = fn;
    h[rt->nuse].user = user;
    rt->use = h;
    rt->nuse++;
    return WT_OK;
}

/* The session under that ID if it waits for wt_app_resume (resumed or not). */
static wt_session *wt__router_deferred(wt__router *rt, uint64_t session_id) {
    wt__conn *c;
    wt_session *s = NULL;
    for (c = rt->ep->conns; c && !s; c = c->next)
        for (s = c->wt.sessions; s && s->uid != session_id; s = s->next) {}
    return s && s->deferred ? s : NULL;
}

static int wt__router_resume(wt__router *rt, uint64_t session_id, int status) {
    wt_session *s;
    if (status != 0 && (status < 300 || status > 599))
        return wt__fail(&rt->ep->log, WT_ERR_INVALID, "wt_app_resume: status %d is not 0 or 300-599", status);
    if (!(s = wt__router_deferred(rt, session_id)))
        return wt__fail_at(&rt->ep->log, WT_LOG_INFO, WT_ERR_NOT_FOUND,
                           "wt_app_resume: session %llu is not waiting (its peer left, it timed out, or it never deferred)",
                           (unsigned long long)session_id);
    if (s->resumed)
        return wt__cfail(s->conn, s->id, WT_ERR_STATE, "wt_app_resume: session %llu was resumed already",
                         (unsigned long long)session_id);
    s->resumed = 1;
    s->resume_status = status;
    rt->ep->wake_ms = 0; /* the loop acts on it next, never inside this call */
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
