/* demo_server.c - the demo a newcomer sees first (`make demo`): WebTransport
 * on https://127.0.0.1:4433/demo, and beside it, on http://127.0.0.1:8080/,
 * the page that talks to it (demo/index.html + demo/demo.js). Open that URL
 * in Chrome or Firefox: http://localhost and http://127.0.0.1 are secure
 * contexts, so the page may use WebTransport, and it pins the server's
 * fresh certificate by its SHA-256 (serverCertificateHashes), which it reads
 * from /config.json.
 *
 *   cc -std=c11 -O2 examples/demo_server.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o demo_server
 *   ./demo_server [--host H] [--port N] [--http-port N] [--root DIR] [--log L]
 *   ($P: cat build/deps/prefix after make deps; DIR holds index.html and
 *   demo.js, default "demo"; port 0 or -1: a free one)
 *
 * It is also the example of wt.h inside a program's own poll() loop: the
 * loop watches wt.h's descriptors (wt_loop_pollfds: its wakeup descriptor
 * and UDP sockets) beside its own TCP sockets, sleeps at most
 * wt_loop_timeout ms, calls wt_loop_process, and after wt_app_stop goes on
 * until wt_app_stopped says the stop has run to its end.
 *
 * What /demo speaks (demo/demo.js is the other side):
 *   datagram          echoed as is: the page times the round trip
 *   bidi stream       a command line, then:
 *     "echo\n" DATA     DATA back, then FIN (a stream round trip; <= 4 KiB)
 *     "down N\n"        N bytes back, then FIN (download; N <= 256 MiB)
 *     "up\n" DATA       DATA counted; at its FIN, "N\n" back (upload)
 *     "chat\n" TEXT     TEXT (<= 2 KiB) to every page, "ok\n" back
 *   uni stream to a page, one message each:
 *     "hello ID\n"      the page's member number, when it joins
 *     "members N\n"     how many pages are connected, when that changes
 *     "chat ID\nTEXT"   a chat message from member ID (the sender gets it too)
 * A stream that breaks these rules is reset with code 1. A browser page from
 * another origin than this server's names (localhost, 127.0.0.1, [::1],
 * --host) is refused with 403: other web sites cannot join the chat.
 *
 * The HTTP side is deliberately small: GET of three fixed paths ("/" or
 * "/index.html", "/demo.js", "/config.json"), nothing read from a path the
 * client chose, requests up to 4 KiB (431 past it), 405 for other methods,
 * 404 for other paths, 16 clients at once, each closed after one response
 * or 10 s. Ctrl-C stops the server gracefully (as wt_app_run would, see
 * wt_app_stop), a second Ctrl-C at once.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_MEMBERS 64
#define ECHO_MAX 4096           /* a stream round trip is timed, not a transfer */
#define CHAT_MAX 2048
#define DOWN_MAX (256u << 20)
#define HTTP_MAX_CLIENTS 16
#define HTTP_MAX_REQUEST 4096   /* request line + headers */
#define HTTP_MAX_FILE (1 << 20)
#define HTTP_LINGER_MS 2000     /* after the response: read what is left, then close */
#define MAX_FDS (HTTP_MAX_CLIENTS + 16)

static wt_app *app;
static volatile sig_atomic_t stopping; /* signals so far */

/* Ctrl-C: the graceful stop (the pages get DRAIN, then up to 2 s to
   leave, then the close); a second one: at once. Both are signal-safe. */
static void on_signal(int sig) {
    (void)sig;
    if (stopping++ == 0) wt_app_stop(app);
    else wt_app_stop_now(app);
}

/* ================================================================ the WebTransport side */
typedef struct member {
    wt_session *session;
    unsigned id;
} member;

static member members[MAX_MEMBERS];
static size_t nmembers;
static unsigned next_id = 1;

enum { CMD_LINE, CMD_ECHO, CMD_DOWN, CMD_UP, CMD_CHAT, CMD_DONE };

/* One page-opened bidi stream: its command, and what it needs. */
typedef struct demo_stream {
    int mode;
    char line[32];
    size_t line_len;
    uint64_t remaining; /* down: bytes still to send */
    uint64_t count;     /* up: bytes received */
    uint8_t buf[ECHO_MAX];
    size_t len;
} demo_stream;

