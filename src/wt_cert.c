/* wt_cert.c - self-signed ECDSA P-256 certificates and their SHA-256. */
#include "wt_internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define WT__CERT_MAX_DER 4096

/* Key material is wiped in a way the compiler may not drop. */
static void wt__zero(void *p, size_t n) {
    volatile uint8_t *v = (volatile uint8_t *)p;
    while (n--) *v++ = 0;
}

/* Appends one GeneralName (dNSName [2] or iPAddress [7]) to a SAN list. */
static int wt__san_add(uint8_t *buf, size_t *len, size_t cap, const char *name) {
    uint8_t ip[16];
    const uint8_t *val = (const uint8_t *)name;
    size_t n = strlen(name);
    uint8_t tag = 0x82;
    if (inet_pton(AF_INET, name, ip) == 1) {
        tag = 0x87, val = ip, n = 4;
    } else if (inet_pton(AF_INET6, name, ip) == 1) {
        tag = 0x87, val = ip, n = 16;
    }
    if (n == 0 || n > 127 || *len + 2 + n > cap) return WT_ERR_TOO_BIG;
    buf[(*len)++] = tag;
    buf[(*len)++] = (uint8_t)n;
    memcpy(buf + *len, val, n);
    *len += n;
    return WT_OK;
}

/* The SubjectAltName value: SEQUENCE OF GeneralName, as wolfSSL wants it.
   out has CTC_MAX_ALT_SIZE bytes; the names go straight into it after room
   for the longest SEQUENCE header (no 16 KB copy on the stack). */
static int wt__san_der(const wt_cert_config *cfg, const char *host, uint8_t *out, int *out_len) {
    uint8_t *names = out + 4;
    const size_t cap = CTC_MAX_ALT_SIZE - 4 - 8;
    size_t n = 0, i;
    int rv = wt__san_add(names, &n, cap, host);
    if (!rv && strcmp(host, "localhost") == 0) {
        rv = wt__san_add(names, &n, cap, "127.0.0.1");
        if (!rv) rv = wt__san_add(names, &n, cap, "::1");
    }
    for (i = 0; !rv && cfg->alt_names && cfg->alt_names[i]; i++)
        rv = wt__san_add(names, &n, cap, cfg->alt_names[i]);
    if (rv) return rv;
    if (n < 128) {
        memmove(out + 2, names, n);
        out[0] = 0x30, out[1] = (uint8_t)n;
        *out_len = (int)n + 2;
    } else {
        out[0] = 0x30, out[1] = 0x82, out[2] = (uint8_t)(n >> 8), out[3] = (uint8_t)n;
        *out_len = (int)n + 4;
    }
    return WT_OK;
}

