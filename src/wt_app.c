/* wt_app.c - the server application: config, sockets, startup/shutdown hooks
   (routes and accept hooks: wt_router.c). */
#include "wt_internal.h"

#include <netdb.h>

typedef struct wt__hook {
    wt_app_hook fn;
    void *user;
} wt__hook;

/* The steps of a stop, in order (see wt__app_tick). */
enum { WT__APP_RUNNING, WT__APP_GRACE, WT__APP_CLOSING_SESSIONS, WT__APP_CLOSING_CONNS, WT__APP_STOPPED };

struct wt_app {
    wt__ep ep;
    char *host;
    int port, bound_port;
    wt__router router;
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
       so they are lock-free atomics (safe in both) that the loop thread
       acts on (wt__app_tick) */
    atomic_int stop_req;             /* 1 graceful, 2 now */
    atomic_int signals;              /* SIGINT/SIGTERM seen during wt_app_run */
    atomic_int last_signal;
    int signals_logged;
    int phase;                       /* WT__APP_* */
    int running;                     /* inside wt_app_run: its loop stops at the end */
    uint64_t grace_end_ms, goaway_ms, ack_end_ms, close_end_ms;
    size_t drained, closed_by_stop, conns_at_close; /* counted for the final log line */
};

/* Signals are process-wide, so this one pointer is too: the app that a
   SIGINT/SIGTERM stops while wt_app_run runs with stop_on_signals. */
static _Atomic(wt_app *) wt__signal_app;

/* Async-signal-safe: flags and a write() (wt_loop_wakeup). The first
   signal asks for a graceful stop, the second for an immediate one; the
   loop thread logs them. */
static void wt__on_signal(int sig) {
    wt_app *app = wt__signal_app;
    if (!app) return;
    app->last_signal = sig;
    app->signals = app->signals + 1;
    app->stop_req = app->signals >= 2 ? 2 : (app->stop_req ? app->stop_req : 1);
    wt_loop_wakeup(app->ep.loop);
}

static void wt__app_tick(wt__ep *ep);

static void wt__app_free(wt_app *app);

