/* fuzz/server.c - the whole server fed UDP datagrams through the sans-I/O
   seam: a wt_app with io.send (its output counted, not delivered) on a
   loop with a virtual clock, the endpoint's random bytes from a fixed
   generator (WT_TEST_RNG), so an input replays exactly. Everything a
   datagram can reach runs: CID routing, version negotiation, stateless
   resets, Retry and its tokens, the limits on connections, ngtcp2's
   packet and frame parsing, wolfSSL's ClientHello parsing, handshake
   timeouts and teardown.

   Input: one byte of server options, then records:
     u16 length (big-endian), u8 kind, length bytes of body
   kind bits 0-1: 0 the body is a datagram, sent as it is
                  1 the body is QUIC frames, sealed into a client Initial
                    (padded to 1200 bytes) by the harness
                  2 as 1, the body starting with u8 n and an n-byte token
                  3 as 1, not padded
        bits 2-3: which of four client addresses sends it
        bits 4-5: which of four connections (Initial DCID/SCID pair, each
                  with its own packet numbers) an Initial belongs to
        bits 6-7: virtual time before it: 0, 1 ms, 30 ms, 1 s
   Options: bit 0 Retry for every new client, bit 1 max_connections 1,
   bit 2 max_half_open_per_ip 1, bit 3 handshake_timeout_ms 1000.
   Afterwards the clock runs on until every connection timed out.

   The oracle, besides the sanitizers: before a client's address is
   proven the server sends it at most three times the bytes it received
   from it (RFC 9000 section 8.1); no address is proven here, as that
   takes the client's Handshake keys. */
#define WT_TEST_RNG fuzz_rng
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "fuzz.h"
#include "quic_initial.h"

#include <unistd.h>

static uint64_t rng_state, now_ns;
static char dir[64], crt[96], key[96];

void fuzz_rng(uint8_t *out, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) out[i] = (uint8_t)(fuzz_next(&rng_state) >> 56);
}

static uint64_t clock_now(void *user) {
    (void)user;
    return now_ns;
}

static void quiet(wt_log_level level, const char *msg, void *user) {
    (void)user;
    if (getenv("WT_FUZZ_LOG")) fprintf(stderr, "wt: %d: %s\n", (int)level, msg);
}

/* ---------------------------------------------------------------- addresses */
#define NADDR 4
static struct sockaddr_in server_addr, client_addr[NADDR];
static uint64_t rx_bytes[NADDR], tx_bytes[NADDR];

static int addr_index(const void *a, size_t len) {
    int i;
    for (i = 0; i < NADDR; i++)
        if (len == sizeof client_addr[i] && !memcmp(a, &client_addr[i], len)) return i;
    return -1;
}

/* The last Retry the server sent: a kind-2 record answers it, as a
   client would, with its token, to the connection ID it names. */
static uint8_t retry_token[256], retry_scid[20];
static size_t retry_token_len, retry_scid_len;

static void keep_retry(const uint8_t *p, size_t n) {
    size_t o = 5, dl, sl;
    if (n < 7 || (p[0] & 0xf0) != 0xf0) return; /* long header, v1 type Retry */
    dl = p[o++];
    if (o + dl >= n) return;
    o += dl;
    sl = p[o++];
    if (sl > 20 || o + sl + 16 > n || n - o - sl - 16 > sizeof retry_token) return;
    memcpy(retry_scid, p + o, sl);
    retry_scid_len = sl;
    o += sl;
    retry_token_len = n - o - 16; /* the integrity tag ends it */
    memcpy(retry_token, p + o, retry_token_len);
}

static int on_send(void *user, const void *local, size_t local_len, const void *remote, size_t remote_len,
                   const uint8_t *data, size_t len, size_t segment) {
    int i = addr_index(remote, remote_len);
    (void)user, (void)local, (void)local_len;
    FUZZ_CHECK(segment > 0 && segment <= WT__MAX_UDP_PAYLOAD);
    FUZZ_CHECK(i >= 0); /* the server answers only who wrote to it */
    tx_bytes[i] += len;
    if (len == segment) keep_retry(data, len);
    return 0;
}

