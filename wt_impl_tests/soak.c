/* soak.c - session and stream churn against one server for a while, with
   the process's resident memory and open files sampled: both must be flat
   at the end (no leak that a short test would not see).
     soak [seconds]      (default 600; `make soak`, CI runs a short one) */
#define WT_IMPLEMENTATION
#include "../wt.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct churn {
    int opened, closed, echoes, refused;
} churn;

static long soak_rss_kib(void) {
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = -1;
    fclose(f);
    return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static int soak_open_files(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* the server: bidi streams echoed, datagrams echoed */
static void soak_server(wt_event *ev) {
    if (ev->type == WT_EV_STREAM_OPEN) wt_stream_read_all(ev->stream, 1 << 16);
    if (ev->type == WT_EV_STREAM_DATA && ev->fin && wt_stream_is_bidi(ev->stream)) {
        wt_stream_write(ev->stream, ev->data, ev->len);
        wt_stream_finish(ev->stream);
    }
    if (ev->type == WT_EV_DATAGRAM) wt_session_send_datagram(ev->session, ev->data, ev->len);
}

/* the client: a session, a few streams each echoed, then one of three ends:
   a clean close, an abrupt reset of a stream first, or no close at all
   (the client's destroy of the connection does it) */
static void soak_client(wt_event *ev) {
    churn *c = (churn *)ev->user;
    int *streams_left = (int *)wt_session_user(ev->session), i;
    switch (ev->type) {
    case WT_EV_SESSION_OPEN:
        c->opened++;
        streams_left = (int *)malloc(sizeof *streams_left);
        *streams_left = 4;
        wt_session_set_user(ev->session, streams_left);
        for (i = 0; i < 4; i++) {
            wt_stream *st;
            char msg[64];
            int n = snprintf(msg, sizeof msg, "soak %d %d", c->opened, i);
            if (wt_session_open_stream(ev->session, 1, &st) != WT_OK) continue;
            wt_stream_write(st, msg, (size_t)n);
            if (i == 3 && c->opened % 3 == 0) wt_stream_reset(st, 7), wt_stream_stop_sending(st, 7);
            else wt_stream_finish(st);
        }
        wt_session_send_datagram(ev->session, "ping", 4);
        break;
    case WT_EV_STREAM_OPEN: wt_stream_read_all(ev->stream, 1 << 16); break;
    case WT_EV_STREAM_DATA:
        if (ev->fin) c->echoes++;
        break;
    case WT_EV_STREAM_CLOSED:
        if (streams_left && --*streams_left == 0) wt_session_close(ev->session, 0, "churn");
        break;
    case WT_EV_SESSION_CLOSED:
        c->closed++;
        if (ev->error == WT_ERR_REFUSED) c->refused++;
        free(streams_left);
        break;
    default: break;
    }
}

int main(int argc, char **argv) {
    int seconds = argc > 1 ? atoi(argv[1]) : 600, passed = 0, failed = 0;
    wt_loop *loop;
    wt_app *app;
    wt_cert_config cc = {0};
    wt_app_config ac = {0};
    char dir[] = "/tmp/wt-soak-XXXXXX", crt[64], key[64], url[64];
    uint8_t pin[32];
    long rss[4096];
    int fds[4096], nsamples = 0, rounds = 0, errors = 0;
    uint64_t start, next_sample, end;
    churn c;
    if (!mkdtemp(dir)) return 1;
    snprintf(crt, sizeof crt, "%s/c.pem", dir);
    snprintf(key, sizeof key, "%s/k.pem", dir);
    cc.cert_file = crt, cc.key_file = key;
    if (wt_cert_generate(&cc) != WT_OK || wt_cert_sha256(crt, pin) != WT_OK) return 1;
    loop = wt_loop_create(NULL);
    ac.port = -1, ac.cert_file = crt, ac.key_file = key, ac.loop = loop;
    app = wt_app_create(&ac);
    if (!loop || !app || wt_app_route(app, "/soak", soak_server, NULL) != WT_OK || wt_app_start(app) != WT_OK) return 1;
    snprintf(url, sizeof url, "https://127.0.0.1:%d/soak", wt_app_port(app));
    memset(&c, 0, sizeof c);
    start = wt_loop_now_ms(loop);
    end = start + (uint64_t)seconds * 1000;
    next_sample = start;
    while (wt_loop_now_ms(loop) < end) {
        /* a client per round: its destroy closes whatever is left */
        wt_client_config kc = {0};
        wt_client *cl;
        int before = c.closed;
        uint64_t round_end = wt_loop_now_ms(loop) + 5000;
        kc.cert_sha256 = pin, kc.loop = loop;
        cl = wt_client_create(&kc);
        if (!cl) return 1;
        for (int i = 0; i < 3; i++)
            if (wt_client_connect(cl, url, soak_client, &c, NULL) != WT_OK) errors++;
        while (c.closed - before < 3 && wt_loop_now_ms(loop) < round_end) {
            wt_loop_run_once(loop, 50);
            if (rounds % 5 == 4 && c.closed - before >= 1) break; /* leave some for destroy */
        }
        wt_client_destroy(cl);
        rounds++;
        if (wt_loop_now_ms(loop) >= next_sample && nsamples < 4096) {
            rss[nsamples] = soak_rss_kib();
            fds[nsamples] = soak_open_files();
            nsamples++;
            next_sample += 1000;
        }
    }
    printf("soak: %d s, %d rounds, %d sessions opened, %d closed, %d refused, %d echoes, %d connect errors\n", seconds,
           rounds, c.opened, c.closed, c.refused, c.echoes, errors);
    if (nsamples >= 4) {
        /* flat: the last quarter's peak within 10% (and 2 MiB) of the second quarter's */
        long mid = 0, last = 0;
        int q = nsamples / 4, fd_mid = fds[q], fd_last = fds[nsamples - 1], i;
        for (i = q; i < 2 * q; i++) mid = rss[i] > mid ? rss[i] : mid;
        for (i = 3 * q; i < nsamples; i++) last = rss[i] > last ? rss[i] : last;
        printf("soak: RSS %ld KiB at the start, peak %ld KiB in the second quarter, %ld KiB in the last; "
               "open files %d then %d\n", rss[0], mid, last, fd_mid, fd_last);
        if (last <= mid + mid / 10 + 2048) passed++, printf("ok   soak: resident memory flat\n");
        else failed++, printf("FAIL soak: resident memory grew\n");
        if (fd_last <= fd_mid) passed++, printf("ok   soak: open files flat\n");
        else failed++, printf("FAIL soak: open files grew\n");
    } else {
        failed++;
        printf("FAIL soak: too short to sample (%d samples)\n", nsamples);
    }
    if (c.opened > rounds && c.echoes > c.opened && !errors) passed++, printf("ok   soak: sessions and echoes kept going\n");
    else failed++, printf("FAIL soak: the churn stalled\n");
    {
        uint64_t settle = wt_loop_now_ms(loop) + 5000; /* the last closes still on their way */
        while (wt_app_session_count(app) && wt_loop_now_ms(loop) < settle) wt_loop_run_once(loop, 50);
    }
    if (wt_app_session_count(app) == 0) passed++, printf("ok   soak: no session left open on the server\n");
    else failed++, printf("FAIL soak: %zu sessions left open on the server\n", wt_app_session_count(app));
    wt_app_destroy(app);
    wt_loop_destroy(loop);
    unlink(crt), unlink(key), rmdir(dir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
