/* wt_redis.c - the optional Redis pub/sub adapter (#define WT_REDIS, link
   -lhiredis): hiredis's async API on the wt_loop, through wt_loop_watch and
   timers, never blocking. Two connections, as Redis requires: one in
   subscriber mode, one that publishes. Each reconnects on its own with
   exponential backoff; what is published while the publishing one is down
   is dropped and counted, never queued without bound. */
#ifdef WT_REDIS
#include "wt_internal.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/tcp.h>

#define WT__REDIS_PORT 6379
#define WT__REDIS_CONNECT_TIMEOUT_MS 2000
#define WT__REDIS_BACKOFF_MIN_MS 100
#define WT__REDIS_BACKOFF_MAX_MS 5000
#define WT__REDIS_MAX_PENDING 1024
#define WT__REDIS_MAX_MESSAGE (1024 * 1024)
#define WT__REDIS_KEEPALIVE_MS 15000

typedef struct wt__redis_sub {
    struct wt__redis_sub *next;
    wt_redis *r;
    wt_redis_message_fn fn;
    void *user;
    int confirmed;  /* Redis said "subscribe" on this connection */
    char channel[]; /* NUL-terminated */
} wt__redis_sub;

/* One hiredis connection: ac is NULL between a loss and the next attempt. */
typedef struct wt__redis_conn {
    wt_redis *r;
    const char *role;       /* "publish" / "subscribe": for the log */
    redisAsyncContext *ac;
    int fd;                 /* watched (events != 0) */
    short events;
    int connected;          /* TCP up (hiredis's first writable) */
    int64_t retry_timer;    /* > 0: the next attempt is scheduled */
    int64_t connect_timer;  /* > 0: an attempt is in progress */
    uint32_t backoff_ms;    /* the next retry's wait */
    uint64_t down_since_ms; /* when it was lost (0: never up yet) */
} wt__redis_conn;

struct wt_redis {
    wt_loop *loop;
    wt_allocator alloc;
    wt_log log;
    char host[INET6_ADDRSTRLEN];
    int port;
    uint32_t connect_timeout_ms, backoff_min_ms, backoff_max_ms, keepalive_ms;
    size_t max_pending, max_message;
    wt_redis_state_fn on_state;
    void *state_user;
    char *password;          /* AUTH on every connection; NULL: none */
    wt__redis_conn pub, sub;
    wt__redis_sub *subs;
    size_t pending;         /* PUBLISHes sent, not answered */
    int ready;              /* last state told to on_state */
    uint64_t dropped_outage; /* dropped since the publisher was lost */
    uint64_t last_full_log_ms;
    uint32_t rnd;           /* backoff jitter */
    int depth;              /* inside hiredis (watch callback, free) */
    int doomed;             /* wt_redis_destroy from inside: freed on the way out */
    wt_redis_stats st;
};

static void wt__redis_connect(wt__redis_conn *c);
static void wt__redis_leave(wt_redis *r);

static int wt__redis_is_ready(const wt_redis *r) {
    const wt__redis_sub *s;
    if (!r->pub.connected || !r->sub.connected) return 0;
    for (s = r->subs; s; s = s->next)
        if (!s->confirmed) return 0;
    return 1;
}

/* Tells the application when publish + every subscription become usable,
   and when they stop being so. */
static void wt__redis_state(wt_redis *r) {
    int ready = wt__redis_is_ready(r);
    if (ready == r->ready || r->doomed) return;
    r->ready = ready;
    wt__log(&r->log, ready ? WT_LOG_INFO : WT_LOG_WARN, "redis %s:%d: %s", r->host, r->port,
            ready ? "ready (publishing, subscriptions confirmed)" : "not ready: publishes are dropped until it is");
    if (r->on_state) r->on_state(r, ready, r->state_user);
}

/* ---------------------------------------------------------------- events
   hiredis asks for read/write interest through these hooks; they become
   the connection's wt_loop_watch. */
static void wt__redis_io(wt_loop *loop, int fd, short revents, void *user) {
    wt__redis_conn *c = (wt__redis_conn *)user;
    wt_redis *r = c->r;
    redisAsyncContext *ac = c->ac;
    (void)loop;
    (void)fd;
    if (!ac) return;
    r->depth++;
    if (revents & (POLLIN | POLLERR | POLLHUP)) redisAsyncHandleRead(ac);
    /* the read may have ended the connection (cleanup cleared c->ac) */
    if (c->ac == ac && (revents & (POLLOUT | POLLERR))) redisAsyncHandleWrite(ac);
    wt__redis_leave(r);
}

