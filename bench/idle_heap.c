/* bench/idle_heap.c - heap per idle WebTransport session on a wt.h server,
   every library counted: wt.h's allocator hook, ngtcp2_mem and
   nghttp3_mem (both behind it) and wolfSSL through wolfSSL_SetAllocators.
   One session per connection (--conns N, after a warm-up connection that
   is not counted), then --extra M more sessions on one connection.
   Loopback UDP, server and clients on two loops of one thread
   (wt_impl_tests/heap_count.h; the suite asserts the same budgets).

   Prints one JSON line:
     idle_heap_bytes      server heap per idle connection with one session
     extra_session_bytes  server heap per further session on a connection
     and each per library (wt, ngtcp2, nghttp3, wolfssl)
   usage: idle_heap [--conns N] [--extra M] */
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "../wt_impl_tests/heap_count.h"

int main(int argc, char **argv) {
    int conns = 32, extra = 15, i; /* 1 + 15: max_sessions per connection (16) */
    hc_result r;
    hc_install(); /* before wolfSSL's first block */
    for (i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--conns")) conns = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--extra")) extra = atoi(argv[i + 1]);
        else break;
    }
    if (i < argc || conns < 1 || extra < 0) {
        fprintf(stderr, "usage: idle_heap [--conns N >= 1] [--extra M >= 0]\n");
        return 2;
    }
    if (!hc_installed) {
        fprintf(stderr, "idle_heap: wolfSSL_SetAllocators failed\n");
        return 1;
    }
    if (hc_measure(conns, extra, NULL, &r) != 0) {
        fprintf(stderr, "idle_heap: %s\n", r.error);
        return 1;
    }
    printf("{\"idle_heap_bytes\": %.0f, \"extra_session_bytes\": %.0f, \"conns\": %d, \"extra\": %d, "
           "\"conn_wt\": %.0f, \"conn_ngtcp2\": %.0f, \"conn_nghttp3\": %.0f, \"conn_wolfssl\": %.0f, "
           "\"session_wt\": %.0f, \"session_ngtcp2\": %.0f, \"session_nghttp3\": %.0f, \"session_wolfssl\": %.0f}\n",
           r.conn, r.session, conns, extra, r.per_conn[HC_WT], r.per_conn[HC_NGTCP2], r.per_conn[HC_NGHTTP3],
           r.per_conn[HC_WOLFSSL], r.per_session[HC_WT], r.per_session[HC_NGTCP2], r.per_session[HC_NGHTTP3],
           r.per_session[HC_WOLFSSL]);
    return 0;
}
