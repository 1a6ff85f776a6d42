/* wt_loop.c - the poll() loop: UDP sockets, batched I/O, timers. */
#include "wt_internal.h"

#include <fcntl.h>
#include <netinet/udp.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#if WT__HAVE_GSO && !defined(UDP_SEGMENT)
#define UDP_SEGMENT 103
#endif
#if WT__HAVE_GRO && !defined(UDP_GRO)
#define UDP_GRO 104
#endif

static uint64_t wt__loop_ns(wt_loop *loop) {
    struct timespec ts;
    if (loop && loop->clock.now_ns) return loop->clock.now_ns(loop->clock.user);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t wt_loop_now_ms(wt_loop *loop) { return wt__loop_ns(loop) / 1000000ULL; }

/* ---------------------------------------------------------------- wakeup
   One descriptor in the poll set that any thread or a signal handler can
   make readable: poll() returns at once, even when the wakeup came just
   before it was called (a flag alone would be lost there). */
static int wt__wake_open(wt_loop *loop) {
#ifdef __linux__
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return wt__fail(&loop->log, WT_ERR_IO, "loop: eventfd: %s", strerror(errno));
    loop->wake_rd = loop->wake_wr = fd;
#else
    int p[2], i;
    if (pipe(p) != 0) return wt__fail(&loop->log, WT_ERR_IO, "loop: pipe: %s", strerror(errno));
    for (i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
    }
    loop->wake_rd = p[0];
    loop->wake_wr = p[1];
#endif
    return WT_OK;
}

static void wt__wake_close(wt_loop *loop) {
    if (loop->wake_rd >= 0) close(loop->wake_rd);
    if (loop->wake_wr >= 0 && loop->wake_wr != loop->wake_rd) close(loop->wake_wr);
    loop->wake_rd = loop->wake_wr = -1;
}

/* Empties the descriptor, only when a wakeup set the flag: a read that
   finds nothing is a syscall on every pass otherwise. The flag is set after
   the write (wt_loop_wakeup), so a set flag means the write is in: it is
   read here. A write whose flag is not set yet stays readable, the next
   poll returns at once, and the flag is there by the next pass. */
static void wt__wake_drain(wt_loop *loop) {
    uint8_t buf[64];
    if (loop->wake_rd < 0 || !atomic_exchange(&loop->woken, 0)) return;
    while (read(loop->wake_rd, buf, sizeof buf) > 0 && loop->wake_rd != loop->wake_wr) {
    }
}

/* Only write() and a lock-free atomic store: async-signal-safe. errno is kept
   for the code the signal interrupted. The write goes first (see
   wt__wake_drain). */
void wt_loop_wakeup(wt_loop *loop) {
    int saved = errno;
#ifdef __linux__
    uint64_t one = 1;
#else
    uint8_t one = 1;
#endif
    if (!loop || loop->wake_wr < 0) return;
    if (write(loop->wake_wr, &one, sizeof one) < 0) {
        /* EAGAIN: a full pipe (or counter) is readable already */
    }
    atomic_store(&loop->woken, 1);
    errno = saved;
}

static int wt__loop_push(wt_loop *loop, wt_timer_fn fn, void *user, wt_session_fn sfn, wt__ep *ep, uint64_t sid) {
    wt__post *p = (wt__post *)wt__alloc(&loop->alloc, sizeof *p);
    if (!p) return wt__fail(&loop->log, WT_ERR_NOMEM, "wt_loop_post: out of memory");
    p->fn = fn;
    p->user = user;
    p->sfn = sfn;
    p->ep = ep;
    p->session_id = sid;
    p->next = atomic_load(&loop->posts);
    while (!atomic_compare_exchange_weak(&loop->posts, &p->next, p)) {
    }
    wt_loop_wakeup(loop);
    return WT_OK;
}

int wt_loop_post(wt_loop *loop, wt_timer_fn fn, void *user) {
    if (!loop || !fn) return wt__fail(loop ? &loop->log : NULL, WT_ERR_INVALID, "wt_loop_post: no loop or no function");
    return wt__loop_push(loop, fn, user, NULL, NULL, 0);
}

/* Takes every post at once (newest first), turns the list around and runs
   it oldest first, as timers run: events they cause wait until each returns.
   Posts made meanwhile wait for the next pass (their wakeup says so). */
static void wt__run_posts(wt_loop *loop) {
    wt__post *p = atomic_exchange(&loop->posts, NULL), *rev = NULL;
    while (p) {
        wt__post *n = p->next;
        p->next = rev;
        rev = p;
        p = n;
    }
    while (rev) {
        wt__post *n = rev->next;
        loop->in_handler++;
        if (rev->sfn) rev->sfn(wt__ep_find_session(rev->ep, rev->session_id), rev->user);
        else rev->fn(loop, rev->user);
        loop->in_handler--;
        wt__free(&loop->alloc, rev);
        wt__loop_drain(loop);
        rev = n;
    }
}

wt_loop *wt_loop_create(const wt_loop_config *cfg) {
    wt_loop_config zero;
    wt_loop *loop;
    if (!cfg) {
        memset(&zero, 0, sizeof zero);
        cfg = &zero;
    }
    loop = (wt_loop *)wt__calloc(&cfg->alloc, sizeof *loop);
    if (!loop) {
        wt__fail(&cfg->log, WT_ERR_NOMEM, "loop: out of memory");
        return NULL;
    }
    loop->alloc = cfg->alloc;
    loop->log = cfg->log;
    loop->clock = cfg->clock;
    atomic_init(&loop->posts, NULL);
    loop->rxbuf_len = WT__RECV_BATCH * WT__PKT_BUF;
    loop->rxbuf = (uint8_t *)wt__alloc(&loop->alloc, loop->rxbuf_len);
    loop->rxmeta = (wt__rxmeta *)wt__alloc(&loop->alloc, sizeof *loop->rxmeta);
    if (!loop->rxbuf || !loop->rxmeta) {
        wt__free(&cfg->alloc, loop->rxbuf);
        wt__free(&cfg->alloc, loop->rxmeta);
        wt__free(&cfg->alloc, loop);
        wt__fail(&cfg->log, WT_ERR_NOMEM, "loop: out of memory");
        return NULL;
    }
    if (wt__wake_open(loop) != WT_OK) {
        wt__free(&cfg->alloc, loop->rxbuf);
        wt__free(&cfg->alloc, loop->rxmeta);
        wt__free(&cfg->alloc, loop);
        return NULL;
    }
    return loop;
}

void wt_loop_destroy(wt_loop *loop) {
    if (!loop || wt__loop_busy(loop, "wt_loop_destroy")) return;
    if (loop->eps) wt__log(&loop->log, WT_LOG_WARN, "loop destroyed while apps or clients still use it");
    {
        /* what they would touch may be gone with the apps and clients:
           dropped, not run */
        wt__post *p = atomic_exchange(&loop->posts, NULL);
        size_t n = 0;
        while (p) {
            wt__post *next = p->next;
            wt__free(&loop->alloc, p);
            p = next;
            n++;
        }
        if (n) wt__log(&loop->log, WT_LOG_WARN, "loop destroyed with %zu wt_loop_post function(s) not run: dropped", n);
    }
    wt__wake_close(loop);
    while (loop->evq_head) {
        wt__queued_event *q = loop->evq_head;
        loop->evq_head = q->next;
        wt__free(&loop->alloc, q);
    }
    if (loop->nwatches)
        wt__log(&loop->log, WT_LOG_WARN, "loop destroyed with %zu descriptor(s) still watched (wt_loop_watch)",
                loop->nwatches);
    wt__free(&loop->alloc, loop->watches);
    wt__free(&loop->alloc, loop->pfd);
    wt__free(&loop->alloc, loop->timers);
    wt__free(&loop->alloc, loop->rxbuf);
    wt__free(&loop->alloc, loop->rxmeta);
    wt__free(&loop->alloc, loop);
}

static int wt__loop_add_ep(wt_loop *loop, wt__ep *ep) {
    ep->next = loop->eps;
    loop->eps = ep;
    return WT_OK;
}

static void wt__loop_remove_ep(wt_loop *loop, wt__ep *ep) {
    wt__ep **pp;
    for (pp = &loop->eps; *pp; pp = &(*pp)->next)
        if (*pp == ep) {
            *pp = ep->next;
            return;
        }
}

/* ---------------------------------------------------------------- events
   A handler is never called from inside another handler, a timer, or a
   wt_ call the application made: such events wait in a queue, in order,
   until whatever was running returns (or, for calls made outside the
   loop, until the next wt_loop_process). So a handler may call anything
   without being re-entered, and state it frees on CLOSED is never in use
   further up its own stack. */
static void wt__loop_call(wt_loop *loop, wt_session *s, wt_handler fn, wt_event *ev) {
    loop->in_handler++;
    s->in_event++;
    fn(ev);
    s->in_event--;
    loop->in_handler--;
}

/* A write_ref completion: like a handler, it may call anything. */
static void wt__loop_call_done(wt_loop *loop, wt_write_done_fn done, const wt_event *ev) {
    loop->in_handler++;
    if (ev->session) ev->session->in_event++;
    done(ev->stream, ev->data, ev->len, ev->error, ev->user);
    if (ev->session) ev->session->in_event--;
    loop->in_handler--;
}

static void wt__loop_drain(wt_loop *loop) {
    wt__queued_event *q;
    while (!loop->in_handler && (q = loop->evq_head) != NULL) {
        loop->evq_head = q->next;
        if (!q->next) loop->evq_tail = NULL;
        if (q->done) wt__loop_call_done(loop, q->done, &q->ev);
        else wt__loop_call(loop, q->ev.session, q->fn, &q->ev);
        wt__free(&loop->alloc, q);
    }
}

static void wt__loop_queue(wt_loop *loop, wt__queued_event *q) {
    q->next = NULL;
    if (loop->evq_tail) loop->evq_tail->next = q;
    else loop->evq_head = q;
    loop->evq_tail = q;
}

static void wt__loop_emit_done(wt_loop *loop, wt_session *s, wt_stream *st, wt__ref *ref, int status) {
    wt__queued_event *q;
    wt_event ev;
    wt_write_done_fn done = ref->done;
    memset(&ev, 0, sizeof ev);
    ev.session = s;
    ev.stream = st;
    ev.data = (const uint8_t *)ref->data;
    ev.len = ref->len;
    ev.error = status;
    ev.user = ref->user;
    wt__free(&loop->alloc, ref);
    if (loop->driving && !loop->in_handler) {
        wt__loop_drain(loop);
        wt__loop_call_done(loop, done, &ev);
        wt__loop_drain(loop);
        return;
    }
    q = (wt__queued_event *)wt__alloc(&loop->alloc, sizeof *q);
    if (!q) {
        /* a lost completion would leave the caller's memory pinned forever */
        wt__log(&loop->log, WT_LOG_ERROR, "out of memory queueing a write completion: delivered at once");
        wt__loop_call_done(loop, done, &ev);
        return;
    }
    q->ev = ev;
    q->fn = NULL;
    q->done = done;
    wt__loop_queue(loop, q);
}

static void wt__loop_emit(wt_loop *loop, wt_session *s, wt_handler fn, wt_event *ev) {
    wt__queued_event *q;
    size_t n = ev->data ? ev->len : 0;
    if (loop->driving && !loop->in_handler) {
        wt__loop_drain(loop); /* anything older goes first */
        wt__loop_call(loop, s, fn, ev);
        wt__loop_drain(loop); /* what the handler's own calls caused */
        return;
    }
    q = (wt__queued_event *)wt__alloc(&loop->alloc, sizeof *q + n);
    if (!q) {
        /* losing an event (a CLOSED above all) would break the lifetime
           rules: deliver it now instead */
        wt__log(&loop->log, WT_LOG_ERROR, "out of memory queueing %s: delivered at once", wt_event_name(ev->type));
        wt__loop_call(loop, s, fn, ev);
        return;
    }
    q->ev = *ev;
    q->fn = fn;
    q->done = NULL;
    if (n) {
        memcpy(q->data, ev->data, n);
        q->ev.data = q->data;
    }
    wt__loop_queue(loop, q);
}

static void wt__loop_enter(wt_loop *loop) {
    if (++loop->driving == 1) wt__loop_drain(loop);
}

static void wt__loop_leave(wt_loop *loop) {
    loop->driving--;
}

static void wt__loop_forget_conn(wt_loop *loop, wt__conn *c) {
    wt__queued_event **pp = &loop->evq_head, *q;
    loop->evq_tail = NULL;
    while ((q = *pp) != NULL) {
        if (q->done && q->ev.session && q->ev.session->conn == c) {
            /* a completion is owed whatever happens: it stays, without
               the pointers that are about to go */
            q->ev.session = NULL;
            q->ev.stream = NULL;
            loop->evq_tail = q;
            pp = &q->next;
        } else if (!q->done && q->ev.session->conn == c) {
            wt__clog(c, q->ev.session->id, WT_LOG_WARN, "connection freed with %s undelivered", wt_event_name(q->ev.type));
            *pp = q->next;
            wt__free(&loop->alloc, q);
        } else {
            loop->evq_tail = q;
            pp = &q->next;
        }
    }
}

/* ---------------------------------------------------------------- timers */
int64_t wt_loop_timer(wt_loop *loop, uint32_t ms, wt_timer_fn fn, void *user) {
    wt__timer *t;
    if (!loop || !fn)
        return wt__fail(loop ? &loop->log : NULL, WT_ERR_INVALID, "wt_loop_timer: no loop or no function");
    if (loop->ntimers == loop->timers_cap) {
        size_t cap = loop->timers_cap ? loop->timers_cap * 2 : 8;
        wt__timer *nt = (wt__timer *)wt__realloc(&loop->alloc, loop->timers, cap * sizeof *nt);
        if (!nt) return wt__fail(&loop->log, WT_ERR_NOMEM, "timer: out of memory");
        loop->timers = nt;
        loop->timers_cap = cap;
    }
    t = &loop->timers[loop->ntimers++];
    t->id = ++loop->next_timer_id;
    t->due_ms = wt_loop_now_ms(loop) + ms;
    t->fn = fn;
    t->user = user;
    return t->id;
}

int wt_loop_timer_cancel(wt_loop *loop, int64_t id) {
    size_t i;
    if (!loop) return wt__fail(NULL, WT_ERR_INVALID, "wt_loop_timer_cancel: no loop");
    for (i = 0; i < loop->ntimers; i++)
        if (loop->timers[i].id == id) {
            loop->timers[i] = loop->timers[--loop->ntimers];
            return WT_OK;
        }
    return wt__fail_at(&loop->log, WT_LOG_DEBUG, WT_ERR_NOT_FOUND,
                       "wt_loop_timer_cancel: no timer %lld (fired already?)", (long long)id);
}

static void wt__run_timers(wt_loop *loop) {
    uint64_t now = wt_loop_now_ms(loop);
    size_t i = 0;
    while (i < loop->ntimers) {
        if (loop->timers[i].due_ms <= now) {
            wt__timer t = loop->timers[i];
            loop->timers[i] = loop->timers[--loop->ntimers];
            loop->in_handler++;
            t.fn(loop, t.user); /* may add or cancel timers */
            loop->in_handler--;
            wt__loop_drain(loop);
            i = 0;
        } else {
            i++;
        }
    }
}

/* ---------------------------------------------------------------- watches */
static wt__watch *wt__watch_find(wt_loop *loop, int fd) {
    size_t i;
    for (i = 0; i < loop->nwatches; i++)
        if (loop->watches[i].fd == fd) return &loop->watches[i];
    return NULL;
}

int wt_loop_watch(wt_loop *loop, int fd, short events, wt_watch_fn fn, void *user) {
    wt__watch *w;
    wt__ep *ep;
    int i;
    if (!loop) return wt__fail(NULL, WT_ERR_INVALID, "wt_loop_watch: no loop");
    if (fd < 0 || (events & ~(POLLIN | POLLOUT)) || (events && !fn))
        return wt__fail(&loop->log, WT_ERR_INVALID, "wt_loop_watch: fd %d, events 0x%x: need fd >= 0, POLLIN/POLLOUT, a function",
                        fd, (unsigned)events);
    /* the loop's own descriptors are read by the loop alone */
    if (fd == loop->wake_rd) return wt__fail(&loop->log, WT_ERR_INVALID, "wt_loop_watch: fd %d is the loop's wakeup", fd);
    for (ep = loop->eps; ep; ep = ep->next)
        for (i = 0; i < ep->nsocks; i++)
            if (ep->socks[i].fd == fd)
                return wt__fail(&loop->log, WT_ERR_INVALID, "wt_loop_watch: fd %d is one of the loop's sockets", fd);
    w = wt__watch_find(loop, fd);
    if (!events) {
        if (!w) return wt__fail_at(&loop->log, WT_LOG_DEBUG, WT_ERR_NOT_FOUND, "wt_loop_watch: fd %d not watched", fd);
        *w = loop->watches[--loop->nwatches];
        loop->watch_polled = 0; /* the poll set's order changed */
        return WT_OK;
    }
    if (!w) {
        if (loop->nwatches == loop->watches_cap) {
            size_t cap = loop->watches_cap ? loop->watches_cap * 2 : 4;
            wt__watch *nw = (wt__watch *)wt__realloc(&loop->alloc, loop->watches, cap * sizeof *nw);
            if (!nw) return wt__fail(&loop->log, WT_ERR_NOMEM, "wt_loop_watch: out of memory");
            loop->watches = nw;
            loop->watches_cap = cap;
        }
        w = &loop->watches[loop->nwatches++];
        w->fd = fd;
        w->revents = 0;
        loop->watch_polled = 0;
    }
    w->events = events;
    w->fn = fn;
    w->user = user;
    return WT_OK;
}

static int wt__pfd_room(wt_loop *loop, size_t n) {
    struct pollfd *np;
    if (n <= loop->pfd_cap) return WT_OK;
    np = (struct pollfd *)wt__realloc(&loop->alloc, loop->pfd, n * sizeof *np);
    if (!np) return wt__fail(&loop->log, WT_ERR_NOMEM, "loop: out of memory for %zu poll entries", n);
    loop->pfd = np;
    loop->pfd_cap = n;
    return WT_OK;
}

/* Delivers what poll() found ready. A callback may add, change or remove
   watches (its own or others'), so each round looks the next ready one up
   afresh: a removed watch gets nothing more, a new one waits for the next
   poll. */
static void wt__run_watches(wt_loop *loop) {
    size_t i;
    if (!loop->nwatches) return;
    if (!loop->watch_polled) {
        if (wt__pfd_room(loop, loop->nwatches) != WT_OK) return;
        for (i = 0; i < loop->nwatches; i++) {
            loop->pfd[i].fd = loop->watches[i].fd;
            loop->pfd[i].events = loop->watches[i].events;
            loop->pfd[i].revents = 0;
        }
        if (poll(loop->pfd, (nfds_t)loop->nwatches, 0) <= 0) return;
        for (i = 0; i < loop->nwatches; i++) loop->watches[i].revents = loop->pfd[i].revents;
    }
    loop->watch_polled = 0;
    for (;;) {
        wt__watch w;
        short rev = 0;
        for (i = 0; i < loop->nwatches; i++) {
            rev = (short)(loop->watches[i].revents & (loop->watches[i].events | POLLERR | POLLHUP | POLLNVAL));
            loop->watches[i].revents = 0;
            if (rev) break;
        }
        if (i == loop->nwatches) return;
        w = loop->watches[i];
        loop->in_handler++;
        w.fn(loop, w.fd, rev, w.user);
        loop->in_handler--;
        wt__loop_drain(loop);
        if ((rev & POLLNVAL) && wt__watch_find(loop, w.fd)) {
            /* poll() would report it at once forever: a busy loop */
            wt__log(&loop->log, WT_LOG_WARN, "wt_loop_watch: fd %d was closed while watched: watch removed", w.fd);
            (void)wt_loop_watch(loop, w.fd, 0, NULL, NULL);
        }
    }
}

/* ---------------------------------------------------------------- sockets */
static socklen_t wt__sa_len(const struct sockaddr *a) {
    return a->sa_family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6) : (socklen_t)sizeof(struct sockaddr_in);
}

