/* heap_count.h - heap per idle session on a wt.h server, every library
   counted: wt.h's allocator hook, ngtcp2_mem, nghttp3_mem (both behind it)
   and wolfSSL through wolfSSL_SetAllocators. Used by the test suite
   (test_mem.c) and by the idle_heap figure (bench/idle_heap.c); both
   include wt.h with its implementation first.

   wolfSSL's hook is process-wide, so hc_install() must run before wolfSSL
   allocates anything (every block carries a small header). The server and
   the clients run on two loops of one thread; a wolfSSL block is counted
   when it is taken while the server's loop runs. */
#ifndef WT_HEAP_COUNT_H
#define WT_HEAP_COUNT_H

/* A tracer may define these before including (where each block is from) */
#ifndef HC_ON_ALLOC
#define HC_ON_ALLOC(p, n, ctr) ((void)0)
#define HC_ON_FREE(p) ((void)0)
#define HC_ON_MEASURED(run) ((void)0)
#endif

typedef struct hc_counter {
    size_t live, peak, blocks;
} hc_counter;

enum { HC_WT, HC_NGTCP2, HC_NGHTTP3, HC_WOLFSSL, HC_N };
static const char *const hc_names[HC_N] = {"wt.h", "ngtcp2", "nghttp3", "wolfSSL"};

/* ---- the wolfSSL hook: a header of two words, the size and the counter */
static hc_counter *hc_wolf_current; /* where wolfSSL blocks taken now count */
static int hc_installed;

static void hc_add(hc_counter *c, size_t n) {
    c->live += n;
    c->blocks++;
    if (c->live > c->peak) c->peak = c->live;
}

static void hc_sub(hc_counter *c, size_t n) {
    c->live -= n;
    c->blocks--;
}

static void *hc_wolf_malloc(size_t n) {
    size_t *p = (size_t *)malloc(n + 2 * sizeof(size_t));
    if (!p) return NULL;
    p[0] = n;
    p[1] = (size_t)(uintptr_t)hc_wolf_current;
    if (hc_wolf_current) hc_add(hc_wolf_current, n), HC_ON_ALLOC(p + 2, n, hc_wolf_current);
    return p + 2;
}

static void hc_wolf_free(void *ptr) {
    size_t *p;
    hc_counter *c;
    if (!ptr) return;
    p = (size_t *)ptr - 2;
    c = (hc_counter *)(uintptr_t)p[1];
    if (c) hc_sub(c, p[0]), HC_ON_FREE(ptr);
    free(p);
}

static void *hc_wolf_realloc(void *ptr, size_t n) {
    size_t *p, old;
    hc_counter *c;
    if (!ptr) return hc_wolf_malloc(n);
    p = (size_t *)ptr - 2;
    old = p[0];
    c = (hc_counter *)(uintptr_t)p[1];
    p = (size_t *)realloc(p, n + 2 * sizeof(size_t));
    if (!p) return NULL;
    p[0] = n;
    if (c) c->live = c->live - old + n, c->peak = c->live > c->peak ? c->live : c->peak;
    if (c) HC_ON_FREE(ptr), HC_ON_ALLOC(p + 2, n, c);
    return p + 2;
}

/* Before anything of wolfSSL's is allocated (a constructor, or main). */
static void hc_install(void) {
    if (hc_installed) return;
    hc_installed = wolfSSL_SetAllocators(hc_wolf_malloc, hc_wolf_free, hc_wolf_realloc) == 0;
}

/* ---- wt.h's allocator (ngtcp2's and nghttp3's hooks call one too) */
static void *hc_malloc(size_t n, void *u) {
    size_t *p = (size_t *)malloc(n + 2 * sizeof(size_t));
    if (!p) return NULL;
    p[0] = n;
    hc_add((hc_counter *)u, n);
    HC_ON_ALLOC(p + 2, n, u);
    return p + 2;
}

static void hc_free(void *ptr, void *u) {
    size_t *p;
    if (!ptr) return;
    p = (size_t *)ptr - 2;
    hc_sub((hc_counter *)u, p[0]);
    HC_ON_FREE(ptr);
    free(p);
}

static void *hc_realloc(void *ptr, size_t n, void *u) {
    hc_counter *c = (hc_counter *)u;
    size_t *p, old;
    if (!ptr) return hc_malloc(n, u);
    p = (size_t *)ptr - 2;
    old = p[0];
    p = (size_t *)realloc(p, n + 2 * sizeof(size_t));
    if (!p) return NULL;
    p[0] = n;
    c->live = c->live - old + n;
    if (c->live > c->peak) c->peak = c->live;
    HC_ON_FREE(ptr);
    HC_ON_ALLOC(p + 2, n, u);
    return p + 2;
}

/* ---- the measurement */
typedef struct hc_result {
    int conns, extra;                /* what was measured */
    double per_conn[HC_N], conn;     /* heap per idle connection with one session */
    double per_session[HC_N], session; /* per extra session on one connection */
    size_t base;                     /* the app with its first connection (not measured) */
    char error[160];                 /* set when the measurement failed */
} hc_result;

