/* wt_app.c - the server application: config, sockets, startup/shutdown hooks
   (routes and accept hooks: wt_router.c). */
#include "wt_internal.h"

#include <netdb.h>
#include <pthread.h>
#if defined(__linux__)
#include <linux/filter.h>
#endif

typedef struct wt__hook {
    wt_app_hook fn;
    void *user;
} wt__hook;

/* The steps of a stop, in order (see wt__app_tick); WAIT_WORKERS: worker 0,
   its own connections done, waits for the other workers' threads. */
enum {
    WT__APP_RUNNING,
    WT__APP_GRACE,
    WT__APP_CLOSING_SESSIONS,
    WT__APP_CLOSING_CONNS,
    WT__APP_WAIT_WORKERS,
    WT__APP_STOPPED
};


/* One worker (see WORKERS in wt.h): an endpoint on its own loop with its
   own sockets, connection IDs and connections, its router state (rate
   buckets; the routes and hooks are worker 0's, read-only once started)
   and its steps of a stop. Worker 0 runs on the thread that runs the app
   (or on cfg->loop), the others on threads of the app's. */
typedef struct wt__worker {
    wt__ep *ep;                  /* worker 0: the app's own; else own_ep */
    wt__router *router;          /* worker 0: the app's own; else own_router */
    wt__ep own_ep;
    wt__router own_router;
    wt_app *app;
    int index;
    int phase;                   /* WT__APP_* */
    uint64_t stop_due_ms;        /* its stop's next step (UINT64_MAX: when woken) */
    uint64_t grace_end_ms, goaway_ms, ack_end_ms, close_end_ms;
    size_t drained, closed_by_stop, conns_at_close; /* counted for the final log line */
    wt__budget *budget;          /* its share of memory_budget (NULL: none) */
    pthread_t tid;               /* index > 0: its thread, for the join */
    int joinable;                /* tid is a thread to join */
    pthread_t self;              /* the thread running it: set by that thread
                                    (worker 0: wt_app_start / wt_app_run) ... */
    atomic_int has_self;         /* ... before this turns 1 */
    int rv;                      /* its loop's result */
    /* what other threads read of it, under mu (workers > 1) */
    pthread_mutex_t mu;
    int mu_ready;
    wt_stats snap;
    uint64_t snap_rtt_n;         /* connections its mean RTTs are over */
    size_t snap_sessions, snap_mem, snap_peak;
    uint64_t snap_due_ms;
    int snap_changed;            /* the last refresh changed something: refresh again */
    atomic_int snap_req;         /* someone asked: refresh at the next tick */
} wt__worker;

struct wt_app {
    wt__ep ep;                   /* worker 0's endpoint (the only one without workers) */
    wt__router router;           /* and its router: the routes every worker reads */
    wt__worker *w;               /* nworkers of them (w[0] always) */
    int nworkers;
    uint32_t snap_ms;            /* workers_stats_ms: how often a worker publishes */
    wt_allocator raw;            /* the app's allocator, before any budget */
    char *host;
    int port, bound_port;
    wt__hook *startup, *shutdown;
    size_t nstartup, nshutdown;
    int started, shut_down;
    int stop_on_signals;
    uint32_t shutdown_code;
    char *shutdown_reason;
    uint8_t cert_sha256[32];
    int has_cert_sha256;
    uint32_t grace_ms;
    /* the stop: requests may come from a signal handler or another thread,
       so they are lock-free atomics (safe in both) that the loop threads
       act on (wt__app_tick) */
    atomic_int stop_req;             /* 1 graceful, 2 now */
    atomic_int signals;              /* SIGINT/SIGTERM seen during wt_app_run */
    atomic_int last_signal;
    atomic_int quit;                 /* destroy: worker threads return at once */
    atomic_int workers_done;         /* worker threads whose loop returned */
    int signals_logged;
    int phase;                       /* the app's: WT__APP_STOPPED once every
                                        worker stopped and the hooks ran */
    int running;                     /* inside wt_app_run: its loop stops at the end */
};

/* Signals are process-wide, so this one pointer is too: the app that a
   SIGINT/SIGTERM stops while wt_app_run runs with stop_on_signals. */
static _Atomic(wt_app *) wt__signal_app;

/* Wakes every worker's loop: write()s only, async-signal-safe. */
static void wt__app_wake(wt_app *app) {
    int i;
    for (i = 0; i < app->nworkers; i++) wt_loop_wakeup(app->w[i].ep->loop);
}

/* Async-signal-safe: flags and a write() (wt_loop_wakeup). The first
   signal asks for a graceful stop, the second for an immediate one; the
   loop thread logs them. */
static void wt__on_signal(int sig) {
    wt_app *app = wt__signal_app;
    if (!app) return;
    app->last_signal = sig;
    app->signals = app->signals + 1;
    app->stop_req = app->signals >= 2 ? 2 : (app->stop_req ? app->stop_req : 1);
    wt__app_wake(app);
}

/* The worker whose thread calls: 0 without workers, -1 from a thread that
   runs none of them. */
static int wt__app_current(const wt_app *app) {
    pthread_t me = pthread_self();
    int i;
    if (app->nworkers == 1) return 0;
    for (i = 0; i < app->nworkers; i++)
        if (atomic_load(&app->w[i].has_self) && pthread_equal(app->w[i].self, me)) return i;
    return -1;
}

/* Another thread may read a worker's own state directly only when no
   worker thread runs (before the start, after the stop). */
static int wt__app_threads_run(const wt_app *app) {
    return app->nworkers > 1 && app->started && atomic_load(&app->workers_done) < app->nworkers - 1;
}

/* A worker's figures for other threads, on its own thread. */
static void wt__worker_snap(wt__worker *w, uint64_t now) {
    wt_stats st;
    uint64_t n;
    size_t sess = 0;
    const wt__conn *c;
    for (c = w->ep->conns; c; c = c->next) sess += c->wt.nsessions;
    n = wt__ep_stats(w->ep, &st);
    pthread_mutex_lock(&w->mu);
    w->snap_changed = memcmp(&st, &w->snap, sizeof st) != 0 || sess != w->snap_sessions ||
                      (w->budget && w->budget->used != w->snap_mem);
    w->snap = st;
    w->snap_rtt_n = n;
    w->snap_sessions = sess;
    w->snap_mem = w->budget ? w->budget->used : 0;
    w->snap_peak = w->budget ? w->budget->peak : 0;
    pthread_mutex_unlock(&w->mu);
    w->snap_due_ms = now + w->app->snap_ms;
}

static void wt__app_tick(wt__worker *w);

/* Every wt_loop_process of a worker: its stop, then its figures for the
   other threads (refreshed while they change, or when asked). */
static void wt__worker_tick(wt__ep *ep) {
    wt__worker *w = &((wt_app *)ep->owner)->w[ep->worker];
    wt__app_tick(w);
    ep->tick_due_ms = w->stop_due_ms;
    if (w->app->nworkers > 1 && w->mu_ready) {
        uint64_t now = wt_loop_now_ms(ep->loop);
        if (atomic_exchange(&w->snap_req, 0) || now >= w->snap_due_ms) wt__worker_snap(w, now);
        if (w->snap_changed) ep->tick_due_ms = WT__MIN(ep->tick_due_ms, w->snap_due_ms);
    }
}