static int wt__sa_is_wildcard(const struct sockaddr *a) {
    if (a->sa_family == AF_INET6) return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr);
    return a->sa_family == AF_INET && ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
}

static void wt__sock_buffers(wt__ep *ep, int fd) {
    int size = (int)ep->lim.udp_buffer;
#ifdef SO_RCVBUFFORCE
    /* root may go past net.core.rmem_max; others get what the kernel allows */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
#endif
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
#ifdef SO_SNDBUFFORCE
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
#endif
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

/* Sans-I/O: a socket that is only an address. A server's is the address
   it would bind; a client's comes from io.local_host/local_port. */
static int wt__sock_open_virtual(wt__ep *ep, const struct sockaddr *addr, socklen_t len, int bind_it) {
    wt__sock *s = &ep->socks[ep->nsocks];
    const char *host = ep->io.local_host ? ep->io.local_host : addr->sa_family == AF_INET6 ? "::1" : "127.0.0.1";
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->virt = 1;
    s->ep = ep;
    s->gso = 1;
    if (bind_it) {
        memcpy(&s->local, addr, len);
        s->local_len = len;
    } else {
        uint16_t port = htons((uint16_t)(ep->io.local_port ? ep->io.local_port : 50000));
        if (addr->sa_family == AF_INET6) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&s->local;
            a6->sin6_family = AF_INET6;
            a6->sin6_port = port;
            if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) goto bad;
            s->local_len = sizeof *a6;
        } else {
            struct sockaddr_in *a4 = (struct sockaddr_in *)&s->local;
            a4->sin_family = AF_INET;
            a4->sin_port = port;
            if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) goto bad;
            s->local_len = sizeof *a4;
        }
    }
    ep->nsocks++;
    return ep->nsocks - 1;
