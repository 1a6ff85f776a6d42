/* sim.h - a simulated network between a wt.h server and client in one
   process, in virtual time: the whole stack (QUIC, TLS, HTTP/3, sessions)
   runs through the sans-I/O seam (wt_io + wt_clock), packets cross a wire
   that can drop, delay, reorder, duplicate, corrupt and rate-limit them,
   all decided by a seeded generator, so a run replays exactly. */
#ifndef WT_SIM_H
#define WT_SIM_H

#include <arpa/inet.h>
#include <netinet/in.h>

typedef struct sim_link {
    double loss, dup, reorder, corrupt; /* probabilities per packet */
    uint64_t delay_ms;                  /* one-way propagation delay */
    uint64_t rate_mbps;                 /* 0: unlimited */
    size_t queue_bytes;                 /* bottleneck buffer (0: 256 KiB) */
    /* state */
    uint64_t busy_until;                /* ns: the bottleneck is sending until then */
    uint64_t sent, dropped, queue_drops, duplicated, corrupted, reordered;
} sim_link;

typedef struct sim_pkt {
    uint64_t at, seq;
    int to_server;
    struct sockaddr_in from; /* to the server: who sent it */
    size_t len;
    uint8_t data[1500];
} sim_pkt;

typedef struct sim {
    uint64_t now;   /* virtual ns */
    uint64_t rng;
    uint64_t seq;
    wt_loop *loop;
    wt_app *app;
    wt_client *client;
    struct sockaddr_in server_addr, client_addr;
    sim_link up, down; /* client -> server, server -> client */
    sim_pkt *heap;
    size_t n, cap;
    uint64_t spins;
    /* what the server sent to addresses other than the client's */
    uint64_t to_others, retries_to_others, retries_to_client, bytes_to_others;
    size_t peak_conns; /* the most server connections seen at once */
} sim;

static uint64_t sim_clock(void *user) { return ((sim *)user)->now; }

/* xorshift64*: fast, seeded, the same sequence on every machine */
static uint64_t sim_rand(sim *s) {
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 2685821657736338717ULL;
}

static double sim_unit(sim *s) { return (double)(sim_rand(s) >> 11) / 9007199254740992.0; }

static int sim_before(const sim_pkt *a, const sim_pkt *b) { return a->at < b->at || (a->at == b->at && a->seq < b->seq); }

static void sim_push(sim *s, const sim_pkt *p) {
    size_t i;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->heap = (sim_pkt *)realloc(s->heap, s->cap * sizeof *s->heap);
    }
    i = s->n++;
    s->heap[i] = *p;
    while (i > 0 && sim_before(&s->heap[i], &s->heap[(i - 1) / 2])) {
        sim_pkt t = s->heap[i];
        s->heap[i] = s->heap[(i - 1) / 2];
        s->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static void sim_pop(sim *s, sim_pkt *out) {
    size_t i = 0;
    *out = s->heap[0];
    s->heap[0] = s->heap[--s->n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n && sim_before(&s->heap[l], &s->heap[m])) m = l;
        if (r < s->n && sim_before(&s->heap[r], &s->heap[m])) m = r;
        if (m == i) break;
        {
            sim_pkt t = s->heap[i];
            s->heap[i] = s->heap[m];
            s->heap[m] = t;
        }
        i = m;
    }
}

/* One datagram onto a link: the bottleneck (rate, buffer), then loss,
   corruption, reordering (an extra delay) and duplication. */