static void wt__app_free(wt_app *app);

/* Worker i > 0, after worker 0 is ready: the same limits, secrets, server
   ID and checks, and worker 0's TLS context (one certificate, shared: a
   WOLFSSL_CTX is safe to make connections from on several threads). */
static int wt__worker_init(wt_app *app, int i, const wt_app_config *cfg) {
    wt__worker *w = &app->w[i], *w0 = &app->w[0];
    wt_allocator al = cfg->alloc;
    wt_loop_config lc;
    wt_loop *loop;
    w->app = app;
    w->ep = &w->own_ep;
    w->router = &w->own_router;
    w->index = i;
    w->stop_due_ms = UINT64_MAX;
    w->ep->keylog_fd = -1; /* wt__ep_free is safe on it from here on */
    if (cfg->limits.memory_budget &&
        !(w->budget = wt__budget_new(&cfg->alloc, cfg->limits.memory_budget / (uint32_t)app->nworkers, &al)))
        return wt__fail(&cfg->log, WT_ERR_NOMEM, "wt_app_create: out of memory");
    /* its loop on the app's own allocator, not the budget's: wt_app_post
       allocates there from other threads */
    memset(&lc, 0, sizeof lc);
    lc.alloc = cfg->alloc;
    lc.log = cfg->log;
    if (!(loop = wt_loop_create(&lc))) return WT_ERR_NOMEM;
    w->ep->budget = w->budget;
    if (wt__ep_init(w->ep, loop, 1, &al, &cfg->log, &cfg->limits) != WT_OK) {
        wt_loop_destroy(loop);
        return WT_ERR_NOMEM;
    }
    w->ep->owns_loop = 1;
    memcpy(w->ep->reset_secret, w0->ep->reset_secret, sizeof w->ep->reset_secret);
    memcpy(w->ep->token_secret, w0->ep->token_secret, sizeof w->ep->token_secret);
    w->ep->sid_len = w0->ep->sid_len;
    memcpy(w->ep->sid, w0->ep->sid, sizeof w->ep->sid);
    w->ep->cid_len = w0->ep->cid_len;
    w->ep->worker = (uint8_t)i;
    w->ep->nworkers = app->nworkers;
    w->ep->owner = app;
    if (wt__router_init(w->router, w->ep, cfg) != WT_OK) return WT_ERR_NOMEM;
    w->ep->tick = wt__worker_tick;
    if (wt__trace_init(w->ep, cfg->qlog_dir, cfg->tls_keylog) != WT_OK) return WT_ERR_INVALID;
    wolfSSL_CTX_free(w->ep->ssl_ctx);
    w->ep->ssl_ctx = NULL;
    if (wolfSSL_CTX_up_ref(w0->ep->ssl_ctx) != WOLFSSL_SUCCESS)
        return wt__fail(&cfg->log, WT_ERR_TLS, "wt_app_create: cannot share the TLS context with worker %d", i);
    w->ep->ssl_ctx = w0->ep->ssl_ctx;
    memcpy(w->ep->groups, w0->ep->groups, sizeof w->ep->groups);
    w->ep->ngroups = w0->ep->ngroups;
    if (pthread_mutex_init(&w->mu, NULL) != 0) return wt__fail(&cfg->log, WT_ERR_NOMEM, "wt_app_create: no mutex");
    w->mu_ready = 1;
    return WT_OK;
}

/* Workers 1.. once worker 0 has its certificate. */
static int wt__app_make_workers(wt_app *app, const wt_app_config *cfg) {
    int i;
    if (app->nworkers == 1) return WT_OK;
    if (pthread_mutex_init(&app->w[0].mu, NULL) != 0) return wt__fail(&cfg->log, WT_ERR_NOMEM, "wt_app_create: no mutex");
    app->w[0].mu_ready = 1;
    for (i = 1; i < app->nworkers; i++) {
        int rv = wt__worker_init(app, i, cfg);
        if (rv != WT_OK) return rv;
    }
    return WT_OK;
}

