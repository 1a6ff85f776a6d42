/* chat_client.c - the client twin of chat_server: stdin lines out, the others' lines in.
 *
 *   cc -std=c11 -O2 examples/chat_client.c -I. -I$P/include -L$P/lib \
 *      -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm -o chat_client
 *   ./chat_client (--pin HEX | --ca FILE | --insecure) [URL]
 *                                        ($P: cat build/deps/prefix after make deps)
 *
 * URL defaults to https://127.0.0.1:4433/chat. Every line typed is sent as
 * one datagram (without its newline); every datagram that arrives (the
 * other members' lines, relayed by the server) is printed as a line on
 * stdout. Status goes to stderr. At end of input (Ctrl-D) it closes the
 * session with code 0 and exits 0; 1 when the session fails or the server
 * closes it.
 *
 * The loop must watch stdin as well as its sockets, so main() runs it by
 * hand: poll() over wt_loop_pollfds plus stdin, then wt_loop_process.
 */
#define WT_IMPLEMENTATION
#include "wt.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_ 1024 /* longer lines are sent in pieces */

static struct {
    wt_session *session;
    int open, done, leaving, exit_code;
    char line[LINE_MAX_];
    size_t len;
} c;

static void on_event(wt_event *ev) {
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        c.open = 1;
        fprintf(stderr, "Joined https://%s%s. Type a line to send it; Ctrl-D leaves.\n",
                wt_session_authority(ev->session), wt_session_path(ev->session));
        break;
    case WT_EV_DATAGRAM: /* someone else's line */
        printf("%.*s\n", (int)ev->len, (const char *)ev->data);
        fflush(stdout);
        break;
    case WT_EV_SESSION_CLOSED:
        if (ev->error != WT_OK) {
            fprintf(stderr, "chat_client: %s (HTTP status %d)\n", wt_strerror(ev->error), ev->status);
            c.exit_code = 1;
        } else if (!c.leaving) {
            fprintf(stderr, "chat_client: the server closed the chat (code %u)\n", ev->code);
            c.exit_code = 1;
        }
        c.session = NULL;
        c.done = 1;
        break;
    default:
        break;
    }
}

static void send_line(const char *p, size_t n) {
    int rv = wt_session_send_datagram(c.session, p, n);
    if (rv != WT_OK) fprintf(stderr, "chat_client: not sent: %s\n", wt_strerror(rv)); /* a datagram may be lost anyway */
}

/* Reads what stdin has; each complete line goes out as a datagram. */
static void read_stdin(void) {
    ssize_t n = read(0, c.line + c.len, sizeof c.line - c.len);
    char *nl;
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) { /* end of input (or an error): leave the chat */
        if (c.len) send_line(c.line, c.len);
        c.leaving = 1;
        (void)wt_session_close(c.session, 0, "bye"); /* CLOSED ends the loop */
        return;
    }
    c.len += (size_t)n;
    while ((nl = memchr(c.line, '\n', c.len)) != NULL) {
        size_t used = (size_t)(nl - c.line) + 1;
        send_line(c.line, used - 1);
        memmove(c.line, c.line + used, c.len - used);
        c.len -= used;
    }
    if (c.len == sizeof c.line) { /* a very long line: send what we have */
        send_line(c.line, c.len);
        c.len = 0;
    }
}

/* wt_loop_run, with stdin beside the loop's sockets. */
static int run(wt_loop *loop) {
    struct pollfd pfd[17];
    int fds[16], i, n, rv = WT_OK;
    short events[16];
    while (!c.done && rv == WT_OK) {
        int in_slot = -1;
        n = wt_loop_pollfds(loop, fds, events, 16);
        if (n > 16) n = 16;
        for (i = 0; i < n; i++) {
            pfd[i].fd = fds[i];
            pfd[i].events = events[i];
            pfd[i].revents = 0;
        }
        if (c.open && !c.leaving) { /* stdin only once the session is open */
            in_slot = n++;
            pfd[in_slot].fd = 0;
            pfd[in_slot].events = POLLIN;
            pfd[in_slot].revents = 0;
        }
        if (poll(pfd, (nfds_t)n, wt_loop_timeout(loop)) < 0 && errno != EINTR) return WT_ERR_IO;
        if (in_slot >= 0 && pfd[in_slot].revents) read_stdin();
        rv = wt_loop_process(loop); /* sends what was queued, delivers events */
    }
    return rv;
}

static int usage(void) {
    fprintf(stderr, "usage: chat_client (--pin SHA256-HEX | --ca FILE | --insecure) [URL]\n");
    return 1;
}

int main(int argc, char **argv) {
    const char *url = "https://127.0.0.1:4433/chat";
    wt_client_config cfg = {0};
    wt_client *client;
    int i, rv;

    if ((i = wt_client_config_args(&cfg, argc, argv)) <= 0) return i == WT_ARGS_HELP ? 0 : usage();
    if (i < argc) url = argv[i++];
    if (i < argc || !!cfg.ca_file + !!cfg.cert_sha256 + cfg.insecure != 1) return usage(); /* one way to verify */
    if (!(client = wt_client_create(&cfg))) return 1; /* the reason is logged */
    rv = wt_client_connect(client, url, on_event, NULL, &c.session);
    if (rv == WT_OK) rv = run(wt_client_loop(client));
    if (rv != WT_OK) {
        fprintf(stderr, "chat_client: %s\n", wt_strerror(rv));
        c.exit_code = 1;
    }
    wt_client_destroy(client); /* sends the close and waits for its acknowledgement */
    return c.exit_code;
}