bad:
    return wt__fail(&ep->log, WT_ERR_INVALID, "io.local_host %s is not a numeric address of the server's family", host);
}

/* ECN (RFC 9000 13.4): read the two ECN bits of each datagram's TOS /
   traffic class byte; sends carry the codepoint ngtcp2 chose (set on the
   socket when it changes). Without the options ngtcp2 sees "not ECT" and
   stops marking after its validation fails: nothing breaks. */
static void wt__sock_ecn_open(wt__sock *s, int family) {
    int one = 1, r = -1;
#if defined(IPV6_RECVTCLASS)
    if (family == AF_INET6) {
        r = setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one);
#if defined(IP_RECVTOS)
        /* a dual-stack socket gets IPv4 datagrams too */
        setsockopt(s->fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof one);
#endif
    }
#endif
#if defined(IP_RECVTOS)
    if (family == AF_INET) r = setsockopt(s->fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof one);
#endif
    s->ecn = r == 0;
    s->tos = 0;
}

/* The ECN bits the next sends carry (0: not ECT). */
static void wt__sock_set_ecn(wt__sock *s, unsigned ecn) {
    int tos = (int)(ecn & 3);
    if (s->virt || tos == s->tos) return;
    s->tos = tos;
    if (s->local.ss_family == AF_INET6) {
#if defined(IPV6_TCLASS)
        setsockopt(s->fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
#endif
#if defined(IP_TOS)
        setsockopt(s->fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos); /* IPv4-mapped peers */
#endif
    } else {
#if defined(IP_TOS)
        setsockopt(s->fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
#endif
    }
}

static int wt__sock_open(wt__ep *ep, const struct sockaddr *addr, socklen_t len, int bind_it) {
    wt__sock *s;
    int fd, one = 1, zero = 0;
    if (ep->nsocks >= WT__MAX_SOCKS) return wt__fail(&ep->log, WT_ERR_LIMIT, "more than %d sockets", WT__MAX_SOCKS);
    if (ep->io.send) return wt__sock_open_virtual(ep, addr, len, bind_it);
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) return wt__fail(&ep->log, WT_ERR_IO, "socket: %s", strerror(errno));
#else
    fd = socket(addr->sa_family, SOCK_DGRAM, IPPROTO_UDP);
    if (fd < 0) return wt__fail(&ep->log, WT_ERR_IO, "socket: %s", strerror(errno));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
    if (addr->sa_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    /* no SO_REUSEADDR: on a UDP socket it lets a second server bind the
       same port without an error and take its packets */
    /* workers: one socket each on the same port (see WORKERS in wt.h) */
    if (bind_it && ep->nworkers > 1) {
#ifdef SO_REUSEPORT
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
            int e = errno;
            close(fd);
            return wt__fail(&ep->log, WT_ERR_IO, "SO_REUSEPORT: %s", strerror(e));
        }
#else
        close(fd);
        return wt__fail(&ep->log, WT_ERR_IO, "workers need SO_REUSEPORT, which this system lacks");
#endif
    }
#if defined(IP_MTU_DISCOVER) && defined(IP_PMTUDISC_DO)
    {
        /* no fragmentation: ngtcp2 probes the path MTU itself */
        int v = IP_PMTUDISC_DO;
        if (addr->sa_family == AF_INET) setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v);
        else setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v);
    }