static void wt__redis_set_events(wt__redis_conn *c, short events) {
    if (events == c->events) return;
    c->events = events;
    if (wt_loop_watch(c->r->loop, c->fd, events, wt__redis_io, c) != WT_OK && events) {
        /* the only failure left is out of memory: the attempt is lost and
           the connect timeout retries it */
        wt__log(&c->r->log, WT_LOG_ERROR, "redis %s connection: cannot watch its socket", c->role);
    }
}

static void wt__redis_add_read(void *p) {
    wt__redis_conn *c = (wt__redis_conn *)p;
    wt__redis_set_events(c, (short)(c->events | POLLIN));
}
static void wt__redis_del_read(void *p) {
    wt__redis_conn *c = (wt__redis_conn *)p;
    wt__redis_set_events(c, (short)(c->events & ~POLLIN));
}
static void wt__redis_add_write(void *p) {
    wt__redis_conn *c = (wt__redis_conn *)p;
    wt__redis_set_events(c, (short)(c->events | POLLOUT));
}
static void wt__redis_del_write(void *p) {
    wt__redis_conn *c = (wt__redis_conn *)p;
    wt__redis_set_events(c, (short)(c->events & ~POLLOUT));
}
/* hiredis is freeing the context: its descriptor goes out of the loop.
   (onDisconnect comes after this and still needs c->connected.) */
static void wt__redis_cleanup(void *p) {
    wt__redis_conn *c = (wt__redis_conn *)p;
    wt__redis_set_events(c, 0);
    c->ac = NULL;
}

/* ---------------------------------------------------------------- reconnect */
/* Leaving a callback of ours: a wt_redis_destroy made inside it (from
   on_state or a message function) happens now. */
static void wt__redis_leave(wt_redis *r) {
    if (!--r->depth && r->doomed) wt_redis_destroy(r);
}

static void wt__redis_retry_due(wt_loop *loop, void *user) {
    wt__redis_conn *c = (wt__redis_conn *)user;
    (void)loop;
    c->retry_timer = 0;
    c->r->depth++;
    wt__redis_connect(c);
    wt__redis_leave(c->r);
}

/* The next attempt after backoff_ms (with up to a quarter more, so that
   many instances that lost Redis together do not all come back at once);
   the wait doubles up to backoff_max_ms and starts over once connected. */
static void wt__redis_schedule(wt__redis_conn *c) {
    wt_redis *r = c->r;
    uint32_t wait = c->backoff_ms, jitter;
    int64_t id;
    if (r->doomed || c->retry_timer > 0) return;
    r->rnd = r->rnd * 1103515245u + 12345u;
    jitter = wait / 4 ? (r->rnd >> 8) % (wait / 4 + 1) : 0;
    c->backoff_ms = WT__MIN(r->backoff_max_ms, c->backoff_ms * 2);
    id = wt_loop_timer(r->loop, wait + jitter, wt__redis_retry_due, c);
    if (id > 0) c->retry_timer = id;
    else wt__log(&r->log, WT_LOG_ERROR, "redis %s connection: no timer for the retry: it stays down", c->role);
    wt__log(&r->log, WT_LOG_DEBUG, "redis %s connection: next attempt in %u ms", c->role, (unsigned)(wait + jitter));
}

static void wt__redis_lost(wt__redis_conn *c, const char *why) {
    wt_redis *r = c->r;
    if (c->connect_timer > 0) {
        (void)wt_loop_timer_cancel(r->loop, c->connect_timer);
        c->connect_timer = 0;
    }
    if (!c->down_since_ms) { /* (0 while connected: set back when it comes up) */
        /* once per outage at WARN; the retries that fail go at DEBUG */
        if (c->connected) r->st.disconnects++;
        c->down_since_ms = wt_loop_now_ms(r->loop);
        wt__log(&r->log, WT_LOG_WARN, "redis %s connection to %s:%d %s: %s; retrying",
                c->role, r->host, r->port, c->connected ? "lost" : "failed", why ? why : "closed");
    } else {
        wt__log(&r->log, WT_LOG_DEBUG, "redis %s connection to %s:%d failed: %s", c->role, r->host, r->port,
                why ? why : "closed");
    }
    c->connected = 0;
    if (c == &r->sub) {
        wt__redis_sub *s;
        for (s = r->subs; s; s = s->next) s->confirmed = 0;
    }
    wt__redis_state(r);
    wt__redis_schedule(c);
}

