/* wtcat.c - netcat for WebTransport: stdin to a session, what arrives to stdout.
 *
 *   cc -std=c11 -O2 examples/wtcat.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o wtcat
 *                                        ($P: cat build/deps/prefix after make deps)
 *
 *   wtcat [-d] [-w MS] [-q] (--pin HEX | --ca FILE | --insecure) URL
 *   wtcat -l [-d] [-q] [--host 127.0.0.1] [--port 4433] [--cert F --key F]
 *
 * Connecting, wtcat opens a session to URL and one bidirectional stream;
 * stdin goes to the stream (FIN at end of input) and the stream's answer
 * goes to stdout, as do the streams the server opens. When the stream is
 * over both ways, wtcat closes the session (code 0). With -d it sends
 * datagrams instead: one per line of stdin (without the newline), and
 * prints each datagram that arrives as a line; at end of input it waits MS
 * milliseconds (-w, default 1000) for the last answers, then closes.
 *
 *   echo hello | wtcat --pin <hash> https://127.0.0.1:4433/      (echo_server)
 *   wtcat --insecure https://127.0.0.1:4433/api/v1/status </dev/null
 *
 * Listening (-l), wtcat serves one session on any path (others get 503
 * while it lasts): stdin goes to the first bidirectional stream the client
 * opens (with -d: datagrams, as above), everything that arrives to stdout,
 * and wtcat exits when the client closes the session. Without --cert/--key
 * it makes a development certificate; its SHA-256 is printed on stderr
 * with the address: `wtcat -l --port 4433` and, elsewhere,
 * `wtcat --pin <that hash> https://127.0.0.1:4433/` is a chat over QUIC.
 *
 * The server is verified by exactly one of: --pin (its certificate's
 * SHA-256, as a browser's serverCertificateHashes), --ca (PEM CA file, the
 * URL's host must match) or, knowingly, --insecure (nothing verified).
 *
 * Exit codes: 0 the session ended cleanly (code 0), 1 usage, 2 could not
 * connect (address, TLS, certificate, timeout), 3 refused by the server
 * (its HTTP status on stderr), 4 the session ended with an error (a
 * non-zero code, a reset stream, the connection lost), 5 stdin or stdout
 * failed.
 *
 * The library's loop has no place for a descriptor of ours, so wtcat runs
 * the loop itself, as any program embedding wt.h would: poll() over
 * wt_loop_pollfds plus stdin, at most wt_loop_timeout ms, then
 * wt_loop_process. stdin is only read while the stream can take more
 * (WT_EV_STREAM_WRITABLE says when) or the datagram queue has room
 * (WT_EV_DATAGRAM_WRITABLE), so a slow peer slows the reader.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_CONNECT = 2, EXIT_REFUSED = 3, EXIT_CLOSED = 4, EXIT_IO = 5 };

#define IN_MAX 65536 /* stdin bytes held at a time */
#define MAX_FDS 16

static struct {
    int datagrams, quiet, listening;
    uint32_t linger_ms;
    wt_loop *loop;
    wt_session *session; /* the session, once it exists (until its CLOSED) */
    wt_stream *stream;   /* stdin's stream, once it exists (until its CLOSED) */
    int opened;          /* the session was open at some point */
    int closing;         /* we closed it */
    int stream_reset, stream_over; /* what happened to stdin's stream */
    int done, exit_code;
    int in_eof, finished; /* stdin ended; FIN queued */
    int dgram_blocked;    /* the datagram queue is full until WT_EV_DATAGRAM_WRITABLE */
    uint8_t in[IN_MAX];
    size_t in_len, in_off; /* held stdin bytes: in[in_off..in_len) not yet taken */
    int64_t linger_timer;
} g;