static member *find_member(const wt_session *s) {
    size_t i;
    for (i = 0; i < nmembers; i++)
        if (members[i].session == s) return &members[i];
    return NULL;
}

/* One message on a new uni stream. A page that allows no more streams now
   misses it; a message that does not fit the send buffers is reset, never
   delivered cut short. */
static void send_uni(wt_session *s, const char *head, const void *body, size_t len) {
    wt_stream *st;
    size_t hl = strlen(head);
    if (wt_session_open_stream(s, 0, &st) != WT_OK) return;
    if (wt_stream_write(st, head, hl) != (int)hl || (len && wt_stream_write(st, body, len) != (int)len)) {
        wt_stream_reset(st, 1);
        return;
    }
    wt_stream_finish(st);
}

static void announce_members(void) {
    char msg[32];
    size_t i;
    if (stopping) return; /* every session is leaving */
    snprintf(msg, sizeof msg, "members %zu\n", nmembers);
    for (i = 0; i < nmembers; i++) send_uni(members[i].session, msg, NULL, 0);
}

static void join(wt_session *s) {
    char addr[64], msg[32];
    member *m;
    if (nmembers == MAX_MEMBERS) { /* two requests raced past the check */
        wt_session_close(s, 429, "room full");
        return;
    }
    m = &members[nmembers++];
    m->session = s;
    m->id = next_id++;
    wt_session_remote_addr(s, addr, sizeof addr);
    printf("page #%u joined from %s (%zu connected)\n", m->id, addr, nmembers);
    snprintf(msg, sizeof msg, "hello %u\n", m->id);
    send_uni(s, msg, NULL, 0);
    announce_members();
}

static void leave(wt_session *s) {
    member *m = find_member(s);
    if (!m) return; /* refused, never joined */
    printf("page #%u left (%zu connected)\n", m->id, nmembers - 1);
    *m = members[--nmembers];
    announce_members();
}

static void refuse_stream(wt_stream *st, demo_stream *d, const char *why) {
    printf("stream %lld refused: %s\n", (long long)wt_stream_id(st), why);
    d->mode = CMD_DONE;
    wt_stream_stop_sending(st, 1);
    wt_stream_reset(st, 1);
}

/* Writes download bytes until the send buffer is full; WRITABLE brings us back. */
static void pump_down(wt_stream *st, demo_stream *d) {
    static const uint8_t chunk[16384]; /* zeros: the page only counts them */
    while (d->remaining > 0) {
        size_t n = d->remaining < sizeof chunk ? (size_t)d->remaining : sizeof chunk;
        int w = wt_stream_write(st, chunk, n);
        if (w < 0) { /* the page went away: STREAM_CLOSED follows */
            d->mode = CMD_DONE;
            return;
        }
        d->remaining -= (uint64_t)w;
        if ((size_t)w < n) return;
    }
    wt_stream_finish(st);
    d->mode = CMD_DONE;
}

static void start_command(wt_stream *st, demo_stream *d) {
    char *end;
    unsigned long long n;
    if (strcmp(d->line, "echo") == 0) d->mode = CMD_ECHO;
    else if (strcmp(d->line, "up") == 0) d->mode = CMD_UP;
    else if (strcmp(d->line, "chat") == 0) d->mode = CMD_CHAT;
    else if (strncmp(d->line, "down ", 5) == 0) {
        errno = 0;
        n = strtoull(d->line + 5, &end, 10);
        if (errno || *end || end == d->line + 5 || n > DOWN_MAX) { refuse_stream(st, d, "bad download size"); return; }
        d->mode = CMD_DOWN;
        d->remaining = n;
        pump_down(st, d);
    } else refuse_stream(st, d, "unknown command");
}

static void chat(wt_session *from, demo_stream *d) {
    member *m = find_member(from);
    char head[32];
    size_t i;
    if (!m) return;
    printf("chat from page #%u: %zu bytes to %zu pages\n", m->id, d->len, nmembers);
    snprintf(head, sizeof head, "chat %u\n", m->id);
    for (i = 0; i < nmembers; i++) send_uni(members[i].session, head, d->buf, d->len);
}