static void sim_send_one(sim *s, sim_link *l, int to_server, const uint8_t *data, size_t len) {
    sim_pkt p;
    uint64_t start, qlimit = l->queue_bytes ? l->queue_bytes : 256 * 1024;
    if (len > sizeof p.data) return;
    l->sent++;
    start = l->busy_until > s->now ? l->busy_until : s->now;
    if (l->rate_mbps) {
        /* what is already waiting, in bytes, against the buffer */
        if ((start - s->now) * l->rate_mbps / 8000 > qlimit) {
            l->queue_drops++;
            return;
        }
        l->busy_until = start + (uint64_t)len * 8000 / l->rate_mbps;
    } else {
        l->busy_until = start;
    }
    if (sim_unit(s) < l->loss) {
        l->dropped++;
        return;
    }
    memset(&p, 0, offsetof(sim_pkt, data));
    p.to_server = to_server;
    p.from = s->client_addr;
    p.len = len;
    memcpy(p.data, data, len);
    if (sim_unit(s) < l->corrupt) {
        p.data[sim_rand(s) % len] ^= (uint8_t)(1 + sim_rand(s) % 255);
        l->corrupted++;
    }
    p.at = l->busy_until + l->delay_ms * 1000000ULL;
    if (sim_unit(s) < l->reorder) {
        p.at += (sim_rand(s) % (2 * l->delay_ms + 2)) * 1000000ULL; /* overtaken by later ones */
        l->reordered++;
    }
    p.seq = s->seq++;
    sim_push(s, &p);
    if (sim_unit(s) < l->dup) {
        p.at += (sim_rand(s) % (l->delay_ms + 1)) * 1000000ULL;
        p.seq = s->seq++;
        sim_push(s, &p);
        l->duplicated++;
    }
}

/* Sees every datagram between the two ends as it is sent (before the link
   decides its fate): a packet capture. */
static void (*sim_tap)(int to_server, const uint8_t *data, size_t len);

static int sim_send(void *user, const void *local, size_t local_len, const void *remote, size_t remote_len,
                    const uint8_t *data, size_t len, size_t segment) {
    sim *s = (sim *)user;
    int to_server = remote_len == sizeof s->server_addr && memcmp(remote, &s->server_addr, sizeof s->server_addr) == 0;
    size_t off;
    (void)local, (void)local_len;
    if (!to_server && !(remote_len == sizeof s->client_addr && !memcmp(remote, &s->client_addr, sizeof s->client_addr))) {
        /* to a host that is not simulated (a flood's sources): count it */
        s->to_others++;
        s->bytes_to_others += len;
        if ((data[0] & 0xf0) == 0xf0) s->retries_to_others++; /* long header, type Retry (v1) */
        return 0;
    }
    if (!to_server && (data[0] & 0xf0) == 0xf0) s->retries_to_client++;
    for (off = 0; off < len; off += segment) {
        if (sim_tap) sim_tap(to_server, data + off, len - off < segment ? len - off : segment);
        sim_send_one(s, to_server ? &s->up : &s->down, to_server, data + off, len - off < segment ? len - off : segment);
    }
    return 0;
}

/* Starts a server on 10.0.0.1:443 and a client on 10.0.0.2:50000 (virtual
   addresses, nothing leaves the process) sharing one loop and clock. */
/* An allocator for the server, if set before sim_start (e.g. a counting one). */
static const wt_allocator *sim_server_alloc;
/* If set before sim_start, changes the server's config (called with cc NULL)
   and then the client's (ac NULL): qlog, key log, a log hook. */
static void (*sim_configure)(wt_app_config *ac, wt_client_config *cc);
/* If set before sim_start, called with the app before wt_app_start (hooks). */
static void (*sim_before_start)(wt_app *app);