#endif
    wt__sock_buffers(ep, fd);
    if (bind_it && bind(fd, addr, len) != 0) {
        int e = errno;
        close(fd);
        return wt__fail(&ep->log, WT_ERR_IO, "bind: %s", strerror(e));
    }
    s = &ep->socks[ep->nsocks];
    memset(s, 0, sizeof *s);
    s->fd = fd;
    /* with a key log on someone is capturing: tcpdump sees a GSO batch on
       loopback as one datagram, and Wireshark cannot split 1-RTT packets */
    s->gso = ep->keylog_fd >= 0 || !WT__HAVE_GSO ? 0 : -1;
    s->ep = ep;
#if WT__HAVE_GRO
    /* the kernel hands over trains of same-size datagrams in one read (and
       on loopback a GSO train is not split at all); where it has no UDP_GRO
       (before 5.0) every datagram comes alone, as without */
    if (ep->keylog_fd < 0 && setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0) s->gro = 1;
    else if (ep->keylog_fd < 0) wt__log(&ep->log, WT_LOG_DEBUG, "UDP GRO unavailable (%s)", strerror(errno));
#endif
    wt__sock_ecn_open(s, addr->sa_family);
    s->local_len = sizeof s->local;
    if (bind_it) {
        getsockname(fd, (struct sockaddr *)&s->local, &s->local_len);
        if (wt__sa_is_wildcard((struct sockaddr *)&s->local)) {
            /* a host with several addresses: each datagram says which one
               it came to, and the reply goes from there (else the kernel
               picks a source the client does not know, and drops) */
            int r = s->local.ss_family == AF_INET6
                        ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one)
                        : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
            if (r == 0) s->pktinfo = 1;
            else wt__log(&ep->log, WT_LOG_WARN, "%s: %s (replies go from the address the kernel picks)",
                         s->local.ss_family == AF_INET6 ? "IPV6_RECVPKTINFO" : "IP_PKTINFO", strerror(errno));
        }
    } else {
        /* a client socket: connect() to learn the local address, then
           disconnect so one socket can reach any server */
        struct sockaddr unspec;
        if (connect(fd, addr, len) == 0) getsockname(fd, (struct sockaddr *)&s->local, &s->local_len);
        memset(&unspec, 0, sizeof unspec);
        unspec.sa_family = AF_UNSPEC;
        connect(fd, &unspec, sizeof unspec);
    }
    ep->nsocks++;
    return ep->nsocks - 1;
}