static void on_stream_data(wt_event *ev) {
    wt_stream *st = ev->stream;
    demo_stream *d = wt_stream_user(st);
    const uint8_t *p = ev->data;
    size_t n = ev->len;
    char reply[32];
    if (!d) return;
    while (d->mode == CMD_LINE && n > 0) {
        char c = (char)*p++;
        n--;
        if (c == '\n') {
            d->line[d->line_len] = '\0';
            start_command(st, d);
        } else if (d->line_len + 1 >= sizeof d->line) { refuse_stream(st, d, "command line too long"); return; }
        else d->line[d->line_len++] = c;
    }
    switch (d->mode) {
    case CMD_LINE:
        if (ev->fin) refuse_stream(st, d, "no command");
        break;
    case CMD_ECHO:
    case CMD_CHAT:
        if (n > (d->mode == CMD_ECHO ? ECHO_MAX : CHAT_MAX) - d->len) { refuse_stream(st, d, "too long"); return; }
        if (n) memcpy(d->buf + d->len, p, n); /* a FIN alone has no data */
        d->len += n;
        if (!ev->fin) break;
        if (d->mode == CMD_ECHO) wt_stream_write(st, d->buf, d->len); /* 4 KiB fits a fresh stream */
        else {
            chat(ev->session, d);
            wt_stream_write(st, "ok\n", 3);
        }
        wt_stream_finish(st);
        d->mode = CMD_DONE;
        break;
    case CMD_UP:
        d->count += n;
        if (!ev->fin) break;
        snprintf(reply, sizeof reply, "%llu\n", (unsigned long long)d->count);
        wt_stream_write(st, reply, strlen(reply));
        wt_stream_finish(st);
        d->mode = CMD_DONE;
        break;
    default: /* down, done: the page has nothing more to say */
        break;
    }
}

/* Browsers send the page's origin: a page this server served comes from
   http://localhost, 127.0.0.1, [::1] or --host (any port: a forwarded one
   may differ). Any other web site open in the browser is refused, so it
   cannot join the chat. Programs send none (and could send any). */
static const char *own_host = ""; /* --host, [bracketed] if IPv6 */
static int origin_allowed(const char *origin) {
    static const char *const names[] = {"localhost", "127.0.0.1", "[::1]"};
    const char *h = origin + 7, *rest;
    size_t i, n;
    if (!*origin) return 1;
    if (strncmp(origin, "http://", 7) != 0) return 0;
    n = *h == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
    for (rest = h + n, i = 0; rest[i]; i++) /* then nothing, or ":port" */
        if (i == 0 ? rest[i] != ':' : rest[i] < '0' || rest[i] > '9') return 0;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncmp(h, names[i], n) == 0) return 1;
    return strlen(own_host) == n && strncmp(h, own_host, n) == 0;
}

static void on_event(wt_event *ev) {
    demo_stream *d;
    switch (ev->type) {
    case WT_EV_SESSION_REQUEST:
        if (!origin_allowed(wt_session_origin(ev->session))) {
            printf("refused a page from %s: only pages from this server may join\n", wt_session_origin(ev->session));
            wt_session_reject(ev->session, 403);
        } else if (nmembers == MAX_MEMBERS) wt_session_reject(ev->session, 429);
        break;
    case WT_EV_SESSION_OPEN:
        join(ev->session);
        break;
    case WT_EV_SESSION_CLOSED:
        leave(ev->session);
        break;
    case WT_EV_DATAGRAM: /* a full queue drops it: the page counts it lost */
        wt_session_send_datagram(ev->session, ev->data, ev->len);
        break;
    case WT_EV_STREAM_OPEN:
        if (!wt_stream_is_bidi(ev->stream)) { /* pages only open bidi streams */
            wt_stream_stop_sending(ev->stream, 1);
            break;
        }
        if (!(d = calloc(1, sizeof *d))) {
            wt_stream_reset(ev->stream, 1);
            wt_stream_stop_sending(ev->stream, 1);
            break;
        }
        wt_stream_set_user(ev->stream, d);
        break;
    case WT_EV_STREAM_DATA:
        on_stream_data(ev);
        break;
    case WT_EV_STREAM_WRITABLE:
        if ((d = wt_stream_user(ev->stream)) && d->mode == CMD_DOWN) pump_down(ev->stream, d);
        break;
    case WT_EV_STREAM_CLOSED:
        free(wt_stream_user(ev->stream));
        break;
    default:
        break;
    }
    fflush(stdout);
}

