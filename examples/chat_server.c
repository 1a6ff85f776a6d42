/* chat_server.c - the guide's chat_server.py: every datagram goes to everyone else.
 *
 *   cc -std=c11 -O2 examples/chat_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o chat_server
 *   ./chat_server [--host 127.0.0.1] [--port 4433] [--cert F --key F] [--workers N]
 *                 [--redis HOST:PORT]    ($P: cat build/deps/prefix after make deps)
 *
 * --workers N runs N loops on N threads behind the one port (add -pthread
 * on glibc before 2.34): each worker keeps its own members, and a message
 * reaches the others through wt_app_post_all, so it is still one room.
 *
 * With -DWT_REDIS (and -lhiredis) it also takes --redis HOST:PORT: then
 * several instances form one room. A message goes to the instance's own
 * members at once and, from worker 0 (which holds the Redis connection),
 * to the Redis channel "wt.h-chat" with the instance's ID in front; each
 * instance delivers what the others publish to all its members and skips
 * its own, so every member gets every message once. While Redis is away
 * each instance goes on alone: what it would publish is dropped and
 * counted, and it reconnects by itself. It prints "Redis ready" / "Redis
 * not ready" as that changes, and the adapter's counts at exit. A Redis
 * with requirepass takes the password from $REDIS_PASSWORD.
 *
 * The room is "/chat". The server keeps the active sessions (the guide's
 * ACTIVE_SESSIONS set) in a fixed array (one per worker); one more than
 * MAX_MEMBERS is refused with 429. A datagram from one session is sent as a datagram to
 * every other session; a send that fails (queue full, session closing) is
 * skipped and does not stop the broadcast (the guide's
 * return_exceptions=True). A session leaves on its WT_EV_SESSION_CLOSED,
 * however it ended. Ctrl-C stops the server. examples/chat_client.c talks to it.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_MEMBERS 64 /* per worker */
#define MAX_MESSAGE 1200 /* a datagram's worth */

static wt_app *app;

/* --- Shared state: the active sessions. With --workers N each worker
   keeps its own list, touched only on its own thread. */
typedef struct room {
    wt_session *members[MAX_MEMBERS];
    size_t n;
} room;
static room rooms[WT_WORKERS_MAX];

static unsigned long long id_of(const wt_session *s) { return (unsigned long long)wt_session_id(s); }

static room *room_of(wt_session *s) { return &rooms[wt_session_worker(s)]; }

/* Adds a new session to our shared state (there is room: checked at request). */
static void add_session(wt_session *s) {
    room *r = room_of(s);
    if (wt_app_workers(app) > 1) printf("Session %llu joined on worker %d.\n", id_of(s), wt_session_worker(s));
    else printf("Session %llu joined.\n", id_of(s));
    r->members[r->n++] = s;
}

/* Removes a session from our shared state; its pointer dies after CLOSED. */
static void remove_session(wt_session *s) {
    room *r = room_of(s);
    size_t i;
    for (i = 0; i < r->n; i++)
        if (r->members[i] == s) {
            printf("Session %llu left.\n", id_of(s));
            r->members[i] = r->members[--r->n];
            return;
        }
}

/* Sends a message to all of a room's clients except the sender (0: none,
   a message from another instance). */
static void send_to_members(room *r, uint64_t sender, const uint8_t *msg, size_t len) {
    size_t i;
    for (i = 0; i < r->n; i++) {
        int rv;
        if (wt_session_id(r->members[i]) == sender) continue;
        rv = wt_session_send_datagram(r->members[i], msg, len);
        if (rv != WT_OK) /* don't let one failed send stop the others */
            printf("Not sent to %llu: %s\n", id_of(r->members[i]), wt_strerror(rv));
    }
}

/* A message on its way to every worker's room: wt_app_post_all runs
   deliver once on each worker's thread; the last one frees it. */
typedef struct chat_msg {
    atomic_int refs;
    uint64_t sender; /* session ID; 0: from another instance */
    size_t len;
    uint8_t data[];
} chat_msg;

static void publish_message(const uint8_t *msg, size_t len);

static void deliver(wt_loop *loop, void *user) {
    chat_msg *m = (chat_msg *)user;
    int w = wt_app_current_worker(app);
    (void)loop;
    send_to_members(&rooms[w < 0 ? 0 : w], m->sender, m->data, m->len);
    if (w <= 0 && m->sender) publish_message(m->data, m->len); /* worker 0 holds the Redis connection */
    fflush(stdout);
    if (atomic_fetch_sub(&m->refs, 1) == 1) free(m);
}

