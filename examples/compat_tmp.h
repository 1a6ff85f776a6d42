/* compat_tmp.h - TEMPORARY stand-ins for calls of this session's API
 * contract that have not landed in main yet (wt_app_config_args,
 * dev_cert). Each example drops its #include as soon
 * as main has the real thing; then this file is deleted. */
#ifndef WT_COMPAT_TMP_H
#define WT_COMPAT_TMP_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int wt_app_config_args(wt_app_config *cfg, int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help")) break;
        if (!strcmp(a, "--host") || !strcmp(a, "--port") || !strcmp(a, "--cert") || !strcmp(a, "--key")) {
            if (i + 1 >= argc) break;
            if (!strcmp(a, "--host")) cfg->host = argv[++i];
            else if (!strcmp(a, "--port")) cfg->port = atoi(argv[++i]);
            else if (!strcmp(a, "--cert")) cfg->cert_file = argv[++i];
            else cfg->key_file = argv[++i];
            continue;
        }
        return i;
    }
    if (i < argc) {
        fprintf(stderr, "usage: %s [--host H] [--port N] [--cert FILE --key FILE]\n", argv[0]);
        return WT_ERR_INVALID;
    }
    return i;
}

/* dev_cert = 1 stand-in: localhost.crt/.key when no files were given. */
static inline int tmp_dev_cert(wt_app_config *cfg) {
    wt_cert_config cc;
    int rv;
    if (cfg->cert_file) return WT_OK;
    memset(&cc, 0, sizeof cc);
    cc.host = "localhost";
    if ((rv = wt_cert_generate(&cc)) != WT_OK) return rv;
    cfg->cert_file = "localhost.crt";
    cfg->key_file = "localhost.key";
    return WT_OK;
}

#endif
