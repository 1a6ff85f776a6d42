/* fuzz/url.c - the client's URL parser (wt__parse_url).

   Input: one byte for the size of the host buffer (1-256), then the URL.
   The oracle: an accepted URL gives a non-empty host that fits its buffer
   (an exact-size heap buffer), a port in 1-65535 and a path that starts
   with '/' and is either the URL's own tail or "/"; the host of a URL
   without brackets contains no ':', '/', '?', '#' or '@'. */
#define WT_IMPLEMENTATION
#include "../wt.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *url, *host;
    const char *path = NULL;
    size_t cap, n;
    uint16_t port = 0;
    int r;
    if (size < 1) return 0;
    cap = (size_t)data[0] + 1;
    n = size - 1;
    url = (char *)malloc(n + 1);
    host = (char *)malloc(cap);
    if (!url || !host) {
        free(url);
        free(host);
        return 0;
    }
    memcpy(url, data + 1, n);
    url[n] = 0; /* a C string: what follows an inner NUL is not seen */
    r = wt__parse_url(url, host, cap, &port, &path);
    if (r == WT_OK) {
        size_t hl = strnlen(host, cap);
        FUZZ_CHECK(hl > 0 && hl < cap);
        FUZZ_CHECK(port >= 1);
        FUZZ_CHECK(path && path[0] == '/');
        FUZZ_CHECK(!strcmp(path, "/") || (path >= url && path < url + n));
        FUZZ_CHECK(!strncmp(url, "https://", 8));
        if (url[8] != '[') FUZZ_CHECK(!strpbrk(host, ":/?#@"));
        else FUZZ_CHECK(!strchr(host, ']'));
    } else {
        FUZZ_CHECK(r == WT_ERR_URL);
    }
    free(url);
    free(host);
    return 0;
}