static void post_to_all_workers(uint64_t sender, const uint8_t *msg, size_t len) {
    chat_msg *m = (chat_msg *)malloc(sizeof *m + len);
    if (!m) {
        printf("Not sent: out of memory\n");
        return;
    }
    atomic_init(&m->refs, wt_app_workers(app));
    m->sender = sender;
    m->len = len;
    memcpy(m->data, msg, len);
    /* a post that fails (out of memory, logged) leaves this one message
       short of a worker and never freed: rare enough for an example */
    (void)wt_app_post_all(app, deliver, m);
}

#ifdef WT_REDIS
/* --- Other instances: through Redis. A message there is our 8-byte
   instance ID, then the text. */
#define CHANNEL "wt.h-chat"
static wt_redis *redis;
static uint8_t instance_id[8];

static void publish_message(const uint8_t *msg, size_t len) {
    uint8_t buf[sizeof instance_id + MAX_MESSAGE];
    if (!redis) return;
    if (len > MAX_MESSAGE) {
        printf("Not published: %zu bytes, more than %d\n", len, MAX_MESSAGE);
        return;
    }
    memcpy(buf, instance_id, sizeof instance_id);
    memcpy(buf + sizeof instance_id, msg, len);
    (void)wt_redis_publish(redis, CHANNEL, buf, sizeof instance_id + len); /* dropped: counted, logged */
}

static void on_redis_message(wt_redis *r, const char *channel, const uint8_t *data, size_t len, void *user) {
    (void)r, (void)channel, (void)user;
    if (len < sizeof instance_id || !memcmp(data, instance_id, sizeof instance_id)) return; /* ours: sent already */
    printf("From another instance: %.*s\n", (int)(len - sizeof instance_id), (const char *)data + sizeof instance_id);
    post_to_all_workers(0, data + sizeof instance_id, len - sizeof instance_id);
    fflush(stdout);
}

static void on_redis_state(wt_redis *r, int ready, void *user) {
    (void)r, (void)user;
    printf("Redis %s\n", ready ? "ready" : "not ready");
    fflush(stdout);
}

/* HOST:PORT (an IPv6 address in brackets) */
static int start_redis(wt_loop *loop, const char *arg) {
    static char host[256];
    wt_redis_config rc;
    const char *colon = strrchr(arg, ':');
    char *end;
    long port;
    size_t n;
    struct timespec ts;
    if (!colon || colon == arg) return -1;
    port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535) return -1;
    n = (size_t)(colon - arg);
    if (arg[0] == '[' && n >= 2 && arg[n - 1] == ']') arg++, n -= 2;
    if (n >= sizeof host) return -1;
    memcpy(host, arg, n);
    host[n] = 0;
    clock_gettime(CLOCK_REALTIME, &ts); /* an ID unique enough for a room */
    srand((unsigned)ts.tv_nsec ^ (unsigned)getpid() ^ (unsigned)ts.tv_sec);
    for (n = 0; n < sizeof instance_id; n++) instance_id[n] = (uint8_t)(rand() >> 7);
    memset(&rc, 0, sizeof rc);
    rc.host = host;
    rc.port = (uint16_t)port;
    rc.password = getenv("REDIS_PASSWORD"); /* the environment: argv shows in ps */
    rc.on_state = on_redis_state;
    rc.log.level = WT_LOG_INFO;
    if (!(redis = wt_redis_create(loop, &rc))) return -1;
    return wt_redis_subscribe(redis, CHANNEL, on_redis_message, NULL) == WT_OK ? 0 : -1;
}

static void stop_redis(void) {
    wt_redis_stats st;
    if (!redis) return;
    if (wt_redis_get_stats(redis, &st) == WT_OK)
        printf("Redis: %llu published, %llu dropped, %llu failed, %llu received, %llu reconnects\n",
               (unsigned long long)st.published, (unsigned long long)st.dropped, (unsigned long long)st.failed,
               (unsigned long long)st.received, (unsigned long long)st.disconnects);
    wt_redis_destroy(redis);
    redis = NULL;
}
#else
static void publish_message(const uint8_t *msg, size_t len) { (void)msg, (void)len; }
#endif

/* A member's message: to every worker's members, and (from worker 0) to
   the other instances through Redis. */
