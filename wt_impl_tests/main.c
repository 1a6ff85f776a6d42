/* main.c - the wt.h test suite: one binary, every test file included here so
   tests can reach wt__ internals. Usage: wt_tests [name-substring ...] [-name-substring ...] ("-x": not x) */
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "wt_test.h"

wt_test_case wt_test_cases[WT_TEST_MAX];
int wt_test_count;
int wt_test_failed_checks;

#include "test_util.c"
#include "test_proto.c"
#include "test_cert.c"
#include "test_smoke.c"
#include "test_tls.c"
#include "test_wt.c"
#include "test_interop.c"
#include "test_conformance.c"
#include "test_sim.c"
#include "test_req.c"
#include "test_addr.c"
#include "test_trace.c"
#include "test_writes.c" /* after test_sim.c: uses its sink */
#include "test_app.c"
#include "test_connect.c" /* after test_addr.c: uses its IPv6 probe */
#include "test_flow.c"
#include "test_alpn.c"
#include "test_lifecycle.c"
#include "test_io.c" /* after test_wt.c: uses its echo server and client */
#include "test_small.c" /* after test_wt.c: uses its contexts and counting allocator */
#include "test_workers.c"
#include "test_watch.c"
#include "test_cc.c" /* after test_sim.c: uses its sink */
#include "test_lb.c" /* after test_wt.c: uses its echo server and client */
#include "test_mem.c"
#include "test_hkdf.c"
#include "test_aead.c" /* after test_hkdf.c and test_wt.c: uses their helpers */

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    return wt_test_run(argc, argv, NULL);
}