static void on_event(wt_event *ev) {
    /* a session is out of reach without the client's keys; should one come,
       it gets used */
    if (ev->type == WT_EV_STREAM_OPEN) wt_stream_read_all(ev->stream, 4096);
    if (ev->type == WT_EV_DATAGRAM) wt_session_send_datagram(ev->session, ev->data, ev->len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    wt_cert_config cc;
    int i;
    (void)argc, (void)argv;
    snprintf(dir, sizeof dir, "/tmp/wt-fuzz-server-XXXXXX");
    if (!mkdtemp(dir)) abort();
    snprintf(crt, sizeof crt, "%s/c.pem", dir);
    snprintf(key, sizeof key, "%s/k.pem", dir);
    memset(&cc, 0, sizeof cc);
    cc.cert_file = crt;
    cc.key_file = key;
    if (wt_cert_generate(&cc) != WT_OK) abort();
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons(443);
    server_addr.sin_addr.s_addr = htonl(0x0a000001); /* 10.0.0.1 */
    for (i = 0; i < NADDR; i++) {
        client_addr[i].sin_family = AF_INET;
        client_addr[i].sin_port = htons((uint16_t)(i == 1 ? 50001 : 50000));
        client_addr[i].sin_addr.s_addr = htonl(0x0a000002 + (uint32_t)(i >= 2 ? i - 1 : 0));
    }
    return 0;
}

/* removes the certificate directory when libFuzzer exits */
__attribute__((destructor)) static void cleanup(void) {
    if (!dir[0]) return;
    unlink(crt);
    unlink(key);
    rmdir(dir);
}

/* ---------------------------------------------------------------- one input */
static void step(wt_loop *loop, uint64_t ns) {
    now_ns += ns;
    wt_loop_process(loop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t pkt[2048];
    wt_loop_config lc;
    wt_app_config ac;
    wt_loop *loop;
    wt_app *app;
    uint64_t pn[4] = {0, 0, 0, 0};
    size_t off = 1;
    int i;
    if (size < 1) return 0;
    rng_state = 0x5eed5eed5eed5eedULL;
    now_ns = 1000000000ULL;
    memset(rx_bytes, 0, sizeof rx_bytes);
    memset(tx_bytes, 0, sizeof tx_bytes);
    retry_token_len = retry_scid_len = 0;

    memset(&lc, 0, sizeof lc);
    lc.log.fn = quiet;
    lc.log.level = WT_LOG_DEBUG; /* every log line's formatting runs too */
    lc.clock.now_ns = clock_now;
    if (!(loop = wt_loop_create(&lc))) abort();
    memset(&ac, 0, sizeof ac);
    ac.host = "10.0.0.1";
    ac.port = 443;
    ac.cert_file = crt;
    ac.key_file = key;
    ac.loop = loop;
    ac.log = lc.log;
    ac.io.send = on_send;
    if (data[0] & 1) ac.limits.retry_threshold = 1;
    if (data[0] & 2) ac.limits.max_connections = 1;
    if (data[0] & 4) ac.limits.max_half_open_per_ip = 1;
    if (data[0] & 8) ac.limits.handshake_timeout_ms = 1000;
    if (!(app = wt_app_create(&ac)) || wt_app_route(app, "/", on_event, NULL) != WT_OK || wt_app_start(app) != WT_OK)
        abort();

    while (off + 3 <= size) {
        static const uint64_t wait_ns[4] = {0, 1000000ULL, 30000000ULL, 1000000000ULL};
        size_t len = ((size_t)data[off] << 8) | data[off + 1];
        uint8_t kind = data[off + 2];
        const uint8_t *body = data + off + 3;
        int a = (kind >> 2) & 3, ci = (kind >> 4) & 3;
        size_t n;
        if (len > size - off - 3) len = size - off - 3;
        off += 3 + len;
        if (wait_ns[kind >> 6]) step(loop, wait_ns[kind >> 6]);
        if ((kind & 3) == 0) {
            if (len > sizeof pkt) continue;
            memcpy(pkt, body, len);
            n = len;
        } else {
            uint8_t dcid[20], scid[20];
            size_t dl, sl, tl = 0;
            const uint8_t *token = NULL;
            qi_conn_ids(ci, dcid, &dl, scid, &sl);
            if ((kind & 3) == 2 && retry_token_len) {
                token = retry_token, tl = retry_token_len;
                memcpy(dcid, retry_scid, retry_scid_len), dl = retry_scid_len;
            } else if ((kind & 3) == 2 && len > 0) {
                tl = WT__MIN((size_t)body[0], len - 1);
                token = body + 1;
                body += 1 + tl, len -= 1 + tl;
            }
            n = qi_seal(pkt, sizeof pkt, dcid, dl, scid, sl, token, tl, pn[ci]++, body, len,
                        (kind & 3) == 3 ? 0 : 1200);
            if (!n) continue;
        }
        rx_bytes[a] += n;
        wt_app_input(app, &client_addr[a], sizeof client_addr[a], pkt, n);
        wt_loop_process(loop);
        for (i = 0; i < NADDR; i++) FUZZ_CHECK(tx_bytes[i] <= 3 * rx_bytes[i]);
    }
    /* every handshake times out (or the idle timeout ends what got further) */
    for (i = 0; i < 40 && app->ep.nconns > 0; i++) step(loop, 1000000000ULL);
    FUZZ_CHECK(app->ep.nconns == 0);
    if (getenv("WT_FUZZ_LOG"))
        for (i = 0; i < NADDR; i++)
            fprintf(stderr, "address %d: received %llu bytes, sent %llu\n", i, (unsigned long long)rx_bytes[i],
                    (unsigned long long)tx_bytes[i]);
    wt_app_destroy(app);
    wt_loop_destroy(loop);
    return 0;
}