/* Writes a whole file, replacing it atomically. */
static int wt__write_file(const wt_log *lg, const char *path, const void *data, size_t len, int mode) {
    char tmp[1100]; /* the callers' paths are at most 1023 bytes */
    int fd;
    ssize_t w;
    /* a name of its own: two processes writing the same file at once must
       not share (and truncate) one temporary file */
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return wt__fail(lg, WT_ERR_INVALID, "path too long: %s", path);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) return wt__fail(lg, WT_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    w = write(fd, data, len);
    if (w != (ssize_t)len || fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return wt__fail(lg, WT_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return wt__fail(lg, WT_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    }
    return WT_OK;
}

/* wt__cert_make's wolfSSL state (about 30 KB with its Cert): on the heap,
   so the stack stays small (see SMALL DEVICES in wt.h). */
typedef struct wt__certgen {
    Cert cert;
    ecc_key key;
    WC_RNG rng;
} wt__certgen;

/* Makes the key and the signed certificate, both DER (key: SEC1 "EC
   PRIVATE KEY"), into buffers of WT__CERT_MAX_DER bytes. cfg is complete
   (not NULL); its paths are not used. */
static int wt__cert_make(const wt_cert_config *cfg, uint8_t *cert_der, int *cert_len, uint8_t *key_der, int *key_len) {
    const wt_log *lg = &cfg->log;
    const char *host = cfg->host ? cfg->host : "localhost";
    wt__certgen *g;
    int rv = WT_ERR_CERT, days;
    if (!*host || strlen(host) >= CTC_NAME_SIZE)
        return wt__fail(lg, WT_ERR_INVALID, "certificate host name empty or longer than %d", CTC_NAME_SIZE - 1);
    days = cfg->valid_days ? cfg->valid_days : 10;
    if (days < 1 || days > 3650) return wt__fail(lg, WT_ERR_INVALID, "valid_days %d outside 1..3650", days);
    if (days > 13)
        wt__log(lg, WT_LOG_WARN, "certificate valid %d days (+1 backdated): browsers refuse it for "
                "serverCertificateHashes (14 days at most)", days);
    if (!(g = (wt__certgen *)wt__calloc(NULL, sizeof *g)))
        return wt__fail(lg, WT_ERR_NOMEM, "no memory to make a certificate");
    if (wc_InitRng(&g->rng) != 0) {
        wt__free(NULL, g);
        return wt__fail(lg, WT_ERR_CERT, "wolfSSL RNG init failed");
    }
    if (wc_ecc_init(&g->key) != 0) {
        wc_FreeRng(&g->rng);
        wt__free(NULL, g);
        return wt__fail(lg, WT_ERR_CERT, "wolfSSL ECC init failed");
    }
    if (wc_ecc_make_key_ex(&g->rng, 32, &g->key, ECC_SECP256R1) != 0) {
        wt__log(lg, WT_LOG_ERROR, "P-256 key generation failed");
        goto done;
    }
    if (wc_InitCert(&g->cert) != 0) {
        wt__log(lg, WT_LOG_ERROR, "wc_InitCert failed");
        goto done;
    }
    g->cert.sigType = CTC_SHA256wECDSA;
    g->cert.daysValid = days;
    g->cert.isCA = 0;
    g->cert.version = 2; /* X.509v3 */
    snprintf(g->cert.subject.commonName, CTC_NAME_SIZE, "%s", host);
    snprintf(g->cert.subject.org, CTC_NAME_SIZE, "wt.h self-signed");
    if ((rv = wt__san_der(cfg, host, g->cert.altNames, &g->cert.altNamesSz)) != WT_OK) {
        wt__log(lg, WT_LOG_ERROR, "subjectAltName list too long or has an empty name");
        goto done;
    }
    rv = WT_ERR_CERT;
    if (wc_MakeCert(&g->cert, cert_der, WT__CERT_MAX_DER, NULL, &g->key, &g->rng) < 0) {
        wt__log(lg, WT_LOG_ERROR, "wc_MakeCert failed");
        goto done;
    }
    *cert_len = wc_SignCert(g->cert.bodySz, g->cert.sigType, cert_der, WT__CERT_MAX_DER, NULL, &g->key, &g->rng);
    if (*cert_len < 0) {
        wt__log(lg, WT_LOG_ERROR, "wc_SignCert failed (%d)", *cert_len);
        goto done;
    }
    *key_len = wc_EccKeyToDer(&g->key, key_der, WT__CERT_MAX_DER);
    if (*key_len < 0) {
        wt__log(lg, WT_LOG_ERROR, "cannot encode the private key");
        goto done;
    }
    rv = WT_OK;
done:
    wc_ecc_free(&g->key);
    wc_FreeRng(&g->rng);
    wt__zero(g, sizeof *g);
    wt__free(NULL, g);
    return rv;
}

int wt_cert_generate(const wt_cert_config *cfg) {
    wt_cert_config zero;
    const wt_log *lg;
    const char *host;
    /* 18 KB of paths and encodings: on the heap (SMALL DEVICES in wt.h) */
    struct {
        char cert_path[1024], key_path[1024];
        uint8_t der[WT__CERT_MAX_DER], key[WT__CERT_MAX_DER], pem[WT__CERT_MAX_DER * 2];
    } *b;
    int der_len = 0, key_len = 0, pem_len, rv;

    if (!cfg) {
        memset(&zero, 0, sizeof zero);
        cfg = &zero;
    }
    lg = &cfg->log;
    host = cfg->host ? cfg->host : "localhost";
    if (!(b = wt__calloc(NULL, sizeof *b))) return wt__fail(lg, WT_ERR_NOMEM, "wt_cert_generate: out of memory");
    snprintf(b->cert_path, sizeof b->cert_path, "%s", cfg->cert_file ? cfg->cert_file : host);
    snprintf(b->key_path, sizeof b->key_path, "%s", cfg->key_file ? cfg->key_file : host);
    if (!cfg->cert_file) strncat(b->cert_path, ".crt", sizeof b->cert_path - strlen(b->cert_path) - 1);
    if (!cfg->key_file) strncat(b->key_path, ".key", sizeof b->key_path - strlen(b->key_path) - 1);
    if ((rv = wt__cert_make(cfg, b->der, &der_len, b->key, &key_len)) != WT_OK) goto done;
    pem_len = wc_DerToPem(b->der, (word32)der_len, b->pem, sizeof b->pem, CERT_TYPE);
    if (pem_len < 0) {
        rv = wt__fail(lg, WT_ERR_CERT, "cannot encode the certificate");
        goto done;
    }
    if ((rv = wt__write_file(lg, b->cert_path, b->pem, (size_t)pem_len, 0644)) != WT_OK) goto done;
    if ((pem_len = wc_DerToPem(b->key, (word32)key_len, b->pem, sizeof b->pem, ECC_PRIVATEKEY_TYPE)) < 0) {
        rv = wt__fail(lg, WT_ERR_CERT, "cannot encode the private key");
        goto done;
    }
    rv = wt__write_file(lg, b->key_path, b->pem, (size_t)pem_len, 0600);
    if (rv == WT_OK)
        wt__log(lg, WT_LOG_INFO, "wrote %s and %s for %s, valid %d days", b->cert_path, b->key_path, host,
                cfg->valid_days ? cfg->valid_days : 10);
done:
    wt__zero(b, sizeof *b);
    wt__free(NULL, b);
    return rv;
}

/* A development certificate for host (+ extra, if not NULL) made in memory
   and loaded into ctx; *sha256 gets its hash. Nothing touches the disk. */
static int wt__cert_load_dev(WOLFSSL_CTX *ctx, const wt_log *lg, const char *extra, uint8_t sha256[32]) {
    wt_cert_config cfg;
    const char *alt[2] = {extra, NULL};
    uint8_t *der, *key; /* on the heap: 8 KB */
    int der_len = 0, key_len = 0, rv;
    if (!(der = (uint8_t *)wt__alloc(NULL, 2 * WT__CERT_MAX_DER)))
        return wt__fail(lg, WT_ERR_NOMEM, "development certificate: out of memory");
    key = der + WT__CERT_MAX_DER;
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "localhost";
    cfg.alt_names = extra ? alt : NULL;
    cfg.log = *lg;
    if ((rv = wt__cert_make(&cfg, der, &der_len, key, &key_len)) != WT_OK) goto done;
    rv = WT_ERR_CERT;
    if (wolfSSL_CTX_use_certificate_buffer(ctx, der, der_len, WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_PrivateKey_buffer(ctx, key, key_len, WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS) {
        wt__log(lg, WT_LOG_ERROR, "cannot load the development certificate");
        goto done;
    }
    if (wc_Sha256Hash(der, (word32)der_len, sha256) != 0) {
        wt__log(lg, WT_LOG_ERROR, "development certificate: SHA-256 failed");
        goto done;
    }
    rv = WT_OK;
done:
    wt__zero(der, 2 * WT__CERT_MAX_DER);
    wt__free(NULL, der);
    return rv;
}

int wt_cert_sha256(const char *cert_file, uint8_t out[32]) {
    /* pem and der (24 KB) on the heap, not the stack */
    enum { PEM_MAX = 16384, DER_MAX = WT__CERT_MAX_DER * 2 };
    uint8_t *pem, *der;
    FILE *f;
    size_t n;
    int der_len, rv = WT_OK;
    if (!cert_file || !out) return wt__fail(NULL, WT_ERR_INVALID, "wt_cert_sha256: no file or no output");
    f = fopen(cert_file, "rb");
    if (!f) return wt__fail(NULL, WT_ERR_NOT_FOUND, "cannot open %s: %s", cert_file, strerror(errno));
    if (!(pem = (uint8_t *)wt__alloc(NULL, PEM_MAX + DER_MAX))) {
        fclose(f);
        return wt__fail(NULL, WT_ERR_NOMEM, "wt_cert_sha256: out of memory");
    }
    der = pem + PEM_MAX;
    n = fread(pem, 1, PEM_MAX, f);
    fclose(f);
    der_len = wc_CertPemToDer(pem, (int)n, der, DER_MAX, CERT_TYPE);
    if (der_len <= 0) rv = wt__fail(NULL, WT_ERR_CERT, "%s: no PEM certificate found", cert_file);
    else if (wc_Sha256Hash(der, (word32)der_len, out) != 0)
        rv = wt__fail(NULL, WT_ERR_CERT, "%s: SHA-256 failed", cert_file);
    wt__free(NULL, pem);
    return rv;
}