wt_app *wt_app_create(const wt_app_config *cfg) {
    wt_app *app;
    const wt_log *lg;
    wt_allocator al;
    wt__budget *bud = NULL;
    wt__worker *w0;
    wt_loop *own_loop = NULL;
    int nworkers;
    if (!cfg) {
        wt__fail(NULL, WT_ERR_INVALID, "wt_app_create: no config");
        return NULL;
    }
    lg = &cfg->log;
    if ((!cfg->cert_file || !cfg->key_file) && !(cfg->dev_cert && !cfg->cert_file && !cfg->key_file)) {
        wt__fail(lg, WT_ERR_INVALID, cfg->dev_cert ? "wt_app_create: dev_cert with only one of cert_file and key_file"
                                                   : "wt_app_create: cert_file and key_file are required (or dev_cert = 1)");
        return NULL;
    }
    if (cfg->port < -1 || cfg->port > 65535) {
        wt__fail(lg, WT_ERR_INVALID, "wt_app_create: port %d outside -1..65535", cfg->port);
        return NULL;
    }
    if (cfg->server_id_len > WT_SERVER_ID_MAX || (cfg->server_id_len && !cfg->server_id)) {
        wt__fail(lg, WT_ERR_INVALID, "wt_app_create: server_id_len must be 0..%d, with server_id set",
                 WT_SERVER_ID_MAX);
        return NULL;
    }
    if (cfg->workers < 0 || cfg->workers > WT_WORKERS_MAX) {
        wt__fail(lg, WT_ERR_INVALID, "wt_app_create: workers %d outside 0..%d", cfg->workers, WT_WORKERS_MAX);
        return NULL;
    }
    nworkers = cfg->workers > 1 ? cfg->workers : 1;
    if (nworkers > 1 && cfg->io.send) {
        wt__fail(lg, WT_ERR_INVALID, "wt_app_create: workers need sockets (not io.send)");
        return NULL;
    }
    /* with a memory budget everything of the app goes through a counting
       allocator, the app itself included (see SMALL DEVICES); with workers
       each has its share */
    al = cfg->alloc;
    if (cfg->limits.memory_budget &&
        !(bud = wt__budget_new(&cfg->alloc, cfg->limits.memory_budget / (uint32_t)nworkers, &al))) {
        wt__fail(lg, WT_ERR_NOMEM, "wt_app_create: out of memory");
        return NULL;
    }
    app = (wt_app *)wt__calloc(&al, sizeof *app);
    if (app) app->w = (wt__worker *)wt__calloc(&al, (size_t)nworkers * sizeof *app->w);
    if (!app || !app->w) {
        if (app) wt__free(&al, app);
        if (bud) wt__free(&cfg->alloc, bud);
        wt__fail(lg, WT_ERR_NOMEM, "wt_app_create: out of memory%s", bud ? " (or memory_budget too small)" : "");
        return NULL;
    }
    app->nworkers = nworkers;
    app->snap_ms = cfg->workers_stats_ms ? cfg->workers_stats_ms : 100;
    app->raw = cfg->alloc;
    w0 = &app->w[0];
    w0->app = app;
    w0->ep = &app->ep;
    w0->router = &app->router;
    w0->stop_due_ms = UINT64_MAX;
    w0->ep->keylog_fd = -1;
    w0->budget = bud;
    w0->ep->budget = bud; /* wt__ep_init keeps it */
    if (!cfg->loop && (nworkers > 1 || bud)) {
        /* its loop on the app's own allocator, not the budget's, as the
           other workers' (see wt__worker_init): wt_loop_post and wt_app_post
           allocate there from other threads, and the budget's counters
           belong to the loop's thread */
        wt_loop_config lc;
        memset(&lc, 0, sizeof lc);
        lc.alloc = cfg->alloc;
        lc.log = cfg->log;
        if (!(own_loop = wt_loop_create(&lc))) goto fail;
    }
    if (wt__ep_init(w0->ep, own_loop ? own_loop : cfg->loop, 1, &al, &cfg->log, &cfg->limits) != WT_OK) {
        if (own_loop) wt_loop_destroy(own_loop);
        goto fail;
    }
    if (own_loop) w0->ep->owns_loop = 1;
    if (cfg->reset_key) memcpy(w0->ep->reset_secret, cfg->reset_key, sizeof w0->ep->reset_secret);
    if (cfg->token_key) memcpy(w0->ep->token_secret, cfg->token_key, sizeof w0->ep->token_secret);
    if (cfg->server_id_len) {
        w0->ep->sid_len = (uint8_t)cfg->server_id_len;
        memcpy(w0->ep->sid, cfg->server_id, cfg->server_id_len);
        w0->ep->cid_len = (uint8_t)WT__MAX(w0->ep->cid_len, cfg->server_id_len + 6);
    }
    w0->ep->nworkers = nworkers;
    w0->ep->owner = app;
    if (wt__router_init(w0->router, w0->ep, cfg) != WT_OK) goto fail;
    w0->ep->tick = wt__worker_tick;
    w0->ep->io = cfg->io;
    if (cfg->io.send && cfg->port == -1) {
        wt__fail(lg, WT_ERR_INVALID, "wt_app_create: with io.send (no socket) the port must be given");
        goto fail;
    }
    if (wt__tls_set_groups(w0->ep, cfg->tls_groups, 0) != WT_OK) goto fail;
    if (wt__tls_set_ciphers(w0->ep, cfg->tls_ciphers) != WT_OK) goto fail;
    if (wt__trace_init(w0->ep, cfg->qlog_dir, cfg->tls_keylog) != WT_OK) goto fail;
    app->host = wt__strdup(&al, cfg->host ? cfg->host : "127.0.0.1");
    app->port = cfg->port == 0 ? 4433 : cfg->port;
    app->stop_on_signals = cfg->stop_on_signals;
    app->shutdown_code = cfg->shutdown_code;
    app->grace_ms = cfg->shutdown_grace_ms ? cfg->shutdown_grace_ms : 2000;
    app->shutdown_reason = wt__strdup(&al, cfg->shutdown_reason ? cfg->shutdown_reason : "server shutting down");
    if (!app->host || !app->shutdown_reason) {
        wt__fail(lg, WT_ERR_NOMEM, "wt_app_create: out of memory");
        goto fail;
    }
    if (strlen(app->shutdown_reason) > WT__REASON_MAX) {
        wt__fail(lg, WT_ERR_TOO_BIG, "wt_app_create: shutdown_reason over %d bytes", WT__REASON_MAX);
        goto fail;
    }
    if (!cfg->cert_file) {
        /* dev_cert: nothing on disk; the hash is what clients pin */
        char hex[65];
        const char *h = app->host;
        int named = strcmp(h, "localhost") && strcmp(h, "127.0.0.1") && strcmp(h, "::1") && strcmp(h, "::") &&
                    strcmp(h, "0.0.0.0") && strlen(h) < 128;
        if (wt__cert_load_dev(w0->ep->ssl_ctx, lg, named ? h : NULL, app->cert_sha256) != WT_OK) goto fail;
        app->has_cert_sha256 = 1;
        wt_hex(app->cert_sha256, 32, hex);
        /* the hash in the warning too: at the default log level it is the
           one line a user sees, and the hash is what they need */
        wt__log(lg, WT_LOG_WARN, "dev_cert: a self-signed certificate made in memory, for development only "
                "(give cert_file and key_file in production); sha256 %s", hex);
        wt__log(lg, WT_LOG_INFO, "development certificate for localhost%s%s sha256 %s (for serverCertificateHashes "
                "or a client's cert_sha256)", named ? " and " : "", named ? h : "", hex);
        if (wt__app_make_workers(app, cfg) != WT_OK) goto fail;
        return app;
    }
    if (wolfSSL_CTX_use_certificate_chain_file(w0->ep->ssl_ctx, cfg->cert_file) != WOLFSSL_SUCCESS) {
        wt__fail(lg, WT_ERR_CERT, "cannot load certificate %s", cfg->cert_file);
        goto fail;
    }
    if (wolfSSL_CTX_use_PrivateKey_file(w0->ep->ssl_ctx, cfg->key_file, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_check_private_key(w0->ep->ssl_ctx) != WOLFSSL_SUCCESS) {
        wt__fail(lg, WT_ERR_CERT, "cannot load private key %s (or it does not match the certificate)", cfg->key_file);
        goto fail;
    }
    if (wt_cert_sha256(cfg->cert_file, app->cert_sha256) == WT_OK) {
        char hex[65];
        app->has_cert_sha256 = 1;
        wt_hex(app->cert_sha256, 32, hex);
        wt__log(lg, WT_LOG_INFO, "certificate %s sha256 %s (for serverCertificateHashes)", cfg->cert_file, hex);
    }
    if (wt__app_make_workers(app, cfg) != WT_OK) goto fail;
    return app;
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

/* Workers read the routes and hooks on their threads once started: they
   are set before. */
static int wt__app_routes_frozen(wt_app *app, const char *what) {
    if (app->nworkers == 1 || !app->started) return 0;
    wt__fail(&app->ep.log, WT_ERR_STATE, "%s: with workers, routes and accept hooks are added before wt_app_start", what);
    return 1;
}

int wt_app_route(wt_app *app, const char *pattern, wt_handler fn, void *user) {
    if (!app) return wt__fail(NULL, WT_ERR_INVALID, "wt_app_route: no app");
    return wt__app_routes_frozen(app, "wt_app_route") ? WT_ERR_STATE : wt__router_add(&app->router, pattern, fn, user);
}

int wt_app_default_route(wt_app *app, wt_handler fn, void *user) {
    if (!app) return wt__fail(NULL, WT_ERR_INVALID, "wt_app_default_route: no app");
    return wt__app_routes_frozen(app, "wt_app_default_route") ? WT_ERR_STATE
                                                                : wt__router_default(&app->router, fn, user);
}

int wt_app_use(wt_app *app, wt_accept_fn fn, void *user) {
    if (!app) return wt__fail(NULL, WT_ERR_INVALID, "wt_app_use: no app");
    return wt__app_routes_frozen(app, "wt_app_use") ? WT_ERR_STATE : wt__router_use(&app->router, fn, user);
}

/* The worker that owns a session ID (see wt__session_new). */
static int wt__app_worker_of(const wt_app *app, uint64_t session_id) {
    return app->nworkers > 1 && session_id ? (int)((session_id - 1) % (uint64_t)app->nworkers) : 0;
}

/* With workers, a deferred session is answered on its own worker's thread. */
static wt__worker *wt__app_owner_here(wt_app *app, uint64_t session_id, const char *what) {
    int k = wt__app_worker_of(app, session_id);
    if (app->nworkers > 1 && wt__app_current(app) != k) {
        wt__fail(&app->ep.log, WT_ERR_STATE,
                 "%s: session %llu belongs to worker %d: call it on that worker's thread (wt_app_post)", what,
                 (unsigned long long)session_id, k);
        return NULL;
    }
    return &app->w[k];
}

int wt_app_resume(wt_app *app, uint64_t session_id, int status) {
    wt__worker *w;
    if (!app) return wt__fail(NULL, WT_ERR_INVALID, "wt_app_resume: no app");
    if (!(w = wt__app_owner_here(app, session_id, "wt_app_resume"))) return WT_ERR_STATE;
    return wt__router_resume(w->router, session_id, status);
}

wt_session *wt_app_deferred_session(wt_app *app, uint64_t session_id) {
    wt__worker *w = app ? wt__app_owner_here(app, session_id, "wt_app_deferred_session") : NULL;
    return w ? wt__router_deferred(w->router, session_id) : NULL;
}

int wt_app_workers(const wt_app *app) { return app ? app->nworkers : 0; }

int wt_app_current_worker(const wt_app *app) { return app ? wt__app_current(app) : -1; }

int wt_app_post(wt_app *app, uint64_t session_id, wt_session_fn fn, void *user) {
    wt__worker *w;
    if (!app || !fn || !session_id)
        return wt__fail(app ? &app->ep.log : NULL, WT_ERR_INVALID, "wt_app_post: no app, function or session ID");
    w = &app->w[wt__app_worker_of(app, session_id)];
    return wt__loop_push(w->ep->loop, NULL, user, fn, w->ep, session_id);
}

int wt_app_post_all(wt_app *app, wt_timer_fn fn, void *user) {
    int i, rv = WT_OK;
    if (!app || !fn) return wt__fail(app ? &app->ep.log : NULL, WT_ERR_INVALID, "wt_app_post_all: no app or no function");
    for (i = 0; i < app->nworkers; i++) {
        int r = wt_loop_post(app->w[i].ep->loop, fn, user);
        if (r != WT_OK) rv = r; /* logged; the other workers still get theirs */
    }
    return rv;
}

/* Runs on the loop: events their calls cause wait until each returns. A
   negative status is logged, and the next hook runs all the same. */
static void wt__app_run_shutdown_hooks(wt_app *app) {
    wt_loop *loop = app->ep.loop;
    size_t i;
    if (app->shut_down) return;
    app->shut_down = 1;
    for (i = 0; i < app->nshutdown; i++) {
        int rv;
        loop->in_handler++;
        rv = app->shutdown[i].fn(app, app->shutdown[i].user);
        loop->in_handler--;
        if (rv < 0)
            wt__log(&app->ep.log, WT_LOG_WARN, "shutdown hook %zu of %zu returned %d (%s)", i + 1, app->nshutdown, rv,
                    rv >= WT_ERR_TRUNCATED ? wt_strerror(rv) : "the hook's own status");
        wt__loop_drain(loop);
    }
}

/* Sessions that hold a graceful stop open: asked for or open. */
static size_t wt__app_live_sessions(const wt__ep *ep) {
    const wt__conn *c;
    const wt_session *s;
    size_t n = 0;
    for (c = ep->conns; c; c = c->next)
        for (s = c->wt.sessions; s; s = s->next) n += s->state == WT__SESS_REQUESTED || s->state == WT__SESS_OPEN;
    return n;
}

/* The largest PTO of the open connections, in ms (at least 1). */
static uint64_t wt__app_max_pto_ms(const wt__ep *ep) {
    const wt__conn *c;
    uint64_t pto = 1;
    for (c = ep->conns; c; c = c->next)
        if (c->state <= WT__CONN_OPEN && c->tp.qc) pto = WT__MAX(pto, ngtcp2_conn_get_pto(c->tp.qc) / WT__NS_PER_MS);
    return pto;
}

/* A connection that carries WebTransport: a session asked for, open or
   closing, or an accepted one whose CONNECT stream is not done both ways
   (a refused request never made a session there). The stop sends such a
   connection no GOAWAY, only DRAIN capsules, close capsules and, once the
   peers answered those, CONNECTION_CLOSE. Why: the WebTransport draft lets
   a peer keep opening streams after a GOAWAY ("Interaction with the HTTP/3
   GOAWAY frame"), but Chromium's client cannot: QUICHE's
   QuicSpdyClientSession::ShouldCreateOutgoingBidirectionalStream
   (quic_spdy_client_session.cc) is false for good once goaway_received(),
   while CanOpenNextOutgoingBidirectionalStream still says yes (stream
   limits only), and services/network/web_transport.cc CreateStream then
   uses the null stream (a DCHECK only): the network service crashes and
   every session in the browser ends in "Connection lost". Skipping the
   GOAWAY costs nothing the RFCs require: RFC 9114 5.3 lets an endpoint
   close the connection at any time (a GOAWAY first is a MAY), new sessions
   get 429 during the stop anyway, and DRAIN is the draft's per-session
   signal. */
static int wt__app_conn_holds_wt(const wt__conn *c) {
    const wt_session *s;
    for (s = c->wt.sessions; s; s = s->next)
        if (s->state != WT__SESS_CLOSED || (s->status / 100 == 2 && !s->connect_closed && !s->send_stopped)) return 1;
    return 0;
}

/* HTTP/3 GOAWAY, to connections without WebTransport (above): first the
   notice (no new requests, please), then, a few round trips later or when
   the grace ends, the final one with the last request we took (nghttp3
   refuses any later one from then on). */
static void wt__app_goaway(wt__conn *c, int final) {
    if (c->state != WT__CONN_OPEN || !c->h3.conn) return;
    if (c->h3.goaway_sent < 1) {
        if (nghttp3_conn_submit_shutdown_notice(c->h3.conn) != 0) {
            wt__clog(c, -1, WT_LOG_WARN, "GOAWAY notice: out of memory");
            return;
        }
        c->h3.goaway_sent = 1;
        c->dirty = 1;
    }
    if (final && c->h3.goaway_sent < 2) {
        if (nghttp3_conn_shutdown(c->h3.conn) != 0) {
            wt__clog(c, -1, WT_LOG_WARN, "GOAWAY: out of memory");
            return;
        }
        c->h3.goaway_sent = 2;
        c->dirty = 1;
    }
}

static void wt__app_log_signals(wt_app *app) {
    while (app->signals_logged < app->signals) {
        const char *name = app->last_signal == SIGINT ? "SIGINT" : "SIGTERM";
        if (++app->signals_logged == 1)
            wt__log(&app->ep.log, WT_LOG_INFO, "%s: stopping gracefully (send it again to stop at once)", name);
        else wt__log(&app->ep.log, WT_LOG_INFO, "%s again: stopping now", name);
    }
}

/* Waits for the worker threads (told to quit at once unless their stop
   ran to its end). After it, one thread owns every worker. */
static void wt__app_join(wt_app *app) {
    int i;
    if (app->nworkers == 1) return;
    app->quit = 1;
    wt__app_wake(app);
    for (i = 1; i < app->nworkers; i++)
        if (app->w[i].joinable) {
            pthread_join(app->w[i].tid, NULL);
            app->w[i].joinable = 0;
            app->w[i].has_self = 0;
        }
}

static void wt__app_log_end(wt_app *app) {
    size_t drained = 0, closed = 0, conns = 0;
    wt_stats t;
    int i;
    for (i = 0; i < app->nworkers; i++) {
        drained += app->w[i].drained;
        closed += app->w[i].closed_by_stop;
        conns += app->w[i].conns_at_close;
    }
    wt__log(&app->ep.log, WT_LOG_INFO,
            "stopped: %zu session(s) open at the stop, %zu closed by it with code %u, %zu connection(s) closed", drained,
            closed, (unsigned)app->shutdown_code, conns);
    /* the app's whole life, closed connections included */
    wt_app_stats(app, &t);
    wt__log(&app->ep.log, WT_LOG_INFO,
            "statistics: %llu session(s), %llu stream(s), %llu/%llu bytes and %llu/%llu packets sent/received "
            "(%llu lost), %llu/%llu datagrams sent/received (%llu lost, %llu dropped)",
            (unsigned long long)t.sessions_opened, (unsigned long long)t.streams_opened,
            (unsigned long long)t.bytes_sent, (unsigned long long)t.bytes_received,
            (unsigned long long)t.packets_sent, (unsigned long long)t.packets_received,
            (unsigned long long)t.packets_lost, (unsigned long long)t.datagrams_sent,
            (unsigned long long)t.datagrams_received, (unsigned long long)t.datagrams_lost,
            (unsigned long long)t.datagrams_dropped);
}

/* The stop, one step per call, on each worker's thread (every
   wt_loop_process), each worker for its own connections:
   GRACE: new connections refused, new sessions 429, DRAIN to every
     session and GOAWAY to every connection without WebTransport
     (wt__app_conn_holds_wt), until the sessions are gone or
     grace_ms passed (stop_now: no wait);
   CLOSING_SESSIONS: each session left closed with shutdown_code/_reason,
     until the peers acknowledge the capsules and finish their side of the
     CONNECT streams (3 PTO, 1 s at most, as destroy waits);
   CLOSING_CONNS: CONNECTION_CLOSE everywhere, until each connection's
     closing (or draining) period is over; then a worker > 0 is STOPPED
     and its thread returns;
   WAIT_WORKERS: worker 0 waits for the others' threads (they wake it);
   STOPPED: the shutdown hooks (once, on worker 0), a summary, and
     wt_app_run returns. */
static void wt__app_tick(wt__worker *w) {
    wt_app *app = w->app;
    wt__ep *ep = w->ep;
    wt__conn *c;
    wt_session *s;
    uint64_t now;
    char who[24] = "";
    if (w->phase == WT__APP_STOPPED) return;
    if (w->index == 0) wt__app_log_signals(app);
    if (app->quit && w->index > 0) {
        wt_loop_stop(ep->loop); /* destroy: the destroying thread closes what is left */
        return;
    }
    if (!app->started || !app->stop_req) return;
    if (app->nworkers > 1) snprintf(who, sizeof who, "worker %d ", w->index);
    now = wt_loop_now_ms(ep->loop);
    w->stop_due_ms = UINT64_MAX;
    if (w->phase == WT__APP_RUNNING) {
        ep->stopping = 1;
        w->phase = WT__APP_GRACE;
        w->drained = wt__app_live_sessions(ep);
        w->grace_end_ms = app->stop_req == 2 ? now : now + app->grace_ms;
        w->goaway_ms = now + 2 * wt__app_max_pto_ms(ep);
        if (app->stop_req == 2)
            wt__log(&ep->log, WT_LOG_INFO, "%sstopping now: %zu session(s) on %zu connection(s) closed at once", who,
                    w->drained, ep->nconns);
        else
            wt__log(&ep->log, WT_LOG_INFO,
                    "%sstopping: DRAIN to %zu session(s) on %zu connection(s), up to %u ms for them to end", who,
                    w->drained, ep->nconns, (unsigned)app->grace_ms);
    }
    if (w->phase == WT__APP_GRACE) {
        size_t live = wt__app_live_sessions(ep);
        int end = app->stop_req == 2 || now >= w->grace_end_ms || live == 0;
        for (c = ep->conns; c; c = c->next) {
            if (!wt__app_conn_holds_wt(c)) wt__app_goaway(c, end || now >= w->goaway_ms);
            /* the server's own handlers hear nothing: the peers do */
            if (!end && c->state == WT__CONN_OPEN)
                for (s = c->wt.sessions; s; s = s->next)
                    if (s->state == WT__SESS_OPEN && !s->drain_sent && !s->cap_fin && !s->connect_closed &&
                        !s->send_stopped && wt_session_drain(s) == WT_OK)
                        s->drain_sent = 1;
        }
        if (!end) {
            w->stop_due_ms = WT__MIN(w->grace_end_ms, w->goaway_ms > now ? w->goaway_ms : UINT64_MAX);
            return;
        }
        if (live)
            wt__log(&ep->log, WT_LOG_INFO, "%s%s: closing %zu session(s) with code %u (\"%s\")", who,
                    app->stop_req == 2 ? "stopping now" : "grace period over", live, (unsigned)app->shutdown_code,
                    app->shutdown_reason);
        for (c = ep->conns; c; c = c->next)
            for (s = c->wt.sessions; s; s = s->next)
                if (s->state == WT__SESS_OPEN && wt_session_close(s, app->shutdown_code, app->shutdown_reason) == WT_OK)
                    w->closed_by_stop++;
        w->phase = WT__APP_CLOSING_SESSIONS;
        w->ack_end_ms = now + WT__MIN(3 * wt__app_max_pto_ms(ep), 1000);
    }
    if (w->phase == WT__APP_CLOSING_SESSIONS) {
        int waiting = 0;
        for (c = ep->conns; c && !waiting; c = c->next) waiting = wt__conn_close_pending(c); /* wt_quic.c */
        if (waiting && now < w->ack_end_ms) {
            w->stop_due_ms = w->ack_end_ms;
            return;
        }
        w->conns_at_close = ep->nconns;
        for (c = ep->conns; c; c = c->next) wt__conn_close(c, WT__H3_NO_ERROR, "shutting down");
        w->phase = WT__APP_CLOSING_CONNS;
        /* each connection's closing period is 3 PTO; this bound is for a
           PTO grown huge on a dead path */
        w->close_end_ms = now + 3000;
    }
    if (w->phase == WT__APP_CLOSING_CONNS) {
        if (ep->conns && now >= w->close_end_ms) {
            wt__log(&ep->log, WT_LOG_WARN, "%sstopping: %zu connection(s) still in their closing period: freed", who,
                    ep->nconns);
            wt__loop_enter(ep->loop);
            while (ep->conns) wt__conn_free(ep->conns);
            wt__loop_leave(ep->loop);
        }
        if (ep->conns) {
            w->stop_due_ms = w->close_end_ms;
            return;
        }
        if (w->index > 0) {
            w->phase = WT__APP_STOPPED;
            wt_loop_stop(ep->loop); /* its thread returns and wakes worker 0 */
            return;
        }
        w->phase = WT__APP_WAIT_WORKERS;
    }
    if (w->phase == WT__APP_WAIT_WORKERS) {
        if (atomic_load(&app->workers_done) < app->nworkers - 1) return; /* each wakes us as it ends */
        wt__app_join(app);
        w->phase = WT__APP_STOPPED;
        app->phase = WT__APP_STOPPED;
        wt__app_run_shutdown_hooks(app);
        wt__app_log_end(app);
        if (app->running) wt_loop_stop(ep->loop);
    }
}

/* A worker's thread: its loop until its part of the stop is done (or the
   app is destroyed). */
static void *wt__worker_main(void *arg) {
    wt__worker *w = (wt__worker *)arg;
    wt_app *app = w->app;
    int rv;
    w->self = pthread_self();
    w->has_self = 1;
    for (;;) {
        rv = wt_loop_run(w->ep->loop);
        if (rv != WT_OK || w->phase == WT__APP_STOPPED || app->quit) break;
        /* someone stopped the loop itself (wt_loop_stop): the app stops now */
        wt__log(&w->ep->log, WT_LOG_INFO, "worker %d's loop was stopped: stopping the app now", w->index);
        app->stop_req = 2;
        wt__app_wake(app);
    }
    if (rv != WT_OK) {
        wt__log(&w->ep->log, WT_LOG_ERROR, "worker %d's loop failed (%s): stopping the app now", w->index, wt_strerror(rv));
        app->stop_req = 2;
        wt__app_wake(app);
    }
    w->rv = rv;
    atomic_fetch_add(&app->workers_done, 1);
    wt_loop_wakeup(app->w[0].ep->loop);
    return NULL;
}

/* Classic BPF for the reuseport group of the workers' sockets (one per
   address): it sees the UDP payload at offset 0 and returns the index of
   the socket to take it, socket i being worker i's. A short header's DCID
   starts at 1, a long header's at 6 after its length byte at 5; our CIDs
   carry the worker at 1 + sid_len (wt__cid_make). A long header whose DCID
   is not of our length (a client's first Initial) returns 0xffffffff, past
   the group: the kernel then hashes the 4-tuple, which spreads new
   connections evenly. A datagram too short for a load ends the program
   with 0 (worker 0, which drops it). */
static int wt__app_steer(wt_app *app, int fd) {
#if defined(__linux__) && defined(SO_ATTACH_REUSEPORT_CBPF)
    const wt__ep *ep = &app->ep;
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80, 0, 4),               /* long header? else to 6 */
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 5),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ep->cid_len, 0, 5),          /* our CID length? else to 9 */
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6 + 1 + (uint32_t)ep->sid_len),
        BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0),                            /* to 7 */
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 1 + 1 + (uint32_t)ep->sid_len), /* 6: short header */
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, (uint32_t)app->nworkers),   /* 7 */
        BPF_STMT(BPF_RET | BPF_A, 0),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),                         /* 9: the kernel's hash */
    };
    struct sock_fprog prog;
    prog.len = (unsigned short)WT__COUNTOF(code);
    prog.filter = code;
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) == 0) return WT_OK;
    wt__log(&ep->log, WT_LOG_WARN,
            "SO_ATTACH_REUSEPORT_CBPF: %s: workers without steering (a client whose address changes may lose its "
            "connection)", strerror(errno));