static wt__redis_conn *wt__redis_conn_of(const redisAsyncContext *ac) { return (wt__redis_conn *)ac->data; }

static void wt__redis_on_disconnect(const redisAsyncContext *ac, int status) {
    wt__redis_conn *c = wt__redis_conn_of(ac);
    if (!c || c->r->doomed) return;
    wt__redis_lost(c, status == REDIS_OK ? "closed" : ac->errstr);
    c->ac = NULL; /* hiredis frees it on return */
}

static void wt__redis_sub_reply(redisAsyncContext *ac, void *reply, void *priv);

static void wt__redis_send_subscribe(wt_redis *r, wt__redis_sub *s) {
    const char *argv[2];
    size_t lens[2];
    argv[0] = "SUBSCRIBE";
    lens[0] = 9;
    argv[1] = s->channel;
    lens[1] = strlen(s->channel);
    if (redisAsyncCommandArgv(r->sub.ac, wt__redis_sub_reply, s, 2, argv, lens) != REDIS_OK)
        wt__log(&r->log, WT_LOG_ERROR, "redis: SUBSCRIBE %s not sent (%s)", s->channel,
                r->sub.ac && r->sub.ac->errstr ? r->sub.ac->errstr : "?");
}

static void wt__redis_auth_reply(redisAsyncContext *ac, void *reply, void *priv) {
    wt__redis_conn *c = (wt__redis_conn *)priv;
    redisReply *rep = (redisReply *)reply;
    (void)ac;
    if (rep && rep->type == REDIS_REPLY_ERROR) {
        /* the commands after it fail too: publishes count as failed, the
           subscriptions stay unconfirmed (not ready) */
        c->r->st.auth_failures++;
        wt__log(&c->r->log, WT_LOG_ERROR, "redis %s connection: AUTH refused: %s", c->role, rep->str);
    }
}

static void wt__redis_on_connect(const redisAsyncContext *cac, int status) {
    wt__redis_conn *c = wt__redis_conn_of(cac);
    wt_redis *r;
    if (!c) return;
    r = c->r;
    if (c->connect_timer > 0) {
        (void)wt_loop_timer_cancel(r->loop, c->connect_timer);
        c->connect_timer = 0;
    }
    if (status != REDIS_OK) {
        /* hiredis frees the context after this returns */
        c->ac = NULL;
        if (!r->doomed) wt__redis_lost(c, cac->errstr);
        return;
    }
    c->connected = 1;
    c->backoff_ms = r->backoff_min_ms;
    r->st.connects++;
    if (c->down_since_ms) {
        if (c == &r->pub)
            wt__log(&r->log, WT_LOG_WARN, "redis publish connection to %s:%d back after %llu ms; %llu message(s) dropped meanwhile",
                    r->host, r->port, (unsigned long long)(wt_loop_now_ms(r->loop) - c->down_since_ms),
                    (unsigned long long)r->dropped_outage);
        else
            wt__log(&r->log, WT_LOG_WARN, "redis subscribe connection to %s:%d back after %llu ms", r->host, r->port,
                    (unsigned long long)(wt_loop_now_ms(r->loop) - c->down_since_ms));
    } else {
        wt__log(&r->log, WT_LOG_INFO, "redis %s connection to %s:%d up", c->role, r->host, r->port);
    }
    c->down_since_ms = 0;
    if (c == &r->pub) r->dropped_outage = 0;
    if (r->password) {
        /* first in the pipeline: what follows runs authenticated */
        const char *argv[2];
        size_t lens[2];
        argv[0] = "AUTH";
        lens[0] = 4;
        argv[1] = r->password;
        lens[1] = strlen(r->password);
        if (redisAsyncCommandArgv(c->ac, wt__redis_auth_reply, c, 2, argv, lens) != REDIS_OK)
            wt__log(&r->log, WT_LOG_ERROR, "redis %s connection: AUTH not sent", c->role);
    }
    if (c == &r->sub) {
        wt__redis_sub *s;
        for (s = r->subs; s; s = s->next) wt__redis_send_subscribe(r, s);
    }
    wt__redis_state(r);
}

/* The attempt took longer than connect_timeout_ms (a silent or filtered
   address): dropped and tried again later. */