static int sim_start(sim *s, uint64_t seed, const wt_limits *server_lim, const wt_limits *client_lim) {
    wt_loop_config lc;
    wt_app_config ac;
    wt_client_config cc;
    sim_link up = s->up, down = s->down;
    memset(s, 0, sizeof *s);
    s->up = up, s->down = down;
    s->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
    s->now = 1000000000ULL; /* t = 1 s: zero is not a time ngtcp2 likes */
    if (harness_cert() != 0) return -1;
    s->server_addr.sin_family = AF_INET;
    s->server_addr.sin_port = htons(443);
    inet_pton(AF_INET, "10.0.0.1", &s->server_addr.sin_addr);
    s->client_addr.sin_family = AF_INET;
    s->client_addr.sin_port = htons(50000);
    inet_pton(AF_INET, "10.0.0.2", &s->client_addr.sin_addr);
    memset(&lc, 0, sizeof lc);
    lc.log.fn = harness_quiet_log;
    lc.log.level = WT_LOG_DEBUG;
    lc.clock.now_ns = sim_clock;
    lc.clock.user = s;
    if (!(s->loop = wt_loop_create(&lc))) return -1;
    memset(&ac, 0, sizeof ac);
    ac.host = "10.0.0.1";
    ac.port = 443;
    ac.cert_file = harness_crt;
    ac.key_file = harness_key;
    ac.loop = s->loop;
    ac.log = lc.log;
    ac.io.send = sim_send;
    ac.io.user = s;
    if (server_lim) ac.limits = *server_lim;
    if (sim_server_alloc) ac.alloc = *sim_server_alloc;
    if (sim_configure) sim_configure(&ac, NULL);
    if (!(s->app = wt_app_create(&ac))) return -1;
    if (sim_before_start) sim_before_start(s->app);
    if (wt_app_start(s->app) != WT_OK) return -1;
    memset(&cc, 0, sizeof cc);
    cc.cert_sha256 = harness_pin;
    cc.loop = s->loop;
    cc.log = lc.log;
    cc.io.send = sim_send;
    cc.io.user = s;
    cc.io.local_host = "10.0.0.2";
    cc.io.local_port = 50000;
    if (client_lim) cc.limits = *client_lim;
    if (sim_configure) sim_configure(NULL, &cc);
    if (!(s->client = wt_client_create(&cc))) return -1;
    return 0;
}

/* Runs in virtual time until *flag or ms of virtual time pass: delivers
   the packets that are due, lets the loop work, then jumps the clock to
   the next packet or timer. Returns the flag. */
static int sim_run(sim *s, volatile int *flag, uint64_t ms) {
    uint64_t end = s->now + ms * 1000000ULL, last = 0;
    while (!*flag && s->now <= end) {
        uint64_t next = UINT64_MAX;
        int t;
        while (s->n && s->heap[0].at <= s->now) {
            sim_pkt p;
            sim_pop(s, &p);
            if (p.to_server) wt_app_input(s->app, &p.from, sizeof p.from, p.data, p.len);
            else wt_client_input(s->client, &s->server_addr, sizeof s->server_addr, p.data, p.len);
        }
        wt_loop_process(s->loop);
        if (s->app->ep.nconns > s->peak_conns) s->peak_conns = s->app->ep.nconns;
        if (*flag) break;
        t = wt_loop_timeout(s->loop);
        if (t >= 0) next = s->now + (uint64_t)t * 1000000ULL;
        if (s->n && s->heap[0].at < next) next = s->heap[0].at;
        if (next == UINT64_MAX) break; /* nothing can ever happen again */
        if (next <= s->now) {
            /* work at this instant; if it never settles, move on a little */
            if (++last > 10000) {
                s->spins++;
                next = s->now + 1000000ULL;
                last = 0;
            } else {
                continue;
            }
        } else {
            last = 0;
        }
        s->now = next;
    }
    return *flag;
}

/* The session bookkeeping every sim test handler does: counts the session's
   opening and closing, keeps the session while it is open and its close
   error. Returns 1 if ev was one of those two events (nothing else to do). */
static int sim_session_event(const wt_event *ev, int *opened, int *closed, int *close_error, wt_session **s) {
    if (ev->type == WT_EV_SESSION_OPEN) {
        (*opened)++;
        *s = ev->session;
        return 1;
    }
    if (ev->type == WT_EV_SESSION_CLOSED) {
        (*closed)++;
        *close_error = ev->error;
        *s = NULL;
        return 1;
    }
    return 0;
}

static uint64_t sim_ms(const sim *s) { return s->now / 1000000ULL; }

/* A datagram to the server from any address, at virtual time at (ns). */
static void sim_inject(sim *s, const struct sockaddr_in *from, const uint8_t *data, size_t len, uint64_t at) {
    sim_pkt p;
    if (len > sizeof p.data) return;
    memset(&p, 0, offsetof(sim_pkt, data));
    p.to_server = 1;
    p.from = *from;
    p.at = at;
    p.seq = s->seq++;
    p.len = len;
    memcpy(p.data, data, len);
    sim_push(s, &p);
}

static void sim_stop(sim *s) {
    wt_client_destroy(s->client);
    wt_app_destroy(s->app);
    wt_loop_destroy(s->loop);
    free(s->heap);
    s->heap = NULL;
}
#endif
