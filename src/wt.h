/*
 * wt.h - WebTransport over HTTP/3 for C: servers and clients in one header.
 *
 * Built on ngtcp2 (QUIC), nghttp3 (HTTP/3 + QPACK) and wolfSSL (TLS 1.3).
 * MIT licensed (see the end of this file). wolfSSL is GPLv3 or commercial:
 * a program that links it is bound by the GPLv3 unless you hold a wolfSSL
 * commercial licence.
 *
 * ---------------------------------------------------------------- BUILD
 * In exactly one .c file of your program:
 *
 *     #define WT_IMPLEMENTATION
 *     #include "wt.h"
 *
 * (the define goes before any other #include of that file, or add
 * -D_GNU_SOURCE: the implementation uses Linux socket calls)
 * and link the three libraries, in this order:
 *
 *     cc -std=c11 app.c -I$P/include -L$P/lib \
 *        -lngtcp2_crypto_wolfssl -lngtcp2 -lnghttp3 -lwolfssl -lm
 *
 * where $P is a prefix holding them (`make deps` in the wt.h repository
 * builds one and writes its path to build/deps/prefix). Other files
 * include "wt.h" without the define and see only the API below.
 *
 * ---------------------------------------------------------------- CONVENTIONS
 * - Public names start with wt_ (WT_ for macros), private ones with wt__.
 * - Functions that can fail return int: 0 or a positive count on success,
 *   a negative WT_ERR_* code on failure; wt_strerror() names it. Every
 *   failure is also logged through the context's log hook.
 * - Config structs are read once at creation; a zeroed field means "the
 *   default" named beside it.
 * - Allocation goes through the allocator in the config (default: the
 *   WT_MALLOC/WT_REALLOC/WT_FREE macros, which default to libc). ngtcp2
 *   and nghttp3 allocate through it too; wolfSSL uses its own allocator
 *   (wolfSSL_SetAllocators is process-wide).
 *
 * ---------------------------------------------------------------- CONFIG MACROS
 *   WT_MALLOC(sz) / WT_REALLOC(p, sz) / WT_FREE(p)   default allocator
 *   WT_ASSERT(x)                                       default assert()
 */
#ifndef WT_H
#define WT_H

/* The implementation uses POSIX and Linux calls (recvmmsg, sendmmsg):
   define WT_IMPLEMENTATION before the first #include of that file, or
   compile it with -D_GNU_SOURCE. */
#if defined(WT_IMPLEMENTATION) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WT_VERSION_MAJOR 0
#define WT_VERSION_MINOR 1
#define WT_VERSION_PATCH 0
#define WT_VERSION "0.1.0"

/* ================================================================ errors */
enum {
    WT_OK = 0,
    WT_ERR_INVALID = -1,     /* a bad argument from the caller */
    WT_ERR_NOMEM = -2,       /* the allocator returned NULL */
    WT_ERR_IO = -3,          /* a system call failed (errno is logged) */
    WT_ERR_TLS = -4,         /* wolfSSL failed: certificate, key, handshake */
    WT_ERR_QUIC = -5,        /* ngtcp2 reported an error */
    WT_ERR_H3 = -6,          /* nghttp3 reported an error */
    WT_ERR_PROTOCOL = -7,    /* the peer broke the WebTransport protocol */
    WT_ERR_WOULDBLOCK = -8,  /* a bounded buffer is full: wait for the event */
    WT_ERR_CLOSED = -9,      /* the session, stream or connection is closed */
    WT_ERR_LIMIT = -10,      /* a configured limit was reached */
    WT_ERR_TOO_BIG = -11,    /* larger than allowed (datagram, reason, ...) */
    WT_ERR_NOT_FOUND = -12,  /* no such file, route or object */
    WT_ERR_STATE = -13,      /* not allowed in the current state */
    WT_ERR_CERT = -14,       /* certificate generation, loading or checking */
    WT_ERR_TIMEOUT = -15,    /* a deadline passed (handshake, idle) */
    WT_ERR_URL = -16,        /* a URL that is not https://host[:port][/path] */
    WT_ERR_REFUSED = -17,    /* the server refused the session */
    WT_ERR_TRUNCATED = -18   /* input ended inside an element: need more bytes */
};

/* A short English description of a WT_ERR_* code (never NULL). */
const char *wt_strerror(int err);

/* ================================================================ hooks */
typedef enum wt_log_level {
    WT_LOG_NONE = 0,
    WT_LOG_ERROR = 1,
    WT_LOG_WARN = 2,
    WT_LOG_INFO = 3,
    WT_LOG_DEBUG = 4
} wt_log_level;

/* Log hook: msg is one line without a trailing newline, valid only during
   the call. The default hook writes "wt: LEVEL: msg" to stderr. */
typedef void (*wt_log_fn)(wt_log_level level, const char *msg, void *user);

typedef struct wt_log {
    wt_log_fn fn;         /* NULL: stderr */
    void *user;
    wt_log_level level;   /* 0: WT_LOG_WARN; messages above it are dropped */
} wt_log;

/* Allocator hook: all three set, or all NULL for the WT_MALLOC defaults. */
typedef struct wt_allocator {
    void *(*malloc_fn)(size_t size, void *user);
    void *(*realloc_fn)(void *ptr, size_t size, void *user);
    void (*free_fn)(void *ptr, void *user);
    void *user;
} wt_allocator;

/* ================================================================ certificates */
/* A self-signed ECDSA P-256 certificate that browsers accept through
   `serverCertificateHashes` (total validity <= 14 days). */
typedef struct wt_cert_config {
    const char *host;          /* NULL: "localhost"; subject CN and first SAN */
    const char *const *alt_names; /* NULL-terminated extra SANs (DNS names or IP
                                     literals); "localhost" also gets 127.0.0.1, ::1 */
    const char *cert_file;     /* NULL: "<host>.crt" (PEM) */
    const char *key_file;      /* NULL: "<host>.key" (PEM, EC private key) */
    int valid_days;            /* 0: 10. notBefore is backdated one day, so
                                  browsers' 14-day rule allows at most 13 */
    wt_log log;
} wt_cert_config;

/* Writes cert_file and key_file (key file mode 0600). */
int wt_cert_generate(const wt_cert_config *cfg);

/* SHA-256 over the DER of the first certificate in a PEM file: the value
   for the browser's serverCertificateHashes and for wt_client's pin. */
int wt_cert_sha256(const char *cert_file, uint8_t out[32]);

/* Lower-case hex of n bytes into out (2n+1 bytes with the NUL). */
void wt_hex(const uint8_t *in, size_t n, char *out);

#ifdef __cplusplus
}
#endif
#endif /* WT_H */

/*
 * ---------------------------------------------------------------- LICENSE
 * MIT License. Copyright (c) 2026 the wt.h authors.
 * Permission is hereby granted, free of charge, to any person obtaining a copy
 * of this software and associated documentation files (the "Software"), to
 * deal in the Software without restriction, including without limitation the
 * rights to use, copy, modify, merge, publish, distribute, sublicense, and/or
 * sell copies of the Software, and to permit persons to whom the Software is
 * furnished to do so, subject to the following conditions: The above copyright
 * notice and this permission notice shall be included in all copies or
 * substantial portions of the Software. THE SOFTWARE IS PROVIDED "AS IS",
 * WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.
 */