static void wt__redis_connect_timeout(wt_loop *loop, void *user) {
    wt__redis_conn *c = (wt__redis_conn *)user;
    redisAsyncContext *ac = c->ac;
    wt_redis *r = c->r;
    (void)loop;
    c->connect_timer = 0;
    if (!ac || c->connected) return;
    r->depth++;
    redisAsyncFree(ac); /* not connected: no onDisconnect; cleanup unwatches */
    c->ac = NULL;
    wt__redis_lost(c, "connect timed out");
    wt__redis_leave(r);
}

/* A Redis host that vanishes without a FIN (power, a partition) would
   leave both connections "up" for hours: TCP keepalive probes an idle one,
   TCP_USER_TIMEOUT bounds how long sent data may stay unacknowledged;
   either way the connection dies within about keepalive_ms and the usual
   reconnect follows. */
static void wt__redis_keepalive(wt_redis *r, int fd) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
#if defined(TCP_KEEPIDLE) && defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT)
    {
        int idle = (int)(r->keepalive_ms / 2000), intvl = (int)(r->keepalive_ms / 6000), cnt = 3;
        if (idle < 1) idle = 1;
        if (intvl < 1) intvl = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    }
#endif
#ifdef TCP_USER_TIMEOUT
    {
        unsigned ut = r->keepalive_ms;
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof ut);
    }
#endif
}

/* A new attempt. hiredis connects without blocking (the host is an address
   already: wt_redis_create resolved it); the first writable says it is up. */
static void wt__redis_connect(wt__redis_conn *c) {
    wt_redis *r = c->r;
    redisAsyncContext *ac;
    if (r->doomed || c->ac) return;
    r->st.attempts++;
    ac = redisAsyncConnect(r->host, r->port);
    if (!ac) {
        wt__redis_lost(c, "out of memory");
        return;
    }
    if (ac->err) {
        char why[128];
        snprintf(why, sizeof why, "%s", ac->errstr);
        redisAsyncFree(ac);
        wt__redis_lost(c, why);
        return;
    }
    c->ac = ac;
    c->fd = ac->c.fd;
    c->events = 0;
    wt__redis_keepalive(r, c->fd);
    ac->data = c;
    ac->ev.data = c;
    ac->ev.addRead = wt__redis_add_read;
    ac->ev.delRead = wt__redis_del_read;
    ac->ev.addWrite = wt__redis_add_write;
    ac->ev.delWrite = wt__redis_del_write;
    ac->ev.cleanup = wt__redis_cleanup;
    redisAsyncSetDisconnectCallback(ac, wt__redis_on_disconnect);
    redisAsyncSetConnectCallback(ac, wt__redis_on_connect); /* asks for writable */
    c->connect_timer = wt_loop_timer(r->loop, r->connect_timeout_ms, wt__redis_connect_timeout, c);
    if (c->connect_timer < 0) c->connect_timer = 0;
}

/* ---------------------------------------------------------------- replies */
static void wt__redis_sub_reply(redisAsyncContext *ac, void *reply, void *priv) {
    wt__redis_sub *s = (wt__redis_sub *)priv;
    redisReply *rep = (redisReply *)reply, *kind;
    wt_redis *r = s->r;
    (void)ac;
    if (!rep || r->doomed) return; /* the connection is going: nothing to say */
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 3 || rep->element[0]->type != REDIS_REPLY_STRING) {
        wt__log(&r->log, WT_LOG_WARN, "redis: unexpected reply on the subscribe connection (type %d)", rep->type);
        return;
    }
    kind = rep->element[0];
    if (!strcmp(kind->str, "subscribe")) {
        s->confirmed = 1;
        wt__log(&r->log, WT_LOG_INFO, "redis: subscribed to %s", s->channel);
        wt__redis_state(r);
    } else if (!strcmp(kind->str, "message") && rep->element[2]->type == REDIS_REPLY_STRING) {
        if (rep->element[2]->len > r->max_message) {
            r->st.too_big++;
            wt__log(&r->log, WT_LOG_WARN, "redis: a %zu-byte message on %s is over max_message (%zu): dropped",
                    (size_t)rep->element[2]->len, s->channel, r->max_message);
            return;
        }
        r->st.received++;
        s->fn(r, s->channel, (const uint8_t *)rep->element[2]->str, (size_t)rep->element[2]->len, s->user);
    }
}

static void wt__redis_pub_reply(redisAsyncContext *ac, void *reply, void *priv) {
    wt_redis *r = (wt_redis *)priv;
    redisReply *rep = (redisReply *)reply;
    (void)ac;
    r->pending--;
    if (rep && rep->type == REDIS_REPLY_INTEGER) {
        r->st.published++;
    } else {
        /* sent, then the connection went (or Redis said no): it may or may
           not have reached the subscribers */
        r->st.failed++;
        if (rep && rep->type == REDIS_REPLY_ERROR)
            wt__log(&r->log, WT_LOG_WARN, "redis: PUBLISH refused: %s", rep->str);
    }
}