typedef struct hc_client {
    wt_client *cl;
    wt_session *s;
    int opened, closed;
} hc_client;

static void hc_client_handler(wt_event *ev) {
    hc_client *c = (hc_client *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) c->opened = 1, c->s = ev->session;
    if (ev->type == WT_EV_SESSION_CLOSED) c->closed = 1, c->s = NULL;
}

static void hc_server_handler(wt_event *ev) {
    int *open = (int *)ev->user;
    if (ev->type == WT_EV_SESSION_OPEN) (*open)++;
    if (ev->type == WT_EV_SESSION_CLOSED) (*open)--;
}

typedef struct hc_run {
    wt_loop *sl, *cl;         /* the server's loop, the clients' loop */
    hc_counter ctr[HC_N];
    wt_allocator al[HC_N];    /* wt.h, ngtcp2, nghttp3 */
} hc_run;

/* One turn of each loop; the server's with its wolfSSL blocks counted. */
static void hc_turn(hc_run *r) {
    hc_wolf_current = &r->ctr[HC_WOLFSSL];
    wt_loop_run_once(r->sl, 1);
    hc_wolf_current = NULL;
    wt_loop_run_once(r->cl, 1);
}

static size_t hc_total(const hc_run *r, size_t *each) {
    size_t t = 0;
    int i;
    for (i = 0; i < HC_N; i++) {
        if (each) each[i] = r->ctr[i].live;
        t += r->ctr[i].live;
    }
    return t;
}

/* Idle: every server connection has nothing in flight and nothing to send
   (its acknowledgements are in), for at least settle_ms. */
static int hc_settled(wt_app *app) {
    wt__conn *c;
    for (c = app->ep.conns; c; c = c->next) {
        ngtcp2_conn_info ci;
        if (!c->tp.qc || !ngtcp2_conn_get_handshake_completed(c->tp.qc)) return 0;
        ngtcp2_conn_get_conn_info(c->tp.qc, &ci);
        if (ci.bytes_in_flight) return 0;
    }
    return 1;
}

static int hc_run_until(hc_run *r, wt_app *app, int *cond_a, int want_a, int settle_ms, int deadline_ms) {
    uint64_t end = wt_loop_now_ms(r->cl) + (uint64_t)deadline_ms, quiet_since = 0;
    while (wt_loop_now_ms(r->cl) < end) {
        uint64_t now;
        hc_turn(r);
        now = wt_loop_now_ms(r->cl);
        if (cond_a && *cond_a < want_a) continue;
        if (!hc_settled(app)) {
            quiet_since = 0;
            continue;
        }
        if (!quiet_since) quiet_since = now;
        if (now - quiet_since >= (uint64_t)settle_ms) return 0;
    }
    return -1;
}

/* Opens nconns connections with one session each, then extra more sessions
   on the first; server heap per connection and per extra session. lim:
   the server's limits (NULL: defaults). */