static void wt__sock_close(wt__sock *s) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

/* Control messages of a send: UDP_SEGMENT for a GSO batch (seg), and the
   source address for a socket bound to a wildcard address (IP_PKTINFO or
   IPV6_PKTINFO). Fills cm and sets mh's control; both may be there. */
typedef union wt__sendctl {
    char buf[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
} wt__sendctl;

static void wt__send_ctl(const wt__sock *s, const struct sockaddr *local, size_t seg, struct msghdr *mh,
                         wt__sendctl *cm) {
    struct cmsghdr *c;
    size_t used = 0;
    int src = s->pktinfo && local && local->sa_family == s->local.ss_family && !wt__sa_is_wildcard(local);
    memset(cm, 0, sizeof *cm);
    mh->msg_control = cm->buf;
    mh->msg_controllen = sizeof cm->buf;
    c = CMSG_FIRSTHDR(mh);
#if WT__HAVE_GSO
    if (seg) {
        uint16_t seg16 = (uint16_t)seg;
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof seg16);
        memcpy(CMSG_DATA(c), &seg16, sizeof seg16);
        used += CMSG_SPACE(sizeof seg16);
        c = CMSG_NXTHDR(mh, c);
        src = src && c; /* cannot fail: cm has room for both */
    }
#else
    WT__UNUSED(seg);
#endif
    if (src && local->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)local;
        struct in6_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        pi.ipi6_addr = a6->sin6_addr;
        /* a link-local address is one of an interface: the one it came on */
        if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr)) pi.ipi6_ifindex = a6->sin6_scope_id;
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        used += CMSG_SPACE(sizeof pi);
    } else if (src) {
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        pi.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr;
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        used += CMSG_SPACE(sizeof pi);
    }
    mh->msg_controllen = used;
    if (!used) mh->msg_control = NULL;
}

/* n datagrams in one call where the system has sendmmsg/recvmmsg, else
   one call each; the count done, or -1 with errno when none was */
static int wt__send_many(int fd, wt__mmsg *m, size_t n) {
#if WT__HAVE_MMSG
    return sendmmsg(fd, m, (unsigned)n, 0);
#else
    size_t i;
    for (i = 0; i < n; i++) {
        ssize_t r = sendmsg(fd, &m[i].msg_hdr, 0);
        if (r < 0) return i ? (int)i : -1;
        m[i].msg_len = (unsigned)r;
    }
    return (int)n;
#endif
}

static int wt__recv_many(int fd, wt__mmsg *m, size_t n) {
#if WT__HAVE_MMSG
    return recvmmsg(fd, m, (unsigned)n, MSG_DONTWAIT, NULL);
#else
    size_t i;
    for (i = 0; i < n; i++) {
        ssize_t r = recvmsg(fd, &m[i].msg_hdr, MSG_DONTWAIT);
        if (r < 0) return i ? (int)i : -1;
        m[i].msg_len = (unsigned)r;
    }
    return (int)n;
#endif
}

#if WT__HAVE_GSO
static int wt__send_gso(wt__sock *s, const struct sockaddr *local, const struct sockaddr *to, socklen_t tolen,
                        const uint8_t *buf, size_t len, size_t seg) {
    struct msghdr mh;
    struct iovec iov;
    wt__sendctl cm;
    if (s->gso_fault) { /* tests: the kernel refuses this once */
        errno = s->gso_fault;
        s->gso_fault = 0;
        return -1;
    }
    memset(&mh, 0, sizeof mh);
    iov.iov_base = (void *)buf;
    iov.iov_len = len;
    mh.msg_name = (void *)to;
    mh.msg_namelen = tolen;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    wt__send_ctl(s, local, seg, &mh, &cm);
    return (int)sendmsg(s->fd, &mh, 0);
}
#endif