/* ---------------------------------------------------------------- API */
wt_redis *wt_redis_create(wt_loop *loop, const wt_redis_config *cfg) {
    wt_redis_config zero;
    wt_redis *r;
    struct addrinfo hints, *res = NULL;
    const char *host;
    int rv;
    if (!cfg) {
        memset(&zero, 0, sizeof zero);
        cfg = &zero;
    }
    if (!loop) {
        wt__fail(&cfg->log, WT_ERR_INVALID, "wt_redis_create: no loop");
        return NULL;
    }
    r = (wt_redis *)wt__calloc(&loop->alloc, sizeof *r);
    if (!r) {
        wt__fail(&loop->log, WT_ERR_NOMEM, "wt_redis_create: out of memory");
        return NULL;
    }
    r->loop = loop;
    r->alloc = loop->alloc;
    r->log = cfg->log.fn || cfg->log.level ? cfg->log : loop->log;
    r->port = cfg->port ? cfg->port : WT__REDIS_PORT;
    r->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : WT__REDIS_CONNECT_TIMEOUT_MS;
    r->backoff_min_ms = cfg->backoff_min_ms ? cfg->backoff_min_ms : WT__REDIS_BACKOFF_MIN_MS;
    r->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : WT__REDIS_BACKOFF_MAX_MS;
    if (r->backoff_max_ms < r->backoff_min_ms) r->backoff_max_ms = r->backoff_min_ms;
    r->keepalive_ms = cfg->keepalive_ms ? cfg->keepalive_ms : WT__REDIS_KEEPALIVE_MS;
    r->max_pending = cfg->max_pending ? cfg->max_pending : WT__REDIS_MAX_PENDING;
    r->max_message = cfg->max_message ? cfg->max_message : WT__REDIS_MAX_MESSAGE;
    r->on_state = cfg->on_state;
    r->state_user = cfg->user;
    if (cfg->password && !(r->password = wt__strdup(&r->alloc, cfg->password))) {
        wt__fail(&r->log, WT_ERR_NOMEM, "wt_redis_create: out of memory");
        wt__free(&r->alloc, r);
        return NULL;
    }
    r->rnd = (uint32_t)(uintptr_t)r ^ (uint32_t)wt_loop_now_ms(loop);
    /* once, here: a name would block the loop at every reconnect */
    host = cfg->host && *cfg->host ? cfg->host : "127.0.0.1";
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    rv = getaddrinfo(host, NULL, &hints, &res);
    if (rv != 0 || !res) {
        wt__fail(&r->log, WT_ERR_INVALID, "wt_redis_create: cannot resolve %s: %s", host, gai_strerror(rv));
        wt__free(&r->alloc, r->password);
        wt__free(&r->alloc, r);
        return NULL;
    }
    if (res->ai_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, r->host, sizeof r->host);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, r->host, sizeof r->host);
    freeaddrinfo(res);
    r->pub.r = r->sub.r = r;
    r->pub.role = "publish";
    r->sub.role = "subscribe";
    r->pub.fd = r->sub.fd = -1;
    r->pub.backoff_ms = r->sub.backoff_ms = r->backoff_min_ms;
    r->depth++; /* on_state may run (not ready) but cannot free it yet */
    wt__redis_connect(&r->pub);
    wt__redis_connect(&r->sub);
    r->depth--;
    return r;
}

int wt_redis_subscribe(wt_redis *r, const char *channel, wt_redis_message_fn fn, void *user) {
    wt__redis_sub *s;
    size_t n;
    if (!r || !channel || !*channel || !fn)
        return wt__fail(r ? &r->log : NULL, WT_ERR_INVALID, "wt_redis_subscribe: need a channel and a function");
    if (r->doomed) return wt__fail(&r->log, WT_ERR_STATE, "wt_redis_subscribe: being destroyed");
    for (s = r->subs; s; s = s->next)
        if (!strcmp(s->channel, channel))
            return wt__fail(&r->log, WT_ERR_STATE, "wt_redis_subscribe: already subscribed to %s", channel);
    n = strlen(channel);
    s = (wt__redis_sub *)wt__calloc(&r->alloc, sizeof *s + n + 1);
    if (!s) return wt__fail(&r->log, WT_ERR_NOMEM, "wt_redis_subscribe: out of memory");
    memcpy(s->channel, channel, n + 1);
    s->r = r;
    s->fn = fn;
    s->user = user;
    s->next = r->subs;
    r->subs = s;
    if (r->sub.connected) wt__redis_send_subscribe(r, s);
    r->depth++;
    wt__redis_state(r); /* not ready until Redis confirms this one too */
    wt__redis_leave(r);
    return WT_OK;
}