#else
    WT__UNUSED(fd);
    wt__log(&app->ep.log, WT_LOG_WARN,
            "no SO_ATTACH_REUSEPORT_CBPF here: workers without steering (a client whose address changes may lose its "
            "connection)");
#endif
    return WT_ERR_IO;
}

static void wt__app_close_socks(wt_app *app) {
    int i, k;
    for (k = 0; k < app->nworkers; k++) {
        for (i = 0; i < app->w[k].ep->nsocks; i++) wt__sock_close(&app->w[k].ep->socks[i]);
        app->w[k].ep->nsocks = 0;
    }
    app->bound_port = 0;
}

/* Workers 1.. read worker 0's routes and accept hooks (never theirs to free). */
static void wt__router_share(wt__router *to, const wt__router *from) {
    to->routes = from->routes;
    to->nroutes = from->nroutes;
    to->default_route = from->default_route;
    to->use = from->use;
    to->nuse = from->nuse;
}

/* Worker 0 runs on the calling thread (wt_app_start, wt_app_run). */
static void wt__app_here(wt_app *app) {
    if (app->nworkers == 1 || (app->w[0].has_self && pthread_equal(app->w[0].self, pthread_self()))) return;
    app->w[0].has_self = 0;
    app->w[0].self = pthread_self();
    app->w[0].has_self = 1;
}