static int wt__sock_send(wt__sock *s, const struct sockaddr *local, const struct sockaddr *to, socklen_t tolen,
                  const uint8_t *buf, size_t len, size_t seg) {
    wt__mmsg msgs[WT__SEND_BATCH];
    struct iovec iov[WT__SEND_BATCH];
    wt__sendctl cm;
    size_t n = 0, off, done = 0;
    if (s->virt) {
        wt__ep *ep = s->ep;
        const void *from = local ? (const void *)local : (const void *)&s->local;
        size_t from_len = local ? wt__sa_len(local) : s->local_len;
        return ep->io.send(ep->io.user, from, from_len, to, tolen, buf, len, seg) < 0 ? WT_ERR_WOULDBLOCK : WT_OK;
    }
#if WT__HAVE_GSO
    if (len > seg && s->gso != 0) {
        if (wt__send_gso(s, local, to, tolen, buf, len, seg) >= 0) {
            s->gso = 1;
            return WT_OK;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s->want_write = 1;
            return WT_ERR_WOULDBLOCK;
        }
        if (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT || errno == EOPNOTSUPP) {
            /* the kernel or the device refuses it: off for good on this
               socket, and this batch goes again one datagram each */
            wt__log(&s->ep->log, WT_LOG_INFO, "UDP GSO unavailable (%s): sending datagram by datagram",
                    strerror(errno));
            s->gso = 0;
        } else {
            return wt__fail(&s->ep->log, WT_ERR_IO, "sendmsg: %s", strerror(errno));
        }
    }
#endif
    for (off = 0; off < len && n < WT__SEND_BATCH; off += seg, n++) {
        iov[n].iov_base = (void *)(buf + off);
        iov[n].iov_len = WT__MIN(seg, len - off);
        memset(&msgs[n], 0, sizeof msgs[n]);
        msgs[n].msg_hdr.msg_name = (void *)to;
        msgs[n].msg_hdr.msg_namelen = tolen;
        msgs[n].msg_hdr.msg_iov = &iov[n];
        msgs[n].msg_hdr.msg_iovlen = 1;
        /* one source for all: the kernel only reads the control bytes */
        if (n == 0) wt__send_ctl(s, local, 0, &msgs[0].msg_hdr, &cm);
        msgs[n].msg_hdr.msg_control = msgs[0].msg_hdr.msg_control;
        msgs[n].msg_hdr.msg_controllen = msgs[0].msg_hdr.msg_controllen;
    }
    while (done < n) {
        int r = wt__send_many(s->fd, msgs + done, n - done);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                /* the rest is lost; QUIC's loss recovery resends it */
                s->want_write = 1;
                return WT_ERR_WOULDBLOCK;
            }
            return wt__fail(&s->ep->log, WT_ERR_IO, WT__HAVE_MMSG ? "sendmmsg: %s" : "sendmsg: %s", strerror(errno));
        }
        done += (size_t)r;
    }
    return WT_OK;
}

/* What a datagram's control messages say: the address it came to, from
   its IP_PKTINFO / IPV6_PKTINFO (an IPv4 one on an IPv6 socket comes
   mapped) with the socket's port (*has_dst 0 if none); the GRO segment
   size (0: one datagram); the ECN bits. */
typedef struct wt__rxinfo {
    int has_dst;
    size_t seg;
    unsigned ecn;
} wt__rxinfo;

static void wt__recv_ctl(const wt__sock *s, struct msghdr *mh, struct sockaddr_storage *dst, wt__rxinfo *ri) {
    struct cmsghdr *c;
    uint16_t port = s->local.ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)&s->local)->sin6_port
                                                   : ((const struct sockaddr_in *)&s->local)->sin_port;
    memset(ri, 0, sizeof *ri);
    if (!mh->msg_controllen) return;
    for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO && s->local.ss_family == AF_INET6 &&
            s->pktinfo) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)dst;
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            memset(dst, 0, sizeof *dst);
            a6->sin6_family = AF_INET6;
            a6->sin6_port = port;
            a6->sin6_addr = pi.ipi6_addr;
            if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr)) a6->sin6_scope_id = (uint32_t)pi.ipi6_ifindex;
            ri->has_dst = 1;
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && s->local.ss_family == AF_INET &&
                   s->pktinfo) {
            struct sockaddr_in *a4 = (struct sockaddr_in *)dst;
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            memset(dst, 0, sizeof *dst);
            a4->sin_family = AF_INET;
            a4->sin_port = port;
            a4->sin_addr = pi.ipi_addr; /* the header's destination */
            ri->has_dst = 1;
        }
#if WT__HAVE_GRO
        else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int seg;
            memcpy(&seg, CMSG_DATA(c), sizeof seg);
            ri->seg = seg > 0 ? (size_t)seg : 0;
        }
#endif
#if defined(IP_TOS)
        else if (c->cmsg_level == IPPROTO_IP && (c->cmsg_type == IP_TOS
#if defined(IP_RECVTOS)
                                                 || c->cmsg_type == IP_RECVTOS
#endif
                                                 )) {
            /* Linux: one byte; some systems: an int */
            uint8_t tos = 0;
            if (c->cmsg_len >= CMSG_LEN(sizeof(int))) {
                int v;
                memcpy(&v, CMSG_DATA(c), sizeof v);
                tos = (uint8_t)v;
            } else if (c->cmsg_len >= CMSG_LEN(1)) {
                tos = *(const uint8_t *)CMSG_DATA(c);
            }
            ri->ecn = tos & 3;
        }
#endif
#if defined(IPV6_TCLASS)
        else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
            int v;
            memcpy(&v, CMSG_DATA(c), sizeof v);
            ri->ecn = (unsigned)v & 3;
        }
#endif
    }
}

/* Reads up to a few batches from one socket; fairness over throughput.
   A GRO read may hold a train of datagrams of one size (the last may be
   shorter): each goes to QUIC on its own, straight from the buffer. */