/* ================================================================ the HTTP side */
enum { HTTP_FREE, HTTP_READING, HTTP_WRITING, HTTP_LINGERING };

typedef struct http_client {
    int fd;
    int state;
    uint64_t deadline_ms;
    char req[HTTP_MAX_REQUEST];
    size_t req_len;
    char *out;
    size_t out_len, out_off;
} http_client;

static struct {
    int fd;
    const char *root;
    char config[256]; /* /config.json */
    uint32_t timeout_ms;
    http_client clients[HTTP_MAX_CLIENTS];
} http;

static void http_close(http_client *c) {
    close(c->fd);
    free(c->out);
    c->out = NULL;
    c->state = HTTP_FREE;
}

/* Queues one response; the connection closes after it (Connection: close). */
static void http_respond(http_client *c, uint64_t now, int status, const char *ctype, const char *body, size_t len,
                         int send_body) {
    const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found"
                       : status == 405 ? "Method Not Allowed" : status == 431 ? "Request Header Fields Too Large"
                       : "Internal Server Error";
    size_t cap = 1024 + len;
    int n;
    if (!(c->out = malloc(cap))) { http_close(c); return; }
    n = snprintf(c->out, cap,
                 "HTTP/1.1 %d %s\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %zu\r\n"
                 "%s"
                 "Cache-Control: no-store\r\n"
                 "X-Content-Type-Options: nosniff\r\n"
                 "Referrer-Policy: no-referrer\r\n"
                 "Content-Security-Policy: default-src 'self'; connect-src 'self' https:; "
                 "style-src 'self' 'unsafe-inline'; img-src 'self' data:\r\n"
                 "Connection: close\r\n\r\n",
                 status, reason, ctype, len, status == 405 ? "Allow: GET\r\n" : "");
    if (n < 0 || (size_t)n >= cap - len) { http_close(c); return; }
    if (send_body) memcpy(c->out + n, body, len);
    c->out_len = (size_t)n + (send_body ? len : 0);
    c->out_off = 0;
    c->state = HTTP_WRITING;
    c->deadline_ms = now + http.timeout_ms;
}

static void http_error(http_client *c, uint64_t now, int status, int send_body) {
    char body[64];
    int n = snprintf(body, sizeof body, "%d\n", status);
    http_respond(c, now, status, "text/plain; charset=utf-8", body, (size_t)n, send_body);
}