static void wt__router_unshare(wt__router *rt) {
    rt->routes = NULL;
    rt->nroutes = 0;
    rt->use = NULL;
    rt->nuse = 0;
    memset(&rt->default_route, 0, sizeof rt->default_route);
}

int wt_app_start(wt_app *app) {
    struct addrinfo hints, *res = NULL, *ai;
    char port[12];
    int rv = WT_OK, i, k;
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
        /* each worker its socket, in worker order: the reuseport group's
           socket i is then worker i's (what the steering program returns) */
        for (k = 0; k < app->nworkers; k++) {
            struct sockaddr_storage a;
            memcpy(&a, ai->ai_addr, ai->ai_addrlen);
            /* a free port chosen for the first address is used for the rest */
            if (app->bound_port) {
                if (a.ss_family == AF_INET) ((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)app->bound_port);
                else ((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)app->bound_port);
            }
            rv = wt__sock_open(app->w[k].ep, (struct sockaddr *)&a, (socklen_t)ai->ai_addrlen, 1);
            if (rv < 0) break;
            {
                wt__sock *s = &app->w[k].ep->socks[rv];
                app->bound_port = ntohs(s->local.ss_family == AF_INET ? ((struct sockaddr_in *)&s->local)->sin_port
                                                                      : ((struct sockaddr_in6 *)&s->local)->sin6_port);
            }
            rv = WT_OK;
        }
        if (rv < 0) break;
        if (app->nworkers > 1) wt__app_steer(app, app->w[0].ep->socks[app->w[0].ep->nsocks - 1].fd);
    }
    freeaddrinfo(res);
    if (rv < 0) {
        wt__app_close_socks(app);
        return wt__fail(&app->ep.log, rv, "cannot listen on %s port %d", app->host, app->port);
    }
    /* bound: the startup hooks may now count on the port (wt_app_port) */
    app->shut_down = 0;
    for (i = 0; i < (int)app->nstartup; i++) {
        rv = app->startup[i].fn(app, app->startup[i].user);
        if (rv < 0) {
            wt__log(&app->ep.log, WT_LOG_ERROR, "startup hook %d of %zu failed (%d: %s): not starting", i + 1,
                    app->nstartup, rv, rv >= WT_ERR_TRUNCATED ? wt_strerror(rv) : "the hook's own status");
            wt__app_close_socks(app);
            /* the hooks before it may have taken something: the shutdown
               hooks give it back */
            wt__app_run_shutdown_hooks(app);
            return rv;
        }
    }
    wt__app_here(app);
    app->started = 1;
    app->quit = 0;
    app->workers_done = 0;
    for (k = 1; k < app->nworkers; k++) {
        wt__router_share(app->w[k].router, app->w[0].router);
        rv = pthread_create(&app->w[k].tid, NULL, wt__worker_main, &app->w[k]);
        if (rv != 0) {
            wt__log(&app->ep.log, WT_LOG_ERROR, "cannot start worker %d's thread: %s: not starting", k, strerror(rv));
            wt__app_join(app);
            app->started = 0;
            wt__app_close_socks(app);
            wt__app_run_shutdown_hooks(app);
            return WT_ERR_NOMEM;
        }
        app->w[k].joinable = 1;
    }
    if (app->nworkers > 1)
        wt__log(&app->ep.log, WT_LOG_INFO, "listening on https://%s:%d/ with %d workers", app->host,
                app->bound_port, app->nworkers);
    else wt__log(&app->ep.log, WT_LOG_INFO, "listening on https://%s:%d/", app->host, app->bound_port);
    return WT_OK;
}