/* A line on stderr unless -q. */
static void status(const char *fmt, ...) {
    va_list ap;
    if (g.quiet) return;
    va_start(ap, fmt);
    fprintf(stderr, "wtcat: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* The exit code: the gravest reason seen wins. */
static void verdict(int exit_code) {
    if (exit_code > g.exit_code) g.exit_code = exit_code;
}

/* Ends the session with our verdict; the CLOSED event ends the program. */
static void finish(int exit_code, uint32_t code, const char *reason) {
    verdict(exit_code);
    if (!g.session) g.done = 1;
    else if (!g.closing) (void)wt_session_close(g.session, code, reason); /* CLOSED follows either way */
    g.closing = 1;
}

static void write_out(const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            status("stdout: %s", strerror(errno));
            finish(EXIT_IO, 1, "output failed");
            return;
        }
        p += w, n -= (size_t)w;
    }
}

/* ---------------------------------------------------------------- stdin -> session */
/* Stream mode: hand the held bytes to the stream; FIN once stdin ended. */
static void flush_stream(void) {
    int n;
    if (!g.stream || g.finished) return;
    if (g.in_off < g.in_len) {
        n = wt_stream_write(g.stream, g.in + g.in_off, g.in_len - g.in_off);
        if (n < 0) {
            finish(EXIT_CLOSED, 1, "write failed");
            return;
        }
        g.in_off += (size_t)n; /* a short count: WT_EV_STREAM_WRITABLE comes */
        if (g.in_off < g.in_len) return;
    }
    g.in_off = g.in_len = 0;
    if (g.in_eof) {
        g.finished = 1;
        if (wt_stream_finish(g.stream) != WT_OK) finish(EXIT_CLOSED, 1, "finish failed");
    }
}

static void linger_over(wt_loop *loop, void *user) {
    (void)loop, (void)user;
    g.linger_timer = 0;
    finish(EXIT_OK, 0, NULL);
}

/* Datagram mode: one datagram per complete line (the last line may lack its
   newline). A full queue keeps the line until WT_EV_DATAGRAM_WRITABLE. */
static void flush_datagrams(void) {
    while (g.session && g.in_off < g.in_len) {
        uint8_t *start = g.in + g.in_off, *nl = memchr(start, '\n', g.in_len - g.in_off);
        size_t len = nl ? (size_t)(nl - start) : g.in_len - g.in_off;
        int rv;
        /* a partial line waits for its rest, unless it fills the whole buffer */
        if (!nl && !g.in_eof && (g.in_off > 0 || g.in_len < IN_MAX)) break;
        rv = wt_session_send_datagram(g.session, start, len);
        if (rv == WT_ERR_WOULDBLOCK) {
            g.dgram_blocked = 1;
            return;
        }
        if (rv != WT_OK) status("datagram not sent: %s", wt_strerror(rv));
        g.in_off += len + (nl ? 1 : 0);
    }
    if (g.in_off == g.in_len) g.in_off = g.in_len = 0;
    else if (g.in_off > 0) { /* keep the partial line at the front */
        memmove(g.in, g.in + g.in_off, g.in_len - g.in_off);
        g.in_len -= g.in_off;
        g.in_off = 0;
    }
    if (g.in_eof && g.in_len == 0 && !g.listening && !g.linger_timer && g.session) {
        g.linger_timer = wt_loop_timer(g.loop, g.linger_ms, linger_over, NULL);
        if (g.linger_timer < 0) finish(EXIT_OK, 0, NULL);
    }
}

static int want_stdin(void) {
    if (g.in_eof || g.done || !g.session || !g.opened) return 0;
    if (g.datagrams) return g.in_len < IN_MAX && !g.dgram_blocked;
    return g.stream && !g.finished && g.in_len == 0;
}

static void read_stdin(void) {
    ssize_t n = read(0, g.in + g.in_len, IN_MAX - g.in_len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n < 0) {
        status("stdin: %s", strerror(errno));
        finish(EXIT_IO, 1, "input failed");
        return;
    }
    if (n == 0) g.in_eof = 1;
    g.in_len += (size_t)n;
    if (g.datagrams) flush_datagrams();
    else flush_stream();
}

