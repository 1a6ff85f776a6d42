/* wt_internal.h - includes, macros and helpers shared by the implementation. */
#ifndef WT__INTERNAL_H
#define WT__INTERNAL_H

#include "wt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* wolfSSL's options.h must come before any other wolfSSL header. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/quic.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_wolfssl.h>
#include <nghttp3/nghttp3.h>

#ifndef WOLFSSL_QUIC
#error "wt.h needs a wolfSSL built with --enable-quic (Debian's libwolfssl-dev is not): see make deps"
#endif

#ifndef WT_MALLOC
#define WT_MALLOC(sz) malloc(sz)
#define WT_REALLOC(p, sz) realloc((p), (sz))
#define WT_FREE(p) free(p)
#endif
#ifndef WT_ASSERT
#include <assert.h>
#define WT_ASSERT(x) assert(x)
#endif

#define WT__MIN(a, b) ((a) < (b) ? (a) : (b))
#define WT__MAX(a, b) ((a) > (b) ? (a) : (b))
#define WT__COUNTOF(a) (sizeof(a) / sizeof((a)[0]))
#define WT__UNUSED(x) (void)(x)

#if defined(__GNUC__) || defined(__clang__)
#define WT__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WT__PRINTF(f, a)
#endif

/* ---- allocator (wt_util.c) */
void *wt__alloc(const wt_allocator *a, size_t n);
void *wt__calloc(const wt_allocator *a, size_t n);
void *wt__realloc(const wt_allocator *a, void *p, size_t n);
void wt__free(const wt_allocator *a, void *p);
char *wt__strdup(const wt_allocator *a, const char *s);
char *wt__strndup(const wt_allocator *a, const char *s, size_t n);

/* ---- logging (wt_util.c) */
void wt__log(const wt_log *lg, wt_log_level level, const char *fmt, ...) WT__PRINTF(3, 4);
/* Logs at ERROR and returns err, for `return wt__fail(lg, WT_ERR_X, "...")`. */
int wt__fail(const wt_log *lg, int err, const char *fmt, ...) WT__PRINTF(3, 4);

/* ---- QUIC variable-length integers (RFC 9000 section 16) */
#define WT__VARINT_MAX 0x3fffffffffffffffULL
/* Bytes needed to encode v (1, 2, 4 or 8); v must be <= WT__VARINT_MAX. */
size_t wt__varint_len(uint64_t v);
/* Writes v at p, returns the bytes written. */
size_t wt__varint_put(uint8_t *p, uint64_t v);
/* Reads a varint from [p, p+n): the bytes used, 0 when n is too short. */
size_t wt__varint_get(const uint8_t *p, size_t n, uint64_t *v);

/* ---- growable byte buffer with a hard cap */
typedef struct wt__buf {
    uint8_t *data;
    size_t len, cap;
} wt__buf;
int wt__buf_reserve(const wt_allocator *a, wt__buf *b, size_t need);
int wt__buf_append(const wt_allocator *a, wt__buf *b, const void *p, size_t n);
void wt__buf_consume(wt__buf *b, size_t n);
void wt__buf_free(const wt_allocator *a, wt__buf *b);

#endif /* WT__INTERNAL_H */