/* What destroy (or a failed loop) does when no graceful stop ran: every
   session closed at once, then the shutdown hooks. */
static void wt__app_shutdown(wt_app *app) {
    int k;
    if (!app->started || app->shut_down) return;
    wt__app_join(app); /* from here on this thread owns every worker */
    for (k = 0; k < app->nworkers; k++) {
        wt__ep *ep = app->w[k].ep;
        ep->closing_all = 1;
        wt__ep_close_all(ep, app->shutdown_code, app->shutdown_reason);
        app->w[k].phase = WT__APP_STOPPED;
        app->w[k].stop_due_ms = UINT64_MAX;
        ep->tick_due_ms = UINT64_MAX;
    }
    wt__app_run_shutdown_hooks(app);
    app->phase = WT__APP_STOPPED;
}

int wt_app_run(wt_app *app) {
    struct sigaction sa, old_int, old_term;
    int rv;
    if (!app) return wt__fail(NULL, WT_ERR_INVALID, "wt_app_run: no app");
    if (app->phase == WT__APP_STOPPED) return wt__fail(&app->ep.log, WT_ERR_STATE, "wt_app_run: the app has stopped");
    if ((rv = wt_app_start(app)) != WT_OK) return rv;
    wt__app_here(app); /* worker 0 runs here */
    if (app->stop_on_signals) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = wt__on_signal;
        sigemptyset(&sa.sa_mask);
        /* one handler at a time: the counting is not atomic */
        sigaddset(&sa.sa_mask, SIGINT);
        sigaddset(&sa.sa_mask, SIGTERM);
        app->signals = 0;
        wt__signal_app = app;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    app->running = 1;
    for (;;) {
        rv = wt_loop_run(app->ep.loop);
        if (rv != WT_OK || app->phase == WT__APP_STOPPED) break;
        /* someone stopped the loop itself (wt_loop_stop): finish at once */
        wt__log(&app->ep.log, WT_LOG_INFO, "the app's loop was stopped: stopping the app now");
        app->stop_req = 2;
        wt__app_wake(app);
    }
    app->running = 0;
    if (app->stop_on_signals) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        wt__signal_app = NULL;
    }
    if (rv != WT_OK) wt__app_shutdown(app);
    return rv;
}