/* ---------------------------------------------------------------- session events */
static void on_closed(wt_event *ev) {
    if (ev->error == WT_ERR_REFUSED) {
        status("refused by the server with HTTP status %d", ev->status);
        verdict(EXIT_REFUSED);
    } else if (ev->error != WT_OK) {
        status("%s: %s", g.opened ? "session lost" : "cannot connect", wt_strerror(ev->error));
        verdict(g.opened ? EXIT_CLOSED : EXIT_CONNECT);
    } else if (ev->code != 0) {
        status("session closed with code %u: %.*s", ev->code, (int)ev->reason_len, ev->reason);
        verdict(EXIT_CLOSED);
    }
    if (g.linger_timer > 0) (void)wt_loop_timer_cancel(g.loop, g.linger_timer);
    g.linger_timer = 0;
    g.session = NULL;
    g.done = 1;
}

static void on_event(wt_event *ev) {
    switch (ev->type) {
    case WT_EV_SESSION_REQUEST: /* listening: one session at a time */
        if (g.session) (void)wt_session_reject(ev->session, 503);
        else g.session = ev->session;
        break;
    case WT_EV_SESSION_OPEN:
        g.opened = 1;
        status("session open: %s", wt_session_path(ev->session));
        if (!g.listening && !g.datagrams) {
            int rv = wt_session_open_stream(ev->session, 1, &g.stream);
            if (rv != WT_OK) finish(EXIT_CLOSED, 1, "no stream");
        }
        break;
    case WT_EV_STREAM_OPEN: /* the listener's stdin goes to the first bidi stream */
        if (g.listening && !g.datagrams && !g.stream && wt_stream_is_bidi(ev->stream)) {
            g.stream = ev->stream;
            flush_stream(); /* stdin may have ended already */
        }
        break;
    case WT_EV_STREAM_DATA:
        write_out(ev->data, ev->len);
        break;
    case WT_EV_STREAM_WRITABLE:
        if (ev->stream == g.stream) flush_stream();
        break;
    case WT_EV_STREAM_RESET: /* judged after the batch: a closing session resets it too */
        if (ev->stream == g.stream) g.stream_reset = 1;
        break;
    case WT_EV_STREAM_CLOSED:
        if (ev->stream != g.stream) break;
        g.stream = NULL;
        g.stream_over = 1;
        break;
    case WT_EV_DATAGRAM_WRITABLE:
        g.dgram_blocked = 0;
        flush_datagrams();
        break;
    case WT_EV_DATAGRAM:
        write_out(ev->data, ev->len);
        write_out((const uint8_t *)"\n", 1);
        break;
    case WT_EV_SESSION_CLOSED:
        if (ev->session == g.session || !g.listening) on_closed(ev);
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- the loop */
/* What wt_loop_run does, with stdin beside the loop's sockets. */
static int run(void) {
    struct pollfd pfd[MAX_FDS + 1];
    int fds[MAX_FDS], i, n, rv = WT_OK;
    short events[MAX_FDS];
    while (!g.done && rv == WT_OK) {
        int in_slot = -1;
        n = wt_loop_pollfds(g.loop, fds, events, MAX_FDS);
        if (n > MAX_FDS) n = MAX_FDS;
        for (i = 0; i < n; i++) {
            pfd[i].fd = fds[i];
            pfd[i].events = events[i];
            pfd[i].revents = 0;
        }
        if (want_stdin()) {
            in_slot = n++;
            pfd[in_slot].fd = 0;
            pfd[in_slot].events = POLLIN;
            pfd[in_slot].revents = 0;
        }
        if (poll(pfd, (nfds_t)n, wt_loop_timeout(g.loop)) < 0 && errno != EINTR) return WT_ERR_IO;
        if (in_slot >= 0 && pfd[in_slot].revents) read_stdin();
        rv = wt_loop_process(g.loop); /* sends what stdin queued, delivers events */
        /* the session outlived its stream: a reset is the peer's error, an
           end both ways is ours to close (the listener waits for the client) */
        if (g.session && !g.closing && g.stream_reset) {
            status("the peer reset the stream");
            finish(EXIT_CLOSED, 1, "stream reset");
        } else if (g.session && !g.closing && g.stream_over && !g.listening) {
            finish(EXIT_OK, 0, NULL);
        }
    }
    return rv;
}

static int usage(void) {
    fprintf(stderr, "usage: wtcat [-d] [-w MS] [-q] (--pin HEX | --ca FILE | --insecure) URL\n"
                    "       wtcat -l [-d] [-q] [--host H] [--port N] [--cert F --key F]\n"
                    "exit: 0 clean close, 1 usage, 2 cannot connect, 3 refused, 4 closed with an error,\n"
                    "      5 stdin/stdout failed\n");
    return EXIT_USAGE;
}

/* The library's options (--pin/--ca/--insecure, or --host/--port/--cert/--key)
   go to its parsers; everything must be taken. */
static int connect_to(const char *url, int argc, char **argv) {
    wt_client_config cfg = {0};
    wt_client *client;
    int rv = wt_client_config_args(&cfg, argc, argv);
    if (rv != argc) return usage(); /* the reason is logged */
    if (!!cfg.cert_sha256 + !!cfg.ca_file + cfg.insecure != 1) {
        fprintf(stderr, "wtcat: say how to verify the server: --pin HEX, --ca FILE or --insecure\n");
        return usage();
    }
    if (!(client = wt_client_create(&cfg))) return EXIT_CONNECT; /* the reason is logged */
    g.loop = wt_client_loop(client);
    rv = wt_client_connect(client, url, on_event, NULL, &g.session);
    if (rv != WT_OK) {
        fprintf(stderr, "wtcat: cannot connect to %s: %s\n", url, wt_strerror(rv));
        wt_client_destroy(client);
        return rv == WT_ERR_URL ? EXIT_USAGE : EXIT_CONNECT;
    }
    rv = run();
    wt_client_destroy(client); /* sends the close and waits for its acknowledgement */
    if (rv != WT_OK && g.exit_code == EXIT_OK) g.exit_code = EXIT_IO;
    return g.exit_code;
}

static int listen_on(int argc, char **argv) {
    wt_app_config cfg = {0};
    uint8_t hash[32];
    char hex[65];
    wt_app *app;
    int rv;
    cfg.host = "127.0.0.1";
    cfg.port = 4433;
    cfg.dev_cert = 1; /* unless --cert/--key */
    if (wt_app_config_args(&cfg, argc, argv) != argc) return usage(); /* the reason is logged */
    if (!(app = wt_app_create(&cfg))) return EXIT_CONNECT; /* the reason is logged */
    g.loop = wt_app_loop(app);
    rv = wt_app_default_route(app, on_event, NULL); /* any path */
    if (rv == WT_OK) rv = wt_app_start(app);
    if (rv == WT_OK) rv = wt_app_cert_sha256(app, hash);
    if (rv != WT_OK) {
        wt_app_destroy(app);
        return EXIT_CONNECT;
    }
    wt_hex(hash, 32, hex);
    status("listening on https://%s:%d/ sha256 %s", cfg.host, wt_app_port(app), hex);
    rv = run();
    wt_app_destroy(app);
    if (rv != WT_OK && g.exit_code == EXIT_OK) g.exit_code = EXIT_IO;
    return g.exit_code;
}

int main(int argc, char **argv) {
    const char *url = NULL;
    char **rest = (char **)calloc((size_t)argc + 1, sizeof *rest);
    int i, nrest = 1, rv;
    if (!rest) return EXIT_IO;
    rest[0] = argv[0];
    g.linger_ms = 1000;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-l")) g.listening = 1;
        else if (!strcmp(a, "-d")) g.datagrams = 1;
        else if (!strcmp(a, "-q")) g.quiet = 1;
        else if (!strcmp(a, "-w") && i + 1 < argc) g.linger_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strstr(a, "://") && !url) url = a;
        else if (!strcmp(a, "--insecure")) rest[nrest++] = argv[i];
        else if (a[0] == '-' && a[1] == '-' && i + 1 < argc) { /* --pin HEX, --port N...: the library's */
            rest[nrest++] = argv[i];
            rest[nrest++] = argv[++i];
        } else {
            free(rest);
            usage();
            return strcmp(a, "--help") && strcmp(a, "-h") ? EXIT_USAGE : EXIT_OK;
        }
    }
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is an error we report (exit 5) */
    if (g.listening && !url) rv = listen_on(nrest, rest);
    else if (!g.listening && url) rv = connect_to(url, nrest, rest);
    else rv = usage();
    free(rest);
    return rv;
}