static void broadcast_message(wt_session *sender, const uint8_t *msg, size_t len) {
    printf("Broadcasting from %llu: %.*s\n", id_of(sender), (int)len, (const char *)msg);
    post_to_all_workers(wt_session_id(sender), msg, len);
}

/* The handler for each client connecting to the chat. */
static void chat_handler(wt_event *ev) {
    switch (ev->type) {
    case WT_EV_SESSION_REQUEST:
        if (room_of(ev->session)->n == MAX_MEMBERS) (void)wt_session_reject(ev->session, 429); /* room full */
        break;
    case WT_EV_SESSION_OPEN:
        add_session(ev->session);
        break;
    case WT_EV_DATAGRAM: /* low-latency chat messages; a real app would parse JSON */
        broadcast_message(ev->session, ev->data, ev->len);
        break;
    case WT_EV_SESSION_CLOSED: /* no matter how the session ends */
        remove_session(ev->session);
        break;
    default:
        break;
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    wt_app_config cfg = {0};
    const char *redis_arg = NULL;
    char **args = (char **)calloc((size_t)argc + 1, sizeof *args);
    int rv, i, nargs = 0;

    cfg.host = "127.0.0.1";
    cfg.port = 4433;
    cfg.stop_on_signals = 1; /* Ctrl-C: a graceful stop (a second one: at once) */
    cfg.log.level = WT_LOG_INFO;
    cfg.dev_cert = 1;        /* generate_self_signed_cert("localhost"), in memory */
    /* our own options out first; wt_app_config_args takes the rest */
    if (!args) return 1;
    for (i = 0; i < argc; i++) {
        if (i > 0 && !strcmp(argv[i], "--redis") && i + 1 < argc) redis_arg = argv[++i];
        else if (i > 0 && !strncmp(argv[i], "--redis=", 8)) redis_arg = argv[i] + 8;
        else if (i > 0 && !strcmp(argv[i], "--workers") && i + 1 < argc) cfg.workers = atoi(argv[++i]);
        else if (i > 0 && !strncmp(argv[i], "--workers=", 10)) cfg.workers = atoi(argv[i] + 10);
        else args[nargs++] = argv[i];
    }
    args[nargs] = NULL;
    if ((rv = wt_app_config_args(&cfg, nargs, args)) != nargs) {
        if (rv == WT_ARGS_HELP)
            fprintf(stderr, "       --workers N        N loops on N threads, one room (1..%d)\n"
                            "       --redis HOST:PORT  one room across instances (built with -DWT_REDIS)\n",
                    WT_WORKERS_MAX);
        free(args);
        return rv == WT_ARGS_HELP ? 0 : 1;
    }
    if (cfg.workers < 0 || cfg.workers > WT_WORKERS_MAX) {
        fprintf(stderr, "chat_server: --workers: 1..%d\n", WT_WORKERS_MAX);
        free(args);
        return 1;
    }
#ifndef WT_REDIS
    if (redis_arg) {
        fprintf(stderr, "chat_server: --redis needs a build with -DWT_REDIS and -lhiredis\n");
        free(args);
        return 1;
    }
#endif
    if (!(app = wt_app_create(&cfg))) { /* the reason is logged */
        free(args);
        return 1;
    }
    rv = wt_app_route(app, "/chat", chat_handler, NULL);
    if (rv == WT_OK) rv = wt_app_start(app); /* binds the socket: the port is known */
#ifdef WT_REDIS
    if (rv == WT_OK && redis_arg && start_redis(wt_app_loop(app), redis_arg) != 0) {
        fprintf(stderr, "chat_server: --redis %s: not HOST:PORT, or the adapter failed (see above)\n", redis_arg);
        rv = WT_ERR_INVALID;
    }
#endif
    if (rv == WT_OK) {
        int v6 = strchr(cfg.host, ':') != NULL; /* an IPv6 address goes in brackets */
        printf("Chat server running at https://%s%s%s:%d/chat\n", v6 ? "[" : "", cfg.host, v6 ? "]" : "",
               wt_app_port(app));
        fflush(stdout);
        rv = wt_app_run(app);
    }
#ifdef WT_REDIS
    stop_redis(); /* before the app: it rides the app's loop */
#endif
    wt_app_destroy(app);
    free(args); /* cfg's strings pointed into it */
    return rv == WT_OK ? 0 : 1;
}