int wt_redis_publish(wt_redis *r, const char *channel, const void *data, size_t len) {
    const char *argv[3];
    size_t lens[3];
    if (!r || !channel || !*channel || (!data && len))
        return wt__fail(r ? &r->log : NULL, WT_ERR_INVALID, "wt_redis_publish: need a channel and data");
    if (len > r->max_message) {
        r->st.too_big++;
        return wt__fail(&r->log, WT_ERR_TOO_BIG, "wt_redis_publish: %zu bytes, max_message is %zu", len, r->max_message);
    }
    if (!r->pub.connected || r->doomed) {
        r->st.dropped++;
        if (!r->dropped_outage++)
            wt__log(&r->log, WT_LOG_WARN, "redis %s:%d: not connected: messages are dropped (counted) until it is back",
                    r->host, r->port);
        return wt__fail_at(&r->log, WT_LOG_DEBUG, WT_ERR_CLOSED, "wt_redis_publish: not connected: dropped");
    }
    if (r->pending >= r->max_pending) {
        uint64_t now = wt_loop_now_ms(r->loop);
        r->st.dropped++;
        if (now - r->last_full_log_ms >= 1000) {
            r->last_full_log_ms = now;
            wt__log(&r->log, WT_LOG_WARN, "redis: %zu publishes unanswered (max_pending): dropping (%llu so far)",
                    r->pending, (unsigned long long)r->st.dropped);
        }
        return wt__fail_at(&r->log, WT_LOG_DEBUG, WT_ERR_WOULDBLOCK, "wt_redis_publish: max_pending reached: dropped");
    }
    argv[0] = "PUBLISH";
    lens[0] = 7;
    argv[1] = channel;
    lens[1] = strlen(channel);
    argv[2] = len ? (const char *)data : "";
    lens[2] = len;
    if (redisAsyncCommandArgv(r->pub.ac, wt__redis_pub_reply, r, 3, argv, lens) != REDIS_OK) {
        r->st.dropped++;
        return wt__fail(&r->log, WT_ERR_NOMEM, "wt_redis_publish: hiredis refused the command");
    }
    r->pending++;
    return WT_OK;
}

int wt_redis_ready(const wt_redis *r) { return r && r->ready; }

int wt_redis_get_stats(const wt_redis *r, wt_redis_stats *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!r || !out) return wt__fail(NULL, WT_ERR_INVALID, "wt_redis_get_stats: no handle or no output");
    *out = r->st;
    out->ready = r->ready;
    out->pending = r->pending;
    return WT_OK;
}

void wt_redis_destroy(wt_redis *r) {
    wt__redis_conn *cs[2];
    int i;
    if (!r) return;
    r->doomed = 1;
    if (r->depth) return; /* from inside a callback: on the way out */
    cs[0] = &r->pub;
    cs[1] = &r->sub;
    for (i = 0; i < 2; i++) {
        wt__redis_conn *c = cs[i];
        if (c->retry_timer > 0) (void)wt_loop_timer_cancel(r->loop, c->retry_timer);
        if (c->connect_timer > 0) (void)wt_loop_timer_cancel(r->loop, c->connect_timer);
        c->retry_timer = c->connect_timer = 0;
        if (c->ac) {
            r->depth++;
            redisAsyncFree(c->ac); /* pending publishes hear NULL: failed */
            r->depth--;
            c->ac = NULL;
        }
    }
    while (r->subs) {
        wt__redis_sub *n = r->subs->next;
        wt__free(&r->alloc, r->subs);
        r->subs = n;
    }
    if (r->st.dropped || r->st.failed)
        wt__log(&r->log, WT_LOG_INFO, "redis: closed; %llu published, %llu dropped, %llu failed",
                (unsigned long long)r->st.published, (unsigned long long)r->st.dropped,
                (unsigned long long)r->st.failed);
    if (r->password) wt__zero(r->password, strlen(r->password));
    wt__free(&r->alloc, r->password);
    wt__free(&r->alloc, r);
}
#endif /* WT_REDIS */