void wt_app_stop(wt_app *app) {
    if (!app) return;
    if (!app->stop_req) app->stop_req = 1;
    wt__app_wake(app);
}

void wt_app_stop_now(wt_app *app) {
    if (!app) return;
    app->stop_req = 2;
    wt__app_wake(app);
}

int wt_app_stopped(const wt_app *app) { return app && app->phase == WT__APP_STOPPED; }

static void wt__app_free(wt_app *app) {
    wt_allocator a = app->ep.alloc;
    wt__budget *bud = app->w->budget;
    int k;
    wt__app_shutdown(app);
    for (k = app->nworkers - 1; k >= 0; k--) {
        wt__worker *w = &app->w[k];
        if (!w->app) continue; /* never set up */
        wt__ep_free(w->ep);
        if (k > 0) {
            wt__router_unshare(w->router);
            wt__router_free(w->router, &w->ep->alloc);
            if (w->budget) wt__free(&w->budget->raw, w->budget);
        }
        if (w->mu_ready) pthread_mutex_destroy(&w->mu);
    }
    wt__router_free(&app->router, &a);
    wt__free(&a, app->startup);
    wt__free(&a, app->shutdown);
    wt__free(&a, app->host);
    wt__free(&a, app->shutdown_reason);
    wt__free(&a, app->w);
    wt__free(&a, app);
    if (bud) wt__free(&bud->raw, bud); /* last: every block above went back through it */
}

/* Sums over the workers: live for the caller's own (and for all when no
   worker thread runs), the snapshot for the others (at most
   workers_stats_ms old; asking wakes them for a fresh one). */
typedef struct wt__app_sum {
    wt_stats st;
    size_t sessions, mem, peak;
} wt__app_sum;