static void wt__sock_read(wt_loop *loop, wt__sock *s, uint64_t now) {
    wt__mmsg *msgs = loop->rxmeta->msgs;
    struct iovec *iov = loop->rxmeta->iov;
    struct sockaddr_storage *from = loop->rxmeta->from, dst;
    int round, i, n, nslots = WT__RECV_BATCH, want_ctl = s->pktinfo || s->gro || s->ecn;
    size_t slot = WT__PKT_BUF;
    if (s->gro) {
        if (loop->rxbuf_len < (size_t)WT__GRO_BATCH * WT__GRO_BUF) {
            /* grown here, between reads, never while a packet in it is
               being handled */
            uint8_t *big = (uint8_t *)wt__alloc(&loop->alloc, (size_t)WT__GRO_BATCH * WT__GRO_BUF);
#if WT__HAVE_GRO
            if (!big) {
                int zero = 0;
                wt__log(&loop->log, WT_LOG_WARN, "UDP GRO off: no memory for its receive buffer");
                setsockopt(s->fd, SOL_UDP, UDP_GRO, &zero, sizeof zero);
                s->gro = 0;
            }
#endif
            if (big) {
                wt__free(&loop->alloc, loop->rxbuf);
                loop->rxbuf = big;
                loop->rxbuf_len = (size_t)WT__GRO_BATCH * WT__GRO_BUF;
            }
        }
        if (s->gro) {
            nslots = WT__GRO_BATCH;
            slot = WT__GRO_BUF;
        }
    }
    for (round = 0; round < 8; round++) {
        for (i = 0; i < nslots; i++) {
            iov[i].iov_base = loop->rxbuf + (size_t)i * slot;
            iov[i].iov_len = slot;
            memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            if (want_ctl) {
                msgs[i].msg_hdr.msg_control = loop->rxmeta->ctl[i].buf;
                msgs[i].msg_hdr.msg_controllen = sizeof loop->rxmeta->ctl[i].buf;
            }
        }
        n = wt__recv_many(s->fd, msgs, (size_t)nslots);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                wt__log(&loop->log, WT_LOG_WARN, WT__HAVE_MMSG ? "recvmmsg: %s" : "recvmsg: %s", strerror(errno));
            return;
        }
        for (i = 0; i < n; i++) {
            wt__rxinfo ri;
            const uint8_t *p = (const uint8_t *)iov[i].iov_base;
            size_t left = msgs[i].msg_len, seg, k = 0;
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue; /* larger than any QUIC packet we allow */
            wt__recv_ctl(s, &msgs[i].msg_hdr, &dst, &ri);
            seg = ri.seg && ri.seg < left ? ri.seg : left;
            do {
                size_t one = WT__MIN(seg, left);
                wt__ep_on_packet(s->ep, s, ri.has_dst ? (struct sockaddr *)&dst : NULL, (struct sockaddr *)&from[i],
                                 msgs[i].msg_hdr.msg_namelen, p, one, ri.ecn, now);
                if (s->fd < 0) return; /* the endpoint closed from a callback */
                p += one;
                left -= one;
                k++;
            } while (left > 0);
            if (k > s->gro_max) s->gro_max = (uint32_t)k;
        }
        if (n < nslots) return;
    }
}

/* Waits up to timeout_ms for one endpoint's sockets alone and reads them. */
static void wt__ep_wait(wt__ep *ep, int timeout_ms) {
    struct pollfd pfd[WT__MAX_SOCKS];
    int i, n = 0;
    for (i = 0; i < ep->nsocks; i++)
        if (ep->socks[i].fd >= 0) {
            pfd[n].fd = ep->socks[i].fd;
            pfd[n].events = POLLIN;
            pfd[n++].revents = 0;
        }
    if (poll(pfd, (nfds_t)n, timeout_ms) <= 0) return;
    for (i = 0; i < ep->nsocks; i++)
        if (ep->socks[i].fd >= 0) wt__sock_read(ep->loop, &ep->socks[i], wt__loop_ns(ep->loop));
}

static int wt__ep_input(wt__ep *ep, const void *from, size_t fromlen, const uint8_t *pkt, size_t len) {
    const struct sockaddr *sa = (const struct sockaddr *)from;
    wt_loop *loop = ep->loop;
    int i;
    if (!ep->io.send) return wt__fail(&ep->log, WT_ERR_STATE, "input: only with io.send set (sans-I/O)");
    if (!from || !pkt || fromlen < sizeof(struct sockaddr_in) || fromlen > sizeof(struct sockaddr_storage))
        return wt__fail(&ep->log, WT_ERR_INVALID, "input: a packet and a sockaddr are needed");
    if (loop->processing || loop->in_handler) return wt__fail(&ep->log, WT_ERR_STATE, "input: not from a handler or timer");
    for (i = 0; i < ep->nsocks; i++)
        if (ep->socks[i].virt && ep->socks[i].local.ss_family == sa->sa_family) break;
    if (i == ep->nsocks) return wt__fail(&ep->log, WT_ERR_STATE, "input: no address of that family (not started?)");
    wt__loop_enter(loop);
    loop->processing = 1; /* handlers may run: destroy from them is refused */
    wt__ep_on_packet(ep, &ep->socks[i], NULL, sa, (socklen_t)fromlen, pkt, len, 0, wt__loop_ns(loop));
    loop->processing = 0;
    wt__loop_leave(loop);
    return WT_OK;
}

/* ---------------------------------------------------------------- the loop */
/* One entry of the poll set: into pfd (run_once) or fds + events (the
   API), whichever is given. */
static void wt__pollset_put(struct pollfd *pfd, int *fds, short *events, int n, int max, int fd, short ev) {
    if (n >= max) return;
    if (pfd) {
        pfd[n].fd = fd;
        pfd[n].events = ev;
        pfd[n].revents = 0;
    } else {
        fds[n] = fd;
        if (events) events[n] = ev;
    }
}

static int wt__pollset(wt_loop *loop, struct pollfd *pfd, int *fds, short *events, int max) {
    wt__ep *ep;
    int n = 0, i;
    /* first: the wakeup descriptor (wt_loop_wakeup, wt_loop_post, stops) */
    if (loop->wake_rd >= 0) wt__pollset_put(pfd, fds, events, n++, max, loop->wake_rd, POLLIN);
    for (ep = loop->eps; ep; ep = ep->next)
        for (i = 0; i < ep->nsocks; i++)
            if (ep->socks[i].fd >= 0)
                wt__pollset_put(pfd, fds, events, n++, max, ep->socks[i].fd,
                                (short)(POLLIN | (ep->socks[i].want_write ? POLLOUT : 0)));
    /* last: wt_loop_run_once finds their revents at the end of its set */
    for (i = 0; i < (int)loop->nwatches; i++)
        wt__pollset_put(pfd, fds, events, n++, max, loop->watches[i].fd, loop->watches[i].events);
    return n;
}