/* A file of the page: read whole on every request, so edits show on reload. */
static void http_file(http_client *c, uint64_t now, const char *name, const char *ctype) {
    char path[4096];
    struct stat sb;
    char *body;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", http.root, name);
    if (!(f = fopen(path, "rb")) || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > HTTP_MAX_FILE ||
        !(body = malloc((size_t)sb.st_size + 1))) {
        fprintf(stderr, "demo: cannot serve %s: %s\n", path, f ? "not a readable file under 1 MiB" : strerror(errno));
        if (f) fclose(f);
        { http_error(c, now, 500, 1); return; }
    }
    if (fread(body, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        fprintf(stderr, "demo: cannot read %s\n", path);
        http_error(c, now, 500, 1);
    } else http_respond(c, now, 200, ctype, body, (size_t)sb.st_size, 1);
    free(body);
    fclose(f);
}

static int span_is(const char *p, size_t n, const char *s) { return strlen(s) == n && memcmp(p, s, n) == 0; }

/* The request head is complete (head_len bytes up to the blank line). */
static void http_request(http_client *c, uint64_t now, size_t head_len) {
    const char *line = c->req, *eol = memchr(c->req, '\n', head_len), *sp1, *sp2, *end, *q;
    size_t path_len;
    if (memchr(c->req, '\0', head_len)) { http_error(c, now, 400, 1); return; }
    end = eol > line && eol[-1] == '\r' ? eol - 1 : eol;
    sp1 = memchr(line, ' ', (size_t)(end - line));
    sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1 ||
        !(span_is(sp2 + 1, (size_t)(end - sp2 - 1), "HTTP/1.1") || span_is(sp2 + 1, (size_t)(end - sp2 - 1), "HTTP/1.0")))
        { http_error(c, now, 400, 1); return; }
    if (!span_is(line, (size_t)(sp1 - line), "GET")) /* a HEAD answer has no body */
        { http_error(c, now, 405, !span_is(line, (size_t)(sp1 - line), "HEAD")); return; }
    q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
    path_len = (size_t)((q ? q : sp2) - (sp1 + 1));
    /* only these paths: nothing the client sends names a file */
    if (span_is(sp1 + 1, path_len, "/") || span_is(sp1 + 1, path_len, "/index.html"))
        http_file(c, now, "index.html", "text/html; charset=utf-8");
    else if (span_is(sp1 + 1, path_len, "/demo.js")) http_file(c, now, "demo.js", "text/javascript; charset=utf-8");
    else if (span_is(sp1 + 1, path_len, "/config.json"))
        http_respond(c, now, 200, "application/json", http.config, strlen(http.config), 1);
    else http_error(c, now, 404, 1);
}

static void http_readable(http_client *c, uint64_t now) {
    char scratch[4096];
    ssize_t r;
    char *blank;
    if (c->state == HTTP_LINGERING) { /* what the client still sends is dropped */
        r = recv(c->fd, scratch, sizeof scratch, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) http_close(c);
        return;
    }
    if (c->state != HTTP_READING) return;
    r = recv(c->fd, c->req + c->req_len, sizeof c->req - c->req_len, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) { http_close(c); return; }
    if (r < 0) return;
    c->req_len += (size_t)r;
    if ((blank = memmem(c->req, c->req_len, "\r\n\r\n", 4)) != NULL) http_request(c, now, (size_t)(blank - c->req) + 4);
    else if ((blank = memmem(c->req, c->req_len, "\n\n", 2)) != NULL) http_request(c, now, (size_t)(blank - c->req) + 2);
    else if (c->req_len == sizeof c->req) http_error(c, now, 431, 1);
}

static void http_writable(http_client *c, uint64_t now) {
    ssize_t w;
    if (c->state != HTTP_WRITING) return;
    w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EINTR) { http_close(c); return; }
    if (w > 0) c->out_off += (size_t)w;
    if (c->out_off < c->out_len) return;
    /* all sent: FIN, then read until the client closes, so that unread
       request bytes do not turn our close into a reset that loses the answer */
    shutdown(c->fd, SHUT_WR);
    c->state = HTTP_LINGERING;
    c->deadline_ms = now + HTTP_LINGER_MS;
}

