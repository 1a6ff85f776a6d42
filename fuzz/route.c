/* fuzz/route.c - the router (wt_router.c): route patterns, matching with
   parameters, percent-decoding, the query string.

   Input:
     u8 mode    bits 0-1: patterns - 1; bit 2: a default route
     per pattern: u8 length, then the pattern
     u8 length, then a query parameter name to look up
     u8 size of the lookup buffer
     the rest: the request's :path (what follows a NUL is not seen)

   The oracles: a pattern the router takes starts with '/' and has no '?'
   or '#', and taking it again is refused; a request is routed, refused
   with 404 (only when no route matches and there is no default) or 400
   (only when the path has a '%'); a route that is the path exactly (before
   the query) always wins; a routed session has each of its route's
   parameters, a C string as long as it says; a query lookup fills the
   buffer with a NUL-terminated value or fails with NOT_FOUND / TOO_BIG. */
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "fuzz.h"

static void quiet(wt_log_level level, const char *msg, void *user) {
    (void)user;
    if (getenv("WT_FUZZ_LOG")) fprintf(stderr, "%d: %s\n", (int)level, msg);
}

static void handler(wt_event *ev) { (void)ev; }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    return 0;
}

/* Takes a length-prefixed string off the input (NULs end it early). */
static char *take(const uint8_t **p, size_t *n) {
    size_t len;
    char *s;
    if (*n < 1) return NULL;
    len = WT__MIN((size_t)(*p)[0], *n - 1);
    if (!(s = (char *)malloc(len + 1))) return NULL;
    memcpy(s, *p + 1, len);
    s[len] = 0;
    *p += len + 1, *n -= len + 1;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int users[4];
    wt__ep ep;
    wt__router rt;
    wt__conn conn;
    wt_session s;
    wt_app_config cfg;
    char *pats[4] = {NULL, NULL, NULL, NULL}, *qname = NULL, *buf = NULL;
    size_t npat, i, bufsize, n;
    int added[4] = {0, 0, 0, 0}, exact = -1;
    if (size < 1) return 0;
    npat = (size_t)(data[0] & 3) + 1;
    memset(&ep, 0, sizeof ep), memset(&conn, 0, sizeof conn), memset(&s, 0, sizeof s), memset(&cfg, 0, sizeof cfg);
    ep.log.fn = quiet;
    ep.log.level = WT_LOG_DEBUG;
    ep.lim.sessions_per_ip_per_s = UINT32_MAX;
    ep.server = 1;
    conn.ep = &ep;
    s.conn = &conn;
    s.server = 1;
    s.state = WT__SESS_REQUESTED;
    FUZZ_CHECK(wt__router_init(&rt, &ep, &cfg) == WT_OK);
    {
        const uint8_t *p = data + 1;
        size_t left = size - 1;
        for (i = 0; i < npat; i++) pats[i] = take(&p, &left);
        qname = take(&p, &left);
        bufsize = left ? p[0] : 0;
        if (left) p++, left--;
        if (!(s.path = (char *)malloc(left + 2))) goto out;
        s.path[0] = '/'; /* the request's :path starts with '/' (else a 400 before routing) */
        memcpy(s.path + 1, p, left);
        s.path[left + 1] = 0;
    }
    if (!qname) goto out;
    for (i = 0; i < npat && pats[i]; i++) {
        int rv = wt__router_add(&rt, pats[i], handler, &users[i]);
        FUZZ_CHECK(rv == WT_OK || rv == WT_ERR_INVALID);
        if (rv != WT_OK) continue;
        added[i] = 1;
        FUZZ_CHECK(pats[i][0] == '/' && !strpbrk(pats[i], "?#"));
        FUZZ_CHECK(wt__router_add(&rt, pats[i], handler, &users[i]) == WT_ERR_INVALID);
    }
    if (data[0] & 4) FUZZ_CHECK(wt__router_default(&rt, handler, &users[3]) == WT_OK);
    n = strcspn(s.path, "?");
    for (i = 0; i < npat; i++)
        if (added[i] && strlen(pats[i]) == n && !memcmp(pats[i], s.path, n) && !strchr(pats[i], '{')) exact = (int)i;
    wt__router_route(&rt, &s);
    if (s.fn) {
        FUZZ_CHECK(!s.reject_status);
        if (exact >= 0) FUZZ_CHECK(s.fn_user == &users[exact]);
        for (i = 0; i < s.nparams; i++) {
            const char *v = wt_session_param(&s, s.params[i].name);
            FUZZ_CHECK(v && *s.params[i].name);
            FUZZ_CHECK(strlen(v) <= n);
        }
        FUZZ_CHECK(!wt_session_param(&s, "{"));
    } else {
        FUZZ_CHECK(s.reject_status == 404 || s.reject_status == 400);
        FUZZ_CHECK(exact < 0);
        if (s.reject_status == 404) FUZZ_CHECK(!(data[0] & 4));
        if (s.reject_status == 400) FUZZ_CHECK(memchr(s.path, '%', n) != NULL);
    }
    buf = (char *)malloc(bufsize ? bufsize : 1);
    if (buf) {
        int r = wt_session_query_get(&s, qname, bufsize ? buf : NULL, bufsize);
        if (r >= 0) {
            FUZZ_CHECK((size_t)r < bufsize && buf[r] == 0);
            FUZZ_CHECK((size_t)r <= strlen(wt_session_query(&s)));
        } else {
            FUZZ_CHECK(r == WT_ERR_NOT_FOUND || r == WT_ERR_TOO_BIG);
            if (r == WT_ERR_TOO_BIG && bufsize) FUZZ_CHECK(buf[0] == 0);
        }
    }
out:
    wt__router_free(&rt, &ep.alloc);
    wt__free(&ep.alloc, s.params);
    for (i = 0; i < 4; i++) free(pats[i]);
    free(qname);
    free(buf);
    free(s.path);
    return 0;
}