static void wt__app_sum_up(const wt_app *app, wt__app_sum *out) {
    int k, me = wt__app_current(app), threads = wt__app_threads_run(app);
    uint64_t rtt_n = 0, srtt = 0, rttvar = 0;
    memset(out, 0, sizeof *out);
    for (k = 0; k < app->nworkers; k++) {
        wt__worker *w = &app->w[k];
        wt_stats st;
        uint64_t n;
        size_t sess = 0, mem = 0, peak = 0;
        if (!threads || k == me) {
            const wt__conn *c;
            n = wt__ep_stats(w->ep, &st);
            for (c = w->ep->conns; c; c = c->next) sess += c->wt.nsessions;
            mem = w->budget ? w->budget->used : 0;
            peak = w->budget ? w->budget->peak : 0;
        } else {
            pthread_mutex_lock(&w->mu);
            st = w->snap;
            n = w->snap_rtt_n;
            sess = w->snap_sessions;
            mem = w->snap_mem;
            peak = w->snap_peak;
            pthread_mutex_unlock(&w->mu);
            w->snap_req = 1;
            wt_loop_wakeup(w->ep->loop);
        }
        wt__stats_add(&out->st, &st);
        out->st.connections += st.connections;
        out->st.cwnd += st.cwnd;
        out->st.bytes_in_flight += st.bytes_in_flight;
        if (st.min_rtt_us && (!out->st.min_rtt_us || st.min_rtt_us < out->st.min_rtt_us))
            out->st.min_rtt_us = st.min_rtt_us;
        srtt += st.smoothed_rtt_us * n;
        rttvar += st.rtt_var_us * n;
        rtt_n += n;
        out->sessions += sess;
        out->mem += mem;
        out->peak += peak;
    }
    if (rtt_n) {
        out->st.smoothed_rtt_us = srtt / rtt_n;
        out->st.rtt_var_us = rttvar / rtt_n;
    }
}

int wt_app_stats(const wt_app *app, wt_stats *out) {
    wt__app_sum sum;
    if (!app || !out) return wt__fail(app ? &app->ep.log : NULL, WT_ERR_INVALID, "wt_app_stats: no app or no out");
    if (app->nworkers == 1) {
        wt__ep_stats(&app->ep, out);
        return WT_OK;
    }
    wt__app_sum_up(app, &sum);
    *out = sum.st;
    return WT_OK;
}

size_t wt_app_memory_used(const wt_app *app, size_t *peak) {
    wt__app_sum sum;
    if (!app || app->nworkers == 1) {
        const wt__budget *b = app ? app->w->budget : NULL;
        if (peak) *peak = b ? b->peak : 0;
        return b ? b->used : 0;
    }
    wt__app_sum_up(app, &sum);
    if (peak) *peak = sum.peak;
    return sum.mem;
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

/* For max_app_sessions, on a worker's thread: its own sessions now, the
   others' as last published (no wakeup: this runs for every request). */
static size_t wt__app_sessions_now(const wt__ep *ep) {
    const wt_app *app = (const wt_app *)ep->owner;
    const wt__conn *c;
    size_t n = 0;
    int k;
    for (c = ep->conns; c; c = c->next) n += c->wt.nsessions;
    for (k = 0; k < app->nworkers; k++) {
        wt__worker *w = &app->w[k];
        if (w->ep == ep || !w->mu_ready) continue;
        pthread_mutex_lock(&w->mu);
        n += w->snap_sessions;
        pthread_mutex_unlock(&w->mu);
    }
    return n;
}

size_t wt_app_session_count(const wt_app *app) {
    const wt__conn *c;
    wt__app_sum sum;
    size_t n = 0;
    if (!app) return 0;
    if (app->nworkers > 1) {
        wt__app_sum_up(app, &sum);
        return sum.sessions;
    }
    for (c = app->ep.conns; c; c = c->next) n += c->wt.nsessions;
    return n;
}

int wt_app_cert_sha256(const wt_app *app, uint8_t out[32]) {
    if (!app || !out) return wt__fail(app ? &app->ep.log : NULL, WT_ERR_INVALID, "wt_app_cert_sha256: no app or no output");
    if (!app->has_cert_sha256)
        return wt__fail(&app->ep.log, WT_ERR_CERT, "wt_app_cert_sha256: the certificate file could not be read back");
    memcpy(out, app->cert_sha256, 32);
    return WT_OK;
}

/* ---------------------------------------------------------------- command-line arguments */
static void wt__app_usage(FILE *f, const char *prog) {
    fprintf(f, "usage: %s [--host HOST] [--port N] [--cert FILE --key FILE] [--workers N] [--help] ...\n"
               "  --host HOST  address or name to listen on (default 127.0.0.1; :: for all)\n"
               "  --port N     UDP port (default 4433; -1: any free port)\n"
               "  --cert FILE  PEM certificate chain, with --key FILE its private key\n"
               "               (without them: the program's default, e.g. a development certificate)\n"
               "  --workers N  N loops on N threads serving the port (default 1; up to %d)\n",
            prog && *prog ? prog : "server", WT_WORKERS_MAX);
}

int wt_app_config_args(wt_app_config *cfg, int argc, char **argv) {
    const wt_log *lg = cfg ? &cfg->log : NULL;
    int i = 1, rv, got_cert = 0, got_key = 0;
    if (!cfg || argc < 0 || (argc > 0 && !argv)) return wt__fail(lg, WT_ERR_INVALID, "wt_app_config_args: no config or no argv");
    while (i < argc && argv[i]) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            wt__app_usage(stderr, argv[0]);
            return WT_ARGS_HELP;
        }
        if (!strcmp(argv[i], "--")) return i + 1;
        if ((rv = wt__arg(lg, argc, argv, &i, "--host", &v)) != 0) {
            if (rv < 0 || !*v) goto bad;
            cfg->host = v;
        } else if ((rv = wt__arg(lg, argc, argv, &i, "--port", &v)) != 0) {
            char *end;
            long p;
            if (rv < 0) goto bad;
            p = strtol(v, &end, 10);
            if (!*v || *end || p < -1 || p > 65535) {
                wt__log(lg, WT_LOG_ERROR, "--port %s: not a port number (-1..65535)", v);
                goto bad;
            }
            cfg->port = (int)p;
        } else if ((rv = wt__arg(lg, argc, argv, &i, "--workers", &v)) != 0) {
            char *end;
            long w;
            if (rv < 0) goto bad;
            w = strtol(v, &end, 10);
            if (!*v || *end || w < 0 || w > WT_WORKERS_MAX) {
                wt__log(lg, WT_LOG_ERROR, "--workers %s: not a count of workers (0..%d)", v, WT_WORKERS_MAX);
                goto bad;
            }
            cfg->workers = (int)w;
        } else if ((rv = wt__arg(lg, argc, argv, &i, "--cert", &v)) != 0) {
            if (rv < 0 || !*v) goto bad;
            cfg->cert_file = v;
            got_cert = 1;
        } else if ((rv = wt__arg(lg, argc, argv, &i, "--key", &v)) != 0) {
            if (rv < 0 || !*v) goto bad;
            cfg->key_file = v;
            got_key = 1;
        } else {
            break; /* the program's own arguments */
        }
    }
    if (got_cert != got_key) {
        wt__log(lg, WT_LOG_ERROR, "--cert and --key go together");
        goto bad;
    }
    return i;
bad:
    wt__log(lg, WT_LOG_ERROR, "usage: %s [--host HOST] [--port N] [--cert FILE --key FILE] [--workers N] [--help]",
            argc > 0 && argv[0] ? argv[0] : "server");
    return WT_ERR_INVALID;
}