static int hc_measure(int nconns, int extra, const wt_limits *lim, hc_result *res) {
    hc_run r;
    wt_loop_config lc;
    wt_app_config ac;
    wt_client_config cc;
    wt_app *app = NULL;
    hc_client *cli = NULL;
    uint8_t pin[32];
    char url[128];
    int opened = 0, i, k, rv = -1, want;
    size_t before[HC_N], after[HC_N], b, a;
    memset(res, 0, sizeof *res);
    memset(&r, 0, sizeof r);
    res->conns = nconns, res->extra = extra;
    if (!hc_installed) {
        snprintf(res->error, sizeof res->error, "wolfSSL's allocator hook is not installed");
        return -1;
    }
    for (i = 0; i < HC_WOLFSSL; i++) {
        r.al[i].malloc_fn = hc_malloc;
        r.al[i].realloc_fn = hc_realloc;
        r.al[i].free_fn = hc_free;
        r.al[i].user = &r.ctr[i];
    }
    memset(&lc, 0, sizeof lc);
    lc.log.level = WT_LOG_ERROR;
    r.sl = wt_loop_create(&lc);
    r.cl = wt_loop_create(&lc);
    cli = (hc_client *)calloc(1 + (size_t)nconns + (size_t)extra, sizeof *cli);
    if (!r.sl || !r.cl || !cli) {
        snprintf(res->error, sizeof res->error, "out of memory");
        goto out;
    }
    memset(&ac, 0, sizeof ac);
    ac.host = "127.0.0.1";
    ac.port = -1;
    ac.dev_cert = 1;
    ac.loop = r.sl;
    ac.log = lc.log;
    ac.qlog_dir = ""; /* a plain server, whatever $QLOGDIR and $SSLKEYLOGFILE say */
    ac.tls_keylog = "";
    ac.alloc = r.al[HC_WT];
    if (lim) ac.limits = *lim;
    hc_wolf_current = &r.ctr[HC_WOLFSSL];
    app = wt_app_create(&ac);
    if (app) {
        /* no connection yet: ngtcp2's and nghttp3's blocks count apart */
        app->ep.mem.user_data = &r.al[HC_NGTCP2];
        app->ep.h3mem.user_data = &r.al[HC_NGHTTP3];
    }
    if (!app || wt_app_route(app, "/idle", hc_server_handler, &opened) != WT_OK || wt_app_start(app) != WT_OK ||
        wt_app_cert_sha256(app, pin) != WT_OK) {
        hc_wolf_current = NULL;
        snprintf(res->error, sizeof res->error, "the server did not start");
        goto out;
    }
    hc_wolf_current = NULL;
    snprintf(url, sizeof url, "https://127.0.0.1:%d/idle", wt_app_port(app));
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = pin;
    cc.loop = r.cl;
    cc.log = lc.log;
    cc.qlog_dir = "";
    cc.tls_keylog = "";
    /* Client 0 is a warm-up, not measured: what the app takes once, on its
       first connection (the send batch, wolfSSL's ticket key), is the
       app's, not a session's. */
    for (i = 0; i <= nconns; i++) {
        if (i == 1) {
            if (hc_run_until(&r, app, &opened, 1, 100, 10000) != 0) {
                snprintf(res->error, sizeof res->error, "the first connection did not settle");
                goto out;
            }
            res->base = hc_total(&r, before);
        }
        cli[i].cl = wt_client_create(&cc);
        if (!cli[i].cl || wt_client_connect(cli[i].cl, url, hc_client_handler, &cli[i], NULL) != WT_OK) {
            snprintf(res->error, sizeof res->error, "client %d did not start", i);
            goto out;
        }
        /* one at a time: the handshakes' peaks do not add up */
        if (hc_run_until(&r, app, &cli[i].opened, 1, 0, 10000) != 0) {
            snprintf(res->error, sizeof res->error, "session %d did not open", i);
            goto out;
        }
    }
    if (hc_run_until(&r, app, &opened, 1 + nconns, 100, 10000) != 0) {
        snprintf(res->error, sizeof res->error, "the connections did not settle");
        goto out;
    }
    if ((int)app->ep.nconns != 1 + nconns) {
        snprintf(res->error, sizeof res->error, "%d connections, not %d", (int)app->ep.nconns, 1 + nconns);
        goto out;
    }
    b = res->base;
    a = hc_total(&r, after);
    for (k = 0; k < HC_N; k++) res->per_conn[k] = ((double)after[k] - (double)before[k]) / nconns;
    HC_ON_MEASURED(&r);
    res->conn = ((double)a - (double)b) / nconns;
    memcpy(before, after, sizeof before);
    b = a;
    want = 1 + nconns;
    for (i = 1 + nconns; i < 1 + nconns + extra; i++) {
        if (wt_client_connect(cli[0].cl, url, hc_client_handler, &cli[i], NULL) != WT_OK) {
            snprintf(res->error, sizeof res->error, "extra session %d did not start", i - nconns - 1);
            goto out;
        }
        want++;
        if (hc_run_until(&r, app, &opened, want, 0, 10000) != 0) {
            snprintf(res->error, sizeof res->error, "extra session %d did not open", i - nconns - 1);
            goto out;
        }
    }
    if (extra) {
        if (hc_run_until(&r, app, &opened, want, 100, 10000) != 0) {
            snprintf(res->error, sizeof res->error, "the extra sessions did not settle");
            goto out;
        }
        if ((int)app->ep.nconns != 1 + nconns) {
            snprintf(res->error, sizeof res->error, "the extra sessions took new connections");
            goto out;
        }
        a = hc_total(&r, after);
        for (k = 0; k < HC_N; k++) res->per_session[k] = ((double)after[k] - (double)before[k]) / extra;
        res->session = ((double)a - (double)b) / extra;
    }
    rv = 0;
out:
    /* sessions closed first: the destroys then have little to wait for */
    for (i = 0; cli && i < 1 + nconns + extra; i++)
        if (cli[i].s) wt_session_close(cli[i].s, 0, "");
    if (app) {
        uint64_t end = wt_loop_now_ms(r.cl) + 2000;
        while (opened > 0 && wt_loop_now_ms(r.cl) < end) hc_turn(&r);
    }
    for (i = 0; cli && i <= nconns; i++)
        if (cli[i].cl) wt_client_destroy(cli[i].cl);
    hc_wolf_current = &r.ctr[HC_WOLFSSL];
    if (app) wt_app_destroy(app);
    hc_wolf_current = NULL;
    free(cli);
    if (r.sl) wt_loop_destroy(r.sl);
    if (r.cl) wt_loop_destroy(r.cl);
    if (rv != 0 && !res->error[0]) snprintf(res->error, sizeof res->error, "timed out");
    return rv;
}

#endif