static void http_accept(uint64_t now) {
    int i, fd;
    for (i = 0; i < HTTP_MAX_CLIENTS; i++)
        if (http.clients[i].state == HTTP_FREE) break;
    if (i == HTTP_MAX_CLIENTS) return; /* not polled when full; a race */
    fd = accept4(http.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    memset(&http.clients[i], 0, sizeof http.clients[i]);
    http.clients[i].fd = fd;
    http.clients[i].state = HTTP_READING;
    http.clients[i].deadline_ms = now + http.timeout_ms;
}

static int http_listen(const char *host, int port) {
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    int fd, one = 1, rv;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", port < 0 ? 0 : port);
    if ((rv = getaddrinfo(host, portstr, &hints, &res)) != 0) {
        fprintf(stderr, "demo: cannot resolve %s: %s\n", host, gai_strerror(rv));
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        fprintf(stderr, "demo: cannot listen on %s port %d (tcp): %s\n", host, port, strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int bound_port(int fd) {
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) return -1;
    return ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port : ((struct sockaddr_in6 *)&a)->sin6_port);
}

/* ================================================================ setup and the loop */
/* A fresh certificate for this run, in a directory of its own that is gone
   again once the app has loaded it. */
static wt_app *create_app(const char *host, int port, wt_log_level level, char hash[65]) {
    char dir[] = "/tmp/wt-demo-XXXXXX", crt[64], key[64];
    const char *alt[] = {host, NULL};
    wt_cert_config cc = {0};
    wt_app_config cfg = {0};
    uint8_t h[32];
    wt_app *app = NULL;
    if (!mkdtemp(dir)) {
        perror("demo: mkdtemp");
        return NULL;
    }
    snprintf(crt, sizeof crt, "%s/localhost.crt", dir);
    snprintf(key, sizeof key, "%s/localhost.key", dir);
    cc.host = "localhost"; /* also names 127.0.0.1 and ::1 */
    cc.alt_names = strcmp(host, "127.0.0.1") && strcmp(host, "::1") && strcmp(host, "::") && strcmp(host, "0.0.0.0") &&
                           strcmp(host, "localhost") ? alt : NULL;
    cc.cert_file = crt;
    cc.key_file = key;
    if (wt_cert_generate(&cc) == WT_OK && wt_cert_sha256(crt, h) == WT_OK) {
        wt_hex(h, 32, hash);
        cfg.host = host;
        cfg.port = port;
        cfg.cert_file = crt;
        cfg.key_file = key;
        cfg.log.level = level;
        app = wt_app_create(&cfg);
    }
    unlink(crt);
    unlink(key);
    rmdir(dir);
    return app;
}

/* A port number, or 0 or -1 for a free one; -2 if it is not one. */
static int parse_port(const char *v) {
    char *end;
    long p = strtol(v, &end, 10);
    if (!*v || *end || p < -1 || p > 65535) return -2;
    return p == 0 ? -1 : (int)p;
}

static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--host H] [--port N] [--http-port N] [--root DIR] [--log L]\n"
            "  --host       address for both servers (127.0.0.1)\n"
            "  --port       WebTransport (UDP) port (4433; 0 or -1: a free one)\n"
            "  --http-port  the page's HTTP (TCP) port (8080; 0 or -1: a free one)\n"
            "  --root       directory with index.html and demo.js (demo)\n"
            "  --log        error, warn, info or debug: what wt.h logs to stderr (warn)\n",
            argv0);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 4433, http_port = 8080, i, n, nwt, rv = 0, wildcard;
    char hash[65], url_host[80];
    struct pollfd pfd[MAX_FDS];
    int fds[MAX_FDS];
    short evs[MAX_FDS];
    http_client *owner[MAX_FDS];
    struct sigaction sa;
    wt_loop *loop;
    static const char *const levels[] = {"none", "error", "warn", "info", "debug"};
    int level = WT_LOG_WARN;

    http.root = "demo";
    http.timeout_ms = 10000;
    for (i = 1; i < argc; i += 2) { /* every flag takes a value */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(argv[0]), 0;
        if (!v) return usage(argv[0]), 2;
        if (!strcmp(argv[i], "--host")) host = v;
        else if (!strcmp(argv[i], "--port")) port = parse_port(v);
        else if (!strcmp(argv[i], "--http-port")) http_port = parse_port(v);
        else if (!strcmp(argv[i], "--root")) http.root = v;
        else if (!strcmp(argv[i], "--log")) {
            for (level = WT_LOG_ERROR; level <= WT_LOG_DEBUG && strcmp(v, levels[level]); level++) {}
            if (level > WT_LOG_DEBUG) return usage(argv[0]), 2;
        } else if (!strcmp(argv[i], "--http-timeout-ms")) http.timeout_ms = (uint32_t)strtoul(v, NULL, 10); /* tests */
        else return usage(argv[0]), 2;
    }
    if (port == -2 || http_port == -2 || http.timeout_ms == 0) return usage(argv[0]), 2;

    if (!(app = create_app(host, port, (wt_log_level)level, hash))) return 1;
    wt_app_route(app, "/demo", on_event, NULL);
    if (wt_app_start(app) != WT_OK || (http.fd = http_listen(host, http_port)) < 0) {
        fprintf(stderr, "demo: other ports: --port N --http-port N (make demo DEMO_ARGS=\"--port N --http-port N\")\n");
        wt_app_destroy(app);
        return 1;
    }
    loop = wt_app_loop(app);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* the page must come from localhost or 127.0.0.1 to be a secure context */
    wildcard = !strcmp(host, "0.0.0.0") || !strcmp(host, "::");
    snprintf(url_host, sizeof url_host, strchr(host, ':') && !wildcard ? "[%s]" : "%s", wildcard ? "localhost" : host);
    own_host = url_host;
    /* host: where the WebTransport socket listens, so that a page opened as
       http://localhost/ does not try ::1 against a server on 127.0.0.1 ("":
       every address, the page's own host will do) */
    snprintf(http.config, sizeof http.config, "{\"host\": \"%s\", \"port\": %d, \"path\": \"/demo\", \"sha256\": \"%s\"}\n",
             wildcard || strlen(url_host) > 64 || strpbrk(url_host, "\"\\") ? "" : url_host, wt_app_port(app), hash);
    printf("demo: WebTransport on https://%s:%d/demo, certificate sha256 %s\n", url_host, wt_app_port(app), hash);
    printf("demo: open http://%s:%d/ in Chrome or Firefox (Ctrl-C stops)\n", url_host, bound_port(http.fd));
    fflush(stdout);

    /* the embedding loop: wt.h's descriptors and ours in one poll(), until
       a stop has run to its end */
    while (!wt_app_stopped(app)) {
        uint64_t now = wt_loop_now_ms(loop);
        int timeout = wt_loop_timeout(loop), busy = 0;
        nwt = wt_loop_pollfds(loop, fds, evs, MAX_FDS - HTTP_MAX_CLIENTS - 1);
        if (nwt < 0 || nwt > MAX_FDS - HTTP_MAX_CLIENTS - 1) {
            fprintf(stderr, "demo: wt_loop_pollfds: %d sockets\n", nwt);
            rv = 1;
            break;
        }
        for (n = 0; n < nwt; n++) {
            pfd[n] = (struct pollfd){.fd = fds[n], .events = evs[n]};
            owner[n] = NULL;
        }
        for (i = 0; i < HTTP_MAX_CLIENTS; i++) {
            http_client *c = &http.clients[i];
            if (c->state == HTTP_FREE) continue;
            busy++;
            if (now >= c->deadline_ms) { /* too slow to send, to read, or to close */
                http_close(c);
                busy--;
                continue;
            }
            if (timeout < 0 || c->deadline_ms - now < (uint64_t)timeout) timeout = (int)(c->deadline_ms - now);
            pfd[n] = (struct pollfd){.fd = c->fd, .events = c->state == HTTP_WRITING ? POLLOUT : POLLIN};
            owner[n++] = c;
        }
        if (stopping && http.fd >= 0) { /* no new pages while stopping */
            close(http.fd);
            http.fd = -1;
        }
        if (busy < HTTP_MAX_CLIENTS && http.fd >= 0) { /* full: new clients wait in the backlog */
            pfd[n] = (struct pollfd){.fd = http.fd, .events = POLLIN};
            owner[n++] = NULL;
        }
        if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) {
            perror("demo: poll");
            rv = 1;
            break;
        }
        now = wt_loop_now_ms(loop);
        for (i = nwt; i < n; i++) {
            if (!pfd[i].revents) continue;
            if (!owner[i]) http_accept(now);
            else if ((pfd[i].revents & (POLLERR | POLLNVAL)) ||
                     (owner[i]->state == HTTP_WRITING && !(pfd[i].revents & POLLOUT)))
                http_close(owner[i]); /* the client went away */
            else if (owner[i]->state == HTTP_WRITING) http_writable(owner[i], now);
            else http_readable(owner[i], now);
        }
        wt_loop_process(loop); /* reads wt.h's sockets, runs its timers, sends */
    }
    stopping++;
    printf("demo: stopped\n");
    for (i = 0; i < HTTP_MAX_CLIENTS; i++)
        if (http.clients[i].state != HTTP_FREE) http_close(&http.clients[i]);
    if (http.fd >= 0) close(http.fd);
    wt_app_destroy(app); /* after an error: closes what is still open */
    return rv;
}