int wt_loop_pollfds(wt_loop *loop, int *fds, short *events, int max) {
    if (!loop) return wt__fail(NULL, WT_ERR_INVALID, "wt_loop_pollfds: no loop");
    if (!fds) max = 0;
    return wt__pollset(loop, NULL, fds, events, max);
}

int wt_loop_timeout(wt_loop *loop) {
    uint64_t now, next = UINT64_MAX;
    wt__ep *ep;
    size_t i;
    if (!loop) return -1;
    now = wt_loop_now_ms(loop);
    if (loop->stop || loop->woken || loop->evq_head || atomic_load(&loop->posts)) return 0;
    for (i = 0; i < loop->ntimers; i++) next = WT__MIN(next, loop->timers[i].due_ms);
    for (ep = loop->eps; ep; ep = ep->next) next = WT__MIN(next, wt__ep_expiry_ms(ep));
    if (next == UINT64_MAX) return -1;
    if (next <= now) return 0;
    return next - now > 3600000 ? 3600000 : (int)(next - now);
}

int wt_loop_process(wt_loop *loop) {
    wt__ep *ep, *next;
    uint64_t now;
    int i;
    if (!loop) return wt__fail(NULL, WT_ERR_INVALID, "wt_loop_process: no loop");
    if (loop->processing || loop->in_handler)
        return wt__fail(&loop->log, WT_ERR_STATE, "wt_loop_process called from a handler or timer");
    now = wt__loop_ns(loop);
    loop->processing = 1;
    wt__loop_enter(loop);
    wt__wake_drain(loop);
    for (ep = loop->eps; ep; ep = next) {
        next = ep->next;
        for (i = 0; i < ep->nsocks; i++) {
            ep->socks[i].want_write = 0;
            if (ep->socks[i].fd >= 0 && !ep->socks[i].poll_idle) wt__sock_read(loop, &ep->socks[i], now);
            ep->socks[i].poll_idle = 0;
        }
    }
    wt__run_watches(loop);
    wt__run_posts(loop);
    wt__run_timers(loop);
    /* an app's stop steps go before the service pass sends what they queued,
       and again after it, which may have freed the last connection */
    for (ep = loop->eps; ep; ep = next) {
        next = ep->next;
        if (ep->tick) ep->tick(ep);
    }
    for (ep = loop->eps; ep; ep = next) {
        next = ep->next;
        wt__ep_service(ep, wt__loop_ns(loop));
    }
    for (ep = loop->eps; ep; ep = next) {
        next = ep->next;
        if (ep->tick) ep->tick(ep);
    }
    wt__loop_leave(loop);
    loop->processing = 0;
    return WT_OK;
}

static int wt__loop_busy(wt_loop *loop, const char *what) {
    if (!loop || (!loop->processing && !loop->in_handler)) return 0;
    wt__log(&loop->log, WT_LOG_ERROR, "%s called from a handler or timer: ignored (stop the loop, then destroy)", what);
    return 1;
}

#define WT__POLL_STACK 65 /* the wakeup, sockets, watches: more go to loop->pfd */

int wt_loop_run_once(wt_loop *loop, int timeout_ms) {
    struct pollfd stack_pfd[WT__POLL_STACK], *pfd = stack_pfd;
    int n, t;
    size_t w;
    if (!loop) return wt__fail(NULL, WT_ERR_INVALID, "wt_loop_run_once: no loop");
    /* refused before the poll: what it learns (the idle flags) would stay
       behind for the next pass, and a handler must not block anyway */
    if (loop->processing || loop->in_handler)
        return wt__fail(&loop->log, WT_ERR_STATE, "wt_loop_run_once called from a handler or timer");
    n = wt__pollset(loop, pfd, NULL, NULL, WT__POLL_STACK);
    if (n > WT__POLL_STACK) {
        /* many sockets or watches: the set on the heap, grown once */
        if (wt__pfd_room(loop, (size_t)n) != WT_OK) return WT_ERR_NOMEM;
        pfd = loop->pfd;
        n = wt__pollset(loop, pfd, NULL, NULL, n);
    }
    t = wt_loop_timeout(loop);
    if (timeout_ms >= 0 && (t < 0 || timeout_ms < t)) t = timeout_ms;
    if (poll(pfd, (nfds_t)n, t) < 0) {
        if (errno != EINTR) return wt__fail(&loop->log, WT_ERR_IO, "poll: %s", strerror(errno));
    } else {
        /* what poll saw empty is not read (a syscall each, on every timer
           wakeup and every pass while sending); in wt__pollset's order */
        wt__ep *ep;
        int i = 0;
        if (loop->wake_rd >= 0) i++; /* wt__wake_drain goes by the flag */
        for (ep = loop->eps; ep; ep = ep->next) {
            int k;
            for (k = 0; k < ep->nsocks; k++) {
                wt__sock *s = &ep->socks[k];
                if (s->fd < 0) continue;
                s->poll_idle = i < n && pfd[i].fd == s->fd && !pfd[i].revents;
                i++;
            }
        }
        if (loop->nwatches) {
            /* the watches are the set's tail: process needs no second poll */
            for (w = 0; w < loop->nwatches; w++) loop->watches[w].revents = pfd[(size_t)n - loop->nwatches + w].revents;
            loop->watch_polled = 1;
        }
    }
    return wt_loop_process(loop);
}

int wt_loop_run(wt_loop *loop) {
    int rv = WT_OK;
    if (!loop) return wt__fail(NULL, WT_ERR_INVALID, "wt_loop_run: no loop");
    /* a stop that came before the run (a signal during setup) still counts */
    while (!loop->stop && rv == WT_OK) rv = wt_loop_run_once(loop, -1);
    loop->stop = 0;
    return rv;
}

/* The flag, then the wakeup: a poll() that had not started when the flag
   was tested sees the descriptor readable and returns at once. */
void wt_loop_stop(wt_loop *loop) {
    if (!loop) return;
    loop->stop = 1;
    wt_loop_wakeup(loop);
}