wt_app *wt_app_create(const wt_app_config *cfg) {
    wt_app *app;
    const wt_log *lg;
    wt_allocator al;
    wt__budget *bud = NULL;
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
    /* with a memory budget everything of the app goes through a counting
       allocator, the app itself included (see SMALL DEVICES) */
    al = cfg->alloc;
    if (cfg->limits.memory_budget && !(bud = wt__budget_new(&cfg->alloc, cfg->limits.memory_budget, &al))) {
        wt__fail(lg, WT_ERR_NOMEM, "wt_app_create: out of memory");
        return NULL;
    }
    app = (wt_app *)wt__calloc(&al, sizeof *app);
    if (!app) {
        if (bud) wt__free(&cfg->alloc, bud);
        wt__fail(lg, WT_ERR_NOMEM, "wt_app_create: out of memory%s", bud ? " (or memory_budget too small)" : "");
        return NULL;
    }
    app->ep.budget = bud; /* wt__ep_init keeps it */
    if (wt__ep_init(&app->ep, cfg->loop, 1, &al, &cfg->log, &cfg->limits) != WT_OK) goto fail;
    if (cfg->reset_key) memcpy(app->ep.reset_secret, cfg->reset_key, sizeof app->ep.reset_secret);
    if (cfg->token_key) memcpy(app->ep.token_secret, cfg->token_key, sizeof app->ep.token_secret);
    if (cfg->server_id_len) {
        app->ep.sid_len = (uint8_t)cfg->server_id_len;
        memcpy(app->ep.sid, cfg->server_id, cfg->server_id_len);
        app->ep.cid_len = (uint8_t)WT__MAX(app->ep.cid_len, cfg->server_id_len + 6);
    }
    app->ep.owner = app;
    if (wt__router_init(&app->router, &app->ep, cfg) != WT_OK) goto fail;
    app->ep.tick = wt__app_tick;
    app->ep.io = cfg->io;
    if (cfg->io.send && cfg->port == -1) {
        wt__fail(lg, WT_ERR_INVALID, "wt_app_create: with io.send (no socket) the port must be given");
        goto fail;
    }
    if (wt__tls_set_groups(&app->ep, cfg->tls_groups, 0) != WT_OK) goto fail;
    if (wt__tls_set_ciphers(&app->ep, cfg->tls_ciphers) != WT_OK) goto fail;
    if (wt__trace_init(&app->ep, cfg->qlog_dir, cfg->tls_keylog) != WT_OK) goto fail;
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
        if (wt__cert_load_dev(app->ep.ssl_ctx, lg, named ? h : NULL, app->cert_sha256) != WT_OK) goto fail;
        app->has_cert_sha256 = 1;
        wt_hex(app->cert_sha256, 32, hex);
        /* the hash in the warning too: at the default log level it is the
           one line a user sees, and the hash is what they need */
        wt__log(lg, WT_LOG_WARN, "dev_cert: a self-signed certificate made in memory, for development only "
                "(give cert_file and key_file in production); sha256 %s", hex);
        wt__log(lg, WT_LOG_INFO, "development certificate for localhost%s%s sha256 %s (for serverCertificateHashes "
                "or a client's cert_sha256)", named ? " and " : "", named ? h : "", hex);
        return app;
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
    if (wt_cert_sha256(cfg->cert_file, app->cert_sha256) == WT_OK) {
        char hex[65];
        app->has_cert_sha256 = 1;
        wt_hex(app->cert_sha256, 32, hex);
        wt__log(lg, WT_LOG_INFO, "certificate %s sha256 %s (for serverCertificateHashes)", cfg->cert_file, hex);
    }
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

int wt_app_route(wt_app *app, const char *pattern, wt_handler fn, void *user) {
    return app ? wt__router_add(&app->router, pattern, fn, user) : wt__fail(NULL, WT_ERR_INVALID, "wt_app_route: no app");
}

int wt_app_default_route(wt_app *app, wt_handler fn, void *user) {
    return app ? wt__router_default(&app->router, fn, user)
               : wt__fail(NULL, WT_ERR_INVALID, "wt_app_default_route: no app");
}

int wt_app_use(wt_app *app, wt_accept_fn fn, void *user) {
    return app ? wt__router_use(&app->router, fn, user) : wt__fail(NULL, WT_ERR_INVALID, "wt_app_use: no app");
}

int wt_app_resume(wt_app *app, uint64_t session_id, int status) {
    return app ? wt__router_resume(&app->router, session_id, status)
               : wt__fail(NULL, WT_ERR_INVALID, "wt_app_resume: no app");
}

wt_session *wt_app_deferred_session(wt_app *app, uint64_t session_id) {
    return app ? wt__router_deferred(&app->router, session_id) : NULL;
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
static size_t wt__app_live_sessions(const wt_app *app) {
    const wt__conn *c;
    const wt_session *s;
    size_t n = 0;
    for (c = app->ep.conns; c; c = c->next)
        for (s = c->wt.sessions; s; s = s->next) n += s->state == WT__SESS_REQUESTED || s->state == WT__SESS_OPEN;
    return n;
}

/* The largest PTO of the open connections, in ms (at least 1). */
static uint64_t wt__app_max_pto_ms(const wt_app *app) {
    const wt__conn *c;
    uint64_t pto = 1;
    for (c = app->ep.conns; c; c = c->next)
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

/* The stop, one step per call, on the loop thread (every wt_loop_process):
   GRACE: new connections refused, new sessions 429, DRAIN to every
     session and GOAWAY to every connection without WebTransport
     (wt__app_conn_holds_wt), until the sessions are gone or
     grace_ms passed (stop_now: no wait);
   CLOSING_SESSIONS: each session left closed with shutdown_code/_reason,
     until the peers acknowledge the capsules and finish their side of the
     CONNECT streams (3 PTO, 1 s at most, as destroy waits);
   CLOSING_CONNS: CONNECTION_CLOSE everywhere, until each connection's
     closing (or draining) period is over;
   STOPPED: the shutdown hooks, a summary, and wt_app_run returns. */
static void wt__app_tick(wt__ep *ep) {
    wt_app *app = (wt_app *)ep->owner;
    wt__conn *c;
    wt_session *s;
    uint64_t now;
    if (app->phase == WT__APP_STOPPED) return;
    wt__app_log_signals(app);
    if (!app->started || !app->stop_req) return;
    now = wt_loop_now_ms(ep->loop);
    ep->tick_due_ms = UINT64_MAX;
    if (app->phase == WT__APP_RUNNING) {
        ep->stopping = 1;
        app->phase = WT__APP_GRACE;
        app->drained = wt__app_live_sessions(app);
        app->grace_end_ms = app->stop_req == 2 ? now : now + app->grace_ms;
        app->goaway_ms = now + 2 * wt__app_max_pto_ms(app);
        if (app->stop_req == 2)
            wt__log(&ep->log, WT_LOG_INFO, "stopping now: %zu session(s) on %zu connection(s) closed at once",
                    app->drained, ep->nconns);
        else
            wt__log(&ep->log, WT_LOG_INFO,
                    "stopping: DRAIN to %zu session(s) on %zu connection(s), up to %u ms for them to end",
                    app->drained, ep->nconns, (unsigned)app->grace_ms);
    }
    if (app->phase == WT__APP_GRACE) {
        size_t live = wt__app_live_sessions(app);
        int end = app->stop_req == 2 || now >= app->grace_end_ms || live == 0;
        for (c = ep->conns; c; c = c->next) {
            if (!wt__app_conn_holds_wt(c)) wt__app_goaway(c, end || now >= app->goaway_ms);
            /* the server's own handlers hear nothing: the peers do */
            if (!end && c->state == WT__CONN_OPEN)
                for (s = c->wt.sessions; s; s = s->next)
                    if (s->state == WT__SESS_OPEN && !s->drain_sent && !s->cap_fin && !s->connect_closed &&
                        !s->send_stopped && wt_session_drain(s) == WT_OK)
                        s->drain_sent = 1;
        }
        if (!end) {
            ep->tick_due_ms = WT__MIN(app->grace_end_ms, app->goaway_ms > now ? app->goaway_ms : UINT64_MAX);
            return;
        }
        if (live)
            wt__log(&ep->log, WT_LOG_INFO, "%s: closing %zu session(s) with code %u (\"%s\")",
                    app->stop_req == 2 ? "stopping now" : "grace period over", live, (unsigned)app->shutdown_code,
                    app->shutdown_reason);
        for (c = ep->conns; c; c = c->next)
            for (s = c->wt.sessions; s; s = s->next)
                if (s->state == WT__SESS_OPEN && wt_session_close(s, app->shutdown_code, app->shutdown_reason) == WT_OK)
                    app->closed_by_stop++;
        app->phase = WT__APP_CLOSING_SESSIONS;
        app->ack_end_ms = now + WT__MIN(3 * wt__app_max_pto_ms(app), 1000);
    }
    if (app->phase == WT__APP_CLOSING_SESSIONS) {
        int waiting = 0;
        for (c = ep->conns; c && !waiting; c = c->next) waiting = wt__conn_close_pending(c); /* wt_quic.c */
        if (waiting && now < app->ack_end_ms) {
            ep->tick_due_ms = app->ack_end_ms;
            return;
        }
        app->conns_at_close = ep->nconns;
        for (c = ep->conns; c; c = c->next) wt__conn_close(c, WT__H3_NO_ERROR, "shutting down");
        app->phase = WT__APP_CLOSING_CONNS;
        /* each connection's closing period is 3 PTO; this bound is for a
           PTO grown huge on a dead path */
        app->close_end_ms = now + 3000;
    }
    if (app->phase == WT__APP_CLOSING_CONNS) {
        if (ep->conns && now >= app->close_end_ms) {
            wt__log(&ep->log, WT_LOG_WARN, "stopping: %zu connection(s) still in their closing period: freed", ep->nconns);
            wt__loop_enter(ep->loop);
            while (ep->conns) wt__conn_free(ep->conns);
            wt__loop_leave(ep->loop);
        }
        if (ep->conns) {
            ep->tick_due_ms = app->close_end_ms;
            return;
        }
        app->phase = WT__APP_STOPPED;
        wt__app_run_shutdown_hooks(app);
        wt__log(&ep->log, WT_LOG_INFO,
                "stopped: %zu session(s) open at the stop, %zu closed by it with code %u, %zu connection(s) closed",
                app->drained, app->closed_by_stop, (unsigned)app->shutdown_code, app->conns_at_close);
        {
            /* the app's whole life, closed connections included */
            wt_stats t;
            wt_app_stats(app, &t);
            wt__log(&ep->log, WT_LOG_INFO,
                    "statistics: %llu session(s), %llu stream(s), %llu/%llu bytes and %llu/%llu packets sent/received "
                    "(%llu lost), %llu/%llu datagrams sent/received (%llu lost, %llu dropped)",
                    (unsigned long long)t.sessions_opened, (unsigned long long)t.streams_opened,
                    (unsigned long long)t.bytes_sent, (unsigned long long)t.bytes_received,
                    (unsigned long long)t.packets_sent, (unsigned long long)t.packets_received,
                    (unsigned long long)t.packets_lost, (unsigned long long)t.datagrams_sent,
                    (unsigned long long)t.datagrams_received, (unsigned long long)t.datagrams_lost,
                    (unsigned long long)t.datagrams_dropped);
        }
        if (app->running) wt_loop_stop(ep->loop);
    }
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
    /* bound: the startup hooks may now count on the port (wt_app_port) */
    app->shut_down = 0;
    for (i = 0; i < (int)app->nstartup; i++) {
        rv = app->startup[i].fn(app, app->startup[i].user);
        if (rv < 0) {
            wt__log(&app->ep.log, WT_LOG_ERROR, "startup hook %d of %zu failed (%d: %s): not starting", i + 1,
                    app->nstartup, rv, rv >= WT_ERR_TRUNCATED ? wt_strerror(rv) : "the hook's own status");
            for (i = 0; i < app->ep.nsocks; i++) wt__sock_close(&app->ep.socks[i]);
            app->ep.nsocks = 0;
            app->bound_port = 0;
            /* the hooks before it may have taken something: the shutdown
               hooks give it back */
            wt__app_run_shutdown_hooks(app);
            return rv;
        }
    }
    app->started = 1;
    wt__log(&app->ep.log, WT_LOG_INFO, "listening on https://%s:%d/", app->host, app->bound_port);
    return WT_OK;
}

/* What destroy (or a failed loop) does when no graceful stop ran: every
   session closed at once, then the shutdown hooks. */
static void wt__app_shutdown(wt_app *app) {
    if (!app->started || app->shut_down) return;
    app->ep.closing_all = 1;
    wt__ep_close_all(&app->ep, app->shutdown_code, app->shutdown_reason);
    wt__app_run_shutdown_hooks(app);
    app->phase = WT__APP_STOPPED;
    app->ep.tick_due_ms = UINT64_MAX;
}

int wt_app_run(wt_app *app) {
    struct sigaction sa, old_int, old_term;
    int rv;
    if (!app) return wt__fail(NULL, WT_ERR_INVALID, "wt_app_run: no app");
    if (app->phase == WT__APP_STOPPED) return wt__fail(&app->ep.log, WT_ERR_STATE, "wt_app_run: the app has stopped");
    if ((rv = wt_app_start(app)) != WT_OK) return rv;
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
    wt_loop_wakeup(app->ep.loop);
}

void wt_app_stop_now(wt_app *app) {
    if (!app) return;
    app->stop_req = 2;
    wt_loop_wakeup(app->ep.loop);
}

int wt_app_stopped(const wt_app *app) { return app && app->phase == WT__APP_STOPPED; }

static void wt__app_free(wt_app *app) {
    wt_allocator a = app->ep.alloc;
    wt__budget *bud = app->ep.budget;
    wt__app_shutdown(app);
    wt__ep_free(&app->ep);
    wt__router_free(&app->router, &a);
    wt__free(&a, app->startup);
    wt__free(&a, app->shutdown);
    wt__free(&a, app->host);
    wt__free(&a, app->shutdown_reason);
    wt__free(&a, app);
    if (bud) wt__free(&bud->raw, bud); /* last: every block above went back through it */
}

size_t wt_app_memory_used(const wt_app *app, size_t *peak) {
    const wt__budget *b = app ? app->ep.budget : NULL;
    if (peak) *peak = b ? b->peak : 0;
    return b ? b->used : 0;
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

int wt_app_cert_sha256(const wt_app *app, uint8_t out[32]) {
    if (!app || !out) return wt__fail(app ? &app->ep.log : NULL, WT_ERR_INVALID, "wt_app_cert_sha256: no app or no output");
    if (!app->has_cert_sha256)
        return wt__fail(&app->ep.log, WT_ERR_CERT, "wt_app_cert_sha256: the certificate file could not be read back");
    memcpy(out, app->cert_sha256, 32);
    return WT_OK;
}

/* ---------------------------------------------------------------- command-line arguments */
static void wt__app_usage(FILE *f, const char *prog) {
    fprintf(f, "usage: %s [--host HOST] [--port N] [--cert FILE --key FILE] [--help] ...\n"
               "  --host HOST  address or name to listen on (default 127.0.0.1; :: for all)\n"
               "  --port N     UDP port (default 4433; -1: any free port)\n"
               "  --cert FILE  PEM certificate chain, with --key FILE its private key\n"
               "               (without them: the program's default, e.g. a development certificate)\n",
            prog && *prog ? prog : "server");
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
    wt__log(lg, WT_LOG_ERROR, "usage: %s [--host HOST] [--port N] [--cert FILE --key FILE] [--help]",
            argc > 0 && argv[0] ? argv[0] : "server");
    return WT_ERR_INVALID;
}
